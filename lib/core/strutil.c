/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/strutil.h"

static const char hexdigits[] = "0123456789abcdef";

void rp_hex_encode_buf(const void *buf, size_t len, char *out) {
        const uint8_t *p = buf;
        for (size_t i = 0; i < len; i++) {
                out[2 * i] = hexdigits[p[i] >> 4];
                out[2 * i + 1] = hexdigits[p[i] & 15];
        }
        out[2 * len] = '\0';
}

char *rp_hex_encode(const void *buf, size_t len) {
        if (len > (SIZE_MAX - 1) / 2)
                return NULL;
        char *out = malloc(2 * len + 1);
        if (out)
                rp_hex_encode_buf(buf, len, out);
        return out;
}

static int unhex(char c) {
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int rp_hex_decode(const char *s, uint8_t *out, size_t out_len) {
        if (strlen(s) != 2 * out_len)
                return -EINVAL;
        for (size_t i = 0; i < out_len; i++) {
                int hi = unhex(s[2 * i]), lo = unhex(s[2 * i + 1]);
                if (hi < 0 || lo < 0)
                        return -EINVAL;
                out[i] = (uint8_t) (hi << 4 | lo);
        }
        return 0;
}

int rp_guid_normalize(const char *s, char out[RP_GUID_STRLEN + 1]) {
        if (!s || strlen(s) != RP_GUID_STRLEN)
                return -EINVAL;
        for (size_t i = 0; i < RP_GUID_STRLEN; i++) {
                bool dash = i == 8 || i == 13 || i == 18 || i == 23;
                if (dash) {
                        if (s[i] != '-')
                                return -EINVAL;
                        out[i] = '-';
                } else {
                        int v = unhex(s[i]);
                        if (v < 0)
                                return -EINVAL;
                        out[i] = hexdigits[v];
                }
        }
        out[RP_GUID_STRLEN] = '\0';
        return 0;
}

bool rp_guid_is_valid(const char *s) {
        char tmp[RP_GUID_STRLEN + 1];
        return rp_guid_normalize(s, tmp) == 0;
}

/* Decodes one UTF-8 sequence at p (n bytes available); returns its length
 * and the code point, or 0 if malformed (overlong, surrogate, > U+10FFFF). */
static size_t utf8_next(const unsigned char *p, size_t n, uint32_t *cp) {
        if (p[0] < 0x80) {
                *cp = p[0];
                return 1;
        }
        size_t len;
        uint32_t c, min;
        if ((p[0] & 0xe0) == 0xc0)
                len = 2, c = p[0] & 0x1f, min = 0x80;
        else if ((p[0] & 0xf0) == 0xe0)
                len = 3, c = p[0] & 0x0f, min = 0x800;
        else if ((p[0] & 0xf8) == 0xf0)
                len = 4, c = p[0] & 0x07, min = 0x10000;
        else
                return 0;
        if (n < len)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        *cp = c;
        return len;
}

size_t rp_utf8_decode(const char *p, size_t n, uint32_t *ret_cp) {
        return n == 0 ? 0 : utf8_next((const unsigned char *) p, n, ret_cp);
}

bool rp_utf8_is_valid(const char *buf, size_t len) {
        const unsigned char *p = (const unsigned char *) buf;
        while (len > 0) {
                uint32_t cp;
                size_t k = utf8_next(p, len, &cp);
                if (k == 0 || cp == 0)
                        return false;
                p += k;
                len -= k;
        }
        return true;
}

/* The bidirectional embeddings, overrides and isolates (U+202A-U+202E,
 * U+2066-U+2069): they make a terminal show text in another order than it
 * is stored, so a name can pass for another. */
static bool is_bidi_control(uint32_t cp) {
        return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

bool rp_str_is_printable(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        while (len > 0) {
                uint32_t cp;
                size_t k = utf8_next(p, len, &cp);
                if (k == 0 || cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || is_bidi_control(cp))
                        return false;
                p += k;
                len -= k;
        }
        return true;
}
