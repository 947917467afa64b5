/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Where the tpm2 root of trust keeps its things in the TPM, and the labels
 * that make its primary keys. docs/security.md ("Root of trust: the tpm2
 * backend") says why; docs/formats.md ("TPM 2.0 objects" and "Sealed blob
 * (tpm2)") gives the exact bytes. The backend itself is
 * rp_rot_backend_tpm2 (rot.h); tests and tools use these to look at the
 * TPM from outside (tpm2_readpublic, tpm2_nvread). */

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
