/* SPDX-License-Identifier: Apache-2.0 */
/* The server's certificate and its SSL_CTX (tls.h). */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/crypto_internal.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "tls.h"

#define CA_DAYS (20 * 365)
#define SERVER_DAYS 397
#define RENEW_DAYS 30
#define PEM_MAX (64 * 1024)
#define CLIENT_CHAIN_MAX (32 * 1024)    /* bytes of certificates a client may send */

static const char *const builtin_names[] = { "localhost", "127.0.0.1", "::1" };

typedef struct material {
        X509 *ca, *server;
        EVP_PKEY *ca_key, *server_key;
} material;

static void material_done(material *m) {
        X509_free(m->ca);
        X509_free(m->server);
        EVP_PKEY_free(m->ca_key);
        EVP_PKEY_free(m->server_key);
}

void rp_tls_info_free(rp_tls_info *info) {
        free(info->ca_path);
        info->ca_path = NULL;
}

/* --- making certificates --- */

static int set_serial(X509 *x) {
        uint8_t b[16];
        if (RAND_bytes(b, sizeof b) != 1)
                return rp_openssl_failure(-EIO);
        b[0] = (uint8_t) ((b[0] & 0x3f) | 0x40);       /* positive, 16 bytes */
        _cleanup_(bn_freep) BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
        ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
        int ok = serial && X509_set_serialNumber(x, serial) == 1;
        ASN1_INTEGER_free(serial);
        return ok ? 0 : rp_openssl_failure(-EIO);
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer, x, NULL, NULL, 0);
        _cleanup_(x509_ext_freep) X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
        if (!e || X509_add_ext(x, e, -1) != 1)
                return rp_openssl_failure(-EIO);
        return 0;
}

static bool is_ip(const char *name) {
        uint8_t buf[16];
        return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

/* "DNS:localhost,IP:127.0.0.1,IP:::1,DNS:..." for the names a server
 * certificate carries. */
static char *san_value(const rp_server_config *cfg) {
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);
        if (!f)
                return NULL;
        for (size_t i = 0; i < ELEMENTSOF(builtin_names) + cfg->n_tls_names; i++) {
                const char *n = i < ELEMENTSOF(builtin_names) ? builtin_names[i]
                                                               : cfg->tls_names[i - ELEMENTSOF(builtin_names)];
                fprintf(f, "%s%s:%s", i ? "," : "", is_ip(n) ? "IP" : "DNS", n);
        }
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* A certificate for key, named cn, valid from now for days, signed by
 * issuer_key (issuer NULL: self-signed). */
static int make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, long days,
                     const rp_server_config *cfg, X509 **ret) {
        _cleanup_(x509_freep) X509 *x = X509_new();
        if (!x)
                return -ENOMEM;
        X509_NAME *subject = X509_get_subject_name(x);
        if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) < 0 ||
            X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : subject) != 1 ||
            !X509_gmtime_adj(X509_getm_notBefore(x), -300) ||
            !X509_gmtime_adj(X509_getm_notAfter(x), days * 86400) || X509_set_pubkey(x, key) != 1)
                return rp_openssl_failure(-EIO);
        X509 *signer = issuer ? issuer : x;
        int r;
        if (!issuer) {
                r = add_ext(x, signer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0");
                if (r >= 0)
                        r = add_ext(x, signer, NID_key_usage, "critical,keyCertSign,cRLSign");
        } else {
                _cleanup_free_ char *san = san_value(cfg);
                if (!san)
                        return -ENOMEM;
                r = add_ext(x, signer, NID_basic_constraints, "critical,CA:FALSE");
                if (r >= 0)
                        r = add_ext(x, signer, NID_key_usage, "critical,digitalSignature");
                if (r >= 0)
                        r = add_ext(x, signer, NID_ext_key_usage, "serverAuth");
                if (r >= 0)
                        r = add_ext(x, signer, NID_subject_alt_name, san);
        }
        if (r >= 0)
                r = add_ext(x, signer, NID_subject_key_identifier, "hash");
        if (r >= 0)
                r = add_ext(x, signer, NID_authority_key_identifier, "keyid:always");
        if (r < 0)
                return r;
        if (X509_sign(x, issuer_key, EVP_sha256()) <= 0)
                return rp_openssl_failure(-EIO);
        *ret = TAKE_PTR(x);
        return 0;
}

