/* SPDX-License-Identifier: Apache-2.0 */
/* Users and their API tokens, /v1/whoami, and the first operator made at
 * the first start (rp_api_bootstrap). docs/api.md, "Users and tokens". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "api/api.h"
#include "api/common.h"
#include "core/fileio.h"
#include "core/macro.h"

#define ADMIN_NAME "admin"
#define ADMIN_TOKEN_FILE "admin.token"
#define TOKEN_DAYS_MAX 3650

#define USER_COLUMNS "u.id, u.name, u.role, t.name, u.created_at"
#define USER_FROM "users u LEFT JOIN tenants t ON t.id = u.tenant_id"
#define TOKEN_COLUMNS "k.id, u.name, k.label, k.created_at, k.expires_at, k.revoked_at, k.last_used_at"
#define TOKEN_FROM "tokens k JOIN users u ON u.id = k.user_id"

static const api_field user_fields[] = {
        { "id", API_FIELD_TEXT },
        { "name", API_FIELD_TEXT },
        { "role", API_FIELD_TEXT },
        { "tenant", API_FIELD_TEXT },
        { "created_at", API_FIELD_INT },
        {},
};

static const api_field token_fields[] = {
        { "id", API_FIELD_TEXT },
        { "user", API_FIELD_TEXT },
        { "label", API_FIELD_TEXT },
        { "created_at", API_FIELD_INT },
        { "expires_at", API_FIELD_INT },
        { "revoked_at", API_FIELD_INT },
        { "last_used_at", API_FIELD_INT },
        {},
};

void rp_api_whoami(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        char tenant[API_NAME_MAX + 1];
        rp_error err = {};
        int r = api_tenant_name(rp_req_db(req), p->tenant_id, tenant, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, json_pack("{s:s, s:s, s:o, s:s}", "user", p->user_name, "role", p->role, "tenant",
                                          tenant[0] ? json_string(tenant) : json_null(), "token_id", p->token_id));
}

/* --- users --- */

typedef struct user_add {
        api_actor actor;
        const char *tenant_id, *id, *name, *role;
} user_add;

static int user_add_tx(rp_db *db, void *userdata, rp_error *err) {
        const user_add *u = userdata;
        char now[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO users (id, tenant_id, scope, name, role, created_at) "
                             "VALUES ($1, $2, $3, $4, $5, $6)", u->id, u->tenant_id, u->tenant_id, u->name, u->role,
                             rp_db_int(api_now(), now), NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s}", "id", u->id, "name", u->name, "role",
                                                           u->role);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return api_audit(db, &u->actor, u->tenant_id, "user.add", u->name, detail, err);
}

static void reply_user(rp_req *req, int status, const char *id) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " USER_COLUMNS " FROM " USER_FROM " WHERE u.id = $1",
                             id, NULL);
        if (r < 0)
                api_reply_store(req, r, &err);
        else if (res->n_rows != 1)
                api_reply_not_found(req, "user", id);
        else
                rp_reply_json(req, status, api_row_json(res, 0, user_fields));
}

void rp_api_user_add(rp_req *req) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t))
                return;
        static const char *const fields[] = { "name", "role", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        user_add u = { .tenant_id = t.id };
        if (!body || !api_body_string(req, body, "name", true, API_TEXT_NAME, API_NAME_MAX, &u.name) ||
            !api_body_string(req, body, "role", true, API_TEXT_NONEMPTY, 32, &u.role))
                return;
        api_role role = api_role_from_name(u.role);
        if (role == API_ROLE_NONE || role == API_ROLE_OPERATOR) {
                rp_reply_error(req, 400, "bad_request", "role: expected Administrator, Contributor or Reader");
                return;
        }
        char id[RP_DB_ID_LEN + 1];
        rp_error err = {};
        int r = rp_db_new_id(id);
        if (r < 0) {
                rp_reply_error(req, 500, "internal", "cannot make an id");
                return;
        }
        u.id = id;
        api_actor_of(req, &u.actor);
        r = rp_db_transact(rp_req_db(req), user_add_tx, &u, &err);
        if (r == -EEXIST) {
                char q[160];
                rp_reply_error(req, 409, "conflict", "the tenant has a user named %s already",
                               rp_log_quote(u.name, q, sizeof q));
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        reply_user(req, 201, id);
}

void rp_api_user_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " USER_COLUMNS " FROM " USER_FROM
                             " WHERE u.tenant_id = $1 ORDER BY u.name LIMIT $2", t.id, rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("users", res, user_fields));
}

