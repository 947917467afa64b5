/* SPDX-License-Identifier: Apache-2.0 */
/* COSE_Sign1 (RFC 9052 section 4.2): create, decode, verify. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/cose_internal.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/cose.h"

#define COSE_TAG_SIGN1 18

/* Header labels (RFC 9052 section 3.1). */
#define HDR_ALG 1
#define HDR_CRIT 2
#define HDR_CONTENT_TYPE 3
#define HDR_KID 4
#define HDR_X5CHAIN 33        /* RFC 9360 */

/* Limits on what we decode. */
#define COSE_MAX_DEPTH 16
#define COSE_MAX_ITEMS 4096
#define HEADER_MAX_LABELS 64
#define KID_MAX 256
#define CONTENT_TYPE_MAX 256

struct rp_cose_sign1 {
        int alg;                      /* from the protected header */
        char *content_type;           /* protected header 3 as text, or NULL */
        uint8_t *kid;                 /* protected header 4, or NULL */
        size_t kid_len;
        rp_cose_cert *x5chain;        /* protected header 33 (copies), or NULL */
        size_t x5chain_n;
        uint8_t *payload;             /* always non-NULL (may be zero-length) */
        size_t payload_len;

        /* Exact bytes, as received, needed to check the signature. */
        uint8_t *protected_raw;
        size_t protected_len;
        uint8_t *signature;           /* RP_SIG_MAX bytes */
};

int rp_cose_sign1_alg(const rp_cose_sign1 *msg) {
        return msg->alg;
}

const char *rp_cose_sign1_content_type(const rp_cose_sign1 *msg) {
        return msg->content_type;
}

const uint8_t *rp_cose_sign1_kid(const rp_cose_sign1 *msg, size_t *ret_len) {
        if (ret_len)
                *ret_len = msg->kid ? msg->kid_len : 0;
        return msg->kid;
}

size_t rp_cose_sign1_x5chain(const rp_cose_sign1 *msg, const rp_cose_cert **ret) {
        if (ret)
                *ret = msg->x5chain;
        return msg->x5chain_n;
}

const uint8_t *rp_cose_sign1_payload(const rp_cose_sign1 *msg, size_t *ret_len) {
        if (ret_len)
                *ret_len = msg->payload_len;
        return msg->payload;
}

/* Sig_structure = ["Signature1", body_protected, external_aad, payload],
 * deterministic CBOR (RFC 9052 section 4.4), in a malloc'd buffer. */
static int sig_structure(const uint8_t *prot, size_t prot_len, const void *aad, size_t aad_len,
                         const void *payload, size_t payload_len, uint8_t **ret, size_t *ret_len) {
        static const char context[] = "Signature1";
        size_t clen = sizeof context - 1;
        if (aad_len > RP_COSE_MAX_SIZE || payload_len > RP_COSE_MAX_SIZE || prot_len > RP_COSE_MAX_SIZE)
                return -EFBIG;
        size_t cap = 1 + 4 * 9 + clen + prot_len + aad_len + payload_len;
        uint8_t *buf = malloc(cap), *p = buf;
        if (!buf)
                return -ENOMEM;
        p += rp_cbor_put_head(p, 4, 4);
        p += rp_cbor_put_head(p, 3, clen);
        memcpy(p, context, clen);
        p += clen;
        const struct {
                const void *data;
                size_t len;
        } parts[] = { { prot, prot_len }, { aad, aad_len }, { payload, payload_len } };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                p += rp_cbor_put_head(p, 2, parts[i].len);
                if (parts[i].len)
                        memcpy(p, parts[i].data, parts[i].len);
                p += parts[i].len;
        }
        *ret = buf;
        *ret_len = (size_t) (p - buf);
        return 0;
}

/* What goes into a protected header we write. */
typedef struct protected_spec {
        int alg;
        const char *content_type;     /* or NULL */
        const uint8_t *kid;           /* or NULL */
        size_t kid_len;
        const rp_cose_cert *chain;    /* or NULL */
        size_t chain_n;
} protected_spec;

