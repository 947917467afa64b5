/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Hardware definitions: Azure Sphere's hardware-definition JSON format, which
 * names a board's peripherals so that app manifests and C code can say
 * "$SAMPLE_LED" instead of "GPIO 8". A definition may import others (a board
 * imports its chip); a peripheral either maps to a peripheral of an import
 * ("Mapping") or is a root that carries the value an app manifest grants
 * ("AppManifestValue"). docs/app-manifest.md describes the format and how
 * references resolve. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/app_manifest.h"
#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

/* Limits on what a hardware definition may hold. */
#define RP_HWDEF_MAX_SIZE (1024 * 1024)    /* one file */
#define RP_HWDEF_MAX_DEPTH 8               /* import nesting below the root */
#define RP_HWDEF_MAX_FILES 64              /* files in one definition, imports included */
#define RP_HWDEF_MAX_PERIPHERALS 4096      /* peripherals in one file */
#define RP_HWDEF_MAX_NAME 128              /* peripheral and type names */
#define RP_HWDEF_MAX_TEXT 1024             /* comments, header lines and values */
#define RP_HWDEF_MAX_CHAIN 64              /* Mapping hops from a name to its root */

typedef struct rp_hwdef rp_hwdef;

/* Loads the definition at path and, recursively, its imports. An import's
 * Path is looked up relative to the importing file's directory first, then
 * in each of search_dirs (NULL-terminated, may be NULL) in order, like the
 * hardware definitions directory of Azure Sphere's tools. Refuses import
 * cycles, imports nested deeper than RP_HWDEF_MAX_DEPTH, missing files,
 * duplicate peripheral names, and mappings to unknown peripherals or to
 * peripherals of another type. */
int rp_hwdef_load(const char *path, const char *const *search_dirs, rp_hwdef **ret, rp_error *err);

/* An in-memory file for rp_hwdef_parse(): imports are looked up by their
 * exact Path among these. */
typedef struct rp_hwdef_file {
        const char *path;
        const char *data;
        size_t len;
} rp_hwdef_file;

/* Like rp_hwdef_load() for JSON text in memory (len bytes, need not be
 * NUL-terminated); source names it in messages. Imports come from
 * files[0..n_files) only; the file system is never touched. */
int rp_hwdef_parse(const char *json, size_t len, const char *source,
                   const rp_hwdef_file *files, size_t n_files, rp_hwdef **ret, rp_error *err);

void rp_hwdef_free(rp_hwdef *h);
static inline void rp_hwdef_freep(rp_hwdef **h) {
        rp_hwdef_free(*h);
}

/* The files of the definition: 0 is the one loaded, then every import in
 * the order first reached (each file once, however often imported). */
size_t rp_hwdef_n_files(const rp_hwdef *h);
/* The path as found (search directory or importer's directory joined). */
const char *rp_hwdef_file_path(const rp_hwdef *h, size_t file);
/* Description.Name; NULL when absent. */
const char *rp_hwdef_file_description(const rp_hwdef *h, size_t file);
/* The files this one imports directly, as indexes. */
size_t rp_hwdef_file_n_imports(const rp_hwdef *h, size_t file);
size_t rp_hwdef_file_import(const rp_hwdef *h, size_t file, size_t i);

typedef struct rp_hwdef_peripheral {
        const char *name;
        const char *type;          /* "Gpio", "Uart", ..., or anything else such as "int" */
        const char *mapping;       /* the peripheral this one stands for; NULL for a root */
        bool has_value;            /* AppManifestValue present (roots only) */
        bool value_is_integer;
        int64_t number;            /* AppManifestValue when an integer */
        const char *string;        /* AppManifestValue when a string */
        const char *header_value;  /* MainCoreHeaderValue; NULL when absent */
        const char *comment;       /* NULL when absent */
        size_t file;               /* index of the defining file */
} rp_hwdef_peripheral;

/* All peripherals of all files, file by file in file order. */
size_t rp_hwdef_n_peripherals(const rp_hwdef *h);
const rp_hwdef_peripheral *rp_hwdef_peripheral_at(const rp_hwdef *h, size_t i);
/* The peripheral called name (case-sensitive), or NULL. */
const rp_hwdef_peripheral *rp_hwdef_find(const rp_hwdef *h, const char *name);
/* The end of p's Mapping chain (p itself for a root). */
const rp_hwdef_peripheral *rp_hwdef_root(const rp_hwdef *h, const rp_hwdef_peripheral *p);

/* The C header for one file of the definition: "#pragma once", its
 * MainCoreHeaderFileTopContent, an #include of each direct import's header,
 * then "#define NAME VALUE" per peripheral (VALUE the Mapping name, or
 * MainCoreHeaderValue) with its Comment above. Deterministic. *ret is a
 * malloc'd NUL-terminated text of *ret_len bytes. */
int rp_hwdef_generate_header(const rp_hwdef *h, size_t file, char **ret, size_t *ret_len, rp_error *err);
/* The header's file name: the JSON file's base name with ".h" for
 * ".json" ("mt3620_rdb.json" -> "mt3620_rdb.h"). malloc'd. */
int rp_hwdef_header_name(const rp_hwdef *h, size_t file, char **ret, rp_error *err);

/* Resolves every "$NAME" reference of m through h: the name must be a
 * peripheral of h (or its imports) of the capability's Type, whose Mapping
 * chain ends at a root with an AppManifestValue. Refuses two entries that
 * resolve to the same peripheral, naming both. On failure m is unchanged. */
int rp_app_manifest_resolve(rp_app_manifest *m, const rp_hwdef *h, rp_error *err);

#pragma GCC visibility pop
