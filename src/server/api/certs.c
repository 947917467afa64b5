/* SPDX-License-Identifier: Apache-2.0 */
/* Tenant CAs, device certificates and manufacturer CA bundles (certs.h),
 * with OpenSSL's X509 objects. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "api/certs.h"
#include "core/crypto_internal.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"

#define SERIAL_LEN 16
/* X.520's upper bound for commonName and organizationName, in characters. */
#define NAME_ATTR_MAX_CHARS 64
#define URN_TENANT "urn:rampart:tenant:"
#define URN_DEVICE "urn:rampart:device:"

static void general_names_freep(GENERAL_NAMES **p) {
        GENERAL_NAMES_free(*p);
}

/* The first max characters of the UTF-8 text s (valid UTF-8), into out. */
static void utf8_prefix(const char *s, size_t max_chars, char *out, size_t out_size) {
        size_t len = strlen(s), pos = 0, chars = 0;
        while (pos < len && chars < max_chars) {
                uint32_t cp;
                size_t k = rp_utf8_decode(s + pos, len - pos, &cp);
                if (k == 0 || pos + k >= out_size)
                        break;
                pos += k;
                chars++;
        }
        memcpy(out, s, pos);
        out[pos] = '\0';
}

/* A random positive serial of SERIAL_LEN bytes (top byte 0x40..0x7f, so
 * always that long), set on x and written in hex to ret_hex (may be NULL). */
static int set_serial(X509 *x, char *ret_hex) {
        uint8_t b[SERIAL_LEN];
        if (RAND_bytes(b, sizeof b) != 1)
                return rp_openssl_failure(-EIO);
        b[0] = (uint8_t) ((b[0] & 0x3f) | 0x40);
        _cleanup_(bn_freep) BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
        ASN1_INTEGER *serial = bn ? BN_to_ASN1_INTEGER(bn, NULL) : NULL;
        if (!serial)
                return rp_openssl_failure(-ENOMEM);
        int ok = X509_set_serialNumber(x, serial);
        ASN1_INTEGER_free(serial);
        if (ok != 1)
                return rp_openssl_failure(-ENOMEM);
        if (ret_hex)
                rp_hex_encode_buf(b, sizeof b, ret_hex);
        return 0;
}

static int set_validity(X509 *x, int64_t not_before, int64_t not_after) {
        if (!ASN1_TIME_set(X509_getm_notBefore(x), (time_t) not_before) ||
            !ASN1_TIME_set(X509_getm_notAfter(x), (time_t) not_after))
                return rp_openssl_failure(-ENOMEM);
        return 0;
}

/* Adds the extensions in exts (nid, value as openssl.cnf writes it), in order. */
typedef struct ext_spec {
        int nid;
        const char *value;
} ext_spec;

static int add_extensions(X509 *x, X509 *issuer, const ext_spec *exts, size_t n) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        for (size_t i = 0; i < n; i++) {
                _cleanup_(x509_ext_freep) X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, exts[i].nid,
                                                                                  exts[i].value);
                if (!e || X509_add_ext(x, e, -1) != 1)
                        return rp_openssl_failure(-EIO);
        }
        return 0;
}

/* PEM of what write() puts in a BIO, malloc'd and NUL-terminated. The BIO
 * is in secure memory (cleared when freed): keys pass through here. */
static int to_pem(int (*write)(BIO *, const void *), const void *obj, char **ret) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_secmem());
        if (!bio || write(bio, obj) != 1)
                return rp_openssl_failure(-ENOMEM);
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len <= 0)
                return -EIO;
        char *s = malloc((size_t) len + 1);
        if (!s)
                return -ENOMEM;
        memcpy(s, data, (size_t) len);
        s[len] = '\0';
        *ret = s;
        return 0;
}

static int write_cert(BIO *bio, const void *cert) {
        return PEM_write_bio_X509(bio, (X509 *) cert);
}

static int write_key(BIO *bio, const void *key) {
        /* Unencrypted PKCS#8: "-----BEGIN PRIVATE KEY-----". */
        return PEM_write_bio_PrivateKey(bio, (EVP_PKEY *) key, NULL, NULL, 0, NULL, NULL);
}

static bool is_p256(EVP_PKEY *pkey) {
        char group[32] = "";
        return EVP_PKEY_is_a(pkey, "EC") &&
               EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof group, NULL) == 1 &&
               streq(group, SN_X9_62_prime256v1);
}

