/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "package/manifest_util.h"

/* jansson reports an allocation that fails inside json_loadb() as a syntax
 * error ("string or '}' expected") or not at all, so a daemon short of
 * memory would call valid input invalid, and might refuse it for good; and
 * where its string buffer fails to grow, it returns the text with bytes
 * missing ("5b0e3c1d-2a4f-e6b-..."), a document that was never written. Its
 * allocations go through this hook, which notes a failure and otherwise
 * passes them to the functions installed before it (the program's own, or
 * jansson's defaults). */
static _Thread_local bool json_alloc_failed;
static json_malloc_t next_malloc;
static json_free_t next_free;
static pthread_once_t json_hook_once = PTHREAD_ONCE_INIT;

static void *json_hook_malloc(size_t n) {
        void *p = next_malloc(n);
        if (!p)
                json_alloc_failed = true;
        return p;
}

static void json_hook_install(void) {
        json_get_alloc_funcs(&next_malloc, &next_free);
        json_set_alloc_funcs(json_hook_malloc, next_free);
}

int rp_json_parse_object(const char *text, size_t len, const char *source, json_t **ret, rp_error *err) {
        pthread_once(&json_hook_once, json_hook_install);
        json_alloc_failed = false;
        json_error_t jerr;
        /* NUL is let through here (it cannot be in a key) so that the field
         * holding it is named: rp_json_get_text() refuses it. */
        json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
        if (j && json_alloc_failed) {
                /* Parsed, but perhaps not what the text says: see above. */
                json_decref(j);
                return rp_error_set(err, -ENOMEM, "%s: out of memory while reading the JSON", source);
        }
        if (!j) {
                if (json_alloc_failed || json_error_code(&jerr) == json_error_out_of_memory)
                        return rp_error_set(err, -ENOMEM, "%s: out of memory while reading the JSON", source);
                int code = json_error_code(&jerr) == json_error_duplicate_key ? -EEXIST : -EINVAL;
                /* jansson ends its message with the text it stopped at
                 * ("near 'root'"). A file that is not JSON may be anything
                 * (an import can name /etc/shadow), so say where and what,
                 * never which bytes. */
                int n = (int) strlen(jerr.text);
                const char *near = strstr(jerr.text, " near ");
                if (near)
                        n = (int) (near - jerr.text);
                if (jerr.line > 0)
                        return rp_error_set(err, code, "%s:%d:%d: invalid JSON: %.*s",
                                            source, jerr.line, jerr.column, n, jerr.text);
                return rp_error_set(err, code, "%s: invalid JSON: %.*s", source, n, jerr.text);
        }
        if (!json_is_object(j)) {
                const char *t = rp_json_type_name(j);
                json_decref(j);
                return rp_error_set(err, -EINVAL, "%s: expected a JSON object at the top level, got %s", source, t);
        }
        *ret = j;
        return 0;
}

const char *rp_json_type_name(const json_t *v) {
        switch (json_typeof(v)) {
        case JSON_OBJECT:
                return "an object";
        case JSON_ARRAY:
                return "an array";
        case JSON_STRING:
                return "a string";
        case JSON_INTEGER:
                return "an integer";
        case JSON_REAL:
                return "a real number";
        case JSON_TRUE:
        case JSON_FALSE:
                return "a boolean";
        case JSON_NULL:
                return "null";
        }
        return "an unknown value";
}

/* Edit distance of short words (insertions, deletions, substitutions and
 * swaps of neighbours), or SIZE_MAX for long ones. */
static size_t edit_distance(const char *a, const char *b) {
        size_t la = strlen(a), lb = strlen(b);
        if (la > 64 || lb > 64)
                return SIZE_MAX;
        size_t d[65][65];
        for (size_t i = 0; i <= la; i++)
                d[i][0] = i;
        for (size_t j = 0; j <= lb; j++)
                d[0][j] = j;
        for (size_t i = 1; i <= la; i++)
                for (size_t j = 1; j <= lb; j++) {
                        size_t best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
                        if (d[i - 1][j] + 1 < best)
                                best = d[i - 1][j] + 1;
                        if (d[i][j - 1] + 1 < best)
                                best = d[i][j - 1] + 1;
                        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                                best = d[i - 2][j - 2] + 1;
                        d[i][j] = best;
                }
        return d[la][lb];
}

const char *rp_suggest(const char *word, const char *const *names, size_t n) {
        const char *best = NULL;
        size_t best_d = SIZE_MAX;
        for (size_t i = 0; i < n; i++) {
                if (strcasecmp(word, names[i]) == 0)
                        return names[i];
                size_t d = edit_distance(word, names[i]);
                if (d < best_d) {
                        best_d = d;
                        best = names[i];
                }
        }
        /* Close enough to be a typo, not a different word. */
        if (best && best_d <= 2 && best_d * 3 <= strlen(best))
                return best;
        return NULL;
}

