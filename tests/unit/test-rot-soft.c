/* SPDX-License-Identifier: Apache-2.0 */
/* The soft root of trust through the backend interface (rot.h): provision,
 * open, keys, counters, sealing, and D/rot.conf. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/rot.h"
#include "testlib.h"

static const rp_rot_backend *const B = &rp_rot_backend_soft;

static void pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}

/* A new provisioned state directory under the test's tmpdir. */
static char *provisioned(const char *name) {
        char *dir = test_path(test_tmpdir(), name);
        rp_rot_config cfg = { .state_dir = dir };
        rp_error err = {};
        if (B->provision(&cfg, &err) < 0)
                fail_msg("provision %s: %s", dir, err.message);
        return dir;
}

static rp_rot *open_rot(const char *dir) {
        rp_rot_config cfg = { .state_dir = dir };
        rp_rot *rot = NULL;
        rp_error err = {};
        if (rp_rot_open(&cfg, &rot, &err) < 0)
                fail_msg("open %s: %s", dir, err.message);
        return rot;
}

static void expect_open_fails(const char *dir, int code, const char *msg) {
        rp_rot_config cfg = { .state_dir = dir };
        rp_rot *rot = (rp_rot *) 0x1;
        rp_error err = {};
        int r = rp_rot_open(&cfg, &rot, &err);
        if (r != code)
                fail_msg("open %s: expected %d, got %d (%s)", dir, code, r, err.message);
        if (!strstr(err.message, msg))
                fail_msg("message '%s' lacks '%s'", err.message, msg);
        assert_ptr_equal(rot, (rp_rot *) 0x1);
}

static void measurement(uint8_t m[32], uint8_t fill) {
        memset(m, fill, 32);
}

static void bind(rp_rot *rot, uint8_t fill) {
        uint8_t m[32];
        measurement(m, fill);
        assert_int_equal(rot->backend->bind_measurement(rot->state, m, NULL), 0);
}

static void key_id(EVP_PKEY *k, char id[RP_DEVICE_ID_HEX_LEN + 1]) {
        assert_int_equal(rp_device_id(k, id), 0);
}

static void deviceid_of(rp_rot *rot, char id[RP_DEVICE_ID_HEX_LEN + 1]) {
        _cleanup_(pkey_freep) EVP_PKEY *k = NULL;
        assert_int_equal(rot->backend->deviceid_public(rot->state, &k, NULL), 0);
        key_id(k, id);
}

static void alias_of(rp_rot *rot, char id[RP_DEVICE_ID_HEX_LEN + 1]) {
        _cleanup_(pkey_freep) EVP_PKEY *k = NULL;
        assert_int_equal(rot->backend->alias_public(rot->state, &k, NULL), 0);
        key_id(k, id);
}

/* 1 if sig (r||s) verifies over digest with pub, 0 if not. */
static int verify(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t sig[64]) {
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        assert_int_equal(rp_ecdsa_sig_to_der(sig, &der, &len), 0);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
        int r = EVP_PKEY_verify(ctx, der, len, digest, 32);
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return r == 1;
}

static void assert_mode(const char *dir, const char *name, unsigned mode) {
        _cleanup_free_ char *p = test_path(dir, name);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        if ((st.st_mode & 07777) != mode)
                fail_msg("%s: mode %04o, expected %04o", p, st.st_mode & 07777, mode);
}

/* ---- provisioning and keys ---------------------------------------------- */

static void test_provision(void **state) {
        _cleanup_free_ char *dir = provisioned("provision");
        assert_mode(dir, ".", 0700);
        assert_mode(dir, "uds", 0600);
        assert_mode(dir, "counters", 0600);
        assert_mode(dir, "rot.conf", 0644);
        _cleanup_free_ char *uds = test_path(dir, "uds"), *conf = test_path(dir, "rot.conf");
        size_t len;
        _cleanup_free_ uint8_t *secret = test_read_file(uds, &len);
        assert_int_equal(len, 32);
        _cleanup_free_ uint8_t *text = test_read_file(conf, &len);
        assert_string_equal((char *) text, "backend=soft\n");

        /* Never twice: the secret stays. */
        rp_rot_config cfg = { .state_dir = dir };
        rp_error err = {};
        assert_int_equal(B->provision(&cfg, &err), -EEXIST);
        assert_non_null(strstr(err.message, "already provisioned"));
        _cleanup_free_ uint8_t *again = test_read_file(uds, &len);
        assert_memory_equal(secret, again, 32);
        /* Not even with rot.conf gone. */
        assert_int_equal(unlink(conf), 0);
        assert_int_equal(B->provision(&cfg, &err), -EEXIST);
        assert_non_null(strstr(err.message, "uds exists"));

        /* Two devices, two secrets. */
        _cleanup_free_ char *other = provisioned("provision-other");
        _cleanup_free_ char *uds2 = test_path(other, "uds");
        _cleanup_free_ uint8_t *secret2 = test_read_file(uds2, &len);
        assert_memory_not_equal(secret, secret2, 32);

        /* A state directory that cannot be made. */
        _cleanup_free_ char *deep = test_path(dir, "a/b");
        cfg.state_dir = deep;
        assert_int_equal(B->provision(&cfg, &err), -ENOENT);
        assert_non_null(strstr(err.message, "cannot create the state directory"));
}

