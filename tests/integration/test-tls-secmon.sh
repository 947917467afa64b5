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
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/tls.sh"

# --- two devices, a manufacturer CA, another CA, the server's certificate ---
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory ca-create (another CA)" "$RAMPART" factory ca-create --dir "$T/ca2"
for d in dev1 dev2; do
  expect_ok "factory provision $d" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$T/$d"
done
server_pki

S1=$T/dev1/secmon.sock S2=$T/dev2/secmon.sock
printf 'os image v1\n' >"$T/os.img"
start sm1 --state-dir "$T/dev1" --measure os="$T/os.img"
start sm2 --state-dir "$T/dev2"
for d in dev1 dev2; do
  identity "$T/$d" "$d"
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
stop_server srv12

# Two connections with one key object, secmon restarted in between (same
# software, same Alias key): the client opens its connection again.
pause_client --socket "$S1" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem" --connections 2
step
stop sm1
start sm1 --state-dir "$T/dev1" --measure os="$T/os.img"
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
# The default provider named first keeps OpenSSL's EC for the key share:
# a P-256 one (docs/security.md, on the order of providers).
printf 'GET / HTTP/1.0\r\n\r\n' >"$T/get"
expect_ok "s_client, default provider first, P-256 key share" "$OPENSSL" s_client -connect "127.0.0.1:$PORT_srv" \
  -provider-path "$MODDIR" -provider default -provider rampart_secmon -groups P-256 -CAfile "$T/server-ca.pem" \
  -verify_return_error -ign_eof -key "rampart-secmon:$S1" -cert "rampart-secmon:$S1" \
  -cert_chain "$T/dev1-deviceid.pem" <"$T/get"
expect_out "s_client: the key share was P-256" "Server Temp Key: ECDH, prime256v1"
client_cert_is "s_client, default provider first" "$T/dev1-alias.pem"
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
stop_server other

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
start sm1 --state-dir "$T/dev1" --measure os="$T/os.img"
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
