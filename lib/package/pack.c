/* SPDX-License-Identifier: Apache-2.0 */
/* Image packages: encoding, signing and writing; packing an application. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
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

int rp_package_manifest_encode(const rp_package_manifest *m, uint8_t **ret_buf, size_t *ret_len,
                               rp_error *err) {
        const char *type = rp_image_type_name(m->type);
        if (!type)
                return rp_error_set(err, -EINVAL, "image manifest: unknown image type %d", (int) m->type);
        if (!m->name)
                return rp_error_set(err, -EINVAL, "image manifest: field \"name\" is missing");

        size_t n = 8 + (m->version_name ? 1 : 0) + (m->app_manifest ? 1 : 0);
        /* A map that could not be allocated (NULL) makes the first put
         * fail with -ENOMEM. */
        _cleanup_(rp_cbor_decrefp) cbor_item_t *map = cbor_new_definite_map(n);
        /* Added in deterministic order (shorter keys first, then bytewise),
         * so rp_cbor_encode has nothing to reorder. */
        int r = put(map, "name", rp_cbor_text(m->name));
        if (r == 0)
                r = put(map, "type", rp_cbor_text(type));
        if (r == 0)
                r = put(map, "format", rp_cbor_uint(m->format));
        if (r == 0)
                r = put(map, "version", rp_cbor_uint(m->version));
        if (r == 0)
                r = put(map, "build-time", rp_cbor_uint(m->build_time));
        if (r == 0)
                r = put(map, "image-size", rp_cbor_uint(m->image_size));
        if (r == 0 && m->app_manifest)
                r = put(map, "app-manifest", cbor_build_stringn(m->app_manifest, m->app_manifest_len));
        if (r == 0)
                r = put(map, "component-id", rp_cbor_text(m->component_id));
        if (r == 0)
                r = put(map, "image-sha256", rp_cbor_bytes(m->image_sha256, RP_SHA256_LEN));
        if (r == 0 && m->version_name)
                r = put(map, "version-name", rp_cbor_text(m->version_name));
        if (r < 0)
                return rp_error_set(err, r, "image manifest: cannot build the CBOR map");

        _cleanup_free_ uint8_t *buf = NULL;
        size_t len;
        r = rp_cbor_encode(map, &buf, &len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "image manifest: ");

        /* One set of rules: what we write must read back. */
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *check = NULL;
        r = rp_package_manifest_parse(buf, len, &check, err);
        if (r < 0)
                return r;
        *ret_buf = TAKE_PTR(buf);
        *ret_len = len;
        return 0;
}

static int write_sink(void *userdata, const uint8_t *buf, size_t len, rp_error *err) {
        return rp_atomic_file_write(userdata, buf, len, err);
}

int rp_package_write(const char *path, const rp_package_manifest *m, const rp_key *key, int image_fd,
                     rp_error *err) {
        if (!rp_key_is_private(key))
                return rp_error_set(err, -EINVAL, "signing needs a private key, the key given is a public key");

        struct stat st;
        if (fstat(image_fd, &st) < 0)
                return rp_error_set_errno(err, -errno, "cannot stat the image");
        if (!S_ISREG(st.st_mode) || (uint64_t) st.st_size != m->image_size)
                return rp_error_set(err, -EINVAL, "the image is %jd bytes, the manifest says %ju",
                                    (intmax_t) st.st_size, (uintmax_t) m->image_size);

        _cleanup_free_ uint8_t *payload = NULL, *cose = NULL;
        size_t payload_len, cose_len;
        int r = rp_package_manifest_encode(m, &payload, &payload_len, err);
        if (r < 0)
                return r;
        r = rp_cose_sign1_create(key, RP_PACKAGE_CONTENT_TYPE, payload, payload_len, NULL, 0,
                                 &cose, &cose_len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "signing the manifest: ");
        /* Readers refuse a signed manifest over RP_COSE_MAX_SIZE. One that
         * rp_package_manifest_parse() accepted cannot reach it: the app
         * manifest is its only large field, and the rest (names, digest,
         * numbers, COSE headers and signature) take well under 4 KiB. */
        _Static_assert(RP_APP_MANIFEST_MAX_SIZE + 4096 < RP_COSE_MAX_SIZE,
                       "a signed manifest could exceed what readers accept");

        rp_atomic_file af = RP_ATOMIC_FILE_INIT;
        r = rp_atomic_file_open(&af, path, 0644, err);
        if (r < 0)
                return r;
        uint8_t digest[RP_SHA256_LEN];
        r = rp_atomic_file_write(&af, cose, cose_len, err);
        if (r == 0)
                r = rp_sha256_fd(image_fd, 0, m->image_size, write_sink, &af, digest, err);
        if (r == 0)
                r = rp_package_check_digest(m->image_sha256, digest, "the image changed while being packed, "
                                            "or the manifest's image-sha256 is not its digest", err);
        if (r < 0) {
                rp_atomic_file_abort(&af);
                return r;
        }
        return rp_atomic_file_commit(&af, err);
}

