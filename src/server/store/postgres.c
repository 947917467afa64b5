/* SPDX-License-Identifier: Apache-2.0 */
/* The PostgreSQL backend: the store any number of rampart-server processes
 * share. One libpq connection per worker thread; statements go as
 * PQexecParams with text parameters. Nothing waits forever: connecting is
 * bounded by connect_timeout, each statement by statement_timeout, a peer
 * that vanished by TCP keepalives and tcp_user_timeout. A connection that
 * broke is reconnected once before the next transaction or statement that
 * is not inside a transaction (inside one, the transaction is lost:
 * -ENOTCONN). Messages name the database as postgres://USER@HOST:PORT/DB,
 * never with its password. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>
#include <openssl/crypto.h>

#include "core/macro.h"
#include "store/db_internal.h"

/* Session settings, set at connect and after each reconnect. */
#define STATEMENT_TIMEOUT_MS "10000"
#define IDLE_IN_TX_TIMEOUT_MS "60000"
#define CONNECT_TIMEOUT_S "10"

/* pg_advisory_xact_lock's key for migrations: "rampart" as a big-endian
 * integer. */
#define MIGRATION_LOCK_KEY "32195270009778804"

typedef struct pg_db {
        struct rp_db base;
        PGconn *conn;
        char where[256];        /* postgres://USER@HOST:PORT/DB, for messages */
        char *password;         /* only to keep it out of messages; wiped at close */
        bool in_tx;
} pg_db;

static pg_db *to_pg(rp_db *db) {
        RP_INVARIANT(db->backend == &rp_db_postgres);
        return (pg_db *)db;
}

static void ignore_notice(void *arg, const char *message) {
        /* A library never prints: libpq's default writes notices to stderr. */
}

/* msg without trailing newlines and with the password (if it appears)
 * masked, into buf. */
static const char *clean_message(const pg_db *p, const char *msg, char *buf, size_t size) {
        /* libpq's messages span lines ("...failed: ...\n\tIs the server
         * running..."): one line, whitespace runs folded. */
        size_t o = 0;
        bool space = false;
        for (const char *c = msg ? msg : ""; *c && o + 2 < size; c++) {
                if (*c == '\n' || *c == '\t' || *c == '\r' || *c == ' ') {
                        space = o > 0;
                        continue;
                }
                if (space)
                        buf[o++] = ' ';
                space = false;
                buf[o++] = *c;
        }
        buf[o] = '\0';
        size_t pl = p->password ? strlen(p->password) : 0;
        if (pl > 0)
                for (char *hit; (hit = strstr(buf, p->password));)
                        memset(hit, '*', pl);
        return buf;
}

/* The error of a failed statement (res may be NULL): sets err, returns the
 * code db.h names. */
static int fail(pg_db *p, PGresult *res, const char *sql, rp_error *err) {
        char msg[RP_ERROR_MAX], excerpt[96];
        if (sql)
                rp_db_sql_excerpt(sql, excerpt, sizeof excerpt);
        else
                excerpt[0] = '\0';
        const char *in = sql ? " (in \"" : "";
        const char *end = sql ? "\")" : "";

        if (PQstatus(p->conn) == CONNECTION_BAD)
                return rp_error_set(err, -ENOTCONN, "PostgreSQL store %s: connection lost: %s%s%s%s", p->where,
                                    clean_message(p, PQerrorMessage(p->conn), msg, sizeof msg), in, excerpt, end);
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (!state)
                return rp_error_set(err, res ? -EIO : -ENOMEM, "PostgreSQL store %s: %s%s%s%s", p->where,
                                    clean_message(p, PQerrorMessage(p->conn), msg, sizeof msg), in, excerpt, end);

        int code = -EIO;
        if (streq(state, "23505"))
                code = -EEXIST;
        else if (streq(state, "40001") || streq(state, "40P01") || streq(state, "55P03"))
                code = -EBUSY;
        else if (strncmp(state, "08", 2) == 0 && !streq(state, "08P01"))
                code = -ENOTCONN;
        else if (strncmp(state, "42", 2) == 0 || strncmp(state, "23", 2) == 0 ||
                 strncmp(state, "22", 2) == 0 || streq(state, "08P01"))
                code = -EINVAL;
        else if (streq(state, "53100"))
                code = -ENOSPC;
        else if (streq(state, "53200"))
                code = -ENOMEM;

        /* Only the primary message: the detail quotes key values, and data
         * exceptions (class 22) quote the offending value in the primary. */
        if (strncmp(state, "22", 2) == 0)
                snprintf(msg, sizeof msg, "a value does not fit its column's type");
        else
                clean_message(p, PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY), msg, sizeof msg);
        if (streq(state, "57014"))
                snprintf(msg, sizeof msg, "statement cancelled after %s ms (statement_timeout) or by the "
                         "administrator", STATEMENT_TIMEOUT_MS);
        return rp_error_set(err, code, "PostgreSQL store %s: %s (SQLSTATE %s)%s%s%s", p->where, msg, state,
                            in, excerpt, end);
}

