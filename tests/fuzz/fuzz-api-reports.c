/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the failure-report upload (api/reports.h): the body of POST
 * /v1/device/error-reports through api_report_events_parse, and what it
 * accepts through api_report_store on a real SQLite store (fuzz-api.h),
 * as the handler does. (The route itself needs a TLS client certificate,
 * which rp_http_dispatch_raw has not: this drives the two steps after
 * authentication.) The first byte is the batch limit (0..15), the second
 * the events kept per device (1..8; its top bit stores for a device no
 * tenant claimed, which must be refused), the rest the body.
 *
 * Checked: a refusal is -EINVAL or -E2BIG with a message, -E2BIG exactly
 * when there are more events than the limit; every accepted event keeps
 * the rules (docs/api.md); the store then holds at most the limit per
 * device, and of this batch exactly the events latest by their "at". Seeds:
 * corpus/api-reports/ (reports_corpus.py). */
#include <errno.h>

#include "api/reports.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "fuzz-api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEVICE "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define UNCLAIMED "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"
/* The server's clock for the checks of "at" (2027-01-15), so the seeds stay
 * valid; the store's clock advances a second per input. */
#define NOW INT64_C(1800000000)

static char tenant_id[RP_DB_ID_LEN + 1];
static int64_t now_us = NOW * 1000000;

static void setup(void) {
        static bool done;
        if (done)
                return;
        fuzz_api_setup();
        fuzz_expect("POST", "/v1/tenants/fuzz/products", "{\"name\": \"gadget\"}", 201);
        fuzz_expect("POST", "/v1/tenants/fuzz/devices",
                    "{\"device_id\": \"" DEVICE "\", \"device_group\": \"gadget/Development\"}", 201);
        rp_error err = {};
        rp_db_result *res = NULL;
        if (rp_db_queryv(fuzz.db, &res, &err, "SELECT id FROM tenants WHERE name = 'fuzz'", NULL) < 0 ||
            res->n_rows != 1)
                fuzz_die("the tenant's id", &err);
        snprintf(tenant_id, sizeof tenant_id, "%s", rp_db_result_get(res, 0, 0));
        rp_db_result_free(res);
        done = true;
}

static void check(bool ok, const char *what) {
        if (!ok) {
                fprintf(stderr, "fuzz-api-reports: %s\n", what);
                abort();
        }
}

static int64_t count(const char *where, const char *p1, const char *p2) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM error_reports WHERE %s", where);
        rp_error err = {};
        rp_db_result *res = NULL;
        if (rp_db_queryv(fuzz.db, &res, &err, sql, p1, p2, NULL) < 0)
                fuzz_die(sql, &err);
        int64_t n = rp_db_result_int(res, 0, 0, -1);
        rp_db_result_free(res);
        return n;
}

/* Each accepted event keeps the rules. */
static void check_event(const api_report_event *e) {
        check(e->at >= API_REPORT_AT_MIN && e->at <= NOW + API_REPORT_AT_AHEAD_MAX, "at out of range");
        check(e->kind && api_report_kind_is_valid(e->kind), "an unknown kind");
        if (e->component_id) {
                char norm[RP_GUID_STRLEN + 1];
                check(rp_guid_normalize(e->component_id, norm) == 0 && streq(norm, e->component_id),
                      "a component id that is not a lowercase GUID");
        }
        check(!e->has_exit_code || (e->exit_code >= 0 && e->exit_code <= API_REPORT_EXIT_CODE_MAX),
              "exit_code out of range");
        check(!e->has_signal || (e->signal >= 1 && e->signal <= API_REPORT_SIGNAL_MAX), "signal out of range");
        check(!streq(e->kind, "exit_code") || e->has_exit_code, "an exit_code event without one");
        check(!streq(e->kind, "signal") || e->has_signal, "a signal event without one");
        if (e->details) {
                size_t n = strlen(e->details);
                check(n <= API_REPORT_DETAILS_MAX, "details too long");
                check(rp_utf8_is_valid(e->details, n), "details not UTF-8");
                for (size_t i = 0; i < n; i++)
                        check((unsigned char) e->details[i] >= 0x20 || e->details[i] == '\n' ||
                              e->details[i] == '\t', "a control character in details");
        }
}

