/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The store: one SQL connection to SQLite (the embedded default) or
 * PostgreSQL (shared by any number of rampart-server processes), behind a
 * small table of functions (rp_db_backend), one file per backend.
 *
 * Every statement is written once, in the SQL both engines accept:
 *   - parameters are $1, $2, ... (PostgreSQL's form; SQLite binds them by
 *     name), always passed as text (NULL pointer = SQL NULL);
 *   - types: TEXT, BIGINT (times in seconds or microseconds since the epoch),
 *     INTEGER 0/1 for booleans; no BLOB/BYTEA (store hex or PEM), no
 *     autoincrement (ids are random hex made by rp_db_new_id);
 *   - INSERT ... ON CONFLICT DO NOTHING and UPDATE/INSERT ... RETURNING are
 *     fine (SQLite 3.35+, PostgreSQL 9.5+).
 * Results come back as text: a cell is NULL for SQL NULL.
 *
 * A connection is not thread-safe: each worker thread opens its own.
 * Migrations (store/migrate.c) bring the schema up to date at start. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"

typedef struct rp_db rp_db;

/* Rows of text cells, the same shape whatever the backend. */
typedef struct rp_db_result {
        size_t n_rows, n_cols;
        char **cells;           /* n_rows * n_cols, row-major; NULL = SQL NULL */
        uint64_t changes;       /* rows inserted, updated or deleted */
} rp_db_result;

/* Error codes the backends map their engine's errors to:
 *   -EEXIST     a UNIQUE or PRIMARY KEY constraint was violated
 *   -EBUSY      a lock, deadlock or serialization failure: retry the
 *               transaction (rp_db_transact does)
 *   -ENOTCONN   the connection to the server broke (PostgreSQL)
 *   -EINVAL     the statement itself is wrong (a bug in rampart)
 *   -EIO        anything else
 * and always set err's message (without ever quoting parameter values, which
 * may hold secrets). */
typedef struct rp_db_backend {
        const char *name;       /* "sqlite", "postgres" */
        /* target: a file path (sqlite) or a libpq connection URI (postgres). */
        int (*open)(const char *target, rp_db **ret, rp_error *err);
        void (*close)(rp_db *db);
        /* One statement with n_params text parameters for $1..$n. */
        int (*query)(rp_db *db, const char *sql, const char *const *params, size_t n_params,
                     rp_db_result **ret, rp_error *err);
        /* Several statements separated by ';', no parameters (migrations). */
        int (*exec_script)(rp_db *db, const char *sql, rp_error *err);
        /* BEGIN as a write transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL:
         * BEGIN ISOLATION LEVEL READ COMMITTED), COMMIT, ROLLBACK. */
        int (*begin)(rp_db *db, rp_error *err);
        int (*commit)(rp_db *db, rp_error *err);
        int (*rollback)(rp_db *db);
        /* Takes a lock held until the current transaction ends that keeps
         * other processes from migrating at the same time (PostgreSQL:
         * pg_advisory_xact_lock; SQLite: nothing, BEGIN IMMEDIATE is enough). */
        int (*lock_migrations)(rp_db *db, rp_error *err);
} rp_db_backend;

extern const rp_db_backend rp_db_sqlite;
extern const rp_db_backend rp_db_postgres;

/* The backend for a --store value: "postgres://..." and "postgresql://..."
 * pick PostgreSQL, "sqlite:PATH" or a bare path SQLite. *ret_target is the
 * part to pass to open (points into store). NULL with err set if the value
 * names neither. */
const rp_db_backend *rp_db_backend_for(const char *store, const char **ret_target, rp_error *err);

/* Opens the store: picks the backend, connects, and applies pending
 * migrations (refusing a database whose schema is newer than this binary's,
 * with a message saying so). */
int rp_db_open(const char *store, rp_db **ret, rp_error *err);
void rp_db_close(rp_db *db);
static inline void rp_db_closep(rp_db **db) {
        rp_db_close(*db);
}
const rp_db_backend *rp_db_get_backend(const rp_db *db);

/* Runs one statement; ret may be NULL when no result is wanted. */
int rp_db_query(rp_db *db, const char *sql, const char *const *params, size_t n_params,
                rp_db_result **ret, rp_error *err);
/* The same with a NULL-terminated parameter list:
 *     rp_db_queryv(db, &res, err, "SELECT name FROM tenants WHERE id = $1", id, NULL);
 * (each parameter a const char *; pass RP_DB_NULL for SQL NULL). */
extern const char RP_DB_NULL[];
int rp_db_queryv(rp_db *db, rp_db_result **ret, rp_error *err, const char *sql, ...)
        __attribute__((sentinel));

/* Runs fn(db, userdata, err) inside one write transaction and commits; rolls
 * back if fn returns < 0. Retries the whole transaction (up to 5 times, with
 * a short random backoff) when the backend reports -EBUSY. fn must therefore
 * have no effects outside the database until it returns. Every multi-row
 * change goes through here. A statement that fails inside fn dooms the
 * transaction on both backends (later statements are refused, COMMIT rolls
 * back): fn returns the failure; to tolerate a duplicate, use ON CONFLICT DO
 * NOTHING. Returns fn's result (>= 0) once committed. */
typedef int (*rp_db_tx_fn)(rp_db *db, void *userdata, rp_error *err);
int rp_db_transact(rp_db *db, rp_db_tx_fn fn, void *userdata, rp_error *err);

/* Result access. get() returns NULL for SQL NULL or out-of-range indexes. */
const char *rp_db_result_get(const rp_db_result *r, size_t row, size_t col);
/* The cell as an int64; def if NULL or not a number. */
int64_t rp_db_result_int(const rp_db_result *r, size_t row, size_t col, int64_t def);
void rp_db_result_free(rp_db_result *r);
static inline void rp_db_result_freep(rp_db_result **r) {
        rp_db_result_free(*r);
}
/* For backends: a result of n_rows x n_cols cells (all NULL), or NULL when
 * out of memory. Cells are malloc'd strings the result owns. */
rp_db_result *rp_db_result_new(size_t n_rows, size_t n_cols);

/* A new random id: 32 lowercase hex digits (16 bytes from the CSPRNG). */
#define RP_DB_ID_LEN 32
int rp_db_new_id(char ret[RP_DB_ID_LEN + 1]);

/* Decimal text for an int64 parameter, in a caller's buffer. */
#define RP_DB_INT_STRLEN 21
const char *rp_db_int(int64_t v, char buf[RP_DB_INT_STRLEN]);

/* The schema version this binary writes (store/migrate.c), and the one the
 * database has. */
int rp_db_schema_latest(void);
int rp_db_schema_version(rp_db *db, int *ret, rp_error *err);
