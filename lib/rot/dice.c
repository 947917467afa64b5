/* SPDX-License-Identifier: Apache-2.0 */
/* DICE derivation (dice.h) on OpenSSL 3's EVP_KDF, EVP_MAC and EC_POINT
 * interfaces, and the two forms of an ECDSA signature. */
#include <errno.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "core/crypto_internal.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "rot/dice.h"

#define P256_LEN 32
#define P256_POINT_LEN (1 + 2 * P256_LEN)   /* uncompressed: 0x04 || x || y */

/* HKDF's salt for key derivation, without its NUL. */
#define DICE_SALT "rampart-dice-v1"
#define DICE_SEAL_INFO "rampart seal"
#define DICE_LABEL_MAX 64

/* HKDF-SHA256 (RFC 5869), extract and expand; salt may be NULL (then
 * HashLen zero bytes, as the RFC says). */
static int hkdf_sha256(const uint8_t *ikm, size_t ikm_len, const void *salt, size_t salt_len,
                       const void *info, size_t info_len, uint8_t *out, size_t out_len) {
        _cleanup_(evp_kdf_freep) EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
        if (!kdf)
                return rp_openssl_failure(-EIO);
        _cleanup_(evp_kdf_ctx_freep) EVP_KDF_CTX *ctx = EVP_KDF_CTX_new(kdf);
        if (!ctx)
                return rp_openssl_failure(-EIO);
        OSSL_PARAM params[5], *p = params;
        *p++ = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *) ikm, ikm_len);
        if (salt)
                *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, (void *) salt, salt_len);
        *p++ = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, (void *) info, info_len);
        *p = OSSL_PARAM_construct_end();
        if (EVP_KDF_derive(ctx, out, out_len, params) != 1)
                return rp_openssl_failure(-EIO);
        return 0;
}

/* The P-256 key pair with private scalar d (in [1, n-1]), public point
 * included so the key exports as SubjectPublicKeyInfo. */
static int p256_key_from_scalar(const uint8_t d[P256_LEN], EVP_PKEY **ret) {
        _cleanup_(bn_ctx_freep) BN_CTX *bn_ctx = BN_CTX_secure_new();
        _cleanup_(ec_group_freep) EC_GROUP *group = EC_GROUP_new_by_curve_name_ex(NULL, NULL, NID_X9_62_prime256v1);
        _cleanup_(bn_clear_freep) BIGNUM *priv = BN_secure_new();
        if (!bn_ctx || !group || !priv)
                return rp_openssl_failure(-EIO);
        BN_set_flags(priv, BN_FLG_CONSTTIME);
        if (!BN_bin2bn(d, P256_LEN, priv))
                return rp_openssl_failure(-EIO);
        _cleanup_(ec_point_freep) EC_POINT *pub = EC_POINT_new(group);
        if (!pub || EC_POINT_mul(group, pub, priv, NULL, NULL, bn_ctx) != 1)
                return rp_openssl_failure(-EIO);
        uint8_t point[P256_POINT_LEN];
        if (EC_POINT_point2oct(group, pub, POINT_CONVERSION_UNCOMPRESSED, point, sizeof point, bn_ctx) !=
            sizeof point)
                return rp_openssl_failure(-EIO);

        _cleanup_(param_bld_freep) OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        if (!bld ||
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, SN_X9_62_prime256v1, 0) != 1 ||
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, priv) != 1 ||
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point) != 1)
                return rp_openssl_failure(-EIO);
        _cleanup_(params_freep) OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
        if (!params)
                return rp_openssl_failure(-EIO);
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *pkey = NULL;
        if (!ctx || EVP_PKEY_fromdata_init(ctx) != 1 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_KEYPAIR, params) != 1)
                return rp_openssl_failure(-EIO);
        *ret = pkey;
        return 0;
}

