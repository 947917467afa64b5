/* SPDX-License-Identifier: Apache-2.0 */
/* Products and their device groups (docs/api.md, "Products and device
 * groups"). A new product gets the five default groups in the transaction
 * that creates it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/deploy.h"
#include "core/macro.h"

#define PRODUCT_COLUMNS "id, name, description, created_at"
#define GROUP_COLUMNS "g.id, g.name, p.name, g.description, g.update_policy, g.created_at, g.product_id"
#define GROUP_FROM "device_groups g JOIN products p ON p.id = g.product_id"

static const char *const update_policies[] = { "UpdateAll", "No3rdPartyAppUpdates", "NoUpdates" };

static const struct {
        const char *name, *policy, *description;
} default_groups[] = {
        { "Development", "No3rdPartyAppUpdates",
          "Default development group: OS updates; applications come from the developer (sideloaded), not the cloud" },
        { "Field Test", "UpdateAll", "Default test group: OS and application updates from the cloud" },
        { "Field Test OS Evaluation", "UpdateAll",
          "Default test group for trying the next OS release before it reaches Field Test" },
        { "Production", "UpdateAll", "Default production group: OS and application updates from the cloud" },
        { "Production OS Evaluation", "UpdateAll",
          "Default production group for checking the next OS release against production applications" },
};

static bool policy_is_valid(const char *s) {
        for (size_t i = 0; i < ELEMENTSOF(update_policies); i++)
                if (streq(s, update_policies[i]))
                        return true;
        return false;
}

static json_t *group_json(const rp_db_result *res, size_t row) {
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}", "id", api_json_text(rp_db_result_get(res, row, 0)), "name",
                         api_json_text(rp_db_result_get(res, row, 1)), "product",
                         api_json_text(rp_db_result_get(res, row, 2)), "description",
                         api_json_text(rp_db_result_get(res, row, 3)), "update_policy",
                         api_json_text(rp_db_result_get(res, row, 4)), "created_at",
                         api_json_int(rp_db_result_get(res, row, 5)));
}

/* The products in res (PRODUCT_COLUMNS) with their groups (groups: all of
 * the tenant's or the product's, GROUP_COLUMNS, ordered by name). */
static json_t *products_json(const rp_db_result *res, const rp_db_result *groups) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < res->n_rows; i++) {
                const char *id = rp_db_result_get(res, i, 0);
                json_t *g = json_array();
                for (size_t k = 0; g && k < groups->n_rows; k++)
                        if (streq(rp_db_result_get(groups, k, 6), id) &&
                            json_array_append_new(g, group_json(groups, k)) < 0) {
                                json_decref(g);
                                g = NULL;
                        }
                json_t *p = g ? json_pack("{s:o, s:o, s:o, s:o, s:o}", "id", api_json_text(id), "name",
                                          api_json_text(rp_db_result_get(res, i, 1)), "description",
                                          api_json_text(rp_db_result_get(res, i, 2)), "created_at",
                                          api_json_int(rp_db_result_get(res, i, 3)), "device_groups", g)
                              : NULL;
                if (json_array_append_new(arr, p) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        }
        return arr;
}

/* Replies with product id (of tenant t). */
static void reply_product(rp_req *req, int status, const char *tenant_id, const char *id) {
        rp_db *db = rp_req_db(req);
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL, *groups = NULL;
        int r = rp_db_queryv(db, &res, &err, "SELECT " PRODUCT_COLUMNS " FROM products WHERE id = $1 AND "
                             "tenant_id = $2", id, tenant_id, NULL);
        if (r >= 0)
                r = rp_db_queryv(db, &groups, &err, "SELECT " GROUP_COLUMNS " FROM " GROUP_FROM
                                 " WHERE g.product_id = $1 ORDER BY g.name", id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "product", id);
                return;
        }
        _cleanup_(json_decrefp) json_t *arr = products_json(res, groups);
        json_t *p = json_array_get(arr, 0);
        rp_reply_json(req, status, p ? json_incref(p) : NULL);
}

typedef struct product_create {
        api_actor actor;
        const char *tenant_id, *id, *name, *description;
} product_create;

