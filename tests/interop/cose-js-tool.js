// SPDX-License-Identifier: Apache-2.0
// Drives the npm cose-js package (an independent COSE implementation) for
// rampart's interop tests:
//
//   node cose-js-tool.js sign KEY.pem PAYLOAD_FILE OUT [AAD_HEX] [--untagged]
//   node cose-js-tool.js verify PUB.pem IN [AAD_HEX]   prints the payload as hex
//
// cose-js supports ES256 (not EdDSA) for COSE_Sign1. Exit 0 on success,
// 1 when cose-js refuses the message.
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

async function main(argv) {
  const untagged = argv.includes('--untagged');
  const args = argv.filter((a) => a !== '--untagged');
  const [cmd, keyFile, inFile, a3, a4] = args;
  if (cmd === 'sign') {
    const j = jwk(keyFile, true);
    const payload = fs.readFileSync(inFile);
    const signer = { key: { d: b64u(j.d) } };
    if (a4 !== undefined) signer.externalAAD = Buffer.from(a4, 'hex');
    // cose-js's usual style: alg protected, kid unprotected.
    const headers = { p: { alg: 'ES256' }, u: { kid: 'cose-js' } };
    const out = await cose.sign.create(headers, payload, signer, untagged ? { excludetag: true } : {});
    fs.writeFileSync(a3, out);
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
  process.stderr.write('usage: cose-js-tool.js sign KEY PAYLOAD OUT [AAD_HEX] [--untagged] | verify PUB IN [AAD_HEX]\n');
  return 2;
}

main(process.argv.slice(2)).then((rc) => process.exit(rc), (e) => {
  process.stderr.write('cose-js-tool: ' + e.message + '\n');
  process.exit(1);
});
