/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-server's command line and configuration file (config.h).
 *
 * One table lists every setting: its flag, which is also its key in the
 * file, its type and its bounds. The file is read first, then every flag is
 * applied over it in order, so a flag always wins. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "config.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "store/migrate.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

typedef enum setting_type {
        S_STRING,       /* char * */
        S_NAMES,        /* tls_names: repeatable */
        S_BOOL,         /* bool: true/false, yes/no, on/off, 1/0 (a flag alone: true) */
        S_UNSIGNED,     /* unsigned, in [min, max] */
        S_SIZE,         /* size_t bytes, in [min, max]; suffix K, M or G (1024-based) */
        S_RATE,         /* double, in [min, max] */
} setting_type;

typedef struct setting {
        const char *name;       /* the flag without "--", and the file's key */
        setting_type type;
        size_t offset;          /* in rp_server_config */
        double min, max;
} setting;

#define OFF(field) offsetof(rp_server_config, field)

static const setting settings[] = {
        { "data-dir",        S_STRING,   OFF(data_dir),        0, 0 },
        { "listen",          S_STRING,   OFF(listen),          0, 0 },
        { "store",           S_STRING,   OFF(store),           0, 0 },
        { "workers",         S_UNSIGNED, OFF(workers),         1, 256 },
        { "tls-cert",        S_STRING,   OFF(tls_cert),        0, 0 },
        { "tls-key",         S_STRING,   OFF(tls_key),         0, 0 },
        { "tls-name",        S_NAMES,    OFF(tls_names),       0, 0 },
        { "tls12",           S_BOOL,     OFF(tls12),           0, 0 },
        { "max-body",        S_SIZE,     OFF(max_body),        1024, 1024.0 * 1024 * 1024 },
        { "max-header",      S_SIZE,     OFF(max_header),      1024, 1024.0 * 1024 },
        { "max-connections", S_UNSIGNED, OFF(max_connections), 1, 1000000 },
        { "rate",            S_RATE,     OFF(rate),            0, 1e6 },
        { "burst",           S_UNSIGNED, OFF(burst),           1, 1000000 },
        { "idle-timeout",    S_UNSIGNED, OFF(idle_timeout),    1, 86400 },
        { "request-timeout", S_UNSIGNED, OFF(request_timeout), 1, 3600 },
        { "nonce-ttl",       S_UNSIGNED, OFF(nonce_ttl),       1, 3600 },
        { "cert-lifetime",   S_UNSIGNED, OFF(cert_lifetime),   1, 366 * 86400 },
        { "blob-store",      S_STRING,   OFF(blob_store),      0, 0 },
        { "max-image-size",  S_SIZE,     OFF(max_image_size),  1024, 64.0 * 1024 * 1024 * 1024 },
        { "upload-ttl",      S_UNSIGNED, OFF(upload_ttl),      60, 30 * 86400 },
        { "document-lifetime", S_UNSIGNED, OFF(document_lifetime), 1, 366 * 86400 },
        { "report-max-events", S_UNSIGNED, OFF(report_max_events), 1, 1000000 },
        { "report-max-age",  S_UNSIGNED, OFF(report_max_age),  60, 366 * 86400 },
        { "report-max-batch", S_UNSIGNED, OFF(report_max_batch), 1, 10000 },
};

/* Flags that are not settings. */
enum {
        OPT_CONFIG = 0x100,
        OPT_PRINT_ROUTES,
        OPT_PRINT_SCHEMA,
        OPT_VERSION,
        OPT_SETTING,            /* + index in settings[] */
};

