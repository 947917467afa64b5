/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device, the service's side: a tenant claims devices by id, puts
 * them in device groups, disables and enables them, and releases them so
 * another tenant can claim them. (cmd-device.c has the device's side and
 * the group.) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "service.h"

static const cli_field device_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Tenant", "tenant", CLI_FIELD_TEXT },
        { "Product", "product", CLI_FIELD_TEXT },
        { "Device group", "device_group", CLI_FIELD_TEXT },
        { "Enabled", "enabled", CLI_FIELD_BOOL },
        { "Claimed", "claimed_at", CLI_FIELD_TIME },
        { "Last attested", "last_attested_at", CLI_FIELD_TIME },
        { "Last measurement", "last_measurement", CLI_FIELD_TEXT },
        { "Last software", "last_swversion", CLI_FIELD_TEXT },
        { "Deployment", "deployment", CLI_FIELD_TEXT },
        { "Reported", "reported_at", CLI_FIELD_TIME },
        { "Reported version", "reported_doc_version", CLI_FIELD_TEXT },
        { "Up to date", "up_to_date", CLI_FIELD_BOOL },
        {}
};

static const cli_field device_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Product", "product", CLI_FIELD_TEXT },
        { "Device group", "device_group", CLI_FIELD_TEXT },
        { "Enabled", "enabled", CLI_FIELD_BOOL },
        { "Last attested", "last_attested_at", CLI_FIELD_TIME },
        { "Up to date", "up_to_date", CLI_FIELD_BOOL },
        {}
};

/* What the device reported it has installed. */
static const cli_field component_columns[] = {
        { "Component", "component_id", CLI_FIELD_TEXT },
        { "Version", "version", CLI_FIELD_TEXT },
        { "State", "state", CLI_FIELD_TEXT },
        { "Digest", "digest", CLI_FIELD_TEXT },
        { "Detail", "detail", CLI_FIELD_TEXT },
        {}
};

/* A device: its fields, then (tables) the components it reported. */
static int show_device(const cli_svc *s, json_t *d) {
        if (s->fmt == CLI_FORMAT_JSON)
                return cli_show(s, d, device_fields);
        json_t *comps = json_incref(json_object_get(d, "components"));
        int x = cli_show(s, d, device_fields);
        if (x == CLI_EXIT_OK && json_array_size(comps) > 0) {
                printf("\nReported components:\n");
                return cli_list(s, json_pack("{s:o}", "components", comps), "components", component_columns);
        }
        json_decref(comps);
        return x;
}

/* --device-group: "Product/Group" (names) or a group id. */
static int check_group(const cli_svc *s, const char *g) {
        const char *slash = g ? strchr(g, '/') : NULL;
        if (g && !(slash && slash != g && slash[1]) && strlen(g) != 32)
                return cli_usage_error(s->cmd, "--device-group: expected PRODUCT/GROUP (names) or a group id, got "
                                       "'%s'", g);
        return CLI_EXIT_OK;
}

static int device_claim(cli_svc *s) {
        const char *g = cli_svc_opt(s, "device-group");
        int x = cli_check_device_id(s, s->args[0]);
        if (x == CLI_EXIT_OK)
                x = check_group(s, g);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *b = json_pack("{s:s, s:s*}", "device_id", s->args[0], "device_group", g), *d = NULL;
        if (!b)
                return cli_fail(-ENOMEM, NULL, "the group must be UTF-8");
        x = cli_svc_call(s, "POST", b, NULL, &d, CLI_PATH(CLI_TENANT(s), "devices"));
        json_decref(b);
        if (x != CLI_EXIT_OK)
                return x;
        if (s->fmt != CLI_FORMAT_JSON && s->status.status == 200)
                fprintf(stderr, "The tenant had claimed this device already.\n");
        return cli_show(s, d, device_fields);
}

