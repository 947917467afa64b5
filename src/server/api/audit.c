/* SPDX-License-Identifier: Apache-2.0 */
/* The records: the audit log of management changes (a tenant's, and the
 * service's for operators) and every attestation of a tenant's devices,
 * newest first (docs/api.md, "Audit log" and "Attestations"). */
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "core/macro.h"

#define AUDIT_COLUMNS "id, at, actor, action, target, detail, remote"
#define ATTESTATION_COLUMNS "id, device_id, at, outcome, reason, detail, remote"

static const api_field audit_fields[] = {
        { "id", API_FIELD_TEXT },
        { "at", API_FIELD_INT },
        { "actor", API_FIELD_TEXT },
        { "action", API_FIELD_TEXT },
        { "target", API_FIELD_TEXT },
        { "detail", API_FIELD_TEXT },
        { "remote", API_FIELD_TEXT },
        {},
};

static const api_field attestation_fields[] = {
        { "id", API_FIELD_TEXT },
        { "device_id", API_FIELD_TEXT },
        { "at", API_FIELD_INT },
        { "outcome", API_FIELD_TEXT },
        { "reason", API_FIELD_TEXT },
        { "detail", API_FIELD_TEXT },
        { "remote", API_FIELD_TEXT },
        {},
};

/* GET /v1/tenants/{tenant}/audit and GET /v1/audit (operators: the
 * service-level entries, those of no tenant). */
void rp_api_audit_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        bool in_tenant = rp_req_param(req, "tenant") != NULL;
        if (in_tenant ? !api_tenant_get(req, API_ROLE_READER, &t) : !api_require_role(req, API_ROLE_OPERATOR))
                return;
        if (!api_query_limit(req, &limit))
                return;
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (in_tenant)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " AUDIT_COLUMNS " FROM audit WHERE tenant_id = $1 "
                                 "ORDER BY at DESC, id DESC LIMIT $2", t.id, rp_db_int(limit, lim), NULL);
        else
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " AUDIT_COLUMNS " FROM audit WHERE tenant_id IS "
                                 "NULL ORDER BY at DESC, id DESC LIMIT $1", rp_db_int(limit, lim), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("audit", res, audit_fields));
}

void rp_api_attestation_list(rp_req *req) {
        api_tenant t;
        int64_t limit;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, &limit))
                return;
        const char *device = rp_req_query(req, "device");
        char id[API_DEVICE_ID_LEN + 1];
        if (device && !api_hex_normalize(device, API_DEVICE_ID_LEN, id)) {
                rp_reply_error(req, 400, "bad_request", "device: expected a device id (64 hex digits)");
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        char lim[RP_DB_INT_STRLEN];
        int r;
        if (device)
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " ATTESTATION_COLUMNS " FROM attestations WHERE "
                                 "tenant_id = $1 AND device_id = $2 ORDER BY at DESC, id DESC LIMIT $3", t.id, id,
                                 rp_db_int(limit, lim), NULL);
        else
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT " ATTESTATION_COLUMNS " FROM attestations WHERE "
                                 "tenant_id = $1 ORDER BY at DESC, id DESC LIMIT $2", t.id, rp_db_int(limit, lim),
                                 NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json_fields("attestations", res, attestation_fields));
}
