#!/usr/bin/env bash
# rampart evidence verify: genuine evidence (made as a device makes it, by
# tests/integration/evidence-tool.c: soft DICE keys, cert.h certificates,
# measure.c over real files) verifies and its claims are printed; each
# failed check exits 1 naming it. evidence_check.py, an independent reader
# written from docs/formats.md, checks the same evidence.
. "$(dirname "$0")/lib.sh"
: "${EVIDENCE_TOOL:?run this test through ctest}"
PY=/usr/bin/python3
CHECK="$(dirname "$0")/evidence_check.py"
NONCE=00112233445566778899aabbccddeeff
OTHER=00112233445566778899aabbccddee00

# Two manufacturer CAs; devices A (soft), B (soft, the other CA) and T
# (backend name tpm2), measuring an OS image and the helper's own binary.
printf 'the OS image, version 1' >"$T/os.img"
for d in ca ca2 a b t; do mkdir -p "$T/$d"; done
rmdir "$T/ca" "$T/ca2"
expect_ok "a CA" "$EVIDENCE_TOOL" ca "$T/ca"
expect_ok "another CA" "$EVIDENCE_TOOL" ca "$T/ca2"
files=(os="$T/os.img" rampart-secmon="$EVIDENCE_TOOL")
expect_ok "device A attests" "$EVIDENCE_TOOL" make "$T/ca" 0x11 soft "$NONCE" "$T/a" "${files[@]}"
expect_ok "device B attests" "$EVIDENCE_TOOL" make "$T/ca2" 0x22 soft "$NONCE" "$T/b" "${files[@]}"
expect_ok "device T attests" "$EVIDENCE_TOOL" make "$T/ca" 0x33 tpm2 "$NONCE" "$T/t" "${files[@]}"
A="$T/a/evidence.cbor"
id_a=$(cat "$T/a/device-id")

# Help and usage errors.
expect_ok "evidence --help" "$RAMPART" evidence --help
expect_out "group help lists verify" "^  verify +Verify attestation evidence"
expect_ok "rampart --help lists the group" "$RAMPART" --help
expect_out "top help lists evidence" "^  evidence +"
expect_ok "verify --help" "$RAMPART" evidence verify --help
expect_out "verify help names --allow-development" "--allow-development"
expect_fail "no evidence file" 2 "which evidence\?" "$RAMPART" evidence verify --ca "$T/ca/ca.pem" --nonce "$NONCE"
expect_fail "no --ca" 2 "--ca is required" "$RAMPART" evidence verify "$A" --nonce "$NONCE"
expect_fail "no --nonce" 2 "--nonce is required" "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem"
for bad in 0011 001122334455667 00112233445566zz "$(printf '%0130d' 0)"; do
  expect_fail "nonce '$bad'" 2 "--nonce must be 8 to 64 bytes in hex" \
    "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem" --nonce "$bad"
done
expect_fail "two files" 2 "unexpected argument 'x'" "$RAMPART" evidence verify "$A" x --ca "$T/ca/ca.pem" --nonce "$NONCE"
expect_fail "bad format" 2 "unknown output format 'xml'" \
  "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem" --nonce "$NONCE" -o xml
expect_fail "unknown option" 2 "unknown option '--frob'" "$RAMPART" evidence verify "$A" --frob
expect_fail "unknown command" 2 "unknown command" "$RAMPART" evidence frob

