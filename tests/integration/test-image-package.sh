#!/usr/bin/env bash
# rampart image-package end to end: pack the sample app, show it, verify it,
# refuse tampered copies, and leave nothing behind when packing fails.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
APP=$RAMPART_SOURCE_DIR/samples/hello
export SOURCE_DATE_EPOCH=1700000000
CID=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["ComponentId"].lower())' "$APP/app_manifest.json")

# json_get FILE EXPR: evaluates EXPR on the JSON in FILE (as d) and prints it.
json_get() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$1" "$2"; }
# flip FILE OFFSET: flips the low bit of the byte at OFFSET in place.
flip() { $PY -c '
import sys
p, o = sys.argv[1], int(sys.argv[2])
b = bytearray(open(p, "rb").read()); b[o] ^= 0x01; open(p, "wb").write(b)' "$1" "$2"; }
# offset_of FILE TEXT: the first offset of TEXT in FILE.
offset_of() { $PY -c 'import sys; print(open(sys.argv[1], "rb").read().find(sys.argv[2].encode()))' "$1" "$2"; }
# no_files DIR: DIR is empty (no package, no temporary file).
no_files() { [ -z "$(ls -A "$1")" ]; }

pack() { "$RAMPART" image-package pack-application --manifest "$APP/app_manifest.json" --dir "$APP/approot" "$@"; }

# --- keys ------------------------------------------------------------------
expect_ok "keys generate" "$RAMPART" keys generate -o "$T/dev.key"
expect_ok "keys generate (another)" "$RAMPART" keys generate -o "$T/other.key"
expect_ok "keys generate ed25519" "$RAMPART" keys generate -o "$T/ed.key" --type ed25519
"$RAMPART" keys show "$T/dev.key.pub" -o json >"$T/dev.json"
"$RAMPART" keys show "$T/other.key.pub" -o json >"$T/other.json"
DEV_ID=$(json_get "$T/dev.json" 'd["key_id"]')
OTHER_ID=$(json_get "$T/other.json" 'd["key_id"]')

# --- help and usage errors -------------------------------------------------
for c in pack-application show verify extract; do
  expect_ok "$c --help" "$RAMPART" image-package "$c" --help
  expect_out "$c --help shows usage" "^Usage: rampart image-package $c"
done
"$RAMPART" image-package pack-application --help >"$T/out"
expect_out "pack --help explains -o" "here -o is a path, not a format"
"$RAMPART" image-package show --help >"$T/out"
expect_out "show --help explains -o" "here -o is a format"
expect_ok "group --help lists commands" "$RAMPART" image-package --help
expect_out "group --help lists pack-application" "^  pack-application +Build, sign and write"

expect_fail "pack without arguments" 2 "--manifest is required" "$RAMPART" image-package pack-application
expect_fail "pack without --key" 2 "--key is required" pack -o "$T/x.imagepackage"
expect_fail "pack without -o" 2 "-o OUTPUT is required" pack --key "$T/dev.key"
expect_fail "pack unknown option" 2 "unknown option '--frob'" pack --key "$T/dev.key" -o "$T/x" --frob
expect_fail "pack option without value" 2 "option '--key' needs a value" pack --key
expect_fail "pack bad --image-version" 2 "--image-version must be a number" pack --key "$T/dev.key" -o "$T/x" --image-version abc
expect_fail "pack --image-version too large" 2 "--image-version must be a number" pack --key "$T/dev.key" -o "$T/x" --image-version 4294967296
expect_fail "pack bad --version-name" 2 "--version-name must be" pack --key "$T/dev.key" -o "$T/x" --version-name "$(printf 'a\tb')"
expect_fail "pack stray argument" 2 "unexpected argument 'extra'" pack --key "$T/dev.key" -o "$T/x" extra
expect_fail "show without a file" 2 "which package" "$RAMPART" image-package show
expect_fail "show bad format" 2 "unknown output format 'yaml'" "$RAMPART" image-package show "$T/x" -o yaml
expect_fail "verify without --key-pub" 2 "--key-pub is required" "$RAMPART" image-package verify "$T/x"
expect_fail "verify two files" 2 "unexpected argument '$T/y'" "$RAMPART" image-package verify "$T/x" "$T/y" --key-pub "$T/dev.key.pub"
expect_fail "extract without --output-dir" 2 "--output-dir is required" "$RAMPART" image-package extract "$T/x" --key-pub "$T/dev.key.pub"
expect_fail "extract -o" 2 "-o is not an option here" "$RAMPART" image-package extract "$T/x" -o "$T"
[ ! -e "$T/x" ] && ok || fail "a usage error wrote a file"

# --- pack ------------------------------------------------------------------
PKG=$T/hello.imagepackage
expect_ok "pack the sample" pack --key "$T/dev.key" -o "$PKG" --image-version 3 --version-name 1.0.0
expect_out "pack says what it wrote" "^Packed .*hello.imagepackage"
expect_out "pack shows the component" "Component id: +$CID"
expect_out "pack shows the signer" "Signer key id: +$DEV_ID"
expect_ok "pack --json" pack --key "$T/dev.key" -o "$T/hello2.imagepackage" --image-version 3 --json
cp "$T/out" "$T/pack.json"
[ "$(json_get "$T/pack.json" 'd["component_id"]')" = "$CID" ] && ok || fail "pack --json: component_id"
[ "$(json_get "$T/pack.json" 'd["version"]')" = 3 ] && ok || fail "pack --json: version"
[ "$(json_get "$T/pack.json" 'd["key_id"]')" = "$DEV_ID" ] && ok || fail "pack --json: key_id"
[ "$(json_get "$T/pack.json" 'len(d["image_sha256"])')" = 64 ] && ok || fail "pack --json: image_sha256"

# Reproducible: Ed25519 signs deterministically, so the whole file repeats;
# with ES256 the manifest and image repeat and only the signature differs.
expect_ok "pack ed25519 (1)" pack --key "$T/ed.key" -o "$T/ed1.imagepackage"
expect_ok "pack ed25519 (2)" pack --key "$T/ed.key" -o "$T/ed2.imagepackage"
cmp -s "$T/ed1.imagepackage" "$T/ed2.imagepackage" && ok || fail "same inputs gave different packages"
mkdir -p "$T/copy"
cp -r "$APP/approot/." "$T/copy/"
touch -d '2001-02-03 04:05:06' "$T/copy/bin/app" "$T/copy/bin" "$T/copy"
chown -R 1234:5678 "$T/copy" 2>/dev/null || true
expect_ok "pack a copy with other times and owners" "$RAMPART" image-package pack-application \
  --manifest "$APP/app_manifest.json" --dir "$T/copy" --key "$T/ed.key" -o "$T/ed3.imagepackage"
cmp -s "$T/ed1.imagepackage" "$T/ed3.imagepackage" && ok || fail "a copy of the directory gave another package"

# --- a generic CBOR decoder reads it (docs/formats.md) ----------------------
if $PY -c 'import cbor2' 2>/dev/null; then
  expect_ok "cbor2 reads the package" $PY -c '
import cbor2, hashlib, io, sys
data = open(sys.argv[1], "rb").read()
dec = cbor2.CBORDecoder(io.BytesIO(data))
s = dec.decode()
assert s.tag == 18, s.tag
prot, unprot, payload, sig = s.value
h = cbor2.loads(prot)
assert h[3] == "application/vnd.rampart.image-manifest+cbor", h
assert h[4].hex() == sys.argv[3]
m = cbor2.loads(payload)
image = data[dec.fp.tell():]
assert m["format"] == 1 and m["type"] == "app" and m["version"] == 3, m
assert m["component-id"] == sys.argv[2]
assert m["image-size"] == len(image)
assert m["image-sha256"] == hashlib.sha256(image).digest()
assert image[1024:1028] == bytes.fromhex("e2e1f5e0")
assert m["build-time"] == 1700000000
assert cbor2.dumps(m, canonical=True) == payload
open(sys.argv[4], "wb").write(image)
' "$PKG" "$CID" "$DEV_ID" "$T/image-by-python.erofs"
else
  fail "python3-cbor2 is not installed (scripts/install-deps installs it)"
fi

# --- show ------------------------------------------------------------------
expect_ok "show" "$RAMPART" image-package show "$PKG"
expect_out "show: signature not checked" "^Signature: +NOT CHECKED"
expect_out "show: name" "^Name: +hello$"
expect_out "show: version" "^Version: +3$"
expect_out "show: version name" "^Version name: +1.0.0$"
expect_out "show: build time" "^Build time: +2023-11-14T22:13:20Z$"
expect_out "show: type" "^Type: +app$"
expect_ok "show -o json" "$RAMPART" image-package show "$PKG" -o json
cp "$T/out" "$T/show.json"
[ "$(json_get "$T/show.json" 'd["signature"]')" = not-checked ] && ok || fail "show json: signature"
[ "$(json_get "$T/show.json" 'd["component_id"]')" = "$CID" ] && ok || fail "show json: component_id"
[ "$(json_get "$T/show.json" 'd["app_manifest"]["Name"]')" = hello ] && ok || fail "show json: app_manifest"
[ "$(json_get "$T/show.json" 'd["key_id"]')" = "$DEV_ID" ] && ok || fail "show json: key_id"
[ "$(json_get "$T/show.json" 'd["version_name"]')" = 1.0.0 ] && ok || fail "show json: version_name"
[ "$(json_get "$T/show.json" 'd["image_size"] % 4096')" = 0 ] && ok || fail "show json: image_size"
expect_ok "show --key-pub" "$RAMPART" image-package show "$PKG" --key-pub "$T/dev.key.pub"
expect_out "show --key-pub: verified" "^Signature: +verified with key id $DEV_ID"
expect_fail "show with another key" 1 "claims signer key id $DEV_ID .*, not the given key \(key id $OTHER_ID\)" "$RAMPART" image-package show "$PKG" --key-pub "$T/other.key.pub"

# --- verify ----------------------------------------------------------------
expect_ok "verify" "$RAMPART" image-package verify "$PKG" --key-pub "$T/dev.key.pub"
expect_out "verify says OK" "^OK: .*hello.imagepackage: app hello \($CID\) version 3"
expect_ok "verify with the private key file" "$RAMPART" image-package verify "$PKG" --key-pub "$T/dev.key"
expect_ok "verify -o json" "$RAMPART" image-package verify "$PKG" --key-pub "$T/dev.key.pub" -o json
[ "$(json_get "$T/out" 'd["verified"]')" = True ] && ok || fail "verify json: verified"
expect_fail "verify with another key" 1 "claims signer key id $DEV_ID .*, not the given key \(key id $OTHER_ID\)" \
  "$RAMPART" image-package verify "$PKG" --key-pub "$T/other.key.pub"
expect_fail "verify with an Ed25519 key" 1 "signed with ES256 \(key id $DEV_ID\), the given key is Ed25519" \
  "$RAMPART" image-package verify "$PKG" --key-pub "$T/ed.key.pub"
expect_fail "verify a missing file" 1 "nope: cannot open: No such file" "$RAMPART" image-package verify "$T/nope" --key-pub "$T/dev.key.pub"

# --- tampered copies -------------------------------------------------------
size=$(stat -c %s "$PKG")
cp "$PKG" "$T/t1"; flip "$T/t1" $((size - 100))
expect_fail "a flipped image byte" 1 "image digest mismatch" "$RAMPART" image-package verify "$T/t1" --key-pub "$T/dev.key.pub"
cp "$PKG" "$T/t2"; flip "$T/t2" $(( $(offset_of "$PKG" 1.0.0) + 2 ))
expect_fail "a flipped manifest byte" 1 "signature does not verify" "$RAMPART" image-package verify "$T/t2" --key-pub "$T/dev.key.pub"
cp "$PKG" "$T/t3"; truncate -s -1 "$T/t3"
expect_fail "one byte short" 1 "truncated package: the manifest declares" "$RAMPART" image-package verify "$T/t3" --key-pub "$T/dev.key.pub"
cp "$PKG" "$T/t4"; truncate -s 100 "$T/t4"
expect_fail "cut inside the manifest" 1 "truncated image package" "$RAMPART" image-package verify "$T/t4" --key-pub "$T/dev.key.pub"
cp "$PKG" "$T/t5"; printf 'extra' >>"$T/t5"
expect_fail "bytes appended" 1 "padded package: 5 unexpected bytes" "$RAMPART" image-package verify "$T/t5" --key-pub "$T/dev.key.pub"
: >"$T/t6"
expect_fail "an empty file" 1 "empty file, not an image package" "$RAMPART" image-package verify "$T/t6" --key-pub "$T/dev.key.pub"
head -c 3000 /dev/zero | tr '\0' x >"$T/t7"
expect_fail "not a package" 1 "t7: not an image package: COSE_Sign1: not a COSE_Sign1 \(expected tag 18, found initial byte 0x78\)" \
  "$RAMPART" image-package show "$T/t7"

# --- extract ---------------------------------------------------------------
mkdir -p "$T/ex" "$T/ex-bad"
expect_ok "extract" "$RAMPART" image-package extract "$PKG" --key-pub "$T/dev.key.pub" --output-dir "$T/ex"
[ -f "$T/ex/$CID.erofs" ] && ok || fail "extract did not write $CID.erofs"
if [ -f "$T/image-by-python.erofs" ]; then
  cmp -s "$T/ex/$CID.erofs" "$T/image-by-python.erofs" && ok || fail "extracted image differs from the bytes after the item"
fi
if command -v fsck.erofs >/dev/null; then
  expect_ok "fsck.erofs accepts the image" fsck.erofs "$T/ex/$CID.erofs"
fi
# A package written by an independent packer (tests/fuzz/package_corpus.py,
# python3-cbor2 and python3-cryptography, from docs/formats.md) verifies.
if $PY -c 'import cbor2, cryptography' 2>/dev/null; then
  expect_ok "python packs the extracted image" $PY "$RAMPART_SOURCE_DIR/tests/fuzz/package_corpus.py" sign \
    "$T/dev.key" "$APP/app_manifest.json" "$T/ex/$CID.erofs" "$T/py.imagepackage" 9
  expect_ok "rampart verifies the python-made package" "$RAMPART" image-package verify "$T/py.imagepackage" --key-pub "$T/dev.key.pub"
  expect_out "python-made package: version 9" "version 9,"
fi
expect_fail "extract a tampered package" 1 "image digest mismatch" \
  "$RAMPART" image-package extract "$T/t1" --key-pub "$T/dev.key.pub" --output-dir "$T/ex-bad"
no_files "$T/ex-bad" && ok || fail "a failed extract left files: $(ls -A "$T/ex-bad")"

# --- a failed pack leaves nothing --------------------------------------------
mkdir -p "$T/out-dir" "$T/bad"
sed 's|"/bin/app"|"/bin/missing"|' "$APP/app_manifest.json" >"$T/bad/app_manifest.json"
expect_fail "EntryPoint missing" 1 "EntryPoint '/bin/missing' from .* does not exist" \
  "$RAMPART" image-package pack-application --manifest "$T/bad/app_manifest.json" --dir "$APP/approot" \
  --key "$T/dev.key" -o "$T/out-dir/fail.imagepackage"
no_files "$T/out-dir" && ok || fail "a failed pack left files: $(ls -A "$T/out-dir")"
expect_fail "mkfs.erofs missing" 1 "install erofs-utils \(scripts/install-deps\)" \
  env RAMPART_MKFS_EROFS=/nonexistent/mkfs.erofs "$RAMPART" image-package pack-application \
  --manifest "$APP/app_manifest.json" --dir "$APP/approot" --key "$T/dev.key" -o "$T/out-dir/fail.imagepackage"
no_files "$T/out-dir" && ok || fail "a failed pack left files: $(ls -A "$T/out-dir")"
expect_fail "signing with a public key" 1 "dev.key.pub: a public key, but a private key is needed" pack --key "$T/dev.key.pub" -o "$T/out-dir/fail.imagepackage"
no_files "$T/out-dir" && ok || fail "a failed pack left files: $(ls -A "$T/out-dir")"
expect_fail "output inside the app directory" 1 "is inside the app directory" \
  pack --key "$T/dev.key" -o "$APP/approot/x.imagepackage"
[ ! -e "$APP/approot/x.imagepackage" ] && ok || { rm -f "$APP/approot/x.imagepackage"; fail "wrote into the app directory"; }
expect_fail "output over the manifest" 1 "app_manifest.json: is the app manifest \(--manifest\) .*; writing the package there would replace it" \
  "$RAMPART" image-package pack-application --manifest "$T/bad/app_manifest.json" --dir "$APP/approot" \
  --key "$T/dev.key" -o "$T/bad/app_manifest.json"
expect_fail "output is a directory" 1 "out-dir: is a directory, expected the package file to write" pack --key "$T/dev.key" -o "$T/out-dir"
mkfifo "$T/copy/fifo"
expect_fail "a FIFO in the app" 1 "fifo: is a FIFO" "$RAMPART" image-package pack-application \
  --manifest "$APP/app_manifest.json" --dir "$T/copy" --key "$T/dev.key" -o "$T/out-dir/fail.imagepackage"
no_files "$T/out-dir" && ok || fail "a failed pack left files: $(ls -A "$T/out-dir")"
expect_fail "bad SOURCE_DATE_EPOCH" 1 "SOURCE_DATE_EPOCH='soon' is not a number" \
  env SOURCE_DATE_EPOCH=soon "$RAMPART" image-package pack-application --manifest "$APP/app_manifest.json" \
  --dir "$APP/approot" --key "$T/dev.key" -o "$T/out-dir/fail.imagepackage"
no_files "$T/out-dir" && ok || fail "a failed pack left files: $(ls -A "$T/out-dir")"

finish