static void test_keys(void **state) {
        _cleanup_free_ char *dir = provisioned("keys");
        rp_rot *rot = open_rot(dir);
        assert_ptr_equal(rot->backend, B);
        assert_true(rot->backend->development);
        assert_string_equal(rot->backend->name, "soft");
        char dev[65], dev2[65], alias[65], alias2[65];
        deviceid_of(rot, dev);

        /* The DeviceID is derive_p256(UDS, "rampart DeviceID"). */
        _cleanup_free_ char *uds_path = test_path(dir, "uds");
        _cleanup_free_ uint8_t *uds = test_read_file(uds_path, NULL);
        _cleanup_(pkey_freep) EVP_PKEY *derived = NULL;
        assert_int_equal(rp_dice_derive_p256(uds, "rampart DeviceID", &derived, NULL), 0);
        key_id(derived, dev2);
        assert_string_equal(dev, dev2);

        /* The Alias key needs a measurement first. */
        EVP_PKEY *k = NULL;
        uint8_t digest[32], sig[64];
        rp_error err = {};
        assert_int_equal(rp_sha256("msg", 3, digest), 0);
        assert_int_equal(rot->backend->alias_public(rot->state, &k, &err), -EPERM);
        assert_non_null(strstr(err.message, "no measurement bound yet"));
        assert_int_equal(rot->backend->alias_sign(rot->state, digest, sig, &err), -EPERM);
        assert_null(k);

        bind(rot, 0xa5);
        alias_of(rot, alias);
        assert_string_not_equal(alias, dev);

        /* Signatures verify with the public keys, each with its own. */
        _cleanup_(pkey_freep) EVP_PKEY *dev_pub = NULL, *alias_pub = NULL;
        assert_int_equal(rot->backend->deviceid_public(rot->state, &dev_pub, NULL), 0);
        assert_int_equal(rot->backend->alias_public(rot->state, &alias_pub, NULL), 0);
        /* Public halves only: a caller never gets the secret. */
        assert_int_equal(EVP_PKEY_get_bn_param(dev_pub, "priv", &(BIGNUM *){ NULL }), 0);
        ERR_clear_error();
        assert_int_equal(rot->backend->deviceid_sign(rot->state, digest, sig, NULL), 0);
        assert_true(verify(dev_pub, digest, sig));
        assert_false(verify(alias_pub, digest, sig));
        assert_int_equal(rot->backend->alias_sign(rot->state, digest, sig, NULL), 0);
        assert_true(verify(alias_pub, digest, sig));
        assert_false(verify(dev_pub, digest, sig));

        /* Another measurement, another Alias key; back again, the same. */
        bind(rot, 0xa6);
        alias_of(rot, alias2);
        assert_string_not_equal(alias, alias2);
        bind(rot, 0xa5);
        alias_of(rot, alias2);
        assert_string_equal(alias, alias2);
        rp_rot_close(rot);

        /* Stable across reopening. */
        rot = open_rot(dir);
        deviceid_of(rot, dev2);
        assert_string_equal(dev, dev2);
        bind(rot, 0xa5);
        alias_of(rot, alias2);
        assert_string_equal(alias, alias2);
        rp_rot_close(rot);

        /* Another device: another DeviceID, another Alias for the same software. */
        _cleanup_free_ char *other = provisioned("keys-other");
        rot = open_rot(other);
        deviceid_of(rot, dev2);
        assert_string_not_equal(dev, dev2);
        bind(rot, 0xa5);
        alias_of(rot, alias2);
        assert_string_not_equal(alias, alias2);
        rp_rot_close(rot);
        rp_rot_close(NULL);
        B->close(NULL);
}

