/* SPDX-License-Identifier: Apache-2.0 */
/* Resumable downloads (rp_http_download_file, lib/client/download.c)
 * against a TLS server in this process that answers each connection as
 * the case needs, well or badly: the whole body, the rest of it (206), the
 * whole body where a range was asked for, more bytes than the size
 * (endless data: by Content-Length, by Content-Range, by the bytes), a
 * stall (slow retrieval), a cut, 416, another range, an error object.
 * What the client asked for is checked too (Range, If-Range). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "client/http.h"
#include "core/macro.h"
#include "testlib.h"

static char *ca_pem, *cert_pem, *key_pem;

#define SIZE 100000u
static char body[SIZE];

static int setup(void **state) {
        const char *d = test_tmpdir();
        char cmd[4096];
        snprintf(cmd, sizeof cmd,
                 "(set -e; cd '%s'; "
                 "openssl ecparam -name prime256v1 -genkey -noout -out ca.key; "
                 "openssl req -new -x509 -key ca.key -subj /CN=ca -days 2 -out ca.pem "
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
        cert_pem = test_path(d, "server.pem");
        key_pem = test_path(d, "server.key");
        for (size_t i = 0; i < SIZE; i++)
                body[i] = (char) ('a' + (i * 7 + i / 251) % 26);
        return 0;
}

/* --- the server: one answer per connection, in order ----------------------- */

typedef enum how {
        SEND,           /* the head, then body[from..to) */
        CUT,            /* the head, then body[from..from+n), then close */
        STALL,          /* the head, then n bytes, then nothing until the client goes */
        ENDLESS,        /* the head, then bytes until the client goes (10 x SIZE at most) */
} how;

typedef struct answer {
        const char *head;       /* status line and headers, up to and with the empty line */
        how how;
        size_t from, to, n;
} answer;
#define A_SEND(h, f, t) { .head = (h), .how = SEND, .from = (f), .to = (t) }
#define A_CUT(h, f, k) { .head = (h), .how = CUT, .from = (f), .n = (k) }
#define A_STALL(h, k) { .head = (h), .how = STALL, .n = (k) }
#define A_ENDLESS(h) { .head = (h), .how = ENDLESS }

#define MAX_ANSWERS 3
typedef struct server {
        int fd, port;
        const answer *answers;
        size_t n_answers;
        char requests[MAX_ANSWERS][4096];
        size_t served;
        pthread_t thread;
} server;

static void read_head(SSL *ssl, char *req, size_t cap) {
        size_t len = 0;
        while (len < cap - 1) {
                int n = SSL_read(ssl, req + len, (int) (cap - 1 - len));
                if (n <= 0)
                        break;
                len += (size_t) n;
                req[len] = '\0';
                if (strstr(req, "\r\n\r\n"))
                        break;
        }
}

static void *serve(void *arg) {
        server *s = arg;
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        assert_non_null(ctx);
        assert_int_equal(SSL_CTX_use_certificate_chain_file(ctx, cert_pem), 1);
        assert_int_equal(SSL_CTX_use_PrivateKey_file(ctx, key_pem, SSL_FILETYPE_PEM), 1);
        for (size_t i = 0; i < s->n_answers; i++) {
                int c = accept(s->fd, NULL, NULL);
                if (c < 0)
                        break;
                SSL *ssl = SSL_new(ctx);
                SSL_set_fd(ssl, c);
                if (SSL_accept(ssl) == 1) {
                        const answer *a = &s->answers[i];
                        read_head(ssl, s->requests[i], sizeof s->requests[i]);
                        s->served++;
                        SSL_write(ssl, a->head, (int) strlen(a->head));
                        char b;
                        switch (a->how) {
                        case SEND:
                                if (a->to > a->from)
                                        SSL_write(ssl, body + a->from, (int) (a->to - a->from));
                                break;
                        case CUT:
                                SSL_write(ssl, body + a->from, (int) a->n);
                                break;
                        case STALL:
                                SSL_write(ssl, body, (int) a->n);
                                while (SSL_read(ssl, &b, 1) > 0)        /* until the client gives up */
                                        ;
                                break;
                        case ENDLESS:
                                /* Ten times the size: a client without its cap fails the test
                                 * rather than hang it. */
                                for (size_t k = 0; k < 10 * SIZE / 4096; k++)
                                        if (SSL_write(ssl, body, 4096) <= 0)
                                                break;
                                break;
                        }
                        SSL_shutdown(ssl);
                }
                SSL_free(ssl);
                close(c);
        }
        SSL_CTX_free(ctx);
        return NULL;
}

