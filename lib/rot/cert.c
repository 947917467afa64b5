/* SPDX-License-Identifier: Apache-2.0 */
/* The device's certificates (cert.h): built with OpenSSL's X509 objects.
 * The manufacturer CA and the DeviceID certificate are signed with keys in
 * memory; the Alias certificate is signed through a callback, since the
 * DeviceID key stays inside its backend (a TPM, or secmon). */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/crypto_internal.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/tcbinfo.h"

#define SERIAL_LEN 16
/* RFC 5280 4.1.2.5: GeneralizedTime 99991231235959Z means "no well-defined
 * expiration date". */
#define NOT_AFTER "99991231235959Z"
#define ALIAS_OU "rampart Alias"
#define CERT_DER_MAX 4096

int rp_device_id(EVP_PKEY *pub, char ret_hex[RP_DEVICE_ID_HEX_LEN + 1]) {
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        int n = i2d_PUBKEY(pub, &der);
        if (n <= 0)
                return rp_openssl_failure(-EIO);
        uint8_t id[RP_SHA256_LEN];
        int r = rp_sha256(der, (size_t) n, id);
        if (r < 0)
                return r;
        rp_hex_encode_buf(id, sizeof id, ret_hex);
        return 0;
}

/* A random positive 16-byte serial number (RFC 5280 allows up to 20). The
 * top byte is 0x40..0x7f: positive, and always 16 bytes long. */
static int set_serial(X509 *x) {
        uint8_t b[SERIAL_LEN];
        if (RAND_bytes(b, sizeof b) != 1)
                return rp_openssl_failure(-EIO);
        b[0] = (uint8_t) ((b[0] & 0x3f) | 0x40);
        BIGNUM *bn = BN_bin2bn(b, sizeof b, NULL);
        if (!bn)
                return rp_openssl_failure(-EIO);
        ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
        BN_free(bn);
        if (!serial)
                return rp_openssl_failure(-EIO);
        int ok = X509_set_serialNumber(x, serial);
        ASN1_INTEGER_free(serial);
        return ok == 1 ? 0 : rp_openssl_failure(-EIO);
}

/* Version 3, serial, subject (OU if given, then CN), issuer, validity from
 * now to 9999, and the public key. issuer NULL: self-issued. */
static int set_basics(X509 *x, const char *ou, const char *cn, const X509_NAME *issuer, EVP_PKEY *pub) {
        X509_NAME *subject = X509_get_subject_name(x);
        if (X509_set_version(x, X509_VERSION_3) != 1 || set_serial(x) < 0 ||
            (ou && X509_NAME_add_entry_by_txt(subject, "OU", MBSTRING_UTF8, (const unsigned char *) ou, -1, -1,
                                              0) != 1) ||
            X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, (const unsigned char *) cn, -1, -1, 0) != 1 ||
            X509_set_issuer_name(x, issuer ? issuer : subject) != 1 ||
            !X509_gmtime_adj(X509_getm_notBefore(x), 0) ||
            ASN1_TIME_set_string_X509(X509_getm_notAfter(x), NOT_AFTER) != 1 || X509_set_pubkey(x, pub) != 1)
                return rp_openssl_failure(-EIO);
        return 0;
}

/* Adds the extensions rampart's certificates carry, in this order: basic
 * constraints, key usage (both critical), subject and authority key ids. */
static int add_extensions(X509 *x, X509 *issuer, const char *basic, const char *usage) {
        X509V3_CTX ctx;
        X509V3_set_ctx(&ctx, issuer ? issuer : x, x, NULL, NULL, 0);
        const struct {
                int nid;
                const char *value;
        } exts[] = {
                { NID_basic_constraints, basic },
                { NID_key_usage, usage },
                { NID_subject_key_identifier, "hash" },
                { NID_authority_key_identifier, "keyid:always" },
        };
        for (size_t i = 0; i < ELEMENTSOF(exts); i++) {
                _cleanup_(x509_ext_freep) X509_EXTENSION *e = X509V3_EXT_nconf_nid(NULL, &ctx, exts[i].nid,
                                                                                  exts[i].value);
                if (!e || X509_add_ext(x, e, -1) != 1)
                        return rp_openssl_failure(-EIO);
        }
        return 0;
}

