/* SPDX-License-Identifier: Apache-2.0 */
/* The rampart-secmon OpenSSL 3 provider (provider.h): KEYMGMT "EC" for keys
 * that rampart-secmon holds, SIGNATURE "ECDSA" that asks secmon to sign the
 * SHA-256 digest, and a STORE for "rampart-secmon:<socket>" URIs.
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

#include "core/macro.h"
#include "secmon/client.h"
#include "secmon/provider.h"

#define POINT_LEN 65            /* uncompressed P-256 point: 0x04 || X || Y */
#define GROUP_NAME "prime256v1"
#define CHAIN_MAX 8             /* certificates read from secmon's chain */

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

/* ecdsa-with-SHA256 (RFC 5758) as a DER AlgorithmIdentifier. */
static const uint8_t algorithm_id_es256[] = {
        0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02,
};

static void evp_md_freep(EVP_MD **p) {
        EVP_MD_free(*p);
}
static void x509_freep(X509 **p) {
        X509_free(*p);
}
static void x509_stack_freep(STACK_OF(X509) **p) {
        sk_X509_pop_free(*p, X509_free);
}
static void bio_freep(BIO **p) {
        BIO_free(*p);
}
static void ec_group_freep(EC_GROUP **p) {
        EC_GROUP_free(*p);
}
static void ec_point_freep(EC_POINT **p) {
        EC_POINT_free(*p);
}
static void ecdsa_sig_freep(ECDSA_SIG **p) {
        ECDSA_SIG_free(*p);
}
static void bn_freep(BIGNUM **p) {
        BN_free(*p);
}

/* ---- The provider and its errors ---------------------------------------- */

typedef struct prov {
        const OSSL_CORE_HANDLE *handle;
        /* A child of the core's library context: SHA-256 and certificate
         * parsing come from the providers the application loaded. */
        OSSL_LIB_CTX *libctx;
        OSSL_FUNC_core_new_error_fn *new_error;
        OSSL_FUNC_core_set_error_debug_fn *set_error_debug;
        OSSL_FUNC_core_vset_error_fn *vset_error;
} prov;

enum {
        R_UNREACHABLE = 1,
        R_SECMON_FAILED,
        R_KEY_CHANGED,
        R_DIGEST,
        R_PUBLIC_ONLY,
        R_BAD_KEY,
        R_BAD_URI,
        R_SIG_BUFFER,
        R_INTERNAL,
};

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

/* Queues an error in the application's OpenSSL error queue. Text from
 * elsewhere (paths, secmon's messages) only ever goes in through "%s". */
__attribute__((format(printf, 6, 7)))
static void raise_error(const prov *p, int reason, const char *file, int line, const char *func,
                        const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        p->new_error(p->handle);
        p->set_error_debug(p->handle, file, line, func);
        p->vset_error(p->handle, reason, fmt, ap);
        va_end(ap);
}
#define RAISE(p, reason, ...) \
        raise_error((p), (reason), OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC, __VA_ARGS__)

/* ---- P-256 points and secmon's certificate chain ------------------------ */

static bool is_p256_name(const char *name) {
        return OBJ_txt2nid(name) == NID_X9_62_prime256v1 || EC_curve_nist2nid(name) == NID_X9_62_prime256v1 ||
               strcasecmp(name, "secp256r1") == 0;
}

/* Checks that octets encode a point of P-256 (compressed or not, never the
 * point at infinity) and writes it uncompressed. -EINVAL if not a point,
 * -ENOMEM if OpenSSL could not allocate. */
static int point_normalize(OSSL_LIB_CTX *libctx, const uint8_t *octets, size_t len,
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
            !is_p256_name(group))
                return rp_error_set(err, -EOPNOTSUPP, "the Alias certificate's key is not an ECDSA P-256 key");
        if (!EVP_PKEY_get_octet_string_param(pk, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, octets, sizeof octets,
                                             &len))
                return rp_error_set(err, -EINVAL, "the Alias certificate's public key cannot be read");
        r = point_normalize(libctx, octets, len, out);
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

/* The r||s signature as DER ECDSA-Sig-Value into out (RP_SECMON_SIG_DER_MAX
 * bytes). */
