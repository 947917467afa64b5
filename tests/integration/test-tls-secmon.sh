#!/usr/bin/env bash
# TLS client authentication with the Alias key rampart-secmon holds: the real
# rampart-secmon (soft backend) in the background, a real openssl s_server
# -Verify that trusts the manufacturer CA, and three clients that sign through
# secmon: tls-client.c (OpenSSL, rp_secmon_tls_setup), curl-client.c
# (libcurl, CURLOPT_SSL_CTX_FUNCTION -> rp_secmon_tls_setup) and the stock
# openssl s_client with the provider module (-key rampart-secmon:SOCKET).
# Then what must fail: secmon stopped (before and after set-up), a server that
# trusts another CA, a key bound to one device's secmon with another device's
# certificate, and a secmon restarted under other software (another Alias
# key). Every daemon is stopped by the trap, even when the test fails.
. "$(dirname "$0")/lib.sh"
: "${RAMPART_SECMON:?run this test through ctest}" "${RAMPART_TLS_CLIENT:?run this test through ctest}"
: "${RAMPART_CURL_CLIENT:?run this test through ctest}" "${RAMPART_PROVIDER_MODULE:?run this test through ctest}"
TLS_CLIENT=$RAMPART_TLS_CLIENT CURL_CLIENT=$RAMPART_CURL_CLIENT

