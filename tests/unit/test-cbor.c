/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "testlib.h"

/* Encodes item (taking it) and compares with the hex string want. */
static void expect_encoding(cbor_item_t *item, const char *want) {
        assert_non_null(item);
        rp_error err = {0};
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r = rp_cbor_encode(item, &buf, &len, &err);
        cbor_decref(&item);
        if (r < 0)
                fail_msg("encode failed: %d %s (want %s)", r, err.message, want);
        _cleanup_free_ char *got = rp_hex_encode(buf, len);
        if (!streq(got, want))
                fail_msg("encoded %s, expected %s", got, want);
        /* What we produce is deterministic by our own check too. */
        assert_int_equal(rp_cbor_is_deterministic(buf, len), 1);
}

static void test_integers(void **state) {
        expect_encoding(rp_cbor_uint(0), "00");
        expect_encoding(rp_cbor_uint(23), "17");
        expect_encoding(rp_cbor_uint(24), "1818");
        expect_encoding(rp_cbor_uint(255), "18ff");
        expect_encoding(rp_cbor_uint(256), "190100");
        expect_encoding(rp_cbor_uint(65535), "19ffff");
        expect_encoding(rp_cbor_uint(65536), "1a00010000");
        expect_encoding(rp_cbor_uint(UINT32_MAX), "1affffffff");
        expect_encoding(rp_cbor_uint((uint64_t) UINT32_MAX + 1), "1b0000000100000000");
        expect_encoding(rp_cbor_uint(UINT64_MAX), "1bffffffffffffffff");
        expect_encoding(rp_cbor_int(-1), "20");
        expect_encoding(rp_cbor_int(-24), "37");
        expect_encoding(rp_cbor_int(-25), "3818");
        expect_encoding(rp_cbor_int(-256), "38ff");
        expect_encoding(rp_cbor_int(-257), "390100");
        expect_encoding(rp_cbor_int(INT64_MIN), "3b7fffffffffffffff");
        expect_encoding(rp_cbor_int(INT64_MAX), "1b7fffffffffffffff");
        /* Items built wider than needed are re-encoded in the shortest form. */
        expect_encoding(cbor_build_uint64(1), "01");
        expect_encoding(cbor_build_uint32(500), "1901f4");
        expect_encoding(cbor_build_negint16(0), "20");
}

static void test_strings_and_containers(void **state) {
        expect_encoding(rp_cbor_bytes(NULL, 0), "40");
        expect_encoding(rp_cbor_bytes("\x01\x02\x03\x04", 4), "4401020304");
        expect_encoding(rp_cbor_text(""), "60");
        expect_encoding(rp_cbor_text("IETF"), "6449455446");
        expect_encoding(rp_cbor_text("\xc3\xbc"), "62c3bc");

        cbor_item_t *a = cbor_new_definite_array(2), *inner = cbor_new_definite_array(2);
        assert_true(cbor_array_push(inner, cbor_move(rp_cbor_uint(2))));
        assert_true(cbor_array_push(inner, cbor_move(rp_cbor_uint(3))));
        assert_true(cbor_array_push(a, cbor_move(rp_cbor_uint(1))));
        assert_true(cbor_array_push(a, cbor_move(inner)));
        expect_encoding(a, "8201820203");

        expect_encoding(cbor_new_definite_array(0), "80");
        expect_encoding(cbor_new_definite_map(0), "a0");
        expect_encoding(cbor_build_tag(18, cbor_move(cbor_new_definite_array(0))), "d280");
        expect_encoding(cbor_build_bool(true), "f5");
        expect_encoding(cbor_build_bool(false), "f4");
        expect_encoding(cbor_new_null(), "f6");

        /* A long string gets a 2-byte length. */
        char s[301];
        memset(s, 'x', 300);
        s[300] = 0;
        cbor_item_t *t = rp_cbor_text(s);
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        assert_int_equal(rp_cbor_encode(t, &buf, &len, NULL), 0);
        cbor_decref(&t);
        assert_int_equal(len, 303);
        assert_int_equal(buf[0], 0x79);
        assert_int_equal(buf[1], 0x01);
        assert_int_equal(buf[2], 0x2c);
}

