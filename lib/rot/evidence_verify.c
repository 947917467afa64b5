/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation evidence, the verifier's side (include/rampart/evidence.h):
 * structure, certificate chain, Alias certificate, signature, claims,
 * nonce, identity, measurement, policy, in that order. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/cbor.h"
#include "core/cose_internal.h"
#include "core/crypto_internal.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "rampart/cose.h"
#include "rampart/evidence.h"
#include "rot/evidence_internal.h"
#include "rot/tcbinfo.h"

#define CA_PEM_MAX (1024 * 1024)   /* the policy's trusted certificates */
#define CA_MAX 64
#define CLAIMS_MAX 64              /* claims in the map, known or not */
#define CLAIMS_MAX_DEPTH 8
#define CLAIMS_MAX_ITEMS 1024
#define CHAIN_ALIAS 0
#define CHAIN_DEVICEID 1

/* fallback, or -ENOMEM if OpenSSL's error queue says it ran out of memory
 * (a failed allocation is never reported as a bad certificate). Empties
 * the thread's error queue. */
static int openssl_failure(int fallback) {
        int r = fallback;
        for (unsigned long e; (e = ERR_get_error()) != 0;)
                if (ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE)
                        r = -ENOMEM;
        return r;
}

/* What the checks share as they go. */
typedef struct verify_ctx {
        const rp_evidence_policy *policy;
        STACK_OF(X509) *trusted;          /* decoded by the caller (borrowed), or NULL: policy->ca_pem */
        rp_cose_sign1 *msg;
        X509 *alias;
        X509 *deviceid;
        rp_tcbinfo tcb;
        cbor_item_t *claims_map;          /* the decoded payload */
        const uint8_t *components;        /* inside claims_map */
        size_t components_len;
        rp_evidence_claims *out;
} verify_ctx;

static void verify_ctx_done(verify_ctx *v) {
        rp_cose_sign1_free(v->msg);
        X509_free(v->alias);
        X509_free(v->deviceid);
        rp_cbor_decrefp(&v->claims_map);
        free(v->out);
}

void rp_evidence_claims_free(rp_evidence_claims *claims) {
        free(claims);
}

const char *rp_evidence_dbgstat_name(int dbgstat) {
        static const char *const names[] = {
                "enabled", "disabled", "disabled-since-boot", "disabled-permanently",
                "disabled-fully-and-permanently",
        };
        return dbgstat >= 0 && dbgstat < (int) ELEMENTSOF(names) ? names[dbgstat] : "unknown";
}

/* 1. One COSE_Sign1 in the profile, within the size limit, nothing after
 * it, ES256, content type application/eat+cwt. */
