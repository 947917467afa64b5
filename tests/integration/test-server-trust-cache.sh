#!/usr/bin/env bash
# What POST /v1/attest keeps decoded in each worker thread (src/server/
# api/cache.h: the trusted manufacturer CAs, the tenant CA) follows the
# store on the same running server: one worker (--workers 1), so every
# attestation goes through the same cache. A manufacturer CA removed
# refuses the next attestation, one added accepts it, at either scope; a
# tenant's setting and its CA replaced in the store are what the next
# attestation uses. Real secmon devices (soft backend), real TLS, SQLite.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"

# --- two devices, from two factories (and a third factory's CA) ------------------
expect_ok "factory ca-create (factory 0)" "$RAMPART" factory ca-create --dir "$T/ca0"
expect_ok "factory ca-create (factory 1)" "$RAMPART" factory ca-create --dir "$T/ca1"
expect_ok "factory ca-create (factory 2)" "$RAMPART" factory ca-create --dir "$T/ca2"
for d in dev1:ca1 dev2:ca2; do
  expect_ok "factory provision ${d%%:*}" "$RAMPART" factory provision --backend soft --ca-dir "$T/${d#*:}" \
    --state-dir "$T/${d%%:*}"
done
printf 'the OS image\n' >"$T/os.img"
start sm1 --state-dir "$T/dev1" --measure os="$T/os.img"
start sm2 --state-dir "$T/dev2"
for d in dev1 dev2; do
  expect_ok "show-identity $d" "$RAMPART" device show-identity --state-dir "$T/$d" -o json
  cp "$T/out" "$T/$d.json"
done
jfile() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
D1=$(jfile "$T/dev1.json" device_id) M1=$(jfile "$T/dev1.json" measurement)
D2=$(jfile "$T/dev2.json" device_id) M2=$(jfile "$T/dev2.json" measurement)

