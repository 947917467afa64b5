/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Verifying an image package as its bytes arrive, in order, without holding
 * the image in memory: what rampart-server does with an upload before it
 * keeps it as an image. The checks are rp_package_open_verified's (one set
 * of functions, package_internal.h): the COSE envelope, then the signature
 * with one of the caller's keys before the signed manifest is parsed, then
 * the manifest, then the image's size, digest and erofs magic. Besides
 * the verdict it gives the SHA-256 of the whole file (the package's blob
 * name) and which key verified it.
 *
 * Memory: at most the COSE size limit (RP_COSE_MAX_SIZE) is buffered until
 * the envelope is complete; the image bytes are only hashed. */

#include <stddef.h>
#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/error.h"
#include "rampart/package.h"

typedef struct rp_package_stream rp_package_stream;

/* Which check refused the package, so a caller can answer each its own
 * way. Codes alone cannot tell them apart: -EBADMSG is a truncated envelope
 * and a truncated image, -EKEYREJECTED a bad signature and a bad image
 * digest (as rp_package_verify reports them). */
typedef enum rp_package_check {
        RP_PACKAGE_CHECK_NONE,          /* nothing refused (or the failure was not a verdict: -ENOMEM) */
        RP_PACKAGE_CHECK_FORMAT,        /* not an image package, or its manifest is malformed, too large,
                                         * of another content type or format version */
        RP_PACKAGE_CHECK_SIGNATURE,     /* no key given verifies the signature */
        RP_PACKAGE_CHECK_IMAGE,         /* the image bytes do not match the signed manifest: size
                                         * (truncated, padded), digest, not erofs for an app */
} rp_package_check;

/* What a verified package is. */
typedef struct rp_package_stream_result {
        rp_package_manifest *manifest;  /* the signed manifest; the caller frees it */
        size_t key_index;               /* which of the keys verified the signature */
        uint8_t sha256[RP_SHA256_LEN];  /* of all the bytes fed: the package file */
        uint64_t size;                  /* how many bytes were fed */
} rp_package_stream_result;

int rp_package_stream_new(rp_package_stream **ret, rp_error *err);

/* The next len bytes of the package. A refusal that needs no more bytes
 * (an envelope that cannot be a package; more bytes than any package has)
 * may come here already; after any failure the stream only says it again. */
int rp_package_stream_feed(rp_package_stream *s, const void *buf, size_t len, rp_error *err);

/* All bytes are in: verifies with keys (n_keys may be 0: then the
 * signature is refused). The key whose id is the package's kid is tried
 * first, then each other key. On success *ret is filled in; on failure
 * rp_package_stream_refused() says which check refused it. Call once. */
int rp_package_stream_finish(rp_package_stream *s, const rp_key *const *keys, size_t n_keys,
                             rp_package_stream_result *ret, rp_error *err);

/* The check that refused the package (RP_PACKAGE_CHECK_NONE while none
 * has). */
rp_package_check rp_package_stream_refused(const rp_package_stream *s);

/* The package's key id claim (its kid) as lowercase hex once the envelope
 * is decoded, else "": for messages (which key to register). */
const char *rp_package_stream_kid(const rp_package_stream *s);

void rp_package_stream_free(rp_package_stream *s);
static inline void rp_package_stream_freep(rp_package_stream **s) {
        rp_package_stream_free(*s);
}

/* Frees what a result holds (safe on a zeroed one). */
void rp_package_stream_result_done(rp_package_stream_result *r);
