/* SPDX-License-Identifier: Apache-2.0 */
/* Attestations per second against a running rampart-server, each device on
 * a new TLS connection: POST /v1/attest/nonce, evidence signed by the
 * device's Alias key, POST /v1/attest, 200 with a certificate, close.
 *
 *   bench-attest URL CA_FILE TOKEN_FILE SECONDS THREADS [SERVER_PID]
 *   bench-attest --fleet URL CA_FILE TOKEN_FILE DEVICES CONNECTIONS SERVER_PID
 *
 * --fleet: claims DEVICES random device ids in a new tenant (one keep-alive
 * connection), then holds CONNECTIONS idle TLS connections open (handshake
 * done, no request) and prints the server's resident memory at each step
 * (VmRSS of SERVER_PID, KiB): rss_start, rss_devices, rss_connections.
 *
 * Set-up (not timed): a manufacturer CA and 64 devices made in-process as
 * the soft backend makes them (tests/unit/evidence-fixtures.c, backend name
 * "tpm2" so the tenant needs no development setting), a tenant "bench-N"
 * trusting the CA, the devices claimed and their software released.
 * Prints one line per result, "key value", for bench/run:
 *   attestations N / seconds S / rate R / server_cpu_seconds C (if SERVER_PID)
 * Devices do their own crypto (the evidence signature, the TLS client side)
 * in this process: on a machine shared with the server, compare the rate
 * per second of server CPU with the crypto bound (bench/run does). */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "evidence-fixtures.h"

#define N_DEVICES 64

static char host[256], port[16];
static SSL_CTX *ctx;
static char token[256];
static ev_device devices[N_DEVICES];
static atomic_int stop_flag;
static atomic_long done_count, fail_count;

static void die(const char *what) {
        fprintf(stderr, "bench-attest: %s\n", what);
        ERR_print_errors_fp(stderr);
        exit(1);
}

static int tcp_connect(void) {
        struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM }, *ai = NULL;
        if (getaddrinfo(host, port, &hints, &ai) != 0)
                return -1;
        int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
                close(fd);
                fd = -1;
        }
        freeaddrinfo(ai);
        if (fd >= 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
        return fd;
}

/* One HTTP/1.1 exchange on ssl: returns the status, the body in *ret_body
 * (malloc'd, NUL-terminated), or -1. */
static int http(SSL *ssl, const char *method, const char *path, const char *auth, const char *body,
                char **ret_body) {
        char req[16384];
        size_t blen = body ? strlen(body) : 0;
        int n = snprintf(req, sizeof req,
                         "%s %s HTTP/1.1\r\nHost: %s\r\n%s%s%sContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n",
                         method, path, host, auth ? "Authorization: Bearer " : "", auth ? auth : "",
                         auth ? "\r\n" : "", blen);
        if (n < 0 || (size_t) n + blen >= sizeof req)
                return -1;
        memcpy(req + n, body ? body : "", blen);
        if (SSL_write(ssl, req, (int) ((size_t) n + blen)) <= 0)
                return -1;
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap);
        if (!buf)
                return -1;
        long clen = -1;
        char *hend = NULL;
        for (;;) {
                if (len + 1 >= cap) {
                        free(buf);
                        return -1;
                }
                int k = SSL_read(ssl, buf + len, (int) (cap - 1 - len));
                if (k <= 0) {
                        free(buf);
                        return -1;
                }
                len += (size_t) k;
                buf[len] = '\0';
                if (!hend && (hend = strstr(buf, "\r\n\r\n"))) {
                        char *cl = strcasestr(buf, "\r\nContent-Length:");
                        clen = cl && cl < hend ? strtol(cl + 17, NULL, 10) : 0;
                }
                if (hend && (long) (len - (size_t) (hend + 4 - buf)) >= clen)
                        break;
        }
        int status = atoi(buf + 9);
        if (ret_body)
                *ret_body = strdup(hend + 4);
        free(buf);
        return status;
}

