/* SPDX-License-Identifier: Apache-2.0 */
/* Deployment documents (rampart/deployment.h): signing and reading back,
 * every refusal of the strict reader (documents assembled by hand, with a
 * CBOR writer independent of lib/core, so that ones the library would never
 * write can be made), and what a device accepts. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "rampart/cose.h"
#include "rampart/deployment.h"
#include "testlib.h"

#define DEVICE "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define OTHER_DEVICE "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
#define TENANT "0123456789abcdef0123456789abcdef"
#define GROUP "fedcba9876543210fedcba9876543210"
#define DEPLOYMENT "aaaaaaaabbbbbbbbccccccccdddddddd"
#define CID_APP "11111111-2222-4333-8444-555555555555"
#define CID_OS "99999999-2222-4333-8444-555555555555"
#define NOW 1700000000u

static rp_key *key, *other_key;

/* --- a CBOR writer of its own --- */

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

/* A head in its shortest form, or in a longer one (long: 1, 2, 4, 8 bytes
 * of argument; 0 for the shortest). */
static void head_form(buf *b, unsigned major, uint64_t v, unsigned long_bytes) {
        uint8_t h[9];
        size_t n = 1;
        unsigned w = long_bytes;
        if (!w)
                w = v < 24 ? 0 : v < 0x100 ? 1 : v < 0x10000 ? 2 : v < 0x100000000 ? 4 : 8;
        if (w == 0) {
                h[0] = (uint8_t) (major << 5 | v);
        } else {
                h[0] = (uint8_t) (major << 5 | (w == 1 ? 24 : w == 2 ? 25 : w == 4 ? 26 : 27));
                for (unsigned i = 0; i < w; i++)
                        h[n++] = (uint8_t) (v >> (8 * (w - 1 - i)));
        }
        put(b, h, n);
}

static void head(buf *b, unsigned major, uint64_t v) {
        head_form(b, major, v, 0);
}

static buf u(uint64_t v) {
        buf b = {};
        head(&b, 0, v);
        return b;
}

static buf neg(uint64_t v) {      /* -1 - v */
        buf b = {};
        head(&b, 1, v);
        return b;
}

static buf t(const char *s) {
        buf b = {};
        head(&b, 3, strlen(s));
        put(&b, s, strlen(s));
        return b;
}

static buf bs(const void *p, size_t n) {
        buf b = {};
        head(&b, 2, n);
        put(&b, p, n);
        return b;
}

static buf nil(void) {
        buf b = {};
        put(&b, "\xf6", 1);
        return b;
}

static buf yes(void) {
        buf b = {};
        put(&b, "\xf5", 1);
        return b;
}

/* A map being assembled: encoded keys and values, written sorted (by the
 * bytes of the key) or in the order given. */
#define OBJ_MAX 20
typedef struct obj {
        size_t n;
        buf key[OBJ_MAX], val[OBJ_MAX];
} obj;

static void obj_done(obj *o) {
        for (size_t i = 0; i < o->n; i++) {
                buf_done(&o->key[i]);
                buf_done(&o->val[i]);
        }
        o->n = 0;
}

/* Sets key to val (taken); a NULL val.d removes the key. */
static void oset(obj *o, const char *name, buf val) {
        buf k = t(name);
        for (size_t i = 0; i < o->n; i++)
                if (o->key[i].n == k.n && memcmp(o->key[i].d, k.d, k.n) == 0) {
                        buf_done(&k);
                        buf_done(&o->val[i]);
                        if (!val.d) {
                                buf_done(&o->key[i]);
                                o->key[i] = o->key[o->n - 1];
                                o->val[i] = o->val[o->n - 1];
                                o->n--;
                        } else {
                                o->val[i] = val;
                        }
                        return;
                }
        if (!val.d) {
                buf_done(&k);
                return;
        }
        assert_true(o->n < OBJ_MAX);
        o->key[o->n] = k;
        o->val[o->n++] = val;
}

/* Adds key again (a duplicate). */
static void oadd(obj *o, const char *name, buf val) {
        assert_true(o->n < OBJ_MAX);
        o->key[o->n] = t(name);
        o->val[o->n++] = val;
}

static int keycmp(const buf *a, const buf *b) {
        size_t n = a->n < b->n ? a->n : b->n;
        int c = memcmp(a->d, b->d, n);
        return c ? c : (a->n > b->n) - (a->n < b->n);
}

static buf obj_enc(const obj *o, bool sorted) {
        size_t idx[OBJ_MAX];
        for (size_t i = 0; i < o->n; i++)
                idx[i] = i;
        for (size_t i = 1; sorted && i < o->n; i++)
                for (size_t j = i; j > 0 && keycmp(&o->key[idx[j - 1]], &o->key[idx[j]]) > 0; j--) {
                        size_t x = idx[j];
                        idx[j] = idx[j - 1];
                        idx[j - 1] = x;
                }
        buf b = {};
        head(&b, 5, o->n);
        for (size_t i = 0; i < o->n; i++) {
                put(&b, o->key[idx[i]].d, o->key[idx[i]].n);
                put(&b, o->val[idx[i]].d, o->val[idx[i]].n);
        }
        return b;
}

