#!/usr/bin/env bash
# TLS client authentication with an Alias key held in a TPM 2.0: rampart-secmon
# on the tpm2 backend against a real software TPM (swtpm on free local
# ports), a real openssl s_server -Verify trusting the manufacturer CA, and
# the OpenSSL and libcurl clients signing through secmon (the TPM signs each
# handshake). What the provider does is the same on every backend:
# integration/tls-secmon plays the refusals on the soft one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/swtpm.sh"
. "$(dirname "$0")/tls.sh"
require_swtpm

start_swtpm "$T/tpm"
D=$T/dev S=$T/dev/secmon.sock
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory provision (tpm2)" "$RAMPART" factory provision --backend tpm2 --tpm "$SWTPM_TCTI" \
  --ca-dir "$T/ca" --state-dir "$D"
server_pki
start main --state-dir "$D"
grep -q "backend=tpm2 development=no" "$T/main.log" && ok || fail "not the tpm2 backend: $(head -1 "$T/main.log")"
identity "$D" id
server srv "$T/ca/ca.pem"

expect_ok "tls-client: TLS 1.3 handshake signed in the TPM" \
  "$TLS_CLIENT" --socket "$S" --connect "127.0.0.1:$PORT_srv" --ca "$T/server-ca.pem"
expect_line "tls-client: TLS 1.3" out "protocol: TLSv1.3"
client_cert_is "tls-client" "$T/id-alias.pem"
expect_ok "curl-client: GET signed in the TPM" \
  "$CURL_CLIENT" --socket "$S" --ca "$T/server-ca.pem" "https://127.0.0.1:$PORT_srv/"
expect_err "curl-client: HTTP 200" "^http: 200$"
client_cert_is "curl-client" "$T/id-alias.pem"
expect_ok "s_client with the module" "$S_CLIENT" "$PORT_srv" -key "rampart-secmon:$S" \
  -cert "rampart-secmon:$S" -cert_chain "$T/id-deviceid.pem"
client_cert_is "s_client" "$T/id-alias.pem"
stop main

finish
