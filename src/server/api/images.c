/* SPDX-License-Identifier: Apache-2.0 */
/* Image-signing keys, uploads and images (docs/api.md, "Images").
 *
 * A package arrives as an upload: POST .../uploads declares its size, PUT
 * .../uploads/{upload}?offset=N appends pieces (each durable in the blob
 * store's staging area before the answer), GET says how much arrived, so a
 * client resumes where it stood. POST .../images then streams the staged
 * bytes through the package verifier (the tenant's signing keys, the image
 * digest), commits them to the blob store under their SHA-256 (durable,
 * whole) and only then writes the images row. The same bytes twice are
 * one image. Abandoned uploads expire (rp_api_uploads_expire). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api.h"
#include "api/common.h"
#include "blob/blob.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "log.h"
#include "package/package_stream.h"
#include "rampart/crypto.h"
#include "rampart/package.h"
#include "server.h"

#define PEM_MAX 4096                    /* a P-256 or Ed25519 SubjectPublicKeyInfo PEM is ~180 bytes */
#define SIGNING_KEYS_MAX 1000           /* a tenant's keys tried for one package */
#define VERIFY_CHUNK (256 * 1024)       /* bytes read from the blob store at a time */
/* Staging objects with no uploads row are removed once untouched this long
 * (seconds): an upload's row is written before its staging object, so
 * there is no such object in normal operation; the margin covers servers
 * whose clocks differ on shared storage. */
#define STAGING_ORPHAN_AGE 600

/* --- signing keys --- */

#define SIGNING_KEY_COLUMNS "id, name, algorithm, key_id, created_at"

static const api_field signing_key_fields[] = {
        { "id", API_FIELD_TEXT },
        { "name", API_FIELD_TEXT },
        { "algorithm", API_FIELD_TEXT },
        { "key_id", API_FIELD_TEXT },
        { "created_at", API_FIELD_INT },
        {},
};

typedef struct key_add {
        api_actor actor;
        const char *tenant_id, *id, *name, *algorithm, *key_id, *pem;
} key_add;

static int key_add_tx(rp_db *db, void *userdata, rp_error *err) {
        const key_add *a = userdata;
        char now[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO signing_keys (id, tenant_id, name, algorithm, key_id, "
                             "public_pem, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)", a->id, a->tenant_id,
                             a->name, a->algorithm, a->key_id, a->pem, rp_db_int(api_now(), now), NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s, s:s}", "id", a->id, "name", a->name,
                                                           "algorithm", a->algorithm, "key_id", a->key_id);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "signing key %s", a->id);
        return api_audit(db, &a->actor, a->tenant_id, "signing_key.add", target, detail, err);
}

/* The key in a body's PEM: one SubjectPublicKeyInfo block, ES256 (P-256)
 * or Ed25519, never a private key (which must not be sent, let alone
 * kept). Replies 400 bad_key when it is not. */
static bool parse_public_pem(rp_req *req, const char *pem, rp_key **ret) {
        if (strstr(pem, "PRIVATE KEY")) {
                rp_reply_error(req, 400, "bad_key", "public_pem holds a private key: send the public key only "
                               "(rampart keys generate writes it beside the private one, as KEY.pub)");
                return false;
        }
        const char *begin = strstr(pem, "-----BEGIN ");
        if (!begin || strncmp(begin, "-----BEGIN PUBLIC KEY-----", 26) != 0 || strstr(begin + 1, "-----BEGIN ")) {
                rp_reply_error(req, 400, "bad_key", "public_pem: expected one PEM public key block "
                               "(-----BEGIN PUBLIC KEY-----, SubjectPublicKeyInfo)");
                return false;
        }
        rp_error err = {};
        int r = rp_key_from_pem(pem, strlen(pem), false, ret, &err);
        if (r == -ENOMEM) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return false;
        }
        if (r < 0) {
                rp_reply_error(req, 400, "bad_key", "public_pem: %s (expected an ES256 P-256 or Ed25519 public key)",
                               rp_error_message(&err, r));
                return false;
        }
        return true;
}