int rp_dice_derive_p256(const uint8_t secret[RP_DICE_SECRET_LEN], const char *label,
                        EVP_PKEY **ret, rp_error *err) {
        size_t label_len = strlen(label);
        RP_INVARIANT(label_len <= DICE_LABEL_MAX);   /* labels are rampart's own constants */
        uint8_t info[DICE_LABEL_MAX + 1];
        memcpy(info, label, label_len);

        /* A candidate is refused with probability about 2^-32, so the second
         * one is practically always the last; 256 tries that all fail
         * would mean HKDF is broken. */
        for (unsigned c = 0; c < 256; c++) {
                uint8_t d[P256_LEN];
                info[label_len] = (uint8_t) c;
                int r = hkdf_sha256(secret, RP_DICE_SECRET_LEN, DICE_SALT, strlen(DICE_SALT), info,
                                    label_len + 1, d, sizeof d);
                if (r < 0) {
                        OPENSSL_cleanse(d, sizeof d);
                        return rp_error_set(err, r, "%s: key derivation (HKDF-SHA256) failed", label);
                }
                if (!rp_p256_scalar_in_range(d))
                        continue;
                r = p256_key_from_scalar(d, ret);
                OPENSSL_cleanse(d, sizeof d);
                if (r < 0)
                        return rp_error_set(err, r, "%s: cannot make the P-256 key", label);
                return 0;
        }
        return rp_error_set(err, -EIO, "%s: no P-256 scalar in 256 HKDF outputs", label);
}

int rp_dice_cdi(const uint8_t uds[RP_DICE_SECRET_LEN],
                const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                uint8_t ret_cdi[RP_DICE_SECRET_LEN]) {
        _cleanup_(evp_mac_freep) EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
        if (!mac)
                return rp_openssl_failure(-EIO);
        _cleanup_(evp_mac_ctx_freep) EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
        if (!ctx)
                return rp_openssl_failure(-EIO);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *) "SHA256", 0),
                OSSL_PARAM_construct_end(),
        };
        uint8_t out[RP_DICE_SECRET_LEN];
        size_t out_len = 0;
        if (EVP_MAC_init(ctx, uds, RP_DICE_SECRET_LEN, params) != 1 ||
            EVP_MAC_update(ctx, measurement, RP_ROT_MEASUREMENT_LEN) != 1 ||
            EVP_MAC_final(ctx, out, &out_len, sizeof out) != 1) {
                OPENSSL_cleanse(out, sizeof out);
                return rp_openssl_failure(-EIO);
        }
        RP_INVARIANT(out_len == sizeof out);   /* HMAC-SHA256 is 32 bytes */
        memcpy(ret_cdi, out, sizeof out);
        OPENSSL_cleanse(out, sizeof out);
        return 0;
}

int rp_dice_seal_key(const uint8_t cdi[RP_DICE_SECRET_LEN], uint8_t ret_key[32]) {
        uint8_t out[32];
        int r = hkdf_sha256(cdi, RP_DICE_SECRET_LEN, NULL, 0, DICE_SEAL_INFO, strlen(DICE_SEAL_INFO), out,
                            sizeof out);
        if (r >= 0)
                memcpy(ret_key, out, sizeof out);
        OPENSSL_cleanse(out, sizeof out);
        return r;
}

int rp_dice_sign_digest(EVP_PKEY *key, const uint8_t digest[RP_ROT_DIGEST_LEN],
                        uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err) {
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
        /* No digest set: ECDSA signs the 32 bytes as given, which is what
         * signing the SHA-256 digest means. */
        if (!ctx || EVP_PKEY_sign_init(ctx) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot start an ES256 signature");
        /* An ECDSA P-256 DER signature is at most 72 bytes. */
        uint8_t der[80];
        size_t der_len = sizeof der;
        if (EVP_PKEY_sign(ctx, der, &der_len, digest, RP_ROT_DIGEST_LEN) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "ES256 signing failed");
        uint8_t raw[RP_ROT_SIG_LEN];
        if (rp_ecdsa_sig_to_raw(der, der_len, raw) < 0)
                return rp_error_set(err, -EIO, "ES256 signing gave a malformed signature");
        memcpy(ret_sig, raw, sizeof raw);
        return 0;
}