/* The x5chain array of byte strings, or NULL when out of memory. */
static cbor_item_t *x5chain_item(const rp_cose_cert *chain, size_t n) {
        cbor_item_t *arr = cbor_new_definite_array(n);
        for (size_t i = 0; arr && i < n; i++) {
                cbor_item_t *c = rp_cbor_bytes(chain[i].der, chain[i].len);
                bool ok = c && cbor_array_push(arr, c);
                rp_cbor_decrefp(&c);
                if (!ok)
                        rp_cbor_decrefp(&arr);
        }
        return arr;
}

/* The protected header {1: alg, 3: content type, 4: kid, 33: x5chain},
 * with the labels spec gives, encoded. */
static int encode_protected(const protected_spec *spec, uint8_t **ret, size_t *ret_len, rp_error *err) {
        /* A map that could not be allocated (NULL) makes the first put
         * fail with -ENOMEM. */
        _cleanup_(rp_cbor_decrefp) cbor_item_t *hdr = cbor_new_definite_map(4);
        int r = rp_cbor_map_put(hdr, rp_cbor_int(HDR_ALG), rp_cbor_int(spec->alg));
        if (r >= 0 && spec->content_type)
                r = rp_cbor_map_put(hdr, rp_cbor_int(HDR_CONTENT_TYPE), rp_cbor_text(spec->content_type));
        if (r >= 0 && spec->kid)
                r = rp_cbor_map_put(hdr, rp_cbor_int(HDR_KID), rp_cbor_bytes(spec->kid, spec->kid_len));
        if (r >= 0 && spec->chain)
                r = rp_cbor_map_put(hdr, rp_cbor_int(HDR_X5CHAIN), x5chain_item(spec->chain, spec->chain_n));
        if (r < 0)
                return rp_error_set(err, r, "COSE_Sign1: out of memory");
        return rp_cbor_encode(hdr, ret, ret_len, err);
}

/* The tagged message 18([protected, {}, payload, signature]), encoded. */
static int encode_message(const uint8_t *prot, size_t prot_len, const void *payload, size_t payload_len,
                          const uint8_t *sig, size_t sig_len, uint8_t **ret, size_t *ret_len, rp_error *err) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *arr = cbor_new_definite_array(4);
        if (!arr)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        cbor_item_t *parts[] = {
                rp_cbor_bytes(prot, prot_len),
                cbor_new_definite_map(0),
                rp_cbor_bytes(payload, payload_len),
                rp_cbor_bytes(sig, sig_len),
        };
        bool ok = true;
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                ok = ok && parts[i] && cbor_array_push(arr, parts[i]);
                rp_cbor_decrefp(&parts[i]);
        }
        if (!ok)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        _cleanup_(rp_cbor_decrefp) cbor_item_t *tagged = cbor_new_tag(COSE_TAG_SIGN1);
        if (!tagged)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        cbor_tag_set_item(tagged, arr);
        return rp_cbor_encode(tagged, ret, ret_len, err);
}

/* A caller's content type: NULL, or 1 to CONTENT_TYPE_MAX printable characters. */
static int check_content_type(const char *content_type, rp_error *err) {
        if (content_type && (content_type[0] == '\0' || strlen(content_type) > CONTENT_TYPE_MAX ||
                             !rp_str_is_printable(content_type, strlen(content_type))))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: content type must be 1 to %d printable UTF-8 "
                                    "characters", CONTENT_TYPE_MAX);
        return 0;
}

/* How a message gets signed: by an rp_key over the Sig_structure, or by a
 * digest signer over its SHA-256 (ES256). */
typedef struct signer {
        const rp_key *key;
        rp_cose_digest_signer digest_signer;
        void *ctx;
} signer;

static int sign_tbs(const signer *s, const uint8_t *tbs, size_t tbs_len, uint8_t sig[RP_SIG_MAX], size_t *sig_len,
                    rp_error *err) {
        if (s->key)
                return rp_key_sign(s->key, tbs, tbs_len, sig, sig_len, err);
        RP_INVARIANT(s->digest_signer);   /* the caller checked it */
        uint8_t digest[RP_SHA256_LEN];
        int r = rp_sha256(tbs, tbs_len, digest);
        if (r < 0)
                return rp_error_set(err, r, "cannot hash the Sig_structure");
        r = s->digest_signer(s->ctx, digest, sig, err);
        if (r < 0)
                return r;
        *sig_len = RP_SIG_MAX;
        return 0;
}

