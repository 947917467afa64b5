# Sourced by integration tests. Provides a scratch directory and assertions.
# Environment (set by CTest): RAMPART (the CLI binary), RAMPART_SOURCE_DIR,
# RAMPART_TEST_DATA, RAMPART_BUILD_DIR.
set -euo pipefail
: "${RAMPART:?run this test through ctest}"
T=$(mktemp -d "${TMPDIR:-/tmp}/rampart-it.XXXXXX")
trap 'rm -rf "$T"' EXIT
passed=0 failed=0

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }

# expect_ok DESC CMD...: CMD must exit 0.
expect_ok() {
  local desc=$1; shift
  if "$@" >"$T/out" 2>"$T/err"; then ok; else fail "$desc: exited $? (stderr: $(head -c 400 "$T/err"))"; fi
}
# expect_fail DESC CODE PATTERN CMD...: CMD must exit CODE and print PATTERN (grep -E) on stderr.
expect_fail() {
  local desc=$1 code=$2 pat=$3; shift 3
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne "$code" ]; then fail "$desc: exited $rc, expected $code (stderr: $(head -c 400 "$T/err"))"; return; fi
  if ! grep -qE -- "$pat" "$T/err"; then fail "$desc: stderr lacks /$pat/: $(head -c 400 "$T/err")"; return; fi
  ok
}
# expect_out DESC PATTERN: the last command's stdout must match PATTERN.
expect_out() {
  if grep -qE -- "$2" "$T/out"; then ok; else fail "$1: stdout lacks /$2/: $(head -c 400 "$T/out")"; fi
}
# finish: print the summary line and exit non-zero on any failure.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
