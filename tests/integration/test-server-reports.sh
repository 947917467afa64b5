#!/usr/bin/env bash
# Failure reports end to end, on SQLite and on PostgreSQL (integration/
# server-reports-sqlite and -postgres): devices provisioned by the factory
# tool with a real rampart-secmon each, attested to a real rampart-server,
# upload batches over mTLS (POST /v1/device/error-reports); the tenant lists
# them with every filter and counts them by app and kind, through the API
# and `rampart device error-report` (table and JSON); and `rampart device
# report-errors` uploads a file of events in batches the server accepts.
# Refused: a batch over --report-max-batch (413, nothing stored), a body
# over --max-body, every malformed field (400, nothing of the batch
# stored), a device of another tenant, a released device, an API token.
# Retention: a server with --report-max-events 3 keeps each device's 3
# newest; one with --report-max-age 60 hides and then deletes what it
# received earlier (rows aged in the store: no sleeping).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/server.sh"
. "$(dirname "$0")/api.sh"
: "${RAMPART_PROVIDER_MODULE:?run this test through ctest}"

# The stock openssl command able to load the provider module (as in
# test-server-attest.sh).
MODDIR=$(dirname "$RAMPART_PROVIDER_MODULE")
_preload=$(ldd "$RAMPART_PROVIDER_MODULE" | awk '/libasan/ {print $3}')
printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec openssl "$@"\n' "$_preload" >"$T/openssl"
chmod +x "$T/openssl"

APP1=6f1c0c5e-2a58-4e3b-9d8e-4f0e3a1b2c3d
APP2=0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d
NOW=$(date +%s)
export APP1 APP2 NOW

# --- devices: dev1, dev2 for acme, dev3 for other ---------------------------------
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
for d in dev1 dev2 dev3; do
  expect_ok "factory provision $d" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/$d"
  printf 'the OS of %s\n' "$d" >"$T/$d.img"
  start "sm-$d" --state-dir "$T/$d" --measure os="$T/$d.img"
  expect_ok "show-identity $d" "$RAMPART" device show-identity --state-dir "$T/$d" -o json
  cp "$T/out" "$T/$d.json"
done
jfile() { python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }
D1=$(jfile "$T/dev1.json" device_id) D2=$(jfile "$T/dev2.json" device_id) D3=$(jfile "$T/dev3.json" device_id)
export D1 D2 D3

# --- the service -----------------------------------------------------------------------
store_setup
S=$T/srv
SERVER_ARGS=(--report-max-batch 10)
start_server "$S" "${SERVER_ARGS[@]}" || { finish; exit 1; }
API_TOKEN=$(cat "$ADMIN_TOKEN_FILE")
ADMIN=$API_TOKEN
for t in acme other; do
  call "tenant $t" 201 POST /v1/tenants "$(body name=$t allow_development:=true)"
  call "$t trusts the factory" 201 POST "/v1/tenants/$t/manufacturers" "$(body ca_pem="$(cat "$T/ca/ca.pem")")"
  call "a product of $t" 201 POST "/v1/tenants/$t/products" "$(body name=gadget)"
done
call "acme claims dev1" 201 POST /v1/tenants/acme/devices "$(body device_id="$D1" device_group=gadget/Development)"
call "acme claims dev2" 201 POST /v1/tenants/acme/devices "$(body device_id="$D2" device_group="gadget/Field Test")"
call "other claims dev3" 201 POST /v1/tenants/other/devices "$(body device_id="$D3" device_group=gadget/Production)"
for d in dev1 dev2 dev3; do
  t=acme; [ "$d" = dev3 ] && t=other
  call "$d's software is a release of $t" 201 POST "/v1/tenants/$t/releases" \
    "$(body kind=os name=OS version=1 measurement="$(jfile "$T/$d.json" measurement)")"
done
call "a Reader in acme" 201 POST /v1/tenants/acme/users "$(body name=reader role=Reader)"
call "its token" 201 POST /v1/tenants/acme/users/reader/tokens '{}'
READER=$(jq_ 'j["token"]')
# attest DEV: DEV's certificate into $T/DEV.pem.
attest() {
  expect_ok "$1 attests" "$RAMPART" device attest --state-dir "$T/$1" --server "$SERVER_URL" --ca-file "$SERVER_CA" \
    -o "$T/$1.pem" --force
}
for d in dev1 dev2 dev3; do attest "$d"; done

