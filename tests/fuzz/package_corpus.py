#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Image packages written independently of lib/package, from docs/formats.md,
with python3-cbor2 and python3-cryptography.

  package_corpus.py corpus DIR
      writes the seed corpus of tests/fuzz/fuzz-package.c: valid packages
      signed with the fixed test keys, and near misses.
  package_corpus.py sign KEY.pem APP_MANIFEST.json IMAGE OUT [VERSION]
      packs IMAGE as an app (integration test: rampart must accept it).
"""
import hashlib
import os
import sys

import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

CT = "application/vnd.rampart.image-manifest+cbor"
HERE = os.path.dirname(os.path.abspath(__file__))
KEYS = os.path.join(HERE, "..", "data", "keys")


P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551


def load_key(path):
    with open(path, "rb") as f:
        return serialization.load_pem_private_key(f.read(), password=None)


def det(obj):
    # RFC 8949 4.2.1 for our shapes: cbor2's canonical mode sorts keys
    # length-first, which equals bytewise for the short keys used here.
    return cbor2.dumps(obj, canonical=True)


def sign1(key, payload, content_type=CT, tagged=True, unprotected=None):
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    alg = -8 if isinstance(key, ed25519.Ed25519PrivateKey) else -7
    hdr = {1: alg, 4: hashlib.sha256(spki).digest()}
    if content_type is not None:
        hdr[3] = content_type
    protected = det(hdr)
    tbs = det(["Signature1", protected, b"", payload])
    if alg == -8:
        sig = key.sign(tbs)
    else:
        r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(hashes.SHA256())))
        # The low-S form (docs/formats.md, Keys): (r, n - s) is valid too.
        s = min(s, P256_ORDER - s)
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    body = [protected, unprotected or {}, payload, sig]
    return det(cbor2.CBORTag(18, body) if tagged else body)


def fake_erofs(n=2048):
    img = bytearray((i * 7 + 3) & 0xFF for i in range(n))
    img[1024:1028] = bytes.fromhex("e2e1f5e0")
    return bytes(img)


def app_manifest_json(cid, name, app_type="Default"):
    return ('{"SchemaVersion": 1, "Name": "%s", "ComponentId": "%s", "EntryPoint": "/bin/app", '
            '"CmdArgs": [], "Capabilities": {}, "ApplicationType": "%s"}' % (name, cid, app_type))


def manifest(image, typ="app", cid="0b3c5d7e-1f20-4a4b-8c6d-7e8f90a1b2c3", name="fuzz",
             app_type="Default", **extra):
    m = {
        "format": 1,
        "component-id": cid,
        "type": typ,
        "name": name,
        "version": 1,
        "version-name": "1.0",
        "image-size": len(image),
        "image-sha256": hashlib.sha256(image).digest(),
        "build-time": 1700000000,
    }
    if typ != "os":
        m["app-manifest"] = app_manifest_json(cid, name, app_type)
    for k, v in extra.items():
        k = k.replace("_", "-")
        if v is None:
            m.pop(k, None)
        else:
            m[k] = v
    return m


def corpus(out):
    ed = load_key(os.path.join(KEYS, "ed25519-rfc8032.pem"))
    es = load_key(os.path.join(KEYS, "es256.pem"))
    img = fake_erofs()
    osimg = bytes(range(200))
    ok = sign1(ed, det(manifest(img))) + img
    seeds = {
        "valid-app-ed25519": ok,
        "valid-app-es256": sign1(es, det(manifest(img))) + img,
        "valid-rt-app": sign1(ed, det(manifest(img, typ="rt-app", app_type="RealTimeCapable"))) + img,
        "valid-os": sign1(ed, det(manifest(osimg, typ="os"))) + osimg,
        "valid-no-version-name": sign1(ed, det(manifest(img, version_name=None))) + img,
        "manifest-only": det(manifest(img)),
        "truncated-in-item": ok[:150],
        "truncated-image": ok[:-1],
        "padded": ok + b"\0",
        "wrong-content-type": sign1(ed, det(manifest(img)), content_type="application/cbor") + img,
        "no-content-type": sign1(ed, det(manifest(img)), content_type=None) + img,
        "format-2": sign1(ed, det(manifest(img, format=2))) + img,
        "unknown-field": sign1(ed, det(manifest(img, extra=1))) + img,
        "bad-guid": sign1(ed, det(manifest(img, component_id="not-a-guid"))) + img,
        "huge-image-size": sign1(ed, det(manifest(img, image_size=2**64 - 1))) + img,
        "negative-version": sign1(ed, det(manifest(img, version=-1))) + img,
        "other-component": sign1(ed, det(manifest(img, component_id="00000000-0000-0000-0000-000000000001"))) + img,
        "not-erofs": sign1(ed, det(manifest(osimg))) + osimg,
        "untagged": sign1(ed, det(manifest(img)), tagged=False) + img,
        "unprotected-header": sign1(ed, det(manifest(img)), unprotected={5: b""}) + img,
        "long-tag": b"\xd8\x12" + ok[1:],
        "empty": b"",
        "garbage": b"\xff\xfe\xfdnot an image package",
        "huge-bstr": bytes.fromhex("d28440a05b7fffffffffffffff00"),
    }
    # Not deterministic: "format" 1 written as 0x18 0x01, then signed.
    p = det(manifest(img))
    i = p.index(b"\x66format\x01")
    seeds["non-deterministic"] = sign1(ed, p[:i + 7] + b"\x18\x01" + p[i + 8:]) + img
    flipped = bytearray(ok)
    flipped[len(ok) - len(img) - 1] ^= 1
    seeds["signature-flipped"] = bytes(flipped)
    flipped = bytearray(ok)
    flipped[-1] ^= 1
    seeds["image-flipped"] = bytes(flipped)

    os.makedirs(out, exist_ok=True)
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


def sign(key_path, manifest_path, image_path, out, version="1"):
    import json
    key = load_key(key_path)
    text = open(manifest_path, encoding="utf-8").read()
    am = json.loads(text)
    image = open(image_path, "rb").read()
    m = manifest(image, cid=am["ComponentId"].lower(), name=am["Name"], version=int(version),
                 version_name=None, build_time=0)
    m["app-manifest"] = text
    with open(out, "wb") as f:
        f.write(sign1(key, det(m)) + image)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "corpus":
        corpus(sys.argv[2])
    elif len(sys.argv) in (6, 7) and sys.argv[1] == "sign":
        sign(*sys.argv[2:])
    else:
        sys.exit(__doc__)