void rp_api_signing_key_add(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t))
                return;
        static const char *const fields[] = { "name", "public_pem", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        key_add a = { .tenant_id = t.id };
        if (!body || !api_body_string(req, body, "name", false, API_TEXT_NONEMPTY, API_NAME_MAX, &a.name) ||
            !api_body_string(req, body, "public_pem", true, API_TEXT_PEM, PEM_MAX, &a.pem))
                return;
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        if (!parse_public_pem(req, a.pem, &key))
                return;
        uint8_t kid[RP_KEY_ID_LEN];
        char key_id[2 * RP_KEY_ID_LEN + 1], id[RP_DB_ID_LEN + 1], name[20];
        rp_key_id(key, kid);
        rp_hex_encode_buf(kid, sizeof kid, key_id);
        if (!a.name) {
                /* By default the key id's first 16 digits, as 'keys show' starts it. */
                snprintf(name, sizeof name, "%.16s", key_id);
                a.name = name;
        }
        if (rp_db_new_id(id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        a.id = id;
        a.key_id = key_id;
        a.algorithm = rp_cose_alg_name(rp_key_cose_alg(key));
        api_actor_of(req, &a.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), key_add_tx, &a, &err);
        if (r == -EEXIST) {
                rp_reply_error(req, 409, "signing_key_exists", "the tenant trusts this key already (key id %s)",
                               key_id);
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " SIGNING_KEY_COLUMNS " FROM signing_keys WHERE id = $1",
                         id, NULL);
        if (r < 0)
                api_reply_store(req, r, &err);
        else if (res->n_rows != 1)
                api_reply_not_found(req, "signing key", id);
        else
                rp_reply_json(req, 201, api_row_json(res, 0, signing_key_fields));
}

void rp_api_signing_key_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " SIGNING_KEY_COLUMNS " FROM signing_keys WHERE "
                             "tenant_id = $1 ORDER BY created_at, id LIMIT $2", t.id, rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("signing_keys", res, signing_key_fields));
}

typedef struct key_remove {
        api_actor actor;
        const char *tenant_id, *id, *key_id;
} key_remove;

static int key_remove_tx(rp_db *db, void *userdata, rp_error *err) {
        const key_remove *v = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "DELETE FROM signing_keys WHERE id = $1 AND tenant_id = $2", v->id,
                             v->tenant_id, NULL);
        if (r < 0 || res->changes == 0)
                return r < 0 ? r : 0;   /* removed meanwhile: nothing to record */
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s}", "key_id", v->key_id);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "signing key %s", v->id);
        return api_audit(db, &v->actor, v->tenant_id, "signing_key.remove", target, detail, err);
}

void rp_api_signing_key_remove(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t))
                return;
        /* {key}: its id (32 hex) or its key id (64 hex). */
        const char *ref = rp_req_param(req, "key");
        char key[2 * RP_KEY_ID_LEN + 1];
        bool by_id = ref && api_hex_normalize(ref, RP_DB_ID_LEN, key);
        if (!by_id && !(ref && api_hex_normalize(ref, 2 * RP_KEY_ID_LEN, key))) {
                api_reply_not_found(req, "signing key", ref);
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err,
                             by_id ? "SELECT id, key_id FROM signing_keys WHERE tenant_id = $1 AND id = $2"
                                   : "SELECT id, key_id FROM signing_keys WHERE tenant_id = $1 AND key_id = $2",
                             t.id, key, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "signing key", ref);
                return;
        }
        key_remove v = { .tenant_id = t.id, .id = rp_db_result_get(res, 0, 0), .key_id = rp_db_result_get(res, 0, 1) };
        api_actor_of(req, &v.actor);
        r = rp_db_transact(rp_req_db(req), key_remove_tx, &v, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_empty(req, 204);
}

/* --- uploads --- */

typedef struct upload_row {
        char id[RP_DB_ID_LEN + 1];
        uint64_t size;
        int64_t expires_at;
} upload_row;

/* The tenant's upload of the path's {upload}, unexpired; replies 404 (or
 * 503) and returns false when there is none. */
