/* SPDX-License-Identifier: Apache-2.0 */
/* Placeholders until api/reports.c lands: each route answers 501. The file goes
 * when its handlers are written. */
#include "api/api.h"

void rp_api_error_report_list(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_error_report_summary(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}

void rp_api_device_error_reports(rp_req *req) {
        rp_reply_error(req, 501, "not_implemented", "not implemented yet");
}
