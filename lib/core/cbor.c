/* SPDX-License-Identifier: Apache-2.0 */
/* Deterministic CBOR encoding over libcbor items, and a bounded scanner that
 * checks untrusted bytes before libcbor (which recurses and allocates per
 * item) ever sees them. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"

/* rp_cbor_encode refuses items nested deeper than this. Items loaded after
 * rp_cbor_check are bounded by the caller's max_depth anyway. */
#define ENCODE_MAX_DEPTH 128

/* The CBOR major types (RFC 8949 section 3.1). */
enum {
        MT_UINT = 0,
        MT_NEGINT = 1,
        MT_BYTES = 2,
        MT_TEXT = 3,
        MT_ARRAY = 4,
        MT_MAP = 5,
        MT_TAG = 6,
        MT_SIMPLE = 7,
};

cbor_item_t *rp_cbor_uint(uint64_t v) {
        if (v <= UINT8_MAX)
                return cbor_build_uint8((uint8_t) v);
        if (v <= UINT16_MAX)
                return cbor_build_uint16((uint16_t) v);
        if (v <= UINT32_MAX)
                return cbor_build_uint32((uint32_t) v);
        return cbor_build_uint64(v);
}

/* The negative integer -1 - n, in the smallest width that holds n. */
static cbor_item_t *build_negint(uint64_t n) {
        if (n <= UINT8_MAX)
                return cbor_build_negint8((uint8_t) n);
        if (n <= UINT16_MAX)
                return cbor_build_negint16((uint16_t) n);
        if (n <= UINT32_MAX)
                return cbor_build_negint32((uint32_t) n);
        return cbor_build_negint64(n);
}

cbor_item_t *rp_cbor_int(int64_t v) {
        if (v >= 0)
                return rp_cbor_uint((uint64_t) v);
        /* CBOR stores a negative integer v as the unsigned -1 - v. */
        return build_negint((uint64_t) (-(v + 1)));
}

cbor_item_t *rp_cbor_text(const char *s) {
        return cbor_build_string(s);
}

cbor_item_t *rp_cbor_bytes(const void *buf, size_t len) {
        /* libcbor copies len bytes from buf; keep the pointer valid when
         * there is nothing to copy. */
        static const uint8_t empty[1];
        return cbor_build_bytestring(len ? buf : empty, len);
}

int rp_cbor_map_put(cbor_item_t *map, cbor_item_t *key, cbor_item_t *value) {
        int r = 0;
        if (!map || !key || !value)
                r = -ENOMEM;
        else if (cbor_map_is_definite(map) && cbor_map_size(map) >= cbor_map_allocated(map))
                r = -EFBIG;
        /* cbor_map_add takes its own references. */
        else if (!cbor_map_add(map, (struct cbor_pair) { .key = key, .value = value }))
                r = -ENOMEM;
        rp_cbor_decrefp(&key);
        rp_cbor_decrefp(&value);
        return r;
}

/* A growable output buffer. */
typedef struct outbuf {
        uint8_t *data;
        size_t len, cap;
} outbuf;

static void outbuf_done(outbuf *b) {
        free(b->data);
        *b = (outbuf) {};
}

static int outbuf_put(outbuf *b, const void *p, size_t n) {
        if (n == 0)
                return 0;
        if (n > SIZE_MAX - b->len)
                return -ENOMEM;
        if (b->len + n > b->cap) {
                size_t cap = b->cap ? b->cap : 64;
                while (cap < b->len + n)
                        cap = cap > SIZE_MAX / 2 ? b->len + n : cap * 2;
                uint8_t *d = realloc(b->data, cap);
                if (!d)
                        return -ENOMEM;
                b->data = d;
                b->cap = cap;
        }
        memcpy(b->data + b->len, p, n);
        b->len += n;
        return 0;
}

