/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure torture for lib/core's CBOR, keys and COSE: every
 * allocation librampart makes is failed in turn; each run must return an
 * error without crashing or leaking. (libcbor and OpenSSL allocate on their
 * own and are not failed: see torture.h.) */
#include <errno.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "rampart/cose.h"
#include "testlib.h"
#include "torture.h"

static rp_key *key;
static uint8_t *msg;
static size_t msg_len;

static int op_cbor(void *ctx) {
        /* {"b": [1, h'00'], 10: 2, "a": 18(h''), -1: true} */
        static const uint8_t in[] = { 0xa4, 0x61, 0x62, 0x82, 0x01, 0x41, 0x00, 0x0a, 0x02, 0x61, 0x61,
                                      0xd2, 0x40, 0x20, 0xf5 };
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t used;
        int r = rp_cbor_decode(in, sizeof in, 8, 100, &item, &used, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        return rp_cbor_encode(item, &out, &len, NULL);
}

static int op_cbor_check_deep(void *ctx) {
        uint8_t deep[200];
        memset(deep, 0x81, sizeof deep - 1);
        deep[sizeof deep - 1] = 0;
        size_t len;
        return rp_cbor_check(deep, sizeof deep, 1000, 1000, &len, NULL);
}

static int op_key_save_load(void *ctx) {
        _cleanup_free_ char *p = test_path(ctx, "k.pem");
        int r = rp_key_save_private(key, p, NULL);
        if (r < 0)
                return r;
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        return rp_key_load_private(p, &k, NULL);
}

static int op_cose_create(void *ctx) {
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        return rp_cose_sign1_create(key, "text/plain", "payload", 7, "aad", 3, &out, &len, NULL);
}

static int op_cose_decode_verify(void *ctx) {
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
        int r = rp_cose_sign1_decode(msg, msg_len, &m, NULL, NULL);
        if (r < 0)
                return r;
        return rp_cose_sign1_verify(m, key, "aad", 3, NULL);
}

static void test_torture_core(void **state) {
        rp_error err = {0};
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &key, &err), 0);
        assert_int_equal(rp_cose_sign1_create(key, "text/plain", "payload", 7, "aad", 3, &msg, &msg_len, &err), 0);

        assert_true(torture_run(op_cbor, NULL, 200) > 1);
        assert_true(torture_run(op_cbor_check_deep, NULL, 50) > 1);
        assert_true(torture_run(op_key_save_load, (void *) test_tmpdir(), 100) > 1);
        assert_true(torture_run(op_cose_create, NULL, 200) > 1);
        assert_true(torture_run(op_cose_decode_verify, NULL, 200) > 1);

        rp_key_free(key);
        free(msg);
}

int main(void) {
        torture_init();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_torture_core),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
