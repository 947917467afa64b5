/* SPDX-License-Identifier: Apache-2.0 */
/* DICE derivation against fixed vectors, ECDSA signature forms, the TcbInfo
 * extension and the certificate chain CA -> DeviceID -> Alias. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/tcbinfo.h"
#include "testlib.h"

/* ---- fixed vectors --------------------------------------------------------
 *
 * UDS = 00 01 02 ... 1f, measurement = 32 bytes a5. The expected values were
 * computed once with this code and cross-checked independently with a short
 * Python script on python3-cryptography (HKDF from cryptography's
 * hazmat.primitives.kdf.hkdf, the rejection loop as int(d) in [1, n),
 * ec.derive_private_key, hmac.new for the CDI), which gave the same bytes. */

static const char DEVICEID_ID[] = "4dcbcbdac264b4d4fa35d1fd029796b50a5ea0e7d786b114810ce464c32b8b93";
static const char DEVICEID_POINT[] =
        "04ebf156ff2b50ef07dbd840ce74bd099f1c07ef408b83b96987135cc5a85c844a"
        "999de1a64c258798d4fbd2fb711e47fe57ca0a50299d9ef9da2a5f8bd7a73273";
static const char CDI[] = "c017ca9349716df434f7ea50dde47c1640a41885b181764235cb675c78cc85e7";
static const char ALIAS_ID[] = "5842d6b13c8734ecd5d7968a0c19977f27744315c890e43280c829e3e50f2aaf";
static const char ALIAS_POINT[] =
        "04a9f008d1d18074f1026b2fada4ba25778e16bea089469ec25c16f044ebe414a9"
        "c6091f423e38f9e9122809cc9d040c6d874319f833a23bd6cfd6e93ad7ffca94";
static const char SEAL_KEY[] = "ae06b5a709b674e5d8ee5cb0c6b920f9ba7f23e6da64be97da17b5d999248f92";

static const char P256_ORDER[] = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";
static const char P256_HALF[] = "7fffffff800000007fffffffffffffffde737d56d38bcf4279dce5617e3192a8";

static void pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}
static void x509_freep(X509 **p) {
        X509_free(*p);
}

static void fixed_uds(uint8_t uds[32]) {
        for (int i = 0; i < 32; i++)
                uds[i] = (uint8_t) i;
}

static void fixed_measurement(uint8_t m[32]) {
        memset(m, 0xa5, 32);
}

static void hex_to(const char *hex, uint8_t *out, size_t len) {
        assert_int_equal(rp_hex_decode(hex, out, len), 0);
}

static void assert_hex_equal(const uint8_t *buf, size_t len, const char *want) {
        _cleanup_free_ char *hex = rp_hex_encode(buf, len);
        assert_non_null(hex);
        assert_string_equal(hex, want);
}

static void assert_point(EVP_PKEY *k, const char *want) {
        uint8_t pt[65];
        size_t len = 0;
        assert_int_equal(EVP_PKEY_get_octet_string_param(k, OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt, &len), 1);
        assert_int_equal(len, 65);
        assert_hex_equal(pt, len, want);
}

static void assert_id(EVP_PKEY *k, const char *want) {
        char id[RP_DEVICE_ID_HEX_LEN + 1];
        assert_int_equal(rp_device_id(k, id), 0);
        assert_string_equal(id, want);
}

/* A public key from an uncompressed point, made without our code. */
static EVP_PKEY *public_from_point(const char *point_hex) {
        uint8_t pt[65];
        hex_to(point_hex, pt, sizeof pt);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, pt, sizeof pt),
                OSSL_PARAM_construct_end(),
        };
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *k = NULL;
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
        assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params), 1);
        EVP_PKEY_CTX_free(ctx);
        return k;
}

/* 1 if sig (r||s) verifies over digest with pub. */
static int verify_raw(EVP_PKEY *pub, const uint8_t digest[32], const uint8_t sig[64]) {
        _cleanup_free_ uint8_t *der = NULL;
        size_t der_len;
        assert_int_equal(rp_ecdsa_sig_to_der(sig, &der, &der_len), 0);
        EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pub, NULL);
        assert_non_null(ctx);
        assert_int_equal(EVP_PKEY_verify_init(ctx), 1);
        assert_int_equal(EVP_PKEY_CTX_set_signature_md(ctx, EVP_sha256()), 1);
        int r = EVP_PKEY_verify(ctx, der, der_len, digest, 32);
        EVP_PKEY_CTX_free(ctx);
        ERR_clear_error();
        return r;
}

static EVP_PKEY *derive(const uint8_t secret[32], const char *label) {
        EVP_PKEY *k = NULL;
        rp_error err = {};
        assert_int_equal(rp_dice_derive_p256(secret, label, &k, &err), 0);
        assert_non_null(k);
        return k;
}

