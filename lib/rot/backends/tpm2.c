/* SPDX-License-Identifier: Apache-2.0 */
/* The TPM 2.0 root of trust, through tpm2-tss ESYS. Every key lives in the
 * TPM and never leaves it:
 *
 *   DeviceID   an ECC P-256 signing primary of the owner hierarchy, made
 *              from a fixed template and kept at a persistent handle
 *   Alias      the same kind of primary, its template's unique field made
 *              from the measurement: same software, same key; kept transient
 *   counters   TPM NV counters, and beside each its start value, written
 *              once and write-locked
 *   sealing    a random AES-256-GCM key sealed in a TPM object under a
 *              storage primary made from the measurement
 *
 * Why these choices, and what they do not protect against: docs/security.md
 * ("Root of trust: the tpm2 backend"). Handles and labels: tpm2.h. The
 * sealed blob: docs/formats.md ("Sealed blob (tpm2)"). */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/rand.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "rampart/crypto.h"
#include "rot/backends/tpm2.h"
#include "rot/dice.h"
#include "rot/rot.h"

#define P256_LEN 32
#define SEAL_KEY_LEN 32

/* Attributes of rampart's TPM objects: none may leave the TPM (fixedTPM,
 * fixedParent), their secrets come from the TPM (sensitiveDataOrigin; not
 * for the sealed object, whose secret we give), they are used with their
 * (empty) authValue, and none takes part in dictionary-attack lockout (a
 * non-orderly shutdown must not lock the device out of its own keys). */
#define ATTRS_COMMON (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_USERWITHAUTH | \
                      TPMA_OBJECT_NODA)
#define ATTRS_SIGN (ATTRS_COMMON | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_SIGN_ENCRYPT)
#define ATTRS_STORAGE (ATTRS_COMMON | TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_RESTRICTED | \
                       TPMA_OBJECT_DECRYPT)
#define ATTRS_SEALED ATTRS_COMMON

/* NV attributes: written with owner authorization, readable with the
 * owner's or the index's (empty) authorization, outside lockout. */
#define NV_COMMON (TPMA_NV_OWNERWRITE | TPMA_NV_OWNERREAD | TPMA_NV_AUTHREAD | TPMA_NV_NO_DA)
#define NV_COUNTER_ATTRS (NV_COMMON | (TPM2_NT_COUNTER << TPMA_NV_TPM2_NT_SHIFT))
#define NV_START_ATTRS (NV_COMMON | TPMA_NV_WRITEDEFINE | (TPM2_NT_ORDINARY << TPMA_NV_TPM2_NT_SHIFT))
/* Attributes the TPM sets as an index is used. */
#define NV_STATE_ATTRS (TPMA_NV_WRITTEN | TPMA_NV_WRITELOCKED | TPMA_NV_READLOCKED)

typedef struct tpm2_point {
        uint8_t x[P256_LEN];
        uint8_t y[P256_LEN];
} tpm2_point;

typedef struct tpm2_state {
        TSS2_TCTI_CONTEXT *tcti;
        ESYS_CONTEXT *esys;
        char *tcti_conf;
        ESYS_TR deviceid;                  /* the persistent DeviceID key */
        tpm2_point deviceid_point;
        ESYS_TR alias;                     /* transient; ESYS_TR_NONE until bound */
        tpm2_point alias_point;
        uint8_t measurement[RP_ROT_MEASUREMENT_LEN];
} tpm2_state;

static void esys_freep(void *p) {
        Esys_Free(*(void **) p);
}
#define _cleanup_esys_ _cleanup_(esys_freep)

/* The response code without the handle, session or parameter number a
 * format-one TPM code carries. */
static TSS2_RC tpm_rc_base(TSS2_RC rc) {
        if ((rc & TSS2_RC_LAYER_MASK) != TSS2_TPM_RC_LAYER)
                return rc;
        if (rc & TPM2_RC_FMT1)
                return rc & (TPM2_RC_FMT1 | 0x3f);
        return rc & 0xfff;
}

/* The errno for a TSS2 failure: our memory and the TPM's space are told
 * apart from the rest, which is trouble talking to the TPM. */
static int tss2_errno(TSS2_RC rc) {
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER) {
                switch (tpm_rc_base(rc)) {
                case TPM2_RC_NV_SPACE:
                case TPM2_RC_OBJECT_MEMORY:
                case TPM2_RC_SESSION_MEMORY:
                case TPM2_RC_MEMORY:
                        return -ENOSPC;
                default:
                        return -EIO;
                }
        }
        if ((rc & 0xffff) == TSS2_BASE_RC_MEMORY)
                return -ENOMEM;
        return -EIO;
}

