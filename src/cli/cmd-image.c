/* SPDX-License-Identifier: Apache-2.0 */
/* rampart image: the tenant's image packages in rampart-server. 'image add'
 * uploads a package in pieces of the server's chunk size, read from the
 * file one at a time (never the whole file in memory), resuming after a
 * failed piece where the server says it stands, then asks the server to
 * verify it and keep it as an image. ('rampart image-package' is the local
 * packing and checking of packages.) */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/package.h"
#include "service.h"

#define CHUNK_MAX (64u * 1024 * 1024)   /* a piece held in memory, whatever the server says */
#define BUSY_RETRIES 30                 /* 429/503 answers waited out for one request */
#define BUSY_WAIT_MAX 60                /* seconds, whatever Retry-After says */
#define FAILURES_MAX 8                  /* pieces failed in a row before giving up */

static const cli_field image_fields[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Type", "type", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Component id", "component_id", CLI_FIELD_TEXT },
        { "Version", "version", CLI_FIELD_TEXT },
        { "Version name", "version_name", CLI_FIELD_TEXT },
        { "Digest", "digest", CLI_FIELD_TEXT },
        { "Size", "size", CLI_FIELD_TEXT },
        { "Image SHA-256", "image_sha256", CLI_FIELD_TEXT },
        { "Signing key", "signing_key", CLI_FIELD_TEXT },
        { "Build time", "build_time", CLI_FIELD_TIME },
        { "Created", "created_at", CLI_FIELD_TIME },
        { "Created by", "created_by", CLI_FIELD_TEXT },
        {}
};

static const cli_field image_columns[] = {
        { "Id", "id", CLI_FIELD_TEXT },
        { "Type", "type", CLI_FIELD_TEXT },
        { "Name", "name", CLI_FIELD_TEXT },
        { "Version", "version", CLI_FIELD_TEXT },
        { "Component id", "component_id", CLI_FIELD_TEXT },
        { "Created", "created_at", CLI_FIELD_TIME },
        {}
};

/* --- requests --- */

/* METHOD path with body (content_type; NULL: none), answer as JSON in *ret
 * (NULL for none). 429 and 503 answers are waited out (Retry-After, else a
 * second) and the request sent again. Returns rp_http_request's code;
 * s->status holds the last answer's status. */
static int request(cli_svc *s, const char *method, const char *path, const char *content_type, const void *body,
                   size_t len, json_t **ret, rp_error *err) {
        for (int attempt = 0;; attempt++) {
                _cleanup_free_ char *answer = NULL;
                size_t answer_len = 0;
                rp_error_clear(err);
                int r = rp_http_request(s->http, method, path, content_type, body, len, "application/json",
                                        &answer, &answer_len, &s->status, err);
                if (r == -EAGAIN && attempt < BUSY_RETRIES) {
                        unsigned wait = s->status.retry_after ? s->status.retry_after : 1;
                        sleep(wait > BUSY_WAIT_MAX ? BUSY_WAIT_MAX : wait);
                        continue;
                }
                if (r < 0)
                        return r;
                if (!ret)
                        return 0;
                *ret = NULL;
                if (answer_len == 0)
                        return 0;
                json_error_t jerr;
                *ret = json_loadb(answer, answer_len, JSON_REJECT_DUPLICATES, &jerr);
                if (!*ret)
                        return rp_error_set(err, -EBADMSG, "%s %s: the answer is not JSON: %s", method, path, jerr.text);
                return 0;
        }
}

/* A JSON body. */
static int request_json(cli_svc *s, const char *method, const char *path, json_t *body, json_t **ret, rp_error *err) {
        _cleanup_free_ char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
        if (body && !text)
                return rp_error_set(err, -ENOMEM, "out of memory");
        return request(s, method, path, text ? "application/json" : NULL, text, text ? strlen(text) : 0, ret, err);
}

static char *upload_path(cli_svc *s, const char *id, const char *query) {
        return id ? cli_svc_path(query, CLI_PATH(CLI_TENANT(s), "uploads", id))
                  : cli_svc_path(query, CLI_PATH(CLI_TENANT(s), "uploads"));
}

