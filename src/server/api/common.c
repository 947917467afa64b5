/* SPDX-License-Identifier: Apache-2.0 */
/* What the API handlers share (common.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "api/common.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"

static const char *const role_names[] = {
        [API_ROLE_READER] = "Reader",
        [API_ROLE_CONTRIBUTOR] = "Contributor",
        [API_ROLE_ADMINISTRATOR] = "Administrator",
        [API_ROLE_OPERATOR] = "Operator",
};

api_role api_role_from_name(const char *name) {
        for (size_t i = API_ROLE_READER; name && i < ELEMENTSOF(role_names); i++)
                if (streq(name, role_names[i]))
                        return (api_role) i;
        return API_ROLE_NONE;
}

const char *api_role_name(api_role role) {
        return role > API_ROLE_NONE && (size_t) role < ELEMENTSOF(role_names) ? role_names[role] : "none";
}

api_role api_caller_role(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        if (p->kind != RP_PRINCIPAL_USER)
                return API_ROLE_NONE;
        api_role role = api_role_from_name(p->role);
        /* An operator has no tenant, and only an operator has none. */
        if ((role == API_ROLE_OPERATOR) != (p->tenant_id[0] == '\0'))
                return API_ROLE_NONE;
        return role;
}

bool api_require_role(rp_req *req, api_role min) {
        api_role have = api_caller_role(req);
        if (have >= min)
                return true;
        rp_reply_error(req, 403, "forbidden", "this needs the %s role or higher; your token's user is %s",
                       api_role_name(min), have == API_ROLE_NONE ? "not a user" : api_role_name(have));
        return false;
}

int64_t api_now(void) {
        return (int64_t) time(NULL);
}

int64_t api_now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t) ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Copies a cell known to fit (the store's own values), truncating if not. */
static void copy_cell(char *out, size_t size, const char *cell) {
        snprintf(out, size, "%s", cell ? cell : "");
}

int api_tenant_find(rp_db *db, const char *name_or_id, api_tenant *ret, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char id[RP_DB_ID_LEN + 1];
        int r;
        if (api_hex_normalize(name_or_id, RP_DB_ID_LEN, id))
                r = rp_db_queryv(db, &res, err, "SELECT id, name, allow_development, created_at FROM tenants "
                                 "WHERE id = $1", id, NULL);
        else
                r = rp_db_queryv(db, &res, err, "SELECT id, name, allow_development, created_at FROM tenants "
                                 "WHERE name = $1", name_or_id, NULL);
        if (r < 0)
                return r;
        if (res->n_rows == 0)
                return -ENOENT;
        api_tenant t = {};
        copy_cell(t.id, sizeof t.id, rp_db_result_get(res, 0, 0));
        copy_cell(t.name, sizeof t.name, rp_db_result_get(res, 0, 1));
        t.allow_development = rp_db_result_int(res, 0, 2, 0) != 0;
        t.created_at = rp_db_result_int(res, 0, 3, 0);
        *ret = t;
        return 0;
}

int api_tenant_name(rp_db *db, const char *tenant_id, char ret[API_NAME_MAX + 1], rp_error *err) {
        if (!tenant_id || !tenant_id[0]) {
                ret[0] = '\0';
                return 0;
        }
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "SELECT name FROM tenants WHERE id = $1", tenant_id, NULL);
        if (r < 0)
                return r;
        copy_cell(ret, API_NAME_MAX + 1, rp_db_result_get(res, 0, 0));
        return 0;
}

