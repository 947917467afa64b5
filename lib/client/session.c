/* SPDX-License-Identifier: Apache-2.0 */
/* A device's session with rampart-server (session.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "client/attest.h"
#include "client/http_internal.h"
#include "client/session.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "rampart/deployment.h"
#include "secmon/client.h"

#define CERT_FILE_MAX (64 * 1024)
#define SERVER_FILE_MAX (RP_HTTP_URL_MAX + 2)
#define KEY_FILE_MAX (64 * 1024)
#define TENANT_URN "urn:rampart:tenant:"

struct rp_device_session {
        char *state_dir;
        char *dir;                      /* STATE_DIR/service */
        char *socket;                   /* secmon's */
        char *ca_file;
        unsigned timeout;
        rp_secmon *sm;
        char device_id[RP_DEPLOYMENT_DEVICE_ID_LEN + 1];
        char tenant[RP_DEPLOYMENT_ID_MAX + 1];
        char *cert_pem;
        rp_attest_tls tls;              /* points at socket and cert_pem */
        rp_http *http;                  /* mTLS */
        bool attested;                  /* since it was opened */
};

void rp_device_session_free(rp_device_session *s) {
        if (!s)
                return;
        rp_http_free(s->http);
        rp_secmon_close(s->sm);
        free(s->cert_pem);
        free(s->ca_file);
        free(s->socket);
        free(s->dir);
        free(s->state_dir);
        free(s);
}

rp_http *rp_device_session_http(rp_device_session *s) {
        return s->http;
}

const char *rp_device_session_device_id(const rp_device_session *s) {
        return s->device_id;
}

const char *rp_device_session_tenant(const rp_device_session *s) {
        return s->tenant;
}

const char *rp_device_session_dir(const rp_device_session *s) {
        return s->dir;
}

/* STATE_DIR/service, made 0700 if missing; refused if it is not a
 * directory (a symbolic link included). */
static int service_dir(const char *state_dir, char **ret, rp_error *err) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/service", state_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "cannot make the device's service directory %s", dir);
        struct stat st;
        if (lstat(dir, &st) < 0)
                return rp_error_set_errno(err, -errno, "%s", dir);
        if (!S_ISDIR(st.st_mode))
                return rp_error_set(err, -ENOTDIR, "%s: not a directory (the device's service state)", dir);
        *ret = TAKE_PTR(dir);
        return 0;
}

