/* SPDX-License-Identifier: Apache-2.0 */
/* Signing keys and digests on OpenSSL 3's EVP interfaces. */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/crypto_internal.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "rampart/crypto.h"

/* No key file we read is larger than this. */
#define KEY_FILE_MAX (64 * 1024)

/* P-256 scalars and coordinates are 32 bytes. */
#define P256_LEN 32

struct rp_key {
        rp_key_type type;
        bool private;
        EVP_PKEY *pkey;
        /* Computed once: OpenSSL 3's DER encoder made it two thirds of the
         * cost of every COSE signature when done per call. */
        uint8_t id[RP_KEY_ID_LEN];
};

struct rp_sha256 {
        EVP_MD_CTX *ctx;
        bool finished;
};

/* The order n of the P-256 group (SEC 2, secp256r1), big-endian. */
static const uint8_t p256_order[P256_LEN] = {
        0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xbc, 0xe6, 0xfa, 0xad, 0xa7, 0x17, 0x9e, 0x84, 0xf3, 0xb9, 0xca, 0xc2, 0xfc, 0x63, 0x25, 0x51,
};

/* (n - 1) / 2: the largest s of a low-S ES256 signature. */
static const uint8_t p256_half_order[P256_LEN] = {
        0x7f, 0xff, 0xff, 0xff, 0x80, 0x00, 0x00, 0x00, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
        0xde, 0x73, 0x7d, 0x56, 0xd3, 0x8b, 0xcf, 0x42, 0x79, 0xdc, 0xe5, 0x61, 0x7e, 0x31, 0x92, 0xa8,
};

/* A buffer that held private key material: wiped, then freed. */
typedef struct secret_buf {
        uint8_t *data;
        size_t len;
} secret_buf;

static void secret_buf_done(secret_buf *b) {
        if (b->data) {
                OPENSSL_cleanse(b->data, b->len);
                free(b->data);
        }
        b->data = NULL;
        b->len = 0;
}

/* A PEM block as PEM_read_bio returns it; the body is wiped on release
 * because it may be a private key. */
typedef struct pem_block {
        char *name;
        char *header;
        unsigned char *data;
        long len;
} pem_block;

static void pem_block_done(pem_block *b) {
        OPENSSL_free(b->name);
        OPENSSL_free(b->header);
        if (b->data) {
                OPENSSL_cleanse(b->data, (size_t) b->len);
                OPENSSL_free(b->data);
        }
        *b = (pem_block) {};
}

const char *rp_key_type_name(rp_key_type type) {
        switch (type) {
        case RP_KEY_ES256:
                return "ES256";
        case RP_KEY_ED25519:
                return "Ed25519";
        }
        return "unknown";
}

const char *rp_cose_alg_name(int alg) {
        switch (alg) {
        case RP_COSE_ALG_ES256:
                return "ES256";
        case RP_COSE_ALG_EDDSA:
                return "EdDSA";
        }
        return "unknown";
}

int rp_key_type_from_name(const char *name, rp_key_type *ret) {
        if (!name)
                return -EINVAL;
        if (strcasecmp(name, "es256") == 0)
                *ret = RP_KEY_ES256;
        else if (strcasecmp(name, "ed25519") == 0)
                *ret = RP_KEY_ED25519;
        else
                return -EINVAL;
        return 0;
}

rp_key_type rp_key_get_type(const rp_key *key) {
        return key->type;
}

bool rp_key_is_private(const rp_key *key) {
        return key->private;
}

int rp_key_cose_alg(const rp_key *key) {
        return key->type == RP_KEY_ES256 ? RP_COSE_ALG_ES256 : RP_COSE_ALG_EDDSA;
}

void rp_key_free(rp_key *key) {
        if (!key)
                return;
        /* OpenSSL clears private scalars when it frees the key. */
        EVP_PKEY_free(key->pkey);
        OPENSSL_cleanse(key, sizeof *key);
        free(key);
}

/* Wraps pkey (owned by the new key on success only); spki (n bytes) is its
 * DER SubjectPublicKeyInfo, or NULL: encoded here. */