static void test_fixed_vectors(void **state) {
        uint8_t uds[32], m[32], cdi[32], seal[32];
        fixed_uds(uds);
        fixed_measurement(m);

        _cleanup_(pkey_freep) EVP_PKEY *deviceid = derive(uds, "rampart DeviceID");
        assert_id(deviceid, DEVICEID_ID);
        assert_point(deviceid, DEVICEID_POINT);

        assert_int_equal(rp_dice_cdi(uds, m, cdi), 0);
        assert_hex_equal(cdi, sizeof cdi, CDI);
        _cleanup_(pkey_freep) EVP_PKEY *alias = derive(cdi, "rampart Alias");
        assert_id(alias, ALIAS_ID);
        assert_point(alias, ALIAS_POINT);

        assert_int_equal(rp_dice_seal_key(cdi, seal), 0);
        assert_hex_equal(seal, sizeof seal, SEAL_KEY);

        /* The private scalars belong to the expected public points: their
         * signatures verify with keys made from the points alone. */
        _cleanup_(pkey_freep) EVP_PKEY *deviceid_pub = public_from_point(DEVICEID_POINT);
        _cleanup_(pkey_freep) EVP_PKEY *alias_pub = public_from_point(ALIAS_POINT);
        uint8_t digest[32], sig[64];
        assert_int_equal(rp_sha256("vector", 6, digest), 0);
        assert_int_equal(rp_dice_sign_digest(deviceid, digest, sig, NULL), 0);
        assert_int_equal(verify_raw(deviceid_pub, digest, sig), 1);
        assert_int_equal(verify_raw(alias_pub, digest, sig), 0);
        assert_int_equal(rp_dice_sign_digest(alias, digest, sig, NULL), 0);
        assert_int_equal(verify_raw(alias_pub, digest, sig), 1);
        assert_int_equal(verify_raw(deviceid_pub, digest, sig), 0);
}

static void id_of(const uint8_t secret[32], const char *label, char id[RP_DEVICE_ID_HEX_LEN + 1]) {
        _cleanup_(pkey_freep) EVP_PKEY *k = derive(secret, label);
        assert_int_equal(rp_device_id(k, id), 0);
}

/* Alias key id for uds and measurement. */
static void alias_id_of(const uint8_t uds[32], const uint8_t m[32], char id[RP_DEVICE_ID_HEX_LEN + 1]) {
        uint8_t cdi[32];
        assert_int_equal(rp_dice_cdi(uds, m, cdi), 0);
        id_of(cdi, "rampart Alias", id);
}

static void test_changes(void **state) {
        uint8_t uds[32], m[32];
        fixed_uds(uds);
        fixed_measurement(m);
        char dev[65], dev2[65], alias[65], alias2[65];

        /* Same inputs, same keys. */
        id_of(uds, "rampart DeviceID", dev);
        id_of(uds, "rampart DeviceID", dev2);
        assert_string_equal(dev, dev2);
        alias_id_of(uds, m, alias);
        alias_id_of(uds, m, alias2);
        assert_string_equal(alias, alias2);
        assert_string_equal(alias, ALIAS_ID);

        /* One changed measurement byte (each position): another Alias key,
         * the same DeviceID. */
        for (size_t i = 0; i < 32; i += 31) {
                m[i] ^= 1;
                alias_id_of(uds, m, alias2);
                assert_string_not_equal(alias, alias2);
                id_of(uds, "rampart DeviceID", dev2);
                assert_string_equal(dev, dev2);
                m[i] ^= 1;
        }
        /* One changed UDS byte: another DeviceID (and Alias). */
        for (size_t i = 0; i < 32; i += 31) {
                uds[i] ^= 0x80;
                id_of(uds, "rampart DeviceID", dev2);
                assert_string_not_equal(dev, dev2);
                alias_id_of(uds, m, alias2);
                assert_string_not_equal(alias, alias2);
                uds[i] ^= 0x80;
        }
        /* The label separates the keys made from one secret. */
        id_of(uds, "rampart Alias", dev2);
        assert_string_not_equal(dev, dev2);

        /* The seal key follows the CDI. */
        uint8_t cdi[32], k1[32], k2[32];
        assert_int_equal(rp_dice_cdi(uds, m, cdi), 0);
        assert_int_equal(rp_dice_seal_key(cdi, k1), 0);
        cdi[5] ^= 1;
        assert_int_equal(rp_dice_seal_key(cdi, k2), 0);
        assert_memory_not_equal(k1, k2, 32);
}

/* ---- signatures ---------------------------------------------------------- */

/* s = n - s on 32 big-endian bytes. */
static void negate_s(uint8_t s[32]) {
        uint8_t n[32];
        hex_to(P256_ORDER, n, sizeof n);
        unsigned borrow = 0;
        for (size_t i = 32; i-- > 0;) {
                unsigned d = (unsigned) n[i] - s[i] - borrow;
                s[i] = (uint8_t) d;
                borrow = d >> 8 & 1;
        }
}

