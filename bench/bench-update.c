/* SPDX-License-Identifier: Apache-2.0 */
/* An HTTPS load generator with TLS client certificates, for device routes
 * and for the reference server they are compared with (bench/update):
 * N keep-alive connections, each sending "GET PATH HTTP/1.1" and reading
 * the whole answer (Content-Length or chunked) before the next request, on
 * one epoll loop per thread. wrk cannot present a client certificate;
 * this tool does, from a key file or from rampart-secmon (the device's
 * Alias key, signing inside secmon through the rampart-secmon OpenSSL
 * provider, as a device does).
 *
 *   bench-update --ca CA --cert CERT --key KEY|rampart-secmon:SOCKET
 *                [-c CONNECTIONS] [-t THREADS] [-d SECONDS] [-w WARMUP]
 *                [-n REQUESTS] [--expect STATUS] [-o FILE]
 *                [--server-pid PID[,PID...]] URL
 *
 * The client side is TLS 1.3 only, without session resumption (each
 * connection makes one full handshake, then keeps to keep-alive). The
 * first WARMUP seconds (default 1; 0 with -n) are not counted. With -n the
 * run ends after that many answers (or -d seconds, whichever comes first).
 * -o writes the body of the first answer to FILE.
 *
 * Prints one "key value" line per result, for bench/update:
 *   connections, threads, handshakes, requests (answers with the expected
 *   status, counted in the window), errors (other statuses, broken
 *   connections), seconds (the window), rate (requests per second),
 *   body_bytes (body bytes received in the window, whole answers or not),
 *   mib_per_second, last_body_size, latency_us_p50/p90/p99/max (request
 *   written to answer read), client_cpu_seconds, and with --server-pid
 *   server_cpu_seconds (user + system of those processes in the window). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core/macro.h"
#include "secmon/provider.h"

#define HEADER_MAX (16 * 1024)  /* an answer's header block */
#define READ_CHUNK (64 * 1024)
#define CONNECTIONS_MAX 10000
#define PIDS_MAX 16
/* Latency histogram: exact below 2^SUB_BITS microseconds, then 2^SUB_BITS
 * buckets per power of two (under 0.2% error) up to 2^40 us. */
#define SUB_BITS 9
#define HIST_BUCKETS ((40 - SUB_BITS + 1) << SUB_BITS)

typedef enum conn_state {
        ST_CONNECTING,
        ST_HANDSHAKE,
        ST_WRITING,
        ST_READING,
        ST_DONE,
} conn_state;

typedef enum chunk_state {
        CH_SIZE,        /* reading the "HEX[;ext]\r\n" line */
        CH_DATA,
        CH_DATA_END,    /* the CRLF after the data */
        CH_TRAILER,     /* header lines after the last chunk, to an empty one */
} chunk_state;

typedef struct worker worker;

typedef struct conn {
        worker *w;
        int fd;
        SSL *ssl;
        conn_state st;
        uint32_t events;        /* what epoll waits for now */
        uint64_t t_sent;        /* ns, when the request went out */
        /* the answer being read */
        char hdr[HEADER_MAX];
        size_t hdr_len;
        bool in_body, chunked, close_after;
        int status;
        uint64_t left;          /* body bytes still to come (Content-Length, or this chunk) */
        chunk_state ch;
        char line[128];
        size_t line_len;
        uint64_t body_size;
        FILE *save;             /* -o: this answer's body goes there */
} conn;

struct worker {
        pthread_t thread;
        int ep;
        conn *conns;
        size_t n_conns;
        /* results */
        uint64_t requests, errors, handshakes, body_bytes, last_body_size;
        uint64_t hist[HIST_BUCKETS];
        uint64_t lat_max;
};

static struct {
        char host[256], port[16], path[2048];
        struct addrinfo *addr;
        SSL_CTX *ctx;
        char request[4096];
        size_t request_len;
        unsigned connections, threads;
        double seconds, warmup;
        uint64_t max_requests;
        int expect;
        const char *output;
        pid_t pids[PIDS_MAX];
        size_t n_pids;
} opt = { .connections = 1, .threads = 1, .seconds = 5, .warmup = -1, .expect = 200 };

