/* SPDX-License-Identifier: Apache-2.0 */
/* Deployments: a device group's set of images, at most one per component,
 * the newest being the group's current one; history kept; a rollback is a
 * new deployment with an earlier one's images. And the tenant's deployment
 * key, whose public half devices are given (docs/api.md, "Deployments").
 *
 * Creating one and rolling back are one transaction each: the tenant
 * counter's next value (deploy.h), the deployment row and its images, the
 * group's current_deployment_id and the audit row commit together or not
 * at all, so a server killed at any moment leaves every group's current
 * deployment complete and every deployment's images present (images are
 * never deleted, and a row exists only once its blob is whole). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/deploy.h"
#include "core/macro.h"

#define DEPLOYMENT_COLUMNS "d.id, p.name, g.name, d.seq, d.rollback_of, d.created_at, d.created_by, " \
                           "g.current_deployment_id"
#define DEPLOYMENT_FROM "deployments d JOIN device_groups g ON g.id = d.device_group_id " \
                        "JOIN products p ON p.id = g.product_id"
#define IMAGE_COLUMNS "di.deployment_id, i.id, i.component_id, i.type, i.name, i.version, i.digest, i.size"
#define IMAGE_FROM "deployment_images di JOIN images i ON i.id = di.image_id " \
                   "JOIN deployments d ON d.id = di.deployment_id"

static const api_field image_fields[] = {
        /* column 0, the deployment id, is skipped */
        { "id", API_FIELD_TEXT },
        { "component_id", API_FIELD_TEXT },
        { "type", API_FIELD_TEXT },
        { "name", API_FIELD_TEXT },
        { "version", API_FIELD_INT },
        { "digest", API_FIELD_TEXT },
        { "size", API_FIELD_INT },
        {},
};

/* The group a request's {product} and {group} (names or ids) name. */
typedef struct group_ref {
        char id[RP_DB_ID_LEN + 1];
        char product[API_NAME_MAX + 1], name[API_NAME_MAX + 1];
} group_ref;

static bool find_group(rp_req *req, const api_tenant *t, group_ref *ret) {
        const char *product = rp_req_param(req, "product"), *group = rp_req_param(req, "group");
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT g.id, p.name, g.name FROM device_groups g JOIN "
                             "products p ON p.id = g.product_id WHERE g.tenant_id = $1 AND (p.id = $2 OR p.name = $2) "
                             "AND (g.id = $3 OR g.name = $3)", t->id, product ? product : "", group ? group : "",
                             NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                char ref[2 * API_NAME_MAX + 2];
                snprintf(ref, sizeof ref, "%s/%s", product ? product : "", group ? group : "");
                api_reply_not_found(req, "device group", ref);
                return false;
        }
        snprintf(ret->id, sizeof ret->id, "%s", rp_db_result_get(res, 0, 0));
        snprintf(ret->product, sizeof ret->product, "%s", rp_db_result_get(res, 0, 1));
        snprintf(ret->name, sizeof ret->name, "%s", rp_db_result_get(res, 0, 2));
        return true;
}

/* The deployments in deps (DEPLOYMENT_COLUMNS, newest first) with their
 * images (IMAGE_COLUMNS, in the same deployment order, then by component):
 * one walk over both. */
