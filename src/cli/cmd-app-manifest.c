/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

static const cli_command commands[] = {};

int cmd_app_manifest(int argc, char **argv) {
        return cli_dispatch("app-manifest", "(being built)", commands, 0, argc, argv);
}
