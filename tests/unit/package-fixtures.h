/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the image-package unit tests (test-package.c: reading,
 * verifying, extracting; test-package-manifest.c: the signed manifest):
 * keys, a stand-in image, and packages and manifests assembled by hand,
 * including ones the library would never write. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/cbor.h"
#include "rampart/error.h"
#include "rampart/package.h"

#define CID "5e7f1c52-0b8a-4d0f-9b7e-6a1c2d3e4f50"
#define APP_JSON                                                                         \
        "{\n  \"SchemaVersion\": 1,\n  \"Name\": \"test-app\",\n"                         \
        "  \"ComponentId\": \"" CID "\",\n  \"EntryPoint\": \"/bin/app\",\n"              \
        "  \"CmdArgs\": [],\n  \"Capabilities\": {},\n  \"ApplicationType\": \"Default\"\n}\n"
#define RT_JSON                                                                          \
        "{\n  \"SchemaVersion\": 1,\n  \"Name\": \"test-rt\",\n"                          \
        "  \"ComponentId\": \"" CID "\",\n  \"EntryPoint\": \"/bin/app\",\n"              \
        "  \"CmdArgs\": [],\n  \"Capabilities\": {},\n  \"ApplicationType\": \"RealTimeCapable\"\n}\n"

extern rp_key *es256, *es256_other, *ed25519;
extern uint8_t image[8192];
extern uint8_t os_image[5000];

typedef struct bytes {
        uint8_t *d;
        size_t n;
} bytes;

#define MAXF 16
typedef struct fields {
        size_t n;
        cbor_item_t *key[MAXF];
        cbor_item_t *val[MAXF];
} fields;

int package_fixtures_setup(void **state);
int package_fixtures_teardown(void **state);
rp_package_manifest app_manifest(void);
void bytes_done(bytes *b);
void append(bytes *b, const void *p, size_t n);
bytes sign_and_append(const rp_key *key, const char *ct, const uint8_t *payload, size_t plen,
                      const uint8_t *img, size_t ilen);
bytes make_package(const rp_key *key, const rp_package_manifest *m, const uint8_t *img, size_t ilen);
void fields_done(fields *f);
bool key_is(const cbor_item_t *k, const char *name);
void fset(fields *f, const char *name, cbor_item_t *val);
fields app_fields(void);
bytes fields_encode(fields *f);
void check_msg(const rp_error *err, const char *needle);
void expect_open_fails(const bytes *b, int code, const char *needle);
void expect_verify_fails(const bytes *b, const rp_key *key, int code, const char *needle);
void expect_verify_ok(const bytes *b, const rp_key *key);
void expect_fields_refused(fields *f, int code, const char *needle);