static json_t *deployments_json(const rp_db_result *deps, const rp_db_result *images) {
        json_t *arr = json_array();
        size_t k = 0;
        for (size_t i = 0; arr && i < deps->n_rows; i++) {
                const char *id = rp_db_result_get(deps, i, 0), *current = rp_db_result_get(deps, i, 7);
                json_t *ims = json_array();
                for (; ims && k < images->n_rows && streq(rp_db_result_get(images, k, 0), id); k++) {
                        /* api_row_json reads columns from 0: shift past the deployment id. */
                        json_t *im = json_object();
                        for (size_t f = 0; im && image_fields[f].name; f++) {
                                const char *cell = rp_db_result_get(images, k, f + 1);
                                json_t *v = image_fields[f].kind == API_FIELD_INT ? api_json_int(cell)
                                                                                 : api_json_text(cell);
                                if (json_object_set_new(im, image_fields[f].name, v) < 0) {
                                        json_decref(im);
                                        im = NULL;
                                }
                        }
                        if (json_array_append_new(ims, im) < 0) {
                                json_decref(ims);
                                ims = NULL;
                        }
                }
                json_t *d = ims ? json_pack("{s:o, s:o, s:o, s:o, s:o, s:b, s:o, s:o, s:o}",
                                            "id", api_json_text(id),
                                            "product", api_json_text(rp_db_result_get(deps, i, 1)),
                                            "device_group", api_json_text(rp_db_result_get(deps, i, 2)),
                                            "seq", api_json_int(rp_db_result_get(deps, i, 3)),
                                            "rollback_of", api_json_text(rp_db_result_get(deps, i, 4)),
                                            "current", current && streq(current, id),
                                            "created_at", api_json_int(rp_db_result_get(deps, i, 5)),
                                            "created_by", api_json_text(rp_db_result_get(deps, i, 6)),
                                            "images", ims)
                                : NULL;
                if (json_array_append_new(arr, d) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        }
        return arr;
}

/* The group's deployments: one (id), or the newest limit. */
static int load(rp_db *db, const char *group_id, const char *id, int64_t limit, json_t **ret, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *deps = NULL, *images = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (id)
                r = rp_db_queryv(db, &deps, err, "SELECT " DEPLOYMENT_COLUMNS " FROM " DEPLOYMENT_FROM " WHERE "
                                 "d.device_group_id = $1 AND d.id = $2", group_id, id, NULL);
        else
                r = rp_db_queryv(db, &deps, err, "SELECT " DEPLOYMENT_COLUMNS " FROM " DEPLOYMENT_FROM " WHERE "
                                 "d.device_group_id = $1 ORDER BY d.seq DESC LIMIT $2", group_id,
                                 rp_db_int(limit, lim), NULL);
        if (r < 0)
                return r;
        if (deps->n_rows > 0) {
                /* The images of the deployments listed: their seqs span
                 * from the last row's to the first's. */
                char lo[RP_DB_INT_STRLEN], hi[RP_DB_INT_STRLEN];
                snprintf(lo, sizeof lo, "%s", rp_db_result_get(deps, deps->n_rows - 1, 3));
                snprintf(hi, sizeof hi, "%s", rp_db_result_get(deps, 0, 3));
                r = rp_db_queryv(db, &images, err, "SELECT " IMAGE_COLUMNS " FROM " IMAGE_FROM " WHERE "
                                 "d.device_group_id = $1 AND d.seq >= $2 AND d.seq <= $3 ORDER BY d.seq DESC, "
                                 "di.component_id", group_id, lo, hi, NULL);
                if (r < 0)
                        return r;
        } else {
                images = rp_db_result_new(0, 8);
                if (!images)
                        return rp_error_set(err, -ENOMEM, "out of memory");
        }
        *ret = deployments_json(deps, images);
        return *ret ? 0 : rp_error_set(err, -ENOMEM, "out of memory");
}

static void reply_deployment(rp_req *req, int status, const char *group_id, const char *id) {
        rp_error err = {};
        _cleanup_(json_decrefp) json_t *arr = NULL;
        int r = load(rp_req_db(req), group_id, id, 1, &arr, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        json_t *d = json_array_get(arr, 0);
        if (!d) {
                api_reply_not_found(req, "deployment", id);
                return;
        }
        rp_reply_json(req, status, json_incref(d));
}

/* --- creating one: from images named, or as a rollback --- */

typedef struct deploy {
        api_actor actor;
        const char *tenant_id;
        const group_ref *group;
        char created_by[RP_NAME_MAX + 1];
        /* what to deploy: image ids or digests, or an earlier deployment */
        char **refs;
        size_t n_refs;
        const char *rollback_of;
        /* out */
        char id[RP_DB_ID_LEN + 1];
        int64_t seq;
        const char *missing;            /* a ref of no image of the tenant's */
        bool source_missing;            /* rollback_of is no deployment of the group */
        char duplicate[RP_PACKAGE_GUID_LEN + 1];        /* a component named twice */
} deploy;

/* The images to deploy, as (image id, component id) rows. */
static int resolve(rp_db *db, deploy *x, rp_db_result **ret, rp_error *err) {
        if (x->rollback_of) {
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                int r = rp_db_queryv(db, &res, err, "SELECT id FROM deployments WHERE id = $1 AND device_group_id = $2 "
                                     "AND tenant_id = $3", x->rollback_of, x->group->id, x->tenant_id, NULL);
                if (r < 0)
                        return r;
                if (res->n_rows != 1) {
                        x->source_missing = true;
                        return 0;
                }
                return rp_db_queryv(db, ret, err, "SELECT image_id, component_id FROM deployment_images WHERE "
                                    "deployment_id = $1 ORDER BY component_id", x->rollback_of, NULL);
        }
        _cleanup_(rp_db_result_freep) rp_db_result *all = rp_db_result_new(x->n_refs, 2);
        if (!all)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < x->n_refs; i++) {
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                int r = rp_db_queryv(db, &res, err, "SELECT id, component_id FROM images WHERE tenant_id = $1 AND "
                                     "(id = $2 OR digest = $2)", x->tenant_id, x->refs[i], NULL);
                if (r < 0)
                        return r;
                if (res->n_rows != 1) {
                        x->missing = x->refs[i];
                        return 0;
                }
                for (size_t c = 0; c < 2; c++) {
                        all->cells[i * 2 + c] = TAKE_PTR(res->cells[c]);
                        if (!all->cells[i * 2 + c])
                                return rp_error_set(err, -EIO, "an image row without %s", c ? "component" : "id");
                }
                for (size_t j = 0; j < i; j++)
                        if (streq(all->cells[j * 2 + 1], all->cells[i * 2 + 1])) {
                                snprintf(x->duplicate, sizeof x->duplicate, "%s", all->cells[i * 2 + 1]);
                                return 0;
                        }
        }
        *ret = TAKE_PTR(all);
        return 0;
}

static int deploy_tx(rp_db *db, void *userdata, rp_error *err) {
        deploy *x = userdata;
        x->missing = NULL;
        x->source_missing = false;
        x->duplicate[0] = '\0';
        _cleanup_(rp_db_result_freep) rp_db_result *images = NULL;
        int r = resolve(db, x, &images, err);
        if (r < 0 || !images)
                return r;       /* refused: nothing written */

        r = api_doc_seq_next(db, x->tenant_id, &x->seq, err);
        if (r < 0)
                return r;
        char seq[RP_DB_INT_STRLEN], now[RP_DB_INT_STRLEN];
        rp_db_int(x->seq, seq);
        rp_db_int(api_now(), now);
        r = rp_db_queryv(db, NULL, err, "INSERT INTO deployments (id, tenant_id, device_group_id, seq, rollback_of, "
                         "created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", x->id, x->tenant_id,
                         x->group->id, seq, x->rollback_of ? x->rollback_of : RP_DB_NULL, x->created_by, now, NULL);
        _cleanup_(json_decrefp) json_t *ids = json_array();
        for (size_t i = 0; r >= 0 && i < images->n_rows; i++) {
                const char *image_id = rp_db_result_get(images, i, 0), *cid = rp_db_result_get(images, i, 1);
                r = rp_db_queryv(db, NULL, err, "INSERT INTO deployment_images (deployment_id, component_id, image_id) "
                                 "VALUES ($1, $2, $3)", x->id, cid, image_id, NULL);
                if (r >= 0 && (!ids || json_array_append_new(ids, json_string(image_id)) < 0))
                        r = rp_error_set(err, -ENOMEM, "out of memory");
        }
        if (r >= 0)
                r = rp_db_queryv(db, NULL, err, "UPDATE device_groups SET current_deployment_id = $1 WHERE id = $2 AND "
                                 "tenant_id = $3", x->id, x->group->id, x->tenant_id, NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:I, s:O, s:o}", "id", x->id, "device_group",
                                                           x->group->id, "seq", (json_int_t) x->seq, "images", ids,
                                                           "rollback_of", api_json_text(x->rollback_of));
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "deployment %s", x->id);
        return api_audit(db, &x->actor, x->tenant_id, x->rollback_of ? "deployment.rollback" : "deployment.create",
                         target, detail, err);
}