static int key_new_spki(rp_key_type type, bool private, EVP_PKEY *pkey, const uint8_t *spki, int n, rp_key **ret) {
        uint8_t id[RP_KEY_ID_LEN];
        _cleanup_free_ uint8_t *der = NULL;
        if (!spki) {
                n = i2d_PUBKEY(pkey, &der);
                spki = der;
        }
        if (n <= 0 || rp_sha256(spki, (size_t) n, id) < 0)
                return -ENOMEM;
        rp_key *k = calloc(1, sizeof *k);
        if (!k)
                return -ENOMEM;
        memcpy(k->id, id, sizeof id);
        k->type = type;
        k->private = private;
        k->pkey = pkey;
        *ret = k;
        return 0;
}

static int key_new(rp_key_type type, bool private, EVP_PKEY *pkey, rp_key **ret) {
        return key_new_spki(type, private, pkey, NULL, 0, ret);
}

/* Classifies an OpenSSL key: 0 and its type if it is one we support,
 * -EOPNOTSUPP with a message naming what it is otherwise. */
static int classify_pkey(EVP_PKEY *pkey, const char *source, rp_key_type *ret, rp_error *err) {
        if (EVP_PKEY_is_a(pkey, "ED25519")) {
                *ret = RP_KEY_ED25519;
                return 0;
        }
        if (EVP_PKEY_is_a(pkey, "EC")) {
                char group[80] = "";
                size_t glen = 0;
                if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
                                                   group, sizeof group, &glen) != 1)
                        return rp_error_set(err, -EOPNOTSUPP,
                                            "%s: an EC key with explicit or unknown curve parameters; "
                                            "only the named curve P-256 (ES256) is supported", source);
                if (streq(group, SN_X9_62_prime256v1) || strcasecmp(group, "P-256") == 0) {
                        *ret = RP_KEY_ES256;
                        return 0;
                }
                return rp_error_set(err, -EOPNOTSUPP,
                                    "%s: an EC key on curve %s; only P-256 (ES256) is supported", source, group);
        }
        if (EVP_PKEY_is_a(pkey, "RSA") || EVP_PKEY_is_a(pkey, "RSA-PSS"))
                return rp_error_set(err, -EOPNOTSUPP,
                                    "%s: an RSA key; rampart supports ES256 (P-256) and Ed25519 keys", source);
        const char *name = EVP_PKEY_get0_type_name(pkey);
        return rp_error_set(err, -EOPNOTSUPP, "%s: a %s key; rampart supports ES256 (P-256) and Ed25519 keys",
                            source, name ? name : "unknown");
}

/* Copies the public half of pkey into a new EVP_PKEY. */
static int public_copy(EVP_PKEY *pkey, EVP_PKEY **ret) {
        _cleanup_free_ uint8_t *der = NULL;
        int n = i2d_PUBKEY(pkey, &der);
        if (n <= 0)
                return -ENOMEM;
        const unsigned char *p = der;
        EVP_PKEY *pub = d2i_PUBKEY_ex(NULL, &p, n, NULL, NULL);
        if (!pub)
                return -ENOMEM;
        *ret = pub;
        return 0;
}

int rp_key_from_evp_public(EVP_PKEY *pkey, rp_key **ret, rp_error *err) {
        rp_key_type type;
        int r = classify_pkey(pkey, "public key", &type, err);
        /* OpenSSL 3.0 answers "not that type" when a name lookup fails for
         * lack of memory, saying nothing: a refusal counts if it repeats. */
        if (r < 0)
                r = classify_pkey(pkey, "public key", &type, err);
        if (r < 0)
                return r;
        _cleanup_(evp_pkey_freep) EVP_PKEY *pub = NULL;
        r = public_copy(pkey, &pub);
        if (r >= 0)
                r = key_new(type, false, pub, ret);
        if (r < 0) {
                ERR_clear_error();
                return rp_error_set(err, r, "out of memory");
        }
        TAKE_PTR(pub);
        return 0;
}