/* Sets err to "TPM: <what>: <tpm2-tss's text for rc>". */
static int tpm_fail(rp_error *err, TSS2_RC rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int tpm_fail(rp_error *err, TSS2_RC rc, const char *fmt, ...) {
        char what[256];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(what, sizeof what, fmt, ap);
        va_end(ap);
        return rp_error_set(err, tss2_errno(rc), "TPM: %s: %s", what, Tss2_RC_Decode(rc));
}
#ifdef __clang_analyzer__
/* As error.h does for rp_error_set: tells the analyzer the result is negative. */
#define tpm_fail(...) rp_error_analyzer_negative_(tpm_fail(__VA_ARGS__))
#endif

/* The code for an OpenSSL call that failed: -ENOMEM when it ran out of
 * memory, else fallback. Clears OpenSSL's error queue. */
static int openssl_errno(int fallback) {
        int r = fallback;
        for (unsigned long e; (e = ERR_get_error()) != 0;)
                if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
                        r = -ENOMEM;
        return r;
}

/* ---- configuration ---- */

/* A TCTI configuration we are willing to pass on and write to rot.conf:
 * one line of printable ASCII, bounded. */
static int check_tcti_conf(const char *conf, rp_error *err) {
        size_t n = strlen(conf);
        if (n == 0 || n > RP_TPM2_TCTI_MAX)
                return rp_error_set(err, -EINVAL, "TPM TCTI: expected 1 to %d bytes, got %zu", RP_TPM2_TCTI_MAX,
                                    n);
        for (size_t i = 0; i < n; i++)
                if (conf[i] < 0x20 || conf[i] > 0x7e)
                        return rp_error_set(err, -EINVAL, "TPM TCTI: byte %zu (0x%02x) is not printable ASCII", i,
                                            (unsigned char) conf[i]);
        return 0;
}

/* The TCTI to use: cfg->tpm, else RP_TPM2_DEFAULT_TCTI. (rp_rot_open
 * passes the "tpm=" line of D/rot.conf as cfg->tpm when the caller gave
 * none.) */
static int tcti_conf_get(const rp_rot_config *cfg, char **ret, rp_error *err) {
        const char *conf = cfg->tpm ? cfg->tpm : RP_TPM2_DEFAULT_TCTI;
        int r = check_tcti_conf(conf, err);
        if (r < 0)
                return r;
        char *s = strdup(conf);
        if (!s)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = s;
        return 0;
}

/* ---- the connection ---- */

static void tpm2_close(void *p) {
        tpm2_state *t = p;
        if (!t)
                return;
        if (t->esys) {
                if (t->alias != ESYS_TR_NONE)
                        Esys_FlushContext(t->esys, t->alias);
                if (t->deviceid != ESYS_TR_NONE)
                        Esys_TR_Close(t->esys, &t->deviceid);
                Esys_Finalize(&t->esys);
        }
        if (t->tcti)
                Tss2_TctiLdr_Finalize(&t->tcti);
        free(t->tcti_conf);
        OPENSSL_cleanse(t, sizeof *t);
        free(t);
}

static void tpm2_closep(tpm2_state **t) {
        tpm2_close(*t);
}

/* Opens the TPM that cfg names (tcti_conf_get), with nothing loaded yet. */
static int tpm_connect(const rp_rot_config *cfg, tpm2_state **ret, rp_error *err) {
        if (!cfg || !cfg->state_dir)
                return rp_error_set(err, -EINVAL, "tpm2: no state directory given");
        _cleanup_(tpm2_closep) tpm2_state *t = calloc(1, sizeof *t);
        if (!t)
                return rp_error_set(err, -ENOMEM, "out of memory");
        t->deviceid = t->alias = ESYS_TR_NONE;
        int r = tcti_conf_get(cfg, &t->tcti_conf, err);
        if (r < 0)
                return r;
        TSS2_RC rc = Tss2_TctiLdr_Initialize(t->tcti_conf, &t->tcti);
        if (rc != TSS2_RC_SUCCESS) {
                t->tcti = NULL;
                return rp_error_set(err, -ENODEV, "TPM '%s': cannot open this TCTI (is the TPM there?): %s",
                                    t->tcti_conf, Tss2_RC_Decode(rc));
        }
        rc = Esys_Initialize(&t->esys, t->tcti, NULL);
        if (rc != TSS2_RC_SUCCESS) {
                t->esys = NULL;
                return rp_error_set(err, -ENODEV, "TPM '%s': cannot start an ESYS context: %s", t->tcti_conf,
                                    Tss2_RC_Decode(rc));
        }
        *ret = TAKE_PTR(t);
        return 0;
}

/* Whether the TPM has a persistent object or NV index at handle (asked
 * through GetCapability, which does not fail, and so logs nothing, when
 * there is none). */
static int tpm_handle_exists(tpm2_state *t, TPM2_HANDLE handle, bool *ret, rp_error *err) {
        _cleanup_esys_ TPMS_CAPABILITY_DATA *cap = NULL;
        TPMI_YES_NO more;
        TSS2_RC rc = Esys_GetCapability(t->esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, TPM2_CAP_HANDLES,
                                        handle, 1, &more, &cap);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "listing handle 0x%08x", handle);
        *ret = cap->data.handles.count >= 1 && cap->data.handles.handle[0] == handle;
        return 0;
}

/* ---- templates and public keys ---- */

/* SHA-256(label || measurement), measurement optional: the unique field
 * of a primary's template, which selects the key the TPM derives. */
static int label_digest(const char *label, const uint8_t *measurement, uint8_t ret[RP_SHA256_LEN]) {
        uint8_t buf[64 + RP_ROT_MEASUREMENT_LEN];
        size_t n = strlen(label);
        RP_INVARIANT(n <= 64);
        memcpy(buf, label, n);
        if (measurement) {
                memcpy(buf + n, measurement, RP_ROT_MEASUREMENT_LEN);
                n += RP_ROT_MEASUREMENT_LEN;
        }
        return rp_sha256_digest(buf, n, ret);
}

static int ecc_template(TPMA_OBJECT attrs, const char *label, const uint8_t *measurement, TPM2B_PUBLIC *ret) {
        *ret = (TPM2B_PUBLIC) {
                .publicArea = {
                        .type = TPM2_ALG_ECC,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = attrs,
                        .parameters.eccDetail = {
                                .symmetric.algorithm = TPM2_ALG_NULL,
                                .scheme.scheme = TPM2_ALG_NULL,
                                .curveID = TPM2_ECC_NIST_P256,
                                .kdf.scheme = TPM2_ALG_NULL,
                        },
                },
        };
        TPMS_ECC_PARMS *e = &ret->publicArea.parameters.eccDetail;
        if (attrs & TPMA_OBJECT_SIGN_ENCRYPT) {
                e->scheme.scheme = TPM2_ALG_ECDSA;
                e->scheme.details.ecdsa.hashAlg = TPM2_ALG_SHA256;
        } else {
                e->symmetric.algorithm = TPM2_ALG_AES;
                e->symmetric.keyBits.aes = 128;
                e->symmetric.mode.aes = TPM2_ALG_CFB;
        }
        ret->publicArea.unique.ecc.x.size = RP_SHA256_LEN;
        return label_digest(label, measurement, ret->publicArea.unique.ecc.x.buffer);
}

static TPM2B_PUBLIC sealed_template(void) {
        return (TPM2B_PUBLIC) {
                .publicArea = {
                        .type = TPM2_ALG_KEYEDHASH,
                        .nameAlg = TPM2_ALG_SHA256,
                        .objectAttributes = ATTRS_SEALED,
                        .parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_NULL,
                },
        };
}

/* True if pub is a key made from rampart's signing template (any unique
 * field): the check that the object at the DeviceID handle is ours. */
static bool is_rampart_signing_key(const TPMT_PUBLIC *p) {
        const TPMS_ECC_PARMS *e = &p->parameters.eccDetail;
        return p->type == TPM2_ALG_ECC && p->nameAlg == TPM2_ALG_SHA256 && p->objectAttributes == ATTRS_SIGN &&
               p->authPolicy.size == 0 && e->symmetric.algorithm == TPM2_ALG_NULL &&
               e->scheme.scheme == TPM2_ALG_ECDSA && e->scheme.details.ecdsa.hashAlg == TPM2_ALG_SHA256 &&
               e->curveID == TPM2_ECC_NIST_P256 && e->kdf.scheme == TPM2_ALG_NULL;
}

