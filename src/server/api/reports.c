/* SPDX-License-Identifier: Apache-2.0 */
/* Failure reports: devices upload batches of events (an app's exit code or
 * signal, a restart loop, a failed update or attestation) over mTLS; the
 * tenant lists them, per device or group, and counts them by app and kind.
 * Each device's share of the store is bounded by retention, applied with
 * every insert (docs/api.md, "Failure reports"). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "api/reports.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "server.h"

const char *const api_report_kinds[] = {
        "exit_code", "signal", "restart_loop", "update_failure", "attestation_failure", NULL,
};

bool api_report_kind_is_valid(const char *s) {
        for (size_t i = 0; api_report_kinds[i]; i++)
                if (streq(s, api_report_kinds[i]))
                        return true;
        return false;
}

/* --- the upload: checks --- */

/* Printable UTF-8 (common.c's rule for free text), and line feeds and tabs,
 * which a crash's message may hold. */
static bool details_ok(const char *s, size_t n) {
        size_t start = 0;
        for (size_t i = 0; i <= n; i++) {
                if (i < n && s[i] != '\n' && s[i] != '\t')
                        continue;
                if (!rp_str_is_printable(s + start, i - start))
                        return false;
                start = i + 1;
        }
        return true;
}

/* A lowercase GUID, 8-4-4-4-12. */
static bool guid_lowercase(const char *s) {
        char norm[RP_GUID_STRLEN + 1];
        return rp_guid_normalize(s, norm) == 0 && streq(norm, s);
}

/* Member name of event i as an optional integer in min..max. */
static int event_int(const json_t *ev, size_t i, const char *name, int64_t min, int64_t max, bool *ret_present,
                     int64_t *ret, rp_error *err) {
        const json_t *v = json_object_get(ev, name);
        *ret_present = false;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
                return rp_error_set(err, -EINVAL, "events[%zu].%s: expected an integer from %lld to %lld", i, name,
                                    (long long) min, (long long) max);
        *ret = json_integer_value(v);
        *ret_present = true;
        return 0;
}

/* Member name of event i as an optional string (NULL if absent or null). */
static int event_string(const json_t *ev, size_t i, const char *name, const char **ret, size_t *ret_len,
                        rp_error *err) {
        const json_t *v = json_object_get(ev, name);
        *ret = NULL;
        *ret_len = 0;
        if (!v || json_is_null(v))
                return 0;
        if (!json_is_string(v))
                return rp_error_set(err, -EINVAL, "events[%zu].%s: expected a string or null", i, name);
        *ret = json_string_value(v);
        *ret_len = json_string_length(v);
        if (strlen(*ret) != *ret_len)
                return rp_error_set(err, -EINVAL, "events[%zu].%s: contains a NUL character", i, name);
        return 0;
}

