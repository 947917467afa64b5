/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-server's TLS (tls.c): the certificate it serves and its SSL_CTX.
 *
 * Unless --tls-cert/--tls-key name the operator's own, DATA_DIR/tls holds
 *   ca.pem, ca.key          the server CA (P-256, self-signed, 20 years):
 *                           what clients trust (--ca-file)
 *   server.pem, server.key  the server certificate (P-256, from that CA,
 *                           397 days), naming localhost, 127.0.0.1, ::1 and
 *                           each --tls-name
 * The first start creates all four in a temporary directory renamed into
 * place, so a crash or a second server starting at the same time never
 * leaves a half-made set. Later starts reuse them, and issue a new server
 * certificate from the CA when the names changed, the certificate expires
 * within 30 days, or it does not match its key or the CA. Keys are 0600. */

#include <stdbool.h>

#include <openssl/ssl.h>

#include "rampart/error.h"
#include "server.h"

typedef struct rp_tls_info {
        char *ca_path;          /* DATA_DIR/tls/ca.pem; NULL with --tls-cert */
        bool created;           /* the CA and the server certificate were made now */
        bool reissued;          /* a new server certificate was issued from the existing CA */
} rp_tls_info;

/* Makes or loads the certificate and returns a server SSL_CTX: TLS 1.3
 * only (1.2 too with cfg->tls12), a client certificate requested but not
 * required and, if sent, accepted whatever it is (the API checks device
 * certificates per request against the tenant's CA). */
int rp_tls_setup(const rp_server_config *cfg, SSL_CTX **ret_ctx, rp_tls_info *ret_info, rp_error *err);
void rp_tls_info_free(rp_tls_info *info);
