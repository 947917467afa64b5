/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The management and device APIs (docs/api.md, docs/openapi.json): the
 * route table and one file of handlers per resource. */

#include <stdbool.h>

#include "http.h"

extern const rp_route rp_api_routes[];
extern const size_t rp_api_n_routes;

/* Authenticates the caller as route->auth requires and fills
 * rp_req_principal(req). Returns true to go on, or false after replying
 * (401 "unauthenticated" / 403 "forbidden" / 503). api/auth.c. */
bool rp_api_authenticate(rp_req *req, rp_auth auth);

/* At every start: if the store has no operator, creates the operator
 * 'admin' and an API token for it, written to DATA_DIR/admin.token (0600,
 * replaced atomically); ret_created says whether it did. Safe when several
 * servers start together on one store. api/users.c. */
int rp_api_bootstrap(rp_db *db, const char *data_dir, bool *ret_created, rp_error *err);

typedef struct rp_blob_store rp_blob_store;

/* Drops abandoned uploads: the rows whose expires_at is before now with
 * their staging objects, then staging objects that have no row and were
 * not touched for ten minutes. rampart-server calls it at start and
 * hourly. *ret_rows and *ret_staged (may be NULL) count what went.
 * api/images.c. */
int rp_api_uploads_expire(rp_db *db, rp_blob_store *bs, int64_t now, size_t *ret_rows, size_t *ret_staged,
                          rp_error *err);

/* Handlers, by file. */
/* health.c */
void rp_api_healthz(rp_req *req);
void rp_api_metrics(rp_req *req);
/* tenants.c */
void rp_api_tenant_create(rp_req *req);
void rp_api_tenant_list(rp_req *req);
void rp_api_tenant_show(rp_req *req);
void rp_api_tenant_update(rp_req *req);
void rp_api_ca_certificate(rp_req *req);
/* users.c: users and tokens */
void rp_api_whoami(rp_req *req);
void rp_api_user_add(rp_req *req);
void rp_api_user_list(rp_req *req);
void rp_api_user_remove(rp_req *req);
void rp_api_token_create(rp_req *req);
void rp_api_token_list(rp_req *req);
void rp_api_token_revoke(rp_req *req);
/* manufacturers.c */
void rp_api_manufacturer_add(rp_req *req);
void rp_api_manufacturer_list(rp_req *req);
void rp_api_manufacturer_remove(rp_req *req);
/* products.c: products and device groups */
void rp_api_product_create(rp_req *req);
void rp_api_product_list(rp_req *req);
void rp_api_product_show(rp_req *req);
void rp_api_group_create(rp_req *req);
void rp_api_group_list(rp_req *req);
void rp_api_group_show(rp_req *req);
void rp_api_group_update(rp_req *req);
/* devices.c */
void rp_api_device_claim(rp_req *req);
void rp_api_device_list(rp_req *req);
void rp_api_device_show(rp_req *req);
void rp_api_device_update(rp_req *req);
void rp_api_device_release(rp_req *req);
/* releases.c */
void rp_api_release_add(rp_req *req);
void rp_api_release_list(rp_req *req);
void rp_api_release_revoke(rp_req *req);
/* audit.c: the audit log and the attestation record */
void rp_api_audit_list(rp_req *req);
void rp_api_attestation_list(rp_req *req);
/* attest.c: the device API */
void rp_api_attest_nonce(rp_req *req);
void rp_api_attest(rp_req *req);
void rp_api_device_self(rp_req *req);
/* images.c: image-signing keys, uploads, images */
void rp_api_signing_key_add(rp_req *req);
void rp_api_signing_key_list(rp_req *req);
void rp_api_signing_key_remove(rp_req *req);
void rp_api_upload_create(rp_req *req);
void rp_api_upload_show(rp_req *req);
void rp_api_upload_append(rp_req *req);
void rp_api_upload_remove(rp_req *req);
void rp_api_image_add(rp_req *req);
void rp_api_image_list(rp_req *req);
void rp_api_image_show(rp_req *req);
/* deployments.c: deployments and the deployment key; device_update.c: the
 * device's document, image downloads and installed state */
void rp_api_deployment_create(rp_req *req);
void rp_api_deployment_list(rp_req *req);
void rp_api_deployment_show(rp_req *req);
void rp_api_deployment_rollback(rp_req *req);
void rp_api_deployment_key(rp_req *req);
void rp_api_device_deployment(rp_req *req);
void rp_api_device_image(rp_req *req);
void rp_api_device_state(rp_req *req);
/* reports.c: failure reports */
void rp_api_error_report_list(rp_req *req);
void rp_api_error_report_summary(rp_req *req);
void rp_api_device_error_reports(rp_req *req);