static int event_parse(const json_t *ev, size_t i, int64_t now, api_report_event *ret, rp_error *err) {
        static const char *const members[] = { "at", "kind", "component_id", "exit_code", "signal", "details",
                                               NULL };
        if (!json_is_object(ev))
                return rp_error_set(err, -EINVAL, "events[%zu]: expected an object", i);
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *) ev, key, v) {
                bool known = false;
                for (size_t k = 0; members[k] && !known; k++)
                        known = streq(key, members[k]);
                if (!known) {
                        char q[80];
                        return rp_error_set(err, -EINVAL, "events[%zu]: unknown member %s (an event has at, kind, "
                                            "component_id, exit_code, signal, details)", i,
                                            rp_log_quote(key, q, sizeof q));
                }
        }
        api_report_event e = {};

        bool present;
        int r = event_int(ev, i, "at", API_REPORT_AT_MIN, now + API_REPORT_AT_AHEAD_MAX, &present, &e.at, err);
        if (r < 0)
                return rp_error_set(err, -EINVAL, "events[%zu].at: expected seconds since the epoch, from %lld "
                                    "(2020-01-01) to a day after the server's clock (%lld): is the device's clock "
                                    "set?", i, (long long) API_REPORT_AT_MIN,
                                    (long long) (now + API_REPORT_AT_AHEAD_MAX));
        if (!present)
                return rp_error_set(err, -EINVAL, "events[%zu].at: missing (when it happened, seconds since the "
                                    "epoch)", i);

        size_t len;
        if ((r = event_string(ev, i, "kind", &e.kind, &len, err)) < 0)
                return r;
        if (!e.kind || !api_report_kind_is_valid(e.kind))
                return rp_error_set(err, -EINVAL, "events[%zu].kind: expected exit_code, signal, restart_loop, "
                                    "update_failure or attestation_failure", i);

        if ((r = event_string(ev, i, "component_id", &e.component_id, &len, err)) < 0)
                return r;
        if (e.component_id && !guid_lowercase(e.component_id))
                return rp_error_set(err, -EINVAL, "events[%zu].component_id: expected a lowercase GUID "
                                    "(00000000-0000-0000-0000-000000000000) or null", i);

        if ((r = event_int(ev, i, "exit_code", 0, API_REPORT_EXIT_CODE_MAX, &e.has_exit_code, &e.exit_code,
                           err)) < 0 ||
            (r = event_int(ev, i, "signal", 1, API_REPORT_SIGNAL_MAX, &e.has_signal, &e.signal, err)) < 0)
                return r;
        if (streq(e.kind, "exit_code") && !e.has_exit_code)
                return rp_error_set(err, -EINVAL, "events[%zu].exit_code: missing (an exit_code event says which)",
                                    i);
        if (streq(e.kind, "signal") && !e.has_signal)
                return rp_error_set(err, -EINVAL, "events[%zu].signal: missing (a signal event says which)", i);

        if ((r = event_string(ev, i, "details", &e.details, &len, err)) < 0)
                return r;
        if (e.details && len > API_REPORT_DETAILS_MAX)
                return rp_error_set(err, -EINVAL, "events[%zu].details: %zu bytes (at most %d)", i, len,
                                    API_REPORT_DETAILS_MAX);
        if (e.details && !details_ok(e.details, len))
                return rp_error_set(err, -EINVAL, "events[%zu].details: is not printable UTF-8 (control "
                                    "characters other than line feed and tab, and bidirectional controls, are "
                                    "refused)", i);
        *ret = e;
        return 0;
}

int api_report_events_parse(const json_t *body, size_t max_batch, int64_t now, api_report_event **ret,
                            size_t *ret_n, rp_error *err) {
        if (!json_is_object(body))
                return rp_error_set(err, -EINVAL, "the body: expected an object {\"events\": [...]}");
        const char *key;
        const json_t *v;
        json_object_foreach((json_t *) body, key, v)
                if (!streq(key, "events")) {
                        char q[80];
                        return rp_error_set(err, -EINVAL, "unknown member %s (the body is {\"events\": [...]})",
                                            rp_log_quote(key, q, sizeof q));
                }
        const json_t *events = json_object_get(body, "events");
        if (!json_is_array(events))
                return rp_error_set(err, -EINVAL, "events: %s", events ? "expected an array" : "missing");
        size_t n = json_array_size(events);
        if (n > max_batch)
                return rp_error_set(err, -E2BIG, "events: %zu in one batch, at most %zu: send them in smaller "
                                    "batches", n, max_batch);
        _cleanup_free_ api_report_event *out = calloc(n ? n : 1, sizeof *out);
        if (!out)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                int r = event_parse(json_array_get(events, i), i, now, &out[i], err);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(out);
        *ret_n = n;
        return 0;
}

/* --- the upload: storing --- */

