#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent reader of rampart's attestation evidence, written from
docs/formats.md ("Attestation evidence") on python3-cbor2 and
python3-cryptography, for integration/evidence-cli:

  evidence_check.py EVIDENCE CA_PEM NONCE_HEX [ALIAS_PEM DEVICEID_PEM]

Checks what the profile says a verifier checks (structure, the chain to the
CA, the signature, the claims, nonce, ueid, the measurement against the
Alias certificate's TcbInfo FWID) and, if given, that x5chain holds these
two certificates. Prints the device id and exits 0, or prints why and
exits 1.
"""
import hashlib
import sys

import cbor2
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

PROFILE = "tag:rampart.dev,2026:eat-v1"
TCBINFO = x509.ObjectIdentifier("2.23.133.5.4.1")


def fail(why):
    print("evidence_check: " + why)
    sys.exit(1)


def check(cond, why):
    if not cond:
        fail(why)


def signed_by(cert, issuer):
    try:
        issuer.public_key().verify(cert.signature, cert.tbs_certificate_bytes,
                                   ec.ECDSA(cert.signature_hash_algorithm))
        return True
    except Exception:
        return False


def main(argv):
    if len(argv) not in (3, 5):
        sys.exit(__doc__)
    data = open(argv[0], "rb").read()
    ca = x509.load_pem_x509_certificate(open(argv[1], "rb").read())
    nonce = bytes.fromhex(argv[2])

    msg = cbor2.loads(data)
    check(isinstance(msg, cbor2.CBORTag) and msg.tag == 18, "not tag 18")
    check(cbor2.dumps(msg) == data, "not the item's deterministic encoding")
    prot_bytes, unprot, payload, sig = msg.value
    check(unprot == {}, "the unprotected header is not empty")
    prot = cbor2.loads(prot_bytes)
    check(sorted(prot) == [1, 3, 33], "protected labels are %r" % sorted(prot))
    check(prot[1] == -7 and prot[3] == "application/eat+cwt", "alg or content type")
    check(isinstance(prot[33], list) and len(prot[33]) == 2, "x5chain is not two certificates")
    alias = x509.load_der_x509_certificate(prot[33][0])
    deviceid = x509.load_der_x509_certificate(prot[33][1])
    if len(argv) == 5:
        for i, path in enumerate(argv[3:]):
            want = x509.load_pem_x509_certificate(open(path, "rb").read())
            check(want.public_bytes(serialization.Encoding.DER) == prot[33][i], "x5chain[%d] is not %s" % (i, path))

    check(signed_by(deviceid, ca), "the DeviceID certificate is not signed by the CA")
    check(signed_by(alias, deviceid), "the Alias certificate is not signed by the DeviceID key")
    check(not alias.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, "the Alias is a CA")

    tbs = cbor2.dumps(["Signature1", prot_bytes, b"", payload])
    r, s = int.from_bytes(sig[:32], "big"), int.from_bytes(sig[32:], "big")
    try:
        alias.public_key().verify(encode_dss_signature(r, s), tbs, ec.ECDSA(hashes.SHA256()))
    except Exception:
        fail("the signature does not verify with the Alias key")

    claims = cbor2.loads(payload)
    check(cbor2.dumps(claims, canonical=True) == payload, "the claims are not deterministic CBOR")
    for key in (10, 256, 6, 265, 270, 271, 263, 273, -70001, -70002):
        check(key in claims, "claim %d is missing" % key)
    check(claims[10] == nonce, "another nonce")
    spki = deviceid.public_key().public_bytes(serialization.Encoding.DER,
                                              serialization.PublicFormat.SubjectPublicKeyInfo)
    device_id = hashlib.sha256(spki).digest()
    check(claims[256] == b"\x01" + device_id, "ueid is not 0x01 || SHA-256 of the DeviceID key")
    check(claims[265] == PROFILE, "another profile")
    check(claims[263] in range(5) and isinstance(claims[6], int), "dbgstat or iat")
    check(len(claims[273]) == 1 and claims[273][0][0] == 65000, "measurements")
    components = claims[273][0][1]
    for name, version, digest in cbor2.loads(components):
        check(isinstance(name, str) and isinstance(version, str) and len(digest) == 32, "a component")
    tcb = alias.extensions.get_extension_for_oid(TCBINFO).value.value
    # The FWID is TcbInfo's last field: ... OCTET STRING (32 bytes).
    check(tcb[-34:-32] == b"\x04\x20", "no SHA-256 FWID at the end of TcbInfo")
    check(hashlib.sha256(components).digest() == tcb[-32:], "the measurement is not the Alias certificate's FWID")
    check(claims[-70002] == (claims[-70001] == "soft"), "development does not match the backend")
    print(device_id.hex())


if __name__ == "__main__":
    main(sys.argv[1:])
