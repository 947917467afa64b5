# Sourced by the rampart-secmon tests (after lib.sh): start and stop the real
# daemon in the background (every one still running is stopped at exit, even
# when the test fails), and read what it says about the device.
# Environment (set by CTest): RAMPART_SECMON, RAMPART_SECMON_ATTACK.
: "${RAMPART_SECMON:?run this test through ctest}" "${RAMPART_SECMON_ATTACK:?run this test through ctest}"
ATTACK=$RAMPART_SECMON_ATTACK

declare -A PID=()
cleanup() {
  local p
  for p in "${PID[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$T"
}
trap cleanup EXIT

# start NAME ARGS...: rampart-secmon ARGS in the background, its log in
# $T/NAME.log; returns once it logged event=ready (or fails if it exited).
start() {
  local name=$1; shift
  rm -f "$T/$name.log"    # a log of an earlier run must not say "ready" for this one
  "$RAMPART_SECMON" "$@" 2>"$T/$name.log" &
  PID[$name]=$!
  until grep -qs 'event=ready' "$T/$name.log"; do
    if ! kill -0 "${PID[$name]}" 2>/dev/null; then
      local rc=0
      wait "${PID[$name]}" || rc=$?
      unset "PID[$name]"
      fail "rampart-secmon $name did not start (exit $rc, line ${BASH_LINENO[0]}): $(cat "$T/$name.log")"; return 1
    fi
    sleep 0.05
  done
  ok
}
# stop NAME [SIGNAL]: SIGTERM (or SIGNAL: INT); it must exit 0 after logging
# event=stop, with no sanitizer report in its log.
stop() {
  local rc=0 sig=${2:-TERM}
  kill -"$sig" "${PID[$1]}"
  wait "${PID[$1]}" || rc=$?
  unset "PID[$1]"
  [ "$rc" = 0 ] && grep -q "event=stop signal=$sig" "$T/$1.log" && ok || fail "secmon $1 exited $rc: $(tail -3 "$T/$1.log")"
  ! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$T/$1.log" && ok || fail "sanitizer report: $(cat "$T/$1.log")"
}
# identity DIR NAME: show-identity into $T/NAME.{txt,json}; the chain's
# certificates into $T/NAME-{alias,deviceid,ca}.pem.
identity() {
  expect_ok "show-identity ($2)" "$RAMPART" device show-identity --state-dir "$1"
  cp "$T/out" "$T/$2.txt"
  awk -v p="$T/$2" '/BEGIN CERT/{n++} n==1{print > p"-alias.pem"} n==2{print > p"-deviceid.pem"} n==3{print > p"-ca.pem"}' "$T/$2.txt"
}
# alias_key NAME: the Alias public key of identity NAME.
alias_key() { openssl x509 -in "$T/$1-alias.pem" -noout -pubkey; }
# "${REFUSED[@]}" ARGS...: rampart-secmon in the foreground, for a start it
# must refuse; the timeout only keeps a secmon that wrongly starts from
# hanging the test (which then fails with exit 124).
REFUSED=(timeout 60 "$RAMPART_SECMON")
# sign_check NAME DIGEST_HEX SIG_HEX: the r||s signature verifies with the
# Alias key of identity NAME, and is low-S (python3-cryptography).
sign_check() {
  python3 - "$T/$1-alias.pem" "$2" "$3" <<'EOF'
import sys
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, utils
key = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read()).public_key()
digest, sig = bytes.fromhex(sys.argv[2]), bytes.fromhex(sys.argv[3])
r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
key.verify(utils.encode_dss_signature(r, s), digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
n = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
assert s <= (n - 1) // 2, "high S"
EOF
}
# served DESC: a well-behaved client still gets its answer.
served() { expect_ok "$1: secmon still serves" "$RAMPART" device show-identity --state-dir "$D" -o json; }