int rp_error_unknown_field(rp_error *err, const char *source, const char *parent, const char *key,
                           const char *const *known, size_t n_known) {
        const char *s = rp_suggest(key, known, n_known);
        char where[RP_ERROR_MAX];
        if (parent)
                snprintf(where, sizeof where, "%s.%s", parent, key);
        else
                snprintf(where, sizeof where, "%s", key);
        if (s)
                return rp_error_set(err, -EINVAL, "%s: %s: unknown field (field names are case-sensitive; did you mean '%s'?)",
                                    source, where, s);
        return rp_error_set(err, -EINVAL, "%s: %s: unknown field", source, where);
}

/* The first code point of valid UTF-8 text that rp_str_is_printable()
 * refuses, found by asking it about each code point in turn (so there is
 * one definition of "printable"); 0 if there is none. */
static uint32_t first_unprintable(const char *s, size_t len) {
        const unsigned char *p = (const unsigned char *) s;
        for (size_t i = 0; i < len;) {
                size_t k = p[i] < 0x80 ? 1 : p[i] < 0xe0 ? 2 : p[i] < 0xf0 ? 3 : 4;
                if (k > len - i)
                        k = len - i;
                if (!rp_str_is_printable(s + i, k)) {
                        uint32_t cp = k == 1 ? p[i] : (uint32_t) p[i] & (0x7f >> k);
                        for (size_t j = 1; j < k; j++)
                                cp = cp << 6 | (p[i + j] & 0x3f);
                        return cp;
                }
                i += k;
        }
        return 0;
}

