/* SPDX-License-Identifier: Apache-2.0 */
/* The server commands' shared part (service.h): options, profile, client,
 * requests and the hints their failures get. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "service.h"

enum {
        OPT_SERVER = 0x100,
        OPT_CA_FILE,
        OPT_TOKEN_FILE,
        OPT_TENANT,
        OPT_FORCE,
        OPT_OWN = 0x200,        /* + the index in def->opts */
};

static size_t n_opts(const cli_svc_cmd *def) {
        size_t n = 0;
        while (def->opts && def->opts[n].name)
                n++;
        RP_INVARIANT(n <= CLI_SVC_MAX_OPTS);
        return n;
}

int cli_svc_group(const char *group, const char *summary, const cli_command *local, size_t n_local,
                  const cli_svc_cmd *cmds, size_t n_cmds, int argc, char **argv) {
        const char *sub = argc > 1 ? argv[1] : NULL;
        bool help = sub && (streq(sub, "--help") || streq(sub, "-h") || streq(sub, "help"));
        if (sub && !help) {
                for (size_t i = 0; i < n_local; i++)
                        if (streq(local[i].name, sub))
                                return local[i].run(argc - 1, argv + 1);
                for (size_t i = 0; i < n_cmds; i++)
                        if (streq(cmds[i].name, sub)) {
                                _cleanup_free_ char *cmd = NULL;
                                if (asprintf(&cmd, "%s %s", group, sub) < 0)
                                        return cli_fail(-ENOMEM, NULL, NULL);
                                return cli_svc_main(cmd, &cmds[i], argc - 1, argv + 1);
                        }
        }
        FILE *out = help ? stdout : stderr;
        if (sub && !help) {
                fprintf(stderr, "rampart %s: unknown command '", group);
                cli_print_safe_to(stderr, sub);
                fprintf(stderr, "'\n\n");
        }
        fprintf(out, "Usage: rampart %s COMMAND [OPTIONS]\n\n%s\n\nCommands:\n", group, summary);
        for (size_t i = 0; i < n_local; i++)
                fprintf(out, "  %-22s %s\n", local[i].name, local[i].summary);
        for (size_t i = 0; i < n_cmds; i++)
                fprintf(out, "  %-22s %s\n", cmds[i].name, cmds[i].summary);
        fprintf(out, "\nRun 'rampart %s COMMAND --help' for a command's options.\n", group);
        return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

static void help_line(const char *shrt, const char *name, const char *arg, const char *text) {
        char left[64];
        snprintf(left, sizeof left, "%s--%s%s%s", shrt ? shrt : "    ", name, arg ? " " : "", arg ? arg : "");
        printf("  %-25s %s\n", left, text);
}

static int help(const cli_svc *s) {
        const cli_svc_cmd *d = s->def;
        printf("Usage: rampart %s%s%s [OPTIONS]\n\n%s\n", s->cmd, *d->synopsis ? " " : "", d->synopsis, d->about);
        size_t n = n_opts(d);
        bool login = d->flags & CLI_SVC_NO_PROFILE;
        if (n || (d->flags & CLI_SVC_FILE_OUT)) {
                printf("\nOptions:\n");
                for (size_t i = 0; i < n; i++)
                        help_line(NULL, d->opts[i].name, d->opts[i].arg, d->opts[i].help);
                if (d->flags & CLI_SVC_FILE_OUT) {
                        help_line("-o, ", "output", "FILE", "write it to FILE (atomically) instead of stdout");
                        help_line(NULL, "force", NULL, "replace FILE even if it is not what the command writes");
                }
        }
        printf(login ? "\nServer options (required):\n"
                     : "\nServer options (by default, what 'rampart login' saved in the profile):\n");
        help_line(NULL, "server", "URL", "rampart-server's address: https://HOST:PORT");
        help_line(NULL, "ca-file", "F", "the CA the server's certificate must chain to: the");
        printf("  %-25s %s\n", "", "server's DATA_DIR/tls/ca.pem (no other CA is trusted)");
        if (!(d->flags & CLI_SVC_NO_TOKEN))
                help_line(NULL, "token-file", "T", "the file holding your API token (mode 0600)");
        if (!login && !(d->flags & CLI_SVC_NO_TOKEN))
                help_line(NULL, "tenant", "NAME",
                          d->flags & (CLI_SVC_TENANT | CLI_SVC_TENANT_OPT) ?
                                  "the tenant (name or id); by default the selected one" :
                                  "the tenant (not used by this command)");
        if (!(d->flags & CLI_SVC_FILE_OUT))
                help_line("-o, ", "output", "FORMAT", "table (the default) or json (the API's objects)");
        help_line("-h, ", "help", NULL, "show this help");
        printf("\nThe profile is profile.json in $RAMPART_CONFIG_DIR, $XDG_CONFIG_HOME/rampart\n"
               "or ~/.config/rampart (docs/cli-service.md).\n");
        return CLI_EXIT_OK;
}

/* Parses argv into s: -1 to go on, or the exit code to end with. */
static int parse(cli_svc *s, int argc, char **argv) {
        const cli_svc_cmd *d = s->def;
        size_t n = n_opts(d);
        if (cli_wants_help(argc, argv))
                return help(s);
        struct option opts[CLI_SVC_MAX_OPTS + 8];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
                opts[k++] = (struct option) { d->opts[i].name, d->opts[i].arg ? required_argument : no_argument,
                                              NULL, OPT_OWN + (int) i };
        opts[k++] = (struct option) { "server", required_argument, NULL, OPT_SERVER };
        opts[k++] = (struct option) { "ca-file", required_argument, NULL, OPT_CA_FILE };
        opts[k++] = (struct option) { "token-file", required_argument, NULL, OPT_TOKEN_FILE };
        opts[k++] = (struct option) { "tenant", required_argument, NULL, OPT_TENANT };
        opts[k++] = (struct option) { "output", required_argument, NULL, 'o' };
        opts[k++] = (struct option) { "help", no_argument, NULL, 'h' };
        if (d->flags & CLI_SVC_FILE_OUT)
                opts[k++] = (struct option) { "force", no_argument, NULL, OPT_FORCE };
        opts[k] = (struct option) {};

        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1; ) {
                switch (c) {
                case OPT_SERVER:
                        s->server = optarg;
                        break;
                case OPT_CA_FILE:
                        s->ca_file = optarg;
                        break;
                case OPT_TOKEN_FILE:
                        s->token_file = optarg;
                        break;
                case OPT_TENANT:
                        s->tenant = optarg;
                        break;
                case OPT_FORCE:
                        s->force = true;
                        break;
                case 'o':
                        if (d->flags & CLI_SVC_FILE_OUT)
                                s->output = optarg;
                        else if (cli_parse_format(s->cmd, optarg, &s->fmt) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'h':
                        return help(s);
                default:
                        if (c >= OPT_OWN && c < OPT_OWN + (int) n) {
                                s->opt[c - OPT_OWN] = optarg ? optarg : "";
                                break;
                        }
                        return cli_bad_option(s->cmd, c, argv);
                }
        }
        for (int i = optind; i < argc; i++) {
                if (s->n_args == d->max_args)
                        return cli_usage_error(s->cmd, "unexpected argument '%s'", argv[i]);
                s->args[s->n_args++] = argv[i];
        }
        if (s->n_args < d->min_args)
                return cli_usage_error(s->cmd, "missing an argument: rampart %s %s", s->cmd, d->synopsis);
        for (size_t i = 0; i < n; i++)
                if (s->opt[i] && d->opts[i].arg && !*s->opt[i])
                        return cli_usage_error(s->cmd, "--%s: the value is empty", d->opts[i].name);
        if (s->tenant && !*s->tenant)
                return cli_usage_error(s->cmd, "--tenant: the value is empty");
        return -1;
}

const char *cli_svc_opt(const cli_svc *s, const char *name) {
        for (size_t i = 0; s->def->opts && s->def->opts[i].name; i++)
                if (streq(s->def->opts[i].name, name))
                        return s->opt[i];
        return NULL;
}

/* The profile, loaded into s. Exit code. */
static int load_profile(cli_svc *s) {
        rp_error err = {};
        int r = cli_profile_path(&s->profile_path, &err);
        if (r < 0)
                return cli_fail(r, &err, "give --server, --ca-file and --token-file");
        r = cli_profile_load(s->profile_path, &s->profile, &s->profile_exists, &err);
        if (r < 0)
                return cli_fail(r, &err, r == -EPERM ? "fix the file's owner or mode as said, or remove it and run "
                                                       "'rampart login' again" :
                                                       "fix the file, or remove it and run 'rampart login' again");
        return CLI_EXIT_OK;
}

/* The connection options after the profile; then the client. Exit code. */
static int connect_server(cli_svc *s) {
        const cli_svc_cmd *d = s->def;
        bool need_token = !(d->flags & CLI_SVC_NO_TOKEN);
        bool tenant = d->flags & (CLI_SVC_TENANT | CLI_SVC_TENANT_OPT);
        if (d->flags & CLI_SVC_NO_PROFILE) {
                if (!s->server)
                        return cli_usage_error(s->cmd, "missing --server URL (rampart-server's https://HOST:PORT)");
                if (!s->ca_file)
                        return cli_usage_error(s->cmd, "missing --ca-file F (the server's DATA_DIR/tls/ca.pem)");
                if (need_token && !s->token_file)
                        return cli_usage_error(s->cmd, "missing --token-file T (a file holding your API token; "
                                               "the first operator's is the server's DATA_DIR/admin.token)");
        } else if (!s->server || !s->ca_file || (need_token && !s->token_file) || (tenant && !s->tenant)) {
                int x = load_profile(s);
                if (x != CLI_EXIT_OK)
                        return x;
                /* The profile fills in what the command line did not give. */
                if (!s->server)
                        s->server = s->profile.server;
                if (!s->ca_file)
                        s->ca_file = s->profile.ca_file;
                if (!s->token_file)
                        s->token_file = s->profile.token_file;
                if (!s->tenant)
                        s->tenant = s->profile.tenant;
                if (!s->server)
                        return cli_usage_error(s->cmd, "no server: give --server URL --ca-file F --token-file T, "
                                               "or save them once with 'rampart login'");
                if (!s->ca_file)
                        return cli_usage_error(s->cmd, "no CA file for %s: give --ca-file F (the server's "
                                               "DATA_DIR/tls/ca.pem)", s->server);
                if (need_token && !s->token_file)
                        return cli_usage_error(s->cmd, "no token: give --token-file T, or save it once with "
                                               "'rampart login'");
        }
        if ((d->flags & CLI_SVC_TENANT) && !s->tenant)
                return cli_usage_error(s->cmd, "no tenant: give --tenant NAME, or choose one with "
                                       "'rampart tenant select NAME'");

        rp_error err = {};
        char *token = NULL;
        if (need_token) {
                int r = cli_token_read(s->token_file, &token, &err);
                if (r < 0)
                        return cli_fail(r, &err, r == -EPERM ? NULL :
                                        "give --token-file the file holding your API token (the first "
                                        "operator's is the server's DATA_DIR/admin.token)");
        }
        rp_http_config cfg = { .server = s->server, .ca_file = s->ca_file, .token = token };
        int r = rp_http_new(&cfg, &s->http, &err);
        if (token) {
                OPENSSL_cleanse(token, strlen(token));
                free(token);
        }
        if (r < 0) {
                const char *hint = NULL;
                if (strstr(err.message, "CA file"))
                        hint = "give --ca-file the server's DATA_DIR/tls/ca.pem";
                else if (strstr(err.message, "server URL"))
                        hint = "give --server rampart-server's address, https://HOST:PORT";
                else if (strstr(err.message, "token"))
                        hint = "give --token-file a file holding one API token";
                return cli_fail(r, &err, hint);
        }
        return CLI_EXIT_OK;
}

static void svc_done(cli_svc *s) {
        rp_http_free(s->http);
        cli_profile_clear(&s->profile);
        free(s->profile_path);
}

int cli_svc_main(const char *cmd, const cli_svc_cmd *def, int argc, char **argv) {
        _cleanup_(svc_done) cli_svc s = { .cmd = cmd, .def = def, .fmt = CLI_FORMAT_TEXT };
        int x = parse(&s, argc, argv);
        if (x >= 0)
                return x;
        x = connect_server(&s);
        if (x != CLI_EXIT_OK)
                return x;
        return def->run(&s);
}

int cli_svc_fail(cli_svc *s, int r, const rp_error *err) {
        const char *hint = NULL;
        _cleanup_free_ char *buf = NULL;
        switch (s->status.status) {
        case 0:
                if (r == -ECONNREFUSED || r == -EHOSTUNREACH || r == -ETIMEDOUT)
                        hint = "start rampart-server (rampart-server --data-dir D --listen HOST:PORT), or give "
                               "--server the address it listens on";
                else if (r == -EKEYREJECTED)
                        hint = "give --ca-file the server's DATA_DIR/tls/ca.pem (and 'rampart login' again with "
                               "it to fix the profile)";
                else if (r == -EPROTO)
                        hint = "give --server rampart-server's HTTPS address (https://HOST:PORT)";
                break;
        case 401:
                if (asprintf(&buf, "the token in %s is not accepted (unknown, revoked or expired): give "
                             "--token-file a valid one ('rampart token create' makes one)", s->token_file) < 0)
                        buf = NULL;
                hint = buf;
                break;
        case 403:
                hint = "your token's user may not do this: ask an Administrator of the tenant (or an operator) "
                       "to do it, or for a role that may";
                break;
        case 404:
                hint = s->tenant ? "check the name or id (the command's 'list' shows them) and the tenant "
                                   "(--tenant; 'rampart tenant show' shows the selected one)" :
                                   "check the name or id (the command's 'list' shows them)";
                break;
        case 409:
                if (streq(s->status.code, "device_claimed"))
                        hint = "another tenant has claimed this device: it must release it ('rampart device "
                               "release ID') before it can be claimed here";
                break;
        case 429:
                hint = "the server limits requests per client: wait a moment and try again";
                break;
        case 503:
                hint = "the server cannot reach its store: see the server's log";
                break;
        default:
                break;
        }
        return cli_fail(r, err, hint);
}

char *cli_svc_path(const char *query, const char *const *segs) {
        /* /v1 and each segment, escaped. */
        _cleanup_free_ char *path = strdup("/v1");
        for (size_t i = 0; path && segs[i]; i++) {
                _cleanup_free_ char *e = rp_http_escape(segs[i]), *old = path;
                if (!e || asprintf(&path, "%s/%s", old, e) < 0)
                        path = NULL;
        }
        if (path && query) {
                _cleanup_free_ char *old = path;
                if (asprintf(&path, "%s?%s", old, query) < 0)
                        path = NULL;
        }
        return TAKE_PTR(path);
}

int cli_svc_call(cli_svc *s, const char *method, const json_t *body, const char *query, json_t **ret,
                 const char *const *segs) {
        _cleanup_free_ char *path = cli_svc_path(query, segs);
        if (!path)
                return cli_fail(-ENOMEM, NULL, NULL);
        rp_error err = {};
        int r = rp_http_json(s->http, method, path, body, ret, &s->status, &err);
        if (r < 0)
                return cli_svc_fail(s, r, &err);
        return CLI_EXIT_OK;
}

int cli_query_add(char **q, const char *key, const char *value) {
        _cleanup_free_ char *e = rp_http_escape(value), *old = *q;
        char *n = NULL;
        if (!e || asprintf(&n, "%s%s%s=%s", old ? old : "", old ? "&" : "", key, e) < 0) {
                *q = TAKE_PTR(old);
                return -ENOMEM;
        }
        *q = n;
        return 0;
}

static bool is_hex(const char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!isxdigit((unsigned char) s[i]))
                        return false;
        return true;
}

