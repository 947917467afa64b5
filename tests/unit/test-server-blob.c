/* SPDX-License-Identifier: Apache-2.0 */
/* The blob store (src/server/blob/): the front's choice of backend and its
 * checks of names and ids, and the "dir" backend: staging, appends at an
 * offset, commits that make a blob appear whole or not at all, readers,
 * appends from two processes at once, and what a process killed before its
 * commit, or half-way through one, leaves. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "blob/blob.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "testlib.h"

#define ID1 "0123456789abcdef0123456789abcdef"
#define ID2 "fedcba9876543210fedcba9876543210"

/* A fresh store in a new directory under the test's tmpdir. */
static rp_blob_store *new_store(char **ret_root) {
        static int n;
        char name[32];
        snprintf(name, sizeof name, "store-%d", ++n);
        char *root = test_path(test_tmpdir(), name);
        char *spec = NULL;
        assert_true(asprintf(&spec, "dir:%s", root) > 0);
        rp_blob_store *bs = NULL;
        rp_error err = {};
        assert_int_equal(rp_blob_store_open(spec, &bs, &err), 0);
        free(spec);
        if (ret_root)
                *ret_root = root;
        else
                free(root);
        return bs;
}

static void name_of(const void *buf, size_t len, char out[RP_BLOB_NAME_LEN + 1]) {
        uint8_t d[RP_SHA256_LEN];
        assert_int_equal(rp_sha256(buf, len, d), 0);
        rp_hex_encode_buf(d, sizeof d, out);
}

static void fill(uint8_t *buf, size_t len, unsigned seed) {
        for (size_t i = 0; i < len; i++)
                buf[i] = (uint8_t) (i * 31 + seed * 7 + (i >> 8));
}

static void check_msg(const rp_error *err, const char *needle) {
        if (!strstr(err->message, needle))
                fail_msg("message '%s' lacks '%s'", err->message, needle);
}

static bool path_exists(const char *root, const char *rel) {
        char *p = test_path(root, rel);
        struct stat st;
        bool e = lstat(p, &st) == 0;
        free(p);
        return e;
}

/* An upload ID1 holding len bytes of data (fill seed), in a new store; its
 * name, and the paths of its staging file and of its blob-to-be (the
 * fan-out directory not made). */
typedef struct staged_t {
        rp_blob_store *bs;
        char *root, *staged, *fan, *blob;
        char name[RP_BLOB_NAME_LEN + 1];
} staged_t;

static void staged_upload(staged_t *st, uint8_t *data, size_t len, unsigned seed) {
        rp_error err = {};
        uint64_t size;
        st->bs = new_store(&st->root);
        fill(data, len, seed);
        name_of(data, len, st->name);
        assert_int_equal(rp_blob_upload_create(st->bs, ID1, &err), 0);
        assert_int_equal(rp_blob_upload_append(st->bs, ID1, 0, data, len, &size, &err), 0);
        st->staged = test_path(st->root, "staging/" ID1);
        assert_true(asprintf(&st->fan, "%s/blobs/%.2s", st->root, st->name) > 0);
        assert_true(asprintf(&st->blob, "%s/%s", st->fan, st->name) > 0);
}

static void staged_done(staged_t *st) {
        rp_blob_store_close(st->bs);
        free(st->root);
        free(st->staged);
        free(st->fan);
        free(st->blob);
}

static void test_names(void **state) {
        (void) state;
        char good[RP_BLOB_NAME_LEN + 1];
        name_of("x", 1, good);
        assert_true(rp_blob_name_valid(good));
        good[5] = 'A';
        assert_false(rp_blob_name_valid(good));
        assert_false(rp_blob_name_valid(NULL));
        assert_false(rp_blob_name_valid(""));
        assert_false(rp_blob_name_valid("abc"));
        char longer[RP_BLOB_NAME_LEN + 2];
        memset(longer, 'a', sizeof longer - 1);
        longer[sizeof longer - 1] = '\0';
        assert_false(rp_blob_name_valid(longer));
        longer[RP_BLOB_NAME_LEN] = '\0';
        assert_true(rp_blob_name_valid(longer));

        assert_true(rp_blob_upload_id_valid("0"));
        assert_true(rp_blob_upload_id_valid(ID1));
        assert_true(rp_blob_upload_id_valid(longer));           /* 64 digits */
        memset(longer, 'b', RP_BLOB_NAME_LEN + 1);
        longer[RP_BLOB_NAME_LEN + 1] = '\0';
        assert_false(rp_blob_upload_id_valid(longer));          /* 65 */
        const char *bad[] = { "", ".", "..", "../blobs", "a/b", "ABC", "0123g", " 1", "1 ", "-1", "a\n" };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++)
                assert_false(rp_blob_upload_id_valid(bad[i]));
        assert_false(rp_blob_upload_id_valid(NULL));
}