/* ---- counters ------------------------------------------------------------ */

static uint64_t counter(rp_rot *rot, unsigned i) {
        uint64_t v = 0x5a5a;
        rp_error err = {};
        if (rot->backend->counter_read(rot->state, i, &v, &err) < 0)
                fail_msg("counter %u: %s", i, err.message);
        return v;
}

static void test_counters(void **state) {
        _cleanup_free_ char *dir = provisioned("counters");
        rp_rot *rot = open_rot(dir);
        for (unsigned i = 0; i < RP_ROT_COUNTERS; i++)
                assert_int_equal(counter(rot, i), 0);

        uint64_t v = 0;
        rp_error err = {};
        assert_int_equal(rot->backend->counter_advance(rot->state, 3, 5, &v, &err), 0);
        assert_int_equal(v, 5);
        assert_int_equal(counter(rot, 3), 5);
        /* The same value: fine, nothing changes. */
        v = 0;
        assert_int_equal(rot->backend->counter_advance(rot->state, 3, 5, &v, &err), 0);
        assert_int_equal(v, 5);
        /* Back: refused, and the counter stays. */
        v = 77;
        assert_int_equal(rot->backend->counter_advance(rot->state, 3, 4, &v, &err), -ERANGE);
        assert_non_null(strstr(err.message, "counter 3 is at 5; going to 4 would be a rollback"));
        assert_int_equal(v, 77);
        assert_int_equal(rot->backend->counter_advance(rot->state, 3, 0, &v, &err), -ERANGE);
        assert_int_equal(counter(rot, 3), 5);
        /* The largest value, on another counter; the others stay at 0. */
        assert_int_equal(rot->backend->counter_advance(rot->state, 7, UINT64_MAX, &v, &err), 0);
        assert_true(v == UINT64_MAX);
        for (unsigned i = 0; i < RP_ROT_COUNTERS; i++)
                assert_true(counter(rot, i) == (i == 3 ? 5 : i == 7 ? UINT64_MAX : 0));

        /* Counters that do not exist. */
        assert_int_equal(rot->backend->counter_read(rot->state, RP_ROT_COUNTERS, &v, &err), -EINVAL);
        assert_non_null(strstr(err.message, "counter 8 does not exist (0 to 7)"));
        assert_int_equal(rot->backend->counter_advance(rot->state, RP_ROT_COUNTERS, 1, &v, &err), -EINVAL);
        rp_rot_close(rot);

        /* Persisted. */
        rot = open_rot(dir);
        assert_int_equal(counter(rot, 3), 5);
        assert_true(counter(rot, 7) == UINT64_MAX);
        assert_int_equal(rot->backend->counter_advance(rot->state, 3, 4, &v, &err), -ERANGE);
        rp_rot_close(rot);
}

/* The text of a counters file with these values (what the format says),
 * with a correct checksum. Each value as the caller spells it. */
static char *counters_text(const char *const values[8]) {
        char body[1024];
        size_t n = (size_t) snprintf(body, sizeof body, "rampart-counters 1\n");
        for (unsigned i = 0; i < 8; i++)
                n += (size_t) snprintf(body + n, sizeof body - n, "%u %s\n", i, values[i]);
        uint8_t sum[32];
        assert_int_equal(rp_sha256(body, n, sum), 0);
        char hex[65];
        rp_hex_encode_buf(sum, 32, hex);
        char *out;
        assert_true(asprintf(&out, "%ssha256 %s\n", body, hex) > 0);
        return out;
}

static void test_counters_format(void **state) {
        _cleanup_free_ char *dir = provisioned("counters-format");
        _cleanup_free_ char *path = test_path(dir, "counters");
        /* What provisioning wrote is the documented text. */
        const char *const zeros[8] = { "0", "0", "0", "0", "0", "0", "0", "0" };
        _cleanup_free_ char *want = counters_text(zeros);
        _cleanup_free_ uint8_t *got = test_read_file(path, NULL);
        assert_string_equal((char *) got, want);

        /* A file written by hand in the format is read. */
        const char *const vals[8] = { "1", "0", "18446744073709551615", "42", "0", "0", "0", "9" };
        _cleanup_free_ char *text = counters_text(vals);
        test_write_file(path, text, strlen(text));
        rp_rot *rot = open_rot(dir);
        assert_int_equal(counter(rot, 0), 1);
        assert_true(counter(rot, 2) == UINT64_MAX);
        assert_int_equal(counter(rot, 3), 42);
        assert_int_equal(counter(rot, 7), 9);
        rp_rot_close(rot);
}

