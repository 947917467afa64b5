/* SPDX-License-Identifier: Apache-2.0 */
/* The measurement (lib/rot/measure.h): exact CBOR bytes, its SHA-256, what
 * changes it, and the refusals, each naming the component and file. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rot/measure.h"
#include "testlib.h"

static char *os_path, *secmon_path;

static int setup(void **state) {
        os_path = test_path(test_tmpdir(), "os.img");
        secmon_path = test_path(test_tmpdir(), "rampart-secmon");
        test_write_file(os_path, "the OS image", 12);
        test_write_file(secmon_path, "secmon", 6);
        return 0;
}

static int teardown(void **state) {
        free(os_path);
        free(secmon_path);
        return 0;
}

static rp_measurement *measure_ok(const rp_measure_spec *specs, size_t n) {
        rp_measurement *m = NULL;
        rp_error err = {};
        if (rp_measure(specs, n, &m, &err) < 0)
                fail_msg("rp_measure: %s", err.message);
        return m;
}

static void test_bytes(void **state) {
        rp_measure_spec specs[] = {
                { "os", "1.2", os_path },
                { "secmon", "", secmon_path },
        };
        _cleanup_(rp_measurement_freep) rp_measurement *m = measure_ok(specs, 2);

        /* [ ["os", "1.2", h'<sha256 of the OS image>'], ["secmon", "", h'<...>'] ] */
        uint8_t os_digest[32], secmon_digest[32];
        assert_int_equal(rp_sha256("the OS image", 12, os_digest), 0);
        assert_int_equal(rp_sha256("secmon", 6, secmon_digest), 0);
        uint8_t want[200];
        size_t n = 0;
        memcpy(want + n, "\x82\x83\x62os\x63" "1.2\x58\x20", 11);
        n += 11;
        memcpy(want + n, os_digest, 32);
        n += 32;
        memcpy(want + n, "\x83\x66secmon\x60\x58\x20", 11);
        n += 11;
        memcpy(want + n, secmon_digest, 32);
        n += 32;
        assert_int_equal(m->components_len, n);
        assert_memory_equal(m->components, want, n);
        assert_int_equal(rp_cbor_is_deterministic(m->components, m->components_len), 1);

        /* value = SHA-256(components) */
        uint8_t value[32];
        assert_int_equal(rp_sha256(want, n, value), 0);
        assert_memory_equal(m->value, value, 32);

        /* The same files, the same value. */
        _cleanup_(rp_measurement_freep) rp_measurement *again = measure_ok(specs, 2);
        assert_memory_equal(again->value, m->value, 32);
}

/* Each change gives another value. */
static void test_changes(void **state) {
        rp_measure_spec specs[] = {
                { "os", "1.2", os_path },
                { "secmon", "", secmon_path },
        };
        _cleanup_(rp_measurement_freep) rp_measurement *base = measure_ok(specs, 2);

        /* One changed byte in a file. */
        test_write_file(secmon_path, "secmoN", 6);
        _cleanup_(rp_measurement_freep) rp_measurement *changed = measure_ok(specs, 2);
        assert_memory_not_equal(changed->value, base->value, 32);
        test_write_file(secmon_path, "secmon", 6);

        /* Another version, another name, another order, one component less. */
        rp_measure_spec v[] = { { "os", "1.3", os_path }, { "secmon", "", secmon_path } };
        rp_measure_spec nm[] = { { "os", "1.2", os_path }, { "secmoN", "", secmon_path } };
        rp_measure_spec order[] = { { "secmon", "", secmon_path }, { "os", "1.2", os_path } };
        const rp_measure_spec *variants[] = { v, nm, order, specs };
        size_t counts[] = { 2, 2, 2, 1 };
        for (size_t i = 0; i < ELEMENTSOF(variants); i++) {
                _cleanup_(rp_measurement_freep) rp_measurement *x = measure_ok(variants[i], counts[i]);
                assert_memory_not_equal(x->value, base->value, 32);
        }
        _cleanup_(rp_measurement_freep) rp_measurement *back = measure_ok(specs, 2);
        assert_memory_equal(back->value, base->value, 32);
}

/* A file larger than the 1 MiB chunk is hashed whole. */
static void test_large_file(void **state) {
        size_t len = 3 * 1024 * 1024 + 17;
        _cleanup_free_ uint8_t *data = malloc(len);
        assert_non_null(data);
        for (size_t i = 0; i < len; i++)
                data[i] = (uint8_t) (i * 7 + (i >> 20));
        _cleanup_free_ char *p = test_path(test_tmpdir(), "large");
        test_write_file(p, data, len);
        rp_measure_spec spec = { "large", "", p };
        _cleanup_(rp_measurement_freep) rp_measurement *m = measure_ok(&spec, 1);
        uint8_t digest[32];
        assert_int_equal(rp_sha256(data, len, digest), 0);
        assert_int_equal(m->components_len, 1 + 1 + 6 + 1 + 2 + 32);
        assert_memory_equal(m->components + m->components_len - 32, digest, 32);
}