int rp_key_from_x509(X509 *cert, rp_key **ret, rp_error *err) {
        EVP_PKEY *pkey = X509_get0_pubkey(cert);
        if (!pkey)
                return rp_error_set(err, rp_openssl_failure(-EINVAL), "the certificate's public key cannot be read");
        rp_key_type type;
        int r = classify_pkey(pkey, "public key", &type, err);
        if (r < 0)      /* as in rp_key_from_evp_public */
                r = classify_pkey(pkey, "public key", &type, err);
        if (r < 0)
                return r;
        /* The certificate's own bytes: OpenSSL 3.0's encoder (i2d_PUBKEY)
         * would cost more than the signature check the key is for. */
        _cleanup_(openssl_freep) unsigned char *spki = NULL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &spki);
        if (n <= 0 || EVP_PKEY_up_ref(pkey) != 1) {
                ERR_clear_error();
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        r = key_new_spki(type, false, pkey, spki, n, ret);
        if (r < 0) {
                EVP_PKEY_free(pkey);
                ERR_clear_error();
                return rp_error_set(err, r, "out of memory");
        }
        return 0;
}

int rp_key_generate(rp_key_type type, rp_key **ret, rp_error *err) {
        _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = NULL;
        switch (type) {
        case RP_KEY_ES256:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
                break;
        case RP_KEY_ED25519:
                pkey = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
                break;
        default:
                return rp_error_set(err, -EOPNOTSUPP, "unsupported key type %d", (int) type);
        }
        if (!pkey)
                return rp_error_set(err, -ENOMEM, "cannot generate a %s key", rp_key_type_name(type));
        int r = key_new(type, true, pkey, ret);
        if (r < 0)
                return rp_error_set(err, r, "out of memory");
        TAKE_PTR(pkey);
        return 0;
}

/* True if the PEM label names a certificate or certificate request. */
static bool pem_is_certificate(const char *name) {
        return streq(name, "CERTIFICATE") || streq(name, "X509 CERTIFICATE") ||
               streq(name, "TRUSTED CERTIFICATE") || streq(name, "CERTIFICATE REQUEST") ||
               streq(name, "NEW CERTIFICATE REQUEST") || streq(name, "X509 CRL");
}

/* Reads the first PEM block of pem that is not a parameter block ("openssl
 * ecparam -genkey" writes EC PARAMETERS before the key). what says which
 * key is expected, for messages. */
static int read_key_block(const void *pem, size_t len, const char *source, const char *what, pem_block *ret,
                          rp_error *err) {
        if (len > KEY_FILE_MAX)
                return rp_error_set(err, -EFBIG, "%s: %zu bytes is too large for a key (limit %d)",
                                    source, len, KEY_FILE_MAX);
        if (len == 0)
                return rp_error_set(err, -EINVAL, "%s: empty; expected %s", source, what);
        if (!memmem(pem, len, "-----BEGIN ", 11))
                return rp_error_set(err, -EINVAL, "%s: not PEM (no '-----BEGIN' line); expected %s",
                                    source, what);

        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(pem, (int) len);
        if (!bio)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", source);
        for (;;) {
                pem_block_done(ret);
                if (PEM_read_bio(bio, &ret->name, &ret->header, &ret->data, &ret->len) != 1)
                        return rp_error_set(err, -EINVAL, "%s: malformed PEM (bad base64 or missing END line); "
                                            "expected %s", source, what);
                if (!streq(ret->name, "EC PARAMETERS"))
                        return 0;
        }
}

/* Accepts a "PRIVATE KEY" block (unencrypted PKCS#8), or a "PUBLIC KEY"
 * block when !want_private, and says which it is; refuses every other
 * block by name. */
static int check_key_block(const pem_block *b, bool want_private, const char *source, const char *what,
                           bool *ret_private, rp_error *err) {
        bool encrypted_header = b->header && strstr(b->header, "ENCRYPTED");
        if (streq(b->name, "ENCRYPTED PRIVATE KEY") || encrypted_header)
                return rp_error_set(err, -EOPNOTSUPP, "%s: the private key is encrypted; it must be unencrypted "
                                    "PKCS#8 (decrypt it with 'openssl pkcs8 -in %s -out NEW')", source, source);
        if (pem_is_certificate(b->name))
                return rp_error_set(err, -EINVAL, "%s: a %s, not a key; expected %s", source, b->name, what);
        if (streq(b->name, "RSA PRIVATE KEY") || streq(b->name, "RSA PUBLIC KEY"))
                return rp_error_set(err, -EOPNOTSUPP, "%s: an RSA key; rampart supports ES256 (P-256) and "
                                    "Ed25519 keys", source);
        if (streq(b->name, "EC PRIVATE KEY"))
                return rp_error_set(err, -EOPNOTSUPP, "%s: an EC private key in the legacy SEC1 format; it must "
                                    "be PKCS#8 (convert it with 'openssl pkcs8 -topk8 -nocrypt -in %s')",
                                    source, source);

        bool is_private = streq(b->name, "PRIVATE KEY");
        bool is_public = streq(b->name, "PUBLIC KEY");
        if (!is_private && !is_public)
                return rp_error_set(err, -EINVAL, "%s: a PEM '%s' block; expected %s", source, b->name, what);
        if (want_private && is_public)
                return rp_error_set(err, -EINVAL, "%s: a public key, but a private key is needed "
                                    "(expected %s)", source, what);
        *ret_private = is_private;
        return 0;
}