static int report_store_tx(rp_db *db, void *userdata, rp_error *err) {
        const api_report_batch *b = userdata;
        _cleanup_(rp_db_result_freep) rp_db_result *dev = NULL;
        int r = rp_db_queryv(db, &dev, err, "SELECT device_group_id FROM devices WHERE id = $1 AND tenant_id = $2",
                             b->device_id, b->tenant_id, NULL);
        if (r < 0)
                return r;
        if (dev->n_rows != 1)
                return rp_error_set(err, -ENOENT, "device %s is not claimed by tenant %s", b->device_id,
                                    b->tenant_id);
        const char *group = rp_db_result_get(dev, 0, 0);
        char received[RP_DB_INT_STRLEN];
        rp_db_int(b->now_us, received);
        for (size_t i = 0; i < b->n; i++) {
                const api_report_event *e = &b->events[i];
                char id[RP_DB_ID_LEN + 1], at[RP_DB_INT_STRLEN], code[RP_DB_INT_STRLEN], sig[RP_DB_INT_STRLEN];
                if (rp_db_new_id(id) < 0)
                        return rp_error_set(err, -EIO, "cannot make an id");
                r = rp_db_queryv(db, NULL, err, "INSERT INTO error_reports (id, tenant_id, device_id, "
                                 "device_group_id, at, received_at, component_id, kind, exit_code, signal, details) "
                                 "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", id, b->tenant_id,
                                 b->device_id, group ? group : RP_DB_NULL, rp_db_int(e->at, at), received,
                                 e->component_id ? e->component_id : RP_DB_NULL, e->kind,
                                 e->has_exit_code ? rp_db_int(e->exit_code, code) : RP_DB_NULL,
                                 e->has_signal ? rp_db_int(e->signal, sig) : RP_DB_NULL,
                                 e->details ? e->details : RP_DB_NULL, NULL);
                if (r < 0)
                        return r;
        }
        /* Retention. The newest are the last received; within a batch, the
         * latest by the device's clock. */
        char keep[RP_DB_INT_STRLEN], cutoff[RP_DB_INT_STRLEN];
        r = rp_db_queryv(db, NULL, err, "DELETE FROM error_reports WHERE tenant_id = $1 AND device_id = $2 AND id "
                         "NOT IN (SELECT id FROM error_reports WHERE tenant_id = $1 AND device_id = $2 ORDER BY "
                         "received_at DESC, at DESC, id DESC LIMIT $3)", b->tenant_id, b->device_id,
                         rp_db_int(b->max_events, keep), NULL);
        if (r < 0)
                return r;
        return rp_db_queryv(db, NULL, err, "DELETE FROM error_reports WHERE tenant_id = $1 AND received_at < $2",
                            b->tenant_id, rp_db_int(b->now_us - (int64_t) b->max_age * 1000000, cutoff), NULL);
}

int api_report_store(rp_db *db, const api_report_batch *b, rp_error *err) {
        return rp_db_transact(db, report_store_tx, (void *) b, err);
}

/* POST /v1/device/error-reports: the device of the certificate, in the
 * certificate's tenant (api/auth.c checked it is claimed there). */
void rp_api_device_error_reports(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        const rp_server_config *cfg = &rp_req_server(req)->cfg;
        _cleanup_(json_decrefp) json_t *body = rp_req_json(req);
        if (!body)
                return;
        rp_error err = {};
        _cleanup_free_ api_report_event *events = NULL;
        size_t n = 0;
        int r = api_report_events_parse(body, cfg->report_max_batch, api_now(), &events, &n, &err);
        if (r == -E2BIG) {
                rp_reply_error(req, 413, "too_many_events", "%s", rp_error_message(&err, r));
                return;
        }
        if (r == -ENOMEM) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return;
        }
        if (r < 0) {
                rp_reply_error(req, 400, "bad_request", "%s", rp_error_message(&err, r));
                return;
        }
        if (n > 0) {
                api_report_batch b = {
                        .tenant_id = p->tenant_id,
                        .device_id = p->device_id,
                        .events = events,
                        .n = n,
                        .now_us = api_now_us(),
                        .max_events = cfg->report_max_events,
                        .max_age = cfg->report_max_age,
                };
                r = api_report_store(rp_req_db(req), &b, &err);
                if (r == -ENOENT) {
                        rp_reply_error(req, 403, "forbidden", "the device is not claimed by the tenant that issued "
                                       "its certificate");
                        return;
                }
                if (r < 0) {
                        api_reply_store(req, r, &err);
                        return;
                }
        }
        rp_reply_json(req, 201, json_pack("{s:I}", "accepted", (json_int_t) n));
}

/* --- reading --- */

/* The query's filters as SQL conditions on error_reports r, with their
 * parameters: always the tenant and the retention cutoff. */
#define FILTER_PARAMS_MAX 8
typedef struct report_filter {
        char where[512];
        const char *params[FILTER_PARAMS_MAX + 1];
        size_t n;
        char tenant_id[RP_DB_ID_LEN + 1], group_id[RP_DB_ID_LEN + 1];
        char device[API_DEVICE_ID_LEN + 1], component[RP_GUID_STRLEN + 1];
        char cutoff[RP_DB_INT_STRLEN], since[RP_DB_INT_STRLEN], until[RP_DB_INT_STRLEN], limit[RP_DB_INT_STRLEN];
} report_filter;