int api_tenant_ca_create(const char *name, int64_t now, char **ret_cert_pem, char **ret_key_pem, rp_error *err) {
        /* "rampart tenant " + the name, within the 64 characters X.520
         * allows a commonName. */
        char cn[NAME_ATTR_MAX_CHARS * 4 + 32];
        char short_name[NAME_ATTR_MAX_CHARS * 4 + 1];
        utf8_prefix(name, NAME_ATTR_MAX_CHARS - strlen("rampart tenant "), short_name, sizeof short_name);
        snprintf(cn, sizeof cn, "rampart tenant %s", short_name);

        ERR_clear_error();
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        _cleanup_(x509_freep) X509 *x = X509_new();
        if (!key || !x)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot generate the tenant CA key");
        X509_NAME *subject = X509_get_subject_name(x);
        static const ext_spec exts[] = {
                { NID_basic_constraints, "critical,CA:TRUE,pathlen:0" },
                { NID_key_usage, "critical,keyCertSign,cRLSign" },
                { NID_subject_key_identifier, "hash" },
                { NID_authority_key_identifier, "keyid:always" },
        };
        int r = 0;
        if (X509_set_version(x, X509_VERSION_3) != 1 ||
            X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, subject) != 1 || X509_set_pubkey(x, key) != 1)
                r = rp_openssl_failure(-EIO);
        if (r >= 0)
                r = set_serial(x, NULL);
        if (r >= 0)
                /* 20 years of 365 days, and their leap days. */
                r = set_validity(x, now - API_CERT_BACKDATE,
                                 now + (int64_t) API_TENANT_CA_YEARS * 365 * 86400 + 5 * 86400);
        if (r >= 0)
                r = add_extensions(x, NULL, exts, ELEMENTSOF(exts));
        if (r >= 0 && X509_sign(x, key, EVP_sha256()) <= 0)
                r = rp_openssl_failure(-EIO);
        if (r < 0)
                return rp_error_set(err, r, "cannot make the tenant CA certificate (CN \"%s\")", cn);
        _cleanup_free_ char *cert_pem = NULL;
        char *key_pem = NULL;
        r = to_pem(write_cert, x, &cert_pem);
        if (r >= 0)
                r = to_pem(write_key, key, &key_pem);
        if (r < 0)
                return rp_error_set(err, r, "cannot encode the tenant CA");
        *ret_cert_pem = TAKE_PTR(cert_pem);
        *ret_key_pem = key_pem;
        return 0;
}

static int cert_from_pem(const char *pem, X509 **ret) {
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(pem, -1);
        if (!bio)
                return -ENOMEM;
        X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!x)
                return rp_openssl_failure(-EINVAL);
        *ret = x;
        return 0;
}

int api_cert_fingerprint(const char *pem, char ret[API_FINGERPRINT_LEN + 1], rp_error *err) {
        _cleanup_(x509_freep) X509 *x = NULL;
        int r = cert_from_pem(pem, &x);
        if (r < 0)
                return rp_error_set(err, r, "cannot read a certificate the store holds");
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot hash a certificate");
        rp_hex_encode_buf(md, n, ret);
        return 0;
}

int api_tenant_ca_decode(const char *cert_pem, const char *key_pem, X509 **ret_cert, EVP_PKEY **ret_key,
                         rp_error *err) {
        ERR_clear_error();
        _cleanup_(x509_freep) X509 *ca = NULL;
        int r = cert_from_pem(cert_pem, &ca);
        if (r < 0)
                return rp_error_set(err, r, "cannot read the tenant CA certificate");
        _cleanup_(bio_freep) BIO *kbio = BIO_new_mem_buf(key_pem, -1);
        _cleanup_(evp_pkey_freep) EVP_PKEY *key = kbio ? PEM_read_bio_PrivateKey(kbio, NULL, NULL, NULL) : NULL;
        if (!key)
                return rp_error_set(err, rp_openssl_failure(-EINVAL), "cannot read the tenant CA key");
        if (X509_check_private_key(ca, key) != 1)
                return rp_error_set(err, rp_openssl_failure(-EINVAL), "the tenant CA key is not the tenant CA "
                                    "certificate's");
        *ret_cert = TAKE_PTR(ca);
        *ret_key = TAKE_PTR(key);
        return 0;
}

/* Sets src, a P-256 public key, as x's: its algorithm and bits copied as
 * they are when in the named-curve form (OpenSSL 3.0 would re-encode them
 * through its decoder and encoder), else through the key. */
