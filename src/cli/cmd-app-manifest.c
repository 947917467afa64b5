/* SPDX-License-Identifier: Apache-2.0 */
/* rampart app-manifest: validate app_manifest.json files. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "package/app_manifest_json_internal.h"
#include "rampart/app_manifest.h"
#include "rampart/hwdef.h"

#define W 32

static int check_help(FILE *out) {
        fprintf(out,
                "Usage: rampart app-manifest check MANIFEST [OPTIONS]\n\n"
                "Validate an application manifest (app_manifest.json, Azure Sphere's schema)\n"
                "and show what it grants the app. Exits 0 if it is valid, 1 if it is not.\n\n"
                "Options:\n"
                "  -H, --hardware-definition FILE\n"
                "                         Resolve \"$NAME\" peripheral references through this\n"
                "                         hardware definition; all of them must resolve\n"
                "  -I, --hardware-definitions-dir DIR\n"
                "                         Also look for imported hardware definitions in DIR\n"
                "                         (may be given more than once)\n"
                "  -o, --output FORMAT    table (default) or json\n"
                "  -h, --help             Show this help\n\n"
                "Without --hardware-definition, \"$NAME\" references are listed as unresolved\n"
                "and are not an error.\n");
        return CLI_EXIT_OK;
}

/* One row under "Grants:", indented. */
static void grant_row(const char *key, const char *value) {
        char k[64];
        snprintf(k, sizeof k, "  %s", key);
        cli_print_row(W, k, value);
}

static void print_values(const char *key, const char *const *values, size_t n) {
        for (size_t i = 0; i < n; i++)
                grant_row(i == 0 ? key : "", values[i]);
}

static void print_peripherals(const rp_app_manifest *m, rp_periph_kind kind, bool have_hwdef) {
        size_t n = rp_app_manifest_n_peripherals(m, kind);
        for (size_t i = 0; i < n; i++) {
                const rp_app_peripheral *p = rp_app_manifest_peripheral(m, kind, i);
                char value[RP_APP_MANIFEST_MAX_PERIPHERAL + 32], buf[3 * RP_APP_MANIFEST_MAX_PERIPHERAL + 64];
                if (p->resolved) {
                        if (rp_periph_kind_is_integer(kind))
                                snprintf(value, sizeof value, "%" PRId64, p->number);
                        else
                                snprintf(value, sizeof value, "%s", p->string);
                }
                if (!p->ref)
                        snprintf(buf, sizeof buf, "%s", value);
                else if (p->resolved)
                        snprintf(buf, sizeof buf, "$%s -> %s (%s)", p->ref, value, p->root);
                else
                        snprintf(buf, sizeof buf, "$%s -> unresolved (%s)", p->ref,
                                 have_hwdef ? "not found" : "no hardware definition given");
                grant_row(i == 0 ? rp_periph_kind_name(kind) : "", buf);
        }
}

/* The manifest's own fields. */
static void print_fields(const rp_app_manifest *m, const char *hwdef_path) {
        char buf[64];
        cli_print_row(W, "Manifest", rp_app_manifest_source(m));
        cli_print_row(W, "Name", rp_app_manifest_name(m));
        cli_print_row(W, "Component ID", rp_app_manifest_component_id(m));
        cli_print_row(W, "Application type", rp_app_manifest_type(m) == RP_APP_TYPE_REALTIME_CAPABLE ?
                      "RealTimeCapable (real-time core app)" : "Default (high-level app)");
        cli_print_row(W, "Entry point", rp_app_manifest_entry_point(m));
        size_t na = rp_app_manifest_n_args(m);
        if (na == 0)
                cli_print_row(W, "Arguments", "(none)");
        for (size_t i = 0; i < na; i++) {
                /* Quoted, so empty and space-holding arguments show. */
                const char *a = rp_app_manifest_arg(m, i);
                _cleanup_free_ char *q = NULL;
                if (asprintf(&q, "\"%s\"", a) < 0)
                        q = NULL;
                cli_print_row(W, i == 0 ? "Arguments" : "", q ? q : a);
        }
        if (rp_app_manifest_malloc_version(m)) {
                snprintf(buf, sizeof buf, "%d", rp_app_manifest_malloc_version(m));
                cli_print_row(W, "Malloc version", buf);
        }
        if (rp_app_manifest_target_runtime_version(m)) {
                snprintf(buf, sizeof buf, "%d", rp_app_manifest_target_runtime_version(m));
                cli_print_row(W, "Target runtime version", buf);
        }
        if (rp_app_manifest_target_beta_apis(m))
                cli_print_row(W, "Target beta APIs", rp_app_manifest_target_beta_apis(m));
        if (hwdef_path)
                cli_print_row(W, "Hardware definition", hwdef_path);
}