/* The upload's "received" (bytes the server has), after a GET if j is NULL. */
static int upload_received(cli_svc *s, const char *id, json_t *j, uint64_t *ret, rp_error *err) {
        _cleanup_(json_decrefp) json_t *got = NULL;
        if (!j) {
                _cleanup_free_ char *path = upload_path(s, id, NULL);
                if (!path)
                        return rp_error_set(err, -ENOMEM, "out of memory");
                int r = request(s, "GET", path, NULL, NULL, 0, &got, err);
                if (r < 0)
                        return r;
                j = got;
        }
        json_t *v = json_object_get(j, "received");
        if (!json_is_integer(v) || json_integer_value(v) < 0)
                return rp_error_set(err, -EBADMSG, "the server's answer about upload %s has no \"received\"", id);
        *ret = (uint64_t) json_integer_value(v);
        return 0;
}

/* --- progress --- */

typedef struct progress {
        bool show;
        double start;
        uint64_t total, first;          /* first: where this run started */
} progress;

static double now_seconds(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double) ts.tv_sec + (double) ts.tv_nsec / 1e9;
}

/* "12.3 MiB" */
static void human(uint64_t n, char out[32]) {
        static const char *const units[] = { "B", "KiB", "MiB", "GiB" };
        double v = (double) n;
        size_t u = 0;
        while (v >= 1024 && u + 1 < ELEMENTSOF(units)) {
                v /= 1024;
                u++;
        }
        snprintf(out, 32, u ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static void progress_show(const progress *p, uint64_t done) {
        if (!p->show)
                return;
        char a[32], b[32], rate[32];
        double t = now_seconds() - p->start;
        human(done, a);
        human(p->total, b);
        human(t > 0 ? (uint64_t) ((double) (done - p->first) / t) : 0, rate);
        fprintf(stderr, "\rUploading: %s / %s  %3u%%  %s/s\033[K", a, b,
                p->total ? (unsigned) (done * 100 / p->total) : 100, rate);
        fflush(stderr);
}

static void progress_end(const progress *p) {
        if (p->show)
                fputc('\n', stderr);
}

/* --- image add --- */

/* The hint for a refused package, by the server's error code. */
static const char *refusal_hint(const char *code, const char *kid, char *buf, size_t size) {
        if (streq(code, "signature_invalid")) {
                snprintf(buf, size, "register the key that signed it: rampart signing-key add --key-pub KEY.pub "
                         "(the package names key id %s; 'rampart keys show KEY.pub' prints a key's id)",
                         *kid ? kid : "(none)");
                return buf;
        }
        if (streq(code, "digest_mismatch"))
                return "the package's image bytes changed after it was signed: pack it again";
        if (streq(code, "package_invalid"))
                return "'rampart image-package show PKG' shows what the file holds";
        return NULL;
}

/* Sends the file's bytes from where the server stands to the end. */
static int send_pieces(cli_svc *s, int fd, const char *id, uint64_t size, uint64_t chunk, uint64_t received,
                       bool show, rp_error *err) {
        _cleanup_free_ uint8_t *buf = malloc((size_t) chunk);
        if (!buf)
                return rp_error_set(err, -ENOMEM, "out of memory (a piece of %ju bytes)", (uintmax_t) chunk);
        progress p = { .show = show, .start = now_seconds(), .total = size, .first = received };
        progress_show(&p, received);
        unsigned failures = 0;
        int r = 0;
        while (received < size) {
                size_t n = (size_t) (size - received < chunk ? size - received : chunk);
                r = rp_pread_all(fd, buf, n, received);
                if (r < 0) {
                        r = rp_error_set_errno(err, r, "reading the package at byte %ju (did it change?)",
                                               (uintmax_t) received);
                        break;
                }
                char q[48];
                snprintf(q, sizeof q, "offset=%ju", (uintmax_t) received);
                _cleanup_free_ char *path = upload_path(s, id, q);
                _cleanup_(json_decrefp) json_t *ans = NULL;
                if (!path) {
                        r = rp_error_set(err, -ENOMEM, "out of memory");
                        break;
                }
                r = request(s, "PUT", path, "application/octet-stream", buf, n, &ans, err);
                if (r == 0)
                        r = upload_received(s, id, ans, &received, err);
                if (r == 0) {
                        failures = 0;
                        progress_show(&p, received);
                        continue;
                }
                /* A piece that did not arrive (the connection failed, the
                 * server answered 5xx) or arrived at another offset than
                 * this one thought: ask where the upload stands and go on
                 * from there. */
                long st = s->status.status;
                bool lost = st == 0 || st >= 500;
                if (!(lost || streq(s->status.code, "offset_mismatch")) || ++failures > FAILURES_MAX)
                        break;
                if (lost)
                        sleep(1u << (failures < 4 ? failures - 1 : 3));
                rp_error e = {};
                r = upload_received(s, id, NULL, &received, &e);
                if (r < 0 && s->status.status != 0 && s->status.status < 500) {
                        r = rp_error_set(err, r, "%s", rp_error_message(&e, r));
                        break;
                }
                r = 0;          /* on from where the server stands (or the same piece again) */
        }
        progress_end(&p);
        return r;
}

static int image_add(cli_svc *s) {
        const char *file = s->args[0];
        bool show = !cli_svc_opt(s, "quiet") && s->fmt != CLI_FORMAT_JSON && isatty(STDERR_FILENO);
        rp_error err = {};

        /* A look first: a file that is no package is refused here, and the
         * key id it names goes into the hint should the server refuse its
         * signature. */
        _cleanup_(rp_package_freep) rp_package *pkg = NULL;
        int r = rp_package_open_unverified(file, &pkg, &err);
        if (r < 0)
                return cli_fail(r, &err, "'rampart image-package show PKG' shows what a package holds");
        char kid[65] = "";
        size_t kid_len;
        const uint8_t *k = rp_package_kid(pkg, &kid_len);
        if (k && kid_len == 32)
                rp_hex_encode_buf(k, kid_len, kid);

        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, file, 0, &st, &err);
        if (fd < 0)
                return cli_fail(fd, &err, NULL);
        uint64_t size = (uint64_t) st.st_size;

        /* The upload. */
        _cleanup_free_ char *uploads = upload_path(s, NULL, NULL);
        _cleanup_(json_decrefp) json_t *b = json_pack("{s:I}", "size", (json_int_t) size), *up = NULL;
        if (!uploads || !b)
                return cli_fail(-ENOMEM, NULL, NULL);
        r = request_json(s, "POST", uploads, b, &up, &err);
        if (r < 0)
                return s->status.status == 413 ? cli_fail(r, &err, "the server takes packages up to its "
                                                          "--max-image-size") : cli_svc_fail(s, r, &err);
        const char *id = json_string_value(json_object_get(up, "id"));
        json_t *cs = json_object_get(up, "chunk_size");
        uint64_t received;
        if (!id || !json_is_integer(cs) || json_integer_value(cs) < 1 || upload_received(s, id, up, &received, &err) < 0)
                return cli_fail(-EBADMSG, NULL, "the server's answer to POST uploads is not an upload: is it "
                                "rampart-server?");
        uint64_t chunk = (uint64_t) json_integer_value(cs) < CHUNK_MAX ? (uint64_t) json_integer_value(cs) : CHUNK_MAX;

        r = send_pieces(s, fd, id, size, chunk, received, show, &err);
        if (r < 0)
                return cli_svc_fail(s, r, &err);

        /* Verified and kept by the server. */
        _cleanup_free_ char *images = cli_svc_path(NULL, CLI_PATH(CLI_TENANT(s), "images"));
        _cleanup_(json_decrefp) json_t *ib = json_pack("{s:s}", "upload", id);
        json_t *img = NULL;
        if (!images || !ib)
                return cli_fail(-ENOMEM, NULL, NULL);
        r = request_json(s, "POST", images, ib, &img, &err);
        if (r < 0 && s->status.status == 0) {
                /* No answer: once more (a second add of the same bytes
                 * answers with the same image). */
                r = request_json(s, "POST", images, ib, &img, &err);
        }
        if (r < 0) {
                char hint[512];
                const char *h = refusal_hint(s->status.code, kid, hint, sizeof hint);
                if (!h)
                        return cli_svc_fail(s, r, &err);
                /* The upload is of no further use. */
                _cleanup_free_ char *path = upload_path(s, id, NULL);
                rp_error e = {};
                rp_http_status keep = s->status;
                if (path)
                        (void) request(s, "DELETE", path, NULL, NULL, 0, NULL, &e);
                s->status = keep;
                return cli_fail(r, &err, h);
        }
        const char *image_id = json_string_value(json_object_get(img, "id"));
        if (!image_id) {
                json_decref(img);
                return cli_fail(-EBADMSG, NULL, "the server's answer to POST images is not an image");
        }
        if (s->status.status == 200) {
                fprintf(stderr, "rampart: the tenant has this package already: image ");
                cli_print_safe_to(stderr, image_id);
                fputc('\n', stderr);
        }
        _cleanup_free_ char *line = strdup(image_id);
        if (!line) {
                json_decref(img);
                return cli_fail(-ENOMEM, NULL, NULL);
        }
        return cli_done(s, img, line);
}

static int image_list(cli_svc *s) {
        const char *component = cli_svc_opt(s, "component"), *type = cli_svc_opt(s, "type");
        char cid[RP_GUID_STRLEN + 1];
        if (component && rp_guid_normalize(component, cid) < 0)
                return cli_usage_error(s->cmd, "--component: '%s' is not a component id (a GUID, "
                                       "8-4-4-4-12 hex digits)", component);
        if (type && !streq(type, "app") && !streq(type, "rt-app") && !streq(type, "os"))
                return cli_usage_error(s->cmd, "--type: expected app, rt-app or os, got '%s'", type);
        _cleanup_free_ char *q = NULL;
        if ((component && cli_query_add(&q, "component_id", cid) < 0) || (type && cli_query_add(&q, "type", type) < 0))
                return cli_fail(-ENOMEM, NULL, NULL);
        json_t *ans = NULL;
        int x = cli_svc_call(s, "GET", NULL, q, &ans, CLI_PATH(CLI_TENANT(s), "images"));
        return x != CLI_EXIT_OK ? x : cli_list(s, ans, "images", image_columns);
}

static int image_show(cli_svc *s) {
        char *id = s->args[0];
        int x = cli_check_id_or_hash(s, "an image", "its package digest", id);
        if (x != CLI_EXIT_OK)
                return x;
        json_t *img = NULL;
        x = cli_svc_call(s, "GET", NULL, NULL, &img, CLI_PATH(CLI_TENANT(s), "images", id));
        return x != CLI_EXIT_OK ? x : cli_show(s, img, image_fields);
}

static const cli_opt add_opts[] = {
        { "quiet", NULL, "no progress bar (there is none when stderr is not a terminal)" },
        {}
};

static const cli_opt list_opts[] = {
        { "component", "ID", "only images of this component id" },
        { "type", "T", "only images of this type: app, rt-app or os" },
        {}
};

static const cli_svc_cmd commands[] = {
        { "add", "PKG [--quiet]", 1, 1, add_opts, CLI_SVC_TENANT,
          "Upload an image package; the server verifies and keeps it",
          "Uploads the image package PKG (as 'rampart image-package pack-application'\n"
          "writes it) in pieces, resuming after a piece that fails, then has the server\n"
          "check its signature against the tenant's signing keys ('rampart signing-key')\n"
          "and its image digest. Prints the image's id (-o json: the image). The same\n"
          "package twice is one image: its id again. Contributors.",
          image_add },
        { "list", "[--component ID] [--type T]", 0, 0, list_opts, CLI_SVC_TENANT,
          "List the tenant's images, newest first",
          "Lists the tenant's images, newest first.",
          image_list },
        { "show", "ID", 1, 1, NULL, CLI_SVC_TENANT,
          "Show an image",
          "Shows an image, by its id or its package digest.",
          image_show },
};

int cmd_image(int argc, char **argv) {
        return cli_svc_group("image", "Upload and list the tenant's image packages in rampart-server.", NULL, 0,
                             commands, ELEMENTSOF(commands), argc, argv);
}
