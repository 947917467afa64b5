/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Reading files (bounded, whole, at an offset, hashed) and writing files
 * atomically: a reader sees the old file or the complete new one, never a
 * half-written one. */

#include <stdint.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

/* Opens path (relative to dir_fd; AT_FDCWD for the current directory)
 * read-only, and only if it is a regular file. The descriptor is O_CLOEXEC,
 * O_NOCTTY and O_NONBLOCK, so a FIFO or device in the file's place is
 * refused at once instead of blocking the open; flags may add O_NOFOLLOW.
 * Refusals: a directory (-EISDIR), a symbolic link with O_NOFOLLOW (-ELOOP),
 * anything else that is not a regular file (-EINVAL), and open's own errors.
 * *ret_st (if non-NULL) gets the descriptor's fstat. Returns the descriptor. */
int rp_open_regular(int dir_fd, const char *path, int flags, struct stat *ret_st, rp_error *err);

/* Reads the regular file at path, which must hold at most max bytes
 * (-EFBIG otherwise). *ret_data gets a malloc'd copy with a NUL byte after
 * the data (not counted in *ret_len), so text can be used as a C string.
 * The file is read to its end, not to the size fstat reported: a file that
 * grows meanwhile, or reports size 0 (as /proc files do), is read whole or
 * refused with -EFBIG, never cut short. */
int rp_read_file(const char *path, size_t max, uint8_t **ret_data, size_t *ret_len, rp_error *err);

/* Reads exactly len bytes of fd at offset off (the file position is not
 * used), retrying on EINTR and short reads. -EBADMSG if the file ends
 * first, -errno if a read fails. Sets no message: callers know what the
 * file is. */
int rp_pread_all(int fd, void *buf, size_t len, uint64_t off);

/* Receives the bytes rp_sha256_fd reads, chunk by chunk, in order; an error
 * it returns stops the walk and is returned. */
typedef int (*rp_chunk_sink)(void *userdata, const uint8_t *buf, size_t len, rp_error *err);

/* SHA-256 of the len bytes of fd from offset off, read in bounded chunks
 * (memory use does not grow with len); each chunk is also passed to sink if
 * non-NULL. -EBADMSG if the file ends first (it shrank), -errno if a read
 * fails. */
int rp_sha256_fd(int fd, uint64_t off, uint64_t len, rp_chunk_sink sink, void *userdata,
                 uint8_t ret_digest[RP_SHA256_LEN], rp_error *err);

/* Writes all of buf to fd, retrying on EINTR and short writes. */
int rp_write_all(int fd, const void *buf, size_t len);

/* A file being written under a temporary name beside its final path. */
typedef struct rp_atomic_file {
        int fd;
        int dir_fd;             /* the directory, to make the rename durable */
        char *path;
        char *tmp_path;
} rp_atomic_file;

#define RP_ATOMIC_FILE_INIT { .fd = -1, .dir_fd = -1 }

/* Creates a temporary file (mode) in path's directory. */
int rp_atomic_file_open(rp_atomic_file *af, const char *path, mode_t mode, rp_error *err);
int rp_atomic_file_write(rp_atomic_file *af, const void *buf, size_t len, rp_error *err);
/* Flushes to disk and renames over path; allocates nothing, so it cannot
 * fail half-way for lack of memory. af is released either way. */
int rp_atomic_file_commit(rp_atomic_file *af, rp_error *err);
/* Removes the temporary file if it still exists and releases af; safe to
 * call after commit and on a zeroed RP_ATOMIC_FILE_INIT. */
void rp_atomic_file_abort(rp_atomic_file *af);

/* One-shot: write buf as path's new contents, atomically. */
int rp_write_file_atomic(const char *path, const void *buf, size_t len, mode_t mode, rp_error *err);
