/* SPDX-License-Identifier: Apache-2.0 */
/* The device's side of updates (mTLS, docs/api.md "Updates (device API)"):
 * its signed deployment document, the image packages that document names,
 * and the state it reports.
 *
 * The update check is the hot path, so it costs one store round trip: the
 * query that authenticates the device (api/auth.c) also reads its group,
 * the group's policy and current deployment and the three counter values
 * the version is made of (rp_principal). The signed document is kept per
 * worker thread, one slot per device (by its id's first digits), and used
 * again while it says the same thing, that is while (tenant, device, group,
 * version, deployment, policy) are unchanged, which holds because each
 * change takes a new version (deploy.h), and while it is in the first half
 * of its lifetime: issued-at and expires-at stay honest, and a device never
 * gets a document with less than half of --document-lifetime left. A miss
 * reads the deployment's images (a second query) and signs.
 *
 * Downloads are authorized by that same document: a device may fetch
 * exactly the digests the document it would get now names, so another
 * tenant's image, another group's, one its policy does not manage, or one
 * of a deployment since replaced is "not found" (404, never saying why). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/deploy.h"
#include "blob/blob.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "server.h"

#define DOC_SLOTS 1024
#define STATE_DETAIL_MAX 1024

/* --- the document, cached per worker thread --- */

typedef struct doc_entry {
        bool used;
        /* what the document says depends on these alone */
        char tenant_id[RP_DB_ID_LEN + 1];
        char device_id[API_DEVICE_ID_LEN + 1];
        char group_id[RP_DB_ID_LEN + 1];
        char deployment_id[RP_DB_ID_LEN + 1];
        rp_update_policy policy;
        int64_t version;
        /* the document */
        int64_t issued_at;
        uint8_t *cose;
        size_t cose_len;
        /* the digests it names (hex), for downloads */
        char (*digests)[2 * RP_SHA256_LEN + 1];
        size_t n_digests;
} doc_entry;

typedef struct doc_cache {
        doc_entry slot[DOC_SLOTS];
} doc_cache;

static void entry_clear(doc_entry *e) {
        free(e->cose);
        free(e->digests);
        *e = (doc_entry) {};
}

static void cache_free(void *p) {
        doc_cache *c = p;
        if (!c)
                return;
        for (size_t i = 0; i < DOC_SLOTS; i++)
                entry_clear(&c->slot[i]);
        free(c);
}

/* The worker thread's cache: made on first use, freed when the thread ends. */
static api_thread_slot cache_slot = API_THREAD_SLOT(doc_cache, cache_free);

static doc_cache *get_cache(void) {
        return api_thread_state(&cache_slot);
}

/* What the authenticated device's document depends on (its principal). */
typedef struct doc_key {
        const char *tenant_id, *device_id, *group_id, *deployment_id;
        rp_update_policy policy;
        int64_t version;
} doc_key;

static doc_key key_of(const rp_principal *p) {
        return (doc_key) {
                .tenant_id = p->tenant_id, .device_id = p->device_id, .group_id = p->group_id,
                .deployment_id = p->deployment_id,
                /* A device in no group: no policy, nothing managed. */
                .policy = p->group_id[0] ? api_update_policy(p->update_policy) : RP_UPDATE_NONE,
                .version = api_doc_version(p->deployment_seq, p->policy_seq, p->group_seq),
        };
}

static bool entry_is(const doc_entry *e, const doc_key *k) {
        return e->used && e->policy == k->policy && e->version == k->version && streq(e->device_id, k->device_id) &&
               streq(e->tenant_id, k->tenant_id) && streq(e->group_id, k->group_id) &&
               streq(e->deployment_id, k->deployment_id);
}

static size_t slot_of(const char *device_id) {
        /* The id is a SHA-256 in hex: its first digits are spread evenly. */
        unsigned long v = strtoul((char[9]) { device_id[0], device_id[1], device_id[2], device_id[3], device_id[4],
                                              device_id[5], device_id[6], device_id[7], '\0' }, NULL, 16);
        return (size_t) (v % DOC_SLOTS);
}

static void images_free(rp_deployment_image *ims, size_t n) {
        for (size_t i = 0; i < n; i++) {
                free(ims[i].name);
                free(ims[i].url);
        }
        free(ims);
}

/* The deployment's images of the types the policy manages, sorted by
 * component id, as the document lists them. */
