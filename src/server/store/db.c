/* SPDX-License-Identifier: Apache-2.0 */
/* The store's common half: picking a backend, transactions with retries,
 * results, ids. The backends (sqlite.c, postgres.c) do the talking. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "store/db_internal.h"

/* A unique address: rp_db_queryv passes SQL NULL where it sees it. */
const char RP_DB_NULL[1] = "";

/* rp_db_transact: how many times a transaction is tried again after -EBUSY,
 * and the longest pause before a try (a random part of it, growing with
 * each try, so that two writers that collided do not collide again). */
#define TX_RETRIES 5
#define TX_BACKOFF_MAX_MS 50

static bool has_prefix(const char *s, const char *prefix) {
        return strncmp(s, prefix, strlen(prefix)) == 0;
}

const rp_db_backend *rp_db_backend_for(const char *store, const char **ret_target, rp_error *err) {
        if (!store || !*store) {
                rp_error_set(err, -EINVAL, "store: empty; expected sqlite:PATH, a path, or postgres://...");
                return NULL;
        }
        if (has_prefix(store, "postgres://") || has_prefix(store, "postgresql://")) {
                *ret_target = store;
                return &rp_db_postgres;
        }
        const char *target = store;
        if (has_prefix(store, "sqlite:"))
                target = store + strlen("sqlite:");
        else if (strstr(store, "://")) {
                /* Never quote the rest: a URI may carry a password. */
                int n = (int)(strstr(store, "://") - store);
                rp_error_set(err, -EINVAL, "store: unknown kind \"%.*s://\"; expected sqlite:PATH, a path, "
                             "or postgres://...", n > 32 ? 32 : n, store);
                return NULL;
        }
        if (!*target) {
                rp_error_set(err, -EINVAL, "store \"%s\": no file named after \"sqlite:\"", store);
                return NULL;
        }
        *ret_target = target;
        return &rp_db_sqlite;
}

int rp_db_open(const char *store, rp_db **ret, rp_error *err) {
        const char *target = NULL;
        const rp_db_backend *backend = rp_db_backend_for(store, &target, err);
        if (!backend)
                return err ? err->code : -EINVAL;

        _cleanup_(rp_db_closep) rp_db *db = NULL;
        int r = backend->open(target, &db, err);
        if (r < 0)
                return r;
        RP_INVARIANT(db->backend == backend);
        r = rp_db_migrate(db, err);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(db);
        return 0;
}

void rp_db_close(rp_db *db) {
        if (db)
                db->backend->close(db);
}

const rp_db_backend *rp_db_get_backend(const rp_db *db) {
        return db->backend;
}

int rp_db_query(rp_db *db, const char *sql, const char *const *params, size_t n_params,
                rp_db_result **ret, rp_error *err) {
        if (n_params > RP_DB_MAX_PARAMS)
                return rp_error_set(err, -EINVAL, "store: a statement with %zu parameters (at most %d)",
                                    n_params, RP_DB_MAX_PARAMS);
        return db->backend->query(db, sql, params, n_params, ret, err);
}

int rp_db_queryv(rp_db *db, rp_db_result **ret, rp_error *err, const char *sql, ...) {
        const char *params[RP_DB_MAX_PARAMS];
        size_t n = 0;
        va_list ap;
        va_start(ap, sql);
        for (const char *p; (p = va_arg(ap, const char *));) {
                if (n == RP_DB_MAX_PARAMS) {
                        va_end(ap);
                        return rp_error_set(err, -EINVAL, "store: a statement with more than %d parameters",
                                            RP_DB_MAX_PARAMS);
                }
                params[n++] = p == RP_DB_NULL ? NULL : p;
        }
        va_end(ap);
        return rp_db_query(db, sql, params, n, ret, err);
}

/* Sleeps a random time below (attempt + 1) * TX_BACKOFF_MAX_MS / 2 ms. */
static void backoff(unsigned attempt) {
        uint16_t rnd = 0;
        if (RAND_bytes((unsigned char *)&rnd, sizeof rnd) != 1)
                rnd = (uint16_t)(attempt * 7919u);     /* still a pause, just not random */
        unsigned max_us = (attempt + 1) * TX_BACKOFF_MAX_MS * 1000u / 2;
        unsigned us = 1000 + rnd % max_us;
        struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };
        while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
}

