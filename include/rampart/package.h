/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Image packages (docs/formats.md, "Image package").
 *
 * A package file is one tagged COSE_Sign1 item whose payload is the image
 * manifest (a deterministic CBOR map), immediately followed by the image
 * bytes. The manifest names the component, the image type and version, and
 * the SHA-256 digest and size of the image bytes; the signature covers it.
 *
 * What is trusted when. An rp_package remembers what was checked:
 *   - the manifest is trusted once the signature verified with a key the
 *     caller chose: rp_package_get_manifest() refuses (-EPERM) before that;
 *   - the image is trusted once, in addition, its size, digest and type
 *     matched the manifest: rp_package_image_offset() refuses before that.
 *
 * On a device, or anywhere a package is used: rp_package_open_verified().
 * It checks the signature before the manifest is parsed, then the whole
 * image; everything above is then trusted. (To write the image out, give
 * the package to rp_package_extract_image(), which checks the bytes again
 * while it copies them: the file may change after it was verified.)
 *
 * To look at a package without a key (`rampart image-package show`):
 * rp_package_open_unverified() and rp_package_unverified_manifest(), whose
 * fields are claims nobody vouched for; print them escaped.
 *
 * To extract reading the image only once (`rampart image-package extract`):
 * rp_package_open_signed() checks the signature and the manifest but not
 * the image; only rp_package_get_manifest() and rp_package_extract_image()
 * accept such a package.
 *
 * rp_package_open_buffer() reads a package from memory, unverified;
 * rp_package_verify() then checks it as rp_package_open_verified() would. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

#define RP_PACKAGE_FORMAT 1
/* COSE protected header 3 of every package. */
#define RP_PACKAGE_CONTENT_TYPE "application/vnd.rampart.image-manifest+cbor"

/* Limits on what a package may declare. */
#define RP_PACKAGE_IMAGE_MAX_SIZE (UINT64_C(1) << 30)   /* 1 GiB of image bytes */
#define RP_PACKAGE_NAME_MAX 256                         /* bytes of "name" (= an app manifest Name) */
#define RP_PACKAGE_VERSION_NAME_MAX 64                  /* bytes of "version-name" */
#define RP_PACKAGE_VERSION_MAX UINT64_C(0xffffffff)     /* largest "version" */
#define RP_PACKAGE_BUILD_TIME_MAX UINT64_C(0x7fffffffffffffff)

#define RP_PACKAGE_GUID_LEN 36                          /* 8-4-4-4-12 */

typedef enum rp_image_type {
        RP_IMAGE_TYPE_APP = 1,        /* "app": a high-level app, erofs */
        RP_IMAGE_TYPE_RT_APP = 2,     /* "rt-app": a real-time core app, erofs */
        RP_IMAGE_TYPE_OS = 3,         /* "os": an OS image */
} rp_image_type;

/* "app", "rt-app", "os" (NULL for anything else). */
const char *rp_image_type_name(rp_image_type type);

/* The signed manifest, as read or as to be written. */
typedef struct rp_package_manifest {
        uint64_t format;                            /* RP_PACKAGE_FORMAT */
        char component_id[RP_PACKAGE_GUID_LEN + 1]; /* lowercase GUID */
        rp_image_type type;
        char *name;                                 /* printable UTF-8 */
        uint64_t version;                           /* the anti-rollback number */
        char *version_name;                         /* printable UTF-8, or NULL */
        uint64_t image_size;
        uint8_t image_sha256[RP_SHA256_LEN];
        char *app_manifest;                         /* JSON text for app and rt-app, else NULL */
        size_t app_manifest_len;                    /* (NUL-terminated; the NUL is not counted) */
        uint64_t build_time;                        /* seconds since 1970-01-01 UTC */
} rp_package_manifest;

/* Parses manifest CBOR (exactly len bytes, the COSE payload) strictly: one
 * deterministic map, format 1, no unknown, missing or duplicate fields,
 * every value of its type and within its limits; for app and rt-app the app
 * manifest must parse and agree with component-id, name and type. */
int rp_package_manifest_parse(const uint8_t *buf, size_t len, rp_package_manifest **ret, rp_error *err);

/* Encodes m deterministically; refuses what rp_package_manifest_parse would
 * refuse. */
int rp_package_manifest_encode(const rp_package_manifest *m, uint8_t **ret_buf, size_t *ret_len,
                               rp_error *err);

void rp_package_manifest_free(rp_package_manifest *m);
static inline void rp_package_manifest_freep(rp_package_manifest **m) {
        rp_package_manifest_free(*m);
}

/* An opened package. */
typedef struct rp_package rp_package;

/* Opens the package file at path and verifies it with pub completely: the
 * signature is checked before the signed manifest is parsed (so nothing
 * unauthenticated reaches the manifest parsers, and a modified manifest is
 * reported as a signature failure), then the manifest, then the image bytes
 * are streamed through SHA-256 and compared with it. What a device uses.
 * Refusals: the file's (below), -EKEYREJECTED for a signature or digest that
 * does not verify, -EBADMSG for a truncated or padded image, -EINVAL for an
 * app image that is not erofs. */