# dreq DEV FILE: POST /v1/device/error-reports with the body in FILE over TLS
# with DEV's certificate and its Alias key in secmon (openssl s_client with
# the rampart-secmon provider); HTTP_STATUS and $T/http.body as http_req.
dreq() {
  local n
  n=$(wc -c <"$2")
  { printf 'POST /v1/device/error-reports HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n'
    printf 'Content-Length: %d\r\nConnection: close\r\n\r\n' "$n"
    cat "$2"; } |
    "$T/openssl" s_client -connect "127.0.0.1:$SERVER_PORT" -provider-path "$MODDIR" -provider default \
      -provider rampart_secmon -key "rampart-secmon:$T/$1/secmon.sock" -cert "$T/$1.pem" -CAfile "$SERVER_CA" \
      -verify_return_error -quiet -ign_eof >"$T/dreq.out" 2>"$T/dreq.err" || true
  HTTP_STATUS=$(sed -n '1s/^HTTP\/1\.1 \([0-9]*\).*/\1/p' "$T/dreq.out")
  tail -n 1 "$T/dreq.out" >"$T/http.body"
}
# events FILE PYTHON: FILE gets {"events": PYTHON} (APP1, APP2, NOW at hand).
events() {
  python3 - "$1" "$2" <<'EOF'
import json, os, sys
APP1, APP2, NOW = os.environ["APP1"], os.environ["APP2"], int(os.environ["NOW"])
json.dump({"events": eval(sys.argv[2])}, open(sys.argv[1], "w"))
EOF
}
# upload DESC DEV PYTHON: the events PYTHON from DEV, accepted.
upload() {
  events "$T/batch.json" "$3"
  dreq "$2" "$T/batch.json"
  local n
  n=$(python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))["events"]))' "$T/batch.json")
  if [ "$HTTP_STATUS" = 201 ] && [ "$(cat "$T/http.body")" = "{\"accepted\":$n}" ]; then ok; else
    fail "$1: answered '$HTTP_STATUS': $(cat "$T/http.body") $(head -c 300 "$T/dreq.err")"; fi
}
# drefused DESC STATUS CODE DEV FILE: refused so, with nothing stored.
drefused() {
  local before after
  before=$(store_sql "$S" "SELECT count(*) FROM error_reports")
  dreq "$4" "$5"
  cp "$T/http.body" "$T/refusal.json"
  refused_check "$1" "$2" "$3"
  after=$(store_sql "$S" "SELECT count(*) FROM error_reports")
  [ "$before" = "$after" ] && ok || fail "$1: the store went from $before to $after reports"
}
# refused_check DESC STATUS CODE: the last answer was that error.
refused_check() {
  if [ "$HTTP_STATUS" != "$2" ]; then
    fail "$1: answered '$HTTP_STATUS', expected $2 ($3): $(head -c 600 "$T/http.body") $(head -c 300 "$T/dreq.err")"
    return
  fi
  if python3 - "$T/http.body" "$3" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert set(j) == {"error"} and set(e) == {"code", "message"}, j
assert e["code"] == sys.argv[2], e["code"]
assert isinstance(e["message"], str) and len(e["message"]) > 10, e["message"]
EOF
  then ok; else fail "$1: not the error {\"code\": \"$3\"}: $(head -c 600 "$T/http.body")"; fi
}
count() { store_sql "$S" "SELECT count(*) FROM error_reports${1:+ WHERE $1}"; }

# --- a batch uploaded and listed ------------------------------------------------------
upload "dev1's batch of 4" dev1 '[
  {"at": NOW - 3600, "kind": "exit_code", "component_id": APP1, "exit_code": 3, "details": "main.c:42: assertion failed"},
  {"at": NOW - 1800, "kind": "signal", "component_id": APP1, "signal": 11, "details": "SIGSEGV at 0x0\nin\tread_sensor"},
  {"at": NOW - 600, "kind": "restart_loop", "component_id": APP2, "exit_code": 1, "details": None},
  {"at": NOW - 60, "kind": "attestation_failure"}]'
upload "dev2's batch of 2" dev2 '[
  {"at": NOW - 7200, "kind": "exit_code", "component_id": APP1, "exit_code": 1},
  {"at": NOW - 100, "kind": "update_failure", "details": "no space left for the image (Ünïcödé)"}]'
upload "dev3's batch (tenant other)" dev3 '[{"at": NOW - 10, "kind": "exit_code", "component_id": APP1, "exit_code": 9}]'
upload "an empty batch" dev1 '[]'
[ "$(count)" = 7 ] && ok || fail "the store holds $(count) reports, not 7"

call "acme's reports" 200 GET /v1/tenants/acme/error-reports
expect_json "six, dev3's not among them" 'len(j["error_reports"]) == 6 and E("D3") not in {r["device_id"] for r in j["error_reports"]}'
expect_json "newest first: the last batch received, then by the device's clock" '[(r["device_id"], r["at"]) for r in j["error_reports"]] == [(E("D2"), int(E("NOW")) - 100), (E("D2"), int(E("NOW")) - 7200), (E("D1"), int(E("NOW")) - 60), (E("D1"), int(E("NOW")) - 600), (E("D1"), int(E("NOW")) - 1800), (E("D1"), int(E("NOW")) - 3600)]'
expect_json "each report's members" 'all(set(r) == {"id", "device_id", "device_group", "at", "received_at", "component_id", "kind", "exit_code", "signal", "details"} for r in j["error_reports"])'
expect_json "the signal event as sent, with the device's group" 'j["error_reports"][4] == dict(j["error_reports"][4], device_id=E("D1"), device_group="gadget/Development", component_id=E("APP1"), kind="signal", exit_code=None, signal=11, details="SIGSEGV at 0x0\nin\tread_sensor")'
expect_json "received_at in microseconds, the same for a batch" 'abs(j["error_reports"][2]["received_at"] // 1000000 - int(E("NOW"))) < 3600 and len({r["received_at"] for r in j["error_reports"][2:]}) == 1 and len(str(j["error_reports"][2]["id"])) == 32'
expect_json "dev2's: its group, the UTF-8 details, null members" 'j["error_reports"][0]["device_group"] == "gadget/Field Test" and j["error_reports"][0]["details"].endswith("(Ünïcödé)") and j["error_reports"][0]["component_id"] is None and j["error_reports"][0]["exit_code"] is None'
call "other's reports" 200 GET /v1/tenants/other/error-reports
expect_json "only dev3's" '[(r["device_id"], r["exit_code"], r["device_group"]) for r in j["error_reports"]] == [(E("D3"), 9, "gadget/Production")]'

