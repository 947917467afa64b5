/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/macro.h"

/* Image bytes and other large files are hashed in chunks of this size. */
#define CHUNK_SIZE (1024 * 1024)

int rp_open_regular(int dir_fd, const char *path, int flags, struct stat *ret_st, rp_error *err) {
        _cleanup_close_ int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | flags);
        if (fd < 0) {
                if (errno == ELOOP && (flags & O_NOFOLLOW))
                        return rp_error_set(err, -ELOOP, "%s: is a symbolic link, expected a file", path);
                return rp_error_set_errno(err, -errno, "%s: cannot open", path);
        }
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot stat", path);
        if (S_ISDIR(st.st_mode))
                return rp_error_set(err, -EISDIR, "%s: is a directory, expected a file", path);
        if (!S_ISREG(st.st_mode))
                return rp_error_set(err, -EINVAL, "%s: not a regular file", path);
        if (ret_st)
                *ret_st = st;
        return TAKE_FD(fd);
}

int rp_read_file(const char *path, size_t max, uint8_t **ret_data, size_t *ret_len, rp_error *err) {
        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, path, 0, &st, err);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size > max)
                return rp_error_set(err, -EFBIG, "%s: file is %jd bytes, the limit is %zu",
                                    path, (intmax_t) st.st_size, max);

        /* Read up to max+1 bytes: the file may grow between fstat and read. */
        size_t cap = (size_t) st.st_size + 1, len = 0;
        _cleanup_free_ uint8_t *buf = malloc(cap + 1);
        if (!buf)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
        for (;;) {
                if (len == cap) {
                        if (cap > max)
                                return rp_error_set(err, -EFBIG, "%s: file is larger than the limit of %zu bytes",
                                                    path, max);
                        size_t ncap = cap * 2 > max + 1 ? max + 1 : cap * 2;
                        uint8_t *n = realloc(buf, ncap + 1);
                        if (!n)
                                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
                        buf = n;
                        cap = ncap;
                }
                ssize_t k = read(fd, buf + len, cap - len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return rp_error_set_errno(err, -errno, "%s: read failed", path);
                }
                if (k == 0)
                        break;
                len += (size_t) k;
        }
        if (len > max)
                return rp_error_set(err, -EFBIG, "%s: file is larger than the limit of %zu bytes", path, max);
        buf[len] = 0;
        *ret_data = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int rp_pread_all(int fd, void *buf, size_t len, uint64_t off) {
        uint8_t *p = buf;
        size_t got = 0;
        while (got < len) {
                ssize_t k = pread(fd, p + got, len - got, (off_t) (off + got));
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                if (k == 0)
                        return -EBADMSG;
                got += (size_t) k;
        }
        return 0;
}

int rp_sha256_fd(int fd, uint64_t off, uint64_t len, rp_chunk_sink sink, void *userdata,
                 uint8_t ret_digest[RP_SHA256_LEN], rp_error *err) {
        _cleanup_(rp_sha256_freep) rp_sha256 *h = NULL;
        int r = rp_sha256_new(&h);
        if (r < 0)
                return rp_error_set(err, r, "cannot start SHA-256");
        size_t cap = len < CHUNK_SIZE ? (size_t) len : CHUNK_SIZE;
        _cleanup_free_ uint8_t *chunk = malloc(cap ? cap : 1);
        if (!chunk)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (uint64_t done = 0; done < len; ) {
                size_t n = len - done < cap ? (size_t) (len - done) : cap;
                r = rp_pread_all(fd, chunk, n, off + done);
                if (r == -EBADMSG) {
                        struct stat st;
                        uint64_t end = off + len, size = fstat(fd, &st) == 0 ? (uint64_t) st.st_size : off + done;
                        return rp_error_set(err, r, "the file ended %ju bytes short (did it shrink while being read?)",
                                            (uintmax_t) (end - (size < end ? size : off + done)));
                }
                if (r < 0)
                        return rp_error_set_errno(err, r, "read failed");
                r = rp_sha256_update(h, chunk, n);
                if (r < 0)
                        return rp_error_set(err, r, "SHA-256 failed");
                if (sink) {
                        r = sink(userdata, chunk, n, err);
                        if (r < 0)
                                return r;
                }
                done += n;
        }
        r = rp_sha256_final(h, ret_digest);
        if (r < 0)
                return rp_error_set(err, r, "SHA-256 failed");
        return 0;
}

