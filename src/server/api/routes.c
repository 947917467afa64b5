/* SPDX-License-Identifier: Apache-2.0 */
/* Every route rampart-server answers: method, path pattern, who may call it,
 * handler. docs/openapi.json documents the same set, and a test
 * (integration/server-openapi) checks the two against each other through
 * `rampart-server --print-routes`. {tenant} is a tenant's name or id. */
#include "api/api.h"

#define T "/v1/tenants/{tenant}"

const rp_route rp_api_routes[] = {
        /* service */
        { "GET",    "/healthz",                         RP_AUTH_NONE,   rp_api_healthz,        "liveness and store check" },
        { "GET",    "/metrics",                         RP_AUTH_NONE,   rp_api_metrics,        "Prometheus metrics" },
        { "GET",    "/v1/whoami",                       RP_AUTH_TOKEN,  rp_api_whoami,         "the caller's user, role and tenant" },
        /* tenants */
        { "POST",   "/v1/tenants",                      RP_AUTH_TOKEN,  rp_api_tenant_create,  "create a tenant and its CA (operators)" },
        { "GET",    "/v1/tenants",                      RP_AUTH_TOKEN,  rp_api_tenant_list,    "list the tenants the caller can see" },
        { "GET",    T,                                  RP_AUTH_TOKEN,  rp_api_tenant_show,    "show a tenant" },
        { "PATCH",  T,                                  RP_AUTH_TOKEN,  rp_api_tenant_update,  "change a tenant's settings" },
        { "GET",    T "/ca-certificate",                RP_AUTH_TOKEN,  rp_api_ca_certificate, "the tenant CA certificate (PEM)" },
        /* users and tokens */
        { "POST",   T "/users",                         RP_AUTH_TOKEN,  rp_api_user_add,       "add a user with a role" },
        { "GET",    T "/users",                         RP_AUTH_TOKEN,  rp_api_user_list,      "list the tenant's users" },
        { "DELETE", T "/users/{user}",                  RP_AUTH_TOKEN,  rp_api_user_remove,    "remove a user and revoke their tokens" },
        { "POST",   T "/users/{user}/tokens",           RP_AUTH_TOKEN,  rp_api_token_create,   "create an API token for a user" },
        { "GET",    T "/tokens",                        RP_AUTH_TOKEN,  rp_api_token_list,     "list the tenant users' tokens" },
        { "POST",   "/v1/tokens",                       RP_AUTH_TOKEN,  rp_api_token_create,   "create an API token for the caller" },
        { "GET",    "/v1/tokens",                       RP_AUTH_TOKEN,  rp_api_token_list,     "list the caller's tokens" },
        { "DELETE", "/v1/tokens/{token}",               RP_AUTH_TOKEN,  rp_api_token_revoke,   "revoke a token" },
        /* manufacturer CAs */
        { "POST",   "/v1/manufacturers",                RP_AUTH_TOKEN,  rp_api_manufacturer_add,    "trust a manufacturer CA service-wide (operators)" },
        { "GET",    "/v1/manufacturers",                RP_AUTH_TOKEN,  rp_api_manufacturer_list,   "list service-wide manufacturer CAs" },
        { "DELETE", "/v1/manufacturers/{manufacturer}", RP_AUTH_TOKEN,  rp_api_manufacturer_remove, "stop trusting a service-wide manufacturer CA" },
        { "POST",   T "/manufacturers",                 RP_AUTH_TOKEN,  rp_api_manufacturer_add,    "trust a manufacturer CA in the tenant" },
        { "GET",    T "/manufacturers",                 RP_AUTH_TOKEN,  rp_api_manufacturer_list,   "list the manufacturer CAs the tenant trusts" },
        { "DELETE", T "/manufacturers/{manufacturer}",  RP_AUTH_TOKEN,  rp_api_manufacturer_remove, "stop trusting a tenant's manufacturer CA" },
        /* products and device groups */
        { "POST",   T "/products",                      RP_AUTH_TOKEN,  rp_api_product_create, "create a product and its five default device groups" },
        { "GET",    T "/products",                      RP_AUTH_TOKEN,  rp_api_product_list,   "list products" },
        { "GET",    T "/products/{product}",            RP_AUTH_TOKEN,  rp_api_product_show,   "show a product" },
        { "POST",   T "/products/{product}/device-groups",         RP_AUTH_TOKEN, rp_api_group_create, "create a device group" },
        { "GET",    T "/products/{product}/device-groups",         RP_AUTH_TOKEN, rp_api_group_list,   "list a product's device groups" },
        { "GET",    T "/products/{product}/device-groups/{group}", RP_AUTH_TOKEN, rp_api_group_show,   "show a device group" },
        { "PATCH",  T "/products/{product}/device-groups/{group}", RP_AUTH_TOKEN, rp_api_group_update, "change a device group's policy or description" },
        /* devices */
        { "POST",   T "/devices",                       RP_AUTH_TOKEN,  rp_api_device_claim,   "claim a device by id" },
        { "GET",    T "/devices",                       RP_AUTH_TOKEN,  rp_api_device_list,    "list the tenant's devices" },
        { "GET",    T "/devices/{device}",              RP_AUTH_TOKEN,  rp_api_device_show,    "show a device" },
        { "PATCH",  T "/devices/{device}",              RP_AUTH_TOKEN,  rp_api_device_update,  "move a device to a group, enable or disable it" },
        { "DELETE", T "/devices/{device}",              RP_AUTH_TOKEN,  rp_api_device_release, "release a device so another tenant can claim it" },
        /* software releases */
        { "POST",   T "/releases",                      RP_AUTH_TOKEN,  rp_api_release_add,    "accept a software measurement" },
        { "GET",    T "/releases",                      RP_AUTH_TOKEN,  rp_api_release_list,   "list software releases" },
        { "POST",   T "/releases/{release}/revoke",     RP_AUTH_TOKEN,  rp_api_release_revoke, "revoke a release: devices running it get no certificate" },
        /* records */
        { "GET",    T "/audit",                         RP_AUTH_TOKEN,  rp_api_audit_list,     "the tenant's audit log" },
        { "GET",    "/v1/audit",                        RP_AUTH_TOKEN,  rp_api_audit_list,     "the service's audit log (operators)" },
        { "GET",    T "/attestations",                  RP_AUTH_TOKEN,  rp_api_attestation_list, "attestations of the tenant's devices, with refusals' reasons" },
        /* image signing keys, uploads and images (api/images.c) */
        { "POST",   T "/signing-keys",                  RP_AUTH_TOKEN,  rp_api_signing_key_add,    "trust a public key to sign the tenant's image packages" },
        { "GET",    T "/signing-keys",                  RP_AUTH_TOKEN,  rp_api_signing_key_list,   "list the tenant's image-signing keys" },
        { "DELETE", T "/signing-keys/{key}",            RP_AUTH_TOKEN,  rp_api_signing_key_remove, "stop trusting an image-signing key" },
        { "POST",   T "/uploads",                       RP_AUTH_TOKEN,  rp_api_upload_create,  "start uploading an image package" },
        { "GET",    T "/uploads/{upload}",              RP_AUTH_TOKEN,  rp_api_upload_show,    "how much of an upload has arrived" },
        { "PUT",    T "/uploads/{upload}",              RP_AUTH_TOKEN,  rp_api_upload_append,  "the next piece of an upload (?offset=N)" },
        { "DELETE", T "/uploads/{upload}",              RP_AUTH_TOKEN,  rp_api_upload_remove,  "abandon an upload" },
        { "POST",   T "/images",                        RP_AUTH_TOKEN,  rp_api_image_add,      "verify a complete upload and keep it as an image" },
        { "GET",    T "/images",                        RP_AUTH_TOKEN,  rp_api_image_list,     "list the tenant's images" },
        { "GET",    T "/images/{image}",                RP_AUTH_TOKEN,  rp_api_image_show,     "show an image" },
        /* deployments (api/deployments.c) */
        { "POST",   T "/products/{product}/device-groups/{group}/deployments", RP_AUTH_TOKEN, rp_api_deployment_create, "deploy a set of images to a device group" },
        { "GET",    T "/products/{product}/device-groups/{group}/deployments", RP_AUTH_TOKEN, rp_api_deployment_list,   "a device group's deployments, newest first" },
        { "GET",    T "/products/{product}/device-groups/{group}/deployments/{deployment}", RP_AUTH_TOKEN, rp_api_deployment_show, "show a deployment" },
        { "POST",   T "/products/{product}/device-groups/{group}/deployments/{deployment}/rollback", RP_AUTH_TOKEN, rp_api_deployment_rollback, "deploy an earlier deployment's images again" },
        { "GET",    T "/deployment-key",                RP_AUTH_TOKEN,  rp_api_deployment_key, "the public key that signs the tenant's deployment documents (PEM)" },
        /* failure reports (api/reports.c) */
        { "GET",    T "/error-reports",                 RP_AUTH_TOKEN,  rp_api_error_report_list,    "failure reports of a device or a group" },
        { "GET",    T "/error-reports/summary",         RP_AUTH_TOKEN,  rp_api_error_report_summary, "failure reports counted by app and kind" },
        /* device API */
        { "POST",   "/v1/attest/nonce",                 RP_AUTH_NONE,   rp_api_attest_nonce,   "a single-use attestation nonce" },
        { "POST",   "/v1/attest",                       RP_AUTH_NONE,   rp_api_attest,         "evidence in, 24-hour device certificate out" },
        { "GET",    "/v1/device/self",                  RP_AUTH_DEVICE, rp_api_device_self,    "the calling device as the service sees it (mTLS)" },
        { "GET",    "/v1/device/deployment",            RP_AUTH_DEVICE, rp_api_device_deployment, "this device's signed deployment document (mTLS)" },
        { "GET",    "/v1/device/images/{digest}",       RP_AUTH_DEVICE, rp_api_device_image,      "an image package of this device's deployment, with Range (mTLS)" },
        { "POST",   "/v1/device/state",                 RP_AUTH_DEVICE, rp_api_device_state,      "what this device has installed (mTLS)" },
        { "POST",   "/v1/device/error-reports",         RP_AUTH_DEVICE, rp_api_device_error_reports, "a batch of this device's failure reports (mTLS)" },
};

const size_t rp_api_n_routes = sizeof rp_api_routes / sizeof rp_api_routes[0];
