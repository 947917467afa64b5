#!/usr/bin/env bash
# rampart-server against hostile and broken clients (http-attack.c): a
# slowloris trickling headers or a body, a ClientHello then silence,
# oversized bodies and headers, malformed request lines and garbage,
# plaintext on the TLS port, 10,000 idle connections, a client over its
# request rate, and more connections than --max-connections. After each,
# the server must still serve a well-behaved client (GET /healthz).
# Outcomes only, never timings: the server closed the connection (within a
# generous bound), or answered with a status.
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/server.sh"
: "${RAMPART_HTTP_ATTACK:?run this test through ctest}"
ATTACK=$RAMPART_HTTP_ATTACK

# raw_is DESC REGEX: $T/req sent over TLS as it is; the answer's status
# line (or "closed") must match REGEX. (Not in a pipeline: a check in a
# subshell could not fail the test.)
raw_is() {
  local out
  out=$("$ATTACK" raw "$SERVER_PORT" <"$T/req" 2>&1) || true
  if [[ "$out" =~ $2 ]]; then ok; else fail "$1: got '$out', expected /$2/"; fi
}
metric() {  # metric NAME: its value in GET /metrics
  curl -sS --max-time 60 --cacert "$SERVER_CA" "$SERVER_URL/metrics" | sed -n "s/^$1 //p"
}

# --- slow clients ---------------------------------------------------------
# The idle timeout (120 s) is longer than the attacks' bound (30 s): only
# the request deadline can end them in time.
start_server "$T/d1" --workers 2 --request-timeout 2 --idle-timeout 120 --max-body 4096 --max-header 2048 \
  || { finish; exit 1; }
expect_ok "slowloris: header bytes one a second" "$ATTACK" slowloris "$SERVER_PORT" 30
expect_out "slowloris cut off" '^closed after'
server_alive "after slowloris"
expect_ok "slow body: body bytes one a second" "$ATTACK" slowbody "$SERVER_PORT" 30
expect_out "slow body cut off" '^closed after'
server_alive "after a slow body"
expect_ok "a ClientHello, then silence" "$ATTACK" hello "$SERVER_PORT" 30
expect_out "silent TLS client cut off" '^closed after'
server_alive "after a silent TLS client"
grep -q 'event=request-timeout remote=127\.0\.0\.1:[0-9]* timeout=2' "$SERVER_LOG" && ok ||
  fail "the deadline was not logged: $(tail -5 "$SERVER_LOG")"
grep -qE '^rampart_errors_total\{kind="request_timeout"\} [3-9]' <(curl -sS --cacert "$SERVER_CA" "$SERVER_URL/metrics") \
  && ok || fail "request timeouts not counted in /metrics"

# --- sizes ------------------------------------------------------------------
printf 'POST /v1/attest/nonce HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n' >"$T/req"
raw_is "declared body over --max-body" '^HTTP/1.1 413 '
{ printf 'POST /v1/attest/nonce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n'
  for i in $(seq 3); do printf '800\r\n%s\r\n' "$(head -c 2048 /dev/zero | tr '\0' a)"; done; printf '0\r\n\r\n'; } >"$T/req"