static uint64_t t_start, t_window, t_end;       /* ns */
static atomic_uint_fast64_t answers_total;       /* for -n */
static atomic_bool stop_all;
static atomic_bool output_taken;
static atomic_bool reported_status;

static uint64_t now_ns(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000000000u + (uint64_t) ts.tv_nsec;
}

__attribute__((format(printf, 1, 2), noreturn))
static void die(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fprintf(stderr, "bench-update: ");
        vfprintf(stderr, fmt, ap);
        fprintf(stderr, "\n");
        va_end(ap);
        ERR_print_errors_fp(stderr);
        exit(1);
}

/* --- latency histogram --- */

static size_t hist_index(uint64_t v) {
        if (v < (1u << SUB_BITS))
                return (size_t) v;
        int e = 63 - __builtin_clzll(v);                /* 2^e <= v */
        size_t shift = (size_t) e - SUB_BITS;
        size_t i = ((size_t) (e - SUB_BITS + 1) << SUB_BITS) + (size_t) ((v >> shift) - (1u << SUB_BITS));
        return i < HIST_BUCKETS ? i : HIST_BUCKETS - 1;
}

/* The smallest value of bucket i. */
static uint64_t hist_value(size_t i) {
        if (i < (1u << SUB_BITS))
                return i;
        size_t e = (i >> SUB_BITS) + SUB_BITS - 1;
        uint64_t sub = (i & ((1u << SUB_BITS) - 1)) + (1u << SUB_BITS);
        return sub << (e - SUB_BITS);
}

static uint64_t hist_percentile(const uint64_t *h, uint64_t total, double p) {
        if (total == 0)
                return 0;
        uint64_t want = (uint64_t) ((double) total * p / 100.0 + 0.5), seen = 0;
        if (want == 0)
                want = 1;
        for (size_t i = 0; i < HIST_BUCKETS; i++) {
                seen += h[i];
                if (seen >= want)
                        return hist_value(i);
        }
        return hist_value(HIST_BUCKETS - 1);
}

/* --- connections --- */

static void set_events(conn *c, uint32_t ev) {
        if (c->events == ev)
                return;
        struct epoll_event e = { .events = ev, .data.ptr = c };
        if (epoll_ctl(c->w->ep, EPOLL_CTL_MOD, c->fd, &e) < 0)
                die("epoll_ctl: %s", strerror(errno));
        c->events = ev;
}

static void conn_close(conn *c) {
        if (c->ssl)
                SSL_free(c->ssl);
        c->ssl = NULL;
        if (c->fd >= 0)
                close(c->fd);       /* leaves the epoll set with it */
        c->fd = -1;
        if (c->save) {
                fclose(c->save);
                c->save = NULL;
        }
}

static void conn_open(conn *c) {
        const struct addrinfo *ai = opt.addr;
        c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (c->fd < 0)
                die("socket: %s", strerror(errno));
        int one = 1;
        (void) setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS)
                die("connect: %s", strerror(errno));
        c->ssl = SSL_new(opt.ctx);
        if (!c->ssl || SSL_set_fd(c->ssl, c->fd) != 1)
                die("%s", "SSL_new failed");
        struct in6_addr ip;
        X509_VERIFY_PARAM *vp = SSL_get0_param(c->ssl);
        bool is_ip = inet_pton(AF_INET, opt.host, &ip) == 1 || inet_pton(AF_INET6, opt.host, &ip) == 1;
        if ((is_ip ? X509_VERIFY_PARAM_set1_ip_asc(vp, opt.host) : X509_VERIFY_PARAM_set1_host(vp, opt.host, 0)) != 1)
                die("%s: cannot set the name to verify", opt.host);
        if (!is_ip)
                (void) SSL_set_tlsext_host_name(c->ssl, opt.host);
        c->st = ST_CONNECTING;
        c->events = EPOLLOUT;
        struct epoll_event e = { .events = EPOLLOUT, .data.ptr = c };
        if (epoll_ctl(c->w->ep, EPOLL_CTL_ADD, c->fd, &e) < 0)
                die("epoll_ctl: %s", strerror(errno));
}

static bool in_window(uint64_t t) {
        return t >= t_window && t < t_end;
}