static cbor_item_t *sample_map(void) {
        cbor_item_t *m = cbor_new_definite_map(4);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_text("b"), rp_cbor_uint(1)), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(10), rp_cbor_uint(2)), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_text("a"), rp_cbor_uint(3)), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_int(-1), rp_cbor_uint(4)), 0);
        return m;
}

/* RFC 8949 section 4.2.1: keys sorted by the bytes of their encodings:
 * 10 (0a) < -1 (20) < "a" (6161) < "b" (6162). */
static void test_map_order(void **state) {
        cbor_item_t *m = sample_map();
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        assert_int_equal(rp_cbor_encode(m, &buf, &len, NULL), 0);
        _cleanup_free_ char *hex = rp_hex_encode(buf, len);
        assert_string_equal(hex, "a40a022004616103616201");
        /* The map itself was sorted in place. */
        struct cbor_pair *p = cbor_map_handle(m);
        int64_t v;
        assert_int_equal(rp_cbor_get_int(p[0].key, &v), 0);
        assert_int_equal(v, 10);
        assert_int_equal(rp_cbor_get_int(p[1].key, &v), 0);
        assert_int_equal(v, -1);
        cbor_decref(&m);

        /* Bytewise, not length-first (RFC 7049 canonical): 100 (1864) sorts
         * before -1 (20) although its encoding is longer. */
        m = cbor_new_definite_map(2);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_int(-1), rp_cbor_uint(0)), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(100), rp_cbor_uint(0)), 0);
        expect_encoding(m, "a21864002000");

        /* Nested maps are sorted too; keys of different widths compare by
         * their shortest encodings. */
        m = cbor_new_definite_map(2);
        cbor_item_t *inner = cbor_new_definite_map(2);
        assert_int_equal(rp_cbor_map_put(inner, rp_cbor_text("z"), rp_cbor_uint(0)), 0);
        assert_int_equal(rp_cbor_map_put(inner, cbor_build_uint64(1), rp_cbor_uint(0)), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(2), inner), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(1), rp_cbor_text("")), 0);
        expect_encoding(m, "a20160" "02a20100617a00");
}

static void test_encode_refusals(void **state) {
        rp_error err = {0};
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 7;

        /* Duplicate keys, also when written with different widths. */
        cbor_item_t *m = cbor_new_definite_map(2);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(1), rp_cbor_uint(0)), 0);
        assert_int_equal(rp_cbor_map_put(m, cbor_build_uint32(1), rp_cbor_uint(1)), 0);
        assert_int_equal(rp_cbor_encode(m, &buf, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "duplicate map key"));
        assert_null(buf);
        assert_int_equal(len, 7);
        cbor_decref(&m);

        /* A refused map is left as it was (fuzz finding: it used to be left
         * half-sorted, holding one pair twice and losing another). */
        m = cbor_new_definite_map(3);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(10), rp_cbor_text("x")), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(0), rp_cbor_text("y")), 0);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(0), rp_cbor_text("z")), 0);
        assert_int_equal(rp_cbor_encode(m, &buf, &len, NULL), -EINVAL);
        struct cbor_pair *pairs = cbor_map_handle(m);
        const char *want[] = { "x", "y", "z" };
        for (size_t i = 0; i < 3; i++) {
                assert_int_equal(cbor_string_length(pairs[i].value), 1);
                assert_memory_equal(cbor_string_handle(pairs[i].value), want[i], 1);
        }
        cbor_decref(&m);

        cbor_item_t *items[] = {
                cbor_new_indefinite_array(),
                cbor_new_indefinite_map(),
                cbor_new_indefinite_bytestring(),
                cbor_new_indefinite_string(),
                cbor_build_float8(1.5),
                cbor_build_float2(0.0f),
        };
        const char *what[] = { "indefinite-length array", "indefinite-length map",
                               "indefinite-length byte string", "indefinite-length text string",
                               "floating-point", "floating-point" };
        for (size_t i = 0; i < ELEMENTSOF(items); i++) {
                rp_error_clear(&err);
                assert_int_equal(rp_cbor_encode(items[i], &buf, &len, &err), -EINVAL);
                if (!strstr(err.message, what[i]))
                        fail_msg("item %zu: message lacks '%s': %s", i, what[i], err.message);
                cbor_decref(&items[i]);
        }
        /* Inside a container, too. */
        cbor_item_t *a = cbor_new_definite_array(1);
        assert_true(cbor_array_push(a, cbor_move(cbor_new_indefinite_array())));
        assert_int_equal(rp_cbor_encode(a, &buf, &len, NULL), -EINVAL);
        cbor_decref(&a);

        /* Deeper than the encoder's limit. */
        cbor_item_t *deep = rp_cbor_uint(0);
        for (int i = 0; i < 200; i++) {
                cbor_item_t *w = cbor_new_definite_array(1);
                assert_true(cbor_array_push(w, cbor_move(deep)));
                deep = w;
        }
        rp_error_clear(&err);
        assert_int_equal(rp_cbor_encode(deep, &buf, &len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "nested deeper"));
        cbor_decref(&deep);

        assert_null(buf);
}

