/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-secmon's command line and configuration file.
 *
 * D/secmon.conf (or --config FILE), one setting a line, '#' starts a comment:
 *
 *   allow REQUEST UID[,UID...]     REQUEST: a request name, or "all"
 *   measure NAME PATH [VERSION]    a component to measure, in order
 *   dbgstat N                      the evidence's dbgstat claim, 0..4
 *
 * A flag replaces what the file says for the same setting: --allow for the
 * requests it names, --measure for the whole list, --dbgstat. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "secmon.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

static int help(void) {
        printf("Usage: rampart-secmon --state-dir D [OPTIONS]\n\n"
               "The security monitor: the one process that opens the device's root of trust\n"
               "(soft or tpm2, as D/rot.conf says). It measures the running software, issues the\n"
               "Alias certificate and answers local clients on a Unix socket: identity, chain,\n"
               "evidence, signatures, counters, sealing. Logs go to stderr, one line per event.\n\n"
               "Options:\n"
               "      --state-dir D            the provisioned state directory (required)\n"
               "      --socket PATH            where to listen (default D/secmon.sock)\n"
               "      --config FILE            settings file (default D/secmon.conf if present)\n"
               "      --allow REQUEST=UID[,UID...]  uids allowed REQUEST (or 'all'); repeatable;\n"
               "                               uid 0 and secmon's own uid are always allowed\n"
               "      --measure NAME=PATH      measure the file PATH as component NAME; repeatable;\n"
               "                               rampart-secmon's own binary is always measured first\n"
               "      --sw-version V           the software version in evidence (default %s)\n"
               "      --dbgstat N              the evidence's debug status, 0..4 (RFC 9711)\n"
               "      --tpm TCTI               tpm2 backend: the TPM (e.g. swtpm:host=H,port=P)\n"
               "      --idle-timeout S         close a connection idle for S seconds (default 60)\n"
               "  -h, --help                   show this help\n"
               "      --version                show the version\n\n"
               "Requests: info chain evidence sign counter-read counter-advance seal unseal.\n",
               RAMPART_VERSION);
        return 0;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "rampart-secmon: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'rampart-secmon --help'.\n");
        va_end(ap);
        return 2;
}

/* allow: REQUEST ("all" or a name) and "UID[,UID...]". */
static int set_allow(secmon_settings *s, const char *request, char *uids, rp_error *err) {
        rp_secmon_type t = 0;
        if (!streq(request, "all") && rp_secmon_type_from_name(request, &t) < 0)
                return rp_error_set(err, -EINVAL, "allow: unknown request '%s'", request);
        secmon_allow a = { .set = true };
        char *save = NULL;
        for (char *u = strtok_r(uids, ",", &save); u; u = strtok_r(NULL, ",", &save)) {
                char *end;
                errno = 0;
                unsigned long v = strtoul(u, &end, 10);
                if (!*u || *end || errno || *u == '-' || *u == '+' || v >= (uid_t) -1)
                        return rp_error_set(err, -EINVAL, "allow %s: '%s' is not a numeric uid", request, u);
                if (a.n == SECMON_ALLOW_MAX)
                        return rp_error_set(err, -EFBIG, "allow %s: more than %d uids", request, SECMON_ALLOW_MAX);
                a.uid[a.n++] = (uid_t) v;
        }
        if (a.n == 0)
                return rp_error_set(err, -EINVAL, "allow %s: no uid", request);
        for (unsigned i = 1; i <= RP_SECMON_TYPE_MAX; i++)
                if (t == 0 || i == t)
                        s->allow[i] = a;
        return 0;
}

static int add_measure(secmon_settings *s, const char *name, const char *path, const char *version,
                       rp_error *err) {
        /* measure[0] is left for rampart-secmon itself. */
        if (s->n_measure + 1 >= RP_MEASURE_MAX_COMPONENTS)
                return rp_error_set(err, -EFBIG, "measure: more than %d components", RP_MEASURE_MAX_COMPONENTS - 1);
        if (!*name || !*path)
                return rp_error_set(err, -EINVAL, "measure: empty name or path");
        s->measure[1 + s->n_measure++] = (rp_measure_spec) { name, version ? version : "", path };
        return 0;
}