static void test_open(void **state) {
        (void) state;
        char *root = NULL;
        rp_blob_store *bs = new_store(&root);
        struct stat st;
        assert_int_equal(stat(root, &st), 0);
        assert_true(S_ISDIR(st.st_mode));
        assert_int_equal(st.st_mode & 0777, 0700);
        assert_true(path_exists(root, "blobs"));
        assert_true(path_exists(root, "staging"));
        rp_blob_store_close(bs);

        /* Again, on what is there now; and as a plain path. */
        rp_error err = {};
        assert_int_equal(rp_blob_store_open(root, &bs, &err), 0);
        rp_blob_store_close(bs);
        rp_blob_store_close(NULL);

        bs = NULL;
        assert_int_equal(rp_blob_store_open("s3:bucket", &bs, &err), -EPROTONOSUPPORT);
        check_msg(&err, "unknown kind 's3' (known: dir:PATH)");
        assert_null(bs);
        assert_int_equal(rp_blob_store_open("dir:", &bs, &err), -EINVAL);
        check_msg(&err, "no path after 'dir:'");
        assert_int_equal(rp_blob_store_open("", &bs, &err), -EINVAL);
        assert_int_equal(rp_blob_store_open(NULL, &bs, &err), -EINVAL);
        /* A parent that does not exist: only the last directory is made. */
        char *deep = test_path(root, "no/such/dir");
        char *spec = NULL;
        assert_true(asprintf(&spec, "dir:%s", deep) > 0);
        assert_int_equal(rp_blob_store_open(spec, &bs, &err), -ENOENT);
        check_msg(&err, "cannot create the directory");
        /* A file where the directory should be. */
        char *file = test_path(root, "plain");
        test_write_file(file, "x", 1);
        assert_int_equal(rp_blob_store_open(file, &bs, &err), -ENOTDIR);
        assert_null(bs);
        free(file);
        free(spec);
        free(deep);
        free(root);
}

