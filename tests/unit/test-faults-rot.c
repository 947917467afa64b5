/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection for lib/rot (faults.h): the soft backend's counters
 * written while open, write, fsync or rename fails in turn must read the
 * old value or the new one afterwards, never anything else, and leave no
 * temporary file; provisioning that fails half-way must never leave a
 * rot.conf that does not open; seal and unseal under failed allocations
 * must never report a failure as a blob that does not open. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/macro.h"
#include "faults.h"
#include "rot/rot.h"
#include "testlib.h"

#define MAX_RUNS 64
#define OLD 5
#define NEW 9

static const rp_rot_backend *const B = &rp_rot_backend_soft;

/* No file in dir starts with '.' (a temporary file left behind). */
static void assert_no_temp(const char *dir) {
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] == '.' && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        fail_msg("%s: temporary file '%s' left behind", dir, de->d_name);
        closedir(d);
}

/* ---- counters ------------------------------------------------------------- */

typedef struct counter_ctx {
        char *dir, *path;
        uint8_t *old_text;     /* the counters file with counter 3 at OLD */
        size_t old_len;
        rp_rot *rot;
        rp_error err;
} counter_ctx;

static void setup_counter(void *ctx) {
        counter_ctx *c = ctx;
        test_write_file(c->path, c->old_text, c->old_len);
        rp_error_clear(&c->err);
}

static int run_advance(void *ctx) {
        counter_ctx *c = ctx;
        uint64_t v = 0;
        int r = c->rot->backend->counter_advance(c->rot->state, 3, NEW, &v, &c->err);
        if (r < 0)
                return r;
        return v == NEW ? 0 : -EBADMSG;
}

static int run_read(void *ctx) {
        counter_ctx *c = ctx;
        uint64_t v = 0;
        int r = c->rot->backend->counter_read(c->rot->state, 3, &v, &c->err);
        if (r < 0)
                return r;
        return v == OLD ? 0 : -EBADMSG;
}

/* Afterwards the counter reads the new value (after a success) or one of
 * the two (after a failure); a second backend opened on the directory
 * agrees. */
static void check_counter(void *ctx, int r, size_t nth) {
        counter_ctx *c = ctx;
        uint64_t v = 0;
        rp_error err = {};
        if (c->rot->backend->counter_read(c->rot->state, 3, &v, &err) < 0)
                fail_msg("after call %zu failed: the counters do not read: %s", nth, err.message);
        if (r == 0 && v != NEW)
                fail_msg("after a reported success the counter reads %ju", (uintmax_t) v);
        if (v != OLD && v != NEW)
                fail_msg("after call %zu failed: the counter reads %ju, neither old nor new", nth, (uintmax_t) v);
        rp_rot_config cfg = { .state_dir = c->dir };
        rp_rot *again = NULL;
        if (rp_rot_open(&cfg, &again, &err) < 0)
                fail_msg("after call %zu failed: the state no longer opens: %s", nth, err.message);
        uint64_t w = 0;
        assert_int_equal(again->backend->counter_read(again->state, 3, &w, &err), 0);
        assert_true(w == v);
        rp_rot_close(again);
        assert_no_temp(c->dir);
}

/* The old value, always: for failures before anything was written. */
static void check_counter_old(void *ctx, int r, size_t nth) {
        counter_ctx *c = ctx;
        check_counter(ctx, r, nth);
        uint64_t v = 0;
        assert_int_equal(c->rot->backend->counter_read(c->rot->state, 3, &v, NULL), 0);
        if (r < 0 && v != OLD)
                fail_msg("call %zu failed before the rename, yet the counter reads %ju", nth, (uintmax_t) v);
}

