/* SPDX-License-Identifier: Apache-2.0 */
/* COSE_Sign1 sign and verify rates for ES256 and Ed25519, over a payload of
 * the size of a typical image-package manifest. Prints operations per second;
 * bench/run compares them with `openssl speed` measured in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rampart/cose.h"
#include "rampart/crypto.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int bench(rp_key_type type, double seconds) {
        rp_key *key = NULL;
        rp_error err = {0};
        if (rp_key_generate(type, &key, &err) < 0) {
                fprintf(stderr, "bench-cose: %s\n", err.message);
                return 1;
        }
        uint8_t payload[600];
        memset(payload, 0x5a, sizeof payload);

        uint8_t *buf = NULL;
        size_t len = 0;
        unsigned long n = 0;
        double start = now(), t;
        do {
                free(buf);
                if (rp_cose_sign1_create(key, "application/octet-stream", payload, sizeof payload,
                                         NULL, 0, &buf, &len, &err) < 0) {
                        fprintf(stderr, "bench-cose: %s\n", err.message);
                        return 1;
                }
                n++;
        } while ((t = now() - start) < seconds);
        printf("%s sign %.0f\n", rp_key_type_name(type), (double) n / t);

        n = 0;
        start = now();
        do {
                rp_cose_sign1 *msg = NULL;
                size_t used;
                if (rp_cose_sign1_decode(buf, len, &msg, &used, &err) < 0 ||
                    rp_cose_sign1_verify(msg, key, NULL, 0, &err) < 0) {
                        fprintf(stderr, "bench-cose: %s\n", err.message);
                        return 1;
                }
                rp_cose_sign1_free(msg);
                n++;
        } while ((t = now() - start) < seconds);
        printf("%s verify %.0f\n", rp_key_type_name(type), (double) n / t);
        free(buf);
        rp_key_free(key);
        return 0;
}

int main(int argc, char **argv) {
        double seconds = argc > 1 ? atof(argv[1]) : 3.0;
        if (seconds <= 0)
                seconds = 3.0;
        return bench(RP_KEY_ES256, seconds) || bench(RP_KEY_ED25519, seconds);
}