static void test_flow(void **state) {
        (void) state;
        char *root = NULL;
        _cleanup_(rp_blob_store_closep) rp_blob_store *bs = new_store(&root);
        rp_error err = {};
        uint8_t data[10000];
        fill(data, sizeof data, 1);
        char name[RP_BLOB_NAME_LEN + 1];
        name_of(data, sizeof data, name);

        uint64_t size = 99;
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), -ENOENT);
        assert_int_equal(size, 99);
        assert_int_equal(rp_blob_upload_create(bs, ID1, &err), 0);
        assert_int_equal(rp_blob_upload_create(bs, ID1, &err), -EEXIST);
        check_msg(&err, "exists already");
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), 0);
        assert_int_equal(size, 0);
        struct stat st;
        char *staged = test_path(root, "staging/" ID1);
        assert_int_equal(stat(staged, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* Pieces at the right offsets; a wrong one says where it stands. */
        assert_int_equal(rp_blob_upload_append(bs, ID1, 0, data, 4000, &size, &err), 0);
        assert_int_equal(size, 4000);
        assert_int_equal(rp_blob_upload_append(bs, ID1, 4000, data + 4000, 0, &size, &err), 0);
        assert_int_equal(size, 4000);
        size = 0;
        assert_int_equal(rp_blob_upload_append(bs, ID1, 3999, data, 1, &size, &err), -ESPIPE);
        assert_int_equal(size, 4000);
        check_msg(&err, "a piece at offset 3999, but 4000 bytes are staged");
        assert_int_equal(rp_blob_upload_append(bs, ID1, 4001, data, 1, &size, &err), -ESPIPE);
        assert_int_equal(rp_blob_upload_append(bs, ID1, 0, data, 1, &size, &err), -ESPIPE);
        assert_int_equal(rp_blob_upload_append(bs, ID1, 4000, data + 4000, 6000, &size, &err), 0);
        assert_int_equal(size, sizeof data);
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), 0);
        assert_int_equal(size, sizeof data);
        assert_int_equal(rp_blob_upload_append(bs, ID2, 0, data, 1, &size, &err), -ENOENT);

        /* Reading the staged bytes back, by pieces and through the fd. */
        rp_blob_reader *r = NULL;
        assert_int_equal(rp_blob_upload_open(bs, ID1, &r, &err), 0);
        assert_int_equal(rp_blob_size(r), sizeof data);
        uint8_t back[sizeof data + 10];
        size_t got = 0, n;
        while (got < sizeof back) {
                assert_int_equal(rp_blob_read_at(r, got, back + got, 777, &n, &err), 0);
                if (n == 0)
                        break;
                got += n;
        }
        assert_int_equal(got, sizeof data);
        assert_memory_equal(back, data, sizeof data);
        assert_int_equal(rp_blob_read_at(r, sizeof data + 5, back, 10, &n, &err), 0);
        assert_int_equal(n, 0);
        assert_int_equal(rp_blob_read_at(r, sizeof data - 3, back, 10, &n, &err), 0);
        assert_int_equal(n, 3);
        assert_true(rp_blob_fd(r) >= 0);
        assert_int_equal(pread(rp_blob_fd(r), back, 5, 100), 5);
        assert_memory_equal(back, data + 100, 5);
        rp_blob_close(r);
        rp_blob_close(NULL);

        /* Commit: the blob appears under its name, read-only; staging is gone. */
        bool e = true;
        assert_int_equal(rp_blob_exists(bs, name, &e, &err), 0);
        assert_false(e);
        assert_int_equal(rp_blob_open(bs, name, &r, &err), -ENOENT);
        assert_int_equal(rp_blob_upload_commit(bs, ID1, name, &err), 0);
        assert_int_equal(rp_blob_exists(bs, name, &e, &err), 0);
        assert_true(e);
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), -ENOENT);
        assert_false(path_exists(root, "staging/" ID1));
        char rel[128];
        snprintf(rel, sizeof rel, "blobs/%.2s/%s", name, name);
        char *blob = test_path(root, rel);
        assert_int_equal(stat(blob, &st), 0);
        assert_int_equal(st.st_size, sizeof data);
        assert_int_equal(st.st_mode & 0222, 0);
        assert_int_equal(st.st_nlink, 1);
        assert_int_equal(rp_blob_open(bs, name, &r, &err), 0);
        assert_int_equal(rp_blob_size(r), sizeof data);
        assert_int_equal(rp_blob_read_at(r, 0, back, sizeof back, &n, &err), 0);
        assert_int_equal(n, sizeof data);
        assert_memory_equal(back, data, sizeof data);
        rp_blob_close(r);

        /* An append after the commit finds no upload; commit again neither. */
        assert_int_equal(rp_blob_upload_append(bs, ID1, sizeof data, data, 1, &size, &err), -ENOENT);
        assert_int_equal(rp_blob_upload_commit(bs, ID1, name, &err), -ENOENT);

        /* remove: gone, and removing what is not there is fine. */
        assert_int_equal(rp_blob_upload_create(bs, ID2, &err), 0);
        assert_int_equal(rp_blob_upload_remove(bs, ID2, &err), 0);
        assert_false(path_exists(root, "staging/" ID2));
        assert_int_equal(rp_blob_upload_remove(bs, ID2, &err), 0);
        free(blob);
        free(staged);
        free(root);
}