static void test_map_put(void **state) {
        cbor_item_t *m = cbor_new_definite_map(1);
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(1), rp_cbor_uint(1)), 0);
        /* Full: refused, and key and value are released (ASan checks). */
        assert_int_equal(rp_cbor_map_put(m, rp_cbor_uint(2), rp_cbor_text("leak?")), -EFBIG);
        /* A NULL from a failed builder is reported and the other half freed. */
        assert_int_equal(rp_cbor_map_put(m, NULL, rp_cbor_text("x")), -ENOMEM);
        cbor_decref(&m);
}

static void test_lookups(void **state) {
        cbor_item_t *m = sample_map();
        uint64_t u;
        assert_int_equal(rp_cbor_get_uint(rp_cbor_map_get_text(m, "a"), &u), 0);
        assert_int_equal(u, 3);
        assert_int_equal(rp_cbor_get_uint(rp_cbor_map_get_int(m, -1), &u), 0);
        assert_int_equal(u, 4);
        assert_int_equal(rp_cbor_get_uint(rp_cbor_map_get_int(m, 10), &u), 0);
        assert_int_equal(u, 2);
        assert_null(rp_cbor_map_get_text(m, "c"));
        assert_null(rp_cbor_map_get_text(m, "aa"));
        assert_null(rp_cbor_map_get_int(m, 11));
        assert_null(rp_cbor_map_get_int(NULL, 1));
        /* A lookup that found nothing, read as a number: refused. */
        u = 7;
        assert_int_equal(rp_cbor_get_uint(rp_cbor_map_get_text(m, "c"), &u), -EINVAL);
        assert_int_equal(u, 7);
        int64_t iv = 7;
        assert_int_equal(rp_cbor_get_int(NULL, &iv), -EINVAL);
        assert_int_equal(iv, 7);
        cbor_item_t *notmap = rp_cbor_uint(1);
        assert_null(rp_cbor_map_get_text(notmap, "a"));
        cbor_decref(&notmap);
        cbor_decref(&m);

        int64_t v = 42;
        cbor_item_t *big = cbor_build_uint64((uint64_t) INT64_MAX + 1);
        assert_int_equal(rp_cbor_get_int(big, &v), -ERANGE);
        assert_int_equal(v, 42);
        assert_int_equal(rp_cbor_get_uint(big, &u), 0);
        assert_int_equal(u, (uint64_t) INT64_MAX + 1);
        cbor_decref(&big);

        cbor_item_t *min = cbor_build_negint64((uint64_t) INT64_MAX);
        assert_int_equal(rp_cbor_get_int(min, &v), 0);
        assert_true(v == INT64_MIN);
        assert_int_equal(rp_cbor_get_uint(min, &u), -ERANGE);
        cbor_decref(&min);
        cbor_item_t *below = cbor_build_negint64((uint64_t) INT64_MAX + 1);
        assert_int_equal(rp_cbor_get_int(below, &v), -ERANGE);
        cbor_decref(&below);

        cbor_item_t *s = rp_cbor_text("1");
        assert_int_equal(rp_cbor_get_int(s, &v), -EINVAL);
        assert_int_equal(rp_cbor_get_uint(s, &u), -EINVAL);
        cbor_decref(&s);
        assert_int_equal(rp_cbor_get_int(NULL, &v), -EINVAL);
}

