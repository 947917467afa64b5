/* SPDX-License-Identifier: Apache-2.0 */
/* The streaming package verifier (lib/package/package_stream.h): the same
 * verdicts as the buffer reader whatever the chunking, which check refused
 * a package, the choice among several keys, the digest of the whole file,
 * a refusal before the end for bytes that cannot be a package, and the
 * stream's state after a failure. fuzz-package-stream compares it with the
 * buffer reader on hostile inputs. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "package/package_stream.h"
#include "rampart/cose.h"
#include "rampart/package.h"

#include "package-fixtures.h"
#include "testlib.h"

/* Feeds b in chunks of step bytes (0: all at once) and finishes with keys. */
static int run(const bytes *b, size_t step, const rp_key *const *keys, size_t n_keys, rp_package_check *ret_check,
               rp_package_stream_result *ret, rp_error *err) {
        _cleanup_(rp_package_stream_freep) rp_package_stream *s = NULL;
        assert_int_equal(rp_package_stream_new(&s, err), 0);
        int r = 0;
        for (size_t off = 0; off < b->n && r == 0; off += step ? step : b->n) {
                size_t k = step && b->n - off > step ? step : b->n - off;
                r = rp_package_stream_feed(s, b->d + off, k, err);
        }
        if (r == 0)
                r = rp_package_stream_finish(s, keys, n_keys, ret, err);
        *ret_check = rp_package_stream_refused(s);
        return r;
}

static void expect_accepted(const bytes *b, const rp_key *const *keys, size_t n_keys, size_t want_index) {
        static const size_t steps[] = { 0, 1, 7, 511, 512, 513, 4096 };
        uint8_t digest[RP_SHA256_LEN];
        assert_int_equal(rp_sha256(b->d, b->n, digest), 0);
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                rp_error err = {};
                rp_package_check check;
                rp_package_stream_result res = {};
                if (run(b, steps[i], keys, n_keys, &check, &res, &err) != 0)
                        fail_msg("step %zu: %s", steps[i], err.message);
                assert_int_equal(check, RP_PACKAGE_CHECK_NONE);
                assert_int_equal(res.key_index, want_index);
                assert_int_equal(res.size, b->n);
                assert_memory_equal(res.sha256, digest, sizeof digest);
                assert_string_equal(res.manifest->component_id, CID);
                rp_package_stream_result_done(&res);
                assert_null(res.manifest);
        }
}

/* Refused as check with code, and the message the buffer reader gives
 * (open, then verify with key), whatever the chunking. */
static void expect_refused(const bytes *b, const rp_key *key, rp_package_check want, int code, const char *needle) {
        rp_error berr = {};
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int br = rp_package_open_buffer(b->d, b->n, &p, &berr);
        if (br == 0)
                br = rp_package_verify(p, key, &berr);
        static const size_t steps[] = { 0, 1, 100, 4096 };
        for (size_t i = 0; i < ELEMENTSOF(steps); i++) {
                rp_error err = {};
                rp_package_check check;
                rp_package_stream_result res = {};
                assert_int_equal(run(b, steps[i], &key, 1, &check, &res, &err), code);
                assert_int_equal(check, want);
                assert_null(res.manifest);
                check_msg(&err, needle);
                if (want != RP_PACKAGE_CHECK_SIGNATURE) {
                        assert_int_equal(br, code);
                        assert_string_equal(err.message, berr.message);
                }
        }
}

static void test_accepts(void **state) {
        (void) state;
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        const rp_key *one[] = { es256 };
        expect_accepted(&b, one, 1, 0);
        bytes_done(&b);

        rp_package_manifest os = {
                .format = 1, .component_id = CID, .type = RP_IMAGE_TYPE_OS, .name = (char *) "os",
                .image_size = sizeof os_image,
        };
        assert_int_equal(rp_sha256(os_image, sizeof os_image, os.image_sha256), 0);
        b = make_package(ed25519, &os, os_image, sizeof os_image);
        const rp_key *ed[] = { ed25519 };
        expect_accepted(&b, ed, 1, 0);
        bytes_done(&b);
}

/* The key the package names is tried first; keys of the other algorithm
 * and other keys are passed over; the index says which verified. */
static void test_keys(void **state) {
        (void) state;
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        const rp_key *keys[] = { ed25519, es256_other, es256 };
        expect_accepted(&b, keys, 3, 2);
        const rp_key *first[] = { es256, ed25519 };
        expect_accepted(&b, first, 2, 0);

        /* None of them: the message names the package's key id. */
        uint8_t id[RP_KEY_ID_LEN];
        char hex[2 * RP_KEY_ID_LEN + 1];
        rp_key_id(es256, id);
        rp_hex_encode_buf(id, sizeof id, hex);
        const rp_key *others[] = { ed25519, es256_other };
        rp_error err = {};
        rp_package_check check;
        rp_package_stream_result res = {};
        assert_int_equal(run(&b, 100, others, 2, &check, &res, &err), -EKEYREJECTED);
        assert_int_equal(check, RP_PACKAGE_CHECK_SIGNATURE);
        check_msg(&err, "none of the 2 keys given verifies it");
        check_msg(&err, hex);
        assert_int_equal(run(&b, 100, NULL, 0, &check, &res, &err), -EKEYREJECTED);
        assert_int_equal(check, RP_PACKAGE_CHECK_SIGNATURE);

        /* The named key, but the signature modified: its own failure. */
        b.d[b.n - sizeof image - 1] ^= 1;
        const rp_key *named[] = { es256_other, es256 };
        assert_int_equal(run(&b, 0, named, 2, &check, &res, &err), -EKEYREJECTED);
        assert_int_equal(check, RP_PACKAGE_CHECK_SIGNATURE);
        check_msg(&err, "the signed manifest or the signature was modified");
        bytes_done(&b);
}

