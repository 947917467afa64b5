#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the generated part of the seed corpus of tests/fuzz/fuzz-cose.c.

  /usr/bin/python3 tests/fuzz/cose_corpus.py [DIR]

DIR defaults to corpus/cose/ beside this script. Needs python3-cryptography
(scripts/install-deps installs it). Files of the same name are replaced,
other files are left alone: the older hand-made seeds (py-*, and the near-*
seeds not written here) stay as they are; delete a seed's file by hand if
its name changes here. ES256 signatures are randomised, so running it again
changes the bytes of the ES256 seeds, never what they test.

Every message is signed with the keys fuzz-cose verifies with (read from
fuzz-keys.h, so they cannot drift apart), and written byte by byte here from
docs/formats.md ("COSE_Sign1"), not by a COSE or CBOR library, so that each
near miss differs from a conforming message in exactly one rule:

  ok-*    in the one byte form and validly signed: they pass decoding and
          verify with one key (the *-aad ones with external_aad "aad", as
          fuzz-cose passes it), so fuzzing starts past the signature check;
  near-*  the same, with one thing wrong, which the name says. Where the
          wrong thing is inside the protected header, the message is signed
          over it, so that only the rule named can refuse it.
"""
import ast
import hashlib
import os
import re
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

HERE = os.path.dirname(os.path.abspath(__file__))
P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551
ALG_ES256, ALG_EDDSA = -7, -8
PAYLOAD = b"seed payload"
AAD = b"aad"                     # what fuzz-cose.c passes as external_aad
CT = "application/vnd.rampart.image-manifest+cbor"


def fuzz_keys():
    """The PEM keys embedded in fuzz-keys.h, as {"es256": key, "ed25519": key}."""
    with open(os.path.join(HERE, "fuzz-keys.h"), encoding="utf-8") as f:
        text = f.read()
    keys = {}
    for name, body in re.findall(r'static const char (\w+)_pem\[\] =\s*((?:"[^"]*"\s*)+);', text):
        pem = "".join(ast.literal_eval(s) for s in re.findall(r'"[^"]*"', body))
        keys[name] = serialization.load_pem_private_key(pem.encode(), password=None)
    return keys


# CBOR (RFC 8949 section 3), written by hand so that each byte is chosen.
def head(major, n, width=0):
    """A head: the shortest form, or with a width-byte argument (1, 2, 4 or 8)."""
    if width == 0:
        if n < 24:
            return bytes([major << 5 | n])
        width = next(w for w in (1, 2, 4, 8) if n < 1 << (8 * w))
    return bytes([major << 5 | {1: 24, 2: 25, 4: 26, 8: 27}[width]]) + n.to_bytes(width, "big")


def cint(v, width=0):
    return head(0, v, width) if v >= 0 else head(1, -1 - v, width)


def bstr(b, width=0):
    return head(2, len(b), width) + b


def tstr(s, width=0):
    return head(3, len(s.encode()), width) + s.encode()


def cmap(pairs, width=0):
    return head(5, len(pairs), width) + b"".join(k + v for k, v in pairs)


def carray(items, width=0):
    return head(4, len(items), width) + b"".join(items)


def alg_of(key):
    return ALG_EDDSA if isinstance(key, ed25519.Ed25519PrivateKey) else ALG_ES256


def key_id(key):
    """docs/formats.md, "Key id": SHA-256 of the DER SubjectPublicKeyInfo."""
    spki = key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(spki).digest()


def header(key, ct=None, kid=True, alg=None):
    """The protected header's pairs as rampart writes them: 1 alg, 3 content
    type (text, or a content-format number), 4 kid."""
    pairs = [(cint(1), cint(alg_of(key) if alg is None else alg))]
    if ct is not None:
        pairs.append((cint(3), tstr(ct) if isinstance(ct, str) else cint(ct)))
    if kid:
        pairs.append((cint(4), bstr(key_id(key))))
    return pairs


def with_crit(key, labels):
    """rampart's header without a content type, plus crit (2) listing labels."""
    pairs = header(key)
    return pairs[:1] + [(cint(2), carray([cint(label) for label in labels]))] + pairs[1:]


