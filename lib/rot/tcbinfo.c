/* SPDX-License-Identifier: Apache-2.0 */
/* The TCG DICE TcbInfo extension value, in DER written and read by hand:
 *
 *   DiceTcbInfo ::= SEQUENCE {
 *       vendor  [0] IMPLICIT UTF8String OPTIONAL,
 *       model   [1] IMPLICIT UTF8String OPTIONAL,
 *       version [2] IMPLICIT UTF8String OPTIONAL,
 *       svn     [3] IMPLICIT INTEGER OPTIONAL,
 *       layer   [4] IMPLICIT INTEGER OPTIONAL,
 *       index   [5] IMPLICIT INTEGER OPTIONAL,
 *       fwids   [6] IMPLICIT SEQUENCE OF FWID OPTIONAL,
 *       flags   [7] ..., vendorInfo [8] ..., type [9] ... }
 *   FWID ::= SEQUENCE { hashAlg OBJECT IDENTIFIER, digest OCTET STRING }
 *
 * rampart's profile (docs/formats.md, "Device certificates"): vendor, model,
 * version, layer and exactly one SHA-256 FWID. The decoder refuses what the
 * profile leaves out (svn, index, flags, vendorInfo, type), so a certificate
 * cannot carry a claim that a verifier would silently ignore. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "rot/tcbinfo.h"

/* No extension value rampart writes comes near this. */
#define TCBINFO_DER_MAX 1024

#define TAG_SEQUENCE 0x30
#define TAG_OID 0x06
#define TAG_OCTET_STRING 0x04
#define TAG_CONTEXT 0x80          /* context-specific, primitive */
#define TAG_CONTEXT_CONS 0xa0     /* context-specific, constructed */

enum {
        FIELD_VENDOR = 0,
        FIELD_MODEL = 1,
        FIELD_VERSION = 2,
        FIELD_SVN = 3,
        FIELD_LAYER = 4,
        FIELD_INDEX = 5,
        FIELD_FWIDS = 6,
        FIELD_LAST = 9,
};

static const char *const field_names[] = {
        "vendor", "model", "version", "svn", "layer", "index", "fwids", "flags", "vendorInfo", "type",
};

/* id-sha256, 2.16.840.1.101.3.4.2.1, the OBJECT IDENTIFIER's contents. */
static const uint8_t oid_sha256[] = { 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01 };

/* ---- writing ------------------------------------------------------------- */

typedef struct der_buf {
        uint8_t data[TCBINFO_DER_MAX];
        size_t len;
} der_buf;

/* Appends a tag and a definite length (at most 0xffff) in DER's shortest form. */
static void put_head(der_buf *b, uint8_t tag, size_t len) {
        RP_INVARIANT(len <= 0xffff && b->len + 4 + len <= sizeof b->data);
        b->data[b->len++] = tag;
        if (len < 0x80) {
                b->data[b->len++] = (uint8_t) len;
        } else if (len <= 0xff) {
                b->data[b->len++] = 0x81;
                b->data[b->len++] = (uint8_t) len;
        } else {
                b->data[b->len++] = 0x82;
                b->data[b->len++] = (uint8_t) (len >> 8);
                b->data[b->len++] = (uint8_t) len;
        }
}

static void put_bytes(der_buf *b, const void *p, size_t len) {
        RP_INVARIANT(b->len + len <= sizeof b->data);
        memcpy(b->data + b->len, p, len);
        b->len += len;
}

static void put_tlv(der_buf *b, uint8_t tag, const void *p, size_t len) {
        put_head(b, tag, len);
        put_bytes(b, p, len);
}

/* A non-negative INTEGER's contents: big-endian, shortest, with a leading
 * zero byte when the top bit would read as a sign. */
static void put_uint(der_buf *b, uint8_t tag, uint32_t v) {
        uint8_t tmp[5];
        size_t n = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
                if (n > 0 || (v >> shift & 0xff) || shift == 0)
                        tmp[1 + n++] = (uint8_t) (v >> shift);
        bool pad = tmp[1] & 0x80;
        tmp[0] = 0;
        put_tlv(b, tag, pad ? tmp : tmp + 1, n + pad);
}

