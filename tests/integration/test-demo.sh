#!/usr/bin/env bash
# scripts/demo (what 'make demo' runs) works against this build: each step
# happens, and each refusal is a refusal (exit 1) for the reason it names.
. "$(dirname "$0")/lib.sh"
expect_ok "scripts/demo" bash "$RAMPART_SOURCE_DIR/scripts/demo" "$RAMPART_BUILD_DIR"
expect_out "the demo packs" "^Packed hello.imagepackage$"
expect_out "the demo verifies" "^OK: hello.imagepackage: app hello "
for reason in "image digest mismatch" "signature does not verify" "truncated package" \
              "padded package: 5 unexpected bytes" "not the given key" "is the signing key (--key)" \
              "development" "eat_nonce is not the expected nonce" "does not verify to a trusted CA" \
              "signature_invalid" "software_revoked"; do
  expect_line "the demo refuses: $reason" out "(refused, as it should be: $reason)"
done
[ "$(grep -c '^(refused, as it should be' "$T/out")" = 11 ] && ok || fail "the demo should show 11 refusals"
expect_out "the demo's device chain verifies with openssl" "^alias.pem: OK$"
expect_out "the demo's evidence verifies" "^Verified: +yes: chain to a trusted CA"
expect_out "the demo's service issues a certificate the tenant CA verifies" "^device-cert.pem: OK$"
expect_out "the certificate names the tenant" "URI:urn:rampart:tenant:[0-9a-f]{32}"
expect_out "the device is seen over mTLS" "^Certificate expires: "
expect_out "the device accepts the signed deployment document" "^Version: +2 \\(new\\)$"
expect_out "the downloaded package is the uploaded one" "^the same bytes$"
expect_out "the device's reported state is shown" "^Up to date: +yes$"
expect_out "the rollback is a new deployment" "^Rollback of: +[0-9a-f]{32}$"
expect_out "the device takes the rollback's document (its version grew)" "^Version: +4 \\(new\\)$"
expect_out "the failure reports are uploaded" "^Uploaded 3 events in 1 batch"
expect_out "the summary counts them by app and kind" "^[0-9a-f-]{36} +exit_code +2 +1 "
expect_out "the refusal is recorded" "refused +software_revoked"
expect_out "the demo finishes" "^demo: done$"

# The demo stops when a refusal is not the one it names: a usage error (exit
# 2), a crash (139), or exit 1 for another reason. A stand-in rampart that
# answers so for the tampered package shows it.
mkdir -p "$T/fake/src/cli"
for case in "2 image digest mismatch" "139 image digest mismatch" "1 cannot open"; do
  read -r rc msg <<<"$case"
  printf '#!/bin/sh\ncase "$*" in *" tampered.imagepackage "*) echo "rampart: error: %s" >&2; exit %s;; esac\nexec "%s" "$@"\n' \
    "$msg" "$rc" "$RAMPART" >"$T/fake/src/cli/rampart"
  chmod +x "$T/fake/src/cli/rampart"
  drc=0
  bash "$RAMPART_SOURCE_DIR/scripts/demo" "$T/fake" >"$T/out" 2>"$T/err" || drc=$?
  if [ "$drc" = 1 ] && grep -qxF "demo: expected a refusal (exit 1) saying \"image digest mismatch\"; got exit $rc" "$T/err"; then
    ok
  else
    fail "the demo accepted exit $rc ($msg) as the refusal it names: exit $drc, $(tail -c 300 "$T/err")"
  fi
done
finish
