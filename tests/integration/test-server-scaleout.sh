#!/usr/bin/env bash
# Scale-out: two rampart-server processes on one PostgreSQL, no state of
# their own, as behind a TCP load balancer. Both start together on an empty
# database (the schema is made once); one tenant's work alternates between
# them: a tenant made on A is seen on B, a device claimed on B attests with a
# nonce from A and evidence posted to B, and its certificate is accepted by A
# over mTLS; a nonce used on one is refused on the other; two tenants racing
# to claim one device through different servers: exactly one wins.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/postgres.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_PROVIDER_MODULE:?run this test through ctest}"

MODDIR=$(dirname "$RAMPART_PROVIDER_MODULE")
_preload=$(ldd "$RAMPART_PROVIDER_MODULE" | awk '/libasan/ {print $3}')
printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec openssl "$@"\n' "$_preload" >"$T/openssl"
chmod +x "$T/openssl"

start_postgres
export RAMPART_TEST_STORE=$RAMPART_TEST_PG_URL

# Server A makes the TLS material; B serves the same certificate (as servers
# behind one name do), so clients trust one CA for both.
mkdir -p "$T/a" "$T/b"
start_server "$T/a" --workers 2
A_URL=$SERVER_URL A_PID=$SERVER_PID CA=$SERVER_CA A_LOG=$SERVER_LOG
start_server "$T/b" --workers 2 --tls-cert "$T/a/tls/server.pem" --tls-key "$T/a/tls/server.key"
B_URL=$SERVER_URL B_PID=$SERVER_PID
export SERVER_CA=$CA
[ -s "$T/a/admin.token" ] && ok || fail "server A made no admin token"
[ ! -e "$T/b/admin.token" ] && ok || fail "server B made a second operator token on a store that had one"
API_TOKEN=$(cat "$T/a/admin.token")
export API_TOKEN
[ "$(pg_admin -d rampart 'SELECT version FROM rampart_schema')" = "$SCHEMA_VERSION" ] && ok ||
  fail "the schema version is not $SCHEMA_VERSION: $(pg_admin -d rampart 'SELECT * FROM rampart_schema')"

on() { SERVER_URL=$1; shift; "$@"; }

# --- a device --------------------------------------------------------------------
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory provision" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/dev"
start sm --state-dir "$T/dev"
expect_ok "show-identity" "$RAMPART" device show-identity --state-dir "$T/dev" -o json
DEV=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["device_id"])' "$T/out")
MEAS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["measurement"])' "$T/out")

# --- one tenant's work, alternating ----------------------------------------------
on "$A_URL" call "tenant on A" 201 POST /v1/tenants "$(body name=acme allow_development:=true)"
on "$B_URL" call "B sees it" 200 GET /v1/tenants/acme
on "$B_URL" call "product on B" 201 POST /v1/tenants/acme/products "$(body name=gadget)"
on "$A_URL" call "A sees its groups" 200 GET /v1/tenants/acme/products/gadget
expect_json "five groups" 'len(j["device_groups"]) == 5'
on "$A_URL" call "manufacturer on A" 201 POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
on "$B_URL" call "claim on B" 201 POST /v1/tenants/acme/devices "$(body device_id="$DEV" device_group="gadget/Production")"
on "$A_URL" call "release on A" 201 POST /v1/tenants/acme/releases "$(body kind=os name=OS version=1 measurement="$MEAS")"
on "$A_URL" call "A lists the device B claimed" 200 GET /v1/tenants/acme/devices
expect_json "the device" "[d['id'] for d in j['devices']] == ['$DEV']"

# attest NONCE_URL ATTEST_URL WANT_STATUS DESC: nonce from one, evidence to the other.
attest() {
  API_TOKEN= on "$1" call "$4: nonce" 201 POST /v1/attest/nonce "$(body device_id="$DEV")"
  NONCE=$(jq_ 'j["nonce"]')
  expect_ok "$4: evidence" "$RAMPART" device attest --state-dir "$T/dev" --nonce "$NONCE" -o "$T/ev.cbor" --force
  API_TOKEN= on "$2" call "$4: attest" "$3" POST /v1/attest "$(body nonce="$NONCE" evidence="$(base64 -w0 "$T/ev.cbor")")"
}
attest "$A_URL" "$B_URL" 200 "nonce from A, evidence to B"
jq_ 'j["certificate"]' >"$T/cert.pem"
on "$A_URL" call "tenant CA from A" 200 GET /v1/tenants/acme/ca-certificate
cp "$T/http.body" "$T/acme-ca.pem"
expect_ok "the certificate B issued verifies under the tenant CA" openssl verify -CAfile "$T/acme-ca.pem" "$T/cert.pem"

# The same evidence again, to A this time: the nonce is used, whichever server.
API_TOKEN= on "$A_URL" refused "replay on the other server" 403 nonce_used POST /v1/attest \
  "$(body nonce="$NONCE" evidence="$(base64 -w0 "$T/ev.cbor")")"

# mTLS on A with the certificate B issued, the key in secmon.
port=${A_URL##*:}
printf 'GET /v1/device/self HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
  timeout 60 "$T/openssl" s_client -quiet -provider-path "$MODDIR" -provider default -provider rampart_secmon \
    -key "rampart-secmon:$T/dev/secmon.sock" -cert "$T/cert.pem" -CAfile "$CA" \
    -connect "127.0.0.1:$port" >"$T/self.out" 2>"$T/self.err" || true
grep -q '^HTTP/1.1 200' "$T/self.out" && grep -q "\"device_id\": *\"$DEV\"" "$T/self.out" && ok ||
  fail "GET /v1/device/self on A with B's certificate: $(head -c 600 "$T/self.out") $(tail -n 3 "$T/self.err")"

# Two tenants race for one device through different servers, 10 times.
on "$A_URL" call "tenant other" 201 POST /v1/tenants "$(body name=other)"
for i in $(seq 1 10); do
  id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  racers=()
  for s in "acme:$A_URL" "other:$B_URL"; do
    curl -sS --max-time 60 --cacert "$CA" -H "Authorization: Bearer $API_TOKEN" -H 'Content-Type: application/json' \
      -o /dev/null -w '%{http_code}\n' -X POST --data-binary "{\"device_id\":\"$id\"}" \
      "${s#*:}/v1/tenants/${s%%:*}/devices" >"$T/race.${s%%:*}" &
    racers+=($!)
  done
  wait "${racers[@]}"
  got=$(cat "$T/race.acme" "$T/race.other" | sort | tr '\n' ' ')
  [ "$got" = "201 409 " ] && ok || fail "race $i: the two claims answered '$got', expected one 201 and one 409"
  n=$(pg_admin -d rampart "SELECT count(*) FROM devices WHERE id = '$id'")
  [ "$n" = 1 ] && ok || fail "race $i: $n rows for the device"
done

SERVER_URL=$A_URL SERVER_PID=$A_PID SERVER_LOG=$A_LOG server_alive "A after the races"
stop_server "$A_PID"
stop_server "$B_PID"
echo "passed $passed, failed $failed"
[ "$failed" = 0 ]
