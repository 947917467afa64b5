/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "package-fixtures.h"
#include "package/erofs.h"
#include "rampart/cose.h"
#include "testlib.h"

rp_key *es256, *es256_other, *ed25519;
uint8_t image[8192];          /* a stand-in erofs image: the magic and a pattern */
uint8_t os_image[5000];

int package_fixtures_setup(void **state) {
        rp_error err = {0};
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &es256, &err), 0);
        assert_int_equal(rp_key_generate(RP_KEY_ES256, &es256_other, &err), 0);
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &ed25519, &err), 0);
        for (size_t i = 0; i < sizeof image; i++)
                image[i] = (uint8_t) (i * 7 + 3);
        static const uint8_t magic[4] = { 0xe2, 0xe1, 0xf5, 0xe0 };
        memcpy(image + RP_EROFS_SUPER_OFFSET, magic, 4);
        for (size_t i = 0; i < sizeof os_image; i++)
                os_image[i] = (uint8_t) (i * 13 + 1);
        return 0;
}

int package_fixtures_teardown(void **state) {
        rp_key_free(es256);
        rp_key_free(es256_other);
        rp_key_free(ed25519);
        return 0;
}

/* The manifest of `image`, as an app. */
rp_package_manifest app_manifest(void) {
        rp_package_manifest m = {
                .format = RP_PACKAGE_FORMAT,
                .component_id = CID,
                .type = RP_IMAGE_TYPE_APP,
                .name = (char *) "test-app",
                .version = 7,
                .version_name = (char *) "1.2.3",
                .image_size = sizeof image,
                .app_manifest = (char *) APP_JSON,
                .app_manifest_len = strlen(APP_JSON),
                .build_time = 1700000000,
        };
        assert_int_equal(rp_sha256(image, sizeof image, m.image_sha256), 0);
        return m;
}

/* --- assembling packages by hand --- */


void bytes_done(bytes *b) {
        free(b->d);
        *b = (bytes) {};
}

void append(bytes *b, const void *p, size_t n) {
        b->d = realloc(b->d, b->n + n + 1);
        assert_non_null(b->d);
        if (n)
                memcpy(b->d + b->n, p, n);
        b->n += n;
}

/* COSE_Sign1(payload) signed by key with content type ct, then img. */
bytes sign_and_append(const rp_key *key, const char *ct, const uint8_t *payload, size_t plen,
                             const uint8_t *img, size_t ilen) {
        rp_error err = {0};
        uint8_t *cose = NULL;
        size_t cose_len = 0;
        if (rp_cose_sign1_create(key, ct, payload, plen, NULL, 0, &cose, &cose_len, &err) < 0)
                fail_msg("sign: %s", err.message);
        bytes b = {};
        append(&b, cose, cose_len);
        append(&b, img, ilen);
        free(cose);
        return b;
}

/* A valid package of m (encoded by the library) with image bytes img. */
bytes make_package(const rp_key *key, const rp_package_manifest *m, const uint8_t *img, size_t ilen) {
        rp_error err = {0};
        uint8_t *payload = NULL;
        size_t plen = 0;
        if (rp_package_manifest_encode(m, &payload, &plen, &err) < 0)
                fail_msg("encode: %s", err.message);
        bytes b = sign_and_append(key, RP_PACKAGE_CONTENT_TYPE, payload, plen, img, ilen);
        free(payload);
        return b;
}

/* Field lists, for manifests the library would never write. */

void fields_done(fields *f) {
        for (size_t i = 0; i < f->n; i++) {
                cbor_decref(&f->key[i]);
                cbor_decref(&f->val[i]);
        }
        f->n = 0;
}

bool key_is(const cbor_item_t *k, const char *name) {
        return cbor_isa_string(k) && cbor_string_length(k) == strlen(name) &&
               memcmp(cbor_string_handle(k), name, strlen(name)) == 0;
}

