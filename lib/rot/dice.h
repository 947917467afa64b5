/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* DICE derivation for backends whose secret is a byte string (soft):
 *
 *   DeviceID private key = derive_p256(UDS, "rampart DeviceID")
 *   CDI                  = HMAC-SHA256(UDS, measurement)
 *   Alias private key    = derive_p256(CDI, "rampart Alias")
 *   seal key             = HKDF-SHA256(CDI, info "rampart seal"), 32 bytes
 *
 * derive_p256(secret, label): for c = 0, 1, ...: d = HKDF-SHA256(ikm secret,
 * salt "rampart-dice-v1", info label || byte c, 32 bytes) as a big-endian
 * integer; the first d with 1 <= d < n (the P-256 order) is the key. Exact
 * bytes in docs/formats.md ("DICE derivation"); unit/dice checks fixed
 * vectors. */

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "core/crypto_internal.h"
#include "rampart/error.h"
#include "rot/rot.h"

#define RP_DICE_SECRET_LEN 32

int rp_dice_derive_p256(const uint8_t secret[RP_DICE_SECRET_LEN], const char *label,
                        EVP_PKEY **ret, rp_error *err);
int rp_dice_cdi(const uint8_t uds[RP_DICE_SECRET_LEN],
                const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                uint8_t ret_cdi[RP_DICE_SECRET_LEN]);
int rp_dice_seal_key(const uint8_t cdi[RP_DICE_SECRET_LEN], uint8_t ret_key[32]);

/* ES256 over a digest with an in-memory key: r||s, low-S. Both backends'
 * signatures pass through rp_ecdsa_sig_to_raw (core/crypto_internal.h,
 * included here) for the same form. */
int rp_dice_sign_digest(EVP_PKEY *key, const uint8_t digest[RP_ROT_DIGEST_LEN],
                        uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err);
