/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-server's HTTP layer (http.c): libevent evhttp over
 * bufferevent_openssl, one event loop and one store connection per worker
 * thread. It enforces the limits (body and header size, connections, rate,
 * idle and slow-request timeouts), matches a route from the table in
 * api/routes.c, authenticates the caller as the route says (through
 * api/auth.c), calls the handler, and logs one line and records metrics per
 * request.
 *
 * A handler reads the request through rp_req_*, does its work (store calls
 * run on the worker's own connection, bounded), and answers exactly once
 * with one of rp_reply_*. Errors are JSON:
 *     {"error": {"code": "not_found", "message": "no tenant named 'x'"}} */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "store/db.h"

typedef struct rp_req rp_req;
typedef struct rp_server rp_server;
typedef struct rp_blob_reader rp_blob_reader;

/* Who the route requires. */
typedef enum rp_auth {
        RP_AUTH_NONE,           /* anyone (healthz, metrics, attestation) */
        RP_AUTH_TOKEN,          /* Authorization: Bearer <API token> */
        RP_AUTH_DEVICE,         /* TLS client certificate from a tenant CA, valid now */
} rp_auth;

typedef struct rp_route {
        const char *method;     /* "GET", "POST", "PATCH", "DELETE" */
        const char *path;       /* "/v1/tenants/{tenant}/devices/{device}" */
        rp_auth auth;
        void (*handle)(rp_req *req);
        const char *summary;    /* one line, for --print-routes and docs */
} rp_route;

/* The authenticated caller, filled in before the handler runs. */
#define RP_NAME_MAX 128
typedef enum rp_principal_kind {
        RP_PRINCIPAL_NONE,
        RP_PRINCIPAL_USER,      /* an API token's user */
        RP_PRINCIPAL_DEVICE,    /* a device with a valid certificate */
} rp_principal_kind;

typedef struct rp_principal {
        rp_principal_kind kind;
        char tenant_id[RP_DB_ID_LEN + 1];       /* "" for operators */
        /* users */
        char user_id[RP_DB_ID_LEN + 1];
        char user_name[RP_NAME_MAX + 1];
        char role[16];                          /* Operator, Administrator, Contributor, Reader */
        char token_id[RP_DB_ID_LEN + 1];
        /* devices */
        char device_id[64 + 1];
        int64_t cert_expires_at;
        /* What the device API's handlers need of the device's state, read
         * by the query that authenticates it (api/auth.c): its group
         * ("" for none) and that group's update policy and current
         * deployment ("" for none), and the tenant counter's values the
         * document version is made of (0 for none). */
        char group_id[RP_DB_ID_LEN + 1];
        char update_policy[32];
        char deployment_id[RP_DB_ID_LEN + 1];
        int64_t group_seq, policy_seq, deployment_seq;
} rp_principal;

/* --- the request --- */
const char *rp_req_method(const rp_req *req);
const char *rp_req_path(const rp_req *req);            /* without the query */
const rp_route *rp_req_route(const rp_req *req);
/* A path parameter ("tenant" for {tenant}), percent-decoded; NULL if the
 * route has none of that name. Never empty, never contains '/' or NUL. */
const char *rp_req_param(const rp_req *req, const char *name);
/* A query-string value, decoded; NULL if absent. */
const char *rp_req_query(const rp_req *req, const char *name);
const char *rp_req_header(const rp_req *req, const char *name);
/* The whole body (at most the configured limit; larger requests never reach
 * a handler). */
void rp_req_body(const rp_req *req, const uint8_t **ret, size_t *ret_len);
/* The body as a JSON object, or NULL after replying 400 "bad_json" (not an
 * object, bad syntax with line and column, not UTF-8, empty). The caller
 * owns the result. */
json_t *rp_req_json(rp_req *req);
/* "127.0.0.1:51234" or "[::1]:51234". */
const char *rp_req_remote(const rp_req *req);
/* The connection's TLS session (for the peer's certificate chain). */
SSL *rp_req_ssl(const rp_req *req);
rp_db *rp_req_db(const rp_req *req);
rp_server *rp_req_server(const rp_req *req);
rp_principal *rp_req_principal(rp_req *req);
/* The request's id (16 hex digits), also in its log line and in the
 * X-Request-Id response header. */
const char *rp_req_id(const rp_req *req);

/* --- the answer (exactly one per request) --- */
/* Sends j (dropping the reference; NULL means out of memory: 500). */
void rp_reply_json(rp_req *req, int status, json_t *j);
/* {"error": {"code": code, "message": ...}}; code is a short snake_case
 * word clients can switch on. */
void rp_reply_error(rp_req *req, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
void rp_reply_bytes(rp_req *req, int status, const char *content_type, const void *buf, size_t len);
void rp_reply_empty(rp_req *req, int status);           /* 204 and the like */
/* Answers with the bytes of reader (taken: closed when the answer is done
 * or the connection ends), content_type, "Accept-Ranges: bytes" and etag
 * (a quoted entity tag, "\"...\"", or NULL), honouring the request's
 * conditions (RFC 9110): If-None-Match listing etag (or "*") gives 304;
 * one byte range (Range: bytes=A-B, A- or -N) gives 206 with
 * Content-Range, unless If-Range names another entity tag (or a date: there
 * is no Last-Modified), and 416 with "Content-Range: bytes * /SIZE" when
 * it starts past the end; several ranges or a malformed Range are ignored
 * (200, the whole). HEAD gets the headers alone. Content-Length is always
 * sent (no chunked encoding). The bytes go out a piece at a time as the
 * connection drains, so a large blob is never held in memory; the request
 * deadline does not run meanwhile, but a client that reads nothing for the
 * idle timeout is dropped. Over rp_http_dispatch_raw the selected bytes
 * become the body (up to RP_HTTP_RAW_BLOB_MAX). */
void rp_reply_blob(rp_req *req, const char *content_type, rp_blob_reader *reader, const char *etag);
#define RP_HTTP_RAW_BLOB_MAX (16 * 1024 * 1024)
/* For a failed store call r (with err): 409 "conflict" for -EEXIST, 503
 * "store_unavailable" for -ENOTCONN/-EBUSY, 500 "internal" otherwise. The
 * store's message is logged, never sent. */
void rp_reply_store_error(rp_req *req, int r, const rp_error *err);
/* Adds a response header (before the reply). */
void rp_reply_header(rp_req *req, const char *name, const char *value);

/* One structured line on stderr: "rampart-server: event=NAME key=value ...".
 * Values a client controls go through rp_log_quote. Thread-safe (one write). */
void rp_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s as a double-quoted string with '"', '\\', controls and non-ASCII
 * escaped, truncated to fit size. Returns out. */
const char *rp_log_quote(const char *s, char *out, size_t size);

/* --- without a network (fuzz targets, in-process tests) --- */
/* Runs one request through routing, authentication (authorization: the
 * Authorization header's value, or NULL), the handler and the reply, on db,
 * as rp_http_handle does for a request from the network (no TLS session,
 * remote "local", no rate limit, no log line). uri is the request target
 * ("/v1/tenants?limit=5"). *ret_status and *ret_body (malloc'd,
 * NUL-terminated; "" for none) get the answer. -ENOMEM only. */
int rp_http_dispatch_raw(rp_server *srv, rp_db *db, const char *method, const char *uri,
                         const char *authorization, const uint8_t *body, size_t len, int *ret_status,
                         char **ret_body);
