/* SPDX-License-Identifier: Apache-2.0 */
/* rampart release: the software releases (measurements) whose devices may
 * get certificates; revoking one stops certificates for devices running
 * it. */
#include <ctype.h>
#include <errno.h>
#include <string.h>

#include "core/macro.h"
#include "service.h"

static const cli_field release_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Kind", "kind", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Version", "version", CLI_FIELD_TEXT },
        { "Measurement", "measurement", CLI_FIELD_TEXT },
        { "Revoked", "revoked", CLI_FIELD_BOOL },
        { "Revoked at", "revoked_at", CLI_FIELD_TIME },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

static const cli_field release_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Kind", "kind", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Version", "version", CLI_FIELD_TEXT },
        { "Revoked", "revoked", CLI_FIELD_BOOL },
        { "Measurement", "measurement", CLI_FIELD_TEXT },
        {}
};

static bool hex_of_length(char *s, size_t n) {
        if (strlen(s) != n)
                return false;
        for (size_t i = 0; i < n; i++) {
                if (!isxdigit((unsigned char) s[i]))
                        return false;
                s[i] = (char) tolower((unsigned char) s[i]);
        }
        return true;
}

static int release_add(cli_svc *s) {
        const char *kind = cli_svc_opt(s, "kind"), *name = cli_svc_opt(s, "name");
        const char *version = cli_svc_opt(s, "version"), *m = cli_svc_opt(s, "measurement");
        if (!kind || !name || !version || !m)
                return cli_usage_error(s->cmd, "missing --%s", !kind ? "kind os|app" : !name ? "name N" :
                                       !version ? "version V" : "measurement HEX");
        if (!streq(kind, "os") && !streq(kind, "app"))
                return cli_usage_error(s->cmd, "--kind: expected os or app, got '%s'", kind);
        _cleanup_free_ char *mm = strdup(m);
        if (!mm)
                return cli_fail(-ENOMEM, NULL, NULL);
        if (!hex_of_length(mm, 64))
                return cli_usage_error(s->cmd, "--measurement: expected 64 hex digits (the Measurement 'rampart "
                                       "device show-identity' or 'rampart evidence verify' prints), got '%s'", m);
        json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "kind", kind, "name", name, "version", version,
                              "measurement", mm), *rel = NULL;
        if (!b)
                return cli_fail(-ENOMEM, NULL, "the name and version must be UTF-8");
        int x = cli_svc_call(s, "POST", b, NULL, &rel, CLI_PATH(CLI_TENANT(s), "releases"));
        json_decref(b);
        return x != CLI_EXIT_OK ? x : cli_show(s, rel, release_fields);
}

static int release_list(cli_svc *s) {
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "releases"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "releases", release_columns);
}

static int release_revoke(cli_svc *s) {
        char *id = s->args[0];
        if (!hex_of_length(id, 32) && !hex_of_length(id, 64))
                return cli_usage_error(s->cmd, "'%s' is not a release id (32 hex digits) or measurement (64 hex "
                                       "digits)", id);
        json_t *rel = NULL;
        int x = cli_svc_call(s, "POST", NULL, NULL, &rel, CLI_PATH(CLI_TENANT(s), "releases", id, "revoke"));
        return x != CLI_EXIT_OK ? x : cli_show(s, rel, release_fields);
}

static const cli_opt add_opts[] = {
        { "kind", "os|app", "what the measurement covers (required)" },
        { "name", "N", "the software's name (required)" },
        { "version", "V", "its version (required)" },
        { "measurement", "HEX", "its measurement, 64 hex digits (required)" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "add", "--kind os|app --name N --version V --measurement HEX", 0, 0, add_opts, CLI_SVC_TENANT,
          "Accept a software measurement",
          "Adds a software release: devices whose evidence carries this measurement (the\n"
          "SHA-256 over their measured components, as 'rampart evidence verify' prints)\n"
          "may get certificates.",
          release_add },
        { "list", "", 0, 0, NULL, CLI_SVC_TENANT,
          "List the tenant's software releases",
          "Lists the tenant's software releases, revoked ones too.",
          release_list },
        { "revoke", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Revoke a release: devices running it get no certificate",
          "Revokes a release (by id or measurement): from now on, devices running it are\n"
          "refused certificates (reason software_revoked) until they are updated.",
          release_revoke },
};

int cmd_release(int argc, char **argv) {
        return cli_svc_group("release", "Manage the software releases devices may run.", NULL, 0, commands,
                             ELEMENTSOF(commands), argc, argv);
}
