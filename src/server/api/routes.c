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
        /* device API */
        { "POST",   "/v1/attest/nonce",                 RP_AUTH_NONE,   rp_api_attest_nonce,   "a single-use attestation nonce" },
        { "POST",   "/v1/attest",                       RP_AUTH_NONE,   rp_api_attest,         "evidence in, 24-hour device certificate out" },
        { "GET",    "/v1/device/self",                  RP_AUTH_DEVICE, rp_api_device_self,    "the calling device as the service sees it (mTLS)" },
};

const size_t rp_api_n_routes = sizeof rp_api_routes / sizeof rp_api_routes[0];