/* A broken connection or an unusable answer: counted, and a new one made. */
static void conn_failed(conn *c, const char *why) {
        if (in_window(now_ns()))
                c->w->errors++;
        if (!atomic_exchange(&reported_status, true))
                fprintf(stderr, "bench-update: a connection failed: %s\n", why);
        ERR_clear_error();
        conn_close(c);
        if (atomic_load(&stop_all))
                c->st = ST_DONE;
        else
                conn_open(c);
}

static void body_bytes(conn *c, const char *p, size_t n) {
        c->body_size += n;
        if (in_window(now_ns()))
                c->w->body_bytes += n;
        if (c->save && fwrite(p, 1, n, c->save) != n)
                die("%s: cannot write", opt.output);
}

/* The status line and the headers we need. */
static int parse_header(conn *c, size_t end) {
        c->hdr[end] = '\0';
        if (strncmp(c->hdr, "HTTP/1.1 ", 9) != 0 && strncmp(c->hdr, "HTTP/1.0 ", 9) != 0)
                return -1;
        c->status = atoi(c->hdr + 9);
        c->close_after = strncmp(c->hdr, "HTTP/1.0 ", 9) == 0;
        bool have_length = false;
        c->left = 0;
        c->chunked = false;
        for (char *line = strstr(c->hdr, "\r\n"); line && line[2]; line = strstr(line + 2, "\r\n")) {
                char *h = line + 2;
                if (strncasecmp(h, "Content-Length:", 15) == 0) {
                        c->left = strtoull(h + 15, NULL, 10);
                        have_length = true;
                } else if (strncasecmp(h, "Transfer-Encoding:", 18) == 0 && strcasestr(h, "chunked")) {
                        c->chunked = true;
                } else if (strncasecmp(h, "Connection:", 11) == 0) {
                        const char *v = h + 11;
                        while (*v == ' ')
                                v++;
                        if (strncasecmp(v, "close", 5) == 0)
                                c->close_after = true;
                        else if (strncasecmp(v, "keep-alive", 10) == 0)
                                c->close_after = false;
                }
        }
        if (c->chunked) {
                c->ch = CH_SIZE;
                c->line_len = 0;
        } else if (!have_length && c->status != 204 && c->status != 304) {
                return -1;      /* a body to the end of the connection: not keep-alive */
        }
        if (atomic_load(&answers_total) == 0 && opt.output && c->status == opt.expect &&
            !atomic_exchange(&output_taken, true)) {
                c->save = fopen(opt.output, "we");
                if (!c->save)
                        die("%s: cannot create", opt.output);
        }
        return 0;
}

/* One line of a chunked body into c->line; true once it is whole. */
static bool take_line(conn *c, const char **p, size_t *n) {
        while (*n > 0) {
                char ch = **p;
                (*p)++;
                (*n)--;
                if (ch == '\n') {
                        if (c->line_len && c->line[c->line_len - 1] == '\r')
                                c->line_len--;
                        c->line[c->line_len] = '\0';
                        return true;
                }
                if (c->line_len + 1 >= sizeof c->line)
                        c->line_len = sizeof c->line - 2;       /* chunk extensions: only the size matters */
                c->line[c->line_len++] = ch;
        }
        return false;
}

/* Feeds n bytes of the answer: 1 when it is complete, 0 for more, -1 if it
 * is not HTTP we can read. */