static void test_low_s(void **state) {
        uint8_t uds[32], half[32];
        fixed_uds(uds);
        hex_to(P256_HALF, half, sizeof half);
        _cleanup_(pkey_freep) EVP_PKEY *k = derive(uds, "rampart DeviceID");
        _cleanup_(pkey_freep) EVP_PKEY *pub = public_from_point(DEVICEID_POINT);
        /* About half of raw ECDSA signatures have a high s: 64 signatures
         * meet both kinds (the chance they do not is 2^-63). */
        int saw_high = 0;
        for (int i = 0; i < 64; i++) {
                uint8_t digest[32], sig[64], twin[64];
                assert_int_equal(rp_sha256(&i, sizeof i, digest), 0);
                assert_int_equal(rp_dice_sign_digest(k, digest, sig, NULL), 0);
                assert_true(memcmp(sig + 32, half, 32) <= 0);
                assert_int_equal(verify_raw(pub, digest, sig), 1);

                /* The high-S twin verifies too, and comes back low. */
                memcpy(twin, sig, 64);
                negate_s(twin + 32);
                _cleanup_free_ uint8_t *der = NULL;
                size_t len;
                assert_int_equal(rp_ecdsa_sig_to_der(twin, &der, &len), 0);
                assert_int_equal(verify_raw(pub, digest, twin), 1);
                uint8_t back[64];
                assert_int_equal(rp_ecdsa_sig_to_raw(der, len, back), 0);
                assert_memory_equal(back, sig, 64);
                saw_high += memcmp(twin + 32, half, 32) > 0;
        }
        assert_true(saw_high > 0);
}

static void test_sig_to_raw_refusals(void **state) {
        uint8_t raw[64], sig[64];
        memset(raw, 0x11, sizeof raw);
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        assert_int_equal(rp_ecdsa_sig_to_der(raw, &der, &len), 0);
        assert_int_equal(rp_ecdsa_sig_to_raw(der, len, sig), 0);
        assert_memory_equal(sig, raw, 64);

        /* A byte after the signature, a truncated one, garbage. */
        uint8_t buf[80];
        memcpy(buf, der, len);
        buf[len] = 0;
        assert_int_equal(rp_ecdsa_sig_to_raw(buf, len + 1, sig), -EINVAL);
        assert_int_equal(rp_ecdsa_sig_to_raw(buf, len - 1, sig), -EINVAL);
        assert_int_equal(rp_ecdsa_sig_to_raw((const uint8_t *) "garbage", 7, sig), -EINVAL);
        assert_int_equal(rp_ecdsa_sig_to_raw(buf, 0, sig), -EINVAL);

        /* r = 0, r = n, s = n, r of 33 bytes: out of range. */
        static const char *const bad[] = {
                "3025020100" "0220" "1111111111111111111111111111111111111111111111111111111111111111",
                "3045022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551"
                "0220" "1111111111111111111111111111111111111111111111111111111111111111",
                "3045" "0220" "1111111111111111111111111111111111111111111111111111111111111111"
                "022100ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
                "3045022101" "1111111111111111111111111111111111111111111111111111111111111111"
                "0220" "1111111111111111111111111111111111111111111111111111111111111111",
        };
        memset(sig, 0x77, sizeof sig);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                uint8_t b[80];
                size_t n = strlen(bad[i]) / 2;
                hex_to(bad[i], b, n);
                assert_int_equal(rp_ecdsa_sig_to_raw(b, n, sig), -ERANGE);
        }
        uint8_t untouched[64];
        memset(untouched, 0x77, sizeof untouched);
        assert_memory_equal(sig, untouched, 64);   /* untouched on failure */
}

/* ---- TcbInfo ------------------------------------------------------------- */

typedef struct buf {
        uint8_t d[2048];
        size_t n;
} buf;

static buf hexbuf(const char *hex) {
        buf b = { .n = strlen(hex) / 2 };
        hex_to(hex, b.d, b.n);
        return b;
}

static buf cat(int n, ...) {
        buf out = {};
        va_list ap;
        va_start(ap, n);
        for (int i = 0; i < n; i++) {
                buf b = va_arg(ap, buf);
                assert_true(out.n + b.n <= sizeof out.d);
                memcpy(out.d + out.n, b.d, b.n);
                out.n += b.n;
        }
        va_end(ap);
        return out;
}

static buf tlv(uint8_t tag, buf content) {
        buf out = { .n = 0 };
        out.d[out.n++] = tag;
        if (content.n >= 0x100) {
                out.d[out.n++] = 0x82;
                out.d[out.n++] = (uint8_t) (content.n >> 8);
        } else if (content.n >= 0x80) {
                out.d[out.n++] = 0x81;
        }
        out.d[out.n++] = (uint8_t) content.n;
        return cat(2, out, content);
}

static buf text(const char *s) {
        buf b = { .n = strlen(s) };
        memcpy(b.d, s, b.n);
        return b;
}

static buf fwid(const char *oid_hex, size_t digest_len) {
        buf digest = { .n = digest_len };
        memset(digest.d, 0xa5, digest_len);
        return tlv(0x30, cat(2, tlv(0x06, hexbuf(oid_hex)), tlv(0x04, digest)));
}

