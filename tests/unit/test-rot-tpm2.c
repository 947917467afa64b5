/* SPDX-License-Identifier: Apache-2.0 */
/* The tpm2 root of trust against real software TPMs (swtpm): device A,
 * provisioned once for the whole run, and device B, another TPM. Backend
 * functions are called through the table, as rot.c does. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_tctildr.h>

#include "core/macro.h"
#include "rot/backends/tpm2.h"
#include "rot/rot.h"
#include "swtpm.h"
#include "testlib.h"

static const rp_rot_backend *be = &rp_rot_backend_tpm2;
static char *tpm_a_dir, *tpm_b_dir, *state_a, *state_b;
static test_swtpm tpm_a, tpm_b;

static const uint8_t m1[RP_ROT_MEASUREMENT_LEN] = { 1 };
static const uint8_t m2[RP_ROT_MEASUREMENT_LEN] = { 2 };

/* (n - 1) / 2 for P-256: the largest s of a low-S signature. */
static const uint8_t half_order[32] = {
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
};

static void rot_closep(void **s) {
        be->close(*s);
}
#define _cleanup_rot_ _cleanup_(rot_closep)

static void pkey_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}

static int open_dev(const char *state_dir, const char *tcti, void **ret, rp_error *err) {
        rp_rot_config c = { .state_dir = state_dir, .tpm = tcti };
        return be->open(&c, ret, err);
}

static void *open_ok(const char *state_dir, const test_swtpm *t) {
        rp_error err = {0};
        void *s = NULL;
        if (open_dev(state_dir, t->tcti, &s, &err) < 0)
                fail_msg("open %s: %s", state_dir, err.message);
        return s;
}

static void *open_bound(const char *state_dir, const test_swtpm *t, const uint8_t *m) {
        void *s = open_ok(state_dir, t);
        rp_error err = {0};
        if (be->bind_measurement(s, m, &err) < 0)
                fail_msg("bind_measurement: %s", err.message);
        return s;
}

/* The SubjectPublicKeyInfo DER of a public key (91 bytes for P-256). */
typedef struct spki {
        uint8_t der[128];
        int len;
} spki;

static spki key_spki(void *s, int (*get)(void *, EVP_PKEY **, rp_error *)) {
        rp_error err = {0};
        _cleanup_(pkey_freep) EVP_PKEY *k = NULL;
        if (get(s, &k, &err) < 0)
                fail_msg("public key: %s", err.message);
        spki out = {0};
        unsigned char *p = out.der;
        assert_int_equal(i2d_PUBKEY(k, NULL), 91);
        out.len = i2d_PUBKEY(k, &p);
        return out;
}

static bool spki_eq(const spki *a, const spki *b) {
        return a->len == b->len && memcmp(a->der, b->der, (size_t) a->len) == 0;
}

static void restart(test_swtpm *t, const char *dir) {
        test_swtpm_stop(t);
        test_swtpm_start(t, dir);
}

/* Direct ESYS access to a swtpm, to look at the TPM from outside. */
typedef struct esys {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *ctx;
} esys;

static esys esys_open(const test_swtpm *t) {
        esys e = {0};
        assert_int_equal(Tss2_TctiLdr_Initialize(t->tcti, &e.tcti), TSS2_RC_SUCCESS);
        assert_int_equal(Esys_Initialize(&e.ctx, e.tcti, NULL), TSS2_RC_SUCCESS);
        return e;
}

static void esys_close(esys *e) {
        Esys_Finalize(&e->ctx);
        Tss2_TctiLdr_Finalize(&e->tcti);
}

static uint64_t esys_nv_read(esys *e, TPM2_HANDLE h) {
        ESYS_TR nv;
        assert_int_equal(Esys_TR_FromTPMPublic(e->ctx, h, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv), 0);
        TPM2B_MAX_NV_BUFFER *d = NULL;
        assert_int_equal(Esys_NV_Read(e->ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                      8, 0, &d), 0);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | d->buffer[i];
        Esys_Free(d);
        Esys_TR_Close(e->ctx, &nv);
        return v;
}

static int provision(const char *state_dir, const char *tcti, rp_error *err) {
        rp_rot_config c = { .state_dir = state_dir, .tpm = tcti };
        return be->provision(&c, err);
}

static int setup(void **state) {
        const char *tmp = test_tmpdir();
        tpm_a_dir = test_path(tmp, "tpm-a");
        tpm_b_dir = test_path(tmp, "tpm-b");
        state_a = test_path(tmp, "state-a");
        state_b = test_path(tmp, "state-b");
        test_swtpm_start(&tpm_a, tpm_a_dir);
        test_swtpm_start(&tpm_b, tpm_b_dir);
        rp_error err = {0};
        if (mkdir(state_a, 0700) < 0 || mkdir(state_b, 0700) < 0 || provision(state_a, tpm_a.tcti, &err) < 0 ||
            provision(state_b, tpm_b.tcti, &err) < 0) {
                fprintf(stderr, "setup: %s\n", err.message);
                return -1;
        }
        return 0;
}

