#!/usr/bin/env bash
# An output path never destroys the command's own inputs, and replaces a file
# of another kind only with --force (cli_check_output, src/cli/output-file.c).
# Each case is an attack: the input must be byte-identical afterwards, the
# command exits 1 naming the input, and the hint says what to do. Same path,
# hard link and symlink variants: files are compared by device and inode.
. "$(dirname "$0")/lib.sh"

APP=$RAMPART_SOURCE_DIR/samples/hello
HW=$RAMPART_TEST_DATA/hardware-definitions
export SOURCE_DATE_EPOCH=1700000000
CID=ab2ee101-3ec4-4c6a-a54c-3458151cb587
HINT_PKG="^hint: give the package another path \(-o\); no option makes rampart replace its own input$"

expect_ok "a key" "$RAMPART" keys generate -o "$T/dev.key"
cp "$T/dev.key" "$T/dev.key.orig"
cp "$APP/app_manifest.json" "$T/app_manifest.json"
cp -r "$APP/approot" "$T/approot"
cp "$T/approot/bin/app" "$T/app.orig"
pack() { "$RAMPART" image-package pack-application --manifest "$T/app_manifest.json" --dir "$T/approot" --key "$T/dev.key" "$@"; }

# --- pack-application: the signing key, the manifest, files in --dir ----------
for force in "" --force; do
  expect_fail "pack -o the signing key $force" 1 "dev.key: is the signing key \(--key\) $T/dev.key; writing the package there would replace it" \
    pack -o "$T/dev.key" $force
  expect_err "pack -o the signing key $force: hint" "$HINT_PKG"
  expect_same "pack -o the signing key $force: key intact" "$T/dev.key" "$T/dev.key.orig"
done
ln "$T/dev.key" "$T/key-hardlink"
expect_fail "pack -o a hard link to the key" 1 "key-hardlink: is the signing key \(--key\) $T/dev.key \(the same file, by another name or link\)" \
  pack -o "$T/key-hardlink" --force
expect_same "hard link: key intact" "$T/dev.key" "$T/dev.key.orig"
[ "$(stat -c %i "$T/key-hardlink")" = "$(stat -c %i "$T/dev.key")" ] && ok || fail "hard link: the link was replaced"
ln -s dev.key "$T/key-symlink"
expect_fail "pack -o a symlink to the key" 1 "key-symlink: is the signing key \(--key\) $T/dev.key \(the same file" \
  pack -o "$T/key-symlink" --force
expect_same "symlink: key intact" "$T/dev.key" "$T/dev.key.orig"
[ -L "$T/key-symlink" ] && ok || fail "symlink: the link was replaced"
cp "$T/app_manifest.json" "$T/manifest.orig"
expect_fail "pack -o the manifest" 1 "app_manifest.json: is the app manifest \(--manifest\) $T/app_manifest.json; writing the package" \
  pack -o "$T/app_manifest.json" --force
expect_same "manifest intact" "$T/app_manifest.json" "$T/manifest.orig"
ln -s approot/bin/app "$T/app-symlink"
expect_fail "pack -o a symlink into --dir" 1 "app-symlink: is the same file as $T/approot/bin/app in the app directory \(--dir\) $T/approot" \
  pack -o "$T/app-symlink" --force
expect_err "pack -o a symlink into --dir: hint" "$HINT_PKG"
ln "$T/approot/bin/app" "$T/app-hardlink"
expect_fail "pack -o a hard link into --dir" 1 "app-hardlink: is the same file as $T/approot/bin/app in the app directory" \
  pack -o "$T/app-hardlink" --force
expect_same "--dir file intact" "$T/approot/bin/app" "$T/app.orig"

# --- pack-application: files of another kind need --force ------------------------
echo "notes" >"$T/notes.txt"
expect_fail "pack -o a text file" 1 "notes.txt already exists and is not an image package; not replacing it with the package" \
  pack -o "$T/notes.txt"
expect_err "pack -o a text file: hint" "^hint: use --force to replace it, or give the package another path \(-o\)$"
[ "$(cat "$T/notes.txt")" = notes ] && ok || fail "the text file changed"
ln -s nowhere "$T/dangling"
expect_fail "pack -o a dangling symlink" 1 "dangling already exists and is not an image package" pack -o "$T/dangling"
[ -L "$T/dangling" ] && ok || fail "the dangling symlink was replaced"
expect_ok "pack -o a text file --force" pack -o "$T/notes.txt" --force
expect_ok "pack a package" pack -o "$T/app.imagepackage" --image-version 1
expect_ok "pack over that package (no --force needed)" pack -o "$T/app.imagepackage" --image-version 2
expect_ok "the new package" "$RAMPART" image-package show "$T/app.imagepackage"
expect_out "the new package replaced the old" "^Version: +2$"

# --- generate-header: the definition and its imports --------------------------
cp -r "$HW" "$T/hw"
DEF=$T/hw/boards/rampart_sim_board.json SOC=$T/hw/soc/rampart_sim_soc.json
cp "$DEF" "$T/def.orig"; cp "$SOC" "$T/soc.orig"
HINT_H="^hint: give the header another path \(-o\); no option makes rampart replace its own input$"
expect_fail "generate-header -o the definition" 1 "rampart_sim_board.json: is the hardware definition $DEF; writing the header there" \
  "$RAMPART" hardware-definition generate-header "$DEF" -o "$DEF" --force