# --- filters --------------------------------------------------------------------------
# nlist DESC QUERY N: GET acme's reports?QUERY gives N.
nlist() {
  call "$1" 200 GET "/v1/tenants/acme/error-reports?$2"
  expect_json "$1: $3 reports" "len(j['error_reports']) == $3"
}
nlist "device=dev1" "device=$D1" 4
nlist "device=dev1 in capitals" "device=${D1^^}" 4
expect_json "all dev1's" 'all(r["device_id"] == E("D1") for r in j["error_reports"])'
nlist "device=dev3 (another tenant's)" "device=$D3" 0
nlist "device_group=gadget/Field Test" "device_group=$(urlenc "gadget/Field Test")" 2
nlist "device_group=gadget/Production (no reports)" "device_group=gadget/Production" 0
nlist "since" "since=$((NOW - 1000))" 3
expect_json "since: at or after" 'sorted(r["at"] for r in j["error_reports"]) == [int(E("NOW")) - 600, int(E("NOW")) - 100, int(E("NOW")) - 60]'
nlist "until (before it)" "until=$((NOW - 600))" 3
nlist "since and until" "since=$((NOW - 3600))&until=$((NOW - 100))" 3
nlist "kind=exit_code" "kind=exit_code" 2
nlist "kind and device" "kind=exit_code&device=$D2" 1
nlist "component_id" "component_id=$APP1" 3
nlist "component_id in capitals" "component_id=${APP1^^}" 3
nlist "component and kind" "component_id=$APP1&kind=signal" 1
nlist "limit" "limit=2" 2
expect_json "limit: the newest" '[r["at"] for r in j["error_reports"]] == [int(E("NOW")) - 100, int(E("NOW")) - 7200]'
refused "device malformed" 400 bad_request GET "/v1/tenants/acme/error-reports?device=xyz"
refused "device and device_group" 400 bad_request GET "/v1/tenants/acme/error-reports?device=$D1&device_group=gadget/Development"
refused "an unknown group" 400 bad_request GET "/v1/tenants/acme/error-reports?device_group=gadget/Nope"
refused "an unknown kind" 400 bad_request GET "/v1/tenants/acme/error-reports?kind=crash"
refused "since not seconds" 400 bad_request GET "/v1/tenants/acme/error-reports?since=yesterday"
refused "until negative" 400 bad_request GET "/v1/tenants/acme/error-reports?until=-5"
refused "component_id not a GUID" 400 bad_request GET "/v1/tenants/acme/error-reports?component_id=app1"
refused "limit 0" 400 bad_request GET "/v1/tenants/acme/error-reports?limit=0"

# --- the summary ----------------------------------------------------------------------
call "acme's summary" 200 GET /v1/tenants/acme/error-reports/summary
expect_json "by app and kind, the most frequent first" 'j["summary"][0] == {"component_id": E("APP1"), "kind": "exit_code", "count": 2, "devices": 2, "first_at": int(E("NOW")) - 7200, "last_at": int(E("NOW")) - 3600}'
expect_json "every pair once" 'sorted((s["component_id"] or "", s["kind"], s["count"], s["devices"]) for s in j["summary"]) == sorted([(E("APP1"), "exit_code", 2, 2), (E("APP1"), "signal", 1, 1), (E("APP2"), "restart_loop", 1, 1), ("", "attestation_failure", 1, 1), ("", "update_failure", 1, 1)])'
call "the summary of dev1" 200 GET "/v1/tenants/acme/error-reports/summary?device=$D1&kind=exit_code"
expect_json "dev1's exit codes" 'j["summary"] == [{"component_id": E("APP1"), "kind": "exit_code", "count": 1, "devices": 1, "first_at": int(E("NOW")) - 3600, "last_at": int(E("NOW")) - 3600}]'
call "the summary of a group, since" 200 GET "/v1/tenants/acme/error-reports/summary?device_group=$(urlenc "gadget/Field Test")&since=$((NOW - 1000))"
expect_json "dev2's update failure" '[(s["kind"], s["count"]) for s in j["summary"]] == [("update_failure", 1)]'
refused "summary: an unknown kind" 400 bad_request GET "/v1/tenants/acme/error-reports/summary?kind=x"