static int set_dbgstat(secmon_settings *s, const char *v, rp_error *err) {
        if (strlen(v) != 1 || v[0] < '0' || v[0] > '4')
                return rp_error_set(err, -EINVAL, "dbgstat: '%s' is not 0 to 4", v);
        s->dbgstat = v[0] - '0';
        return 0;
}

/* One line of the file, split in place into words. */
static int parse_line(secmon_settings *s, char *line, rp_error *err) {
        char *w[5], *save = NULL;
        size_t n = 0;
        for (char *t = strtok_r(line, " \t\r", &save); t && n < ELEMENTSOF(w); t = strtok_r(NULL, " \t\r", &save))
                w[n++] = t;
        if (n == 0 || w[0][0] == '#')
                return 0;
        if (streq(w[0], "allow") && n == 3)
                return set_allow(s, w[1], w[2], err);
        if (streq(w[0], "measure") && (n == 3 || n == 4))
                return add_measure(s, w[1], w[2], n == 4 ? w[3] : NULL, err);
        if (streq(w[0], "dbgstat") && n == 2)
                return set_dbgstat(s, w[1], err);
        if (streq(w[0], "allow") || streq(w[0], "measure") || streq(w[0], "dbgstat"))
                return rp_error_set(err, -EINVAL, "%s: wrong number of words", w[0]);
        return rp_error_set(err, -EINVAL, "unknown setting '%s'", w[0]);
}

/* Reads the file into s; a missing default file is no error. */
static int parse_file(const char *path, bool required, secmon_settings *s, char **ret_text, rp_error *err) {
        struct stat st;
        if (!required && stat(path, &st) < 0 && errno == ENOENT)
                return 0;
        uint8_t *text = NULL;
        size_t len;
        int r = rp_read_file(path, SECMON_CONFIG_MAX, &text, &len, err);
        if (r < 0)
                return r;
        *ret_text = (char *) text;
        /* It says who may use the device's keys: only its owner may write it. */
        if (stat(path, &st) == 0 && (st.st_mode & 022))
                return rp_error_set(err, -EPERM, "%s: writable by group or others (mode %03o); refusing it", path,
                                    st.st_mode & 0777);
        if (memchr(text, '\0', len))
                return rp_error_set(err, -EINVAL, "%s: holds a NUL byte", path);
        unsigned lineno = 1;
        for (char *line = (char *) text, *next; line; line = next, lineno++) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                r = parse_line(s, line, err);
                if (r < 0)
                        return rp_error_prefix(err, r, "%s:%u: ", path, lineno);
        }
        return 0;
}

