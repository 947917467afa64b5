/* SPDX-License-Identifier: Apache-2.0 */
/* The "dir" blob store backend (blob.h): a directory on a local disk, or on
 * a file system every server of a deployment mounts (NFS and the like:
 * flock, hard links, fsync and rename must work there as they do locally).
 *
 *   ROOT/blobs/ab/abcdef...    a blob, named by the SHA-256 of its bytes
 *                              (read-only once it is there)
 *   ROOT/staging/<upload id>   an upload's bytes so far
 *
 * Appends to one staging file take an exclusive flock on it, so two
 * processes cannot both write at the same offset; each append is durable
 * (fdatasync) before it returns. A commit takes the same lock, re-hashes
 * the staged bytes, fsyncs them, hard-links them under their name (a blob
 * appears whole or not at all: link is atomic) and fsyncs that directory,
 * then removes the staging name. An append that waited for the lock while
 * the upload was committed finds its staging name gone and refuses, so a
 * blob is never written to. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "blob/blob.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"

typedef struct dir_store {
        rp_blob_store base;
        char *root;
        int root_fd, blobs_fd, staging_fd;
} dir_store;

typedef struct dir_reader {
        rp_blob_reader base;
        int fd;
        uint64_t size;                  /* at open: blobs never change; staging is read once complete */
} dir_reader;

/* "ab/abcdef...": a blob's path under ROOT/blobs. */
#define BLOB_PATH_MAX (3 + RP_BLOB_NAME_LEN + 1)

/* name's path under ROOT/blobs, or -EINVAL if name is not a blob name. */
static int blob_path(const char *name, char out[BLOB_PATH_MAX], rp_error *err) {
        if (!rp_blob_name_valid(name))
                return rp_error_set(err, -EINVAL, "blob store: not a blob name");
        snprintf(out, BLOB_PATH_MAX, "%.2s/%s", name, name);
        return 0;
}

static dir_store *store_of(rp_blob_store *bs) {
        return (dir_store *) bs;
}

/* --- readers --- */

static int reader_read_at(rp_blob_reader *base, uint64_t offset, void *buf, size_t len, size_t *ret_n,
                          rp_error *err) {
        dir_reader *r = (dir_reader *) base;
        if (offset >= r->size || len == 0) {
                *ret_n = 0;
                return 0;
        }
        size_t want = r->size - offset < len ? (size_t) (r->size - offset) : len;
        int k = rp_pread_all(r->fd, buf, want, offset);
        if (k == -EBADMSG)
                return rp_error_set(err, k, "blob store: an object shrank while being read");
        if (k < 0)
                return rp_error_set_errno(err, k, "blob store: read failed");
        *ret_n = want;
        return 0;
}

static uint64_t reader_size(const rp_blob_reader *base) {
        return ((const dir_reader *) base)->size;
}

static int reader_fd(const rp_blob_reader *base) {
        return ((const dir_reader *) base)->fd;
}

static void reader_close(rp_blob_reader *base) {
        dir_reader *r = (dir_reader *) base;
        if (r->fd >= 0)
                close(r->fd);
        free(r);
}

static const rp_blob_reader_ops reader_ops = {
        .read_at = reader_read_at,
        .size = reader_size,
        .fd = reader_fd,
        .close = reader_close,
};

