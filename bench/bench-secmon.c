/* SPDX-License-Identifier: Apache-2.0 */
/* Requests per second through a running rampart-secmon: evidence (a fresh
 * nonce each time, so every answer is signed anew) and digest signatures,
 * made by CLIENTS processes at once, each making blocking round trips as
 * rampartd does. bench/run prints them beside `openssl speed ecdsap256`
 * measured in the same run: one evidence costs one ES256 signature plus the
 * socket round trip, the CBOR and COSE framing, so the ratio shows what
 * secmon adds to the crypto.
 *
 *   bench-secmon SOCKET SECONDS [CLIENTS]
 *
 * prints "evidence RATE SIZE" and "sign RATE", RATE summed over clients. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rampart/crypto.h"
#include "secmon/client.h"

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

enum { EVIDENCE, SIGN };

/* One client's rate for one kind of request over `seconds`; -1 on failure. */
static double client_rate(const char *socket_path, int kind, double seconds, size_t *ret_len) {
        rp_error err = {0};
        rp_secmon *sm = NULL;
        if (rp_secmon_connect(socket_path, &sm, &err) < 0) {
                fprintf(stderr, "bench-secmon: %s\n", err.message);
                return -1;
        }
        uint8_t in[32] = {0};
        unsigned long n = 0;
        double start = now(), t;
        do {
                memcpy(in, &n, sizeof n);
                int r;
                if (kind == EVIDENCE) {
                        uint8_t *ev = NULL;
                        r = rp_secmon_evidence(sm, in, sizeof in, &ev, ret_len, &err);
                        free(ev);
                } else {
                        uint8_t sig[RP_ROT_SIG_LEN];
                        r = rp_secmon_sign_digest(sm, in, sig, &err);
                }
                if (r < 0) {
                        fprintf(stderr, "bench-secmon: %s\n", err.message);
                        rp_secmon_close(sm);
                        return -1;
                }
                n++;
        } while ((t = now() - start) < seconds);
        rp_secmon_close(sm);
        return (double) n / t;
}

/* The summed rate of `clients` processes running at once. */
static double rate(const char *socket_path, int kind, double seconds, unsigned clients, size_t *ret_len) {
        int fds[2];
        if (pipe(fds) < 0)
                return -1;
        for (unsigned i = 0; i < clients; i++) {
                pid_t pid = fork();
                if (pid < 0)
                        return -1;
                if (pid == 0) {
                        size_t len = 0;
                        double r = client_rate(socket_path, kind, seconds, &len);
                        double out[2] = { r, (double) len };
                        _exit(write(fds[1], out, sizeof out) == sizeof out && r >= 0 ? 0 : 1);
                }
        }
        close(fds[1]);
        double total = 0;
        bool failed = false;
        for (unsigned i = 0; i < clients; i++) {
                double in[2];
                if (read(fds[0], in, sizeof in) != sizeof in || in[0] < 0)
                        failed = true;
                else {
                        total += in[0];
                        *ret_len = (size_t) in[1];
                }
        }
        close(fds[0]);
        while (wait(NULL) > 0)
                ;
        return failed ? -1 : total;
}

int main(int argc, char **argv) {
        if (argc != 3 && argc != 4) {
                fprintf(stderr, "usage: bench-secmon SOCKET SECONDS [CLIENTS]\n");
                return 2;
        }
        double seconds = atof(argv[2]);
        unsigned clients = argc == 4 ? (unsigned) atoi(argv[3]) : 1;
        if (seconds <= 0 || clients < 1 || clients > 64) {
                fprintf(stderr, "bench-secmon: SECONDS must be positive and CLIENTS 1 to 64\n");
                return 2;
        }
        size_t len = 0, unused = 0;
        double ev = rate(argv[1], EVIDENCE, seconds, clients, &len);
        double sg = rate(argv[1], SIGN, seconds, clients, &unused);
        if (ev < 0 || sg < 0)
                return 1;
        printf("evidence %.0f %zu\n", ev, len);
        printf("sign %.0f\n", sg);
        return 0;
}