declare -A PID=()
cleanup() {
  local p
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_log NAME PATTERN: until the log of daemon NAME shows PATTERN; fails
# (and forgets NAME) if the daemon exited first.
wait_log() {
  until grep -qs -- "$2" "$T/$1.log"; do
    if ! kill -0 "${PID[$1]}" 2>/dev/null; then
      fail "$1 did not start: $(tail -5 "$T/$1.log")"; unset "PID[$1]"; return 1
    fi
    sleep 0.05
  done
  ok
}

# secmon NAME STATE_DIR [ARGS...]: rampart-secmon in the background, until it
# logged event=ready.
secmon() {
  local name=$1 dir=$2; shift 2
  rm -f "$T/$name.log"   # not to find the last run's event=ready
  "$RAMPART_SECMON" --state-dir "$dir" "$@" 2>"$T/$name.log" &
  PID[$name]=$!
  wait_log "$name" 'event=ready'
}

# server NAME CAFILE [-tls1_2]: openssl s_server on a free port, TLS 1.3
# only (or 1.2), requiring a client certificate that chains to CAFILE; sets
# PORT_<NAME>.
server() {
  local name=$1 port
  port=$(free_port)
  rm -f "$T/$name.log"
  openssl s_server -accept "127.0.0.1:$port" "${3:--tls1_3}" -Verify 1 -verify_return_error -CAfile "$2" \
    -cert "$T/server.pem" -key "$T/server.key" -www >"$T/$name.log" 2>&1 </dev/null &
  PID[$name]=$!
  printf -v "PORT_$name" '%s' "$port"
  wait_log "$name" '^ACCEPT'
}

# stop NAME: SIGTERM, and wait for it.
stop() {
  kill -TERM "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" 2>/dev/null || true
  unset "PID[$1]"
}

# client_cert_is DESC PEM: the page the server answered (the last command's
# stdout) shows a client certificate with PEM's subject and public key (secmon
# issues the Alias certificate anew at each start, with the same key).
client_cert_is() {
  local shown
  shown=$(awk '/^Client certificate/{c=1} c && /BEGIN CERT/{p=1} p{print} p && /END CERT/{exit}' "$T/out" |
          openssl x509 -noout -subject -pubkey 2>/dev/null) || true
  if [ -n "$shown" ] && [ "$shown" = "$(openssl x509 -in "$2" -noout -subject -pubkey)" ]; then ok
  else fail "$1: the server did not see $(basename "$2")'s key as the client's: $(grep -A12 'Client certificate' "$T/out" | grep Subject:)"; fi
}

# pause_client ARGS...: tls-client ARGS --pause as a coprocess, once it is
# ready for its first connection. step: it makes one connection and waits
# before the next. done_client: the rest; rc gets its exit code, and
# $T/tc.err holds its stderr.
pause_client() {
  coproc TC { "$TLS_CLIENT" "$@" --pause 2>"$T/tc.err"; }
  TC_PID_SAVED=$TC_PID
  exec {TC_IN}>&"${TC[1]}" {TC_OUT}<&"${TC[0]}"
  local line=
  read -r line <&"$TC_OUT" || true
  [ "$line" = "ready 1" ] && ok || fail "tls-client did not pause: '$line' $(head -c 400 "$T/tc.err")"
}
step() {
  local line
  echo >&"$TC_IN"
  while read -r line <&"$TC_OUT"; do [[ $line == ready* ]] && break; done
}
done_client() {
  echo >&"$TC_IN" 2>/dev/null || true
  rc=0
  wait "$TC_PID_SAVED" || rc=$?
  exec {TC_IN}>&- {TC_OUT}<&-
}

# $T/openssl ARGS...: the stock openssl command, able to load the module (a
# script, not a function: lib.sh holds functions to the rampart CLI's
# messages); a module built with sanitizers needs their run-time loaded
# first. $T/s_client PORT ARGS...: GET / through openssl s_client with the
# module loaded (in the order docs/security.md gives).
MODDIR=$(dirname "$RAMPART_PROVIDER_MODULE")
PRELOAD=
if ldd "$RAMPART_PROVIDER_MODULE" | grep -q libasan; then
  PRELOAD=$(gcc -print-file-name=libasan.so)
fi
printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec openssl "$@"\n' "$PRELOAD" >"$T/openssl"
printf '#!/bin/sh\nport=$1; shift\nprintf "GET / HTTP/1.0\\r\\n\\r\\n" | %s s_client -connect "127.0.0.1:$port" %s "$@"\n' \
  "$T/openssl" "-provider-path $MODDIR -provider rampart_secmon -provider default -CAfile $T/server-ca.pem -verify_return_error -ign_eof" \
  >"$T/s_client"
chmod +x "$T/openssl" "$T/s_client"
OPENSSL=$T/openssl S_CLIENT=$T/s_client

# --- two devices, a manufacturer CA, another CA, the server's certificate ---
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory ca-create (another CA)" "$RAMPART" factory ca-create --dir "$T/ca2"
for d in dev1 dev2; do
  expect_ok "factory provision $d" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/$d"
done
openssl ecparam -name prime256v1 -genkey -noout -out "$T/server-ca.key" 2>/dev/null
openssl req -new -x509 -key "$T/server-ca.key" -subj "/CN=test server CA" -days 2 -out "$T/server-ca.pem" \
  -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
openssl ecparam -name prime256v1 -genkey -noout -out "$T/server.key" 2>/dev/null
openssl req -new -key "$T/server.key" -subj "/CN=127.0.0.1" -out "$T/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/server.ext"
openssl x509 -req -in "$T/server.csr" -CA "$T/server-ca.pem" -CAkey "$T/server-ca.key" -CAcreateserial \
  -days 2 -extfile "$T/server.ext" -out "$T/server.pem" 2>/dev/null
[ -s "$T/server.pem" ] && ok || fail "no server certificate"

S1=$T/dev1/secmon.sock S2=$T/dev2/secmon.sock
printf 'os image v1\n' >"$T/os.img"
secmon sm1 "$T/dev1" --measure os="$T/os.img"
secmon sm2 "$T/dev2"
for d in dev1 dev2; do
  expect_ok "show-identity $d" "$RAMPART" device show-identity --state-dir "$T/$d"
  awk -v p="$T/$d" '/BEGIN CERT/{n++} n==1{print > p"-alias.pem"} n==2{print > p"-deviceid.pem"}' "$T/out"
  cat "$T/$d-alias.pem" "$T/$d-deviceid.pem" >"$T/$d-chain.pem"
done
expect_ok "the Alias certificate chains to the manufacturer CA" \
  openssl verify -CAfile "$T/ca/ca.pem" -untrusted "$T/dev1-deviceid.pem" "$T/dev1-alias.pem"

server srv "$T/ca/ca.pem"

# --- (a) OpenSSL: rp_secmon_tls_setup, TLS 1.3, the server sees the Alias --
# The server trusts the manufacturer CA alone: the handshake also shows the
# DeviceID certificate went with the Alias.
expect_ok "tls-client: handshake signed through secmon" \
  "$TLS_CLIENT" --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem"
expect_line "tls-client: TLS 1.3" out "protocol: TLSv1.3"
expect_out "tls-client: the server answered" "^HTTP/1.0 200 ok"
client_cert_is "tls-client" "$T/dev1-alias.pem"

# TLS 1.2 signs the same way (ECDSA with SHA-256).
server srv12 "$T/ca/ca.pem" -tls1_2
expect_ok "tls-client: TLS 1.2 handshake signed through secmon" \
  "$TLS_CLIENT" --socket "$S1" --connect "127.0.0.1:$PORT_srv12" --ca "$T/server-ca.pem"
expect_line "tls-client: TLS 1.2" out "protocol: TLSv1.2"
client_cert_is "tls-client, TLS 1.2" "$T/dev1-alias.pem"
stop srv12

# Two connections with one key object, secmon restarted in between (same
# software, same Alias key): the client opens its connection again.
pause_client --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem" --connections 2
step
stop sm1
secmon sm1 "$T/dev1" --measure os="$T/os.img"
done_client
[ "$rc" = 0 ] && ok || fail "second handshake after secmon restarted: exited $rc: $(head -c 600 "$T/tc.err")"

# --- (b) libcurl ------------------------------------------------------------
expect_ok "curl-client: GET signed through secmon" \
  "$CURL_CLIENT" --socket "$S1" --ca "$T/server-ca.pem" "https://127.0.0.1:$PORT_srv/"
expect_err "curl-client: HTTP 200" "^http: 200$"
expect_out "curl-client: TLS 1.3" "New, TLSv1.3"
client_cert_is "curl-client" "$T/dev1-alias.pem"

# --- (c) the stock openssl command with the module --------------------------
expect_ok "s_client -key rampart-secmon:SOCKET" "$S_CLIENT" "$PORT_srv" -key "rampart-secmon:$S1" -cert "$T/dev1-alias.pem" \
  -cert_chain "$T/dev1-deviceid.pem"
expect_out "s_client: TLS 1.3" "Protocol *: TLSv1.3"
expect_out "s_client: server verified" "Verification: OK"
client_cert_is "s_client" "$T/dev1-alias.pem"
expect_ok "s_client: key and certificate both from the store" \
  "$S_CLIENT" "$PORT_srv" -key "rampart-secmon:$S1" -cert "rampart-secmon:$S1" -cert_chain "$T/dev1-deviceid.pem"
client_cert_is "s_client, certificate from the store" "$T/dev1-alias.pem"
expect_ok "openssl pkey: the public key from the store" "$OPENSSL" pkey -provider-path "$MODDIR" \
  -provider rampart_secmon -provider default -in "rampart-secmon:$S1" -pubout
[ "$(cat "$T/out")" = "$(openssl x509 -in "$T/dev1-alias.pem" -noout -pubkey)" ] && ok ||
  fail "the store's key is not the Alias certificate's: $(cat "$T/out")"

# --- what must fail ---------------------------------------------------------
# A server that trusts another manufacturer CA refuses the client.
server other "$T/ca2/ca.pem"
expect_fail "tls-client to a server trusting another CA" 1 "alert unknown ca" \
  "$TLS_CLIENT" --socket "$S1" --connect "127.0.0.1:$PORT_other" --ca "$T/server-ca.pem"
grep -q "verify error" "$T/other.log" && ok || fail "s_server did not report the refused client: $(tail -3 "$T/other.log")"
expect_fail "curl-client to a server trusting another CA" 1 "unknown ca" \
  "$CURL_CLIENT" --socket "$S1" --ca "$T/server-ca.pem" "https://127.0.0.1:$PORT_other/"
stop other

# dev1's key with dev2's certificate: refused at set-up. dev2's key with it
# is accepted the same way, so the refusal is the mismatch.
expect_fail "dev1's key with dev2's Alias certificate" 1 "key values mismatch" \
  "$TLS_CLIENT" --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem" --cert "$T/dev2-chain.pem"
expect_fail "s_client: dev1's key with dev2's certificate" 1 "key values mismatch" \
  "$S_CLIENT" "$PORT_srv" -key "rampart-secmon:$S1" -cert "$T/dev2-alias.pem" -cert_chain "$T/dev2-deviceid.pem"
expect_ok "dev2's key with dev2's certificate" \
  "$TLS_CLIENT" --socket "$S2" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem" --cert "$T/dev2-chain.pem"
client_cert_is "dev2" "$T/dev2-alias.pem"

# secmon restarted under other software: another Alias key. The key object
# made for the old one says so, rather than send a signature that the
# server would find bad.
pause_client --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem" --connections 2
step
stop sm1
printf 'os image v2\n' >"$T/os.img"
secmon sm1 "$T/dev1" --measure os="$T/os.img"
done_client
[ "$rc" = 1 ] && grep -qF "signed with another Alias key than this key's (did the measured software change?)" \
  "$T/tc.err" && ok || fail "a changed Alias key: exited $rc: $(head -c 600 "$T/tc.err")"

# secmon stopped after a handshake (the key object's connection is gone),
# then before set-up.
pause_client --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem" --connections 2
step
stop sm1
done_client
[ "$rc" = 1 ] && grep -q "handshake failed" "$T/tc.err" &&
  grep -qF "rampart-secmon: cannot reach $S1 — is it running?" "$T/tc.err" &&
  ok || fail "secmon stopped before the second handshake: exited $rc: $(head -c 600 "$T/tc.err")"
expect_fail "tls-client, secmon stopped" 1 "rampart-secmon: cannot reach $S1 — is it running\?" \
  "$TLS_CLIENT" --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem"
expect_fail "curl-client, secmon stopped" 1 "rampart-secmon: cannot reach $S1 — is it running\?" \
  "$CURL_CLIENT" --socket "$S1" --ca "$T/server-ca.pem" "https://127.0.0.1:$PORT_srv/"
expect_fail "s_client, secmon stopped" 1 "rampart-secmon: cannot reach $S1 — is it running\?" \
  "$S_CLIENT" "$PORT_srv" -key "rampart-secmon:$S1" -cert "$T/dev1-alias.pem"
expect_fail "s_client, a URI without a socket" 1 "expected rampart-secmon:<socket path>" \
  "$S_CLIENT" "$PORT_srv" -key "rampart-secmon:" -cert "$T/dev1-alias.pem"

finish
