/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Hex, GUIDs and text checks shared by the parsers. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Lowercase hex of buf into out, which holds 2*len+1 bytes. */
void rp_hex_encode_buf(const void *buf, size_t len, char *out);
/* Same, malloc'd; NULL when out of memory. */
char *rp_hex_encode(const void *buf, size_t len);
/* Decodes exactly out_len bytes from the 2*out_len hex digits of s (either
 * case); -EINVAL on any other length or character. */
int rp_hex_decode(const char *s, uint8_t *out, size_t out_len);

#define RP_GUID_STRLEN 36

/* Checks s is a GUID in the 8-4-4-4-12 hex form (either case, no braces)
 * and writes its lowercase form to out (RP_GUID_STRLEN+1 bytes). */
int rp_guid_normalize(const char *s, char out[RP_GUID_STRLEN + 1]);
bool rp_guid_is_valid(const char *s);

/* Decodes the UTF-8 sequence at p (n bytes available) into *ret_cp and
 * returns its length, or 0 if it is malformed (truncated, overlong, a
 * surrogate, beyond U+10FFFF) or n is 0. */
size_t rp_utf8_decode(const char *p, size_t n, uint32_t *ret_cp);

/* True if buf[0..len) is well-formed UTF-8 without NUL bytes. */
bool rp_utf8_is_valid(const char *buf, size_t len);

/* True if s is valid UTF-8 and holds no control characters (C0, DEL, C1)
 * and no bidirectional controls (U+202A..U+202E, U+2066..U+2069, which make
 * a terminal show text in another order), so it is safe to print. */
bool rp_str_is_printable(const char *s, size_t len);
