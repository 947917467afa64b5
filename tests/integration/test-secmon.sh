#!/usr/bin/env bash
# rampart-secmon end to end, on the soft backend: the real daemon in the
# background (stopped by the trap, even when the test fails), the CLI's
# device commands, openssl verify on the chain, evidence through the
# verifier, and every attack in docs/security.md's secmon list: each refused
# with a clear error while secmon keeps serving a well-behaved client.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/secmon.sh"

# --- the device -------------------------------------------------------------
D=$T/dev1
S=$D/secmon.sock
expect_ok "factory ca-create" "$RAMPART" factory ca-create --dir "$T/ca"
expect_ok "factory provision (soft)" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$D"
DEVICE_ID=$(grep -oE '[0-9a-f]{64}' "$T/out" | head -1)
[ -n "$DEVICE_ID" ] && ok || fail "provision printed no device id: $(cat "$T/out")"
printf 'os image v1\n' >"$T/os.img"

# --- the daemon's command line ----------------------------------------------
expect_ok "secmon --help" "$RAMPART_SECMON" --help
expect_out "--help names --state-dir" "--state-dir D"
expect_ok "secmon --version" "$RAMPART_SECMON" --version
expect_out "--version" "^rampart-secmon [0-9]"
expect_fail "secmon without --state-dir" 2 "missing --state-dir D" "$RAMPART_SECMON"
expect_err "usage hint" "Try 'rampart-secmon --help'"
expect_fail "secmon unknown option" 2 "unknown option '--frob'" "$RAMPART_SECMON" --state-dir "$D" --frob
expect_fail "secmon --allow without =" 2 "expected REQUEST=UID" "$RAMPART_SECMON" --state-dir "$D" --allow sign
expect_fail "secmon --allow unknown request" 2 "unknown request 'frob'" "$RAMPART_SECMON" --state-dir "$D" --allow frob=1
expect_fail "secmon --allow bad uid" 2 "'x' is not a numeric uid" "$RAMPART_SECMON" --state-dir "$D" --allow sign=1,x
expect_fail "secmon --dbgstat 5" 2 "dbgstat: '5' is not 0 to 4" "$RAMPART_SECMON" --state-dir "$D" --dbgstat 5
expect_fail "secmon --idle-timeout 0" 2 "expected 1 to 86400 seconds" "$RAMPART_SECMON" --state-dir "$D" --idle-timeout 0
expect_fail "secmon, not provisioned" 1 "event=fail reason=.*not provisioned" "${REFUSED[@]}" --state-dir "$T/nothing"
expect_fail "secmon, missing measured file" 1 "event=fail reason=.*$T/missing" \
  "${REFUSED[@]}" --state-dir "$D" --measure os="$T/missing"
printf 'frobnicate 1\n' >"$T/bad.conf"
expect_fail "secmon, unknown setting" 1 "bad.conf:1: unknown setting 'frobnicate'" \
  "${REFUSED[@]}" --state-dir "$D" --config "$T/bad.conf"
printf '# a comment\n\nallow sign\n' >"$T/bad.conf"
expect_fail "secmon, allow without uids" 1 "bad.conf:3: allow: wrong number of words" \
  "${REFUSED[@]}" --state-dir "$D" --config "$T/bad.conf"
printf 'dbgstat 1\n' >"$T/open.conf"; chmod 0666 "$T/open.conf"
expect_fail "secmon, config writable by others" 1 "writable by group or others" \
  "${REFUSED[@]}" --state-dir "$D" --config "$T/open.conf"
expect_fail "secmon, missing --config file" 1 "$T/none.conf" "${REFUSED[@]}" --state-dir "$D" --config "$T/none.conf"
[ ! -e "$S" ] && ok || fail "a refused start left a socket"

# --- the CLI without secmon -------------------------------------------------
expect_fail "show-identity, secmon not running" 1 "cannot reach rampart-secmon at $S: .* — is it running\?" \
  "$RAMPART" device show-identity --state-dir "$D"