static int help(void) {
        printf("Usage: rampart-server --data-dir D [OPTIONS]\n\n"
               "The rampart security service: tenants, users, device claims, attestation and\n"
               "device certificates, over HTTPS. With nothing but --data-dir it creates its TLS\n"
               "certificate, an SQLite store and an operator token in D at first start.\n"
               "Logs go to stderr, one line per event (docs/operations.md).\n\n"
               "Options (each also a 'key = value' line in the --config file, without '--'):\n"
               "      --data-dir D             state: tls/, rampart.db, admin.token (required)\n"
               "      --listen HOST:PORT       address to listen on (default 127.0.0.1:8443;\n"
               "                               [::1]:PORT for IPv6; port 0 picks a free one)\n"
               "      --store URL              sqlite:PATH (default sqlite:D/rampart.db) or\n"
               "                               postgres://... (shared by several servers)\n"
               "      --workers N              worker threads (default: the number of CPUs)\n"
               "      --config F               read settings from F; flags override it\n"
               "      --tls-cert F --tls-key F serve this certificate instead of D/tls/server.pem\n"
               "      --tls-name NAME          also name NAME in D/tls/server.pem (repeatable)\n"
               "      --tls12[=BOOL]           also accept TLS 1.2 (default: TLS 1.3 only)\n"
               "      --max-body N             largest request body in bytes (default 1M)\n"
               "      --max-header N           largest request line and headers (default 16K)\n"
               "      --max-connections N      open connections at most (default 16384)\n"
               "      --rate R                 requests per second per client address (default\n"
               "                               200; 0: no limit)\n"
               "      --burst N                requests a client may make at once (default 400)\n"
               "      --idle-timeout S         close connections idle for S seconds (default 60)\n"
               "      --request-timeout S      a whole request must arrive within S seconds,\n"
               "                               TLS handshake included (default 10)\n"
               "      --nonce-ttl S            attestation nonces expire after S seconds (default 60)\n"
               "      --cert-lifetime S        device certificates last S seconds (default 86400)\n"
               "      --blob-store URL         where image packages are kept: dir:PATH (default\n"
               "                               dir:D/blobs; shared storage for several servers)\n"
               "      --max-image-size N       largest image package accepted (default 1025M)\n"
               "      --upload-ttl S           unfinished uploads are dropped after S seconds\n"
               "                               (default 86400)\n"
               "      --document-lifetime S    deployment documents expire after S seconds\n"
               "                               (default 86400)\n"
               "      --report-max-events N    failure reports kept per device (default 1000)\n"
               "      --report-max-age S       failure reports kept S seconds (default 1209600,\n"
               "                               14 days)\n"
               "      --report-max-batch N     failure reports in one upload at most (default 100)\n"
               "      --print-routes           print every route as 'METHOD PATH' and exit\n"
               "      --print-schema-version   print the store schema version this binary brings a store to, and exit\n"
               "  -h, --help                   show this help\n"
               "      --version                show the version\n");
        return 0;
}

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "rampart-server: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\nTry 'rampart-server --help'.\n");
        va_end(ap);
        return 2;
}

unsigned rp_config_default_workers(void) {
        cpu_set_t set;
        if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
                return (unsigned) CPU_COUNT(&set);
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        return n > 0 ? (unsigned) n : 1;
}

static void free_names(rp_server_config *cfg) {
        for (size_t i = 0; i < cfg->n_tls_names; i++)
                free(cfg->tls_names[i]);
        free(cfg->tls_names);
        cfg->tls_names = NULL;
        cfg->n_tls_names = 0;
}

void rp_config_free(rp_server_config *cfg) {
        free(cfg->data_dir);
        free(cfg->listen);
        free(cfg->store);
        free(cfg->blob_store);
        free(cfg->tls_cert);
        free(cfg->tls_key);
        free_names(cfg);
        *cfg = (rp_server_config) {};
}

/* A name a certificate may carry in its subjectAltName: a DNS name (letters,
 * digits, '-', '.', a leading "*." for a wildcard) or an IP address. */
static bool tls_name_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n > 253)
                return false;
        if (strncmp(s, "*.", 2) == 0)
                s += 2;
        bool ip6 = strchr(s, ':') != NULL;
        for (const char *p = s; *p; p++) {
                char c = *p;
                if (!(isalnum((unsigned char) c) || c == '-' || c == '.' || (ip6 && c == ':')))
                        return false;
        }
        return *s && s[0] != '.' && s[0] != '-';
}

