/* SPDX-License-Identifier: Apache-2.0 */
/* Devices: claimed by id into one tenant, once (the device id is the
 * devices table's primary key), moved between groups, disabled, and
 * released so another tenant can claim them (docs/api.md, "Devices"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/deploy.h"
#include "core/macro.h"

/* Columns 10-16: what the device last reported, and what it would be told
 * now (its document's version is the largest of the three counter values;
 * deploy.h). */
#define DEVICE_COLUMNS "d.id, t.name, p.name, g.name, d.enabled, d.claimed_at, d.last_attested_at, " \
                       "d.last_measurement, d.last_swversion, d.device_group_id, " \
                       "d.reported_at, d.reported_doc_version, g.current_deployment_id, dep.seq, g.policy_seq, " \
                       "d.group_seq, (SELECT COUNT(*) FROM device_components c WHERE c.device_id = d.id AND " \
                       "c.tenant_id = d.tenant_id AND c.state = 'failed')"
#define DEVICE_FROM "devices d JOIN tenants t ON t.id = d.tenant_id " \
                    "LEFT JOIN device_groups g ON g.id = d.device_group_id " \
                    "LEFT JOIN products p ON p.id = g.product_id " \
                    "LEFT JOIN deployments dep ON dep.id = g.current_deployment_id"
/* How often a claim looks again when the device was released between its
 * insert and its look at who has it. */
#define CLAIM_TRIES 3

/* Whether the device reported being on what it would be told now: its
 * reported document version is the current one (or later) and no component
 * failed. null before its first report. */
static json_t *up_to_date(const rp_db_result *res, size_t row) {
        if (!rp_db_result_get(res, row, 10))
                return json_null();
        const char *reported = rp_db_result_get(res, row, 11);
        int64_t current = api_doc_version(rp_db_result_int(res, row, 13, 0), rp_db_result_int(res, row, 14, 0),
                                          rp_db_result_int(res, row, 15, 0));
        return json_boolean(reported && rp_db_result_int(res, row, 11, -1) >= current &&
                            rp_db_result_int(res, row, 16, 0) == 0);
}

static json_t *device_json(const rp_db_result *res, size_t row) {
        const char *product = rp_db_result_get(res, row, 2), *group = rp_db_result_get(res, row, 3);
        _cleanup_free_ char *ref = NULL;
        if (product && group && asprintf(&ref, "%s/%s", product, group) < 0)
                return NULL;
        json_t *j = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                         "id", api_json_text(rp_db_result_get(res, row, 0)),
                         "tenant", api_json_text(rp_db_result_get(res, row, 1)),
                         "product", api_json_text(product),
                         "device_group", api_json_text(ref),
                         "device_group_id", api_json_text(rp_db_result_get(res, row, 9)),
                         "enabled", api_json_bool(rp_db_result_get(res, row, 4)),
                         "claimed_at", api_json_int(rp_db_result_get(res, row, 5)),
                         "last_attested_at", api_json_int(rp_db_result_get(res, row, 6)),
                         "last_measurement", api_json_text(rp_db_result_get(res, row, 7)),
                         "last_swversion", api_json_text(rp_db_result_get(res, row, 8)));
        if (j && (json_object_set_new(j, "deployment", api_json_text(group ? rp_db_result_get(res, row, 12) : NULL)) < 0 ||
                  json_object_set_new(j, "reported_at", api_json_int(rp_db_result_get(res, row, 10))) < 0 ||
                  json_object_set_new(j, "reported_doc_version", api_json_int(rp_db_result_get(res, row, 11))) < 0 ||
                  json_object_set_new(j, "up_to_date", up_to_date(res, row)) < 0)) {
                json_decref(j);
                j = NULL;
        }
        return j;
}

static const api_field component_fields[] = {
        { "component_id", API_FIELD_TEXT },
        { "version", API_FIELD_INT },
        { "digest", API_FIELD_TEXT },
        { "state", API_FIELD_TEXT },
        { "detail", API_FIELD_TEXT },
        { "reported_at", API_FIELD_INT },
        {},
};

