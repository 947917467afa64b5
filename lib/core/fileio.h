/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Reading bounded files and writing files atomically: a reader sees the old
 * file or the complete new one, never a half-written one. */

#include <stdint.h>
#include <stddef.h>
#include <sys/types.h>

#include "rampart/error.h"

/* Reads the regular file at path, which must hold at most max bytes
 * (-EFBIG otherwise). *ret_data gets a malloc'd copy with a NUL byte after
 * the data (not counted in *ret_len), so text can be used as a C string. */
int rp_read_file(const char *path, size_t max, uint8_t **ret_data, size_t *ret_len, rp_error *err);

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