#define SHA256_OID "608648016503040201"
#define SHA384_OID "608648016503040202"

/* The fields rampart writes, before the fwids. */
static buf std_fields(void) {
        return cat(4, tlv(0x80, text("rampart")), tlv(0x81, text("soft")), tlv(0x82, text("0.1.0")),
                   tlv(0x84, hexbuf("01")));
}

static buf std_fwids(void) {
        return tlv(0xa6, fwid(SHA256_OID, 32));
}

static void expect_refused(buf b, int code, const char *msg) {
        rp_tcbinfo info;
        memset(&info, 0x5a, sizeof info);
        rp_tcbinfo before = info;
        rp_error err = {};
        int r = rp_tcbinfo_decode(b.d, b.n, &info, &err);
        if (r != code)
                fail_msg("expected %d, got %d (%s) for '%s'", code, r, err.message, msg);
        if (!strstr(err.message, msg))
                fail_msg("message '%s' lacks '%s'", err.message, msg);
        assert_memory_equal(&info, &before, sizeof info);
}

static void test_tcbinfo_roundtrip(void **state) {
        rp_tcbinfo in = { .vendor = "rampart", .model = "soft", .version = "0.1.0", .layer = 1 };
        memset(in.fwid_sha256, 0xa5, 32);
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        rp_error err = {};
        assert_int_equal(rp_tcbinfo_encode(&in, &der, &len, &err), 0);
        /* The exact bytes (docs/formats.md shows them). */
        buf want = tlv(0x30, cat(2, std_fields(), std_fwids()));
        assert_int_equal(len, want.n);
        assert_memory_equal(der, want.d, len);
        assert_int_equal(der[1], 0x4a);

        rp_tcbinfo out;
        assert_int_equal(rp_tcbinfo_decode(der, len, &out, &err), 0);
        assert_string_equal(out.vendor, "rampart");
        assert_string_equal(out.model, "soft");
        assert_string_equal(out.version, "0.1.0");
        assert_int_equal(out.layer, 1);
        assert_memory_equal(out.fwid_sha256, in.fwid_sha256, 32);

        /* Longest texts, empty texts, layers that need a sign byte. */
        uint32_t layers[] = { 0, 0x7f, 0x80, 0xffff, 0x800000, UINT32_MAX };
        for (size_t i = 0; i < ELEMENTSOF(layers); i++) {
                rp_tcbinfo a = { .layer = layers[i] };
                memset(a.vendor, 'v', RP_TCBINFO_TEXT_MAX);
                strcpy(a.version, "ü");
                a.fwid_sha256[0] = (uint8_t) i;
                _cleanup_free_ uint8_t *d = NULL;
                size_t n;
                assert_int_equal(rp_tcbinfo_encode(&a, &d, &n, &err), 0);
                rp_tcbinfo b;
                assert_int_equal(rp_tcbinfo_decode(d, n, &b, &err), 0);
                assert_memory_equal(&a, &b, sizeof a);
        }

        /* The encoder refuses what the decoder would. */
        rp_tcbinfo bad = in;
        memset(bad.model, 'm', sizeof bad.model);
        assert_int_equal(rp_tcbinfo_encode(&bad, &der, &len, &err), -EFBIG);
        bad = in;
        strcpy(bad.model, "\xff");
        assert_int_equal(rp_tcbinfo_encode(&bad, &der, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "model is not valid UTF-8"));
}

