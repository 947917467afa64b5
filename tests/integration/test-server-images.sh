#!/usr/bin/env bash
# Image-signing keys, uploads and images against a real rampart-server over
# real TLS, once on SQLite and once on PostgreSQL (integration/server-images-
# sqlite and -postgres): keys of both algorithms and what is refused as one;
# packages uploaded in pieces through the CLI and through raw API calls,
# verified by the server and kept in its blob store by digest; the same
# bytes twice are one image; a package signed by a key the tenant does not
# trust, a tampered image byte, an upload cut short (and a request cut off
# mid-body), oversized, at the wrong offset or past its size are refused,
# and none becomes an image; another tenant sees nothing; a Reader uploads
# nothing; OS images take the same path; 20 MiB in 21 pieces; the CLI
# resumes after a connection cut mid-piece and waits out 429s; abandoned
# uploads are dropped at start. docs/api.md ("Images") is what it checks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_OS_PACKAGE_TOOL:?run this test through ctest}"

store_setup
D=$T/srv
start_server "$D" --rate 100000 --burst 100000 || { finish; exit 1; }
ADMIN=$(cat "$ADMIN_TOKEN_FILE")
API_TOKEN=$ADMIN
CHUNK=1048576                   # --max-body's default: the server's chunk_size
export RAMPART_CONFIG_DIR=$T/cfg SOURCE_DATE_EPOCH=1700000000

sha() { sha256sum "$1" | cut -d' ' -f1; }
key_id() { "$RAMPART" keys show "$1" -o json | python3 -c 'import json, sys; print(json.load(sys.stdin)["key_id"])'; }
# expect_status DESC WANT / expect_error DESC STATUS CODE: the last answer's.
expect_status() {
  if [ "$HTTP_STATUS" = "$2" ]; then ok; else
    fail "$1: answered '$HTTP_STATUS', expected $2: $(head -c 600 "$T/http.body") $(cat "$T/http.err")"; fi
}
expect_error() {
  if [ "$HTTP_STATUS" = "$2" ] && python3 -c '
import json, sys
j = json.load(open(sys.argv[1])); e = j["error"]
assert set(j) == {"error"} and e["code"] == sys.argv[2] and len(e["message"]) > 10' "$T/http.body" "$3" 2>/dev/null
  then ok; else fail "$1: answered '$HTTP_STATUS' $(head -c 600 "$T/http.body"), expected $2 $3"; fi
}
# put_piece UPLOAD OFFSET FILE START LEN [CONTENT_TYPE]: PUT bytes
# START..START+LEN of FILE as the piece at ?offset=OFFSET (tenant $TEN).
put_piece() {
  local ct=${6:-application/octet-stream}
  dd if="$3" of="$T/piece" bs=1M iflag=skip_bytes,count_bytes skip="$4" count="$5" status=none
  HTTP_STATUS=$(curl -sS -g --max-time 60 --cacert "$SERVER_CA" -X PUT -H "Authorization: Bearer $API_TOKEN" \
    -H "Content-Type: $ct" --data-binary @"$T/piece" -D "$T/http.headers" -o "$T/http.body" -w '%{http_code}' \
    "$SERVER_URL/v1/tenants/${TEN:-acme}/uploads/$1?offset=$2" 2>"$T/http.err") || true
}
# upload_all FILE [UP_TO]: a new upload of FILE (its whole size declared),
# the bytes up to UP_TO (default all) sent in pieces of CHUNK; UP its id.
upload_all() {
  local file=$1 size off=0 n end
  size=$(stat -c %s "$file"); end=${2:-$size}
  call "upload $(basename "$file"): create" 201 POST "/v1/tenants/${TEN:-acme}/uploads" "{\"size\": $size}"
  UP=$(jq_ 'j["id"]')
  while [ "$off" -lt "$end" ]; do
    n=$((end - off < CHUNK ? end - off : CHUNK))
    put_piece "$UP" "$off" "$file" "$off" "$n"
    expect_status "upload $(basename "$file"): the piece at $off" 200
    off=$((off + n))
  done
}
# received UPLOAD: the upload's received count, as GET says.
received() { http_req GET "/v1/tenants/${TEN:-acme}/uploads/$1"; jq_ 'j["received"]'; }
images_count() { store_sql "$D" "SELECT COUNT(*) FROM images"; }

