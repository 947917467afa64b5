#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of tests/fuzz/fuzz-evidence.c.

  /usr/bin/python3 tests/fuzz/evidence_corpus.py [DIR]
  /usr/bin/python3 tests/fuzz/evidence_corpus.py --new-ca

DIR defaults to corpus/evidence/ beside this script. Files of the same name
are replaced, others left alone. Needs python3-cryptography (and
cose_corpus.py beside it, whose CBOR writers it uses).

fuzz-evidence verifies with a fixed trusted CA, nonce and time, all in
fuzz-evidence-ca.h; this script reads the CA's key and certificate from
there (so they cannot drift apart) and makes devices under it: DeviceID and
Alias certificates as cert.h makes them, the Alias certificate's TcbInfo
written byte by byte, evidence written byte by byte from docs/formats.md
("Attestation evidence"). --new-ca writes a new fuzz-evidence-ca.h (a new
CA key and certificate) and nothing else; the corpus must then be written
again. Device keys are fixed, ECDSA signatures are random: running it again
changes bytes, never what a seed tests.

  ok-*    evidence the verifier accepts (ok-soft only with development
          allowed, which fuzz-evidence tries both ways);
  near-*  the same with one thing wrong, which the name says, signed by
          the key that would sign it, so that only that check refuses it.
"""
import ast
import datetime
import hashlib
import os
import re
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from cose_corpus import P256_ORDER, bstr, carray, cint, cmap, head, tstr  # noqa: E402

HEADER = os.path.join(HERE, "fuzz-evidence-ca.h")
PROFILE = "tag:rampart.dev,2026:eat-v1"
CONTENT_TYPE = "application/eat+cwt"
MEASUREMENT_FORMAT = 65000
TCBINFO = x509.ObjectIdentifier("2.23.133.5.4.1")
NOT_BEFORE = datetime.datetime(2025, 1, 1)
NOT_AFTER = datetime.datetime(9999, 12, 31, 23, 59, 59)
IAT = 1767225600


def c_strings(name, text):
    m = re.search(r'static const char %s\[\] =\s*((?:"[^"]*"\s*)+);' % name, text)
    return "".join(ast.literal_eval(s) for s in re.findall(r'"[^"]*"', m.group(1)))


def read_header():
    """The CA key and certificate and the nonce fuzz-evidence uses."""
    with open(HEADER, encoding="utf-8") as f:
        text = f.read()
    key = serialization.load_pem_private_key(c_strings("fuzz_ca_key_pem", text).encode(), password=None)
    cert = x509.load_pem_x509_certificate(c_strings("fuzz_ca_pem", text).encode())
    nonce = bytes.fromhex(c_strings("fuzz_nonce_hex", text))
    return key, cert, nonce


def fixed_key(label):
    """A P-256 key whose scalar is SHA-256(label) (reduced): the same every run."""
    d = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big") % (P256_ORDER - 1) + 1
    return ec.derive_private_key(d, ec.SECP256R1())


def spki(key):
    return key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def der(tag, body):
    n = len(body)
    if n < 0x80:
        return bytes([tag, n]) + body
    if n < 0x100:
        return bytes([tag, 0x81, n]) + body
    return bytes([tag, 0x82, n >> 8, n & 0xff]) + body


def tcbinfo(model, fwid, vendor="rampart", version="0.1.0"):
    """DiceTcbInfo as rampart writes it: vendor, model, version, layer 1, one SHA-256 FWID."""
    sha256_oid = bytes.fromhex("608648016503040201")
    fwids = der(0xa6, der(0x30, der(0x06, sha256_oid) + der(0x04, fwid)))
    return der(0x30, der(0x80, vendor.encode()) + der(0x81, model.encode()) + der(0x82, version.encode()) +
               der(0x84, b"\x01") + fwids)


def cert(subject_key, cn, issuer_cert, issuer_key, ca, extra=(), ou=None, pathlen=None):
    names = ([x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, ou)] if ou else []) + \
        [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    subject = x509.Name(names)
    b = (x509.CertificateBuilder()
         .subject_name(subject)
         .issuer_name(issuer_cert.subject if issuer_cert is not None else subject)
         .public_key(subject_key.public_key())
         .serial_number(int.from_bytes(hashlib.sha256(cn.encode()).digest()[:15], "big") | 1 << 118)
         .not_valid_before(NOT_BEFORE)
         .not_valid_after(NOT_AFTER)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=pathlen), critical=True)
         .add_extension(x509.KeyUsage(digital_signature=not ca, content_commitment=False, key_encipherment=False,
                                      data_encipherment=False, key_agreement=False, key_cert_sign=ca,
                                      crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(subject_key.public_key()), critical=False))
    if issuer_cert is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
                            critical=False)
    for ext in extra:
        b = b.add_extension(ext, critical=False)
    return b.sign(issuer_key, hashes.SHA256())


def cert_der(c):
    return c.public_bytes(serialization.Encoding.DER)


def components(entries):
    """measure.h's list: [[name, version, SHA-256(content)], ...]."""
    return carray([carray([tstr(n), tstr(v), bstr(hashlib.sha256(content).digest())]) for n, v, content in entries])


