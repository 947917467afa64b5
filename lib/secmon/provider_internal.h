/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the rampart-secmon provider's files share (provider.h is its API):
 * the provider context, its errors, and key objects. provider.c has the
 * provider itself, key objects and the built-in use; provider_keymgmt.c,
 * provider_signature.c and provider_store.c have one OpenSSL operation
 * each. */

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/bio.h>
#include <openssl/core.h>
#include <openssl/core_dispatch.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/openssl_cleanup.h"
#include "rot/rot.h"
#include "secmon/client.h"
#include "secmon/provider.h"

#define POINT_LEN 65            /* uncompressed P-256 point: 0x04 || X || Y */
#define GROUP_NAME "prime256v1"
#define CHAIN_MAX 8             /* certificates read from secmon's chain */

/* Every query from inside the provider for OpenSSL's own algorithms. */
#define NOT_THIS_PROVIDER "provider!=" RP_SECMON_URI_SCHEME

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

/* Queues an error in the application's OpenSSL error queue. Text from
 * elsewhere (paths, secmon's messages) only ever goes in through "%s". */
__attribute__((format(printf, 6, 7)))
void prov_raise_error(const prov *p, int reason, const char *file, int line, const char *func,
                      const char *fmt, ...);
#define RAISE(p, reason, ...) \
        prov_raise_error((p), (reason), OPENSSL_FILE, OPENSSL_LINE, OPENSSL_FUNC, __VA_ARGS__)

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

bool prov_is_p256_name(const char *name);
int prov_point_normalize(OSSL_LIB_CTX *libctx, const uint8_t *octets, size_t len,
                           uint8_t out[POINT_LEN]);
key *prov_key_new(prov *p);
key *prov_key_ref(key *k);
void prov_key_unref(key *k);
void prov_key_unrefp(key **k);
bool prov_socket_path_valid(const char *path, size_t len);
int prov_key_read_chain_locked(key *k, STACK_OF(X509) **ret_chain);
int prov_key_sign(key *k, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t der[RP_SECMON_SIG_DER_MAX],
                    size_t *ret_len);
void *prov_km_load(const void *reference, size_t reference_sz);

/* The operations' dispatch tables. */
extern const OSSL_DISPATCH prov_km_functions[];
extern const OSSL_DISPATCH prov_sig_functions[];
extern const OSSL_DISPATCH prov_store_functions[];

