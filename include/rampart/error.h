/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/*
 * Errors. Every fallible library function returns int: 0 on success, a
 * negative errno-style code on failure. Where a person will read what went
 * wrong, the function also takes an optional `rp_error *err` (NULL is fine)
 * that receives a message naming the input, the field and the reason.
 *
 * Codes used across the library:
 *   -EINVAL        malformed input (bad syntax, wrong type, bad value)
 *   -ENOENT        a file or a referenced item does not exist
 *   -EFBIG         input exceeds a size or count limit
 *   -EBADMSG       input is truncated, padded or internally inconsistent
 *   -EKEYREJECTED  a signature or digest was checked and does not verify
 *                  (never for a check that could not be made: that is
 *                  -ENOMEM or -EIO, so a caller can retry)
 *   -EOPNOTSUPP    a valid but unsupported algorithm, version or type
 *   -EEXIST        a duplicate (key, peripheral, output file)
 *   -ERANGE        a number is out of its allowed range
 *   -EPERM         trusted data asked for before it was verified
 *   -ENOMEM        out of memory (never reported as malformed input)
 *   -EIO and other errno values from the system, passed through
 */

#include <stddef.h>

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

#define RP_ERROR_MAX 512

typedef struct rp_error {
        int code;                     /* 0 while no error was set */
        char message[RP_ERROR_MAX];   /* NUL-terminated, never empty once set */
} rp_error;

/* Records code and a printf-style message in err (if non-NULL) and returns
 * code, so callers can write `return rp_error_set(err, -EINVAL, ...)`.
 * code must be negative. */
int rp_error_set(rp_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Like rp_error_set, appending ": strerror(-code)". */
int rp_error_set_errno(rp_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Puts context in front of the message err holds ("app.json: " + message)
 * and returns code, the failure being reported (what the failed call
 * returned), so callers can write `return rp_error_prefix(err, r, ...)`
 * with err NULL too. err->code becomes code if none was set. */
int rp_error_prefix(rp_error *err, int code, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Clears err for reuse. */
void rp_error_clear(rp_error *err);

/* The message, or a generic text for code when err holds none. Never NULL. */
const char *rp_error_message(const rp_error *err, int code);

#ifdef __clang_analyzer__
/* For the clang static analyzer only (scripts/analyze): it reads one file at
 * a time and would follow `return rp_error_set(...)` as a success, reporting
 * outputs left unset on that impossible path. This tells it the result is
 * negative. Compilers never see it. */
#define rp_error_analyzer_negative_(call) \
        ({ int rp_r_ = (call); if (rp_r_ >= 0) __builtin_unreachable(); rp_r_; })
#define rp_error_set(...) rp_error_analyzer_negative_(rp_error_set(__VA_ARGS__))
#define rp_error_set_errno(...) rp_error_analyzer_negative_(rp_error_set_errno(__VA_ARGS__))
#define rp_error_prefix(...) rp_error_analyzer_negative_(rp_error_prefix(__VA_ARGS__))
#endif

#pragma GCC visibility pop