bool api_tenant_get(rp_req *req, api_role min, api_tenant *ret) {
        const char *name = rp_req_param(req, "tenant");
        api_role role = api_caller_role(req);
        if (!name || role == API_ROLE_NONE) {
                rp_reply_error(req, 403, "forbidden", "tenant routes need a user's API token");
                return false;
        }
        rp_error err = {};
        api_tenant t;
        int r = api_tenant_find(rp_req_db(req), name, &t, &err);
        if (r == -ENOENT || (r >= 0 && role != API_ROLE_OPERATOR && !streq(t.id, rp_req_principal(req)->tenant_id))) {
                api_reply_not_found(req, "tenant", name);
                return false;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (!api_require_role(req, min))
                return false;
        *ret = t;
        return true;
}

void api_actor_of(rp_req *req, api_actor *ret) {
        const rp_principal *p = rp_req_principal(req);
        *ret = (api_actor) {};
        if (p->kind == RP_PRINCIPAL_USER)
                snprintf(ret->actor, sizeof ret->actor, "%s (token %s)", p->user_name, p->token_id);
        else if (p->kind == RP_PRINCIPAL_DEVICE)
                snprintf(ret->actor, sizeof ret->actor, "device %s", p->device_id);
        else
                snprintf(ret->actor, sizeof ret->actor, "anonymous");
        const char *remote = rp_req_remote(req);
        snprintf(ret->remote, sizeof ret->remote, "%s", remote ? remote : "");
}

int api_audit(rp_db *db, const api_actor *a, const char *tenant_id, const char *action, const char *target,
              const json_t *detail, rp_error *err) {
        char id[RP_DB_ID_LEN + 1], at[RP_DB_INT_STRLEN];
        int r = rp_db_new_id(id);
        if (r < 0)
                return rp_error_set(err, r, "cannot make an audit record's id");
        _cleanup_free_ char *text = NULL;
        if (detail) {
                text = json_dumps(detail, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
                if (!text)
                        return rp_error_set(err, -ENOMEM, "out of memory");
        }
        return rp_db_queryv(db, NULL, err,
                            "INSERT INTO audit (id, tenant_id, at, actor, action, target, detail, remote) "
                            "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                            id, tenant_id ? tenant_id : RP_DB_NULL, rp_db_int(api_now_us(), at), a->actor, action,
                            target ? target : RP_DB_NULL, text ? text : RP_DB_NULL, a->remote, NULL);
}

/* --- checks --- */

bool api_is_hex(const char *s, size_t len) {
        if (!s || strlen(s) != len)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') || (s[i] >= 'A' && s[i] <= 'F')))
                        return false;
        return true;
}

bool api_hex_normalize(const char *s, size_t len, char *out) {
        if (!api_is_hex(s, len))
                return false;
        for (size_t i = 0; i < len; i++)
                out[i] = (char) (s[i] >= 'A' && s[i] <= 'F' ? s[i] - 'A' + 'a' : s[i]);
        out[len] = '\0';
        return true;
}

bool api_is_id(const char *s) {
        if (!api_is_hex(s, RP_DB_ID_LEN))
                return false;
        for (const char *p = s; *p; p++)
                if (*p >= 'A' && *p <= 'F')
                        return false;
        return true;
}

bool api_name_is_valid(const char *s, const char **ret_why) {
        size_t n = strlen(s);
        const char *why = NULL;
        if (n == 0)
                why = "is empty";
        else if (n > API_NAME_MAX)
                why = "is longer than 128 bytes";
        else if (!rp_str_is_printable(s, n))
                why = "is not printable UTF-8 (control characters, bidirectional controls and malformed UTF-8 "
                      "are refused)";
        else if (strchr(s, '/'))
                why = "contains '/' (names appear in paths and in \"Product/Group\" references)";
        else if (api_is_hex(s, RP_DB_ID_LEN))
                why = "is 32 hex digits, which is the form of an id";
        if (why && ret_why)
                *ret_why = why;
        return !why;
}

static int b64_value(unsigned char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

int api_base64_decode(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_len) {
        /* Padding: none, or exactly what makes the length a multiple of 4. */
        size_t pad = 0;
        while (pad < 2 && len > pad && s[len - 1 - pad] == '=')
                pad++;
        if (pad && len % 4 != 0)
                return -EINVAL;
        size_t n = len - pad;
        if (n % 4 == 1)
                return -EINVAL;
        size_t out_len = n / 4 * 3 + (n % 4 ? n % 4 - 1 : 0);
        if (out_len > max)
                return -EFBIG;
        _cleanup_free_ uint8_t *out = malloc(out_len ? out_len : 1);
        if (!out)
                return -ENOMEM;
        uint32_t acc = 0;
        size_t bits = 0, o = 0;
        for (size_t i = 0; i < n; i++) {
                int v = b64_value((unsigned char) s[i]);
                if (v < 0)
                        return -EINVAL;
                acc = (acc << 6) | (uint32_t) v;
                bits += 6;
                if (bits >= 8) {
                        bits -= 8;
                        out[o++] = (uint8_t) (acc >> bits);
                        acc &= (1u << bits) - 1;
                }
        }
        /* The bits left over must be zero (one encoding per byte string). */
        if (acc != 0)
                return -EINVAL;
        RP_INVARIANT(o == out_len);
        *ret = TAKE_PTR(out);
        *ret_len = out_len;
        return 0;
}

bool api_query_limit(rp_req *req, int64_t *ret) {
        const char *s = rp_req_query(req, "limit");
        if (!s) {
                *ret = API_LIST_DEFAULT;
                return true;
        }
        int64_t v = 0;
        bool ok = *s != '\0' && strlen(s) <= 4;
        for (const char *p = s; ok && *p; p++) {
                ok = *p >= '0' && *p <= '9';
                v = v * 10 + (*p - '0');
        }
        if (!ok || v < 1 || v > API_LIST_MAX) {
                rp_reply_error(req, 400, "bad_request", "limit: expected an integer from 1 to %d", API_LIST_MAX);
                return false;
        }
        *ret = v;
        return true;
}

/* --- API tokens --- */

bool api_token_is_valid(const char *token) {
        if (strncmp(token, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX)) != 0)
                return false;
        const char *hex = token + strlen(API_TOKEN_PREFIX);
        /* Lowercase only: one text per token. */
        size_t n = API_TOKEN_LEN - strlen(API_TOKEN_PREFIX);
        return strlen(hex) == n && strspn(hex, "0123456789abcdef") == n;
}

int api_token_hash(const char *token, char ret[API_TOKEN_HASH_LEN + 1]) {
        uint8_t d[RP_SHA256_LEN];
        int r = rp_sha256(token, strlen(token), d);
        if (r < 0)
                return r;
        rp_hex_encode_buf(d, sizeof d, ret);
        return 0;
}

int api_token_new(char ret[API_TOKEN_LEN + 1], char ret_hash[API_TOKEN_HASH_LEN + 1]) {
        uint8_t secret[32];
        if (RAND_bytes(secret, sizeof secret) != 1)
                return -EIO;
        char token[API_TOKEN_LEN + 1];
        memcpy(token, API_TOKEN_PREFIX, strlen(API_TOKEN_PREFIX));
        rp_hex_encode_buf(secret, sizeof secret, token + strlen(API_TOKEN_PREFIX));
        OPENSSL_cleanse(secret, sizeof secret);
        int r = api_token_hash(token, ret_hash);
        if (r >= 0)
                memcpy(ret, token, sizeof token);
        OPENSSL_cleanse(token, sizeof token);
        return r;
}

/* --- JSON bodies --- */

json_t *api_body(rp_req *req, const char *const *allowed) {
        json_t *body = rp_req_json(req);
        if (!body)
                return NULL;
        const char *key;
        json_t *value;
        json_object_foreach(body, key, value) {
                bool known = false;
                for (size_t i = 0; allowed[i] && !known; i++)
                        known = streq(key, allowed[i]);
                if (!known) {
                        char q[160];
                        rp_reply_error(req, 400, "bad_request", "unknown field %s (expected only the fields "
                                       "docs/api.md lists for %s %s)", rp_log_quote(key, q, sizeof q),
                                       rp_req_method(req), rp_req_route(req) ? rp_req_route(req)->path : "");
                        json_decref(body);
                        return NULL;
                }
        }
        return body;
}

static bool pem_text(const char *s, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 0x20 && s[i] < 0x7f) || s[i] == '\n' || s[i] == '\r'))
                        return false;
        return true;
}

