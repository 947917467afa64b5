// SPDX-License-Identifier: Apache-2.0
// Drives the npm cose-js package (an independent COSE implementation) for
// rampart's interop tests:
//
//   node cose-js-tool.js sign KEY.pem PAYLOAD_FILE OUT [AAD_HEX] [--untagged] [--loose]
//   node cose-js-tool.js verify PUB.pem IN [AAD_HEX]   prints the payload as hex
//
// cose-js supports ES256 (not EdDSA) for COSE_Sign1. Exit 0 on success,
// 1 when cose-js refuses the message.
//
// By default sign writes what rampart's profile accepts (docs/formats.md):
// kid protected, an empty unprotected header, and the low-S form of the
// ECDSA signature (cose-js signs with elliptic, which does not normalise s;
// the signature does not cover itself, so s is normalised afterwards).
// --loose keeps cose-js's usual style instead: kid unprotected, s as made.
'use strict';

const fs = require('fs');
const crypto = require('crypto');
const cose = require('cose-js');

function jwk(pemFile, priv) {
  const pem = fs.readFileSync(pemFile);
  const key = priv ? crypto.createPrivateKey(pem) : crypto.createPublicKey(pem);
  const j = key.export({ format: 'jwk' });
  if (j.kty !== 'EC' || j.crv !== 'P-256') {
    throw new Error(pemFile + ': cose-js needs a P-256 key, got ' + j.kty + ' ' + (j.crv || ''));
  }
  return j;
}

const b64u = (s) => Buffer.from(s, 'base64url');

const P256_ORDER = BigInt('0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551');

// The message ends with the signature's byte string, 58 40 r||s: replace s
// by n - s when it is above (n - 1) / 2.
function lowS(msg) {
  const at = msg.length - 32;
  if (msg[msg.length - 66] !== 0x58 || msg[msg.length - 65] !== 0x40) throw new Error('no 64-byte signature at the end');
  const s = BigInt('0x' + msg.subarray(at).toString('hex'));
  if (s <= P256_ORDER >> 1n) return msg;
  const out = Buffer.from(msg);
  Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex').copy(out, at);
  return out;
}

async function main(argv) {
  const untagged = argv.includes('--untagged');
  const loose = argv.includes('--loose');
  const args = argv.filter((a) => a !== '--untagged' && a !== '--loose');
  const [cmd, keyFile, inFile, a3, a4] = args;
  if (cmd === 'sign') {
    const j = jwk(keyFile, true);
    const payload = fs.readFileSync(inFile);
    const signer = { key: { d: b64u(j.d) } };
    if (a4 !== undefined) signer.externalAAD = Buffer.from(a4, 'hex');
    // cose-js's usual style puts kid in the unprotected header.
    const headers = loose ? { p: { alg: 'ES256' }, u: { kid: 'cose-js' } }
      : { p: { alg: 'ES256', kid: 'cose-js' }, u: {} };
    const out = await cose.sign.create(headers, payload, signer, untagged ? { excludetag: true } : {});
    fs.writeFileSync(a3, loose ? out : lowS(out));
    return 0;
  }
  if (cmd === 'verify') {
    const j = jwk(keyFile, false);
    const verifier = { key: { x: b64u(j.x), y: b64u(j.y) } };
    if (a3 !== undefined) verifier.externalAAD = Buffer.from(a3, 'hex');
    try {
      const payload = await cose.sign.verify(fs.readFileSync(inFile), verifier, { defaultType: cose.sign.Sign1Tag });
      process.stdout.write(Buffer.from(payload).toString('hex') + '\n');
      return 0;
    } catch (e) {
      process.stderr.write('cose-js: ' + e.message + '\n');
      return 1;
    }
  }
  process.stderr.write('usage: cose-js-tool.js sign KEY PAYLOAD OUT [AAD_HEX] [--untagged] [--loose] | verify PUB IN [AAD_HEX]\n');
  return 2;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
  process.stderr.write('cose-js-tool: ' + e.message + '\n');
  process.exit(1);
});
