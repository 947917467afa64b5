/* SPDX-License-Identifier: Apache-2.0 */
/* The core helpers: error objects, bounded reads, atomic writes, hex, GUIDs,
 * UTF-8 checks. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "testlib.h"

static void test_error_set_and_prefix(void **state) {
        rp_error err = {0};
        assert_int_equal(rp_error_set(&err, -EINVAL, "field %s: bad", "Name"), -EINVAL);
        assert_int_equal(err.code, -EINVAL);
        assert_string_equal(err.message, "field Name: bad");
        assert_int_equal(rp_error_prefix(&err, -EINVAL, "%s: ", "app.json"), -EINVAL);
        assert_string_equal(err.message, "app.json: field Name: bad");
        /* The code given is returned, with or without an error object: a
         * NULL err must not turn an I/O error into -EINVAL. */
        assert_int_equal(rp_error_prefix(&err, -EIO, "x: "), -EIO);
        assert_int_equal(rp_error_prefix(NULL, -EIO, "x: "), -EIO);
        assert_int_equal(rp_error_prefix(NULL, 0, "x: "), -EINVAL);

        /* A positive code is a caller bug; it must still read as a failure. */
        assert_int_equal(rp_error_set(&err, 5, "x"), -EINVAL);
        /* NULL error objects are allowed everywhere. */
        assert_int_equal(rp_error_set(NULL, -ENOENT, "x"), -ENOENT);
        assert_string_equal(rp_error_message(NULL, -ENOENT), strerror(ENOENT));

        rp_error_set_errno(&err, -ENOENT, "%s: cannot open", "k.pem");
        assert_string_equal(err.message, "k.pem: cannot open: No such file or directory");
        rp_error_clear(&err);
        assert_int_equal(err.code, 0);
        assert_string_equal(rp_error_message(&err, -EIO), strerror(EIO));
}

static void test_error_prefix_truncates(void **state) {
        rp_error err = {0};
        char big[2 * RP_ERROR_MAX];
        memset(big, 'a', sizeof big - 1);
        big[sizeof big - 1] = 0;
        rp_error_set(&err, -EINVAL, "%s", big);
        assert_int_equal(strlen(err.message), RP_ERROR_MAX - 1);
        rp_error_prefix(&err, -EINVAL, "%s", "prefix: ");
        assert_int_equal(strlen(err.message), RP_ERROR_MAX - 1);
        assert_memory_equal(err.message, "prefix: aaa", 11);
}

