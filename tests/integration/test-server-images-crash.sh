#!/usr/bin/env bash
# kill -9 of rampart-server while clients upload packages in pieces and add
# them as images: after a restart on the same store and blob store, every
# image a client was told about is there; every images row's blob exists,
# hashes to its digest and verifies as a package signed by the tenant's key;
# nothing in the blob store sits under a name its bytes do not hash to (no
# half-written blob); and every upload left behind can be finished and
# added, or is refused cleanly (404). Three rounds, each killing the server
# at a different point. Runs on SQLite and, as integration/server-images-
# crash-postgres, on PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_OS_PACKAGE_TOOL:?run this test through ctest}"

store_setup
D=$T/data
CHUNK=1048576
start_server "$D" --workers 2 --rate 100000 --burst 100000 || { finish; exit 1; }
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
export API_TOKEN SOURCE_DATE_EPOCH=1700000000
sha() { sha256sum "$1" | cut -d' ' -f1; }

call "create tenant acme" 201 POST /v1/tenants "$(body name=acme)"
"$RAMPART" keys generate -o "$T/es.key" >/dev/null
call "trust the key" 201 POST /v1/tenants/acme/signing-keys \
  "{\"public_pem\": $(python3 -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read()))' "$T/es.key.pub")}"

# Twelve packages of three pieces each (the last one short).
NPKG=12
for ((p = 0; p < NPKG; p++)); do
  head -c $((2 * CHUNK + 300000)) /dev/urandom >"$T/img.$p"
  "$RAMPART_OS_PACKAGE_TOOL" "$T/es.key" "$T/img.$p" "$T/pkg.$p" $((p + 1)) || fail "os-package-tool $p"
  rm -f "$T/img.$p"
done

CURL=(curl -sS --max-time 20 --cacert "$SERVER_CA" -H "Authorization: Bearer $API_TOKEN")

# send_rest ID PKG FROM PIECE_FILE: the bytes of PKG from FROM on, in pieces;
# 0 when all arrived (each piece answered 200).
send_rest() {
  local id=$1 pkg=$2 off=$3 piece=$4 size n st
  size=$(stat -c %s "$pkg")
  while [ "$off" -lt "$size" ]; do
    n=$((size - off < CHUNK ? size - off : CHUNK))
    dd if="$pkg" of="$piece" bs=1M iflag=skip_bytes,count_bytes skip="$off" count="$n" status=none
    st=$("${CURL[@]}" -X PUT -H 'Content-Type: application/octet-stream' --data-binary @"$piece" -o /dev/null \
         -w '%{http_code}' "$SERVER_URL/v1/tenants/acme/uploads/$id?offset=$off" 2>/dev/null) || return 1
    [ "$st" = 200 ] || return 1
    off=$((off + n))
  done
}