static bool upload_get(rp_req *req, const api_tenant *t, upload_row *ret) {
        const char *ref = rp_req_param(req, "upload");
        char id[RP_DB_ID_LEN + 1];
        if (!ref || !api_hex_normalize(ref, RP_DB_ID_LEN, id)) {
                api_reply_not_found(req, "upload", ref);
                return false;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char now[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT size, expires_at FROM uploads WHERE id = $1 AND "
                             "tenant_id = $2 AND expires_at >= $3", id, t->id, rp_db_int(api_now(), now), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "upload", ref);
                return false;
        }
        memcpy(ret->id, id, sizeof id);
        ret->size = (uint64_t) rp_db_result_int(res, 0, 0, 0);
        ret->expires_at = rp_db_result_int(res, 0, 1, 0);
        return true;
}

/* How many bytes of the upload are staged: 0 when its staging object is
 * missing (a server stopped between writing the row and making it: the
 * first piece makes it). */
static int staged_size(rp_blob_store *bs, const char *id, uint64_t *ret, rp_error *err) {
        int r = rp_blob_upload_size(bs, id, ret, err);
        if (r == -ENOENT) {
                *ret = 0;
                return 0;
        }
        return r;
}

static void reply_upload(rp_req *req, int status, const upload_row *u, uint64_t received) {
        rp_reply_json(req, status, json_pack("{s:s, s:I, s:I, s:I, s:I}", "id", u->id, "size", (json_int_t) u->size,
                                             "received", (json_int_t) received, "chunk_size",
                                             (json_int_t) rp_req_server(req)->cfg.max_body, "expires_at",
                                             (json_int_t) u->expires_at));
}

/* A blob store failure: 500 (the reason is logged, not sent). */
static void reply_blob_error(rp_req *req, int r, const rp_error *err) {
        char q[RP_LOG_QUOTE_MAX];
        rp_log("event=blob-store-error request=%s reason=%s", rp_req_id(req),
               rp_log_quote(rp_error_message(err, r), q, sizeof q));
        rp_reply_error(req, 500, "internal", "the blob store failed (see the server's log)");
}

typedef struct upload_add {
        api_actor actor;
        const char *tenant_id, *id;
        uint64_t size;
        int64_t expires_at;
} upload_add;