# --- who may read, who may write ------------------------------------------------------
API_TOKEN=$READER call "a Reader lists" 200 GET /v1/tenants/acme/error-reports
expect_json "a Reader sees them" 'len(j["error_reports"]) == 6'
API_TOKEN=$READER call "a Reader's summary" 200 GET /v1/tenants/acme/error-reports/summary
API_TOKEN=$READER refused "a Reader of acme, other's reports" 404 not_found GET /v1/tenants/other/error-reports
API_TOKEN=$READER refused "a Reader's token writes no report" 401 unauthenticated POST /v1/device/error-reports \
  "$(events /dev/stdout '[{"at": NOW, "kind": "restart_loop"}]')"
refused "an operator's token writes no report" 401 unauthenticated POST /v1/device/error-reports \
  "$(events /dev/stdout '[{"at": NOW, "kind": "restart_loop"}]')"
API_TOKEN= refused "no token, no certificate" 401 unauthenticated GET /v1/tenants/acme/error-reports

# --- the CLI: rampart device error-report -----------------------------------------------
ER=("$RAMPART" device error-report --server "$SERVER_URL" --ca-file "$SERVER_CA" --token-file "$ADMIN_TOKEN_FILE" --tenant acme)
# jlen KEY: the length of the array KEY in the last command's JSON stdout.
jlen() { python3 -c 'import json, sys; print(len(json.load(open(sys.argv[1]))[sys.argv[2]]))' "$T/out" "$1"; }
# clen DESC KEY N ARGS...: the CLI's -o json answer has N in KEY.
clen() {
  local desc=$1 key=$2 n=$3; shift 3
  expect_ok "$desc" "${ER[@]}" "$@" -o json
  [ "$(jlen "$key" 2>&1)" = "$n" ] && ok || fail "$desc: $(jlen "$key" 2>&1) in $key, not $n: $(head -c 300 "$T/out")"
}
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
expect_ok "error-report (table)" "${ER[@]}"
expect_out "table: header" "^AT +DEVICE +DEVICE GROUP +COMPONENT +KIND +EXIT CODE +SIGNAL +DETAILS$"
expect_out "table: dev1's exit code" "^$(iso $((NOW - 3600))) +$D1 +gadget/Development +$APP1 +exit_code +3 +- +main\.c:42: assertion failed$"
expect_out "table: dev2's, no component" "^$(iso $((NOW - 100))) +$D2 +gadget/Field Test +- +update_failure +- +- +no space"
expect_out "table: line feed and tab escaped" 'SIGSEGV at 0x0\\x0ain\\x09read_sensor$'
expect_no_controls "table: nothing raw"
[ "$(wc -l <"$T/out")" = 7 ] && ok || fail "table: $(wc -l <"$T/out") lines, not a header and 6 rows"
clen "error-report -o json" error_reports 6
clen "--device" error_reports 4 --device "${D1^^}"
clen "--product --device-group" error_reports 2 --product gadget --device-group "Field Test"
clen "--device-group P/G" error_reports 2 --device-group "gadget/Field Test"
clen "--since seconds" error_reports 3 --since $((NOW - 1000))
clen "--since ISO date-time" error_reports 3 --since "$(iso $((NOW - 1000)))"
clen "--since ISO date-time without Z" error_reports 3 --since "$(iso $((NOW - 1000)) | tr -d Z)"
clen "--until ISO date-time" error_reports 3 --until "$(iso $((NOW - 600)))"
clen "--since an age (25m)" error_reports 3 --since 25m
clen "--since an age (3h)" error_reports 6 --since 3h
clen "--until an age (90m)" error_reports 1 --until 90m
clen "--since a date" error_reports 6 --since 2020-01-01
clen "--until a date" error_reports 0 --until 2020-01-02
clen "--kind" error_reports 1 --kind signal
clen "--component" error_reports 1 --component "${APP2^^}"
clen "--limit" error_reports 2 --limit 2
clen "--summary -o json" summary 5 --summary
expect_ok "--summary (table)" "${ER[@]}" --summary
expect_out "summary: header" "^COMPONENT +KIND +COUNT +DEVICES +FIRST +LAST$"
expect_out "summary: the first row" "^$APP1 +exit_code +2 +2 +$(iso $((NOW - 7200))) +$(iso $((NOW - 3600)))$"
expect_out "summary: no component" "^- +attestation_failure +1 +1 "
clen "--summary --device --since" summary 3 --summary --device "$D1" --since 45m
(umask 077; echo "$READER" >"$T/reader.token")
clen "the Reader, with the CLI" error_reports 6 --token-file "$T/reader.token"
expect_fail "--since garbage" 2 "--since: expected seconds since the epoch, a date or date-time in UTC" "${ER[@]}" --since yesterday
expect_fail "--since a date that is not one" 2 "--since: expected" "${ER[@]}" --since 2026-02-30
expect_fail "--until a time that is not one" 2 "--until: expected" "${ER[@]}" --until 2026-01-01T24:00:00Z
expect_fail "--since an age with a sign" 2 "--since: expected" "${ER[@]}" --since -5m
expect_fail "--kind" 2 "--kind: expected exit_code, signal, restart_loop, update_failure or attestation_failure" "${ER[@]}" --kind crash
expect_fail "--component" 2 "--component: expected a component id" "${ER[@]}" --component app1
expect_fail "--device and --device-group" 2 "give one or the other" "${ER[@]}" --device "$D1" --device-group gadget/Development
expect_fail "--product alone" 2 "--product P: give --device-group G" "${ER[@]}" --product gadget
expect_fail "--device-group alone" 2 "--device-group: give --product P" "${ER[@]}" --device-group Development
expect_fail "--device malformed" 2 "is not a device id" "${ER[@]}" --device 12
expect_fail "--limit" 2 "--limit: expected a whole number from 1 to 1000" "${ER[@]}" --limit 0
expect_fail "an unknown group" 1 "server refused: bad_request: device_group: the tenant has no device group" \
  "${ER[@]}" --product gadget --device-group Nope

