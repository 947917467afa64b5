#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of fuzz-secmon-request: a valid request of every
type (docs/formats.md, "secmon protocol") and near misses, each one rule
away from valid. Hand-built bytes, so it needs nothing but python3.

    python3 tests/fuzz/secmon_corpus.py tests/fuzz/corpus/secmon-request
"""
import os
import sys


def head(major, n):
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError(n)


def uint(n):
    return head(0, n)


def bstr(b):
    return head(2, len(b)) + b


def cmap(*pairs):
    return head(5, len(pairs)) + b"".join(k + v for k, v in pairs)


def req(t, *fields):
    return cmap((uint(1), uint(t)), *fields)


NONCE = bytes(range(16))
DIGEST = bytes(range(32))
SEEDS = {
    # valid, one per type
    "info": req(1),
    "chain": req(2),
    "evidence": req(3, (uint(2), bstr(NONCE))),
    "evidence-nonce-8": req(3, (uint(2), bstr(NONCE[:8]))),
    "evidence-nonce-64": req(3, (uint(2), bstr(bytes(64)))),
    "sign": req(4, (uint(3), bstr(DIGEST))),
    "counter-read": req(5, (uint(4), uint(7))),
    "counter-advance": req(6, (uint(4), uint(0)), (uint(5), uint(2**64 - 1))),
    "seal": req(7, (uint(6), bstr(b"secret"))),
    "seal-empty": req(7, (uint(6), bstr(b""))),
    "seal-4096": req(7, (uint(6), bstr(bytes(4096)))),
    "unseal": req(8, (uint(7), bstr(bytes(100)))),
    # near misses
    "empty": b"",
    "garbage": b"\xff\x00\xfe",
    "truncated": req(3, (uint(2), bstr(NONCE)))[:-3],
    "trailing": req(1) + b"\x00",
    "array": head(4, 1) + uint(1),
    "no-type": cmap((uint(2), bstr(NONCE))),
    "type-0": req(0),
    "type-9": req(9),
    "type-negative": cmap((uint(1), b"\x20")),
    "type-text": cmap((uint(1), b"\x61\x31")),
    "nonce-7": req(3, (uint(2), bstr(bytes(7)))),
    "nonce-65": req(3, (uint(2), bstr(bytes(65)))),
    "nonce-text": req(3, (uint(2), b"\x68" + b"abcdefgh")),
    "digest-31": req(4, (uint(3), bstr(bytes(31)))),
    "digest-33": req(4, (uint(3), bstr(bytes(33)))),
    "index-8": req(5, (uint(4), uint(8))),
    "value-missing": req(6, (uint(4), uint(0))),
    "extra-field": req(1, (uint(2), bstr(NONCE))),
    "unknown-key": req(1, (uint(9), uint(0))),
    "text-key": cmap((uint(1), uint(1)), (b"\x61a", uint(0))),
    "duplicate-type": cmap((uint(1), uint(1)), (uint(1), uint(1))),
    "unsorted": cmap((uint(4), uint(0)), (uint(1), uint(5))),
    "long-form-int": cmap((uint(1), b"\x18\x01")),
    "long-form-length": req(3, (uint(2), b"\x59\x00\x10" + NONCE)),
    "indefinite-map": b"\xbf\x01\x01\xff",
    "indefinite-bytes": req(4, (uint(3), b"\x5f\x58\x20" + DIGEST + b"\xff")),
    "nested": cmap((uint(1), cmap((uint(1), uint(1))))),
    "float-type": cmap((uint(1), b"\xf9\x3c\x00")),
    "tagged": b"\xc1" + req(1),
    "seal-4097": req(7, (uint(6), bstr(bytes(4097)))),
    "blob-empty": req(8, (uint(7), bstr(b""))),
    "huge-length": req(8, (uint(7), b"\x5b\xff\xff\xff\xff\xff\xff\xff\xff")),
}


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "corpus/secmon-request"
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
