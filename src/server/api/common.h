/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the API handlers share (api/common.c): roles and the tenant a
 * request names, the audit record, reading JSON bodies field by field with
 * their limits, and the shapes of the answers. docs/api.md is the contract
 * these implement.
 *
 * Helpers that take an rp_req and return bool reply themselves when they
 * return false (400, 403, 404, 503, ...): the handler then just returns. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>

#include "http.h"
#include "store/db.h"

/* Lists: ?limit=N, default and maximum. */
#define API_LIST_DEFAULT 100
#define API_LIST_MAX 1000
/* Free text (descriptions, labels, release names and versions), bytes. */
#define API_TEXT_MAX 1024
#define API_LABEL_MAX 256
#define API_VERSION_MAX 128
/* A tenant's, product's, group's or user's name: 1 to 128 bytes of
 * printable UTF-8, no '/', and not 32 hex digits (that is an id). */
#define API_NAME_MAX RP_NAME_MAX
#define API_DEVICE_ID_LEN 64
#define API_MEASUREMENT_LEN 64
#define API_ACTOR_MAX (RP_NAME_MAX + RP_DB_ID_LEN + 16)

/* Roles, in order: each may do what the ones before it may. */
typedef enum api_role {
        API_ROLE_NONE,
        API_ROLE_READER,
        API_ROLE_CONTRIBUTOR,
        API_ROLE_ADMINISTRATOR,
        API_ROLE_OPERATOR,
} api_role;

/* "Reader" ... "Operator"; API_ROLE_NONE for anything else. */
api_role api_role_from_name(const char *name);
const char *api_role_name(api_role role);
/* The authenticated user's role (API_ROLE_NONE for devices and nobody). */
api_role api_caller_role(rp_req *req);
/* Replies 403 "forbidden" unless the caller has at least min. */
bool api_require_role(rp_req *req, api_role min);

/* Seconds and microseconds since the epoch. */
int64_t api_now(void);
int64_t api_now_us(void);

/* A tenant, as a handler needs it. */
typedef struct api_tenant {
        char id[RP_DB_ID_LEN + 1];
        char name[API_NAME_MAX + 1];
        bool allow_development;
        int64_t created_at;
} api_tenant;

/* The tenant of the path's {tenant} (name or id), if the caller may see it:
 * operators see every tenant, a tenant's users their own. 404 "not_found"
 * for one that does not exist and for another tenant's (the same answer,
 * so nobody learns which names are taken), then 403 unless the caller has
 * at least min. */
bool api_tenant_get(rp_req *req, api_role min, api_tenant *ret);
/* The same lookup by name or id without the request (store errors in r). */
int api_tenant_find(rp_db *db, const char *name_or_id, api_tenant *ret, rp_error *err);
/* The tenant's name for an id ("" if it has none: NULL tenant_id). */
int api_tenant_name(rp_db *db, const char *tenant_id, char ret[API_NAME_MAX + 1], rp_error *err);

/* Who made a change, for the audit log: "NAME (token ID)" and the
 * client's address, captured before the transaction. */
typedef struct api_actor {
        char actor[API_ACTOR_MAX];
        char remote[64];
} api_actor;
void api_actor_of(rp_req *req, api_actor *ret);
/* Inserts one audit row (tenant_id NULL: a service-level change); detail
 * is a JSON object (borrowed, may be NULL), stored as its compact text.
 * Call it inside the transaction that makes the change. */
int api_audit(rp_db *db, const api_actor *a, const char *tenant_id, const char *action, const char *target,
              const json_t *detail, rp_error *err);

/* --- checks of values from outside --- */
/* 1 to API_NAME_MAX bytes, printable UTF-8, no '/', not 32 hex digits.
 * On failure *ret_why says why ("is empty", ...). */
bool api_name_is_valid(const char *s, const char **ret_why);
/* len hex digits, either case. */
bool api_is_hex(const char *s, size_t len);
/* s is len hex digits: its lowercase form into out (len + 1 bytes). */
bool api_hex_normalize(const char *s, size_t len, char *out);
/* An id made by rp_db_new_id: 32 lowercase hex digits. */
bool api_is_id(const char *s);
/* Standard base64 (RFC 4648 section 4; padding optional, no whitespace)
 * into a malloc'd buffer of at most max bytes: -EINVAL malformed, -EFBIG
 * over max, -ENOMEM. */
