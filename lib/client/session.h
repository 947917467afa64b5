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
 *   deployment-key.pem  the tenant's deployment-document public key: given
 *                       by the factory or the operator (`rampart deployment-key
 *                       download`), or else pinned from the first
 *                       attestation's answer; never replaced silently
 *   deployment.cbor     the last deployment document the device accepted
 *   downloads/          partial image downloads (DIGEST.part)
 *
 * It attests again when there is no certificate, when it was issued for
 * another server, when it expires within RP_SESSION_RENEW_BEFORE seconds,
 * or when the server refuses it (401) once. */

#include <stdbool.h>
#include <stdint.h>

#include "client/http.h"
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
 * Errors say what to do (start secmon; claim the device; ...). *ret_attested
 * (if non-NULL) says whether it attested. */
int rp_device_session_open(const rp_device_session_config *cfg, rp_device_session **ret, bool *ret_attested,
                           rp_error *err);
void rp_device_session_free(rp_device_session *s);
static inline void rp_device_session_freep(rp_device_session **s) {
        rp_device_session_free(*s);
}

/* The mTLS client (owned by the session). */
rp_http *rp_device_session_http(rp_device_session *s);
const char *rp_device_session_device_id(const rp_device_session *s);
const char *rp_device_session_tenant(const rp_device_session *s);
/* STATE_DIR/service, for the files above. */
const char *rp_device_session_dir(const rp_device_session *s);

/* Attests again now (after a 401 from a device route). */
int rp_device_session_renew(rp_device_session *s, rp_error *err);

/* rp_http_json through the session, renewing once on a 401. */
int rp_device_session_json(rp_device_session *s, const char *method, const char *path, const json_t *body,
                           json_t **ret_json, rp_http_status *ret_status, rp_error *err);
