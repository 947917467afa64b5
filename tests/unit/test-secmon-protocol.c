/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-secmon's wire protocol (lib/secmon/protocol.c): every request
 * type round-trips, and the decoder refuses each way a request can be
 * wrong, naming the field. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/evidence_create.h"
#include "secmon/protocol.h"
#include "testlib.h"

static rp_secmon_request req;   /* 8 KiB: not on cmocka's stack */

/* Decodes hex; the result must be want (0 or a code) with msg in the message. */
static void expect_decode(const char *hex, int want, const char *msg) {
        size_t len = strlen(hex) / 2;
        _cleanup_free_ uint8_t *buf = malloc(len + 1);
        assert_non_null(buf);
        assert_int_equal(rp_hex_decode(hex, buf, len), 0);
        rp_error err = {};
        memset(&req, 0x5a, sizeof req);
        int r = rp_secmon_request_decode(buf, len, &req, &err);
        if (r != want)
                fail_msg("%s: got %d (%s), expected %d", hex, r, err.message, want);
        if (want < 0) {
                if (!strstr(err.message, msg))
                        fail_msg("%s: message '%s' lacks '%s'", hex, err.message, msg);
                /* Untouched on failure. */
                assert_int_equal(((uint8_t *) &req)[0], 0x5a);
        }
}