static int check_structure(verify_ctx *v, const uint8_t *buf, size_t len, rp_error *err) {
        if (!buf || len == 0)
                return rp_error_set(err, -EBADMSG, "evidence: empty");
        if (len > RP_EVIDENCE_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "evidence: %zu bytes, the limit is %d", len, RP_EVIDENCE_MAX_SIZE);
        size_t used;
        int r = rp_cose_sign1_decode(buf, len, &v->msg, &used, err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: ");
        if (used != len)
                return rp_error_set(err, -EBADMSG, "evidence: %zu bytes after the COSE_Sign1", len - used);
        if (rp_cose_sign1_alg(v->msg) != RP_COSE_ALG_ES256)
                return rp_error_set(err, -EOPNOTSUPP, "evidence: signed with %s; evidence is signed with ES256",
                                    rp_cose_alg_name(rp_cose_sign1_alg(v->msg)));
        const char *ct = rp_cose_sign1_content_type(v->msg);
        if (!ct)
                return rp_error_set(err, -EINVAL, "evidence: no content type (3) in the protected header; expected "
                                    "%s", RP_EVIDENCE_CONTENT_TYPE);
        if (!streq(ct, RP_EVIDENCE_CONTENT_TYPE))
                return rp_error_set(err, -EOPNOTSUPP, "evidence: content type is \"%s\", expected %s", ct,
                                    RP_EVIDENCE_CONTENT_TYPE);
        return 0;
}

/* Decodes a DER certificate, all of the bytes. */
static int decode_cert(const uint8_t *der, size_t len, const char *where, const char *what, X509 **ret,
                       rp_error *err) {
        ERR_clear_error();
        const unsigned char *p = der;
        _cleanup_(x509_freep) X509 *x = d2i_X509(NULL, &p, (long) len);
        if (!x) {
                int r = openssl_failure(-EINVAL);
                return rp_error_set(err, r, r == -ENOMEM ? "evidence: out of memory" : "evidence: %s: %s is not a "
                                    "DER X.509 certificate", where, what);
        }
        if (p != der + len)
                return rp_error_set(err, -EINVAL, "evidence: %s: %zu bytes after %s", where, (size_t) (der + len - p),
                                    what);
        *ret = TAKE_PTR(x);
        return 0;
}

/* 2. x5chain: exactly [Alias, DeviceID]. */
static int read_chain(verify_ctx *v, rp_error *err) {
        X509_free(v->alias);
        X509_free(v->deviceid);
        v->alias = v->deviceid = NULL;
        const rp_cose_cert *chain;
        size_t n = rp_cose_sign1_x5chain(v->msg, &chain);
        if (n == 0)
                return rp_error_set(err, -EINVAL, "evidence: no certificate chain (x5chain, 33) in the protected "
                                    "header");
        if (n != 2)
                return rp_error_set(err, -EINVAL, "evidence: x5chain holds %zu certificates; evidence carries "
                                    "exactly 2, [Alias, DeviceID]", n);
        int r = decode_cert(chain[CHAIN_ALIAS].der, chain[CHAIN_ALIAS].len, "x5chain", "the first (Alias) "
                            "certificate", &v->alias, err);
        if (r >= 0)
                r = decode_cert(chain[CHAIN_DEVICEID].der, chain[CHAIN_DEVICEID].len, "x5chain", "the second "
                                "(DeviceID) certificate", &v->deviceid, err);
        return r;
}

/* The trusted certificates in ca_pem (len bytes), onto cas. */
static int load_trusted(const char *ca_pem, size_t len, STACK_OF(X509) *cas, rp_error *err) {
        if (len > CA_PEM_MAX)
                return rp_error_set(err, -EFBIG, "evidence policy: the trusted CA certificates are %zu bytes, the "
                                    "limit is %d", len, CA_PEM_MAX);
        _cleanup_(bio_freep) BIO *bio = BIO_new_mem_buf(ca_pem, (int) len);
        if (!bio)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        size_t n = 0;
        ERR_clear_error();
        for (;;) {
                _cleanup_(x509_freep) X509 *ca = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                if (!ca)
                        break;
                if (++n > CA_MAX)
                        return rp_error_set(err, -EFBIG, "evidence policy: more than %d trusted CA certificates",
                                            CA_MAX);
                if (!sk_X509_push(cas, ca))
                        return rp_error_set(err, -ENOMEM, "evidence: out of memory");
                TAKE_PTR(ca);
        }
        /* The end of the PEM text, or a block that is not a certificate
         * (OpenSSL says why), or OpenSSL failing (nothing said, or out of
         * memory). */
        unsigned long e = ERR_peek_last_error();
        bool end = ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE;
        int r = openssl_failure(-EINVAL);
        if (r == -ENOMEM || e == 0)
                return rp_error_set(err, e == 0 ? -EIO : r, "evidence: the trusted CA certificates could not be "
                                    "read (an internal error in OpenSSL)");
        if (!end)
                return rp_error_set(err, r, "evidence policy: the trusted CA certificates: certificate %zu is not a "
                                    "readable PEM certificate", n + 1);
        if (n == 0)
                return rp_error_set(err, -EINVAL, "evidence policy: no trusted CA certificate (no PEM "
                                    "\"CERTIFICATE\" block)");
        return 0;
}

/* 3. The chain to a trusted CA, at policy->now. On success *ret_chain is
 * the chain OpenSSL built, leaf first. */
static int verify_chain(verify_ctx *v, STACK_OF(X509) **ret_chain, rp_error *err) {
        _cleanup_(x509_store_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(x509_store_ctx_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        _cleanup_(x509_stack_freep) STACK_OF(X509) *untrusted = sk_X509_new_null();
        _cleanup_(x509_stack_freep) STACK_OF(X509) *cas = sk_X509_new_null();
        if (!store || !ctx || !untrusted || !cas || !X509_up_ref(v->deviceid))
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        if (!sk_X509_push(untrusted, v->deviceid)) {
                X509_free(v->deviceid);
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        }
        int r = v->trusted ? 0 : load_trusted(v->policy->ca_pem, v->policy->ca_pem_len, cas, err);
        if (r < 0)
                return r;
        /* The trusted certificates as a stack, not in the (empty) store:
         * OpenSSL's store lookups turn some failed allocations into "issuer
         * not found", a verdict nobody could tell from a real one. */
        if (X509_STORE_CTX_init(ctx, store, v->alias, untrusted) != 1 ||
            X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_ANY) != 1)
                return rp_error_set(err, openssl_failure(-ENOMEM), "evidence: out of memory");
        X509_STORE_CTX_set0_trusted_stack(ctx, v->trusted ? v->trusted : cas);
        if (v->policy->now)
                X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t) v->policy->now);
        ERR_clear_error();
        int ok = X509_verify_cert(ctx);
        int e = X509_STORE_CTX_get_error(ctx);
        /* Not a verdict: OpenSSL failed and says so. (Failures it turns
         * into verdicts are caught by check_certificates.) */
        r = openssl_failure(-EIO);
        if (ok < 0 || e == X509_V_ERR_OUT_OF_MEM)
                return rp_error_set(err, e == X509_V_ERR_OUT_OF_MEM ? -ENOMEM : r, "evidence: the certificate chain "
                                    "could not be checked (an internal error in OpenSSL, not a verdict on the "
                                    "chain)");
        if (ok == 0) {
                return rp_error_set(err, -EKEYREJECTED, "evidence: the certificate chain does not verify to a "
                                    "trusted CA: %s (certificate %d of the chain)", X509_verify_cert_error_string(e),
                                    X509_STORE_CTX_get_error_depth(ctx));
        }
        *ret_chain = X509_STORE_CTX_get1_chain(ctx);
        if (!*ret_chain)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        return 0;
}

