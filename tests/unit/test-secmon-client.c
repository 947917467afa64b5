/* SPDX-License-Identifier: Apache-2.0 */
/* The secmon client (lib/secmon/client.c) against a fake secmon: a child
 * process on a real SEQPACKET socket that answers with canned bytes. The
 * client must map refusals to its error, connect again when secmon closed
 * the connection, and refuse any answer the protocol does not allow. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "secmon/client.h"
#include "secmon/protocol.h"
#include "testlib.h"

/* One answer of the fake secmon: hex bytes to send, or NULL to close the
 * connection instead (and accept the next one). */
typedef struct answer {
        const char *hex;
} answer;

static char sock_path[sizeof ((struct sockaddr_un *) 0)->sun_path];

/* Starts a fake secmon answering each request in turn; returns its pid. */
static pid_t fake_secmon(const answer *answers, size_t n) {
        snprintf(sock_path, sizeof sock_path, "%s/fake.sock", test_tmpdir());
        unlink(sock_path);
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        memcpy(sa.sun_path, sock_path, sizeof sa.sun_path);
        int lfd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        assert_true(lfd >= 0);
        assert_int_equal(bind(lfd, (struct sockaddr *) &sa, sizeof sa), 0);
        assert_int_equal(listen(lfd, 4), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid > 0) {
                close(lfd);
                return pid;
        }
        int fd = accept(lfd, NULL, NULL);
        for (size_t i = 0; i < n && fd >= 0; i++) {
                uint8_t req[RP_SECMON_REQUEST_MAX];
                if (recv(fd, req, sizeof req, 0) <= 0)
                        _exit(1);
                if (!answers[i].hex) {
                        close(fd);
                        fd = accept(lfd, NULL, NULL);
                        continue;
                }
                size_t len = strlen(answers[i].hex) / 2;
                uint8_t *b = malloc(len + 1);
                if (!b || rp_hex_decode(answers[i].hex, b, len) < 0 || send(fd, b, len, 0) != (ssize_t) len)
                        _exit(2);
                free(b);
        }
        _exit(0);
}

static void reap(pid_t pid) {
        int st;
        kill(pid, SIGTERM);
        waitpid(pid, &st, 0);
}

static void test_unreachable(void **state) {
        rp_error err = {};
        rp_secmon *sm = NULL;
        char *path = test_path(test_tmpdir(), "nobody.sock");
        assert_int_equal(rp_secmon_connect(path, &sm, &err), -ENOENT);
        assert_non_null(strstr(err.message, "cannot reach rampart-secmon at "));
        assert_non_null(strstr(err.message, "nobody.sock: No such file or directory"));
        assert_null(sm);
        free(path);
        char long_path[200];
        memset(long_path, 'x', sizeof long_path - 1);
        long_path[sizeof long_path - 1] = '\0';
        assert_int_equal(rp_secmon_connect(long_path, &sm, &err), -ENAMETOOLONG);
}

static void test_refusal_and_reconnect(void **state) {
        static const answer answers[] = {
                { "a2012c02656e6f20752e" },     /* -13 "no u." */
                { NULL },                       /* closes: the client connects again */
                { "a201000305" },               /* 5 */
                { "a201000305" },
        };
        pid_t pid = fake_secmon(answers, ELEMENTSOF(answers));
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        uint64_t v = 99;
        assert_int_equal(rp_secmon_connect(sock_path, &sm, &err), 0);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EACCES);
        assert_string_equal(err.message, "rampart-secmon: no u.");
        assert_true(v == 99);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), 0);
        assert_true(v == 5);
        assert_int_equal(rp_secmon_counter_advance(sm, 0, 5, &v, &err), 0);
        reap(pid);
}

static void test_closed_twice(void **state) {
        static const answer answers[] = { { NULL }, { NULL } };
        pid_t pid = fake_secmon(answers, ELEMENTSOF(answers));
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        uint64_t v;
        assert_int_equal(rp_secmon_connect(sock_path, &sm, &err), 0);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EPIPE);
        assert_non_null(strstr(err.message, "closed the connection"));
        reap(pid);
}

