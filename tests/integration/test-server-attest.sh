#!/usr/bin/env bash
# Attestation end to end, on SQLite and on PostgreSQL (integration/
# server-attest-sqlite and -postgres): devices provisioned by the factory
# tool (soft backend) with a real rampart-secmon each, a real rampart-server
# over real TLS. The flow: tenant -> product -> manufacturer CA -> claim ->
# release -> nonce -> evidence from secmon -> POST /v1/attest -> a device
# certificate that `openssl verify` accepts under the tenant CA, for the
# Alias key, valid 24 hours, naming tenant and device; then GET
# /v1/device/self over mTLS with it, the key staying in secmon (openssl
# s_client with the rampart-secmon provider). Then every attack of
# docs/api.md's list is refused with its reason, recorded and counted, and
# the server keeps serving.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_PROVIDER_MODULE:?run this test through ctest}"

# The stock openssl command able to load the provider module (a module
# built with sanitizers needs their run-time loaded first), as tls.sh does.
MODDIR=$(dirname "$RAMPART_PROVIDER_MODULE")
_preload=$(ldd "$RAMPART_PROVIDER_MODULE" | awk '/libasan/ {print $3}')
printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec openssl "$@"\n' "$_preload" >"$T/openssl"
chmod +x "$T/openssl"

# --- devices, and what they say about themselves -----------------------------
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory ca-create (a CA nobody trusts)" "$RAMPART" factory ca-create --dir "$T/ca2"
for d in dev1:ca dev2:ca dev3:ca2; do
  expect_ok "factory provision ${d%%:*}" "$RAMPART" factory provision --backend soft --ca-dir "$T/${d#*:}" \
    --state-dir "$T/${d%%:*}"
done
printf 'the OS image, version 1\n' >"$T/os.img"
printf 'another OS image\n' >"$T/os3.img"
start sm1 --state-dir "$T/dev1" --measure os="$T/os.img"
start sm2 --state-dir "$T/dev2"
start sm3 --state-dir "$T/dev3" --measure os="$T/os3.img"
for d in dev1 dev2 dev3; do
  expect_ok "show-identity $d" "$RAMPART" device show-identity --state-dir "$T/$d" -o json
  cp "$T/out" "$T/$d.json"
  identity "$T/$d" "$d"
done
jfile() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
D1=$(jfile "$T/dev1.json" device_id) M1=$(jfile "$T/dev1.json" measurement)
D2=$(jfile "$T/dev2.json" device_id) M2=$(jfile "$T/dev2.json" measurement)
D3=$(jfile "$T/dev3.json" device_id) M3=$(jfile "$T/dev3.json" measurement)
export D1 D2 M1
[ "$M1" != "$M2" ] && [ "$M2" != "$M3" ] && [ "$M1" != "$M3" ] && ok || fail "two devices measure the same software"

# --- the service: tenant acme (development allowed), product, CA, claim, release ---
store_setup
S=$T/srv
start_server "$S" || { finish; exit 1; }
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
ADMIN=$API_TOKEN
call "tenant acme" 201 POST /v1/tenants "$(body name=acme allow_development:=true)"
ACME=$(jq_ 'j["id"]')
export ACME
call "tenant strict (no development devices)" 201 POST /v1/tenants "$(body name=strict)"
call "a product" 201 POST /v1/tenants/acme/products "$(body name=gadget)"
call "acme trusts the factory's CA" 201 POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
call "so does strict" 201 POST /v1/tenants/strict/manufacturers "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
call "claim dev1" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1" device_group="gadget/Field Test")"
call "dev1's software is a release" 201 POST /v1/tenants/acme/releases "$(body kind=os name="OS" version=1 measurement="$M1")"
call "the tenant CA" 200 GET /v1/tenants/acme/ca-certificate
cp "$T/http.body" "$T/acme-ca.pem"

# nonce DEVICE: a fresh nonce for DEVICE into $NONCE.
nonce() {
  API_TOKEN= call "a nonce for ${1:0:8}" 201 POST /v1/attest/nonce "$(body device_id="$1")"
  NONCE=$(jq_ 'j["nonce"]')
}
# evidence DEVDIR NONCE FILE: secmon's evidence for NONCE.
evidence() { expect_ok "evidence from $(basename "$1")" "$RAMPART" device attest --state-dir "$1" --nonce "$2" -o "$3" --force; }
# attest_body NONCE FILE: the POST /v1/attest body.
attest_body() { body nonce="$1" evidence="$(base64 -w0 "$2")"; }

