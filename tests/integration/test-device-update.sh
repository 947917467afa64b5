#!/usr/bin/env bash
# The device side of updates, on SQLite and on PostgreSQL (integration/
# device-update-sqlite and -postgres): a device provisioned by the factory
# tool with a real rampart-secmon, a real rampart-server over real TLS, and
# the CLI's device commands, which the device agent's library code
# (lib/client/session.c, download.c, update.c) drives:
#   - the session: attests when it has no certificate, keeps it, attests
#     again for another server, when secmon's Alias key changed, and after
#     a 401;
#   - the flow: an app package uploaded and deployed, check-update verifies
#     and prints the signed document, a download cut midway resumes and
#     matches the digest, report-state, and `device show` shows it;
#   - the attacks of TUF and Uptane, each refused by the device: arbitrary
#     software, rollback, freeze, mix-and-match, endless data, slow
#     retrieval. Where the real server would not misbehave, a hostile one
#     does (update-attack serve): it holds the real server's TLS key, as an
#     attacker who took over the service's address would, and the device
#     is pointed at it by its service/server file (the certificate it holds
#     stays good: the hostile server asks for none).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"

# --- a device, a server, a tenant that has claimed it ---------------------------
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
for d in dev1 dev2; do
  expect_ok "factory provision $d" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/$d"
done
printf 'the OS image, version 1\n' >"$T/os.img"
start sm1 --state-dir "$T/dev1" --measure os="$T/os.img"
start sm2 --state-dir "$T/dev2" --measure os="$T/os.img"
jfile() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
for d in dev1 dev2; do
  expect_ok "show-identity $d" "$RAMPART" device show-identity --state-dir "$T/$d" -o json
  cp "$T/out" "$T/$d.json"
  identity "$T/$d" "$d"
done
D1=$(jfile "$T/dev1.json" device_id) M1=$(jfile "$T/dev1.json" measurement)
D2=$(jfile "$T/dev2.json" device_id)
export D1 D2

store_setup
S=$T/srv
start_server "$S" || { finish; exit 1; }
URL=$SERVER_URL CA=$SERVER_CA
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
call "tenant acme" 201 POST /v1/tenants "$(body name=acme allow_development:=true)"
ACME=$(jq_ 'j["id"]')
export ACME
call "a product" 201 POST /v1/tenants/acme/products "$(body name=gadget)"
call "acme trusts the factory's CA" 201 POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
call "dev1's software is a release" 201 POST /v1/tenants/acme/releases "$(body kind=os name=OS version=1 measurement="$M1")"

# The device's commands, with what every one of them takes.
DEV1=(--state-dir "$T/dev1" --server "$URL" --ca-file "$CA")
DEV2=(--state-dir "$T/dev2" --server "$URL" --ca-file "$CA")
# attestations DEVICE: how many acme has recorded as accepted for DEVICE.
attestations() {
  call "attestations of ${1:0:8}" 200 GET "/v1/tenants/acme/attestations?device=$1&limit=1000"
  jq_ 'sum(a["outcome"] == "accepted" for a in j["attestations"])'
}

# --- the session ------------------------------------------------------------------
expect_fail "an unclaimed device: the refusal says what to do" 1 \
  "server refused: device_unclaimed: .*: a Contributor of the tenant claims it: rampart device claim" \
  "$RAMPART" device whoami "${DEV1[@]}"
[ ! -e "$T/dev1/service/certificate.pem" ] && ok || fail "a refused attestation left a certificate"
call "claim dev1" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1" device_group="gadget/Field Test")"
expect_ok "whoami through the session attests" "$RAMPART" device whoami "${DEV1[@]}" -o json
cp "$T/out" "$T/http.body"
expect_json "the device as the service sees it" 'j["device_id"] == E("D1") and j["device_group"] == "gadget/Field Test"'
for f in certificate.pem tenant-ca.pem server; do
  [ -f "$T/dev1/service/$f" ] && ok || fail "the session did not keep service/$f"
done
[ "$(stat -c %a "$T/dev1/service")" = 700 ] && [ "$(stat -c %a "$T/dev1/service/certificate.pem")" = 600 ] && ok ||
  fail "service/ and its files: modes $(stat -c %a "$T/dev1/service") $(stat -c %a "$T/dev1/service/certificate.pem")"
