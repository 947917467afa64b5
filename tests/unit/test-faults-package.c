/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection for lib/package (faults.h): reading, verifying,
 * extracting, writing and packing image packages, and loading manifests and
 * hardware definitions, while a read, write, fsync, rename, directory read,
 * wait or allocation fails. Every failure must be reported; no output file
 * may appear half-written or be left under a temporary name, and no working
 * directory may be left behind. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/macro.h"
#include "faults.h"
#include "core/fileio.h"
#include "package/erofs.h"
#include "rampart/app_manifest.h"
#include "rampart/hwdef.h"
#include "rampart/package.h"
#include "testlib.h"

#define MAX_RUNS 48

#define CID "5b0e3c1d-2a4f-4e6b-8c7d-9e0f1a2b3c4d"
#define APP_JSON                                                                          \
        "{ \"SchemaVersion\": 1, \"Name\": \"faults\", \"ComponentId\": \"" CID "\", "     \
        "\"EntryPoint\": \"/bin/app\", \"CmdArgs\": [\"-v\"], \"Capabilities\": "          \
        "{ \"Gpio\": [\"$LED\"], \"AllowedConnections\": [\"example.com\"] }, "              \
        "\"ApplicationType\": \"Default\" }"
#define BOARD_JSON                                                                        \
        "{ \"Metadata\": { \"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 1 }," \
        " \"Imports\": [ { \"Path\": \"soc.json\" } ],"                                     \
        " \"Peripherals\": [ { \"Name\": \"LED\", \"Type\": \"Gpio\", \"Mapping\": \"GPIO8\" } ] }"
#define SOC_JSON                                                                          \
        "{ \"Metadata\": { \"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 1 }," \
        " \"Peripherals\": [ { \"Name\": \"GPIO8\", \"Type\": \"Gpio\", \"AppManifestValue\": 8 } ] }"

static const char *const ALLOC[] = { "libc/mm/malloc", "libc/mm/calloc", "libc/mm/realloc", "libc/str/strdup" };

static rp_key *key;
/* The last operation's error, quoted when a run fails the test. */
static rp_error e;
static char *dir, *out_dir, *tmp_dir, *pkg_path, *out_path, *man_path, *app_dir, *board_path;

/* No file in d but keep (which may be NULL). */
static void assert_dir_holds(const char *d, const char *keep) {
        DIR *dd = opendir(d);
        assert_non_null(dd);
        for (struct dirent *de; (de = readdir(dd));) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (!keep || !streq(de->d_name, keep))
                        fail_msg("%s: '%s' left behind", d, de->d_name);
        }
        closedir(dd);
}

static void remove_out(void *ctx) {
        (void) unlink(out_path);
}

/* Also empties the working directory's parent. */
static void remove_out_and_work(void *ctx) {
        remove_out(ctx);
        _cleanup_free_ char *cmd = NULL;
        if (asprintf(&cmd, "rm -rf '%s'/*", tmp_dir) < 0 || system(cmd) != 0)
                fail_msg("cannot empty %s", tmp_dir);
}

static void check_out(void *ctx, int (*complete)(void), int r);

/* Removing the working directory is best effort: when reading it fails,
 * the package is still written and the directory stays. */
static void check_pack_out_lenient(void *ctx, int r, size_t nth);

/* Nothing but the output in its directory, nothing in the working
 * directory's parent, and the output complete if it is there at all: a
 * failure may leave it in place only when it came after the rename (the
 * directory's fsync), and that is still reported. */
static void check_out(void *ctx, int (*complete)(void), int r) {
        assert_dir_holds(out_dir, "out");
        if (access(out_path, F_OK) == 0) {
                if (complete() < 0)
                        fail_msg("%s is there but incomplete after a run that returned %d", out_path, r);
        } else if (r == 0)
                fail_msg("%s: missing after a successful run", out_path);
}

/* The image of the package setup() packed: packing is reproducible, so a
 * run that absorbed a failure must produce the same bytes (a directory
 * read cut short would leave files out and still verify). */
static uint8_t reference_sha256[RP_SHA256_LEN];