static void test_commit_refusals(void **state) {
        (void) state;
        char *root = NULL;
        _cleanup_(rp_blob_store_closep) rp_blob_store *bs = new_store(&root);
        rp_error err = {};
        uint8_t data[3000];
        fill(data, sizeof data, 2);
        char name[RP_BLOB_NAME_LEN + 1], other[RP_BLOB_NAME_LEN + 1];
        name_of(data, sizeof data, name);
        name_of(data, sizeof data - 1, other);
        uint64_t size;

        /* The wrong digest: refused; nothing under either name; the upload
         * is as it was and can still be committed under its real name. */
        assert_int_equal(rp_blob_upload_create(bs, ID1, &err), 0);
        assert_int_equal(rp_blob_upload_append(bs, ID1, 0, data, sizeof data, &size, &err), 0);
        assert_int_equal(rp_blob_upload_commit(bs, ID1, other, &err), -EBADMSG);
        check_msg(&err, "the staged bytes hash to ");
        check_msg(&err, name);
        bool e = true;
        assert_int_equal(rp_blob_exists(bs, other, &e, &err), 0);
        assert_false(e);
        assert_int_equal(rp_blob_exists(bs, name, &e, &err), 0);
        assert_false(e);
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), 0);
        assert_int_equal(size, sizeof data);
        /* A part of the bytes is not the blob either. */
        assert_int_equal(rp_blob_upload_create(bs, ID2, &err), 0);
        assert_int_equal(rp_blob_upload_append(bs, ID2, 0, data, sizeof data - 1, &size, &err), 0);
        assert_int_equal(rp_blob_upload_commit(bs, ID2, name, &err), -EBADMSG);
        assert_int_equal(rp_blob_upload_commit(bs, ID1, name, &err), 0);

        /* The same bytes again: the commit drops the staging object and
         * leaves the blob as it is (the same file). */
        char rel[128];
        snprintf(rel, sizeof rel, "blobs/%.2s/%s", name, name);
        char *blob = test_path(root, rel);
        struct stat before, after;
        assert_int_equal(stat(blob, &before), 0);
        assert_int_equal(rp_blob_upload_append(bs, ID2, sizeof data - 1, data + sizeof data - 1, 1, &size, &err), 0);
        assert_int_equal(rp_blob_upload_commit(bs, ID2, name, &err), 0);
        assert_int_equal(stat(blob, &after), 0);
        assert_int_equal(before.st_ino, after.st_ino);
        assert_int_equal(after.st_nlink, 1);
        assert_false(path_exists(root, "staging/" ID2));
        free(blob);
        free(root);
}

/* Every function refuses names and ids that are not what blob.h says, and
 * so does the backend's table called directly: nothing outside the store's
 * two directories is touched. */
static void test_hostile(void **state) {
        (void) state;
        char *root = NULL;
        _cleanup_(rp_blob_store_closep) rp_blob_store *bs = new_store(&root);
        rp_error err = {};
        uint64_t size;
        bool e;
        rp_blob_reader *r = NULL;
        char good[RP_BLOB_NAME_LEN + 1];
        name_of("", 0, good);
        char *victim = test_path(root, "victim");
        test_write_file(victim, "keep", 4);
        const char *ids[] = { "../victim", "..", ".", "", "a/b", "/etc/passwd", "ABCDEF", "12 34", "x",
                              "00000000000000000000000000000000000000000000000000000000000000000" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                const char *id = ids[i];
                assert_int_equal(rp_blob_upload_create(bs, id, &err), -EINVAL);
                check_msg(&err, "is not an upload id");
                assert_int_equal(rp_blob_upload_append(bs, id, 0, "x", 1, &size, &err), -EINVAL);
                assert_int_equal(rp_blob_upload_size(bs, id, &size, &err), -EINVAL);
                assert_int_equal(rp_blob_upload_open(bs, id, &r, &err), -EINVAL);
                assert_int_equal(rp_blob_upload_commit(bs, id, good, &err), -EINVAL);
                assert_int_equal(rp_blob_upload_remove(bs, id, &err), -EINVAL);
                const rp_blob_backend *b = &rp_blob_backend_dir;
                assert_int_equal(b->upload_create(bs, id, &err), -EINVAL);
                assert_int_equal(b->upload_append(bs, id, 0, "x", 1, &size, &err), -EINVAL);
                assert_int_equal(b->upload_size(bs, id, &size, &err), -EINVAL);
                assert_int_equal(b->upload_open(bs, id, &r, &err), -EINVAL);
                assert_int_equal(b->upload_commit(bs, id, good, &err), -EINVAL);
                assert_int_equal(b->upload_remove(bs, id, &err), -EINVAL);
        }
        assert_null(r);
        const char *names[] = { "../victim", "", "..", "ab/../../victim", good + 1, "x" };
        assert_int_equal(rp_blob_upload_create(bs, ID1, &err), 0);
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                assert_int_equal(rp_blob_open(bs, names[i], &r, &err), -EINVAL);
                check_msg(&err, "is not a blob name");
                assert_int_equal(rp_blob_exists(bs, names[i], &e, &err), -EINVAL);
                assert_int_equal(rp_blob_upload_commit(bs, ID1, names[i], &err), -EINVAL);
                assert_int_equal(rp_blob_backend_dir.open_blob(bs, names[i], &r, &err), -EINVAL);
                assert_int_equal(rp_blob_backend_dir.exists(bs, names[i], &e, &err), -EINVAL);
                assert_int_equal(rp_blob_backend_dir.upload_commit(bs, ID1, names[i], &err), -EINVAL);
        }
        size_t len;
        uint8_t *kept = test_read_file(victim, &len);
        assert_int_equal(len, 4);
        free(kept);

        /* Symbolic links planted in the store are not followed. */
        char *link = test_path(root, "staging/" ID2);
        assert_int_equal(symlink(victim, link), 0);
        assert_int_equal(rp_blob_upload_append(bs, ID2, 4, "!", 1, &size, &err), -ELOOP);
        assert_int_equal(rp_blob_upload_open(bs, ID2, &r, &err), -ELOOP);
        char *fan = NULL, *blink = NULL;
        assert_true(asprintf(&fan, "%s/blobs/%.2s", root, good) > 0);
        assert_true(asprintf(&blink, "%s/%s", fan, good) > 0);
        assert_int_equal(mkdir(fan, 0700), 0);
        assert_int_equal(symlink(victim, blink), 0);
        assert_int_equal(rp_blob_open(bs, good, &r, &err), -ELOOP);
        assert_int_equal(rp_blob_exists(bs, good, &e, &err), 0);
        assert_false(e);
        kept = test_read_file(victim, &len);
        assert_int_equal(len, 4);
        assert_memory_equal(kept, "keep", 4);
        free(kept);
        free(fan);
        free(blink);
        free(link);
        free(victim);
        free(root);
}

