/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-server's per-client rate limit (src/server/ratelimit.c): the
 * burst, the refill, Retry-After, clients apart from each other (IPv4
 * addresses, IPv6 /64 prefixes), a bounded table that forgets clients rather
 * than grow, and workers sharing it from several threads. Time is passed in,
 * so nothing here waits. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "testlib.h"

static struct sockaddr_storage v4(const char *a) {
        struct sockaddr_storage ss = { 0 };
        struct sockaddr_in *in = (struct sockaddr_in *) &ss;
        in->sin_family = AF_INET;
        assert_int_equal(inet_pton(AF_INET, a, &in->sin_addr), 1);
        return ss;
}

static struct sockaddr_storage v6(const char *a) {
        struct sockaddr_storage ss = { 0 };
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;
        in6->sin6_family = AF_INET6;
        assert_int_equal(inet_pton(AF_INET6, a, &in6->sin6_addr), 1);
        return ss;
}

static bool take(rp_ratelimit *rl, const struct sockaddr_storage *ss, double now, unsigned *retry) {
        return rp_ratelimit_take(rl, (const struct sockaddr *) ss, now, retry);
}

/* burst requests at once, then refused until the bucket refills at rate. */
static void test_burst_and_refill(void **state) {
        rp_ratelimit *rl = rp_ratelimit_new(2, 5, 16);
        assert_non_null(rl);
        struct sockaddr_storage a = v4("192.0.2.1");
        unsigned retry = 0;
        for (int i = 0; i < 5; i++)
                assert_true(take(rl, &a, 100, &retry));
        assert_false(take(rl, &a, 100, &retry));
        assert_int_equal(retry, 1);             /* half a second, rounded up */
        assert_false(take(rl, &a, 100.4, &retry));
        assert_true(take(rl, &a, 100.5, &retry));       /* one token back */
        assert_false(take(rl, &a, 100.5, &retry));
        /* A long pause refills to the burst, not beyond. */
        for (int i = 0; i < 5; i++)
                assert_true(take(rl, &a, 1000, &retry));
        assert_false(take(rl, &a, 1000, &retry));
        /* Time going backwards (it is monotonic, but) gives nothing. */
        assert_false(take(rl, &a, 900, &retry));
        rp_ratelimit_free(rl);
}

static void test_retry_after(void **state) {
        rp_ratelimit *rl = rp_ratelimit_new(0.1, 1, 16);        /* one request per 10 s */
        assert_non_null(rl);
        struct sockaddr_storage a = v4("192.0.2.1");
        unsigned retry = 0;
        assert_true(take(rl, &a, 0, &retry));
        assert_false(take(rl, &a, 0, &retry));
        assert_int_equal(retry, 10);
        assert_false(take(rl, &a, 7.5, &retry));
        assert_int_equal(retry, 3);             /* 2.5 s left, rounded up */
        assert_true(take(rl, &a, 10, &retry));
        rp_ratelimit_free(rl);
}

/* One client's bucket is its own; an IPv6 client is its /64. */
static void test_clients_apart(void **state) {
        rp_ratelimit *rl = rp_ratelimit_new(1, 1, 16);
        assert_non_null(rl);
        struct sockaddr_storage a = v4("192.0.2.1"), b = v4("192.0.2.2");
        struct sockaddr_storage c = v6("2001:db8:1:2::1"), c2 = v6("2001:db8:1:2:ffff::9"), d = v6("2001:db8:1:3::1");
        struct sockaddr_storage mapped = v6("::ffff:192.0.2.1");
        unsigned retry;
        assert_true(take(rl, &a, 0, &retry));
        assert_false(take(rl, &a, 0, &retry));
        assert_true(take(rl, &b, 0, &retry));
        assert_false(take(rl, &mapped, 0, &retry));     /* the same IPv4 client */
        assert_true(take(rl, &c, 0, &retry));
        assert_false(take(rl, &c2, 0, &retry));         /* same /64 */
        assert_true(take(rl, &d, 0, &retry));           /* another /64 */
        rp_ratelimit_free(rl);
}

/* Many more clients than the table holds: it forgets some (they start
 * again with a full bucket) and keeps working; a client seen just now is
 * still limited. */
static void test_bounded_table(void **state) {
        rp_ratelimit *rl = rp_ratelimit_new(1, 1, 256);
        assert_non_null(rl);
        unsigned retry;
        struct sockaddr_storage hot = v4("198.51.100.7");
        assert_true(take(rl, &hot, 0, &retry));
        for (unsigned i = 0; i < 100000; i++) {
                struct sockaddr_storage ss = { 0 };
                struct sockaddr_in *in = (struct sockaddr_in *) &ss;
                in->sin_family = AF_INET;
                in->sin_addr.s_addr = htonl(0x0a000000u + i);
                assert_true(take(rl, &ss, 0.5, &retry));        /* each new, each served */
        }
        /* hot was forgotten or not; either way one request is fine at 0.9
         * (its bucket may have been full again), and then it is limited. */
        (void) take(rl, &hot, 0.9, &retry);
        assert_false(take(rl, &hot, 0.9, &retry));
        rp_ratelimit_free(rl);
}

typedef struct worker_arg {
        rp_ratelimit *rl;
        unsigned allowed;
} worker_arg;

static void *hammer(void *p) {
        worker_arg *a = p;
        struct sockaddr_storage ss = v4("203.0.113.5");
        unsigned retry;
        for (int i = 0; i < 10000; i++)
                a->allowed += take(a->rl, &ss, 0, &retry);
        return NULL;
}

/* Four threads at one client at one instant: exactly the burst gets
 * through. */
static void test_threads_share(void **state) {
        rp_ratelimit *rl = rp_ratelimit_new(1, 1000, 64);
        assert_non_null(rl);
        worker_arg args[4];
        pthread_t t[4];
        for (int i = 0; i < 4; i++) {
                args[i] = (worker_arg) { rl, 0 };
                assert_int_equal(pthread_create(&t[i], NULL, hammer, &args[i]), 0);
        }
        unsigned total = 0;
        for (int i = 0; i < 4; i++) {
                pthread_join(t[i], NULL);
                total += args[i].allowed;
        }
        assert_int_equal(total, 1000);
        rp_ratelimit_free(rl);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_burst_and_refill),
                cmocka_unit_test(test_retry_after),
                cmocka_unit_test(test_clients_apart),
                cmocka_unit_test(test_bounded_table),
                cmocka_unit_test(test_threads_share),
        };
        return test_exit(cmocka_run_group_tests(tests, NULL, NULL));
}