# --- the blob store ----------------------------------------------------------
grep -q "event=ready .* blob_store=dir:$D/blobs " "$SERVER_LOG" && ok || fail "the ready line names no blob store: $(grep event=ready "$SERVER_LOG")"
[ "$(stat -c %a "$D/blobs")" = 700 ] && [ -d "$D/blobs/blobs" ] && [ -d "$D/blobs/staging" ] && ok ||
  fail "the blob store directory: $(ls -la "$D/blobs" 2>&1)"

# --- tenants, users, tokens --------------------------------------------------
call "create tenant acme" 201 POST /v1/tenants "$(body name=acme)"
call "create tenant other" 201 POST /v1/tenants "$(body name=other)"
for u in alice:Administrator bob:Contributor carol:Reader; do
  call "add ${u%%:*}" 201 POST /v1/tenants/acme/users "$(body name="${u%%:*}" role="${u#*:}")"
done
call "olga in other" 201 POST /v1/tenants/other/users "$(body name=olga role=Administrator)"
token_for() {   # token_for TENANT USER VAR: a new token of USER into VAR and into $T/USER.token
  call "a token for $2" 201 POST "/v1/tenants/$1/users/$2/tokens" "$(body label="$2's")"
  printf -v "$3" '%s' "$(jq_ 'j["token"]')"
  (umask 077; jq_ 'j["token"]' >"$T/$2.token")
}
token_for acme alice ALICE
token_for acme bob BOB
token_for acme carol CAROL
token_for other olga OLGA
# rp ARGS: the CLI as USER_TOKEN's user (default alice) in TENANT (default acme).
rp() { "$RAMPART" "$@" --server "${URL:-$SERVER_URL}" --ca-file "$SERVER_CA" --token-file "$T/${AS:-alice}.token" \
         --tenant "${TEN:-acme}"; }

# --- keys and packages -------------------------------------------------------
APP=$RAMPART_SOURCE_DIR/samples/hello
for k in es:es256 ed:ed25519 rogue:es256; do
  "$RAMPART" keys generate -o "$T/${k%%:*}.key" --type "${k#*:}" >/dev/null
done
ES_ID=$(key_id "$T/es.key.pub") ED_ID=$(key_id "$T/ed.key.pub") ROGUE_ID=$(key_id "$T/rogue.key.pub")
pack() { "$RAMPART" image-package pack-application --manifest "$APP/app_manifest.json" --dir "$APP/approot" \
           --key "$T/$1.key" -o "$T/$2" --image-version "$3" >/dev/null; }
pack es app1.pkg 1
pack ed app2.pkg 2
pack rogue rogue.pkg 3
CID=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["ComponentId"].lower())' "$APP/app_manifest.json")
OS_CID=0a5e0000-0000-4000-8000-00000000005e
head -c 300000 /dev/urandom >"$T/os.img"
"$RAMPART_OS_PACKAGE_TOOL" "$T/ed.key" "$T/os.img" "$T/os.pkg" 7 || fail "os-package-tool"
# A tampered copy: the last image byte flipped (the signature still verifies).
cp "$T/app1.pkg" "$T/tampered.pkg"
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[1], "wb").write(b)' "$T/tampered.pkg"
for f in app1 app2 rogue os tampered; do printf -v "SZ_${f}" '%s' "$(stat -c %s "$T/$f.pkg")"; done