static void expect_counters_refused(const char *dir, const char *text, size_t len, const char *what) {
        _cleanup_free_ char *path = test_path(dir, "counters");
        /* Open a good state first: the check must also hold for reads. */
        const char *const vals[8] = { "0", "0", "0", "0", "0", "0", "0", "0" };
        _cleanup_free_ char *good = counters_text(vals);
        test_write_file(path, good, strlen(good));
        rp_rot *rot = open_rot(dir);

        test_write_file(path, text, len);
        uint64_t v = 12345;
        rp_error err = {};
        int r = rot->backend->counter_read(rot->state, 0, &v, &err);
        if (r != -EBADMSG || !strstr(err.message, "corrupt"))
                fail_msg("%s: counter_read gave %d (%s)", what, r, err.message);
        assert_int_equal(v, 12345);
        r = rot->backend->counter_advance(rot->state, 0, 1, &v, &err);
        if (r != -EBADMSG)
                fail_msg("%s: counter_advance gave %d (%s)", what, r, err.message);
        rp_rot_close(rot);
        expect_open_fails(dir, -EBADMSG, "corrupt");
        /* The file is left for a person to look at. */
        size_t got_len;
        _cleanup_free_ uint8_t *got = test_read_file(path, &got_len);
        assert_int_equal(got_len, len);
        assert_memory_equal(got, text, len);
}

static void test_counters_corrupt(void **state) {
        _cleanup_free_ char *dir = provisioned("counters-corrupt");
        const char *const vals[8] = { "0", "0", "0", "5", "0", "0", "0", "0" };
        _cleanup_free_ char *good = counters_text(vals);
        size_t len = strlen(good);

        /* A changed digit (checksum no longer matches), in a value and in the sum. */
        _cleanup_free_ char *bad = strdup(good);
        char *five = strstr(bad, "3 5\n");
        five[2] = '6';
        expect_counters_refused(dir, bad, len, "changed value");
        strcpy(bad, good);
        bad[len - 2] = bad[len - 2] == '0' ? '1' : '0';
        expect_counters_refused(dir, bad, len, "changed checksum");
        /* Truncated anywhere, empty. */
        for (size_t n = 0; n < len; n += 7)
                expect_counters_refused(dir, good, n, "truncated");
        expect_counters_refused(dir, good, len - 1, "no final newline");
        /* Bytes added after the checksum line. */
        _cleanup_free_ char *longer = NULL;
        assert_true(asprintf(&longer, "%s\n", good) > 0);
        expect_counters_refused(dir, longer, len + 1, "trailing newline");
        /* Correct checksums over text that is not the canonical form. */
        const char *const lead0[8] = { "0", "0", "0", "05", "0", "0", "0", "0" };
        const char *const plus[8] = { "0", "0", "0", "+5", "0", "0", "0", "0" };
        const char *const space[8] = { "0", "0", "0", " 5", "0", "0", "0", "0" };
        const char *const over[8] = { "0", "0", "0", "18446744073709551616", "0", "0", "0", "0" };
        const char *const neg[8] = { "0", "0", "0", "-1", "0", "0", "0", "0" };
        const char *const empty[8] = { "0", "0", "0", "", "0", "0", "0", "0" };
        const char *const *forms[] = { lead0, plus, space, over, neg, empty };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                _cleanup_free_ char *t = counters_text(forms[i]);
                expect_counters_refused(dir, t, strlen(t), forms[i][3]);
        }
        /* Another magic line, lines out of order. */
        strcpy(bad, good);
        bad[17] = '2';
        expect_counters_refused(dir, bad, len, "format 2");
        _cleanup_free_ char *swapped = strdup(good);
        char *l3 = strstr(swapped, "\n3 5\n");
        l3[1] = '4';
        char *l4 = strstr(swapped, "\n4 0\n");
        l4[1] = '3';
        expect_counters_refused(dir, swapped, len, "lines swapped");
        /* Over the size limit. */
        char huge[1100];
        memset(huge, '0', sizeof huge);
        expect_counters_refused(dir, huge, sizeof huge, "too large");

        /* Missing: an error too, never zeros. */
        _cleanup_free_ char *path = test_path(dir, "counters");
        assert_int_equal(unlink(path), 0);
        expect_open_fails(dir, -ENOENT, "counters: missing");
}