static int feed(conn *c, const char *p, size_t n) {
        while (n > 0 || (c->in_body && !c->chunked && c->left == 0)) {
                if (!c->in_body) {
                        size_t old = c->hdr_len, room = HEADER_MAX - 1 - old;
                        size_t k = n < room ? n : room;
                        memcpy(c->hdr + old, p, k);
                        c->hdr_len += k;
                        c->hdr[c->hdr_len] = '\0';
                        char *end = strstr(c->hdr + (old > 3 ? old - 3 : 0), "\r\n\r\n");
                        if (!end) {
                                if (c->hdr_len == HEADER_MAX - 1)
                                        return -1;
                                return 0;
                        }
                        size_t hend = (size_t) (end - c->hdr) + 4;
                        size_t used = hend - old;
                        p += used;
                        n -= used;
                        if (parse_header(c, hend - 2) < 0)
                                return -1;
                        c->in_body = true;
                        continue;
                }
                if (!c->chunked) {
                        if (c->left == 0)
                                return n == 0 ? 1 : -1;         /* nothing was asked after this answer */
                        size_t k = n < c->left ? n : (size_t) c->left;
                        body_bytes(c, p, k);
                        p += k;
                        n -= k;
                        c->left -= k;
                        if (c->left == 0)
                                return n == 0 ? 1 : -1;
                        continue;
                }
                switch (c->ch) {
                case CH_SIZE:
                        if (!take_line(c, &p, &n))
                                return 0;
                        char *e;
                        errno = 0;
                        c->left = strtoull(c->line, &e, 16);
                        if (e == c->line || errno)
                                return -1;
                        c->line_len = 0;
                        c->ch = c->left ? CH_DATA : CH_TRAILER;
                        break;
                case CH_DATA: {
                        size_t k = n < c->left ? n : (size_t) c->left;
                        body_bytes(c, p, k);
                        p += k;
                        n -= k;
                        c->left -= k;
                        if (c->left == 0)
                                c->ch = CH_DATA_END;
                        break;
                }
                case CH_DATA_END:
                        if (!take_line(c, &p, &n))
                                return 0;
                        if (c->line_len != 0)
                                return -1;
                        c->ch = CH_SIZE;
                        break;
                case CH_TRAILER:
                        if (!take_line(c, &p, &n))
                                return 0;
                        if (c->line_len == 0)
                                return n == 0 ? 1 : -1;
                        c->line_len = 0;
                        break;
                }
        }
        return 0;
}

/* The answer is whole: count it. Returns false if the connection must go. */
static bool answered(conn *c) {
        uint64_t t = now_ns();
        worker *w = c->w;
        if (c->save) {
                if (fclose(c->save) != 0)
                        die("%s: cannot write", opt.output);
                c->save = NULL;
        }
        bool good = c->status == opt.expect;
        if (!good && !atomic_exchange(&reported_status, true))
                fprintf(stderr, "bench-update: HTTP %d (expected %d): %.400s\n", c->status, opt.expect, c->hdr);
        if (in_window(t)) {
                if (good) {
                        w->requests++;
                        uint64_t us = (t - c->t_sent) / 1000;
                        w->hist[hist_index(us)]++;
                        if (us > w->lat_max)
                                w->lat_max = us;
                } else {
                        w->errors++;
                }
        }
        w->last_body_size = c->body_size;
        uint64_t total = atomic_fetch_add(&answers_total, 1) + 1;
        if (opt.max_requests && total >= opt.max_requests)
                atomic_store(&stop_all, true);
        return !c->close_after;
}

static void start_request(conn *c) {
        c->st = ST_WRITING;
        c->hdr_len = 0;
        c->in_body = false;
        c->body_size = 0;
        c->t_sent = now_ns();
}

/* Moves c on as far as it goes without blocking. */
static void step(conn *c) {
        char buf[READ_CHUNK];
        for (;;) {
                if (atomic_load(&stop_all) && c->st != ST_READING) {
                        conn_close(c);
                        c->st = ST_DONE;
                        return;
                }
                switch (c->st) {
                case ST_CONNECTING: {
                        int e = 0;
                        socklen_t len = sizeof e;
                        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0 || e)
                                die("connect: %s", strerror(e ? e : errno));
                        c->st = ST_HANDSHAKE;
                        break;
                }
                case ST_HANDSHAKE: {
                        int r = SSL_connect(c->ssl);
                        if (r == 1) {
                                c->w->handshakes++;
                                start_request(c);
                                break;
                        }
                        int e = SSL_get_error(c->ssl, r);
                        if (e == SSL_ERROR_WANT_READ)
                                return set_events(c, EPOLLIN);
                        if (e == SSL_ERROR_WANT_WRITE)
                                return set_events(c, EPOLLOUT);
                        long v = SSL_get_verify_result(c->ssl);
                        die("TLS handshake failed%s%s", v != X509_V_OK ? ": " : "",
                            v != X509_V_OK ? X509_verify_cert_error_string(v) : "");
                }
                case ST_WRITING: {
                        /* The request is small: OpenSSL writes all of it or
                         * asks for the same call again. */
                        int r = SSL_write(c->ssl, opt.request, (int) opt.request_len);
                        if (r > 0) {
                                c->st = ST_READING;
                                break;
                        }
                        int e = SSL_get_error(c->ssl, r);
                        if (e == SSL_ERROR_WANT_READ)
                                return set_events(c, EPOLLIN);
                        if (e == SSL_ERROR_WANT_WRITE)
                                return set_events(c, EPOLLOUT);
                        return conn_failed(c, "write failed");
                }
                case ST_READING: {
                        int r = SSL_read(c->ssl, buf, sizeof buf);
                        if (r <= 0) {
                                int e = SSL_get_error(c->ssl, r);
                                if (e == SSL_ERROR_WANT_READ)
                                        return set_events(c, EPOLLIN);
                                if (e == SSL_ERROR_WANT_WRITE)
                                        return set_events(c, EPOLLOUT);
                                return conn_failed(c, "the server closed the connection mid-answer");
                        }
                        int k = feed(c, buf, (size_t) r);
                        if (k < 0)
                                return conn_failed(c, "an answer that is not HTTP/1.1 with a length");
                        if (k == 0)
                                break;
                        if (!answered(c)) {
                                conn_close(c);
                                if (atomic_load(&stop_all)) {
                                        c->st = ST_DONE;
                                        return;
                                }
                                conn_open(c);
                                return;
                        }
                        start_request(c);
                        break;
                }
                case ST_DONE:
                        return;
                }
        }
}