static int product_create_tx(rp_db *db, void *userdata, rp_error *err) {
        const product_create *c = userdata;
        char now[RP_DB_INT_STRLEN];
        rp_db_int(api_now(), now);
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO products (id, tenant_id, name, description, created_at) "
                             "VALUES ($1, $2, $3, $4, $5)", c->id, c->tenant_id, c->name, c->description, now, NULL);
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(default_groups); i++) {
                char gid[RP_DB_ID_LEN + 1];
                r = rp_db_new_id(gid);
                if (r < 0)
                        return rp_error_set(err, r, "cannot make an id");
                r = rp_db_queryv(db, NULL, err, "INSERT INTO device_groups (id, tenant_id, product_id, name, "
                                 "description, update_policy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", gid,
                                 c->tenant_id, c->id, default_groups[i].name, default_groups[i].description,
                                 default_groups[i].policy, now, NULL);
        }
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s}", "id", c->id, "name", c->name,
                                                           "description", c->description);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "product %s", c->id);
        return api_audit(db, &c->actor, c->tenant_id, "product.create", target, detail, err);
}

void rp_api_product_create(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        static const char *const fields[] = { "name", "description", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        product_create c = { .tenant_id = t.id };
        if (!body || !api_body_string(req, body, "name", true, API_TEXT_NAME, API_NAME_MAX, &c.name) ||
            !api_body_string(req, body, "description", false, API_TEXT, API_TEXT_MAX, &c.description))
                return;
        if (!c.description)
                c.description = "";
        char id[RP_DB_ID_LEN + 1];
        if (rp_db_new_id(id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        c.id = id;
        api_actor_of(req, &c.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), product_create_tx, &c, &err);
        if (r == -EEXIST) {
                char q[160];
                rp_reply_error(req, 409, "conflict", "the tenant has a product named %s already",
                               rp_log_quote(c.name, q, sizeof q));
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_product(req, 201, t.id, id);
}

void rp_api_product_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        rp_db *db = rp_req_db(req);
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL, *groups = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, &res, &err, "SELECT " PRODUCT_COLUMNS " FROM products WHERE tenant_id = $1 "
                             "ORDER BY name LIMIT $2", t.id, rp_db_int(limit, lim), NULL);
        if (r >= 0)
                r = rp_db_queryv(db, &groups, &err, "SELECT " GROUP_COLUMNS " FROM " GROUP_FROM
                                 " WHERE g.tenant_id = $1 ORDER BY g.name", t.id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_json_list("products", products_json(res, groups)));
}

/* {product} (name or id) in tenant t: its id. */
static bool find_product(rp_req *req, const api_tenant *t, char id[RP_DB_ID_LEN + 1]) {
        const char *ref = rp_req_param(req, "product");
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT id FROM products WHERE tenant_id = $1 AND "
                             "(id = $2 OR name = $2)", t->id, ref ? ref : "", NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "product", ref);
                return false;
        }
        snprintf(id, RP_DB_ID_LEN + 1, "%s", rp_db_result_get(res, 0, 0));
        return true;
}

void rp_api_product_show(rp_req *req) {
        api_tenant t;
        char id[RP_DB_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !find_product(req, &t, id))
                return;
        reply_product(req, 200, t.id, id);
}

/* --- device groups --- */

static void reply_group(rp_req *req, int status, const char *id) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " GROUP_COLUMNS " FROM " GROUP_FROM " WHERE g.id = $1",
                             id, NULL);
        if (r < 0)
                api_reply_store(req, r, &err);
        else if (res->n_rows != 1)
                api_reply_not_found(req, "device group", id);
        else
                rp_reply_json(req, status, group_json(res, 0));
}

/* {group} (name or id) of product_id: its id, name and policy. */
static bool find_group(rp_req *req, const char *product_id, char id[RP_DB_ID_LEN + 1]) {
        const char *ref = rp_req_param(req, "group");
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT id FROM device_groups WHERE product_id = $1 AND "
                             "(id = $2 OR name = $2)", product_id, ref ? ref : "", NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "device group", ref);
                return false;
        }
        snprintf(id, RP_DB_ID_LEN + 1, "%s", rp_db_result_get(res, 0, 0));
        return true;
}

typedef struct group_change {
        api_actor actor;
        const char *tenant_id, *product_id, *id, *name, *description, *policy;
} group_change;

static int group_create_tx(rp_db *db, void *userdata, rp_error *err) {
        const group_change *g = userdata;
        char now[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO device_groups (id, tenant_id, product_id, name, description, "
                             "update_policy, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", g->id, g->tenant_id,
                             g->product_id, g->name, g->description, g->policy, rp_db_int(api_now(), now), NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:s}", "id", g->id, "product",
                                                           g->product_id, "name", g->name, "description",
                                                           g->description, "update_policy", g->policy);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "device-group %s", g->id);
        return api_audit(db, &g->actor, g->tenant_id, "device_group.create", target, detail, err);
}

