/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/macro.h"
#include "core/strutil.h"

int cli_dispatch(const char *group, const char *group_summary,
                 const cli_command *cmds, size_t n_cmds, int argc, char **argv) {
        const char *sub = argc > 1 ? argv[1] : NULL;
        bool help = sub && (streq(sub, "--help") || streq(sub, "-h") || streq(sub, "help"));

        if (sub && !help)
                for (size_t i = 0; i < n_cmds; i++)
                        if (streq(cmds[i].name, sub))
                                return cmds[i].run(argc - 1, argv + 1);

        FILE *out = help ? stdout : stderr;
        if (sub && !help) {
                fprintf(stderr, "rampart %s: unknown command '", group);
                cli_print_safe_to(stderr, sub);
                fprintf(stderr, "'\n\n");
        }
        fprintf(out, "Usage: rampart %s COMMAND [OPTIONS]\n\n%s\n\nCommands:\n", group, group_summary);
        for (size_t i = 0; i < n_cmds; i++)
                fprintf(out, "  %-22s %s\n", cmds[i].name, cmds[i].summary);
        fprintf(out, "\nRun 'rampart %s COMMAND --help' for a command's options.\n", group);
        return help ? CLI_EXIT_OK : CLI_EXIT_USAGE;
}

int cli_parse_format(const char *cmd, const char *s, cli_format *ret) {
        if (streq(s, "json"))
                *ret = CLI_FORMAT_JSON;
        else if (streq(s, "table") || streq(s, "text"))
                *ret = CLI_FORMAT_TEXT;
        else {
                cli_usage_error(cmd, "unknown output format '%s' (use 'table' or 'json')", s);
                return -EINVAL;
        }
        return 0;
}

int cli_usage_error(const char *cmd, const char *fmt, ...) {
        /* The message may quote an argument, which may hold anything. */
        va_list ap;
        _cleanup_free_ char *msg = NULL;
        va_start(ap, fmt);
        int r = vasprintf(&msg, fmt, ap);
        va_end(ap);
        fprintf(stderr, "rampart %s: ", cmd);
        cli_print_safe_to(stderr, r < 0 ? "out of memory" : msg);
        fprintf(stderr, "\nTry 'rampart %s --help'.\n", cmd);
        return CLI_EXIT_USAGE;
}

int cli_bad_option(const char *cmd, int c, char **argv) {
        const char *typed = argv[optind - 1];
        if (c == ':')
                return cli_usage_error(cmd, "option '%s' needs a value", typed);
        /* For an unknown short option inside a cluster ("-vz"), optopt names
         * the letter; for an unknown long option it is 0. */
        if (optopt && optopt != '?')
                return cli_usage_error(cmd, "unknown option '-%c'", optopt);
        return cli_usage_error(cmd, "unknown option '%s'", typed);
}

int cli_fail(int code, const rp_error *err, const char *hint) {
        fprintf(stderr, "rampart: error: ");
        cli_print_safe_to(stderr, rp_error_message(err, code));
        fputc('\n', stderr);
        if (hint)
                fprintf(stderr, "hint: %s\n", hint);
        return CLI_EXIT_FAIL;
}

int cli_print_json(json_t *j) {
        if (!j) {
                fprintf(stderr, "rampart: error: out of memory\n");
                return CLI_EXIT_FAIL;
        }
        int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        json_decref(j);
        fputc('\n', stdout);
        return r < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}

void cli_print_safe_to(FILE *f, const char *s) {
        /* What a terminal could act on or show misleadingly is escaped: C0
         * controls and DEL as \xNN, bytes that are not UTF-8 as \xNN (a lone
         * 0x9b is CSI to an 8-bit terminal), C1 controls (U+0080..U+009F)
         * and the bidirectional controls (U+202A..U+202E, U+2066..U+2069,
         * which reorder what is shown) as \uNNNN. */
        size_t n = strlen(s);
        for (size_t i = 0; i < n; ) {
                uint32_t cp;
                size_t k = rp_utf8_decode(s + i, n - i, &cp);
                if (k == 0 || cp < 0x20 || cp == 0x7f) {
                        fprintf(f, "\\x%02x", (unsigned char) s[i]);
                        k = 1;
                } else if ((cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
                         (cp >= 0x2066 && cp <= 0x2069))
                        fprintf(f, "\\u%04x", (unsigned) cp);
                else
                        fwrite(s + i, 1, k, f);
                i += k;
        }
}

void cli_print_safe(const char *s) {
        cli_print_safe_to(stdout, s);
}

void cli_print_row(int width, const char *key, const char *value) {
        printf("%-*s ", width, key);
        cli_print_safe(value ? value : "-");
        fputc('\n', stdout);
}

bool cli_wants_help(int argc, char **argv) {
        for (int i = 1; i < argc; i++) {
                if (streq(argv[i], "--"))
                        return false;
                if (streq(argv[i], "-h") || streq(argv[i], "--help"))
                        return true;
        }
        return false;
}

json_t *cli_json_text(const char *s) {
        if (!s)
                return json_null();
        size_t n = strlen(s);
        if (rp_utf8_is_valid(s, n))
                return json_stringn(s, n);
        /* Each byte that does not start a UTF-8 sequence becomes U+FFFD (3
         * bytes), so the copy is at most three times as long. */
        if (n > (SIZE_MAX - 1) / 3)
                return NULL;
        _cleanup_free_ char *t = malloc(3 * n + 1);
        if (!t)
                return NULL;
        size_t o = 0;
        for (size_t i = 0; i < n; ) {
                uint32_t cp;
                size_t k = rp_utf8_decode(s + i, n - i, &cp);
                if (k == 0) {
                        memcpy(t + o, "\xef\xbf\xbd", 3);
                        o += 3;
                        i++;
                } else {
                        memcpy(t + o, s + i, k);
                        o += k;
                        i += k;
                }
        }
        return json_stringn(t, o);
}

json_t *cli_json_raw(json_t *j, const char *key, const char *s) {
        if (!j || !s || rp_utf8_is_valid(s, strlen(s)))
                return j;
        _cleanup_free_ char *name = NULL, *hex = rp_hex_encode(s, strlen(s));
        if (!hex || asprintf(&name, "%s_hex", key) < 0 || json_object_set_new(j, name, json_string(hex)) < 0) {
                json_decref(j);
                return NULL;
        }
        return j;
}

void cli_key_id_hex(const rp_key *key, char out[2 * RP_KEY_ID_LEN + 1]) {
        uint8_t id[RP_KEY_ID_LEN];
        rp_key_id(key, id);
        rp_hex_encode_buf(id, sizeof id, out);
}
