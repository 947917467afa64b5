/* SPDX-License-Identifier: Apache-2.0 */
/* One request, from evhttp's complete request to the answer on the wire
 * (http.h): rate limit, route, path parameters and query, authentication,
 * the handler, the reply, one log line and the metrics. The same steps
 * without a network serve rp_http_dispatch_raw (fuzzing, in-process tests).
 *
 * A handler's answer is collected in the rp_req (status, headers, body) and
 * sent after the handler returns, so a handler that answers twice or not
 * at all is caught here (a bug: logged, and 500 for none). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/rand.h>

#include "api/api.h"
#include "blob/blob.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "log.h"
#include "metrics.h"
#include "worker.h"

#define PARAMS_MAX 4            /* {param} segments in a route */
#define SEGMENTS_MAX 16         /* path segments a route may have */
#define QUERY_MAX 32            /* query parameters */
#define MESSAGE_MAX 1024        /* an error message */
#define STREAM_CHUNK (256 * 1024)       /* bytes of a blob read and queued at a time */
#define ETAG_MAX 128

typedef struct segment {
        const char *p;
        size_t len;
} segment;

struct rp_req {
        rp_server *srv;
        rp_db *db;
        struct evhttp_request *evreq;   /* NULL in rp_http_dispatch_raw */
        const char *authorization;      /* rp_http_dispatch_raw's header */
        const char *method;
        const char *path;
        const rp_route *route;
        struct {
                segment name;           /* in the route's pattern, without braces */
                char *value;            /* decoded */
        } params[PARAMS_MAX];
        size_t n_params;
        struct {
                char *name, *value;
        } query[QUERY_MAX];
        size_t n_query;
        const uint8_t *body;
        size_t body_len;
        char id[17];
        char remote[INET6_ADDRSTRLEN + 16];
        SSL *ssl;
        rp_principal principal;

        /* the answer */
        bool replied;
        int status;
        const char *content_type;
        char *reply_body;
        size_t reply_len;
        struct evkeyvalq reply_headers;
        char error_code[48];            /* for the log line */
        rp_blob_reader *blob;           /* rp_reply_blob: the bytes to send */
        char etag[ETAG_MAX];            /* and their entity tag ("" for none) */
        bool head;                      /* a HEAD request, served as the GET route */
};

/* What the path matched. */
typedef struct match {
        const rp_route *route;          /* path and method; NULL if none */
        const char *pattern;            /* the path's route pattern, if some route has it */
        char allow[64];                 /* the methods the path has: "GET, POST" */
        segment raw_params[PARAMS_MAX];
} match;

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* 16 hex digits, from a per-thread generator seeded from the CSPRNG: ids
 * need to be unique, not secret. */
static void new_request_id(char out[17]) {
        static __thread uint64_t state;
        static __thread bool seeded;
        if (!seeded) {
                if (RAND_bytes((unsigned char *) &state, sizeof state) != 1)
                        state = (uint64_t) time(NULL) ^ (uint64_t) (uintptr_t) &state;
                seeded = true;
        }
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        snprintf(out, 17, "%016llx", (unsigned long long) z);
}

/* --- the request --- */

const char *rp_req_method(const rp_req *req) {
        return req->method;
}

const char *rp_req_path(const rp_req *req) {
        return req->path;
}

const rp_route *rp_req_route(const rp_req *req) {
        return req->route;
}

const char *rp_req_param(const rp_req *req, const char *name) {
        size_t n = strlen(name);
        for (size_t i = 0; i < req->n_params; i++)
                if (req->params[i].name.len == n && memcmp(req->params[i].name.p, name, n) == 0)
                        return req->params[i].value;
        return NULL;
}

const char *rp_req_query(const rp_req *req, const char *name) {
        for (size_t i = 0; i < req->n_query; i++)
                if (streq(req->query[i].name, name))
                        return req->query[i].value;
        return NULL;
}

const char *rp_req_header(const rp_req *req, const char *name) {
        if (req->evreq)
                return evhttp_find_header(evhttp_request_get_input_headers(req->evreq), name);
        return strcasecmp(name, "Authorization") == 0 ? req->authorization : NULL;
}

void rp_req_body(const rp_req *req, const uint8_t **ret, size_t *ret_len) {
        *ret = req->body;
        *ret_len = req->body_len;
}

json_t *rp_req_json(rp_req *req) {
        if (req->body_len == 0) {
                rp_reply_error(req, 400, "bad_json", "the request has no body: send a JSON object");
                return NULL;
        }
        json_error_t e;
        json_t *j = json_loadb((const char *) req->body, req->body_len, JSON_REJECT_DUPLICATES, &e);
        if (!j) {
                rp_reply_error(req, 400, "bad_json", "the body is not valid JSON: line %d, column %d: %s", e.line,
                               e.column, e.text);
                return NULL;
        }
        if (!json_is_object(j)) {
                json_decref(j);
                rp_reply_error(req, 400, "bad_json", "the body must be a JSON object ({...})");
                return NULL;
        }
        return j;
}

