/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes rp_cose_sign1_decode on untrusted bytes, then verifies what
 * decodes with two fixed keys (the test keys in tests/data/keys/: es256.pem
 * and ed25519-rfc8032.pem), with and without external_aad. The seed corpus
 * holds messages signed by these keys, so the verify path is reached. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rampart/cose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char es256_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1F2NT8192cNgu5x2\n"
        "dS2FZEb202ReIjE5zs0vYoJEo0ihRANCAAQoVzilccHW0e0xryzy7zlyJ8Joo3yN\n"
        "0JqTp4pkYpZYA2uF6iQPAh+rxNd2hc4C6qw4EDGj18bD8ubZN6G3lyEt\n"
        "-----END PRIVATE KEY-----\n";
static const char ed25519_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
        "-----END PRIVATE KEY-----\n";

static rp_key *keys[2];

static void load_keys(void) {
        if (keys[0])
                return;
        if (rp_key_from_pem(es256_pem, strlen(es256_pem), false, &keys[0], NULL) < 0 ||
            rp_key_from_pem(ed25519_pem, strlen(ed25519_pem), false, &keys[1], NULL) < 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        load_keys();
        rp_error err = {0};
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *msg = NULL;
        size_t used = 0;
        if (rp_cose_sign1_decode(data, size, &msg, &used, &err) < 0) {
                /* Every refusal carries a message. */
                if (err.code >= 0 || !err.message[0])
                        abort();
                return 0;
        }
        if (used == 0 || used > size || !msg->payload || !msg->protected_raw || !msg->signature)
                abort();
        for (size_t i = 0; i < ELEMENTSOF(keys); i++) {
                int r = rp_cose_sign1_verify(msg, keys[i], NULL, 0, &err);
                if (r < 0 && r != -EKEYREJECTED)
                        abort();
                r = rp_cose_sign1_verify(msg, keys[i], "aad", 3, NULL);
                if (r < 0 && r != -EKEYREJECTED)
                        abort();
        }
        return 0;
}