/* The device (row 0 of res) with the components it reported. */
static json_t *device_full_json(rp_db *db, const rp_db_result *res, const char *tenant_id, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *comps = NULL;
        int r = rp_db_queryv(db, &comps, err, "SELECT component_id, version, digest, state, detail, reported_at FROM "
                             "device_components WHERE device_id = $1 AND tenant_id = $2 ORDER BY component_id",
                             rp_db_result_get(res, 0, 0), tenant_id, NULL);
        if (r < 0)
                return NULL;
        json_t *j = device_json(res, 0);
        json_t *list = api_rows_json_fields("components", comps, component_fields);
        if (!j || !list || json_object_set(j, "components", json_object_get(list, "components")) < 0) {
                json_decref(j);
                j = NULL;
                rp_error_set(err, -ENOMEM, "out of memory");
        }
        json_decref(list);
        return j;
}

static void reply_device(rp_req *req, int status, const char *tenant_id, const char *id) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " DEVICE_COLUMNS " FROM " DEVICE_FROM
                             " WHERE d.id = $1 AND d.tenant_id = $2", id, tenant_id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "device", id);
                return;
        }
        json_t *j = device_full_json(rp_req_db(req), res, tenant_id, &err);
        if (!j) {
                api_reply_store(req, err.code ? err.code : -ENOMEM, &err);
                return;
        }
        rp_reply_json(req, status, j);
}

/* A device group reference of tenant t, from field (for messages):
 * "Product/Group" (names) or a group id. */
static bool resolve_group(rp_req *req, const api_tenant *t, const char *field, const char *ref,
                          char ret[RP_DB_ID_LEN + 1]) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        const char *slash = strchr(ref, '/');
        int r;
        if (!slash) {
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT id FROM device_groups WHERE id = $1 AND "
                                 "tenant_id = $2", ref, t->id, NULL);
        } else {
                _cleanup_free_ char *product = strndup(ref, (size_t) (slash - ref));
                if (!product) {
                        rp_reply_error(req, 500, "internal", "out of memory");
                        return false;
                }
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT g.id FROM device_groups g JOIN products p ON "
                                 "p.id = g.product_id WHERE g.tenant_id = $1 AND p.name = $2 AND g.name = $3", t->id,
                                 product, slash + 1, NULL);
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                char q[300];
                rp_reply_error(req, 400, "bad_request", "%s: the tenant has no device group %s (give \"Product/Group\" "
                               "or a group id)", field, rp_log_quote(ref, q, sizeof q));
                return false;
        }
        snprintf(ret, RP_DB_ID_LEN + 1, "%s", rp_db_result_get(res, 0, 0));
        return true;
}

/* {device}: 64 hex digits, lowercased. */
static bool device_param(rp_req *req, char ret[API_DEVICE_ID_LEN + 1]) {
        const char *ref = rp_req_param(req, "device");
        if (ref && api_hex_normalize(ref, API_DEVICE_ID_LEN, ret))
                return true;
        api_reply_not_found(req, "device", ref);
        return false;
}

typedef enum claim_outcome {
        CLAIM_NEW,
        CLAIM_ALREADY_OURS,
        CLAIM_OTHER_TENANT,
} claim_outcome;

typedef struct device_claim {
        api_actor actor;
        const char *tenant_id, *id, *group_id, *group_ref;
        claim_outcome outcome;          /* out */
} device_claim;

