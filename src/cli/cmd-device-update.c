/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device check-update | download | report-state: the device's side
 * of updates (lib/client/update.h), as the device agent will do it, for
 * tests and diagnosis. Each opens the device's session (attesting first
 * when needed) with the device's rampart-secmon. docs/cli-service.md, "On
 * the device". */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "client/session.h"
#include "client/update.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/deployment.h"
#include "service.h"

#define ROW 13
#define STALL_TIMEOUT_MAX 3600

typedef enum update_cmd {
        CMD_CHECK,
        CMD_DOWNLOAD,
        CMD_REPORT,
} update_cmd;

typedef struct update_args {
        const char *state_dir, *socket, *server, *ca_file;
        const char *deployment_key;             /* check-update */
        const char *component, *output;         /* download */
        unsigned stall_timeout;                 /* download */
        bool force, json;
        cli_format fmt;
        rp_update_component_state comps[RP_UPDATE_REPORT_MAX];  /* report-state */
        char *comp_text[RP_UPDATE_REPORT_MAX];  /* their strings (argument copies) */
        size_t n_comps;
} update_args;

static void args_clear(update_args *a) {
        for (size_t i = 0; i < a->n_comps; i++)
                free(a->comp_text[i]);
        a->n_comps = 0;
}

static const char common_opts[] =
        "      --state-dir D        the device's state directory: rampart-secmon at D/secmon.sock,\n"
        "                           the service session in D/service/\n"
        "      --socket PATH        secmon's socket, if not D/secmon.sock\n"
        "      --server URL         rampart-server's address, https://HOST:PORT\n"
        "      --ca-file F          the CA of the server's certificate (its DATA_DIR/tls/ca.pem)\n";

static int help_check(void) {
        printf("Usage: rampart device check-update --state-dir D --server URL --ca-file F\n"
               "                                   [--deployment-key F] [-o table|json]\n\n"
               "Asks rampart-server what this device should run (GET /v1/device/deployment),\n"
               "attesting first when the device has no certificate good for that server, and\n"
               "prints the signed deployment document once the device accepts it: signed by the\n"
               "tenant's deployment key the device has pinned, for this device and tenant, not\n"
               "expired, and not older than the last one it accepted (which it then replaces,\n"
               "in D/service/deployment.cbor). Anything else is refused and exits 1.\n\n"
               "Options:\n%s"
               "      --deployment-key F   pin the tenant's deployment public key first (PEM, from\n"
               "                           'rampart deployment-key download'); a device that has\n"
               "                           one pinned refuses another\n"
               "  -o, --output FORMAT      table (the default) or json (the whole document)\n"
               "  -h, --help               show this help\n",
               common_opts);
        return CLI_EXIT_OK;
}

static int help_download(void) {
        printf("Usage: rampart device download --state-dir D --server URL --ca-file F\n"
               "                               --component ID -o FILE [--force] [--json]\n"
               "                               [--stall-timeout S]\n\n"
               "Downloads the image package the accepted deployment document lists for component\n"
               "ID (run 'rampart device check-update' first) and writes it to FILE, as it was\n"
               "uploaded, once it verifies: exactly the document's size and SHA-256, and an image\n"
               "package of that component, type and version. An interrupted download resumes\n"
               "where it stopped (D/service/downloads/DIGEST.part). Never more bytes than the\n"
               "document's size are read; a server that stalls is given up on. A progress bar is\n"
               "shown on stderr when it is a terminal.\n\n"
               "Options:\n%s"
               "      --component ID       the component id (a GUID) in the document\n"
               "  -o, --output FILE        where to write the package (here -o is a path)\n"
               "      --force              replace FILE even if it is not an image package\n"
               "      --stall-timeout S    give up when less than %d bytes a second came for S\n"
               "                           seconds (default %d)\n"
               "      --json               print the summary as JSON\n"
               "  -h, --help               show this help\n",
               common_opts, RP_HTTP_LOW_SPEED_LIMIT_DEFAULT, RP_HTTP_LOW_SPEED_TIME_DEFAULT);
        return CLI_EXIT_OK;
}

