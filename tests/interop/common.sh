# Sourced by the interop tests (after tests/integration/lib.sh).
: "${COSE_TOOL:?run this test through ctest}"
PY=/usr/bin/python3   # the Debian python with python3-cbor2 and python3-cryptography

# flip IN NEEDLE OUT: copy IN to OUT with one bit of the first occurrence of
# the text NEEDLE flipped (a tampered payload).
flip() {
  "$PY" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(sys.argv[2].encode())
assert i >= 0, "needle not found"
b[i] ^= 1
open(sys.argv[3], "wb").write(b)' "$1" "$2" "$3"
}

# flip_last IN OUT: the last byte (inside the signature) changed.
flip_last() {
  "$PY" -c 'import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[-1] ^= 0x40
open(sys.argv[2], "wb").write(b)' "$1" "$2"
}

# first_byte FILE: the first byte as two hex digits.
first_byte() { od -An -tx1 -N1 "$1" | tr -d ' \n'; }

# expect_stdout DESC WANT: the last command's stdout is exactly WANT.
expect_stdout() {
  local got; got=$(cat "$T/out")
  if [ "$got" = "$2" ]; then ok; else fail "$1: stdout is '$got', expected '$2'"; fi
}
