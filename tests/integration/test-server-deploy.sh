#!/usr/bin/env bash
# rampart-test: per-store
# Deployments and the device's update API end to end, on SQLite and on
# PostgreSQL (integration/server-deploy-sqlite and -postgres): packages
# uploaded the real way (rampart image add), deployed with the CLI to device
# groups (one image per component, history, rollback, another tenant's
# image refused), and devices provisioned by the factory tool with a real
# rampart-secmon each, attested for a certificate, then fetching over mTLS
# (deploy-fetch: libcurl with the device certificate and secmon's Alias key)
# their signed deployment document, checked here independently of
# lib/package (python3-cbor2, python3-cryptography) with the key `rampart
# deployment-key download` gives: the three update policies, versions that
# grow with every change and never repeat lower, the expiry. Downloads:
# whole, resumed with Range, 416, ETag and If-None-Match, HEAD, and 404 for
# anything the device's document does not name. Reported state in `device
# show` and the fleet view. A slow download that keeps moving outlives the
# request deadline; one that stops reading is dropped. kill -9 during
# deployment changes leaves every deployment whole.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_DEPLOY_FETCH:?run this test through ctest}"
PY=/usr/bin/python3
export RAMPART_CONFIG_DIR=$T/config SOURCE_DATE_EPOCH=1700000000
unset XDG_CONFIG_HOME

# jcli EXPR: the Python expression EXPR of the last CLI command's JSON
# stdout (as j) must be true.
jcli() { cp "$T/out" "$T/http.body"; expect_json "$1" "$2"; }
jout() { cp "$T/out" "$T/http.body"; jq_ "$1"; }

# --- packages: apps, a real-time app, OS images ------------------------------
expect_ok "signing key" "$RAMPART" keys generate -o "$T/sign.key"
expect_ok "another tenant's signing key" "$RAMPART" keys generate -o "$T/other.key"
APP=$RAMPART_SOURCE_DIR/samples/hello
APP_CID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["ComponentId"].lower())' "$APP/app_manifest.json")
RT_CID=6d0c8f4e-1a2b-4c3d-8e9f-0a1b2c3d4e5f OS_CID=0f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9
mkdir -p "$T/rt"
sed -e "s/$APP_CID/$RT_CID/I" -e 's/"Default"/"RealTimeCapable"/' -e 's/"hello"/"hello-rt"/' \
  "$APP/app_manifest.json" >"$T/rt/app_manifest.json"
pack_app() {   # MANIFEST VERSION OUT
  expect_ok "pack $(basename "$3")" "$RAMPART" image-package pack-application --manifest "$1" --dir "$APP/approot" \
    --key "$T/sign.key" --image-version "$2" -o "$3"
}
pack_app "$APP/app_manifest.json" 1 "$T/app1.imagepackage"
pack_app "$APP/app_manifest.json" 2 "$T/app2.imagepackage"
pack_app "$T/rt/app_manifest.json" 1 "$T/rt1.imagepackage"
head -c 300000 /dev/urandom >"$T/os1.img"
head -c 12000000 /dev/urandom >"$T/os2.img"
pack_os() {    # KEY IMAGE VERSION OUT
  expect_ok "pack $(basename "$4")" "$RAMPART" image-package pack-os --key "$1" --image "$2" --component-id "$OS_CID" \
    --name rampart-os --image-version "$3" -o "$4"
}
pack_os "$T/sign.key" "$T/os1.img" 1 "$T/os1.imagepackage"
pack_os "$T/sign.key" "$T/os2.img" 2 "$T/os2.imagepackage"
pack_os "$T/other.key" "$T/os1.img" 1 "$T/other-os.imagepackage"
sha() { sha256sum "$1" | cut -d' ' -f1; }

# --- devices -----------------------------------------------------------------
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
for d in dev1 dev2 dev3; do
  expect_ok "provision $d" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/$d"
  start "sm-$d" --state-dir "$T/$d"
  expect_ok "show-identity $d" "$RAMPART" device show-identity --state-dir "$T/$d" -o json
  cp "$T/out" "$T/$d.json"
