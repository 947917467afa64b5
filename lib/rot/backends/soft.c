/* SPDX-License-Identifier: Apache-2.0 */
/* The soft root of trust: the unique device secret is a file (D/uds, 0600)
 * and every key is derived from it (dice.h). For development and CI only:
 * anyone who can read the file is the device. The counters live in
 * D/counters, written atomically; seal is AES-256-GCM under a key derived
 * from the CDI. Formats: docs/formats.md, "The soft root of trust". */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "core/crypto_internal.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rot/dice.h"
#include "rot/rot.h"

#define UDS_NAME "uds"
#define COUNTERS_NAME "counters"
#define COUNTERS_MAGIC "rampart-counters 1\n"
#define COUNTERS_FILE_MAX 1024
/* "sha256 " + 64 hex digits + "\n" */
#define COUNTERS_SUM_LEN (7 + 64 + 1)

#define SEAL_VERSION 1
#define SEAL_NONCE_LEN 12
#define SEAL_TAG_LEN 16
#define SEAL_OVERHEAD (1 + SEAL_NONCE_LEN + SEAL_TAG_LEN)

typedef struct soft_state {
        char *uds_path;
        char *counters_path;
        uint8_t uds[RP_DICE_SECRET_LEN];
        EVP_PKEY *deviceid;
        uint8_t device_id[RP_SHA256_LEN];   /* SHA-256 of the DeviceID SPKI */
        bool bound;                          /* bind_measurement was called */
        EVP_PKEY *alias;
        uint8_t seal_key[32];
} soft_state;

static char *path_in(const char *dir, const char *name) {
        char *p = NULL;
        return asprintf(&p, "%s/%s", dir, name) < 0 ? NULL : p;
}

/* ---- counters --------------------------------------------------------------
 *
 *   rampart-counters 1\n
 *   0 <value>\n ... 7 <value>\n        decimal, no leading zeros
 *   sha256 <64 lowercase hex>\n        SHA-256 of all the bytes above
 *
 * Exactly this text: a file that differs from what format_counters() makes
 * of its own numbers, or whose checksum does not match, is corrupt. */

static int format_counters(const uint64_t v[RP_ROT_COUNTERS], char *out, size_t size, size_t *ret_len) {
        size_t n = (size_t) snprintf(out, size, "%s", COUNTERS_MAGIC);
        for (unsigned i = 0; i < RP_ROT_COUNTERS; i++)
                n += (size_t) snprintf(out + n, size - n, "%u %" PRIu64 "\n", i, v[i]);
        uint8_t sum[RP_SHA256_LEN];
        int r = rp_sha256(out, n, sum);
        if (r < 0)
                return r;
        char hex[2 * RP_SHA256_LEN + 1];
        rp_hex_encode_buf(sum, sizeof sum, hex);
        n += (size_t) snprintf(out + n, size - n, "sha256 %s\n", hex);
        RP_INVARIANT(n < size);
        *ret_len = n;
        return 0;
}

/* Reads the counters. A missing or corrupt file is an error, never zeros:
 * reading it as 0 would let a rollback through. */
