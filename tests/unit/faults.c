/* SPDX-License-Identifier: Apache-2.0 */
#include <dlfcn.h>
#include <errno.h>
#include <execinfo.h>
#include <stdlib.h>
#include <unistd.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <fiu.h>
#include <fiu-control.h>

#include "faults.h"
#include "testlib.h"

/* The callback below runs inside the intercepted call; it only counts. */
static size_t calls, fail_nth;
static bool failed, failed_in_openssl;
static int fail_errno;

/* True if the call being failed was made from inside libcrypto: OpenSSL
 * reports most of its own allocation failures as generic errors, so
 * rampart can only pass them on as -EIO. */
static bool called_from_openssl(void) {
        void *frames[24];
        int n = backtrace(frames, 24);
        for (int i = 0; i < n; i++) {
                Dl_info info;
                if (dladdr(frames[i], &info) && info.dli_fname && strstr(info.dli_fname, "/libcrypto.so"))
                        return true;
        }
        return false;
}

static int decide(const char *name, int *failnum, void **failinfo, unsigned int *flags) {
        (void) name, (void) failnum, (void) flags;
        calls++;
        if (fail_nth != 0 && calls == fail_nth) {
                failed = true;
                failed_in_openssl = called_from_openssl();
                /* FAULTS_TRACE=1: where each injected failure happens. */
                if (getenv("FAULTS_TRACE")) {
                        void *frames[16];
                        int n = backtrace(frames, 16);
                        dprintf(STDERR_FILENO, "faults: %s call %zu fails here:\n", name, calls);
                        backtrace_symbols_fd(frames, n, STDERR_FILENO);
                }
                *failinfo = (void *) (intptr_t) fail_errno;
                return 1;
        }
        return 0;
}

bool fault_available(void) {
        /* The preload library defines the wrappers; dlsym finds its symbol
         * only when it was loaded. */
        return dlsym(RTLD_DEFAULT, "libc_symbol") != NULL;
}

static void init(void) {
        static bool done;
        if (done)
                return;
        if (!fault_available())
                fail_msg("faults: libfiu's POSIX preload library is not loaded; run this test through ctest "
                         "(it sets LD_PRELOAD=/usr/lib/fiu/fiu_posix_preload.so)");
        if (fiu_init(0) < 0)
                fail_msg("faults: fiu_init failed");
        done = true;
}

static int run_once(const fault_op *op, const char *point, size_t nth, int err, bool *ret_failed) {
        if (op->setup)
                op->setup(op->ctx);
        calls = 0;
        fail_nth = nth;
        fail_errno = err;
        failed = false;
        failed_in_openssl = false;
        if (fiu_enable_external(point, 1, NULL, 0, decide) < 0)
                fail_msg("faults: cannot enable %s", point);
        int r = op->run(op->ctx);
        fiu_disable(point);
        fail_nth = 0;
        *ret_failed = failed;
        return r;
}

size_t fault_count(const fault_op *op, const char *point) {
        init();
        bool f;
        int r = run_once(op, point, 0, 0, &f);
        if (r < 0)
                fail_msg("faults: %s fails (%d) with no fault injected", op->name, r);
        if (op->check)
                op->check(op->ctx, r, 0);
        return calls;
}

size_t fault_run(const fault_op *op, const char *point, int err, fault_expect expect, size_t max_runs) {
        size_t n = fault_count(op, point);
        if (n == 0)
                return 0;
        size_t step = max_runs && n > max_runs ? (n + max_runs - 1) / max_runs : 1;
        size_t runs = 0;
        for (size_t nth = 1; nth <= n; nth += step, runs++) {
                bool f;
                int r = run_once(op, point, nth, err, &f);
                if (!f) {
                        /* Some counts vary from run to run: OpenSSL's
                         * allocations (ECDSA nonces), reads of a child's
                         * output pipe. A run that made fewer calls is a
                         * clean run, and must succeed. */
                        if (r < 0)
                                fail_msg("faults: %s fails (%d) with no fault injected (call %zu of %s not reached)",
                                         op->name, r, nth, point);
                        continue;
                }
                if (r >= 0 && expect == FAULT_REPORTED)
                        fail_msg("faults: %s: call %zu of %zu to %s failed, but the operation reported success",
                                 op->name, nth, n, point);
                if (r < 0 && expect != FAULT_RECOVERED && !op->any_code && r != -err &&
                    !(failed_in_openssl && (r == -EIO || op->openssl_any_code)))
                        fail_msg("faults: %s: call %zu of %zu to %s failed with %s, but the operation reported "
                                 "%d (%s): %s", op->name, nth, n, point, strerror(err), r, strerror(-r),
                                 op->err ? op->err->message : "(no message kept)");
                if (r < 0 && expect == FAULT_RECOVERED)
                        fail_msg("faults: %s: call %zu of %zu to %s was cut short (%s), and the operation gave up "
                                 "(%d) instead of trying again", op->name, nth, n, point, strerror(err), r);
                if (op->check)
                        op->check(op->ctx, r, nth);
        }
        return runs;
}
