/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTPS JSON client (http.h) on libcurl's easy interface. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>

#include "client/http.h"
#include "client/http_internal.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

/* A CA file is a few certificates; anything this big is not one. */
#define CA_FILE_MAX (1024 * 1024)



static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_FAILED_INIT;

static void global_init(void) {
        /* Never cleaned up: curl_global_cleanup is not thread-safe, and the
         * process ends soon enough. */
        global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void wipe_free(char *s) {
        if (s) {
                OPENSSL_cleanse(s, strlen(s));
                free(s);
        }
}

void rp_http_free(rp_http *h) {
        if (!h)
                return;
        if (h->curl)
                curl_easy_cleanup(h->curl);
        free(h->server);
        free(h->ca_file);
        wipe_free(h->auth_header);
        if (h->buf)
                OPENSSL_cleanse(h->buf, h->cap);
        free(h->buf);
        free(h);
}

const char *rp_http_server(const rp_http *h) {
        return h->server;
}

/* An https URL with a host, no user name, query or fragment, and nothing
 * that cannot be in one. */
static int check_url(const char *s, rp_error *err) {
        size_t n = strnlen(s, RP_HTTP_URL_MAX + 1);
        if (n == 0 || n > RP_HTTP_URL_MAX)
                return rp_error_set(err, -EINVAL, "server URL: expected 1 to %d characters", RP_HTTP_URL_MAX);
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] <= 0x20 || (unsigned char) s[i] >= 0x7f)
                        return rp_error_set(err, -EINVAL, "server URL '%s': character %zu is a space, a "
                                            "control or not ASCII", s, i + 1);
        if (strncasecmp(s, "https://", 8) != 0)
                return rp_error_set(err, -EINVAL, "server URL '%s': must start with https:// (rampart-server "
                                    "speaks HTTPS only)", s);
        CURLU *u = curl_url();
        if (!u)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char *host = NULL, *part = NULL;
        int r = 0;
        if (curl_url_set(u, CURLUPART_URL, s, 0) != CURLUE_OK ||
            curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !host || !*host)
                r = rp_error_set(err, -EINVAL, "server URL '%s': not a URL with a host (https://HOST:PORT)", s);
        else if (curl_url_get(u, CURLUPART_QUERY, &part, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_FRAGMENT, &part, 0) == CURLUE_OK ||
                 curl_url_get(u, CURLUPART_USER, &part, 0) == CURLUE_OK)
                r = rp_error_set(err, -EINVAL, "server URL '%s': may not hold a user name, a query or a "
                                 "fragment", s);
        curl_free(host);
        curl_free(part);
        curl_url_cleanup(u);
        return r;
}

/* The CA file must be readable and hold a PEM certificate: said here, in
 * our words, rather than by the first request. */
static int check_ca_file(const char *path, rp_error *err) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t len = 0;
        int r = rp_read_file(path, CA_FILE_MAX, &data, &len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "the CA file: ");
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(data, (int) len);
        if (!bio)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_(x509_freep) X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!cert)
                return rp_error_set(err, -EINVAL, "the CA file %s: holds no PEM certificate (expected the "
                                    "server's DATA_DIR/tls/ca.pem)", path);
        return 0;
}

static int check_token(const char *t, rp_error *err) {
        size_t n = strnlen(t, RP_HTTP_TOKEN_MAX + 1);
        if (n == 0 || n > RP_HTTP_TOKEN_MAX)
                return rp_error_set(err, -EINVAL, "the token: expected 1 to %d characters, got %s",
                                    RP_HTTP_TOKEN_MAX, n ? "more" : "none");
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) t[i] <= 0x20 || (unsigned char) t[i] >= 0x7f)
                        return rp_error_set(err, -EINVAL, "the token: character %zu is a space, a control or "
                                            "not ASCII (an API token is rpt_ and 64 hex digits)", i + 1);
        return 0;
}

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *userdata) {
        rp_http *h = userdata;
        size_t n = size * nmemb;
        if (n > h->max_response - h->len) {
                h->too_big = true;
                return 0;       /* makes curl stop with CURLE_WRITE_ERROR */
        }
        if (h->len + n + 1 > h->cap) {
                size_t cap = h->cap ? h->cap : 4096;
                while (cap < h->len + n + 1)
                        cap *= 2;
                /* Not realloc: answers may hold secrets (a new token), so
                 * the old buffer is wiped before it is freed. */
                char *b = malloc(cap);
                if (!b)
                        return 0;
                if (h->buf) {
                        memcpy(b, h->buf, h->len);
                        OPENSSL_cleanse(h->buf, h->cap);
                        free(h->buf);
                }
                h->buf = b;
                h->cap = cap;
        }
        memcpy(h->buf + h->len, ptr, n);
        h->len += n;
        h->buf[h->len] = '\0';
        return n;
}

