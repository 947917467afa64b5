/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the image package reader on untrusted bytes: rp_package_open_buffer,
 * then verification with two fixed keys (tests/data/keys/es256.pem and
 * ed25519-rfc8032.pem: the signature, then the image's size, digest and
 * erofs magic), checking that nothing trusted is handed out before it
 * verified and that the manifest re-encodes to the signed bytes; and the
 * bare manifest parser. The seed
 * corpus (tests/fuzz/package_corpus.py) holds packages signed by these keys,
 * so every path is reached. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
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

/* The manifest bytes inside the COSE_Sign1 that is data (which
 * rp_package_open_buffer accepted, so it is well formed and bounded), found
 * with the generic CBOR decoder, not the COSE and package code under test. */
static bool cose_payload(const uint8_t *data, size_t size, uint8_t **ret, size_t *ret_len) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *tag = NULL;
        size_t n;
        if (rp_cbor_decode(data, size, 16, 4096, &tag, &n, NULL) < 0 || n != size || !cbor_isa_tag(tag))
                return false;
        _cleanup_(rp_cbor_decrefp) cbor_item_t *arr = cbor_tag_item(tag);
        if (!cbor_isa_array(arr) || cbor_array_size(arr) != 4)
                return false;
        _cleanup_(rp_cbor_decrefp) cbor_item_t *payload = cbor_array_get(arr, 2);
        if (!payload || !cbor_isa_bytestring(payload) || !cbor_bytestring_is_definite(payload))
                return false;
        *ret_len = cbor_bytestring_length(payload);
        *ret = malloc(*ret_len ? *ret_len : 1);
        if (!*ret)
                return false;
        memcpy(*ret, cbor_bytestring_handle(payload), *ret_len);
        return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rp_key *const *keys = fuzz_keys();
        const rp_key *es256 = keys[FUZZ_KEY_ES256], *ed25519 = keys[FUZZ_KEY_ED25519];
        rp_error err = {0};

        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_buffer(data, size, &p, &err);
        check(r, &err);
        if (r == 0) {
                const rp_package_manifest *m = rp_package_unverified_manifest(p);
                if (m->format != RP_PACKAGE_FORMAT || !m->name || m->image_size == 0 ||
                    m->image_size > RP_PACKAGE_IMAGE_MAX_SIZE || !rp_image_type_name(m->type) ||
                    (m->type == RP_IMAGE_TYPE_OS) != (m->app_manifest == NULL))
                        abort();

                /* Nothing trusted is handed out before verification. */
                const rp_package_manifest *trusted = NULL;
                uint64_t off = UINT64_MAX;
                if (rp_package_get_manifest(p, &trusted, NULL) != -EPERM || trusted ||
                    rp_package_image_offset(p, &off, NULL) != -EPERM || off != UINT64_MAX)
                        abort();

                const rp_key *key = rp_package_alg(p) == rp_key_cose_alg(es256) ? es256 : ed25519;
                rp_error_clear(&err);
                r = rp_package_verify(p, key, &err);
                check(r, &err);
                if (r == 0 && (rp_package_get_manifest(p, &trusted, NULL) != 0 || trusted != m ||
                               rp_package_image_offset(p, &off, NULL) != 0 || off > size ||
                               size - off != m->image_size))
                        abort();

                /* What was read encodes back to the same manifest bytes: the
                 * COSE payload, byte for byte. */
                uint8_t *buf = NULL, *payload = NULL;
                size_t len = 0, payload_len = 0;
                rp_error_clear(&err);
                if (rp_package_manifest_encode(m, &buf, &len, &err) < 0)
                        abort();
                if (!cose_payload(data, size - rp_package_image_bytes(p), &payload, &payload_len))
                        abort();
                if (len != payload_len || memcmp(buf, payload, len) != 0)
                        abort();
                free(payload);
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
