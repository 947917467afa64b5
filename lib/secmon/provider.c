/* SPDX-License-Identifier: Apache-2.0 */
/* The rampart-secmon OpenSSL 3 provider (provider.h): KEYMGMT "EC" for keys
 * that rampart-secmon holds, SIGNATURE "ECDSA" that asks secmon to sign the
 * SHA-256 digest, and a STORE for "rampart-secmon:<socket>" URIs. This file
 * has the provider itself, its errors, key objects and the built-in use;
 * each operation is a sibling (provider_keymgmt.c, provider_signature.c,
 * provider_store.c), and provider_internal.h is what they share.
 *
 * A key object is a reference, not a key: the path of secmon's socket and
 * the public point (P-256, kept uncompressed). Its connection to secmon is
 * its own, opened on first use and guarded by a mutex; a signature that fails
 * on a connection used before is tried once more on a new one (secmon was
 * restarted, or closed an idle client). Every new connection first checks
 * that secmon's Alias key is still the key object's: different software
 * means a different Alias key, and a signature by it would not match the
 * certificate.
 *
 * Errors go to OpenSSL's error queue through the core's upcalls, with the
 * provider's name as the library and a message naming the socket. */

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "core/crypto_internal.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "secmon/client.h"
#include "secmon/provider.h"
#include "secmon/provider_internal.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

/* ---- The provider and its errors ---------------------------------------- */

static const OSSL_ITEM reason_strings[] = {
        { R_UNREACHABLE, "cannot reach rampart-secmon" },
        { R_SECMON_FAILED, "rampart-secmon request failed" },
        { R_KEY_CHANGED, "rampart-secmon signed with another Alias key" },
        { R_DIGEST, "only SHA-256 digests are signed" },
        { R_PUBLIC_ONLY, "public key only" },
        { R_BAD_KEY, "invalid key parameters" },
        { R_BAD_URI, "invalid rampart-secmon URI" },
        { R_SIG_BUFFER, "signature buffer too small" },
        { R_INTERNAL, "internal error" },
        { 0, NULL },
};

void prov_raise_error(const prov *p, int reason, const char *file, int line, const char *func,
                        const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        p->new_error(p->handle);
        p->set_error_debug(p->handle, file, line, func);
        p->vset_error(p->handle, reason, fmt, ap);
        va_end(ap);
}

/* ---- P-256 points and secmon's certificate chain ------------------------ */

bool prov_is_p256_name(const char *name) {
        return OBJ_txt2nid(name) == NID_X9_62_prime256v1 || EC_curve_nist2nid(name) == NID_X9_62_prime256v1 ||
               strcasecmp(name, "secp256r1") == 0;
}

/* Checks that octets encode a point of P-256 (compressed or not, never the
 * point at infinity) and writes it uncompressed. -EINVAL if not a point,
 * -ENOMEM if OpenSSL could not allocate. */
int prov_point_normalize(OSSL_LIB_CTX *libctx, const uint8_t *octets, size_t len,
                           uint8_t out[POINT_LEN]) {
        _cleanup_(ec_group_freep) EC_GROUP *g = EC_GROUP_new_by_curve_name_ex(libctx, NULL,
                                                                              NID_X9_62_prime256v1);
        _cleanup_(ec_point_freep) EC_POINT *pt = g ? EC_POINT_new(g) : NULL;

        if (!pt)
                return -ENOMEM;
        if (EC_POINT_oct2point(g, pt, octets, len, NULL) != 1 || EC_POINT_is_at_infinity(g, pt) ||
            EC_POINT_point2oct(g, pt, POINT_CONVERSION_UNCOMPRESSED, out, POINT_LEN, NULL) != POINT_LEN)
                return -EINVAL;
        return 0;
}

/* The public point of certificate x, which must hold a P-256 key. */
static int cert_point(OSSL_LIB_CTX *libctx, X509 *x, uint8_t out[POINT_LEN], rp_error *err) {
        EVP_PKEY *pk = X509_get0_pubkey(x);
        char group[64];
        uint8_t octets[2 * POINT_LEN];
        size_t len;
        int r;

        if (!pk || !EVP_PKEY_is_a(pk, "EC") || !EVP_PKEY_get_group_name(pk, group, sizeof group, NULL) ||
            !prov_is_p256_name(group))
                return rp_error_set(err, -EOPNOTSUPP, "the Alias certificate's key is not an ECDSA P-256 key");
        if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, octets, sizeof octets,
                                             &len))
                return rp_error_set(err, -EINVAL, "the Alias certificate's public key cannot be read");
        r = prov_point_normalize(libctx, octets, len, out);
        if (r < 0)
                return rp_error_set(err, r, "the Alias certificate's public key is not a P-256 point");
        return 0;
}

