/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* COSE_Sign1 (RFC 9052 section 4.2), tagged (CBOR tag 18).
 *
 *   COSE_Sign1 = #6.18([ protected: bstr .cbor header_map,
 *                        unprotected: header_map,
 *                        payload: bstr,
 *                        signature: bstr ])
 *
 * The signature covers Sig_structure = ["Signature1", protected, external_aad,
 * payload] in deterministic CBOR. We write protected headers {1: alg,
 * 3: content type (if given), 4: kid} with an empty unprotected map, and
 * accept only messages in that profile's one byte form (docs/formats.md,
 * COSE_Sign1): deterministic CBOR throughout, protected labels 1-4 and 33
 * (x5chain, the array form only: attestation evidence carries its
 * certificate chain there) only, an empty unprotected header, alg ES256 or
 * EdDSA, a 64-byte signature. */

#include <stddef.h>
#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

/* No COSE_Sign1 we accept is larger than this (the item only: an image
 * package's image bytes follow it and are not counted). */
#define RP_COSE_MAX_SIZE (1024 * 1024)

/* A decoded COSE_Sign1, read-only: only rp_cose_sign1_decode makes one, so
 * every one in hand passed its checks. */
typedef struct rp_cose_sign1 rp_cose_sign1;

/* RP_COSE_ALG_ES256 or RP_COSE_ALG_EDDSA, from the protected header. */
int rp_cose_sign1_alg(const rp_cose_sign1 *msg);
/* Protected header 3 as text (a content-format number as its decimal
 * text), or NULL if absent. */
const char *rp_cose_sign1_content_type(const rp_cose_sign1 *msg);
/* Protected header 4, or NULL (and *ret_len 0) if absent. A hint for
 * choosing a key, not checked against the verifying key. */
const uint8_t *rp_cose_sign1_kid(const rp_cose_sign1 *msg, size_t *ret_len);
/* The payload: never NULL, may be zero-length. */
const uint8_t *rp_cose_sign1_payload(const rp_cose_sign1 *msg, size_t *ret_len);

/* Signs payload with key and returns the encoded, tagged COSE_Sign1 in a
 * malloc'd buffer. content_type (may be NULL) goes into protected header 3;
 * kid is rp_key_id(key). external_aad may be NULL/0. */
int rp_cose_sign1_create(const rp_key *key, const char *content_type,
                         const void *payload, size_t payload_len,
                         const void *external_aad, size_t aad_len,
                         uint8_t **ret_buf, size_t *ret_len, rp_error *err);

/* Decodes the COSE_Sign1 at the start of buf (len bytes available; bytes
 * after the item are left alone and their count is not an error). Checks
 * structure only, not the signature. *ret_consumed gets the item's length.
 * Refuses: a missing tag 18, indefinite lengths, nesting deeper than 16,
 * items over RP_COSE_MAX_SIZE, unsupported alg, duplicate, unknown or
 * unsorted protected labels, an x5chain (33) that is not an array of 2 to
 * 4 byte strings of 1 to 4096 bytes, unknown critical headers, a non-empty
 * unprotected header, any head not in its shortest form, a detached (nil)
 * payload, a signature that is not 64 bytes. */
int rp_cose_sign1_decode(const uint8_t *buf, size_t len, rp_cose_sign1 **ret,
                         size_t *ret_consumed, rp_error *err);

/* Verifies msg's signature with pub (public or private key). The key's type
 * must match the message's alg. 0, or -EKEYREJECTED with a message. */
int rp_cose_sign1_verify(const rp_cose_sign1 *msg, const rp_key *pub,
                         const void *external_aad, size_t aad_len, rp_error *err);

void rp_cose_sign1_free(rp_cose_sign1 *msg);
static inline void rp_cose_sign1_freep(rp_cose_sign1 **m) {
        rp_cose_sign1_free(*m);
}

#pragma GCC visibility pop
