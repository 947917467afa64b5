/* SPDX-License-Identifier: Apache-2.0 */
/* The blob store's front (blob.h): the backend by the --blob-store URL's
 * scheme, and wrappers that refuse bad names and ids before a backend sees
 * them. */
#include <errno.h>
#include <string.h>

#include "blob/blob.h"
#include "core/macro.h"

static const rp_blob_backend *const backends[] = {
        &rp_blob_backend_dir,
};

static bool lower_hex(const char *s, size_t min, size_t max) {
        size_t n = 0;
        for (; s[n]; n++) {
                if (n >= max || !((s[n] >= '0' && s[n] <= '9') || (s[n] >= 'a' && s[n] <= 'f')))
                        return false;
        }
        return n >= min;
}

bool rp_blob_name_valid(const char *s) {
        return s && lower_hex(s, RP_BLOB_NAME_LEN, RP_BLOB_NAME_LEN);
}

bool rp_blob_upload_id_valid(const char *s) {
        return s && lower_hex(s, 1, RP_BLOB_UPLOAD_ID_MAX);
}

int rp_blob_store_open(const char *spec, rp_blob_store **ret, rp_error *err) {
        if (!spec || !*spec)
                return rp_error_set(err, -EINVAL, "blob store: no location given (dir:PATH)");
        /* "SCHEME:rest" when what precedes the first ':' is a word; a plain
         * path (even one with ':' further on) means dir:. */
        const char *colon = strchr(spec, ':'), *location = spec;
        const rp_blob_backend *b = &rp_blob_backend_dir;
        size_t n = colon ? (size_t) (colon - spec) : 0;
        bool scheme = n > 0 && !memchr(spec, '/', n);
        if (scheme) {
                b = NULL;
                for (size_t i = 0; i < ELEMENTSOF(backends) && !b; i++)
                        if (strlen(backends[i]->scheme) == n && memcmp(backends[i]->scheme, spec, n) == 0)
                                b = backends[i];
                if (!b)
                        return rp_error_set(err, -EPROTONOSUPPORT, "blob store '%.*s': unknown kind '%.*s' "
                                            "(known: dir:PATH)", 200, spec, (int) (n > 32 ? 32 : n), spec);
                location = colon + 1;
        }
        if (!*location)
                return rp_error_set(err, -EINVAL, "blob store '%s': no path after '%s:'", spec, b->scheme);
        rp_blob_store *bs = NULL;
        int r = b->open(location, &bs, err);
        if (r < 0)
                return r;
        RP_INVARIANT(bs->backend == b);
        *ret = bs;
        return 0;
}

void rp_blob_store_close(rp_blob_store *bs) {
        if (bs)
                bs->backend->close(bs);
}

static int bad_id(const char *id, rp_error *err) {
        return rp_error_set(err, -EINVAL, "blob store: '%.80s' is not an upload id (1 to %d lowercase hex digits)",
                            id ? id : "(null)", RP_BLOB_UPLOAD_ID_MAX);
}

static int bad_name(const char *name, rp_error *err) {
        return rp_error_set(err, -EINVAL, "blob store: '%.80s' is not a blob name (%d lowercase hex digits)",
                            name ? name : "(null)", RP_BLOB_NAME_LEN);
}

int rp_blob_upload_create(rp_blob_store *bs, const char *upload_id, rp_error *err) {
        if (!rp_blob_upload_id_valid(upload_id))
                return bad_id(upload_id, err);
        return bs->backend->upload_create(bs, upload_id, err);
}

int rp_blob_upload_append(rp_blob_store *bs, const char *upload_id, uint64_t offset, const void *buf, size_t len,
                          uint64_t *ret_size, rp_error *err) {
        if (!rp_blob_upload_id_valid(upload_id))
                return bad_id(upload_id, err);
        return bs->backend->upload_append(bs, upload_id, offset, buf, len, ret_size, err);
}

int rp_blob_upload_size(rp_blob_store *bs, const char *upload_id, uint64_t *ret_size, rp_error *err) {
        if (!rp_blob_upload_id_valid(upload_id))
                return bad_id(upload_id, err);
        return bs->backend->upload_size(bs, upload_id, ret_size, err);
}

int rp_blob_upload_open(rp_blob_store *bs, const char *upload_id, rp_blob_reader **ret, rp_error *err) {
        if (!rp_blob_upload_id_valid(upload_id))
                return bad_id(upload_id, err);
        return bs->backend->upload_open(bs, upload_id, ret, err);
}

int rp_blob_upload_commit(rp_blob_store *bs, const char *upload_id, const char *name, rp_error *err) {
        if (!rp_blob_upload_id_valid(upload_id))
                return bad_id(upload_id, err);
        if (!rp_blob_name_valid(name))
                return bad_name(name, err);
        return bs->backend->upload_commit(bs, upload_id, name, err);
}

int rp_blob_upload_remove(rp_blob_store *bs, const char *upload_id, rp_error *err) {
        if (!rp_blob_upload_id_valid(upload_id))
                return bad_id(upload_id, err);
        return bs->backend->upload_remove(bs, upload_id, err);
}

int rp_blob_upload_list_older(rp_blob_store *bs, int64_t before, int (*fn)(const char *upload_id, void *userdata),
                              void *userdata, rp_error *err) {
        return bs->backend->upload_list_older(bs, before, fn, userdata, err);
}

int rp_blob_open(rp_blob_store *bs, const char *name, rp_blob_reader **ret, rp_error *err) {
        if (!rp_blob_name_valid(name))
                return bad_name(name, err);
        return bs->backend->open_blob(bs, name, ret, err);
}

int rp_blob_exists(rp_blob_store *bs, const char *name, bool *ret, rp_error *err) {
        if (!rp_blob_name_valid(name))
                return bad_name(name, err);
        return bs->backend->exists(bs, name, ret, err);
}