static int upload_add_tx(rp_db *db, void *userdata, rp_error *err) {
        const upload_add *a = userdata;
        char size[RP_DB_INT_STRLEN], now[RP_DB_INT_STRLEN], exp[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO uploads (id, tenant_id, size, received, created_by, "
                             "created_at, expires_at) VALUES ($1, $2, $3, 0, $4, $5, $6)", a->id, a->tenant_id,
                             rp_db_int((int64_t) a->size, size), a->actor.actor, rp_db_int(api_now(), now),
                             rp_db_int(a->expires_at, exp), NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:I}", "id", a->id, "size", (json_int_t) a->size);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "upload %s", a->id);
        return api_audit(db, &a->actor, a->tenant_id, "upload.create", target, detail, err);
}

void rp_api_upload_create(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        static const char *const fields[] = { "size", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        if (!body)
                return;
        const rp_server *srv = rp_req_server(req);
        json_t *v = json_object_get(body, "size");
        if (!json_is_integer(v) || json_integer_value(v) < 1) {
                rp_reply_error(req, 400, "bad_request", "size: expected the package's size in bytes, an integer "
                               "of at least 1");
                return;
        }
        if ((uint64_t) json_integer_value(v) > srv->cfg.max_image_size) {
                rp_reply_error(req, 413, "too_large", "size: %lld bytes; this server takes packages of up to %zu "
                               "bytes (--max-image-size)", (long long) json_integer_value(v),
                               srv->cfg.max_image_size);
                return;
        }
        char id[RP_DB_ID_LEN + 1];
        if (rp_db_new_id(id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        upload_add a = { .tenant_id = t.id, .id = id, .size = (uint64_t) json_integer_value(v),
                         .expires_at = api_now() + srv->cfg.upload_ttl };
        api_actor_of(req, &a.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), upload_add_tx, &a, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        /* The row first: a staging object is never without one (but for
         * a moment in DELETE), so the clean-up may take every orphan. */
        r = rp_blob_upload_create(srv->blobs, id, &err);
        if (r < 0) {
                rp_error e2 = {};
                (void) rp_db_queryv(rp_req_db(req), NULL, &e2, "DELETE FROM uploads WHERE id = $1", id, NULL);
                reply_blob_error(req, r, &err);
                return;
        }
        upload_row u = { .size = a.size, .expires_at = a.expires_at };
        memcpy(u.id, id, sizeof id);
        reply_upload(req, 201, &u, 0);
}

void rp_api_upload_show(rp_req *req) {
        api_tenant t;
        upload_row u;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !upload_get(req, &t, &u))
                return;
        rp_error err = {};
        uint64_t received;
        int r = staged_size(rp_req_server(req)->blobs, u.id, &received, &err);
        if (r < 0) {
                reply_blob_error(req, r, &err);
                return;
        }
        reply_upload(req, 200, &u, received);
}

/* "application/octet-stream", in any case, with no parameters but
 * whitespace. */
static bool is_octet_stream(const char *ct) {
        static const char want[] = "application/octet-stream";
        if (!ct || strncasecmp(ct, want, sizeof want - 1) != 0)
                return false;
        for (const char *p = ct + sizeof want - 1; *p; p++)
                if (*p != ' ' && *p != '\t')
                        return false;
        return true;
}

/* A decimal number without sign, spaces or leading zeros, <= max. */
static bool parse_offset(const char *s, uint64_t max, uint64_t *ret) {
        if (!s || !*s || strlen(s) > 20 || (s[0] == '0' && s[1]))
                return false;
        uint64_t v = 0;
        for (const char *p = s; *p; p++) {
                if (!isdigit((unsigned char) *p) || v > (UINT64_MAX - 9) / 10)
                        return false;
                v = v * 10 + (uint64_t) (*p - '0');
        }
        if (v > max)
                return false;
        *ret = v;
        return true;
}

void rp_api_upload_append(rp_req *req) {
        api_tenant t;
        upload_row u;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        if (!is_octet_stream(rp_req_header(req, "Content-Type"))) {
                rp_reply_error(req, 415, "unsupported_media_type", "a piece of an upload is sent as "
                               "Content-Type: application/octet-stream (the raw bytes)");
                return;
        }
        if (!upload_get(req, &t, &u))
                return;
        uint64_t offset;
        if (!parse_offset(rp_req_query(req, "offset"), u.size, &offset)) {
                rp_reply_error(req, 400, "bad_request", "?offset: expected where this piece starts, a decimal "
                               "number from 0 to %ju (the upload's size)", (uintmax_t) u.size);
                return;
        }
        const uint8_t *body;
        size_t len;
        rp_req_body(req, &body, &len);
        if (len > u.size - offset) {
                rp_reply_error(req, 413, "too_large", "the upload is %ju bytes; this piece of %zu bytes at offset "
                               "%ju would end past it", (uintmax_t) u.size, len, (uintmax_t) offset);
                return;
        }
        rp_blob_store *bs = rp_req_server(req)->blobs;
        rp_error err = {};
        uint64_t received = 0;
        int r = rp_blob_upload_append(bs, u.id, offset, body, len, &received, &err);
        if (r == -ENOENT && offset == 0) {
                /* The staging object was never made (see staged_size). */
                r = rp_blob_upload_create(bs, u.id, &err);
                if (r == 0 || r == -EEXIST)
                        r = rp_blob_upload_append(bs, u.id, offset, body, len, &received, &err);
        }
        if (r == -ENOENT) {
                received = 0;
                r = -ESPIPE;
        }
        if (r == -ESPIPE) {
                rp_reply_error(req, 409, "offset_mismatch", "the upload has %ju bytes: send the piece that starts "
                               "there (?offset=%ju)", (uintmax_t) received, (uintmax_t) received);
                return;
        }
        if (r < 0) {
                reply_blob_error(req, r, &err);
                return;
        }
        /* The row's copy of the count, for people reading the store; the
         * staged size is what counts. */
        char n[RP_DB_INT_STRLEN];
        r = rp_db_queryv(rp_req_db(req), NULL, &err, "UPDATE uploads SET received = $1 WHERE id = $2",
                         rp_db_int((int64_t) received, n), u.id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_upload(req, 200, &u, received);
}

typedef struct upload_drop {
        api_actor actor;
        const char *tenant_id, *id;
} upload_drop;

static int upload_drop_tx(rp_db *db, void *userdata, rp_error *err) {
        const upload_drop *d = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "DELETE FROM uploads WHERE id = $1 AND tenant_id = $2", d->id,
                             d->tenant_id, NULL);
        if (r < 0 || res->changes == 0)
                return r < 0 ? r : 0;
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "upload %s", d->id);
        return api_audit(db, &d->actor, d->tenant_id, "upload.remove", target, NULL, err);
}

void rp_api_upload_remove(rp_req *req) {
        api_tenant t;
        upload_row u;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t) || !upload_get(req, &t, &u))
                return;
        upload_drop d = { .tenant_id = t.id, .id = u.id };
        api_actor_of(req, &d.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), upload_drop_tx, &d, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        r = rp_blob_upload_remove(rp_req_server(req)->blobs, u.id, &err);
        if (r < 0) {
                reply_blob_error(req, r, &err);
                return;
        }
        rp_reply_empty(req, 204);
}