static void test_tcbinfo_refusals(void **state) {
        buf good = tlv(0x30, cat(2, std_fields(), std_fwids()));
        rp_tcbinfo info;
        assert_int_equal(rp_tcbinfo_decode(good.d, good.n, &info, NULL), 0);

        /* Every truncation. */
        for (size_t n = 0; n < good.n; n++) {
                buf t = good;
                t.n = n;
                expect_refused(t, -EBADMSG, "truncated");
        }
        expect_refused(cat(2, good, hexbuf("00")), -EBADMSG, "1 bytes after the DiceTcbInfo");
        expect_refused(tlv(0x31, cat(2, std_fields(), std_fwids())), -EBADMSG, "DiceTcbInfo: tag 0x31");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0xa6, cat(2, fwid(SHA256_OID, 32),
                                                                   fwid(SHA256_OID, 32))))),
                       -EOPNOTSUPP, "more than one FWID");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0xa6, fwid(SHA384_OID, 32)))), -EOPNOTSUPP,
                       "hashAlg is not id-sha256");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0xa6, fwid(SHA256_OID, 31)))), -EBADMSG,
                       "digest is 31 bytes");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0xa6, hexbuf("")))), -EBADMSG, "fwids[0]: truncated");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0xa6, tlv(0x31, hexbuf(""))))), -EBADMSG,
                       "fwids[0]: tag 0x31");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0x86, fwid(SHA256_OID, 32)))), -EBADMSG,
                       "fwids: tag 0x86 has the wrong form");
        expect_refused(tlv(0x30, cat(2, std_fields(), tlv(0xa6, tlv(0x30, cat(3, tlv(0x06, hexbuf(SHA256_OID)),
                                                                            tlv(0x04, hexbuf("00")), hexbuf("0500")))))),
                       -EBADMSG, "bytes after the digest");
        expect_refused(tlv(0x30, std_fields()), -EBADMSG, "no fwids");
        expect_refused(tlv(0x30, hexbuf("")), -EBADMSG, "no fwids");

        /* Texts: too long, not UTF-8, a NUL inside, the wrong tag form. */
        buf longtext = { .n = 65 };
        memset(longtext.d, 'x', 65);
        expect_refused(tlv(0x30, cat(2, tlv(0x80, longtext), std_fwids())), -EFBIG, "vendor is 65 bytes");
        expect_refused(tlv(0x30, cat(2, tlv(0x81, hexbuf("ff")), std_fwids())), -EINVAL, "model is not valid UTF-8");
        expect_refused(tlv(0x30, cat(2, tlv(0x82, hexbuf("6100")), std_fwids())), -EINVAL,
                       "version is not valid UTF-8");
        expect_refused(tlv(0x30, cat(2, tlv(0xa0, text("x")), std_fwids())), -EBADMSG, "wrong form");
        expect_refused(tlv(0x30, cat(2, tlv(0x0c, text("x")), std_fwids())), -EBADMSG, "unexpected tag 0x0c");
        expect_refused(tlv(0x30, cat(2, tlv(0x8a, text("x")), std_fwids())), -EBADMSG, "unexpected tag 0x8a");

        /* Order: repeated or out of order. */
        expect_refused(tlv(0x30, cat(3, tlv(0x81, text("a")), tlv(0x80, text("b")), std_fwids())), -EBADMSG,
                       "vendor [0] repeated or out of order");
        expect_refused(tlv(0x30, cat(3, tlv(0x80, text("a")), tlv(0x80, text("b")), std_fwids())), -EBADMSG,
                       "vendor [0] repeated or out of order");
        expect_refused(tlv(0x30, cat(2, std_fwids(), tlv(0x84, hexbuf("01")))), -EBADMSG, "layer [4] repeated");

        /* Fields outside rampart's profile. */
        expect_refused(tlv(0x30, cat(2, tlv(0x83, hexbuf("01")), std_fwids())), -EOPNOTSUPP,
                       "svn [3] is not part of rampart's profile");
        expect_refused(tlv(0x30, cat(2, std_fwids(), tlv(0x87, hexbuf("0780")))), -EOPNOTSUPP, "flags [7]");

        /* layer: negative, not shortest, too large, empty. */
        expect_refused(tlv(0x30, cat(2, tlv(0x84, hexbuf("ff")), std_fwids())), -ERANGE, "layer is negative");
        expect_refused(tlv(0x30, cat(2, tlv(0x84, hexbuf("0001")), std_fwids())), -EBADMSG, "shortest form");
        expect_refused(tlv(0x30, cat(2, tlv(0x84, hexbuf("ff80")), std_fwids())), -EBADMSG, "shortest form");
        expect_refused(tlv(0x30, cat(2, tlv(0x84, hexbuf("0100000000")), std_fwids())), -ERANGE, "above");
        expect_refused(tlv(0x30, cat(2, tlv(0x84, hexbuf("")), std_fwids())), -EBADMSG, "empty INTEGER");
        buf ok5 = tlv(0x30, cat(2, tlv(0x84, hexbuf("00ffffffff")), std_fwids()));
        assert_int_equal(rp_tcbinfo_decode(ok5.d, ok5.n, &info, NULL), 0);
        assert_int_equal(info.layer, UINT32_MAX);

        /* Lengths: not the shortest form, indefinite, multi-byte tags. */
        buf body = cat(2, std_fields(), std_fwids());
        buf longform = cat(2, hexbuf("3081"), cat(2, (buf) { .d = { (uint8_t) body.n }, .n = 1 }, body));
        expect_refused(longform, -EBADMSG, "shortest form");
        expect_refused(cat(2, hexbuf("308200"), cat(2, (buf) { .d = { (uint8_t) body.n }, .n = 1 }, body)),
                       -EBADMSG, "shortest form");
        expect_refused(cat(3, hexbuf("3080"), body, hexbuf("0000")), -EBADMSG, "indefinite");
        expect_refused(hexbuf("1f8101"), -EBADMSG, "multi-byte tag");

        /* Oversized. */
        buf big = { .n = 1025 };
        expect_refused(big, -EFBIG, "1025 bytes, the limit is 1024");
}

/* ---- certificates -------------------------------------------------------- */