# --- refused batches: nothing of them stored ----------------------------------------------
GOOD='{"at": NOW - 5, "kind": "restart_loop", "component_id": APP1}'
events "$T/big.json" "[$GOOD] * 11"
drefused "11 events, the limit 10" 413 too_many_events dev1 "$T/big.json"
grep -q 'at most 10' "$T/refusal.json" && ok || fail "the refusal does not say the limit: $(cat "$T/refusal.json")"
events "$T/ten.json" "[$GOOD] * 10"
dreq dev1 "$T/ten.json"
[ "$HTTP_STATUS" = 201 ] && ok || fail "10 events (the limit) answered $HTTP_STATUS: $(cat "$T/http.body")"
store_sql "$S" "DELETE FROM error_reports WHERE at = $((NOW - 5))" >/dev/null
python3 -c 'import sys; open(sys.argv[1], "w").write("{\"events\": [" + " " * (1024 * 1024) + "]}")' "$T/huge.json"
# libevent answers it before any handler, and closes the connection: the
# client may see the 413 or only the close, as in integration/server-limits.
TOTAL=$(count)
dreq dev1 "$T/huge.json"
[[ "$HTTP_STATUS" =~ ^(413|)$ ]] && [ "$(count)" = "$TOTAL" ] && ok ||
  fail "a body over --max-body answered '$HTTP_STATUS', the store holds $(count) reports, not $TOTAL"
server_alive "after a body over --max-body"
# bad DESC PYTHON-EVENT [CODE]: a batch of a good event and PYTHON-EVENT,
# refused 400 CODE (bad_request).
bad() {
  events "$T/bad.json" "[$GOOD, $2]"
  drefused "$1" 400 "${3:-bad_request}" dev1 "$T/bad.json"
}
bad "at missing" '{"kind": "restart_loop"}'
bad "at a string" '{"at": str(NOW), "kind": "restart_loop"}'
bad "at a fraction" '{"at": NOW + 0.5, "kind": "restart_loop"}'
bad "at before 2020" '{"at": 1577836799, "kind": "restart_loop"}'
bad "at more than a day ahead" '{"at": NOW + 86400 + 600, "kind": "restart_loop"}'
bad "at null" '{"at": None, "kind": "restart_loop"}'
bad "kind missing" '{"at": NOW}'
bad "kind unknown" '{"at": NOW, "kind": "crash"}'
bad "kind not a string" '{"at": NOW, "kind": 1}'
bad "component_id in capitals" '{"at": NOW, "kind": "restart_loop", "component_id": APP1.upper()}'
bad "component_id not a GUID" '{"at": NOW, "kind": "restart_loop", "component_id": "app1"}'
bad "component_id in braces" '{"at": NOW, "kind": "restart_loop", "component_id": "{" + APP1 + "}"}'
bad "component_id a number" '{"at": NOW, "kind": "restart_loop", "component_id": 7}'
bad "exit_code missing for an exit_code event" '{"at": NOW, "kind": "exit_code"}'
bad "exit_code 256" '{"at": NOW, "kind": "exit_code", "exit_code": 256}'
bad "exit_code -1" '{"at": NOW, "kind": "exit_code", "exit_code": -1}'
bad "exit_code a string" '{"at": NOW, "kind": "exit_code", "exit_code": "1"}'
bad "signal missing for a signal event" '{"at": NOW, "kind": "signal"}'
bad "signal 0" '{"at": NOW, "kind": "signal", "signal": 0}'
bad "signal 65" '{"at": NOW, "kind": "signal", "signal": 65}'
bad "details 1025 bytes" '{"at": NOW, "kind": "restart_loop", "details": "é" * 512 + "x"}'
bad "details with an escape character" '{"at": NOW, "kind": "restart_loop", "details": "red \u001b[31m"}'
bad "details with a bidirectional control" '{"at": NOW, "kind": "restart_loop", "details": "a\u202eb"}'
bad "details with a NUL (no JSON the server reads)" '{"at": NOW, "kind": "restart_loop", "details": "a\u0000b"}' bad_json
bad "details a number" '{"at": NOW, "kind": "restart_loop", "details": 5}'
bad "an unknown member" '{"at": NOW, "kind": "restart_loop", "tenant": "acme"}'
bad "an event that is not an object" '"restart_loop"'
grep -q 'events\[1\]' "$T/refusal.json" && ok || fail "the refusal does not name the event: $(cat "$T/refusal.json")"
printf '{"events": {}}' >"$T/bad.json"
drefused "events not an array" 400 bad_request dev1 "$T/bad.json"
printf '{"events": [], "device_id": "%s"}' "$D2" >"$T/bad.json"
drefused "a member besides events" 400 bad_request dev1 "$T/bad.json"
printf '{"events": [' >"$T/bad.json"
drefused "not JSON" 400 bad_json dev1 "$T/bad.json"
printf '[]' >"$T/bad.json"
drefused "an array, not an object" 400 bad_json dev1 "$T/bad.json"
# The limits themselves are accepted.
upload "the edges: 1024 bytes of details, 2020-01-01, a day ahead, exit 0 and 255, signal 64" dev1 '[
  {"at": 1577836800, "kind": "exit_code", "exit_code": 0, "details": "é" * 512},
  {"at": NOW + 86400 - 600, "kind": "exit_code", "exit_code": 255},
  {"at": NOW - 1, "kind": "signal", "signal": 64, "exit_code": None, "component_id": None}]'