static int point_from_public(const TPM2B_PUBLIC *pub, const char *what, tpm2_point *ret, rp_error *err) {
        const TPMS_ECC_POINT *q = &pub->publicArea.unique.ecc;
        if (pub->publicArea.type != TPM2_ALG_ECC || q->x.size == 0 || q->x.size > P256_LEN || q->y.size == 0 ||
            q->y.size > P256_LEN)
                return rp_error_set(err, -EIO, "TPM: %s: the TPM returned no P-256 point", what);
        tpm2_point p = {0};
        memcpy(p.x + P256_LEN - q->x.size, q->x.buffer, q->x.size);
        memcpy(p.y + P256_LEN - q->y.size, q->y.buffer, q->y.size);
        *ret = p;
        return 0;
}

/* The EVP_PKEY for a P-256 point (OpenSSL checks that it is on the curve). */
static int point_to_pkey(const tpm2_point *p, const char *what, EVP_PKEY **ret, rp_error *err) {
        uint8_t enc[1 + 2 * P256_LEN];
        enc[0] = 0x04;
        memcpy(enc + 1, p->x, P256_LEN);
        memcpy(enc + 1 + P256_LEN, p->y, P256_LEN);
        OSSL_PARAM params[] = {
                OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) "prime256v1", 0),
                OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof enc),
                OSSL_PARAM_construct_end(),
        };
        _cleanup_(evp_pkey_ctx_freep) EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
        EVP_PKEY *pkey = NULL;
        if (!ctx || EVP_PKEY_fromdata_init(ctx) <= 0 ||
            EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0)
                return rp_error_set(err, openssl_errno(-EIO), "TPM: %s: OpenSSL refuses the TPM's public key",
                                    what);
        *ret = pkey;
        return 0;
}

/* Creates the primary key tmpl describes in the owner hierarchy; a
 * transient object the caller flushes. */
static int create_primary(tpm2_state *t, const TPM2B_PUBLIC *tmpl, const char *what, ESYS_TR *ret,
                          tpm2_point *ret_point, rp_error *err) {
        TPM2B_SENSITIVE_CREATE sensitive = {0};
        TPM2B_DATA outside = {0};
        TPML_PCR_SELECTION pcrs = {0};
        ESYS_TR h = ESYS_TR_NONE;
        _cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
        TSS2_RC rc = Esys_CreatePrimary(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                        &sensitive, tmpl, &outside, &pcrs, &h, &pub, NULL, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "creating the %s key", what);
        if (ret_point) {
                int r = point_from_public(pub, what, ret_point, err);
                if (r < 0) {
                        Esys_FlushContext(t->esys, h);
                        return r;
                }
        }
        *ret = h;
        return 0;
}

/* ---- signing ---- */

/* r||s, each left-padded to 32 bytes, in the low-S form rot.h promises:
 * through the same normalisation as every other signature (dice.c), which
 * also refuses r or s out of range. -ENOMEM, or -EIO for a malformed one. */
static int tpm_sig_to_raw(const TPMS_SIGNATURE_ECC *ecc, uint8_t ret_sig[RP_ROT_SIG_LEN]) {
        const TPM2B_ECC_PARAMETER *r = &ecc->signatureR, *s = &ecc->signatureS;
        if (r->size > P256_LEN || s->size > P256_LEN)
                return -EIO;
        uint8_t raw[RP_ROT_SIG_LEN] = {0};
        memcpy(raw + P256_LEN - r->size, r->buffer, r->size);
        memcpy(raw + RP_ROT_SIG_LEN - s->size, s->buffer, s->size);
        _cleanup_free_ uint8_t *der = NULL;
        size_t der_len;
        int k = rp_ecdsa_sig_to_der(raw, &der, &der_len);
        if (k < 0)
                return k == -ENOMEM ? k : -EIO;
        return rp_ecdsa_sig_to_raw(der, der_len, ret_sig) < 0 ? -EIO : 0;
}

static int tpm_sign(tpm2_state *t, ESYS_TR key, const char *what, const uint8_t digest[RP_ROT_DIGEST_LEN],
                    uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err) {
        TPM2B_DIGEST d = { .size = RP_ROT_DIGEST_LEN };
        memcpy(d.buffer, digest, RP_ROT_DIGEST_LEN);
        TPMT_SIG_SCHEME in_scheme = { .scheme = TPM2_ALG_NULL };   /* the key's own: ECDSA, SHA-256 */
        TPMT_TK_HASHCHECK ticket = { .tag = TPM2_ST_HASHCHECK, .hierarchy = TPM2_RH_NULL };
        _cleanup_esys_ TPMT_SIGNATURE *sig = NULL;
        TSS2_RC rc = Esys_Sign(t->esys, key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &d, &in_scheme, &ticket,
                               &sig);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "signing with the %s key", what);
        if (sig->sigAlg != TPM2_ALG_ECDSA)
                return rp_error_set(err, -EIO, "TPM: signing with the %s key: not an ECDSA signature", what);
        int r = tpm_sig_to_raw(&sig->signature.ecdsa, ret_sig);
        if (r == -ENOMEM)
                return rp_error_set(err, r, "out of memory");
        if (r < 0)
                return rp_error_set(err, -EIO, "TPM: signing with the %s key: the TPM returned a malformed "
                                    "signature", what);
        return 0;
}

/* ---- provisioning, opening ---- */