static SSL *tls_open(int *ret_fd) {
        int fd = tcp_connect();
        if (fd < 0)
                return NULL;
        SSL *ssl = SSL_new(ctx);
        if (!ssl || !SSL_set_fd(ssl, fd) || !SSL_set1_host(ssl, host) || SSL_connect(ssl) != 1) {
                SSL_free(ssl);
                close(fd);
                return NULL;
        }
        *ret_fd = fd;
        return ssl;
}

static void tls_close(SSL *ssl, int fd) {
        SSL_shutdown(ssl);
        SSL_free(ssl);
        close(fd);
}

/* A management call on its own connection (set-up only). */
static json_t *api(const char *method, const char *path, json_t *body, int want) {
        int fd;
        SSL *ssl = tls_open(&fd);
        if (!ssl)
                die("cannot connect to the server");
        _cleanup_free_ char *b = body ? json_dumps(body, JSON_COMPACT) : NULL;
        json_decref(body);
        _cleanup_free_ char *out = NULL;
        int st = http(ssl, method, path, token, b, &out);
        tls_close(ssl, fd);
        if (st != want) {
                fprintf(stderr, "bench-attest: %s %s: HTTP %d: %s\n", method, path, st, out ? out : "");
                exit(1);
        }
        return json_loads(out, 0, NULL);
}

static int attest_one(const ev_device *d) {
        int fd;
        SSL *ssl = tls_open(&fd);
        if (!ssl)
                return -1;
        int r = -1;
        char body[256];
        snprintf(body, sizeof body, "{\"device_id\":\"%s\"}", d->device_id);
        _cleanup_free_ char *out = NULL, *out2 = NULL, *ev_b64 = NULL, *req = NULL;
        _cleanup_free_ uint8_t *ev = NULL;
        size_t ev_len;
        uint8_t nonce[32];
        json_t *j = NULL;
        if (http(ssl, "POST", "/v1/attest/nonce", NULL, body, &out) != 201)
                goto done;
        j = json_loads(out, 0, NULL);
        const char *nh = json_string_value(json_object_get(j, "nonce"));
        if (!nh || rp_hex_decode(nh, nonce, sizeof nonce) < 0)
                goto done;
        if (ev_evidence(d, nonce, sizeof nonce, &ev, &ev_len, NULL) < 0)
                goto done;
        ev_b64 = malloc(4 * ((ev_len + 2) / 3) + 1);
        if (!ev_b64)
                goto done;
        EVP_EncodeBlock((unsigned char *) ev_b64, ev, (int) ev_len);
        if (asprintf(&req, "{\"nonce\":\"%s\",\"evidence\":\"%s\"}", nh, ev_b64) < 0) {
                req = NULL;
                goto done;
        }
        if (http(ssl, "POST", "/v1/attest", NULL, req, &out2) != 200) {
                fprintf(stderr, "bench-attest: attest refused: %s\n", out2 ? out2 : "");
                goto done;
        }
        r = 0;
done:
        json_decref(j);
        tls_close(ssl, fd);
        return r;
}

static void *worker(void *arg) {
        unsigned i = (unsigned) (uintptr_t) arg;
        while (!atomic_load(&stop_flag)) {
                if (attest_one(&devices[i++ % N_DEVICES]) == 0)
                        atomic_fetch_add(&done_count, 1);
                else
                        atomic_fetch_add(&fail_count, 1);
        }
        return NULL;
}

static double cpu_seconds(const char *pid) {
        char path[64], buf[2048];
        snprintf(path, sizeof path, "/proc/%s/stat", pid);
        FILE *f = fopen(path, "re");
        if (!f)
                return -1;
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[n] = '\0';
        char *p = strrchr(buf, ')');
        unsigned long ut = 0, st = 0;
        /* fields after ')': state(3) ... utime(14) stime(15) */
        if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
                return -1;
        return (double) (ut + st) / (double) sysconf(_SC_CLK_TCK);
}

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static long rss_kib(const char *pid) {
        char path[64], line[256];
        snprintf(path, sizeof path, "/proc/%s/status", pid);
        FILE *f = fopen(path, "re");
        long kib = -1;
        while (f && fgets(line, sizeof line, f))
                if (sscanf(line, "VmRSS: %ld", &kib) == 1)
                        break;
        if (f)
                fclose(f);
        return kib;
}

