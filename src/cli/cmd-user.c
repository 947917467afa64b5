/* SPDX-License-Identifier: Apache-2.0 */
/* rampart user: a tenant's users and their roles. */
#include <errno.h>
#include <strings.h>

#include "core/macro.h"
#include "service.h"

static const cli_field user_fields[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Role", "role", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Tenant", "tenant", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

static const char *const roles[] = { "Administrator", "Contributor", "Reader" };

static int user_add(cli_svc *s) {
        const char *role = cli_svc_opt(s, "role"), *canon = NULL;
        if (!role)
                return cli_usage_error(s->cmd, "missing --role R (Administrator, Contributor or Reader)");
        for (size_t i = 0; i < ELEMENTSOF(roles); i++)
                if (!strcasecmp(role, roles[i]))
                        canon = roles[i];
        if (!canon)
                return cli_usage_error(s->cmd, "--role: expected Administrator, Contributor or Reader, got '%s'",
                                       role);
        json_t *body = json_pack("{s:s, s:s}", "name", s->args[0], "role", canon), *u = NULL;
        if (!body)
                return cli_fail(-ENOMEM, NULL, "the name must be UTF-8");
        int x = cli_svc_call(s, "POST", body, NULL, &u, CLI_PATH(CLI_TENANT(s), "users"));
        json_decref(body);
        return x != CLI_EXIT_OK ? x : cli_show(s, u, user_fields);
}

static int user_list(cli_svc *s) {
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "users"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "users", user_fields);
}

static int user_remove(cli_svc *s) {
        int x = cli_svc_call(s, "DELETE", NULL, NULL, NULL, CLI_PATH(CLI_TENANT(s), "users", s->args[0]));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "Removed user %s from tenant %s; their tokens are revoked.", s->args[0], s->tenant) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        return cli_done(s, json_pack("{s:s, s:s, s:b}", "user", s->args[0], "tenant", s->tenant, "removed", 1),
                        line);
}

static const cli_opt add_opts[] = {
        { "role", "R", "Administrator, Contributor or Reader (required)" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "add", "NAME --role R", 1, 1, add_opts, CLI_SVC_TENANT,
          "Add a user with a role (Administrators)",
          "Adds a user to the tenant. Roles: Administrator (users, tokens, tenant settings,\n"
          "manufacturer CAs, releases, releasing devices), Contributor (products, device\n"
          "groups, devices, releases), Reader (looks, changes nothing). A user gets an API\n"
          "token with 'rampart token create --user NAME'.",
          user_add },
        { "list", "", 0, 0, NULL, CLI_SVC_TENANT,
          "List the tenant's users",
          "Lists the tenant's users and their roles.",
          user_list },
        { "remove", "NAME", 1, 1, NULL, CLI_SVC_TENANT,
          "Remove a user and revoke their tokens (Administrators)",
          "Removes a user (by name or id) from the tenant and revokes their API tokens.",
          user_remove },
};

int cmd_user(int argc, char **argv) {
        return cli_svc_group("user", "Manage a tenant's users and their roles.", NULL, 0, commands,
                             ELEMENTSOF(commands), argc, argv);
}
