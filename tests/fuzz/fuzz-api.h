/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What fuzz-api-json and fuzz-api-attest share: a rampart-server in process
 * (rp_http_dispatch_raw: routing, authentication, the handlers, the reply;
 * no network) on a SQLite store in a temporary directory, made once with
 * the first operator's token and a tenant "fuzz"; removed at exit. And the
 * check every answer must pass: a status the API gives, never 500 or 503,
 * and an error body that is exactly {"error": {"code", "message"}}. */

#include <ftw.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "api/api.h"
#include "blob/blob.h"
#include "config.h"
#include "core/fileio.h"
#include "http.h"
#include "server.h"
#include "store/db.h"

typedef struct fuzz_api {
        char dir[64];
        rp_server srv;
        rp_db *db;
        char auth[128];                 /* "Bearer rpt_..." of the operator */
} fuzz_api;

static fuzz_api fuzz;

static int fuzz_rm(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
        (void) st;
        (void) flag;
        (void) ftw;
        return remove(path);
}

static void fuzz_api_cleanup(void) {
        rp_db_close(fuzz.db);
        fuzz.db = NULL;
        rp_blob_store_close(fuzz.srv.blobs);
        fuzz.srv.blobs = NULL;
        rp_config_free(&fuzz.srv.cfg);
        if (fuzz.dir[0])
                nftw(fuzz.dir, fuzz_rm, 16, FTW_DEPTH | FTW_PHYS);
}

static void fuzz_die(const char *what, const rp_error *err) {
        fprintf(stderr, "fuzz-api setup: %s: %s\n", what, err ? err->message : "");
        abort();
}

/* One request; aborts unless the answer passes the checks. The body of the
 * answer is returned (malloc'd), and its status. */
static char *fuzz_request(const char *method, const char *uri, const char *auth, const uint8_t *body, size_t len,
                          int *ret_status) {
        int status = 0;
        char *out = NULL;
        if (rp_http_dispatch_raw(&fuzz.srv, fuzz.db, method, uri, auth, body, len, &status, &out) < 0)
                abort();
        static const int allowed[] = { 200, 201, 204, 400, 401, 403, 404, 405, 409, 413 };
        bool ok = false;
        for (size_t i = 0; i < sizeof allowed / sizeof allowed[0]; i++)
                ok |= status == allowed[i];
        if (!ok) {
                fprintf(stderr, "fuzz-api: %s %s answered %d: %s\n", method, uri, status, out);
                abort();
        }
        if (status >= 400) {
                json_error_t e;
                json_t *j = json_loads(out, 0, &e);
                json_t *err = json_object_get(j, "error");
                if (!j || json_object_size(j) != 1 || json_object_size(err) != 2 ||
                    !json_is_string(json_object_get(err, "code")) ||
                    !json_is_string(json_object_get(err, "message"))) {
                        fprintf(stderr, "fuzz-api: %s %s: a malformed error: %s\n", method, uri, out);
                        abort();
                }
                json_decref(j);
        }
        *ret_status = status;
        return out;
}

/* A request that must answer want (set-up steps). */
static void fuzz_expect(const char *method, const char *uri, const char *body, int want) {
        int status;
        char *out = fuzz_request(method, uri, fuzz.auth, (const uint8_t *) body, body ? strlen(body) : 0, &status);
        if (status != want) {
                fprintf(stderr, "fuzz-api setup: %s %s answered %d, not %d: %s\n", method, uri, status, want, out);
                abort();
        }
        free(out);
}

/* The server, its store, its operator and the tenant "fuzz", once. */
static void fuzz_api_setup(void) {
        if (fuzz.db)
                return;
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz.dir, sizeof fuzz.dir, "%s/rampart-fuzz-api.XXXXXX", tmp && strlen(tmp) < 30 ? tmp : "/tmp");
        if (!mkdtemp(fuzz.dir))
                fuzz_die("mkdtemp", NULL);
        atexit(fuzz_api_cleanup);
        char *argv[] = { "rampart-server", "--data-dir", fuzz.dir, NULL };
        int code = 0;
        if (rp_config_load(3, argv, &fuzz.srv.cfg, &code) != RP_CONFIG_RUN)
                fuzz_die("the configuration", NULL);
        char store[128];
        snprintf(store, sizeof store, "sqlite:%s/rampart.db", fuzz.dir);
        rp_error err = {};
        if (rp_blob_store_open(fuzz.srv.cfg.blob_store, &fuzz.srv.blobs, &err) < 0)
                fuzz_die("the blob store", &err);
        bool created = false;
        if (rp_db_open(store, &fuzz.db, &err) < 0)
                fuzz_die("the store", &err);
        if (rp_api_bootstrap(fuzz.db, fuzz.dir, &created, &err) < 0 || !created)
                fuzz_die("the first operator", &err);
        char path[128];
        snprintf(path, sizeof path, "%s/admin.token", fuzz.dir);
        uint8_t *token = NULL;
        size_t len = 0;
        if (rp_read_file(path, 256, &token, &len, &err) < 0 || len < 68)
                fuzz_die("admin.token", &err);
        snprintf(fuzz.auth, sizeof fuzz.auth, "Bearer %.68s", (const char *) token);
        free(token);
        fuzz_expect("POST", "/v1/tenants", "{\"name\": \"fuzz\"}", 201);
}
