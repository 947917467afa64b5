/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-secmon's wire protocol (docs/formats.md, "secmon protocol").
 *
 * A Unix SOCK_SEQPACKET socket; each datagram is one request or one
 * response, a deterministic CBOR map with small unsigned integer keys:
 *
 *   request  = { 1: type, ? 2: nonce, ? 3: digest, ? 4: index, ? 5: value,
 *                ? 6: data, ? 7: blob }       (exactly the type's fields)
 *   response = { 1: status, 2: message }      (status < 0: -errno)
 *            / { 1: 0, 3: result }            (the type's result)
 *
 * The request decoder is what secmon runs on bytes from any local user: it
 * refuses anything but the one deterministic encoding of a known request,
 * with every field of the right type and size, and nothing else. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "rampart/error.h"
#include "rot/rot.h"

/* Largest request datagram: an unseal of the largest blob, with room for
 * its CBOR head and the map around it. Longer ones are refused. */
#define RP_SECMON_REQUEST_MAX (RP_ROT_SEALED_MAX + 64)
/* Largest response datagram (evidence carries two certificates). */
#define RP_SECMON_RESPONSE_MAX (16 * 1024)
/* Largest certificate in a chain response. */
#define RP_SECMON_CERT_MAX 4096

typedef enum rp_secmon_type {
        RP_SECMON_INFO = 1,             /* -> { 1: device id, 2: measurement, 3: backend, 4: development } */
        RP_SECMON_CHAIN = 2,            /* -> [ Alias, DeviceID, CA ] as DER bstrs */
        RP_SECMON_EVIDENCE = 3,         /* nonce -> bstr (COSE_Sign1) */
        RP_SECMON_SIGN = 4,             /* digest -> bstr .size 64 (r||s) */
        RP_SECMON_COUNTER_READ = 5,     /* index -> uint */
        RP_SECMON_COUNTER_ADVANCE = 6,  /* index, value -> uint */
        RP_SECMON_SEAL = 7,             /* data -> bstr (blob) */
        RP_SECMON_UNSEAL = 8,           /* blob -> bstr (data) */
} rp_secmon_type;
#define RP_SECMON_TYPE_MAX 8

/* Request keys. */
enum {
        RP_SECMON_REQ_TYPE = 1,
        RP_SECMON_REQ_NONCE = 2,        /* bstr, RP_EVIDENCE_NONCE_MIN..MAX bytes */
        RP_SECMON_REQ_DIGEST = 3,       /* bstr, RP_ROT_DIGEST_LEN bytes */
        RP_SECMON_REQ_INDEX = 4,        /* uint < RP_ROT_COUNTERS */
        RP_SECMON_REQ_VALUE = 5,        /* uint */
        RP_SECMON_REQ_DATA = 6,         /* bstr, 0..RP_ROT_SEAL_MAX bytes */
        RP_SECMON_REQ_BLOB = 7,         /* bstr, 1..RP_ROT_SEALED_MAX bytes */
};

/* Response keys, and the keys of info's result map. */
enum {
        RP_SECMON_RESP_STATUS = 1,
        RP_SECMON_RESP_MESSAGE = 2,
        RP_SECMON_RESP_RESULT = 3,
};
enum {
        RP_SECMON_INFO_DEVICE_ID = 1,   /* tstr, 64 lowercase hex digits */
        RP_SECMON_INFO_MEASUREMENT = 2, /* bstr .size 32 */
        RP_SECMON_INFO_BACKEND = 3,     /* tstr, 1..15 bytes */
        RP_SECMON_INFO_DEVELOPMENT = 4, /* bool */
};

/* A request. bytes holds the nonce, digest, data or blob (whichever the type
 * has); it may hold data to be sealed: wipe it (explicit_bzero) after use. */
typedef struct rp_secmon_request {
        rp_secmon_type type;
        unsigned index;
        uint64_t value;
        size_t len;
        uint8_t bytes[RP_ROT_SEALED_MAX];
} rp_secmon_request;

/* "info", "counter-read", ...; NULL for a type that does not exist. */
const char *rp_secmon_type_name(rp_secmon_type type);
/* The type called name: 0, or -EINVAL. */
int rp_secmon_type_from_name(const char *name, rp_secmon_type *ret);

/* Decodes exactly len bytes: one request, deterministic, nothing after it.
 * -EINVAL (wrong type, unknown field, missing field, not deterministic),
 * -ERANGE (a value or size out of range), -EOPNOTSUPP (unknown request
 * type), -EBADMSG / -EFBIG (truncated or oversized CBOR), -ENOMEM; err says
 * which field and why. *ret is untouched on failure; on success, fields
 * the type does not have are zero. */
int rp_secmon_request_decode(const uint8_t *buf, size_t len, rp_secmon_request *ret, rp_error *err);
/* Encodes req (whose fields must be in range: the decoder's rules). */
int rp_secmon_request_encode(const rp_secmon_request *req, uint8_t **ret, size_t *ret_len, rp_error *err);

/* A response: status 0 and result (taken, even on failure; not NULL), or
 * status < 0 and a message (bytes that are not printable ASCII become '?';
 * at most RP_ERROR_MAX - 1 bytes are kept). */
int rp_secmon_response_encode(int status, const char *message, cbor_item_t *result,
                              uint8_t **ret, size_t *ret_len);

/* Decodes a response: *ret_status gets 0 and *ret_result the result (a new
 * reference), or a negative status and ret_message its text (*ret_result
 * NULL). Refuses what the encoder above never makes. */
int rp_secmon_response_decode(const uint8_t *buf, size_t len, int *ret_status,
                              char ret_message[RP_ERROR_MAX], cbor_item_t **ret_result, rp_error *err);