/* ---- sealing --------------------------------------------------------------- */

static void seal(rp_rot *rot, const void *data, size_t len, uint8_t **blob, size_t *blob_len) {
        rp_error err = {};
        if (rot->backend->seal(rot->state, data, len, blob, blob_len, &err) < 0)
                fail_msg("seal: %s", err.message);
}

static int unseal(rp_rot *rot, const void *blob, size_t len, rp_error *err, uint8_t **data, size_t *data_len) {
        return rot->backend->unseal(rot->state, blob, len, data, data_len, err);
}

static void test_seal_roundtrip(void **state) {
        _cleanup_free_ char *dir = provisioned("seal");
        rp_rot *rot = open_rot(dir);
        uint8_t *blob = NULL, *data = NULL;
        size_t blob_len, len;
        rp_error err = {};
        assert_int_equal(rot->backend->seal(rot->state, "x", 1, &blob, &blob_len, &err), -EPERM);
        assert_non_null(strstr(err.message, "seal: no measurement bound yet"));
        assert_int_equal(unseal(rot, "x", 1, &err, &data, &len), -EPERM);
        bind(rot, 1);

        size_t sizes[] = { 0, 1, 100, RP_ROT_SEAL_MAX };
        static uint8_t plain[RP_ROT_SEAL_MAX + 1];
        for (size_t i = 0; i < sizeof plain; i++)
                plain[i] = (uint8_t) (i * 31);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                seal(rot, plain, sizes[i], &blob, &blob_len);
                assert_int_equal(blob_len, 1 + 12 + sizes[i] + 16);
                assert_int_equal(blob[0], 1);
                if (sizes[i] > 16)
                        assert_null(memmem(blob, blob_len, plain, 16));   /* encrypted */
                assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), 0);
                assert_int_equal(len, sizes[i]);
                assert_memory_equal(data, plain, len);
                free(data);

                /* A second seal of the same data: another nonce, other bytes. */
                uint8_t *blob2;
                size_t blob2_len;
                seal(rot, plain, sizes[i], &blob2, &blob2_len);
                assert_memory_not_equal(blob, blob2, blob_len);
                free(blob2);
                free(blob);
        }

        /* Survives reopening (same device, same measurement). */
        seal(rot, "secret", 6, &blob, &blob_len);
        rp_rot_close(rot);
        rot = open_rot(dir);
        bind(rot, 1);
        assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), 0);
        assert_int_equal(len, 6);
        assert_memory_equal(data, "secret", 6);
        free(data);
        free(blob);

        /* Limits. */
        data = NULL;
        assert_int_equal(rot->backend->seal(rot->state, plain, RP_ROT_SEAL_MAX + 1, &blob, &blob_len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "seal: 4097 bytes, the limit is 4096"));
        static uint8_t big[RP_ROT_SEALED_MAX + 1];
        big[0] = 1;
        assert_int_equal(unseal(rot, big, sizeof big, &err, &data, &len), -EFBIG);
        assert_non_null(strstr(err.message, "unseal: 8193 bytes, the limit is 8192"));
        /* Just under the limit: a well-formed size that opens as nothing. */
        assert_int_equal(unseal(rot, big, RP_ROT_SEALED_MAX, &err, &data, &len), -EKEYREJECTED);
        assert_int_equal(unseal(rot, big, 28, &err, &data, &len), -EBADMSG);
        assert_non_null(strstr(err.message, "unseal: 28 bytes, shorter than any sealed blob (29)"));
        assert_null(data);
        rp_rot_close(rot);
}

