/* SPDX-License-Identifier: Apache-2.0 */
/* A misbehaving HTTPS client for integration/server-limits: each mode does
 * one thing a hostile or broken client does to rampart-server and prints
 * what the server did about it. No timing is judged here: a mode waits, up
 * to a bound, for an outcome (the server closing the connection, a status
 * line) and says which one it saw.
 *
 *   http-attack slowloris PORT MAX     TLS, then a request's header lines one
 *                                      byte a second, never ending them
 *   http-attack slowbody PORT MAX      TLS, complete headers announcing a
 *                                      body, then the body one byte a second
 *   http-attack hello PORT MAX         plain TCP: a TLS ClientHello, then
 *                                      silence
 *       each prints "closed after N s" and exits 0 once the server closes
 *       the connection, or prints "still open after MAX s" and exits 1
 *   http-attack raw PORT               TLS, then stdin's bytes as they are;
 *                                      prints the answer's status line, or
 *                                      "closed" if the server closed the
 *                                      connection without one (exit 0)
 *   http-attack plain PORT             the same without TLS
 *   http-attack hold PORT N [tls]      opens N connections (plain TCP, or
 *                                      with a completed TLS handshake),
 *                                      prints "connected N", and holds them
 *                                      until SIGTERM or SIGINT; then prints
 *                                      "open M" (how many the server had not
 *                                      closed) and exits 0
 * The host is always 127.0.0.1. Exit 2: a usage or local error. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static int die(const char *what) {
        fprintf(stderr, "http-attack: %s: %s\n", what, strerror(errno));
        exit(2);
}

static int tcp_connect(int port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port) };
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (fd < 0)
                die("socket");
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                die("connect");
        return fd;
}

static SSL_CTX *client_ctx(void) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx) {
                ERR_print_errors_fp(stderr);
                exit(2);
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);         /* an attacker trusts anything */
        return ctx;
}

/* A TLS connection on fd, which is non-blocking afterwards: SSL_read
 * must not wait for application data behind a session ticket. */
static SSL *tls_connect(SSL_CTX *ctx, int fd) {
        SSL *ssl = SSL_new(ctx);
        if (!ssl || SSL_set_fd(ssl, fd) != 1 || SSL_connect(ssl) != 1) {
                ERR_print_errors_fp(stderr);
                fprintf(stderr, "http-attack: TLS handshake failed\n");
                exit(2);
        }
        if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0)
                die("fcntl");
        return ssl;
}

/* Waits up to ms for the server to say something or close; true if the
 * connection is closed (end of stream or reset). Reads and drops data. */
static bool closed_within(int fd, SSL *ssl, int ms) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        double end = now() + ms / 1000.0;
        for (;;) {
                int left = (int) ((end - now()) * 1000);
                if (left <= 0)
                        return false;
                int r = poll(&p, 1, left);
                if (r <= 0)
                        return false;
                char buf[4096];
                if (ssl) {
                        int n = SSL_read(ssl, buf, sizeof buf);
                        if (n <= 0) {
                                int e = SSL_get_error(ssl, n);
                                if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
                                        return true;
                        }
                } else {
                        ssize_t n = recv(fd, buf, sizeof buf, 0);
                        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
                                return true;
                }
        }
}

/* All n bytes, waiting (up to a minute) while the socket is full; false
 * once the connection is closed. */
static bool send_bytes(int fd, SSL *ssl, const char *b, size_t n) {
        double end = now() + 60;
        while (n > 0 && now() < end) {
                ssize_t k;
                if (ssl) {
                        int r = SSL_write(ssl, b, (int) n);
                        int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(ssl, r);
                        if (e != SSL_ERROR_NONE && e != SSL_ERROR_WANT_WRITE && e != SSL_ERROR_WANT_READ)
                                return false;
                        k = r > 0 ? r : 0;
                } else {
                        k = send(fd, b, n, MSG_NOSIGNAL | MSG_DONTWAIT);
                        if (k < 0 && errno != EAGAIN && errno != EINTR)
                                return false;
                        k = k < 0 ? 0 : k;
                }
                b += k;
                n -= (size_t) k;
                if (n > 0) {
                        struct pollfd p = { .fd = fd, .events = POLLOUT };
                        (void) poll(&p, 1, 1000);
                }
        }
        return n == 0;
}

/* Sends head at once, then trickle one byte a second (cycling), until the
 * server closes the connection or max seconds pass. */
static int trickle(int port, const char *head, const char *trickle_text, int max, bool tls) {
        SSL_CTX *ctx = client_ctx();
        int fd = tcp_connect(port);
        SSL *ssl = tls ? tls_connect(ctx, fd) : NULL;
        double start = now();
        bool closed = !send_bytes(fd, ssl, head, strlen(head));
        size_t i = 0, n = strlen(trickle_text);
        while (!closed && now() - start < max) {
                closed = closed_within(fd, ssl, 1000);
                if (!closed && n)
                        closed = !send_bytes(fd, ssl, &trickle_text[i++ % n], 1);
        }
        if (closed)
                printf("closed after %.0f s\n", now() - start);
        else
                printf("still open after %d s\n", max);
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
        return closed ? 0 : 1;
}

/* The first flight of a TLS 1.3 client, made through a memory BIO. */
static size_t client_hello(char *out, size_t size) {
        SSL_CTX *ctx = client_ctx();
        SSL *ssl = SSL_new(ctx);
        BIO *rbio = BIO_new(BIO_s_mem()), *wbio = BIO_new(BIO_s_mem());
        if (!ssl || !rbio || !wbio) {
                fprintf(stderr, "http-attack: out of memory\n");
                exit(2);
        }
        SSL_set_bio(ssl, rbio, wbio);
        (void) SSL_connect(ssl);        /* wants to read: the ClientHello is in wbio */
        int n = BIO_read(wbio, out, (int) size);
        SSL_free(ssl);
        SSL_CTX_free(ctx);
        if (n <= 0) {
                fprintf(stderr, "http-attack: no ClientHello\n");
                exit(2);
        }
        return (size_t) n;
}

