/* SPDX-License-Identifier: Apache-2.0 */
/* Fault injection for lib/core (faults.h): file reads and atomic writes
 * whose open, read, write, fsync or rename fails, and the allocations
 * libcbor and OpenSSL make on their own. Every failure must be reported,
 * and an atomic write that fails must leave the old file as it was and no
 * temporary file beside it. */
#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "core/cbor.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "faults.h"
#include "rampart/cose.h"
#include "testlib.h"

/* At most this many runs per failure point: allocation counts inside
 * OpenSSL run into the hundreds, and every run is the whole operation. */
#define MAX_RUNS 64

static const char OLD[] = "the old contents\n";
static const char NEW[] = "the new contents, longer than the old ones\n";

/* The directory holds only `name` (no temporary file left behind). */
static void assert_only_file(const char *dir, const char *name) {
        DIR *d = opendir(dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d))) {
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                if (!streq(de->d_name, name))
                        fail_msg("%s: unexpected file '%s' left behind", dir, de->d_name);
        }
        closedir(d);
}

/* ---- bounded reads ----------------------------------------------------- */

static int run_read(void *ctx) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r = rp_read_file(ctx, 1 << 20, &buf, &len, NULL);
        if (r < 0)
                return r;
        return len > 0 ? 0 : -EIO;
}

static void test_read_files(void **state) {
        _cleanup_free_ char *p = test_path(test_tmpdir(), "read");
        test_write_file(p, NEW, strlen(NEW));
        fault_op op = { .name = "rp_read_file", .run = run_read, .ctx = p };
        assert_int_equal(fault_each(&op, "posix/io/rw/read", EIO, MAX_RUNS), 2);
        assert_int_equal(fault_run(&op, "posix/io/rw/read", EINTR, FAULT_RECOVERED, MAX_RUNS), 2);
        assert_int_equal(fault_run(&op, "posix/io/rw/read/reduce", 0, FAULT_RECOVERED, MAX_RUNS), 2);
        assert_int_equal(fault_each(&op, "libc/mm/malloc", ENOMEM, MAX_RUNS), 1);

        /* A /proc file reports size 0 and is read by growing the buffer. */
        fault_op proc = { .name = "rp_read_file /proc", .run = run_read, .ctx = (void *) "/proc/self/status" };
        assert_true(fault_each(&proc, "libc/mm/realloc", ENOMEM, MAX_RUNS) >= 1);
        assert_true(fault_each(&proc, "posix/io/rw/read", EIO, MAX_RUNS) >= 2);
}

/* ---- atomic writes ----------------------------------------------------- */

typedef struct atomic_ctx {
        const char *dir;
        char *path;
} atomic_ctx;

static void setup_atomic(void *ctx) {
        atomic_ctx *a = ctx;
        test_write_file(a->path, OLD, strlen(OLD));
}

static int run_atomic(void *ctx) {
        atomic_ctx *a = ctx;
        return rp_write_file_atomic(a->path, NEW, strlen(NEW), 0644, NULL);
}

/* A failed write leaves the old contents; the only failure that may leave
 * the new ones is the directory's fsync after the rename (the second fsync),
 * which is still reported. */
static void check_atomic(void *ctx, int r, size_t nth) {
        atomic_ctx *a = ctx;
        size_t len;
        _cleanup_free_ uint8_t *got = test_read_file(a->path, &len);
        if (r == 0) {
                assert_memory_equal(got, NEW, strlen(NEW));
        } else {
                bool old = len == strlen(OLD) && memcmp(got, OLD, len) == 0;
                bool new = len == strlen(NEW) && memcmp(got, NEW, len) == 0;
                assert_true(old || new);
        }
        assert_only_file(a->dir, "target");
}

