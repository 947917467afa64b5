#!/usr/bin/env bash
# rampart keys: generate and show, file modes, refusals, and the openssl CLI
# reading our files and writing files we read.
. "$(dirname "$0")/lib.sh"
D="$RAMPART_TEST_DATA/keys"

# Help and usage errors.
expect_ok "keys generate --help" "$RAMPART" keys generate --help
expect_out "generate help names -o" "-o, --out KEY"
expect_ok "keys show --help" "$RAMPART" keys show --help
expect_out "show help names -o json" "table \(the default\) or json"
expect_fail "generate without -o" 2 "missing -o KEY" "$RAMPART" keys generate
expect_fail "generate: usage hint" 2 "Try 'rampart keys generate --help'" "$RAMPART" keys generate
expect_fail "generate: unknown type" 2 "unknown key type 'rsa'" "$RAMPART" keys generate -o "$T/x" --type rsa
expect_fail "generate: unknown option" 2 "unknown option '--frob'" "$RAMPART" keys generate -o "$T/x" --frob
expect_fail "generate: unknown short option" 2 "unknown option '-z'" "$RAMPART" keys generate -o "$T/x" -z
expect_fail "generate: -o needs a value" 2 "option '-o' needs a value" "$RAMPART" keys generate -o
expect_fail "generate: extra argument" 2 "unexpected argument 'extra'" "$RAMPART" keys generate -o "$T/x" extra
expect_fail "show without a file" 2 "missing the KEY file" "$RAMPART" keys show
expect_fail "show: usage hint" 2 "Try 'rampart keys show --help'" "$RAMPART" keys show
expect_fail "show: bad format" 2 "unknown output format 'xml'" "$RAMPART" keys show "$D/es256.pem" -o xml
expect_fail "show: two files" 2 "unexpected argument '$D/es256.pub'" "$RAMPART" keys show "$D/es256.pem" "$D/es256.pub"

for type in es256 ed25519; do
  k="$T/$type"
  expect_ok "$type: generate" "$RAMPART" keys generate -o "$k" --type "$type"
  expect_out "$type: says where the private key went" "private key to $k \(mode 0600\)"
  expect_out "$type: says where the public key went" "public key to $k.pub"
  expect_out "$type: prints the key id" "^Key id: [0-9a-f]{64}$"
  id=$(sed -n 's/^Key id: //p' "$T/out")
  mode=$(stat -c %a "$k")
  if [ "$mode" = 600 ]; then ok; else fail "$type: private key mode is $mode, expected 600"; fi
  mode=$(stat -c %a "$k.pub")
  if [ "$mode" = 644 ]; then ok; else fail "$type: public key mode is $mode, expected 644"; fi
  if head -1 "$k" | grep -qx -- "-----BEGIN PRIVATE KEY-----"; then ok; else fail "$type: not PKCS#8 PEM"; fi
  if head -1 "$k.pub" | grep -qx -- "-----BEGIN PUBLIC KEY-----"; then ok; else fail "$type: not SPKI PEM"; fi

  # The openssl CLI reads both files.
  expect_ok "$type: openssl reads the private key" openssl pkey -in "$k" -noout
  expect_ok "$type: openssl reads the public key" openssl pkey -pubin -in "$k.pub" -noout
  # The key id is the SHA-256 of the DER SubjectPublicKeyInfo.
  want=$(openssl pkey -pubin -in "$k.pub" -outform DER | sha256sum | cut -d' ' -f1)
  if [ "$id" = "$want" ]; then ok; else fail "$type: key id $id, openssl's DER SPKI hashes to $want"; fi
  # Both halves belong together: openssl derives the same public key.
  if [ "$(openssl pkey -in "$k" -pubout)" = "$(cat "$k.pub")" ]; then ok; else fail "$type: K.pub does not match K"; fi

  # show: private and public files.
  expect_ok "$type: show private" "$RAMPART" keys show "$k"
  expect_out "$type: show gives the type" "^Type: +(ES256|Ed25519)$"
  expect_out "$type: show says private" "private key \(and its public key\)"
  expect_out "$type: show gives the key id" "^Key id: +$id$"
  expect_ok "$type: show public as json" "$RAMPART" keys show "$k.pub" -o json
  expect_out "$type: json private false" '"private": false'
  expect_out "$type: json key id" "\"key_id\": \"$id\""

  # No overwriting without --force; with it, a new key.
  expect_fail "$type: refuses to overwrite" 1 "already exists; not replacing it" \
    "$RAMPART" keys generate -o "$k" --type "$type"
  expect_fail "$type: hints at --force" 1 "hint: use --force" "$RAMPART" keys generate -o "$k"
  expect_ok "$type: --force replaces" "$RAMPART" keys generate -o "$k" --type "$type" --force --json
  expect_out "$type: --json output" "\"key_id\": \"[0-9a-f]{64}\""
  id2=$(sed -n 's/.*"key_id": "\([0-9a-f]*\)".*/\1/p' "$T/out")
  if [ -n "$id2" ] && [ "$id2" != "$id" ]; then ok; else fail "$type: --force did not write a new key"; fi
done

# An existing K.pub alone also stops generate.
touch "$T/lonely.pub"
expect_fail "existing K.pub" 1 "lonely.pub already exists" "$RAMPART" keys generate -o "$T/lonely"
# A missing directory fails cleanly, naming the path.
expect_fail "missing directory" 1 "$T/no/such/dir/k: cannot create a temporary file in $T/no/such/dir: No such file" "$RAMPART" keys generate -o "$T/no/such/dir/k"

# Keys made by openssl genpkey load in rampart.
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$T/ossl-ec.pem" 2>/dev/null
openssl genpkey -algorithm ED25519 -out "$T/ossl-ed.pem" 2>/dev/null
openssl pkey -in "$T/ossl-ed.pem" -pubout -out "$T/ossl-ed.pub"
expect_ok "openssl P-256 key" "$RAMPART" keys show "$T/ossl-ec.pem"
expect_out "openssl P-256 key is ES256" "^Type: +ES256$"
expect_ok "openssl Ed25519 key" "$RAMPART" keys show "$T/ossl-ed.pem"
expect_out "openssl Ed25519 key is Ed25519" "^Type: +Ed25519$"
expect_ok "openssl Ed25519 public key" "$RAMPART" keys show "$T/ossl-ed.pub" -o json
expect_out "openssl public key is public" '"private": false'

# Files we refuse, with the reason and the file name.
expect_fail "certificate" 1 "cert.pem: a CERTIFICATE, not a key" "$RAMPART" keys show "$D/cert.pem"
expect_fail "encrypted key" 1 "enc.pem: the private key is encrypted; it must be unencrypted" \
  "$RAMPART" keys show "$D/enc.pem"
expect_fail "RSA key" 1 "rsa.pem: an RSA key" "$RAMPART" keys show "$D/rsa.pem"
expect_fail "RSA public key" 1 "rsa.pub: an RSA key" "$RAMPART" keys show "$D/rsa.pub"
expect_fail "P-384 key" 1 "p384.pem: an EC key on curve secp384r1; only P-256" "$RAMPART" keys show "$D/p384.pem"
expect_fail "SEC1 key" 1 "sec1.pem: .*must be PKCS#8" "$RAMPART" keys show "$D/sec1.pem"
expect_fail "not PEM" 1 "README.md: not PEM" "$RAMPART" keys show "$D/README.md"
expect_fail "missing file" 1 "nope.pem: cannot open" "$RAMPART" keys show "$T/nope.pem"
finish
