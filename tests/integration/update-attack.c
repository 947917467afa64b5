/* SPDX-License-Identifier: Apache-2.0 */
/* integration/device-update's hostile side: what an attacker who has taken
 * over the service's address (or the service itself) can do to a device.
 *
 *   update-attack sign --key K --out F --tenant T --device D --version N
 *                 [--group G] [--deployment ID] [--policy P] [--issued-at T]
 *                 [--expires-at T] [--image PKG]... [--image-version N]
 *       a deployment document signed with K (the real format, any content);
 *       each PKG's manifest gives an image entry, its bytes the digest and
 *       size, its URL /v1/device/images/<digest>; --image-version makes
 *       every entry claim version N (a document that lies about a package)
 *   update-attack resign IN --key K --out F [--device D] [--version N]
 *                 [--expires-at T]
 *       the document IN (a real one) with those fields changed, signed
 *       with K
 *   update-attack serve --cert C --key K --root DIR --port-file F
 *                 [--mode MODE] [--log F]
 *       an HTTPS server (C and K: the real server's TLS certificate and
 *       key) on a free loopback port, written to F once it listens. GET
 *       /PATH answers DIR/PATH (404 if there is none). Paths under
 *       /v1/device/images/ are answered by MODE:
 *         normal    honours "Range: bytes=N-" (206), else 200
 *         norange   200 with the whole file, whatever was asked
 *         cut:N     the head for the whole answer, N bytes of it, close
 *         stall:N   the head, N bytes, then nothing until the client goes
 *         endless   200 without a length: the file, then bytes without end
 *       Each request's line and Range/If-Range go to the log, one line each.
 *       One connection at a time, until killed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/cose.h"
#include "rampart/crypto.h"
#include "rampart/deployment.h"
#include "rampart/package.h"

#define MAX_IMAGES RP_DEPLOYMENT_MAX_IMAGES

static int die(const char *what, const rp_error *err, int r) {
        fprintf(stderr, "update-attack: %s: %s\n", what, rp_error_message(err, r));
        return 1;
}

static int write_doc(const rp_deployment_doc *d, const char *key_path, const char *out) {
        rp_error err = {};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_key_load_private(key_path, &key, &err);
        if (r < 0)
                return die(key_path, &err, r);
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        r = rp_deployment_doc_sign(d, key, &buf, &len, &err);
        if (r < 0)
                return die("sign", &err, r);
        r = rp_write_file_atomic(out, buf, len, 0644, &err);
        if (r < 0)
                return die(out, &err, r);
        return 0;
}

static uint64_t number(const char *s) {
        char *end = NULL;
        unsigned long long v = strtoull(s, &end, 10);
        if (!*s || *end) {
                fprintf(stderr, "update-attack: '%s' is not a number\n", s);
                exit(2);
        }
        return v;
}

/* An image entry from a package file. */
static int image_from(const char *path, rp_deployment_image *img) {
        rp_error err = {};
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_unverified(path, &p, &err);
        if (r < 0)
                return die(path, &err, r);
        const rp_package_manifest *m = rp_package_unverified_manifest(p);
        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, path, 0, &st, &err);
        if (fd < 0)
                return die(path, &err, fd);
        r = rp_sha256_fd(fd, 0, (uint64_t) st.st_size, NULL, NULL, img->digest, &err);
        if (r < 0)
                return die(path, &err, r);
        char hex[2 * RP_SHA256_LEN + 1];
        rp_hex_encode_buf(img->digest, RP_SHA256_LEN, hex);
        memcpy(img->component_id, m->component_id, sizeof img->component_id);
        img->type = m->type;
        img->version = m->version;
        img->size = (uint64_t) st.st_size;
        img->name = strdup(m->name);
        if (asprintf(&img->url, "/v1/device/images/%s", hex) < 0)
                img->url = NULL;
        return img->name && img->url ? 0 : 1;
}

