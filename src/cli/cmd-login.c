/* SPDX-License-Identifier: Apache-2.0 */
/* rampart login: check a rampart-server answers with a token, and save the
 * profile the other server commands default to (profile.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "service.h"

static const cli_field whoami_fields[] = {
        { "Server", "server", CLI_FIELD_TEXT },
        { "User", "user", CLI_FIELD_TEXT },
        { "Role", "role", CLI_FIELD_TEXT },
        { "Tenant", "tenant", CLI_FIELD_TEXT },
        { "Token id", "token_id", CLI_FIELD_TEXT },
        { "Profile", "profile", CLI_FIELD_TEXT },
        {}
};

/* path made absolute, so the profile works from any directory. */
static int absolute(const char *what, const char *path, char **ret) {
        char *p = realpath(path, NULL);
        if (!p) {
                int r = -errno;
                rp_error err = {};
                rp_error_set_errno(&err, r, "%s %s", what, path);
                return cli_fail(r, &err, NULL);
        }
        *ret = p;
        return CLI_EXIT_OK;
}

static int login_run(cli_svc *s) {
        json_t *who = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &who, CLI_PATH("whoami"));
        if (x != CLI_EXIT_OK)
                return x;
        const char *tenant = json_string_value(json_object_get(who, "tenant"));
        const char *user = json_string_value(json_object_get(who, "user"));
        rp_error err = {};
        if (!user) {
                json_decref(who);
                rp_error_set(&err, -EBADMSG, "%s: the answer to GET /v1/whoami names no user: is it rampart-server?",
                             s->server);
                return cli_fail(-EBADMSG, &err, NULL);
        }

        _cleanup_free_ char *path = NULL;
        int r = cli_profile_path(&path, &err);
        if (r < 0) {
                json_decref(who);
                return cli_fail(r, &err, "set RAMPART_CONFIG_DIR to the directory the profile should be in");
        }
        /* An operator's earlier tenant selection on this same server stays;
         * a tenant's user works in its tenant. A profile that cannot be read
         * is replaced. */
        cli_profile old = {}, p = {};
        bool exists = false;
        rp_error ignored = {};
        if (cli_profile_load(path, &old, &exists, &ignored) < 0)
                old = (cli_profile) {};
        x = absolute("the CA file", s->ca_file, &p.ca_file);
        if (x == CLI_EXIT_OK)
                x = absolute("the token file", s->token_file, &p.token_file);
        if (x == CLI_EXIT_OK) {
                const char *server = rp_http_server(s->http);
                const char *t = tenant ? tenant : old.tenant && old.server && streq(old.server, server) ? old.tenant
                                                                                                     : NULL;
                p.server = strdup(server);
                p.tenant = t ? strdup(t) : NULL;
                if (!p.server || (t && !p.tenant))
                        x = cli_fail(-ENOMEM, NULL, NULL);
        }
        if (x == CLI_EXIT_OK && (r = cli_profile_save(path, &p, &err)) < 0)
                x = cli_fail(r, &err, "set RAMPART_CONFIG_DIR to a directory you can write");
        if (x == CLI_EXIT_OK &&
            (json_object_set_new(who, "server", json_string(p.server)) < 0 ||
             json_object_set_new(who, "profile", cli_json_text(path)) < 0 ||
             (p.tenant && !tenant && json_object_set_new(who, "tenant", cli_json_text(p.tenant)) < 0)))
                x = cli_fail(-ENOMEM, NULL, NULL);
        cli_profile_clear(&p);
        cli_profile_clear(&old);
        if (x != CLI_EXIT_OK) {
                json_decref(who);
                return x;
        }
        return cli_show(s, who, whoami_fields);
}

static const cli_svc_cmd login = {
        "login", "--server URL --ca-file F --token-file T", 0, 0, NULL, CLI_SVC_NO_PROFILE,
        "Check a rampart-server and save the profile",
        "Checks that rampart-server at URL answers, with a certificate that chains to F,\n"
        "and accepts the API token in T (GET /v1/whoami); then saves the three in the\n"
        "profile, which every server command uses unless told otherwise. The profile holds\n"
        "the token file's path, not the token. A tenant's user works in its tenant from\n"
        "then on; an operator chooses one with 'rampart tenant select NAME'.",
        login_run,
};

int cmd_login(int argc, char **argv) {
        return cli_svc_main("login", &login, argc, argv);
}