/* The code for an OpenSSL call that failed: -ENOMEM when OpenSSL ran out
 * of memory (so that a caller retries later rather than calling its input
 * bad), otherwise fallback. Empties the thread's error queue. */
int rp_openssl_failure(int fallback) {
        int r = fallback;
        for (unsigned long e; (e = ERR_get_error()) != 0;)
                if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
                        r = -ENOMEM;
        return r;
}

/* Decodes the DER key in a checked block; nothing may follow it. */
static int decode_key_block(const pem_block *b, bool is_private, const char *source, EVP_PKEY **ret,
                            rp_error *err) {
        const unsigned char *p = b->data;
        _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = is_private
                ? d2i_AutoPrivateKey_ex(NULL, &p, b->len, NULL, NULL)
                : d2i_PUBKEY_ex(NULL, &p, b->len, NULL, NULL);
        if (!pkey) {
                /* A key that could not be decoded for lack of memory is not
                 * a bad key file. */
                int r = rp_openssl_failure(-EINVAL);
                if (r == -ENOMEM)
                        return rp_error_set(err, r, "%s: out of memory while decoding the key", source);
                return rp_error_set(err, -EINVAL, "%s: the %s block does not hold a valid or supported key",
                                    source, b->name);
        }
        if (p != b->data + b->len)
                return rp_error_set(err, -EBADMSG, "%s: trailing bytes after the key in the %s block",
                                    source, b->name);
        *ret = TAKE_PTR(pkey);
        return 0;
}

/* Loads the key in PEM text that came from source (a path, for messages):
 * a private key, or a public key (the public half if pem holds a private
 * one) when !want_private. */
static int key_from_pem_source(const void *pem, size_t len, bool want_private, const char *source,
                               rp_key **ret, rp_error *err) {
        const char *what = want_private ? "a PKCS#8 PEM private key" : "a PEM public key";
        _cleanup_(pem_block_done) pem_block b = {};
        _cleanup_(evp_pkey_freep) EVP_PKEY *pkey = NULL;
        bool is_private = false;
        int r = read_key_block(pem, len, source, what, &b, err);
        if (r >= 0)
                r = check_key_block(&b, want_private, source, what, &is_private, err);
        if (r >= 0)
                r = decode_key_block(&b, is_private, source, &pkey, err);
        if (r < 0)
                return r;

        rp_key_type type;
        r = classify_pkey(pkey, source, &type, err);
        if (r < 0)
                return r;

        if (is_private && !want_private) {
                EVP_PKEY *pub = NULL;
                r = public_copy(pkey, &pub);
                if (r < 0)
                        return rp_error_set(err, r, "%s: out of memory", source);
                EVP_PKEY_free(pkey);
                pkey = pub;
                is_private = false;
        }

        r = key_new(type, is_private, pkey, ret);
        if (r < 0)
                return rp_error_set(err, r, "%s: out of memory", source);
        TAKE_PTR(pkey);
        return 0;
}

int rp_key_from_pem(const void *pem, size_t len, bool want_private, rp_key **ret, rp_error *err) {
        return key_from_pem_source(pem, len, want_private, "PEM key", ret, err);
}

static int key_load(const char *path, bool want_private, rp_key **ret, rp_error *err) {
        _cleanup_(secret_buf_done) secret_buf buf = {};
        int r = rp_read_file(path, KEY_FILE_MAX, &buf.data, &buf.len, err);
        if (r < 0)
                return r;
        return key_from_pem_source(buf.data, buf.len, want_private, path, ret, err);
}

int rp_key_load_private(const char *path, rp_key **ret, rp_error *err) {
        return key_load(path, true, ret, err);
}

