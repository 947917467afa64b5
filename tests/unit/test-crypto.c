/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "testlib.h"

static void hex_to(const char *hex, uint8_t *out, size_t len) {
        assert_int_equal(rp_hex_decode(hex, out, len), 0);
}

static void sign_verify_roundtrip(rp_key_type type) {
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        assert_int_equal(rp_key_generate(type, &k, &err), 0);
        assert_int_equal(rp_key_get_type(k), type);
        assert_true(rp_key_is_private(k));
        assert_int_equal(rp_key_cose_alg(k), type == RP_KEY_ES256 ? RP_COSE_ALG_ES256 : RP_COSE_ALG_EDDSA);

        const char msg[] = "hello, rampart";
        uint8_t sig[RP_SIG_MAX];
        size_t sig_len = 0;
        assert_int_equal(rp_key_sign(k, msg, strlen(msg), sig, &sig_len, &err), 0);
        assert_int_equal(sig_len, 64);
        assert_int_equal(rp_key_verify(k, msg, strlen(msg), sig, sig_len, &err), 0);

        /* A changed message, a changed signature: both refused. */
        char bad[] = "hello, rampart";
        bad[0] ^= 1;
        rp_error_clear(&err);
        assert_int_equal(rp_key_verify(k, bad, strlen(bad), sig, sig_len, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "does not verify"));
        for (size_t i = 0; i < sig_len; i += 7) {
                sig[i] ^= 0x80;
                assert_int_equal(rp_key_verify(k, msg, strlen(msg), sig, sig_len, NULL), -EKEYREJECTED);
                sig[i] ^= 0x80;
        }
        /* An empty message works too. */
        assert_int_equal(rp_key_sign(k, "", 0, sig, &sig_len, &err), 0);
        assert_int_equal(rp_key_verify(k, "", 0, sig, sig_len, &err), 0);

        /* Another key of the same type does not verify it. */
        _cleanup_(rp_key_freep) rp_key *other = NULL;
        assert_int_equal(rp_key_generate(type, &other, &err), 0);
        assert_int_equal(rp_key_verify(other, "", 0, sig, sig_len, NULL), -EKEYREJECTED);
}

static void test_es256_roundtrip(void **state) {
        sign_verify_roundtrip(RP_KEY_ES256);
}

static void test_ed25519_roundtrip(void **state) {
        sign_verify_roundtrip(RP_KEY_ED25519);
}

static void test_signature_length(void **state) {
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &k, &err), 0);
        uint8_t sig[80] = {0};
        size_t n;
        assert_int_equal(rp_key_sign(k, "m", 1, sig, &n, &err), 0);
        size_t lens[] = { 0, 63, 65, 70, 72 };
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                rp_error_clear(&err);
                assert_int_equal(rp_key_verify(k, "m", 1, sig, lens[i], &err), -EINVAL);
                char want[64];
                snprintf(want, sizeof want, "is %zu bytes, ES256 needs 64", lens[i]);
                assert_non_null(strstr(err.message, want));
        }
        _cleanup_(rp_key_freep) rp_key *e = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &e, &err), 0);
        rp_error_clear(&err);
        assert_int_equal(rp_key_verify(e, "m", 1, sig, 65, &err), -EINVAL);
        assert_non_null(strstr(err.message, "Ed25519 needs 64"));
}

static void test_es256_scalar_range(void **state) {
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &k, &err), 0);
        uint8_t sig[RP_SIG_MAX];
        size_t n;
        assert_int_equal(rp_key_sign(k, "m", 1, sig, &n, &err), 0);

        static const char order[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
        uint8_t bad[RP_SIG_MAX];

        /* r = 0 */
        memcpy(bad, sig, sizeof bad);
        memset(bad, 0, 32);
        rp_error_clear(&err);
        assert_int_equal(rp_key_verify(k, "m", 1, bad, sizeof bad, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "group order"));
        /* s = n */
        memcpy(bad, sig, sizeof bad);
        hex_to(order, bad + 32, 32);
        rp_error_clear(&err);
        assert_int_equal(rp_key_verify(k, "m", 1, bad, sizeof bad, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "group order"));
        /* r = all ones (> n) */
        memcpy(bad, sig, sizeof bad);
        memset(bad, 0xff, 32);
        assert_int_equal(rp_key_verify(k, "m", 1, bad, sizeof bad, NULL), -EKEYREJECTED);
        /* s = n - 1 is in range but high: refused by the low-S check. */
        memcpy(bad, sig, sizeof bad);
        hex_to(order, bad + 32, 32);
        bad[63] -= 1;
        rp_error_clear(&err);
        assert_int_equal(rp_key_verify(k, "m", 1, bad, sizeof bad, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "high s"));
        /* s = 1 is low and in range: refused as a wrong signature. */
        memcpy(bad, sig, sizeof bad);
        memset(bad + 32, 0, 32);
        bad[63] = 1;
        rp_error_clear(&err);
        assert_int_equal(rp_key_verify(k, "m", 1, bad, sizeof bad, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "does not verify"));
}

