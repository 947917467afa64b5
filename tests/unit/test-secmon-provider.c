/* SPDX-License-Identifier: Apache-2.0 */
/* The rampart-secmon OpenSSL provider, without secmon: loading it leaves
 * OpenSSL's own EC in charge, key objects (import, export, parameters,
 * comparison with certificates), refusals, and the errors a signature gives
 * when secmon cannot be reached. Signing through the real rampart-secmon is
 * integration/tls-secmon. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/ssl.h>
#include <openssl/store.h>
#include <openssl/x509.h>

#include "core/macro.h"
#include "secmon/provider.h"
#include "testlib.h"

#define UNREACHABLE "/nonexistent/rampart-test/secmon.sock"

static void evp_pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}
static void evp_pkey_ctx_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}
static void evp_md_ctx_freep(EVP_MD_CTX **p) {
        EVP_MD_CTX_free(*p);
}
static void x509_freep(X509 **p) {
        X509_free(*p);
}
static void ssl_ctx_freep(SSL_CTX **p) {
        SSL_CTX_free(*p);
}
static void ossl_param_freep(OSSL_PARAM **p) {
        OSSL_PARAM_free(*p);
}

/* True if an error in OpenSSL's queue has needle in its text or data; the
 * queue is emptied either way. */
static bool queued_error(const char *needle) {
        bool found = false;
        const char *data;
        int flags;
        unsigned long e;

        while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
                char text[256];

                ERR_error_string_n(e, text, sizeof text);
                if (strstr(text, needle) || ((flags & ERR_TXT_STRING) && strstr(data, needle)))
                        found = true;
        }
        if (!found)
                print_error("no queued error holds '%s'\n", needle);
        return found;
}

static EVP_PKEY *p256_generate(void) {
        EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

        assert_non_null(k);
        return k;
}

/* The public point of a key, as encoded (uncompressed unless said). */
static size_t point_of(const EVP_PKEY *k, uint8_t out[133]) {
        size_t len = 0;

        assert_true(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, out, 133, &len));
        return len;
}

/* A key object of the provider from the parameters given (NULL: left out). */
static int secmon_key(const char *socket, const char *group, const uint8_t *pub, size_t pub_len,
                      int selection, EVP_PKEY **ret) {
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *pc =
                EVP_PKEY_CTX_new_from_name(NULL, "EC", RP_SECMON_PROVIDER_PROPQ);
        OSSL_PARAM params[4];
        size_t n = 0;

        assert_non_null(pc);
        if (socket)
                params[n++] = OSSL_PARAM_construct_utf8_string(RP_SECMON_PARAM_SOCKET, (char *) socket, 0);
        if (group)
                params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) group, 0);
        if (pub)
                params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, (void *) pub, pub_len);
        params[n] = OSSL_PARAM_construct_end();
        assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
        return EVP_PKEY_fromdata(pc, ret, selection, params);
}

/* The provider's key object for the public key of k. */
static EVP_PKEY *secmon_key_for(const EVP_PKEY *k, const char *socket) {
        uint8_t point[133];
        size_t len = point_of(k, point);
        EVP_PKEY *ret = NULL;

        assert_int_equal(secmon_key(socket, "prime256v1", point, len,
                                    socket ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, &ret), 1);
        return ret;
}

static const char *provider_of_keymgmt(const char *name) {
        EVP_KEYMGMT *km = EVP_KEYMGMT_fetch(NULL, name, NULL);
        const char *prov;

        assert_non_null(km);
        prov = OSSL_PROVIDER_get0_name(EVP_KEYMGMT_get0_provider(km));
        EVP_KEYMGMT_free(km);
        return prov;
}

/* main() loads the provider before anything else touched OpenSSL: EC named
 * without a property query must still be OpenSSL's (P-256 key shares, TLS
 * groups), and loading again changes nothing. */
static void test_load_keeps_openssl_ec(void **state) {
        rp_error err = {};
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = NULL;

        /* First: looking a provider up (OSSL_PROVIDER_available) sorts
         * OpenSSL's list of providers by name, which would hide the order. */
        assert_string_equal(provider_of_keymgmt("EC"), "default");
        assert_true(OSSL_PROVIDER_available(NULL, RP_SECMON_PROVIDER_NAME));
        assert_int_equal(rp_secmon_provider_load(NULL, &err), 0);
        assert_string_equal(provider_of_keymgmt("EC"), "default");
        k = p256_generate();
}

