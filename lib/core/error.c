/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "rampart/error.h"

/* error.h wraps these for the static analyzer; here they are defined. */
#undef rp_error_set
#undef rp_error_set_errno
#undef rp_error_prefix

__attribute__((format(printf, 3, 0)))
static void vformat(rp_error *err, int code, const char *fmt, va_list ap) {
        err->code = code < 0 ? code : -EINVAL;
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        if (err->message[0] == '\0')
                snprintf(err->message, sizeof err->message, "%s", strerror(-err->code));
}

int rp_error_set(rp_error *err, int code, const char *fmt, ...) {
        if (code >= 0)
                code = -EINVAL;
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        vformat(err, code, fmt, ap);
        va_end(ap);
        return code;
}

int rp_error_set_errno(rp_error *err, int code, const char *fmt, ...) {
        if (code >= 0)
                code = -EINVAL;
        if (!err)
                return code;
        va_list ap;
        va_start(ap, fmt);
        vformat(err, code, fmt, ap);
        va_end(ap);
        size_t n = strlen(err->message);
        snprintf(err->message + n, sizeof err->message - n, ": %s", strerror(-code));
        return code;
}

int rp_error_prefix(rp_error *err, int code, const char *fmt, ...) {
        if (code >= 0)
                code = -EINVAL;         /* a caller bug; still a failure */
        if (!err)
                return code;
        if (err->code == 0)
                err->code = code;

        char prefix[RP_ERROR_MAX], old[RP_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        memcpy(old, err->message, sizeof old);
        /* Truncate rather than fail: the start of a long message is the part
         * a person needs. */
        size_t cap = sizeof err->message - 1;
        size_t pl = strnlen(prefix, cap), ol = strnlen(old, sizeof old - 1);
        if (ol > cap - pl)
                ol = cap - pl;
        memcpy(err->message, prefix, pl);
        memcpy(err->message + pl, old, ol);
        err->message[pl + ol] = '\0';
        return code;
}

void rp_error_clear(rp_error *err) {
        if (!err)
                return;
        err->code = 0;
        err->message[0] = '\0';
}

const char *rp_error_message(const rp_error *err, int code) {
        if (err && err->code != 0 && err->message[0])
                return err->message;
        return strerror(code < 0 ? -code : code);
}