static void expect_refused(const rp_measure_spec *specs, size_t n, int code, const char *msg) {
        rp_measurement *m = (rp_measurement *) 0x1;
        rp_error err = {};
        int r = rp_measure(specs, n, &m, &err);
        if (r != code)
                fail_msg("expected %d, got %d (%s)", code, r, err.message);
        if (!strstr(err.message, msg))
                fail_msg("message '%s' lacks '%s'", err.message, msg);
        assert_ptr_equal(m, (rp_measurement *) 0x1);
}

static void test_refusals(void **state) {
        _cleanup_free_ char *missing = test_path(test_tmpdir(), "no-such-file");
        _cleanup_free_ char *want = NULL;
        assert_true(asprintf(&want, "measurement: component 'app': %s: cannot open: No such file", missing) > 0);
        rp_measure_spec gone[] = { { "os", "", os_path }, { "app", "", missing } };
        expect_refused(gone, 2, -ENOENT, want);

        rp_measure_spec dir = { "dir", "", test_tmpdir() };
        expect_refused(&dir, 1, -EISDIR, "component 'dir': ");
        rp_measure_spec dev = { "null", "", "/dev/null" };
        expect_refused(&dev, 1, -EINVAL, "/dev/null: not a regular file");

        expect_refused(gone, 0, -EINVAL, "no components");
        rp_measure_spec many[RP_MEASURE_MAX_COMPONENTS + 1];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = (rp_measure_spec) { "os", "", os_path };
        expect_refused(many, ELEMENTSOF(many), -EFBIG, "17 components, the limit is 16");
        expect_refused(many, 2, -EEXIST, "component 'os' is listed twice");

        char longname[RP_MEASURE_NAME_MAX + 2];
        memset(longname, 'n', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        rp_measure_spec s = { longname, "", os_path };
        expect_refused(&s, 1, -EFBIG, "component 0: the name is 65 bytes, the limit is 64");
        longname[RP_MEASURE_NAME_MAX] = 0;   /* 64 bytes: accepted */
        rp_measurement *ok = measure_ok(&s, 1);
        rp_measurement_free(ok);
        s = (rp_measure_spec) { "os", longname, os_path };
        ok = measure_ok(&s, 1);
        rp_measurement_free(ok);
        longname[RP_MEASURE_NAME_MAX] = 'n';
        expect_refused(&s, 1, -EFBIG, "component 0: the version is 65 bytes");

        s = (rp_measure_spec) { "", "", os_path };
        expect_refused(&s, 1, -EINVAL, "component 0: the name is empty");
        s = (rp_measure_spec) { NULL, "", os_path };
        expect_refused(&s, 1, -EINVAL, "component 0: no name");
        s = (rp_measure_spec) { "os", NULL, os_path };
        expect_refused(&s, 1, -EINVAL, "component 0: no version");
        s = (rp_measure_spec) { "o\ns", "", os_path };
        expect_refused(&s, 1, -EINVAL, "the name is not printable UTF-8");
        s = (rp_measure_spec) { "os", "\xff", os_path };
        expect_refused(&s, 1, -EINVAL, "the version is not printable UTF-8");
        s = (rp_measure_spec) { "os", "", "" };
        expect_refused(&s, 1, -EINVAL, "component 'os': no file");
        s = (rp_measure_spec) { "os", "", NULL };
        expect_refused(&s, 1, -EINVAL, "component 'os': no file");
        rp_measurement_free(NULL);
}

static const char *unreadable_checks(void *ctx) {
        rp_measure_spec s = { "secret", "", ctx };
        rp_measurement *m = NULL;
        rp_error err = {};
        if (rp_measure(&s, 1, &m, &err) != -EACCES || !strstr(err.message, "component 'secret': ") ||
            !strstr(err.message, "unreadable: cannot open"))
                return "a mode-0 file: expected -EACCES naming the component and the file";
        return NULL;
}

static void test_unreadable(void **state) {
        _cleanup_free_ char *p = test_path(test_tmpdir(), "unreadable");
        test_write_file(p, "x", 1);
        assert_int_equal(chmod(p, 0), 0);
        test_without_dac(unreadable_checks, p);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_bytes),
                cmocka_unit_test(test_changes),
                cmocka_unit_test(test_large_file),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_unreadable),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