/* Encodes the protected header, signs and assembles the message. */
static int create(const protected_spec *spec, const signer *s, const void *payload, size_t payload_len,
                  const void *external_aad, size_t aad_len, uint8_t **ret_buf, size_t *ret_len, rp_error *err) {
        if (payload_len > RP_COSE_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "COSE_Sign1: payload is %zu bytes, the limit is %d",
                                    payload_len, RP_COSE_MAX_SIZE);
        int r = check_content_type(spec->content_type, err);
        if (r < 0)
                return r;

        _cleanup_free_ uint8_t *prot = NULL;
        size_t prot_len;
        r = encode_protected(spec, &prot, &prot_len, err);
        if (r < 0)
                return r;

        _cleanup_free_ uint8_t *tbs = NULL;
        size_t tbs_len;
        r = sig_structure(prot, prot_len, external_aad, aad_len, payload, payload_len, &tbs, &tbs_len);
        if (r < 0)
                return rp_error_set(err, r, r == -EFBIG ? "COSE_Sign1: external_aad is too large"
                                                        : "COSE_Sign1: out of memory");
        uint8_t sig[RP_SIG_MAX];
        size_t sig_len;
        r = sign_tbs(s, tbs, tbs_len, sig, &sig_len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "COSE_Sign1: ");

        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        r = encode_message(prot, prot_len, payload, payload_len, sig, sig_len, &out, &out_len, err);
        if (r < 0)
                return r;
        if (out_len > RP_COSE_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "COSE_Sign1: the message would be %zu bytes, the limit is %d",
                                    out_len, RP_COSE_MAX_SIZE);
        *ret_buf = TAKE_PTR(out);
        *ret_len = out_len;
        return 0;
}

int rp_cose_sign1_create(const rp_key *key, const char *content_type,
                         const void *payload, size_t payload_len,
                         const void *external_aad, size_t aad_len,
                         uint8_t **ret_buf, size_t *ret_len, rp_error *err) {
        if (!rp_key_is_private(key))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: signing needs a private key");
        uint8_t kid[RP_KEY_ID_LEN];
        rp_key_id(key, kid);
        const protected_spec spec = {
                .alg = rp_key_cose_alg(key), .content_type = content_type, .kid = kid, .kid_len = sizeof kid,
        };
        const signer s = { .key = key };
        return create(&spec, &s, payload, payload_len, external_aad, aad_len, ret_buf, ret_len, err);
}

int rp_cose_sign1_create_x5chain(rp_cose_digest_signer signer_fn, void *signer_ctx, const char *content_type,
                                 const rp_cose_cert *chain, size_t n, const void *payload, size_t payload_len,
                                 uint8_t **ret_buf, size_t *ret_len, rp_error *err) {
        if (!signer_fn)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: no signer");
        if (!chain || n < RP_COSE_X5CHAIN_MIN || n > RP_COSE_X5CHAIN_MAX)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: x5chain: %zu certificates, it takes %d to %d",
                                    chain ? n : 0, RP_COSE_X5CHAIN_MIN, RP_COSE_X5CHAIN_MAX);
        for (size_t i = 0; i < n; i++)
                if (!chain[i].der || chain[i].len == 0 || chain[i].len > RP_COSE_X5CERT_MAX)
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: x5chain: certificate %zu is %zu bytes, it "
                                            "takes 1 to %d", i, chain[i].der ? chain[i].len : 0, RP_COSE_X5CERT_MAX);
        const protected_spec spec = {
                .alg = RP_COSE_ALG_ES256, .content_type = content_type, .chain = chain, .chain_n = n,
        };
        const signer s = { .digest_signer = signer_fn, .ctx = signer_ctx };
        return create(&spec, &s, payload, payload_len, NULL, 0, ret_buf, ret_len, err);
}

void rp_cose_sign1_free(rp_cose_sign1 *msg) {
        if (!msg)
                return;
        free(msg->content_type);
        free(msg->kid);
        for (size_t i = 0; i < msg->x5chain_n; i++)
                free((void *) msg->x5chain[i].der);
        free(msg->x5chain);
        free(msg->payload);
        free(msg->protected_raw);
        free(msg->signature);
        free(msg);
}

static uint8_t *memdup_nonnull(const void *p, size_t len) {
        uint8_t *d = malloc(len ? len : 1);
        if (d && len)
                memcpy(d, p, len);
        return d;
}

