/* SPDX-License-Identifier: Apache-2.0 */
/* Image packages: reading and verifying. Writing is in pack.c. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/cbor.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "package/erofs.h"
#include "package/package_internal.h"
#include "rampart/app_manifest.h"
#include "rampart/cose.h"
#include "rampart/package.h"

/* Format 1's manifest is one map of at most ten scalars; the decoding
 * limits are wider so that a later format is reported as such. */
#define MANIFEST_MAX_DEPTH 16
#define MANIFEST_MAX_ITEMS 4096
/* Limits for the whole COSE item, before rp_cose_sign1_decode sees it. */
#define COSE_MAX_DEPTH 16
#define COSE_MAX_ITEMS 4096

const char *rp_image_type_name(rp_image_type type) {
        switch (type) {
        case RP_IMAGE_TYPE_APP:
                return "app";
        case RP_IMAGE_TYPE_RT_APP:
                return "rt-app";
        case RP_IMAGE_TYPE_OS:
                return "os";
        }
        return NULL;
}

void rp_package_manifest_free(rp_package_manifest *m) {
        if (!m)
                return;
        free(m->name);
        free(m->version_name);
        free(m->app_manifest);
        free(m);
}

/* The manifest's fields; the index is the bit in a "seen" mask. */
enum {
        F_FORMAT,
        F_COMPONENT_ID,
        F_TYPE,
        F_NAME,
        F_VERSION,
        F_VERSION_NAME,
        F_IMAGE_SIZE,
        F_IMAGE_SHA256,
        F_APP_MANIFEST,
        F_BUILD_TIME,
        F_COUNT,
};

static const char *const field_names[F_COUNT] = {
        [F_FORMAT] = "format",
        [F_COMPONENT_ID] = "component-id",
        [F_TYPE] = "type",
        [F_NAME] = "name",
        [F_VERSION] = "version",
        [F_VERSION_NAME] = "version-name",
        [F_IMAGE_SIZE] = "image-size",
        [F_IMAGE_SHA256] = "image-sha256",
        [F_APP_MANIFEST] = "app-manifest",
        [F_BUILD_TIME] = "build-time",
};

