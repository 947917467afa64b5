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

# --- the commands' help and usage errors --------------------------------------
expect_ok "device --help" "$RAMPART" device --help
for c in check-update download report-state; do expect_out "device --help lists $c" "^  $c +"; done
for c in check-update download report-state; do
  expect_ok "$c --help" "$RAMPART" device "$c" --help
  expect_out "$c --help: usage" "^Usage: rampart device $c --state-dir D --server URL --ca-file F"
done
expect_fail "check-update: no --server" 2 "missing --server URL" "$RAMPART" device check-update --state-dir "$T/dev1" --ca-file "$CA"
expect_fail "check-update: -o yaml" 2 "yaml" "$RAMPART" device check-update "${DEV1[@]}" -o yaml
expect_fail "report-state: not a GUID" 2 "--installed 'x:1': expected CID:VERSION\[:DIGEST\], CID a GUID" \
  "$RAMPART" device report-state "${DEV1[@]}" --installed x:1
expect_fail "report-state: no version" 2 "VERSION a number" "$RAMPART" device report-state "${DEV1[@]}" \
  --installed 00000000-0000-0000-0000-000000000001
expect_fail "report-state: a bad digest" 2 "DIGEST must be 64 hex digits" "$RAMPART" device report-state "${DEV1[@]}" \
  --installed 00000000-0000-0000-0000-000000000001:1:abc
expect_fail "report-state: a failure without its reason" 2 "the reason is required" "$RAMPART" device report-state \
  "${DEV1[@]}" --failed 00000000-0000-0000-0000-000000000001:1
expect_fail "report-state: a version too large" 2 "VERSION a number up to 4294967295" "$RAMPART" device report-state \
  "${DEV1[@]}" --installed 00000000-0000-0000-0000-000000000001:4294967296

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

# --- the service's deployment key, and packages --------------------------------
# The tenant's deployment key is made on first use and kept in the store;
# here it is made first, by the test, so that documents the real server
# could sign can be signed by update-attack too (as a service that misbehaves
# would) and served by the hostile server.
expect_ok "the tenant's deployment key" "$RAMPART" keys generate -o "$T/deploy.key"
expect_ok "an attacker's key" "$RAMPART" keys generate -o "$T/attacker.key"
KEY_ID=$("$RAMPART" keys show "$T/deploy.key.pub" -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["key_id"])')
store_sql "$S" "INSERT INTO deployment_keys (tenant_id, key_pem, public_pem, key_id, created_at) VALUES ('$ACME', '$(cat "$T/deploy.key")', '$(cat "$T/deploy.key.pub")', '$KEY_ID', 1)" &&
  ok || fail "cannot plant the deployment key"
# An app package, large enough to be cut midway, in two versions of the same
# size (the same files; the manifest's version differs).
expect_ok "a signing key" "$RAMPART" keys generate -o "$T/app.key"
APP=$RAMPART_SOURCE_DIR/samples/hello
mkdir -p "$T/approot"
cp -r "$APP/approot/." "$T/approot/"
head -c 3000000 /dev/urandom >"$T/approot/data.bin"
for v in 1 2; do
  expect_ok "pack app version $v" "$RAMPART" image-package pack-application --manifest "$APP/app_manifest.json" \
    --dir "$T/approot" --key "$T/app.key" --image-version "$v" -o "$T/app-v$v.imagepackage"
done
CID=ab2ee101-3ec4-4c6a-a54c-3458151cb587
[ "$(stat -c %s "$T/app-v1.imagepackage")" = "$(stat -c %s "$T/app-v2.imagepackage")" ] && ok ||
  fail "the two versions differ in size"
SIZE2=$(stat -c %s "$T/app-v2.imagepackage")
DIGEST2=$(sha256sum "$T/app-v2.imagepackage" | cut -d' ' -f1)
DIGEST1=$(sha256sum "$T/app-v1.imagepackage" | cut -d' ' -f1)
export DIGEST2 SIZE2 CID DEP5

