/* SPDX-License-Identifier: Apache-2.0 */
/* A misbehaving rampart-secmon client for tests/integration/test-secmon.sh:
 * it sends what a well-behaved client never would and prints what secmon
 * answered, so the test can check each refusal and that secmon still serves.
 *
 *   raw SOCK HEX             one datagram of these bytes; prints the response,
 *                            then asks info on the same connection
 *   big SOCK N               one datagram of N bytes
 *   as-uid UID SOCK HEX      raw, from a child process running as UID
 *   flood SOCK N             N idle connections held open, then a new client
 *                            asks info
 *   no-read SOCK             requests without ever reading a response, until
 *                            secmon closes the connection
 *   idle SOCK                connects, sends nothing, waits until secmon closes
 *   counter-read SOCK I | counter-advance SOCK I V | seal SOCK HEX |
 *   unseal SOCK HEX | sign SOCK HEX
 *                            the well-behaved client (lib/secmon/client.c)
 * Exit 0 when secmon answered (whatever it said; raw/big/as-uid) or the
 * request succeeded, 1 otherwise, with the reason on stderr. */
#include <errno.h>
#include <grp.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "secmon/client.h"
#include "secmon/protocol.h"

static const uint8_t info_req[] = { 0xa1, 0x01, 0x01 };
static const uint8_t chain_req[] = { 0xa1, 0x01, 0x02 };

static int die(const char *what) {
        fprintf(stderr, "secmon-attack: %s: %s\n", what, strerror(errno));
        return 1;
}

static int dial(const char *path) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
        int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return -1;
        return fd;
}

/* Sends buf, receives and prints the response as "status=N message=..."
 * (or "status=0 result=HEX" with the result's CBOR). */
static int exchange(int fd, const uint8_t *buf, size_t len, const char *label) {
        static uint8_t resp[RP_SECMON_RESPONSE_MAX];
        if (send(fd, buf, len, MSG_NOSIGNAL) < 0)
                return die("send");
        ssize_t n = recv(fd, resp, sizeof resp, 0);
        if (n <= 0) {
                fprintf(stderr, "secmon-attack: %s: no response (%s)\n", label, n == 0 ? "connection closed" :
                        strerror(errno));
                return 1;
        }
        rp_error err = {};
        int status;
        char msg[RP_ERROR_MAX];
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        if (rp_secmon_response_decode(resp, (size_t) n, &status, msg, &res, &err) < 0) {
                fprintf(stderr, "secmon-attack: %s: %s\n", label, err.message);
                return 1;
        }
        if (status < 0) {
                printf("%s: status=%d message=%s\n", label, status, msg);
                return 0;
        }
        _cleanup_free_ uint8_t *enc = NULL;
        size_t enc_len;
        _cleanup_free_ char *hex = rp_cbor_encode(res, &enc, &enc_len, NULL) < 0 ? NULL : rp_hex_encode(enc, enc_len);
        printf("%s: status=0 result=%s\n", label, hex ? hex : "?");
        return 0;
}

/* Sends buf, then an info request on the same connection. */
static int raw(const char *path, const uint8_t *buf, size_t len) {
        _cleanup_close_ int fd = dial(path);
        if (fd < 0)
                return die(path);
        int r = exchange(fd, buf, len, "response");
        if (r == 0)
                r = exchange(fd, info_req, sizeof info_req, "then info");
        return r;
}

static int raw_hex(const char *path, const char *hex) {
        size_t len = strlen(hex) / 2;
        _cleanup_free_ uint8_t *buf = malloc(len + 1);
        if (!buf || rp_hex_decode(hex, buf, len) < 0) {
                fprintf(stderr, "secmon-attack: bad hex '%s'\n", hex);
                return 1;
        }
        return raw(path, buf, len);
}

static int as_uid(const char *uid_text, const char *path, const char *hex) {
        uid_t uid = (uid_t) strtoul(uid_text, NULL, 10);
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0)
                return die("fork");
        if (pid == 0) {
                if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0)
                        _exit(die("setuid"));
                int r = raw_hex(path, hex);
                fflush(stdout);
                _exit(r);
        }
        int st;
        if (waitpid(pid, &st, 0) < 0)
                return die("waitpid");
        return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

static int flood(const char *path, int n) {
        int *fds = calloc((size_t) n, sizeof *fds);
        if (!fds)
                return die("calloc");
        for (int i = 0; i < n; i++)
                if ((fds[i] = dial(path)) < 0)
                        return die("connect");
        /* A new client, behind all of them. */
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        rp_secmon_info info;
        int r = rp_secmon_connect(path, &sm, &err);
        if (r >= 0)
                r = rp_secmon_info_get(sm, &info, &err);
        int closed = 0;
        for (int i = 0; i < n; i++) {
                struct pollfd p = { fds[i], POLLIN, 0 };
                closed += poll(&p, 1, 0) == 1 && (p.revents & POLLHUP);
                close(fds[i]);
        }
        free(fds);
        if (r < 0) {
                fprintf(stderr, "secmon-attack: after %d idle connections: %s\n", n, err.message);
                return 1;
        }
        printf("served after %d idle connections (%d of them closed by secmon): device_id=%s\n", n, closed,
               info.device_id);
        return 0;
}

