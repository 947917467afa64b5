/* SPDX-License-Identifier: Apache-2.0 */
/* Resumable downloads to a file (http.h, rp_http_download_file). Each
 * download runs on its own copy of the client's libcurl handle (the same
 * TLS set-up, CA and limits; a connection of its own), so the options it
 * changes (no total timeout, a low-speed limit, its callbacks) never leak
 * into the client's JSON requests. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client/http.h"
#include "client/http_internal.h"
#include "core/fileio.h"
#include "core/macro.h"

/* An error answer's body: enough for {"error": ...}. */
#define ERROR_BODY_MAX (64 * 1024)
#define HEADER_VALUE_MAX 256

/* One attempt's state, shared by the callbacks. */
typedef struct transfer {
        const rp_http_download *d;
        CURL *curl;
        int fd;
        uint64_t offset;        /* where the file's bytes from this answer start */
        uint64_t pos;           /* bytes in the file */
        long status;            /* of the final answer, once its headers are in */
        bool body_is_file;      /* a 200 or an accepted 206: the body goes to the file */
        bool have_range;
        uint64_t range_start, range_end, range_total;   /* Content-Range: bytes A-B/T */
        /* an error answer's body */
        char *body;
        size_t body_len;
        /* why a callback stopped the transfer */
        int r;
        rp_error err;
} transfer;

/* Stops the transfer from a callback with an error (curl then ends with
 * CURLE_WRITE_ERROR or CURLE_ABORTED_BY_CALLBACK). */
#define STOP(t, code, ...) ((t)->r = rp_error_set(&(t)->err, (code), __VA_ARGS__), (size_t) 0)

/* "bytes A-B/T": false for anything else (an unknown total "*" included). */
static bool parse_content_range(const char *v, transfer *t) {
        uint64_t a, b, total;
        char extra;
        if (sscanf(v, " bytes %" SCNu64 "-%" SCNu64 "/%" SCNu64 " %c", &a, &b, &total, &extra) != 3 || b < a ||
            b >= total)
                return false;
        t->range_start = a;
        t->range_end = b;
        t->range_total = total;
        return true;
}

