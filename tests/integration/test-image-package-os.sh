#!/usr/bin/env bash
# rampart image-package pack-os: an OS image signed into a package of type
# os, verified and extracted byte for byte; bad input refused with nothing
# written; a package whose image changed refused.
. "$(dirname "$0")/lib.sh"

export SOURCE_DATE_EPOCH=1700000000
CID=5b3f1e2a-0000-4000-8000-00000000000a
pack() { "$RAMPART" image-package pack-os --key "$T/os.key" "$@"; }
no_package() { [ ! -e "$1" ] && [ -z "$(find "$(dirname "$1")" -maxdepth 1 -name '.*tmp*')" ]; }

expect_ok "keys generate" "$RAMPART" keys generate -o "$T/os.key"
expect_ok "keys generate (another)" "$RAMPART" keys generate -o "$T/other.key"
head -c 3000001 /dev/urandom >"$T/os.img"

expect_ok "pack an OS image" pack --image "$T/os.img" --component-id "${CID^^}" --name rampart-os \
  --image-version 7 --version-name 2026.11 -o "$T/os.imagepackage" --json
[ "$(jq -r .type "$T/out")" = os ] && ok || fail "the package's type is not os: $(cat "$T/out")"
[ "$(jq -r .component_id "$T/out")" = "$CID" ] && ok || fail "the component id is not lowercased: $(cat "$T/out")"
[ "$(jq -r .version "$T/out")" = 7 ] && ok || fail "the version is not 7"
[ "$(jq -r .image_size "$T/out")" = 3000001 ] && ok || fail "the image size is not the file's"
[ "$(jq -r .image_sha256 "$T/out")" = "$(sha256sum <"$T/os.img" | cut -d' ' -f1)" ] && ok ||
  fail "the image digest is not the file's SHA-256"

expect_ok "verify it" "$RAMPART" image-package verify "$T/os.imagepackage" --key-pub "$T/os.key.pub"
expect_out "verify names the type" "OK: .*: os rampart-os \($CID\) version 7"
expect_fail "verify with another key" 1 "signature|key" \
  "$RAMPART" image-package verify "$T/os.imagepackage" --key-pub "$T/other.key.pub"
mkdir "$T/out.d"
expect_ok "extract it" "$RAMPART" image-package extract "$T/os.imagepackage" --key-pub "$T/os.key.pub" \
  --output-dir "$T/out.d"
cmp -s "$T/out.d/$CID.img" "$T/os.img" && ok || fail "the extracted image differs from the OS image"

# A byte of the image changed after signing: refused.
cp "$T/os.imagepackage" "$T/bad.imagepackage"
printf '\xff' | dd of="$T/bad.imagepackage" bs=1 seek=$(( $(stat -c %s "$T/bad.imagepackage") - 10 )) conv=notrunc status=none
expect_fail "a changed image byte" 1 "digest|SHA-256" \
  "$RAMPART" image-package verify "$T/bad.imagepackage" --key-pub "$T/os.key.pub"

# Bad input: a usage error or a refusal, and no package.
expect_fail "a component id that is not a GUID" 2 "GUID" pack --image "$T/os.img" --component-id nope --name x -o "$T/n1"
no_package "$T/n1" && ok || fail "a package was written for a bad component id"
expect_fail "no --image" 2 "--image is required" pack --component-id "$CID" --name x -o "$T/n2"
expect_fail "no --name" 2 "--name is required" pack --image "$T/os.img" --component-id "$CID" -o "$T/n2"
expect_fail "a name with a control character" 2 "printable" \
  pack --image "$T/os.img" --component-id "$CID" --name "$(printf 'a\tb')" -o "$T/n2"
expect_fail "a version too large" 2 "image-version" \
  pack --image "$T/os.img" --component-id "$CID" --name x --image-version 4294967296 -o "$T/n2"
expect_fail "a missing image" 1 "cannot read" pack --image "$T/none.img" --component-id "$CID" --name x -o "$T/n2"
expect_fail "a directory as image" 1 "not a regular file" pack --image "$T" --component-id "$CID" --name x -o "$T/n2"
expect_fail "the image as output" 1 "would replace it" pack --image "$T/os.img" --component-id "$CID" --name x -o "$T/os.img"
cmp -s "$T/out.d/$CID.img" "$T/os.img" && ok || fail "the OS image was changed by a refused pack"
expect_fail "a public key to sign with" 1 "private key is needed" \
  "$RAMPART" image-package pack-os --key "$T/os.key.pub" --image "$T/os.img" --component-id "$CID" --name x -o "$T/n2"
no_package "$T/n2" && ok || fail "a refused pack left a package or a temporary file"
: >"$T/empty.img"
expect_fail "an empty OS image" 1 "at least one byte" pack --image "$T/empty.img" --component-id "$CID" --name x -o "$T/e.pkg"
no_package "$T/e.pkg" && ok || fail "an empty image left a package"

finish
