#!/usr/bin/env bash
# The device side of updates, on SQLite and on PostgreSQL (integration/
# device-update-sqlite and -postgres): devices provisioned by the factory
# tool with a real rampart-secmon each, a real rampart-server over real TLS,
# and the CLI's device commands, which run the library code the device agent
# will (lib/client/session.c, download.c, update.c):
#   - the session: attests when it has no certificate, keeps it, attests
#     again for another server, when secmon's Alias key changed, and after
#     a 401; pins the tenant's deployment key from the answer, and refuses
#     an answer with another key than the one it was given;
#   - the flow: app packages uploaded (rampart image add) and deployed
#     (rampart deployment create); check-update verifies and prints the
#     signed document; a download cut midway resumes from the real server
#     and matches the digest; report-state; `device show` shows it;
#   - the attacks TUF and Uptane list, each refused by the device: arbitrary
#     software (a document signed by another key; image bytes changed in the
#     blob store), rollback (an older document replayed; an older image
#     swapped in; a version reused with other images), freeze (a short-lived
#     document once expired, from a server with --document-lifetime 10),
#     mix-and-match (another device's document; another tenant's), endless
#     data, slow retrieval (--stall-timeout).
# Where the real server would not misbehave, a hostile one does
# (update-attack serve): it holds the real server's TLS key, as an attacker
# who took over the service's address would, and the device is pointed at
# it by its service/server file (the certificate it holds stays good: the
# hostile server asks for none). The tenant's deployment key is planted in
# the store before its first use, so that update-attack can also sign what
# a compromised service could send.
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
# The tenant's deployment key is made on first use and kept in the store;
# here it is made first, by the test, so that documents the real server
# could sign can be signed by update-attack too (as a service that misbehaves
# would) and served by the hostile server.
expect_ok "the tenant's deployment key" "$RAMPART" keys generate -o "$T/deploy.key"
expect_ok "an attacker's key" "$RAMPART" keys generate -o "$T/attacker.key"
KEY_ID=$("$RAMPART" keys show "$T/deploy.key.pub" -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["key_id"])')
store_sql "$S" "INSERT INTO deployment_keys (tenant_id, key_pem, public_pem, key_id, created_at) VALUES ('$ACME', '$(cat "$T/deploy.key")', '$(cat "$T/deploy.key.pub")', '$KEY_ID', 1)" &&
  ok || fail "cannot plant the deployment key"
call "a product" 201 POST /v1/tenants/acme/products "$(body name=gadget)"
call "acme trusts the factory's CA" 201 POST /v1/tenants/acme/manufacturers "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
call "dev1's software is a release" 201 POST /v1/tenants/acme/releases "$(body kind=os name=OS version=1 measurement="$M1")"

# The device's commands, with what every one of them takes.
DEV1=(--state-dir "$T/dev1" --server "$URL" --ca-file "$CA")
DEV2=(--state-dir "$T/dev2" --server "$URL" --ca-file "$CA")
# jcli DESC EXPR, jout EXPR: expect_json and jq_ on the last command's stdout.
jcli() { cp "$T/out" "$T/http.body"; expect_json "$1" "$2"; }
jout() { cp "$T/out" "$T/http.body"; jq_ "$1"; }
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
# The tenant's deployment key came with the answer, and was pinned.
same_key() { [ "$(openssl pkey -pubin -in "$1" -outform DER | sha256sum)" = "$(openssl pkey -pubin -in "$2" -outform DER | sha256sum)" ]; }
same_key "$T/dev1/service/deployment-key.pem" "$T/deploy.key.pub" && ok ||
  fail "the attestation did not pin the tenant's deployment key"
# A device given another key than the tenant's refuses the attestation's
# answer, keeps the key it was given and stores nothing of the answer.
call "claim dev2 into the same group" 201 POST /v1/tenants/acme/devices "$(body device_id="$D2" device_group="gadget/Field Test")"
expect_fail "another key pinned than the service's" 1 "the attestation's answer: the deployment key [0-9a-f]{16}\.\.\. differs from the one pinned in .*/dev2/service/deployment-key.pem" \
  "$RAMPART" device check-update "${DEV2[@]}" --deployment-key "$T/attacker.key.pub"
