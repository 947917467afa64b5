/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device: ask the device's rampart-secmon who it is and for
 * attestation evidence (docs/formats.md, "secmon protocol"); attest to
 * rampart-server and use the device API with the certificate it issues
 * (lib/client/attest.h). The tenant's management of its devices (claim,
 * list, ...) is in cmd-device-service.c, in the same group. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/attest.h"
#include "client/http.h"
#include "client/session.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/evidence_create.h"
#include "secmon/client.h"
#include "service.h"

#define ROW 13

static int help_show(void) {
        printf("Usage: rampart device show-identity --state-dir D [--socket PATH] [-o table|json]\n\n"
               "Asks rampart-secmon for the device's identity: its device id (the SHA-256 of the\n"
               "DeviceID public key), the measurement of the running software, the root-of-trust\n"
               "backend, and the certificate chain as PEM: Alias, DeviceID, manufacturer CA, in\n"
               "that order (openssl verify -CAfile ca.pem -untrusted deviceid.pem alias.pem).\n\n"
               "Options:\n"
               "      --state-dir D        the device's state directory; secmon listens on\n"
               "                           D/secmon.sock\n"
               "      --socket PATH        secmon's socket, if not D/secmon.sock\n"
               "  -o, --output FORMAT      table (the default) or json\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

static int help_attest(void) {
        printf("Usage: rampart device attest --state-dir D --nonce HEX -o FILE [--force] [--json]\n"
               "       rampart device attest --state-dir D --server URL --ca-file F -o CERT [--ca-out CA]\n"
               "                             [--force] [--json]\n\n"
               "With --nonce: asks rampart-secmon for attestation evidence (an Entity Attestation\n"
               "Token signed by the Alias key) for the verifier's nonce and writes it to FILE\n"
               "atomically. Check it with 'rampart evidence verify FILE --ca ca.pem --nonce HEX'.\n\n"
               "With --server: attests to rampart-server: a nonce from the server, evidence for\n"
               "it from rampart-secmon, and in return a certificate for the Alias key (24 hours,\n"
               "from the tenant CA), written to CERT. Prints the device id, tenant and expiry.\n"
               "A refusal prints its reason (device_unclaimed, software_revoked, ...) and exits 1.\n\n"
               "Options:\n"
               "      --state-dir D        the device's state directory (secmon at D/secmon.sock)\n"
               "      --socket PATH        secmon's socket, if not D/secmon.sock\n"
               "      --nonce HEX          the verifier's nonce: 8 to 64 bytes in hex\n"
               "      --server URL         rampart-server's address, https://HOST:PORT\n"
               "      --ca-file F          the CA of the server's certificate (its DATA_DIR/tls/ca.pem)\n"
               "      --ca-out CA          also write the tenant CA certificate to CA\n"
               "  -o, --output FILE        where to write the evidence or the certificate (here -o\n"
               "                           is a path)\n"
               "      --force              replace FILE even if it is not evidence (a certificate)\n"
               "      --json               print the summary as JSON\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

static int help_whoami(void) {
        printf("Usage: rampart device whoami --state-dir D --server URL --ca-file F [--cert CERT]\n"
               "                             [-o table|json]\n\n"
               "Asks rampart-server who this device is (GET /v1/device/self) over TLS with client\n"
               "authentication: the Alias key, which signs inside rampart-secmon, and the device\n"
               "certificate 'rampart device attest --server' wrote to CERT. Without --cert, the\n"
               "device's session in D/service/ (the certificate it keeps there, attesting first\n"
               "when it has none that is good for this server), as 'device check-update' does.\n\n"
               "Options:\n"
               "      --state-dir D        the device's state directory (secmon at D/secmon.sock)\n"
               "      --socket PATH        secmon's socket, if not D/secmon.sock\n"
               "      --server URL         rampart-server's address, https://HOST:PORT\n"
               "      --ca-file F          the CA of the server's certificate (its DATA_DIR/tls/ca.pem)\n"
               "      --cert CERT          the device certificate (PEM); without it, the session's\n"
               "                           certificate in D/service/\n"
               "  -o, --output FORMAT      table (the default) or json\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

typedef enum device_cmd {
        DEVICE_SHOW,
        DEVICE_ATTEST,
        DEVICE_WHOAMI,
} device_cmd;

typedef struct device_args {
        const char *state_dir, *socket, *output, *nonce_hex;
        const char *server, *ca_file, *ca_out, *cert;
        cli_format fmt;
        bool force, json;
} device_args;

static int help_of(device_cmd which) {
        return which == DEVICE_ATTEST ? help_attest() : which == DEVICE_WHOAMI ? help_whoami() : help_show();
}

/* Parses the options of the three commands: -1 to go on, or the exit code
 * to end with. */
static int parse_args(const char *cmd, device_cmd which, int argc, char **argv, device_args *a) {
        /* The first four are everyone's; each command takes its own after. */
        static const struct option all[] = {
                { "state-dir", required_argument, NULL, 'd' },
                { "socket",    required_argument, NULL, 's' },
                { "output",    required_argument, NULL, 'o' },
                { "help",      no_argument,       NULL, 'h' },
                /* attest */
                { "nonce",     required_argument, NULL, 'n' },
                { "force",     no_argument,       NULL, 'f' },
                { "json",      no_argument,       NULL, 'j' },
                { "ca-out",    required_argument, NULL, 'C' },
                /* attest and whoami */
                { "server",    required_argument, NULL, 'S' },
                { "ca-file",   required_argument, NULL, 'A' },
                /* whoami */
                { "cert",      required_argument, NULL, 'c' },
        };
        /* Which of all[] each command takes. */
        static const char *const takes[] = {
                [DEVICE_SHOW] = "dsoh",
                [DEVICE_ATTEST] = "dsohnfjCSA",
                [DEVICE_WHOAMI] = "dsohSAc",
        };
        struct option opts[ELEMENTSOF(all) + 1];
        size_t k = 0;
        for (size_t i = 0; i < ELEMENTSOF(all); i++)
                if (strchr(takes[which], all[i].val))
                        opts[k++] = all[i];
        opts[k] = (struct option) {};
        *a = (device_args) { .fmt = CLI_FORMAT_TEXT };
        if (cli_wants_help(argc, argv))
                return help_of(which);
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1; ) {
                switch (c) {
                case 'd':
                        a->state_dir = optarg;
                        break;
                case 's':
                        a->socket = optarg;
                        break;
                case 'o':
                        if (which == DEVICE_ATTEST)
                                a->output = optarg;
                        else if (cli_parse_format(cmd, optarg, &a->fmt) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'n':
                        a->nonce_hex = optarg;
                        break;
                case 'f':
                        a->force = true;
                        break;
                case 'j':
                        a->json = true;
                        break;
                case 'C':
                        a->ca_out = optarg;
                        break;
                case 'S':
                        a->server = optarg;
                        break;
                case 'A':
                        a->ca_file = optarg;
                        break;
                case 'c':
                        a->cert = optarg;
                        break;
                case 'h':
                        return help_of(which);
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!a->state_dir && !a->socket)
                return cli_usage_error(cmd, "missing --state-dir D (or --socket PATH)");
        if (which == DEVICE_WHOAMI || (which == DEVICE_ATTEST && (a->server || a->ca_file || a->ca_out))) {
                if (a->nonce_hex)
                        return cli_usage_error(cmd, "--nonce is for evidence alone; with --server the server "
                                               "gives the nonce");
                if (!a->server)
                        return cli_usage_error(cmd, "missing --server URL (rampart-server's https://HOST:PORT)");
                if (!a->ca_file)
                        return cli_usage_error(cmd, "missing --ca-file F (the server's DATA_DIR/tls/ca.pem)");
                if (which == DEVICE_WHOAMI && !a->cert && !a->state_dir)
                        return cli_usage_error(cmd, "missing --state-dir D (the session's certificate is kept "
                                               "there), or --cert CERT");
                if (which == DEVICE_ATTEST && !a->output)
                        return cli_usage_error(cmd, "missing -o CERT (where to write the device certificate)");
                return -1;
        }
        if (which == DEVICE_ATTEST && !a->nonce_hex)
                return cli_usage_error(cmd, "missing --nonce HEX (the verifier's nonce), or --server URL to "
                                       "attest to rampart-server");
        if (which == DEVICE_ATTEST && !a->output)
                return cli_usage_error(cmd, "missing -o FILE (where to write the evidence)");
        return -1;
}

/* Connects to secmon at --socket or D/secmon.sock. */
static int connect_secmon(const device_args *a, rp_secmon **ret) {
        _cleanup_free_ char *path = NULL;
        if (!a->socket && asprintf(&path, "%s/%s", a->state_dir, RP_SECMON_SOCKET_NAME) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        rp_error err = {};
        int r = rp_secmon_connect(a->socket ? a->socket : path, ret, &err);
        if (r < 0) {
                char msg[RP_ERROR_MAX];
                snprintf(msg, sizeof msg, "%s", rp_error_message(&err, r));
                rp_error_set(&err, r, "%s — is it running?", msg);
                return cli_fail(r, &err, "start it with 'rampart-secmon --state-dir D' (it logs event=ready "
                                "when it listens)");
        }
        return CLI_EXIT_OK;
}

static json_t *chain_json(const char *pem) {
        json_t *arr = json_array();
        const char *end_marker = "-----END CERTIFICATE-----\n";
        for (const char *p = pem; arr && *p; ) {
                const char *e = strstr(p, end_marker);
                size_t n = e ? (size_t) (e - p) + strlen(end_marker) : strlen(p);
                if (json_array_append_new(arr, json_stringn(p, n)) < 0) {
                        json_decref(arr);
                        return NULL;
                }
                p += n;
        }
        return arr;
}

static int device_show_identity(int argc, char **argv) {
        const char *cmd = "device show-identity";
        device_args a;
        int x = parse_args(cmd, DEVICE_SHOW, argc, argv, &a);
        if (x >= 0)
                return x;
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        x = connect_secmon(&a, &sm);
        if (x != CLI_EXIT_OK)
                return x;

        rp_error err = {};
        rp_secmon_info info;
        _cleanup_free_ char *pem = NULL;
        int r = rp_secmon_info_get(sm, &info, &err);
        if (r >= 0)
                r = rp_secmon_chain_pem(sm, &pem, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        char m[2 * RP_ROT_MEASUREMENT_LEN + 1];
        rp_hex_encode_buf(info.measurement, sizeof info.measurement, m);

        if (a.fmt == CLI_FORMAT_JSON)
                return cli_print_json(json_pack("{s:s, s:s, s:s, s:b, s:o?}", "device_id", info.device_id,
                                                "measurement", m, "backend", info.backend,
                                                "development", info.development, "chain", chain_json(pem)));
        cli_print_row(ROW, "Device id:", info.device_id);
        cli_print_row(ROW, "Measurement:", m);
        printf("%-*s ", ROW, "Backend:");
        cli_print_safe(info.backend);
        printf("%s\n", info.development ? " (development: the device secret is in a file; not for the field)"
                                        : "");
        printf("Certificate chain (Alias, DeviceID, manufacturer CA):\n%s", pem);
        return CLI_EXIT_OK;
}

/* A nonce in hex: 2 digits a byte, RP_EVIDENCE_NONCE_MIN..MAX bytes. */
static int parse_nonce(const char *cmd, const char *hex, uint8_t *out, size_t *ret_len) {
        RP_INVARIANT(hex);      /* parse_args requires --nonce */
        size_t n = strlen(hex) / 2;
        if (strlen(hex) % 2 || n < RP_EVIDENCE_NONCE_MIN || n > RP_EVIDENCE_NONCE_MAX ||
            rp_hex_decode(hex, out, n) < 0)
                return cli_usage_error(cmd, "--nonce: expected %d to %d bytes in hex (%d to %d digits), got '%s'",
                                       RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX, 2 * RP_EVIDENCE_NONCE_MIN,
                                       2 * RP_EVIDENCE_NONCE_MAX, hex);
        *ret_len = n;
        return CLI_EXIT_OK;
}

/* What to do about a refusal's reason. */
static const char *refusal_hint(const char *reason) {
        static const struct {
                const char *reason, *hint;
        } hints[] = {
                { "device_unclaimed", "a Contributor of the tenant claims it first: rampart device claim DEVICE_ID" },
                { "device_disabled", "a Contributor of its tenant can enable it: rampart device enable DEVICE_ID" },
                { "development_not_allowed", "its tenant accepts no development root of trust (soft backend); "
                                             "an Administrator may allow it: rampart tenant update "
                                             "--allow-development yes" },
                { "untrusted_manufacturer", "the tenant must trust the factory's CA: rampart manufacturer add "
                                            "--ca ca.pem" },
                { "software_unknown", "the tenant must accept the software it runs: rampart release add --kind os "
                                      "--name N --version V --measurement HEX (the Measurement of 'rampart device "
                                      "show-identity')" },
                { "software_revoked", "the release the device runs was revoked: update it to one that is not" },
                { "nonce_expired", "attest again (each nonce is valid for a short time)" },
                { "nonce_used", "attest again (each nonce is good for one attestation)" },
                { "nonce_unknown", "attest again" },
        };
        for (size_t i = 0; i < ELEMENTSOF(hints); i++)
                if (streq(hints[i].reason, reason))
                        return hints[i].hint;
        return "the tenant sees the attempt with its reason: rampart attestation list --device DEVICE_ID";
}

/* A PEM file written atomically. */
static int write_pem(const char *path, const char *pem, rp_error *err) {
        return rp_write_file_atomic(path, pem, strlen(pem), 0644, err);
}

/* device attest --server: the whole attestation, through secmon. */
static int attest_to_server(const device_args *a) {
        const char *cmd = "device attest";
        if (a->ca_out && streq(a->ca_out, a->output))
                return cli_usage_error(cmd, "-o and --ca-out name the same file");
        /* Neither the state directory nor the server's CA file may be
         * replaced by what is written. */
        const cli_input in[] = {
                { "the server's CA file (--ca-file)", a->ca_file, false },
                { "the state directory (--state-dir)", a->state_dir, true },
        };
        const cli_output outs[] = {
                { a->output, "the device certificate", "-o", CLI_OUTPUT_CERTIFICATE, a->force },
                { a->ca_out, "the tenant CA certificate", "--ca-out", CLI_OUTPUT_CERTIFICATE, a->force },
        };
        for (size_t i = 0; i < ELEMENTSOF(outs); i++) {
                if (!outs[i].path)
                        continue;
                int x = cli_check_output(&outs[i], in, a->state_dir ? 2 : 1);
                if (x != CLI_EXIT_OK)
                        return x;
        }
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        int x = connect_secmon(a, &sm);
        if (x != CLI_EXIT_OK)
                return x;

        rp_error err = {};
        _cleanup_(rp_http_freep) rp_http *h = NULL;
        rp_http_config cfg = { .server = a->server, .ca_file = a->ca_file };
        int r = rp_http_new(&cfg, &h, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        rp_attest_result res = {};
        cli_svc s = { .cmd = cmd };
        r = rp_attest(h, sm, &res, &s.status, &err);
        if (r < 0) {
                if (s.status.status == 403 && s.status.code[0])
                        return cli_fail(r, &err, refusal_hint(s.status.code));
                return cli_svc_fail(&s, r, &err);
        }
        r = write_pem(a->output, res.certificate_pem, &err);
        if (r >= 0 && a->ca_out)
                r = write_pem(a->ca_out, res.ca_certificate_pem, &err);
        if (r < 0) {
                rp_attest_result_clear(&res);
                return cli_fail(r, &err, NULL);
        }
        if (a->json) {
                json_t *j = json_pack("{s:s, s:o, s:I, s:o, s:o?}", "device_id", res.device_id, "tenant",
                                      cli_json_text(res.tenant), "expires_at", (json_int_t) res.expires_at,
                                      "certificate", cli_json_text(a->output), "ca_certificate",
                                      a->ca_out ? cli_json_text(a->ca_out) : NULL);
                rp_attest_result_clear(&res);
                return cli_print_json(cli_json_raw(cli_json_raw(j, "certificate", a->output), "ca_certificate",
                                                   a->ca_out));
        }
        json_t *exp = json_pack("{s:I}", "expires_at", (json_int_t) res.expires_at);
        _cleanup_free_ char *when = exp ? cli_field_text(exp, &(cli_field) { "", "expires_at", CLI_FIELD_TIME }) : NULL;
        json_decref(exp);
        cli_print_row(ROW, "Device id:", res.device_id);
        cli_print_row(ROW, "Tenant:", res.tenant);
        cli_print_row(ROW, "Expires:", when ? when : "?");
        cli_print_row(ROW, "Certificate:", a->output);
        if (a->ca_out)
                cli_print_row(ROW, "Tenant CA:", a->ca_out);
        rp_attest_result_clear(&res);
        return CLI_EXIT_OK;
}

static const cli_field self_fields[] = {
        { "Device id", "device_id", CLI_FIELD_TEXT },
        { "Tenant", "tenant", CLI_FIELD_TEXT },
        { "Device group", "device_group", CLI_FIELD_TEXT },
        { "Certificate expires", "certificate_expires_at", CLI_FIELD_TIME },
        {}
};

/* The device certificate's PEM, read whole. */
#define CERT_FILE_MAX (64 * 1024)

/* device whoami without --cert: through the device's session. */
static int whoami_session(const device_args *a) {
        rp_device_session_config cfg = { .state_dir = a->state_dir, .secmon_socket = a->socket,
                                         .server = a->server, .ca_file = a->ca_file };
        _cleanup_(rp_device_session_freep) rp_device_session *ds = NULL;
        rp_error err = {};
        int r = rp_device_session_open(&cfg, &ds, NULL, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        cli_svc s = { .cmd = "device whoami", .fmt = a->fmt };
        json_t *self = NULL;
        r = rp_device_session_json(ds, "GET", "/v1/device/self", NULL, &self, &s.status, &err);
        if (r < 0)
                return cli_svc_fail(&s, r, &err);
        return cli_show(&s, self, self_fields);
}

static int device_whoami(int argc, char **argv) {
        const char *cmd = "device whoami";
        device_args a;
        int x = parse_args(cmd, DEVICE_WHOAMI, argc, argv, &a);
        if (x >= 0)
                return x;
        if (!a.cert)
                return whoami_session(&a);
        rp_error err = {};
        _cleanup_free_ uint8_t *pem = NULL;
        size_t len = 0;
        int r = rp_read_file(a.cert, CERT_FILE_MAX, &pem, &len, &err);
        if (r < 0)
                return cli_fail(r, &err, "give --cert the certificate 'rampart device attest --server' wrote");
        _cleanup_free_ char *path = NULL;
        if (!a.socket && asprintf(&path, "%s/%s", a.state_dir, RP_SECMON_SOCKET_NAME) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        rp_attest_tls tls = { a.socket ? a.socket : path, (const char *) pem };
        rp_http_config cfg = { .server = a.server, .ca_file = a.ca_file, .tls_setup = rp_attest_tls_setup,
                               .tls_userdata = &tls };
        _cleanup_(rp_http_freep) rp_http *h = NULL;
        r = rp_http_new(&cfg, &h, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        cli_svc s = { .cmd = cmd, .fmt = a.fmt };
        json_t *self = NULL;
        r = rp_http_json(h, "GET", "/v1/device/self", NULL, &self, &s.status, &err);
        if (r < 0) {
                if (s.status.status == 401 || s.status.status == 403)
                        return cli_fail(r, &err, "attest again ('rampart device attest --server ... -o CERT'): the "
                                        "certificate may have expired, or the device been disabled or released");
                return cli_svc_fail(&s, r, &err);
        }
        return cli_show(&s, self, self_fields);
}

static int device_attest(int argc, char **argv) {
        const char *cmd = "device attest";
        device_args a;
        int x = parse_args(cmd, DEVICE_ATTEST, argc, argv, &a);
        if (x >= 0)
                return x;
        if (a.server)
                return attest_to_server(&a);
        uint8_t nonce[RP_EVIDENCE_NONCE_MAX];
        size_t nonce_len = 0;
        x = parse_nonce(cmd, a.nonce_hex, nonce, &nonce_len);
        if (x != CLI_EXIT_OK)
                return x;
        /* Nothing in the state directory may be replaced by the evidence. */
        const cli_input in = { "the state directory (--state-dir)", a.state_dir, true };
        const cli_output out = { a.output, "the evidence", "-o", CLI_OUTPUT_EVIDENCE, a.force };
        x = cli_check_output(&out, &in, a.state_dir ? 1 : 0);
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        x = connect_secmon(&a, &sm);
        if (x != CLI_EXIT_OK)
                return x;

        rp_error err = {};
        _cleanup_free_ uint8_t *ev = NULL;
        size_t len = 0;
        int r = rp_secmon_evidence(sm, nonce, nonce_len, &ev, &len, &err);
        if (r >= 0)
                r = rp_write_file_atomic(a.output, ev, len, 0644, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        if (a.json)
                return cli_print_json(cli_json_raw(json_pack("{s:o, s:I, s:s}", "file", cli_json_text(a.output),
                                                             "size", (json_int_t) len, "nonce", a.nonce_hex),
                                                   "file", a.output));
        printf("Wrote the evidence (%zu bytes) to ", len);
        cli_print_safe(a.output);
        printf("\n");
        return CLI_EXIT_OK;
}

static const cli_command local[] = {
        { "show-identity", device_show_identity, "Show the device id, measurement and certificate chain" },
        { "attest",        device_attest,        "Get evidence for a nonce, or a certificate from rampart-server" },
        { "whoami",        device_whoami,        "Ask rampart-server who this device is (mTLS, device certificate)" },
        { "report-errors", cmd_device_report_errors, "Upload a file of failure events to rampart-server (mTLS)" },
        { "check-update",  cmd_device_check_update, "Fetch and verify the device's signed deployment document" },
        { "download",      cmd_device_download,     "Download and verify an image the document lists (resumes)" },
        { "report-state",  cmd_device_report_state, "Tell rampart-server what the device runs and what failed" },
};

int cmd_device(int argc, char **argv) {
        return cli_svc_group("device",
                             "On the device: ask its rampart-secmon for its identity and evidence, attest to\n"
                             "rampart-server. In the service: claim, list, move, disable and release devices.",
                             local, ELEMENTSOF(local), cli_device_service_cmds, cli_device_service_n, argc, argv);
}