/* --- files --- */

static int write_pem(const char *dir, const char *name, X509 *cert, EVP_PKEY *key, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        /* Secure memory: cleared when freed. */
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_secmem());
        if (!bio || (cert ? PEM_write_bio_X509(bio, cert)
                          : PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL)) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "%s: cannot encode", path);
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len <= 0)
                return rp_error_set(err, -EIO, "%s: cannot encode", path);
        return rp_write_file_atomic(path, data, (size_t) len, cert ? 0644 : 0600, err);
}

static int read_pem(const char *dir, const char *name, X509 **ret_cert, EVP_PKEY **ret_key, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int r = rp_read_file(path, PEM_MAX, &data, &len, err);
        if (r < 0)
                return r;
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(data, (int) len);
        if (!bio)
                r = -ENOMEM;
        else if (ret_cert && !(*ret_cert = PEM_read_bio_X509(bio, NULL, NULL, NULL)))
                r = rp_error_set(err, rp_openssl_failure(-EINVAL), "%s: not a PEM certificate", path);
        else if (ret_key && !(*ret_key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL)))
                r = rp_error_set(err, rp_openssl_failure(-EINVAL), "%s: not a PEM private key", path);
        OPENSSL_cleanse(data, len);
        return r;
}

static int new_key(EVP_PKEY **ret, rp_error *err) {
        *ret = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        return *ret ? 0 : rp_error_set(err, rp_openssl_failure(-EIO), "cannot generate a P-256 key");
}

static int issue_server(material *m, const rp_server_config *cfg, rp_error *err) {
        EVP_PKEY *key = NULL;
        int r = new_key(&key, err);
        if (r < 0)
                return r;
        X509 *cert = NULL;
        r = make_cert(key, cfg->n_tls_names ? cfg->tls_names[0] : "localhost", m->ca, m->ca_key, SERVER_DAYS, cfg,
                      &cert);
        if (r < 0) {
                EVP_PKEY_free(key);
                return rp_error_set(err, r, "cannot issue the server certificate");
        }
        X509_free(m->server);
        EVP_PKEY_free(m->server_key);
        m->server = cert;
        m->server_key = key;
        return 0;
}

static int write_server(const material *m, const char *dir, rp_error *err) {
        int r = write_pem(dir, "server.key", NULL, m->server_key, err);
        return r < 0 ? r : write_pem(dir, "server.pem", m->server, NULL, err);
}

static void remove_tree(const char *dir) {
        static const char *const names[] = { "ca.pem", "ca.key", "server.pem", "server.key" };
        for (size_t i = 0; i < ELEMENTSOF(names); i++) {
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/%s", dir, names[i]) >= 0)
                        (void) unlink(p);
        }
        (void) rmdir(dir);
}

/* The whole set, made in a temporary directory beside dir and renamed to
 * dir. -EEXIST if another process put dir in place first. */
