/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The certificates the service makes and checks (api/certs.c):
 *
 *   tenant CA (one per tenant, key in the store)   P-256, CA:TRUE pathlen 0,
 *     │                                            keyCertSign + cRLSign, 20 years
 *     └ device certificate (24 hours by default)   the device's Alias key;
 *                                                  CN = device id, O = tenant;
 *                                                  SAN urn:rampart:tenant:ID,
 *                                                  urn:rampart:device:ID; clientAuth
 *
 * and the manufacturer CA certificates tenants and operators trust
 * (PEM bundles, each certificate a CA). docs/api.md has the profile. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "rampart/error.h"
#include "store/db.h"

#define API_FINGERPRINT_LEN 64          /* SHA-256 of the DER, hex */
#define API_SERIAL_HEX_LEN 32           /* 16 bytes */
#define API_TENANT_CA_YEARS 20
#define API_CERT_BACKDATE 300           /* seconds before now a device certificate is valid from */
#define API_SUBJECT_MAX 1024            /* a manufacturer CA's subject, as text */
#define API_MANUFACTURER_CERTS_MAX 16   /* certificates in one ca_pem */
#define API_CA_PEM_MAX (64 * 1024)

/* A new tenant CA for the tenant named name: its certificate and PKCS#8
 * key as PEM (malloc'd; the key's buffer is the caller's to wipe). */
int api_tenant_ca_create(const char *name, int64_t now, char **ret_cert_pem, char **ret_key_pem, rp_error *err);

/* SHA-256 of the DER of the first certificate in pem, lowercase hex. */
int api_cert_fingerprint(const char *pem, char ret[API_FINGERPRINT_LEN + 1], rp_error *err);

/* The tenant CA's certificate and key from their PEM (as the store keeps
 * them), checked to be a pair. */
int api_tenant_ca_decode(const char *cert_pem, const char *key_pem, X509 **ret_cert, EVP_PKEY **ret_key,
                         rp_error *err);

/* What the service certifies for a device. */
typedef struct api_device_cert_request {
        X509 *ca_cert;                          /* the tenant CA (api_tenant_ca_decode) */
        EVP_PKEY *ca_key;
        const char *tenant_id, *tenant_name;
        const char *device_id;                  /* 64 hex */
        X509_PUBKEY *public_key;                /* P-256: the verified Alias certificate's */
        int64_t now;
        unsigned lifetime;                      /* seconds */
} api_device_cert_request;

/* Issues the device certificate: *ret_pem (malloc'd), its serial in hex
 * and its notAfter. -EINVAL if the public key is not a P-256 one. */
int api_device_cert_issue(const api_device_cert_request *rq, char **ret_pem,
                          char ret_serial[API_SERIAL_HEX_LEN + 1], int64_t *ret_not_after, rp_error *err);

/* A client certificate as the device API sees it. */
typedef struct api_device_identity {
        char tenant_id[RP_DB_ID_LEN + 1];
        char device_id[64 + 1];
        int64_t not_after;
} api_device_identity;

/* The device id and tenant id a device certificate names in its SAN URIs
 * (exactly one of each), and its notAfter. -EINVAL with a message if it
 * names them otherwise. Nothing is verified here. */
int api_device_cert_names(X509 *cert, api_device_identity *ret, rp_error *err);

/* Verifies cert (with the peer's other certificates, untrusted, may be
 * NULL) against the tenant CA in ca_cert_pem at time now, for TLS client
 * authentication. -EKEYREJECTED with OpenSSL's reason if it does not. */
int api_device_cert_verify(X509 *cert, STACK_OF(X509) *untrusted, const char *ca_cert_pem, int64_t now,
                           rp_error *err);

/* One certificate of a manufacturer's ca_pem. */
typedef struct api_manufacturer_cert {
        char *pem;                              /* this certificate alone, re-encoded */
        char fingerprint[API_FINGERPRINT_LEN + 1];
        char subject[API_SUBJECT_MAX + 1];      /* RFC 2253 text, escaped */
        char common_name[129];                  /* "" if none, printable */
        int64_t not_after;
} api_manufacturer_cert;

/* Splits ca_pem (len bytes) into its certificates: 1 to
 * API_MANUFACTURER_CERTS_MAX PEM "CERTIFICATE" blocks, each a CA
 * (basicConstraints CA:TRUE); any other block, or a certificate that is not
 * a CA, is refused (-EINVAL, the message names which and why). */
int api_manufacturer_certs_parse(const char *ca_pem, size_t len, api_manufacturer_cert **ret, size_t *ret_n,
                                 rp_error *err);
void api_manufacturer_certs_free(api_manufacturer_cert *certs, size_t n);
