/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure torture for attestation evidence (torture.h): every
 * allocation librampart makes while evidence is made and verified (genuine
 * and refused) is failed in turn; each run must return an error without
 * crashing or leaking (LeakSanitizer checks at exit in the sanitizer
 * build). unit/faults-evidence fails libcbor's and OpenSSL's allocations
 * too, and checks what is reported. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "evidence-fixtures.h"
#include "rampart/evidence.h"
#include "testlib.h"
#include "torture.h"

static const uint8_t NONCE[16] = "torture nonce 01";
static const char os_image[] = "the OS image";
static const ev_component comps[] = { { "os", "1.2.3", os_image, sizeof os_image - 1 } };

typedef struct ctx {
        ev_device dev;
        const uint8_t *ev;
        size_t len;
        rp_evidence_policy policy;
} ctx;

static int op_create(void *c) {
        ctx *x = c;
        _cleanup_free_ uint8_t *ev = NULL;
        size_t len;
        return ev_evidence(&x->dev, NONCE, sizeof NONCE, &ev, &len, NULL);
}

static int op_verify(void *c) {
        ctx *x = c;
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *claims = NULL;
        return rp_evidence_verify(x->ev, x->len, &x->policy, &claims, NULL);
}

/* Refused evidence: the refusal (then 0), or an error. */
static int op_verify_refused(void *c) {
        int r = op_verify(c);
        return r == -EKEYREJECTED ? 0 : r < 0 ? r : -EPROTO;
}

static void test_torture_evidence(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "ca");
        _cleanup_(ev_ca_done) ev_ca ca = {};
        rp_error err = {0};
        assert_int_equal(ev_ca_new(dir, &ca, &err), 0);
        ctx x = { .policy = { .ca_pem = ca.pem, .ca_pem_len = ca.pem_len, .nonce = NONCE, .nonce_len = sizeof NONCE,
                              .allow_development = true } };
        assert_int_equal(ev_device_new(&ca, 0x11, "soft", comps, 1, &x.dev, &err), 0);
        _cleanup_free_ uint8_t *ev = NULL;
        size_t len;
        assert_int_equal(ev_evidence(&x.dev, NONCE, sizeof NONCE, &ev, &len, &err), 0);
        x.ev = ev;
        x.len = len;

        assert_true(torture_run(op_create, &x, 200) > 1);
        assert_true(torture_run(op_verify, &x, 200) > 1);
        /* A refusal late in the checks (development not allowed) takes the
         * same allocations and then frees them all. */
        x.policy.allow_development = false;
        assert_int_equal(op_verify(&x), -EKEYREJECTED);
        assert_true(torture_run(op_verify_refused, &x, 200) > 1);
        ev_device_done(&x.dev);
}

int main(void) {
        torture_init();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_torture_evidence),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