/* Runs rp_cbor_check on hex input; checks the code and, on success, the
 * length; on failure that the message contains what. */
static void check_hex(const char *hex, unsigned depth, size_t items, int code, size_t want_len, const char *what) {
        size_t n = strlen(hex) / 2;
        _cleanup_free_ uint8_t *buf = malloc(n ? n : 1);
        assert_int_equal(rp_hex_decode(hex, buf, n), 0);
        rp_error err = {0};
        size_t len = 12345;
        int r = rp_cbor_check(buf, n, depth, items, &len, &err);
        if (r != code)
                fail_msg("%s: got %d (%s), expected %d", hex, r, err.message, code);
        if (r == 0)
                assert_int_equal(len, want_len);
        else {
                assert_int_equal(len, 12345);
                if (what && !strstr(err.message, what))
                        fail_msg("%s: message lacks '%s': %s", hex, what, err.message);
        }
}

static void test_check_accepts(void **state) {
        check_hex("00", 8, 100, 0, 1, NULL);
        check_hex("0001", 8, 100, 0, 1, NULL);               /* trailing bytes ignored */
        check_hex("1bffffffffffffffff", 8, 100, 0, 9, NULL);
        check_hex("3b7fffffffffffffff", 8, 100, 0, 9, NULL);
        check_hex("4401020304ff", 8, 100, 0, 5, NULL);
        check_hex("a40a022004616103616201", 8, 100, 0, 11, NULL);
        check_hex("8201820203", 8, 100, 0, 5, NULL);
        check_hex("d28443a10126a04474657374" "40", 8, 100, 0, 13, NULL);
        check_hex("80", 1, 1, 0, 1, NULL);
        check_hex("a0", 1, 1, 0, 1, NULL);
        check_hex("f5", 1, 1, 0, 1, NULL);
        check_hex("f820", 1, 1, 0, 2, NULL);                 /* simple value 32 */
        check_hex("f93c00", 1, 1, 0, 3, NULL);               /* floats are well-formed */
        check_hex("fb3ff8000000000000", 1, 1, 0, 9, NULL);
        /* Non-shortest forms are well-formed (not deterministic). */
        check_hex("1801", 1, 1, 0, 2, NULL);
        check_hex("5a0000000161", 1, 1, 0, 6, NULL);
}

