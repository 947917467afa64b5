/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device error-report: the failure reports the tenant's devices
 * uploaded (docs/api.md, "Failure reports"), per device or device group,
 * as a list or counted by app and kind. Registered in cmd-device-service.c's
 * table through CLI_ERROR_REPORT_CMD (service.h). */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "service.h"

static const cli_field report_columns[] = {
        { "At", "at", CLI_FIELD_TIME },
        { "Device", "device_id", CLI_FIELD_TEXT },
        { "Device group", "device_group", CLI_FIELD_TEXT },
        { "Component", "component_id", CLI_FIELD_TEXT },
        { "Kind", "kind", CLI_FIELD_TEXT },
        { "Exit code", "exit_code", CLI_FIELD_TEXT },
        { "Signal", "signal", CLI_FIELD_TEXT },
        { "Details", "details", CLI_FIELD_TEXT },
        {}
};

static const cli_field summary_columns[] = {
        { "Component", "component_id", CLI_FIELD_TEXT },
        { "Kind", "kind", CLI_FIELD_TEXT },
        { "Count", "count", CLI_FIELD_TEXT },
        { "Devices", "devices", CLI_FIELD_TEXT },
        { "First", "first_at", CLI_FIELD_TIME },
        { "Last", "last_at", CLI_FIELD_TIME },
        {}
};

/* Seconds since the epoch of "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SS[Z]" (UTC),
 * or -1. */
static int64_t iso8601(const char *v) {
        int y, mo, d, h = 0, mi = 0, sec = 0, n = 0;
        size_t len = strlen(v);
        bool date_only = len == 10 && sscanf(v, "%4d-%2d-%2d%n", &y, &mo, &d, &n) == 3 && n == 10;
        bool date_time = (len == 19 || (len == 20 && v[19] == 'Z')) &&
                         sscanf(v, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 && n == 19;
        if (!date_only && !date_time)
                return -1;
        /* sscanf's %d takes signs and spaces: the layout must be digits. */
        for (size_t i = 0; i < (size_t) n; i++) {
                bool sep = i == 4 || i == 7 || i == 10 || i == 13 || i == 16;
                if (sep ? !strchr("-T:", v[i]) : !isdigit((unsigned char) v[i]))
                        return -1;
        }
        struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d, .tm_hour = h, .tm_min = mi,
                         .tm_sec = sec };
        time_t t = timegm(&tm);
        struct tm back;
        /* timegm normalizes 02-30 to 03-02: only a date that exists is one. */
        if (t == (time_t) -1 || !gmtime_r(&t, &back) || back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
            back.tm_mday != d || back.tm_hour != h || back.tm_min != mi || back.tm_sec != sec)
                return -1;
        return (int64_t) t;
}

/* --since/--until T: seconds since the epoch, an ISO 8601 date or date-time
 * (UTC), or an age (30m, 24h, 7d: that long before now). */
static int parse_time(const cli_svc *s, const char *option, const char *v, int64_t now, int64_t *ret) {
        size_t len = strlen(v), digits = 0;
        while (digits < len && isdigit((unsigned char) v[digits]))
                digits++;
        if (digits > 0 && digits <= 12 && (digits == len || digits == len - 1)) {
                int64_t n = strtoll(v, NULL, 10);
                if (digits == len) {
                        *ret = n;
                        return CLI_EXIT_OK;
                }
                static const struct {
                        char unit;
                        int64_t secs;
                } units[] = { { 's', 1 }, { 'm', 60 }, { 'h', 3600 }, { 'd', 86400 }, { 'w', 7 * 86400 } };
                for (size_t i = 0; i < ELEMENTSOF(units); i++)
                        if (v[digits] == units[i].unit && n <= now / units[i].secs) {
                                *ret = now - n * units[i].secs;
                                return CLI_EXIT_OK;
                        }
        }
        int64_t t = iso8601(v);
        if (t >= 0) {
                *ret = t;
                return CLI_EXIT_OK;
        }
        return cli_usage_error(s->cmd, "--%s: expected seconds since the epoch, a date or date-time in UTC "
                               "(2026-11-30, 2026-11-30T12:00:00Z) or an age (30m, 24h, 7d), got '%s'", option, v);
}

static int add_int(char **q, const char *key, int64_t v) {
        char buf[32];
        snprintf(buf, sizeof buf, "%" PRId64, v);
        return cli_query_add(q, key, buf);
}