json_t *api_body_optional(rp_req *req, const char *const *allowed) {
        const uint8_t *buf;
        size_t len;
        rp_req_body(req, &buf, &len);
        if (len == 0) {
                json_t *empty = json_object();
                if (!empty)
                        rp_reply_error(req, 500, "internal", "out of memory");
                return empty;
        }
        return api_body(req, allowed);
}

bool api_body_string(rp_req *req, json_t *body, const char *field, bool required, api_text_kind kind, size_t max,
                     const char **ret) {
        json_t *v = json_object_get(body, field);
        if (!v || (json_is_null(v) && !required)) {
                if (required) {
                        rp_reply_error(req, 400, "bad_request", "%s: missing (a string is required)", field);
                        return false;
                }
                *ret = NULL;
                return true;
        }
        if (!json_is_string(v)) {
                rp_reply_error(req, 400, "bad_request", "%s: expected a string", field);
                return false;
        }
        const char *s = json_string_value(v);
        size_t n = json_string_length(v);
        const char *why = NULL;
        if (n != strlen(s))
                why = "contains a NUL character";
        else if (n > max)
                why = "is too long";
        else if (kind == API_TEXT_NAME)
                (void) api_name_is_valid(s, &why);
        else if (kind == API_TEXT_PEM)
                why = n == 0 ? "is empty"
                      : !pem_text(s, n) ? "is not PEM text (printable ASCII and line breaks)" : NULL;
        else if (kind == API_TEXT_NONEMPTY && n == 0)
                why = "is empty";
        else if (!rp_str_is_printable(s, n))
                why = "is not printable UTF-8 (control characters, bidirectional controls and malformed UTF-8 are "
                      "refused)";
        if (why) {
                rp_reply_error(req, 400, "bad_request", "%s: %s (at most %zu bytes)", field, why, max);
                return false;
        }
        *ret = s;
        return true;
}

