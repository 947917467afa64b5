/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation evidence (include/rampart/evidence.h, lib/rot/evidence_*.c):
 * genuine evidence verifies and says what the device said; each attack is
 * refused by the check meant for it, with its message. Devices are made as
 * the soft backend makes them (evidence-fixtures.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/cose_internal.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "evidence-fixtures.h"
#include "rampart/cose.h"
#include "rampart/evidence.h"
#include "rot/cert.h"
#include "rot/evidence_create.h"
#include "rot/evidence_internal.h"
#include "rot/measure.h"
#include "testlib.h"

static const uint8_t NONCE[16] = "fresh nonce 0001";

static void x509_freep(X509 **x) {
        X509_free(*x);
}

static ev_ca ca, other_ca;
static ev_device dev_a, dev_b, dev_tpm;   /* soft A and B (CA), "tpm2" (CA) */

static const char os_image[] = "the OS image";
static const char secmon_bin[] = "rampart-secmon's bytes";
static const ev_component comps[] = {
        { "os", "1.2.3", os_image, sizeof os_image - 1 },
        { "rampart-secmon", "0.1.0", secmon_bin, sizeof secmon_bin - 1 },
};

static int setup(void **state) {
        const char *tmp = test_tmpdir();
        _cleanup_free_ char *d1 = test_path(tmp, "ca"), *d2 = test_path(tmp, "other-ca");
        rp_error err = {0};
        if (ev_ca_new(d1, &ca, &err) < 0 || ev_ca_new(d2, &other_ca, &err) < 0 ||
            ev_device_new(&ca, 0x11, "soft", comps, ELEMENTSOF(comps), &dev_a, &err) < 0 ||
            ev_device_new(&ca, 0x22, "soft", comps, ELEMENTSOF(comps), &dev_b, &err) < 0 ||
            ev_device_new(&ca, 0x33, "tpm2", comps, ELEMENTSOF(comps), &dev_tpm, &err) < 0) {
                fprintf(stderr, "setup: %s\n", err.message);
                return -1;
        }
        return 0;
}

static int teardown(void **state) {
        ev_device_done(&dev_a);
        ev_device_done(&dev_b);
        ev_device_done(&dev_tpm);
        ev_ca_done(&ca);
        ev_ca_done(&other_ca);
        return 0;
}

/* The policy most tests use: the CA, NONCE, development allowed. */
static rp_evidence_policy policy(void) {
        return (rp_evidence_policy) {
                .ca_pem = ca.pem, .ca_pem_len = ca.pem_len, .nonce = NONCE, .nonce_len = sizeof NONCE,
                .allow_development = true,
        };
}

/* A byte buffer. */
typedef struct buf {
        uint8_t *d;
        size_t n;
} buf;

static void buf_done(buf *b) {
        free(b->d);
        *b = (buf) {};
}

static void put(buf *b, const void *p, size_t n) {
        b->d = realloc(b->d, b->n + n + 1);
        assert_non_null(b->d);
        if (n)
                memcpy(b->d + b->n, p, n);
        b->n += n;
}

static void put_hex(buf *b, const char *hex) {
        size_t n = strlen(hex) / 2;
        uint8_t *tmp = malloc(n + 1);
        assert_non_null(tmp);
        assert_int_equal(rp_hex_decode(hex, tmp, n), 0);
        put(b, tmp, n);
        free(tmp);
}

/* A head in its shortest form. */
static void put_head(buf *b, unsigned major, uint64_t v) {
        uint8_t h[9];
        size_t n = 1;
        if (v < 24)
                h[0] = (uint8_t) (major << 5 | v);
        else {
                unsigned w = v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000 ? 4 : 8;
                h[0] = (uint8_t) (major << 5 | (w == 1 ? 24 : w == 2 ? 25 : w == 4 ? 26 : 27));
                for (unsigned i = 0; i < w; i++)
                        h[1 + i] = (uint8_t) (v >> (8 * (w - 1 - i)));
                n = 1 + w;
        }
        put(b, h, n);
}

static void put_int(buf *b, int64_t v) {
        if (v >= 0)
                put_head(b, 0, (uint64_t) v);
        else
                put_head(b, 1, (uint64_t) (-1 - v));
}

static void put_bstr(buf *b, const void *p, size_t n) {
        put_head(b, 2, n);
        put(b, p, n);
}

static void put_tstr(buf *b, const char *s) {
        put_head(b, 3, strlen(s));
        put(b, s, strlen(s));
}

/* ---- claims, written by hand ------------------------------------------ */

#define MAX_CLAIMS 24

/* A claims map as (encoded key, encoded value) pairs, encoded sorted by
 * the keys' bytes (deterministic CBOR) unless told otherwise. */
typedef struct claims {
        buf key[MAX_CLAIMS];
        buf value[MAX_CLAIMS];
        size_t n;
} claims;

static void claims_done(claims *c) {
        for (size_t i = 0; i < c->n; i++) {
                buf_done(&c->key[i]);
                buf_done(&c->value[i]);
        }
        c->n = 0;
}

static size_t claims_find(const claims *c, int64_t key) {
        buf k = {};
        put_int(&k, key);
        size_t i;
        for (i = 0; i < c->n; i++)
                if (c->key[i].n == k.n && memcmp(c->key[i].d, k.d, k.n) == 0)
                        break;
        buf_done(&k);
        return i;
}

/* Sets key to the value given in hex (replacing it if present). */
static void claims_set(claims *c, int64_t key, const buf *value) {
        size_t i = claims_find(c, key);
        if (i == c->n) {
                assert_true(c->n < MAX_CLAIMS);
                put_int(&c->key[c->n++], key);
        }
        buf_done(&c->value[i]);
        put(&c->value[i], value->d, value->n);
}

static void claims_set_hex(claims *c, int64_t key, const char *hex) {
        _cleanup_(buf_done) buf v = {};
        put_hex(&v, hex);
        claims_set(c, key, &v);
}

static void claims_set_bstr(claims *c, int64_t key, const void *p, size_t n) {
        _cleanup_(buf_done) buf v = {};
        put_bstr(&v, p, n);
        claims_set(c, key, &v);
}

static void claims_set_tstr(claims *c, int64_t key, const char *s) {
        _cleanup_(buf_done) buf v = {};
        put_tstr(&v, s);
        claims_set(c, key, &v);
}

static void claims_del(claims *c, int64_t key) {
        size_t i = claims_find(c, key);
        assert_true(i < c->n);
        buf_done(&c->key[i]);
        buf_done(&c->value[i]);
        for (size_t j = i + 1; j < c->n; j++) {
                c->key[j - 1] = c->key[j];
                c->value[j - 1] = c->value[j];
        }
        c->n--;
        c->key[c->n] = (buf) {};
        c->value[c->n] = (buf) {};
}

/* [[65000, components]] */
static void claims_set_measurements(claims *c, unsigned format, const void *components, size_t len) {
        _cleanup_(buf_done) buf v = {};
        put_hex(&v, "81" "82");
        put_int(&v, format);
        put_bstr(&v, components, len);
        claims_set(c, 273, &v);
}

/* The claims rampart writes for device d, by hand from docs/formats.md. */
static void claims_genuine(claims *c, const ev_device *d) {
        *c = (claims) {};
        claims_set_bstr(c, 10, NONCE, sizeof NONCE);
        uint8_t ueid[33] = { 0x01 };
        assert_int_equal(rp_hex_decode(d->device_id, ueid + 1, 32), 0);
        claims_set_bstr(c, 256, ueid, sizeof ueid);
        claims_set_hex(c, 6, "1a6955b900");                    /* iat 1767225600 */
        claims_set_tstr(c, 265, "tag:rampart.dev,2026:eat-v1");
        claims_set_tstr(c, 270, "rampart");
        claims_set_tstr(c, 271, "0.1.0");
        claims_set_hex(c, 263, "02");                          /* dbgstat disabled-since-boot */
        claims_set_measurements(c, 65000, d->components, d->components_len);
        claims_set_tstr(c, -70001, d->backend);
        claims_set_hex(c, -70002, strcmp(d->backend, "soft") == 0 ? "f5" : "f4");
}

static int pair_cmp(const void *a, const void *b) {
        const buf *x = a, *y = b;
        size_t n = x->n < y->n ? x->n : y->n;
        int r = memcmp(x->d, y->d, n);
        return r ? r : (x->n > y->n) - (x->n < y->n);
}

/* The map: sorted (deterministic) or in the order set. */
static void claims_encode(const claims *c, bool sorted, buf *out) {
        buf pairs[MAX_CLAIMS];
        for (size_t i = 0; i < c->n; i++) {
                pairs[i] = (buf) {};
                put(&pairs[i], c->key[i].d, c->key[i].n);
                put(&pairs[i], c->value[i].d, c->value[i].n);
        }
        if (sorted)
                qsort(pairs, c->n, sizeof pairs[0], pair_cmp);   /* keys are prefix-free: pairs sort as keys */
        put_head(out, 5, c->n);
        for (size_t i = 0; i < c->n; i++) {
                put(out, pairs[i].d, pairs[i].n);
                buf_done(&pairs[i]);
        }
}

/* Signs payload as evidence: x5chain [leaf, second], signed by key. */
static void sign_payload(EVP_PKEY *key, X509 *leaf, X509 *second, const buf *payload, buf *out) {
        _cleanup_free_ uint8_t *l = NULL, *s = NULL;
        size_t l_len, s_len;
        assert_int_equal(ev_der(leaf, &l, &l_len), 0);
        assert_int_equal(ev_der(second, &s, &s_len), 0);
        const rp_cose_cert chain[] = { { l, l_len }, { s, s_len } };
        _cleanup_free_ uint8_t *msg = NULL;
        size_t len;
        rp_error err = {0};
        assert_int_equal(rp_cose_sign1_create_x5chain(ev_sign_digest, key, RP_EVIDENCE_CONTENT_TYPE, chain, 2,
                                                      payload->d, payload->n, &msg, &len, &err), 0);
        put(out, msg, len);
}

/* Evidence of device d with claims c, signed by d's Alias key. */
static void sign_claims(const ev_device *d, const claims *c, bool sorted, buf *out) {
        _cleanup_(buf_done) buf payload = {};
        claims_encode(c, sorted, &payload);
        sign_payload(d->alias_key, d->alias_cert, d->deviceid_cert, &payload, out);
}

/* ---- checking --------------------------------------------------------- */

static void cas_freep(STACK_OF(X509) **p) {
        sk_X509_pop_free(*p, X509_free);
}

/* rp_evidence_verify_trusted (the CAs decoded first, as rampart-server
 * does) comes to what rp_evidence_verify came to: code r, the message in
 * want_err or the claims want, and the Alias certificate whose key the
 * claims hold. Policies whose CAs cannot be decoded have their own case
 * (test_policy_refusals). */
static void same_with_trusted(const uint8_t *ev, size_t len, const rp_evidence_policy *p, int want_r,
                              const rp_error *want_err, const rp_evidence_claims *want) {
        _cleanup_(cas_freep) STACK_OF(X509) *cas = NULL;
        if (!p || !p->ca_pem || rp_evidence_trusted_parse(p->ca_pem, p->ca_pem_len, &cas, NULL) < 0)
                return;
        for (int round = 0; round < 2; round++) {       /* and again with the same stack */
                _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
                _cleanup_(x509_freep) X509 *alias = NULL;
                rp_error err = {0};
                int r = rp_evidence_verify_trusted(ev, len, cas, p, &c, &alias, &err);
                if (r != want_r)
                        fail_msg("rp_evidence_verify_trusted: %d (%s), rp_evidence_verify: %d (%s)", r, err.message,
                                 want_r, want_err ? want_err->message : "");
                if (r < 0) {
                        assert_null(c);
                        assert_null(alias);
                        assert_string_equal(err.message, want_err->message);
                        continue;
                }
                assert_memory_equal(c, want, sizeof *c);
                unsigned char *spki = NULL;
                int n = i2d_PUBKEY(X509_get0_pubkey(alias), &spki);
                assert_int_equal(n, (int) c->alias_public_key_len);
                assert_memory_equal(spki, c->alias_public_key, (size_t) n);
                OPENSSL_free(spki);
        }
}

static void expect_ok(const uint8_t *ev, size_t len, const rp_evidence_policy *p, rp_evidence_claims **ret) {
        rp_error err = {0};
        if (rp_evidence_verify(ev, len, p, ret, &err) < 0)
                fail_msg("refused: %s", err.message);
        same_with_trusted(ev, len, p, 0, NULL, *ret);
}

/* Refused with code and a message containing what. */
static void expect_refused(const uint8_t *ev, size_t len, const rp_evidence_policy *p, int code, const char *what) {
        rp_error err = {0};
        rp_evidence_claims *c = (rp_evidence_claims *) 0x1;
        int r = rp_evidence_verify(ev, len, p, &c, &err);
        if (r != code)
                fail_msg("got %d (%s), expected %d (%s)", r, err.message, code, what);
        assert_ptr_equal(c, (rp_evidence_claims *) 0x1);
        if (!strstr(err.message, what))
                fail_msg("message lacks '%s': %s", what, err.message);
        if (strncmp(err.message, "evidence", 8) != 0)
                fail_msg("message does not start with 'evidence': %s", err.message);
        same_with_trusted(ev, len, p, r, &err, NULL);
}

static void genuine(const ev_device *d, buf *out) {
        _cleanup_free_ uint8_t *ev = NULL;
        size_t len;
        rp_error err = {0};
        if (ev_evidence(d, NONCE, sizeof NONCE, &ev, &len, &err) < 0)
                fail_msg("evidence: %s", err.message);
        put(out, ev, len);
}

/* ---- tests ------------------------------------------------------------ */

static void test_genuine(void **state) {
        _cleanup_(buf_done) buf ev = {};
        genuine(&dev_a, &ev);
        rp_evidence_policy p = policy();
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
        expect_ok(ev.d, ev.n, &p, &c);

        assert_string_equal(c->device_id, dev_a.device_id);
        assert_int_equal(c->nonce_len, sizeof NONCE);
        assert_memory_equal(c->nonce, NONCE, sizeof NONCE);
        assert_int_equal(c->iat, 1767225600);
        assert_string_equal(c->swname, "rampart");
        assert_string_equal(c->swversion, "0.1.0");
        assert_int_equal(c->dbgstat, 2);
        assert_string_equal(rp_evidence_dbgstat_name(c->dbgstat), "disabled-since-boot");
        assert_string_equal(c->backend, "soft");
        assert_true(c->development);
        assert_memory_equal(c->measurement, dev_a.measurement, 32);
        assert_int_equal(c->n_components, 2);
        assert_string_equal(c->components[0].name, "os");
        assert_string_equal(c->components[0].version, "1.2.3");
        assert_string_equal(c->components[1].name, "rampart-secmon");
        uint8_t digest[32];
        assert_int_equal(rp_sha256(secmon_bin, sizeof secmon_bin - 1, digest), 0);
        assert_memory_equal(c->components[1].digest, digest, 32);

        /* The Alias key, as a service would certify it. */
        unsigned char *spki = NULL;
        int n = i2d_PUBKEY(dev_a.alias_key, &spki);
        assert_int_equal(c->alias_public_key_len, n);
        assert_memory_equal(c->alias_public_key, spki, (size_t) n);
        OPENSSL_free(spki);

        /* The hand-written claims are the same bytes as rp_evidence_create's
         * (ES256 signatures differ, the rest does not). */
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        _cleanup_(buf_done) buf mine = {};
        sign_claims(&dev_a, &cl, true, &mine);
        assert_int_equal(mine.n, ev.n);
        for (size_t i = 0; i < ev.n - 64; i++)
                if (mine.d[i] != ev.d[i])
                        fail_msg("byte %zu of %zu: %02x, rp_evidence_create wrote %02x", i, ev.n, mine.d[i], ev.d[i]);
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c2 = NULL;
        expect_ok(mine.d, mine.n, &p, &c2);

        /* A non-development backend, with development refused. */
        _cleanup_(buf_done) buf tpm = {};
        genuine(&dev_tpm, &tpm);
        p.allow_development = false;
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c3 = NULL;
        expect_ok(tpm.d, tpm.n, &p, &c3);
        assert_string_equal(c3->backend, "tpm2");
        assert_false(c3->development);
        assert_string_equal(c3->device_id, dev_tpm.device_id);
}

/* What the device's measurement (measure.c) writes is what the fixtures
 * write by hand, and evidence built on it verifies. */
static void test_measure_compat(void **state) {
        const char *tmp = test_tmpdir();
        _cleanup_free_ char *os = test_path(tmp, "os.img"), *secmon = test_path(tmp, "rampart-secmon");
        test_write_file(os, os_image, sizeof os_image - 1);
        test_write_file(secmon, secmon_bin, sizeof secmon_bin - 1);
        const rp_measure_spec specs[] = { { "os", "1.2.3", os }, { "rampart-secmon", "0.1.0", secmon } };
        _cleanup_(rp_measurement_freep) rp_measurement *m = NULL;
        rp_error err = {0};
        assert_int_equal(rp_measure(specs, ELEMENTSOF(specs), &m, &err), 0);
        assert_int_equal(m->components_len, dev_a.components_len);
        assert_memory_equal(m->components, dev_a.components, dev_a.components_len);
        assert_memory_equal(m->value, dev_a.measurement, 32);
}

/* The nonce must be the one handed out for this request. */
static void test_replayed_nonce(void **state) {
        _cleanup_(buf_done) buf ev = {};
        genuine(&dev_a, &ev);
        const uint8_t other[16] = "fresh nonce 0002", longer[17] = "fresh nonce 00010";
        const struct {
                const uint8_t *nonce;
                size_t len;
        } cases[] = { { other, sizeof other }, { longer, sizeof longer }, { NONCE, 15 }, { longer, 8 } };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                rp_evidence_policy p = policy();
                p.nonce = cases[i].nonce;
                p.nonce_len = cases[i].len;
                expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "evidence: eat_nonce is not the expected nonce "
                               "(replayed, or made for another request)");
        }
}

