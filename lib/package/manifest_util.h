/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Checks shared by the app manifest and hardware definition parsers: JSON
 * loading with positioned errors, typed field access with messages that name
 * the field, host names, identifiers and "did you mean" suggestions. Every
 * message has the form "<source>: <path>: <reason>". */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rampart/error.h"

/* Parses len bytes of JSON text that must hold one object, rejecting
 * duplicate keys. Syntax errors name source, line and column. */
int rp_json_parse_object(const char *text, size_t len, const char *source, json_t **ret, rp_error *err);

static inline void rp_json_decrefp(json_t **j) {
        if (*j)
                json_decref(*j);
}

/* "an integer", "a boolean", ... for messages. */
const char *rp_json_type_name(const json_t *v);

/* Formats a field path for messages into buf and returns buf. Paths longer
 * than size are cut: they only name a field to a person. */
const char *rp_json_path_fmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Returns the entry of names[0..n) that word most plausibly misspells
 * (same letters in another case, or a small edit distance), or NULL. */
const char *rp_suggest(const char *word, const char *const *names, size_t n);

/* Reports a field that is not part of the schema, with a suggestion if one
 * of known[] is close. Returns -EINVAL. */
int rp_error_unknown_field(rp_error *err, const char *source, const char *parent, const char *key,
                           const char *const *known, size_t n_known);

/* Checks v is a string of at most max bytes without control characters
 * (and not empty unless allow_empty) and returns it in *ret (owned by v).
 * Errors name source and path. */
int rp_json_get_text(const json_t *v, const char *source, const char *path, size_t max, bool allow_empty,
                     const char **ret, rp_error *err);

/* Checks v is an integer in [min, max]. */
int rp_json_get_int(const json_t *v, const char *source, const char *path, int64_t min, int64_t max,
                    int64_t *ret, rp_error *err);

/* Checks v is a boolean. */
int rp_json_get_bool(const json_t *v, const char *source, const char *path, bool *ret, rp_error *err);

/* Checks v is an array of at most max entries. */
int rp_json_get_array(const json_t *v, const char *source, const char *path, size_t max, rp_error *err);

/* True if s is a C identifier ([A-Za-z_][A-Za-z0-9_]*) of at most max bytes. */
bool rp_is_identifier(const char *s, size_t max);

/* True if s is a literal peripheral name: what chips call their blocks
 * ("ISU0", "ADC-CONTROLLER-0"), so letters, digits and _-.:/ only. */
bool rp_periph_literal_ok(const char *s);

/* The longest host name (RFC 1035). */
#define RP_HOST_MAX 253

/* Validates one AllowedConnections entry: a DNS host name (labels of
 * letters, digits, '-' and '_'), a "*.domain" wildcard with at least two
 * labels after the '*', or a dotted-quad IPv4 address. On success returns 0
 * and a malloc'd lowercase copy; on failure a negative code and a static
 * reason text in *ret_reason. */
int rp_host_check(const char *s, char **ret_normalized, const char **ret_reason);

/* Appends printf-style text to a growing malloc'd buffer. Returns 0 or
 * -ENOMEM (the buffer is kept, so callers free it either way). */
typedef struct rp_strbuf {
        char *buf;
        size_t len, cap;
} rp_strbuf;
int rp_strbuf_printf(rp_strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void rp_strbuf_free(rp_strbuf *sb);
