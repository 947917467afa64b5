/* SPDX-License-Identifier: Apache-2.0 */
/* The CLI's profile file and API token files (src/cli/profile.c): where the
 * profile lives, that it round-trips with mode 0600, and that a malformed,
 * oversized, foreign or group-writable profile, and a token file others can
 * read or that is not one line, are refused with a message naming why. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/macro.h"
#include "profile.h"
#include "testlib.h"

/* A file at dir/name with text and mode. Returns its path. */
static char *put(const char *name, const char *text, size_t len, mode_t mode) {
        char *p = test_path(test_tmpdir(), name);
        unlink(p);
        test_write_file(p, text, len);
        assert_int_equal(chmod(p, mode), 0);
        return p;
}

static void expect_path(const char *want_suffix, const char *want_prefix) {
        _cleanup_free_ char *p = NULL;
        rp_error err = {};
        assert_int_equal(cli_profile_path(&p, &err), 0);
        if (strncmp(p, want_prefix, strlen(want_prefix)) != 0 ||
            strcmp(p + strlen(p) - strlen(want_suffix), want_suffix) != 0)
                fail_msg("profile path '%s', expected %s...%s", p, want_prefix, want_suffix);
}

static void test_path_order(void **state) {
        setenv("RAMPART_CONFIG_DIR", "/cfg", 1);
        setenv("XDG_CONFIG_HOME", "/xdg", 1);
        setenv("HOME", "/home/u", 1);
        expect_path("/cfg/profile.json", "/cfg");
        unsetenv("RAMPART_CONFIG_DIR");
        expect_path("/xdg/rampart/profile.json", "/xdg");
        setenv("XDG_CONFIG_HOME", "", 1);       /* empty counts as unset */
        expect_path("/home/u/.config/rampart/profile.json", "/home/u");
        unsetenv("XDG_CONFIG_HOME");
        unsetenv("HOME");
        char *p = (char *) 0x1;
        rp_error err = {};
        assert_int_equal(cli_profile_path(&p, &err), -ENOENT);
        assert_ptr_equal(p, (char *) 0x1);
        assert_non_null(strstr(err.message, "RAMPART_CONFIG_DIR"));
}

static void test_round_trip(void **state) {
        /* The directory and its parent are made (0700) as needed. */
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "xdg"), *path = NULL;
        assert_true(asprintf(&path, "%s/rampart/profile.json", dir) > 0);
        cli_profile p = { .server = (char *) "https://127.0.0.1:8443", .ca_file = (char *) "/d/tls/ca.pem",
                          .token_file = (char *) "/d/admin.token", .tenant = (char *) "acme \"Ω\"" };
        rp_error err = {};
        assert_int_equal(cli_profile_save(path, &p, &err), 0);
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0600);
        _cleanup_free_ char *rdir = NULL;
        assert_true(asprintf(&rdir, "%s/rampart", dir) > 0);
        assert_int_equal(stat(rdir, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0700);

        cli_profile q = {};
        bool exists = false;
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), 0);
        assert_true(exists);
        assert_string_equal(q.server, p.server);
        assert_string_equal(q.ca_file, p.ca_file);
        assert_string_equal(q.token_file, p.token_file);
        assert_string_equal(q.tenant, p.tenant);
        cli_profile_clear(&q);
        assert_null(q.server);

        /* No tenant: the key is left out, and reads back as none. */
        p.tenant = NULL;
        assert_int_equal(cli_profile_save(path, &p, &err), 0);
        _cleanup_free_ char *text = (char *) test_read_file(path, NULL);
        assert_null(strstr(text, "tenant"));
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), 0);
        assert_null(q.tenant);
        assert_string_equal(q.server, p.server);
        cli_profile_clear(&q);
}

static void test_missing(void **state) {
        _cleanup_free_ char *path = test_path(test_tmpdir(), "nothing-here.json");
        cli_profile q = { .server = (char *) "x" };
        bool exists = true;
        rp_error err = {};
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), 0);
        assert_false(exists);
        assert_null(q.server);
}

