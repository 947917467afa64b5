/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Per-client request rate limit (ratelimit.c): a token bucket per client
 * address (IPv4 address, or IPv6 /64 prefix), refilled at `rate` tokens a
 * second up to `burst`; each request takes one. Shared by all worker
 * threads. The table is bounded: when it is full, the least recently seen
 * client in the slot's set is forgotten (it starts again with a full
 * bucket), so memory does not grow with the number of clients. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct rp_ratelimit rp_ratelimit;

/* rate > 0 requests per second, burst >= 1; entries: at least this many
 * clients remembered. NULL when out of memory. */
rp_ratelimit *rp_ratelimit_new(double rate, unsigned burst, size_t entries);
void rp_ratelimit_free(rp_ratelimit *rl);

/* Takes a token for the client at addr (AF_INET or AF_INET6) at time now
 * (seconds, monotonic). True if the request may go on; false if not, with
 * *ret_retry_after the whole seconds until a token is there (at least 1). */
bool rp_ratelimit_take(rp_ratelimit *rl, const struct sockaddr *addr, double now, unsigned *ret_retry_after);