size_t rp_cbor_put_head(uint8_t out[RP_CBOR_HEAD_MAX], unsigned major, uint64_t v) {
        uint8_t mt = (uint8_t) (major << 5);
        size_t n;
        if (v < 24) {
                out[0] = mt | (uint8_t) v;
                return 1;
        }
        if (v <= UINT8_MAX) {
                out[0] = mt | 24;
                n = 1;
        } else if (v <= UINT16_MAX) {
                out[0] = mt | 25;
                n = 2;
        } else if (v <= UINT32_MAX) {
                out[0] = mt | 26;
                n = 4;
        } else {
                out[0] = mt | 27;
                n = 8;
        }
        for (size_t i = 0; i < n; i++)
                out[1 + i] = (uint8_t) (v >> (8 * (n - 1 - i)));
        return 1 + n;
}

static int put_head(outbuf *b, unsigned major, uint64_t v) {
        uint8_t h[RP_CBOR_HEAD_MAX];
        return outbuf_put(b, h, rp_cbor_put_head(h, major, v));
}

typedef struct sort_entry {
        outbuf key;               /* the key's deterministic encoding */
        struct cbor_pair pair;
} sort_entry;

static int sort_entry_cmp(const void *a, const void *b) {
        const sort_entry *x = a, *y = b;
        size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
        int c = memcmp(x->key.data, y->key.data, n);
        if (c != 0)
                return c;
        return x->key.len < y->key.len ? -1 : x->key.len > y->key.len;
}

static int encode_item(cbor_item_t *item, outbuf *out, unsigned depth, rp_error *err);

static int encode_map(cbor_item_t *item, outbuf *out, unsigned depth, rp_error *err) {
        if (!cbor_map_is_definite(item))
                return rp_error_set(err, -EINVAL, "CBOR: indefinite-length map cannot be encoded deterministically");
        size_t n = cbor_map_size(item);
        struct cbor_pair *pairs = cbor_map_handle(item);
        int r = put_head(out, MT_MAP, n);
        if (r < 0 || n == 0)
                return r;

        sort_entry *e = calloc(n, sizeof *e);
        if (!e)
                return -ENOMEM;
        for (size_t i = 0; i < n; i++) {
                e[i].pair = pairs[i];
                if (!pairs[i].key || !pairs[i].value) {
                        r = rp_error_set(err, -EINVAL, "CBOR: map entry %zu is incomplete", i);
                        goto out;
                }
                r = encode_item(pairs[i].key, &e[i].key, depth + 1, err);
                if (r < 0)
                        goto out;
        }
        qsort(e, n, sizeof *e, sort_entry_cmp);
        for (size_t i = 1; i < n; i++)
                if (sort_entry_cmp(&e[i - 1], &e[i]) == 0) {
                        r = rp_error_set(err, -EINVAL, "CBOR: duplicate map key");
                        goto out;
                }
        /* Sort the map itself too, so it reads in the order it encodes. Only
         * now, with nothing left to fail: a half-permuted map would hold some
         * pairs twice and lose others. */
        for (size_t i = 0; i < n; i++)
                pairs[i] = e[i].pair;
        for (size_t i = 0; i < n; i++) {
                r = outbuf_put(out, e[i].key.data, e[i].key.len);
                if (r >= 0)
                        r = encode_item(e[i].pair.value, out, depth + 1, err);
                if (r < 0)
                        goto out;
        }
out:
        for (size_t i = 0; i < n; i++)
                outbuf_done(&e[i].key);
        free(e);
        return r;
}

