/* SPDX-License-Identifier: Apache-2.0 */
/* The public headers (include/rampart) compile on their own and keep
 * jansson out of the API: json_t and jansson.h are for in-tree code
 * (lib/package/app_manifest_json_internal.h). The test is its compilation. */
#include "rampart/app_manifest.h"
#include "rampart/cose.h"
#include "rampart/crypto.h"
#include "rampart/error.h"
#include "rampart/hwdef.h"
#include "rampart/package.h"

#ifdef JANSSON_H
#error "a public header includes jansson.h"
#endif

int main(void) {
        return 0;
}