int rp_tcbinfo_encode(const rp_tcbinfo *info, uint8_t **ret_der, size_t *ret_len, rp_error *err) {
        const char *texts[] = { info->vendor, info->model, info->version };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                /* A text must end inside its array. */
                if (!memchr(texts[i], 0, RP_TCBINFO_TEXT_MAX + 1))
                        return rp_error_set(err, -EFBIG, "TcbInfo: %s is longer than %d bytes", field_names[i],
                                            RP_TCBINFO_TEXT_MAX);
                if (!rp_utf8_is_valid(texts[i], strlen(texts[i])))
                        return rp_error_set(err, -EINVAL, "TcbInfo: %s is not valid UTF-8", field_names[i]);
        }

        /* fwids [6] { FWID { id-sha256, digest } } */
        der_buf fwid = {};
        put_tlv(&fwid, TAG_OID, oid_sha256, sizeof oid_sha256);
        put_tlv(&fwid, TAG_OCTET_STRING, info->fwid_sha256, sizeof info->fwid_sha256);

        der_buf body = {};
        for (size_t i = 0; i < ELEMENTSOF(texts); i++)
                put_tlv(&body, TAG_CONTEXT | (uint8_t) i, texts[i], strlen(texts[i]));
        put_uint(&body, TAG_CONTEXT | FIELD_LAYER, info->layer);
        put_head(&body, TAG_CONTEXT_CONS | FIELD_FWIDS, fwid.len + 2);
        put_tlv(&body, TAG_SEQUENCE, fwid.data, fwid.len);

        der_buf out = {};
        put_tlv(&out, TAG_SEQUENCE, body.data, body.len);
        uint8_t *der = malloc(out.len);
        if (!der)
                return rp_error_set(err, -ENOMEM, "TcbInfo: out of memory");
        memcpy(der, out.data, out.len);
        *ret_der = der;
        *ret_len = out.len;
        return 0;
}

/* ---- reading ------------------------------------------------------------- */

typedef struct der_reader {
        const uint8_t *p, *end;
} der_reader;

/* Reads one TLV: a single-byte tag and a definite length in its shortest
 * form, contents inside the reader's bounds. -EBADMSG otherwise. */
static int get_tlv(der_reader *rd, const char *what, uint8_t *ret_tag, der_reader *ret_val, rp_error *err) {
        size_t avail = (size_t) (rd->end - rd->p);
        if (avail < 2)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: truncated", what);
        uint8_t tag = rd->p[0], l0 = rd->p[1];
        if ((tag & 0x1f) == 0x1f)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: multi-byte tag", what);
        size_t len, head;
        if (l0 < 0x80) {
                len = l0;
                head = 2;
        } else if (l0 == 0x81) {
                if (avail < 3 || rd->p[2] < 0x80)
                        return rp_error_set(err, -EBADMSG, "TcbInfo: %s: length truncated or not in its "
                                            "shortest form", what);
                len = rd->p[2];
                head = 3;
        } else if (l0 == 0x82) {
                if (avail < 4 || rd->p[2] == 0)
                        return rp_error_set(err, -EBADMSG, "TcbInfo: %s: length truncated or not in its "
                                            "shortest form", what);
                len = (size_t) rd->p[2] << 8 | rd->p[3];
                head = 4;
        } else {
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: indefinite or oversized length", what);
        }
        if (len > avail - head)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: truncated (%zu bytes of contents, %zu left)",
                                    what, len, avail - head);
        *ret_tag = tag;
        ret_val->p = rd->p + head;
        ret_val->end = ret_val->p + len;
        rd->p = ret_val->end;
        return 0;
}

static int get_expected(der_reader *rd, const char *what, uint8_t want, der_reader *ret_val, rp_error *err) {
        uint8_t tag;
        int r = get_tlv(rd, what, &tag, ret_val, err);
        if (r < 0)
                return r;
        if (tag != want)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: tag 0x%02x, expected 0x%02x", what, tag, want);
        return 0;
}

static int get_text(const der_reader *v, const char *field, char ret[RP_TCBINFO_TEXT_MAX + 1], rp_error *err) {
        size_t len = (size_t) (v->end - v->p);
        if (len > RP_TCBINFO_TEXT_MAX)
                return rp_error_set(err, -EFBIG, "TcbInfo: %s is %zu bytes, the limit is %d", field, len,
                                    RP_TCBINFO_TEXT_MAX);
        if (!rp_utf8_is_valid((const char *) v->p, len))
                return rp_error_set(err, -EINVAL, "TcbInfo: %s is not valid UTF-8 (or holds a NUL)", field);
        memcpy(ret, v->p, len);
        ret[len] = 0;
        return 0;
}

/* A DER INTEGER's contents as a uint32: shortest form, not negative. */
static int get_uint32(const der_reader *v, const char *field, uint32_t *ret, rp_error *err) {
        size_t len = (size_t) (v->end - v->p);
        if (len == 0)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: empty INTEGER", field);
        if (len > 1 && ((v->p[0] == 0 && !(v->p[1] & 0x80)) || (v->p[0] == 0xff && (v->p[1] & 0x80))))
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: INTEGER not in its shortest form", field);
        if (v->p[0] & 0x80)
                return rp_error_set(err, -ERANGE, "TcbInfo: %s is negative", field);
        if (len > 5 || (len == 5 && v->p[0] != 0))
                return rp_error_set(err, -ERANGE, "TcbInfo: %s is above %u", field, UINT32_MAX);
        uint32_t x = 0;
        for (size_t i = 0; i < len; i++)
                x = x << 8 | v->p[i];
        *ret = x;
        return 0;
}

