/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes what the device's client (lib/client) does with rampart-server's
 * answers, bytes a network peer chooses: an error answer's object
 * (rp_http_refusal) and the answer to POST /v1/attest (rp_attest_check_answer:
 * JSON, then PEM certificates, a public-key comparison and a signature
 * check). A refusal must carry a message and a code that is empty or
 * snake_case; an accepted answer must name the device and hold both PEMs.
 * The corpus in corpus/client-answer/ holds an answer that passes (its
 * certificate is for the Alias key below, signed by the CA it carries), and
 * near misses; unit/client-attest checks each one's outcome. They were made
 * with the openssl command: a P-256 Alias key and a CA, and
 * `openssl x509 -req` of the Alias key's request with CN=64 zeros. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "client/attest.h"
#include "client/http.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char alias_pub[] =
        "-----BEGIN PUBLIC KEY-----\n"
        "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEjOQHOjx1XGuZ4oeU/boxkH01eZ8k\n"
        "S2Xs7guHNbOdOR03Q7iXmOnjPYpI9/efSqz2HTm/C7gqsEUKIz5sukrHLg==\n"
        "-----END PUBLIC KEY-----\n";
#define DEVICE_ID "0000000000000000000000000000000000000000000000000000000000000000"

static void check_refusal(const uint8_t *data, size_t size) {
        rp_http_status st;
        rp_error err = {0};
        int r = rp_http_refusal((const char *) data, size, 403, "https://fuzz", &st, &err);
        if (r != -EPERM || err.code != -EPERM || !err.message[0] || st.status != 403)
                abort();
        for (const char *p = st.code; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
                        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        check_refusal(data, size);

        static EVP_PKEY *alias;
        if (!alias) {
                _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(alias_pub, -1);
                alias = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
                if (!alias)
                        abort();
        }
        json_t *j = json_loadb((const char *) data, size, JSON_REJECT_DUPLICATES, NULL);
        if (!j)
                return 0;
        rp_attest_result res = {0}, untouched = {0};
        rp_error err = {0};
        int r = rp_attest_check_answer(j, DEVICE_ID, alias, &res, &err);
        json_decref(j);
        if (r < 0) {
                if (err.code >= 0 || !err.message[0] || memcmp(&res, &untouched, sizeof res) != 0)
                        abort();
                return 0;
        }
        if (strcmp(res.device_id, DEVICE_ID) != 0 || !res.tenant || !res.certificate_pem || !res.ca_certificate_pem)
                abort();
        rp_attest_result_clear(&res);
        return 0;
}