static int package_complete(void) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_verified(out_path, key, &p, NULL);
        if (r < 0)
                return r;
        const rp_package_manifest *m;
        r = rp_package_get_manifest(p, &m, NULL);
        if (r < 0)
                return r;
        return memcmp(m->image_sha256, reference_sha256, RP_SHA256_LEN) == 0 ? 0 : -EBADMSG;
}

static int image_complete(void) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_verified(pkg_path, key, &p, &e);
        if (r < 0)
                return r;
        size_t len;
        _cleanup_free_ uint8_t *img = test_read_file(out_path, &len);
        uint8_t d[RP_SHA256_LEN];
        rp_sha256(img, len, d);
        const rp_package_manifest *m;
        r = rp_package_get_manifest(p, &m, &e);
        if (r < 0)
                return r;
        return len == m->image_size && memcmp(d, m->image_sha256, sizeof d) == 0 ? 0 : -EBADMSG;
}

static void check_pack_out(void *ctx, int r, size_t nth) {
        assert_dir_holds(tmp_dir, NULL);
        check_out(ctx, package_complete, r);
}

static void check_pack_out_lenient(void *ctx, int r, size_t nth) {
        check_out(ctx, package_complete, r);
}

static void check_extract_out(void *ctx, int r, size_t nth) {
        assert_dir_holds(tmp_dir, NULL);
        check_out(ctx, image_complete, r);
}

/* ---- reading ----------------------------------------------------------- */

/* The verified package's manifest is the one packed. */
static int manifest_is_ours(const rp_package *p) {
        const rp_package_manifest *m;
        int r = rp_package_get_manifest(p, &m, &e);
        if (r < 0)
                return r;
        return streq(m->name, "faults") ? 0 : -EBADMSG;
}

static int run_open_verified(void *ctx) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_verified(pkg_path, key, &p, &e);
        if (r < 0)
                return r;
        return manifest_is_ours(p);
}

/* The package in memory (read beforehand: nothing in a run may call the
 * test helpers, which give up on a failed allocation): opened, verified,
 * its manifest read. */
typedef struct mem_package {
        uint8_t *buf;
        size_t len;
} mem_package;

static int run_open_buffer(void *ctx) {
        const mem_package *mp = ctx;
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_buffer(mp->buf, mp->len, &p, &e);
        if (r < 0)
                return r;
        r = rp_package_verify(p, key, &e);
        if (r < 0)
                return r;
        return manifest_is_ours(p);
}

static int run_extract(void *ctx) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_signed(pkg_path, key, &p, &e);
        if (r < 0)
                return r;
        return rp_package_extract_image(p, out_path, &e);
}