/* The final answer's headers are in: decide what its body is. */
static size_t headers_done(transfer *t) {
        const rp_http_download *d = t->d;
        if (t->status < 200 || t->status > 299)
                return 1;       /* an error answer: its body is read for the message */
        curl_off_t cl = -1;
        curl_easy_getinfo(t->curl, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        if (t->status == 206) {
                if (!t->have_range)
                        return STOP(t, -EBADMSG, "GET %s: a partial answer (206) without a Content-Range of "
                                    "bytes %" PRIu64 "- of %" PRIu64, d->path, t->offset, d->size);
                if (t->range_total > d->size)
                        return STOP(t, -EFBIG, "GET %s: endless data: the server's Content-Range says the body "
                                    "is %" PRIu64 " bytes, the document %" PRIu64, d->path, t->range_total,
                                    d->size);
                if (t->range_start != t->offset || t->range_total != d->size)
                        return STOP(t, -EBADMSG, "GET %s: the server answered another range (bytes %" PRIu64
                                    "-%" PRIu64 "/%" PRIu64 ") than the one asked for (%" PRIu64 "-)", d->path,
                                    t->range_start, t->range_end, t->range_total, t->offset);
                if (cl >= 0 && (uint64_t) cl != t->range_end - t->range_start + 1)
                        return STOP(t, -EBADMSG, "GET %s: a Content-Length of %" PRIu64 " bytes for a range of "
                                    "%" PRIu64, d->path, (uint64_t) cl, t->range_end - t->range_start + 1);
                t->body_is_file = true;
                return 1;
        }
        if (t->status != 200)
                return STOP(t, -EBADMSG, "GET %s: an answer (HTTP %ld) that is neither the body nor a part of it",
                            d->path, t->status);
        /* The whole body: what the file held goes. */
        if (cl >= 0 && (uint64_t) cl > d->size)
                return STOP(t, -EFBIG, "GET %s: endless data: a Content-Length of %" PRIu64 " bytes, the "
                            "document says %" PRIu64, d->path, (uint64_t) cl, d->size);
        if (ftruncate(t->fd, 0) < 0 || lseek(t->fd, 0, SEEK_SET) < 0)
                return STOP(t, -errno, "%s: cannot truncate the part file: %s", d->file, strerror(errno));
        t->pos = t->offset = 0;
        t->body_is_file = true;
        return 1;
}

static size_t on_header(char *buf, size_t size, size_t n, void *userdata) {
        transfer *t = userdata;
        size_t len = size * n;
        if (len >= 5 && strncmp(buf, "HTTP/", 5) == 0) {
                /* A status line: a new answer (the one after a 1xx). */
                const char *sp = memchr(buf, ' ', len);
                t->status = sp ? strtol(sp + 1, NULL, 10) : 0;
                t->have_range = false;
                return len;
        }
        if ((len == 2 && buf[0] == '\r' && buf[1] == '\n') || (len == 1 && buf[0] == '\n')) {
                if (t->status >= 100 && t->status <= 199)
                        return len;
                return headers_done(t) ? len : 0;
        }
        static const char name[] = "content-range:";
        size_t nl = sizeof name - 1;
        if (len > nl && strncasecmp(buf, name, nl) == 0) {
                char v[HEADER_VALUE_MAX];
                size_t k = len - nl < sizeof v - 1 ? len - nl : sizeof v - 1;
                memcpy(v, buf + nl, k);
                v[k] = '\0';
                t->have_range = parse_content_range(v, t);
        }
        return len;
}

static size_t on_body(char *buf, size_t size, size_t n, void *userdata) {
        transfer *t = userdata;
        const rp_http_download *d = t->d;
        size_t len = size * n;
        if (!t->body_is_file) {
                /* An error answer, kept for its message. */
                if (len > ERROR_BODY_MAX - t->body_len)
                        len = ERROR_BODY_MAX - t->body_len;
                char *b = realloc(t->body, t->body_len + len + 1);
                if (!b)
                        return STOP(t, -ENOMEM, "out of memory");
                memcpy(b + t->body_len, buf, len);
                t->body = b;
                t->body_len += len;
                b[t->body_len] = '\0';
                return size * n;
        }
        /* Not one byte beyond the size: the transfer ends as soon as the
         * server passes it. */
        if (len > d->size - t->pos)
                return STOP(t, -EFBIG, "GET %s: endless data: the server sent more than the %" PRIu64 " bytes the "
                            "document says", d->path, d->size);
        int r = rp_write_all(t->fd, buf, len);
        if (r < 0)
                return STOP(t, r, "%s: cannot write the part file: %s", d->file, strerror(-r));
        t->pos += len;
        if (d->progress && d->progress(d->userdata, t->pos, d->size) != 0)
                return STOP(t, -ECANCELED, "GET %s: stopped at %" PRIu64 " of %" PRIu64 " bytes", d->path, t->pos,
                            d->size);
        return size * n;
}

/* One request: the rest of the file from t->offset (or all of it). */
static int attempt(rp_http *h, transfer *t, rp_http_status *st, rp_error *err) {
        const rp_http_download *d = t->d;
        _cleanup_free_ char *url = NULL, *range = NULL, *if_range = NULL;
        if (asprintf(&url, "%s%s", h->server, d->path) < 0 ||
            (t->offset > 0 && asprintf(&range, "%" PRIu64 "-", t->offset) < 0) ||
            (t->offset > 0 && d->etag && asprintf(&if_range, "If-Range: %s", d->etag) < 0))
                return rp_error_set(err, -ENOMEM, "out of memory");

        struct curl_slist *headers = NULL, *l;
        const char *lines[] = { "Accept: application/octet-stream", if_range, h->auth_header };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                if (!lines[i])
                        continue;
                if (!(l = curl_slist_append(headers, lines[i]))) {
                        curl_slist_free_all(headers);
                        return rp_error_set(err, -ENOMEM, "out of memory");
                }
                headers = l;
        }
        CURL *c = t->curl;
        long limit = d->low_speed_limit ? d->low_speed_limit : RP_HTTP_LOW_SPEED_LIMIT_DEFAULT;
        long ltime = d->low_speed_time ? d->low_speed_time : RP_HTTP_LOW_SPEED_TIME_DEFAULT;
        bool ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_RANGE, range) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_TIMEOUT, 0L) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) 0) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, limit) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, ltime) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_HEADERDATA, t) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_WRITEDATA, t) == CURLE_OK;
        if (!ok) {
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
                curl_slist_free_all(headers);
                return rp_error_set(err, -ENOMEM, "out of memory (setting up the download)");
        }
        t->status = 0;
        t->body_is_file = t->have_range = false;
        t->body_len = 0;
        t->r = 0;
        rp_error_clear(&t->err);
        h->too_big = false;
        h->tls_r = 0;
        h->errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_slist_free_all(headers);

        *st = (rp_http_status) { .status = t->status };
        if (t->r < 0) {
                if (err)
                        *err = t->err;
                return t->r;
        }
        if (rc == CURLE_OPERATION_TIMEDOUT && strstr(h->errbuf, "too slow"))
                return rp_error_set(err, -ETIMEDOUT, "GET %s%s: slow retrieval: less than %ld bytes a second for "
                                    "%ld seconds, at %" PRIu64 " of %" PRIu64 " bytes (kept: run again to resume)",
                                    h->server, d->path, limit, ltime, t->pos, d->size);
        if (t->body_is_file && t->pos < d->size &&
            (rc == CURLE_OK || rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR || rc == CURLE_GOT_NOTHING))
                return rp_error_set(err, -ECONNRESET, "GET %s%s: the transfer ended at %" PRIu64 " of %" PRIu64
                                    " bytes (kept: run again to resume)", h->server, d->path, t->pos, d->size);
        if (rc != CURLE_OK)
                return rp_http_transfer_error(h, rc, "GET", d->path, err);
        if (!t->body_is_file)
                return rp_http_refusal(t->body, t->body_len, t->status, h->server, st, err);
        return 0;
}