/* fwids: exactly one FWID { id-sha256, 32-byte digest }. */
static int get_fwids(der_reader *v, uint8_t ret[RP_ROT_MEASUREMENT_LEN], rp_error *err) {
        der_reader fwid, oid, digest;
        int r = get_expected(v, "fwids[0]", TAG_SEQUENCE, &fwid, err);
        if (r < 0)
                return r;
        if (v->p != v->end)
                return rp_error_set(err, -EOPNOTSUPP, "TcbInfo: fwids: more than one FWID (rampart's "
                                    "profile has exactly one, SHA-256)");
        r = get_expected(&fwid, "fwids[0].hashAlg", TAG_OID, &oid, err);
        if (r < 0)
                return r;
        if ((size_t) (oid.end - oid.p) != sizeof oid_sha256 || memcmp(oid.p, oid_sha256, sizeof oid_sha256) != 0)
                return rp_error_set(err, -EOPNOTSUPP, "TcbInfo: fwids[0].hashAlg is not id-sha256");
        r = get_expected(&fwid, "fwids[0].digest", TAG_OCTET_STRING, &digest, err);
        if (r < 0)
                return r;
        if (fwid.p != fwid.end)
                return rp_error_set(err, -EBADMSG, "TcbInfo: fwids[0]: bytes after the digest");
        if ((size_t) (digest.end - digest.p) != RP_ROT_MEASUREMENT_LEN)
                return rp_error_set(err, -EBADMSG, "TcbInfo: fwids[0].digest is %zu bytes, SHA-256 is %d",
                                    (size_t) (digest.end - digest.p), RP_ROT_MEASUREMENT_LEN);
        memcpy(ret, digest.p, RP_ROT_MEASUREMENT_LEN);
        return 0;
}

/* One field of the SEQUENCE into info; *last is the previous field's number. */
static int get_field(der_reader *body, int *last, rp_tcbinfo *info, bool *have_fwid, rp_error *err) {
        uint8_t tag;
        der_reader v;
        int r = get_tlv(body, "field", &tag, &v, err);
        if (r < 0)
                return r;
        int n = tag & 0x1f;
        if ((tag & 0xc0) != TAG_CONTEXT || n > FIELD_LAST)
                return rp_error_set(err, -EBADMSG, "TcbInfo: unexpected tag 0x%02x in DiceTcbInfo", tag);
        const char *name = field_names[n];
        if (n <= *last)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s [%d] repeated or out of order", name, n);
        *last = n;
        bool constructed = tag & 0x20;
        if (constructed != (n == FIELD_FWIDS))
                return rp_error_set(err, -EBADMSG, "TcbInfo: %s: tag 0x%02x has the wrong form", name, tag);
        switch (n) {
        case FIELD_VENDOR:
                return get_text(&v, name, info->vendor, err);
        case FIELD_MODEL:
                return get_text(&v, name, info->model, err);
        case FIELD_VERSION:
                return get_text(&v, name, info->version, err);
        case FIELD_LAYER:
                return get_uint32(&v, name, &info->layer, err);
        case FIELD_FWIDS:
                *have_fwid = true;
                return get_fwids(&v, info->fwid_sha256, err);
        default:
                return rp_error_set(err, -EOPNOTSUPP, "TcbInfo: %s [%d] is not part of rampart's profile", name, n);
        }
}

int rp_tcbinfo_decode(const uint8_t *der, size_t len, rp_tcbinfo *ret, rp_error *err) {
        if (len > TCBINFO_DER_MAX)
                return rp_error_set(err, -EFBIG, "TcbInfo: %zu bytes, the limit is %d", len, TCBINFO_DER_MAX);
        der_reader all = { der, der + len }, body;
        int r = get_expected(&all, "DiceTcbInfo", TAG_SEQUENCE, &body, err);
        if (r < 0)
                return r;
        if (all.p != all.end)
                return rp_error_set(err, -EBADMSG, "TcbInfo: %zu bytes after the DiceTcbInfo SEQUENCE",
                                    (size_t) (all.end - all.p));
        rp_tcbinfo info = {};
        bool have_fwid = false;
        int last = -1;
        while (body.p != body.end) {
                r = get_field(&body, &last, &info, &have_fwid, err);
                if (r < 0)
                        return r;
        }
        if (!have_fwid)
                return rp_error_set(err, -EBADMSG, "TcbInfo: no fwids (the measurement)");
        *ret = info;
        return 0;
}
