/* SPDX-License-Identifier: Apache-2.0 */
/* The HTTPS JSON client (lib/client/http.c) against a TLS server in this
 * process that answers what each case needs, including what rampart-server
 * never sends: an error without an error object, a body that is not JSON,
 * an answer over the size limit, no answer at all. Also: what the client
 * sends (method, path, token, JSON body), a server certificate from another
 * CA, nothing listening, configurations it refuses, a TLS set-up callback
 * that fails, and path escaping. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "client/http.h"
#include "core/macro.h"
#include "testlib.h"

static char *ca_pem, *other_ca_pem, *cert_pem, *key_pem;

/* A CA and a server certificate for 127.0.0.1, and another CA, made with
 * the openssl command in the test directory. */
static int setup(void **state) {
        const char *d = test_tmpdir();
        char cmd[4096];
        snprintf(cmd, sizeof cmd,
                 "(set -e; cd '%s'; "
                 "openssl ecparam -name prime256v1 -genkey -noout -out ca.key; "
                 "openssl req -new -x509 -key ca.key -subj /CN=ca -days 2 -out ca.pem "
                 "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
                 "openssl ecparam -name prime256v1 -genkey -noout -out other.key; "
                 "openssl req -new -x509 -key other.key -subj /CN=other -days 2 -out other.pem "
                 "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign; "
                 "openssl ecparam -name prime256v1 -genkey -noout -out server.key; "
                 "openssl req -new -key server.key -subj /CN=127.0.0.1 -out server.csr; "
                 "printf 'subjectAltName=IP:127.0.0.1\\n' >server.ext; "
                 "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 "
                 "-extfile server.ext -out server.pem) >/dev/null 2>&1",
                 d);
        if (system(cmd) != 0)
                return -1;
        ca_pem = test_path(d, "ca.pem");
        other_ca_pem = test_path(d, "other.pem");
        cert_pem = test_path(d, "server.pem");
        key_pem = test_path(d, "server.key");
        return 0;
}

/* --- the server: one connection, one canned answer ------------------------ */

typedef struct server {
        int fd;
        int port;
        const char *answer;     /* the whole HTTP response; NULL: never answer */
        size_t answer_len;
        char request[16384];    /* what came: request line, headers, body */
        size_t request_len;
        pthread_t thread;
} server;

/* Reads until the headers and a Content-Length body are in. */
static void read_request(SSL *ssl, server *s) {
        for (;;) {
                int n = SSL_read(ssl, s->request + s->request_len, (int) (sizeof s->request - 1 - s->request_len));
                if (n <= 0)
                        return;
                s->request_len += (size_t) n;
                s->request[s->request_len] = '\0';
                char *end = strstr(s->request, "\r\n\r\n");
                if (!end)
                        continue;
                const char *cl = strcasestr(s->request, "Content-Length:");
                size_t body = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;
                if (s->request_len >= (size_t) (end + 4 - s->request) + body)
                        return;
        }
}

static void *serve(void *arg) {
        server *s = arg;
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        assert_non_null(ctx);
        assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, cert_pem), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key_pem, SSL_FILETYPE_PEM), 1);
        int c = accept(s->fd, NULL, NULL);
        if (c >= 0) {
                SSL *ssl = SSL_new(ctx);
                SSL_set_fd(ssl, c);
                if (SSL_accept(ssl) == 1) {
                        read_request(ssl, s);
                        if (s->answer)
                                SSL_write(ssl, s->answer, (int) s->answer_len);
                        else {
                                char b;
                                while (SSL_read(ssl, &b, 1) > 0)    /* until the client gives up */
                                        ;
                        }
                        SSL_shutdown(ssl);
                }
                SSL_free(ssl);
                close(c);
        }
        SSL_CTX_free(ctx);
        return NULL;
}