[ "$(cat "$T/dev1/service/server")" = "$URL" ] && ok || fail "service/server: '$(cat "$T/dev1/service/server")'"
expect_ok "the certificate chains to the tenant CA" openssl verify -CAfile "$T/dev1/service/tenant-ca.pem" \
  "$T/dev1/service/certificate.pem"
[ "$(attestations "$D1")" = 1 ] && ok || fail "one whoami, $(attestations "$D1") attestations"
cp "$T/dev1/service/certificate.pem" "$T/cert-first.pem"
expect_ok "whoami again" "$RAMPART" device whoami "${DEV1[@]}"
[ "$(attestations "$D1")" = 1 ] && ok || fail "the session attested again with a good certificate"
expect_same "the certificate is kept" "$T/dev1/service/certificate.pem" "$T/cert-first.pem"
# Another server's name (the same server, by the name localhost, which its
# certificate holds too): attests again. A trailing '/' is the same URL.
URLB=${URL/127.0.0.1/localhost}
expect_ok "whoami, the server named otherwise" "$RAMPART" device whoami --state-dir "$T/dev1" --server "$URLB/" \
  --ca-file "$CA"
[ "$(attestations "$D1")" = 2 ] && ok || fail "another server's name: $(attestations "$D1") attestations, expected 2"
[ "$(cat "$T/dev1/service/server")" = "$URLB" ] && ok || fail "service/server: '$(cat "$T/dev1/service/server")'"
expect_ok "whoami, back to the first name" "$RAMPART" device whoami "${DEV1[@]}"
[ "$(attestations "$D1")" = 3 ] && ok || fail "back to the first name: $(attestations "$D1") attestations, expected 3"
# A certificate the server does not accept (for the Alias key, naming the
# tenant, but from another CA): refused with 401, the session attests once.
openssl ecparam -name prime256v1 -genkey -noout -out "$T/rogue-ca.key" 2>/dev/null
openssl x509 -in "$T/dev1-alias.pem" -noout -pubkey >"$T/alias1.pub"
openssl x509 -new -subj "/CN=$D1" -key "$T/rogue-ca.key" -force_pubkey "$T/alias1.pub" -days 2 \
  -extfile <(printf 'subjectAltName=URI:urn:rampart:tenant:%s,URI:urn:rampart:device:%s\nextendedKeyUsage=clientAuth\n' "$ACME" "$D1") \
  -out "$T/rogue.pem" 2>/dev/null
cp "$T/rogue.pem" "$T/dev1/service/certificate.pem"
expect_ok "whoami with a certificate the server refuses" "$RAMPART" device whoami "${DEV1[@]}"
[ "$(attestations "$D1")" = 4 ] && ok || fail "after a 401: $(attestations "$D1") attestations, expected 4"
cmp -s "$T/rogue.pem" "$T/dev1/service/certificate.pem" && fail "the refused certificate was kept" || ok
# The device's software changed: secmon's Alias key is another, so is the
# certificate it needs.
printf 'the OS image, version 2\n' >"$T/os2.img"
stop sm1
start sm1 --state-dir "$T/dev1" --measure os="$T/os2.img"
identity "$T/dev1" dev1b
M1B=$("$RAMPART" device show-identity --state-dir "$T/dev1" -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["measurement"])')
call "the new software is a release" 201 POST /v1/tenants/acme/releases "$(body kind=os name=OS version=2 measurement="$M1B")"
expect_ok "whoami after a software change" "$RAMPART" device whoami "${DEV1[@]}"
[ "$(attestations "$D1")" = 5 ] && ok || fail "after a software change: $(attestations "$D1") attestations, expected 5"
[ "$(openssl x509 -in "$T/dev1/service/certificate.pem" -noout -pubkey)" = "$(alias_key dev1b)" ] && ok ||
  fail "the new certificate is not for the new Alias key"
expect_fail "no secmon: says to start it" 1 "rampart-secmon \(is it running\? rampart-secmon --state-dir" \
  "$RAMPART" device whoami --state-dir "$T/nowhere" --server "$URL" --ca-file "$CA"

server_alive "at the end"
stop_server
for s in sm1 sm2; do stop "$s"; done
finish
