/* SPDX-License-Identifier: Apache-2.0 */
/* Token buckets per client address, in a set-associative table: a keyed
 * hash of the address picks a set of WAYS slots; a new client takes an empty
 * slot or the one seen longest ago. Sets are spread over LOCKS mutexes so
 * that workers rarely wait for each other. The hash key is random per
 * process, so a client cannot choose addresses that crowd one set. */
#include <math.h>
#include <netinet/in.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define WAYS 4
#define LOCKS 64

typedef struct bucket {
        uint8_t key[16];        /* IPv4-mapped address, or the IPv6 /64 prefix */
        bool used;
        double tokens;
        double last;            /* when tokens was computed */
} bucket;

struct rp_ratelimit {
        double rate, burst;
        size_t n_sets;          /* a power of two */
        uint64_t seed[2];
        pthread_mutex_t locks[LOCKS];
        bucket *slots;          /* n_sets * WAYS */
};

rp_ratelimit *rp_ratelimit_new(double rate, unsigned burst, size_t entries) {
        rp_ratelimit *rl = calloc(1, sizeof *rl);
        if (!rl)
                return NULL;
        rl->rate = rate;
        rl->burst = burst;
        rl->n_sets = LOCKS;
        while (rl->n_sets * WAYS < entries)
                rl->n_sets *= 2;
        rl->slots = calloc(rl->n_sets * WAYS, sizeof *rl->slots);
        if (!rl->slots || RAND_bytes((unsigned char *) rl->seed, sizeof rl->seed) != 1) {
                free(rl->slots);
                free(rl);
                return NULL;
        }
        for (size_t i = 0; i < LOCKS; i++)
                pthread_mutex_init(&rl->locks[i], NULL);
        return rl;
}

void rp_ratelimit_free(rp_ratelimit *rl) {
        if (!rl)
                return;
        for (size_t i = 0; i < LOCKS; i++)
                pthread_mutex_destroy(&rl->locks[i]);
        free(rl->slots);
        free(rl);
}

/* A keyed mix of the 16 key bytes (two rounds of a 64-bit multiply-xorshift
 * per word): not a cryptographic MAC, but with a secret seed an outsider
 * cannot predict which set an address lands in. */
static uint64_t mix(uint64_t x) {
        x ^= x >> 33;
        x *= 0xff51afd7ed558ccdULL;
        x ^= x >> 33;
        x *= 0xc4ceb9fe1a85ec53ULL;
        x ^= x >> 33;
        return x;
}

static uint64_t hash_key(const rp_ratelimit *rl, const uint8_t key[16]) {
        uint64_t a, b;
        memcpy(&a, key, 8);
        memcpy(&b, key + 8, 8);
        return mix(mix(a ^ rl->seed[0]) ^ b ^ rl->seed[1]);
}

static void make_key(const struct sockaddr *addr, uint8_t key[16]) {
        memset(key, 0, 16);
        if (addr->sa_family == AF_INET) {
                const struct sockaddr_in *in = (const struct sockaddr_in *) addr;
                key[10] = key[11] = 0xff;
                memcpy(key + 12, &in->sin_addr, 4);
        } else if (addr->sa_family == AF_INET6) {
                const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *) addr;
                if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
                        memcpy(key, &in6->sin6_addr, 16);
                else
                        memcpy(key, &in6->sin6_addr, 8);        /* one client: a /64 */
        }
}

bool rp_ratelimit_take(rp_ratelimit *rl, const struct sockaddr *addr, double now, unsigned *ret_retry_after) {
        uint8_t key[16];
        make_key(addr, key);
        size_t set = (size_t) (hash_key(rl, key) & (rl->n_sets - 1));
        pthread_mutex_t *lock = &rl->locks[set % LOCKS];
        bucket *ways = &rl->slots[set * WAYS];

        pthread_mutex_lock(lock);
        bucket *b = NULL, *victim = &ways[0];
        for (size_t i = 0; i < WAYS && !b; i++) {
                if (ways[i].used && memcmp(ways[i].key, key, 16) == 0)
                        b = &ways[i];
                else if (!ways[i].used || (victim->used && ways[i].last < victim->last))
                        victim = &ways[i];
        }
        if (!b) {
                b = victim;
                memcpy(b->key, key, 16);
                b->used = true;
                b->tokens = rl->burst;
                b->last = now;
        }
        if (now > b->last) {
                b->tokens = fmin(rl->burst, b->tokens + (now - b->last) * rl->rate);
                b->last = now;
        }
        bool ok = b->tokens >= 1;
        if (ok)
                b->tokens -= 1;
        else
                *ret_retry_after = (unsigned) fmax(1, ceil((1 - b->tokens) / rl->rate));
        pthread_mutex_unlock(lock);
        return ok;
}
