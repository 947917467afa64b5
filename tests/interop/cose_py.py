#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""An independent COSE_Sign1 (RFC 9052) signer and verifier for rampart's
interop tests, written from the RFC on python3-cryptography and python3-cbor2
(run it with /usr/bin/python3). The Sig_structure is encoded by hand here,
not by a COSE library and not by cbor2.

  cose_py.py sign KEY.pem PAYLOAD_FILE OUT [AAD_HEX] [--loose] [--high-s]
  cose_py.py verify PUB.pem IN [AAD_HEX]       prints the payload as hex
  cose_py.py check-protected IN                 our header is deterministic

sign writes what rampart's profile accepts (docs/formats.md): alg and kid
protected in deterministic CBOR, an empty unprotected header, ES256 in the
low-S form. --loose puts kid in the unprotected header instead; --high-s
writes the other valid ES256 signature, (r, n - s). Both are for checking
that rampart refuses them.

Exit 0 on success, 1 when the message is refused, 2 on bad usage.
"""
import sys

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature, encode_dss_signature)

ALG_ES256 = -7
ALG_EDDSA = -8
P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551


class Refused(Exception):
    pass


def head(major, n):
    """A CBOR head in its shortest form (RFC 8949 section 3)."""
    if n < 24:
        return bytes([major << 5 | n])
    for ai, width in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * width):
            return bytes([major << 5 | ai]) + n.to_bytes(width, 'big')
    raise ValueError('too large')


def sig_structure(protected, aad, payload):
    """["Signature1", protected, external_aad, payload], by hand."""
    ctx = b'Signature1'
    out = head(4, 4) + head(3, len(ctx)) + ctx
    for b in (protected, aad, payload):
        out += head(2, len(b)) + b
    return out


def alg_of(key):
    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if key.curve.name != 'secp256r1':
            raise Refused('unsupported curve ' + key.curve.name)
        return ALG_ES256
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return ALG_EDDSA
    raise Refused('unsupported key type')


def sign(key_file, payload_file, out_file, aad, loose=False, high_s=False):
    with open(key_file, 'rb') as f:
        key = serialization.load_pem_private_key(f.read(), password=None)
    with open(payload_file, 'rb') as f:
        payload = f.read()
    alg = alg_of(key)
    # A kid unlike rampart's own (not a key id): it is only a hint.
    protected = head(5, 1) + head(0, 1) + head(1, -1 - alg) if loose else \
        head(5, 2) + head(0, 1) + head(1, -1 - alg) + head(0, 4) + head(2, 6) + b'python'
    tbs = sig_structure(protected, aad, payload)
    if alg == ALG_ES256:
        r, s = decode_dss_signature(key.sign(tbs, ec.ECDSA(hashes.SHA256())))
        if (s > P256_ORDER // 2) != high_s:
            s = P256_ORDER - s
        sig = r.to_bytes(32, 'big') + s.to_bytes(32, 'big')
    else:
        sig = key.sign(tbs)
    unprotected = {4: b'python'} if loose else {}
    msg = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, payload, sig]))
    with open(out_file, 'wb') as f:
        f.write(msg)


def decode(data):
    msg = cbor2.loads(data)
    if not isinstance(msg, cbor2.CBORTag) or msg.tag != 18:
        raise Refused('not a tagged COSE_Sign1')
    if not isinstance(msg.value, list) or len(msg.value) != 4:
        raise Refused('COSE_Sign1 must be an array of 4')
    protected, unprotected, payload, sig = msg.value
    if not isinstance(protected, bytes) or not isinstance(unprotected, dict):
        raise Refused('bad header types')
    if not isinstance(payload, bytes) or not isinstance(sig, bytes):
        raise Refused('payload and signature must be byte strings')
    phdr = cbor2.loads(protected) if protected else {}
    if not isinstance(phdr, dict):
        raise Refused('protected header is not a map')
    if set(phdr) & set(unprotected):
        raise Refused('a label is in both header maps')
    if 2 in phdr:
        raise Refused('critical headers are not understood here')
    return protected, phdr, payload, sig


def verify(pub_file, in_file, aad):
    with open(pub_file, 'rb') as f:
        key = serialization.load_pem_public_key(f.read())
    with open(in_file, 'rb') as f:
        protected, phdr, payload, sig = decode(f.read())
    alg = phdr.get(1)
    if alg != alg_of(key):
        raise Refused('alg %r does not match the key' % (alg,))
    if len(sig) != 64:
        raise Refused('signature is %d bytes, expected 64' % len(sig))
    tbs = sig_structure(protected, aad, payload)
    try:
        if alg == ALG_ES256:
            r, s = int.from_bytes(sig[:32], 'big'), int.from_bytes(sig[32:], 'big')
            if not (0 < r < P256_ORDER and 0 < s < P256_ORDER):
                raise Refused('r or s out of range')
            key.verify(encode_dss_signature(r, s), tbs, ec.ECDSA(hashes.SHA256()))
        else:
            key.verify(sig, tbs)
    except InvalidSignature:
        raise Refused('signature does not verify')
    print(payload.hex())


def check_protected(in_file):
    """rampart's protected header must be {1: alg, [3: ctype,] 4: kid} in
    deterministic CBOR; cbor2's canonical mode agrees with RFC 8949 order
    for these small integer keys."""
    with open(in_file, 'rb') as f:
        protected, phdr, _, _ = decode(f.read())
    if cbor2.dumps(phdr, canonical=True) != protected:
        raise Refused('protected header is not in canonical form')
    if sorted(phdr) not in ([1, 4], [1, 3, 4]):
        raise Refused('unexpected protected labels %r' % sorted(phdr))
    if not isinstance(phdr[4], bytes) or len(phdr[4]) != 32:
        raise Refused('kid is not a 32-byte key id')
    print('protected header ok: labels %s' % sorted(phdr))


def main(argv):
    flags = [a for a in argv if a in ('--loose', '--high-s')]
    argv = [a for a in argv if a not in flags]
    try:
        if len(argv) in (4, 5) and argv[0] == 'sign':
            sign(argv[1], argv[2], argv[3], bytes.fromhex(argv[4]) if len(argv) == 5 else b'',
                 loose='--loose' in flags, high_s='--high-s' in flags)
        elif len(argv) in (3, 4) and argv[0] == 'verify':
            verify(argv[1], argv[2], bytes.fromhex(argv[3]) if len(argv) == 4 else b'')
        elif len(argv) == 2 and argv[0] == 'check-protected':
            check_protected(argv[1])
        else:
            print(__doc__, file=sys.stderr)
            return 2
    except (Refused, ValueError, cbor2.CBORDecodeError) as e:
        print('cose_py: %s' % e, file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
