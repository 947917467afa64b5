/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by package.c (reading), package_stream.c (verifying as the bytes
 * arrive) and pack.c (writing): the opened package and the checks every
 * reader makes, each written once. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "package/erofs.h"
#include "rampart/cose.h"
#include "rampart/crypto.h"
#include "rampart/error.h"
#include "rampart/package.h"

struct rp_package {
        rp_package_manifest *manifest;
        rp_cose_sign1 *cose;
        int fd;                       /* the package file, or -1 */
        const uint8_t *buf;           /* the package in memory (borrowed), or NULL */
        uint64_t size;                /* bytes in the file or buffer */
        uint64_t image_offset;        /* first byte after the COSE item */
        bool signature_verified;      /* the manifest is signed by a key the caller gave */
        bool image_verified;          /* ... and the image bytes matched it */
};

/* The first bytes of an image the erofs check needs. */
#define RP_PACKAGE_IMAGE_HEAD (RP_EROFS_SUPER_OFFSET + 4)

/* Decodes the COSE envelope at the start of window (the first window_len
 * of the package's p->size bytes, at most RP_COSE_MAX_SIZE) and checks its
 * content type; sets p->cose and p->image_offset. Nothing is verified and
 * the manifest is not parsed. Refusals: an empty or truncated package
 * (-EBADMSG), an item over the limit (-EFBIG), a malformed one (-EINVAL),
 * another content type (-EOPNOTSUPP). */
int rp_package_decode_envelope(rp_package *p, const uint8_t *window, size_t window_len, rp_error *err);

/* Checks p's signature with keys: first the key whose id is the package's
 * kid, then each other key. 0 and *ret_index (if non-NULL) the key that
 * verified it, and p's signature counts as verified; -EKEYREJECTED if none
 * does (with one key, the message says why that key failed; with several,
 * it names the package's key id); another code if a check could not be
 * made. */
int rp_package_check_signature(rp_package *p, const rp_key *const *keys, size_t n_keys, size_t *ret_index,
                               rp_error *err);

/* Parses the manifest in p's COSE payload into p->manifest (strictly, as
 * rp_package_manifest_parse). */
int rp_package_parse_manifest(rp_package *p, rp_error *err);

/* The image's size: the p->size - p->image_offset bytes after the item must
 * be the manifest's image-size (-EBADMSG: truncated or padded). */
int rp_package_check_image_size(const rp_package *p, rp_error *err);

/* The image's bytes, given their SHA-256 (digest) and first bytes (head):
 * the manifest's digest (-EKEYREJECTED), and erofs for app and rt-app
 * images (-EINVAL). Marks the image verified. Call after the size check. */
int rp_package_check_image(rp_package *p, const uint8_t digest[RP_SHA256_LEN], const uint8_t *head, size_t head_len,
                           rp_error *err);

/* Compares the digest the image bytes hashed to (got) with the manifest's
 * image-sha256 (want), in constant time. A mismatch is -EKEYREJECTED with a
 * message that starts "image digest mismatch: ", then why (the reader says
 * the bytes were modified, the writer that they changed while being
 * packed), then both digests: one code and one wording whichever side
 * finds it. */
int rp_package_check_digest(const uint8_t want[RP_SHA256_LEN], const uint8_t got[RP_SHA256_LEN],
                            const char *why, rp_error *err);
