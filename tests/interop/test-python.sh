#!/usr/bin/env bash
# COSE_Sign1 interop with an independent Python implementation (cose_py.py:
# python3-cryptography + python3-cbor2), ES256 and EdDSA, both directions.
. "$RAMPART_SOURCE_DIR/tests/integration/lib.sh"
. "$INTEROP_DIR/common.sh"
PYC=("$PY" "$INTEROP_DIR/cose_py.py")

printf 'payload for python' > "$T/payload"
want=$(od -An -tx1 -v "$T/payload" | tr -d ' \n')

for type in es256 ed25519; do
  expect_ok "$type: generate" "$RAMPART" keys generate -o "$T/$type" --type "$type"
  expect_ok "$type: generate another" "$RAMPART" keys generate -o "$T/$type-other" --type "$type"

  # rampart -> python
  expect_ok "$type: rampart signs" "$COSE_TOOL" sign "$T/$type" "$T/payload" "$T/$type-ours.cbor" c0ffee
  expect_ok "$type: python verifies rampart's message" "${PYC[@]}" verify "$T/$type.pub" "$T/$type-ours.cbor" c0ffee
  expect_stdout "$type: python returns the payload" "$want"
  expect_ok "$type: rampart's protected header is canonical CBOR" "${PYC[@]}" check-protected "$T/$type-ours.cbor"
  flip "$T/$type-ours.cbor" "payload" "$T/$type-ours-bad.cbor"
  expect_fail "$type: python refuses a changed payload" 1 "does not verify" \
    "${PYC[@]}" verify "$T/$type.pub" "$T/$type-ours-bad.cbor" c0ffee
  expect_fail "$type: python refuses a wrong aad" 1 "does not verify" \
    "${PYC[@]}" verify "$T/$type.pub" "$T/$type-ours.cbor" c0ffef
  expect_fail "$type: python refuses another key" 1 "does not verify" \
    "${PYC[@]}" verify "$T/$type-other.pub" "$T/$type-ours.cbor" c0ffee

  # python -> rampart
  expect_ok "$type: python signs" "${PYC[@]}" sign "$T/$type" "$T/payload" "$T/$type-theirs.cbor" c0ffee
  expect_ok "$type: rampart verifies python's message" "$COSE_TOOL" verify "$T/$type.pub" "$T/$type-theirs.cbor" c0ffee
  expect_stdout "$type: rampart returns the payload" "$want"
  flip "$T/$type-theirs.cbor" "payload" "$T/$type-theirs-bad.cbor"
  expect_fail "$type: rampart refuses a changed payload" 1 "COSE_Sign1: .* signature does not verify" \
    "$COSE_TOOL" verify "$T/$type.pub" "$T/$type-theirs-bad.cbor" c0ffee
  flip_last "$T/$type-theirs.cbor" "$T/$type-theirs-badsig.cbor"
  expect_fail "$type: rampart refuses a changed signature" 1 "COSE_Sign1: " \
    "$COSE_TOOL" verify "$T/$type.pub" "$T/$type-theirs-badsig.cbor" c0ffee
  expect_fail "$type: rampart refuses a wrong aad" 1 "does not verify" \
    "$COSE_TOOL" verify "$T/$type.pub" "$T/$type-theirs.cbor"
  # Outside rampart's profile: kid in the (unsigned) unprotected header.
  expect_ok "$type: python signs with kid unprotected" "${PYC[@]}" sign "$T/$type" "$T/payload" "$T/$type-loose.cbor" --loose
  expect_fail "$type: rampart refuses a non-empty unprotected header" 1 "unprotected header must be empty" \
    "$COSE_TOOL" verify "$T/$type.pub" "$T/$type-loose.cbor"
done

# The high-S twin of a valid ES256 signature: valid ECDSA, refused by rampart.
expect_ok "python signs with a high s" "${PYC[@]}" sign "$T/es256" "$T/payload" "$T/es256-high-s.cbor" --high-s
expect_ok "python itself accepts the high-S signature" "${PYC[@]}" verify "$T/es256.pub" "$T/es256-high-s.cbor"
expect_fail "rampart refuses the high-S signature" 1 "COSE_Sign1: ES256 signature has a high s" \
  "$COSE_TOOL" verify "$T/es256.pub" "$T/es256-high-s.cbor"

# Algorithm confusion: an EdDSA message checked with an ES256 key, both sides.
expect_fail "rampart refuses an EdDSA message for an ES256 key" 1 "alg is EdDSA \(-8\) but the key is ES256" \
  "$COSE_TOOL" verify "$T/es256.pub" "$T/ed25519-theirs.cbor" c0ffee
expect_fail "python refuses an EdDSA message for an ES256 key" 1 "does not match the key" \
  "${PYC[@]}" verify "$T/es256.pub" "$T/ed25519-ours.cbor" c0ffee
finish