# --- signing keys ------------------------------------------------------------
expect_ok "signing-key add (ES256, CLI)" rp signing-key add --key-pub "$T/es.key.pub" --name "build server"
expect_out "the key's algorithm" '^Algorithm: +ES256$'
expect_out "the key's key id" "^Key id: +$ES_ID\$"
PEM_ED=$(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/ed.key.pub")
API_TOKEN=$ALICE call "add the Ed25519 key (API)" 201 POST /v1/tenants/acme/signing-keys "{\"public_pem\": $PEM_ED}"
expect_json "an EdDSA signing key" "j['algorithm'] == 'EdDSA' and j['key_id'] == '$ED_ID' and len(j['id']) == 32 and j['name'] == '${ED_ID:0:16}' and set(j) == {'id', 'name', 'algorithm', 'key_id', 'created_at'}"
ED_KEY=$(jq_ 'j["id"]')
API_TOKEN=$ALICE refused "the same key again" 409 signing_key_exists POST /v1/tenants/acme/signing-keys "{\"public_pem\": $PEM_ED}"
expect_fail "the same key again (CLI)" 1 "signing_key_exists" rp signing-key add --key-pub "$T/es.key.pub"
expect_err "with a hint" "^hint: the tenant trusts this key already"
PRIV=$(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/rogue.key")
API_TOKEN=$ALICE refused "a private key as public_pem" 400 bad_key POST /v1/tenants/acme/signing-keys "{\"public_pem\": $PRIV}"
expect_json "the message says private" '"private key" in j["error"]["message"]'
expect_fail "a private key as --key-pub (CLI: never sent)" 1 "holds a private key" rp signing-key add --key-pub "$T/rogue.key"
API_TOKEN=$ALICE refused "PEM that is not base64" 400 bad_key POST /v1/tenants/acme/signing-keys \
  "$(body public_pem=$'-----BEGIN PUBLIC KEY-----\nnot*base64\n-----END PUBLIC KEY-----\n')"
API_TOKEN=$ALICE refused "not PEM at all" 400 bad_key POST /v1/tenants/acme/signing-keys "$(body public_pem=hello)"
openssl genrsa -out "$T/rsa.key" 2048 2>/dev/null && openssl rsa -in "$T/rsa.key" -pubout -out "$T/rsa.pub" 2>/dev/null
API_TOKEN=$ALICE refused "an RSA key" 400 bad_key POST /v1/tenants/acme/signing-keys \
  "{\"public_pem\": $(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/rsa.pub")}"
openssl ecparam -name secp384r1 -genkey -noout 2>/dev/null | openssl ec -pubout -out "$T/p384.pub" 2>/dev/null
API_TOKEN=$ALICE refused "a P-384 key" 400 bad_key POST /v1/tenants/acme/signing-keys \
  "{\"public_pem\": $(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/p384.pub")}"
API_TOKEN=$ALICE refused "two keys in one PEM" 400 bad_key POST /v1/tenants/acme/signing-keys \
  "{\"public_pem\": $(cat "$T/es.key.pub" "$T/rogue.key.pub" | python3 -c 'import json, sys; print(json.dumps(sys.stdin.read()))')}"
printf 'not a key\n' >"$T/junk.pub"
expect_fail "junk as --key-pub (CLI)" 1 "not PEM" rp signing-key add --key-pub "$T/junk.pub"
API_TOKEN=$BOB refused "a Contributor adds a key" 403 forbidden POST /v1/tenants/acme/signing-keys "{\"public_pem\": $PEM_ED}"
API_TOKEN=$CAROL call "a Reader lists the keys" 200 GET /v1/tenants/acme/signing-keys
expect_json "two keys" "sorted(k['key_id'] for k in j['signing_keys']) == sorted(['$ES_ID', '$ED_ID'])"
API_TOKEN=$OLGA refused "another tenant's keys" 404 not_found GET /v1/tenants/acme/signing-keys
API_TOKEN=$OLGA call "other's own keys" 200 GET /v1/tenants/other/signing-keys
expect_json "none" 'j["signing_keys"] == []'
expect_ok "signing-key list (CLI)" rp signing-key list
expect_out "list: the ES256 key" "^[0-9a-f]{32} +build server +ES256 +$ES_ID\$"
AS=carol expect_fail "a Reader removes a key (CLI)" 1 "forbidden" rp signing-key remove "$ED_ID"
expect_ok "signing-key remove by key id (CLI)" rp signing-key remove "$ED_ID"
expect_out "removed" "^Removed signing key $ED_ID"
API_TOKEN=$ALICE refused "removed: gone" 404 not_found DELETE "/v1/tenants/acme/signing-keys/$ED_KEY"
expect_fail "remove: not an id" 2 "is not a signing key.s id" rp signing-key remove nope
API_TOKEN=$ALICE call "add the Ed25519 key again" 201 POST /v1/tenants/acme/signing-keys "{\"public_pem\": $PEM_ED}"