static int encode_item(cbor_item_t *item, outbuf *out, unsigned depth, rp_error *err) {
        if (depth > ENCODE_MAX_DEPTH)
                return rp_error_set(err, -EFBIG, "CBOR: nested deeper than %d levels", ENCODE_MAX_DEPTH);

        int r;
        switch (cbor_typeof(item)) {
        case CBOR_TYPE_UINT:
                return put_head(out, MT_UINT, cbor_get_int(item));
        case CBOR_TYPE_NEGINT:
                return put_head(out, MT_NEGINT, cbor_get_int(item));
        case CBOR_TYPE_BYTESTRING:
                if (!cbor_bytestring_is_definite(item))
                        return rp_error_set(err, -EINVAL, "CBOR: indefinite-length byte string cannot be encoded "
                                            "deterministically");
                r = put_head(out, MT_BYTES, cbor_bytestring_length(item));
                if (r < 0)
                        return r;
                return outbuf_put(out, cbor_bytestring_handle(item), cbor_bytestring_length(item));
        case CBOR_TYPE_STRING:
                if (!cbor_string_is_definite(item))
                        return rp_error_set(err, -EINVAL, "CBOR: indefinite-length text string cannot be encoded "
                                            "deterministically");
                r = put_head(out, MT_TEXT, cbor_string_length(item));
                if (r < 0)
                        return r;
                return outbuf_put(out, cbor_string_handle(item), cbor_string_length(item));
        case CBOR_TYPE_ARRAY: {
                if (!cbor_array_is_definite(item))
                        return rp_error_set(err, -EINVAL, "CBOR: indefinite-length array cannot be encoded "
                                            "deterministically");
                size_t n = cbor_array_size(item);
                cbor_item_t **v = cbor_array_handle(item);
                r = put_head(out, MT_ARRAY, n);
                /* cbor_array_size() counts the elements pushed, so none of
                 * these is NULL. */
                for (size_t i = 0; r >= 0 && i < n; i++) {
                        r = encode_item(v[i], out, depth + 1, err);
                }
                return r;
        }
        case CBOR_TYPE_MAP:
                return encode_map(item, out, depth, err);
        case CBOR_TYPE_TAG: {
                r = put_head(out, MT_TAG, cbor_tag_value(item));
                if (r < 0)
                        return r;
                /* libcbor's cbor_tag_item() takes a reference without
                 * looking, so a tag built without its item is caught here. */
                if (!item->metadata.tag_metadata.tagged_item)
                        return rp_error_set(err, -EINVAL, "CBOR: tag %ju has no item", (uintmax_t) cbor_tag_value(item));
                _cleanup_(rp_cbor_decrefp) cbor_item_t *inner = cbor_tag_item(item);
                return encode_item(inner, out, depth + 1, err);
        }
        case CBOR_TYPE_FLOAT_CTRL: {
                if (!cbor_float_ctrl_is_ctrl(item))
                        return rp_error_set(err, -EINVAL, "CBOR: floating-point values are not used by rampart");
                uint8_t v = cbor_ctrl_value(item);
                if (v < 24)
                        return put_head(out, MT_SIMPLE, v);
                if (v < 32)
                        return rp_error_set(err, -EINVAL, "CBOR: simple value %u is not well-formed", v);
                uint8_t h[2] = { (MT_SIMPLE << 5) | 24, v };
                return outbuf_put(out, h, sizeof h);
        }
        }
        return rp_error_set(err, -EINVAL, "CBOR: unknown item type");
}

int rp_cbor_encode(cbor_item_t *item, uint8_t **ret_buf, size_t *ret_len, rp_error *err) {
        if (!item)
                return rp_error_set(err, -EINVAL, "CBOR: no item to encode");
        _cleanup_(outbuf_done) outbuf out = {};
        int r = encode_item(item, &out, 1, err);
        if (r == -ENOMEM)
                return rp_error_set(err, r, "CBOR: out of memory");
        if (r < 0)
                return r;
        *ret_len = out.len;
        *ret_buf = TAKE_PTR(out.data);
        return 0;
}

/* The scanner's stack: how many items each open container still expects. */
typedef struct scan_stack {
        uint64_t small[32];
        uint64_t *v;
        size_t cap;
} scan_stack;

static void scan_stack_done(scan_stack *s) {
        if (s->v != s->small)
                free(s->v);
        s->v = NULL;
}

static int scan_stack_reserve(scan_stack *s, size_t n) {
        if (n <= s->cap)
                return 0;
        size_t cap = s->cap * 2 > n ? s->cap * 2 : n;
        if (cap > SIZE_MAX / sizeof(uint64_t))
                return -ENOMEM;
        uint64_t *v = malloc(cap * sizeof(uint64_t));
        if (!v)
                return -ENOMEM;
        memcpy(v, s->v, s->cap * sizeof(uint64_t));
        if (s->v != s->small)
                free(s->v);
        s->v = v;
        s->cap = cap;
        return 0;
}