/* Parses secmon's chain (PEM: Alias, DeviceID, manufacturer CA); at least
 * one certificate, at most CHAIN_MAX. */
static int chain_parse(OSSL_LIB_CTX *libctx, const char *pem, STACK_OF(X509) **ret, rp_error *err) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = sk_X509_new_null();
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(pem, -1);

        if (!chain || !bio)
                return -ENOMEM;
        for (;;) {
                _cleanup_(x509_freep) X509 *x = X509_new_ex(libctx, NULL);

                if (!x)
                        return -ENOMEM;
                ERR_set_mark();
                if (!PEM_read_bio_X509(bio, &x, NULL, NULL)) {
                        /* The end of the text, or a block that is no certificate. */
                        ERR_pop_to_mark();
                        break;
                }
                ERR_clear_last_mark();
                if (sk_X509_num(chain) == CHAIN_MAX)
                        return rp_error_set(err, -EFBIG, "secmon's certificate chain has more than %d certificates",
                                            CHAIN_MAX);
                if (!sk_X509_push(chain, x))
                        return -ENOMEM;
                x = NULL;
        }
        if (sk_X509_num(chain) == 0)
                return rp_error_set(err, -EBADMSG, "secmon's certificate chain holds no certificate");
        *ret = TAKE_PTR(chain);
        return 0;
}

/* The text for a secmon that cannot be reached (code from connect() or a
 * connection secmon closed): whether it is running is the first question. */
static void unreachable_text(char *buf, size_t size, const char *path, int code) {
        if (code == -ENOENT || code == -ECONNREFUSED || code == -EPIPE || code == -ECONNRESET)
                snprintf(buf, size, "rampart-secmon: cannot reach %s — is it running? (%s)", path, strerror(-code));
        else
                snprintf(buf, size, "rampart-secmon: cannot reach %s (%s)", path, strerror(-code));
}

static int secmon_connect(const char *path, rp_secmon **ret, rp_error *err) {
        char text[RP_ERROR_MAX];
        int r = rp_secmon_connect(path, ret, NULL);

        if (r == -ENOMEM)
                return rp_error_set(err, r, "out of memory");
        if (r < 0) {
                unreachable_text(text, sizeof text, path, r);
                return rp_error_set(err, r, "%s", text);
        }
        return 0;
}

/* Reads secmon's chain over sm. */
static int secmon_chain(OSSL_LIB_CTX *libctx, rp_secmon *sm, const char *path, STACK_OF(X509) **ret,
                        rp_error *err) {
        _cleanup_free_ char *pem = NULL;
        rp_error e = {};
        int r;

        r = rp_secmon_chain_pem(sm, &pem, &e);
        if (r < 0)
                return rp_error_set(err, r, "rampart-secmon at %s: reading the certificate chain: %s", path,
                                    rp_error_message(&e, r));
        r = chain_parse(libctx, pem, ret, &e);
        if (r < 0)
                return rp_error_set(err, r, "rampart-secmon at %s: %s", path, rp_error_message(&e, r));
        return 0;
}

/* ---- Key objects -------------------------------------------------------- */

key *prov_key_new(prov *p) {
        key *k = calloc(1, sizeof *k);

        if (!k)
                return NULL;
        k->refs = 1;
        k->prov = p;
        RP_INVARIANT(pthread_mutex_init(&k->lock, NULL) == 0);
        return k;
}

key *prov_key_ref(key *k) {
        __atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
        return k;
}

