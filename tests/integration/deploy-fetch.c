/* SPDX-License-Identifier: Apache-2.0 */
/* Test client for integration/server-deploy: one HTTPS request as a device
 * makes it, over mTLS with the device certificate the service issued and
 * the Alias key rampart-secmon holds (rp_secmon_tls_key), on libcurl.
 *
 *   deploy-fetch --socket S --ca CA.pem --cert DEVICE.pem [-X METHOD]
 *                [-H 'Name: value']... [--data BODY] [-o FILE] [-D FILE]
 *                [--limit-rate BYTES_PER_S] [--pause-after N --pause-for S]
 *                [--rcvbuf BYTES] [--delay S] URL [URL...]
 *
 * Each URL is fetched in turn on one connection (keep-alive). The body goes
 * to FILE (stdout without -o; with several URLs, each appended), the
 * response headers to -D FILE, and "http: CODE bytes: N" to stderr per
 * URL. --pause-after N stops reading after N bytes of the body for S
 * seconds (a client that stalls); --rcvbuf makes the socket's receive
 * buffer small, so that the server sees the stall soon; --delay waits S
 * seconds between two URLs (the connection stays open). Exit 0 when every transfer completed,
 * whatever the status; 1 when one failed (libcurl's reason on stderr); 2
 * for wrong arguments. */

#include <getopt.h>
#include <stdbool.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "secmon/provider.h"

typedef struct opts {
        const char *socket_path, *cert;
} opts;

typedef struct sink {
        FILE *f;
        curl_off_t bytes;
        curl_off_t pause_after;         /* -1: never */
        double pause_for;
        bool paused_once;
        double pause_until;
        CURL *curl;
} sink;

static double now(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

static CURLcode ssl_ctx_setup(CURL *curl, void *ssl_ctx, void *userdata) {
        const opts *o = userdata;
        rp_error err = {};
        EVP_PKEY *key = NULL;
        if (rp_secmon_tls_key(NULL, o->socket_path, &key, &err) < 0) {
                fprintf(stderr, "deploy-fetch: %s\n", err.message);
                return CURLE_SSL_CERTPROBLEM;
        }
        int ok = SSL_CTX_use_certificate_chain_file(ssl_ctx, o->cert) == 1 && SSL_CTX_use_PrivateKey(ssl_ctx, key) == 1;
        EVP_PKEY_free(key);
        if (!ok) {
                fprintf(stderr, "deploy-fetch: the certificate %s does not go with secmon's key\n", o->cert);
                return CURLE_SSL_CERTPROBLEM;
        }
        return CURLE_OK;
}

static int rcvbuf;

static int sockopt(void *userdata, curl_socket_t fd, curlsocktype purpose) {
        if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf) < 0)
                return CURL_SOCKOPT_ERROR;
        return CURL_SOCKOPT_OK;
}

static size_t write_body(char *p, size_t size, size_t n, void *userdata) {
        sink *s = userdata;
        if (s->pause_after >= 0 && !s->paused_once && s->bytes >= s->pause_after) {
                s->paused_once = true;
                s->pause_until = now() + s->pause_for;
                return CURL_WRITEFUNC_PAUSE;
        }
        s->bytes += (curl_off_t) (size * n);
        return fwrite(p, size, n, s->f) == n ? size * n : 0;
}

static size_t write_header(char *p, size_t size, size_t n, void *userdata) {
        return fwrite(p, size, n, userdata) == n ? size * n : 0;
}

