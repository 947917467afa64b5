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
