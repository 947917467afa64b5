/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Verifying attestation evidence: the Entity Attestation Token (RFC 9711)
 * a device's rampart-secmon signs with its Alias key, carrying the chain
 * [Alias, DeviceID] in x5chain. The profile (which claims, which types) is
 * written in docs/formats.md, "Attestation evidence".
 *
 * rp_evidence_verify makes these checks, in this order, and stops at the
 * first that fails, with a message naming it ("evidence: ..."):
 *   1. structure: at most RP_EVIDENCE_MAX_SIZE bytes, one COSE_Sign1 in
 *      rampart's profile and nothing after it, ES256, content type
 *      "application/eat+cwt";
 *   2. x5chain holds exactly [Alias, DeviceID], both DER certificates;
 *   3. the chain verifies to one of the policy's trusted CA certificates at
 *      policy->now (-EKEYREJECTED);
 *   4. the leaf is an Alias certificate: not a CA, with a TcbInfo extension
 *      (a DeviceID certificate presented as the leaf is refused), and the
 *      chain runs leaf -> the DeviceID certificate in x5chain -> trusted CA;
 *   5. the COSE signature verifies with the leaf's public key;
 *   6. the claims: a deterministic CBOR map, every claim of the profile
 *      present once with its exact type and size (others are ignored);
 *   7. eat_nonce equals policy->nonce (compared in constant time);
 *   8. ueid is 0x01 || SHA-256 of the DeviceID certificate's public key
 *      (the device id), so a device cannot speak for another;
 *   9. SHA-256 of the measurements' components equals the TcbInfo FWID the
 *      DeviceID key certified; the backend claim equals the TcbInfo model;
 *  10. a development backend (soft) only if policy->allow_development.
 * Return codes: -EFBIG over a limit; -EINVAL, -EBADMSG malformed;
 * -EOPNOTSUPP another algorithm, content type or profile; -EKEYREJECTED a
 * check of chain, signature, nonce, identity, measurement or policy that
 * failed; -ENOMEM, -EIO when a check could not be made. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

#define RP_EVIDENCE_MAX_SIZE (16 * 1024)   /* the whole COSE_Sign1 */
#define RP_EVIDENCE_NONCE_MIN 8            /* eat_nonce, bytes */
#define RP_EVIDENCE_NONCE_MAX 64
#define RP_EVIDENCE_TEXT_MAX 64            /* swname, swversion, component name and version, bytes */
#define RP_EVIDENCE_BACKEND_MAX 16         /* the backend's name, bytes */
#define RP_EVIDENCE_MAX_COMPONENTS 16
#define RP_EVIDENCE_DIGEST_LEN 32          /* SHA-256 */
#define RP_EVIDENCE_DEVICE_ID_LEN 64       /* hex digits */
#define RP_EVIDENCE_PUBKEY_MAX 128         /* DER SubjectPublicKeyInfo of a P-256 key: 91 bytes */
#define RP_EVIDENCE_PROFILE "tag:rampart.dev,2026:eat-v1"
#define RP_EVIDENCE_CONTENT_TYPE "application/eat+cwt"

typedef struct rp_evidence_policy {
        /* Trusted manufacturer CA certificates, PEM (one or more
         * "CERTIFICATE" blocks; other blocks are ignored). Required. */
        const char *ca_pem;
        size_t ca_pem_len;
        /* The nonce the verifier handed out for this evidence (8 to 64
         * bytes). Required: evidence is only ever checked for freshness. */
        const uint8_t *nonce;
        size_t nonce_len;
        /* Accept evidence from a development backend (soft: the device
         * secret is a file). */
        bool allow_development;
        /* The time at which certificates must be valid, in seconds since
         * the epoch; 0 means the current time. */
        int64_t now;
} rp_evidence_policy;

/* One measured component (measure.h on the device). */
typedef struct rp_evidence_component {
        char name[RP_EVIDENCE_TEXT_MAX + 1];
        char version[RP_EVIDENCE_TEXT_MAX + 1];       /* may be "" */
        uint8_t digest[RP_EVIDENCE_DIGEST_LEN];       /* SHA-256 of the component's bytes */
} rp_evidence_component;

/* What verified evidence says. Texts are NUL-terminated, printable UTF-8
 * (no control characters), as the profile requires. */
typedef struct rp_evidence_claims {
        char device_id[RP_EVIDENCE_DEVICE_ID_LEN + 1];  /* lowercase hex, from ueid (= the DeviceID key's) */
        uint8_t nonce[RP_EVIDENCE_NONCE_MAX];
        size_t nonce_len;
        int64_t iat;                                  /* seconds since the epoch, the device's clock */
        char swname[RP_EVIDENCE_TEXT_MAX + 1];
        char swversion[RP_EVIDENCE_TEXT_MAX + 1];
        int dbgstat;                                  /* RFC 9711: 0 enabled ... 4 disabled fully and permanently */
        char backend[RP_EVIDENCE_BACKEND_MAX + 1];    /* "soft", "tpm2" */
        bool development;
        /* SHA-256 of the components list: the Alias certificate's FWID. */
        uint8_t measurement[RP_EVIDENCE_DIGEST_LEN];
        size_t n_components;
        rp_evidence_component components[RP_EVIDENCE_MAX_COMPONENTS];
        /* The Alias key (DER SubjectPublicKeyInfo): the key a service
         * certifies for this device once it trusts the evidence. */
        uint8_t alias_public_key[RP_EVIDENCE_PUBKEY_MAX];
        size_t alias_public_key_len;
} rp_evidence_claims;

/* Verifies evidence (len bytes at buf) under policy; on success *ret gets
 * the claims (free with rp_evidence_claims_free). */
int rp_evidence_verify(const uint8_t *buf, size_t len, const rp_evidence_policy *policy,
                       rp_evidence_claims **ret, rp_error *err);

void rp_evidence_claims_free(rp_evidence_claims *claims);
static inline void rp_evidence_claims_freep(rp_evidence_claims **c) {
        rp_evidence_claims_free(*c);
}

/* The dbgstat value's RFC 9711 name ("disabled-since-boot"), or "unknown". */
const char *rp_evidence_dbgstat_name(int dbgstat);

#pragma GCC visibility pop