void prov_key_unref(key *k) {
        if (!k || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        rp_secmon_close(k->conn);
        EVP_PKEY_free(k->verifier);
        free(k->socket_path);
        pthread_mutex_destroy(&k->lock);
        free(k);
}
void prov_key_unrefp(key **k) {
        prov_key_unref(*k);
}

/* A socket path fits sockaddr_un and holds no NUL. */
bool prov_socket_path_valid(const char *path, size_t len) {
        return len > 0 && len < sizeof(((struct sockaddr_un *) NULL)->sun_path) && !memchr(path, '\0', len);
}

/* Opens k's connection if need be. Called with k->lock held, or on a key no
 * one else has yet (so are the functions below). Raises the error. */
static int key_open_locked(key *k) {
        rp_error e = {};
        int r;

        if (k->conn)
                return 0;
        r = secmon_connect(k->socket_path, &k->conn, &e);
        if (r < 0)
                RAISE(k->prov, r == -ENOMEM ? R_INTERNAL : R_UNREACHABLE, "%s", rp_error_message(&e, r));
        return r;
}

/* Reads secmon's chain; its Alias key becomes k's public key (k has none
 * yet: a key made from the socket alone, or by the store). With ret_chain,
 * hands the chain out. */
int prov_key_read_chain_locked(key *k, STACK_OF(X509) **ret_chain) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = NULL;
        uint8_t point[POINT_LEN];
        rp_error e = {};
        int r;

        r = key_open_locked(k);
        if (r < 0)
                return r;
        r = secmon_chain(k->prov->libctx, k->conn, k->socket_path, &chain, &e);
        if (r >= 0) {
                r = cert_point(k->prov->libctx, sk_X509_value(chain, 0), point, &e);
                if (r < 0)
                        r = rp_error_prefix(&e, r, "rampart-secmon at %s", k->socket_path);
        }
        if (r < 0) {
                RAISE(k->prov, r == -ENOMEM ? R_INTERNAL : R_SECMON_FAILED, "%s", rp_error_message(&e, r));
                return r;
        }
        memcpy(k->pub, point, POINT_LEN);
        k->has_pub = true;
        if (ret_chain)
                *ret_chain = TAKE_PTR(chain);
        return 0;
}

/* k's public key in OpenSSL's own provider, to check what secmon signs. */
static int key_verifier_locked(key *k) {
        EVP_PKEY_CTX *pc;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) GROUP_NAME, 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, k->pub, POINT_LEN),
                OSSL_PARAM_construct_end(),
        };
        int ok;

        if (k->verifier)
                return 0;
        pc = EVP_PKEY_CTX_new_from_name(k->prov->libctx, "EC", NOT_THIS_PROVIDER);
        ok = pc && EVP_PKEY_fromdata_init(pc) > 0 &&
             EVP_PKEY_fromdata(pc, &k->verifier, EVP_PKEY_PUBLIC_KEY, params) > 0;
        EVP_PKEY_CTX_free(pc);
        if (!ok) {
                RAISE(k->prov, R_INTERNAL, "rampart-secmon: OpenSSL's EC is not available to check signatures");
                return -ENOMEM;
        }
        return 0;
}

/* 0 if der is a signature of digest by k's public key. A secmon that was
 * restarted under other software (the client reconnects by itself) signs
 * with another Alias key: that is said here, rather than by a TLS server
 * that finds the signature bad. */
static int key_check_locked(key *k, const uint8_t digest[RP_ROT_DIGEST_LEN], const uint8_t *der, size_t len) {
        EVP_PKEY_CTX *pc;
        int r = key_verifier_locked(k);

        if (r < 0)
                return r;
        pc = EVP_PKEY_CTX_new_from_pkey(k->prov->libctx, k->verifier, NOT_THIS_PROVIDER);
        r = pc && EVP_PKEY_verify_init(pc) > 0 ? EVP_PKEY_verify(pc, der, len, digest, RP_ROT_DIGEST_LEN) : -1;
        EVP_PKEY_CTX_free(pc);
        if (r == 1)
                return 0;
        if (r == 0) {
                RAISE(k->prov, R_KEY_CHANGED, "rampart-secmon at %s signed with another Alias key than this "
                      "key's (did the measured software change?): load the key again", k->socket_path);
                return -EKEYREJECTED;
        }
        RAISE(k->prov, R_INTERNAL, "rampart-secmon: cannot check the signature");
        return -EIO;
}

/* Signs digest through secmon (the client opens the connection again if
 * secmon closed it) and checks the signature: DER into der. */
