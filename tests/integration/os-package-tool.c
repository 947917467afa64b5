/* SPDX-License-Identifier: Apache-2.0 */
/* A test-only helper for the images tests: writes an OS image package with
 * the library's package writer (rp_package_write), which no rampart
 * command makes yet (the OS update mechanism comes later).
 *
 *   os-package-tool KEY IMAGE OUT VERSION [COMPONENT_ID]
 *       signs IMAGE (any bytes) with the private KEY as an "os" image named
 *       "rampart-os", version VERSION, component COMPONENT_ID (default
 *       a fixed GUID), build time $SOURCE_DATE_EPOCH or now; writes OUT. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "rampart/package.h"

int main(int argc, char **argv) {
        if (argc != 5 && argc != 6) {
                fprintf(stderr, "usage: os-package-tool KEY IMAGE OUT VERSION [COMPONENT_ID]\n");
                return 2;
        }
        rp_error err = {};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_key_load_private(argv[1], &key, &err);
        struct stat st;
        _cleanup_close_ int fd = r < 0 ? -1 : rp_open_regular(AT_FDCWD, argv[2], 0, &st, &err);
        if (r >= 0 && fd < 0)
                r = fd;
        rp_package_manifest m = {
                .format = RP_PACKAGE_FORMAT, .type = RP_IMAGE_TYPE_OS, .name = (char *) "rampart-os",
                .version = strtoull(argv[4], NULL, 10),
        };
        snprintf(m.component_id, sizeof m.component_id, "%s",
                 argc == 6 ? argv[5] : "0a5e0000-0000-4000-8000-00000000005e");
        if (r >= 0) {
                m.image_size = (uint64_t) st.st_size;
                r = rp_sha256_fd(fd, 0, m.image_size, NULL, NULL, m.image_sha256, &err);
        }
        if (r >= 0)
                r = rp_package_build_time(&m.build_time, &err);
        if (r >= 0)
                r = rp_package_write(argv[3], &m, key, fd, &err);
        if (r < 0) {
                fprintf(stderr, "os-package-tool: %s\n", rp_error_message(&err, r));
                return 1;
        }
        return 0;
}
