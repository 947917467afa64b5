# Sourced by integration tests (after lib.sh) that need a running
# rampart-server: the real program over real TLS on a free loopback port.
#
#   start_server DATA_DIR [ARGS...]
#                    starts rampart-server --data-dir DATA_DIR --listen
#                    127.0.0.1:0 ARGS in the background (--store
#                    $RAMPART_TEST_STORE when that is set, else the embedded
#                    SQLite default), waits (bounded) for its event=ready line
#                    and exports
#                      SERVER_URL        https://127.0.0.1:PORT (https://[::1]:PORT
#                                        with --listen '[::1]:0' in ARGS)
#                      SERVER_PORT       PORT
#                      SERVER_CA         DATA_DIR/tls/ca.pem (what clients trust)
#                      ADMIN_TOKEN_FILE  DATA_DIR/admin.token
#                      SERVER_PID, SERVER_LOG (its stderr)
#                    Returns 1 (after fail, with the log) if it does not get
#                    ready. Several may run at once: save the variables
#                    between starts. Call it from the script itself, not in
#                    $(...): the server gets SIGTERM if the script dies.
#   stop_server [PID]  SIGTERM to PID (default $SERVER_PID); it must exit 0
#                    within a bounded wait, and its log must hold no
#                    sanitizer report. Every server still running when the
#                    script ends is stopped the same way (EXIT trap).
#   server_alive DESC  the server $SERVER_PID still runs and answers GET
#                    /healthz with 200 (for after each attack).
#   http_req METHOD PATH [BODY]  one HTTPS request to $SERVER_URL (with
#                    "Authorization: Bearer $API_TOKEN" when API_TOKEN is
#                    set); HTTP_STATUS gets the status, $T/http.body the body,
#                    $T/http.headers the headers. Never fails by itself.
# Environment (set by CTest): RAMPART_SERVER.
: "${RAMPART_SERVER:?run this test through ctest}"
SCHEMA_VERSION=$("$RAMPART_SERVER" --print-schema-version)

# Loopback needs no proxy, whatever the environment says.
export NO_PROXY='*' no_proxy='*'
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

declare -A _SRV_LOG=()
_SRV_N=0
SERVER_READY_WAIT=${SERVER_READY_WAIT:-120}      # seconds

_srv_sanitizer() { grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$1"; }

_srv_add_trap() {
  [ -n "${_SRV_TRAPPED:-}" ] && return
  local old=""
  if [ -n "$(trap -p EXIT)" ]; then eval "set -- $(trap -p EXIT)"; old=$3; fi
  # shellcheck disable=SC2064  # expand the old command now, once
  trap "_srv_stop_all; $old" EXIT
  _SRV_TRAPPED=1
}

_srv_stop_all() {
  local p
  for p in "${!_SRV_LOG[@]}"; do stop_server "$p" || true; done
}

start_server() {
  local dir=$1; shift
  local log pid addr port i store=()
  _SRV_N=$((_SRV_N + 1))
  log="$T/server-$_SRV_N.log"
  [ -n "${RAMPART_TEST_STORE:-}" ] && store=(--store "$RAMPART_TEST_STORE")
  _srv_add_trap
  : >"$log"
  setpriv --pdeathsig TERM "$RAMPART_SERVER" --data-dir "$dir" --listen 127.0.0.1:0 "${store[@]}" "$@" \
    2>"$log" &
  pid=$!
  _SRV_LOG[$pid]=$log
  for ((i = 0; i < SERVER_READY_WAIT * 10; i++)); do
    if grep -q 'event=ready' "$log"; then break; fi
    if ! kill -0 "$pid" 2>/dev/null; then break; fi
    sleep 0.1
  done
  if ! grep -q 'event=ready' "$log"; then
    kill -TERM "$pid" 2>/dev/null || true
    local rc=0
    wait "$pid" || rc=$?
    unset "_SRV_LOG[$pid]"
    fail "rampart-server did not get ready (exit $rc, line ${BASH_LINENO[0]}): $(cat "$log")"
    return 1
  fi
  # listen=127.0.0.1:PORT, or [::1]:PORT when ARGS chose IPv6
  addr=$(sed -n 's/.*event=ready listen=\([^ ]*\) .*/\1/p' "$log" | head -n 1)
  port=${addr##*:}
  export SERVER_PORT=$port SERVER_URL="https://$addr" SERVER_CA="$dir/tls/ca.pem" \
    ADMIN_TOKEN_FILE="$dir/admin.token" SERVER_PID=$pid SERVER_LOG=$log
  ok
}

stop_server() {
  local pid=${1:-$SERVER_PID} rc=0 i
  local log=${_SRV_LOG[$pid]:-}
  if [ -z "$log" ]; then fail "stop_server: no server with pid $pid"; return 1; fi
  unset "_SRV_LOG[$pid]"
  if ! kill -TERM "$pid" 2>/dev/null; then
    wait "$pid" || rc=$?
    fail "rampart-server $pid was no longer running (exit $rc): $(tail -n 20 "$log")"
    return 1
  fi
  for ((i = 0; i < 600; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    fail "rampart-server $pid did not exit within 60 s of SIGTERM: $(tail -n 20 "$log")"
    return 1
  fi
  wait "$pid" || rc=$?
  if [ "$rc" -ne 0 ]; then fail "rampart-server $pid exited $rc after SIGTERM: $(tail -n 20 "$log")"; return 1; fi
  if _srv_sanitizer "$log"; then fail "rampart-server $pid: sanitizer report: $(cat "$log")"; return 1; fi
  if ! grep -q 'event=stop signal=TERM' "$log"; then
    fail "rampart-server $pid did not log its stop: $(tail -n 5 "$log")"; return 1
  fi
  ok
}

http_req() {
  local method=$1 path=$2 args=()
  [ "$#" -ge 3 ] && args+=(--data-binary "$3" -H 'Content-Type: application/json')
  [ -n "${API_TOKEN:-}" ] && args+=(-H "Authorization: Bearer $API_TOKEN")
  HTTP_STATUS=$(curl -sS -g --max-time 60 --cacert "$SERVER_CA" -X "$method" -D "$T/http.headers" \
    -o "$T/http.body" -w '%{http_code}' "${args[@]}" "$SERVER_URL$path" 2>"$T/http.err") || true
}

server_alive() {
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    fail "$1: rampart-server is gone: $(tail -n 20 "$SERVER_LOG")"; return 1
  fi
  local st
  st=$(curl -sS -g --max-time 60 --cacert "$SERVER_CA" -o "$T/alive.body" -w '%{http_code}' \
    "$SERVER_URL/healthz" 2>&1) || true
  if [ "$st" = 200 ] && grep -q '"status":"ok"' "$T/alive.body"; then ok; else
    fail "$1: GET /healthz afterwards gave '$st': $(cat "$T/alive.body" 2>/dev/null)"; return 1
  fi
}
