#!/usr/bin/env bash
# rampart-server as an operator meets it: the first start makes its files
# (with their modes), a restart reuses them, /healthz and /metrics answer,
# TLS 1.3 only unless --tls12, the config file and the flags over it, bad
# settings refused with where they are, JSON for unknown routes and
# methods, --print-routes, a store newer than the binary refused, and a
# clean exit on SIGTERM and SIGINT.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/server.sh"

D=$T/data
SERVER=$RAMPART_SERVER

mode_is() {    # mode_is DESC FILE MODE
  local m
  m=$(stat -c %a "$2" 2>/dev/null || echo missing)
  [ "$m" = "$3" ] && ok || fail "$1: $2 has mode $m, expected $3"
}
status_is() {  # status_is DESC STATUS [CODE]: the last http_req's status (and error code)
  if [ "$HTTP_STATUS" != "$2" ]; then
    fail "$1: status $HTTP_STATUS, expected $2: $(head -c 300 "$T/http.body") $(cat "$T/http.err")"; return
  fi
  if [ -n "${3:-}" ] && ! jq -e --arg c "$3" '.error.code == $c and (.error.message | length > 0)' \
      "$T/http.body" >/dev/null 2>&1; then
    fail "$1: body is not {\"error\":{\"code\":\"$3\",\"message\":...}}: $(head -c 300 "$T/http.body")"; return
  fi
  ok
}
header_is() {  # header_is DESC REGEX: a header line of the last http_req
  if grep -qiE -- "$2" "$T/http.headers"; then ok; else fail "$1: no header /$2/: $(cat "$T/http.headers")"; fi
}

# --- first start ---------------------------------------------------------
start_server "$D" --workers 2 --tls-name server.example.test || { finish; exit 1; }
mode_is "data directory" "$D" 700
mode_is "TLS directory" "$D/tls" 700
mode_is "CA key" "$D/tls/ca.key" 600
mode_is "server key" "$D/tls/server.key" 600
mode_is "CA certificate" "$D/tls/ca.pem" 644
mode_is "server certificate" "$D/tls/server.pem" 644
mode_is "operator token" "$D/admin.token" 600
grep -qxE 'rpt_[0-9a-f]{64}' "$D/admin.token" && ok || fail "admin.token is not rpt_ + 64 hex digits"
[ -z "$(find "$D" -name '.tls-*')" ] && ok || fail "a temporary TLS directory was left behind"
expect_ok "server.pem chains to ca.pem" openssl verify -CAfile "$D/tls/ca.pem" "$D/tls/server.pem"
expect_ok "server.pem's names" openssl x509 -in "$D/tls/server.pem" -noout -ext subjectAltName
expect_out "SAN localhost" 'DNS:localhost'
expect_out "SAN 127.0.0.1" 'IP Address:127\.0\.0\.1'
expect_out "SAN ::1" 'IP Address:0:0:0:0:0:0:0:1'
expect_out "SAN --tls-name" 'DNS:server\.example\.test'
expect_ok "server key is P-256" openssl pkey -in "$D/tls/server.key" -noout -text
expect_out "P-256" 'prime256v1|P-256'
grep -qE "event=ready listen=127\.0\.0\.1:$SERVER_PORT data_dir=$D store=sqlite blob_store=dir:$D/blobs tls_ca=$D/tls/ca\.pem admin_token=$D/admin\.token workers=2\$" \
  "$SERVER_LOG" && ok || fail "readiness line: $(grep event=ready "$SERVER_LOG")"
grep -q 'event=tls-created' "$SERVER_LOG" && ok || fail "first start did not log the new TLS files"
grep -q "event=bootstrap operator=admin token_file=\"$D/admin.token\"" "$SERVER_LOG" && ok ||
  fail "first start did not log the operator token: $(grep bootstrap "$SERVER_LOG")"
cp "$D/tls/ca.pem" "$T/ca.first"; cp "$D/tls/server.pem" "$T/server.first"; cp "$D/admin.token" "$T/token.first"

# --- health, metrics, routing answers ------------------------------------
http_req GET /healthz
status_is "healthz" 200
jq -e '.status == "ok" and .store == "sqlite"' "$T/http.body" >/dev/null && ok ||
  fail "healthz body: $(cat "$T/http.body")"
