#!/usr/bin/env bash
# Text from outside (file names, manifests, packages) reaches stdout and stderr
# escaped: C0 controls, DEL and bytes that are not UTF-8 as \xNN, C1 and
# bidirectional controls as \uNNNN. JSON output carries such text as valid
# UTF-8 (U+FFFD for each byte that is not UTF-8) plus the exact bytes in a
# "<field>_hex" member, and never fails for it.
. "$(dirname "$0")/lib.sh"

PY=/usr/bin/python3
APP=$RAMPART_SOURCE_DIR/samples/hello
HW=$RAMPART_TEST_DATA/hardware-definitions
export SOURCE_DATE_EPOCH=1700000000
CID=ab2ee101-3ec4-4c6a-a54c-3458151cb587

# N: ESC (a colour sequence), SOH, DEL, U+009B (C1 CSI), U+202E (RLO),
# U+2066 (LRI) and 0xff (not UTF-8). E: how rampart must print it.
N=$'x\x1b[31m\x01\x7f\xc2\x9b\xe2\x80\xae\xe2\x81\xa6\xff'
E='x\x1b[31m\x01\x7f\u009b\u202e\u2066\xff'

expect_ok "a key" "$RAMPART" keys generate -o "$T/dev.key"

# --- file names --------------------------------------------------------------
expect_fail "missing manifest named with controls" 1 "cannot open" "$RAMPART" app-manifest check "$T/$N.json"
expect_line "missing manifest: the name escaped" err "rampart: error: $T/$E.json: cannot open: No such file or directory"
expect_no_controls "missing manifest: nothing raw"

cp "$APP/app_manifest.json" "$T/$N.json"
expect_ok "manifest named with controls" "$RAMPART" app-manifest check "$T/$N.json"
expect_line "manifest: the Manifest row escaped" out "$(printf '%-32s %s' Manifest "$T/$E.json")"
expect_no_controls "manifest: nothing raw"

expect_ok "pack to a name with controls" "$RAMPART" image-package pack-application --manifest "$T/$N.json" \
  --dir "$APP/approot" --key "$T/dev.key" -o "$T/$N.pkg"
expect_line "pack: the Packed line escaped" out "Packed $T/$E.pkg"
expect_no_controls "pack: nothing raw"

expect_ok "show a package named with controls" "$RAMPART" image-package show "$T/$N.pkg"
expect_line "show: the File row escaped" out "$(printf '%-15s %s' File: "$T/$E.pkg")"
expect_no_controls "show: nothing raw"

expect_ok "verify a package named with controls" "$RAMPART" image-package verify "$T/$N.pkg" --key-pub "$T/dev.key.pub"
expect_out "verify: the OK line escaped" "^OK: $T/x\\\\x1b\[31m\\\\x01\\\\x7f\\\\u009b\\\\u202e\\\\u2066\\\\xff\.pkg: app hello \($CID\)"
expect_no_controls "verify: nothing raw"

mkdir "$T/$N.d"
expect_ok "extract into a directory named with controls" "$RAMPART" image-package extract "$T/$N.pkg" \
  --key-pub "$T/dev.key.pub" --output-dir "$T/$N.d"
expect_line "extract: the Extracted line escaped" out "Extracted $T/$E.d/$CID.erofs"
expect_no_controls "extract: nothing raw"

expect_ok "generate a header named with controls" "$RAMPART" hardware-definition generate-header \
  "$HW/soc/rampart_sim_soc.json" -o "$T/$N.h"
expect_line "generate-header: the wrote line escaped" out "wrote $T/$E.h"
expect_no_controls "generate-header: nothing raw"

# Command lines: usage errors quote what was typed.
expect_fail "unknown command with controls" 2 "unknown command" "$RAMPART" "$N"
expect_line "unknown command: escaped" err "rampart: unknown command '$E'"
expect_no_controls "unknown command: nothing raw"
expect_fail "unknown subcommand with controls" 2 "unknown command" "$RAMPART" keys "$N"
expect_line "unknown subcommand: escaped" err "rampart keys: unknown command '$E'"
expect_no_controls "unknown subcommand: nothing raw"
expect_fail "stray argument with controls" 2 "unexpected argument" "$RAMPART" keys show "$T/dev.key" "$N"
expect_line "stray argument: escaped" err "rampart keys show: unexpected argument '$E'"
expect_no_controls "stray argument: nothing raw"