/* Runs the transaction and answers. */
static void run_deploy(rp_req *req, deploy *x) {
        if (rp_db_new_id(x->id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        api_actor_of(req, &x->actor);
        snprintf(x->created_by, sizeof x->created_by, "%s", rp_req_principal(req)->user_name);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), deploy_tx, x, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (x->missing) {
                api_reply_not_found(req, "image", x->missing);
                return;
        }
        if (x->source_missing) {
                api_reply_not_found(req, "deployment", x->rollback_of);
                return;
        }
        if (x->duplicate[0]) {
                rp_reply_error(req, 400, "duplicate_component", "images: two images of component %s (a deployment "
                               "has at most one image per component)", x->duplicate);
                return;
        }
        reply_deployment(req, 201, x->group->id, x->id);
}

void rp_api_deployment_create(rp_req *req) {
        api_tenant t;
        group_ref g;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t) || !find_group(req, &t, &g))
                return;
        static const char *const fields[] = { "images", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        if (!body)
                return;
        json_t *arr = json_object_get(body, "images");
        if (!json_is_array(arr)) {
                rp_reply_error(req, 400, "bad_request", "images: expected an array of image ids or digests%s",
                               arr ? "" : " (it is missing; [] deploys nothing)");
                return;
        }
        size_t n = json_array_size(arr);
        if (n > RP_DEPLOYMENT_MAX_IMAGES) {
                rp_reply_error(req, 400, "bad_request", "images: %zu images, a deployment has at most %d", n,
                               RP_DEPLOYMENT_MAX_IMAGES);
                return;
        }
        char refs[RP_DEPLOYMENT_MAX_IMAGES][2 * RP_SHA256_LEN + 1];
        char *ptrs[RP_DEPLOYMENT_MAX_IMAGES];
        for (size_t i = 0; i < n; i++) {
                const char *s = json_string_value(json_array_get(arr, i));
                size_t len = s ? strlen(s) : 0;
                if (!s || !((len == RP_DB_ID_LEN || len == 2 * RP_SHA256_LEN) && api_hex_normalize(s, len, refs[i]))) {
                        rp_reply_error(req, 400, "bad_request", "images[%zu]: expected an image id (32 hex digits) or "
                                       "digest (64 hex digits)", i);
                        return;
                }
                ptrs[i] = refs[i];
        }
        deploy x = { .tenant_id = t.id, .group = &g, .refs = ptrs, .n_refs = n };
        run_deploy(req, &x);
}

