/* SPDX-License-Identifier: Apache-2.0 */
/* rampart hardware-definition: headers and listings from hardware
 * definition files. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "rampart/hwdef.h"

#define MAX_DIRS 16

typedef struct hw_opts {
        const char *dirs[MAX_DIRS + 1];
        size_t n_dirs;
        const char *output;       /* -o FILE (generate-header) or FORMAT (show) */
        const char *output_dir;
        const char *path;
        bool force;
} hw_opts;

/* Parses the options both verbs share; returns -1 to continue, or an exit
 * code. with_dir: generate-header (-o FILE, --output-dir); otherwise show
 * (-o FORMAT). */
static int parse_opts(const char *cmd, int argc, char **argv, bool generate, hw_opts *o, int (*help)(void)) {
        static const struct option options[] = {
                { "hardware-definitions-dir", required_argument, NULL, 'I' },
                { "output",                   required_argument, NULL, 'o' },
                { "output-dir",               required_argument, NULL, 'd' },
                { "force",                    no_argument,       NULL, 'f' },
                { "help",                     no_argument,       NULL, 'h' },
                {}
        };
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":I:o:h", options, NULL)) >= 0) {
                switch (c) {
                case 'I':
                        if (o->n_dirs == MAX_DIRS)
                                return cli_usage_error(cmd, "at most %d --hardware-definitions-dir options", MAX_DIRS);
                        o->dirs[o->n_dirs++] = optarg;
                        break;
                case 'o':
                        o->output = optarg;
                        break;
                case 'd':
                        if (!generate)
                                return cli_usage_error(cmd, "unknown option '--output-dir'");
                        o->output_dir = optarg;
                        break;
                case 'f':
                        if (!generate)
                                return cli_usage_error(cmd, "unknown option '--force'");
                        o->force = true;
                        break;
                case 'h':
                        return help();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "missing the hardware definition file (a .json file)");
        if (argc - optind > 1)
                return cli_usage_error(cmd, "unexpected argument '%s' (give one hardware definition)", argv[optind + 1]);
        o->path = argv[optind];
        return -1;
}

static int generate_help(void) {
        printf("Usage: rampart hardware-definition generate-header DEFINITION [OPTIONS]\n\n"
               "Write the C header(s) an application includes to use the peripheral names of a\n"
               "hardware definition: one \"#define NAME VALUE\" per peripheral, and an #include\n"
               "of each imported definition's header.\n\n"
               "By default the headers of the definition and of every definition it imports\n"
               "go to inc/hw/ beside DEFINITION (so \"#include \\\"hw/NAME.h\\\"\" works with\n"
               "-I that/inc), each named after its JSON file.\n\n"
               "A header rampart generated (its first line says so) is replaced; any other\n"
               "existing file needs --force. The definition files are never replaced.\n\n"
               "Options:\n"
               "  -o, --output FILE      Write only DEFINITION's header, to FILE\n"
               "      --output-dir DIR   Write the headers to DIR instead of inc/hw/\n"
               "      --force            Replace files that are not headers rampart generated\n"
               "  -I, --hardware-definitions-dir DIR\n"
               "                         Also look for imported definitions in DIR (may be\n"
               "                         given more than once)\n"
               "  -h, --help             Show this help\n");
        return CLI_EXIT_OK;
}

/* mkdir -p, for the output directory. */
static int mkdir_p(const char *path, rp_error *err) {
        _cleanup_free_ char *p = strdup(path);
        if (!p)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (char *s = p + 1; ; s++) {
                if (*s != '/' && *s != '\0')
                        continue;
                char saved = *s;
                *s = '\0';
                if (mkdir(p, 0755) < 0 && errno != EEXIST)
                        return rp_error_set_errno(err, -errno, "%s: cannot create the directory", p);
                *s = saved;
                if (saved == '\0')
                        break;
        }
        struct stat st;
        if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
                return rp_error_set(err, -ENOTDIR, "%s: not a directory", path);
        return 0;
}

/* Refuses an output that is one of the definition's files or a file of
 * another kind (cli_check_output). */
static int check_header_output(const rp_hwdef *h, const hw_opts *o, const char *out) {
        size_t n = rp_hwdef_n_files(h);
        _cleanup_free_ cli_input *inputs = calloc(n, sizeof *inputs);
        if (!inputs)
                return cli_fail(-ENOMEM, NULL, NULL);
        for (size_t i = 0; i < n; i++)
                inputs[i] = (cli_input) { i == 0 ? "the hardware definition" : "an imported hardware definition",
                                          rp_hwdef_file_path(h, i), false };
        const cli_output co = { out, "the header", o->output ? "-o" : "--output-dir", CLI_OUTPUT_HEADER, o->force };
        return cli_check_output(&co, inputs, n);
}

