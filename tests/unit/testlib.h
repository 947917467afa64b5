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