static int help_report(void) {
        printf("Usage: rampart device report-state --state-dir D --server URL --ca-file F\n"
               "                                   [--installed CID:VERSION[:DIGEST]]...\n"
               "                                   [--failed CID:VERSION:REASON]... [-o table|json]\n\n"
               "Tells rampart-server what the device runs (POST /v1/device/state): the version of\n"
               "the deployment document it accepted last, and each component installed or failed.\n"
               "The report replaces the last one; 'rampart device show ID' shows it.\n\n"
               "Options:\n%s"
               "      --installed CID:VERSION[:DIGEST]\n"
               "                           component CID (a GUID) runs VERSION, from the package\n"
               "                           whose SHA-256 is DIGEST (64 hex digits)\n"
               "      --failed CID:VERSION:REASON\n"
               "                           installing VERSION of component CID failed, for REASON\n"
               "  -o, --output FORMAT      table (the default) or json (the report sent)\n"
               "  -h, --help               show this help\n",
               common_opts);
        return CLI_EXIT_OK;
}

static int help_of(update_cmd which) {
        return which == CMD_CHECK ? help_check() : which == CMD_DOWNLOAD ? help_download() : help_report();
}

/* "CID:VERSION[:DIGEST]" (failed: "CID:VERSION:REASON") into a->comps. */
static int parse_component(const char *cmd, const char *option, const char *v, bool failed, update_args *a) {
        if (a->n_comps >= RP_UPDATE_REPORT_MAX)
                return cli_usage_error(cmd, "at most %d --installed and --failed in one report",
                                       RP_UPDATE_REPORT_MAX);
        char *text = strdup(v);
        if (!text)
                return cli_fail(-ENOMEM, NULL, NULL);
        a->comp_text[a->n_comps] = text;
        rp_update_component_state *c = &a->comps[a->n_comps++];
        *c = (rp_update_component_state) { .failed = failed };
        char *ver = strchr(text, ':');
        char *rest = ver ? strchr(ver + 1, ':') : NULL;
        if (ver)
                *ver++ = '\0';
        if (rest)
                *rest++ = '\0';
        const char *form = failed ? "CID:VERSION:REASON" : "CID:VERSION[:DIGEST]";
        if (!rp_guid_is_valid(text))
                return cli_usage_error(cmd, "%s '%s': expected %s, CID a GUID", option, v, form);
        for (char *p = text; *p; p++)  /* GUIDs and digests are shown and sent in lowercase */
                *p = (char) tolower((unsigned char) *p);
        c->component_id = text;
        char *end = NULL;
        errno = 0;
        unsigned long long n = ver && *ver >= '0' && *ver <= '9' ? strtoull(ver, &end, 10) : 0;
        if (!ver || !end || *end || errno || n > RP_PACKAGE_VERSION_MAX)
                return cli_usage_error(cmd, "%s '%s': expected %s, VERSION a number up to %" PRIu64, option, v,
                                       form, RP_PACKAGE_VERSION_MAX);
        c->has_version = true;
        c->version = n;
        if (failed) {
                if (!rest || !*rest)
                        return cli_usage_error(cmd, "%s '%s': expected %s (the reason is required)", option, v,
                                               form);
                c->detail = rest;
        } else if (rest) {
                uint8_t d[RP_SHA256_LEN];
                if (strlen(rest) != 2 * RP_SHA256_LEN || rp_hex_decode(rest, d, sizeof d) < 0)
                        return cli_usage_error(cmd, "%s '%s': DIGEST must be 64 hex digits", option, v);
                for (char *p = rest; *p; p++)
                        *p = (char) tolower((unsigned char) *p);
                c->digest = rest;
        }
        return -1;
}

/* One option getopt_long returned: -1 to go on, or the exit code to end
 * with. */
