/* SPDX-License-Identifier: Apache-2.0 */
/* Per-thread caches of decoded tenant CAs and trust sets (cache.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "api/cache.h"
#include "api/common.h"
#include "api/certs.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "rot/evidence_internal.h"

/* rp_evidence_verify takes at most 64 trusted CA certificates: one row
 * more is read, so that its message says the limit was passed. */
#define TRUSTED_QUERY_LIMIT "65"

typedef struct ca_entry {
        char tenant_id[RP_DB_ID_LEN + 1];
        uint64_t used;                  /* the tick of its last use; 0: empty */
        api_tenant_ca ca;               /* ca.cert_pem is malloc'd */
} ca_entry;

typedef struct trust_entry {
        char tenant_id[RP_DB_ID_LEN + 1];
        uint64_t used;
        char *pem;                      /* the rows' certificates, concatenated in order */
        size_t pem_len;
        STACK_OF(X509) *cas;            /* decoded from pem */
} trust_entry;

typedef struct thread_cache {
        uint64_t tick;
        ca_entry cas[API_CACHE_ENTRIES];
        trust_entry trust[API_CACHE_ENTRIES];
        /* A trust set that could not be kept (see keepable), until the
         * next call. */
        STACK_OF(X509) *uncached;
} thread_cache;

static void ca_entry_clear(ca_entry *e) {
        X509_free(e->ca.cert);
        EVP_PKEY_free(e->ca.key);
        free((char *) e->ca.cert_pem);
        *e = (ca_entry) {};
}

static void trust_entry_clear(trust_entry *e) {
        sk_X509_pop_free(e->cas, X509_free);
        free(e->pem);
        *e = (trust_entry) {};
}

static void cache_free(void *p) {
        thread_cache *c = p;
        if (!c)
                return;
        for (size_t i = 0; i < API_CACHE_ENTRIES; i++) {
                ca_entry_clear(&c->cas[i]);
                trust_entry_clear(&c->trust[i]);
        }
        sk_X509_pop_free(c->uncached, X509_free);
        free(c);
}

/* The worker thread's cache: made on first use, freed when the thread ends. */
static api_thread_slot cache_slot = API_THREAD_SLOT(thread_cache, cache_free);

static thread_cache *get_cache(void) {
        return api_thread_state(&cache_slot);
}

/* The tenant's entry of a table (*ret_found, NULL if none), and the one
 * to fill for it: that one, else an empty one, else the least recently
 * used. */
static ca_entry *ca_slot(thread_cache *c, const char *tenant_id, ca_entry **ret_found) {
        ca_entry *victim = &c->cas[0];
        *ret_found = NULL;
        for (size_t i = 0; i < API_CACHE_ENTRIES; i++) {
                ca_entry *e = &c->cas[i];
                if (e->used && streq(e->tenant_id, tenant_id))
                        return *ret_found = e;
                if (e->used < victim->used)
                        victim = e;
        }
        return victim;
}

static trust_entry *trust_slot(thread_cache *c, const char *tenant_id, trust_entry **ret_found) {
        trust_entry *victim = &c->trust[0];
        *ret_found = NULL;
        for (size_t i = 0; i < API_CACHE_ENTRIES; i++) {
                trust_entry *e = &c->trust[i];
                if (e->used && streq(e->tenant_id, tenant_id))
                        return *ret_found = e;
                if (e->used < victim->used)
                        victim = e;
        }
        return victim;
}

/* --- tenant CAs --- */

/* The store's row, its key wiped before it is freed. */
static void key_result_freep(rp_db_result **p) {
        rp_db_result *res = *p;
        if (!res)
                return;
        for (size_t i = 0; i < res->n_rows * res->n_cols; i++)
                if (res->cells[i])
                        OPENSSL_cleanse(res->cells[i], strlen(res->cells[i]));
        rp_db_result_free(res);
}