static int write_header(const rp_hwdef *h, size_t file, const char *out, rp_error *err) {
        _cleanup_free_ char *text = NULL;
        size_t len;
        int r = rp_hwdef_generate_header(h, file, &text, &len, err);
        if (r < 0)
                return r;
        r = rp_write_file_atomic(out, text, len, 0644, err);
        if (r < 0)
                return r;
        printf("wrote ");
        cli_print_safe(out);
        printf("\n");
        return 0;
}

/* A list of n malloc'd strings (entries may be NULL). */
typedef struct strv {
        char **v;
        size_t n;
} strv;

static void strv_freep(strv *s) {
        for (size_t i = 0; s->v && i < s->n; i++)
                free(s->v[i]);
        free(s->v);
}

static int verb_generate_header(int argc, char **argv) {
        const char *cmd = "hardware-definition generate-header";
        hw_opts o = {};
        int r = parse_opts(cmd, argc, argv, true, &o, generate_help);
        if (r >= 0)
                return r;
        if (o.output && o.output_dir)
                return cli_usage_error(cmd, "give --output or --output-dir, not both");

        rp_error err = {};
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
        r = rp_hwdef_load(o.path, o.dirs, &h, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);

        if (o.output) {
                r = check_header_output(h, &o, o.output);
                if (r != CLI_EXIT_OK)
                        return r;
                r = write_header(h, 0, o.output, &err);
                return r < 0 ? cli_fail(r, &err, NULL) : CLI_EXIT_OK;
        }

        _cleanup_free_ char *dir = NULL;
        if (o.output_dir)
                dir = strdup(o.output_dir);
        else {
                _cleanup_free_ char *copy = strdup(o.path);
                if (copy && asprintf(&dir, "%s/inc/hw", dirname(copy)) < 0)
                        dir = NULL;
        }
        if (!dir)
                return cli_fail(-ENOMEM, NULL, NULL);
        r = mkdir_p(dir, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);

        /* Header names must not collide, or one would overwrite another. */
        size_t n = rp_hwdef_n_files(h);
        _cleanup_(strv_freep) strv names = { calloc(n, sizeof(char *)), n };
        _cleanup_(strv_freep) strv outs = { calloc(n, sizeof(char *)), n };
        if (!names.v || !outs.v)
                return cli_fail(-ENOMEM, NULL, NULL);
        for (size_t i = 0; i < n; i++) {
                r = rp_hwdef_header_name(h, i, &names.v[i], &err);
                if (r < 0)
                        return cli_fail(r, &err, NULL);
                for (size_t j = 0; j < i; j++)
                        if (streq(names.v[i], names.v[j])) {
                                rp_error_set(&err, -EEXIST, "%s and %s would both generate %s",
                                             rp_hwdef_file_path(h, j), rp_hwdef_file_path(h, i), names.v[i]);
                                return cli_fail(-EEXIST, &err, "rename one of the definition files");
                        }
        }
        /* Every output is checked before the first is written. */
        for (size_t i = 0; i < n; i++) {
                if (asprintf(&outs.v[i], "%s/%s", dir, names.v[i]) < 0) {
                        outs.v[i] = NULL;
                        return cli_fail(-ENOMEM, NULL, NULL);
                }
                r = check_header_output(h, &o, outs.v[i]);
                if (r != CLI_EXIT_OK)
                        return r;
        }
        for (size_t i = 0; i < n; i++) {
                r = write_header(h, i, outs.v[i], &err);
                if (r < 0)
                        return cli_fail(r, &err, NULL);
        }
        return CLI_EXIT_OK;
}

static int show_help(void) {
        printf("Usage: rampart hardware-definition show DEFINITION [OPTIONS]\n\n"
               "Validate a hardware definition and its imports, and list every peripheral\n"
               "with the value it stands for in an app manifest.\n\n"
               "Options:\n"
               "  -I, --hardware-definitions-dir DIR\n"
               "                         Also look for imported definitions in DIR (may be\n"
               "                         given more than once)\n"
               "  -o, --output FORMAT    table (default) or json\n"
               "  -h, --help             Show this help\n");
        return CLI_EXIT_OK;
}

