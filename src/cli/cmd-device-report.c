/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device report-errors: the device's side of failure reports. It
 * reads a file of events, checks each as the server will (so that a bad
 * event fails the command before anything is sent), and uploads them over
 * the device's session (lib/client/session.h: mTLS with the Alias key in
 * rampart-secmon, attesting first when needed) in batches the server takes:
 * a batch it refuses as too many events (413) is sent again in halves
 * (docs/api.md, "Failure reports"). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "client/session.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "service.h"

#define EVENTS_FILE_MAX (64u * 1024 * 1024)
#define BATCH_DEFAULT 100               /* the server's default --report-max-batch */
#define BATCH_MAX 10000                 /* the largest --report-max-batch */
/* The server's rules (api/reports.h). */
#define AT_MIN 1577836800               /* 2020-01-01T00:00:00Z */
#define DETAILS_MAX 1024
#define EXIT_CODE_MAX 255
#define SIGNAL_MAX 64

static int help(void) {
        printf("Usage: rampart device report-errors --state-dir D --server URL --ca-file F --file EVENTS\n"
               "                                    [--batch N] [-o table|json]\n\n"
               "Uploads the failure events in EVENTS (a JSON array of events, or {\"events\": [...]})\n"
               "to rampart-server over the device's session: mTLS with the Alias key in\n"
               "rampart-secmon and the certificate kept in D/service/, attesting first when\n"
               "needed. An event is {\"at\": seconds since the epoch, \"kind\": exit_code | signal |\n"
               "restart_loop | update_failure | attestation_failure, \"component_id\": the app's\n"
               "GUID or null, \"exit_code\": 0-255, \"signal\": 1-64, \"details\": up to 1024 bytes}.\n"
               "Every event is checked before anything is sent. They go in batches of at most N\n"
               "(the server's limit, --report-max-batch; a batch it refuses as too large is sent\n"
               "again in halves).\n\n"
               "Options:\n"
               "      --state-dir D        the device's state directory (secmon at D/secmon.sock;\n"
               "                           the session in D/service/)\n"
               "      --socket PATH        secmon's socket, if not D/secmon.sock\n"
               "      --server URL         rampart-server's address, https://HOST:PORT\n"
               "      --ca-file F          the CA of the server's certificate (its DATA_DIR/tls/ca.pem)\n"
               "      --file EVENTS        the events (JSON)\n"
               "      --batch N            at most N events per request (1 to %d; default %d)\n"
               "  -o, --output FORMAT      table (the default) or json\n"
               "  -h, --help               show this help\n", BATCH_MAX, BATCH_DEFAULT);
        return CLI_EXIT_OK;
}

/* Printable UTF-8, line feeds and tabs: the server's rule for details. */
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

static bool int_in(const json_t *v, json_int_t min, json_int_t max) {
        return json_is_integer(v) && json_integer_value(v) >= min && json_integer_value(v) <= max;
}

/* Event i of the file, checked; its component id lowercased in place. */
static int check_event(json_t *ev, size_t i, rp_error *err) {
        static const char *const members[] = { "at", "kind", "component_id", "exit_code", "signal", "details",
                                               NULL };
        static const char *const kinds[] = { "exit_code", "signal", "restart_loop", "update_failure",
                                             "attestation_failure", NULL };
        if (!json_is_object(ev))
                return rp_error_set(err, -EINVAL, "event %zu: expected an object", i);
        const char *key;
        json_t *v;
        json_object_foreach(ev, key, v) {
                bool known = false;
                for (size_t k = 0; members[k] && !known; k++)
                        known = streq(key, members[k]);
                if (!known)
                        return rp_error_set(err, -EINVAL, "event %zu: unknown member '%s' (an event has at, kind, "
                                            "component_id, exit_code, signal, details)", i, key);
        }
        if (!int_in(json_object_get(ev, "at"), AT_MIN, INT64_MAX / 2))
                return rp_error_set(err, -EINVAL, "event %zu: at: expected seconds since the epoch, 2020 or later",
                                    i);
        const char *kind = json_string_value(json_object_get(ev, "kind"));
        bool kind_ok = false;
        for (size_t k = 0; kind && kinds[k] && !kind_ok; k++)
                kind_ok = streq(kind, kinds[k]);
        if (!kind_ok)
                return rp_error_set(err, -EINVAL, "event %zu: kind: expected exit_code, signal, restart_loop, "
                                    "update_failure or attestation_failure", i);
        json_t *c = json_object_get(ev, "component_id");
        char guid[RP_GUID_STRLEN + 1];
        if (c && !json_is_null(c)) {
                if (!json_is_string(c) || rp_guid_normalize(json_string_value(c), guid) < 0)
                        return rp_error_set(err, -EINVAL, "event %zu: component_id: expected a GUID or null", i);
                if (json_object_set_new(ev, "component_id", json_string(guid)) < 0)
                        return rp_error_set(err, -ENOMEM, "out of memory");
        }
        json_t *code = json_object_get(ev, "exit_code"), *sig = json_object_get(ev, "signal");
        if (code && !json_is_null(code) && !int_in(code, 0, EXIT_CODE_MAX))
                return rp_error_set(err, -EINVAL, "event %zu: exit_code: expected an integer from 0 to %d", i,
                                    EXIT_CODE_MAX);
        if (sig && !json_is_null(sig) && !int_in(sig, 1, SIGNAL_MAX))
                return rp_error_set(err, -EINVAL, "event %zu: signal: expected an integer from 1 to %d", i,
                                    SIGNAL_MAX);
        if (streq(kind, "exit_code") && (!code || json_is_null(code)))
                return rp_error_set(err, -EINVAL, "event %zu: exit_code: missing (an exit_code event says which)", i);
        if (streq(kind, "signal") && (!sig || json_is_null(sig)))
                return rp_error_set(err, -EINVAL, "event %zu: signal: missing (a signal event says which)", i);
        json_t *d = json_object_get(ev, "details");
        if (d && !json_is_null(d)) {
                const char *s = json_string_value(d);
                size_t n = s ? json_string_length(d) : 0;
                if (!s || n != strlen(s) || n > DETAILS_MAX || !details_ok(s, n))
                        return rp_error_set(err, -EINVAL, "event %zu: details: expected at most %d bytes of "
                                            "printable UTF-8 (line feeds and tabs allowed) or null", i, DETAILS_MAX);
        }
        return 0;
}

