/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The client's state, for the files of lib/client that drive libcurl
 * themselves (downloads). Everything else goes through http.h. */

#include <stdbool.h>
#include <stddef.h>

#include <curl/curl.h>

#include "client/http.h"

struct rp_http {
        CURL *curl;
        char *server;           /* no trailing '/' */
        char *ca_file;
        char *auth_header;      /* "Authorization: Bearer <token>", wiped on free */
        rp_http_tls_fn tls_setup;
        void *tls_userdata;
        size_t max_response;
        unsigned connect_timeout, timeout;
        /* per request */
        char *buf;
        size_t len, cap;
        bool too_big;
        int tls_r;              /* what tls_setup returned, if it failed */
        rp_error tls_err;
        char errbuf[CURL_ERROR_SIZE];
};

/* The error a transfer that got no answer failed with (http.c). */
int rp_http_transfer_error(rp_http *h, CURLcode rc, const char *method, const char *path, rp_error *err);