/* Evidence that claims to come from another device. */
static void test_other_device(void **state) {
        rp_evidence_policy p = policy();
        /* B's keys and chain, A's ueid: B speaking for A. */
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        _cleanup_(buf_done) buf b_as_a = {};
        sign_claims(&dev_b, &cl, true, &b_as_a);
        char want[200];
        snprintf(want, sizeof want, "evidence: ueid names device %s, but the DeviceID certificate is device %s",
                 dev_a.device_id, dev_b.device_id);
        expect_refused(b_as_a.d, b_as_a.n, &p, -EKEYREJECTED, want);

        /* A's chain, signed by B's Alias key. */
        _cleanup_(buf_done) buf payload = {}, a_signed_by_b = {};
        claims_encode(&cl, true, &payload);
        sign_payload(dev_b.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &payload, &a_signed_by_b);
        expect_refused(a_signed_by_b.d, a_signed_by_b.n, &p, -EKEYREJECTED,
                       "evidence: signature: COSE_Sign1: ES256 signature does not verify");

        /* B's Alias certificate with A's DeviceID certificate: no chain. */
        _cleanup_(buf_done) buf mixed = {};
        sign_payload(dev_b.alias_key, dev_b.alias_cert, dev_a.deviceid_cert, &payload, &mixed);
        expect_refused(mixed.d, mixed.n, &p, -EKEYREJECTED, "evidence: the certificate chain does not verify to a "
                       "trusted CA: unable to get local issuer certificate (certificate 0 of the chain)");
}