call "dev1's reports" 200 GET "/v1/tenants/acme/error-reports?device=$D1&limit=3"
expect_json "stored as sent" '[(r["at"], r["exit_code"], r["signal"], len((r["details"] or "").encode())) for r in j["error_reports"]] == [(int(E("NOW")) + 86400 - 600, 255, None, 0), (int(E("NOW")) - 1, None, 64, 0), (1577836800, 0, None, 1024)]'
call "dev1's exit codes, counted" 200 GET "/v1/tenants/acme/error-reports/summary?device=$D1&kind=exit_code"
expect_json "two events of one device: count 2, devices 1" 'sorted(((s["component_id"] or ""), s["count"], s["devices"], s["first_at"], s["last_at"]) for s in j["summary"]) == [("", 2, 1, 1577836800, int(E("NOW")) + 86400 - 600), (E("APP1"), 1, 1, int(E("NOW")) - 3600, int(E("NOW")) - 3600)]'

# --- another tenant's device, a released device -------------------------------------------
TOTAL=$(count)
call "other releases dev3" 204 DELETE "/v1/tenants/other/devices/$D3"
call "acme claims dev3" 201 POST /v1/tenants/acme/devices "$(body device_id="$D3" device_group=gadget/Production)"
events "$T/one.json" "[$GOOD]"
drefused "dev3 with other's certificate, now claimed by acme" 403 forbidden dev3 "$T/one.json"
call "acme accepts dev3's software" 201 POST /v1/tenants/acme/releases \
  "$(body kind=os name=OS3 version=1 measurement="$(jfile "$T/dev3.json" measurement)")"
attest dev3
upload "dev3 with acme's certificate" dev3 "[$GOOD]"
[ "$(count "tenant_id = (SELECT id FROM tenants WHERE name = 'acme') AND device_id = '$D3'")" = 1 ] && ok ||
  fail "dev3's report is not acme's"
call "other's reports" 200 GET /v1/tenants/other/error-reports
expect_json "other keeps dev3's report from before, and no more" '[r["exit_code"] for r in j["error_reports"]] == [9]'
call "acme's reports of dev3" 200 GET "/v1/tenants/acme/error-reports?device=$D3"
expect_json "only what dev3 sent as acme's" 'len(j["error_reports"]) == 1 and j["error_reports"][0]["device_group"] == "gadget/Production"'
call "acme releases dev2" 204 DELETE "/v1/tenants/acme/devices/$D2"
drefused "a released device" 403 forbidden dev2 "$T/one.json"
call "dev2's reports from before" 200 GET "/v1/tenants/acme/error-reports?device=$D2"
expect_json "stay the tenant's" 'len(j["error_reports"]) == 2'
[ "$(count)" = $((TOTAL + 1)) ] && ok || fail "the store holds $(count) reports, not $((TOTAL + 1))"
server_alive "after the refusals"

