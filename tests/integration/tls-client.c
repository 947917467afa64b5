/* SPDX-License-Identifier: Apache-2.0 */
/* Test client for integration/tls-secmon: a TLS client that authenticates
 * with the Alias key rampart-secmon holds (rp_secmon_tls_setup), sends
 * "GET / HTTP/1.0" and prints what the server answers.
 *
 *   tls-client --socket S --connect 127.0.0.1:PORT --ca CA.pem [--cert C.pem]
 *              [--connections N] [--pause]
 *
 * --ca is the CA the server's certificate must chain to. --cert replaces the
 * Alias certificate and its chain with C.pem (the leaf first): the key from
 * S (rp_secmon_tls_key) and C.pem are then installed separately, and OpenSSL
 * must refuse them if they do not belong together. --connections N makes N
 * connections one after the other with the same TLS context (so the same key
 * object and its connection to secmon). --pause prints "ready N" before
 * connection N and waits for a line on stdin: the test stops or restarts
 * secmon meanwhile.
 *
 * Prints "protocol: TLSv1.3" after each handshake, then the server's answer.
 * Exit 0: every answer was read to its end; 1: anything failed (the reason,
 * with OpenSSL's errors, on stderr); 2: wrong arguments. */

#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "secmon/provider.h"

static int fail(const char *what) {
        fprintf(stderr, "tls-client: %s\n", what);
        ERR_print_errors_fp(stderr);
        return 1;
}

static int tcp_connect(const char *hostport) {
        char host[64];
        const char *colon = strrchr(hostport, ':');
        struct sockaddr_in sa = { .sin_family = AF_INET };
        int fd;

        if (!colon || (size_t) (colon - hostport) >= sizeof host)
                return -EINVAL;
        memcpy(host, hostport, (size_t) (colon - hostport));
        host[colon - hostport] = '\0';
        sa.sin_port = htons((uint16_t) atoi(colon + 1));
        if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
                return -EINVAL;
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0) {
                int r = -errno;
                close(fd);
                return r;
        }
        return fd;
}

/* The key from secmon and a certificate from a file, installed one by one. */
static int setup_with_cert(SSL_CTX *ctx, const char *socket_path, const char *cert) {
        EVP_PKEY *pkey = NULL;
        rp_error err = {};
        int ok;

        if (rp_secmon_tls_key(NULL, socket_path, &pkey, &err) < 0) {
                fprintf(stderr, "tls-client: %s\n", err.message);
                return 0;
        }
        ok = SSL_CTX_use_certificate_chain_file(ctx, cert) && SSL_CTX_use_PrivateKey(ctx, pkey);
        EVP_PKEY_free(pkey);
        if (!ok)
                fail("the key from rampart-secmon and the certificate were refused");
        return ok;
}

static SSL_CTX *make_ctx(const char *socket_path, const char *ca, const char *cert) {
        SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
        rp_error err = {};

        if (!ctx || !SSL_CTX_load_verify_locations(ctx, ca, NULL)) {
                fail("cannot make the TLS context");
                SSL_CTX_free(ctx);
                return NULL;
        }
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        /* s_server -www closes without close_notify: that ends the answer. */
        SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
        if (cert) {
                if (!setup_with_cert(ctx, socket_path, cert)) {
                        SSL_CTX_free(ctx);
                        return NULL;
                }
        } else if (rp_secmon_tls_setup(ctx, socket_path, &err) < 0) {
                fprintf(stderr, "tls-client: %s\n", err.message);
                SSL_CTX_free(ctx);
                return NULL;
        }
        return ctx;
}

/* Handshake, request, answer. */
static int talk(SSL_CTX *ctx, const char *hostport) {
        static const char request[] = "GET / HTTP/1.0\r\n\r\n";
        char buf[4096];
        SSL *ssl = NULL;
        int fd, n, r = 1;

        fd = tcp_connect(hostport);
        if (fd < 0) {
                fprintf(stderr, "tls-client: cannot connect to %s: %s\n", hostport, strerror(-fd));
                return 1;
        }
        ssl = SSL_new(ctx);
        if (!ssl || !SSL_set_fd(ssl, fd) || !X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), "127.0.0.1")) {
                r = fail("cannot make the TLS connection");
                goto out;
        }
        if (SSL_connect(ssl) != 1) {
                r = fail("handshake failed");
                goto out;
        }
        printf("protocol: %s\n", SSL_get_version(ssl));
        fflush(stdout);
        if (SSL_write(ssl, request, (int) strlen(request)) != (int) strlen(request)) {
                r = fail("the server refused the request");
                goto out;
        }
        while ((n = SSL_read(ssl, buf, sizeof buf)) > 0)
                fwrite(buf, 1, (size_t) n, stdout);
        if (SSL_get_error(ssl, n) != SSL_ERROR_ZERO_RETURN) {
                r = fail("the server refused the request");
                goto out;
        }
        r = 0;
out:
        SSL_free(ssl);
        close(fd);
        return r;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "connect", required_argument, NULL, 'c' },
                { "ca", required_argument, NULL, 'a' },
                { "cert", required_argument, NULL, 'e' },
                { "connections", required_argument, NULL, 'n' },
                { "pause", no_argument, NULL, 'p' },
                {},
        };
        const char *socket_path = NULL, *hostport = NULL, *ca = NULL, *cert = NULL;
        int c, r = 0, connections = 1;
        bool pause = false;
        SSL_CTX *ctx;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': socket_path = optarg; break;
                case 'c': hostport = optarg; break;
                case 'a': ca = optarg; break;
                case 'e': cert = optarg; break;
                case 'n': connections = atoi(optarg); break;
                case 'p': pause = true; break;
                default: return 2;
                }
        if (!socket_path || !hostport || !ca || connections < 1 || optind != argc) {
                fprintf(stderr, "usage: tls-client --socket S --connect HOST:PORT --ca CA.pem [--cert C.pem] "
                                "[--connections N] [--pause]\n");
                return 2;
        }
        ctx = make_ctx(socket_path, ca, cert);
        if (!ctx)
                return 1;
        for (int i = 1; i <= connections && r == 0; i++) {
                if (pause) {
                        char line[16];

                        printf("ready %d\n", i);
                        fflush(stdout);
                        if (!fgets(line, sizeof line, stdin))
                                break;
                }
                r = talk(ctx, hostport);
                fflush(stdout);
        }
        SSL_CTX_free(ctx);
        return r;
}