expect_fail "device: usage" 2 "missing --state-dir D" "$RAMPART" device show-identity
expect_fail "attest: no nonce" 2 "missing --nonce HEX" "$RAMPART" device attest --state-dir "$D" -o "$T/e"
expect_fail "attest: no -o" 2 "missing -o FILE" "$RAMPART" device attest --state-dir "$D" --nonce 0011223344556677
expect_fail "attest: short nonce" 2 "expected 8 to 64 bytes in hex" \
  "$RAMPART" device attest --state-dir "$D" --nonce 00112233445566 -o "$T/e"
expect_fail "attest: nonce not hex" 2 "expected 8 to 64 bytes in hex" \
  "$RAMPART" device attest --state-dir "$D" --nonce 00112233445566zz -o "$T/e"
expect_fail "show-identity: --nonce is attest's" 2 "unknown option '--nonce'" \
  "$RAMPART" device show-identity --state-dir "$D" --nonce 00
expect_ok "device --help" "$RAMPART" device --help
expect_out "device --help lists attest" "^  attest "
expect_ok "attest --help" "$RAMPART" device attest --help
expect_out "attest --help" "^Usage: rampart device attest"

# --- identity ---------------------------------------------------------------
start main --state-dir "$D" --measure os="$T/os.img"
grep -qE "event=start .*backend=soft development=yes device_id=$DEVICE_ID measurement=[0-9a-f]{64} components=2" \
  "$T/main.log" && ok || fail "start line: $(cat "$T/main.log")"
grep -q 'event=warning development=yes reason="DEVELOPMENT BACKEND' "$T/main.log" && ok || fail "no loud development warning"
grep -q "event=ready socket=\"$S\"" "$T/main.log" && ok || fail "ready line names no socket"
[ "$(stat -c %a "$S")" = 666 ] && ok || fail "socket mode $(stat -c %a "$S"), expected 666"

identity "$D" id1
expect_out "show-identity: device id" "^Device id: +$DEVICE_ID$"
expect_out "show-identity: backend" "^Backend: +soft \(development"
expect_out "show-identity: measurement" "^Measurement: +[0-9a-f]{64}$"
[ "$(grep -c 'BEGIN CERTIFICATE' "$T/id1.txt")" = 3 ] && ok || fail "show-identity: not 3 certificates"
expect_ok "openssl verify: Alias -> DeviceID -> CA" \
  openssl verify -CAfile "$T/id1-ca.pem" -untrusted "$T/id1-deviceid.pem" "$T/id1-alias.pem"
cmp -s "$T/id1-ca.pem" "$T/ca/ca.pem" && ok || fail "the chain's CA is not the manufacturer CA"
openssl x509 -in "$T/id1-alias.pem" -noout -text >"$T/out"
expect_out "Alias carries TcbInfo" "2\.23\.133\.5\.4\.1"
expect_ok "show-identity -o json" "$RAMPART" device show-identity --state-dir "$D" -o json
expect_out "json device id" "\"device_id\": \"$DEVICE_ID\""
expect_out "json development" '"development": true'
expect_out "json chain" '"chain": \['
expect_ok "show-identity --socket" "$RAMPART" device show-identity --socket "$S"

# --- evidence ---------------------------------------------------------------
N1=00112233445566778899aabbccddeeff
N2=ffeeddccbbaa99887766554433221100
expect_ok "attest" "$RAMPART" device attest --state-dir "$D" --nonce "$N1" -o "$T/ev.cbor"
expect_out "attest says where" "^Wrote the evidence \([0-9]+ bytes\) to $T/ev.cbor$"
expect_ok "evidence verify, right nonce" "$RAMPART" evidence verify "$T/ev.cbor" --ca "$T/ca/ca.pem" --nonce "$N1" \
  --allow-development -o json
cp "$T/out" "$T/ev.json"
expect_out "verified evidence names the device" "\"device_id\": \"$DEVICE_ID\""
expect_out "verified evidence: software" '"swname": "rampart"'
MEASUREMENT=$(sed -n 's/^Measurement: *//p' "$T/id1.txt")
expect_out "evidence carries show-identity's measurement" "\"measurement\": \"$MEASUREMENT\""
expect_out "evidence lists secmon itself" '"name": "rampart-secmon"'
expect_out "and the measured file, with its SHA-256" "\"digest\": \"$(sha256sum "$T/os.img" | cut -d' ' -f1)\""
expect_fail "evidence verify, another nonce" 1 "nonce" \
  "$RAMPART" evidence verify "$T/ev.cbor" --ca "$T/ca/ca.pem" --nonce "$N2" --allow-development
