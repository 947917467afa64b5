/* SPDX-License-Identifier: Apache-2.0 */
/* The measurement of the running software (measure.h): the components'
 * list in deterministic CBOR, and its SHA-256. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>

#include "core/cbor.h"
#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/crypto.h"
#include "rot/measure.h"

/* A component's CBOR: 0x83, two texts with heads, a 32-byte bstr with its head. */
#define COMPONENT_MAX (1 + 2 * (RP_CBOR_HEAD_MAX + RP_MEASURE_NAME_MAX) + 2 + RP_SHA256_LEN)
#define COMPONENTS_MAX (1 + RP_MEASURE_MAX_COMPONENTS * COMPONENT_MAX)

void rp_measurement_free(rp_measurement *m) {
        if (!m)
                return;
        free(m->components);
        free(m);
}

typedef struct out_buf {
        uint8_t data[COMPONENTS_MAX];
        size_t len;
} out_buf;

static void put_head(out_buf *b, unsigned major, uint64_t v) {
        RP_INVARIANT(b->len + RP_CBOR_HEAD_MAX <= sizeof b->data);
        b->len += rp_cbor_put_head(b->data + b->len, major, v);
}

static void put_string(out_buf *b, unsigned major, const void *p, size_t len) {
        put_head(b, major, len);
        RP_INVARIANT(b->len + len <= sizeof b->data);
        memcpy(b->data + b->len, p, len);
        b->len += len;
}

/* A name or version: printable UTF-8 of at most RP_MEASURE_NAME_MAX bytes. */
static int check_text(size_t i, const char *field, const char *s, bool may_be_empty, rp_error *err) {
        if (!s)
                return rp_error_set(err, -EINVAL, "measurement: component %zu: no %s", i, field);
        size_t len = strlen(s);
        if (len == 0 && !may_be_empty)
                return rp_error_set(err, -EINVAL, "measurement: component %zu: the %s is empty", i, field);
        if (len > RP_MEASURE_NAME_MAX)
                return rp_error_set(err, -EFBIG, "measurement: component %zu: the %s is %zu bytes, the limit "
                                    "is %d", i, field, len, RP_MEASURE_NAME_MAX);
        if (!rp_str_is_printable(s, len))
                return rp_error_set(err, -EINVAL, "measurement: component %zu: the %s is not printable UTF-8",
                                    i, field);
        return 0;
}

/* SHA-256 of the whole regular file at path, read in bounded chunks. */
static int hash_file(const char *name, const char *path, uint8_t ret[RP_SHA256_LEN], rp_error *err) {
        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, path, 0, &st, err);
        if (fd < 0)
                return rp_error_prefix(err, fd, "measurement: component '%s': ", name);
        int r = rp_sha256_fd(fd, 0, (uint64_t) st.st_size, NULL, NULL, ret, err);
        if (r < 0)
                return rp_error_prefix(err, r, "measurement: component '%s': %s: ", name, path);
        return 0;
}

int rp_measure(const rp_measure_spec *specs, size_t n, rp_measurement **ret, rp_error *err) {
        if (n == 0)
                return rp_error_set(err, -EINVAL, "measurement: no components to measure");
        if (n > RP_MEASURE_MAX_COMPONENTS)
                return rp_error_set(err, -EFBIG, "measurement: %zu components, the limit is %d", n,
                                    RP_MEASURE_MAX_COMPONENTS);
        for (size_t i = 0; i < n; i++) {
                int r = check_text(i, "name", specs[i].name, false, err);
                if (r < 0)
                        return r;
                r = check_text(i, "version", specs[i].version, true, err);
                if (r < 0)
                        return r;
                if (!specs[i].path || !*specs[i].path)
                        return rp_error_set(err, -EINVAL, "measurement: component '%s': no file", specs[i].name);
                for (size_t j = 0; j < i; j++)
                        if (streq(specs[i].name, specs[j].name))
                                return rp_error_set(err, -EEXIST, "measurement: component '%s' is listed twice",
                                                    specs[i].name);
        }

        _cleanup_free_ out_buf *b = calloc(1, sizeof *b);
        if (!b)
                return rp_error_set(err, -ENOMEM, "measurement: out of memory");
        put_head(b, 4, n);   /* array */
        for (size_t i = 0; i < n; i++) {
                uint8_t digest[RP_SHA256_LEN];
                int r = hash_file(specs[i].name, specs[i].path, digest, err);
                if (r < 0)
                        return r;
                put_head(b, 4, 3);
                put_string(b, 3, specs[i].name, strlen(specs[i].name));         /* tstr */
                put_string(b, 3, specs[i].version, strlen(specs[i].version));   /* tstr */
                put_string(b, 2, digest, sizeof digest);                        /* bstr */
        }

        _cleanup_(rp_measurement_freep) rp_measurement *m = calloc(1, sizeof *m);
        if (!m || !(m->components = malloc(b->len)))
                return rp_error_set(err, -ENOMEM, "measurement: out of memory");
        memcpy(m->components, b->data, b->len);
        m->components_len = b->len;
        int r = rp_sha256(m->components, m->components_len, m->value);
        if (r < 0)
                return rp_error_set(err, r, "measurement: SHA-256 failed");
        *ret = TAKE_PTR(m);
        return 0;
}