static int tpm2_provision(const rp_rot_config *cfg, rp_error *err) {
        if (!cfg || !cfg->state_dir)
                return rp_error_set(err, -EINVAL, "tpm2: no state directory given");
        /* Made first: a directory we cannot write must not leave a TPM
         * provisioned with no rot.conf naming it. */
        if (mkdir(cfg->state_dir, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "%s: cannot create the state directory", cfg->state_dir);
        _cleanup_free_ char *conf_path = NULL;
        if (asprintf(&conf_path, "%s/rot.conf", cfg->state_dir) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        if (access(conf_path, F_OK) == 0)
                return rp_error_set(err, -EEXIST, "%s exists: this state directory was already provisioned",
                                    conf_path);
        rp_rot_config c = *cfg;
        if (!c.tpm)
                c.tpm = RP_TPM2_DEFAULT_TCTI;
        _cleanup_(tpm2_closep) tpm2_state *t = NULL;
        int r = tpm_connect(&c, &t, err);
        if (r < 0)
                return r;
        bool exists;
        r = tpm_handle_exists(t, RP_TPM2_DEVICEID_HANDLE, &exists, err);
        if (r < 0)
                return r;
        if (exists)
                return rp_error_set(err, -EEXIST, "TPM '%s': persistent handle 0x%08x already holds a key: this "
                                    "TPM was provisioned (to start over: tpm2_evictcontrol -C o -c 0x%08x)",
                                    t->tcti_conf, RP_TPM2_DEVICEID_HANDLE, RP_TPM2_DEVICEID_HANDLE);
        TPM2B_PUBLIC tmpl;
        r = ecc_template(ATTRS_SIGN, RP_TPM2_LABEL_DEVICEID, NULL, &tmpl);
        if (r < 0)
                return rp_error_set(err, r, "out of memory");
        ESYS_TR key = ESYS_TR_NONE;
        r = create_primary(t, &tmpl, "DeviceID", &key, NULL, err);
        if (r < 0)
                return r;
        ESYS_TR persistent = ESYS_TR_NONE;
        TSS2_RC rc = Esys_EvictControl(t->esys, ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE, RP_TPM2_DEVICEID_HANDLE, &persistent);
        Esys_FlushContext(t->esys, key);
        if (rc != TSS2_RC_SUCCESS && tpm_rc_base(rc) == TPM2_RC_NV_DEFINED)
                return rp_error_set(err, -EEXIST, "TPM '%s': persistent handle 0x%08x was taken meanwhile",
                                    t->tcti_conf, RP_TPM2_DEVICEID_HANDLE);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "making the DeviceID key persistent at 0x%08x", RP_TPM2_DEVICEID_HANDLE);
        Esys_TR_Close(t->esys, &persistent);
        return rp_rot_write_conf(cfg->state_dir, "tpm2", t->tcti_conf, err);
}

/* Finds the DeviceID key and checks it is one rampart made. */
static int load_deviceid(tpm2_state *t, rp_error *err) {
        bool exists;
        int r = tpm_handle_exists(t, RP_TPM2_DEVICEID_HANDLE, &exists, err);
        if (r < 0)
                return r;
        if (!exists)
                return rp_error_set(err, -ENOENT, "TPM '%s': no DeviceID key at persistent handle 0x%08x: not "
                                    "provisioned", t->tcti_conf, RP_TPM2_DEVICEID_HANDLE);
        TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, RP_TPM2_DEVICEID_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, &t->deviceid);
        if (rc != TSS2_RC_SUCCESS) {
                t->deviceid = ESYS_TR_NONE;
                return tpm_fail(err, rc, "opening the DeviceID key at 0x%08x", RP_TPM2_DEVICEID_HANDLE);
        }
        _cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
        rc = Esys_ReadPublic(t->esys, t->deviceid, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "reading the DeviceID key at 0x%08x", RP_TPM2_DEVICEID_HANDLE);
        if (!is_rampart_signing_key(&pub->publicArea))
                return rp_error_set(err, -EIO, "TPM '%s': the key at persistent handle 0x%08x is not a rampart "
                                    "DeviceID key (wrong type or attributes)", t->tcti_conf,
                                    RP_TPM2_DEVICEID_HANDLE);
        return point_from_public(pub, "DeviceID", &t->deviceid_point, err);
}

static int tpm2_open(const rp_rot_config *cfg, void **ret_state, rp_error *err) {
        _cleanup_(tpm2_closep) tpm2_state *t = NULL;
        int r = tpm_connect(cfg, &t, err);
        if (r < 0)
                return r;
        r = load_deviceid(t, err);
        if (r < 0)
                return r;
        *ret_state = TAKE_PTR(t);
        return 0;
}

/* ---- DeviceID and Alias ---- */

static int tpm2_deviceid_public(void *state, EVP_PKEY **ret, rp_error *err) {
        tpm2_state *t = state;
        return point_to_pkey(&t->deviceid_point, "DeviceID", ret, err);
}

static int tpm2_deviceid_sign(void *state, const uint8_t digest[RP_ROT_DIGEST_LEN],
                              uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err) {
        tpm2_state *t = state;
        return tpm_sign(t, t->deviceid, "DeviceID", digest, ret_sig, err);
}

static int tpm2_bind_measurement(void *state, const uint8_t measurement[RP_ROT_MEASUREMENT_LEN],
                                 rp_error *err) {
        tpm2_state *t = state;
        TPM2B_PUBLIC tmpl;
        int r = ecc_template(ATTRS_SIGN, RP_TPM2_LABEL_ALIAS, measurement, &tmpl);
        if (r < 0)
                return rp_error_set(err, r, "out of memory");
        ESYS_TR alias = ESYS_TR_NONE;
        tpm2_point point;
        r = create_primary(t, &tmpl, "Alias", &alias, &point, err);
        if (r < 0)
                return r;
        if (t->alias != ESYS_TR_NONE)
                Esys_FlushContext(t->esys, t->alias);
        t->alias = alias;
        t->alias_point = point;
        memcpy(t->measurement, measurement, RP_ROT_MEASUREMENT_LEN);
        return 0;
}

static int require_bound(const tpm2_state *t, const char *what, rp_error *err) {
        if (t->alias == ESYS_TR_NONE)
                return rp_error_set(err, -EPERM, "tpm2: %s before bind_measurement", what);
        return 0;
}

static int tpm2_alias_public(void *state, EVP_PKEY **ret, rp_error *err) {
        tpm2_state *t = state;
        int r = require_bound(t, "the Alias key asked for", err);
        if (r < 0)
                return r;
        return point_to_pkey(&t->alias_point, "Alias", ret, err);
}

static int tpm2_alias_sign(void *state, const uint8_t digest[RP_ROT_DIGEST_LEN], uint8_t ret_sig[RP_ROT_SIG_LEN],
                           rp_error *err) {
        tpm2_state *t = state;
        int r = require_bound(t, "signing with the Alias key", err);
        if (r < 0)
                return r;
        return tpm_sign(t, t->alias, "Alias", digest, ret_sig, err);
}

/* ---- counters ---- */

/* An NV index of ours, opened: its ESYS handle and its public area. */
typedef struct nv_index {
        ESYS_TR tr;
        TPMS_NV_PUBLIC pub;
} nv_index;

static void nv_index_close(tpm2_state *t, nv_index *nv) {
        if (nv->tr != ESYS_TR_NONE)
                Esys_TR_Close(t->esys, &nv->tr);
        nv->tr = ESYS_TR_NONE;
}

/* Opens the NV index at handle if it exists (nv->tr ESYS_TR_NONE if not),
 * and checks it was defined with attrs, as rampart defines it. */
