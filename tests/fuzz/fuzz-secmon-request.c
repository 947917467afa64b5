/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes rampart-secmon's request decoder (lib/secmon/protocol.c), which
 * runs on bytes from any local user. What it accepts must be in range and
 * encode back to exactly the bytes given (one encoding per request); what
 * it refuses must carry a message. The corpus (tests/fuzz/secmon_corpus.py)
 * holds a valid request of every type and near misses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rot/evidence_create.h"
#include "secmon/protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static rp_secmon_request req;
        rp_error err = {0};
        if (rp_secmon_request_decode(data, size, &req, &err) < 0) {
                if (err.code >= 0 || !err.message[0])
                        abort();
                return 0;
        }
        if (size > RP_SECMON_REQUEST_MAX || !rp_secmon_type_name(req.type) || req.index >= RP_ROT_COUNTERS ||
            req.len > RP_ROT_SEALED_MAX)
                abort();
        if (req.type == RP_SECMON_EVIDENCE && (req.len < RP_EVIDENCE_NONCE_MIN || req.len > RP_EVIDENCE_NONCE_MAX))
                abort();
        if (req.type == RP_SECMON_SIGN && req.len != RP_ROT_DIGEST_LEN)
                abort();
        _cleanup_free_ uint8_t *again = NULL;
        size_t len;
        if (rp_secmon_request_encode(&req, &again, &len, &err) < 0)
                abort();
        if (len != size || memcmp(again, data, size) != 0)
                abort();
        return 0;
}
