/* SPDX-License-Identifier: Apache-2.0 */
/* Trusted manufacturer CAs: service-wide (/v1/manufacturers, operators) and
 * per tenant (/v1/tenants/{tenant}/manufacturers, Administrators). The
 * attestation verifier trusts the service's and the device's tenant's.
 * docs/api.md, "Manufacturer CAs". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/certs.h"
#include "api/common.h"
#include "core/macro.h"

#define SCOPE_SERVICE ""
#define MANUFACTURER_COLUMNS "id, scope, name, fingerprint, created_at, ca_cert_pem"

/* A row (MANUFACTURER_COLUMNS) as JSON; subject and notAfter are read from
 * the certificate. */
static json_t *manufacturer_json(const rp_db_result *res, size_t row) {
        const char *pem = rp_db_result_get(res, row, 5);
        api_manufacturer_cert *c = NULL;
        size_t n = 0;
        rp_error err = {};
        if (!pem || api_manufacturer_certs_parse(pem, strlen(pem), &c, &n, &err) < 0)
                return NULL;
        const char *scope = rp_db_result_get(res, row, 1);
        json_t *j = json_pack("{s:o, s:o, s:s, s:o, s:s, s:I, s:o}", "id", api_json_text(rp_db_result_get(res, row, 0)),
                              "name", api_json_text(rp_db_result_get(res, row, 2)), "scope",
                              scope && scope[0] ? "tenant" : "service", "fingerprint",
                              api_json_text(rp_db_result_get(res, row, 3)), "subject", c[0].subject, "not_after",
                              (json_int_t) c[0].not_after, "created_at", api_json_int(rp_db_result_get(res, row, 4)));
        api_manufacturer_certs_free(c, n);
        return j;
}

typedef struct manufacturer_add {
        api_actor actor;
        const char *scope, *tenant_id, *name;
        const api_manufacturer_cert *certs;
        size_t n;
        char (*ids)[RP_DB_ID_LEN + 1];
} manufacturer_add;

