/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* A loaded hardware definition, shared by the loader (hwdef.c), header
 * generation (hwdef_header.c) and manifest resolution (hwdef_resolve.c). */

#include "rampart/hwdef.h"

typedef struct hw_periph {
        rp_hwdef_peripheral pub;   /* string fields point at the members below */
        char *name, *type, *mapping, *string, *header_value, *comment;
        size_t root;               /* index of the end of the Mapping chain */
} hw_periph;

typedef struct hw_file {
        char *key;                 /* identity: real path, or the in-memory name */
        char *path;                /* as shown in messages */
        char *description;
        char **top;                /* MainCoreHeaderFileTopContent */
        size_t n_top;
        size_t *imports;
        size_t n_imports;
        uint64_t closure;          /* bit i: file i is this one or a (transitive) import */
        size_t first_periph, n_periph;
} hw_file;

struct rp_hwdef {
        hw_file *files;
        size_t n_files;
        hw_periph *periph;
        size_t n_periph, cap_periph;
        size_t *by_name;           /* periph indexes sorted by name */
};

/* Index of the peripheral called name, or SIZE_MAX. */
size_t hw_lookup(const rp_hwdef *h, const char *name);

/* ---- What may go into a generated header (hwdef_header.c) ---------------
 * Each returns NULL when the text can be copied into the header so that
 * every C standard mode (C89 to C2x, strict and GNU, where trigraphs and //
 * comments differ) reads the same definitions, or else the reason it
 * cannot, for a message. */

/* A MainCoreHeaderValue: the body of one #define. */
const char *hw_header_value_problem(const char *s);
/* A peripheral Comment, written as a block comment above its #define. */
const char *hw_comment_problem(const char *s);
/* MainCoreHeaderFileTopContent, copied verbatim: only comments and blank
 * lines. The lines are checked together (a block comment may span lines);
 * *ret_line is the line the reason is about. */
const char *hw_top_content_problem(char *const *lines, size_t n, size_t *ret_line);
/* A peripheral Name the header may #define: not `defined` and not an
 * identifier reserved for the C implementation (__x, _X). */
const char *hw_macro_name_problem(const char *s);