/* Loading text (mode 0600) must fail with code and msg; *ret untouched. */
static void expect_refused(const char *text, size_t len, mode_t mode, int code, const char *msg) {
        _cleanup_free_ char *path = put("bad.json", text, len, mode);
        cli_profile q = { .server = (char *) "untouched" };
        bool exists = false;
        rp_error err = {};
        int r = cli_profile_load(path, &q, &exists, &err);
        if (r != code || !strstr(err.message, msg))
                fail_msg("'%.60s': got %d '%s', expected %d '%s'", text, r, err.message, code, msg);
        assert_string_equal(q.server, "untouched");
        assert_false(exists);
        unlink(path);
}

#define REFUSED(text, code, msg) expect_refused(text, strlen(text), 0600, code, msg)

static void test_malformed(void **state) {
        REFUSED("", -EINVAL, "bad.json: line");
        REFUSED("{\"server\": ", -EINVAL, "bad.json: line 1");
        REFUSED("[\"https://x\"]", -EINVAL, "expected a JSON object");
        REFUSED("\"https://x\"", -EINVAL, "bad.json: line");        /* not an object or array */
        REFUSED("{\"server\": 8443}", -EINVAL, "\"server\": expected a string");
        REFUSED("{\"ca_file\": null}", -EINVAL, "\"ca_file\": expected a string");
        REFUSED("{\"token_file\": [\"a\"]}", -EINVAL, "\"token_file\": expected a string");
        REFUSED("{\"tenant\": 1}", -EINVAL, "\"tenant\": expected a string or null");
        REFUSED("{\"server\": \"\"}", -EINVAL, "\"server\": expected 1 to 4096 bytes");
        REFUSED("{\"server\": \"a\\u0000b\"}", -EINVAL, "bad.json: line 1");
        REFUSED("{\"server\": \"a\", \"server\": \"b\"}", -EINVAL, "duplicate");
        REFUSED("{\"server\": \"\xff\"}", -EINVAL, "bad.json: line 1");
        /* A value over the limit. */
        size_t n = CLI_PROFILE_VALUE_MAX + 1;
        _cleanup_free_ char *big = malloc(n + 32);
        assert_non_null(big);
        int k = sprintf(big, "{\"ca_file\": \"");
        memset(big + k, 'a', n);
        strcpy(big + k + n, "\"}");
        REFUSED(big, -EINVAL, "\"ca_file\": expected 1 to 4096 bytes");
}

static void test_unknown_keys_and_null_tenant(void **state) {
        const char *text = "{\"server\": \"s\", \"tenant\": null, \"later\": {\"x\": 1}}";
        _cleanup_free_ char *path = put("ok.json", text, strlen(text), 0600);
        cli_profile q = {};
        bool exists = false;
        rp_error err = {};
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), 0);
        assert_true(exists);
        assert_string_equal(q.server, "s");
        assert_null(q.tenant);
        assert_null(q.ca_file);
        cli_profile_clear(&q);
}

static void test_oversized(void **state) {
        size_t n = CLI_PROFILE_MAX + 1;
        _cleanup_free_ char *text = malloc(n);
        assert_non_null(text);
        memset(text, ' ', n);
        text[0] = '{';
        text[n - 1] = '}';
        expect_refused(text, n, 0600, -EFBIG, "larger than 65536 bytes");
        /* At the limit it is read (an empty object). */
        text[n - 2] = '}';
        _cleanup_free_ char *path = put("limit.json", text, n - 1, 0600);
        cli_profile q = {};
        bool exists = false;
        rp_error err = {};
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), 0);
        assert_true(exists);
}

