/* SPDX-License-Identifier: Apache-2.0 */
/* The device's side of attestation (attest.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "client/attest.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rampart/evidence.h"
#include "secmon/provider.h"

/* A PEM certificate in the server's answer: no larger than this. */
#define CERT_PEM_MAX (64 * 1024)

void rp_attest_result_clear(rp_attest_result *r) {
        if (!r)
                return;
        free(r->tenant);
        free(r->certificate_pem);
        free(r->ca_certificate_pem);
        free(r->deployment_key_pem);
        *r = (rp_attest_result) {};
}

/* The first certificate of pem (what = its name, for messages). */
static int parse_cert(const char *pem, const char *what, X509 **ret, rp_error *err) {
        size_t n = strnlen(pem, CERT_PEM_MAX + 1);
        if (n > CERT_PEM_MAX)
                return rp_error_set(err, -EFBIG, "the server's %s: larger than %d bytes", what, CERT_PEM_MAX);
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(pem, (int) n);
        if (!bio)
                return rp_error_set(err, -ENOMEM, "out of memory");
        X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!cert)
                return rp_error_set(err, -EBADMSG, "the server's %s: not a PEM certificate", what);
        *ret = cert;
        return 0;
}

/* A string member of the answer, copied; -EBADMSG if absent. */
static int answer_string(const json_t *j, const char *key, const char *path, char **ret, rp_error *err) {
        const char *s = json_string_value(json_object_get(j, key));
        if (!s)
                return rp_error_set(err, -EBADMSG, "the answer to POST %s lacks the string \"%s\"", path, key);
        char *copy = strdup(s);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = copy;
        return 0;
}

/* The Alias public key secmon holds: from the first certificate of its
 * chain. */
static int alias_key(rp_secmon *sm, EVP_PKEY **ret, rp_error *err) {
        _cleanup_free_ char *pem = NULL;
        int r = rp_secmon_chain_pem(sm, &pem, err);
        if (r < 0)
                return r;
        _cleanup_(x509_freep) X509 *alias = NULL;
        r = parse_cert(pem, "Alias certificate (from rampart-secmon)", &alias, err);
        if (r < 0)
                return r;
        EVP_PKEY *k = X509_get_pubkey(alias);
        if (!k)
                return rp_error_set(err, -EBADMSG, "rampart-secmon's Alias certificate: no usable public key");
        *ret = k;
        return 0;
}

static int check_answer(const json_t *j, const char *device_id, EVP_PKEY *alias, rp_attest_result *res,
                        rp_error *err) {
        if (!json_is_object(j))
                return rp_error_set(err, -EBADMSG, "the answer to POST /v1/attest is not a JSON object");
        const char *id = json_string_value(json_object_get(j, "device_id"));
        if (!id || strlen(device_id) != 64 || !streq(id, device_id))
                return rp_error_set(err, -EBADMSG, "the answer to POST /v1/attest does not name this device (%s)",
                                    device_id);
        json_t *exp = json_object_get(j, "expires_at");
        if (!json_is_integer(exp))
                return rp_error_set(err, -EBADMSG, "the answer to POST /v1/attest lacks the integer "
                                    "\"expires_at\"");
        int r;
        if ((r = answer_string(j, "tenant", "/v1/attest", &res->tenant, err)) < 0 ||
            (r = answer_string(j, "certificate", "/v1/attest", &res->certificate_pem, err)) < 0 ||
            (r = answer_string(j, "ca_certificate", "/v1/attest", &res->ca_certificate_pem, err)) < 0)
                return r;
        _cleanup_(x509_freep) X509 *cert = NULL, *ca = NULL;
        if ((r = parse_cert(res->certificate_pem, "device certificate", &cert, err)) < 0 ||
            (r = parse_cert(res->ca_certificate_pem, "tenant CA certificate", &ca, err)) < 0)
                return r;
        if (EVP_PKEY_eq(X509_get0_pubkey(cert), alias) != 1)
                return rp_error_set(err, -EKEYREJECTED, "the server's device certificate is not for this device's "
                                    "Alias key");
        EVP_PKEY *ca_key = X509_get0_pubkey(ca);
        if (!ca_key || X509_verify(cert, ca_key) != 1)
                return rp_error_set(err, -EKEYREJECTED, "the server's device certificate is not signed by the "
                                    "tenant CA certificate that came with it");
        /* The deployment key (docs/api.md): optional, since servers before
         * issue 8 send none; when present, a public key rampart can use. */
        json_t *dk = json_object_get(j, "deployment_key");
        if (dk) {
                const char *pem = json_string_value(dk);
                size_t n = pem ? strnlen(pem, CERT_PEM_MAX + 1) : 0;
                _cleanup_(rp_key_freep) rp_key *key = NULL;
                r = pem && n <= CERT_PEM_MAX ? rp_key_from_pem(pem, n, false, &key, NULL) : -EBADMSG;
                if (r == -ENOMEM)
                        return rp_error_set(err, r, "out of memory");
                if (r < 0)
                        return rp_error_set(err, -EBADMSG, "the answer to POST /v1/attest: \"deployment_key\" is "
                                            "not a PEM public key (ES256 or Ed25519)");
                if (!(res->deployment_key_pem = strndup(pem, n)))
                        return rp_error_set(err, -ENOMEM, "out of memory");
        }
        memcpy(res->device_id, device_id, sizeof res->device_id);
        res->expires_at = json_integer_value(exp);
        return 0;
}

