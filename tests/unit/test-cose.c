/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/cbor.h"
#include "core/cose_internal.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/cose.h"
#include "testlib.h"

/* A byte buffer the tests assemble messages in, by hand. */
typedef struct buf {
        uint8_t *d;
        size_t n;
} buf;

static void buf_done(buf *b) {
        free(b->d);
        b->d = NULL;
        b->n = 0;
}

static void put(buf *b, const void *p, size_t n) {
        b->d = realloc(b->d, b->n + n + 1);
        assert_non_null(b->d);
        if (n)
                memcpy(b->d + b->n, p, n);
        b->n += n;
}

static void put_hex(buf *b, const char *hex) {
        size_t n = strlen(hex) / 2;
        uint8_t tmp[4096];
        assert_true(n <= sizeof tmp);
        assert_int_equal(rp_hex_decode(hex, tmp, n), 0);
        put(b, tmp, n);
}

/* A definite-length head, written independently of lib/core. */
static void put_head(buf *b, unsigned major, uint64_t v) {
        uint8_t h[9];
        size_t n;
        if (v < 24) {
                h[0] = (uint8_t) (major << 5 | v);
                n = 1;
        } else if (v < 0x100) {
                h[0] = (uint8_t) (major << 5 | 24);
                h[1] = (uint8_t) v;
                n = 2;
        } else if (v < 0x10000) {
                h[0] = (uint8_t) (major << 5 | 25);
                h[1] = (uint8_t) (v >> 8);
                h[2] = (uint8_t) v;
                n = 3;
        } else {
                h[0] = (uint8_t) (major << 5 | 26);
                for (int i = 0; i < 4; i++)
                        h[1 + i] = (uint8_t) (v >> (24 - 8 * i));
                n = 5;
        }
        put(b, h, n);
}

static void put_bstr(buf *b, const void *p, size_t n) {
        put_head(b, 2, n);
        put(b, p, n);
}

static rp_key *gen(rp_key_type t) {
        rp_key *k = NULL;
        rp_error err = {0};
        assert_int_equal(rp_key_generate(t, &k, &err), 0);
        return k;
}

/* Builds a tagged COSE_Sign1 from raw parts: protected header bytes (hex),
 * unprotected map (hex), payload, and a signature computed over our own
 * hand-built Sig_structure (or sig_len zero bytes if key is NULL). */
static void build_raw(buf *out, const char *tag_hex, const buf *prot, const char *unprot_hex,
                      const char *payload, const void *aad, size_t aad_len, const rp_key *key, size_t sig_len);

static void build(buf *out, const char *tag_hex, const char *prot_hex, const char *unprot_hex,
                  const char *payload, const void *aad, size_t aad_len, const rp_key *key, size_t sig_len) {
        buf prot = {};
        put_hex(&prot, prot_hex);
        build_raw(out, tag_hex, &prot, unprot_hex, payload, aad, aad_len, key, sig_len);
        buf_done(&prot);
}

/* build() with the protected header's bytes given as they are. */
static void build_raw(buf *out, const char *tag_hex, const buf *prot, const char *unprot_hex,
                      const char *payload, const void *aad, size_t aad_len, const rp_key *key, size_t sig_len) {
        uint8_t sig[128] = {0};
        if (key) {
                buf tbs = {};
                put_hex(&tbs, "84" "6a" "5369676e617475726531");   /* ["Signature1", */
                put_bstr(&tbs, prot->d, prot->n);
                put_bstr(&tbs, aad, aad_len);
                put_bstr(&tbs, payload, strlen(payload));
                rp_error err = {0};
                assert_int_equal(rp_key_sign(key, tbs.d, tbs.n, sig, &sig_len, &err), 0);
                buf_done(&tbs);
        }
        put_hex(out, tag_hex);
        put_hex(out, "84");
        put_bstr(out, prot->d, prot->n);
        put_hex(out, unprot_hex);
        put_bstr(out, payload, strlen(payload));
        put_bstr(out, sig, sig_len);
}

/* Decodes b: expects code and a message containing what. */
static void expect_decode_error(const buf *b, int code, const char *what) {
        rp_error err = {0};
        rp_cose_sign1 *m = (rp_cose_sign1 *) 0x1;
        size_t used = 777;
        int r = rp_cose_sign1_decode(b->d, b->n, &m, &used, &err);
        if (r != code)
                fail_msg("decode: got %d (%s), expected %d (%s)", r, err.message, code, what);
        assert_ptr_equal(m, (rp_cose_sign1 *) 0x1);
        assert_int_equal(used, 777);
        if (!strstr(err.message, what))
                fail_msg("message lacks '%s': %s", what, err.message);
        if (strncmp(err.message, "COSE_Sign1: ", 12) != 0)
                fail_msg("message does not name COSE_Sign1: %s", err.message);
}

static rp_cose_sign1 *decode_ok(const buf *b) {
        rp_error err = {0};
        rp_cose_sign1 *m = NULL;
        size_t used = 0;
        if (rp_cose_sign1_decode(b->d, b->n, &m, &used, &err) < 0)
                fail_msg("decode failed: %s", err.message);
        assert_int_equal(used, b->n);
        return m;
}