static int no_read(const char *path) {
        _cleanup_close_ int fd = dial(path);
        if (fd < 0)
                return die(path);
        for (long i = 0; i < 1000000; i++) {
                if (send(fd, chain_req, sizeof chain_req, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
                        continue;
                if (errno == EPIPE || errno == ECONNRESET) {
                        printf("dropped after %ld requests\n", i);
                        return 0;
                }
                if (errno != EAGAIN)
                        return die("send");
                /* secmon has not read them yet: wait until it reads or drops. */
                struct pollfd p = { fd, POLLOUT, 0 };
                if (poll(&p, 1, -1) < 0)
                        return die("poll");
        }
        fprintf(stderr, "secmon-attack: secmon still answers a client that never reads\n");
        return 1;
}

static int idle(const char *path) {
        _cleanup_close_ int fd = dial(path);
        if (fd < 0)
                return die(path);
        struct pollfd p = { fd, POLLIN, 0 };
        uint8_t b[1];
        if (poll(&p, 1, -1) < 0)
                return die("poll");
        if (recv(fd, b, sizeof b, MSG_DONTWAIT) != 0) {
                fprintf(stderr, "secmon-attack: idle: secmon sent something unasked\n");
                return 1;
        }
        printf("closed by secmon\n");
        return 0;
}

/* The well-behaved client's requests. */
static int client(int argc, char **argv) {
        const char *cmd = argv[1], *path = argv[2];
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        int r = rp_secmon_connect(path, &sm, &err);
        uint64_t v;
        size_t len = argc > 3 ? strlen(argv[3]) / 2 : 0, out_len = 0;
        _cleanup_free_ uint8_t *in = malloc(len + 1), *out = NULL;
        if (!in || (argc > 3 && !strstr(cmd, "counter") && rp_hex_decode(argv[3], in, len) < 0)) {
                fprintf(stderr, "secmon-attack: bad hex\n");
                return 1;
        }
        if (r < 0)
                ;
        else if (streq(cmd, "counter-read") && argc == 4)
                r = rp_secmon_counter_read(sm, (unsigned) atoi(argv[3]), &v, &err);
        else if (streq(cmd, "counter-advance") && argc == 5)
                r = rp_secmon_counter_advance(sm, (unsigned) atoi(argv[3]), strtoull(argv[4], NULL, 10), &v, &err);
        else if (streq(cmd, "seal") && argc == 4)
                r = rp_secmon_seal(sm, in, len, &out, &out_len, &err);
        else if (streq(cmd, "unseal") && argc == 4)
                r = rp_secmon_unseal(sm, in, len, &out, &out_len, &err);
        else if (streq(cmd, "sign") && argc == 4 && len == RP_ROT_DIGEST_LEN) {
                out = malloc(RP_ROT_SIG_LEN);
                out_len = RP_ROT_SIG_LEN;
                r = out ? rp_secmon_sign_digest(sm, in, out, &err) : -ENOMEM;
        } else {
                fprintf(stderr, "secmon-attack: usage: see the comment at the top of secmon-attack.c\n");
                return 2;
        }
        if (r < 0) {
                fprintf(stderr, "secmon-attack: %s (code %d)\n", rp_error_message(&err, r), r);
                return 1;
        }
        if (strstr(cmd, "counter")) {
                printf("%" PRIu64 "\n", v);
                return 0;
        }
        _cleanup_free_ char *hex = rp_hex_encode(out, out_len);
        printf("%s\n", hex ? hex : "");
        return 0;
}

int main(int argc, char **argv) {
        if (argc == 4 && streq(argv[1], "raw"))
                return raw_hex(argv[2], argv[3]);
        if (argc == 4 && streq(argv[1], "big")) {
                size_t n = strtoul(argv[3], NULL, 10);
                _cleanup_free_ uint8_t *buf = malloc(n);
                if (!buf)
                        return die("malloc");
                memset(buf, 0x41, n);
                buf[0] = 0xa2;    /* a map, then bytes that are no CBOR */
                return raw(argv[2], buf, n);
        }
        if (argc == 5 && streq(argv[1], "as-uid"))
                return as_uid(argv[2], argv[3], argv[4]);
        if (argc == 4 && streq(argv[1], "flood"))
                return flood(argv[2], atoi(argv[3]));
        if (argc == 3 && streq(argv[1], "no-read"))
                return no_read(argv[2]);
        if (argc == 3 && streq(argv[1], "idle"))
                return idle(argv[2]);
        if (argc >= 3)
                return client(argc, argv);
        fprintf(stderr, "secmon-attack: usage: see the comment at the top of secmon-attack.c\n");
        return 2;
}