# --- the flow -------------------------------------------------------------------
nonce "$D1"
expect_json "the nonce: 32 bytes, expiring within --nonce-ttl" 'len(j["nonce"]) == 64 and int(j["nonce"], 16) >= 0 and j["expires_at"] > 0'
N1=$NONCE
evidence "$T/dev1" "$N1" "$T/ev1.cbor"
attest_body "$N1" "$T/ev1.cbor" >"$T/ev1.json"
API_TOKEN= call "dev1 attests" 200 POST /v1/attest "$(cat "$T/ev1.json")"
expect_json "the answer" 'j["device_id"] == E("D1") and j["tenant"] == "acme" and j["tenant_id"] == E("ACME") and j["certificate"].startswith("-----BEGIN CERTIFICATE-----") and j["ca_certificate"].startswith("-----BEGIN CERTIFICATE-----")'
jq_ 'j["certificate"]' >"$T/cert1.pem"
jq_ 'j["ca_certificate"]' >"$T/ca-in-answer.pem"
EXPIRES=$(jq_ 'j["expires_at"]')
cmp -s <(openssl x509 -in "$T/ca-in-answer.pem") <(openssl x509 -in "$T/acme-ca.pem") && ok ||
  fail "the answer's CA is not the tenant CA"
expect_ok "openssl verify -CAfile tenant-ca.pem cert.pem" openssl verify -CAfile "$T/acme-ca.pem" "$T/cert1.pem"
expect_ok "it verifies for TLS client use" openssl verify -purpose sslclient -CAfile "$T/acme-ca.pem" "$T/cert1.pem"
[ "$(openssl x509 -in "$T/cert1.pem" -noout -pubkey)" = "$(alias_key dev1)" ] && ok ||
  fail "the certificate's key is not dev1's Alias key"
expect_ok "the certificate's profile" python3 - "$T/cert1.pem" "$D1" "$ACME" "$EXPIRES" <<'EOF'
import sys
from datetime import timezone
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
c = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
dev, tenant, expires = sys.argv[2], sys.argv[3], int(sys.argv[4])
def utc(name):   # newer cryptography: *_utc; older: naive UTC
    v = getattr(c, name + "_utc", None)
    return v if v is not None else getattr(c, name).replace(tzinfo=timezone.utc)
nb, na = utc("not_valid_before").timestamp(), utc("not_valid_after").timestamp()
assert na - nb == 86400 + 300, "validity %d s" % (na - nb)
assert int(na) == expires, "expires_at %d, notAfter %d" % (expires, na)
assert c.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == dev
assert c.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "acme"
san = c.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
assert sorted(san.get_values_for_type(x509.UniformResourceIdentifier)) == sorted(
    ["urn:rampart:tenant:" + tenant, "urn:rampart:device:" + dev]), san