/* --- the document being assembled --- */

#define MAX_IMAGES 70
typedef struct doc {
        obj top;
        obj im[MAX_IMAGES];
        size_t n_im;
        bool unsorted;          /* write the keys in the order given */
        bool no_images;         /* leave "images" out */
} doc;

static void digest_of(const char *cid, uint8_t out[32]) {
        for (size_t i = 0; i < 32; i++)
                out[i] = (uint8_t) (cid[i % 8] + i);
}

static void image_fields(obj *o, const char *cid, const char *type, uint64_t version) {
        uint8_t d[32];
        digest_of(cid, d);
        char url[128];
        snprintf(url, sizeof url, "/v1/device/images/%02x%02x", d[0], d[1]);
        oset(o, "component-id", t(cid));
        oset(o, "type", t(type));
        oset(o, "name", t("an image"));
        oset(o, "version", u(version));
        oset(o, "digest", bs(d, 32));
        oset(o, "size", u(12345));
        oset(o, "url", t(url));
}

static buf manages_all(void) {
        buf b = {};
        head(&b, 4, 3);
        buf x[] = { t("app"), t("rt-app"), t("os") };
        for (size_t i = 0; i < 3; i++) {
                put(&b, x[i].d, x[i].n);
                buf_done(&x[i]);
        }
        return b;
}

static buf array_of(const char *const *s, size_t n) {
        buf b = {};
        head(&b, 4, n);
        for (size_t i = 0; i < n; i++) {
                buf x = t(s[i]);
                put(&b, x.d, x.n);
                buf_done(&x);
        }
        return b;
}

static doc base_doc(void) {
        doc d = {};
        oset(&d.top, "format", u(1));
        oset(&d.top, "tenant", t(TENANT));
        oset(&d.top, "device", t(DEVICE));
        oset(&d.top, "device-group", t(GROUP));
        oset(&d.top, "deployment", t(DEPLOYMENT));
        oset(&d.top, "version", u(42));
        oset(&d.top, "issued-at", u(NOW));
        oset(&d.top, "expires-at", u(NOW + 86400));
        oset(&d.top, "policy", t("UpdateAll"));
        oset(&d.top, "manages", manages_all());
        image_fields(&d.im[0], CID_APP, "app", 7);
        image_fields(&d.im[1], CID_OS, "os", 3);
        d.n_im = 2;
        return d;
}

static void doc_done(doc *d) {
        obj_done(&d->top);
        for (size_t i = 0; i < MAX_IMAGES; i++)
                obj_done(&d->im[i]);
}

/* The payload bytes; "images" is written from d->im unless top has it. */
static buf doc_enc(doc *d) {
        obj top = d->top;
        bool own_images = !d->no_images;
        buf k = t("images");
        for (size_t i = 0; i < top.n; i++)
                if (keycmp(&top.key[i], &k) == 0)
                        own_images = false;
        buf_done(&k);
        buf images = {};
        if (own_images) {
                head(&images, 4, d->n_im);
                for (size_t i = 0; i < d->n_im; i++) {
                        buf m = obj_enc(&d->im[i], !d->unsorted);
                        put(&images, m.d, m.n);
                        buf_done(&m);
                }
                assert_true(top.n < OBJ_MAX);
                top.key[top.n] = t("images");
                top.val[top.n++] = images;
        }
        buf out = obj_enc(&top, !d->unsorted);
        if (own_images) {
                buf_done(&top.key[top.n - 1]);
                buf_done(&top.val[top.n - 1]);
        }
        return out;
}

static void check_msg(const rp_error *err, const char *needle) {
        if (!strstr(err->message, needle))
                fail_msg("message '%s' lacks '%s'", err->message, needle);
}

static void expect_parse_fails(doc *d, int code, const char *needle) {
        buf b = doc_enc(d);
        rp_deployment_doc *out = NULL;
        rp_error err = {};
        int r = rp_deployment_doc_parse(b.d, b.n, &out, &err);
        if (r != code)
                fail_msg("expected %d for '%s', got %d: %s", code, needle, r, err.message);
        assert_null(out);
        assert_int_equal(err.code, code);
        check_msg(&err, needle);
        buf_done(&b);
}

static rp_deployment_doc *parse_ok(doc *d) {
        buf b = doc_enc(d);
        rp_deployment_doc *out = NULL;
        rp_error err = {};
        if (rp_deployment_doc_parse(b.d, b.n, &out, &err) < 0)
                fail_msg("refused: %s", err.message);
        buf_done(&b);
        return out;
}

