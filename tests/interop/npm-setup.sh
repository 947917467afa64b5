#!/usr/bin/env bash
# Installs the interop tests' npm packages, exactly as pinned in
# package-lock.json, into DEST (a build directory): npm-setup.sh SRC DEST
set -euo pipefail
src=$1 dest=$2
mkdir -p "$dest"
cp "$src/package.json" "$src/package-lock.json" "$dest/"
cd "$dest"
npm ci --no-audit --no-fund --loglevel=error
node -e "require('cose-js'); console.log('cose-js', require('cose-js/package.json').version)"