/* The TcbInfo extension's value, if the certificate has exactly one. */
static int find_tcbinfo(X509 *cert, const ASN1_OCTET_STRING **ret, rp_error *err) {
        _cleanup_(asn1_object_freep) ASN1_OBJECT *oid = OBJ_txt2obj(RP_TCBINFO_OID, 1);
        if (!oid)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        int i = X509_get_ext_by_OBJ(cert, oid, -1);
        if (i < 0)
                return rp_error_set(err, -EKEYREJECTED, "evidence: the signing certificate has no TcbInfo extension "
                                    "(%s): it is not an Alias certificate", RP_TCBINFO_OID);
        if (X509_get_ext_by_OBJ(cert, oid, i) >= 0)
                return rp_error_set(err, -EINVAL, "evidence: the Alias certificate has two TcbInfo extensions");
        *ret = X509_EXTENSION_get_data(X509_get_ext(cert, i));
        return 0;
}

/* 4. The leaf is an Alias certificate, issued by the DeviceID certificate
 * of x5chain, which the trusted CA issued. */
static int check_alias(verify_ctx *v, STACK_OF(X509) *chain, rp_error *err) {
        if (X509_check_ca(v->alias) != 0)
                return rp_error_set(err, -EKEYREJECTED, "evidence: the signing certificate is a CA certificate (a "
                                    "DeviceID certificate?), not an Alias certificate");
        const ASN1_OCTET_STRING *ext = NULL;
        int r = find_tcbinfo(v->alias, &ext, err);
        if (r < 0)
                return r;
        r = rp_tcbinfo_decode(ASN1_STRING_get0_data(ext), (size_t) ASN1_STRING_length(ext), &v->tcb, err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: the Alias certificate's TcbInfo: ");
        /* Leaf first: [Alias, DeviceID, the trusted CA (or an intermediate
         * the policy trusts, then its CA)]. */
        if (sk_X509_num(chain) < 3 || X509_cmp(sk_X509_value(chain, 1), v->deviceid) != 0)
                return rp_error_set(err, -EKEYREJECTED, "evidence: the Alias certificate does not chain to the trusted "
                                    "CA through the DeviceID certificate of x5chain");
        return 0;
}

static int check_certificates_once(verify_ctx *v, rp_error *err) {
        _cleanup_(x509_stack_freep) STACK_OF(X509) *chain = NULL;
        int r = read_chain(v, err);
        if (r >= 0)
                r = verify_chain(v, &chain, err);
        if (r >= 0)
                r = check_alias(v, chain, err);
        return r;
}

/* 2-4: the certificates. OpenSSL 3.0 turns some failed allocations into
 * verdicts without a word (flags it caches about a certificate computed
 * wrong, an issuer "not found"), so a verdict counts only once it repeats
 * with the certificates decoded afresh: the same refusal twice in a row,
 * out of at most three tries. */
static int check_certificates(verify_ctx *v, rp_error *err) {
        rp_error prev = {};
        int prev_r = 0;
        for (int attempt = 0;; attempt++) {
                rp_error cur = {};
                int r = check_certificates_once(v, &cur);
                bool again = r == -EKEYREJECTED && attempt < 2 &&
                             !(attempt > 0 && prev_r == r && streq(prev.message, cur.message));
                if (!again) {
                        if (r < 0)
                                return rp_error_set(err, r, "%s", cur.message);
                        return 0;
                }
                prev = cur;
                prev_r = r;
        }
}

/* A P-256 public key with the named curve and an uncompressed point, as
 * DER SubjectPublicKeyInfo: these 27 bytes, then the point's 64. */
static const uint8_t p256_spki_prefix[] = {
        0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
        0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04,
};
#define P256_SPKI_LEN (sizeof p256_spki_prefix + 64)

/* The DER SubjectPublicKeyInfo of the Alias certificate's key pub, as
 * OpenSSL writes that key (i2d_PUBKEY). A key in the form above is
 * written as it was read, so its bytes in the certificate are taken as
 * they are: OpenSSL 3.0's encoder costs more than the rest of the check. */
static int alias_spki(verify_ctx *v, EVP_PKEY *pub, rp_error *err) {
        _cleanup_(openssl_freep) unsigned char *der = NULL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(v->alias), &der);
        if (n != (int) P256_SPKI_LEN || memcmp(der, p256_spki_prefix, sizeof p256_spki_prefix) != 0) {
                OPENSSL_free(TAKE_PTR(der));
                n = i2d_PUBKEY(pub, &der);
        }
        if (n <= 0)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        RP_INVARIANT(n <= RP_EVIDENCE_PUBKEY_MAX);   /* a P-256 key (it verified an ES256 signature): 91 bytes */
        memcpy(v->out->alias_public_key, der, (size_t) n);
        v->out->alias_public_key_len = (size_t) n;
        return 0;
}