# --- a hostile server ------------------------------------------------------------
# It holds the real server's TLS key, as an attacker who took over the
# service's address would, and serves what the test puts in $T/h/: the
# document at v1/device/deployment, packages at v1/device/images/DIGEST.
: "${RAMPART_UPDATE_ATTACK:?run this test through ctest}"
ATK=$RAMPART_UPDATE_ATTACK
mkdir -p "$T/h/v1/device/images"
H_PID=
hostile() {       # hostile MODE: (re)starts it, answering images by MODE
  _hostile_stop
  rm -f "$T/h.port"
  "$ATK" serve --cert "$S/tls/server.pem" --key "$S/tls/server.key" --root "$T/h" --port-file "$T/h.port" \
    --mode "$1" --log "$T/h.log" 2>"$T/h.err" &
  H_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do [ -s "$T/h.port" ] && break; sleep 0.05; done
  [ -s "$T/h.port" ] && ok || fail "the hostile server did not start: $(cat "$T/h.err")"
  H_URL=https://127.0.0.1:$(cat "$T/h.port")
  # The device is told its server is there; its certificate stays good (the
  # hostile server asks for none).
  printf '%s\n' "$H_URL" >"$T/dev1/service/server"
  HDEV1=(--state-dir "$T/dev1" --server "$H_URL" --ca-file "$CA")
}
_hostile_stop() { [ -z "$H_PID" ] || { kill "$H_PID" 2>/dev/null || true; wait "$H_PID" 2>/dev/null || true; }; }
# Stopped however the script ends, before what the other helpers stop.
if [ -n "$(trap -p EXIT)" ]; then eval "set -- $(trap -p EXIT)"; _old_trap=$3; fi
# shellcheck disable=SC2064  # expand the old command now, once
trap "_hostile_stop; ${_old_trap:-}" EXIT
# serve DOC: the document the hostile server answers.
serve() { cp "$1" "$T/h/v1/device/deployment"; }
NOW=$(date +%s)
sign() {          # sign OUT ARGS...: a document for dev1 in acme, signed with the tenant's key
  local out=$1; shift
  "$ATK" sign --key "$T/deploy.key" --out "$out" --tenant "$ACME" --device "$D1" --expires-at $((NOW + 86400)) "$@" ||
    fail "update-attack sign $*"
}

# --- check-update against documents the hostile server serves ---------------------
hostile normal
# (functions, not arrays: each restart of the hostile server has a new port)
check() { "$RAMPART" device check-update "${HDEV1[@]}" "$@"; }
doc_sha() { sha256sum "$T/dev1/service/deployment.cbor" 2>/dev/null | cut -d' ' -f1; }
DEP5=$(printf '%032x' 5)
sign "$T/doc5.cose" --version 5 --group "$(printf '%032x' 1)" --deployment "$DEP5" --image "$T/app-v2.imagepackage"
serve "$T/doc5.cose"
# The tenant's key, provisioned (a server of issue 8 pins it at attestation
# already: then the same key again changes nothing).
expect_ok "check-update --deployment-key" check --deployment-key "$T/deploy.key.pub" -o json
cp "$T/out" "$T/http.body"
expect_json "the document, whole" 'j["version"] == 5 and j["changed"] is True and j["device"] == E("D1") and j["tenant"] == E("ACME") and j["deployment"] == E("DEP5") and j["policy"] == "UpdateAll" and j["manages"] == ["app", "rt-app", "os"] and j["format"] == 1 and j["expires_at"] > j["issued_at"]'
expect_json "its image" 'len(j["images"]) == 1 and j["images"][0] == {"component_id": E("CID"), "type": "app", "name": "hello", "version": 2, "digest": E("DIGEST2"), "size": int(E("SIZE2")), "url": "/v1/device/images/" + E("DIGEST2")}'
expect_same "the accepted document is kept as it came" "$T/dev1/service/deployment.cbor" "$T/doc5.cose"
[ "$(openssl pkey -pubin -in "$T/dev1/service/deployment-key.pem" -outform DER | sha256sum)" = \
  "$(openssl pkey -pubin -in "$T/deploy.key.pub" -outform DER | sha256sum)" ] && ok || fail "the pinned key is not the tenant's"
expect_ok "check-update again (table)" check
expect_line "table: version" out "Version:      5 (unchanged)"
expect_line "table: deployment" out "Deployment:   $DEP5"
expect_out "table: the image" "^$CID +app +hello +2 +$SIZE2 +$DIGEST2$"
expect_fail "another deployment key than the pinned one" 1 "the deployment key [0-9a-f]{16}\.\.\. differs from the one pinned in .*deployment-key.pem" \
  check --deployment-key "$T/attacker.key.pub"
expect_err "... and what to do" "remove that file and provision the new key"
expect_fail "--deployment-key: no such file" 1 "nothing" check --deployment-key "$T/nothing.pub"
ACCEPTED=$(doc_sha)
# refused DESC PATTERN DOC: the hostile server serves DOC; check-update
# refuses it with PATTERN, and the device keeps the document it had.
refused_doc() {
  serve "$3"
  expect_fail "$1" 1 "$2" check
  [ "$(doc_sha)" = "$ACCEPTED" ] && ok || fail "$1: the accepted document changed"
}
# Arbitrary software: the real document's content, signed by another key.
"$ATK" resign "$T/doc5.cose" --key "$T/attacker.key" --version 6 --out "$T/doc-attacker.cose"
refused_doc "arbitrary software: a document signed by another key" \
  "the deployment document from https://127.0.0.1:[0-9]+ refused: .*the signature does not verify with the deployment key" "$T/doc-attacker.cose"