bool api_body_bool(rp_req *req, json_t *body, const char *field, bool *ret, bool *ret_present) {
        json_t *v = json_object_get(body, field);
        *ret_present = false;
        if (!v)
                return true;
        if (!json_is_boolean(v)) {
                rp_reply_error(req, 400, "bad_request", "%s: expected true or false", field);
                return false;
        }
        *ret = json_is_true(v);
        *ret_present = true;
        return true;
}

bool api_body_int(rp_req *req, json_t *body, const char *field, int64_t min, int64_t max, int64_t *ret,
                  bool *ret_present) {
        json_t *v = json_object_get(body, field);
        *ret_present = false;
        if (!v || json_is_null(v))
                return true;
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max) {
                rp_reply_error(req, 400, "bad_request", "%s: expected an integer from %lld to %lld", field,
                               (long long) min, (long long) max);
                return false;
        }
        *ret = json_integer_value(v);
        *ret_present = true;
        return true;
}

/* --- answers --- */

void api_reply_store(rp_req *req, int r, const rp_error *err) {
        rp_reply_store_error(req, r, err);
}

void api_reply_not_found(rp_req *req, const char *what, const char *name) {
        char q[160];
        rp_reply_error(req, 404, "not_found", "no %s %s here", what, rp_log_quote(name ? name : "", q, sizeof q));
}

json_t *api_json_text(const char *cell) {
        return cell ? json_string(cell) : json_null();
}

json_t *api_json_int(const char *cell) {
        if (!cell)
                return json_null();
        char *end;
        errno = 0;
        long long v = strtoll(cell, &end, 10);
        if (errno || end == cell || *end)
                return json_null();
        return json_integer(v);
}

json_t *api_json_bool(const char *cell) {
        return json_boolean(cell && !streq(cell, "0"));
}

json_t *api_json_list(const char *key, json_t *array) {
        if (!array)
                return NULL;
        return json_pack("{s:o}", key, array);
}

json_t *api_rows_json(const char *key, const rp_db_result *res, json_t *(*row_json)(const rp_db_result *, size_t)) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < res->n_rows; i++)
                if (json_array_append_new(arr, row_json(res, i)) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        return api_json_list(key, arr);
}

json_t *api_row_json(const rp_db_result *res, size_t row, const api_field *fields) {
        json_t *j = json_object();
        for (size_t i = 0; j && fields[i].name; i++) {
                const char *cell = rp_db_result_get(res, row, i);
                json_t *v = fields[i].kind == API_FIELD_INT    ? api_json_int(cell)
                            : fields[i].kind == API_FIELD_BOOL ? api_json_bool(cell)
                                                               : api_json_text(cell);
                if (json_object_set_new(j, fields[i].name, v) < 0) {
                        json_decref(j);
                        j = NULL;
                }
        }
        return j;
}

json_t *api_rows_json_fields(const char *key, const rp_db_result *res, const api_field *fields) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < res->n_rows; i++)
                if (json_array_append_new(arr, api_row_json(res, i, fields)) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        return api_json_list(key, arr);
}

static pthread_mutex_t thread_slots_lock = PTHREAD_MUTEX_INITIALIZER;

void *api_thread_state(api_thread_slot *slot) {
        if (!atomic_load_explicit(&slot->ready, memory_order_acquire)) {
                pthread_mutex_lock(&thread_slots_lock);
                bool made = atomic_load_explicit(&slot->ready, memory_order_relaxed) ||
                            pthread_key_create(&slot->key, slot->destroy) == 0;
                if (made)
                        atomic_store_explicit(&slot->ready, true, memory_order_release);
                pthread_mutex_unlock(&thread_slots_lock);
                if (!made)
                        return NULL;
        }
        void *state = pthread_getspecific(slot->key);
        if (state)
                return state;
        state = calloc(1, slot->size);
        if (state && pthread_setspecific(slot->key, state) != 0) {
                free(state);
                state = NULL;
        }
        return state;
}
