#!/usr/bin/env bash
# Generated headers define exactly their peripherals, with exactly their
# values, under GCC and Clang in every C standard mode (trigraphs are on in
# -std=c89..c17 and off in the GNU modes; C89 has no // comments), however
# hostile the text a hardware definition puts into them: text that cannot go
# into a header safely is refused, naming file, field and reason.
#
# GCC is required (a missing gcc fails the test). Clang is checked when it is
# installed; without it the test ends with 77, which CTest shows as skipped.
. "$(dirname "$0")/lib.sh"

MODES="c89 c99 c11 c17 c2x gnu89 gnu99 gnu11 gnu17 gnu2x"

# ---- Fixtures: one accepted definition (board imports chip) full of tricks
# that are safe where rampart puts them, and one file per refused trick.
mkdir -p "$T/def" "$T/bad"
python3 - "$T" <<'PY'
import json, os, sys
T = sys.argv[1]
META = {"Type": "Azure Sphere Hardware Definition", "Version": 1}

def write(path, d):
    with open(path, "w") as f:
        json.dump(d, f, indent=1)

def gpio(name, n, comment):
    return {"Name": name, "Type": "Gpio", "AppManifestValue": n, "MainCoreHeaderValue": "(%d)" % n,
            "Comment": comment}

def value(name, v):
    return {"Name": name, "Type": "int", "MainCoreHeaderValue": v}

# Comments are written as block comments: none of these joins a line.
chip = {"Metadata": META,
        "Description": {"Name": "Hostile chip", "MainCoreHeaderFileTopContent": [
            "/* A licence that spans lines,",
            "   with a backslash \\ and ??/ and ??= inside it,",
            "   and a quote ' that never closes */",
            "",
            "// the 'sample' board, in a // comment that C89 gets as a block comment",
            "/* one */ /* two */  // three",
            "//"]},
        "Peripherals": [
            gpio("P_BS", 1, "ends in a backslash \\"),
            gpio("P_BS_SPACES", 2, "a backslash and spaces \\   "),
            gpio("P_TRI", 3, "ends in a trigraph ??/"),
            gpio("P_TRI_SPACES", 4, "a trigraph and spaces ??/  "),
            gpio("P_SLASHES", 5, "a // inside, a lone * and a lone /"),
            gpio("P_QUOTES", 6, "quotes ' and \" unbalanced"),
            gpio("P_TRIGRAPHS", 7, "??= ??( ??) ??! ??< ??> ??- ??'"),
            gpio("P_EMPTY", 8, ""),
            gpio("P_STAR", 9, "ends with a star *"),
            gpio("P_SLASH", 11, "/ starts with a slash"),
            {"Name": "P_PLAIN", "Type": "Gpio", "AppManifestValue": 12},
            {"Name": "P_UART", "Type": "Uart", "AppManifestValue": "SER/0", "Comment": "no define \\"},
            value("V_CHAR", "('\\\\')"),
            value("V_QUOTE", "('\\'')"),
            value("V_STRING", "(\"a//b/*c*/ \\\" ??x\")"),
            value("V_EXPR", "(1 + 2)"),
        ]}
board = {"Metadata": META,
         "Description": {"Name": "Hostile board", "MainCoreHeaderFileTopContent": ["/* board \\ */"]},
         "Imports": [{"Path": "chip.json"}],
         "Peripherals": [
             {"Name": "B_LED", "Type": "Gpio", "Mapping": "P_BS", "Comment": "maps \\"},
             {"Name": "B_INT", "Type": "int", "Mapping": "V_EXPR", "Comment": "??/"},
         ]}
write(os.path.join(T, "def", "chip.json"), chip)
write(os.path.join(T, "def", "board.json"), board)
with open(os.path.join(T, "expected"), "w") as f:
    for line in ["P_BS (1)", "P_BS_SPACES (2)", "P_TRI (3)", "P_TRI_SPACES (4)", "P_SLASHES (5)",
                 "P_QUOTES (6)", "P_TRIGRAPHS (7)", "P_EMPTY (8)", "P_STAR (9)", "P_SLASH (11)",
                 "P_PLAIN (12)", "V_CHAR ('\\\\')", "V_QUOTE ('\\'')", "V_STRING (\"a//b/*c*/ \\\" ??x\")",
                 "V_EXPR (1 + 2)", "B_LED P_BS", "B_INT V_EXPR"]:
        f.write("#define %s\n" % line)