static void check_atomic_old(void *ctx, int r, size_t nth) {
        atomic_ctx *a = ctx;
        check_atomic(ctx, r, nth);
        if (r < 0) {
                size_t len;
                _cleanup_free_ uint8_t *got = test_read_file(a->path, &len);
                assert_int_equal(len, strlen(OLD));
                assert_memory_equal(got, OLD, len);
        }
}

static void test_atomic_write(void **state) {
        _cleanup_free_ char *dir = test_path(test_tmpdir(), "atomic");
        assert_int_equal(mkdir(dir, 0755), 0);
        atomic_ctx a = { .dir = dir, .path = test_path(dir, "target") };
        fault_op op = { .name = "rp_write_file_atomic", .setup = setup_atomic, .run = run_atomic,
                        .check = check_atomic_old, .ctx = &a };
        /* The directory is opened to make the rename durable. */
        assert_int_equal(fault_each(&op, "posix/io/oc/open", EACCES, MAX_RUNS), 1);
        assert_int_equal(fault_each(&op, "posix/io/rw/write", ENOSPC, MAX_RUNS), 1);
        assert_int_equal(fault_run(&op, "posix/io/rw/write/reduce", 0, FAULT_RECOVERED, MAX_RUNS), 1);
        assert_int_equal(fault_run(&op, "posix/io/rw/write", EINTR, FAULT_RECOVERED, MAX_RUNS), 1);
        assert_int_equal(fault_each(&op, "posix/io/dir/rename", EXDEV, MAX_RUNS), 1);
        /* glibc's asprintf() absorbs some failed allocations of its own. */
        assert_true(fault_run(&op, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 1);
        assert_int_equal(fault_each(&op, "libc/str/strdup", ENOMEM, MAX_RUNS), 3);

        /* The file's fsync fails: old contents. The directory's fails: the
         * new file is in place and the failure is still reported. */
        op.check = check_atomic;
        assert_int_equal(fault_each(&op, "posix/io/sync/fsync", EIO, MAX_RUNS), 2);
        setup_atomic(&a);
        fault_op first = op;
        first.check = check_atomic_old;
        fault_each(&first, "posix/io/sync/fsync", EIO, 1);
        free(a.path);
}

/* ---- keys -------------------------------------------------------------- */

static rp_key *es256, *ed25519;

static int run_sign_verify(void *ctx);

/* A key that generation handed back must work. */
static int run_key_generate(void *ctx) {
        _cleanup_(rp_key_freep) rp_key *k = NULL;
        int r = rp_key_generate(*(rp_key_type *) ctx, &k, NULL);
        if (r < 0)
                return r;
        return run_sign_verify(k);
}

typedef struct key_ctx {
        rp_key *key;
        const char *dir;
        char *priv, *pub;
} key_ctx;

static void setup_key_files(void *ctx) {
        key_ctx *k = ctx;
        test_write_file(k->priv, OLD, strlen(OLD));
        test_write_file(k->pub, OLD, strlen(OLD));
}

static int run_key_save(void *ctx) {
        key_ctx *k = ctx;
        int r = rp_key_save_private(k->key, k->priv, NULL);
        if (r < 0)
                return r;
        return rp_key_save_public(k->key, k->pub, NULL);
}

static int run_key_load(void *ctx) {
        key_ctx *k = ctx;
        _cleanup_(rp_key_freep) rp_key *priv = NULL, *pub = NULL;
        int r = rp_key_load_private(k->priv, &priv, NULL);
        if (r < 0)
                return r;
        r = rp_key_load_public(k->pub, &pub, NULL);
        if (r < 0)
                return r;
        /* What was loaded must be the key that was saved. */
        uint8_t a[RP_KEY_ID_LEN], b[RP_KEY_ID_LEN], c[RP_KEY_ID_LEN];
        rp_key_id(k->key, a);
        rp_key_id(priv, b);
        rp_key_id(pub, c);
        return memcmp(a, b, sizeof a) == 0 && memcmp(a, c, sizeof a) == 0 ? 0 : -EBADMSG;
}

/* The public half of a private key file. */
static int run_key_load_public_half(void *ctx) {
        key_ctx *k = ctx;
        _cleanup_(rp_key_freep) rp_key *pub = NULL;
        int r = rp_key_load_public(k->priv, &pub, NULL);
        if (r < 0)
                return r;
        if (rp_key_is_private(pub))
                return -EBADMSG;
        uint8_t a[RP_KEY_ID_LEN], b[RP_KEY_ID_LEN];
        rp_key_id(k->key, a);
        rp_key_id(pub, b);
        return memcmp(a, b, sizeof a) == 0 ? 0 : -EBADMSG;
}

static void check_key_files(void *ctx, int r, size_t nth) {
        key_ctx *k = ctx;
        DIR *d = opendir(k->dir);
        assert_non_null(d);
        struct dirent *de;
        while ((de = readdir(d)))
                if (de->d_name[0] == '.' && !streq(de->d_name, ".") && !streq(de->d_name, ".."))
                        fail_msg("%s: temporary file '%s' left behind", k->dir, de->d_name);
        closedir(d);
}

static void test_keys(void **state) {
        static const char *const io[] = { "posix/io/oc/open", "posix/io/rw/write", "posix/io/sync/fsync",
                                          "posix/io/dir/rename" };
        static const char *const alloc[] = { "libc/mm/malloc", "libc/mm/calloc", "libc/mm/realloc" };
        rp_key_type types[] = { RP_KEY_ES256, RP_KEY_ED25519 };
        for (size_t t = 0; t < ELEMENTSOF(types); t++) {
                fault_op gen = { .name = "rp_key_generate", .run = run_key_generate, .ctx = &types[t] };
                for (size_t i = 0; i < ELEMENTSOF(alloc); i++)
                        fault_run(&gen, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);

                _cleanup_free_ char *dir = test_path(test_tmpdir(), t ? "keys-ed25519" : "keys-es256");
                assert_int_equal(mkdir(dir, 0700), 0);
                key_ctx k = { .key = t ? ed25519 : es256, .dir = dir, .priv = test_path(dir, "k.pem"),
                              .pub = test_path(dir, "k.pub") };
                fault_op save = { .name = "rp_key_save", .setup = setup_key_files, .run = run_key_save,
                                  .check = check_key_files, .ctx = &k };
                for (size_t i = 0; i < ELEMENTSOF(io); i++)
                        assert_true(fault_each(&save, io[i], EIO, MAX_RUNS) >= 2);
                for (size_t i = 0; i < ELEMENTSOF(alloc); i++)
                        fault_run(&save, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS);

                assert_int_equal(run_key_save(&k), 0);
                /* OpenSSL's key decoders report some of their allocation
                 * failures as a key they cannot decode or do not support
                 * (nothing queued to tell them apart). */
                fault_op load = { .name = "rp_key_load", .run = run_key_load, .ctx = &k, .openssl_any_code = true };
                assert_true(fault_each(&load, "posix/io/rw/read", EIO, MAX_RUNS) >= 2);
                /* OpenSSL's decoders make thousands of allocations for
                 * one key: a wide sample of them. */
                for (size_t i = 0; i < ELEMENTSOF(alloc); i++)
                        fault_run(&load, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 600);
                fault_op half = { .name = "rp_key_load_public (private file)", .run = run_key_load_public_half,
                                  .ctx = &k, .openssl_any_code = true };
                fault_run(&half, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, 600);
                free(k.priv);
                free(k.pub);
        }
}

/* ---- signatures, digests, CBOR, COSE --------------------------------- */

static int run_sign_verify(void *ctx) {
        rp_key *key = ctx;
        uint8_t sig[RP_SIG_MAX];
        size_t sig_len;
        int r = rp_key_sign(key, "message", 7, sig, &sig_len, NULL);
        if (r < 0)
                return r;
        return rp_key_verify(key, "message", 7, sig, sig_len, NULL);
}

static int run_sha256(void *ctx) {
        _cleanup_(rp_sha256_freep) rp_sha256 *h = NULL;
        uint8_t d[RP_SHA256_LEN];
        int r = rp_sha256_new(&h);
        if (r >= 0)
                r = rp_sha256_update(h, "abc", 3);
        if (r >= 0)
                r = rp_sha256_final(h, d);
        /* SHA-256("abc") begins ba7816bf. */
        if (r >= 0 && memcmp(d, "\xba\x78\x16\xbf", 4) != 0)
                r = -EBADMSG;
        if (r >= 0)
                r = rp_sha256_digest("abc", 3, d);
        if (r >= 0 && memcmp(d, "\xba\x78\x16\xbf", 4) != 0)
                r = -EBADMSG;
        return r;
}

static int run_cbor(void *ctx) {
        /* {"b": [1, h'00'], 10: 2, "a": 18(h''), -1: true} */
        static const uint8_t in[] = { 0xa4, 0x61, 0x62, 0x82, 0x01, 0x41, 0x00, 0x0a, 0x02, 0x61, 0x61,
                                      0xd2, 0x40, 0x20, 0xf5 };
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t used;
        int r = rp_cbor_decode(in, sizeof in, 8, 100, &item, &used, NULL);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *out = NULL;
        size_t len;
        r = rp_cbor_encode(item, &out, &len, NULL);
        if (r < 0)
                return r;
        /* Sorted and re-encoded, the same item comes back in another order. */
        return len == sizeof in ? 0 : -EBADMSG;
}

static int run_cose(void *ctx) {
        rp_key *key = ctx;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r = rp_cose_sign1_create(key, "text/plain", "payload", 7, "aad", 3, &buf, &len, NULL);
        if (r < 0)
                return r;
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
        r = rp_cose_sign1_decode(buf, len, &m, NULL, NULL);
        if (r < 0)
                return r;
        return rp_cose_sign1_verify(m, key, "aad", 3, NULL);
}

static void test_crypto(void **state) {
        static const char *const alloc[] = { "libc/mm/malloc", "libc/mm/calloc", "libc/mm/realloc" };
        rp_key *keys[] = { es256, ed25519 };
        for (size_t k = 0; k < ELEMENTSOF(keys); k++) {
                fault_op sv = { .name = "sign+verify", .run = run_sign_verify, .ctx = keys[k] };
                fault_op cose = { .name = "COSE create+decode+verify", .run = run_cose, .ctx = keys[k] };
                /* Every call, not a sample: these are cheap. */
                for (size_t i = 0; i < ELEMENTSOF(alloc); i++) {
                        fault_run(&sv, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
                        fault_run(&cose, alloc[i], ENOMEM, FAULT_REPORTED_OR_ABSORBED, 0);
                }
        }
        fault_op sha = { .name = "sha256", .run = run_sha256 };
        assert_true(fault_run(&sha, "libc/mm/malloc", ENOMEM, FAULT_REPORTED_OR_ABSORBED, MAX_RUNS) >= 1);
        fault_op cbor = { .name = "cbor decode+encode", .run = run_cbor };
        assert_true(fault_each(&cbor, "libc/mm/malloc", ENOMEM, MAX_RUNS) >= 5);
        fault_each(&cbor, "libc/mm/realloc", ENOMEM, MAX_RUNS);
}

int main(void) {
        if (rp_key_generate(RP_KEY_ES256, &es256, NULL) < 0 || rp_key_generate(RP_KEY_ED25519, &ed25519, NULL) < 0)
                return 1;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_read_files),
                cmocka_unit_test(test_atomic_write),
                cmocka_unit_test(test_keys),
                cmocka_unit_test(test_crypto),
        };
        int r = cmocka_run_group_tests(tests, NULL, NULL);
        rp_key_free(es256);
        rp_key_free(ed25519);
        return r;
}