/* A chain to a CA the policy does not trust. */
static void test_untrusted_ca(void **state) {
        _cleanup_(ev_device_done) ev_device stranger = {};
        rp_error err = {0};
        assert_int_equal(ev_device_new(&other_ca, 0x44, "soft", comps, 2, &stranger, &err), 0);
        _cleanup_(buf_done) buf ev = {};
        genuine(&stranger, &ev);
        rp_evidence_policy p = policy();
        expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "evidence: the certificate chain does not verify to a trusted "
                       "CA: unable to get local issuer certificate (certificate 1 of the chain)");

        /* Trusting both CAs (one PEM holding two), it verifies. */
        _cleanup_(buf_done) buf both = {};
        put(&both, ca.pem, ca.pem_len);
        put(&both, "\n", 1);
        put(&both, other_ca.pem, other_ca.pem_len);
        p.ca_pem = (const char *) both.d;
        p.ca_pem_len = both.n;
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
        expect_ok(ev.d, ev.n, &p, &c);
        assert_string_equal(c->device_id, stranger.device_id);

        /* Before the certificates' time, and now: the policy's clock. */
        p.now = 946684800;   /* 2000-01-01 */
        expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "does not verify to a trusted CA: certificate is not yet "
                       "valid");
}

/* The measurements claim changed and signed again by the same Alias key:
 * the Alias certificate holds the measurement the DeviceID key certified. */
static void test_altered_measurement(void **state) {
        rp_evidence_policy p = policy();
        static const char patched[] = "a patched rampart-secmon";
        const ev_component altered[] = { comps[0], { "rampart-secmon", "0.1.0", patched, sizeof patched - 1 } };
        _cleanup_free_ uint8_t *list = NULL;
        size_t list_len;
        assert_int_equal(ev_components(altered, 2, &list, &list_len), 0);
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        claims_set_measurements(&cl, 65000, list, list_len);
        _cleanup_(buf_done) buf ev = {};
        sign_claims(&dev_a, &cl, true, &ev);
        expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "evidence: the measurements claim does not match the "
                       "measurement in the Alias certificate (TcbInfo FWID)");

        /* One component left out, or the same ones in another order. */
        free(list);
        assert_int_equal(ev_components(comps, 1, &list, &list_len), 0);
        claims_set_measurements(&cl, 65000, list, list_len);
        _cleanup_(buf_done) buf fewer = {};
        sign_claims(&dev_a, &cl, true, &fewer);
        expect_refused(fewer.d, fewer.n, &p, -EKEYREJECTED, "does not match the measurement in the Alias certificate");
        free(list);
        const ev_component swapped[] = { comps[1], comps[0] };
        assert_int_equal(ev_components(swapped, 2, &list, &list_len), 0);
        claims_set_measurements(&cl, 65000, list, list_len);
        _cleanup_(buf_done) buf reordered = {};
        sign_claims(&dev_a, &cl, true, &reordered);
        expect_refused(reordered.d, reordered.n, &p, -EKEYREJECTED, "does not match the measurement");
}

/* A certificate for pub with only basic constraints (basic), issued by
 * issuer (its name) and signed by issuer_key. */
static X509 *make_cert(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *pub, const char *cn, const char *basic) {
        X509 *x = X509_new();
        assert_non_null(x);
        assert_int_equal(X509_set_version(x, X509_VERSION_3), 1);
        assert_int_equal(ASN1_INTEGER_set(X509_get_serialNumber(x), 7), 1);
        X509_NAME *name = X509_get_subject_name(x);
        assert_int_equal(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1,
                                                    0), 1);
        assert_int_equal(X509_set_issuer_name(x, X509_get_subject_name(issuer)), 1);
        assert_non_null(X509_gmtime_adj(X509_getm_notBefore(x), -60));
        assert_int_equal(ASN1_TIME_set_string_X509(X509_getm_notAfter(x), "99991231235959Z"), 1);
        assert_int_equal(X509_set_pubkey(x, pub), 1);
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        const struct {
                int nid;
                const char *value;
        } exts[] = { { NID_basic_constraints, basic }, { NID_subject_key_identifier, "hash" } };
        for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
                X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, exts[i].nid, exts[i].value);
                assert_non_null(e);
                assert_int_equal(X509_add_ext(x, e, -1), 1);
                X509_EXTENSION_free(e);
        }
        assert_true(X509_sign(x, issuer_key, EVP_sha256()) > 0);
        return x;
}

static X509 *leaf_without_tcbinfo(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *pub) {
        return make_cert(issuer, issuer_key, pub, "not an alias", "critical,CA:FALSE");
}

static char *cert_pem(X509 *x) {
        BIO *bio = BIO_new(BIO_s_mem());
        assert_non_null(bio);
        assert_int_equal(PEM_write_bio_X509(bio, x), 1);
        char *data;
        long n = BIO_get_mem_data(bio, &data);
        char *copy = strndup(data, (size_t) n);
        assert_non_null(copy);
        BIO_free(bio);
        return copy;
}

/* Certificates in the wrong places. */
static void test_deviceid_as_alias(void **state) {
        rp_evidence_policy p = policy();
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        _cleanup_(buf_done) buf payload = {};
        claims_encode(&cl, true, &payload);

        /* Signed by the DeviceID key, chain [DeviceID, CA] and [DeviceID,
         * DeviceID]: the leaf is a CA certificate. */
        _cleanup_(buf_done) buf ev1 = {}, ev2 = {};
        sign_payload(dev_a.deviceid_key, dev_a.deviceid_cert, ca.cert, &payload, &ev1);
        expect_refused(ev1.d, ev1.n, &p, -EKEYREJECTED, "evidence: the signing certificate is a CA certificate (a "
                       "DeviceID certificate?), not an Alias certificate");
        sign_payload(dev_a.deviceid_key, dev_a.deviceid_cert, dev_a.deviceid_cert, &payload, &ev2);
        expect_refused(ev2.d, ev2.n, &p, -EKEYREJECTED, "the signing certificate is a CA certificate");

        /* A leaf the DeviceID key signed, not a CA, but without TcbInfo. */
        _cleanup_(x509_freep) X509 *plain = leaf_without_tcbinfo(dev_a.deviceid_cert, dev_a.deviceid_key,
                                                                  dev_a.alias_key);
        _cleanup_(buf_done) buf ev3 = {};
        sign_payload(dev_a.alias_key, plain, dev_a.deviceid_cert, &payload, &ev3);
        expect_refused(ev3.d, ev3.n, &p, -EKEYREJECTED, "evidence: the signing certificate has no TcbInfo extension "
                       "(2.23.133.5.4.1): it is not an Alias certificate");

        /* An Alias certificate the CA signed itself, beside a DeviceID
         * certificate it does not chain through. */
        _cleanup_(x509_freep) X509 *direct = NULL;
        rp_error err = {0};
        assert_int_equal(rp_cert_alias_issue(ca.cert, dev_a.alias_key, dev_a.measurement, "soft", "0.1.0",
                                             ev_sign_digest, ca.key, &direct, &err), 0);
        _cleanup_(buf_done) buf ev4 = {};
        sign_payload(dev_a.alias_key, direct, dev_a.deviceid_cert, &payload, &ev4);
        expect_refused(ev4.d, ev4.n, &p, -EKEYREJECTED, "evidence: the Alias certificate does not chain to the "
                       "trusted CA through the DeviceID certificate of x5chain");

        /* The CA certificate as the second one: the same. */
        _cleanup_(buf_done) buf ev5 = {};
        sign_payload(dev_a.alias_key, direct, ca.cert, &payload, &ev5);
        expect_refused(ev5.d, ev5.n, &p, -EKEYREJECTED, "through the DeviceID certificate of x5chain");
}

