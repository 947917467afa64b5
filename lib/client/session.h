/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A device's session with rampart-server, for the CLI's device commands and
 * the device agent: an rp_http that authenticates with the device's
 * certificate (mTLS, the Alias key signing inside rampart-secmon), attesting
 * first when needed.
 *
 * What it keeps, in STATE_DIR/service/ (0700, files 0600, written
 * atomically):
 *   certificate.pem     the device certificate from the last attestation
 *   tenant-ca.pem       the tenant CA that issued it
 *   server              the server URL it was issued by (text, one line)
 *   deployment-key.pem  the tenant's deployment-document public key (SPKI
 *                       PEM, 0644): given by the factory or the operator
 *                       (`rampart deployment-key download`), or else pinned
 *                       from the first attestation's answer that carries one;
 *                       never replaced silently (an answer with another key
 *                       fails the session, see rp_device_session_open)
 *   deployment.cbor     the last deployment document the device accepted
 *   downloads/          partial image downloads (DIGEST.part)
 *
 * It attests again when there is no certificate, when it was issued for
 * another server, when it is not for the Alias key secmon holds now (the
 * device's software changed), when it expires within
 * RP_SESSION_RENEW_BEFORE seconds, or when the server refuses it (401)
 * once. The server file is written last, after the certificate: a crash
 * between the two leaves a certificate that is at worst refused once (401)
 * and renewed. */

#include <stdbool.h>
#include <stdint.h>

#include "client/http.h"
#include "rampart/crypto.h"
#include "rampart/error.h"

#define RP_SESSION_RENEW_BEFORE 3600

typedef struct rp_device_session_config {
        const char *state_dir;          /* required */
        const char *secmon_socket;      /* NULL: STATE_DIR/secmon.sock */
        const char *server;             /* https://host:port */
        const char *ca_file;            /* the server's TLS CA */
        unsigned timeout;               /* seconds per request; 0: the http.h default */
} rp_device_session_config;

typedef struct rp_device_session rp_device_session;

/* Opens the session: connects to secmon, loads or renews the certificate.
 * Errors say what to do (start secmon; claim the device; ...): a refusal of
 * the attestation is the server's (-EPERM for 403) with its reason and a
 * hint in err. When the attestation's answer carries a deployment key and
 * another one is pinned, -EKEYREJECTED: the pinned key stays and nothing
 * of the answer is stored. *ret_attested (if non-NULL) says whether it
 * attested. */
int rp_device_session_open(const rp_device_session_config *cfg, rp_device_session **ret, bool *ret_attested,
                           rp_error *err);
void rp_device_session_free(rp_device_session *s);
static inline void rp_device_session_freep(rp_device_session **s) {
        rp_device_session_free(*s);
}

/* The mTLS client (owned by the session). */
rp_http *rp_device_session_http(rp_device_session *s);
const char *rp_device_session_device_id(const rp_device_session *s);
/* The tenant's id (from the certificate's urn:rampart:tenant: name), which
 * deployment documents carry. */
const char *rp_device_session_tenant(const rp_device_session *s);
/* STATE_DIR/service, for the files above. */
const char *rp_device_session_dir(const rp_device_session *s);

/* Attests again now (after a 401 from a device route). The client of
 * rp_device_session_http stays the same object; its connections are
 * dropped, so the next request presents the new certificate. */
int rp_device_session_renew(rp_device_session *s, rp_error *err);

/* rp_http_json through the session, renewing once on a 401. */
int rp_device_session_json(rp_device_session *s, const char *method, const char *path, const json_t *body,
                           json_t **ret_json, rp_http_status *ret_status, rp_error *err);
/* rp_http_request through the session, renewing once on a 401. */
int rp_device_session_request(rp_device_session *s, const char *method, const char *path, const char *content_type,
                              const void *body, size_t len, const char *accept, char **ret_body, size_t *ret_len,
                              rp_http_status *ret_status, rp_error *err);

/* The pinned deployment key (deployment-key.pem). When none is pinned and
 * the session has not attested since it was opened, it attests once (the
 * answer may carry the key). -ENOKEY when there is still none; -EINVAL for
 * a file that holds no usable public key. */
int rp_device_session_deployment_key(rp_device_session *s, rp_key **ret, rp_error *err);

/* Provisions key as STATE_DIR/service/deployment-key.pem, with or without
 * a session (making the directory if needed): written when none is pinned;
 * 0 when the same key is; -EKEYREJECTED when another one is, which stays
 * (err says how to replace it on purpose). *ret_written (if non-NULL) says
 * whether the file was written. */
int rp_device_pin_deployment_key(const char *state_dir, const rp_key *key, bool *ret_written, rp_error *err);