static int rs_to_der(const uint8_t rs[RP_ROT_SIG_LEN], uint8_t out[RP_SECMON_SIG_DER_MAX], size_t *ret_len) {
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *es = ECDSA_SIG_new();
        _cleanup_(bn_freep) BIGNUM *r = BN_bin2bn(rs, RP_ROT_SIG_LEN / 2, NULL);
        _cleanup_(bn_freep) BIGNUM *s = BN_bin2bn(rs + RP_ROT_SIG_LEN / 2, RP_ROT_SIG_LEN / 2, NULL);
        unsigned char *p = out;
        int len;

        if (!es || !r || !s || !ECDSA_SIG_set0(es, r, s))
                return -ENOMEM;
        r = s = NULL;   /* es owns them */
        len = i2d_ECDSA_SIG(es, NULL);
        RP_INVARIANT(len > 0 && len <= RP_SECMON_SIG_DER_MAX);
        RP_INVARIANT(i2d_ECDSA_SIG(es, &p) == len);
        *ret_len = (size_t) len;
        return 0;
}

/* ---- Key objects -------------------------------------------------------- */

/* Every query from inside the provider for OpenSSL's own algorithms. */
#define NOT_THIS_PROVIDER "provider!=" RP_SECMON_URI_SCHEME

typedef struct key {
        int refs;
        prov *prov;
        char *socket_path;              /* NULL: a public key only, for comparisons */
        bool has_pub;
        uint8_t pub[POINT_LEN];
        pthread_mutex_t lock;           /* guards conn and verifier */
        rp_secmon *conn;                /* NULL until first used */
        EVP_PKEY *verifier;             /* pub, in OpenSSL's provider; made on first use */
} key;

static key *key_new(prov *p) {
        key *k = calloc(1, sizeof *k);

        if (!k)
                return NULL;
        k->refs = 1;
        k->prov = p;
        RP_INVARIANT(pthread_mutex_init(&k->lock, NULL) == 0);
        return k;
}

static key *key_ref(key *k) {
        __atomic_add_fetch(&k->refs, 1, __ATOMIC_RELAXED);
        return k;
}

static void key_unref(key *k) {
        if (!k || __atomic_sub_fetch(&k->refs, 1, __ATOMIC_ACQ_REL) > 0)
                return;
        rp_secmon_close(k->conn);
        EVP_PKEY_free(k->verifier);
        free(k->socket_path);
        pthread_mutex_destroy(&k->lock);
        free(k);
}
static void key_unrefp(key **k) {
        key_unref(*k);
}

/* A socket path fits sockaddr_un and holds no NUL. */
static bool socket_path_valid(const char *path, size_t len) {
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
static int key_read_chain_locked(key *k, STACK_OF(X509) **ret_chain) {
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
        r = rs_to_der(rs, der, ret_len);
        if (r < 0) {
                RAISE(k->prov, R_INTERNAL, "out of memory");
                return r;
        }
        return key_check_locked(k, digest, der, *ret_len);
}

static int key_sign(key *k, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t der[RP_SECMON_SIG_DER_MAX],
                    size_t *ret_len) {
        int r;

        RP_INVARIANT(pthread_mutex_lock(&k->lock) == 0);
        r = key_sign_locked(k, digest, der, ret_len);
        RP_INVARIANT(pthread_mutex_unlock(&k->lock) == 0);
        return r;
}

/* ---- KEYMGMT ------------------------------------------------------------ */

static void *km_new(void *provctx) {
        return key_new(provctx);
}

static void km_free(void *keydata) {
        key_unref(keydata);
}

/* The store hands a key object over by reference (store_give_key). */
static void *km_load(const void *reference, size_t reference_sz) {
        key *k;

        if (!reference || reference_sz != sizeof k)
                return NULL;
        memcpy(&k, reference, sizeof k);
        return key_ref(k);
}

static void *km_dup(const void *keydata, int selection) {
        const key *src = keydata;
        _cleanup_(key_unrefp) key *k = key_new(src->prov);

        if (!k)
                return NULL;
        if (src->has_pub && (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)) {
                memcpy(k->pub, src->pub, POINT_LEN);
                k->has_pub = true;
        }
        if (src->socket_path && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
                k->socket_path = strdup(src->socket_path);
                if (!k->socket_path)
                        return NULL;
        }
        return TAKE_PTR(k);
}

/* The private key is "there" when the key object can sign with it. */
static int km_has(const void *keydata, int selection) {
        const key *k = keydata;

        if (!k)
                return 0;
        if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && !k->has_pub)
                return 0;
        if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && (!k->has_pub || !k->socket_path))
                return 0;
        return 1;   /* the domain parameters are always P-256 */
}