/* What the manifest grants, one row a value; "(nothing)" if nothing. */
static void print_grants(const rp_app_manifest *m, bool resolved) {
        char buf[64];
        bool any = false;
        size_t n = rp_app_manifest_n_connections(m);
        if (n) {
                const char *v[RP_APP_MANIFEST_MAX_LIST];
                for (size_t i = 0; i < n; i++)
                        v[i] = rp_app_manifest_connection(m, i);
                print_values("AllowedConnections", v, n);
                any = true;
        }
        static const char *const port_keys[] = { "AllowedTcpServerPorts", "AllowedUdpServerPorts" };
        for (int proto = RP_IP_PROTO_TCP; proto <= RP_IP_PROTO_UDP; proto++)
                for (size_t i = 0; i < rp_app_manifest_n_server_ports(m, proto); i++) {
                        snprintf(buf, sizeof buf, "%u", rp_app_manifest_server_port(m, proto, i));
                        grant_row(i == 0 ? port_keys[proto] : "", buf);
                        any = true;
                }
        n = rp_app_manifest_n_app_connections(m);
        if (n) {
                const char *v[RP_APP_MANIFEST_MAX_LIST];
                for (size_t i = 0; i < n; i++)
                        v[i] = rp_app_manifest_app_connection(m, i);
                print_values("AllowedApplicationConnections", v, n);
                any = true;
        }
        for (int k = 0; k < _RP_PERIPH_KIND_MAX; k++) {
                any = any || rp_app_manifest_n_peripherals(m, k) > 0;
                print_peripherals(m, k, resolved);
        }
        if (rp_app_manifest_mutable_storage_kb(m)) {
                snprintf(buf, sizeof buf, "%" PRIu32 " KiB", rp_app_manifest_mutable_storage_kb(m));
                grant_row("MutableStorage", buf);
                any = true;
        }
        if (rp_app_manifest_device_auth_tenant(m)) {
                grant_row("DeviceAuthentication", rp_app_manifest_device_auth_tenant(m));
                any = true;
        }
        bool first = true;
        for (int pc = 0; pc < _RP_POWER_CONTROL_MAX; pc++)
                if (rp_app_manifest_has_power_control(m, pc)) {
                        grant_row(first ? "PowerControls" : "", rp_power_control_name(pc));
                        first = false;
                        any = true;
                }
        for (int f = 0; f < _RP_APP_FLAG_MAX; f++)
                if (rp_app_manifest_has_flag(m, f)) {
                        grant_row(rp_app_flag_name(f), "yes");
                        any = true;
                }
        if (!any)
                printf("  (nothing)\n");
}

static void print_table(const rp_app_manifest *m, const char *hwdef_path) {
        print_fields(m, hwdef_path);
        printf("\nGrants:\n");
        print_grants(m, hwdef_path != NULL);
}

/* Loads the manifest at path. Its "Source" (the path) must be UTF-8 for JSON
 * output, so for -o json a path that is not is named by its U+FFFD form
 * (the exact bytes go to "Source_hex"); tables and errors escape it. */