/* The user {user} (name or id) of tenant t: its id and name. */
static bool find_user(rp_req *req, const api_tenant *t, char id[RP_DB_ID_LEN + 1], char name[API_NAME_MAX + 1]) {
        const char *ref = rp_req_param(req, "user");
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT id, name FROM users WHERE tenant_id = $1 AND "
                             "(id = $2 OR name = $2)", t->id, ref ? ref : "", NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                api_reply_not_found(req, "user", ref);
                return false;
        }
        snprintf(id, RP_DB_ID_LEN + 1, "%s", rp_db_result_get(res, 0, 0));
        snprintf(name, API_NAME_MAX + 1, "%s", rp_db_result_get(res, 0, 1));
        return true;
}

typedef struct user_remove {
        api_actor actor;
        const char *tenant_id, *id, *name;
} user_remove;

static int user_remove_tx(rp_db *db, void *userdata, rp_error *err) {
        const user_remove *u = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "DELETE FROM tokens WHERE user_id = $1", u->id, NULL);
        if (r < 0)
                return r;
        uint64_t tokens = res->changes;
        r = rp_db_queryv(db, NULL, err, "DELETE FROM users WHERE id = $1 AND tenant_id = $2", u->id, u->tenant_id,
                         NULL);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:I}", "id", u->id, "name", u->name,
                                                           "tokens_removed", (json_int_t) tokens);
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return api_audit(db, &u->actor, u->tenant_id, "user.remove", u->name, detail, err);
}

void rp_api_user_remove(rp_req *req) {
        api_tenant t;
        char id[RP_DB_ID_LEN + 1], name[API_NAME_MAX + 1];
        if (!api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t) || !find_user(req, &t, id, name))
                return;
        if (streq(id, rp_req_principal(req)->user_id)) {
                rp_reply_error(req, 409, "conflict", "you cannot remove your own user; another Administrator can");
                return;
        }
        user_remove u = { .tenant_id = t.id, .id = id, .name = name };
        api_actor_of(req, &u.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), user_remove_tx, &u, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_empty(req, 204);
}

/* --- tokens --- */

typedef struct token_create {
        api_actor actor;
        const char *audit_tenant;       /* the user's tenant, NULL for operators */
        const char *id, *user_id, *user_name, *hash, *label;
        int64_t expires_at;             /* 0: never */
} token_create;

static int token_insert(rp_db *db, const token_create *c, rp_error *err) {
        char now[RP_DB_INT_STRLEN], exp[RP_DB_INT_STRLEN];
        return rp_db_queryv(db, NULL, err, "INSERT INTO tokens (id, user_id, hash, label, created_at, expires_at) "
                            "VALUES ($1, $2, $3, $4, $5, $6)", c->id, c->user_id, c->hash, c->label,
                            rp_db_int(api_now(), now), c->expires_at ? rp_db_int(c->expires_at, exp) : RP_DB_NULL,
                            NULL);
}

static int token_create_tx(rp_db *db, void *userdata, rp_error *err) {
        const token_create *c = userdata;
        int r = token_insert(db, c, err);
        if (r < 0)
                return r;
        _cleanup_(json_decrefp) json_t *detail = json_pack("{s:s, s:s, s:s, s:o}", "id", c->id, "user", c->user_name,
                                                           "label", c->label, "expires_at",
                                                           c->expires_at ? json_integer(c->expires_at) : json_null());
        if (!detail)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char target[RP_DB_ID_LEN + 8];
        snprintf(target, sizeof target, "token %s", c->id);
        return api_audit(db, &c->actor, c->audit_tenant, "token.create", target, detail, err);
}