static void roundtrip(rp_key_type type, const char *ctype) {
        _cleanup_(rp_key_freep) rp_key *k = gen(type);
        rp_error err = {0};
        const char payload[] = "the payload";
        const char aad[] = "context";
        _cleanup_free_ uint8_t *out = NULL;
        size_t len = 0;
        assert_int_equal(rp_cose_sign1_create(k, ctype, payload, strlen(payload), aad, strlen(aad),
                                              &out, &len, &err), 0);

        /* Tagged, four elements, empty unprotected map, deterministic. */
        assert_int_equal(out[0], 0xd2);
        assert_int_equal(out[1], 0x84);
        assert_int_equal(rp_cbor_is_deterministic(out, len), 1);

        /* Trailing bytes (an image after the message) are not consumed. */
        _cleanup_free_ uint8_t *more = malloc(len + 5);
        memcpy(more, out, len);
        memcpy(more + len, "\x01\x02\x03\x04\x05", 5);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
        size_t used = 0;
        assert_int_equal(rp_cose_sign1_decode(more, len + 5, &m, &used, &err), 0);
        assert_int_equal(used, len);

        assert_int_equal(rp_cose_sign1_alg(m), type == RP_KEY_ES256 ? -7 : -8);
        if (ctype)
                assert_string_equal(rp_cose_sign1_content_type(m), ctype);
        else
                assert_null(rp_cose_sign1_content_type(m));
        uint8_t kid[RP_KEY_ID_LEN];
        rp_key_id(k, kid);
        size_t n;
        const uint8_t *got = rp_cose_sign1_kid(m, &n);
        assert_int_equal(n, RP_KEY_ID_LEN);
        assert_memory_equal(got, kid, RP_KEY_ID_LEN);
        got = rp_cose_sign1_payload(m, &n);
        assert_int_equal(n, strlen(payload));
        assert_memory_equal(got, payload, strlen(payload));

        /* The whole message, byte for byte: protected {1: alg, 3: ctype,
         * 4: kid} in this order, an empty unprotected map, the payload and
         * a 64-byte signature. */
        buf prot = {}, want = {};
        put_hex(&prot, ctype ? "a3" : "a2");
        put_hex(&prot, type == RP_KEY_ES256 ? "0126" : "0127");
        if (ctype) {
                put_hex(&prot, "03");
                put_head(&prot, 3, strlen(ctype));
                put(&prot, ctype, strlen(ctype));
        }
        put_hex(&prot, "04");
        put_bstr(&prot, kid, sizeof kid);
        put_hex(&want, "d284");
        put_bstr(&want, prot.d, prot.n);
        put_hex(&want, "a0");
        put_bstr(&want, payload, strlen(payload));
        put_hex(&want, "5840");
        assert_int_equal(len, want.n + 64);
        assert_memory_equal(out, want.d, want.n);
        buf_done(&prot);
        buf_done(&want);

        /* Verifies with the key and with its public half. */
        assert_int_equal(rp_cose_sign1_verify(m, k, aad, strlen(aad), &err), 0);
        _cleanup_free_ char *pub_path = test_path(test_tmpdir(), "pub.pem");
        assert_int_equal(rp_key_save_public(k, pub_path, &err), 0);
        _cleanup_(rp_key_freep) rp_key *pub = NULL;
        assert_int_equal(rp_key_load_public(pub_path, &pub, &err), 0);
        assert_int_equal(rp_cose_sign1_verify(m, pub, aad, strlen(aad), &err), 0);

        /* external_aad must match. */
        rp_error_clear(&err);
        assert_int_equal(rp_cose_sign1_verify(m, pub, NULL, 0, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "COSE_Sign1: "));
        assert_non_null(strstr(err.message, "does not verify"));
        assert_int_equal(rp_cose_sign1_verify(m, pub, "Context", 7, NULL), -EKEYREJECTED);

        /* Another key of the same type: refused. */
        _cleanup_(rp_key_freep) rp_key *other = gen(type);
        assert_int_equal(rp_cose_sign1_verify(m, other, aad, strlen(aad), NULL), -EKEYREJECTED);

        /* A key of the other type: refused, saying why. */
        _cleanup_(rp_key_freep) rp_key *wrong = gen(type == RP_KEY_ES256 ? RP_KEY_ED25519 : RP_KEY_ES256);
        rp_error_clear(&err);
        assert_int_equal(rp_cose_sign1_verify(m, wrong, aad, strlen(aad), &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, type == RP_KEY_ES256 ? "alg is ES256 (-7) but the key is Ed25519"
                                                                 : "alg is EdDSA (-8) but the key is ES256"));

        /* Flipping any bit of the message makes decode or verify fail. */
        for (size_t i = 0; i < len; i++)
                for (int bit = 0; bit < 8; bit += 3) {
                        out[i] ^= (uint8_t) (1u << bit);
                        rp_cose_sign1 *t = NULL;
                        int r = rp_cose_sign1_decode(out, len, &t, &used, NULL);
                        if (r == 0) {
                                r = rp_cose_sign1_verify(t, pub, aad, strlen(aad), NULL);
                                rp_cose_sign1_free(t);
                                if (r != -EKEYREJECTED)
                                        fail_msg("byte %zu bit %d flipped: verify gave %d", i, bit, r);
                        }
                        out[i] ^= (uint8_t) (1u << bit);
                }
}

static void test_roundtrip_es256(void **state) {
        roundtrip(RP_KEY_ES256, NULL);
        roundtrip(RP_KEY_ES256, "application/vnd.rampart.manifest+cbor");
}

static void test_roundtrip_ed25519(void **state) {
        roundtrip(RP_KEY_ED25519, NULL);
        roundtrip(RP_KEY_ED25519, "text/plain");
}

static void test_empty_payload(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ED25519);
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        rp_error err = {0};
        assert_int_equal(rp_cose_sign1_create(k, NULL, NULL, 0, NULL, 0, &out, &len, &err), 0);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
        assert_int_equal(rp_cose_sign1_decode(out, len, &m, NULL, &err), 0);
        size_t n = 1;
        assert_non_null(rp_cose_sign1_payload(m, &n));
        assert_int_equal(n, 0);
        assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, &err), 0);
}