static void server_start(server *s, const answer *answers, size_t n) {
        memset(s, 0, sizeof *s);
        assert_true(n <= MAX_ANSWERS);
        s->answers = answers;
        s->n_answers = n;
        s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(s->fd >= 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t len = sizeof a;
        assert_int_equal(bind(s->fd, (struct sockaddr *) &a, sizeof a), 0);
        assert_int_equal(listen(s->fd, 4), 0);
        assert_int_equal(getsockname(s->fd, (struct sockaddr *) &a, &len), 0);
        s->port = ntohs(a.sin_port);
        assert_int_equal(pthread_create(&s->thread, NULL, serve, s), 0);
}

/* Waits for the server; a server that still waits for a connection (the
 * client made fewer than expected) is woken by one that sends nothing. */
static void server_stop(server *s) {
        while (s->served < s->n_answers) {
                int c = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
                struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) s->port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
                if (connect(c, (struct sockaddr *) &a, sizeof a) == 0)
                        close(c);
                else
                        close(c);
                s->served++;
        }
        pthread_join(s->thread, NULL);
        close(s->fd);
}

static rp_http *client(const server *s) {
        char url[64];
        snprintf(url, sizeof url, "https://127.0.0.1:%d", s->port);
        rp_http_config cfg = { .server = url, .ca_file = ca_pem, .max_response = 1024, .timeout = 1 };
        rp_http *h = NULL;
        rp_error err = {};
        if (rp_http_new(&cfg, &h, &err) < 0)
                fail_msg("rp_http_new: %s", err.message);
        return h;
}

/* A part file holding body[0..n) (or, with junk, n other bytes). */
static char *part_file(const char *name, size_t n, bool junk) {
        char *p = test_path(test_tmpdir(), name);
        unlink(p);
        if (n) {
                _cleanup_free_ char *b = malloc(n);
                assert_non_null(b);
                memcpy(b, body, n);
                if (junk)
                        memset(b, 'X', n);
                test_write_file(p, b, n);
        }
        return p;
}

static size_t file_size(const char *p) {
        struct stat st;
        return stat(p, &st) == 0 ? (size_t) st.st_size : 0;
}

static void expect_whole(const char *p) {
        size_t len = 0;
        _cleanup_free_ uint8_t *got = test_read_file(p, &len);
        assert_int_equal(len, SIZE);
        assert_memory_equal(got, body, SIZE);
}

typedef struct result {
        int r;
        uint64_t resumed;
        rp_http_status st;
        rp_error err;
} result;

/* Downloads /img into file from a server giving answers; *ret the result. */
static void run(const answer *answers, size_t n, const char *file, const char *etag, unsigned low_time,
                server *s, result *ret) {
        server_start(s, answers, n);
        _cleanup_(rp_http_freep) rp_http *h = client(s);
        rp_http_download d = { .path = "/img", .file = file, .size = SIZE, .etag = etag, .low_speed_limit = 1000,
                               .low_speed_time = low_time };
        *ret = (result) { .resumed = 12345 };
        ret->r = rp_http_download_file(h, &d, &ret->resumed, &ret->st, &ret->err);
        server_stop(s);
}

#define H200 "HTTP/1.1 200 OK\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n"

