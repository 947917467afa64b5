/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/macro.h"

int cli_dispatch(const char *group, const char *group_summary,
                 const cli_command *cmds, size_t n_cmds, int argc, char **argv) {
        const char *sub = argc > 1 ? argv[1] : NULL;
        bool help = sub && (streq(sub, "--help") || streq(sub, "-h") || streq(sub, "help"));

        if (sub && !help)
                for (size_t i = 0; i < n_cmds; i++)
                        if (streq(cmds[i].name, sub))
                                return cmds[i].run(argc - 1, argv + 1);

        FILE *out = help ? stdout : stderr;
        if (sub && !help)
                fprintf(stderr, "rampart %s: unknown command '%s'\n\n", group, sub);
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
        va_list ap;
        fprintf(stderr, "rampart %s: ", cmd);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
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
        /* C0 controls, DEL and the C1 controls (U+0080..U+009F, which some
         * terminals treat as escape sequences) are shown escaped. */
        for (const unsigned char *p = (const unsigned char *) s; *p; p++) {
                if (*p < 0x20 || *p == 0x7f)
                        fprintf(f, "\\x%02x", *p);
                else if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
                        fprintf(f, "\\u%04x", p[1]);
                        p++;
                } else
                        fputc(*p, f);
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
