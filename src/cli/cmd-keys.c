/* SPDX-License-Identifier: Apache-2.0 */
/* rampart keys: generate and inspect signing keys. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"

#define KEY_FILE_MAX (64 * 1024)

static int generate_help(void) {
        printf("Usage: rampart keys generate -o KEY [--type es256|ed25519] [--force] [--json]\n\n"
               "Generates a signing key pair. Writes the private key to KEY (unencrypted\n"
               "PKCS#8 PEM, mode 0600) and the public key to KEY.pub (SubjectPublicKeyInfo\n"
               "PEM), each atomically, then prints both paths and the key id (the SHA-256\n"
               "of the DER public key, in hex).\n\n"
               "Options:\n"
               "  -o, --out KEY          Where to write the private key (required); the public\n"
               "                         key goes to KEY.pub. (Here -o names the key file; other\n"
               "                         commands use -o/--output for the output format.)\n"
               "  -t, --type TYPE        es256 (ECDSA P-256, the default) or ed25519\n"
               "  -f, --force            Replace KEY and KEY.pub if they exist\n"
               "      --json             Print the result as JSON\n"
               "  -h, --help             Show this help\n");
        return CLI_EXIT_OK;
}

/* Generates a key of type and writes it to out and out.pub. */
static int write_key_pair(rp_key_type type, const char *out, bool force, bool json) {
        _cleanup_free_ char *pub = NULL;
        if (asprintf(&pub, "%s.pub", out) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        /* KEY.pub must not be KEY itself under another name. */
        const cli_input priv_in = { "the private key (-o)", out, false };
        const cli_output outs[] = {
                { out, "the private key", "-o", CLI_OUTPUT_NEW, force },
                { pub, "the public key", "-o", CLI_OUTPUT_NEW, force },
        };
        for (size_t i = 0; i < ELEMENTSOF(outs); i++) {
                int x = cli_check_output(&outs[i], &priv_in, i);
                if (x != CLI_EXIT_OK)
                        return x;
        }

        rp_error err = {};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_key_generate(type, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        r = rp_key_save_private(key, out, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        r = rp_key_save_public(key, pub, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        char hex[2 * RP_KEY_ID_LEN + 1];
        cli_key_id_hex(key, hex);

        if (json)
                return cli_print_json(cli_json_raw(cli_json_raw(json_pack("{s:o, s:o, s:s, s:s}",
                                                "private_key", cli_json_text(out), "public_key", cli_json_text(pub),
                                                "type", rp_key_type_name(type), "key_id", hex),
                                                "private_key", out), "public_key", pub));
        printf("Wrote the %s private key to ", rp_key_type_name(type));
        cli_print_safe(out);
        printf(" (mode 0600)\nWrote the public key to ");
        cli_print_safe(pub);
        printf("\nKey id: %s\n", hex);
        return CLI_EXIT_OK;
}

static int keys_generate(int argc, char **argv) {
        const char *cmd = "keys generate";
        static const struct option opts[] = {
                { "out", required_argument, NULL, 'o' },
                { "type", required_argument, NULL, 't' },
                { "force", no_argument, NULL, 'f' },
                { "json", no_argument, NULL, 'J' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        if (cli_wants_help(argc, argv))
                return generate_help();

        const char *out = NULL;
        rp_key_type type = RP_KEY_ES256;
        bool force = false, json = false;
        int c;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":o:t:fh", opts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        out = optarg;
                        break;
                case 't':
                        if (rp_key_type_from_name(optarg, &type) < 0)
                                return cli_usage_error(cmd, "unknown key type '%s' (use es256 or ed25519)", optarg);
                        break;
                case 'f':
                        force = true;
                        break;
                case 'J':
                        json = true;
                        break;
                case 'h':
                        return generate_help();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!out)
                return cli_usage_error(cmd, "missing -o KEY (where to write the private key)");
        if (!*out)
                return cli_usage_error(cmd, "the key path is empty");

        return write_key_pair(type, out, force, json);
}

static int show_help(void) {
        printf("Usage: rampart keys show KEY [-o table|json]\n\n"
               "Shows a key file: its type (ES256 or Ed25519), whether it holds the private\n"
               "key, and its key id (the SHA-256 of the DER public key, in hex). KEY may be a\n"
               "private key (PKCS#8 PEM) or a public key (SubjectPublicKeyInfo PEM).\n\n"
               "Options:\n"
               "  -o, --output FORMAT    table (the default) or json\n"
               "  -h, --help             Show this help\n");
        return CLI_EXIT_OK;
}

static int keys_show(int argc, char **argv) {
        const char *cmd = "keys show";
        static const struct option opts[] = {
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        if (cli_wants_help(argc, argv))
                return show_help();

        cli_format fmt = CLI_FORMAT_TEXT;
        int c;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'o':
                        if (cli_parse_format(cmd, optarg, &fmt) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'h':
                        return show_help();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind >= argc)
                return cli_usage_error(cmd, "missing the KEY file");
        if (argc - optind > 1)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
        const char *path = argv[optind];

        /* A file with a public key block is shown as a public key; anything
         * else must be a private key, and the error says why not. */
        rp_error err = {};
        _cleanup_free_ uint8_t *text = NULL;
        size_t len;
        int r = rp_read_file(path, KEY_FILE_MAX, &text, &len, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        bool public_only = memmem(text, len, "-----BEGIN PUBLIC KEY-----", 26) != NULL;
        explicit_bzero(text, len);

        _cleanup_(rp_key_freep) rp_key *key = NULL;
        r = public_only ? rp_key_load_public(path, &key, &err) : rp_key_load_private(path, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);

        char hex[2 * RP_KEY_ID_LEN + 1];
        cli_key_id_hex(key, hex);
        const char *type = rp_key_type_name(rp_key_get_type(key));
        bool priv = rp_key_is_private(key);

        if (fmt == CLI_FORMAT_JSON)
                return cli_print_json(cli_json_raw(json_pack("{s:o, s:s, s:i, s:b, s:s}",
                                                "file", cli_json_text(path), "type", type,
                                                "cose_alg", rp_key_cose_alg(key), "private", priv,
                                                "key_id", hex), "file", path));
        cli_print_row(9, "File:", path);
        cli_print_row(9, "Type:", type);
        cli_print_row(9, "Holds:", priv ? "private key (and its public key)" : "public key only");
        cli_print_row(9, "Key id:", hex);
        return CLI_EXIT_OK;
}

static const cli_command commands[] = {
        { "generate", keys_generate, "Generate a key pair (ES256 or Ed25519) into KEY and KEY.pub" },
        { "show",     keys_show,     "Show a key file's type, key id and whether it is private" },
};

int cmd_keys(int argc, char **argv) {
        return cli_dispatch("keys", "Generate and inspect signing keys (ES256, Ed25519).", commands,
                            ELEMENTSOF(commands), argc, argv);
}