static void test_check_refuses(void **state) {
        check_hex("", 8, 100, -EBADMSG, 0, "truncated");
        check_hex("19", 8, 100, -EBADMSG, 0, "needs 2 more bytes");
        check_hex("1b00000000000000", 8, 100, -EBADMSG, 0, "truncated");
        check_hex("44010203", 8, 100, -EBADMSG, 0, "declares 4 bytes, 3 are left");
        check_hex("8201", 8, 100, -EBADMSG, 0, "declares 2 items");
        check_hex("8301", 8, 100, -EBADMSG, 0, "declares 3 items");
        check_hex("a1", 8, 100, -EBADMSG, 0, "declares 1 pairs");
        check_hex("a101", 8, 100, -EBADMSG, 0, "declares 1 pairs");
        check_hex("c0", 8, 100, -EBADMSG, 0, "truncated");
        /* Huge declared lengths: no overflow, no allocation. */
        check_hex("5bffffffffffffffff00", 8, 100, -EBADMSG, 0, "declares 18446744073709551615 bytes");
        check_hex("7bffffffffffffffff00", 8, 100, -EBADMSG, 0, "declares");
        check_hex("9bffffffffffffffff00", 8, 100, -EBADMSG, 0, "declares 18446744073709551615 items");
        check_hex("bb800000000000000000", 8, 100, -EBADMSG, 0, "pairs");
        check_hex("bbffffffffffffffff0000", 8, 100, -EBADMSG, 0, "pairs");
        check_hex("7affffffff61", 8, 100, -EBADMSG, 0, "declares 4294967295 bytes");
        /* Reserved additional information 28..30, in every major type. */
        for (unsigned mt = 0; mt < 8; mt++)
                for (unsigned ai = 28; ai <= 30; ai++) {
                        char hex[3];
                        snprintf(hex, sizeof hex, "%02x", mt << 5 | ai);
                        check_hex(hex, 8, 100, -EINVAL, 0, "reserved additional information");
                }
        /* Indefinite lengths and stray breaks. */
        check_hex("5f4101ff", 8, 100, -EINVAL, 0, "indefinite-length item at byte 0");
        check_hex("7f6161ff", 8, 100, -EINVAL, 0, "indefinite-length");
        check_hex("9f01ff", 8, 100, -EINVAL, 0, "indefinite-length");
        check_hex("bf0101ff", 8, 100, -EINVAL, 0, "indefinite-length");
        check_hex("829f01ff", 8, 100, -EINVAL, 0, "indefinite-length item at byte 1");
        check_hex("ff", 8, 100, -EINVAL, 0, "unexpected break");
        check_hex("8201ff", 8, 100, -EINVAL, 0, "unexpected break");
        check_hex("1f", 8, 100, -EINVAL, 0, "malformed initial byte 0x1f");
        check_hex("3f", 8, 100, -EINVAL, 0, "malformed");
        check_hex("df", 8, 100, -EINVAL, 0, "malformed");
        /* Two-byte simple values below 32 are not well-formed. */
        check_hex("f801", 8, 100, -EINVAL, 0, "simple value 1");
        check_hex("f81f", 8, 100, -EINVAL, 0, "simple value 31");
        /* Depth and item limits. */
        check_hex("8181818100", 4, 100, -EFBIG, 0, "nested deeper than 4 levels");
        check_hex("8181818100", 5, 100, 0, 5, NULL);
        check_hex("c1c1c100", 3, 100, -EFBIG, 0, "nested deeper");
        check_hex("a1a1a10000", 3, 100, -EFBIG, 0, "nested deeper");
        check_hex("8301020304", 8, 4, 0, 4, NULL);
        check_hex("830102030405", 8, 3, -EFBIG, 0, "more than 3 items (the container at byte 0 declares 3)");
        check_hex("a201020304", 8, 4, -EFBIG, 0, "more than 4 items (the container at byte 0 declares 4)");
        check_hex("a201020304", 8, 5, 0, 5, NULL);
        check_hex("00", 0, 100, -EFBIG, 0, "nested deeper");
        check_hex("00", 8, 0, -EFBIG, 0, "more than 0 items");
}

static void test_check_truncation(void **state) {
        /* Every strict prefix of a valid item is refused as truncated. */
        const char *hex = "d284" "43a10126" "a104426162" "4474657374" "5820"
                          "0000000000000000000000000000000000000000000000000000000000000000";
        size_t n = strlen(hex) / 2;
        _cleanup_free_ uint8_t *buf = malloc(n);
        assert_int_equal(rp_hex_decode(hex, buf, n), 0);
        size_t len;
        for (size_t cut = 0; cut < n; cut++)
                if (rp_cbor_check(buf, cut, 16, 100, &len, NULL) != -EBADMSG)
                        fail_msg("prefix of %zu bytes not refused as truncated", cut);
        assert_int_equal(rp_cbor_check(buf, n, 16, 100, &len, NULL), 0);
        assert_int_equal(len, n);
}

