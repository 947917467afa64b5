/* SPDX-License-Identifier: Apache-2.0 */
/* rampart device, the service's side: a tenant claims devices by id, puts
 * them in device groups, disables and enables them, and releases them so
 * another tenant can claim them. (cmd-device.c has the device's side and
 * the group.) */
#include <errno.h>
#include <stdio.h>

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
        {}
};

static const cli_field device_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Product", "product", CLI_FIELD_TEXT },
        { "Device group", "device_group", CLI_FIELD_TEXT },
        { "Enabled", "enabled", CLI_FIELD_BOOL },
        { "Last attested", "last_attested_at", CLI_FIELD_TIME },
        {}
};

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
        return x != CLI_EXIT_OK ? x : cli_show(s, d, device_fields);
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

static int device_update(cli_svc *s) {
        const char *g = cli_svc_opt(s, "device-group");
        int x = cli_check_device_id(s, s->args[0]);
        if (x == CLI_EXIT_OK && !g)
                x = cli_usage_error(s->cmd, "missing --device-group PRODUCT/GROUP");
        if (x == CLI_EXIT_OK)
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
        { "device-group", "P/G", "move it to group G of product P (required)" },
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
          "Lists the tenant's devices, or those of one device group.",
          device_list },
        { "show", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Show a device",
          "Shows a device: its group, whether it is enabled, when it last attested and\n"
          "with what software.",
          device_show },
        { "update", "ID --device-group P/G", 1, 1, update_opts, CLI_SVC_TENANT,
          "Move a device to a device group",
          "Moves a device to another device group.",
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