static int hello(int port, int max) {
        char ch[4096];
        size_t n = client_hello(ch, sizeof ch);
        int fd = tcp_connect(port);
        double start = now();
        bool closed = !send_bytes(fd, NULL, ch, n);
        while (!closed && now() - start < max)
                closed = closed_within(fd, NULL, 1000);
        if (closed)
                printf("closed after %.0f s\n", now() - start);
        else
                printf("still open after %d s\n", max);
        close(fd);
        return closed ? 0 : 1;
}

/* stdin as it is, then the answer's first line. */
static int raw(int port, bool tls) {
        static char req[8 << 20];
        size_t n = fread(req, 1, sizeof req, stdin);
        SSL_CTX *ctx = client_ctx();
        int fd = tcp_connect(port);
        SSL *ssl = tls ? tls_connect(ctx, fd) : NULL;
        /* The server may answer and close before reading everything. */
        for (size_t off = 0; off < n; ) {
                size_t chunk = n - off < 16384 ? n - off : 16384;
                if (!send_bytes(fd, ssl, req + off, chunk))
                        break;
                off += chunk;
        }
        char resp[4096];
        size_t got = 0;
        struct pollfd p = { .fd = fd, .events = POLLIN };
        double end = now() + 60;
        while (got < sizeof resp - 1 && !memchr(resp, '\n', got) && now() < end) {
                if (poll(&p, 1, 1000) <= 0)
                        continue;
                int k;
                if (ssl) {
                        k = SSL_read(ssl, resp + got, (int) (sizeof resp - 1 - got));
                        if (k <= 0 && SSL_get_error(ssl, k) == SSL_ERROR_WANT_READ)
                                continue;
                } else {
                        k = (int) recv(fd, resp + got, sizeof resp - 1 - got, 0);
                }
                if (k <= 0)
                        break;
                got += (size_t) k;
        }
        resp[got] = '\0';
        char *eol = strpbrk(resp, "\r\n");
        if (eol)
                *eol = '\0';
        if (got && strncmp(resp, "HTTP/", 5) == 0)
                printf("%s\n", resp);
        else if (got)
                printf("garbage\n");
        else
                printf("closed\n");
        SSL_free(ssl);
        close(fd);
        SSL_CTX_free(ctx);
        return 0;
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) {
        stop = 1;
}

static int hold(int port, int count, bool tls) {
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t) count + 64) {
                rl.rlim_cur = rl.rlim_max;
                if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < (rlim_t) count + 64) {
                        fprintf(stderr, "http-attack: the open-file limit (%llu) is too low for %d connections\n",
                                (unsigned long long) rl.rlim_cur, count);
                        return 2;
                }
        }
        struct sigaction sa = { .sa_handler = on_signal };
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGINT, &sa, NULL);
        SSL_CTX *ctx = client_ctx();
        int *fds = calloc((size_t) count, sizeof *fds);
        SSL **ssls = calloc((size_t) count, sizeof *ssls);
        if (!fds || !ssls)
                die("calloc");
        for (int i = 0; i < count && !stop; i++) {
                fds[i] = tcp_connect(port);
                if (tls)
                        ssls[i] = tls_connect(ctx, fds[i]);
        }
        printf("connected %d\n", count);
        fflush(stdout);
        while (!stop)
                pause();
        /* Still open: no end of stream and no reset (what the server sent,
         * TLS session tickets for one, is read and dropped). */
        int open = 0;
        for (int i = 0; i < count; i++) {
                char buf[4096];
                ssize_t n;
                while ((n = recv(fds[i], buf, sizeof buf, MSG_DONTWAIT)) > 0)
                        ;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                        open++;
                SSL_free(ssls[i]);
                close(fds[i]);
        }
        printf("open %d\n", open);
        free(fds);
        free(ssls);
        SSL_CTX_free(ctx);
        return 0;
}

int main(int argc, char **argv) {
        if (argc < 3) {
                fprintf(stderr, "usage: http-attack MODE PORT [ARGS] (see the source)\n");
                return 2;
        }
        setvbuf(stdout, NULL, _IOLBF, 0);
        const char *mode = argv[1];
        int port = atoi(argv[2]);
        int arg = argc > 3 ? atoi(argv[3]) : 0;
        if (strcmp(mode, "slowloris") == 0 && argc == 4)
                return trickle(port, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n", "X-Slow: abcdefgh\r\n", arg,
                               true);
        if (strcmp(mode, "slowbody") == 0 && argc == 4)
                return trickle(port,
                               "POST /v1/attest/nonce HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                               "Content-Length: 1000\r\n\r\n", "{\"device_id\": \"", arg, true);
        if (strcmp(mode, "hello") == 0 && argc == 4)
                return hello(port, arg);
        if (strcmp(mode, "raw") == 0 && argc == 3)
                return raw(port, true);
        if (strcmp(mode, "plain") == 0 && argc == 3)
                return raw(port, false);
        if (strcmp(mode, "hold") == 0 && (argc == 4 || argc == 5) && arg > 0)
                return hold(port, arg, argc == 5 && strcmp(argv[4], "tls") == 0);
        fprintf(stderr, "http-attack: unknown mode or wrong arguments\n");
        return 2;
}