static int load_images(rp_db *db, const doc_key *k, rp_deployment_image **ret, size_t *ret_n, rp_error *err) {
        *ret = NULL;
        *ret_n = 0;
        unsigned manages = rp_update_policy_manages(k->policy);
        if (!k->deployment_id[0] || !manages)
                return 0;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "SELECT i.component_id, i.type, i.name, i.version, i.digest, i.size FROM "
                             "deployment_images di JOIN images i ON i.id = di.image_id WHERE di.deployment_id = $1 AND "
                             "i.tenant_id = $2 ORDER BY i.component_id", k->deployment_id, k->tenant_id, NULL);
        if (r < 0)
                return r;
        rp_deployment_image *ims = calloc(res->n_rows ? res->n_rows : 1, sizeof *ims);
        if (!ims)
                return rp_error_set(err, -ENOMEM, "out of memory");
        size_t n = 0;
        for (size_t i = 0; i < res->n_rows; i++) {
                const char *cid = rp_db_result_get(res, i, 0), *type = rp_db_result_get(res, i, 1);
                const char *name = rp_db_result_get(res, i, 2), *digest = rp_db_result_get(res, i, 4);
                rp_image_type t = 0;
                for (rp_image_type x = RP_IMAGE_TYPE_APP; type && x <= RP_IMAGE_TYPE_OS; x++)
                        if (streq(type, rp_image_type_name(x)))
                                t = x;
                if (!t || !(manages & (1u << t)))
                        continue;
                rp_deployment_image *im = &ims[n++];
                im->type = t;
                im->version = (uint64_t) rp_db_result_int(res, i, 3, 0);
                im->size = (uint64_t) rp_db_result_int(res, i, 5, 0);
                im->name = name ? strdup(name) : NULL;
                bool ok = cid && strlen(cid) == RP_PACKAGE_GUID_LEN && digest &&
                          rp_hex_decode(digest, im->digest, RP_SHA256_LEN) == 0;
                if (ok) {
                        memcpy(im->component_id, cid, sizeof im->component_id);
                        if (asprintf(&im->url, "/v1/device/images/%s", digest) < 0)
                                im->url = NULL;
                }
                if (!ok || !im->name || !im->url) {
                        images_free(ims, n);
                        return rp_error_set(err, ok ? -ENOMEM : -EIO, ok ? "out of memory" :
                                            "an image row of deployment %s is malformed", k->deployment_id);
                }
        }
        *ret = ims;
        *ret_n = n;
        return 0;
}

/* Builds and signs the document for k into e. */
static int build(rp_db *db, const rp_server *srv, const doc_key *k, int64_t now, doc_entry *e, rp_error *err) {
        const api_deployment_key *key = NULL;
        int r = api_deployment_key_get(db, k->tenant_id, &key, err);
        if (r < 0)
                return r;
        rp_deployment_doc d = {
                .format = RP_DEPLOYMENT_FORMAT,
                .device_group = k->group_id[0] ? (char *) k->group_id : NULL,
                .deployment = k->deployment_id[0] ? (char *) k->deployment_id : NULL,
                .version = (uint64_t) k->version,
                .issued_at = (uint64_t) now,
                .expires_at = (uint64_t) now + srv->cfg.document_lifetime,
                .policy = k->policy,
                .manages = rp_update_policy_manages(k->policy),
        };
        snprintf(d.tenant, sizeof d.tenant, "%s", k->tenant_id);
        snprintf(d.device, sizeof d.device, "%s", k->device_id);
        r = load_images(db, k, &d.images, &d.n_images, err);
        if (r < 0)
                return r;
        uint8_t *cose = NULL;
        size_t cose_len = 0;
        char (*digests)[2 * RP_SHA256_LEN + 1] = calloc(d.n_images ? d.n_images : 1, sizeof *digests);
        r = digests ? rp_deployment_doc_sign(&d, key->key, &cose, &cose_len, err)
                    : rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < d.n_images; i++)
                rp_hex_encode_buf(d.images[i].digest, RP_SHA256_LEN, digests[i]);
        size_t n = d.n_images;
        images_free(d.images, d.n_images);
        if (r < 0) {
                free(digests);
                return r;
        }
        entry_clear(e);
        *e = (doc_entry) {
                .used = true, .policy = k->policy, .version = k->version, .issued_at = now, .cose = cose,
                .cose_len = cose_len, .digests = digests, .n_digests = n,
        };
        snprintf(e->tenant_id, sizeof e->tenant_id, "%s", k->tenant_id);
        snprintf(e->device_id, sizeof e->device_id, "%s", k->device_id);
        snprintf(e->group_id, sizeof e->group_id, "%s", k->group_id);
        snprintf(e->deployment_id, sizeof e->deployment_id, "%s", k->deployment_id);
        return 0;
}

/* The document this device gets now: cached, or built. Replies (and
 * returns NULL) on failure. */
