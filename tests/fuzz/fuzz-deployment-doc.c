/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the deployment document reader on untrusted bytes: the payload
 * parser (rp_deployment_doc_parse) and the signed document
 * (rp_deployment_doc_verify with the fixed ES256 and Ed25519 keys of
 * fuzz-keys.h), checking that every refusal has a message, that what is
 * accepted keeps the format's promises (sorted unique components of managed
 * types, expiry after issue), that it signs back to the same payload bytes
 * (one byte form), and that rp_deployment_doc_accept answers for it. The
 * seed corpus (tests/fuzz/deployment_corpus.py) holds documents signed by
 * these keys, so every path is reached. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rampart/cose.h"
#include "rampart/deployment.h"
#include "fuzz-keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int r, const rp_error *err) {
        if (r < 0 && (err->code != r || err->message[0] == '\0'))
                abort();
        if (r > 0)
                abort();
}

/* The private ES256 key, to sign what was read back. */
static const rp_key *signer(void) {
        static rp_key *k;
        if (!k && rp_key_from_pem(es256_pem, strlen(es256_pem), true, &k, NULL) < 0)
                abort();
        return k;
}

/* The promises of a document the reader accepted. */
static void check_doc(const rp_deployment_doc *d) {
        if (d->format != RP_DEPLOYMENT_FORMAT || d->expires_at <= d->issued_at ||
            d->manages != rp_update_policy_manages(d->policy) || d->n_images > RP_DEPLOYMENT_MAX_IMAGES ||
            strlen(d->device) != RP_DEPLOYMENT_DEVICE_ID_LEN || !d->tenant[0])
                abort();
        for (size_t i = 0; i < d->n_images; i++) {
                const rp_deployment_image *im = &d->images[i];
                if (!(d->manages & (1u << im->type)) || !im->name || !im->url || im->url[0] != '/' || im->size == 0 ||
                    (i > 0 && strcmp(d->images[i - 1].component_id, im->component_id) >= 0) ||
                    rp_deployment_doc_find(d, im->component_id) != im)
                        abort();
        }
}

/* Signing d gives back payload, byte for byte. */
static void check_one_form(const rp_deployment_doc *d, const uint8_t *payload, size_t len) {
        uint8_t *buf = NULL;
        size_t n = 0;
        rp_error err = {0};
        if (rp_deployment_doc_sign(d, signer(), &buf, &n, &err) < 0)
                abort();
        rp_cose_sign1 *msg = NULL;
        if (rp_cose_sign1_decode(buf, n, &msg, NULL, NULL) < 0)
                abort();
        size_t plen;
        const uint8_t *p = rp_cose_sign1_payload(msg, &plen);
        if (plen != len || memcmp(p, payload, len) != 0)
                abort();
        rp_cose_sign1_free(msg);
        free(buf);
}

static void check_accept(const rp_deployment_doc *d) {
        rp_error err = {0};
        int r = rp_deployment_doc_accept(d, d->device, d->issued_at, d, &err);
        check(r, &err);
        if (r != 0)
                abort();        /* itself, at its issue time */
        rp_error_clear(&err);
        r = rp_deployment_doc_accept(d, d->device, d->expires_at, NULL, &err);
        if (r != -ETIME || err.code != r)
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        rp_key *const *keys = fuzz_keys();
        rp_error err = {0};

        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = NULL;
        int r = rp_deployment_doc_parse(data, size, &d, &err);
        check(r, &err);
        if (r == 0) {
                check_doc(d);
                check_one_form(d, data, size);
                check_accept(d);
        }

        for (size_t k = 0; k < FUZZ_KEYS; k++) {
                _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *v = NULL;
                rp_error_clear(&err);
                r = rp_deployment_doc_verify(data, size, keys[k], &v, &err);
                check(r, &err);
                if (r == 0) {
                        check_doc(v);
                        check_accept(v);
                        /* The payload is in the one byte form too. */
                        rp_cose_sign1 *msg = NULL;
                        if (rp_cose_sign1_decode(data, size, &msg, NULL, NULL) < 0)
                                abort();
                        size_t plen;
                        const uint8_t *p = rp_cose_sign1_payload(msg, &plen);
                        check_one_form(v, p, plen);
                        rp_cose_sign1_free(msg);
                } else if (v) {
                        abort();
                }
        }
        return 0;
}
