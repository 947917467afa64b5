/* SPDX-License-Identifier: Apache-2.0 */
/* App images: reproducible erofs builds and what a directory may not hold. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "package/erofs.h"
#include "testlib.h"

static const char manifest_json[] = "{ \"Name\": \"x\" }\n";

/* A fresh directory under the test's tmpdir. */
static char *new_dir(const char *name) {
        char *p = test_path(test_tmpdir(), name);
        assert_int_equal(mkdir(p, 0755), 0);
        return p;
}

static void put(const char *dir, const char *rel, const char *text, mode_t mode) {
        _cleanup_free_ char *p = test_path(dir, rel);
        test_write_file(p, text, strlen(text));
        assert_int_equal(chmod(p, mode), 0);
}

static void sub(const char *dir, const char *rel) {
        _cleanup_free_ char *p = test_path(dir, rel);
        assert_int_equal(mkdir(p, 0755), 0);
}

static void link_(const char *dir, const char *rel, const char *target) {
        _cleanup_free_ char *p = test_path(dir, rel);
        assert_int_equal(symlink(target, p), 0);
}

/* A small app tree. */
static char *make_app(const char *name) {
        char *d = new_dir(name);
        sub(d, "bin");
        sub(d, "share");
        sub(d, "share/empty");
        put(d, "bin/app", "#!/bin/sh\necho hello\n", 0755);
        put(d, "share/data.txt", "some data\n", 0644);
        put(d, "README", "readme\n", 0644);
        link_(d, "share/app", "../bin/app");
        link_(d, "current", "share");
        return d;
}

static uint8_t *read_fd(int fd, size_t *ret_len) {
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        uint8_t *buf = malloc((size_t) st.st_size + 1);
        assert_non_null(buf);
        assert_int_equal(pread(fd, buf, (size_t) st.st_size, 0), st.st_size);
        *ret_len = (size_t) st.st_size;
        return buf;
}

static rp_erofs_options default_opts(void) {
        return (rp_erofs_options) {
                .max_size = 64 * 1024 * 1024,
                .root_file_name = "app_manifest.json",
                .root_file_data = manifest_json,
                .root_file_len = strlen(manifest_json),
        };
}

/* Builds dir and returns the image bytes (asserting success). */
static uint8_t *build_ok(const char *dir, const rp_erofs_options *opts, size_t *ret_len) {
        rp_error err = {0};
        int fd = -1;
        int r = rp_erofs_build(dir, opts, &fd, &err);
        if (r < 0)
                fail_msg("build of %s failed: %s", dir, err.message);
        assert_true(fd >= 0);
        uint8_t *buf = read_fd(fd, ret_len);
        close(fd);
        return buf;
}

/* Builds dir, expecting code and a message containing needle. */
static void build_fails(const char *dir, const rp_erofs_options *opts, int code, const char *needle) {
        rp_error err = {0};
        int fd = -1;
        int r = rp_erofs_build(dir, opts, &fd, &err);
        if (r != code)
                fail_msg("build of %s: expected %d, got %d (%s)", dir, code, r, err.message);
        assert_int_equal(fd, -1);
        assert_int_equal(err.code, code);
        if (!strstr(err.message, needle))
                fail_msg("message '%s' lacks '%s'", err.message, needle);
}

static bool dir_is_empty(const char *path) {
        DIR *d = opendir(path);
        assert_non_null(d);
        int n = 0;
        for (struct dirent *de; (de = readdir(d)); )
                if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        n++;
        closedir(d);
        return n == 0;
}

static void test_build_and_magic(void **state) {
        _cleanup_free_ char *d = make_app("app1");
        rp_erofs_options o = default_opts();
        size_t len;
        _cleanup_free_ uint8_t *img = build_ok(d, &o, &len);
        assert_true(len >= 4096);
        assert_int_equal(len % 4096, 0);
        assert_true(rp_erofs_has_magic(img, len));
        /* Flip the magic: no longer recognised. */
        img[RP_EROFS_SUPER_OFFSET] ^= 1;
        assert_false(rp_erofs_has_magic(img, len));
        assert_false(rp_erofs_has_magic(img, RP_EROFS_SUPER_OFFSET + 3));
}

