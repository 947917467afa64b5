#!/usr/bin/env bash
# kill -9 of rampart-server during a burst of management writes: after a
# restart on the same store, everything a client was told succeeded is there,
# and nothing is half-written (a tenant without its CA, a product without
# its five device groups, a claim without its device). Three rounds, each
# killing the server at a different point of the burst. Runs on SQLite and,
# as integration/server-crash-postgres, on PostgreSQL.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"

store_setup
D=$T/data
start_server "$D" --workers 2 --rate 100000 --burst 100000
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
export API_TOKEN

# writer K ROUND: creates tenants, a product in each, and claims a device in
# each, until the server stops answering; appends what the server
# acknowledged to $T/acked.K ("tenant NAME", "product NAME",
# "device NAME ID"). Sends only what it was told about once the answer came.
writer() {
  local k=$1 round=$2 i=0 name id st
  local curl=(curl -sS --max-time 20 --cacert "$SERVER_CA" -H "Authorization: Bearer $API_TOKEN"
              -H 'Content-Type: application/json' -o /dev/null -w '%{http_code}')
  while :; do
    i=$((i + 1)); name="crash-$round-$k-$i"
    st=$("${curl[@]}" -X POST --data-binary "{\"name\":\"$name\"}" "$SERVER_URL/v1/tenants" 2>/dev/null) || return 0
    [ "$st" = 201 ] || return 0
    echo "tenant $name" >>"$T/acked.$k"
    st=$("${curl[@]}" -X POST --data-binary '{"name":"Widget","description":"made in a burst"}' \
         "$SERVER_URL/v1/tenants/$name/products" 2>/dev/null) || return 0
    [ "$st" = 201 ] || return 0
    echo "product $name" >>"$T/acked.$k"
    id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    st=$("${curl[@]}" -X POST --data-binary "{\"device_id\":\"$id\",\"device_group\":\"Widget/Field Test\"}" \
         "$SERVER_URL/v1/tenants/$name/devices" 2>/dev/null) || return 0
    [ "$st" = 201 ] || return 0
    echo "device $name $id" >>"$T/acked.$k"
  done
}

for round in 1 2 3; do
  rm -f "$T"/acked.*
  pids=()
  for k in 1 2 3 4; do writer "$k" "$round" & pids+=($!); done
  # Kill after a number of acknowledged writes that differs each round, so
  # the kill lands in different places of the three-step sequence.
  want=$((20 * round + 7))
  for ((w = 0; w < 1200; w++)); do
    n=$( (cat "$T"/acked.* 2>/dev/null || true) | wc -l)
    [ "$n" -ge "$want" ] && break
    alive=0
    for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
    [ "$alive" = 1 ] || break          # every writer gave up: the check below says why
    sleep 0.1
  done
  kill -KILL "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  unset "_SRV_LOG[$SERVER_PID]"
  for p in "${pids[@]}"; do wait "$p" || true; done
  cat "$T"/acked.* >"$T/acked" 2>/dev/null || true
  n=$(wc -l <"$T/acked")
  [ "$n" -ge "$want" ] && ok || fail "round $round: only $n writes acknowledged before the kill (wanted $want)"

  if [ "$STORE_KIND" = sqlite ]; then
    [ "$(sqlite3 "$D/rampart.db" 'PRAGMA integrity_check')" = ok ] && ok ||
      fail "round $round: the SQLite file is damaged"
  fi
  start_server "$D" --workers 2 --rate 100000 --burst 100000

  # Everything acknowledged is there.
  while read -r kind name id; do
    case $kind in
      tenant) call "round $round: acked tenant $name" 200 GET "/v1/tenants/$name" ;;
      product) call "round $round: acked product of $name" 200 GET "/v1/tenants/$name/products/Widget" ;;
      device)
        call "round $round: acked claim $name" 200 GET "/v1/tenants/$name/devices/$id"
        expect_json "round $round: the claim is in its group" \
          "j['device_group'] in ('Widget/Field Test', 'Field Test') and j['enabled'] is True" ;;
    esac
  done <"$T/acked"

  # Nothing is half-written: every tenant (acknowledged or not) has a CA
  # that parses, every product its five groups, every device its tenant.
  call "round $round: list tenants" 200 GET "/v1/tenants?limit=1000"
  jq_ "'\n'.join(t['name'] for t in j['tenants'] if t['name'].startswith('crash-$round-'))" >"$T/tenants"
  while read -r name; do
    [ -n "$name" ] || continue
    http_req GET "/v1/tenants/$name/ca-certificate"
    if [ "$HTTP_STATUS" = 200 ] && openssl x509 -in "$T/http.body" -noout 2>/dev/null; then ok; else
      fail "round $round: tenant $name has no usable CA ($HTTP_STATUS)"; fi
    call "round $round: products of $name" 200 GET "/v1/tenants/$name/products"
    expect_json "round $round: every product of $name has its 5 groups" \
      "all(len(p['device_groups']) == 5 for p in j['products'])"
    call "round $round: devices of $name" 200 GET "/v1/tenants/$name/devices"
    expect_json "round $round: every device of $name is in a group of Widget" \
      "all(d['device_group'] is not None for d in j['devices'])"
  done <"$T/tenants"
  server_alive "round $round: after the restart"
done

stop_server
echo "passed $passed, failed $failed"
[ "$failed" = 0 ]