static int path_in(const char *dir, const char *name, char **ret, rp_error *err) {
        if (asprintf(ret, "%s/%s", dir, name) < 0) {
                *ret = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}

/* The first certificate of a PEM text. NULL if there is none. */
static X509 *cert_from_pem(const char *pem) {
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(pem, -1);
        return bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
}

/* The tenant id in cert's subjectAltName (URI:urn:rampart:tenant:ID), into
 * out; false if there is none of the expected form. */
static bool cert_tenant(X509 *cert, char out[RP_DEPLOYMENT_ID_MAX + 1]) {
        GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
        bool found = false;
        for (int i = 0; names && i < sk_GENERAL_NAME_num(names) && !found; i++) {
                const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
                if (g->type != GEN_URI)
                        continue;
                const char *u = (const char *) ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
                int n = ASN1_STRING_length(g->d.uniformResourceIdentifier);
                size_t p = strlen(TENANT_URN);
                if (n <= (int) p || n > (int) (p + RP_DEPLOYMENT_ID_MAX) || strncmp(u, TENANT_URN, p) != 0)
                        continue;
                bool hex = true;
                for (int k = (int) p; k < n; k++)
                        hex = hex && ((u[k] >= '0' && u[k] <= '9') || (u[k] >= 'a' && u[k] <= 'f'));
                if (!hex)
                        continue;
                memcpy(out, u + p, (size_t) n - p);
                out[n - p] = '\0';
                found = true;
        }
        GENERAL_NAMES_free(names);
        return found;
}

/* The Alias public key secmon holds (the first certificate of its chain). */
static int alias_key(rp_secmon *sm, EVP_PKEY **ret, rp_error *err) {
        _cleanup_free_ char *pem = NULL;
        int r = rp_secmon_chain_pem(sm, &pem, err);
        if (r < 0)
                return r;
        _cleanup_(x509_freep) X509 *alias = cert_from_pem(pem);
        EVP_PKEY *k = alias ? X509_get_pubkey(alias) : NULL;
        if (!k)
                return rp_error_set(err, -EBADMSG, "rampart-secmon's Alias certificate: not a certificate with a "
                                    "usable public key");
        *ret = k;
        return 0;
}

/* A file of the service directory, read whole: NULL (and 0) when it does
 * not exist. */
static int read_optional(const char *dir, const char *name, size_t max, char **ret, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        int r = path_in(dir, name, &path, err);
        if (r < 0)
                return r;
        uint8_t *data = NULL;
        size_t len = 0;
        r = rp_read_file(path, max, &data, &len, err);
        if (r == -ENOENT) {
                rp_error_clear(err);
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        *ret = (char *) data;
        return 0;
}

/* Whether the stored certificate can be used: for this server, for the
 * Alias key secmon holds, with a tenant id, valid for RENEW_BEFORE more
 * seconds. On true, s->cert_pem and s->tenant are set. */
static int load_certificate(rp_device_session *s, EVP_PKEY *alias, bool *ret_usable, rp_error *err) {
        *ret_usable = false;
        _cleanup_free_ char *server = NULL, *pem = NULL;
        int r = read_optional(s->dir, "server", SERVER_FILE_MAX, &server, err);
        if (r >= 0)
                r = read_optional(s->dir, "certificate.pem", CERT_FILE_MAX, &pem, err);
        if (r < 0)
                return r;
        if (!server || !pem)
                return 0;
        server[strcspn(server, "\n")] = '\0';
        if (!streq(server, rp_http_server(s->http)))
                return 0;
        _cleanup_(x509_freep) X509 *cert = cert_from_pem(pem);
        if (!cert || EVP_PKEY_eq(X509_get0_pubkey(cert), alias) != 1 || !cert_tenant(cert, s->tenant))
                return 0;
        time_t renew_at = time(NULL) + RP_SESSION_RENEW_BEFORE;
        if (X509_cmp_time(X509_get0_notAfter(cert), &renew_at) <= 0)
                return 0;
        free(s->cert_pem);
        s->cert_pem = TAKE_PTR(pem);
        s->tls.certificate_pem = s->cert_pem;
        *ret_usable = true;
        return 0;
}

/* What to do about an attestation refusal's reason. */
static const char *refusal_hint(const char *reason) {
        static const struct {
                const char *reason, *hint;
        } hints[] = {
                { "device_unclaimed", "a Contributor of the tenant claims it: rampart device claim DEVICE_ID" },
                { "device_disabled", "a Contributor of its tenant enables it: rampart device enable DEVICE_ID" },
                { "development_not_allowed", "the tenant accepts no development root of trust: rampart tenant "
                                             "update --allow-development yes" },
                { "untrusted_manufacturer", "the tenant must trust the factory's CA: rampart manufacturer add "
                                            "--ca ca.pem" },
                { "software_unknown", "the tenant must accept the software the device runs: rampart release add "
                                      "... --measurement HEX" },
                { "software_revoked", "the release the device runs was revoked: update it to one that is not" },
        };
        for (size_t i = 0; i < ELEMENTSOF(hints); i++)
                if (streq(hints[i].reason, reason))
                        return hints[i].hint;
        return NULL;
}

/* Drops the client's connections, so the next request makes a new one
 * (and presents the certificate s->tls points at now). */
static int reconnect(rp_http *h, rp_error *err) {
        CURL *c = curl_easy_duphandle(h->curl);
        if (!c)
                return rp_error_set(err, -ENOMEM, "out of memory (curl_easy_duphandle)");
        curl_easy_cleanup(h->curl);
        h->curl = c;
        return 0;
}

/* One file of the service directory, written atomically (0600). */
static int store(const char *dir, const char *name, const char *text, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        int r = path_in(dir, name, &path, err);
        if (r < 0)
                return r;
        return rp_write_file_atomic(path, text, strlen(text), 0600, err);
}

/* What an accepted attestation gave: the deployment key checked against
 * the pinned one (pinned if none is), then the files, the server's name
 * last (load_certificate uses a certificate only for the server named). */
static int store_attestation(rp_device_session *s, const rp_attest_result *res, rp_error *err) {
        int r;
        if (res->deployment_key_pem) {
                _cleanup_(rp_key_freep) rp_key *key = NULL;
                r = rp_key_from_pem(res->deployment_key_pem, strlen(res->deployment_key_pem), false, &key, err);
                if (r < 0)
                        return rp_error_prefix(err, r, "the service's deployment key: ");
                r = rp_device_pin_deployment_key(s->state_dir, key, NULL, err);
                if (r < 0)
                        return rp_error_prefix(err, r, "the attestation's answer: ");
        }
        _cleanup_free_ char *line = NULL;
        if (asprintf(&line, "%s\n", rp_http_server(s->http)) < 0) {
                line = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        if ((r = store(s->dir, "tenant-ca.pem", res->ca_certificate_pem, err)) < 0 ||
            (r = store(s->dir, "certificate.pem", res->certificate_pem, err)) < 0)
                return r;
        return store(s->dir, "server", line, err);
}

/* Attests to the server and stores what it issued. */
static int attest(rp_device_session *s, rp_error *err) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *alias = NULL;
        int r = alias_key(s->sm, &alias, err);
        if (r < 0)
                return r;
        _cleanup_(rp_http_freep) rp_http *h = NULL;
        rp_http_config cfg = { .server = rp_http_server(s->http), .ca_file = s->ca_file, .timeout = s->timeout };
        r = rp_http_new(&cfg, &h, err);
        if (r < 0)
                return r;
        rp_attest_result res = {};
        rp_http_status st = {};
        r = rp_attest(h, s->sm, &res, &st, err);
        if (r < 0) {
                const char *hint = st.status == 403 ? refusal_hint(st.code) : NULL;
                if (hint) {
                        char msg[RP_ERROR_MAX];
                        snprintf(msg, sizeof msg, "%s", rp_error_message(err, r));
                        return rp_error_set(err, r, "%.300s: %s", msg, hint);
                }
                return r;
        }
        _cleanup_(x509_freep) X509 *cert = cert_from_pem(res.certificate_pem);
        char tenant[RP_DEPLOYMENT_ID_MAX + 1];
        if (!cert || !cert_tenant(cert, tenant))
                r = rp_error_set(err, -EBADMSG, "the device certificate from %s names no tenant (URI:" TENANT_URN
                                 "ID)", rp_http_server(s->http));
        if (r >= 0)
                r = store_attestation(s, &res, err);
        if (r >= 0) {
                free(s->cert_pem);
                s->cert_pem = TAKE_PTR(res.certificate_pem);
                s->tls.certificate_pem = s->cert_pem;
                memcpy(s->tenant, tenant, sizeof s->tenant);
                s->attested = true;
                r = reconnect(s->http, err);
        }
        rp_attest_result_clear(&res);
        return r;
}

int rp_device_session_renew(rp_device_session *s, rp_error *err) {
        return attest(s, err);
}

int rp_device_session_open(const rp_device_session_config *cfg, rp_device_session **ret, bool *ret_attested,
                           rp_error *err) {
        if (!cfg->state_dir)
                return rp_error_set(err, -EINVAL, "no state directory (the device's, as for rampart-secmon)");
        if (!cfg->server)
                return rp_error_set(err, -EINVAL, "no server URL");
        if (!cfg->ca_file)
                return rp_error_set(err, -EINVAL, "no CA file for the server's certificate");
        _cleanup_(rp_device_session_freep) rp_device_session *s = calloc(1, sizeof *s);
        if (!s)
                return rp_error_set(err, -ENOMEM, "out of memory");
        s->timeout = cfg->timeout;
        if (cfg->secmon_socket)
                s->socket = strdup(cfg->secmon_socket);
        else if (asprintf(&s->socket, "%s/%s", cfg->state_dir, RP_SECMON_SOCKET_NAME) < 0)
                s->socket = NULL;
        s->ca_file = strdup(cfg->ca_file);
        s->state_dir = strdup(cfg->state_dir);
        if (!s->socket || !s->ca_file || !s->state_dir)
                return rp_error_set(err, -ENOMEM, "out of memory");
        s->tls.secmon_socket = s->socket;
        s->tls.certificate_pem = "";    /* until there is one: refused by the TLS set-up */

        rp_http_config hc = { .server = cfg->server, .ca_file = cfg->ca_file, .timeout = cfg->timeout,
                              .tls_setup = rp_attest_tls_setup, .tls_userdata = &s->tls };
        int r = rp_http_new(&hc, &s->http, err);
        if (r < 0)
                return r;
        r = rp_secmon_connect(s->socket, &s->sm, err);
        if (r < 0)
                return rp_error_prefix(err, r, "rampart-secmon (is it running? rampart-secmon --state-dir %s): ",
                                       cfg->state_dir);
        r = service_dir(cfg->state_dir, &s->dir, err);
        if (r < 0)
                return r;
        rp_secmon_info info;
        r = rp_secmon_info_get(s->sm, &info, err);
        if (r < 0)
                return r;
        memcpy(s->device_id, info.device_id, sizeof s->device_id);
        _cleanup_(evp_pkey_freep) EVP_PKEY *alias = NULL;
        r = alias_key(s->sm, &alias, err);
        if (r < 0)
                return r;

        bool usable = false;
        r = load_certificate(s, alias, &usable, err);
        if (r >= 0 && !usable)
                r = attest(s, err);
        if (r < 0)
                return r;
        if (ret_attested)
                *ret_attested = s->attested;
        *ret = TAKE_PTR(s);
        return 0;
}

int rp_device_session_request(rp_device_session *s, const char *method, const char *path, const char *content_type,
                              const void *body, size_t len, const char *accept, char **ret_body, size_t *ret_len,
                              rp_http_status *ret_status, rp_error *err) {
        rp_http_status st = {};
        int r = rp_http_request(s->http, method, path, content_type, body, len, accept, ret_body, ret_len, &st, err);
        if (r < 0 && st.status == 401) {
                rp_error_clear(err);
                r = rp_device_session_renew(s, err);
                if (r >= 0)
                        r = rp_http_request(s->http, method, path, content_type, body, len, accept, ret_body,
                                            ret_len, &st, err);
        }
        if (ret_status)
                *ret_status = st;
        return r;
}

int rp_device_session_json(rp_device_session *s, const char *method, const char *path, const json_t *body,
                           json_t **ret_json, rp_http_status *ret_status, rp_error *err) {
        rp_http_status st = {};
        int r = rp_http_json(s->http, method, path, body, ret_json, &st, err);
        if (r < 0 && st.status == 401) {
                rp_error_clear(err);
                r = rp_device_session_renew(s, err);
                if (r >= 0)
                        r = rp_http_json(s->http, method, path, body, ret_json, &st, err);
        }
        if (ret_status)
                *ret_status = st;
        return r;
}

/* The key pinned in dir, or NULL (and 0) when none is. */
static int load_pinned(const char *dir, rp_key **ret, rp_error *err) {
        _cleanup_free_ char *pem = NULL;
        int r = read_optional(dir, "deployment-key.pem", KEY_FILE_MAX, &pem, err);
        if (r < 0)
                return r;
        if (!pem) {
                *ret = NULL;
                return 0;
        }
        r = rp_key_from_pem(pem, strlen(pem), false, ret, err);
        if (r < 0)
                return rp_error_prefix(err, r == -ENOMEM ? r : -EINVAL, "%s/deployment-key.pem: ", dir);
        return 0;
}

int rp_device_pin_deployment_key(const char *state_dir, const rp_key *key, bool *ret_written, rp_error *err) {
        _cleanup_free_ char *dir = NULL, *path = NULL;
        int r = service_dir(state_dir, &dir, err);
        if (r < 0)
                return r;
        if ((r = path_in(dir, "deployment-key.pem", &path, err)) < 0)
                return r;
        _cleanup_(rp_key_freep) rp_key *pinned = NULL;
        r = load_pinned(dir, &pinned, err);
        if (r < 0)
                return r;
        if (pinned) {
                uint8_t a[RP_KEY_ID_LEN], b[RP_KEY_ID_LEN];
                rp_key_id(pinned, a);
                rp_key_id(key, b);
                if (memcmp(a, b, sizeof a) != 0) {
                        char ha[2 * RP_KEY_ID_LEN + 1], hb[2 * RP_KEY_ID_LEN + 1];
                        rp_hex_encode_buf(a, sizeof a, ha);
                        rp_hex_encode_buf(b, sizeof b, hb);
                        return rp_error_set(err, -EKEYREJECTED, "the deployment key %.16s... differs from the one "
                                            "pinned in %s (%.16s...), which stays: if the tenant's deployment key "
                                            "really changed, remove that file and provision the new key", hb, path,
                                            ha);
                }
                if (ret_written)
                        *ret_written = false;
                return 0;
        }
        r = rp_key_save_public(key, path, err);
        if (r < 0)
                return r;
        if (ret_written)
                *ret_written = true;
        return 0;
}

int rp_device_session_deployment_key(rp_device_session *s, rp_key **ret, rp_error *err) {
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = load_pinned(s->dir, &key, err);
        if (r >= 0 && !key && !s->attested) {
                r = rp_device_session_renew(s, err);
                if (r >= 0)
                        r = load_pinned(s->dir, &key, err);
        }
        if (r < 0)
                return r;
        if (!key)
                return rp_error_set(err, -ENOKEY, "no deployment key pinned in %s/deployment-key.pem, and the "
                                    "service sent none when the device attested", s->dir);
        *ret = TAKE_PTR(key);
        return 0;
}