static CURLcode on_ssl_ctx(CURL *curl, void *ssl_ctx, void *userdata) {
        (void) curl;
        rp_http *h = userdata;
        rp_error_clear(&h->tls_err);
        int r = h->tls_setup(ssl_ctx, h->tls_userdata, &h->tls_err);
        if (r < 0) {
                h->tls_r = r;
                return CURLE_SSL_CERTPROBLEM;
        }
        return CURLE_OK;
}

int rp_http_new(const rp_http_config *cfg, rp_http **ret, rp_error *err) {
        if (!cfg->server)
                return rp_error_set(err, -EINVAL, "no server URL");
        if (!cfg->ca_file)
                return rp_error_set(err, -EINVAL, "no CA file for the server's certificate");
        int r = check_url(cfg->server, err);
        if (r < 0)
                return r;
        r = check_ca_file(cfg->ca_file, err);
        if (r < 0)
                return r;
        if (cfg->token && (r = check_token(cfg->token, err)) < 0)
                return r;
        pthread_once(&global_once, global_init);
        if (global_rc != CURLE_OK)
                return rp_error_set(err, -ENOMEM, "libcurl did not initialise: %s", curl_easy_strerror(global_rc));

        _cleanup_(rp_http_freep) rp_http *h = calloc(1, sizeof *h);
        if (!h)
                return rp_error_set(err, -ENOMEM, "out of memory");
        h->server = strdup(cfg->server);
        h->ca_file = strdup(cfg->ca_file);
        if (!h->server || !h->ca_file)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t n = strlen(h->server); n > 8 && h->server[n - 1] == '/'; n--)
                h->server[n - 1] = '\0';
        if (cfg->token && asprintf(&h->auth_header, "Authorization: Bearer %s", cfg->token) < 0) {
                h->auth_header = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        h->tls_setup = cfg->tls_setup;
        h->tls_userdata = cfg->tls_userdata;
        h->max_response = cfg->max_response ? cfg->max_response : RP_HTTP_MAX_RESPONSE_DEFAULT;
        h->connect_timeout = cfg->connect_timeout ? cfg->connect_timeout : RP_HTTP_CONNECT_TIMEOUT_DEFAULT;
        h->timeout = cfg->timeout ? cfg->timeout : RP_HTTP_TIMEOUT_DEFAULT;

        h->curl = curl_easy_init();
        if (!h->curl)
                return rp_error_set(err, -ENOMEM, "out of memory (curl_easy_init)");
        CURL *c = h->curl;
        /* What never changes between requests. HTTPS alone, no redirects,
         * the one CA file and no other (CAPATH off: the system's CAs are
         * not trusted for this server), peer and host name verified. */
        bool ok = curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_SSLVERSION, (long) CURL_SSLVERSION_TLSv1_2) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_CAINFO, h->ca_file) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_CAPATH, NULL) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long) h->connect_timeout) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_TIMEOUT, (long) h->timeout) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t) h->max_response) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_USERAGENT, "rampart/" RAMPART_VERSION) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->errbuf) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_WRITEDATA, h) == CURLE_OK;
        if (ok && h->tls_setup)
                ok = curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx) == CURLE_OK &&
                     curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, h) == CURLE_OK;
        if (!ok)
                return rp_error_set(err, -EOPNOTSUPP, "libcurl %s lacks an option rampart needs (HTTPS with "
                                    "OpenSSL)", curl_version_info(CURLVERSION_NOW)->version);
        *ret = TAKE_PTR(h);
        return 0;
}

char *rp_http_escape(const char *s) {
        static const char hex[] = "0123456789ABCDEF";
        size_t n = strlen(s);
        char *out = malloc(3 * n + 1), *o = out;
        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                unsigned char ch = (unsigned char) s[i];
                if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
                    ch == '-' || ch == '.' || ch == '_' || ch == '~')
                        *o++ = (char) ch;
                else {
                        *o++ = '%';
                        *o++ = hex[ch >> 4];
                        *o++ = hex[ch & 15];
                }
        }
        *o = '\0';
        return out;
}

/* The error code the request failed with when no answer came; err names
 * what to check. */