int rp_attest_check_answer(const json_t *ans, const char *device_id, EVP_PKEY *alias, rp_attest_result *ret,
                           rp_error *err) {
        rp_attest_result res = {};
        int r = check_answer(ans, device_id, alias, &res, err);
        if (r < 0) {
                rp_attest_result_clear(&res);
                return r;
        }
        *ret = res;
        return 0;
}

int rp_attest(rp_http *h, rp_secmon *sm, rp_attest_result *ret, rp_http_status *ret_status, rp_error *err) {
        rp_http_status st = {};
        if (ret_status)
                *ret_status = st;
        rp_secmon_info info;
        int r = rp_secmon_info_get(sm, &info, err);
        if (r < 0)
                return r;
        _cleanup_(evp_pkey_freep) EVP_PKEY *alias = NULL;
        r = alias_key(sm, &alias, err);
        if (r < 0)
                return r;

        /* A nonce for this device. */
        _cleanup_(json_decrefp) json_t *req = json_pack("{s:s}", "device_id", info.device_id), *ans = NULL;
        if (!req)
                return rp_error_set(err, -ENOMEM, "out of memory");
        r = rp_http_json(h, "POST", "/v1/attest/nonce", req, &ans, &st, err);
        if (ret_status)
                *ret_status = st;
        if (r < 0)
                return rp_error_prefix(err, r, "attestation nonce: ");
        const char *hex = json_string_value(json_object_get(ans, "nonce"));
        size_t hex_len = hex ? strlen(hex) : 0;
        uint8_t nonce[RP_EVIDENCE_NONCE_MAX];
        char nonce_hex[2 * RP_EVIDENCE_NONCE_MAX + 1];
        if (!hex || hex_len % 2 || hex_len / 2 < RP_EVIDENCE_NONCE_MIN || hex_len / 2 > RP_EVIDENCE_NONCE_MAX ||
            rp_hex_decode(hex, nonce, hex_len / 2) < 0)
                return rp_error_set(err, -EBADMSG, "the answer to POST /v1/attest/nonce holds no \"nonce\" of %d "
                                    "to %d bytes in hex", RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX);
        memcpy(nonce_hex, hex, hex_len + 1);    /* ans is dropped before the nonce goes back */

        /* Evidence for it, signed in secmon. */
        _cleanup_free_ uint8_t *ev = NULL;
        size_t ev_len = 0;
        r = rp_secmon_evidence(sm, nonce, hex_len / 2, &ev, &ev_len, err);
        if (r < 0)
                return r;
        if (ev_len > RP_EVIDENCE_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "rampart-secmon's evidence: %zu bytes, more than %d", ev_len,
                                    RP_EVIDENCE_MAX_SIZE);
        char b64[4 * ((RP_EVIDENCE_MAX_SIZE + 2) / 3) + 1];
        EVP_EncodeBlock((unsigned char *) b64, ev, (int) ev_len);

        json_decref(req);
        json_decref(ans);
        ans = NULL;
        req = json_pack("{s:s, s:s}", "nonce", nonce_hex, "evidence", b64);
        if (!req)
                return rp_error_set(err, -ENOMEM, "out of memory");
        r = rp_http_json(h, "POST", "/v1/attest", req, &ans, &st, err);
        if (ret_status)
                *ret_status = st;
        if (r < 0)
                return rp_error_prefix(err, r, "attestation: ");

        return rp_attest_check_answer(ans, info.device_id, alias, ret, err);
}

int rp_attest_tls_setup(SSL_CTX *ctx, void *userdata, rp_error *err) {
        const rp_attest_tls *t = userdata;
        _cleanup_(x509_freep) X509 *cert = NULL;
        int r = parse_cert(t->certificate_pem, "device certificate", &cert, err);
        if (r < 0)
                return rp_error_prefix(err, r, "device certificate: ");
        r = rp_secmon_tls_setup(ctx, t->secmon_socket, err);
        if (r < 0)
                return r;
        /* The Alias key stays; the certificate becomes the device
         * certificate, which the tenant CA issued directly. OpenSSL drops
         * the key if the certificate does not match it: checked after. */
        if (!SSL_CTX_use_certificate(ctx, cert) || !SSL_CTX_clear_chain_certs(ctx) ||
            SSL_CTX_check_private_key(ctx) != 1)
                return rp_error_set(err, -EKEYREJECTED, "the device certificate is not for the Alias key "
                                    "rampart-secmon at %s holds (attest again?)", t->secmon_socket);
        return 0;
}