static int read_counters(const char *path, uint64_t ret[RP_ROT_COUNTERS], rp_error *err) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        int r = rp_read_file(path, COUNTERS_FILE_MAX, &buf, &len, err);
        if (r == -ENOENT)
                return rp_error_set(err, r, "%s: missing; the anti-rollback counters cannot be read (refusing to "
                                    "start them again from 0)", path);
        if (r == -EFBIG)
                return rp_error_prefix(err, -EBADMSG, "anti-rollback counters corrupt: ");
        if (r < 0)
                return r;
        const char *text = (const char *) buf, *p = text + strlen(COUNTERS_MAGIC);
        if (len < strlen(COUNTERS_MAGIC) + COUNTERS_SUM_LEN || memcmp(text, COUNTERS_MAGIC, strlen(COUNTERS_MAGIC)) != 0)
                return rp_error_set(err, -EBADMSG, "%s: corrupt: not a rampart counters file (format 1); refusing "
                                    "to read the anti-rollback counters", path);
        uint64_t v[RP_ROT_COUNTERS] = {};
        for (unsigned i = 0; i < RP_ROT_COUNTERS; i++) {
                /* Read loosely here; the comparison below is the strict check. */
                char *end;
                if (strtoul(p, &end, 10) != i || *end != ' ')
                        goto corrupt;
                p = end + 1;
                if (*p < '0' || *p > '9')
                        goto corrupt;
                errno = 0;
                v[i] = strtoull(p, &end, 10);
                if (errno != 0 || *end != '\n')
                        goto corrupt;
                p = end + 1;
        }
        char want[COUNTERS_FILE_MAX];
        size_t want_len;
        r = format_counters(v, want, sizeof want, &want_len);
        if (r < 0)
                return rp_error_set(err, r, "%s: SHA-256 failed", path);
        if (want_len != len || memcmp(want, text, len) != 0)
                goto corrupt;
        memcpy(ret, v, sizeof v);
        return 0;
corrupt:
        return rp_error_set(err, -EBADMSG, "%s: corrupt (bad syntax or checksum); refusing to read the "
                            "anti-rollback counters", path);
}

static int write_counters(const char *path, const uint64_t v[RP_ROT_COUNTERS], rp_error *err) {
        char text[COUNTERS_FILE_MAX];
        size_t len;
        int r = format_counters(v, text, sizeof text, &len);
        if (r < 0)
                return rp_error_set(err, r, "%s: SHA-256 failed", path);
        return rp_write_file_atomic(path, text, len, 0600, err);
}

/* ---- provisioning and opening ------------------------------------------- */

static int soft_provision(const rp_rot_config *cfg, rp_error *err) {
        const char *dir = cfg->state_dir;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "%s: cannot create the state directory", dir);
        _cleanup_free_ char *uds_path = path_in(dir, UDS_NAME), *conf_path = path_in(dir, "rot.conf"),
                            *counters_path = path_in(dir, COUNTERS_NAME);
        if (!uds_path || !conf_path || !counters_path)
                return rp_error_set(err, -ENOMEM, "out of memory");
        const char *marks[] = { conf_path, uds_path };
        for (size_t i = 0; i < ELEMENTSOF(marks); i++) {
                struct stat st;
                if (lstat(marks[i], &st) == 0)
                        return rp_error_set(err, -EEXIST, "%s: already provisioned (%s exists)", dir, marks[i]);
        }

        const uint64_t zero[RP_ROT_COUNTERS] = {};
        int r = write_counters(counters_path, zero, err);
        if (r < 0)
                return r;
        uint8_t uds[RP_DICE_SECRET_LEN];
        if (RAND_priv_bytes(uds, sizeof uds) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot make the device secret: no randomness");
        r = rp_write_file_atomic(uds_path, uds, sizeof uds, 0600, err);
        OPENSSL_cleanse(uds, sizeof uds);
        if (r < 0)
                return r;
        return rp_rot_write_conf(dir, "soft", NULL, err);
}

/* Reads D/uds: a regular file of 32 bytes, owned by this user, that no other
 * user may read or write. */
static int read_uds(const char *path, uint8_t ret[RP_DICE_SECRET_LEN], rp_error *err) {
        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, path, O_NOFOLLOW, &st, err);
        if (fd == -ENOENT)
                return rp_error_set(err, fd, "%s: missing: the soft backend's device secret is gone", path);
        if (fd < 0)
                return fd;
        if (st.st_mode & 077)
                return rp_error_set(err, -EPERM, "%s: mode %04o lets other users at the device secret; it must "
                                    "be 0600 (chmod 600 %s)", path, (unsigned) (st.st_mode & 07777), path);
        if (st.st_uid != geteuid())
                return rp_error_set(err, -EPERM, "%s: owned by uid %u, not by this user (uid %u)", path,
                                    (unsigned) st.st_uid, (unsigned) geteuid());
        if (st.st_size != RP_DICE_SECRET_LEN)
                return rp_error_set(err, -EBADMSG, "%s: %jd bytes; a device secret is %d bytes", path,
                                    (intmax_t) st.st_size, RP_DICE_SECRET_LEN);
        int r = rp_pread_all(fd, ret, RP_DICE_SECRET_LEN, 0);
        if (r < 0)
                return rp_error_set_errno(err, r, "%s: read failed", path);
        return 0;
}