expect_fail "evidence verify: a development device by default" 1 "development backend \"soft\"" \
  "$RAMPART" evidence verify "$T/ev.cbor" --ca "$T/ca/ca.pem" --nonce "$N1"
expect_ok "attest replaces its own evidence" "$RAMPART" device attest --state-dir "$D" --nonce "$N2" -o "$T/ev.cbor" --json
expect_out "attest --json" '"size": [0-9]+'
expect_ok "evidence verify, the new nonce" "$RAMPART" evidence verify "$T/ev.cbor" --ca "$T/ca/ca.pem" --nonce "$N2" \
  --allow-development
echo text >"$T/notes.txt"
expect_fail "attest will not replace another file" 1 "not attestation evidence" \
  "$RAMPART" device attest --state-dir "$D" --nonce "$N1" -o "$T/notes.txt"
expect_fail "attest will not write into the state directory" 1 "the state directory" \
  "$RAMPART" device attest --state-dir "$D" --nonce "$N1" -o "$D/deviceid.pem" --force

# --- bad requests: each refused, the connection and secmon go on serving -----
# raw SOCK HEX prints "response: status=N message=..." then "then info: status=0".
attack() {  # attack DESC PATTERN ARGS...
  local desc=$1 pat=$2; shift 2
  expect_ok "$desc" "$ATTACK" "$@"
  expect_out "$desc: refused" "^response: status=-[0-9]+ message=.*$pat"
  expect_out "$desc: the same connection still answers" "^then info: status=0 "
}
attack "garbage" "CBOR" raw "$S" ff00ff
attack "truncated CBOR" "truncated" raw "$S" a20103024800112233
attack "empty datagram" "truncated" raw "$S" ""
attack "not a map" "expected a map" raw "$S" 8101
attack "trailing bytes" "1 bytes after the request" raw "$S" a1010100
attack "unknown request type" "field 1 \(type\): 99 is out of range" raw "$S" a1011863
attack "wrong field type" "field 2 \(nonce\): expected a byte string, got a text string" raw "$S" a2010302683030303030303030
attack "field of another request" "'info': unexpected field 3 \(digest\)" raw "$S" a201010340
attack "nonce too short" "7 bytes, must be 8 to 64" raw "$S" a20103024700112233445566
attack "nonce too long" "65 bytes, must be 8 to 64" raw "$S" a20103025841"$(printf '00%.0s' $(seq 65))"
attack "digest not 32 bytes" "field 3 \(digest\): 31 bytes, must be 32" raw "$S" a2010403581f"$(printf 'ab%.0s' $(seq 31))"
attack "counter index out of range" "field 4 \(index\): 8 is out of range" raw "$S" a201050408
attack "not deterministic" "not deterministic CBOR" raw "$S" a1011801
attack "oversized datagram" "20000 bytes, over the limit of 8256" big "$S" 20000
served "after the bad requests"
grep -q 'event=refused request=- uid=0 .*reason="secmon request: 20000 bytes' "$T/main.log" && ok || fail "refusal not logged"

expect_ok "a flood of 500 idle connections, then a new client" "$ATTACK" flood "$S" 500
expect_out "the new client is served" "^served after 500 idle connections .*device_id=$DEVICE_ID$"
grep -q 'event=close .*reason="evicted: the least recently active' "$T/main.log" && ok || fail "no eviction logged"
served "after the flood"
expect_ok "a client that never reads" "$ATTACK" no-read "$S"
expect_out "is dropped" "^dropped after [0-9]+ requests$"
grep -q 'reason="it does not read its responses"' "$T/main.log" && ok || fail "drop not logged"
served "after the client that never reads"