static void test_check_deep(void **state) {
        /* 10000 nested arrays: refused quickly at the limit, and accepted
         * without recursion when the limit allows it. */
        size_t n = 10001;
        _cleanup_free_ uint8_t *buf = malloc(n);
        memset(buf, 0x81, n - 1);
        buf[n - 1] = 0x00;
        rp_error err = {0};
        size_t len;
        assert_int_equal(rp_cbor_check(buf, n, 16, SIZE_MAX, &len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "nested deeper than 16 levels at byte 16"));
        assert_int_equal(rp_cbor_check(buf, n, 20000, SIZE_MAX, &len, &err), 0);
        assert_int_equal(len, n);
        /* The same with maps ({0: {0: ...}}) and tags. */
        _cleanup_free_ uint8_t *m = malloc(2 * 10000 + 1);
        for (size_t i = 0; i < 10000; i++) {
                m[2 * i] = 0xa1;
                m[2 * i + 1] = 0x00;
        }
        m[20000] = 0x00;
        assert_int_equal(rp_cbor_check(m, 20001, 16, SIZE_MAX, &len, NULL), -EFBIG);
        assert_int_equal(rp_cbor_check(m, 20001, 10001, SIZE_MAX, &len, NULL), 0);
        assert_int_equal(len, 20001);
        memset(buf, 0xc6, n - 1);
        assert_int_equal(rp_cbor_check(buf, n, 16, SIZE_MAX, &len, NULL), -EFBIG);
        /* Truncated at depth: still -EBADMSG, not a crash. */
        memset(buf, 0x82, n);
        assert_int_equal(rp_cbor_check(buf, n, 20000, SIZE_MAX, &len, NULL), -EBADMSG);
}

static void test_is_deterministic(void **state) {
        struct {
                const char *hex;
                bool det;
        } cases[] = {
                { "00", true },
                { "1801", false },                    /* non-shortest integer */
                { "190017", false },
                { "5801ff", false },                  /* non-shortest length */
                { "a40a022004616103616201", true },
                { "a4616201616103200a0a02", false },  /* unsorted keys */
                { "a201020103", false },              /* duplicate key */
                { "9f01ff", false },                  /* indefinite */
                { "0000", false },                    /* trailing bytes */
                { "f93c00", false },                  /* float */
                { "d28440a0f640", true },
                { "a21864002000", true },
                { "a22000186400", false },            /* length-first order */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                size_t n = strlen(cases[i].hex) / 2;
                uint8_t buf[64];
                assert_int_equal(rp_hex_decode(cases[i].hex, buf, n), 0);
                if (rp_cbor_is_deterministic(buf, n) != (cases[i].det ? 1 : 0))
                        fail_msg("%s: expected %s", cases[i].hex, cases[i].det ? "deterministic" : "not");
        }
}

/* Decodes hex with rp_cbor_decode and re-encodes it. */
static void decode_roundtrip(const char *hex) {
        size_t n = strlen(hex) / 2;
        _cleanup_free_ uint8_t *buf = malloc(n);
        assert_int_equal(rp_hex_decode(hex, buf, n), 0);
        rp_error err = {0};
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t len = 0;
        if (rp_cbor_decode(buf, n, 16, 1000, &item, &len, &err) < 0)
                fail_msg("%s: %s", hex, err.message);
        assert_int_equal(len, n);
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        assert_int_equal(rp_cbor_encode(item, &out, &out_len, &err), 0);
        _cleanup_free_ char *got = rp_hex_encode(out, out_len);
        assert_string_equal(got, hex);
}