static int fleet(int argc, char **argv) {
        long n_dev = atol(argv[5]), n_conn = atol(argv[6]);
        const char *pid = argv[7];
        printf("rss_start_kib %ld\n", rss_kib(pid));
        uint8_t rnd[4];
        RAND_bytes(rnd, sizeof rnd);
        char tenant[64], path[256];
        snprintf(tenant, sizeof tenant, "fleet-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
        json_decref(api("POST", "/v1/tenants", json_pack("{ss}", "name", tenant), 201));
        snprintf(path, sizeof path, "/v1/tenants/%s/devices", tenant);
        int fd;
        SSL *ssl = tls_open(&fd);
        if (!ssl)
                die("cannot connect to the server");
        for (long i = 0; i < n_dev; i++) {
                uint8_t id[32];
                char hex[65], body[128];
                RAND_bytes(id, sizeof id);
                rp_hex_encode_buf(id, sizeof id, hex);
                snprintf(body, sizeof body, "{\"device_id\":\"%s\"}", hex);
                _cleanup_free_ char *out = NULL;
                if (http(ssl, "POST", path, token, body, &out) != 201)
                        die("a claim failed");
        }
        tls_close(ssl, fd);
        printf("devices_claimed %ld\nrss_devices_kib %ld\n", n_dev, rss_kib(pid));
        fflush(stdout);
        SSL **conns = calloc((size_t) n_conn, sizeof *conns);
        int *fds = calloc((size_t) n_conn, sizeof *fds);
        if (!conns || !fds)
                die("out of memory");
        long open_n = 0;
        for (; open_n < n_conn; open_n++)
                if (!(conns[open_n] = tls_open(&fds[open_n])))
                        break;
        sleep(1);
        printf("connections_open %ld\nrss_connections_kib %ld\n", open_n, rss_kib(pid));
        /* Still serving with all of them open: one more request. */
        json_t *t = api("GET", "/healthz", NULL, 200);
        printf("healthz_with_connections_open %s\n", t ? "ok" : "failed");
        json_decref(t);
        for (long i = 0; i < open_n; i++)
                tls_close(conns[i], fds[i]);
        free(conns);
        free(fds);
        return open_n == n_conn ? 0 : 1;
}

/* The server, its CA and the operator's token, shared by both modes. */
static void setup(const char *url, const char *ca_file, const char *token_file) {
        if (sscanf(url, "https://%255[^:]:%15[0-9]", host, port) != 2)
                die("URL must be https://HOST:PORT");
        FILE *tf = fopen(token_file, "re");
        if (!tf || !fgets(token, sizeof token, tf))
                die("cannot read the token file");
        fclose(tf);
        token[strcspn(token, "\r\n")] = '\0';
        ctx = SSL_CTX_new(TLS_client_method());
        if (!ctx || SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1)
                die("cannot load the CA file");
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* A new device each time: no session resumption. */
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET);
}