static void test_create_refusals(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);
        rp_error err = {0};
        uint8_t *out = NULL;
        size_t len = 0;
        assert_int_equal(rp_cose_sign1_create(k, "bad\ntype", "x", 1, NULL, 0, &out, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "content type"));
        assert_int_equal(rp_cose_sign1_create(k, "", "x", 1, NULL, 0, &out, &len, NULL), -EINVAL);
        size_t big = RP_COSE_MAX_SIZE + 1;
        _cleanup_free_ uint8_t *huge = calloc(1, big);
        assert_int_equal(rp_cose_sign1_create(k, NULL, huge, big, NULL, 0, &out, &len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "payload is 1048577 bytes, the limit is 1048576"));
        /* Just under the limit for the payload, but over it with headers. */
        assert_int_equal(rp_cose_sign1_create(k, NULL, huge, RP_COSE_MAX_SIZE - 10, NULL, 0, &out, &len, &err),
                         -EFBIG);
        /* external_aad over the limit, signing and verifying. */
        assert_int_equal(rp_cose_sign1_create(k, NULL, "x", 1, huge, big, &out, &len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "COSE_Sign1: external_aad is too large"));
        uint8_t *good = NULL;
        size_t good_len = 0;
        assert_int_equal(rp_cose_sign1_create(k, NULL, "x", 1, NULL, 0, &good, &good_len, &err), 0);
        rp_cose_sign1 *m = NULL;
        assert_int_equal(rp_cose_sign1_decode(good, good_len, &m, NULL, &err), 0);
        rp_error_clear(&err);
        assert_int_equal(rp_cose_sign1_verify(m, k, huge, big, &err), -EFBIG);
        assert_non_null(strstr(err.message, "COSE_Sign1: external_aad is too large"));
        rp_cose_sign1_free(m);
        free(good);
        assert_null(out);

        /* A public key cannot sign. */
        _cleanup_free_ char *p = test_path(test_tmpdir(), "k.pub");
        assert_int_equal(rp_key_save_public(k, p, &err), 0);
        _cleanup_(rp_key_freep) rp_key *pub = NULL;
        assert_int_equal(rp_key_load_public(p, &pub, &err), 0);
        rp_error_clear(&err);
        assert_int_equal(rp_cose_sign1_create(pub, NULL, "x", 1, NULL, 0, &out, &len, &err), -EINVAL);
        assert_string_equal(err.message, "COSE_Sign1: signing needs a private key");
}

/* Messages in the profile but unlike what rampart writes: no kid, a
 * content-format number, a kid that is not a key id, crit. */
static void test_accepts_others(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);
        _cleanup_(rp_key_freep) rp_key *e = gen(RP_KEY_ED25519);
        rp_error err = {0};
        struct {
                const char *prot;
                rp_key *key;
                const char *ctype;
                const char *kid_hex;
        } cases[] = {
                { "a10126", k, NULL, NULL },
                { "a10127", e, NULL, NULL },
                { "a20126031832", k, "50", NULL },                 /* content-format 50 */
                { "a301260363612f620442abcd", k, "a/b", "abcd" },
                { "a201260447636f73652d6a73", k, NULL, "636f73652d6a73" }, /* cose-js's kid */
                { "a20126028101", k, NULL, NULL },                 /* crit [1] */
                { "a3012602820104044100", k, NULL, "00" },         /* crit [1, 4] */
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(buf_done) buf b = {};
                build(&b, "d2", cases[i].prot, "a0", "payload", NULL, 0, cases[i].key, 0);
                _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
                size_t used;
                rp_error_clear(&err);
                if (rp_cose_sign1_decode(b.d, b.n, &m, &used, &err) < 0)
                        fail_msg("case %zu: %s", i, err.message);
                if (rp_cose_sign1_verify(m, cases[i].key, NULL, 0, &err) < 0)
                        fail_msg("case %zu: verify: %s", i, err.message);
                if (cases[i].ctype)
                        assert_string_equal(rp_cose_sign1_content_type(m), cases[i].ctype);
                else
                        assert_null(rp_cose_sign1_content_type(m));
                size_t kid_len;
                const uint8_t *kid = rp_cose_sign1_kid(m, &kid_len);
                if (cases[i].kid_hex) {
                        _cleanup_free_ char *hex = rp_hex_encode(kid, kid_len);
                        assert_string_equal(hex, cases[i].kid_hex);
                } else {
                        assert_null(kid);
                        assert_int_equal(kid_len, 0);
                }
                /* Signed without external_aad: verifying with one fails. */
                assert_int_equal(rp_cose_sign1_verify(m, cases[i].key, "x", 1, NULL), -EKEYREJECTED);
        }
}

/* One byte form. Each message here carries a valid signature: the first
 * ones are a genuine message re-encoded without the key (its unsigned
 * heads, its unprotected header), the others have non-canonical protected
 * headers signed by the key. All would verify; all must be refused. */
