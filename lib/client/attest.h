/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The device's side of attestation to rampart-server (docs/api.md, "Device
 * API"), for the CLI and the device agent: the device id from
 * rampart-secmon -> POST /v1/attest/nonce -> evidence for that nonce from
 * rampart-secmon -> POST /v1/attest -> a certificate for the Alias key,
 * chained to the tenant CA, valid for a day. Then the device API over mTLS:
 * secmon's Alias key with that certificate. */

#include <stdint.h>

#include <openssl/ssl.h>

#include "client/http.h"
#include "rampart/error.h"
#include "secmon/client.h"

typedef struct rp_attest_result {
        char device_id[65];             /* lowercase hex */
        char *tenant;                   /* the tenant's name */
        char *certificate_pem;          /* the device certificate */
        char *ca_certificate_pem;       /* the tenant CA that issued it */
        int64_t expires_at;             /* seconds since the epoch */
        char *deployment_key_pem;       /* the tenant's deployment public key (PEM), or
                                         * NULL when the answer had none */
} rp_attest_result;

/* Frees what r holds and zeroes it; safe on a zeroed result. */
void rp_attest_result_clear(rp_attest_result *r);

/* Attests the device sm serves to the server h talks to (h needs no
 * token). The answer is checked before it is returned: the device id is
 * this device's, the certificate is one PEM certificate for the Alias key
 * secmon holds, signed by the CA certificate that came with it.
 *
 * A refusal by the server returns what rp_http_json returns (-EPERM for
 * 403) with err "server refused: <reason>: <message> (HTTP 403)", and
 * ret_status->code the reason (nonce_used, device_unclaimed,
 * software_revoked, ...). *ret is filled only on success; *ret_status (if
 * non-NULL) always, with the last request's status. */
int rp_attest(rp_http *h, rp_secmon *sm, rp_attest_result *ret, rp_http_status *ret_status, rp_error *err);

/* The check rp_attest makes of the answer to POST /v1/attest, for device
 * device_id (64 hex digits) whose Alias public key is alias: -EBADMSG if it
 * is not an object with "device_id" (this device's), "tenant",
 * "certificate", "ca_certificate" (PEM) and the integer "expires_at", or if
 * its optional "deployment_key" is not a PEM public key (ES256 or Ed25519);
 * -EKEYREJECTED if the certificate is not for alias or not signed by the CA
 * certificate. *ret is filled only on success. For rp_attest and the fuzz
 * target. */
int rp_attest_check_answer(const json_t *ans, const char *device_id, EVP_PKEY *alias, rp_attest_result *ret,
                           rp_error *err);

/* For the device API after attestation: the client key and certificate a
 * TLS connection presents. */
typedef struct rp_attest_tls {
        const char *secmon_socket;      /* secmon's socket: its Alias key signs */
        const char *certificate_pem;    /* the certificate rp_attest returned */
} rp_attest_tls;

/* An rp_http_tls_fn (userdata: an rp_attest_tls): sets ctx up to present
 * secmon's Alias key with the device certificate and no chain (the tenant
 * CA issues it directly). Refuses a certificate that is not for the Alias
 * key. */
int rp_attest_tls_setup(SSL_CTX *ctx, void *userdata, rp_error *err);
