# The swtpm harness other integration tests use (swtpm.sh): it starts a TPM
# tpm2-tools can talk to, keeps its state across a stop and start in the
# same directory, runs two devices side by side, and never outlives the
# script, whether it exits or is killed.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/swtpm.sh"
require_swtpm

start_swtpm "$T/tpm-a"
a_pid=$SWTPM_PID a_tcti=$SWTPM_TCTI
expect_ok "tpm2-tools talk to it" tpm2_getrandom -T "$a_tcti" --hex 16
expect_out "16 random bytes" '^[0-9a-f]{32}$'

# State kept across a power cycle: a persistent key survives.
expect_ok "create a primary" tpm2_createprimary -T "$a_tcti" -C o -G ecc256 -c "$T/primary.ctx"
expect_ok "make it persistent" tpm2_evictcontrol -T "$a_tcti" -C o -c "$T/primary.ctx" 0x81000099
expect_ok "read it" tpm2_readpublic -T "$a_tcti" -c 0x81000099 -f pem -o "$T/before.pem"
stop_swtpm
if kill -0 "$a_pid" 2>/dev/null; then fail "stop_swtpm: pid $a_pid still runs"; else ok; fi
start_swtpm "$T/tpm-a"
a_pid=$SWTPM_PID a_tcti=$SWTPM_TCTI
expect_ok "read it after a restart" tpm2_readpublic -T "$a_tcti" -c 0x81000099 -f pem -o "$T/after.pem"
expect_same "the same key" "$T/before.pem" "$T/after.pem"

# Another directory is another TPM, running beside the first.
start_swtpm "$T/tpm-b"
b_tcti=$SWTPM_TCTI
if [ "$a_tcti" = "$b_tcti" ]; then fail "two swtpms on one port: $a_tcti"; else ok; fi
expect_fail "not in the other TPM" 1 "the handle is not correct" \
  tpm2_readpublic -T "$b_tcti" -c 0x81000099
expect_ok "the first still answers" tpm2_readpublic -T "$a_tcti" -c 0x81000099

# A process that has not exited (a zombie no one reaped yet has).
alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }

# A script that exits, and one that is killed: their swtpm goes with them.
# child DIR HOW: a script starting swtpm in DIR, then ending by HOW.
child() {
  bash -c '. "$1/lib.sh"; . "$1/swtpm.sh"; start_swtpm "$2"; echo "$SWTPM_PID" >"$2.pid"; '"$2" \
    _ "$(dirname "$0")" "$1"
}
for how in "exit 0" "kill -9 \$\$"; do
  rm -f "$T/child.pid"
  child "$T/child" "$how" >/dev/null 2>&1 || true
  pid=$(cat "$T/child.pid")
  gone=no
  for _ in $(seq 200); do alive "$pid" || { gone=yes; break; }; sleep 0.05; done
  if [ "$gone" = yes ]; then ok; else fail "after '$how' swtpm (pid $pid) still runs"; kill -9 "$pid"; fi
done
finish
