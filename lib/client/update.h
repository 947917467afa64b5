/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The device's side of updates: what `rampart device check-update`,
 * `download` and `report-state` do, and the device agent will (docs/api.md,
 * "Device updates"; docs/formats.md, "Deployment document"). Every step
 * goes through a device session (session.h) and keeps its state in
 * STATE_DIR/service/:
 *
 *   check     GET /v1/device/deployment (application/cose) -> verified
 *             with the pinned deployment key -> accepted against the last
 *             accepted document (this device, this tenant, not expired, not
 *             older; docs/security.md) -> stored atomically as
 *             deployment.cbor, the signed bytes as they came
 *   download  an image the accepted document lists, by component id:
 *             resumed into downloads/DIGEST.part (Range, If-Range), never
 *             more than the document's size, given up on when it stalls;
 *             then copied to the output while hashed: the output appears
 *             only if its size and SHA-256 are the document's, and it is an
 *             image package whose signed manifest names the document's
 *             component id, type and version
 *   report    POST /v1/device/state: what is installed and what failed
 *
 * The digest binds the package: an older package (a lower version, its
 * own signature intact) served in place of the one listed has another
 * digest and is refused like any other bytes. The package's own signature
 * is checked when it is installed (the agent), as for any package. */

#include <stdbool.h>
#include <stdint.h>

#include "client/http.h"
#include "client/session.h"
#include "rampart/deployment.h"
#include "rampart/error.h"

/* The accepted document in STATE_DIR/service/deployment.cbor, verified
 * again with the pinned key and checked to name this device and tenant
 * (not for expiry: see rp_update_check_fresh). -ENOENT when there is none
 * (run a check first); -EKEYREJECTED when it does not verify with the key
 * pinned now. *ret_raw (if non-NULL) gets the signed bytes and *ret_len
 * their length. */
int rp_update_accepted(rp_device_session *s, rp_deployment_doc **ret, uint8_t **ret_raw, size_t *ret_len,
                       rp_error *err);

/* Checks for an update (the "check" above) at time now (seconds since the
 * epoch; the device's clock). The document is refused, and nothing stored,
 * when it does not verify with the pinned key (-EKEYREJECTED), names
 * another device or tenant (-EXDEV), has expired or is from the future
 * (-ETIME), or is older than the one accepted before, or as old with other
 * images (-ESTALE). *ret_changed (if non-NULL) says whether its version is
 * newer than the last accepted one's (true when there was none). */
int rp_update_check(rp_device_session *s, uint64_t now, rp_deployment_doc **ret, uint8_t **ret_raw,
                    size_t *ret_len, bool *ret_changed, rp_error *err);

/* -ETIME when d expired before now (or was issued after it, beyond the
 * skew rp_deployment_doc_accept allows): a device acts only on a fresh
 * document, so a stored one is refreshed with rp_update_check first. */
int rp_update_check_fresh(rp_device_session *s, const rp_deployment_doc *d, uint64_t now, rp_error *err);

typedef struct rp_update_download_options {
        unsigned low_speed_limit;       /* bytes a second; 0: RP_HTTP_LOW_SPEED_LIMIT_DEFAULT */
        unsigned low_speed_time;        /* seconds; 0: RP_HTTP_LOW_SPEED_TIME_DEFAULT */
        rp_http_progress_fn progress;   /* or NULL */
        void *userdata;
} rp_update_download_options;

typedef struct rp_update_download_result {
        const rp_deployment_image *image;       /* d's entry */
        uint64_t resumed_from;                  /* bytes of an earlier attempt kept */
} rp_update_download_result;

/* Downloads the image d lists for component_id to output (written
 * atomically, mode 0644), as the "download" above. Refusals: -ENOENT if d
 * lists no such component; the download's (rp_http_download_file:
 * -EFBIG endless data, -ETIMEDOUT slow retrieval, -ECONNRESET cut, ...);
 * -EKEYREJECTED when the bytes' size or SHA-256 is not the document's,
 * -EBADMSG when they are no image package for that component, type and
 * version. After endless data, another range or bytes that do not verify,
 * the part file is removed (the next attempt starts over); after a cut or
 * a stall it is kept, for the next attempt to resume. */
int rp_update_download(rp_device_session *s, const rp_deployment_doc *d, const char *component_id,
                       const char *output, const rp_update_download_options *o, rp_update_download_result *ret,
                       rp_error *err);

/* One component's state, as POST /v1/device/state takes it. */
typedef struct rp_update_component_state {
        const char *component_id;       /* a GUID */
        bool has_version;
        uint64_t version;
        const char *digest;             /* 64 hex digits, or NULL */
        bool failed;                    /* "failed", else "installed" */
        const char *detail;             /* or NULL */
} rp_update_component_state;

#define RP_UPDATE_REPORT_MAX 64         /* components in one report */
#define RP_UPDATE_DETAIL_MAX 1024       /* bytes of a detail */

/* Reports the device's state: doc_version (NULL for none) and the
 * components (at most RP_UPDATE_REPORT_MAX; ids are GUIDs, digests hex,
 * details printable, else -EINVAL before anything is sent). */
int rp_update_report_state(rp_device_session *s, const uint64_t *doc_version, const rp_update_component_state *c,
                           size_t n, rp_error *err);
