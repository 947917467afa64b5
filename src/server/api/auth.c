/* SPDX-License-Identifier: Apache-2.0 */
/* Who is calling (api.h, rp_api_authenticate): an API token's user, or a
 * device with a certificate from its tenant's CA. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ssl.h>

#include "api/api.h"
#include "api/certs.h"
#include "api/common.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "rampart/crypto.h"

/* last_used_at is written at most this often per token (seconds), so a busy
 * client does not turn every read into a write. */
#define LAST_USED_PERIOD 60

static bool unauthenticated(rp_req *req, const char *message) {
        rp_reply_header(req, "WWW-Authenticate", "Bearer realm=\"rampart\"");
        rp_reply_error(req, 401, "unauthenticated", "%s", message);
        return false;
}

static bool authenticate_token(rp_req *req) {
        const char *h = rp_req_header(req, "Authorization");
        if (!h)
                return unauthenticated(req, "this route needs an API token: send 'Authorization: Bearer rpt_...'");
        /* The scheme is case-insensitive (RFC 9110 section 11.1). */
        if (strncasecmp(h, "Bearer ", 7) != 0)
                return unauthenticated(req, "the Authorization header must be 'Bearer rpt_...'");
        const char *token = h + 7;
        while (*token == ' ')
                token++;
        char hash[API_TOKEN_HASH_LEN + 1];
        if (!api_token_is_valid(token) || api_token_hash(token, hash) < 0)
                return unauthenticated(req, "the API token is malformed (expected rpt_ and 64 hex digits)");

        rp_db *db = rp_req_db(req);
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, &err,
                             "SELECT t.id, t.expires_at, t.revoked_at, t.last_used_at, u.id, u.name, u.role, "
                             "u.tenant_id FROM tokens t JOIN users u ON u.id = t.user_id WHERE t.hash = $1",
                             hash, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        int64_t now = api_now();
        if (res->n_rows != 1)
                return unauthenticated(req, "unknown API token");
        if (rp_db_result_get(res, 0, 2))
                return unauthenticated(req, "this API token was revoked");
        const char *expires = rp_db_result_get(res, 0, 1);
        if (expires && rp_db_result_int(res, 0, 1, 0) <= now)
                return unauthenticated(req, "this API token expired");

        rp_principal *p = rp_req_principal(req);
        *p = (rp_principal) { .kind = RP_PRINCIPAL_USER };
        snprintf(p->token_id, sizeof p->token_id, "%s", rp_db_result_get(res, 0, 0));
        snprintf(p->user_id, sizeof p->user_id, "%s", rp_db_result_get(res, 0, 4));
        snprintf(p->user_name, sizeof p->user_name, "%s", rp_db_result_get(res, 0, 5));
        snprintf(p->role, sizeof p->role, "%s", rp_db_result_get(res, 0, 6));
        const char *tenant = rp_db_result_get(res, 0, 7);
        snprintf(p->tenant_id, sizeof p->tenant_id, "%s", tenant ? tenant : "");

        /* At most once a period; a failure here does not refuse the request. */
        if (!rp_db_result_get(res, 0, 3) || rp_db_result_int(res, 0, 3, 0) <= now - LAST_USED_PERIOD) {
                char now_s[RP_DB_INT_STRLEN], before[RP_DB_INT_STRLEN];
                rp_error_clear(&err);
                r = rp_db_queryv(db, NULL, &err, "UPDATE tokens SET last_used_at = $1 WHERE id = $2 AND "
                                 "(last_used_at IS NULL OR last_used_at <= $3)", rp_db_int(now, now_s), p->token_id,
                                 rp_db_int(now - LAST_USED_PERIOD, before), NULL);
                if (r < 0) {
                        char q[RP_ERROR_MAX + 8];
                        rp_log("event=token_last_used_failed request=%s error=%s", rp_req_id(req),
                               rp_log_quote(rp_error_message(&err, r), q, sizeof q));
                }
        }
        return true;
}

static bool device_refused(rp_req *req, int status, const char *message) {
        char q[RP_ERROR_MAX + 8];
        rp_log("event=device_auth_refused request=%s status=%d reason=%s", rp_req_id(req), status,
               rp_log_quote(message, q, sizeof q));
        rp_reply_error(req, status, status == 401 ? "unauthenticated" : "forbidden", "%s", message);
        return false;
}

/* A device certificate verified on this connection: the next requests on
 * it skip the chain check while the certificate and the tenant CA are the
 * same and it is still valid, for at most VERIFIED_PERIOD seconds (after
 * which it is checked again, so a CA's own expiry is seen). The rest (the
 * device claimed by that tenant and enabled) is read for every request. */
#define VERIFIED_PERIOD 300

typedef struct verified {
        X509 *cert;             /* a reference to the certificate verified */
        api_device_identity id; /* the names it holds */
        char *ca_pem;           /* the tenant CA it was verified with */
        int64_t until;
} verified;

static int verified_index = -1;
static pthread_once_t verified_once = PTHREAD_ONCE_INIT;

static void verified_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
        verified *v = ptr;
        if (!v)
                return;
        X509_free(v->cert);
        free(v->ca_pem);
        free(v);
}

static void make_verified_index(void) {
        verified_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, verified_free);
}

/* What this connection verified of cert before, or NULL. */
static const verified *verified_of(SSL *ssl, X509 *cert) {
        verified *v = verified_index >= 0 ? SSL_get_ex_data(ssl, verified_index) : NULL;
        return v && v->cert && X509_cmp(v->cert, cert) == 0 ? v : NULL;
}

