/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-secmon's requests and responses (protocol.h; the format is in
 * docs/formats.md, "secmon protocol"). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rot/evidence_create.h"
#include "secmon/protocol.h"

/* A request is a map of at most 3 pairs of flat items; a response's result
 * is at most a map or array of flat items inside the response map. */
#define REQUEST_MAX_DEPTH 2
#define REQUEST_MAX_ITEMS 16
#define RESPONSE_MAX_DEPTH 3
#define RESPONSE_MAX_ITEMS 32
/* The most negative errno a status may carry (the kernel's MAX_ERRNO). */
#define STATUS_MIN (-4095)

#define F(key) (1u << (key))

static const struct {
        const char *name;
        unsigned fields;        /* F(key) for each request key the type has */
} types[RP_SECMON_TYPE_MAX + 1] = {
        [RP_SECMON_INFO] = { "info", 0 },
        [RP_SECMON_CHAIN] = { "chain", 0 },
        [RP_SECMON_EVIDENCE] = { "evidence", F(RP_SECMON_REQ_NONCE) },
        [RP_SECMON_SIGN] = { "sign", F(RP_SECMON_REQ_DIGEST) },
        [RP_SECMON_COUNTER_READ] = { "counter-read", F(RP_SECMON_REQ_INDEX) },
        [RP_SECMON_COUNTER_ADVANCE] = { "counter-advance", F(RP_SECMON_REQ_INDEX) | F(RP_SECMON_REQ_VALUE) },
        [RP_SECMON_SEAL] = { "seal", F(RP_SECMON_REQ_DATA) },
        [RP_SECMON_UNSEAL] = { "unseal", F(RP_SECMON_REQ_BLOB) },
};

/* Each field: a byte string of min..max bytes, or an unsigned integer of
 * min..max. */
static const struct {
        const char *name;
        bool bytes;
        uint64_t min, max;
} fields[RP_SECMON_REQ_BLOB + 1] = {
        [RP_SECMON_REQ_TYPE] = { "type", false, 1, RP_SECMON_TYPE_MAX },
        [RP_SECMON_REQ_NONCE] = { "nonce", true, RP_EVIDENCE_NONCE_MIN, RP_EVIDENCE_NONCE_MAX },
        [RP_SECMON_REQ_DIGEST] = { "digest", true, RP_ROT_DIGEST_LEN, RP_ROT_DIGEST_LEN },
        [RP_SECMON_REQ_INDEX] = { "index", false, 0, RP_ROT_COUNTERS - 1 },
        [RP_SECMON_REQ_VALUE] = { "value", false, 0, UINT64_MAX },
        [RP_SECMON_REQ_DATA] = { "data", true, 0, RP_ROT_SEAL_MAX },
        [RP_SECMON_REQ_BLOB] = { "blob", true, 1, RP_ROT_SEALED_MAX },
};

const char *rp_secmon_type_name(rp_secmon_type type) {
        return type >= 1 && type <= RP_SECMON_TYPE_MAX ? types[type].name : NULL;
}

int rp_secmon_type_from_name(const char *name, rp_secmon_type *ret) {
        for (unsigned t = 1; t <= RP_SECMON_TYPE_MAX; t++)
                if (streq(types[t].name, name)) {
                        *ret = (rp_secmon_type) t;
                        return 0;
                }
        return -EINVAL;
}

/* Like rp_cbor_kind, telling the two kinds of integer apart: every
 * integer field here is unsigned. */
static const char *kind(const cbor_item_t *item) {
        if (cbor_isa_uint(item))
                return "an unsigned integer";
        if (cbor_isa_negint(item))
                return "a negative integer";
        return rp_cbor_kind(item);
}

/* Checks one field's value and stores it in req. */
static int decode_field(const char *what, unsigned key, const cbor_item_t *v, rp_secmon_request *req,
                        rp_error *err) {
        const char *name = fields[key].name;
        uint64_t min = fields[key].min, max = fields[key].max, n;
        if (fields[key].bytes) {
                if (!cbor_isa_bytestring(v))
                        return rp_error_set(err, -EINVAL, "%s: field %u (%s): expected a byte string, got %s",
                                            what, key, name, kind(v));
                n = cbor_bytestring_length(v);
                if (n < min || n > max) {
                        if (min == max)
                                return rp_error_set(err, -ERANGE, "%s: field %u (%s): %" PRIu64 " bytes, must "
                                                    "be %" PRIu64, what, key, name, n, min);
                        return rp_error_set(err, -ERANGE, "%s: field %u (%s): %" PRIu64 " bytes, must be %"
                                            PRIu64 " to %" PRIu64, what, key, name, n, min, max);
                }
                memcpy(req->bytes, cbor_bytestring_handle(v), n);
                req->len = n;
                return 0;
        }
        if (rp_cbor_get_uint(v, &n) < 0)
                return rp_error_set(err, -EINVAL, "%s: field %u (%s): expected an unsigned integer, got %s",
                                    what, key, name, kind(v));
        if (n < min || n > max)
                return rp_error_set(err, key == RP_SECMON_REQ_TYPE ? -EOPNOTSUPP : -ERANGE,
                                    "%s: field %u (%s): %" PRIu64 " is out of range (%" PRIu64 " to %" PRIu64 ")",
                                    what, key, name, n, min, max);
        if (key == RP_SECMON_REQ_TYPE)
                req->type = (rp_secmon_type) n;
        else if (key == RP_SECMON_REQ_INDEX)
                req->index = (unsigned) n;
        else
                req->value = n;
        return 0;
}