expect_err "... and what to do" "remove D/service/deployment-key.pem and provision the new one"
same_key "$T/dev2/service/deployment-key.pem" "$T/attacker.key.pub" && ok || fail "the given key was not kept"
[ ! -e "$T/dev2/service/certificate.pem" ] && ok || fail "a refused answer's certificate was stored"
rm "$T/dev2/service/deployment-key.pem"

# --- packages, the operator's side ---------------------------------------------------
# An app package, large enough to be cut midway, in two versions of the same
# size (the same files; the manifest's version differs).
export RAMPART_CONFIG_DIR=$T/config
unset XDG_CONFIG_HOME
expect_ok "login" "$RAMPART" login --server "$URL" --ca-file "$CA" --token-file "$ADMIN_TOKEN_FILE"
expect_ok "select acme" "$RAMPART" tenant select acme
expect_ok "a signing key" "$RAMPART" keys generate -o "$T/app.key"
expect_ok "acme trusts it" "$RAMPART" signing-key add --key-pub "$T/app.key.pub"
APP=$RAMPART_SOURCE_DIR/samples/hello
mkdir -p "$T/approot"
cp -r "$APP/approot/." "$T/approot/"
head -c 3000000 /dev/urandom >"$T/approot/data.bin"
CID=ab2ee101-3ec4-4c6a-a54c-3458151cb587
declare -A IMG=() DIG=()
for v in 1 2; do
  expect_ok "pack app version $v" "$RAMPART" image-package pack-application --manifest "$APP/app_manifest.json" \
    --dir "$T/approot" --key "$T/app.key" --image-version "$v" -o "$T/app-v$v.imagepackage"
  expect_ok "image add app version $v" "$RAMPART" image add "$T/app-v$v.imagepackage" -o json
  IMG[$v]=$(jout 'j["id"]') DIG[$v]=$(jq_ 'j["digest"]')
  [ "${DIG[$v]}" = "$(sha256sum "$T/app-v$v.imagepackage" | cut -d' ' -f1)" ] && ok || fail "image $v: another digest"
done
[ "$(stat -c %s "$T/app-v1.imagepackage")" = "$(stat -c %s "$T/app-v2.imagepackage")" ] && ok ||
  fail "the two versions differ in size"
SIZE=$(stat -c %s "$T/app-v2.imagepackage")
DIGEST1=${DIG[1]} DIGEST2=${DIG[2]}
export DIGEST1 DIGEST2 SIZE CID
G=(--product gadget --device-group "Field Test")

# --- a hostile server ------------------------------------------------------------
# It holds the real server's TLS key, as an attacker who took over the
# service's address would, and serves what the test puts in $T/h/: the
# document at v1/device/deployment, packages at v1/device/images/DIGEST.
: "${RAMPART_UPDATE_ATTACK:?run this test through ctest}"
ATK=$RAMPART_UPDATE_ATTACK
mkdir -p "$T/h/v1/device/images"
H_PID=
_hostile_stop() { [ -z "$H_PID" ] || { kill "$H_PID" 2>/dev/null || true; wait "$H_PID" 2>/dev/null || true; }; }
# Stopped however the script ends, before what the other helpers stop.
if [ -n "$(trap -p EXIT)" ]; then eval "set -- $(trap -p EXIT)"; _old_trap=$3; fi
# shellcheck disable=SC2064  # expand the old command now, once
trap "_hostile_stop; ${_old_trap:-}" EXIT
# hostile MODE: (re)starts it, answering images by MODE (update-attack.c),
# and points dev1 at it: its service/server file names it, so the
# certificate dev1 holds stays good (the hostile server asks for none).
hostile() {
  _hostile_stop
  rm -f "$T/h.port"
  "$ATK" serve --cert "$S/tls/server.pem" --key "$S/tls/server.key" --root "$T/h" --port-file "$T/h.port" \
    --mode "$1" --log "$T/h.log" 2>"$T/h.err" &
  H_PID=$!
  local i
  for ((i = 0; i < 600; i++)); do [ -s "$T/h.port" ] && break; sleep 0.05; done
  [ -s "$T/h.port" ] && ok || fail "the hostile server did not start: $(cat "$T/h.err")"
  H_URL=https://127.0.0.1:$(cat "$T/h.port")
  printf '%s\n' "$H_URL" >"$T/dev1/service/server"
  AT=(--state-dir "$T/dev1" --server "$H_URL" --ca-file "$CA")
}
# real: dev1 back at the real server (its certificate is the real one's).
real() { printf '%s\n' "$URL" >"$T/dev1/service/server"; AT=("${DEV1[@]}"); }
real
# (functions, not arrays: the hostile server's port changes with each start)
check() { "$RAMPART" device check-update "${AT[@]}" "$@"; }
dl() { "$RAMPART" device download "${AT[@]}" --component "$CID" "$@"; }
serve() { cp "$1" "$T/h/v1/device/deployment"; }           # the document it answers
serve_image() { cp "$1" "$T/h/v1/device/images/$2"; }      # PKG DIGEST
doc_sha() { sha256sum "$T/dev1/service/deployment.cbor" 2>/dev/null | cut -d' ' -f1; }