const char *rp_req_remote(const rp_req *req) {
        return req->remote;
}

SSL *rp_req_ssl(const rp_req *req) {
        return req->ssl;
}

rp_db *rp_req_db(const rp_req *req) {
        return req->db;
}

rp_server *rp_req_server(const rp_req *req) {
        return req->srv;
}

rp_principal *rp_req_principal(rp_req *req) {
        return &req->principal;
}

const char *rp_req_id(const rp_req *req) {
        return req->id;
}

/* --- the answer --- */

/* True if the answer may be set; a second one is a handler's bug. */
static bool may_reply(rp_req *req) {
        if (!req->replied)
                return true;
        rp_log("event=bug id=%s reason=\"a second answer to one request was ignored\"", req->id);
        rp_metrics_error("internal");
        return false;
}

static void set_reply(rp_req *req, int status, const char *content_type, char *body, size_t len) {
        req->replied = true;
        req->status = status;
        req->content_type = content_type;
        req->reply_body = body;
        req->reply_len = len;
}

static void reply_oom(rp_req *req) {
        static const char body[] = "{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}\n";
        char *copy = strdup(body);
        snprintf(req->error_code, sizeof req->error_code, "internal");
        set_reply(req, 500, "application/json", copy, copy ? strlen(copy) : 0);
}

void rp_reply_json(rp_req *req, int status, json_t *j) {
        if (!may_reply(req)) {
                json_decref(j);
                return;
        }
        char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
        json_decref(j);
        size_t n = text ? strlen(text) : 0;
        char *body = text ? realloc(text, n + 2) : NULL;
        if (!body) {
                free(text);
                reply_oom(req);
                return;
        }
        body[n++] = '\n';
        body[n] = '\0';
        set_reply(req, status, "application/json", body, n);
}

__attribute__((format(printf, 4, 0)))
static void vreply_error(rp_req *req, int status, const char *code, const char *fmt, va_list ap) {
        if (!may_reply(req))
                return;
        char message[MESSAGE_MAX];
        vsnprintf(message, sizeof message, fmt, ap);
        /* A message may quote what a client sent (a name, jansson's view of
         * a bad body); JSON strings must be UTF-8. */
        if (!rp_utf8_is_valid(message, strlen(message)))
                for (char *p = message; *p; p++)
                        if ((unsigned char) *p >= 0x80)
                                *p = '?';
        snprintf(req->error_code, sizeof req->error_code, "%s", code);
        json_t *j = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
        if (!j) {
                reply_oom(req);
                return;
        }
        rp_reply_json(req, status, j);
}

void rp_reply_error(rp_req *req, int status, const char *code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vreply_error(req, status, code, fmt, ap);
        va_end(ap);
}