done
jfile() { $PY -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
D1=$(jfile "$T/dev1.json" device_id) D2=$(jfile "$T/dev2.json" device_id) D3=$(jfile "$T/dev3.json" device_id)
M1=$(jfile "$T/dev1.json" measurement)
export D1 D2 D3

# --- the service, two tenants -------------------------------------------------
store_setup
S=$T/srv
LIFETIME=600
start_server "$S" --document-lifetime "$LIFETIME" || { finish; exit 1; }
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
for t in acme other; do
  call "tenant $t" 201 POST /v1/tenants "$(body name=$t allow_development:=true)"
  call "$t: a product" 201 POST "/v1/tenants/$t/products" "$(body name=gadget)"
  call "$t trusts the factory's CA" 201 POST "/v1/tenants/$t/manufacturers" "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
  call "$t: the devices' software is a release" 201 POST "/v1/tenants/$t/releases" \
    "$(body kind=os name=OS version=1 measurement="$M1")"
done
call "claim dev1 into gadget/Field Test" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1" device_group="gadget/Field Test")"
call "claim dev2 into gadget/Production" 201 POST /v1/tenants/acme/devices "$(body device_id="$D2" device_group="gadget/Production")"
call "other claims dev3" 201 POST /v1/tenants/other/devices "$(body device_id="$D3" device_group="gadget/Field Test")"

# restart [ARGS...]: the server again on the same data dir and store (a new
# port: the CLI's profile follows it).
login() {
  expect_ok "login" "$RAMPART" login --server "$SERVER_URL" --ca-file "$SERVER_CA" --token-file "$ADMIN_TOKEN_FILE"
  expect_ok "select acme" "$RAMPART" tenant select acme
}
restart() { start_server "$S" --document-lifetime "$LIFETIME" "$@" && login; }
login
OTHER=(--tenant other)

# --- images, the real upload ----------------------------------------------------
expect_ok "acme trusts the signing key" "$RAMPART" signing-key add --key-pub "$T/sign.key.pub"
expect_ok "other trusts its own" "$RAMPART" signing-key add --key-pub "$T/other.key.pub" "${OTHER[@]}"
declare -A IMG=() DIG=()
add_image() {  # NAME PKG [ARGS...]
  local name=$1 pkg=$2; shift 2
  expect_ok "image add $name" "$RAMPART" image add "$pkg" -o json "$@"
  IMG[$name]=$(jout 'j["id"]')
  DIG[$name]=$(jout 'j["digest"]')
  [ "${DIG[$name]}" = "$(sha "$pkg")" ] && ok || fail "image $name: the digest is not the package's SHA-256"
}
for n in app1 app2 rt1 os1 os2; do add_image "$n" "$T/$n.imagepackage"; done
add_image other-os "$T/other-os.imagepackage" "${OTHER[@]}"

# --- deployments ----------------------------------------------------------------
G=(--product gadget --device-group "Field Test")
expect_ok "deployment create (ids after one --images)" "$RAMPART" deployment create "${G[@]}" \
  --images "${IMG[app1]}" "${IMG[rt1]}" "${IMG[os1]}" -o json
jcli "the first deployment: three images, current" 'j["current"] and len(j["images"]) == 3 and j["rollback_of"] is None and j["product"] == "gadget" and j["device_group"] == "Field Test" and j["created_by"] == "admin"'
DEP1=$(jout 'j["id"]') SEQ1=$(jout 'j["seq"]') IDS1=$(jout '" ".join(i["id"] for i in j["images"])')
export IDS1
export APP_CID RT_CID OS_CID
jcli "its images, by component" 'sorted(i["component_id"] for i in j["images"]) == sorted([E("APP_CID"), E("RT_CID"), E("OS_CID")]) and all(len(i["digest"]) == 64 and i["size"] > 0 for i in j["images"])'
expect_ok "deployment create (--images repeated, digests)" "$RAMPART" deployment create "${G[@]}" \
  --images "${DIG[app2]}" --images "${DIG[rt1]}" --images "${IMG[os1]}" -o json
DEP2=$(jout 'j["id"]') SEQ2=$(jout 'j["seq"]')
export DEP1 DEP2 SEQ2
[ "$SEQ2" -gt "$SEQ1" ] && ok || fail "a later deployment's seq $SEQ2 is not above $SEQ1"
expect_fail "two images of one component" 1 "duplicate_component" \
  "$RAMPART" deployment create "${G[@]}" --images "${IMG[app1]}" "${IMG[app2]}"
expect_fail "another tenant's image" 1 "not_found" "$RAMPART" deployment create "${G[@]}" --images "${IMG[other-os]}"
expect_fail "an image id that is not one" 2 "is not an image id" "$RAMPART" deployment create "${G[@]}" --images nope
expect_fail "no --images" 2 "missing --images" "$RAMPART" deployment create "${G[@]}"
expect_fail "no --product" 2 "missing --product" "$RAMPART" deployment create --device-group "Field Test" --images "${IMG[app1]}"
expect_fail "a group that does not exist" 1 "not_found" "$RAMPART" deployment create --product gadget \
  --device-group Nope --images "${IMG[app1]}"
refused "API: an image that does not exist" 404 not_found POST \
  "/v1/tenants/acme/products/gadget/device-groups/Field%20Test/deployments" "$(body images:='["'"$(printf '%032d' 0)"'"]')"
refused "API: images not a list" 400 bad_request POST \
  "/v1/tenants/acme/products/gadget/device-groups/Field%20Test/deployments" "$(body images=x)"
call "refusals changed nothing" 200 GET "/v1/tenants/acme/products/gadget/device-groups/Field%20Test/deployments"
expect_json "two deployments, the second current" 'len(j["deployments"]) == 2 and j["deployments"][0]["id"] == E("DEP2") and j["deployments"][0]["current"] and not j["deployments"][1]["current"]'

expect_ok "deployment list" "$RAMPART" deployment list "${G[@]}"
expect_out "the table names the current one" "^$DEP2 +$SEQ2 +yes +3 "
expect_ok "deployment show" "$RAMPART" deployment show "$DEP1" --device-group "gadget/Field Test"
expect_out "show lists its images" "^$APP_CID +app +hello +1 +${IMG[app1]}"
expect_ok "rollback to the one before" "$RAMPART" deployment rollback "${G[@]}" -o json
jcli "rollback: a new deployment with DEP1's images" 'j["rollback_of"] == E("DEP1") and j["current"] and j["seq"] > int(E("SEQ2")) and sorted(i["id"] for i in j["images"]) == sorted(E("IDS1").split())'
DEP3=$(jout 'j["id"]'); export DEP3
expect_ok "rollback --to DEP2" "$RAMPART" deployment rollback "${G[@]}" --to "$DEP2" -o json
jcli "--to names the deployment" 'j["rollback_of"] == E("DEP2")'
DEP4=$(jout 'j["id"]'); export DEP4
expect_ok "the history" "$RAMPART" deployment list "${G[@]}" -o json
jcli "four deployments, newest first, one current" '[d["id"] for d in j["deployments"]] == [E("DEP4"), E("DEP3"), E("DEP2"), E("DEP1")] and [d["current"] for d in j["deployments"]] == [True, False, False, False]'
expect_fail "rollback to another group's deployment" 1 "not_found" \
  "$RAMPART" deployment rollback --product gadget --device-group Production --to "$DEP1"
expect_fail "rollback with no deployment" 1 "no current deployment" \
  "$RAMPART" deployment rollback --product gadget --device-group Development
call "the audit names each change" 200 GET "/v1/tenants/acme/audit?limit=20"
expect_json "deployment.create and deployment.rollback audited" 'sum(e["action"] == "deployment.create" for e in j["audit"]) == 2 and sum(e["action"] == "deployment.rollback" for e in j["audit"]) == 2'

# --- the deployment key --------------------------------------------------------
expect_ok "deployment-key download" "$RAMPART" deployment-key download -o "$T/acme-deploy.pub"
expect_out "it names the key id" "key id [0-9a-f]{64}"
openssl pkey -pubin -in "$T/acme-deploy.pub" -noout -text 2>/dev/null | grep -q 'NIST CURVE: P-256' && ok ||
  fail "the deployment key is not a P-256 public key"
expect_ok "the same key again" "$RAMPART" deployment-key download -o "$T/acme-deploy.pub"
expect_ok "other's deployment key" "$RAMPART" deployment-key download -o "$T/other-deploy.pub" "${OTHER[@]}"
cmp -s "$T/acme-deploy.pub" "$T/other-deploy.pub" && fail "two tenants share a deployment key" || ok
expect_fail "over a file of another kind" 1 "already exists and is not a PEM public key" \
  "$RAMPART" deployment-key download -o "$T/os1.img"

# --- devices attest: a certificate, and the deployment key ---------------------
attest() {   # NAME DEVICE_ID TENANT_KEY_FILE
  API_TOKEN= call "a nonce for $1" 201 POST /v1/attest/nonce "$(body device_id="$2")"
  local nonce
  nonce=$(jq_ 'j["nonce"]')
  expect_ok "evidence from $1" "$RAMPART" device attest --state-dir "$T/$1" --nonce "$nonce" -o "$T/$1.ev" --force
  API_TOKEN= call "$1 attests" 200 POST /v1/attest "$(body nonce="$nonce" evidence="$(base64 -w0 "$T/$1.ev")")"
  jq_ 'j["certificate"]' >"$T/$1.pem"
  jq_ 'j["deployment_key"]' >"$T/$1.dk.pem"
  cmp -s <(openssl pkey -pubin -in "$T/$1.dk.pem") <(openssl pkey -pubin -in "$3") && ok ||
    fail "$1: the attest answer's deployment_key is not its tenant's"
}
attest dev1 "$D1" "$T/acme-deploy.pub"
attest dev2 "$D2" "$T/acme-deploy.pub"
attest dev3 "$D3" "$T/other-deploy.pub"

# fetch DEV PATH [ARGS...]: deploy-fetch as device DEV; the body in
# $T/f.body, headers in $T/f.hdr, the status in FST.
fetch() {
  local dev=$1 path=$2; shift 2
  FST=
  if "$RAMPART_DEPLOY_FETCH" --socket "$T/$dev/secmon.sock" --ca "$SERVER_CA" --cert "$T/$dev.pem" -o "$T/f.body" \
      -D "$T/f.hdr" "$SERVER_URL$path" "$@" 2>"$T/f.err"; then
    FST=$(sed -n 's/^http: \([0-9]*\) .*/\1/p' "$T/f.err" | tail -n 1)
  else
    FST=failed
  fi
}
# hdr NAME: the last response's header NAME.
hdr() { tr -d '\r' <"$T/f.hdr" | sed -n "s/^$1: //Ip" | tail -n 1; }

# doc DEV KEY: GET /v1/device/deployment as DEV, checked against KEY by
# deploy_check.py (not lib/package), its payload as JSON in $T/http.body;
# DOCV the version.
cat >"$T/deploy_check.py" <<'PYEOF'
import json, sys
import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
data = open(sys.argv[1], "rb").read()
msg = cbor2.loads(data)
assert isinstance(msg, cbor2.CBORTag) and msg.tag == 18, "not a tagged COSE_Sign1"
prot, unprot, payload, sig = msg.value
assert unprot == {} and len(sig) == 64
hdr = cbor2.loads(prot)
assert hdr[1] == -7 and hdr[3] == "application/vnd.rampart.deployment+cbor", hdr
pub = serialization.load_pem_public_key(open(sys.argv[2], "rb").read())
tbs = cbor2.dumps(["Signature1", prot, b"", payload])
pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")), tbs,
           ec.ECDSA(hashes.SHA256()))