static int by_at_desc(const void *a, const void *b) {
        int64_t x = *(const int64_t *) a, y = *(const int64_t *) b;
        return x < y ? 1 : x > y ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        setup();
        if (size < 2)
                return 0;
        size_t max_batch = data[0] % 16;
        unsigned max_events = 1 + (data[1] & 7);
        bool unclaimed = data[1] & 0x80;
        json_t *body = json_loadb((const char *) data + 2, size - 2, JSON_REJECT_DUPLICATES, NULL);
        if (!body)
                return 0;
        static api_report_event untouched;
        api_report_event *events = &untouched;
        size_t n = 12345;
        rp_error err = {};
        int r = api_report_events_parse(body, max_batch, NOW, &events, &n, &err);
        const json_t *arr = json_object_get(body, "events");
        if (r < 0) {
                check(r == -EINVAL || r == -E2BIG, "a refusal that is neither -EINVAL nor -E2BIG");
                check(err.message[0] != '\0', "a refusal without a message");
                check(events == &untouched && n == 12345, "outputs changed on a refusal");
                check((r == -E2BIG) == (json_is_object(body) && json_is_array(arr) &&
                                        json_array_size(arr) > max_batch &&
                                        json_object_size(body) == 1),
                      "-E2BIG but not over the limit, or over it and not -E2BIG");
                json_decref(body);
                return 0;
        }
        check(json_is_array(arr) && n == json_array_size(arr) && n <= max_batch, "accepted: not the events");
        for (size_t i = 0; i < n; i++)
                check_event(&events[i]);
        if (n > 0) {
                now_us += 1000000;
                char received[RP_DB_INT_STRLEN];
                rp_db_int(now_us, received);
                api_report_batch b = { .tenant_id = tenant_id, .device_id = unclaimed ? UNCLAIMED : DEVICE,
                                       .events = events, .n = n, .now_us = now_us, .max_events = max_events,
                                       .max_age = 14 * 86400 };
                r = api_report_store(fuzz.db, &b, &err);
                if (unclaimed) {
                        check(r == -ENOENT, "stored for a device the tenant has not claimed");
                        check(count("device_id = $1", UNCLAIMED, NULL) == 0, "an unclaimed device's rows");
                } else {
                        check(r == 0, err.message);
                        check(count("device_id = $1", DEVICE, NULL) <= max_events, "more than the kept number");
                        /* Of this batch: its latest events by "at". */
                        size_t kept = n < max_events ? n : max_events;
                        int64_t *want = calloc(n, sizeof *want);
                        check(want != NULL, "out of memory");
                        for (size_t i = 0; i < n; i++)
                                want[i] = events[i].at;
                        qsort(want, n, sizeof *want, by_at_desc);
                        rp_db_result *res = NULL;
                        if (rp_db_queryv(fuzz.db, &res, &err, "SELECT at, device_group_id FROM error_reports WHERE "
                                         "device_id = $1 AND received_at = $2 ORDER BY at DESC", DEVICE, received,
                                         NULL) < 0)
                                fuzz_die("the batch's rows", &err);
                        check(res->n_rows == kept, "not the batch's kept number of rows");
                        for (size_t i = 0; i < kept; i++) {
                                check(rp_db_result_int(res, i, 0, -1) == want[i], "not the batch's latest events");
                                check(rp_db_result_get(res, i, 1) != NULL, "no device group recorded");
                        }
                        rp_db_result_free(res);
                        free(want);
                }
        }
        free(events);
        json_decref(body);
        return 0;
}