header_is "JSON content type" '^Content-Type: application/json'
header_is "request id" '^X-Request-Id: [0-9a-f]{16}'
id=$(sed -n 's/^X-Request-Id: \([0-9a-f]*\).*/\1/ip' "$T/http.headers")
grep -qE "event=request id=$id method=GET route=/healthz status=200 ms=[0-9.]+ remote=127\.0\.0\.1:[0-9]+ user=-" \
  "$SERVER_LOG" && ok || fail "no log line for request $id: $(grep event=request "$SERVER_LOG" | tail -3)"

http_req GET /no/such/route
status_is "unknown route" 404 not_found
http_req DELETE /healthz
status_is "wrong method" 405 method_not_allowed
header_is "Allow for /healthz" '^Allow: GET'
http_req PUT /v1/tenants/acme
status_is "PUT on a GET/PATCH route" 405 method_not_allowed
header_is "Allow lists both" '^Allow: GET, PATCH'
http_req GET '/v1/tenants/a%2Fb'
status_is "parameter decoding to '/'" 400 bad_request
http_req GET '/v1/tenants/a%00b'
status_is "parameter decoding to NUL" 400 bad_request
http_req GET '/v1/tenants/%ff%fe'
status_is "parameter not UTF-8" 400 bad_request
http_req GET '/v1/tenants/%zz'
status_is "malformed escape" 400 bad_request
http_req GET '/v1/tenants//users'
status_is "empty parameter" 400 bad_request
server_alive "after bad paths"

http_req GET /metrics
status_is "metrics" 200
header_is "metrics content type" '^Content-Type: text/plain; version=0\.0\.4'
for re in 'rampart_http_requests_total\{route="/healthz",method="GET",status="200"\} [1-9]' \
          'rampart_http_requests_total\{route="unmatched",method="GET",status="404"\} 1' \
          'rampart_http_requests_total\{route="/healthz",method="DELETE",status="405"\} 1' \
          'rampart_http_requests_total\{route="/v1/tenants/\{tenant\}",method="GET",status="400"\} 4' \
          'rampart_http_request_duration_seconds_bucket\{route="/healthz",method="GET",le="\+Inf"\} [1-9]' \
          'rampart_http_request_duration_seconds_count\{route="/healthz",method="GET"\} [1-9]' \
          '^rampart_certificates_issued_total [0-9]+$' '^rampart_http_connections [1-9]' \
          '^rampart_build_info\{version="[0-9.]+"\} 1$' '# TYPE rampart_attestations_total counter' \
          '# TYPE rampart_errors_total counter'; do
  grep -qE -- "$re" "$T/http.body" && ok || fail "metrics lack /$re/"
done
# The route label is the pattern, never the raw path a client sent.
! grep -q 'acme\|a%2Fb\|no/such' "$T/http.body" && ok || fail "a raw path reached the metrics"

# --- TLS -------------------------------------------------------------------
tls_try() {  # tls_try VERSION-FLAG: openssl s_client's verdict, in $T/out
  openssl s_client -connect "127.0.0.1:$SERVER_PORT" -servername localhost -CAfile "$SERVER_CA" \
    -verify_return_error "$1" </dev/null >"$T/out" 2>&1
}
tls_try -tls1_3 && grep -q 'Verify return code: 0 (ok)' "$T/out" && ok ||
  fail "TLS 1.3 with the CA: $(tail -5 "$T/out")"
tls_try -tls1_2 && fail "TLS 1.2 was accepted without --tls12: $(grep -E 'Protocol|Cipher' "$T/out")" || ok
server_alive "after a refused TLS 1.2 client"
# A client certificate is asked for but not required (curl above sent none).
# (s_client lists the signature algorithms of a CertificateRequest.)
tls_try -tls1_3
grep -q '^Requested Signature Algorithms' "$T/out" && ok ||
  fail "the server does not ask for a client certificate: $(head -40 "$T/out")"

