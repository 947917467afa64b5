/* SPDX-License-Identifier: Apache-2.0 */
/* Image packages: round trips, and every way a package is refused. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cbor.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "package/erofs.h"
#include "rampart/cose.h"
#include "rampart/package.h"
#include "testlib.h"

#define CID "5e7f1c52-0b8a-4d0f-9b7e-6a1c2d3e4f50"
#define APP_JSON                                                                         \
        "{\n  \"SchemaVersion\": 1,\n  \"Name\": \"test-app\",\n"                         \
        "  \"ComponentId\": \"" CID "\",\n  \"EntryPoint\": \"/bin/app\",\n"              \
        "  \"CmdArgs\": [],\n  \"Capabilities\": {},\n  \"ApplicationType\": \"Default\"\n}\n"
#define RT_JSON                                                                          \
        "{\n  \"SchemaVersion\": 1,\n  \"Name\": \"test-rt\",\n"                          \
        "  \"ComponentId\": \"" CID "\",\n  \"EntryPoint\": \"/bin/app\",\n"              \
        "  \"CmdArgs\": [],\n  \"Capabilities\": {},\n  \"ApplicationType\": \"RealTimeCapable\"\n}\n"

static rp_key *es256, *es256_other, *ed25519;
static uint8_t image[8192];          /* a stand-in erofs image: the magic and a pattern */
static uint8_t os_image[5000];

