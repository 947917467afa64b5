/* SPDX-License-Identifier: Apache-2.0 */
/* One line per event on stderr ("rampart-server: event=NAME key=value ..."),
 * for journald or any log collector. Each line is written with one
 * write(2), so lines from the worker threads never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

void rp_log(const char *fmt, ...) {
        char line[4096];
        int n = snprintf(line, sizeof line, "rampart-server: ");
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(line + n, sizeof line - (size_t) n - 1, fmt, ap);
        va_end(ap);
        n = k < 0 ? n : n + k;
        if (n > (int) sizeof line - 2)
                n = (int) sizeof line - 2;
        line[n++] = '\n';
        ssize_t w = write(STDERR_FILENO, line, (size_t) n);
        (void) w;       /* nowhere else to report it */
}

const char *rp_log_quote(const char *s, char *out, size_t size) {
        size_t o = 0;
        if (size < 3) {
                if (size)
                        out[0] = '\0';
                return out;
        }
        out[o++] = '"';
        /* Each byte takes at most 4 characters ("\xNN"), and the closing
         * quote and NUL need 2. */
        for (; s && *s && o + 4 + 2 <= size; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\') {
                        out[o++] = '\\';
                        out[o++] = (char) c;
                } else if (c < 0x20 || c >= 0x7f) {
                        static const char hex[] = "0123456789abcdef";
                        out[o++] = '\\';
                        out[o++] = 'x';
                        out[o++] = hex[c >> 4];
                        out[o++] = hex[c & 15];
                } else {
                        out[o++] = (char) c;
                }
        }
        out[o++] = '"';
        out[o] = '\0';
        return out;
}

const char *rp_log_value(const char *s, char *out, size_t size) {
        size_t n = strlen(s);
        bool safe = n > 0 && n < size;
        for (size_t i = 0; safe && i < n; i++) {
                char c = s[i];
                safe = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       strchr("-._/:@+,[]", c) != NULL;
        }
        if (!safe)
                return rp_log_quote(s, out, size);
        memcpy(out, s, n + 1);
        return out;
}