static int set_p256_pubkey(X509 *x, X509_PUBKEY *src) {
        ASN1_OBJECT *alg = NULL;
        const unsigned char *bits = NULL;
        int len = 0;
        X509_ALGOR *algor = NULL;
        const void *param = NULL;
        int ptype = V_ASN1_UNDEF;
        if (X509_PUBKEY_get0_param(&alg, &bits, &len, &algor, src) != 1)
                return -EINVAL;
        X509_ALGOR_get0(NULL, &ptype, &param, algor);
        if (OBJ_obj2nid(alg) == NID_X9_62_id_ecPublicKey && ptype == V_ASN1_OBJECT &&
            OBJ_obj2nid(param) == NID_X9_62_prime256v1 && len == 65 && bits[0] == 0x04) {
                unsigned char *copy = OPENSSL_memdup(bits, (size_t) len);
                if (!copy)
                        return -ENOMEM;
                if (X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), OBJ_nid2obj(NID_X9_62_id_ecPublicKey),
                                           V_ASN1_OBJECT, OBJ_nid2obj(NID_X9_62_prime256v1), copy, len) != 1) {
                        OPENSSL_free(copy);
                        return rp_openssl_failure(-ENOMEM);
                }
                return 0;
        }
        EVP_PKEY *pub = X509_PUBKEY_get0(src);
        if (!pub || !is_p256(pub))
                return -EINVAL;
        return X509_set_pubkey(x, pub) == 1 ? 0 : rp_openssl_failure(-EIO);
}

int api_device_cert_issue(const api_device_cert_request *rq, char **ret_pem,
                          char ret_serial[API_SERIAL_HEX_LEN + 1], int64_t *ret_not_after, rp_error *err) {
        ERR_clear_error();
        char org[NAME_ATTR_MAX_CHARS * 4 + 1];
        utf8_prefix(rq->tenant_name, NAME_ATTR_MAX_CHARS, org, sizeof org);
        char san[2 * 64 + 64];
        snprintf(san, sizeof san, "URI:" URN_TENANT "%s,URI:" URN_DEVICE "%s", rq->tenant_id, rq->device_id);
        const ext_spec exts[] = {
                { NID_basic_constraints, "critical,CA:FALSE" },
                { NID_key_usage, "critical,digitalSignature" },
                { NID_ext_key_usage, "clientAuth" },
                { NID_subject_alt_name, san },
                { NID_subject_key_identifier, "hash" },
                { NID_authority_key_identifier, "keyid:always" },
        };
        _cleanup_(x509_freep) X509 *x = X509_new();
        if (!x)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = set_p256_pubkey(x, rq->public_key);
        if (r == -EINVAL)
                return rp_error_set(err, r, "the Alias public key is not a P-256 key");
        X509_NAME *subject = X509_get_subject_name(x);
        char serial[API_SERIAL_HEX_LEN + 1];
        int64_t not_after = rq->now + (int64_t) rq->lifetime;
        if (r >= 0 && (X509_set_version(x, X509_VERSION_3) != 1 ||
                       X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *) rq->device_id,
                                                  -1, -1, 0) != 1 ||
                       X509_NAME_add_entry_by_txt(subject, "O", MBSTRING_UTF8, (const unsigned char *) org, -1, -1,
                                                  0) != 1 ||
                       X509_set_issuer_name(x, X509_get_subject_name(rq->ca_cert)) != 1))
                r = rp_openssl_failure(-EIO);
        if (r >= 0)
                r = set_serial(x, serial);
        if (r >= 0)
                r = set_validity(x, rq->now - API_CERT_BACKDATE, not_after);
        if (r >= 0)
                r = add_extensions(x, rq->ca_cert, exts, ELEMENTSOF(exts));
        if (r >= 0 && X509_sign(x, rq->ca_key, EVP_sha256()) <= 0)
                r = rp_openssl_failure(-EIO);
        if (r < 0)
                return rp_error_set(err, r, "cannot make the device certificate");
        _cleanup_free_ char *pem = NULL;
        r = to_pem(write_cert, x, &pem);
        if (r < 0)
                return rp_error_set(err, r, "cannot encode the device certificate");
        *ret_pem = TAKE_PTR(pem);
        memcpy(ret_serial, serial, sizeof serial);
        *ret_not_after = not_after;
        return 0;
}

/* s (n bytes) is prefix followed by exactly len lowercase hex digits: copies them to out. */
static bool urn_value(const unsigned char *s, size_t n, const char *prefix, size_t len, char *out) {
        size_t k = strlen(prefix);
        if (n != k + len || memcmp(s, prefix, k) != 0)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = (char) s[k + i];
                if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
                        return false;
                out[i] = c;
        }
        out[len] = '\0';
        return true;
}