int api_base64_decode(const char *s, size_t len, size_t max, uint8_t **ret, size_t *ret_len);
/* ?limit=N: API_LIST_DEFAULT if absent, 1..API_LIST_MAX, else 400. */
bool api_query_limit(rp_req *req, int64_t *ret);

/* --- API tokens: "rpt_" + 64 hex digits; the store keeps SHA-256 of the
 * whole text, in hex --- */
#define API_TOKEN_PREFIX "rpt_"
#define API_TOKEN_LEN (4 + 64)
#define API_TOKEN_HASH_LEN 64
bool api_token_is_valid(const char *token);
int api_token_hash(const char *token, char ret[API_TOKEN_HASH_LEN + 1]);
/* A new token from 32 random bytes, and its hash. */
int api_token_new(char ret[API_TOKEN_LEN + 1], char ret_hash[API_TOKEN_HASH_LEN + 1]);

/* --- JSON bodies --- */
/* The body as an object holding no members but those in allowed (a NULL-
 * terminated list); NULL after replying 400. */
json_t *api_body(rp_req *req, const char *const *allowed);
/* The same for routes whose fields are all optional: no body at all is {}. */
json_t *api_body_optional(rp_req *req, const char *const *allowed);
/* Member field of body as a string: *ret NULL if absent (400 if
 * required), at most max bytes, checked as kind says. */
typedef enum api_text_kind {
        API_TEXT,               /* printable, may be empty */
        API_TEXT_NONEMPTY,      /* printable, at least one byte */
        API_TEXT_NAME,          /* api_name_is_valid */
        API_TEXT_PEM,           /* printable ASCII, line breaks (CR, LF), at least one byte */
} api_text_kind;
bool api_body_string(rp_req *req, json_t *body, const char *field, bool required, api_text_kind kind, size_t max,
                     const char **ret);
/* A boolean member: *ret_present false and *ret untouched if absent. */
bool api_body_bool(rp_req *req, json_t *body, const char *field, bool *ret, bool *ret_present);
/* An integer member in min..max: *ret_present false if absent. */
bool api_body_int(rp_req *req, json_t *body, const char *field, int64_t min, int64_t max, int64_t *ret,
                  bool *ret_present);

/* --- answers --- */
/* A store call failed: logged, 503 or 500 (rp_reply_store_error). */
void api_reply_store(rp_req *req, int r, const rp_error *err);
/* 404 "not_found" with a message naming what was asked for. */
void api_reply_not_found(rp_req *req, const char *what, const char *name);
/* json values from store cells: a string or null; an integer or null; a
 * boolean from "0"/"1". */
json_t *api_json_text(const char *cell);
json_t *api_json_int(const char *cell);
json_t *api_json_bool(const char *cell);
/* {key: array} (drops array's reference; NULL when out of memory). */
json_t *api_json_list(const char *key, json_t *array);
/* {key: [row_json(res, i) for each row]}; NULL when out of memory. */
json_t *api_rows_json(const char *key, const rp_db_result *res, json_t *(*row_json)(const rp_db_result *, size_t));

/* A row as a JSON object from a table of its columns, in SELECT order:
 * {fields[0].name: cell 0 as fields[0].kind, ...}; the table ends with a
 * NULL name. NULL when out of memory. */
typedef enum api_field_kind {
        API_FIELD_TEXT,         /* api_json_text */
        API_FIELD_INT,          /* api_json_int */
        API_FIELD_BOOL,         /* api_json_bool */
} api_field_kind;
typedef struct api_field {
        const char *name;
        api_field_kind kind;
} api_field;
json_t *api_row_json(const rp_db_result *res, size_t row, const api_field *fields);
/* {key: [api_row_json(res, i, fields) for each row]}; NULL when out of memory. */
json_t *api_rows_json_fields(const char *key, const rp_db_result *res, const api_field *fields);

/* --- per-worker state (caches): one object per thread, made zeroed on
 * first use and destroyed by the slot's destroy function (which frees it)
 * when the thread ends. Define a slot with API_THREAD_SLOT. --- */
typedef struct api_thread_slot {
        atomic_bool ready;
        pthread_key_t key;
        size_t size;
        void (*destroy)(void *state);
} api_thread_slot;
#define API_THREAD_SLOT(type, destroy_fn) { .size = sizeof(type), .destroy = (destroy_fn) }
/* The calling thread's object, or NULL when out of memory (the caller then
 * does without). */
void *api_thread_state(api_thread_slot *slot);