static void test_round_trip(void **state) {
        static const struct {
                rp_secmon_type type;
                unsigned index;
                uint64_t value;
                size_t len;
                const char *hex;
        } cases[] = {
                { RP_SECMON_INFO, 0, 0, 0, "a10101" },
                { RP_SECMON_CHAIN, 0, 0, 0, "a10102" },
                { RP_SECMON_EVIDENCE, 0, 0, 8, "a20103024800070e15" },
                { RP_SECMON_SIGN, 0, 0, 32, NULL },
                { RP_SECMON_COUNTER_READ, 7, 0, 0, "a201050407" },
                { RP_SECMON_COUNTER_ADVANCE, 3, UINT64_MAX, 0, "a301060403051bffffffffffffffff" },
                { RP_SECMON_SEAL, 0, 0, 0, "a2010706" "40" },
                { RP_SECMON_SEAL, 0, 0, RP_ROT_SEAL_MAX, NULL },
                { RP_SECMON_UNSEAL, 0, 0, RP_ROT_SEALED_MAX, NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                rp_secmon_request in = { .type = cases[i].type, .index = cases[i].index, .value = cases[i].value,
                                         .len = cases[i].len };
                for (size_t k = 0; k < in.len; k++)
                        in.bytes[k] = (uint8_t) (k * 7);
                _cleanup_free_ uint8_t *buf = NULL;
                size_t len;
                rp_error err = {};
                assert_int_equal(rp_secmon_request_encode(&in, &buf, &len, &err), 0);
                assert_true(len <= RP_SECMON_REQUEST_MAX);
                _cleanup_free_ char *hex = rp_hex_encode(buf, len);
                if (cases[i].hex && strncmp(hex, cases[i].hex, strlen(cases[i].hex)) != 0)
                        fail_msg("type %d encodes as %s, expected %s", cases[i].type, hex, cases[i].hex);
                assert_int_equal(rp_secmon_request_decode(buf, len, &req, &err), 0);
                assert_int_equal(req.type, in.type);
                assert_int_equal(req.index, in.index);
                assert_true(req.value == in.value);
                assert_int_equal(req.len, in.len);
                assert_memory_equal(req.bytes, in.bytes, in.len);
        }
}

static void test_names(void **state) {
        rp_secmon_type t;
        for (unsigned i = 1; i <= RP_SECMON_TYPE_MAX; i++) {
                assert_int_equal(rp_secmon_type_from_name(rp_secmon_type_name((rp_secmon_type) i), &t), 0);
                assert_int_equal(t, i);
        }
        assert_null(rp_secmon_type_name(0));
        assert_null(rp_secmon_type_name(RP_SECMON_TYPE_MAX + 1));
        assert_int_equal(rp_secmon_type_from_name("everything", &t), -EINVAL);
        assert_string_equal(rp_secmon_type_name(RP_SECMON_COUNTER_ADVANCE), "counter-advance");
}

static void test_refusals(void **state) {
        /* Not CBOR, or not a whole request. */
        expect_decode("", -EBADMSG, "truncated");
        expect_decode("ff", -EINVAL, "CBOR");
        expect_decode("a101", -EBADMSG, "truncated");
        expect_decode("a1010100", -EINVAL, "1 bytes after the request");
        expect_decode("8101", -EINVAL, "expected a map, got an array");
        expect_decode("01", -EINVAL, "expected a map, got an unsigned integer");
        expect_decode("bf0101ff", -EINVAL, "indefinite");
        expect_decode("a101a10101", -EFBIG, "nested deeper");
        expect_decode("a101f97c00", -EOPNOTSUPP, "floating-point");
        /* The type. */
        expect_decode("a0", -EINVAL, "field 1 (type) is missing");
        expect_decode("a10200", -EINVAL, "field 1 (type) is missing");
        expect_decode("a10100", -EOPNOTSUPP, "field 1 (type): 0 is out of range (1 to 8)");
        expect_decode("a10109", -EOPNOTSUPP, "field 1 (type): 9 is out of range");
        expect_decode("a1011bffffffffffffffff", -EOPNOTSUPP, "out of range");
        expect_decode("a10120", -EINVAL, "field 1 (type): expected an unsigned integer, got a negative integer");
        expect_decode("a1016131", -EINVAL, "expected an unsigned integer, got a text string");
        expect_decode("a101f5", -EINVAL, "got a boolean");
        /* Fields that are not the type's, or missing, or twice. */
        expect_decode("a201010240", -EINVAL, "secmon request 'info': unexpected field 2 (nonce)");
        expect_decode("a201010800", -EINVAL, "unexpected field 8");
        expect_decode("a201012000", -EINVAL, "a key is a negative integer");
        expect_decode("a20101616100", -EINVAL, "a key is a text string");
        expect_decode("a10103", -EINVAL, "secmon request 'evidence': field 2 (nonce) is missing");
        expect_decode("a201060401", -EINVAL, "'counter-advance': field 5 (value) is missing");
        expect_decode("a3010101010101", -EINVAL, "field 1 (type) appears twice");
        /* Wrong types and sizes. */
        expect_decode("a20103026130", -EINVAL, "field 2 (nonce): expected a byte string, got a text string");
        expect_decode("a20103024700000000000000", -ERANGE, "field 2 (nonce): 7 bytes, must be 8 to 64");
        expect_decode("a20103025841"
                      "0000000000000000000000000000000000000000000000000000000000000000"
                      "0000000000000000000000000000000000000000000000000000000000000000"
                      "00", -ERANGE, "65 bytes, must be 8 to 64");
        expect_decode("a2010403581f"
                      "00000000000000000000000000000000000000000000000000000000000000",
                      -ERANGE, "field 3 (digest): 31 bytes, must be 32");
        expect_decode("a201040301", -EINVAL, "field 3 (digest): expected a byte string");
        expect_decode("a201050408", -ERANGE, "field 4 (index): 8 is out of range (0 to 7)");
        expect_decode("a201050440", -EINVAL, "field 4 (index): expected an unsigned integer, got a byte string");
        expect_decode("a30106040005f5", -EINVAL, "field 5 (value): expected an unsigned integer");
        expect_decode("a30106040005", -EBADMSG, "truncated");
        expect_decode("a201080740", -ERANGE, "field 7 (blob): 0 bytes, must be 1 to 8192");
        expect_decode("a201070601", -EINVAL, "field 6 (data): expected a byte string");
        /* Deterministic encoding only: one way to say each request. */
        expect_decode("a1180101", -EINVAL, "not deterministic");
        expect_decode("a1011801", -EINVAL, "not deterministic");
        expect_decode("a204000105", -EINVAL, "not deterministic");
        expect_decode("a201050400", 0, NULL);
        expect_decode("a20103025900080000000000000000", -EINVAL, "not deterministic");
}

/* Request sizes at their limits fit in one request datagram. */
static void test_limits(void **state) {
        rp_secmon_request in = { .type = RP_SECMON_UNSEAL, .len = RP_ROT_SEALED_MAX + 1 };
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        rp_error err = {};
        assert_int_equal(rp_secmon_request_encode(&in, &buf, &len, &err), -ERANGE);
        assert_non_null(strstr(err.message, "blob length 8193 is out of range (1 to 8192)"));
        in = (rp_secmon_request) { .type = RP_SECMON_COUNTER_READ, .index = RP_ROT_COUNTERS };
        assert_int_equal(rp_secmon_request_encode(&in, &buf, &len, &err), -ERANGE);
        in = (rp_secmon_request) { .type = 0 };
        assert_int_equal(rp_secmon_request_encode(&in, &buf, &len, &err), -EINVAL);
        in = (rp_secmon_request) { .type = RP_SECMON_EVIDENCE, .len = RP_EVIDENCE_NONCE_MIN - 1 };
        assert_int_equal(rp_secmon_request_encode(&in, &buf, &len, &err), -ERANGE);
}

static void test_responses(void **state) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int status = 1;
        char msg[RP_ERROR_MAX];
        cbor_item_t *res = NULL;
        rp_error err = {};

        assert_int_equal(rp_secmon_response_encode(0, NULL, rp_cbor_uint(5), &buf, &len), 0);
        _cleanup_free_ char *hex = rp_hex_encode(buf, len);
        assert_string_equal(hex, "a201000305");
        assert_int_equal(rp_secmon_response_decode(buf, len, &status, msg, &res, &err), 0);
        assert_int_equal(status, 0);
        assert_int_equal(cbor_get_int(res), 5);
        cbor_decref(&res);
        free(buf);
        buf = NULL;

        /* A message is printable ASCII, however the error read. */
        assert_int_equal(rp_secmon_response_encode(-EACCES, "no\x1b[31m \xc3\xa9", NULL, &buf, &len), 0);
        assert_int_equal(rp_secmon_response_decode(buf, len, &status, msg, &res, &err), 0);
        assert_int_equal(status, -EACCES);
        assert_string_equal(msg, "no?[31m ??");
        assert_null(res);
        free(buf);
        buf = NULL;
        assert_int_equal(rp_secmon_response_encode(-EIO, "", NULL, &buf, &len), 0);
        assert_int_equal(rp_secmon_response_decode(buf, len, &status, msg, &res, &err), 0);
        assert_string_equal(msg, "request failed");

        /* What the encoder never makes is refused. */
        static const char *const bad[] = {
                "a0",                   /* no status */
                "a10100",               /* status 0 without a result */
                "a10120",               /* an error without its message */
                "a2010103f6",           /* status 1 */
                "a201390fff0261",       /* truncated */
                "a201390fff026178",     /* status -4096 */
                "a2012002f5",           /* message not text */
                "a201200260",           /* empty message */
                "a3010002617803f6",     /* both message and result */
                "a201000400",           /* unknown key */
                "a2012002617800",       /* trailing byte */
                "80",                   /* not a map */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                size_t n = strlen(bad[i]) / 2;
                uint8_t b[64];
                assert_int_equal(rp_hex_decode(bad[i], b, n), 0);
                status = 7;
                int r = rp_secmon_response_decode(b, n, &status, msg, &res, &err);
                if (r >= 0)
                        fail_msg("response %s was accepted", bad[i]);
                assert_int_equal(status, 7);
        }
        uint8_t not_utf8[] = { 0xa2, 0x01, 0x20, 0x02, 0x61, 0xff };
        assert_true(rp_secmon_response_decode(not_utf8, sizeof not_utf8, &status, msg, &res, &err) < 0);

        /* A message fills at most RP_ERROR_MAX - 1 bytes, and the encoder
         * cuts a longer one to that. */
        uint8_t big[7 + RP_ERROR_MAX];
        memcpy(big, "\xa2\x01\x20\x02\x79\x01\xff", 7);
        memset(big + 7, 'a', RP_ERROR_MAX);
        assert_int_equal(rp_secmon_response_decode(big, 7 + RP_ERROR_MAX - 1, &status, msg, &res, &err), 0);
        assert_int_equal(strlen(msg), RP_ERROR_MAX - 1);
        big[5] = 0x02;   /* 512 bytes */
        big[6] = 0x00;
        assert_int_equal(rp_secmon_response_decode(big, sizeof big, &status, msg, &res, &err), -EBADMSG);
        free(buf);
        buf = NULL;
        char long_msg[2 * RP_ERROR_MAX];
        memset(long_msg, 'b', sizeof long_msg - 1);
        long_msg[sizeof long_msg - 1] = '\0';
        assert_int_equal(rp_secmon_response_encode(-EIO, long_msg, NULL, &buf, &len), 0);
        assert_int_equal(rp_secmon_response_decode(buf, len, &status, msg, &res, &err), 0);
        assert_int_equal(strlen(msg), RP_ERROR_MAX - 1);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_responses),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
