/* SPDX-License-Identifier: Apache-2.0 */
/* The public headers (include/rampart) compile on their own and keep the
 * libraries behind librampart out of the API: jansson (json_t is for
 * in-tree code, lib/package/app_manifest_json_internal.h), libcbor and
 * OpenSSL. The test is its compilation. */
#include "rampart/app_manifest.h"
#include "rampart/cose.h"
#include "rampart/crypto.h"
#include "rampart/error.h"
#include "rampart/evidence.h"
#include "rampart/hwdef.h"
#include "rampart/package.h"

#ifdef JANSSON_H
#error "a public header includes jansson.h"
#endif
#ifdef LIBCBOR_H_
#error "a public header includes libcbor's cbor.h"
#endif
#if defined(OPENSSL_EVP_H) || defined(OPENSSL_X509_H)
#error "a public header includes OpenSSL's headers"
#endif

int main(void) {
        return 0;
}