static int nv_open(tpm2_state *t, TPM2_HANDLE handle, TPMA_NV attrs, nv_index *nv, rp_error *err) {
        nv->tr = ESYS_TR_NONE;
        bool exists;
        int r = tpm_handle_exists(t, handle, &exists, err);
        if (r < 0 || !exists)
                return r;
        TSS2_RC rc = Esys_TR_FromTPMPublic(t->esys, handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &nv->tr);
        if (rc != TSS2_RC_SUCCESS) {
                nv->tr = ESYS_TR_NONE;
                return tpm_fail(err, rc, "opening NV index 0x%08x", handle);
        }
        _cleanup_esys_ TPM2B_NV_PUBLIC *pub = NULL;
        rc = Esys_NV_ReadPublic(t->esys, nv->tr, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "reading NV index 0x%08x", handle);
        nv->pub = pub->nvPublic;
        if ((nv->pub.attributes & ~NV_STATE_ATTRS) != attrs || nv->pub.dataSize != 8 ||
            nv->pub.nameAlg != TPM2_ALG_SHA256 || nv->pub.authPolicy.size != 0)
                return rp_error_set(err, -EIO, "TPM '%s': NV index 0x%08x is not one rampart defined (attributes "
                                    "0x%08x, size %u)", t->tcti_conf, handle, nv->pub.attributes,
                                    nv->pub.dataSize);
        return 0;
}

static int nv_define(tpm2_state *t, TPM2_HANDLE handle, TPMA_NV attrs, nv_index *nv, rp_error *err) {
        TPM2B_AUTH auth = {0};
        TPM2B_NV_PUBLIC pub = {
                .nvPublic = {
                        .nvIndex = handle,
                        .nameAlg = TPM2_ALG_SHA256,
                        .attributes = attrs,
                        .dataSize = 8,
                },
        };
        TSS2_RC rc = Esys_NV_DefineSpace(t->esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                                         &auth, &pub, &nv->tr);
        if (rc != TSS2_RC_SUCCESS) {
                nv->tr = ESYS_TR_NONE;
                return tpm_fail(err, rc, "defining NV index 0x%08x", handle);
        }
        nv->pub = pub.nvPublic;
        return 0;
}

static int nv_read_u64(tpm2_state *t, const nv_index *nv, uint64_t *ret, rp_error *err) {
        _cleanup_esys_ TPM2B_MAX_NV_BUFFER *data = NULL;
        TSS2_RC rc = Esys_NV_Read(t->esys, ESYS_TR_RH_OWNER, nv->tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                  ESYS_TR_NONE, 8, 0, &data);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "reading NV index 0x%08x", nv->pub.nvIndex);
        if (data->size != 8)
                return rp_error_set(err, -EIO, "TPM: reading NV index 0x%08x: got %u bytes, not 8",
                                    nv->pub.nvIndex, data->size);
        uint64_t v = 0;
        for (int i = 0; i < 8; i++)
                v = v << 8 | data->buffer[i];
        *ret = v;
        return 0;
}

static int nv_increment(tpm2_state *t, const nv_index *nv, rp_error *err) {
        TSS2_RC rc = Esys_NV_Increment(t->esys, ESYS_TR_RH_OWNER, nv->tr, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                                       ESYS_TR_NONE);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "incrementing NV counter 0x%08x", nv->pub.nvIndex);
        return 0;
}

/* A counter as the TPM holds it. */
typedef struct counter {
        nv_index nv;          /* the TPM counter */
        nv_index start;       /* its start value */
        uint64_t tpm_value;   /* the TPM counter's value, if nv.pub says written */
        uint64_t start_value; /* if start.pub says written, else tpm_value */
} counter;

static void counter_close(tpm2_state *t, counter *c) {
        nv_index_close(t, &c->nv);
        nv_index_close(t, &c->start);
}

/* Reads counter index as far as it exists. The start value is written
 * before the TPM counter is ever incremented past its first value, so a
 * missing or unwritten start (a crash in between) is the counter's value. */
static int counter_load(tpm2_state *t, unsigned index, counter *c, rp_error *err) {
        *c = (counter) { .nv.tr = ESYS_TR_NONE, .start.tr = ESYS_TR_NONE };
        int r = nv_open(t, RP_TPM2_NV_COUNTER + index, NV_COUNTER_ATTRS, &c->nv, err);
        if (r < 0 || c->nv.tr == ESYS_TR_NONE || !(c->nv.pub.attributes & TPMA_NV_WRITTEN))
                return r;
        r = nv_read_u64(t, &c->nv, &c->tpm_value, err);
        if (r < 0)
                return r;
        c->start_value = c->tpm_value;
        r = nv_open(t, RP_TPM2_NV_START + index, NV_START_ATTRS, &c->start, err);
        if (r < 0 || c->start.tr == ESYS_TR_NONE || !(c->start.pub.attributes & TPMA_NV_WRITTEN))
                return r;
        r = nv_read_u64(t, &c->start, &c->start_value, err);
        if (r < 0)
                return r;
        if (c->start_value > c->tpm_value)
                return rp_error_set(err, -EIO, "TPM '%s': counter %u: start value %llu above the TPM counter's "
                                    "%llu", t->tcti_conf, index, (unsigned long long) c->start_value,
                                    (unsigned long long) c->tpm_value);
        return 0;
}

static uint64_t counter_value(const counter *c) {
        if (c->nv.tr == ESYS_TR_NONE || !(c->nv.pub.attributes & TPMA_NV_WRITTEN))
                return 0;
        return c->tpm_value - c->start_value;
}

static int check_index(unsigned index, rp_error *err) {
        if (index >= RP_ROT_COUNTERS)
                return rp_error_set(err, -EINVAL, "counter %u: there are only %d counters (0 to %d)", index,
                                    RP_ROT_COUNTERS, RP_ROT_COUNTERS - 1);
        return 0;
}

static int tpm2_counter_read(void *state, unsigned index, uint64_t *ret, rp_error *err) {
        tpm2_state *t = state;
        int r = check_index(index, err);
        if (r < 0)
                return r;
        counter c;
        r = counter_load(t, index, &c, err);
        if (r >= 0)
                *ret = counter_value(&c);
        counter_close(t, &c);
        return r;
}

/* Makes counter index exist in the TPM with its start value stored and
 * locked: defines the counter, increments it once (the TPM then sets it to
 * the highest value any counter reached), writes that as the start value
 * and locks it. Each step is done only if a crash left it undone. */