d = cbor2.loads(payload)
assert cbor2.dumps(d, canonical=True) == payload, "the payload is not in deterministic form"
for im in d["images"]:
    im["digest"] = im["digest"].hex()
json.dump(d, sys.stdout)
PYEOF
doc() {
  fetch "$1" /v1/device/deployment
  if [ "$FST" != 200 ]; then fail "$1: GET /v1/device/deployment answered '$FST': $(cat "$T/f.body" "$T/f.err")"; return; fi
  [ "$(hdr Content-Type)" = application/cose ] && ok || fail "$1: the document's type is '$(hdr Content-Type)'"
  if $PY "$T/deploy_check.py" "$T/f.body" "$2" >"$T/http.body" 2>"$T/check.err"; then ok; else
    fail "$1: the document does not verify with the deployment key: $(tail -n 2 "$T/check.err")"; return; fi
  cp "$T/f.body" "$T/$1.doc"
  DOCV=$(jq_ 'j["version"]')
}

# --- the document: UpdateAll ---------------------------------------------------
NOW=$(date +%s)
export NOW LIFETIME ACME_ID
call "acme's id" 200 GET /v1/tenants/acme
ACME_ID=$(jq_ 'j["id"]')
doc dev1 "$T/acme-deploy.pub"
expect_json "dev1's document: its device, tenant, deployment" 'j["format"] == 1 and j["device"] == E("D1") and j["tenant"] == E("ACME_ID") and j["deployment"] == E("DEP4") and j["policy"] == "UpdateAll" and j["manages"] == ["app", "rt-app", "os"]'
expect_json "UpdateAll: the app, the real-time app and the OS image" 'sorted((i["component-id"], i["type"]) for i in j["images"]) == sorted([(E("APP_CID"), "app"), (E("RT_CID"), "rt-app"), (E("OS_CID"), "os")])'
expect_json "the expiry is issued-at + --document-lifetime" 'j["expires-at"] - j["issued-at"] == int(E("LIFETIME")) and abs(j["issued-at"] - int(E("NOW"))) < 3600'
expect_json "each image: the package's digest, size and URL" 'all(i["url"] == "/v1/device/images/" + i["digest"] for i in j["images"])'
APP2_D=${DIG[app2]} OS1_D=${DIG[os1]} RT1_D=${DIG[rt1]} OS2_D=${DIG[os2]} APP1_D=${DIG[app1]}
export APP2_D OS1_D RT1_D OS2_D APP1_D
expect_json "DEP4 (DEP2's images): app2, rt1, os1" 'sorted(i["digest"] for i in j["images"]) == sorted([E("APP2_D"), E("RT1_D"), E("OS1_D")]) and {i["type"]: i["version"] for i in j["images"]} == {"app": 2, "rt-app": 1, "os": 1}'
V0=$DOCV
$PY "$T/deploy_check.py" "$T/dev1.doc" "$T/other-deploy.pub" >/dev/null 2>&1 && fail "other's key verifies acme's document" || ok
doc dev1 "$T/acme-deploy.pub"
[ "$DOCV" = "$V0" ] && ok || fail "the version changed ($V0 -> $DOCV) without a change"
doc dev2 "$T/acme-deploy.pub"
expect_json "dev2's group has no deployment: no images" 'j["deployment"] is None and j["images"] == [] and j["device"] == E("D2")'
doc dev3 "$T/other-deploy.pub"
expect_json "dev3's document is other's" 'j["tenant"] != E("ACME_ID") and j["images"] == []'

