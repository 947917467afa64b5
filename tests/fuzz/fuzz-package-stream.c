/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the streaming package verifier (lib/package/package_stream.h)
 * against the buffer reader on the same bytes. The input is one seed byte,
 * then the package: the seed picks the chunk sizes the package is fed in
 * (from 1 byte to a few KiB, some feeds empty) and the order of the two
 * fixed keys (fuzz-keys.h) the stream may choose from. The verdicts must
 * agree with rp_package_open_buffer + rp_package_verify (with the key of
 * the package's algorithm):
 *   - accepted by both or by neither; when accepted, the same manifest,
 *     the SHA-256 of the whole input and a key of the package's algorithm;
 *   - refused as FORMAT: the buffer reader refused it with the same code
 *     and message on opening (envelope or manifest);
 *   - refused as IMAGE: the buffer reader opened it and its verify refused
 *     it with the same code and message;
 *   - refused as SIGNATURE: the buffer reader refused the manifest (which
 *     it parses before any signature check) or the signature.
 * The seed corpus (corpus/package-stream/) is tests/fuzz/corpus/package's
 * packages (package_corpus.py) behind seed bytes 0x00, 0x5a and 0xff. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "package/package_stream.h"
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

static bool same_manifest(const rp_package_manifest *a, const rp_package_manifest *b) {
        uint8_t *x = NULL, *y = NULL;
        size_t xn = 0, yn = 0;
        if (rp_package_manifest_encode(a, &x, &xn, NULL) < 0 || rp_package_manifest_encode(b, &y, &yn, NULL) < 0)
                abort();
        bool same = xn == yn && memcmp(x, y, xn) == 0;
        free(x);
        free(y);
        return same;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        if (size < 1)
                return 0;
        uint8_t seed = data[0];
        const uint8_t *pkg = data + 1;
        size_t n = size - 1;
        rp_key *const *keys = fuzz_keys();
        const rp_key *order[2] = { keys[FUZZ_KEY_ES256], keys[FUZZ_KEY_ED25519] };
        if (seed & 1) {
                order[0] = keys[FUZZ_KEY_ED25519];
                order[1] = keys[FUZZ_KEY_ES256];
        }

        /* The buffer reader. */
        rp_error berr = {0};
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int open_r = rp_package_open_buffer(pkg, n, &p, &berr);
        check(open_r, &berr);
        int verify_r = open_r;
        if (open_r == 0) {
                const rp_key *key = rp_package_alg(p) == rp_key_cose_alg(keys[FUZZ_KEY_ES256]) ?
                                            keys[FUZZ_KEY_ES256] : keys[FUZZ_KEY_ED25519];
                verify_r = rp_package_verify(p, key, &berr);
                check(verify_r, &berr);
        }

        /* The stream, in chunks the seed chooses. */
        static const size_t max_chunk[] = { 1, 7, 64, 600, 5000 };
        size_t max = max_chunk[(seed >> 1) % ELEMENTSOF(max_chunk)];
        uint32_t state = 2654435761u * (seed + 1u);
        rp_error serr = {0};
        _cleanup_(rp_package_stream_freep) rp_package_stream *s = NULL;
        if (rp_package_stream_new(&s, &serr) < 0)
                abort();
        int r = 0;
        for (size_t off = 0; off < n && r == 0; ) {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                size_t k = state % (max + 1);           /* 0 is a feed of nothing */
                if (k > n - off)
                        k = n - off;
                r = rp_package_stream_feed(s, pkg + off, k, &serr);
                check(r, &serr);
                off += k;
        }
        rp_package_stream_result res = {0};
        if (r == 0) {
                /* Both keys, or only the first in order. */
                r = rp_package_stream_finish(s, order, (seed & 2) ? 2 : 1, &res, &serr);
                check(r, &serr);
        }
        rp_package_check refused = rp_package_stream_refused(s);
        /* One key of the other algorithm: the stream cannot accept what the
         * buffer reader (given the right key) may. */
        if (!(seed & 2) && open_r == 0 && rp_key_cose_alg(order[0]) != rp_package_alg(p)) {
                if (r != -EKEYREJECTED || refused != RP_PACKAGE_CHECK_SIGNATURE)
                        abort();
                return 0;
        }

        if (r == 0) {
                /* Accepted: the buffer reader accepts it too, with the key of
                 * its algorithm, which must be the key the stream used. */
                if (verify_r != 0 || refused != RP_PACKAGE_CHECK_NONE)
                        abort();
                const rp_package_manifest *m = NULL;
                if (rp_package_get_manifest(p, &m, NULL) != 0 || !same_manifest(m, res.manifest))
                        abort();
                if (res.size != n || res.key_index > 1 ||
                    rp_key_cose_alg(order[res.key_index]) != rp_package_alg(p))
                        abort();
                uint8_t digest[RP_SHA256_LEN];
                if (rp_sha256(pkg, n, digest) < 0 || memcmp(digest, res.sha256, sizeof digest) != 0)
                        abort();
                rp_package_stream_result_done(&res);
                return 0;
        }

        switch (refused) {
        case RP_PACKAGE_CHECK_NONE:
                abort();        /* nothing here fails for lack of memory */
        case RP_PACKAGE_CHECK_FORMAT:
                if (open_r == 0 || open_r != r || strcmp(berr.message, serr.message) != 0)
                        abort();
                break;
        case RP_PACKAGE_CHECK_IMAGE:
                if (open_r != 0 || verify_r != r || strcmp(berr.message, serr.message) != 0)
                        abort();
                break;
        case RP_PACKAGE_CHECK_SIGNATURE:
                if (r != -EKEYREJECTED || verify_r == 0 || (open_r == 0 && verify_r != -EKEYREJECTED))
                        abort();
                break;
        }
        return 0;
}