static void test_provision(void **state) {
        /* D/rot.conf names the backend and the TPM. */
        _cleanup_free_ char *conf_path = test_path(state_a, "rot.conf");
        _cleanup_free_ uint8_t *conf = test_read_file(conf_path, NULL);
        char want[256];
        snprintf(want, sizeof want, "backend=tpm2\ntpm=%s\n", tpm_a.tcti);
        assert_string_equal((char *) conf, want);

        /* rp_rot_open finds the backend and the TPM in rot.conf. */
        rp_error err = {0};
        rp_rot_config c = { .state_dir = state_a };
        rp_rot *rot = NULL;
        assert_int_equal(rp_rot_open(&c, &rot, &err), 0);
        assert_ptr_equal(rot->backend, &rp_rot_backend_tpm2);
        assert_ptr_equal(rp_rot_backend_find("tpm2"), &rp_rot_backend_tpm2);
        rp_rot_close(rot);

        /* A second provisioning is refused: the same state directory... */
        assert_int_equal(provision(state_a, tpm_a.tcti, &err), -EEXIST);
        assert_non_null(strstr(err.message, "already provisioned"));
        /* ... and the same TPM with another state directory: the DeviceID
         * handle is taken, and nothing is written there. */
        _cleanup_free_ char *fresh = test_path(test_tmpdir(), "state-fresh");
        assert_int_equal(mkdir(fresh, 0700), 0);
        rp_error_clear(&err);
        assert_int_equal(provision(fresh, tpm_a.tcti, &err), -EEXIST);
        assert_non_null(strstr(err.message, "persistent handle 0x81000052 already holds a key"));
        _cleanup_free_ char *fresh_conf = test_path(fresh, "rot.conf");
        assert_int_equal(access(fresh_conf, F_OK), -1);
}

static void test_not_provisioned_and_wrong_tcti(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "tpm-c");
        test_swtpm c = {0};
        test_swtpm_start(&c, dir);
        rp_error err = {0};
        void *s = NULL;
        assert_int_equal(open_dev(state_a, c.tcti, &s, &err), -ENOENT);
        assert_non_null(strstr(err.message, "not provisioned"));
        assert_null(s);
        char dead[TEST_SWTPM_TCTI_MAX];
        memcpy(dead, c.tcti, sizeof dead);
        test_swtpm_stop(&c);

        /* Nothing listens there now. */
        rp_error_clear(&err);
        assert_int_equal(open_dev(state_a, dead, &s, &err), -ENODEV);
        assert_non_null(strstr(err.message, dead));
        assert_non_null(strstr(err.message, "cannot open this TCTI"));
        rp_error_clear(&err);
        assert_int_equal(provision(state_b, dead, &err), -EEXIST);   /* state_b is provisioned: checked first */
        _cleanup_free_ char *none = test_path(test_tmpdir(), "state-none");
        assert_int_equal(mkdir(none, 0700), 0);
        rp_error_clear(&err);
        assert_int_equal(provision(none, dead, &err), -ENODEV);
        assert_non_null(strstr(err.message, dead));
        /* No such TCTI library. */
        rp_error_clear(&err);
        assert_int_equal(open_dev(state_a, "no-such-tcti:x", &s, &err), -ENODEV);
        assert_non_null(strstr(err.message, "'no-such-tcti:x'"));
        /* A TCTI that could not be written to rot.conf as one line. */
        rp_error_clear(&err);
        assert_int_equal(provision(none, "swtpm:host=a\nbackend=soft", &err), -EINVAL);
        assert_non_null(strstr(err.message, "not printable ASCII"));
        rp_error_clear(&err);
        assert_int_equal(open_dev(state_a, "", &s, &err), -EINVAL);
        assert_null(s);
}

/* Objects at rampart's handles that rampart did not make are refused, not
 * used: a storage key at the DeviceID handle, an ordinary NV index where a
 * counter belongs. */
static uint64_t read_counter(void *s, unsigned i);