static int key_sign_locked(key *k, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t der[RP_SECMON_SIG_DER_MAX],
                           size_t *ret_len) {
        uint8_t rs[RP_ROT_SIG_LEN];
        char text[RP_ERROR_MAX];
        rp_error e = {};
        int r;

        r = key_open_locked(k);
        if (r < 0)
                return r;
        r = rp_secmon_sign_digest(k->conn, digest, rs, &e);
        if (r == -ENOENT || r == -ECONNREFUSED || r == -EPIPE || r == -ECONNRESET) {
                unreachable_text(text, sizeof text, k->socket_path, r);
                RAISE(k->prov, R_UNREACHABLE, "%s", text);
                return r;
        }
        if (r < 0) {
                RAISE(k->prov, r == -ENOMEM ? R_INTERNAL : R_SECMON_FAILED,
                      "rampart-secmon at %s: signing failed: %s", k->socket_path, rp_error_message(&e, r));
                return r;
        }
        _cleanup_free_ uint8_t *d = NULL;
        r = rp_ecdsa_sig_to_der(rs, &d, ret_len);
        if (r < 0) {
                RAISE(k->prov, R_INTERNAL, "out of memory");
                return r;
        }
        RP_INVARIANT(*ret_len <= RP_SECMON_SIG_DER_MAX);   /* two integers below 2^256 */
        memcpy(der, d, *ret_len);
        return key_check_locked(k, digest, der, *ret_len);
}

int prov_key_sign(key *k, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t der[RP_SECMON_SIG_DER_MAX],
                    size_t *ret_len) {
        int r;

        RP_INVARIANT(pthread_mutex_lock(&k->lock) == 0);
        r = key_sign_locked(k, digest, der, ret_len);
        RP_INVARIANT(pthread_mutex_unlock(&k->lock) == 0);
        return r;
}

/* ---- The provider ------------------------------------------------------- */

static const OSSL_ALGORITHM km_algorithms[] = {
        { "EC:id-ecPublicKey:1.2.840.10045.2.1", RP_SECMON_PROVIDER_PROPQ, prov_km_functions,
          "a P-256 key held by rampart-secmon" },
        { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM sig_algorithms[] = {
        { "ECDSA", RP_SECMON_PROVIDER_PROPQ, prov_sig_functions, "ECDSA with SHA-256, signed by rampart-secmon" },
        { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM store_algorithms[] = {
        { RP_SECMON_URI_SCHEME, RP_SECMON_PROVIDER_PROPQ, prov_store_functions, "keys held by rampart-secmon" },
        { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM *prov_query_operation(void *provctx, int operation_id, int *no_cache) {
        *no_cache = 0;
        switch (operation_id) {
        case OSSL_OP_KEYMGMT:
                return km_algorithms;
        case OSSL_OP_SIGNATURE:
                return sig_algorithms;
        case OSSL_OP_STORE:
                return store_algorithms;
        default:
                return NULL;
        }
}

static const OSSL_PARAM prov_gettable_table[] = {
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_NAME, NULL, 0),
        OSSL_PARAM_utf8_ptr(OSSL_PROV_PARAM_VERSION, NULL, 0),
        OSSL_PARAM_int(OSSL_PROV_PARAM_STATUS, NULL),
        OSSL_PARAM_END,
};

static const OSSL_PARAM *prov_gettable_params(void *provctx) {
        return prov_gettable_table;
}

static int prov_get_params(void *provctx, OSSL_PARAM params[]) {
        OSSL_PARAM *p;

        if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_NAME)) &&
            !OSSL_PARAM_set_utf8_ptr(p, "rampart-secmon: TLS client keys held by rampart-secmon"))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_VERSION)) && !OSSL_PARAM_set_utf8_ptr(p, RAMPART_VERSION))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PROV_PARAM_STATUS)) && !OSSL_PARAM_set_int(p, 1))
                return 0;
        return 1;
}

static const OSSL_ITEM *prov_get_reason_strings(void *provctx) {
        return reason_strings;
}

static void prov_teardown(void *provctx) {
        prov *p = provctx;

        OSSL_LIB_CTX_free(p->libctx);
        free(p);
}

