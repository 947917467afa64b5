/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

static const cli_command commands[] = {};

int cmd_hardware_definition(int argc, char **argv) {
        return cli_dispatch("hardware-definition", "(being built)", commands, 0, argc, argv);
}
