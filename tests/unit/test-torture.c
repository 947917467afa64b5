/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure torture: each parser and writer gets every one of its
 * allocations failed in turn, and must return an error without crashing or
 * leaking (LeakSanitizer checks at exit in the sanitizer build). */
#include <errno.h>
#include <string.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "testlib.h"
#include "torture.h"

static int op_read_file(void *ctx) {
        uint8_t *buf;
        size_t len;
        int r = rp_read_file(ctx, 1024, &buf, &len, NULL);
        if (r >= 0)
                free(buf);
        return r;
}

static int op_write_atomic(void *ctx) {
        _cleanup_free_ char *p = test_path(ctx, "out");
        return rp_write_file_atomic(p, "data", 4, 0644, NULL);
}

static void test_torture_fileio(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *p = test_path(dir, "in");
        test_write_file(p, "hello", 5);
        assert_true(torture_run(op_read_file, p, 100) > 1);
        assert_true(torture_run(op_write_atomic, (void *) dir, 100) > 1);
}

int main(void) {
        torture_init();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_torture_fileio),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
