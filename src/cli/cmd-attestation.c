/* SPDX-License-Identifier: Apache-2.0 */
/* rampart attestation: the record of the tenant's devices' attestations,
 * refusals with their reasons. */
#include <errno.h>

#include "core/macro.h"
#include "service.h"

static const cli_field attestation_columns[] = {
        { "At", "at", CLI_FIELD_TIME_US },
        { "Device", "device_id", CLI_FIELD_TEXT },
        { "Outcome", "outcome", CLI_FIELD_TEXT },
        { "Reason", "reason", CLI_FIELD_TEXT },
        { "Remote", "remote", CLI_FIELD_TEXT },
        { "Detail", "detail", CLI_FIELD_TEXT },
        {}
};

static int attestation_list(cli_svc *s) {
        const char *limit = cli_svc_opt(s, "limit"), *device = cli_svc_opt(s, "device");
        long n;
        if (limit && cli_check_number(s, "limit", limit, 1, 1000, &n) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
        if (device && cli_check_device_id(s, device) != CLI_EXIT_OK)
                return CLI_EXIT_USAGE;
        _cleanup_free_ char *q = NULL;
        if ((device && cli_query_add(&q, "device", device) < 0) || (limit && cli_query_add(&q, "limit", limit) < 0))
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(CLI_TENANT(s), "attestations"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "attestations", attestation_columns);
}

static const cli_opt list_opts[] = {
        { "device", "ID", "only this device's (64 hex digits)" },
        { "limit", "N", "at most N entries, the newest (1 to 1000; default 100)" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "list", "[--device ID] [--limit N]", 0, 0, list_opts, CLI_SVC_TENANT,
          "List attestations, refusals with their reasons",
          "Lists the attestations of the tenant's devices, newest first: accepted, or\n"
          "refused with the reason (nonce_used, device_disabled, software_revoked, ...).",
          attestation_list },
};

int cmd_attestation(int argc, char **argv) {
        return cli_svc_group("attestation", "The record of the tenant's devices' attestations.", NULL, 0, commands,
                             ELEMENTSOF(commands), argc, argv);
}