/* Decimal digits only, then for sizes an optional K, M or G. */
static int parse_number(const setting *st, const char *v, double *ret, rp_error *err) {
        const char *p = v;
        if (!isdigit((unsigned char) *p))
                goto bad;
        errno = 0;
        char *end;
        double d = 0;
        if (st->type == S_RATE) {
                d = strtod(p, &end);
                if (errno || !isfinite(d))
                        goto bad;
        } else {
                unsigned long long u = strtoull(p, &end, 10);
                if (errno)
                        goto bad;
                d = (double) u;
                if (st->type == S_SIZE && *end) {
                        static const char units[] = "KMG";
                        const char *u_at = strchr(units, toupper((unsigned char) *end));
                        if (!u_at)
                                goto bad;
                        d *= pow(1024, (double) (u_at - units + 1));
                        end++;
                }
        }
        if (*end)
                goto bad;
        if (d < st->min || d > st->max)
                return rp_error_set(err, -ERANGE, "%s: %s is out of range (%.10g to %.10g)", st->name, v, st->min,
                                    st->max);
        *ret = d;
        return 0;
bad:
        return rp_error_set(err, -EINVAL, "%s: '%s' is not a %s", st->name, v,
                            st->type == S_SIZE ? "size in bytes (digits, then optionally K, M or G)" :
                            st->type == S_RATE ? "number" : "whole number");
}

/* Sets one setting from its text. names_replace: the first --tls-name flag
 * replaces the file's list. */
static int apply(rp_server_config *cfg, const setting *st, const char *v, bool *names_replace, rp_error *err) {
        void *field = (char *) cfg + st->offset;
        double d = 0;
        int r;
        switch (st->type) {
        case S_STRING: {
                if (!*v)
                        return rp_error_set(err, -EINVAL, "%s: empty value", st->name);
                if (st->offset == OFF(listen)) {
                        struct sockaddr_storage ss;
                        socklen_t len;
                        r = rp_config_parse_listen(v, &ss, &len, err);
                        if (r < 0)
                                return r;
                }
                char *copy = strdup(v);
                if (!copy)
                        return rp_error_set(err, -ENOMEM, "out of memory");
                free(*(char **) field);
                *(char **) field = copy;
                return 0;
        }
        case S_NAMES: {
                if (!tls_name_valid(v))
                        return rp_error_set(err, -EINVAL, "%s: '%s' is not a DNS name or an IP address", st->name, v);
                if (names_replace && *names_replace) {
                        free_names(cfg);
                        *names_replace = false;
                }
                if (cfg->n_tls_names >= RP_CONFIG_TLS_NAMES_MAX)
                        return rp_error_set(err, -EFBIG, "%s: more than %d names", st->name, RP_CONFIG_TLS_NAMES_MAX);
                char **names = realloc(cfg->tls_names, (cfg->n_tls_names + 1) * sizeof *names);
                if (!names)
                        return rp_error_set(err, -ENOMEM, "out of memory");
                cfg->tls_names = names;
                if (!(names[cfg->n_tls_names] = strdup(v)))
                        return rp_error_set(err, -ENOMEM, "out of memory");
                cfg->n_tls_names++;
                return 0;
        }
        case S_BOOL:
                if (streq(v, "true") || streq(v, "yes") || streq(v, "on") || streq(v, "1"))
                        *(bool *) field = true;
                else if (streq(v, "false") || streq(v, "no") || streq(v, "off") || streq(v, "0"))
                        *(bool *) field = false;
                else
                        return rp_error_set(err, -EINVAL, "%s: '%s' is not true or false", st->name, v);
                return 0;
        case S_UNSIGNED:
        case S_SIZE:
        case S_RATE:
                r = parse_number(st, v, &d, err);
                if (r < 0)
                        return r;
                if (st->type == S_UNSIGNED)
                        *(unsigned *) field = (unsigned) d;
                else if (st->type == S_SIZE)
                        *(size_t *) field = (size_t) d;
                else
                        *(double *) field = d;
                return 0;
        }
        return rp_error_set(err, -EINVAL, "%s: unknown setting type", st->name);
}

