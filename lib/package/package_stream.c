/* SPDX-License-Identifier: Apache-2.0 */
/* Verifying an image package as its bytes arrive (package_stream.h). The
 * checks themselves are package.c's (package_internal.h); this file only
 * feeds them: it buffers the envelope until it is complete, hashes the
 * rest, and runs the checks in rp_package_open_verified's order. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "package/package_internal.h"
#include "package/package_stream.h"

/* The same scan limits package.c gives rp_cbor_check for the envelope
 * (only a success of this early look is acted on: every failure is left
 * to rp_package_decode_envelope on the final window). */
#define PEEK_MAX_DEPTH 16
#define PEEK_MAX_ITEMS 4096
/* The first early look at the envelope, in bytes; each next one after the
 * window has doubled, so looking costs O(window) in all. */
#define PEEK_FIRST 512
/* No package is larger. */
#define STREAM_MAX_SIZE ((uint64_t) RP_COSE_MAX_SIZE + RP_PACKAGE_IMAGE_MAX_SIZE)

struct rp_package_stream {
        rp_package pkg;                 /* fd -1, buf NULL: only the checks use it */
        uint8_t *window;                /* the first bytes, until the envelope is decoded */
        size_t window_len;
        size_t next_peek;
        bool decoded;                   /* pkg.cose and pkg.image_offset are set */
        bool finished;
        uint64_t total;                 /* bytes fed */
        rp_sha256 *file_hash;           /* all bytes */
        rp_sha256 *image_hash;          /* the bytes after the envelope */
        uint8_t head[RP_PACKAGE_IMAGE_HEAD];
        size_t head_len;
        rp_package_check refused;
        int failure;                    /* the first failure, said again */
        rp_error failure_err;
        char kid[2 * RP_KEY_ID_LEN + 1];
};