static void test_reproducible(void **state) {
        _cleanup_free_ char *a = make_app("repro-a");
        rp_erofs_options o = default_opts();
        size_t la, lb, lc;
        _cleanup_free_ uint8_t *ia = build_ok(a, &o, &la);
        _cleanup_free_ uint8_t *ib = build_ok(a, &o, &lb);
        assert_int_equal(la, lb);
        assert_memory_equal(ia, ib, la);

        /* The same tree made in another order, with other times, owners and
         * permission bits that do not count. */
        _cleanup_free_ char *c = new_dir("repro-c");
        link_(c, "current", "share");
        put(c, "README", "readme\n", 0600);
        sub(c, "share");
        put(c, "share/data.txt", "some data\n", 0640);
        link_(c, "share/app", "../bin/app");
        sub(c, "share/empty");
        sub(c, "bin");
        put(c, "bin/app", "#!/bin/sh\necho hello\n", 0700);
        assert_int_equal(chmod(c, 0700), 0);
        _cleanup_free_ char *bin = test_path(c, "bin"), *f = test_path(c, "bin/app"),
                            *readme = test_path(c, "README");
        assert_int_equal(chmod(bin, 0711), 0);
        struct timespec old[2] = { { .tv_sec = 1000000000 }, { .tv_sec = 1000000000 } };
        assert_int_equal(utimensat(AT_FDCWD, f, old, 0), 0);
        assert_int_equal(utimensat(AT_FDCWD, readme, old, AT_SYMLINK_NOFOLLOW), 0);
        if (geteuid() == 0) {
                assert_int_equal(lchown(f, 1234, 5678), 0);
                assert_int_equal(lchown(bin, 4321, 8765), 0);
        }
        _cleanup_free_ uint8_t *ic = build_ok(c, &o, &lc);
        assert_int_equal(la, lc);
        assert_memory_equal(ia, ic, la);

        /* A directory that already holds the same root file: same image. */
        put(c, "app_manifest.json", manifest_json, 0600);
        free(ic);
        ic = build_ok(c, &o, &lc);
        assert_int_equal(la, lc);
        assert_memory_equal(ia, ic, la);
}

static void test_content_changes_bytes(void **state) {
        _cleanup_free_ char *a = make_app("diff-a"), *b = make_app("diff-b"), *c = make_app("diff-c");
        put(b, "share/data.txt", "some dat4\n", 0644);
        put(c, "README", "readme\n", 0755);           /* the execute bit counts */
        rp_erofs_options o = default_opts();
        size_t la, lb, lc;
        _cleanup_free_ uint8_t *ia = build_ok(a, &o, &la);
        _cleanup_free_ uint8_t *ib = build_ok(b, &o, &lb);
        _cleanup_free_ uint8_t *ic = build_ok(c, &o, &lc);
        assert_true(la != lb || memcmp(ia, ib, la) != 0);
        assert_true(la != lc || memcmp(ia, ic, la) != 0);

        /* Another root file: another image. */
        o.root_file_data = "{}";
        o.root_file_len = 2;
        _cleanup_free_ uint8_t *id = build_ok(a, &o, &lb);
        assert_true(la != lb || memcmp(ia, id, la) != 0);
}

static void test_root_file_conflict(void **state) {
        _cleanup_free_ char *d = make_app("conflict");
        put(d, "app_manifest.json", "{ \"Name\": \"y\" }\n", 0644);
        rp_erofs_options o = default_opts();
        build_fails(d, &o, -EEXIST, "app_manifest.json differs from the app_manifest.json being packed");

        _cleanup_free_ char *p = test_path(d, "app_manifest.json");
        assert_int_equal(unlink(p), 0);
        assert_int_equal(mkdir(p, 0755), 0);
        build_fails(d, &o, -EINVAL, "app_manifest.json: must be a regular file");
}