/* The map's fields, the type first. */
static int decode_map(cbor_item_t *map, rp_secmon_request *req, rp_error *err) {
        cbor_item_t *t = rp_cbor_map_get_int(map, RP_SECMON_REQ_TYPE);
        if (!t)
                return rp_error_set(err, -EINVAL, "secmon request: field 1 (type) is missing");
        int r = decode_field("secmon request", RP_SECMON_REQ_TYPE, t, req, err);
        if (r < 0)
                return r;

        char what[64];
        snprintf(what, sizeof what, "secmon request '%s'", types[req->type].name);
        unsigned want = types[req->type].fields | F(RP_SECMON_REQ_TYPE), seen = 0;
        struct cbor_pair *p = cbor_map_handle(map);
        for (size_t i = 0; i < cbor_map_size(map); i++) {
                uint64_t key;
                if (rp_cbor_get_uint(p[i].key, &key) < 0)
                        return rp_error_set(err, -EINVAL, "%s: a key is %s, not an unsigned integer", what,
                                            kind(p[i].key));
                if (key > RP_SECMON_REQ_BLOB || !(want & F(key)))
                        return rp_error_set(err, -EINVAL, "%s: unexpected field %" PRIu64 "%s%s%s", what, key,
                                            key <= RP_SECMON_REQ_BLOB ? " (" : "",
                                            key <= RP_SECMON_REQ_BLOB ? fields[key].name : "",
                                            key <= RP_SECMON_REQ_BLOB ? ")" : "");
                if (seen & F(key))
                        return rp_error_set(err, -EINVAL, "%s: field %" PRIu64 " (%s) appears twice", what, key,
                                            fields[key].name);
                seen |= F(key);
                if (key != RP_SECMON_REQ_TYPE) {
                        r = decode_field(what, (unsigned) key, p[i].value, req, err);
                        if (r < 0)
                                return r;
                }
        }
        for (unsigned key = 1; key <= RP_SECMON_REQ_BLOB; key++)
                if ((want & ~seen) & F(key))
                        return rp_error_set(err, -EINVAL, "%s: field %u (%s) is missing", what, key,
                                            fields[key].name);
        return 0;
}

static void request_freep(rp_secmon_request **req) {
        if (*req)
                explicit_bzero(*req, sizeof **req);
        free(*req);
}

int rp_secmon_request_decode(const uint8_t *buf, size_t len, rp_secmon_request *ret, rp_error *err) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t used;
        int r = rp_cbor_decode(buf, len, REQUEST_MAX_DEPTH, REQUEST_MAX_ITEMS, &item, &used, err);
        if (r < 0)
                return rp_error_prefix(err, r, "secmon request: ");
        if (used != len)
                return rp_error_set(err, -EINVAL, "secmon request: %zu bytes after the request", len - used);
        if (!cbor_isa_map(item))
                return rp_error_set(err, -EINVAL, "secmon request: expected a map, got %s", kind(item));

        /* Wiped when freed: it may hold data to seal. */
        _cleanup_(request_freep) rp_secmon_request *req = calloc(1, sizeof *req);
        if (!req)
                return rp_error_set(err, -ENOMEM, "secmon request: out of memory");
        r = decode_map(item, req, err);

        /* One encoding per request: the map re-encoded deterministically
         * must give back the same bytes. */
        _cleanup_free_ uint8_t *again = NULL;
        size_t again_len = 0;
        if (r >= 0)
                r = rp_cbor_encode(item, &again, &again_len, err);
        if (r >= 0 && (again_len != len || memcmp(again, buf, len) != 0))
                r = rp_error_set(err, -EINVAL, "secmon request: not deterministic CBOR (RFC 8949 section 4.2.1: "
                                 "shortest forms, keys in order)");
        if (r >= 0)
                memcpy(ret, req, sizeof *req);
        if (again)
                explicit_bzero(again, again_len);
        return r;
}