static int device_list(cli_svc *s) {
        const char *g = cli_svc_opt(s, "device-group");
        int x = check_group(s, g);
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_free_ char *q = NULL;
        if (g && cli_query_add(&q, "device_group", g) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *ans = NULL;
        x = cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(CLI_TENANT(s), "devices"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "devices", device_columns);
}

static int device_show(cli_svc *s) {
        int x = cli_check_device_id(s, s->args[0]);
        json_t *d = NULL;
        if (x == CLI_EXIT_OK)
                x = cli_svc_call(s, "GET", NULL, NULL, &d, CLI_PATH(CLI_TENANT(s), "devices", s->args[0]));
        return x != CLI_EXIT_OK ? x : show_device(s, d);
}

/* PATCH the device with body (reference dropped). */
static int patch(cli_svc *s, json_t *b) {
        if (!b)
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *d = NULL;
        int x = cli_svc_call(s, "PATCH", b, NULL, &d, CLI_PATH(CLI_TENANT(s), "devices", s->args[0]));
        json_decref(b);
        return x != CLI_EXIT_OK ? x : cli_show(s, d, device_fields);
}

/* --product P --device-group G, or --device-group P/G (or a group id). */
static int device_update(cli_svc *s) {
        const char *g = cli_svc_opt(s, "device-group"), *p = cli_svc_opt(s, "product");
        int x = cli_check_device_id(s, s->args[0]);
        if (x != CLI_EXIT_OK)
                return x;
        if (!g)
                return cli_usage_error(s->cmd, "missing --device-group G (with --product P), or --device-group "
                                       "PRODUCT/GROUP");
        _cleanup_free_ char *ref = NULL;
        if (p) {
                if (strchr(p, '/') || strchr(g, '/'))
                        return cli_usage_error(s->cmd, "with --product P, --device-group is the group's name "
                                               "(neither may contain '/')");
                if (asprintf(&ref, "%s/%s", p, g) < 0)
                        return cli_fail(-ENOMEM, NULL, NULL);
                g = ref;
        }
        x = check_group(s, g);
        return x != CLI_EXIT_OK ? x : patch(s, json_pack("{s:s}", "device_group", g));
}

static int set_enabled(cli_svc *s, bool enabled) {
        int x = cli_check_device_id(s, s->args[0]);
        return x != CLI_EXIT_OK ? x : patch(s, json_pack("{s:b}", "enabled", enabled));
}

static int device_disable(cli_svc *s) {
        return set_enabled(s, false);
}

static int device_enable(cli_svc *s) {
        return set_enabled(s, true);
}

static int device_release(cli_svc *s) {
        int x = cli_check_device_id(s, s->args[0]);
        if (x == CLI_EXIT_OK)
                x = cli_svc_call(s, "DELETE", NULL, NULL, NULL, CLI_PATH(CLI_TENANT(s), "devices", s->args[0]));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "Released device %s: another tenant may claim it now.", s->args[0]) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        return cli_done(s, json_pack("{s:s, s:b}", "device_id", s->args[0], "released", 1), line);
}

static const cli_opt claim_opts[] = {
        { "device-group", "P/G", "put it in group G of product P (names), or a group id" },
        {}
};

static const cli_opt list_opts[] = {
        { "device-group", "P/G", "only the devices in group G of product P" },
        {}
};

static const cli_opt update_opts[] = {
        { "product", "P", "the product of the group to move it to" },
        { "device-group", "G", "the group (with --product), or P/G, or a group id (required)" },
        {}
};

const cli_svc_cmd cli_device_service_cmds[] = {
        { "claim", "ID [--device-group P/G]", 1, 1, claim_opts, CLI_SVC_TENANT,
          "Claim a device into the tenant",
          "Claims a device by its id (64 hex digits: 'rampart device show-identity' on the\n"
          "device prints it). A device is in one tenant at a time: if another tenant has\n"
          "it, the claim is refused until that tenant releases it.",
          device_claim },
        { "list", "[--device-group P/G]", 0, 0, list_opts, CLI_SVC_TENANT,
          "List the tenant's devices",
          "Lists the tenant's devices, or those of one device group, with whether each\n"
          "is up to date with its group's deployment (the fleet view; '-' for a device\n"
          "that never reported).",
          device_list },
        { "show", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Show a device",
          "Shows a device: its group, whether it is enabled, when it last attested and\n"
          "with what software, its group's current deployment, and what it last reported\n"
          "having installed: the components, and whether it is up to date (it reported\n"
          "the version of the deployment document it would get now, and no failure).",
          device_show },
        { "update", "ID --product P --device-group G", 1, 1, update_opts, CLI_SVC_TENANT,
          "Move a device to a device group",
          "Moves a device to another device group (--product P --device-group G, or\n"
          "--device-group P/G): from then on it is told that group's deployment.",
          device_update },
        { "disable", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Disable a device: it gets no certificate",
          "Disables a device: its attestations are refused (device_disabled) and its\n"
          "certificate no longer opens the device API.",
          device_disable },
        { "enable", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Enable a device again",
          "Enables a disabled device.",
          device_enable },
        { "release", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Release a device so another tenant can claim it (Administrators)",
          "Releases a device from the tenant: it leaves its group, and another tenant may\n"
          "claim it.",
          device_release },
        CLI_ERROR_REPORT_CMD,
};

const size_t cli_device_service_n = ELEMENTSOF(cli_device_service_cmds);