expect_err "... with a hint" "the device trusts only the deployment key it has pinned"
head -c 300 "$T/doc5.cose" >"$T/doc-cut.cose"
refused_doc "a document cut short" "the deployment document from .* refused" "$T/doc-cut.cose"
# Rollback: an older document, and one that says otherwise for a version.
sign "$T/doc4.cose" --version 4 --image "$T/app-v1.imagepackage"
refused_doc "rollback: an older document replayed" "version 4 is older than version 5, accepted before \(rollback\)" "$T/doc4.cose"
expect_err "... with a hint" "rollback refused"
sign "$T/doc5b.cose" --version 5 --image "$T/app-v1.imagepackage"
refused_doc "rollback: version 5 with other images" "version 5 was accepted before with other images" "$T/doc5b.cose"
# Freeze: a document past its expiry, and one from the future.
sign "$T/doc-stale.cose" --version 7 --issued-at $((NOW - 7200)) --expires-at $((NOW - 3600)) --image "$T/app-v2.imagepackage"
refused_doc "freeze: a stale document" "expired at $((NOW - 3600)), the time is" "$T/doc-stale.cose"
expect_err "... with a hint" "freeze refused"
sign "$T/doc-future.cose" --version 7 --issued-at $((NOW + 86400)) --expires-at $((NOW + 90000))
refused_doc "a document from the future" "seconds in the future" "$T/doc-future.cose"
# Mix and match: a document for another device, and for another tenant.
sign "$T/doc-dev2.cose" --version 8 --device "$D2" --image "$T/app-v2.imagepackage"
refused_doc "mix and match: another device's document" "for device $D2; this is $D1 \(mix and match\)" "$T/doc-dev2.cose"
"$ATK" sign --key "$T/deploy.key" --out "$T/doc-tenant.cose" --tenant 0123456789abcdef0123456789abcdef \
  --device "$D1" --version 8 --expires-at $((NOW + 86400))
refused_doc "mix and match: another tenant's document" "is for tenant 0123456789abcdef0123456789abcdef; this device is tenant $ACME's" \
  "$T/doc-tenant.cose"
serve "$T/doc5.cose"
expect_ok "the genuine document again" check

# --- downloads ---------------------------------------------------------------------
dl() { "$RAMPART" device download "${HDEV1[@]}" --component "$CID" "$@"; }
PART=$T/dev1/service/downloads/$DIGEST2.part
IMG=$T/h/v1/device/images/$DIGEST2
cp "$T/app-v2.imagepackage" "$IMG"
# Cut midway: what came is kept; the next run resumes from it.
hostile cut:1000000
expect_fail "a download cut midway" 1 "the transfer ended at 1000000 of $SIZE2 bytes \(kept: run again to resume\)" \
  dl -o "$T/app.out"
expect_err "... with a hint" "run the command again to resume where it stopped"
[ "$(stat -c %s "$PART")" = 1000000 ] && ok || fail "the part file holds $(stat -c %s "$PART" 2>&1) bytes"
[ ! -e "$T/app.out" ] && ok || fail "a cut download wrote the output"
hostile normal
: >"$T/h.log"
expect_ok "the download resumes" dl -o "$T/app.out" --json
cp "$T/out" "$T/http.body"
expect_json "resumed at the cut" 'j["resumed_from"] == 1000000 and j["digest"] == E("DIGEST2") and j["size"] == int(E("SIZE2")) and j["version"] == 2 and j["component_id"] == E("CID") and j["type"] == "app"'
expect_same "the package, as uploaded" "$T/app.out" "$T/app-v2.imagepackage"
# It asked for the rest, if the ETag still matches.
grep -qxF "GET /v1/device/images/$DIGEST2 range=bytes=1000000- if-range=\"$DIGEST2\"" "$T/h.log" && ok ||
  fail "the resumed request: $(cat "$T/h.log")"
[ ! -e "$PART" ] && ok || fail "the part file stayed"
expect_ok "download again: from the start (table)" dl -o "$T/app.out"
expect_out "what it wrote" "^Wrote component $CID, app version 2 \($SIZE2 bytes, SHA-256 $DIGEST2\) to "
# A server that ignores the range: the whole body replaces the part.
hostile cut:500000
expect_fail "cut again" 1 "ended at 500000" dl -o "$T/app2.out"
hostile norange
expect_ok "a whole answer where a part was asked for" dl -o "$T/app2.out" --json
cp "$T/out" "$T/http.body"
expect_json "started over" 'j["resumed_from"] == 0'
expect_same "the package" "$T/app2.out" "$T/app-v2.imagepackage"
# Endless data: more bytes than the document says.
hostile endless
expect_fail "endless data" 1 "endless data: the server sent more than the $SIZE2 bytes the document says" \
  dl -o "$T/app3.out"
