# Sourced by integration tests. Provides a scratch directory and assertions.
# Environment (set by CTest): RAMPART (the CLI binary), RAMPART_SOURCE_DIR,
# RAMPART_TEST_DATA, RAMPART_BUILD_DIR.
#
# Every assertion is strict enough to fail: a refusal names its exit code
# (1 refused, 2 usage error) and a non-empty pattern for its reason; a
# sanitizer report or a message of the other kind fails it (a usage error
# never passes for a refusal, nor a crash for either).
set -euo pipefail
: "${RAMPART:?run this test through ctest}"
T=$(mktemp -d "${TMPDIR:-/tmp}/rampart-it.XXXXXX")
trap 'rm -rf "$T"' EXIT
passed=0 failed=0

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }

# sanitizer_report: true if the last command's stderr holds an ASan, LSan or
# UBSan report (ASan exits 1, which would otherwise look like a refusal).
sanitizer_report() { grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/err"; }

# expect_ok DESC CMD...: CMD must exit 0 without a sanitizer report.
expect_ok() {
  local desc=$1; shift
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne 0 ]; then fail "$desc: exited $rc (stderr: $(head -c 400 "$T/err"))"; return; fi
  if sanitizer_report; then fail "$desc: sanitizer report: $(head -c 400 "$T/err")"; return; fi
  ok
}
# expect_fail DESC CODE PATTERN CMD...: CMD must exit CODE (1 refused, 2 usage
# error) and print PATTERN (grep -E, not empty) on stderr; the rampart CLI's
# message must be of that kind: "rampart: error: " for 1, a usage line for 2.
expect_fail() {
  local desc=$1 code=$2 pat=$3; shift 3
  if [ -z "$pat" ]; then fail "$desc: empty pattern: name the reason the command must give"; return; fi
  if [ "$code" != 1 ] && [ "$code" != 2 ]; then fail "$desc: expected exit code must be 1 or 2, not '$code'"; return; fi
  local rc=0
  "$@" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne "$code" ]; then fail "$desc: exited $rc, expected $code (stderr: $(head -c 400 "$T/err"))"; return; fi
  if sanitizer_report; then fail "$desc: sanitizer report: $(head -c 400 "$T/err")"; return; fi
  # The rampart CLI (run directly, through env or a test's wrapper function;
  # interop tests also drive other tools) says which kind of failure it is.
  if [[ " $* " == *" $RAMPART "* ]] || [ "$(type -t "$1")" = function ]; then
    if [ "$code" = 1 ] && ! grep -q '^rampart: error: ' "$T/err"; then
      fail "$desc: exit 1 without 'rampart: error:' on stderr: $(head -c 400 "$T/err")"; return
    fi
    if [ "$code" = 2 ] && ! grep -qE "^Try 'rampart .*--help'\.$|^Usage: rampart" "$T/err"; then
      fail "$desc: exit 2 without a usage hint on stderr: $(head -c 400 "$T/err")"; return
    fi
  fi
  if ! grep -qE -- "$pat" "$T/err"; then fail "$desc: stderr lacks /$pat/: $(head -c 400 "$T/err")"; return; fi
  ok
}
# expect_out DESC PATTERN: the last command's stdout must match PATTERN (not empty).
expect_out() {
  if [ -z "$2" ]; then fail "$1: empty pattern"; return; fi
  if grep -qE -- "$2" "$T/out"; then ok; else fail "$1: stdout lacks /$2/: $(head -c 400 "$T/out")"; fi
}
# expect_err DESC PATTERN: the last command's stderr must match PATTERN (not empty).
expect_err() {
  if [ -z "$2" ]; then fail "$1: empty pattern"; return; fi
  if grep -qE -- "$2" "$T/err"; then ok; else fail "$1: stderr lacks /$2/: $(head -c 400 "$T/err")"; fi
}
# expect_line DESC out|err LINE: the last command's stdout or stderr must hold
# LINE exactly, byte for byte (no pattern).
expect_line() {
  if [ -z "$3" ]; then fail "$1: empty line"; return; fi
  if grep -qxF -- "$3" "$T/$2"; then ok; else fail "$1: $2 lacks the line '$3': $(head -c 400 "$T/$2")"; fi
}
# expect_no_controls DESC: no raw control character reached the last
# command's stdout or stderr: no C0 byte but newline, no DEL, no C1 control
# (U+0080..U+009F), no bidirectional control (U+202A..U+202E, U+2066..U+2069)
# and no byte that is not UTF-8.
expect_no_controls() {
  local f
  for f in out err; do
    if LC_ALL=C grep -qaP '[\x00-\x09\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' "$T/$f" ||
       ! iconv -f UTF-8 -t UTF-8 "$T/$f" >/dev/null 2>&1; then
      fail "$1: a raw control or non-UTF-8 byte on std$f: $(od -c "$T/$f" | head -8)"; return
    fi
  done
  ok
}
# expect_same DESC FILE COPY: FILE is byte-identical to COPY.
expect_same() {
  if cmp -s "$2" "$3"; then ok; else fail "$1: $2 changed"; fi
}
# finish: print the summary line and exit non-zero on any failure.
finish() {
  echo "$passed passed, $failed failed"
  [ "$failed" -eq 0 ]
}
