/* SPDX-License-Identifier: Apache-2.0 */
/* The parts of attestation evidence both sides check: the components list
 * (the measurements claim's content) and backend names. In their own file so
 * rampart-secmon, which makes evidence, does not link the verifier. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/evidence_internal.h"

#define COMPONENTS_MAX_SIZE 4096   /* 16 components fit in 2.7 KiB */
#define COMPONENTS_MAX_ITEMS 1024

bool evidence_backend_name_ok(const char *s, size_t len) {
        if (len == 0 || len > RP_EVIDENCE_BACKEND_MAX)
                return false;
        for (size_t i = 0; i < len; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
                        return false;
        return true;
}

/* Copies a text item of min..max printable bytes into out (max + 1 bytes). */
int evidence_text_copy(const cbor_item_t *item, size_t min, size_t max, char *out, const char *what, rp_error *err) {
        if (!cbor_isa_string(item))
                return rp_error_set(err, -EINVAL, "%s is %s, expected text", what, rp_cbor_kind(item));
        size_t n = cbor_string_length(item);
        const char *s = (const char *) cbor_string_handle(item);
        if (n < min || n > max)
                return rp_error_set(err, -EINVAL, "%s is %zu bytes, expected %zu to %zu", what, n, min, max);
        if (n && !rp_str_is_printable(s, n))
                return rp_error_set(err, -EINVAL, "%s is not printable UTF-8 text", what);
        if (n)
                memcpy(out, s, n);
        out[n] = '\0';
        return 0;
}

/* One [name, version, digest] entry of the components list. */
static int component_parse(const cbor_item_t *e, size_t i, rp_evidence_component *out, rp_error *err) {
        char what[64];
        snprintf(what, sizeof what, "components: entry %zu", i);
        if (!cbor_isa_array(e) || cbor_array_size(e) != 3)
                return rp_error_set(err, -EINVAL, "%s is not an array of 3 (name, version, digest)", what);
        cbor_item_t **f = cbor_array_handle(e);
        rp_evidence_component c = {};
        snprintf(what, sizeof what, "components: entry %zu: name", i);
        int r = evidence_text_copy(f[0], 1, RP_EVIDENCE_TEXT_MAX, c.name, what, err);
        if (r < 0)
                return r;
        snprintf(what, sizeof what, "components: entry %zu: version", i);
        r = evidence_text_copy(f[1], 0, RP_EVIDENCE_TEXT_MAX, c.version, what, err);
        if (r < 0)
                return r;
        if (!cbor_isa_bytestring(f[2]) || cbor_bytestring_length(f[2]) != RP_EVIDENCE_DIGEST_LEN)
                return rp_error_set(err, -EINVAL, "components: entry %zu: digest is not a %d-byte byte string", i,
                                    RP_EVIDENCE_DIGEST_LEN);
        memcpy(c.digest, cbor_bytestring_handle(f[2]), RP_EVIDENCE_DIGEST_LEN);
        *out = c;
        return 0;
}

int evidence_components_parse(const uint8_t *buf, size_t len,
                              rp_evidence_component out[RP_EVIDENCE_MAX_COMPONENTS], size_t *ret_n,
                              rp_error *err) {
        if (len > COMPONENTS_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "components: %zu bytes, the limit is %d", len, COMPONENTS_MAX_SIZE);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *list = NULL;
        size_t used;
        rp_error sub = {};
        int r = rp_cbor_decode(buf, len, 3, COMPONENTS_MAX_ITEMS, &list, &used, &sub);
        if (r < 0)
                return rp_error_set(err, r, "components: %s", sub.message);
        if (used != len)
                return rp_error_set(err, -EBADMSG, "components: %zu bytes after the list", len - used);
        if (!cbor_isa_array(list))
                return rp_error_set(err, -EINVAL, "components: %s, expected an array", rp_cbor_kind(list));
        size_t n = cbor_array_size(list);
        if (n == 0)
                return rp_error_set(err, -EINVAL, "components: the list is empty");
        if (n > RP_EVIDENCE_MAX_COMPONENTS)
                return rp_error_set(err, -EFBIG, "components: %zu entries, the limit is %d", n,
                                    RP_EVIDENCE_MAX_COMPONENTS);
        rp_evidence_component c[RP_EVIDENCE_MAX_COMPONENTS];
        for (size_t i = 0; i < n; i++) {
                r = component_parse(cbor_array_handle(list)[i], i, &c[i], err);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < i; j++)
                        if (streq(c[j].name, c[i].name))
                                return rp_error_set(err, -EINVAL, "components: entries %zu and %zu have the same "
                                                    "name", j, i);
        }
        int det = rp_cbor_is_deterministic(buf, len);
        if (det < 0)
                return rp_error_set(err, det, "components: out of memory");
        if (det == 0)
                return rp_error_set(err, -EINVAL, "components: not in deterministic CBOR");
        if (out)
                memcpy(out, c, n * sizeof c[0]);
        if (ret_n)
                *ret_n = n;
        return 0;
}