static void test_permissions(void **state) {
        const char *ok = "{\"server\": \"s\"}";
        expect_refused(ok, strlen(ok), 0620, -EPERM, "writable by group or others (mode 0620)");
        expect_refused(ok, strlen(ok), 0602, -EPERM, "writable by group or others (mode 0602)");
        expect_refused(ok, strlen(ok), 0666, -EPERM, "chmod 600");
        /* Readable by others is fine: the profile holds no secret. */
        _cleanup_free_ char *path = put("readable.json", ok, strlen(ok), 0644);
        cli_profile q = {};
        bool exists = false;
        rp_error err = {};
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), 0);
        cli_profile_clear(&q);
        /* Someone else's. */
        if (geteuid() != 0) {
                test_skip("not root: cannot give a file to another user");
                return;
        }
        assert_int_equal(chown(path, 4242, 4242), 0);
        assert_int_equal(cli_profile_load(path, &q, &exists, &err), -EPERM);
        assert_non_null(strstr(err.message, "owned by uid 4242, not by you (uid 0)"));
        assert_null(q.server);
}

static void test_not_a_file(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "a-dir.json");
        assert_int_equal(mkdir(dir, 0700), 0);
        cli_profile q = {};
        bool exists = false;
        rp_error err = {};
        assert_int_equal(cli_profile_load(dir, &q, &exists, &err), -EISDIR);
        assert_non_null(strstr(err.message, "is a directory"));
}

static void expect_token(const char *text, size_t len, mode_t mode, int code, const char *want) {
        _cleanup_free_ char *path = put("token", text, len, mode);
        char *t = (char *) 0x1;
        rp_error err = {};
        int r = cli_token_read(path, &t, &err);
        if (r != code)
                fail_msg("token '%.20s' mode %o: got %d (%s), expected %d", text, (unsigned) mode, r, err.message,
                         code);
        if (code == 0) {
                assert_string_equal(t, want);
                free(t);
        } else {
                assert_ptr_equal(t, (char *) 0x1);
                if (!strstr(err.message, want))
                        fail_msg("token '%.20s': message '%s' lacks '%s'", text, err.message, want);
        }
}

#define TOKEN "rpt_00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

static void test_token(void **state) {
        expect_token(TOKEN "\n", strlen(TOKEN) + 1, 0600, 0, TOKEN);
        expect_token(TOKEN "\r\n", strlen(TOKEN) + 2, 0600, 0, TOKEN);
        expect_token(TOKEN, strlen(TOKEN), 0400, 0, TOKEN);
        expect_token("", 0, 0600, -EINVAL, "empty");
        expect_token("\n", 1, 0600, -EINVAL, "empty");
        expect_token(TOKEN "\n\n", strlen(TOKEN) + 2, 0600, -EINVAL, "one line");
        expect_token("a\nb\n", 4, 0600, -EINVAL, "one line");
        expect_token("ab\0cd", 5, 0600, -EINVAL, "one line");
        expect_token(TOKEN "\n", strlen(TOKEN) + 1, 0640, -EPERM, "group or others may read it (mode 0640)");
        expect_token(TOKEN "\n", strlen(TOKEN) + 1, 0604, -EPERM, "chmod 600");
        expect_token(TOKEN "\n", strlen(TOKEN) + 1, 0610, -EPERM, "mode 0610");
        _cleanup_free_ char *big = malloc(CLI_TOKEN_FILE_MAX + 1);
        assert_non_null(big);
        memset(big, 'a', CLI_TOKEN_FILE_MAX + 1);
        expect_token(big, CLI_TOKEN_FILE_MAX + 1, 0600, -EFBIG, "larger than 4096 bytes");
        _cleanup_free_ char *missing = test_path(test_tmpdir(), "no-token");
        char *t = NULL;
        rp_error err = {};
        assert_int_equal(cli_token_read(missing, &t, &err), -ENOENT);
        assert_non_null(strstr(err.message, "no-token: cannot open"));
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_path_order),
                cmocka_unit_test(test_round_trip),
                cmocka_unit_test(test_missing),
                cmocka_unit_test(test_malformed),
                cmocka_unit_test(test_unknown_keys_and_null_tenant),
                cmocka_unit_test(test_oversized),
                cmocka_unit_test(test_permissions),
                cmocka_unit_test(test_not_a_file),
                cmocka_unit_test(test_token),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