/* --- a document as the library takes it --- */

static rp_deployment_image image_of(const char *cid, rp_image_type type, uint64_t version) {
        rp_deployment_image im = { .type = type, .version = version, .size = 12345 };
        snprintf(im.component_id, sizeof im.component_id, "%s", cid);
        digest_of(cid, im.digest);
        im.name = strdup("an image");
        if (asprintf(&im.url, "/v1/device/images/%02x%02x", im.digest[0], im.digest[1]) < 0)
                im.url = NULL;
        assert_non_null(im.name);
        assert_non_null(im.url);
        return im;
}

static rp_deployment_doc *make_doc(void) {
        rp_deployment_doc *d = calloc(1, sizeof *d);
        assert_non_null(d);
        d->format = RP_DEPLOYMENT_FORMAT;
        snprintf(d->tenant, sizeof d->tenant, TENANT);
        snprintf(d->device, sizeof d->device, DEVICE);
        d->device_group = strdup(GROUP);
        d->deployment = strdup(DEPLOYMENT);
        d->version = 42;
        d->issued_at = NOW;
        d->expires_at = NOW + 86400;
        d->policy = RP_UPDATE_ALL;
        d->manages = rp_update_policy_manages(RP_UPDATE_ALL);
        d->images = calloc(2, sizeof *d->images);
        assert_non_null(d->images);
        d->images[0] = image_of(CID_APP, RP_IMAGE_TYPE_APP, 7);
        d->images[1] = image_of(CID_OS, RP_IMAGE_TYPE_OS, 3);
        d->n_images = 2;
        return d;
}

static buf sign_ok(const rp_deployment_doc *d) {
        buf b = {};
        rp_error err = {};
        if (rp_deployment_doc_sign(d, key, &b.d, &b.n, &err) < 0)
                fail_msg("sign: %s", err.message);
        return b;
}

static void expect_sign_fails(const rp_deployment_doc *d, int code, const char *needle) {
        buf b = {};
        rp_error err = {};
        int r = rp_deployment_doc_sign(d, key, &b.d, &b.n, &err);
        if (r != code)
                fail_msg("sign: expected %d for '%s', got %d: %s", code, needle, r, err.message);
        assert_null(b.d);
        check_msg(&err, needle);
}

static void expect_verify_fails(const buf *b, const rp_key *k, int code, const char *needle) {
        rp_deployment_doc *out = NULL;
        rp_error err = {};
        int r = rp_deployment_doc_verify(b->d, b->n, k, &out, &err);
        if (r != code)
                fail_msg("verify: expected %d for '%s', got %d: %s", code, needle, r, err.message);
        assert_null(out);
        check_msg(&err, needle);
}

static int setup(void **state) {
        if (rp_key_generate(RP_KEY_ES256, &key, NULL) < 0 || rp_key_generate(RP_KEY_ES256, &other_key, NULL) < 0)
                return -1;
        return 0;
}

static int teardown(void **state) {
        rp_key_free(key);
        rp_key_free(other_key);
        return 0;
}

/* --- the tests --- */

