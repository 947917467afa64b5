/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device: ask the device's rampart-secmon who it is and for
 * attestation evidence (docs/formats.md, "secmon protocol"). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/evidence_create.h"
#include "secmon/client.h"

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
        printf("Usage: rampart device attest --state-dir D --nonce HEX -o FILE [--force] [--json]\n\n"
               "Asks rampart-secmon for attestation evidence (an Entity Attestation Token signed\n"
               "by the Alias key) for the verifier's nonce and writes it to FILE atomically.\n"
               "Check it with 'rampart evidence verify FILE --ca ca.pem --nonce HEX'.\n\n"
               "Options:\n"
               "      --state-dir D        the device's state directory (secmon at D/secmon.sock)\n"
               "      --socket PATH        secmon's socket, if not D/secmon.sock\n"
               "      --nonce HEX          the verifier's nonce: 8 to 64 bytes in hex\n"
               "  -o, --output FILE        where to write the evidence (here -o is a path)\n"
               "      --force              replace FILE even if it is not evidence\n"
               "      --json               print the summary as JSON\n"
               "  -h, --help               show this help\n");
        return CLI_EXIT_OK;
}

typedef struct device_args {
        const char *state_dir, *socket, *output, *nonce_hex;
        cli_format fmt;
        bool force, json;
} device_args;

/* Parses the options both commands share (and attest's): -1 to go on, or
 * the exit code to end with. */
static int parse_args(const char *cmd, bool attest, int argc, char **argv, device_args *a) {
        /* attest's options; show-identity has the first four. */
        static const struct option attest_opts[] = {
                { "state-dir", required_argument, NULL, 'd' },
                { "socket",    required_argument, NULL, 's' },
                { "output",    required_argument, NULL, 'o' },
                { "help",      no_argument,       NULL, 'h' },
                { "nonce",     required_argument, NULL, 'n' },
                { "force",     no_argument,       NULL, 'f' },
                { "json",      no_argument,       NULL, 'j' },
                {}
        };
        struct option show_opts[5];
        memcpy(show_opts, attest_opts, 4 * sizeof *show_opts);
        show_opts[4] = (struct option) {};
        *a = (device_args) { .fmt = CLI_FORMAT_TEXT };
        if (cli_wants_help(argc, argv))
                return attest ? help_attest() : help_show();
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, "+:o:h", attest ? attest_opts : show_opts, NULL)) != -1; ) {
                switch (c) {
                case 'd':
                        a->state_dir = optarg;
                        break;
                case 's':
                        a->socket = optarg;
                        break;
                case 'o':
                        if (attest)
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
                case 'h':
                        return attest ? help_attest() : help_show();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!a->state_dir && !a->socket)
                return cli_usage_error(cmd, "missing --state-dir D (or --socket PATH)");
        if (attest && !a->nonce_hex)
                return cli_usage_error(cmd, "missing --nonce HEX (the verifier's nonce)");
        if (attest && !a->output)
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
        int x = parse_args(cmd, false, argc, argv, &a);
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

static int device_attest(int argc, char **argv) {
        const char *cmd = "device attest";
        device_args a;
        int x = parse_args(cmd, true, argc, argv, &a);
        if (x >= 0)
                return x;
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

static const cli_command commands[] = {
        { "show-identity", device_show_identity, "Show the device id, measurement and certificate chain" },
        { "attest",        device_attest,        "Get attestation evidence for a nonce from rampart-secmon" },
};

int cmd_device(int argc, char **argv) {
        return cli_dispatch("device", "Ask this device's rampart-secmon for its identity and evidence.", commands,
                            ELEMENTSOF(commands), argc, argv);
}