# Genuine evidence, as a table.
expect_ok "A verifies" "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
expect_line "A: device id" out "Device id:     $id_a"
expect_line "A: soft, development" out "Root of trust: soft (development: the device secret is a file)"
expect_line "A: software" out "Software:      rampart 0.1.0"
expect_line "A: debug status" out "Debug status:  disabled-since-boot (2)"
expect_line "A: issued at" out "Issued at:     2026-01-01T00:00:00Z (the device's clock)"
expect_line "A: nonce" out "Nonce:         $NONCE"
expect_line "A: os component" out "  os 1.0 $(sha256sum <"$T/os.img" | cut -d' ' -f1)"
expect_line "A: secmon component" out "  rampart-secmon 1.0 $(sha256sum <"$EVIDENCE_TOOL" | cut -d' ' -f1)"
expect_no_controls "A: table output"
# The measurement is SHA-256 of the components list (measure.c's bytes).
measurement=$(sed -n 's/^Measurement:  *//p' "$T/out")
if [[ "$measurement" =~ ^[0-9a-f]{64}$ ]]; then ok; else fail "A: measurement '$measurement'"; fi

# As JSON.
expect_ok "A as JSON" "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development -o json
json_check() {
  $PY - "$T/out" "$@" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
want = dict(a.split("=", 1) for a in sys.argv[2:])
for k, v in want.items():
    got = j
    for part in k.split("."):
        got = got[int(part)] if isinstance(got, list) else got[part]
    if str(got) != v:
        sys.exit("%s is %r, expected %r" % (k, got, v))
EOF
}
if json_check verified=True device_id="$id_a" backend=soft development=True swname=rampart swversion=0.1.0 \
     iat=1767225600 dbgstat=2 dbgstat_name=disabled-since-boot nonce="$NONCE" measurement="$measurement" \
     components.0.name=os components.0.version=1.0 \
     components.0.digest="$(sha256sum <"$T/os.img" | cut -d' ' -f1)" components.1.name=rampart-secmon; then ok
else fail "A: JSON claims"; fi
alias_spki=$(openssl x509 -in "$T/a/alias.pem" -noout -pubkey | openssl pkey -pubin -outform DER | od -An -tx1 | tr -d ' \n')
if json_check alias_public_key="$alias_spki"; then ok; else fail "A: JSON alias_public_key is not the Alias key"; fi

# The independent reader agrees, and the chain is one openssl verifies.
expect_ok "A: evidence_check.py" $PY "$CHECK" "$A" "$T/ca/ca.pem" "$NONCE" "$T/a/alias.pem" "$T/a/deviceid.pem"
expect_line "A: evidence_check.py's device id" out "$id_a"
expect_ok "A: openssl verify of the chain" openssl verify -CAfile "$T/ca/ca.pem" -untrusted "$T/a/deviceid.pem" "$T/a/alias.pem"
if $PY "$CHECK" "$A" "$T/ca/ca.pem" "$OTHER" >"$T/out" 2>&1; then fail "evidence_check.py accepts another nonce"
else expect_out "evidence_check.py checks the nonce" "another nonce"; fi

# A non-development backend needs no --allow-development.
expect_ok "T verifies without --allow-development" "$RAMPART" evidence verify "$T/t/evidence.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE"
expect_line "T: tpm2" out "Root of trust: tpm2"

# Each failed check: exit 1, naming it.
expect_fail "soft refused by default" 1 "the policy does not allow development backends" \
  "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem" --nonce "$NONCE"
expect_err "soft refused: the hint" "^hint: --allow-development accepts it"
expect_fail "replayed nonce" 1 "eat_nonce is not the expected nonce" \
  "$RAMPART" evidence verify "$A" --ca "$T/ca/ca.pem" --nonce "$OTHER" --allow-development
expect_fail "untrusted CA" 1 "evidence: the certificate chain does not verify to a trusted CA" \
  "$RAMPART" evidence verify "$T/b/evidence.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
cat "$T/ca/ca.pem" "$T/ca2/ca.pem" >"$T/both.pem"
expect_ok "two trusted CAs" "$RAMPART" evidence verify "$T/b/evidence.cbor" --ca "$T/both.pem" --nonce "$NONCE" --allow-development
expect_fail "CA file that is no certificate" 1 "no trusted CA certificate" \
  "$RAMPART" evidence verify "$A" --ca "$T/os.img" --nonce "$NONCE" --allow-development