int cli_check_device_id(const cli_svc *s, const char *id) {
        if (!is_hex(id, 64))
                return cli_usage_error(s->cmd, "'%s' is not a device id: expected 64 hex digits (as 'rampart "
                                       "device show-identity' prints)", id);
        for (char *p = (char *) id; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return CLI_EXIT_OK;
}

int cli_check_object_id(const cli_svc *s, const char *what, const char *id) {
        if (!is_hex(id, 32))
                return cli_usage_error(s->cmd, "'%s' is not %s id: expected 32 hex digits (as the list "
                                       "command prints)", id, what);
        for (char *p = (char *) id; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return CLI_EXIT_OK;
}

int cli_check_id_or_hash(const cli_svc *s, const char *what, const char *hash, char *id) {
        if (!is_hex(id, 32) && !is_hex(id, 64))
                return cli_usage_error(s->cmd, "'%s' is not %s id (32 hex digits) or %s (64 hex digits), as the "
                                       "list command prints them", id, what, hash);
        for (char *p = id; *p; p++)
                *p = (char) tolower((unsigned char) *p);
        return CLI_EXIT_OK;
}

int cli_check_number(const cli_svc *s, const char *option, const char *v, long min, long max, long *ret) {
        char *end = NULL;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno || n < min || n > max || !isdigit((unsigned char) v[0]))
                return cli_usage_error(s->cmd, "--%s: expected a whole number from %ld to %ld, got '%s'", option,
                                       min, max, v);
        *ret = n;
        return CLI_EXIT_OK;
}
