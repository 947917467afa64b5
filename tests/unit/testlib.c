/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <ftw.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/fileio.h"
#include "testlib.h"

static char *tmpdir;

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st, (void) flag, (void) ftw;
        return remove(path);
}

static void rm_tmpdir(void) {
        if (tmpdir)
                nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
        free(tmpdir);
        tmpdir = NULL;
}

const char *test_tmpdir(void) {
        if (tmpdir)
                return tmpdir;
        const char *base = getenv("TMPDIR");
        if (!base || !*base)
                base = "/tmp";
        if (asprintf(&tmpdir, "%s/rampart-test.XXXXXX", base) < 0 || !mkdtemp(tmpdir))
                fail_msg("cannot create a temporary directory under %s", base);
        atexit(rm_tmpdir);
        return tmpdir;
}

char *test_path(const char *dir, const char *name) {
        char *p;
        if (asprintf(&p, "%s/%s", dir, name) < 0)
                fail_msg("out of memory");
        return p;
}

char *test_data_path(const char *rel) {
        return test_path(RAMPART_TEST_DATA, rel);
}

void test_write_file(const char *path, const void *buf, size_t len) {
        FILE *f = fopen(path, "we");
        if (!f)
                fail_msg("cannot create %s", path);
        if (len && fwrite(buf, 1, len, f) != len)
                fail_msg("cannot write %s", path);
        if (fclose(f) != 0)
                fail_msg("cannot write %s", path);
}

uint8_t *test_read_file(const char *path, size_t *ret_len) {
        uint8_t *buf;
        size_t len;
        rp_error err = {0};
        if (rp_read_file(path, 256 * 1024 * 1024, &buf, &len, &err) < 0)
                fail_msg("%s", err.message);
        if (ret_len)
                *ret_len = len;
        return buf;
}

static int skipped;

void test_skip(const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        fputs("SKIP: ", stdout);
        vprintf(fmt, ap);
        fputs("\n", stdout);
        fflush(stdout);
        va_end(ap);
        skipped++;
}

int test_exit(int failed) {
        if (failed)
                return 1;
        return skipped ? 77 : 0;
}

/* Drops CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH from the effective set. */
static int drop_dac(void) {
        struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
        struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};
        if (syscall(SYS_capget, &h, d) < 0)
                return -1;
        d[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
        return (int) syscall(SYS_capset, &h, d);
}

/* In a coverage build (--coverage), writes the child's counters, which
 * _exit() would drop; absent otherwise. */
extern void __gcov_dump(void) __attribute__((weak));

void test_without_dac(const char *(*fn)(void *ctx), void *ctx) {
        int p[2];
        if (pipe(p) < 0)
                fail_msg("pipe: %s", strerror(errno));
        fflush(NULL);
        pid_t pid = fork();
        if (pid < 0)
                fail_msg("fork: %s", strerror(errno));
        if (pid == 0) {
                close(p[0]);
                const char *msg = drop_dac() < 0 ? "cannot drop CAP_DAC_OVERRIDE" : fn(ctx);
                if (msg && write(p[1], msg, strlen(msg)) < 0)
                        _exit(3);
                /* _exit: the parent's atexit handlers (its temporary
                 * directory's removal) are not the child's to run. */
                if (__gcov_dump)
                        __gcov_dump();
                _exit(msg ? 1 : 0);
        }
        close(p[1]);
        char msg[1024];
        size_t n = 0;
        for (ssize_t k; n < sizeof msg - 1 && (k = read(p[0], msg + n, sizeof msg - 1 - n)) != 0;) {
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        break;
                n += (size_t) k;
        }
        msg[n] = '\0';
        close(p[0]);
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        fail_msg("waitpid: %s", strerror(errno));
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                fail_msg("without CAP_DAC_OVERRIDE: %s", n ? msg : "the child process failed");
}
