/* SPDX-License-Identifier: Apache-2.0 */
/* Image packages: round trips, and every way a package is refused on
 * reading, verifying and extracting (the signed manifest itself:
 * test-package-manifest.c; shared fixtures: package-fixtures.h). */
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

#include "package-fixtures.h"
#include "testlib.h"

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
                cmocka_unit_test(test_envelope),
                cmocka_unit_test(test_oversized_item),
                cmocka_unit_test(test_high_s_twin_refused),
        };
        return cmocka_run_group_tests(tests, package_fixtures_setup, package_fixtures_teardown);
}