expect_err "... with a hint" "nothing of it was kept"
[ ! -e "$T/app3.out" ] && [ ! -e "$PART" ] && ok || fail "endless data left files"
# Slow retrieval: a server that stalls is given up on (--stall-timeout).
hostile stall:200000
expect_fail "slow retrieval" 1 "slow retrieval: less than 1024 bytes a second for 1 seconds, at 200000 of $SIZE2 bytes" \
  dl -o "$T/app3.out" --stall-timeout 1
[ "$(stat -c %s "$PART")" = 200000 ] && ok || fail "a stalled download kept $(stat -c %s "$PART" 2>&1) bytes"
expect_fail "--stall-timeout 0" 2 "--stall-timeout: expected 1 to 3600 seconds" dl -o "$T/x" --stall-timeout 0
# Arbitrary software: the image's bytes changed (one byte, near the end).
hostile normal
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-10] ^= 1; open(sys.argv[1], "wb").write(b)' "$IMG"
expect_fail "arbitrary software: changed bytes" 1 "the downloaded bytes' SHA-256 is [0-9a-f]{64}; the document says $DIGEST2" \
  dl -o "$T/app3.out"
[ ! -e "$T/app3.out" ] && [ ! -e "$PART" ] && ok || fail "changed bytes left files"
# Rollback: the older version of the package (signed, the same size) in its place.
cp "$T/app-v1.imagepackage" "$IMG"
expect_fail "rollback: an older image swapped in" 1 "the downloaded bytes' SHA-256 is $DIGEST1; the document says $DIGEST2" \
  dl -o "$T/app3.out"
[ ! -e "$T/app3.out" ] && ok || fail "an older image was written"
cp "$T/app-v2.imagepackage" "$IMG"
# A document that lists the right bytes under another version (a service
# that misdescribes a package): the package's signed manifest must agree.
sign "$T/doc10.cose" --version 10 --image "$T/app-v2.imagepackage" --image-version 3
serve "$T/doc10.cose"
expect_ok "a document that says version 3 of the version 2 package" check
expect_fail "the package is not what the document says" 1 "the package is component $CID, app, version 2; the document says component $CID, app, version 3" \
  dl -o "$T/app3.out"
[ ! -e "$T/app3.out" ] && [ ! -e "$PART" ] && ok || fail "a misdescribed package left files"
sign "$T/doc11.cose" --version 11 --image "$T/app-v2.imagepackage"
serve "$T/doc11.cose"
expect_ok "the genuine document, newer" check
expect_fail "a component the document does not list" 1 "component 00000000-0000-0000-0000-000000000001 is not in the deployment document \(version 11, 1 image\)" \
  "$RAMPART" device download "${HDEV1[@]}" --component 00000000-0000-0000-0000-000000000001 -o "$T/x"
expect_fail "--component: not a GUID" 2 "--component 'abc': expected a GUID" "$RAMPART" device download "${HDEV1[@]}" --component abc -o "$T/x"
expect_fail "download: no -o" 2 "missing -o FILE" "$RAMPART" device download "${HDEV1[@]}" --component "$CID"
expect_fail "download: -o the server's CA file" 1 "is the server's CA file \(--ca-file\) .*; writing the image package there would replace it" \
  dl -o "$CA" --force
mv "$T/dev1/service/deployment.cbor" "$T/accepted.cose"
expect_fail "download with no document accepted" 1 "the device has accepted no deployment document yet" dl -o "$T/x"
expect_err "... with a hint" "run 'rampart device check-update' first"
mv "$T/accepted.cose" "$T/dev1/service/deployment.cbor"

# Freeze, as time passes: a document valid for a few seconds is accepted
# while it is fresh; once it has expired (the clock polled, no duration
# assumed), nothing acts on it, and it is refused when replayed.
SOON=$(($(date +%s) + 10))
sign "$T/doc-short.cose" --version 12 --expires-at "$SOON" --image "$T/app-v2.imagepackage"
serve "$T/doc-short.cose"
expect_ok "a short-lived document, accepted while fresh" check
while [ "$(date +%s)" -le "$SOON" ]; do sleep 0.5; done
expect_fail "freeze: a download with the document expired" 1 "expired at $SOON, the time is" dl -o "$T/x"
expect_err "... with a hint" "run 'rampart device check-update' first: a download needs a fresh deployment document"
expect_fail "freeze: the same document replayed once expired" 1 "expired at $SOON, the time is" check

server_alive "at the end"
stop_server
for s in sm1 sm2; do stop "$s"; done
finish