static void test_round_trip(void **state) {
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = make_doc();
        buf b = sign_ok(d);
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *v = NULL;
        rp_error err = {};
        if (rp_deployment_doc_verify(b.d, b.n, key, &v, &err) < 0)
                fail_msg("verify: %s", err.message);
        assert_int_equal(v->format, 1);
        assert_string_equal(v->tenant, TENANT);
        assert_string_equal(v->device, DEVICE);
        assert_string_equal(v->device_group, GROUP);
        assert_string_equal(v->deployment, DEPLOYMENT);
        assert_int_equal(v->version, 42);
        assert_int_equal(v->issued_at, NOW);
        assert_int_equal(v->expires_at, NOW + 86400);
        assert_int_equal(v->policy, RP_UPDATE_ALL);
        assert_int_equal(v->manages, d->manages);
        assert_int_equal(v->n_images, 2);
        for (size_t i = 0; i < 2; i++) {
                assert_string_equal(v->images[i].component_id, d->images[i].component_id);
                assert_int_equal(v->images[i].type, d->images[i].type);
                assert_string_equal(v->images[i].name, d->images[i].name);
                assert_int_equal(v->images[i].version, d->images[i].version);
                assert_memory_equal(v->images[i].digest, d->images[i].digest, 32);
                assert_int_equal(v->images[i].size, d->images[i].size);
                assert_string_equal(v->images[i].url, d->images[i].url);
        }
        assert_ptr_equal(rp_deployment_doc_find(v, CID_OS), &v->images[1]);
        assert_null(rp_deployment_doc_find(v, "11111111-2222-4333-8444-000000000000"));

        /* The signed payload is what the hand-made writer produces: one
         * byte form. */
        rp_cose_sign1 *msg = NULL;
        assert_int_equal(rp_cose_sign1_decode(b.d, b.n, &msg, NULL, NULL), 0);
        size_t plen;
        const uint8_t *p = rp_cose_sign1_payload(msg, &plen);
        doc hand = base_doc();
        buf e = doc_enc(&hand);
        assert_int_equal(plen, e.n);
        assert_memory_equal(p, e.d, e.n);
        buf_done(&e);
        doc_done(&hand);
        rp_cose_sign1_free(msg);
        buf_done(&b);

        /* No group, no deployment, no images, another policy. */
        free(d->device_group);
        free(d->deployment);
        d->device_group = d->deployment = NULL;
        d->policy = RP_UPDATE_NONE;
        d->manages = 0;
        for (size_t i = 0; i < d->n_images; i++) {
                free(d->images[i].name);
                free(d->images[i].url);
        }
        d->n_images = 0;
        b = sign_ok(d);
        rp_deployment_doc_free(TAKE_PTR(v));
        assert_int_equal(rp_deployment_doc_verify(b.d, b.n, key, &v, NULL), 0);
        assert_null(v->device_group);
        assert_null(v->deployment);
        assert_int_equal(v->n_images, 0);
        assert_int_equal(v->policy, RP_UPDATE_NONE);
        assert_int_equal(v->manages, 0);
        buf_done(&b);

        /* Ed25519 signs too (the service uses ES256). */
        rp_key *ed = NULL;
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &ed, NULL), 0);
        assert_int_equal(rp_deployment_doc_sign(d, ed, &b.d, &b.n, NULL), 0);
        rp_deployment_doc_free(TAKE_PTR(v));
        assert_int_equal(rp_deployment_doc_verify(b.d, b.n, ed, &v, NULL), 0);
        expect_verify_fails(&b, key, -EKEYREJECTED, "the deployment key");
        buf_done(&b);
        rp_key_free(ed);
}

static void test_policy_names(void **state) {
        rp_update_policy p;
        assert_string_equal(rp_update_policy_name(RP_UPDATE_ALL), "UpdateAll");
        assert_string_equal(rp_update_policy_name(RP_UPDATE_OS_ONLY), "No3rdPartyAppUpdates");
        assert_string_equal(rp_update_policy_name(RP_UPDATE_NONE), "NoUpdates");
        assert_null(rp_update_policy_name(0));
        assert_null(rp_update_policy_name(4));
        assert_int_equal(rp_update_policy_from_name("No3rdPartyAppUpdates", &p), 0);
        assert_int_equal(p, RP_UPDATE_OS_ONLY);
        assert_int_equal(rp_update_policy_from_name("updateall", &p), -EINVAL);
        assert_int_equal(rp_update_policy_from_name(NULL, &p), -EINVAL);
        assert_int_equal(rp_update_policy_manages(RP_UPDATE_ALL), (1u << RP_IMAGE_TYPE_APP) |
                         (1u << RP_IMAGE_TYPE_RT_APP) | (1u << RP_IMAGE_TYPE_OS));
        assert_int_equal(rp_update_policy_manages(RP_UPDATE_OS_ONLY), 1u << RP_IMAGE_TYPE_OS);
        assert_int_equal(rp_update_policy_manages(RP_UPDATE_NONE), 0);
}

static void test_verify_refusals(void **state) {
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = make_doc();
        buf b = sign_ok(d);

        /* Another key: the tenant's deployment key it is not. */
        expect_verify_fails(&b, other_key, -EKEYREJECTED, "does not verify with the deployment key");
        /* One bit of the payload changed. */
        buf m = {};
        put(&m, b.d, b.n);
        m.d[b.n - 70] ^= 1;
        expect_verify_fails(&m, key, -EKEYREJECTED, "does not verify");
        buf_done(&m);
        /* Bytes after the message. */
        put(&m, b.d, b.n);
        put(&m, "\x00", 1);
        expect_verify_fails(&m, key, -EBADMSG, "1 bytes follow the COSE_Sign1");
        buf_done(&m);
        /* Cut short. */
        put(&m, b.d, b.n - 1);
        expect_verify_fails(&m, key, -EBADMSG, "deployment document: ");
        buf_done(&m);
        expect_verify_fails(&m, key, -EBADMSG, "empty");

        /* The same payload under another content type (an image manifest's),
         * or none: a signature by the right key over something else. */
        rp_cose_sign1 *msg = NULL;
        assert_int_equal(rp_cose_sign1_decode(b.d, b.n, &msg, NULL, NULL), 0);
        size_t plen;
        const uint8_t *p = rp_cose_sign1_payload(msg, &plen);
        assert_int_equal(rp_cose_sign1_create(key, RP_PACKAGE_CONTENT_TYPE, p, plen, NULL, 0, &m.d, &m.n, NULL), 0);
        expect_verify_fails(&m, key, -EOPNOTSUPP, "content type is '" RP_PACKAGE_CONTENT_TYPE "', expected "
                            RP_DEPLOYMENT_CONTENT_TYPE);
        buf_done(&m);
        assert_int_equal(rp_cose_sign1_create(key, NULL, p, plen, NULL, 0, &m.d, &m.n, NULL), 0);
        expect_verify_fails(&m, key, -EINVAL, "has no content type");
        buf_done(&m);

        /* A payload the key signed that the parser refuses comes out as the
         * parser's refusal, after the signature. */
        doc x = base_doc();
        oset(&x.top, "extra", u(1));
        buf e = doc_enc(&x);
        assert_int_equal(rp_cose_sign1_create(key, RP_DEPLOYMENT_CONTENT_TYPE, e.d, e.n, NULL, 0, &m.d, &m.n, NULL), 0);
        expect_verify_fails(&m, key, -EINVAL, "unknown field \"extra\"");
        /* ... while with the wrong key the signature is what is reported. */
        expect_verify_fails(&m, other_key, -EKEYREJECTED, "does not verify");
        buf_done(&m);
        buf_done(&e);
        doc_done(&x);
        rp_cose_sign1_free(msg);
        buf_done(&b);
}