static void test_foreign_objects(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "tpm-d");
        test_swtpm d = {0};
        test_swtpm_start(&d, dir);
        esys e = esys_open(&d);
        TPM2B_SENSITIVE_CREATE sensitive = {0};
        TPM2B_PUBLIC tmpl = { .publicArea = {
                .type = TPM2_ALG_ECC, .nameAlg = TPM2_ALG_SHA256,
                .objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
                                    TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT | TPMA_OBJECT_NODA,
                .parameters.eccDetail = { .symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128,
                                                         .mode.aes = TPM2_ALG_CFB },
                                          .scheme.scheme = TPM2_ALG_NULL, .curveID = TPM2_ECC_NIST_P256,
                                          .kdf.scheme = TPM2_ALG_NULL } } };
        TPM2B_DATA outside = {0};
        TPML_PCR_SELECTION pcrs = {0};
        ESYS_TR key, persistent;
        assert_int_equal(Esys_CreatePrimary(e.ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                            ESYS_TR_NONE, &sensitive, &tmpl, &outside, &pcrs, &key, NULL, NULL,
                                            NULL, NULL), 0);
        assert_int_equal(Esys_EvictControl(e.ctx, ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                           ESYS_TR_NONE, RP_TPM2_DEVICEID_HANDLE, &persistent), 0);
        Esys_FlushContext(e.ctx, key);
        TPM2B_AUTH auth = {0};
        TPM2B_NV_PUBLIC nv_pub = { .nvPublic = {
                .nvIndex = RP_TPM2_NV_COUNTER + 2, .nameAlg = TPM2_ALG_SHA256, .dataSize = 8,
                .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA } };
        ESYS_TR nv;
        assert_int_equal(Esys_NV_DefineSpace(e.ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                             ESYS_TR_NONE, &auth, &nv_pub, &nv), 0);
        esys_close(&e);

        rp_error err = {0};
        void *s = NULL;
        assert_int_equal(open_dev(state_a, d.tcti, &s, &err), -EIO);
        assert_non_null(strstr(err.message, "is not a rampart DeviceID key"));
        assert_null(s);
        _cleanup_free_ char *fresh = test_path(test_tmpdir(), "state-d");
        assert_int_equal(mkdir(fresh, 0700), 0);
        rp_error_clear(&err);
        assert_int_equal(provision(fresh, d.tcti, &err), -EEXIST);

        /* Remove the storage key; provision for real; counter 2 is not ours. */
        e = esys_open(&d);
        assert_int_equal(Esys_TR_FromTPMPublic(e.ctx, RP_TPM2_DEVICEID_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
                                               ESYS_TR_NONE, &persistent), 0);
        assert_int_equal(Esys_EvictControl(e.ctx, ESYS_TR_RH_OWNER, persistent, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                           ESYS_TR_NONE, RP_TPM2_DEVICEID_HANDLE, &key), 0);
        esys_close(&e);
        assert_int_equal(provision(fresh, d.tcti, &err), 0);
        s = open_ok(fresh, &d);
        uint64_t v = 99;
        rp_error_clear(&err);
        assert_int_equal(be->counter_read(s, 2, &v, &err), -EIO);
        assert_non_null(strstr(err.message, "is not one rampart defined"));
        assert_int_equal(be->counter_advance(s, 2, 1, &v, &err), -EIO);
        assert_int_equal(v, 99);
        assert_int_equal(read_counter(s, 1), 0);
        be->close(s);
        test_swtpm_stop(&d);
}

static void test_deviceid_stable(void **state) {
        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        spki first = key_spki(s, be->deviceid_public);
        be->close(TAKE_PTR(s));

        s = open_ok(state_a, &tpm_a);
        spki again = key_spki(s, be->deviceid_public);
        assert_true(spki_eq(&first, &again));
        be->close(TAKE_PTR(s));

        /* A power cycle of the same device. */
        restart(&tpm_a, tpm_a_dir);
        s = open_ok(state_a, &tpm_a);
        spki after = key_spki(s, be->deviceid_public);
        assert_true(spki_eq(&first, &after));
        be->close(TAKE_PTR(s));

        /* Another TPM, another DeviceID. */
        s = open_ok(state_b, &tpm_b);
        spki other = key_spki(s, be->deviceid_public);
        assert_false(spki_eq(&first, &other));
}

/* tpm2-tools, an independent TPM client, finds the same key at the
 * documented handle. */
static void test_tpm2_tools_agree(void **state) {
        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        spki ours = key_spki(s, be->deviceid_public);
        be->close(TAKE_PTR(s));   /* swtpm serves one client at a time */

        _cleanup_free_ char *pem = test_path(test_tmpdir(), "deviceid-tools.pem"), *cmd = NULL;
        assert_true(asprintf(&cmd, "tpm2_readpublic -T '%s' -c 0x%08x -f pem -o '%s' >/dev/null", tpm_a.tcti,
                             RP_TPM2_DEVICEID_HANDLE, pem) > 0);
        assert_int_equal(system(cmd), 0);
        size_t len;
        _cleanup_free_ uint8_t *text = test_read_file(pem, &len);
        BIO *bio = BIO_new_mem_buf(text, (int) len);
        assert_non_null(bio);
        EVP_PKEY *k = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
        BIO_free(bio);
        assert_non_null(k);
        spki theirs = {0};
        unsigned char *p = theirs.der;
        theirs.len = i2d_PUBKEY(k, &p);
        EVP_PKEY_free(k);
        assert_true(spki_eq(&ours, &theirs));
}

