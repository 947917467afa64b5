/* SPDX-License-Identifier: Apache-2.0 */
/* Packing applications: rp_package_pack_application (runs mkfs.erofs) and
 * the build time. The reading side is tested in test-package.c. */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/macro.h"
#include "package/erofs.h"
#include "rampart/package.h"
#include "testlib.h"

#define CID "5e7f1c52-0b8a-4d0f-9b7e-6a1c2d3e4f50"
#define APP_JSON                                                                         \
        "{\n  \"SchemaVersion\": 1,\n  \"Name\": \"test-app\",\n"                         \
        "  \"ComponentId\": \"" CID "\",\n  \"EntryPoint\": \"/bin/app\",\n"              \
        "  \"CmdArgs\": [],\n  \"Capabilities\": {},\n  \"ApplicationType\": \"Default\"\n}\n"

static rp_key *ed25519;

static int setup(void **state) {
        rp_error err = {0};
        assert_int_equal(rp_key_generate(RP_KEY_ED25519, &ed25519, &err), 0);
        return 0;
}

static int teardown(void **state) {
        rp_key_free(ed25519);
        return 0;
}

static void check_msg(const rp_error *err, const char *needle) {
        if (needle && !strstr(err->message, needle))
                fail_msg("message '%s' lacks '%s'", err->message, needle);
}

static void test_build_time(void **state) {
        rp_error err = {0};
        uint64_t t = 0;
        assert_int_equal(setenv("SOURCE_DATE_EPOCH", "1234567890", 1), 0);
        assert_int_equal(rp_package_build_time(&t, &err), 0);
        assert_int_equal(t, 1234567890);
        const char *bad[] = { "", "12a", "-1", " 5", "99999999999999999999" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_int_equal(setenv("SOURCE_DATE_EPOCH", bad[i], 1), 0);
                assert_true(rp_package_build_time(&t, &err) < 0);
        }
        /* 19 digits, but over the largest build time (2^63 - 1). */
        assert_int_equal(setenv("SOURCE_DATE_EPOCH", "9223372036854775808", 1), 0);
        assert_int_equal(rp_package_build_time(&t, &err), -ERANGE);
        check_msg(&err, "SOURCE_DATE_EPOCH is too large");
        assert_int_equal(setenv("SOURCE_DATE_EPOCH", "9223372036854775807", 1), 0);
        assert_int_equal(rp_package_build_time(&t, &err), 0);
        assert_int_equal(t, UINT64_C(9223372036854775807));
        assert_int_equal(setenv("SOURCE_DATE_EPOCH", "abc", 1), 0);
        assert_int_equal(rp_package_build_time(&t, &err), -EINVAL);
        check_msg(&err, "SOURCE_DATE_EPOCH='abc' is not a number of seconds");
        assert_int_equal(unsetenv("SOURCE_DATE_EPOCH"), 0);
        assert_int_equal(rp_package_build_time(&t, &err), 0);
        assert_true(t > 1700000000);
}

static char *make_app_dir(const char *name) {
        char *d = test_path(test_tmpdir(), name);
        assert_int_equal(mkdir(d, 0755), 0);
        _cleanup_free_ char *bin = test_path(d, "bin"), *app = test_path(d, "bin/app");
        assert_int_equal(mkdir(bin, 0755), 0);
        test_write_file(app, "#!/bin/sh\necho hi\n", 18);
        assert_int_equal(chmod(app, 0755), 0);
        return d;
}

static void list_dir(const char *dir, char *out, size_t size) {
        DIR *d = opendir(dir);
        assert_non_null(d);
        out[0] = '\0';
        for (struct dirent *de; (de = readdir(d)); )
                if (!streq(de->d_name, ".") && !streq(de->d_name, "..")) {
                        strncat(out, de->d_name, size - strlen(out) - 2);
                        strncat(out, " ", size - strlen(out) - 1);
                }
        closedir(d);
}

/* Linked with --wrap=mkdtemp (tests/CMakeLists.txt): pack-application
 * creates its working directory after reading everything it reads up
 * front and before copying the tree, so a hook here plays an attacker who
 * changes the tree at that moment. */
char *__real_mkdtemp(char *tmpl);
char *__wrap_mkdtemp(char *tmpl);
static void (*before_copy)(const char *dir);
static const char *before_copy_dir;

