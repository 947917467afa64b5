/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection for attestation evidence (faults.h): every allocation,
 * ours, libcbor's and OpenSSL's (certificate parsing, the trusted store,
 * chain building), failed in turn while evidence is made and verified. A
 * failed allocation must be reported as one (-ENOMEM, or -EIO from inside
 * OpenSSL), never as evidence that does not verify: a verifier that said
 * "forged" or "untrusted" when it ran out of memory would let an attacker
 * who can exhaust memory get genuine devices refused, and hide real
 * verdicts in noise. And a verdict must never turn into an acceptance. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cose_internal.h"
#include "core/macro.h"
#include "evidence-fixtures.h"
#include "faults.h"
#include "rampart/evidence.h"
#include "testlib.h"

/* Runs per failure point, spread over its calls (about 9000 allocations
 * for one verification), except for the genuine verification's mallocs,
 * each of which is failed; FAULTS_EVIDENCE_ALL=1 fails every call of every
 * point (a few minutes). */
#define MAX_RUNS 400

static const uint8_t NONCE[16] = "fault nonce 0001";
static const char os_image[] = "the OS image";
static const ev_component comps[] = { { "os", "1.2.3", os_image, sizeof os_image - 1 } };

typedef struct verify_ctx {
        const uint8_t *ev;
        size_t len;
        rp_evidence_policy policy;
        const char *device_id;     /* what genuine evidence must say */
        int verdict;               /* what refused evidence must get (0: genuine) */
        const char *reason;
        rp_error err;
} verify_ctx;

/* Genuine evidence: verified with the right claims, or a reported failure. */
static int run_verify(void *ctx) {
        verify_ctx *v = ctx;
        rp_error_clear(&v->err);
        rp_evidence_claims *c = NULL;
        int r = rp_evidence_verify(v->ev, v->len, &v->policy, &c, &v->err);
        if (r < 0)
                return r;
        r = streq(c->device_id, v->device_id) && c->nonce_len == sizeof NONCE ? 0 : -EBADMSG;
        rp_evidence_claims_free(c);
        return r;
}

/* Refused evidence: the same verdict for the same reason (then 0), or a
 * reported failure; an acceptance is -EPROTO, which fails the test. */
static int run_refuse(void *ctx) {
        verify_ctx *v = ctx;
        rp_error_clear(&v->err);
        rp_evidence_claims *c = NULL;
        int r = rp_evidence_verify(v->ev, v->len, &v->policy, &c, &v->err);
        if (r == 0) {
                rp_evidence_claims_free(c);
                return -EPROTO;
        }
        if (r == v->verdict)
                return strstr(v->err.message, v->reason) ? 0 : -EPROTO;
        return r;
}

typedef struct create_ctx {
        const ev_device *d;
        rp_error err;
} create_ctx;

static int run_create(void *ctx) {
        create_ctx *c = ctx;
        rp_error_clear(&c->err);
        _cleanup_free_ uint8_t *ev = NULL;
        size_t len;
        return ev_evidence(c->d, NONCE, sizeof NONCE, &ev, &len, &c->err);
}