static void test_alias(void **state) {
        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        spki dev = key_spki(s, be->deviceid_public);
        rp_error err = {0};
        assert_int_equal(be->bind_measurement(s, m1, &err), 0);
        spki a1 = key_spki(s, be->alias_public);
        assert_false(spki_eq(&a1, &dev));
        assert_int_equal(be->bind_measurement(s, m2, &err), 0);
        spki a2 = key_spki(s, be->alias_public);
        assert_false(spki_eq(&a1, &a2));
        spki dev2 = key_spki(s, be->deviceid_public);
        assert_true(spki_eq(&dev, &dev2));
        be->close(TAKE_PTR(s));

        /* Same measurement, same key: after reopening and a power cycle. */
        restart(&tpm_a, tpm_a_dir);
        s = open_bound(state_a, &tpm_a, m1);
        spki again = key_spki(s, be->alias_public);
        assert_true(spki_eq(&a1, &again));
        be->close(TAKE_PTR(s));

        /* Another TPM, same measurement: another key. */
        s = open_bound(state_b, &tpm_b, m1);
        spki b1 = key_spki(s, be->alias_public);
        assert_false(spki_eq(&a1, &b1));
}

static void verify(void *s, int (*get)(void *, EVP_PKEY **, rp_error *), const uint8_t digest[32],
                   const uint8_t sig[64]) {
        rp_error err = {0};
        _cleanup_(pkey_freep) EVP_PKEY *k = NULL;
        assert_int_equal(get(s, &k, &err), 0);
        ECDSA_SIG *es = ECDSA_SIG_new();
        assert_non_null(es);
        assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(sig, 32, NULL), BN_bin2bn(sig + 32, 32, NULL)), 1);
        unsigned char *der = NULL;
        int der_len = i2d_ECDSA_SIG(es, &der);
        assert_true(der_len > 0);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(k, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
        assert_int_equal(EVP_PKEY_verify(ctx, der, (size_t) der_len, digest, 32), 1);
        /* A changed digest does not verify. */
        uint8_t other[32];
        memcpy(other, digest, 32);
        other[31] ^= 1;
        assert_int_not_equal(EVP_PKEY_verify(ctx, der, (size_t) der_len, other, 32), 1);
        EVP_PKEY_CTX_free(ctx);
        OPENSSL_free(der);
        ECDSA_SIG_free(es);
        /* Low-S. */
        assert_true(memcmp(sig + 32, half_order, 32) <= 0);
}

static void test_signatures(void **state) {
        _cleanup_rot_ void *s = open_bound(state_a, &tpm_a, m1);
        rp_error err = {0};
        /* Half of the TPM's signatures come out with a high s: 24 of each
         * make it all but certain the low-S normalisation is exercised. */
        for (int i = 0; i < 24; i++) {
                uint8_t digest[32], sig[64];
                memset(digest, i, sizeof digest);
                assert_int_equal(be->deviceid_sign(s, digest, sig, &err), 0);
                verify(s, be->deviceid_public, digest, sig);
                assert_int_equal(be->alias_sign(s, digest, sig, &err), 0);
                verify(s, be->alias_public, digest, sig);
        }
}

static void test_unbound(void **state) {
        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        rp_error err = {0};
        EVP_PKEY *k = NULL;
        uint8_t digest[32] = {0}, sig[64];
        uint8_t *blob = NULL;
        size_t len = 0;
        assert_int_equal(be->alias_public(s, &k, &err), -EPERM);
        assert_null(k);
        assert_int_equal(be->alias_sign(s, digest, sig, &err), -EPERM);
        assert_int_equal(be->seal(s, "x", 1, &blob, &len, &err), -EPERM);
        assert_int_equal(be->unseal(s, "x", 1, &blob, &len, &err), -EPERM);
        assert_non_null(strstr(err.message, "before bind_measurement"));
        assert_null(blob);
}

static uint64_t read_counter(void *s, unsigned i) {
        rp_error err = {0};
        uint64_t v = 12345;
        if (be->counter_read(s, i, &v, &err) < 0)
                fail_msg("counter_read %u: %s", i, err.message);
        return v;
}

static uint64_t advance(void *s, unsigned i, uint64_t value) {
        rp_error err = {0};
        uint64_t v = 12345;
        if (be->counter_advance(s, i, value, &v, &err) < 0)
                fail_msg("counter_advance %u to %llu: %s", i, (unsigned long long) value, err.message);
        return v;
}

/* Makes the TPM's NV counters start high: a counter the TPM defines
 * starts above every counter it ever deleted. */
