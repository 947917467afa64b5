/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The blob store: where image packages live, by content. A blob's name is
 * the SHA-256 of its bytes in lowercase hex (64 digits), so a blob never
 * changes once it exists and two uploads of the same bytes are one blob.
 * The store (SQL) says which tenant has which image; the blob store only
 * holds bytes.
 *
 * Uploads arrive in pieces (PUT .../uploads/{upload}, docs/api.md) and are
 * staged under the upload's id, append-only, until committed: commit checks
 * the staged bytes hash to the name given and makes the blob appear whole
 * and durable (dir: fsync, rename, fsync the directory), or not at all. So
 * a server killed at any moment leaves complete blobs and staging leftovers,
 * never a partial blob under a content name. Staging is shared like the
 * blobs: any server process of a deployment may receive the next piece.
 *
 * Backends are a table of functions, one file each: "dir" (blob/dir.c: a
 * directory, by default DATA_DIR/blobs, or a shared file system mounted on
 * every server). An S3-compatible backend is one more file: blobs as
 * objects named by digest, staging as one object per piece, commit as a
 * copy into place; the --blob-store URL picks the backend by scheme.
 *
 * Thread safety: one rp_blob_store is shared by all worker threads; every
 * operation is safe to call concurrently, also from several processes on
 * the same storage. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"

#define RP_BLOB_NAME_LEN 64     /* hex SHA-256 */
#define RP_BLOB_UPLOAD_ID_MAX 64 /* an upload id: [0-9a-f]{1,64} */

typedef struct rp_blob_store rp_blob_store;
typedef struct rp_blob_reader rp_blob_reader;

typedef struct rp_blob_backend {
        const char *scheme;             /* "dir" */
        /* location: what followed "SCHEME:" in the --blob-store setting. */
        int (*open)(const char *location, rp_blob_store **ret, rp_error *err);
        void (*close)(rp_blob_store *bs);

        /* Staging. create makes an empty staging object for upload id (a
         * second create of the same id is -EEXIST). append writes len bytes
         * at offset, which must equal the staged size (else -ESPIPE with the
         * current size in *ret_size), and returns the new size; the bytes are
         * durable when it returns. size gives the staged size (-ENOENT if no
         * such upload). remove deletes a staging object (0 if it did not
         * exist). */
        int (*upload_create)(rp_blob_store *bs, const char *upload_id, rp_error *err);
        int (*upload_append)(rp_blob_store *bs, const char *upload_id, uint64_t offset, const void *buf,
                             size_t len, uint64_t *ret_size, rp_error *err);
        int (*upload_size)(rp_blob_store *bs, const char *upload_id, uint64_t *ret_size, rp_error *err);
        /* Opens the staged bytes for reading (to verify them before commit). */
        int (*upload_open)(rp_blob_store *bs, const char *upload_id, rp_blob_reader **ret, rp_error *err);
        /* Makes the staged bytes the blob `name` (64 hex): re-hashes them and
         * refuses (-EBADMSG) if they do not hash to name; if the blob already
         * exists, just drops the staging object. Then the blob is durable. */
        int (*upload_commit)(rp_blob_store *bs, const char *upload_id, const char *name, rp_error *err);
        int (*upload_remove)(rp_blob_store *bs, const char *upload_id, rp_error *err);
        /* Calls fn for every staging object older than before (seconds since
         * the epoch), so the caller can drop abandoned uploads. */
        int (*upload_list_older)(rp_blob_store *bs, int64_t before,
                                 int (*fn)(const char *upload_id, void *userdata), void *userdata, rp_error *err);

        /* Blobs. open: -ENOENT if there is no such blob. */
        int (*open_blob)(rp_blob_store *bs, const char *name, rp_blob_reader **ret, rp_error *err);
        int (*exists)(rp_blob_store *bs, const char *name, bool *ret, rp_error *err);
} rp_blob_backend;

/* A reader of one staged object or blob: positioned reads. */
typedef struct rp_blob_reader_ops {
        /* Reads up to len bytes at offset; *ret_n 0 at the end. */
        int (*read_at)(rp_blob_reader *r, uint64_t offset, void *buf, size_t len, size_t *ret_n, rp_error *err);
        uint64_t (*size)(const rp_blob_reader *r);
        /* A file descriptor positioned reads may use directly (pread), or -1
         * when the backend has none: the HTTP layer may hand it to the
         * kernel or to libevent. */
        int (*fd)(const rp_blob_reader *r);
        void (*close)(rp_blob_reader *r);
} rp_blob_reader_ops;

struct rp_blob_reader {
        const rp_blob_reader_ops *ops;
};

/* Every backend's store begins with this, so the wrappers find its
 * functions. */
struct rp_blob_store {
        const rp_blob_backend *backend;
};

extern const rp_blob_backend rp_blob_backend_dir;

/* The store named by spec, "dir:/path" (or a plain path, meaning dir:);
 * which backend, from the scheme. -EPROTONOSUPPORT for an unknown scheme,
 * naming the known ones. */
int rp_blob_store_open(const char *spec, rp_blob_store **ret, rp_error *err);
void rp_blob_store_close(rp_blob_store *bs);
static inline void rp_blob_store_closep(rp_blob_store **bs) {
        if (*bs)
                rp_blob_store_close(*bs);
}

/* Convenience wrappers over the backend's functions (blob/blob.c). */
int rp_blob_upload_create(rp_blob_store *bs, const char *upload_id, rp_error *err);
int rp_blob_upload_append(rp_blob_store *bs, const char *upload_id, uint64_t offset, const void *buf, size_t len,
                          uint64_t *ret_size, rp_error *err);
int rp_blob_upload_size(rp_blob_store *bs, const char *upload_id, uint64_t *ret_size, rp_error *err);
int rp_blob_upload_open(rp_blob_store *bs, const char *upload_id, rp_blob_reader **ret, rp_error *err);
int rp_blob_upload_commit(rp_blob_store *bs, const char *upload_id, const char *name, rp_error *err);
int rp_blob_upload_remove(rp_blob_store *bs, const char *upload_id, rp_error *err);
int rp_blob_upload_list_older(rp_blob_store *bs, int64_t before, int (*fn)(const char *upload_id, void *userdata),
                              void *userdata, rp_error *err);
int rp_blob_open(rp_blob_store *bs, const char *name, rp_blob_reader **ret, rp_error *err);
int rp_blob_exists(rp_blob_store *bs, const char *name, bool *ret, rp_error *err);

static inline int rp_blob_read_at(rp_blob_reader *r, uint64_t offset, void *buf, size_t len, size_t *ret_n,
                                  rp_error *err) {
        return r->ops->read_at(r, offset, buf, len, ret_n, err);
}
static inline uint64_t rp_blob_size(const rp_blob_reader *r) {
        return r->ops->size(r);
}
static inline int rp_blob_fd(const rp_blob_reader *r) {
        return r->ops->fd(r);
}
static inline void rp_blob_close(rp_blob_reader *r) {
        if (r)
                r->ops->close(r);
}
static inline void rp_blob_closep(rp_blob_reader **r) {
        rp_blob_close(*r);
}

/* True if s is a blob name: exactly 64 lowercase hex digits. */
bool rp_blob_name_valid(const char *s);
/* True if s is an upload id: 1 to RP_BLOB_UPLOAD_ID_MAX lowercase hex
 * digits. Every function refuses (-EINVAL) names and ids that are not. */
bool rp_blob_upload_id_valid(const char *s);
