/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure torture for image packages: every allocation
 * librampart makes while reading, verifying, writing, extracting and packing
 * is failed in turn; each run must return an error without crashing or
 * leaking (see torture.h for what is not covered). */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/macro.h"
#include "package/erofs.h"
#include "rampart/package.h"
#include "testlib.h"
#include "torture.h"

#define CID "7a0c2b1e-3d4f-4e5a-9b6c-0d1e2f3a4b5c"
#define APP_JSON                                                                         \
        "{ \"SchemaVersion\": 1, \"Name\": \"torture\", \"ComponentId\": \"" CID "\", "   \
        "\"EntryPoint\": \"/bin/app\", \"CmdArgs\": [\"-v\"], \"Capabilities\": "         \
        "{ \"AllowedConnections\": [\"example.com\"] }, \"ApplicationType\": \"Default\" }"

static rp_key *key;
static uint8_t image[4096];
static rp_package_manifest manifest;
static uint8_t *pkg;
static size_t pkg_len;
static char *img_path, *pkg_path, *out_path, *app_dir, *man_path;

static int op_encode(void *ctx) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        return rp_package_manifest_encode(&manifest, &buf, &len, NULL);
}

static int op_open_verify(void *ctx) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_buffer(pkg, pkg_len, &p, NULL);
        if (r < 0)
                return r;
        return rp_package_verify(p, key, NULL);
}

static int op_write(void *ctx) {
        _cleanup_close_ int fd = open(img_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        return rp_package_write(out_path, &manifest, key, fd, NULL);
}

static int op_open_extract(void *ctx) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_signed(pkg_path, key, &p, NULL);
        if (r < 0)
                return r;
        return rp_package_extract_image(p, out_path, NULL);
}

static int op_pack(void *ctx) {
        rp_pack_options o = {
                .app_manifest_path = man_path, .dir = app_dir, .key = key, .output = out_path,
                .version = 1, .version_name = "1.0", .build_time = 0,
        };
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        return rp_package_pack_application(&o, &m, NULL);
}

static void test_torture_package(void **state) {
        rp_error err = {0};
        const char *tmp = test_tmpdir();
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &key, &err), 0);
        memset(image, 0x5a, sizeof image);
        static const uint8_t magic[4] = { 0xe2, 0xe1, 0xf5, 0xe0 };
        memcpy(image + RP_EROFS_SUPER_OFFSET, magic, 4);

        manifest = (rp_package_manifest) {
                .format = 1, .component_id = CID, .type = RP_IMAGE_TYPE_APP, .name = (char *) "torture",
                .version = 1, .version_name = (char *) "1.0", .image_size = sizeof image,
                .app_manifest = (char *) APP_JSON, .app_manifest_len = strlen(APP_JSON), .build_time = 5,
        };
        assert_int_equal(rp_sha256(image, sizeof image, manifest.image_sha256), 0);

        img_path = test_path(tmp, "t.img");
        pkg_path = test_path(tmp, "t.imagepackage");
        out_path = test_path(tmp, "out");
        man_path = test_path(tmp, "app_manifest.json");
        app_dir = test_path(tmp, "app");
        test_write_file(img_path, image, sizeof image);
        test_write_file(man_path, APP_JSON, strlen(APP_JSON));
        int fd = open(img_path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(rp_package_write(pkg_path, &manifest, key, fd, &err), 0);
        close(fd);
        pkg = test_read_file(pkg_path, &pkg_len);

        _cleanup_free_ char *bin = test_path(app_dir, "bin"), *app = test_path(app_dir, "bin/app"),
                            *link = test_path(app_dir, "bin/link");
        assert_int_equal(mkdir(app_dir, 0755), 0);
        assert_int_equal(mkdir(bin, 0755), 0);
        test_write_file(app, "#!/bin/sh\n", 10);
        assert_int_equal(chmod(app, 0755), 0);
        assert_int_equal(symlink("app", link), 0);

        size_t runs = torture_run(op_encode, NULL, 200);
        print_message("runs: encode %zu\n", runs);
        assert_true(runs > 1);
        assert_true(torture_run(op_open_verify, NULL, 300) > 1);
        assert_true(torture_run(op_write, NULL, 300) > 1);
        assert_true(torture_run(op_open_extract, NULL, 300) > 1);
        char *mkfs = NULL;
        if (rp_erofs_find_mkfs(&mkfs, &err) < 0)   /* scripts/install-deps installs erofs-utils */
                fail_msg("%s", err.message);
        free(mkfs);
        runs = torture_run(op_pack, NULL, 600);
        print_message("runs: pack %zu\n", runs);
        assert_true(runs > 1);

        rp_key_free(key);
        free(pkg);
        free(img_path);
        free(pkg_path);
        free(out_path);
        free(man_path);
        free(app_dir);
}

int main(void) {
        torture_init();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_torture_package),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