static void *worker_main(void *arg) {
        worker *w = arg;
        w->ep = epoll_create1(EPOLL_CLOEXEC);
        if (w->ep < 0)
                die("epoll_create1: %s", strerror(errno));
        for (size_t i = 0; i < w->n_conns; i++) {
                w->conns[i] = (conn) { .w = w, .fd = -1 };
                conn_open(&w->conns[i]);
        }
        struct epoll_event evs[256];
        for (;;) {
                uint64_t t = now_ns();
                if (t >= t_end)
                        atomic_store(&stop_all, true);
                if (atomic_load(&stop_all))
                        break;
                int n = epoll_wait(w->ep, evs, ELEMENTSOF(evs), 10);
                if (n < 0 && errno != EINTR)
                        die("epoll_wait: %s", strerror(errno));
                for (int i = 0; i < n; i++)
                        step(evs[i].data.ptr);
        }
        for (size_t i = 0; i < w->n_conns; i++)
                conn_close(&w->conns[i]);
        close(w->ep);
        return NULL;
}

/* --- set-up --- */

static double cpu_seconds_of(pid_t pid) {
        char path[64], buf[1024];
        snprintf(path, sizeof path, "/proc/%d/stat", (int) pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return 0;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        const char *p = strrchr(buf, ')');      /* the command name may hold spaces */
        unsigned long long utime = 0, stime = 0;
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
                return 0;
        return (double) (utime + stime) / (double) sysconf(_SC_CLK_TCK);
}

static double servers_cpu(void) {
        double s = 0;
        for (size_t i = 0; i < opt.n_pids; i++)
                s += cpu_seconds_of(opt.pids[i]);
        return s;
}

static double self_cpu(void) {
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        return (double) ru.ru_utime.tv_sec + (double) ru.ru_utime.tv_usec / 1e6 + (double) ru.ru_stime.tv_sec +
               (double) ru.ru_stime.tv_usec / 1e6;
}

static void sleep_until(uint64_t t) {
        for (uint64_t n; (n = now_ns()) < t && !atomic_load(&stop_all); ) {
                uint64_t d = t - n < 10000000u ? t - n : 10000000u;
                struct timespec ts = { 0, (long) d };
                nanosleep(&ts, NULL);
        }
}

static void parse_url(const char *url) {
        const char *p = url;
        if (strncmp(p, "https://", 8) != 0)
                die("%s: the URL must be https://HOST:PORT/PATH", url);
        p += 8;
        const char *host_end;
        if (*p == '[') {
                host_end = strchr(p, ']');
                if (!host_end)
                        die("%s: an unclosed '['", url);
                snprintf(opt.host, sizeof opt.host, "%.*s", (int) (host_end - p - 1), p + 1);
                host_end++;
        } else {
                host_end = p + strcspn(p, ":/");
                snprintf(opt.host, sizeof opt.host, "%.*s", (int) (host_end - p), p);
        }
        const char *path = strchr(host_end, '/');
        if (*host_end == ':')
                snprintf(opt.port, sizeof opt.port, "%.*s",
                         (int) ((path ? path : host_end + strlen(host_end)) - host_end - 1), host_end + 1);
        else
                snprintf(opt.port, sizeof opt.port, "443");
        snprintf(opt.path, sizeof opt.path, "%s", path ? path : "/");
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                                  .ai_flags = AI_NUMERICSERV };
        int r = getaddrinfo(opt.host, opt.port, &hints, &opt.addr);
        if (r != 0)
                die("cannot resolve %s", opt.host);
        bool v6 = strchr(opt.host, ':') != NULL;
        int n = snprintf(opt.request, sizeof opt.request,
                         "GET %s HTTP/1.1\r\nHost: %s%s%s:%s\r\nUser-Agent: bench-update\r\n"
                         "Accept: */*\r\n\r\n", opt.path, v6 ? "[" : "", opt.host, v6 ? "]" : "", opt.port);
        if (n < 0 || (size_t) n >= sizeof opt.request)
                die("%s: too long", url);
        opt.request_len = (size_t) n;
}

