/* SPDX-License-Identifier: Apache-2.0 */
/* Software releases: the measurements a tenant's devices may run and still
 * get certificates. Revoking one is the renewable-security lever: a device
 * that measures it is refused (software_revoked) until it updates.
 * docs/api.md, "Software releases". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/macro.h"

#define RELEASE_COLUMNS "id, kind, name, version, measurement, revoked, revoked_at, created_at"

static const api_field release_fields[] = {
        { "id", API_FIELD_TEXT },
        { "kind", API_FIELD_TEXT },
        { "name", API_FIELD_TEXT },
        { "version", API_FIELD_TEXT },
        { "measurement", API_FIELD_TEXT },
        { "revoked", API_FIELD_BOOL },
        { "revoked_at", API_FIELD_INT },
        { "created_at", API_FIELD_INT },
        {},
};

static void reply_release(rp_req *req, int status, const char *tenant_id, const char *id) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " RELEASE_COLUMNS " FROM releases WHERE id = $1 AND "
                             "tenant_id = $2", id, tenant_id, NULL);
        if (r < 0)
                api_reply_store(req, r, &err);
        else if (res->n_rows != 1)
                api_reply_not_found(req, "release", id);
        else
                rp_reply_json(req, status, api_row_json(res, 0, release_fields));
}

typedef struct release_add {
        api_actor actor;
        const char *tenant_id, *id, *kind, *name, *version, *measurement;
} release_add;

static int release_add_tx(rp_db *db, void *userdata, rp_error *err) {
        const release_add *a = userdata;
        char now[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO releases (id, tenant_id, kind, name, version, measurement, "
                             "revoked, created_at) VALUES ($1, $2, $3, $4, $5, $6, 0, $7)", a->id, a->tenant_id,
                             a->kind, a->name, a->version, a->measurement, rp_db_int(api_now(), now), NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", a->id, "kind", a->kind,
                                                           "name", a->name, "version", a->version, "measurement",
                                                           a->measurement);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "release %s", a->id);
        return api_audit(db, &a->actor, a->tenant_id, "release.add", target, detail, err);
}

void rp_api_release_add(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        static const char *const fields[] = { "kind", "name", "version", "measurement", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        release_add a = { .tenant_id = t.id };
        const char *measurement;
        if (!body || !api_body_string(req, body, "kind", true, API_TEXT_NONEMPTY, 8, &a.kind) ||
            !api_body_string(req, body, "name", true, API_TEXT_NONEMPTY, API_NAME_MAX, &a.name) ||
            !api_body_string(req, body, "version", true, API_TEXT_NONEMPTY, API_VERSION_MAX, &a.version) ||
            !api_body_string(req, body, "measurement", true, API_TEXT_NONEMPTY, API_MEASUREMENT_LEN, &measurement))
                return;
        if (!streq(a.kind, "os") && !streq(a.kind, "app")) {
                rp_reply_error(req, 400, "bad_request", "kind: expected \"os\" or \"app\"");
                return;
        }
        char m[API_MEASUREMENT_LEN + 1], id[RP_DB_ID_LEN + 1];
        if (!api_hex_normalize(measurement, API_MEASUREMENT_LEN, m)) {
                rp_reply_error(req, 400, "bad_request", "measurement: expected 64 hex digits (the SHA-256 the "
                               "device's evidence reports, as 'rampart device show-identity' prints it)");
                return;
        }
        if (rp_db_new_id(id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        a.measurement = m;
        a.id = id;
        api_actor_of(req, &a.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), release_add_tx, &a, &err);
        if (r == -EEXIST) {
                rp_reply_error(req, 409, "conflict", "the tenant has a release with measurement %s already", m);
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_release(req, 201, t.id, id);
}

void rp_api_release_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " RELEASE_COLUMNS " FROM releases WHERE "
                             "tenant_id = $1 ORDER BY created_at, id LIMIT $2", t.id, rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("releases", res, release_fields));
}

typedef struct release_revoke {
        api_actor actor;
        const char *tenant_id, *id;
} release_revoke;

static int release_revoke_tx(rp_db *db, void *userdata, rp_error *err) {
        const release_revoke *v = userdata;
        char now[RP_DB_INT_STRLEN];
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "UPDATE releases SET revoked = 1, revoked_at = $1 WHERE id = $2 AND "
                             "tenant_id = $3 AND revoked = 0", rp_db_int(api_now(), now), v->id, v->tenant_id, NULL);
        if (r < 0 || res->changes == 0)
                return r;       /* revoked already: nothing to record */
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "release %s", v->id);
        return api_audit(db, &v->actor, v->tenant_id, "release.revoke", target, NULL, err);
}

void rp_api_release_revoke(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        /* {release}: its id (32 hex) or its measurement (64 hex). */
        const char *ref = rp_req_param(req, "release");
        char key[API_MEASUREMENT_LEN + 1];
        bool by_id = ref && api_hex_normalize(ref, RP_DB_ID_LEN, key);
        if (!by_id && !(ref && api_hex_normalize(ref, API_MEASUREMENT_LEN, key))) {
                api_reply_not_found(req, "release", ref);
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err,
                             by_id ? "SELECT id FROM releases WHERE tenant_id = $1 AND id = $2"
                                   : "SELECT id FROM releases WHERE tenant_id = $1 AND measurement = $2",
                             t.id, key, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "release", ref);
                return;
        }
        char id[RP_DB_ID_LEN + 1];
        snprintf(id, sizeof id, "%s", rp_db_result_get(res, 0, 0));
        release_revoke v = { .tenant_id = t.id, .id = id };
        api_actor_of(req, &v.actor);
        r = rp_db_transact(rp_req_db(req), release_revoke_tx, &v, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_release(req, 200, t.id, id);
}