static void server_start(server *s, const char *answer) {
        memset(s, 0, sizeof *s);
        s->answer = answer;
        s->answer_len = answer ? strlen(answer) : 0;
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->fd >= 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        assert_int_equal(bind(s->fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(s->fd, 1), 0);
        assert_int_equal(getsockname(s->fd, (struct sockaddr *) &a, &len), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

static void server_stop(server *s) {
        pthread_join(s->thread, NULL);
        close(s->fd);
}

static rp_http *client(const server *s, const char *ca, const char *token, unsigned timeout, size_t max) {
        char url[64];
        snprintf(url, sizeof url, "https://127.0.0.1:%d", s->port);
        rp_http_config cfg = { .server = url, .ca_file = ca, .token = token, .timeout = timeout,
                               .max_response = max };
        rp_http *h = NULL;
        rp_error err = {};
        if (rp_http_new(&cfg, &h, &err) < 0)
                fail_msg("rp_http_new: %s", err.message);
        return h;
}

#define JSON_OK "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n" \
                "{\"tenants\": [42]}"

static void test_request_and_answer(void **state) {
        server s;
        server_start(&s, JSON_OK);
        _cleanup_(rp_http_freep) rp_http *h = client(&s, ca_pem, "rpt_secret", 0, 0);
        json_t *body = json_pack("{s:s}", "name", "a b/c"), *ans = NULL;
        rp_http_status st;
        rp_error err = {};
        _cleanup_free_ char *seg = rp_http_escape("a b/c");
        char path[128];
        snprintf(path, sizeof path, "/v1/tenants/%s", seg);
        assert_int_equal(rp_http_json(h, "PATCH", path, body, &ans, &st, &err), 0);
        json_decref(body);
        server_stop(&s);
        assert_int_equal(st.status, 200);
        assert_string_equal(st.code, "");
        assert_int_equal(json_integer_value(json_array_get(json_object_get(ans, "tenants"), 0)), 42);
        json_decref(ans);
        if (strncmp(s.request, "PATCH /v1/tenants/a%20b%2Fc HTTP/1.1\r\n", 38) != 0)
                fail_msg("request line: %.60s", s.request);
        assert_non_null(strstr(s.request, "\r\nAuthorization: Bearer rpt_secret\r\n"));
        assert_non_null(strstr(s.request, "\r\nContent-Type: application/json\r\n"));
        assert_non_null(strstr(s.request, "\r\nAccept: application/json\r\n"));
        assert_non_null(strstr(s.request, "\r\n\r\n{\"name\":\"a b/c\"}"));
}

static void test_get_without_token(void **state) {
        server s;
        server_start(&s, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
        _cleanup_(rp_http_freep) rp_http *h = client(&s, ca_pem, NULL, 0, 0);
        json_t *ans = (json_t *) 0x1;
        rp_error err = {};
        assert_int_equal(rp_http_json(h, "DELETE", "/v1/tokens/x", NULL, &ans, NULL, &err), 0);
        server_stop(&s);
        assert_null(ans);       /* an empty answer */
        assert_non_null(strstr(s.request, "DELETE /v1/tokens/x HTTP/1.1\r\n"));
        assert_null(strstr(s.request, "Authorization"));
        assert_null(strstr(s.request, "Content-Type"));
}

/* One answer, the error it must give. */
static void expect_answer_error(const char *answer, size_t max, int code, long status, const char *want_code,
                                const char *msg) {
        server s;
        server_start(&s, answer);
        _cleanup_(rp_http_freep) rp_http *h = client(&s, ca_pem, "t", 0, max);
        json_t *ans = (json_t *) 0x1;
        rp_http_status st;
        rp_error err = {};
        int r = rp_http_json(h, "GET", "/v1/x", NULL, &ans, &st, &err);
        server_stop(&s);
        if (r != code || st.status != status || strcmp(st.code, want_code) != 0 || !strstr(err.message, msg))
                fail_msg("got %d, HTTP %ld, code '%s', '%s'; expected %d, HTTP %ld, code '%s', '%s'", r, st.status,
                         st.code, err.message, code, status, want_code, msg);
        assert_ptr_equal(ans, (json_t *) 0x1);  /* untouched */
}


static void test_refusals(void **state) {
        static const char forbidden[] = "{\"error\": {\"code\": \"forbidden\", \"message\": \"Readers read\"}}";
        char a[512];
        snprintf(a, sizeof a, "HTTP/1.1 403 Forbidden\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 strlen(forbidden), forbidden);
        expect_answer_error(a, 0, -EPERM, 403, "forbidden", "server refused: forbidden: Readers read (HTTP 403)");
        static const char unauth[] = "{\"error\": {\"code\": \"unauthenticated\", \"message\": \"no\"}}";
        snprintf(a, sizeof a, "HTTP/1.1 401 Unauthorized\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 strlen(unauth), unauth);
        expect_answer_error(a, 0, -EACCES, 401, "unauthenticated", "server refused: unauthenticated: no (HTTP 401)");
        /* Not rampart-server's: no error object, or a code no client could
         * switch on (kept out of the status). */
        expect_answer_error("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 5\r\nConnection: close\r\n\r\n<html",
                            0, -EPROTO, 502, "", "server refused: HTTP 502 without an error object");
        static const char odd[] = "{\"error\": {\"code\": \"Bad Code\\n\", \"message\": \"x\"}}";
        snprintf(a, sizeof a, "HTTP/1.1 404 Not Found\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                 strlen(odd), odd);
        expect_answer_error(a, 0, -ENOENT, 404, "", "without an error object");
        /* A 2xx answer that is not JSON. */
        expect_answer_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", 0, -EBADMSG,
                            200, "", "GET https://127.0.0.1:");
        expect_answer_error("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello", 0, -EBADMSG,
                            200, "", "/v1/x: the answer (HTTP 200) is not JSON: line 1");
}

static void test_size_limit(void **state) {
        /* With and without Content-Length: curl stops either way. */
        char a[8192];
        int n = snprintf(a, sizeof a, "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n[");
        memset(a + n, ' ', 2998);
        strcpy(a + n + 2998, "]");
        expect_answer_error(a, 1000, -EFBIG, 0, "", "larger than 1000 bytes");
        n = snprintf(a, sizeof a, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n[");
        memset(a + n, ' ', 2998);
        strcpy(a + n + 2998, "]");
        expect_answer_error(a, 1000, -EFBIG, 0, "", "the answer is larger than 1000 bytes");
        /* At the limit: fine. */
        server s;
        n = snprintf(a, sizeof a, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n[");
        memset(a + n, ' ', 998);
        strcpy(a + n + 998, "]");
        server_start(&s, a);
        _cleanup_(rp_http_freep) rp_http *h = client(&s, ca_pem, NULL, 0, 1000);
        json_t *ans = NULL;
        rp_error err = {};
        assert_int_equal(rp_http_json(h, "GET", "/", NULL, &ans, NULL, &err), 0);
        server_stop(&s);
        assert_true(json_is_array(ans));
        json_decref(ans);
}

static void test_timeout(void **state) {
        server s;
        server_start(&s, NULL);         /* takes the request, never answers */
        _cleanup_(rp_http_freep) rp_http *h = client(&s, ca_pem, NULL, 1, 0);
        rp_error err = {};
        rp_http_status st;
        int r = rp_http_json(h, "GET", "/v1/whoami", NULL, NULL, &st, &err);
        rp_http_free(TAKE_PTR(h));      /* closes the connection: the server's thread ends */
        server_stop(&s);
        assert_int_equal(r, -ETIMEDOUT);
        assert_int_equal(st.status, 0);
        assert_non_null(strstr(err.message, "GET https://127.0.0.1:"));
        assert_non_null(strstr(err.message, "/v1/whoami: no answer in time"));
}

static void test_connection_failures(void **state) {
        /* Nothing listening: a port that was free a moment ago. */
        server s;
        server_start(&s, JSON_OK);
        int port = s.port;
        {
                /* ... the server's certificate checked with another CA. */
                _cleanup_(rp_http_freep) rp_http *h = client(&s, other_ca_pem, NULL, 0, 0);
                rp_error err = {};
                assert_int_equal(rp_http_json(h, "GET", "/", NULL, NULL, NULL, &err), -EKEYREJECTED);
                assert_non_null(strstr(err.message, "the server's certificate does not verify with the CA file"));
                assert_non_null(strstr(err.message, "other.pem"));
                assert_non_null(strstr(err.message, "is that file the server's DATA_DIR/tls/ca.pem"));
        }
        server_stop(&s);
        s.port = port;
        _cleanup_(rp_http_freep) rp_http *h = client(&s, ca_pem, NULL, 0, 0);
        rp_error err = {};
        assert_int_equal(rp_http_json(h, "GET", "/", NULL, NULL, NULL, &err), -ECONNREFUSED);
        assert_non_null(strstr(err.message, "cannot connect to https://127.0.0.1:"));
        assert_non_null(strstr(err.message, "is rampart-server running and listening there?"));
}

static int failing_setup(SSL_CTX *ctx, void *userdata, rp_error *err) {
        (*(int *) userdata)++;
        return rp_error_set(err, -ENOKEY, "no key for you");
}

static void test_tls_setup_failure(void **state) {
        server s;
        server_start(&s, JSON_OK);
        char url[64];
        snprintf(url, sizeof url, "https://127.0.0.1:%d", s.port);
        int calls = 0;
        rp_http_config cfg = { .server = url, .ca_file = ca_pem, .tls_setup = failing_setup, .tls_userdata = &calls };
        _cleanup_(rp_http_freep) rp_http *h = NULL;
        rp_error err = {};
        assert_int_equal(rp_http_new(&cfg, &h, &err), 0);
        assert_int_equal(rp_http_json(h, "GET", "/", NULL, NULL, NULL, &err), -ENOKEY);
        assert_int_equal(calls, 1);
        if (!strstr(err.message, "TLS client authentication to https://127.0.0.1:") ||
            !strstr(err.message, ": no key for you"))
                fail_msg("message: %s", err.message);
        /* The server saw a connection with no request; unblock it. */
        int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) s.port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        connect(c, (struct sockaddr *) &a, sizeof a);
        close(c);
        server_stop(&s);
}

static void expect_config_error(const char *url, const char *ca, const char *token, const char *msg) {
        rp_http_config cfg = { .server = url, .ca_file = ca, .token = token };
        rp_http *h = (rp_http *) 0x1;
        rp_error err = {};
        int r = rp_http_new(&cfg, &h, &err);
        if (r >= 0 || !strstr(err.message, msg))
                fail_msg("%s %s: got %d '%s', expected '%s'", url, token ? token : "", r, err.message, msg);
        assert_ptr_equal(h, (rp_http *) 0x1);
}

static void test_config(void **state) {
        expect_config_error("http://127.0.0.1:1", ca_pem, NULL, "must start with https://");
        expect_config_error("https://", ca_pem, NULL, "not a URL with a host");
        expect_config_error("https://127.0.0.1:1/?a=b", ca_pem, NULL, "may not hold a user name, a query");
        expect_config_error("https://127.0.0.1:1/#x", ca_pem, NULL, "may not hold");
        expect_config_error("https://u:p@127.0.0.1:1", ca_pem, NULL, "may not hold a user name");
        expect_config_error("https://127.0.0.1:1 x", ca_pem, NULL, "character 20 is a space");
        expect_config_error("", ca_pem, NULL, "expected 1 to 2048 characters");
        expect_config_error("https://127.0.0.1:1", NULL, NULL, "no CA file");
        expect_config_error("https://127.0.0.1:1", key_pem, NULL, "holds no PEM certificate");
        _cleanup_free_ char *missing = test_path(test_tmpdir(), "missing.pem");
        expect_config_error("https://127.0.0.1:1", missing, NULL, "the CA file: ");
        expect_config_error("https://127.0.0.1:1", ca_pem, "rpt_a\r\nX-Evil: 1", "character 6 is a space, a control");
        expect_config_error("https://127.0.0.1:1", ca_pem, "a b", "character 2 is a space");
        expect_config_error("https://127.0.0.1:1", ca_pem, "", "expected 1 to 1024 characters");
        /* Fine: a trailing slash is dropped, a path prefix kept. */
        rp_http_config cfg = { .server = "https://127.0.0.1:1/base//", .ca_file = ca_pem, .token = "rpt_x" };
        _cleanup_(rp_http_freep) rp_http *h = NULL;
        rp_error err = {};
        assert_int_equal(rp_http_new(&cfg, &h, &err), 0);
        assert_string_equal(rp_http_server(h), "https://127.0.0.1:1/base");
        assert_int_equal(rp_http_json(h, "GET", "v1", NULL, NULL, NULL, &err), -EINVAL);
        assert_non_null(strstr(err.message, "must start with '/'"));
}

static void test_escape(void **state) {
        static const struct {
                const char *in, *out;
        } cases[] = {
                { "", "" },
                { "acme", "acme" },
                { "A-z_0.9~", "A-z_0.9~" },
                { "a b", "a%20b" },
                { "../x", "..%2Fx" },
                { "?&=#%", "%3F%26%3D%23%25" },
                { "\xce\xa9\n", "%CE%A9%0A" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *e = rp_http_escape(cases[i].in);
                assert_string_equal(e, cases[i].out);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_request_and_answer),
                cmocka_unit_test(test_get_without_token),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_size_limit),
                cmocka_unit_test(test_timeout),
                cmocka_unit_test(test_connection_failures),
                cmocka_unit_test(test_tls_setup_failure),
                cmocka_unit_test(test_config),
                cmocka_unit_test(test_escape),
        };
        return test_exit(cmocka_run_group_tests(tests, setup, NULL));
}