# --- the allow-list ---------------------------------------------------------
# uid 65534 must reach the socket to be refused by secmon rather than by
# the file system. Another uid needs root (setuid): without it, this part
# is skipped and the test reports a skip at the end.
if [ "$(id -u)" = 0 ]; then
chmod o+x "$T" "$D"
expect_ok "uid 65534: info" "$ATTACK" as-uid 65534 "$S" a10101
expect_out "uid 65534 is refused" "^response: status=-13 message=request 'info' refused for uid 65534: not on its allow-list$"
expect_out "and stays refused on the same connection" "^then info: status=-13 "
grep -q "event=refused request=info uid=65534 " "$T/main.log" && ok || fail "uid refusal not logged"
expect_ok "root: the same request" "$ATTACK" raw "$S" a10101
expect_out "root is served" "^response: status=0 result="
served "after the refused uid"
fi
stop main

printf '# who may ask what\nallow info 65534\nallow sign 65534,4242\nmeasure os %s 1.0\n' "$T/os.img" >"$D/secmon.conf"
chmod 0644 "$D/secmon.conf"
start conf --state-dir "$D"
grep -qE "event=start .*config=\"$D/secmon.conf\".*components=2" "$T/conf.log" && ok || fail "config not read: $(head -1 "$T/conf.log")"
if [ "$(id -u)" = 0 ]; then
  expect_ok "uid 65534, allowed by secmon.conf" "$ATTACK" as-uid 65534 "$S" a10101
  expect_out "uid 65534 is served" "^response: status=0 result="
  expect_ok "uid 65534, counter-read not allowed" "$ATTACK" as-uid 65534 "$S" a201050400
  expect_out "uid 65534 refused counter-read" "request 'counter-read' refused for uid 65534"
fi
identity "$D" conf
stop conf
start flags --state-dir "$D" --allow info=4242
if [ "$(id -u)" = 0 ]; then
  expect_ok "uid 65534, --allow replaced the file's info list" "$ATTACK" as-uid 65534 "$S" a10101
  expect_out "uid 65534 refused again" "request 'info' refused for uid 65534"
fi
identity "$D" flags
stop flags
rm "$D/secmon.conf"
[ "$(alias_key conf)" = "$(alias_key flags)" ] && ok || fail "the same software gave another Alias key"

# --- counters ---------------------------------------------------------------
start main --state-dir "$D" --measure os="$T/os.img"
expect_ok "counter 0: advance to 5" "$ATTACK" counter-advance "$S" 0 5
expect_line "counter 0 is 5" out 5
expect_fail "counter 0: back to 3" 1 "rollback" "$ATTACK" counter-advance "$S" 0 3
expect_ok "counter 0: read" "$ATTACK" counter-read "$S" 0
expect_line "counter 0 still 5" out 5
expect_ok "counter 0: advance to 5 again (no-op)" "$ATTACK" counter-advance "$S" 0 5
expect_ok "counter 1: never advanced" "$ATTACK" counter-read "$S" 1
expect_line "counter 1 reads 0" out 0

# --- sealing ----------------------------------------------------------------
expect_ok "seal" "$ATTACK" seal "$S" 68656c6c6f20736563726574
BLOB=$(cat "$T/out")
expect_ok "unseal" "$ATTACK" unseal "$S" "$BLOB"
expect_line "unsealed" out 68656c6c6f20736563726574
DIGEST=$(printf 'secmon' | sha256sum | cut -d' ' -f1)
expect_ok "sign a digest" "$ATTACK" sign "$S" "$DIGEST"
expect_out "64-byte signature" "^[0-9a-f]{128}$"
SIG=$(cat "$T/out")
identity "$D" before
expect_ok "the signature verifies with the Alias key" sign_check before "$DIGEST" "$SIG"
sign_check before "$(printf 'other' | sha256sum | cut -d' ' -f1)" "$SIG" 2>/dev/null &&
  fail "the signature verifies for another digest (sign_check tests nothing)" || ok
stop main