static void test_one_byte_form(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);
        rp_error err = {0};
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        const char payload[] = "payload";
        assert_int_equal(rp_cose_sign1_create(k, NULL, payload, 7, NULL, 0, &out, &len, &err), 0);
        /* d2 84 58 26 <38-byte protected> a0 47 <payload> 58 40 <signature> */
        assert_int_equal(len, 2 + 2 + 38 + 1 + 1 + 7 + 2 + 64);
        const uint8_t *prot = out + 4, *sig = out + len - 64;
        struct {
                const char *what;      /* the message's reason */
                const char *tag, *array, *prot_head, *unprot, *payload_head, *sig_head;
        } forms[] = {
                { "tag 18 has a long-form head", "d812", "84", "5826", "a0", "47", "5840" },
                { "the array has a long-form head", "d2", "9804", "5826", "a0", "47", "5840" },
                { "the protected header's byte string has a long-form head", "d2", "84", "590026", "a0", "47", "5840" },
                { "the unprotected header has a long-form head", "d2", "84", "5826", "b800", "47", "5840" },
                { "the payload's byte string has a long-form head", "d2", "84", "5826", "a0", "5807", "5840" },
                { "the signature's byte string has a long-form head", "d2", "84", "5826", "a0", "47", "590040" },
                { "unprotected header must be empty (it is not signed), it has 1 labels", "d2", "84", "5826",
                  "a1044101", "47", "5840" },
                { "unprotected header must be empty", "d2", "84", "5826", "a105f6", "47", "5840" },
                { NULL, "d2", "84", "5826", "a0", "47", "5840" },   /* the genuine one */
        };
        for (size_t i = 0; i < ELEMENTSOF(forms); i++) {
                _cleanup_(buf_done) buf b = {};
                put_hex(&b, forms[i].tag);
                put_hex(&b, forms[i].array);
                put_hex(&b, forms[i].prot_head);
                put(&b, prot, 38);
                put_hex(&b, forms[i].unprot);
                put_hex(&b, forms[i].payload_head);
                put(&b, payload, 7);
                put_hex(&b, forms[i].sig_head);
                put(&b, sig, 64);
                if (forms[i].what) {
                        expect_decode_error(&b, -EINVAL, forms[i].what);
                        continue;
                }
                assert_memory_equal(b.d, out, len);
                _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = decode_ok(&b);
                assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, &err), 0);
        }

        /* Protected headers with the same meaning in other forms, or with
         * labels outside the profile, each signed properly. */
        struct {
                const char *prot, *what;
        } hdrs[] = {
                { "a2180126044101", "protected header: not in deterministic CBOR" },        /* label 1 as 18 01 */
                { "a2013806044101", "protected header: not in deterministic CBOR" },          /* -7 as 38 06 */
                { "a20126045801" "01", "protected header: not in deterministic CBOR" },     /* kid length 58 01 */
                { "b9000201260441" "01", "protected header: not in deterministic CBOR" },   /* map head b9 0002 */
                { "a204410101" "26", "protected header: labels are not in ascending order (1 after 4)" },
                { "a203616101" "26", "protected header: labels are not in ascending order (1 after 3)" },
                { "a20126182a00", "protected header: unknown label 42" },
                { "a201262000", "protected header: unknown label -1" },
                { "a201260500", "protected header: unknown label 5" },
                { "a201266474797065f5", "protected header: unknown label \"type\"" },
        };
        for (size_t i = 0; i < ELEMENTSOF(hdrs); i++) {
                _cleanup_(buf_done) buf b = {};
                build(&b, "d2", hdrs[i].prot, "a0", "payload", NULL, 0, k, 0);
                expect_decode_error(&b, -EINVAL, hdrs[i].what);
        }
}

/* Messages with a valid outer shape but a bad part. */
static void test_structure_refusals(void **state) {
        struct {
                const char *hex;
                int code;
                const char *what;
        } cases[] = {
                { "", -EBADMSG, "empty input" },
                { "8443a10126a0407840", -EINVAL, "untagged" },
                { "a0", -EINVAL, "expected tag 18" },
                { "d862" "8443a10126a04040", -EINVAL, "tag 98, expected 18 (tag 98 is COSE_Sign" },
                { "d1" "8443a10126a04040", -EINVAL, "tag 17, expected 18 (tag 17 is COSE_Mac0)" },
                { "d2a0", -EINVAL, "tag 18 holds a map, expected an array" },
                { "d28343a10126a040", -EINVAL, "array has 3 elements, expected 4" },
                { "d28543a10126a0404000", -EINVAL, "array has 5 elements" },
                { "d284a10126a04040", -EINVAL, "protected header is a map, expected a byte string" },
                { "d28440a04040", -EINVAL, "protected header is empty; alg (1) is required" },
                { "d2844180a04040", -EINVAL, "protected header is an array, expected a map" },
                { "d28444a1012600a04040", -EBADMSG, "protected header: 1 bytes after the header map" },
                { "d28443a101" "9f" "a04040", -EINVAL, "protected header: CBOR: indefinite-length" },
                { "d28442a101a04040", -EBADMSG, "protected header: CBOR: truncated" },
                { "d28443a1012680" "4040", -EINVAL, "unprotected header is an array, expected a map" },
                { "d28443a10126a0f640", -EOPNOTSUPP, "payload is nil (detached payloads are not supported)" },
                { "d28443a10126a0614140", -EINVAL, "payload is a text string, expected a byte string" },
                { "d28443a10126a040f6", -EINVAL, "signature is nil, expected a byte string" },
                { "d28443a10126a0404100", -EINVAL, "signature is 1 bytes, ES256 needs 64" },
                { "d28443a10127a04040", -EINVAL, "signature is 0 bytes, EdDSA needs 64" },
                /* Header content. */
                { "d28445a201260126a04040", -EINVAL, "protected header: duplicate label 1" },
                { "d28446a20126180126a04040", -EINVAL, "protected header: duplicate label 1" },
                { "d28447a2616101616101a04040", -EINVAL, "protected header: duplicate label \"a\"" },
                { "d28443a10126a2040004004040", -EINVAL, "unprotected header must be empty (it is not signed), it has 2 labels" },
                { "d28443a10126a101264040", -EINVAL, "unprotected header must be empty" },
                { "d28441a0a04040", -EINVAL, "protected header: alg (1) is missing" },
                { "d28441a0a101264040", -EINVAL, "unprotected header must be empty" },
                { "d28443a10122a04040", -EOPNOTSUPP, "unsupported alg -3" },
                { "d28444a1013822a04040", -EOPNOTSUPP, "unsupported alg -35" },
                { "d28445a101390100a04040", -EOPNOTSUPP, "unsupported alg -257" },
                { "d28448a101654553323536a04040", -EOPNOTSUPP, "alg (1) is text" },
                { "d28443a101f5a04040", -EINVAL, "alg (1) is a boolean, expected an integer" },
                { "d28447a2012602811863a04040", -EOPNOTSUPP, "unknown critical header 99" },
                { "d28447a2012602816178a04040", -EOPNOTSUPP, "unknown critical header \"x\"" },
                { "d28445a201260280a04040", -EINVAL, "crit (2) must be a non-empty array" },
                { "d28445a201260201a04040", -EINVAL, "crit (2) must be a non-empty array" },
                { "d28446a20126028103a04040", -EINVAL, "crit (2) lists 3, which is not in the protected" },
                { "d28443a10126a1028101" "4040", -EINVAL, "unprotected header must be empty" },
                { "d28443a10126a1040a4040", -EINVAL, "unprotected header must be empty" },
                { "d28445a201260403a04040", -EINVAL, "protected header: kid (4) is an integer" },
                { "d28445a2012603f5a04040", -EINVAL, "content type (3) is a boolean" },
                { "d28445a201260360a04040", -EINVAL, "content type (3) must be 1 to 256 printable" },
                { "d28446a20126036107a04040", -EINVAL, "content type (3) must be 1 to 256 printable" },
                { "d28445a201260320a04040", -EINVAL, "content type (3) is an integer, expected text or" },
                { "d28443a10126a18000" "4040", -EINVAL, "unprotected header must be empty" },
                { "d28445a280000126a04040", -EINVAL, "protected header: label 0 is not an integer or text" },
                /* Indefinite lengths anywhere. */
                { "d29f43a10126a04040ff", -EINVAL, "indefinite-length item at byte 1" },
                { "d28443a10126bfff4040", -EINVAL, "indefinite-length" },
                { "d28443a10126a05f40ff40", -EINVAL, "indefinite-length" },
                /* Huge declared lengths. */
                { "d28443a10126a05bffffffffffffffff", -EBADMSG, "declares 18446744073709551615 bytes" },
                { "d28443a10126a05affffffff00", -EBADMSG, "declares 4294967295 bytes" },
                { "d28443a10126bbffffffffffffffff00", -EBADMSG, "truncated: the map at byte 6 declares 18446744073709551615 pairs" },
                { "d29b7fffffffffffffff00", -EBADMSG, "truncated: the array at byte 1 declares 9223372036854775807 items" },
                /* Reserved additional information. */
                { "d28443a10126a05c", -EINVAL, "reserved additional information 28" },
                /* A float in a header. */
                { "d28443a10126a101f93c004040", -EOPNOTSUPP, "floating-point" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(buf_done) buf b = {};
                put_hex(&b, cases[i].hex);
                if (strlen(cases[i].hex) != 2 * b.n)
                        fail_msg("case %zu: bad hex", i);
                expect_decode_error(&b, cases[i].code, cases[i].what);
        }
}

static void test_signature_length(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);
        size_t lens[] = { 0, 63, 65, 70, 72 };
        for (size_t i = 0; i < ELEMENTSOF(lens); i++) {
                _cleanup_(buf_done) buf b = {};
                build(&b, "d2", "a10126", "a0", "payload", NULL, 0, NULL, lens[i]);
                char want[64];
                snprintf(want, sizeof want, "signature is %zu bytes, ES256 needs 64", lens[i]);
                expect_decode_error(&b, -EINVAL, want);
        }
        /* A 64-byte signature of zeros decodes but does not verify. */
        _cleanup_(buf_done) buf b = {};
        build(&b, "d2", "a10126", "a0", "payload", NULL, 0, NULL, 64);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = decode_ok(&b);
        rp_error err = {0};
        assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "group order"));
}

