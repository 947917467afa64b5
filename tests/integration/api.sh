# Sourced by the API's integration tests (after lib.sh and server.sh): the
# store they run against, and assertions on JSON answers.
#
#   store_setup      RAMPART_TEST_STORE_KIND=postgres (CTest's *-postgres
#                    variants): a throwaway PostgreSQL (postgres.sh), and
#                    RAMPART_TEST_STORE its URL, which start_server passes
#                    as --store; sqlite (the default): the embedded store.
#   store_sql DATA_DIR SQL   one statement on the store, straight (rows on
#                    stdout, cells separated by '|'): to look at tables, or
#                    to age a token, as nothing in the API can.
#   call DESC STATUS METHOD PATH [BODY]   http_req, and the status must be
#                    STATUS; the answer is in $T/http.body.
#   refused DESC STATUS CODE METHOD PATH [BODY]   the status and the error
#                    code must be these, with a message.
#   jq_ EXPR         prints the Python expression EXPR of the answer j
#                    (json.load of $T/http.body), for ${...} captures.
#   expect_json DESC EXPR   the Python expression EXPR of j must be true
#                    (E is os.environ.get, for values exported to it).
#   body K=V K:=JSON ...    a JSON object (V a string, JSON raw), printed.
#   urlenc S         S percent-encoded for a path.
: "${RAMPART_SERVER:?run this test through ctest}"

STORE_KIND=${RAMPART_TEST_STORE_KIND:-sqlite}

store_setup() {
  case "$STORE_KIND" in
    sqlite) unset RAMPART_TEST_STORE ;;
    postgres)
      . "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
      start_postgres || { fail "PostgreSQL did not start"; return 1; }
      export RAMPART_TEST_STORE=$RAMPART_TEST_PG_URL ;;
    *) fail "RAMPART_TEST_STORE_KIND is '$STORE_KIND': sqlite or postgres"; return 1 ;;
  esac
  ok
}

store_sql() {
  if [ "$STORE_KIND" = postgres ]; then
    pg_admin -d rampart "$2"
  else
    sqlite3 -bail "$1/rampart.db" "$2"
  fi
}

call() {
  local desc=$1 want=$2; shift 2
  http_req "$@"
  if [ "$HTTP_STATUS" = "$want" ]; then ok
  else fail "$desc: $1 $2 answered '$HTTP_STATUS', expected $want: $(head -c 600 "$T/http.body") $(cat "$T/http.err")"; fi
}

refused() {
  local desc=$1 want=$2 code=$3; shift 3
  http_req "$@"
  if [ "$HTTP_STATUS" != "$want" ]; then
    fail "$desc: $1 $2 answered '$HTTP_STATUS', expected $want ($code): $(head -c 600 "$T/http.body")"; return
  fi
  if python3 - "$T/http.body" "$code" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
e = j["error"]
assert set(j) == {"error"} and set(e) == {"code", "message"}, j
assert e["code"] == sys.argv[2], e["code"]
assert isinstance(e["message"], str) and len(e["message"]) > 10, e["message"]
EOF
  then ok; else fail "$desc: not the error {\"code\": \"$code\"}: $(head -c 600 "$T/http.body")"; fi
}

jq_() {
  python3 - "$T/http.body" "$1" <<'EOF'
import json, os, sys
E = os.environ.get
j = json.load(open(sys.argv[1]))
v = eval(sys.argv[2])
print(json.dumps(v) if isinstance(v, (dict, list)) or v is None or isinstance(v, bool) else v)
EOF
}

expect_json() {
  if python3 - "$T/http.body" "$2" >"$T/json.err" 2>&1 <<'EOF'
import json, os, sys
E = os.environ.get
j = json.load(open(sys.argv[1]))
assert eval(sys.argv[2])
EOF
  then ok; else fail "$1: not ($2): $(head -c 600 "$T/http.body") $(tail -n 1 "$T/json.err")"; fi
}

body() {
  python3 - "$@" <<'EOF'
import json, sys
o = {}
for a in sys.argv[1:]:
    i = a.index("=")
    if i > 0 and a[i - 1] == ":":
        o[a[:i - 1]] = json.loads(a[i + 1:])
    else:
        o[a[:i]] = a[i + 1:]
print(json.dumps(o))
EOF
}

urlenc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$1"; }
