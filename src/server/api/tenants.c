/* SPDX-License-Identifier: Apache-2.0 */
/* Tenants and their CAs: POST/GET /v1/tenants, GET/PATCH
 * /v1/tenants/{tenant}, GET .../ca-certificate (docs/api.md, "Tenants"). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/certs.h"
#include "api/common.h"
#include "core/macro.h"

#define TENANT_COLUMNS "id, name, allow_development, created_at, ca_cert_pem"

/* A tenant row (TENANT_COLUMNS) as JSON. */
static json_t *tenant_json(const rp_db_result *res, size_t row) {
        char fp[API_FINGERPRINT_LEN + 1] = "";
        const char *pem = rp_db_result_get(res, row, 4);
        rp_error err = {};
        if (!pem || api_cert_fingerprint(pem, fp, &err) < 0)
                return NULL;
        return json_pack("{s:o, s:o, s:o, s:o, s:s}", "id", api_json_text(rp_db_result_get(res, row, 0)), "name",
                         api_json_text(rp_db_result_get(res, row, 1)), "allow_development",
                         api_json_bool(rp_db_result_get(res, row, 2)), "created_at",
                         api_json_int(rp_db_result_get(res, row, 3)), "ca_fingerprint", fp);
}

/* Replies with the tenant whose id is id (status). */
static void reply_tenant(rp_req *req, int status, const char *id) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " TENANT_COLUMNS " FROM tenants WHERE id = $1", id,
                             NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "tenant", id);
                return;
        }
        rp_reply_json(req, status, tenant_json(res, 0));
}

typedef struct tenant_create {
        api_actor actor;
        const char *id, *name, *cert_pem, *key_pem;
        bool allow_development;
} tenant_create;

static int tenant_create_tx(rp_db *db, void *userdata, rp_error *err) {
        const tenant_create *c = userdata;
        char now[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                             "allow_development, created_at) VALUES ($1, $2, $3, $4, $5, $6)", c->id, c->name,
                             c->cert_pem, c->key_pem, c->allow_development ? "1" : "0", rp_db_int(api_now(), now),
                             NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:b}", "id", c->id, "name", c->name,
                                                           "allow_development", c->allow_development);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return api_audit(db, &c->actor, NULL, "tenant.create", c->id, detail, err);
}

static void free_secret(char **p) {
        if (*p) {
                OPENSSL_cleanse(*p, strlen(*p));
                free(*p);
        }
}

void rp_api_tenant_create(rp_req *req) {
        if (!api_require_role(req, API_ROLE_OPERATOR))
                return;
        static const char *const fields[] = { "name", "allow_development", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        tenant_create c = {};
        bool present;
        if (!body || !api_body_string(req, body, "name", true, API_TEXT_NAME, API_NAME_MAX, &c.name) ||
            !api_body_bool(req, body, "allow_development", &c.allow_development, &present))
                return;
        char id[RP_DB_ID_LEN + 1];
        rp_error err = {};
        _cleanup_free_ char *cert_pem = NULL;
        _cleanup_(free_secret) char *key_pem = NULL;
        int r = rp_db_new_id(id);
        if (r >= 0)
                r = api_tenant_ca_create(c.name, api_now(), &cert_pem, &key_pem, &err);
        if (r < 0) {
                rp_reply_error(req, 500, "internal", "cannot make the tenant's CA");
                return;
        }
        api_actor_of(req, &c.actor);
        c.id = id;
        c.cert_pem = cert_pem;
        c.key_pem = key_pem;
        r = rp_db_transact(rp_req_db(req), tenant_create_tx, &c, &err);
        if (r == -EEXIST) {
                char q[160];
                rp_reply_error(req, 409, "conflict", "a tenant named %s exists already",
                               rp_log_quote(c.name, q, sizeof q));
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_tenant(req, 201, id);
}

void rp_api_tenant_list(rp_req *req) {
        int64_t limit;
        api_role role = api_caller_role(req);
        if (!api_require_role(req, API_ROLE_READER) || !api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (role == API_ROLE_OPERATOR)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " TENANT_COLUMNS " FROM tenants "
                                 "ORDER BY name LIMIT $1", rp_db_int(limit, lim), NULL);
        else
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " TENANT_COLUMNS " FROM tenants "
                                 "WHERE id = $1", rp_req_principal(req)->tenant_id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json("tenants", res, tenant_json));
}

void rp_api_tenant_show(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_READER, &t))
                return;
        reply_tenant(req, 200, t.id);
}

typedef struct tenant_update {
        api_actor actor;
        const char *id;
        bool allow_development;
} tenant_update;

static int tenant_update_tx(rp_db *db, void *userdata, rp_error *err) {
        const tenant_update *u = userdata;
        int r = rp_db_queryv(db, NULL, err, "UPDATE tenants SET allow_development = $1 WHERE id = $2",
                             u->allow_development ? "1" : "0", u->id, NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:b}", "allow_development", u->allow_development);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return api_audit(db, &u->actor, u->id, "tenant.update", u->id, detail, err);
}

void rp_api_tenant_update(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t))
                return;
        static const char *const fields[] = { "allow_development", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body_optional(req, fields);
        tenant_update u = { .id = t.id };
        bool present;
        if (!body || !api_body_bool(req, body, "allow_development", &u.allow_development, &present))
                return;
        if (present && u.allow_development != t.allow_development) {
                api_actor_of(req, &u.actor);
                rp_error err = {};
                int r = rp_db_transact(rp_req_db(req), tenant_update_tx, &u, &err);
                if (r < 0) {
                        api_reply_store(req, r, &err);
                        return;
                }
        }
        reply_tenant(req, 200, t.id);
}

void rp_api_ca_certificate(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_READER, &t))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT ca_cert_pem FROM tenants WHERE id = $1", t.id,
                             NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        const char *pem = rp_db_result_get(res, 0, 0);
        if (!pem) {
                api_reply_not_found(req, "tenant", t.name);
                return;
        }
        rp_reply_bytes(req, 200, "application/x-pem-file", pem, strlen(pem));
}