static int counter_setup(tpm2_state *t, unsigned index, counter *c, rp_error *err) {
        int r;
        if (c->nv.tr == ESYS_TR_NONE && (r = nv_define(t, RP_TPM2_NV_COUNTER + index, NV_COUNTER_ATTRS, &c->nv,
                                                       err)) < 0)
                return r;
        if (!(c->nv.pub.attributes & TPMA_NV_WRITTEN)) {
                if ((r = nv_increment(t, &c->nv, err)) < 0)
                        return r;
                counter_close(t, c);
                if ((r = counter_load(t, index, c, err)) < 0)
                        return r;
        }
        if (c->start.tr == ESYS_TR_NONE &&
            (r = nv_define(t, RP_TPM2_NV_START + index, NV_START_ATTRS, &c->start, err)) < 0)
                return r;
        if (!(c->start.pub.attributes & TPMA_NV_WRITTEN)) {
                TPM2B_MAX_NV_BUFFER data = { .size = 8 };
                for (int i = 0; i < 8; i++)
                        data.buffer[i] = (uint8_t) (c->tpm_value >> (56 - 8 * i));
                TSS2_RC rc = Esys_NV_Write(t->esys, ESYS_TR_RH_OWNER, c->start.tr, ESYS_TR_PASSWORD,
                                           ESYS_TR_NONE, ESYS_TR_NONE, &data, 0);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(err, rc, "writing counter %u's start value", index);
                c->start_value = c->tpm_value;
        }
        if (!(c->start.pub.attributes & TPMA_NV_WRITELOCKED)) {
                TSS2_RC rc = Esys_NV_WriteLock(t->esys, ESYS_TR_RH_OWNER, c->start.tr, ESYS_TR_PASSWORD,
                                               ESYS_TR_NONE, ESYS_TR_NONE);
                if (rc != TSS2_RC_SUCCESS)
                        return tpm_fail(err, rc, "locking counter %u's start value", index);
        }
        return 0;
}

static int counter_advance(tpm2_state *t, unsigned index, counter *c, uint64_t value, uint64_t *ret,
                           rp_error *err) {
        int r = counter_load(t, index, c, err);
        if (r < 0)
                return r;
        uint64_t current = counter_value(c);
        if (value < current)
                return rp_error_set(err, -ERANGE, "counter %u: rollback refused: it holds %llu, asked for %llu",
                                    index, (unsigned long long) current, (unsigned long long) value);
        if (value - current > RP_TPM2_MAX_INCREMENTS)
                return rp_error_set(err, -ERANGE, "counter %u: a step of %llu (from %llu to %llu) is more than the "
                                    "%u a TPM counter is advanced by at once; advance in smaller steps", index,
                                    (unsigned long long) (value - current), (unsigned long long) current,
                                    (unsigned long long) value, RP_TPM2_MAX_INCREMENTS);
        if (value != current) {
                r = counter_setup(t, index, c, err);
                if (r < 0)
                        return r;
        }
        for (uint64_t i = current; i < value; i++) {
                r = nv_increment(t, &c->nv, err);
                if (r < 0)
                        return r;
        }
        counter_close(t, c);
        r = counter_load(t, index, c, err);
        if (r < 0)
                return r;
        if (counter_value(c) != value)
                return rp_error_set(err, -EIO, "TPM '%s': counter %u holds %llu after advancing it to %llu",
                                    t->tcti_conf, index, (unsigned long long) counter_value(c),
                                    (unsigned long long) value);
        *ret = value;
        return 0;
}

static int tpm2_counter_advance(void *state, unsigned index, uint64_t value, uint64_t *ret, rp_error *err) {
        tpm2_state *t = state;
        int r = check_index(index, err);
        if (r < 0)
                return r;
        counter c;
        r = counter_advance(t, index, &c, value, ret, err);
        counter_close(t, &c);
        return r;
}

/* ---- sealing ---- */

static void put_u16(uint8_t *p, size_t v) {
        p[0] = (uint8_t) (v >> 8);
        p[1] = (uint8_t) v;
}

static size_t get_u16(const uint8_t *p) {
        return (size_t) p[0] << 8 | p[1];
}

/* The storage primary sealed objects of this measurement live under. */
static int seal_parent(tpm2_state *t, ESYS_TR *ret, rp_error *err) {
        TPM2B_PUBLIC tmpl;
        int r = ecc_template(ATTRS_STORAGE, RP_TPM2_LABEL_SEAL, t->measurement, &tmpl);
        if (r < 0)
                return rp_error_set(err, r, "out of memory");
        return create_primary(t, &tmpl, "sealing parent", ret, NULL, err);
}

/* AES-256-GCM of in (len bytes) into out (len bytes) and tag, with aad;
 * or the reverse, checking the tag (-EBADMSG if it does not match). */
static int gcm(bool encrypt, const uint8_t key[SEAL_KEY_LEN], const uint8_t nonce[RP_TPM2_SEAL_NONCE_LEN],
               const uint8_t *aad, size_t aad_len, const uint8_t *in, size_t len, uint8_t *out,
               uint8_t tag[RP_TPM2_SEAL_TAG_LEN]) {
        _cleanup_(evp_cipher_ctx_freep) EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
        int n;
        if (!ctx || !EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, key, nonce, encrypt) ||
            !EVP_CipherUpdate(ctx, NULL, &n, aad, (int) aad_len) ||
            (len > 0 && !EVP_CipherUpdate(ctx, out, &n, in, (int) len)))
                return openssl_errno(-ENOMEM);
        if (!encrypt && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, RP_TPM2_SEAL_TAG_LEN, tag))
                return openssl_errno(-ENOMEM);
        if (!EVP_CipherFinal_ex(ctx, out + len, &n)) {
                if (!encrypt) {
                        ERR_clear_error();
                        return -EBADMSG;
                }
                return openssl_errno(-ENOMEM);
        }
        if (encrypt && !EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, RP_TPM2_SEAL_TAG_LEN, tag))
                return openssl_errno(-ENOMEM);
        return 0;
}

/* A session whose secret only the TPM and we know (salted with parent's
 * key), encrypting the first parameter of commands and responses: the
 * sealed key crosses the bus to and from the TPM encrypted. */
static int encrypt_session(tpm2_state *t, ESYS_TR parent, ESYS_TR *ret, rp_error *err) {
        TPMT_SYM_DEF sym = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB };
        ESYS_TR session = ESYS_TR_NONE;
        TSS2_RC rc = Esys_StartAuthSession(t->esys, parent, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                           ESYS_TR_NONE, NULL, TPM2_SE_HMAC, &sym, TPM2_ALG_SHA256, &session);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "starting an encrypted session");
        rc = Esys_TRSess_SetAttributes(t->esys, session, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
                                       TPMA_SESSION_CONTINUESESSION, 0xff);
        if (rc != TSS2_RC_SUCCESS) {
                Esys_FlushContext(t->esys, session);
                return tpm_fail(err, rc, "setting up an encrypted session");
        }
        *ret = session;
        return 0;
}

/* The TPM object holding a fresh AES key, sealed under this measurement's
 * parent: *ret_pub and *ret_priv for Esys_Free. */
