#!/usr/bin/env bash
# Device routes on one keep-alive TLS connection (integration/server-device-
# keepalive). rampart-server may verify a connection's device certificate
# chain once and remember it on the connection (api/auth.c), which is what
# makes keep-alive update checks cheap; what must still hold on every request
# of that connection, each checked here on a single `openssl s_client`
# connection whose Alias key signs in a real rampart-secmon:
#   - a device disabled, or released, after the connection opened is refused
#     on its next request (403), and served again once enabled;
#   - a device certificate that expires while the connection is open is
#     refused on the first request after its notAfter (401, "expired").
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_PROVIDER_MODULE:?run this test through ctest}"

# The stock openssl command able to load the provider module (a module built
# with sanitizers needs their run-time loaded first), as tls.sh does.
MODDIR=$(dirname "$RAMPART_PROVIDER_MODULE")
_preload=$(ldd "$RAMPART_PROVIDER_MODULE" | awk '/libasan/ {print $3}')
printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec openssl "$@"\n' "$_preload" >"$T/openssl"
chmod +x "$T/openssl"

expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory provision" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/dev1"
start sm1 --state-dir "$T/dev1"
expect_ok "show-identity" "$RAMPART" device show-identity --state-dir "$T/dev1" -o json
D1=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["device_id"])' "$T/out")
M1=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["measurement"])' "$T/out")

store_setup
S=$T/srv
start_server "$S" || { finish; exit 1; }
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
call "tenant acme" 201 POST /v1/tenants "$(body name=acme allow_development:=true)"
call "acme trusts the factory's CA" 201 POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
call "claim dev1" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1")"
call "dev1's software" 201 POST /v1/tenants/acme/releases "$(body kind=os name=OS version=1 measurement="$M1")"

# attest: dev1 attests through secmon; its certificate into $T/cert.pem.
attest() {
  expect_ok "dev1 attests" "$RAMPART" device attest --state-dir "$T/dev1" --server "$SERVER_URL" \
    --ca-file "$SERVER_CA" -o "$T/cert.pem"
}

# conn_open: one TLS connection to the server with dev1's certificate, the
# key in secmon, held open: conn_get writes requests to it.
CONN_PID=
conn_open() {
  rm -f "$T/conn.in" "$T/conn.out"
  mkfifo "$T/conn.in"
  "$T/openssl" s_client -connect "127.0.0.1:$SERVER_PORT" -provider-path "$MODDIR" -provider default \
    -provider rampart_secmon -key "rampart-secmon:$T/dev1/secmon.sock" -cert "$T/cert.pem" -CAfile "$SERVER_CA" \
    -verify_return_error -quiet -ign_eof <"$T/conn.in" >"$T/conn.out" 2>"$T/conn.err" &
  CONN_PID=$!
  exec 3>"$T/conn.in"
}
# (s_client waits for the server to close, which an idle connection takes
# --idle-timeout for: it is ended once its answers are in.)
conn_close() {
  exec 3>&-
  kill "$CONN_PID" 2>/dev/null || true
  wait "$CONN_PID" 2>/dev/null || true
  CONN_PID=
}
# conn_get DESC STATUS [PATTERN]: GET /v1/device/self on the open connection;
# its answer (the next on the connection) must have STATUS, and its body
# PATTERN. The connection must be the same one throughout: s_client makes
# one and ends with it.
conn_get() {
  local desc=$1 want=$2 pat=${3:-} before st i
  before=$(grep -c '^HTTP/1.1 ' "$T/conn.out" || true)
  printf 'GET /v1/device/self HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n' >&3
  for ((i = 0; i < 600; i++)); do
    [ "$(grep -c '^HTTP/1.1 ' "$T/conn.out" || true)" -gt "$before" ] && grep -q '}$' <(tail -n 1 "$T/conn.out") && break
    kill -0 "$CONN_PID" 2>/dev/null || break
    sleep 0.1
  done
  st=$(grep '^HTTP/1.1 ' "$T/conn.out" | sed -n "$((before + 1))s/^HTTP\/1\.1 \([0-9]*\).*/\1/p")
  if [ "$st" != "$want" ]; then
    fail "$desc: answered '$st', expected $want: $(tail -c 600 "$T/conn.out") $(head -c 300 "$T/conn.err")"
  elif [ -n "$pat" ] && ! tail -n 1 "$T/conn.out" | grep -q -- "$pat"; then
    fail "$desc: the answer lacks /$pat/: $(tail -n 1 "$T/conn.out")"
  else
    ok
  fi
}
cleanup_conn() { [ -n "$CONN_PID" ] && kill "$CONN_PID" 2>/dev/null; rm -f "$T/conn.in"; return 0; }

# --- the claim is checked on every request of the connection -------------------------
attest
conn_open
conn_get "the first request" 200 "\"device_id\":\"$D1\""
conn_get "a second one on the same connection" 200 "\"device_id\":\"$D1\""
call "disable dev1" 200 PATCH "/v1/tenants/acme/devices/$D1" '{"enabled": false}'
conn_get "the same connection, dev1 disabled" 403 "disabled"
call "enable dev1" 200 PATCH "/v1/tenants/acme/devices/$D1" '{"enabled": true}'
conn_get "the same connection, dev1 enabled again" 200 "\"device_id\":\"$D1\""
call "acme releases dev1" 204 DELETE "/v1/tenants/acme/devices/$D1"
conn_get "the same connection, dev1 released" 403 "not claimed"
conn_close
[ "$(grep -c '^HTTP/1.1 ' "$T/conn.out")" = 5 ] && ok || fail "not five answers on the connection: $(cat "$T/conn.out")"
call "claim dev1 again" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1")"

# --- a certificate that expires on an open connection ------------------------------------
stop_server
start_server "$S" --cert-lifetime 15 || { finish; exit 1; }
attest
conn_open
conn_get "a certificate valid for 15 s" 200 "\"device_id\":\"$D1\""
not_after=$(date -d "$(openssl x509 -in "$T/cert.pem" -noout -enddate | cut -d= -f2)" +%s)
wait_s=$((not_after - $(date +%s) + 2))
[ "$wait_s" -gt 0 ] && sleep "$wait_s"
conn_get "the same connection after the certificate's notAfter" 401 "expired"
conn_close
server_alive "at the end"
stop_server
stop sm1
cleanup_conn
finish