def sign(key, protected, payload, aad=b"", high_s=False):
    """The 64-byte signature over the Sig_structure (RFC 9052 section 4.4),
    ES256 in the low-S form unless high_s."""
    tbs = carray([tstr("Signature1"), bstr(protected), bstr(aad), bstr(payload)])
    if alg_of(key) == ALG_EDDSA:
        return key.sign(tbs)
    r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(hashes.SHA256())))
    s = min(s, P256_ORDER - s)
    if high_s:
        s = P256_ORDER - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def message(protected, payload, sig, tag=b"\xd2", array=b"\x84", unprotected=b"\xa0",
            protected_width=0, payload_width=0, sig_width=0):
    return (tag + array + bstr(protected, protected_width) + unprotected +
            bstr(payload, payload_width) + bstr(sig, sig_width))


def signed(key, pairs=None, protected=None, payload=PAYLOAD, aad=b"", high_s=False, **form):
    """A message signed by key; pairs (or protected, its exact bytes) default
    to rampart's header without a content type."""
    if protected is None:
        protected = cmap(header(key) if pairs is None else pairs)
    return message(protected, payload, sign(key, protected, payload, aad, high_s), **form)


def with_sig(msg, sig):
    """msg (ending in a 64-byte signature with a 2-byte head) with another
    signature in its place, in the shortest head."""
    assert msg[-66:-64] == b"\x58\x40"
    return msg[:-66] + bstr(sig)


