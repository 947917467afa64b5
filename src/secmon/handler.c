/* SPDX-License-Identifier: Apache-2.0 */
/* One request, top to bottom: decode (every field checked), check the
 * caller's uid against the request's allow-list, act through the backend,
 * answer. Whatever goes wrong becomes an error response; the connection
 * stays usable. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "rot/evidence_create.h"
#include "secmon.h"

static void request_freep(rp_secmon_request **req) {
        if (*req)
                explicit_bzero(*req, sizeof **req);
        free(*req);
}

/* { 1: device id, 2: measurement, 3: backend, 4: development } */
static cbor_item_t *info_result(const secmon_device *dev) {
        const rp_rot_backend *b = dev->rot->backend;
        cbor_item_t *m = cbor_new_definite_map(4);
        int r = rp_cbor_map_put(m, rp_cbor_uint(RP_SECMON_INFO_DEVICE_ID), rp_cbor_text(dev->device_id));
        if (r >= 0)
                r = rp_cbor_map_put(m, rp_cbor_uint(RP_SECMON_INFO_MEASUREMENT),
                                    rp_cbor_bytes(dev->measurement->value, RP_ROT_MEASUREMENT_LEN));
        if (r >= 0)
                r = rp_cbor_map_put(m, rp_cbor_uint(RP_SECMON_INFO_BACKEND), rp_cbor_text(b->name));
        if (r >= 0)
                r = rp_cbor_map_put(m, rp_cbor_uint(RP_SECMON_INFO_DEVELOPMENT), cbor_build_bool(b->development));
        if (r < 0)
                rp_cbor_decrefp(&m);
        return m;
}

/* [ Alias, DeviceID, CA ], DER */
static cbor_item_t *chain_result(const secmon_device *dev) {
        cbor_item_t *a = cbor_new_definite_array(ELEMENTSOF(dev->der));
        for (size_t i = 0; a && i < ELEMENTSOF(dev->der); i++) {
                cbor_item_t *c = rp_cbor_bytes(dev->der[i], dev->der_len[i]);
                if (!c || !cbor_array_push(a, cbor_move(c)))
                        rp_cbor_decrefp(&a);
        }
        return a;
}

static int evidence(const secmon_config *cfg, const secmon_device *dev, const rp_secmon_request *req,
                    uint8_t **ret, size_t *ret_len, rp_error *err) {
        const rp_rot_backend *b = dev->rot->backend;
        rp_evidence_input in = {
                .nonce = req->bytes,
                .nonce_len = req->len,
                .device_id = dev->device_id,
                .components = dev->measurement->components,
                .components_len = dev->measurement->components_len,
                .sw_name = "rampart",
                .sw_version = cfg->sw_version,
                .dbgstat = secmon_dbgstat(cfg, b->development),
                .iat = (int64_t) time(NULL),
                .rot_backend = b->name,
                .development = b->development,
                .alias_der = dev->der[0],
                .alias_der_len = dev->der_len[0],
                .deviceid_der = dev->der[1],
                .deviceid_der_len = dev->der_len[1],
        };
        return rp_evidence_create(&in, b->alias_sign, dev->rot->state, ret, ret_len, err);
}

/* Does what req asks; *ret gets the result item. */
static int act(const secmon_config *cfg, secmon_device *dev, const rp_secmon_request *req, cbor_item_t **ret,
               rp_error *err) {
        const rp_rot_backend *b = dev->rot->backend;
        void *st = dev->rot->state;
        _cleanup_free_ uint8_t *out = NULL;     /* wiped below */
        size_t len = 0;
        uint8_t sig[RP_ROT_SIG_LEN];
        uint64_t v = 0;
        cbor_item_t *res = NULL;
        int r = 0;
        switch (req->type) {
        case RP_SECMON_INFO:
                res = info_result(dev);
                break;
        case RP_SECMON_CHAIN:
                res = chain_result(dev);
                break;
        case RP_SECMON_EVIDENCE:
                r = evidence(cfg, dev, req, &out, &len, err);
                break;
        case RP_SECMON_SIGN:
                r = b->alias_sign(st, req->bytes, sig, err);
                if (r >= 0)
                        res = rp_cbor_bytes(sig, sizeof sig);
                break;
        case RP_SECMON_COUNTER_READ:
                r = b->counter_read(st, req->index, &v, err);
                break;
        case RP_SECMON_COUNTER_ADVANCE:
                r = b->counter_advance(st, req->index, req->value, &v, err);
                break;
        case RP_SECMON_SEAL:
                r = b->seal(st, req->bytes, req->len, &out, &len, err);
                break;
        case RP_SECMON_UNSEAL:
                r = b->unseal(st, req->bytes, req->len, &out, &len, err);
                break;
        }
        if (r < 0)
                return r;
        if (req->type == RP_SECMON_COUNTER_READ || req->type == RP_SECMON_COUNTER_ADVANCE)
                res = rp_cbor_uint(v);
        else if (out) {
                res = rp_cbor_bytes(out, len);
                explicit_bzero(out, len);
        }
        if (!res)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = res;
        return 0;
}

int secmon_handle(const secmon_config *cfg, secmon_device *dev, const struct ucred *peer, const uint8_t *buf,
                  size_t len, size_t real_len, uint8_t **ret, size_t *ret_len) {
        _cleanup_(request_freep) rp_secmon_request *req = calloc(1, sizeof *req);
        if (!req)
                return -ENOMEM;
        rp_error err = {};
        cbor_item_t *result = NULL;
        const char *name = "-";
        int r;

        if (real_len > len)
                r = rp_error_set(&err, -EFBIG, "secmon request: %zu bytes, over the limit of %d bytes", real_len,
                                 RP_SECMON_REQUEST_MAX);
        else
                r = rp_secmon_request_decode(buf, len, req, &err);
        if (r >= 0) {
                name = rp_secmon_type_name(req->type);
                if (!secmon_allowed(cfg, req->type, peer->uid))
                        r = rp_error_set(&err, -EACCES, "request '%s' refused for uid %u: not on its allow-list",
                                         name, (unsigned) peer->uid);
        }
        if (r >= 0)
                r = act(cfg, dev, req, &result, &err);
        if (r < 0) {
                /* A status is an errno: anything else a backend said is an I/O error. */
                r = r < -4095 ? -EIO : r;
                char q[SECMON_QUOTE_MAX];
                secmon_log("event=refused request=%s uid=%u pid=%d code=%d reason=%s", name, (unsigned) peer->uid,
                           (int) peer->pid, r, secmon_quote(rp_error_message(&err, r), q, sizeof q));
        }
        /* Unsealed data is wiped from its item once encoded. */
        cbor_item_t *secret = req->type == RP_SECMON_UNSEAL && result ? cbor_incref(result) : NULL;
        int k = rp_secmon_response_encode(r < 0 ? r : 0, rp_error_message(&err, r), result, ret, ret_len);
        if (secret) {
                explicit_bzero(cbor_bytestring_handle(secret), cbor_bytestring_length(secret));
                cbor_decref(&secret);
        }
        return k;
}
