/* SPDX-License-Identifier: Apache-2.0 */
/* rampart token: API tokens: create (the secret is shown once), list,
 * revoke. */
#include <errno.h>
#include <string.h>

#include <openssl/crypto.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "service.h"

static const cli_field token_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "User", "user", CLI_FIELD_TEXT },
        { "Label", "label", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        { "Expires", "expires_at", CLI_FIELD_TIME },
        { "Revoked", "revoked_at", CLI_FIELD_TIME },
        { "Last used", "last_used_at", CLI_FIELD_TIME },
        {}
};

/* The secret in the server's answer is wiped before the answer is freed. */
static void wipe_secret(json_t *t) {
        const char *secret = json_string_value(json_object_get(t, "token"));
        if (secret)
                OPENSSL_cleanse((char *) secret, strlen(secret));
}

static void free_answer(json_t *t) {
        wipe_secret(t);
        json_decref(t);
}

static int token_create(cli_svc *s) {
        const char *user = cli_svc_opt(s, "user"), *label = cli_svc_opt(s, "label");
        const char *days = cli_svc_opt(s, "expires-days"), *save = cli_svc_opt(s, "save-to");
        long n = 0;
        if (days) {
                int x = cli_check_number(s, "expires-days", days, 1, 36500, &n);
                if (x != CLI_EXIT_OK)
                        return x;
        }
        if (user && !s->tenant)
                return cli_usage_error(s->cmd, "no tenant for --user: give --tenant NAME, or choose one with "
                                       "'rampart tenant select NAME'");
        if (save) {
                const cli_output out = { save, "the token", "--save-to", CLI_OUTPUT_NEW, false };
                int x = cli_check_output(&out, NULL, 0);
                if (x != CLI_EXIT_OK)
                        return x;
        }
        json_t *body = json_object(), *t = NULL;
        if (!body || (label && json_object_set_new(body, "label", json_string(label)) < 0) ||
            (days && json_object_set_new(body, "expires_in_days", json_integer(n)) < 0)) {
                json_decref(body);
                return cli_fail(-ENOMEM, NULL, "the label must be UTF-8");
        }
        int x = user ? cli_svc_call(s, "POST", body, NULL, &t, CLI_PATH(CLI_TENANT(s), "users", user, "tokens"))
                     : cli_svc_call(s, "POST", body, NULL, &t, CLI_PATH("tokens"));
        json_decref(body);
        if (x != CLI_EXIT_OK)
                return x;
        const char *secret = json_string_value(json_object_get(t, "token"));
        if (!secret) {
                free_answer(t);
                rp_error err = {};
                rp_error_set(&err, -EBADMSG, "the server's answer holds no \"token\"");
                return cli_fail(-EBADMSG, &err, NULL);
        }
        if (save) {
                /* The secret goes to the file alone, as the server writes
                 * admin.token: one line, mode 0600. */
                _cleanup_free_ char *line = NULL;
                rp_error err = {};
                int r = asprintf(&line, "%s\n", secret) < 0 ? -ENOMEM :
                        rp_write_file_atomic(save, line, strlen(line), 0600, &err);
                if (line)
                        OPENSSL_cleanse(line, strlen(line));
                if (r < 0) {
                        free_answer(t);
                        return cli_fail(r, &err, NULL);
                }
                if (s->fmt == CLI_FORMAT_JSON) {
                        wipe_secret(t);
                        json_object_del(t, "token");
                }
        }
        if (s->fmt == CLI_FORMAT_JSON) {
                json_incref(t);
                int x2 = cli_print_json(t);
                free_answer(t);
                return x2;
        }
        const char *id = json_string_value(json_object_get(t, "id"));
        if (save) {
                printf("Created token %s; saved it to ", id ? id : "?");
                cli_print_safe(save);
                printf(" (mode 0600).\n");
        } else {
                cli_print_row(8, "Token:", secret);
                cli_print_row(8, "Id:", id);
                fprintf(stderr, "Keep the token now: the server keeps only its hash and never shows it again.\n");
        }
        free_answer(t);
        return CLI_EXIT_OK;
}

static int token_list(cli_svc *s) {
        json_t *ans = NULL;
        bool mine = cli_svc_opt(s, "mine") || !s->tenant;
        int x = mine ? cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH("tokens"))
                     : cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "tokens"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "tokens", token_fields);
}

static int token_revoke(cli_svc *s) {
        int x = cli_check_object_id(s, "a token", s->args[0]);
        if (x == CLI_EXIT_OK)
                x = cli_svc_call(s, "DELETE", NULL, NULL, NULL, CLI_PATH("tokens", s->args[0]));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "Revoked token %s.", s->args[0]) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        return cli_done(s, json_pack("{s:s, s:b}", "token", s->args[0], "revoked", 1), line);
}

static const cli_opt create_opts[] = {
        { "user", "NAME", "a token for this user of the tenant, not you (Administrators)" },
        { "label", "L", "a label to know it by" },
        { "expires-days", "N", "valid for N days (1 to 36500); by default until revoked" },
        { "save-to", "F", "write the secret to F (mode 0600) instead of printing it" },
        {}
};

static const cli_opt list_opts[] = {
        { "mine", NULL, "your own tokens, even when a tenant is in use" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "create", "[--user NAME] [--label L] [--expires-days N]", 0, 0, create_opts, CLI_SVC_TENANT_OPT,
          "Create an API token (the secret is shown once)",
          "Creates an API token: your own, or with --user one for a user of the tenant.\n"
          "The secret (rpt_ and 64 hex digits) is shown once: the server keeps only its\n"
          "SHA-256. Save it in a file only you can read and give it with --token-file.",
          token_create },
        { "list", "[--mine]", 0, 0, list_opts, CLI_SVC_TENANT_OPT,
          "List tokens (the tenant's, or your own)",
          "Lists the tokens of the tenant's users (Administrators) when a tenant is in use\n"
          "(--tenant or the selected one), else your own. Secrets are never shown.",
          token_list },
        { "revoke", "ID", 1, 1, NULL, 0,
          "Revoke a token",
          "Revokes a token by its id: yours; an Administrator any of the tenant's; an\n"
          "operator any.",
          token_revoke },
};

int cmd_token(int argc, char **argv) {
        return cli_svc_group("token", "Create, list and revoke API tokens.", NULL, 0, commands, ELEMENTSOF(commands),
                             argc, argv);
}