/* Label as text for messages: "1", "-7", "\"name\"". */
static void label_str(const cbor_item_t *label, char *buf, size_t size) {
        int64_t v;
        if (rp_cbor_get_int(label, &v) == 0)
                snprintf(buf, size, "%" PRId64, v);
        else if (cbor_isa_string(label)) {
                size_t n = cbor_string_length(label);
                const char *s = (const char *) cbor_string_handle(label);
                if (n < size - 3 && rp_str_is_printable(s ? s : "", n))
                        snprintf(buf, size, "\"%.*s\"", (int) n, s ? s : "");
                else
                        snprintf(buf, size, "(a %zu-byte text label)", n);
        } else
                snprintf(buf, size, "(an integer too large for int64)");
}

/* True if labels a and b are the same label (by value, whatever width they
 * were encoded in). */
static bool label_eq(const cbor_item_t *a, const cbor_item_t *b) {
        if (cbor_isa_string(a) && cbor_isa_string(b))
                return cbor_string_length(a) == cbor_string_length(b) &&
                       (cbor_string_length(a) == 0 ||
                        memcmp(cbor_string_handle(a), cbor_string_handle(b), cbor_string_length(a)) == 0);
        if (cbor_typeof(a) != cbor_typeof(b) || (!cbor_isa_uint(a) && !cbor_isa_negint(a)))
                return false;
        return cbor_get_int(a) == cbor_get_int(b);
}

/* Checks a header map's labels: integers or text, no duplicates. */
static int check_header_labels(const cbor_item_t *map, const char *which, rp_error *err) {
        size_t n = cbor_map_size(map);
        if (n > HEADER_MAX_LABELS)
                return rp_error_set(err, -EFBIG, "COSE_Sign1: %s header: %zu labels, the limit is %d",
                                    which, n, HEADER_MAX_LABELS);
        struct cbor_pair *p = cbor_map_handle(map);
        for (size_t i = 0; i < n; i++) {
                const cbor_item_t *k = p[i].key;
                if (!cbor_isa_uint(k) && !cbor_isa_negint(k) && !cbor_isa_string(k))
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: %s header: label %zu is not an integer or "
                                            "text", which, i);
                for (size_t j = 0; j < i; j++)
                        if (label_eq(p[j].key, k)) {
                                char l[64];
                                label_str(k, l, sizeof l);
                                return rp_error_set(err, -EINVAL, "COSE_Sign1: %s header: duplicate label %s",
                                                    which, l);
                        }
        }
        return 0;
}

/* Copies a byte string's contents (non-NULL even when empty). */
static int bytes_copy(const cbor_item_t *b, uint8_t **ret, size_t *ret_len) {
        size_t n = cbor_bytestring_length(b);
        uint8_t *d = memdup_nonnull(cbor_bytestring_handle(b), n);
        if (!d)
                return -ENOMEM;
        *ret = d;
        *ret_len = n;
        return 0;
}

/* Decodes the protected header's bytes into a map (exactly one item). */
static int protected_map(const rp_cose_sign1 *m, cbor_item_t **ret, rp_error *err) {
        if (m->protected_len == 0)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header is empty; alg (1) is required "
                                    "there");
        _cleanup_(rp_cbor_decrefp) cbor_item_t *hdr = NULL;
        size_t used;
        rp_error sub = {};
        int r = rp_cbor_decode(m->protected_raw, m->protected_len, COSE_MAX_DEPTH, COSE_MAX_ITEMS, &hdr, &used,
                               &sub);
        if (r < 0)
                return rp_error_set(err, r, "COSE_Sign1: protected header: %s", sub.message);
        if (used != m->protected_len)
                return rp_error_set(err, -EBADMSG, "COSE_Sign1: protected header: %zu bytes after the header map",
                                    m->protected_len - used);
        if (!cbor_isa_map(hdr))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header is %s, expected a map",
                                    rp_cbor_kind(hdr));
        *ret = TAKE_PTR(hdr);
        return 0;
}

/* The protected header's one byte form: only the labels of our profile
 * (1 alg, 2 crit, 3 content type, 4 kid, 33 x5chain), each once, in
 * ascending order, and every integer and length in its shortest form. */
