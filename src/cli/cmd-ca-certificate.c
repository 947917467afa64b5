/* SPDX-License-Identifier: Apache-2.0 */
/* rampart ca-certificate: the tenant CA certificate, for IoT brokers and
 * other services that check devices' certificates. */
#include <errno.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "service.h"

#define CA_PEM_MAX (64 * 1024)

static int ca_download(cli_svc *s) {
        if (s->output) {
                const cli_output out = { s->output, "the CA certificate", "-o", CLI_OUTPUT_CERTIFICATE, s->force };
                int x = cli_check_output(&out, NULL, 0);
                if (x != CLI_EXIT_OK)
                        return x;
        }
        _cleanup_free_ char *t = rp_http_escape(s->tenant), *path = NULL, *pem = NULL;
        if (!t || asprintf(&path, "/v1/tenants/%s/ca-certificate", t) < 0)
                return cli_fail(-ENOMEM, NULL, NULL);
        rp_error err = {};
        size_t len = 0;
        int r = rp_http_get_raw(s->http, path, &pem, &len, &s->status, &err);
        if (r < 0)
                return cli_svc_fail(s, r, &err);
        /* Only a certificate is passed on, never whatever else came. */
        _cleanup_(bio_freep) BIO *bio = len <= CA_PEM_MAX ? BIO_new_mem_buf(pem, (int) len) : NULL;
        _cleanup_(x509_freep) X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        if (!cert || strncmp(pem, "-----BEGIN CERTIFICATE-----", 27) != 0 || strlen(pem) != len) {
                rp_error_set(&err, -EBADMSG, "GET %s: the answer is not a PEM certificate", path);
                return cli_fail(-EBADMSG, &err, NULL);
        }
        if (!s->output) {
                fwrite(pem, 1, len, stdout);
                return CLI_EXIT_OK;
        }
        r = rp_write_file_atomic(s->output, pem, len, 0644, &err);
        if (r < 0)
                return cli_fail(r, &err, NULL);
        printf("Wrote the CA certificate of tenant ");
        cli_print_safe(s->tenant);
        printf(" to ");
        cli_print_safe(s->output);
        printf("\n");
        return CLI_EXIT_OK;
}

static const cli_svc_cmd commands[] = {
        { "download", "[-o F]", 0, 0, NULL, CLI_SVC_TENANT | CLI_SVC_FILE_OUT,
          "Download the tenant CA certificate (PEM)",
          "Downloads the tenant's CA certificate, which signs its devices' certificates:\n"
          "what an IoT broker or any other service trusts to authenticate the tenant's\n"
          "devices. Written to stdout, or to F with -o.",
          ca_download },
};

int cmd_ca_certificate(int argc, char **argv) {
        return cli_svc_group("ca-certificate", "The tenant CA certificate.", NULL, 0, commands, ELEMENTSOF(commands),
                             argc, argv);
}