# --- retention: the newest N per device ------------------------------------------------------
stop_server
start_server "$S" --report-max-batch 10 --report-max-events 3 || { finish; exit 1; }
D1COUNT="device_id = '$D1'"
upload "dev1: two more" dev1 '[{"at": NOW + 1, "kind": "restart_loop"}, {"at": NOW + 2, "kind": "restart_loop"}]'
[ "$(count "$D1COUNT")" = 3 ] && ok || fail "dev1 has $(count "$D1COUNT") reports, not 3"
call "dev1's" 200 GET "/v1/tenants/acme/error-reports?device=$D1"
expect_json "the two new and the newest before them" '[r["at"] for r in j["error_reports"]] == [int(E("NOW")) + 2, int(E("NOW")) + 1, int(E("NOW")) + 86400 - 600]'
upload "dev1: a batch of 5" dev1 '[{"at": NOW + 10 + i, "kind": "signal", "signal": 9} for i in (3, 1, 4, 0, 2)]'
call "dev1's" 200 GET "/v1/tenants/acme/error-reports?device=$D1"
expect_json "the batch's 3 latest by the device's clock" '[r["at"] for r in j["error_reports"]] == [int(E("NOW")) + 14, int(E("NOW")) + 13, int(E("NOW")) + 12]'
[ "$(count "$D1COUNT")" = 3 ] && ok || fail "dev1 has $(count "$D1COUNT") reports, not 3"
[ "$(count "device_id = '$D2'")" = 2 ] && ok || fail "dev1's trim touched dev2's reports"
[ "$(count "device_id = '$D3'")" = 2 ] && ok || fail "dev1's trim touched dev3's reports"

# --- retention: nothing older than --report-max-age --------------------------------------------
# Received times set in the store: dev2's reports a day old, dev3's in
# other a day old, the rest an hour ahead (so that how long this test takes
# does not matter).
store_sql "$S" "UPDATE error_reports SET received_at = received_at - 86400000000 WHERE device_id IN ('$D2', '$D3')" >/dev/null
store_sql "$S" "UPDATE error_reports SET received_at = received_at + 3600000000 WHERE device_id = '$D1'" >/dev/null
stop_server
start_server "$S" --report-max-age 60 || { finish; exit 1; }
call "acme's, before any upload" 200 GET /v1/tenants/acme/error-reports
expect_json "the old ones are not shown" 'len(j["error_reports"]) == 3 and {r["device_id"] for r in j["error_reports"]} == {E("D1")}'
call "other's" 200 GET /v1/tenants/other/error-reports
expect_json "other's old one neither" 'j["error_reports"] == []'
call "acme's summary" 200 GET "/v1/tenants/acme/error-reports/summary?device=$D2"
expect_json "nor counted" 'j["summary"] == []'
[ "$(count "device_id IN ('$D2', '$D3')")" = 4 ] && ok || fail "the old ones went before an upload"
upload "dev1: one more" dev1 '[{"at": NOW, "kind": "update_failure"}]'
[ "$(count "device_id = '$D2'")" = 0 ] && ok || fail "dev2's old reports in acme are still stored"
[ "$(count "device_id = '$D3' AND tenant_id = (SELECT id FROM tenants WHERE name = 'acme')")" = 0 ] && ok ||
  fail "dev3's old report in acme is still stored"
[ "$(count "device_id = '$D3' AND tenant_id = (SELECT id FROM tenants WHERE name = 'other')")" = 1 ] && ok ||
  fail "acme's upload deleted other's reports"
[ "$(count "$D1COUNT")" = 4 ] && ok || fail "dev1 has $(count "$D1COUNT") reports, not 4"

# --- the device's side: rampart device report-errors ---------------------------------------
# A server taking 3 events a request; the CLI sends 8 (all, under its 100),
# then 4 in halves, and 2 are taken.
stop_server
start_server "$S" --report-max-batch 3 || { finish; exit 1; }
RE=("$RAMPART" device report-errors --server "$SERVER_URL" --ca-file "$SERVER_CA")
ER=("$RAMPART" device error-report --server "$SERVER_URL" --ca-file "$SERVER_CA" --token-file "$ADMIN_TOKEN_FILE" --tenant acme)
python3 - "$T/events.json" <<'EOF2'
import json, os, sys
NOW, APP2 = int(os.environ["NOW"]), os.environ["APP2"]
json.dump([{"at": NOW - 5000 + i, "kind": "exit_code", "component_id": APP2.upper(), "exit_code": i,
            "details": "run %d\nexited" % i} for i in range(8)], open(sys.argv[1], "w"))
EOF2
BEFORE=$(count "$D1COUNT")
expect_ok "report-errors: 8 events, batches halved to the server's 3" "${RE[@]}" --state-dir "$T/dev1" --file "$T/events.json"
expect_line "report-errors: says so" out "Uploaded 8 events in 4 batches of at most 2."
[ "$(count "$D1COUNT")" = $((BEFORE + 8)) ] && ok || fail "dev1 has $(count "$D1COUNT") reports, not $((BEFORE + 8))"
[ -s "$T/dev1/service/certificate.pem" ] && ok || fail "the session kept no certificate"
expect_ok "error-report shows them" "${ER[@]}" --device "$D1" --component "$APP2" --kind exit_code -o json
cp "$T/out" "$T/shown.json"
expect_ok "as sent, the component id lowercased" python3 - "$T/shown.json" <<'EOF2'
import json, os, sys
r = json.load(open(sys.argv[1]))["error_reports"]
NOW, APP2 = int(os.environ["NOW"]), os.environ["APP2"]
assert sorted((e["at"], e["exit_code"], e["details"], e["component_id"]) for e in r) == \
    [(NOW - 5000 + i, i, "run %d\nexited" % i, APP2) for i in range(8)], r