static int device_claim_tx(rp_db *db, void *userdata, rp_error *err) {
        device_claim *c = userdata;
        char now[RP_DB_INT_STRLEN];
        rp_db_int(api_now(), now);
        for (unsigned i = 0; i < CLAIM_TRIES; i++) {
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                int r = rp_db_queryv(db, &res, err, "INSERT INTO devices (id, tenant_id, device_group_id, enabled, "
                                     "claimed_at) VALUES ($1, $2, $3, 1, $4) ON CONFLICT DO NOTHING", c->id,
                                     c->tenant_id, c->group_id ? c->group_id : RP_DB_NULL, now, NULL);
                if (r < 0)
                        return r;
                if (res->changes == 1) {
                        c->outcome = CLAIM_NEW;
                        /* What the device is told starts from a version above
                         * any it was told in this tenant before (deploy.h). */
                        int64_t seq;
                        char seq_s[RP_DB_INT_STRLEN];
                        r = api_doc_seq_next(db, c->tenant_id, &seq, err);
                        if (r >= 0)
                                r = rp_db_queryv(db, NULL, err, "UPDATE devices SET group_seq = $1 WHERE id = $2 AND "
                                                 "tenant_id = $3", rp_db_int(seq, seq_s), c->id, c->tenant_id, NULL);
                        if (r < 0)
                                return r;
                        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:o}", "device_id", c->id,
                                                                           "device_group", api_json_text(c->group_ref));
                        if (!detail)
                                return rp_error_set(err, -ENOMEM, "out of memory");
                        char target[API_DEVICE_ID_LEN + 8];
                        snprintf(target, sizeof target, "device %s", c->id);
                        return api_audit(db, &c->actor, c->tenant_id, "device.claim", target, detail, err);
                }
                rp_db_result_free(TAKE_PTR(res));
                r = rp_db_queryv(db, &res, err, "SELECT tenant_id FROM devices WHERE id = $1", c->id, NULL);
                if (r < 0)
                        return r;
                if (res->n_rows == 1) {
                        c->outcome = streq(rp_db_result_get(res, 0, 0), c->tenant_id) ? CLAIM_ALREADY_OURS
                                                                                        : CLAIM_OTHER_TENANT;
                        return 0;
                }
                /* Released meanwhile: try again. */
        }
        return rp_error_set(err, -EBUSY, "device %s was claimed and released while we claimed it", c->id);
}

void rp_api_device_claim(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        static const char *const fields[] = { "device_id", "device_group", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        const char *device_id;
        device_claim c = { .tenant_id = t.id };
        if (!body || !api_body_string(req, body, "device_id", true, API_TEXT_NONEMPTY, API_DEVICE_ID_LEN, &device_id) ||
            !api_body_string(req, body, "device_group", false, API_TEXT_NONEMPTY, 2 * API_NAME_MAX + 1, &c.group_ref))
                return;
        char id[API_DEVICE_ID_LEN + 1], group_id[RP_DB_ID_LEN + 1];
        if (!api_hex_normalize(device_id, API_DEVICE_ID_LEN, id)) {
                rp_reply_error(req, 400, "bad_request", "device_id: expected 64 hex digits (the SHA-256 of the "
                               "device's DeviceID public key, as 'rampart device show-identity' prints it)");
                return;
        }
        if (c.group_ref && !resolve_group(req, &t, "device_group", c.group_ref, group_id))
                return;
        c.id = id;
        c.group_id = c.group_ref ? group_id : NULL;
        api_actor_of(req, &c.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), device_claim_tx, &c, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (c.outcome == CLAIM_OTHER_TENANT) {
                /* The same answer whoever asks: it names no tenant. */
                rp_reply_error(req, 409, "device_claimed", "device %s is claimed by another tenant; it can be claimed "
                               "here once that tenant releases it", id);
                return;
        }
        reply_device(req, c.outcome == CLAIM_NEW ? 201 : 200, t.id, id);
}

void rp_api_device_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        const char *group_ref = rp_req_query(req, "device_group");
        char group_id[RP_DB_ID_LEN + 1];
        if (group_ref && !resolve_group(req, &t, "device_group", group_ref, group_id))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (group_ref)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " DEVICE_COLUMNS " FROM " DEVICE_FROM
                                 " WHERE d.tenant_id = $1 AND d.device_group_id = $2 ORDER BY d.claimed_at, d.id "
                                 "LIMIT $3", t.id, group_id, rp_db_int(limit, lim), NULL);
        else
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " DEVICE_COLUMNS " FROM " DEVICE_FROM
                                 " WHERE d.tenant_id = $1 ORDER BY d.claimed_at, d.id LIMIT $2", t.id,
                                 rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json("devices", res, device_json));
}

void rp_api_device_show(rp_req *req) {
        api_tenant t;
        char id[API_DEVICE_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !device_param(req, id))
                return;
        reply_device(req, 200, t.id, id);
}

typedef struct device_update {
        api_actor actor;
        const char *tenant_id, *id;
        bool set_group, set_enabled, enabled;
        const char *group_id, *group_ref;       /* NULL: out of any group */
        bool found;                             /* out */
} device_update;

