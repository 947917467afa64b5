/* SPDX-License-Identifier: Apache-2.0 */
/* The document counter and the tenants' deployment keys (deploy.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "api/common.h"
#include "api/deploy.h"
#include "core/crypto_internal.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"

int api_doc_seq_next(rp_db *db, const char *tenant_id, int64_t *ret, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "UPDATE tenants SET doc_seq = doc_seq + 1 WHERE id = $1 RETURNING doc_seq",
                             tenant_id, NULL);
        if (r < 0)
                return r;
        if (res->n_rows != 1)
                return rp_error_set(err, -ENOENT, "no tenant %s to count a change in", tenant_id);
        *ret = rp_db_result_int(res, 0, 0, 0);
        return 0;
}

rp_update_policy api_update_policy(const char *name) {
        rp_update_policy p;
        return rp_update_policy_from_name(name, &p) == 0 ? p : RP_UPDATE_NONE;
}

/* --- keys --- */

typedef struct key_entry {
        char tenant_id[RP_DB_ID_LEN + 1];
        uint64_t used;                  /* the tick of its last use; 0: empty */
        rp_key *key;
        char *public_pem;
        api_deployment_key view;
} key_entry;

typedef struct key_cache {
        uint64_t tick;
        key_entry e[API_DEPLOY_KEYS];
} key_cache;

static void entry_clear(key_entry *e) {
        rp_key_free(e->key);
        free(e->public_pem);
        *e = (key_entry) {};
}

static void cache_free(void *p) {
        key_cache *c = p;
        if (!c)
                return;
        for (size_t i = 0; i < API_DEPLOY_KEYS; i++)
                entry_clear(&c->e[i]);
        free(c);
}

/* The worker thread's cache: made on first use, freed when the thread ends. */
static api_thread_slot cache_slot = API_THREAD_SLOT(key_cache, cache_free);

static key_cache *get_cache(void) {
        return api_thread_state(&cache_slot);
}

/* The private key's PEM, wiped before it is freed. */
static void secret_freep(char **p) {
        if (*p) {
                OPENSSL_cleanse(*p, strlen(*p));
                free(*p);
        }
}

static void key_result_freep(rp_db_result **p) {
        rp_db_result *res = *p;
        if (!res)
                return;
        for (size_t i = 0; i < res->n_rows * res->n_cols; i++)
                if (res->cells[i])
                        OPENSSL_cleanse(res->cells[i], strlen(res->cells[i]));
        rp_db_result_free(res);
}

static int pem_of(EVP_PKEY *pkey, bool private, char **ret) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_secmem());
        if (!bio || (private ? PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL)
                             : PEM_write_bio_PUBKEY(bio, pkey)) != 1)
                return rp_openssl_failure(-ENOMEM);
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len <= 0)
                return -EIO;
        char *s = malloc((size_t) len + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, data, (size_t) len);
        s[len] = '\0';
        *ret = s;
        return 0;
}

/* A new P-256 key as the row deployment_keys keeps: PKCS#8 and SPKI PEM. */
static int key_make(char **ret_key_pem, char **ret_public_pem, char ret_key_id[2 * RP_KEY_ID_LEN + 1],
                    rp_error *err) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        _cleanup_(secret_freep) char *key_pem = NULL;
        _cleanup_free_ char *public_pem = NULL;
        int r = pkey ? pem_of(pkey, true, &key_pem) : rp_openssl_failure(-EIO);
        if (r >= 0)
                r = pem_of(pkey, false, &public_pem);
        if (r < 0 || !key_pem || !public_pem)
                return rp_error_set(err, r < 0 ? r : -ENOMEM, "cannot make a deployment key");
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        r = rp_key_from_pem(public_pem, strlen(public_pem), false, &k, err);
        if (r < 0)
                return r;
        uint8_t id[RP_KEY_ID_LEN];
        rp_key_id(k, id);
        rp_hex_encode_buf(id, sizeof id, ret_key_id);
        *ret_key_pem = TAKE_PTR(key_pem);
        *ret_public_pem = TAKE_PTR(public_pem);
        return 0;
}

/* The tenant's row, made first if there is none. */
static int key_row(rp_db *db, const char *tenant_id, rp_db_result **ret, rp_error *err) {
        for (unsigned attempt = 0; attempt < 2; attempt++) {
                _cleanup_(key_result_freep) rp_db_result *res = NULL;
                int r = rp_db_queryv(db, &res, err, "SELECT key_pem, public_pem FROM deployment_keys WHERE "
                                     "tenant_id = $1", tenant_id, NULL);
                if (r < 0)
                        return r;
                if (res->n_rows == 1) {
                        *ret = TAKE_PTR(res);
                        return 0;
                }
                if (attempt > 0)
                        break;
                _cleanup_(secret_freep) char *key_pem = NULL;
                _cleanup_free_ char *public_pem = NULL;
                char key_id[2 * RP_KEY_ID_LEN + 1], now[RP_DB_INT_STRLEN];
                r = key_make(&key_pem, &public_pem, key_id, err);
                if (r < 0)
                        return r;
                /* Whoever inserts first, every server then reads that row. */
                r = rp_db_queryv(db, NULL, err, "INSERT INTO deployment_keys (tenant_id, key_pem, public_pem, key_id, "
                                 "created_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING", tenant_id, key_pem,
                                 public_pem, key_id, rp_db_int(api_now(), now), NULL);
                if (r < 0)
                        return r;
        }
        return rp_error_set(err, -EIO, "the deployment key of tenant %s was made but cannot be read", tenant_id);
}

int api_deployment_key_get(rp_db *db, const char *tenant_id, const api_deployment_key **ret, rp_error *err) {
        key_cache *c = get_cache();
        if (!c)
                return rp_error_set(err, -ENOMEM, "out of memory");
        c->tick++;
        key_entry *victim = &c->e[0];
        for (size_t i = 0; i < API_DEPLOY_KEYS; i++) {
                key_entry *e = &c->e[i];
                if (e->used && streq(e->tenant_id, tenant_id)) {
                        e->used = c->tick;
                        *ret = &e->view;
                        return 0;
                }
                if (e->used < victim->used)
                        victim = e;
        }

        _cleanup_(key_result_freep) rp_db_result *res = NULL;
        int r = key_row(db, tenant_id, &res, err);
        if (r < 0)
                return r;
        const char *key_pem = rp_db_result_get(res, 0, 0), *public_pem = rp_db_result_get(res, 0, 1);
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        _cleanup_free_ char *pub = public_pem ? strdup(public_pem) : NULL;
        if (!key_pem || !pub)
                return rp_error_set(err, -ENOMEM, "out of memory");
        r = rp_key_from_pem(key_pem, strlen(key_pem), true, &k, err);
        if (r < 0)
                return rp_error_prefix(err, r == -ENOMEM ? r : -EIO, "the deployment key of tenant %s: ", tenant_id);
        if (rp_key_get_type(k) != RP_KEY_ES256)
                return rp_error_set(err, -EIO, "the deployment key of tenant %s is not an ES256 key", tenant_id);

        entry_clear(victim);
        snprintf(victim->tenant_id, sizeof victim->tenant_id, "%s", tenant_id);
        victim->used = c->tick;
        victim->key = TAKE_PTR(k);
        victim->public_pem = TAKE_PTR(pub);
        uint8_t id[RP_KEY_ID_LEN];
        rp_key_id(victim->key, id);
        victim->view.key = victim->key;
        victim->view.public_pem = victim->public_pem;
        rp_hex_encode_buf(id, sizeof id, victim->view.key_id);
        *ret = &victim->view;
        return 0;
}