static json_t *peripheral_json(const rp_hwdef *h, const rp_hwdef_peripheral *p) {
        const rp_hwdef_peripheral *root = rp_hwdef_root(h, p);
        json_t *o = cli_json_raw(json_pack("{s:s, s:s, s:o}", "Name", p->name, "Type", p->type,
                                           "File", cli_json_text(rp_hwdef_file_path(h, p->file))),
                                 "File", rp_hwdef_file_path(h, p->file));
        if (!o)
                return NULL;
        int r = 0;
        if (p->mapping)
                r |= json_object_set_new(o, "Mapping", json_string(p->mapping));
        if (root != p)
                r |= json_object_set_new(o, "Root", json_string(root->name));
        if (root->has_value)
                r |= json_object_set_new(o, "AppManifestValue", root->value_is_integer ?
                                         json_integer(root->number) : json_string(root->string));
        if (p->header_value)
                r |= json_object_set_new(o, "MainCoreHeaderValue", json_string(p->header_value));
        if (p->comment)
                r |= json_object_set_new(o, "Comment", json_string(p->comment));
        if (r) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static int verb_show(int argc, char **argv) {
        const char *cmd = "hardware-definition show";
        hw_opts o = {};
        int r = parse_opts(cmd, argc, argv, false, &o, show_help);
        if (r >= 0)
                return r;
        cli_format format = CLI_FORMAT_TEXT;
        if (o.output && cli_parse_format(cmd, o.output, &format) < 0)
                return CLI_EXIT_USAGE;

        rp_error err = {};
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
        r = rp_hwdef_load(o.path, o.dirs, &h, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);

        if (format == CLI_FORMAT_JSON) {
                json_t *files = json_array(), *periphs = json_array();
                bool ok = files && periphs;
                for (size_t i = 0; ok && i < rp_hwdef_n_files(h); i++) {
                        json_t *f = cli_json_raw(json_pack("{s:o}", "Path", cli_json_text(rp_hwdef_file_path(h, i))),
                                                 "Path", rp_hwdef_file_path(h, i));
                        if (f && rp_hwdef_file_description(h, i))
                                json_object_set_new(f, "Description", json_string(rp_hwdef_file_description(h, i)));
                        ok = json_array_append_new(files, f) == 0;
                }
                for (size_t i = 0; ok && i < rp_hwdef_n_peripherals(h); i++)
                        ok = json_array_append_new(periphs, peripheral_json(h, rp_hwdef_peripheral_at(h, i))) == 0;
                json_t *j = ok ? json_pack("{s:o, s:o}", "Files", files, "Peripherals", periphs) : NULL;
                if (!j) {
                        json_decref(files);
                        json_decref(periphs);
                }
                return cli_print_json(j);
        }

        for (size_t i = 0; i < rp_hwdef_n_files(h); i++) {
                printf("%s ", i == 0 ? "Definition" : "Imports   ");
                cli_print_safe(rp_hwdef_file_path(h, i));
                if (rp_hwdef_file_description(h, i)) {
                        printf(" (");
                        cli_print_safe(rp_hwdef_file_description(h, i));
                        printf(")");
                }
                printf("\n");
        }
        printf("\n%-40s %-12s %s\n", "NAME", "TYPE", "APP MANIFEST VALUE");
        for (size_t i = 0; i < rp_hwdef_n_peripherals(h); i++) {
                const rp_hwdef_peripheral *p = rp_hwdef_peripheral_at(h, i);
                const rp_hwdef_peripheral *root = rp_hwdef_root(h, p);
                printf("%-40s %-12s ", p->name, p->type);
                if (root->has_value) {
                        if (root->value_is_integer)
                                printf("%" PRId64, root->number);
                        else
                                cli_print_safe(root->string);
                } else
                        printf("-");
                if (root != p)
                        printf(" (via %s)", root->name);
                printf("\n");
        }
        return CLI_EXIT_OK;
}

static const cli_command commands[] = {
        { "generate-header", verb_generate_header, "Write the C header(s) for a hardware definition" },
        { "show",            verb_show,            "Validate a hardware definition and list its peripherals" },
};

int cmd_hardware_definition(int argc, char **argv) {
        return cli_dispatch("hardware-definition", "Work with hardware definitions: the peripheral names that "
                            "app manifests and C code use.", commands, ELEMENTSOF(commands), argc, argv);
}