/* s := n - s on a 64-byte r||s signature, written here independently of
 * lib/core: (r, n - s) is the other valid ECDSA signature of the message. */
static void negate_s(uint8_t sig[RP_SIG_MAX]) {
        uint8_t n[32];
        hex_to("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", n, sizeof n);
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
                int d = n[i] - sig[32 + i] - borrow;
                borrow = d < 0;
                sig[32 + i] = (uint8_t) (d + (borrow ? 256 : 0));
        }
}

/* ES256 signatures are made in the low-S form, and the high-S twin of a
 * genuine signature (made without the key) is refused. */
static void test_es256_low_s(void **state) {
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &k, &err), 0);
        uint8_t half[32];
        hex_to("7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8", half, sizeof half);
        /* Half of all raw ECDSA signatures have a high s: 64 in a row that
         * are all low means they are normalised (a miss is 2^-64 likely). */
        for (int i = 0; i < 64; i++) {
                uint8_t sig[RP_SIG_MAX];
                size_t n;
                assert_int_equal(rp_key_sign(k, &i, sizeof i, sig, &n, &err), 0);
                if (memcmp(sig + 32, half, 32) > 0)
                        fail_msg("signature %d has a high s", i);
                assert_int_equal(rp_key_verify(k, &i, sizeof i, sig, n, &err), 0);
                negate_s(sig);
                rp_error_clear(&err);
                assert_int_equal(rp_key_verify(k, &i, sizeof i, sig, n, &err), -EKEYREJECTED);
                assert_non_null(strstr(err.message, "high s"));
        }
}

/* Ed25519's S + L: the same signature to a lax verifier, a second byte
 * form of it to anyone else. Refused before OpenSSL sees it, as not a
 * verdict OpenSSL might give for other reasons. */
static void test_ed25519_s_range(void **state) {
        static const uint8_t L[32] = {
                0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
                [31] = 0x10,
        };
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &k, &err), 0);
        uint8_t sig[RP_SIG_MAX];
        size_t n;
        assert_int_equal(rp_key_sign(k, "m", 1, sig, &n, &err), 0);
        assert_int_equal(rp_key_verify(k, "m", 1, sig, n, &err), 0);
        unsigned carry = 0;
        for (int i = 0; i < 32; i++) {
                unsigned v = sig[32 + i] + L[i] + carry;
                sig[32 + i] = (uint8_t) v;
                carry = v >> 8;
        }
        assert_int_equal(carry, 0);
        assert_int_equal(rp_key_verify(k, "m", 1, sig, n, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "Ed25519 signature is invalid: S is not below the group order"));
        /* S = L exactly, and S = L - 1 (in range, wrong). */
        memcpy(sig + 32, L, 32);
        assert_int_equal(rp_key_verify(k, "m", 1, sig, n, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "S is not below the group order"));
        sig[32] -= 1;
        assert_int_equal(rp_key_verify(k, "m", 1, sig, n, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "Ed25519 signature does not verify"));
}

/* A signature made by python3-cryptography over the same key. */
static void test_es256_known_answer(void **state) {
        rp_error err = {0};
        _cleanup_free_ char *priv = test_data_path("keys/es256.pem");
        _cleanup_free_ char *pub = test_data_path("keys/es256.pub");
        _cleanup_(rp_key_freep) rp_key *k = NULL, *p = NULL;
        assert_int_equal(rp_key_load_private(priv, &k, &err), 0);
        assert_int_equal(rp_key_load_public(pub, &p, &err), 0);
        assert_false(rp_key_is_private(p));

        const char msg[] = "rampart known-answer test";
        uint8_t sig[RP_SIG_MAX];
        hex_to("c38df2d8fd08c9c80b72c5bd33e63911b09f577629175d9fa4b8b42ded92dd6e"
               "21dc6c920f306b31bd25a4cc9e31e1ccfb3128f13ea1791d0c63e780f768e9db", sig, sizeof sig);
        assert_int_equal(rp_key_verify(p, msg, strlen(msg), sig, sizeof sig, &err), 0);
        assert_int_equal(rp_key_verify(k, msg, strlen(msg), sig, sizeof sig, &err), 0);

        uint8_t id1[RP_KEY_ID_LEN], id2[RP_KEY_ID_LEN];
        rp_key_id(k, id1);
        rp_key_id(p, id2);
        assert_memory_equal(id1, id2, sizeof id1);
}