int rp_package_build_time(uint64_t *ret, rp_error *err) {
        const char *s = getenv("SOURCE_DATE_EPOCH");
        if (!s) {
                time_t now = time(NULL);
                if (now < 0)
                        return rp_error_set(err, -ERANGE, "the clock is before 1970");
                *ret = (uint64_t) now;
                return 0;
        }
        size_t n = strlen(s);
        if (n == 0 || n > 19 || strspn(s, "0123456789") != n)
                return rp_error_set(err, -EINVAL, "SOURCE_DATE_EPOCH='%.40s' is not a number of seconds "
                                    "since 1970", s);
        uint64_t v = strtoull(s, NULL, 10);
        if (v > RP_PACKAGE_BUILD_TIME_MAX)
                return rp_error_set(err, -ERANGE, "SOURCE_DATE_EPOCH is too large");
        *ret = v;
        return 0;
}

/* The output may not replace the manifest or the directory, nor land in the
 * directory (the next pack would put the package inside its own image). */
static int check_output(const rp_pack_options *o, rp_error *err) {
        struct stat st, mst;
        if (!o->output || !*o->output)
                return rp_error_set(err, -EINVAL, "no output file given");
        if (stat(o->output, &st) == 0) {
                if (S_ISDIR(st.st_mode))
                        return rp_error_set(err, -EISDIR, "%s: is a directory, expected the package file to write",
                                            o->output);
                if (stat(o->app_manifest_path, &mst) == 0 && st.st_dev == mst.st_dev && st.st_ino == mst.st_ino)
                        return rp_error_set(err, -EEXIST, "%s: refusing to write the package over the app manifest",
                                            o->output);
        }

        _cleanup_free_ char *copy = strdup(o->output);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ char *parent = realpath(dirname(copy), NULL);
        if (!parent)
                return rp_error_set_errno(err, -errno, "%s: the output's directory is not usable", o->output);
        _cleanup_free_ char *dir = realpath(o->dir, NULL);
        if (!dir)
                return rp_error_set_errno(err, -errno, "%s: cannot open directory", o->dir);
        size_t dl = strlen(dir);
        if (strncmp(parent, dir, dl) == 0 && (parent[dl] == '\0' || parent[dl] == '/' || streq(dir, "/")))
                return rp_error_set(err, -EINVAL, "%s: is inside the app directory %s, so it would be packed "
                                    "into the next image; write the package elsewhere", o->output, o->dir);
        return 0;
}

/* The EntryPoint relative to the image root ("bin/app" for "/bin/app").
 * The manifest parser has made sure it is an absolute path of non-empty
 * components, none of them "." or "..", naming a file. */
static const char *entry_point_rel(const char *ep) {
        RP_INVARIANT(ep && ep[0] == '/' && ep[1] != '\0' && ep[1] != '/');
        return ep + 1;
}

/* What the check of the staged copy needs to know. */
typedef struct entry_point_check {
        const char *ep;              /* as in the manifest */
        const char *rel;             /* ep without leading slashes */
        const char *dir;             /* --dir, for messages */
        const char *manifest_path;
} entry_point_check;

/* Runs on the staged copy (rp_erofs_options.check_copy), so it judges the
 * file that is packed: the EntryPoint must be an executable regular file
 * there, not a link. Messages name the source directory the copy was made
 * of. */
