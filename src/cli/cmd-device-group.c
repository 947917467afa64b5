/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device-group: a product's device groups and their update
 * policies. */
#include <errno.h>
#include <string.h>

#include "core/macro.h"
#include "service.h"

static const cli_field group_fields[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Product", "product", CLI_FIELD_TEXT },
        { "Update policy", "update_policy", CLI_FIELD_TEXT },
        { "Description", "description", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

static const cli_field group_columns[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Update policy", "update_policy", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Description", "description", CLI_FIELD_TEXT },
        {}
};

static const char *const policies[] = { "UpdateAll", "No3rdPartyAppUpdates", "NoUpdates" };

/* --product (required) and --update-policy (if given, one of policies). */
static int check(cli_svc *s, const char **ret_product) {
        const char *p = cli_svc_opt(s, "product"), *policy = cli_svc_opt(s, "update-policy");
        if (!p)
                return cli_usage_error(s->cmd, "missing --product P (the product's name or id)");
        if (policy) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(policies); i++)
                        ok |= streq(policy, policies[i]);
                if (!ok)
                        return cli_usage_error(s->cmd, "--update-policy: expected UpdateAll, No3rdPartyAppUpdates or "
                                               "NoUpdates, got '%s'", policy);
        }
        *ret_product = p;
        return CLI_EXIT_OK;
}

/* {"name"?, "description"?, "update_policy"?} from the options. */
static json_t *body(cli_svc *s, const char *name) {
        return json_pack("{s:s*, s:s*, s:s*}", "name", name, "description", cli_svc_opt(s, "description"),
                         "update_policy", cli_svc_opt(s, "update-policy"));
}

static int group_create(cli_svc *s) {
        const char *p;
        int x = check(s, &p);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *b = body(s, s->args[0]), *g = NULL;
        if (!b)
                return cli_fail(-ENOMEM, NULL, "the name and description must be UTF-8");
        x = cli_svc_call(s, "POST", b, NULL, &g, CLI_PATH(CLI_TENANT(s), "products", p, "device-groups"));
        json_decref(b);
        return x != CLI_EXIT_OK ? x : cli_show(s, g, group_fields);
}

static int group_list(cli_svc *s) {
        const char *p;
        int x = check(s, &p);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *ans = NULL;
        x = cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "products", p, "device-groups"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "device_groups", group_columns);
}

static int group_show(cli_svc *s) {
        const char *p;
        int x = check(s, &p);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *g = NULL;
        x = cli_svc_call(s, "GET", NULL, NULL, &g, CLI_PATH(CLI_TENANT(s), "products", p, "device-groups", s->args[0]));
        return x != CLI_EXIT_OK ? x : cli_show(s, g, group_fields);
}

static int group_update(cli_svc *s) {
        const char *p;
        int x = check(s, &p);
        if (x != CLI_EXIT_OK)
                return x;
        if (!cli_svc_opt(s, "update-policy") && !cli_svc_opt(s, "description"))
                return cli_usage_error(s->cmd, "nothing to change: give --update-policy X or --description D");
        json_t *b = body(s, NULL), *g = NULL;
        if (!b)
                return cli_fail(-ENOMEM, NULL, "the description must be UTF-8");
        x = cli_svc_call(s, "PATCH", b, NULL, &g, CLI_PATH(CLI_TENANT(s), "products", p, "device-groups", s->args[0]));
        json_decref(b);
        return x != CLI_EXIT_OK ? x : cli_show(s, g, group_fields);
}

#define PRODUCT_OPT { "product", "P", "the product (name or id); required" }
#define POLICY_OPT { "update-policy", "X", "UpdateAll, No3rdPartyAppUpdates or NoUpdates" }
#define DESCRIPTION_OPT { "description", "D", "what the group is for" }

static const cli_opt edit_opts[] = { PRODUCT_OPT, POLICY_OPT, DESCRIPTION_OPT, {} };
static const cli_opt product_opts[] = { PRODUCT_OPT, {} };

static const cli_svc_cmd commands[] = {
        { "create", "--product P NAME [--update-policy X] [--description D]", 1, 1, edit_opts, CLI_SVC_TENANT,
          "Create a device group in a product",
          "Creates a device group in product P. Its update policy (default UpdateAll) says\n"
          "which updates its devices take: UpdateAll, No3rdPartyAppUpdates (OS only),\n"
          "NoUpdates.",
          group_create },
        { "list", "--product P", 0, 0, product_opts, CLI_SVC_TENANT,
          "List a product's device groups",
          "Lists the device groups of product P.",
          group_list },
        { "show", "--product P NAME", 1, 1, product_opts, CLI_SVC_TENANT,
          "Show a device group",
          "Shows a device group of product P (by name or id).",
          group_show },
        { "update", "--product P NAME [--update-policy X] [--description D]", 1, 1, edit_opts, CLI_SVC_TENANT,
          "Change a device group's update policy or description",
          "Changes a device group's update policy or description.",
          group_update },
};

int cmd_device_group(int argc, char **argv) {
        return cli_svc_group("device-group", "Manage a product's device groups and their update policies.", NULL,
                             0, commands, ELEMENTSOF(commands), argc, argv);
}