static int check_protected_form(const cbor_item_t *hdr, const rp_cose_sign1 *m, rp_error *err) {
        int r = check_header_labels(hdr, "protected", err);
        if (r < 0)
                return r;
        struct cbor_pair *p = cbor_map_handle(hdr);
        int64_t prev = 0;
        for (size_t i = 0; i < cbor_map_size(hdr); i++) {
                int64_t label;
                char l[64];
                label_str(p[i].key, l, sizeof l);
                if (rp_cbor_get_int(p[i].key, &label) < 0 ||
                    ((label < HDR_ALG || label > HDR_KID) && label != HDR_X5CHAIN))
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: unknown label %s (the "
                                            "profile allows only 1 alg, 2 crit, 3 content type, 4 kid, 33 x5chain)",
                                            l);
                /* Labels 1-4 encode in one byte each (01..04), 33 in two
                 * (18 21): ascending values are the deterministic
                 * (bytewise) order. */
                if (label < prev)
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: labels are not in "
                                            "ascending order (%s after %" PRId64 "); deterministic CBOR sorts them",
                                            l, prev);
                prev = label;
        }
        int det = rp_cbor_is_deterministic(m->protected_raw, m->protected_len);
        if (det < 0)
                return rp_error_set(err, det, "COSE_Sign1: out of memory");
        if (det == 0)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: not in deterministic CBOR (a "
                                    "label, value or length is not in its shortest form)");
        return 0;
}

static int read_alg(const cbor_item_t *hdr, rp_cose_sign1 *m, rp_error *err) {
        cbor_item_t *alg = rp_cbor_map_get_int(hdr, HDR_ALG);
        if (!alg)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: alg (1) is missing");
        int64_t a;
        if (rp_cbor_get_int(alg, &a) < 0) {
                if (cbor_isa_string(alg))
                        return rp_error_set(err, -EOPNOTSUPP, "COSE_Sign1: protected header: alg (1) is text; "
                                            "only ES256 (-7) and EdDSA (-8) are supported");
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: alg (1) is %s, expected an "
                                    "integer", rp_cbor_kind(alg));
        }
        if (a != RP_COSE_ALG_ES256 && a != RP_COSE_ALG_EDDSA)
                return rp_error_set(err, -EOPNOTSUPP, "COSE_Sign1: protected header: unsupported alg %" PRId64
                                    "; only ES256 (-7) and EdDSA (-8) are supported", a);
        m->alg = (int) a;
        return 0;
}

/* Content type (3): text, or a CoAP content-format number kept as its
 * decimal text. */
static int read_content_type(const cbor_item_t *hdr, rp_cose_sign1 *m, rp_error *err) {
        cbor_item_t *ct = rp_cbor_map_get_int(hdr, HDR_CONTENT_TYPE);
        if (!ct)
                return 0;
        uint64_t cf;
        if (cbor_isa_string(ct)) {
                size_t n = cbor_string_length(ct);
                const char *s = (const char *) cbor_string_handle(ct);
                if (n == 0 || n > CONTENT_TYPE_MAX || !rp_str_is_printable(s, n))
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: content type (3) must be "
                                            "1 to %d printable UTF-8 characters", CONTENT_TYPE_MAX);
                m->content_type = strndup(s, n);
        } else if (rp_cbor_get_uint(ct, &cf) == 0 && cf <= UINT16_MAX) {
                if (asprintf(&m->content_type, "%" PRIu64, cf) < 0)
                        m->content_type = NULL;
        } else
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: content type (3) is %s, "
                                    "expected text or a content-format number (0-65535)", rp_cbor_kind(ct));
        if (!m->content_type)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        return 0;
}

/* kid (4): a hint for picking a key, not checked against it. */
static int read_kid(const cbor_item_t *hdr, rp_cose_sign1 *m, rp_error *err) {
        cbor_item_t *kid = rp_cbor_map_get_int(hdr, HDR_KID);
        if (!kid)
                return 0;
        if (!cbor_isa_bytestring(kid))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: kid (4) is %s, expected a byte "
                                    "string", rp_cbor_kind(kid));
        if (cbor_bytestring_length(kid) > KID_MAX)
                return rp_error_set(err, -EFBIG, "COSE_Sign1: protected header: kid (4) is %zu bytes, the limit is "
                                    "%d", cbor_bytestring_length(kid), KID_MAX);
        if (bytes_copy(kid, &m->kid, &m->kid_len) < 0)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        return 0;
}