int rp_db_transact(rp_db *db, rp_db_tx_fn fn, void *userdata, rp_error *err) {
        const rp_db_backend *b = db->backend;
        int r = 0;
        for (unsigned attempt = 0; attempt <= TX_RETRIES; attempt++) {
                if (attempt > 0) {
                        backoff(attempt);
                        rp_error_clear(err);
                }
                r = b->begin(db, err);
                if (r == -EBUSY)
                        continue;
                if (r < 0)
                        return r;
                r = fn(db, userdata, err);
                if (r >= 0) {
                        int c = b->commit(db, err);
                        if (c >= 0)
                                return r;
                        r = c;
                }
                b->rollback(db);
                if (r != -EBUSY)
                        return r;
        }
        return rp_error_prefix(err, r, "gave up after %d tries, the store stayed busy: ", TX_RETRIES + 1);
}

rp_db_result *rp_db_result_new(size_t n_rows, size_t n_cols) {
        if (n_cols && n_rows > SIZE_MAX / n_cols)
                return NULL;
        rp_db_result *r = calloc(1, sizeof *r);
        if (!r)
                return NULL;
        size_t n = n_rows * n_cols;
        r->cells = calloc(n ? n : 1, sizeof *r->cells);
        if (!r->cells) {
                free(r);
                return NULL;
        }
        r->n_rows = n_rows;
        r->n_cols = n_cols;
        return r;
}

void rp_db_result_free(rp_db_result *r) {
        if (!r)
                return;
        /* Cells may hold secrets (a tenant CA's key). */
        for (size_t i = 0; i < r->n_rows * r->n_cols; i++)
                if (r->cells[i]) {
                        OPENSSL_cleanse(r->cells[i], strlen(r->cells[i]));
                        free(r->cells[i]);
                }
        free(r->cells);
        free(r);
}

const char *rp_db_result_get(const rp_db_result *r, size_t row, size_t col) {
        if (!r || row >= r->n_rows || col >= r->n_cols)
                return NULL;
        return r->cells[row * r->n_cols + col];
}

int64_t rp_db_result_int(const rp_db_result *r, size_t row, size_t col, int64_t def) {
        const char *s = rp_db_result_get(r, row, col);
        if (!s || !*s)
                return def;
        char *end = NULL;
        errno = 0;
        long long v = strtoll(s, &end, 10);
        if (errno != 0 || *end != '\0')
                return def;
        return (int64_t)v;
}

int rp_db_new_id(char ret[RP_DB_ID_LEN + 1]) {
        uint8_t b[RP_DB_ID_LEN / 2];
        if (RAND_bytes(b, sizeof b) != 1)
                return -EIO;
        rp_hex_encode_buf(b, sizeof b, ret);
        return 0;
}

const char *rp_db_int(int64_t v, char buf[RP_DB_INT_STRLEN]) {
        snprintf(buf, RP_DB_INT_STRLEN, "%" PRId64, v);
        return buf;
}

const char *rp_db_sql_excerpt(const char *sql, char *buf, size_t size) {
        /* One line, whitespace runs folded, cut with "..." when long. */
        size_t o = 0;
        bool space = false;
        RP_INVARIANT(size >= 4);
        for (const char *p = sql; *p; p++) {
                bool ws = *p == ' ' || *p == '\n' || *p == '\t' || *p == '\r';
                if (ws) {
                        space = o > 0;
                        continue;
                }
                size_t need = space ? 2 : 1;
                if (o + need > size - 4) {
                        memcpy(buf + o, "...", 3);
                        o += 3;
                        break;
                }
                if (space)
                        buf[o++] = ' ';
                space = false;
                buf[o++] = (char)((unsigned char)*p < 0x20 ? '?' : *p);
        }
        buf[o] = '\0';
        return buf;
}
