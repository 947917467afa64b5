/* SPDX-License-Identifier: Apache-2.0 */
#include "cli.h"

static const cli_command commands[] = {};

int cmd_image_package(int argc, char **argv) {
        return cli_dispatch("image-package", "(being built)", commands, 0, argc, argv);
}