static void test_public_key(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *other = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, NULL);
        _cleanup_(ossl_param_freep) OSSL_PARAM *exported = NULL;
        uint8_t a[133], b[133];
        char name[64];
        const OSSL_PARAM *p;
        const void *pub;
        size_t len;

        assert_true(EVP_PKEY_is_a(k, "EC"));
        assert_string_equal(OSSL_PROVIDER_get0_name(EVP_PKEY_get0_provider(k)),
                            RP_SECMON_PROVIDER_NAME);
        assert_int_equal(EVP_PKEY_get_bits(k), 256);
        assert_int_equal(EVP_PKEY_get_security_bits(k), 128);
        assert_int_equal(EVP_PKEY_get_size(k), RP_SECMON_SIG_DER_MAX);
        assert_true(EVP_PKEY_get_group_name(k, name, sizeof name, NULL));
        assert_string_equal(name, "prime256v1");
        assert_int_equal(EVP_PKEY_get_default_digest_name(k, name, sizeof name), 2);   /* mandatory */
        assert_string_equal(name, "SHA256");
        assert_int_equal(point_of(k, a), 65);
        assert_int_equal(point_of(orig, b), 65);
        assert_memory_equal(a, b, 65);

        /* Compared with keys of OpenSSL's provider either way round. */
        assert_int_equal(EVP_PKEY_eq(k, orig), 1);
        assert_int_equal(EVP_PKEY_eq(orig, k), 1);
        assert_int_equal(EVP_PKEY_eq(k, other), 0);
        assert_int_equal(EVP_PKEY_parameters_eq(k, other), 1);

        assert_int_equal(EVP_PKEY_todata(k, EVP_PKEY_PUBLIC_KEY, &exported), 1);
        p = OSSL_PARAM_locate_const(exported, OSSL_PKEY_PARAM_PUB_KEY);
        assert_non_null(p);
        assert_true(OSSL_PARAM_get_octet_string_ptr(p, &pub, &len));
        assert_int_equal(len, 65);
        assert_memory_equal(pub, b, 65);
}

/* A compressed point is taken and kept uncompressed. */
static void test_compressed_point(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = NULL;
        uint8_t point[133], compressed[33], a[133];

        assert_int_equal(point_of(orig, point), 65);
        compressed[0] = 0x02 | (point[64] & 1);   /* the parity of y */
        memcpy(compressed + 1, point + 1, 32);     /* x */
        assert_int_equal(secmon_key(NULL, "P-256", compressed, sizeof compressed, EVP_PKEY_PUBLIC_KEY, &k), 1);
        assert_int_equal(point_of(k, a), 65);
        assert_memory_equal(a, point, 65);
        assert_int_equal(EVP_PKEY_eq(k, orig), 1);
}

static void test_import_refusals(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        EVP_PKEY *k = NULL;
        uint8_t point[133];
        size_t len = point_of(orig, point);
        char long_path[200];

        point[64] ^= 1;   /* off the curve */
        assert_int_equal(secmon_key(NULL, "prime256v1", point, len, EVP_PKEY_PUBLIC_KEY, &k), 0);
        assert_true(queued_error("not a P-256 point"));
        point[64] ^= 1;

        assert_int_equal(secmon_key(NULL, "secp384r1", point, len, EVP_PKEY_PUBLIC_KEY, &k), 0);
        assert_true(queued_error("only P-256"));

        memset(long_path, 'a', sizeof long_path - 1);
        long_path[0] = '/';
        long_path[sizeof long_path - 1] = '\0';
        assert_int_equal(secmon_key(long_path, "prime256v1", point, len, EVP_PKEY_KEYPAIR, &k), 0);
        assert_true(queued_error("is not a socket path"));

        assert_int_equal(secmon_key(NULL, "prime256v1", NULL, 0, EVP_PKEY_PUBLIC_KEY, &k), 0);
        assert_true(queued_error("neither a public key nor"));

        /* A private key never comes in. */
        {
                _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *pc =
                        EVP_PKEY_CTX_new_from_name(NULL, "EC", RP_SECMON_PROVIDER_PROPQ);
                uint8_t priv[32] = { 1 };
                OSSL_PARAM params[] = {
                        OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0),
                        OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, len),
                        OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_PRIV_KEY, priv, sizeof priv),
                        OSSL_PARAM_construct_end(),
                };

                assert_int_equal(EVP_PKEY_fromdata_init(pc), 1);
                assert_int_equal(EVP_PKEY_fromdata(pc, &k, EVP_PKEY_KEYPAIR, params), 0);
                assert_true(queued_error("holds no private keys"));
        }

        /* A key pair without a socket is not one of these: OpenSSL 3.0 tries
         * other providers' keys on this provider's ECDSA that way. */
        assert_int_equal(secmon_key(NULL, "prime256v1", point, len, EVP_PKEY_KEYPAIR, &k), 0);
        ERR_clear_error();
        assert_null(k);
}

/* A key that can sign exports its public part only, never "everything". */
static void test_export(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, UNREACHABLE);
        OSSL_PARAM *params = NULL;

        assert_int_equal(EVP_PKEY_todata(k, EVP_PKEY_KEYPAIR, &params), 0);
        assert_null(params);
        ERR_clear_error();
        assert_int_equal(EVP_PKEY_todata(k, EVP_PKEY_PUBLIC_KEY, &params), 1);
        assert_non_null(OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PUB_KEY));
        OSSL_PARAM_free(params);
        assert_int_equal(EVP_PKEY_eq(k, orig), 1);
}

