/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Talking to rampart-secmon: one connection, one request at a time, each a
 * blocking round trip with a timeout. The wire protocol is in
 * docs/formats.md ("secmon protocol") and lib/secmon/protocol.h. Errors
 * secmon reports come back as its code and message in err. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"
#include "rot/rot.h"

/* <state-dir>/secmon.sock is the usual path. */
#define RP_SECMON_SOCKET_NAME "secmon.sock"

typedef struct rp_secmon rp_secmon;

int rp_secmon_connect(const char *socket_path, rp_secmon **ret, rp_error *err);
void rp_secmon_close(rp_secmon *sm);
static inline void rp_secmon_closep(rp_secmon **s) {
        rp_secmon_close(*s);
}

typedef struct rp_secmon_info {
        char device_id[65];                             /* lowercase hex */
        uint8_t measurement[RP_ROT_MEASUREMENT_LEN];
        char backend[16];                               /* "soft", "tpm2" */
        bool development;
} rp_secmon_info;

int rp_secmon_info_get(rp_secmon *sm, rp_secmon_info *ret, rp_error *err);
/* The chain as PEM text: Alias, DeviceID, manufacturer CA, in that order.
 * NUL-terminated, malloc'd. */
int rp_secmon_chain_pem(rp_secmon *sm, char **ret_pem, rp_error *err);
int rp_secmon_evidence(rp_secmon *sm, const uint8_t *nonce, size_t nonce_len,
                       uint8_t **ret, size_t *ret_len, rp_error *err);
/* ES256 with the Alias key over a SHA-256 digest: r||s, low-S. */
int rp_secmon_sign_digest(rp_secmon *sm, const uint8_t digest[RP_ROT_DIGEST_LEN],
                          uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err);
int rp_secmon_counter_read(rp_secmon *sm, unsigned index, uint64_t *ret, rp_error *err);
int rp_secmon_counter_advance(rp_secmon *sm, unsigned index, uint64_t value, uint64_t *ret,
                              rp_error *err);
int rp_secmon_seal(rp_secmon *sm, const void *data, size_t len, uint8_t **ret_blob,
                   size_t *ret_len, rp_error *err);
int rp_secmon_unseal(rp_secmon *sm, const void *blob, size_t len, uint8_t **ret_data,
                     size_t *ret_len, rp_error *err);
