#!/usr/bin/env bash
# The CLI's shape: help everywhere, usage errors exit 2, unknown commands named.
. "$(dirname "$0")/lib.sh"

expect_ok "top-level --help" "$RAMPART" --help
expect_out "top-level --help lists commands" "^  image-package +Pack, show and verify"
expect_ok "--version" "$RAMPART" --version
expect_out "--version prints a version" "^rampart [0-9]+\.[0-9]+\.[0-9]+"
expect_fail "no arguments" 2 "^Usage: rampart COMMAND" "$RAMPART"
expect_fail "unknown command" 2 "unknown command 'frobnicate'" "$RAMPART" frobnicate
for group in keys image-package app-manifest hardware-definition tenant user token manufacturer ca-certificate \
             product device-group device release audit attestation; do
  expect_ok "$group --help" "$RAMPART" "$group" --help
  expect_out "$group --help shows usage" "Usage: rampart $group"
  expect_ok "help $group" "$RAMPART" help "$group"
  expect_fail "$group with no command" 2 "Usage: rampart $group" "$RAMPART" "$group"
  expect_fail "$group unknown command" 2 "unknown command 'nope'" "$RAMPART" "$group" nope
done
# Bad options, the same way in every command (cli_bad_option).
for cmd in "keys generate" "keys show" "image-package pack-application" "image-package show" \
           "image-package verify" "app-manifest check" "hardware-definition generate-header" \
           login "tenant create" "tenant list" "tenant show" "tenant select" "tenant update" "user add" "user list" \
           "user remove" "token create" "token list" "token revoke" "manufacturer add" "manufacturer list" \
           "manufacturer remove" "ca-certificate download" "product create" "product list" "product show" \
           "device-group create" "device-group list" "device-group show" "device-group update" "device claim" \
           "device list" "device show" "device update" "device disable" "device enable" "device release" \
           "device attest" "device whoami" "release add" "release list" "release revoke" "audit list" \
           "attestation list"; do
  # shellcheck disable=SC2086
  expect_ok "$cmd --help" "$RAMPART" $cmd --help
  expect_out "$cmd --help: usage" "^Usage: rampart $cmd"
  # shellcheck disable=SC2086
  expect_fail "$cmd --no-such-option" 2 "unknown option '--no-such-option'" "$RAMPART" $cmd --no-such-option
  # shellcheck disable=SC2086
  expect_fail "$cmd -Z" 2 "unknown option '-Z'" "$RAMPART" $cmd -Z
  # shellcheck disable=SC2086
  expect_fail "$cmd -o (no value)" 2 "option '-o' needs a value" "$RAMPART" $cmd -o
  # shellcheck disable=SC2086
  expect_fail "$cmd: usage errors point to --help" 2 "Try 'rampart $cmd --help'" "$RAMPART" $cmd --no-such-option
done
finish
