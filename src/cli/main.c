/* SPDX-License-Identifier: Apache-2.0 */
/* rampart: the command-line tool. This file only picks the command group;
 * each group lives in its own cmd-*.c file. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "core/macro.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

static const cli_command groups[] = {
        { "keys",                cmd_keys,                "Generate and inspect signing keys" },
        { "image-package",       cmd_image_package,       "Pack, show and verify signed image packages" },
        { "app-manifest",        cmd_app_manifest,        "Validate application manifests (app_manifest.json)" },
        { "hardware-definition", cmd_hardware_definition, "Work with hardware definitions (peripheral names)" },
        { "factory",             cmd_factory,             "Create a manufacturer CA and provision devices" },
        { "evidence",            cmd_evidence,            "Verify devices' attestation evidence" },
        { "device",              cmd_device,              "A device's identity and attestation; the tenant's devices" },
        /* rampart-server */
        { "login",               cmd_login,               "Check a rampart-server and save the profile" },
        { "tenant",              cmd_tenant,              "Create, list, show and select tenants" },
        { "user",                cmd_user,                "Manage a tenant's users and their roles" },
        { "token",               cmd_token,               "Create, list and revoke API tokens" },
        { "manufacturer",        cmd_manufacturer,        "Trust manufacturer CAs whose devices may attest" },
        { "ca-certificate",      cmd_ca_certificate,      "Download the tenant CA certificate" },
        { "product",             cmd_product,             "Create, list and show products" },
        { "device-group",        cmd_device_group,        "Manage device groups and their update policies" },
        { "release",             cmd_release,             "Manage the software releases devices may run" },
        { "deployment",          cmd_deployment,          "Deploy images to device groups; history and rollback" },
        { "deployment-key",      cmd_deployment_key,      "Download the key that signs deployment documents" },
        { "audit",               cmd_audit,               "The audit log of management changes" },
        { "attestation",         cmd_attestation,         "Devices' attestations, refusals with reasons" },
        { "signing-key",         cmd_signing_key,         "Trust the keys the tenant's image packages are signed with" },
        { "image",               cmd_image,               "Upload, list and show the tenant's image packages" },
};

static int help(FILE *out) {
        fprintf(out,
                "Usage: rampart COMMAND [SUBCOMMAND] [OPTIONS]\n\n"
                "rampart is an open, self-hostable secure IoT platform. This tool packs and\n"
                "signs application images, checks manifests, manages keys and devices, and\n"
                "manages tenants, devices and software in rampart-server.\n\n"
                "Commands:\n");
        for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                fprintf(out, "  %-22s %s\n", groups[i].name, groups[i].summary);
        fprintf(out,
                "\nOptions:\n"
                "  -h, --help             Show this help\n"
                "      --version          Show the version\n\n"
                "Run 'rampart COMMAND --help' for more. Commands that print results take\n"
                "'-o json' for scripting.\n");
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 2) {
                help(stderr);
                return CLI_EXIT_USAGE;
        }
        const char *cmd = argv[1];
        if (streq(cmd, "-h") || streq(cmd, "--help"))
                return help(stdout);
        if (streq(cmd, "--version") || streq(cmd, "version")) {
                printf("rampart %s\n", RAMPART_VERSION);
                return CLI_EXIT_OK;
        }
        if (streq(cmd, "help")) {
                if (argc < 3)
                        return help(stdout);
                /* "rampart help GROUP" == "rampart GROUP --help" */
                for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                        if (streq(groups[i].name, argv[2])) {
                                char *args[] = { argv[2], (char *) "--help", NULL };
                                return groups[i].run(2, args);
                        }
                fprintf(stderr, "rampart: unknown command '");
                cli_print_safe_to(stderr, argv[2]);
                fprintf(stderr, "'\n");
                return CLI_EXIT_USAGE;
        }
        for (size_t i = 0; i < ELEMENTSOF(groups); i++)
                if (streq(groups[i].name, cmd))
                        return groups[i].run(argc - 1, argv + 1);

        fprintf(stderr, "rampart: unknown command '");
        cli_print_safe_to(stderr, cmd);
        fprintf(stderr, "'\n");
        help(stderr);
        return CLI_EXIT_USAGE;
}