static const doc_entry *current_document(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        if (p->kind != RP_PRINCIPAL_DEVICE) {
                rp_reply_error(req, 401, "unauthenticated", "this route needs a device certificate");
                return NULL;
        }
        doc_cache *c = get_cache();
        if (!c) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return NULL;
        }
        const rp_server *srv = rp_req_server(req);
        doc_key k = key_of(p);
        doc_entry *e = &c->slot[slot_of(k.device_id)];
        int64_t now = api_now();
        if (entry_is(e, &k) && now >= e->issued_at && now - e->issued_at < srv->cfg.document_lifetime / 2)
                return e;
        rp_error err = {};
        int r = build(rp_req_db(req), srv, &k, now, e, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return NULL;
        }
        return e;
}

void rp_api_device_deployment(rp_req *req) {
        const doc_entry *e = current_document(req);
        if (e)
                rp_reply_bytes(req, 200, "application/cose", e->cose, e->cose_len);
}

/* --- downloads --- */

void rp_api_device_image(rp_req *req) {
        const char *ref = rp_req_param(req, "digest");
        char digest[2 * RP_SHA256_LEN + 1];
        if (!ref || !api_hex_normalize(ref, 2 * RP_SHA256_LEN, digest)) {
                rp_reply_error(req, 404, "not_found", "no such image");
                return;
        }
        const doc_entry *e = current_document(req);
        if (!e)
                return;
        bool listed = false;
        for (size_t i = 0; i < e->n_digests && !listed; i++)
                listed = streq(e->digests[i], digest);
        if (!listed) {
                rp_reply_error(req, 404, "not_found", "no such image");
                return;
        }
        rp_blob_reader *reader = NULL;
        rp_error err = {};
        int r = rp_blob_open(rp_req_server(req)->blobs, digest, &reader, &err);
        if (r < 0) {
                char q[RP_ERROR_MAX + 8];
                /* An image row exists only once its blob is whole: a
                 * missing blob is a broken blob store. */
                rp_log("event=blob-error id=%s digest=%s code=%d reason=%s", rp_req_id(req), digest, r,
                       rp_log_quote(rp_error_message(&err, r), q, sizeof q));
                rp_reply_error(req, r == -ENOENT ? 404 : 503, r == -ENOENT ? "not_found" : "blob_store_unavailable",
                               r == -ENOENT ? "no such image" : "the image cannot be read now; try again");
                return;
        }
        char etag[2 * RP_SHA256_LEN + 3];
        snprintf(etag, sizeof etag, "\"%s\"", digest);
        rp_reply_blob(req, "application/octet-stream", reader, etag);
}

/* --- the state the device reports --- */

typedef struct component {
        char id[RP_PACKAGE_GUID_LEN + 1];
        const char *version;            /* decimal text, or NULL */
        char version_buf[RP_DB_INT_STRLEN];
        char digest[2 * RP_SHA256_LEN + 1];     /* "" for null */
        const char *state;
        const char *detail;             /* or NULL */
} component;

typedef struct state_report {
        const char *tenant_id, *device_id;
        const char *doc_version;        /* decimal text, or NULL */
        char doc_version_buf[RP_DB_INT_STRLEN];
        component c[RP_DEPLOYMENT_MAX_IMAGES];
        size_t n;
        bool found;                     /* out: the device is still the tenant's */
} state_report;

static int state_tx(rp_db *db, void *userdata, rp_error *err) {
        state_report *s = userdata;
        char now[RP_DB_INT_STRLEN];
        rp_db_int(api_now(), now);
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "UPDATE devices SET reported_at = $1, reported_doc_version = $2 WHERE id = "
                             "$3 AND tenant_id = $4", now, s->doc_version ? s->doc_version : RP_DB_NULL, s->device_id,
                             s->tenant_id, NULL);
        if (r < 0)
                return r;
        s->found = res->changes == 1;
        if (!s->found)
                return 0;
        r = rp_db_queryv(db, NULL, err, "DELETE FROM device_components WHERE device_id = $1", s->device_id, NULL);
        for (size_t i = 0; r >= 0 && i < s->n; i++) {
                const component *c = &s->c[i];
                r = rp_db_queryv(db, NULL, err, "INSERT INTO device_components (device_id, component_id, tenant_id, "
                                 "version, digest, state, detail, reported_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                                 s->device_id, c->id, s->tenant_id, c->version ? c->version : RP_DB_NULL,
                                 c->digest[0] ? c->digest : RP_DB_NULL, c->state, c->detail ? c->detail : RP_DB_NULL,
                                 now, NULL);
        }
        return r;
}

