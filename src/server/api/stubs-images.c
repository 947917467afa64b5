/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders until api/images.c lands: each route answers 501. The file goes
 * when its handlers are written. */
#include "api/api.h"

void rp_api_signing_key_add(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_signing_key_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_signing_key_remove(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_upload_create(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_upload_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_upload_append(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_upload_remove(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_image_add(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_image_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_image_show(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}