static void test_parse_fields(void **state) {
        doc d;
#define REFUSE(code, needle, ...)                       \
        do {                                            \
                d = base_doc();                         \
                __VA_ARGS__;                            \
                expect_parse_fails(&d, code, needle);   \
                doc_done(&d);                           \
        } while (0)

        /* The baseline parses. */
        d = base_doc();
        rp_deployment_doc_free(parse_ok(&d));
        doc_done(&d);

        /* Unknown and missing keys. */
        REFUSE(-EINVAL, "unknown field \"extra\" (format 1 has no such field)", oset(&d.top, "extra", u(1)));
        REFUSE(-EINVAL, "images[1]: unknown field \"signature\"", oset(&d.im[1], "signature", u(1)));
        static const char *const top_fields[] = { "tenant", "device", "device-group", "deployment", "version",
                                                  "issued-at", "expires-at", "policy", "manages", "images" };
        for (size_t i = 0; i < ELEMENTSOF(top_fields); i++) {
                char needle[64];
                snprintf(needle, sizeof needle, "field \"%s\" is missing", top_fields[i]);
                d = base_doc();
                d.no_images = streq(top_fields[i], "images");
                oset(&d.top, top_fields[i], (buf) {});
                expect_parse_fails(&d, -EINVAL, needle);
                doc_done(&d);
        }
        REFUSE(-EINVAL, "field \"format\" is missing", oset(&d.top, "format", (buf) {}));
        static const char *const image_fields_all[] = { "component-id", "type", "name", "version", "digest", "size",
                                                        "url" };
        for (size_t i = 0; i < ELEMENTSOF(image_fields_all); i++) {
                char needle[64];
                snprintf(needle, sizeof needle, "images[0]: field \"%s\" is missing", image_fields_all[i]);
                REFUSE(-EINVAL, needle, oset(&d.im[0], image_fields_all[i], (buf) {}));
        }

        /* Duplicate keys, at either level. */
        REFUSE(-EINVAL, "field \"version\" appears twice", oadd(&d.top, "version", u(42)));
        REFUSE(-EINVAL, "images[0]: field \"size\" appears twice", oadd(&d.im[0], "size", u(12345)));

        /* The format: another version says so even with fields we do not know. */
        REFUSE(-EOPNOTSUPP, "format version 2 is not supported (this rampart reads format 1)",
               oset(&d.top, "format", u(2)); oset(&d.top, "new-field", u(0)));
        REFUSE(-EINVAL, "field \"format\": must be an unsigned integer, not a text string",
               oset(&d.top, "format", t("1")));

        /* Types. */
        REFUSE(-EINVAL, "field \"tenant\": must be a text string, not an integer", oset(&d.top, "tenant", u(5)));
        REFUSE(-EINVAL, "field \"tenant\": must be 1 to 64 lowercase hex digits",
               oset(&d.top, "tenant", t("0123456789ABCDEF")));
        REFUSE(-EINVAL, "field \"tenant\": is empty", oset(&d.top, "tenant", t("")));
        REFUSE(-EINVAL, "field \"tenant\": must be a text string", oset(&d.top, "tenant", nil()));
        REFUSE(-EINVAL, "field \"device\": must be 64 lowercase hex digits", oset(&d.top, "device", t("00112233")));
        REFUSE(-EINVAL, "field \"device\": must be a text string, not a byte string",
               oset(&d.top, "device", bs("\x00\x11", 2)));
        REFUSE(-EINVAL, "field \"device-group\": must be a text string or null, not a boolean",
               oset(&d.top, "device-group", yes()));
        REFUSE(-EINVAL, "field \"deployment\": must be 1 to 64 lowercase hex digits",
               oset(&d.top, "deployment", t("not-an-id")));
        REFUSE(-EFBIG, "field \"deployment\": is 65 bytes, the limit is 64",
               oset(&d.top, "deployment", t("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0")));
        REFUSE(-EINVAL, "field \"version\": must be an unsigned integer, not a text string",
               oset(&d.top, "version", t("42")));
        REFUSE(-ERANGE, "field \"version\": is negative", oset(&d.top, "version", neg(0)));
        REFUSE(-ERANGE, "field \"issued-at\": 9223372036854775808 is larger than the limit",
               oset(&d.top, "issued-at", u(UINT64_C(1) << 63)));
        REFUSE(-EINVAL, "expires-at (1700000000) is not after issued-at (1700000000)",
               oset(&d.top, "expires-at", u(NOW)));
        REFUSE(-EINVAL, "field \"policy\": unknown update policy 'Sometimes'", oset(&d.top, "policy", t("Sometimes")));
        REFUSE(-EINVAL, "field \"policy\": must be a text string, not an integer", oset(&d.top, "policy", u(1)));
        REFUSE(-EINVAL, "field \"manages\": must be an array, not a text string", oset(&d.top, "manages", t("os")));
        REFUSE(-EINVAL, "field \"manages\": does not match the policy UpdateAll",
               oset(&d.top, "manages", array_of((const char *[]) { "app", "os" }, 2)));
        REFUSE(-EINVAL, "field \"manages\": not in the order app, rt-app, os",
               oset(&d.top, "manages", array_of((const char *[]) { "os", "app", "rt-app" }, 3)));
        REFUSE(-EINVAL, "field \"manages\": os appears twice",
               oset(&d.top, "manages", array_of((const char *[]) { "os", "os" }, 2)));
        REFUSE(-EINVAL, "field \"manages\"[0]: unknown image type 'firmware'",
               oset(&d.top, "manages", array_of((const char *[]) { "firmware" }, 1)));
        REFUSE(-EINVAL, "field \"images\": must be an array, not a map", oset(&d.top, "images", obj_enc(&d.im[0], true)));
        REFUSE(-EINVAL, "images[0]: must be a map, not an integer", oset(&d.top, "images", ({
                buf a = {};
                head(&a, 4, 1);
                head(&a, 0, 7);
                a;
        })));
        REFUSE(-EINVAL, "images[0]: field \"component-id\": 'not-a-guid' is not a lowercase GUID",
               oset(&d.im[0], "component-id", t("not-a-guid")));
        REFUSE(-EINVAL, "is not a lowercase GUID", oset(&d.im[0], "component-id", t("11111111-2222-4333-8444-55555555555A")));
        REFUSE(-EINVAL, "images[1]: field \"type\": unknown image type 'firmware'",
               oset(&d.im[1], "type", t("firmware")));
        REFUSE(-EINVAL, "images[0]: field \"name\": is not printable", oset(&d.im[0], "name", t("a\x1b[2Jb")));
        REFUSE(-EINVAL, "images[0]: field \"name\": must be a text string", oset(&d.im[0], "name", u(1)));
        REFUSE(-ERANGE, "images[0]: field \"version\": 4294967296 is larger than the limit of 4294967295",
               oset(&d.im[0], "version", u(UINT64_C(1) << 32)));
        REFUSE(-EINVAL, "images[0]: field \"digest\": is 31 bytes, a SHA-256 digest is 32",
               oset(&d.im[0], "digest", bs("0123456789012345678901234567890", 31)));
        REFUSE(-EINVAL, "images[0]: field \"digest\": must be a byte string, not a text string",
               oset(&d.im[0], "digest", t("00")));
        REFUSE(-EINVAL, "images[0]: field \"size\": is 0", oset(&d.im[0], "size", u(0)));
        REFUSE(-EFBIG, "images[0]: field \"size\": 1074790401 is larger than the limit of 1074790400",
               oset(&d.im[0], "size", u((UINT64_C(1) << 30) + (1 << 20) + 1)));
        REFUSE(-EINVAL, "images[0]: field \"url\": must be a path on the service",
               oset(&d.im[0], "url", t("https://elsewhere/x")));
        REFUSE(-EINVAL, "images[0]: field \"url\": must be a path on the service",
               oset(&d.im[0], "url", t("/v1/device/images/a b")));

        /* Sizes. */
        char long_name[RP_PACKAGE_NAME_MAX + 2];
        memset(long_name, 'x', sizeof long_name - 1);
        long_name[sizeof long_name - 1] = '\0';
        REFUSE(-EFBIG, "images[0]: field \"name\": is 257 bytes, the limit is 256",
               oset(&d.im[0], "name", t(long_name)));
        char long_url[RP_DEPLOYMENT_URL_MAX + 2];
        memset(long_url, 'u', sizeof long_url - 1);
        long_url[0] = '/';
        long_url[sizeof long_url - 1] = '\0';
        REFUSE(-EFBIG, "images[0]: field \"url\": is 513 bytes, the limit is 512", oset(&d.im[0], "url", t(long_url)));
#undef REFUSE
}