/* x5chain (33, RFC 9360): only the array form, 2 to RP_COSE_X5CHAIN_MAX
 * byte strings of 1 to RP_COSE_X5CERT_MAX bytes, copied. What they hold is
 * the verifier's business. */
static int read_x5chain(const cbor_item_t *hdr, rp_cose_sign1 *m, rp_error *err) {
        cbor_item_t *x5 = rp_cbor_map_get_int(hdr, HDR_X5CHAIN);
        if (!x5)
                return 0;
        if (cbor_isa_bytestring(x5))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: x5chain (33) is a byte string "
                                    "(one certificate); the profile takes an array of %d to %d certificates, leaf "
                                    "first", RP_COSE_X5CHAIN_MIN, RP_COSE_X5CHAIN_MAX);
        if (!cbor_isa_array(x5))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: x5chain (33) is %s, expected an "
                                    "array of byte strings", rp_cbor_kind(x5));
        size_t n = cbor_array_size(x5);
        if (n > RP_COSE_X5CHAIN_MAX)
                return rp_error_set(err, -EFBIG, "COSE_Sign1: protected header: x5chain (33) has %zu certificates, "
                                    "the limit is %d", n, RP_COSE_X5CHAIN_MAX);
        if (n < RP_COSE_X5CHAIN_MIN)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: x5chain (33) has %zu "
                                    "certificates, the profile takes %d to %d", n, RP_COSE_X5CHAIN_MIN,
                                    RP_COSE_X5CHAIN_MAX);
        cbor_item_t **v = cbor_array_handle(x5);
        for (size_t i = 0; i < n; i++) {
                if (!cbor_isa_bytestring(v[i]))
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: x5chain (33) entry %zu is "
                                            "%s, expected a byte string (a DER certificate)", i, rp_cbor_kind(v[i]));
                size_t len = cbor_bytestring_length(v[i]);
                if (len == 0)
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: x5chain (33) entry %zu "
                                            "is empty", i);
                if (len > RP_COSE_X5CERT_MAX)
                        return rp_error_set(err, -EFBIG, "COSE_Sign1: protected header: x5chain (33) entry %zu is "
                                            "%zu bytes, the limit is %d", i, len, RP_COSE_X5CERT_MAX);
        }
        m->x5chain = calloc(n, sizeof *m->x5chain);
        if (!m->x5chain)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        for (size_t i = 0; i < n; i++) {
                uint8_t *der;
                if (bytes_copy(v[i], &der, &m->x5chain[i].len) < 0)
                        return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
                m->x5chain[i].der = der;
                m->x5chain_n = i + 1;
        }
        return 0;
}

/* crit (2): a non-empty array of labels that we process and that are
 * present in the protected header. */
static int check_crit(const cbor_item_t *prot, rp_error *err) {
        cbor_item_t *crit = rp_cbor_map_get_int(prot, HDR_CRIT);
        if (!crit)
                return 0;
        if (!cbor_isa_array(crit) || cbor_array_size(crit) == 0)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: crit (2) must be a non-empty "
                                    "array of labels");
        cbor_item_t **v = cbor_array_handle(crit);
        for (size_t i = 0; i < cbor_array_size(crit); i++) {
                char l[64];
                int64_t label;
                if (!cbor_isa_uint(v[i]) && !cbor_isa_negint(v[i]) && !cbor_isa_string(v[i]))
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: crit (2) entry %zu is "
                                            "not a label", i);
                label_str(v[i], l, sizeof l);
                bool known = rp_cbor_get_int(v[i], &label) == 0 &&
                             (label == HDR_ALG || label == HDR_CONTENT_TYPE || label == HDR_KID ||
                              label == HDR_X5CHAIN);
                if (!known)
                        return rp_error_set(err, -EOPNOTSUPP, "COSE_Sign1: protected header: unknown critical "
                                            "header %s", l);
                if (!rp_cbor_map_get_int(prot, label))
                        return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header: crit (2) lists %s, which "
                                            "is not in the protected header", l);
        }
        return 0;
}

/* Reads the protected header: its form, then alg, content type, kid,
 * x5chain, crit. */
