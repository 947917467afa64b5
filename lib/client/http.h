/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* An HTTPS client for rampart-server's JSON API (docs/api.md), on libcurl.
 * One rp_http talks to one server: its base URL, the one CA file trusted for
 * the server's certificate (no other CA is; verification is never turned
 * off), an optional bearer token and an optional TLS client set-up (mTLS
 * with a key rampart-secmon holds). Its connection is kept and reused
 * between requests. Every answer has a size limit, every request a connect
 * and a total timeout. Not thread-safe: one rp_http per thread.
 *
 * Errors say what to check: a server that does not answer ("is
 * rampart-server running and listening there?"), a certificate that does
 * not verify ("is that file the server's DATA_DIR/tls/ca.pem?"), and the
 * server's own refusals, {"error": {"code", "message"}}, as
 * "server refused: <code>: <message> (HTTP <status>)". */

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>
#include <openssl/ssl.h>

#include "rampart/error.h"

#define RP_HTTP_MAX_RESPONSE_DEFAULT (16u * 1024 * 1024)
#define RP_HTTP_CONNECT_TIMEOUT_DEFAULT 10      /* seconds */
#define RP_HTTP_TIMEOUT_DEFAULT 60              /* seconds, a whole request */
/* Limits on what the caller passes in. */
#define RP_HTTP_URL_MAX 2048
#define RP_HTTP_TOKEN_MAX 1024

typedef struct rp_http rp_http;

/* Sets up TLS client authentication on a connection's SSL_CTX before its
 * handshake (called once per new connection). Returns 0 or a negative
 * errno-style code with err set; the request then fails with that error. */
typedef int (*rp_http_tls_fn)(SSL_CTX *ctx, void *userdata, rp_error *err);

typedef struct rp_http_config {
        const char *server;             /* "https://host:port" (a path prefix is kept) */
        const char *ca_file;            /* PEM: the CA of the server's certificate; required */
        const char *token;              /* "Authorization: Bearer <token>", or NULL */
        rp_http_tls_fn tls_setup;       /* client authentication, or NULL */
        void *tls_userdata;
        size_t max_response;            /* bytes; 0: RP_HTTP_MAX_RESPONSE_DEFAULT */
        unsigned connect_timeout;       /* seconds; 0: RP_HTTP_CONNECT_TIMEOUT_DEFAULT */
        unsigned timeout;               /* seconds; 0: RP_HTTP_TIMEOUT_DEFAULT */
} rp_http_config;

/* What came back: the HTTP status (0 if no answer came) and, for an error
 * answer, the error object's code ("" if it had none). */
#define RP_HTTP_CODE_MAX 64
typedef struct rp_http_status {
        long status;
        char code[RP_HTTP_CODE_MAX];
        unsigned retry_after;   /* seconds a 429 or 503 answer's Retry-After asks to wait; 0 if none */
} rp_http_status;

/* Checks cfg (an https URL without query or fragment; the CA file readable
 * and holding a PEM certificate; a token of printable ASCII without spaces)
 * and makes a client. Connects only when the first request is made. The
 * strings are copied; the token is wiped when the client is freed. */
int rp_http_new(const rp_http_config *cfg, rp_http **ret, rp_error *err);
void rp_http_free(rp_http *h);
static inline void rp_http_freep(rp_http **h) {
        rp_http_free(*h);
}

/* Sends METHOD ("GET", "POST", "PATCH", "DELETE") to the server's URL +
 * path (path starts with '/'; its segments escaped with rp_http_escape),
 * with body as JSON (NULL: no body), and reads the answer.
 *
 * A 2xx answer: *ret_json (if ret_json is non-NULL) gets its JSON value, or
 * NULL when the body is empty (204); a body that is not JSON is -EBADMSG.
 * Any other status is a refusal, returned as a code by status (400 -EINVAL,
 * 401 -EACCES, 403 -EPERM, 404 -ENOENT, 409 -EEXIST, 413 -EFBIG, 429 and 503
 * -EAGAIN, others -EPROTO) with err "server refused: <code>: <message> (HTTP
 * <status>)". Failures to get an answer keep their own codes (-ECONNREFUSED,
 * -ETIMEDOUT, -EKEYREJECTED for a server certificate that does not verify,
 * -EFBIG for an answer over the limit, ...). *ret_status (if non-NULL) is
 * filled in either way. */
int rp_http_json(rp_http *h, const char *method, const char *path, const json_t *body, json_t **ret_json,
                 rp_http_status *ret_status, rp_error *err);

/* The same for an answer that is not JSON (a PEM file): *ret_body gets the
 * body, NUL-terminated, *ret_len its length. Error answers are parsed as
 * rp_http_json does. */
int rp_http_get_raw(rp_http *h, const char *path, char **ret_body, size_t *ret_len, rp_http_status *ret_status,
                    rp_error *err);

/* Any request: METHOD with a body of content_type (NULL: no body; then body
 * and len are ignored) and Accept: accept (NULL: any). On a 2xx answer
 * *ret_body (if ret_body is non-NULL) gets the body, NUL-terminated (not
 * counted in *ret_len). Refusals and failures as rp_http_json. For uploads
 * (application/octet-stream) and documents (application/cose). */
int rp_http_request(rp_http *h, const char *method, const char *path, const char *content_type, const void *body,
                    size_t len, const char *accept, char **ret_body, size_t *ret_len, rp_http_status *ret_status,
                    rp_error *err);
/* s percent-encoded for one path segment or one query value: every byte but
 * A-Z a-z 0-9 - . _ ~ becomes %XX. malloc'd; NULL when out of memory. */
char *rp_http_escape(const char *s);

/* An error answer (status outside 2xx, body of len bytes from server) as
 * rp_http_json reports it: the error code by status, *st the status and the
 * error object's code (a snake_case word of fewer than RP_HTTP_CODE_MAX
 * bytes; "" if there is none or it is not one), err the message. Never
 * succeeds. For rp_http_json and the fuzz target. */
int rp_http_refusal(const char *body, size_t len, long status, const char *server, rp_http_status *st,
                    rp_error *err);

/* The server's base URL as the client uses it (no trailing '/'). */
const char *rp_http_server(const rp_http *h);

/* Resumable downloads (download.c): the body of GET path into a part file,
 * resumed from the bytes the file holds. What a device downloads has a
 * known size (the signed deployment document says it): that is a hard cap,
 * and the transfer is aborted as soon as the server sends more. A server
 * that sends less than low_speed_limit bytes a second for low_speed_time
 * seconds is given up on; there is no limit on the whole transfer's time.
 * The client's connect timeout applies; its answer size limit does not. */
#define RP_HTTP_LOW_SPEED_LIMIT_DEFAULT 1024    /* bytes per second */
#define RP_HTTP_LOW_SPEED_TIME_DEFAULT 60       /* seconds */

/* Called as bytes arrive: have of total are in the file. A non-zero return
 * stops the download (-ECANCELED). */
typedef int (*rp_http_progress_fn)(void *userdata, uint64_t have, uint64_t total);

typedef struct rp_http_download {
        const char *path;               /* on the server, as for rp_http_request */
        const char *file;               /* the part file: made 0600 if missing */
        uint64_t size;                  /* the whole body's exact size: the cap */
        const char *etag;               /* for If-Range when resuming ("\"...\""), or NULL */
        unsigned low_speed_limit;       /* bytes per second; 0: the default */
        unsigned low_speed_time;        /* seconds; 0: the default */
        rp_http_progress_fn progress;   /* or NULL */
        void *userdata;
} rp_http_download;

/* Downloads d->path into d->file until the file holds d->size bytes, and
 * fsyncs it. The request asks for the rest (Range: bytes=N-, with If-Range:
 * etag when given) if the file holds N bytes, 0 < N < size; a file of
 * size bytes is left as it is (no request); a larger one is started over.
 * The answer: 206 must be for bytes N- of a body of size bytes; 200 is the
 * whole body, written from 0 (the server ignored or refused the range); 416
 * starts over from 0 once. Whatever arrives is written, so an interrupted
 * download resumes from there next time; the caller checks the whole
 * file's digest, which decides.
 *
 * Returns 0 when the file holds exactly size bytes; *ret_resumed_from (if
 * non-NULL) gets how many bytes of the file were kept. Failures:
 * -EFBIG "endless data" (more than size bytes, by a Content-Length, a
 * Content-Range or the bytes themselves; nothing beyond size is written),
 * -ETIMEDOUT "slow retrieval" (under the low speed limit), -ECONNRESET
 * (the transfer ended early: what came is kept, run again to resume),
 * -EBADMSG (a 206 for another range, or a body that is not size bytes),
 * -ECANCELED (the progress function stopped it), -EBUSY (another download
 * into the same part file is running: each holds a lock on it), the
 * server's refusals
 * as for rp_http_json, file errors (-errno). *ret_status (if non-NULL) gets
 * the last answer's status. */
int rp_http_download_file(rp_http *h, const rp_http_download *d, uint64_t *ret_resumed_from,
                          rp_http_status *ret_status, rp_error *err);
