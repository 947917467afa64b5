/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the unit tests: cmocka, temporary directories and test data. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

/* A fresh directory under $TMPDIR (or /tmp), removed with its contents when
 * the test program exits. Never NULL (aborts the test on failure). */
const char *test_tmpdir(void);
/* malloc'd "<dir>/<name>". */
char *test_path(const char *dir, const char *name);
/* malloc'd path of a file under tests/data/. */
char *test_data_path(const char *rel);
void test_write_file(const char *path, const void *buf, size_t len);
/* Reads a whole file (aborting the test on failure); NUL-terminated. */
uint8_t *test_read_file(const char *path, size_t *ret_len);

/* Skips: only for what this machine does not permit (no loop devices,
 * mknod refused), never for a missing package that scripts/install-deps
 * installs (that fails the test). test_skip() prints "SKIP: <reason>" and
 * records it; the caller then returns from the test or goes on with the other
 * cases (not cmocka's skip(): its longjmp would leak the _cleanup_ variables).
 * main() returns test_exit(cmocka_run_group_tests(...)): 77 when something was
 * skipped and nothing failed, which CTest reports as "Skipped"
 * (SKIP_RETURN_CODE), so CI can hold skips to .ci/allowed-skips. */
void test_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int test_exit(int failed);

/* Runs fn(ctx) in a child process that has dropped the capabilities which
 * let root ignore file permissions (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH),
 * so that a file or directory with mode 0 cannot be opened, as for any
 * other user: the way to make open() and openat() fail for real. fn returns
 * NULL when its checks held, or a message saying which did not; that fails
 * the test. */
void test_without_dac(const char *(*fn)(void *ctx), void *ctx);