static void test_special_files(void **state) {
        rp_erofs_options o = default_opts();

        _cleanup_free_ char *f = make_app("fifo");
        _cleanup_free_ char *fp = test_path(f, "share/pipe");
        assert_int_equal(mkfifo(fp, 0644), 0);
        build_fails(f, &o, -EINVAL, "share/pipe: is a FIFO; an app image holds only regular files");

        _cleanup_free_ char *s = make_app("sock");
        _cleanup_free_ char *sp = test_path(s, "sock");
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        assert_true(strlen(sp) < sizeof sa.sun_path);
        strcpy(sa.sun_path, sp);
        assert_int_equal(bind(fd, (struct sockaddr *) &sa, sizeof sa), 0);
        close(fd);
        build_fails(s, &o, -EINVAL, "/sock: is a socket");

        _cleanup_free_ char *u = make_app("suid");
        put(u, "bin/su", "x", 04755);
        build_fails(u, &o, -EINVAL, "bin/su: set-user-ID and set-group-ID files are not allowed");

        _cleanup_free_ char *c = make_app("chr");
        _cleanup_free_ char *cp = test_path(c, "null");
        if (mknod(cp, S_IFCHR | 0666, makedev(1, 3)) == 0)
                build_fails(c, &o, -EINVAL, "/null: is a character device");
        else
                test_skip("the device node case: mknod not permitted (%s)", strerror(errno));
}