static void test_parse_images(void **state) {
        doc d = base_doc();

        /* Sorted by component id, each once. */
        obj tmp = d.im[0];
        d.im[0] = d.im[1];
        d.im[1] = tmp;
        expect_parse_fails(&d, -EINVAL, "images[1]: not sorted by component-id (" CID_APP " comes after " CID_OS ")");
        doc_done(&d);

        d = base_doc();
        oset(&d.im[1], "component-id", t(CID_APP));
        expect_parse_fails(&d, -EINVAL, "images[1]: component " CID_APP " appears twice");
        doc_done(&d);

        /* Every image of a type the policy manages. */
        d = base_doc();
        oset(&d.top, "policy", t("No3rdPartyAppUpdates"));
        oset(&d.top, "manages", array_of((const char *[]) { "os" }, 1));
        expect_parse_fails(&d, -EINVAL, "images[0]: an app image, which the policy No3rdPartyAppUpdates does not "
                           "manage");
        d.n_im = 0;
        image_fields(&d.im[0], CID_OS, "os", 1);
        obj_done(&d.im[1]);
        d.n_im = 1;
        rp_deployment_doc *ok = parse_ok(&d);
        assert_int_equal(ok->policy, RP_UPDATE_OS_ONLY);
        rp_deployment_doc_free(ok);
        doc_done(&d);

        d = base_doc();
        oset(&d.top, "policy", t("NoUpdates"));
        oset(&d.top, "manages", array_of(NULL, 0));
        expect_parse_fails(&d, -EINVAL, "images[0]: an app image, which the policy NoUpdates does not manage");
        obj_done(&d.im[0]);
        obj_done(&d.im[1]);
        d.n_im = 0;
        rp_deployment_doc_free(parse_ok(&d));
        doc_done(&d);

        /* At most 64 images. */
        d = base_doc();
        obj_done(&d.im[0]);
        obj_done(&d.im[1]);
        for (size_t i = 0; i < RP_DEPLOYMENT_MAX_IMAGES + 1; i++) {
                char cid[40];
                snprintf(cid, sizeof cid, "11111111-2222-4333-8444-%012zx", i);
                image_fields(&d.im[i], cid, "app", 1);
        }
        d.n_im = RP_DEPLOYMENT_MAX_IMAGES;
        rp_deployment_doc *full = parse_ok(&d);
        assert_int_equal(full->n_images, RP_DEPLOYMENT_MAX_IMAGES);
        rp_deployment_doc_free(full);
        d.n_im = RP_DEPLOYMENT_MAX_IMAGES + 1;
        expect_parse_fails(&d, -EFBIG, "field \"images\": 65 images, the limit is 64");
        doc_done(&d);
}