/* The file's events, each checked. */
static int load_events(const char *path, json_t **ret, rp_error *err) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        int r = rp_read_file(path, EVENTS_FILE_MAX, &buf, &len, err);
        if (r < 0)
                return r;
        json_error_t je;
        _cleanup_(json_decrefp) json_t *j = json_loadb((const char *) buf, len, JSON_REJECT_DUPLICATES, &je);
        if (!j)
                return rp_error_set(err, -EINVAL, "%s: line %d, column %d: %s", path, je.line, je.column, je.text);
        json_t *events = j;
        if (json_is_object(j)) {
                events = json_object_get(j, "events");
                if (json_object_size(j) != 1 || !json_is_array(events))
                        return rp_error_set(err, -EINVAL, "%s: expected an array of events or {\"events\": [...]}",
                                            path);
        }
        for (size_t i = 0; i < json_array_size(events); i++) {
                r = check_event(json_array_get(events, i), i, err);
                if (r < 0) {
                        char msg[RP_ERROR_MAX];
                        snprintf(msg, sizeof msg, "%s", err->message);
                        return rp_error_set(err, r, "%s: %s", path, msg);
                }
        }
        *ret = json_incref(events);
        return 0;
}

/* events[from, from + n) as a request body. */
static json_t *batch_body(const json_t *events, size_t from, size_t n) {
        json_t *arr = json_array();
        for (size_t i = 0; arr && i < n; i++)
                if (json_array_append(arr, json_array_get(events, from + i)) < 0) {
                        json_decref(arr);
                        arr = NULL;
                }
        return arr ? json_pack("{s:o}", "events", arr) : NULL;
}

typedef struct report_args {
        const char *state_dir, *socket, *server, *ca_file, *file;
        long batch;
        cli_format fmt;
} report_args;