int rp_http_transfer_error(rp_http *h, CURLcode rc, const char *method, const char *path, rp_error *err) {
        const char *why = h->errbuf[0] ? h->errbuf : curl_easy_strerror(rc);
        if (h->tls_r < 0) {
                if (err)
                        *err = h->tls_err;
                return rp_error_prefix(err, h->tls_r, "TLS client authentication to %s: ", h->server);
        }
        if (h->too_big)
                return rp_error_set(err, -EFBIG, "%s %s%s: the answer is larger than %zu bytes", method,
                                    h->server, path, h->max_response);
        switch (rc) {
        case CURLE_OUT_OF_MEMORY:
                return rp_error_set(err, -ENOMEM, "out of memory");
        case CURLE_COULDNT_RESOLVE_HOST:
                return rp_error_set(err, -EHOSTUNREACH, "cannot connect to %s: %s: is the host name right?",
                                    h->server, why);
        case CURLE_COULDNT_CONNECT:
                return rp_error_set(err, -ECONNREFUSED, "cannot connect to %s: %s: is rampart-server running "
                                    "and listening there?", h->server, why);
        case CURLE_OPERATION_TIMEDOUT:
                return rp_error_set(err, -ETIMEDOUT, "%s %s%s: no answer in time (%s): is rampart-server "
                                    "running there, and not overloaded?", method, h->server, path, why);
        case CURLE_PEER_FAILED_VERIFICATION:
                return rp_error_set(err, -EKEYREJECTED, "%s: the server's certificate does not verify with the "
                                    "CA file %s (%s): is that file the server's DATA_DIR/tls/ca.pem, and does "
                                    "the URL name a host its certificate names?", h->server, h->ca_file, why);
        case CURLE_SSL_CACERT_BADFILE:
                return rp_error_set(err, -EINVAL, "the CA file %s cannot be used: %s", h->ca_file, why);
        case CURLE_SSL_CONNECT_ERROR:
                return rp_error_set(err, -EPROTO, "TLS handshake with %s failed (%s): is that rampart-server's "
                                    "HTTPS port?", h->server, why);
        case CURLE_GOT_NOTHING:
                return rp_error_set(err, -ECONNRESET, "%s %s%s: the server closed the connection without an "
                                    "answer", method, h->server, path);
        case CURLE_SEND_ERROR:
        case CURLE_RECV_ERROR:
                return rp_error_set(err, -ECONNRESET, "%s %s%s: the connection failed: %s", method, h->server,
                                    path, why);
        case CURLE_FILESIZE_EXCEEDED:
                return rp_error_set(err, -EFBIG, "%s %s%s: the answer is larger than %zu bytes", method,
                                    h->server, path, h->max_response);
        default:
                return rp_error_set(err, -EIO, "%s %s%s: %s", method, h->server, path, why);
        }
}

static int status_errno(long status) {
        switch (status) {
        case 400:
                return -EINVAL;
        case 401:
                return -EACCES;
        case 403:
                return -EPERM;
        case 404:
                return -ENOENT;
        case 409:
                return -EEXIST;
        case 413:
                return -EFBIG;
        case 429:
        case 503:
                return -EAGAIN;
        default:
                return -EPROTO;
        }
}