static int cmp_image(const void *a, const void *b) {
        return strcmp(((const rp_deployment_image *) a)->component_id, ((const rp_deployment_image *) b)->component_id);
}

static int cmd_sign(int argc, char **argv) {
        static const struct option opts[] = {
                { "key", required_argument, NULL, 'k' },     { "out", required_argument, NULL, 'o' },
                { "tenant", required_argument, NULL, 't' },  { "device", required_argument, NULL, 'd' },
                { "version", required_argument, NULL, 'v' }, { "group", required_argument, NULL, 'g' },
                { "deployment", required_argument, NULL, 'D' }, { "policy", required_argument, NULL, 'p' },
                { "issued-at", required_argument, NULL, 'i' }, { "expires-at", required_argument, NULL, 'e' },
                { "image", required_argument, NULL, 'm' },   { "image-version", required_argument, NULL, 'V' },
                {},
        };
        const char *key = NULL, *out = NULL;
        rp_deployment_image images[MAX_IMAGES] = {};
        rp_deployment_doc d = { .format = RP_DEPLOYMENT_FORMAT, .policy = RP_UPDATE_ALL, .images = images };
        uint64_t now = (uint64_t) time(NULL);
        d.issued_at = now;
        d.expires_at = now + 3600;
        int r = 0;
        const char *claim = NULL;
        for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1; ) {
                switch (c) {
                case 'V': claim = optarg; break;
                case 'k': key = optarg; break;
                case 'o': out = optarg; break;
                case 't': snprintf(d.tenant, sizeof d.tenant, "%s", optarg); break;
                case 'd': snprintf(d.device, sizeof d.device, "%s", optarg); break;
                case 'v': d.version = number(optarg); break;
                case 'g': d.device_group = optarg; break;
                case 'D': d.deployment = optarg; break;
                case 'p':
                        if (rp_update_policy_from_name(optarg, &d.policy) < 0)
                                return 2;
                        break;
                case 'i': d.issued_at = number(optarg); break;
                case 'e': d.expires_at = number(optarg); break;
                case 'm':
                        if (d.n_images == MAX_IMAGES || (r = image_from(optarg, &images[d.n_images++])) != 0)
                                goto done;
                        break;
                default: return 2;
                }
        }
        if (!key || !out || !d.tenant[0] || !d.device[0]) {
                fprintf(stderr, "update-attack sign: --key, --out, --tenant and --device are required\n");
                r = 2;
                goto done;
        }
        for (size_t i = 0; claim && i < d.n_images; i++)
                images[i].version = number(claim);
        d.manages = rp_update_policy_manages(d.policy);
        qsort(images, d.n_images, sizeof images[0], cmp_image);
        r = write_doc(&d, key, out);
done:
        for (size_t i = 0; i < d.n_images; i++) {
                free(images[i].name);
                free(images[i].url);
        }
        return r;
}

static int cmd_resign(int argc, char **argv) {
        static const struct option opts[] = {
                { "key", required_argument, NULL, 'k' },        { "out", required_argument, NULL, 'o' },
                { "device", required_argument, NULL, 'd' },     { "version", required_argument, NULL, 'v' },
                { "expires-at", required_argument, NULL, 'e' }, {},
        };
        if (argc < 2)
                return 2;
        const char *in = argv[1], *key = NULL, *out = NULL;
        rp_error err = {};
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r = rp_read_file(in, RP_COSE_MAX_SIZE, &buf, &len, &err);
        if (r < 0)
                return die(in, &err, r);
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *msg = NULL;
        r = rp_cose_sign1_decode(buf, len, &msg, NULL, &err);
        if (r < 0)
                return die(in, &err, r);
        size_t plen = 0;
        const uint8_t *payload = rp_cose_sign1_payload(msg, &plen);
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = NULL;
        r = rp_deployment_doc_parse(payload, plen, &d, &err);
        if (r < 0)
                return die(in, &err, r);
        optind = 2;
        for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1; ) {
                switch (c) {
                case 'k': key = optarg; break;
                case 'o': out = optarg; break;
                case 'd': snprintf(d->device, sizeof d->device, "%s", optarg); break;
                case 'v': d->version = number(optarg); break;
                case 'e': d->expires_at = number(optarg); break;
                default: return 2;
                }
        }
        if (!key || !out)
                return 2;
        return write_doc(d, key, out);
}