static int create_all(const rp_server_config *cfg, const char *dir, material *m, rp_error *err) {
        _cleanup_free_ char *tmp = NULL;
        if (asprintf(&tmp, "%s/.tls-XXXXXX", cfg->data_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        if (!mkdtemp(tmp))
                return rp_error_set_errno(err, -errno, "%s: cannot create a directory", cfg->data_dir);
        char host[64] = "";
        (void) gethostname(host, sizeof host - 1);
        _cleanup_free_ char *cn = NULL;
        if (asprintf(&cn, "rampart-server CA%s%s", *host ? " " : "", host) < 0) {
                cn = NULL;
                remove_tree(tmp);
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        int r = new_key(&m->ca_key, err);
        if (r >= 0 && (r = make_cert(m->ca_key, cn, NULL, m->ca_key, CA_DAYS, cfg, &m->ca)) < 0)
                rp_error_set(err, r, "cannot make the server CA certificate");
        if (r >= 0)
                r = issue_server(m, cfg, err);
        if (r >= 0)
                r = write_pem(tmp, "ca.key", NULL, m->ca_key, err);
        if (r >= 0)
                r = write_pem(tmp, "ca.pem", m->ca, NULL, err);
        if (r >= 0)
                r = write_server(m, tmp, err);
        if (r >= 0 && rename(tmp, dir) < 0) {
                r = errno == EEXIST || errno == ENOTEMPTY ? -EEXIST
                    : rp_error_set_errno(err, -errno, "%s: cannot rename %s to it", dir, tmp);
        }
        if (r < 0) {
                remove_tree(tmp);
                return r;
        }
        _cleanup_close_ int dfd = open(cfg->data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0)
                (void) fsync(dfd);
        return 0;
}

/* True if cert's subjectAltName holds every name the configuration wants. */
static bool names_covered(X509 *cert, const rp_server_config *cfg) {
        GENERAL_NAMES *sans = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
        bool all = true;
        for (size_t i = 0; all && i < ELEMENTSOF(builtin_names) + cfg->n_tls_names; i++) {
                const char *n = i < ELEMENTSOF(builtin_names) ? builtin_names[i]
                                                               : cfg->tls_names[i - ELEMENTSOF(builtin_names)];
                ASN1_OCTET_STRING *ip = is_ip(n) ? a2i_IPADDRESS(n) : NULL;
                bool found = false;
                for (int k = 0; sans && !found && k < sk_GENERAL_NAME_num(sans); k++) {
                        const GENERAL_NAME *g = sk_GENERAL_NAME_value(sans, k);
                        if (ip && g->type == GEN_IPADD)
                                found = ASN1_STRING_cmp(ip, g->d.iPAddress) == 0;
                        else if (!ip && g->type == GEN_DNS)
                                found = (size_t) ASN1_STRING_length(g->d.dNSName) == strlen(n) &&
                                        strncasecmp((const char *) ASN1_STRING_get0_data(g->d.dNSName), n,
                                                    strlen(n)) == 0;
                }
                ASN1_OCTET_STRING_free(ip);
                all = found;
        }
        GENERAL_NAMES_free(sans);
        return all;
}

/* True if the server certificate needs to be issued again. */
static bool server_stale(const material *m, const rp_server_config *cfg) {
        if (!m->server || !m->server_key || X509_check_private_key(m->server, m->server_key) != 1) {
                ERR_clear_error();
                return true;
        }
        EVP_PKEY *ca_pub = X509_get0_pubkey(m->ca);
        if (!ca_pub || X509_verify(m->server, ca_pub) != 1) {
                ERR_clear_error();
                return true;
        }
        time_t soon = time(NULL) + (time_t) RENEW_DAYS * 86400;
        if (X509_cmp_time(X509_get0_notAfter(m->server), &soon) <= 0)
                return true;
        return !names_covered(m->server, cfg);
}

/* D/tls: made, or loaded (and the server certificate renewed if stale). */
static int load_material(const rp_server_config *cfg, material *m, rp_tls_info *info, rp_error *err) {
        _cleanup_free_ char *dir = NULL;
        if (asprintf(&dir, "%s/tls", cfg->data_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        struct stat st;
        if (lstat(dir, &st) < 0) {
                if (errno != ENOENT)
                        return rp_error_set_errno(err, -errno, "%s", dir);
                int r = create_all(cfg, dir, m, err);
                if (r == 0) {
                        info->created = true;
                        return 0;
                }
                if (r != -EEXIST)
                        return r;
                material_done(m);
                *m = (material) {};     /* another server made it first: use theirs */
        } else if (!S_ISDIR(st.st_mode)) {
                return rp_error_set(err, -ENOTDIR, "%s: not a directory", dir);
        }

        int r = read_pem(dir, "ca.pem", &m->ca, NULL, err);
        if (r < 0)
                return r;
        /* The server certificate may be missing or broken: it can be made
         * again if the CA key is there. */
        rp_error ignored = {};
        (void) read_pem(dir, "server.pem", &m->server, NULL, &ignored);
        (void) read_pem(dir, "server.key", NULL, &m->server_key, &ignored);
        if (!server_stale(m, cfg))
                return 0;
        r = read_pem(dir, "ca.key", NULL, &m->ca_key, err);
        if (r < 0)
                return rp_error_prefix(err, r, "%s/server.pem must be issued again (missing, broken, expiring, "
                                       "or not naming every --tls-name), which needs the CA key: ", dir);
        if (X509_check_private_key(m->ca, m->ca_key) != 1) {
                ERR_clear_error();
                return rp_error_set(err, -EINVAL, "%s/ca.key does not belong to %s/ca.pem", dir, dir);
        }
        r = issue_server(m, cfg, err);
        if (r < 0)
                return r;
        r = write_server(m, dir, err);
        if (r < 0)
                return r;
        info->reissued = true;
        return 0;
}

/* --- the SSL_CTX --- */

/* Any client certificate is let through here: the handlers of device
 * routes check it against the tenant's CA (api.h, RP_AUTH_DEVICE). */
static int accept_any(int preverify_ok, X509_STORE_CTX *ctx) {
        return 1;
}

static int select_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen, const unsigned char *in,
                       unsigned int inlen, void *arg) {
        static const unsigned char http11[] = "\x08http/1.1";
        unsigned char *o = NULL;
        if (SSL_select_next_proto(&o, outlen, http11, sizeof http11 - 1, in, inlen) != OPENSSL_NPN_NEGOTIATED)
                return SSL_TLSEXT_ERR_NOACK;
        *out = o;
        return SSL_TLSEXT_ERR_OK;
}

int rp_tls_setup(const rp_server_config *cfg, SSL_CTX **ret_ctx, rp_tls_info *ret_info, rp_error *err) {
        rp_tls_info info = {};
        _cleanup_(material_done) material m = {};
        if (!cfg->tls_cert) {
                int r = load_material(cfg, &m, &info, err);
                if (r < 0)
                        return r;
                if (asprintf(&info.ca_path, "%s/tls/ca.pem", cfg->data_dir) < 0)
                        return rp_error_set(err, -ENOMEM, "out of memory");
        }

        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        if (!ctx) {
                rp_tls_info_free(&info);
                return rp_error_set(err, rp_openssl_failure(-ENOMEM), "cannot make a TLS context");
        }
        bool ok = SSL_CTX_set_min_proto_version(ctx, cfg->tls12 ? TLS1_2_VERSION : TLS1_3_VERSION) == 1 &&
                  SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") == 1 &&
                  SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384") == 1 &&
                  SSL_CTX_set_session_id_context(ctx, (const unsigned char *) "rampart-server", 14) == 1;
        SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
        /* Idle connections keep no read or write buffers. */
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
        /* No session resumption: a device attests on a new connection and
         * the CLI is a process per command, so tickets (TLS 1.3 sends two
         * per connection) and cached sessions were work nobody used. */
        SSL_CTX_set_num_tickets(ctx, 0);
        SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
        SSL_CTX_set_verify_depth(ctx, 8);
        SSL_CTX_set_max_cert_list(ctx, CLIENT_CHAIN_MAX);
        SSL_CTX_set_alpn_select_cb(ctx, select_alpn, NULL);
        const char *what = "TLS settings";
        if (ok && cfg->tls_cert) {
                what = cfg->tls_cert;
                ok = SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) == 1;
                if (ok) {
                        what = cfg->tls_key;
                        ok = SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key, SSL_FILETYPE_PEM) == 1;
                }
        } else if (ok) {
                what = "the server certificate";
                ok = SSL_CTX_use_certificate(ctx, m.server) == 1 && SSL_CTX_use_PrivateKey(ctx, m.server_key) == 1;
        }
        if (ok) {
                what = "the server key";
                ok = SSL_CTX_check_private_key(ctx) == 1;
        }
        if (!ok) {
                unsigned long e = ERR_peek_last_error();
                char reason[256];
                ERR_error_string_n(e, reason, sizeof reason);
                SSL_CTX_free(ctx);
                rp_tls_info_free(&info);
                ERR_clear_error();
                return rp_error_set(err, -EINVAL, "%s: %s", what, reason);
        }
        *ret_ctx = ctx;
        *ret_info = info;
        return 0;
}