static int parse_args(const char *cmd, int argc, char **argv, report_args *a) {
        static const struct option opts[] = {
                { "state-dir", required_argument, NULL, 'd' },
                { "socket",    required_argument, NULL, 's' },
                { "server",    required_argument, NULL, 'S' },
                { "ca-file",   required_argument, NULL, 'A' },
                { "file",      required_argument, NULL, 'f' },
                { "batch",     required_argument, NULL, 'b' },
                { "output",    required_argument, NULL, 'o' },
                { "help",      no_argument,       NULL, 'h' },
                {}
        };
        *a = (report_args) { .batch = BATCH_DEFAULT, .fmt = CLI_FORMAT_TEXT };
        if (cli_wants_help(argc, argv))
                return help();
        const char *batch = NULL;
        optind = 0;
        opterr = 0;
        for (int c; (c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1; ) {
                switch (c) {
                case 'd':
                        a->state_dir = optarg;
                        break;
                case 's':
                        a->socket = optarg;
                        break;
                case 'S':
                        a->server = optarg;
                        break;
                case 'A':
                        a->ca_file = optarg;
                        break;
                case 'f':
                        a->file = optarg;
                        break;
                case 'b':
                        batch = optarg;
                        break;
                case 'o':
                        if (cli_parse_format(cmd, optarg, &a->fmt) < 0)
                                return CLI_EXIT_USAGE;
                        break;
                case 'h':
                        return help();
                default:
                        return cli_bad_option(cmd, c, argv);
                }
        }
        if (optind < argc)
                return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
        if (!a->state_dir)
                return cli_usage_error(cmd, "missing --state-dir D (the device's state directory)");
        if (!a->server)
                return cli_usage_error(cmd, "missing --server URL (rampart-server's https://HOST:PORT)");
        if (!a->ca_file)
                return cli_usage_error(cmd, "missing --ca-file F (the server's DATA_DIR/tls/ca.pem)");
        if (!a->file)
                return cli_usage_error(cmd, "missing --file EVENTS (a JSON array of events)");
        if (batch) {
                char *end = NULL;
                errno = 0;
                a->batch = strtol(batch, &end, 10);
                if (!*batch || *end || errno || a->batch < 1 || a->batch > BATCH_MAX || batch[0] == '+' ||
                    batch[0] == '-' || batch[0] == ' ')
                        return cli_usage_error(cmd, "--batch: expected a whole number from 1 to %d, got '%s'",
                                               BATCH_MAX, batch);
        }
        return -1;
}

/* What to do about a refused batch. */
static const char *refusal_hint(const rp_http_status *st) {
        switch (st->status) {
        case 400:
                return "fix the event the message names in the file (the server's clock may also disagree with "
                       "the device's: an event may be at most a day ahead of it)";
        case 401:
        case 403:
                return "the device must be claimed by its tenant and enabled ('rampart device show ID' in the "
                       "service); a device released from its tenant cannot report";
        case 413:
                return "give --batch a smaller number (the server's --max-body may be smaller than a batch)";
        case 429:
                return "the server limits requests per client: wait a moment and try again";
        default:
                return NULL;
        }
}

int cmd_device_report_errors(int argc, char **argv) {
        const char *cmd = "device report-errors";
        report_args a;
        int x = parse_args(cmd, argc, argv, &a);
        if (x >= 0)
                return x;
        rp_error err = {};
        _cleanup_(json_decrefp) json_t *events = NULL;
        int r = load_events(a.file, &events, &err);
        if (r < 0)
                return cli_fail(r, &err, r == -EINVAL ? "nothing was sent: fix the file (docs/api.md, \"Failure "
                                                        "reports\", has the rules)" : NULL);
        size_t total = json_array_size(events), sent = 0, batches = 0, size = (size_t) a.batch;

        rp_device_session_config cfg = { .state_dir = a.state_dir, .secmon_socket = a.socket, .server = a.server,
                                         .ca_file = a.ca_file };
        _cleanup_(rp_device_session_freep) rp_device_session *ds = NULL;
        r = rp_device_session_open(&cfg, &ds, NULL, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        while (sent < total) {
                size_t n = total - sent < size ? total - sent : size;
                _cleanup_(json_decrefp) json_t *body = batch_body(events, sent, n), *ans = NULL;
                if (!body)
                        return cli_fail(-ENOMEM, NULL, NULL);
                rp_http_status st = {};
                r = rp_device_session_json(ds, "POST", "/v1/device/error-reports", body, &ans, &st, &err);
                if (r < 0 && st.status == 413 && n > 1) {
                        /* More than the server takes in one request: halve. */
                        size = n / 2;
                        continue;
                }
                if (r < 0) {
                        char msg[RP_ERROR_MAX];
                        snprintf(msg, sizeof msg, "%s", rp_error_message(&err, r));
                        rp_error_set(&err, r, "sent %zu of %zu events; the batch of events %zu to %zu: %s", sent,
                                     total, sent, sent + n - 1, msg);
                        return cli_fail(r, &err, refusal_hint(&st));
                }
                json_t *acc = json_object_get(ans, "accepted");
                if (!json_is_integer(acc) || json_integer_value(acc) != (json_int_t) n) {
                        rp_error_set(&err, -EBADMSG, "sent %zu of %zu events; the server's answer to a batch of %zu "
                                     "does not say it accepted them", sent, total, n);
                        return cli_fail(-EBADMSG, &err, NULL);
                }
                sent += n;
                batches++;
        }
        if (a.fmt == CLI_FORMAT_JSON)
                return cli_print_json(json_pack("{s:s, s:I, s:I, s:I}", "device_id",
                                                rp_device_session_device_id(ds), "events", (json_int_t) sent,
                                                "batches", (json_int_t) batches, "batch_size",
                                                (json_int_t) size));
        printf("Uploaded %zu event%s in %zu batch%s of at most %zu.\n", sent, sent == 1 ? "" : "s", batches,
               batches == 1 ? "" : "es", size);
        return CLI_EXIT_OK;
}