static void soft_close(void *state) {
        soft_state *s = state;
        if (!s)
                return;
        /* OpenSSL clears the private scalars when it frees the keys. */
        EVP_PKEY_free(s->deviceid);
        EVP_PKEY_free(s->alias);
        free(s->uds_path);
        free(s->counters_path);
        OPENSSL_cleanse(s, sizeof *s);
        free(s);
}

static void soft_closep(soft_state **s) {
        soft_close(*s);
}

static int soft_open(const rp_rot_config *cfg, void **ret_state, rp_error *err) {
        _cleanup_(soft_closep) soft_state *s = calloc(1, sizeof *s);
        if (!s)
                return rp_error_set(err, -ENOMEM, "out of memory");
        s->uds_path = path_in(cfg->state_dir, UDS_NAME);
        s->counters_path = path_in(cfg->state_dir, COUNTERS_NAME);
        if (!s->uds_path || !s->counters_path)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = read_uds(s->uds_path, s->uds, err);
        if (r < 0)
                return r;
        r = rp_dice_derive_p256(s->uds, "rampart DeviceID", &s->deviceid, err);
        if (r < 0)
                return r;
        _cleanup_(openssl_freep) unsigned char *spki = NULL;
        int n = i2d_PUBKEY(s->deviceid, &spki);
        if (n <= 0)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot encode the DeviceID public key");
        r = rp_sha256(spki, (size_t) n, s->device_id);
        if (r < 0)
                return rp_error_set(err, r, "SHA-256 failed");
        /* A corrupt or missing counters file stops the backend here, loudly. */
        uint64_t v[RP_ROT_COUNTERS];
        r = read_counters(s->counters_path, v, err);
        if (r < 0)
                return r;
        *ret_state = TAKE_PTR(s);
        return 0;
}

/* ---- keys ------------------------------------------------------------------ */

/* A new key holding only the public half of key. */
static int public_copy(EVP_PKEY *key, EVP_PKEY **ret, rp_error *err) {
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        int n = i2d_PUBKEY(key, &der);
        if (n <= 0)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot encode the public key");
        const unsigned char *p = der;
        EVP_PKEY *pub = d2i_PUBKEY(NULL, &p, n);
        if (!pub)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot copy the public key");
        *ret = pub;
        return 0;
}

static int soft_deviceid_public(void *state, EVP_PKEY **ret, rp_error *err) {
        soft_state *s = state;
        return public_copy(s->deviceid, ret, err);
}

static int soft_deviceid_sign(void *state, const uint8_t digest[RP_ROT_DIGEST_LEN],
                              uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err) {
        soft_state *s = state;
        return rp_dice_sign_digest(s->deviceid, digest, ret_sig, err);
}

static int soft_bind_measurement(void *state, const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                                 rp_error *err) {
        soft_state *s = state;
        uint8_t cdi[RP_DICE_SECRET_LEN], seal_key[32];
        EVP_PKEY *alias = NULL;
        int r = rp_dice_cdi(s->uds, measurement, cdi);
        if (r < 0) {
                r = rp_error_set(err, r, "cannot compute the CDI");
                goto out;
        }
        r = rp_dice_derive_p256(cdi, "rampart Alias", &alias, err);
        if (r < 0)
                goto out;
        r = rp_dice_seal_key(cdi, seal_key);
        if (r < 0) {
                EVP_PKEY_free(alias);
                r = rp_error_set(err, r, "cannot derive the seal key");
                goto out;
        }
        EVP_PKEY_free(s->alias);
        s->alias = alias;
        memcpy(s->seal_key, seal_key, sizeof seal_key);
        s->bound = true;
out:
        OPENSSL_cleanse(cdi, sizeof cdi);
        OPENSSL_cleanse(seal_key, sizeof seal_key);
        return r;
}