static void pqclearp(PGresult **res) {
        PQclear(*res);
}

/* Sets what every session of ours needs: bounds on how long a statement
 * runs and a transaction may sit idle. */
static int setup_session(pg_db *p, rp_error *err) {
        PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
        static const char sql[] =
                "SET statement_timeout = " STATEMENT_TIMEOUT_MS ";"
                "SET idle_in_transaction_session_timeout = " IDLE_IN_TX_TIMEOUT_MS ";"
                "SET client_min_messages = warning";
        _cleanup_(pqclearp) PGresult *res = PQexec(p->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                return fail(p, res, sql, err);
        return 0;
}

/* Before a transaction or a statement outside one: if the connection
 * broke since the last statement, reconnect, once. */
static int ensure_connected(pg_db *p, rp_error *err) {
        if (PQstatus(p->conn) == CONNECTION_OK)
                return 0;
        if (p->in_tx) {
                p->in_tx = false;
                return fail(p, NULL, NULL, err);
        }
        PQreset(p->conn);
        if (PQstatus(p->conn) != CONNECTION_OK) {
                char msg[RP_ERROR_MAX];
                return rp_error_set(err, -ENOTCONN, "PostgreSQL store %s: connection lost, and reconnecting "
                                    "failed: %s", p->where,
                                    clean_message(p, PQerrorMessage(p->conn), msg, sizeof msg));
        }
        return setup_session(p, err);
}

static void pg_close(rp_db *db) {
        if (!db)
                return;
        pg_db *p = to_pg(db);
        PQfinish(p->conn);
        if (p->password) {
                OPENSSL_cleanse(p->password, strlen(p->password));
                free(p->password);
        }
        free(p);
}

static void pg_dbp(pg_db **p) {
        if (*p)
                pg_close(&(*p)->base);
}

static void conninfo_freep(PQconninfoOption **o) {
        if (*o)
                PQconninfoFree(*o);
}

/* Reads the URI's parts: p->where (without the password) and p->password. */
static int describe(pg_db *p, const char *uri, rp_error *err) {
        char *errmsg = NULL;
        _cleanup_(conninfo_freep) PQconninfoOption *opts = PQconninfoParse(uri, &errmsg);
        if (!opts) {
                if (!errmsg)
                        return rp_error_set(err, -ENOMEM, "PostgreSQL store: out of memory");
                /* libpq quotes the part it could not read, which may be the
                 * password: keep only the text before the quote. */
                char msg[RP_ERROR_MAX];
                snprintf(msg, sizeof msg, "%s", errmsg);
                PQfreemem(errmsg);
                msg[strcspn(msg, "\"\n")] = '\0';
                return rp_error_set(err, -EINVAL, "PostgreSQL store: not a valid connection URI: %s", msg);
        }
        const char *user = NULL, *host = NULL, *port = NULL, *dbname = NULL;
        char *password = NULL;
        for (PQconninfoOption *o = opts; o->keyword; o++) {
                if (!o->val)
                        continue;
                if (streq(o->keyword, "user"))
                        user = o->val;
                else if (streq(o->keyword, "host"))
                        host = o->val;
                else if (streq(o->keyword, "port"))
                        port = o->val;
                else if (streq(o->keyword, "dbname"))
                        dbname = o->val;
                else if (streq(o->keyword, "password"))
                        password = o->val;
        }
        snprintf(p->where, sizeof p->where, "postgres://%s%s%s%s%s/%s", user ? user : "", user ? "@" : "",
                 host ? host : "", port ? ":" : "", port ? port : "", dbname ? dbname : "");
        if (password && *password) {
                p->password = strdup(password);
                OPENSSL_cleanse(password, strlen(password));    /* ours to wipe: opts is a copy */
                if (!p->password)
                        return rp_error_set(err, -ENOMEM, "PostgreSQL store: out of memory");
        }
        return 0;
}

static int pg_open(const char *target, rp_db **ret, rp_error *err) {
        _cleanup_(pg_dbp) pg_db *p = calloc(1, sizeof *p);
        if (!p)
                return rp_error_set(err, -ENOMEM, "PostgreSQL store: out of memory");
        p->base.backend = &rp_db_postgres;
        int r = describe(p, target, err);
        if (r < 0)
                return r;

        /* Our defaults first: what the URI says wins (expand_dbname). */
        const char *const keys[] = { "connect_timeout", "keepalives", "keepalives_idle",
                                     "keepalives_interval", "keepalives_count", "tcp_user_timeout",
                                     "application_name", "client_encoding", "dbname", NULL };
        const char *const values[] = { CONNECT_TIMEOUT_S, "1", "10", "5", "3", "30000",
                                       "rampart-server", "UTF8", target, NULL };
        p->conn = PQconnectdbParams(keys, values, 1);
        if (!p->conn)
                return rp_error_set(err, -ENOMEM, "PostgreSQL store %s: out of memory", p->where);
        if (PQstatus(p->conn) != CONNECTION_OK) {
                char msg[RP_ERROR_MAX];
                return rp_error_set(err, -ENOTCONN, "PostgreSQL store %s: cannot connect: %s", p->where,
                                    clean_message(p, PQerrorMessage(p->conn), msg, sizeof msg));
        }
        r = setup_session(p, err);
        if (r < 0)
                return r;
        *ret = &TAKE_PTR(p)->base;
        return 0;
}

static char *dup_or_null(PGresult *res, int row, int col, bool *oom) {
        if (PQgetisnull(res, row, col))
                return NULL;
        char *s = strdup(PQgetvalue(res, row, col));
        if (!s)
                *oom = true;
        return s;
}

static int pg_query(rp_db *db, const char *sql, const char *const *params, size_t n_params,
                    rp_db_result **ret, rp_error *err) {
        pg_db *p = to_pg(db);
        int r = ensure_connected(p, err);
        if (r < 0)
                return r;
        _cleanup_(pqclearp) PGresult *res = PQexecParams(p->conn, sql, (int)n_params, NULL, params, NULL,
                                                          NULL, 0);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                return fail(p, res, sql, err);
        if (!ret)
                return 0;

        size_t n_rows = (size_t)PQntuples(res), n_cols = (size_t)PQnfields(res);
        _cleanup_(rp_db_result_freep) rp_db_result *out = rp_db_result_new(n_rows, n_cols);
        if (!out)
                return rp_error_set(err, -ENOMEM, "PostgreSQL store %s: out of memory", p->where);
        bool oom = false;
        for (size_t row = 0; row < n_rows; row++)
                for (size_t col = 0; col < n_cols; col++)
                        out->cells[row * n_cols + col] = dup_or_null(res, (int)row, (int)col, &oom);
        if (oom)
                return rp_error_set(err, -ENOMEM, "PostgreSQL store %s: out of memory", p->where);
        /* PQcmdTuples also counts the rows a SELECT returned. */
        const char *tag = PQcmdStatus(res), *changes = PQcmdTuples(res);
        bool writes = strncmp(tag, "INSERT ", 7) == 0 || strncmp(tag, "UPDATE ", 7) == 0 ||
                      strncmp(tag, "DELETE ", 7) == 0 || strncmp(tag, "MERGE ", 6) == 0;
        out->changes = writes && *changes ? strtoull(changes, NULL, 10) : 0;
        *ret = TAKE_PTR(out);
        return 0;
}

static int pg_exec_script(rp_db *db, const char *sql, rp_error *err) {
        pg_db *p = to_pg(db);
        int r = ensure_connected(p, err);
        if (r < 0)
                return r;
        _cleanup_(pqclearp) PGresult *res = PQexec(p->conn, sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
                return fail(p, res, sql, err);
        return 0;
}

static int pg_begin(rp_db *db, rp_error *err) {
        pg_db *p = to_pg(db);
        int r = ensure_connected(p, err);
        if (r < 0)
                return r;
        static const char sql[] = "BEGIN ISOLATION LEVEL READ COMMITTED";
        _cleanup_(pqclearp) PGresult *res = PQexec(p->conn, sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                return fail(p, res, sql, err);
        p->in_tx = true;
        return 0;
}

static int pg_commit(rp_db *db, rp_error *err) {
        pg_db *p = to_pg(db);
        _cleanup_(pqclearp) PGresult *res = PQexec(p->conn, "COMMIT");
        p->in_tx = false;       /* a COMMIT that failed ended the transaction too */
        if (PQresultStatus(res) != PGRES_COMMAND_OK)
                return fail(p, res, "COMMIT", err);
        /* COMMIT of a transaction in which a statement failed rolls back
         * and says so only in its command tag. */
        if (streq(PQcmdStatus(res), "ROLLBACK"))
                return rp_error_set(err, -EIO, "PostgreSQL store %s: the transaction was rolled back at "
                                    "COMMIT (a statement in it had failed)", p->where);
        return 0;
}

static int pg_rollback(rp_db *db) {
        pg_db *p = to_pg(db);
        p->in_tx = false;
        if (PQstatus(p->conn) != CONNECTION_OK)
                return -ENOTCONN;       /* the server rolled back when it lost us */
        _cleanup_(pqclearp) PGresult *res = PQexec(p->conn, "ROLLBACK");
        return PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -EIO;
}

static int pg_lock_migrations(rp_db *db, rp_error *err) {
        return rp_db_query(db, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK_KEY ")", NULL, 0, NULL, err);
}

const rp_db_backend rp_db_postgres = {
        .name = "postgres",
        .open = pg_open,
        .close = pg_close,
        .query = pg_query,
        .exec_script = pg_exec_script,
        .begin = pg_begin,
        .commit = pg_commit,
        .rollback = pg_rollback,
        .lock_migrations = pg_lock_migrations,
};