# writer K ROUND: uploads packages and adds them as images until the server
# stops answering; "upload ID PKG" goes to $T/started.K before the first
# piece, "image ID DIGEST" to $T/acked.K once the server said so.
writer() {
  local k=$1 round=$2 i=0 pkg size id img st
  while :; do
    pkg=$T/pkg.$(((k * 5 + round * 3 + i) % NPKG)); i=$((i + 1))
    size=$(stat -c %s "$pkg")
    id=$("${CURL[@]}" -X POST -H 'Content-Type: application/json' --data-binary "{\"size\": $size}" \
         "$SERVER_URL/v1/tenants/acme/uploads" 2>/dev/null |
         python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' 2>/dev/null) || return 0
    echo "upload $id $pkg" >>"$T/started.$k"
    send_rest "$id" "$pkg" 0 "$T/piece.$k" || return 0
    st=$("${CURL[@]}" -X POST -H 'Content-Type: application/json' --data-binary "{\"upload\": \"$id\"}" \
         -o "$T/img.$k" -w '%{http_code}' "$SERVER_URL/v1/tenants/acme/images" 2>/dev/null) || return 0
    [ "$st" = 201 ] || [ "$st" = 200 ] || return 0
    img=$(python3 -c 'import json, sys; j = json.load(open(sys.argv[1])); print(j["id"], j["digest"])' "$T/img.$k") ||
      return 0
    echo "image $img $pkg" >>"$T/acked.$k"
  done
}

resumed=0
for round in 1 2 3; do
  rm -f "$T"/acked.* "$T"/started.*
  pids=()
  for k in 1 2 3; do writer "$k" "$round" & pids+=($!); done
  # Kill after a number of acknowledged images that differs each round, so
  # the kill lands in different places of the upload, verify, commit, insert
  # sequence; in rounds 2 and 3 only once some upload is part-way through
  # (1 or 2 pieces staged), so there is one to resume.
  want=$((2 * round + 1))
  for ((w = 0; w < 3000; w++)); do
    n=$( (cat "$T"/acked.* 2>/dev/null || true) | wc -l)
    if [ "$n" -ge "$want" ]; then
      [ "$round" = 1 ] && break
      find "$D/blobs/staging" -type f -size +$(((round - 1) * CHUNK / 1024 - 1))k 2>/dev/null | grep -q . && break
    fi
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break
    sleep 0.1
  done
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  unset "_SRV_LOG[$SERVER_PID]"
  for p in "${pids[@]}"; do wait "$p" || true; done
  cat "$T"/acked.* >"$T/acked" 2>/dev/null || true
  cat "$T"/started.* >"$T/started" 2>/dev/null || true
  n=$(wc -l <"$T/acked")
  [ "$n" -ge "$want" ] && ok || fail "round $round: only $n images acknowledged before the kill (wanted $want)"

  if [ "$STORE_KIND" = sqlite ]; then
    [ "$(sqlite3 "$D/rampart.db" 'PRAGMA integrity_check')" = ok ] && ok ||
      fail "round $round: the SQLite file is damaged"
  fi

  # Before the server is back: nothing in the blob store sits under a name
  # its bytes do not hash to, and every images row has its blob, whole and
  # signed.
  bad=0
  while read -r f; do
    [ "$(sha "$f")" = "$(basename "$f")" ] || { bad=1; fail "round $round: blob $f does not hash to its name"; }
  done < <(find "$D/blobs/blobs" -type f)
  [ "$bad" = 0 ] && ok
  store_sql "$D" "SELECT id, digest FROM images" | tr '|' ' ' >"$T/rows"
  [ -s "$T/rows" ] && ok || fail "round $round: no images rows at all"
  while read -r id digest; do
    blob=$D/blobs/blobs/${digest:0:2}/$digest
    if [ -f "$blob" ] && [ "$(sha "$blob")" = "$digest" ] &&
       "$RAMPART" image-package verify "$blob" --key-pub "$T/es.key.pub" >/dev/null 2>&1; then ok; else
      fail "round $round: image $id's blob $blob is missing, damaged or does not verify"; fi
  done <"$T/rows"

  start_server "$D" --workers 2 --rate 100000 --burst 100000 || { finish; exit 1; }
  CURL=(curl -sS --max-time 20 --cacert "$SERVER_CA" -H "Authorization: Bearer $API_TOKEN")

  # Everything acknowledged is there.
  while read -r _ id digest _; do
    call "round $round: acked image $id" 200 GET "/v1/tenants/acme/images/$id"
    expect_json "round $round: its digest" "j['digest'] == '$digest'"
  done <"$T/acked"

  # Every upload left behind is finished and added, or is gone (404).
  while read -r _ id pkg; do
    http_req GET "/v1/tenants/acme/uploads/$id"
    case $HTTP_STATUS in
      404) ok; continue ;;
      200) ;;
      *) fail "round $round: upload $id answered $HTTP_STATUS: $(head -c 300 "$T/http.body")"; continue ;;
    esac
    from=$(jq_ 'j["received"]')
    [ "$from" -gt 0 ] && resumed=$((resumed + 1))
    [ "$from" -le "$(stat -c %s "$pkg")" ] && ok || fail "round $round: upload $id claims $from bytes"
    send_rest "$id" "$pkg" "$from" "$T/piece" && ok || fail "round $round: upload $id could not be finished from $from"
    http_req POST /v1/tenants/acme/images "$(body upload="$id")"
    if { [ "$HTTP_STATUS" = 201 ] || [ "$HTTP_STATUS" = 200 ]; } &&
       [ "$(jq_ 'j["digest"]')" = "$(sha "$pkg")" ]; then ok; else
      fail "round $round: the finished upload $id: $HTTP_STATUS $(head -c 300 "$T/http.body")"; fi
  done <"$T/started"
  call "round $round: list images" 200 GET "/v1/tenants/acme/images?limit=1000"
  expect_json "round $round: every image is one of the packages" \
    "all(i['type'] == 'os' and i['name'] == 'rampart-os' for i in j['images']) and len({i['digest'] for i in j['images']}) == len(j['images'])"
  server_alive "round $round: after the restart"
done

[ "$resumed" -gt 0 ] && ok || fail "no upload was left part-way: nothing was resumed"
stop_server
finish
