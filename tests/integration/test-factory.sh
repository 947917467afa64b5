#!/usr/bin/env bash
# rampart factory: ca-create and provision (soft backend), checked with the
# openssl CLI: the device id is the SHA-256 of the DeviceID certificate's
# public key, and the certificate verifies against the CA. Refusals: an
# existing CA, a device provisioned twice, a missing or mismatched CA key,
# an unknown backend, command-line errors. File modes.
. "$(dirname "$0")/lib.sh"

mode() { stat -c %a "$1"; }
expect_mode() { # DESC FILE MODE
  local m; m=$(mode "$2")
  if [ "$m" = "$3" ]; then ok; else fail "$1: mode $m, expected $3"; fi
}

# Help and usage errors.
expect_ok "factory --help" "$RAMPART" factory --help
expect_out "factory help lists ca-create" "^  ca-create "
expect_out "factory help lists provision" "^  provision "
expect_ok "help factory" "$RAMPART" help factory
expect_out "help factory" "Usage: rampart factory COMMAND"
expect_ok "ca-create --help" "$RAMPART" factory ca-create --help
expect_out "ca-create help" "^Usage: rampart factory ca-create --dir C"
expect_ok "provision --help" "$RAMPART" factory provision --help
expect_out "provision help names the backends" "this build has: .*soft"
expect_fail "factory: unknown command" 2 "unknown command 'frob'" "$RAMPART" factory frob
expect_fail "ca-create without --dir" 2 "missing --dir C" "$RAMPART" factory ca-create
expect_fail "ca-create: usage hint" 2 "Try 'rampart factory ca-create --help'" "$RAMPART" factory ca-create
expect_fail "ca-create: extra argument" 2 "unexpected argument 'extra'" "$RAMPART" factory ca-create --dir "$T/x" extra
expect_fail "ca-create: unknown option" 2 "unknown option '--frob'" "$RAMPART" factory ca-create --frob
expect_fail "ca-create: bad format" 2 "unknown output format 'xml'" "$RAMPART" factory ca-create --dir "$T/x" -o xml
expect_fail "ca-create: empty name" 2 "the name must be 1 to 64 bytes" "$RAMPART" factory ca-create --dir "$T/x" --name ""
expect_fail "ca-create: long name" 2 "the name must be 1 to 64 bytes" \
  "$RAMPART" factory ca-create --dir "$T/x" --name "$(printf 'n%.0s' {1..65})"
[ ! -e "$T/x" ] && ok || fail "usage errors created the CA directory"

C="$T/ca" D="$T/dev"
expect_fail "provision without --backend" 2 "missing --backend" \
  "$RAMPART" factory provision --ca-dir "$C" --state-dir "$D"
expect_fail "provision without --ca-dir" 2 "missing --ca-dir C" \
  "$RAMPART" factory provision --backend soft --state-dir "$D"
expect_fail "provision without --state-dir" 2 "missing --state-dir D" \
  "$RAMPART" factory provision --backend soft --ca-dir "$C"
expect_fail "provision: unknown backend" 2 "unknown backend 'nosuch' \(this build has: .*soft" \
  "$RAMPART" factory provision --backend nosuch --ca-dir "$C" --state-dir "$D"
expect_fail "provision: --tpm with soft" 2 "--tpm is for the tpm2 backend only" \
  "$RAMPART" factory provision --backend soft --tpm device:/dev/tpmrm0 --ca-dir "$C" --state-dir "$D"
expect_fail "provision: -o needs a value" 2 "option '-o' needs a value" \
  "$RAMPART" factory provision --backend soft --ca-dir "$C" --state-dir "$D" -o
expect_fail "provision: extra argument" 2 "unexpected argument 'more'" \
  "$RAMPART" factory provision --backend soft --ca-dir "$C" --state-dir "$D" more
[ ! -e "$D" ] && ok || fail "usage errors created the state directory"