# Refused: (field path, what to put there, words of the reason).
TOP = "Description.MainCoreHeaderFileTopContent"
refused = [
    (TOP + "[1]", ["// fine", "// ends in a backslash \\"], "ends in a backslash"),
    (TOP + "[0]", ["// a backslash and spaces \\   "], "ends in a backslash"),
    (TOP + "[0]", ["// a backslash and a tab \\\t"], "contains U+0009"),
    (TOP + "[0]", ["// a trigraph ??/"], "ends in a backslash or \"??/\""),
    (TOP + "[0]", ["// a trigraph and spaces ??/  "], "ends in a backslash or \"??/\""),
    (TOP + "[0]", ["/* even inside a comment \\", "*/"], "ends in a backslash"),
    (TOP + "[0]", ["/* never closed"], "not closed"),
    (TOP + "[1]", ["/* never", "closed"], "not closed"),
    (TOP + "[0]", ["#define EVIL 1"], "C code outside a comment"),
    (TOP + "[0]", ["/* a comment */ int evil;"], "C code outside a comment"),
    (TOP + "[0]", ["// C89 reads /* here"], "C89"),
    (TOP + "[0]", ["// ends */ early in C89"], "C89"),
    (TOP + "[0]", ["/* nested /* comment */"], "comment inside a comment"),
    (TOP + "[0]", ["// one\n#define EVIL 1"], "contains U+000A"),
    (TOP + "[0]", ["// a NUL \u0000 byte"], "contains a NUL byte"),
    ("Peripherals[0].Comment", "ends */ early", "end the comment early"),
    ("Peripherals[0].Comment", "opens /* another", "comment inside the comment"),
    ("Peripherals[0].Comment", "one\n#define EVIL 1", "contains U+000A"),
    ("Peripherals[0].Comment", "a tab \\\t", "contains U+0009"),
    ("Peripherals[0].Comment", "a NUL \u0000 byte", "contains a NUL byte"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) \\", "backslash outside"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) \\   ", "backslash outside"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) \\\t", "contains U+0009"),
    ("Peripherals[0].MainCoreHeaderValue", "(1)??/", "trigraph"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) ??/  ", "trigraph"),
    ("Peripherals[0].MainCoreHeaderValue", "(\"??=\")", "trigraph"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) /* c */", "comment marker"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) */", "comment marker"),
    ("Peripherals[0].MainCoreHeaderValue", "(1) // c", "comment marker"),
    ("Peripherals[0].MainCoreHeaderValue", "\"open", "not closed"),
    ("Peripherals[0].MainCoreHeaderValue", "'\\'", "not closed"),
    ("Peripherals[0].MainCoreHeaderValue", "(1)\n#define EVIL 2", "contains U+000A"),
    ("Peripherals[0].MainCoreHeaderValue", "(\u00e9)", "printable ASCII"),
    ("Peripherals[0].MainCoreHeaderValue", "(1)\u0000", "contains a NUL byte"),
    ("Peripherals[0].Name", "defined", "reserved"),
    ("Peripherals[0].Name", "__STDC_VERSION__", "reserved"),
    ("Peripherals[0].Name", "_Bool", "reserved"),
    ("Peripherals[0].AppManifestValue", "S0 */ x", "not a peripheral name"),
]
with open(os.path.join(T, "refused"), "w") as table:
    for i, (path, text, reason) in enumerate(refused):
        p = {"Name": "X", "Type": "int", "MainCoreHeaderValue": "(0)"}
        d = {"Metadata": META, "Peripherals": [p]}
        if path.startswith(TOP):
            d["Description"] = {"MainCoreHeaderFileTopContent": text}
        elif path.endswith(".Comment"):
            p["Comment"] = text
        elif path.endswith(".MainCoreHeaderValue"):
            p["MainCoreHeaderValue"] = text
        elif path.endswith(".Name"):
            p["Name"] = text
        else:
            p.update({"Type": "Uart", "AppManifestValue": text})
            del p["MainCoreHeaderValue"]
        name = "bad%02d.json" % i
        write(os.path.join(T, "bad", name), d)
        table.write("%s\t%s: %s: \t%s\n" % (name, name, path, reason))
PY

# ---- Refusals: file, field and reason named; no header written.
while IFS=$'\t' read -r name where reason; do
  rc=0
  "$RAMPART" hardware-definition generate-header "$T/bad/$name" -o "$T/bad/$name.h" >"$T/out" 2>"$T/err" || rc=$?
  if [ "$rc" -ne 1 ]; then fail "$name: exited $rc, expected 1 ($(head -c 300 "$T/err"))"; continue; fi
  grep -qF -- "$where" "$T/err" || { fail "$name: message does not name '$where': $(cat "$T/err")"; continue; }
  grep -qF -- "$reason" "$T/err" || { fail "$name: message lacks '$reason': $(cat "$T/err")"; continue; }
  [ -e "$T/bad/$name.h" ] && { fail "$name: a header was written"; continue; }
  ok
done <"$T/refused"

# ---- The accepted definition, through every compiler and mode.
expect_ok "generate" "$RAMPART" hardware-definition generate-header "$T/def/board.json" --output-dir "$T/inc/hw"
printf '#include "hw/board.h"\n' >"$T/main.c"
: >"$T/empty.c"

# check CC MODE: the macros the header adds are exactly the expected ones.
check() {
  local cc=$1 mode=$2
  if ! "$cc" -std="$mode" -dM -E "$T/empty.c" >"$T/base" 2>"$T/cc-err"; then
    fail "$cc -std=$mode: cannot preprocess an empty file: $(head -c 300 "$T/cc-err")"; return
  fi
  if ! "$cc" -std="$mode" -dM -E -I "$T/inc" "$T/main.c" >"$T/got" 2>"$T/cc-err"; then
    fail "$cc -std=$mode: the header does not preprocess: $(head -c 300 "$T/cc-err")"; return
  fi
  sort "$T/base" "$T/expected" >"$T/want"
  sort "$T/got" >"$T/got.sorted"
  if ! diff -u "$T/want" "$T/got.sorted" >"$T/diff"; then
    fail "$cc -std=$mode: the header's definitions differ from the definition's:"; cat "$T/diff" >&2; return
  fi
  ok
}

command -v gcc >/dev/null || { fail "gcc is not installed (scripts/install-deps)"; finish; }
for m in $MODES; do check gcc "$m"; done

clang=
for c in clang clang-14; do command -v "$c" >/dev/null && { clang=$c; break; }; done
if [ -n "$clang" ]; then
  for m in $MODES; do check "$clang" "$m"; done
fi
finish
if [ -z "$clang" ]; then
  echo "SKIP: clang is not installed; only gcc was checked"
  exit 77
fi
