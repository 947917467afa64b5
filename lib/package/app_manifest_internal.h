/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The parsed manifest, shared by the parser (app_manifest.c), its JSON
 * output (app_manifest_json.c) and reference resolution (hwdef_resolve.c).
 * Everything outside lib/package uses the accessors in app_manifest.h. */

#include "core/strutil.h"
#include "rampart/app_manifest.h"

/* A peripheral entry; the public view plus the strings it owns. */
typedef struct rp_app_periph_entry {
        rp_app_peripheral pub;  /* its const char * fields point at the members below */
        char *ref;
        char *string;
        char *root;
} rp_app_periph_entry;

struct rp_app_manifest {
        char *source;
        char *name;
        char component_id[RP_GUID_STRLEN + 1];
        char *entry_point;
        char **args;
        size_t n_args;
        rp_app_type type;
        int malloc_version;
        int target_runtime_version;
        char *target_beta_apis;

        char **connections;
        size_t n_connections;
        uint16_t *ports[2];
        size_t n_ports[2];
        char (*app_connections)[RP_GUID_STRLEN + 1];
        size_t n_app_connections;
        uint32_t storage_kb;
        bool has_tenant;
        char tenant[RP_GUID_STRLEN + 1];
        uint32_t flags;          /* bit (1 << rp_app_flag) */
        uint32_t power_controls; /* bit (1 << rp_power_control) */
        rp_app_periph_entry *periph[_RP_PERIPH_KIND_MAX];
        size_t n_periph[_RP_PERIPH_KIND_MAX];
};

/* Releases the strings of one entry (not the entry itself). */
void rp_app_periph_entry_done(rp_app_periph_entry *e);
/* Points e->pub's string fields at e's own strings. */
void rp_app_periph_entry_sync(rp_app_periph_entry *e);
