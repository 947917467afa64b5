/* SPDX-License-Identifier: Apache-2.0 */
/* rampart factory: the manufacturer CA and device provisioning. */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "core/macro.h"
#include "rot/cert.h"
#include "rot/factory.h"
#include "rot/rot.h"

#define DEFAULT_CA_NAME "rampart manufacturer CA"
#define CA_NAME_MAX 64   /* X.509's upper bound for a common name */

static int ca_create_help(void) {
        printf("Usage: rampart factory ca-create --dir C [--name NAME] [-o table|json]\n\n"
               "Creates a manufacturer CA: a P-256 key pair and a self-signed certificate\n"
               "(CA:TRUE, valid until 9999). Writes C/ca.pem and the private key C/ca.key\n"
               "(unencrypted PKCS#8 PEM, mode 0600); creates C (mode 0700) if it does not\n"
               "exist. Never replaces an existing CA.\n\n"
               "Options:\n"
               "      --dir C            The CA directory (required)\n"
               "      --name NAME        The certificate's common name (default \"" DEFAULT_CA_NAME "\")\n"
               "  -o, --output FORMAT    table (the default) or json\n"
               "  -h, --help             Show this help\n");
        return CLI_EXIT_OK;
}

static int factory_ca_create(int argc, char **argv) {
        const char *cmd = "factory ca-create";
        static const struct option opts[] = {
                { "dir", required_argument, NULL, 'd' },
                { "name", required_argument, NULL, 'n' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        if (cli_wants_help(argc, argv))
                return ca_create_help();
        const char *dir = NULL, *name = DEFAULT_CA_NAME;
        cli_format fmt = CLI_FORMAT_TEXT;
        int c;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'd':
                        dir = optarg;
                        break;
                case 'n':
                        name = optarg;
                        break;
                case 'o':
                        if (cli_parse_format(cmd, optarg, &fmt) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'h':
                        return ca_create_help();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!dir || !*dir)
                return cli_usage_error(cmd, "missing --dir C (the CA directory)");
        if (!*name || strlen(name) > CA_NAME_MAX)
                return cli_usage_error(cmd, "the name must be 1 to %d bytes", CA_NAME_MAX);

        rp_error err = {};
        int r = rp_cert_ca_create(dir, name, &err);
        if (r < 0)
                return cli_fail(r, &err, r == -EEXIST ? "a CA is made once; use another --dir for a new one" : NULL);
        _cleanup_free_ char *cert = NULL, *key = NULL;
        if (asprintf(&cert, "%s/ca.pem", dir) < 0 || asprintf(&key, "%s/ca.key", dir) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        if (fmt == CLI_FORMAT_JSON)
                return cli_print_json(cli_json_raw(cli_json_raw(json_pack("{s:o, s:o}",
                                                "certificate", cli_json_text(cert), "private_key", cli_json_text(key)),
                                                "certificate", cert), "private_key", key));
        printf("Wrote the manufacturer CA certificate to ");
        cli_print_safe(cert);
        printf("\nWrote its private key to ");
        cli_print_safe(key);
        printf(" (mode 0600): keep it offline\n");
        return CLI_EXIT_OK;
}

static int provision_help(void) {
        char names[128];
        rp_rot_backend_names(names, sizeof names);
        printf("Usage: rampart factory provision --backend NAME --ca-dir C --state-dir D\n"
               "                                 [--tpm TCTI] [-o table|json]\n\n"
               "Provisions a device, once: the backend creates the device secret (soft: a\n"
               "random D/uds; tpm2: a key held in the TPM), the manufacturer CA in C signs\n"
               "the DeviceID certificate, and D gets rot.conf, deviceid.pem and ca.pem.\n"
               "Prints the device id (the SHA-256 of the DeviceID public key, in hex).\n\n"
               "Options:\n"
               "      --backend NAME     soft or tpm2 (this build has: %s)\n"
               "      --ca-dir C         The manufacturer CA (C/ca.pem, C/ca.key)\n"
               "      --state-dir D      The device's state directory (made 0700 if missing)\n"
               "      --tpm TCTI         tpm2 only: the TPM to use (\"device:/dev/tpmrm0\",\n"
               "                         \"swtpm:host=127.0.0.1,port=2321\")\n"
               "  -o, --output FORMAT    table (the default) or json\n"
               "  -h, --help             Show this help\n", names);
        return CLI_EXIT_OK;
}

static int factory_provision(int argc, char **argv) {
        const char *cmd = "factory provision";
        static const struct option opts[] = {
                { "backend", required_argument, NULL, 'b' },
                { "ca-dir", required_argument, NULL, 'c' },
                { "state-dir", required_argument, NULL, 's' },
                { "tpm", required_argument, NULL, 't' },
                { "output", required_argument, NULL, 'o' },
                { "help", no_argument, NULL, 'h' },
                {},
        };
        if (cli_wants_help(argc, argv))
                return provision_help();
        const char *backend_name = NULL, *ca_dir = NULL, *state_dir = NULL, *tpm = NULL;
        cli_format fmt = CLI_FORMAT_TEXT;
        int c;
        opterr = 0;
        optind = 0;
        while ((c = getopt_long(argc, argv, ":o:h", opts, NULL)) >= 0) {
                switch (c) {
                case 'b':
                        backend_name = optarg;
                        break;
                case 'c':
                        ca_dir = optarg;
                        break;
                case 's':
                        state_dir = optarg;
                        break;
                case 't':
                        tpm = optarg;
                        break;
                case 'o':
                        if (cli_parse_format(cmd, optarg, &fmt) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'h':
                        return provision_help();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!backend_name)
                return cli_usage_error(cmd, "missing --backend (soft or tpm2)");
        if (!ca_dir || !*ca_dir)
                return cli_usage_error(cmd, "missing --ca-dir C (the manufacturer CA)");
        if (!state_dir || !*state_dir)
                return cli_usage_error(cmd, "missing --state-dir D (the device's state directory)");
        const rp_rot_backend *backend = rp_rot_backend_find(backend_name);
        if (!backend) {
                char names[128];
                rp_rot_backend_names(names, sizeof names);
                return cli_usage_error(cmd, "unknown backend '%s' (this build has: %s)", backend_name, names);
        }
        if (tpm && !streq(backend->name, "tpm2"))
                return cli_usage_error(cmd, "--tpm is for the tpm2 backend only");

        rp_rot_config cfg = { .state_dir = state_dir, .tpm = tpm };
        char id[RP_DEVICE_ID_HEX_LEN + 1];
        rp_error err = {};
        int r = rp_factory_provision(backend, &cfg, ca_dir, id, &err);
        if (r < 0)
                return cli_fail(r, &err, r == -EEXIST ? "a device is provisioned once; use a new --state-dir" : NULL);
        if (backend->development) {
                fprintf(stderr, "rampart: warning: the %s backend keeps the device secret in a file under ",
                        backend->name);
                cli_print_safe_to(stderr, state_dir);
                fprintf(stderr, ": for development and CI only, never for devices in the field\n");
        }
        if (fmt == CLI_FORMAT_JSON)
                return cli_print_json(json_pack("{s:s, s:s, s:b}", "device_id", id, "backend", backend->name,
                                                "development", backend->development));
        printf("%s\n", id);
        return CLI_EXIT_OK;
}

static const cli_command commands[] = {
        { "ca-create", factory_ca_create, "Create a manufacturer CA (C/ca.pem, C/ca.key)" },
        { "provision", factory_provision, "Provision a device: device secret and DeviceID certificate" },
};

int cmd_factory(int argc, char **argv) {
        return cli_dispatch("factory", "Manufacturer CA and device provisioning (once per device, at the "
                            "factory).", commands, ELEMENTSOF(commands), argc, argv);
}