static void test_refusals(void **state) {
        (void) state;
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);

        /* The image: one byte changed, cut short, one byte more. */
        b.d[b.n - 1] ^= 1;
        expect_refused(&b, es256, RP_PACKAGE_CHECK_IMAGE, -EKEYREJECTED, "image digest mismatch");
        b.d[b.n - 1] ^= 1;
        expect_refused(&(bytes) { b.d, b.n - 1 }, es256, RP_PACKAGE_CHECK_IMAGE, -EBADMSG, "truncated package");
        bytes padded = {};
        append(&padded, b.d, b.n);
        append(&padded, "x", 1);
        expect_refused(&padded, es256, RP_PACKAGE_CHECK_IMAGE, -EBADMSG, "padded package");
        bytes_done(&padded);
        /* Another key. */
        expect_refused(&b, es256_other, RP_PACKAGE_CHECK_SIGNATURE, -EKEYREJECTED, "signature not verified");
        /* Not a package: nothing, a cut envelope, garbage. */
        expect_refused(&(bytes) { b.d, 0 }, es256, RP_PACKAGE_CHECK_FORMAT, -EBADMSG, "empty file");
        expect_refused(&(bytes) { b.d, 100 }, es256, RP_PACKAGE_CHECK_FORMAT, -EBADMSG, "truncated image package");
        static uint8_t junk[] = "\xff not a package";
        expect_refused(&(bytes) { junk, sizeof junk - 1 }, es256, RP_PACKAGE_CHECK_FORMAT, -EINVAL,
                       "not an image package");
        bytes_done(&b);

        /* An app image that is not erofs. */
        rp_package_manifest bad = app_manifest();
        bad.image_size = sizeof os_image;
        assert_int_equal(rp_sha256(os_image, sizeof os_image, bad.image_sha256), 0);
        b = make_package(es256, &bad, os_image, sizeof os_image);
        expect_refused(&b, es256, RP_PACKAGE_CHECK_IMAGE, -EINVAL, "not an erofs filesystem");
        bytes_done(&b);
}

/* More than the envelope limit of bytes that are no envelope: refused as
 * the window fills, before the rest arrives; then the stream only says so
 * again. */
static void test_early_refusal(void **state) {
        (void) state;
        size_t n = RP_COSE_MAX_SIZE + 10;
        uint8_t *big = malloc(n);
        assert_non_null(big);
        /* A byte string head declaring more than the limit. */
        memset(big, 0, n);
        big[0] = 0xd2;
        big[1] = 0x84;
        big[2] = 0x5a;
        big[3] = 0x7f;
        rp_error err = {};
        _cleanup_(rp_package_stream_freep) rp_package_stream *s = NULL;
        assert_int_equal(rp_package_stream_new(&s, &err), 0);
        assert_int_equal(rp_package_stream_feed(s, big, RP_COSE_MAX_SIZE, &err), 0);
        assert_int_equal(rp_package_stream_feed(s, big + RP_COSE_MAX_SIZE, 10, &err), -EFBIG);
        check_msg(&err, "larger than the limit");
        assert_int_equal(rp_package_stream_refused(s), RP_PACKAGE_CHECK_FORMAT);
        rp_error again = {};
        assert_int_equal(rp_package_stream_feed(s, big, 1, &again), -EFBIG);
        assert_string_equal(again.message, err.message);
        rp_package_stream_result res = {};
        assert_int_equal(rp_package_stream_finish(s, NULL, 0, &res, &again), -EFBIG);
        /* The buffer reader says the same. */
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error berr = {};
        assert_int_equal(rp_package_open_buffer(big, n, &p, &berr), -EFBIG);
        assert_string_equal(berr.message, err.message);
        free(big);
}

static void test_finish_once(void **state) {
        (void) state;
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        rp_error err = {};
        _cleanup_(rp_package_stream_freep) rp_package_stream *s = NULL;
        assert_int_equal(rp_package_stream_new(&s, &err), 0);
        assert_string_equal(rp_package_stream_kid(s), "");
        assert_int_equal(rp_package_stream_feed(s, b.d, b.n, &err), 0);
        uint8_t id[RP_KEY_ID_LEN];
        char hex[2 * RP_KEY_ID_LEN + 1];
        rp_key_id(es256, id);
        rp_hex_encode_buf(id, sizeof id, hex);
        assert_string_equal(rp_package_stream_kid(s), hex);
        const rp_key *keys[] = { es256 };
        _cleanup_(rp_package_stream_result_done) rp_package_stream_result res = {};
        assert_int_equal(rp_package_stream_finish(s, keys, 1, &res, &err), 0);
        rp_package_stream_result res2 = {};
        assert_int_equal(rp_package_stream_finish(s, keys, 1, &res2, &err), -EINVAL);
        assert_int_equal(rp_package_stream_feed(s, b.d, 1, &err), -EINVAL);
        assert_null(res2.manifest);
        bytes_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_accepts),
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_early_refusal),
                cmocka_unit_test(test_finish_once),
        };
        return test_exit(cmocka_run_group_tests(tests, package_fixtures_setup, package_fixtures_teardown));
}