static void test_seal_tampered(void **state) {
        _cleanup_free_ char *dir = provisioned("seal-tampered");
        rp_rot *rot = open_rot(dir);
        bind(rot, 1);
        uint8_t *blob, *data = NULL;
        size_t blob_len, len;
        seal(rot, "the sealed secret", 17, &blob, &blob_len);
        rp_error err = {};
        /* Every byte of nonce, ciphertext and tag. */
        for (size_t i = 1; i < blob_len; i++) {
                blob[i] ^= 0x01;
                assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), -EKEYREJECTED);
                blob[i] ^= 0x01;
        }
        assert_non_null(strstr(err.message, "sealed for another device or another measurement, or altered"));
        /* Another version byte. */
        blob[0] = 2;
        assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "blob version 2"));
        blob[0] = 1;
        /* Cut short, or with a byte more. */
        assert_int_equal(unseal(rot, blob, blob_len - 1, &err, &data, &len), -EKEYREJECTED);
        uint8_t *longer = malloc(blob_len + 1);
        memcpy(longer, blob, blob_len);
        longer[blob_len] = 0;
        assert_int_equal(unseal(rot, longer, blob_len + 1, &err, &data, &len), -EKEYREJECTED);
        free(longer);
        assert_null(data);
        assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), 0);
        free(data);
        free(blob);
        rp_rot_close(rot);
}

static void test_seal_bound(void **state) {
        _cleanup_free_ char *dir = provisioned("seal-bound");
        rp_rot *rot = open_rot(dir);
        bind(rot, 1);
        uint8_t *blob, *data = NULL;
        size_t blob_len, len;
        seal(rot, "bound", 5, &blob, &blob_len);
        rp_error err = {};

        /* Another measurement: refused. */
        bind(rot, 2);
        assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "sealed for another device or another measurement"));
        bind(rot, 1);
        assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), 0);
        free(data);
        data = NULL;
        rp_rot_close(rot);

        /* Another device, the same measurement: refused. */
        _cleanup_free_ char *other = provisioned("seal-bound-other");
        rot = open_rot(other);
        bind(rot, 1);
        assert_int_equal(unseal(rot, blob, blob_len, &err, &data, &len), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "sealed for another device or another measurement"));
        assert_null(data);
        rp_rot_close(rot);
        free(blob);
}

/* AES-256-GCM with OpenSSL directly, as docs/formats.md describes a blob:
 * 01 || nonce || ciphertext || tag, AAD 01 || device id. */
static size_t gcm(bool enc, const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, uint8_t *out, uint8_t tag[16]) {
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n = 0, fin = 0;
        assert_int_equal(EVP_CipherInit_ex2(ctx, EVP_aes_256_gcm(), key, nonce, enc, NULL), 1);
        assert_int_equal(EVP_CipherUpdate(ctx, NULL, &n, aad, (int) aad_len), 1);
        assert_int_equal(EVP_CipherUpdate(ctx, out, &n, in, (int) len), 1);
        if (!enc)
                assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, tag), 1);
        assert_int_equal(EVP_CipherFinal_ex(ctx, out + n, &fin), 1);
        if (enc)
                assert_int_equal(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, tag), 1);
        EVP_CIPHER_CTX_free(ctx);
        return (size_t) (n + fin);
}

static void test_seal_format(void **state) {
        _cleanup_free_ char *dir = provisioned("seal-format");
        rp_rot *rot = open_rot(dir);
        bind(rot, 7);
        /* The seal key and the AAD, from the documented derivation. */
        _cleanup_free_ char *uds_path = test_path(dir, "uds");
        _cleanup_free_ uint8_t *uds = test_read_file(uds_path, NULL);
        uint8_t m[32], cdi[32], key[32], aad[33];
        measurement(m, 7);
        assert_int_equal(rp_dice_cdi(uds, m, cdi), 0);
        assert_int_equal(rp_dice_seal_key(cdi, key), 0);
        char id[65];
        deviceid_of(rot, id);
        aad[0] = 1;
        assert_int_equal(rp_hex_decode(id, aad + 1, 32), 0);

        /* A blob the backend made opens with the documented format. */
        uint8_t *blob, *data = NULL;
        size_t blob_len, len;
        seal(rot, "format", 6, &blob, &blob_len);
        uint8_t out[6];
        assert_int_equal(gcm(false, key, blob + 1, aad, sizeof aad, blob + 13, 6, out, blob + 19), 6);
        assert_memory_equal(out, "format", 6);
        free(blob);

        /* A blob made here opens in the backend; with another AAD, not. */
        uint8_t mine[1 + 12 + 5 + 16] = { 1, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9, 9 };
        gcm(true, key, mine + 1, aad, sizeof aad, (const uint8_t *) "hello", 5, mine + 13, mine + 18);
        rp_error err = {};
        assert_int_equal(unseal(rot, mine, sizeof mine, &err, &data, &len), 0);
        assert_int_equal(len, 5);
        assert_memory_equal(data, "hello", 5);
        free(data);
        data = NULL;
        memset(aad + 1, 0, 32);
        gcm(true, key, mine + 1, aad, sizeof aad, (const uint8_t *) "hello", 5, mine + 13, mine + 18);
        assert_int_equal(unseal(rot, mine, sizeof mine, &err, &data, &len), -EKEYREJECTED);
        aad[0] = 2;
        assert_int_equal(rp_hex_decode(id, aad + 1, 32), 0);
        gcm(true, key, mine + 1, aad, sizeof aad, (const uint8_t *) "hello", 5, mine + 13, mine + 18);
        assert_int_equal(unseal(rot, mine, sizeof mine, &err, &data, &len), -EKEYREJECTED);
        assert_null(data);
        rp_rot_close(rot);
}

