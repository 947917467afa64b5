/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the image package reader on untrusted bytes: rp_package_open_buffer,
 * then signature verification with two fixed keys (tests/data/keys/es256.pem
 * and ed25519-rfc8032.pem), then the image checks (size, digest, erofs
 * magic) whatever the signature said; and the bare manifest parser. The seed
 * corpus (tests/fuzz/package_corpus.py) holds packages signed by these keys,
 * so every path is reached. */
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rampart/package.h"
#include "fuzz-keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every refusal must come with a message. */
static void check(int r, const rp_error *err) {
        if (r < 0 && (err->code != r || err->message[0] == '\0'))
                abort();
        if (r > 0)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rp_key *const *keys = fuzz_keys();
        const rp_key *es256 = keys[FUZZ_KEY_ES256], *ed25519 = keys[FUZZ_KEY_ED25519];
        rp_error err = {0};

        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_buffer(data, size, &p, &err);
        check(r, &err);
        if (r == 0) {
                const rp_package_manifest *m = rp_package_get_manifest(p);
                if (m->format != RP_PACKAGE_FORMAT || !m->name || m->image_size == 0 ||
                    m->image_size > RP_PACKAGE_IMAGE_MAX_SIZE || !rp_image_type_name(m->type) ||
                    (m->type == RP_IMAGE_TYPE_OS) != (m->app_manifest == NULL) ||
                    rp_package_image_offset(p) > size)
                        abort();
                const rp_key *key = rp_package_alg(p) == rp_key_cose_alg(es256) ? es256 : ed25519;
                rp_error_clear(&err);
                check(rp_package_verify_signature(p, key, &err), &err);
                rp_error_clear(&err);
                check(rp_package_verify_image(p, &err), &err);

                /* What was read encodes back to the same manifest bytes. */
                uint8_t *buf = NULL;
                size_t len = 0;
                rp_error_clear(&err);
                if (rp_package_manifest_encode(m, &buf, &len, &err) < 0)
                        abort();
                free(buf);
        }

        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        rp_error_clear(&err);
        check(rp_package_manifest_parse(data, size, &m, &err), &err);
        if (m) {
                uint8_t *buf = NULL;
                size_t len = 0;
                if (rp_package_manifest_encode(m, &buf, &len, &err) < 0)
                        abort();
                /* One byte form per manifest: re-encoding gives the input. */
                if (len != size || memcmp(buf, data, len) != 0)
                        abort();
                free(buf);
        }
        return 0;
}
