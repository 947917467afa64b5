/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Read-only app images: an erofs filesystem made by mkfs.erofs (erofs-utils)
 * from a directory, reproducibly. The rules (what a directory may hold, what
 * is normalised) are written down in docs/formats.md, "App images". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rampart/error.h"

/* The erofs superblock starts 1024 bytes into the image with this
 * little-endian magic. */
#define RP_EROFS_SUPER_OFFSET 1024
#define RP_EROFS_MAGIC UINT32_C(0xE0F5E1E2)

/* Limits on the directory an image is built from. */
#define RP_EROFS_MAX_ENTRIES 100000  /* files, directories and links */
#define RP_EROFS_MAX_DEPTH 32        /* directory nesting */
#define RP_EROFS_LINK_TARGET_MAX 1024 /* bytes of a symbolic link's target */

/* The environment variable that names mkfs.erofs explicitly (tests use it). */
#define RP_EROFS_MKFS_ENV "RAMPART_MKFS_EROFS"

typedef struct rp_erofs_options {
        /* mkfs.erofs to run; NULL: rp_erofs_find_mkfs(). */
        const char *mkfs_path;
        /* Where the private working directory goes; NULL: $TMPDIR or /tmp. */
        const char *tmp_parent;
        /* The largest image accepted (bytes); 0 means no limit. */
        uint64_t max_size;
        /* A file placed in the image root (e.g. app_manifest.json), mode 0644,
         * or NULL. If the directory already holds a file of that name, it must
         * be a regular file with exactly these bytes. */
        const char *root_file_name;
        const void *root_file_data;
        size_t root_file_len;
        /* Called on the staged copy once it is complete (root file written,
         * links checked) and before mkfs.erofs runs on it, with the copy's
         * top directory: checks of the tree belong here, so they see exactly
         * what is packed, whatever happens to the source meanwhile. Its
         * error stops the build. NULL: none. */
        int (*check_copy)(int root_fd, void *userdata, rp_error *err);
        void *check_copy_userdata;
} rp_erofs_options;

/* Finds mkfs.erofs: $RAMPART_MKFS_EROFS if set, else the first executable
 * "mkfs.erofs" in $PATH. *ret_path gets a malloc'd path. -ENOENT with a
 * message that says to install erofs-utils if there is none. */
int rp_erofs_find_mkfs(char **ret_path, rp_error *err);

/* Builds an erofs image of the tree at dir. The tree is first copied into a
 * private working directory (checked while copying: only regular files,
 * directories and symbolic links that stay inside the tree; then the copy
 * is checked by opts->check_copy), then mkfs.erofs runs on the copy with fixed timestamps, owners and UUID, so the
 * same tree gives the same bytes. The working directory is removed before
 * returning, on success too: *ret_fd is a read-only descriptor of the
 * finished image, which no longer has a name, positioned at offset 0. */
int rp_erofs_build(const char *dir, const rp_erofs_options *opts, int *ret_fd, rp_error *err);

/* True if buf (len bytes: the start of an image) carries the erofs
 * superblock magic. */
bool rp_erofs_has_magic(const uint8_t *buf, size_t len);