/* ---- the device secret file ------------------------------------------------ */

static void test_uds_file(void **state) {
        _cleanup_free_ char *dir = provisioned("uds-file");
        _cleanup_free_ char *uds = test_path(dir, "uds");
        unsigned modes[] = { 0644, 0640, 0604, 0620, 0602, 0610, 0601 };
        for (size_t i = 0; i < ELEMENTSOF(modes); i++) {
                assert_int_equal(chmod(uds, modes[i]), 0);
                char want[64];
                snprintf(want, sizeof want, "uds: mode %04o lets other users at the device secret", modes[i]);
                expect_open_fails(dir, -EPERM, want);
        }
        assert_int_equal(chmod(uds, 0400), 0);
        rp_rot_close(open_rot(dir));
        assert_int_equal(chmod(uds, 0600), 0);
        rp_rot_close(open_rot(dir));

        size_t len;
        _cleanup_free_ uint8_t *secret = test_read_file(uds, &len);
        test_write_file(uds, secret, 31);
        expect_open_fails(dir, -EBADMSG, "uds: 31 bytes; a device secret is 32 bytes");
        uint8_t more[33] = {};
        test_write_file(uds, more, 33);
        expect_open_fails(dir, -EBADMSG, "uds: 33 bytes");

        /* A symbolic link in its place, another owner, no file. */
        _cleanup_free_ char *real = test_path(dir, "uds.real");
        test_write_file(real, secret, 32);
        assert_int_equal(chmod(real, 0600), 0);
        assert_int_equal(unlink(uds), 0);
        assert_int_equal(symlink(real, uds), 0);
        expect_open_fails(dir, -ELOOP, "uds: is a symbolic link");
        assert_int_equal(unlink(uds), 0);
        assert_int_equal(rename(real, uds), 0);
        rp_rot_close(open_rot(dir));
        if (geteuid() == 0) {
                assert_int_equal(chown(uds, 1, 1), 0);
                expect_open_fails(dir, -EPERM, "owned by uid 1, not by this user (uid 0)");
                assert_int_equal(chown(uds, 0, 0), 0);
        }
        assert_int_equal(unlink(uds), 0);
        expect_open_fails(dir, -ENOENT, "uds: missing");
}

/* ---- rot.conf ----------------------------------------------------------------- */

static void write_conf(const char *dir, const char *text, size_t len) {
        _cleanup_free_ char *p = test_path(dir, "rot.conf");
        test_write_file(p, text, len);
}

#define CONF(dir, s) write_conf(dir, s, sizeof(s) - 1)

