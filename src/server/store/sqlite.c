/* SPDX-License-Identifier: Apache-2.0 */
/* The SQLite backend: the embedded default. One connection per worker
 * thread (SQLITE_OPEN_NOMUTEX), the database in WAL mode with
 * synchronous=FULL: a transaction that COMMIT reported is on disk, and
 * readers never wait for the writer. Writers queue on the database's one
 * write lock (busy_timeout), and what is still busy after that is -EBUSY
 * for rp_db_transact to retry. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <sqlite3.h>

#include "core/macro.h"
#include "store/db_internal.h"

/* How long a statement waits for another connection's write lock. */
#define BUSY_TIMEOUT_MS 5000
/* Prepared statements kept per connection (the server runs a few dozen
 * distinct statements; preparing one costs more than running it). */
#define STMT_CACHE 48

typedef struct cached_stmt {
        char *sql;
        sqlite3_stmt *stmt;
        uint64_t last_used;
} cached_stmt;

typedef struct sqlite_db {
        struct rp_db base;
        sqlite3 *conn;
        char *path;
        /* Inside begin..commit, and whether a statement in it failed: then,
         * as PostgreSQL does, every further statement is refused and COMMIT
         * rolls back, so code tried on SQLite behaves the same on both. */
        bool in_tx, tx_failed;
        cached_stmt cache[STMT_CACHE];
        uint64_t tick;
} sqlite_db;

static sqlite_db *to_sqlite(rp_db *db) {
        RP_INVARIANT(db->backend == &rp_db_sqlite);
        return (sqlite_db *)db;
}

/* Maps an (extended) SQLite result code to db.h's codes. */
static int map_code(int rc) {
        switch (rc) {
        case SQLITE_CONSTRAINT_UNIQUE:
        case SQLITE_CONSTRAINT_PRIMARYKEY:
                return -EEXIST;
        case SQLITE_NOMEM:
                return -ENOMEM;
        case SQLITE_FULL:
                return -ENOSPC;
        }
        switch (rc & 0xff) {
        case SQLITE_BUSY:
        case SQLITE_LOCKED:
                return -EBUSY;
        case SQLITE_ERROR:              /* syntax, no such table or column */
        case SQLITE_CONSTRAINT:         /* NOT NULL, FOREIGN KEY, CHECK: rampart's bug */
        case SQLITE_MISMATCH:
        case SQLITE_RANGE:
        case SQLITE_TOOBIG:
                return -EINVAL;
        default:
                return -EIO;
        }
}

/* Sets err from the connection's last error and returns the mapped code. */
static int fail(sqlite_db *s, int rc, const char *sql, rp_error *err) {
        int code = map_code(rc);
        if (s->in_tx)
                s->tx_failed = true;
        const char *msg = s->conn ? sqlite3_errmsg(s->conn) : sqlite3_errstr(rc);
        if ((rc & 0xff) == SQLITE_NOTADB)
                return rp_error_set(err, code, "SQLite store %s: not an SQLite database (%s)", s->path, msg);
        if (!sql)
                return rp_error_set(err, code, "SQLite store %s: %s", s->path, msg);
        char excerpt[96];
        return rp_error_set(err, code, "SQLite store %s: %s (in \"%s\")", s->path, msg,
                            rp_db_sql_excerpt(sql, excerpt, sizeof excerpt));
}

static void sqlite_close(rp_db *db) {
        if (!db)
                return;
        sqlite_db *s = to_sqlite(db);
        for (size_t i = 0; i < STMT_CACHE; i++) {
                sqlite3_finalize(s->cache[i].stmt);
                free(s->cache[i].sql);
        }
        sqlite3_close_v2(s->conn);
        free(s->path);
        free(s);
}

static void sqlite_dbp(sqlite_db **s) {
        if (*s)
                sqlite_close(&(*s)->base);
}

/* Runs one statement without parameters and, if ret_text is given, copies
 * the first column of its first row into it (size bytes). */
static int exec_one(sqlite_db *s, const char *sql, char *ret_text, size_t size, rp_error *err) {
        sqlite3_stmt *stmt = NULL;
        int rc = sqlite3_prepare_v2(s->conn, sql, -1, &stmt, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, sql, err);
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && ret_text) {
                const unsigned char *t = sqlite3_column_text(stmt, 0);
                snprintf(ret_text, size, "%s", t ? (const char *)t : "");
        }
        while (rc == SQLITE_ROW)
                rc = sqlite3_step(stmt);
        if (rc != SQLITE_DONE) {
                int r = fail(s, rc, sql, err);
                sqlite3_finalize(stmt);
                return r;
        }
        sqlite3_finalize(stmt);
        return 0;
}