int api_device_cert_names(X509 *cert, api_device_identity *ret, rp_error *err) {
        int crit = 0;
        _cleanup_(general_names_freep) GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, &crit,
                                                                             NULL);
        if (!names)
                return rp_error_set(err, -EINVAL, "the certificate has no subjectAltName (a rampart device "
                                    "certificate names its tenant and device there)");
        api_device_identity id = {};
        unsigned n_tenant = 0, n_device = 0;
        for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
                const GENERAL_NAME *g = sk_GENERAL_NAME_value(names, i);
                if (g->type != GEN_URI)
                        continue;
                const unsigned char *s = ASN1_STRING_get0_data(g->d.uniformResourceIdentifier);
                size_t n = (size_t) ASN1_STRING_length(g->d.uniformResourceIdentifier);
                if (n >= strlen(URN_TENANT) && memcmp(s, URN_TENANT, strlen(URN_TENANT)) == 0) {
                        n_tenant++;
                        if (!urn_value(s, n, URN_TENANT, RP_DB_ID_LEN, id.tenant_id))
                                return rp_error_set(err, -EINVAL, "the certificate's tenant URI is malformed");
                } else if (n >= strlen(URN_DEVICE) && memcmp(s, URN_DEVICE, strlen(URN_DEVICE)) == 0) {
                        n_device++;
                        if (!urn_value(s, n, URN_DEVICE, 64, id.device_id))
                                return rp_error_set(err, -EINVAL, "the certificate's device URI is malformed");
                }
        }
        if (n_tenant != 1 || n_device != 1)
                return rp_error_set(err, -EINVAL, "the certificate names %u tenants and %u devices in its "
                                    "subjectAltName URIs; a device certificate names one of each", n_tenant,
                                    n_device);
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) != 1)
                return rp_error_set(err, -EINVAL, "the certificate's notAfter is malformed");
        id.not_after = (int64_t) timegm(&tm);
        *ret = id;
        return 0;
}

int api_device_cert_verify(X509 *cert, STACK_OF(X509) *untrusted, const char *ca_cert_pem, int64_t now,
                           rp_error *err) {
        ERR_clear_error();
        _cleanup_(x509_freep) X509 *ca = NULL;
        int r = cert_from_pem(ca_cert_pem, &ca);
        if (r < 0)
                return rp_error_set(err, r, "cannot read the tenant CA certificate");
        _cleanup_(x509_store_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(x509_store_ctx_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        _cleanup_(x509_stack_freep) STACK_OF(X509) *trusted = sk_X509_new_null();
        if (!store || !ctx || !trusted || !sk_X509_push(trusted, ca))
                return rp_error_set(err, -ENOMEM, "out of memory");
        TAKE_PTR(ca);   /* trusted owns it */
        if (X509_STORE_CTX_init(ctx, store, cert, untrusted) != 1 ||
            X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT) != 1)
                return rp_error_set(err, rp_openssl_failure(-ENOMEM), "out of memory");
        X509_STORE_CTX_set0_trusted_stack(ctx, trusted);
        X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t) now);
        int ok = X509_verify_cert(ctx);
        int e = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        if (ok < 0 || e == X509_V_ERR_OUT_OF_MEM)
                return rp_error_set(err, e == X509_V_ERR_OUT_OF_MEM ? -ENOMEM : -EIO, "the device certificate "
                                    "could not be checked");
        if (ok == 0)
                return rp_error_set(err, -EKEYREJECTED, "the device certificate does not verify with its tenant's "
                                    "CA: %s", X509_verify_cert_error_string(e));
        return 0;
}

void api_manufacturer_certs_free(api_manufacturer_cert *certs, size_t n) {
        for (size_t i = 0; certs && i < n; i++)
                free(certs[i].pem);
        free(certs);
}

/* RFC 2253 text of name with everything outside printable ASCII escaped. */
static int name_text(const X509_NAME *name, char *out, size_t size) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
        if (!bio || X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 | ASN1_STRFLGS_ESC_CTRL |
                                       ASN1_STRFLGS_ESC_MSB) < 0)
                return -ENOMEM;
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        size_t n = len > 0 ? (size_t) len : 0;
        if (n >= size)
                n = size - 1;
        memcpy(out, data, n);
        out[n] = '\0';
        /* Whatever OpenSSL let through, nothing unprintable is kept. */
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) out[i] < 0x20 || (unsigned char) out[i] >= 0x7f)
                        out[i] = '?';
        return 0;
}

static void common_name(X509 *x, char *out, size_t size) {
        out[0] = '\0';
        const X509_NAME *name = X509_get_subject_name(x);
        int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
        if (i < 0)
                return;
        _cleanup_(openssl_freep) unsigned char *utf8 = NULL;
        int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
        if (n > 0 && (size_t) n < size && rp_str_is_printable((const char *) utf8, (size_t) n) &&
            !memchr(utf8, '/', (size_t) n)) {
                memcpy(out, utf8, (size_t) n);
                out[n] = '\0';
        }
}