static void raise_tpm_counter_floor(const test_swtpm *t) {
        esys e = esys_open(t);
        TPM2B_AUTH auth = {0};
        TPM2B_NV_PUBLIC pub = { .nvPublic = {
                .nvIndex = 0x01805300, .nameAlg = TPM2_ALG_SHA256, .dataSize = 8,
                .attributes = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_NO_DA |
                              (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT) } };
        ESYS_TR nv;
        assert_int_equal(Esys_NV_DefineSpace(e.ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                             &auth, &pub, &nv), 0);
        for (int i = 0; i < 40; i++)
                assert_int_equal(Esys_NV_Increment(e.ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                   ESYS_TR_NONE), 0);
        assert_int_equal(Esys_NV_UndefineSpace(e.ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                               ESYS_TR_NONE), 0);
        esys_close(&e);
}

static void test_counters(void **state) {
        raise_tpm_counter_floor(&tpm_a);
        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        rp_error err = {0};
        for (unsigned i = 0; i < RP_ROT_COUNTERS; i++)
                assert_int_equal(read_counter(s, i), 0);
        uint64_t v = 99;
        assert_int_equal(be->counter_read(s, RP_ROT_COUNTERS, &v, &err), -EINVAL);
        assert_int_equal(be->counter_advance(s, RP_ROT_COUNTERS, 1, &v, &err), -EINVAL);
        assert_int_equal(v, 99);

        assert_int_equal(advance(s, 0, 0), 0);   /* a no-op */
        assert_int_equal(advance(s, 0, 5), 5);
        assert_int_equal(read_counter(s, 0), 5);
        assert_int_equal(advance(s, 0, 5), 5);
        rp_error_clear(&err);
        assert_int_equal(be->counter_advance(s, 0, 4, &v, &err), -ERANGE);
        assert_non_null(strstr(err.message, "rollback"));
        assert_int_equal(v, 99);
        assert_int_equal(read_counter(s, 0), 5);
        /* Steps are bounded: one over the bound is refused, the bound is not. */
        rp_error_clear(&err);
        assert_int_equal(be->counter_advance(s, 0, 5 + RP_TPM2_MAX_INCREMENTS + 1, &v, &err), -ERANGE);
        assert_non_null(strstr(err.message, "smaller steps"));
        assert_int_equal(be->counter_advance(s, 0, UINT64_MAX, &v, &err), -ERANGE);
        assert_int_equal(read_counter(s, 0), 5);
        assert_int_equal(advance(s, 1, 1), 1);
        assert_int_equal(read_counter(s, 0), 5);
        assert_int_equal(read_counter(s, 2), 0);
        be->close(TAKE_PTR(s));

        /* The TPM's counter did not start at 0; rampart's reads 0 + steps. */
        esys e = esys_open(&tpm_a);
        uint64_t tpm0 = esys_nv_read(&e, RP_TPM2_NV_COUNTER), start0 = esys_nv_read(&e, RP_TPM2_NV_START);
        esys_close(&e);
        assert_true(start0 >= 40);
        assert_int_equal(tpm0 - start0, 5);

        /* Persisted: across reopening and a power cycle. */
        s = open_ok(state_a, &tpm_a);
        assert_int_equal(read_counter(s, 0), 5);
        be->close(TAKE_PTR(s));
        restart(&tpm_a, tpm_a_dir);
        s = open_ok(state_a, &tpm_a);
        assert_int_equal(read_counter(s, 0), 5);
        assert_int_equal(read_counter(s, 1), 1);
        assert_int_equal(advance(s, 0, 5 + RP_TPM2_MAX_INCREMENTS), 5 + RP_TPM2_MAX_INCREMENTS);
        be->close(TAKE_PTR(s));

        /* Another TPM's counters are its own. */
        s = open_ok(state_b, &tpm_b);
        assert_int_equal(read_counter(s, 0), 0);
}

/* The start value lives in the TPM, write-locked: neither a state
 * directory (another, empty one, or one with stray files) nor a write to
 * the NV index with owner authorization changes what a counter reads. */
static void test_counter_start_locked(void **state) {
        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        uint64_t before = advance(s, 3, 7);
        be->close(TAKE_PTR(s));

        esys e = esys_open(&tpm_a);
        ESYS_TR nv;
        assert_int_equal(Esys_TR_FromTPMPublic(e.ctx, RP_TPM2_NV_START + 3, ESYS_TR_NONE, ESYS_TR_NONE,
                                               ESYS_TR_NONE, &nv), 0);
        uint64_t tpm3 = esys_nv_read(&e, RP_TPM2_NV_COUNTER + 3);
        TPM2B_MAX_NV_BUFFER data = { .size = 8 };
        for (int i = 0; i < 8; i++)
                data.buffer[i] = (uint8_t) (tpm3 >> (56 - 8 * i));   /* would make the counter read 0 */
        TSS2_RC rc = Esys_NV_Write(e.ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                   &data, 0);
        assert_int_equal(rc & 0xfff, TPM2_RC_NV_LOCKED);
        Esys_TR_Close(e.ctx, &nv);
        esys_close(&e);

        _cleanup_free_ char *empty = test_path(test_tmpdir(), "state-empty");
        assert_int_equal(mkdir(empty, 0700), 0);
        s = open_ok(empty, &tpm_a);
        assert_int_equal(read_counter(s, 3), before);
        be->close(TAKE_PTR(s));

        _cleanup_free_ char *stray = test_path(state_a, "counters");
        uint8_t zeros[256] = {0};
        test_write_file(stray, zeros, sizeof zeros);
        s = open_ok(state_a, &tpm_a);
        assert_int_equal(read_counter(s, 3), before);
        assert_int_equal(unlink(stray), 0);
}