COMPONENTS = components([("os", "1.2.3", b"the OS image"), ("rampart-secmon", "0.1.0", b"secmon")])


class Device:
    def __init__(self, label, ca_key, ca_cert, backend, comps=COMPONENTS, alias_model=None):
        self.deviceid_key = fixed_key(label + " DeviceID")
        self.alias_key = fixed_key(label + " Alias")
        self.device_id = hashlib.sha256(spki(self.deviceid_key)).digest()
        self.backend = backend
        self.components = comps
        self.deviceid = cert(self.deviceid_key, self.device_id.hex(), ca_cert, ca_key, True, pathlen=0)
        measurement = hashlib.sha256(comps).digest()
        ext = x509.UnrecognizedExtension(TCBINFO, tcbinfo(alias_model or backend, measurement))
        self.alias = cert(self.alias_key, self.device_id.hex(), self.deviceid, self.deviceid_key, False, [ext],
                          ou="rampart Alias")


def claims(dev, nonce, **change):
    """The claims map's pairs (key int -> encoded value), rampart's, with changes."""
    c = {
        10: bstr(nonce),
        256: bstr(b"\x01" + dev.device_id),
        6: cint(IAT),
        265: tstr(PROFILE),
        270: tstr("rampart"),
        271: tstr("0.1.0"),
        263: cint(2),
        273: carray([carray([cint(MEASUREMENT_FORMAT), bstr(dev.components)])]),
        -70001: tstr(dev.backend),
        -70002: b"\xf5" if dev.backend == "soft" else b"\xf4",
    }
    for k, v in change.items():
        key = {"eat_nonce": 10, "ueid": 256, "iat": 6, "eat_profile": 265, "swname": 270, "swversion": 271,
               "dbgstat": 263, "measurements": 273, "backend": -70001, "development": -70002}[k]
        if v is None:
            del c[key]
        else:
            c[key] = v
    return c


def encode_claims(c, sort=True, extra=b"", extra_count=0):
    pairs = [cint(k) + v for k, v in c.items()]
    if sort:
        pairs.sort()
    return head(5, len(pairs) + extra_count) + b"".join(pairs) + extra


def sign(key, protected, payload):
    tbs = carray([tstr("Signature1"), bstr(protected), bstr(b""), bstr(payload)])
    r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(hashes.SHA256())))
    s = min(s, P256_ORDER - s)
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def evidence(key, chain, payload, ct=CONTENT_TYPE, alg=-7, x5=True):
    pairs = [(cint(1), cint(alg))]
    if ct is not None:
        pairs.append((cint(3), tstr(ct)))
    if x5:
        pairs.append((cint(33), carray([bstr(cert_der(c)) for c in chain])))
    protected = cmap(pairs)
    return b"\xd2\x84" + bstr(protected) + b"\xa0" + bstr(payload) + bstr(sign(key, protected, payload))