static int load_manifest(const char *path, cli_format format, rp_app_manifest **ret, rp_error *err) {
        if (format != CLI_FORMAT_JSON || rp_utf8_is_valid(path, strlen(path)))
                return rp_app_manifest_load(path, ret, err);
        json_t *name = cli_json_text(path);
        if (!name)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int r = rp_read_file(path, RP_APP_MANIFEST_MAX_SIZE, &data, &len, err);
        if (r == 0)
                r = rp_app_manifest_parse((const char *) data, len, json_string_value(name), ret, err);
        json_decref(name);
        return r;
}

static int verb_check(int argc, char **argv) {
        static const struct option options[] = {
                { "hardware-definition",      required_argument, NULL, 'H' },
                { "hardware-definitions-dir", required_argument, NULL, 'I' },
                { "output",                   required_argument, NULL, 'o' },
                { "help",                     no_argument,       NULL, 'h' },
                {}
        };
        const char *cmd = "app-manifest check";
        const char *hwdef_path = NULL;
        const char *dirs[17] = {};
        size_t n_dirs = 0;
        cli_format format = CLI_FORMAT_TEXT;
        int c;
        optind = 0;
        opterr = 0;
        while ((c = getopt_long(argc, argv, ":H:I:o:h", options, NULL)) >= 0) {
                switch (c) {
                case 'H':
                        hwdef_path = optarg;
                        break;
                case 'I':
                        if (n_dirs == ELEMENTSOF(dirs) - 1)
                                return cli_usage_error(cmd, "at most %zu --hardware-definitions-dir options",
                                                       ELEMENTSOF(dirs) - 1);
                        dirs[n_dirs++] = optarg;
                        break;
                case 'o':
                        if (cli_parse_format(cmd, optarg, &format) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'h':
                        return check_help(stdout);
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "missing the manifest file (app_manifest.json)");
        if (argc - optind > 1)
                return cli_usage_error(cmd, "unexpected argument '%s' (give one manifest)", argv[optind + 1]);
        if (n_dirs > 0 && !hwdef_path)
                return cli_usage_error(cmd, "--hardware-definitions-dir needs --hardware-definition");
        const char *path = argv[optind];

        rp_error err = {};
        _cleanup_(rp_app_manifest_freep) rp_app_manifest *m = NULL;
        int r = load_manifest(path, format, &m, &err);
        if (r < 0)
                return cli_fail(r, &err, r == -ENOENT ? "check the path of the manifest" : NULL);

        if (hwdef_path) {
                _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
                r = rp_hwdef_load(hwdef_path, dirs, &h, &err);
                if (r < 0)
                        return cli_fail(r, &err, "the hardware definition itself is invalid or incomplete");
                r = rp_app_manifest_resolve(m, h, &err);
                if (r < 0)
                        return cli_fail(r, &err, r == -ENOENT ?
                                        "use a name the hardware definition defines, or another definition" : NULL);
        }

        if (format == CLI_FORMAT_JSON) {
                json_t *j = rp_app_manifest_to_json(m);
                if (j && hwdef_path && json_object_set_new(j, "HardwareDefinition", cli_json_text(hwdef_path)) < 0) {
                        json_decref(j);
                        j = NULL;
                }
                return cli_print_json(cli_json_raw(cli_json_raw(j, "Source", path), "HardwareDefinition", hwdef_path));
        }
        print_table(m, hwdef_path);
        size_t unresolved = rp_app_manifest_n_unresolved(m);
        if (unresolved > 0)
                fprintf(stderr, "note: %zu peripheral reference%s not checked; pass --hardware-definition to "
                        "resolve %s\n", unresolved, unresolved == 1 ? " was" : "s were",
                        unresolved == 1 ? "it" : "them");
        return CLI_EXIT_OK;
}

static const cli_command commands[] = {
        { "check", verb_check, "Validate a manifest and show what it grants" },
};

int cmd_app_manifest(int argc, char **argv) {
        return cli_dispatch("app-manifest", "Validate application manifests (app_manifest.json).",
                            commands, ELEMENTSOF(commands), argc, argv);
}