/* The options, into flags (allow and measure point into argv). */
static int parse_args(int argc, char **argv, secmon_config *cfg, secmon_settings *flags) {
        static const struct option opts[] = {
                { "state-dir",  required_argument, NULL, 'd' },
                { "socket",     required_argument, NULL, 's' },
                { "config",     required_argument, NULL, 'c' },
                { "allow",      required_argument, NULL, 'a' },
                { "measure",    required_argument, NULL, 'm' },
                { "sw-version", required_argument, NULL, 'V' },
                { "dbgstat",    required_argument, NULL, 'g' },
                { "tpm",        required_argument, NULL, 't' },
                { "idle-timeout", required_argument, NULL, 'i' },
                { "help",       no_argument,       NULL, 'h' },
                { "version",    no_argument,       NULL, 'v' },
                {}
        };
        rp_error err = {};
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1; ) {
                char *arg = optarg ? optarg : (char *) "";   /* "" for options without a value */
                char *eq = strchr(arg, '=');
                int r = 0;
                switch (c) {
                case 'd': cfg->state_dir = arg; break;
                case 's': cfg->socket_path = arg; break;
                case 'c': cfg->config_path = arg; break;
                case 'V': cfg->sw_version = arg; break;
                case 't': cfg->tpm = arg; break;
                case 'h': return help();
                case 'v': printf("rampart-secmon %s\n", RAMPART_VERSION); return 0;
                case 'g': r = set_dbgstat(flags, arg, &err); break;
                case 'i':
                        cfg->idle_timeout = (unsigned) strtoul(arg, &eq, 10);
                        if (*eq || !isdigit((unsigned char) *arg) || cfg->idle_timeout < 1 ||
                            cfg->idle_timeout > 86400)
                                return usage("--idle-timeout: expected 1 to 86400 seconds, got '%s'", arg);
                        break;
                case 'a':
                case 'm':
                        if (!eq)
                                return usage(c == 'a' ? "--allow: expected REQUEST=UID[,UID...], got '%s'"
                                                      : "--measure: expected NAME=PATH, got '%s'", arg);
                        *eq = '\0';
                        r = c == 'a' ? set_allow(flags, arg, eq + 1, &err)
                                     : add_measure(flags, arg, eq + 1, NULL, &err);
                        break;
                case ':': return usage("option '%s' needs a value", argv[optind - 1]);
                default: return usage("unknown option '%s'", argv[optind - 1]);
                }
                if (r < 0)
                        return usage("%s", err.message);
        }
        if (optind < argc)
                return usage("unexpected argument '%s'", argv[optind]);
        if (!cfg->state_dir || !*cfg->state_dir)
                return usage("%s", "missing --state-dir D");
        return -1;
}

int secmon_config_load(int argc, char **argv, secmon_config *cfg) {
        secmon_settings flags = { .dbgstat = -1 }, file = { .dbgstat = -1 };
        *cfg = (secmon_config) { .sw_version = RAMPART_VERSION, .idle_timeout = 60 };
        int x = parse_args(argc, argv, cfg, &flags);
        if (x >= 0)
                return x;

        if (!cfg->socket_path &&
            asprintf(&cfg->owned[0], "%s/%s", cfg->state_dir, RP_SECMON_SOCKET_NAME) < 0)
                return 1;
        cfg->socket_path = cfg->socket_path ? cfg->socket_path : cfg->owned[0];
        bool required = cfg->config_path;
        if (!required && asprintf(&cfg->owned[1], "%s/secmon.conf", cfg->state_dir) < 0)
                return 1;
        cfg->config_path = required ? cfg->config_path : cfg->owned[1];
        rp_error err = {};
        int r = parse_file(cfg->config_path, required, &file, &cfg->owned[2], &err);
        if (r < 0) {
                char q[SECMON_QUOTE_MAX];
                secmon_log("event=fail reason=%s", secmon_quote(err.message, q, sizeof q));
                return 1;
        }

        cfg->config_read = cfg->owned[2] != NULL;

        /* Flags win, setting by setting. */
        secmon_settings *s = &cfg->s;
        for (unsigned t = 1; t <= RP_SECMON_TYPE_MAX; t++)
                s->allow[t] = flags.allow[t].set ? flags.allow[t] : file.allow[t];
        const secmon_settings *m = flags.n_measure ? &flags : &file;
        memcpy(s->measure, m->measure, sizeof s->measure);
        s->measure[0] = (rp_measure_spec) { "rampart-secmon", RAMPART_VERSION, "/proc/self/exe" };
        s->n_measure = 1 + m->n_measure;
        s->dbgstat = flags.dbgstat >= 0 ? flags.dbgstat : file.dbgstat;
        return -1;
}

void secmon_config_free(secmon_config *cfg) {
        for (size_t i = 0; i < ELEMENTSOF(cfg->owned); i++)
                free(cfg->owned[i]);
}

bool secmon_allowed(const secmon_config *cfg, rp_secmon_type type, uid_t uid) {
        if (uid == 0 || uid == geteuid())
                return true;
        const secmon_allow *a = &cfg->s.allow[type];
        for (size_t i = 0; i < a->n; i++)
                if (a->uid[i] == uid)
                        return true;
        return false;
}

int secmon_dbgstat(const secmon_config *cfg, bool development) {
        return cfg->s.dbgstat >= 0 ? cfg->s.dbgstat : development ? 0 : 1;
}