int rp_config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len, rp_error *err) {
        char host[64];
        const char *colon;
        if (s[0] == '[') {
                const char *close = strchr(s, ']');
                if (!close || close[1] != ':' || (size_t) (close - s - 1) >= sizeof host)
                        return rp_error_set(err, -EINVAL, "listen: '%s' is not HOST:PORT or [IPv6]:PORT", s);
                memcpy(host, s + 1, (size_t) (close - s - 1));
                host[close - s - 1] = '\0';
                colon = close + 1;
        } else {
                colon = strrchr(s, ':');
                if (!colon || (size_t) (colon - s) >= sizeof host || memchr(s, ':', (size_t) (colon - s)))
                        return rp_error_set(err, -EINVAL, "listen: '%s' is not HOST:PORT or [IPv6]:PORT", s);
                memcpy(host, s, (size_t) (colon - s));
                host[colon - s] = '\0';
        }
        const char *port = colon + 1;
        char *end;
        errno = 0;
        unsigned long p = strtoul(port, &end, 10);
        if (!isdigit((unsigned char) *port) || *end || errno || p > 65535)
                return rp_error_set(err, -EINVAL, "listen: '%s' is not a port number (0 to 65535)", port);
        struct sockaddr_storage ss = {};
        if (streq(host, "localhost"))
                strcpy(host, "127.0.0.1");
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        if (s[0] != '[' && inet_pton(AF_INET, host, &in->sin_addr) == 1) {
                in->sin_family = AF_INET;
                in->sin_port = htons((uint16_t) p);
                *ret_len = sizeof *in;
        } else if (s[0] == '[' && inet_pton(AF_INET6, host, &in6->sin6_addr) == 1) {
                in6->sin6_family = AF_INET6;
                in6->sin6_port = htons((uint16_t) p);
                *ret_len = sizeof *in6;
        } else {
                return rp_error_set(err, -EINVAL, "listen: '%s' is not an IPv4 address, [IPv6] address or localhost",
                                    host);
        }
        *ret = ss;
        return 0;
}

static const setting *find_setting(const char *name) {
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                if (streq(settings[i].name, name))
                        return &settings[i];
        return NULL;
}

static char *trim(char *s) {
        while (*s == ' ' || *s == '\t')
                s++;
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
                s[--n] = '\0';
        return s;
}

/* One "key = value" line (or a comment, or blank). */
static int parse_line(rp_server_config *cfg, char *line, rp_error *err) {
        line = trim(line);
        if (!*line || *line == '#')
                return 0;
        char *eq = strchr(line, '=');
        if (!eq)
                return rp_error_set(err, -EINVAL, "expected 'key = value', got '%.64s'", line);
        *eq = '\0';
        char *key = trim(line), *value = trim(eq + 1);
        const setting *st = find_setting(key);
        if (!st)
                return rp_error_set(err, -EINVAL, "unknown key '%.64s'", key);
        if (!*value)
                return rp_error_set(err, -EINVAL, "%s: empty value", key);
        return apply(cfg, st, value, NULL, err);
}

