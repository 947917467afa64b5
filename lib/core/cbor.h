/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Deterministic CBOR (RFC 8949 section 4.2.1) on top of libcbor, and a
 * bounded well-formedness check to run before handing bytes from outside to
 * cbor_load().
 *
 * Deterministic means: integers, lengths and tags in their shortest form,
 * definite lengths only, map keys sorted by the bytewise order of their
 * encodings, no duplicate keys. Floats are not used by rampart's formats. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cbor.h>

#include "rampart/error.h"

/* Builders that pick the shortest width. NULL when out of memory. */
cbor_item_t *rp_cbor_uint(uint64_t v);
cbor_item_t *rp_cbor_int(int64_t v);
cbor_item_t *rp_cbor_text(const char *s);          /* s must be UTF-8 */
cbor_item_t *rp_cbor_bytes(const void *buf, size_t len);

/* Writes the head of a data item (major type 0-7, argument v) in its
 * shortest form to out and returns its length, 1 to RP_CBOR_HEAD_MAX. */
#define RP_CBOR_HEAD_MAX 9
size_t rp_cbor_put_head(uint8_t out[RP_CBOR_HEAD_MAX], unsigned major, uint64_t v);

/* Adds key -> value to a definite map, taking ownership of both (they are
 * released even on failure). -ENOMEM or -EFBIG if the map is full. */
int rp_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value);

/* Encodes item deterministically into a malloc'd buffer: sorts the keys of
 * every map (in place) and re-encodes integers and lengths in their shortest
 * form. -EINVAL if item holds duplicate map keys, indefinite-length items or
 * floats. */
int rp_cbor_encode(cbor_item_t *item, uint8_t **ret_buf, size_t *ret_len, rp_error *err);

/* Scans the first data item in buf without building it. On success
 * *ret_len is its length (bytes after it are ignored). Refuses truncation,
 * reserved or malformed initial bytes, indefinite lengths, nesting deeper
 * than max_depth, and items with more than max_items elements in total.
 * Use before cbor_load(), which has no such limits. */
int rp_cbor_check(const uint8_t *buf, size_t len, unsigned max_depth, size_t max_items,
                  size_t *ret_len, rp_error *err);

/* rp_cbor_check, then builds the first item in buf as libcbor items: use this
 * instead of cbor_load() for bytes from outside. Besides being bounded, it
 * avoids a libcbor 0.8 bug: cbor_load() refuses tags 6..20 in their one-byte
 * form, which includes COSE_Sign1's tag 18 (0xd2). max_depth above
 * RP_CBOR_DECODE_MAX_DEPTH is lowered to it (building recurses once per
 * level). Floating-point values are refused with -EOPNOTSUPP. On success
 * *ret gets a new reference and *ret_len the item's length. */
#define RP_CBOR_DECODE_MAX_DEPTH 128
int rp_cbor_decode(const uint8_t *buf, size_t len, unsigned max_depth, size_t max_items,
                   cbor_item_t **ret, size_t *ret_len, rp_error *err);

/* 1 if the item at buf (exactly len bytes) is in deterministic form
 * (decode + rp_cbor_encode gives the same bytes), 0 if it is not or is not
 * one well-formed item, -ENOMEM if that could not be found out: callers
 * must not report a failed allocation as malformed input. */
int rp_cbor_is_deterministic(const uint8_t *buf, size_t len);

/* Map lookups for parsed items: the value under a text or integer key
 * (borrowed: no new reference), or NULL. */
cbor_item_t *rp_cbor_map_get_text(const cbor_item_t *map, const char *key);
cbor_item_t *rp_cbor_map_get_int(const cbor_item_t *map, int64_t key);

/* Reads an unsigned or negative integer item into an int64 (-ERANGE if it
 * does not fit, -EINVAL if not an integer). */
int rp_cbor_get_int(const cbor_item_t *item, int64_t *ret);
int rp_cbor_get_uint(const cbor_item_t *item, uint64_t *ret);

/* What an item is, for messages: "an integer", "a byte string", "a text
 * string", "an array", "a map", "a tagged item", "a boolean", "nil" or "a
 * simple value". */
const char *rp_cbor_kind(const cbor_item_t *item);

static inline void rp_cbor_decrefp(cbor_item_t **item) {
        if (*item)
                cbor_decref(item);
}