# --- --print-routes, --help, --version, bad flags --------------------------
expect_ok "--print-routes" "$SERVER" --print-routes
expect_line "healthz route" out "GET /healthz"
expect_line "a parameter route" out "DELETE /v1/tenants/{tenant}/devices/{device}"
n_routes=$(grep -c '^"GET"\|^ *{ "[A-Z]*", ' "$RAMPART_SOURCE_DIR/src/server/api/routes.c")
[ "$(wc -l <"$T/out")" -eq "$n_routes" ] && ok || fail "--print-routes printed $(wc -l <"$T/out") routes, routes.c has $n_routes"
grep -qvE '^(GET|POST|PUT|PATCH|DELETE) /[^ ]*$' "$T/out" && fail "--print-routes: a line is not METHOD PATH" || ok
expect_ok "--help" "$SERVER" --help
expect_out "help names --data-dir" '--data-dir D'
expect_ok "--version" "$SERVER" --version
expect_out "version" '^rampart-server [0-9]+\.[0-9]+'
expect_fail "no --data-dir" 2 "missing --data-dir" "$SERVER"
expect_fail "unknown flag" 2 "unknown option '--frobnicate'" "$SERVER" --data-dir "$T/x" --frobnicate
expect_fail "bad number" 2 "workers: 'many' is not a whole number" "$SERVER" --data-dir "$T/x" --workers many
expect_fail "out of range" 2 "request-timeout: 0 is out of range" "$SERVER" --data-dir "$T/x" --request-timeout 0
expect_fail "bad size" 2 "max-body: '1X' is not a size" "$SERVER" --data-dir "$T/x" --max-body 1X
expect_fail "bad listen" 2 "listen: 'nowhere' is not HOST:PORT" "$SERVER" --data-dir "$T/x" --listen nowhere
expect_fail "bad listen host" 2 "not an IPv4 address" "$SERVER" --data-dir "$T/x" --listen example.com:1
expect_fail "bad tls name" 2 "tls-name: 'a b' is not a DNS name" "$SERVER" --data-dir "$T/x" --tls-name 'a b'
expect_fail "cert without key" 2 "go together" "$SERVER" --data-dir "$T/x" --tls-cert "$D/tls/server.pem"
expect_fail "bad boolean flag" 2 "tls12: 'maybe' is not true or false" "$SERVER" --data-dir "$T/x" --tls12=maybe
expect_fail "extra argument" 2 "unexpected argument 'extra'" "$SERVER" --data-dir "$T/x" extra
[ ! -e "$T/x" ] && ok || fail "a refused command line still made the data directory"

# --- restart: the same files, the same token ------------------------------
stop_server
start_server "$D" --workers 1 --tls-name server.example.test --tls12 || { finish; exit 1; }
expect_same "CA kept" "$D/tls/ca.pem" "$T/ca.first"
expect_same "server certificate kept" "$D/tls/server.pem" "$T/server.first"
expect_same "operator token kept" "$D/admin.token" "$T/token.first"
! grep -q 'event=tls-created\|event=tls-reissued\|event=bootstrap' "$SERVER_LOG" && ok ||
  fail "a restart made new files: $(grep -E 'tls-|bootstrap' "$SERVER_LOG")"
tls_try -tls1_2 && grep -q 'Verify return code: 0 (ok)' "$T/out" && ok ||
  fail "TLS 1.2 refused with --tls12: $(tail -5 "$T/out")"
tls_try -tls1_3 && ok || fail "TLS 1.3 refused with --tls12: $(tail -5 "$T/out")"
http_req GET /healthz
status_is "healthz after restart" 200
stop_server

# A new name: a new server certificate from the same CA.
start_server "$D" --workers 1 --tls-name other.example.test || { finish; exit 1; }
expect_same "CA kept with a new name" "$D/tls/ca.pem" "$T/ca.first"
cmp -s "$D/tls/server.pem" "$T/server.first" && fail "server.pem not reissued for a new --tls-name" || ok
grep -q 'event=tls-reissued' "$SERVER_LOG" && ok || fail "the reissue was not logged"
expect_ok "new server.pem chains to the CA" openssl verify -CAfile "$D/tls/ca.pem" "$D/tls/server.pem"
expect_ok "new server.pem's names" openssl x509 -in "$D/tls/server.pem" -noout -ext subjectAltName
expect_out "new name" 'DNS:other\.example\.test'
mode_is "reissued key" "$D/tls/server.key" 600
# SIGINT too ends it cleanly.
kill -INT "$SERVER_PID"
rc=0; wait "$SERVER_PID" || rc=$?
[ "$rc" = 0 ] && grep -q 'event=stop signal=INT' "$SERVER_LOG" && ok || fail "SIGINT: exit $rc: $(tail -3 "$SERVER_LOG")"
unset "_SRV_LOG[$SERVER_PID]"