# The CA.
expect_ok "ca-create" "$RAMPART" factory ca-create --dir "$C"
expect_out "ca-create names the certificate" "certificate to $C/ca.pem"
expect_out "ca-create names the key" "private key to $C/ca.key \(mode 0600\)"
expect_mode "CA key" "$C/ca.key" 600
expect_mode "CA certificate" "$C/ca.pem" 644
expect_mode "CA directory" "$C" 700
if head -1 "$C/ca.key" | grep -qx -- "-----BEGIN PRIVATE KEY-----"; then ok; else fail "ca.key is not PKCS#8 PEM"; fi
expect_ok "openssl reads the CA key" openssl pkey -in "$C/ca.key" -noout
expect_ok "openssl: the CA is self-signed and valid" openssl verify -x509_strict -CAfile "$C/ca.pem" "$C/ca.pem"
expect_ok "openssl: the CA subject" openssl x509 -in "$C/ca.pem" -noout -subject
expect_line "CA subject" out "subject=CN = rampart manufacturer CA"
# The key belongs to the certificate.
if [ "$(openssl x509 -in "$C/ca.pem" -noout -pubkey)" = "$(openssl pkey -in "$C/ca.key" -pubout)" ]; then ok
else fail "ca.key is not the key of ca.pem"; fi

# An existing CA is never replaced.
cp "$C/ca.pem" "$T/ca.pem.before"; cp "$C/ca.key" "$T/ca.key.before"
expect_fail "ca-create: existing CA" 1 "ca.pem: already exists; not replacing a manufacturer CA" \
  "$RAMPART" factory ca-create --dir "$C"
expect_err "ca-create: hint" "hint: a CA is made once"
expect_same "CA certificate unchanged" "$C/ca.pem" "$T/ca.pem.before"
expect_same "CA key unchanged" "$C/ca.key" "$T/ca.key.before"
mkdir "$T/half" && touch "$T/half/ca.key"
expect_fail "ca-create: an existing key alone" 1 "ca.key: already exists" "$RAMPART" factory ca-create --dir "$T/half"
expect_fail "ca-create: directory cannot be made" 1 "$T/no/such: cannot create the directory" \
  "$RAMPART" factory ca-create --dir "$T/no/such"

expect_ok "ca-create --name -o json" "$RAMPART" factory ca-create --dir "$T/ca2" --name "Example Devices CA" -o json
expect_out "json names the certificate" "\"certificate\": \"$T/ca2/ca.pem\""
expect_out "json names the key" "\"private_key\": \"$T/ca2/ca.key\""
expect_ok "openssl: the named CA's subject" openssl x509 -in "$T/ca2/ca.pem" -noout -subject
expect_line "named CA subject" out "subject=CN = Example Devices CA"

# Provisioning.
expect_ok "provision soft" "$RAMPART" factory provision --backend soft --ca-dir "$C" --state-dir "$D"
id=$(cat "$T/out")
if [[ "$id" =~ ^[0-9a-f]{64}$ ]] && [ "$(wc -l <"$T/out")" = 1 ]; then ok; else fail "provision printed '$id', not one device id"; fi
expect_err "soft is flagged as development" "warning: the soft backend keeps the device secret in a file under $D: for development and CI only"
want=$(openssl x509 -in "$D/deviceid.pem" -noout -pubkey | openssl pkey -pubin -outform DER | sha256sum | cut -d' ' -f1)
if [ "$id" = "$want" ]; then ok; else fail "device id $id, the DeviceID certificate's key hashes to $want"; fi
expect_ok "openssl verify: DeviceID against the CA" openssl verify -x509_strict -CAfile "$C/ca.pem" "$D/deviceid.pem"
expect_ok "openssl verify: against the copied CA" openssl verify -x509_strict -CAfile "$D/ca.pem" "$D/deviceid.pem"
expect_fail "openssl verify: not against another CA" 2 "unable to get local issuer certificate" \
  openssl verify -CAfile "$T/ca2/ca.pem" "$D/deviceid.pem"