/* --- serve --- */

typedef enum mode { NORMAL, NORANGE, CUT, STALL, ENDLESS } mode;

static void reply(SSL *ssl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void reply(SSL *ssl, const char *fmt, ...) {
        char buf[1024];
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(buf, sizeof buf, fmt, ap);
        va_end(ap);
        if (n > 0)
                SSL_write(ssl, buf, n < (int) sizeof buf ? n : (int) sizeof buf - 1);
}

/* The value of header name (with its ':') in the request head, or "-". */
static void header(const char *req, const char *name, char *out, size_t cap) {
        snprintf(out, cap, "-");
        for (const char *p = strstr(req, "\r\n"); p && p[2]; p = strstr(p + 2, "\r\n"))
                if (strncasecmp(p + 2, name, strlen(name)) == 0) {
                        const char *v = p + 2 + strlen(name);
                        while (*v == ' ')
                                v++;
                        size_t n = strcspn(v, "\r\n");
                        snprintf(out, cap, "%.*s", (int) (n < cap ? n : cap - 1), v);
                        return;
                }
}

static void serve_one(SSL *ssl, const char *root, mode how, uint64_t n_bytes, FILE *log) {
        char req[8192];
        size_t len = 0;
        while (len < sizeof req - 1) {
                int k = SSL_read(ssl, req + len, (int) (sizeof req - 1 - len));
                if (k <= 0)
                        return;
                len += (size_t) k;
                req[len] = '\0';
                if (strstr(req, "\r\n\r\n"))
                        break;
        }
        char method[16], path[1024], range[128], if_range[128];
        if (sscanf(req, "%15s %1023s", method, path) != 2)
                return;
        header(req, "Range:", range, sizeof range);
        header(req, "If-Range:", if_range, sizeof if_range);
        if (log) {
                fprintf(log, "%s %s range=%s if-range=%s\n", method, path, range, if_range);
                fflush(log);
        }
        char file[2048];
        snprintf(file, sizeof file, "%s%s", root, path);
        _cleanup_free_ uint8_t *data = NULL;
        size_t size = 0;
        if (strstr(path, "..") || rp_read_file(file, 1u << 30, &data, &size, NULL) < 0) {
                static const char body[] = "{\"error\":{\"code\":\"not_found\",\"message\":\"no such thing here\"}}";
                reply(ssl, "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n%s", sizeof body - 1, body);
                return;
        }
        if (strncmp(path, "/v1/device/images/", 18) != 0)
                how = NORMAL;
        uint64_t from = 0;
        if (how != NORANGE && how != ENDLESS && strncmp(range, "bytes=", 6) == 0)
                from = strtoull(range + 6, NULL, 10);
        if (from >= size && from > 0) {
                reply(ssl, "HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */%zu\r\nContent-Length: 0\r\n"
                      "Connection: close\r\n\r\n", size);
                return;
        }
        if (how == ENDLESS)
                reply(ssl, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n");
        else if (from > 0)
                reply(ssl, "HTTP/1.1 206 Partial Content\r\nContent-Type: application/octet-stream\r\n"
                      "Content-Range: bytes %" PRIu64 "-%zu/%zu\r\nContent-Length: %" PRIu64 "\r\n"
                      "Connection: close\r\n\r\n", from, size - 1, size, (uint64_t) size - from);
        else
                reply(ssl, "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: %zu\r\n"
                      "Connection: close\r\n\r\n", size);
        const uint8_t *b = data + from;
        size_t rest = size - from;
        switch (how) {
        case NORMAL:
        case NORANGE:
                SSL_write(ssl, b, (int) rest);
                break;
        case CUT:
                SSL_write(ssl, b, (int) (n_bytes < rest ? n_bytes : rest));
                break;
        case STALL: {
                SSL_write(ssl, b, (int) (n_bytes < rest ? n_bytes : rest));
                char c;
                while (SSL_read(ssl, &c, 1) > 0)        /* until the client gives up */
                        ;
                break;
        }
        case ENDLESS:
                if (SSL_write(ssl, b, (int) rest) <= 0)
                        break;
                for (uint64_t sent = 0; sent < (UINT64_C(1) << 30); sent += 4096)
                        if (SSL_write(ssl, data, (int) (size < 4096 ? size : 4096)) <= 0)
                                break;
                break;
        }
}

static int cmd_serve(int argc, char **argv) {
        static const struct option opts[] = {
                { "cert", required_argument, NULL, 'c' },      { "key", required_argument, NULL, 'k' },
                { "root", required_argument, NULL, 'r' },      { "port-file", required_argument, NULL, 'p' },
                { "mode", required_argument, NULL, 'm' },      { "log", required_argument, NULL, 'l' },
                {},
        };
        const char *cert = NULL, *key = NULL, *root = NULL, *port_file = NULL, *log_path = NULL;
        mode how = NORMAL;
        uint64_t n = 0;
        for (int c; (c = getopt_long(argc, argv, "", opts, NULL)) != -1; ) {
                switch (c) {
                case 'c': cert = optarg; break;
                case 'k': key = optarg; break;
                case 'r': root = optarg; break;
                case 'p': port_file = optarg; break;
                case 'l': log_path = optarg; break;
                case 'm':
                        if (streq(optarg, "normal"))
                                how = NORMAL;
                        else if (streq(optarg, "norange"))
                                how = NORANGE;
                        else if (streq(optarg, "endless"))
                                how = ENDLESS;
                        else if (strncmp(optarg, "cut:", 4) == 0)
                                how = CUT, n = number(optarg + 4);
                        else if (strncmp(optarg, "stall:", 6) == 0)
                                how = STALL, n = number(optarg + 6);
                        else
                                return 2;
                        break;
                default: return 2;
                }
        }
        if (!cert || !key || !root || !port_file)
                return 2;
        signal(SIGPIPE, SIG_IGN);
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
            SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1) {
                fprintf(stderr, "update-attack: cannot use %s and %s\n", cert, key);
                return 1;
        }
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t alen = sizeof a;
        if (fd < 0 || bind(fd, (struct sockaddr *) &a, sizeof a) < 0 || listen(fd, 16) < 0 ||
            getsockname(fd, (struct sockaddr *) &a, &alen) < 0) {
                perror("update-attack: listen");
                return 1;
        }
        char port[16];
        snprintf(port, sizeof port, "%d\n", ntohs(a.sin_port));
        rp_error err = {};
        if (rp_write_file_atomic(port_file, port, strlen(port), 0644, &err) < 0)
                return die(port_file, &err, -EIO);
        FILE *log = log_path ? fopen(log_path, "ae") : NULL;
        for (;;) {
                int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
                if (c < 0)
                        continue;
                SSL *ssl = SSL_new(ctx);
                SSL_set_fd(ssl, c);
                if (SSL_accept(ssl) == 1) {
                        serve_one(ssl, root, how, n, log);
                        SSL_shutdown(ssl);
                }
                SSL_free(ssl);
                close(c);
        }
}

int main(int argc, char **argv) {
        if (argc < 2) {
                fprintf(stderr, "usage: update-attack sign|resign|serve ...\n");
                return 2;
        }
        if (streq(argv[1], "sign"))
                return cmd_sign(argc - 1, argv + 1);
        if (streq(argv[1], "resign"))
                return cmd_resign(argc - 1, argv + 1);
        if (streq(argv[1], "serve"))
                return cmd_serve(argc - 1, argv + 1);
        fprintf(stderr, "update-attack: unknown command '%s'\n", argv[1]);
        return 2;
}