static void test_read(void **state) {
        fault_op op = { .name = "open+verify", .run = run_open_verified, .err = &e };
        assert_true(fault_each(&op, "posix/io/rw/pread", EIO, MAX_RUNS) >= 2);
        assert_true(fault_run(&op, "posix/io/rw/pread", EINTR, FAULT_RECOVERED, MAX_RUNS) >= 2);
        assert_true(fault_run(&op, "posix/io/rw/pread/reduce", 0, FAULT_RECOVERED, MAX_RUNS) >= 2);
        for (size_t i = 0; i < ELEMENTSOF(ALLOC); i++)
                fault_run(&op, ALLOC[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS);

        mem_package mp = { .buf = test_read_file(pkg_path, &mp.len) };
        fault_op mem = { .name = "open from memory+verify", .run = run_open_buffer, .ctx = &mp, .err = &e };
        for (size_t i = 0; i < ELEMENTSOF(ALLOC); i++)
                fault_run(&mem, ALLOC[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
        free(mp.buf);

        fault_op ex = { .name = "extract", .setup = remove_out, .run = run_extract, .check = check_extract_out, .err = &e };
        static const char *const io[] = { "posix/io/rw/pread", "posix/io/rw/write", "posix/io/sync/fsync",
                                          "posix/io/dir/rename" };
        for (size_t i = 0; i < ELEMENTSOF(io); i++)
                assert_true(fault_each(&ex, io[i], EIO, MAX_RUNS) >= 1);
        assert_true(fault_run(&ex, "posix/io/rw/write/reduce", 0, FAULT_RECOVERED, MAX_RUNS) >= 1);
        for (size_t i = 0; i < ELEMENTSOF(ALLOC); i++)
                fault_run(&ex, ALLOC[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS);
}

/* ---- packing ----------------------------------------------------------- */

static int run_pack(void *ctx) {
        rp_pack_options o = {
                .app_manifest_path = man_path, .dir = app_dir, .key = key, .output = out_path,
                .version = 3, .version_name = "3.0", .build_time = 7, .tmp_dir = tmp_dir,
        };
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        int r = rp_package_pack_application(&o, &m, &e);
        if (r < 0)
                return r;
        /* What was written must verify. */
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        return rp_package_open_verified(out_path, key, &p, NULL);
}

static void test_pack(void **state) {
        fault_op op = { .name = "pack-application", .setup = remove_out, .run = run_pack, .check = check_pack_out, .err = &e };
        static const char *const io[] = {
                "posix/io/oc/open", "posix/io/rw/read", "posix/io/rw/pread", "posix/io/rw/write",
                "posix/io/sync/fsync", "posix/io/dir/rename", "posix/proc/waitpid",
        };
        for (size_t i = 0; i < ELEMENTSOF(io); i++)
                assert_true(fault_each(&op, io[i], EIO, MAX_RUNS) >= 1);
        fault_op lenient = { .name = "pack-application", .setup = remove_out_and_work, .run = run_pack,
                             .check = check_pack_out_lenient };
        assert_true(fault_run(&lenient, "posix/io/dir/fdopendir", EIO, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 2);
        assert_true(fault_run(&lenient, "posix/io/dir/readdir", EIO, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 2);
        assert_true(fault_run(&op, "posix/io/rw/read", EINTR, FAULT_RECOVERED, MAX_RUNS) >= 1);
        assert_true(fault_run(&op, "posix/proc/waitpid", EINTR, FAULT_RECOVERED, MAX_RUNS) >= 1);
        for (size_t i = 0; i < ELEMENTSOF(ALLOC); i++)
                fault_run(&op, ALLOC[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS);
}

static int run_erofs(void *ctx) {
        static const char manifest[] = APP_JSON;
        rp_erofs_options o = {
                .tmp_parent = tmp_dir, .max_size = 1 << 20, .root_file_name = "app_manifest.json",
                .root_file_data = manifest, .root_file_len = sizeof manifest - 1,
        };
        _cleanup_close_ int fd = -1;
        int r = rp_erofs_build(app_dir, &o, &fd, &e);
        if (r < 0)
                return r;
        uint8_t d[RP_SHA256_LEN];
        r = rp_sha256_fd(fd, 0, (uint64_t) lseek(fd, 0, SEEK_END), NULL, NULL, d, &e);
        if (r < 0)
                return r;
        return memcmp(d, reference_sha256, sizeof d) == 0 ? 0 : -EBADMSG;
}

static void check_erofs(void *ctx, int r, size_t nth) {
        assert_dir_holds(tmp_dir, NULL);
}

/* The erofs build alone, every allocation failed in turn: the tree walk,
 * the copy, the link checks, running mkfs.erofs. */
static void test_erofs(void **state) {
        fault_op op = { .name = "erofs build", .setup = remove_out_and_work, .run = run_erofs,
                        .check = check_erofs, .err = &e };
        /* glibc's asprintf() absorbs some failed allocations of its own. */
        assert_true(fault_run(&op, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0) >= 10);
        fault_run(&op, "libc/mm/calloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
        fault_run(&op, "libc/mm/realloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
        fault_run(&op, "libc/str/strdup", ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
        /* Reading the tree's files (the app's own app_manifest.json is
         * compared with the one packed) and mkfs.erofs's output. */
        assert_true(fault_each(&op, "posix/io/rw/pread", EIO, 0) >= 1);
        assert_true(fault_each(&op, "posix/io/rw/read", EIO, 0) >= 1);
}

static int run_encode(void *ctx) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = rp_package_open_unverified(pkg_path, &p, &e);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        r = rp_package_manifest_encode(rp_package_unverified_manifest(p), &buf, &len, &e);
        if (r < 0)
                return r;
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        return rp_package_manifest_parse(buf, len, &m, &e);
}

/* Encoding and parsing a manifest, every allocation (libcbor's and
 * jansson's included) failed in turn: each must be reported as ENOMEM. */
static void test_encode(void **state) {
        fault_op op = { .name = "manifest encode+parse", .run = run_encode, .err = &e };
        assert_true(fault_each(&op, "libc/mm/malloc", ENOMEM, 0) >= 20);
        assert_true(fault_each(&op, "libc/mm/calloc", ENOMEM, 0) >= 1);
        fault_each(&op, "libc/mm/realloc", ENOMEM, 0);
        fault_each(&op, "libc/str/strdup", ENOMEM, 0);
        fault_each(&op, "libc/str/strndup", ENOMEM, 0);
}

/* ---- manifests and hardware definitions ------------------------------ */

static int run_load(void *ctx) {
        _cleanup_(rp_app_manifest_freep) rp_app_manifest *m = NULL;
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
        int r = rp_app_manifest_load(man_path, &m, &e);
        if (r < 0)
                return r;
        r = rp_hwdef_load(board_path, NULL, &h, &e);
        if (r < 0)
                return r;
        r = rp_app_manifest_resolve(m, h, &e);
        if (r < 0)
                return r;
        return rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 0)->number == 8 ? 0 : -EBADMSG;
}

static void test_load(void **state) {
        fault_op op = { .name = "manifest+hwdef load", .run = run_load, .err = &e };
        assert_true(fault_each(&op, "posix/io/rw/read", EIO, MAX_RUNS) >= 3);
        for (size_t i = 0; i < ELEMENTSOF(ALLOC); i++)
                fault_run(&op, ALLOC[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS);
}

static int setup(void **state) {
        dir = test_path(test_tmpdir(), "pkg");
        out_dir = test_path(dir, "out.d");
        tmp_dir = test_path(dir, "tmp.d");
        app_dir = test_path(dir, "app");
        pkg_path = test_path(dir, "app.imagepackage");
        out_path = test_path(out_dir, "out");
        man_path = test_path(dir, "app_manifest.json");
        board_path = test_path(dir, "board.json");
        _cleanup_free_ char *soc = test_path(dir, "soc.json"), *bin = test_path(app_dir, "bin"),
                            *app = test_path(app_dir, "bin/app"), *link = test_path(app_dir, "bin/link");
        if (mkdir(dir, 0755) < 0 || mkdir(out_dir, 0755) < 0 || mkdir(tmp_dir, 0755) < 0 ||
            mkdir(app_dir, 0755) < 0 || mkdir(bin, 0755) < 0)
                return -1;
        test_write_file(man_path, APP_JSON, strlen(APP_JSON));
        test_write_file(board_path, BOARD_JSON, strlen(BOARD_JSON));
        test_write_file(soc, SOC_JSON, strlen(SOC_JSON));
        test_write_file(app, "#!/bin/sh\n", 10);
        /* The app's own copy of its manifest, which the build compares
         * with the one it packs. */
        _cleanup_free_ char *own = test_path(app_dir, "app_manifest.json");
        test_write_file(own, APP_JSON, strlen(APP_JSON));
        if (chmod(app, 0755) < 0 || symlink("app", link) < 0)
                return -1;
        if (rp_key_generate(RP_KEY_ES256, &key, NULL) < 0)
                return -1;
        rp_pack_options o = {
                .app_manifest_path = man_path, .dir = app_dir, .key = key, .output = pkg_path,
                .version = 3, .build_time = 7, .tmp_dir = tmp_dir,
        };
        rp_error err = {0};
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        if (rp_package_pack_application(&o, &m, &err) < 0)
                fail_msg("%s", err.message);
        memcpy(reference_sha256, m->image_sha256, RP_SHA256_LEN);
        return 0;
}

static int teardown(void **state) {
        rp_key_free(key);
        free(dir);
        free(out_dir);
        free(tmp_dir);
        free(app_dir);
        free(pkg_path);
        free(out_path);
        free(man_path);
        free(board_path);
        return 0;
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read),
                cmocka_unit_test(test_pack),
                cmocka_unit_test(test_encode),
                cmocka_unit_test(test_erofs),
                cmocka_unit_test(test_load),
        };
        return cmocka_run_group_tests(tests, setup, teardown);
}
