/* SPDX-License-Identifier: Apache-2.0 */
/* GET /healthz: the process answers and its store connection works (a load
 * balancer takes a server whose store is gone out of rotation: 503).
 * GET /metrics: the Prometheus exposition (metrics.h). */
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "log.h"
#include "metrics.h"

void rp_api_healthz(rp_req *req) {
        rp_db *db = rp_req_db(req);
        rp_error err = {};
        rp_db_result *res = NULL;
        int r = rp_db_query(db, "SELECT 1", NULL, 0, &res, &err);
        bool ok = r >= 0 && res && res->n_rows == 1 && rp_db_result_int(res, 0, 0, 0) == 1;
        rp_db_result_free(res);
        if (!ok) {
                char q[RP_LOG_QUOTE_MAX];
                rp_log("event=health-failed id=%s reason=%s", rp_req_id(req),
                       rp_log_quote(r < 0 ? rp_error_message(&err, r) : "SELECT 1 gave no 1", q, sizeof q));
                rp_metrics_error("store");
                rp_reply_header(req, "Retry-After", "1");
                rp_reply_error(req, 503, "store_unavailable", "the store does not answer (the server's log says why)");
                return;
        }
        rp_reply_json(req, 200, json_pack("{s:s,s:s}", "status", "ok", "store", rp_db_get_backend(db)->name));
}

void rp_api_metrics(rp_req *req) {
        char *text = rp_metrics_render();
        if (!text) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return;
        }
        rp_reply_bytes(req, 200, "text/plain; version=0.0.4; charset=utf-8", text, strlen(text));
        free(text);
}
