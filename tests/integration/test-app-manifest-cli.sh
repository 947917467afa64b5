#!/usr/bin/env bash
# rampart app-manifest check: exit codes, messages, table and JSON output.
. "$(dirname "$0")/lib.sh"

M="$RAMPART_TEST_DATA/app-manifests"
HW="$RAMPART_TEST_DATA/hardware-definitions"
PROFILE="$HW/profiles/demo_appliance.json"
json() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print($1)" "$T/out"; }

expect_ok "check --help" "$RAMPART" app-manifest check --help
expect_out "check --help shows usage" "Usage: rampart app-manifest check MANIFEST"
expect_ok "app-manifest --help" "$RAMPART" app-manifest --help
expect_out "app-manifest --help lists check" "^  check +Validate a manifest"

# Usage errors exit 2 and say how to get help.
expect_fail "no manifest" 2 "missing the manifest file" "$RAMPART" app-manifest check
expect_fail "two manifests" 2 "unexpected argument '$M/valid/minimal.json' \(give one manifest\)" "$RAMPART" app-manifest check "$M/valid/minimal.json" "$M/valid/minimal.json"
expect_fail "bad format" 2 "unknown output format 'yaml' \(use 'table' or 'json'\)" "$RAMPART" app-manifest check -o yaml "$M/valid/minimal.json"
expect_fail "unknown option" 2 "unknown option '--frob'" "$RAMPART" app-manifest check --frob "$M/valid/minimal.json"
expect_fail "option without value" 2 "option '-H' needs a value" "$RAMPART" app-manifest check "$M/valid/minimal.json" -H
expect_fail "-I without -H" 2 "needs --hardware-definition" "$RAMPART" app-manifest check -I "$HW" "$M/valid/minimal.json"