# --- a manifest: a field name is echoed in the refusal -------------------------
K='\u001b[31m\u0001\u007f\u009b\u202e\u2066X'   # JSON escapes: the name holds the raw characters
KE='\x1b[31m\x01\x7f\u009b\u202e\u2066X'
printf '{"SchemaVersion": 1, "Name": "x", "%s": 1, "ComponentId": "%s", "EntryPoint": "/a"}' "$K" "$CID" >"$T/key.json"
expect_fail "manifest field named with controls" 1 "unknown field" "$RAMPART" app-manifest check "$T/key.json"
expect_line "manifest field: escaped" err "rampart: error: $T/key.json: $KE: unknown field"
expect_no_controls "manifest field: nothing raw"

# --- a package: its embedded app manifest, with a field renamed in place -------
# (same length, so the CBOR stays well formed; show without a key reads it)
$PY -c '
import sys
s = open(sys.argv[1]).read().replace("\"Capabilities\": {}", "\"Capabilities\"" + " " * 29 + ": {}")
open(sys.argv[2], "w").write(s)' "$APP/app_manifest.json" "$T/pad.json"
expect_ok "pack a padded manifest" "$RAMPART" image-package pack-application --manifest "$T/pad.json" \
  --dir "$APP/approot" --key "$T/dev.key" -o "$T/pad.pkg"
$PY -c '
import sys
b = open(sys.argv[1], "rb").read()
old, new = b"\"Capabilities\"" + b" " * 29, ("\"" + sys.argv[3] + "\"").encode()
assert len(old) == len(new)
i = b.index(old)
open(sys.argv[2], "wb").write(b[:i] + new + b[i + len(old):])' "$T/pad.pkg" "$T/evil.pkg" "$K"
expect_fail "package whose app manifest has a field named with controls" 1 "unknown field" \
  "$RAMPART" image-package show "$T/evil.pkg"
expect_line "package field: escaped" err \
  "rampart: error: $T/evil.pkg: image manifest: field \"app-manifest\": app-manifest: $KE: unknown field"
expect_no_controls "package field: nothing raw"

# --- JSON output with names that are not UTF-8 --------------------------------
# D holds 0xff and a lone 0xc3: each becomes one U+FFFD.
D="$T/bad"$'\xff\xc3'"dir"
mkdir "$D"
# json_text WHERE FIELD PATH: in the last command's JSON (at WHERE, e.g.
# "Files.0", "" for the top), FIELD is PATH with U+FFFD
# for its bad bytes and FIELD_hex is PATH's exact bytes.
json_text() {
  $PY -c '
import json, os, sys
d = json.load(open(sys.argv[1], encoding="utf-8"))
for k in filter(None, sys.argv[2].split(".")):
    d = d[int(k)] if k.isdigit() else d[k]
obj, key, raw = d, sys.argv[3], os.fsencode(sys.argv[4])
assert obj[key] == raw.decode("utf-8", "replace"), (obj[key], raw)
assert bytes.fromhex(obj[key + "_hex"]) == raw, obj.get(key + "_hex")
' "$T/out" "$1" "$2" "$3" 2>"$T/py" && ok || fail "JSON $1/$2: $(tail -n 2 "$T/py")"
}
expect_ok "keys generate --json, not UTF-8" "$RAMPART" keys generate -o "$D/k" --json
json_text "" private_key "$D/k"
json_text "" public_key "$D/k.pub"
expect_ok "keys show -o json, not UTF-8" "$RAMPART" keys show "$D/k" -o json
json_text "" file "$D/k"
cp "$APP/app_manifest.json" "$D/app_manifest.json"
expect_ok "pack --json, not UTF-8" "$RAMPART" image-package pack-application --manifest "$D/app_manifest.json" \
  --dir "$APP/approot" --key "$D/k" -o "$D/app.imagepackage" --json
json_text "" output "$D/app.imagepackage"
[ -f "$D/app.imagepackage" ] && ok || fail "pack --json: no package"
expect_ok "show -o json, not UTF-8" "$RAMPART" image-package show "$D/app.imagepackage" -o json
json_text "" file "$D/app.imagepackage"
expect_ok "verify -o json, not UTF-8" "$RAMPART" image-package verify "$D/app.imagepackage" --key-pub "$D/k.pub" -o json
json_text "" file "$D/app.imagepackage"
cp -r "$HW/profiles" "$HW/boards" "$HW/soc" "$D/"
expect_ok "check -o json, not UTF-8" "$RAMPART" app-manifest check -o json "$D/app_manifest.json" \
  -H "$D/profiles/demo_appliance.json" -I "$D/boards"
json_text "" Source "$D/app_manifest.json"
json_text "" HardwareDefinition "$D/profiles/demo_appliance.json"
expect_ok "hardware-definition show -o json, not UTF-8" "$RAMPART" hardware-definition show -o json \
  "$D/profiles/demo_appliance.json" -I "$D/boards"
json_text "Files.0" Path "$D/profiles/demo_appliance.json"
json_text "Peripherals.0" File "$D/profiles/demo_appliance.json"
finish
