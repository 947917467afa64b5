/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the CBOR layer: rp_cbor_check must protect libcbor's cbor_load
 * (which recurses and allocates per item), rp_cbor_encode must handle what
 * cbor_load builds, and rp_cbor_decode + rp_cbor_encode must give
 * deterministic bytes that re-encode to themselves. */
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 32
#define MAX_ITEMS 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        size_t n = 0;
        rp_error err = {0};
        if (rp_cbor_check(data, size, MAX_DEPTH, MAX_ITEMS, &n, &err) < 0) {
                if (err.code >= 0 || !err.message[0])
                        abort();
                return 0;
        }
        if (n == 0 || n > size)
                abort();

        /* libcbor's own loader on checked bytes. It may refuse things we
         * accept (it rejects one-byte tags 6..20), but must not misbehave. */
        struct cbor_load_result res;
        cbor_item_t *item = cbor_load(data, n, &res);
        if (item) {
                uint8_t *out = NULL;
                size_t out_len;
                if (rp_cbor_encode(item, &out, &out_len, NULL) == 0)
                        free(out);
                cbor_decref(&item);
        }

        /* Our loader: whatever it accepts encodes deterministically, and the
         * encoding is a fixed point. */
        _cleanup_(rp_cbor_decrefp) cbor_item_t *ours = NULL;
        size_t used;
        if (rp_cbor_decode(data, size, MAX_DEPTH, MAX_ITEMS, &ours, &used, NULL) < 0)
                return 0;
        if (used != n)
                abort();
        _cleanup_free_ uint8_t *enc = NULL;
        size_t enc_len;
        if (rp_cbor_encode(ours, &enc, &enc_len, NULL) < 0)
                return 0;      /* duplicate map keys */
        if (rp_cbor_is_deterministic(enc, enc_len) != 1)
                abort();
        _cleanup_(rp_cbor_decrefp) cbor_item_t *again = NULL;
        if (rp_cbor_decode(enc, enc_len, MAX_DEPTH, MAX_ITEMS, &again, &used, NULL) < 0 || used != enc_len)
                abort();
        _cleanup_free_ uint8_t *enc2 = NULL;
        size_t enc2_len;
        if (rp_cbor_encode(again, &enc2, &enc2_len, NULL) < 0 || enc2_len != enc_len ||
            memcmp(enc, enc2, enc_len) != 0)
                abort();
        return 0;
}