static int parse_file(rp_server_config *cfg, const char *path, rp_error *err) {
        _cleanup_free_ uint8_t *text = NULL;
        size_t len;
        int r = rp_read_file(path, RP_CONFIG_FILE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        if (!rp_utf8_is_valid((const char *) text, len))
                return rp_error_set(err, -EINVAL, "%s: not UTF-8 text (or holds a NUL byte)", path);
        unsigned lineno = 1;
        for (char *line = (char *) text, *next; line; line = next, lineno++) {
                next = strchr(line, '\n');
                if (next)
                        *next++ = '\0';
                r = parse_line(cfg, line, err);
                if (r < 0)
                        return rp_error_prefix(err, r, "%s:%u: ", path, lineno);
        }
        return 0;
}

static void print_routes(void) {
        for (size_t i = 0; i < rp_api_n_routes; i++)
                printf("%s %s\n", rp_api_routes[i].method, rp_api_routes[i].path);
}

static void set_defaults(rp_server_config *cfg) {
        *cfg = (rp_server_config) {
                .workers = rp_config_default_workers(),
                .max_body = 1024 * 1024,
                .max_header = 16 * 1024,
                .max_connections = 16384,
                .rate = 200,
                .burst = 400,
                .idle_timeout = 60,
                .request_timeout = 10,
                .nonce_ttl = 60,
                .cert_lifetime = 86400,
                .max_image_size = (size_t) 1024 * 1024 * 1024 + 1024 * 1024,
                .upload_ttl = 86400,
                .document_lifetime = 86400,
                .report_max_events = 1000,
                .report_max_age = 14 * 86400,
                .report_max_batch = 100,
        };
}

rp_config_action rp_config_load(int argc, char **argv, rp_server_config *cfg, int *ret_code) {
        /* The long options: every setting, then the rest. */
        struct option opts[ELEMENTSOF(settings) + 6];
        size_t n = 0;
        for (size_t i = 0; i < ELEMENTSOF(settings); i++)
                opts[n++] = (struct option) { settings[i].name,
                                              settings[i].type == S_BOOL ? optional_argument : required_argument, NULL,
                                              OPT_SETTING + (int) i };
        opts[n++] = (struct option) { "config", required_argument, NULL, OPT_CONFIG };
        opts[n++] = (struct option) { "print-routes", no_argument, NULL, OPT_PRINT_ROUTES };
        opts[n++] = (struct option) { "print-schema-version", no_argument, NULL, OPT_PRINT_SCHEMA };
        opts[n++] = (struct option) { "help", no_argument, NULL, 'h' };
        opts[n++] = (struct option) { "version", no_argument, NULL, OPT_VERSION };
        opts[n] = (struct option) {};

        set_defaults(cfg);
        /* Pass 1: what ends at once, the usage errors, and --config. */
        const char *config_path = NULL;
        opterr = 0;
        optind = 0;
        for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1; ) {
                switch (c) {
                case 'h': *ret_code = help(); return RP_CONFIG_EXIT;
                case OPT_VERSION: printf("rampart-server %s\n", RAMPART_VERSION); *ret_code = 0; return RP_CONFIG_EXIT;
                case OPT_PRINT_ROUTES: print_routes(); *ret_code = 0; return RP_CONFIG_EXIT;
                case OPT_PRINT_SCHEMA:
                        printf("%d\n", rp_db_migrations[rp_db_n_migrations - 1].version);
                        *ret_code = 0;
                        return RP_CONFIG_EXIT;
                case OPT_CONFIG: config_path = optarg; break;
                case ':': *ret_code = usage("option '%s' needs a value", argv[optind - 1]); return RP_CONFIG_EXIT;
                case '?': *ret_code = usage("unknown option '%s'", argv[optind - 1]); return RP_CONFIG_EXIT;
                default: break;
                }
        }
        if (optind < argc) {
                *ret_code = usage("unexpected argument '%s'", argv[optind]);
                return RP_CONFIG_EXIT;
        }

        rp_error err = {};
        if (config_path) {
                int r = parse_file(cfg, config_path, &err);
                if (r < 0) {
                        fprintf(stderr, "rampart-server: %s\n", err.message);
                        *ret_code = 1;
                        return RP_CONFIG_EXIT;
                }
        }

        /* Pass 2: the flags, over the file. */
        bool names_replace = true;
        optind = 0;
        for (int c; (c = getopt_long(argc, argv, ":h", opts, NULL)) != -1; ) {
                if (c < OPT_SETTING)
                        continue;
                const setting *st = &settings[c - OPT_SETTING];
                /* A boolean flag alone means true; --tls12=no is allowed too. */
                const char *v = st->type == S_BOOL && !optarg ? "true" : optarg;
                if (apply(cfg, st, v, &names_replace, &err) < 0) {
                        *ret_code = usage("--%s", err.message);
                        return RP_CONFIG_EXIT;
                }
        }

        if (!cfg->data_dir) {
                *ret_code = usage("missing --data-dir D");
                return RP_CONFIG_EXIT;
        }
        if (!cfg->tls_cert != !cfg->tls_key) {
                *ret_code = usage("--tls-cert and --tls-key go together");
                return RP_CONFIG_EXIT;
        }
        if (!cfg->listen && !(cfg->listen = strdup("127.0.0.1:8443"))) {
                fprintf(stderr, "rampart-server: out of memory\n");
                *ret_code = 1;
                return RP_CONFIG_EXIT;
        }
        if (!cfg->store && asprintf(&cfg->store, "sqlite:%s/rampart.db", cfg->data_dir) < 0) {
                cfg->store = NULL;
                fprintf(stderr, "rampart-server: out of memory\n");
                *ret_code = 1;
                return RP_CONFIG_EXIT;
        }
        if (!cfg->blob_store && asprintf(&cfg->blob_store, "dir:%s/blobs", cfg->data_dir) < 0) {
                cfg->blob_store = NULL;
                fprintf(stderr, "rampart-server: out of memory\n");
                *ret_code = 1;
                return RP_CONFIG_EXIT;
        }
        return RP_CONFIG_RUN;
}