static void test_read_file_limits(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *p = test_path(dir, "ten");
        test_write_file(p, "0123456789", 10);

        uint8_t *buf = NULL;
        size_t len = 0;
        rp_error err = {0};
        assert_int_equal(rp_read_file(p, 10, &buf, &len, &err), 0);
        assert_int_equal(len, 10);
        assert_int_equal(buf[10], 0);
        free(buf);

        buf = (uint8_t *) "untouched";
        assert_int_equal(rp_read_file(p, 9, &buf, &len, &err), -EFBIG);
        assert_string_equal((char *) buf, "untouched");
        /* Refused from its size, before anything is read. */
        assert_non_null(strstr(err.message, "file is 10 bytes, the limit is 9"));

        assert_int_equal(rp_read_file(dir, 100, &buf, &len, &err), -EISDIR);
        _cleanup_free_ char *missing = test_path(dir, "missing");
        assert_int_equal(rp_read_file(missing, 100, &buf, &len, &err), -ENOENT);
        assert_non_null(strstr(err.message, "missing"));

        /* Not a regular file: refused at once, even a FIFO nobody writes to. */
        assert_int_equal(rp_read_file("/dev/null", 100, &buf, &len, &err), -EINVAL);
        _cleanup_free_ char *fifo = test_path(dir, "fifo");
        assert_int_equal(mkfifo(fifo, 0600), 0);
        assert_int_equal(rp_read_file(fifo, 100, &buf, &len, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not a regular file"));

        /* A link where a file must be, with O_NOFOLLOW. */
        _cleanup_free_ char *link = test_path(dir, "link");
        assert_int_equal(symlink("ten", link), 0);
        int fd = rp_open_regular(AT_FDCWD, link, O_NOFOLLOW, NULL, &err);
        assert_int_equal(fd, -ELOOP);
        assert_non_null(strstr(err.message, "link: is a symbolic link, expected a file"));
        fd = rp_open_regular(AT_FDCWD, link, 0, NULL, &err);
        assert_true(fd >= 0);
        close(fd);

        _cleanup_free_ char *empty = test_path(dir, "empty");
        test_write_file(empty, "", 0);
        assert_int_equal(rp_read_file(empty, 0, &buf, &len, &err), 0);
        assert_int_equal(len, 0);
        free(buf);
}

/* A file whose size fstat reports as 0 (as /proc files do) or that grows
 * while being read: read to its end, or refused, never cut at the size
 * fstat gave. */
static void test_read_file_growing(void **state) {
        struct stat st;
        assert_int_equal(stat("/proc/self/status", &st), 0);
        if (st.st_size != 0)
                skip();
        uint8_t *buf = NULL;
        size_t len = 0;
        rp_error err = {0};
        assert_int_equal(rp_read_file("/proc/self/status", 64 * 1024, &buf, &len, &err), 0);
        /* The whole file: from its first line to its last, which comes
         * after well over a page of one-page-at-a-time reads. */
        assert_true(len > 512);
        assert_memory_equal(buf, "Name:", 5);
        assert_non_null(strstr((char *) buf, "\nnonvoluntary_ctxt_switches:"));
        assert_int_equal(buf[len - 1], '\n');
        assert_int_equal(strlen((char *) buf), len);
        free(buf);

        /* Larger than the limit: refused, not truncated to it. */
        buf = (uint8_t *) "untouched";
        assert_int_equal(rp_read_file("/proc/self/status", 100, &buf, &len, &err), -EFBIG);
        assert_non_null(strstr(err.message, "larger than the limit of 100 bytes"));
        assert_string_equal((char *) buf, "untouched");
}

static unsigned count_entries(const char *dir) {
        unsigned n = 0;
        DIR *d = opendir(dir);
        assert_non_null(d);
        for (struct dirent *e; (e = readdir(d));)
                n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
        closedir(d);
        return n;
}

static void test_atomic_write(void **state) {
        const char *base = test_tmpdir();
        _cleanup_free_ char *dir = test_path(base, "atomic");
        assert_int_equal(mkdir(dir, 0700), 0);
        _cleanup_free_ char *p = test_path(dir, "out");
        rp_error err = {0};

        assert_int_equal(rp_write_file_atomic(p, "one", 3, 0600, &err), 0);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);
        assert_int_equal(count_entries(dir), 1);

        /* An aborted write leaves the old file alone and no temp file behind. */
        rp_atomic_file af;
        assert_int_equal(rp_atomic_file_open(&af, p, 0644, &err), 0);
        assert_int_equal(rp_atomic_file_write(&af, "two-partial", 11, &err), 0);
        assert_int_equal(count_entries(dir), 2);
        rp_atomic_file_abort(&af);
        rp_atomic_file_abort(&af);      /* idempotent */
        assert_int_equal(count_entries(dir), 1);
        size_t len;
        _cleanup_free_ uint8_t *data = test_read_file(p, &len);
        assert_int_equal(len, 3);
        assert_memory_equal(data, "one", 3);

        /* A directory that does not exist: a clear error, nothing created. */
        _cleanup_free_ char *bad = test_path(dir, "nope/out");
        assert_int_equal(rp_write_file_atomic(bad, "x", 1, 0644, &err), -ENOENT);
        assert_non_null(strstr(err.message, "temporary file"));
}

static void test_hex(void **state) {
        uint8_t in[] = { 0x00, 0x7f, 0xab, 0xff };
        _cleanup_free_ char *h = rp_hex_encode(in, sizeof in);
        assert_string_equal(h, "007fabff");
        uint8_t out[4];
        assert_int_equal(rp_hex_decode("007FABff", out, 4), 0);
        assert_memory_equal(out, in, 4);
        assert_int_equal(rp_hex_decode("007fab", out, 4), -EINVAL);
        assert_int_equal(rp_hex_decode("007fabfg", out, 4), -EINVAL);
        assert_int_equal(rp_hex_decode("007fabff00", out, 4), -EINVAL);
}

static void test_guid(void **state) {
        char g[RP_GUID_STRLEN + 1];
        assert_int_equal(rp_guid_normalize("1689D8B2-C835-2E27-27AD-E894D6D15FA9", g), 0);
        assert_string_equal(g, "1689d8b2-c835-2e27-27ad-e894d6d15fa9");
        const char *bad[] = {
                "", "1689d8b2c8352e2727ade894d6d15fa9",           /* no dashes */
                "{1689d8b2-c835-2e27-27ad-e894d6d15fa9}",         /* braces */
                "1689d8b2-c835-2e27-27ad-e894d6d15fa",            /* short */
                "1689d8b2-c835-2e27-27ad-e894d6d15fa99",          /* long */
                "1689d8b2-c835-2e27-27ad_e894d6d15fa9",           /* wrong separator */
                "1689d8b2-c835-2e27-27ad-e894d6d15faz",           /* not hex */
                "1689d8b-2c835-2e27-27ad-e894d6d15fa9",           /* dash misplaced */
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(rp_guid_is_valid(bad[i]));
        assert_false(rp_guid_is_valid(NULL));
}

/* A string literal and its length without the terminating NUL. */
#define LIT(s) s, sizeof(s) - 1

static void test_utf8(void **state) {
        assert_true(rp_utf8_is_valid(LIT("plain")));
        assert_true(rp_utf8_is_valid(LIT("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80")));
        assert_false(rp_utf8_is_valid(LIT("a\0b")));                 /* NUL */
        assert_false(rp_utf8_is_valid(LIT("\xc0\xaf")));             /* overlong '/' */
        assert_false(rp_utf8_is_valid(LIT("\xed\xa0\x80")));         /* surrogate */
        assert_false(rp_utf8_is_valid(LIT("\xf4\x90\x80\x80")));     /* > U+10FFFF */
        assert_false(rp_utf8_is_valid(LIT("\xe2\x82")));             /* truncated */
        assert_false(rp_utf8_is_valid(LIT("\x80")));                 /* lone continuation */
        assert_false(rp_utf8_is_valid(LIT("\xff")));

        assert_true(rp_str_is_printable(LIT("name-1.0 caf\xc3\xa9")));
        assert_false(rp_str_is_printable(LIT("evil\x1b[2J")));       /* ESC */
        assert_false(rp_str_is_printable(LIT("tab\there")));
        assert_false(rp_str_is_printable(LIT("c1\xc2\x9b")));        /* U+009B CSI */
        assert_false(rp_str_is_printable(LIT("del\x7f")));
}

/* Bidirectional controls reorder what a terminal shows ("evil\u202egpj.exe"
 * reads as "evilexe.jpg"): they count as unprintable, and only they. */
static void test_bidi_controls(void **state) {
        static const uint32_t refused[] = { 0x202a, 0x202b, 0x202c, 0x202d, 0x202e,
                                            0x2066, 0x2067, 0x2068, 0x2069 };
        static const uint32_t allowed[] = { 0x2029, 0x202f, 0x2065, 0x206a, 0x200f, 0xfeff };
        for (size_t i = 0; i < ELEMENTSOF(refused) + ELEMENTSOF(allowed); i++) {
                bool bad = i < ELEMENTSOF(refused);
                uint32_t cp = bad ? refused[i] : allowed[i - ELEMENTSOF(refused)];
                char s[8] = { 'a', (char) (0xe0 | cp >> 12), (char) (0x80 | ((cp >> 6) & 0x3f)),
                              (char) (0x80 | (cp & 0x3f)), 'b', 0 };
                uint32_t got;
                assert_int_equal(rp_utf8_decode(s + 1, 4, &got), 3);
                assert_int_equal(got, cp);
                if (bad)
                        assert_false(rp_str_is_printable(s, 5));
                else
                        assert_true(rp_str_is_printable(s, 5));
        }
        uint32_t cp;
        assert_int_equal(rp_utf8_decode(LIT("\xe2\x80"), &cp), 0);  /* truncated */
        assert_int_equal(rp_utf8_decode("", 0, &cp), 0);
}

/* Permission refusals, as any user but root meets them (root without
 * CAP_DAC_OVERRIDE, in a child process): unreadable files, directories that
 * cannot be written. Each is refused, saying what could not be done. */
static const char *unreadable_checks(void *ctx) {
        const char *dir = ctx;
        rp_error err = {0};
        uint8_t *buf = NULL;
        size_t len;
        _cleanup_free_ char *secret = test_path(dir, "secret");
        if (rp_read_file(secret, 100, &buf, &len, &err) != -EACCES || !strstr(err.message, "secret: cannot open"))
                return "rp_read_file of a mode-0 file: expected -EACCES and 'cannot open'";

        _cleanup_free_ char *in_ro = test_path(dir, "ro/new");
        rp_error_clear(&err);
        if (rp_write_file_atomic(in_ro, "x", 1, 0644, &err) != -EACCES ||
            !strstr(err.message, "cannot create a temporary file in"))
                return "an atomic write into a read-only directory: expected -EACCES";
        _cleanup_free_ char *in_closed = test_path(dir, "closed/new");
        rp_error_clear(&err);
        if (rp_write_file_atomic(in_closed, "x", 1, 0644, &err) != -EACCES ||
            !strstr(err.message, "cannot create a temporary file in"))
                return "an atomic write into a mode-0 directory: expected -EACCES";
        return NULL;
}

static void test_unreadable(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "perm");
        assert_int_equal(mkdir(dir, 0755), 0);
        _cleanup_free_ char *secret = test_path(dir, "secret"), *ro = test_path(dir, "ro"),
                            *closed = test_path(dir, "closed");
        test_write_file(secret, "s", 1);
        assert_int_equal(chmod(secret, 0), 0);
        assert_int_equal(mkdir(ro, 0555), 0);
        assert_int_equal(mkdir(closed, 0), 0);
        test_without_dac(unreadable_checks, dir);
        assert_int_equal(chmod(closed, 0755), 0);
        assert_int_equal(chmod(ro, 0755), 0);
        assert_int_equal(access(secret, F_OK), 0);
}

/* rp_sha256_fd over a file shorter than asked for: refused as a file that
 * ended early, not hashed short. */
static void test_sha256_fd_short(void **state) {
        _cleanup_free_ char *p = test_path(test_tmpdir(), "short");
        test_write_file(p, "0123456789", 10);
        _cleanup_close_ int fd = open(p, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        uint8_t d[RP_SHA256_LEN], want[RP_SHA256_LEN];
        rp_error err = {0};
        assert_int_equal(rp_sha256_fd(fd, 2, 8, NULL, NULL, d, &err), 0);
        assert_int_equal(rp_sha256("23456789", 8, want), 0);
        assert_memory_equal(d, want, sizeof d);
        assert_int_equal(rp_sha256_fd(fd, 2, 12, NULL, NULL, d, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "the file ended 4 bytes short"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_error_set_and_prefix),
                cmocka_unit_test(test_error_prefix_truncates),
                cmocka_unit_test(test_read_file_limits),
                cmocka_unit_test(test_read_file_growing),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_hex),
                cmocka_unit_test(test_guid),
                cmocka_unit_test(test_utf8),
                cmocka_unit_test(test_bidi_controls),
                cmocka_unit_test(test_unreadable),
                cmocka_unit_test(test_sha256_fd_short),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