# --- upload and image add through the CLI ------------------------------------
before=$(images_count)
AS=bob expect_ok "image add (CLI, Contributor)" rp image add "$T/app1.pkg"
IMG1=$(cat "$T/out")
[[ $IMG1 =~ ^[0-9a-f]{32}$ ]] && ok || fail "image add printed '$IMG1', not an id"
[ ! -s "$T/err" ] && ok || fail "image add wrote to stderr without a terminal: $(head -c 300 "$T/err")"
expect_ok "image show (CLI)" rp image show "$IMG1" -o json
cp "$T/out" "$T/http.body"
expect_json "the image" "j['id'] == '$IMG1' and j['digest'] == '$(sha "$T/app1.pkg")' and j['size'] == $SZ_app1 and j['component_id'] == '$CID' and j['type'] == 'app' and j['name'] == 'hello' and j['version'] == 1 and j['version_name'] is None and j['signing_key'] == '$ES_ID' and j['build_time'] == 1700000000 and j['created_by'].startswith('bob (token ') and len(j['image_sha256']) == 64"
AS=bob expect_ok "the same package again (CLI)" rp image add "$T/app1.pkg" -o json
cp "$T/out" "$T/http.body"
expect_json "the same image, as JSON" "j['id'] == '$IMG1' and j['digest'] == '$(sha "$T/app1.pkg")' and j['component_id'] == '$CID' and j['version'] == 1"
expect_err "it says so" "the tenant has this package already: image $IMG1"
[ "$(images_count)" = $((before + 1)) ] && ok || fail "one package twice made $(( $(images_count) - before )) images"
BLOB=$D/blobs/blobs/$(sha "$T/app1.pkg" | cut -c1-2)/$(sha "$T/app1.pkg")
[ -f "$BLOB" ] && [ "$(sha "$BLOB")" = "$(sha "$T/app1.pkg")" ] && ok || fail "no blob $BLOB holding the package"
expect_ok "the blob is the package, signed" "$RAMPART" image-package verify "$BLOB" --key-pub "$T/es.key.pub"
[ -z "$(ls -A "$D/blobs/staging")" ] && ok || fail "staging leftovers after image add: $(ls "$D/blobs/staging")"
expect_ok "image show by digest (CLI)" rp image show "$(sha "$T/app1.pkg")"
expect_out "show: the id" "^Id: +$IMG1\$"
expect_out "show: the type" '^Type: +app$'
expect_ok "an Ed25519-signed package (CLI)" rp image add "$T/app2.pkg"
IMG2=$(cat "$T/out")
expect_ok "image list (CLI)" rp image list
expect_out "list: version 2" "^$IMG2 +app +hello +2 +$CID "
expect_out "list: version 1" "^$IMG1 +app +hello +1 +$CID "
expect_ok "image list --component (CLI)" rp image list --component "${CID^^}" -o json
cp "$T/out" "$T/http.body"
expect_json "both versions, newest first" "sorted(i['id'] for i in j['images']) == sorted(['$IMG1', '$IMG2']) and [i['id'] for i in j['images']] == [i['id'] for i in sorted(j['images'], key=lambda i: (i['created_at'], i['id']), reverse=True)]"
expect_fail "image list --component junk" 2 "is not a component id" rp image list --component junk
expect_fail "image show: not an id" 2 "is not an image id" rp image show 12
expect_fail "image show: unknown" 1 "not_found" rp image show "$(printf '%032x' 5)"

# Refused through the CLI, each with what to do next.
before=$(images_count)
expect_fail "a package signed by an unregistered key (CLI)" 1 "signature_invalid: .*$ROGUE_ID" \
  rp image add "$T/rogue.pkg"
expect_err "with what to do" "^hint: register the key that signed it: rampart signing-key add --key-pub .*$ROGUE_ID"
expect_fail "a tampered image byte (CLI)" 1 "digest_mismatch" rp image add "$T/tampered.pkg"
expect_err "with what to do" "^hint: the package's image bytes changed after it was signed"
printf 'not a package at all' >"$T/junk.pkg"
expect_fail "a file that is no package (CLI)" 1 "image-package show" rp image add "$T/junk.pkg"
AS=carol expect_fail "a Reader adds an image (CLI)" 1 "forbidden" rp image add "$T/app1.pkg"
[ "$(images_count)" = "$before" ] && ok || fail "a refused package became an image"
[ -z "$(ls -A "$D/blobs/staging")" ] && ok || fail "the CLI left refused uploads: $(ls "$D/blobs/staging")"

