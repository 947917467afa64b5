/* SPDX-License-Identifier: Apache-2.0 */
/* Start-up identity: open the root of trust, measure the software, bind the
 * measurement (which derives the Alias key), and issue the Alias certificate
 * with the DeviceID key, which never leaves the backend. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "secmon.h"

#define CERT_FILE_MAX (64 * 1024)

static void pkey_freep(EVP_PKEY **k) {
        EVP_PKEY_free(*k);
}

/* The first certificate in the PEM file D/name. */
static int load_cert(const char *dir, const char *name, X509 **ret, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *text = NULL;
        size_t len;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = rp_read_file(path, CERT_FILE_MAX, &text, &len, err);
        if (r < 0)
                return r;
        BIO *bio = BIO_new_mem_buf(text, (int) len);
        X509 *cert = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        if (!cert)
                return rp_error_set(err, -EINVAL, "%s: not a PEM certificate", path);
        *ret = cert;
        return 0;
}

static int der(X509 *cert, uint8_t **ret, size_t *ret_len, rp_error *err) {
        unsigned char *p = NULL;
        int n = i2d_X509(cert, &p);
        if (n <= 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = p;
        *ret_len = (size_t) n;
        return 0;
}

int secmon_device_open(const secmon_config *cfg, secmon_device *d, rp_error *err) {
        rp_rot_config rc = { .state_dir = cfg->state_dir, .tpm = cfg->tpm };
        int r = rp_rot_open(&rc, &d->rot, err);
        if (r < 0)
                return r;
        const rp_rot_backend *b = d->rot->backend;
        void *st = d->rot->state;
        r = rp_measure(cfg->s.measure, cfg->s.n_measure, &d->measurement, err);
        if (r >= 0)
                r = b->bind_measurement(st, d->measurement->value, err);
        if (r < 0)
                return r;

        /* The DeviceID certificate must certify this device's key, and come
         * from the CA next to it: a state directory copied from another
         * device, or a mixed-up file, stops here. */
        _cleanup_(x509_freep) X509 *deviceid = NULL, *ca = NULL, *alias = NULL;
        _cleanup_(pkey_freep) EVP_PKEY *id_pub = NULL, *alias_pub = NULL;
        r = load_cert(cfg->state_dir, "deviceid.pem", &deviceid, err);
        if (r >= 0)
                r = load_cert(cfg->state_dir, "ca.pem", &ca, err);
        if (r >= 0)
                r = b->deviceid_public(st, &id_pub, err);
        if (r < 0)
                return r;
        if (EVP_PKEY_eq(X509_get0_pubkey(deviceid), id_pub) != 1)
                return rp_error_set(err, -EKEYREJECTED, "%s/deviceid.pem certifies another key than this "
                                    "device's DeviceID key", cfg->state_dir);
        if (X509_verify(deviceid, X509_get0_pubkey(ca)) != 1)
                return rp_error_set(err, -EKEYREJECTED, "%s/deviceid.pem is not signed by %s/ca.pem",
                                    cfg->state_dir, cfg->state_dir);
        r = rp_device_id(id_pub, d->device_id);
        if (r < 0)
                return rp_error_set(err, r, "the device id: out of memory");

        r = b->alias_public(st, &alias_pub, err);
        if (r >= 0)
                r = rp_cert_alias_issue(deviceid, alias_pub, d->measurement->value, b->name, cfg->sw_version,
                                        b->deviceid_sign, st, &alias, err);
        X509 *chain[3] = { alias, deviceid, ca };
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(chain); i++)
                r = der(chain[i], &d->der[i], &d->der_len[i], err);
        return r;
}

void secmon_device_close(secmon_device *d) {
        for (size_t i = 0; i < ELEMENTSOF(d->der); i++)
                OPENSSL_free(d->der[i]);
        if (d->measurement)
                rp_measurement_free(d->measurement);
        if (d->rot)
                rp_rot_close(d->rot);
        *d = (secmon_device) {};
}