# Every valid fixture passes alone and with the reference board's profile.
for f in "$M"/valid/*.json; do
  expect_ok "valid $(basename "$f")" "$RAMPART" app-manifest check "$f"
  expect_ok "valid $(basename "$f") resolved" "$RAMPART" app-manifest check "$f" -H "$PROFILE" -I "$HW/boards"
  expect_ok "valid $(basename "$f") as json" "$RAMPART" app-manifest check -o json "$f" --hardware-definition "$PROFILE" \
    --hardware-definitions-dir "$HW/boards"
  if [ "$(json 'd["UnresolvedReferences"]')" != 0 ]; then fail "$(basename "$f"): references left unresolved"; else ok; fi
done

# The table shows what is granted; references without a definition are listed, not refused.
expect_ok "table" "$RAMPART" app-manifest check "$M/valid/hello_highlevel.json"
expect_out "table: name" "^Name +BlinkDemo_HighLevel$"
expect_out "table: component id" "90644551-8233-41da-8401-95a5b0e35c87"
expect_out "table: unresolved reference" 'Gpio +\$DEMO_LED -> unresolved \(no hardware definition given\)'
expect_err "note about unchecked references" "^note: [0-9]+ peripheral references? (was|were) not checked; pass --hardware-definition to resolve (it|them)$"
expect_ok "table resolved" "$RAMPART" app-manifest check "$M/valid/hello_highlevel.json" -H "$PROFILE" -I "$HW/boards"
expect_out "table: resolved reference" 'Gpio +\$DEMO_LED -> 8 \(SIMSOC_GPIO8\)'
expect_ok "table rt" "$RAMPART" app-manifest check "$M/valid/realtime_raw.json"
expect_out "table: realtime" "RealTimeCapable"
expect_out "table: raw uart" "Uart +SERIAL0"
expect_ok "table all" "$RAMPART" app-manifest check "$M/valid/every_capability.json"
expect_out "table: wildcard" '\*\.blob\.example\.net'
expect_out "table: power" "SetPowerProfile"
expect_out "table: flag" "HeapMemStats +yes"
expect_out "table: storage" "MutableStorage +64 KiB"

# JSON output parses and holds the normalized manifest.
expect_ok "json" "$RAMPART" app-manifest check -o json "$M/valid/iot_device.json" -H "$PROFILE" -I "$HW/boards"
[ "$(json 'd["ComponentId"]')" = 0dc9ba31-4763-4aa8-85af-8edf7d98de50 ] && ok || fail "json: component id not normalized"
[ "$(json 'd["Grants"]["AllowedConnections"][1]')" = hub-07.devices.example.com ] && ok || fail "json: host not normalized"
[ "$(json 'd["Grants"]["Gpio"][0]["value"]')" = 16 ] && ok || fail "json: Gpio[0] value"
[ "$(json 'd["Grants"]["Gpio"][0]["reference"]')" = '$DEMO_RGB_RED' ] && ok || fail "json: Gpio[0] reference"
[ "$(json 'd["Grants"]["MutableStorage"]["SizeKB"]')" = 8 ] && ok || fail "json: storage"
[ "$(json '"NetworkConfig" in d["Grants"]')" = False ] && ok || fail "json: a false flag is granted"
[ "$(json 'd["CmdArgs"][3]')" = "" ] && ok || fail "json: empty argument lost"
expect_ok "json unresolved" "$RAMPART" app-manifest check -o json "$M/valid/iot_device.json"
[ "$(json 'd["UnresolvedReferences"]')" = 6 ] && ok || fail "json: unresolved count"
[ "$(json 'd["Grants"]["Gpio"][0]["resolved"]')" = False ] && ok || fail "json: resolved flag"

# Refusals exit 1 with the message naming the file, field and reason.
expect_fail "gpio boolean" 1 'gpio_boolean.json: Capabilities.Gpio\[2\]: expected an integer or a "\$NAME" reference, got a boolean' \
  "$RAMPART" app-manifest check "$M/invalid/gpio_boolean.json"
expect_fail "lowercase field" 1 "did you mean 'Capabilities'" "$RAMPART" app-manifest check "$M/invalid/lowercase_capabilities.json"
expect_fail "syntax error" 1 "syntax_error.json:6:1: invalid JSON" "$RAMPART" app-manifest check "$M/invalid/syntax_error.json"
expect_fail "duplicate key" 1 "duplicate_key.json:4:[0-9]+: invalid JSON: duplicate" "$RAMPART" app-manifest check "$M/invalid/duplicate_key.json"
expect_fail "missing file" 1 "nope.json: cannot open" "$RAMPART" app-manifest check "$T/nope.json"
# These are valid alone, refused once their references resolve.
for f in duplicate_resolved_gpio unknown_reference type_mismatch_reference shared_serial_block; do
  expect_ok "$f alone" "$RAMPART" app-manifest check "$M/invalid/$f.json"
done
expect_fail "two names, one pin" 1 'Gpio\[2\]: "\$DEMO_STATUS_LED" and Capabilities.Gpio\[0\] "\$DEMO_LED" both resolve to SIMSOC_GPIO8' \
  "$RAMPART" app-manifest check "$M/invalid/duplicate_resolved_gpio.json" -H "$PROFILE" -I "$HW/boards"
expect_fail "unknown reference" 1 'Gpio\[1\]: "\$DEMO_NO_SUCH_PIN" is not defined' \
  "$RAMPART" app-manifest check "$M/invalid/unknown_reference.json" -H "$PROFILE" -I "$HW/boards"
expect_fail "type mismatch" 1 '"\$DEMO_UART_LOOPBACK" is a Uart peripheral .*not Gpio' \
  "$RAMPART" app-manifest check "$M/invalid/type_mismatch_reference.json" -H "$PROFILE" -I "$HW/boards"
expect_fail "shared block" 1 'both use "SERIAL1"' \
  "$RAMPART" app-manifest check "$M/invalid/shared_serial_block.json" -H "$PROFILE" -I "$HW/boards"
expect_fail "board import not found" 1 'imported file "rampart_sim_board.json" not found' \
  "$RAMPART" app-manifest check "$M/valid/hello_highlevel.json" -H "$PROFILE"
expect_fail "bad hardware definition" 1 "import cycle: .*cycle_a.json -> .*cycle_b.json -> .*cycle_a.json" \
  "$RAMPART" app-manifest check "$M/valid/hello_highlevel.json" -H "$HW/invalid/cycle_a.json"

# Control characters in manifest text never reach the terminal raw.
printf '{"SchemaVersion": 1, "Name": "x\\u001b[31m", "ComponentId": "3564cf72-5fc9-48e9-82a1-91230aeb4d99", "EntryPoint": "/a"}' > "$T/esc.json"
expect_fail "escape in name" 1 "esc.json: Name: contains U\\+001B \\(a control character\\)" "$RAMPART" app-manifest check "$T/esc.json"
expect_no_controls "escape in name: nothing raw printed"
finish