static ESYS_TR esys_nv_define(esys *e, TPM2_HANDLE h, TPMA_NV attrs) {
        TPM2B_AUTH auth = {0};
        TPM2B_NV_PUBLIC pub = { .nvPublic = { .nvIndex = h, .nameAlg = TPM2_ALG_SHA256, .dataSize = 8,
                                              .attributes = attrs } };
        ESYS_TR nv;
        assert_int_equal(Esys_NV_DefineSpace(e->ctx, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                             ESYS_TR_NONE, &auth, &pub, &nv), 0);
        return nv;
}

/* A crash at each step of a counter's first advance leaves the TPM in a
 * state the next read and advance take up: defined but never incremented
 * (7), incremented without its start index (5), start index defined but
 * not written (6). */
static void test_counter_crash_recovery(void **state) {
        const TPMA_NV common = TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA;
        const TPMA_NV counter = common | (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT);
        const TPMA_NV start = common | TPMA_NV_WRITEDEFINE;
        esys e = esys_open(&tpm_a);
        esys_nv_define(&e, RP_TPM2_NV_COUNTER + 7, counter);
        for (unsigned i = 5; i <= 6; i++) {
                ESYS_TR nv = esys_nv_define(&e, RP_TPM2_NV_COUNTER + i, counter);
                assert_int_equal(Esys_NV_Increment(e.ctx, ESYS_TR_RH_OWNER, nv, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                                   ESYS_TR_NONE), 0);
        }
        esys_nv_define(&e, RP_TPM2_NV_START + 6, start);
        uint64_t first5 = esys_nv_read(&e, RP_TPM2_NV_COUNTER + 5);
        esys_close(&e);

        _cleanup_rot_ void *s = open_ok(state_a, &tpm_a);
        for (unsigned i = 5; i <= 7; i++)
                assert_int_equal(read_counter(s, i), 0);
        assert_int_equal(advance(s, 5, 2), 2);
        assert_int_equal(advance(s, 6, 1), 1);
        assert_int_equal(advance(s, 7, 3), 3);
        be->close(TAKE_PTR(s));

        e = esys_open(&tpm_a);
        assert_int_equal(esys_nv_read(&e, RP_TPM2_NV_START + 5), first5);
        assert_int_equal(esys_nv_read(&e, RP_TPM2_NV_COUNTER + 5), first5 + 2);
        for (unsigned i = 5; i <= 7; i++) {
                ESYS_TR nv;
                TPM2B_NV_PUBLIC *pub = NULL;
                assert_int_equal(Esys_TR_FromTPMPublic(e.ctx, RP_TPM2_NV_START + i, ESYS_TR_NONE, ESYS_TR_NONE,
                                                       ESYS_TR_NONE, &nv), 0);
                assert_int_equal(Esys_NV_ReadPublic(e.ctx, nv, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub,
                                                    NULL), 0);
                assert_true(pub->nvPublic.attributes & TPMA_NV_WRITELOCKED);
                Esys_Free(pub);
                Esys_TR_Close(e.ctx, &nv);
        }
        esys_close(&e);
}

static void seal_ok(void *s, const void *data, size_t len, uint8_t **blob, size_t *blob_len) {
        rp_error err = {0};
        if (be->seal(s, data, len, blob, blob_len, &err) < 0)
                fail_msg("seal %zu bytes: %s", len, err.message);
        assert_true(*blob_len <= RP_ROT_SEALED_MAX);
}

static void test_seal_roundtrip(void **state) {
        _cleanup_rot_ void *s = open_bound(state_a, &tpm_a, m1);
        static uint8_t big[RP_ROT_SEAL_MAX + 1];
        for (size_t i = 0; i < sizeof big; i++)
                big[i] = (uint8_t) (i * 7);
        size_t lens[] = { 0, 1, 32, 129, RP_ROT_SEAL_MAX };
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                _cleanup_free_ uint8_t *blob = NULL, *out = NULL;
                size_t blob_len, out_len = 999;
                seal_ok(s, big, lens[i], &blob, &blob_len);
                rp_error err = {0};
                assert_int_equal(be->unseal(s, blob, blob_len, &out, &out_len, &err), 0);
                assert_int_equal(out_len, lens[i]);
                assert_memory_equal(out, big, lens[i]);
        }
        /* Two seals of the same data differ (a fresh key and nonce each). */
        _cleanup_free_ uint8_t *b1 = NULL, *b2 = NULL;
        size_t l1, l2;
        seal_ok(s, "same", 4, &b1, &l1);
        seal_ok(s, "same", 4, &b2, &l2);
        assert_int_equal(l1, l2);
        assert_memory_not_equal(b1, b2, l1);

        rp_error err = {0};
        uint8_t *blob = NULL;
        size_t blob_len = 0;
        assert_int_equal(be->seal(s, big, sizeof big, &blob, &blob_len, &err), -EFBIG);
        assert_null(blob);
        be->close(TAKE_PTR(s));

        /* After a power cycle, the same device and measurement unseal it. */
        restart(&tpm_a, tpm_a_dir);
        s = open_bound(state_a, &tpm_a, m1);
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        assert_int_equal(be->unseal(s, b1, l1, &out, &out_len, &err), 0);
        assert_int_equal(out_len, 4);
        assert_memory_equal(out, "same", 4);
}