# --- downloads ------------------------------------------------------------------
IMGURL=/v1/device/images/$OS1_D
fetch dev1 "$IMGURL"
[ "$FST" = 200 ] && ok || fail "GET the OS package: '$FST'"
cmp -s "$T/f.body" "$T/os1.imagepackage" && ok || fail "the download is not the uploaded package"
[ "$(hdr ETag)" = "\"$OS1_D\"" ] && ok || fail "ETag is '$(hdr ETag)'"
[ "$(hdr Accept-Ranges)" = bytes ] && ok || fail "Accept-Ranges is '$(hdr Accept-Ranges)'"
[ "$(hdr Content-Length)" = "$(stat -c %s "$T/os1.imagepackage")" ] && ok || fail "Content-Length is '$(hdr Content-Length)'"
grep -qi '^transfer-encoding' "$T/f.hdr" && fail "the download is chunked" || ok
SIZE=$(stat -c %s "$T/os1.imagepackage") HALF=$((SIZE / 2))
fetch dev1 "$IMGURL" -H "Range: bytes=0-$((HALF - 1))"
[ "$FST" = 206 ] && ok || fail "Range 0-$((HALF - 1)): '$FST'"
[ "$(hdr Content-Range)" = "bytes 0-$((HALF - 1))/$SIZE" ] && ok || fail "Content-Range is '$(hdr Content-Range)'"
cp "$T/f.body" "$T/part1"
fetch dev1 "$IMGURL" -H "Range: bytes=$HALF-" -H "If-Range: \"$OS1_D\""
[ "$FST" = 206 ] && ok || fail "the resume: '$FST'"
cat "$T/part1" "$T/f.body" >"$T/resumed"
[ "$(sha "$T/resumed")" = "$OS1_D" ] && ok || fail "the resumed download does not hash to the digest"
fetch dev1 "$IMGURL" -H "Range: bytes=-100"
[ "$FST" = 206 ] && [ "$(stat -c %s "$T/f.body")" = 100 ] && cmp -s "$T/f.body" <(tail -c 100 "$T/os1.imagepackage") && ok ||
  fail "the last 100 bytes: '$FST'"