int rp_secmon_request_encode(const rp_secmon_request *req, uint8_t **ret, size_t *ret_len, rp_error *err) {
        const char *name = rp_secmon_type_name(req->type);
        if (!name)
                return rp_error_set(err, -EINVAL, "secmon request: unknown type %d", (int) req->type);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = cbor_new_definite_map(3);
        int r = rp_cbor_map_put(map, rp_cbor_uint(RP_SECMON_REQ_TYPE), rp_cbor_uint(req->type));
        for (unsigned key = RP_SECMON_REQ_NONCE; r >= 0 && key <= RP_SECMON_REQ_BLOB; key++) {
                if (!(types[req->type].fields & F(key)))
                        continue;
                uint64_t v = key == RP_SECMON_REQ_INDEX ? req->index : key == RP_SECMON_REQ_VALUE ? req->value
                                                                                                : req->len;
                if (v < fields[key].min || v > fields[key].max)
                        return rp_error_set(err, -ERANGE, "secmon request '%s': %s %s %" PRIu64 " is out of "
                                            "range (%" PRIu64 " to %" PRIu64 ")", name, fields[key].name,
                                            fields[key].bytes ? "length" : "value", v, fields[key].min,
                                            fields[key].max);
                r = rp_cbor_map_put(map, rp_cbor_uint(key), fields[key].bytes ? rp_cbor_bytes(req->bytes, req->len)
                                                                                : rp_cbor_uint(v));
        }
        if (r < 0)
                return rp_error_set(err, -ENOMEM, "secmon request: out of memory");
        return rp_cbor_encode(map, ret, ret_len, err);
}

int rp_secmon_response_encode(int status, const char *message, cbor_item_t *result,
                              uint8_t **ret, size_t *ret_len) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = result;
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = cbor_new_definite_map(2);
        RP_INVARIANT(status <= 0 && status >= STATUS_MIN && (status < 0 || result));
        int r = rp_cbor_map_put(map, rp_cbor_uint(RP_SECMON_RESP_STATUS), rp_cbor_int(status));
        if (r >= 0 && status == 0)
                r = rp_cbor_map_put(map, rp_cbor_uint(RP_SECMON_RESP_RESULT), TAKE_PTR(res));
        else if (r >= 0) {
                /* What secmon says may quote a client's bytes: printable
                 * ASCII only, so it is safe to log and print anywhere. */
                char text[RP_ERROR_MAX];
                size_t n = 0;
                for (const char *s = message && *message ? message : "request failed"; *s && n < sizeof text - 1; s++)
                        text[n++] = *s >= 0x20 && *s < 0x7f ? *s : '?';
                text[n] = '\0';
                r = rp_cbor_map_put(map, rp_cbor_uint(RP_SECMON_RESP_MESSAGE), rp_cbor_text(text));
        }
        if (r < 0)
                return -ENOMEM;
        return rp_cbor_encode(map, ret, ret_len, NULL);
}

int rp_secmon_response_decode(const uint8_t *buf, size_t len, int *ret_status,
                              char ret_message[RP_ERROR_MAX], cbor_item_t **ret_result, rp_error *err) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t used;
        int r = rp_cbor_decode(buf, len, RESPONSE_MAX_DEPTH, RESPONSE_MAX_ITEMS, &item, &used, err);
        if (r < 0)
                return rp_error_prefix(err, r, "secmon response: ");
        if (used != len || !cbor_isa_map(item))
                return rp_error_set(err, -EBADMSG, "secmon response: not one CBOR map");
        struct cbor_pair *p = cbor_map_handle(item);
        for (size_t i = 0; i < cbor_map_size(item); i++) {
                uint64_t key;
                if (rp_cbor_get_uint(p[i].key, &key) < 0 || key < RP_SECMON_RESP_STATUS || key > RP_SECMON_RESP_RESULT)
                        return rp_error_set(err, -EBADMSG, "secmon response: unexpected key");
        }
        int64_t status;
        cbor_item_t *msg = rp_cbor_map_get_int(item, RP_SECMON_RESP_MESSAGE);
        cbor_item_t *result = rp_cbor_map_get_int(item, RP_SECMON_RESP_RESULT);
        if (rp_cbor_get_int(rp_cbor_map_get_int(item, RP_SECMON_RESP_STATUS), &status) < 0 ||
            status > 0 || status < STATUS_MIN)
                return rp_error_set(err, -EBADMSG, "secmon response: no valid status");
        if (cbor_map_size(item) != 2 || (status == 0 && !result) || (status < 0 && !msg))
                return rp_error_set(err, -EBADMSG, "secmon response: status %" PRId64 " without its %s", status,
                                    status == 0 ? "result" : "message");
        if (status == 0) {
                *ret_status = 0;
                *ret_result = cbor_incref(result);
                return 0;
        }
        size_t n = cbor_isa_string(msg) ? cbor_string_length(msg) : 0;
        if (n == 0 || n >= RP_ERROR_MAX || !rp_utf8_is_valid((const char *) cbor_string_handle(msg), n))
                return rp_error_set(err, -EBADMSG, "secmon response: the error message is not text");
        memcpy(ret_message, cbor_string_handle(msg), n);
        ret_message[n] = '\0';
        *ret_status = (int) status;
        *ret_result = NULL;
        return 0;
}
