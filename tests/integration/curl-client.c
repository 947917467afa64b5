/* SPDX-License-Identifier: Apache-2.0 */
/* Test client for integration/tls-secmon: a libcurl GET whose TLS client
 * authentication signs with the Alias key rampart-secmon holds, set up by
 * rp_secmon_tls_setup from CURLOPT_SSL_CTX_FUNCTION.
 *
 *   curl-client --socket S --ca CA.pem URL
 *
 * Prints the body on stdout and "http: CODE" on stderr. Exit 0 for HTTP 200;
 * 1 for anything else (libcurl's or secmon's reason on stderr); 2 for wrong
 * arguments. */

#include <getopt.h>
#include <stdio.h>

#include <curl/curl.h>
#include <openssl/ssl.h>

#include "secmon/provider.h"

static CURLcode ssl_ctx_setup(CURL *curl, void *ssl_ctx, void *userdata) {
        const char *socket_path = userdata;
        rp_error err = {};

        if (rp_secmon_tls_setup(ssl_ctx, socket_path, &err) < 0) {
                fprintf(stderr, "curl-client: %s\n", err.message);
                return CURLE_SSL_CERTPROBLEM;
        }
        return CURLE_OK;
}

static int get(const char *url, const char *socket_path, const char *ca) {
        char errbuf[CURL_ERROR_SIZE] = "";
        CURL *curl = curl_easy_init();
        long code = 0;
        CURLcode rc;

        if (!curl) {
                fprintf(stderr, "curl-client: curl_easy_init failed\n");
                return 1;
        }
        curl_easy_setopt(curl, CURLOPT_URL, url);
        curl_easy_setopt(curl, CURLOPT_CAINFO, ca);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_FUNCTION, ssl_ctx_setup);
        curl_easy_setopt(curl, CURLOPT_SSL_CTX_DATA, (void *) socket_path);
        rc = curl_easy_perform(curl);
        if (rc != CURLE_OK) {
                fprintf(stderr, "curl-client: %s: %s\n", curl_easy_strerror(rc), errbuf);
                curl_easy_cleanup(curl);
                return 1;
        }
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        curl_easy_cleanup(curl);
        fprintf(stderr, "http: %ld\n", code);
        return code == 200 ? 0 : 1;
}

int main(int argc, char **argv) {
        static const struct option options[] = {
                { "socket", required_argument, NULL, 's' },
                { "ca", required_argument, NULL, 'a' },
                {},
        };
        const char *socket_path = NULL, *ca = NULL;
        int c, r;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 's': socket_path = optarg; break;
                case 'a': ca = optarg; break;
                default: return 2;
                }
        if (!socket_path || !ca || optind != argc - 1) {
                fprintf(stderr, "usage: curl-client --socket S --ca CA.pem URL\n");
                return 2;
        }
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                fprintf(stderr, "curl-client: curl_global_init failed\n");
                return 1;
        }
        r = get(argv[optind], socket_path, ca);
        curl_global_cleanup();
        return r;
}