int rp_key_load_public(const char *path, rp_key **ret, rp_error *err) {
        return key_load(path, false, ret, err);
}

/* Writes what PEM_write fills into a memory BIO to path, atomically. */
static int save_bio(BIO *bio, const char *path, mode_t mode, rp_error *err) {
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n <= 0 || !data)
                return rp_error_set(err, -ENOMEM, "%s: cannot encode the key", path);
        return rp_write_file_atomic(path, data, (size_t) n, mode, err);
}

int rp_key_save_private(const rp_key *key, const char *path, rp_error *err) {
        if (!key->private)
                return rp_error_set(err, -EINVAL, "%s: cannot save a private key: only the public key is loaded",
                                    path);
        /* A secure-heap BIO is wiped when freed. */
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_secmem());
        if (!bio)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
        /* PEM_write_bio_PrivateKey writes unencrypted PKCS#8 ("PRIVATE KEY"). */
        if (PEM_write_bio_PrivateKey(bio, key->pkey, NULL, NULL, 0, NULL, NULL) != 1)
                return rp_error_set(err, -ENOMEM, "%s: cannot encode the private key", path);
        int r = save_bio(bio, path, 0600, err);
        char *data = NULL;
        long n = BIO_get_mem_data(bio, &data);
        if (n > 0 && data)
                OPENSSL_cleanse(data, (size_t) n);
        return r;
}

int rp_key_save_public(const rp_key *key, const char *path, rp_error *err) {
        _cleanup_(bio_freep) BIO *bio = BIO_new(BIO_s_mem());
        if (!bio)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
        if (PEM_write_bio_PUBKEY(bio, key->pkey) != 1)
                return rp_error_set(err, -ENOMEM, "%s: cannot encode the public key", path);
        return save_bio(bio, path, 0644, err);
}

void rp_key_id(const rp_key *key, uint8_t ret_id[RP_KEY_ID_LEN]) {
        memcpy(ret_id, key->id, RP_KEY_ID_LEN);
}

/* True if the 32-byte big-endian s is at most (n - 1) / 2. */
/* The order L of Ed25519's base point, little-endian as in signatures:
 * 2^252 + 27742317777372353535851937790883648493. */
static const uint8_t ed25519_order[32] = {
        0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10,
};

/* True if the S half of an Ed25519 signature (little-endian) is below L,
 * as RFC 8032 5.1.7 requires. */
static bool ed25519_s_in_range(const uint8_t s[32]) {
        for (int i = 31; i >= 0; i--)
                if (s[i] != ed25519_order[i])
                        return s[i] < ed25519_order[i];
        return false;
}

static bool p256_s_is_low(const uint8_t s[P256_LEN]) {
        return memcmp(s, p256_half_order, P256_LEN) <= 0;
}

/* True if the 32-byte big-endian v is in [1, n-1]. */
bool rp_p256_scalar_in_range(const uint8_t v[P256_LEN]) {
        bool zero = true;
        for (size_t i = 0; i < P256_LEN; i++)
                if (v[i]) {
                        zero = false;
                        break;
                }
        return !zero && memcmp(v, p256_order, P256_LEN) < 0;
}

/* ES256 signatures: DER ECDSA-Sig-Value <-> the fixed 64-byte r||s that
 * COSE uses. The raw form is low-S: (r, s) and (r, n - s) are both valid
 * signatures of the same message, and only the one with s <= (n - 1) / 2 is
 * accepted. */
int rp_ecdsa_sig_to_raw(const uint8_t *der, size_t len, uint8_t ret_sig[RP_SIG_MAX]) {
        if (len > 80)
                return -EINVAL;
        const unsigned char *p = der;
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long) len);
        if (!sig) {
                ERR_clear_error();
                return -EINVAL;
        }
        if ((size_t) (p - der) != len)
                return -EINVAL;   /* bytes after the signature */
        const BIGNUM *r = NULL, *s = NULL;
        ECDSA_SIG_get0(sig, &r, &s);
        uint8_t raw[RP_SIG_MAX];
        if (BN_is_negative(r) || BN_is_negative(s) || BN_bn2binpad(r, raw, P256_LEN) != P256_LEN ||
            BN_bn2binpad(s, raw + P256_LEN, P256_LEN) != P256_LEN)
                return -ERANGE;
        if (!rp_p256_scalar_in_range(raw) || !rp_p256_scalar_in_range(raw + P256_LEN))
                return -ERANGE;
        if (memcmp(raw + P256_LEN, p256_half_order, P256_LEN) > 0) {
                /* s = n - s, on the 32-byte big-endian form (0 < s < n). */
                unsigned borrow = 0;
                for (size_t i = P256_LEN; i-- > 0;) {
                        unsigned d = (unsigned) p256_order[i] - raw[P256_LEN + i] - borrow;
                        raw[P256_LEN + i] = (uint8_t) d;
                        borrow = d >> 8 & 1;
                }
        }
        memcpy(ret_sig, raw, sizeof raw);
        return 0;
}

