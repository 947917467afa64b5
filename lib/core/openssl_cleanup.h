/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* _cleanup_() helpers for OpenSSL objects, in one place for in-tree code:
 * `_cleanup_(x509_freep) X509 *cert = NULL;` frees on every return. Each
 * accepts NULL, as OpenSSL's free functions do. */

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#define RP_OPENSSL_FREEP(name, type, free_fn) \
        static inline void name(type **p) {    \
                free_fn(*p);                   \
        }

RP_OPENSSL_FREEP(evp_pkey_freep, EVP_PKEY, EVP_PKEY_free)
RP_OPENSSL_FREEP(evp_pkey_ctx_freep, EVP_PKEY_CTX, EVP_PKEY_CTX_free)
RP_OPENSSL_FREEP(evp_md_freep, EVP_MD, EVP_MD_free)
RP_OPENSSL_FREEP(evp_md_ctx_freep, EVP_MD_CTX, EVP_MD_CTX_free)
RP_OPENSSL_FREEP(evp_cipher_ctx_freep, EVP_CIPHER_CTX, EVP_CIPHER_CTX_free)
RP_OPENSSL_FREEP(evp_kdf_freep, EVP_KDF, EVP_KDF_free)
RP_OPENSSL_FREEP(evp_kdf_ctx_freep, EVP_KDF_CTX, EVP_KDF_CTX_free)
RP_OPENSSL_FREEP(evp_mac_freep, EVP_MAC, EVP_MAC_free)
RP_OPENSSL_FREEP(evp_mac_ctx_freep, EVP_MAC_CTX, EVP_MAC_CTX_free)
RP_OPENSSL_FREEP(bio_freep, BIO, BIO_free)
RP_OPENSSL_FREEP(x509_freep, X509, X509_free)
RP_OPENSSL_FREEP(x509_store_freep, X509_STORE, X509_STORE_free)
RP_OPENSSL_FREEP(x509_store_ctx_freep, X509_STORE_CTX, X509_STORE_CTX_free)
RP_OPENSSL_FREEP(x509_ext_freep, X509_EXTENSION, X509_EXTENSION_free)
RP_OPENSSL_FREEP(asn1_object_freep, ASN1_OBJECT, ASN1_OBJECT_free)
RP_OPENSSL_FREEP(asn1_octet_string_freep, ASN1_OCTET_STRING, ASN1_OCTET_STRING_free)
RP_OPENSSL_FREEP(bn_freep, BIGNUM, BN_free)
RP_OPENSSL_FREEP(bn_clear_freep, BIGNUM, BN_clear_free)
RP_OPENSSL_FREEP(bn_ctx_freep, BN_CTX, BN_CTX_free)
RP_OPENSSL_FREEP(ec_group_freep, EC_GROUP, EC_GROUP_free)
RP_OPENSSL_FREEP(ec_point_freep, EC_POINT, EC_POINT_free)
RP_OPENSSL_FREEP(ecdsa_sig_freep, ECDSA_SIG, ECDSA_SIG_free)
RP_OPENSSL_FREEP(param_bld_freep, OSSL_PARAM_BLD, OSSL_PARAM_BLD_free)
RP_OPENSSL_FREEP(params_freep, OSSL_PARAM, OSSL_PARAM_free)

static inline void x509_stack_freep(STACK_OF(X509) **p) {
        sk_X509_pop_free(*p, X509_free);
}

/* For buffers OpenSSL allocated (i2d_*, BN_bn2hex): `void *` so that any
 * pointer type's address fits. */
static inline void openssl_freep(void *p) {
        OPENSSL_free(*(void **) p);
}
