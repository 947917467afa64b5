/* SPDX-License-Identifier: Apache-2.0 */
/* Devices for the evidence tests: see evidence-fixtures.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "evidence-fixtures.h"
#include "rampart/crypto.h"
#include "rot/cert.h"
#include "rot/dice.h"
#include "rot/evidence_create.h"

#define PEM_MAX (64 * 1024)

static void bio_freep(BIO **p) {
        BIO_free(*p);
}

void ev_ca_done(ev_ca *ca) {
        X509_free(ca->cert);
        EVP_PKEY_free(ca->key);
        free(ca->pem);
        *ca = (ev_ca) {};
}

int ev_ca_new(const char *dir, ev_ca *ret, rp_error *err) {
        int r = rp_cert_ca_create(dir, "Evidence Test Manufacturer CA", err);
        if (r < 0)
                return r;
        return ev_ca_load(dir, ret, err);
}

int ev_ca_load(const char *dir, ev_ca *ret, rp_error *err) {
        int r;
        _cleanup_free_ char *cert_path = NULL, *key_path = NULL;
        if (asprintf(&cert_path, "%s/ca.pem", dir) < 0 || asprintf(&key_path, "%s/ca.key", dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ uint8_t *pem = NULL, *key_pem = NULL;
        size_t pem_len, key_len;
        r = rp_read_file(cert_path, PEM_MAX, &pem, &pem_len, err);
        if (r >= 0)
                r = rp_read_file(key_path, PEM_MAX, &key_pem, &key_len, err);
        if (r < 0)
                return r;
        _cleanup_(bio_freep) BIO *cb = BIO_new_mem_buf(pem, (int) pem_len);
        _cleanup_(bio_freep) BIO *kb = BIO_new_mem_buf(key_pem, (int) key_len);
        ev_ca ca = {
                .cert = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL,
                .key = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL,
                .pem = (char *) TAKE_PTR(pem),
                .pem_len = pem_len,
        };
        if (!ca.cert || !ca.key) {
                ev_ca_done(&ca);
                return rp_error_set(err, -EIO, "%s: cannot load the CA", dir);
        }
        *ret = ca;
        return 0;
}

/* CBOR heads, written here (not with lib/core's writer). */
static size_t head(uint8_t *out, unsigned major, uint64_t v) {
        if (v < 24) {
                out[0] = (uint8_t) (major << 5 | v);
                return 1;
        }
        if (v < 0x100) {
                out[0] = (uint8_t) (major << 5 | 24);
                out[1] = (uint8_t) v;
                return 2;
        }
        out[0] = (uint8_t) (major << 5 | 25);
        out[1] = (uint8_t) (v >> 8);
        out[2] = (uint8_t) v;
        return 3;
}

int ev_components(const ev_component *c, size_t n, uint8_t **ret, size_t *ret_len) {
        size_t cap = 3;
        for (size_t i = 0; i < n; i++)
                cap += 1 + 3 + strlen(c[i].name) + 3 + strlen(c[i].version) + 2 + 32;
        uint8_t *buf = malloc(cap), *p = buf;
        if (!buf)
                return -ENOMEM;
        p += head(p, 4, n);
        for (size_t i = 0; i < n; i++) {
                p += head(p, 4, 3);
                const char *texts[] = { c[i].name, c[i].version };
                for (size_t t = 0; t < 2; t++) {
                        p += head(p, 3, strlen(texts[t]));
                        memcpy(p, texts[t], strlen(texts[t]));
                        p += strlen(texts[t]);
                }
                p += head(p, 2, 32);
                if (rp_sha256(c[i].content, c[i].len, p) < 0) {
                        free(buf);
                        return -ENOMEM;
                }
                p += 32;
        }
        *ret = buf;
        *ret_len = (size_t) (p - buf);
        return 0;
}

int ev_sign_digest(void *ctx, const uint8_t digest[32], uint8_t ret_sig[64], rp_error *err) {
        return rp_dice_sign_digest(ctx, digest, ret_sig, err);
}

