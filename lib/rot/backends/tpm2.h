/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where the tpm2 root of trust keeps its things in the TPM, and the labels
 * that make its primary keys. docs/security.md ("Root of trust: the tpm2
 * backend") says why; docs/formats.md ("TPM 2.0 objects" and "Sealed blob
 * (tpm2)") gives the exact bytes. The backend itself is
 * rp_rot_backend_tpm2 (rot.h); tests and tools use these to look at the
 * TPM from outside (tpm2_readpublic, tpm2_nvread). */

#include <stddef.h>
#include <stdint.h>

#include <tss2/tss2_tpm2_types.h>

#include "rampart/error.h"
#include "rot/rot.h"

/* The TCTI used when neither the caller nor D/rot.conf names one. */
#define RP_TPM2_DEFAULT_TCTI "device:/dev/tpmrm0"
#define RP_TPM2_TCTI_MAX 256          /* bytes of a TCTI configuration string */

/* The DeviceID key, persistent, in the owner's range of persistent handles. */
#define RP_TPM2_DEVICEID_HANDLE 0x81000052u

/* Anti-rollback counter i (0 <= i < RP_ROT_COUNTERS) is the TPM NV counter
 * at RP_TPM2_NV_COUNTER + i; the counter's value when it was first
 * incremented (the "start", so that rampart's counter reads 0 then) is an
 * 8-byte NV index at RP_TPM2_NV_START + i, written once and write-locked.
 * Both in the owner's range of NV indexes (0x01800000-0x01BFFFFF). */
#define RP_TPM2_NV_COUNTER 0x01805200u
#define RP_TPM2_NV_START 0x01805210u

/* Most TPM increments one counter_advance makes: each is an NV write, and
 * TPM NV wears out; a caller wanting a bigger step advances in steps. */
#define RP_TPM2_MAX_INCREMENTS 4096u

/* The unique field (x coordinate) of each primary's template is SHA-256 of
 * the label, followed by the measurement for the last two. */
#define RP_TPM2_LABEL_DEVICEID "rampart tpm2 DeviceID v1"
#define RP_TPM2_LABEL_ALIAS "rampart tpm2 Alias v1"
#define RP_TPM2_LABEL_SEAL "rampart tpm2 seal v1"

/* The sealed blob (docs/formats.md, "Sealed blob (tpm2)"). */
#define RP_TPM2_SEAL_MAGIC "RPT2"
#define RP_TPM2_SEAL_VERSION 1
#define RP_TPM2_SEAL_HEADER_LEN 12
#define RP_TPM2_SEAL_NONCE_LEN 12
#define RP_TPM2_SEAL_TAG_LEN 16

/* A sealed blob taken apart; nonce, ct and tag point into the blob. */
typedef struct rp_tpm2_blob {
        TPM2B_PUBLIC pub;         /* the sealed object, as rampart seals it */
        TPM2B_PRIVATE priv;
        size_t aad_len;           /* bytes before the nonce: GCM's additional data */
        const uint8_t *nonce;     /* RP_TPM2_SEAL_NONCE_LEN bytes */
        const uint8_t *ct;
        size_t ct_len;            /* <= RP_ROT_SEAL_MAX */
        const uint8_t *tag;       /* RP_TPM2_SEAL_TAG_LEN bytes */
} rp_tpm2_blob;

/* Checks every length of blob against its size and limits before anything
 * is unmarshalled, then that the TPM object has the template rampart seals
 * with: -EFBIG over RP_ROT_SEALED_MAX, -EOPNOTSUPP for another version,
 * -EBADMSG for anything else wrong.
 * unseal's first step, and what fuzz/tpm2-blob exercises. */
int rp_tpm2_blob_parse(const uint8_t *blob, size_t len, rp_tpm2_blob *ret, rp_error *err);