def seeds(ca_key, ca_cert, nonce):
    soft = Device("fuzz soft", ca_key, ca_cert, "soft")
    tpm = Device("fuzz tpm2", ca_key, ca_cert, "tpm2")
    other_ca_key = fixed_key("fuzz untrusted CA")
    other_ca = cert(other_ca_key, "Untrusted CA", None, other_ca_key, True)
    stranger = Device("fuzz stranger", other_ca_key, other_ca, "tpm2")

    def ev(dev, sort=True, key=None, chain=None, extra=b"", extra_count=0, **change):
        payload = encode_claims(claims(dev, nonce, **change), sort, extra, extra_count)
        return evidence(key or dev.alias_key, chain or [dev.alias, dev.deviceid], payload)

    s = {}
    s["ok-soft"] = ev(soft)
    s["ok-tpm2"] = ev(tpm)
    s["ok-unknown-claims"] = ev(tpm, extra=cint(-80000) + tstr("x") + tstr("zz") + carray([cint(1)]), extra_count=2)

    # Structure.
    good = s["ok-tpm2"]
    s["near-truncated"] = good[:len(good) // 2]
    s["near-trailing-byte"] = good + b"\x00"
    s["near-untagged"] = good[1:]
    payload = encode_claims(claims(tpm, nonce))
    s["near-no-content-type"] = evidence(tpm.alias_key, [tpm.alias, tpm.deviceid], payload, ct=None)
    s["near-content-type-cwt"] = evidence(tpm.alias_key, [tpm.alias, tpm.deviceid], payload, ct="application/cwt")
    s["near-no-x5chain"] = evidence(tpm.alias_key, [], payload, x5=False)
    s["near-x5chain-3"] = evidence(tpm.alias_key, [tpm.alias, tpm.deviceid, ca_cert], payload)
    s["near-x5chain-reversed"] = evidence(tpm.alias_key, [tpm.deviceid, tpm.alias], payload)

    # Chain and certificates.
    s["near-untrusted-ca"] = ev(stranger)
    s["near-deviceid-as-alias"] = ev(tpm, key=tpm.deviceid_key, chain=[tpm.deviceid, ca_cert])
    s["near-deviceid-twice"] = ev(tpm, key=tpm.deviceid_key, chain=[tpm.deviceid, tpm.deviceid])
    s["near-alias-of-other-deviceid"] = ev(tpm, chain=[tpm.alias, soft.deviceid])
    s["near-signed-by-other-alias"] = ev(tpm, key=soft.alias_key)
    s["near-ueid-of-other-device"] = ev(soft, ueid=bstr(b"\x01" + tpm.device_id))
    altered = components([("os", "1.2.3", b"another OS image"), ("rampart-secmon", "0.1.0", b"secmon")])
    s["near-altered-measurement"] = ev(tpm, measurements=carray([carray([cint(MEASUREMENT_FORMAT), bstr(altered)])]))
    s["near-backend-not-model"] = ev(tpm, backend=tstr("soft2"))
    s["near-soft-not-development"] = ev(soft, development=b"\xf4")

    # Claims.
    s["near-other-nonce"] = ev(tpm, eat_nonce=bstr(bytes(16)))
    s["near-nonce-7"] = ev(tpm, eat_nonce=bstr(bytes(7)))
    s["near-nonce-text"] = ev(tpm, eat_nonce=tstr("nonce nonce"))
    s["near-ueid-type-2"] = ev(tpm, ueid=bstr(b"\x02" + tpm.device_id))
    s["near-iat-negative"] = ev(tpm, iat=cint(-1))
    s["near-profile-other"] = ev(tpm, eat_profile=tstr("tag:example.com,2026:eat"))
    s["near-swname-empty"] = ev(tpm, swname=tstr(""))
    s["near-dbgstat-5"] = ev(tpm, dbgstat=cint(5))
    s["near-measurement-format-60"] = ev(tpm, measurements=carray([carray([cint(60), bstr(COMPONENTS)])]))
    s["near-components-empty"] = ev(tpm, measurements=carray([carray([cint(MEASUREMENT_FORMAT), bstr(b"\x80")])]))
    s["near-development-int"] = ev(tpm, development=cint(0))
    for name in ("eat_nonce", "ueid", "iat", "eat_profile", "swname", "swversion", "dbgstat", "measurements", "backend",
                 "development"):
        s["near-missing-" + name] = ev(tpm, **{name: None})
    s["near-unsorted-claims"] = ev(tpm, sort=False)
    s["near-duplicate-nonce"] = ev(tpm, extra=cint(10) + bstr(nonce), extra_count=1)
    s["near-claims-array"] = evidence(tpm.alias_key, [tpm.alias, tpm.deviceid], carray([]))
    return s


def new_ca():
    key = ec.generate_private_key(ec.SECP256R1())
    c = cert(key, "rampart fuzz-evidence CA", None, key, True)
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption()).decode()
    cert_pem = c.public_bytes(serialization.Encoding.PEM).decode()

    def c_lines(pem):
        return "\n".join('        "%s\\n"' % line for line in pem.strip().split("\n"))

    with open(HEADER, "w", encoding="utf-8") as f:
        f.write("""/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What fuzz-evidence trusts: a manufacturer CA (its key is here for
 * evidence_corpus.py, which signs the corpus's DeviceID certificates with
 * it and reads both from this file), the nonce and the time it verifies
 * with. Written by `evidence_corpus.py --new-ca`. */

static const char fuzz_ca_key_pem[] =
%s;

static const char fuzz_ca_pem[] =
%s;

static const char fuzz_nonce_hex[] = "66757a7a206e6f6e6365203030303031";   /* "fuzz nonce 00001" */

#define FUZZ_EVIDENCE_NOW 1780000000   /* 2026-05-28: the corpus's certificates are valid from 2025-01-01 */
""" % (c_lines(key_pem), c_lines(cert_pem)))


def main(argv):
    if argv == ["--new-ca"]:
        new_ca()
        return
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        sys.exit(__doc__)
    out = argv[0] if argv else os.path.join(HERE, "corpus", "evidence")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds(*read_header()).items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
