#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of tests/fuzz/fuzz-api-reports.c.

  /usr/bin/python3 tests/fuzz/reports_corpus.py

corpus/api-reports/: a byte for the batch limit, a byte for the events kept
per device (top bit: an unclaimed device), then a POST
/v1/device/error-reports body: valid batches (every kind, the limits of
each field, more events than are kept) and batches wrong in one way (each
field, the batch limit, the body's shape).

Files of the same name are replaced, others left alone.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
NOW = 1800000000        # fuzz-api-reports.c's NOW
APP = "6f1c0c5e-2a58-4e3b-9d8e-4f0e3a1b2c3d"


def write(name, limit, keep, body):
    d = os.path.join(HERE, "corpus", "api-reports")
    os.makedirs(d, exist_ok=True)
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(bytes([limit, keep]) + data)


def ev(**kw):
    e = {"at": NOW - 60, "kind": "restart_loop"}
    e.update(kw)
    return {k: v for k, v in e.items() if v is not ...}


GOOD = [
    ev(kind="exit_code", component_id=APP, exit_code=3, details="main.c:42: assertion failed"),
    ev(kind="signal", component_id=APP, signal=11, details="SIGSEGV\nin\tread_sensor"),
    ev(kind="restart_loop", component_id=None, exit_code=1),
    ev(kind="update_failure", details="no space (Ünïcödé)"),
    ev(kind="attestation_failure", at=NOW - 3600),
]


def main():
    write("batch", 10, 7, {"events": GOOD})
    write("batch-trimmed", 10, 2, {"events": GOOD})
    write("batch-unclaimed", 10, 0x87, {"events": GOOD})
    write("empty", 10, 1, {"events": []})
    write("edges", 10, 7, {"events": [
        ev(at=1577836800, kind="exit_code", exit_code=0, details="é" * 512),
        ev(at=NOW + 86400, kind="exit_code", exit_code=255),
        ev(kind="signal", signal=64, exit_code=None, component_id=None, details=None),
        ev(kind="signal", signal=1)]})
    write("same-at", 10, 1, {"events": [ev(), ev(), ev()]})
    write("over-limit", 3, 7, {"events": GOOD})
    write("limit-0", 0, 7, {"events": [ev()]})
    bad = {
        "at-missing": ev(at=...),
        "at-string": ev(at=str(NOW)),
        "at-real": ev(at=NOW + 0.5),
        "at-2019": ev(at=1577836799),
        "at-ahead": ev(at=NOW + 86401),
        "at-huge": ev(at=2 ** 63 - 1),
        "kind-missing": ev(kind=...),
        "kind-unknown": ev(kind="crash"),
        "component-upper": ev(component_id=APP.upper()),
        "component-braces": ev(component_id="{" + APP + "}"),
        "component-number": ev(component_id=7),
        "exit-missing": ev(kind="exit_code"),
        "exit-256": ev(kind="exit_code", exit_code=256),
        "exit-negative": ev(kind="exit_code", exit_code=-1),
        "signal-missing": ev(kind="signal"),
        "signal-0": ev(kind="signal", signal=0),
        "signal-65": ev(kind="signal", signal=65),
        "details-1025": ev(details="é" * 512 + "x"),
        "details-escape": ev(details="red \u001b[31m"),
        "details-bidi": ev(details="a\u202eb"),
        "details-del": ev(details="a\u007fb"),
        "details-cr": ev(details="a\rb"),
        "details-number": ev(details=5),
        "unknown-member": ev(tenant="acme"),
        "not-object": "restart_loop",
    }
    for name, e in bad.items():
        write("bad-" + name, 10, 7, {"events": [GOOD[0], e]})
    write("bad-events-object", 10, 7, {"events": {}})
    write("bad-no-events", 10, 7, {})
    write("bad-extra-member", 10, 7, {"events": [], "device_id": "x"})
    write("bad-extra-member-over-limit", 1, 7, {"events": GOOD, "device_id": "x"})
    write("bad-array", 10, 7, [GOOD[0]])
    write("bad-json", 10, 7, b'{"events": [')


if __name__ == "__main__":
    main()