static void test_decode(void **state) {
        /* Tags 6..20 in one-byte form, which libcbor 0.8's cbor_load refuses. */
        decode_roundtrip("d280");
        decode_roundtrip("c6d4d2a0");
        decode_roundtrip("d28443a10126a04474657374" "40");
        decode_roundtrip("d818a10102");
        decode_roundtrip("a40a022004616103616201");
        decode_roundtrip("8401" "20" "3b7fffffffffffffff" "1bffffffffffffffff");
        decode_roundtrip("83f4f5f6");
        decode_roundtrip("f7");
        decode_roundtrip("f820");
        decode_roundtrip("f8ff");
        decode_roundtrip("6300c3bc");                  /* text with a NUL byte */
        decode_roundtrip("40");

        /* Non-shortest input decodes; encoding makes it shortest. */
        uint8_t wide[] = { 0x19, 0x00, 0x01 };
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t len;
        assert_int_equal(rp_cbor_decode(wide, sizeof wide, 4, 4, &item, &len, NULL), 0);
        uint64_t u;
        assert_int_equal(rp_cbor_get_uint(item, &u), 0);
        assert_int_equal(u, 1);

        /* Refusals come from the check, plus floats. */
        rp_error err = {0};
        cbor_item_t *none = NULL;
        uint8_t fl[] = { 0x81, 0xf9, 0x3c, 0x00 };
        assert_int_equal(rp_cbor_decode(fl, sizeof fl, 4, 4, &none, &len, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "floating-point value at byte 1"));
        uint8_t indef[] = { 0x9f, 0xff };
        assert_int_equal(rp_cbor_decode(indef, sizeof indef, 4, 4, &none, &len, NULL), -EINVAL);
        uint8_t trunc[] = { 0x82, 0x01 };
        assert_int_equal(rp_cbor_decode(trunc, sizeof trunc, 4, 4, &none, &len, NULL), -EBADMSG);
        /* A simple value below 32 in the two-byte form (RFC 8949 3.3). */
        uint8_t simple[] = { 0x81, 0xf8, 0x18 };
        assert_int_equal(rp_cbor_decode(simple, sizeof simple, 4, 4, &none, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "simple value 24 at byte 1 must use the one-byte form"));
        assert_null(none);

        /* No buffer. */
        assert_int_equal(rp_cbor_check(NULL, 5, 4, 4, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "CBOR: no input"));

        /* What a caller hands the encoder: nothing, or a tag with no item. */
        uint8_t *out = NULL;
        assert_int_equal(rp_cbor_encode(NULL, &out, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "no item to encode"));
        _cleanup_(rp_cbor_decrefp) cbor_item_t *tag = cbor_new_tag(5);
        assert_non_null(tag);
        assert_int_equal(rp_cbor_encode(tag, &out, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "tag 5 has no item"));
        assert_null(out);

        /* A huge max_depth is lowered to RP_CBOR_DECODE_MAX_DEPTH. */
        size_t n = 10001;
        _cleanup_free_ uint8_t *deep = malloc(n);
        memset(deep, 0x81, n - 1);
        deep[n - 1] = 0;
        rp_error_clear(&err);
        assert_int_equal(rp_cbor_decode(deep, n, 100000, SIZE_MAX, &none, &len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "nested deeper than 128"));
        assert_int_equal(rp_cbor_decode(deep + n - 128, 128, 100000, SIZE_MAX, &none, &len, NULL), 0);
        cbor_decref(&none);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_integers),
                cmocka_unit_test(test_strings_and_containers),
                cmocka_unit_test(test_map_order),
                cmocka_unit_test(test_encode_refusals),
                cmocka_unit_test(test_map_put),
                cmocka_unit_test(test_lookups),
                cmocka_unit_test(test_check_accepts),
                cmocka_unit_test(test_check_refuses),
                cmocka_unit_test(test_check_truncation),
                cmocka_unit_test(test_check_deep),
                cmocka_unit_test(test_is_deterministic),
                cmocka_unit_test(test_decode),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