/* Trust beyond one CA certificate: an intermediate the policy trusts with
 * its root; a leaf the policy (wrongly) trusts on its own. */
static void test_trust_paths(void **state) {
        /* The factory's intermediate CA, under the root CA. */
        ev_ca inter = { .key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256") };
        assert_non_null(inter.key);
        inter.cert = make_cert(ca.cert, ca.key, inter.key, "Factory Intermediate CA", "critical,CA:TRUE");
        _cleanup_(ev_device_done) ev_device d = {};
        rp_error err = {0};
        assert_int_equal(ev_device_new(&inter, 0x55, "tpm2", comps, 2, &d, &err), 0);
        _cleanup_(buf_done) buf ev = {};
        genuine(&d, &ev);
        rp_evidence_policy p = policy();
        expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "unable to get local issuer certificate (certificate 1 of "
                       "the chain)");
        _cleanup_free_ char *inter_pem = cert_pem(inter.cert);
        p.ca_pem = inter_pem;
        p.ca_pem_len = strlen(inter_pem);
        expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "does not verify to a trusted CA: unable to get issuer "
                       "certificate (certificate 2 of the chain)");
        _cleanup_(buf_done) buf both = {};
        put(&both, inter_pem, strlen(inter_pem));
        put(&both, ca.pem, ca.pem_len);
        p.ca_pem = (const char *) both.d;
        p.ca_pem_len = both.n;
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
        expect_ok(ev.d, ev.n, &p, &c);
        assert_string_equal(c->device_id, d.device_id);

        /* An Alias certificate the intermediate signed itself, beside a
         * DeviceID certificate: the chain runs through the intermediate. */
        _cleanup_(x509_freep) X509 *direct = NULL;
        assert_int_equal(rp_cert_alias_issue(inter.cert, d.alias_key, d.measurement, "tpm2", "0.1.0",
                                             ev_sign_digest, inter.key, &direct, &err), 0);
        _cleanup_(claims_done) claims dcl;
        claims_genuine(&dcl, &d);
        _cleanup_(buf_done) buf dpayload = {}, direct_ev = {};
        claims_encode(&dcl, true, &dpayload);
        sign_payload(d.alias_key, direct, d.deviceid_cert, &dpayload, &direct_ev);
        expect_refused(direct_ev.d, direct_ev.n, &p, -EKEYREJECTED, "evidence: the Alias certificate does not chain "
                       "to the trusted CA through the DeviceID certificate of x5chain");
        ev_ca_done(&inter);

        /* A's Alias certificate, self-signed, trusted by the policy. */
        _cleanup_(x509_freep) X509 *self = X509_dup(dev_a.alias_cert);
        assert_non_null(self);
        assert_int_equal(X509_set_issuer_name(self, X509_get_subject_name(self)), 1);
        X509_EXTENSION *akid = X509_delete_ext(self, X509_get_ext_by_NID(self, NID_authority_key_identifier, -1));
        assert_non_null(akid);
        X509_EXTENSION_free(akid);
        assert_true(X509_sign(self, dev_a.alias_key, EVP_sha256()) > 0);
        _cleanup_free_ char *self_pem = cert_pem(self);
        _cleanup_(buf_done) buf trusted = {};
        put(&trusted, ca.pem, ca.pem_len);
        put(&trusted, self_pem, strlen(self_pem));
        p.ca_pem = (const char *) trusted.d;
        p.ca_pem_len = trusted.n;
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        _cleanup_(buf_done) buf payload = {}, self_ev = {};
        claims_encode(&cl, true, &payload);
        sign_payload(dev_a.alias_key, self, dev_a.deviceid_cert, &payload, &self_ev);
        expect_refused(self_ev.d, self_ev.n, &p, -EKEYREJECTED, "evidence: the Alias certificate does not chain to "
                       "the trusted CA through the DeviceID certificate of x5chain");

        /* An Alias certificate with TcbInfo twice, the DeviceID key's. */
        _cleanup_(x509_freep) X509 *twice = X509_dup(dev_a.alias_cert);
        ASN1_OBJECT *oid = OBJ_txt2obj("2.23.133.5.4.1", 1);
        int i = X509_get_ext_by_OBJ(twice, oid, -1);
        ASN1_OBJECT_free(oid);
        assert_true(i >= 0);
        assert_int_equal(X509_add_ext(twice, X509_get_ext(twice, i), -1), 1);
        assert_true(X509_sign(twice, dev_a.deviceid_key, EVP_sha256()) > 0);
        _cleanup_(buf_done) buf twice_ev = {};
        sign_payload(dev_a.alias_key, twice, dev_a.deviceid_cert, &payload, &twice_ev);
        p = policy();
        expect_refused(twice_ev.d, twice_ev.n, &p, -EINVAL, "evidence: the Alias certificate has two TcbInfo "
                       "extensions");
}

/* An Alias certificate (TcbInfo, not a CA, signed by the DeviceID key)
 * for a key that cannot have signed ES256 evidence. */
static void test_alias_key_types(void **state) {
        rp_evidence_policy p = policy();
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        _cleanup_(buf_done) buf payload = {};
        claims_encode(&cl, true, &payload);
        const struct {
                EVP_PKEY *key;
                int code;
                const char *what;
        } cases[] = {
                { EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"), -EKEYREJECTED, "evidence: signature: COSE_Sign1: alg is "
                  "ES256 (-7) but the key is Ed25519" },
                { EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t) 2048), -EOPNOTSUPP, "evidence: the Alias "
                  "certificate's key: public key: an RSA key; rampart supports ES256 (P-256) and Ed25519 keys" },
                { EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384"), -EOPNOTSUPP, "evidence: the Alias certificate's key: "
                  "public key: an EC key on curve secp384r1; only P-256 (ES256) is supported" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                assert_non_null(cases[i].key);
                _cleanup_(x509_freep) X509 *alias = X509_dup(dev_a.alias_cert);
                assert_int_equal(X509_set_pubkey(alias, cases[i].key), 1);
                assert_true(X509_sign(alias, dev_a.deviceid_key, EVP_sha256()) > 0);
                _cleanup_(buf_done) buf ev = {};
                sign_payload(dev_a.alias_key, alias, dev_a.deviceid_cert, &payload, &ev);
                expect_refused(ev.d, ev.n, &p, cases[i].code, cases[i].what);
                EVP_PKEY_free(cases[i].key);
        }
}

/* Cut short, or not CBOR at all. */
static void test_truncated_and_garbage(void **state) {
        rp_evidence_policy p = policy();
        _cleanup_(buf_done) buf ev = {};
        genuine(&dev_a, &ev);
        for (size_t cut = 1; cut < ev.n; cut++)
                expect_refused(ev.d, cut, &p, -EBADMSG, "evidence: COSE_Sign1: CBOR: truncated");
        expect_refused(ev.d, 0, &p, -EBADMSG, "evidence: empty");
        expect_refused(NULL, 10, &p, -EBADMSG, "evidence: empty");

        const struct {
                const char *hex;
                int code;
                const char *what;
        } garbage[] = {
                { "00", -EINVAL, "evidence: COSE_Sign1: not a COSE_Sign1 (expected tag 18, found initial byte 0x00)" },
                { "ff", -EINVAL, "evidence: COSE_Sign1: not a COSE_Sign1" },
                { "7b7d", -EINVAL, "evidence: COSE_Sign1: not a COSE_Sign1 (expected tag 18, found initial byte 0x7b)" },
                { "84404040" "40", -EINVAL, "evidence: COSE_Sign1: untagged" },
                { "d2", -EBADMSG, "evidence: COSE_Sign1: CBOR: truncated" },
                { "d2a0", -EINVAL, "evidence: COSE_Sign1: tag 18 holds a map, expected an array" },
                { "d83d" "d284" "43a10126" "a0" "40" "5840" "0000000000000000000000000000000000000000000000000000000000000000"
                  "0000000000000000000000000000000000000000000000000000000000000000", -EINVAL,
                  "evidence: COSE_Sign1: tag 61, expected 18" },
                { "dc", -EINVAL, "reserved additional information 28" },
        };
        for (size_t i = 0; i < ELEMENTSOF(garbage); i++) {
                _cleanup_(buf_done) buf b = {};
                put_hex(&b, garbage[i].hex);
                expect_refused(b.d, b.n, &p, garbage[i].code, garbage[i].what);
        }
        /* Random bytes behind tag 18. */
        srand(6);
        for (int i = 0; i < 200; i++) {
                uint8_t junk[300] = { 0xd2 };
                for (size_t j = 1; j < sizeof junk; j++)
                        junk[j] = (uint8_t) rand();
                rp_evidence_claims *c = NULL;
                rp_error err = {0};
                int r = rp_evidence_verify(junk, sizeof junk, &p, &c, &err);
                assert_true(r < 0);
                assert_null(c);
                assert_true(strncmp(err.message, "evidence: ", 10) == 0);
        }
        /* Any flipped bit of genuine evidence: refused. */
        for (size_t i = 0; i < ev.n; i += 7) {
                ev.d[i] ^= 0x10;
                rp_evidence_claims *c = NULL;
                if (rp_evidence_verify(ev.d, ev.n, &p, &c, NULL) == 0)
                        fail_msg("byte %zu flipped: accepted", i);
                ev.d[i] ^= 0x10;
        }
}