#define PIECE 4096
#define PIECES_EACH 64

/* Appends PIECES_EACH pieces of byte value tag, each at the staged size it
 * last saw, retrying at the size the store says on -ESPIPE. */
static int appender(const char *spec, uint8_t tag, int start_fd) {
        rp_blob_store *bs = NULL;
        if (rp_blob_store_open(spec, &bs, NULL) < 0)
                return 10;
        char go;
        if (read(start_fd, &go, 1) != 1)
                return 11;
        uint8_t piece[PIECE];
        memset(piece, tag, sizeof piece);
        uint64_t at = 0;
        for (int i = 0; i < PIECES_EACH; ) {
                uint64_t size = 0;
                int r = rp_blob_upload_append(bs, ID1, at, piece, sizeof piece, &size, NULL);
                if (r == -ESPIPE) {
                        at = size;
                        continue;
                }
                if (r < 0)
                        return 12;
                at = size;
                i++;
        }
        rp_blob_store_close(bs);
        return 0;
}

static void test_two_processes(void **state) {
        (void) state;
        char *root = NULL;
        _cleanup_(rp_blob_store_closep) rp_blob_store *bs = new_store(&root);
        char *spec = NULL;
        assert_true(asprintf(&spec, "dir:%s", root) > 0);
        rp_error err = {};
        assert_int_equal(rp_blob_upload_create(bs, ID1, &err), 0);

        int go[2];
        assert_int_equal(pipe(go), 0);
        pid_t kids[2];
        for (int k = 0; k < 2; k++) {
                kids[k] = fork();
                assert_true(kids[k] >= 0);
                if (kids[k] == 0) {
                        close(go[1]);
                        _exit(appender(spec, (uint8_t) ('A' + k), go[0]));
                }
        }
        close(go[0]);
        assert_int_equal(write(go[1], "gg", 2), 2);     /* both start at once */
        close(go[1]);
        for (int k = 0; k < 2; k++) {
                int status;
                assert_int_equal(waitpid(kids[k], &status, 0), kids[k]);
                assert_true(WIFEXITED(status));
                assert_int_equal(WEXITSTATUS(status), 0);
        }

        /* Every piece whole, none lost, none written over. */
        uint64_t size;
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), 0);
        assert_int_equal(size, 2 * PIECES_EACH * PIECE);
        char *staged = test_path(root, "staging/" ID1);
        size_t len;
        uint8_t *all = test_read_file(staged, &len);
        assert_int_equal(len, size);
        int count[2] = { 0, 0 };
        for (size_t p = 0; p < len / PIECE; p++) {
                uint8_t tag = all[p * PIECE];
                assert_true(tag == 'A' || tag == 'B');
                for (size_t i = 1; i < PIECE; i++)
                        assert_int_equal(all[p * PIECE + i], tag);
                count[tag - 'A']++;
        }
        assert_int_equal(count[0], PIECES_EACH);
        assert_int_equal(count[1], PIECES_EACH);
        free(all);
        free(staged);
        free(spec);
        free(root);
}

