/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-server: the security service. One process = one listener, N
 * worker threads (each its own event loop and store connection), state in
 * the store only (docs/operations.md). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

/* Everything a config file (--config F, "key = value" lines) or a flag can
 * set; flags override the file. Defaults are safe with nothing set. */
typedef struct rp_server_config {
        char *data_dir;                 /* --data-dir; required */
        char *listen;                   /* --listen HOST:PORT; 127.0.0.1:8443 */
        char *store;                    /* --store; sqlite:DATA_DIR/rampart.db */
        unsigned workers;               /* --workers; the number of cores */
        /* TLS: by default DATA_DIR/tls/{ca.pem,server.pem,server.key}, made
         * at first start (server.pem names localhost, 127.0.0.1, ::1 and
         * each --tls-name). */
        char *tls_cert, *tls_key;
        char **tls_names;
        size_t n_tls_names;
        bool tls12;                     /* --tls12: also accept TLS 1.2 */
        /* Limits */
        size_t max_body;                /* 1 MiB */
        size_t max_header;              /* 16 KiB, all header lines */
        unsigned max_connections;       /* 16384 per process (fd limit raised to fit) */
        double rate;                    /* requests per second per client address: 200 */
        unsigned burst;                 /* 400 */
        unsigned idle_timeout;          /* seconds a connection may sit idle: 60 */
        unsigned request_timeout;       /* seconds to receive a whole request: 10 */
        /* Attestation */
        unsigned nonce_ttl;             /* seconds a nonce is valid: 60 */
        unsigned cert_lifetime;         /* seconds a device certificate is valid: 86400 */
        /* Images and updates */
        char *blob_store;               /* --blob-store; dir:DATA_DIR/blobs */
        size_t max_image_size;          /* largest package accepted: 1 GiB + 1 MiB */
        unsigned upload_ttl;            /* seconds an unfinished upload is kept: 86400 */
        unsigned document_lifetime;     /* seconds a deployment document is valid: 86400 */
        /* Failure reports */
        unsigned report_max_events;     /* kept per device: 1000 */
        unsigned report_max_age;        /* seconds kept: 14 days */
        unsigned report_max_batch;      /* events in one upload: 100 */
} rp_server_config;

typedef struct rp_blob_store rp_blob_store;

typedef struct rp_server {
        rp_server_config cfg;
        SSL_CTX *ssl_ctx;
        char *tls_ca_path;              /* what clients trust */
        rp_blob_store *blobs;           /* shared by the workers (blob/blob.h) */
} rp_server;
