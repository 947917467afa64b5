/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Making attestation evidence (rampart-secmon's side). The verifier is the
 * public API in include/rampart/evidence.h; the token's profile is written
 * in docs/formats.md ("Attestation evidence").
 *
 * Evidence is an Entity Attestation Token (RFC 9711): a CWT whose claims are
 * signed as a COSE_Sign1 by the Alias key, with the certificate chain
 * [Alias, DeviceID] (DER, leaf first; not the CA) in protected header
 * x5chain (33, RFC 9360). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"
#include "rampart/evidence.h"   /* RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX and the other limits */
#include "rot/cert.h"

typedef struct rp_evidence_input {
        const uint8_t *nonce;          /* eat_nonce, RP_EVIDENCE_NONCE_MIN..MAX bytes */
        size_t nonce_len;
        const char *device_id;         /* 64 hex digits; ueid = 0x01 || these 32 bytes */
        const uint8_t *components;     /* measure.h's CBOR bytes (measurements claim) */
        size_t components_len;
        const char *sw_name;           /* swname, swversion */
        const char *sw_version;
        int dbgstat;                   /* RFC 9711 dbgstat, 0..4 */
        int64_t iat;                   /* seconds since the epoch */
        const char *rot_backend;       /* "soft", "tpm2": rampart's private claim */
        bool development;              /* the backend keeps its secret in a file */
        const uint8_t *alias_der;      /* the chain for x5chain */
        size_t alias_der_len;
        const uint8_t *deviceid_der;
        size_t deviceid_der_len;
} rp_evidence_input;

/* Encodes the claims, signs them through signer (the Alias key) and returns
 * the tagged COSE_Sign1, malloc'd. */
int rp_evidence_create(const rp_evidence_input *in, rp_digest_signer signer, void *signer_ctx,
                       uint8_t **ret, size_t *ret_len, rp_error *err);
