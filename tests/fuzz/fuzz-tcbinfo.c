/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the TcbInfo decoder (an Alias certificate's extension, which a
 * verifier reads from a device's evidence): it refuses with a message or
 * accepts, and what it accepts encodes to bytes that decode to the same. */
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rot/tcbinfo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rp_tcbinfo info, again;
        rp_error err = {0};
        if (rp_tcbinfo_decode(data, size, &info, &err) < 0) {
                if (err.code >= 0 || !err.message[0])
                        abort();
                return 0;
        }
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        if (rp_tcbinfo_encode(&info, &der, &len, NULL) < 0)
                abort();
        if (rp_tcbinfo_decode(der, len, &again, NULL) < 0 || memcmp(&info, &again, sizeof info) != 0)
                abort();
        /* rampart's own form (every field present) is the only byte form. */
        if (len == size && memcmp(der, data, size) != 0)
                abort();
        return 0;
}