int cli_error_report_run(cli_svc *s) {
        const char *device = cli_svc_opt(s, "device"), *product = cli_svc_opt(s, "product");
        const char *group = cli_svc_opt(s, "device-group"), *since = cli_svc_opt(s, "since");
        const char *until = cli_svc_opt(s, "until"), *kind = cli_svc_opt(s, "kind");
        const char *component = cli_svc_opt(s, "component"), *limit = cli_svc_opt(s, "limit");
        bool summary = cli_svc_opt(s, "summary") != NULL;
        int64_t now = (int64_t) time(NULL);

        if (device && (product || group))
                return cli_usage_error(s->cmd, "--device and --device-group: give one or the other");
        if (product && !group)
                return cli_usage_error(s->cmd, "--product P: give --device-group G with it");
        if (group && !product && !strchr(group, '/') && strlen(group) != 32)
                return cli_usage_error(s->cmd, "--device-group: give --product P with it (or P/G, or a group id)");
        _cleanup_free_ char *dev = device ? strdup(device) : NULL, *ref = NULL, *q = NULL;
        if (device && !dev)
                return cli_fail(-ENOMEM, NULL, NULL);
        int x = dev ? cli_check_device_id(s, dev) : CLI_EXIT_OK;
        if (x != CLI_EXIT_OK)
                return x;
        if (product && asprintf(&ref, "%s/%s", product, group) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        int64_t t_since = 0, t_until = 0;
        if ((since && (x = parse_time(s, "since", since, now, &t_since)) != CLI_EXIT_OK) ||
            (until && (x = parse_time(s, "until", until, now, &t_until)) != CLI_EXIT_OK))
                return x;
        bool kind_ok = !kind;
        static const char *const kinds[] = { "exit_code", "signal", "restart_loop", "update_failure",
                                             "attestation_failure" };
        for (size_t i = 0; kind && i < ELEMENTSOF(kinds); i++)
                kind_ok |= streq(kind, kinds[i]);
        if (!kind_ok)
                return cli_usage_error(s->cmd, "--kind: expected exit_code, signal, restart_loop, update_failure "
                                       "or attestation_failure, got '%s'", kind);
        char guid[RP_GUID_STRLEN + 1];
        if (component && rp_guid_normalize(component, guid) < 0)
                return cli_usage_error(s->cmd, "--component: expected a component id, a GUID "
                                       "(00000000-0000-0000-0000-000000000000), got '%s'", component);
        long n = 0;
        if (limit && (x = cli_check_number(s, "limit", limit, 1, 1000, &n)) != CLI_EXIT_OK)
                return x;

        if ((dev && cli_query_add(&q, "device", dev) < 0) ||
            (group && cli_query_add(&q, "device_group", ref ? ref : group) < 0) ||
            (since && add_int(&q, "since", t_since) < 0) || (until && add_int(&q, "until", t_until) < 0) ||
            (kind && cli_query_add(&q, "kind", kind) < 0) || (component && cli_query_add(&q, "component_id", guid) < 0) ||
            (limit && add_int(&q, "limit", n) < 0))
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *ans = NULL;
        x = summary ? cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(CLI_TENANT(s), "error-reports", "summary"))
                    : cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(CLI_TENANT(s), "error-reports"));
        if (x != CLI_EXIT_OK)
                return x;
        return summary ? cli_list(s, ans, "summary", summary_columns)
                       : cli_list(s, ans, "error_reports", report_columns);
}

const cli_opt cli_error_report_opts[] = {
        { "device", "ID", "only this device's reports" },
        { "product", "P", "with --device-group G: only the reports from that group" },
        { "device-group", "G", "the device group (with --product P; or P/G, or a group id)" },
        { "since", "T", "only events at T or later: seconds since the epoch, 2026-11-30,\n"
          "                            2026-11-30T12:00:00Z (UTC), or an age: 30m, 24h, 7d" },
        { "until", "T", "only events before T (the same forms)" },
        { "kind", "K", "only this kind: exit_code, signal, restart_loop,\n"
          "                            update_failure, attestation_failure" },
        { "component", "ID", "only this app's (its component id, a GUID)" },
        { "summary", NULL, "count them by app and kind instead (devices, first, last)" },
        { "limit", "N", "at most N rows, the newest (1 to 1000; default 100)" },
        {}
};

const char cli_error_report_synopsis[] =
        "[--device ID | --product P --device-group G] [--since T] [--until T] [--kind K] [--component ID] "
        "[--summary] [--limit N]";

const char cli_error_report_about[] =
        "Lists the failure reports the tenant's devices uploaded, newest first: when it\n"
        "happened (the device's clock), the device and its group then, the app (component\n"
        "id), the kind (exit_code, signal, restart_loop, update_failure,\n"
        "attestation_failure), the exit code or signal and details. With --summary,\n"
        "counts them by app and kind, with the number of devices and the first and last\n"
        "time. The service keeps each device's newest reports for a while (by default\n"
        "1000 events and 14 days).";
