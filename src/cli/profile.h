/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The CLI's profile: which rampart-server to talk to, the CA file its
 * certificate is checked with, the file the API token is read from, and
 * the tenant 'rampart tenant select' chose. 'rampart login' writes it;
 * every server command reads it, and its --server, --ca-file, --token-file
 * and --tenant override it. docs/cli-service.md describes the file.
 *
 * It is one JSON object in profile.json, in the first of
 * $RAMPART_CONFIG_DIR, $XDG_CONFIG_HOME/rampart, ~/.config/rampart:
 *
 *     {"server": "https://127.0.0.1:8443", "ca_file": "/abs/ca.pem",
 *      "token_file": "/abs/admin.token", "tenant": "acme"}
 *
 * The token itself is not in it, only its file's path: the token stays in
 * the one file its owner protects (the server writes admin.token 0600), a
 * revoked token is replaced in one place, and a profile can be shown or
 * copied without leaking a secret. Because the profile says where the token
 * is read from and where it is sent, it must be the user's own and not
 * writable by group or others, as ssh asks of its config. */

#include <stdbool.h>

#include "rampart/error.h"

#define CLI_PROFILE_FILE "profile.json"
#define CLI_PROFILE_MAX (64 * 1024)
/* Each value: a URL, a path, a tenant name. */
#define CLI_PROFILE_VALUE_MAX 4096
/* An API token file: "rpt_" + 64 hex digits and a newline; a little room. */
#define CLI_TOKEN_FILE_MAX 4096

typedef struct cli_profile {
        char *server;
        char *ca_file;
        char *token_file;
        char *tenant;           /* NULL: none selected */
} cli_profile;

void cli_profile_clear(cli_profile *p);

/* The profile's path (malloc'd): $RAMPART_CONFIG_DIR/profile.json, else
 * $XDG_CONFIG_HOME/rampart/profile.json, else
 * $HOME/.config/rampart/profile.json. Empty variables count as unset;
 * -ENOENT if none is set. */
int cli_profile_path(char **ret, rp_error *err);

/* Reads the profile at path. A profile that does not exist is not an
 * error: *ret is empty and *ret_exists false. Refused (-EPERM) if it is
 * not owned by the user or is writable by group or others; -EFBIG over
 * CLI_PROFILE_MAX; -EINVAL if it is not a JSON object whose known keys are
 * strings (of at most CLI_PROFILE_VALUE_MAX bytes, no NUL) or, for tenant,
 * null. Unknown keys are ignored, so a newer rampart's profile still works. */
int cli_profile_load(const char *path, cli_profile *ret, bool *ret_exists, rp_error *err);

/* Writes p to path atomically, mode 0600, creating the directory (0700)
 * and, for the XDG default, its parent if they are missing. */
int cli_profile_save(const char *path, const cli_profile *p, rp_error *err);

/* Reads an API token from path: the file's contents without one trailing
 * newline ("\n" or "\r\n"), as the server writes admin.token. Refused
 * (-EPERM) if group or others may read it (chmod 600), -EINVAL if it is
 * empty or holds more than one line. *ret is malloc'd; wipe it
 * (OPENSSL_cleanse) before freeing. */
int cli_token_read(const char *path, char **ret, rp_error *err);