static void test_seal_elsewhere(void **state) {
        _cleanup_rot_ void *s = open_bound(state_a, &tpm_a, m1);
        _cleanup_free_ uint8_t *blob = NULL;
        size_t blob_len;
        seal_ok(s, "secret", 6, &blob, &blob_len);

        /* Another measurement on the same device. */
        rp_error err = {0};
        uint8_t *out = NULL;
        size_t out_len = 0;
        assert_int_equal(be->bind_measurement(s, m2, &err), 0);
        assert_int_equal(be->unseal(s, blob, blob_len, &out, &out_len, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "sealed for another device or another measurement"));
        assert_null(out);
        /* Back to the first: fine again. */
        assert_int_equal(be->bind_measurement(s, m1, &err), 0);
        assert_int_equal(be->unseal(s, blob, blob_len, &out, &out_len, &err), 0);
        free(out);
        out = NULL;
        be->close(TAKE_PTR(s));

        /* Another device, same measurement. */
        s = open_bound(state_b, &tpm_b, m1);
        rp_error_clear(&err);
        assert_int_equal(be->unseal(s, blob, blob_len, &out, &out_len, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "another device"));
        assert_null(out);
}

/* True if key opens the blob (AES-256-GCM, docs/formats.md). */
static bool opens(const uint8_t *blob, const uint8_t *key) {
        size_t pub_len = (size_t) blob[6] << 8 | blob[7], priv_len = (size_t) blob[8] << 8 | blob[9];
        size_t ct_len = (size_t) blob[10] << 8 | blob[11];
        size_t aad_len = RP_TPM2_SEAL_HEADER_LEN + pub_len + priv_len;
        const uint8_t *nonce = blob + aad_len, *ct = nonce + RP_TPM2_SEAL_NONCE_LEN, *tag = ct + ct_len;
        uint8_t out[64];
        int n;
        assert_true(ct_len <= sizeof out);
        EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        assert_non_null(ctx);
        bool ok = EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce) &&
                  EVP_DecryptUpdate(ctx, NULL, &n, blob, (int) aad_len) &&
                  EVP_DecryptUpdate(ctx, out, &n, ct, (int) ct_len) &&
                  EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, 16, (void *) tag) &&
                  EVP_DecryptFinal_ex(ctx, out + n, &n) == 1;
        EVP_CIPHER_CTX_free(ctx);
        return ok;
}

/* The sealed key crosses the bus encrypted: record every byte exchanged
 * with the TPM while sealing and unsealing (tpm2-tss's pcap TCTI), and no
 * 32 of them in a row open the blob. */
static void test_seal_bus(void **state) {
        _cleanup_free_ char *trace = test_path(test_tmpdir(), "tpm.pcap");
        char tcti[128];
        snprintf(tcti, sizeof tcti, "pcap:%s", tpm_a.tcti);
        assert_int_equal(setenv("TCTI_PCAP_FILE", trace, 1), 0);
        void *s = NULL;
        rp_error err = {0};
        assert_int_equal(open_dev(state_a, tcti, &s, &err), 0);
        assert_int_equal(unsetenv("TCTI_PCAP_FILE"), 0);
        _cleanup_free_ uint8_t *blob = NULL, *out = NULL;
        size_t blob_len, out_len;
        assert_int_equal(be->bind_measurement(s, m1, &err), 0);
        seal_ok(s, "bus secret", 10, &blob, &blob_len);
        assert_int_equal(be->unseal(s, blob, blob_len, &out, &out_len, &err), 0);
        be->close(s);

        size_t len;
        _cleanup_free_ uint8_t *t = test_read_file(trace, &len);
        /* The trace holds the traffic: the sealed object went to the TPM. */
        size_t pub_len = (size_t) blob[6] << 8 | blob[7];
        assert_non_null(memmem(t, len, blob + RP_TPM2_SEAL_HEADER_LEN, pub_len));
        for (size_t i = 0; i + 32 <= len; i++)
                if (opens(blob, t + i))
                        fail_msg("the sealing key is in clear at byte %zu of the TPM traffic", i);
}

