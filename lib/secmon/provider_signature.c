/* SPDX-License-Identifier: Apache-2.0 */
/* The rampart-secmon provider's SIGNATURE "ECDSA" (provider_internal.h):
 * SHA-256 digests signed by rampart-secmon. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/macro.h"
#include "secmon/client.h"
#include "secmon/provider.h"
#include "secmon/provider_internal.h"

/* ecdsa-with-SHA256 (RFC 5758) as a DER AlgorithmIdentifier. */
static const uint8_t algorithm_id_es256[] = {
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};

/* ---- SIGNATURE ---------------------------------------------------------- */

typedef struct sigctx {
        prov *prov;
        key *key;
        EVP_MD_CTX *md;         /* digest_sign_*: SHA-256 of the message so far */
} sigctx;

static void *sig_newctx(void *provctx, const char *propq) {
        sigctx *s = calloc(1, sizeof *s);

        if (s)
                s->prov = provctx;
        return s;
}

static void sig_freectx(void *vctx) {
        sigctx *s = vctx;

        if (!s)
                return;
        prov_key_unref(s->key);
        EVP_MD_CTX_free(s->md);
        free(s);
}

static void *sig_dupctx(void *vctx) {
        const sigctx *src = vctx;
        sigctx *s = sig_newctx(src->prov, NULL);

        if (!s)
                return NULL;
        if (src->key)
                s->key = prov_key_ref(src->key);
        if (src->md && EVP_MD_CTX_get0_md(src->md)) {
                s->md = EVP_MD_CTX_new();
                if (!s->md || !EVP_MD_CTX_copy_ex(s->md, src->md)) {
                        sig_freectx(s);
                        return NULL;
                }
        }
        return s;
}

/* NULL or empty: the default, SHA-256. Anything else must be one of
 * SHA-256's names: P-256 keys sign SHA-256 digests in TLS 1.3, and secmon
 * signs nothing else. */
static int sig_check_md(const prov *p, const char *mdname) {
        _cleanup_(evp_md_freep) EVP_MD *sha256 = NULL;

        if (!mdname || !*mdname)
                return 1;
        sha256 = EVP_MD_fetch(p->libctx, "SHA256", NULL);
        if (!sha256) {
                RAISE(p, R_INTERNAL, "rampart-secmon: SHA-256 is not available");
                return 0;
        }
        if (!EVP_MD_is_a(sha256, mdname)) {
                RAISE(p, R_DIGEST, "rampart-secmon: the Alias key signs SHA-256 digests only (ES256), not %s",
                      mdname);
                return 0;
        }
        return 1;
}

static int sig_set_ctx_params(void *vctx, const OSSL_PARAM params[]) {
        sigctx *s = vctx;
        const OSSL_PARAM *p = OSSL_PARAM_locate_const(params, OSSL_SIGNATURE_PARAM_DIGEST);
        const char *mdname;

        if (!p)
                return 1;
        if (!OSSL_PARAM_get_utf8_string_ptr(p, &mdname)) {
                RAISE(s->prov, R_DIGEST, "rampart-secmon: the digest is not named by a string");
                return 0;
        }
        return sig_check_md(s->prov, mdname);
}

static int sig_sign_init(void *vctx, void *keydata, const OSSL_PARAM params[]) {
        sigctx *s = vctx;
        key *k = keydata;

        if (!k || !k->has_pub || !k->socket_path) {
                RAISE(s->prov, R_PUBLIC_ONLY, "rampart-secmon: this key names no secmon socket (%s): it cannot sign",
                      RP_SECMON_PARAM_SOCKET);
                return 0;
        }
        prov_key_unref(s->key);
        s->key = prov_key_ref(k);
        return sig_set_ctx_params(s, params);
}

/* Signs a SHA-256 digest through secmon: DER ECDSA-Sig-Value. */
static int sig_sign_digest(sigctx *s, const uint8_t digest[RP_ROT_DIGEST_LEN], unsigned char *sig,
                           size_t *siglen, size_t sigsize) {
        uint8_t der[RP_SECMON_SIG_DER_MAX];
        size_t len;

        if (prov_key_sign(s->key, digest, der, &len) < 0)
                return 0;
        if (len > sigsize) {
                RAISE(s->prov, R_SIG_BUFFER, "rampart-secmon: the signature needs %zu bytes, the buffer has %zu",
                      len, sigsize);
                return 0;
        }
        memcpy(sig, der, len);
        *siglen = len;
        return 1;
}