static void filter_add(report_filter *f, const char *column_op, const char *value) {
        RP_INVARIANT(f->n < FILTER_PARAMS_MAX);
        size_t len = strlen(f->where);
        int k = snprintf(f->where + len, sizeof f->where - len, "%s%s $%zu", f->n ? " AND " : "", column_op,
                         f->n + 1);
        RP_INVARIANT(k > 0 && (size_t) k < sizeof f->where - len);
        f->params[f->n++] = value;
}

/* ?name=SECONDS: digits only. */
static bool query_seconds(rp_req *req, const char *name, char out[RP_DB_INT_STRLEN], bool *ret_present) {
        const char *s = rp_req_query(req, name);
        *ret_present = s != NULL;
        if (!s)
                return true;
        int64_t v = 0;
        bool ok = *s != '\0' && strlen(s) <= 12;
        for (const char *c = s; ok && *c; c++) {
                ok = *c >= '0' && *c <= '9';
                v = v * 10 + (*c - '0');
        }
        if (!ok) {
                rp_reply_error(req, 400, "bad_request", "%s: expected seconds since the epoch (at most 12 digits)",
                               name);
                return false;
        }
        rp_db_int(v, out);
        return true;
}

/* ?device_group=: "Product/Group" (names) or a group id of tenant t. */
static bool resolve_group(rp_req *req, const api_tenant *t, const char *ref, char ret[RP_DB_ID_LEN + 1]) {
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        const char *slash = strchr(ref, '/');
        int r;
        if (!slash) {
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT id FROM device_groups WHERE id = $1 AND "
                                 "tenant_id = $2", ref, t->id, NULL);
        } else {
                _cleanup_free_ char *product = strndup(ref, (size_t) (slash - ref));
                if (!product) {
                        rp_reply_error(req, 500, "internal", "out of memory");
                        return false;
                }
                r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT g.id FROM device_groups g JOIN products p ON "
                                 "p.id = g.product_id WHERE g.tenant_id = $1 AND p.name = $2 AND g.name = $3", t->id,
                                 product, slash + 1, NULL);
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return false;
        }
        if (res->n_rows != 1) {
                char q[300];
                rp_reply_error(req, 400, "bad_request", "device_group: the tenant has no device group %s (give "
                               "\"Product/Group\" or a group id)", rp_log_quote(ref, q, sizeof q));
                return false;
        }
        snprintf(ret, RP_DB_ID_LEN + 1, "%s", rp_db_result_get(res, 0, 0));
        return true;
}

/* The tenant (Reader) and the filters of GET .../error-reports[/summary]. */
static bool report_filter_of(rp_req *req, report_filter *f, int64_t *ret_limit) {
        api_tenant t;
        if (!api_tenant_get(req, API_ROLE_READER, &t) || !api_query_limit(req, ret_limit))
                return false;
        *f = (report_filter) {};
        const rp_server_config *cfg = &rp_req_server(req)->cfg;
        const char *device = rp_req_query(req, "device"), *group = rp_req_query(req, "device_group");
        const char *kind = rp_req_query(req, "kind"), *component = rp_req_query(req, "component_id");
        if (device && group) {
                rp_reply_error(req, 400, "bad_request", "device and device_group: give one or the other");
                return false;
        }
        if (device && !api_hex_normalize(device, API_DEVICE_ID_LEN, f->device)) {
                rp_reply_error(req, 400, "bad_request", "device: expected a device id (64 hex digits)");
                return false;
        }
        if (kind && !api_report_kind_is_valid(kind)) {
                rp_reply_error(req, 400, "bad_request", "kind: expected exit_code, signal, restart_loop, "
                               "update_failure or attestation_failure");
                return false;
        }
        if (component && rp_guid_normalize(component, f->component) < 0) {
                rp_reply_error(req, 400, "bad_request", "component_id: expected a GUID "
                               "(00000000-0000-0000-0000-000000000000)");
                return false;
        }
        bool since, until;
        if (!query_seconds(req, "since", f->since, &since) || !query_seconds(req, "until", f->until, &until))
                return false;
        if (group && !resolve_group(req, &t, group, f->group_id))
                return false;

        /* The tenant's reports that retention keeps, even where the next
         * insert has not deleted them yet. */
        memcpy(f->tenant_id, t.id, sizeof f->tenant_id);
        filter_add(f, "r.tenant_id =", f->tenant_id);
        filter_add(f, "r.received_at >=", rp_db_int(api_now_us() - (int64_t) cfg->report_max_age * 1000000,
                                                    f->cutoff));
        if (device)
                filter_add(f, "r.device_id =", f->device);
        if (group)
                filter_add(f, "r.device_group_id =", f->group_id);
        if (since)
                filter_add(f, "r.at >=", f->since);
        if (until)
                filter_add(f, "r.at <", f->until);
        if (kind)
                filter_add(f, "r.kind =", kind);
        if (component)
                filter_add(f, "r.component_id =", f->component);
        return true;
}

