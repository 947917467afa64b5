/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Fault injection through libfiu: make the nth call of a libc function
 * (open, read, write, fsync, rename, malloc, fork, ...) fail while an
 * operation runs, for every n in turn, and check that the operation reports
 * the failure and leaves no half-written state behind.
 *
 * The calls are intercepted by libfiu's POSIX preload library
 * (/usr/lib/fiu/fiu_posix_preload.so), which CTest puts in LD_PRELOAD for
 * the unit/faults-* tests; the failure points are libfiu's names, such as
 * "posix/io/sync/fsync" or "libc/mm/malloc". Unlike the allocation torture
 * (torture.h), this reaches the calls libcbor, jansson and OpenSSL make on
 * their own. libfiu wraps open() but not openat(), mkostemp() or
 * posix_spawn(): files the library opens with openat() (rp_open_regular)
 * are covered by tests with real missing or unreadable files instead. It
 * cannot run under AddressSanitizer, whose malloc comes before
 * any preloaded library, so these tests are built only without sanitizers
 * (make test runs them in the release build). FAULTS_TRACE=1 in the
 * environment prints a backtrace of each call made to fail. */

#include <stdbool.h>
#include <stddef.h>

#include "rampart/error.h"

typedef struct fault_op {
        const char *name;
        /* Called before every run (optional): put the files back. */
        void (*setup)(void *ctx);
        /* The operation: 0 or a negative errno-style code. It must not use
         * cmocka's assertions or the test helpers (testlib.h): they give up
         * on a failed call by jumping out, which would leave the failure
         * point on for the rest of the program. Check in op->check. */
        int (*run)(void *ctx);
        /* Called after every run with its result (optional): check what the
         * operation left behind. nth is the failed call, 0 for the clean run. */
        void (*check)(void *ctx, int r, size_t nth);
        void *ctx;
        /* A reported failure must carry the injected errno (-err), so that
         * a check removed upstream cannot hide behind a later one that fails
         * for another reason. Set for operations that translate errors
         * (OpenSSL's, which report their own). */
        bool any_code;
        /* Any negative code accepted when the failed call was made inside
         * libcrypto, not just -EIO: for OpenSSL's key decoders, which
         * report some of their allocation failures as an invalid or an
         * unsupported key, with nothing queued to tell them apart. */
        bool openssl_any_code;
        /* Where run() leaves its error message (optional): quoted when a
         * run fails the test. */
        const rp_error *err;
} fault_op;

/* How many times op->run() calls the function behind point. */
size_t fault_count(const fault_op *op, const char *point);

/* What a run with one failed call must do. */
typedef enum fault_expect {
        /* Return -err (any negative code with op->any_code): a failure
         * nobody notices, or one reported as something else, fails the
         * test. */
        FAULT_REPORTED,
        /* Return a negative code, or succeed with a correct result (op->run
         * must check its own result and return an error if it is wrong).
         * For allocations inside OpenSSL, which retries or falls back on
         * some of them, and inside glibc (asprintf). A reported failure
         * must carry -err as above, or -EIO when the call failed inside
         * libcrypto (OpenSSL reports most of its allocation failures as
         * generic errors). */
        FAULT_REPORTED_OR_ABSORBED,
        /* Succeed: short reads and writes, and EINTR, are to be retried. */
        FAULT_RECOVERED,
} fault_expect;

/* Runs op once for each call of point that it makes (at most max_runs,
 * spread evenly over them when there are more), failing that call with
 * errno err, and checks the result against expect. Returns the number of
 * runs. */
size_t fault_run(const fault_op *op, const char *point, int err, fault_expect expect, size_t max_runs);

/* fault_run(..., FAULT_REPORTED, ...). */
static inline size_t fault_each(const fault_op *op, const char *point, int err, size_t max_runs) {
        return fault_run(op, point, err, FAULT_REPORTED, max_runs);
}

/* True if this process can inject faults (the preload library is in place). */
bool fault_available(void);