int api_cache_tenant_ca(rp_db *db, const char *tenant_id, const char *cert_pem, const api_tenant_ca **ret,
                        bool *ret_store, rp_error *err) {
        *ret_store = false;
        thread_cache *c = get_cache();
        if (!c)
                return rp_error_set(err, -ENOMEM, "out of memory");
        ca_entry *found;
        ca_entry *e = ca_slot(c, tenant_id, &found);
        if (found && streq(found->ca.cert_pem, cert_pem)) {
                found->used = ++c->tick;
                *ret = &found->ca;
                return 0;
        }

        _cleanup_(key_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "SELECT ca_cert_pem, ca_key_pem FROM tenants WHERE id = $1", tenant_id,
                             NULL);
        if (r < 0) {
                *ret_store = true;
                return r;
        }
        const char *pem = res->n_rows == 1 ? rp_db_result_get(res, 0, 0) : NULL;
        const char *key_pem = res->n_rows == 1 ? rp_db_result_get(res, 0, 1) : NULL;
        if (!pem || !key_pem)
                return rp_error_set(err, -EINVAL, "the tenant has no CA");
        _cleanup_(x509_freep) X509 *cert = NULL;
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = NULL;
        r = api_tenant_ca_decode(pem, key_pem, &cert, &key, err);
        if (r < 0)
                return r;
        char *pem_copy = strdup(pem);
        if (!pem_copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        ca_entry_clear(e);
        snprintf(e->tenant_id, sizeof e->tenant_id, "%s", tenant_id);
        e->ca = (api_tenant_ca) { .cert = TAKE_PTR(cert), .key = TAKE_PTR(key), .cert_pem = pem_copy };
        e->used = ++c->tick;
        *ret = &e->ca;
        return 0;
}

/* --- trust sets --- */

/* Whether the rows of res (the certificates' PEM) are the entry's text. */
static bool same_rows(const trust_entry *e, const rp_db_result *res) {
        size_t off = 0;
        for (size_t i = 0; i < res->n_rows; i++) {
                const char *pem = rp_db_result_get(res, i, 0) ?: "";
                size_t n = strlen(pem);
                if (n > e->pem_len - off || memcmp(e->pem + off, pem, n) != 0)
                        return false;
                off += n;
        }
        return off == e->pem_len;
}

/* Whether cas may be kept: OpenSSL 3.0 caches what it reads of a
 * certificate's extensions in the certificate, and notes a failure to
 * allocate there as malformed extensions (or no fingerprint), which would
 * then stay; a set that went through that is used once, not kept. (The
 * API refuses manufacturer CAs with malformed extensions.) */
static bool keepable(STACK_OF(X509) *cas) {
        for (int i = 0; i < sk_X509_num(cas); i++)
                if (X509_get_extension_flags(sk_X509_value(cas, i)) & (EXFLAG_INVALID | EXFLAG_NO_FINGERPRINT))
                        return false;
        return true;
}

int api_cache_trusted(rp_db *db, const char *tenant_id, STACK_OF(X509) **ret_cas, bool *ret_store, rp_error *err) {
        *ret_store = false;
        thread_cache *c = get_cache();
        if (!c)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "SELECT ca_cert_pem FROM manufacturers WHERE scope = '' OR scope = $1 "
                             "ORDER BY created_at, id LIMIT " TRUSTED_QUERY_LIMIT, tenant_id, NULL);
        if (r < 0) {
                *ret_store = true;
                return r;
        }
        if (res->n_rows == 0) {
                *ret_cas = NULL;
                return 0;
        }
        trust_entry *found;
        trust_entry *e = trust_slot(c, tenant_id, &found);
        if (found && same_rows(found, res)) {
                found->used = ++c->tick;
                *ret_cas = found->cas;
                return 0;
        }

        /* Decoded from the text of the rows, as the verifier reads a
         * policy's ca_pem. */
        size_t len = 0;
        for (size_t i = 0; i < res->n_rows; i++)
                len += strlen(rp_db_result_get(res, i, 0) ?: "");
        _cleanup_free_ char *pem = malloc(len + 1);
        if (!pem)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char *p = pem;
        for (size_t i = 0; i < res->n_rows; i++)
                p = stpcpy(p, rp_db_result_get(res, i, 0) ?: "");
        _cleanup_(x509_stack_freep) STACK_OF(X509) *cas = NULL;
        r = rp_evidence_trusted_parse(pem, len, &cas, err);
        if (r < 0)
                return r;
        bool keep = keepable(cas);
        ERR_clear_error();
        sk_X509_pop_free(TAKE_PTR(c->uncached), X509_free);
        if (!keep) {
                *ret_cas = c->uncached = TAKE_PTR(cas);
                return 0;
        }
        trust_entry_clear(e);
        snprintf(e->tenant_id, sizeof e->tenant_id, "%s", tenant_id);
        e->pem = TAKE_PTR(pem);
        e->pem_len = len;
        e->cas = TAKE_PTR(cas);
        e->used = ++c->tick;
        *ret_cas = e->cas;
        return 0;
}