static int take_option(const char *cmd, update_cmd which, int c, char **argv, update_args *a) {
        switch (c) {
        case 'd':
                a->state_dir = optarg;
                return -1;
        case 's':
                a->socket = optarg;
                return -1;
        case 'S':
                a->server = optarg;
                return -1;
        case 'A':
                a->ca_file = optarg;
                return -1;
        case 'o':
                if (which == CMD_DOWNLOAD)
                        a->output = optarg;
                else if (cli_parse_format(cmd, optarg, &a->fmt) < 0)
                        return CLI_EXIT_USAGE;
                return -1;
        case 'k':
                a->deployment_key = optarg;
                return -1;
        case 'c':
                a->component = optarg;
                return -1;
        case 'f':
                a->force = true;
                return -1;
        case 'j':
                a->json = true;
                return -1;
        case 't': {
                char *end = NULL;
                errno = 0;
                unsigned long v = strtoul(optarg, &end, 10);
                if (optarg[0] < '0' || optarg[0] > '9' || *end || errno || v < 1 || v > STALL_TIMEOUT_MAX)
                        return cli_usage_error(cmd, "--stall-timeout: expected 1 to %d seconds, got '%s'",
                                               STALL_TIMEOUT_MAX, optarg);
                a->stall_timeout = (unsigned) v;
                return -1;
        }
        case 'i':
        case 'F':
                return parse_component(cmd, c == 'i' ? "--installed" : "--failed", optarg, c == 'F', a);
        case 'h':
                return help_of(which);
        default:
                return cli_bad_option(cmd, c, argv);
        }
}

/* What every command needs, and download its own. */
static int check_required(const char *cmd, update_cmd which, const update_args *a) {
        if (!a->state_dir)
                return cli_usage_error(cmd, "missing --state-dir D (the device's state directory)");
        if (!a->server)
                return cli_usage_error(cmd, "missing --server URL (rampart-server's https://HOST:PORT)");
        if (!a->ca_file)
                return cli_usage_error(cmd, "missing --ca-file F (the server's DATA_DIR/tls/ca.pem)");
        if (which != CMD_DOWNLOAD)
                return -1;
        if (!a->component)
                return cli_usage_error(cmd, "missing --component ID (a component id the deployment document "
                                       "lists; 'rampart device check-update' shows them)");
        if (!rp_guid_is_valid(a->component))
                return cli_usage_error(cmd, "--component '%s': expected a GUID", a->component);
        if (!a->output)
                return cli_usage_error(cmd, "missing -o FILE (where to write the image package)");
        return -1;
}

/* Parses the options: -1 to go on, or the exit code to end with. */
static int parse_args(const char *cmd, update_cmd which, int argc, char **argv, update_args *a) {
        static const struct option all[] = {
                { "state-dir",      required_argument, NULL, 'd' },
                { "socket",         required_argument, NULL, 's' },
                { "server",         required_argument, NULL, 'S' },
                { "ca-file",        required_argument, NULL, 'A' },
                { "output",         required_argument, NULL, 'o' },
                { "help",           no_argument,       NULL, 'h' },
                /* check-update */
                { "deployment-key", required_argument, NULL, 'k' },
                /* download */
                { "component",      required_argument, NULL, 'c' },
                { "force",          no_argument,       NULL, 'f' },
                { "json",           no_argument,       NULL, 'j' },
                { "stall-timeout",  required_argument, NULL, 't' },
                /* report-state */
                { "installed",      required_argument, NULL, 'i' },
                { "failed",         required_argument, NULL, 'F' },
        };
        static const char *const takes[] = {
                [CMD_CHECK] = "dsSAohk",
                [CMD_DOWNLOAD] = "dsSAohcfjt",
                [CMD_REPORT] = "dsSAohiF",
        };
        struct option opts[ELEMENTSOF(all) + 1];
        size_t k = 0;
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (strchr(takes[which], all[i].val))
                        opts[k++] = all[i];
        opts[k] = (struct option) {};
        *a = (update_args) { .fmt = CLI_FORMAT_TEXT };
        if (cli_wants_help(argc, argv))
                return help_of(which);
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1; ) {
                int x = take_option(cmd, which, c, argv, a);
                if (x >= 0)
                        return x;
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        return check_required(cmd, which, a);
}

/* What to do about a failure of the update library, by its code. */
static const char *update_hint(int r) {
        switch (r) {
        case -ENOKEY:
                return "an operator of the tenant runs 'rampart deployment-key download -o F'; pass that file "
                       "with --deployment-key F";
        case -EKEYREJECTED:
                return "the device trusts only the deployment key it has pinned (service/deployment-key.pem); "
                       "nothing was changed";
        case -ESTALE:
                return "the device keeps the newer document it accepted before (rollback refused)";
        case -ETIME:
                return "a document past its expiry is never acted on (freeze refused): check the device's clock, "
                       "then check again with 'rampart device check-update'";
        case -EXDEV:
                return "the device acts only on documents for itself (mix and match refused)";
        case -EFBIG:
                return "the server sent more than the document's size (endless data refused); nothing of it "
                       "was kept";
        case -ETIMEDOUT:
                return "the server stalled (slow retrieval); run the command again to resume";
        case -ECONNRESET:
                return "run the command again to resume where it stopped";
        default:
                return NULL;
        }
}