/* Replaces (or adds) name -> val; val NULL removes name. */
void fset(fields *f, const char *name, cbor_item_t *val) {
        for (size_t i = 0; i < f->n; i++)
                if (key_is(f->key[i], name)) {
                        cbor_decref(&f->val[i]);
                        if (val)
                                f->val[i] = val;
                        else {
                                cbor_decref(&f->key[i]);
                                f->key[i] = f->key[f->n - 1];
                                f->val[i] = f->val[f->n - 1];
                                f->n--;
                        }
                        return;
                }
        if (!val)
                return;
        assert_true(f->n < MAXF);
        f->key[f->n] = rp_cbor_text(name);
        f->val[f->n++] = val;
}

fields app_fields(void) {
        rp_package_manifest m = app_manifest();
        fields f = {};
        fset(&f, "format", rp_cbor_uint(1));
        fset(&f, "component-id", rp_cbor_text(m.component_id));
        fset(&f, "type", rp_cbor_text("app"));
        fset(&f, "name", rp_cbor_text(m.name));
        fset(&f, "version", rp_cbor_uint(m.version));
        fset(&f, "version-name", rp_cbor_text(m.version_name));
        fset(&f, "image-size", rp_cbor_uint(m.image_size));
        fset(&f, "image-sha256", rp_cbor_bytes(m.image_sha256, RP_SHA256_LEN));
        fset(&f, "app-manifest", rp_cbor_text(m.app_manifest));
        fset(&f, "build-time", rp_cbor_uint(m.build_time));
        return f;
}

/* Encodes the fields deterministically (the fields are consumed). */
bytes fields_encode(fields *f) {
        cbor_item_t *map = cbor_new_definite_map(f->n);
        assert_non_null(map);
        for (size_t i = 0; i < f->n; i++)
                assert_int_equal(rp_cbor_map_put(map, f->key[i], f->val[i]), 0);
        f->n = 0;
        uint8_t *buf = NULL;
        size_t len = 0;
        rp_error err = {0};
        if (rp_cbor_encode(map, &buf, &len, &err) < 0)
                fail_msg("encode: %s", err.message);
        cbor_decref(&map);
        return (bytes) { buf, len };
}

/* --- expectations --- */

void check_msg(const rp_error *err, const char *needle) {
        if (needle && !strstr(err->message, needle))
                fail_msg("message '%s' lacks '%s'", err->message, needle);
}

void expect_open_fails(const bytes *b, int code, const char *needle) {
        rp_package *p = NULL;
        rp_error err = {0};
        int r = rp_package_open_buffer(b->d, b->n, &p, &err);
        if (r != code)
                fail_msg("open: expected %d, got %d (%s)", code, r, err.message);
        assert_null(p);
        assert_int_equal(err.code, code);
        check_msg(&err, needle);
}

void expect_verify_fails(const bytes *b, const rp_key *key, int code, const char *needle) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error err = {0};
        int r = rp_package_open_buffer(b->d, b->n, &p, &err);
        if (r < 0)
                fail_msg("open failed unexpectedly: %s", err.message);
        r = rp_package_verify(p, key, &err);
        if (r != code)
                fail_msg("verify: expected %d, got %d (%s)", code, r, err.message);
        check_msg(&err, needle);
}

void expect_verify_ok(const bytes *b, const rp_key *key) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error err = {0};
        if (rp_package_open_buffer(b->d, b->n, &p, &err) < 0 || rp_package_verify(p, key, &err) < 0)
                fail_msg("expected a valid package: %s", err.message);
}

/* A manifest from fields, signed properly: its refusal is the manifest's. */
void expect_fields_refused(fields *f, int code, const char *needle) {
        bytes payload = fields_encode(f);
        bytes pkg = sign_and_append(es256, RP_PACKAGE_CONTENT_TYPE, payload.d, payload.n, image, sizeof image);
        expect_open_fails(&pkg, code, needle);

        /* The parser alone says the same. */
        rp_package_manifest *m = NULL;
        rp_error err = {0};
        assert_int_equal(rp_package_manifest_parse(payload.d, payload.n, &m, &err), code);
        assert_null(m);
        bytes_done(&payload);
        bytes_done(&pkg);
}

/* --- tests --- */
