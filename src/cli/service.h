/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the commands that talk to rampart-server share (service.c): their
 * options (--server, --ca-file, --token-file, --tenant, -o), the profile
 * those default to, one HTTPS client, requests whose failures are reported
 * with a hint of what to do next, and output (view.c): an object as rows,
 * a list as a column table, or the API's JSON as it came. docs/cli-service.md
 * is the user's guide. */

#include <stdarg.h>

#include "cli.h"
#include "client/http.h"
#include "profile.h"

#define CLI_SVC_MAX_OPTS 12
#define CLI_SVC_MAX_ARGS 2

/* A command's own option: --name VALUE, or a flag when arg is NULL. */
typedef struct cli_opt {
        const char *name;
        const char *arg;        /* the value's name in help ("D"), NULL for a flag */
        const char *help;
} cli_opt;

enum {
        CLI_SVC_TENANT = 1 << 0,        /* works in a tenant: --tenant or the selected one, required */
        CLI_SVC_TENANT_OPT = 1 << 1,    /* uses the tenant if there is one */
        CLI_SVC_FILE_OUT = 1 << 2,      /* -o names a file (and --force replaces one), not a format */
        CLI_SVC_NO_PROFILE = 1 << 3,    /* login: the three connection options are required */
        CLI_SVC_NO_TOKEN = 1 << 4,      /* the device API: no token needed */
};

typedef struct cli_svc cli_svc;

typedef struct cli_svc_cmd {
        const char *name;               /* "create" */
        const char *synopsis;           /* what follows "rampart GROUP NAME": "NAME [--description D]" */
        int min_args, max_args;         /* positional arguments */
        const cli_opt *opts;            /* ends with {} */
        unsigned flags;
        const char *summary;            /* one line, for the group's help */
        const char *about;              /* a paragraph for the command's help */
        int (*run)(cli_svc *s);
} cli_svc_cmd;

struct cli_svc {
        const char *cmd;                /* "product create", for messages */
        const cli_svc_cmd *def;
        cli_format fmt;
        const char *output;             /* CLI_SVC_FILE_OUT: -o FILE */
        bool force;
        char *args[CLI_SVC_MAX_ARGS];
        int n_args;
        const char *opt[CLI_SVC_MAX_OPTS];      /* by def->opts index; "" for a flag that is set */
        /* The connection, after the options and the profile. */
        const char *server, *ca_file, *token_file, *tenant;
        char *profile_path;
        cli_profile profile;
        bool profile_exists;
        rp_http *http;
        rp_http_status status;          /* of the last request */
};

/* Runs the group: a local command (cli_command, as cli_dispatch does) or a
 * server command by name, or prints the group's help listing both. */
int cli_svc_group(const char *group, const char *summary, const cli_command *local, size_t n_local,
                  const cli_svc_cmd *cmds, size_t n_cmds, int argc, char **argv);

/* Runs one server command: parses argv (argv[0] is its name), prints its
 * help, finds the server and tenant, makes the client and calls def->run.
 * cmd names it in messages ("product create", "login"). */
int cli_svc_main(const char *cmd, const cli_svc_cmd *def, int argc, char **argv);

/* The value of the command's option name (NULL if not given, or if the
 * command has no such option; "" for a set flag). */
const char *cli_svc_opt(const cli_svc *s, const char *name);

/* METHOD on /v1/SEG/SEG/... (path: the segments, each escaped, ending with
 * NULL: CLI_PATH makes it), with body (NULL: none) and query ("k=v&k=v",
 * escaped by cli_query_add; NULL: none). On success *ret (if non-NULL) gets
 * the JSON answer and CLI_EXIT_OK is returned; a failure is reported with a
 * hint of what to do next and CLI_EXIT_FAIL returned. s->status holds the
 * answer's status either way. */
int cli_svc_call(cli_svc *s, const char *method, const json_t *body, const char *query, json_t **ret,
                 const char *const *path);
#define CLI_PATH(...) ((const char *const[]) { __VA_ARGS__, NULL })

/* The request path cli_svc_call sends: "/v1/SEG/SEG" (each segment
 * escaped), then "?" and query if non-NULL. malloc'd; NULL when out of
 * memory. For requests that are not JSON (rp_http_request on s->http). */
char *cli_svc_path(const char *query, const char *const *segs);

/* Reports a failed request r (err) with the hint that fits it. Returns
 * CLI_EXIT_FAIL. */
int cli_svc_fail(cli_svc *s, int r, const rp_error *err);

/* Appends "key=value" (value escaped) to *q, with '&' after the first. */
int cli_query_add(char **q, const char *key, const char *value);

/* The tenant's path segment pair: "tenants", s->tenant. */
#define CLI_TENANT(s) "tenants", (s)->tenant

/* Checks of arguments, each a usage error (returns CLI_EXIT_USAGE) naming
 * what was expected; CLI_EXIT_OK if fine. */
int cli_check_device_id(const cli_svc *s, const char *id);      /* 64 hex digits; lowercased in place */
int cli_check_object_id(const cli_svc *s, const char *what, const char *id);   /* 32 hex digits; lowercased */
/* An id (32 hex digits) or a SHA-256 (64: hash names it, "key id"); lowercased in place. */
int cli_check_id_or_hash(const cli_svc *s, const char *what, const char *hash, char *id);
int cli_check_number(const cli_svc *s, const char *option, const char *v, long min, long max, long *ret);

/* The device group's server commands (cmd-device-service.c), beside its
 * local ones (cmd-device.c). */
extern const cli_svc_cmd cli_device_service_cmds[];
extern const size_t cli_device_service_n;

/* rampart device error-report (cmd-error-report.c): its entry in that table. */
extern const cli_opt cli_error_report_opts[];
extern const char cli_error_report_synopsis[], cli_error_report_about[];
int cli_error_report_run(cli_svc *s);
#define CLI_ERROR_REPORT_CMD                                                                            \
        { "error-report", cli_error_report_synopsis, 0, 0, cli_error_report_opts, CLI_SVC_TENANT,       \
          "List the devices' failure reports, or count them by app and kind", cli_error_report_about, \
          cli_error_report_run }

/* Output (view.c). */
typedef enum cli_field_kind {
        CLI_FIELD_TEXT,         /* a string or a number */
        CLI_FIELD_TIME,         /* seconds since the epoch, shown in UTC */
        CLI_FIELD_TIME_US,      /* microseconds since the epoch */
        CLI_FIELD_BOOL,         /* yes / no */
        CLI_FIELD_COUNT,        /* an array's length */
        CLI_FIELD_NAMES,        /* an array of objects: their "name"s, comma-separated */
} cli_field_kind;

typedef struct cli_field {
        const char *label;      /* "Name": "Name:" as a row, "NAME" as a column */
        const char *key;
        cli_field_kind kind;
} cli_field;

/* A field's value as text (malloc'd): "-" for absent or null. Not escaped. */
char *cli_field_text(const json_t *obj, const cli_field *f);

/* Prints obj (reference dropped): JSON as it came with -o json, else one
 * "Label: value" row per field, values escaped. */
int cli_show(const cli_svc *s, json_t *obj, const cli_field *fields);

/* Prints a list answer {"key": [...]} (reference dropped): JSON as it came
 * with -o json, else a column table with one row per element, cells
 * escaped. -EBADMSG (reported) if the answer holds no such array. */
int cli_list(const cli_svc *s, json_t *ans, const char *key, const cli_field *fields);

/* Prints j with -o json (reference dropped); otherwise drops it and prints
 * line (escaped) as the table form. */
int cli_done(const cli_svc *s, json_t *j, const char *line);