/* An item's head as the scanner read it. */
typedef struct scan_head {
        size_t start;             /* where the head begins */
        unsigned major, ai;
        uint64_t arg;
} scan_head;

/* Reads the head at buf[*pos] and steps over it. Refuses a head that is cut
 * short, a reserved additional information (28-30), an indefinite length
 * and a break outside one. */
static int scan_read_head(const uint8_t *buf, size_t len, size_t *pos, scan_head *ret, rp_error *err) {
        size_t start = *pos;
        uint8_t ib = buf[(*pos)++];
        unsigned major = ib >> 5, ai = ib & 31;
        uint64_t arg;
        if (ai < 24)
                arg = ai;
        else if (ai <= 27) {
                size_t n = (size_t) 1 << (ai - 24);
                if (len - *pos < n)
                        return rp_error_set(err, -EBADMSG, "CBOR: truncated: the head at byte %zu needs %zu "
                                            "more bytes", start, n);
                arg = 0;
                for (size_t i = 0; i < n; i++)
                        arg = arg << 8 | buf[*pos + i];
                *pos += n;
        } else if (ai <= 30)
                return rp_error_set(err, -EINVAL, "CBOR: reserved additional information %u at byte %zu",
                                    ai, start);
        else if (major == MT_SIMPLE)
                return rp_error_set(err, -EINVAL, "CBOR: unexpected break (0xff) at byte %zu", start);
        else if (major >= MT_BYTES && major <= MT_MAP)
                return rp_error_set(err, -EINVAL, "CBOR: indefinite-length item at byte %zu (only definite "
                                    "lengths are allowed)", start);
        else
                return rp_error_set(err, -EINVAL, "CBOR: malformed initial byte 0x%02x at byte %zu", ib, start);
        *ret = (scan_head) { .start = start, .major = major, .ai = ai, .arg = arg };
        return 0;
}

/* Steps over a string's bytes, or gives how many items a container (or
 * tag) holds: 0 for every other item. Every element needs at least one
 * byte, so no count can exceed the bytes left: this bounds what cbor_load
 * allocates. */
static int scan_contents(const scan_head *h, size_t len, size_t *pos, uint64_t *ret_children, rp_error *err) {
        size_t left = len - *pos;
        uint64_t children = 0;
        switch (h->major) {
        case MT_BYTES:
        case MT_TEXT:
                if (h->arg > left)
                        return rp_error_set(err, -EBADMSG, "CBOR: truncated: the string at byte %zu declares "
                                            "%ju bytes, %zu are left", h->start, (uintmax_t) h->arg, left);
                *pos += (size_t) h->arg;
                break;
        case MT_ARRAY:
                if (h->arg > left)
                        return rp_error_set(err, -EBADMSG, "CBOR: truncated: the array at byte %zu declares "
                                            "%ju items, %zu bytes are left", h->start, (uintmax_t) h->arg, left);
                children = h->arg;
                break;
        case MT_MAP:
                if (h->arg > left / 2)
                        return rp_error_set(err, -EBADMSG, "CBOR: truncated: the map at byte %zu declares "
                                            "%ju pairs, %zu bytes are left", h->start, (uintmax_t) h->arg, left);
                children = h->arg * 2;
                break;
        case MT_TAG:
                children = 1;
                break;
        case MT_SIMPLE:
                if (h->ai == 24 && h->arg < 32)
                        return rp_error_set(err, -EINVAL, "CBOR: simple value %ju at byte %zu must use the "
                                            "one-byte form", (uintmax_t) h->arg, h->start);
                break;
        default:
                break;
        }
        *ret_children = children;
        return 0;
}