/* Unpauses once the pause is over (libcurl calls it while it waits). */
static int progress(void *userdata, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un) {
        sink *s = userdata;
        if (s->paused_once && s->pause_until > 0 && now() >= s->pause_until) {
                s->pause_until = 0;
                curl_easy_pause(s->curl, CURLPAUSE_CONT);
        }
        return 0;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "ca", required_argument, NULL, 'a' },
                { "cert", required_argument, NULL, 'c' },
                { "data", required_argument, NULL, 'd' },
                { "limit-rate", required_argument, NULL, 'l' },
                { "pause-after", required_argument, NULL, 'p' },
                { "pause-for", required_argument, NULL, 'f' },
                { "rcvbuf", required_argument, NULL, 'r' },
                { "delay", required_argument, NULL, 'w' },
                {},
        };
        opts o = {};
        const char *ca = NULL, *method = NULL, *data = NULL, *out = NULL, *hdr = NULL;
        struct curl_slist *headers = NULL;
        long long rate = 0, pause_after = -1;
        double pause_for = 0, delay = 0;
        int c;
        while ((c = getopt_long(argc, argv, "X:H:o:D:", options, NULL)) >= 0)
                switch (c) {
                case 's': o.socket_path = optarg; break;
                case 'a': ca = optarg; break;
                case 'c': o.cert = optarg; break;
                case 'd': data = optarg; break;
                case 'l': rate = atoll(optarg); break;
                case 'p': pause_after = atoll(optarg); break;
                case 'f': pause_for = atof(optarg); break;
                case 'r': rcvbuf = atoi(optarg); break;
                case 'w': delay = atof(optarg); break;
                case 'X': method = optarg; break;
                case 'H': headers = curl_slist_append(headers, optarg); break;
                case 'o': out = optarg; break;
                case 'D': hdr = optarg; break;
                default: return 2;
                }
        if (!o.socket_path || !ca || !o.cert || optind >= argc) {
                fprintf(stderr, "usage: deploy-fetch --socket S --ca CA.pem --cert DEVICE.pem [-X M] [-H H]... "
                        "[--data B] [-o F] [-D F] [--limit-rate N] [--pause-after N --pause-for S] URL...\n");
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
                return 1;
        FILE *body = out ? fopen(out, "wb") : stdout;
        FILE *hf = hdr ? fopen(hdr, "wb") : NULL;
        CURL *curl = curl_easy_init();
        if (!body || (hdr && !hf) || !curl) {
                fprintf(stderr, "deploy-fetch: cannot open the output or make the client\n");
                return 1;
        }
        if (data)
                headers = curl_slist_append(headers, "Content-Type: application/json");
        char errbuf[CURL_ERROR_SIZE] = "";
        int rc = 0;
        sink s = { .f = body, .pause_after = pause_after, .pause_for = pause_for, .curl = curl };
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_setup);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, &o);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, write_body);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
        curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, progress);
        curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
        curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, 120L);
        curl_easy_setopt(curl, CURLOPT_SOCKOPTFUNCTION, sockopt);
        if (hf) {
                curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, write_header);
                curl_easy_setopt(curl, CURLOPT_HEADERDATA, hf);
        }
        if (rate > 0)
                curl_easy_setopt(curl, CURLOPT_MAX_RECV_SPEED_LARGE, (curl_off_t) rate);
        if (method && strcmp(method, "HEAD") == 0)
                curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        else if (method)
                curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
        if (data)
                curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
        for (int i = optind; i < argc && rc == 0; i++) {
                if (i > optind && delay > 0) {
                        struct timespec ts = { (time_t) delay, (long) ((delay - (double) (time_t) delay) * 1e9) };
                        nanosleep(&ts, NULL);
                }
                s.bytes = 0;
                curl_easy_setopt(curl, CURLOPT_URL, argv[i]);
                CURLcode cr = curl_easy_perform(curl);
                long code = 0;
                curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
                fprintf(stderr, "http: %ld bytes: %lld\n", code, (long long) s.bytes);
                if (cr != CURLE_OK) {
                        fprintf(stderr, "deploy-fetch: %s: %s\n", curl_easy_strerror(cr), errbuf);
                        rc = 1;
                }
        }
        curl_easy_cleanup(curl);
        curl_slist_free_all(headers);
        if (out)
                fclose(body);
        if (hf)
                fclose(hf);
        curl_global_cleanup();
        return rc;
}