int rp_package_stream_new(rp_package_stream **ret, rp_error *err) {
        _cleanup_(rp_package_stream_freep) rp_package_stream *s = calloc(1, sizeof *s);
        if (!s)
                return rp_error_set(err, -ENOMEM, "out of memory");
        s->pkg.fd = -1;
        s->next_peek = PEEK_FIRST;
        s->window = malloc(RP_COSE_MAX_SIZE);
        if (!s->window || rp_sha256_new(&s->file_hash) < 0 || rp_sha256_new(&s->image_hash) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = TAKE_PTR(s);
        return 0;
}

void rp_package_stream_free(rp_package_stream *s) {
        if (!s)
                return;
        rp_package_manifest_free(s->pkg.manifest);
        rp_cose_sign1_free(s->pkg.cose);
        free(s->window);
        rp_sha256_free(s->file_hash);
        rp_sha256_free(s->image_hash);
        free(s);
}

void rp_package_stream_result_done(rp_package_stream_result *r) {
        rp_package_manifest_free(r->manifest);
        r->manifest = NULL;
}

rp_package_check rp_package_stream_refused(const rp_package_stream *s) {
        return s->refused;
}

const char *rp_package_stream_kid(const rp_package_stream *s) {
        return s->kid;
}

/* Records the first failure r (err's message) and which check it was
 * (none for a failure that is not a verdict on the bytes). */
static int failed(rp_package_stream *s, int r, rp_package_check check, rp_error *err) {
        if (s->failure == 0) {
                s->failure = r;
                s->refused = r == -ENOMEM || r == -EIO ? RP_PACKAGE_CHECK_NONE : check;
                if (check == RP_PACKAGE_CHECK_SIGNATURE && r != -EKEYREJECTED)
                        s->refused = RP_PACKAGE_CHECK_NONE;     /* the check could not be made */
                snprintf(s->failure_err.message, sizeof s->failure_err.message, "%s",
                         rp_error_message(err, r));
                s->failure_err.code = r;
        }
        return r;
}

static int image_bytes(rp_package_stream *s, const uint8_t *buf, size_t len) {
        if (s->head_len < sizeof s->head) {
                size_t k = sizeof s->head - s->head_len < len ? sizeof s->head - s->head_len : len;
                memcpy(s->head + s->head_len, buf, k);
                s->head_len += k;
        }
        return rp_sha256_update(s->image_hash, buf, len);
}

/* Decodes the envelope in the window (the package's first bytes; its size
 * as far as known in pkg.size), then hashes what follows it as image. */
static int decode(rp_package_stream *s, rp_error *err) {
        int r = rp_package_decode_envelope(&s->pkg, s->window, s->window_len, err);
        if (r < 0)
                return failed(s, r, RP_PACKAGE_CHECK_FORMAT, err);
        s->decoded = true;
        size_t kid_len;
        const uint8_t *kid = rp_cose_sign1_kid(s->pkg.cose, &kid_len);
        if (kid && kid_len == RP_KEY_ID_LEN)
                rp_hex_encode_buf(kid, kid_len, s->kid);
        size_t off = (size_t) s->pkg.image_offset;
        r = image_bytes(s, s->window + off, s->window_len - off);
        free(s->window);
        s->window = NULL;
        if (r < 0)
                return failed(s, rp_error_set(err, r, "SHA-256 failed"), RP_PACKAGE_CHECK_NONE, err);
        return 0;
}

int rp_package_stream_feed(rp_package_stream *s, const void *data, size_t len, rp_error *err) {
        const uint8_t *buf = data;
        if (s->failure < 0)
                return rp_error_set(err, s->failure, "%s", s->failure_err.message);
        if (s->finished)
                return rp_error_set(err, -EINVAL, "the package stream was finished already");
        if (len > STREAM_MAX_SIZE - s->total)
                return failed(s, rp_error_set(err, -EFBIG, "not an image package: more than %ju bytes (the "
                                              "largest signed manifest and image)", (uintmax_t) STREAM_MAX_SIZE),
                              RP_PACKAGE_CHECK_FORMAT, err);
        if (rp_sha256_update(s->file_hash, buf, len) < 0)
                return failed(s, rp_error_set(err, -ENOMEM, "SHA-256 failed"), RP_PACKAGE_CHECK_NONE, err);
        s->total += len;

        if (!s->decoded) {
                size_t k = RP_COSE_MAX_SIZE - s->window_len < len ? RP_COSE_MAX_SIZE - s->window_len : len;
                memcpy(s->window + s->window_len, buf, k);
                s->window_len += k;
                buf += k;
                len -= k;
                if (len > 0) {
                        /* The window is full and more follows: whatever it
                         * holds now is all the envelope may be. */
                        s->pkg.size = s->total;
                        int r = decode(s, err);
                        if (r < 0)
                                return r;
                } else if (s->window_len >= s->next_peek) {
                        /* A complete item decodes now as it would from the
                         * final window; anything else waits for that. */
                        s->next_peek = 2 * s->window_len;
                        size_t item_len;
                        if (rp_cbor_check(s->window, s->window_len, PEEK_MAX_DEPTH, PEEK_MAX_ITEMS, &item_len,
                                          NULL) == 0) {
                                s->pkg.size = s->total;
                                int r = decode(s, err);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        if (s->decoded && len > 0 && image_bytes(s, buf, len) < 0)
                return failed(s, rp_error_set(err, -ENOMEM, "SHA-256 failed"), RP_PACKAGE_CHECK_NONE, err);
        return 0;
}

int rp_package_stream_finish(rp_package_stream *s, const rp_key *const *keys, size_t n_keys,
                             rp_package_stream_result *ret, rp_error *err) {
        if (s->failure < 0)
                return rp_error_set(err, s->failure, "%s", s->failure_err.message);
        if (s->finished)
                return rp_error_set(err, -EINVAL, "the package stream was finished already");
        s->finished = true;
        s->pkg.size = s->total;
        int r;
        if (!s->decoded && (r = decode(s, err)) < 0)
                return r;

        /* rp_package_open_verified's order: the signature before the
         * manifest is parsed, then the image. */
        size_t index = 0;
        r = rp_package_check_signature(&s->pkg, keys, n_keys, &index, err);
        if (r < 0)
                return failed(s, r, RP_PACKAGE_CHECK_SIGNATURE, err);
        r = rp_package_parse_manifest(&s->pkg, err);
        if (r < 0)
                return failed(s, r, RP_PACKAGE_CHECK_FORMAT, err);
        r = rp_package_check_image_size(&s->pkg, err);
        if (r < 0)
                return failed(s, r, RP_PACKAGE_CHECK_IMAGE, err);
        uint8_t image_digest[RP_SHA256_LEN], file_digest[RP_SHA256_LEN];
        if (rp_sha256_final(s->image_hash, image_digest) < 0 || rp_sha256_final(s->file_hash, file_digest) < 0)
                return failed(s, rp_error_set(err, -ENOMEM, "SHA-256 failed"), RP_PACKAGE_CHECK_NONE, err);
        r = rp_package_check_image(&s->pkg, image_digest, s->head, s->head_len, err);
        if (r < 0)
                return failed(s, r, RP_PACKAGE_CHECK_IMAGE, err);

        *ret = (rp_package_stream_result) {
                .key_index = index,
                .size = s->total,
        };
        ret->manifest = TAKE_PTR(s->pkg.manifest);
        memcpy(ret->sha256, file_digest, sizeof file_digest);
        return 0;
}
