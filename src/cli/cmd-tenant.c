/* SPDX-License-Identifier: Apache-2.0 */
/* rampart tenant: create, list, show and select tenants; change a tenant's
 * settings. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/macro.h"
#include "service.h"

static const cli_field tenant_fields[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Allow development", "allow_development", CLI_FIELD_BOOL },
        { "CA fingerprint", "ca_fingerprint", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

static const cli_field tenant_columns[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Development", "allow_development", CLI_FIELD_BOOL },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

/* "yes"/"no" (also true/false, on/off). */
static int parse_yes_no(const cli_svc *s, const char *option, const char *v, bool *ret) {
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcasecmp(v, "on"))
                *ret = true;
        else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcasecmp(v, "off"))
                *ret = false;
        else
                return cli_usage_error(s->cmd, "--%s: expected yes or no, got '%s'", option, v);
        return CLI_EXIT_OK;
}

static int tenant_create(cli_svc *s) {
        json_t *body = json_pack("{s:s, s:b}", "name", s->args[0], "allow_development",
                                 cli_svc_opt(s, "allow-development") != NULL);
        if (!body)
                return cli_fail(-ENOMEM, NULL, "the name must be UTF-8");
        json_t *t = NULL;
        int x = cli_svc_call(s, "POST", body, NULL, &t, CLI_PATH("tenants"));
        json_decref(body);
        return x != CLI_EXIT_OK ? x : cli_show(s, t, tenant_fields);
}

static int tenant_list(cli_svc *s) {
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH("tenants"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "tenants", tenant_columns);
}

/* NAME, or the tenant in use. */
static const char *which(cli_svc *s) {
        const char *t = s->n_args ? s->args[0] : s->tenant;
        if (!t)
                cli_usage_error(s->cmd, "which tenant? give NAME, or select one with 'rampart tenant select NAME'");
        return t;
}

static int tenant_show(cli_svc *s) {
        const char *name = which(s);
        if (!name)
                return CLI_EXIT_USAGE;
        json_t *t = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &t, CLI_PATH("tenants", name));
        return x != CLI_EXIT_OK ? x : cli_show(s, t, tenant_fields);
}

static int tenant_update(cli_svc *s) {
        const char *name = which(s), *dev = cli_svc_opt(s, "allow-development");
        if (!name)
                return CLI_EXIT_USAGE;
        if (!dev)
                return cli_usage_error(s->cmd, "nothing to change: give --allow-development yes|no");
        bool allow = false;
        int x = parse_yes_no(s, "allow-development", dev, &allow);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *body = json_pack("{s:b}", "allow_development", allow), *t = NULL;
        if (!body)
                return cli_fail(-ENOMEM, NULL, NULL);
        x = cli_svc_call(s, "PATCH", body, NULL, &t, CLI_PATH("tenants", name));
        json_decref(body);
        return x != CLI_EXIT_OK ? x : cli_show(s, t, tenant_fields);
}

static int tenant_select(cli_svc *s) {
        json_t *t = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &t, CLI_PATH("tenants", s->args[0]));
        if (x != CLI_EXIT_OK)
                return x;
        const char *name = json_string_value(json_object_get(t, "name"));
        rp_error err = {};
        int r = 0;
        if (!name) {
                json_decref(t);
                rp_error_set(&err, -EBADMSG, "the server's tenant has no name");
                return cli_fail(-EBADMSG, &err, NULL);
        }
        /* The profile, as it is on disk (the connection options given on
         * the command line only served this check). */
        if (!s->profile_path && (r = cli_profile_path(&s->profile_path, &err)) >= 0)
                r = cli_profile_load(s->profile_path, &s->profile, &s->profile_exists, &err);
        if (r < 0) {
                json_decref(t);
                return cli_fail(r, &err, "fix the profile, or remove it and run 'rampart login' again");
        }
        if (!s->profile_exists) {
                json_decref(t);
                rp_error_set(&err, -ENOENT, "no profile to keep the selection in (%s)", s->profile_path);
                return cli_fail(-ENOENT, &err, "run 'rampart login --server URL --ca-file F --token-file T' first, "
                                "or give --tenant NAME to each command");
        }
        char *copy = strdup(name);
        if (!copy) {
                json_decref(t);
                return cli_fail(-ENOMEM, NULL, NULL);
        }
        free(s->profile.tenant);
        s->profile.tenant = copy;
        r = cli_profile_save(s->profile_path, &s->profile, &err);
        if (r < 0) {
                json_decref(t);
                return cli_fail(r, &err, NULL);
        }
        if (s->fmt == CLI_FORMAT_JSON)
                return cli_print_json(t);
        printf("Selected tenant ");
        cli_print_safe(name);
        printf(" (id ");
        cli_print_safe(json_string_value(json_object_get(t, "id")) ?: "?");
        printf("): commands inside a tenant use it unless given --tenant.\n");
        json_decref(t);
        return CLI_EXIT_OK;
}

static const cli_opt create_opts[] = {
        { "allow-development", NULL, "accept devices whose root of trust is for development" },
        {}
};

static const cli_opt update_opts[] = {
        { "allow-development", "yes|no", "accept devices with a development root of trust or not" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "create", "NAME [--allow-development]", 1, 1, create_opts, 0,
          "Create a tenant and its CA (operators)",
          "Creates a tenant, with its own CA (ECDSA P-256) that signs its devices'\n"
          "certificates. Only the service's operators may.",
          tenant_create },
        { "list", "", 0, 0, NULL, 0,
          "List the tenants you can see",
          "Lists the tenants: all of them for an operator, your own for a tenant's user.",
          tenant_list },
        { "show", "[NAME]", 0, 1, NULL, CLI_SVC_TENANT_OPT,
          "Show a tenant (by default the selected one)",
          "Shows a tenant (by name or id): NAME, or else --tenant or the selected one.",
          tenant_show },
        { "select", "NAME", 1, 1, NULL, 0,
          "Choose the tenant later commands work in",
          "Checks the tenant exists and saves its name in the profile: commands inside a\n"
          "tenant use it unless given --tenant. Needs a profile ('rampart login').",
          tenant_select },
        { "update", "[NAME] --allow-development yes|no", 0, 1, update_opts, CLI_SVC_TENANT_OPT,
          "Change a tenant's settings (Administrators)",
          "Changes a tenant's settings: whether devices whose root of trust is for\n"
          "development (the soft backend: the device secret is a file) may attest.",
          tenant_update },
};

int cmd_tenant(int argc, char **argv) {
        return cli_svc_group("tenant", "Create, list, show and select tenants.", NULL, 0, commands,
                             ELEMENTSOF(commands), argc, argv);
}