int rp_json_get_text(const json_t *v, const char *source, const char *path, size_t max, bool allow_empty,
                     const char **ret, rp_error *err) {
        if (!json_is_string(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected a string, got %s", source, path, rp_json_type_name(v));
        size_t len = json_string_length(v);
        const char *s = json_string_value(v);
        if (len > max)
                return rp_error_set(err, -EFBIG, "%s: %s: too long (%zu bytes, the limit is %zu)", source, path, len, max);
        if (len == 0 && !allow_empty)
                return rp_error_set(err, -EINVAL, "%s: %s: must not be empty", source, path);
        /* jansson guarantees UTF-8; NUL bytes, control characters (escaped
         * as \u0000..\u001f, \u007f..\u009f) and bidirectional controls
         * are refused here. */
        if (strlen(s) != len)
                return rp_error_set(err, -EINVAL, "%s: %s: contains a NUL byte", source, path);
        if (!rp_str_is_printable(s, len)) {
                uint32_t cp = first_unprintable(s, len);
                return rp_error_set(err, -EINVAL, "%s: %s: contains U+%04" PRIX32 " (%s)", source, path, cp,
                                    cp >= 0x2000 ? "a bidirectional control character, which can make text show "
                                    "in another order than it is read" : "a control character");
        }
        *ret = s;
        return 0;
}

int rp_json_get_int(const json_t *v, const char *source, const char *path, int64_t min, int64_t max,
                    int64_t *ret, rp_error *err) {
        if (!json_is_integer(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected an integer, got %s", source, path, rp_json_type_name(v));
        json_int_t x = json_integer_value(v);
        if (x < min || x > max)
                return rp_error_set(err, -ERANGE, "%s: %s: %lld is out of range (%lld..%lld)", source, path,
                                    (long long) x, (long long) min, (long long) max);
        *ret = x;
        return 0;
}

int rp_json_get_bool(const json_t *v, const char *source, const char *path, bool *ret, rp_error *err) {
        if (!json_is_boolean(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected true or false, got %s", source, path, rp_json_type_name(v));
        *ret = json_is_true(v);
        return 0;
}

int rp_json_get_array(const json_t *v, const char *source, const char *path, size_t max, rp_error *err) {
        if (!json_is_array(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected an array, got %s", source, path, rp_json_type_name(v));
        if (json_array_size(v) > max)
                return rp_error_set(err, -EFBIG, "%s: %s: too many entries (%zu, the limit is %zu)", source, path,
                                    json_array_size(v), max);
        return 0;
}

static bool is_alpha(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_digit(char c) {
        return c >= '0' && c <= '9';
}

bool rp_is_identifier(const char *s, size_t max) {
        size_t n = strlen(s);
        if (n == 0 || n > max || is_digit(s[0]))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '_')
                        return false;
        return true;
}

bool rp_periph_literal_ok(const char *s) {
        for (const char *p = s; *p; p++)
                if (!is_alpha(*p) && !is_digit(*p) && !strchr("_-.:/", *p))
                        return false;
        return true;
}

/* Dotted-quad with four decimal octets, no leading zeros (which some
 * resolvers read as octal). Returns 1 valid, 0 not an address at all,
 * -1 looks like an address but is malformed. */
static int ipv4_check(const char *s) {
        bool all_numeric = true;
        for (const char *p = s; *p; p++)
                if (!is_digit(*p) && *p != '.')
                        all_numeric = false;
        if (!all_numeric)
                return 0;
        int parts = 0;
        const char *p = s;
        for (;;) {
                const char *start = p;
                unsigned v = 0;
                while (is_digit(*p)) {
                        v = v * 10 + (unsigned) (*p - '0');
                        if (v > 255)
                                return -1;
                        p++;
                }
                size_t digits = (size_t) (p - start);
                if (digits == 0 || (digits > 1 && *start == '0'))
                        return -1;
                parts++;
                if (*p == '\0')
                        break;
                if (*p != '.' || parts == 4)
                        return -1;
                p++;
        }
        return parts == 4 ? 1 : -1;
}

int rp_host_check(const char *s, char **ret_normalized, const char **ret_reason) {
        size_t n = strlen(s);
        if (n == 0) {
                *ret_reason = "must not be empty";
                return -EINVAL;
        }
        if (n > RP_HOST_MAX) {
                *ret_reason = "too long for a host name (the limit is 253 bytes)";
                return -EFBIG;
        }
        if (strchr(s, ':')) {
                *ret_reason = "IPv6 addresses and ports are not supported; give a host name or an IPv4 address";
                return -EOPNOTSUPP;
        }
        int ip = ipv4_check(s);
        if (ip < 0) {
                *ret_reason = "not a valid IPv4 address (four decimal numbers 0-255, no leading zeros)";
                return -EINVAL;
        }
        if (ip == 0) {
                const char *p = s;
                size_t labels = 0;
                if (p[0] == '*') {
                        if (p[1] != '.') {
                                *ret_reason = "a wildcard must be a whole first label, as in \"*.example.com\"";
                                return -EINVAL;
                        }
                        p += 2;
                }
                for (;;) {
                        const char *start = p;
                        while (*p && *p != '.') {
                                if (!is_alpha(*p) && !is_digit(*p) && *p != '-' && *p != '_') {
                                        *ret_reason = *p == '*' ?
                                                "a wildcard is only allowed as the whole first label, as in \"*.example.com\"" :
                                                "not a valid host name (use letters, digits, '-', '_' and '.')";
                                        return -EINVAL;
                                }
                                p++;
                        }
                        size_t len = (size_t) (p - start);
                        if (len == 0) {
                                *ret_reason = "not a valid host name (empty label)";
                                return -EINVAL;
                        }
                        if (len > 63) {
                                *ret_reason = "not a valid host name (a label is longer than 63 bytes)";
                                return -EINVAL;
                        }
                        if (start[0] == '-' || start[len - 1] == '-') {
                                *ret_reason = "not a valid host name (a label starts or ends with '-')";
                                return -EINVAL;
                        }
                        labels++;
                        if (*p == '\0')
                                break;
                        p++;
                }
                if (s[0] == '*' && labels < 2) {
                        *ret_reason = "a wildcard needs at least two labels after it, as in \"*.example.com\"";
                        return -EINVAL;
                }
        }
        char *copy = strdup(s);
        if (!copy) {
                *ret_reason = "out of memory";
                return -ENOMEM;
        }
        for (char *p = copy; *p; p++)
                if (*p >= 'A' && *p <= 'Z')
                        *p = (char) (*p - 'A' + 'a');
        *ret_normalized = copy;
        return 0;
}

int rp_strbuf_printf(rp_strbuf *sb, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(NULL, 0, fmt, ap);
        va_end(ap);
        if (k < 0)
                return -EINVAL;
        size_t need = sb->len + (size_t) k + 1;
        if (need > sb->cap) {
                size_t ncap = sb->cap ? sb->cap : 256;
                while (ncap < need)
                        ncap *= 2;
                char *n = realloc(sb->buf, ncap);
                if (!n)
                        return -ENOMEM;
                sb->buf = n;
                sb->cap = ncap;
        }
        va_start(ap, fmt);
        vsnprintf(sb->buf + sb->len, sb->cap - sb->len, fmt, ap);
        va_end(ap);
        sb->len += (size_t) k;
        return 0;
}

void rp_strbuf_free(rp_strbuf *sb) {
        free(sb->buf);
        *sb = (rp_strbuf) {};
}

const char *rp_json_path_fmt(char *buf, size_t size, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf, size, fmt, ap);
        va_end(ap);
        return buf;
}