/* Remembers the verification (nothing if memory runs out: the next request
 * verifies again). */
static void remember_verified(SSL *ssl, X509 *cert, const api_device_identity *id, const char *ca_pem, int64_t now) {
        if (pthread_once(&verified_once, make_verified_index) != 0 || verified_index < 0)
                return;
        verified *v = SSL_get_ex_data(ssl, verified_index);
        if (!v) {
                v = calloc(1, sizeof *v);
                if (!v || SSL_set_ex_data(ssl, verified_index, v) != 1) {
                        free(v);
                        return;
                }
        }
        char *copy = strdup(ca_pem);
        if (!copy || X509_up_ref(cert) != 1) {
                free(copy);
                return;
        }
        X509_free(v->cert);
        free(v->ca_pem);
        v->cert = cert;
        v->id = *id;
        v->ca_pem = copy;
        v->until = id->not_after < now + VERIFIED_PERIOD ? id->not_after : now + VERIFIED_PERIOD;
}

/* One query for all a device route needs to know: the tenant CA, whether
 * the device is claimed by that tenant and enabled, and its update state
 * (rp_principal): what GET /v1/device/deployment answers from. */
#define DEVICE_QUERY                                                                                          \
        "SELECT t.ca_cert_pem, d.enabled, d.device_group_id, d.group_seq, g.update_policy, g.policy_seq, "       \
        "g.current_deployment_id, dep.seq FROM tenants t "                                                   \
        "LEFT JOIN devices d ON d.id = $1 AND d.tenant_id = t.id "                                            \
        "LEFT JOIN device_groups g ON g.id = d.device_group_id "                                              \
        "LEFT JOIN deployments dep ON dep.id = g.current_deployment_id WHERE t.id = $2"

static bool authenticate_device(rp_req *req) {
        SSL *ssl = rp_req_ssl(req);
        X509 *cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL;
        if (!cert)
                return device_refused(req, 401, "this route needs a device certificate: connect with the "
                                      "certificate attestation issued (POST /v1/attest) as the TLS client "
                                      "certificate");
        rp_error err = {};
        /* The names of a certificate this connection presented before
         * are known; the certificate cannot change on a connection, but
         * it is compared all the same. */
        const verified *before = verified_of(ssl, cert);
        api_device_identity id;
        int r = 0;
        if (before)
                id = before->id;
        else
                r = api_device_cert_names(cert, &id, &err);
        if (r < 0)
                return device_refused(req, 401, rp_error_message(&err, r));

        rp_db *db = rp_req_db(req);
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        r = rp_db_queryv(db, &res, &err, DEVICE_QUERY, id.device_id, id.tenant_id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1)
                return device_refused(req, 401, "the device certificate names a tenant this service does not have");
        const char *ca_pem = rp_db_result_get(res, 0, 0);
        if (!ca_pem)
                return device_refused(req, 401, "the device certificate's tenant has no CA");
        int64_t now = api_now();
        if (!before || now >= before->until || !streq(before->ca_pem, ca_pem)) {
                /* The server side's peer chain holds the certificates after the leaf. */
                r = api_device_cert_verify(cert, SSL_get_peer_cert_chain(ssl), ca_pem, now, &err);
                if (r == -ENOMEM || r == -EIO) {
                        rp_reply_error(req, 500, "internal", "the device certificate could not be checked");
                        return false;
                }
                if (r < 0)
                        return device_refused(req, 401, rp_error_message(&err, r));
                remember_verified(ssl, cert, &id, ca_pem, now);
        }
        if (!rp_db_result_get(res, 0, 1))
                return device_refused(req, 403, "the device is not claimed by the tenant that issued its "
                                      "certificate");
        if (rp_db_result_int(res, 0, 1, 0) == 0)
                return device_refused(req, 403, "the device is disabled in its tenant");

        rp_principal *p = rp_req_principal(req);
        *p = (rp_principal) {
                .kind = RP_PRINCIPAL_DEVICE, .cert_expires_at = id.not_after,
                .group_seq = rp_db_result_int(res, 0, 3, 0), .policy_seq = rp_db_result_int(res, 0, 5, 0),
                .deployment_seq = rp_db_result_int(res, 0, 7, 0),
        };
        memcpy(p->tenant_id, id.tenant_id, sizeof p->tenant_id);
        memcpy(p->device_id, id.device_id, sizeof p->device_id);
        const char *group = rp_db_result_get(res, 0, 2), *policy = rp_db_result_get(res, 0, 4);
        const char *deployment = rp_db_result_get(res, 0, 6);
        snprintf(p->group_id, sizeof p->group_id, "%s", group ? group : "");
        snprintf(p->update_policy, sizeof p->update_policy, "%s", policy ? policy : "");
        snprintf(p->deployment_id, sizeof p->deployment_id, "%s", deployment && group ? deployment : "");
        return true;
}

bool rp_api_authenticate(rp_req *req, rp_auth auth) {
        switch (auth) {
        case RP_AUTH_NONE:
                return true;
        case RP_AUTH_TOKEN:
                return authenticate_token(req);
        case RP_AUTH_DEVICE:
                return authenticate_device(req);
        }
        rp_reply_error(req, 500, "internal", "unknown authentication kind");
        return false;
}
