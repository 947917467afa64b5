/* SPDX-License-Identifier: Apache-2.0 */
/* The signed manifest of an image package: every field, the map's
 * structure, and what the encoder refuses to write. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "package-fixtures.h"
#include "testlib.h"

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

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_manifest_fields),
                cmocka_unit_test(test_manifest_structure),
                cmocka_unit_test(test_encode_refuses),
        };
        return cmocka_run_group_tests(tests, package_fixtures_setup, package_fixtures_teardown);
}