static void setup_tls(const char *ca, const char *cert, const char *key) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1)
                die("%s", "cannot make a TLS context");
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (SSL_CTX_load_verify_locations(ctx, ca, NULL) != 1)
                die("%s: cannot load the server CA", ca);
        if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1)
                die("%s: cannot load the client certificate", cert);
        size_t plen = strlen(RP_SECMON_URI_SCHEME ":");
        if (strncmp(key, RP_SECMON_URI_SCHEME ":", plen) == 0) {
                rp_error err = {};
                EVP_PKEY *pkey = NULL;
                if (rp_secmon_tls_key(NULL, key + plen, &pkey, &err) < 0)
                        die("%s", err.message);
                int ok = SSL_CTX_use_PrivateKey(ctx, pkey);
                EVP_PKEY_free(pkey);
                if (ok != 1)
                        die("%s: the key does not match the certificate", key);
        } else if (SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
                die("%s: cannot load the client key", key);
        }
        if (SSL_CTX_check_private_key(ctx) != 1)
                die("%s: the key does not match the certificate", key);
        opt.ctx = ctx;
}

static void usage(void) {
        fprintf(stderr, "Usage: bench-update --ca CA --cert CERT --key KEY|rampart-secmon:SOCKET\n"
                        "                    [-c CONNECTIONS] [-t THREADS] [-d SECONDS] [-w WARMUP] [-n REQUESTS]\n"
                        "                    [--expect STATUS] [-o FILE] [--server-pid PID[,PID...]] URL\n");
        exit(2);
}