static int need_bound(const soft_state *s, const char *what, rp_error *err) {
        if (!s->bound)
                return rp_error_set(err, -EPERM, "%s: no measurement bound yet (bind_measurement first)", what);
        return 0;
}

static int soft_alias_public(void *state, EVP_PKEY **ret, rp_error *err) {
        soft_state *s = state;
        int r = need_bound(s, "Alias key", err);
        return r < 0 ? r : public_copy(s->alias, ret, err);
}

static int soft_alias_sign(void *state, const uint8_t digest[RP_ROT_DIGEST_LEN],
                           uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err) {
        soft_state *s = state;
        int r = need_bound(s, "Alias key", err);
        return r < 0 ? r : rp_dice_sign_digest(s->alias, digest, ret_sig, err);
}

/* ---- counters -------------------------------------------------------------- */

static int soft_counter_read(void *state, unsigned index, uint64_t *ret, rp_error *err) {
        soft_state *s = state;
        if (index >= RP_ROT_COUNTERS)
                return rp_error_set(err, -EINVAL, "counter %u does not exist (0 to %d)", index,
                                    RP_ROT_COUNTERS - 1);
        uint64_t v[RP_ROT_COUNTERS];
        int r = read_counters(s->counters_path, v, err);
        if (r < 0)
                return r;
        *ret = v[index];
        return 0;
}

/* Read, check, write: one process (secmon) uses a state directory, and it
 * handles one request at a time. The file is read every time, so what is
 * reported is what is on disk, also after a failed write. */
static int soft_counter_advance(void *state, unsigned index, uint64_t value, uint64_t *ret, rp_error *err) {
        soft_state *s = state;
        if (index >= RP_ROT_COUNTERS)
                return rp_error_set(err, -EINVAL, "counter %u does not exist (0 to %d)", index,
                                    RP_ROT_COUNTERS - 1);
        uint64_t v[RP_ROT_COUNTERS];
        int r = read_counters(s->counters_path, v, err);
        if (r < 0)
                return r;
        if (value < v[index])
                return rp_error_set(err, -ERANGE, "counter %u is at %" PRIu64 "; going to %" PRIu64 " would be a "
                                    "rollback", index, v[index], value);
        if (value > v[index]) {
                v[index] = value;
                r = write_counters(s->counters_path, v, err);
                if (r < 0)
                        return r;
        }
        *ret = value;
        return 0;
}

/* ---- sealing --------------------------------------------------------------
 *
 * blob = version (1) || nonce (12, random) || ciphertext || tag (16)
 * AES-256-GCM under the seal key, AAD = version || device id (32 bytes). */

static int soft_seal(void *state, const void *data, size_t len, uint8_t **ret_blob, size_t *ret_len,
                     rp_error *err) {
        soft_state *s = state;
        int r = need_bound(s, "seal", err);
        if (r < 0)
                return r;
        if (len > RP_ROT_SEAL_MAX)
                return rp_error_set(err, -EFBIG, "seal: %zu bytes, the limit is %d", len, RP_ROT_SEAL_MAX);
        _cleanup_free_ uint8_t *blob = malloc(SEAL_OVERHEAD + len);
        if (!blob)
                return rp_error_set(err, -ENOMEM, "out of memory");
        blob[0] = SEAL_VERSION;
        if (RAND_bytes(blob + 1, SEAL_NONCE_LEN) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "seal: no randomness for the nonce");
        uint8_t aad[1 + RP_SHA256_LEN];
        aad[0] = SEAL_VERSION;
        memcpy(aad + 1, s->device_id, RP_SHA256_LEN);

        _cleanup_(evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        uint8_t *ct = blob + 1 + SEAL_NONCE_LEN;
        int n = 0, fin = 0;
        if (!ctx || EVP_EncryptInit_ex2(ctx, EVP_aes_256_gcm(), s->seal_key, blob + 1, NULL) != 1 ||
            EVP_EncryptUpdate(ctx, NULL, &n, aad, sizeof aad) != 1 ||
            (len > 0 && EVP_EncryptUpdate(ctx, ct, &n, data, (int) len) != 1) ||
            EVP_EncryptFinal_ex(ctx, ct + (len > 0 ? n : 0), &fin) != 1 ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SEAL_TAG_LEN, ct + len) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "seal: AES-256-GCM failed");
        *ret_blob = TAKE_PTR(blob);
        *ret_len = SEAL_OVERHEAD + len;
        return 0;
}

