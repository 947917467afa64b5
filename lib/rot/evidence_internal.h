/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by evidence_create.c and evidence_verify.c: the claim keys of
 * rampart's EAT profile (docs/formats.md, "Attestation evidence") and the
 * reading of the measured components list. And the verifier's entry point
 * for a service that checks many devices against the same trusted CAs
 * (rampart-server): the CAs decoded once, not for every piece of evidence. */

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>
#include <openssl/x509.h>

#include "rampart/error.h"
#include "rampart/evidence.h"

/* CWT / EAT claim keys (RFC 8392, RFC 9711). */
#define EVIDENCE_CLAIM_IAT 6
#define EVIDENCE_CLAIM_NONCE 10
#define EVIDENCE_CLAIM_UEID 256
#define EVIDENCE_CLAIM_DBGSTAT 263
#define EVIDENCE_CLAIM_PROFILE 265
#define EVIDENCE_CLAIM_SWNAME 270
#define EVIDENCE_CLAIM_SWVERSION 271
#define EVIDENCE_CLAIM_MEASUREMENTS 273
/* rampart's private claims (RFC 8392 leaves keys below -65536 to private use). */
#define EVIDENCE_CLAIM_BACKEND (-70001)
#define EVIDENCE_CLAIM_DEVELOPMENT (-70002)

/* ueid type RAND (RFC 9711 section 4.2.1), then the 32 bytes of the device id. */
#define EVIDENCE_UEID_TYPE_RAND 0x01
#define EVIDENCE_UEID_LEN (1 + RP_EVIDENCE_DIGEST_LEN)

/* The content format of the measurements claim's one entry: rampart's
 * measured components list (measure.h), a number from CoAP's experimental
 * range (RFC 7252 section 12.3: 65000-65535). */
#define EVIDENCE_MEASUREMENT_FORMAT 65000

#define EVIDENCE_DBGSTAT_MAX 4

/* Reads the components list (measure.h's CBOR bytes):
 *     [ + [ name: tstr, version: tstr, digest: bstr .size 32 ] ]
 * deterministic CBOR, 1 to RP_EVIDENCE_MAX_COMPONENTS entries, names 1 to
 * RP_EVIDENCE_TEXT_MAX printable bytes and unique, versions 0 to that,
 * nothing after the list (docs/formats.md, "Measurement"). out and ret_n
 * may be NULL (checking only). Messages start with "components: ". */
int evidence_components_parse(const uint8_t *buf, size_t len,
                              rp_evidence_component out[RP_EVIDENCE_MAX_COMPONENTS], size_t *ret_n,
                              rp_error *err);

/* True if s (len bytes) is a backend name: 1 to RP_EVIDENCE_BACKEND_MAX
 * lowercase letters and digits. */
bool evidence_backend_name_ok(const char *s, size_t len);

/* Copies a text item of min..max printable bytes into out (max + 1 bytes);
 * messages start with what. */
int evidence_text_copy(const cbor_item_t *item, size_t min, size_t max, char *out, const char *what,
                       rp_error *err);

/* Decodes trusted CA certificates as rp_evidence_verify reads a policy's
 * ca_pem (len bytes): 1 to 64 PEM "CERTIFICATE" blocks, at most 1 MiB, with
 * its codes and messages. *ret: free with sk_X509_pop_free(X509_free). */
int rp_evidence_trusted_parse(const char *ca_pem, size_t len, STACK_OF(X509) **ret, rp_error *err);

/* rp_evidence_verify with the trusted CA certificates decoded already
 * (trusted, 1 to 64 of them, as rp_evidence_trusted_parse makes them;
 * borrowed); policy->ca_pem is not read. The same checks, in the same
 * order, with the same codes and messages. ret_alias (may be NULL): on
 * success, the verified Alias certificate (a reference: X509_free), whose
 * public key the claims' alias_public_key encodes.
 * trusted is not changed, but for what OpenSSL caches in a certificate
 * the first time it checks one (its extensions, read): a caller that
 * shares the stack between threads must have that done before. */
int rp_evidence_verify_trusted(const uint8_t *buf, size_t len, STACK_OF(X509) *trusted,
                               const rp_evidence_policy *policy, rp_evidence_claims **ret, X509 **ret_alias,
                               rp_error *err);
