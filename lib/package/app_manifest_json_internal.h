/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The normalized manifest as JSON (app_manifest_json.c), for in-tree
 * programs: jansson types stay out of the public headers. */

#include <jansson.h>

#include "rampart/app_manifest.h"

/* The normalized manifest and what it grants, as a new JSON object that
 * the caller owns. Unresolved references appear with "resolved": false.
 * NULL when out of memory. */
json_t *rp_app_manifest_to_json(const rp_app_manifest *m);