# --- the same through raw API calls ------------------------------------------
API_TOKEN=$BOB
call "create an upload" 201 POST /v1/tenants/acme/uploads "{\"size\": $SZ_os}"
expect_json "the upload" "len(j['id']) == 32 and j['size'] == $SZ_os and j['received'] == 0 and j['chunk_size'] == $CHUNK and j['expires_at'] > 1700000000 and set(j) == {'id', 'size', 'received', 'chunk_size', 'expires_at'}"
UP=$(jq_ 'j["id"]')
[ -f "$D/blobs/staging/$UP" ] && ok || fail "no staging object for $UP"
put_piece "$UP" 0 "$T/os.pkg" 0 1000 application/json
expect_error "a piece as JSON" 415 unsupported_media_type
put_piece "$UP" 0 "$T/os.pkg" 0 1000 text/plain
expect_error "a piece as text" 415 unsupported_media_type
put_piece "$UP" -1 "$T/os.pkg" 0 1000
expect_error "offset -1" 400 bad_request
put_piece "$UP" 01 "$T/os.pkg" 0 1000
expect_error "offset 01" 400 bad_request
put_piece "$UP" $((SZ_os + 1)) "$T/os.pkg" 0 1
expect_error "an offset past the size" 400 bad_request
put_piece "$UP" 5 "$T/os.pkg" 5 1000
expect_error "a piece at the wrong offset" 409 offset_mismatch
expect_json "it says where the upload stands" '"?offset=0" in j["error"]["message"]'
put_piece "$UP" 0 "$T/os.pkg" 0 1000
expect_status "the first piece" 200
expect_json "1000 received" "j['received'] == 1000 and j['id'] == '$UP'"
put_piece "$UP" 0 "$T/os.pkg" 0 1000
expect_error "the first piece again" 409 offset_mismatch
put_piece "$UP" 1000 "$T/os.pkg" 1000 0
expect_status "an empty piece" 200
call "GET the upload" 200 GET "/v1/tenants/acme/uploads/$UP"
expect_json "received 1000" 'j["received"] == 1000'
API_TOKEN=$CAROL call "a Reader sees it" 200 GET "/v1/tenants/acme/uploads/$UP"
call "an early image add" 409 POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "upload_incomplete, with where it stands" 'j["error"]["code"] == "upload_incomplete" and "?offset=1000" in j["error"]["message"]'
# A request cut off midway (Content-Length 500000, 200000 bytes, then the
# connection closes): nothing of it is kept, the upload stays at 1000.
python3 - "$SERVER_PORT" "$SERVER_CA" "$BOB" "$UP" <<'EOF' || fail "the cut-off request could not be sent"
import socket, ssl, sys
port, ca, tok, up = sys.argv[1:5]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port))), server_hostname="127.0.0.1")
s.sendall(("PUT /v1/tenants/acme/uploads/%s?offset=1000 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
           "Content-Type: application/octet-stream\r\nContent-Length: 500000\r\n\r\n" % (up, tok)).encode()
          + b"\x55" * 200000)
s.close()
EOF
[ "$(received "$UP")" = 1000 ] && ok || fail "a cut-off request changed the upload: received $(received "$UP")"
# One byte more than the rest.
dd if="$T/os.pkg" of="$T/rest+1" bs=1M iflag=skip_bytes skip=1000 status=none
printf 'x' >>"$T/rest+1"
put_piece "$UP" 1000 "$T/rest+1" 0 $((SZ_os - 1000 + 1))
expect_error "a piece past the declared size" 413 too_large
put_piece "$UP" 1000 "$T/os.pkg" 1000 $((SZ_os - 1000))
expect_status "the rest" 200
expect_json "complete" "j['received'] == $SZ_os"
API_TOKEN=$CAROL refused "a Reader adds the image" 403 forbidden POST /v1/tenants/acme/images "$(body upload="$UP")"
API_TOKEN=$OLGA refused "another tenant adds acme's upload" 404 not_found POST /v1/tenants/other/images "$(body upload="$UP")"
API_TOKEN=$OLGA refused "another tenant reads acme's upload" 404 not_found GET "/v1/tenants/other/uploads/$UP"
TEN=other API_TOKEN=$OLGA put_piece "$UP" "$SZ_os" "$T/os.pkg" 0 0
expect_error "another tenant appends to acme's upload" 404 not_found
API_TOKEN=$OLGA refused "another tenant deletes acme's upload" 404 not_found DELETE "/v1/tenants/other/uploads/$UP"
call "image add (API): an OS image" 201 POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "the OS image" "j['type'] == 'os' and j['name'] == 'rampart-os' and j['component_id'] == '$OS_CID' and j['version'] == 7 and j['digest'] == '$(sha "$T/os.pkg")' and j['size'] == $SZ_os and j['signing_key'] == '$ED_ID' and j['image_sha256'] == '$(sha "$T/os.img")'"
IMG_OS=$(jq_ 'j["id"]')
refused "the upload is spent" 404 not_found GET "/v1/tenants/acme/uploads/$UP"
[ ! -e "$D/blobs/staging/$UP" ] && ok || fail "the spent upload's staging object is still there"
call "images?type=os" 200 GET "/v1/tenants/acme/images?type=os"
expect_json "only the OS image" "[i['id'] for i in j['images']] == ['$IMG_OS']"
call "images?component_id" 200 GET "/v1/tenants/acme/images?component_id=$CID&limit=1"
expect_json "one of the app's" "[i['id'] for i in j['images']] in (['$IMG1'], ['$IMG2'])"
refused "images?type=exe" 400 bad_request GET "/v1/tenants/acme/images?type=exe"
call "image by id" 200 GET "/v1/tenants/acme/images/$IMG_OS"
call "image by digest, upper case" 200 GET "/v1/tenants/acme/images/$(sha "$T/os.pkg" | tr a-f A-F)"
expect_json "the same" "j['id'] == '$IMG_OS'"
API_TOKEN=$OLGA refused "another tenant's image by id" 404 not_found GET "/v1/tenants/other/images/$IMG_OS"
API_TOKEN=$OLGA refused "another tenant's image by digest" 404 not_found GET "/v1/tenants/other/images/$(sha "$T/os.pkg")"
API_TOKEN=$OLGA refused "another tenant's images" 404 not_found GET "/v1/tenants/acme/images"
API_TOKEN=$OLGA call "other's own images" 200 GET /v1/tenants/other/images
expect_json "none" 'j["images"] == []'