/* --- images --- */

#define IMAGE_COLUMNS "id, digest, size, component_id, type, name, version, version_name, image_sha256, " \
                      "signing_key_id, build_time, created_at, created_by"

static const api_field image_fields[] = {
        { "id", API_FIELD_TEXT },
        { "digest", API_FIELD_TEXT },
        { "size", API_FIELD_INT },
        { "component_id", API_FIELD_TEXT },
        { "type", API_FIELD_TEXT },
        { "name", API_FIELD_TEXT },
        { "version", API_FIELD_INT },
        { "version_name", API_FIELD_TEXT },
        { "image_sha256", API_FIELD_TEXT },
        { "signing_key", API_FIELD_TEXT },      /* signing_key_id */
        { "build_time", API_FIELD_INT },
        { "created_at", API_FIELD_INT },
        { "created_by", API_FIELD_TEXT },
        {},
};

/* Replies with the tenant's image whose column (id or digest) is value;
 * false (nothing sent) if there is none. */
static bool reply_image(rp_req *req, int status, const char *tenant_id, const char *column, const char *value) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err,
                             streq(column, "id") ? "SELECT " IMAGE_COLUMNS " FROM images WHERE tenant_id = $1 AND id = $2"
                                                 : "SELECT " IMAGE_COLUMNS " FROM images WHERE tenant_id = $1 AND "
                                                   "digest = $2",
                             tenant_id, value, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return true;
        }
        if (res->n_rows != 1)
                return false;
        rp_reply_json(req, status, api_row_json(res, 0, image_fields));
        return true;
}

/* The tenant's signing keys, parsed; *ret_ids their key ids (hex). */
typedef struct key_set {
        rp_key **keys;
        char (*ids)[2 * RP_KEY_ID_LEN + 1];
        size_t n;
} key_set;

static void key_set_done(key_set *k) {
        for (size_t i = 0; i < k->n; i++)
                rp_key_free(k->keys[i]);
        free(k->keys);
        free(k->ids);
}

static int load_keys(rp_db *db, const char *tenant_id, key_set *ret, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, &res, err, "SELECT key_id, public_pem FROM signing_keys WHERE tenant_id = $1 "
                             "ORDER BY created_at, id LIMIT $2", tenant_id, rp_db_int(SIGNING_KEYS_MAX, lim), NULL);
        if (r < 0)
                return r;
        ret->keys = calloc(res->n_rows ? res->n_rows : 1, sizeof *ret->keys);
        ret->ids = calloc(res->n_rows ? res->n_rows : 1, sizeof *ret->ids);
        if (!ret->keys || !ret->ids)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < res->n_rows; i++) {
                const char *id = rp_db_result_get(res, i, 0), *pem = rp_db_result_get(res, i, 1);
                if (!id || !pem)
                        continue;
                rp_error e = {};
                r = rp_key_from_pem(pem, strlen(pem), false, &ret->keys[ret->n], &e);
                if (r < 0)
                        return rp_error_set(err, r, "signing key %s: %s", id, rp_error_message(&e, r));
                snprintf(ret->ids[ret->n], sizeof ret->ids[0], "%s", id);
                ret->n++;
        }
        return 0;
}