# --- the flow -------------------------------------------------------------------
expect_ok "check-update, nothing deployed yet" check -o json
jcli "a document without images" 'j["deployment"] is None and j["images"] == [] and j["device"] == E("D1") and j["tenant"] == E("ACME") and j["changed"] is True and j["device_group"] is not None'
V0=$(jout 'j["version"]')
expect_ok "check-update, nothing deployed yet (table)" check
expect_line "no images" out "Images:       none"
expect_line "unchanged" out "Version:      $V0 (unchanged)"
expect_ok "deploy app version 1" "$RAMPART" deployment create "${G[@]}" --images "${IMG[1]}" -o json
DEP1=$(jout 'j["id"]')
expect_ok "check-update" check -o json
jcli "the deployment, signed" 'j["deployment"] == "'"$DEP1"'" and j["version"] > int("'"$V0"'") and j["changed"] is True and j["policy"] == "UpdateAll" and j["manages"] == ["app", "rt-app", "os"] and j["format"] == 1 and j["expires_at"] > j["issued_at"]'
jcli "its image" 'len(j["images"]) == 1 and j["images"][0] == {"component_id": E("CID"), "type": "app", "name": "hello", "version": 1, "digest": E("DIGEST1"), "size": int(E("SIZE")), "url": "/v1/device/images/" + E("DIGEST1")}'
V1=$(jq_ 'j["version"]')
cp "$T/dev1/service/deployment.cbor" "$T/real-v1.cose"
expect_ok "deployment-key download" "$RAMPART" deployment-key download -o "$T/acme-deploy.pub"
same_key "$T/acme-deploy.pub" "$T/dev1/service/deployment-key.pem" && ok || fail "the pinned key is not the one the operator downloads"
# A download cut midway (the hostile server stops after 1,000,000 bytes of
# the real package), resumed from the real server with Range and If-Range.
PART1=$T/dev1/service/downloads/$DIGEST1.part
serve_image "$T/app-v1.imagepackage" "$DIGEST1"
hostile cut:1000000
expect_fail "a download cut midway" 1 "the transfer ended at 1000000 of $SIZE bytes \(kept: run again to resume\)" \
  dl -o "$T/app1.out"
expect_err "... with a hint" "run the command again to resume where it stopped"
[ "$(stat -c %s "$PART1")" = 1000000 ] && ok || fail "the part file holds $(stat -c %s "$PART1" 2>&1) bytes"
[ ! -e "$T/app1.out" ] && ok || fail "a cut download wrote the output"
grep -qxF "GET /v1/device/images/$DIGEST1 range=- if-range=-" "$T/h.log" && ok || fail "the first request: $(cat "$T/h.log")"
real
expect_ok "the download resumes from the real server" dl -o "$T/app1.out" --json
jcli "resumed at the cut" 'j["resumed_from"] == 1000000 and j["digest"] == E("DIGEST1") and j["size"] == int(E("SIZE")) and j["version"] == 1 and j["component_id"] == E("CID") and j["type"] == "app"'
expect_same "the package, as uploaded" "$T/app1.out" "$T/app-v1.imagepackage"
[ ! -e "$PART1" ] && ok || fail "the part file stayed"
# The next deployment: a newer document, the newer image.
expect_ok "deploy app version 2" "$RAMPART" deployment create "${G[@]}" --images "${IMG[2]}" -o json
DEP2=$(jout 'j["id"]')
expect_ok "check-update (table)" check
V2=$(sed -n 's/^Version: *\([0-9]*\) (new)$/\1/p' "$T/out")
[ -n "$V2" ] && [ "$V2" -gt "$V1" ] && ok || fail "the new document's version '$V2' is not above $V1: $(cat "$T/out")"
expect_line "table: the deployment" out "Deployment:   $DEP2"
expect_out "table: the image" "^$CID +app +hello +2 +$SIZE +$DIGEST2$"
cp "$T/dev1/service/deployment.cbor" "$T/real-v2.cose"
expect_ok "download version 2 (table)" dl -o "$T/app2.out"
expect_out "what it wrote" "^Wrote component $CID, app version 2 \($SIZE bytes, SHA-256 $DIGEST2\) to "
expect_same "version 2, as uploaded" "$T/app2.out" "$T/app-v2.imagepackage"
! grep -q '\[#' "$T/err" && ok || fail "a progress bar without a terminal: $(head -c 200 "$T/err")"
# On a terminal (script(1) gives it one), a progress bar on stderr.
expect_ok "download on a terminal" script -qefc "$(printf '%q ' "$RAMPART" device download "${DEV1[@]}" \
  --component "$CID" -o "$T/app2b.out")" /dev/null