# The same bytes again: 200, the same image, the upload dropped.
upload_all "$T/os.pkg"
call "the same OS package again" 200 POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "the same image" "j['id'] == '$IMG_OS'"
refused "that upload is spent too" 404 not_found GET "/v1/tenants/acme/uploads/$UP"
[ ! -e "$D/blobs/staging/$UP" ] && ok || fail "the duplicate's staging object is still there"
# Another tenant may have the same bytes: its own image of them (once it
# trusts the key), one blob.
API_TOKEN=$OLGA call "other trusts the Ed25519 key" 201 POST /v1/tenants/other/signing-keys "{\"public_pem\": $PEM_ED}"
TEN=other API_TOKEN=$OLGA upload_all "$T/os.pkg"
API_TOKEN=$OLGA call "other adds the same bytes" 201 POST /v1/tenants/other/images "$(body upload="$UP")"
expect_json "its own image" "j['id'] != '$IMG_OS' and j['digest'] == '$(sha "$T/os.pkg")'"

# Refusals through the API, and none becomes an image.
before=$(images_count)
upload_all "$T/rogue.pkg"
refused "signed by an unregistered key" 403 signature_invalid POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "the message names the package's key id" "'$ROGUE_ID' in j['error']['message']"
call "a refused upload stays (to be deleted or expire)" 200 GET "/v1/tenants/acme/uploads/$UP"
call "delete it" 204 DELETE "/v1/tenants/acme/uploads/$UP"
[ ! -e "$D/blobs/staging/$UP" ] && ok || fail "a deleted upload's staging object is still there"
refused "deleted" 404 not_found GET "/v1/tenants/acme/uploads/$UP"
upload_all "$T/tampered.pkg"
refused "a tampered image byte" 400 digest_mismatch POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "the message says digest" '"image digest mismatch" in j["error"]["message"]'
dd if="$T/app1.pkg" of="$T/cut.pkg" bs=1 count=$((SZ_app1 - 100)) status=none
upload_all "$T/cut.pkg"
refused "a package cut short, uploaded whole" 400 digest_mismatch POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "the message says truncated" '"truncated package" in j["error"]["message"]'
upload_all "$T/junk.pkg"
refused "bytes that are no package" 400 package_invalid POST /v1/tenants/acme/images "$(body upload="$UP")"
dd if="$T/app1.pkg" of="$T/head.pkg" bs=1 count=200 status=none
upload_all "$T/head.pkg"
refused "a package's first 200 bytes" 400 package_invalid POST /v1/tenants/acme/images "$(body upload="$UP")"
upload_all "$T/app1.pkg" 2000
refused "an upload cut off at 2000 bytes" 409 upload_incomplete POST /v1/tenants/acme/images "$(body upload="$UP")"
[ "$(images_count)" = "$before" ] && ok || fail "a refused upload became an image"
# Images verified by a key stay when the key goes; new ones are refused.
refused "a Contributor removes a key" 403 forbidden DELETE "/v1/tenants/acme/signing-keys/$ED_ID"
API_TOKEN=$ALICE call "remove the Ed25519 key (Administrator)" 204 DELETE "/v1/tenants/acme/signing-keys/$ED_ID"
call "its images stay" 200 GET "/v1/tenants/acme/images/$IMG2"
upload_all "$T/app2.pkg"
refused "its packages are refused now" 403 signature_invalid POST /v1/tenants/acme/images "$(body upload="$UP")"
API_TOKEN=$ALICE call "the Ed25519 key back" 201 POST /v1/tenants/acme/signing-keys "{\"public_pem\": $PEM_ED}"
call "the same upload, now accepted (as the image it is)" 200 POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "image 2" "j['id'] == '$IMG2'"