/* A public key alone verifies (OpenSSL's ECDSA takes it) but never signs. */
static void test_public_only(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, NULL);
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *pc =
                EVP_PKEY_CTX_new_from_pkey(NULL, k, RP_SECMON_PROVIDER_PROPQ);
        uint8_t sig[RP_SECMON_SIG_DER_MAX];
        size_t siglen = sizeof sig;

        assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, orig, NULL), 1);
        assert_int_equal(EVP_DigestSign(md, sig, &siglen, (const uint8_t *) "x", 1), 1);
        assert_int_equal(EVP_DigestVerifyInit_ex(md, NULL, "SHA256", NULL, NULL, k, NULL), 1);
        assert_int_equal(EVP_DigestVerify(md, sig, siglen, (const uint8_t *) "x", 1), 1);
        assert_int_equal(EVP_DigestVerify(md, sig, siglen, (const uint8_t *) "y", 1), 0);
        ERR_clear_error();

        /* This provider's ECDSA, asked for by name, says why it cannot. */
        assert_non_null(pc);
        assert_int_equal(EVP_PKEY_sign_init(pc), 0);
        assert_true(queued_error("this key names no secmon socket"));
}

/* secmon is not there: the signature fails, saying so and where. */
static void test_unreachable(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, UNREACHABLE);
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        uint8_t sig[RP_SECMON_SIG_DER_MAX];
        size_t siglen = 0;
        EVP_PKEY *k2 = NULL;

        assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL, k, NULL), 1);
        assert_int_equal(EVP_DigestSign(md, NULL, &siglen, (const uint8_t *) "x", 1), 1);
        assert_int_equal(siglen, RP_SECMON_SIG_DER_MAX);
        assert_int_equal(EVP_DigestSign(md, sig, &siglen, (const uint8_t *) "x", 1), 0);
        assert_true(queued_error("rampart-secmon: cannot reach " UNREACHABLE " — is it running?"));

        /* A copy of the key is bound to the same secmon. */
        {
                _cleanup_(evp_pkey_freep) EVP_PKEY *copy = EVP_PKEY_dup(k);
                _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md2 = EVP_MD_CTX_new();

                assert_non_null(copy);
                assert_int_equal(EVP_PKEY_eq(copy, orig), 1);
                siglen = sizeof sig;
                assert_int_equal(EVP_DigestSignInit_ex(md2, NULL, "SHA256", NULL, NULL, copy, NULL), 1);
                assert_int_equal(EVP_DigestSign(md2, sig, &siglen, (const uint8_t *) "x", 1), 0);
                assert_true(queued_error("rampart-secmon: cannot reach " UNREACHABLE));
        }

        /* The socket alone: the public key would come from secmon. */
        assert_int_equal(secmon_key(UNREACHABLE, NULL, NULL, 0, EVP_PKEY_KEYPAIR, &k2), 0);
        assert_true(queued_error("cannot reach " UNREACHABLE));
}

static void test_digests(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, UNREACHABLE);
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *pc = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL);
        uint8_t sig[RP_SECMON_SIG_DER_MAX], short_digest[20] = { 0 };
        size_t siglen = sizeof sig;

        assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA384", NULL, NULL, k, NULL), 0);
        assert_true(queued_error("signs SHA-256 digests only (ES256), not SHA384"));
        assert_int_equal(EVP_DigestSignInit_ex(md, NULL, "SHA2-256", NULL, NULL, k, NULL), 1);
        assert_int_equal(EVP_DigestSignInit_ex(md, NULL, NULL, NULL, NULL, k, NULL), 1);

        assert_int_equal(EVP_PKEY_sign_init(pc), 1);
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(pc, EVP_sha512()), 0);
        assert_true(queued_error("not SHA512"));
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(pc, EVP_sha256()), 1);
        assert_int_equal(EVP_PKEY_sign(pc, sig, &siglen, short_digest, sizeof short_digest), 0);
        assert_true(queued_error("signs a 32-byte SHA-256 digest, not 20 bytes"));
}

