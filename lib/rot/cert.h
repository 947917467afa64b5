/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The device's certificates (X.509 v3, ECDSA P-256 with SHA-256):
 *
 *   manufacturer CA (self-signed, the factory's)  CA:TRUE
 *     └ DeviceID  (signed by the CA at provisioning) CA:TRUE, pathlen 0,
 *                  keyCertSign; subject CN = device id
 *         └ Alias (signed by the DeviceID key by secmon at start) CA:FALSE,
 *                  digitalSignature; carries TcbInfo (tcbinfo.h)
 *
 * so `openssl verify -CAfile ca.pem -untrusted deviceid.pem alias.pem`
 * validates the chain. Validity: from issue to 9999-12-31 (RFC 5280's "no
 * well-defined expiration"), as the keys live as long as the device. */

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rampart/error.h"
#include "rot/rot.h"

/* Signs a SHA-256 digest; the signature is ES256 r||s. The DeviceID key
 * signs the Alias certificate through this, without leaving its backend. */
typedef int (*rp_digest_signer)(void *ctx, const uint8_t digest[RP_ROT_DIGEST_LEN],
                                uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err);

/* Writes DIR/ca.pem (0644) and DIR/ca.key (PKCS#8, 0600). -EEXIST if either exists. */
int rp_cert_ca_create(const char *dir, const char *subject_cn, rp_error *err);

int rp_cert_deviceid_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *deviceid_pub,
                           X509 **ret, rp_error *err);

int rp_cert_alias_issue(X509 *deviceid_cert, EVP_PKEY *alias_pub,
                        const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                        const char *model, const char *version,
                        rp_digest_signer signer, void *signer_ctx,
                        X509 **ret, rp_error *err);

/* device id: lowercase hex SHA-256 of the key's DER SubjectPublicKeyInfo. */
#define RP_DEVICE_ID_HEX_LEN 64
int rp_device_id(EVP_PKEY *pub, char ret_hex[RP_DEVICE_ID_HEX_LEN + 1]);