static void expect_refused(void *s, const uint8_t *blob, size_t len, int code, const char *msg) {
        rp_error err = {0};
        uint8_t *out = NULL;
        size_t out_len = 77;
        int r = be->unseal(s, blob, len, &out, &out_len, &err);
        if (r != code)
                fail_msg("unseal of %zu bytes: got %d (%s), expected %d", len, r, err.message, code);
        if (msg && !strstr(err.message, msg))
                fail_msg("unseal of %zu bytes: message '%s' lacks '%s'", len, err.message, msg);
        assert_null(out);
        assert_int_equal(out_len, 77);
}

static void test_seal_hostile(void **state) {
        _cleanup_rot_ void *s = open_bound(state_a, &tpm_a, m1);
        _cleanup_free_ uint8_t *blob = NULL;
        size_t len;
        seal_ok(s, "0123456789abcdef", 16, &blob, &len);
        _cleanup_free_ uint8_t *b = malloc(RP_ROT_SEALED_MAX + 2);
        assert_non_null(b);

        /* Every truncation, and one byte too many. */
        for (size_t n = 0; n < len; n++)
                expect_refused(s, blob, n, -EBADMSG, "sealed blob");
        memcpy(b, blob, len);
        b[len] = 0;
        expect_refused(s, b, len + 1, -EBADMSG, "the header says");
        /* Over the limit, and garbage. */
        memset(b, 'A', RP_ROT_SEALED_MAX + 1);
        expect_refused(s, b, RP_ROT_SEALED_MAX + 1, -EFBIG, "more than");
        expect_refused(s, b, 1000, -EBADMSG, "not a tpm2 sealed blob");
        memcpy(b, RP_TPM2_SEAL_MAGIC "\x01", 5);
        expect_refused(s, b, 1000, -EBADMSG, "sealed blob");
        /* Another version; the reserved byte, each length. */
        memcpy(b, blob, len);
        b[4] = 2;
        expect_refused(s, b, len, -EOPNOTSUPP, "version 2, this build reads 1");
        size_t fields[] = { 5, 6, 7, 8, 9, 10, 11 };
        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                memcpy(b, blob, len);
                b[fields[i]] ^= 0x01;
                expect_refused(s, b, len, -EBADMSG, "sealed blob");
                b[fields[i]] ^= 0x41;
                expect_refused(s, b, len, -EBADMSG, "sealed blob");
        }
        /* Inner TPM2B sizes that disagree with the header's. */
        memcpy(b, blob, len);
        b[RP_TPM2_SEAL_HEADER_LEN + 1] ^= 0x01;
        expect_refused(s, b, len, -EBADMSG, "public area is malformed");
        /* The sealed object's attributes (a well-formed public area that is
         * not ours: byte 4..7 of TPMT_PUBLIC after the size). */
        memcpy(b, blob, len);
        b[RP_TPM2_SEAL_HEADER_LEN + 2 + 4 + 3] ^= 0x20;   /* sensitiveDataOrigin */
        expect_refused(s, b, len, -EBADMSG, "not one rampart seals");
        /* The private area, the nonce, the ciphertext, the tag. */
        size_t pub_len = (size_t) blob[6] << 8 | blob[7];
        size_t priv_at = RP_TPM2_SEAL_HEADER_LEN + pub_len;
        memcpy(b, blob, len);
        b[priv_at + 10] ^= 0x01;
        expect_refused(s, b, len, -EKEYREJECTED, "refuses the blob");
        for (size_t at = len - 16 - 16 - 12; at < len; at += 9) {
                memcpy(b, blob, len);
                b[at] ^= 0x01;
                expect_refused(s, b, len, -EBADMSG, "does not match its tag");
        }
        /* The blob is still good. */
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        rp_error err = {0};
        assert_int_equal(be->unseal(s, blob, len, &out, &out_len, &err), 0);
}

int main(void) {
        test_swtpm_require();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_provision),
                cmocka_unit_test(test_not_provisioned_and_wrong_tcti),
                cmocka_unit_test(test_foreign_objects),
                cmocka_unit_test(test_deviceid_stable),
                cmocka_unit_test(test_tpm2_tools_agree),
                cmocka_unit_test(test_alias),
                cmocka_unit_test(test_signatures),
                cmocka_unit_test(test_unbound),
                cmocka_unit_test(test_counters),
                cmocka_unit_test(test_counter_start_locked),
                cmocka_unit_test(test_counter_crash_recovery),
                cmocka_unit_test(test_seal_roundtrip),
                cmocka_unit_test(test_seal_elsewhere),
                cmocka_unit_test(test_seal_bus),
                cmocka_unit_test(test_seal_hostile),
        };
        return test_exit(cmocka_run_group_tests(tests, setup, NULL));
}