static void test_evidence(void **state) {
        const char *tmp = test_tmpdir();
        _cleanup_free_ char *d1 = test_path(tmp, "ca"), *d2 = test_path(tmp, "other-ca");
        _cleanup_(ev_ca_done) ev_ca ca = {}, other = {};
        _cleanup_(ev_device_done) ev_device dev = {}, stranger = {};
        rp_error err = {0};
        assert_int_equal(ev_ca_new(d1, &ca, &err), 0);
        assert_int_equal(ev_ca_new(d2, &other, &err), 0);
        assert_int_equal(ev_device_new(&ca, 0x11, "tpm2", comps, 1, &dev, &err), 0);
        assert_int_equal(ev_device_new(&other, 0x22, "tpm2", comps, 1, &stranger, &err), 0);
        _cleanup_free_ uint8_t *ev = NULL, *ev2 = NULL;
        size_t len, len2;
        assert_int_equal(ev_evidence(&dev, NONCE, sizeof NONCE, &ev, &len, &err), 0);
        assert_int_equal(ev_evidence(&stranger, NONCE, sizeof NONCE, &ev2, &len2, &err), 0);
        const rp_evidence_policy policy = {
                .ca_pem = ca.pem, .ca_pem_len = ca.pem_len, .nonce = NONCE, .nonce_len = sizeof NONCE,
        };

        static const char *const alloc[] = { "libc/mm/malloc", "libc/mm/calloc", "libc/mm/realloc" };
        verify_ctx genuine = { .ev = ev, .len = len, .policy = policy, .device_id = dev.device_id };
        fault_op ok = { .name = "verify genuine evidence", .run = run_verify, .ctx = &genuine, .err = &genuine.err };
        verify_ctx untrusted = { .ev = ev2, .len = len2, .policy = policy, .verdict = -EKEYREJECTED,
                                 .reason = "does not verify to a trusted CA" };
        fault_op bad = { .name = "verify evidence from an untrusted CA", .run = run_refuse, .ctx = &untrusted,
                         .err = &untrusted.err };
        verify_ctx replay = { .ev = ev, .len = len, .policy = policy, .verdict = -EKEYREJECTED,
                              .reason = "eat_nonce is not the expected nonce" };
        static const uint8_t other_nonce[16] = "fault nonce 0002";
        replay.policy.nonce = other_nonce;
        fault_op replayed = { .name = "verify replayed evidence", .run = run_refuse, .ctx = &replay,
                              .err = &replay.err };
        /* The DeviceID key signing evidence, its certificate as the leaf. */
        _cleanup_free_ uint8_t *devid_der = NULL, *ca_der = NULL, *ev3 = NULL;
        size_t devid_len, ca_len, len3;
        assert_int_equal(ev_der(dev.deviceid_cert, &devid_der, &devid_len), 0);
        assert_int_equal(ev_der(ca.cert, &ca_der, &ca_len), 0);
        const rp_cose_cert chain[] = { { devid_der, devid_len }, { ca_der, ca_len } };
        const uint8_t *payload = NULL;
        size_t payload_len = 0;
        {
                _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
                assert_int_equal(rp_cose_sign1_decode(ev, len, &m, NULL, &err), 0);
                payload = rp_cose_sign1_payload(m, &payload_len);
                assert_int_equal(rp_cose_sign1_create_x5chain(ev_sign_digest, dev.deviceid_key, RP_EVIDENCE_CONTENT_TYPE,
                                                              chain, 2, payload, payload_len, &ev3, &len3, &err), 0);
        }
        verify_ctx as_alias = { .ev = ev3, .len = len3, .policy = policy, .verdict = -EKEYREJECTED,
                                .reason = "the signing certificate is a CA certificate" };
        fault_op deviceid = { .name = "verify evidence signed by the DeviceID key", .run = run_refuse,
                              .ctx = &as_alias, .err = &as_alias.err };
        create_ctx cc = { .d = &dev };
        fault_op create = { .name = "create evidence", .run = run_create, .ctx = &cc, .err = &cc.err };
        size_t max = getenv("FAULTS_EVIDENCE_ALL") ? 0 : MAX_RUNS;
        const fault_op *ops[] = { &ok, &bad, &replayed, &deviceid, &create };
        for (size_t i = 0; i < ELEMENTSOF(alloc); i++)
                for (size_t o = 0; o < ELEMENTSOF(ops); o++) {
                        /* Every malloc of a genuine verification; a sample
                         * of the rest. */
                        size_t runs = ops[o] == &ok && i == 0 ? 0 : max;
                        size_t n = fault_run(ops[o], alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, runs);
                        if (i == 0)
                                assert_true(n > 20);
                }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_evidence),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