int rp_ecdsa_sig_to_der(const uint8_t sig[RP_SIG_MAX], uint8_t **ret_der, size_t *ret_len) {
        _cleanup_(ecdsa_sig_freep) ECDSA_SIG *s = ECDSA_SIG_new();
        _cleanup_(bn_freep) BIGNUM *r_bn = BN_bin2bn(sig, P256_LEN, NULL);
        _cleanup_(bn_freep) BIGNUM *s_bn = BN_bin2bn(sig + P256_LEN, P256_LEN, NULL);
        if (!s || !r_bn || !s_bn || ECDSA_SIG_set0(s, r_bn, s_bn) != 1)
                return rp_openssl_failure(-ENOMEM);
        TAKE_PTR(r_bn);
        TAKE_PTR(s_bn);
        int n = i2d_ECDSA_SIG(s, NULL);
        if (n <= 0)
                return rp_openssl_failure(-ENOMEM);
        uint8_t *der = malloc((size_t) n);
        if (!der)
                return -ENOMEM;
        unsigned char *p = der;
        if (i2d_ECDSA_SIG(s, &p) != n) {
                free(der);
                return rp_openssl_failure(-ENOMEM);
        }
        *ret_der = der;
        *ret_len = (size_t) n;
        return 0;
}

int rp_key_sign(const rp_key *key, const void *msg, size_t len,
                uint8_t ret_sig[RP_SIG_MAX], size_t *ret_sig_len, rp_error *err) {
        if (!key->private)
                return rp_error_set(err, -EINVAL, "cannot sign: this is a public key, a private key is needed");

        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return rp_error_set(err, -ENOMEM, "out of memory");
        const char *md = key->type == RP_KEY_ES256 ? "SHA256" : NULL;
        EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);   /* used once: no copy in the final step */
        if (EVP_DigestSignInit_ex(ctx, NULL, md, NULL, NULL, key->pkey, NULL) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot start a %s signature",
                                    rp_key_type_name(key->type));

        /* An ECDSA P-256 DER signature is at most 72 bytes. */
        unsigned char der[80];
        size_t der_len = sizeof der;
        if (EVP_DigestSign(ctx, der, &der_len, msg, len) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "%s signing failed", rp_key_type_name(key->type));

        if (key->type == RP_KEY_ED25519) {
                RP_INVARIANT(der_len == RP_SIG_MAX);   /* every Ed25519 signature is 64 bytes */
                memcpy(ret_sig, der, RP_SIG_MAX);
        } else {
                uint8_t raw[RP_SIG_MAX];
                if (rp_ecdsa_sig_to_raw(der, der_len, raw) < 0)
                        return rp_error_set(err, -EIO, "ES256 signing gave a malformed signature");
                memcpy(ret_sig, raw, sizeof raw);
        }
        *ret_sig_len = RP_SIG_MAX;
        return 0;
}