def seeds(keys):
    es, ed = keys["es256"], keys["ed25519"]
    s = {}

    # Conforming and validly signed.
    for name, key in (("es256", es), ("eddsa", ed)):
        s["ok-%s" % name] = signed(key)
        s["ok-%s-ctype" % name] = signed(key, header(key, ct=CT))
        s["ok-%s-aad" % name] = signed(key, aad=AAD)
        s["ok-%s-ctype-aad" % name] = signed(key, header(key, ct=CT), aad=AAD)
        s["ok-%s-ctype-number" % name] = signed(key, header(key, ct=60))
        s["ok-%s-no-kid" % name] = signed(key, header(key, kid=False))
        s["ok-%s-crit" % name] = signed(key, with_crit(key, [1, 4]))
        s["ok-%s-empty-payload" % name] = signed(key, payload=b"")
    s["ok-es256-payload-24"] = signed(es, payload=bytes(range(24)))          # 58 18: first 2-byte head
    s["ok-eddsa-payload-300"] = signed(ed, payload=bytes(i & 0xff for i in range(300)))   # 59 01 2c
    s["ok-eddsa-ctype-256"] = signed(ed, header(ed, ct="x" * 256))
    s["ok-eddsa-trailing"] = signed(ed) + b"image bytes follow"

    # One head in a long form (the message's one byte form).
    ok = s["ok-eddsa-ctype"]
    prot = cmap(header(ed, ct=CT))
    sig = sign(ed, prot, PAYLOAD)
    s["near-long-head-tag"] = message(prot, PAYLOAD, sig, tag=b"\xd8\x12")
    s["near-long-head-array"] = message(prot, PAYLOAD, sig, array=b"\x98\x04")
    s["near-long-head-protected"] = message(prot, PAYLOAD, sig, protected_width=2)
    s["near-long-head-unprotected"] = message(prot, PAYLOAD, sig, unprotected=b"\xb8\x00")
    s["near-long-head-payload"] = message(prot, PAYLOAD, sig, payload_width=1)
    s["near-long-head-signature"] = message(prot, PAYLOAD, sig, sig_width=2)
    s["near-long-head-tag-es256"] = signed(es, tag=b"\xd8\x12")
    s["near-untagged-eddsa"] = ok[1:]
    s["near-tag-17"] = b"\xd1" + ok[1:]

    # Inside the protected header, signed: not its deterministic form.
    kid_pair = (cint(4), bstr(key_id(ed)))
    s["near-protected-long-alg"] = signed(ed, [(cint(1), cint(ALG_EDDSA, 1)), kid_pair])
    s["near-protected-long-label"] = signed(ed, [(cint(1, 1), cint(ALG_EDDSA)), kid_pair])
    s["near-protected-long-kid-length"] = signed(ed, [(cint(1), cint(ALG_EDDSA)),
                                                      (cint(4), bstr(key_id(ed), 2))])
    s["near-protected-long-map"] = signed(ed, protected=cmap(header(ed), width=1))
    s["near-protected-long-ctype"] = signed(ed, header(ed)[:1] + [(cint(3), tstr(CT, 2))] + header(ed)[1:])
    s["near-protected-trailing-byte"] = signed(ed, protected=cmap(header(ed)) + b"\x00")
    s["near-protected-empty"] = signed(ed, protected=b"")
    s["near-protected-array"] = signed(ed, protected=carray([cint(1), cint(ALG_EDDSA)]))

    # Labels: only 1, 2, 3, 4, each once, in ascending order.
    s["near-unknown-label-5"] = signed(ed, header(ed) + [(cint(5), bstr(b""))])
    s["near-unknown-label-0"] = signed(ed, [(cint(0), bstr(b""))] + header(ed))
    s["near-unknown-label-negative"] = signed(ed, header(ed) + [(cint(-1), cint(0))])
    s["near-unknown-label-text"] = signed(ed, header(ed) + [(tstr("kid"), bstr(b"k"))])
    s["near-unsorted-labels"] = signed(ed, header(ed)[::-1])
    s["near-unsorted-labels-es256"] = signed(es, [header(es, ct=CT)[i] for i in (0, 2, 1)])
    s["near-duplicate-kid"] = signed(ed, header(ed) + [kid_pair])

    # The unprotected header must be empty.
    s["near-unprotected-kid"] = signed(ed, header(ed, kid=False), unprotected=cmap([kid_pair]))
    s["near-unprotected-alg"] = signed(ed, unprotected=cmap([(cint(1), cint(ALG_EDDSA))]))
    s["near-unprotected-empty-text"] = signed(es, unprotected=cmap([(tstr(""), tstr(""))]))

    # Header values.
    s["near-alg-es384"] = signed(es, header(es, alg=-35))
    s["near-alg-text"] = signed(ed, [(cint(1), tstr("EdDSA"))] + header(ed)[1:])
    s["near-alg-missing"] = signed(ed, header(ed)[1:])
    s["near-alg-eddsa-signed-es256"] = signed(es, header(es, alg=ALG_EDDSA))
    s["near-crit-empty"] = signed(ed, with_crit(ed, []))
    s["near-crit-absent-label"] = signed(ed, with_crit(ed, [3]))
    s["near-crit-unknown-label"] = signed(ed, with_crit(ed, [7]))
    s["near-ctype-empty"] = signed(ed, header(ed, ct=""))
    s["near-ctype-257"] = signed(ed, header(ed, ct="x" * 257))
    s["near-ctype-control"] = signed(ed, header(ed, ct="text/plain\n"))
    s["near-ctype-number-65536"] = signed(ed, header(ed, ct=65536))
    s["near-kid-text"] = signed(ed, header(ed, kid=False) + [(cint(4), tstr("kid"))])
    s["near-kid-257"] = signed(ed, header(ed, kid=False) + [(cint(4), bstr(bytes(257)))])
    s["near-payload-text"] = ok[:-(len(PAYLOAD) + 67)] + tstr(PAYLOAD.decode()) + ok[-66:]

    # Signatures: 64 bytes, ES256 in range and low S, and they must verify.
    es_ok, ed_ok = s["ok-es256"], s["ok-eddsa"]
    s["near-signature-65-es256"] = with_sig(es_ok, es_ok[-64:] + b"\x00")
    s["near-signature-65-eddsa"] = with_sig(ed_ok, ed_ok[-64:] + b"\x00")
    s["near-signature-63-es256"] = with_sig(es_ok, es_ok[-64:-1])
    s["near-signature-empty"] = with_sig(ed_ok, b"")
    s["near-high-s-es256"] = signed(es, high_s=True)
    s["near-high-s-es256-aad"] = signed(es, aad=AAD, high_s=True)
    s["near-es256-s-zero"] = with_sig(es_ok, es_ok[-64:-32] + bytes(32))
    s["near-es256-r-order"] = with_sig(es_ok, P256_ORDER.to_bytes(32, "big") + es_ok[-32:])
    half_plus_1 = (P256_ORDER // 2 + 1).to_bytes(32, "big")       # the lowest high S
    s["near-es256-s-half-order-plus-1"] = with_sig(es_ok, es_ok[-64:-32] + half_plus_1)
    flipped = bytearray(ed_ok)
    flipped[-1] ^= 1
    s["near-signature-flipped-eddsa"] = bytes(flipped)
    flipped = bytearray(es_ok)
    flipped[-70] ^= 1                        # in the payload
    s["near-payload-flipped-es256"] = bytes(flipped)
    s["near-other-aad"] = signed(ed, aad=b"other aad")
    return s


def main(argv):
    if len(argv) > 1 or (argv and argv[0].startswith("-")):
        sys.exit(__doc__)
    out = argv[0] if argv else os.path.join(HERE, "corpus", "cose")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds(fuzz_keys()).items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main(sys.argv[1:])