/* Both keys are P-256; with the key pair selected, the public points must
 * be the same (there is no private key to compare). */
static int km_match(const void *keydata1, const void *keydata2, int selection) {
        const key *a = keydata1, *b = keydata2;

        if (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)
                return a->has_pub && b->has_pub && memcmp(a->pub, b->pub, POINT_LEN) == 0;
        return 1;
}

static int km_import_socket(key *k, const OSSL_PARAM *p) {
        const char *path;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &path) || !socket_path_valid(path, strlen(path))) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: %s is not a socket path", RP_SECMON_PARAM_SOCKET);
                return 0;
        }
        free(k->socket_path);
        k->socket_path = strdup(path);
        if (!k->socket_path) {
                RAISE(k->prov, R_INTERNAL, "out of memory");
                return 0;
        }
        return 1;
}

static int km_import_pub(key *k, const OSSL_PARAM *p) {
        const void *octets;
        size_t len;
        int r;

        if (!OSSL_PARAM_get_octet_string_ptr(p, &octets, &len)) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: the public key is not an octet string");
                return 0;
        }
        r = point_normalize(k->prov->libctx, octets, len, k->pub);
        if (r < 0) {
                RAISE(k->prov, r == -ENOMEM ? R_INTERNAL : R_BAD_KEY,
                      "rampart-secmon: the public key is not a P-256 point");
                return 0;
        }
        k->has_pub = true;
        return 1;
}

/* Takes the group (P-256 only), the public point and the socket path. A
 * private key is refused: secmon's key never leaves it. The socket without
 * a public point reads the point from secmon. */
static int km_import(void *keydata, int selection, const OSSL_PARAM params[]) {
        key *k = keydata;
        const OSSL_PARAM *p;
        const char *group;

        if (!k)
                return 0;
        if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY)) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon holds no private keys: import the public key and %s",
                      RP_SECMON_PARAM_SOCKET);
                return 0;
        }
        p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME);
        if (p && (!OSSL_PARAM_get_utf8_string_ptr(p, &group) || !is_p256_name(group))) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: only P-256 (prime256v1) keys are supported");
                return 0;
        }
        if (!p && (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) && !(selection & OSSL_KEYMGMT_SELECT_KEYPAIR)) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: no group given");
                return 0;
        }
        p = OSSL_PARAM_locate_const(params, RP_SECMON_PARAM_SOCKET);
        if (p && !km_import_socket(k, p))
                return 0;
        /* OpenSSL 3.0 offers every key to each provider's ECDSA in turn,
         * exporting it with everything selected: another provider's key
         * must not become one of these, which cannot verify. */
        if (!p && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
                return 0;
        p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY);
        if (!(selection & OSSL_KEYMGMT_SELECT_KEYPAIR))
                return 1;
        if (p)
                return km_import_pub(k, p);
        if (k->socket_path)
                return key_read_chain_locked(k, NULL) >= 0;
        RAISE(k->prov, R_BAD_KEY, "rampart-secmon: neither a public key nor %s given", RP_SECMON_PARAM_SOCKET);
        return 0;
}

static const OSSL_PARAM km_import_table[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_utf8_string(RP_SECMON_PARAM_SOCKET, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM km_export_table[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM *km_import_types(int selection) {
        return km_import_table;
}

static const OSSL_PARAM *km_export_types(int selection) {
        return km_export_table;
}

/* Exports the public part (the group, the point): enough for EVP_PKEY_eq,
 * X509_check_private_key and encoders. A request that includes the private
 * key of a key that can sign is refused, not answered with the public part:
 * OpenSSL 3.0 offers a key to every provider's ECDSA first (EVP_DigestSign-
 * Init exports it with everything selected) and would otherwise hand a
 * public key to OpenSSL's own ECDSA, which cannot sign with it. */
static int km_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg) {
        key *k = keydata;
        OSSL_PARAM params[3];
        size_t n = 0;

        if (!k || (selection & ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY) == 0 ||
            ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && k->socket_path))
                return 0;
        if (selection & (OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_KEYPAIR))
                params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) GROUP_NAME, 0);
        if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && k->has_pub)
                params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, k->pub, POINT_LEN);
        params[n] = OSSL_PARAM_construct_end();
        return cb(params, cbarg);
}