/* RFC 8032 section 7.1, TEST 1: the empty message. */
static void test_ed25519_known_answer(void **state) {
        rp_error err = {0};
        _cleanup_free_ char *priv = test_data_path("keys/ed25519-rfc8032.pem");
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        assert_int_equal(rp_key_load_private(priv, &k, &err), 0);
        assert_int_equal(rp_key_get_type(k), RP_KEY_ED25519);

        uint8_t want[RP_SIG_MAX], sig[RP_SIG_MAX];
        size_t n = 0;
        hex_to("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
               "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b", want, sizeof want);
        assert_int_equal(rp_key_sign(k, "", 0, sig, &n, &err), 0);
        assert_int_equal(n, 64);
        assert_memory_equal(sig, want, 64);

        /* Key id = SHA-256 of the DER SPKI, built here by hand. */
        uint8_t spki[44];
        hex_to("302a300506032b6570032100"
               "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", spki, sizeof spki);
        uint8_t want_id[RP_KEY_ID_LEN], id[RP_KEY_ID_LEN];
        assert_int_equal(rp_sha256(spki, sizeof spki, want_id), 0);
        rp_key_id(k, id);
        assert_memory_equal(id, want_id, sizeof id);
}

static void test_save_load(void **state) {
        rp_key_type types[] = { RP_KEY_ES256, RP_KEY_ED25519 };
        for (size_t t = 0; t < ELEMENTSOF(types); t++) {
                rp_error err = {0};
                _cleanup_(rp_key_freep) rp_key *k = NULL;
                assert_int_equal(rp_key_generate(types[t], &k, &err), 0);
                _cleanup_free_ char *priv = test_path(test_tmpdir(), "k.pem");
                _cleanup_free_ char *pub = test_path(test_tmpdir(), "k.pub");
                assert_int_equal(rp_key_save_private(k, priv, &err), 0);
                assert_int_equal(rp_key_save_public(k, pub, &err), 0);

                struct stat st;
                assert_int_equal(stat(priv, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0600);
                assert_int_equal(stat(pub, &st), 0);
                assert_int_equal(st.st_mode & 07777, 0644);

                size_t len;
                _cleanup_free_ uint8_t *text = test_read_file(priv, &len);
                assert_non_null(strstr((char *) text, "-----BEGIN PRIVATE KEY-----"));
                _cleanup_free_ uint8_t *ptext = test_read_file(pub, &len);
                assert_non_null(strstr((char *) ptext, "-----BEGIN PUBLIC KEY-----"));

                _cleanup_(rp_key_freep) rp_key *k2 = NULL, *p2 = NULL, *p3 = NULL;
                assert_int_equal(rp_key_load_private(priv, &k2, &err), 0);
                assert_true(rp_key_is_private(k2));
                assert_int_equal(rp_key_get_type(k2), types[t]);
                assert_int_equal(rp_key_load_public(pub, &p2, &err), 0);
                assert_false(rp_key_is_private(p2));
                /* A private key file loads as a public key (its public half). */
                assert_int_equal(rp_key_load_public(priv, &p3, &err), 0);
                assert_false(rp_key_is_private(p3));

                uint8_t id[RP_KEY_ID_LEN], id2[RP_KEY_ID_LEN], id3[RP_KEY_ID_LEN];
                rp_key_id(k, id);
                rp_key_id(k2, id2);
                assert_memory_equal(id, id2, sizeof id);
                rp_key_id(p2, id2);
                rp_key_id(p3, id3);
                assert_memory_equal(id, id2, sizeof id);
                assert_memory_equal(id, id3, sizeof id);

                /* Signed by the reloaded key, verified by the public one. */
                uint8_t sig[RP_SIG_MAX];
                size_t n;
                assert_int_equal(rp_key_sign(k2, "x", 1, sig, &n, &err), 0);
                assert_int_equal(rp_key_verify(p2, "x", 1, sig, n, &err), 0);

                /* A public key cannot sign or be saved as a private key. */
                rp_error_clear(&err);
                assert_int_equal(rp_key_sign(p2, "x", 1, sig, &n, &err), -EINVAL);
                assert_non_null(strstr(err.message, "private key is needed"));
                rp_error_clear(&err);
                assert_int_equal(rp_key_save_private(p2, priv, &err), -EINVAL);

                /* Saving into a missing directory fails and names the path. */
                rp_error_clear(&err);
                assert_true(rp_key_save_private(k, "/nonexistent-dir/k.pem", &err) < 0);
                assert_non_null(strstr(err.message, "/nonexistent-dir/k.pem"));
        }
}

/* Loads keys/NAME and checks the error code and that the message names the
 * file and contains what. */
static void expect_load_error(const char *name, bool want_private, int code, const char *what) {
        rp_error err = {0};
        _cleanup_free_ char *path = test_data_path(name);
        rp_key *k = (rp_key *) 0x1;
        int r = want_private ? rp_key_load_private(path, &k, &err) : rp_key_load_public(path, &k, &err);
        if (r != code)
                fail_msg("%s: got %d (%s), expected %d", name, r, err.message, code);
        assert_ptr_equal(k, (rp_key *) 0x1);   /* untouched on failure */
        if (!strstr(err.message, path))
                fail_msg("%s: message does not name the file: %s", name, err.message);
        if (!strstr(err.message, what))
                fail_msg("%s: message lacks '%s': %s", name, what, err.message);
}

static void test_load_refusals(void **state) {
        expect_load_error("keys/es256.pub", true, -EINVAL, "a public key, but a private key is needed");
        expect_load_error("keys/cert.pem", true, -EINVAL, "CERTIFICATE, not a key");
        expect_load_error("keys/cert.pem", false, -EINVAL, "CERTIFICATE, not a key");
        expect_load_error("keys/enc.pem", true, -EOPNOTSUPP, "must be unencrypted");
        expect_load_error("keys/sec1.pem", true, -EOPNOTSUPP, "must be PKCS#8");
        expect_load_error("keys/rsa.pem", true, -EOPNOTSUPP, "an RSA key");
        expect_load_error("keys/rsa.pub", false, -EOPNOTSUPP, "an RSA key");
        expect_load_error("keys/p384.pem", true, -EOPNOTSUPP, "curve secp384r1");
        expect_load_error("keys/k1.pem", true, -EOPNOTSUPP, "curve secp256k1");
        expect_load_error("keys/x25519.pem", true, -EOPNOTSUPP, "X25519");
        expect_load_error("keys/README.md", true, -EINVAL, "not PEM");
        expect_load_error("keys/nonexistent.pem", true, -ENOENT, "cannot open");
}

static void expect_pem_error(const char *pem, bool want_private, int code, const char *what) {
        rp_error err = {0};
        rp_key *k = NULL;
        int r = rp_key_from_pem(pem, strlen(pem), want_private, &k, &err);
        if (r != code)
                fail_msg("got %d (%s), expected %d for:\n%s", r, err.message, code, pem);
        assert_null(k);
        if (!strstr(err.message, what))
                fail_msg("message lacks '%s': %s", what, err.message);
}

/* Re-encodes the first PEM block of pem with extra bytes after its DER
 * contents: the same label, still valid base64. */
static char *pem_append_garbage(const void *pem, size_t len, const void *extra, size_t extra_len) {
        BIO *in = BIO_new_mem_buf(pem, (int) len);
        assert_non_null(in);
        char *name = NULL, *header = NULL;
        unsigned char *data = NULL;
        long n = 0;
        assert_int_equal(PEM_read_bio(in, &name, &header, &data, &n), 1);
        BIO_free(in);
        unsigned char *longer = OPENSSL_malloc((size_t) n + extra_len);
        assert_non_null(longer);
        memcpy(longer, data, (size_t) n);
        memcpy(longer + n, extra, extra_len);
        BIO *out = BIO_new(BIO_s_mem());
        assert_non_null(out);
        assert_true(PEM_write_bio(out, name, header, longer, n + (long) extra_len) > 0);
        char *text = NULL;
        long tn = BIO_get_mem_data(out, &text);
        char *ret = strndup(text, (size_t) tn);
        assert_non_null(ret);
        BIO_free(out);
        OPENSSL_free(longer);
        OPENSSL_free(name);
        OPENSSL_free(header);
        OPENSSL_free(data);
        return ret;
}

static void test_pem_refusals(void **state) {
        expect_pem_error("", true, -EINVAL, "empty");
        expect_pem_error("hello", true, -EINVAL, "not PEM");
        expect_pem_error("-----BEGIN PRIVATE KEY-----\nAAAA\n", true, -EINVAL, "malformed PEM");
        expect_pem_error("-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n", true, -EINVAL,
                         "malformed PEM");
        expect_pem_error("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", true, -EINVAL,
                         "does not hold a valid");
        expect_pem_error("-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", false, -EINVAL, "'FOO' block");
        expect_pem_error("-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n", true,
                         -EOPNOTSUPP, "RSA");
        expect_pem_error("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n"
                         "DEK-Info: AES-128-CBC,00000000000000000000000000000000\n\n"
                         "AAAA\n-----END RSA PRIVATE KEY-----\n", true, -EOPNOTSUPP, "unencrypted");

        /* Too large. */
        size_t big = 65 * 1024;
        _cleanup_free_ char *huge = malloc(big + 1);
        assert_non_null(huge);
        memset(huge, 'A', big);
        huge[big] = 0;
        rp_key *k = NULL;
        assert_int_equal(rp_key_from_pem(huge, big, true, &k, NULL), -EFBIG);

        /* A valid key followed by garbage inside the base64 block: the file
         * decodes to the key's DER and then three more bytes. */
        const char *files[] = { "keys/es256.pem", "keys/es256.pub" };
        for (size_t i = 0; i < ELEMENTSOF(files); i++) {
                bool want_private = i == 0;
                _cleanup_free_ char *path = test_data_path(files[i]);
                size_t len;
                _cleanup_free_ uint8_t *pem = test_read_file(path, &len);
                _cleanup_(rp_key_freep) rp_key *ok = NULL;
                assert_int_equal(rp_key_from_pem(pem, len, want_private, &ok, NULL), 0);
                _cleanup_free_ char *bad = pem_append_garbage(pem, len, "\x00\x01\x02", 3);
                expect_pem_error(bad, want_private, -EBADMSG,
                                 want_private ? "trailing bytes after the key in the PRIVATE KEY block"
                                              : "trailing bytes after the key in the PUBLIC KEY block");
        }
}

static void test_sha256(void **state) {
        uint8_t d[RP_SHA256_LEN], want[RP_SHA256_LEN];
        hex_to("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", want, sizeof want);
        assert_int_equal(rp_sha256("abc", 3, d), 0);
        assert_memory_equal(d, want, sizeof d);

        /* Streaming, split at every position, gives the same digest. */
        const char *msg = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
        hex_to("248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1", want, sizeof want);
        for (size_t cut = 0; cut <= strlen(msg); cut++) {
                _cleanup_(rp_sha256_freep) rp_sha256 *h = NULL;
                assert_int_equal(rp_sha256_new(&h), 0);
                assert_int_equal(rp_sha256_update(h, msg, cut), 0);
                assert_int_equal(rp_sha256_update(h, msg + cut, strlen(msg) - cut), 0);
                assert_int_equal(rp_sha256_final(h, d), 0);
                assert_memory_equal(d, want, sizeof d);
                /* Finished: no more updates. */
                assert_int_equal(rp_sha256_update(h, "x", 1), -EINVAL);
                assert_int_equal(rp_sha256_final(h, d), -EINVAL);
        }
        hex_to("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, sizeof want);
        assert_int_equal(rp_sha256(NULL, 0, d), 0);
        assert_memory_equal(d, want, sizeof d);
        rp_sha256_free(NULL);
}

static void test_names(void **state) {
        rp_key_type t = 0;
        assert_int_equal(rp_key_type_from_name("es256", &t), 0);
        assert_int_equal(t, RP_KEY_ES256);
        assert_int_equal(rp_key_type_from_name("ED25519", &t), 0);
        assert_int_equal(t, RP_KEY_ED25519);
        assert_int_equal(rp_key_type_from_name("rsa", &t), -EINVAL);
        assert_int_equal(rp_key_type_from_name(NULL, &t), -EINVAL);
        assert_int_equal(rp_key_type_from_name("", &t), -EINVAL);
        assert_string_equal(rp_key_type_name(RP_KEY_ES256), "ES256");
        assert_string_equal(rp_key_type_name(RP_KEY_ED25519), "Ed25519");

        assert_true(rp_memeq_consttime("abc", "abc", 3));
        assert_false(rp_memeq_consttime("abc", "abd", 3));
        assert_true(rp_memeq_consttime("a", "b", 0));
        rp_key_free(NULL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_es256_roundtrip),
                cmocka_unit_test(test_ed25519_roundtrip),
                cmocka_unit_test(test_signature_length),
                cmocka_unit_test(test_es256_scalar_range),
                cmocka_unit_test(test_es256_low_s),
                cmocka_unit_test(test_ed25519_s_range),
                cmocka_unit_test(test_es256_known_answer),
                cmocka_unit_test(test_ed25519_known_answer),
                cmocka_unit_test(test_save_load),
                cmocka_unit_test(test_load_refusals),
                cmocka_unit_test(test_pem_refusals),
                cmocka_unit_test(test_sha256),
                cmocka_unit_test(test_names),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
