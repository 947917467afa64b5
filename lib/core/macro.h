/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Helpers for leak-free early returns, in the style of systemd:
 *
 *     _cleanup_free_ char *s = strdup(x);
 *     _cleanup_(rp_key_freep) rp_key *k = NULL;
 *     ...
 *     *ret = TAKE_PTR(k);
 */

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* An internal invariant, false only through a bug in rampart (for example
 * the builder meeting bytes the CBOR check should have refused). Checked in
 * every build: a violation stops the process rather than let it read or
 * write out of bounds. Never for checking input: that returns an error. */
#define RP_INVARIANT(cond)                          \
        do {                                        \
                if (__builtin_expect(!(cond), 0))   \
                        abort();                    \
        } while (0)

/* Returns p and sets the variable to NULL, handing ownership to the caller. */
#define TAKE_PTR(p)                         \
        ({                                  \
                typeof(p) _p_ = (p);        \
                (p) = NULL;                 \
                _p_;                        \
        })

/* Returns fd and sets the variable to -1. */
#define TAKE_FD(fd)                         \
        ({                                  \
                int _fd_ = (fd);            \
                (fd) = -1;                  \
                _fd_;                       \
        })

static inline void freep(void *p) {
        free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd) {
        if (*fd >= 0)
                close(*fd);
}
#define _cleanup_close_ _cleanup_(closep)

#define streq(a, b) (strcmp((a), (b)) == 0)
