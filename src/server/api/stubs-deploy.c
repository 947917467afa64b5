/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders until api/deployments.c and api/device_update.c lands: each route answers 501. The file goes
 * when its handlers are written. */
#include "api/api.h"

void rp_api_deployment_create(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_deployment_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_deployment_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_deployment_rollback(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_deployment_key(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_deployment(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_image(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_state(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}
