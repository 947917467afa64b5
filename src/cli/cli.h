/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by the CLI's command groups: dispatch, error reporting, output.
 *
 * Exit codes: 0 success; 1 the operation failed or its input was refused
 * (a bad signature, a malformed manifest); 2 the command line was wrong. */

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAIL 1
#define CLI_EXIT_USAGE 2

typedef enum cli_format {
        CLI_FORMAT_TEXT,
        CLI_FORMAT_JSON,
} cli_format;

typedef struct cli_command {
        const char *name;
        int (*run)(int argc, char **argv);   /* argv[0] is the command name */
        const char *summary;
} cli_command;

/* Runs the subcommand named by argv[1] from cmds, or prints the group's help.
 * argv[0] is the group name. */
int cli_dispatch(const char *group, const char *group_summary,
                 const cli_command *cmds, size_t n_cmds, int argc, char **argv);

/* Parses "-o/--output" values: "table" or "text" (the same), "json". Prints
 * a usage error and returns -EINVAL on anything else. */
int cli_parse_format(const char *cmd, const char *s, cli_format *ret);

/* Prints "rampart CMD: <message>" and "Try 'rampart CMD --help'." to stderr
 * and returns CLI_EXIT_USAGE. */
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Reports what getopt_long() returned for a bad option (':' a missing
 * value, anything else an unknown option), naming the option as typed, and
 * returns CLI_EXIT_USAGE. Use with opterr = 0 and an optstring starting
 * with ':'. */
int cli_bad_option(const char *cmd, int c, char **argv);

/* Reports a failed operation: "rampart: error: <err message or strerror>"
 * plus an optional hint line ("hint: ..."), and returns CLI_EXIT_FAIL. */
int cli_fail(int code, const rp_error *err, const char *hint);

/* Prints a JSON value on stdout (indented, keys in insertion order) and
 * drops the reference. Returns CLI_EXIT_OK, or CLI_EXIT_FAIL if j is NULL
 * (out of memory). */
int cli_print_json(json_t *j);

/* One "key: value" row of a human table, keys padded to width. Control
 * characters in value are escaped, so untrusted text cannot drive the
 * terminal. */
void cli_print_row(int width, const char *key, const char *value);

/* Writes s to stdout (or f) with control characters escaped: C0 controls,
 * DEL and bytes that are not UTF-8 as \xNN; C1 controls and bidirectional
 * controls (U+202A..U+202E, U+2066..U+2069) as \uNNNN. */
void cli_print_safe(const char *s);
void cli_print_safe_to(FILE *f, const char *s);

/* Text from outside (a path, a name) for JSON output: NULL gives null, valid
 * UTF-8 a string, and anything else a string with each byte that is not
 * UTF-8 replaced by U+FFFD. Returns NULL only when out of memory. JSON
 * output never fails for such text: pair it with cli_json_raw(). */
json_t *cli_json_text(const char *s);

/* If s is not valid UTF-8, adds "KEY_hex" (s's exact bytes in hex) to the
 * object j, so the JSON keeps what cli_json_text() replaced. Returns j, or
 * NULL (and drops j) when j is NULL or out of memory. */
json_t *cli_json_raw(json_t *j, const char *key, const char *s);

/* True if argv holds -h or --help before any "--". */
bool cli_wants_help(int argc, char **argv);

/* What an existing file at an output path must be for a command to replace
 * it without --force (output-file.c). */
typedef enum cli_output_kind {
        CLI_OUTPUT_NEW,         /* nothing: any existing file needs --force */
        CLI_OUTPUT_PACKAGE,     /* an image package */
        CLI_OUTPUT_HEADER,      /* a header whose first line is RP_HWDEF_HEADER_MARKER */
        CLI_OUTPUT_EROFS,       /* an erofs image */
        CLI_OUTPUT_EVIDENCE,    /* a COSE_Sign1 that is not an image package (evidence) */
        CLI_OUTPUT_CERTIFICATE, /* a PEM file starting with a CERTIFICATE block */
        CLI_OUTPUT_PUBLIC_KEY,  /* a PEM file starting with a PUBLIC KEY block */
} cli_output_kind;

typedef struct cli_output {
        const char *path;
        const char *what;       /* for messages: "the package" */
        const char *option;     /* the option that names it, for hints: "-o" */
        cli_output_kind kind;
        bool force;             /* --force: replace a file of another kind */
} cli_output;

/* An input of the command: a file no output may replace. */
typedef struct cli_input {
        const char *what;       /* for messages: "the signing key (--key)" */
        const char *path;
        bool tree;              /* a directory: no file in it may be replaced either */
} cli_input;

/* Called before writing out->path. Refuses (reports, returns CLI_EXIT_FAIL)
 * if the output is the same file as an input, or as a file inside an input
 * tree: device and inode compared, symlinks followed, so another name, a
 * hard link or a symlink is caught; --force does not change this. Unless
 * out->force, also refuses to replace an existing file (or symlink) that is
 * not of out->kind. Returns CLI_EXIT_OK otherwise. Inputs that do not exist
 * are skipped. This guards against mistakes, not against a race with
 * someone who can write to the output's directory. */
int cli_check_output(const cli_output *out, const cli_input *inputs, size_t n_inputs);

/* The key's id (rp_key_id) in lowercase hex. */
void cli_key_id_hex(const rp_key *key, char out[2 * RP_KEY_ID_LEN + 1]);

/* The command groups, one file each. */
int cmd_keys(int argc, char **argv);
int cmd_image_package(int argc, char **argv);
int cmd_app_manifest(int argc, char **argv);
int cmd_hardware_definition(int argc, char **argv);
int cmd_factory(int argc, char **argv);
int cmd_evidence(int argc, char **argv);
int cmd_device(int argc, char **argv);
/* rampart device report-errors (cmd-device-report.c), in cmd_device's table. */
int cmd_device_report_errors(int argc, char **argv);
/* The device's side of updates (cmd-device-update.c), in cmd_device's table. */
int cmd_device_check_update(int argc, char **argv);
int cmd_device_download(int argc, char **argv);
int cmd_device_report_state(int argc, char **argv);
/* rampart-server's management API (service.h) */
int cmd_login(int argc, char **argv);
int cmd_tenant(int argc, char **argv);
int cmd_user(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_manufacturer(int argc, char **argv);
int cmd_ca_certificate(int argc, char **argv);
int cmd_product(int argc, char **argv);
int cmd_device_group(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_deployment(int argc, char **argv);
int cmd_deployment_key(int argc, char **argv);
int cmd_audit(int argc, char **argv);
int cmd_attestation(int argc, char **argv);
int cmd_signing_key(int argc, char **argv);
int cmd_image(int argc, char **argv);