/* Over the limits, or not of evidence's shape. */
static void test_oversized_and_shape(void **state) {
        rp_evidence_policy p = policy();
        _cleanup_(buf_done) buf ev = {};
        genuine(&dev_a, &ev);
        _cleanup_free_ uint8_t *big = calloc(1, RP_EVIDENCE_MAX_SIZE + 1);
        memcpy(big, ev.d, ev.n);
        expect_refused(big, RP_EVIDENCE_MAX_SIZE + 1, &p, -EFBIG, "evidence: 16385 bytes, the limit is 16384");
        expect_refused(big, ev.n + 1, &p, -EBADMSG, "evidence: 1 bytes after the COSE_Sign1");

        /* A payload that makes the message too large. */
        _cleanup_(buf_done) buf huge = {}, huge_ev = {};
        put_head(&huge, 2, RP_EVIDENCE_MAX_SIZE);
        put(&huge, big, RP_EVIDENCE_MAX_SIZE);
        sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &huge, &huge_ev);
        expect_refused(huge_ev.d, huge_ev.n, &p, -EFBIG, "the limit is 16384");

        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        _cleanup_(buf_done) buf payload = {};
        claims_encode(&cl, true, &payload);
        _cleanup_free_ uint8_t *alias = NULL, *deviceid = NULL;
        size_t alias_len, deviceid_len;
        assert_int_equal(ev_der(dev_a.alias_cert, &alias, &alias_len), 0);
        assert_int_equal(ev_der(dev_a.deviceid_cert, &deviceid, &deviceid_len), 0);
        _cleanup_free_ uint8_t *padded = malloc(alias_len + 1);
        memcpy(padded, alias, alias_len);
        padded[alias_len] = 0;
        static const uint8_t junk[] = { 0x30, 0x03, 0x02, 0x01, 0x01 };
        const struct {
                rp_cose_cert chain[3];
                size_t n;
                const char *ct;
                int code;
                const char *what;
        } cases[] = {
                { { { alias, alias_len }, { deviceid, deviceid_len }, { deviceid, deviceid_len } }, 3,
                  RP_EVIDENCE_CONTENT_TYPE, -EINVAL, "evidence: x5chain holds 3 certificates; evidence carries exactly "
                  "2, [Alias, DeviceID]" },
                { { { junk, sizeof junk }, { deviceid, deviceid_len } }, 2, RP_EVIDENCE_CONTENT_TYPE, -EINVAL,
                  "evidence: x5chain: the first (Alias) certificate is not a DER X.509 certificate" },
                { { { alias, alias_len }, { junk, sizeof junk } }, 2, RP_EVIDENCE_CONTENT_TYPE, -EINVAL,
                  "evidence: x5chain: the second (DeviceID) certificate is not a DER X.509 certificate" },
                { { { padded, alias_len + 1 }, { deviceid, deviceid_len } }, 2, RP_EVIDENCE_CONTENT_TYPE, -EINVAL,
                  "evidence: x5chain: 1 bytes after the first (Alias) certificate" },
                { { { alias, alias_len }, { deviceid, deviceid_len } }, 2, NULL, -EINVAL,
                  "evidence: no content type (3) in the protected header; expected application/eat+cwt" },
                { { { alias, alias_len }, { deviceid, deviceid_len } }, 2, "application/cwt", -EOPNOTSUPP,
                  "evidence: content type is \"application/cwt\", expected application/eat+cwt" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ uint8_t *msg = NULL;
                size_t len;
                rp_error err = {0};
                assert_int_equal(rp_cose_sign1_create_x5chain(ev_sign_digest, dev_a.alias_key, cases[i].ct,
                                                              cases[i].chain, cases[i].n, payload.d, payload.n, &msg,
                                                              &len, &err), 0);
                expect_refused(msg, len, &p, cases[i].code, cases[i].what);
        }

        /* No x5chain; EdDSA. */
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *es = NULL, *ed = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &es, &err), 0);
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &ed, &err), 0);
        _cleanup_free_ uint8_t *m1 = NULL, *m2 = NULL;
        size_t l1, l2;
        assert_int_equal(rp_cose_sign1_create(es, RP_EVIDENCE_CONTENT_TYPE, payload.d, payload.n, NULL, 0, &m1, &l1,
                                              &err), 0);
        expect_refused(m1, l1, &p, -EINVAL, "evidence: no certificate chain (x5chain, 33) in the protected header");
        assert_int_equal(rp_cose_sign1_create(ed, RP_EVIDENCE_CONTENT_TYPE, payload.d, payload.n, NULL, 0, &m2, &l2,
                                              &err), 0);
        expect_refused(m2, l2, &p, -EOPNOTSUPP, "evidence: signed with EdDSA; evidence is signed with ES256");

        /* Payloads that are no claims map. */
        const struct {
                const char *hex;
                int code;
                const char *what;
        } payloads[] = {
                { "80", -EINVAL, "evidence: claims: the payload is an array, expected a map of claims" },
                { "a0" "00", -EBADMSG, "evidence: claims: 1 bytes after the claims map" },
                { "", -EBADMSG, "evidence: claims: CBOR: truncated" },
                { "a1" "06" "fb3ff0000000000000", -EOPNOTSUPP, "evidence: claims: CBOR: floating-point" },
                { "a1" "06" "818181818181818181" "00", -EFBIG, "evidence: claims: CBOR: nested deeper than 8" },
        };
        for (size_t i = 0; i < ELEMENTSOF(payloads); i++) {
                _cleanup_(buf_done) buf pl = {}, msg = {};
                put_hex(&pl, payloads[i].hex);
                sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &pl, &msg);
                expect_refused(msg.d, msg.n, &p, payloads[i].code, payloads[i].what);
        }
}

/* One claim of genuine claims replaced (hex), or an extra pair appended. */
typedef struct claim_case {
        int64_t key;
        const char *value_hex;
        int code;
        const char *what;
} claim_case;