/* A code clients can switch on: snake_case ASCII. */
static bool code_is_valid(const char *s) {
        size_t n = strlen(s);
        if (n == 0 || n >= RP_HTTP_CODE_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
                        return false;
        return true;
}

int rp_http_refusal(const char *body, size_t len, long status, const char *server, rp_http_status *st,
                    rp_error *err) {
        json_t *j = json_loadb(body ? body : "", body ? len : 0, JSON_REJECT_DUPLICATES, NULL);
        json_t *e = json_object_get(j, "error");
        const char *code = json_string_value(json_object_get(e, "code"));
        const char *msg = json_string_value(json_object_get(e, "message"));
        int r;
        st->status = status;
        st->code[0] = '\0';
        if (code && code_is_valid(code)) {
                snprintf(st->code, sizeof st->code, "%s", code);
                r = rp_error_set(err, status_errno(status), "server refused: %s: %s (HTTP %ld)", code,
                                 msg ? msg : "(no message)", status);
        } else
                r = rp_error_set(err, status_errno(status), "server refused: HTTP %ld without an error object "
                                 "(is %s rampart-server?)", status, server);
        json_decref(j);
        return r;
}

static void wipe_headers(struct curl_slist *l) {
        for (struct curl_slist *p = l; p; p = p->next)
                OPENSSL_cleanse(p->data, strlen(p->data));
        curl_slist_free_all(l);
}

/* Sends the request; on a 2xx answer the body is in h->buf/h->len. */
static int perform(rp_http *h, const char *method, const char *path, const char *content_type, const void *body,
                   size_t body_len, const char *accept, rp_http_status *st, rp_error *err) {
        *st = (rp_http_status) {};
        if (path[0] != '/')
                return rp_error_set(err, -EINVAL, "request path '%s': must start with '/'", path);
        _cleanup_free_ char *url = NULL, *ct = NULL;
        if (asprintf(&url, "%s%s", h->server, path) < 0) {
                url = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        if (content_type && asprintf(&ct, "Content-Type: %s", content_type) < 0) {
                ct = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }

        struct curl_slist *headers = NULL, *t;
        const char *lines[] = { accept, ct, "Expect:", h->auth_header };
        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                if (!lines[i])
                        continue;
                if (!(t = curl_slist_append(headers, lines[i]))) {
                        wipe_headers(headers);
                        return rp_error_set(err, -ENOMEM, "out of memory");
                }
                headers = t;
        }

        CURL *c = h->curl;
        bool get = streq(method, "GET") || (!content_type && streq(method, "DELETE"));
        bool ok = curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
                  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers) == CURLE_OK;
        if (ok && get)
                ok = curl_easy_setopt(c, CURLOPT_HTTPGET, 1L) == CURLE_OK;
        else if (ok)
                ok = curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK &&
                     curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) (body ? body_len : 0)) ==
                             CURLE_OK &&
                     curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "") == CURLE_OK;
        if (ok)
                ok = curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST,
                                      streq(method, "GET") || streq(method, "POST") ? NULL : method) == CURLE_OK;
        if (!ok) {
                curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
                wipe_headers(headers);
                return rp_error_set(err, -ENOMEM, "out of memory (setting up the request)");
        }

        if (h->buf)
                OPENSSL_cleanse(h->buf, h->len + 1);
        h->len = 0;
        h->too_big = false;
        h->tls_r = 0;
        h->errbuf[0] = '\0';
        CURLcode rc = curl_easy_perform(c);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, NULL);
        wipe_headers(headers);
        if (rc != CURLE_OK)
                return rp_http_transfer_error(h, rc, method, path, err);

        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        st->status = status;
        curl_off_t retry_after = 0;
        if ((status == 429 || status == 503) &&
            curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
                st->retry_after = retry_after > 3600 ? 3600 : (unsigned) retry_after;
        if (status < 200 || status > 299)
                return rp_http_refusal(h->buf, h->len, status, h->server, st, err);
        return 0;
}

int rp_http_json(rp_http *h, const char *method, const char *path, const json_t *body, json_t **ret_json,
                 rp_http_status *ret_status, rp_error *err) {
        rp_http_status st;
        _cleanup_free_ char *json = NULL;
        if (body && !(json = json_dumps(body, JSON_COMPACT)))
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = perform(h, method, path, json ? "application/json" : NULL, json, json ? strlen(json) : 0,
                        "Accept: application/json", &st, err);
        if (ret_status)
                *ret_status = st;
        if (r < 0)
                return r;
        json_t *j = NULL;
        if (h->len > 0) {
                json_error_t jerr;
                j = json_loadb(h->buf, h->len, JSON_REJECT_DUPLICATES, &jerr);
                if (!j)
                        return rp_error_set(err, -EBADMSG, "%s %s%s: the answer (HTTP %ld) is not JSON: line %d: %s",
                                            method, h->server, path, st.status, jerr.line, jerr.text);
        }
        if (ret_json)
                *ret_json = j;
        else
                json_decref(j);
        return 0;
}

int rp_http_get_raw(rp_http *h, const char *path, char **ret_body, size_t *ret_len, rp_http_status *ret_status,
                    rp_error *err) {
        return rp_http_request(h, "GET", path, NULL, NULL, 0, NULL, ret_body, ret_len, ret_status, err);
}

int rp_http_request(rp_http *h, const char *method, const char *path, const char *content_type, const void *body,
                    size_t len, const char *accept, char **ret_body, size_t *ret_len, rp_http_status *ret_status,
                    rp_error *err) {
        rp_http_status st;
        _cleanup_free_ char *accept_line = NULL;
        if (asprintf(&accept_line, "Accept: %s", accept ? accept : "*/*") < 0) {
                accept_line = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        int r = perform(h, method, path, content_type, body, len, accept_line, &st, err);
        if (ret_status)
                *ret_status = st;
        if (r < 0)
                return r;
        if (!ret_body)
                return 0;
        char *copy = malloc(h->len + 1);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        if (h->len)
                memcpy(copy, h->buf, h->len);
        copy[h->len] = '\0';
        *ret_body = copy;
        if (ret_len)
                *ret_len = h->len;
        return 0;
}