#define REPORT_COLUMNS "r.id, r.device_id, p.name, g.name, r.at, r.received_at, r.component_id, r.kind, " \
                       "r.exit_code, r.signal, r.details"
#define REPORT_FROM "error_reports r LEFT JOIN device_groups g ON g.id = r.device_group_id " \
                    "LEFT JOIN products p ON p.id = g.product_id"

static json_t *report_json(const rp_db_result *res, size_t row) {
        const char *product = rp_db_result_get(res, row, 2), *group = rp_db_result_get(res, row, 3);
        _cleanup_free_ char *ref = NULL;
        if (product && group && asprintf(&ref, "%s/%s", product, group) < 0)
                return NULL;
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
                         "id", api_json_text(rp_db_result_get(res, row, 0)),
                         "device_id", api_json_text(rp_db_result_get(res, row, 1)),
                         "device_group", api_json_text(ref),
                         "at", api_json_int(rp_db_result_get(res, row, 4)),
                         "received_at", api_json_int(rp_db_result_get(res, row, 5)),
                         "component_id", api_json_text(rp_db_result_get(res, row, 6)),
                         "kind", api_json_text(rp_db_result_get(res, row, 7)),
                         "exit_code", api_json_int(rp_db_result_get(res, row, 8)),
                         "signal", api_json_int(rp_db_result_get(res, row, 9)),
                         "details", api_json_text(rp_db_result_get(res, row, 10)));
}

static json_t *summary_json(const rp_db_result *res, size_t row) {
        return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o}",
                         "component_id", api_json_text(rp_db_result_get(res, row, 0)),
                         "kind", api_json_text(rp_db_result_get(res, row, 1)),
                         "count", api_json_int(rp_db_result_get(res, row, 2)),
                         "devices", api_json_int(rp_db_result_get(res, row, 3)),
                         "first_at", api_json_int(rp_db_result_get(res, row, 4)),
                         "last_at", api_json_int(rp_db_result_get(res, row, 5)));
}

/* Runs select + " WHERE <filters> " + tail, tail ending in "LIMIT $%zu"
 * (the limit's parameter number), and replies {key: [row_json...]}. */
static void reply_rows(rp_req *req, const char *select, const char *tail, const char *key,
                       json_t *(*row_json)(const rp_db_result *, size_t)) {
        report_filter f;
        int64_t limit;
        if (!report_filter_of(req, &f, &limit))
                return;
        f.params[f.n] = rp_db_int(limit, f.limit);
        _cleanup_free_ char *sql = NULL;
        if (asprintf(&sql, "%s WHERE %s %s%zu", select, f.where, tail, f.n + 1) < 0) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_query(rp_req_db(req), sql, f.params, f.n + 1, &res, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        rp_reply_json(req, 200, api_rows_json(key, res, row_json));
}

/* GET /v1/tenants/{tenant}/error-reports: newest first (the last received;
 * within a batch, the latest by the device's clock). */
void rp_api_error_report_list(rp_req *req) {
        reply_rows(req, "SELECT " REPORT_COLUMNS " FROM " REPORT_FROM,
                   "ORDER BY r.received_at DESC, r.at DESC, r.id DESC LIMIT $", "error_reports", report_json);
}

/* GET /v1/tenants/{tenant}/error-reports/summary: one row per (app, kind),
 * the most frequent first. */
void rp_api_error_report_summary(rp_req *req) {
        reply_rows(req, "SELECT r.component_id, r.kind, COUNT(*), COUNT(DISTINCT r.device_id), MIN(r.at), "
                   "MAX(r.at) FROM error_reports r",
                   "GROUP BY r.component_id, r.kind ORDER BY COUNT(*) DESC, r.kind, COALESCE(r.component_id, '') "
                   "LIMIT $", "summary", summary_json);
}
