/* SPDX-License-Identifier: Apache-2.0 */
/* Replays fuzz inputs without libFuzzer: each argument is a file or a
 * directory of files, and each file is passed once to LLVMFuzzerTestOneInput.
 * Used by the normal (gcc, sanitizer) build to keep every committed corpus
 * entry and crash reproducer running as a regression test. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path) {
        uint8_t *buf = NULL;
        size_t len = 0;
        rp_error err = {0};
        if (rp_read_file(path, 64 * 1024 * 1024, &buf, &len, &err) < 0) {
                fprintf(stderr, "fuzz replay: %s\n", err.message);
                return -1;
        }
        LLVMFuzzerTestOneInput(buf, len);
        free(buf);
        return 0;
}


int main(int argc, char **argv) {
        unsigned n = 0, failed = 0;
        for (int i = 1; i < argc; i++) {
                struct stat st;
                if (stat(argv[i], &st) < 0) {
                        perror(argv[i]);
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        failed += run_file(argv[i]) < 0;
                        n++;
                        continue;
                }
                struct dirent **ents;
                int k = scandir(argv[i], &ents, NULL, alphasort);
                if (k < 0) {
                        perror(argv[i]);
                        return 1;
                }
                for (int j = 0; j < k; j++) {
                        if (ents[j]->d_name[0] != '.') {
                                char *p;
                                if (asprintf(&p, "%s/%s", argv[i], ents[j]->d_name) < 0)
                                        return 1;
                                failed += run_file(p) < 0;
                                n++;
                                free(p);
                        }
                        free(ents[j]);
                }
                free(ents);
        }
        printf("fuzz replay: %u inputs run, %u unreadable\n", n, failed);
        if (n == 0) {
                fprintf(stderr, "fuzz replay: no inputs found; the corpus is missing\n");
                return 1;
        }
        return failed ? 1 : 0;
}