/* Internal: an error answer that is not a handler's (no double-answer check). */
static void reply_error(rp_req *req, int status, const char *code, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void reply_error(rp_req *req, int status, const char *code, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vreply_error(req, status, code, fmt, ap);
        va_end(ap);
}

void rp_reply_bytes(rp_req *req, int status, const char *content_type, const void *buf, size_t len) {
        if (!may_reply(req))
                return;
        char *copy = malloc(len + 1);
        if (!copy) {
                reply_oom(req);
                return;
        }
        if (len)
                memcpy(copy, buf, len);
        copy[len] = '\0';
        set_reply(req, status, content_type, copy, len);
}

void rp_reply_empty(rp_req *req, int status) {
        if (may_reply(req))
                set_reply(req, status, NULL, NULL, 0);
}

void rp_reply_blob(rp_req *req, const char *content_type, rp_blob_reader *reader, const char *etag) {
        if (!may_reply(req)) {
                rp_blob_close(reader);
                return;
        }
        if (etag && strlen(etag) >= sizeof req->etag) {
                rp_log("event=bug id=%s reason=\"an entity tag longer than %d bytes was dropped\"", req->id, ETAG_MAX);
                etag = NULL;
        }
        snprintf(req->etag, sizeof req->etag, "%s", etag ? etag : "");
        req->blob = reader;
        set_reply(req, 200, content_type, NULL, 0);
}

void rp_reply_store_error(rp_req *req, int r, const rp_error *err) {
        char q[RP_LOG_QUOTE_MAX];
        rp_log("event=store-error id=%s code=%d reason=%s", req->id, r,
               rp_log_quote(rp_error_message(err, r), q, sizeof q));
        rp_metrics_error("store");
        if (r == -EEXIST) {
                rp_reply_error(req, 409, "conflict", "the change conflicts with an object that already exists");
        } else if (r == -ENOTCONN || r == -EBUSY) {
                rp_reply_header(req, "Retry-After", "1");
                rp_reply_error(req, 503, "store_unavailable", "the store is busy or unreachable; try again");
        } else {
                rp_reply_error(req, 500, "internal", "internal error (request id %s; the server's log has more)",
                               req->id);
        }
}

void rp_reply_header(rp_req *req, const char *name, const char *value) {
        if (evhttp_add_header(&req->reply_headers, name, value) < 0) {
                rp_log("event=bug id=%s reason=\"a response header with a line break was dropped\"", req->id);
                rp_metrics_error("internal");
        }
}

/* --- routing --- */

/* path's segments after each '/'; -1 if more than max or path is not
 * absolute. */
static int split_path(const char *path, segment *segs, size_t max) {
        if (path[0] != '/')
                return -1;
        size_t n = 0;
        for (const char *p = path + 1;; ) {
                const char *end = strchr(p, '/');
                size_t len = end ? (size_t) (end - p) : strlen(p);
                if (n == max)
                        return -1;
                segs[n++] = (segment) { p, len };
                if (!end)
                        return (int) n;
                p = end + 1;
        }
}

static bool is_param(segment s) {
        return s.len >= 2 && s.p[0] == '{' && s.p[s.len - 1] == '}';
}

/* The route whose pattern the path has and whose method is the request's
 * (or only the methods the path has, for 405). */
static void route_request(const char *method, const char *path, match *m) {
        *m = (match) {};
        segment segs[SEGMENTS_MAX];
        int n = path ? split_path(path, segs, SEGMENTS_MAX) : -1;
        if (n < 0)
                return;
        for (size_t i = 0; i < rp_api_n_routes; i++) {
                const rp_route *rt = &rp_api_routes[i];
                segment pat[SEGMENTS_MAX], raw[PARAMS_MAX];
                int k = split_path(rt->path, pat, SEGMENTS_MAX);
                if (k != n)
                        continue;
                size_t n_raw = 0;
                bool ok = true;
                for (int s = 0; s < n && ok; s++) {
                        if (is_param(pat[s])) {
                                RP_INVARIANT(n_raw < PARAMS_MAX);
                                raw[n_raw++] = segs[s];
                        } else {
                                ok = pat[s].len == segs[s].len && memcmp(pat[s].p, segs[s].p, segs[s].len) == 0;
                        }
                }
                if (!ok)
                        continue;
                m->pattern = rt->path;
                /* HEAD is the GET route's answer without the body. */
                if (streq(rt->method, method) || (streq(method, "HEAD") && streq(rt->method, "GET"))) {
                        m->route = rt;
                        memcpy(m->raw_params, raw, sizeof raw);
                        return;
                }
                if (!strstr(m->allow, rt->method)) {
                        size_t used = strlen(m->allow);
                        snprintf(m->allow + used, sizeof m->allow - used, "%s%s", used ? ", " : "", rt->method);
                }
        }
}

static int hex_value(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        c = (char) (c | 0x20);
        return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Percent-decodes s[0..len) (and '+' as a space if plus) into a new
 * string; the reason on refusal: a malformed escape, NUL, or not UTF-8. */
static int decode(const char *s, size_t len, bool plus, char **ret, const char **ret_reason) {
        char *out = malloc(len + 1);
        if (!out)
                return -ENOMEM;
        size_t o = 0;
        for (size_t i = 0; i < len; i++) {
                if (s[i] == '%') {
                        int hi = i + 2 < len ? hex_value(s[i + 1]) : -1;
                        int lo = i + 2 < len ? hex_value(s[i + 2]) : -1;
                        if (hi < 0 || lo < 0) {
                                free(out);
                                *ret_reason = "has a malformed %-escape";
                                return -EINVAL;
                        }
                        out[o++] = (char) (hi << 4 | lo);
                        i += 2;
                } else {
                        out[o++] = plus && s[i] == '+' ? ' ' : s[i];
                }
        }
        out[o] = '\0';
        if (memchr(out, '\0', o)) {
                free(out);
                *ret_reason = "contains a NUL byte";
                return -EINVAL;
        }
        if (!rp_utf8_is_valid(out, o)) {
                free(out);
                *ret_reason = "is not valid UTF-8";
                return -EINVAL;
        }
        *ret = out;
        return 0;
}

/* The matched route's {param} values, decoded. Answers 400 and returns
 * false for one that is empty, or decodes to something with '/', NUL or
 * bytes that are not UTF-8. */
static bool take_params(rp_req *req, const match *m) {
        segment pat[SEGMENTS_MAX];
        int k = split_path(m->route->path, pat, SEGMENTS_MAX);
        size_t n = 0;
        for (int s = 0; s < k; s++) {
                if (!is_param(pat[s]))
                        continue;
                segment name = { pat[s].p + 1, pat[s].len - 2 };
                segment raw = m->raw_params[n];
                const char *reason = "is empty";
                char *value = NULL;
                int r = raw.len == 0 ? -EINVAL : decode(raw.p, raw.len, false, &value, &reason);
                if (r == 0 && strchr(value, '/')) {
                        free(value);
                        r = -EINVAL;
                        reason = "contains '/'";
                }
                if (r == -ENOMEM) {
                        reply_oom(req);
                        return false;
                }
                if (r < 0) {
                        reply_error(req, 400, "bad_request", "path parameter {%.*s} %s", (int) name.len, name.p,
                                    reason);
                        return false;
                }
                req->params[n].name = name;
                req->params[n].value = value;
                req->n_params = ++n;
        }
        return true;
}

/* "a=1&b=x+y": decoded pairs; a name without '=' has the value "". */
static bool take_query(rp_req *req, const char *q) {
        if (!q)
                return true;
        for (const char *p = q; *p; ) {
                const char *amp = strchr(p, '&');
                size_t len = amp ? (size_t) (amp - p) : strlen(p);
                if (len > 0) {
                        if (req->n_query == QUERY_MAX) {
                                reply_error(req, 400, "bad_request", "more than %d query parameters", QUERY_MAX);
                                return false;
                        }
                        const char *eq = memchr(p, '=', len);
                        size_t name_len = eq ? (size_t) (eq - p) : len;
                        const char *reason = NULL;
                        char *name = NULL, *value = NULL;
                        int r = decode(p, name_len, true, &name, &reason);
                        if (r == 0)
                                r = eq ? decode(eq + 1, len - name_len - 1, true, &value, &reason)
                                       : ((value = strdup("")) ? 0 : -ENOMEM);
                        if (r < 0) {
                                free(name);
                                if (r == -ENOMEM)
                                        reply_oom(req);
                                else
                                        reply_error(req, 400, "bad_request", "the query string %s", reason);
                                return false;
                        }
                        req->query[req->n_query].name = name;
                        req->query[req->n_query++].value = value;
                }
                p += len + (amp ? 1 : 0);
        }
        return true;
}

/* Routing's answers, authentication and the handler. */
static void serve(rp_req *req, const match *m, const char *query) {
        if (!m->pattern) {
                reply_error(req, 404, "not_found", "no route has this path (docs/api.md lists them)");
                return;
        }
        if (!m->route) {
                rp_reply_header(req, "Allow", m->allow);
                reply_error(req, 405, "method_not_allowed", "this path takes %s, not %s", m->allow, req->method);
                return;
        }
        req->route = m->route;
        if (!take_params(req, m) || !take_query(req, query))
                return;
        if (!rp_api_authenticate(req, m->route->auth)) {
                if (!req->replied) {
                        rp_log("event=bug id=%s reason=\"authentication refused without an answer\"", req->id);
                        reply_error(req, 500, "internal", "internal error (request id %s)", req->id);
                }
                return;
        }
        m->route->handle(req);
        if (!req->replied) {
                rp_log("event=bug id=%s route=%s reason=\"the handler gave no answer\"", req->id, m->route->path);
                rp_metrics_error("internal");
                reply_error(req, 500, "internal", "internal error (request id %s)", req->id);
        }
}

static void req_done(rp_req *req) {
        for (size_t i = 0; i < req->n_params; i++)
                free(req->params[i].value);
        for (size_t i = 0; i < req->n_query; i++) {
                free(req->query[i].name);
                free(req->query[i].value);
        }
        free(req->reply_body);
        evhttp_clear_headers(&req->reply_headers);
        rp_blob_close(req->blob);
        req->blob = NULL;
}

/* The method as a metrics label: one of a fixed set. */
static const char *method_label(const char *method) {
        static const char *const known[] = { "GET", "POST", "PATCH", "DELETE" };
        for (size_t i = 0; i < ELEMENTSOF(known); i++)
                if (streq(method, known[i]))
                        return known[i];
        return "other";
}

static const char *reason_phrase(int status) {
        static const struct {
                int status;
                const char *phrase;
        } phrases[] = {
                { 200, "OK" }, { 201, "Created" }, { 204, "No Content" }, { 206, "Partial Content" },
                { 304, "Not Modified" }, { 400, "Bad Request" },
                { 401, "Unauthorized" }, { 403, "Forbidden" }, { 404, "Not Found" },
                { 405, "Method Not Allowed" }, { 409, "Conflict" }, { 413, "Content Too Large" },
                { 416, "Range Not Satisfiable" },
                { 422, "Unprocessable Content" }, { 429, "Too Many Requests" },
                { 500, "Internal Server Error" }, { 501, "Not Implemented" }, { 503, "Service Unavailable" },
        };
        for (size_t i = 0; i < ELEMENTSOF(phrases); i++)
                if (phrases[i].status == status)
                        return phrases[i].phrase;
        return NULL;
}

static const char *method_name(enum evhttp_cmd_type cmd) {
        switch (cmd) {
        case EVHTTP_REQ_GET: return "GET";
        case EVHTTP_REQ_POST: return "POST";
        case EVHTTP_REQ_HEAD: return "HEAD";
        case EVHTTP_REQ_PUT: return "PUT";
        case EVHTTP_REQ_DELETE: return "DELETE";
        case EVHTTP_REQ_OPTIONS: return "OPTIONS";
        case EVHTTP_REQ_TRACE: return "TRACE";
        case EVHTTP_REQ_CONNECT: return "CONNECT";
        case EVHTTP_REQ_PATCH: return "PATCH";
        }
        return "OTHER";
}

static void format_addr(const struct sockaddr *sa, char *out, size_t size) {
        char host[INET6_ADDRSTRLEN] = "?";
        unsigned port = 0;
        if (sa && sa->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) sa;
                inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
                port = ntohs(in->sin_port);
        } else if (sa && sa->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) sa;
                inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
                port = ntohs(in6->sin6_port);
        }
        snprintf(out, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

static void log_request(const rp_req *req, const char *route, double seconds) {
        char user[RP_LOG_QUOTE_MAX] = "-";
        if (req->principal.kind == RP_PRINCIPAL_USER)
                rp_log_value(req->principal.user_name, user, sizeof user);
        else if (req->principal.kind == RP_PRINCIPAL_DEVICE)
                snprintf(user, sizeof user, "device:%s", req->principal.device_id);
        rp_log("event=request id=%s method=%s route=%s status=%d ms=%.3f remote=%s user=%s%s%s", req->id,
               req->method, route, req->status, seconds * 1000, req->remote, user,
               req->error_code[0] ? " error=" : "", req->error_code);
}

/* evhttp leaves an answer's head and its body in separate buffer chains,
 * and bufferevent_openssl makes a TLS record, and a write(2), of each
 * chain. The output is only written once the loop comes back to the
 * socket, so a small answer is made one chain here: one record, one write. */
#define COALESCE_MAX (16 * 1024)        /* a TLS record's payload */
static void coalesce_output(struct bufferevent *bev) {
        struct evbuffer *out = bufferevent_get_output(bev);
        if (evbuffer_get_length(out) <= COALESCE_MAX)
                (void) evbuffer_pullup(out, -1);
}

/* --- blobs: conditions, ranges, streaming (rp_reply_blob) --- */

/* The opaque part of an entity tag ("W/" dropped), for weak comparison. */
static void etag_opaque(const char *tag, size_t len, const char **ret, size_t *ret_len) {
        if (len >= 2 && tag[0] == 'W' && tag[1] == '/') {
                tag += 2;
                len -= 2;
        }
        *ret = tag;
        *ret_len = len;
}

/* True if the If-None-Match list names etag (weak comparison) or is "*". */
static bool etag_listed(const char *list, const char *etag) {
        const char *want;
        size_t want_len;
        etag_opaque(etag, strlen(etag), &want, &want_len);
        for (const char *p = list; *p; ) {
                p += strspn(p, " \t,");
                size_t n = strcspn(p, ",");
                while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
                        n--;
                if (n == 1 && p[0] == '*')
                        return true;
                const char *have;
                size_t have_len;
                etag_opaque(p, n, &have, &have_len);
                if (have_len == want_len && memcmp(have, want, want_len) == 0)
                        return true;
                p += strcspn(p, ",");
        }
        return false;
}

/* A decimal number of at most 19 digits at *p; advances *p. */
static bool range_number(const char **p, uint64_t *ret) {
        size_t n = strspn(*p, "0123456789");
        if (n == 0 || n > 19)
                return false;
        uint64_t v = 0;
        for (size_t i = 0; i < n; i++)
                v = v * 10 + (uint64_t) ((*p)[i] - '0');
        *p += n;
        *ret = v;
        return true;
}

typedef enum range_outcome {
        RANGE_NONE,             /* no Range, or one to ignore: the whole */
        RANGE_PART,             /* [first, last] */
        RANGE_UNSATISFIABLE,
} range_outcome;

/* "bytes=A-B", "bytes=A-", "bytes=-N" of a size-byte blob (RFC 9110
 * section 14.1.2). Several ranges, another unit or a malformed value are
 * ignored, as the RFC allows. */
static range_outcome parse_range(const char *h, uint64_t size, uint64_t *first, uint64_t *last) {
        if (!h || strncasecmp(h, "bytes=", 6) != 0 || strchr(h, ','))
                return RANGE_NONE;
        const char *p = h + 6;
        p += strspn(p, " \t");
        uint64_t a = 0, b = 0;
        bool has_a = *p != '-';
        if (has_a && !range_number(&p, &a))
                return RANGE_NONE;
        if (*p++ != '-')
                return RANGE_NONE;
        bool has_b = *p >= '0' && *p <= '9';
        if (has_b && !range_number(&p, &b))
                return RANGE_NONE;
        p += strspn(p, " \t");
        if (*p || (!has_a && !has_b) || (has_a && has_b && b < a))
                return RANGE_NONE;
        if (!has_a) {                   /* the last b bytes */
                if (b == 0 || size == 0)
                        return RANGE_UNSATISFIABLE;
                *first = b >= size ? 0 : size - b;
                *last = size - 1;
                return RANGE_PART;
        }
        if (a >= size)
                return RANGE_UNSATISFIABLE;
        *first = a;
        *last = has_b && b < size ? b : size - 1;
        return RANGE_PART;
}

/* Decides the answer to a blob reply: 304, 416, 206 or 200, and its
 * headers. Returns true when bytes [*ret_first, *ret_first + *ret_count)
 * are to be sent (not for HEAD, 304 or 416); the others end with req->blob
 * closed. */
static bool plan_blob(rp_req *req, uint64_t *ret_first, uint64_t *ret_count) {
        uint64_t size = rp_blob_size(req->blob), first = 0, last = size ? size - 1 : 0;
        char v[96];
        if (req->etag[0])
                rp_reply_header(req, "ETag", req->etag);
        rp_reply_header(req, "Accept-Ranges", "bytes");

        const char *inm = rp_req_header(req, "If-None-Match");
        if (req->etag[0] && inm && etag_listed(inm, req->etag)) {
                rp_blob_close(TAKE_PTR(req->blob));
                req->status = 304;
                req->content_type = NULL;
                return false;
        }
        /* If-Range: the range applies only to the entity it names. */
        const char *ir = rp_req_header(req, "If-Range");
        bool range_applies = !ir || (req->etag[0] && streq(ir, req->etag) && strncmp(ir, "W/", 2) != 0);
        range_outcome ro = range_applies ? parse_range(rp_req_header(req, "Range"), size, &first, &last)
                                         : RANGE_NONE;
        if (ro == RANGE_UNSATISFIABLE) {
                rp_blob_close(TAKE_PTR(req->blob));
                snprintf(v, sizeof v, "bytes */%ju", (uintmax_t) size);
                rp_reply_header(req, "Content-Range", v);
                req->replied = false;
                reply_error(req, 416, "range_not_satisfiable", "the range starts past the end of the %ju bytes",
                            (uintmax_t) size);
                return false;
        }
        if (ro == RANGE_PART) {
                req->status = 206;
                snprintf(v, sizeof v, "bytes %ju-%ju/%ju", (uintmax_t) first, (uintmax_t) last, (uintmax_t) size);
                rp_reply_header(req, "Content-Range", v);
        }
        uint64_t count = size ? last - first + 1 : 0;
        snprintf(v, sizeof v, "%ju", (uintmax_t) count);
        rp_reply_header(req, "Content-Length", v);
        if (req->head || count == 0) {
                rp_blob_close(TAKE_PTR(req->blob));
                return false;
        }
        *ret_first = first;
        *ret_count = count;
        return true;
}

/* One blob answer under way: its request, the bytes left, for the log. */
typedef struct blob_stream {
        struct evhttp_request *evreq;
        rp_blob_reader *reader;
        uint64_t pos, end;
        uint64_t count;
        double start;
        char id[17];
        char remote[INET6_ADDRSTRLEN + 16];
} blob_stream;

static void stream_log(const blob_stream *s, const char *outcome, const char *reason) {
        char q[RP_LOG_QUOTE_MAX];
        rp_log("event=stream id=%s remote=%s outcome=%s bytes=%ju of=%ju ms=%.3f%s%s", s->id, s->remote, outcome,
               (uintmax_t) (s->count - (s->end - s->pos)), (uintmax_t) s->count, (now_seconds() - s->start) * 1000,
               reason ? " reason=" : "", reason ? rp_log_quote(reason, q, sizeof q) : "");
}

static void stream_free(blob_stream *s) {
        rp_blob_close(s->reader);
        free(s);
}

/* The connection went away before the last byte (the client closed it,
 * stopped reading for the idle timeout, or the worker is stopping). */
static void stream_closed(struct evhttp_connection *evcon, void *arg) {
        blob_stream *s = arg;
        stream_log(s, "aborted", "the connection closed");
        rp_metrics_error("stream_aborted");
        /* evhttp keeps a request that failed while being answered for its
         * user to end (it leaves it otherwise, to free itself). */
        if (!evhttp_request_get_connection(s->evreq))
                evhttp_request_free(s->evreq);
        stream_free(s);
}

/* Ends a stream that cannot go on (the blob could not be read): the client
 * must not take the short answer for a whole one, so the connection is
 * closed; stream_closed frees the rest. */
static void stream_fail(blob_stream *s, const char *reason) {
        stream_log(s, "failed", reason);
        rp_metrics_error("internal");
        struct evhttp_connection *evcon = evhttp_request_get_connection(s->evreq);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        int fd = bev ? bufferevent_getfd(bev) : -1;
        if (fd >= 0)
                (void) shutdown(fd, SHUT_RDWR);
}

/* Queues the next piece once the last one left (evhttp calls it when the
 * connection's output buffer is empty), or ends the answer. */
static void stream_next(struct evhttp_connection *evcon, void *arg) {
        blob_stream *s = arg;
        if (s->pos == s->end) {
                struct evhttp_request *evreq = s->evreq;
                evcon = evhttp_request_get_connection(evreq);
                if (evcon)
                        evhttp_connection_set_closecb(evcon, NULL, NULL);
                rp_worker_streaming(evreq, false);
                stream_log(s, "complete", NULL);
                stream_free(s);
                evhttp_send_reply_end(evreq);
                return;
        }
        size_t n = s->end - s->pos < STREAM_CHUNK ? (size_t) (s->end - s->pos) : STREAM_CHUNK;
        struct evbuffer *buf = evbuffer_new();
        struct evbuffer_iovec v;
        if (!buf || evbuffer_reserve_space(buf, (ev_ssize_t) n, &v, 1) < 1) {
                if (buf)
                        evbuffer_free(buf);
                stream_fail(s, "out of memory");
                return;
        }
        size_t got = 0;
        rp_error err = {};
        int r = rp_blob_read_at(s->reader, s->pos, v.iov_base, n, &got, &err);
        if (r < 0 || got == 0) {
                evbuffer_free(buf);
                stream_fail(s, r < 0 ? rp_error_message(&err, r) : "the blob is shorter than its size");
                return;
        }
        v.iov_len = got;
        evbuffer_commit_space(buf, &v, 1);
        s->pos += got;
        evhttp_send_reply_chunk_with_cb(s->evreq, buf, stream_next, s);
        evbuffer_free(buf);
}

/* Sends the status line and headers, then the bytes a piece at a time.
 * Takes req->blob. */
static void stream_start(rp_req *req, struct evhttp_request *evreq, uint64_t first, uint64_t count) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
        blob_stream *s = evcon ? calloc(1, sizeof *s) : NULL;
        if (!s) {
                /* Nothing sent yet: an answer that says so. */
                rp_blob_close(TAKE_PTR(req->blob));
                req->status = 500;
                snprintf(req->error_code, sizeof req->error_code, "internal");
                evhttp_remove_header(evhttp_request_get_output_headers(evreq), "Content-Length");
                evhttp_add_header(evhttp_request_get_output_headers(evreq), "Connection", "close");
                evhttp_send_reply(evreq, 500, reason_phrase(500), NULL);
                return;
        }
        rp_blob_reader *reader = TAKE_PTR(req->blob);
        *s = (blob_stream) {
                .evreq = evreq, .reader = reader, .pos = first, .end = first + count, .count = count,
                .start = now_seconds(),
        };
        memcpy(s->id, req->id, sizeof s->id);
        memcpy(s->remote, req->remote, sizeof s->remote);
        evhttp_connection_set_closecb(evcon, stream_closed, s);
        rp_worker_streaming(evreq, true);
        evhttp_send_reply_start(evreq, req->status, reason_phrase(req->status));
        stream_next(evcon, s);
}

/* rp_http_dispatch_raw's blob answer: the selected bytes as the body. */
static void blob_to_body(rp_req *req) {
        uint64_t first = 0, count = 0;
        bool send = plan_blob(req, &first, &count);
        if (!send)
                return;
        _cleanup_(rp_blob_closep) rp_blob_reader *r = TAKE_PTR(req->blob);
        char *body = count <= RP_HTTP_RAW_BLOB_MAX ? malloc(count + 1) : NULL;
        size_t have = 0;
        while (body && have < count) {
                size_t got = 0;
                if (rp_blob_read_at(r, first + have, body + have, (size_t) count - have, &got, NULL) < 0 || got == 0)
                        break;
                have += got;
        }
        if (!body || have < count) {
                free(body);
                req->replied = false;
                reply_error(req, 500, "internal", "the blob could not be read");
                return;
        }
        body[count] = '\0';
        req->reply_body = body;
        req->reply_len = (size_t) count;
}

void rp_http_handle(struct evhttp_request *evreq, void *arg) {
        rp_worker *w = arg;
        double start = now_seconds();
        rp_worker_request_read(evreq);

        struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        if (!ssl) {
                /* make_bev() ran out of memory: never serve without TLS. */
                evhttp_add_header(evhttp_request_get_output_headers(evreq), "Connection", "close");
                evhttp_send_reply(evreq, 503, "Service Unavailable", NULL);
                return;
        }

        rp_req req = {
                .srv = rp_worker_server(w),
                .db = rp_worker_db(w),
                .evreq = evreq,
                .method = method_name(evhttp_request_get_command(evreq)),
                .ssl = ssl,
        };
        TAILQ_INIT(&req.reply_headers);
        new_request_id(req.id);
        const struct sockaddr *peer = evhttp_connection_get_addr(evcon);
        format_addr(peer, req.remote, sizeof req.remote);
        const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(evreq);
        const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
        req.path = path && *path ? path : "/";
        struct evbuffer *in = evhttp_request_get_input_buffer(evreq);
        req.body_len = evbuffer_get_length(in);
        req.body = req.body_len ? evbuffer_pullup(in, -1) : NULL;

        match m;
        route_request(req.method, req.path, &m);
        req.head = streq(req.method, "HEAD");
        unsigned retry_after = 0;
        rp_ratelimit *rl = rp_worker_ratelimit(w);
        if (req.body_len && !req.body) {
                reply_oom(&req);
        } else if (rl && peer && !rp_ratelimit_take(rl, peer, start, &retry_after)) {
                char v[16];
                snprintf(v, sizeof v, "%u", retry_after);
                rp_reply_header(&req, "Retry-After", v);
                reply_error(&req, 429, "rate_limited", "too many requests from this address; retry in %u s",
                            retry_after);
        } else {
                serve(&req, &m, uri ? evhttp_uri_get_query(uri) : NULL);
        }

        uint64_t first = 0, count = 0;
        bool stream = req.blob && plan_blob(&req, &first, &count);

        struct evkeyvalq *out = evhttp_request_get_output_headers(evreq);
        if (req.content_type)
                evhttp_add_header(out, "Content-Type", req.content_type);
        evhttp_add_header(out, "X-Request-Id", req.id);
        evhttp_add_header(out, "Cache-Control", "no-store");
        evhttp_add_header(out, "X-Content-Type-Options", "nosniff");
        for (struct evkeyval *h = req.reply_headers.tqh_first; h; h = h->next.tqe_next)
                evhttp_add_header(out, h->key, h->value);
        if (rp_worker_stopping(w))
                evhttp_add_header(out, "Connection", "close");
        if (stream) {
                stream_start(&req, evreq, first, count);
                double seconds = now_seconds() - start;
                log_request(&req, m.pattern, seconds);
                rp_metrics_request(m.pattern, method_label(req.method), req.status, seconds);
                req_done(&req);
                return;
        }
        /* HEAD: what GET would send, without the body. */
        if (req.head && req.reply_len) {
                char n[RP_DB_INT_STRLEN];
                evhttp_add_header(out, "Content-Length", rp_db_int((int64_t) req.reply_len, n));
                req.reply_len = 0;
        }
        struct evbuffer *body = req.reply_len ? evbuffer_new() : NULL;
        if (body && evbuffer_add(body, req.reply_body, req.reply_len) < 0) {
                evbuffer_free(body);
                body = NULL;
        }
        if (req.reply_len && !body) {
                req.status = 500;
                snprintf(req.error_code, sizeof req.error_code, "internal");
        }
        evhttp_send_reply(evreq, req.status, reason_phrase(req.status), body);
        if (body)
                evbuffer_free(body);
        coalesce_output(bev);

        double seconds = now_seconds() - start;
        const char *route = m.pattern ? m.pattern : "unmatched";
        log_request(&req, route, seconds);
        rp_metrics_request(route, method_label(req.method), req.status, seconds);
        req_done(&req);
}

int rp_http_dispatch_raw(rp_server *srv, rp_db *db, const char *method, const char *uri,
                         const char *authorization, const uint8_t *body, size_t len, int *ret_status,
                         char **ret_body) {
        double start = now_seconds();
        rp_req req = {
                .srv = srv,
                .db = db,
                .authorization = authorization,
                .method = method,
                .body = body,
                .body_len = len,
        };
        TAILQ_INIT(&req.reply_headers);
        new_request_id(req.id);
        snprintf(req.remote, sizeof req.remote, "local");
        /* As evhttp parses a request line's target. */
        struct evhttp_uri *u = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
        const char *path = u ? evhttp_uri_get_path(u) : NULL;
        req.path = path && *path ? path : "/";
        match m = {};
        if (!u)
                reply_error(&req, 400, "bad_request", "the request target is not a URI");
        else if (len > srv->cfg.max_body)
                reply_error(&req, 413, "too_large", "the body is larger than %zu bytes", srv->cfg.max_body);
        else {
                route_request(method, req.path, &m);
                serve(&req, &m, evhttp_uri_get_query(u));
                if (req.blob)
                        blob_to_body(&req);
        }
        rp_metrics_request(m.pattern ? m.pattern : "unmatched", method_label(method), req.status,
                           now_seconds() - start);
        int r = 0;
        char *copy = malloc(req.reply_len + 1);
        if (!copy) {
                r = -ENOMEM;
        } else {
                if (req.reply_len)
                        memcpy(copy, req.reply_body, req.reply_len);
                copy[req.reply_len] = '\0';
                *ret_status = req.status;
                *ret_body = copy;
        }
        req_done(&req);
        if (u)
                evhttp_uri_free(u);
        return r;
}