expect_err "generate-header -o the definition: hint" "$HINT_H"
expect_fail "generate-header -o an import" 1 "rampart_sim_soc.json: is an imported hardware definition $T/hw/boards/../soc/rampart_sim_soc.json \(the same file, by another name or link\); writing the header" \
  "$RAMPART" hardware-definition generate-header "$DEF" -o "$SOC" --force
ln "$DEF" "$T/def-hardlink.h"
expect_fail "generate-header -o a hard link to the definition" 1 "def-hardlink.h: is the hardware definition $DEF \(the same file" \
  "$RAMPART" hardware-definition generate-header "$DEF" -o "$T/def-hardlink.h" --force
ln -s hw/soc/rampart_sim_soc.json "$T/soc-symlink.h"
expect_fail "generate-header -o a symlink to an import" 1 "soc-symlink.h: is an imported hardware definition .*rampart_sim_soc.json \(the same file" \
  "$RAMPART" hardware-definition generate-header "$DEF" -o "$T/soc-symlink.h" --force
# In --output-dir mode every header is checked before the first is written.
mkdir "$T/inc"
ln -s ../hw/soc/rampart_sim_soc.json "$T/inc/rampart_sim_soc.h"
expect_fail "generate-header --output-dir with a symlink to an import" 1 "inc/rampart_sim_soc.h: is an imported hardware definition" \
  "$RAMPART" hardware-definition generate-header "$DEF" --output-dir "$T/inc" --force
expect_err "--output-dir: hint" "^hint: give the header another path \(--output-dir\)"
[ ! -e "$T/inc/rampart_sim_board.h" ] && ok || fail "--output-dir: a header was written before the refusal"
expect_same "definition intact" "$DEF" "$T/def.orig"
expect_same "import intact" "$SOC" "$T/soc.orig"
# A header someone wrote needs --force; one rampart generated does not.
echo "int mine;" >"$T/mine.h"
expect_fail "generate-header over a hand-written header" 1 "mine.h already exists and is not a header rampart generated; not replacing it" \
  "$RAMPART" hardware-definition generate-header "$DEF" -o "$T/mine.h"
expect_err "hand-written header: hint" "^hint: use --force to replace it, or give the header another path \(-o\)$"
[ "$(cat "$T/mine.h")" = "int mine;" ] && ok || fail "the hand-written header changed"
expect_ok "generate-header over a hand-written header --force" "$RAMPART" hardware-definition generate-header "$DEF" -o "$T/mine.h" --force
expect_ok "generate-header over a generated header" "$RAMPART" hardware-definition generate-header "$DEF" -o "$T/mine.h"
expect_fail "show has no --force" 2 "unknown option '--force'" "$RAMPART" hardware-definition show "$DEF" --force

# --- keys generate: KEY.pub may not be KEY ------------------------------------
cp "$T/dev.key" "$T/k2"; cp "$T/k2" "$T/k2.orig"
ln -s k2 "$T/k2.pub"
expect_fail "keys generate where KEY.pub is a symlink to KEY" 1 "k2.pub: is the private key \(-o\) $T/k2 \(the same file" \
  "$RAMPART" keys generate -o "$T/k2" --force
expect_same "keys generate: KEY intact" "$T/k2" "$T/k2.orig"

# --- extract: the package and the key ----------------------------------------
mkdir "$T/ex"
cp "$T/app.imagepackage" "$T/ex/$CID.erofs"; cp "$T/ex/$CID.erofs" "$T/pkg.orig"
expect_fail "extract over the package itself" 1 "$CID.erofs: is the package $T/ex/$CID.erofs; writing the image there would replace it" \
  "$RAMPART" image-package extract "$T/ex/$CID.erofs" --key-pub "$T/dev.key.pub" --output-dir "$T/ex" --force
expect_err "extract over the package: hint" "^hint: give the image another path \(--output-dir\); no option makes rampart replace its own input$"
expect_same "extract: package intact" "$T/ex/$CID.erofs" "$T/pkg.orig"
mkdir "$T/ex2"
cp "$T/dev.key.pub" "$T/pub.orig"
ln "$T/dev.key.pub" "$T/ex2/$CID.erofs"
expect_fail "extract over a hard link to the key" 1 "$CID.erofs: is the public key \(--key-pub\) $T/dev.key.pub \(the same file" \
  "$RAMPART" image-package extract "$T/app.imagepackage" --key-pub "$T/dev.key.pub" --output-dir "$T/ex2" --force
expect_same "extract: key intact" "$T/dev.key.pub" "$T/pub.orig"
mkdir "$T/ex3"
echo "notes" >"$T/ex3/$CID.erofs"
expect_fail "extract over a text file" 1 "$CID.erofs already exists and is not an erofs image; not replacing it with the image" \
  "$RAMPART" image-package extract "$T/app.imagepackage" --key-pub "$T/dev.key.pub" --output-dir "$T/ex3"
[ "$(cat "$T/ex3/$CID.erofs")" = notes ] && ok || fail "extract replaced a text file"
expect_ok "extract over a text file --force" "$RAMPART" image-package extract "$T/app.imagepackage" \
  --key-pub "$T/dev.key.pub" --output-dir "$T/ex3" --force
expect_ok "extract over an erofs image" "$RAMPART" image-package extract "$T/app.imagepackage" \
  --key-pub "$T/dev.key.pub" --output-dir "$T/ex3"
expect_fail "verify has no --force" 2 "unknown option '--force'" "$RAMPART" image-package verify "$T/app.imagepackage" \
  --key-pub "$T/dev.key.pub" --force
finish