static void test_parse_encoding(void **state) {
        /* Keys out of order. */
        doc d = base_doc();
        d.unsorted = true;
        expect_parse_fails(&d, -EINVAL, "not in deterministic CBOR encoding");
        doc_done(&d);

        /* An integer in a longer form than needed. */
        d = base_doc();
        buf v = {};
        head_form(&v, 0, 42, 2);
        oset(&d.top, "version", v);
        expect_parse_fails(&d, -EINVAL, "not in deterministic CBOR encoding");
        doc_done(&d);
        d = base_doc();
        v = (buf) {};
        head_form(&v, 0, 7, 8);
        oset(&d.im[0], "version", v);
        expect_parse_fails(&d, -EINVAL, "not in deterministic CBOR encoding");
        doc_done(&d);

        /* A text length in a longer form. */
        d = base_doc();
        v = (buf) {};
        head_form(&v, 3, strlen(TENANT), 2);
        put(&v, TENANT, strlen(TENANT));
        oset(&d.top, "tenant", v);
        expect_parse_fails(&d, -EINVAL, "not in deterministic CBOR encoding");
        doc_done(&d);

        /* Indefinite lengths are not CBOR we read. */
        d = base_doc();
        v = (buf) {};
        put(&v, "\x7f\x61" "a\xff", 4);
        oset(&d.im[0], "name", v);
        expect_parse_fails(&d, -EINVAL, "deployment document: ");
        doc_done(&d);

        /* Not a map; trailing bytes; truncated; too large. */
        rp_error err = {};
        rp_deployment_doc *out = NULL;
        assert_int_equal(rp_deployment_doc_parse((const uint8_t *) "\x80", 1, &out, &err), -EINVAL);
        check_msg(&err, "must be a CBOR map, not an array");
        d = base_doc();
        buf b = doc_enc(&d);
        put(&b, "\x00", 1);
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_parse(b.d, b.n, &out, &err), -EBADMSG);
        check_msg(&err, "1 bytes follow the document's map");
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_parse(b.d, b.n - 2, &out, &err), -EBADMSG);
        buf_done(&b);
        doc_done(&d);
        assert_null(out);

        uint8_t *big = calloc(1, 256 * 1024 + 1);
        assert_non_null(big);
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_parse(big, 256 * 1024 + 1, &out, &err), -EFBIG);
        check_msg(&err, "262145 bytes, the limit is 262144");
        free(big);
}