static int open_session(const update_args *a, rp_device_session **ret) {
        rp_device_session_config cfg = { .state_dir = a->state_dir, .secmon_socket = a->socket,
                                         .server = a->server, .ca_file = a->ca_file };
        rp_error err = {};
        int r = rp_device_session_open(&cfg, ret, NULL, &err);
        if (r < 0)
                return cli_fail(r, &err, r == -EKEYREJECTED ? "the device keeps the deployment key it has pinned: "
                                "if the tenant's key was replaced on purpose, remove D/service/deployment-key.pem "
                                "and provision the new one with --deployment-key" : NULL);
        return CLI_EXIT_OK;
}

/* --- check-update --- */

static json_t *doc_json(const rp_deployment_doc *d) {
        json_t *images = json_array(), *manages = json_array();
        for (rp_image_type t = RP_IMAGE_TYPE_APP; manages && t <= RP_IMAGE_TYPE_OS; t++)
                if ((d->manages & (1u << t)) && json_array_append_new(manages, json_string(rp_image_type_name(t))) < 0) {
                        json_decref(manages);
                        manages = NULL;
                }
        for (size_t i = 0; images && i < d->n_images; i++) {
                const rp_deployment_image *m = &d->images[i];
                char hex[2 * RP_SHA256_LEN + 1];
                rp_hex_encode_buf(m->digest, RP_SHA256_LEN, hex);
                json_t *o = json_pack("{s:s, s:s, s:o, s:I, s:s, s:I, s:o}", "component_id", m->component_id,
                                      "type", rp_image_type_name(m->type), "name", cli_json_text(m->name),
                                      "version", (json_int_t) m->version, "digest", hex, "size",
                                      (json_int_t) m->size, "url", cli_json_text(m->url));
                if (!o || json_array_append_new(images, o) < 0) {
                        json_decref(images);
                        images = NULL;
                }
        }
        if (!images || !manages) {
                json_decref(images);
                json_decref(manages);
                return NULL;
        }
        return json_pack("{s:I, s:s, s:s, s:s?, s:s?, s:I, s:I, s:I, s:s, s:o, s:o}", "format",
                         (json_int_t) d->format, "tenant", d->tenant, "device", d->device, "device_group",
                         d->device_group, "deployment", d->deployment, "version", (json_int_t) d->version,
                         "issued_at", (json_int_t) d->issued_at, "expires_at", (json_int_t) d->expires_at,
                         "policy", rp_update_policy_name(d->policy), "manages", manages, "images", images);
}

static const cli_field image_fields[] = {
        { "COMPONENT ID", "component_id", CLI_FIELD_TEXT },
        { "TYPE", "type", CLI_FIELD_TEXT },
        { "NAME", "name", CLI_FIELD_TEXT },
        { "VERSION", "version", CLI_FIELD_TEXT },
        { "SIZE", "size", CLI_FIELD_TEXT },
        { "DIGEST", "digest", CLI_FIELD_TEXT },
        {}
};

static void print_field(const json_t *j, const char *label, const char *key, cli_field_kind kind) {
        _cleanup_free_ char *v = cli_field_text(j, &(cli_field) { label, key, kind });
        cli_print_row(ROW, label, v ? v : "?");
}