static int parse_protected(rp_cose_sign1 *m, rp_error *err) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *hdr = NULL;
        int r = protected_map(m, &hdr, err);
        if (r >= 0)
                r = check_protected_form(hdr, m, err);
        if (r >= 0)
                r = read_alg(hdr, m, err);
        if (r >= 0)
                r = read_content_type(hdr, m, err);
        if (r >= 0)
                r = read_kid(hdr, m, err);
        if (r >= 0)
                r = read_x5chain(hdr, m, err);
        if (r >= 0)
                r = check_crit(hdr, err);
        return r;
}

/* The outer shape: tag 18 around [bstr, map, bstr, bstr]. On success *ret
 * points at the array's four elements (borrowed from item). */
static int check_shape(const cbor_item_t *item, cbor_item_t ***ret, rp_error *err) {
        uint64_t tag = cbor_tag_value(item);
        if (tag != COSE_TAG_SIGN1)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: tag %ju, expected 18%s", (uintmax_t) tag,
                                    tag == 98 ? " (tag 98 is COSE_Sign, with several signers)" :
                                    tag == 17 ? " (tag 17 is COSE_Mac0)" : "");
        _cleanup_(rp_cbor_decrefp) cbor_item_t *arr = cbor_tag_item(item);
        if (!cbor_isa_array(arr))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: tag 18 holds %s, expected an array",
                                    rp_cbor_kind(arr));
        if (cbor_array_size(arr) != 4)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: array has %zu elements, expected 4 (protected, "
                                    "unprotected, payload, signature)", cbor_array_size(arr));
        cbor_item_t **e = cbor_array_handle(arr);
        if (!cbor_isa_bytestring(e[0]))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: protected header is %s, expected a byte string",
                                    rp_cbor_kind(e[0]));
        if (!cbor_isa_map(e[1]))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: unprotected header is %s, expected a map",
                                    rp_cbor_kind(e[1]));
        if (cbor_isa_float_ctrl(e[2]) && cbor_float_ctrl_is_ctrl(e[2]) && cbor_ctrl_value(e[2]) == CBOR_CTRL_NULL)
                return rp_error_set(err, -EOPNOTSUPP, "COSE_Sign1: payload is nil (detached payloads are not "
                                    "supported)");
        if (!cbor_isa_bytestring(e[2]))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: payload is %s, expected a byte string",
                                    rp_cbor_kind(e[2]));
        if (!cbor_isa_bytestring(e[3]))
                return rp_error_set(err, -EINVAL, "COSE_Sign1: signature is %s, expected a byte string",
                                    rp_cbor_kind(e[3]));
        /* Nothing unsigned rides along: anyone could add to, change or
         * remove an unprotected header without the key. */
        if (cbor_map_size(e[1]) != 0)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: unprotected header must be empty (it is not signed), "
                                    "it has %zu labels", cbor_map_size(e[1]));
        *ret = e;   /* arr's reference is dropped; item still holds one */
        return 0;
}

/* Checks that the head at buf[*pos] is the shortest one for (major, v), then
 * steps over it and skip bytes of content. The bytes passed rp_cbor_check. */
static int check_head(const uint8_t *buf, size_t *pos, unsigned major, uint64_t v, size_t skip, const char *what,
                      rp_error *err) {
        uint8_t want[9];
        size_t want_len = rp_cbor_put_head(want, major, v);
        unsigned ai = buf[*pos] & 31;
        size_t have_len = ai < 24 ? 1 : 1 + ((size_t) 1 << (ai - 24));
        if (have_len != want_len || memcmp(buf + *pos, want, want_len) != 0)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: %s has a long-form head (%zu bytes where %zu will "
                                    "do); only the deterministic encoding is accepted", what, have_len, want_len);
        *pos += have_len + skip;
        return 0;
}

/* The message's one byte form: with the shape checked, the item is in
 * deterministic CBOR exactly when every head is in its shortest form. */