expect_out "a progress bar, to the end" '\[#{40}\] 100\.0% '
expect_same "version 2 again" "$T/app2b.out" "$T/app-v2.imagepackage"
# The device reports what it runs; the service shows it.
expect_ok "report-state: installed" "$RAMPART" device report-state "${DEV1[@]}" --installed "$CID:2:$DIGEST2" -o json
jcli "the report sent" 'j == {"doc_version": int("'"$V2"'"), "components": [{"component_id": E("CID"), "version": 2, "digest": E("DIGEST2"), "state": "installed"}]}'
expect_ok "device show" "$RAMPART" device show "$D1" -o json
jcli "up to date, with its component" 'j["up_to_date"] is True and j["reported_doc_version"] == int("'"$V2"'") and [(c["component_id"], c["version"], c["digest"], c["state"]) for c in j["components"]] == [(E("CID"), 2, E("DIGEST2"), "installed")]'
expect_ok "device show (table)" "$RAMPART" device show "$D1"
expect_out "the table says so" "^Up to date: +yes"
expect_ok "report-state: a failure" "$RAMPART" device report-state "${DEV1[@]}" --failed "$CID:2:the app did not start"
expect_line "what was reported" out "Reported:     1 component, deployment document version $V2"
expect_ok "device show" "$RAMPART" device show "$D1" -o json
jcli "not up to date: a failure" 'j["up_to_date"] is False and j["components"][0]["state"] == "failed" and j["components"][0]["detail"] == "the app did not start"'
expect_ok "report-state: installed again (either case)" "$RAMPART" device report-state "${DEV1[@]}" --installed "${CID^^}:2:${DIGEST2^^}" -o json
jcli "sent in lowercase" 'j["components"] == [{"component_id": E("CID"), "version": 2, "digest": E("DIGEST2"), "state": "installed"}]'
expect_ok "device show" "$RAMPART" device show "$D1" -o json
jcli "up to date again" 'j["up_to_date"] is True and [(c["component_id"], c["digest"], c["state"]) for c in j["components"]] == [(E("CID"), E("DIGEST2"), "installed")]'

# --- attacks with the real documents ------------------------------------------------
ACCEPTED=$(doc_sha)
# refused_doc DESC PATTERN DOC: the hostile server answers DOC; check-update
# refuses it with PATTERN, and the device keeps the document it had.
refused_doc() {
  serve "$3"
  expect_fail "$1" 1 "$2" check
  [ "$(doc_sha)" = "$ACCEPTED" ] && ok || fail "$1: the accepted document changed"
}
hostile normal
serve "$T/real-v2.cose"
expect_ok "the real document, replayed as it is" check
[ "$(doc_sha)" = "$ACCEPTED" ] && ok || fail "the same document changed what was kept"
# Arbitrary software: a document signed by another key.
"$ATK" resign "$T/real-v2.cose" --key "$T/attacker.key" --version $((V2 + 1)) --out "$T/doc-attacker.cose"
refused_doc "arbitrary software: a document signed by another key" \
  "the deployment document from https://127.0.0.1:[0-9]+ refused: .*the signature does not verify with the deployment key" "$T/doc-attacker.cose"