int rp_cbor_check(const uint8_t *buf, size_t len, unsigned max_depth, size_t max_items,
                  size_t *ret_len, rp_error *err) {
        _cleanup_(scan_stack_done) scan_stack st = { .cap = 32 };
        st.v = st.small;
        size_t depth = 0;   /* containers open around the next item */
        size_t pos = 0, items = 0;

        if (!buf && len > 0)
                return rp_error_set(err, -EINVAL, "CBOR: no input");

        for (;;) {
                if (depth + 1 > max_depth)
                        return rp_error_set(err, -EFBIG, "CBOR: nested deeper than %u levels at byte %zu",
                                            max_depth, pos);
                if (pos >= len)
                        return rp_error_set(err, -EBADMSG, "CBOR: truncated: an item is missing at byte %zu", pos);
                if (items >= max_items)
                        return rp_error_set(err, -EFBIG, "CBOR: more than %zu items", max_items);
                items++;

                scan_head h = {};
                uint64_t children = 0;
                int r = scan_read_head(buf, len, &pos, &h, err);
                if (r >= 0)
                        r = scan_contents(&h, len, &pos, &children, err);
                if (r < 0)
                        return r;

                if (children > 0) {
                        if (children > max_items - items)
                                return rp_error_set(err, -EFBIG, "CBOR: more than %zu items (the container at byte "
                                                    "%zu declares %ju)", max_items, h.start, (uintmax_t) children);
                        if (scan_stack_reserve(&st, depth + 1) < 0)
                                return rp_error_set(err, -ENOMEM, "CBOR: out of memory");
                        st.v[depth++] = children;
                        continue;
                }

                /* The item is complete: close every container it completes. */
                while (depth > 0 && --st.v[depth - 1] == 0)
                        depth--;
                if (depth == 0) {
                        *ret_len = pos;
                        return 0;
                }
        }
}

/* Where build_item reads: bytes that passed rp_cbor_check. */
typedef struct reader {
        const uint8_t *buf;
        size_t len, pos;
} reader;

/* Reads the head at rd->pos and steps over it. */
/* Reads a head rp_cbor_check() accepted (so one that is complete, with a
 * definite length) and steps over it. */
static void read_head(reader *rd, unsigned *ret_major, unsigned *ret_ai, uint64_t *ret_arg) {
        RP_INVARIANT(rd->pos < rd->len);
        uint8_t ib = rd->buf[rd->pos++];
        unsigned ai = ib & 31;
        uint64_t arg = ai;
        RP_INVARIANT(ai <= 27);
        if (ai >= 24) {
                size_t n = (size_t) 1 << (ai - 24);
                RP_INVARIANT(rd->len - rd->pos >= n);
                arg = 0;
                for (size_t i = 0; i < n; i++)
                        arg = arg << 8 | rd->buf[rd->pos + i];
                rd->pos += n;
        }
        *ret_major = ib >> 5;
        *ret_ai = ai;
        *ret_arg = arg;
}

static int build_item(reader *rd, unsigned depth, cbor_item_t **ret, rp_error *err);

/* Hands out an item just built, or reports that building it ran out of
 * memory. */
static int built(cbor_item_t *item, cbor_item_t **ret, rp_error *err) {
        if (!item)
                return rp_error_set(err, -ENOMEM, "CBOR: out of memory");
        *ret = item;
        return 0;
}

/* The byte or text string of n bytes whose head began at byte start. */
static int build_string(reader *rd, unsigned major, uint64_t n, size_t start, cbor_item_t **ret, rp_error *err) {
        RP_INVARIANT(n <= rd->len - rd->pos);   /* rp_cbor_check() saw all of it */
        const uint8_t *p = rd->buf + rd->pos;
        rd->pos += (size_t) n;
        if (major == MT_BYTES)
                return built(rp_cbor_bytes(p, (size_t) n), ret, err);
        return built(cbor_build_stringn((const char *) p, (size_t) n), ret, err);
}

/* The array of n elements whose head began at byte start, its elements one
 * level deeper than depth. */