static int sig_sign(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize, const unsigned char *tbs,
                    size_t tbslen) {
        sigctx *s = vctx;

        if (!sig) {
                *siglen = RP_SECMON_SIG_DER_MAX;
                return 1;
        }
        if (tbslen != RP_ROT_DIGEST_LEN) {
                RAISE(s->prov, R_DIGEST, "rampart-secmon: signs a %d-byte SHA-256 digest, not %zu bytes",
                      RP_ROT_DIGEST_LEN, tbslen);
                return 0;
        }
        return sig_sign_digest(s, tbs, sig, siglen, sigsize);
}

static int sig_digest_sign_init(void *vctx, const char *mdname, void *keydata, const OSSL_PARAM params[]) {
        sigctx *s = vctx;
        _cleanup_(evp_md_freep) EVP_MD *sha256 = NULL;

        if (!sig_check_md(s->prov, mdname) || !sig_sign_init(s, keydata, params))
                return 0;
        sha256 = EVP_MD_fetch(s->prov->libctx, "SHA256", NULL);
        if (!s->md)
                s->md = EVP_MD_CTX_new();
        if (!sha256 || !s->md || !EVP_DigestInit_ex2(s->md, sha256, NULL)) {
                RAISE(s->prov, R_INTERNAL, "rampart-secmon: cannot start SHA-256");
                return 0;
        }
        return 1;
}

static int sig_digest_sign_update(void *vctx, const unsigned char *data, size_t len) {
        sigctx *s = vctx;

        return s->md && EVP_DigestUpdate(s->md, data, len);
}

static int sig_digest_sign_final(void *vctx, unsigned char *sig, size_t *siglen, size_t sigsize) {
        sigctx *s = vctx;
        uint8_t digest[RP_ROT_DIGEST_LEN];
        unsigned n = 0;

        if (!sig) {
                *siglen = RP_SECMON_SIG_DER_MAX;
                return 1;
        }
        if (!s->md || !EVP_DigestFinal_ex(s->md, digest, &n) || n != RP_ROT_DIGEST_LEN) {
                RAISE(s->prov, R_INTERNAL, "rampart-secmon: SHA-256 failed");
                return 0;
        }
        return sig_sign_digest(s, digest, sig, siglen, sigsize);
}

static int sig_get_ctx_params(void *vctx, OSSL_PARAM params[]) {
        OSSL_PARAM *p;

        if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_ALGORITHM_ID)) &&
            !OSSL_PARAM_set_octet_string(p, algorithm_id_es256, sizeof algorithm_id_es256))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST)) && !OSSL_PARAM_set_utf8_string(p, "SHA256"))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_SIGNATURE_PARAM_DIGEST_SIZE)) &&
            !OSSL_PARAM_set_size_t(p, RP_ROT_DIGEST_LEN))
                return 0;
        return 1;
}

static const OSSL_PARAM sig_gettable_table[] = {
        OSSL_PARAM_octet_string(OSSL_SIGNATURE_PARAM_ALGORITHM_ID, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_size_t(OSSL_SIGNATURE_PARAM_DIGEST_SIZE, NULL),
        OSSL_PARAM_END,
};

static const OSSL_PARAM sig_settable_table[] = {
        OSSL_PARAM_utf8_string(OSSL_SIGNATURE_PARAM_DIGEST, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM *sig_gettable_ctx_params(void *vctx, void *provctx) {
        return sig_gettable_table;
}

static const OSSL_PARAM *sig_settable_ctx_params(void *vctx, void *provctx) {
        return sig_settable_table;
}

const OSSL_DISPATCH prov_sig_functions[] = {
        { OSSL_FUNC_SIGNATURE_NEWCTX, (void (*)(void)) sig_newctx },
        { OSSL_FUNC_SIGNATURE_FREECTX, (void (*)(void)) sig_freectx },
        { OSSL_FUNC_SIGNATURE_DUPCTX, (void (*)(void)) sig_dupctx },
        { OSSL_FUNC_SIGNATURE_SIGN_INIT, (void (*)(void)) sig_sign_init },
        { OSSL_FUNC_SIGNATURE_SIGN, (void (*)(void)) sig_sign },
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_INIT, (void (*)(void)) sig_digest_sign_init },
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_UPDATE, (void (*)(void)) sig_digest_sign_update },
        { OSSL_FUNC_SIGNATURE_DIGEST_SIGN_FINAL, (void (*)(void)) sig_digest_sign_final },
        { OSSL_FUNC_SIGNATURE_GET_CTX_PARAMS, (void (*)(void)) sig_get_ctx_params },
        { OSSL_FUNC_SIGNATURE_GETTABLE_CTX_PARAMS, (void (*)(void)) sig_gettable_ctx_params },
        { OSSL_FUNC_SIGNATURE_SET_CTX_PARAMS, (void (*)(void)) sig_set_ctx_params },
        { OSSL_FUNC_SIGNATURE_SETTABLE_CTX_PARAMS, (void (*)(void)) sig_settable_ctx_params },
        { 0, NULL },
};
