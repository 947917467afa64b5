#!/usr/bin/env bash
# rampart factory provision --backend tpm2 against a real software TPM
# (swtpm), checked from outside with tpm2-tools and the openssl CLI: the
# DeviceID key tpm2_readpublic finds at 0x81000052 is the one the printed
# device id and the DeviceID certificate name, before and after a power
# cycle; the certificate verifies against the CA. Refusals: a TPM
# provisioned twice, a TPM that is not there.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_swtpm

start_swtpm "$T/tpm"
C="$T/ca" D="$T/dev"
expect_ok "ca-create" "$RAMPART" factory ca-create --dir "$C"
expect_ok "provision tpm2" "$RAMPART" factory provision --backend tpm2 --tpm "$SWTPM_TCTI" --ca-dir "$C" \
  --state-dir "$D"
expect_out "prints the device id" '^[0-9a-f]{64}$'
id=$(cat "$T/out")
expect_no_controls "provision output"
cp "$D/rot.conf" "$T/out"
expect_line "rot.conf: backend" out "backend=tpm2"
expect_line "rot.conf: the TPM" out "tpm=$SWTPM_TCTI"
[ ! -e "$D/uds" ] && ok || fail "tpm2 provisioning wrote a device secret file"

# The key in the TPM, as tpm2-tools sees it, is the device's identity.
tpm_key_id() {
  tpm2_readpublic -T "$SWTPM_TCTI" -c 0x81000052 -f pem -o "$T/tpm.pem" >/dev/null &&
    openssl pkey -pubin -in "$T/tpm.pem" -outform DER | sha256sum | cut -d' ' -f1
}
expect_ok "tpm2_readpublic" tpm_key_id
expect_line "the TPM's key is the device id" out "$id"
openssl x509 -in "$D/deviceid.pem" -pubkey -noout | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1 \
  >"$T/out"
expect_line "the certificate's key is the device id" out "$id"
expect_ok "the certificate verifies" openssl verify -CAfile "$C/ca.pem" "$D/deviceid.pem"
expect_ok "tpm2_readpublic: attributes" tpm2_readpublic -T "$SWTPM_TCTI" -c 0x81000052
expect_out "fixedtpm, fixedparent, no duplication" 'fixedtpm\|.*fixedparent\|sensitivedataorigin\|userwithauth\|noda\|sign'

# A power cycle: same state directory, same key.
stop_swtpm
start_swtpm "$T/tpm"
expect_ok "tpm2_readpublic after a restart" tpm_key_id
expect_line "the same key after a restart" out "$id"

# Refusals.
expect_fail "provision the same TPM again" 1 "0x81000052 already holds a key" \
  "$RAMPART" factory provision --backend tpm2 --tpm "$SWTPM_TCTI" --ca-dir "$C" --state-dir "$T/dev2"
[ ! -e "$T/dev2/rot.conf" ] && ok || fail "a refused provisioning wrote rot.conf"
dead=$SWTPM_TCTI
stop_swtpm
expect_fail "provision on a TPM that is not there" 1 "TPM '$dead': cannot open this TCTI" \
  "$RAMPART" factory provision --backend tpm2 --tpm "$dead" --ca-dir "$C" --state-dir "$T/dev3"

# Another TPM: another device id, and JSON output.
start_swtpm "$T/tpm-other"
expect_ok "provision another TPM" "$RAMPART" factory provision --backend tpm2 --tpm "$SWTPM_TCTI" \
  --ca-dir "$C" --state-dir "$T/dev4" -o json
expect_line "json: tpm2" out '  "backend": "tpm2",'
expect_line "json: not development" out '  "development": false'
if grep -q "$id" "$T/out"; then fail "two TPMs, one device id"; else ok; fi
finish