static void test_wrong_claim_types(void **state) {
        rp_evidence_policy p = policy();
        const claim_case cases[] = {
                { 10, "6466726573", -EINVAL, "evidence: claims: eat_nonce (10) is a text string, expected a byte string" },
                { 10, "8148" "0102030405060708", -EINVAL, "evidence: claims: eat_nonce (10) is an array, expected a "
                  "byte string" },
                { 10, "47" "01020304050607", -EINVAL, "evidence: claims: eat_nonce (10) is 7 bytes, expected 8 to 64" },
                { 10, "5841" "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
                  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f40", -EINVAL,
                  "evidence: claims: eat_nonce (10) is 65 bytes, expected 8 to 64" },
                { 256, "5820" "0000000000000000000000000000000000000000000000000000000000000000", -EINVAL,
                  "evidence: claims: ueid (256) is 32 bytes, expected 33" },
                { 256, "5821" "02" "0000000000000000000000000000000000000000000000000000000000000000", -EINVAL,
                  "evidence: claims: ueid (256) is of type 0x02, expected 0x01 (RAND: the device id)" },
                { 6, "20", -EINVAL, "evidence: claims: iat (6) is negative, expected an integer of 0 or more" },
                { 6, "6131", -EINVAL, "evidence: claims: iat (6) is a text string, expected an integer of 0 or more" },
                { 6, "c11a6955b900", -EINVAL, "evidence: claims: iat (6) is a tagged item" },
                { 6, "1bffffffffffffffff", -EINVAL, "evidence: claims: iat (6) is 18446744073709551615, expected 0 to "
                  "9223372036854775807" },
                { 6, "fa3f800000", -EOPNOTSUPP, "evidence: claims: CBOR: floating-point" },
                { 265, "781b" "7461673a72616d706172742e6465762c323032363a6561742d7632", -EOPNOTSUPP,
                  "evidence: claims: eat_profile (265) is another profile than rampart's "
                  "\"tag:rampart.dev,2026:eat-v1\"" },
                { 265, "781a" "7461673a72616d706172742e6465762c323032363a6561742d76", -EOPNOTSUPP,
                  "eat_profile (265) is another profile" },
                { 265, "43" "2b0601", -EOPNOTSUPP, "evidence: claims: eat_profile (265) is an OID; rampart's profile is" },
                { 265, "01", -EINVAL, "evidence: claims: eat_profile (265) is an integer, expected text" },
                { 270, "60", -EINVAL, "evidence: claims: swname (270) is 0 bytes, expected 1 to 64" },
                { 270, "7841" "4141414141414141414141414141414141414141414141414141414141414141"
                  "414141414141414141414141414141414141414141414141414141414141414141", -EINVAL, "evidence: claims: swname (270) is 65 bytes" },
                { 270, "63" "611b62", -EINVAL, "evidence: claims: swname (270) is not printable UTF-8 text" },
                { 270, "62" "c328", -EINVAL, "evidence: claims: swname (270) is not printable UTF-8 text" },
                { 271, "43" "312e30", -EINVAL, "evidence: claims: swversion (271) is a byte string, expected text" },
                { 263, "05", -EINVAL, "evidence: claims: dbgstat (263) is 5, expected 0 to 4" },
                { 263, "20", -EINVAL, "evidence: claims: dbgstat (263) is negative" },
                { 263, "f5", -EINVAL, "evidence: claims: dbgstat (263) is a boolean" },
                { 273, "a0", -EINVAL, "evidence: claims: measurements (273) is not an array of one measurement" },
                { 273, "80", -EINVAL, "evidence: claims: measurements (273) is not an array of one measurement" },
                { 273, "82" "8219fde840" "8219fde840", -EINVAL, "measurements (273) is not an array of one" },
                { 273, "81" "8319fde84000", -EINVAL, "evidence: claims: measurements (273): the measurement is not an "
                  "array of 2 (content format, bytes)" },
                { 273, "81" "82183c40", -EOPNOTSUPP, "evidence: claims: measurements (273): content format 60, expected "
                  "65000 (rampart's components list)" },
                { 273, "81" "82616140", -EINVAL, "evidence: claims: measurements (273): the content format is a text "
                  "string, expected an integer" },
                { 273, "81" "8219fde86180", -EINVAL, "evidence: claims: measurements (273): the measurement is a text "
                  "string, expected a byte string" },
                { 273, "81" "8219fde8" "4281" "83", -EBADMSG, "evidence: claims: measurements (273): components: "
                  "CBOR: truncated" },
                { 273, "81" "8219fde8" "4180", -EINVAL, "evidence: claims: measurements (273): components: the list "
                  "is empty" },
                { 273, "81" "8219fde8" "4280" "00", -EBADMSG, "evidence: claims: measurements (273): components: 1 "
                  "bytes after the list" },
                { 273, "81" "8219fde8" "41" "a0", -EINVAL, "measurements (273): components: a map, expected an array" },
                { 273, "81" "8219fde8" "43" "818100", -EINVAL, "measurements (273): components: entry 0 is not an "
                  "array of 3 (name, version, digest)" },
                { 273, "81" "8219fde8" "5826" "81" "83" "6161" "60" "581f" "00000000000000000000000000000000000000000000"
                  "000000000000000000", -EINVAL, "measurements (273): components: entry 0: digest is not a 32-byte "
                  "byte string" },
                { 273, "81" "8219fde8" "5826" "81" "83" "60" "60" "5820" "0000000000000000000000000000000000000000000000"
                  "000000000000000000", -EINVAL, "measurements (273): components: entry 0: name is 0 bytes, expected "
                  "1 to 64" },
                { 273, "81" "8219fde8" "5827" "81" "83" "6161" "01" "5820" "000000000000000000000000000000000000000000"
                  "0000000000000000000000", -EINVAL, "measurements (273): components: entry 0: version is an integer, "
                  "expected text" },
                { 273, "81" "8219fde8" "5829" "81" "83" "6161" "62" "0a0a" "5820" "000000000000000000000000000000000000"
                  "0000000000000000000000000000", -EINVAL, "components: entry 0: version is not printable" },
                { 273, "81" "8219fde8" "5828" "81" "83" "6161" "7800" "5820" "0000000000000000000000000000000000000000"
                  "000000000000000000000000", -EINVAL, "measurements (273): components: not in deterministic CBOR" },
                { -70001, "01", -EINVAL, "evidence: claims: backend (-70001) is an integer, expected text" },
                { -70001, "64536f6674", -EINVAL, "evidence: claims: backend (-70001) is not a backend name (lowercase "
                  "letters and digits)" },
                { -70001, "71" "61616161616161616161616161616161" "61", -EINVAL, "evidence: claims: backend (-70001) is "
                  "17 bytes, expected 1 to 16" },
                { -70002, "01", -EINVAL, "evidence: claims: development (-70002) is an integer, expected a boolean" },
                { -70002, "f6", -EINVAL, "evidence: claims: development (-70002) is nil, expected a boolean" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(claims_done) claims cl;
                claims_genuine(&cl, &dev_a);
                claims_set_hex(&cl, cases[i].key, cases[i].value_hex);
                _cleanup_(buf_done) buf ev = {};
                sign_claims(&dev_a, &cl, true, &ev);
                expect_refused(ev.d, ev.n, &p, cases[i].code, cases[i].what);
        }

        /* Two components of one name. */
        const ev_component twins[] = { comps[0], comps[0] };
        _cleanup_free_ uint8_t *twin_list = NULL;
        size_t twin_len;
        assert_int_equal(ev_components(twins, 2, &twin_list, &twin_len), 0);
        _cleanup_(claims_done) claims tcl;
        claims_genuine(&tcl, &dev_a);
        claims_set_measurements(&tcl, 65000, twin_list, twin_len);
        _cleanup_(buf_done) buf twin_ev = {};
        sign_claims(&dev_a, &tcl, true, &twin_ev);
        expect_refused(twin_ev.d, twin_ev.n, &p, -EINVAL, "evidence: claims: measurements (273): components: entries "
                       "0 and 1 have the same name");

        /* 17 components. */
        ev_component many[17];
        for (size_t i = 0; i < ELEMENTSOF(many); i++)
                many[i] = comps[0];
        _cleanup_free_ uint8_t *list = NULL;
        size_t list_len;
        assert_int_equal(ev_components(many, 17, &list, &list_len), 0);
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        claims_set_measurements(&cl, 65000, list, list_len);
        _cleanup_(buf_done) buf ev = {};
        sign_claims(&dev_a, &cl, true, &ev);
        expect_refused(ev.d, ev.n, &p, -EFBIG, "evidence: claims: measurements (273): components: 17 entries, the "
                       "limit is 16");

        /* Over the size limit, before it is read. */
        _cleanup_free_ uint8_t *big = calloc(1, 4097);
        claims_set_measurements(&cl, 65000, big, 4097);
        _cleanup_(buf_done) buf big_ev = {};
        sign_claims(&dev_a, &cl, true, &big_ev);
        expect_refused(big_ev.d, big_ev.n, &p, -EFBIG, "evidence: claims: measurements (273): components: 4097 bytes, "
                       "the limit is 4096");
}

/* The claims map's form: each key once, sorted, shortest heads. */
static void test_claims_form(void **state) {
        rp_evidence_policy p = policy();
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);

        _cleanup_(buf_done) buf unsorted = {};
        sign_claims(&dev_a, &cl, false, &unsorted);   /* in the order set: 10 before 6 */
        expect_refused(unsorted.d, unsorted.n, &p, -EINVAL, "evidence: claims: not in deterministic CBOR");

        /* iat in a long form. */
        _cleanup_(claims_done) claims lng;
        claims_genuine(&lng, &dev_a);
        claims_set_hex(&lng, 6, "1b000000006955b900");
        _cleanup_(buf_done) buf long_iat = {};
        sign_claims(&dev_a, &lng, true, &long_iat);
        expect_refused(long_iat.d, long_iat.n, &p, -EINVAL, "evidence: claims: not in deterministic CBOR");

        /* A claim twice (a second nonce, appended to the sorted map), and
         * an unknown one twice. */
        const struct {
                const char *pair;
                const char *what;
        } dups[] = {
                { "0a" "48" "6f74686572206e6f", "evidence: claims: duplicate claim 10" },
                { "6178" "01", NULL },
                { "3a00011170" "6474706d32", "evidence: claims: duplicate claim -70001" },
        };
        for (size_t i = 0; i < ELEMENTSOF(dups); i++) {
                _cleanup_(buf_done) buf payload = {}, ev = {};
                claims_encode(&cl, true, &payload);
                payload.d[0]++;   /* one more pair */
                put_hex(&payload, dups[i].pair);
                if (!dups[i].what) {
                        /* "x" twice */
                        payload.d[0]++;
                        put_hex(&payload, dups[i].pair);
                }
                sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &payload, &ev);
                expect_refused(ev.d, ev.n, &p, -EINVAL, dups[i].what ? dups[i].what :
                               "evidence: claims: duplicate claim (a 1-byte text key)");
        }

        /* Keys that are neither integers nor text. */
        _cleanup_(buf_done) buf payload = {}, ev = {};
        claims_encode(&cl, true, &payload);
        payload.d[0]++;
        put_hex(&payload, "4100" "00");
        sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &payload, &ev);
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence: claims: key 10 is a byte string, expected an integer or "
                       "text");

        /* Too many claims (unknown ones). */
        _cleanup_(claims_done) claims many;
        claims_genuine(&many, &dev_a);
        _cleanup_(buf_done) buf big = {}, big_ev = {};
        claims_encode(&many, true, &big);
        big.d[0] = 0xb8;
        uint8_t count = (uint8_t) (many.n + 55);
        _cleanup_(buf_done) buf rest = {};
        put(&rest, big.d + 1, big.n - 1);
        big.n = 1;
        put(&big, &count, 1);
        put(&big, rest.d, rest.n);
        for (int k = 0; k < 55; k++) {
                uint8_t pair[3] = { 0x39, 0x03, (uint8_t) (0x10 + k) };   /* -(0x0310+k)-1: after the others */
                put(&big, pair, 3);
                put_hex(&big, "00");
        }
        sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &big, &big_ev);
        expect_refused(big_ev.d, big_ev.n, &p, -EFBIG, "evidence: claims: 65 claims, the limit is 64");

        /* Unknown claims are ignored: integer and text keys, any value. */
        _cleanup_(claims_done) claims extra;
        claims_genuine(&extra, &dev_a);
        claims_set_hex(&extra, 1, "6b6973737565722d74657874");       /* iss */
        claims_set_hex(&extra, 999, "a1" "6178" "820102");
        claims_set_hex(&extra, -80000, "c0" "6130");
        _cleanup_(buf_done) buf extra_payload = {}, extra_ev = {};
        claims_encode(&extra, true, &extra_payload);
        extra_payload.d[0] += 2;
        put_hex(&extra_payload, "627861" "01" "627862" "02");   /* "xa": 1, "xb": 2 sort last */
        sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &extra_payload, &extra_ev);
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
        expect_ok(extra_ev.d, extra_ev.n, &p, &c);
        assert_string_equal(c->device_id, dev_a.device_id);
}

