/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes rp_tpm2_blob_parse, the tpm2 backend's parser of sealed blobs
 * (docs/formats.md, "Sealed blob (tpm2)"): what a caller hands to unseal
 * goes through it before anything reaches the TPM. A refusal must be
 * -EBADMSG, -EFBIG or -EOPNOTSUPP with a message and leave the output
 * untouched; an accepted blob's parts must lie inside the input, add up to
 * it exactly, and be the only byte form of the TPM objects (marshalling
 * them again gives the same bytes). The seed corpus holds blobs sealed by
 * swtpm and near misses one field away from them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_mu.h>

#include "rot/backends/tpm2.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rp_error err = {0};
        static rp_tpm2_blob b, untouched;
        memset(&b, 0xa5, sizeof b);
        memset(&untouched, 0xa5, sizeof untouched);
        int r = rp_tpm2_blob_parse(data, size, &b, &err);
        if (r < 0) {
                if ((r != -EBADMSG && r != -EFBIG && r != -EOPNOTSUPP) || err.code != r || !err.message[0] ||
                    memcmp(&b, &untouched, sizeof b) != 0)
                        abort();
                return 0;
        }
        size_t pub_len = (size_t) data[6] << 8 | data[7], priv_len = (size_t) data[8] << 8 | data[9];
        if (b.aad_len != RP_TPM2_SEAL_HEADER_LEN + pub_len + priv_len || b.nonce != data + b.aad_len ||
            b.ct != b.nonce + RP_TPM2_SEAL_NONCE_LEN || b.ct_len > RP_ROT_SEAL_MAX || b.tag != b.ct + b.ct_len ||
            b.tag + RP_TPM2_SEAL_TAG_LEN != data + size)
                abort();
        static uint8_t buf[sizeof(TPM2B_PUBLIC) + sizeof(TPM2B_PRIVATE)];
        size_t off = 0;
        if (Tss2_MU_TPM2B_PUBLIC_Marshal(&b.pub, buf, sizeof buf, &off) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_PRIVATE_Marshal(&b.priv, buf, sizeof buf, &off) != TSS2_RC_SUCCESS ||
            off != pub_len + priv_len || memcmp(buf, data + RP_TPM2_SEAL_HEADER_LEN, off) != 0)
                abort();
        return 0;
}