/* Decodes b (it must decode) and verifies it with k. */
static int decode_verify(const buf *b, const rp_key *k) {
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = decode_ok(b);
        return rp_cose_sign1_verify(m, k, NULL, 0, NULL);
}

static void test_tampering(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);

        /* Changed payload, protected header or signature, each in turn:
         * d2 84 47 <a2 01 26 04 42 01 02> a0 48 "payload!" 58 40 <sig>. */
        _cleanup_(buf_done) buf good = {};
        build(&good, "d2", "a2012604420102", "a0", "payload!", NULL, 0, k, 0);
        assert_int_equal(decode_verify(&good, k), 0);
        size_t at[] = { 13, 18, 9 + 1 + 8 + 2 + 10 };   /* payload, kid 0102 -> 0103, signature */
        for (size_t i = 0; i < ELEMENTSOF(at); i++) {
                good.d[at[i]] ^= 1;
                assert_int_equal(decode_verify(&good, k), -EKEYREJECTED);
                good.d[at[i]] ^= 1;
        }
        assert_int_equal(decode_verify(&good, k), 0);
}

static void test_truncation(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ED25519);
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        rp_error err = {0};
        assert_int_equal(rp_cose_sign1_create(k, "t/t", "abc", 3, NULL, 0, &out, &len, &err), 0);
        for (size_t cut = 1; cut < len; cut++) {
                rp_cose_sign1 *m = NULL;
                rp_error_clear(&err);
                int r = rp_cose_sign1_decode(out, cut, &m, NULL, &err);
                if (r != -EBADMSG)
                        fail_msg("prefix of %zu bytes: got %d (%s)", cut, r, err.message);
                assert_null(m);
        }
}

static void test_hostile_sizes(void **state) {
        /* 10000-deep nesting in the unprotected header. */
        _cleanup_(buf_done) buf b = {};
        put_hex(&b, "d284" "43a10126" "a101");
        for (int i = 0; i < 10000; i++)
                put_hex(&b, "81");
        put_hex(&b, "00" "4040");
        expect_decode_error(&b, -EFBIG, "nested deeper than 16 levels");

        /* The same inside the protected header. */
        _cleanup_(buf_done) buf p = {};
        buf hdr = {};
        put_hex(&hdr, "a2012605");
        for (int i = 0; i < 10000; i++)
                put_hex(&hdr, "81");
        put_hex(&hdr, "00");
        put_hex(&p, "d284");
        put_bstr(&p, hdr.d, hdr.n);
        put_hex(&p, "a04040");
        buf_done(&hdr);
        expect_decode_error(&p, -EFBIG, "protected header: CBOR: nested deeper");

        /* Many items. */
        _cleanup_(buf_done) buf many = {};
        put_hex(&many, "d284" "43a10126" "a101");
        put_head(&many, 4, 5000);
        for (int i = 0; i < 5000; i++)
                put_hex(&many, "00");
        put_hex(&many, "4040");
        expect_decode_error(&many, -EFBIG, "more than 4096 items");

        /* Over the size limit: refused without reading it all. */
        size_t n = RP_COSE_MAX_SIZE + 100;
        _cleanup_(buf_done) buf big = {};
        put_hex(&big, "d284" "43a10126" "a0");
        put_head(&big, 2, n);
        uint8_t *zeros = calloc(1, n);
        put(&big, zeros, n);
        free(zeros);
        put_hex(&big, "40");
        expect_decode_error(&big, -EFBIG, "larger than the limit of 1048576 bytes");

        /* A huge kid. */
        _cleanup_(buf_done) buf kid = {}, kid_hdr = {};
        put_hex(&kid_hdr, "a2012604");
        uint8_t k[300] = {0};
        put_bstr(&kid_hdr, k, sizeof k);
        put_hex(&kid, "d284");
        put_bstr(&kid, kid_hdr.d, kid_hdr.n);
        put_hex(&kid, "a0" "4040");
        expect_decode_error(&kid, -EFBIG, "protected header: kid (4) is 300 bytes, the limit is 256");
}