static void test_missing_claims(void **state) {
        rp_evidence_policy p = policy();
        const struct {
                int64_t key;
                const char *what;
        } required[] = {
                { 10, "evidence: claims: eat_nonce (10) is missing" },
                { 256, "evidence: claims: ueid (256) is missing" },
                { 6, "evidence: claims: iat (6) is missing" },
                { 265, "evidence: claims: eat_profile (265) is missing" },
                { 270, "evidence: claims: swname (270) is missing" },
                { 271, "evidence: claims: swversion (271) is missing" },
                { 263, "evidence: claims: dbgstat (263) is missing" },
                { 273, "evidence: claims: measurements (273) is missing" },
                { -70001, "evidence: claims: backend (-70001) is missing" },
                { -70002, "evidence: claims: development (-70002) is missing" },
        };
        for (size_t i = 0; i < ELEMENTSOF(required); i++) {
                _cleanup_(claims_done) claims cl;
                claims_genuine(&cl, &dev_a);
                claims_del(&cl, required[i].key);
                _cleanup_(buf_done) buf ev = {};
                sign_claims(&dev_a, &cl, true, &ev);
                expect_refused(ev.d, ev.n, &p, -EINVAL, required[i].what);
        }
        _cleanup_(buf_done) buf empty = {}, ev = {};
        put_hex(&empty, "a0");
        sign_payload(dev_a.alias_key, dev_a.alias_cert, dev_a.deviceid_cert, &empty, &ev);
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence: claims: eat_nonce (10) is missing");
}

/* Development backends: visible, and refused unless the policy allows them. */
static void test_development_policy(void **state) {
        rp_evidence_policy p = policy();
        _cleanup_(buf_done) buf ev = {};
        genuine(&dev_a, &ev);
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
        expect_ok(ev.d, ev.n, &p, &c);
        assert_true(c->development);
        p.allow_development = false;
        expect_refused(ev.d, ev.n, &p, -EKEYREJECTED, "evidence: the device's root of trust is the development "
                       "backend \"soft\" (its secret is a file); the policy does not allow development backends");

        /* soft saying it is not for development. */
        _cleanup_(claims_done) claims cl;
        claims_genuine(&cl, &dev_a);
        claims_set_hex(&cl, -70002, "f4");
        _cleanup_(buf_done) buf liar = {};
        sign_claims(&dev_a, &cl, true, &liar);
        p.allow_development = true;
        expect_refused(liar.d, liar.n, &p, -EINVAL, "evidence: claims: the soft backend claims not to be for "
                       "development");

        /* soft saying it is tpm2: its Alias certificate says soft. */
        claims_set_tstr(&cl, -70001, "tpm2");
        _cleanup_(buf_done) buf tpm_liar = {};
        sign_claims(&dev_a, &cl, true, &tpm_liar);
        p.allow_development = false;
        expect_refused(tpm_liar.d, tpm_liar.n, &p, -EKEYREJECTED, "evidence: the backend claim \"tpm2\" is not the "
                       "Alias certificate's TcbInfo model");

        /* Any backend that says it is for development. */
        _cleanup_(claims_done) claims dev;
        claims_genuine(&dev, &dev_tpm);
        claims_set_hex(&dev, -70002, "f5");
        _cleanup_(buf_done) buf tpm_dev = {};
        sign_claims(&dev_tpm, &dev, true, &tpm_dev);
        expect_refused(tpm_dev.d, tpm_dev.n, &p, -EKEYREJECTED, "development backend \"tpm2\"");
        p.allow_development = true;
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c2 = NULL;
        expect_ok(tpm_dev.d, tpm_dev.n, &p, &c2);
        assert_true(c2->development);
}