static int print_doc(const char *cmd, json_t *j, bool changed) {
        char version[64];
        snprintf(version, sizeof version, "%" PRId64 " (%s)", (int64_t) json_integer_value(json_object_get(j, "version")),
                 changed ? "new" : "unchanged");
        print_field(j, "Device:", "device", CLI_FIELD_TEXT);
        cli_print_row(ROW, "Version:", version);
        print_field(j, "Deployment:", "deployment", CLI_FIELD_TEXT);
        print_field(j, "Device group:", "device_group", CLI_FIELD_TEXT);
        _cleanup_free_ char *manages = json_dumps(json_object_get(j, "manages"), JSON_COMPACT);
        _cleanup_free_ char *policy = NULL;
        if (asprintf(&policy, "%s (manages %s)", json_string_value(json_object_get(j, "policy")),
                     manages ? manages : "?") < 0)
                policy = NULL;
        cli_print_row(ROW, "Policy:", policy ? policy : "?");
        print_field(j, "Issued:", "issued_at", CLI_FIELD_TIME);
        print_field(j, "Expires:", "expires_at", CLI_FIELD_TIME);
        json_t *images = json_object_get(j, "images");
        if (json_array_size(images) == 0) {
                cli_print_row(ROW, "Images:", "none");
                json_decref(j);
                return CLI_EXIT_OK;
        }
        printf("Images:\n");
        cli_svc s = { .cmd = cmd, .fmt = CLI_FORMAT_TEXT };
        json_t *list = json_pack("{s:O}", "images", images);
        json_decref(j);
        return list ? cli_list(&s, list, "images", image_fields) : cli_fail(-ENOMEM, NULL, NULL);
}

int cmd_device_check_update(int argc, char **argv) {
        const char *cmd = "device check-update";
        _cleanup_(args_clear) update_args a = {};
        int x = parse_args(cmd, CMD_CHECK, argc, argv, &a);
        if (x >= 0)
                return x;
        rp_error err = {};
        int r;
        if (a.deployment_key) {
                _cleanup_(rp_key_freep) rp_key *key = NULL;
                r = rp_key_load_public(a.deployment_key, &key, &err);
                if (r < 0)
                        return cli_fail(r, &err, "give --deployment-key the PEM file 'rampart deployment-key "
                                        "download -o F' wrote");
                r = rp_device_pin_deployment_key(a.state_dir, key, NULL, &err);
                if (r < 0)
                        return cli_fail(r, &err, r == -EKEYREJECTED ? "nothing was changed" : NULL);
        }
        _cleanup_(rp_device_session_freep) rp_device_session *s = NULL;
        x = open_session(&a, &s);
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = NULL;
        bool changed = false;
        r = rp_update_check(s, (uint64_t) time(NULL), &d, NULL, NULL, &changed, &err);
        if (r < 0)
                return cli_fail(r, &err, update_hint(r));
        json_t *j = doc_json(d);
        if (!j)
                return cli_fail(-ENOMEM, NULL, NULL);
        if (a.fmt == CLI_FORMAT_JSON) {
                if (json_object_set_new(j, "changed", json_boolean(changed)) < 0) {
                        json_decref(j);
                        return cli_fail(-ENOMEM, NULL, NULL);
                }
                return cli_print_json(j);
        }
        return print_doc(cmd, j, changed);
}

/* --- download --- */

typedef struct progress {
        int shown;              /* per mille last drawn, -1 for none */
} progress;

static int draw_progress(void *userdata, uint64_t have, uint64_t total) {
        progress *p = userdata;
        int pm = total ? (int) (have * 1000 / total) : 1000;
        if (pm == p->shown)
                return 0;
        p->shown = pm;
        int bar = pm * 40 / 1000;
        fprintf(stderr, "\r[%.*s%*s] %3d.%d%% %.1f/%.1f MiB", bar, "########################################",
                40 - bar, "", pm / 10, pm % 10, (double) have / (1 << 20), (double) total / (1 << 20));
        fflush(stderr);
        return 0;
}