/* Answers the client must refuse, each to one request. */
static void test_bad_answers(void **state) {
        static const char *const id = "7840" "3030303030303030303030303030303030303030303030303030303030303030"
                                      "3030303030303030303030303030303030303030303030303030303030303030";
        char info_ok[512], info_upper[512], info_short_m[512];
        /* { 1: id, 2: h'00'*32, 3: "soft", 4: true } */
        snprintf(info_ok, sizeof info_ok, "a2010003a401%s025820%s0364736f667404f5", id,
                 "0000000000000000000000000000000000000000000000000000000000000000");
        snprintf(info_upper, sizeof info_upper, "a2010003a4017840%s025820%s0364736f667404f5",
                 "4130303030303030303030303030303030303030303030303030303030303030"
                 "3030303030303030303030303030303030303030303030303030303030303030",
                 "0000000000000000000000000000000000000000000000000000000000000000");
        snprintf(info_short_m, sizeof info_short_m, "a2010003a401%s02581f%s0364736f667404f5", id,
                 "00000000000000000000000000000000000000000000000000000000000000");
        const answer answers[] = {
                { info_ok },
                { info_upper },
                { info_short_m },
                { "a2010003a0" },                       /* info: an empty map */
                { "a2010003820102" },                   /* chain: not 3 certificates */
                { "a201000383414141414141" },           /* chain: not DER */
                { "a2010003583f" "0000000000000000000000000000000000000000000000000000000000000000"
                  "00000000000000000000000000000000000000000000000000000000000000" },  /* sign: 63 bytes */
                { "a201000320" },                       /* counter: negative */
                { "a2010003f5" },                       /* counter: not a number */
                { "ff" },                               /* garbage */
                { "a2012002617800" },                   /* trailing byte */
                { "a201000340" },                       /* evidence: empty */
        };
        pid_t pid = fake_secmon(answers, ELEMENTSOF(answers));
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        assert_int_equal(rp_secmon_connect(sock_path, &sm, &err), 0);
        rp_secmon_info info;
        assert_int_equal(rp_secmon_info_get(sm, &info, &err), 0);
        assert_string_equal(info.backend, "soft");
        assert_true(info.development);
        memset(&info, 0x5a, sizeof info);
        assert_int_equal(rp_secmon_info_get(sm, &info, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "64 lowercase hex digits"));
        assert_int_equal(((uint8_t *) &info)[0], 0x5a);
        assert_int_equal(rp_secmon_info_get(sm, &info, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "measurement"));
        assert_int_equal(rp_secmon_info_get(sm, &info, &err), -EBADMSG);
        char *pem = NULL;
        assert_int_equal(rp_secmon_chain_pem(sm, &pem, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "not an array of 3"));
        assert_int_equal(rp_secmon_chain_pem(sm, &pem, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "Alias certificate is not one DER certificate"));
        assert_null(pem);
        uint8_t digest[32] = { 1 }, sig[64];
        assert_int_equal(rp_secmon_sign_digest(sm, digest, sig, &err), -EBADMSG);
        uint64_t v;
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EBADMSG);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EBADMSG);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EINVAL);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EBADMSG);
        uint8_t *ev = NULL;
        size_t len;
        assert_int_equal(rp_secmon_evidence(sm, digest, 8, &ev, &len, &err), -EBADMSG);
        assert_null(ev);
        reap(pid);
}

/* A response whose result is the chain [a, b, c] of DER byte strings, in hex. */
static char *chain_answer(const uint8_t *a, size_t al, const uint8_t *b, size_t bl) {
        cbor_item_t *arr = cbor_new_definite_array(3);
        assert_true(cbor_array_push(arr, cbor_move(rp_cbor_bytes(a, al))));
        assert_true(cbor_array_push(arr, cbor_move(rp_cbor_bytes(b, bl))));
        assert_true(cbor_array_push(arr, cbor_move(rp_cbor_bytes(b, bl))));
        uint8_t *buf;
        size_t len;
        assert_int_equal(rp_secmon_response_encode(0, NULL, arr, &buf, &len), 0);
        char *hex = rp_hex_encode(buf, len);
        free(buf);
        return hex;
}