static int km_get_params(void *keydata, OSSL_PARAM params[]) {
        const key *k = keydata;
        OSSL_PARAM *p;

        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) && !OSSL_PARAM_set_int(p, 256))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) && !OSSL_PARAM_set_int(p, 128))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) &&
            !OSSL_PARAM_set_int(p, RP_SECMON_SIG_DER_MAX))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_GROUP_NAME)) && !OSSL_PARAM_set_utf8_string(p, GROUP_NAME))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) &&
            !OSSL_PARAM_set_utf8_string(p, "SHA256"))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MANDATORY_DIGEST)) &&
            !OSSL_PARAM_set_utf8_string(p, "SHA256"))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_EC_ENCODING)) &&
            !OSSL_PARAM_set_utf8_string(p, OSSL_PKEY_EC_ENCODING_GROUP))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT)) &&
            !OSSL_PARAM_set_utf8_string(p, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
                return 0;
        if (k->has_pub) {
                if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PUB_KEY)) &&
                    !OSSL_PARAM_set_octet_string(p, k->pub, POINT_LEN))
                        return 0;
                if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY)) &&
                    !OSSL_PARAM_set_octet_string(p, k->pub, POINT_LEN))
                        return 0;
        }
        return 1;
}

static const OSSL_PARAM km_gettable_table[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM *km_gettable_params(void *provctx) {
        return km_gettable_table;
}

static const char *km_query_operation_name(int operation_id) {
        return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

static const OSSL_DISPATCH km_functions[] = {
        { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void)) km_new },
        { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void)) km_free },
        { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void)) km_load },
        { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void)) km_dup },
        { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void)) km_has },
        { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void)) km_match },
        { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void)) km_import },
        { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void)) km_import_types },
        { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void)) km_export },
        { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void)) km_export_types },
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void)) km_get_params },
        { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void)) km_gettable_params },
        { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void)) km_query_operation_name },
        { 0, NULL },
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
        key_unref(s->key);
        EVP_MD_CTX_free(s->md);
        free(s);
}

static void *sig_dupctx(void *vctx) {
        const sigctx *src = vctx;
        sigctx *s = sig_newctx(src->prov, NULL);

        if (!s)
                return NULL;
        if (src->key)
                s->key = key_ref(src->key);
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
        key_unref(s->key);
        s->key = key_ref(k);
        return sig_set_ctx_params(s, params);
}

/* Signs a SHA-256 digest through secmon: DER ECDSA-Sig-Value. */
static int sig_sign_digest(sigctx *s, const uint8_t digest[RP_ROT_DIGEST_LEN], unsigned char *sig,
                           size_t *siglen, size_t sigsize) {
        uint8_t der[RP_SECMON_SIG_DER_MAX];
        size_t len;

        if (key_sign(s->key, digest, der, &len) < 0)
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

static const OSSL_DISPATCH sig_functions[] = {
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

/* ---- STORE: "rampart-secmon:<socket path>" ------------------------------ */

typedef struct store {
        prov *prov;
        char *path;
        bool failed;
        bool opened;                    /* the key and chain were read */
        key *key;                       /* until handed out */
        STACK_OF(X509) *chain;
        int next_cert;
} store;

static void store_free(store *s) {
        if (!s)
                return;
        key_unref(s->key);
        sk_X509_pop_free(s->chain, X509_free);
        free(s->path);
        free(s);
}

static void *store_open(void *provctx, const char *uri) {
        static const char scheme[] = RP_SECMON_URI_SCHEME ":";
        prov *p = provctx;
        const char *path = uri + strlen(scheme);
        store *s;

        if (strncasecmp(uri, scheme, strlen(scheme)) != 0 || !socket_path_valid(path, strlen(path))) {
                RAISE(p, R_BAD_URI, "rampart-secmon: expected %s<socket path>, got %s", scheme, uri);
                return NULL;
        }
        s = calloc(1, sizeof *s);
        if (!s || !(s->path = strdup(path))) {
                free(s);
                RAISE(p, R_INTERNAL, "out of memory");
                return NULL;
        }
        s->prov = p;
        return s;
}

/* Connects (the key object keeps the connection) and reads the chain. */
static int store_read(store *s) {
        _cleanup_(key_unrefp) key *k = key_new(s->prov);

        if (!k || !(k->socket_path = strdup(s->path))) {
                RAISE(s->prov, R_INTERNAL, "out of memory");
                return -ENOMEM;
        }
        if (key_read_chain_locked(k, &s->chain) < 0)
                return -EIO;
        s->key = TAKE_PTR(k);
        s->opened = true;
        return 0;
}

/* The key object goes by reference to km_load, which takes its own. */
static int store_give_key(key *k, OSSL_CALLBACK *cb, void *cbarg) {
        int type = OSSL_OBJECT_PKEY;
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type),
                OSSL_PARAM_construct_utf8_string(OSSL_OBJECT_PARAM_DATA_TYPE, (char *) "EC", 0),
                OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_REFERENCE, &k, sizeof k),
                OSSL_PARAM_construct_end(),
        };

        return cb(params, cbarg);
}

