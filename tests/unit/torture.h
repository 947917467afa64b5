/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Allocation-failure injection, after curl's "torture" tests: make the Nth
 * allocation fail and check that the code under test returns an error,
 * does not crash, and frees what it took (LeakSanitizer reports anything
 * left at exit in the sanitizer build).
 *
 * It covers allocations made by librampart itself (linked with
 * -Wl,--wrap=malloc,...) and by jansson (through its allocator hook).
 * libcbor (Debian builds it without allocator hooks) and OpenSSL allocate
 * on their own and are not failed. */

#include <stdbool.h>
#include <stddef.h>

/* Routes jansson's allocations through the counter. Call once
 * at the start of main(). */
void torture_init(void);

/* From now on, the nth allocation (1-based) fails, and so do all after it
 * when sticky; 0 disables failing. Resets the count. */
void torture_fail_at(size_t nth, bool sticky);

/* Allocations counted since the last torture_fail_at(). */
size_t torture_count(void);

/* True if an allocation was failed since the last torture_fail_at(). */
bool torture_failed(void);

/* Runs op(ctx) with the 1st, 2nd, ... allocation failing until a run makes
 * no failed allocation, and checks each failing run returns a negative code
 * (no crash, no success built on a failed allocation). Returns the number of
 * runs; fails the cmocka test on a violation. max_runs bounds the loop. */
size_t torture_run(int (*op)(void *ctx), void *ctx, size_t max_runs);
