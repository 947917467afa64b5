/* SPDX-License-Identifier: Apache-2.0 */
/* The rampart-secmon provider's STORE (provider_internal.h): a
 * "rampart-secmon:<socket path>" URI gives the key, then the chain. */
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
        prov_key_unref(s->key);
        sk_X509_pop_free(s->chain, X509_free);
        free(s->path);
        free(s);
}

static void *store_open(void *provctx, const char *uri) {
        static const char scheme[] = RP_SECMON_URI_SCHEME ":";
        prov *p = provctx;
        const char *path = uri + strlen(scheme);
        store *s;

        if (strncasecmp(uri, scheme, strlen(scheme)) != 0 || !prov_socket_path_valid(path, strlen(path))) {
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
        _cleanup_(prov_key_unrefp) key *k = prov_key_new(s->prov);

        if (!k || !(k->socket_path = strdup(s->path))) {
                RAISE(s->prov, R_INTERNAL, "out of memory");
                return -ENOMEM;
        }
        if (prov_key_read_chain_locked(k, &s->chain) < 0)
                return -EIO;
        s->key = TAKE_PTR(k);
        s->opened = true;
        return 0;
}

/* The key object goes by reference to prov_km_load, which takes its own. */
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
                _cleanup_(prov_key_unrefp) key *k = TAKE_PTR(s->key);

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

const OSSL_DISPATCH prov_store_functions[] = {
        { OSSL_FUNC_STORE_OPEN, (void (*)(void)) store_open },
        { OSSL_FUNC_STORE_LOAD, (void (*)(void)) store_load },
        { OSSL_FUNC_STORE_EOF, (void (*)(void)) store_eof },
        { OSSL_FUNC_STORE_CLOSE, (void (*)(void)) store_close },
        { 0, NULL },
};