static void test_chain(void **state) {
        EVP_PKEY *key = EVP_EC_gen("P-256");
        X509 *x = X509_new();
        assert_non_null(key);
        assert_non_null(x);
        X509_set_version(x, 2);
        ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
        X509_gmtime_adj(X509_getm_notBefore(x), 0);
        X509_gmtime_adj(X509_getm_notAfter(x), 60);
        X509_set_pubkey(x, key);
        assert_true(X509_sign(x, key, EVP_sha256()) > 0);
        uint8_t der[2048], *p = der;
        int n = i2d_X509(x, &p);
        assert_true(n > 0 && n < (int) sizeof der - 1);
        der[n] = 0;
        X509_free(x);
        EVP_PKEY_free(key);

        /* One certificate with a byte after it, then a good chain. */
        _cleanup_free_ char *bad = chain_answer(der, (size_t) n + 1, der, (size_t) n);
        _cleanup_free_ char *good = chain_answer(der, (size_t) n, der, (size_t) n);
        const answer answers[] = { { bad }, { good } };
        pid_t pid = fake_secmon(answers, ELEMENTSOF(answers));
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        _cleanup_free_ char *pem = NULL;
        assert_int_equal(rp_secmon_connect(sock_path, &sm, &err), 0);
        assert_int_equal(rp_secmon_chain_pem(sm, &pem, &err), -EBADMSG);
        assert_non_null(strstr(err.message, "Alias certificate is not one DER certificate"));
        assert_int_equal(rp_secmon_chain_pem(sm, &pem, &err), 0);
        size_t certs = 0;
        for (const char *q = pem; (q = strstr(q, "-----BEGIN CERTIFICATE-----\n")); q++)
                certs++;
        assert_int_equal(certs, 3);
        reap(pid);
}

/* Arguments the client refuses before sending anything. */
static void test_local_refusals(void **state) {
        static const answer answers[] = { { "a201000305" } };
        pid_t pid = fake_secmon(answers, ELEMENTSOF(answers));
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        assert_int_equal(rp_secmon_connect(sock_path, &sm, &err), 0);
        uint64_t v;
        uint8_t *out = NULL;
        size_t len;
        static uint8_t big[RP_ROT_SEALED_MAX + 1];
        assert_int_equal(rp_secmon_counter_read(sm, RP_ROT_COUNTERS, &v, &err), -ERANGE);
        assert_int_equal(rp_secmon_evidence(sm, big, 7, &out, &len, &err), -ERANGE);
        assert_int_equal(rp_secmon_evidence(sm, big, 65, &out, &len, &err), -ERANGE);
        assert_int_equal(rp_secmon_seal(sm, big, RP_ROT_SEAL_MAX + 1, &out, &len, &err), -EFBIG);
        assert_int_equal(rp_secmon_unseal(sm, big, RP_ROT_SEALED_MAX + 1, &out, &len, &err), -EFBIG);
        assert_null(out);
        /* The connection is still in step: the one answer is the next one. */
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), 0);
        assert_true(v == 5);
        reap(pid);
}

/* An answer larger than any the protocol allows is refused, not cut. */
static void test_oversized_answer(void **state) {
        static char hex[2 * (RP_SECMON_RESPONSE_MAX + 16) + 1];
        memset(hex, '4', sizeof hex - 1);
        hex[sizeof hex - 1] = '\0';
        const answer answers[] = { { hex } };
        pid_t pid = fake_secmon(answers, ELEMENTSOF(answers));
        rp_error err = {};
        _cleanup_(rp_secmon_closep) rp_secmon *sm = NULL;
        uint64_t v;
        assert_int_equal(rp_secmon_connect(sock_path, &sm, &err), 0);
        assert_int_equal(rp_secmon_counter_read(sm, 0, &v, &err), -EFBIG);
        assert_non_null(strstr(err.message, "a response over 16384 bytes"));
        reap(pid);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_unreachable),
                cmocka_unit_test(test_refusal_and_reconnect),
                cmocka_unit_test(test_closed_twice),
                cmocka_unit_test(test_bad_answers),
                cmocka_unit_test(test_chain),
                cmocka_unit_test(test_local_refusals),
                cmocka_unit_test(test_oversized_answer),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