static void test_symlinks(void **state) {
        rp_erofs_options o = default_opts();
        struct { const char *link, *target, *msg; int code; } cases[] = {
                { "abs", "/etc/passwd", "abs: symbolic link to '/etc/passwd' points outside", -EINVAL },
                { "up", "../x", "up: symbolic link to '../x' points outside", -EINVAL },
                { "share/up2", "../../x", "share/up2: symbolic link to '../../x' points outside", -EINVAL },
                { "share/tricky", "../share/../../x", "points outside", -EINVAL },
                { "dangling", "nothing-here", "dangling: symbolic link does not resolve inside", -ENOENT },
                { "loop", "loop", "loop: symbolic link does not resolve inside", -EINVAL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char name[32];
                snprintf(name, sizeof name, "link%zu", i);
                _cleanup_free_ char *d = make_app(name);
                link_(d, cases[i].link, cases[i].target);
                build_fails(d, &o, cases[i].code, cases[i].msg);
        }

        /* Each link looks fine alone, but followed together they climb out:
         * r -> "." and share/x -> "../r/..". */
        _cleanup_free_ char *d = make_app("chain");
        link_(d, "r", ".");
        link_(d, "share/x", "../r/..");
        build_fails(d, &o, -EINVAL, "share/x: symbolic link leads outside the directory");

        /* Links that stay inside are fine, including ones through others. */
        _cleanup_free_ char *ok = make_app("links-ok");
        link_(ok, "r", ".");
        link_(ok, "share/y", "../r/bin/./app");
        link_(ok, "top", "share/..");
        size_t len;
        _cleanup_free_ uint8_t *img = build_ok(ok, &o, &len);
        assert_true(rp_erofs_has_magic(img, len));
}

static void test_bad_names_and_paths(void **state) {
        rp_erofs_options o = default_opts();
        /* The file put at the image's root must be a name, not a path. */
        _cleanup_free_ char *plain = make_app("rootname");
        static const char *const bad_root[] = { "a/b", "/x", "" };
        for (size_t i = 0; i < ELEMENTSOF(bad_root); i++) {
                o.root_file_name = bad_root[i];
                build_fails(plain, &o, -EINVAL, "invalid image root file name");
        }
        o = default_opts();
        _cleanup_free_ char *d = make_app("names");
        put(d, "share/bad\x1b[31mname", "x", 0644);
        build_fails(d, &o, -EINVAL, "a name in 'share' is not printable UTF-8");

        _cleanup_free_ char *missing = test_path(test_tmpdir(), "does-not-exist");
        build_fails(missing, &o, -ENOENT, "does-not-exist: cannot open directory");

        _cleanup_free_ char *file = test_path(test_tmpdir(), "a-file");
        test_write_file(file, "x", 1);
        build_fails(file, &o, -ENOTDIR, "a-file: not a directory");
}

static void test_limits(void **state) {
        _cleanup_free_ char *d = make_app("big");
        rp_erofs_options o = default_opts();
        o.max_size = 10;
        build_fails(d, &o, -EFBIG, "more than the image limit of 10 bytes");
        /* Files fit, the image (4 KiB blocks) does not. */
        o.max_size = 100;
        build_fails(d, &o, -EFBIG, "more than the limit of 100 bytes");

        /* 32 levels of directories are fine, 33 are not. */
        _cleanup_free_ char *deep = new_dir("deep");
        _cleanup_free_ char *p = strdup(deep);
        for (int i = 0; i < RP_EROFS_MAX_DEPTH; i++) {
                char *n = test_path(p, "d");
                assert_int_equal(mkdir(n, 0755), 0);
                free(p);
                p = n;
        }
        o = default_opts();
        size_t len;
        free(build_ok(deep, &o, &len));
        char *n = test_path(p, "d");
        assert_int_equal(mkdir(n, 0755), 0);
        free(n);
        build_fails(deep, &o, -EFBIG, "directories nested more than 32 deep");
}

static void test_missing_mkfs(void **state) {
        _cleanup_free_ char *d = make_app("nomkfs");
        rp_erofs_options o = default_opts();
        const char *hint = "install erofs-utils (scripts/install-deps)";

        o.mkfs_path = "/nonexistent/mkfs.erofs";
        build_fails(d, &o, -ENOENT, hint);
        build_fails(d, &o, -ENOENT, "/nonexistent/mkfs.erofs is not an executable file");
        /* Executable, but not a program the kernel can run (ENOEXEC). */
        _cleanup_free_ char *not_a_program = test_path(test_tmpdir(), "not-a-program");
        test_write_file(not_a_program, "plain text\n", 11);
        assert_int_equal(chmod(not_a_program, 0755), 0);
        o.mkfs_path = not_a_program;
        build_fails(d, &o, -ENOENT, "not-a-program (install erofs-utils (scripts/install-deps))");

        o.mkfs_path = NULL;
        assert_int_equal(setenv(RP_EROFS_MKFS_ENV, "/nonexistent/mkfs.erofs", 1), 0);
        build_fails(d, &o, -ENOENT, hint);
        build_fails(d, &o, -ENOENT, "RAMPART_MKFS_EROFS=/nonexistent/mkfs.erofs is not an executable file");
        assert_int_equal(unsetenv(RP_EROFS_MKFS_ENV), 0);

        char *old = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
        _cleanup_free_ char *empty = new_dir("empty-path");
        assert_int_equal(setenv("PATH", empty, 1), 0);
        build_fails(d, &o, -ENOENT, "mkfs.erofs not found in PATH; install erofs-utils (scripts/install-deps)");
        char *found = NULL;
        rp_error err = {0};
        assert_int_equal(rp_erofs_find_mkfs(&found, &err), -ENOENT);
        assert_null(found);
        if (old)
                setenv("PATH", old, 1);
        else
                unsetenv("PATH");
        free(old);

        assert_int_equal(rp_erofs_find_mkfs(&found, &err), 0);
        assert_non_null(strstr(found, "mkfs.erofs"));
        free(found);
}

static void test_mkfs_failure_and_cleanup(void **state) {
        _cleanup_free_ char *d = make_app("mkfsfail");
        _cleanup_free_ char *work = new_dir("work");
        _cleanup_free_ char *tool = test_path(test_tmpdir(), "fake-mkfs");
        const char *script = "#!/bin/sh\necho 'mkfs.erofs 9.9'\necho '<E> erofs: something broke' >&2\nexit 3\n";
        put(test_tmpdir(), "fake-mkfs", script, 0755);

        rp_erofs_options o = default_opts();
        o.tmp_parent = work;
        o.mkfs_path = tool;
        build_fails(d, &o, -EIO, "failed (exit status 3): mkfs.erofs 9.9; <E> erofs: something broke");
        assert_true(dir_is_empty(work));

        /* A tool that exits 0 without an image is caught too. */
        put(test_tmpdir(), "fake-mkfs", "#!/bin/sh\nexit 0\n", 0755);
        build_fails(d, &o, -EIO, "did not leave an image");
        assert_true(dir_is_empty(work));

        /* Refusals while copying also leave nothing behind. */
        o.mkfs_path = NULL;
        _cleanup_free_ char *fp = test_path(d, "pipe");
        assert_int_equal(mkfifo(fp, 0644), 0);
        build_fails(d, &o, -EINVAL, "is a FIFO");
        assert_true(dir_is_empty(work));
        assert_int_equal(unlink(fp), 0);

        /* And so does success: the image survives only as the open fd. */
        size_t len;
        free(build_ok(d, &o, &len));
        assert_true(dir_is_empty(work));
}

typedef struct copy_seen {
        int calls;
        bool has_root_file, readme_normalised;
        int result;
} copy_seen;

static int look_at_copy(int root_fd, void *userdata, rp_error *err) {
        copy_seen *c = userdata;
        struct stat st;
        c->calls++;
        c->has_root_file = fstatat(root_fd, "app_manifest.json", &st, AT_SYMLINK_NOFOLLOW) == 0;
        c->readme_normalised = fstatat(root_fd, "README", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
                               (st.st_mode & 07777) == 0644;
        if (c->result < 0)
                return rp_error_set(err, c->result, "the copy was refused");
        return 0;
}

/* check_copy sees the staged copy (with the root file written and modes
 * normalised, which the source does not have), not the source; its refusal
 * stops the build and leaves nothing behind. */
static void test_check_copy(void **state) {
        _cleanup_free_ char *d = make_app("checkcopy");
        _cleanup_free_ char *readme = test_path(d, "README");
        assert_int_equal(chmod(readme, 0600), 0);
        _cleanup_free_ char *work = new_dir("checkcopy-work");
        copy_seen seen = {0};
        rp_erofs_options o = default_opts();
        o.tmp_parent = work;
        o.check_copy = look_at_copy;
        o.check_copy_userdata = &seen;
        size_t len;
        free(build_ok(d, &o, &len));
        assert_int_equal(seen.calls, 1);
        assert_true(seen.has_root_file);
        assert_true(seen.readme_normalised);

        seen = (copy_seen) { .result = -EINVAL };
        build_fails(d, &o, -EINVAL, "the copy was refused");
        assert_int_equal(seen.calls, 1);
        assert_true(dir_is_empty(work));
}

/* An mkfs.erofs stand-in that does what script says. */
static char *fake_mkfs(const char *name, const char *script) {
        put(test_tmpdir(), name, script, 0755);
        return test_path(test_tmpdir(), name);
}

/* Sets PATH and checks what rp_erofs_find_mkfs finds (want NULL: nothing). */
static void expect_found(const char *path, const char *want) {
        assert_int_equal(setenv("PATH", path, 1), 0);
        char *found = NULL;
        rp_error err = {0};
        int r = rp_erofs_find_mkfs(&found, &err);
        if (!want) {
                if (r != -ENOENT)
                        fail_msg("PATH=%s: expected nothing, found %s", path, found ? found : "?");
                assert_null(found);
                assert_non_null(strstr(err.message, "mkfs.erofs not found in PATH"));
                return;
        }
        if (r < 0)
                fail_msg("PATH=%s: expected %s, got %s", path, want, err.message);
        assert_string_equal(found, want);
        free(found);
}

/* How mkfs.erofs is found: $RAMPART_MKFS_EROFS if set and not empty, else
 * the first executable regular file named mkfs.erofs in an absolute $PATH
 * entry; relative and empty entries (the current directory) are never
 * searched, and without $PATH a fixed list of system directories is. */
static void test_find_mkfs_rule(void **state) {
        const char *tmp = test_tmpdir();
        _cleanup_free_ char *plain = new_dir("path-plain"), *isdir = new_dir("path-dir"), *good = new_dir("path-good"),
                            *rel = new_dir("path-rel");
        put(plain, "mkfs.erofs", "#!/bin/sh\n", 0644);          /* not executable */
        sub(isdir, "mkfs.erofs");                                 /* a directory */
        put(good, "mkfs.erofs", "#!/bin/sh\n", 0755);
        put(rel, "mkfs.erofs", "#!/bin/sh\n", 0755);
        put(tmp, "mkfs.erofs", "#!/bin/sh\n", 0755);             /* in the current directory */
        _cleanup_free_ char *good_tool = test_path(good, "mkfs.erofs"), *rel_tool = test_path(rel, "mkfs.erofs");

        char *old_path = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
        char cwd[4096];
        assert_non_null(getcwd(cwd, sizeof cwd));
        assert_int_equal(chdir(tmp), 0);
        assert_int_equal(unsetenv(RP_EROFS_MKFS_ENV), 0);

        /* Relative entries, ".", and empty entries are skipped. */
        expect_found("path-rel", NULL);
        expect_found("./path-rel", NULL);
        expect_found(".", NULL);
        expect_found("", NULL);
        expect_found(":", NULL);
        expect_found("path-rel::.", NULL);
        /* An absolute entry after them is used. */
        expect_found("path-rel:.::" , NULL);
        char list[8192];
        snprintf(list, sizeof list, "path-rel:.::%s", good);
        expect_found(list, good_tool);
        /* Not executable, or a directory: the search goes on. */
        snprintf(list, sizeof list, "%s:%s:%s:%s", plain, isdir, good, rel);
        expect_found(list, good_tool);
        /* The first match wins. */
        snprintf(list, sizeof list, "%s:%s", rel, good);
        expect_found(list, rel_tool);

        /* $RAMPART_MKFS_EROFS wins over PATH; empty means unset. */
        assert_int_equal(setenv(RP_EROFS_MKFS_ENV, good_tool, 1), 0);
        expect_found("path-rel", good_tool);
        assert_int_equal(setenv(RP_EROFS_MKFS_ENV, "", 1), 0);
        expect_found("path-rel", NULL);
        assert_int_equal(unsetenv(RP_EROFS_MKFS_ENV), 0);

        /* No PATH at all: the system directories, never the current one. */
        assert_int_equal(unsetenv("PATH"), 0);
        char *found = NULL;
        rp_error err = {0};
        int r = rp_erofs_find_mkfs(&found, &err);
        if (r == 0) {
                assert_true(found[0] == '/');
                assert_true(strncmp(found, tmp, strlen(tmp)) != 0);
                free(found);
        } else
                assert_int_equal(r, -ENOENT);

        assert_int_equal(chdir(cwd), 0);
        if (old_path)
                setenv("PATH", old_path, 1);
        free(old_path);
}

/* An mkfs.erofs that writes something else than an erofs image, or that is
 * killed: refused, saying what happened, with nothing left behind. */
static void test_mkfs_garbage_or_killed(void **state) {
        _cleanup_free_ char *d = make_app("mkfsbad");
        _cleanup_free_ char *work = new_dir("mkfsbad-work");
        rp_erofs_options o = default_opts();
        o.tmp_parent = work;

        /* The image path is the last argument but one. */
        _cleanup_free_ char *short_garbage = fake_mkfs("mkfs-short",
                "#!/bin/sh\neval \"img=\\${$(($# - 1))}\"\nprintf 'not an image' > \"$img\"\n");
        o.mkfs_path = short_garbage;
        build_fails(d, &o, -EIO, "mkfs-short succeeded but wrote something that is not an erofs image (12 bytes");
        assert_true(dir_is_empty(work));

        _cleanup_free_ char *zeros = fake_mkfs("mkfs-zeros",
                "#!/bin/sh\neval \"img=\\${$(($# - 1))}\"\nhead -c 8192 /dev/zero > \"$img\"\n");
        o.mkfs_path = zeros;
        build_fails(d, &o, -EIO, "mkfs-zeros succeeded but wrote something that is not an erofs image "
                    "(8192 bytes, no erofs superblock magic)");
        assert_true(dir_is_empty(work));

        _cleanup_free_ char *killed = fake_mkfs("mkfs-killed", "#!/bin/sh\necho 'starting'\nkill -KILL $$\n");
        o.mkfs_path = killed;
        build_fails(d, &o, -EIO, "mkfs-killed was killed by signal 9 (Killed): starting");
        assert_true(dir_is_empty(work));
}

/* Link targets that are unprintable or too long are refused, and the
 * message shows them escaped (and cut), never raw. */
static void test_symlink_target_text(void **state) {
        rp_erofs_options o = default_opts();
        rp_error err = {0};
        int fd = -1;

        _cleanup_free_ char *d = make_app("linktext");
        link_(d, "share/bad", "data\x1b[2J\xff.txt");
        assert_int_equal(rp_erofs_build(d, &o, &fd, &err), -EINVAL);
        if (!strstr(err.message, "share/bad: symbolic link target 'data\\x1b[2J\\xff.txt' is not printable"))
                fail_msg("message: %s", err.message);
        assert_null(strchr(err.message, 0x1b));
        assert_null(strchr(err.message, 0xff));

        /* 1024 bytes are fine, 1025 are not: "../" then slashes, then
         * "README", from share/. */
        char target[RP_EROFS_LINK_TARGET_MAX + 1];
        memset(target, '/', RP_EROFS_LINK_TARGET_MAX);
        memcpy(target, "..", 2);
        memcpy(target + RP_EROFS_LINK_TARGET_MAX - 6, "README", 6);
        target[RP_EROFS_LINK_TARGET_MAX] = '\0';
        _cleanup_free_ char *ok = make_app("linklong-ok");
        link_(ok, "share/long", target);
        size_t len;
        free(build_ok(ok, &o, &len));

        char longer[RP_EROFS_LINK_TARGET_MAX + 2] = "\x07";
        memcpy(longer + 1, target, sizeof target);
        _cleanup_free_ char *bad = make_app("linklong-bad");
        link_(bad, "share/long", longer);
        rp_error_clear(&err);
        assert_int_equal(rp_erofs_build(bad, &o, &fd, &err), -EFBIG);
        if (!strstr(err.message, "share/long: symbolic link target '\\x07..////") ||
            !strstr(err.message, "...' is longer than the limit of 1024 bytes"))
                fail_msg("message: %s", err.message);
        assert_null(strchr(err.message, 0x07));
        assert_int_equal(fd, -1);
}

/* Mounts the image (as root, where loop mounts are permitted) and checks
 * what the device will see. */
static void test_mounted_contents(void **state) {
        _cleanup_free_ char *d = make_app("mountme");
        rp_erofs_options o = default_opts();
        size_t len;
        _cleanup_free_ uint8_t *img = build_ok(d, &o, &len);
        _cleanup_free_ char *path = test_path(test_tmpdir(), "mountme.erofs");
        test_write_file(path, img, len);
        _cleanup_free_ char *mnt = new_dir("mnt");

        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                execlp("mount", "mount", "-t", "erofs", "-o", "loop,ro", path, mnt, (char *) NULL);
                _exit(127);
        }
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                test_skip("cannot loop-mount an erofs image here (not root, or no loop devices)");
                return;
        }

        struct stat st;
        _cleanup_free_ char *app = test_path(mnt, "bin/app"), *data = test_path(mnt, "share/data.txt"),
                            *man = test_path(mnt, "app_manifest.json"), *ln = test_path(mnt, "share/app");
        bool ok = stat(app, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0755 &&
                  st.st_uid == 0 && st.st_gid == 0 && st.st_mtime == 0;
        ok = ok && stat(data, &st) == 0 && (st.st_mode & 07777) == 0644;
        char target[64] = "";
        ok = ok && readlink(ln, target, sizeof target - 1) > 0 && streq(target, "../bin/app");
        size_t mlen = 0;
        uint8_t *mbuf = NULL;
        rp_error err = {0};
        ok = ok && rp_read_file(man, 4096, &mbuf, &mlen, &err) == 0 && mlen == strlen(manifest_json) &&
             memcmp(mbuf, manifest_json, mlen) == 0;
        free(mbuf);
        umount(mnt);
        assert_true(ok);
}

/* An app tree with entries the packer may not read (as any user but root
 * meets them): each refused with a message naming the entry, nothing built,
 * nothing left in the working directory's parent. */
typedef struct unreadable_ctx {
        const char *dir;        /* the app tree */
        const char *entry;      /* the entry made unreadable */
        const char *needle;     /* the message */
        const char *work;       /* tmp_parent, must stay empty */
} unreadable_ctx;

static const char *unreadable_build(void *ctx) {
        const unreadable_ctx *c = ctx;
        rp_erofs_options o = default_opts();
        o.tmp_parent = c->work;
        rp_error err = {0};
        int fd = -1;
        if (rp_erofs_build(c->dir, &o, &fd, &err) != -EACCES || fd != -1)
                return "an unreadable entry was not refused with -EACCES";
        if (!strstr(err.message, c->needle))
                return "the message does not name the unreadable entry";
        return dir_is_empty(c->work) ? NULL : "the working directory was left behind";
}

static void test_unreadable_entries(void **state) {
        _cleanup_free_ char *work = new_dir("unreadable-work");
        const struct {
                const char *entry;
                const char *needle;
        } cases[] = {
                { "share/data.txt", "/share/data.txt: cannot open" },
                { "share/empty", "/share/empty: cannot open directory" },
                { "bin", "/bin: cannot open directory" },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases) + 1; i++) {
                char name[32];
                snprintf(name, sizeof name, "unreadable-%zu", i);
                if (i == ELEMENTSOF(cases)) {
                        /* An app_manifest.json of its own, the size of the
                         * one being packed: it must be read to compare. */
                        _cleanup_free_ char *d = make_app(name);
                        put(d, "app_manifest.json", manifest_json, 0);
                        unreadable_ctx c = { d, "app_manifest.json", "/app_manifest.json: cannot open", work };
                        test_without_dac(unreadable_build, &c);
                        continue;
                }
                _cleanup_free_ char *d = make_app(name), *p = test_path(d, cases[i].entry);
                struct stat st;
                assert_int_equal(stat(p, &st), 0);
                assert_int_equal(chmod(p, 0), 0);
                unreadable_ctx c = { d, cases[i].entry, cases[i].needle, work };
                test_without_dac(unreadable_build, &c);
                assert_int_equal(chmod(p, st.st_mode & 07777), 0);
        }
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_build_and_magic),
                cmocka_unit_test(test_reproducible),
                cmocka_unit_test(test_content_changes_bytes),
                cmocka_unit_test(test_root_file_conflict),
                cmocka_unit_test(test_special_files),
                cmocka_unit_test(test_symlinks),
                cmocka_unit_test(test_bad_names_and_paths),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_missing_mkfs),
                cmocka_unit_test(test_mkfs_failure_and_cleanup),
                cmocka_unit_test(test_check_copy),
                cmocka_unit_test(test_find_mkfs_rule),
                cmocka_unit_test(test_mkfs_garbage_or_killed),
                cmocka_unit_test(test_symlink_target_text),
                cmocka_unit_test(test_mounted_contents),
                cmocka_unit_test(test_unreadable_entries),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