static void test_sign_refuses(void **state) {
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = make_doc();

        /* Images out of order, twice, of a type not managed. */
        rp_deployment_image tmp = d->images[0];
        d->images[0] = d->images[1];
        d->images[1] = tmp;
        expect_sign_fails(d, -EINVAL, "not sorted by component-id");
        tmp = d->images[0];
        d->images[0] = d->images[1];
        d->images[1] = tmp;
        d->policy = RP_UPDATE_OS_ONLY;
        d->manages = rp_update_policy_manages(d->policy);
        expect_sign_fails(d, -EINVAL, "an app image, which the policy No3rdPartyAppUpdates does not manage");
        d->policy = RP_UPDATE_ALL;
        expect_sign_fails(d, -EINVAL, "does not match the policy UpdateAll");
        d->manages = rp_update_policy_manages(d->policy);
        d->policy = 7;
        expect_sign_fails(d, -EINVAL, "field \"policy\": must be a text string");
        d->policy = RP_UPDATE_ALL;

        d->format = 2;
        expect_sign_fails(d, -EOPNOTSUPP, "format version 2");
        d->format = 1;
        d->expires_at = d->issued_at;
        expect_sign_fails(d, -EINVAL, "is not after issued-at");
        d->expires_at = d->issued_at + 1;
        d->device[10] = 'X';
        expect_sign_fails(d, -EINVAL, "field \"device\": must be 64 lowercase hex digits");
        d->device[10] = '5';
        d->images[0].type = 9;
        expect_sign_fails(d, -EINVAL, "images[0]: field \"type\": must be a text string");
        d->images[0].type = RP_IMAGE_TYPE_APP;
        char *name = d->images[0].name;
        d->images[0].name = NULL;
        expect_sign_fails(d, -EINVAL, "a text field is missing");
        d->images[0].name = name;
        d->n_images = RP_DEPLOYMENT_MAX_IMAGES + 1;
        expect_sign_fails(d, -EFBIG, "65 images, the limit is 64");
        d->n_images = 2;

        /* A public key cannot sign. */
        buf b = sign_ok(d);
        buf_done(&b);
}

static void test_accept(void **state) {
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = make_doc(), *last = make_doc();
        rp_error err = {};

        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, NULL, NULL), 0);
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW + 86399, last, NULL), 0);

        /* Mix and match: a document for another device. */
        assert_int_equal(rp_deployment_doc_accept(d, OTHER_DEVICE, NOW, NULL, &err), -EXDEV);
        check_msg(&err, "a document for another device");
        assert_int_equal(rp_deployment_doc_accept(d, NULL, NOW, NULL, NULL), -EXDEV);

        /* Freeze: expired; and one from the future beyond the clock skew. */
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW + 86400, NULL, &err), -ETIME);
        check_msg(&err, "expired at 1700086400");
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW - 300, NULL, NULL), 0);
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW - 301, NULL, &err), -ETIME);
        check_msg(&err, "301 seconds in the future");

        /* Rollback: an older version. */
        last->version = 43;
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, &err), -ESTALE);
        check_msg(&err, "version 42 is older than version 43");
        last->version = 41;
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, NULL), 0);

        /* The same version: the same images (issued again later is fine),
         * never others. */
        last->version = 42;
        last->issued_at = NOW - 5000;
        last->expires_at = NOW - 1;
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, NULL), 0);
        last->images[1].version = 2;
        rp_error_clear(&err);
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, &err), -ESTALE);
        check_msg(&err, "version 42 was accepted before with other images");
        last->images[1].version = 3;
        last->images[0].digest[5] ^= 1;
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, NULL), -ESTALE);
        last->images[0].digest[5] ^= 1;
        last->n_images = 1;
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, NULL), -ESTALE);
        last->n_images = 2;
        last->manages = 1u << RP_IMAGE_TYPE_OS;
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, NULL), -ESTALE);
        last->manages = d->manages;
        assert_int_equal(rp_deployment_doc_accept(d, DEVICE, NOW, last, NULL), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_policy_names),
                cmocka_unit_test(test_verify_refusals),
                cmocka_unit_test(test_parse_fields),
                cmocka_unit_test(test_parse_images),
                cmocka_unit_test(test_parse_encoding),
                cmocka_unit_test(test_sign_refuses),
                cmocka_unit_test(test_accept),
        };
        return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