static int check_entry_point(int root_fd, void *userdata, rp_error *err) {
        const entry_point_check *c = userdata;
        struct stat st;
        if (fstatat(root_fd, c->rel, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                if (errno == ENOENT || errno == ENOTDIR)
                        return rp_error_set(err, -ENOENT, "EntryPoint '%s' from %s does not exist in %s",
                                            c->ep, c->manifest_path, c->dir);
                return rp_error_set_errno(err, -errno, "%s/%s: cannot stat the EntryPoint", c->dir, c->rel);
        }
        if (S_ISLNK(st.st_mode))
                return rp_error_set(err, -EINVAL, "EntryPoint %s/%s is a symbolic link; it must be a regular file",
                                    c->dir, c->rel);
        if (!S_ISREG(st.st_mode))
                return rp_error_set(err, -EINVAL, "EntryPoint %s/%s is not a regular file", c->dir, c->rel);
        if (!(st.st_mode & S_IXUSR))
                return rp_error_set(err, -EINVAL, "EntryPoint %s/%s is not executable (chmod +x it)",
                                    c->dir, c->rel);
        return 0;
}

/* Reads app_manifest.json and validates it; *ret_raw gets its bytes, which
 * go into the package and the image as they are. */
static int read_app_manifest(const char *path, uint8_t **ret_raw, size_t *ret_len, rp_app_manifest **ret_am,
                             rp_error *err) {
        _cleanup_free_ uint8_t *raw = NULL;
        size_t raw_len;
        int r = rp_read_file(path, RP_APP_MANIFEST_MAX_SIZE, &raw, &raw_len, err);
        if (r < 0)
                return r;
        r = rp_app_manifest_parse((const char *) raw, raw_len, path, ret_am, err);
        if (r < 0)
                return r;
        *ret_raw = TAKE_PTR(raw);
        *ret_len = raw_len;
        return 0;
}

/* The package manifest of the app, all but the image's size and digest.
 * It is encoded once with placeholders, so a bad name or version is refused
 * before the (slow) image build: the encoder applies the reader's rules. */
static int app_package_manifest(const rp_pack_options *o, const rp_app_manifest *am, const uint8_t *raw,
                                size_t raw_len, rp_package_manifest **ret, rp_error *err) {
        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = calloc(1, sizeof *m);
        if (!m)
                return rp_error_set(err, -ENOMEM, "out of memory");
        m->format = RP_PACKAGE_FORMAT;
        m->type = rp_app_manifest_type(am) == RP_APP_TYPE_REALTIME_CAPABLE ? RP_IMAGE_TYPE_RT_APP
                                                                           : RP_IMAGE_TYPE_APP;
        /* A parsed manifest's ComponentId is a GUID in its 36-character
         * lowercase form (app_manifest.h). */
        memcpy(m->component_id, rp_app_manifest_component_id(am), sizeof m->component_id);
        m->name = strdup(rp_app_manifest_name(am));
        m->app_manifest = strndup((const char *) raw, raw_len);
        if (!m->name || !m->app_manifest)
                return rp_error_set(err, -ENOMEM, "out of memory");
        m->app_manifest_len = raw_len;
        if (o->version_name && !(m->version_name = strdup(o->version_name)))
                return rp_error_set(err, -ENOMEM, "out of memory");
        m->version = o->version;
        m->build_time = o->build_time;

        m->image_size = 1;
        _cleanup_free_ uint8_t *probe = NULL;
        size_t probe_len;
        int r = rp_package_manifest_encode(m, &probe, &probe_len, err);
        if (r < 0)
                return rp_error_prefix(err, r, "%s: ", o->app_manifest_path);
        *ret = TAKE_PTR(m);
        return 0;
}

/* Builds the app's erofs image from a staged copy of o->dir with the app
 * manifest at its root, checking the EntryPoint on that copy; records the
 * image's size and digest in m. *ret_fd gets the image. */
static int build_app_image(const rp_pack_options *o, const entry_point_check *epc, const uint8_t *raw,
                           size_t raw_len, rp_package_manifest *m, int *ret_fd, rp_error *err) {
        rp_erofs_options eo = {
                .mkfs_path = o->mkfs_path,
                .tmp_parent = o->tmp_dir,
                .max_size = RP_PACKAGE_IMAGE_MAX_SIZE,
                .root_file_name = "app_manifest.json",
                .root_file_data = raw,
                .root_file_len = raw_len,
                .check_copy = check_entry_point,
                .check_copy_userdata = (void *) epc,
        };
        _cleanup_close_ int fd = -1;
        int r = rp_erofs_build(o->dir, &eo, &fd, err);
        if (r < 0)
                return r;
        struct stat st;
        if (fstat(fd, &st) < 0)
                return rp_error_set_errno(err, -errno, "cannot stat the image");
        m->image_size = (uint64_t) st.st_size;
        r = rp_sha256_fd(fd, 0, m->image_size, NULL, NULL, m->image_sha256, err);
        if (r < 0)
                return rp_error_prefix(err, r, "hashing the image: ");
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int rp_package_pack_application(const rp_pack_options *o, rp_package_manifest **ret_manifest,
                                rp_error *err) {
        if (!o->key || !rp_key_is_private(o->key))
                return rp_error_set(err, -EINVAL, "signing needs a private key, the key given is a public key");

        _cleanup_free_ uint8_t *raw = NULL;
        size_t raw_len;
        _cleanup_(rp_app_manifest_freep) rp_app_manifest *am = NULL;
        int r = read_app_manifest(o->app_manifest_path, &raw, &raw_len, &am, err);
        if (r < 0)
                return r;
        r = check_output(o, err);
        if (r < 0)
                return r;
        entry_point_check epc = {
                .ep = rp_app_manifest_entry_point(am), .dir = o->dir, .manifest_path = o->app_manifest_path,
        };
        epc.rel = entry_point_rel(epc.ep);

        _cleanup_(rp_package_manifest_freep) rp_package_manifest *m = NULL;
        r = app_package_manifest(o, am, raw, raw_len, &m, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = -1;
        r = build_app_image(o, &epc, raw, raw_len, m, &fd, err);
        if (r < 0)
                return r;
        r = rp_package_write(o->output, m, o->key, fd, err);
        if (r < 0)
                return r;
        if (ret_manifest)
                *ret_manifest = TAKE_PTR(m);
        return 0;
}