raw_is "chunked body over --max-body" '^HTTP/1.1 413 |^closed$'
server_alive "after oversized bodies"
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$(head -c 4000 /dev/zero | tr '\0' b)"; } >"$T/req"
raw_is "one header over --max-header" '^HTTP/1.1 (400|413|431) |^closed$'
{ printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n'; for i in $(seq 400); do printf 'X-H%d: v\r\n' "$i"; done; printf '\r\n'; } >"$T/req"
raw_is "many headers over --max-header" '^HTTP/1.1 (400|413|431) |^closed$'
{ printf 'GET /%s HTTP/1.1\r\nHost: x\r\n\r\n' "$(head -c 4000 /dev/zero | tr '\0' c)"; } >"$T/req"
raw_is "request line over --max-header" '^HTTP/1.1 (400|413|414|431) |^closed$'
server_alive "after oversized headers"
# Just under the limits, the same requests are served.
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n\r\n' "$(head -c 1500 /dev/zero | tr '\0' b)" >"$T/req"
raw_is "a header under --max-header" '^HTTP/1.1 200 '

# --- malformed requests -------------------------------------------------------
printf 'GET\r\n\r\n' >"$T/req"
raw_is "request line without target" '^HTTP/1.1 400 |^closed$'
printf 'GET / HTTP/9.9\r\n\r\n' >"$T/req"
raw_is "unknown HTTP version" '^HTTP/1.1 (400|505) |^closed$'
printf 'BREW /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/req"
raw_is "unknown method" '^HTTP/1.1 (400|405|501) |^closed$'
printf 'GET /healthz HTTP/1.1\r\nno colon here\r\n\r\n' >"$T/req"
raw_is "header line without ':'" '^HTTP/1.1 400 |^closed$'
printf 'POST /v1/attest/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n' >"$T/req"
raw_is "negative Content-Length" '^HTTP/1.1 400 |^closed$'
printf 'POST /v1/attest/nonce HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999999\r\n\r\n' >"$T/req"
raw_is "huge Content-Length" '^HTTP/1.1 (400|413) |^closed$'
printf 'POST /v1/attest/nonce HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n' >"$T/req"
raw_is "bad chunk size" '^HTTP/1.1 (400|413) |^closed$'
printf 'GET /v1/tenants/%%zz HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/req"
raw_is "bad escape in the path" '^HTTP/1.1 400 '
printf 'GET /healthz?%%zz=1 HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/req"
raw_is "bad escape in the query" '^HTTP/1.1 400 '
printf 'GET /v1/tenants/%%c0%%af HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/req"
raw_is "overlong UTF-8 in the path" '^HTTP/1.1 400 '
printf 'GET http://evil.example/healthz HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/req"
raw_is "absolute-form target" '^HTTP/1.1 200 '
head -c 3000 /dev/urandom >"$T/req"
raw_is "random bytes over TLS" '^HTTP/1.1 400 |^closed$|^garbage$'
printf '\0\0\0\0\r\n\r\n' >"$T/req"
raw_is "NUL bytes" '^HTTP/1.1 400 |^closed$'
server_alive "after malformed requests"
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n' >"$T/req"
expect_ok "plaintext HTTP on the TLS port" "$ATTACK" plain "$SERVER_PORT" <"$T/req"
expect_out "plaintext refused" '^closed$|^garbage$'
head -c 3000 /dev/urandom >"$T/req"
expect_ok "random bytes before TLS" "$ATTACK" plain "$SERVER_PORT" <"$T/req"
expect_out "random bytes refused" '^closed$|^garbage$'
server_alive "after plaintext and garbage"
# Two requests on one connection, the second malformed: the first is
# answered.
printf 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET\r\n\r\n' >"$T/req"
raw_is "a good request, then a bad one" '^HTTP/1.1 200 '
stop_server

# --- 10,000 idle connections -------------------------------------------------
# Long timeouts, so that the server holds them all: the point is its
# descriptors and memory, and that a new client is still served.
N=10000
start_server "$T/d2" --workers 2 --request-timeout 600 --idle-timeout 600 || { finish; exit 1; }
"$ATTACK" hold "$SERVER_PORT" "$N" >"$T/idle.out" 2>"$T/idle.err" &
hold_pid=$!
for ((i = 0; i < 1200; i++)); do
  grep -q connected "$T/idle.out" 2>/dev/null && break
  kill -0 "$hold_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "connected $N" "$T/idle.out" && ok || fail "could not open $N connections: $(cat "$T/idle.err")"
# Wait (bounded) until the server has accepted them all.
for ((i = 0; i < 600; i++)); do
  c=$(metric rampart_http_connections)
  [ "${c:-0}" -ge "$N" ] && break
  sleep 0.2
done
[ "${c:-0}" -ge "$N" ] && ok || fail "the server holds ${c:-?} connections, not $N"
server_alive "with $N idle connections open"
kill -TERM "$hold_pid"; wait "$hold_pid" || true
grep -q "open $N" "$T/idle.out" && ok || fail "the server closed idle connections it should keep: $(cat "$T/idle.out")"
for ((i = 0; i < 600; i++)); do
  c=$(metric rampart_http_connections)
  [ "${c:-$N}" -lt 10 ] && break
  sleep 0.2
done
[ "${c:-$N}" -lt 10 ] && ok || fail "closed connections still counted: ${c:-?}"
server_alive "after $N connections closed"
stop_server

# --- rate limit -------------------------------------------------------------------
start_server "$T/d3" --workers 2 --rate 0.5 --burst 3 || { finish; exit 1; }
urls=()
for i in $(seq 10); do urls+=(-o /dev/null "$SERVER_URL/healthz"); done
curl -sS --cacert "$SERVER_CA" -w '%{http_code}\n' "${urls[@]}" >"$T/codes" 2>&1 || true
[ "$(head -n 3 "$T/codes" | tr '\n' ' ')" = "200 200 200 " ] && ok || fail "the burst was not served: $(tr '\n' ' ' <"$T/codes")"
grep -q '^429$' "$T/codes" && ok || fail "no 429 past the burst: $(tr '\n' ' ' <"$T/codes")"
http_req GET /healthz
[ "$HTTP_STATUS" = 429 ] && jq -e '.error.code == "rate_limited"' "$T/http.body" >/dev/null && ok ||
  fail "over the rate: $HTTP_STATUS $(cat "$T/http.body")"
grep -qiE '^Retry-After: [1-9][0-9]*' "$T/http.headers" && ok || fail "429 without Retry-After: $(cat "$T/http.headers")"
# Tokens come back with time: wait (bounded) for the client to be served again.
for ((i = 0; i < 60; i++)); do
  sleep 1
  http_req GET /healthz
  [ "$HTTP_STATUS" = 200 ] && break
done
[ "$HTTP_STATUS" = 200 ] && ok || fail "the rate limit never let the client through again ($HTTP_STATUS)"
grep -q 'event=request .* status=429 .* error=rate_limited' "$SERVER_LOG" && ok || fail "429s not logged"
stop_server

# --- --max-connections --------------------------------------------------------------
# One worker, three connections: with three held, a fourth client waits in
# the kernel's queue; once they close, it is served.
start_server "$T/d4" --workers 1 --max-connections 3 --request-timeout 600 --idle-timeout 600 || { finish; exit 1; }
expect_ok "served before the limit is reached" curl -sS --max-time 30 --cacert "$SERVER_CA" "$SERVER_URL/healthz"
"$ATTACK" hold "$SERVER_PORT" 3 tls >"$T/hold.out" 2>"$T/hold.err" &
hold_pid=$!
for ((i = 0; i < 600; i++)); do
  grep -q connected "$T/hold.out" 2>/dev/null && break
  kill -0 "$hold_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "connected 3" "$T/hold.out" && ok || fail "could not hold 3 connections: $(cat "$T/hold.err")"
rc=0
curl -sS --max-time 5 --cacert "$SERVER_CA" -o /dev/null "$SERVER_URL/healthz" 2>"$T/err" || rc=$?
[ "$rc" = 28 ] && ok || fail "a client past --max-connections was not kept waiting (curl exit $rc: $(cat "$T/err"))"
curl -sS --max-time 120 --cacert "$SERVER_CA" -o "$T/waiting.body" -w '%{http_code}' "$SERVER_URL/healthz" \
  >"$T/waiting.code" 2>&1 &
waiting_pid=$!
kill -TERM "$hold_pid"; wait "$hold_pid" || true
grep -q "open 3" "$T/hold.out" && ok || fail "held connections were closed by the server: $(cat "$T/hold.out")"
rc=0; wait "$waiting_pid" || rc=$?
[ "$rc" = 0 ] && [ "$(cat "$T/waiting.code")" = 200 ] && ok ||
  fail "the waiting client was not served once connections closed (exit $rc, $(cat "$T/waiting.code"))"
server_alive "after the connection limit"
stop_server

# --- SIGTERM with clients connected ---------------------------------------------
# Idle kept-alive connections are closed at once; the server does not wait
# out its grace period (it would log event=stop-timeout).
start_server "$T/d5" --workers 2 --request-timeout 600 --idle-timeout 600 || { finish; exit 1; }
"$ATTACK" hold "$SERVER_PORT" 20 tls >"$T/term.out" 2>"$T/term.err" &
hold_pid=$!
for ((i = 0; i < 600; i++)); do
  grep -q connected "$T/term.out" 2>/dev/null && break
  kill -0 "$hold_pid" 2>/dev/null || break
  sleep 0.1
done
grep -q "connected 20" "$T/term.out" && ok || fail "could not hold 20 connections: $(cat "$T/term.err")"
log=$SERVER_LOG
stop_server
! grep -q 'event=stop-timeout' "$log" && ok || fail "idle connections held up the stop: $(grep stop "$log")"
kill -TERM "$hold_pid"; wait "$hold_pid" || true
grep -q "open 0" "$T/term.out" && ok || fail "connections left open by a stopped server: $(cat "$T/term.out")"

finish