int main(int argc, char **argv) {
        if (argc > 1 && streq(argv[1], "--fleet")) {
                if (argc != 8) {
                        fprintf(stderr, "usage: bench-attest --fleet URL CA_FILE TOKEN_FILE DEVICES CONNECTIONS SERVER_PID\n");
                        return 2;
                }
                setup(argv[2], argv[3], argv[4]);
                int r = fleet(argc, argv);
                SSL_CTX_free(ctx);
                return r;
        }
        if (argc < 6) {
                fprintf(stderr, "usage: bench-attest URL CA_FILE TOKEN_FILE SECONDS THREADS [SERVER_PID]\n"
                                "       bench-attest --fleet URL CA_FILE TOKEN_FILE DEVICES CONNECTIONS SERVER_PID\n");
                return 2;
        }
        setup(argv[1], argv[2], argv[3]);
        double secs = atof(argv[4]);
        unsigned threads = (unsigned) atoi(argv[5]);
        const char *server_pid = argc > 6 ? argv[6] : NULL;

        char dir[] = "/tmp/rampart-bench-attest.XXXXXX";
        if (!mkdtemp(dir))
                die("mkdtemp");
        ev_ca ca;
        rp_error err = {};
        if (ev_ca_new(dir, &ca, &err) < 0)
                die(err.message);
        static const char os[] = "bench os image", app[] = "bench agent";
        const ev_component comps[] = { { "os", "1.0", os, sizeof os - 1 }, { "rampartd", "1.0", app, sizeof app - 1 } };
        for (unsigned i = 0; i < N_DEVICES; i++)
                if (ev_device_new(&ca, (uint8_t) (i + 1), "tpm2", comps, ELEMENTSOF(comps), &devices[i], &err) < 0)
                        die(err.message);

        uint8_t rnd[4];
        RAND_bytes(rnd, sizeof rnd);
        char tenant[64], path[256];
        snprintf(tenant, sizeof tenant, "bench-%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3]);
        json_decref(api("POST", "/v1/tenants", json_pack("{ss}", "name", tenant), 201));
        snprintf(path, sizeof path, "/v1/tenants/%s/manufacturers", tenant);
        json_decref(api("POST", path, json_pack("{ss,ss}", "name", "bench", "ca_pem", ca.pem), 201));
        char meas[65];
        rp_hex_encode_buf(devices[0].measurement, 32, meas);
        snprintf(path, sizeof path, "/v1/tenants/%s/releases", tenant);
        json_decref(api("POST", path, json_pack("{ss,ss,ss,ss}", "kind", "os", "name", "bench", "version", "1.0",
                                               "measurement", meas), 201));
        snprintf(path, sizeof path, "/v1/tenants/%s/devices", tenant);
        for (unsigned i = 0; i < N_DEVICES; i++)
                json_decref(api("POST", path, json_pack("{ss}", "device_id", devices[i].device_id), 201));
        /* One attestation each before timing: every code path warm. */
        for (unsigned i = 0; i < N_DEVICES; i++)
                if (attest_one(&devices[i]) < 0)
                        die("a warm-up attestation failed");

        pthread_t th[64];
        if (threads < 1 || threads > ELEMENTSOF(th))
                die("THREADS must be 1..64");
        double c0 = server_pid ? cpu_seconds(server_pid) : 0, t0 = now();
        for (unsigned i = 0; i < threads; i++)
                pthread_create(&th[i], NULL, worker, (void *) (uintptr_t) (i * 7));
        usleep((useconds_t) (secs * 1e6));
        atomic_store(&stop_flag, 1);
        for (unsigned i = 0; i < threads; i++)
                pthread_join(th[i], NULL);
        double t = now() - t0, c = server_pid ? cpu_seconds(server_pid) - c0 : 0;
        long n = atomic_load(&done_count);
        printf("attestations %ld\nfailures %ld\nseconds %.3f\nrate %.1f\n", n, atomic_load(&fail_count), t, n / t);
        if (server_pid)
                printf("server_cpu_seconds %.3f\nrate_per_server_cpu_second %.1f\n", c, c > 0 ? n / c : 0);
        for (unsigned i = 0; i < N_DEVICES; i++)
                ev_device_done(&devices[i]);
        ev_ca_done(&ca);
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        if (system(cmd) != 0)
                fprintf(stderr, "bench-attest: could not remove %s\n", dir);
        SSL_CTX_free(ctx);
        return n > 0 && atomic_load(&fail_count) == 0 ? 0 : 1;
}