/* A process killed after staging everything but before its commit leaves
 * no blob: the name appears only through a commit. The upload is still
 * there, whole, and commits later. */
static void test_killed_before_commit(void **state) {
        (void) state;
        char *root = NULL;
        _cleanup_(rp_blob_store_closep) rp_blob_store *bs = new_store(&root);
        uint8_t data[50000];
        fill(data, sizeof data, 3);
        char name[RP_BLOB_NAME_LEN + 1];
        name_of(data, sizeof data, name);
        char *spec = NULL;
        assert_true(asprintf(&spec, "dir:%s", root) > 0);

        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
                rp_blob_store *c = NULL;
                uint64_t size;
                if (rp_blob_store_open(spec, &c, NULL) < 0 || rp_blob_upload_create(c, ID1, NULL) < 0 ||
                    rp_blob_upload_append(c, ID1, 0, data, sizeof data, &size, NULL) < 0)
                        _exit(1);
                raise(SIGKILL);         /* where the commit would come next */
                _exit(2);
        }
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        assert_true(WIFSIGNALED(status));
        assert_int_equal(WTERMSIG(status), SIGKILL);

        rp_error err = {};
        bool e = true;
        assert_int_equal(rp_blob_exists(bs, name, &e, &err), 0);
        assert_false(e);
        rp_blob_reader *r = NULL;
        assert_int_equal(rp_blob_open(bs, name, &r, &err), -ENOENT);
        char fan[128];
        snprintf(fan, sizeof fan, "blobs/%.2s/%s", name, name);
        assert_false(path_exists(root, fan));
        uint64_t size;
        assert_int_equal(rp_blob_upload_size(bs, ID1, &size, &err), 0);
        assert_int_equal(size, sizeof data);
        assert_int_equal(rp_blob_upload_commit(bs, ID1, name, &err), 0);
        assert_int_equal(rp_blob_exists(bs, name, &e, &err), 0);
        assert_true(e);
        free(spec);
        free(root);
}

/* A commit killed between linking the blob and removing the staging name
 * (made here by doing the link by hand) leaves a complete blob; the
 * staging leftover is never written to, and committing it again only
 * removes it. */
static void test_killed_in_commit(void **state) {
        (void) state;
        _cleanup_(staged_done) staged_t u = {};
        uint8_t data[7000];
        staged_upload(&u, data, sizeof data, 4);
        rp_blob_store *bs = u.bs;
        const char *blob = u.blob;
        rp_error err = {};
        uint64_t size;
        assert_int_equal(mkdir(u.fan, 0700), 0);
        assert_int_equal(link(u.staged, blob), 0);

        assert_int_equal(rp_blob_upload_append(bs, ID1, sizeof data, "x", 1, &size, &err), -ENOENT);
        check_msg(&err, "was committed or removed meanwhile");
        struct stat st;
        assert_int_equal(stat(blob, &st), 0);
        assert_int_equal(st.st_size, sizeof data);
        rp_blob_reader *r = NULL;
        assert_int_equal(rp_blob_upload_open(bs, ID1, &r, &err), 0);
        assert_int_equal(rp_blob_size(r), sizeof data);
        rp_blob_close(r);
        assert_int_equal(rp_blob_upload_commit(bs, ID1, u.name, &err), 0);
        assert_false(path_exists(u.root, "staging/" ID1));
        assert_int_equal(stat(blob, &st), 0);
        assert_int_equal(st.st_nlink, 1);
        assert_int_equal(st.st_size, sizeof data);
}

/* True once /proc/locks shows pid waiting for a flock. */
static bool waits_for_flock(pid_t pid) {
        FILE *f = fopen("/proc/locks", "re");
        if (!f)
                return false;
        char line[256];
        bool found = false;
        while (!found && fgets(line, sizeof line, f)) {
                int p = 0;
                char *w = strstr(line, "-> FLOCK");
                found = w && sscanf(w, "-> FLOCK %*s %*s %d", &p) == 1 && p == pid;
        }
        fclose(f);
        return found;
}

/* An append that opened the upload and waits for its lock while a commit
 * links it as a blob and removes the staging name refuses when it gets the
 * lock: it never writes to the blob. (The commit is done by hand here,
 * holding the lock as the real one does, so the append is seen waiting.) */