/* Streams the upload's staged bytes through the package verifier. */
static int verify_upload(rp_blob_store *bs, const char *upload_id, const key_set *keys, rp_package_stream *s,
                         rp_package_stream_result *ret, rp_error *err) {
        _cleanup_(rp_blob_closep) rp_blob_reader *rd = NULL;
        int r = rp_blob_upload_open(bs, upload_id, &rd, err);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *buf = malloc(VERIFY_CHUNK);
        if (!buf)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (uint64_t off = 0;;) {
                size_t n = 0;
                r = rp_blob_read_at(rd, off, buf, VERIFY_CHUNK, &n, err);
                if (r < 0)
                        return r;
                if (n == 0)
                        break;
                r = rp_package_stream_feed(s, buf, n, err);
                if (r < 0)
                        return r;
                off += n;
        }
        return rp_package_stream_finish(s, (const rp_key *const *) keys->keys, keys->n, ret, err);
}

typedef struct image_add {
        api_actor actor;
        const char *tenant_id, *id, *upload_id, *digest, *signing_key;
        const rp_package_manifest *m;
        uint64_t size;
        bool inserted;
} image_add;

static int image_add_tx(rp_db *db, void *userdata, rp_error *err) {
        image_add *a = userdata;
        char sha[2 * RP_SHA256_LEN + 1], size[RP_DB_INT_STRLEN], version[RP_DB_INT_STRLEN],
                build[RP_DB_INT_STRLEN], now[RP_DB_INT_STRLEN];
        rp_hex_encode_buf(a->m->image_sha256, RP_SHA256_LEN, sha);
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        /* The same bytes added meanwhile by another request: that image. */
        int r = rp_db_queryv(db, &res, err, "INSERT INTO images (id, tenant_id, digest, size, component_id, type, "
                             "name, version, version_name, image_sha256, signing_key_id, build_time, created_by, "
                             "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) "
                             "ON CONFLICT DO NOTHING", a->id, a->tenant_id, a->digest,
                             rp_db_int((int64_t) a->size, size), a->m->component_id, rp_image_type_name(a->m->type),
                             a->m->name, rp_db_int((int64_t) a->m->version, version),
                             a->m->version_name ? a->m->version_name : RP_DB_NULL, sha, a->signing_key,
                             rp_db_int((int64_t) a->m->build_time, build), a->actor.actor, rp_db_int(api_now(), now),
                             NULL);
        if (r < 0)
                return r;
        a->inserted = res->changes > 0;
        r = rp_db_queryv(db, NULL, err, "DELETE FROM uploads WHERE id = $1", a->upload_id, NULL);
        if (r < 0 || !a->inserted)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s, s:s, s:I, s:s}", "id", a->id, "digest",
                                                           a->digest, "component_id", a->m->component_id, "type",
                                                           rp_image_type_name(a->m->type), "version",
                                                           (json_int_t) a->m->version, "signing_key", a->signing_key);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 16];
        snprintf(target, sizeof target, "image %s", a->id);
        return api_audit(db, &a->actor, a->tenant_id, "image.add", target, detail, err);
}

/* The upload is spent (its bytes are an image of the tenant's): row and
 * staging object go. Failures only leave work for the expiry. */
static void drop_upload(rp_req *req, const char *id) {
        rp_error err = {};
        (void) rp_db_queryv(rp_req_db(req), NULL, &err, "DELETE FROM uploads WHERE id = $1", id, NULL);
        (void) rp_blob_upload_remove(rp_req_server(req)->blobs, id, &err);
}

