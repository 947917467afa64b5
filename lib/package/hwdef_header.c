/* SPDX-License-Identifier: Apache-2.0 */
/* The C header a hardware definition gives to application code. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "package/hwdef_internal.h"
#include "package/manifest_util.h"

static const char *base_name(const char *path) {
        const char *s = strrchr(path, '/');
        return s ? s + 1 : path;
}

int rp_hwdef_header_name(const rp_hwdef *h, size_t file, char **ret, rp_error *err) {
        if (file >= h->n_files)
                return rp_error_set(err, -EINVAL, "no file %zu in the hardware definition", file);
        const char *b = base_name(h->files[file].path);
        size_t n = strlen(b);
        if (n > 5 && streq(b + n - 5, ".json"))
                n -= 5;
        if (n == 0 || n > 200)
                return rp_error_set(err, -EINVAL, "%s: cannot derive a header name from this file name",
                                    h->files[file].path);
        for (size_t i = 0; i < n; i++)
                if (!((b[i] >= 'a' && b[i] <= 'z') || (b[i] >= 'A' && b[i] <= 'Z') || (b[i] >= '0' && b[i] <= '9') ||
                      strchr("_-.", b[i])) || (i == 0 && b[i] == '.'))
                        return rp_error_set(err, -EINVAL, "%s: the file name must use letters, digits, '_', '-' "
                                            "and '.' to name a header", h->files[file].path);
        char *s = malloc(n + 3);
        if (!s)
                return rp_error_set(err, -ENOMEM, "out of memory");
        memcpy(s, b, n);
        memcpy(s + n, ".h", 3);
        *ret = s;
        return 0;
}

/* ---- What may go into a header ----------------------------------------
 * The dangers, all in the hands of a definition's author:
 * - a line ending in '\' (or '\' and blanks, which GCC and Clang splice
 *   too) joins the next line to it: a comment would swallow the #define
 *   below it;
 * - "??/" is '\' wherever trigraphs are on (-std=c89..c17, not the GNU
 *   modes), and the other trigraphs change a value's text between modes;
 * - C89 has no // comments: there a slash-star inside one opens a block
 *   comment;
 * - an unclosed block comment or literal swallows or breaks what follows.
 * Peripheral comments are therefore written as block comments (read the
 * same in every mode; a backslash inside one joins nothing), and the rest
 * is refused where it could change what the header defines. Azure Sphere's
 * own definitions hold none of the refused forms. */

static bool is_trigraph(const char *p) {
        return p[0] == '?' && p[1] == '?' && p[2] != '\0' && strchr("=/'()!<>-", p[2]);
}

/* Whether s, without trailing blanks, ends in a backslash or "??/". */
static bool ends_in_splice(const char *s) {
        size_t n = strlen(s);
        while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
                n--;
        return (n >= 1 && s[n - 1] == '\\') || (n >= 3 && s[n - 1] == '/' && is_trigraph(s + n - 3));
}

const char *hw_header_value_problem(const char *s) {
        for (const char *p = s; *p; p++) {
                if (*p < 0x20 || *p > 0x7e)
                        return "holds a character other than printable ASCII";
                if (is_trigraph(p))
                        return "holds a trigraph (such as ?\?/ or ?\?=), which C89-C17 read differently from the GNU "
                               "and C2x modes";
        }
        char quote = 0;   /* the quote of the string or character literal we are in */
        for (const char *p = s; *p; p++) {
                if (quote) {
                        if (*p == '\\' && p[1] != '\0')
                                p++;
                        else if (*p == quote)
                                quote = 0;
                } else if (*p == '"' || *p == '\'')
                        quote = *p;
                else if (*p == '\\')
                        return "holds a backslash outside a string or character literal, which could join the next "
                               "line to this #define";
                else if ((p[0] == '/' && (p[1] == '/' || p[1] == '*')) || (p[0] == '*' && p[1] == '/'))
                        return "holds a comment marker (//, /* or */) outside a string literal";
        }
        if (quote)
                return "has a string or character literal that is not closed";
        return NULL;
}

const char *hw_comment_problem(const char *s) {
        if (strstr(s, "*/"))
                return "holds \"*/\", which would end the comment early";
        if (strstr(s, "/*"))
                return "holds \"/*\", which would open a comment inside the comment";
        return NULL;
}

/* One line of top content; *in_block carries an open block comment from
 * line to line. *ret_slashes is where a // comment starts, or SIZE_MAX. */