/* True if pkey is an EC key on P-256. */
static bool is_p256(EVP_PKEY *pkey) {
        char group[32] = "";
        return EVP_PKEY_is_a(pkey, "EC") &&
               EVP_PKEY_get_utf8_string_param(pkey, "group", group, sizeof group, NULL) == 1 &&
               streq(group, SN_X9_62_prime256v1);
}

static bool exists(const char *path) {
        struct stat st;
        return lstat(path, &st) == 0;
}

/* PEM text of what write() writes into a BIO held in secure memory
 * (cleared when freed), written to path atomically with mode. */
static int write_pem(const char *path, mode_t mode, int (*write)(BIO *, const void *), const void *obj,
                     rp_error *err) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_secmem());
        if (!bio || write(bio, obj) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "%s: cannot encode", path);
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        if (len <= 0)
                return rp_error_set(err, -EIO, "%s: cannot encode", path);
        return rp_write_file_atomic(path, data, (size_t) len, mode, err);
}

static int write_key(BIO *bio, const void *key) {
        /* PKCS#8, unencrypted: "-----BEGIN PRIVATE KEY-----". */
        return PEM_write_bio_PrivateKey(bio, (EVP_PKEY *) key, NULL, NULL, 0, NULL, NULL);
}

static int write_cert(BIO *bio, const void *cert) {
        return PEM_write_bio_X509(bio, (X509 *) cert);
}

