#!/usr/bin/env bash
# GET /healthz tells a load balancer whether this server can reach its
# store: on PostgreSQL, when the database refuses the server's connection,
# /healthz answers 503 store_unavailable (the rest of the server still
# answers: /metrics), and 200 again once the database lets it back in. And
# sd_notify: READY=1 on NOTIFY_SOCKET once the server listens.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/postgres.sh"
source "$(dirname "$0")/server.sh"

# --- readiness through NOTIFY_SOCKET ---------------------------------------
python3 - "$T/notify.sock" >"$T/notify.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
print(s.recv(256).decode(), flush=True)
PY
notify_pid=$!
for ((i = 0; i < 600; i++)); do [ -S "$T/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$T/notify.sock start_server "$T/d0" --workers 1 || { finish; exit 1; }
wait "$notify_pid" || true
grep -qx 'READY=1' "$T/notify.out" && ok || fail "no READY=1 on NOTIFY_SOCKET: $(cat "$T/notify.out")"
stop_server

# --- the store going away and coming back ------------------------------------
start_postgres || { fail "PostgreSQL did not start"; finish; exit 1; }
# One worker: every request uses the one store connection.
RAMPART_TEST_STORE=$RAMPART_TEST_PG_URL start_server "$T/d1" --workers 1 || { finish; exit 1; }
http_req GET /healthz
[ "$HTTP_STATUS" = 200 ] && jq -e '.store == "postgres"' "$T/http.body" >/dev/null && ok ||
  fail "healthz on PostgreSQL: $HTTP_STATUS $(cat "$T/http.body")"
# Lock the server out: no new logins, and its connection ended.
pg_admin "ALTER ROLE rampart NOLOGIN" \
  "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE usename = 'rampart'" >/dev/null
http_req GET /healthz
[ "$HTTP_STATUS" = 503 ] && jq -e '.error.code == "store_unavailable"' "$T/http.body" >/dev/null && ok ||
  fail "healthz without its store: $HTTP_STATUS $(cat "$T/http.body")"
grep -qi '^Retry-After: 1' "$T/http.headers" && ok || fail "503 without Retry-After: $(cat "$T/http.headers")"
grep -q 'event=health-failed' "$SERVER_LOG" && ok || fail "the failed health check was not logged"
http_req GET /metrics
[ "$HTTP_STATUS" = 200 ] && grep -qE '^rampart_errors_total\{kind="store"\} [1-9]' "$T/http.body" && ok ||
  fail "metrics without the store: $HTTP_STATUS $(grep errors_total "$T/http.body")"
# Let it back in: the next check reconnects.
pg_admin "ALTER ROLE rampart LOGIN" >/dev/null
http_req GET /healthz
[ "$HTTP_STATUS" = 200 ] && ok || fail "healthz after the store came back: $HTTP_STATUS $(cat "$T/http.body")"
stop_server

finish