/* 5. The signature, with the Alias certificate's key. */
static int check_signature(verify_ctx *v, rp_error *err) {
        EVP_PKEY *pub = X509_get0_pubkey(v->alias);
        if (!pub)
                return rp_error_set(err, openssl_failure(-EINVAL), "evidence: the Alias certificate's public key "
                                    "cannot be read");
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_key_from_x509(v->alias, &key, err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: the Alias certificate's key: ");
        r = rp_cose_sign1_verify(v->msg, key, NULL, 0, err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: signature: ");
        return alias_spki(v, pub, err);
}

/* Claim keys: integers or text, each once. */
static bool key_eq(const cbor_item_t *a, const cbor_item_t *b) {
        if (cbor_isa_string(a) && cbor_isa_string(b))
                return cbor_string_length(a) == cbor_string_length(b) &&
                       (cbor_string_length(a) == 0 ||
                        memcmp(cbor_string_handle(a), cbor_string_handle(b), cbor_string_length(a)) == 0);
        return cbor_typeof(a) == cbor_typeof(b) && !cbor_isa_string(a) && cbor_get_int(a) == cbor_get_int(b);
}

static void key_str(const cbor_item_t *k, char *buf, size_t size) {
        int64_t v;
        if (rp_cbor_get_int(k, &v) == 0)
                snprintf(buf, size, "%" PRId64, v);
        else if (cbor_isa_string(k))
                snprintf(buf, size, "(a %zu-byte text key)", cbor_string_length(k));
        else
                snprintf(buf, size, "(an integer beyond int64)");
}

static int check_claim_keys(const cbor_item_t *map, rp_error *err) {
        size_t n = cbor_map_size(map);
        if (n > CLAIMS_MAX)
                return rp_error_set(err, -EFBIG, "evidence: claims: %zu claims, the limit is %d", n, CLAIMS_MAX);
        struct cbor_pair *p = cbor_map_handle(map);
        for (size_t i = 0; i < n; i++) {
                const cbor_item_t *k = p[i].key;
                if (!cbor_isa_uint(k) && !cbor_isa_negint(k) && !cbor_isa_string(k))
                        return rp_error_set(err, -EINVAL, "evidence: claims: key %zu is %s, expected an integer or "
                                            "text", i, rp_cbor_kind(k));
                for (size_t j = 0; j < i; j++)
                        if (key_eq(p[j].key, k)) {
                                char l[64];
                                key_str(k, l, sizeof l);
                                return rp_error_set(err, -EINVAL, "evidence: claims: duplicate claim %s", l);
                        }
        }
        return 0;
}

/* The payload: a deterministic CBOR map of claims, nothing after it. */
static int decode_claims(verify_ctx *v, rp_error *err) {
        size_t len, used;
        const uint8_t *payload = rp_cose_sign1_payload(v->msg, &len);
        rp_error sub = {};
        int r = rp_cbor_decode(payload, len, CLAIMS_MAX_DEPTH, CLAIMS_MAX_ITEMS, &v->claims_map, &used, &sub);
        if (r < 0)
                return rp_error_set(err, r, "evidence: claims: %s", sub.message);
        if (used != len)
                return rp_error_set(err, -EBADMSG, "evidence: claims: %zu bytes after the claims map", len - used);
        if (!cbor_isa_map(v->claims_map))
                return rp_error_set(err, -EINVAL, "evidence: claims: the payload is %s, expected a map of claims",
                                    rp_cbor_kind(v->claims_map));
        r = check_claim_keys(v->claims_map, err);
        if (r < 0)
                return r;
        int det = rp_cbor_is_deterministic(payload, len);
        if (det < 0)
                return rp_error_set(err, det, "evidence: out of memory");
        if (det == 0)
                return rp_error_set(err, -EINVAL, "evidence: claims: not in deterministic CBOR");
        return 0;
}

/* The claim under key, which the profile requires. */
static int claim(const verify_ctx *v, int64_t key, const char *name, const cbor_item_t **ret, rp_error *err) {
        const cbor_item_t *c = rp_cbor_map_get_int(v->claims_map, key);
        if (!c)
                return rp_error_set(err, -EINVAL, "evidence: claims: %s (%" PRId64 ") is missing", name, key);
        *ret = c;
        return 0;
}

static int claim_bytes(const verify_ctx *v, int64_t key, const char *name, size_t min, size_t max,
                       const cbor_item_t **ret, rp_error *err) {
        int r = claim(v, key, name, ret, err);
        if (r < 0)
                return r;
        if (!cbor_isa_bytestring(*ret))
                return rp_error_set(err, -EINVAL, "evidence: claims: %s (%" PRId64 ") is %s, expected a byte string",
                                    name, key, rp_cbor_kind(*ret));
        size_t n = cbor_bytestring_length(*ret);
        if (n < min || n > max) {
                char want[48];
                if (min == max)
                        snprintf(want, sizeof want, "%zu", min);
                else
                        snprintf(want, sizeof want, "%zu to %zu", min, max);
                return rp_error_set(err, -EINVAL, "evidence: claims: %s (%" PRId64 ") is %zu bytes, expected %s",
                                    name, key, n, want);
        }
        return 0;
}

static int claim_text(const verify_ctx *v, int64_t key, const char *name, size_t max, char *out, rp_error *err) {
        const cbor_item_t *c = NULL;
        int r = claim(v, key, name, &c, err);
        if (r < 0)
                return r;
        char what[80];
        snprintf(what, sizeof what, "evidence: claims: %s (%" PRId64 ")", name, key);
        return evidence_text_copy(c, 1, max, out, what, err);
}

static int claim_uint(const verify_ctx *v, int64_t key, const char *name, uint64_t max, uint64_t *ret,
                      rp_error *err) {
        const cbor_item_t *c = NULL;
        int r = claim(v, key, name, &c, err);
        if (r < 0)
                return r;
        if (!cbor_isa_uint(c))
                return rp_error_set(err, -EINVAL, "evidence: claims: %s (%" PRId64 ") is %s, expected %s", name, key,
                                    cbor_isa_negint(c) ? "negative" : rp_cbor_kind(c), "an integer of 0 or more");
        uint64_t u = cbor_get_int(c);
        if (u > max)
                return rp_error_set(err, -EINVAL, "evidence: claims: %s (%" PRId64 ") is %" PRIu64 ", expected 0 to %"
                                    PRIu64, name, key, u, max);
        *ret = u;
        return 0;
}

/* eat_nonce and ueid. */
static int read_identity(verify_ctx *v, rp_error *err) {
        const cbor_item_t *c = NULL;
        int r = claim_bytes(v, EVIDENCE_CLAIM_NONCE, "eat_nonce", RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX, &c,
                            err);
        if (r < 0)
                return r;
        v->out->nonce_len = cbor_bytestring_length(c);
        memcpy(v->out->nonce, cbor_bytestring_handle(c), v->out->nonce_len);
        r = claim_bytes(v, EVIDENCE_CLAIM_UEID, "ueid", EVIDENCE_UEID_LEN, EVIDENCE_UEID_LEN, &c, err);
        if (r < 0)
                return r;
        const uint8_t *ueid = cbor_bytestring_handle(c);
        if (ueid[0] != EVIDENCE_UEID_TYPE_RAND)
                return rp_error_set(err, -EINVAL, "evidence: claims: ueid (256) is of type 0x%02x, expected 0x01 "
                                    "(RAND: the device id)", ueid[0]);
        rp_hex_encode_buf(ueid + 1, RP_EVIDENCE_DIGEST_LEN, v->out->device_id);
        return 0;
}

/* eat_profile: rampart's URI. */
static int read_profile(verify_ctx *v, rp_error *err) {
        const cbor_item_t *c = NULL;
        int r = claim(v, EVIDENCE_CLAIM_PROFILE, "eat_profile", &c, err);
        if (r < 0)
                return r;
        if (cbor_isa_bytestring(c))
                return rp_error_set(err, -EOPNOTSUPP, "evidence: claims: eat_profile (265) is an OID; rampart's "
                                    "profile is \"%s\"", RP_EVIDENCE_PROFILE);
        if (!cbor_isa_string(c))
                return rp_error_set(err, -EINVAL, "evidence: claims: eat_profile (265) is %s, expected text",
                                    rp_cbor_kind(c));
        size_t n = cbor_string_length(c);
        if (n != strlen(RP_EVIDENCE_PROFILE) || memcmp(cbor_string_handle(c), RP_EVIDENCE_PROFILE, n) != 0)
                return rp_error_set(err, -EOPNOTSUPP, "evidence: claims: eat_profile (265) is another profile than "
                                    "rampart's \"%s\"", RP_EVIDENCE_PROFILE);
        return 0;
}

/* iat, swname, swversion, dbgstat. */
static int read_software(verify_ctx *v, rp_error *err) {
        uint64_t iat, dbgstat;
        int r = claim_uint(v, EVIDENCE_CLAIM_IAT, "iat", INT64_MAX, &iat, err);
        if (r >= 0)
                r = claim_text(v, EVIDENCE_CLAIM_SWNAME, "swname", RP_EVIDENCE_TEXT_MAX, v->out->swname, err);
        if (r >= 0)
                r = claim_text(v, EVIDENCE_CLAIM_SWVERSION, "swversion", RP_EVIDENCE_TEXT_MAX, v->out->swversion, err);
        if (r >= 0)
                r = claim_uint(v, EVIDENCE_CLAIM_DBGSTAT, "dbgstat", EVIDENCE_DBGSTAT_MAX, &dbgstat, err);
        if (r < 0)
                return r;
        v->out->iat = (int64_t) iat;
        v->out->dbgstat = (int) dbgstat;
        return 0;
}

/* measurements: [[65000, components]]. */
static int read_measurements(verify_ctx *v, rp_error *err) {
        const cbor_item_t *c = NULL;
        int r = claim(v, EVIDENCE_CLAIM_MEASUREMENTS, "measurements", &c, err);
        if (r < 0)
                return r;
        if (!cbor_isa_array(c) || cbor_array_size(c) != 1)
                return rp_error_set(err, -EINVAL, "evidence: claims: measurements (273) is not an array of one "
                                    "measurement");
        const cbor_item_t *m = cbor_array_handle(c)[0];
        if (!cbor_isa_array(m) || cbor_array_size(m) != 2)
                return rp_error_set(err, -EINVAL, "evidence: claims: measurements (273): the measurement is not an "
                                    "array of 2 (content format, bytes)");
        const cbor_item_t *format = cbor_array_handle(m)[0], *bytes = cbor_array_handle(m)[1];
        if (!cbor_isa_uint(format))
                return rp_error_set(err, -EINVAL, "evidence: claims: measurements (273): the content format is %s, "
                                    "expected an integer", rp_cbor_kind(format));
        if (cbor_get_int(format) != EVIDENCE_MEASUREMENT_FORMAT)
                return rp_error_set(err, -EOPNOTSUPP, "evidence: claims: measurements (273): content format %" PRIu64
                                    ", expected %d (rampart's components list)", cbor_get_int(format),
                                    EVIDENCE_MEASUREMENT_FORMAT);
        if (!cbor_isa_bytestring(bytes))
                return rp_error_set(err, -EINVAL, "evidence: claims: measurements (273): the measurement is %s, "
                                    "expected a byte string", rp_cbor_kind(bytes));
        v->components = cbor_bytestring_handle(bytes);
        v->components_len = cbor_bytestring_length(bytes);
        r = evidence_components_parse(v->components, v->components_len, v->out->components, &v->out->n_components,
                                      err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: claims: measurements (273): ");
        r = rp_sha256(v->components, v->components_len, v->out->measurement);
        if (r < 0)
                return rp_error_set(err, r, "evidence: out of memory");
        return 0;
}

/* rampart's private claims: the backend and whether it is for development. */
static int read_backend(verify_ctx *v, rp_error *err) {
        int r = claim_text(v, EVIDENCE_CLAIM_BACKEND, "backend", RP_EVIDENCE_BACKEND_MAX, v->out->backend, err);
        if (r < 0)
                return r;
        if (!evidence_backend_name_ok(v->out->backend, strlen(v->out->backend)))
                return rp_error_set(err, -EINVAL, "evidence: claims: backend (-70001) is not a backend name "
                                    "(lowercase letters and digits)");
        const cbor_item_t *c = NULL;
        r = claim(v, EVIDENCE_CLAIM_DEVELOPMENT, "development", &c, err);
        if (r < 0)
                return r;
        if (!cbor_is_bool(c))
                return rp_error_set(err, -EINVAL, "evidence: claims: development (-70002) is %s, expected a boolean",
                                    rp_cbor_kind(c));
        v->out->development = cbor_get_bool(c);
        return 0;
}

/* 6. Every claim of the profile, with its type and size. */
static int read_claims(verify_ctx *v, rp_error *err) {
        int r = decode_claims(v, err);
        if (r >= 0)
                r = read_identity(v, err);
        if (r >= 0)
                r = read_profile(v, err);
        if (r >= 0)
                r = read_software(v, err);
        if (r >= 0)
                r = read_measurements(v, err);
        if (r >= 0)
                r = read_backend(v, err);
        return r;
}

/* 7-10. What the claims say, against the policy and the certificates. */
static int check_claims(verify_ctx *v, rp_error *err) {
        const rp_evidence_policy *p = v->policy;
        if (v->out->nonce_len != p->nonce_len || !rp_memeq_consttime(v->out->nonce, p->nonce, p->nonce_len))
                return rp_error_set(err, -EKEYREJECTED, "evidence: eat_nonce is not the expected nonce (replayed, "
                                    "or made for another request)");

        _cleanup_(openssl_freep) unsigned char *spki = NULL;
        int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(v->deviceid), &spki);
        uint8_t id[RP_EVIDENCE_DIGEST_LEN];
        if (n <= 0 || rp_sha256(spki, (size_t) n, id) < 0)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        char hex[RP_EVIDENCE_DEVICE_ID_LEN + 1];
        rp_hex_encode_buf(id, sizeof id, hex);
        if (!streq(hex, v->out->device_id))
                return rp_error_set(err, -EKEYREJECTED, "evidence: ueid names device %s, but the DeviceID certificate "
                                    "is device %s", v->out->device_id, hex);

        if (!rp_memeq_consttime(v->out->measurement, v->tcb.fwid_sha256, RP_EVIDENCE_DIGEST_LEN))
                return rp_error_set(err, -EKEYREJECTED, "evidence: the measurements claim does not match the "
                                    "measurement in the Alias certificate (TcbInfo FWID)");
        if (!streq(v->out->backend, v->tcb.model))
                return rp_error_set(err, -EKEYREJECTED, "evidence: the backend claim \"%s\" is not the Alias "
                                    "certificate's TcbInfo model", v->out->backend);

        /* soft keeps its secret in a file, whatever a claim says. */
        if (streq(v->out->backend, "soft") && !v->out->development)
                return rp_error_set(err, -EINVAL, "evidence: claims: the soft backend claims not to be for "
                                    "development");
        if (v->out->development && !p->allow_development)
                return rp_error_set(err, -EKEYREJECTED, "evidence: the device's root of trust is the development "
                                    "backend \"%s\" (its secret is a file); the policy does not allow development "
                                    "backends", v->out->backend);
        return 0;
}

/* The policy's fields; its trusted certificates unless the caller decoded them. */
static int check_policy(const rp_evidence_policy *p, bool want_pem, rp_error *err) {
        if (!p || (want_pem && (!p->ca_pem || p->ca_pem_len == 0)))
                return rp_error_set(err, -EINVAL, "evidence policy: no trusted CA certificates");
        if (!p->nonce || p->nonce_len < RP_EVIDENCE_NONCE_MIN || p->nonce_len > RP_EVIDENCE_NONCE_MAX)
                return rp_error_set(err, -EINVAL, "evidence policy: the expected nonce must be %d to %d bytes",
                                    RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX);
        if (p->now < 0)
                return rp_error_set(err, -EINVAL, "evidence policy: the time is negative");
        return 0;
}

/* Both entry points: trusted NULL reads policy->ca_pem. */
static int verify(const uint8_t *buf, size_t len, STACK_OF(X509) *trusted, const rp_evidence_policy *policy,
                  rp_evidence_claims **ret, X509 **ret_alias, rp_error *err) {
        int r = check_policy(policy, !trusted, err);
        if (r < 0)
                return r;
        if (trusted && (sk_X509_num(trusted) < 1 || sk_X509_num(trusted) > CA_MAX))
                return rp_error_set(err, -EINVAL, "evidence policy: %d trusted CA certificates; 1 to %d are needed",
                                    sk_X509_num(trusted), CA_MAX);
        _cleanup_(verify_ctx_done) verify_ctx v = {
                .policy = policy, .trusted = trusted, .out = calloc(1, sizeof(rp_evidence_claims)),
        };
        if (!v.out)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        /* OpenSSL's error queue tells its failures from verdicts: start
         * with it empty, and leave it so. */
        ERR_clear_error();
        r = check_structure(&v, buf, len, err);
        if (r >= 0)
                r = check_certificates(&v, err);
        if (r >= 0)
                r = check_signature(&v, err);
        if (r >= 0)
                r = read_claims(&v, err);
        if (r >= 0)
                r = check_claims(&v, err);
        ERR_clear_error();
        if (r < 0)
                return r;
        *ret = TAKE_PTR(v.out);
        if (ret_alias)
                *ret_alias = TAKE_PTR(v.alias);
        return 0;
}

int rp_evidence_verify(const uint8_t *buf, size_t len, const rp_evidence_policy *policy,
                       rp_evidence_claims **ret, rp_error *err) {
        return verify(buf, len, NULL, policy, ret, NULL, err);
}

int rp_evidence_verify_trusted(const uint8_t *buf, size_t len, STACK_OF(X509) *trusted,
                               const rp_evidence_policy *policy, rp_evidence_claims **ret, X509 **ret_alias,
                               rp_error *err) {
        if (!trusted)
                return rp_error_set(err, -EINVAL, "evidence policy: no trusted CA certificates");
        return verify(buf, len, trusted, policy, ret, ret_alias, err);
}

int rp_evidence_trusted_parse(const char *ca_pem, size_t len, STACK_OF(X509) **ret, rp_error *err) {
        if (!ca_pem || len == 0)
                return rp_error_set(err, -EINVAL, "evidence policy: no trusted CA certificates");
        _cleanup_(x509_stack_freep) STACK_OF(X509) *cas = sk_X509_new_null();
        if (!cas)
                return rp_error_set(err, -ENOMEM, "evidence: out of memory");
        int r = load_trusted(ca_pem, len, cas, err);
        ERR_clear_error();
        if (r < 0)
                return r;
        *ret = TAKE_PTR(cas);
        return 0;
}