fetch dev1 "$IMGURL" -H "Range: bytes=$SIZE-"
[ "$FST" = 416 ] && [ "$(hdr Content-Range)" = "bytes */$SIZE" ] && ok || fail "a range past the end: '$FST' '$(hdr Content-Range)'"
fetch dev1 "$IMGURL" -H "Range: bytes=$HALF-" -H 'If-Range: "another"'
[ "$FST" = 200 ] && cmp -s "$T/f.body" "$T/os1.imagepackage" && ok || fail "If-Range of another entity: '$FST', not the whole"
fetch dev1 "$IMGURL" -H "If-None-Match: \"$OS1_D\""
[ "$FST" = 304 ] && [ ! -s "$T/f.body" ] && ok || fail "If-None-Match with its ETag: '$FST'"
fetch dev1 "$IMGURL" -H 'If-None-Match: "another"'
[ "$FST" = 200 ] && ok || fail "If-None-Match of another: '$FST'"
fetch dev1 "$IMGURL" -X HEAD
[ "$FST" = 200 ] && [ "$(hdr Content-Length)" = "$SIZE" ] && [ ! -s "$T/f.body" ] && ok || fail "HEAD: '$FST' '$(hdr Content-Length)'"
fetch dev1 "$IMGURL" "$SERVER_URL/v1/device/images/$APP2_D"
[ "$FST" = 200 ] && cmp -s "$T/f.body" <(cat "$T/os1.imagepackage" "$T/app2.imagepackage") && ok ||
  fail "two downloads on one connection: '$FST'"
[ "$(grep 'route=/v1/device/images/{digest}' "$SERVER_LOG" | tail -n 2 | sed 's/.* remote=\([^ ]*\) .*/\1/' | sort -u | wc -l)" = 1 ] &&
  ok || fail "the two downloads did not share the connection (keep-alive)"
for d in "$OS2_D:an image of the tenant in no deployment of dev1's group" "$APP1_D:an image of an earlier deployment"; do
  fetch dev1 "/v1/device/images/${d%%:*}"
  [ "$FST" = 404 ] && ok || fail "${d#*:}: '$FST'"
