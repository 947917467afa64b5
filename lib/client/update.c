/* SPDX-License-Identifier: Apache-2.0 */
/* The device's side of updates (update.h): check, download, report. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "client/update.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/cose.h"
#include "rampart/package.h"

#define DOC_FILE "deployment.cbor"

static int path_in(const char *dir, const char *name, char **ret, rp_error *err) {
        if (asprintf(ret, "%s/%s", dir, name) < 0) {
                *ret = NULL;
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        return 0;
}

/* What a verified document must name besides its signature: this device
 * (rp_deployment_doc_accept checks it too) and this device's tenant. */
static int check_tenant(rp_device_session *s, const rp_deployment_doc *d, rp_error *err) {
        if (!streq(d->tenant, rp_device_session_tenant(s)))
                return rp_error_set(err, -EXDEV, "the deployment document is for tenant %s; this device is "
                                    "tenant %s's (mix and match)", d->tenant, rp_device_session_tenant(s));
        return 0;
}

/* Verifies buf with the pinned key and checks it names this device and
 * tenant. */
static int verify(rp_device_session *s, const rp_key *key, const uint8_t *buf, size_t len, rp_deployment_doc **ret,
                  rp_error *err) {
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *d = NULL;
        int r = rp_deployment_doc_verify(buf, len, key, &d, err);
        if (r < 0)
                return r;
        if (!streq(d->device, rp_device_session_device_id(s)))
                return rp_error_set(err, -EXDEV, "the deployment document is for device %s; this is %s (mix and "
                                    "match)", d->device, rp_device_session_device_id(s));
        r = check_tenant(s, d, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(d);
        return 0;
}

/* The stored document, verified with key: *ret NULL (and 0) when there is
 * none. */
static int load_accepted(rp_device_session *s, const rp_key *key, rp_deployment_doc **ret, uint8_t **ret_raw,
                         size_t *ret_len, rp_error *err) {
        _cleanup_free_ char *path = NULL;
        int r = path_in(rp_device_session_dir(s), DOC_FILE, &path, err);
        if (r < 0)
                return r;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len = 0;
        r = rp_read_file(path, RP_COSE_MAX_SIZE, &buf, &len, err);
        if (r == -ENOENT) {
                rp_error_clear(err);
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return r;
        r = verify(s, key, buf, len, ret, err);
        if (r < 0)
                return rp_error_prefix(err, r, "%s (the document the device accepted last; if the deployment key "
                                       "was replaced on purpose, remove it): ", path);
        if (ret_raw)
                *ret_raw = TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        return 0;
}

int rp_update_accepted(rp_device_session *s, rp_deployment_doc **ret, uint8_t **ret_raw, size_t *ret_len,
                       rp_error *err) {
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_device_session_deployment_key(s, &key, err);
        if (r < 0)
                return r;
        rp_deployment_doc *d = NULL;
        r = load_accepted(s, key, &d, ret_raw, ret_len, err);
        if (r < 0)
                return r;
        if (!d)
                return rp_error_set(err, -ENOENT, "the device has accepted no deployment document yet (%s/%s): check "
                                    "for an update first", rp_device_session_dir(s), DOC_FILE);
        *ret = d;
        return 0;
}

int rp_update_check_fresh(rp_device_session *s, const rp_deployment_doc *d, uint64_t now, rp_error *err) {
        return rp_deployment_doc_accept(d, rp_device_session_device_id(s), now, NULL, err);
}

int rp_update_check(rp_device_session *s, uint64_t now, rp_deployment_doc **ret, uint8_t **ret_raw,
                    size_t *ret_len, bool *ret_changed, rp_error *err) {
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        int r = rp_device_session_deployment_key(s, &key, err);
        if (r < 0)
                return r;
        _cleanup_(rp_deployment_doc_freep) rp_deployment_doc *last = NULL, *d = NULL;
        r = load_accepted(s, key, &last, NULL, NULL, err);
        if (r < 0)
                return r;

        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        r = rp_device_session_request(s, "GET", "/v1/device/deployment", NULL, NULL, 0, "application/cose", &buf,
                                      &len, NULL, err);
        if (r < 0)
                return rp_error_prefix(err, r, "the deployment document: ");
        if (len > RP_COSE_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "the deployment document: %zu bytes, more than %d", len,
                                    RP_COSE_MAX_SIZE);
        r = verify(s, key, (const uint8_t *) buf, len, &d, err);
        if (r == 0)
                r = rp_deployment_doc_accept(d, rp_device_session_device_id(s), now, last, err);
        if (r < 0)
                return rp_error_prefix(err, r, "the deployment document from %s refused: ",
                                       rp_http_server(rp_device_session_http(s)));

        _cleanup_free_ char *path = NULL;
        r = path_in(rp_device_session_dir(s), DOC_FILE, &path, err);
        if (r >= 0)
                r = rp_write_file_atomic(path, buf, len, 0600, err);
        if (r < 0)
                return r;
        if (ret_changed)
                *ret_changed = !last || d->version > last->version;
        if (ret_raw)
                *ret_raw = (uint8_t *) TAKE_PTR(buf);
        if (ret_len)
                *ret_len = len;
        *ret = TAKE_PTR(d);
        return 0;
}

/* --- downloads --- */

/* STATE_DIR/service/downloads, made 0700 if missing. */
static int downloads_dir(rp_device_session *s, char **ret, rp_error *err) {
        _cleanup_free_ char *dir = NULL;
        int r = path_in(rp_device_session_dir(s), "downloads", &dir, err);
        if (r < 0)
                return r;
        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return rp_error_set_errno(err, -errno, "cannot make %s", dir);
        struct stat st;
        if (lstat(dir, &st) < 0)
                return rp_error_set_errno(err, -errno, "%s", dir);
        if (!S_ISDIR(st.st_mode))
                return rp_error_set(err, -ENOTDIR, "%s: not a directory", dir);
        *ret = TAKE_PTR(dir);
        return 0;
}

static int copy_sink(void *userdata, const uint8_t *buf, size_t len, rp_error *err) {
        return rp_atomic_file_write(userdata, buf, len, err);
}

/* Copies the part file to output while hashing it; the output appears only
 * if the bytes are the document's (size, SHA-256) and an image package for
 * its component, type and version. */
static int verify_and_copy(const char *part, const rp_deployment_image *img, const char *output, rp_error *err) {
        char hex[2 * RP_SHA256_LEN + 1];
        rp_hex_encode_buf(img->digest, RP_SHA256_LEN, hex);
        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, part, O_NOFOLLOW, &st, err);
        if (fd < 0)
                return fd;
        if ((uint64_t) st.st_size != img->size)
                return rp_error_set(err, -EKEYREJECTED, "the download is %jd bytes; the document says %" PRIu64,
                                    (intmax_t) st.st_size, img->size);
        rp_atomic_file af;
        int r = rp_atomic_file_open(&af, output, 0644, err);
        if (r < 0)
                return r;
        uint8_t digest[RP_SHA256_LEN];
        r = rp_sha256_fd(fd, 0, img->size, copy_sink, &af, digest, err);
        if (r >= 0 && !rp_memeq_consttime(digest, img->digest, RP_SHA256_LEN)) {
                char got[2 * RP_SHA256_LEN + 1];
                rp_hex_encode_buf(digest, sizeof digest, got);
                r = rp_error_set(err, -EKEYREJECTED, "the downloaded bytes' SHA-256 is %s; the document says %s "
                                 "(arbitrary software: they were changed, or are another package)", got, hex);
        }
        if (r >= 0) {
                /* The digest binds the package; that it is one for this
                 * component is a check of the document's consistency. */
                _cleanup_(rp_package_freep) rp_package *p = NULL;
                r = rp_package_open_unverified(af.tmp_path, &p, err);
                const rp_package_manifest *m = r >= 0 ? rp_package_unverified_manifest(p) : NULL;
                if (!m)
                        r = rp_error_prefix(err, r == -ENOMEM ? r : -EBADMSG, "the download is no image package: ");
                else if (!streq(m->component_id, img->component_id) || m->type != img->type ||
                         m->version != img->version)
                        r = rp_error_set(err, -EBADMSG, "the package is component %s, %s, version %" PRIu64 "; the "
                                         "document says component %s, %s, version %" PRIu64, m->component_id,
                                         rp_image_type_name(m->type), m->version, img->component_id,
                                         rp_image_type_name(img->type), img->version);
        }
        if (r < 0) {
                rp_atomic_file_abort(&af);
                return r;
        }
        return rp_atomic_file_commit(&af, err);
}

int rp_update_download(rp_device_session *s, const rp_deployment_doc *d, const char *component_id,
                       const char *output, const rp_update_download_options *o, rp_update_download_result *ret,
                       rp_error *err) {
        const rp_deployment_image *img = rp_deployment_doc_find(d, component_id);
        if (!img)
                return rp_error_set(err, -ENOENT, "component %s is not in the deployment document (version %" PRIu64
                                    ", %zu image%s)", component_id, d->version, d->n_images,
                                    d->n_images == 1 ? "" : "s");
        char hex[2 * RP_SHA256_LEN + 1], etag[2 * RP_SHA256_LEN + 3], name[2 * RP_SHA256_LEN + 6];
        rp_hex_encode_buf(img->digest, RP_SHA256_LEN, hex);
        snprintf(etag, sizeof etag, "\"%s\"", hex);
        snprintf(name, sizeof name, "%s.part", hex);
        _cleanup_free_ char *dir = NULL, *part = NULL;
        int r = downloads_dir(s, &dir, err);
        if (r >= 0)
                r = path_in(dir, name, &part, err);
        if (r < 0)
                return r;

        rp_http_download dl = { .path = img->url, .file = part, .size = img->size, .etag = etag };
        if (o) {
                dl.low_speed_limit = o->low_speed_limit;
                dl.low_speed_time = o->low_speed_time;
                dl.progress = o->progress;
                dl.userdata = o->userdata;
        }
        uint64_t resumed = 0;
        rp_http_status st = {};
        r = rp_http_download_file(rp_device_session_http(s), &dl, &resumed, &st, err);
        if (r < 0 && st.status == 401) {
                rp_error_clear(err);
                r = rp_device_session_renew(s, err);
                if (r >= 0)
                        r = rp_http_download_file(rp_device_session_http(s), &dl, &resumed, &st, err);
        }
        if (r >= 0) {
                r = verify_and_copy(part, img, output, err);
                if (r == -EKEYREJECTED || r == -EBADMSG)
                        (void) unlink(part);
                if (r < 0)
                        return rp_error_prefix(err, r, "component %s (%s): ", component_id, hex);
                (void) unlink(part);
        } else {
                /* A server that sent more, or other bytes than asked for:
                 * nothing of it is kept. A cut or a stall keeps what came. */
                if (r == -EFBIG || r == -EBADMSG)
                        (void) unlink(part);
                return r;
        }
        if (ret)
                *ret = (rp_update_download_result) { .image = img, .resumed_from = resumed };
        return 0;
}

/* --- the state report --- */

static int component_json(const rp_update_component_state *c, json_t **ret, rp_error *err) {
        if (!c->component_id || !rp_guid_is_valid(c->component_id))
                return rp_error_set(err, -EINVAL, "component id '%s': not a GUID",
                                    c->component_id ? c->component_id : "");
        uint8_t digest[RP_SHA256_LEN];
        if (c->digest &&
            (strlen(c->digest) != 2 * RP_SHA256_LEN || rp_hex_decode(c->digest, digest, sizeof digest) < 0))
                return rp_error_set(err, -EINVAL, "component %s: digest '%s': expected 64 hex digits",
                                    c->component_id, c->digest);
        if (c->detail &&
            (strlen(c->detail) > RP_UPDATE_DETAIL_MAX || !rp_str_is_printable(c->detail, strlen(c->detail))))
                return rp_error_set(err, -EINVAL, "component %s: the detail must be printable text of at most %d "
                                    "bytes", c->component_id, RP_UPDATE_DETAIL_MAX);
        if (c->has_version && c->version > (uint64_t) INT64_MAX)
                return rp_error_set(err, -ERANGE, "component %s: version %" PRIu64 " is too large",
                                    c->component_id, c->version);
        char id[RP_GUID_STRLEN + 1], hex[2 * RP_SHA256_LEN + 1];
        (void) rp_guid_normalize(c->component_id, id);
        if (c->digest)
                rp_hex_encode_buf(digest, sizeof digest, hex);
        json_t *j = json_pack("{s:s, s:o, s:o, s:s}", "component_id", id, "version",
                              c->has_version ? json_integer((json_int_t) c->version) : json_null(), "digest",
                              c->digest ? json_string(hex) : json_null(), "state",
                              c->failed ? "failed" : "installed");
        if (j && c->detail && json_object_set_new(j, "detail", json_string(c->detail)) < 0) {
                json_decref(j);
                j = NULL;
        }
        if (!j)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret = j;
        return 0;
}

int rp_update_report_state(rp_device_session *s, const uint64_t *doc_version, const rp_update_component_state *c,
                           size_t n, rp_error *err) {
        if (n > RP_UPDATE_REPORT_MAX)
                return rp_error_set(err, -EFBIG, "%zu components: at most %d in one report", n, RP_UPDATE_REPORT_MAX);
        if (doc_version && *doc_version > (uint64_t) INT64_MAX)
                return rp_error_set(err, -ERANGE, "document version %" PRIu64 " is too large", *doc_version);
        _cleanup_(json_decrefp) json_t *arr = json_array();
        if (!arr)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; i < n; i++) {
                json_t *j = NULL;
                int r = component_json(&c[i], &j, err);
                if (r < 0)
                        return r;
                if (json_array_append_new(arr, j) < 0)
                        return rp_error_set(err, -ENOMEM, "out of memory");
        }
        _cleanup_(json_decrefp) json_t *body = json_pack("{s:o, s:O}", "doc_version",
                                                         doc_version ? json_integer((json_int_t) *doc_version)
                                                                     : json_null(),
                                                         "components", arr);
        if (!body)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int r = rp_device_session_json(s, "POST", "/v1/device/state", body, NULL, NULL, err);
        if (r < 0)
                return rp_error_prefix(err, r, "the state report: ");
        return 0;
}