bc = c.extensions.get_extension_for_class(x509.BasicConstraints)
assert bc.critical and not bc.value.ca
ku = c.extensions.get_extension_for_class(x509.KeyUsage)
assert ku.critical and ku.value.digital_signature and not ku.value.key_cert_sign
assert list(c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [ExtendedKeyUsageOID.CLIENT_AUTH]
c.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
c.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
assert len(format(c.serial_number, "x")) == 32
EOF
call "dev1 as the tenant sees it" 200 GET "/v1/tenants/acme/devices/$D1"
expect_json "attested: time, measurement, software version" 'j["last_attested_at"] > 0 and j["last_measurement"] == E("M1") and j["last_swversion"]'
call "the attestation record" 200 GET "/v1/tenants/acme/attestations?device=$D1"
expect_json "accepted, from loopback" 'j["attestations"][0]["outcome"] == "accepted" and j["attestations"][0]["reason"] is None and j["attestations"][0]["remote"].startswith("127.0.0.1:")'

# self DESC STATUS CERT KEY: GET /v1/device/self over TLS with CERT and KEY
# (rampart-secmon:SOCKET: signed in secmon) through openssl s_client;
# the status must be STATUS, and the answer's body is in $T/self.json.
self() {
  local desc=$1 want=$2 cert=$3 key=$4 st
  printf 'GET /v1/device/self HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n' |
    "$T/openssl" s_client -connect "127.0.0.1:$SERVER_PORT" -provider-path "$MODDIR" -provider default \
      -provider rampart_secmon -key "$key" -cert "$cert" -CAfile "$SERVER_CA" -verify_return_error -quiet \
      -ign_eof >"$T/self.out" 2>"$T/self.err" || true
  st=$(sed -n '1s/^HTTP\/1\.1 \([0-9]*\).*/\1/p' "$T/self.out")
  tail -n 1 "$T/self.out" >"$T/self.json"
  if [ "$st" = "$want" ]; then ok; else fail "$desc: /v1/device/self answered '$st', expected $want: $(head -c 600 "$T/self.out") $(head -c 300 "$T/self.err")"; fi
}
self "dev1 with its certificate, the key in secmon" 200 "$T/cert1.pem" "rampart-secmon:$T/dev1/secmon.sock"
cp "$T/self.json" "$T/http.body"
expect_json "the device as the service sees it" 'j["device_id"] == E("D1") and j["tenant"] == "acme" and j["device_group"] == "gadget/Field Test" and j["certificate_expires_at"] > 0'
API_TOKEN= refused "no client certificate" 401 unauthenticated GET /v1/device/self
self "dev1's Alias certificate (the manufacturer's chain, not the tenant's)" 401 "$T/dev1-alias.pem" "rampart-secmon:$T/dev1/secmon.sock"

# --- attacks: each refused with its reason, and the server keeps serving ----
# Replayed evidence.
API_TOKEN= refused "replayed evidence" 403 nonce_used POST /v1/attest "$(cat "$T/ev1.json")"
server_alive "after a replay"
# Forged evidence: a flipped byte in the signature; the nonce stays usable.
nonce "$D1"
evidence "$T/dev1" "$NONCE" "$T/ev.cbor"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
  "$T/ev.cbor" "$T/forged.cbor"
API_TOKEN= refused "forged evidence" 403 evidence_invalid POST /v1/attest "$(attest_body "$NONCE" "$T/forged.cbor")"
API_TOKEN= call "the genuine evidence for that nonce" 200 POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
server_alive "after forged evidence"
API_TOKEN= refused "evidence that is not base64" 400 bad_request POST /v1/attest "$(body nonce="$NONCE" evidence='@@@')"
API_TOKEN= refused "a nonce never given" 403 nonce_unknown POST /v1/attest "$(attest_body "$(printf '%064x' 1)" "$T/ev.cbor")"
# The nonce of device A with device B's evidence.
nonce "$D1"
evidence "$T/dev2" "$NONCE" "$T/ev.cbor"
API_TOKEN= refused "dev1's nonce, dev2's evidence" 403 device_mismatch POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
# An unclaimed device.
nonce "$D2"
evidence "$T/dev2" "$NONCE" "$T/ev.cbor"
API_TOKEN= refused "an unclaimed device" 403 device_unclaimed POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
# An untrusted manufacturer.
call "claim dev3 (another factory's)" 201 POST /v1/tenants/acme/devices "$(body device_id="$D3")"
call "its software is a release" 201 POST /v1/tenants/acme/releases "$(body kind=os name=x version=3 measurement="$M3")"
nonce "$D3"
evidence "$T/dev3" "$NONCE" "$T/ev.cbor"
API_TOKEN= refused "an untrusted manufacturer" 403 untrusted_manufacturer POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
server_alive "after refusals"
# A development device in a tenant that does not allow them; then unknown
# software; then accepted: dev2 gets strict's certificate.
call "strict claims dev2" 201 POST /v1/tenants/strict/devices "$(body device_id="$D2")"
nonce "$D2"
evidence "$T/dev2" "$NONCE" "$T/ev.cbor"
API_TOKEN= refused "a development device in strict" 403 development_not_allowed POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
call "strict allows development now" 200 PATCH /v1/tenants/strict '{"allow_development": true}'
API_TOKEN= refused "software no release names" 403 software_unknown POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
call "dev2's software a release of strict's" 201 POST /v1/tenants/strict/releases "$(body kind=os name=y version=2 measurement="$M2")"
nonce "$D2"
evidence "$T/dev2" "$NONCE" "$T/ev.cbor"
API_TOKEN= call "dev2 attests in strict" 200 POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
jq_ 'j["certificate"]' >"$T/cert2-strict.pem"
self "dev2 with strict's certificate" 200 "$T/cert2-strict.pem" "rampart-secmon:$T/dev2/secmon.sock"
# A device certificate of tenant B (strict) for a device now claimed by A.
call "strict releases dev2" 204 DELETE "/v1/tenants/strict/devices/$D2"
call "acme claims dev2" 201 POST /v1/tenants/acme/devices "$(body device_id="$D2")"
self "strict's certificate for dev2, now acme's" 403 "$T/cert2-strict.pem" "rampart-secmon:$T/dev2/secmon.sock"
# A certificate naming acme and dev1, signed by another key than acme's CA.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/forged.key" -subj "/CN=$D1" \
  -addext "subjectAltName=URI:urn:rampart:tenant:$ACME,URI:urn:rampart:device:$D1" -addext extendedKeyUsage=clientAuth \
  -days 2 -out "$T/forged.pem" 2>/dev/null
self "a forged device certificate" 401 "$T/forged.pem" "$T/forged.key"
# A disabled device: no certificate, and its certificate stops working.
call "disable dev1" 200 PATCH "/v1/tenants/acme/devices/$D1" '{"enabled": false}'
self "a disabled device's certificate" 403 "$T/cert1.pem" "rampart-secmon:$T/dev1/secmon.sock"
nonce "$D1"
evidence "$T/dev1" "$NONCE" "$T/ev.cbor"
API_TOKEN= refused "a disabled device" 403 device_disabled POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
call "enable dev1" 200 PATCH "/v1/tenants/acme/devices/$D1" '{"enabled": true}'
server_alive "after device refusals"

# --- revoking the release stops certificates -----------------------------------------
call "revoke dev1's release" 200 POST "/v1/tenants/acme/releases/$M1/revoke"
nonce "$D1"
evidence "$T/dev1" "$NONCE" "$T/ev.cbor"
API_TOKEN= refused "dev1 runs revoked software" 403 software_revoked POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
call "acme's attestations" 200 GET "/v1/tenants/acme/attestations?device=$D1"
expect_json "the refusal, with its reason, newest first" 'j["attestations"][0]["outcome"] == "refused" and j["attestations"][0]["reason"] == "software_revoked" and "revoked" in j["attestations"][0]["detail"]'
call "all of acme's" 200 GET "/v1/tenants/acme/attestations"
expect_json "each reason seen in acme" '{"nonce_used", "evidence_invalid", "device_mismatch", "untrusted_manufacturer", "device_disabled", "software_revoked"} <= {a["reason"] for a in j["attestations"]} and sum(a["outcome"] == "accepted" for a in j["attestations"]) == 2'
call "strict's" 200 GET "/v1/tenants/strict/attestations"
expect_json "strict's refusals and its acceptance" '{"development_not_allowed", "software_unknown", None} == {a["reason"] for a in j["attestations"]}'
API_TOKEN= call "metrics" 200 GET /metrics
for m in 'outcome="refused",reason="software_revoked"} 1' 'outcome="refused",reason="nonce_used"} 1' \
    'outcome="refused",reason="device_unclaimed"} 1' 'outcome="refused",reason="nonce_unknown"} 1' \
    'outcome="accepted",reason="none"} 3' ; do
  grep -qF "rampart_attestations_total{$m" "$T/http.body" && ok || fail "/metrics lacks $m: $(grep attestations "$T/http.body")"
done
grep -qx 'rampart_certificates_issued_total 3' "$T/http.body" && ok || fail "certificates issued: $(grep certificates "$T/http.body")"

# --- tokens, here too: a Reader writing, a revoked token -----------------------------
call "a Reader in acme" 201 POST /v1/tenants/acme/users "$(body name=reader role=Reader)"
call "its token" 201 POST /v1/tenants/acme/users/reader/tokens '{}'
READER=$(jq_ 'j["token"]') READER_ID=$(jq_ 'j["id"]')
API_TOKEN=$READER refused "a Reader enables a device" 403 forbidden PATCH "/v1/tenants/acme/devices/$D1" '{"enabled": true}'
API_TOKEN=$READER refused "a Reader revokes a release" 403 forbidden POST "/v1/tenants/acme/releases/$M2/revoke"
call "revoke the Reader's token" 204 DELETE "/v1/tokens/$READER_ID"
API_TOKEN=$READER refused "the revoked token" 401 unauthenticated GET /v1/tenants/acme/devices

# --- an expired nonce: a server whose nonces live 1 s ---------------------------------
stop_server
start_server "$S" --nonce-ttl 1 || { finish; exit 1; }
call "dev1's release again (another version, the same software)" 409 POST /v1/tenants/acme/releases \
  "$(body kind=os name=OS version=1.1 measurement="$M1")"
call "a release for dev2 in acme" 201 POST /v1/tenants/acme/releases "$(body kind=os name=y version=2 measurement="$M2")"
nonce "$D2"
evidence "$T/dev2" "$NONCE" "$T/ev.cbor"
sleep 2
API_TOKEN= refused "an expired nonce" 403 nonce_expired POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
server_alive "after an expired nonce"

# --- an expired device certificate: a server issuing them for 1 s ----------------
stop_server
start_server "$S" --cert-lifetime 1 || { finish; exit 1; }
nonce "$D2"
evidence "$T/dev2" "$NONCE" "$T/ev.cbor"
API_TOKEN= call "dev2 attests in acme" 200 POST /v1/attest "$(attest_body "$NONCE" "$T/ev.cbor")"
jq_ 'j["certificate"]' >"$T/cert2-short.pem"
# Valid until a second after its issue (the path of a valid one is above).
sleep 2
self "the same certificate, expired" 401 "$T/cert2-short.pem" "rampart-secmon:$T/dev2/secmon.sock"
grep -q "certificate has expired" "$T/self.out" && ok || fail "the refusal does not say it expired: $(cat "$T/self.out")"
server_alive "at the end"
stop_server
for s in sm1 sm2 sm3; do stop "$s"; done
finish
