/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Failure reports (api/reports.c, docs/api.md "Failure reports"): what a
 * device uploads, checked event by event, and how a batch is stored with
 * the retention that bounds each device's share of the store. The handlers
 * are in api.h; these two steps are here for them and the fuzz target
 * (tests/fuzz/fuzz-api-reports.c). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "rampart/error.h"
#include "store/db.h"

/* An event's "at": not before 2020-01-01T00:00:00Z, and at most a day after
 * the server's clock. Outside that, the batch is refused (not clamped). */
#define API_REPORT_AT_MIN INT64_C(1577836800)
#define API_REPORT_AT_AHEAD_MAX 86400
#define API_REPORT_DETAILS_MAX 1024             /* bytes of UTF-8 */
#define API_REPORT_EXIT_CODE_MAX 255            /* exit_code: 0..255 */
#define API_REPORT_SIGNAL_MAX 64                /* signal: 1..64 (Linux: SIGRTMAX) */

/* "exit_code", "signal", "restart_loop", "update_failure",
 * "attestation_failure"; NULL-terminated. */
extern const char *const api_report_kinds[];
bool api_report_kind_is_valid(const char *s);

/* One checked event. Its strings point into the body it came from. */
typedef struct api_report_event {
        int64_t at;                     /* seconds since the epoch, the device's clock */
        const char *kind;               /* one of api_report_kinds */
        const char *component_id;       /* a lowercase GUID, or NULL */
        bool has_exit_code, has_signal;
        int64_t exit_code, signal;
        const char *details;            /* or NULL */
} api_report_event;

/* Checks body, {"events": [...]}, against the rules of docs/api.md (now is
 * the server's clock, seconds) and returns its events (*ret malloc'd,
 * pointing into body, which must outlive it). -E2BIG if there are more than
 * max_batch events; -EINVAL with err naming the event and field
 * ("events[3].at: ...") for anything malformed; -ENOMEM. Nothing is
 * returned unless every event passes. */
int api_report_events_parse(const json_t *body, size_t max_batch, int64_t now, api_report_event **ret,
                            size_t *ret_n, rp_error *err);

typedef struct api_report_batch {
        const char *tenant_id;          /* the device certificate's tenant */
        const char *device_id;
        const api_report_event *events;
        size_t n;
        int64_t now_us;                 /* received_at of every event in the batch */
        unsigned max_events;            /* kept per device and tenant, newest first */
        unsigned max_age;               /* seconds since received_at */
} api_report_batch;

/* Stores the batch in one transaction, each event with the group the device
 * is in now, and applies retention in the same transaction: the device's
 * newest max_events reports in the tenant stay, and every report of the
 * tenant received more than max_age seconds before now goes. -ENOENT if the
 * device is not (or no longer) claimed by the tenant: nothing is stored.
 * Store errors as rp_db_transact. */
int api_report_store(rp_db *db, const api_report_batch *b, rp_error *err);
