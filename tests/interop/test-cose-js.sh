#!/usr/bin/env bash
# COSE_Sign1 interop with npm cose-js 0.9.0 (ES256 only), both directions.
. "$RAMPART_SOURCE_DIR/tests/integration/lib.sh"
. "$INTEROP_DIR/common.sh"
if [ ! -d "$NODE_PATH/cose-js" ]; then
  if [ "${RAMPART_REQUIRE_NETWORK_TESTS:-0}" = 1 ]; then
    echo "FAIL: cose-js is not installed (interop/npm-ci failed)" >&2; exit 1
  fi
  echo "SKIP: cose-js is not installed (interop/npm-ci could not reach the npm registry)"; exit 77
fi
JS=(node "$INTEROP_DIR/cose-js-tool.js")

printf 'hello from the interop test' > "$T/payload"
want=$(od -An -tx1 -v "$T/payload" | tr -d ' \n')
expect_ok "generate an ES256 key" "$RAMPART" keys generate -o "$T/k" --type es256
expect_ok "generate a second key" "$RAMPART" keys generate -o "$T/other" --type es256

# rampart -> cose-js
expect_ok "rampart signs" "$COSE_TOOL" sign "$T/k" "$T/payload" "$T/ours.cbor"
expect_ok "cose-js verifies rampart's message" "${JS[@]}" verify "$T/k.pub" "$T/ours.cbor"
expect_stdout "cose-js returns the payload" "$want"
flip "$T/ours.cbor" "hello" "$T/ours-tampered.cbor"
expect_fail "cose-js refuses rampart's message with a changed payload" 1 "Signature missmatch" \
  "${JS[@]}" verify "$T/k.pub" "$T/ours-tampered.cbor"
flip_last "$T/ours.cbor" "$T/ours-badsig.cbor"
expect_fail "cose-js refuses rampart's message with a changed signature" 1 "Signature missmatch" \
  "${JS[@]}" verify "$T/k.pub" "$T/ours-badsig.cbor"
expect_fail "cose-js refuses rampart's message under another key" 1 "Signature missmatch" \
  "${JS[@]}" verify "$T/other.pub" "$T/ours.cbor"
expect_ok "rampart signs with external_aad" "$COSE_TOOL" sign "$T/k" "$T/payload" "$T/ours-aad.cbor" 0a0b0c
expect_ok "cose-js verifies it with the same aad" "${JS[@]}" verify "$T/k.pub" "$T/ours-aad.cbor" 0a0b0c
expect_fail "cose-js refuses it with another aad" 1 "Signature missmatch" \
  "${JS[@]}" verify "$T/k.pub" "$T/ours-aad.cbor" 0a0b0d

# cose-js -> rampart
expect_ok "cose-js signs" "${JS[@]}" sign "$T/k" "$T/payload" "$T/theirs.cbor"
fb=$(first_byte "$T/theirs.cbor")
if [ "$fb" = d2 ]; then ok; else fail "cose-js output should start with tag 18 (d2), starts with $fb"; fi
expect_ok "rampart verifies cose-js's message" "$COSE_TOOL" verify "$T/k.pub" "$T/theirs.cbor"
expect_stdout "rampart returns the payload" "$want"
flip "$T/theirs.cbor" "hello" "$T/theirs-tampered.cbor"
expect_fail "rampart refuses cose-js's message with a changed payload" 1 "COSE_Sign1: ES256 signature does not verify" \
  "$COSE_TOOL" verify "$T/k.pub" "$T/theirs-tampered.cbor"
flip_last "$T/theirs.cbor" "$T/theirs-badsig.cbor"
expect_fail "rampart refuses cose-js's message with a changed signature" 1 "COSE_Sign1: ES256 signature" \
  "$COSE_TOOL" verify "$T/k.pub" "$T/theirs-badsig.cbor"
expect_fail "rampart refuses cose-js's message under another key" 1 "does not verify" \
  "$COSE_TOOL" verify "$T/other.pub" "$T/theirs.cbor"
expect_ok "cose-js signs with external_aad" "${JS[@]}" sign "$T/k" "$T/payload" "$T/theirs-aad.cbor" 0a0b0c
expect_ok "rampart verifies it with the same aad" "$COSE_TOOL" verify "$T/k.pub" "$T/theirs-aad.cbor" 0a0b0c
expect_fail "rampart refuses it without the aad" 1 "does not verify" \
  "$COSE_TOOL" verify "$T/k.pub" "$T/theirs-aad.cbor"

# cose-js's usual style puts kid in the unprotected header, outside
# rampart's profile: refused (the default output above conforms).
expect_ok "cose-js signs in its usual style" "${JS[@]}" sign "$T/k" "$T/payload" "$T/loose.cbor" --loose
expect_fail "rampart refuses an unprotected kid, saying why" 1 "unprotected header must be empty" \
  "$COSE_TOOL" verify "$T/k.pub" "$T/loose.cbor"

# cose-js can also write untagged messages; rampart refuses them by design.
expect_ok "cose-js signs untagged" "${JS[@]}" sign "$T/k" "$T/payload" "$T/untagged.cbor" --untagged
fb=$(first_byte "$T/untagged.cbor")
if [ "$fb" = 84 ]; then ok; else fail "untagged output should start with an array (84), starts with $fb"; fi
expect_fail "rampart refuses an untagged message, saying so" 1 "COSE_Sign1: untagged; expected tag 18" \
  "$COSE_TOOL" verify "$T/k.pub" "$T/untagged.cbor"
finish