static int manufacturer_cert(const unsigned char *der, long len, size_t index, api_manufacturer_cert *ret,
                             rp_error *err) {
        const unsigned char *p = der;
        _cleanup_(x509_freep) X509 *x = d2i_X509(NULL, &p, len);
        if (!x || p != der + len)
                return rp_error_set(err, rp_openssl_failure(-EINVAL) == -ENOMEM ? -ENOMEM : -EINVAL,
                                    "ca_pem: certificate %zu is not a DER X.509 certificate", index);
        uint32_t flags = X509_get_extension_flags(x);
        if (flags & EXFLAG_INVALID)
                return rp_error_set(err, -EINVAL, "ca_pem: certificate %zu has malformed extensions", index);
        if (!(flags & EXFLAG_CA) || X509_get_version(x) != X509_VERSION_3)
                return rp_error_set(err, -EINVAL, "ca_pem: certificate %zu is not a CA certificate (it needs "
                                    "basicConstraints CA:TRUE); trust the manufacturer CA that signs DeviceID "
                                    "certificates (the factory's ca.pem)", index);
        api_manufacturer_cert c = {};
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (X509_digest(x, EVP_sha256(), md, &n) != 1 || n != 32)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot hash certificate %zu", index);
        rp_hex_encode_buf(md, n, c.fingerprint);
        if (name_text(X509_get_subject_name(x), c.subject, sizeof c.subject) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        common_name(x, c.common_name, sizeof c.common_name);
        struct tm tm;
        if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
                return rp_error_set(err, -EINVAL, "ca_pem: certificate %zu: malformed notAfter", index);
        c.not_after = (int64_t) timegm(&tm);
        int r = to_pem(write_cert, x, &c.pem);
        if (r < 0)
                return rp_error_set(err, r, "out of memory");
        *ret = c;
        return 0;
}

int api_manufacturer_certs_parse(const char *ca_pem, size_t len, api_manufacturer_cert **ret, size_t *ret_n,
                                 rp_error *err) {
        if (len > API_CA_PEM_MAX)
                return rp_error_set(err, -EFBIG, "ca_pem: %zu bytes; the limit is %d", len, API_CA_PEM_MAX);
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(ca_pem, (int) len);
        api_manufacturer_cert *certs = calloc(API_MANUFACTURER_CERTS_MAX, sizeof *certs);
        if (!bio || !certs) {
                free(certs);
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        size_t n = 0;
        int r = 0;
        ERR_clear_error();
        for (;;) {
                char *name = NULL, *header = NULL;
                unsigned char *data = NULL;
                long dlen = 0;
                if (PEM_read_bio(bio, &name, &header, &data, &dlen) != 1) {
                        unsigned long e = ERR_peek_last_error();
                        bool end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
                        ERR_clear_error();
                        if (!end)
                                r = rp_error_set(err, -EINVAL, "ca_pem: block %zu is malformed PEM (bad base64 or "
                                                 "no END line)", n + 1);
                        break;
                }
                if (!streq(name, "CERTIFICATE"))
                        r = rp_error_set(err, -EINVAL, "ca_pem: block %zu is a PEM \"%.40s\" block; only "
                                         "CERTIFICATE blocks are accepted (never send a private key)", n + 1,
                                         rp_str_is_printable(name, strlen(name)) ? name : "?");
                else if (n == API_MANUFACTURER_CERTS_MAX)
                        r = rp_error_set(err, -EFBIG, "ca_pem: more than %d certificates",
                                         API_MANUFACTURER_CERTS_MAX);
                else
                        r = manufacturer_cert(data, dlen, n + 1, &certs[n], err);
                OPENSSL_free(name);
                OPENSSL_free(header);
                OPENSSL_free(data);
                if (r < 0)
                        break;
                n++;
        }
        if (r >= 0 && n == 0)
                r = rp_error_set(err, -EINVAL, "ca_pem: no PEM CERTIFICATE block");
        for (size_t i = 0; r >= 0 && i < n; i++)
                for (size_t j = 0; j < i; j++)
                        if (streq(certs[i].fingerprint, certs[j].fingerprint))
                                r = rp_error_set(err, -EINVAL, "ca_pem: certificates %zu and %zu are the same",
                                                 j + 1, i + 1);
        if (r < 0) {
                api_manufacturer_certs_free(certs, n);
                return r;
        }
        *ret = certs;
        *ret_n = n;
        return 0;
}