# --- one server, one worker ----------------------------------------------------------
store_setup
S=$T/srv
start_server "$S" --workers 1 || { finish; exit 1; }
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
call "tenant acme" 201 POST /v1/tenants "$(body name=acme allow_development:=true)"
call "tenant other" 201 POST /v1/tenants "$(body name=other)"
for d in "$D1:$M1" "$D2:$M2"; do
  call "claim ${d:0:8}" 201 POST /v1/tenants/acme/devices "$(body device_id="${d%%:*}")"
  call "its software a release" 201 POST /v1/tenants/acme/releases \
    "$(body kind=os name=os version="${d:0:4}" measurement="${d#*:}")"
done

# attest DESC DEVDIR DEVICE STATUS [CODE]: a nonce, secmon's evidence, POST
# /v1/attest: 200 with a certificate for DEVICE (in $T/cert.pem, the CA of
# the answer in $T/answer-ca.pem), or STATUS with the error CODE.
attest() {
  local desc=$1 dir=$2 want=$4 code=${5:-} n
  export DEV=$3
  API_TOKEN= call "$desc: a nonce" 201 POST /v1/attest/nonce "$(body device_id="$DEV")"
  n=$(jq_ 'j["nonce"]')
  expect_ok "$desc: evidence" "$RAMPART" device attest --state-dir "$dir" --nonce "$n" -o "$T/ev.cbor" --force
  if [ "$want" = 200 ]; then
    API_TOKEN= call "$desc" 200 POST /v1/attest "$(body nonce="$n" evidence="$(base64 -w0 "$T/ev.cbor")")"
    expect_json "$desc: a certificate for the device" 'j["device_id"] == E("DEV") and j["certificate"].startswith("-----BEGIN CERTIFICATE-----")'
    jq_ 'j["certificate"]' >"$T/cert.pem"
    jq_ 'j["ca_certificate"]' >"$T/answer-ca.pem"
  else
    API_TOKEN= refused "$desc" "$want" "$code" POST /v1/attest "$(body nonce="$n" evidence="$(base64 -w0 "$T/ev.cbor")")"
  fi
}
CA0=$(body ca_pem="$(cat "$T/ca0/ca.pem")")
CA1=$(body ca_pem="$(cat "$T/ca1/ca.pem")")
CA2=$(body ca_pem="$(cat "$T/ca2/ca.pem")")

# --- manufacturer CAs added and removed, each seen by the next attestation ----
# acme trusts factory 0 throughout, so that its set of CAs is never empty
# (an empty one is refused before any CA is decoded).
attest "dev1, nothing trusted" "$T/dev1" "$D1" 403 untrusted_manufacturer
call "acme trusts factory 0" 201 POST /v1/tenants/acme/manufacturers "$CA0"
attest "dev1, factory 0 trusted" "$T/dev1" "$D1" 403 untrusted_manufacturer
call "acme trusts factory 1" 201 POST /v1/tenants/acme/manufacturers "$CA1"
T1=$(jq_ 'j["id"]')
attest "dev1, factory 1 trusted by acme" "$T/dev1" "$D1" 200
attest "dev1 again" "$T/dev1" "$D1" 200
attest "dev2, factory 2 not trusted" "$T/dev2" "$D2" 403 untrusted_manufacturer
call "acme no longer trusts factory 1" 204 DELETE "/v1/tenants/acme/manufacturers/$T1"
attest "dev1, factory 1 removed" "$T/dev1" "$D1" 403 untrusted_manufacturer
call "the service trusts factory 1" 201 POST /v1/manufacturers "$CA1"
S1=$(jq_ 'j["id"]')
attest "dev1, factory 1 trusted by the service" "$T/dev1" "$D1" 200
call "acme trusts factory 2 too" 201 POST /v1/tenants/acme/manufacturers "$CA2"
attest "dev2, factory 2 added" "$T/dev2" "$D2" 200
attest "dev1, with both" "$T/dev1" "$D1" 200
call "the service no longer trusts factory 1" 204 DELETE "/v1/manufacturers/$S1"
attest "dev1, the service's CA removed" "$T/dev1" "$D1" 403 untrusted_manufacturer
attest "dev2, still trusted" "$T/dev2" "$D2" 200
server_alive "after the trust changes"

# --- the tenant: its setting, and its CA replaced in the store ------------------
call "acme refuses development devices" 200 PATCH /v1/tenants/acme '{"allow_development": false}'
attest "dev2 (soft backend), development not allowed" "$T/dev2" "$D2" 403 development_not_allowed
call "acme allows them again" 200 PATCH /v1/tenants/acme '{"allow_development": true}'
attest "dev2, development allowed" "$T/dev2" "$D2" 200
call "acme's CA" 200 GET /v1/tenants/acme/ca-certificate
cp "$T/http.body" "$T/acme-ca.pem"
expect_ok "dev2's certificate is under acme's CA" openssl verify -CAfile "$T/acme-ca.pem" "$T/cert.pem"
call "other's CA" 200 GET /v1/tenants/other/ca-certificate
cp "$T/http.body" "$T/other-ca.pem"
# Nothing in the API replaces a tenant CA; the store can (a restore, a
# rotation done by hand), and the server must not sign with the old key.
expect_ok "acme gets other's CA, in the store" sqlite3 -bail "$S/rampart.db" \
  "UPDATE tenants SET ca_cert_pem = (SELECT ca_cert_pem FROM tenants WHERE name = 'other'), ca_key_pem = (SELECT ca_key_pem FROM tenants WHERE name = 'other') WHERE name = 'acme'"
attest "dev2, acme's CA replaced" "$T/dev2" "$D2" 200
expect_ok "the certificate is under the new CA" openssl verify -CAfile "$T/other-ca.pem" "$T/cert.pem"
if openssl verify -CAfile "$T/acme-ca.pem" "$T/cert.pem" >"$T/verify.out" 2>&1; then
  fail "the certificate still verifies under acme's old CA"
else
  grep -q 'unable to get local issuer certificate' "$T/verify.out" && ok || fail "openssl verify: $(cat "$T/verify.out")"
fi
cmp -s <(openssl x509 -in "$T/answer-ca.pem") <(openssl x509 -in "$T/other-ca.pem") && ok ||
  fail "the answer's ca_certificate is not the CA that signed"
attest "dev1, not trusted still" "$T/dev1" "$D1" 403 untrusted_manufacturer
server_alive "at the end"
stop_server
for s in sm1 sm2; do stop "$s"; done
finish