int rp_http_download_file(rp_http *h, const rp_http_download *d, uint64_t *ret_resumed_from,
                          rp_http_status *ret_status, rp_error *err) {
        rp_http_status st = {};
        if (ret_status)
                *ret_status = st;
        if (d->path[0] != '/')
                return rp_error_set(err, -EINVAL, "download path '%s': must start with '/'", d->path);
        _cleanup_close_ int fd = open(d->file, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY, 0600);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "cannot open the part file %s", d->file);
        struct stat sb;
        if (fstat(fd, &sb) < 0)
                return rp_error_set_errno(err, -errno, "%s", d->file);
        if (!S_ISREG(sb.st_mode))
                return rp_error_set(err, -EINVAL, "%s: not a regular file", d->file);
        /* One download into a part file at a time: two would interleave
         * their appends. The lock goes with the descriptor. */
        if (flock(fd, LOCK_EX | LOCK_NB) < 0)
                return errno == EWOULDBLOCK ? rp_error_set(err, -EBUSY, "%s: another download into this part file "
                                                           "is running", d->file)
                                            : rp_error_set_errno(err, -errno, "%s: cannot lock it", d->file);
        uint64_t have = (uint64_t) sb.st_size;
        if (have > d->size) {
                if (ftruncate(fd, 0) < 0)
                        return rp_error_set_errno(err, -errno, "%s: cannot truncate the part file", d->file);
                have = 0;
        }
        if (have == d->size) {
                if (ret_resumed_from)
                        *ret_resumed_from = have;
                return 0;
        }

        transfer t = { .d = d, .fd = fd, .offset = have, .pos = have };
        t.curl = curl_easy_duphandle(h->curl);
        if (!t.curl)
                return rp_error_set(err, -ENOMEM, "out of memory (curl_easy_duphandle)");
        int r = 0;
        /* The writes go where the file ends. */
        if (lseek(fd, 0, SEEK_END) < 0)
                r = rp_error_set_errno(err, -errno, "%s", d->file);
        for (int tries = 0; r >= 0 && tries < 2; tries++) {
                r = attempt(h, &t, &st, err);
                if (r == -EPROTO && st.status == 416 && t.offset > 0) {
                        /* The server has no such range: start over. */
                        rp_error_clear(err);
                        if (ftruncate(fd, 0) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
                                r = rp_error_set_errno(err, -errno, "%s: cannot truncate the part file", d->file);
                                break;
                        }
                        t.offset = t.pos = 0;
                        r = 0;
                        continue;
                }
                break;
        }
        curl_easy_cleanup(t.curl);
        free(t.body);
        /* What came is kept, for the next attempt to resume from. */
        if (fsync(fd) < 0 && r >= 0)
                r = rp_error_set_errno(err, -errno, "%s: fsync", d->file);
        if (ret_status)
                *ret_status = st;
        if (r < 0)
                return r;
        if (ret_resumed_from)
                *ret_resumed_from = t.offset;
        return 0;
}