done
fetch dev1 "/v1/device/images/${DIG[other-os]}"
[ "$FST" = 404 ] && ok || fail "another tenant's image: '$FST'"
fetch dev3 "$IMGURL"
[ "$FST" = 404 ] && ok || fail "another tenant's device gets acme's image: '$FST'"
fetch dev2 "$IMGURL"
[ "$FST" = 404 ] && ok || fail "a device whose group does not deploy it: '$FST'"
fetch dev1 "/v1/device/images/nothex"
[ "$FST" = 404 ] && ok || fail "a digest that is not one: '$FST'"
API_TOKEN= refused "no client certificate" 401 unauthenticated GET "$IMGURL"
API_TOKEN= refused "no client certificate, the document" 401 unauthenticated GET /v1/device/deployment

# --- versions grow with every change, never repeat lower ------------------------
versions=("$V0")
grows() {   # DESC
  doc dev1 "$T/acme-deploy.pub"
  local prev=${versions[-1]}
  if [ "$DOCV" -gt "$prev" ]; then ok; else fail "$1: the version went from $prev to $DOCV"; fi
  versions+=("$DOCV")
}
expect_ok "deploy os2" "$RAMPART" deployment create "${G[@]}" --images "${IMG[app2]}" "${IMG[rt1]}" "${IMG[os2]}"
grows "a deployment"
expect_json "the new OS image" 'any(i["digest"] == E("OS2_D") for i in j["images"])'
fetch dev1 "$IMGURL"
[ "$FST" = 404 ] && ok || fail "the replaced OS image is still offered: '$FST'"
expect_ok "rollback" "$RAMPART" deployment rollback "${G[@]}"
grows "a rollback"
expect_json "the rolled-back OS image again" 'any(i["digest"] == E("OS1_D") for i in j["images"])'
expect_ok "policy No3rdPartyAppUpdates" "$RAMPART" device-group update "Field Test" --product gadget \
  --update-policy No3rdPartyAppUpdates
grows "a policy change"
expect_json "No3rdPartyAppUpdates: the OS image only" 'j["policy"] == "No3rdPartyAppUpdates" and j["manages"] == ["os"] and [i["type"] for i in j["images"]] == ["os"]'
fetch dev1 "/v1/device/images/$APP2_D"
[ "$FST" = 404 ] && ok || fail "an app under No3rdPartyAppUpdates: '$FST'"
fetch dev1 "$IMGURL"
[ "$FST" = 200 ] && ok || fail "the OS image under No3rdPartyAppUpdates: '$FST'"
expect_ok "the same policy again" "$RAMPART" device-group update "Field Test" --product gadget \
  --update-policy No3rdPartyAppUpdates
doc dev1 "$T/acme-deploy.pub"
[ "$DOCV" = "${versions[-1]}" ] && ok || fail "setting the policy the group has changed the version"
expect_ok "policy NoUpdates" "$RAMPART" device-group update "Field Test" --product gadget --update-policy NoUpdates
grows "another policy change"
expect_json "NoUpdates: nothing managed, no images" 'j["policy"] == "NoUpdates" and j["manages"] == [] and j["images"] == []'
fetch dev1 "$IMGURL"
[ "$FST" = 404 ] && ok || fail "a download under NoUpdates: '$FST'"
expect_ok "policy UpdateAll" "$RAMPART" device-group update "Field Test" --product gadget --update-policy UpdateAll
grows "back to UpdateAll"
expect_ok "move dev1 to Production (--product, a plain group)" "$RAMPART" device update "$D1" --product gadget \
  --device-group Production
grows "a move"
expect_json "in Production: no deployment" 'j["deployment"] is None and j["images"] == []'
expect_ok "move dev1 back (--device-group P/G)" "$RAMPART" device update "$D1" --device-group "gadget/Field Test"
grows "a move back"
expect_json "back in Field Test: its deployment again" 'j["deployment"] is not None and len(j["images"]) == 3'