static X509 *load_cert(const char *path) {
        BIO *b = BIO_new_file(path, "r");
        assert_non_null(b);
        X509 *x = PEM_read_bio_X509(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(x);
        return x;
}

static EVP_PKEY *load_key(const char *path) {
        BIO *b = BIO_new_file(path, "r");
        assert_non_null(b);
        EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
        BIO_free(b);
        assert_non_null(k);
        return k;
}

static int key_signer(void *ctx, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t sig[RP_ROT_SIG_LEN],
                      rp_error *err) {
        return rp_dice_sign_digest(ctx, digest, sig, err);
}

static int failing_signer(void *ctx, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t sig[RP_ROT_SIG_LEN],
                          rp_error *err) {
        return rp_error_set(err, -EIO, "the backend is gone");
}

static void assert_cn(X509 *x, const char *want) {
        char cn[128];
        assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn) > 0);
        assert_string_equal(cn, want);
}

/* The serial number's DER: 02 10, then 16 bytes, the first nonzero and
 * without the sign bit (a positive number of exactly 16 bytes). */
static void assert_serial(X509 *x) {
        const ASN1_INTEGER *s = X509_get0_serialNumber(x);
        unsigned char *der = NULL;
        int n = i2d_ASN1_INTEGER(s, &der);
        assert_int_equal(n, 18);
        assert_int_equal(der[0], 0x02);
        assert_int_equal(der[1], 16);
        assert_true(der[2] != 0 && der[2] < 0x80);
        OPENSSL_free(der);
}

/* 1 if leaf verifies to ca through untrusted (may be NULL); else the
 * verification error. */
static int verify_chain(X509 *ca, X509 *untrusted, X509 *leaf) {
        X509_STORE *store = X509_STORE_new();
        X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        STACK_OF(X509) *chain = sk_X509_new_null();
        assert_true(store && ctx && chain);
        assert_int_equal(X509_STORE_add_cert(store, ca), 1);
        if (untrusted)
                assert_true(sk_X509_push(chain, untrusted) > 0);
        assert_int_equal(X509_STORE_CTX_init(ctx, store, leaf, chain), 1);
        X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_X509_STRICT);
        int r = X509_verify_cert(ctx);
        int e = X509_STORE_CTX_get_error(ctx);
        X509_STORE_CTX_free(ctx);
        sk_X509_free(chain);
        X509_STORE_free(store);
        ERR_clear_error();
        return r == 1 ? 1 : -e;
}

typedef struct chain {
        X509 *ca, *deviceid, *alias;
        EVP_PKEY *ca_key, *deviceid_key, *alias_key;
} chain;

static void make_chain(const char *dir, chain *c) {
        rp_error err = {};
        assert_int_equal(rp_cert_ca_create(dir, "Test Manufacturer CA", &err), 0);
        _cleanup_free_ char *ca_pem = test_path(dir, "ca.pem"), *ca_key = test_path(dir, "ca.key");
        c->ca = load_cert(ca_pem);
        c->ca_key = load_key(ca_key);
        uint8_t uds[32], m[32], cdi[32];
        fixed_uds(uds);
        fixed_measurement(m);
        c->deviceid_key = derive(uds, "rampart DeviceID");
        assert_int_equal(rp_dice_cdi(uds, m, cdi), 0);
        c->alias_key = derive(cdi, "rampart Alias");
        assert_int_equal(rp_cert_deviceid_issue(c->ca, c->ca_key, c->deviceid_key, &c->deviceid, &err), 0);
        assert_int_equal(rp_cert_alias_issue(c->deviceid, c->alias_key, m, "soft", "0.1.0", key_signer,
                                             c->deviceid_key, &c->alias, &err), 0);
}

static void free_chain(chain *c) {
        X509_free(c->ca);
        X509_free(c->deviceid);
        X509_free(c->alias);
        EVP_PKEY_free(c->ca_key);
        EVP_PKEY_free(c->deviceid_key);
        EVP_PKEY_free(c->alias_key);
}