# Limits and roles of uploads.
refused "a declared size over --max-image-size" 413 too_large POST /v1/tenants/acme/uploads '{"size": 1099511627776}'
refused "size 0" 400 bad_request POST /v1/tenants/acme/uploads '{"size": 0}'
refused "size as a string" 400 bad_request POST /v1/tenants/acme/uploads '{"size": "10"}'
refused "no size" 400 bad_request POST /v1/tenants/acme/uploads '{}'
refused "an unknown field" 400 bad_request POST /v1/tenants/acme/uploads '{"size": 10, "digest": "x"}'
API_TOKEN=$CAROL refused "a Reader creates an upload" 403 forbidden POST /v1/tenants/acme/uploads '{"size": 10}'
call "an upload for the Reader to try" 201 POST /v1/tenants/acme/uploads '{"size": 10}'
RUP=$(jq_ 'j["id"]')
API_TOKEN=$CAROL put_piece "$RUP" 0 "$T/os.pkg" 0 10
expect_error "a Reader sends a piece" 403 forbidden
API_TOKEN=$CAROL refused "a Reader deletes an upload" 403 forbidden DELETE "/v1/tenants/acme/uploads/$RUP"
for bad in nope "$(printf '%031x' 1)" "$RUP$RUP"; do
  refused "upload '$bad'" 404 not_found GET "/v1/tenants/acme/uploads/$(urlenc "$bad")"
done
refused "upload '../ID'" 400 bad_request GET "/v1/tenants/acme/uploads/$(urlenc "../$RUP")"
refused "image add of no upload" 404 not_found POST /v1/tenants/acme/images "$(body upload="$(printf '%032x' 9)")"
refused "image add of junk" 404 not_found POST /v1/tenants/acme/images "$(body upload=../../etc)"
refused "image 'x'" 404 not_found GET /v1/tenants/acme/images/x

# --- 20 MiB in 21 pieces, and resuming -----------------------------------------
head -c $((20 * 1024 * 1024)) /dev/urandom >"$T/big.img"
"$RAMPART_OS_PACKAGE_TOOL" "$T/es.key" "$T/big.img" "$T/big.pkg" 9 0b160000-0000-4000-8000-0000000000b1 ||
  fail "os-package-tool (big)"
SZ_big=$(stat -c %s "$T/big.pkg")
# Raw: 3 pieces, an interruption, then on from where GET says.
upload_all "$T/big.pkg" $((3 * CHUNK))
[ "$(received "$UP")" = $((3 * CHUNK)) ] && ok || fail "after 3 pieces: received $(received "$UP")"
off=$(received "$UP")
while [ "$off" -lt "$SZ_big" ]; do
  n=$((SZ_big - off < CHUNK ? SZ_big - off : CHUNK))
  put_piece "$UP" "$off" "$T/big.pkg" "$off" "$n"
  [ "$HTTP_STATUS" = 200 ] || { fail "big: the piece at $off: $HTTP_STATUS $(cat "$T/http.body")"; break; }
  off=$((off + n))
done
call "the big package resumed (API)" 201 POST /v1/tenants/acme/images "$(body upload="$UP")"
expect_json "its digest and size" "j['digest'] == '$(sha "$T/big.pkg")' and j['size'] == $SZ_big and j['type'] == 'os'"
BIG=$D/blobs/blobs/$(sha "$T/big.pkg" | cut -c1-2)/$(sha "$T/big.pkg")
[ "$(sha "$BIG")" = "$(sha "$T/big.pkg")" ] && ok || fail "the big blob does not hash to its name"
# Through the CLI, via a proxy that cuts the connection in the middle of
# the third piece, and the fresh connection libcurl sends it again on: the
# CLI asks where the upload stands and goes on from there.
"$RAMPART_OS_PACKAGE_TOOL" "$T/ed.key" "$T/big.img" "$T/big2.pkg" 10 0b160000-0000-4000-8000-0000000000b1 ||
  fail "os-package-tool (big2)"