expect_err "... with a hint" "the device trusts only the deployment key it has pinned"
head -c 300 "$T/real-v2.cose" >"$T/doc-cut.cose"
refused_doc "a document cut short" "the deployment document from .* refused" "$T/doc-cut.cose"
# Rollback: the older document replayed.
refused_doc "rollback: an older document replayed" "version $V1 is older than version $V2, accepted before \(rollback\)" "$T/real-v1.cose"
expect_err "... with a hint" "rollback refused"
# Mix and match: dev2's document (same group, same images) served to dev1.
expect_ok "dev2 checks for an update" "$RAMPART" device check-update "${DEV2[@]}"
refused_doc "mix and match: another device's document" "for device $D2; this is $D1 \(mix and match\)" \
  "$T/dev2/service/deployment.cbor"
serve "$T/real-v2.cose"
# Downloads from the hostile server, for the real document's image.
PART=$T/dev1/service/downloads/$DIGEST2.part
serve_image "$T/app-v2.imagepackage" "$DIGEST2"
hostile endless
expect_fail "endless data" 1 "endless data: the server sent more than the $SIZE bytes the document says" dl -o "$T/x.out"
expect_err "... with a hint" "nothing of it was kept"
[ ! -e "$T/x.out" ] && [ ! -e "$PART" ] && ok || fail "endless data left files"
hostile stall:200000
expect_fail "slow retrieval" 1 "slow retrieval: less than 1024 bytes a second for 1 seconds, at 200000 of $SIZE bytes" \
  dl -o "$T/x.out" --stall-timeout 1
expect_err "... with a hint" "the server stalled \(slow retrieval\); run the command again to resume"
[ "$(stat -c %s "$PART")" = 200000 ] && ok || fail "a stalled download kept $(stat -c %s "$PART" 2>&1) bytes"
# A server that ignores the range: the whole answer replaces the part.
hostile norange
: >"$T/h.log"
expect_ok "a whole answer where a part was asked for" dl -o "$T/x.out" --json
jcli "started over" 'j["resumed_from"] == 0'
expect_same "the package" "$T/x.out" "$T/app-v2.imagepackage"
grep -qxF "GET /v1/device/images/$DIGEST2 range=bytes=200000- if-range=\"$DIGEST2\"" "$T/h.log" && ok ||
  fail "the request for the rest: $(cat "$T/h.log")"
# Rollback: the older version of the package (signed, the same size) in its place.
hostile normal
serve_image "$T/app-v1.imagepackage" "$DIGEST2"
expect_fail "rollback: an older image swapped in" 1 "the downloaded bytes' SHA-256 is $DIGEST1; the document says $DIGEST2" \
  dl -o "$T/x2.out"
[ ! -e "$T/x2.out" ] && [ ! -e "$PART" ] && ok || fail "an older image left files"
# Arbitrary software: the image's bytes changed in the real server's blob store.
real
BLOB=$S/blobs/blobs/${DIGEST2:0:2}/$DIGEST2
[ -f "$BLOB" ] && ok || fail "no blob at $BLOB: $(find "$S/blobs" -type f | head -5)"
cp "$BLOB" "$T/blob.saved"
chmod u+w "$BLOB" "$(dirname "$BLOB")"
python3 -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-10] ^= 1; open(sys.argv[1], "wb").write(b)' "$BLOB"
expect_fail "arbitrary software: bytes changed in the blob store" 1 "the downloaded bytes' SHA-256 is [0-9a-f]{64}; the document says $DIGEST2" \
  dl -o "$T/x2.out"
[ ! -e "$T/x2.out" ] && [ ! -e "$PART" ] && ok || fail "changed bytes left files"
cp "$T/blob.saved" "$BLOB"
expect_ok "the genuine bytes again" dl -o "$T/x2.out"
expect_fail "a component the document does not list" 1 "component 00000000-0000-0000-0000-000000000001 is not in the deployment document \(version $V2, 1 image\)" \
  "$RAMPART" device download "${DEV1[@]}" --component 00000000-0000-0000-0000-000000000001 -o "$T/x"
expect_fail "download: -o the server's CA file" 1 "is the server's CA file \(--ca-file\) .*; writing the image package there would replace it" \
  dl -o "$CA" --force