/* ES256 malleability: replacing s by n - s in a genuine message gives,
 * without the key, a second valid ECDSA signature. It must be refused. */
static void test_high_s_refused(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);
        rp_error err = {0};
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        assert_int_equal(rp_cose_sign1_create(k, "t/t", "payload", 7, NULL, 0, &out, &len, &err), 0);
        /* The signature is the last 64 bytes; s is its second half. */
        uint8_t *s = out + len - 32;
        uint8_t n[32];
        assert_int_equal(rp_hex_decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", n, 32), 0);
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
                int d = n[i] - s[i] - borrow;
                borrow = d < 0;
                s[i] = (uint8_t) (d + (borrow ? 256 : 0));
        }
        _cleanup_(buf_done) buf b = {};
        put(&b, out, len);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = decode_ok(&b);
        assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, &err), -EKEYREJECTED);
        if (!strstr(err.message, "COSE_Sign1: ES256 signature has a high s"))
                fail_msg("high-S twin: %s", err.message);
}

/* A digest signer as a root of trust is one: an ES256 key that signs a
 * SHA-256 digest (OpenSSL's raw EVP_PKEY_sign, the low-S r||s form made
 * here), counting its calls; fail makes it refuse. */
typedef struct digest_signer {
        EVP_PKEY *pkey;
        int calls;
        bool fail;
        uint8_t last_digest[RP_SHA256_LEN];
} digest_signer;

static int sign_digest(void *ctx, const uint8_t digest[RP_SHA256_LEN], uint8_t ret_sig[RP_SIG_MAX], rp_error *err) {
        digest_signer *s = ctx;
        s->calls++;
        memcpy(s->last_digest, digest, RP_SHA256_LEN);
        if (s->fail)
                return rp_error_set(err, -EIO, "the signer is unplugged");
        EVP_PKEY_CTX *c = EVP_PKEY_CTX_new(s->pkey, NULL);
        assert_non_null(c);
        assert_int_equal(EVP_PKEY_sign_init(c), 1);
        uint8_t der[80];
        size_t der_len = sizeof der;
        assert_int_equal(EVP_PKEY_sign(c, der, &der_len, digest, RP_SHA256_LEN), 1);
        EVP_PKEY_CTX_free(c);
        const unsigned char *p = der;
        ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long) der_len);
        assert_non_null(sig);
        BIGNUM *order = NULL, *half = NULL, *s_low = BN_new();
        assert_true(BN_hex2bn(&order, "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551") > 0);
        half = BN_dup(order);
        assert_true(half && s_low && BN_rshift1(half, half));
        const BIGNUM *r = ECDSA_SIG_get0_r(sig), *sv = ECDSA_SIG_get0_s(sig);
        if (BN_cmp(sv, half) > 0)
                assert_true(BN_sub(s_low, order, sv));
        else
                assert_non_null(BN_copy(s_low, sv));
        assert_int_equal(BN_bn2binpad(r, ret_sig, 32), 32);
        assert_int_equal(BN_bn2binpad(s_low, ret_sig + 32, 32), 32);
        BN_free(order);
        BN_free(half);
        BN_free(s_low);
        ECDSA_SIG_free(sig);
        return 0;
}