EOF2
python3 -c 'import json, sys; json.dump({"events": json.load(open(sys.argv[1]))[:5]}, open(sys.argv[2], "w"))' \
  "$T/events.json" "$T/events-obj.json"
expect_ok "report-errors {\"events\": [...]} --batch 2 -o json" "${RE[@]}" --state-dir "$T/dev1" --file "$T/events-obj.json" \
  --batch 2 -o json
cp "$T/out" "$T/summary.json"
expect_ok "the JSON summary" python3 -c 'import json, os, sys; j = json.load(open(sys.argv[1]))
assert j == {"device_id": os.environ["D1"], "events": 5, "batches": 3, "batch_size": 2}, j' "$T/summary.json"
printf '[]' >"$T/none.json"
expect_ok "report-errors: no events" "${RE[@]}" --state-dir "$T/dev1" --file "$T/none.json"
expect_line "report-errors: none" out "Uploaded 0 events in 0 batches of at most 100."
BEFORE=$(count)
# refuse DESC PATTERN EVENTS-PYTHON: the file is refused before anything is sent.
refuse_file() {
  python3 - "$T/badfile.json" "$3" <<'EOF2'
import json, os, sys
NOW = int(os.environ["NOW"])
json.dump(eval(sys.argv[2]), open(sys.argv[1], "w"))
EOF2
  expect_fail "report-errors: $1" 1 "$2" "${RE[@]}" --state-dir "$T/dev1" --file "$T/badfile.json"
  expect_err "report-errors: $1: nothing sent" "^hint: nothing was sent"
}
refuse_file "a bad kind" "badfile\.json: event 1: kind: expected exit_code" '[{"at": NOW, "kind": "signal", "signal": 9}, {"at": NOW, "kind": "crash"}]'
refuse_file "at before 2020" "event 0: at: expected seconds since the epoch, 2020 or later" '[{"at": 100, "kind": "restart_loop"}]'
refuse_file "a component id" "event 0: component_id: expected a GUID" '[{"at": NOW, "kind": "restart_loop", "component_id": "app"}]'
refuse_file "an exit code" "event 0: exit_code: expected an integer from 0 to 255" '[{"at": NOW, "kind": "exit_code", "exit_code": 300}]'
refuse_file "no signal" "event 0: signal: missing" '[{"at": NOW, "kind": "signal"}]'
refuse_file "long details" "event 0: details: expected at most 1024 bytes" '[{"at": NOW, "kind": "restart_loop", "details": "x" * 1025}]'
refuse_file "an unknown member" "event 0: unknown member 'device'" '[{"at": NOW, "kind": "restart_loop", "device": "x"}]'
refuse_file "an object of other members" 'expected an array of events or \{"events": \[\.\.\.\]\}' '{"events": [], "more": 1}'
printf '[{"at": 1' >"$T/badfile.json"
expect_fail "report-errors: not JSON" 1 "badfile\.json: line 1, column" "${RE[@]}" --state-dir "$T/dev1" --file "$T/badfile.json"
[ "$(count)" = "$BEFORE" ] && ok || fail "a refused file stored something: $(count) reports, not $BEFORE"
events "$T/ahead.json" '[{"at": NOW + 3 * 86400, "kind": "restart_loop"}]'
expect_fail "report-errors: the server's clock refuses" 1 "sent 0 of 1 events; the batch of events 0 to 0: server refused: bad_request: events\[0\]\.at" \
  "${RE[@]}" --state-dir "$T/dev1" --file "$T/ahead.json"
expect_err "report-errors: the clock: hint" "^hint: fix the event the message names"
expect_fail "report-errors: a released device" 1 "device_unclaimed" "${RE[@]}" --state-dir "$T/dev2" --file "$T/events.json"
[ "$(count)" = "$BEFORE" ] && ok || fail "a refused upload stored something: $(count) reports, not $BEFORE"
expect_fail "report-errors: no --file" 2 "missing --file EVENTS" "${RE[@]}" --state-dir "$T/dev1"
expect_fail "report-errors: no --state-dir" 2 "missing --state-dir D" "${RE[@]}" --file "$T/events.json"
expect_fail "report-errors: --batch 0" 2 "--batch: expected a whole number from 1 to 10000, got '0'" \
  "${RE[@]}" --state-dir "$T/dev1" --file "$T/events.json" --batch 0
expect_fail "report-errors: no file" 1 "nothing\.json" "${RE[@]}" --state-dir "$T/dev1" --file "$T/nothing.json"
expect_ok "report-errors --help" "$RAMPART" device report-errors --help
expect_out "report-errors --help: usage" "^Usage: rampart device report-errors --state-dir D --server URL --ca-file F --file EVENTS$"

server_alive "at the end"
stop_server
for d in dev1 dev2 dev3; do stop "sm-$d"; done
finish
