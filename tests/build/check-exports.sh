#!/usr/bin/env bash
# check-exports.sh LIBRAMPART.SO INCLUDE_DIR
#
# The shared library's dynamic exports must be exactly the functions declared
# in INCLUDE_DIR/rampart/*.h: nothing internal made visible, nothing public
# left hidden. The list of public functions comes from the headers each run
# (GCC's -aux-info prints every function declaration the compiler saw, with
# the file it came from), so adding or moving a declaration needs no change
# here. static inline helpers in the headers are not exported and are left out.
set -euo pipefail
so=$1 inc=$2
CC=${CC_FOR_EXPORTS:-gcc}
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

headers=("$inc"/rampart/*.h)
for h in "${headers[@]}"; do printf '#include "%s"\n' "$h"; done > "$t/all.c"
"$CC" -fsyntax-only -std=gnu17 -I"$inc" $(pkg-config --cflags jansson libcbor) \
      -aux-info "$t/aux" "$t/all.c"

# Lines look like: /* .../include/rampart/error.h:37:NC */ extern int rp_error_set (rp_error *, ...);
# The name is the identifier before the first " (" that does not open a
# declarator ("(*").
grep -F "$inc/rampart/" "$t/aux" | grep -E '^/\* [^ ]+ \*/ extern ' |
  sed -E 's|^/\* [^ ]+ \*/ extern ||' |
  while IFS= read -r decl; do
    name=$(grep -oE '[A-Za-z_][A-Za-z0-9_]* \([^*]' <<<"$decl" | head -n 1 | cut -d' ' -f1)
    [ -n "$name" ] || { echo "check-exports: cannot find the name in: $decl" >&2; exit 1; }
    echo "$name"
  done | sort -u > "$t/declared"

# Symbols every ELF shared object defines, not part of any API.
nm -D --defined-only --format=posix "$so" | cut -d' ' -f1 |
  grep -vxE '_init|_fini|_edata|_end|__bss_start' | sort -u > "$t/exported"

n=$(wc -l < "$t/declared")
if [ "$n" -lt 10 ]; then
  echo "FAIL: found only $n function declarations in $inc/rampart/*.h; the header parsing is broken" >&2
  exit 1
fi

status=0
extra=$(comm -13 "$t/declared" "$t/exported")
missing=$(comm -23 "$t/declared" "$t/exported")
if [ -n "$extra" ]; then
  echo "FAIL: $so exports symbols no public header declares (internal code must stay hidden):" >&2
  sed 's/^/  /' <<<"$extra" >&2
  status=1
fi
if [ -n "$missing" ]; then
  echo "FAIL: functions declared in $inc/rampart/*.h that $so does not export (not defined, or hidden):" >&2
  sed 's/^/  /' <<<"$missing" >&2
  status=1
fi
[ $status = 0 ] && echo "ok: $(wc -l < "$t/exported") exports, exactly the functions in $inc/rampart/*.h"
exit $status