void rp_api_deployment_rollback(rp_req *req) {
        api_tenant t;
        group_ref g;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t) || !find_group(req, &t, &g))
                return;
        const char *ref = rp_req_param(req, "deployment");
        char id[RP_DB_ID_LEN + 1];
        if (!ref || strlen(ref) != RP_DB_ID_LEN || !api_hex_normalize(ref, RP_DB_ID_LEN, id)) {
                api_reply_not_found(req, "deployment", ref);
                return;
        }
        /* No body, or an empty object. */
        static const char *const fields[] = { NULL };
        _cleanup_(json_decrefp) json_t *body = api_body_optional(req, fields);
        if (!body)
                return;
        deploy x = { .tenant_id = t.id, .group = &g, .rollback_of = id };
        run_deploy(req, &x);
}

void rp_api_deployment_list(rp_req *req) {
        api_tenant t;
        group_ref g;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !find_group(req, &t, &g) || !api_query_limit(req, &limit))
                return;
        rp_error err = {};
        json_t *arr = NULL;
        int r = load(rp_req_db(req), g.id, NULL, limit, &arr, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_json_list("deployments", arr));
}

void rp_api_deployment_show(rp_req *req) {
        api_tenant t;
        group_ref g;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !find_group(req, &t, &g))
                return;
        const char *ref = rp_req_param(req, "deployment");
        char id[RP_DB_ID_LEN + 1];
        if (!ref || strlen(ref) != RP_DB_ID_LEN || !api_hex_normalize(ref, RP_DB_ID_LEN, id)) {
                api_reply_not_found(req, "deployment", ref);
                return;
        }
        reply_deployment(req, 200, g.id, id);
}

void rp_api_deployment_key(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_READER, &t))
                return;
        const api_deployment_key *k = NULL;
        rp_error err = {};
        int r = api_deployment_key_get(rp_req_db(req), t.id, &k, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_header(req, "X-Key-Id", k->key_id);
        rp_reply_bytes(req, 200, "application/x-pem-file", k->public_pem, strlen(k->public_pem));
}
