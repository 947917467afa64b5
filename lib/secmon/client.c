/* SPDX-License-Identifier: Apache-2.0 */
/* The client side of rampart-secmon's protocol (client.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/cbor.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "secmon/client.h"
#include "secmon/protocol.h"

/* How long a request may take before the client gives up on secmon. */
#define TIMEOUT_SECONDS 30

struct rp_secmon {
        int fd;                 /* -1 after secmon closed the connection */
        char *path;
        uint8_t buf[RP_SECMON_RESPONSE_MAX];
};

static int open_socket(const char *path, rp_error *err) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return rp_error_set(err, -ENAMETOOLONG, "cannot reach rampart-secmon at %s: the path is longer "
                                    "than %zu bytes", path, sizeof sa.sun_path - 1);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "cannot reach rampart-secmon at %s: socket", path);
        struct timeval tv = { .tv_sec = TIMEOUT_SECONDS };
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0)
                return rp_error_set_errno(err, -errno, "cannot reach rampart-secmon at %s: setsockopt", path);
        if (connect(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return rp_error_set_errno(err, -errno, "cannot reach rampart-secmon at %s", path);
        return TAKE_FD(fd);
}

int rp_secmon_connect(const char *socket_path, rp_secmon **ret, rp_error *err) {
        _cleanup_(rp_secmon_closep) rp_secmon *sm = calloc(1, sizeof *sm);
        if (!sm)
                return rp_error_set(err, -ENOMEM, "out of memory");
        sm->fd = -1;
        sm->path = strdup(socket_path);
        if (!sm->path)
                return rp_error_set(err, -ENOMEM, "out of memory");
        int fd = open_socket(socket_path, err);
        if (fd < 0)
                return fd;
        sm->fd = fd;
        *ret = TAKE_PTR(sm);
        return 0;
}

void rp_secmon_close(rp_secmon *sm) {
        if (!sm)
                return;
        if (sm->fd >= 0)
                close(sm->fd);
        explicit_bzero(sm->buf, sizeof sm->buf);
        free(sm->path);
        free(sm);
}

/* Sends one request and receives its response into sm->buf. -EPIPE when
 * secmon had closed the connection (idle, or to make room). */
static int exchange(rp_secmon *sm, const uint8_t *req, size_t len, size_t *ret_len, rp_error *err) {
        ssize_t n;
        do
                n = send(sm->fd, req, len, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0 && (errno == EPIPE || errno == ECONNRESET || errno == ENOTCONN))
                return -EPIPE;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return rp_error_set(err, -ETIMEDOUT, "rampart-secmon at %s took no request for %d s", sm->path,
                                    TIMEOUT_SECONDS);
        if (n < 0)
                return rp_error_set_errno(err, -errno, "rampart-secmon at %s: send", sm->path);

        struct iovec iov = { sm->buf, sizeof sm->buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        do
                n = recvmsg(sm->fd, &mh, MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        if (n == 0 || (n < 0 && errno == ECONNRESET))
                return -EPIPE;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
                return rp_error_set(err, -ETIMEDOUT, "rampart-secmon at %s did not answer within %d s", sm->path,
                                    TIMEOUT_SECONDS);
        if (n < 0)
                return rp_error_set_errno(err, -errno, "rampart-secmon at %s: receive", sm->path);
        if (mh.msg_flags & MSG_TRUNC)
                return rp_error_set(err, -EFBIG, "rampart-secmon at %s: a response over %d bytes", sm->path,
                                    RP_SECMON_RESPONSE_MAX);
        *ret_len = (size_t) n;
        return 0;
}

/* One round trip: *ret_result gets the result of a successful request, and
 * secmon's refusal becomes err. If secmon had closed the connection, it is
 * opened again and the request sent once more: every request may be
 * repeated (counter-advance sets a value, it does not add). */
static int call(rp_secmon *sm, const rp_secmon_request *req, cbor_item_t **ret_result, rp_error *err) {
        _cleanup_free_ uint8_t *buf = NULL;
        size_t len, resp_len = 0;
        int r = rp_secmon_request_encode(req, &buf, &len, err);
        if (r < 0)
                return r;
        for (int attempt = 0;; attempt++) {
                if (sm->fd < 0) {
                        r = open_socket(sm->path, err);
                        if (r < 0)
                                break;
                        sm->fd = r;
                }
                r = exchange(sm, buf, len, &resp_len, err);
                if (r == 0)
                        break;
                close(sm->fd);
                sm->fd = -1;
                if (r != -EPIPE || attempt > 0)
                        break;
        }
        if (req->type == RP_SECMON_SEAL)
                explicit_bzero(buf, len);
        if (r == -EPIPE)
                return rp_error_set(err, r, "rampart-secmon at %s closed the connection", sm->path);
        if (r < 0)
                return r;

        int status;
        char message[RP_ERROR_MAX];
        cbor_item_t *result = NULL;
        r = rp_secmon_response_decode(sm->buf, resp_len, &status, message, &result, err);
        explicit_bzero(sm->buf, resp_len);
        if (r < 0)
                return r;
        if (status < 0)
                return rp_error_set(err, status, "rampart-secmon: %s", message);
        *ret_result = result;
        return 0;
}

/* A byte-string result of min..max bytes, copied (malloc'd, with room for a
 * NUL after it). */
static int result_bytes(const cbor_item_t *res, const char *what, size_t min, size_t max, uint8_t **ret,
                        size_t *ret_len, rp_error *err) {
        size_t n = cbor_isa_bytestring(res) ? cbor_bytestring_length(res) : 0;
        if (!cbor_isa_bytestring(res) || n < min || n > max)
                return rp_error_set(err, -EBADMSG, "secmon response: the %s is not a byte string of %zu to %zu "
                                    "bytes", what, min, max);
        uint8_t *p = malloc(n + 1);
        if (!p)
                return rp_error_set(err, -ENOMEM, "out of memory");
        memcpy(p, cbor_bytestring_handle(res), n);
        p[n] = 0;
        *ret = p;
        *ret_len = n;
        return 0;
}

/* A text result of 1..max bytes, printable, into out (max + 1 bytes). */
static int result_text(const cbor_item_t *v, const char *what, size_t max, char *out, rp_error *err) {
        size_t n = v && cbor_isa_string(v) ? cbor_string_length(v) : 0;
        if (n == 0 || n > max || !rp_str_is_printable((const char *) cbor_string_handle(v), n))
                return rp_error_set(err, -EBADMSG, "secmon response: the %s is not text of 1 to %zu bytes", what,
                                    max);
        memcpy(out, cbor_string_handle(v), n);
        out[n] = '\0';
        return 0;
}

int rp_secmon_info_get(rp_secmon *sm, rp_secmon_info *ret, rp_error *err) {
        rp_secmon_request req = { .type = RP_SECMON_INFO };
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        int r = call(sm, &req, &res, err);
        if (r < 0)
                return r;
        rp_secmon_info info = {};
        cbor_item_t *m = rp_cbor_map_get_int(res, RP_SECMON_INFO_MEASUREMENT);
        cbor_item_t *dev = rp_cbor_map_get_int(res, RP_SECMON_INFO_DEVELOPMENT);
        if (!cbor_isa_map(res) || cbor_map_size(res) != 4)
                return rp_error_set(err, -EBADMSG, "secmon response: info is not a map of 4 fields");
        r = result_text(rp_cbor_map_get_int(res, RP_SECMON_INFO_DEVICE_ID), "device id", 64, info.device_id, err);
        if (r >= 0)
                r = result_text(rp_cbor_map_get_int(res, RP_SECMON_INFO_BACKEND), "backend",
                                sizeof info.backend - 1, info.backend, err);
        if (r < 0)
                return r;
        if (strspn(info.device_id, "0123456789abcdef") != 64)
                return rp_error_set(err, -EBADMSG, "secmon response: the device id is not 64 lowercase hex digits");
        if (!m || !cbor_isa_bytestring(m) || cbor_bytestring_length(m) != RP_ROT_MEASUREMENT_LEN)
                return rp_error_set(err, -EBADMSG, "secmon response: the measurement is not %d bytes",
                                    RP_ROT_MEASUREMENT_LEN);
        if (!dev || !cbor_isa_float_ctrl(dev) || !cbor_is_bool(dev))
                return rp_error_set(err, -EBADMSG, "secmon response: development is not a boolean");
        memcpy(info.measurement, cbor_bytestring_handle(m), RP_ROT_MEASUREMENT_LEN);
        info.development = cbor_get_bool(dev);
        *ret = info;
        return 0;
}

/* Appends the DER certificate in item to the PEM text in bio. */
static int append_pem(BIO *bio, const cbor_item_t *item, const char *what, rp_error *err) {
        _cleanup_free_ uint8_t *der = NULL;
        size_t len;
        int r = result_bytes(item, what, 1, RP_SECMON_CERT_MAX, &der, &len, err);
        if (r < 0)
                return r;
        /* OpenSSL 3.0 reports some allocations that fail while decoding as
         * malformed input, with nothing queued to tell them apart: a
         * certificate is called malformed only when a second decode of
         * the same bytes refuses it too (unit/faults-secmon-client). */
        X509 *cert = NULL;
        const unsigned char *p = der;
        for (int attempt = 0; attempt < 2 && !cert; attempt++) {
                ERR_clear_error();
                p = der;
                cert = d2i_X509(NULL, &p, (long) len);
                if (!cert && ERR_GET_REASON(ERR_peek_last_error()) == ERR_R_MALLOC_FAILURE)
                        return rp_error_set(err, -ENOMEM, "secmon response: the %s: out of memory", what);
        }
        if (!cert || p != der + len) {
                X509_free(cert);
                return rp_error_set(err, -EBADMSG, "secmon response: the %s is not one DER certificate", what);
        }
        /* Into a memory BIO: only an allocation can fail. */
        r = PEM_write_bio_X509(bio, cert) == 1 ? 0 : -ENOMEM;
        X509_free(cert);
        if (r < 0)
                return rp_error_set(err, r, "secmon response: the %s: out of memory", what);
        return 0;
}

int rp_secmon_chain_pem(rp_secmon *sm, char **ret_pem, rp_error *err) {
        static const char *const names[] = { "Alias certificate", "DeviceID certificate", "CA certificate" };
        rp_secmon_request req = { .type = RP_SECMON_CHAIN };
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        int r = call(sm, &req, &res, err);
        if (r < 0)
                return r;
        if (!cbor_isa_array(res) || cbor_array_size(res) != ELEMENTSOF(names))
                return rp_error_set(err, -EBADMSG, "secmon response: the chain is not an array of 3 certificates");
        BIO *bio = BIO_new(BIO_s_mem());
        if (!bio)
                return rp_error_set(err, -ENOMEM, "out of memory");
        for (size_t i = 0; r >= 0 && i < ELEMENTSOF(names); i++)
                r = append_pem(bio, cbor_array_handle(res)[i], names[i], err);
        char *text = NULL;
        long n = BIO_get_mem_data(bio, &text);
        char *pem = r >= 0 ? strndup(text, (size_t) n) : NULL;
        BIO_free(bio);
        if (r < 0)
                return r;
        if (!pem)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *ret_pem = pem;
        return 0;
}

int rp_secmon_evidence(rp_secmon *sm, const uint8_t *nonce, size_t nonce_len,
                       uint8_t **ret, size_t *ret_len, rp_error *err) {
        rp_secmon_request req = { .type = RP_SECMON_EVIDENCE, .len = nonce_len };
        if (nonce_len > sizeof req.bytes)
                return rp_error_set(err, -ERANGE, "nonce of %zu bytes is too long", nonce_len);
        if (nonce_len)
                memcpy(req.bytes, nonce, nonce_len);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        int r = call(sm, &req, &res, err);
        if (r < 0)
                return r;
        return result_bytes(res, "evidence", 1, RP_SECMON_RESPONSE_MAX, ret, ret_len, err);
}

int rp_secmon_sign_digest(rp_secmon *sm, const uint8_t digest[RP_ROT_DIGEST_LEN],
                          uint8_t ret_sig[RP_ROT_SIG_LEN], rp_error *err) {
        rp_secmon_request req = { .type = RP_SECMON_SIGN, .len = RP_ROT_DIGEST_LEN };
        memcpy(req.bytes, digest, RP_ROT_DIGEST_LEN);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        _cleanup_free_ uint8_t *sig = NULL;
        size_t len;
        int r = call(sm, &req, &res, err);
        if (r >= 0)
                r = result_bytes(res, "signature", RP_ROT_SIG_LEN, RP_ROT_SIG_LEN, &sig, &len, err);
        if (r < 0)
                return r;
        memcpy(ret_sig, sig, RP_ROT_SIG_LEN);
        return 0;
}

static int counter(rp_secmon *sm, rp_secmon_request *req, uint64_t *ret, rp_error *err) {
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        int r = call(sm, req, &res, err);
        if (r < 0)
                return r;
        if (rp_cbor_get_uint(res, ret) < 0)
                return rp_error_set(err, -EBADMSG, "secmon response: the counter is not an unsigned integer");
        return 0;
}

int rp_secmon_counter_read(rp_secmon *sm, unsigned index, uint64_t *ret, rp_error *err) {
        rp_secmon_request req = { .type = RP_SECMON_COUNTER_READ, .index = index };
        return counter(sm, &req, ret, err);
}

int rp_secmon_counter_advance(rp_secmon *sm, unsigned index, uint64_t value, uint64_t *ret,
                              rp_error *err) {
        rp_secmon_request req = { .type = RP_SECMON_COUNTER_ADVANCE, .index = index, .value = value };
        return counter(sm, &req, ret, err);
}

/* seal and unseal: bytes in, bytes out. */
static int transform(rp_secmon *sm, rp_secmon_type type, const void *in, size_t len, size_t in_max,
                     size_t out_min, size_t out_max, uint8_t **ret, size_t *ret_len, rp_error *err) {
        if (len > in_max)
                return rp_error_set(err, -EFBIG, "%s: %zu bytes, at most %zu", rp_secmon_type_name(type), len,
                                    in_max);
        _cleanup_free_ rp_secmon_request *req = malloc(sizeof *req);
        if (!req)
                return rp_error_set(err, -ENOMEM, "out of memory");
        *req = (rp_secmon_request) { .type = type, .len = len };
        if (len)
                memcpy(req->bytes, in, len);
        _cleanup_(rp_cbor_decrefp) cbor_item_t *res = NULL;
        int r = call(sm, req, &res, err);
        explicit_bzero(req->bytes, len);
        if (r < 0)
                return r;
        r = result_bytes(res, type == RP_SECMON_SEAL ? "sealed blob" : "unsealed data", out_min, out_max, ret,
                         ret_len, err);
        if (type == RP_SECMON_UNSEAL && cbor_isa_bytestring(res))
                explicit_bzero(cbor_bytestring_handle(res), cbor_bytestring_length(res));
        return r;
}

int rp_secmon_seal(rp_secmon *sm, const void *data, size_t len, uint8_t **ret_blob,
                   size_t *ret_len, rp_error *err) {
        return transform(sm, RP_SECMON_SEAL, data, len, RP_ROT_SEAL_MAX, 1, RP_ROT_SEALED_MAX, ret_blob, ret_len,
                         err);
}

int rp_secmon_unseal(rp_secmon *sm, const void *blob, size_t len, uint8_t **ret_data,
                     size_t *ret_len, rp_error *err) {
        return transform(sm, RP_SECMON_UNSEAL, blob, len, RP_ROT_SEALED_MAX, 0, RP_ROT_SEAL_MAX, ret_data,
                         ret_len, err);
}
