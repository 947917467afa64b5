#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpora of tests/fuzz/fuzz-api-json.c and
fuzz-api-attest.c.

  /usr/bin/python3 tests/fuzz/api_corpus.py

corpus/api-json/: for each POST and PATCH route (its index in
fuzz-api-json.c's table is the first byte), a valid body and near misses
(a missing field, a wrong type, an unknown field, a value out of range).

corpus/api-attest/: for each evidence seed in corpus/evidence/ (made for
fuzz-evidence-ca.h's CA and nonce), the POST /v1/attest body carrying it;
and bodies that are wrong in one way (base64, nonce, fields).

Files of the same name are replaced, others left alone.
"""
import base64
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
DEVICE = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
MEASUREMENT = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
# The public half of tests/data/keys/es256.pem.
ES256_PUB = ("-----BEGIN PUBLIC KEY-----\n"
             "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEKFc4pXHB1tHtMa8s8u85cifCaKN8\n"
             "jdCak6eKZGKWWANrheokDwIfq8TXdoXOAuqsOBAxo9fGw/Lm2Teht5chLQ==\n"
             "-----END PUBLIC KEY-----\n")


def c_string(name):
    """The C string constant NAME of fuzz-evidence-ca.h, as text."""
    text = open(os.path.join(HERE, "fuzz-evidence-ca.h")).read()
    body = re.search(r"\b" + name + r"\[\] =(.*?);", text, re.S).group(1)
    return "".join(re.findall(r"\"(.*?)\"", body)).replace("\\n", "\n")


def nonce_hex():
    text = open(os.path.join(HERE, "fuzz-evidence-ca.h")).read()
    return re.search(r"fuzz_nonce_hex\[\] = \"([0-9a-f]+)\"", text).group(1)


def write(d, name, data):
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def api_json():
    d = os.path.join(HERE, "corpus", "api-json")
    pem = c_string("fuzz_ca_pem")
    assert pem.startswith("-----BEGIN CERTIFICATE-----\n") and pem.endswith("-----END CERTIFICATE-----\n")
    # (route index in fuzz-api-json.c, name, body)
    seeds = [
        (0, "tenant-create", {"name": "seed tenant", "allow_development": True}),
        (0, "tenant-create-no-name", {"allow_development": True}),
        (0, "tenant-create-id-like", {"name": "0123456789abcdef0123456789abcdef"}),
        (0, "tenant-create-slash", {"name": "a/b"}),
        (1, "tenant-update", {"allow_development": False}),
        (1, "tenant-update-string", {"allow_development": "yes"}),
        (2, "user-add", {"name": "writer", "role": "Contributor"}),
        (2, "user-add-operator", {"name": "op", "role": "Operator"}),
        (3, "user-token", {"label": "ci", "expires_in_days": 30}),
        (3, "user-token-days-0", {"expires_in_days": 0}),
        (4, "own-token", {"label": "laptop"}),
        (4, "own-token-big-days", {"expires_in_days": 9999999999999}),
        (5, "manufacturer-service", {"name": "factory", "ca_pem": pem}),
        (5, "manufacturer-garbage", {"ca_pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"}),
        (6, "manufacturer-tenant", {"ca_pem": pem}),
        (6, "manufacturer-key", {"ca_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
        (7, "product-create", {"name": "widget", "description": "a widget"}),
        (7, "product-create-long", {"name": "w" * 129}),
        (8, "group-create", {"name": "Beta", "update_policy": "NoUpdates", "description": "beta"}),
        (8, "group-create-policy", {"name": "Gamma", "update_policy": "Sometimes"}),
        (9, "group-update", {"update_policy": "UpdateAll", "description": "all"}),
        (10, "device-claim", {"device_id": DEVICE.upper(), "device_group": "gadget/Field Test"}),
        (10, "device-claim-new", {"device_id": "ab" * 32, "device_group": "gadget/Beta"}),
        (10, "device-claim-bad-group", {"device_id": "cd" * 32, "device_group": "gadget/Nope/x"}),
        (11, "device-update", {"enabled": False, "device_group": "gadget/Production"}),
        (11, "device-update-null-group", {"device_group": None, "enabled": True}),
        (12, "release-add", {"kind": "app", "name": "App", "version": "2", "measurement": "12" * 32}),
        (12, "release-add-kind", {"kind": "fw", "name": "x", "version": "1", "measurement": "34" * 32}),
        (13, "release-revoke", {}),
        (14, "nonce", {"device_id": DEVICE}),
        (14, "nonce-short", {"device_id": "00"}),
        (15, "attest-unknown-nonce", {"nonce": "00" * 32, "evidence": "AAAA"}),
        (16, "signing-key-add", {"name": "build", "public_pem": ES256_PUB}),
        (16, "signing-key-private", {"public_pem": "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"}),
        (16, "signing-key-two", {"public_pem": ES256_PUB + ES256_PUB}),
        (17, "upload-create", {"size": 4096}),
        (17, "upload-create-huge", {"size": 2 ** 62}),
        (17, "upload-create-zero", {"size": 0}),
        (18, "image-add", {"upload": "00" * 16}),
        (18, "image-add-number", {"upload": 7}),
    ]
    for i, name, body in seeds:
        write(d, name, bytes([i]) + json.dumps(body).encode())
    # Bodies that are not what a route takes.
    write(d, "not-json", bytes([0]) + b"{\"name\": ")
    write(d, "array", bytes([7]) + b"[1, 2, 3]")
    write(d, "deep", bytes([2]) + b"{\"name\": " + b"[" * 3000 + b"]" * 3000 + b"}")
    write(d, "not-utf8", bytes([7]) + b"{\"name\": \"\xff\xfe\"}")
    write(d, "nul-escape", bytes([7]) + b"{\"name\": \"a\\u0000b\"}")
    write(d, "unknown-field", bytes([10]) + b"{\"device_id\": \"" + DEVICE.encode() + b"\", \"x\": 1}")
    write(d, "sql", bytes([7]) + json.dumps({"name": "x'); DROP TABLE tenants;--",
                                             "description": "' OR '1'='1"}).encode())


def api_attest():
    d = os.path.join(HERE, "corpus", "api-attest")
    nonce = nonce_hex()
    ev_dir = os.path.join(HERE, "corpus", "evidence")
    for name in sorted(os.listdir(ev_dir)):
        ev = open(os.path.join(ev_dir, name), "rb").read()
        body = {"nonce": nonce, "evidence": base64.b64encode(ev).decode()}
        write(d, name, json.dumps(body).encode())
    ok = open(os.path.join(ev_dir, "ok-soft"), "rb").read()
    b64 = base64.b64encode(ok).decode()
    write(d, "bad-base64", json.dumps({"nonce": nonce, "evidence": "@" + b64[1:]}).encode())
    write(d, "base64-no-padding", json.dumps({"nonce": nonce, "evidence": b64.rstrip("=")}).encode())
    write(d, "nonce-odd", json.dumps({"nonce": nonce[:-1], "evidence": b64}).encode())
    write(d, "nonce-unknown", json.dumps({"nonce": "ab" * 32, "evidence": b64}).encode())
    write(d, "nonce-upper", json.dumps({"nonce": nonce.upper(), "evidence": b64}).encode())
    write(d, "no-evidence", json.dumps({"nonce": nonce}).encode())
    write(d, "extra-field", json.dumps({"nonce": nonce, "evidence": b64, "x": 1}).encode())
    write(d, "empty", b"")


if __name__ == "__main__":
    api_json()
    api_attest()