static const OSSL_DISPATCH prov_functions[] = {
        { OSSL_FUNC_PROVIDER_TEARDOWN, (void (*)(void)) prov_teardown },
        { OSSL_FUNC_PROVIDER_GETTABLE_PARAMS, (void (*)(void)) prov_gettable_params },
        { OSSL_FUNC_PROVIDER_GET_PARAMS, (void (*)(void)) prov_get_params },
        { OSSL_FUNC_PROVIDER_QUERY_OPERATION, (void (*)(void)) prov_query_operation },
        { OSSL_FUNC_PROVIDER_GET_REASON_STRINGS, (void (*)(void)) prov_get_reason_strings },
        { 0, NULL },
};

int rp_secmon_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
                            void **provctx) {
        prov *p = calloc(1, sizeof *p);

        if (!p)
                return 0;
        p->handle = handle;
        for (const OSSL_DISPATCH *f = in; f->function_id != 0; f++)
                switch (f->function_id) {
                case OSSL_FUNC_CORE_NEW_ERROR:
                        p->new_error = OSSL_FUNC_core_new_error(f);
                        break;
                case OSSL_FUNC_CORE_SET_ERROR_DEBUG:
                        p->set_error_debug = OSSL_FUNC_core_set_error_debug(f);
                        break;
                case OSSL_FUNC_CORE_VSET_ERROR:
                        p->vset_error = OSSL_FUNC_core_vset_error(f);
                        break;
                default:
                        break;
                }
        if (!p->new_error || !p->set_error_debug || !p->vset_error) {
                free(p);
                return 0;
        }
        p->libctx = OSSL_LIB_CTX_new_child(handle, in);
        if (!p->libctx) {
                free(p);
                return 0;
        }
        *out = prov_functions;
        *provctx = p;
        return 1;
}

#ifdef RP_SECMON_PROVIDER_MODULE

/* The loadable module (rampart_secmon.so) for the stock openssl command. */
__attribute__((visibility("default")))
int OSSL_provider_init(const OSSL_CORE_HANDLE *handle, const OSSL_DISPATCH *in, const OSSL_DISPATCH **out,
                       void **provctx) {
        return rp_secmon_provider_init(handle, in, out, provctx);
}

#else

/* ---- Built-in use ------------------------------------------------------- */

/* The earliest error OpenSSL queued, with its data, in err; the queue is
 * emptied. Out of memory is -ENOMEM whatever code says. */
static int ossl_error(rp_error *err, int code, const char *what) {
        const char *data = NULL;
        int flags = 0;
        unsigned long e = ERR_peek_error_data(&data, &flags);
        const char *reason = e ? ERR_reason_error_string(e) : NULL;
        int r;

        if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
                code = -ENOMEM;
        if (data && *data && (flags & ERR_TXT_STRING))
                r = rp_error_set(err, code, "%s: %s", what, data);
        else if (reason)
                r = rp_error_set(err, code, "%s: %s", what, reason);
        else
                r = rp_error_set(err, code, "%s", what);
        ERR_clear_error();
        return r;
}

/* The providers loaded here stay loaded for the life of the process (or
 * of their library context): nothing unloads them, and this list keeps
 * them reachable, which is what they are. */
typedef struct loaded {
        struct loaded *next;
        OSSL_PROVIDER *provider;
} loaded;
static loaded *loaded_list;
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

static int provider_count(OSSL_PROVIDER *provider, void *cbdata) {
        return 1;
}

static int provider_load_locked(OSSL_LIB_CTX *libctx, rp_error *err) {
        loaded *l;

        /* OpenSSL 3.0 takes an algorithm named without a property query
         * ("EC" for a P-256 key share, or to check TLS groups) from the
         * provider loaded first. OSSL_PROVIDER_do_all() activates the default
         * provider first, if it is still to be activated as the fallback, and
         * try_load(..., 1) leaves the fallback alone: OpenSSL's EC stays the
         * one chosen for everything but secmon's keys. */
        if (!OSSL_PROVIDER_do_all(libctx, provider_count, NULL))
                return ossl_error(err, -EIO, "cannot activate OpenSSL's providers");
        if (OSSL_PROVIDER_available(libctx, RP_SECMON_PROVIDER_NAME))
                return 0;
        l = calloc(1, sizeof *l);
        if (!l)
                return -ENOMEM;
        if (!OSSL_PROVIDER_add_builtin(libctx, RP_SECMON_PROVIDER_NAME, rp_secmon_provider_init) ||
            !(l->provider = OSSL_PROVIDER_try_load(libctx, RP_SECMON_PROVIDER_NAME, 1))) {
                free(l);
                return ossl_error(err, -EIO, "cannot load the rampart-secmon OpenSSL provider");
        }
        l->next = loaded_list;
        loaded_list = l;
        return 0;
}