mv "$T/dev1/service/deployment.cbor" "$T/accepted.cose"
expect_fail "download with no document accepted" 1 "the device has accepted no deployment document yet" dl -o "$T/x"
expect_err "... with a hint" "run 'rampart device check-update' first"
mv "$T/accepted.cose" "$T/dev1/service/deployment.cbor"

# --- freeze: the real server's documents, short-lived --------------------------------
# A server whose documents last 10 s; the device accepts one while it is
# fresh. Once it has expired (the clock polled, no duration assumed),
# nothing acts on it, and it is refused when replayed.
stop_server
start_server "$S" --document-lifetime 10 || { finish; exit 1; }
URL=$SERVER_URL
DEV1=(--state-dir "$T/dev1" --server "$URL" --ca-file "$CA")
real
expect_ok "a short-lived document" check -o json
EXP=$(jout 'j["expires_at"]')
[ "$(jq_ 'j["expires_at"] - j["issued_at"]')" = 10 ] && ok || fail "expiry - issue: $(jq_ 'j["expires_at"] - j["issued_at"]')"
cp "$T/dev1/service/deployment.cbor" "$T/real-short.cose"
while [ "$(date +%s)" -lt "$EXP" ]; do sleep 0.5; done
expect_fail "freeze: a download with the document expired" 1 "expired at $EXP, the time is" dl -o "$T/x"
expect_err "... with a hint" "run 'rampart device check-update' first: a download needs a fresh deployment document"
hostile normal
ACCEPTED=$(doc_sha)
refused_doc "freeze: the stale document replayed" "expired at $EXP, the time is" "$T/real-short.cose"
expect_err "... with a hint" "freeze refused"

# --- documents the real server never signs: the tenant's key, other content ------------
# What a compromised service could send; the device's own checks still hold.
NOW=$(date +%s)
sign() {          # sign OUT ARGS...: a document for dev1 in acme, signed with the tenant's key
  local out=$1; shift
  "$ATK" sign --key "$T/deploy.key" --out "$out" --tenant "$ACME" --device "$D1" --expires-at $((NOW + 86400)) "$@" ||
    fail "update-attack sign $*"
}
sign "$T/doc-same.cose" --version "$V2" --image "$T/app-v1.imagepackage"
refused_doc "rollback: the version again, with other images" "version $V2 was accepted before with other images" "$T/doc-same.cose"
sign "$T/doc-future.cose" --version $((V2 + 1)) --issued-at $((NOW + 86400)) --expires-at $((NOW + 90000))
refused_doc "a document from the future" "seconds in the future" "$T/doc-future.cose"
"$ATK" sign --key "$T/deploy.key" --out "$T/doc-tenant.cose" --tenant 0123456789abcdef0123456789abcdef \
  --device "$D1" --version $((V2 + 1)) --expires-at $((NOW + 86400))
refused_doc "mix and match: another tenant's document" "is for tenant 0123456789abcdef0123456789abcdef; this device is tenant $ACME's" \
  "$T/doc-tenant.cose"
# A document that lists the right bytes under another version (a service
# that misdescribes a package): the package's signed manifest must agree.
sign "$T/doc-lies.cose" --version $((V2 + 1)) --image "$T/app-v2.imagepackage" --image-version 3
serve "$T/doc-lies.cose"
expect_ok "a document that says version 3 of the version 2 package" check
serve_image "$T/app-v2.imagepackage" "$DIGEST2"
expect_fail "the package is not what the document says" 1 "the package is component $CID, app, version 2; the document says component $CID, app, version 3" \
  dl -o "$T/x3.out"
[ ! -e "$T/x3.out" ] && [ ! -e "$PART" ] && ok || fail "a misdescribed package left files"
expect_fail "another deployment key than the pinned one" 1 "the deployment key [0-9a-f]{16}\.\.\. differs from the one pinned in .*deployment-key.pem" \
  check --deployment-key "$T/attacker.key.pub"
expect_err "... and what to do" "remove that file and provision the new key"
expect_fail "--deployment-key: no such file" 1 "nothing.pub" check --deployment-key "$T/nothing.pub"

real
server_alive "at the end"
stop_server
_hostile_stop
for s in sm1 sm2; do stop "$s"; done
finish