static void test_whole(void **state) {
        _cleanup_free_ char *p = part_file("whole.part", 0, false);
        const answer a[] = { A_SEND(H200, 0, SIZE) };
        server s;
        result res;
        run(a, 1, p, "\"e\"", 0, &s, &res);
        if (res.r != 0)
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(res.resumed, 0);
        assert_int_equal(res.st.status, 200);
        expect_whole(p);
        assert_non_null(strstr(s.requests[0], "GET /img HTTP/1.1\r\n"));
        assert_null(strcasestr(s.requests[0], "\r\nRange:"));
        assert_null(strcasestr(s.requests[0], "\r\nIf-Range:"));
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_resume(void **state) {
        _cleanup_free_ char *p = part_file("resume.part", 30000, false);
        const answer a[] = { A_SEND("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 30000-99999/100000\r\n"
                               "Content-Length: 70000\r\nConnection: close\r\n\r\n", 30000, SIZE) };
        server s;
        result res;
        run(a, 1, p, "\"e1\"", 0, &s, &res);
        if (res.r != 0)
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(res.resumed, 30000);
        assert_int_equal(res.st.status, 206);
        expect_whole(p);
        assert_non_null(strstr(s.requests[0], "\r\nRange: bytes=30000-\r\n"));
        assert_non_null(strstr(s.requests[0], "\r\nIf-Range: \"e1\"\r\n"));
}

/* The part file's bytes are not the server's (If-Range did not match, or
 * the server ignores ranges): a 200 replaces them all. */
static void test_whole_instead_of_part(void **state) {
        _cleanup_free_ char *p = part_file("replace.part", 40000, true);
        const answer a[] = { A_SEND(H200, 0, SIZE) };
        server s;
        result res;
        run(a, 1, p, NULL, 0, &s, &res);
        if (res.r != 0)
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(res.resumed, 0);
        expect_whole(p);
        assert_non_null(strstr(s.requests[0], "\r\nRange: bytes=40000-\r\n"));
        assert_null(strcasestr(s.requests[0], "\r\nIf-Range:"));       /* no ETag given */
}

/* A cut transfer keeps what came; the next one resumes from there. */
static void test_cut_then_resume(void **state) {
        _cleanup_free_ char *p = part_file("cut.part", 0, false);
        const answer a[] = { A_CUT(H200, 0, 25000) };
        server s;
        result res;
        run(a, 1, p, NULL, 0, &s, &res);
        if (res.r != -ECONNRESET || !strstr(res.err.message, "ended at 25000 of 100000 bytes"))
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(res.resumed, 12345);           /* untouched on failure */
        assert_int_equal(file_size(p), 25000);
        const answer b[] = { A_SEND("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 25000-99999/100000\r\n"
                               "Content-Length: 75000\r\nConnection: close\r\n\r\n", 25000, SIZE) };
        run(b, 1, p, NULL, 0, &s, &res);
        if (res.r != 0)
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(res.resumed, 25000);
        expect_whole(p);
}

/* Endless data, three ways; nothing beyond the size is ever written. */
static void test_endless(void **state) {
        static const struct {
                answer a;
                const char *msg;
                size_t max_written;
        } cases[] = {
                { A_ENDLESS("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"), "sent more than the 100000 bytes",
                  SIZE },
                { A_SEND("HTTP/1.1 200 OK\r\nContent-Length: 100001\r\nConnection: close\r\n\r\n", 0, SIZE),
                  "a Content-Length of 100001 bytes", 0 },
                { A_ENDLESS("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 10-200009/200010\r\n"
                    "Connection: close\r\n\r\n"), "Content-Range says the body is 200010 bytes", 10 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *p = part_file("endless.part", i == 2 ? 10 : 0, false);
                server s;
                result res;
                run(&cases[i].a, 1, p, NULL, 0, &s, &res);
                if (res.r != -EFBIG || !strstr(res.err.message, "endless data") ||
                    !strstr(res.err.message, cases[i].msg))
                        fail_msg("case %zu: %d %s", i, res.r, res.err.message);
                if (file_size(p) > cases[i].max_written)
                        fail_msg("case %zu: %zu bytes written", i, file_size(p));
        }
}

/* A server that stops sending is given up on after low_speed_time. */
static void test_slow_retrieval(void **state) {
        _cleanup_free_ char *p = part_file("slow.part", 0, false);
        const answer a[] = { A_STALL(H200, 10) };
        server s;
        result res;
        run(a, 1, p, NULL, 1, &s, &res);
        if (res.r != -ETIMEDOUT || !strstr(res.err.message, "slow retrieval: less than 1000 bytes a second for 1 "
                                                             "seconds, at 10 of 100000 bytes"))
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(file_size(p), 10);
}

/* 416: the server has no such range; started over, once. */
static void test_416(void **state) {
        _cleanup_free_ char *p = part_file("416.part", 500, false);
        const answer a[] = {
                A_SEND("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0, 0),
                A_SEND(H200, 0, SIZE),
        };
        server s;
        result res;
        run(a, 2, p, NULL, 0, &s, &res);
        if (res.r != 0)
                fail_msg("%d %s", res.r, res.err.message);
        assert_int_equal(res.resumed, 0);
        expect_whole(p);
        assert_non_null(strstr(s.requests[0], "\r\nRange: bytes=500-\r\n"));
        assert_null(strcasestr(s.requests[1], "\r\nRange:"));
        /* 416 twice: the second is the server's refusal. */
        _cleanup_free_ char *q = part_file("416b.part", 500, false);
        const answer b[] = {
                A_SEND("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0, 0),
                A_SEND("HTTP/1.1 416 Range Not Satisfiable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", 0, 0),
        };
        run(b, 2, q, NULL, 0, &s, &res);
        if (res.r != -EPROTO || res.st.status != 416)
                fail_msg("%d %ld %s", res.r, res.st.status, res.err.message);
}

static void test_refusals(void **state) {
        static const struct {
                size_t have;
                answer a;
                int code;
                const char *msg;
        } cases[] = {
                { 0, A_SEND("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: 50\r\n"
                            "Connection: close\r\n\r\n{\"error\":{\"code\":\"not_found\",\"message\":\"no such\"}}", 0,
                            0),
                  -ENOENT, "server refused: not_found: no such (HTTP 404)" },
                { 100, A_SEND("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 200-99999/100000\r\n"
                         "Connection: close\r\n\r\n", 200, SIZE),
                  -EBADMSG, "another range (bytes 200-99999/100000) than the one asked for (100-)" },
                { 100, A_SEND("HTTP/1.1 206 Partial Content\r\nContent-Range: bytes 100-999/1000\r\n"
                         "Connection: close\r\n\r\n", 100, 1000),
                  -EBADMSG, "another range" },
                { 100, A_SEND("HTTP/1.1 206 Partial Content\r\nConnection: close\r\n\r\n", 100, SIZE),
                  -EBADMSG, "without a Content-Range" },
                { 0, A_SEND("HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", 0, 0), -EBADMSG,
                  "neither the body nor a part of it" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *p = part_file("refused.part", cases[i].have, false);
                server s;
                result res;
                run(&cases[i].a, 1, p, NULL, 0, &s, &res);
                if (res.r != cases[i].code || !strstr(res.err.message, cases[i].msg))
                        fail_msg("case %zu: %d %s", i, res.r, res.err.message);
                assert_int_equal(file_size(p), cases[i].have);
        }
}

/* A part file that is whole already: no request; a larger one starts over. */
static void test_have_all(void **state) {
        _cleanup_free_ char *p = part_file("all.part", SIZE, false);
        server s;
        result res;
        run(NULL, 0, p, NULL, 0, &s, &res);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.resumed, SIZE);
        assert_int_equal(s.served, 0);
        test_write_file(p, body, SIZE);
        FILE *f = fopen(p, "a");
        assert_non_null(f);
        fputs("more", f);
        fclose(f);
        const answer a[] = { A_SEND(H200, 0, SIZE) };
        run(a, 1, p, NULL, 0, &s, &res);
        assert_int_equal(res.r, 0);
        assert_int_equal(res.resumed, 0);
        assert_null(strcasestr(s.requests[0], "\r\nRange:"));
        expect_whole(p);
}

static int stop_at_half(void *userdata, uint64_t have, uint64_t total) {
        uint64_t *calls = userdata;
        (*calls)++;
        assert_int_equal(total, SIZE);
        return have >= total / 2;
}

static void test_progress(void **state) {
        _cleanup_free_ char *p = part_file("progress.part", 0, false);
        const answer a[] = { A_SEND(H200, 0, SIZE) };
        server s;
        server_start(&s, a, 1);
        _cleanup_(rp_http_freep) rp_http *h = client(&s);
        uint64_t calls = 0;
        rp_http_download d = { .path = "/img", .file = p, .size = SIZE, .progress = stop_at_half, .userdata = &calls };
        rp_error err = {};
        int r = rp_http_download_file(h, &d, NULL, NULL, &err);
        server_stop(&s);
        if (r != -ECANCELED || !strstr(err.message, "stopped at"))
                fail_msg("%d %s", r, err.message);
        assert_true(calls >= 1);
        assert_true(file_size(p) >= SIZE / 2 && file_size(p) < SIZE);
}

/* A part file another download holds (its lock): refused, untouched. */
static void test_busy(void **state) {
        _cleanup_free_ char *p = part_file("busy.part", 100, false);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        server s = { .port = 1 };
        _cleanup_(rp_http_freep) rp_http *h = client(&s);
        rp_http_download d = { .path = "/img", .file = p, .size = SIZE };
        rp_error err = {};
        assert_int_equal(rp_http_download_file(h, &d, NULL, NULL, &err), -EBUSY);
        assert_non_null(strstr(err.message, "another download into this part file is running"));
        assert_int_equal(file_size(p), 100);
}

static void test_bad_file(void **state) {
        server s = { .port = 1 };
        _cleanup_(rp_http_freep) rp_http *h = client(&s);
        rp_http_download d = { .path = "/img", .file = test_tmpdir(), .size = SIZE };
        rp_error err = {};
        assert_int_equal(rp_http_download_file(h, &d, NULL, NULL, &err), -EISDIR);
        d.file = "/nonexistent/dir/x.part";
        assert_int_equal(rp_http_download_file(h, &d, NULL, NULL, &err), -ENOENT);
        assert_non_null(strstr(err.message, "cannot open the part file /nonexistent/dir/x.part"));
        d.path = "img";
        assert_int_equal(rp_http_download_file(h, &d, NULL, NULL, &err), -EINVAL);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_whole),
                cmocka_unit_test(test_resume),
                cmocka_unit_test(test_whole_instead_of_part),
                cmocka_unit_test(test_cut_then_resume),
                cmocka_unit_test(test_endless),
                cmocka_unit_test(test_slow_retrieval),
                cmocka_unit_test(test_416),
                cmocka_unit_test(test_refusals),
                cmocka_unit_test(test_have_all),
                cmocka_unit_test(test_progress),
                cmocka_unit_test(test_busy),
                cmocka_unit_test(test_bad_file),
        };
        return test_exit(cmocka_run_group_tests(tests, setup, NULL));
}