static int build_array(reader *rd, unsigned depth, uint64_t n, size_t start, cbor_item_t **ret, rp_error *err) {
        if (n > rd->len - rd->pos)
                return rp_error_set(err, -EBADMSG, "CBOR: truncated array at byte %zu", start);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *array = cbor_new_definite_array((size_t) n);
        if (!array)
                return rp_error_set(err, -ENOMEM, "CBOR: out of memory");
        for (uint64_t i = 0; i < n; i++) {
                _cleanup_(rp_cbor_decrefp) cbor_item_t *e = NULL;
                int r = build_item(rd, depth + 1, &e, err);
                if (r < 0)
                        return r;
                if (!cbor_array_push(array, e))
                        return rp_error_set(err, -ENOMEM, "CBOR: out of memory");
        }
        *ret = TAKE_PTR(array);
        return 0;
}

/* The map of n pairs whose head began at byte start, its keys and values one
 * level deeper than depth. */
static int build_map(reader *rd, unsigned depth, uint64_t n, size_t start, cbor_item_t **ret, rp_error *err) {
        if (n > (rd->len - rd->pos) / 2)
                return rp_error_set(err, -EBADMSG, "CBOR: truncated map at byte %zu", start);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = cbor_new_definite_map((size_t) n);
        if (!map)
                return rp_error_set(err, -ENOMEM, "CBOR: out of memory");
        for (uint64_t i = 0; i < n; i++) {
                cbor_item_t *k = NULL, *v = NULL;
                int r = build_item(rd, depth + 1, &k, err);
                if (r < 0)
                        return r;
                r = build_item(rd, depth + 1, &v, err);
                if (r < 0) {
                        cbor_decref(&k);
                        return r;
                }
                /* A definite map with room for every pair: adding one
                 * allocates nothing, and cannot fail. */
                r = rp_cbor_map_put(map, k, v);
                RP_INVARIANT(r == 0);
        }
        *ret = TAKE_PTR(map);
        return 0;
}

/* Tag number tag around the item that follows, one level deeper. */
static int build_tag(reader *rd, unsigned depth, uint64_t tag, cbor_item_t **ret, rp_error *err) {
        cbor_item_t *inner = NULL;
        int r = build_item(rd, depth + 1, &inner, err);
        if (r < 0)
                return r;
        cbor_item_t *item = cbor_new_tag(tag);
        if (item)
                cbor_tag_set_item(item, inner);
        cbor_decref(&inner);
        return built(item, ret, err);
}

/* A simple value (major type 7); floating-point values are refused. */
static int build_simple(unsigned ai, uint64_t arg, size_t start, cbor_item_t **ret, rp_error *err) {
        if (ai >= 25 && ai <= 27)
                return rp_error_set(err, -EOPNOTSUPP, "CBOR: floating-point value at byte %zu (not used by "
                                    "rampart)", start);
        /* A break (ai 31) or a two-byte simple value below 32 never gets
         * here: rp_cbor_check() refused it. */
        return built(cbor_build_ctrl((uint8_t) arg), ret, err);
}

/* Builds the item at rd->pos, which is depth levels deep, and steps over it.
 * Only for bytes rp_cbor_check() accepted with a max_depth of at most
 * RP_CBOR_DECODE_MAX_DEPTH, which is what bounds the recursion. */
static int build_item(reader *rd, unsigned depth, cbor_item_t **ret, rp_error *err) {
        size_t start = rd->pos;
        unsigned major, ai;
        uint64_t arg;
        read_head(rd, &major, &ai, &arg);

        switch (major) {
        case MT_UINT:
                return built(rp_cbor_uint(arg), ret, err);
        case MT_NEGINT:
                return built(build_negint(arg), ret, err);
        case MT_BYTES:
        case MT_TEXT:
                return build_string(rd, major, arg, start, ret, err);
        case MT_ARRAY:
                return build_array(rd, depth, arg, start, ret, err);
        case MT_MAP:
                return build_map(rd, depth, arg, start, ret, err);
        case MT_TAG:
                return build_tag(rd, depth, arg, ret, err);
        default:        /* MT_SIMPLE: the major type has three bits */
                return build_simple(ai, arg, start, ret, err);
        }
}

