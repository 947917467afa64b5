/* SPDX-License-Identifier: Apache-2.0 */
/* Deployment documents (rampart/deployment.h, docs/formats.md "Deployment
 * document"): the payload's one deterministic CBOR form, signing it as a
 * COSE_Sign1, reading it back strictly, and what a device accepts. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/cose.h"
#include "rampart/deployment.h"

/* Format 1's payload is a map of eleven fields, "images" an array of maps
 * of seven scalars: depth 4 and about a thousand items at most. The
 * decoding limits are wider, so that a later format or too many images is
 * reported as such rather than as malformed CBOR. */
#define DOC_MAX_DEPTH 16
#define DOC_MAX_ITEMS 8192
/* The payload's size: 64 images of the largest name and url take well
 * under half of it. */
#define DOC_MAX_SIZE (256 * 1024)
/* What a device's clock may be behind the service's (issued-at). */
#define DOC_CLOCK_SKEW 300
/* A package file: its signed manifest and at most 1 GiB of image. */
#define DOC_IMAGE_SIZE_MAX (RP_PACKAGE_IMAGE_MAX_SIZE + RP_COSE_MAX_SIZE)
#define DOC_TYPE_NAME_MAX 16

#define DOC_ERROR(err, code, fmt, ...) rp_error_set(err, code, "deployment document: " fmt, ##__VA_ARGS__)

static const char *const policy_names[] = {
        [RP_UPDATE_ALL] = "UpdateAll",
        [RP_UPDATE_OS_ONLY] = "No3rdPartyAppUpdates",
        [RP_UPDATE_NONE] = "NoUpdates",
};

const char *rp_update_policy_name(rp_update_policy p) {
        return p >= RP_UPDATE_ALL && p <= RP_UPDATE_NONE ? policy_names[p] : NULL;
}

int rp_update_policy_from_name(const char *s, rp_update_policy *ret) {
        for (rp_update_policy p = RP_UPDATE_ALL; s && p <= RP_UPDATE_NONE; p++)
                if (streq(s, policy_names[p])) {
                        *ret = p;
                        return 0;
                }
        return -EINVAL;
}

#define TYPE_BIT(t) (1u << (t))
#define ALL_TYPES (TYPE_BIT(RP_IMAGE_TYPE_APP) | TYPE_BIT(RP_IMAGE_TYPE_RT_APP) | TYPE_BIT(RP_IMAGE_TYPE_OS))

unsigned rp_update_policy_manages(rp_update_policy p) {
        switch (p) {
        case RP_UPDATE_ALL:
                return ALL_TYPES;
        case RP_UPDATE_OS_ONLY:
                return TYPE_BIT(RP_IMAGE_TYPE_OS);
        case RP_UPDATE_NONE:
                return 0;
        }
        return 0;
}

static int image_type_from_name(const char *s, rp_image_type *ret) {
        for (rp_image_type t = RP_IMAGE_TYPE_APP; t <= RP_IMAGE_TYPE_OS; t++)
                if (streq(s, rp_image_type_name(t))) {
                        *ret = t;
                        return 0;
                }
        return -EINVAL;
}

static void image_clear(rp_deployment_image *im) {
        free(im->name);
        free(im->url);
}

void rp_deployment_doc_free(rp_deployment_doc *d) {
        if (!d)
                return;
        free(d->device_group);
        free(d->deployment);
        for (size_t i = 0; i < d->n_images; i++)
                image_clear(&d->images[i]);
        free(d->images);
        free(d);
}

const rp_deployment_image *rp_deployment_doc_find(const rp_deployment_doc *d, const char *component_id) {
        for (size_t i = 0; component_id && i < d->n_images; i++)
                if (streq(d->images[i].component_id, component_id))
                        return &d->images[i];
        return NULL;
}

/* --- reading --- */

/* The fields of the document and of an image; the index is the bit in a
 * "seen" mask. */
enum {
        F_FORMAT,
        F_TENANT,
        F_DEVICE,
        F_DEVICE_GROUP,
        F_DEPLOYMENT,
        F_VERSION,
        F_ISSUED_AT,
        F_EXPIRES_AT,
        F_POLICY,
        F_MANAGES,
        F_IMAGES,
        F_COUNT,
};