expect_same "D/ca.pem is the CA" "$D/ca.pem" "$C/ca.pem"
expect_ok "openssl: DeviceID subject" openssl x509 -in "$D/deviceid.pem" -noout -subject -ext basicConstraints,keyUsage
expect_line "DeviceID subject is the device id" out "subject=CN = $id"
expect_line "DeviceID is a CA for one level" out "    CA:TRUE, pathlen:0"
expect_line "DeviceID signs certificates" out "    Certificate Sign"
expect_mode "state directory" "$D" 700
expect_mode "uds" "$D/uds" 600
expect_mode "counters" "$D/counters" 600
expect_mode "deviceid.pem" "$D/deviceid.pem" 644
if [ "$(stat -c %s "$D/uds")" = 32 ]; then ok; else fail "uds is not 32 bytes"; fi
if [ "$(cat "$D/rot.conf")" = "backend=soft" ]; then ok; else fail "rot.conf: $(cat "$D/rot.conf")"; fi

# Never twice: the device secret stays.
cp "$D/uds" "$T/uds.before"
expect_fail "provision twice" 1 "already provisioned" \
  "$RAMPART" factory provision --backend soft --ca-dir "$C" --state-dir "$D"
expect_err "provision twice: hint" "hint: a device is provisioned once"
expect_same "uds unchanged" "$D/uds" "$T/uds.before"

# Another device: another id; JSON output.
expect_ok "provision -o json" "$RAMPART" factory provision --backend soft --ca-dir "$C" --state-dir "$T/dev2" -o json
expect_out "json device id" '"device_id": "[0-9a-f]{64}"'
expect_out "json backend" '"backend": "soft"'
expect_out "json development" '"development": true'
id2=$(sed -n 's/.*"device_id": "\([0-9a-f]*\)".*/\1/p' "$T/out")
if [ -n "$id2" ] && [ "$id2" != "$id" ]; then ok; else fail "a second device got id '$id2' (first: $id)"; fi

# A missing or wrong CA stops provisioning before anything is made.
mkdir "$T/nokey" && cp "$C/ca.pem" "$T/nokey/"
expect_fail "missing CA key" 1 "manufacturer CA: $T/nokey/ca.key: cannot open: No such file" \
  "$RAMPART" factory provision --backend soft --ca-dir "$T/nokey" --state-dir "$T/dev3"
[ ! -e "$T/dev3" ] && ok || fail "a failed provision left $T/dev3 behind"
expect_fail "missing CA directory" 1 "manufacturer CA: $T/none/ca.pem: cannot open" \
  "$RAMPART" factory provision --backend soft --ca-dir "$T/none" --state-dir "$T/dev3"
mkdir "$T/mixed" && cp "$C/ca.pem" "$T/mixed/" && cp "$T/ca2/ca.key" "$T/mixed/"
expect_fail "CA key of another CA" 1 "ca.key: not the key of the CA certificate beside it" \
  "$RAMPART" factory provision --backend soft --ca-dir "$T/mixed" --state-dir "$T/dev3"
mkdir "$T/notca"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$T/notca/ca.key" \
  -out "$T/notca/ca.pem" -subj /CN=leaf -addext basicConstraints=critical,CA:FALSE -days 1 2>/dev/null
expect_fail "a certificate that is not a CA" 1 "$T/notca/ca.pem: not a CA certificate" \
  "$RAMPART" factory provision --backend soft --ca-dir "$T/notca" --state-dir "$T/dev3"
mkdir "$T/garbage" && echo "not a certificate" >"$T/garbage/ca.pem" && cp "$C/ca.key" "$T/garbage/"
expect_fail "CA certificate that is not PEM" 1 "garbage/ca.pem: not a PEM certificate" \
  "$RAMPART" factory provision --backend soft --ca-dir "$T/garbage" --state-dir "$T/dev3"
[ ! -e "$T/dev3" ] && ok || fail "a failed provision left $T/dev3 behind"
expect_fail "state directory cannot be made" 1 "$T/no/dev: cannot create the state directory" \
  "$RAMPART" factory provision --backend soft --ca-dir "$C" --state-dir "$T/no/dev"
finish
