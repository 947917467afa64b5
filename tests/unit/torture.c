/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "testlib.h"
#include "torture.h"

static size_t counter, fail_at;
static bool sticky, failed;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static bool should_fail(void) {
        counter++;
        if (fail_at != 0 && (counter == fail_at || (sticky && counter > fail_at))) {
                failed = true;
                return true;
        }
        return false;
}

void *__wrap_malloc(size_t n) {
        return should_fail() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m) {
        return should_fail() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n) {
        return should_fail() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s) {
        return should_fail() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n) {
        return should_fail() ? NULL : __real_strndup(s, n);
}

static void *hook_malloc(size_t n) {
        return __wrap_malloc(n);
}

void torture_init(void) {
        /* Debian's libcbor is built without CBOR_CUSTOM_ALLOC, so its own
         * allocations cannot be failed from here; ours and jansson's can. */
        json_set_alloc_funcs(hook_malloc, free);
}

void torture_fail_at(size_t nth, bool s) {
        counter = 0;
        fail_at = nth;
        sticky = s;
        failed = false;
}

size_t torture_count(void) {
        return counter;
}

bool torture_failed(void) {
        return failed;
}

size_t torture_run(int (*op)(void *ctx), void *ctx, size_t max_runs) {
        for (size_t n = 1; n <= max_runs; n++) {
                torture_fail_at(n, false);
                int r = op(ctx);
                bool f = torture_failed();
                torture_fail_at(0, false);
                if (!f) {
                        if (r < 0)
                                fail_msg("torture: run %zu failed (%d) without a failed allocation", n, r);
                        return n;
                }
                if (r >= 0)
                        fail_msg("torture: allocation %zu failed but the operation reported success", n);
        }
        fail_msg("torture: still failing after %zu runs", max_runs);
        return max_runs;
}
