/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes rp_evidence_verify on untrusted bytes with a fixed trusted CA,
 * nonce and time (fuzz-evidence-ca.h), with development backends allowed
 * and then refused; and rp_evidence_verify_trusted (the CA decoded once,
 * as rampart-server does) beside it, which must come to the same verdict,
 * message and claims. The seed corpus (written by tests/fuzz/evidence_corpus.py)
 * holds evidence from devices under that CA, so fuzzing starts past the
 * chain and signature checks, and near misses one check away from it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/strutil.h"
#include "fuzz-evidence-ca.h"
#include "rampart/evidence.h"
#include "rot/evidence_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every refusal has a negative code and a message about the evidence (or,
 * never here, the policy). */
static void check_refusal(int r, const rp_error *err, const rp_evidence_claims *c) {
        if (r >= 0 || err->code >= 0 || strncmp(err->message, "evidence: ", 10) != 0 || c)
                abort();
}

/* What verified evidence says is within the profile's bounds. */
static void check_claims(const rp_evidence_claims *c, const uint8_t *nonce, size_t nonce_len) {
        if (strlen(c->device_id) != RP_EVIDENCE_DEVICE_ID_LEN || c->nonce_len != nonce_len ||
            memcmp(c->nonce, nonce, nonce_len) != 0 || c->iat < 0 || c->dbgstat < 0 || c->dbgstat > 4 ||
            c->n_components < 1 || c->n_components > RP_EVIDENCE_MAX_COMPONENTS || !c->swname[0] ||
            !rp_str_is_printable(c->swname, strlen(c->swname)) || !c->backend[0] ||
            c->alias_public_key_len == 0 || c->alias_public_key_len > RP_EVIDENCE_PUBKEY_MAX)
                abort();
        for (size_t i = 0; i < c->n_components; i++)
                if (!c->components[i].name[0] ||
                    !rp_str_is_printable(c->components[i].name, strlen(c->components[i].name)))
                        abort();
}

/* rp_evidence_verify_trusted on the same input and policy: what
 * rp_evidence_verify gave (r, err, c). */
static void check_trusted(const uint8_t *data, size_t size, const rp_evidence_policy *policy, int r,
                          const rp_error *err, const rp_evidence_claims *c) {
        static STACK_OF(X509) *cas;
        if (!cas && rp_evidence_trusted_parse(fuzz_ca_pem, strlen(fuzz_ca_pem), &cas, NULL) < 0)
                abort();
        rp_error err2 = {0};
        rp_evidence_claims *c2 = NULL;
        X509 *alias = NULL;
        int r2 = rp_evidence_verify_trusted(data, size, cas, policy, &c2, &alias, &err2);
        if (r2 != r || (r < 0 && strcmp(err->message, err2.message) != 0) ||
            (r == 0 && (!alias || memcmp(c, c2, sizeof *c) != 0)))
                abort();
        rp_evidence_claims_free(c2);
        X509_free(alias);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        uint8_t nonce[sizeof fuzz_nonce_hex / 2];
        if (rp_hex_decode(fuzz_nonce_hex, nonce, sizeof nonce) < 0)
                abort();
        rp_evidence_policy policy = {
                .ca_pem = fuzz_ca_pem, .ca_pem_len = strlen(fuzz_ca_pem), .nonce = nonce,
                .nonce_len = sizeof nonce, .allow_development = true, .now = FUZZ_EVIDENCE_NOW,
        };
        rp_error err = {0};
        rp_evidence_claims *c = NULL;
        int r = rp_evidence_verify(data, size, &policy, &c, &err);
        check_trusted(data, size, &policy, r, &err, c);
        if (r < 0) {
                check_refusal(r, &err, c);
        } else {
                check_claims(c, nonce, sizeof nonce);
                rp_evidence_claims_free(c);
                c = NULL;
        }
        /* Refusing development backends: accepted only if accepted above,
         * and then only for a backend that is not for development. */
        bool was_ok = r == 0;
        policy.allow_development = false;
        rp_error_clear(&err);
        r = rp_evidence_verify(data, size, &policy, &c, &err);
        check_trusted(data, size, &policy, r, &err, c);
        if (r < 0) {
                check_refusal(r, &err, c);
                return 0;
        }
        if (!was_ok || c->development)
                abort();
        rp_evidence_claims_free(c);
        return 0;
}
