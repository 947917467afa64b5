/* SPDX-License-Identifier: Apache-2.0 */
/* rampart signing-key: the public keys whose signatures the tenant's image
 * packages must carry ('rampart image add' is refused for any other). */
#include <errno.h>
#include <string.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "service.h"

#define PEM_FILE_MAX (64 * 1024)

static const cli_field key_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Algorithm", "algorithm", CLI_FIELD_TEXT },
        { "Key id", "key_id", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

static const cli_field key_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Algorithm", "algorithm", CLI_FIELD_TEXT },
        { "Key id", "key_id", CLI_FIELD_TEXT },
        {}
};

static int key_add(cli_svc *s) {
        const char *path = cli_svc_opt(s, "key-pub"), *name = cli_svc_opt(s, "name");
        if (!path)
                return cli_usage_error(s->cmd, "missing --key-pub F (the public key, as 'rampart keys generate' "
                                       "writes it: KEY.pub)");
        rp_error err = {};
        _cleanup_free_ uint8_t *pem = NULL;
        size_t len;
        int r = rp_read_file(path, PEM_FILE_MAX, &pem, &len, &err);
        if (r < 0)
                return cli_fail(r, &err, "give --key-pub the public key file (KEY.pub)");
        /* A private key never leaves this machine. */
        if (memmem(pem, len, "PRIVATE KEY", 11)) {
                rp_error_set(&err, -EINVAL, "%s holds a private key; only the public key is registered", path);
                return cli_fail(-EINVAL, &err, "give --key-pub the public half (rampart keys generate writes it "
                                "beside the private key as KEY.pub; 'rampart keys show KEY' prints its key id)");
        }
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        r = rp_key_from_pem(pem, len, false, &key, &err);
        if (r < 0)
                return cli_fail(r, &err, "give --key-pub an ES256 (P-256) or Ed25519 public key in PEM "
                                "(-----BEGIN PUBLIC KEY-----)");
        json_t *b = json_pack("{s:s%}", "public_pem", (const char *) pem, len), *ans = NULL;
        if (b && name && json_object_set_new(b, "name", json_string(name)) < 0) {
                json_decref(b);
                b = NULL;
        }
        if (!b)
                return cli_fail(-ENOMEM, NULL, "the name must be UTF-8");
        _cleanup_free_ char *url = cli_svc_path(NULL, CLI_PATH(CLI_TENANT(s), "signing-keys"));
        r = url ? rp_http_json(s->http, "POST", url, b, &ans, &s->status, &err) : -ENOMEM;
        json_decref(b);
        if (r < 0 && streq(s->status.code, "signing_key_exists"))
                return cli_fail(r, &err, "the tenant trusts this key already: 'rampart signing-key list' shows it");
        if (r < 0)
                return cli_svc_fail(s, r, &err);
        return cli_show(s, ans, key_fields);
}

static int key_list(cli_svc *s) {
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, NULL, &ans, CLI_PATH(CLI_TENANT(s), "signing-keys"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "signing_keys", key_columns);
}

static int key_remove(cli_svc *s) {
        char *id = s->args[0];
        int x = cli_check_id_or_hash(s, "a signing key's", "its key id", id);
        if (x != CLI_EXIT_OK)
                return x;
        x = cli_svc_call(s, "DELETE", NULL, NULL, NULL, CLI_PATH(CLI_TENANT(s), "signing-keys", id));
        if (x != CLI_EXIT_OK)
                return x;
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "Removed signing key %s: packages it signs are no longer accepted", id) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        return cli_done(s, json_pack("{s:s, s:b}", "signing_key", id, "removed", 1), line);
}

static const cli_opt add_opts[] = {
        { "key-pub", "F", "the public key, PEM (required; never the private key)" },
        { "name", "N", "a name to know it by (default: the start of its key id)" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "add", "--key-pub F [--name N]", 0, 0, add_opts, CLI_SVC_TENANT,
          "Trust a key to sign the tenant's image packages",
          "Registers an image-signing public key (ES256 or Ed25519, as 'rampart keys\n"
          "generate' makes): 'rampart image add' accepts packages it signed. Only the\n"
          "public key is sent; a private key file is refused. Administrators.",
          key_add },
        { "list", "", 0, 0, NULL, CLI_SVC_TENANT,
          "List the tenant's image-signing keys",
          "Lists the public keys the tenant's image packages may be signed with.",
          key_list },
        { "remove", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Stop trusting an image-signing key",
          "Removes a signing key (by id, or by key id): packages it signed are refused\n"
          "from now on. Images added before stay. Administrators.",
          key_remove },
};

int cmd_signing_key(int argc, char **argv) {
        return cli_svc_group("signing-key", "Manage the keys the tenant's image packages are signed with.", NULL, 0,
                             commands, ELEMENTSOF(commands), argc, argv);
}