/* A fresh P-256 signer, and its key as an rp_key for verifying. */
static void signer_new(digest_signer *s, rp_key **ret_key) {
        *s = (digest_signer) { .pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") };
        assert_non_null(s->pkey);
        BIO *bio = BIO_new(BIO_s_mem());
        assert_non_null(bio);
        assert_int_equal(PEM_write_bio_PrivateKey(bio, s->pkey, NULL, NULL, 0, NULL, NULL), 1);
        char *pem;
        long n = BIO_get_mem_data(bio, &pem);
        rp_error err = {0};
        assert_int_equal(rp_key_from_pem(pem, (size_t) n, true, ret_key, &err), 0);
        BIO_free(bio);
}

static void signer_done(digest_signer *s) {
        EVP_PKEY_free(s->pkey);
        s->pkey = NULL;
}

/* Signing through a digest signer with x5chain: the message is in the
 * profile's one byte form, x5chain reads back, and it verifies. */
static void test_x5chain_roundtrip(void **state) {
        _cleanup_(signer_done) digest_signer s;
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        signer_new(&s, &k);
        static const uint8_t leaf[] = { 0x30, 0x01, 0x02 }, issuer[300] = { 0x30 };
        const rp_cose_cert chain[] = { { leaf, sizeof leaf }, { issuer, sizeof issuer } };
        const char ct[] = "application/eat+cwt";
        rp_error err = {0};
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        assert_int_equal(rp_cose_sign1_create_x5chain(sign_digest, &s, ct, chain, 2, "claims", 6, &out, &len,
                                                      &err), 0);
        assert_int_equal(s.calls, 1);
        assert_int_equal(rp_cbor_is_deterministic(out, len), 1);

        /* Byte for byte: {1: -7, 3: ct, 33: [leaf, issuer]}. */
        _cleanup_(buf_done) buf prot = {}, want = {}, tbs = {};
        put_hex(&prot, "a3" "0126" "03");
        put_head(&prot, 3, strlen(ct));
        put(&prot, ct, strlen(ct));
        put_hex(&prot, "1821" "82");
        put_bstr(&prot, leaf, sizeof leaf);
        put_bstr(&prot, issuer, sizeof issuer);
        put_hex(&want, "d284");
        put_bstr(&want, prot.d, prot.n);
        put_hex(&want, "a0" "46");
        put(&want, "claims", 6);
        put_hex(&want, "5840");
        assert_int_equal(len, want.n + 64);
        assert_memory_equal(out, want.d, want.n);

        /* The signer was given SHA-256 of the Sig_structure. */
        put_hex(&tbs, "84" "6a" "5369676e617475726531");
        put_bstr(&tbs, prot.d, prot.n);
        put_hex(&tbs, "40" "46");
        put(&tbs, "claims", 6);
        uint8_t digest[RP_SHA256_LEN];
        assert_int_equal(rp_sha256(tbs.d, tbs.n, digest), 0);
        assert_memory_equal(s.last_digest, digest, sizeof digest);

        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
        assert_int_equal(rp_cose_sign1_decode(out, len, &m, NULL, &err), 0);
        assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, &err), 0);
        assert_int_equal(rp_cose_sign1_alg(m), RP_COSE_ALG_ES256);
        assert_string_equal(rp_cose_sign1_content_type(m), ct);
        assert_null(rp_cose_sign1_kid(m, NULL));
        const rp_cose_cert *got = NULL;
        assert_int_equal(rp_cose_sign1_x5chain(m, &got), 2);
        assert_int_equal(got[0].len, sizeof leaf);
        assert_memory_equal(got[0].der, leaf, sizeof leaf);
        assert_int_equal(got[1].len, sizeof issuer);
        assert_memory_equal(got[1].der, issuer, sizeof issuer);

        /* A message without x5chain has none. */
        _cleanup_free_ uint8_t *plain = NULL;
        assert_int_equal(rp_cose_sign1_create(k, NULL, "x", 1, NULL, 0, &plain, &len, &err), 0);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *pm = NULL;
        assert_int_equal(rp_cose_sign1_decode(plain, len, &pm, NULL, &err), 0);
        got = (const rp_cose_cert *) 0x1;
        assert_int_equal(rp_cose_sign1_x5chain(pm, &got), 0);
        assert_null(got);

        /* At the limits: 4 certificates of 4096 bytes, no content type. */
        _cleanup_free_ uint8_t *big = calloc(1, RP_COSE_X5CERT_MAX);
        const rp_cose_cert four[] = { { big, RP_COSE_X5CERT_MAX }, { big, RP_COSE_X5CERT_MAX },
                                      { big, RP_COSE_X5CERT_MAX }, { big, RP_COSE_X5CERT_MAX } };
        _cleanup_free_ uint8_t *out4 = NULL;
        assert_int_equal(rp_cose_sign1_create_x5chain(sign_digest, &s, NULL, four, 4, "", 0, &out4, &len, &err), 0);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m4 = NULL;
        assert_int_equal(rp_cose_sign1_decode(out4, len, &m4, NULL, &err), 0);
        assert_int_equal(rp_cose_sign1_x5chain(m4, NULL), 4);
        assert_int_equal(rp_cose_sign1_verify(m4, k, NULL, 0, &err), 0);
        assert_null(rp_cose_sign1_content_type(m4));
}

