/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The TCG DICE TcbInfo certificate extension (OID 2.23.133.5.4.1) as
 * rampart's Alias certificates carry it: vendor "rampart", model (the
 * backend name), version (rampart's version), layer 1, and one FWID
 * { id-sha256, measurement }. DER, written and read by hand-checked code
 * (shared/reference/attestation.md has the ASN.1). */

#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"
#include "rot/rot.h"

#define RP_TCBINFO_OID "2.23.133.5.4.1"
#define RP_TCBINFO_TEXT_MAX 64

typedef struct rp_tcbinfo {
        char vendor[RP_TCBINFO_TEXT_MAX + 1];
        char model[RP_TCBINFO_TEXT_MAX + 1];
        char version[RP_TCBINFO_TEXT_MAX + 1];
        uint32_t layer;
        uint8_t fwid_sha256[RP_ROT_MEASUREMENT_LEN];
} rp_tcbinfo;

/* The extension's value (the DiceTcbInfo SEQUENCE), malloc'd. */
int rp_tcbinfo_encode(const rp_tcbinfo *info, uint8_t **ret_der, size_t *ret_len, rp_error *err);
/* Parses an extension value. Refuses anything but exactly one SHA-256 FWID,
 * texts over RP_TCBINFO_TEXT_MAX or not UTF-8, and trailing bytes. */
int rp_tcbinfo_decode(const uint8_t *der, size_t len, rp_tcbinfo *ret, rp_error *err);
