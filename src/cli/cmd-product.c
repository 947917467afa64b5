/* SPDX-License-Identifier: Apache-2.0 */
/* rampart product: products (each made with five device groups). */
#include <errno.h>

#include "core/macro.h"
#include "service.h"

static const cli_field product_fields[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Description", "description", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        { "Device groups", "device_groups", CLI_FIELD_NAMES },
        {}
};

static const cli_field product_columns[] = {
        { "Name", "name", CLI_FIELD_TEXT },
        { "Id", "id", CLI_FIELD_TEXT },
        { "Groups", "device_groups", CLI_FIELD_COUNT },
        { "Created", "created_at", CLI_FIELD_TIME },
        { "Description", "description", CLI_FIELD_TEXT },
        {}
};

static int product_create(cli_svc *s) {
        json_t *body = json_pack("{s:s, s:s*}", "name", s->args[0], "description", cli_svc_opt(s, "description"));
        json_t *p = NULL;
        if (!body)
                return cli_fail(-ENOMEM, NULL, "the name and description must be UTF-8");
        int x = cli_svc_call(s, "POST", body, NULL, &p, CLI_PATH(CLI_TENANT(s), "products"));
        json_decref(body);
        return x != CLI_EXIT_OK ? x : cli_show(s, p, product_fields);
}

static int product_list(cli_svc *s) {
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "products"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "products", product_columns);
}

static int product_show(cli_svc *s) {
        json_t *p = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &p, CLI_PATH(CLI_TENANT(s), "products", s->args[0]));
        return x != CLI_EXIT_OK ? x : cli_show(s, p, product_fields);
}

static const cli_opt create_opts[] = {
        { "description", "D", "what the product is" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "create", "NAME [--description D]", 1, 1, create_opts, CLI_SVC_TENANT,
          "Create a product and its device groups",
          "Creates a product with its five default device groups: Development\n"
          "(No3rdPartyAppUpdates), Field Test, Field Test OS Evaluation, Production and\n"
          "Production OS Evaluation (UpdateAll).",
          product_create },
        { "list", "", 0, 0, NULL, CLI_SVC_TENANT,
          "List the tenant's products",
          "Lists the tenant's products.",
          product_list },
        { "show", "NAME", 1, 1, NULL, CLI_SVC_TENANT,
          "Show a product and its device groups",
          "Shows a product (by name or id) and the names of its device groups.",
          product_show },
};

int cmd_product(int argc, char **argv) {
        return cli_svc_group("product", "Create, list and show products.", NULL, 0, commands, ELEMENTSOF(commands),
                             argc, argv);
}
