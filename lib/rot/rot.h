/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The root of trust: one interface, one backend per file in lib/rot/backends/
 * (soft.c, tpm2.c), chosen by name at run time through rp_rot_backend_find().
 * Adding a backend (PKCS#11 secure element, OP-TEE) is one new file and one
 * line in the table in rot.c.
 *
 * A backend holds the device's secrets and never hands them out: callers get
 * public keys and signatures. Only rampart-secmon (and the factory, once, at
 * provisioning) opens a backend.
 *
 * State directory D (rampart-secmon --state-dir D):
 *   D/rot.conf       which backend, written by provisioning ("backend=soft"
 *                    or "backend=tpm2" and "tpm=TCTI"), one key=value a line
 *   D/deviceid.pem   the DeviceID certificate, signed by the manufacturer CA
 *   D/ca.pem         the manufacturer CA certificate
 *   D/uds            soft only: the 32-byte unique device secret, mode 0600
 *   D/counters       soft only: the anti-rollback counters
 *   D/secmon.sock    rampart-secmon's socket
 *
 * Every signature is ES256 over a SHA-256 digest the caller computed, as the
 * 64-byte r||s form in low-S (s <= (n-1)/2), the form rp_key_sign makes. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "rampart/error.h"

#define RP_ROT_DIGEST_LEN 32      /* SHA-256 */
#define RP_ROT_SIG_LEN 64         /* ES256 r||s, low-S */
#define RP_ROT_MEASUREMENT_LEN 32 /* see measure.h */
#define RP_ROT_COUNTERS 8         /* counter indexes 0 .. RP_ROT_COUNTERS-1 */
#define RP_ROT_SEAL_MAX 4096      /* largest plaintext seal() takes */
#define RP_ROT_SEALED_MAX 8192    /* largest blob seal() makes / unseal() takes */

typedef struct rp_rot_config {
        const char *state_dir;    /* required */
        /* tpm2 only: a TCTI configuration ("swtpm:host=127.0.0.1,port=2321",
         * "device:/dev/tpmrm0"). NULL: the "tpm=" line of D/rot.conf, else
         * "device:/dev/tpmrm0". */
        const char *tpm;
} rp_rot_config;

typedef struct rp_rot_backend {
        const char *name;         /* "soft", "tpm2" */
        /* True when the device secret is in a file (soft): fine for development
         * and CI, never for the field. Evidence says so, and logs say so. */
        bool development;

        /* Factory, once per device: creates the unique device secret (soft: a
         * random 32-byte D/uds, 0600) or the TPM-held DeviceID key, and writes
         * D/rot.conf. -EEXIST if the device was already provisioned. */
        int (*provision)(const rp_rot_config *cfg, rp_error *err);

        int (*open)(const rp_rot_config *cfg, void **ret_state, rp_error *err);
        void (*close)(void *state);   /* accepts NULL; wipes secrets */

        /* The DeviceID key: stable for the device's life. */
        int (*deviceid_public)(void *state, EVP_PKEY **ret, rp_error *err);
        int (*deviceid_sign)(void *state, const uint8_t digest[RP_ROT_DIGEST_LEN],
                             uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err);

        /* Derives (soft: CDI = HMAC-SHA256(UDS, measurement)) or creates (tpm2)
         * the Alias key for this measurement. Called once after open, before
         * alias_*, seal and unseal (which fail with -EPERM before it). */
        int (*bind_measurement)(void *state, const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                                rp_error *err);
        int (*alias_public)(void *state, EVP_PKEY **ret, rp_error *err);
        int (*alias_sign)(void *state, const uint8_t digest[RP_ROT_DIGEST_LEN],
                          uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err);

        /* Anti-rollback counters, persisted, never going back, also across a
         * crash in the middle of an update. advance sets counter index to
         * value: value == current is a no-op, value < current is refused with
         * -ERANGE ("rollback"). *ret gets the value the counter now holds.
         * index >= RP_ROT_COUNTERS is -EINVAL. A counter never advanced reads 0. */
        int (*counter_read)(void *state, unsigned index, uint64_t *ret, rp_error *err);
        int (*counter_advance)(void *state, unsigned index, uint64_t value, uint64_t *ret,
                               rp_error *err);

        /* Sealing to this device and this measurement: unseal on another device
         * or under another measurement fails with -EKEYREJECTED. len <=
         * RP_ROT_SEAL_MAX (else -EFBIG). Blobs are malloc'd. */
        int (*seal)(void *state, const void *data, size_t len, uint8_t **ret_blob, size_t *ret_len,
                    rp_error *err);
        int (*unseal)(void *state, const void *blob, size_t len, uint8_t **ret_data,
                      size_t *ret_len, rp_error *err);
} rp_rot_backend;

extern const rp_rot_backend rp_rot_backend_soft;
extern const rp_rot_backend rp_rot_backend_tpm2;

/* The backend called name, or NULL. */
const rp_rot_backend *rp_rot_backend_find(const char *name);
/* The names of this build's backends, ", " between them (for messages),
 * cut to fit size. */
void rp_rot_backend_names(char *buf, size_t size);

/* Writes D/rot.conf atomically (mode 0644): "backend=NAME\n", then
 * "tpm=TCTI\n" if tpm is not NULL. For the backends' provision(). Refuses
 * (-EINVAL) a name or TCTI that is empty, over 256 bytes, or holds a
 * newline, '=' (in the name) or a control character. */
int rp_rot_write_conf(const char *state_dir, const char *backend, const char *tpm, rp_error *err);

/* An opened root of trust. */
typedef struct rp_rot {
        const rp_rot_backend *backend;
        void *state;
} rp_rot;

/* Reads D/rot.conf and opens the backend it names. -ENOENT with "not
 * provisioned" if D/rot.conf is missing. */
int rp_rot_open(const rp_rot_config *cfg, rp_rot **ret, rp_error *err);
void rp_rot_close(rp_rot *rot);
static inline void rp_rot_closep(rp_rot **r) {
        rp_rot_close(*r);
}