static int soft_unseal(void *state, const void *blob_in, size_t len, uint8_t **ret_data, size_t *ret_len,
                       rp_error *err) {
        soft_state *s = state;
        const uint8_t *blob = blob_in;
        int r = need_bound(s, "unseal", err);
        if (r < 0)
                return r;
        if (len > RP_ROT_SEALED_MAX)
                return rp_error_set(err, -EFBIG, "unseal: %zu bytes, the limit is %d", len, RP_ROT_SEALED_MAX);
        if (len < SEAL_OVERHEAD)
                return rp_error_set(err, -EBADMSG, "unseal: %zu bytes, shorter than any sealed blob (%d)", len,
                                    SEAL_OVERHEAD);
        if (blob[0] != SEAL_VERSION)
                return rp_error_set(err, -EOPNOTSUPP, "unseal: blob version %u, this backend knows %d", blob[0],
                                    SEAL_VERSION);
        size_t ct_len = len - SEAL_OVERHEAD;
        const uint8_t *ct = blob + 1 + SEAL_NONCE_LEN;
        uint8_t aad[1 + RP_SHA256_LEN];
        aad[0] = SEAL_VERSION;
        memcpy(aad + 1, s->device_id, RP_SHA256_LEN);

        uint8_t *out = malloc(ct_len ? ct_len : 1);
        if (!out)
                return rp_error_set(err, -ENOMEM, "out of memory");
        ERR_clear_error();   /* so that a wrong tag is told from a failure below */
        _cleanup_(evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n = 0, fin = 0;
        if (!ctx || EVP_DecryptInit_ex2(ctx, EVP_aes_256_gcm(), s->seal_key, blob + 1, NULL) != 1 ||
            EVP_DecryptUpdate(ctx, NULL, &n, aad, sizeof aad) != 1 ||
            (ct_len > 0 && EVP_DecryptUpdate(ctx, out, &n, ct, (int) ct_len) != 1) ||
            EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SEAL_TAG_LEN, (void *) (ct + ct_len)) != 1) {
                free(out);
                return rp_error_set(err, rp_openssl_failure(-EIO), "unseal: AES-256-GCM failed");
        }
        if (EVP_DecryptFinal_ex(ctx, out + (ct_len > 0 ? n : 0), &fin) != 1) {
                OPENSSL_cleanse(out, ct_len);
                free(out);
                /* A wrong tag queues nothing; anything queued is a failure. */
                if (ERR_peek_error() != 0)
                        return rp_error_set(err, rp_openssl_failure(-EIO), "unseal: AES-256-GCM failed");
                return rp_error_set(err, -EKEYREJECTED, "unseal: the blob does not open: sealed for another "
                                    "device or another measurement, or altered");
        }
        *ret_data = out;
        *ret_len = ct_len;
        return 0;
}

const rp_rot_backend rp_rot_backend_soft = {
        .name = "soft",
        .development = true,
        .provision = soft_provision,
        .open = soft_open,
        .close = soft_close,
        .deviceid_public = soft_deviceid_public,
        .deviceid_sign = soft_deviceid_sign,
        .bind_measurement = soft_bind_measurement,
        .alias_public = soft_alias_public,
        .alias_sign = soft_alias_sign,
        .counter_read = soft_counter_read,
        .counter_advance = soft_counter_advance,
        .seal = soft_seal,
        .unseal = soft_unseal,
};
