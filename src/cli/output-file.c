/* SPDX-License-Identifier: Apache-2.0 */
/* Checks made before a command writes a file: the output must not be one of
 * the command's own inputs, and must not replace a file of another kind
 * without --force. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/macro.h"
#include "package/erofs.h"
#include "rampart/hwdef.h"
#include "rampart/package.h"

/* The first bytes of path, up to size; 0 if it cannot be read. */
static size_t read_head(const char *path, uint8_t *buf, size_t size) {
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0)
                return 0;
        size_t n = 0;
        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k <= 0)
                        break;
                n += (size_t) k;
        }
        return n;
}

/* True if the regular file at path looks like what kind writes. */
static bool is_kind(const char *path, cli_output_kind kind) {
        uint8_t buf[2048];
        size_t n;
        switch (kind) {
        case CLI_OUTPUT_PACKAGE:
                /* A tagged COSE_Sign1 (0xd2, an array of 4) whose protected
                 * header, within the first bytes, names our content type. */
                n = read_head(path, buf, 128);
                return n > 2 && buf[0] == 0xd2 && buf[1] == 0x84 &&
                       memmem(buf, n, RP_PACKAGE_CONTENT_TYPE, strlen(RP_PACKAGE_CONTENT_TYPE));
        case CLI_OUTPUT_HEADER: {
                size_t m = strlen(RP_HWDEF_HEADER_MARKER);
                n = read_head(path, buf, m + 1);
                return n == m + 1 && memcmp(buf, RP_HWDEF_HEADER_MARKER, m) == 0 && buf[m] == '\n';
        }
        case CLI_OUTPUT_EROFS:
                n = read_head(path, buf, RP_EROFS_SUPER_OFFSET + 4);
                return rp_erofs_has_magic(buf, n);
        case CLI_OUTPUT_EVIDENCE:
                /* A tagged COSE_Sign1, but not an image package. */
                n = read_head(path, buf, 2);
                return n == 2 && buf[0] == 0xd2 && buf[1] == 0x84 && !is_kind(path, CLI_OUTPUT_PACKAGE);
        case CLI_OUTPUT_CERTIFICATE: {
                static const char begin[] = "-----BEGIN CERTIFICATE-----";
                n = read_head(path, buf, sizeof begin - 1);
                return n == sizeof begin - 1 && memcmp(buf, begin, n) == 0;
        }
        case CLI_OUTPUT_PUBLIC_KEY: {
                static const char begin[] = "-----BEGIN PUBLIC KEY-----";
                n = read_head(path, buf, sizeof begin - 1);
                return n == sizeof begin - 1 && memcmp(buf, begin, n) == 0;
        }
        case CLI_OUTPUT_NEW:
        default:
                return false;
        }
}

static const char *kind_name(cli_output_kind kind) {
        switch (kind) {
        case CLI_OUTPUT_PACKAGE:
                return "an image package";
        case CLI_OUTPUT_HEADER:
                return "a header rampart generated";
        case CLI_OUTPUT_EROFS:
                return "an erofs image";
        case CLI_OUTPUT_EVIDENCE:
                return "attestation evidence";
        case CLI_OUTPUT_CERTIFICATE:
                return "a PEM certificate";
        case CLI_OUTPUT_PUBLIC_KEY:
                return "a PEM public key";
        default:
                return NULL;
        }
}

/* nftw() takes no user pointer: the file being looked for, while
 * cli_check_output() walks an input directory. */
static struct stat tree_target;
static char tree_match[4096];

static int tree_visit(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        (void) type;
        (void) ftw;
        if (st->st_dev == tree_target.st_dev && st->st_ino == tree_target.st_ino) {
                snprintf(tree_match, sizeof tree_match, "%s", path);
                return 1;
        }
        return 0;
}

static int refuse_input(const cli_output *out, const cli_input *in, const char *file, bool same_name) {
        rp_error err = {};
        _cleanup_free_ char *hint = NULL;
        if (in->tree)
                rp_error_set(&err, -EEXIST, "%s: is the same file as %s in %s %s; writing %s there would "
                             "replace it", out->path, file, in->what, in->path, out->what);
        else
                rp_error_set(&err, -EEXIST, "%s: is %s %s%s; writing %s there would replace it", out->path,
                             in->what, in->path, same_name ? "" : " (the same file, by another name or link)",
                             out->what);
        if (asprintf(&hint, "give %s another path (%s); no option makes rampart replace its own input",
                     out->what, out->option) < 0)
                hint = NULL;
        return cli_fail(-EEXIST, &err, hint);
}

int cli_check_output(const cli_output *out, const cli_input *inputs, size_t n_inputs) {
        struct stat st, lst;
        if (lstat(out->path, &lst) < 0)
                return CLI_EXIT_OK;         /* nothing there: nothing to lose */
        bool exists = stat(out->path, &st) == 0;  /* false for a dangling symlink */

        if (exists)
                for (size_t i = 0; i < n_inputs; i++) {
                        const cli_input *in = &inputs[i];
                        struct stat ist;
                        if (!in->path || stat(in->path, &ist) < 0)
                                continue;
                        if (ist.st_dev == st.st_dev && ist.st_ino == st.st_ino)
                                return refuse_input(out, in, in->path, streq(in->path, out->path));
                        if (in->tree && S_ISDIR(ist.st_mode) && S_ISREG(st.st_mode)) {
                                tree_target = st;
                                tree_match[0] = '\0';
                                if (nftw(in->path, tree_visit, 16, FTW_PHYS) == 1)
                                        return refuse_input(out, in, tree_match, false);
                        }
                }

        /* A directory is left to the writer, which says it cannot replace
         * one; anything else must be of the output's kind, or --force. */
        if (out->force || (exists && S_ISDIR(st.st_mode)) || (exists && is_kind(out->path, out->kind)))
                return CLI_EXIT_OK;
        rp_error err = {};
        _cleanup_free_ char *hint = NULL;
        if (out->kind == CLI_OUTPUT_NEW)
                rp_error_set(&err, -EEXIST, "%s already exists; not replacing it", out->path);
        else
                rp_error_set(&err, -EEXIST, "%s already exists and is not %s; not replacing it with %s",
                             out->path, kind_name(out->kind), out->what);
        if (asprintf(&hint, "use --force to replace it, or give %s another path (%s)", out->what, out->option) < 0)
                hint = NULL;
        return cli_fail(-EEXIST, &err, hint);
}