/* POST /v1/tokens (the caller's own) and POST .../users/{user}/tokens. */
void rp_api_token_create(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        api_tenant t;
        char user_id[RP_DB_ID_LEN + 1], user_name[API_NAME_MAX + 1];
        bool in_tenant = rp_req_param(req, "tenant") != NULL;
        if (in_tenant) {
                if (!api_tenant_get(req, API_ROLE_READER, &t) || !find_user(req, &t, user_id, user_name))
                        return;
                /* Anyone may make their own; another's needs an Administrator. */
                if (!streq(user_id, p->user_id) && !api_require_role(req, API_ROLE_ADMINISTRATOR))
                        return;
        } else {
                if (!api_require_role(req, API_ROLE_READER))
                        return;
                snprintf(user_id, sizeof user_id, "%s", p->user_id);
                snprintf(user_name, sizeof user_name, "%s", p->user_name);
        }
        static const char *const fields[] = { "label", "expires_in_days", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body_optional(req, fields);
        token_create c = { .user_id = user_id, .user_name = user_name };
        int64_t days = 0;
        bool present;
        if (!body || !api_body_string(req, body, "label", false, API_TEXT, API_LABEL_MAX, &c.label) ||
            !api_body_int(req, body, "expires_in_days", 1, TOKEN_DAYS_MAX, &days, &present))
                return;
        if (!c.label)
                c.label = "";
        c.expires_at = present ? api_now() + days * 86400 : 0;
        c.audit_tenant = in_tenant ? t.id : (p->tenant_id[0] ? p->tenant_id : NULL);

        char id[RP_DB_ID_LEN + 1], token[API_TOKEN_LEN + 1], hash[API_TOKEN_HASH_LEN + 1];
        if (rp_db_new_id(id) < 0 || api_token_new(token, hash) < 0) {
                rp_reply_error(req, 500, "internal", "cannot make a token");
                return;
        }
        c.id = id;
        c.hash = hash;
        api_actor_of(req, &c.actor);
        rp_error err = {};
        int r = rp_db_transact(rp_req_db(req), token_create_tx, &c, &err);
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        if (r >= 0)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " TOKEN_COLUMNS " FROM " TOKEN_FROM
                                 " WHERE k.id = $1", id, NULL);
        if (r < 0) {
                OPENSSL_cleanse(token, sizeof token);
                api_reply_store(req, r, &err);
                return;
        }
        json_t *j = res->n_rows == 1 ? api_row_json(res, 0, token_fields) : NULL;
        if (j && json_object_set_new(j, "token", json_string(token)) < 0) {
                json_decref(j);
                j = NULL;
        }
        OPENSSL_cleanse(token, sizeof token);
        rp_reply_json(req, 201, j);
}

/* GET /v1/tokens (the caller's own) and GET /v1/tenants/{tenant}/tokens
 * (Administrator: every user's of the tenant). */
void rp_api_token_list(rp_req *req) {
        int64_t limit;
        api_tenant t;
        bool in_tenant = rp_req_param(req, "tenant") != NULL;
        if (in_tenant ? !api_tenant_get(req, API_ROLE_ADMINISTRATOR, &t) : !api_require_role(req, API_ROLE_READER))
                return;
        if (!api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (in_tenant)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " TOKEN_COLUMNS " FROM " TOKEN_FROM
                                 " WHERE u.tenant_id = $1 ORDER BY k.created_at, k.id LIMIT $2", t.id,
                                 rp_db_int(limit, lim), NULL);
        else
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " TOKEN_COLUMNS " FROM " TOKEN_FROM
                                 " WHERE k.user_id = $1 ORDER BY k.created_at, k.id LIMIT $2",
                                 rp_req_principal(req)->user_id, rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("tokens", res, token_fields));
}

typedef struct token_revoke {
        api_actor actor;
        const char *id, *tenant_id;
        bool revoked;           /* out: it was not revoked before */
} token_revoke;

static int token_revoke_tx(rp_db *db, void *userdata, rp_error *err) {
        token_revoke *v = userdata;
        char now[RP_DB_INT_STRLEN];
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        v->revoked = false;
        int r = rp_db_queryv(db, &res, err, "UPDATE tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
                             rp_db_int(api_now(), now), v->id, NULL);
        if (r < 0 || res->changes == 0)
                return r;
        v->revoked = true;
        char target[RP_DB_ID_LEN + 8];
        snprintf(target, sizeof target, "token %s", v->id);
        return api_audit(db, &v->actor, v->tenant_id, "token.revoke", target, NULL, err);
}

