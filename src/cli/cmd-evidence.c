/* SPDX-License-Identifier: Apache-2.0 */
/* rampart evidence: verify a device's attestation evidence (the librampart
 * verifier, include/rampart/evidence.h) and print what it says. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/evidence.h"

#define CA_FILE_MAX (1024 * 1024)
#define ROW 14

static int help_verify(void) {
        printf("Usage: rampart evidence verify EVIDENCE --ca CA.pem --nonce HEX [--allow-development]\n"
               "                               [-o table|json]\n\n"
               "Verifies attestation evidence (an Entity Attestation Token, as `rampart device\n"
               "attest` writes it) and prints its claims. The checks, in order: structure and\n"
               "size, the certificate chain [Alias, DeviceID] to a CA in CA.pem, the Alias\n"
               "certificate, the signature, the claims' types, the nonce, the device id, the\n"
               "measurement against the Alias certificate, the development policy. Exit 0 if\n"
               "all hold; exit 1 naming the check that failed otherwise.\n\n"
               "Options:\n"
               "      --ca FILE             trusted manufacturer CA certificates (PEM, one or more)\n"
               "      --nonce HEX           the nonce the evidence must carry (8 to 64 bytes)\n"
               "      --allow-development   accept a development root of trust (soft: the device\n"
               "                            secret is a file); refused by default\n"
               "  -o, --output FORMAT       table (default) or json (here -o is a format)\n"
               "  -h, --help                show this help\n");
        return CLI_EXIT_OK;
}

typedef struct verify_args {
        const char *path;
        const char *ca;
        const char *nonce_hex;
        bool allow_development;
        cli_format format;
} verify_args;

static int parse_verify_args(const char *cmd, int argc, char **argv, verify_args *a) {
        static const struct option opts[] = {
                { "ca",                required_argument, NULL, 'C' },
                { "nonce",             required_argument, NULL, 'N' },
                { "allow-development", no_argument,       NULL, 'D' },
                { "output",            required_argument, NULL, 'o' },
                { "help",              no_argument,       NULL, 'h' },
                {}
        };
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, ":o:h", opts, NULL)) != -1; ) {
                switch (c) {
                case 'C':
                        a->ca = optarg;
                        break;
                case 'N':
                        a->nonce_hex = optarg;
                        break;
                case 'D':
                        a->allow_development = true;
                        break;
                case 'o':
                        if (cli_parse_format(cmd, optarg, &a->format) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "which evidence? (give the evidence file)");
        if (optind + 1 < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
        a->path = argv[optind];
        return 0;
}

static void format_time(int64_t t, char *out, size_t size) {
        struct tm tm;
        time_t tt = (time_t) t;
        if (gmtime_r(&tt, &tm) && tm.tm_year < 9999 - 1900)
                strftime(out, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
        else
                snprintf(out, size, "%" PRId64, t);
}

static json_t *claims_json(const verify_args *a, const rp_evidence_claims *c) {
        char nonce[2 * RP_EVIDENCE_NONCE_MAX + 1], measurement[2 * RP_EVIDENCE_DIGEST_LEN + 1];
        char key[2 * RP_EVIDENCE_PUBKEY_MAX + 1];
        rp_hex_encode_buf(c->nonce, c->nonce_len, nonce);
        rp_hex_encode_buf(c->measurement, sizeof c->measurement, measurement);
        rp_hex_encode_buf(c->alias_public_key, c->alias_public_key_len, key);
        json_t *list = json_array();
        for (size_t i = 0; list && i < c->n_components; i++) {
                char digest[2 * RP_EVIDENCE_DIGEST_LEN + 1];
                rp_hex_encode_buf(c->components[i].digest, RP_EVIDENCE_DIGEST_LEN, digest);
                if (json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", c->components[i].name,
                                                          "version", c->components[i].version,
                                                          "digest", digest)) < 0) {
                        json_decref(list);
                        list = NULL;
                }
        }
        /* Every text in the claims was checked to be printable UTF-8. */
        return cli_json_raw(json_pack("{s:o, s:b, s:s, s:s, s:b, s:s, s:s, s:I, s:i, s:s, s:s, s:s, s:o?, s:s}",
                                      "file", cli_json_text(a->path),
                                      "verified", 1,
                                      "device_id", c->device_id,
                                      "backend", c->backend,
                                      "development", c->development,
                                      "swname", c->swname,
                                      "swversion", c->swversion,
                                      "iat", (json_int_t) c->iat,
                                      "dbgstat", c->dbgstat,
                                      "dbgstat_name", rp_evidence_dbgstat_name(c->dbgstat),
                                      "nonce", nonce,
                                      "measurement", measurement,
                                      "components", list,
                                      "alias_public_key", key), "file", a->path);
}

