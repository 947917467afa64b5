/* SPDX-License-Identifier: Apache-2.0 */
/* Attestation evidence, the device's side: the claims of rampart's EAT
 * profile in deterministic CBOR, signed as a COSE_Sign1 by the Alias key
 * through the root of trust, with the chain [Alias, DeviceID] in x5chain.
 * docs/formats.md, "Attestation evidence". */
#include <errno.h>
#include <string.h>

#include "core/cbor.h"
#include "core/cose_internal.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/evidence_create.h"
#include "rot/evidence_internal.h"

/* swname and swversion: 1 to RP_EVIDENCE_TEXT_MAX printable bytes. */
static int check_text(const char *s, const char *what, rp_error *err) {
        if (!s || s[0] == '\0' || strlen(s) > RP_EVIDENCE_TEXT_MAX || !rp_str_is_printable(s, strlen(s)))
                return rp_error_set(err, -EINVAL, "evidence: %s must be 1 to %d printable UTF-8 bytes", what,
                                    RP_EVIDENCE_TEXT_MAX);
        return 0;
}

/* The device id as ueid: 0x01 || its 32 bytes. Only lowercase hex, as
 * rp_device_id writes it. */
static int ueid_from_device_id(const char *hex, uint8_t ret[EVIDENCE_UEID_LEN], rp_error *err) {
        bool ok = hex && strlen(hex) == RP_EVIDENCE_DEVICE_ID_LEN;
        for (size_t i = 0; ok && i < RP_EVIDENCE_DEVICE_ID_LEN; i++)
                ok = (hex[i] >= '0' && hex[i] <= '9') || (hex[i] >= 'a' && hex[i] <= 'f');
        if (!ok)
                return rp_error_set(err, -EINVAL, "evidence: the device id must be %d lowercase hex digits",
                                    RP_EVIDENCE_DEVICE_ID_LEN);
        ret[0] = EVIDENCE_UEID_TYPE_RAND;
        RP_INVARIANT(rp_hex_decode(hex, ret + 1, RP_EVIDENCE_DIGEST_LEN) == 0);
        return 0;
}

/* Everything in the input that the claims or the chain carry, checked
 * against the profile before anything is signed. */
static int check_input(const rp_evidence_input *in, uint8_t ueid[EVIDENCE_UEID_LEN], rp_error *err) {
        if (!in->nonce || in->nonce_len < RP_EVIDENCE_NONCE_MIN || in->nonce_len > RP_EVIDENCE_NONCE_MAX)
                return rp_error_set(err, -EINVAL, "evidence: the nonce is %zu bytes, it must be %d to %d",
                                    in->nonce ? in->nonce_len : 0, RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX);
        int r = ueid_from_device_id(in->device_id, ueid, err);
        if (r < 0)
                return r;
        if (!in->components)
                return rp_error_set(err, -EINVAL, "evidence: no components list");
        r = evidence_components_parse(in->components, in->components_len, NULL, NULL, err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: ");
        r = check_text(in->sw_name, "the software name", err);
        if (r >= 0)
                r = check_text(in->sw_version, "the software version", err);
        if (r < 0)
                return r;
        if (in->dbgstat < 0 || in->dbgstat > EVIDENCE_DBGSTAT_MAX)
                return rp_error_set(err, -EINVAL, "evidence: dbgstat is %d, it must be 0 to %d", in->dbgstat,
                                    EVIDENCE_DBGSTAT_MAX);
        if (in->iat < 0)
                return rp_error_set(err, -EINVAL, "evidence: iat is negative");
        if (!in->rot_backend || !evidence_backend_name_ok(in->rot_backend, strlen(in->rot_backend)))
                return rp_error_set(err, -EINVAL, "evidence: the backend name must be 1 to %d lowercase letters "
                                    "and digits", RP_EVIDENCE_BACKEND_MAX);
        return 0;
}

/* The claims map, encoded deterministically. */
static int encode_claims(const rp_evidence_input *in, const uint8_t ueid[EVIDENCE_UEID_LEN], uint8_t **ret,
                         size_t *ret_len, rp_error *err) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = cbor_new_definite_map(10);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *entry = cbor_new_definite_array(2);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *list = cbor_new_definite_array(1);
        bool ok = entry && list;
        cbor_item_t *parts[] = { rp_cbor_uint(EVIDENCE_MEASUREMENT_FORMAT),
                                 rp_cbor_bytes(in->components, in->components_len) };
        for (size_t i = 0; i < ELEMENTSOF(parts); i++) {
                ok = ok && parts[i] && cbor_array_push(entry, parts[i]);
                rp_cbor_decrefp(&parts[i]);
        }
        ok = ok && cbor_array_push(list, entry);

        /* A map that could not be allocated (NULL) makes the first put fail. */
        int r = ok ? 0 : -ENOMEM;
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_NONCE), rp_cbor_bytes(in->nonce, in->nonce_len));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_UEID), rp_cbor_bytes(ueid, EVIDENCE_UEID_LEN));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_IAT), rp_cbor_int(in->iat));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_PROFILE), rp_cbor_text(RP_EVIDENCE_PROFILE));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_SWNAME), rp_cbor_text(in->sw_name));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_SWVERSION), rp_cbor_text(in->sw_version));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_DBGSTAT), rp_cbor_int(in->dbgstat));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_MEASUREMENTS), cbor_incref(list));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_BACKEND), rp_cbor_text(in->rot_backend));
        if (r >= 0)
                r = rp_cbor_map_put(map, rp_cbor_int(EVIDENCE_CLAIM_DEVELOPMENT), cbor_build_bool(in->development));
        if (r < 0)
                return rp_error_set(err, r, "evidence: out of memory");
        return rp_cbor_encode(map, ret, ret_len, err);
}

int rp_evidence_create(const rp_evidence_input *in, rp_digest_signer signer, void *signer_ctx,
                       uint8_t **ret, size_t *ret_len, rp_error *err) {
        uint8_t ueid[EVIDENCE_UEID_LEN];
        int r = check_input(in, ueid, err);
        if (r < 0)
                return r;
        const rp_cose_cert chain[] = {
                { in->alias_der, in->alias_der_len },
                { in->deviceid_der, in->deviceid_der_len },
        };
        _cleanup_free_ uint8_t *claims = NULL;
        size_t claims_len;
        r = encode_claims(in, ueid, &claims, &claims_len, err);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        r = rp_cose_sign1_create_x5chain(signer, signer_ctx, RP_EVIDENCE_CONTENT_TYPE, chain, ELEMENTSOF(chain),
                                         claims, claims_len, &out, &out_len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "evidence: ");
        /* Every part is bounded above (two certificates of at most 4 KiB,
         * claims of at most 3 KiB): what we make, we would accept. */
        RP_INVARIANT(out_len <= RP_EVIDENCE_MAX_SIZE);
        *ret = TAKE_PTR(out);
        *ret_len = out_len;
        return 0;
}