int main(int argc, char **argv) {
        static const struct option opts[] = {
                { "ca", required_argument, NULL, 'A' },
                { "cert", required_argument, NULL, 'C' },
                { "key", required_argument, NULL, 'K' },
                { "connections", required_argument, NULL, 'c' },
                { "threads", required_argument, NULL, 't' },
                { "duration", required_argument, NULL, 'd' },
                { "warmup", required_argument, NULL, 'w' },
                { "requests", required_argument, NULL, 'n' },
                { "expect", required_argument, NULL, 'e' },
                { "output", required_argument, NULL, 'o' },
                { "server-pid", required_argument, NULL, 'p' },
                { "help", no_argument, NULL, 'h' },
                {}
        };
        const char *ca = NULL, *cert = NULL, *key = NULL;
        for (int c; (c = getopt_long(argc, argv, "c:t:d:w:n:o:h", opts, NULL)) != -1; ) {
                switch (c) {
                case 'A': ca = optarg; break;
                case 'C': cert = optarg; break;
                case 'K': key = optarg; break;
                case 'c': opt.connections = (unsigned) strtoul(optarg, NULL, 10); break;
                case 't': opt.threads = (unsigned) strtoul(optarg, NULL, 10); break;
                case 'd': opt.seconds = strtod(optarg, NULL); break;
                case 'w': opt.warmup = strtod(optarg, NULL); break;
                case 'n': opt.max_requests = strtoull(optarg, NULL, 10); break;
                case 'e': opt.expect = atoi(optarg); break;
                case 'o': opt.output = optarg; break;
                case 'p':
                        for (char *s = optarg, *e; *s && opt.n_pids < PIDS_MAX; s = *e ? e + 1 : e) {
                                long v = strtol(s, &e, 10);
                                if (e == s || v <= 0 || (*e && *e != ','))
                                        usage();
                                opt.pids[opt.n_pids++] = (pid_t) v;
                        }
                        break;
                default: usage();
                }
        }
        if (optind != argc - 1 || !ca || !cert || !key || opt.connections == 0 ||
            opt.connections > CONNECTIONS_MAX || opt.threads == 0 || opt.seconds <= 0)
                usage();
        if (opt.threads > opt.connections)
                opt.threads = opt.connections;
        if (opt.warmup < 0)
                opt.warmup = opt.max_requests ? 0 : 1;
        parse_url(argv[optind]);
        setup_tls(ca, cert, key);

        worker *ws = calloc(opt.threads, sizeof *ws);
        conn *conns = calloc(opt.connections, sizeof *conns);
        if (!ws || !conns)
                die("%s", "out of memory");
        t_start = now_ns();
        t_window = t_start + (uint64_t) (opt.warmup * 1e9);
        t_end = t_window + (uint64_t) (opt.seconds * 1e9);
        size_t at = 0;
        for (unsigned i = 0; i < opt.threads; i++) {
                ws[i].conns = conns + at;
                ws[i].n_conns = opt.connections / opt.threads + (i < opt.connections % opt.threads ? 1 : 0);
                at += ws[i].n_conns;
                if (pthread_create(&ws[i].thread, NULL, worker_main, &ws[i]) != 0)
                        die("%s", "cannot start a thread");
        }
        sleep_until(t_window);
        double cpu0 = servers_cpu(), self0 = self_cpu();
        for (unsigned i = 0; i < opt.threads; i++)
                pthread_join(ws[i].thread, NULL);
        uint64_t t_stop = now_ns();
        double cpu1 = servers_cpu(), self1 = self_cpu();
        if (t_stop > t_end)
                t_stop = t_end;
        double secs = t_stop > t_window ? (double) (t_stop - t_window) / 1e9 : 0;

        worker sum = {};
        for (unsigned i = 0; i < opt.threads; i++) {
                sum.requests += ws[i].requests;
                sum.errors += ws[i].errors;
                sum.handshakes += ws[i].handshakes;
                sum.body_bytes += ws[i].body_bytes;
                if (ws[i].last_body_size)
                        sum.last_body_size = ws[i].last_body_size;
                if (ws[i].lat_max > sum.lat_max)
                        sum.lat_max = ws[i].lat_max;
                for (size_t k = 0; k < HIST_BUCKETS; k++)
                        sum.hist[k] += ws[i].hist[k];
        }
        printf("connections %u\nthreads %u\nhandshakes %llu\nrequests %llu\nerrors %llu\nseconds %.3f\n",
               opt.connections, opt.threads, (unsigned long long) sum.handshakes,
               (unsigned long long) sum.requests, (unsigned long long) sum.errors, secs);
        printf("rate %.1f\nbody_bytes %llu\nmib_per_second %.1f\nlast_body_size %llu\n",
               secs > 0 ? (double) sum.requests / secs : 0, (unsigned long long) sum.body_bytes,
               secs > 0 ? (double) sum.body_bytes / 1048576.0 / secs : 0, (unsigned long long) sum.last_body_size);
        printf("latency_us_p50 %llu\nlatency_us_p90 %llu\nlatency_us_p99 %llu\nlatency_us_max %llu\n",
               (unsigned long long) hist_percentile(sum.hist, sum.requests, 50),
               (unsigned long long) hist_percentile(sum.hist, sum.requests, 90),
               (unsigned long long) hist_percentile(sum.hist, sum.requests, 99), (unsigned long long) sum.lat_max);
        printf("client_cpu_seconds %.2f\n", self1 - self0);
        if (opt.n_pids)
                printf("server_cpu_seconds %.2f\n", cpu1 - cpu0);
        if (opt.output && !atomic_load(&output_taken))
                die("%s: no answer with the expected status to write", opt.output);
        SSL_CTX_free(opt.ctx);
        freeaddrinfo(opt.addr);
        free(conns);
        free(ws);
        return sum.requests > 0 && sum.errors == 0 ? 0 : 1;
}