static const char *const field_names[F_COUNT] = {
        [F_FORMAT] = "format",
        [F_TENANT] = "tenant",
        [F_DEVICE] = "device",
        [F_DEVICE_GROUP] = "device-group",
        [F_DEPLOYMENT] = "deployment",
        [F_VERSION] = "version",
        [F_ISSUED_AT] = "issued-at",
        [F_EXPIRES_AT] = "expires-at",
        [F_POLICY] = "policy",
        [F_MANAGES] = "manages",
        [F_IMAGES] = "images",
};

enum {
        I_COMPONENT_ID,
        I_TYPE,
        I_NAME,
        I_VERSION,
        I_DIGEST,
        I_SIZE,
        I_URL,
        I_COUNT,
};

static const char *const image_field_names[I_COUNT] = {
        [I_COMPONENT_ID] = "component-id",
        [I_TYPE] = "type",
        [I_NAME] = "name",
        [I_VERSION] = "version",
        [I_DIGEST] = "digest",
        [I_SIZE] = "size",
        [I_URL] = "url",
};

/* Where a value is, for messages: "field \"version\"" or "images[3]: field
 * \"name\"". */
typedef struct place {
        char text[64];
} place;

static const char *place_of(place *p, long image, const char *field) {
        if (image < 0)
                snprintf(p->text, sizeof p->text, "field \"%s\"", field);
        else
                snprintf(p->text, sizeof p->text, "images[%ld]: field \"%s\"", image, field);
        return p->text;
}

/* An unsigned integer no larger than max; over_code when it is larger. */
static int get_uint(const cbor_item_t *item, const char *where, uint64_t max, int over_code, uint64_t *ret,
                    rp_error *err) {
        uint64_t v;
        if (cbor_isa_negint(item))
                return DOC_ERROR(err, -ERANGE, "%s: is negative, must be an unsigned integer", where);
        if (!cbor_isa_uint(item) || rp_cbor_get_uint(item, &v) < 0)
                return DOC_ERROR(err, -EINVAL, "%s: must be an unsigned integer, not %s", where, rp_cbor_kind(item));
        if (v > max)
                return DOC_ERROR(err, over_code, "%s: %ju is larger than the limit of %ju", where, (uintmax_t) v,
                                 (uintmax_t) max);
        *ret = v;
        return 0;
}

/* A text string of 1..max bytes of printable UTF-8, borrowed (not
 * NUL-terminated: *ret_len bytes). */
static int get_text(const cbor_item_t *item, const char *where, size_t max, const char **ret, size_t *ret_len,
                    rp_error *err) {
        if (!cbor_isa_string(item) || !cbor_string_is_definite(item))
                return DOC_ERROR(err, -EINVAL, "%s: must be a text string, not %s", where, rp_cbor_kind(item));
        size_t n = cbor_string_length(item);
        const char *s = (const char *) cbor_string_handle(item);
        if (n == 0)
                return DOC_ERROR(err, -EINVAL, "%s: is empty", where);
        if (n > max)
                return DOC_ERROR(err, -EFBIG, "%s: is %zu bytes, the limit is %zu", where, n, max);
        if (!rp_str_is_printable(s, n))
                return DOC_ERROR(err, -EINVAL, "%s: is not printable UTF-8 (control characters, NUL or bad "
                                 "encoding)", where);
        *ret = s;
        *ret_len = n;
        return 0;
}

static int get_text_copy(const cbor_item_t *item, const char *where, size_t max, char **ret, rp_error *err) {
        const char *s;
        size_t n;
        int r = get_text(item, where, max, &s, &n, err);
        if (r < 0)
                return r;
        char *copy = strndup(s, n);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = copy;
        return 0;
}