int rp_cert_ca_create(const char *dir, const char *subject_cn, rp_error *err) {
        _cleanup_free_ char *cert_path = NULL, *key_path = NULL;
        if (asprintf(&cert_path, "%s/ca.pem", dir) < 0 || asprintf(&key_path, "%s/ca.key", dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        const char *paths[] = { cert_path, key_path };
        for (size_t i = 0; i < ELEMENTSOF(paths); i++)
                if (exists(paths[i]))
                        return rp_error_set(err, -EEXIST, "%s: already exists; not replacing a manufacturer CA",
                                            paths[i]);
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "%s: cannot create the directory", dir);

        _cleanup_(evp_pkey_freep) EVP_PKEY *key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
        if (!key)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot generate the CA key");
        _cleanup_(x509_freep) X509 *x = X509_new();
        if (!x)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = set_basics(x, NULL, subject_cn, NULL, key);
        if (r >= 0)
                r = add_extensions(x, NULL, "critical,CA:TRUE", "critical,keyCertSign,cRLSign");
        if (r < 0)
                return rp_error_set(err, r, "cannot build the CA certificate (subject CN '%s')", subject_cn);
        if (X509_sign(x, key, EVP_sha256()) <= 0)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot sign the CA certificate");

        r = write_pem(key_path, 0600, write_key, key, err);
        if (r < 0)
                return r;
        r = write_pem(cert_path, 0644, write_cert, x, err);
        if (r < 0) {
                (void) unlink(key_path);
                return r;
        }
        return 0;
}

int rp_cert_deviceid_issue(X509 *ca_cert, EVP_PKEY *ca_key, EVP_PKEY *deviceid_pub,
                           X509 **ret, rp_error *err) {
        if (!is_p256(deviceid_pub))
                return rp_error_set(err, -EOPNOTSUPP, "DeviceID certificate: the DeviceID key is not a P-256 key");
        char id[RP_DEVICE_ID_HEX_LEN + 1];
        int r = rp_device_id(deviceid_pub, id);
        if (r < 0)
                return rp_error_set(err, r, "DeviceID certificate: cannot compute the device id");
        _cleanup_(x509_freep) X509 *x = X509_new();
        if (!x)
                return rp_error_set(err, -ENOMEM, "out of memory");
        r = set_basics(x, NULL, id, X509_get_subject_name(ca_cert), deviceid_pub);
        if (r >= 0)
                r = add_extensions(x, ca_cert, "critical,CA:TRUE,pathlen:0", "critical,keyCertSign");
        if (r < 0)
                return rp_error_set(err, r, "cannot build the DeviceID certificate");
        if (X509_sign(x, ca_key, EVP_sha256()) <= 0)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot sign the DeviceID certificate with the CA key");
        *ret = TAKE_PTR(x);
        return 0;
}

/* Adds the TcbInfo extension (not critical: OpenSSL, like most verifiers,
 * refuses a certificate with a critical extension it does not know). */
static int add_tcbinfo(X509 *x, const uint8_t measurement[RP_ROT_MEASUREMENT_LEN], const char *model,
                       const char *version, rp_error *err) {
        rp_tcbinfo info = { .vendor = "rampart", .layer = 1 };
        if (strlen(model) > RP_TCBINFO_TEXT_MAX || strlen(version) > RP_TCBINFO_TEXT_MAX)
                return rp_error_set(err, -EFBIG, "Alias certificate: model or version is over %d bytes",
                                    RP_TCBINFO_TEXT_MAX);
        strcpy(info.model, model);
        strcpy(info.version, version);
        memcpy(info.fwid_sha256, measurement, RP_ROT_MEASUREMENT_LEN);
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        int r = rp_tcbinfo_encode(&info, &der, &len, err);
        if (r < 0)
                return r;
        _cleanup_(asn1_object_freep) ASN1_OBJECT *oid = OBJ_txt2obj(RP_TCBINFO_OID, 1);
        _cleanup_(asn1_octet_string_freep) ASN1_OCTET_STRING *value = ASN1_OCTET_STRING_new();
        if (!oid || !value || ASN1_OCTET_STRING_set(value, der, (int) len) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "out of memory");
        _cleanup_(x509_ext_freep) X509_EXTENSION *e = X509_EXTENSION_create_by_OBJ(NULL, oid, 0, value);
        if (!e || X509_add_ext(x, e, -1) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot add the TcbInfo extension");
        return 0;
}

/* Appends a DER head (tag, length up to 0xffff) to out at *pos. */
static void der_head(uint8_t *out, size_t *pos, uint8_t tag, size_t len) {
        out[(*pos)++] = tag;
        if (len >= 0x100) {
                out[(*pos)++] = 0x82;
                out[(*pos)++] = (uint8_t) (len >> 8);
        } else if (len >= 0x80) {
                out[(*pos)++] = 0x81;
        }
        out[(*pos)++] = (uint8_t) len;
}

static size_t der_head_len(size_t len) {
        return len >= 0x100 ? 4 : len >= 0x80 ? 3 : 2;
}

/* Certificate ::= SEQUENCE { tbsCertificate, signatureAlgorithm, BIT STRING
 * signature } from its three parts, parsed back into an X509. */
static int assemble(const uint8_t *tbs, size_t tbs_len, const uint8_t *alg, size_t alg_len, const uint8_t *sig,
                    size_t sig_len, X509 **ret) {
        size_t bits_len = 1 + sig_len;
        size_t body = tbs_len + alg_len + der_head_len(bits_len) + bits_len;
        if (body + 4 > CERT_DER_MAX)
                return -EFBIG;
        uint8_t der[CERT_DER_MAX];
        size_t pos = 0;
        der_head(der, &pos, 0x30, body);
        memcpy(der + pos, tbs, tbs_len);
        pos += tbs_len;
        memcpy(der + pos, alg, alg_len);
        pos += alg_len;
        der_head(der, &pos, 0x03, bits_len);
        der[pos++] = 0;   /* no unused bits */
        memcpy(der + pos, sig, sig_len);
        pos += sig_len;
        const unsigned char *p = der;
        X509 *x = d2i_X509(NULL, &p, (long) pos);
        if (!x)
                return rp_openssl_failure(-EIO);
        if (p != der + pos) {
                X509_free(x);
                return -EIO;
        }
        *ret = x;
        return 0;
}

/* Signs x's TBSCertificate through signer and returns the signed
 * certificate, checked against issuer_pub. */
static int sign_external(X509 *x, EVP_PKEY *issuer_pub, rp_digest_signer signer, void *signer_ctx, X509 **ret,
                         rp_error *err) {
        /* X509_sign() sets the TBSCertificate's signature algorithm; with
         * the signature made elsewhere it is set here. OpenSSL returns the
         * field itself, const only to discourage this. */
        X509_ALGOR *tbs_alg = (X509_ALGOR *) X509_get0_tbs_sigalg(x);
        if (X509_ALGOR_set0(tbs_alg, OBJ_nid2obj(NID_ecdsa_with_SHA256), V_ASN1_UNDEF, NULL) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "out of memory");
        _cleanup_(openssl_freep) unsigned char *tbs = NULL, *alg = NULL;
        int tbs_len = i2d_re_X509_tbs(x, &tbs);
        int alg_len = i2d_X509_ALGOR(tbs_alg, &alg);
        if (tbs_len <= 0 || alg_len <= 0)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot encode the certificate");

        uint8_t digest[RP_ROT_DIGEST_LEN], sig[RP_ROT_SIG_LEN];
        int r = rp_sha256(tbs, (size_t) tbs_len, digest);
        if (r < 0)
                return rp_error_set(err, r, "SHA-256 failed");
        r = signer(signer_ctx, digest, sig, err);
        if (r < 0)
                return rp_error_prefix(err, r, "signing the certificate: ");
        _cleanup_free_ uint8_t *sig_der = NULL;
        size_t sig_der_len;
        r = rp_ecdsa_sig_to_der(sig, &sig_der, &sig_der_len);
        if (r < 0)
                return rp_error_set(err, r, "cannot encode the signature");
        _cleanup_(x509_freep) X509 *signed_x = NULL;
        r = assemble(tbs, (size_t) tbs_len, alg, (size_t) alg_len, sig_der, sig_der_len, &signed_x);
        if (r < 0)
                return rp_error_set(err, r, "cannot assemble the signed certificate");
        int ok = X509_verify(signed_x, issuer_pub);
        if (ok < 0)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot check the certificate's signature");
        if (ok == 0) {
                ERR_clear_error();
                return rp_error_set(err, -EKEYREJECTED, "the signature does not verify with the issuer's "
                                    "public key (the signer holds another key)");
        }
        *ret = TAKE_PTR(signed_x);
        return 0;
}

int rp_cert_alias_issue(X509 *deviceid_cert, EVP_PKEY *alias_pub,
                        const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                        const char *model, const char *version,
                        rp_digest_signer signer, void *signer_ctx,
                        X509 **ret, rp_error *err) {
        EVP_PKEY *deviceid_pub = X509_get0_pubkey(deviceid_cert);
        if (!deviceid_pub || !is_p256(deviceid_pub))
                return rp_error_set(err, -EOPNOTSUPP, "Alias certificate: the DeviceID certificate's key is not "
                                    "a P-256 key");
        if (!is_p256(alias_pub))
                return rp_error_set(err, -EOPNOTSUPP, "Alias certificate: the Alias key is not a P-256 key");
        char id[RP_DEVICE_ID_HEX_LEN + 1];
        int r = rp_device_id(deviceid_pub, id);
        if (r < 0)
                return rp_error_set(err, r, "Alias certificate: cannot compute the device id");

        _cleanup_(x509_freep) X509 *x = X509_new();
        if (!x)
                return rp_error_set(err, -ENOMEM, "out of memory");
        r = set_basics(x, ALIAS_OU, id, X509_get_subject_name(deviceid_cert), alias_pub);
        if (r >= 0)
                r = add_extensions(x, deviceid_cert, "critical,CA:FALSE", "critical,digitalSignature");
        if (r < 0)
                return rp_error_set(err, r, "cannot build the Alias certificate");
        r = add_tcbinfo(x, measurement, model, version, err);
        if (r < 0)
                return r;
        r = sign_external(x, deviceid_pub, signer, signer_ctx, ret, err);
        if (r < 0)
                return rp_error_prefix(err, r, "Alias certificate: ");
        return 0;
}