static int reader_new(int fd, uint64_t size, rp_blob_reader **ret, rp_error *err) {
        dir_reader *r = calloc(1, sizeof *r);
        if (!r) {
                close(fd);
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        *r = (dir_reader) { .base.ops = &reader_ops, .fd = fd, .size = size };
        *ret = &r->base;
        return 0;
}

/* --- the store --- */

static void dir_close(rp_blob_store *bs) {
        dir_store *d = store_of(bs);
        if (!d)
                return;
        closep(&d->root_fd);
        closep(&d->blobs_fd);
        closep(&d->staging_fd);
        free(d->root);
        free(d);
}

static void dir_closep(dir_store **d) {
        if (*d)
                dir_close(&(*d)->base);
}

/* dir_fd/name as a directory (made 0700 if missing), opened. */
static int subdir(int dir_fd, const char *root, const char *name, bool *ret_made, rp_error *err) {
        bool made = mkdirat(dir_fd, name, 0700) == 0;
        if (!made && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "blob store %s: cannot create %s", root, name);
        int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: %s is not a directory", root, name);
        if (ret_made)
                *ret_made |= made;
        return fd;
}

static int dir_open(const char *location, rp_blob_store **ret, rp_error *err) {
        _cleanup_(dir_closep) dir_store *d = calloc(1, sizeof *d);
        if (!d)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *d = (dir_store) { .base.backend = &rp_blob_backend_dir, .root_fd = -1, .blobs_fd = -1, .staging_fd = -1 };
        if (!(d->root = strdup(location)))
                return rp_error_set(err, -ENOMEM, "out of memory");
        if (mkdir(location, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "blob store %s: cannot create the directory", location);
        d->root_fd = open(location, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (d->root_fd < 0)
                return rp_error_set_errno(err, -errno, "blob store %s", location);
        bool made = false;
        d->blobs_fd = subdir(d->root_fd, location, "blobs", &made, err);
        if (d->blobs_fd < 0)
                return d->blobs_fd;
        d->staging_fd = subdir(d->root_fd, location, "staging", &made, err);
        if (d->staging_fd < 0)
                return d->staging_fd;
        if (made && fsync(d->root_fd) < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: fsync", location);
        *ret = &TAKE_PTR(d)->base;
        return 0;
}

/* --- staging --- */

static int dir_upload_create(rp_blob_store *bs, const char *id, rp_error *err) {
        dir_store *d = store_of(bs);
        if (!rp_blob_upload_id_valid(id))
                return rp_error_set(err, -EINVAL, "blob store: not an upload id");
        _cleanup_close_ int fd = openat(d->staging_fd, id, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0 && errno == EEXIST)
                return rp_error_set(err, -EEXIST, "blob store %s: upload %s exists already", d->root, id);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: cannot create staging/%s", d->root, id);
        if (fsync(d->staging_fd) < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: fsync staging", d->root);
        return 0;
}

/* Opens staging/id and locks it (LOCK_EX or LOCK_SH), making sure the
 * locked file is still the upload: an append or commit that waited for the
 * lock while another process committed or removed it finds the name gone
 * (-ENOENT). A staging file with other links is the residue of a commit
 * interrupted after it linked the bytes as a blob: never written to again
 * (-ENOENT for O_WRONLY), but it may be read and committed (which then
 * only removes the staging name). */
static int open_locked(dir_store *d, const char *id, int flags, int lock, struct stat *ret_st, rp_error *err) {
        if (!rp_blob_upload_id_valid(id))
                return rp_error_set(err, -EINVAL, "blob store: not an upload id");
        _cleanup_close_ int fd = openat(d->staging_fd, id, flags | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && (errno == ENOENT || errno == EACCES))
                return rp_error_set(err, -ENOENT, "blob store %s: no upload %s", d->root, id);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: staging/%s", d->root, id);
        while (flock(fd, lock) < 0)
                if (errno != EINTR)
                        return rp_error_set_errno(err, -errno, "blob store %s: cannot lock staging/%s", d->root, id);
        struct stat st, now;
        if (fstat(fd, &st) < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: staging/%s", d->root, id);
        if (!S_ISREG(st.st_mode))
                return rp_error_set(err, -EINVAL, "blob store %s: staging/%s is not a regular file", d->root, id);
        if (fstatat(d->staging_fd, id, &now, AT_SYMLINK_NOFOLLOW) < 0 || now.st_ino != st.st_ino ||
            now.st_dev != st.st_dev || (flags == O_WRONLY && st.st_nlink != 1))
                return rp_error_set(err, -ENOENT, "blob store %s: upload %s was committed or removed meanwhile",
                                    d->root, id);
        *ret_st = st;
        return TAKE_FD(fd);
}

static int dir_upload_append(rp_blob_store *bs, const char *id, uint64_t offset, const void *buf, size_t len,
                             uint64_t *ret_size, rp_error *err) {
        dir_store *d = store_of(bs);
        struct stat st;
        _cleanup_close_ int fd = open_locked(d, id, O_WRONLY, LOCK_EX, &st, err);
        if (fd < 0)
                return fd;
        uint64_t size = (uint64_t) st.st_size;
        if (offset != size) {
                *ret_size = size;
                return rp_error_set(err, -ESPIPE, "upload %s: a piece at offset %ju, but %ju bytes are staged",
                                    id, (uintmax_t) offset, (uintmax_t) size);
        }
        if (len > (uint64_t) INT64_MAX - size)
                return rp_error_set(err, -EFBIG, "upload %s: too large", id);
        const uint8_t *p = buf;
        for (size_t done = 0; done < len; ) {
                ssize_t n = pwrite(fd, p + done, len - done, (off_t) (offset + done));
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        int r = n < 0 ? -errno : -EIO;
                        /* Back to where it was: the staged size stays at the
                         * end of a whole piece. */
                        (void) !ftruncate(fd, (off_t) size);
                        return rp_error_set_errno(err, r, "blob store %s: writing staging/%s", d->root, id);
                }
                done += (size_t) n;
        }
        if (len > 0 && fdatasync(fd) < 0) {
                int r = -errno;
                (void) !ftruncate(fd, (off_t) size);
                return rp_error_set_errno(err, r, "blob store %s: fdatasync staging/%s", d->root, id);
        }
        *ret_size = size + len;
        return 0;
}

static int dir_upload_size(rp_blob_store *bs, const char *id, uint64_t *ret_size, rp_error *err) {
        struct stat st;
        /* A shared lock: not in the middle of another process's append. */
        _cleanup_close_ int fd = open_locked(store_of(bs), id, O_RDONLY, LOCK_SH, &st, err);
        if (fd < 0)
                return fd;
        *ret_size = (uint64_t) st.st_size;
        return 0;
}

static int dir_upload_open(rp_blob_store *bs, const char *id, rp_blob_reader **ret, rp_error *err) {
        struct stat st;
        int fd = open_locked(store_of(bs), id, O_RDONLY, LOCK_SH, &st, err);
        if (fd < 0)
                return fd;
        /* The lock ends here (the reader reads st_size bytes, staged before). */
        (void) flock(fd, LOCK_UN);
        return reader_new(fd, (uint64_t) st.st_size, ret, err);
}

static int dir_upload_remove(rp_blob_store *bs, const char *id, rp_error *err) {
        dir_store *d = store_of(bs);
        if (!rp_blob_upload_id_valid(id))
                return rp_error_set(err, -EINVAL, "blob store: not an upload id");
        if (unlinkat(d->staging_fd, id, 0) < 0 && errno != ENOENT)
                return rp_error_set_errno(err, -errno, "blob store %s: cannot remove staging/%s", d->root, id);
        return 0;
}

/* A blob's directory (ab), made if missing; made durable in blobs/. */
static int fanout_dir(dir_store *d, const char *name, rp_error *err) {
        char sub[3] = { name[0], name[1], '\0' };
        bool made = false;
        int fd = subdir(d->blobs_fd, d->root, sub, &made, err);
        if (fd >= 0 && made && fsync(d->blobs_fd) < 0) {
                int r = rp_error_set_errno(err, -errno, "blob store %s: fsync blobs", d->root);
                close(fd);
                return r;
        }
        return fd;
}

static int dir_upload_commit(rp_blob_store *bs, const char *id, const char *name, rp_error *err) {
        dir_store *d = store_of(bs);
        uint8_t want[RP_SHA256_LEN], got[RP_SHA256_LEN];
        if (!rp_blob_name_valid(name) || rp_hex_decode(name, want, sizeof want) < 0)
                return rp_error_set(err, -EINVAL, "blob store: not a blob name");
        struct stat st;
        _cleanup_close_ int fd = open_locked(d, id, O_RDONLY, LOCK_EX, &st, err);
        if (fd < 0)
                return fd;

        /* The staged bytes must be the blob named. */
        int r = rp_sha256_fd(fd, 0, (uint64_t) st.st_size, NULL, NULL, got, err);
        if (r < 0)
                return rp_error_prefix(err, r, "blob store %s: staging/%s: ", d->root, id);
        if (!rp_memeq_consttime(want, got, sizeof want)) {
                char hex[2 * RP_SHA256_LEN + 1];
                rp_hex_encode_buf(got, sizeof got, hex);
                return rp_error_set(err, -EBADMSG, "upload %s: the staged bytes hash to %s, not %s", id, hex, name);
        }
        if (fsync(fd) < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: fsync staging/%s", d->root, id);

        _cleanup_close_ int sub_fd = fanout_dir(d, name, err);
        if (sub_fd < 0)
                return sub_fd;
        /* link never replaces: if the blob exists (the same bytes, by its
         * name), it stays as it is. File systems without hard links get a
         * rename, which replaces it with the same bytes. */
        bool renamed = false;
        if (linkat(d->staging_fd, id, sub_fd, name, 0) < 0 && errno != EEXIST) {
                if (errno != EPERM && errno != EOPNOTSUPP && errno != EXDEV && errno != EMLINK)
                        return rp_error_set_errno(err, -errno, "blob store %s: cannot link blobs/%.2s/%s", d->root,
                                                  name, name);
                if (renameat(d->staging_fd, id, sub_fd, name) < 0)
                        return rp_error_set_errno(err, -errno, "blob store %s: cannot rename to blobs/%.2s/%s",
                                                  d->root, name, name);
                renamed = true;
        }
        (void) fchmod(fd, 0400);        /* a blob is never written again */
        if (fsync(sub_fd) < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: fsync blobs/%.2s", d->root, name);
        /* The blob is durable. The staging name goes; if this is
         * interrupted, the leftover is refused by append and removed by the
         * clean-up of abandoned uploads. */
        if (!renamed && unlinkat(d->staging_fd, id, 0) < 0 && errno != ENOENT)
                return rp_error_set_errno(err, -errno, "blob store %s: cannot remove staging/%s", d->root, id);
        (void) fsync(d->staging_fd);
        return 0;
}

static int dir_upload_list_older(rp_blob_store *bs, int64_t before, int (*fn)(const char *id, void *userdata),
                                 void *userdata, rp_error *err) {
        dir_store *d = store_of(bs);
        int fd = openat(d->staging_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "blob store %s: staging", d->root);
        DIR *dir = fdopendir(fd);
        if (!dir) {
                close(fd);
                return rp_error_set_errno(err, -errno, "blob store %s: staging", d->root);
        }
        /* The names first, then the calls: fn may remove them. */
        char **names = NULL;
        size_t n = 0, cap = 0;
        int r = 0;
        struct dirent *de;
        errno = 0;
        while (r == 0 && (de = readdir(dir))) {
                struct stat st;
                if (!rp_blob_upload_id_valid(de->d_name) ||
                    fstatat(d->staging_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode) ||
                    (int64_t) st.st_mtime >= before)
                        continue;
                if (n == cap) {
                        size_t ncap = cap ? 2 * cap : 16;
                        char **grown = realloc(names, ncap * sizeof *names);
                        if (!grown) {
                                r = rp_error_set(err, -ENOMEM, "out of memory");
                                break;
                        }
                        names = grown;
                        cap = ncap;
                }
                if (!(names[n] = strdup(de->d_name)))
                        r = rp_error_set(err, -ENOMEM, "out of memory");
                else
                        n++;
                errno = 0;
        }
        if (r == 0 && errno != 0)
                r = rp_error_set_errno(err, -errno, "blob store %s: reading staging", d->root);
        closedir(dir);
        for (size_t i = 0; i < n; i++) {
                if (r == 0)
                        r = fn(names[i], userdata);
                free(names[i]);
        }
        free(names);
        return r < 0 ? r : 0;
}

/* --- blobs --- */

static int dir_open_blob(rp_blob_store *bs, const char *name, rp_blob_reader **ret, rp_error *err) {
        dir_store *d = store_of(bs);
        char path[BLOB_PATH_MAX];
        int r = blob_path(name, path, err);
        if (r < 0)
                return r;
        struct stat st;
        rp_error e = {};
        int fd = rp_open_regular(d->blobs_fd, path, O_NOFOLLOW, &st, &e);
        if (fd == -ENOENT)
                return rp_error_set(err, -ENOENT, "blob store %s: no blob %s", d->root, name);
        if (fd < 0)
                return rp_error_set(err, fd, "blob store %s: blobs/%s: %s", d->root, path, rp_error_message(&e, fd));
        return reader_new(fd, (uint64_t) st.st_size, ret, err);
}

static int dir_exists(rp_blob_store *bs, const char *name, bool *ret, rp_error *err) {
        dir_store *d = store_of(bs);
        char path[BLOB_PATH_MAX];
        int r = blob_path(name, path, err);
        if (r < 0)
                return r;
        struct stat st;
        if (fstatat(d->blobs_fd, path, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno != ENOENT)
                        return rp_error_set_errno(err, -errno, "blob store %s: blobs/%s", d->root, path);
                *ret = false;
                return 0;
        }
        *ret = S_ISREG(st.st_mode);
        return 0;
}

const rp_blob_backend rp_blob_backend_dir = {
        .scheme = "dir",
        .open = dir_open,
        .close = dir_close,
        .upload_create = dir_upload_create,
        .upload_append = dir_upload_append,
        .upload_size = dir_upload_size,
        .upload_open = dir_upload_open,
        .upload_commit = dir_upload_commit,
        .upload_remove = dir_upload_remove,
        .upload_list_older = dir_upload_list_older,
        .open_blob = dir_open_blob,
        .exists = dir_exists,
};