setpriv --pdeathsig KILL python3 "$RAMPART_SOURCE_DIR/tests/integration/cutproxy.py" "$SERVER_PORT" \
  $((2 * CHUNK + CHUNK / 2)) $((CHUNK / 2)) >"$T/proxy.out" 2>"$T/proxy.err" &
PROXY=$!
for ((i = 0; i < 600; i++)); do [ -s "$T/proxy.out" ] && break; sleep 0.1; done
PPORT=$(head -n 1 "$T/proxy.out")
URL=https://127.0.0.1:$PPORT expect_ok "image add through a connection cut mid-piece (CLI)" rp image add "$T/big2.pkg" -o json
cp "$T/out" "$T/http.body"
expect_json "the CLI's image: digest and size" "j['digest'] == '$(sha "$T/big2.pkg")' and j['size'] == $(stat -c %s "$T/big2.pkg")"
[ "$(grep -c "^cut at " "$T/proxy.out")" = 2 ] && ok || fail "the proxy did not cut twice: $(cat "$T/proxy.out" "$T/proxy.err")"
kill "$PROXY" 2>/dev/null || true
wait "$PROXY" 2>/dev/null || true
BIG2=$D/blobs/blobs/$(sha "$T/big2.pkg" | cut -c1-2)/$(sha "$T/big2.pkg")
expect_ok "the resumed blob verifies" "$RAMPART" image-package verify "$BIG2" --key-pub "$T/ed.key.pub"

# --- abandoned uploads go at start -------------------------------------------
call "an upload to abandon" 201 POST /v1/tenants/acme/uploads "{\"size\": $SZ_os}"
OLD=$(jq_ 'j["id"]')
put_piece "$OLD" 0 "$T/os.pkg" 0 1000
call "an upload to keep" 201 POST /v1/tenants/acme/uploads "{\"size\": $SZ_os}"
KEEP=$(jq_ 'j["id"]')
ORPHAN=$(printf '%032x' 77)
printf 'left behind' >"$D/blobs/staging/$ORPHAN"
touch -d '2 hours ago' "$D/blobs/staging/$ORPHAN"
stop_server
store_sql "$D" "UPDATE uploads SET expires_at = 1 WHERE id = '$OLD'" >/dev/null
n_expired=$(store_sql "$D" "SELECT COUNT(*) FROM uploads WHERE expires_at < 1000")
start_server "$D" --rate 2 --burst 4 || { finish; exit 1; }
grep -q "event=uploads-expired rows=$n_expired staged=$((n_expired + 1))" "$SERVER_LOG" && ok ||
  fail "no uploads-expired line for $n_expired rows and the orphan: $(grep uploads- "$SERVER_LOG")"
[ ! -e "$D/blobs/staging/$OLD" ] && [ ! -e "$D/blobs/staging/$ORPHAN" ] && ok ||
  fail "expired staging objects are still there: $(ls "$D/blobs/staging")"
[ -e "$D/blobs/staging/$KEEP" ] && ok || fail "an unexpired upload's staging object went"
[ "$(store_sql "$D" "SELECT COUNT(*) FROM uploads WHERE id = '$OLD'")" = 0 ] && ok || fail "the expired row is still there"

# --- the CLI waits out 429 (this server allows 2 requests a second) -----------
head -c $((5 * CHUNK)) /dev/urandom >"$T/mid.img"
"$RAMPART_OS_PACKAGE_TOOL" "$T/es.key" "$T/mid.img" "$T/mid.pkg" 11 || fail "os-package-tool (mid)"
expect_ok "image add under a rate limit (CLI)" rp image add "$T/mid.pkg" -o json
cp "$T/out" "$T/http.body"
expect_json "the image" "j['digest'] == '$(sha "$T/mid.pkg")'"
grep -q 'status=429' "$SERVER_LOG" && ok || fail "the rate limit never answered 429: the test did not test waiting"

# --- the audit log ---------------------------------------------------------------
sleep 2        # the rate limit's bucket refills
API_TOKEN=$ALICE call "audit" 200 GET "/v1/tenants/acme/audit?limit=1000"
expect_json "the audit log has each kind of change" \
  "{'signing_key.add', 'signing_key.remove', 'upload.create', 'upload.remove', 'image.add'} <= {a['action'] for a in j['audit']}"

stop_server
finish