static const char *top_line_scan(const char *s, bool *in_block, size_t *ret_slashes) {
        *ret_slashes = SIZE_MAX;
        if (ends_in_splice(s))
                return "ends in a backslash or \"?\?/\", which would join the next line to it";
        for (const char *p = s; *p;) {
                if (*in_block) {
                        if (p[0] == '/' && p[1] == '*')
                                return "opens a comment inside a comment";
                        if (p[0] == '*' && p[1] == '/') {
                                *in_block = false;
                                p += 2;
                        } else
                                p++;
                } else if (*p == ' ' || *p == '\t')
                        p++;
                else if (p[0] == '/' && p[1] == '*') {
                        *in_block = true;
                        p += 2;
                } else if (p[0] == '/' && p[1] == '/') {
                        /* Written as a block comment: C89 has no // comments. */
                        if (strstr(p + 2, "/*") || strstr(p + 2, "*/"))
                                return "is a // comment holding a comment marker (slash-star or star-slash), so it "
                                       "cannot be written as a C89 block comment";
                        *ret_slashes = (size_t) (p - s);
                        return NULL;
                } else
                        return "holds C code outside a comment; only comments may go here, so that the header "
                               "defines exactly its peripherals";
        }
        return NULL;
}

const char *hw_top_content_problem(char *const *lines, size_t n, size_t *ret_line) {
        bool in_block = false;
        for (size_t i = 0; i < n; i++) {
                size_t slashes;
                const char *why = top_line_scan(lines[i], &in_block, &slashes);
                if (why) {
                        *ret_line = i;
                        return why;
                }
        }
        if (in_block) {
                *ret_line = n - 1;
                return "opens a block comment that is not closed, which would swallow the header's definitions";
        }
        return NULL;
}

const char *hw_macro_name_problem(const char *s) {
        if (streq(s, "defined") || (s[0] == '_' && (s[1] == '_' || (s[1] >= 'A' && s[1] <= 'Z'))))
                return "is reserved for the C implementation and cannot be #defined in a header";
        return NULL;
}

/* ---- Writing ----------------------------------------------------------- */

/* Writes text, which hw_comment_problem() accepted, as a block comment
 * line. A backslash or "??/" at its end is followed by the comment's end on
 * the same line, so it joins nothing. */
static int comment_line(rp_strbuf *sb, const char *text) {
        if (text[0] == '\0')
                return rp_strbuf_printf(sb, "/* */\n");
        return rp_strbuf_printf(sb, "/* %s */\n", text);
}

int rp_hwdef_generate_header(const rp_hwdef *h, size_t file, char **ret, size_t *ret_len, rp_error *err) {
        if (file >= h->n_files)
                return rp_error_set(err, -EINVAL, "no file %zu in the hardware definition", file);
        const hw_file *f = &h->files[file];
        rp_strbuf sb = {};
        int r = 0;

        r = r ?: rp_strbuf_printf(&sb, RP_HWDEF_HEADER_MARKER "\n");
        r = r ?: rp_strbuf_printf(&sb, "/* Generated by rampart from %s; do not edit. */\n", base_name(f->path));
        r = r ?: rp_strbuf_printf(&sb, "#pragma once\n");
        if (f->n_top > 0) {
                r = r ?: rp_strbuf_printf(&sb, "\n");
                /* The comments the definition's author wrote (typically a
                 * licence), as checked by hw_top_content_problem(), with
                 * each // comment made a block comment for C89. */
                bool in_block = false;
                for (size_t i = 0; i < f->n_top; i++) {
                        size_t k;
                        top_line_scan(f->top[i], &in_block, &k);
                        if (k == SIZE_MAX)
                                r = r ?: rp_strbuf_printf(&sb, "%s\n", f->top[i]);
                        else
                                r = r ?: rp_strbuf_printf(&sb, "%.*s/*%s */\n", (int) k, f->top[i], f->top[i] + k + 2);
                }
        }
        if (f->n_imports > 0)
                r = r ?: rp_strbuf_printf(&sb, "\n");
        for (size_t i = 0; i < f->n_imports && r == 0; i++) {
                _cleanup_free_ char *name = NULL;
                r = rp_hwdef_header_name(h, f->imports[i], &name, err);
                if (r < 0) {
                        rp_strbuf_free(&sb);
                        return r;
                }
                r = rp_strbuf_printf(&sb, "#include \"%s\"\n", name);
        }
        for (size_t i = f->first_periph; i < f->first_periph + f->n_periph && r == 0; i++) {
                const hw_periph *p = &h->periph[i];
                r = rp_strbuf_printf(&sb, "\n");
                if (p->comment)
                        r = r ?: comment_line(&sb, p->comment);
                if (p->mapping)
                        r = r ?: rp_strbuf_printf(&sb, "#define %s %s\n", p->name, p->mapping);
                else if (p->header_value)
                        r = r ?: rp_strbuf_printf(&sb, "#define %s %s\n", p->name, p->header_value);
                else if (p->pub.value_is_integer)
                        r = r ?: rp_strbuf_printf(&sb, "#define %s (%lld)\n", p->name, (long long) p->pub.number);
                else
                        r = r ?: rp_strbuf_printf(&sb, "/* %s: no MainCoreHeaderValue, so no #define (app "
                                                  "manifest value \"%s\") */\n", p->name, p->string);
        }
        if (r < 0) {
                rp_strbuf_free(&sb);
                return rp_error_set(err, -ENOMEM, "%s: out of memory", f->path);
        }
        *ret = sb.buf;
        *ret_len = sb.len;
        return 0;
}
