/* SPDX-License-Identifier: Apache-2.0 */
/* Factory provisioning (factory.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "rot/factory.h"

/* No CA certificate or key file is near this. */
#define CA_FILE_MAX (64 * 1024)

/* The manufacturer CA: its certificate (and the file's bytes, to copy),
 * and its private key. */
typedef struct factory_ca {
        X509 *cert;
        EVP_PKEY *key;
        uint8_t *pem;
        size_t pem_len;
} factory_ca;

static void factory_ca_done(factory_ca *ca) {
        X509_free(ca->cert);
        EVP_PKEY_free(ca->key);
        free(ca->pem);
}

static int load_ca_cert(const char *path, factory_ca *ca, rp_error *err) {
        int r = rp_read_file(path, CA_FILE_MAX, &ca->pem, &ca->pem_len, err);
        if (r < 0)
                return r;
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(ca->pem, (int) ca->pem_len);
        if (!bio)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_(x509_freep) X509 *cert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
        if (!cert) {
                ERR_clear_error();
                return rp_error_set(err, -EINVAL, "%s: not a PEM certificate", path);
        }
        if (X509_check_ca(cert) != 1)
                return rp_error_set(err, -EINVAL, "%s: not a CA certificate (no CA:TRUE with keyCertSign)", path);
        ca->cert = TAKE_PTR(cert);
        return 0;
}

static int load_ca_key(const char *path, factory_ca *ca, rp_error *err) {
        uint8_t *text = NULL;
        size_t len;
        int r = rp_read_file(path, CA_FILE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        BIO *bio = BIO_new_mem_buf(text, (int) len);
        EVP_PKEY *key = bio ? PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        OPENSSL_cleanse(text, len);
        free(text);
        if (!key) {
                ERR_clear_error();
                return rp_error_set(err, -EINVAL, "%s: not an unencrypted PEM private key", path);
        }
        ca->key = key;
        if (X509_check_private_key(ca->cert, key) != 1) {
                ERR_clear_error();
                return rp_error_set(err, -EINVAL, "%s: not the key of the CA certificate beside it", path);
        }
        return 0;
}

static int load_ca(const char *ca_dir, factory_ca *ca, rp_error *err) {
        _cleanup_free_ char *cert_path = NULL, *key_path = NULL;
        if (asprintf(&cert_path, "%s/ca.pem", ca_dir) < 0 || asprintf(&key_path, "%s/ca.key", ca_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = load_ca_cert(cert_path, ca, err);
        if (r < 0)
                return rp_error_prefix(err, r, "manufacturer CA: ");
        r = load_ca_key(key_path, ca, err);
        if (r < 0)
                return rp_error_prefix(err, r, "manufacturer CA: ");
        return 0;
}

static int write_cert_pem(const char *path, X509 *cert, rp_error *err) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
        if (!bio || PEM_write_bio_X509(bio, cert) != 1)
                return rp_error_set(err, -ENOMEM, "%s: cannot encode the certificate", path);
        char *data = NULL;
        long len = BIO_get_mem_data(bio, &data);
        return rp_write_file_atomic(path, data, (size_t) len, 0644, err);
}

/* Issues and writes the DeviceID certificate of the opened backend. */
static int issue(const rp_rot_backend *backend, void *state, const factory_ca *ca, const char *dir,
                 char ret_device_id[RP_DEVICE_ID_HEX_LEN + 1], rp_error *err) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *pub = NULL;
        int r = backend->deviceid_public(state, &pub, err);
        if (r < 0)
                return r;
        _cleanup_(x509_freep) X509 *cert = NULL;
        r = rp_cert_deviceid_issue(ca->cert, ca->key, pub, &cert, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *cert_path = NULL, *ca_path = NULL;
        if (asprintf(&cert_path, "%s/deviceid.pem", dir) < 0 || asprintf(&ca_path, "%s/ca.pem", dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        r = write_cert_pem(cert_path, cert, err);
        if (r < 0)
                return r;
        r = rp_write_file_atomic(ca_path, ca->pem, ca->pem_len, 0644, err);
        if (r < 0)
                return r;
        r = rp_device_id(pub, ret_device_id);
        if (r < 0)
                return rp_error_set(err, r, "cannot compute the device id");
        return 0;
}

int rp_factory_provision(const rp_rot_backend *backend, const rp_rot_config *cfg, const char *ca_dir,
                         char ret_device_id[RP_DEVICE_ID_HEX_LEN + 1], rp_error *err) {
        /* Everything that can be checked is checked before the device secret
         * is made: the CA, and that the device holds no certificate yet. */
        _cleanup_(factory_ca_done) factory_ca ca = {};
        int r = load_ca(ca_dir, &ca, err);
        if (r < 0)
                return r;
        _cleanup_free_ char *deviceid_path = NULL;
        if (asprintf(&deviceid_path, "%s/deviceid.pem", cfg->state_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        struct stat st;
        if (lstat(deviceid_path, &st) == 0)
                return rp_error_set(err, -EEXIST, "%s: already provisioned (%s exists)", cfg->state_dir,
                                    deviceid_path);

        r = backend->provision(cfg, err);
        if (r < 0)
                return r;
        void *state = NULL;
        r = backend->open(cfg, &state, err);
        if (r < 0)
                return rp_error_prefix(err, r, "%s: provisioned, but the backend does not open: ",
                                       cfg->state_dir);
        char id[RP_DEVICE_ID_HEX_LEN + 1];
        r = issue(backend, state, &ca, cfg->state_dir, id, err);
        backend->close(state);
        if (r < 0)
                return rp_error_prefix(err, r, "%s: the device secret was made, but the DeviceID certificate "
                                       "was not: ", cfg->state_dir);
        memcpy(ret_device_id, id, sizeof id);
        return 0;
}