void rp_api_image_add(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_CONTRIBUTOR, &t))
                return;
        static const char *const fields[] = { "upload", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        const char *ref;
        if (!body || !api_body_string(req, body, "upload", true, API_TEXT_NONEMPTY, 64, &ref))
                return;
        char upload_id[RP_DB_ID_LEN + 1];
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char now[RP_DB_INT_STRLEN];
        int r = 0;
        if (api_hex_normalize(ref, RP_DB_ID_LEN, upload_id))
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT size FROM uploads WHERE id = $1 AND "
                                 "tenant_id = $2 AND expires_at >= $3", upload_id, t.id, rp_db_int(api_now(), now),
                                 NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (!res || res->n_rows != 1) {
                api_reply_not_found(req, "upload", ref);
                return;
        }
        uint64_t size = (uint64_t) rp_db_result_int(res, 0, 0, 0), received;
        rp_blob_store *bs = rp_req_server(req)->blobs;
        r = staged_size(bs, upload_id, &received, &err);
        if (r < 0) {
                reply_blob_error(req, r, &err);
                return;
        }
        if (received != size) {
                rp_reply_error(req, 409, "upload_incomplete", "upload %s has %ju of its %ju bytes: send the rest "
                               "(PUT .../uploads/%s?offset=%ju) before adding it as an image", upload_id,
                               (uintmax_t) received, (uintmax_t) size, upload_id, (uintmax_t) received);
                return;
        }

        /* Verify: the tenant's keys, the package's signature, manifest and
         * image bytes, read from the staged copy. */
        _cleanup_(key_set_done) key_set keys = {};
        r = load_keys(rp_req_db(req), t.id, &keys, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        _cleanup_(rp_package_stream_freep) rp_package_stream *s = NULL;
        _cleanup_(rp_package_stream_result_done) rp_package_stream_result v = {};
        r = rp_package_stream_new(&s, &err);
        if (r >= 0)
                r = verify_upload(bs, upload_id, &keys, s, &v, &err);
        if (r < 0) {
                switch (s ? rp_package_stream_refused(s) : RP_PACKAGE_CHECK_NONE) {
                case RP_PACKAGE_CHECK_FORMAT:
                        rp_reply_error(req, 400, "package_invalid", "not a valid image package: %s",
                                       rp_error_message(&err, r));
                        return;
                case RP_PACKAGE_CHECK_SIGNATURE: {
                        const char *kid = rp_package_stream_kid(s);
                        bool known = false;
                        for (size_t i = 0; i < keys.n && !known; i++)
                                known = streq(keys.ids[i], kid);
                        if (known)
                                rp_reply_error(req, 403, "signature_invalid", "the package names key id %s, a "
                                               "signing key of tenant %s, but its signature does not verify: the "
                                               "signed manifest or the signature was modified", kid, t.name);
                        else
                                rp_reply_error(req, 403, "signature_invalid", "the package is signed by key id %s, "
                                               "which is not a signing key of tenant %s: register the key that "
                                               "signed it (POST .../signing-keys)", *kid ? kid : "(none named)",
                                               t.name);
                        return;
                }
                case RP_PACKAGE_CHECK_IMAGE:
                        rp_reply_error(req, 400, "digest_mismatch", "the image does not match its signed manifest: "
                                       "%s", rp_error_message(&err, r));
                        return;
                case RP_PACKAGE_CHECK_NONE:
                        break;
                }
                reply_blob_error(req, r, &err);
                return;
        }
        char digest[2 * RP_SHA256_LEN + 1];
        rp_hex_encode_buf(v.sha256, sizeof v.sha256, digest);

        /* The tenant has these bytes already: that image, and the upload
         * is spent. */
        if (reply_image(req, 200, t.id, "digest", digest)) {
                drop_upload(req, upload_id);
                return;
        }

        /* The blob first, durable; only then the row that offers it. */
        r = rp_blob_upload_commit(bs, upload_id, digest, &err);
        if (r == -ENOENT) {
                /* Committed meanwhile by another request for this upload:
                 * fine if the blob is there. */
                bool exists = false;
                rp_error e2 = {};
                if (rp_blob_exists(bs, digest, &exists, &e2) == 0 && exists)
                        r = 0;
        }
        if (r < 0) {
                reply_blob_error(req, r, &err);
                return;
        }
        char id[RP_DB_ID_LEN + 1];
        if (rp_db_new_id(id) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        image_add a = { .tenant_id = t.id, .id = id, .upload_id = upload_id, .digest = digest,
                        .signing_key = keys.ids[v.key_index], .m = v.manifest, .size = v.size };
        api_actor_of(req, &a.actor);
        r = rp_db_transact(rp_req_db(req), image_add_tx, &a, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (!reply_image(req, a.inserted ? 201 : 200, t.id, "digest", digest))
                api_reply_not_found(req, "image", digest);
}

void rp_api_image_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        const char *cid = rp_req_query(req, "component_id"), *type = rp_req_query(req, "type");
        char c[RP_PACKAGE_GUID_LEN + 1];
        if (cid && rp_guid_normalize(cid, c) < 0) {
                rp_reply_error(req, 400, "bad_request", "?component_id: expected a GUID (8-4-4-4-12 hex digits)");
                return;
        }
        if (type && !streq(type, "app") && !streq(type, "rt-app") && !streq(type, "os")) {
                rp_reply_error(req, 400, "bad_request", "?type: expected app, rt-app or os");
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        /* An absent filter is NULL, which matches every row. */
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " IMAGE_COLUMNS " FROM images WHERE tenant_id = $1 "
                             "AND (CAST($2 AS TEXT) IS NULL OR component_id = $2) AND (CAST($3 AS TEXT) IS NULL OR type = $3) "
                             "ORDER BY created_at DESC, id DESC LIMIT $4", t.id, cid ? c : RP_DB_NULL,
                             type ? type : RP_DB_NULL, rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("images", res, image_fields));
}

void rp_api_image_show(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_READER, &t))
                return;
        /* {image}: its id (32 hex) or its digest (64 hex). */
        const char *ref = rp_req_param(req, "image");
        char key[2 * RP_SHA256_LEN + 1];
        bool by_id = ref && api_hex_normalize(ref, RP_DB_ID_LEN, key);
        if ((!by_id && !(ref && api_hex_normalize(ref, 2 * RP_SHA256_LEN, key))) ||
            !reply_image(req, 200, t.id, by_id ? "id" : "digest", key))
                api_reply_not_found(req, "image", ref);
}

