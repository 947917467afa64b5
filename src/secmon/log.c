/* SPDX-License-Identifier: Apache-2.0 */
/* One line per event on stderr ("secmon: event=NAME key=value ..."), for
 * journald or any log collector; each line is written with one write(2), so
 * lines never interleave. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "secmon.h"

void secmon_log(const char *fmt, ...) {
        char line[SECMON_QUOTE_MAX + 512];
        int n = snprintf(line, sizeof line, "secmon: ");
        va_list ap;
        va_start(ap, fmt);
        n += vsnprintf(line + n, sizeof line - (size_t) n - 1, fmt, ap);
        va_end(ap);
        if (n > (int) sizeof line - 2)
                n = (int) sizeof line - 2;
        line[n++] = '\n';
        ssize_t k = write(STDERR_FILENO, line, (size_t) n);
        (void) k;       /* nowhere else to report it */
}

const char *secmon_quote(const char *s, char *out, size_t size) {
        size_t o = 0;
        out[o++] = '"';
        for (; *s && o + 6 < size; s++) {
                unsigned char c = (unsigned char) *s;
                if (c == '"' || c == '\\')
                        o += (size_t) snprintf(out + o, size - o, "\\%c", c);
                else if (c < 0x20 || c >= 0x7f)
                        o += (size_t) snprintf(out + o, size - o, "\\x%02x", c);
                else
                        out[o++] = (char) c;
        }
        out[o++] = '"';
        out[o] = '\0';
        return out;
}
