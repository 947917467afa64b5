/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by evidence_create.c and evidence_verify.c: the claim keys of
 * rampart's EAT profile (docs/formats.md, "Attestation evidence") and the
 * reading of the measured components list. */

#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

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
