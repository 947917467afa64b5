/* SPDX-License-Identifier: Apache-2.0 */
/* rampart deployment-key: the public half of the key that signs the
 * tenant's deployment documents, which devices check them with. */
#include <errno.h>
#include <string.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "service.h"

#define KEY_PEM_MAX (16 * 1024)

static int key_download(cli_svc *s) {
        if (s->output) {
                const cli_output out = { s->output, "the deployment key", "-o", CLI_OUTPUT_PUBLIC_KEY, s->force };
                int x = cli_check_output(&out, NULL, 0);
                if (x != CLI_EXIT_OK)
                        return x;
        }
        _cleanup_free_ char *t = rp_http_escape(s->tenant), *path = NULL, *pem = NULL;
        if (!t || asprintf(&path, "/v1/tenants/%s/deployment-key", t) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        rp_error err = {};
        size_t len = 0;
        int r = rp_http_get_raw(s->http, path, &pem, &len, &s->status, &err);
        if (r < 0)
                return cli_svc_fail(s, r, &err);
        /* Only an ES256 public key is passed on, never whatever else came. */
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        if (len > KEY_PEM_MAX || strlen(pem) != len || strncmp(pem, "-----BEGIN PUBLIC KEY-----", 26) != 0 ||
            rp_key_from_pem(pem, len, false, &key, NULL) < 0 || rp_key_get_type(key) != RP_KEY_ES256) {
                rp_error_set(&err, -EBADMSG, "GET %s: the answer is not an ES256 public key (PEM)", path);
                return cli_fail(-EBADMSG, &err, NULL);
        }
        if (!s->output) {
                fwrite(pem, 1, len, stdout);
                return CLI_EXIT_OK;
        }
        r = rp_write_file_atomic(s->output, pem, len, 0644, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        char id[2 * RP_KEY_ID_LEN + 1];
        cli_key_id_hex(key, id);
        printf("Wrote the deployment key of tenant ");
        cli_print_safe(s->tenant);
        printf(" (key id %s) to ", id);
        cli_print_safe(s->output);
        printf("\n");
        return CLI_EXIT_OK;
}

static const cli_svc_cmd commands[] = {
        { "download", "[-o F]", 0, 0, NULL, CLI_SVC_TENANT | CLI_SVC_FILE_OUT,
          "Download the tenant's deployment key (public, PEM)",
          "Downloads the public key that signs the tenant's deployment documents (ES256,\n"
          "made by the service on first use): what the tenant's devices check every\n"
          "document with. Devices are also given it when they attest. Written to stdout,\n"
          "or to F with -o.",
          key_download },
};

int cmd_deployment_key(int argc, char **argv) {
        return cli_svc_group("deployment-key", "The key that signs the tenant's deployment documents.", NULL, 0,
                             commands, ELEMENTSOF(commands), argc, argv);
}
