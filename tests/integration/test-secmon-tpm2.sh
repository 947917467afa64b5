#!/usr/bin/env bash
# rampart-secmon on the tpm2 backend, against a real software TPM (swtpm on
# free local ports): the identity, openssl verify on the chain, evidence the
# verifier accepts without --allow-development, a signature by the
# TPM-held Alias key, counters and sealing across secmon restarts and a TPM
# power cycle, and a changed measurement. The attacks on secmon's socket do
# not depend on the backend: integration/secmon plays them.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"
. "$(dirname "$0")/swtpm.sh"
require_swtpm

start_swtpm "$T/tpm"
D=$T/dev
S=$D/secmon.sock
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory provision (tpm2)" "$RAMPART" factory provision --backend tpm2 --tpm "$SWTPM_TCTI" \
  --ca-dir "$T/ca" --state-dir "$D"
DEVICE_ID=$(grep -oE '^[0-9a-f]{64}$' "$T/out" | head -1)
[ -n "$DEVICE_ID" ] && ok || fail "provision printed no device id: $(cat "$T/out")"
printf 'os image v1\n' >"$T/os.img"

# --- identity and evidence ---------------------------------------------------
start main --state-dir "$D" --measure os="$T/os.img"
grep -qE "event=start .*backend=tpm2 development=no device_id=$DEVICE_ID measurement=[0-9a-f]{64} components=2" \
  "$T/main.log" && ok || fail "start line: $(cat "$T/main.log")"
! grep -q 'event=warning' "$T/main.log" && ok || fail "a development warning for the TPM"
identity "$D" id1
expect_out "show-identity: device id" "^Device id: +$DEVICE_ID$"
expect_line "show-identity: backend, not development" out "Backend:      tpm2"
expect_ok "openssl verify: Alias -> DeviceID -> CA" \
  openssl verify -CAfile "$T/ca/ca.pem" -untrusted "$T/id1-deviceid.pem" "$T/id1-alias.pem"
expect_ok "show-identity -o json" "$RAMPART" device show-identity --state-dir "$D" -o json
expect_out "json: not development" '"development": false'

N1=00112233445566778899aabbccddeeff
N2=ffeeddccbbaa99887766554433221100
expect_ok "attest" "$RAMPART" device attest --state-dir "$D" --nonce "$N1" -o "$T/ev.cbor"
expect_ok "evidence verify (no development allowance needed)" \
  "$RAMPART" evidence verify "$T/ev.cbor" --ca "$T/ca/ca.pem" --nonce "$N1" -o json
expect_out "the device" "\"device_id\": \"$DEVICE_ID\""
expect_out "the backend" '"backend": "tpm2"'
expect_out "debug disabled by default on a non-development backend" '"dbgstat": 1'
MEASUREMENT=$(sed -n 's/^Measurement: *//p' "$T/id1.txt")
expect_out "show-identity's measurement" "\"measurement\": \"$MEASUREMENT\""
expect_fail "evidence verify, another nonce" 1 "nonce" \
  "$RAMPART" evidence verify "$T/ev.cbor" --ca "$T/ca/ca.pem" --nonce "$N2"

DIGEST=$(printf 'secmon' | sha256sum | cut -d' ' -f1)
expect_ok "sign a digest in the TPM" "$ATTACK" sign "$S" "$DIGEST"
expect_ok "the signature verifies with the Alias key" sign_check id1 "$DIGEST" "$(cat "$T/out")"

# --- counters and sealing ----------------------------------------------------
expect_ok "counter 2: advance to 5" "$ATTACK" counter-advance "$S" 2 5
expect_line "counter 2 is 5" out 5
expect_fail "counter 2: back to 3" 1 "rollback" "$ATTACK" counter-advance "$S" 2 3
expect_ok "seal" "$ATTACK" seal "$S" 68656c6c6f20746d70
BLOB=$(cat "$T/out")
expect_ok "unseal" "$ATTACK" unseal "$S" "$BLOB"
expect_line "unsealed" out 68656c6c6f20746d70
stop main

# A power cycle of the TPM, secmon started again: the same identity, the
# counter kept, the blob opens. swtpm now listens on other ports than
# rot.conf says: --tpm names them from here on.
stop_swtpm
start_swtpm "$T/tpm"
start main --state-dir "$D" --measure os="$T/os.img" --tpm "$SWTPM_TCTI"
identity "$D" same
[ "$(alias_key id1)" = "$(alias_key same)" ] && ok || fail "a restart without a change gave another Alias key"
expect_ok "counter 2 after a power cycle" "$ATTACK" counter-read "$S" 2
expect_line "counter 2 is still 5" out 5
expect_fail "counter 2: back to 3 after a power cycle" 1 "rollback" "$ATTACK" counter-advance "$S" 2 3
expect_ok "unseal after a power cycle" "$ATTACK" unseal "$S" "$BLOB"
stop main

# Another measurement: another Alias key, and the blob does not open.
printf 'os image v2\n' >"$T/os.img"
start main --state-dir "$D" --measure os="$T/os.img" --tpm "$SWTPM_TCTI"
identity "$D" changed
[ "$(alias_key id1)" != "$(alias_key changed)" ] && ok || fail "a changed measured file kept the Alias key"
expect_ok "openssl verify after the change" \
  openssl verify -CAfile "$T/ca/ca.pem" -untrusted "$T/changed-deviceid.pem" "$T/changed-alias.pem"
grep -q "^Device id: *$DEVICE_ID$" "$T/changed.txt" && ok || fail "the device id changed with the software"
expect_fail "unseal under another measurement" 1 "code -129" "$ATTACK" unseal "$S" "$BLOB"
served "after the refused unseal"
stop main

printf 'os image v1\n' >"$T/os.img"
start main --state-dir "$D" --measure os="$T/os.img" --tpm "$SWTPM_TCTI"
identity "$D" back
[ "$(alias_key id1)" = "$(alias_key back)" ] && ok || fail "the first software did not get its Alias key back"
expect_ok "unseal back on the first software" "$ATTACK" unseal "$S" "$BLOB"
stop main

finish