/* An integer 0..max or null; *ret NULL for null. */
static bool int_or_null(rp_req *req, json_t *v, const char *field, int64_t max, char buf[RP_DB_INT_STRLEN],
                        const char **ret) {
        if (!v || json_is_null(v)) {
                *ret = NULL;
                return true;
        }
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > max) {
                rp_reply_error(req, 400, "bad_request", "%s: expected an integer from 0 to %jd, or null", field,
                               (intmax_t) max);
                return false;
        }
        *ret = rp_db_int(json_integer_value(v), buf);
        return true;
}

static bool read_component(rp_req *req, json_t *o, size_t i, component *c) {
        char field[48];
        snprintf(field, sizeof field, "components[%zu]", i);
        static const char *const allowed[] = { "component_id", "version", "digest", "state", "detail", NULL };
        const char *key;
        json_t *v;
        if (!json_is_object(o)) {
                rp_reply_error(req, 400, "bad_request", "%s: expected an object", field);
                return false;
        }
        json_object_foreach(o, key, v) {
                bool known = false;
                for (size_t k = 0; allowed[k]; k++)
                        known = known || streq(key, allowed[k]);
                if (!known) {
                        char q[80];
                        rp_reply_error(req, 400, "bad_request", "%s: unknown member %s", field,
                                       rp_log_quote(key, q, sizeof q));
                        return false;
                }
        }
        const char *cid = json_string_value(json_object_get(o, "component_id"));
        char norm[RP_GUID_STRLEN + 1];
        if (!cid || rp_guid_normalize(cid, norm) < 0) {
                rp_reply_error(req, 400, "bad_request", "%s.component_id: expected a GUID", field);
                return false;
        }
        memcpy(c->id, norm, sizeof c->id);
        snprintf(field, sizeof field, "components[%zu].version", i);
        if (!int_or_null(req, json_object_get(o, "version"), field, RP_PACKAGE_VERSION_MAX, c->version_buf,
                         &c->version))
                return false;
        json_t *d = json_object_get(o, "digest");
        if (d && !json_is_null(d) &&
            (!json_is_string(d) || !api_hex_normalize(json_string_value(d), 2 * RP_SHA256_LEN, c->digest))) {
                rp_reply_error(req, 400, "bad_request", "components[%zu].digest: expected 64 hex digits (the package's "
                               "SHA-256) or null", i);
                return false;
        }
        c->state = json_string_value(json_object_get(o, "state"));
        if (!c->state || !(streq(c->state, "installed") || streq(c->state, "failed"))) {
                rp_reply_error(req, 400, "bad_request", "components[%zu].state: expected \"installed\" or \"failed\"",
                               i);
                return false;
        }
        json_t *det = json_object_get(o, "detail");
        c->detail = det && !json_is_null(det) ? json_string_value(det) : NULL;
        if ((det && !json_is_null(det) && !c->detail) ||
            (c->detail && (strlen(c->detail) > STATE_DETAIL_MAX || !rp_str_is_printable(c->detail, strlen(c->detail))))) {
                rp_reply_error(req, 400, "bad_request", "components[%zu].detail: expected printable text of at most %d "
                               "bytes", i, STATE_DETAIL_MAX);
                return false;
        }
        return true;
}

void rp_api_device_state(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        if (p->kind != RP_PRINCIPAL_DEVICE) {
                rp_reply_error(req, 401, "unauthenticated", "this route needs a device certificate");
                return;
        }
        static const char *const fields[] = { "doc_version", "components", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        if (!body)
                return;
        state_report s = { .tenant_id = p->tenant_id, .device_id = p->device_id };
        if (!int_or_null(req, json_object_get(body, "doc_version"), "doc_version", INT64_MAX, s.doc_version_buf,
                         &s.doc_version))
                return;
        json_t *arr = json_object_get(body, "components");
        if (!json_is_array(arr) || json_array_size(arr) > RP_DEPLOYMENT_MAX_IMAGES) {
                rp_reply_error(req, 400, "bad_request", "components: expected an array of at most %d components",
                               RP_DEPLOYMENT_MAX_IMAGES);
                return;
        }
        s.n = json_array_size(arr);
        for (size_t i = 0; i < s.n; i++) {
                if (!read_component(req, json_array_get(arr, i), i, &s.c[i]))
                        return;
                for (size_t j = 0; j < i; j++)
                        if (streq(s.c[j].id, s.c[i].id)) {
                                rp_reply_error(req, 400, "duplicate_component", "components[%zu]: component %s is "
                                               "listed twice", i, s.c[i].id);
                                return;
                        }
        }
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), state_tx, &s, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (!s.found) {
                rp_reply_error(req, 403, "forbidden", "the device is no longer claimed by its certificate's tenant");
                return;
        }
        rp_reply_empty(req, 204);
}