int rp_key_verify(const rp_key *key, const void *msg, size_t len,
                  const uint8_t *sig, size_t sig_len, rp_error *err) {
        const char *name = rp_key_type_name(key->type);
        if (sig_len != RP_SIG_MAX)
                return rp_error_set(err, -EINVAL, "%s signature is %zu bytes, %s needs %d",
                                    name, sig_len, name, RP_SIG_MAX);

        _cleanup_free_ uint8_t *der = NULL;
        const unsigned char *to_check = sig;
        size_t check_len = sig_len;
        if (key->type == RP_KEY_ES256) {
                if (!rp_p256_scalar_in_range(sig) || !rp_p256_scalar_in_range(sig + P256_LEN))
                        return rp_error_set(err, -EKEYREJECTED,
                                            "ES256 signature is invalid: r or s is zero or not below the group order");
                if (!p256_s_is_low(sig + P256_LEN))
                        return rp_error_set(err, -EKEYREJECTED,
                                            "ES256 signature has a high s (above (n - 1) / 2); only the low-S form "
                                            "is accepted, so that no second valid signature can be made from it");
                int r = rp_ecdsa_sig_to_der(sig, &der, &check_len);
                if (r < 0)
                        return rp_error_set(err, r, "out of memory");
                to_check = der;
        } else if (!ed25519_s_in_range(sig + 32))
                return rp_error_set(err, -EKEYREJECTED, "Ed25519 signature is invalid: S is not below the group "
                                    "order");

        _cleanup_(evp_md_ctx_freep) EVP_MD_CTX *ctx = EVP_MD_CTX_new();
        if (!ctx)
                return rp_error_set(err, -ENOMEM, "out of memory");
        const char *md = key->type == RP_KEY_ES256 ? "SHA256" : NULL;
        /* The context is used once: without this flag, the final step
         * copies it, and OpenSSL 3.0 reports a failure to allocate that
         * copy as a signature that does not verify (return value 0). */
        EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
        if (EVP_DigestVerifyInit_ex(ctx, NULL, md, NULL, NULL, key->pkey, NULL) != 1)
                return rp_error_set(err, rp_openssl_failure(-EIO), "cannot start a %s verification", name);
        int k = EVP_DigestVerify(ctx, to_check, check_len, msg, len);
        if (k == 1)
                return 0;
        /* 0 is a verdict, unless OpenSSL queued an error with it: its
         * Ed25519 code returns 0 when an allocation fails, most often
         * saying so. (One of its allocations fails silently; that one
         * cannot be told from a wrong signature.) */
        if (k == 0 && ERR_peek_error() == 0)
                return rp_error_set(err, -EKEYREJECTED, "%s signature does not verify", name);
        /* An error, not a verdict: every malformed signature OpenSSL would
         * refuse this way was refused above, so this is OpenSSL failing
         * (out of memory, most likely). It says nothing about the
         * signature and must not be reported as a forgery. */
        return rp_error_set(err, rp_openssl_failure(-EIO), "could not check the %s signature (an internal error "
                            "in OpenSSL, not a verdict on the signature)", name);
}

int rp_sha256_new(rp_sha256 **ret) {
        rp_sha256 *h = calloc(1, sizeof *h);
        if (!h)
                return -ENOMEM;
        h->ctx = EVP_MD_CTX_new();
        if (!h->ctx || EVP_DigestInit_ex2(h->ctx, EVP_sha256(), NULL) != 1) {
                rp_sha256_free(h);
                return -ENOMEM;
        }
        *ret = h;
        return 0;
}

int rp_sha256_update(rp_sha256 *h, const void *data, size_t len) {
        if (h->finished)
                return -EINVAL;
        if (len == 0)
                return 0;
        return EVP_DigestUpdate(h->ctx, data, len) == 1 ? 0 : rp_openssl_failure(-EIO);
}

int rp_sha256_final(rp_sha256 *h, uint8_t ret_digest[RP_SHA256_LEN]) {
        if (h->finished)
                return -EINVAL;
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (EVP_DigestFinal_ex(h->ctx, d, &n) != 1 || n != RP_SHA256_LEN)
                return rp_openssl_failure(-EIO);
        h->finished = true;
        memcpy(ret_digest, d, RP_SHA256_LEN);
        return 0;
}

void rp_sha256_free(rp_sha256 *h) {
        if (!h)
                return;
        EVP_MD_CTX_free(h->ctx);
        free(h);
}

int rp_sha256_digest(const void *data, size_t len, uint8_t ret_digest[RP_SHA256_LEN]) {
        uint8_t d[EVP_MAX_MD_SIZE];
        unsigned n = 0;
        if (EVP_Digest(len ? data : "", len, d, &n, EVP_sha256(), NULL) != 1 || n != RP_SHA256_LEN)
                return rp_openssl_failure(-EIO);
        memcpy(ret_digest, d, RP_SHA256_LEN);
        return 0;
}

bool rp_memeq_consttime(const void *a, const void *b, size_t len) {
        return len == 0 || CRYPTO_memcmp(a, b, len) == 0;
}