expect_fail "missing CA file" 1 "nothing\.pem" \
  "$RAMPART" evidence verify "$A" --ca "$T/nothing.pem" --nonce "$NONCE" --allow-development
head -c 200 "$A" >"$T/truncated.cbor"
expect_fail "truncated evidence" 1 "evidence: COSE_Sign1: CBOR: truncated" \
  "$RAMPART" evidence verify "$T/truncated.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
printf 'GET / HTTP/1.1\r\n\r\n' >"$T/garbage.cbor"
expect_fail "garbage" 1 "evidence: COSE_Sign1: not a COSE_Sign1" \
  "$RAMPART" evidence verify "$T/garbage.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
: >"$T/empty.cbor"
expect_fail "empty file" 1 "evidence: empty" \
  "$RAMPART" evidence verify "$T/empty.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
head -c 16385 /dev/zero >"$T/big.cbor"
expect_fail "oversized file" 1 "big\.cbor.*(16384|large)" \
  "$RAMPART" evidence verify "$T/big.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
expect_fail "missing evidence" 1 "nothing\.cbor" \
  "$RAMPART" evidence verify "$T/nothing.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
# One byte of the signature changed.
$PY -c 'import sys; b = bytearray(open(sys.argv[1], "rb").read()); b[-1] ^= 1; open(sys.argv[2], "wb").write(b)' \
  "$A" "$T/flipped.cbor"
expect_fail "changed signature" 1 "evidence: signature: COSE_Sign1: ES256 signature" \
  "$RAMPART" evidence verify "$T/flipped.cbor" --ca "$T/ca/ca.pem" --nonce "$NONCE" --allow-development
expect_no_controls "refusal output"

# Evidence from an independent writer: tests/fuzz/evidence_corpus.py makes
# certificates and evidence from docs/formats.md on python3-cryptography,
# under the CA fuzz-evidence trusts (in fuzz-evidence-ca.h).
FUZZ="$RAMPART_SOURCE_DIR/tests/fuzz"
expect_ok "evidence_corpus.py writes evidence" $PY "$FUZZ/evidence_corpus.py" "$T/py"
$PY - "$FUZZ/fuzz-evidence-ca.h" "$T/py-ca.pem" <<'PYEOF'
import ast, re, sys
text = open(sys.argv[1]).read()
body = re.search(r'static const char fuzz_ca_pem\[\] =\s*((?:"[^"]*"\s*)+);', text).group(1)
open(sys.argv[2], "w").write("".join(ast.literal_eval(s) for s in re.findall(r'"[^"]*"', body)))
PYEOF
PYNONCE=$(sed -n 's/^static const char fuzz_nonce_hex\[\] = "\([0-9a-f]*\)".*/\1/p' "$FUZZ/fuzz-evidence-ca.h")
for seed in ok-tpm2 ok-soft ok-unknown-claims; do
  expect_ok "python's $seed verifies" "$RAMPART" evidence verify "$T/py/$seed" --ca "$T/py-ca.pem" --nonce "$PYNONCE" \
    --allow-development
done
expect_line "python's ok-unknown-claims: components" out "  rampart-secmon 0.1.0 $(printf secmon | sha256sum | cut -d' ' -f1)"
expect_fail "python's altered measurement" 1 "the measurements claim does not match" \
  "$RAMPART" evidence verify "$T/py/near-altered-measurement" --ca "$T/py-ca.pem" --nonce "$PYNONCE"
expect_fail "python's DeviceID as Alias" 1 "the signing certificate is a CA certificate" \
  "$RAMPART" evidence verify "$T/py/near-deviceid-as-alias" --ca "$T/py-ca.pem" --nonce "$PYNONCE"
expect_ok "evidence_check.py reads python's evidence" $PY "$CHECK" "$T/py/ok-tpm2" "$T/py-ca.pem" "$PYNONCE"

finish