static void test_ca_create(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "ca-create");
        rp_error err = {};
        assert_int_equal(rp_cert_ca_create(dir, "Test CA", &err), 0);
        _cleanup_free_ char *pem = test_path(dir, "ca.pem"), *key = test_path(dir, "ca.key");
        struct stat st;
        assert_int_equal(stat(key, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        assert_int_equal(stat(pem, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0644);
        assert_int_equal(stat(dir, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0700);

        size_t len;
        _cleanup_free_ uint8_t *text = test_read_file(key, &len);
        assert_non_null(strstr((char *) text, "-----BEGIN PRIVATE KEY-----"));

        _cleanup_(x509_freep) X509 *ca = load_cert(pem);
        _cleanup_(pkey_freep) EVP_PKEY *k = load_key(key);
        assert_int_equal(X509_check_private_key(ca, k), 1);
        assert_cn(ca, "Test CA");
        assert_serial(ca);
        assert_int_equal(X509_check_ca(ca), 1);
        assert_int_equal(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
        assert_int_equal(verify_chain(ca, NULL, ca), 1);
        assert_non_null(X509_get0_subject_key_id(ca));
        assert_non_null(X509_get0_authority_key_id(ca));

        /* Never replaced: the existing files stay as they were. */
        _cleanup_free_ uint8_t *before = test_read_file(pem, &len);
        rp_error_clear(&err);
        assert_int_equal(rp_cert_ca_create(dir, "Test CA", &err), -EEXIST);
        assert_non_null(strstr(err.message, "ca.pem: already exists"));
        size_t len2;
        _cleanup_free_ uint8_t *after = test_read_file(pem, &len2);
        assert_int_equal(len, len2);
        assert_memory_equal(before, after, len);
        assert_int_equal(unlink(pem), 0);
        assert_int_equal(rp_cert_ca_create(dir, "Test CA", &err), -EEXIST);
        assert_non_null(strstr(err.message, "ca.key: already exists"));

        /* A directory that cannot be made. */
        _cleanup_free_ char *deep = test_path(dir, "no/such/dir");
        assert_int_equal(rp_cert_ca_create(deep, "Test CA", &err), -ENOENT);
        assert_non_null(strstr(err.message, "cannot create the directory"));
}

static void test_chain(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "chain");
        chain c = {};
        make_chain(dir, &c);

        /* The whole chain verifies; each link with the right key only. */
        assert_int_equal(verify_chain(c.ca, c.deviceid, c.alias), 1);
        assert_int_equal(verify_chain(c.ca, NULL, c.deviceid), 1);
        assert_int_equal(verify_chain(c.ca, NULL, c.alias), -X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY);
        assert_int_equal(X509_verify(c.alias, c.deviceid_key), 1);
        assert_int_equal(X509_verify(c.alias, c.alias_key), 0);
        assert_int_equal(X509_verify(c.deviceid, c.ca_key), 1);
        ERR_clear_error();

        /* DeviceID: a CA for one level, named by the device id. */
        assert_cn(c.deviceid, DEVICEID_ID);
        assert_serial(c.deviceid);
        assert_int_equal(X509_check_ca(c.deviceid), 1);
        assert_int_equal(X509_get_extension_flags(c.deviceid) & EXFLAG_CA, EXFLAG_CA);
        assert_int_equal(X509_get_pathlen(c.deviceid), 0);
        assert_int_equal(X509_get_key_usage(c.deviceid), KU_KEY_CERT_SIGN);
        assert_int_equal(X509_check_issued(c.ca, c.deviceid), X509_V_OK);

        /* Alias: not a CA, signs only, carries the measurement. */
        assert_cn(c.alias, DEVICEID_ID);
        assert_serial(c.alias);
        assert_int_equal(X509_check_ca(c.alias), 0);
        assert_int_equal(X509_get_extension_flags(c.alias) & EXFLAG_CA, 0);
        assert_int_equal(X509_get_extension_flags(c.alias) & EXFLAG_BCONS, EXFLAG_BCONS);
        assert_int_equal(X509_get_key_usage(c.alias), KU_DIGITAL_SIGNATURE);
        assert_int_equal(X509_check_issued(c.deviceid, c.alias), X509_V_OK);
        char ou[64];
        assert_true(X509_NAME_get_text_by_NID(X509_get_subject_name(c.alias), NID_organizationalUnitName, ou,
                                              sizeof ou) > 0);
        assert_string_equal(ou, "rampart Alias");
        assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(c.alias), c.alias_key), 1);

        ASN1_OBJECT *oid = OBJ_txt2obj(RP_TCBINFO_OID, 1);
        int idx = X509_get_ext_by_OBJ(c.alias, oid, -1);
        assert_true(idx >= 0);
        assert_int_equal(X509_get_ext_by_OBJ(c.alias, oid, idx), -1);   /* only one */
        assert_int_equal(X509_get_ext_by_OBJ(c.deviceid, oid, -1), -1);
        ASN1_OBJECT_free(oid);
        X509_EXTENSION *ext = X509_get_ext(c.alias, idx);
        assert_int_equal(X509_EXTENSION_get_critical(ext), 0);
        const ASN1_OCTET_STRING *v = X509_EXTENSION_get_data(ext);
        rp_tcbinfo info;
        rp_error err = {};
        assert_int_equal(rp_tcbinfo_decode(ASN1_STRING_get0_data(v), (size_t) ASN1_STRING_length(v), &info, &err),
                         0);
        uint8_t m[32];
        fixed_measurement(m);
        assert_memory_equal(info.fwid_sha256, m, 32);
        assert_string_equal(info.vendor, "rampart");
        assert_string_equal(info.model, "soft");
        assert_string_equal(info.version, "0.1.0");
        assert_int_equal(info.layer, 1);

        /* Serial numbers: random, positive, 16 bytes long every time. */
        uint8_t seen[512][16];
        for (size_t i = 0; i < ELEMENTSOF(seen); i++) {
                _cleanup_(x509_freep) X509 *d = NULL;
                assert_int_equal(rp_cert_deviceid_issue(c.ca, c.ca_key, c.deviceid_key, &d, &err), 0);
                assert_serial(d);
                memcpy(seen[i], ASN1_STRING_get0_data(X509_get0_serialNumber(d)), 16);
                for (size_t j = 0; j < i; j++)
                        assert_memory_not_equal(seen[i], seen[j], 16);
        }

        /* Valid from now until 9999. */
        assert_int_equal(ASN1_TIME_cmp_time_t(X509_get0_notAfter(c.alias), 253402300799), 0);
        assert_true(X509_cmp_current_time(X509_get0_notBefore(c.alias)) <= 0);
        free_chain(&c);
}

static void write_cert(const char *path, X509 *x) {
        BIO *b = BIO_new_file(path, "w");
        assert_non_null(b);
        assert_int_equal(PEM_write_bio_X509(b, x), 1);
        BIO_free(b);
}

/* The openssl command-line tool, a stock verifier, accepts the chain:
 * openssl verify -CAfile ca.pem -untrusted deviceid.pem alias.pem */
static void test_openssl_verify(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "openssl-verify");
        chain c = {};
        make_chain(dir, &c);
        _cleanup_free_ char *dev = test_path(dir, "deviceid.pem"), *alias = test_path(dir, "alias.pem");
        write_cert(dev, c.deviceid);
        write_cert(alias, c.alias);
        _cleanup_free_ char *ok = NULL, *no_intermediate = NULL, *swapped = NULL;
        assert_true(asprintf(&ok, "openssl verify -x509_strict -CAfile %s/ca.pem -untrusted %s %s >/dev/null",
                             dir, dev, alias) > 0);
        assert_true(asprintf(&no_intermediate, "openssl verify -CAfile %s/ca.pem %s >/dev/null 2>&1", dir,
                             alias) > 0);
        /* The Alias certificate cannot stand in for the DeviceID: not a CA. */
        assert_true(asprintf(&swapped, "openssl verify -CAfile %s/ca.pem -untrusted %s %s >/dev/null 2>&1", dir,
                             alias, alias) > 0);
        assert_int_equal(system(ok), 0);
        assert_int_not_equal(system(no_intermediate), 0);
        assert_int_not_equal(system(swapped), 0);
        free_chain(&c);
}