static void test_rot_conf(void **state) {
        assert_ptr_equal(rp_rot_backend_find("soft"), &rp_rot_backend_soft);
        assert_null(rp_rot_backend_find("nosuch"));
        assert_null(rp_rot_backend_find(NULL));
        assert_null(rp_rot_backend_find(""));
        char names[64];
        rp_rot_backend_names(names, sizeof names);
        assert_non_null(strstr(names, "soft"));

        _cleanup_free_ char *dir = provisioned("conf");
        /* Accepted: comments, empty lines, no final newline, a tpm= line
         * (the soft backend has no use for it). */
        CONF(dir, "# which root of trust\n\nbackend=soft\ntpm=device:/dev/tpmrm0");
        rp_rot_close(open_rot(dir));

        CONF(dir, "backend=soft\ncolor=blue\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:2: unknown key 'color' (known: backend, tpm)");
        CONF(dir, "backend =soft\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:1: unknown key 'backend '");
        CONF(dir, "backend= soft\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:1: the value is empty, over 256 bytes, has spaces");
        CONF(dir, "backend=soft \n");
        expect_open_fails(dir, -EINVAL, "rot.conf:1: the value");
        CONF(dir, "backend=\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:1: the value is empty");
        CONF(dir, "backend=soft\r\n");
        expect_open_fails(dir, -EINVAL, "holds a control character");
        CONF(dir, "backend=soft\nbackend=soft\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:2: backend= given twice");
        CONF(dir, "backend=soft\ntpm=a\ntpm=b\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:3: tpm= given twice");
        CONF(dir, "backend=nosuch\n");
        expect_open_fails(dir, -EOPNOTSUPP, "rot.conf:1: unknown backend 'nosuch' (this build has: soft");
        CONF(dir, "soft\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:1: expected key=value");
        CONF(dir, "# nothing\n");
        expect_open_fails(dir, -EINVAL, "rot.conf: no backend= line");
        CONF(dir, "");
        expect_open_fails(dir, -EINVAL, "no backend= line");
        CONF(dir, "backend=soft\n\0\n");
        expect_open_fails(dir, -EINVAL, "rot.conf: holds a NUL byte");
        CONF(dir, "\x01\x02=x\nbackend=soft\n");
        expect_open_fails(dir, -EINVAL, "rot.conf:1: unknown key ''");
        char big[5000];
        memset(big, '#', sizeof big);
        write_conf(dir, big, sizeof big);
        expect_open_fails(dir, -EFBIG, "rot.conf: file is 5000 bytes, the limit is 4096");
        char value[300];
        int n = snprintf(value, sizeof value, "backend=soft\ntpm=");
        memset(value + n, 'x', 257);
        write_conf(dir, value, (size_t) n + 257);
        expect_open_fails(dir, -EINVAL, "rot.conf:2: the value is empty, over 256 bytes");

        _cleanup_free_ char *conf = test_path(dir, "rot.conf");
        assert_int_equal(unlink(conf), 0);
        expect_open_fails(dir, -ENOENT, "not provisioned");
        rp_rot_config none = {};
        rp_rot *rot = NULL;
        rp_error err = {};
        assert_int_equal(rp_rot_open(&none, &rot, &err), -EINVAL);
        assert_int_equal(rp_rot_open(NULL, &rot, &err), -EINVAL);
        assert_non_null(strstr(err.message, "no state directory"));

        /* rp_rot_write_conf. */
        assert_int_equal(rp_rot_write_conf(dir, "tpm2", "swtpm:host=127.0.0.1,port=2321", &err), 0);
        _cleanup_free_ uint8_t *text = test_read_file(conf, NULL);
        assert_string_equal((char *) text, "backend=tpm2\ntpm=swtpm:host=127.0.0.1,port=2321\n");
        assert_mode(dir, "rot.conf", 0644);
        assert_int_equal(rp_rot_write_conf(dir, "soft", NULL, &err), 0);
        free(text);
        text = test_read_file(conf, NULL);
        assert_string_equal((char *) text, "backend=soft\n");
        const char *bad_names[] = { "", "a=b", "a\nb", NULL };
        for (size_t i = 0; i < ELEMENTSOF(bad_names); i++)
                assert_int_equal(rp_rot_write_conf(dir, bad_names[i], NULL, &err), -EINVAL);
        assert_non_null(strstr(err.message, "the backend name is empty"));
        assert_int_equal(rp_rot_write_conf(dir, "tpm2", "x\ny", &err), -EINVAL);
        assert_non_null(strstr(err.message, "the TPM configuration is empty, over 256 bytes"));
        assert_int_equal(rp_rot_write_conf(dir, "tpm2", "", &err), -EINVAL);
        free(text);
        text = test_read_file(conf, NULL);
        assert_string_equal((char *) text, "backend=soft\n");   /* unchanged by the refusals */
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_provision),
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_counters),
                cmocka_unit_test(test_counters_format),
                cmocka_unit_test(test_counters_corrupt),
                cmocka_unit_test(test_seal_roundtrip),
                cmocka_unit_test(test_seal_tampered),
                cmocka_unit_test(test_seal_bound),
                cmocka_unit_test(test_seal_format),
                cmocka_unit_test(test_uds_file),
                cmocka_unit_test(test_rot_conf),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