/* An id: 1..max lowercase hex digits (exactly max if exact). */
static int get_id(const cbor_item_t *item, const char *where, size_t max, bool exact, char *out, rp_error *err) {
        const char *s;
        size_t n;
        int r = get_text(item, where, max, &s, &n, err);
        if (r < 0)
                return r;
        bool hex = true;
        for (size_t i = 0; i < n; i++)
                hex = hex && ((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'));
        if ((exact && n != max) || !hex)
                return DOC_ERROR(err, -EINVAL, "%s: must be %s%zu lowercase hex digits", where, exact ? "" : "1 to ",
                                 max);
        memcpy(out, s, n);
        out[n] = '\0';
        return 0;
}

/* An id, or null (*ret NULL). */
static int get_id_or_null(const cbor_item_t *item, const char *where, char **ret, rp_error *err) {
        if (cbor_is_null(item)) {
                *ret = NULL;
                return 0;
        }
        char id[RP_DEPLOYMENT_ID_MAX + 1];
        int r = get_id(item, where, RP_DEPLOYMENT_ID_MAX, false, id, err);
        if (r < 0)
                return r == -EINVAL && !cbor_isa_string(item) ? DOC_ERROR(err, -EINVAL, "%s: must be a text string "
                                                                          "or null, not %s", where,
                                                                          rp_cbor_kind(item)) : r;
        *ret = strdup(id);
        return *ret ? 0 : rp_error_set(err, -ENOMEM, "out of memory");
}

static int get_type(const cbor_item_t *item, const char *where, rp_image_type *ret, rp_error *err) {
        const char *s;
        size_t n;
        int r = get_text(item, where, DOC_TYPE_NAME_MAX, &s, &n, err);
        if (r < 0)
                return r;
        char name[DOC_TYPE_NAME_MAX + 1];
        memcpy(name, s, n);
        name[n] = '\0';
        if (image_type_from_name(name, ret) < 0)
                return DOC_ERROR(err, -EINVAL, "%s: unknown image type '%s' (expected app, rt-app or os)", where,
                                 name);
        return 0;
}

/* A path on the service: '/' then printable ASCII without spaces. */
static int get_url(const cbor_item_t *item, const char *where, char **ret, rp_error *err) {
        _cleanup_free_ char *url = NULL;
        int r = get_text_copy(item, where, RP_DEPLOYMENT_URL_MAX, &url, err);
        if (r < 0)
                return r;
        for (const char *p = url; *p; p++)
                if (*p <= ' ' || *p > '~' || (p == url && *p != '/'))
                        return DOC_ERROR(err, -EINVAL, "%s: must be a path on the service (\"/...\", printable "
                                         "ASCII without spaces)", where);
        *ret = TAKE_PTR(url);
        return 0;
}

/* Index of the text key k in names[0..n), n if unknown; -EINVAL if k is
 * not a text string. */
static int key_index(const cbor_item_t *k, const char *const *names, unsigned n, const char *in, unsigned *ret,
                     rp_error *err) {
        if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
                return DOC_ERROR(err, -EINVAL, "%severy key must be a text string, found %s", in, rp_cbor_kind(k));
        size_t kl = cbor_string_length(k);
        const char *ks = (const char *) cbor_string_handle(k);
        for (unsigned j = 0; j < n; j++)
                if (strlen(names[j]) == kl && memcmp(names[j], ks, kl) == 0) {
                        *ret = j;
                        return 0;
                }
        char shown[80];
        if (rp_str_is_printable(ks, kl) && kl < 64)
                snprintf(shown, sizeof shown, "\"%.*s\"", (int) kl, ks);
        else
                snprintf(shown, sizeof shown, "(a %zu-byte key)", kl);
        return DOC_ERROR(err, -EINVAL, "%sunknown field %s (format %d has no such field)", in, shown,
                         RP_DEPLOYMENT_FORMAT);
}

static int parse_image_field(rp_deployment_image *im, long i, unsigned f, const cbor_item_t *v, rp_error *err) {
        place pl;
        const char *where = place_of(&pl, i, image_field_names[f]);
        char cid[RP_PACKAGE_GUID_LEN + 1], norm[RP_GUID_STRLEN + 1];
        int r;

        switch (f) {
        case I_COMPONENT_ID: {
                const char *s;
                size_t n;
                r = get_text(v, where, RP_PACKAGE_GUID_LEN, &s, &n, err);
                if (r < 0)
                        return r;
                memcpy(cid, s, n);
                cid[n] = '\0';
                if (rp_guid_normalize(cid, norm) < 0 || !streq(norm, cid))
                        return DOC_ERROR(err, -EINVAL, "%s: '%s' is not a lowercase GUID (8-4-4-4-12 hex digits)",
                                         where, cid);
                memcpy(im->component_id, norm, sizeof im->component_id);
                return 0;
        }
        case I_TYPE:
                return get_type(v, where, &im->type, err);
        case I_NAME:
                return get_text_copy(v, where, RP_PACKAGE_NAME_MAX, &im->name, err);
        case I_VERSION:
                return get_uint(v, where, RP_PACKAGE_VERSION_MAX, -ERANGE, &im->version, err);
        case I_DIGEST:
                if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
                        return DOC_ERROR(err, -EINVAL, "%s: must be a byte string, not %s", where, rp_cbor_kind(v));
                if (cbor_bytestring_length(v) != RP_SHA256_LEN)
                        return DOC_ERROR(err, -EINVAL, "%s: is %zu bytes, a SHA-256 digest is %d", where,
                                         cbor_bytestring_length(v), RP_SHA256_LEN);
                memcpy(im->digest, cbor_bytestring_handle(v), RP_SHA256_LEN);
                return 0;
        case I_SIZE:
                r = get_uint(v, where, DOC_IMAGE_SIZE_MAX, -EFBIG, &im->size, err);
                if (r == 0 && im->size == 0)
                        return DOC_ERROR(err, -EINVAL, "%s: is 0; a package has at least one byte", where);
                return r;
        case I_URL:
                return get_url(v, where, &im->url, err);
        }
        return -EINVAL;
}

static int parse_image(const cbor_item_t *map, long i, rp_deployment_image *im, rp_error *err) {
        if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
                return DOC_ERROR(err, -EINVAL, "images[%ld]: must be a map, not %s", i, rp_cbor_kind(map));
        char in[32];
        snprintf(in, sizeof in, "images[%ld]: ", i);
        unsigned seen = 0;
        struct cbor_pair *pairs = cbor_map_handle(map);
        for (size_t k = 0; k < cbor_map_size(map); k++) {
                unsigned f;
                int r = key_index(pairs[k].key, image_field_names, I_COUNT, in, &f, err);
                if (r < 0)
                        return r;
                if (seen & (1u << f))
                        return DOC_ERROR(err, -EINVAL, "%sfield \"%s\" appears twice", in, image_field_names[f]);
                seen |= 1u << f;
                r = parse_image_field(im, i, f, pairs[k].value, err);
                if (r < 0)
                        return r;
        }
        for (unsigned f = 0; f < I_COUNT; f++)
                if (!(seen & (1u << f)))
                        return DOC_ERROR(err, -EINVAL, "%sfield \"%s\" is missing", in, image_field_names[f]);
        return 0;
}

static int parse_manages(const cbor_item_t *v, unsigned *ret, rp_error *err) {
        if (!cbor_isa_array(v) || !cbor_array_is_definite(v))
                return DOC_ERROR(err, -EINVAL, "field \"manages\": must be an array, not %s", rp_cbor_kind(v));
        size_t n = cbor_array_size(v);
        if (n > 3)
                return DOC_ERROR(err, -EINVAL, "field \"manages\": has %zu entries, there are 3 image types", n);
        cbor_item_t **e = cbor_array_handle(v);
        unsigned bits = 0;
        rp_image_type prev = 0;
        for (size_t i = 0; i < n; i++) {
                char where[48];
                snprintf(where, sizeof where, "field \"manages\"[%zu]", i);
                rp_image_type t;
                int r = get_type(e[i], where, &t, err);
                if (r < 0)
                        return r;
                if (bits & TYPE_BIT(t))
                        return DOC_ERROR(err, -EINVAL, "field \"manages\": %s appears twice", rp_image_type_name(t));
                if (t < prev)
                        return DOC_ERROR(err, -EINVAL, "field \"manages\": not in the order app, rt-app, os");
                bits |= TYPE_BIT(t);
                prev = t;
        }
        *ret = bits;
        return 0;
}

static int parse_images(const cbor_item_t *v, rp_deployment_doc *d, rp_error *err) {
        if (!cbor_isa_array(v) || !cbor_array_is_definite(v))
                return DOC_ERROR(err, -EINVAL, "field \"images\": must be an array, not %s", rp_cbor_kind(v));
        size_t n = cbor_array_size(v);
        if (n > RP_DEPLOYMENT_MAX_IMAGES)
                return DOC_ERROR(err, -EFBIG, "field \"images\": %zu images, the limit is %d", n,
                                 RP_DEPLOYMENT_MAX_IMAGES);
        d->images = calloc(n ? n : 1, sizeof *d->images);
        if (!d->images)
                return rp_error_set(err, -ENOMEM, "out of memory");
        cbor_item_t **e = cbor_array_handle(v);
        for (size_t i = 0; i < n; i++) {
                d->n_images = i + 1;
                int r = parse_image(e[i], (long) i, &d->images[i], err);
                if (r < 0)
                        return r;
                if (i > 0) {
                        int c = strcmp(d->images[i - 1].component_id, d->images[i].component_id);
                        if (c == 0)
                                return DOC_ERROR(err, -EINVAL, "images[%zu]: component %s appears twice (one image "
                                                 "per component)", i, d->images[i].component_id);
                        if (c > 0)
                                return DOC_ERROR(err, -EINVAL, "images[%zu]: not sorted by component-id (%s comes "
                                                 "after %s)", i, d->images[i].component_id,
                                                 d->images[i - 1].component_id);
                }
        }
        return 0;
}

static int parse_field(rp_deployment_doc *d, unsigned f, const cbor_item_t *v, rp_error *err) {
        place pl;
        const char *where = place_of(&pl, -1, field_names[f]);
        const char *s;
        size_t n;
        int r;

        switch (f) {
        case F_FORMAT:
                return get_uint(v, where, UINT64_MAX, -ERANGE, &d->format, err);
        case F_TENANT:
                return get_id(v, where, RP_DEPLOYMENT_ID_MAX, false, d->tenant, err);
        case F_DEVICE:
                return get_id(v, where, RP_DEPLOYMENT_DEVICE_ID_LEN, true, d->device, err);
        case F_DEVICE_GROUP:
                return get_id_or_null(v, where, &d->device_group, err);
        case F_DEPLOYMENT:
                return get_id_or_null(v, where, &d->deployment, err);
        case F_VERSION:
                return get_uint(v, where, UINT64_MAX, -ERANGE, &d->version, err);
        case F_ISSUED_AT:
                return get_uint(v, where, INT64_MAX, -ERANGE, &d->issued_at, err);
        case F_EXPIRES_AT:
                return get_uint(v, where, INT64_MAX, -ERANGE, &d->expires_at, err);
        case F_POLICY: {
                r = get_text(v, where, 32, &s, &n, err);
                if (r < 0)
                        return r;
                char name[33];
                memcpy(name, s, n);
                name[n] = '\0';
                if (rp_update_policy_from_name(name, &d->policy) < 0)
                        return DOC_ERROR(err, -EINVAL, "%s: unknown update policy '%s' (expected UpdateAll, "
                                         "No3rdPartyAppUpdates or NoUpdates)", where, name);
                return 0;
        }
        case F_MANAGES:
                return parse_manages(v, &d->manages, err);
        case F_IMAGES:
                return parse_images(v, d, err);
        }
        return -EINVAL;
}

/* What the fields say together. */
static int check_consistent(const rp_deployment_doc *d, rp_error *err) {
        if (d->expires_at <= d->issued_at)
                return DOC_ERROR(err, -EINVAL, "expires-at (%ju) is not after issued-at (%ju)",
                                 (uintmax_t) d->expires_at, (uintmax_t) d->issued_at);
        if (d->manages != rp_update_policy_manages(d->policy))
                return DOC_ERROR(err, -EINVAL, "field \"manages\": does not match the policy %s",
                                 rp_update_policy_name(d->policy));
        for (size_t i = 0; i < d->n_images; i++)
                if (!(d->manages & TYPE_BIT(d->images[i].type)))
                        return DOC_ERROR(err, -EINVAL, "images[%zu]: an %s image, which the policy %s does not "
                                         "manage", i, rp_image_type_name(d->images[i].type),
                                         rp_update_policy_name(d->policy));
        return 0;
}

int rp_deployment_doc_parse(const uint8_t *buf, size_t len, rp_deployment_doc **ret, rp_error *err) {
        if (len > DOC_MAX_SIZE)
                return DOC_ERROR(err, -EFBIG, "%zu bytes, the limit is %d", len, DOC_MAX_SIZE);
        size_t item_len;
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = NULL;
        int r = rp_cbor_decode(buf, len, DOC_MAX_DEPTH, DOC_MAX_ITEMS, &map, &item_len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "deployment document: ");
        if (item_len != len)
                return DOC_ERROR(err, -EBADMSG, "%zu bytes follow the document's map", len - item_len);
        if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
                return DOC_ERROR(err, -EINVAL, "must be a CBOR map, not %s", rp_cbor_kind(map));

        /* The format decides how to read the rest: a newer document says so
         * rather than "unknown field". */
        cbor_item_t *fmt = rp_cbor_map_get_text(map, "format");
        if (!fmt)
                return DOC_ERROR(err, -EINVAL, "field \"format\" is missing");
        if (cbor_isa_uint(fmt) && cbor_get_int(fmt) != RP_DEPLOYMENT_FORMAT)
                return DOC_ERROR(err, -EOPNOTSUPP, "format version %ju is not supported (this rampart reads format "
                                 "%d)", (uintmax_t) cbor_get_int(fmt), RP_DEPLOYMENT_FORMAT);

        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = calloc(1, sizeof *d);
        if (!d)
                return rp_error_set(err, -ENOMEM, "out of memory");

        unsigned seen = 0;
        struct cbor_pair *pairs = cbor_map_handle(map);
        for (size_t i = 0; i < cbor_map_size(map); i++) {
                unsigned f;
                r = key_index(pairs[i].key, field_names, F_COUNT, "", &f, err);
                if (r < 0)
                        return r;
                if (seen & (1u << f))
                        return DOC_ERROR(err, -EINVAL, "field \"%s\" appears twice", field_names[f]);
                seen |= 1u << f;
                r = parse_field(d, f, pairs[i].value, err);
                if (r < 0)
                        return r;
        }

        /* With no duplicate keys at any level, the one-byte-form rule. */
        int det = rp_cbor_is_deterministic(buf, len);
        if (det < 0)
                return rp_error_set(err, det, "deployment document: out of memory");
        if (det == 0)
                return DOC_ERROR(err, -EINVAL, "not in deterministic CBOR encoding (keys sorted, shortest forms)");

        for (unsigned f = 0; f < F_COUNT; f++)
                if (!(seen & (1u << f)))
                        return DOC_ERROR(err, -EINVAL, "field \"%s\" is missing", field_names[f]);
        r = check_consistent(d, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

/* --- writing --- */

/* Adds key -> value, value may be NULL (out of memory). */
static int put(cbor_item_t *map, const char *key, cbor_item_t *value) {
        if (!value)
                return -ENOMEM;
        cbor_item_t *k = rp_cbor_text(key);
        if (!k) {
                cbor_decref(&value);
                return -ENOMEM;
        }
        return rp_cbor_map_put(map, k, value);
}

static cbor_item_t *text_or_null(const char *s) {
        return s ? rp_cbor_text(s) : cbor_build_ctrl(CBOR_CTRL_NULL);
}

/* What the caller's strings must be before they become CBOR text: UTF-8
 * (rp_cbor_text's promise); the parser judges the rest. */
static bool texts_ok(const rp_deployment_doc *d) {
        const char *s[] = { d->tenant, d->device, d->device_group, d->deployment };
        for (size_t i = 0; i < ELEMENTSOF(s); i++)
                if (s[i] && !rp_utf8_is_valid(s[i], strlen(s[i])))
                        return false;
        for (size_t i = 0; i < d->n_images; i++) {
                const rp_deployment_image *im = &d->images[i];
                if (!im->name || !im->url || !rp_utf8_is_valid(im->name, strlen(im->name)) ||
                    !rp_utf8_is_valid(im->url, strlen(im->url)) ||
                    !rp_utf8_is_valid(im->component_id, strnlen(im->component_id, sizeof im->component_id)))
                        return false;
        }
        return true;
}

static cbor_item_t *image_item(const rp_deployment_image *im) {
        const char *type = rp_image_type_name(im->type);
        cbor_item_t *map = cbor_new_definite_map(I_COUNT);
        int r = map ? 0 : -ENOMEM;
        if (r == 0)
                r = put(map, "url", rp_cbor_text(im->url));
        if (r == 0)
                r = put(map, "name", rp_cbor_text(im->name));
        if (r == 0)
                r = put(map, "size", rp_cbor_uint(im->size));
        if (r == 0)
                r = put(map, "type", type ? rp_cbor_text(type) : rp_cbor_uint(im->type));
        if (r == 0)
                r = put(map, "digest", rp_cbor_bytes(im->digest, RP_SHA256_LEN));
        if (r == 0)
                r = put(map, "version", rp_cbor_uint(im->version));
        if (r == 0)
                r = put(map, "component-id", rp_cbor_text(im->component_id));
        if (r < 0)
                rp_cbor_decrefp(&map);
        return map;
}

static cbor_item_t *manages_item(unsigned manages) {
        unsigned n = 0;
        for (rp_image_type t = RP_IMAGE_TYPE_APP; t <= RP_IMAGE_TYPE_OS; t++)
                n += (manages & TYPE_BIT(t)) != 0;
        cbor_item_t *arr = cbor_new_definite_array(n);
        for (rp_image_type t = RP_IMAGE_TYPE_APP; arr && t <= RP_IMAGE_TYPE_OS; t++) {
                if (!(manages & TYPE_BIT(t)))
                        continue;
                cbor_item_t *e = rp_cbor_text(rp_image_type_name(t));
                bool ok = e && cbor_array_push(arr, e);
                rp_cbor_decrefp(&e);
                if (!ok)
                        rp_cbor_decrefp(&arr);
        }
        return arr;
}

static cbor_item_t *images_item(const rp_deployment_doc *d) {
        cbor_item_t *arr = cbor_new_definite_array(d->n_images);
        for (size_t i = 0; arr && i < d->n_images; i++) {
                cbor_item_t *e = image_item(&d->images[i]);
                bool ok = e && cbor_array_push(arr, e);
                rp_cbor_decrefp(&e);
                if (!ok)
                        rp_cbor_decrefp(&arr);
        }
        return arr;
}

/* The payload, deterministic; refused unless it reads back. */
static int encode(const rp_deployment_doc *d, uint8_t **ret_buf, size_t *ret_len, rp_error *err) {
        if (d->n_images > RP_DEPLOYMENT_MAX_IMAGES)
                return DOC_ERROR(err, -EFBIG, "field \"images\": %zu images, the limit is %d", d->n_images,
                                 RP_DEPLOYMENT_MAX_IMAGES);
        if (d->n_images && !d->images)
                return DOC_ERROR(err, -EINVAL, "field \"images\": %zu images but no array", d->n_images);
        if (!texts_ok(d))
                return DOC_ERROR(err, -EINVAL, "a text field is missing or is not UTF-8");
        const char *policy = rp_update_policy_name(d->policy);

        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = cbor_new_definite_map(F_COUNT);
        int r = map ? 0 : -ENOMEM;
        if (r == 0)
                r = put(map, "device", rp_cbor_text(d->device));
        if (r == 0)
                r = put(map, "format", rp_cbor_uint(d->format));
        if (r == 0)
                r = put(map, "images", images_item(d));
        if (r == 0)
                r = put(map, "policy", policy ? rp_cbor_text(policy) : rp_cbor_uint(d->policy));
        if (r == 0)
                r = put(map, "tenant", rp_cbor_text(d->tenant));
        if (r == 0)
                r = put(map, "manages", manages_item(d->manages));
        if (r == 0)
                r = put(map, "version", rp_cbor_uint(d->version));
        if (r == 0)
                r = put(map, "issued-at", rp_cbor_uint(d->issued_at));
        if (r == 0)
                r = put(map, "deployment", text_or_null(d->deployment));
        if (r == 0)
                r = put(map, "expires-at", rp_cbor_uint(d->expires_at));
        if (r == 0)
                r = put(map, "device-group", text_or_null(d->device_group));
        if (r < 0)
                return rp_error_set(err, r, "deployment document: out of memory");

        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        r = rp_cbor_encode(map, &buf, &len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "deployment document: ");
        /* One set of rules: what we write must read back. */
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *check = NULL;
        r = rp_deployment_doc_parse(buf, len, &check, err);
        if (r < 0)
                return r;
        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

int rp_deployment_doc_sign(const rp_deployment_doc *d, const rp_key *key, uint8_t **ret_buf, size_t *ret_len,
                           rp_error *err) {
        _cleanup_free_ uint8_t *payload = NULL;
        size_t payload_len = 0;
        int r = encode(d, &payload, &payload_len, err);
        if (r < 0)
                return r;
        r = rp_cose_sign1_create(key, RP_DEPLOYMENT_CONTENT_TYPE, payload, payload_len, NULL, 0, ret_buf, ret_len,
                                 err);
        if (r < 0)
                return rp_error_prefix(err, r, "signing the deployment document: ");
        return 0;
}

int rp_deployment_doc_verify(const uint8_t *buf, size_t len, const rp_key *pub, rp_deployment_doc **ret,
                             rp_error *err) {
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *msg = NULL;
        size_t used;
        int r = rp_cose_sign1_decode(buf, len, &msg, &used, err);
        if (r < 0)
                return rp_error_prefix(err, r, "deployment document: ");
        if (used != len)
                return DOC_ERROR(err, -EBADMSG, "%zu bytes follow the COSE_Sign1", len - used);
        const char *ct = rp_cose_sign1_content_type(msg);
        if (!ct)
                return DOC_ERROR(err, -EINVAL, "the COSE_Sign1 has no content type (expected %s)",
                                 RP_DEPLOYMENT_CONTENT_TYPE);
        if (!streq(ct, RP_DEPLOYMENT_CONTENT_TYPE)) {
                bool printable = strlen(ct) <= 100 && rp_str_is_printable(ct, strlen(ct));
                return DOC_ERROR(err, -EOPNOTSUPP, "content type is %s%s%s, expected %s", printable ? "'" : "",
                                 printable ? ct : "unprintable", printable ? "'" : "", RP_DEPLOYMENT_CONTENT_TYPE);
        }

        /* The signature before any byte of the payload is looked at. */
        uint8_t id[RP_KEY_ID_LEN];
        char given[2 * RP_KEY_ID_LEN + 1];
        rp_key_id(pub, id);
        rp_hex_encode_buf(id, sizeof id, given);
        rp_error e = {};
        r = rp_cose_sign1_verify(msg, pub, NULL, 0, &e);
        if (r == -EKEYREJECTED)
                return DOC_ERROR(err, r, "the signature does not verify with the deployment key (key id %s): the "
                                 "document was not signed by this tenant's service or was modified (%s)", given,
                                 rp_error_message(&e, r));
        if (r < 0)
                return rp_error_set(err, r, "deployment document: %s", rp_error_message(&e, r));

        size_t payload_len;
        const uint8_t *payload = rp_cose_sign1_payload(msg, &payload_len);
        return rp_deployment_doc_parse(payload, payload_len, ret, err);
}

/* --- what a device accepts --- */

static bool same_str(const char *a, const char *b) {
        return a == b || (a && b && streq(a, b));
}

static bool same_image(const rp_deployment_image *a, const rp_deployment_image *b) {
        return streq(a->component_id, b->component_id) && a->type == b->type && same_str(a->name, b->name) &&
               a->version == b->version && memcmp(a->digest, b->digest, RP_SHA256_LEN) == 0 && a->size == b->size &&
               same_str(a->url, b->url);
}

/* Two documents of one version say the same thing to the device. */
static bool same_content(const rp_deployment_doc *a, const rp_deployment_doc *b) {
        if (a->n_images != b->n_images || a->manages != b->manages || !same_str(a->deployment, b->deployment))
                return false;
        for (size_t i = 0; i < a->n_images; i++)
                if (!same_image(&a->images[i], &b->images[i]))
                        return false;
        return true;
}

int rp_deployment_doc_accept(const rp_deployment_doc *d, const char *device, uint64_t now,
                             const rp_deployment_doc *last, rp_error *err) {
        if (!device || !streq(d->device, device))
                return DOC_ERROR(err, -EXDEV, "a document for another device (it names device %s, this is %s)",
                                 d->device, device ? device : "(none)");
        if (d->expires_at <= now)
                return DOC_ERROR(err, -ETIME, "expired at %ju, the time is %ju (a stale document: the service "
                                 "or someone between replays an old one)", (uintmax_t) d->expires_at,
                                 (uintmax_t) now);
        if (d->issued_at > now && d->issued_at - now > DOC_CLOCK_SKEW)
                return DOC_ERROR(err, -ETIME, "issued at %ju, %ju seconds in the future (the device's clock is "
                                 "behind, or the service's ahead)", (uintmax_t) d->issued_at,
                                 (uintmax_t) (d->issued_at - now));
        if (last && d->version < last->version)
                return DOC_ERROR(err, -ESTALE, "version %ju is older than version %ju, accepted before "
                                 "(rollback)", (uintmax_t) d->version, (uintmax_t) last->version);
        if (last && d->version == last->version && !same_content(d, last))
                return DOC_ERROR(err, -ESTALE, "version %ju was accepted before with other images (a version "
                                 "says one thing only)", (uintmax_t) d->version);
        return 0;
}