static int sqlite_open(const char *target, rp_db **ret, rp_error *err) {
        _cleanup_(sqlite_dbp) sqlite_db *s = calloc(1, sizeof *s);
        if (!s || !(s->path = strdup(target)))
                return rp_error_set(err, -ENOMEM, "SQLite store %s: out of memory", target);
        s->base.backend = &rp_db_sqlite;

        bool memory = streq(target, ":memory:");
        if (!memory) {
                /* SQLite would create the file 0644; its -wal and -shm files
                 * take the database file's mode. An existing file is never
                 * opened here: closing any descriptor of it would drop the
                 * POSIX locks every connection of this process holds on it,
                 * and another process closing last would then checkpoint
                 * and delete the WAL under us. */
                struct stat st;
                if (stat(target, &st) < 0) {
                        _cleanup_close_ int fd = open(target, O_RDWR | O_CREAT | O_CLOEXEC | O_NOCTTY, 0600);
                        if (fd < 0 || fstat(fd, &st) < 0)
                                return rp_error_set_errno(err, -errno, "SQLite store %s: cannot open", target);
                }
                if (!S_ISREG(st.st_mode))
                        return rp_error_set(err, -EINVAL, "SQLite store %s: not a regular file", target);
        }

        int rc = sqlite3_open_v2(target, &s->conn,
                                 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX |
                                 SQLITE_OPEN_EXRESCODE, NULL);
        if (rc != SQLITE_OK)
                return fail(s, rc, NULL, err);
        sqlite3_extended_result_codes(s->conn, 1);
        sqlite3_busy_timeout(s->conn, BUSY_TIMEOUT_MS);
        /* The schema is rampart's own: no writing to sqlite_schema, no
         * functions with side effects called from it. */
        sqlite3_db_config(s->conn, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);
        sqlite3_db_config(s->conn, SQLITE_DBCONFIG_TRUSTED_SCHEMA, 0, NULL);

        /* The first statement reads the file: a file that is not a database
         * fails here (SQLITE_NOTADB). */
        char mode[16] = "";
        int r = exec_one(s, "PRAGMA journal_mode=WAL", mode, sizeof mode, err);
        if (r < 0)
                return r;
        if (!streq(mode, "wal") && !(memory && streq(mode, "memory")))
                return rp_error_set(err, -EIO, "SQLite store %s: cannot use write-ahead logging "
                                    "(journal mode is \"%s\")", target, mode);
        r = exec_one(s, "PRAGMA synchronous=FULL", NULL, 0, err);
        if (r < 0)
                return r;
        r = exec_one(s, "PRAGMA foreign_keys=ON", NULL, 0, err);
        if (r < 0)
                return r;

        *ret = &TAKE_PTR(s)->base;
        return 0;
}

/* Binds params to $1..$n by name, and checks the statement names no other
 * parameter (PostgreSQL would refuse that too). */
static int bind_params(sqlite_db *s, sqlite3_stmt *stmt, const char *sql, const char *const *params,
                       size_t n_params, rp_error *err) {
        char excerpt[96];
        int n_stmt = sqlite3_bind_parameter_count(stmt);
        for (int j = 1; j <= n_stmt; j++) {
                const char *name = sqlite3_bind_parameter_name(stmt, j);
                char *end = NULL;
                unsigned long k = name && name[0] == '$' && name[1] >= '1' && name[1] <= '9'
                                  ? strtoul(name + 1, &end, 10) : 0;
                if (k == 0 || *end != '\0' || k > n_params)
                        return rp_error_set(err, -EINVAL, "SQLite store %s: parameter %s has no value "
                                            "(%zu given) (in \"%s\")", s->path, name ? name : "?", n_params,
                                            rp_db_sql_excerpt(sql, excerpt, sizeof excerpt));
        }
        for (size_t i = 0; i < n_params; i++) {
                char name[24];
                snprintf(name, sizeof name, "$%zu", i + 1);
                int idx = sqlite3_bind_parameter_index(stmt, name);
                if (idx == 0)
                        return rp_error_set(err, -EINVAL, "SQLite store %s: the statement does not use %s "
                                            "(%zu parameters given) (in \"%s\")", s->path, name, n_params,
                                            rp_db_sql_excerpt(sql, excerpt, sizeof excerpt));
                int rc = params[i] ? sqlite3_bind_text(stmt, idx, params[i], -1, SQLITE_STATIC)
                                   : sqlite3_bind_null(stmt, idx);
                if (rc != SQLITE_OK)
                        return fail(s, rc, sql, err);
        }
        return 0;
}