int rp_secmon_provider_load(OSSL_LIB_CTX *libctx, rp_error *err) {
        int r;

        RP_INVARIANT(pthread_mutex_lock(&load_lock) == 0);
        r = provider_load_locked(libctx, err);
        RP_INVARIANT(pthread_mutex_unlock(&load_lock) == 0);
        return r;
}

/* Connects to secmon at path and reads its chain. */
static int read_chain(OSSL_LIB_CTX *libctx, const char *path, STACK_OF(X509) **ret, rp_error *err) {
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        int r = secmon_connect(path, &sm, err);

        if (r < 0)
                return r;
        return secmon_chain(libctx, sm, path, ret, err);
}

/* An EVP_PKEY of this provider for the Alias key at socket_path whose public
 * point is x's. */
static int key_from_cert(OSSL_LIB_CTX *libctx, const char *socket_path, X509 *x, EVP_PKEY **ret, rp_error *err) {
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *pc = NULL;
        EVP_PKEY *pkey = NULL;
        uint8_t point[POINT_LEN];
        int r;

        r = cert_point(libctx, x, point, err);
        if (r < 0)
                return rp_error_prefix(err, r, "rampart-secmon at %s", socket_path);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(RP_SECMON_PARAM_SOCKET, (char *) socket_path, 0),
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) GROUP_NAME, 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, point, POINT_LEN),
                OSSL_PARAM_construct_end(),
        };
        pc = EVP_PKEY_CTX_new_from_name(libctx, "EC", RP_SECMON_PROVIDER_PROPQ);
        if (!pc || EVP_PKEY_fromdata_init(pc) <= 0 || EVP_PKEY_fromdata(pc, &pkey, EVP_PKEY_KEYPAIR, params) <= 0)
                return ossl_error(err, -EIO, "rampart-secmon: cannot make the key object");
        *ret = pkey;
        return 0;
}

int rp_secmon_tls_key(OSSL_LIB_CTX *libctx, const char *socket_path, EVP_PKEY **ret, rp_error *err) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = NULL;
        int r;

        if (!prov_socket_path_valid(socket_path, strlen(socket_path)))
                return rp_error_set(err, -EINVAL, "rampart-secmon: '%s' is not a socket path", socket_path);
        r = rp_secmon_provider_load(libctx, err);
        if (r < 0)
                return r;
        r = read_chain(libctx, socket_path, &chain, err);
        if (r < 0)
                return r;
        return key_from_cert(libctx, socket_path, sk_X509_value(chain, 0), ret, err);
}

int rp_secmon_tls_setup(SSL_CTX *ctx, const char *socket_path, rp_error *err) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = NULL;
        _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = NULL;
        int r;

        if (!prov_socket_path_valid(socket_path, strlen(socket_path)))
                return rp_error_set(err, -EINVAL, "rampart-secmon: '%s' is not a socket path", socket_path);
        r = rp_secmon_provider_load(NULL, err);
        if (r < 0)
                return r;
        r = read_chain(NULL, socket_path, &chain, err);
        if (r < 0)
                return r;
        if (sk_X509_num(chain) < 2)
                return rp_error_set(err, -EBADMSG,
                                    "rampart-secmon at %s: the chain lacks the DeviceID certificate", socket_path);
        r = key_from_cert(NULL, socket_path, sk_X509_value(chain, 0), &pkey, err);
        if (r < 0)
                return r;
        if (!SSL_CTX_use_certificate(ctx, sk_X509_value(chain, 0)) || !SSL_CTX_use_PrivateKey(ctx, pkey) ||
            !SSL_CTX_clear_chain_certs(ctx) || !SSL_CTX_add1_chain_cert(ctx, sk_X509_value(chain, 1)))
                return ossl_error(err, -EIO, "rampart-secmon: cannot set up the TLS client key");
        return 0;
}

#endif