# --- what the device reports ------------------------------------------------------
state() {   # DEV BODY STATUS
  fetch "$1" /v1/device/state -X POST --data "$2"
  [ "$FST" = "$3" ] && ok || fail "$1 reports state: '$FST', expected $3: $(cat "$T/f.body")"
}
expect_ok "dev1 before any report" "$RAMPART" device show "$D1" -o json
jcli "no report yet: up_to_date null" 'j["up_to_date"] is None and j["reported_at"] is None and j["components"] == [] and j["deployment"] is not None'
comps=$($PY - "$T/dev1.doc" <<'PYEOF'
import json, sys, cbor2
d = cbor2.loads(cbor2.loads(open(sys.argv[1], "rb").read()).value[2])
print(json.dumps([{"component_id": i["component-id"], "version": i["version"], "digest": i["digest"].hex(),
                   "state": "installed"} for i in d["images"]]))
PYEOF
)
state dev1 "{\"doc_version\": $DOCV, \"components\": $comps}" 204
export DOCV
expect_ok "device show" "$RAMPART" device show "$D1" -o json
jcli "up to date, with its components" 'j["up_to_date"] is True and j["reported_doc_version"] == int(E("DOCV")) and len(j["components"]) == 3 and all(c["state"] == "installed" for c in j["components"])'
expect_ok "device show (table)" "$RAMPART" device show "$D1"
expect_out "the table says so" "^Up to date: +yes"
expect_out "and lists the components" "^$OS_CID +1 +installed +$OS1_D"
expect_ok "device list (the fleet view)" "$RAMPART" device list
expect_out "dev1 up to date" "^$D1 .*yes$"
expect_out "dev2 never reported" "^$D2 .* -$"
state dev1 "{\"doc_version\": $DOCV, \"components\": [{\"component_id\": \"$OS_CID\", \"version\": 1, \"digest\": null, \"state\": \"failed\", \"detail\": \"the image did not verify\"}]}" 204
expect_ok "device show after a failure" "$RAMPART" device show "$D1" -o json
jcli "a failed component: not up to date" 'j["up_to_date"] is False and j["components"][0]["state"] == "failed" and j["components"][0]["detail"] == "the image did not verify" and len(j["components"]) == 1'
state dev1 "{\"doc_version\": $((DOCV - 1)), \"components\": []}" 204
expect_ok "device show after an older version" "$RAMPART" device show "$D1" -o json
jcli "an older document: not up to date" 'j["up_to_date"] is False and j["components"] == []'
state dev1 "{\"doc_version\": $DOCV, \"components\": $comps}" 204
expect_ok "deploy again" "$RAMPART" deployment create "${G[@]}" --images "${IMG[app1]}"
grows "one more deployment"
expect_ok "device list after a new deployment" "$RAMPART" device list -o json
jcli "dev1 is behind the new deployment" '[d["up_to_date"] for d in j["devices"] if d["id"] == E("D1")] == [False]'
state dev1 '{"components": [{"component_id": "nope", "state": "installed"}]}' 400
state dev1 "{\"components\": [{\"component_id\": \"$OS_CID\", \"state\": \"installing\"}]}" 400
state dev1 "{\"components\": [{\"component_id\": \"$OS_CID\", \"state\": \"installed\"}, {\"component_id\": \"$OS_CID\", \"state\": \"failed\"}]}" 400
state dev1 "{\"components\": [{\"component_id\": \"$OS_CID\", \"state\": \"installed\", \"extra\": 1}]}" 400
state dev1 '{"components": 5}' 400
state dev1 "{\"components\": $($PY -c 'import json; print(json.dumps([{"component_id": "%08x-0000-4000-8000-000000000000" % i, "state": "installed"} for i in range(65)]))')}" 400
call "release dev1" 204 DELETE "/v1/tenants/acme/devices/$D1"
[ "$(store_sql "$S" "SELECT COUNT(*) FROM device_components WHERE device_id = '$D1'" | tr -d ' ')" = 0 ] && ok ||
  fail "the released device's reported components are still there"
fetch dev1 /v1/device/deployment
[ "$FST" = 403 ] && ok || fail "a released device's document: '$FST'"
call "claim dev1 again" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1" device_group="gadget/Field Test")"
grows "a release and a new claim"

# --- streaming: a slow download outlives the request deadline, a stalled one
# --- is dropped after the idle timeout ---------------------------------------
stop_server
restart --request-timeout 2 --idle-timeout 2 || { finish; exit 1; }
expect_ok "deploy the large OS image" "$RAMPART" deployment create "${G[@]}" --images "${IMG[os2]}"
fetch dev1 "/v1/device/images/$OS2_D" --limit-rate 3000000
[ "$FST" = 200 ] && [ "$(sha "$T/f.body")" = "$OS2_D" ] && ok ||
  fail "a download slower than --request-timeout and --idle-timeout was cut off: '$FST' $(cat "$T/f.err")"
grep -q "event=stream .*outcome=complete bytes=$(stat -c %s "$T/os2.imagepackage")" "$SERVER_LOG" && ok ||
  fail "the server did not log the complete download"
fetch dev1 "/v1/device/images/$OS2_D" --rcvbuf 32768 --pause-after 100000 --pause-for 8
[ "$FST" = failed ] && grep -qiE "transfer closed|connection|reset|partial" "$T/f.err" && ok ||
  fail "a client that stopped reading for 8 s was not dropped after --idle-timeout 2: '$FST' $(cat "$T/f.err")"
grep -q 'event=stream .*outcome=aborted' "$SERVER_LOG" && ok || fail "the server did not log the dropped download"
fetch dev1 "/v1/device/images/$OS2_D" -H "Range: bytes=11000000-"
[ "$FST" = 206 ] && cmp -s "$T/f.body" <(tail -c +11000001 "$T/os2.imagepackage") && ok ||
  fail "the server serves after a dropped download: '$FST'"