/* The prepared statement for sql, from the cache or prepared now (and
 * cached, in place of the least recently used). Refuses more than one
 * statement. */
static int prepare(sqlite_db *s, const char *sql, sqlite3_stmt **ret, rp_error *err) {
        cached_stmt *slot = &s->cache[0];
        for (size_t i = 0; i < STMT_CACHE; i++) {
                cached_stmt *c = &s->cache[i];
                if (c->stmt && streq(c->sql, sql)) {
                        c->last_used = ++s->tick;
                        *ret = c->stmt;
                        return 0;
                }
                if (!c->stmt || c->last_used < slot->last_used)
                        slot = c;
                if (!slot->stmt)
                        break;
        }

        sqlite3_stmt *stmt = NULL;
        const char *tail = NULL;
        int rc = sqlite3_prepare_v3(s->conn, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, &tail);
        if (rc != SQLITE_OK)
                return fail(s, rc, sql, err);
        if (!stmt)
                return rp_error_set(err, -EINVAL, "SQLite store %s: an empty statement", s->path);
        tail += strspn(tail, " \t\r\n;");
        if (*tail) {
                sqlite3_finalize(stmt);
                char excerpt[96];
                return rp_error_set(err, -EINVAL, "SQLite store %s: more than one statement (in \"%s\")",
                                    s->path, rp_db_sql_excerpt(sql, excerpt, sizeof excerpt));
        }
        char *copy = strdup(sql);
        if (!copy) {
                sqlite3_finalize(stmt);
                return rp_error_set(err, -ENOMEM, "SQLite store %s: out of memory", s->path);
        }
        sqlite3_finalize(slot->stmt);
        free(slot->sql);
        *slot = (cached_stmt){ .sql = copy, .stmt = stmt, .last_used = ++s->tick };
        *ret = stmt;
        return 0;
}

/* Makes a cached statement ready for its next use: no rows pending, no
 * pointers to this call's parameters kept. */
static void releasep(sqlite3_stmt **stmt) {
        if (!*stmt)
                return;
        sqlite3_reset(*stmt);
        sqlite3_clear_bindings(*stmt);
}

/* The rows read so far: a growing array of cells. */
typedef struct cells {
        char **v;
        size_t n, cap;
} cells;

static void cells_done(cells *c) {
        for (size_t i = 0; i < c->n; i++)
                if (c->v[i]) {
                        OPENSSL_cleanse(c->v[i], strlen(c->v[i]));
                        free(c->v[i]);
                }
        free(c->v);
}

static int read_row(cells *c, sqlite3_stmt *stmt, size_t n_cols) {
        if (c->cap - c->n < n_cols) {
                size_t cap = c->cap ? c->cap * 2 : 16 * (n_cols ? n_cols : 1);
                while (cap - c->n < n_cols)
                        cap *= 2;
                char **v = reallocarray(c->v, cap, sizeof *v);
                if (!v)
                        return -ENOMEM;
                c->v = v;
                c->cap = cap;
        }
        for (size_t col = 0; col < n_cols; col++) {
                char *cell = NULL;
                if (sqlite3_column_type(stmt, (int)col) != SQLITE_NULL) {
                        const unsigned char *t = sqlite3_column_text(stmt, (int)col);
                        if (!t)
                                return -ENOMEM;
                        cell = strndup((const char *)t, (size_t)sqlite3_column_bytes(stmt, (int)col));
                        if (!cell)
                                return -ENOMEM;
                }
                c->v[c->n++] = cell;
        }
        return 0;
}

