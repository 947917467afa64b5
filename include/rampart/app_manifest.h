/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Application manifests: Azure Sphere's app_manifest.json schema.
 * (The full capability model is added by the manifest module; the functions
 * below are the stable minimum other modules rely on.) */

#include <stddef.h>

#include "rampart/error.h"

/* The largest app_manifest.json accepted. */
#define RP_APP_MANIFEST_MAX_SIZE (64 * 1024)

typedef enum rp_app_type {
        RP_APP_TYPE_DEFAULT = 1,          /* "Default": a high-level app */
        RP_APP_TYPE_REALTIME_CAPABLE = 2, /* "RealTimeCapable": a real-time core app */
} rp_app_type;

typedef struct rp_app_manifest rp_app_manifest;

/* Parses and validates manifest JSON text (len bytes, need not be
 * NUL-terminated). source names the input in error messages (a file name).
 * Unresolved "$NAME" peripheral references are allowed here; resolving them
 * needs a hardware definition. */
int rp_app_manifest_parse(const char *json, size_t len, const char *source,
                          rp_app_manifest **ret, rp_error *err);
/* Reads path (at most RP_APP_MANIFEST_MAX_SIZE bytes) and parses it. */
int rp_app_manifest_load(const char *path, rp_app_manifest **ret, rp_error *err);

const char *rp_app_manifest_name(const rp_app_manifest *m);
/* Lowercase 8-4-4-4-12 form. */
const char *rp_app_manifest_component_id(const rp_app_manifest *m);
const char *rp_app_manifest_entry_point(const rp_app_manifest *m);
rp_app_type rp_app_manifest_type(const rp_app_manifest *m);

void rp_app_manifest_free(rp_app_manifest *m);
static inline void rp_app_manifest_freep(rp_app_manifest **m) {
        rp_app_manifest_free(*m);
}