#define MANIFEST_ERROR(err, code, field, fmt, ...) \
        rp_error_set(err, code, "image manifest: field \"%s\": " fmt, field, ##__VA_ARGS__)

/* An unsigned integer no larger than max; over_code when it is larger. */
static int get_uint(const cbor_item_t *item, const char *field, uint64_t max, int over_code,
                    uint64_t *ret, rp_error *err) {
        if (cbor_isa_negint(item))
                return MANIFEST_ERROR(err, -ERANGE, field, "is negative, must be an unsigned integer");
        if (!cbor_isa_uint(item))
                return MANIFEST_ERROR(err, -EINVAL, field, "must be an unsigned integer");
        uint64_t v = cbor_get_int(item);
        if (v > max)
                return MANIFEST_ERROR(err, over_code, field, "%ju is larger than the limit of %ju",
                                      (uintmax_t) v, (uintmax_t) max);
        *ret = v;
        return 0;
}

/* A definite text string of 1..max bytes of UTF-8 without NUL; printable
 * when asked. *ret gets a NUL-terminated copy. */
static int get_text(const cbor_item_t *item, const char *field, size_t max, bool printable,
                    char **ret, size_t *ret_len, rp_error *err) {
        if (!cbor_isa_string(item) || !cbor_string_is_definite(item))
                return MANIFEST_ERROR(err, -EINVAL, field, "must be a text string");
        size_t n = cbor_string_length(item);
        const char *s = (const char *) cbor_string_handle(item);
        if (n == 0)
                return MANIFEST_ERROR(err, -EINVAL, field, "is empty");
        if (n > max)
                return MANIFEST_ERROR(err, -EFBIG, field, "is %zu bytes, the limit is %zu", n, max);
        if (!rp_utf8_is_valid(s, n))
                return MANIFEST_ERROR(err, -EINVAL, field, "is not valid UTF-8 (or holds a NUL byte)");
        if (printable && !rp_str_is_printable(s, n))
                return MANIFEST_ERROR(err, -EINVAL, field, "holds control characters");
        char *copy = strndup(s, n);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = copy;
        if (ret_len)
                *ret_len = n;
        return 0;
}

static int parse_field(rp_package_manifest *m, unsigned f, const cbor_item_t *v, rp_error *err) {
        const char *field = field_names[f];
        _cleanup_free_ char *s = NULL;
        int r;

        switch (f) {
        case F_FORMAT:
                return get_uint(v, field, UINT64_MAX, -ERANGE, &m->format, err);
        case F_COMPONENT_ID: {
                r = get_text(v, field, RP_PACKAGE_GUID_LEN, true, &s, NULL, err);
                if (r < 0)
                        return r;
                char norm[RP_GUID_STRLEN + 1];
                if (rp_guid_normalize(s, norm) < 0 || !streq(norm, s))
                        return MANIFEST_ERROR(err, -EINVAL, field, "'%s' is not a lowercase GUID "
                                              "(8-4-4-4-12 hex digits)", s);
                memcpy(m->component_id, norm, sizeof m->component_id);
                return 0;
        }
        case F_TYPE:
                r = get_text(v, field, 16, true, &s, NULL, err);
                if (r < 0)
                        return r;
                for (rp_image_type t = RP_IMAGE_TYPE_APP; t <= RP_IMAGE_TYPE_OS; t++)
                        if (streq(s, rp_image_type_name(t))) {
                                m->type = t;
                                return 0;
                        }
                return MANIFEST_ERROR(err, -EOPNOTSUPP, field, "unknown image type '%s' "
                                      "(expected app, rt-app or os)", s);
        case F_NAME:
                return get_text(v, field, RP_PACKAGE_NAME_MAX, true, &m->name, NULL, err);
        case F_VERSION:
                return get_uint(v, field, RP_PACKAGE_VERSION_MAX, -ERANGE, &m->version, err);
        case F_VERSION_NAME:
                return get_text(v, field, RP_PACKAGE_VERSION_NAME_MAX, true, &m->version_name, NULL, err);
        case F_IMAGE_SIZE:
                r = get_uint(v, field, RP_PACKAGE_IMAGE_MAX_SIZE, -EFBIG, &m->image_size, err);
                if (r < 0)
                        return r;
                if (m->image_size == 0)
                        return MANIFEST_ERROR(err, -EINVAL, field, "is 0; an image has at least one byte");
                return 0;
        case F_IMAGE_SHA256:
                if (!cbor_isa_bytestring(v) || !cbor_bytestring_is_definite(v))
                        return MANIFEST_ERROR(err, -EINVAL, field, "must be a byte string");
                if (cbor_bytestring_length(v) != RP_SHA256_LEN)
                        return MANIFEST_ERROR(err, -EINVAL, field, "is %zu bytes, a SHA-256 digest is %d",
                                              cbor_bytestring_length(v), RP_SHA256_LEN);
                memcpy(m->image_sha256, cbor_bytestring_handle(v), RP_SHA256_LEN);
                return 0;
        case F_APP_MANIFEST:
                return get_text(v, field, RP_APP_MANIFEST_MAX_SIZE, false, &m->app_manifest,
                                &m->app_manifest_len, err);
        case F_BUILD_TIME:
                return get_uint(v, field, RP_PACKAGE_BUILD_TIME_MAX, -ERANGE, &m->build_time, err);
        }
        return -EINVAL;
}

/* The embedded app manifest must be valid and describe this package. */
static int check_app_manifest(const rp_package_manifest *m, rp_error *err) {
        _cleanup_(rp_app_manifest_freep) rp_app_manifest *am = NULL;
        int r = rp_app_manifest_parse(m->app_manifest, m->app_manifest_len, "app-manifest", &am, err);
        if (r < 0)
                return rp_error_prefix(err, r, "image manifest: field \"app-manifest\": ");
        const char *cid = rp_app_manifest_component_id(am), *name = rp_app_manifest_name(am);
        if (!cid || !streq(cid, m->component_id))
                return rp_error_set(err, -EINVAL, "image manifest: component-id %s differs from the app "
                                    "manifest's ComponentId %s", m->component_id, cid ? cid : "(none)");
        if (!name || !streq(name, m->name))
                return rp_error_set(err, -EINVAL, "image manifest: name differs from the app manifest's Name");
        rp_image_type want = rp_app_manifest_type(am) == RP_APP_TYPE_REALTIME_CAPABLE ?
                             RP_IMAGE_TYPE_RT_APP : RP_IMAGE_TYPE_APP;
        if (m->type != want)
                return rp_error_set(err, -EINVAL, "image manifest: type %s does not match the app manifest's "
                                    "ApplicationType (expected %s)", rp_image_type_name(m->type),
                                    rp_image_type_name(want));
        return 0;
}

int rp_package_manifest_parse(const uint8_t *buf, size_t len, rp_package_manifest **ret, rp_error *err) {
        size_t item_len;
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = NULL;
        int r = rp_cbor_decode(buf, len, MANIFEST_MAX_DEPTH, MANIFEST_MAX_ITEMS, &map, &item_len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "image manifest: ");
        if (item_len != len)
                return rp_error_set(err, -EBADMSG, "image manifest: %zu bytes follow the manifest map", len - item_len);
        if (!cbor_isa_map(map) || !cbor_map_is_definite(map))
                return rp_error_set(err, -EINVAL, "image manifest: must be a CBOR map");

        /* The format decides how to read the rest: check it first, so a
         * newer package says so rather than "unknown field". */
        cbor_item_t *fmt = rp_cbor_map_get_text(map, "format");
        if (!fmt)
                return rp_error_set(err, -EINVAL, "image manifest: field \"format\" is missing");
        if (cbor_isa_uint(fmt) && cbor_get_int(fmt) != RP_PACKAGE_FORMAT)
                return rp_error_set(err, -EOPNOTSUPP, "image manifest: format version %ju is not supported "
                                    "(this rampart reads format %d)", (uintmax_t) cbor_get_int(fmt),
                                    RP_PACKAGE_FORMAT);

        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = calloc(1, sizeof *m);
        if (!m)
                return rp_error_set(err, -ENOMEM, "out of memory");

        /* Every key known and once, every value a scalar of its type. */
        unsigned seen = 0;
        struct cbor_pair *pairs = cbor_map_handle(map);
        for (size_t i = 0; i < cbor_map_size(map); i++) {
                const cbor_item_t *k = pairs[i].key;
                if (!cbor_isa_string(k) || !cbor_string_is_definite(k))
                        return rp_error_set(err, -EINVAL, "image manifest: every key must be a text string");
                size_t kl = cbor_string_length(k);
                const char *ks = (const char *) cbor_string_handle(k);
                unsigned f = F_COUNT;
                for (unsigned j = 0; j < F_COUNT; j++)
                        if (strlen(field_names[j]) == kl && memcmp(field_names[j], ks, kl) == 0)
                                f = j;
                if (f == F_COUNT) {
                        _cleanup_free_ char *shown = strndup(ks, kl > 64 ? 64 : kl);
                        return rp_error_set(err, -EINVAL, "image manifest: unknown field \"%s\" "
                                            "(format %d has no such field)", shown ? shown : "?", RP_PACKAGE_FORMAT);
                }
                if (seen & (1u << f))
                        return rp_error_set(err, -EINVAL, "image manifest: field \"%s\" appears twice",
                                            field_names[f]);
                seen |= 1u << f;
                r = parse_field(m, f, pairs[i].value, err);
                if (r < 0)
                        return r;
        }

        /* Only now, with distinct keys and no nested items (so the re-encoding
         * inside never meets duplicate keys), the one-byte-form rule. */
        int det = rp_cbor_is_deterministic(buf, len);
        if (det < 0)
                return rp_error_set(err, det, "image manifest: out of memory");
        if (det == 0)
                return rp_error_set(err, -EINVAL, "image manifest: not in deterministic CBOR encoding "
                                    "(keys sorted, shortest forms)");

        for (unsigned f = 0; f < F_COUNT; f++)
                if (!(seen & (1u << f)) && f != F_VERSION_NAME && f != F_APP_MANIFEST)
                        return rp_error_set(err, -EINVAL, "image manifest: field \"%s\" is missing", field_names[f]);

        if (m->type == RP_IMAGE_TYPE_OS) {
                if (m->app_manifest)
                        return rp_error_set(err, -EINVAL, "image manifest: an os image has no \"app-manifest\"");
        } else {
                if (!m->app_manifest)
                        return rp_error_set(err, -EINVAL, "image manifest: field \"app-manifest\" is missing "
                                            "(required for %s images)", rp_image_type_name(m->type));
                r = check_app_manifest(m, err);
                if (r < 0)
                        return r;
        }

        *ret = TAKE_PTR(m);
        return 0;
}

void rp_package_free(rp_package *p) {
        if (!p)
                return;
        rp_package_manifest_free(p->manifest);
        rp_cose_sign1_free(p->cose);
        if (p->fd >= 0)
                close(p->fd);
        free(p);
}

static int verify_cose(const rp_cose_sign1 *c, const rp_key *pub, rp_error *err);

int rp_package_decode_envelope(rp_package *p, const uint8_t *window, size_t window_len, rp_error *err) {
        if (p->size == 0)
                return rp_error_set(err, -EBADMSG, "empty file, not an image package");

        size_t item_len;
        int r = rp_cbor_check(window, window_len, COSE_MAX_DEPTH, COSE_MAX_ITEMS, &item_len, err);
        if (r == -EBADMSG && window_len < p->size)
                return rp_error_set(err, -EFBIG, "not an image package: the signed manifest is larger than "
                                    "the limit of %d bytes", RP_COSE_MAX_SIZE);
        if (r == -EBADMSG)
                return rp_error_prefix(err, r, "truncated image package: ");
        if (r < 0)
                return rp_error_prefix(err, r, "not an image package: ");

        size_t consumed;
        r = rp_cose_sign1_decode(window, window_len, &p->cose, &consumed, err);
        if (r < 0)
                return rp_error_prefix(err, r, "not an image package: ");
        /* consumed == item_len: both are the length rp_cbor_check() found
         * for the same item. */

        /* The decoder has checked the one byte form: deterministic CBOR
         * and nothing unsigned riding along (an empty unprotected header). */
        const char *ct = rp_cose_sign1_content_type(p->cose);
        if (!ct)
                return rp_error_set(err, -EINVAL, "not an image package: the COSE_Sign1 has no content type");
        if (!streq(ct, RP_PACKAGE_CONTENT_TYPE)) {
                bool printable = rp_str_is_printable(ct, strlen(ct)) && strlen(ct) <= 100;
                return rp_error_set(err, -EOPNOTSUPP, "not an image package: content type is %s%s%s, expected %s",
                                    printable ? "'" : "", printable ? ct : "unprintable",
                                    printable ? "'" : "", RP_PACKAGE_CONTENT_TYPE);
        }
        p->image_offset = consumed;
        return 0;
}

int rp_package_parse_manifest(rp_package *p, rp_error *err) {
        size_t payload_len;
        const uint8_t *payload = rp_cose_sign1_payload(p->cose, &payload_len);
        return rp_package_manifest_parse(payload, payload_len, &p->manifest, err);
}

/* Parses the COSE envelope in window (the first window_len of the file's
 * p->size bytes); with pub, checks the signature before the signed manifest
 * is parsed, so bytes nobody vouched for never reach the manifest and
 * app-manifest parsers, and marks the package's signature verified. */
static int parse_envelope(rp_package *p, const uint8_t *window, size_t window_len, const rp_key *pub,
                          rp_error *err) {
        int r = rp_package_decode_envelope(p, window, window_len, err);
        if (r < 0)
                return r;
        if (pub) {
                r = rp_package_check_signature(p, &pub, 1, NULL, err);
                if (r < 0)
                        return r;
        }
        return rp_package_parse_manifest(p, err);
}

int rp_package_open_buffer(const void *buf, size_t len, rp_package **ret, rp_error *err) {
        _cleanup_(rp_package_freep) rp_package *p = calloc(1, sizeof *p);
        if (!p)
                return rp_error_set(err, -ENOMEM, "out of memory");
        p->fd = -1;
        p->buf = buf;
        p->size = len;
        int r = parse_envelope(p, buf, len < RP_COSE_MAX_SIZE ? len : RP_COSE_MAX_SIZE, NULL, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(p);
        return 0;
}

static int open_file(const char *path, const rp_key *pub, rp_package **ret, rp_error *err) {
        _cleanup_(rp_package_freep) rp_package *p = calloc(1, sizeof *p);
        if (!p)
                return rp_error_set(err, -ENOMEM, "out of memory");
        struct stat st;
        p->fd = rp_open_regular(AT_FDCWD, path, 0, &st, err);
        if (p->fd < 0)
                return p->fd;
        p->size = (uint64_t) st.st_size;

        size_t want = p->size < RP_COSE_MAX_SIZE ? (size_t) p->size : RP_COSE_MAX_SIZE;
        _cleanup_free_ uint8_t *window = malloc(want ? want : 1);
        if (!window)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = rp_pread_all(p->fd, window, want, 0);
        if (r == -EBADMSG)
                return rp_error_set(err, r, "%s: the file shrank while being read", path);
        if (r < 0)
                return rp_error_set_errno(err, r, "%s: read failed", path);
        r = parse_envelope(p, window, want, pub, err);
        if (r < 0)
                return rp_error_prefix(err, r, "%s: ", path);
        *ret = TAKE_PTR(p);
        return 0;
}

int rp_package_open_unverified(const char *path, rp_package **ret, rp_error *err) {
        return open_file(path, NULL, ret, err);
}

int rp_package_open_signed(const char *path, const rp_key *pub, rp_package **ret, rp_error *err) {
        return open_file(path, pub, ret, err);
}

static int verify_image(rp_package *p, rp_error *err);

int rp_package_open_verified(const char *path, const rp_key *pub, rp_package **ret, rp_error *err) {
        _cleanup_(rp_package_freep) rp_package *p = NULL;
        int r = open_file(path, pub, &p, err);
        if (r < 0)
                return r;
        r = verify_image(p, err);
        if (r < 0)
                return rp_error_prefix(err, r, "%s: ", path);
        *ret = TAKE_PTR(p);
        return 0;
}

/* The gates: what trusts the manifest needs the signature, what trusts the
 * image needs the image checked too. */
static int require_signature(const rp_package *p, const char *what, rp_error *err) {
        if (!p->signature_verified)
                return rp_error_set(err, -EPERM, "%s: the package's signature has not been verified "
                                    "(open it with rp_package_open_verified)", what);
        return 0;
}

static int require_verified(const rp_package *p, const char *what, rp_error *err) {
        int r = require_signature(p, what, err);
        if (r < 0)
                return r;
        if (!p->image_verified)
                return rp_error_set(err, -EPERM, "%s: the package's image has not been verified "
                                    "(open it with rp_package_open_verified)", what);
        return 0;
}

int rp_package_get_manifest(const rp_package *p, const rp_package_manifest **ret, rp_error *err) {
        int r = require_signature(p, "the image manifest", err);
        if (r < 0)
                return r;
        *ret = p->manifest;
        return 0;
}

const rp_package_manifest *rp_package_unverified_manifest(const rp_package *p) {
        return p->manifest;
}

int rp_package_alg(const rp_package *p) {
        return rp_cose_sign1_alg(p->cose);
}

const uint8_t *rp_package_kid(const rp_package *p, size_t *ret_len) {
        return rp_cose_sign1_kid(p->cose, ret_len);
}

int rp_package_image_offset(const rp_package *p, uint64_t *ret, rp_error *err) {
        int r = require_verified(p, "the image", err);
        if (r < 0)
                return r;
        *ret = p->image_offset;
        return 0;
}

uint64_t rp_package_image_bytes(const rp_package *p) {
        return p->size - p->image_offset;
}

static int verify_cose(const rp_cose_sign1 *c, const rp_key *pub, rp_error *err) {
        uint8_t id[RP_KEY_ID_LEN];
        char given[2 * RP_KEY_ID_LEN + 1], signer[2 * RP_KEY_ID_LEN + 1] = "unknown";
        rp_key_id(pub, id);
        rp_hex_encode_buf(id, sizeof id, given);
        size_t kid_len;
        const uint8_t *kid = rp_cose_sign1_kid(c, &kid_len);
        bool kid_known = kid && kid_len == RP_KEY_ID_LEN;
        if (kid_known)
                rp_hex_encode_buf(kid, kid_len, signer);

        if (rp_key_cose_alg(pub) != rp_cose_sign1_alg(c))
                return rp_error_set(err, -EKEYREJECTED, "signature not verified: the package is signed with "
                                    "%s (key id %s), the given key is %s (key id %s)",
                                    rp_cose_alg_name(rp_cose_sign1_alg(c)), signer,
                                    rp_key_type_name(rp_key_get_type(pub)), given);

        rp_error e = {0};
        int r = rp_cose_sign1_verify(c, pub, NULL, 0, &e);
        if (r == 0)
                return 0;
        if (r != -EKEYREJECTED)
                return rp_error_set(err, r, "signature not verified: %s", rp_error_message(&e, r));
        if (kid_known && memcmp(kid, id, RP_KEY_ID_LEN) != 0)
                return rp_error_set(err, -EKEYREJECTED, "signature not verified: the package claims signer "
                                    "key id %s (a claim only a valid signature would prove), not the given key "
                                    "(key id %s)", signer, given);
        return rp_error_set(err, -EKEYREJECTED, "signature does not verify with key id %s: the signed manifest "
                            "or the signature was modified (%s)", given, rp_error_message(&e, r));
}

int rp_package_check_signature(rp_package *p, const rp_key *const *keys, size_t n_keys, size_t *ret_index,
                               rp_error *err) {
        int r;
        if (n_keys == 1) {
                /* One key: its own failure is the message. */
                r = verify_cose(p->cose, keys[0], err);
                if (r < 0)
                        return r;
                p->signature_verified = true;
                if (ret_index)
                        *ret_index = 0;
                return 0;
        }

        /* The key the package names (a hint: only a valid signature proves
         * it), then the others. */
        size_t kid_len, named = n_keys;
        const uint8_t *kid = rp_cose_sign1_kid(p->cose, &kid_len);
        char signer[2 * RP_KEY_ID_LEN + 1] = "unknown";
        if (kid && kid_len == RP_KEY_ID_LEN) {
                rp_hex_encode_buf(kid, kid_len, signer);
                for (size_t i = 0; i < n_keys && named == n_keys; i++) {
                        uint8_t id[RP_KEY_ID_LEN];
                        rp_key_id(keys[i], id);
                        if (memcmp(id, kid, RP_KEY_ID_LEN) == 0)
                                named = i;
                }
        }
        rp_error named_err = {0};
        int named_r = 0;
        for (size_t k = 0; k < n_keys; k++) {
                /* k = 0 is the named key if there is one; the rest in order. */
                size_t i = named == n_keys ? k : k == 0 ? named : k <= named ? k - 1 : k;
                if (i != named && rp_key_cose_alg(keys[i]) != rp_cose_sign1_alg(p->cose))
                        continue;
                rp_error e = {0};
                r = verify_cose(p->cose, keys[i], &e);
                if (r == 0) {
                        p->signature_verified = true;
                        if (ret_index)
                                *ret_index = i;
                        return 0;
                }
                if (r != -EKEYREJECTED)
                        return rp_error_set(err, r, "%s", rp_error_message(&e, r));
                if (i == named) {
                        named_r = r;
                        named_err = e;
                }
        }
        if (named_r < 0)
                return rp_error_set(err, named_r, "%s", rp_error_message(&named_err, named_r));
        return rp_error_set(err, -EKEYREJECTED, "signature not verified: the package claims signer key id %s, "
                            "and none of the %zu keys given verifies it", signer, n_keys);
}

int rp_package_check_digest(const uint8_t want[RP_SHA256_LEN], const uint8_t got[RP_SHA256_LEN],
                            const char *why, rp_error *err) {
        if (rp_memeq_consttime(want, got, RP_SHA256_LEN))
                return 0;
        char w[2 * RP_SHA256_LEN + 1], g[2 * RP_SHA256_LEN + 1];
        rp_hex_encode_buf(want, RP_SHA256_LEN, w);
        rp_hex_encode_buf(got, RP_SHA256_LEN, g);
        return rp_error_set(err, -EKEYREJECTED, "image digest mismatch: %s (manifest says sha256 %s, "
                            "the image hashes to %s)", why, w, g);
}

int rp_package_check_image_size(const rp_package *p, rp_error *err) {
        const rp_package_manifest *m = p->manifest;
        uint64_t have = p->size - p->image_offset;
        if (have < m->image_size)
                return rp_error_set(err, -EBADMSG, "truncated package: the manifest declares %ju image bytes, "
                                    "only %ju follow it", (uintmax_t) m->image_size, (uintmax_t) have);
        if (have > m->image_size)
                return rp_error_set(err, -EBADMSG, "padded package: %ju unexpected bytes follow the %ju image bytes",
                                    (uintmax_t) (have - m->image_size), (uintmax_t) m->image_size);
        return 0;
}

int rp_package_check_image(rp_package *p, const uint8_t digest[RP_SHA256_LEN], const uint8_t *head, size_t head_len,
                           rp_error *err) {
        const rp_package_manifest *m = p->manifest;
        int r = rp_package_check_digest(m->image_sha256, digest, "the image bytes were modified", err);
        if (r < 0)
                return r;
        if (m->type != RP_IMAGE_TYPE_OS && !rp_erofs_has_magic(head, head_len))
                return rp_error_set(err, -EINVAL, "the %s image is not an erofs filesystem (no superblock magic)",
                                    rp_image_type_name(m->type));
        p->image_verified = true;
        return 0;
}

/* What stream_image does with each chunk: keeps the first bytes for the
 * erofs check and passes the chunk on to the caller's sink. */
typedef struct image_walk {
        uint8_t head[RP_PACKAGE_IMAGE_HEAD];
        size_t head_len;
        rp_chunk_sink sink;
        void *userdata;
        bool sink_failed;
} image_walk;

static int walk_chunk(void *userdata, const uint8_t *buf, size_t len, rp_error *err) {
        image_walk *w = userdata;
        if (w->head_len < sizeof w->head) {
                size_t k = sizeof w->head - w->head_len < len ? sizeof w->head - w->head_len : len;
                memcpy(w->head + w->head_len, buf, k);
                w->head_len += k;
        }
        int r = w->sink ? w->sink(w->userdata, buf, len, err) : 0;
        w->sink_failed = r < 0;
        return r;
}

/* Checks the image bytes against the signed manifest (size, digest, erofs
 * magic), passing each chunk to sink (if any) as it goes. */
static int stream_image(rp_package *p, rp_chunk_sink sink, void *userdata, rp_error *err) {
        const rp_package_manifest *m = p->manifest;
        int r = rp_package_check_image_size(p, err);
        if (r < 0)
                return r;

        image_walk w = { .sink = sink, .userdata = userdata };
        uint8_t digest[RP_SHA256_LEN];
        if (p->buf) {
                const uint8_t *img = p->buf + p->image_offset;
                r = rp_sha256(img, (size_t) m->image_size, digest);
                if (r < 0)
                        return rp_error_set(err, r, "SHA-256 failed");
                r = walk_chunk(&w, img, (size_t) m->image_size, err);
        } else {
                r = rp_sha256_fd(p->fd, p->image_offset, m->image_size, walk_chunk, &w, digest, err);
                if (r < 0 && !w.sink_failed)
                        rp_error_prefix(err, r, "reading the image: ");
        }
        if (r < 0)
                return r;
        return rp_package_check_image(p, digest, w.head, w.head_len, err);
}

static int verify_image(rp_package *p, rp_error *err) {
        int r = require_signature(p, "the image", err);
        if (r < 0)
                return r;
        return stream_image(p, NULL, NULL, err);
}

int rp_package_verify(rp_package *p, const rp_key *pub, rp_error *err) {
        int r = rp_package_check_signature(p, &pub, 1, NULL, err);
        if (r < 0)
                return r;
        return verify_image(p, err);
}

static int write_sink(void *userdata, const uint8_t *buf, size_t len, rp_error *err) {
        return rp_atomic_file_write(userdata, buf, len, err);
}

int rp_package_extract_image(rp_package *p, const char *path, rp_error *err) {
        int r = require_signature(p, "extracting the image", err);
        if (r < 0)
                return r;
        rp_atomic_file af = RP_ATOMIC_FILE_INIT;
        r = rp_atomic_file_open(&af, path, 0644, err);
        if (r < 0)
                return r;
        r = stream_image(p, write_sink, &af, err);
        if (r < 0) {
                rp_atomic_file_abort(&af);
                return r;
        }
        return rp_atomic_file_commit(&af, err);
}
