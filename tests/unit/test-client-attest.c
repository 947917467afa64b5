/* SPDX-License-Identifier: Apache-2.0 */
/* The device's check of the answer to POST /v1/attest
 * (rp_attest_check_answer, lib/client/attest.c) over the answers in
 * tests/fuzz/corpus/client-answer/: the genuine one passes, and each near
 * miss is refused for its own reason, leaving the result untouched. The
 * Alias key is the one fuzz-client-answer.c holds. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "client/attest.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "testlib.h"

static const char alias_pub[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjOQHOjx1XGuZ4oeU/boxkH01eZ8k\n"
        "S2Xs7guHNbOdOR03Q7iXmOnjPYpI9/efSqz2HTm/C7gqsEUKIz5sukrHLg==\n"
        "-----END PUBLIC KEY-----\n";
#define DEVICE_ID "0000000000000000000000000000000000000000000000000000000000000000"

static int check(const char *name, const char *device_id, rp_attest_result *res, rp_error *err) {
        char rel[256];
        snprintf(rel, sizeof rel, "../fuzz/corpus/client-answer/%s", name);
        _cleanup_free_ char *path = test_data_path(rel);
        _cleanup_free_ uint8_t *data = test_read_file(path, NULL);
        json_t *j = json_loads((const char *) data, 0, NULL);
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(alias_pub, -1);
        _cleanup_(evp_pkey_freep) EVP_PKEY *alias = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        assert_non_null(alias);
        int r = rp_attest_check_answer(j, device_id, alias, res, err);
        json_decref(j);
        return r;
}

static void test_genuine(void **state) {
        rp_attest_result res = {};
        rp_error err = {};
        assert_int_equal(check("valid.json", DEVICE_ID, &res, &err), 0);
        assert_string_equal(res.device_id, DEVICE_ID);
        assert_string_equal(res.tenant, "fuzz");
        assert_int_equal(res.expires_at, 1900000000);
        assert_non_null(strstr(res.certificate_pem, "BEGIN CERTIFICATE"));
        assert_non_null(strstr(res.ca_certificate_pem, "BEGIN CERTIFICATE"));
        assert_null(res.deployment_key_pem);    /* a server before issue 8 sends none */
        rp_attest_result_clear(&res);
        assert_null(res.tenant);
        /* With the tenant's deployment key. */
        assert_int_equal(check("deployment-key.json", DEVICE_ID, &res, &err), 0);
        assert_non_null(res.deployment_key_pem);
        assert_non_null(strstr(res.deployment_key_pem, "-----BEGIN PUBLIC KEY-----"));
        rp_attest_result_clear(&res);
        assert_null(res.deployment_key_pem);
        /* A certificate followed by more PEM: the first is the one checked. */
        assert_int_equal(check("chain.json", DEVICE_ID, &res, &err), 0);
        rp_attest_result_clear(&res);
}

static void test_refused(void **state) {
        static const struct {
                const char *file;
                int code;
                const char *msg;
        } cases[] = {
                { "other-ca.json", -EKEYREJECTED, "not signed by the tenant CA certificate that came with it" },
                { "ca-as-certificate.json", -EKEYREJECTED, "is not for this device's Alias key" },
                { "other-device.json", -EBADMSG, "does not name this device" },
                { "no-expiry.json", -EBADMSG, "lacks the integer \"expires_at\"" },
                { "expiry-string.json", -EBADMSG, "lacks the integer \"expires_at\"" },
                { "truncated-pem.json", -EBADMSG, "the server's device certificate: not a PEM certificate" },
                { "refusal.json", -EBADMSG, "does not name this device" },
                { "array.json", -EBADMSG, "is not a JSON object" },
                { "deployment-key-rsa.json", -EBADMSG, "\"deployment_key\" is not a PEM public key" },
                { "deployment-key-number.json", -EBADMSG, "\"deployment_key\" is not a PEM public key" },
                { "deployment-key-garbage.json", -EBADMSG, "\"deployment_key\" is not a PEM public key" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                rp_attest_result res = { .expires_at = 7 };
                rp_error err = {};
                int r = check(cases[i].file, DEVICE_ID, &res, &err);
                if (r != cases[i].code || !strstr(err.message, cases[i].msg))
                        fail_msg("%s: got %d '%s', expected %d '%s'", cases[i].file, r, err.message, cases[i].code,
                                 cases[i].msg);
                assert_int_equal(res.expires_at, 7);
                assert_null(res.tenant);
                assert_null(res.deployment_key_pem);
        }
        /* The genuine answer, for another device. */
        rp_attest_result res = {};
        rp_error err = {};
        assert_int_equal(check("valid.json", "1111111111111111111111111111111111111111111111111111111111111111", &res,
                               &err), -EBADMSG);
        assert_int_equal(check("valid.json", "00", &res, &err), -EBADMSG);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_genuine),
                cmocka_unit_test(test_refused),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
