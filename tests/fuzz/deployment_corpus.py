#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Deployment documents written independently of lib/package, from
docs/formats.md ("Deployment document"), with python3-cbor2 and
python3-cryptography.

  deployment_corpus.py corpus DIR
      writes the seed corpus of tests/fuzz/fuzz-deployment-doc.c: documents
      signed with the fixed test keys, bare payloads, and near misses.
"""
import hashlib
import os
import sys

import cbor2

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from package_corpus import KEYS, det, load_key, sign1  # noqa: E402

CT = "application/vnd.rampart.deployment+cbor"
DEVICE = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
DROP = object()    # document(): leave the field out
MANAGES = {"UpdateAll": ["app", "rt-app", "os"], "No3rdPartyAppUpdates": ["os"], "NoUpdates": []}


def image(cid, typ="app", version=1, name="fuzz app"):
    digest = hashlib.sha256(cid.encode()).digest()
    return {
        "component-id": cid,
        "type": typ,
        "name": name,
        "version": version,
        "digest": digest,
        "size": 4096,
        "url": "/v1/device/images/" + digest.hex(),
    }


def document(policy="UpdateAll", images=None, **extra):
    if images is None:
        images = [image("0b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3"),
                  image("5b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3", "rt-app", 2, "rt"),
                  image("9b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3", "os", 3, "os")]
    d = {
        "format": 1,
        "tenant": "0123456789abcdef0123456789abcdef",
        "device": DEVICE,
        "device-group": "fedcba9876543210fedcba9876543210",
        "deployment": "aaaaaaaabbbbbbbbccccccccdddddddd",
        "version": 17,
        "issued-at": 1700000000,
        "expires-at": 1700086400,
        "policy": policy,
        "manages": MANAGES.get(policy, []),
        "images": images,
    }
    for k, v in extra.items():
        k = k.replace("_", "-")
        if v is DROP:
            d.pop(k, None)
        else:
            d[k] = v
    return d


def corpus(out):
    ed = load_key(os.path.join(KEYS, "ed25519-rfc8032.pem"))
    es = load_key(os.path.join(KEYS, "es256.pem"))
    ok = det(document())
    os_only = det(document("No3rdPartyAppUpdates", [image("9b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3", "os")]))
    seeds = {
        "valid-es256": sign1(es, ok, CT),
        "valid-ed25519": sign1(ed, ok, CT),
        "valid-os-only": sign1(es, os_only, CT),
        "valid-no-updates": sign1(es, det(document("NoUpdates", [])), CT),
        "valid-no-group": sign1(es, det(document(images=[], device_group=None, deployment=None)), CT),
        "payload": ok,
        "payload-os-only": os_only,
        "payload-no-group": det(document(images=[], device_group=None, deployment=None)),
        "wrong-content-type": sign1(es, ok, "application/vnd.rampart.image-manifest+cbor"),
        "no-content-type": sign1(es, ok, None),
        "trailing": sign1(es, ok, CT) + b"\0",
        "truncated": sign1(es, ok, CT)[:-3],
        "format-2": sign1(es, det(document(format=2)), CT),
        "unknown-field": sign1(es, det(document(extra=1)), CT),
        "missing-version": sign1(es, det(document(version=DROP)), CT),
        "app-under-os-only": sign1(es, det(document("No3rdPartyAppUpdates")), CT),
        "manages-mismatch": sign1(es, det(document(manages=["os"])), CT),
        "unsorted-images": sign1(es, det(document(images=[image("9b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3"),
                                                           image("0b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3")])), CT),
        "duplicate-component": sign1(es, det(document(images=[image("0b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3"),
                                                               image("0b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3")])), CT),
        "expired-order": sign1(es, det(document(expires_at=1700000000)), CT),
        "bad-url": sign1(es, det(document(images=[dict(image("0b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3"),
                                                       url="https://elsewhere/x")])), CT),
        "too-many-images": det(document(images=[image("0b3c5d7e-1f20-4a4b-8c6d-%012x" % i) for i in range(65)])),
        "untagged": sign1(es, ok, CT, tagged=False),
        "empty": b"",
        "garbage": b"\xff\xfe not a document",
    }
    # Not deterministic: "version" 17 written as 0x18 0x11, then signed.
    i = ok.index(b"\x67version\x11")
    seeds["non-deterministic"] = sign1(es, ok[:i + 8] + b"\x18\x11" + ok[i + 9:], CT)
    # A duplicate key, written by hand: the map's count grows by one.
    assert ok[0] == 0xab
    seeds["duplicate-key"] = b"\xac" + ok[1:] + cbor2.dumps("version") + cbor2.dumps(17)
    flipped = bytearray(seeds["valid-es256"])
    flipped[-70] ^= 1
    seeds["signature-flipped"] = bytes(flipped)

    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "corpus":
        corpus(sys.argv[2])
    else:
        sys.exit(__doc__)