int rp_package_open_verified(const char *path, const rp_key *pub, rp_package **ret, rp_error *err);

/* Opens path for a look without a key: parses the signed manifest strictly
 * (structure, content type, format version, every field), reading at most
 * the COSE size limit and never the image. Nothing is trusted: only the
 * unverified accessors work. Refusals: an empty, truncated or malformed
 * file (-EBADMSG, -EINVAL), a manifest item over the limit or an image-size
 * over RP_PACKAGE_IMAGE_MAX_SIZE (-EFBIG), another content type or format
 * version (-EOPNOTSUPP), a file that is not a regular file (-EISDIR,
 * -EINVAL). */
int rp_package_open_unverified(const char *path, rp_package **ret, rp_error *err);

/* Checks the signature with pub, then parses the manifest; the image bytes
 * are not read. For rp_package_extract_image(), which checks them while
 * copying; rp_package_image_offset() refuses such a package. */
int rp_package_open_signed(const char *path, const rp_key *pub, rp_package **ret, rp_error *err);

/* Like rp_package_open_unverified, from memory: buf holds the whole package
 * and must stay valid and unchanged until the package is freed. */
int rp_package_open_buffer(const void *buf, size_t len, rp_package **ret, rp_error *err);

/* Verifies an opened package with pub: the signature, then the image bytes
 * (size, digest, erofs magic for apps). 0 means the package is intact and
 * signed by pub, and everything is trusted from then on. -EKEYREJECTED with
 * a message naming the signing key id and the given key's id when another
 * key signed it. */
int rp_package_verify(rp_package *p, const rp_key *pub, rp_error *err);

/* The signed manifest: -EPERM unless the signature was verified. */
int rp_package_get_manifest(const rp_package *p, const rp_package_manifest **ret, rp_error *err);
/* The manifest as parsed, whether or not anything was verified: for showing
 * a package, never for deciding anything. */
const rp_package_manifest *rp_package_unverified_manifest(const rp_package *p);
/* Claims from the protected header, for showing (the signature check uses
 * them itself): the COSE algorithm (RP_COSE_ALG_ES256 or RP_COSE_ALG_EDDSA),
 * and the key id (RP_KEY_ID_LEN bytes when written by rampart) or NULL. */
int rp_package_alg(const rp_package *p);
const uint8_t *rp_package_kid(const rp_package *p, size_t *ret_len);
/* Where the image bytes start in the file: -EPERM unless the signature and
 * the image were verified. */
int rp_package_image_offset(const rp_package *p, uint64_t *ret, rp_error *err);
/* How many bytes follow the signed item in the file (a fact about the file,
 * not a claim of the manifest's). */
uint64_t rp_package_image_bytes(const rp_package *p);

/* Copies the image bytes to path (mode 0644) while checking them against
 * the signed manifest; the file appears only if they verify. -EPERM unless
 * the signature was verified (rp_package_open_verified, _open_signed or
 * rp_package_verify); the signature is not checked again. */
int rp_package_extract_image(rp_package *p, const char *path, rp_error *err);

void rp_package_free(rp_package *p);
static inline void rp_package_freep(rp_package **p) {
        rp_package_free(*p);
}

/* Writing. */

/* Writes path atomically: m signed with key (a private key), then exactly
 * m->image_size bytes read from image_fd from offset 0, which must hash to
 * m->image_sha256 (checked while copying: a mismatch writes nothing). */
int rp_package_write(const char *path, const rp_package_manifest *m, const rp_key *key, int image_fd,
                     rp_error *err);

/* The build time for a new package: $SOURCE_DATE_EPOCH if set (a decimal
 * number of seconds, else -EINVAL), otherwise the current time. */
int rp_package_build_time(uint64_t *ret, rp_error *err);

typedef struct rp_pack_options {
        const char *app_manifest_path;   /* app_manifest.json */
        const char *dir;                 /* the app's files */
        const rp_key *key;               /* private signing key */
        const char *output;              /* the .imagepackage to write */
        uint64_t version;                /* the manifest's "version" */
        const char *version_name;        /* or NULL */
        uint64_t build_time;
        const char *mkfs_path;           /* NULL: look it up (erofs.h) */
        const char *tmp_dir;             /* NULL: $TMPDIR or /tmp */
} rp_pack_options;

/* Packs an application: validates app_manifest.json, checks its EntryPoint
 * is an executable regular file in dir, builds a reproducible erofs image of
 * dir plus app_manifest.json at its root, signs the manifest and writes the
 * package atomically. On success *ret_manifest (if non-NULL) gets the
 * manifest written. No partial output is left on failure. */
int rp_package_pack_application(const rp_pack_options *o, rp_package_manifest **ret_manifest,
                                rp_error *err);

#pragma GCC visibility pop