static int query_one(sqlite_db *s, const char *sql, const char *const *params, size_t n_params,
                     rp_db_result **ret, rp_error *err) {
        _cleanup_(releasep) sqlite3_stmt *stmt = NULL;
        int rc;
        int p = prepare(s, sql, &stmt, err);
        if (p < 0)
                return p;
        int r = bind_params(s, stmt, sql, params, n_params, err);
        if (r < 0)
                return r;

        size_t n_cols = (size_t)sqlite3_column_count(stmt);
        sqlite3_int64 before = sqlite3_total_changes64(s->conn);
        _cleanup_(cells_done) cells c = {};
        while ((rc = sqlite3_step(stmt)) == SQLITE_ROW)
                if (ret && read_row(&c, stmt, n_cols) < 0)
                        return rp_error_set(err, -ENOMEM, "SQLite store %s: out of memory", s->path);
        if (rc != SQLITE_DONE)
                return fail(s, rc, sql, err);
        if (!ret)
                return 0;

        size_t n_rows = n_cols ? c.n / n_cols : 0;
        rp_db_result *res = rp_db_result_new(n_rows, n_cols);
        if (!res)
                return rp_error_set(err, -ENOMEM, "SQLite store %s: out of memory", s->path);
        if (c.n)
                memcpy(res->cells, c.v, c.n * sizeof *c.v);
        c.n = 0;                /* the cells are the result's now */
        res->changes = (uint64_t)(sqlite3_total_changes64(s->conn) - before);
        *ret = res;
        return 0;
}

/* A statement inside a transaction in which one already failed. */
static int refuse_aborted(sqlite_db *s, rp_error *err) {
        return rp_error_set(err, -EIO, "SQLite store %s: a statement in this transaction failed, so it "
                            "will be rolled back (as PostgreSQL does)", s->path);
}

static int sqlite_query(rp_db *db, const char *sql, const char *const *params, size_t n_params,
                        rp_db_result **ret, rp_error *err) {
        sqlite_db *s = to_sqlite(db);
        if (s->in_tx && s->tx_failed)
                return refuse_aborted(s, err);
        int r = query_one(s, sql, params, n_params, ret, err);
        if (r < 0 && s->in_tx)
                s->tx_failed = true;
        return r;
}

static int sqlite_exec_script(rp_db *db, const char *sql, rp_error *err) {
        sqlite_db *s = to_sqlite(db);
        if (s->in_tx && s->tx_failed)
                return refuse_aborted(s, err);
        int rc = sqlite3_exec(s->conn, sql, NULL, NULL, NULL);
        if (rc != SQLITE_OK)
                return fail(s, sqlite3_extended_errcode(s->conn), sql, err);
        return 0;
}

static int sqlite_begin(rp_db *db, rp_error *err) {
        sqlite_db *s = to_sqlite(db);
        /* IMMEDIATE: take the write lock now, so that a transaction never
         * fails halfway because it read first and then wanted to write. */
        int r = exec_one(s, "BEGIN IMMEDIATE", NULL, 0, err);
        if (r < 0)
                return r;
        s->in_tx = true;
        s->tx_failed = false;
        return 0;
}

static int sqlite_rollback(rp_db *db) {
        sqlite_db *s = to_sqlite(db);
        s->in_tx = s->tx_failed = false;
        if (sqlite3_get_autocommit(s->conn))
                return 0;       /* not in a transaction (some errors end it) */
        return exec_one(s, "ROLLBACK", NULL, 0, NULL);
}

static int sqlite_commit(rp_db *db, rp_error *err) {
        sqlite_db *s = to_sqlite(db);
        if (s->in_tx && s->tx_failed) {
                sqlite_rollback(db);
                return rp_error_set(err, -EIO, "SQLite store %s: the transaction was rolled back at COMMIT "
                                    "(a statement in it had failed)", s->path);
        }
        int r = exec_one(s, "COMMIT", NULL, 0, err);
        /* A COMMIT that failed busy leaves the transaction open, for
         * rollback() (or another COMMIT). */
        if (r >= 0)
                s->in_tx = false;
        return r;
}

static int sqlite_lock_migrations(rp_db *db, rp_error *err) {
        return 0;               /* BEGIN IMMEDIATE holds the one write lock */
}

sqlite3 *rp_db_sqlite_handle(rp_db *db) {
        return to_sqlite(db)->conn;
}

const rp_db_backend rp_db_sqlite = {
        .name = "sqlite",
        .open = sqlite_open,
        .close = sqlite_close,
        .query = sqlite_query,
        .exec_script = sqlite_exec_script,
        .begin = sqlite_begin,
        .commit = sqlite_commit,
        .rollback = sqlite_rollback,
        .lock_migrations = sqlite_lock_migrations,
};