int rp_cbor_decode(const uint8_t *buf, size_t len, unsigned max_depth, size_t max_items,
                   cbor_item_t **ret, size_t *ret_len, rp_error *err) {
        if (max_depth > RP_CBOR_DECODE_MAX_DEPTH)
                max_depth = RP_CBOR_DECODE_MAX_DEPTH;
        size_t n;
        int r = rp_cbor_check(buf, len, max_depth, max_items, &n, err);
        if (r < 0)
                return r;
        reader rd = { .buf = buf, .len = n };
        cbor_item_t *item = NULL;
        r = build_item(&rd, 1, &item, err);
        if (r < 0)
                return r;
        *ret = item;
        *ret_len = n;
        return 0;
}

int rp_cbor_is_deterministic(const uint8_t *buf, size_t len) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *item = NULL;
        size_t n;
        int r = rp_cbor_decode(buf, len, ENCODE_MAX_DEPTH, len, &item, &n, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0 || n != len)
                return 0;
        _cleanup_free_ uint8_t *out = NULL;
        size_t out_len;
        r = rp_cbor_encode(item, &out, &out_len, NULL);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return 0;
        return out_len == len && memcmp(out, buf, len) == 0;
}

cbor_item_t *rp_cbor_map_get_text(const cbor_item_t *map, const char *key) {
        if (!map || !cbor_isa_map(map))
                return NULL;
        size_t klen = strlen(key), n = cbor_map_size(map);
        struct cbor_pair *pairs = cbor_map_handle(map);
        for (size_t i = 0; i < n; i++) {
                cbor_item_t *k = pairs[i].key;
                if (k && cbor_isa_string(k) && cbor_string_is_definite(k) && cbor_string_length(k) == klen &&
                    memcmp(cbor_string_handle(k), key, klen) == 0)
                        return pairs[i].value;
        }
        return NULL;
}

cbor_item_t *rp_cbor_map_get_int(const cbor_item_t *map, int64_t key) {
        if (!map || !cbor_isa_map(map))
                return NULL;
        size_t n = cbor_map_size(map);
        struct cbor_pair *pairs = cbor_map_handle(map);
        for (size_t i = 0; i < n; i++) {
                int64_t v;
                if (pairs[i].key && rp_cbor_get_int(pairs[i].key, &v) == 0 && v == key)
                        return pairs[i].value;
        }
        return NULL;
}

int rp_cbor_get_int(const cbor_item_t *item, int64_t *ret) {
        if (!item)
                return -EINVAL;
        if (cbor_isa_uint(item)) {
                uint64_t v = cbor_get_int(item);
                if (v > INT64_MAX)
                        return -ERANGE;
                *ret = (int64_t) v;
                return 0;
        }
        if (cbor_isa_negint(item)) {
                uint64_t n = cbor_get_int(item);
                if (n > INT64_MAX)
                        return -ERANGE;
                *ret = -1 - (int64_t) n;
                return 0;
        }
        return -EINVAL;
}

int rp_cbor_get_uint(const cbor_item_t *item, uint64_t *ret) {
        if (!item)
                return -EINVAL;
        if (cbor_isa_uint(item)) {
                *ret = cbor_get_int(item);
                return 0;
        }
        if (cbor_isa_negint(item))
                return -ERANGE;
        return -EINVAL;
}

const char *rp_cbor_kind(const cbor_item_t *item) {
        switch (cbor_typeof(item)) {
        case CBOR_TYPE_UINT:
        case CBOR_TYPE_NEGINT:
                return "an integer";
        case CBOR_TYPE_BYTESTRING:
                return "a byte string";
        case CBOR_TYPE_STRING:
                return "a text string";
        case CBOR_TYPE_ARRAY:
                return "an array";
        case CBOR_TYPE_MAP:
                return "a map";
        case CBOR_TYPE_TAG:
                return "a tagged item";
        case CBOR_TYPE_FLOAT_CTRL:
                break;
        }
        if (cbor_is_bool(item))
                return "a boolean";
        if (cbor_is_null(item))
                return "nil";
        return "a simple value";
}
