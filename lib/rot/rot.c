/* SPDX-License-Identifier: Apache-2.0 */
/* The root of trust's backend table, and D/rot.conf: which backend a
 * provisioned state directory uses. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/rot.h"

#define ROT_CONF_NAME "rot.conf"
#define ROT_CONF_MAX 4096
#define ROT_CONF_VALUE_MAX 256

/* Every backend, one line each. */
static const rp_rot_backend *const backends[] = {
        &rp_rot_backend_soft,
        &rp_rot_backend_tpm2,
};

const rp_rot_backend *rp_rot_backend_find(const char *name) {
        if (!name)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(backends); i++)
                if (streq(backends[i]->name, name))
                        return backends[i];
        return NULL;
}

void rp_rot_backend_names(char *buf, size_t size) {
        size_t n = 0;
        buf[0] = 0;
        for (size_t i = 0; i < ELEMENTSOF(backends) && n < size; i++)
                n += (size_t) snprintf(buf + n, size - n, "%s%s", i ? ", " : "", backends[i]->name);
}

/* A value for rot.conf: 1..ROT_CONF_VALUE_MAX printable bytes (no control
 * character, so no newline either), and no '=' in a name. */
static bool conf_value_ok(const char *s, size_t len, bool is_name) {
        return len > 0 && len <= ROT_CONF_VALUE_MAX && rp_str_is_printable(s, len) &&
               !(is_name && memchr(s, '=', len));
}

int rp_rot_write_conf(const char *state_dir, const char *backend, const char *tpm, rp_error *err) {
        if (!backend || !conf_value_ok(backend, strlen(backend), true))
                return rp_error_set(err, -EINVAL, "rot.conf: the backend name is empty, too long or holds a "
                                    "control character or '='");
        if (tpm && !conf_value_ok(tpm, strlen(tpm), false))
                return rp_error_set(err, -EINVAL, "rot.conf: the TPM configuration is empty, over %d bytes or "
                                    "holds a control character", ROT_CONF_VALUE_MAX);
        _cleanup_free_ char *path = NULL, *text = NULL;
        if (asprintf(&path, "%s/" ROT_CONF_NAME, state_dir) < 0 ||
            asprintf(&text, "backend=%s\n%s%s%s", backend, tpm ? "tpm=" : "", tpm ? tpm : "", tpm ? "\n" : "") < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return rp_write_file_atomic(path, text, strlen(text), 0644, err);
}

typedef struct rot_conf {
        const rp_rot_backend *backend;
        char tpm[ROT_CONF_VALUE_MAX + 1];   /* "" if not given */
} rot_conf;

/* One "key=value" line (without its newline) of path. */
static int parse_line(const char *path, unsigned lineno, const char *line, size_t len, rot_conf *conf,
                      rp_error *err) {
        const char *eq = memchr(line, '=', len);
        if (!eq)
                return rp_error_set(err, -EINVAL, "%s:%u: expected key=value", path, lineno);
        size_t klen = (size_t) (eq - line), vlen = len - klen - 1;
        const char *value = eq + 1;
        if (!conf_value_ok(value, vlen, false) || value[0] == ' ' || value[vlen - 1] == ' ')
                return rp_error_set(err, -EINVAL, "%s:%u: the value is empty, over %d bytes, has spaces around "
                                    "it or holds a control character", path, lineno, ROT_CONF_VALUE_MAX);
        if (klen == 7 && memcmp(line, "backend", 7) == 0) {
                if (conf->backend)
                        return rp_error_set(err, -EINVAL, "%s:%u: backend= given twice", path, lineno);
                char name[ROT_CONF_VALUE_MAX + 1];
                memcpy(name, value, vlen);
                name[vlen] = 0;
                conf->backend = rp_rot_backend_find(name);
                if (!conf->backend) {
                        char names[128];
                        rp_rot_backend_names(names, sizeof names);
                        return rp_error_set(err, -EOPNOTSUPP, "%s:%u: unknown backend '%s' (this build has: %s)",
                                            path, lineno, name, names);
                }
                return 0;
        }
        if (klen == 3 && memcmp(line, "tpm", 3) == 0) {
                if (conf->tpm[0])
                        return rp_error_set(err, -EINVAL, "%s:%u: tpm= given twice", path, lineno);
                memcpy(conf->tpm, value, vlen);
                conf->tpm[vlen] = 0;
                return 0;
        }
        /* The key is shown only if it is printable text. */
        bool printable = klen <= 64 && rp_str_is_printable(line, klen);
        return rp_error_set(err, -EINVAL, "%s:%u: unknown key '%.*s' (known: backend, tpm)", path, lineno,
                            printable ? (int) klen : 0, line);
}

/* Parses rot.conf: "key=value" lines; empty lines and lines starting with
 * '#' are skipped; the last line may lack its newline. */
static int parse_conf(const char *path, const char *text, size_t len, rot_conf *ret, rp_error *err) {
        if (memchr(text, 0, len))
                return rp_error_set(err, -EINVAL, "%s: holds a NUL byte", path);
        rot_conf conf = {};
        unsigned lineno = 0;
        for (const char *p = text, *end = text + len; p < end;) {
                const char *nl = memchr(p, '\n', (size_t) (end - p));
                size_t n = nl ? (size_t) (nl - p) : (size_t) (end - p);
                lineno++;
                if (n > 0 && p[0] != '#') {
                        int r = parse_line(path, lineno, p, n, &conf, err);
                        if (r < 0)
                                return r;
                }
                p += n + (nl ? 1 : 0);
        }
        if (!conf.backend)
                return rp_error_set(err, -EINVAL, "%s: no backend= line", path);
        *ret = conf;
        return 0;
}

int rp_rot_open(const rp_rot_config *cfg, rp_rot **ret, rp_error *err) {
        if (!cfg || !cfg->state_dir || !*cfg->state_dir)
                return rp_error_set(err, -EINVAL, "no state directory given");
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/" ROT_CONF_NAME, cfg->state_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ uint8_t *text = NULL;
        size_t len;
        rp_error read_err = {};
        int r = rp_read_file(path, ROT_CONF_MAX, &text, &len, &read_err);
        if (r == -ENOENT)
                return rp_error_set(err, r, "%s: not provisioned (no %s; run 'rampart factory provision')",
                                    cfg->state_dir, path);
        if (r < 0) {
                if (err)
                        *err = read_err;
                return r;
        }
        rot_conf conf;
        r = parse_conf(path, (const char *) text, len, &conf, err);
        if (r < 0)
                return r;

        rp_rot_config c = *cfg;
        if (!c.tpm && conf.tpm[0])
                c.tpm = conf.tpm;
        _cleanup_free_ rp_rot *rot = calloc(1, sizeof *rot);
        if (!rot)
                return rp_error_set(err, -ENOMEM, "out of memory");
        rot->backend = conf.backend;
        r = conf.backend->open(&c, &rot->state, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(rot);
        return 0;
}

void rp_rot_close(rp_rot *rot) {
        if (!rot)
                return;
        rot->backend->close(rot->state);
        free(rot);
}