static int manufacturer_add_tx(rp_db *db, void *userdata, rp_error *err) {
        const manufacturer_add *m = userdata;
        char now[RP_DB_INT_STRLEN];
        rp_db_int(api_now(), now);
        for (size_t i = 0; i < m->n; i++) {
                const api_manufacturer_cert *c = &m->certs[i];
                const char *name = m->name ? m->name : c->common_name[0] ? c->common_name : c->fingerprint;
                int r = rp_db_queryv(db, NULL, err, "INSERT INTO manufacturers (id, scope, name, ca_cert_pem, "
                                     "fingerprint, created_at) VALUES ($1, $2, $3, $4, $5, $6)", m->ids[i], m->scope,
                                     name, c->pem, c->fingerprint, now, NULL);
                if (r < 0)
                        return r;
                _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "id", m->ids[i], "name",
                                                                   name, "fingerprint", c->fingerprint, "subject",
                                                                   c->subject);
                if (!detail)
                        return rp_error_set(err, -ENOMEM, "out of memory");
                char target[RP_DB_ID_LEN + 16];
                snprintf(target, sizeof target, "manufacturer %s", m->ids[i]);
                r = api_audit(db, &m->actor, m->tenant_id, "manufacturer.add", target, detail, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* Replies with the manufacturers whose ids are ids: the first as the
 * object, and all of them in "manufacturers" when there are several. */
static void reply_added(rp_req *req, char (*ids)[RP_DB_ID_LEN + 1], size_t n) {
        json_t *all = json_array(), *first = NULL;
        for (size_t i = 0; all && i < n; i++) {
                rp_error err = {};
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " MANUFACTURER_COLUMNS " FROM manufacturers "
                                     "WHERE id = $1", ids[i], NULL);
                if (r < 0) {
                        json_decref(all);
                        api_reply_store(req, r, &err);
                        return;
                }
                json_t *j = res->n_rows == 1 ? manufacturer_json(res, 0) : NULL;
                if (!j || json_array_append_new(all, j) < 0) {
                        json_decref(all);
                        all = NULL;
                }
        }
        if (all)
                first = json_deep_copy(json_array_get(all, 0));
        if (first && n > 1 && json_object_set(first, "manufacturers", all) < 0) {
                json_decref(first);
                first = NULL;
        }
        json_decref(all);
        rp_reply_json(req, 201, first);
}

void rp_api_manufacturer_add(rp_req *req) {
        api_tenant t;
        bool in_tenant = rp_req_param(req, "tenant") != NULL;
        if (in_tenant ? !api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t) : !api_require_role(req, API_ROLE_OPERATOR))
                return;
        static const char *const fields[] = { "name", "ca_pem", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        manufacturer_add m = { .scope = in_tenant ? t.id : SCOPE_SERVICE, .tenant_id = in_tenant ? t.id : NULL };
        const char *pem;
        if (!body || !api_body_string(req, body, "name", false, API_TEXT_NONEMPTY, API_NAME_MAX, &m.name) ||
            !api_body_string(req, body, "ca_pem", true, API_TEXT_PEM, API_CA_PEM_MAX, &pem))
                return;
        api_manufacturer_cert *certs = NULL;
        size_t n = 0;
        rp_error err = {};
        int r = api_manufacturer_certs_parse(pem, strlen(pem), &certs, &n, &err);
        if (r == -ENOMEM) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return;
        }
        if (r < 0) {
                rp_reply_error(req, 400, "bad_request", "%s", rp_error_message(&err, r));
                return;
        }
        char ids[API_MANUFACTURER_CERTS_MAX][RP_DB_ID_LEN + 1];
        for (size_t i = 0; r >= 0 && i < n; i++)
                r = rp_db_new_id(ids[i]);
        m.certs = certs;
        m.n = n;
        m.ids = ids;
        api_actor_of(req, &m.actor);
        if (r >= 0)
                r = rp_db_transact(rp_req_db(req), manufacturer_add_tx, &m, &err);
        api_manufacturer_certs_free(certs, n);
        if (r == -EEXIST) {
                rp_reply_error(req, 409, "conflict", "a certificate of ca_pem is trusted %s already",
                               in_tenant ? "in this tenant" : "service-wide");
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_added(req, ids, n);
}

void rp_api_manufacturer_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        bool in_tenant = rp_req_param(req, "tenant") != NULL;
        if (in_tenant ? !api_tenant_get(req, API_ROLE_READER, &t) : !api_require_role(req, API_ROLE_READER))
                return;
        if (!api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (in_tenant)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " MANUFACTURER_COLUMNS " FROM manufacturers "
                                 "WHERE scope = $1 OR scope = '' ORDER BY created_at, id LIMIT $2", t.id,
                                 rp_db_int(limit, lim), NULL);
        else
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " MANUFACTURER_COLUMNS " FROM manufacturers "
                                 "WHERE scope = '' ORDER BY created_at, id LIMIT $1", rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json("manufacturers", res, manufacturer_json));
}

typedef struct manufacturer_remove {
        api_actor actor;
        const char *id, *scope, *tenant_id;
        bool removed;
} manufacturer_remove;

static int manufacturer_remove_tx(rp_db *db, void *userdata, rp_error *err) {
        manufacturer_remove *m = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        m->removed = false;
        int r = rp_db_queryv(db, &res, err, "DELETE FROM manufacturers WHERE id = $1 AND scope = $2", m->id, m->scope,
                             NULL);
        if (r < 0 || res->changes == 0)
                return r;
        m->removed = true;
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "manufacturer %s", m->id);
        return api_audit(db, &m->actor, m->tenant_id, "manufacturer.remove", target, NULL, err);
}

void rp_api_manufacturer_remove(rp_req *req) {
        api_tenant t;
        bool in_tenant = rp_req_param(req, "tenant") != NULL;
        if (in_tenant ? !api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t) : !api_require_role(req, API_ROLE_OPERATOR))
                return;
        const char *ref = rp_req_param(req, "manufacturer");
        char id[RP_DB_ID_LEN + 1];
        if (!ref || !api_hex_normalize(ref, RP_DB_ID_LEN, id)) {
                api_reply_not_found(req, "manufacturer", ref);
                return;
        }
        manufacturer_remove m = { .id = id, .scope = in_tenant ? t.id : SCOPE_SERVICE,
                                  .tenant_id = in_tenant ? t.id : NULL };
        api_actor_of(req, &m.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), manufacturer_remove_tx, &m, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (!m.removed) {
                api_reply_not_found(req, "manufacturer", ref);
                return;
        }
        rp_reply_empty(req, 204);
}
