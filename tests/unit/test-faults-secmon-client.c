/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection for the secmon client (faults.h), against a real
 * rampart-secmon on a development device made here: socket, connect, send
 * and receive failing in turn must come back as the injected errno (or be
 * retried: EINTR), and a failed allocation must be reported, never taken
 * for a bad answer. Only this process has faults switched on; secmon runs
 * as it always does. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/macro.h"
#include "faults.h"
#include "rot/cert.h"
#include "rot/factory.h"
#include "rot/rot.h"
#include "secmon/client.h"
#include "testlib.h"

#define MAX_RUNS 48

static pid_t secmon_pid = -1;
static char *sock_path;

typedef struct client_ctx {
        int kind;          /* 0: chain, 1: sign */
        rp_error err;
} client_ctx;

/* One request on a new connection, its answer checked. */
static int run_client(void *ctx) {
        client_ctx *c = ctx;
        rp_error_clear(&c->err);
        rp_secmon *sm = NULL;
        int r = rp_secmon_connect(sock_path, &sm, &c->err);
        if (r < 0)
                return r;
        if (c->kind == 0) {
                char *pem = NULL;
                r = rp_secmon_chain_pem(sm, &pem, &c->err);
                if (r == 0) {
                        size_t n = 0;
                        for (const char *p = pem; (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
                                n++;
                        r = n == 3 ? 0 : -EBADMSG;
                        free(pem);
                }
        } else {
                uint8_t digest[RP_ROT_DIGEST_LEN] = { 1, 2, 3 }, sig[RP_ROT_SIG_LEN] = { 0 };
                r = rp_secmon_sign_digest(sm, digest, sig, &c->err);
                if (r == 0) {
                        bool zero = true;
                        for (size_t i = 0; i < sizeof sig; i++)
                                zero &= sig[i] == 0;
                        r = zero ? -EBADMSG : 0;
                }
        }
        rp_secmon_close(sm);
        return r;
}

static void stop_secmon(void) {
        if (secmon_pid > 0) {
                kill(secmon_pid, SIGTERM);
                waitpid(secmon_pid, NULL, 0);
                secmon_pid = -1;
        }
}

/* Provisions a soft device, starts rampart-secmon on it and waits until it
 * answers. */
static int setup_secmon(void **state) {
        const char *tmp = test_tmpdir();
        char *ca = test_path(tmp, "ca"), *dev = test_path(tmp, "device"), *log = test_path(tmp, "secmon.log");
        rp_error err = {};
        char id[RP_DEVICE_ID_HEX_LEN + 1];
        rp_rot_config cfg = { .state_dir = dev };
        assert_int_equal(rp_cert_ca_create(ca, "Faults Test CA", &err), 0);
        if (rp_factory_provision(&rp_rot_backend_soft, &cfg, ca, id, &err) < 0)
                fail_msg("provision: %s", err.message);
        sock_path = test_path(dev, RP_SECMON_SOCKET_NAME);

        secmon_pid = fork();
        assert_true(secmon_pid >= 0);
        if (secmon_pid == 0) {
                int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                if (fd < 0 || dup2(fd, STDERR_FILENO) < 0)
                        _exit(127);
                unsetenv("LD_PRELOAD");   /* secmon runs as it always does */
                execl(RAMPART_SECMON_PATH, "rampart-secmon", "--state-dir", dev, (char *) NULL);
                _exit(127);
        }
        atexit(stop_secmon);
        for (int i = 0; i < 200; i++) {
                rp_secmon *sm = NULL;
                rp_secmon_info info;
                if (rp_secmon_connect(sock_path, &sm, NULL) == 0 && rp_secmon_info_get(sm, &info, NULL) == 0) {
                        rp_secmon_close(sm);
                        assert_string_equal(info.device_id, id);
                        return 0;
                }
                rp_secmon_close(sm);
                nanosleep(&(struct timespec) { .tv_nsec = 50 * 1000 * 1000 }, NULL);
        }
        fail_msg("rampart-secmon did not answer within 10 s (see %s)", log);
        return -1;
}

static int teardown_secmon(void **state) {
        stop_secmon();
        return 0;
}

static void test_socket_calls(void **state) {
        if (!fault_available())
                test_skip("libfiu's preload library is not in LD_PRELOAD");
        for (int kind = 0; kind < 2; kind++) {
                client_ctx c = { .kind = kind };
                fault_op op = { .name = kind ? "sign" : "chain", .run = run_client, .ctx = &c, .err = &c.err };
                assert_int_equal(fault_each(&op, "posix/io/net/socket", EMFILE, MAX_RUNS), 1);
                assert_int_equal(fault_each(&op, "posix/io/net/connect", ECONNREFUSED, MAX_RUNS), 1);
                assert_int_equal(fault_each(&op, "posix/io/net/send", ENOBUFS, MAX_RUNS), 1);
                assert_int_equal(fault_run(&op, "posix/io/net/send", EINTR, FAULT_RECOVERED, MAX_RUNS), 1);
                assert_int_equal(fault_each(&op, "posix/io/net/recvmsg", EIO, MAX_RUNS), 1);
                assert_int_equal(fault_run(&op, "posix/io/net/recvmsg", EINTR, FAULT_RECOVERED, MAX_RUNS), 1);
        }
}

static void test_allocations(void **state) {
        if (!fault_available())
                test_skip("libfiu's preload library is not in LD_PRELOAD");
        for (int kind = 0; kind < 2; kind++) {
                client_ctx c = { .kind = kind };
                fault_op op = { .name = kind ? "sign" : "chain", .run = run_client, .ctx = &c, .err = &c.err };
                assert_true(fault_run(&op, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) > 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_socket_calls),
                cmocka_unit_test(test_allocations),
        };
        return cmocka_run_group_tests(tests, setup_secmon, teardown_secmon);
}