void rp_api_token_revoke(rp_req *req) {
        if (!api_require_role(req, API_ROLE_READER))
                return;
        const rp_principal *p = rp_req_principal(req);
        const char *ref = rp_req_param(req, "token");
        char id[RP_DB_ID_LEN + 1];
        if (!ref || !api_hex_normalize(ref, RP_DB_ID_LEN, id)) {
                api_reply_not_found(req, "token", ref);
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT u.id, u.tenant_id FROM " TOKEN_FROM
                             " WHERE k.id = $1", id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        /* Own tokens; an Administrator any of the tenant's; an operator any. */
        api_role role = api_caller_role(req);
        const char *owner = rp_db_result_get(res, 0, 0), *tenant = rp_db_result_get(res, 0, 1);
        bool allowed = res->n_rows == 1 &&
                       (role == API_ROLE_OPERATOR || streq(owner, p->user_id) ||
                        (role == API_ROLE_ADMINISTRATOR && tenant && streq(tenant, p->tenant_id)));
        if (!allowed) {
                api_reply_not_found(req, "token", ref);
                return;
        }
        token_revoke v = { .id = id, .tenant_id = tenant };
        api_actor_of(req, &v.actor);
        r = rp_db_transact(rp_req_db(req), token_revoke_tx, &v, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_empty(req, 204);
}

/* --- the first operator --- */

typedef struct bootstrap {
        const char *user_id;
        token_create token;
        bool created;
} bootstrap;

static int bootstrap_tx(rp_db *db, void *userdata, rp_error *err) {
        bootstrap *b = userdata;
        b->created = false;
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "SELECT id FROM users WHERE role = 'Operator' LIMIT 1", NULL);
        if (r < 0 || res->n_rows > 0)
                return r;
        char now[RP_DB_INT_STRLEN];
        r = rp_db_queryv(db, NULL, err, "INSERT INTO users (id, tenant_id, scope, name, role, created_at) "
                         "VALUES ($1, NULL, '', $2, 'Operator', $3)", b->user_id, ADMIN_NAME,
                         rp_db_int(api_now(), now), NULL);
        if (r >= 0)
                r = token_insert(db, &b->token, err);
        if (r >= 0)
                r = api_audit(db, &b->token.actor, NULL, "operator.bootstrap", ADMIN_NAME, NULL, err);
        if (r >= 0)
                b->created = true;
        return r;
}

int rp_api_bootstrap(rp_db *db, const char *data_dir, bool *ret_created, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", data_dir, ADMIN_TOKEN_FILE) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char user_id[RP_DB_ID_LEN + 1], token_id[RP_DB_ID_LEN + 1];
        char token[API_TOKEN_LEN + 2], hash[API_TOKEN_HASH_LEN + 1];
        int r = rp_db_new_id(user_id);
        if (r >= 0)
                r = rp_db_new_id(token_id);
        if (r >= 0)
                r = api_token_new(token, hash);
        if (r < 0)
                return rp_error_set(err, r, "cannot make the operator's token");
        strcat(token, "\n");
        bootstrap b = {
                .user_id = user_id,
                .token = { .id = token_id, .user_id = user_id, .user_name = ADMIN_NAME, .hash = hash,
                           .label = "made at the first start" },
        };
        snprintf(b.token.actor.actor, sizeof b.token.actor.actor, "rampart-server (first start)");

        /* The file is written beside its place before the transaction and
         * renamed over it once the operator is committed: no operator
         * without its token file unless that rename fails. */
        rp_atomic_file af = RP_ATOMIC_FILE_INIT;
        r = rp_atomic_file_open(&af, path, 0600, err);
        if (r >= 0)
                r = rp_atomic_file_write(&af, token, strlen(token), err);
        OPENSSL_cleanse(token, sizeof token);
        if (r < 0) {
                rp_atomic_file_abort(&af);
                return r;
        }
        r = rp_db_transact(db, bootstrap_tx, &b, err);
        if (r == -EEXIST) {
                /* Another server made the operator between our look and our
                 * insert (PostgreSQL, several servers starting together). */
                b.created = false;
                r = 0;
        }
        if (r < 0 || !b.created) {
                rp_atomic_file_abort(&af);
                if (r < 0)
                        return rp_error_prefix(err, r, "creating the first operator: ");
                struct stat st;
                char q[512];
                if (stat(path, &st) < 0)
                        rp_log("event=bootstrap operator=exists token_file=missing path=%s hint=\"the operator's "
                               "token is not in this data directory (another server made it, or it was removed); "
                               "see docs/api.md, 'Lost operator token'\"", rp_log_quote(path, q, sizeof q));
                *ret_created = false;
                return 0;
        }
        r = rp_atomic_file_commit(&af, err);
        if (r < 0)
                return rp_error_prefix(err, r, "the operator 'admin' was created, but its token could not be "
                                       "saved (see docs/api.md, 'Lost operator token'): ");
        char q[512];
        rp_log("event=bootstrap operator=%s token_file=%s", ADMIN_NAME, rp_log_quote(path, q, sizeof q));
        *ret_created = true;
        return 0;
}
