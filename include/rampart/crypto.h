/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Signing keys and digests, on OpenSSL 3.
 *
 * Keys are ES256 (ECDSA on P-256 with SHA-256) or Ed25519. Private keys are
 * stored as unencrypted PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), public
 * keys as SubjectPublicKeyInfo PEM ("-----BEGIN PUBLIC KEY-----"). Private
 * key material is wiped when freed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

typedef enum rp_key_type {
        RP_KEY_ES256 = 1,
        RP_KEY_ED25519 = 2,
} rp_key_type;

/* COSE algorithm identifiers (IANA COSE Algorithms registry). */
#define RP_COSE_ALG_ES256 (-7)
#define RP_COSE_ALG_EDDSA (-8)

/* The algorithm's name in the COSE registry: "ES256", "EdDSA", or "unknown". */
const char *rp_cose_alg_name(int alg);

#define RP_SHA256_LEN 32
#define RP_SIG_MAX 64        /* ES256 r||s and Ed25519 are both 64 bytes */
#define RP_KEY_ID_LEN 32     /* SHA-256 of the DER SubjectPublicKeyInfo */

typedef struct rp_key rp_key;

int rp_key_generate(rp_key_type type, rp_key **ret, rp_error *err);

/* Loads a PKCS#8 PEM private key file. Errors name the file and say what was
 * found instead (a public key, a certificate, an unsupported curve...). */
int rp_key_load_private(const char *path, rp_key **ret, rp_error *err);
/* Loads a public key PEM file; a private key file is accepted too and only
 * its public half is kept. */
int rp_key_load_public(const char *path, rp_key **ret, rp_error *err);

/* Same, from memory (PEM text; len excludes any trailing NUL). */
int rp_key_from_pem(const void *pem, size_t len, bool want_private, rp_key **ret, rp_error *err);

/* Write the key atomically: private as PKCS#8 PEM with mode 0600, public as
 * SPKI PEM with mode 0644. */
int rp_key_save_private(const rp_key *key, const char *path, rp_error *err);
int rp_key_save_public(const rp_key *key, const char *path, rp_error *err);

rp_key_type rp_key_get_type(const rp_key *key);
bool rp_key_is_private(const rp_key *key);
/* "ES256" or "Ed25519". */
const char *rp_key_type_name(rp_key_type type);
/* Parses "es256", "ed25519" (any case); -EINVAL otherwise. */
int rp_key_type_from_name(const char *name, rp_key_type *ret);
int rp_key_cose_alg(const rp_key *key);

/* SHA-256 of the DER SubjectPublicKeyInfo: a stable key identifier
 * (computed when the key is made or loaded, so this cannot fail). */
void rp_key_id(const rp_key *key, uint8_t ret_id[RP_KEY_ID_LEN]);

/* Signs msg: ES256 gives the 64-byte r||s form COSE uses (not DER), Ed25519
 * gives the 64-byte signature. Needs a private key. */
int rp_key_sign(const rp_key *key, const void *msg, size_t len,
                uint8_t ret_sig[RP_SIG_MAX], size_t *ret_sig_len, rp_error *err);
/* 0 if sig is a valid signature of msg, -EKEYREJECTED if not (for ES256,
 * also when s is above (n - 1) / 2: only the low-S form that rp_key_sign
 * makes is accepted), -EINVAL if sig is not RP_SIG_MAX bytes. */
int rp_key_verify(const rp_key *key, const void *msg, size_t len,
                  const uint8_t *sig, size_t sig_len, rp_error *err);

void rp_key_free(rp_key *key);
static inline void rp_key_freep(rp_key **k) {
        rp_key_free(*k);
}

/* Streaming SHA-256. */
typedef struct rp_sha256 rp_sha256;
int rp_sha256_new(rp_sha256 **ret);
int rp_sha256_update(rp_sha256 *h, const void *data, size_t len);
/* Writes the digest; h may not be updated afterwards. */
int rp_sha256_final(rp_sha256 *h, uint8_t ret_digest[RP_SHA256_LEN]);
void rp_sha256_free(rp_sha256 *h);
static inline void rp_sha256_freep(rp_sha256 **h) {
        rp_sha256_free(*h);
}
/* One-shot digest of a buffer. C does not allow a function and a typedef to
 * share the name rp_sha256, so the function is rp_sha256_digest and the
 * function-like macro keeps rp_sha256(data, len, digest) working (it expands
 * only where a '(' follows, never for the type). */
int rp_sha256_digest(const void *data, size_t len, uint8_t ret_digest[RP_SHA256_LEN]);
#define rp_sha256(data, len, ret_digest) rp_sha256_digest((data), (len), (ret_digest))

/* Constant-time comparison; true if equal. */
bool rp_memeq_consttime(const void *a, const void *b, size_t len);

#pragma GCC visibility pop
