/* SPDX-License-Identifier: Apache-2.0 */
/* rampart manufacturer: the manufacturer CAs whose devices may attest, in a
 * tenant or (operators) service-wide. */
#include <errno.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "service.h"

#define CA_PEM_MAX (1024 * 1024)

static const cli_field manufacturer_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Scope", "scope", CLI_FIELD_TEXT },
        { "Subject", "subject", CLI_FIELD_TEXT },
        { "Fingerprint", "fingerprint", CLI_FIELD_TEXT },
        { "Not after", "not_after", CLI_FIELD_TIME },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

static const cli_field manufacturer_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Scope", "scope", CLI_FIELD_TEXT },
        { "Not after", "not_after", CLI_FIELD_TIME },
        { "Subject", "subject", CLI_FIELD_TEXT },
        {}
};

/* --service, or a tenant (usage error without one). */
static int scope(cli_svc *s, bool *ret_service) {
        *ret_service = cli_svc_opt(s, "service") != NULL;
        if (!*ret_service && !s->tenant)
                return cli_usage_error(s->cmd, "no tenant: give --tenant NAME, choose one with 'rampart tenant "
                                       "select NAME', or give --service (operators)");
        return CLI_EXIT_OK;
}

static int manufacturer_add(cli_svc *s) {
        const char *ca = cli_svc_opt(s, "ca"), *name = cli_svc_opt(s, "name");
        bool service;
        if (!ca)
                return cli_usage_error(s->cmd, "missing --ca F (the manufacturer's CA certificate, PEM: the "
                                       "factory's ca.pem)");
        int x = scope(s, &service);
        if (x != CLI_EXIT_OK)
                return x;
        rp_error err = {};
        _cleanup_free_ uint8_t *pem = NULL;
        size_t len = 0;
        int r = rp_read_file(ca, CA_PEM_MAX, &pem, &len, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        if (!rp_utf8_is_valid((const char *) pem, len)) {
                rp_error_set(&err, -EINVAL, "%s: not a PEM file (not text)", ca);
                return cli_fail(-EINVAL, &err, "give --ca the factory's ca.pem");
        }
        json_t *body = json_pack("{s:s, s:s*}", "ca_pem", (const char *) pem, "name", name), *ans = NULL;
        if (!body)
                return cli_fail(-ENOMEM, NULL, "the name must be UTF-8");
        x = service ? cli_svc_call(s, "POST", body, NULL, &ans, CLI_PATH("manufacturers"))
                    : cli_svc_call(s, "POST", body, NULL, &ans, CLI_PATH(CLI_TENANT(s), "manufacturers"));
        json_decref(body);
        if (x != CLI_EXIT_OK)
                return x;
        /* One certificate makes one; a file of several may answer with all. */
        if (json_is_array(json_object_get(ans, "manufacturers")))
                return cli_list(s, ans, "manufacturers", manufacturer_columns);
        return cli_show(s, ans, manufacturer_fields);
}

static int manufacturer_list(cli_svc *s) {
        bool service;
        int x = scope(s, &service);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *ans = NULL;
        x = service ? cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH("manufacturers"))
                    : cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "manufacturers"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "manufacturers", manufacturer_columns);
}

static int manufacturer_remove(cli_svc *s) {
        bool service;
        int x = cli_check_object_id(s, "a manufacturer", s->args[0]);
        if (x == CLI_EXIT_OK)
                x = scope(s, &service);
        if (x != CLI_EXIT_OK)
                return x;
        x = service ? cli_svc_call(s, "DELETE", NULL, NULL, NULL, CLI_PATH("manufacturers", s->args[0]))
                    : cli_svc_call(s, "DELETE", NULL, NULL, NULL, CLI_PATH(CLI_TENANT(s), "manufacturers", s->args[0]));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "Removed manufacturer CA %s: its devices can no longer attest%s.", s->args[0],
                     service ? "" : " in this tenant") < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        return cli_done(s, json_pack("{s:s, s:b}", "manufacturer", s->args[0], "removed", 1), line);
}

static const cli_opt add_opts[] = {
        { "ca", "F", "the manufacturer's CA certificate(s), PEM (the factory's ca.pem)" },
        { "name", "N", "a name to know it by (default: from the certificate)" },
        { "service", NULL, "trust it service-wide, in every tenant (operators)" },
        {}
};

static const cli_opt scope_opts[] = {
        { "service", NULL, "the service-wide CAs, not the tenant's" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "add", "--ca F [--name N] [--service]", 0, 0, add_opts, CLI_SVC_TENANT_OPT,
          "Trust a manufacturer CA (Administrators; --service: operators)",
          "Trusts a manufacturer CA: devices whose DeviceID certificate chains to it may\n"
          "attest. In the tenant (Administrators), or service-wide with --service\n"
          "(operators). Each certificate must be a CA (basicConstraints CA:TRUE).",
          manufacturer_add },
        { "list", "[--service]", 0, 0, scope_opts, CLI_SVC_TENANT_OPT,
          "List the manufacturer CAs a tenant trusts",
          "Lists the CAs the tenant trusts: its own and the service-wide ones (scope\n"
          "'service'); with --service, the service-wide ones alone.",
          manufacturer_list },
        { "remove", "ID [--service]", 1, 1, scope_opts, CLI_SVC_TENANT_OPT,
          "Stop trusting a manufacturer CA",
          "Stops trusting a manufacturer CA, by id: the tenant's, or with --service a\n"
          "service-wide one (operators).",
          manufacturer_remove },
};

int cmd_manufacturer(int argc, char **argv) {
        return cli_svc_group("manufacturer", "Manage the manufacturer CAs whose devices may attest.", NULL, 0,
                             commands, ELEMENTSOF(commands), argc, argv);
}