static int seal_key(tpm2_state *t, const uint8_t key[SEAL_KEY_LEN], TPM2B_PUBLIC **ret_pub,
                    TPM2B_PRIVATE **ret_priv, rp_error *err) {
        ESYS_TR parent = ESYS_TR_NONE, session = ESYS_TR_NONE;
        int r = seal_parent(t, &parent, err);
        if (r < 0)
                return r;
        r = encrypt_session(t, parent, &session, err);
        if (r < 0) {
                Esys_FlushContext(t->esys, parent);
                return r;
        }
        TPM2B_SENSITIVE_CREATE sensitive = { .sensitive.data.size = SEAL_KEY_LEN };
        memcpy(sensitive.sensitive.data.buffer, key, SEAL_KEY_LEN);
        TPM2B_PUBLIC tmpl = sealed_template();
        TPM2B_DATA outside = {0};
        TPML_PCR_SELECTION pcrs = {0};
        TSS2_RC rc = Esys_Create(t->esys, parent, session, ESYS_TR_NONE, ESYS_TR_NONE, &sensitive, &tmpl,
                                 &outside, &pcrs, ret_priv, ret_pub, NULL, NULL, NULL);
        OPENSSL_cleanse(&sensitive, sizeof sensitive);
        Esys_FlushContext(t->esys, session);
        Esys_FlushContext(t->esys, parent);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "sealing a key");
        return 0;
}

/* Lays out the blob (docs/formats.md, "Sealed blob (tpm2)") but for the
 * nonce, ciphertext and tag, which the caller fills in. */
static int seal_layout(const TPM2B_PUBLIC *pub, const TPM2B_PRIVATE *priv, size_t len, uint8_t **ret_blob,
                       size_t *ret_len, size_t *ret_aad_len, rp_error *err) {
        uint8_t pub_buf[sizeof(TPM2B_PUBLIC)], priv_buf[sizeof(TPM2B_PRIVATE)];
        size_t pub_len = 0, priv_len = 0;
        if (Tss2_MU_TPM2B_PUBLIC_Marshal(pub, pub_buf, sizeof pub_buf, &pub_len) != TSS2_RC_SUCCESS ||
            Tss2_MU_TPM2B_PRIVATE_Marshal(priv, priv_buf, sizeof priv_buf, &priv_len) != TSS2_RC_SUCCESS)
                return rp_error_set(err, -EIO, "TPM: sealing: cannot marshal the sealed object");
        size_t aad_len = RP_TPM2_SEAL_HEADER_LEN + pub_len + priv_len;
        size_t total = aad_len + RP_TPM2_SEAL_NONCE_LEN + len + RP_TPM2_SEAL_TAG_LEN;
        RP_INVARIANT(total <= RP_ROT_SEALED_MAX);
        uint8_t *blob = malloc(total);
        if (!blob)
                return rp_error_set(err, -ENOMEM, "out of memory");
        memcpy(blob, RP_TPM2_SEAL_MAGIC, 4);
        blob[4] = RP_TPM2_SEAL_VERSION;
        blob[5] = 0;
        put_u16(blob + 6, pub_len);
        put_u16(blob + 8, priv_len);
        put_u16(blob + 10, len);
        memcpy(blob + RP_TPM2_SEAL_HEADER_LEN, pub_buf, pub_len);
        memcpy(blob + RP_TPM2_SEAL_HEADER_LEN + pub_len, priv_buf, priv_len);
        *ret_blob = blob;
        *ret_len = total;
        *ret_aad_len = aad_len;
        return 0;
}

static int tpm2_seal(void *state, const void *data, size_t len, uint8_t **ret_blob, size_t *ret_len,
                     rp_error *err) {
        tpm2_state *t = state;
        int r = require_bound(t, "sealing", err);
        if (r < 0)
                return r;
        if (len > RP_ROT_SEAL_MAX)
                return rp_error_set(err, -EFBIG, "seal: %zu bytes, more than the %d it takes", len,
                                    RP_ROT_SEAL_MAX);
        uint8_t key[SEAL_KEY_LEN];
        if (RAND_bytes(key, sizeof key) != 1)
                return rp_error_set(err, openssl_errno(-EIO), "seal: no random bytes for the key");
        _cleanup_esys_ TPM2B_PUBLIC *pub = NULL;
        _cleanup_esys_ TPM2B_PRIVATE *priv = NULL;
        _cleanup_free_ uint8_t *blob = NULL;
        size_t total, aad_len;
        r = seal_key(t, key, &pub, &priv, err);
        if (r >= 0)
                r = seal_layout(pub, priv, len, &blob, &total, &aad_len, err);
        if (r >= 0) {
                uint8_t *nonce = blob + aad_len, *ct = nonce + RP_TPM2_SEAL_NONCE_LEN;
                if (RAND_bytes(nonce, RP_TPM2_SEAL_NONCE_LEN) != 1)
                        r = rp_error_set(err, openssl_errno(-EIO), "seal: no random bytes for the nonce");
                else if ((r = gcm(true, key, nonce, blob, aad_len, data, len, ct, ct + len)) < 0)
                        r = rp_error_set(err, r, "seal: AES-GCM failed");
        }
        OPENSSL_cleanse(key, sizeof key);
        if (r < 0)
                return r;
        *ret_blob = TAKE_PTR(blob);
        *ret_len = total;
        return 0;
}

