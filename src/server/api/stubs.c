/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders until each handler file lands: 501 "not_implemented". */
#include "api/api.h"

void rp_api_tenant_create(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_tenant_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_tenant_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_tenant_update(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_ca_certificate(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_whoami(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_user_add(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_user_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_user_remove(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_token_create(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_token_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_token_revoke(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_manufacturer_add(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_manufacturer_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_manufacturer_remove(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_product_create(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_product_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_product_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_group_create(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_group_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_group_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_group_update(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_claim(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_update(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_release(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_release_add(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_release_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_release_revoke(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_audit_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_attestation_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_attest_nonce(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_attest(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_self(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

bool rp_api_authenticate(rp_req *req, rp_auth auth) {
        if (auth == RP_AUTH_NONE)
                return true;
        rp_reply_error(req, 401, "unauthenticated", "authentication is not implemented yet");
        return false;
}

int rp_api_bootstrap(rp_db *db, const char *data_dir, bool *ret_created, rp_error *err) {
        *ret_created = false;
        return 0;
}
