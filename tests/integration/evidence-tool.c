/* SPDX-License-Identifier: Apache-2.0 */
/* A test-only helper for integration/evidence-cli: makes a manufacturer CA
 * and evidence the way a device does (soft DICE derivation from a unique
 * device secret, cert.h's certificates, measure.c's measurement of real
 * files, rp_evidence_create), until rampart-secmon writes it for real.
 *
 *   evidence-tool ca DIR
 *       writes DIR/ca.pem and DIR/ca.key (rp_cert_ca_create)
 *   evidence-tool make CA_DIR UDS_BYTE BACKEND NONCE_HEX OUT_DIR NAME=FILE...
 *       a device provisioned by CA_DIR, UDS = 32 bytes of UDS_BYTE, which
 *       measures the FILEs (version "1.0") and attests for NONCE_HEX:
 *       writes OUT_DIR/evidence.cbor, alias.pem, deviceid.pem and
 *       device-id (its id, a line of hex) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "evidence-fixtures.h"
#include "rot/measure.h"

static int usage(void) {
        fprintf(stderr, "usage: evidence-tool ca DIR\n"
                        "       evidence-tool make CA_DIR UDS_BYTE BACKEND NONCE_HEX OUT_DIR NAME=FILE...\n");
        return 2;
}

static int fail(const rp_error *err, int r) {
        fprintf(stderr, "evidence-tool: %s\n", rp_error_message(err, r));
        return 1;
}

static int write_file(const char *dir, const char *name, const void *data, size_t len, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return rp_write_file_atomic(path, data, len, 0644, err);
}

static int write_pem(const char *dir, const char *name, X509 *cert, rp_error *err) {
        BIO *bio = BIO_new(BIO_s_mem());
        char *data;
        long n;
        if (!bio || PEM_write_bio_X509(bio, cert) != 1 || (n = BIO_get_mem_data(bio, &data)) <= 0) {
                BIO_free(bio);
                return rp_error_set(err, -ENOMEM, "cannot encode %s", name);
        }
        int r = write_file(dir, name, data, (size_t) n, err);
        BIO_free(bio);
        return r;
}

/* The FILEs of NAME=FILE arguments, measured. */
static int measure(char **args, size_t n, rp_measurement **ret, rp_error *err) {
        rp_measure_spec specs[RP_MEASURE_MAX_COMPONENTS];
        if (n == 0 || n > RP_MEASURE_MAX_COMPONENTS)
                return rp_error_set(err, -EINVAL, "1 to %d NAME=FILE arguments", RP_MEASURE_MAX_COMPONENTS);
        for (size_t i = 0; i < n; i++) {
                char *eq = strchr(args[i], '=');
                if (!eq)
                        return rp_error_set(err, -EINVAL, "'%s' is not NAME=FILE", args[i]);
                *eq = '\0';
                specs[i] = (rp_measure_spec) { .name = args[i], .version = "1.0", .path = eq + 1 };
        }
        return rp_measure(specs, n, ret, err);
}

static int make(char **argv, size_t n_files) {
        const char *ca_dir = argv[0], *backend = argv[2], *nonce_hex = argv[3], *out = argv[4];
        uint8_t nonce[64];
        size_t nonce_len = strlen(nonce_hex) / 2;
        rp_error err = {};
        if (nonce_len > sizeof nonce || rp_hex_decode(nonce_hex, nonce, nonce_len) < 0)
                return usage();
        _cleanup_(ev_ca_done) ev_ca ca = {};
        _cleanup_(rp_measurement_freep) rp_measurement *m = NULL;
        _cleanup_(ev_device_done) ev_device d = {};
        _cleanup_free_ uint8_t *ev = NULL;
        size_t ev_len;
        int r = ev_ca_load(ca_dir, &ca, &err);
        if (r >= 0)
                r = measure(argv + 5, n_files, &m, &err);
        if (r >= 0)
                r = ev_device_measured(&ca, (uint8_t) strtoul(argv[1], NULL, 0), backend, m->components,
                                       m->components_len, &d, &err);
        if (r >= 0)
                r = ev_evidence(&d, nonce, nonce_len, &ev, &ev_len, &err);
        if (r >= 0)
                r = write_file(out, "evidence.cbor", ev, ev_len, &err);
        if (r >= 0)
                r = write_pem(out, "alias.pem", d.alias_cert, &err);
        if (r >= 0)
                r = write_pem(out, "deviceid.pem", d.deviceid_cert, &err);
        char line[66];
        snprintf(line, sizeof line, "%s\n", d.device_id);
        if (r >= 0)
                r = write_file(out, "device-id", line, strlen(line), &err);
        return r < 0 ? fail(&err, r) : 0;
}

int main(int argc, char **argv) {
        if (argc == 3 && strcmp(argv[1], "ca") == 0) {
                _cleanup_(ev_ca_done) ev_ca ca = {};
                rp_error err = {};
                int r = ev_ca_new(argv[2], &ca, &err);
                return r < 0 ? fail(&err, r) : 0;
        }
        if (argc >= 8 && strcmp(argv[1], "make") == 0)
                return make(argv + 2, (size_t) argc - 7);
        return usage();
}