/* --- expiry --- */

typedef struct orphans {
        rp_db *db;
        rp_blob_store *bs;
        size_t removed;
        rp_error *err;
} orphans;

static int orphan_fn(const char *id, void *userdata) {
        orphans *o = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(o->db, &res, o->err, "SELECT 1 FROM uploads WHERE id = $1", id, NULL);
        if (r < 0)
                return r;
        if (res->n_rows > 0)
                return 0;
        r = rp_blob_upload_remove(o->bs, id, o->err);
        if (r < 0)
                return r;
        o->removed++;
        return 0;
}

int rp_api_uploads_expire(rp_db *db, rp_blob_store *bs, int64_t now, size_t *ret_rows, size_t *ret_staged,
                          rp_error *err) {
        /* The rows first, then their bytes: a stop in between leaves
         * orphans, which the second step takes. */
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char at[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, &res, err, "DELETE FROM uploads WHERE expires_at < $1 RETURNING id",
                             rp_db_int(now, at), NULL);
        if (r < 0)
                return r;
        size_t staged = 0;
        for (size_t i = 0; i < res->n_rows; i++) {
                const char *id = rp_db_result_get(res, i, 0);
                if (id && rp_blob_upload_id_valid(id)) {
                        r = rp_blob_upload_remove(bs, id, err);
                        if (r < 0)
                                return r;
                        staged++;
                }
        }
        orphans o = { .db = db, .bs = bs, .err = err };
        r = rp_blob_upload_list_older(bs, now - STAGING_ORPHAN_AGE, orphan_fn, &o, err);
        if (r < 0)
                return r;
        if (ret_rows)
                *ret_rows = res->n_rows;
        if (ret_staged)
                *ret_staged = staged + o.removed;
        return 0;
}