# --- IPv6 -------------------------------------------------------------------
start_server "$D" --listen '[::1]:0' --workers 1 || { finish; exit 1; }
[[ "$SERVER_URL" == "https://[::1]:"* ]] && ok || fail "the ready line does not say [::1]: $SERVER_URL"
http_req GET /healthz
status_is "healthz over IPv6" 200
grep -qE "event=request id=[0-9a-f]{16} method=GET route=/healthz status=200 ms=[0-9.]+ remote=\[::1\]:[0-9]+ " \
  "$SERVER_LOG" && ok || fail "IPv6 remote not logged as [::1]:PORT: $(grep event=request "$SERVER_LOG")"
stop_server

# --- the config file, and flags over it ------------------------------------
cat >"$T/server.conf" <<EOF
# rampart-server settings
data-dir = $T/not-this-one
workers = 3
rate = 7.5
burst = 9
max-body = 64K
max-header=8k
request-timeout = 9
idle-timeout = 33
nonce-ttl = 30
cert-lifetime = 3600
tls-name = from-file.example.test
tls12 = yes
EOF
start_server "$D" --config "$T/server.conf" --workers 1 --burst 11 --tls-name flag.example.test --tls12=no \
  || { finish; exit 1; }
start_line=$(grep 'event=start' "$SERVER_LOG")
for kv in "data_dir=$D " "workers=1 " "tls=1.3 " "max_body=65536 " "max_header=8192 " "rate=7.5 " "burst=11 " \
          "idle_timeout=33 " "request_timeout=9 " "nonce_ttl=30 " "cert_lifetime=3600"; do
  [[ "$start_line " == *" $kv"* ]] && ok || fail "config file + flags: start line lacks '$kv': $start_line"
done
[ ! -e "$T/not-this-one" ] && ok || fail "--data-dir did not override the file's data-dir"
openssl x509 -in "$D/tls/server.pem" -noout -ext subjectAltName >"$T/out" 2>&1
grep -q 'flag\.example\.test' "$T/out" && ! grep -q 'from-file' "$T/out" && ok ||
  fail "--tls-name did not replace the file's names: $(cat "$T/out")"
stop_server

printf 'workers = 2\nfrobnicate = 1\n' >"$T/bad1.conf"
expect_fail "unknown key" 1 "bad1\.conf:2: unknown key 'frobnicate'" "$SERVER" --data-dir "$D" --config "$T/bad1.conf"
printf '# ok\n\nworkers = 2\nmax-connections = lots\n' >"$T/bad2.conf"
expect_fail "bad value" 1 "bad2\.conf:4: max-connections: 'lots' is not a whole number" \
  "$SERVER" --data-dir "$D" --config "$T/bad2.conf"
printf 'listen 127.0.0.1:1\n' >"$T/bad3.conf"
expect_fail "no '='" 1 "bad3\.conf:1: expected 'key = value'" "$SERVER" --data-dir "$D" --config "$T/bad3.conf"
printf 'tls12 = maybe\n' >"$T/bad4.conf"
expect_fail "bad boolean" 1 "bad4\.conf:1: tls12: 'maybe' is not true or false" \
  "$SERVER" --data-dir "$D" --config "$T/bad4.conf"
expect_fail "missing config file" 1 "no-such\.conf" "$SERVER" --data-dir "$D" --config "$T/no-such.conf"

# --- a store newer than this binary -----------------------------------------
if [ -z "${RAMPART_TEST_STORE:-}" ]; then
  sqlite3 "$D/rampart.db" 'UPDATE rampart_schema SET version = 999'
  expect_fail "newer schema refused" 1 "schema is version 999 but this rampart-server knows up to [0-9]+: upgrade" \
    timeout 120 "$SERVER" --data-dir "$D" --listen 127.0.0.1:0
  grep -q 'event=ready' "$T/err" && fail "it got ready on a newer schema" || ok
fi

finish
