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
 * 3: content type (if given), 4: kid} with an empty unprotected map, and accept
 * any well-formed header maps from others as long as alg is ES256 or EdDSA,
 * no header label is duplicated and no critical header (2) is unknown. */

#include <stddef.h>
#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

/* No COSE_Sign1 we accept is larger than this (the item only: an image
 * package's image bytes follow it and are not counted). */
#define RP_COSE_MAX_SIZE (1024 * 1024)

typedef struct rp_cose_sign1 {
        int alg;                      /* from the protected header */
        char *content_type;           /* protected header 3 as text, or NULL */
        uint8_t *kid;                 /* header 4, or NULL */
        size_t kid_len;
        size_t unprotected_count;     /* labels in the unprotected header (not signed) */
        uint8_t *payload;             /* always non-NULL (may be zero-length) */
        size_t payload_len;

        /* Exact bytes, as received, needed to check the signature. */
        uint8_t *protected_raw;
        size_t protected_len;
        uint8_t *signature;
        size_t signature_len;
} rp_cose_sign1;

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
 * items over RP_COSE_MAX_SIZE, unsupported alg, duplicate or unknown
 * critical headers, a detached (nil) payload. */
int rp_cose_sign1_decode(const uint8_t *buf, size_t len, rp_cose_sign1 **ret,
                         size_t *ret_consumed, rp_error *err);

/* Verifies msg's signature with pub (public or private key). The key's type
 * must match msg->alg. 0, or -EKEYREJECTED with a message. */
int rp_cose_sign1_verify(const rp_cose_sign1 *msg, const rp_key *pub,
                         const void *external_aad, size_t aad_len, rp_error *err);

void rp_cose_sign1_free(rp_cose_sign1 *msg);
static inline void rp_cose_sign1_freep(rp_cose_sign1 **m) {
        rp_cose_sign1_free(*m);
}

#pragma GCC visibility pop