static int setup(void **state) {
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

static int teardown(void **state) {
        rp_key_free(es256);
        rp_key_free(es256_other);
        rp_key_free(ed25519);
        return 0;
}

/* The manifest of `image`, as an app. */
static rp_package_manifest app_manifest(void) {
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

typedef struct bytes {
        uint8_t *d;
        size_t n;
} bytes;

static void bytes_done(bytes *b) {
        free(b->d);
        *b = (bytes) {};
}

static void append(bytes *b, const void *p, size_t n) {
        b->d = realloc(b->d, b->n + n + 1);
        assert_non_null(b->d);
        if (n)
                memcpy(b->d + b->n, p, n);
        b->n += n;
}

/* COSE_Sign1(payload) signed by key with content type ct, then img. */
static bytes sign_and_append(const rp_key *key, const char *ct, const uint8_t *payload, size_t plen,
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
static bytes make_package(const rp_key *key, const rp_package_manifest *m, const uint8_t *img, size_t ilen) {
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
#define MAXF 16
typedef struct fields {
        size_t n;
        cbor_item_t *key[MAXF];
        cbor_item_t *val[MAXF];
} fields;

static void fields_done(fields *f) {
        for (size_t i = 0; i < f->n; i++) {
                cbor_decref(&f->key[i]);
                cbor_decref(&f->val[i]);
        }
        f->n = 0;
}

static bool key_is(const cbor_item_t *k, const char *name) {
        return cbor_isa_string(k) && cbor_string_length(k) == strlen(name) &&
               memcmp(cbor_string_handle(k), name, strlen(name)) == 0;
}

/* Replaces (or adds) name -> val; val NULL removes name. */
static void fset(fields *f, const char *name, cbor_item_t *val) {
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

static fields app_fields(void) {
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
static bytes fields_encode(fields *f) {
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

static void check_msg(const rp_error *err, const char *needle) {
        if (needle && !strstr(err->message, needle))
                fail_msg("message '%s' lacks '%s'", err->message, needle);
}

static void expect_open_fails(const bytes *b, int code, const char *needle) {
        rp_package *p = NULL;
        rp_error err = {0};
        int r = rp_package_open_buffer(b->d, b->n, &p, &err);
        if (r != code)
                fail_msg("open: expected %d, got %d (%s)", code, r, err.message);
        assert_null(p);
        assert_int_equal(err.code, code);
        check_msg(&err, needle);
}

static void expect_verify_fails(const bytes *b, const rp_key *key, int code, const char *needle) {
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

static void expect_verify_ok(const bytes *b, const rp_key *key) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error err = {0};
        if (rp_package_open_buffer(b->d, b->n, &p, &err) < 0 || rp_package_verify(p, key, &err) < 0)
                fail_msg("expected a valid package: %s", err.message);
}

/* A manifest from fields, signed properly: its refusal is the manifest's. */
static void expect_fields_refused(fields *f, int code, const char *needle) {
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

static void test_round_trip_file(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *img_path = test_path(dir, "rt.img"), *pkg_path = test_path(dir, "rt.imagepackage"),
                            *out_path = test_path(dir, "rt.extracted");
        test_write_file(img_path, image, sizeof image);
        rp_package_manifest m = app_manifest();
        rp_error err = {0};

        int fd = open(img_path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        if (rp_package_write(pkg_path, &m, es256, fd, &err) < 0)
                fail_msg("write: %s", err.message);
        close(fd);

        _cleanup_(rp_package_freep) rp_package *p = NULL;
        if (rp_package_open_unverified(pkg_path, &p, &err) < 0)
                fail_msg("open: %s", err.message);
        const rp_package_manifest *got = rp_package_unverified_manifest(p);
        assert_int_equal(got->format, 1);
        assert_string_equal(got->component_id, CID);
        assert_int_equal(got->type, RP_IMAGE_TYPE_APP);
        assert_string_equal(got->name, "test-app");
        assert_int_equal(got->version, 7);
        assert_string_equal(got->version_name, "1.2.3");
        assert_int_equal(got->image_size, sizeof image);
        assert_memory_equal(got->image_sha256, m.image_sha256, RP_SHA256_LEN);
        assert_int_equal(got->app_manifest_len, strlen(APP_JSON));
        assert_string_equal(got->app_manifest, APP_JSON);
        assert_int_equal(got->build_time, 1700000000);
        assert_int_equal(rp_package_alg(p), RP_COSE_ALG_ES256);
        size_t kid_len;
        const uint8_t *kid = rp_package_kid(p, &kid_len);
        uint8_t id[RP_KEY_ID_LEN];
        rp_key_id(es256, id);
        assert_int_equal(kid_len, RP_KEY_ID_LEN);
        assert_memory_equal(kid, id, RP_KEY_ID_LEN);
        assert_int_equal(rp_package_image_bytes(p), sizeof image);

        /* The public half of a private key file verifies. */
        _cleanup_free_ char *key_path = test_path(dir, "rt.key");
        assert_int_equal(rp_key_save_private(es256, key_path, &err), 0);
        _cleanup_(rp_key_freep) rp_key *pub = NULL;
        if (rp_key_load_public(key_path, &pub, &err) < 0)
                fail_msg("load the public half: %s", err.message);
        assert_false(rp_key_is_private(pub));
        assert_int_equal(rp_package_verify(p, pub, &err), 0);
        const rp_package_manifest *verified = NULL;
        assert_int_equal(rp_package_get_manifest(p, &verified, &err), 0);
        assert_ptr_equal(verified, got);
        if (rp_package_extract_image(p, out_path, &err) < 0)
                fail_msg("extract: %s", err.message);
        size_t len;
        _cleanup_free_ uint8_t *out = test_read_file(out_path, &len);
        assert_int_equal(len, sizeof image);
        assert_memory_equal(out, image, len);

        /* The file is the COSE item followed by the image, nothing else. */
        _cleanup_free_ uint8_t *all = test_read_file(pkg_path, &len);
        uint64_t off = 0;
        assert_int_equal(rp_package_image_offset(p, &off, &err), 0);
        assert_int_equal(len, off + sizeof image);
        assert_memory_equal(all + off, image, sizeof image);
        assert_int_equal(all[0], 0xd2);
}

static void test_round_trip_variants(void **state) {
        /* Ed25519, an rt-app, an os image, no version-name. */
        rp_package_manifest m = app_manifest();
        bytes b = make_package(ed25519, &m, image, sizeof image);
        expect_verify_ok(&b, ed25519);
        /* Ed25519 signatures are deterministic: the same package again. */
        bytes b2 = make_package(ed25519, &m, image, sizeof image);
        assert_int_equal(b.n, b2.n);
        assert_memory_equal(b.d, b2.d, b.n);
        bytes_done(&b);
        bytes_done(&b2);

        m.type = RP_IMAGE_TYPE_RT_APP;
        m.name = (char *) "test-rt";
        m.app_manifest = (char *) RT_JSON;
        m.app_manifest_len = strlen(RT_JSON);
        m.version_name = NULL;
        b = make_package(es256, &m, image, sizeof image);
        expect_verify_ok(&b, es256);
        bytes_done(&b);

        rp_package_manifest os = {
                .format = 1, .component_id = CID, .type = RP_IMAGE_TYPE_OS, .name = (char *) "os",
                .version = 0, .image_size = sizeof os_image, .build_time = 0,
        };
        assert_int_equal(rp_sha256(os_image, sizeof os_image, os.image_sha256), 0);
        b = make_package(es256, &os, os_image, sizeof os_image);
        expect_verify_ok(&b, es256);
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error err = {0};
        assert_int_equal(rp_package_open_buffer(b.d, b.n, &p, &err), 0);
        assert_null(rp_package_unverified_manifest(p)->app_manifest);
        assert_null(rp_package_unverified_manifest(p)->version_name);
        bytes_done(&b);
}

static void test_truncated(void **state) {
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        size_t item = b.n - sizeof image;

        expect_open_fails(&(bytes) { b.d, 0 }, -EBADMSG, "empty file, not an image package");
        /* Every cut inside the COSE item. */
        for (size_t cut = 1; cut < item; cut++)
                expect_open_fails(&(bytes) { b.d, cut }, -EBADMSG, "truncated");
        /* Cuts in the image bytes, including right after the item. */
        for (size_t cut = item; cut < b.n; cut += 97)
                expect_verify_fails(&(bytes) { b.d, cut }, es256, -EBADMSG, "truncated package: the manifest "
                                    "declares 8192 image bytes, only");
        expect_verify_fails(&(bytes) { b.d, b.n - 1 }, es256, -EBADMSG, "only 8191 follow it");
        bytes_done(&b);
}

static void test_padded(void **state) {
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        append(&b, "", 1);
        expect_verify_fails(&b, es256, -EBADMSG, "padded package: 1 unexpected bytes follow the 8192 image bytes");
        append(&b, image, sizeof image);
        expect_verify_fails(&b, es256, -EBADMSG, "padded package: 8193 unexpected bytes");
        bytes_done(&b);
}

static void test_bit_flips(void **state) {
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        size_t item = b.n - sizeof image;
        rp_error err = {0};

        /* Every bit of the COSE item: refused when opening or verifying. */
        size_t open_refused = 0, sig_refused = 0;
        for (size_t i = 0; i < item; i++)
                for (int bit = 0; bit < 8; bit++) {
                        b.d[i] ^= (uint8_t) (1u << bit);
                        rp_package *p = NULL;
                        rp_error_clear(&err);
                        int r = rp_package_open_buffer(b.d, b.n, &p, &err);
                        if (r < 0)
                                open_refused++;
                        else {
                                r = rp_package_verify(p, es256, &err);
                                if (r >= 0)
                                        fail_msg("flipping bit %d of byte %zu went unnoticed", bit, i);
                                if (r == -EKEYREJECTED)
                                        sig_refused++;
                                rp_package_free(p);
                        }
                        assert_true(err.message[0] != '\0');
                        b.d[i] ^= (uint8_t) (1u << bit);
                }
        assert_true(open_refused > 0);
        assert_true(sig_refused > 0);

        /* A flip in a manifest text value keeps the structure: the signature
         * catches it. */
        uint8_t *vname = memmem(b.d, item, "1.2.3", 5);
        assert_non_null(vname);
        vname[4] ^= 0x01;
        expect_verify_fails(&b, es256, -EKEYREJECTED, "signature does not verify with key id");
        vname[4] ^= 0x01;

        /* The last byte of the signature. */
        b.d[item - 1] ^= 0x80;
        expect_verify_fails(&b, es256, -EKEYREJECTED, "the signed manifest or the signature was modified");
        b.d[item - 1] ^= 0x80;

        /* The image: first byte, the erofs magic, middle, last byte. */
        size_t offs[] = { 0, RP_EROFS_SUPER_OFFSET, 4000, sizeof image - 1 };
        for (size_t i = 0; i < ELEMENTSOF(offs); i++) {
                b.d[item + offs[i]] ^= 0x10;
                expect_verify_fails(&b, es256, -EKEYREJECTED, "image digest mismatch: the image bytes were modified");
                b.d[item + offs[i]] ^= 0x10;
        }
        expect_verify_ok(&b, es256);
        bytes_done(&b);
}

static void test_wrong_keys(void **state) {
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        char signer[2 * RP_KEY_ID_LEN + 1], other[2 * RP_KEY_ID_LEN + 1], ed[2 * RP_KEY_ID_LEN + 1];
        uint8_t id[RP_KEY_ID_LEN];
        rp_key_id(es256, id);
        rp_hex_encode_buf(id, sizeof id, signer);
        rp_key_id(es256_other, id);
        rp_hex_encode_buf(id, sizeof id, other);
        rp_key_id(ed25519, id);
        rp_hex_encode_buf(id, sizeof id, ed);

        char msg[512];
        snprintf(msg, sizeof msg, "the package claims signer key id %s (a claim only a valid signature would prove), not the given key (key id %s)",
                 signer, other);
        expect_verify_fails(&b, es256_other, -EKEYREJECTED, msg);
        snprintf(msg, sizeof msg, "the package is signed with ES256 (key id %s), the given key is Ed25519 "
                 "(key id %s)", signer, ed);
        expect_verify_fails(&b, ed25519, -EKEYREJECTED, msg);

        /* extract with the wrong key writes nothing. */
        _cleanup_free_ char *out = test_path(test_tmpdir(), "wrong-key.img");
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error err = {0};
        assert_int_equal(rp_package_open_buffer(b.d, b.n, &p, &err), 0);
        assert_int_equal(rp_package_verify(p, es256_other, &err), -EKEYREJECTED);
        assert_int_equal(rp_package_extract_image(p, out, &err), -EPERM);
        assert_int_equal(access(out, F_OK), -1);
        bytes_done(&b);
}

/* With a key, the signature is checked before the signed manifest is parsed:
 * a flipped byte that also breaks the manifest's own rules is reported as a
 * signature failure, and the manifest parser never sees it. */
static void test_open_verified_checks_signature_first(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *good_path = test_path(dir, "good.imagepackage"),
                            *bad_path = test_path(dir, "bad.imagepackage");
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        test_write_file(good_path, b.d, b.n);

        rp_error err = {0};
        rp_package *p = NULL;
        if (rp_package_open_verified(good_path, es256, &p, &err) < 0)
                fail_msg("open_verified: %s", err.message);
        const rp_package_manifest *got = NULL;
        assert_int_equal(rp_package_get_manifest(p, &got, &err), 0);
        assert_string_equal(got->name, "test-app");
        rp_package_free(p);
        p = NULL;

        /* "test-app" -> "uest-app": the name no longer matches the embedded
         * app manifest's Name. */
        uint8_t *at = memmem(b.d, b.n, "test-app", 8);
        assert_non_null(at);
        at[0] ^= 1;
        expect_open_fails(&b, -EINVAL, "Name");
        test_write_file(bad_path, b.d, b.n);
        assert_int_equal(rp_package_open_verified(bad_path, es256, &p, &err), -EKEYREJECTED);
        assert_null(p);
        check_msg(&err, "signature does not verify");
        check_msg(&err, "bad.imagepackage");
        /* The signature-only open (used by extract) refuses it the same way. */
        assert_int_equal(rp_package_open_signed(bad_path, es256, &p, &err), -EKEYREJECTED);
        assert_null(p);
        check_msg(&err, "signature does not verify");

        /* And with another key, the refusal names both key ids. */
        at[0] ^= 1;
        test_write_file(bad_path, b.d, b.n);
        assert_int_equal(rp_package_open_verified(bad_path, es256_other, &p, &err), -EKEYREJECTED);
        check_msg(&err, "not the given key");
        bytes_done(&b);
}

static bool dir_has_entries(const char *path) {
        DIR *d = opendir(path);
        assert_non_null(d);
        bool any = false;
        for (struct dirent *de; (de = readdir(d)); )
                any |= !streq(de->d_name, ".") && !streq(de->d_name, "..");
        closedir(d);
        return any;
}

/* Nothing trusted is handed out before it is verified: the manifest needs
 * the signature, the image's offset needs the image checked too, extract
 * needs the signature (and checks the image itself). */
static void test_trust_gates(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "gates"), *out = NULL, *pkg_path = NULL;
        assert_int_equal(mkdir(dir, 0755), 0);
        out = test_path(dir, "image.erofs");
        _cleanup_free_ char *pkgdir = test_path(test_tmpdir(), "gates-pkg");
        assert_int_equal(mkdir(pkgdir, 0755), 0);
        pkg_path = test_path(pkgdir, "g.imagepackage");
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        test_write_file(pkg_path, b.d, b.n);

        const rp_package_manifest *got = NULL;
        uint64_t off = 0;
        rp_error err = {0};
        rp_package *p = NULL;

        /* Unverified, from a file or from memory: only the look. */
        for (int from_file = 0; from_file < 2; from_file++) {
                if (from_file)
                        assert_int_equal(rp_package_open_unverified(pkg_path, &p, &err), 0);
                else
                        assert_int_equal(rp_package_open_buffer(b.d, b.n, &p, &err), 0);
                assert_string_equal(rp_package_unverified_manifest(p)->name, "test-app");
                assert_int_equal(rp_package_get_manifest(p, &got, &err), -EPERM);
                check_msg(&err, "signature has not been verified");
                assert_null(got);
                assert_int_equal(rp_package_image_offset(p, &off, &err), -EPERM);
                assert_int_equal(off, 0);
                assert_int_equal(rp_package_extract_image(p, out, &err), -EPERM);
                assert_false(dir_has_entries(dir));
                /* A failed verification does not open the gates. */
                assert_int_equal(rp_package_verify(p, es256_other, &err), -EKEYREJECTED);
                assert_int_equal(rp_package_get_manifest(p, &got, &err), -EPERM);
                assert_int_equal(rp_package_extract_image(p, out, &err), -EPERM);
                assert_false(dir_has_entries(dir));
                /* A successful one does. */
                assert_int_equal(rp_package_verify(p, es256, &err), 0);
                assert_int_equal(rp_package_get_manifest(p, &got, &err), 0);
                assert_ptr_equal(got, rp_package_unverified_manifest(p));
                assert_int_equal(rp_package_image_offset(p, &off, &err), 0);
                assert_int_equal(off, b.n - sizeof image);
                rp_package_free(p);
                p = NULL;
                got = NULL;
                off = 0;
        }

        /* Signed only: the manifest, and extract (which checks the image
         * while copying), but not the image's offset. */
        assert_int_equal(rp_package_open_signed(pkg_path, es256, &p, &err), 0);
        assert_int_equal(rp_package_get_manifest(p, &got, &err), 0);
        assert_int_equal(rp_package_image_offset(p, &off, &err), -EPERM);
        check_msg(&err, "image has not been verified");
        assert_int_equal(rp_package_extract_image(p, out, &err), 0);
        size_t len;
        _cleanup_free_ uint8_t *copy = test_read_file(out, &len);
        assert_int_equal(len, sizeof image);
        assert_memory_equal(copy, image, len);
        /* The image was checked while copying: now it is trusted. */
        assert_int_equal(rp_package_image_offset(p, &off, &err), 0);
        rp_package_free(p);
        p = NULL;

        /* Fully verified: everything. */
        assert_int_equal(rp_package_open_verified(pkg_path, es256, &p, &err), 0);
        assert_int_equal(rp_package_get_manifest(p, &got, &err), 0);
        assert_int_equal(rp_package_image_offset(p, &off, &err), 0);
        rp_package_free(p);
        bytes_done(&b);
}

static void test_extract_refuses_bad_image(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "extract");
        assert_int_equal(mkdir(dir, 0755), 0);
        _cleanup_free_ char *out = test_path(dir, "image.erofs");
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        b.d[b.n - 100] ^= 1;
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        rp_error err = {0};
        assert_int_equal(rp_package_open_buffer(b.d, b.n, &p, &err), 0);
        /* The signature is good, the image is not: verify says so, and
         * extract (which checks while copying) refuses too. */
        assert_int_equal(rp_package_verify(p, es256, &err), -EKEYREJECTED);
        check_msg(&err, "image digest mismatch");
        rp_error_clear(&err);
        assert_int_equal(rp_package_extract_image(p, out, &err), -EKEYREJECTED);
        check_msg(&err, "image digest mismatch");
        /* Neither the file nor a temporary one. */
        DIR *d = opendir(dir);
        assert_non_null(d);
        for (struct dirent *de; (de = readdir(d)); )
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        fail_msg("left behind: %s", de->d_name);
        closedir(d);
        bytes_done(&b);
}

static void test_not_erofs(void **state) {
        /* Correctly signed, but an app whose image is not erofs. */
        rp_package_manifest m = app_manifest();
        m.image_size = sizeof os_image;
        assert_int_equal(rp_sha256(os_image, sizeof os_image, m.image_sha256), 0);
        bytes b = make_package(es256, &m, os_image, sizeof os_image);
        expect_verify_fails(&b, es256, -EINVAL, "the app image is not an erofs filesystem");
        bytes_done(&b);
        /* Too short to hold a superblock. */
        m.image_size = 100;
        assert_int_equal(rp_sha256(image, 100, m.image_sha256), 0);
        b = make_package(es256, &m, image, 100);
        expect_verify_fails(&b, es256, -EINVAL, "not an erofs filesystem");
        bytes_done(&b);
}

static void test_manifest_fields(void **state) {
        fields f;
#define REFUSE(code, needle, ...)                       \
        do {                                            \
                f = app_fields();                       \
                __VA_ARGS__;                            \
                expect_fields_refused(&f, code, needle); \
                fields_done(&f);                        \
        } while (0)

        /* The fields as written are accepted: the baseline. */
        f = app_fields();
        bytes payload = fields_encode(&f);
        rp_package_manifest *ok = NULL;
        rp_error err = {0};
        if (rp_package_manifest_parse(payload.d, payload.n, &ok, &err) < 0)
                fail_msg("baseline: %s", err.message);
        rp_package_manifest_free(ok);
        bytes_done(&payload);

        REFUSE(-EINVAL, "unknown field \"extra\" (format 1 has no such field)", fset(&f, "extra", rp_cbor_uint(1)));
        REFUSE(-EINVAL, "field \"image-sha256\" is missing", fset(&f, "image-sha256", NULL));
        REFUSE(-EINVAL, "field \"format\" is missing", fset(&f, "format", NULL));
        REFUSE(-EINVAL, "field \"build-time\" is missing", fset(&f, "build-time", NULL));
        REFUSE(-EINVAL, "field \"component-id\" is missing", fset(&f, "component-id", NULL));
        REFUSE(-EINVAL, "field \"app-manifest\" is missing (required for app images)",
               fset(&f, "app-manifest", NULL));
        REFUSE(-EOPNOTSUPP, "format version 2 is not supported (this rampart reads format 1)",
               fset(&f, "format", rp_cbor_uint(2)));
        /* A newer format is reported as such even with fields we do not know. */
        REFUSE(-EOPNOTSUPP, "format version 2 is not supported",
               fset(&f, "format", rp_cbor_uint(2)); fset(&f, "new-field", rp_cbor_uint(0)));
        REFUSE(-EINVAL, "field \"format\": must be an unsigned integer", fset(&f, "format", rp_cbor_text("1")));
        REFUSE(-EINVAL, "field \"version\": must be an unsigned integer", fset(&f, "version", rp_cbor_text("7")));
        REFUSE(-ERANGE, "field \"version\": is negative", fset(&f, "version", rp_cbor_int(-1)));
        REFUSE(-ERANGE, "field \"version\": 4294967296 is larger than the limit of 4294967295",
               fset(&f, "version", rp_cbor_uint(UINT64_C(4294967296))));
        REFUSE(-ERANGE, "field \"build-time\": is negative", fset(&f, "build-time", rp_cbor_int(INT64_MIN)));
        REFUSE(-EFBIG, "field \"image-size\": 18446744073709551615 is larger than the limit of 1073741824",
               fset(&f, "image-size", rp_cbor_uint(UINT64_MAX)));
        REFUSE(-EFBIG, "field \"image-size\": 1073741825 is larger", fset(&f, "image-size", rp_cbor_uint((1u << 30) + 1)));
        REFUSE(-EINVAL, "field \"image-size\": is 0", fset(&f, "image-size", rp_cbor_uint(0)));
        REFUSE(-ERANGE, "field \"image-size\": is negative", fset(&f, "image-size", rp_cbor_int(-5)));
        REFUSE(-EINVAL, "field \"name\": must be a text string", fset(&f, "name", rp_cbor_uint(5)));
        REFUSE(-EINVAL, "field \"name\": must be a text string", fset(&f, "name", rp_cbor_bytes("x", 1)));
        REFUSE(-EINVAL, "field \"name\": is empty", fset(&f, "name", rp_cbor_text("")));
        REFUSE(-EINVAL, "field \"name\": holds control characters", fset(&f, "name", rp_cbor_text("a\x1b[2Jb")));
        char long_name[RP_PACKAGE_NAME_MAX + 2];
        memset(long_name, 'x', RP_PACKAGE_NAME_MAX + 1);
        long_name[RP_PACKAGE_NAME_MAX + 1] = '\0';
        REFUSE(-EFBIG, "field \"name\": is 257 bytes, the limit is 256", fset(&f, "name", rp_cbor_text(long_name)));
        REFUSE(-EINVAL, "field \"version-name\": holds control characters",
               fset(&f, "version-name", rp_cbor_text("1.0\n")));
        REFUSE(-EINVAL, "field \"image-sha256\": is 31 bytes, a SHA-256 digest is 32",
               fset(&f, "image-sha256", rp_cbor_bytes(image, 31)));
        REFUSE(-EINVAL, "field \"image-sha256\": must be a byte string",
               fset(&f, "image-sha256", rp_cbor_text("00112233445566778899aabbccddeeff")));
        REFUSE(-EINVAL, "field \"component-id\": 'not-a-guid' is not a lowercase GUID",
               fset(&f, "component-id", rp_cbor_text("not-a-guid")));
        REFUSE(-EINVAL, "is not a lowercase GUID",
               fset(&f, "component-id", rp_cbor_text("5E7F1C52-0B8A-4D0F-9B7E-6A1C2D3E4F50")));
        REFUSE(-EINVAL, "is not a lowercase GUID",
               fset(&f, "component-id", rp_cbor_text("5e7f1c52-0b8a-4d0f-9b7e_6a1c2d3e4f50")));
        REFUSE(-EOPNOTSUPP, "field \"type\": unknown image type 'firmware'", fset(&f, "type", rp_cbor_text("firmware")));
        REFUSE(-EINVAL, "an os image has no \"app-manifest\"", fset(&f, "type", rp_cbor_text("os")));
        REFUSE(-EINVAL, "type rt-app does not match the app manifest's ApplicationType (expected app)",
               fset(&f, "type", rp_cbor_text("rt-app")));
        REFUSE(-EINVAL, "component-id 00000000-0000-0000-0000-000000000001 differs from the app manifest's ComponentId",
               fset(&f, "component-id", rp_cbor_text("00000000-0000-0000-0000-000000000001")));
        REFUSE(-EINVAL, "name differs from the app manifest's Name", fset(&f, "name", rp_cbor_text("other")));
        REFUSE(-EINVAL, "field \"app-manifest\": ", fset(&f, "app-manifest", rp_cbor_text("{ not json")));
        REFUSE(-EINVAL, "field \"app-manifest\": must be a text string",
               fset(&f, "app-manifest", rp_cbor_bytes(APP_JSON, strlen(APP_JSON))));
#undef REFUSE
}

static void test_manifest_structure(void **state) {
        rp_error err = {0};
        rp_package_manifest *m = NULL;

        /* An integer key. */
        fields f = app_fields();
        f.key[f.n] = rp_cbor_uint(1);
        f.val[f.n++] = rp_cbor_uint(1);
        bytes q = fields_encode(&f);
        assert_int_equal(rp_package_manifest_parse(q.d, q.n, &m, &err), -EINVAL);
        check_msg(&err, "every key must be a text string");
        bytes_done(&q);
        cbor_item_t *map;

        f = app_fields();
        bytes p = fields_encode(&f);

        /* Trailing bytes after the map. */
        append(&p, "\x00", 1);
        assert_int_equal(rp_package_manifest_parse(p.d, p.n, &m, &err), -EBADMSG);
        check_msg(&err, "1 bytes follow the manifest map");
        p.n--;

        /* Not deterministic: "format" 1 in a two-byte form (0x18 0x01). The
         * map is otherwise untouched and signed properly. */
        uint8_t *at = memmem(p.d, p.n, "\x66" "format\x01", 8);
        assert_non_null(at);
        bytes nd = {};
        append(&nd, p.d, (size_t) (at - p.d) + 7);
        append(&nd, "\x18\x01", 2);
        append(&nd, at + 8, p.n - (size_t) (at - p.d) - 8);
        assert_int_equal(rp_package_manifest_parse(nd.d, nd.n, &m, &err), -EINVAL);
        check_msg(&err, "not in deterministic CBOR encoding");
        bytes pkg = sign_and_append(es256, RP_PACKAGE_CONTENT_TYPE, nd.d, nd.n, image, sizeof image);
        expect_open_fails(&pkg, -EINVAL, "not in deterministic CBOR encoding");
        bytes_done(&pkg);
        bytes_done(&nd);

        /* Duplicate key: "format" twice (libcbor lets us build it). */
        map = cbor_new_definite_map(2);
        assert_true(cbor_map_add(map, (struct cbor_pair) { cbor_move(rp_cbor_text("format")), cbor_move(rp_cbor_uint(1)) }));
        assert_true(cbor_map_add(map, (struct cbor_pair) { cbor_move(rp_cbor_text("format")), cbor_move(rp_cbor_uint(1)) }));
        unsigned char *raw = NULL;
        size_t raw_size = 0;
        size_t raw_len = cbor_serialize_alloc(map, &raw, &raw_size);
        cbor_decref(&map);
        assert_true(raw_len > 0);
        assert_int_equal(rp_package_manifest_parse(raw, raw_len, &m, &err), -EINVAL);
        check_msg(&err, "field \"format\" appears twice");
        free(raw);

        /* A nested map with duplicate keys as a value: refused as the wrong
         * type, before anything re-encodes it. */
        f = app_fields();
        fset(&f, "name", rp_cbor_uint(23));
        bytes nest = fields_encode(&f);
        at = memmem(nest.d, nest.n, "\x64name\x17", 6);
        assert_non_null(at);
        bytes nested = {};
        append(&nested, nest.d, (size_t) (at - nest.d) + 5);
        append(&nested, "\xa2\x00\x00\x00\x01", 5);
        append(&nested, at + 6, nest.n - (size_t) (at - nest.d) - 6);
        assert_int_equal(rp_package_manifest_parse(nested.d, nested.n, &m, &err), -EINVAL);
        check_msg(&err, "field \"name\": must be a text string");
        bytes_done(&nest);
        bytes_done(&nested);

        /* Found by fuzz-package: many duplicate keys once crashed
         * rp_cbor_encode (via the determinism check); refused before it. */
        static const uint8_t dups[] = { 0xaa, 0x66, 'f', 'o', 'r', 'm', 'a', 't', 0x01, 0x00, 0x00, 0x00, 0x00,
                                        0x2e, 0x30, 0x00, 0x2e, 0x30, 0x00, 0x2e, 0x30, 0x00, 0x2e, 0x30,
                                        0x00, 0x2e, 0x30 };
        assert_int_equal(rp_package_manifest_parse(dups, sizeof dups, &m, &err), -EINVAL);
        check_msg(&err, "every key must be a text string");

        /* Not a map; an empty map; garbage. */
        assert_int_equal(rp_package_manifest_parse((const uint8_t *) "\x80", 1, &m, &err), -EINVAL);
        check_msg(&err, "must be a CBOR map");
        assert_int_equal(rp_package_manifest_parse((const uint8_t *) "\xa0", 1, &m, &err), -EINVAL);
        check_msg(&err, "field \"format\" is missing");
        assert_true(rp_package_manifest_parse((const uint8_t *) "\xff", 1, &m, &err) < 0);
        assert_true(rp_package_manifest_parse((const uint8_t *) "", 0, &m, &err) < 0);
        /* An indefinite-length map. */
        assert_true(rp_package_manifest_parse((const uint8_t *) "\xbf\xff", 2, &m, &err) < 0);
        assert_null(m);
        bytes_done(&p);
}

static void test_envelope(void **state) {
        rp_package_manifest m = app_manifest();
        uint8_t *payload = NULL;
        size_t plen = 0;
        rp_error err = {0};
        assert_int_equal(rp_package_manifest_encode(&m, &payload, &plen, &err), 0);

        bytes b = sign_and_append(es256, "application/cbor", payload, plen, image, sizeof image);
        expect_open_fails(&b, -EOPNOTSUPP, "content type is 'application/cbor', expected "
                          "application/vnd.rampart.image-manifest+cbor");
        bytes_done(&b);
        b = sign_and_append(es256, NULL, payload, plen, image, sizeof image);
        expect_open_fails(&b, -EINVAL, "the COSE_Sign1 has no content type");
        bytes_done(&b);
        free(payload);

        /* Garbage and near misses. */
        expect_open_fails(&(bytes) { (uint8_t *) "\xff\xff\xff", 3 }, -EINVAL, "not an image package");
        expect_open_fails(&(bytes) { (uint8_t *) "hello, world", 12 }, -EINVAL, "not an image package");
        expect_open_fails(&(bytes) { (uint8_t *) "\xa0", 1 }, -EINVAL, "not an image package");
        /* Untagged COSE_Sign1: the valid package minus its tag byte. */
        b = make_package(es256, &m, image, sizeof image);
        expect_open_fails(&(bytes) { b.d + 1, b.n - 1 }, -EINVAL, "not an image package");
        bytes_done(&b);

        /* Valid COSE, valid signature, but not in the one byte form: the
         * long form of tag 18, or an (unsigned) unprotected header. */
        b = make_package(es256, &m, image, sizeof image);
        assert_int_equal(b.d[0], 0xd2);
        bytes v = {};
        append(&v, "\xd8\x12", 2);
        append(&v, b.d + 1, b.n - 1);
        expect_open_fails(&v, -EINVAL, "COSE_Sign1: tag 18 has a long-form head");
        bytes_done(&v);
        size_t plen_hdr = b.d[2] == 0x58 ? 2 + b.d[3] : 1 + (b.d[2] & 31);   /* the protected bstr */
        size_t at = 2 + plen_hdr;
        assert_int_equal(b.d[at], 0xa0);
        append(&v, b.d, at);
        append(&v, "\xa1\x05\x40", 3);                                     /* {5: h''} */
        append(&v, b.d + at + 1, b.n - at - 1);
        expect_open_fails(&v, -EINVAL, "COSE_Sign1: unprotected header must be empty");
        bytes_done(&v);
        /* Found by fuzz-package: an unprotected header whose key is a map
         * with duplicate keys (it once reached a CBOR re-encoding that
         * crashed on them). */
        append(&v, b.d, at);
        append(&v, "\xa1\xa2\x00\x00\x00\x01\x00", 7);
        append(&v, b.d + at + 1, b.n - at - 1);
        rp_package *pp = NULL;
        assert_int_equal(rp_package_open_buffer(v.d, v.n, &pp, &err), -EINVAL);
        bytes_done(&v);
        bytes_done(&b);

        /* Huge declared lengths in a small file: truncated, nothing allocated. */
        static const uint8_t huge_bstr[] = { 0xd2, 0x84, 0x40, 0xa0, 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
        expect_open_fails(&(bytes) { (uint8_t *) huge_bstr, sizeof huge_bstr }, -EBADMSG, "truncated");
        static const uint8_t huge_array[] = { 0xd2, 0x9b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00 };
        expect_open_fails(&(bytes) { (uint8_t *) huge_array, sizeof huge_array }, -EBADMSG, "truncated");
}

static void test_oversized_item(void **state) {
        /* A COSE_Sign1 whose payload alone is 1.5 MiB: refused as too large
         * before anything is decoded, whatever follows. */
        size_t big = 1536 * 1024;
        bytes b = {};
        append(&b, "\xd2\x84\x40\xa0\x5a", 5);
        uint8_t len[4] = { (uint8_t) (big >> 24), (uint8_t) (big >> 16), (uint8_t) (big >> 8), (uint8_t) big };
        append(&b, len, 4);
        uint8_t *zeros = calloc(1, big + 100);
        assert_non_null(zeros);
        append(&b, zeros, big + 100);
        free(zeros);
        expect_open_fails(&b, -EFBIG, "the signed manifest is larger than the limit of 1048576 bytes");

        /* The same from a file. */
        _cleanup_free_ char *path = test_path(test_tmpdir(), "big.imagepackage");
        test_write_file(path, b.d, b.n);
        rp_package *p = NULL;
        rp_error err = {0};
        assert_int_equal(rp_package_open_unverified(path, &p, &err), -EFBIG);
        check_msg(&err, "big.imagepackage: not an image package: the signed manifest is larger than the limit");
        bytes_done(&b);

        /* An empty file, a directory, a missing file. */
        test_write_file(path, "", 0);
        assert_int_equal(rp_package_open_unverified(path, &p, &err), -EBADMSG);
        check_msg(&err, "empty file, not an image package");
        assert_int_equal(rp_package_open_unverified(test_tmpdir(), &p, &err), -EISDIR);
        assert_int_equal(rp_package_open_unverified("/nonexistent/x.imagepackage", &p, &err), -ENOENT);
        /* A FIFO is refused at once, not waited on. */
        _cleanup_free_ char *fifo = test_path(test_tmpdir(), "fifo.imagepackage");
        assert_int_equal(mkfifo(fifo, 0644), 0);
        assert_int_equal(rp_package_open_unverified(fifo, &p, &err), -EINVAL);
        check_msg(&err, "not a regular file");
        assert_null(p);
}

static void test_encode_refuses(void **state) {
        rp_package_manifest m = app_manifest();
        uint8_t *buf = NULL;
        size_t len = 0;
        rp_error err = {0};
        m.name = (char *) "bad\x07name";
        assert_int_equal(rp_package_manifest_encode(&m, &buf, &len, &err), -EINVAL);
        check_msg(&err, "holds control characters");
        m = app_manifest();
        m.version = UINT64_C(1) << 32;
        assert_int_equal(rp_package_manifest_encode(&m, &buf, &len, &err), -ERANGE);
        m = app_manifest();
        m.image_size = RP_PACKAGE_IMAGE_MAX_SIZE + 1;
        assert_int_equal(rp_package_manifest_encode(&m, &buf, &len, &err), -EFBIG);
        m = app_manifest();
        m.format = 2;
        assert_int_equal(rp_package_manifest_encode(&m, &buf, &len, &err), -EOPNOTSUPP);
        m = app_manifest();
        m.name = NULL;
        assert_int_equal(rp_package_manifest_encode(&m, &buf, &len, &err), -EINVAL);
        check_msg(&err, "field \"name\" is missing");
        m = app_manifest();
        m.type = (rp_image_type) 9;
        assert_int_equal(rp_package_manifest_encode(&m, &buf, &len, &err), -EINVAL);
        check_msg(&err, "unknown image type 9");
        assert_null(buf);

        /* rp_package_write: a public key, a wrong digest, a wrong size. */
        const char *dir = test_tmpdir();
        _cleanup_free_ char *img = test_path(dir, "w.img"), *out = test_path(dir, "w.imagepackage");
        test_write_file(img, image, sizeof image);
        int fd = open(img, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        m = app_manifest();
        m.image_sha256[0] ^= 1;
        /* The same code and wording as a reader's digest mismatch. */
        assert_int_equal(rp_package_write(out, &m, es256, fd, &err), -EKEYREJECTED);
        check_msg(&err, "image digest mismatch: the image changed while being packed");
        assert_int_equal(access(out, F_OK), -1);
        m = app_manifest();
        m.image_size--;
        assert_int_equal(rp_package_write(out, &m, es256, fd, &err), -EINVAL);
        assert_int_equal(access(out, F_OK), -1);

        _cleanup_free_ char *pub_path = test_path(dir, "pub.pem");
        assert_int_equal(rp_key_save_public(es256, pub_path, &err), 0);
        _cleanup_(rp_key_freep) rp_key *pub = NULL;
        assert_int_equal(rp_key_load_public(pub_path, &pub, &err), 0);
        m = app_manifest();
        assert_int_equal(rp_package_write(out, &m, pub, fd, &err), -EINVAL);
        check_msg(&err, "signing needs a private key");
        assert_int_equal(access(out, F_OK), -1);
        close(fd);
}

/* ES256 malleability: (r, n - s) is a second valid signature of the same
 * manifest, made from a genuine package without any key. Only the low-S
 * form is accepted, so the twin package is refused, saying why. */
static void test_high_s_twin_refused(void **state) {
        rp_package_manifest m = app_manifest();
        bytes b = make_package(es256, &m, image, sizeof image);
        const char *dir = test_tmpdir();
        _cleanup_free_ char *good_path = test_path(dir, "low-s.imagepackage"),
                            *twin_path = test_path(dir, "high-s.imagepackage");
        test_write_file(good_path, b.d, b.n);
        rp_error err = {0};
        rp_package *p = NULL;
        if (rp_package_open_verified(good_path, es256, &p, &err) < 0)
                fail_msg("genuine package: %s", err.message);
        /* The signature is the last 64 bytes of the COSE_Sign1, just before
         * the image; s is its second half. */
        uint64_t image_at;
        assert_int_equal(rp_package_image_offset(p, &image_at, &err), 0);
        size_t sig_at = (size_t) image_at - 64;
        rp_package_free(p);
        p = NULL;
        assert_int_equal(b.d[sig_at - 2], 0x58);
        assert_int_equal(b.d[sig_at - 1], 0x40);
        uint8_t n[32];
        assert_int_equal(rp_hex_decode("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551", n, 32), 0);
        int borrow = 0;
        for (int i = 31; i >= 0; i--) {
                int d = n[i] - b.d[sig_at + 32 + i] - borrow;
                borrow = d < 0;
                b.d[sig_at + 32 + i] = (uint8_t) (d + (borrow ? 256 : 0));
        }
        test_write_file(twin_path, b.d, b.n);
        rp_error_clear(&err);
        assert_int_equal(rp_package_open_signed(twin_path, es256, &p, &err), -EKEYREJECTED);
        assert_null(p);
        check_msg(&err, "high s");
        bytes_done(&b);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_round_trip_file),
                cmocka_unit_test(test_round_trip_variants),
                cmocka_unit_test(test_truncated),
                cmocka_unit_test(test_padded),
                cmocka_unit_test(test_bit_flips),
                cmocka_unit_test(test_wrong_keys),
                cmocka_unit_test(test_open_verified_checks_signature_first),
                cmocka_unit_test(test_trust_gates),
                cmocka_unit_test(test_extract_refuses_bad_image),
                cmocka_unit_test(test_not_erofs),
                cmocka_unit_test(test_manifest_fields),
                cmocka_unit_test(test_manifest_structure),
                cmocka_unit_test(test_envelope),
                cmocka_unit_test(test_oversized_item),
                cmocka_unit_test(test_encode_refuses),
                cmocka_unit_test(test_high_s_twin_refused),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