static int print_claims(const verify_args *a, const rp_evidence_claims *c) {
        if (a->format == CLI_FORMAT_JSON)
                return cli_print_json(claims_json(a, c));
        char buf[2 * RP_EVIDENCE_NONCE_MAX + 64], when[64];
        cli_print_row(ROW, "File:", a->path);
        cli_print_row(ROW, "Verified:", "yes: chain to a trusted CA, Alias certificate, signature, nonce, "
                      "measurement");
        cli_print_row(ROW, "Device id:", c->device_id);
        snprintf(buf, sizeof buf, "%s%s", c->backend, c->development ? " (development: the device secret is a "
                 "file)" : "");
        cli_print_row(ROW, "Root of trust:", buf);
        snprintf(buf, sizeof buf, "%s %s", c->swname, c->swversion);
        cli_print_row(ROW, "Software:", buf);
        snprintf(buf, sizeof buf, "%s (%d)", rp_evidence_dbgstat_name(c->dbgstat), c->dbgstat);
        cli_print_row(ROW, "Debug status:", buf);
        format_time(c->iat, when, sizeof when);
        snprintf(buf, sizeof buf, "%s (the device's clock)", when);
        cli_print_row(ROW, "Issued at:", buf);
        rp_hex_encode_buf(c->nonce, c->nonce_len, buf);
        cli_print_row(ROW, "Nonce:", buf);
        rp_hex_encode_buf(c->measurement, sizeof c->measurement, buf);
        cli_print_row(ROW, "Measurement:", buf);
        printf("Components:\n");
        for (size_t i = 0; i < c->n_components; i++) {
                char digest[2 * RP_EVIDENCE_DIGEST_LEN + 1];
                rp_hex_encode_buf(c->components[i].digest, RP_EVIDENCE_DIGEST_LEN, digest);
                printf("  ");
                cli_print_safe(c->components[i].name);
                printf(" ");
                cli_print_safe(c->components[i].version[0] ? c->components[i].version : "-");
                printf(" %s\n", digest);
        }
        return CLI_EXIT_OK;
}

static int verify(int argc, char **argv) {
        const char *cmd = "evidence verify";
        if (cli_wants_help(argc, argv))
                return help_verify();
        verify_args a = { .format = CLI_FORMAT_TEXT };
        int r = parse_verify_args(cmd, argc, argv, &a);
        if (r != 0)
                return r;
        if (!a.ca)
                return cli_usage_error(cmd, "--ca is required (the trusted manufacturer CA certificates)");
        if (!a.nonce_hex)
                return cli_usage_error(cmd, "--nonce is required (the nonce the evidence was made for)");
        uint8_t nonce[RP_EVIDENCE_NONCE_MAX];
        size_t nonce_len = strlen(a.nonce_hex) / 2;
        if (strlen(a.nonce_hex) % 2 || nonce_len < RP_EVIDENCE_NONCE_MIN || nonce_len > RP_EVIDENCE_NONCE_MAX ||
            rp_hex_decode(a.nonce_hex, nonce, nonce_len) < 0)
                return cli_usage_error(cmd, "--nonce must be %d to %d bytes in hex (%d to %d hex digits)",
                                       RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX, 2 * RP_EVIDENCE_NONCE_MIN,
                                       2 * RP_EVIDENCE_NONCE_MAX);

        rp_error err = {};
        _cleanup_free_ uint8_t *ca = NULL, *ev = NULL;
        size_t ca_len, ev_len;
        r = rp_read_file(a.ca, CA_FILE_MAX, &ca, &ca_len, &err);
        if (r >= 0)
                r = rp_read_file(a.path, RP_EVIDENCE_MAX_SIZE, &ev, &ev_len, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        const rp_evidence_policy policy = {
                .ca_pem = (const char *) ca, .ca_pem_len = ca_len, .nonce = nonce, .nonce_len = nonce_len,
                .allow_development = a.allow_development,
        };
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *claims = NULL;
        r = rp_evidence_verify(ev, ev_len, &policy, &claims, &err);
        if (r < 0)
                return cli_fail(r, &err, strstr(err.message, "policy does not allow development") ?
                                "--allow-development accepts it (for development and CI only)" : NULL);
        return print_claims(&a, claims);
}

static const cli_command commands[] = {
        { "verify", verify, "Verify attestation evidence and print its claims" },
};

int cmd_evidence(int argc, char **argv) {
        return cli_dispatch("evidence", "Verify devices' attestation evidence (EAT, signed by the Alias key).",
                            commands, ELEMENTSOF(commands), argc, argv);
}