static void test_x5chain_create_refusals(void **state) {
        _cleanup_(signer_done) digest_signer s;
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        signer_new(&s, &k);
        _cleanup_free_ uint8_t *big = calloc(1, RP_COSE_X5CERT_MAX + 1);
        static const uint8_t c[] = { 0x30 };
        const rp_cose_cert five[] = { { c, 1 }, { c, 1 }, { c, 1 }, { c, 1 }, { c, 1 } };
        const rp_cose_cert empty[] = { { c, 1 }, { c, 0 } };
        const rp_cose_cert null_der[] = { { NULL, 5 }, { c, 1 } };
        const rp_cose_cert oversize[] = { { c, 1 }, { big, RP_COSE_X5CERT_MAX + 1 } };
        struct {
                const rp_cose_cert *chain;
                size_t n;
                const char *ct;
                const char *what;
        } cases[] = {
                { five, 1, NULL, "COSE_Sign1: x5chain: 1 certificates, it takes 2 to 4" },
                { five, 5, NULL, "COSE_Sign1: x5chain: 5 certificates, it takes 2 to 4" },
                { NULL, 2, NULL, "COSE_Sign1: x5chain: 0 certificates" },
                { empty, 2, NULL, "COSE_Sign1: x5chain: certificate 1 is 0 bytes, it takes 1 to 4096" },
                { null_der, 2, NULL, "COSE_Sign1: x5chain: certificate 0 is 0 bytes" },
                { oversize, 2, NULL, "COSE_Sign1: x5chain: certificate 1 is 4097 bytes" },
                { five, 2, "a\nb", "COSE_Sign1: content type must be 1 to 256 printable" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                rp_error err = {0};
                uint8_t *out = (uint8_t *) 0x1;
                size_t len = 77;
                assert_int_equal(rp_cose_sign1_create_x5chain(sign_digest, &s, cases[i].ct, cases[i].chain,
                                                              cases[i].n, "x", 1, &out, &len, &err), -EINVAL);
                if (!strstr(err.message, cases[i].what))
                        fail_msg("case %zu: %s", i, err.message);
                assert_ptr_equal(out, (uint8_t *) 0x1);
                assert_int_equal(len, 77);
        }
        assert_int_equal(s.calls, 0);
        rp_error err = {0};
        uint8_t *out = NULL;
        size_t len;
        assert_int_equal(rp_cose_sign1_create_x5chain(NULL, &s, NULL, five, 2, "x", 1, &out, &len, &err), -EINVAL);
        assert_string_equal(err.message, "COSE_Sign1: no signer");

        /* The signer's failure, with its message. */
        s.fail = true;
        assert_int_equal(rp_cose_sign1_create_x5chain(sign_digest, &s, NULL, five, 2, "x", 1, &out, &len, &err),
                         -EIO);
        assert_string_equal(err.message, "COSE_Sign1: the signer is unplugged");
        assert_null(out);
}

/* Protected headers with x5chain (33) outside the profile's form, each
 * signed by the key: refused, naming the rule. */
static void test_x5chain_refusals(void **state) {
        _cleanup_(rp_key_freep) rp_key *k = gen(RP_KEY_ES256);
        struct {
                const char *prot;
                int code;
                const char *what;
        } cases[] = {
                { "a20126" "1821" "43308101", -EINVAL,
                  "protected header: x5chain (33) is a byte string (one certificate); the profile takes an array "
                  "of 2 to 4 certificates, leaf first" },
                { "a20126" "1821" "6161", -EINVAL, "protected header: x5chain (33) is a text string, expected an "
                  "array of byte strings" },
                { "a20126" "1821" "a0", -EINVAL, "x5chain (33) is a map" },
                { "a20126" "1821" "80", -EINVAL, "x5chain (33) has 0 certificates, the profile takes 2 to 4" },
                { "a20126" "1821" "814130", -EINVAL, "x5chain (33) has 1 certificates, the profile takes 2 to 4" },
                { "a20126" "1821" "85" "4130" "4130" "4130" "4130" "4130", -EFBIG,
                  "protected header: x5chain (33) has 5 certificates, the limit is 4" },
                { "a20126" "1821" "82" "4130" "01", -EINVAL,
                  "x5chain (33) entry 1 is an integer, expected a byte string (a DER certificate)" },
                { "a20126" "1821" "82" "6130" "4130", -EINVAL, "x5chain (33) entry 0 is a text string" },
                { "a20126" "1821" "82" "4130" "40", -EINVAL, "x5chain (33) entry 1 is empty" },
                /* Order, duplicates, the shortest form. */
                { "a2" "1821" "8241304130" "0126", -EINVAL,
                  "protected header: labels are not in ascending order (1 after 33)" },
                { "a3" "0126" "1821" "8241304130" "044101", -EINVAL, "labels are not in ascending order (4 after 33)" },
                { "a3" "0126" "1821" "8241304130" "1821" "8241304130", -EINVAL, "protected header: duplicate label 33" },
                { "a2" "0126" "190021" "8241304130", -EINVAL, "protected header: not in deterministic CBOR" },
                { "a2" "0126" "1821" "9802" "4130" "4130", -EINVAL, "protected header: not in deterministic CBOR" },
                { "a2" "0126" "1821" "82" "580130" "4130", -EINVAL, "protected header: not in deterministic CBOR" },
                { "a2" "0126" "1822" "8241304130", -EINVAL, "protected header: unknown label 34 (the profile allows "
                  "only 1 alg, 2 crit, 3 content type, 4 kid, 33 x5chain)" },
                { "a2" "0126" "20" "8241304130", -EINVAL, "protected header: unknown label -1" },
                { "a3" "0126" "028118" "22" "1821" "8241304130", -EOPNOTSUPP, "unknown critical header 34" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(buf_done) buf b = {};
                build(&b, "d2", cases[i].prot, "a0", "payload", NULL, 0, k, 0);
                expect_decode_error(&b, cases[i].code, cases[i].what);
        }

        /* One certificate over the size limit (4097 bytes), and one at it. */
        for (size_t len = RP_COSE_X5CERT_MAX; len <= RP_COSE_X5CERT_MAX + 1; len++) {
                _cleanup_(buf_done) buf prot = {}, b = {};
                put_hex(&prot, "a20126" "1821" "82" "4130");
                _cleanup_free_ uint8_t *cert = calloc(1, len);
                put_bstr(&prot, cert, len);
                build_raw(&b, "d2", &prot, "a0", "payload", NULL, 0, k, 0);
                if (len > RP_COSE_X5CERT_MAX) {
                        expect_decode_error(&b, -EFBIG, "protected header: x5chain (33) entry 1 is 4097 bytes, the "
                                            "limit is 4096");
                        continue;
                }
                _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = decode_ok(&b);
                const rp_cose_cert *got;
                assert_int_equal(rp_cose_sign1_x5chain(m, &got), 2);
                assert_int_equal(got[1].len, RP_COSE_X5CERT_MAX);
                assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, NULL), 0);
        }

        /* In the profile: crit may list it; with kid too. */
        const char *ok[] = {
                "a3" "0126" "02811821" "1821" "8241304130",
                "a3" "0126" "044101" "1821" "83413041314132",
        };
        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_(buf_done) buf b = {};
                build(&b, "d2", ok[i], "a0", "payload", NULL, 0, k, 0);
                _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = decode_ok(&b);
                assert_int_equal(rp_cose_sign1_verify(m, k, NULL, 0, NULL), 0);
                assert_int_equal(rp_cose_sign1_x5chain(m, NULL), i + 2);
        }

        /* x5chain in the unprotected header: refused like anything there. */
        _cleanup_(buf_done) buf b = {};
        build(&b, "d2", "a10126", "a1" "1821" "8241304130", "payload", NULL, 0, k, 0);
        expect_decode_error(&b, -EINVAL, "unprotected header must be empty");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_roundtrip_es256),
                cmocka_unit_test(test_roundtrip_ed25519),
                cmocka_unit_test(test_empty_payload),
                cmocka_unit_test(test_create_refusals),
                cmocka_unit_test(test_accepts_others),
                cmocka_unit_test(test_one_byte_form),
                cmocka_unit_test(test_structure_refusals),
                cmocka_unit_test(test_signature_length),
                cmocka_unit_test(test_tampering),
                cmocka_unit_test(test_truncation),
                cmocka_unit_test(test_hostile_sizes),
                cmocka_unit_test(test_high_s_refused),
                cmocka_unit_test(test_x5chain_roundtrip),
                cmocka_unit_test(test_x5chain_create_refusals),
                cmocka_unit_test(test_x5chain_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
