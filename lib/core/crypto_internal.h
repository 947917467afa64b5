/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Keys from OpenSSL objects, for in-tree code that holds an EVP_PKEY (a
 * certificate's public key) and wants to check a signature with lib/core's
 * rules (rp_key_verify, rp_cose_sign1_verify). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

/* A public rp_key holding a copy of pkey's public half (pkey itself is left
 * to the caller). -EOPNOTSUPP, naming what it is, for a key that is not
 * ES256 (P-256) or Ed25519; -ENOMEM if the copy could not be made. */
int rp_key_from_evp_public(EVP_PKEY *pkey, rp_key **ret, rp_error *err);

/* A public rp_key for cert's public key, as rp_key_from_evp_public makes
 * one (the same checks and codes), without the copy: a certificate's key
 * has no private half, so the rp_key holds a reference to it (cert may be
 * freed first). Its id is SHA-256 of the certificate's
 * SubjectPublicKeyInfo bytes. */
int rp_key_from_x509(X509 *cert, rp_key **ret, rp_error *err);

/* The code for an OpenSSL call that failed: -ENOMEM when OpenSSL ran out of
 * memory (so that a caller retries rather than calling its input bad),
 * otherwise fallback. Empties the thread's error queue. */
int rp_openssl_failure(int fallback);

/* True if the 32-byte big-endian v is in [1, n-1], n the P-256 order. */
bool rp_p256_scalar_in_range(const uint8_t v[32]);

/* ES256 signature forms. DER ECDSA-Sig-Value (at most 80 bytes, nothing
 * after it, 0 < r, s < n) -> r||s with s made low (n - s when s > (n-1)/2):
 * -EINVAL for what is not one DER signature, -ERANGE for r or s out of
 * range. And r||s -> DER (malloc'd), for TLS and X.509, which want it. */
int rp_ecdsa_sig_to_raw(const uint8_t *der, size_t len, uint8_t ret_sig[RP_SIG_MAX]);
int rp_ecdsa_sig_to_der(const uint8_t sig[RP_SIG_MAX], uint8_t **ret_der, size_t *ret_len);