/* What X509_sign and friends ask of the signature. */
static void test_algorithm_id(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, UNREACHABLE);
        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *md = EVP_MD_CTX_new();
        X509_ALGOR *alg = X509_ALGOR_new();
        EVP_PKEY_CTX *pc = NULL;
        uint8_t id[64], *expected = NULL;
        int expected_len;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, id, sizeof id),
                OSSL_PARAM_construct_end(),
        };

        assert_non_null(alg);
        assert_true(X509_ALGOR_set0(alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL));
        expected_len = i2d_X509_ALGOR(alg, &expected);
        assert_true(expected_len > 0);
        assert_int_equal(EVP_DigestSignInit_ex(md, &pc, "SHA256", NULL, NULL, k, NULL), 1);
        assert_int_equal(EVP_PKEY_CTX_get_params(pc, params), 1);
        assert_int_equal(params[0].return_size, expected_len);
        assert_memory_equal(id, expected, (size_t) expected_len);
        OPENSSL_free(expected);
        X509_ALGOR_free(alg);
}

/* A self-signed certificate for k (signed by k, from OpenSSL's provider). */
static X509 *certificate_for(EVP_PKEY *k) {
        X509 *x = X509_new();

        assert_non_null(x);
        assert_true(X509_set_version(x, X509_VERSION_3));
        assert_true(ASN1_INTEGER_set(X509_get_serialNumber(x), 1));
        assert_true(X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                                               (const unsigned char *) "Alias", -1, -1, 0));
        assert_true(X509_set_issuer_name(x, X509_get_subject_name(x)));
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), 0));
        assert_non_null(X509_gmtime_adj(X509_getm_notAfter(x), 3600));
        assert_true(X509_set_pubkey(x, k));
        assert_true(X509_sign(x, k, EVP_sha256()) > 0);
        return x;
}

/* What SSL_CTX_use_PrivateKey checks: the certificate is the key's. */
static void test_certificate_match(void **state) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *orig = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *other = p256_generate();
        _cleanup_(evp_pkey_freep) EVP_PKEY *k = secmon_key_for(orig, UNREACHABLE);
        _cleanup_(x509_freep) X509 *mine = certificate_for(orig);
        _cleanup_(x509_freep) X509 *theirs = certificate_for(other);
        _cleanup_(ssl_ctx_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

        assert_int_equal(X509_check_private_key(mine, k), 1);
        assert_int_equal(X509_check_private_key(theirs, k), 0);
        assert_true(queued_error("key values mismatch"));

        assert_non_null(ctx);
        assert_int_equal(SSL_CTX_use_certificate(ctx, theirs), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 0);
        assert_true(queued_error("key values mismatch"));
        assert_int_equal(SSL_CTX_use_certificate(ctx, mine), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey(ctx, k), 1);
        assert_int_equal(SSL_CTX_check_private_key(ctx), 1);
}

static void test_store_refusals(void **state) {
        OSSL_STORE_CTX *st = OSSL_STORE_open("rampart-secmon:", NULL, NULL, NULL, NULL);

        assert_null(st);
        assert_true(queued_error("expected rampart-secmon:<socket path>"));

        st = OSSL_STORE_open("rampart-secmon:" UNREACHABLE, NULL, NULL, NULL, NULL);
        assert_non_null(st);
        assert_null(OSSL_STORE_load(st));
        assert_true(OSSL_STORE_eof(st));
        assert_true(queued_error("cannot reach " UNREACHABLE " — is it running?"));
        OSSL_STORE_close(st);
}

static void test_tls_refusals(void **state) {
        _cleanup_(ssl_ctx_freep) SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        EVP_PKEY *k = NULL;
        rp_error err = {};

        assert_true(rp_secmon_tls_key(NULL, UNREACHABLE, &k, &err) < 0);
        assert_non_null(strstr(err.message, "rampart-secmon: cannot reach " UNREACHABLE " — is it running?"));
        assert_null(k);
        rp_error_clear(&err);
        assert_int_equal(rp_secmon_tls_key(NULL, "", &k, &err), -EINVAL);
        assert_non_null(strstr(err.message, "is not a socket path"));
        rp_error_clear(&err);
        assert_true(rp_secmon_tls_setup(ctx, UNREACHABLE, &err) < 0);
        assert_non_null(strstr(err.message, "rampart-secmon: cannot reach " UNREACHABLE " — is it running?"));
        assert_null(SSL_CTX_get0_privatekey(ctx));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_load_keeps_openssl_ec),
                cmocka_unit_test(test_public_key),
                cmocka_unit_test(test_compressed_point),
                cmocka_unit_test(test_import_refusals),
                cmocka_unit_test(test_export),
                cmocka_unit_test(test_public_only),
                cmocka_unit_test(test_unreachable),
                cmocka_unit_test(test_digests),
                cmocka_unit_test(test_algorithm_id),
                cmocka_unit_test(test_certificate_match),
                cmocka_unit_test(test_store_refusals),
                cmocka_unit_test(test_tls_refusals),
        };
        rp_error err = {};

        /* Before anything else uses OpenSSL: test_load_keeps_openssl_ec. */
        if (rp_secmon_provider_load(NULL, &err) < 0) {
                fprintf(stderr, "%s\n", err.message);
                return 1;
        }
        return cmocka_run_group_tests(tests, NULL, NULL);
}