int ev_der(X509 *cert, uint8_t **ret, size_t *ret_len) {
        unsigned char *der = NULL;
        int n = i2d_X509(cert, &der);
        if (n <= 0)
                return -ENOMEM;
        uint8_t *copy = malloc((size_t) n);
        if (copy)
                memcpy(copy, der, (size_t) n);
        OPENSSL_free(der);
        if (!copy)
                return -ENOMEM;
        *ret = copy;
        *ret_len = (size_t) n;
        return 0;
}

void ev_device_done(ev_device *d) {
        EVP_PKEY_free(d->deviceid_key);
        X509_free(d->deviceid_cert);
        free(d->components);
        EVP_PKEY_free(d->alias_key);
        X509_free(d->alias_cert);
        *d = (ev_device) {};
}

int ev_device_new(const ev_ca *ca, uint8_t uds_byte, const char *backend, const ev_component *c, size_t n,
                  ev_device *ret, rp_error *err) {
        _cleanup_free_ uint8_t *list = NULL;
        size_t len;
        if (ev_components(c, n, &list, &len) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return ev_device_measured(ca, uds_byte, backend, list, len, ret, err);
}

int ev_device_measured(const ev_ca *ca, uint8_t uds_byte, const char *backend, const uint8_t *components,
                       size_t components_len, ev_device *ret, rp_error *err) {
        ev_device d = { .components = malloc(components_len), .components_len = components_len };
        if (!d.components)
                return rp_error_set(err, -ENOMEM, "out of memory");
        memcpy(d.components, components, components_len);
        memset(d.uds, uds_byte, sizeof d.uds);
        snprintf(d.backend, sizeof d.backend, "%s", backend);
        uint8_t cdi[RP_DICE_SECRET_LEN];
        int r = rp_dice_derive_p256(d.uds, "rampart DeviceID", &d.deviceid_key, err);
        if (r >= 0)
                r = rp_cert_deviceid_issue(ca->cert, ca->key, d.deviceid_key, &d.deviceid_cert, err);
        if (r >= 0)
                r = rp_device_id(d.deviceid_key, d.device_id);
        if (r >= 0)
                r = rp_sha256(d.components, d.components_len, d.measurement);
        if (r >= 0)
                r = rp_dice_cdi(d.uds, d.measurement, cdi);
        if (r >= 0)
                r = rp_dice_derive_p256(cdi, "rampart Alias", &d.alias_key, err);
        if (r >= 0)
                r = rp_cert_alias_issue(d.deviceid_cert, d.alias_key, d.measurement, backend, "0.1.0",
                                        ev_sign_digest, d.deviceid_key, &d.alias_cert, err);
        if (r < 0) {
                ev_device_done(&d);
                return rp_error_prefix(err, r, "test device: ");
        }
        *ret = d;
        return 0;
}

int ev_evidence(const ev_device *d, const uint8_t *nonce, size_t nonce_len, uint8_t **ret, size_t *ret_len,
                rp_error *err) {
        _cleanup_free_ uint8_t *alias = NULL, *deviceid = NULL;
        size_t alias_len, deviceid_len;
        if (ev_der(d->alias_cert, &alias, &alias_len) < 0 || ev_der(d->deviceid_cert, &deviceid, &deviceid_len) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        const rp_evidence_input in = {
                .nonce = nonce,
                .nonce_len = nonce_len,
                .device_id = d->device_id,
                .components = d->components,
                .components_len = d->components_len,
                .sw_name = "rampart",
                .sw_version = "0.1.0",
                .dbgstat = 2,
                .iat = 1767225600,   /* 2026-01-01 */
                .rot_backend = d->backend,
                .development = strcmp(d->backend, "soft") == 0,
                .alias_der = alias,
                .alias_der_len = alias_len,
                .deviceid_der = deviceid,
                .deviceid_der_len = deviceid_len,
        };
        return rp_evidence_create(&in, ev_sign_digest, d->alias_key, ret, ret_len, err);
}