int rp_write_all(int fd, const void *buf, size_t len) {
        const uint8_t *p = buf;
        while (len > 0) {
                ssize_t k = write(fd, p, len);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += k;
                len -= (size_t) k;
        }
        return 0;
}

static void atomic_file_release(rp_atomic_file *af) {
        if (af->fd >= 0)
                close(af->fd);
        if (af->dir_fd >= 0)
                close(af->dir_fd);
        af->fd = af->dir_fd = -1;
        free(af->path);
        free(af->tmp_path);
        af->path = af->tmp_path = NULL;
}

int rp_atomic_file_open(rp_atomic_file *af, const char *path, mode_t mode, rp_error *err) {
        *af = (rp_atomic_file) RP_ATOMIC_FILE_INIT;

        _cleanup_free_ char *dcopy = strdup(path), *bcopy = strdup(path);
        if (!dcopy || !bcopy)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
        const char *dir = dirname(dcopy), *base = basename(bcopy);

        _cleanup_free_ char *tmp = NULL, *final = strdup(path);
        if (!final || asprintf(&tmp, "%s/.%s.XXXXXX", dir, base) < 0)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
        _cleanup_close_ int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir_fd < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot create a temporary file in %s", path, dir);
        _cleanup_close_ int fd = mkostemp(tmp, O_CLOEXEC);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot create a temporary file in %s", path, dir);
        if (fchmod(fd, mode) < 0) {
                int r = -errno;
                unlink(tmp);
                return rp_error_set_errno(err, r, "%s: cannot set file mode", path);
        }
        af->fd = TAKE_FD(fd);
        af->dir_fd = TAKE_FD(dir_fd);
        af->path = TAKE_PTR(final);
        af->tmp_path = TAKE_PTR(tmp);
        return 0;
}

int rp_atomic_file_write(rp_atomic_file *af, const void *buf, size_t len, rp_error *err) {
        int r = rp_write_all(af->fd, buf, len);
        if (r < 0)
                return rp_error_set_errno(err, r, "%s: write failed", af->path);
        return 0;
}

int rp_atomic_file_commit(rp_atomic_file *af, rp_error *err) {
        int r = 0;
        if (fsync(af->fd) < 0) {
                r = rp_error_set_errno(err, -errno, "%s: cannot flush to disk", af->path);
                goto fail;
        }
        if (rename(af->tmp_path, af->path) < 0) {
                r = rp_error_set_errno(err, -errno, "%s: cannot rename the new file into place", af->path);
                goto fail;
        }
        /* Make the rename itself durable. The new file is in place now, so a
         * failure here is reported but nothing is undone. */
        if (fsync(af->dir_fd) < 0)
                r = rp_error_set_errno(err, -errno, "%s: cannot flush the directory to disk", af->path);
        atomic_file_release(af);
        return r;
fail:
        rp_atomic_file_abort(af);
        return r;
}

void rp_atomic_file_abort(rp_atomic_file *af) {
        if (!af)
                return;
        if (af->tmp_path)
                (void) unlink(af->tmp_path);
        atomic_file_release(af);
}

int rp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, rp_error *err) {
        rp_atomic_file af;
        int r = rp_atomic_file_open(&af, path, mode, err);
        if (r < 0)
                return r;
        r = rp_atomic_file_write(&af, buf, len, err);
        if (r < 0) {
                rp_atomic_file_abort(&af);
                return r;
        }
        return rp_atomic_file_commit(&af, err);
}
