/* SPDX-License-Identifier: Apache-2.0 */
/* rampart audit: the log of management changes: who, what, when, from
 * where. */
#include <errno.h>
#include <stdio.h>

#include "core/macro.h"
#include "service.h"

static const cli_field audit_columns[] = {
        { "At", "at", CLI_FIELD_TIME_US },
        { "Actor", "actor", CLI_FIELD_TEXT },
        { "Action", "action", CLI_FIELD_TEXT },
        { "Target", "target", CLI_FIELD_TEXT },
        { "Remote", "remote", CLI_FIELD_TEXT },
        { "Detail", "detail", CLI_FIELD_TEXT },
        {}
};

static int audit_list(cli_svc *s) {
        const char *limit = cli_svc_opt(s, "limit");
        bool service = cli_svc_opt(s, "service") != NULL;
        long n;
        if (limit && cli_check_number(s, "limit", limit, 1, 1000, &n) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
        if (!service && !s->tenant)
                return cli_usage_error(s->cmd, "no tenant: give --tenant NAME, choose one with 'rampart tenant "
                                       "select NAME', or give --service (operators)");
        _cleanup_free_ char *q = NULL;
        if (limit && cli_query_add(&q, "limit", limit) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *ans = NULL;
        int x = service ? cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH("audit"))
                        : cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(CLI_TENANT(s), "audit"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "audit", audit_columns);
}

static const cli_opt list_opts[] = {
        { "limit", "N", "at most N entries, the newest (1 to 1000; default 100)" },
        { "service", NULL, "the service's own entries, not a tenant's (operators)" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "list", "[--limit N] [--service]", 0, 0, list_opts, CLI_SVC_TENANT_OPT,
          "List the audit log",
          "Lists the tenant's audit log: every management change, who made it (user and\n"
          "token), when, from which address. With --service, the service-level entries\n"
          "(tenants, service-wide CAs; operators).",
          audit_list },
};

int cmd_audit(int argc, char **argv) {
        return cli_svc_group("audit", "The audit log of management changes.", NULL, 0, commands, ELEMENTSOF(commands),
                             argc, argv);
}