static int store_give_cert(store *s, X509 *x, OSSL_CALLBACK *cb, void *cbarg) {
        int type = OSSL_OBJECT_CERT;
        unsigned char *der = NULL;
        int len = i2d_X509(x, &der), ok;

        if (len <= 0) {
                RAISE(s->prov, R_INTERNAL, "rampart-secmon: cannot encode a certificate of the chain");
                return 0;
        }
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_int(OSSL_OBJECT_PARAM_TYPE, &type),
                OSSL_PARAM_construct_octet_string(OSSL_OBJECT_PARAM_DATA, der, (size_t) len),
                OSSL_PARAM_construct_end(),
        };
        ok = cb(params, cbarg);
        OPENSSL_free(der);
        return ok;
}

/* The key first, then the chain's certificates (OSSL_STORE passes on what
 * its caller expects). */
static int store_load(void *vctx, OSSL_CALLBACK *object_cb, void *object_cbarg, OSSL_PASSPHRASE_CALLBACK *pw_cb,
                      void *pw_cbarg) {
        store *s = vctx;

        if (!s->opened && store_read(s) < 0) {
                s->failed = true;
                return 0;
        }
        if (s->key) {
                _cleanup_(key_unrefp) key *k = TAKE_PTR(s->key);

                return store_give_key(k, object_cb, object_cbarg);
        }
        if (s->next_cert < sk_X509_num(s->chain))
                return store_give_cert(s, sk_X509_value(s->chain, s->next_cert++), object_cb, object_cbarg);
        return 1;
}

static int store_eof(void *vctx) {
        const store *s = vctx;

        if (s->failed)
                return 1;
        if (!s->opened)
                return 0;
        return !s->key && s->next_cert >= sk_X509_num(s->chain);
}

static int store_close(void *vctx) {
        store_free(vctx);
        return 1;
}

static const OSSL_DISPATCH store_functions[] = {
        { OSSL_FUNC_STORE_OPEN, (void (*)(void)) store_open },
        { OSSL_FUNC_STORE_LOAD, (void (*)(void)) store_load },
        { OSSL_FUNC_STORE_EOF, (void (*)(void)) store_eof },
        { OSSL_FUNC_STORE_CLOSE, (void (*)(void)) store_close },
        { 0, NULL },
};

/* ---- The provider ------------------------------------------------------- */

static const OSSL_ALGORITHM km_algorithms[] = {
        { "EC:id-ecPublicKey:1.2.840.10045.2.1", RP_SECMON_PROVIDER_PROPQ, km_functions,
          "a P-256 key held by rampart-secmon" },
        { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM sig_algorithms[] = {
        { "ECDSA", RP_SECMON_PROVIDER_PROPQ, sig_functions, "ECDSA with SHA-256, signed by rampart-secmon" },
        { NULL, NULL, NULL, NULL },
};

static const OSSL_ALGORITHM store_algorithms[] = {
        { RP_SECMON_URI_SCHEME, RP_SECMON_PROVIDER_PROPQ, store_functions, "keys held by rampart-secmon" },
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

static void evp_pkey_freep(EVP_PKEY **p) {
        EVP_PKEY_free(*p);
}
static void evp_pkey_ctx_freep(EVP_PKEY_CTX **p) {
        EVP_PKEY_CTX_free(*p);
}

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

        if (!socket_path_valid(socket_path, strlen(socket_path)))
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

        if (!socket_path_valid(socket_path, strlen(socket_path)))
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