/* Nothing from a blob reaches the TPM unless this passed. */
int rp_tpm2_blob_parse(const uint8_t *b, size_t len, rp_tpm2_blob *ret, rp_error *err) {
        if (len > RP_ROT_SEALED_MAX)
                return rp_error_set(err, -EFBIG, "sealed blob: %zu bytes, more than the %d allowed", len,
                                    RP_ROT_SEALED_MAX);
        if (len < RP_TPM2_SEAL_HEADER_LEN || memcmp(b, RP_TPM2_SEAL_MAGIC, 4) != 0)
                return rp_error_set(err, -EBADMSG, "sealed blob: not a tpm2 sealed blob (no \"%s\" header)",
                                    RP_TPM2_SEAL_MAGIC);
        if (b[4] != RP_TPM2_SEAL_VERSION)
                return rp_error_set(err, -EOPNOTSUPP, "sealed blob: version %u, this build reads %d", b[4],
                                    RP_TPM2_SEAL_VERSION);
        if (b[5] != 0)
                return rp_error_set(err, -EBADMSG, "sealed blob: the reserved byte is %u, not 0", b[5]);
        size_t pub_len = get_u16(b + 6), priv_len = get_u16(b + 8), ct_len = get_u16(b + 10);
        if (pub_len > sizeof(TPM2B_PUBLIC) || priv_len > sizeof(TPM2B_PRIVATE) || ct_len > RP_ROT_SEAL_MAX)
                return rp_error_set(err, -EBADMSG, "sealed blob: a length in the header is over its limit");
        size_t aad_len = RP_TPM2_SEAL_HEADER_LEN + pub_len + priv_len;
        size_t want = aad_len + RP_TPM2_SEAL_NONCE_LEN + ct_len + RP_TPM2_SEAL_TAG_LEN;
        if (len != want)
                return rp_error_set(err, -EBADMSG, "sealed blob: %zu bytes, the header says %zu", len, want);
        rp_tpm2_blob s = {0};   /* the unmarshallers want empty TPM2Bs */
        size_t off = 0;
        /* The public area's own size must match what its fields take, which
         * Tss2_MU does not check: one byte form only. */
        if (pub_len < 2 || get_u16(b + RP_TPM2_SEAL_HEADER_LEN) != pub_len - 2 ||
            Tss2_MU_TPM2B_PUBLIC_Unmarshal(b + RP_TPM2_SEAL_HEADER_LEN, pub_len, &off, &s.pub) !=
                    TSS2_RC_SUCCESS || off != pub_len)
                return rp_error_set(err, -EBADMSG, "sealed blob: the TPM public area is malformed");
        off = 0;
        if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(b + RP_TPM2_SEAL_HEADER_LEN + pub_len, priv_len, &off, &s.priv) !=
                    TSS2_RC_SUCCESS || off != priv_len)
                return rp_error_set(err, -EBADMSG, "sealed blob: the TPM private area is malformed");
        const TPMT_PUBLIC *p = &s.pub.publicArea;
        if (p->type != TPM2_ALG_KEYEDHASH || p->nameAlg != TPM2_ALG_SHA256 || p->objectAttributes != ATTRS_SEALED ||
            p->authPolicy.size != 0 || p->parameters.keyedHashDetail.scheme.scheme != TPM2_ALG_NULL)
                return rp_error_set(err, -EBADMSG, "sealed blob: the TPM object is not one rampart seals");
        s.aad_len = aad_len;
        s.nonce = b + aad_len;
        s.ct = s.nonce + RP_TPM2_SEAL_NONCE_LEN;
        s.ct_len = ct_len;
        s.tag = s.ct + ct_len;
        *ret = s;
        return 0;
}

/* Loads the object in s under this measurement's parent, where the TPM
 * checks its integrity; *ret_session for unsealing it. */
static int load_sealed(tpm2_state *t, const rp_tpm2_blob *s, ESYS_TR *ret_obj, ESYS_TR *ret_session, rp_error *err) {
        ESYS_TR parent = ESYS_TR_NONE, session = ESYS_TR_NONE, obj = ESYS_TR_NONE;
        int r = seal_parent(t, &parent, err);
        if (r < 0)
                return r;
        r = encrypt_session(t, parent, &session, err);
        if (r < 0) {
                Esys_FlushContext(t->esys, parent);
                return r;
        }
        TSS2_RC rc = Esys_Load(t->esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &s->priv, &s->pub,
                               &obj);
        Esys_FlushContext(t->esys, parent);
        if (rc == TSS2_RC_SUCCESS) {
                *ret_obj = obj;
                *ret_session = session;
                return 0;
        }
        Esys_FlushContext(t->esys, session);
        if (tpm_rc_base(rc) == TPM2_RC_INTEGRITY)
                return rp_error_set(err, -EKEYREJECTED, "unseal: the TPM refuses the blob: sealed for another "
                                    "device or another measurement (%s)", Tss2_RC_Decode(rc));
        if ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && (rc & TPM2_RC_FMT1) && (rc & TPM2_RC_P))
                return rp_error_set(err, -EBADMSG, "sealed blob: the TPM refuses its object: %s",
                                    Tss2_RC_Decode(rc));
        return tpm_fail(err, rc, "loading the sealed object");
}

/* The key sealed in s. */
static int unseal_key(tpm2_state *t, const rp_tpm2_blob *s, uint8_t ret_key[SEAL_KEY_LEN], rp_error *err) {
        ESYS_TR obj = ESYS_TR_NONE, session = ESYS_TR_NONE;
        int r = load_sealed(t, s, &obj, &session, err);
        if (r < 0)
                return r;
        _cleanup_esys_ TPM2B_SENSITIVE_DATA *out = NULL;
        TSS2_RC rc = Esys_Unseal(t->esys, obj, session, ESYS_TR_NONE, ESYS_TR_NONE, &out);
        Esys_FlushContext(t->esys, session);
        Esys_FlushContext(t->esys, obj);
        if (rc != TSS2_RC_SUCCESS)
                return tpm_fail(err, rc, "unsealing");
        if (out->size != SEAL_KEY_LEN) {
                OPENSSL_cleanse(out, sizeof *out);
                return rp_error_set(err, -EBADMSG, "sealed blob: the sealed key is %u bytes, not %d", out->size,
                                    SEAL_KEY_LEN);
        }
        memcpy(ret_key, out->buffer, SEAL_KEY_LEN);
        OPENSSL_cleanse(out, sizeof *out);
        return 0;
}

static int tpm2_unseal(void *state, const void *blob, size_t len, uint8_t **ret_data, size_t *ret_len,
                       rp_error *err) {
        tpm2_state *t = state;
        int r = require_bound(t, "unsealing", err);
        if (r < 0)
                return r;
        rp_tpm2_blob s;
        r = rp_tpm2_blob_parse(blob, len, &s, err);
        if (r < 0)
                return r;
        uint8_t key[SEAL_KEY_LEN], tag[RP_TPM2_SEAL_TAG_LEN];
        r = unseal_key(t, &s, key, err);
        if (r < 0)
                return r;
        memcpy(tag, s.tag, sizeof tag);
        _cleanup_free_ uint8_t *data = malloc(s.ct_len + 1);
        if (!data)
                r = rp_error_set(err, -ENOMEM, "out of memory");
        else if ((r = gcm(false, key, s.nonce, blob, s.aad_len, s.ct, s.ct_len, data, tag)) < 0)
                r = rp_error_set(err, r, r == -EBADMSG ? "sealed blob: the data does not match its tag (altered)"
                                                       : "unseal: AES-GCM failed");
        OPENSSL_cleanse(key, sizeof key);
        if (r < 0) {
                if (data)
                        OPENSSL_cleanse(data, s.ct_len);
                return r;
        }
        *ret_data = TAKE_PTR(data);
        *ret_len = s.ct_len;
        return 0;
}

const rp_rot_backend rp_rot_backend_tpm2 = {
        .name = "tpm2",
        .development = false,
        .provision = tpm2_provision,
        .open = tpm2_open,
        .close = tpm2_close,
        .deviceid_public = tpm2_deviceid_public,
        .deviceid_sign = tpm2_deviceid_sign,
        .bind_measurement = tpm2_bind_measurement,
        .alias_public = tpm2_alias_public,
        .alias_sign = tpm2_alias_sign,
        .counter_read = tpm2_counter_read,
        .counter_advance = tpm2_counter_advance,
        .seal = tpm2_seal,
        .unseal = tpm2_unseal,
};