static void test_policy_refusals(void **state) {
        _cleanup_(buf_done) buf ev = {};
        genuine(&dev_a, &ev);
        rp_evidence_claims *c = NULL;
        rp_error err = {0};
        assert_int_equal(rp_evidence_verify(ev.d, ev.n, NULL, &c, &err), -EINVAL);
        assert_string_equal(err.message, "evidence policy: no trusted CA certificates");

        rp_evidence_policy p = policy();
        p.ca_pem_len = 0;
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence policy: no trusted CA certificates");
        p = policy();
        p.nonce_len = 7;
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence policy: the expected nonce must be 8 to 64 bytes");
        p.nonce_len = 65;
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence policy: the expected nonce must be 8 to 64 bytes");
        p = policy();
        p.nonce = NULL;
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence policy: the expected nonce");
        p = policy();
        p.now = -1;
        expect_refused(ev.d, ev.n, &p, -EINVAL, "evidence policy: the time is negative");

        const struct {
                const char *pem;
                int code;
                const char *what;
        } pems[] = {
                { "no certificate here\n", -EINVAL, "evidence policy: no trusted CA certificate (no PEM \"CERTIFICATE\" "
                  "block)" },
                { "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n", -EINVAL,
                  "evidence policy: no trusted CA certificate" },
                { "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", -EINVAL,
                  "evidence policy: the trusted CA certificates: certificate 1 is not a readable PEM certificate" },
                { "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", -EINVAL,
                  "certificate 1 is not a readable PEM certificate" },
        };
        for (size_t i = 0; i < ELEMENTSOF(pems); i++) {
                p = policy();
                p.ca_pem = pems[i].pem;
                p.ca_pem_len = strlen(pems[i].pem);
                expect_refused(ev.d, ev.n, &p, pems[i].code, pems[i].what);
        }
        /* The CA, then a broken certificate: refused, not half-read. */
        _cleanup_(buf_done) buf half = {};
        put(&half, ca.pem, ca.pem_len);
        put(&half, pems[2].pem, strlen(pems[2].pem));
        p = policy();
        p.ca_pem = (const char *) half.d;
        p.ca_pem_len = half.n;
        expect_refused(ev.d, ev.n, &p, -EINVAL, "certificate 2 is not a readable PEM certificate");

        /* 64 trusted certificates are fine, 65 are not. */
        _cleanup_(buf_done) buf many = {};
        for (int i = 0; i < 65; i++) {
                put(&many, ca.pem, ca.pem_len);
                p = policy();
                p.ca_pem = (const char *) many.d;
                p.ca_pem_len = many.n;
                if (i == 63) {
                        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *ok = NULL;
                        expect_ok(ev.d, ev.n, &p, &ok);
                }
        }
        expect_refused(ev.d, ev.n, &p, -EFBIG, "evidence policy: more than 64 trusted CA certificates");
        _cleanup_free_ char *huge = calloc(1, 1024 * 1024 + 1);
        memset(huge, '\n', 1024 * 1024);
        p.ca_pem = huge;
        p.ca_pem_len = 1024 * 1024 + 1;
        expect_refused(ev.d, ev.n, &p, -EFBIG, "evidence policy: the trusted CA certificates are 1048577 bytes, the "
                       "limit is 1048576");

        /* The CAs decoded first (rp_evidence_trusted_parse): the same
         * limits and messages; and a stack of them, within the limits. */
        for (size_t i = 0; i < ELEMENTSOF(pems); i++) {
                STACK_OF(X509) *cas = (STACK_OF(X509) *) 0x1;
                assert_int_equal(rp_evidence_trusted_parse(pems[i].pem, strlen(pems[i].pem), &cas, &err),
                                 pems[i].code);
                assert_ptr_equal(cas, (STACK_OF(X509) *) 0x1);
                if (!strstr(err.message, pems[i].what))
                        fail_msg("message lacks '%s': %s", pems[i].what, err.message);
        }
        STACK_OF(X509) *none = NULL;
        assert_int_equal(rp_evidence_trusted_parse((const char *) many.d, many.n, &none, &err), -EFBIG);
        assert_string_equal(err.message, "evidence policy: more than 64 trusted CA certificates");
        assert_int_equal(rp_evidence_trusted_parse(huge, 1024 * 1024 + 1, &none, &err), -EFBIG);
        assert_int_equal(rp_evidence_trusted_parse("", 0, &none, &err), -EINVAL);
        assert_null(none);
        _cleanup_(cas_freep) STACK_OF(X509) *cas = NULL;
        assert_int_equal(rp_evidence_trusted_parse(ca.pem, ca.pem_len, &cas, &err), 0);
        assert_int_equal(sk_X509_num(cas), 1);
        p = policy();
        assert_int_equal(rp_evidence_verify_trusted(ev.d, ev.n, NULL, &p, &c, NULL, &err), -EINVAL);
        assert_string_equal(err.message, "evidence policy: no trusted CA certificates");
        _cleanup_(cas_freep) STACK_OF(X509) *empty = sk_X509_new_null();
        assert_int_equal(rp_evidence_verify_trusted(ev.d, ev.n, empty, &p, &c, NULL, &err), -EINVAL);
        assert_string_equal(err.message, "evidence policy: 0 trusted CA certificates; 1 to 64 are needed");
        for (int i = 0; i < 64; i++) {
                assert_true(X509_up_ref(sk_X509_value(cas, 0)) == 1);
                assert_true(sk_X509_push(cas, sk_X509_value(cas, 0)) > 0);
        }
        assert_int_equal(rp_evidence_verify_trusted(ev.d, ev.n, cas, &p, &c, NULL, &err), -EINVAL);
        assert_string_equal(err.message, "evidence policy: 65 trusted CA certificates; 1 to 64 are needed");
        assert_null(c);
        /* 64 are fine; and the policy's PEM is not read. */
        X509_free(sk_X509_pop(cas));
        p.ca_pem = NULL;
        p.ca_pem_len = 0;
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *ok = NULL;
        assert_int_equal(rp_evidence_verify_trusted(ev.d, ev.n, cas, &p, &ok, NULL, &err), 0);
}

static int failing_signer(void *ctx, const uint8_t digest[32], uint8_t ret_sig[64], rp_error *err) {
        return rp_error_set(err, -EIO, "the TPM went away");
}

static void test_create_refusals(void **state) {
        _cleanup_free_ uint8_t *alias = NULL, *deviceid = NULL;
        size_t alias_len, deviceid_len;
        assert_int_equal(ev_der(dev_a.alias_cert, &alias, &alias_len), 0);
        assert_int_equal(ev_der(dev_a.deviceid_cert, &deviceid, &deviceid_len), 0);
        const rp_evidence_input good = {
                .nonce = NONCE, .nonce_len = sizeof NONCE, .device_id = dev_a.device_id,
                .components = dev_a.components, .components_len = dev_a.components_len, .sw_name = "rampart",
                .sw_version = "0.1.0", .dbgstat = 0, .iat = 0, .rot_backend = "soft", .development = true,
                .alias_der = alias, .alias_der_len = alias_len, .deviceid_der = deviceid,
                .deviceid_der_len = deviceid_len,
        };
        char upper[65];
        snprintf(upper, sizeof upper, "%s", dev_a.device_id);
        for (char *q = upper; *q; q++)
                if (*q >= 'a' && *q <= 'f')
                        *q = (char) (*q - 'a' + 'A');
        static const uint8_t bad_list[] = { 0x81, 0x80 };
        struct {
                rp_evidence_input in;
                const char *what;
        } cases[] = {
                { good, "evidence: the nonce is 7 bytes, it must be 8 to 64" },
                { good, "evidence: the nonce is 0 bytes" },
                { good, "evidence: the nonce is 65 bytes, it must be 8 to 64" },
                { good, "evidence: the device id must be 64 lowercase hex digits" },
                { good, "evidence: the software name must be 1 to 64 printable UTF-8 bytes" },
                { good, "evidence: the device id must be 64 lowercase hex digits" },
                { good, "evidence: the device id must be 64 lowercase hex digits" },
                { good, "evidence: the device id must be 64 lowercase hex digits" },
                { good, "evidence: no components list" },
                { good, "evidence: components: entry 0 is not an array of 3" },
                { good, "evidence: the software name must be 1 to 64 printable UTF-8 bytes" },
                { good, "evidence: the software version must be 1 to 64 printable UTF-8 bytes" },
                { good, "evidence: dbgstat is 5, it must be 0 to 4" },
                { good, "evidence: dbgstat is -1" },
                { good, "evidence: iat is negative" },
                { good, "evidence: the backend name must be 1 to 16 lowercase letters and digits" },
                { good, "evidence: the backend name must be" },
                { good, "evidence: COSE_Sign1: x5chain: certificate 1 is 0 bytes" },
        };
        cases[0].in.nonce_len = 7;
        cases[1].in.nonce = NULL;
        static const uint8_t long_nonce[65];
        cases[2].in.nonce = long_nonce;
        cases[2].in.nonce_len = sizeof long_nonce;
        char longer_id[66];
        snprintf(longer_id, sizeof longer_id, "%s0", dev_a.device_id);
        cases[3].in.device_id = longer_id;
        cases[4].in.sw_name = "rampart-rampart-rampart-rampart-rampart-rampart-rampart-rampart-1";   /* 65 */
        cases[5].in.device_id = upper;
        cases[6].in.device_id = "abc";
        cases[7].in.device_id = NULL;
        cases[8].in.components = NULL;
        cases[9].in.components = bad_list;
        cases[9].in.components_len = sizeof bad_list;
        cases[10].in.sw_name = "";
        cases[11].in.sw_version = "1.0\n";
        cases[12].in.dbgstat = 5;
        cases[13].in.dbgstat = -1;
        cases[14].in.iat = -1;
        cases[15].in.rot_backend = "Soft";
        cases[16].in.rot_backend = NULL;
        cases[17].in.deviceid_der_len = 0;
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                uint8_t *out = (uint8_t *) 0x1;
                size_t len = 5;
                rp_error err = {0};
                if (rp_evidence_create(&cases[i].in, ev_sign_digest, dev_a.alias_key, &out, &len, &err) != -EINVAL)
                        fail_msg("case %zu: %s", i, err.message);
                if (!strstr(err.message, cases[i].what))
                        fail_msg("case %zu: %s", i, err.message);
                assert_ptr_equal(out, (uint8_t *) 0x1);
                assert_int_equal(len, 5);
        }
        uint8_t *out = NULL;
        size_t len;
        rp_error err = {0};
        assert_int_equal(rp_evidence_create(&good, failing_signer, NULL, &out, &len, &err), -EIO);
        assert_string_equal(err.message, "evidence: COSE_Sign1: the TPM went away");
        assert_null(out);
        assert_int_equal(rp_evidence_create(&good, ev_sign_digest, dev_a.alias_key, &out, &len, &err), 0);
        free(out);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_genuine),
                cmocka_unit_test(test_measure_compat),
                cmocka_unit_test(test_replayed_nonce),
                cmocka_unit_test(test_other_device),
                cmocka_unit_test(test_untrusted_ca),
                cmocka_unit_test(test_altered_measurement),
                cmocka_unit_test(test_deviceid_as_alias),
                cmocka_unit_test(test_trust_paths),
                cmocka_unit_test(test_alias_key_types),
                cmocka_unit_test(test_truncated_and_garbage),
                cmocka_unit_test(test_oversized_and_shape),
                cmocka_unit_test(test_wrong_claim_types),
                cmocka_unit_test(test_claims_form),
                cmocka_unit_test(test_missing_claims),
                cmocka_unit_test(test_development_policy),
                cmocka_unit_test(test_policy_refusals),
                cmocka_unit_test(test_create_refusals),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