int cmd_device_download(int argc, char **argv) {
        const char *cmd = "device download";
        _cleanup_(args_clear) update_args a = {};
        int x = parse_args(cmd, CMD_DOWNLOAD, argc, argv, &a);
        if (x >= 0)
                return x;
        /* Neither the state directory nor the server's CA may be replaced. */
        const cli_input in[] = {
                { "the server's CA file (--ca-file)", a.ca_file, false },
                { "the state directory (--state-dir)", a.state_dir, true },
        };
        const cli_output out = { a.output, "the image package", "-o", CLI_OUTPUT_PACKAGE, a.force };
        x = cli_check_output(&out, in, ELEMENTSOF(in));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_(rp_device_session_freep) rp_device_session *s = NULL;
        x = open_session(&a, &s);
        if (x != CLI_EXIT_OK)
                return x;
        rp_error err = {};
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = NULL;
        int r = rp_update_accepted(s, &d, NULL, NULL, &err);
        if (r >= 0)
                r = rp_update_check_fresh(s, d, (uint64_t) time(NULL), &err);
        if (r < 0)
                return cli_fail(r, &err, r == -ENOENT || r == -ETIME ?
                                "run 'rampart device check-update' first: a download needs a fresh deployment "
                                "document" : update_hint(r));
        progress p = { .shown = -1 };
        rp_update_download_options o = { .low_speed_time = a.stall_timeout };
        if (isatty(STDERR_FILENO)) {
                o.progress = draw_progress;
                o.userdata = &p;
        }
        rp_update_download_result res = {};
        char lowered[RP_GUID_STRLEN + 1];
        (void) rp_guid_normalize(a.component, lowered);
        r = rp_update_download(s, d, lowered, a.output, &o, &res, &err);
        if (p.shown >= 0)
                fputc('\n', stderr);
        if (r < 0)
                return cli_fail(r, &err, r == -ENOENT ? "'rampart device check-update' lists the components the "
                                "device should run" : update_hint(r));
        const rp_deployment_image *m = res.image;
        char hex[2 * RP_SHA256_LEN + 1];
        rp_hex_encode_buf(m->digest, RP_SHA256_LEN, hex);
        if (a.json)
                return cli_print_json(cli_json_raw(
                        json_pack("{s:o, s:s, s:s, s:I, s:s, s:I, s:I}", "file", cli_json_text(a.output),
                                  "component_id", m->component_id, "type", rp_image_type_name(m->type), "version",
                                  (json_int_t) m->version, "digest", hex, "size", (json_int_t) m->size,
                                  "resumed_from", (json_int_t) res.resumed_from),
                        "file", a.output));
        printf("Wrote component %s, %s version %" PRIu64 " (%" PRIu64 " bytes, SHA-256 %s", m->component_id,
               rp_image_type_name(m->type), m->version, m->size, hex);
        if (res.resumed_from)
                printf(", resumed at %" PRIu64, res.resumed_from);
        printf(") to ");
        cli_print_safe(a.output);
        printf("\n");
        return CLI_EXIT_OK;
}

/* --- report-state --- */

int cmd_device_report_state(int argc, char **argv) {
        const char *cmd = "device report-state";
        _cleanup_(args_clear) update_args a = {};
        int x = parse_args(cmd, CMD_REPORT, argc, argv, &a);
        if (x >= 0)
                return x;
        _cleanup_(rp_device_session_freep) rp_device_session *s = NULL;
        x = open_session(&a, &s);
        if (x != CLI_EXIT_OK)
                return x;
        /* The version of the document the device accepted, if any. */
        rp_error err = {};
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = NULL;
        int r = rp_update_accepted(s, &d, NULL, NULL, &err);
        if (r < 0 && r != -ENOENT && r != -ENOKEY)
                return cli_fail(r, &err, update_hint(r));
        rp_error_clear(&err);
        r = rp_update_report_state(s, d ? &d->version : NULL, a.comps, a.n_comps, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        if (a.fmt == CLI_FORMAT_JSON) {
                json_t *comps = json_array();
                for (size_t i = 0; comps && i < a.n_comps; i++) {
                        const rp_update_component_state *c = &a.comps[i];
                        json_t *o = json_pack("{s:s, s:I, s:s?, s:s}", "component_id", c->component_id,
                                              "version", (json_int_t) c->version, "digest", c->digest, "state",
                                              c->failed ? "failed" : "installed");
                        if (o && c->detail && json_object_set_new(o, "detail", cli_json_text(c->detail)) < 0) {
                                json_decref(o);
                                o = NULL;
                        }
                        if (!o || json_array_append_new(comps, o) < 0) {
                                json_decref(comps);
                                comps = NULL;
                        }
                }
                return cli_print_json(json_pack("{s:o, s:o?}", "doc_version",
                                                d ? json_integer((json_int_t) d->version) : json_null(),
                                                "components", comps));
        }
        char line[128];
        if (d)
                snprintf(line, sizeof line, "%zu component%s, deployment document version %" PRIu64, a.n_comps,
                         a.n_comps == 1 ? "" : "s", d->version);
        else
                snprintf(line, sizeof line, "%zu component%s, no deployment document accepted yet", a.n_comps,
                         a.n_comps == 1 ? "" : "s");
        cli_print_row(ROW, "Reported:", line);
        return CLI_EXIT_OK;
}