static int check_heads(const uint8_t *buf, const rp_cose_sign1 *m, rp_error *err) {
        size_t pos = 0;
        int r = check_head(buf, &pos, 6, COSE_TAG_SIGN1, 0, "tag 18", err);
        if (r >= 0)
                r = check_head(buf, &pos, 4, 4, 0, "the array", err);
        if (r >= 0)
                r = check_head(buf, &pos, 2, m->protected_len, m->protected_len, "the protected header's byte string",
                               err);
        if (r >= 0)
                r = check_head(buf, &pos, 5, 0, 0, "the unprotected header", err);
        if (r >= 0)
                r = check_head(buf, &pos, 2, m->payload_len, m->payload_len, "the payload's byte string", err);
        if (r >= 0)
                r = check_head(buf, &pos, 2, RP_SIG_MAX, RP_SIG_MAX, "the signature's byte string", err);
        return r;
}

/* Builds the message from the four checked elements. */
static int unpack(cbor_item_t **e, rp_cose_sign1 **ret, rp_error *err) {
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = calloc(1, sizeof *m);
        size_t sig_len = 0;
        if (!m || bytes_copy(e[0], &m->protected_raw, &m->protected_len) < 0 ||
            bytes_copy(e[2], &m->payload, &m->payload_len) < 0 || bytes_copy(e[3], &m->signature, &sig_len) < 0)
                return rp_error_set(err, -ENOMEM, "COSE_Sign1: out of memory");
        int r = parse_protected(m, err);
        if (r < 0)
                return r;
        if (sig_len != RP_SIG_MAX)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: signature is %zu bytes, %s needs %d", sig_len,
                                    rp_cose_alg_name(m->alg), RP_SIG_MAX);
        *ret = TAKE_PTR(m);
        return 0;
}

int rp_cose_sign1_decode(const uint8_t *buf, size_t len, rp_cose_sign1 **ret,
                         size_t *ret_consumed, rp_error *err) {
        if (!buf || len == 0)
                return rp_error_set(err, -EBADMSG, "COSE_Sign1: empty input");

        /* Look at the outer head first, for a clear message about tags. */
        uint8_t ib = buf[0];
        if (ib >> 5 == 4)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: untagged; expected tag 18 before the array "
                                    "(untagged messages are not accepted)");
        if (ib >> 5 != 6)
                return rp_error_set(err, -EINVAL, "COSE_Sign1: not a COSE_Sign1 (expected tag 18, found initial "
                                    "byte 0x%02x)", ib);

        /* Scan at most the size limit: a longer item is refused unread. */
        size_t scan = len > RP_COSE_MAX_SIZE ? RP_COSE_MAX_SIZE : len;
        rp_error sub = {};
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t used;
        int r = rp_cbor_decode(buf, scan, COSE_MAX_DEPTH, COSE_MAX_ITEMS, &item, &used, &sub);
        if (r == -EBADMSG && scan < len)
                return rp_error_set(err, -EFBIG, "COSE_Sign1: larger than the limit of %d bytes", RP_COSE_MAX_SIZE);
        if (r < 0)
                return rp_error_set(err, r, "COSE_Sign1: %s", sub.message);

        cbor_item_t **e = NULL;
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *m = NULL;
        r = check_shape(item, &e, err);
        if (r >= 0)
                r = unpack(e, &m, err);
        if (r >= 0)
                r = check_heads(buf, m, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        if (ret_consumed)
                *ret_consumed = used;
        return 0;
}

int rp_cose_sign1_verify(const rp_cose_sign1 *msg, const rp_key *pub,
                         const void *external_aad, size_t aad_len, rp_error *err) {
        int key_alg = rp_key_cose_alg(pub);
        if (msg->alg != key_alg)
                return rp_error_set(err, -EKEYREJECTED, "COSE_Sign1: alg is %s (%d) but the key is %s (alg %d)",
                                    rp_cose_alg_name(msg->alg), msg->alg, rp_key_type_name(rp_key_get_type(pub)),
                                    key_alg);

        _cleanup_free_ uint8_t *tbs = NULL;
        size_t tbs_len;
        int r = sig_structure(msg->protected_raw, msg->protected_len, external_aad, aad_len,
                              msg->payload, msg->payload_len, &tbs, &tbs_len);
        if (r < 0)
                return rp_error_set(err, r, r == -EFBIG ? "COSE_Sign1: external_aad is too large"
                                                        : "COSE_Sign1: out of memory");
        r = rp_key_verify(pub, tbs, tbs_len, msg->signature, RP_SIG_MAX, err);
        if (r < 0)
                return rp_error_prefix(err, r, "COSE_Sign1: ");
        return 0;
}