server_alive "after the streaming tests"

# --- a certificate that expires while its connection is open ---------------------
# The chain is checked once per connection, but not past the certificate's
# notAfter: the next request after it is refused on the same connection.
stop_server
restart --cert-lifetime 6 || { finish; exit 1; }
attest dev2 "$D2" "$T/acme-deploy.pub"
fetch dev2 /v1/device/deployment --delay 8 "$SERVER_URL/v1/device/deployment"
[ "$(grep -c '^http: ' "$T/f.err")" = 2 ] && [ "$(sed -n 's/^http: \([0-9]*\) .*/\1/p' "$T/f.err" | tr '\n' ' ')" = "200 401 " ] && ok ||
  fail "a certificate that expired during its connection: $(cat "$T/f.err")"
[ "$(grep 'route=/v1/device/deployment' "$SERVER_LOG" | tail -n 2 | sed 's/.* remote=\([^ ]*\) .*/\1/' | sort -u | wc -l)" = 1 ] &&
  ok || fail "the two requests did not share the connection"

stop_server
restart || { finish; exit 1; }

# --- kill -9 during deployment changes ---------------------------------------------
CRASH="/v1/tenants/acme/products/gadget/device-groups/Field%20Test%20OS%20Evaluation/deployments"
deploy_loop() {
  local i
  for ((i = 0; i < 400; i++)); do
    http_req POST "$CRASH" "$(body images:="[\"${IMG[app1]}\", \"${IMG[rt1]}\", \"${IMG[os1]}\"]")"
    case "$HTTP_STATUS" in 201) ;; *) return 0 ;; esac
  done
}
deploy_loop &
LOOP=$!
for ((i = 0; i < 600; i++)); do
  n=$(store_sql "$S" "SELECT COUNT(*) FROM deployments d JOIN device_groups g ON g.id = d.device_group_id WHERE g.name = 'Field Test OS Evaluation'" | tr -d ' ')
  [ "${n:-0}" -ge 5 ] && break
  sleep 0.1
done
kill -KILL "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
unset "_SRV_LOG[$SERVER_PID]"
wait "$LOOP" || true
[ "${n:-0}" -ge 5 ] && ok || fail "the deployment loop made no deployments before the kill"
restart || { finish; exit 1; }
check_store() {
  local bad
  bad=$(store_sql "$S" "SELECT COUNT(*) FROM deployments d WHERE (SELECT COUNT(*) FROM deployment_images di WHERE di.deployment_id = d.id) <> 3 AND d.device_group_id IN (SELECT id FROM device_groups WHERE name = 'Field Test OS Evaluation')" | tr -d ' ')
  [ "$bad" = 0 ] && ok || fail "after kill -9: $bad deployments without their 3 images"
  bad=$(store_sql "$S" "SELECT COUNT(*) FROM deployment_images di LEFT JOIN images i ON i.id = di.image_id WHERE i.id IS NULL" | tr -d ' ')
  [ "$bad" = 0 ] && ok || fail "after kill -9: $bad deployment images refer to no image"
  bad=$(store_sql "$S" "SELECT COUNT(*) FROM device_groups g LEFT JOIN deployments d ON d.id = g.current_deployment_id AND d.device_group_id = g.id WHERE g.current_deployment_id IS NOT NULL AND d.id IS NULL" | tr -d ' ')
  [ "$bad" = 0 ] && ok || fail "after kill -9: $bad groups' current deployment does not exist"
  bad=$(store_sql "$S" "SELECT COUNT(*) FROM deployments d JOIN tenants t ON t.id = d.tenant_id WHERE d.seq > t.doc_seq" | tr -d ' ')
  [ "$bad" = 0 ] && ok || fail "after kill -9: a deployment's seq is above its tenant's counter"
  local dg
  for dg in $(store_sql "$S" "SELECT DISTINCT i.digest FROM deployment_images di JOIN images i ON i.id = di.image_id"); do
    [ -f "$S/blobs/blobs/${dg:0:2}/$dg" ] || { fail "after kill -9: the blob of deployed image $dg is missing"; return; }
  done
  ok
}
check_store
call "the group's current deployment after the crash" 200 GET "$CRASH"
expect_json "the newest is current, with its 3 images" 'j["deployments"][0]["current"] and len(j["deployments"][0]["images"]) == 3'
expect_ok "dev1 moves to the crash test's group" "$RAMPART" device update "$D1" --product gadget \
  --device-group "Field Test OS Evaluation"
grows "a move after the crash"
expect_json "its document names the current deployment's 3 images" 'len(j["images"]) == 3'
stop_server
finish