static int device_update_tx(rp_db *db, void *userdata, rp_error *err) {
        device_update *u = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        u->found = false;
        int r = rp_db_queryv(db, &res, err, "SELECT id FROM devices WHERE id = $1 AND tenant_id = $2", u->id,
                             u->tenant_id, NULL);
        if (r < 0 || res->n_rows != 1)
                return r;
        u->found = true;
        /* A move changes what the device is told: the next counter value
         * (deploy.h). */
        int64_t seq = 0;
        char seq_s[RP_DB_INT_STRLEN];
        if (u->set_group)
                r = api_doc_seq_next(db, u->tenant_id, &seq, err);
        if (r >= 0 && u->set_group)
                r = rp_db_queryv(db, NULL, err, "UPDATE devices SET device_group_id = $1, group_seq = $2 WHERE id = $3 "
                                 "AND tenant_id = $4", u->group_id ? u->group_id : RP_DB_NULL, rp_db_int(seq, seq_s),
                                 u->id, u->tenant_id, NULL);
        if (r >= 0 && u->set_enabled)
                r = rp_db_queryv(db, NULL, err, "UPDATE devices SET enabled = $1 WHERE id = $2 AND tenant_id = $3",
                                 u->enabled ? "1" : "0", u->id, u->tenant_id, NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_object();
        if (!detail ||
            (u->set_group && json_object_set_new(detail, "device_group", api_json_text(u->group_ref)) < 0) ||
            (u->set_enabled && json_object_set_new(detail, "enabled", json_boolean(u->enabled)) < 0))
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[API_DEVICE_ID_LEN + 8];
        snprintf(target, sizeof target, "device %s", u->id);
        const char *action = !u->set_enabled ? "device.update" : u->enabled ? "device.enable" : "device.disable";
        return api_audit(db, &u->actor, u->tenant_id, action, target, detail, err);
}

void rp_api_device_update(rp_req *req) {
        api_tenant t;
        char id[API_DEVICE_ID_LEN + 1], group_id[RP_DB_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t) || !device_param(req, id))
                return;
        static const char *const fields[] = { "device_group", "enabled", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body_optional(req, fields);
        device_update u = { .tenant_id = t.id, .id = id };
        if (!body || !api_body_bool(req, body, "enabled", &u.enabled, &u.set_enabled) ||
            !api_body_string(req, body, "device_group", false, API_TEXT_NONEMPTY, 2 * API_NAME_MAX + 1, &u.group_ref))
                return;
        /* "device_group": null takes the device out of its group. */
        u.set_group = json_object_get(body, "device_group") != NULL;
        if (u.group_ref) {
                if (!resolve_group(req, &t, "device_group", u.group_ref, group_id))
                        return;
                u.group_id = group_id;
        }
        if (u.set_group || u.set_enabled) {
                api_actor_of(req, &u.actor);
                rp_error err = {};
                int r = rp_db_transact(rp_req_db(req), device_update_tx, &u, &err);
                if (r < 0) {
                        api_reply_store(req, r, &err);
                        return;
                }
                if (!u.found) {
                        api_reply_not_found(req, "device", id);
                        return;
                }
        }
        reply_device(req, 200, t.id, id);
}

typedef struct device_release {
        api_actor actor;
        const char *tenant_id, *id;
        bool released;          /* out */
} device_release;

static int device_release_tx(rp_db *db, void *userdata, rp_error *err) {
        device_release *d = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        d->released = false;
        int r = rp_db_queryv(db, &res, err, "DELETE FROM devices WHERE id = $1 AND tenant_id = $2", d->id,
                             d->tenant_id, NULL);
        if (r < 0 || res->changes == 0)
                return r;
        d->released = true;
        /* What it reported goes with it. */
        r = rp_db_queryv(db, NULL, err, "DELETE FROM device_components WHERE device_id = $1 AND tenant_id = $2", d->id,
                         d->tenant_id, NULL);
        if (r < 0)
                return r;
        char target[API_DEVICE_ID_LEN + 8];
        snprintf(target, sizeof target, "device %s", d->id);
        return api_audit(db, &d->actor, d->tenant_id, "device.release", target, NULL, err);
}

void rp_api_device_release(rp_req *req) {
        api_tenant t;
        char id[API_DEVICE_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t) || !device_param(req, id))
                return;
        device_release d = { .tenant_id = t.id, .id = id };
        api_actor_of(req, &d.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), device_release_tx, &d, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (!d.released) {
                api_reply_not_found(req, "device", id);
                return;
        }
        rp_reply_empty(req, 204);
}