void rp_api_group_create(rp_req *req) {
        api_tenant t;
        char product_id[RP_DB_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t) || !find_product(req, &t, product_id))
                return;
        static const char *const fields[] = { "name", "description", "update_policy", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        group_change g = { .tenant_id = t.id, .product_id = product_id };
        if (!body || !api_body_string(req, body, "name", true, API_TEXT_NAME, API_NAME_MAX, &g.name) ||
            !api_body_string(req, body, "description", false, API_TEXT, API_TEXT_MAX, &g.description) ||
            !api_body_string(req, body, "update_policy", false, API_TEXT_NONEMPTY, 32, &g.policy))
                return;
        if (!g.description)
                g.description = "";
        if (!g.policy)
                g.policy = "UpdateAll";
        if (!policy_is_valid(g.policy)) {
                rp_reply_error(req, 400, "bad_request", "update_policy: expected UpdateAll, No3rdPartyAppUpdates or "
                               "NoUpdates");
                return;
        }
        char id[RP_DB_ID_LEN + 1];
        if (rp_db_new_id(id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        g.id = id;
        api_actor_of(req, &g.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), group_create_tx, &g, &err);
        if (r == -EEXIST) {
                char q[160];
                rp_reply_error(req, 409, "conflict", "the product has a device group named %s already",
                               rp_log_quote(g.name, q, sizeof q));
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_group(req, 201, id);
}

void rp_api_group_list(rp_req *req) {
        api_tenant t;
        char product_id[RP_DB_ID_LEN + 1];
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !find_product(req, &t, product_id) ||
            !api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " GROUP_COLUMNS " FROM " GROUP_FROM
                             " WHERE g.product_id = $1 ORDER BY g.name LIMIT $2", product_id, rp_db_int(limit, lim),
                             NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json("device_groups", res, group_json));
}

void rp_api_group_show(rp_req *req) {
        api_tenant t;
        char product_id[RP_DB_ID_LEN + 1], id[RP_DB_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !find_product(req, &t, product_id) ||
            !find_group(req, product_id, id))
                return;
        reply_group(req, 200, id);
}

static int group_update_tx(rp_db *db, void *userdata, rp_error *err) {
        const group_change *g = userdata;
        int r = 0;
        if (g->description)
                r = rp_db_queryv(db, NULL, err, "UPDATE device_groups SET description = $1 WHERE id = $2",
                                 g->description, g->id, NULL);
        /* A policy change changes what the group's devices are told: it
         * takes the tenant counter's next value (deploy.h); setting the
         * policy the group has changes nothing. */
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        if (r >= 0 && g->policy)
                r = rp_db_queryv(db, &res, err, "SELECT update_policy FROM device_groups WHERE id = $1", g->id, NULL);
        if (r >= 0 && g->policy && res->n_rows == 1 && !streq(rp_db_result_get(res, 0, 0), g->policy)) {
                int64_t seq;
                char seq_s[RP_DB_INT_STRLEN];
                r = api_doc_seq_next(db, g->tenant_id, &seq, err);
                if (r >= 0)
                        r = rp_db_queryv(db, NULL, err, "UPDATE device_groups SET update_policy = $1, policy_seq = $2 "
                                         "WHERE id = $3", g->policy, rp_db_int(seq, seq_s), g->id, NULL);
        }
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_object();
        if (!detail ||
            (g->description && json_object_set_new(detail, "description", json_string(g->description)) < 0) ||
            (g->policy && json_object_set_new(detail, "update_policy", json_string(g->policy)) < 0))
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "device-group %s", g->id);
        return api_audit(db, &g->actor, g->tenant_id, "device_group.update", target, detail, err);
}

void rp_api_group_update(rp_req *req) {
        api_tenant t;
        char product_id[RP_DB_ID_LEN + 1], id[RP_DB_ID_LEN + 1];
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t) || !find_product(req, &t, product_id) ||
            !find_group(req, product_id, id))
                return;
        static const char *const fields[] = { "description", "update_policy", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body_optional(req, fields);
        group_change g = { .tenant_id = t.id, .product_id = product_id, .id = id };
        if (!body || !api_body_string(req, body, "description", false, API_TEXT, API_TEXT_MAX, &g.description) ||
            !api_body_string(req, body, "update_policy", false, API_TEXT_NONEMPTY, 32, &g.policy))
                return;
        if (g.policy && !policy_is_valid(g.policy)) {
                rp_reply_error(req, 400, "bad_request", "update_policy: expected UpdateAll, No3rdPartyAppUpdates or "
                               "NoUpdates");
                return;
        }
        if (g.description || g.policy) {
                api_actor_of(req, &g.actor);
                rp_error err = {};
                int r = rp_db_transact(rp_req_db(req), group_update_tx, &g, &err);
                if (r < 0) {
                        api_reply_store(req, r, &err);
                        return;
                }
        }
        reply_group(req, 200, id);
}
