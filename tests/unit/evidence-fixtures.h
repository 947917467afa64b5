/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Devices for the evidence tests (unit/evidence) and the CLI test's helper
 * (tests/integration/evidence-tool.c), made the way a device makes them:
 * a manufacturer CA (rp_cert_ca_create), keys derived from a unique device
 * secret as the soft backend does (dice.h), the DeviceID and Alias
 * certificates of cert.h, and evidence from rp_evidence_create. The
 * components list (measure.h's CBOR) is written here byte by byte, so the
 * tests do not rest on the code that reads it.
 *
 * Functions return 0 or a negative errno with err set; nothing here uses
 * cmocka, so the helper program can use it too. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rampart/error.h"

typedef struct ev_ca {
        X509 *cert;
        EVP_PKEY *key;
        char *pem;                 /* ca.pem's text */
        size_t pem_len;
} ev_ca;

typedef struct ev_device {
        uint8_t uds[32];
        EVP_PKEY *deviceid_key;
        X509 *deviceid_cert;
        char device_id[65];
        uint8_t *components;       /* [[name, version, digest]] */
        size_t components_len;
        uint8_t measurement[32];   /* SHA-256(components) */
        EVP_PKEY *alias_key;
        X509 *alias_cert;
        char backend[17];
} ev_device;

/* A manufacturer CA, written to dir/ca.pem and dir/ca.key by
 * rp_cert_ca_create, then loaded. */
int ev_ca_new(const char *dir, ev_ca *ret, rp_error *err);
/* The CA in dir (ca.pem, ca.key). */
int ev_ca_load(const char *dir, ev_ca *ret, rp_error *err);
void ev_ca_done(ev_ca *ca);

/* A component of the measured software. */
typedef struct ev_component {
        const char *name;
        const char *version;
        const void *content;       /* the measured bytes */
        size_t len;
} ev_component;

/* The components list in deterministic CBOR, malloc'd. */
int ev_components(const ev_component *c, size_t n, uint8_t **ret, size_t *ret_len);

/* A device provisioned by ca: UDS = 32 bytes of uds_byte, DeviceID key
 * derived from it, DeviceID certificate from the CA, Alias key derived
 * from CDI(UDS, measurement of components) and its certificate signed by
 * the DeviceID key, TcbInfo model = backend. */
int ev_device_new(const ev_ca *ca, uint8_t uds_byte, const char *backend, const ev_component *c, size_t n,
                  ev_device *ret, rp_error *err);
/* The same with the components list given as its CBOR bytes (copied). */
int ev_device_measured(const ev_ca *ca, uint8_t uds_byte, const char *backend, const uint8_t *components,
                       size_t components_len, ev_device *ret, rp_error *err);
void ev_device_done(ev_device *d);

/* A digest signer (rp_digest_signer) over an EVP_PKEY (ctx). */
int ev_sign_digest(void *ctx, const uint8_t digest[32], uint8_t ret_sig[64], rp_error *err);

/* The DER of a certificate, malloc'd. */
int ev_der(X509 *cert, uint8_t **ret, size_t *ret_len);

/* Evidence as rampart-secmon makes it: rp_evidence_create with d's claims
 * and chain, signed by d's Alias key; development = backend is "soft". */
int ev_evidence(const ev_device *d, const uint8_t *nonce, size_t nonce_len, uint8_t **ret, size_t *ret_len,
                rp_error *err);
