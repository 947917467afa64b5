/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Deployment documents (docs/formats.md, "Deployment document"): what the
 * security service tells one device to run, signed with its tenant's
 * deployment key (ES256). The device trusts a document only if
 *   - the signature verifies with the deployment public key it was given,
 *   - it names this device,
 *   - it has not expired (freeze), and
 *   - its version is not lower than the last one the device accepted
 *     (rollback; an equal version must carry the same images),
 * and trusts an image only if its bytes hash to the document's digest and
 * are exactly the document's size (arbitrary software, endless data).
 *
 * A document is one tagged COSE_Sign1 (include/rampart/cose.h), protected
 * header 3 = RP_DEPLOYMENT_CONTENT_TYPE, whose payload is one deterministic
 * CBOR map with text keys:
 *   "format"        1
 *   "tenant"        tenant id (text, 1..64 bytes of [0-9a-f])
 *   "device"        device id (64 lowercase hex digits)
 *   "device-group"  device group id, or null (a device in no group)
 *   "deployment"    deployment id, or null (the group has none)
 *   "version"       uint, grows with every change for this device
 *   "issued-at"     uint, seconds since the epoch
 *   "expires-at"    uint, > issued-at
 *   "policy"        "UpdateAll" | "No3rdPartyAppUpdates" | "NoUpdates"
 *   "manages"       array of image types the device must bring to "images"
 *                   ("os", "app", "rt-app"; none under NoUpdates, only "os"
 *                   under No3rdPartyAppUpdates): images of a managed type
 *                   that are not listed are to be removed; types not
 *                   managed are left as they are
 *   "images"        array of image maps, sorted by component-id, each
 *                   component at most once, every type in "manages":
 *     "component-id"  lowercase GUID
 *     "type"          "app" | "rt-app" | "os"
 *     "name"          text (the package's name)
 *     "version"       uint (the package manifest's version)
 *     "digest"        bstr 32: SHA-256 of the image package file
 *     "size"          uint: bytes of the image package file
 *     "url"           text: path on the service to GET it from
 *                     ("/v1/device/images/<digest hex>")
 * Unknown keys, missing keys, wrong types, non-deterministic encoding and
 * values over the limits below are refused. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/error.h"
#include "rampart/package.h"

#pragma GCC visibility push(default)

#define RP_DEPLOYMENT_FORMAT 1
#define RP_DEPLOYMENT_CONTENT_TYPE "application/vnd.rampart.deployment+cbor"
#define RP_DEPLOYMENT_MAX_IMAGES 64
#define RP_DEPLOYMENT_ID_MAX 64         /* tenant, group, deployment ids: bytes */
#define RP_DEPLOYMENT_URL_MAX 512
#define RP_DEPLOYMENT_DEVICE_ID_LEN 64

typedef enum rp_update_policy {
        RP_UPDATE_ALL = 1,              /* "UpdateAll" */
        RP_UPDATE_OS_ONLY = 2,          /* "No3rdPartyAppUpdates" */
        RP_UPDATE_NONE = 3,             /* "NoUpdates" */
} rp_update_policy;

const char *rp_update_policy_name(rp_update_policy p);          /* NULL if unknown */
int rp_update_policy_from_name(const char *s, rp_update_policy *ret);   /* -EINVAL if unknown */

typedef struct rp_deployment_image {
        char component_id[RP_PACKAGE_GUID_LEN + 1];
        rp_image_type type;
        char *name;
        uint64_t version;
        uint8_t digest[RP_SHA256_LEN];
        uint64_t size;
        char *url;
} rp_deployment_image;

typedef struct rp_deployment_doc {
        uint64_t format;
        char tenant[RP_DEPLOYMENT_ID_MAX + 1];
        char device[RP_DEPLOYMENT_DEVICE_ID_LEN + 1];
        char *device_group;             /* NULL for null */
        char *deployment;               /* NULL for null */
        uint64_t version;
        uint64_t issued_at, expires_at;
        rp_update_policy policy;
        unsigned manages;               /* bit (1 << type) for each managed rp_image_type */
        rp_deployment_image *images;
        size_t n_images;
} rp_deployment_doc;

/* The "manages" set a policy implies (bits 1 << RP_IMAGE_TYPE_*). */
unsigned rp_update_policy_manages(rp_update_policy p);

/* Encodes d's payload deterministically (images must already be sorted and
 * unique; refuses what rp_deployment_doc_parse would refuse) and signs it
 * with key as a COSE_Sign1. */
int rp_deployment_doc_sign(const rp_deployment_doc *d, const rp_key *key, uint8_t **ret_buf, size_t *ret_len,
                           rp_error *err);

/* Decodes and checks a signed document, in this order: COSE structure and
 * content type; the signature with pub (-EKEYREJECTED) before anything of
 * the payload is parsed; the payload strictly (-EBADMSG, -EINVAL, -EFBIG).
 * No policy (device, time, version): see rp_deployment_doc_accept. */
int rp_deployment_doc_verify(const uint8_t *buf, size_t len, const rp_key *pub, rp_deployment_doc **ret,
                             rp_error *err);

/* The payload alone, for the fuzz target and tests; never trusted. */
int rp_deployment_doc_parse(const uint8_t *buf, size_t len, rp_deployment_doc **ret, rp_error *err);

/* What the device checks of a verified document:
 *   device      this device's id: else -EXDEV ("a document for another device")
 *   now         the device's time: expires_at <= now is -ETIME ("expired"),
 *               issued_at > now + 300 (clock skew allowed) is -ETIME too
 *   last        the last document this device accepted, or NULL: a lower
 *               version is -ESTALE ("rollback"); an equal version whose
 *               images differ is -ESTALE as well.
 * 0 if the device may act on it. */
int rp_deployment_doc_accept(const rp_deployment_doc *d, const char *device, uint64_t now,
                             const rp_deployment_doc *last, rp_error *err);

/* The image entry for component_id, or NULL. */
const rp_deployment_image *rp_deployment_doc_find(const rp_deployment_doc *d, const char *component_id);

void rp_deployment_doc_free(rp_deployment_doc *d);
static inline void rp_deployment_doc_freep(rp_deployment_doc **d) {
        rp_deployment_doc_free(*d);
}

#pragma GCC visibility pop