# Restarted without a change: same Alias key, counters kept, blob opens.
start main --state-dir "$D" --measure os="$T/os.img"
identity "$D" same
[ "$(alias_key before)" = "$(alias_key same)" ] && ok || fail "restart without a change gave another Alias key"
expect_ok "counter 0 after restart" "$ATTACK" counter-read "$S" 0
expect_line "counter 0 is still 5 after a restart" out 5
expect_fail "counter 0: back to 3 after restart" 1 "rollback" "$ATTACK" counter-advance "$S" 0 3
expect_ok "unseal after restart" "$ATTACK" unseal "$S" "$BLOB"
stop main

# Another measurement: another Alias key, and the blob does not open.
printf 'os image v2\n' >"$T/os.img"
start main --state-dir "$D" --measure os="$T/os.img"
identity "$D" changed
[ "$(alias_key before)" != "$(alias_key changed)" ] && ok || fail "a changed measured file kept the Alias key"
expect_ok "openssl verify after the change" \
  openssl verify -CAfile "$T/changed-ca.pem" -untrusted "$T/changed-deviceid.pem" "$T/changed-alias.pem"
grep -q "^Device id: *$DEVICE_ID$" "$T/changed.txt" && ok || fail "the device id changed with the software"
expect_fail "unseal under another measurement" 1 "code -129" "$ATTACK" unseal "$S" "$BLOB"
served "after the refused unseal"
stop main
printf 'os image v1\n' >"$T/os.img"

# Another device: its own identity, and the first device's blob does not open.
D2=$T/dev2
expect_ok "provision a second device" "$RAMPART" factory provision --backend soft --ca-dir "$T/ca" --state-dir "$D2"
start other --state-dir "$D2" --measure os="$T/os.img"
identity "$D2" other
grep -q "^Device id: *$DEVICE_ID$" "$T/other.txt" && fail "two devices share a device id" || ok
expect_fail "unseal on another device" 1 "code -129" "$ATTACK" unseal "$D2/secmon.sock" "$BLOB"
stop other
cp "$D/deviceid.pem" "$T/deviceid.pem.mine"
cp "$D2/deviceid.pem" "$D/deviceid.pem"
expect_fail "another device's DeviceID certificate" 1 "event=fail reason=.*deviceid.pem certifies another key" \
  "${REFUSED[@]}" --state-dir "$D"
cp "$T/deviceid.pem.mine" "$D/deviceid.pem"

# --- lifecycle --------------------------------------------------------------
start main --state-dir "$D" --measure os="$T/os.img"
expect_ok "unseal back on the first software" "$ATTACK" unseal "$S" "$BLOB"
expect_fail "a second secmon on the same socket" 1 "another rampart-secmon is listening" \
  "${REFUSED[@]}" --state-dir "$D" --measure os="$T/os.img"
kill -KILL "${PID[main]}"; wait "${PID[main]}" 2>/dev/null || true; unset "PID[main]"
[ -S "$S" ] && ok || fail "the killed secmon's socket is gone (the next check tests nothing)"
start main --state-dir "$D" --measure os="$T/os.img" --idle-timeout 1   # over the stale socket
expect_ok "an idle connection" "$ATTACK" idle "$S"
expect_out "is closed" "^closed by secmon$"
grep -q 'reason="idle"' "$T/main.log" && ok || fail "idle close not logged"
stop main
[ ! -e "$S" ] && ok || fail "SIGTERM left the socket"

# sd_notify: READY=1 on $NOTIFY_SOCKET once it listens.
python3 - "$T/notify" >"$T/notified" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)   # only so that a secmon that never says READY fails the test instead of hanging it
print(s.recv(64).decode())
EOF
NPID=$!
until [ -S "$T/notify" ]; do sleep 0.05; done
export NOTIFY_SOCKET=$T/notify
start main --state-dir "$D" --socket "$T/other.sock"
unset NOTIFY_SOCKET
wait "$NPID"
[ "$(cat "$T/notified")" = READY=1 ] && ok || fail "sd_notify: got '$(cat "$T/notified")'"
expect_ok "show-identity --socket elsewhere" "$RAMPART" device show-identity --socket "$T/other.sock"
stop main INT
[ ! -e "$T/other.sock" ] && ok || fail "SIGINT left the socket"

finish
if [ "$(id -u)" != 0 ]; then echo "SKIP: the allow-list checks need root (setuid to uid 65534)"; exit 77; fi
