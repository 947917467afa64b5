/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* COSE_Sign1 for attestation evidence (lib/rot): messages signed through a
 * callback by a key that never leaves its root of trust, carrying their
 * certificate chain in protected header x5chain (33, RFC 9360).
 *
 * The protected header of such a message is, in deterministic CBOR,
 *
 *     { 1: -7 (ES256), 3: content type (if given), 33: [ + bstr ] }
 *
 * x5chain is always the array form, leaf first, with 2 to
 * RP_COSE_X5CHAIN_MAX certificates of 1 to RP_COSE_X5CERT_MAX bytes each.
 * rp_cose_sign1_decode accepts label 33 only in that form (a lone bstr,
 * one certificate, is refused: rampart's chains always hold the signer's
 * certificate and its issuer's). docs/formats.md ("COSE_Sign1") has the
 * normative text. */

#include <stddef.h>
#include <stdint.h>

#include "rampart/cose.h"
#include "rampart/error.h"

#define RP_COSE_X5CHAIN_MIN 2
#define RP_COSE_X5CHAIN_MAX 4
#define RP_COSE_X5CERT_MAX 4096

/* Signs a SHA-256 digest with ES256 and writes r||s (64 bytes, low S).
 * The same shape as lib/rot's rp_digest_signer (core does not include rot
 * headers), so a root-of-trust signer is passed as it is. */
typedef int (*rp_cose_digest_signer)(void *ctx, const uint8_t digest[RP_SHA256_LEN],
                                     uint8_t ret_sig[RP_SIG_MAX], rp_error *err);

/* A DER certificate (bytes borrowed). */
typedef struct rp_cose_cert {
        const uint8_t *der;
        size_t len;
} rp_cose_cert;

/* Signs payload as an ES256 COSE_Sign1 through signer(signer_ctx, ...)
 * and returns the tagged message, malloc'd. content_type as for
 * rp_cose_sign1_create (may be NULL); chain: n certificates (leaf first)
 * for x5chain, n in RP_COSE_X5CHAIN_MIN..MAX. No kid: the leaf certificate
 * names the key. The signature is not checked here; the verifier refuses
 * a high-S one. */
int rp_cose_sign1_create_x5chain(rp_cose_digest_signer signer, void *signer_ctx, const char *content_type,
                                 const rp_cose_cert *chain, size_t n, const void *payload, size_t payload_len,
                                 uint8_t **ret_buf, size_t *ret_len, rp_error *err);

/* The decoded x5chain: the number of certificates (0 if the message has
 * none) and, through *ret (if non-NULL), the array of them, leaf first,
 * owned by msg. */
size_t rp_cose_sign1_x5chain(const rp_cose_sign1 *msg, const rp_cose_cert **ret);
