/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes rp_cose_sign1_decode on untrusted bytes, then verifies what
 * decodes with two fixed keys (the test keys in tests/data/keys/: es256.pem
 * and ed25519-rfc8032.pem), with and without external_aad. The seed corpus
 * (mostly written by tests/fuzz/cose_corpus.py) holds conforming messages
 * signed by these keys, so the verify path is reached, and near misses one
 * rule away from them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "rampart/cose.h"
#include "fuzz-keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rp_key *const *keys = fuzz_keys();
        rp_error err = {0};
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *msg = NULL;
        size_t used = 0;
        if (rp_cose_sign1_decode(data, size, &msg, &used, &err) < 0) {
                /* Every refusal carries a message. */
                if (err.code >= 0 || !err.message[0])
                        abort();
                return 0;
        }
        if (used == 0 || used > size || !rp_cose_sign1_payload(msg, NULL))
                abort();
        int alg = rp_cose_sign1_alg(msg);
        if (alg != RP_COSE_ALG_ES256 && alg != RP_COSE_ALG_EDDSA)
                abort();
        /* Only the one byte form is accepted: the item is deterministic CBOR. */
        if (rp_cbor_is_deterministic(data, used) != 1)
                abort();
        for (size_t i = 0; i < FUZZ_KEYS; i++) {
                int r = rp_cose_sign1_verify(msg, keys[i], NULL, 0, &err);
                if (r < 0 && r != -EKEYREJECTED)
                        abort();
                r = rp_cose_sign1_verify(msg, keys[i], "aad", 3, NULL);
                if (r < 0 && r != -EKEYREJECTED)
                        abort();
        }
        return 0;
}
