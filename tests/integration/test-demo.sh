#!/usr/bin/env bash
# scripts/demo (what 'make demo' runs) works against this build.
. "$(dirname "$0")/lib.sh"
expect_ok "scripts/demo" bash "$RAMPART_SOURCE_DIR/scripts/demo" "$RAMPART_BUILD_DIR"
expect_out "the demo packs" "^Packed hello.imagepackage"
expect_out "the demo verifies" "^OK: hello.imagepackage"
expect_out "the demo finishes" "^demo: done"
finish
