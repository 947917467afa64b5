#!/usr/bin/env bash
# Installs the interop tests' npm packages, exactly as pinned in
# package-lock.json, into DEST (a build directory): npm-setup.sh SRC DEST
#
# When the npm registry cannot be reached (no network, or TLS interception
# with a CA this machine does not trust), it exits 77 and CTest reports the
# interop tests that need the packages as skipped, not passed. With
# RAMPART_REQUIRE_NETWORK_TESTS=1 (set by .ci/run) that is a failure instead.
set -euo pipefail
src=$1 dest=$2
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
if ! npm ci --no-audit --no-fund --loglevel=error \
        --fetch-retries=1 --fetch-retry-mintimeout=2000 --fetch-retry-maxtimeout=5000 >npm.log 2>&1; then
  cat npm.log
  if [ "${RAMPART_REQUIRE_NETWORK_TESTS:-0}" != 1 ] &&
     grep -qE 'SELF_SIGNED_CERT|UNABLE_TO_(GET|VERIFY)|CERT_|ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH' npm.log; then
    echo "SKIP: the npm registry cannot be reached from this machine (network or TLS error above)," \
         "so cose-js is not installed and interop/cose-js is skipped." \
         "Set RAMPART_REQUIRE_NETWORK_TESTS=1 to make this a failure."
    exit 77
  fi
  exit 1
fi
node -e "require('cose-js'); console.log('cose-js', require('cose-js/package.json').version)"