char *__wrap_mkdtemp(char *tmpl) {
        if (before_copy) {
                before_copy(before_copy_dir);
                before_copy = NULL;
        }
        return __real_mkdtemp(tmpl);
}

/* bin/app, an executable, becomes a link to a data file. */
static void swap_entry_point(const char *dir) {
        _cleanup_free_ char *app = test_path(dir, "bin/app");
        assert_int_equal(unlink(app), 0);
        assert_int_equal(symlink("../data.txt", app), 0);
}

static bool mkfs_missing(void) {
        char *mkfs = NULL;
        rp_error err = {0};
        if (rp_erofs_find_mkfs(&mkfs, &err) < 0) {
                print_message("skipping: %s\n", err.message);
                return true;
        }
        free(mkfs);
        return false;
}

/* The EntryPoint is checked on the staged copy that is packed: a tree that
 * was fine when pack-application started but whose EntryPoint is a link to
 * a data file by the time it is copied is refused, and nothing is written. */
static void test_entry_point_checked_on_copy(void **state) {
        if (mkfs_missing())
                skip();
        const char *tmp = test_tmpdir();
        _cleanup_free_ char *app = make_app_dir("swap-app");
        _cleanup_free_ char *data = test_path(app, "data.txt");
        test_write_file(data, "not a program\n", 14);
        _cleanup_free_ char *outdir = test_path(tmp, "swap-out"), *work = test_path(tmp, "swap-work");
        assert_int_equal(mkdir(outdir, 0755), 0);
        assert_int_equal(mkdir(work, 0755), 0);
        _cleanup_free_ char *man = test_path(tmp, "swap-manifest.json"), *out = test_path(outdir, "x.imagepackage");
        test_write_file(man, APP_JSON, strlen(APP_JSON));
        rp_pack_options o = {
                .app_manifest_path = man, .dir = app, .key = ed25519, .output = out,
                .version = 1, .build_time = 0, .tmp_dir = work,
        };

        rp_error err = {0};
        before_copy = swap_entry_point;
        before_copy_dir = app;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        assert_null(before_copy);               /* the swap did happen */
        check_msg(&err, "EntryPoint");
        check_msg(&err, "bin/app is a symbolic link");
        char names[256];
        list_dir(outdir, names, sizeof names);
        assert_string_equal(names, "");
        list_dir(work, names, sizeof names);
        assert_string_equal(names, "");
}