static void test_counters(void **state) {
        counter_ctx c = { .dir = test_path(test_tmpdir(), "counters") };
        c.path = test_path(c.dir, "counters");
        rp_rot_config cfg = { .state_dir = c.dir };
        assert_int_equal(B->provision(&cfg, NULL), 0);
        assert_int_equal(rp_rot_open(&cfg, &c.rot, NULL), 0);
        uint64_t v;
        assert_int_equal(c.rot->backend->counter_advance(c.rot->state, 3, OLD, &v, NULL), 0);
        c.old_text = test_read_file(c.path, &c.old_len);

        fault_op op = { .name = "counter_advance", .setup = setup_counter, .run = run_advance,
                        .check = check_counter_old, .ctx = &c, .err = &c.err };
        /* The directory is opened to make the rename durable. */
        assert_int_equal(fault_each(&op, "posix/io/oc/open", EACCES, MAX_RUNS), 1);
        /* The file is read (to its end: two calls) before it is written. */
        assert_int_equal(fault_each(&op, "posix/io/rw/read", EIO, MAX_RUNS), 2);
        assert_int_equal(fault_run(&op, "posix/io/rw/read", EINTR, FAULT_RECOVERED, MAX_RUNS), 2);
        assert_int_equal(fault_each(&op, "posix/io/rw/write", ENOSPC, MAX_RUNS), 1);
        assert_int_equal(fault_run(&op, "posix/io/rw/write/reduce", 0, FAULT_RECOVERED, MAX_RUNS), 1);
        assert_int_equal(fault_each(&op, "posix/io/dir/rename", EXDEV, MAX_RUNS), 1);
        /* The file's fsync fails: the old value. The directory's fsync
         * (after the rename) fails: the new value may stand, and the
         * failure is still reported. */
        op.check = check_counter;
        assert_int_equal(fault_each(&op, "posix/io/sync/fsync", EIO, MAX_RUNS), 2);
        op.check = check_counter_old;
        fault_each(&op, "posix/io/sync/fsync", EIO, 1);
        /* Allocations: reported or absorbed, never a wrong value. */
        op.check = check_counter;
        assert_true(fault_run(&op, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 1);

        /* Reads fail cleanly, and are not mistaken for a counter at 0. */
        fault_op rd = { .name = "counter_read", .setup = setup_counter, .run = run_read, .ctx = &c, .err = &c.err };
        assert_int_equal(fault_each(&rd, "posix/io/rw/read", EIO, MAX_RUNS), 2);
        assert_true(fault_run(&rd, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 1);

        rp_rot_close(c.rot);
        free(c.old_text);
        free(c.path);
        free(c.dir);
}

/* ---- provisioning ---------------------------------------------------------- */

typedef struct provision_ctx {
        char *dir;
        rp_error err;
} provision_ctx;

static void setup_provision(void *ctx) {
        provision_ctx *p = ctx;
        const char *names[] = { "rot.conf", "uds", "counters" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *f = test_path(p->dir, names[i]);
                (void) unlink(f);
        }
        rp_error_clear(&p->err);
}

static int run_provision(void *ctx) {
        provision_ctx *p = ctx;
        rp_rot_config cfg = { .state_dir = p->dir };
        return B->provision(&cfg, &p->err);
}

/* A rot.conf is written last: where it exists, the device opens. */
static void check_provision(void *ctx, int r, size_t nth) {
        provision_ctx *p = ctx;
        _cleanup_free_ char *conf = test_path(p->dir, "rot.conf");
        if (access(conf, F_OK) == 0) {
                rp_rot_config cfg = { .state_dir = p->dir };
                rp_rot *rot = NULL;
                rp_error err = {};
                if (rp_rot_open(&cfg, &rot, &err) < 0)
                        fail_msg("after call %zu failed: rot.conf exists but the device does not open: %s", nth,
                                 err.message);
                rp_rot_close(rot);
        } else if (r == 0) {
                fail_msg("provisioning reported success without a rot.conf");
        }
        assert_no_temp(p->dir);
}

static void test_provision(void **state) {
        provision_ctx p = { .dir = test_path(test_tmpdir(), "provision") };
        fault_op op = { .name = "provision", .setup = setup_provision, .run = run_provision,
                        .check = check_provision, .ctx = &p, .err = &p.err };
        static const char *const io[] = { "posix/io/oc/open", "posix/io/rw/write", "posix/io/sync/fsync",
                                          "posix/io/dir/rename" };
        for (size_t i = 0; i < ELEMENTSOF(io); i++)
                assert_true(fault_each(&op, io[i], EIO, MAX_RUNS) >= 3);   /* three files */
        assert_true(fault_run(&op, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 3);
        free(p.dir);
}

/* ---- sealing ----------------------------------------------------------------- */

typedef struct seal_ctx {
        rp_rot *rot;
        rp_error err;
} seal_ctx;

/* Seal, then unseal: what comes back must be what went in. A failure
 * inside OpenSSL must come back as -ENOMEM or -EIO, never -EKEYREJECTED
 * (the faults harness refuses any other code). */
static int run_seal(void *ctx) {
        seal_ctx *s = ctx;
        rp_error_clear(&s->err);
        _cleanup_free_ uint8_t *blob = NULL, *data = NULL;
        size_t blob_len, len;
        int r = s->rot->backend->seal(s->rot->state, "sealed data", 11, &blob, &blob_len, &s->err);
        if (r < 0)
                return r;
        r = s->rot->backend->unseal(s->rot->state, blob, blob_len, &data, &len, &s->err);
        if (r < 0)
                return r;
        return len == 11 && memcmp(data, "sealed data", 11) == 0 ? 0 : -EBADMSG;
}

static int run_bind_sign(void *ctx) {
        seal_ctx *s = ctx;
        rp_error_clear(&s->err);
        uint8_t m[RP_ROT_MEASUREMENT_LEN] = { 3 }, digest[RP_ROT_DIGEST_LEN] = { 1 }, sig[RP_ROT_SIG_LEN];
        int r = s->rot->backend->bind_measurement(s->rot->state, m, &s->err);
        if (r < 0)
                return r;
        return s->rot->backend->alias_sign(s->rot->state, digest, sig, &s->err);
}

static void test_seal(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "seal");
        rp_rot_config cfg = { .state_dir = dir };
        seal_ctx s = {};
        assert_int_equal(B->provision(&cfg, NULL), 0);
        assert_int_equal(rp_rot_open(&cfg, &s.rot, NULL), 0);
        uint8_t m[RP_ROT_MEASUREMENT_LEN] = { 1 };
        assert_int_equal(s.rot->backend->bind_measurement(s.rot->state, m, NULL), 0);
        static const char *const alloc[] = { "libc/mm/malloc", "libc/mm/calloc", "libc/mm/realloc" };
        fault_op seal = { .name = "seal+unseal", .run = run_seal, .ctx = &s, .err = &s.err };
        fault_op bind = { .name = "bind_measurement+alias_sign", .run = run_bind_sign, .ctx = &s, .err = &s.err };
        for (size_t i = 0; i < ELEMENTSOF(alloc); i++) {
                fault_run(&seal, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
                fault_run(&bind, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
        }
        rp_rot_close(s.rot);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_counters),
                cmocka_unit_test(test_provision),
                cmocka_unit_test(test_seal),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