static void test_alias_refusals(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "alias-refusals");
        chain c = {};
        make_chain(dir, &c);
        uint8_t m[32];
        fixed_measurement(m);
        rp_error err = {};
        X509 *x = NULL;

        /* A signer holding another key: caught before the certificate is
         * handed out. */
        assert_int_equal(rp_cert_alias_issue(c.deviceid, c.alias_key, m, "soft", "1", key_signer, c.alias_key, &x,
                                             &err), -EKEYREJECTED);
        assert_non_null(strstr(err.message, "Alias certificate: the signature does not verify"));
        assert_null(x);

        rp_error_clear(&err);
        assert_int_equal(rp_cert_alias_issue(c.deviceid, c.alias_key, m, "soft", "1", failing_signer, NULL, &x,
                                             &err), -EIO);
        assert_string_equal(err.message, "Alias certificate: signing the certificate: the backend is gone");
        assert_null(x);

        char longname[80];
        memset(longname, 'x', sizeof longname - 1);
        longname[sizeof longname - 1] = 0;
        assert_int_equal(rp_cert_alias_issue(c.deviceid, c.alias_key, m, longname, "1", key_signer,
                                             c.deviceid_key, &x, &err), -EFBIG);
        assert_int_equal(rp_cert_alias_issue(c.deviceid, c.alias_key, m, "soft", longname, key_signer,
                                             c.deviceid_key, &x, &err), -EFBIG);
        assert_null(x);

        /* Keys that are not P-256. */
        _cleanup_(pkey_freep) EVP_PKEY *ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
        _cleanup_(pkey_freep) EVP_PKEY *p384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
        assert_int_equal(rp_cert_alias_issue(c.deviceid, ed, m, "soft", "1", key_signer, c.deviceid_key, &x, &err),
                         -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "the Alias key is not a P-256 key"));
        assert_int_equal(rp_cert_deviceid_issue(c.ca, c.ca_key, p384, &x, &err), -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "the DeviceID key is not a P-256 key"));
        /* An issuer certificate whose key is not P-256. */
        _cleanup_(x509_freep) X509 *odd = X509_new();
        assert_int_equal(X509_set_pubkey(odd, p384), 1);
        assert_int_equal(rp_cert_alias_issue(odd, c.alias_key, m, "soft", "1", key_signer, c.deviceid_key, &x,
                                             &err), -EOPNOTSUPP);
        assert_non_null(strstr(err.message, "DeviceID certificate's key is not a P-256 key"));
        assert_null(x);
        free_chain(&c);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_fixed_vectors),
                cmocka_unit_test(test_changes),
                cmocka_unit_test(test_low_s),
                cmocka_unit_test(test_sig_to_raw_refusals),
                cmocka_unit_test(test_tcbinfo_roundtrip),
                cmocka_unit_test(test_tcbinfo_refusals),
                cmocka_unit_test(test_ca_create),
                cmocka_unit_test(test_chain),
                cmocka_unit_test(test_openssl_verify),
                cmocka_unit_test(test_alias_refusals),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