static void test_append_waits_for_commit(void **state) {
        (void) state;
        _cleanup_(staged_done) staged_t u = {};
        uint8_t data[5000];
        staged_upload(&u, data, sizeof data, 5);
        rp_blob_store *bs = u.bs;

        int fd = open(u.staged, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        assert_int_equal(flock(fd, LOCK_EX), 0);
        pid_t kid = fork();
        assert_true(kid >= 0);
        if (kid == 0) {
                uint64_t n;
                close(fd);      /* the parent's lock: it must not hold it here too */
                int r = rp_blob_upload_append(bs, ID1, sizeof data, "x", 1, &n, NULL);
                _exit(r == -ENOENT ? 0 : 1);
        }
        int i;
        for (i = 0; i < 6000 && !waits_for_flock(kid); i++)
                usleep(10000);
        assert_true(i < 6000);          /* seen waiting within a minute */
        assert_int_equal(mkdir(u.fan, 0700), 0);
        assert_int_equal(link(u.staged, u.blob), 0);
        assert_int_equal(unlink(u.staged), 0);
        assert_int_equal(flock(fd, LOCK_UN), 0);
        close(fd);
        int status;
        assert_int_equal(waitpid(kid, &status, 0), kid);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
        struct stat st;
        assert_int_equal(stat(u.blob, &st), 0);
        assert_int_equal(st.st_size, sizeof data);
}

typedef struct listed {
        char ids[8][RP_BLOB_UPLOAD_ID_MAX + 1];
        size_t n;
        rp_blob_store *bs;
        int fail_with;
} listed;

static int list_fn(const char *id, void *userdata) {
        listed *l = userdata;
        if (l->fail_with)
                return l->fail_with;
        assert_true(l->n < ELEMENTSOF(l->ids));
        snprintf(l->ids[l->n++], sizeof l->ids[0], "%s", id);
        return rp_blob_upload_remove(l->bs, id, NULL);
}

static void test_list_older(void **state) {
        (void) state;
        char *root = NULL;
        _cleanup_(rp_blob_store_closep) rp_blob_store *bs = new_store(&root);
        rp_error err = {};
        assert_int_equal(rp_blob_upload_create(bs, ID1, &err), 0);
        assert_int_equal(rp_blob_upload_create(bs, ID2, &err), 0);
        assert_int_equal(rp_blob_upload_create(bs, "abc", &err), 0);
        /* ID1 untouched for a day; a file that is not an upload is left alone. */
        char *old = test_path(root, "staging/" ID1), *junk = test_path(root, "staging/not-an-upload");
        test_write_file(junk, "j", 1);
        struct timespec day_ago[2] = { { time(NULL) - 86400, 0 }, { time(NULL) - 86400, 0 } };
        assert_int_equal(utimensat(AT_FDCWD, old, day_ago, 0), 0);
        assert_int_equal(utimensat(AT_FDCWD, junk, day_ago, 0), 0);

        listed l = { .bs = bs, .fail_with = -EIO };
        assert_int_equal(rp_blob_upload_list_older(bs, time(NULL) - 3600, list_fn, &l, &err), -EIO);
        l.fail_with = 0;
        assert_int_equal(rp_blob_upload_list_older(bs, time(NULL) - 3600, list_fn, &l, &err), 0);
        assert_int_equal(l.n, 1);
        assert_string_equal(l.ids[0], ID1);
        assert_false(path_exists(root, "staging/" ID1));
        assert_true(path_exists(root, "staging/not-an-upload"));

        /* Everything older than a minute from now: the other two. */
        l.n = 0;
        assert_int_equal(rp_blob_upload_list_older(bs, time(NULL) + 60, list_fn, &l, &err), 0);
        assert_int_equal(l.n, 2);
        uint64_t size;
        assert_int_equal(rp_blob_upload_size(bs, ID2, &size, &err), -ENOENT);
        assert_int_equal(rp_blob_upload_size(bs, "abc", &size, &err), -ENOENT);
        free(old);
        free(junk);
        free(root);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_names),
                cmocka_unit_test(test_open),
                cmocka_unit_test(test_flow),
                cmocka_unit_test(test_commit_refusals),
                cmocka_unit_test(test_hostile),
                cmocka_unit_test(test_two_processes),
                cmocka_unit_test(test_killed_before_commit),
                cmocka_unit_test(test_killed_in_commit),
                cmocka_unit_test(test_append_waits_for_commit),
                cmocka_unit_test(test_list_older),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
