# Sourced by the TLS-through-secmon tests (after lib.sh and secmon.sh): a real
# openssl s_server that requires client certificates, and the clients that
# sign through rampart-secmon.
# Environment (set by CTest): RAMPART_TLS_CLIENT, RAMPART_CURL_CLIENT (the
# test clients tls-client.c and curl-client.c), RAMPART_PROVIDER_MODULE
# (rampart_secmon.so).
: "${RAMPART_TLS_CLIENT:?run this test through ctest}" "${RAMPART_CURL_CLIENT:?run this test through ctest}"
: "${RAMPART_PROVIDER_MODULE:?run this test through ctest}"
TLS_CLIENT=$RAMPART_TLS_CLIENT CURL_CLIENT=$RAMPART_CURL_CLIENT

# server_pki: $T/server-ca.pem (the CA clients check the server with), and
# the server's key and certificate for 127.0.0.1, $T/server.{key,pem}.
server_pki() {
  openssl ecparam -name prime256v1 -genkey -noout -out "$T/server-ca.key" 2>/dev/null
  openssl req -new -x509 -key "$T/server-ca.key" -subj "/CN=test server CA" -days 2 -out "$T/server-ca.pem" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign 2>/dev/null
  openssl ecparam -name prime256v1 -genkey -noout -out "$T/server.key" 2>/dev/null
  openssl req -new -key "$T/server.key" -subj "/CN=127.0.0.1" -out "$T/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' >"$T/server.ext"
  openssl x509 -req -in "$T/server.csr" -CA "$T/server-ca.pem" -CAkey "$T/server-ca.key" -CAcreateserial \
    -days 2 -extfile "$T/server.ext" -out "$T/server.pem" 2>/dev/null
  [ -s "$T/server.pem" ] && ok || fail "no server certificate"
}

# server NAME CAFILE [-tls1_2]: openssl s_server -www on a free port of
# 127.0.0.1, TLS 1.3 only (or 1.2), requiring a client certificate that
# chains to CAFILE (-verify_return_error: by default s_server only logs a
# failed verification); sets PORT_<NAME>. Its log is $T/NAME.log; secmon.sh's
# cleanup stops it.
server() {
  local name=$1 port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  rm -f "$T/$name.log"
  openssl s_server -accept "127.0.0.1:$port" "${3:--tls1_3}" -Verify 1 -verify_return_error -CAfile "$2" \
    -cert "$T/server.pem" -key "$T/server.key" -www >"$T/$name.log" 2>&1 </dev/null &
  PID[$name]=$!
  printf -v "PORT_$name" '%s' "$port"
  until grep -qs '^ACCEPT' "$T/$name.log"; do
    if ! kill -0 "${PID[$name]}" 2>/dev/null; then
      unset "PID[$name]"; fail "s_server $name did not start: $(tail -5 "$T/$name.log")"; return 1
    fi
    sleep 0.05
  done
  ok
}
stop_server() {
  kill -TERM "${PID[$1]}" 2>/dev/null || true
  wait "${PID[$1]}" 2>/dev/null || true
  unset "PID[$1]"
}

# client_cert_is DESC PEM: the page the server answered (the last command's
# stdout) shows a client certificate with PEM's subject and public key
# (secmon issues the Alias certificate anew at each start, with the same key).
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
# (A write to a client that already exited would raise SIGPIPE: it is made
# in a subshell, which takes the signal.)
step() {
  local line
  (echo >&"$TC_IN") 2>/dev/null || true
  while read -r line <&"$TC_OUT"; do [[ $line == ready* ]] && break; done
}
done_client() {
  (echo >&"$TC_IN") 2>/dev/null || true
  rc=0
  wait "$TC_PID_SAVED" || rc=$?
  exec {TC_IN}>&- {TC_OUT}<&-
}

# $OPENSSL ARGS...: the stock openssl command, able to load the module (a
# script, not a function: lib.sh holds functions to the rampart CLI's
# messages); a module built with sanitizers needs their run-time loaded
# first. $S_CLIENT PORT ARGS...: GET / through openssl s_client with the
# module loaded, checking the server with $T/server-ca.pem.
MODDIR=$(dirname "$RAMPART_PROVIDER_MODULE")
# awk reads all of ldd's output: `ldd | grep -q` under pipefail fails at
# random when grep exits first and ldd dies of SIGPIPE.
_preload=$(ldd "$RAMPART_PROVIDER_MODULE" | awk '/libasan/ {print $3}')
printf '#!/bin/sh\nLD_PRELOAD=%s ASAN_OPTIONS=detect_leaks=0 exec openssl "$@"\n' "$_preload" >"$T/openssl"
printf '#!/bin/sh\nport=$1; shift\nprintf "GET / HTTP/1.0\\r\\n\\r\\n" | %s s_client -connect "127.0.0.1:$port" %s "$@"\n' \
  "$T/openssl" "-provider-path $MODDIR -provider rampart_secmon -provider default -CAfile $T/server-ca.pem -verify_return_error -ign_eof" \
  >"$T/s_client"
chmod +x "$T/openssl" "$T/s_client"
OPENSSL=$T/openssl S_CLIENT=$T/s_client