static void test_pack_application(void **state) {
        char *mkfs = NULL;
        rp_error err = {0};
        if (rp_erofs_find_mkfs(&mkfs, &err) < 0)   /* scripts/install-deps installs erofs-utils */
                fail_msg("%s", err.message);
        free(mkfs);

        const char *tmp = test_tmpdir();
        _cleanup_free_ char *app = make_app_dir("pack-app");
        _cleanup_free_ char *outdir = test_path(tmp, "pack-out"), *work = test_path(tmp, "pack-work");
        assert_int_equal(mkdir(outdir, 0755), 0);
        assert_int_equal(mkdir(work, 0755), 0);
        _cleanup_free_ char *man = test_path(outdir, "app_manifest.json");
        test_write_file(man, APP_JSON, strlen(APP_JSON));
        _cleanup_free_ char *out1 = test_path(outdir, "a.imagepackage"), *out2 = test_path(outdir, "b.imagepackage");

        rp_pack_options o = {
                .app_manifest_path = man, .dir = app, .key = ed25519, .output = out1,
                .version = 3, .version_name = "0.3", .build_time = 42, .tmp_dir = work,
        };
        rp_package_manifest *m = NULL;
        if (rp_package_pack_application(&o, &m, &err) < 0)
                fail_msg("pack: %s", err.message);
        assert_string_equal(m->component_id, CID);
        assert_string_equal(m->name, "test-app");
        assert_int_equal(m->type, RP_IMAGE_TYPE_APP);
        assert_int_equal(m->version, 3);
        assert_int_equal(m->build_time, 42);
        rp_package_manifest_free(m);

        /* Same inputs, same bytes (Ed25519 signs deterministically). */
        o.output = out2;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), 0);
        size_t l1, l2;
        _cleanup_free_ uint8_t *b1 = test_read_file(out1, &l1), *b2 = test_read_file(out2, &l2);
        assert_int_equal(l1, l2);
        assert_memory_equal(b1, b2, l1);

        _cleanup_(rp_package_freep) rp_package *p = NULL;
        assert_int_equal(rp_package_open_unverified(out1, &p, &err), 0);
        assert_int_equal(rp_package_verify(p, ed25519, &err), 0);
        assert_true(rp_package_image_bytes(p) % 4096 == 0);

        /* Nothing left in the output or working directories but the two packages. */
        char names[512];
        list_dir(outdir, names, sizeof names);
        assert_non_null(strstr(names, "a.imagepackage"));
        assert_non_null(strstr(names, "b.imagepackage"));
        assert_null(strstr(names, ".a.imagepackage"));
        list_dir(work, names, sizeof names);
        assert_string_equal(names, "");

        /* Refusals, each leaving no output. */
        _cleanup_free_ char *out3 = test_path(outdir, "c.imagepackage");
        o.output = out3;
        _cleanup_free_ char *appbin = test_path(app, "bin/app");
        assert_int_equal(chmod(appbin, 0644), 0);
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "bin/app is not executable");
        assert_int_equal(unlink(appbin), 0);
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -ENOENT);
        check_msg(&err, "EntryPoint '/bin/app' from");
        check_msg(&err, "does not exist in");
        /* A link to a data file (the link itself is fine in the tree). */
        _cleanup_free_ char *readme = test_path(app, "README");
        test_write_file(readme, "data\n", 5);
        assert_int_equal(symlink("../README", appbin), 0);
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "is a symbolic link");
        assert_int_equal(unlink(appbin), 0);
        assert_int_equal(unlink(readme), 0);
        /* A directory, even one with its execute bits set. */
        assert_int_equal(mkdir(appbin, 0755), 0);
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "bin/app is not a regular file");
        assert_int_equal(rmdir(appbin), 0);
        test_write_file(appbin, "#!/bin/sh\n", 10);
        assert_int_equal(chmod(appbin, 0755), 0);

        _cleanup_free_ char *pub_path = test_path(tmp, "pack-pub.pem");
        assert_int_equal(rp_key_save_public(ed25519, pub_path, &err), 0);
        _cleanup_(rp_key_freep) rp_key *pub = NULL;
        assert_int_equal(rp_key_load_public(pub_path, &pub, &err), 0);
        o.key = pub;
        /* Refused before anything is built: mkfs.erofs is never looked for. */
        o.mkfs_path = "/nonexistent/mkfs.erofs";
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "signing needs a private key");
        o.mkfs_path = NULL;
        o.key = ed25519;
        o.output = man;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EEXIST);
        check_msg(&err, "refusing to write the package over the app manifest");
        o.output = app;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EISDIR);
        check_msg(&err, "is a directory, expected the package file to write");
        _cleanup_free_ char *nowhere = test_path(tmp, "no-such-dir/x.imagepackage");
        o.output = nowhere;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -ENOENT);
        check_msg(&err, "the output's directory is not usable");
        o.output = "";
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "no output file given");
        _cleanup_free_ char *inside = test_path(app, "x.imagepackage");
        o.output = inside;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "is inside the app directory");
        o.output = out3;
        o.version_name = "bad\nname";
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "field \"version-name\": holds control characters");
        o.version_name = NULL;
        _cleanup_free_ char *pipe = test_path(app, "pipe");
        assert_int_equal(mkfifo(pipe, 0644), 0);
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), -EINVAL);
        check_msg(&err, "is a FIFO");
        assert_int_equal(unlink(pipe), 0);
        _cleanup_free_ char *badman = test_path(outdir, "bad.json");
        test_write_file(badman, "{ \"Name\": 1 }", 13);
        o.app_manifest_path = badman;
        assert_true(rp_package_pack_application(&o, NULL, &err) < 0);
        check_msg(&err, "bad.json");

        list_dir(outdir, names, sizeof names);
        assert_null(strstr(names, "c.imagepackage"));
        list_dir(work, names, sizeof names);
        assert_string_equal(names, "");

        /* And it still packs once fixed. */
        o.app_manifest_path = man;
        assert_int_equal(rp_package_pack_application(&o, NULL, &err), 0);
        assert_int_equal(access(out3, F_OK), 0);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build_time),
                cmocka_unit_test(test_pack_application),
                cmocka_unit_test(test_entry_point_checked_on_copy),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
