/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's profile file and API token files (profile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "profile.h"

void cli_profile_clear(cli_profile *p) {
        if (!p)
                return;
        free(p->server);
        free(p->ca_file);
        free(p->token_file);
        free(p->tenant);
        *p = (cli_profile) {};
}

static const char *env(const char *name) {
        const char *v = secure_getenv(name);
        return v && *v ? v : NULL;
}

int cli_profile_path(char **ret, rp_error *err) {
        const char *dir = env("RAMPART_CONFIG_DIR"), *xdg = env("XDG_CONFIG_HOME"), *home = env("HOME");
        char *p = NULL;
        int r;
        if (dir)
                r = asprintf(&p, "%s/%s", dir, CLI_PROFILE_FILE);
        else if (xdg)
                r = asprintf(&p, "%s/rampart/%s", xdg, CLI_PROFILE_FILE);
        else if (home)
                r = asprintf(&p, "%s/.config/rampart/%s", home, CLI_PROFILE_FILE);
        else
                return rp_error_set(err, -ENOENT, "no place for the profile: set RAMPART_CONFIG_DIR, "
                                    "XDG_CONFIG_HOME or HOME");
        if (r < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = p;
        return 0;
}

/* Reads all of fd, at most max bytes (-EFBIG beyond), NUL-terminated. What
 * was read is wiped on failure: it may be a token. */
static int read_fd(int fd, const char *path, size_t max, char **ret, size_t *ret_len, rp_error *err) {
        char *buf = malloc(max + 2);
        if (!buf)
                return rp_error_set(err, -ENOMEM, "out of memory");
        size_t len = 0;
        int r = 0;
        for (;;) {
                ssize_t k = read(fd, buf + len, max + 1 - len);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        r = rp_error_set_errno(err, -errno, "%s: read failed", path);
                        break;
                }
                if (k == 0)
                        break;
                len += (size_t) k;
                if (len > max) {
                        r = rp_error_set(err, -EFBIG, "%s: larger than %zu bytes", path, max);
                        break;
                }
        }
        if (r < 0) {
                OPENSSL_cleanse(buf, max + 2);
                free(buf);
                return r;
        }
        buf[len] = '\0';
        *ret = buf;
        *ret_len = len;
        return 0;
}

/* The value of key: NULL if absent (or null, where allowed), else a
 * string within the limits. */
static int get_value(json_t *root, const char *path, const char *key, bool nullable, char **ret, rp_error *err) {
        json_t *v = json_object_get(root, key);
        if (!v || (nullable && json_is_null(v))) {
                *ret = NULL;
                return 0;
        }
        if (!json_is_string(v))
                return rp_error_set(err, -EINVAL, "%s: \"%s\": expected a string%s", path, key,
                                    nullable ? " or null" : "");
        size_t n = json_string_length(v);
        const char *s = json_string_value(v);
        if (n == 0 || n > CLI_PROFILE_VALUE_MAX)     /* jansson refuses \u0000 already */
                return rp_error_set(err, -EINVAL, "%s: \"%s\": expected 1 to %d bytes", path, key,
                                    CLI_PROFILE_VALUE_MAX);
        char *copy = strdup(s);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = copy;
        return 0;
}

int cli_profile_load(const char *path, cli_profile *ret, bool *ret_exists, rp_error *err) {
        struct stat st;
        rp_error e = {};
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, path, 0, &st, &e);
        if (fd == -ENOENT) {
                *ret = (cli_profile) {};
                *ret_exists = false;
                return 0;
        }
        if (fd < 0) {
                if (err)
                        *err = e;
                return fd;
        }
        if (st.st_uid != geteuid())
                return rp_error_set(err, -EPERM, "%s: owned by uid %u, not by you (uid %u): the profile says "
                                    "where your token is sent, so rampart uses only your own", path,
                                    (unsigned) st.st_uid, (unsigned) geteuid());
        if (st.st_mode & (S_IWGRP | S_IWOTH))
                return rp_error_set(err, -EPERM, "%s: writable by group or others (mode %04o): the profile says "
                                    "where your token is sent; chmod 600 it", path, (unsigned) (st.st_mode & 07777));
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r = read_fd(fd, path, CLI_PROFILE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        json_error_t jerr;
        json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
        if (!root)
                return rp_error_set(err, -EINVAL, "%s: line %d: %s", path, jerr.line, jerr.text);
        cli_profile p = {};
        if (!json_is_object(root))
                r = rp_error_set(err, -EINVAL, "%s: expected a JSON object", path);
        else if ((r = get_value(root, path, "server", false, &p.server, err)) >= 0 &&
                 (r = get_value(root, path, "ca_file", false, &p.ca_file, err)) >= 0 &&
                 (r = get_value(root, path, "token_file", false, &p.token_file, err)) >= 0)
                r = get_value(root, path, "tenant", true, &p.tenant, err);
        json_decref(root);
        if (r < 0) {
                cli_profile_clear(&p);
                return r;
        }
        *ret = p;
        *ret_exists = true;
        return 0;
}

/* mkdir path (0700) unless it exists. */
static int make_dir(const char *path, rp_error *err) {
        if (mkdir(path, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "%s: cannot create the directory", path);
        return 0;
}

int cli_profile_save(const char *path, const cli_profile *p, rp_error *err) {
        /* The profile's directory, and its parent (~/.config may be missing). */
        _cleanup_free_ char *dir = strdup(path);
        if (!dir)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char *slash = strrchr(dir, '/');
        if (slash && slash != dir) {
                *slash = '\0';
                char *up = strrchr(dir, '/');
                if (up && up != dir) {
                        *up = '\0';
                        int r = make_dir(dir, err);
                        if (r < 0)
                                return r;
                        *up = '/';
                }
                int r = make_dir(dir, err);
                if (r < 0)
                        return r;
        }
        json_t *j = json_pack("{s:s, s:s, s:s, s:s*}", "server", p->server, "ca_file", p->ca_file,
                              "token_file", p->token_file, "tenant", p->tenant);
        if (!j)
                return rp_error_set(err, -ENOMEM, "out of memory (or a value that is not UTF-8)");
        _cleanup_free_ char *text = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        if (!text)
                return rp_error_set(err, -ENOMEM, "out of memory");
        size_t n = strlen(text);
        text[n] = '\n';         /* json_dumps' NUL becomes the final newline */
        return rp_write_file_atomic(path, text, n + 1, 0600, err);
}

int cli_token_read(const char *path, char **ret, rp_error *err) {
        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, path, 0, &st, err);
        if (fd < 0)
                return fd;
        if (st.st_mode & (S_IRWXG | S_IRWXO))
                return rp_error_set(err, -EPERM, "%s: group or others may read it (mode %04o): an API token "
                                    "must be yours alone; chmod 600 it", path, (unsigned) (st.st_mode & 07777));
        char *text = NULL;
        size_t len = 0;
        int r = read_fd(fd, path, CLI_TOKEN_FILE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        if (len > 0 && text[len - 1] == '\n')
                text[--len] = '\0';
        if (len > 0 && text[len - 1] == '\r')
                text[--len] = '\0';
        r = 0;
        if (len == 0)
                r = rp_error_set(err, -EINVAL, "%s: empty; expected an API token (rpt_ and 64 hex digits)", path);
        else if (strlen(text) != len || memchr(text, '\n', len) || memchr(text, '\r', len))
                r = rp_error_set(err, -EINVAL, "%s: expected one line holding an API token (rpt_ and 64 hex "
                                 "digits)", path);
        if (r < 0) {
                OPENSSL_cleanse(text, len);
                free(text);
                return r;
        }
        *ret = text;
        return 0;
}
