/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-server's store (src/server/store): parameters, NULLs, errors,
 * transactions and their retries, racing writers, migrations. Every case
 * runs against SQLite (a file in a temporary directory) and, when
 * RAMPART_TEST_PG_URL names a PostgreSQL database, against it too (each case
 * in a schema of its own); integration/server-db-postgres starts one and
 * runs this program with it. */
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/macro.h"
#include "store/db_internal.h"
#include "testlib.h"

typedef struct backend_case {
        const char *kind;       /* "sqlite", "postgres" */
} backend_case;

static const backend_case sqlite_case = { "sqlite" };
static const backend_case pg_case = { "postgres" };
static const char *pg_url;

/* The schemas made for the PostgreSQL cases, dropped at the end. */
static char *pg_schemas[256];
static size_t n_pg_schemas;

static bool is_pg(void **state) {
        return *state == &pg_case;
}

static rp_db *open_or_fail(const char *store) {
        rp_error err = {0};
        rp_db *db = NULL;
        int r = rp_db_open(store, &db, &err);
        if (r < 0)
                fail_msg("rp_db_open: %d %s", r, err.message);
        return db;
}

/* A connection without migrations. */
static rp_db *open_raw(const char *store) {
        rp_error err = {0};
        const char *target = NULL;
        const rp_db_backend *b = rp_db_backend_for(store, &target, &err);
        assert_non_null(b);
        rp_db *db = NULL;
        int r = b->open(target, &db, &err);
        if (r < 0)
                fail_msg("open: %d %s", r, err.message);
        return db;
}

static void query_ok(rp_db *db, const char *sql) {
        rp_error err = {0};
        int r = rp_db_query(db, sql, NULL, 0, NULL, &err);
        if (r < 0)
                fail_msg("%s: %d %s", sql, r, err.message);
}

/* A new, empty store for one case: a --store value (malloc'd). */
static char *fresh_store(void **state) {
        static unsigned n;
        char *store = NULL;
        n++;
        if (!is_pg(state)) {
                char name[32];
                snprintf(name, sizeof name, "db%u.sqlite", n);
                _cleanup_free_ char *path = test_path(test_tmpdir(), name);
                assert_true(asprintf(&store, "sqlite:%s", path) > 0);
                return store;
        }
        char schema[64];
        snprintf(schema, sizeof schema, "rp_test_%ld_%u", (long)getpid(), n);
        _cleanup_(rp_db_closep) rp_db *admin = open_raw(pg_url);
        char sql[128];
        snprintf(sql, sizeof sql, "CREATE SCHEMA %s", schema);
        query_ok(admin, sql);
        assert_true(n_pg_schemas < ELEMENTSOF(pg_schemas));
        pg_schemas[n_pg_schemas++] = strdup(schema);
        /* options=-csearch_path=SCHEMA, percent-encoded */
        assert_true(asprintf(&store, "%s%coptions=-csearch_path%%3D%s", pg_url, strchr(pg_url, '?') ? '&' : '?',
                             schema) > 0);
        return store;
}

/* A tenant row (the other tables refer to it). */
static void add_tenant(rp_db *db, const char *id, const char *name) {
        rp_error err = {0};
        int r = rp_db_queryv(db, NULL, &err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, created_at) "
                             "VALUES ($1, $2, 'cert', 'key', 1)", id, name, NULL);
        if (r < 0)
                fail_msg("add_tenant: %d %s", r, err.message);
}

static int64_t count(rp_db *db, const char *table) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        rp_error err = {0};
        int r = rp_db_query(db, sql, NULL, 0, &res, &err);
        if (r < 0)
                fail_msg("%s: %d %s", sql, r, err.message);
        return rp_db_result_int(res, 0, 0, -1);
}

/* ---- parameters and results ---- */

static void test_hostile_text_round_trips(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);

        size_t long_len = 200000;
        _cleanup_free_ char *long_text = malloc(long_len + 1);
        assert_non_null(long_text);
        for (size_t i = 0; i < long_len; i++)
                long_text[i] = "a'\"\\;$%_-\n"[i % 10];
        long_text[long_len] = '\0';
        const char *values[] = {
                "O'Brien",
                "'",
                "''",
                "\"double\" \"quotes\"",
                "'; DROP TABLE tenants; --",
                "x'); DELETE FROM tenants WHERE ('1'='1",
                "\\",
                "back\\slash\\'quote\\\\",
                "$1",
                "a $1 and $2 and $99 inside",
                "?",
                ":name @name",
                "%s%n%x",
                "-- a comment",
                "/* unterminated comment",
                "NULL",
                "",
                "  spaces around  ",
                "tab\tnewline\ncarriage\rreturn",
                "\x01\x1f\x7f",
                "UTF-8: \xc3\xa9\xc3\xa8 \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x8e\x89",
                "\xe2\x80\xae" "bidi override",
                long_text,
        };
        char id[RP_DB_ID_LEN + 1];
        for (size_t i = 0; i < ELEMENTSOF(values); i++) {
                assert_int_equal(rp_db_new_id(id), 0);
                rp_error err = {0};
                /* The value as a tenant's name and as its certificate. */
                int r = rp_db_queryv(db, NULL, &err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                                     "created_at) VALUES ($1, $2, $2, $3, 7)", id, values[i], values[i], NULL);
                if (r < 0)
                        fail_msg("value %zu: %d %s", i, r, err.message);

                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                assert_int_equal(rp_db_queryv(db, &res, &err, "SELECT id, name, ca_cert_pem, ca_key_pem FROM "
                                              "tenants WHERE name = $1", values[i], NULL), 0);
                assert_int_equal(res->n_rows, 1);
                assert_int_equal(res->n_cols, 4);
                assert_string_equal(rp_db_result_get(res, 0, 0), id);
                assert_string_equal(rp_db_result_get(res, 0, 1), values[i]);
                assert_string_equal(rp_db_result_get(res, 0, 2), values[i]);
                assert_string_equal(rp_db_result_get(res, 0, 3), values[i]);

                /* Echoed straight back, as text. */
                _cleanup_(rp_db_result_freep) rp_db_result *echo = NULL;
                const char *params[] = { values[i], "tail" };
                assert_int_equal(rp_db_query(db, "SELECT $1, $2", params, 2, &echo, &err), 0);
                assert_string_equal(rp_db_result_get(echo, 0, 0), values[i]);
                assert_string_equal(rp_db_result_get(echo, 0, 1), "tail");
        }
        /* Every row arrived and no statement was run from a value. */
        assert_int_equal(count(db, "tenants"), ELEMENTSOF(values));
}

static void test_null_parameters(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};
        add_tenant(db, "t1", "one");

        /* NULL in a parameter array, and RP_DB_NULL in a list. */
        const char *params[] = { "d1", "t1", NULL, "5" };
        assert_int_equal(rp_db_query(db, "INSERT INTO devices (id, tenant_id, device_group_id, claimed_at) "
                                     "VALUES ($1, $2, $3, $4)", params, 4, NULL, &err), 0);
        assert_int_equal(rp_db_queryv(db, NULL, &err, "INSERT INTO devices (id, tenant_id, device_group_id, "
                                      "claimed_at, last_measurement) VALUES ($1, $2, $3, $4, $5)",
                                      "d2", "t1", RP_DB_NULL, "6", "", NULL), 0);

        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        assert_int_equal(rp_db_queryv(db, &res, &err, "SELECT id, device_group_id, last_measurement, claimed_at "
                                      "FROM devices WHERE device_group_id IS NULL ORDER BY id", NULL), 0);
        assert_int_equal(res->n_rows, 2);
        assert_string_equal(rp_db_result_get(res, 0, 0), "d1");
        assert_null(rp_db_result_get(res, 0, 1));
        assert_null(rp_db_result_get(res, 0, 2));
        /* An empty string is not NULL. */
        assert_non_null(rp_db_result_get(res, 1, 2));
        assert_string_equal(rp_db_result_get(res, 1, 2), "");
        assert_int_equal(rp_db_result_int(res, 0, 3, -1), 5);
        assert_int_equal(rp_db_result_int(res, 1, 3, -1), 6);
        assert_int_equal(rp_db_result_int(res, 0, 1, -1), -1);         /* NULL */
        assert_int_equal(rp_db_result_int(res, 1, 0, -1), -1);         /* "d2" */
        assert_null(rp_db_result_get(res, 2, 0));
        assert_null(rp_db_result_get(res, 0, 4));

        /* A NULL parameter compared with = matches nothing, in both engines. */
        _cleanup_(rp_db_result_freep) rp_db_result *none = NULL;
        assert_int_equal(rp_db_queryv(db, &none, &err, "SELECT id FROM devices WHERE device_group_id = $1",
                                      RP_DB_NULL, NULL), 0);
        assert_int_equal(none->n_rows, 0);
}

/* Many distinct statements, each run again later with other values (the
 * SQLite backend keeps prepared statements: none may answer for another,
 * or keep an earlier call's values). */
static void test_statement_reuse(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};
        for (int pass = 0; pass < 3; pass++)
                for (int i = 0; i < 120; i++) {
                        char sql[64], value[32];
                        snprintf(sql, sizeof sql, "SELECT $1, %d, $2", i);
                        snprintf(value, sizeof value, "v%d.%d", pass, i);
                        const char *params[] = { value, pass == 1 ? NULL : "x" };
                        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                        assert_int_equal(rp_db_query(db, sql, params, 2, &res, &err), 0);
                        assert_string_equal(rp_db_result_get(res, 0, 0), value);
                        assert_int_equal(rp_db_result_int(res, 0, 1, -1), i);
                        if (pass == 1)
                                assert_null(rp_db_result_get(res, 0, 2));
                        else
                                assert_string_equal(rp_db_result_get(res, 0, 2), "x");
                }
}

static void test_parameter_mismatch_refused(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};
        /* A parameter the statement uses but was not given, one given but
         * not used, and two statements in one: refused by both engines. */
        assert_int_equal(rp_db_queryv(db, NULL, &err, "SELECT $1, $2", "a", NULL), -EINVAL);
        assert_int_equal(rp_db_queryv(db, NULL, &err, "SELECT $1", "a", "b", NULL), -EINVAL);
        assert_int_equal(rp_db_queryv(db, NULL, &err, "SELECT 1; SELECT 2", NULL), -EINVAL);
        assert_int_equal(rp_db_queryv(db, NULL, &err, "SELEKT 1", NULL), -EINVAL);
        assert_int_equal(rp_db_queryv(db, NULL, &err, "SELECT * FROM no_such_table", NULL), -EINVAL);
        assert_non_null(strstr(err.message, "no_such_table"));
        /* The connection is still good. */
        assert_int_equal(count(db, "tenants"), 0);
}

static void test_changes_and_returning(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};
        add_tenant(db, "t1", "one");
        add_tenant(db, "t2", "two");
        add_tenant(db, "t3", "three");

        _cleanup_(rp_db_result_freep) rp_db_result *upd = NULL;
        assert_int_equal(rp_db_queryv(db, &upd, &err, "UPDATE tenants SET allow_development = 1 WHERE id <> $1",
                                      "t2", NULL), 0);
        assert_int_equal(upd->changes, 2);
        _cleanup_(rp_db_result_freep) rp_db_result *sel = NULL;
        assert_int_equal(rp_db_queryv(db, &sel, &err, "SELECT id FROM tenants", NULL), 0);
        assert_int_equal(sel->n_rows, 3);
        assert_int_equal(sel->changes, 0);

        _cleanup_(rp_db_result_freep) rp_db_result *ret = NULL;
        assert_int_equal(rp_db_queryv(db, &ret, &err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                                      "created_at) VALUES ($1, $2, '', '', 9) RETURNING id, created_at",
                                      "t4", "four", NULL), 0);
        assert_int_equal(ret->changes, 1);
        assert_int_equal(ret->n_rows, 1);
        assert_string_equal(rp_db_result_get(ret, 0, 0), "t4");
        assert_int_equal(rp_db_result_int(ret, 0, 1, 0), 9);

        _cleanup_(rp_db_result_freep) rp_db_result *dup = NULL;
        assert_int_equal(rp_db_queryv(db, &dup, &err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                                      "created_at) VALUES ($1, $2, '', '', 9) ON CONFLICT DO NOTHING",
                                      "t4", "four", NULL), 0);
        assert_int_equal(dup->changes, 0);
}

static void test_duplicate_key(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};
        const char *secret_id = "id-0123456789abcdef-secret";
        add_tenant(db, secret_id, "acme");

        /* The same primary key; the same UNIQUE name. */
        assert_int_equal(rp_db_queryv(db, NULL, &err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                                      "created_at) VALUES ($1, $2, '', '', 1)", secret_id, "other", NULL), -EEXIST);
        /* The message never quotes a value. */
        assert_null(strstr(err.message, secret_id));
        assert_int_equal(rp_db_queryv(db, NULL, &err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                                      "created_at) VALUES ($1, $2, '', '', 1)", "t2", "acme", NULL), -EEXIST);
        assert_null(strstr(err.message, "acme"));
        /* A NOT NULL or FOREIGN KEY violation is a bug, not a duplicate. */
        assert_int_equal(rp_db_queryv(db, NULL, &err, "INSERT INTO devices (id, tenant_id, claimed_at) "
                                      "VALUES ($1, $2, 1)", "d1", "no-such-tenant", NULL), -EINVAL);
        assert_int_equal(count(db, "tenants"), 1);
        assert_int_equal(count(db, "devices"), 0);
}

/* ---- transactions ---- */

typedef struct tx_ctx {
        int calls;
        int fail_at;            /* fn fails on this step of its work */
        int busy_calls;         /* fn reports -EBUSY on its first calls */
} tx_ctx;

static int tx_claim(rp_db *db, void *userdata, rp_error *err) {
        tx_ctx *c = userdata;
        c->calls++;
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, created_at) "
                             "VALUES ('t1', 'one', '', '', 1)", NULL);
        if (r < 0)
                return r;
        if (c->calls <= c->busy_calls)
                return rp_error_set(err, -EBUSY, "pretend busy");
        r = rp_db_queryv(db, NULL, err, "INSERT INTO products (id, tenant_id, name, created_at) "
                         "VALUES ('p1', 't1', 'prod', 1)", NULL);
        if (r < 0)
                return r;
        if (c->fail_at == 2)
                return rp_error_set(err, -EIO, "failed midway");
        /* A duplicate key midway: the whole transaction goes. */
        if (c->fail_at == 3)
                return rp_db_queryv(db, NULL, err, "INSERT INTO products (id, tenant_id, name, created_at) "
                                    "VALUES ('p1', 't1', 'prod2', 1)", NULL);
        return rp_db_queryv(db, NULL, err, "INSERT INTO devices (id, tenant_id, claimed_at) "
                            "VALUES ('d1', 't1', 1)", NULL);
}

static void test_transact_rolls_back(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};

        tx_ctx c = { .fail_at = 2 };
        assert_int_equal(rp_db_transact(db, tx_claim, &c, &err), -EIO);
        assert_string_equal(err.message, "failed midway");
        assert_int_equal(c.calls, 1);
        assert_int_equal(count(db, "tenants"), 0);
        assert_int_equal(count(db, "products"), 0);

        c = (tx_ctx){ .fail_at = 3 };
        assert_int_equal(rp_db_transact(db, tx_claim, &c, &err), -EEXIST);
        assert_int_equal(c.calls, 1);
        assert_int_equal(count(db, "tenants"), 0);
        assert_int_equal(count(db, "products"), 0);

        /* The connection is usable after each, and a good run commits. */
        c = (tx_ctx){ 0 };
        assert_int_equal(rp_db_transact(db, tx_claim, &c, &err), 0);
        assert_int_equal(count(db, "tenants"), 1);
        assert_int_equal(count(db, "products"), 1);
        assert_int_equal(count(db, "devices"), 1);
}

static void test_transact_retries_busy(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};

        /* Busy twice, then through: the first tries left nothing behind. */
        tx_ctx c = { .busy_calls = 2 };
        assert_int_equal(rp_db_transact(db, tx_claim, &c, &err), 0);
        assert_int_equal(c.calls, 3);
        assert_int_equal(count(db, "tenants"), 1);
        assert_int_equal(count(db, "devices"), 1);
        query_ok(db, "DELETE FROM devices");
        query_ok(db, "DELETE FROM products");
        query_ok(db, "DELETE FROM tenants");

        /* Busy for ever: one try and five retries, then -EBUSY. */
        c = (tx_ctx){ .busy_calls = 1000 };
        assert_int_equal(rp_db_transact(db, tx_claim, &c, &err), -EBUSY);
        assert_int_equal(c.calls, 6);
        assert_non_null(strstr(err.message, "pretend busy"));
        assert_int_equal(count(db, "tenants"), 0);
}

/* A statement that fails inside a transaction dooms it, on both engines
 * (PostgreSQL's rule; the SQLite backend keeps it too): the statements after
 * it are refused and COMMIT rolls back, even if fn ignored the failure. */
typedef struct swallow {
        int dup, after;
} swallow;

static int tx_swallow(rp_db *db, void *userdata, rp_error *err) {
        swallow *w = userdata;
        int r = rp_db_queryv(db, NULL, err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, created_at) "
                             "VALUES ('t1', 'one', '', '', 1)", NULL);
        if (r < 0)
                return r;
        w->dup = rp_db_queryv(db, NULL, err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                              "created_at) VALUES ('t1', 'one', '', '', 1)", NULL);
        w->after = rp_db_queryv(db, NULL, err, "INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, "
                                "created_at) VALUES ('t2', 'two', '', '', 1)", NULL);
        return 0;       /* the mistake: carrying on as if all went well */
}

static void test_failed_statement_dooms_transaction(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        rp_error err = {0};
        swallow w = { 0 };
        assert_int_equal(rp_db_transact(db, tx_swallow, &w, &err), -EIO);
        assert_non_null(strstr(err.message, "rolled back at COMMIT"));
        assert_int_equal(w.dup, -EEXIST);
        assert_int_equal(w.after, -EIO);
        assert_int_equal(count(db, "tenants"), 0);
        /* The next transaction starts clean. */
        tx_ctx c = { 0 };
        assert_int_equal(rp_db_transact(db, tx_claim, &c, &err), 0);
        assert_int_equal(count(db, "tenants"), 1);
}

/* A second connection holds the write lock (SQLite) or the row (PostgreSQL);
 * the first one's transaction waits, and goes through once it is released. */
typedef struct waiter {
        rp_db *db;
        int result;
        rp_error err;
        bool done;
        pthread_mutex_t lock;
        pthread_cond_t busy_seen;       /* the SQLite busy handler ran */
        bool busy;
        int busy_calls;
} waiter;

static int tx_bump(rp_db *db, void *userdata, rp_error *err) {
        return rp_db_queryv(db, NULL, err, "UPDATE tenants SET allow_development = allow_development + 10 "
                            "WHERE id = 't1'", NULL);
}

static void *run_waiter(void *arg) {
        waiter *w = arg;
        w->result = rp_db_transact(w->db, tx_bump, NULL, &w->err);
        pthread_mutex_lock(&w->lock);
        w->done = true;
        pthread_mutex_unlock(&w->lock);
        return NULL;
}

/* SQLite's busy handler for the waiting connection: the first time it is
 * asked, it says "give up" (so the transaction sees SQLITE_BUSY, -EBUSY)
 * and tells the test to release the lock; after that it waits. */
static int busy_on_cue(void *arg, int n) {
        waiter *w = arg;
        pthread_mutex_lock(&w->lock);
        bool first = !w->busy;
        w->busy = true;
        w->busy_calls++;
        pthread_cond_signal(&w->busy_seen);
        pthread_mutex_unlock(&w->lock);
        if (first)
                return 0;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
        return 1;
}

static void test_busy_then_released(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        _cleanup_(rp_db_closep) rp_db *holder = open_or_fail(store);
        rp_error err = {0};
        add_tenant(db, "t1", "one");

        waiter w = { .db = db };
        pthread_mutex_init(&w.lock, NULL);
        pthread_cond_init(&w.busy_seen, NULL);
        if (!is_pg(state))
                sqlite3_busy_handler(rp_db_sqlite_handle(db), busy_on_cue, &w);

        const rp_db_backend *b = rp_db_get_backend(holder);
        assert_int_equal(b->begin(holder, &err), 0);
        assert_int_equal(rp_db_queryv(holder, NULL, &err, "UPDATE tenants SET allow_development = 1 "
                                      "WHERE id = 't1'", NULL), 0);
        pthread_t t;
        assert_int_equal(pthread_create(&t, NULL, run_waiter, &w), 0);
        if (!is_pg(state)) {
                /* Release only once the waiter's transaction was refused
                 * busy: it must have been tried again to get through. */
                pthread_mutex_lock(&w.lock);
                while (!w.busy)
                        pthread_cond_wait(&w.busy_seen, &w.lock);
                pthread_mutex_unlock(&w.lock);
        } else {
                struct timespec ts = { 0, 200000000 };
                nanosleep(&ts, NULL);
        }
        /* Whatever the timing, it cannot have finished while the lock is held. */
        pthread_mutex_lock(&w.lock);
        assert_false(w.done);
        pthread_mutex_unlock(&w.lock);
        assert_int_equal(b->commit(holder, &err), 0);
        pthread_join(t, NULL);
        if (w.result < 0)
                fail_msg("waiter: %d %s", w.result, w.err.message);

        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        assert_int_equal(rp_db_queryv(db, &res, &err, "SELECT allow_development FROM tenants", NULL), 0);
        assert_int_equal(rp_db_result_int(res, 0, 0, -1), 11);
        pthread_mutex_destroy(&w.lock);
        pthread_cond_destroy(&w.busy_seen);
}

/* PostgreSQL: two transactions that lock two rows in opposite orders. The
 * server breaks the deadlock by failing one (40P01, -EBUSY); rp_db_transact
 * runs that one again and both changes land. */
typedef struct crosser {
        rp_db *db;
        const char *first, *second;
        pthread_barrier_t *both_hold_one;
        int calls, result;
        rp_error err;
} crosser;

static int tx_cross(rp_db *db, void *userdata, rp_error *err) {
        crosser *c = userdata;
        c->calls++;
        int r = rp_db_queryv(db, NULL, err, "UPDATE tenants SET allow_development = allow_development + 1 "
                             "WHERE id = $1", c->first, NULL);
        if (r < 0)
                return r;
        if (c->calls == 1)
                pthread_barrier_wait(c->both_hold_one);
        return rp_db_queryv(db, NULL, err, "UPDATE tenants SET allow_development = allow_development + 1 "
                            "WHERE id = $1", c->second, NULL);
}

static void *run_crosser(void *arg) {
        crosser *c = arg;
        c->result = rp_db_transact(c->db, tx_cross, c, &c->err);
        return NULL;
}

static void test_deadlock_retried(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db1 = open_or_fail(store);
        _cleanup_(rp_db_closep) rp_db *db2 = open_or_fail(store);
        add_tenant(db1, "a", "A");
        add_tenant(db1, "b", "B");

        pthread_barrier_t barrier;
        pthread_barrier_init(&barrier, NULL, 2);
        crosser c1 = { .db = db1, .first = "a", .second = "b", .both_hold_one = &barrier };
        crosser c2 = { .db = db2, .first = "b", .second = "a", .both_hold_one = &barrier };
        pthread_t t1, t2;
        assert_int_equal(pthread_create(&t1, NULL, run_crosser, &c1), 0);
        assert_int_equal(pthread_create(&t2, NULL, run_crosser, &c2), 0);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        pthread_barrier_destroy(&barrier);
        if (c1.result < 0 || c2.result < 0)
                fail_msg("%d %s / %d %s", c1.result, c1.err.message, c2.result, c2.err.message);
        /* One of them was refused and ran again. */
        assert_int_equal(c1.calls + c2.calls, 3);

        rp_error err = {0};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        assert_int_equal(rp_db_queryv(db1, &res, &err, "SELECT allow_development FROM tenants ORDER BY id", NULL), 0);
        assert_int_equal(rp_db_result_int(res, 0, 0, -1), 2);
        assert_int_equal(rp_db_result_int(res, 1, 0, -1), 2);
}

/* Two connections claim the same device at the same moment: exactly one
 * wins, the other is told -EEXIST. */
typedef struct claimer {
        rp_db *db;
        const char *device_id, *tenant_id;
        pthread_barrier_t *start;
        int result;
        rp_error err;
} claimer;

static int tx_insert_device(rp_db *db, void *userdata, rp_error *err) {
        claimer *c = userdata;
        return rp_db_queryv(db, NULL, err, "INSERT INTO devices (id, tenant_id, claimed_at) VALUES ($1, $2, 1)",
                            c->device_id, c->tenant_id, NULL);
}

static void *run_claimer(void *arg) {
        claimer *c = arg;
        pthread_barrier_wait(c->start);
        c->result = rp_db_transact(c->db, tx_insert_device, c, &c->err);
        return NULL;
}

static void test_racing_claims(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db1 = open_or_fail(store);
        _cleanup_(rp_db_closep) rp_db *db2 = open_or_fail(store);
        add_tenant(db1, "t1", "one");
        add_tenant(db1, "t2", "two");

        for (int i = 0; i < 20; i++) {
                char device[RP_DB_ID_LEN + 1];
                assert_int_equal(rp_db_new_id(device), 0);
                pthread_barrier_t start;
                pthread_barrier_init(&start, NULL, 2);
                claimer c1 = { .db = db1, .device_id = device, .tenant_id = "t1", .start = &start };
                claimer c2 = { .db = db2, .device_id = device, .tenant_id = "t2", .start = &start };
                pthread_t t1, t2;
                assert_int_equal(pthread_create(&t1, NULL, run_claimer, &c1), 0);
                assert_int_equal(pthread_create(&t2, NULL, run_claimer, &c2), 0);
                pthread_join(t1, NULL);
                pthread_join(t2, NULL);
                pthread_barrier_destroy(&start);
                if (!((c1.result == 0 && c2.result == -EEXIST) || (c1.result == -EEXIST && c2.result == 0)))
                        fail_msg("round %d: %d %s / %d %s", i, c1.result, c1.err.message, c2.result,
                                 c2.err.message);
                rp_error err = {0};
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                assert_int_equal(rp_db_queryv(db1, &res, &err, "SELECT tenant_id FROM devices WHERE id = $1",
                                              device, NULL), 0);
                assert_int_equal(res->n_rows, 1);
                assert_string_equal(rp_db_result_get(res, 0, 0), c1.result == 0 ? "t1" : "t2");
        }
        assert_int_equal(count(db1, "devices"), 20);
}

/* ---- migrations ---- */

static int version_of(rp_db *db) {
        int v = -1;
        rp_error err = {0};
        int r = rp_db_schema_version(db, &v, &err);
        if (r < 0)
                fail_msg("rp_db_schema_version: %d %s", r, err.message);
        return v;
}

static void test_migrate_fresh_and_reopen(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        assert_true(rp_db_schema_latest() >= 1);
        {
                _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
                assert_int_equal(version_of(db), rp_db_schema_latest());
                assert_int_equal(count(db, "rampart_schema"), 1);
                add_tenant(db, "t1", "one");
        }
        /* Again: nothing to do, nothing lost. */
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        assert_int_equal(version_of(db), rp_db_schema_latest());
        assert_int_equal(count(db, "rampart_schema"), 1);
        assert_int_equal(count(db, "tenants"), 1);
}

static void test_migrate_refuses_newer(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        int newer = rp_db_schema_latest() + 1;
        {
                _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
                char buf[RP_DB_INT_STRLEN];
                rp_error err = {0};
                assert_int_equal(rp_db_queryv(db, NULL, &err, "UPDATE rampart_schema SET version = $1",
                                              rp_db_int(newer, buf), NULL), 0);
        }
        rp_error err = {0};
        rp_db *db = NULL;
        assert_int_equal(rp_db_open(store, &db, &err), -EPROTONOSUPPORT);
        assert_null(db);
        char want[256];
        snprintf(want, sizeof want, "the database's schema is version %d but this rampart-server knows up to %d: "
                 "upgrade rampart-server (or point --store at another database)", newer, rp_db_schema_latest());
        assert_string_equal(err.message, want);

        _cleanup_(rp_db_closep) rp_db *raw = open_raw(store);
        assert_int_equal(version_of(raw), newer);
}

static const rp_db_migration three_good[] = {
        { 1, "one", "CREATE TABLE m_one (x TEXT NOT NULL);" "INSERT INTO m_one (x) VALUES ('1')" },
        { 2, "two", "CREATE TABLE m_two (y TEXT);" "ALTER TABLE m_one ADD COLUMN z TEXT" },
        { 3, "three", "CREATE INDEX m_two_y ON m_two (y)" },
};

static const rp_db_migration second_fails[] = {
        { 1, "one", "CREATE TABLE m_one (x TEXT NOT NULL);" "INSERT INTO m_one (x) VALUES ('1')" },
        { 2, "two, broken halfway", "CREATE TABLE m_two (y TEXT);" "INSERT INTO m_one (x) VALUES ('2');"
                                    "INSERT INTO no_such_table VALUES (1)" },
};

static void test_migrate_lists(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_raw(store);
        rp_error err = {0};

        /* From nothing to 1, then a binary with a broken migration 2. */
        assert_int_equal(rp_db_migrate_list(db, second_fails, 1, &err), 0);
        assert_int_equal(version_of(db), 1);
        int r = rp_db_migrate_list(db, second_fails, 2, &err);
        assert_true(r < 0);
        assert_non_null(strstr(err.message, "schema migration 2 (two, broken halfway): "));
        assert_non_null(strstr(err.message, "no_such_table"));
        /* As before: version 1, no m_two, m_one's one row. */
        assert_int_equal(version_of(db), 1);
        assert_int_equal(count(db, "m_one"), 1);
        assert_int_equal(rp_db_query(db, "SELECT * FROM m_two", NULL, 0, NULL, &err), -EINVAL);

        /* The fixed binary: 2 and 3 applied in order, each once. */
        assert_int_equal(rp_db_migrate_list(db, three_good, 3, &err), 0);
        assert_int_equal(version_of(db), 3);
        assert_int_equal(count(db, "m_two"), 0);
        assert_int_equal(count(db, "m_one"), 1);
        assert_int_equal(rp_db_migrate_list(db, three_good, 3, &err), 0);
        assert_int_equal(count(db, "rampart_schema"), 1);
        /* And the older binary is refused. */
        assert_int_equal(rp_db_migrate_list(db, three_good, 2, &err), -EPROTONOSUPPORT);
        assert_non_null(strstr(err.message, "version 3 but this rampart-server knows up to 2"));
        assert_int_equal(version_of(db), 3);
}

/* Servers starting together on a new database: each migration runs once. */
typedef struct opener {
        const char *store;
        pthread_barrier_t *start;
        int result;
        rp_error err;
} opener;

static void *run_opener(void *arg) {
        opener *o = arg;
        rp_db *db = NULL;
        pthread_barrier_wait(o->start);
        o->result = rp_db_open(o->store, &db, &o->err);
        rp_db_close(db);
        return NULL;
}

static void test_migrate_concurrently(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        enum { N = 4 };
        pthread_barrier_t start;
        pthread_barrier_init(&start, NULL, N);
        opener o[N];
        pthread_t t[N];
        for (int i = 0; i < N; i++) {
                o[i] = (opener){ .store = store, .start = &start };
                assert_int_equal(pthread_create(&t[i], NULL, run_opener, &o[i]), 0);
        }
        for (int i = 0; i < N; i++)
                pthread_join(t[i], NULL);
        pthread_barrier_destroy(&start);
        for (int i = 0; i < N; i++)
                if (o[i].result < 0)
                        fail_msg("opener %d: %d %s", i, o[i].result, o[i].err.message);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        assert_int_equal(version_of(db), rp_db_schema_latest());
        assert_int_equal(count(db, "rampart_schema"), 1);
}

/* ---- opening ---- */

static void test_backend_for(void **state) {
        rp_error err = {0};
        const char *target = NULL;
        assert_ptr_equal(rp_db_backend_for("postgres://u@h/db", &target, &err), &rp_db_postgres);
        assert_string_equal(target, "postgres://u@h/db");
        assert_ptr_equal(rp_db_backend_for("postgresql://h/db", &target, &err), &rp_db_postgres);
        assert_ptr_equal(rp_db_backend_for("sqlite:/var/lib/r.db", &target, &err), &rp_db_sqlite);
        assert_string_equal(target, "/var/lib/r.db");
        assert_ptr_equal(rp_db_backend_for("rel/r.db", &target, &err), &rp_db_sqlite);
        assert_string_equal(target, "rel/r.db");
        target = "untouched";
        assert_null(rp_db_backend_for("sqlite:", &target, &err));
        assert_null(rp_db_backend_for("", &target, &err));
        assert_null(rp_db_backend_for("mysql://root:hunter2@db/x", &target, &err));
        assert_non_null(strstr(err.message, "\"mysql://\""));
        assert_null(strstr(err.message, "hunter2"));
        assert_string_equal(target, "untouched");
        assert_string_equal(rp_db_sqlite.name, "sqlite");
        assert_string_equal(rp_db_postgres.name, "postgres");
}

static void test_ids_and_ints(void **state) {
        char a[RP_DB_ID_LEN + 1], b[RP_DB_ID_LEN + 1];
        assert_int_equal(rp_db_new_id(a), 0);
        assert_int_equal(rp_db_new_id(b), 0);
        assert_int_equal(strlen(a), RP_DB_ID_LEN);
        assert_int_equal(strspn(a, "0123456789abcdef"), RP_DB_ID_LEN);
        assert_string_not_equal(a, b);
        char buf[RP_DB_INT_STRLEN];
        assert_string_equal(rp_db_int(INT64_MIN, buf), "-9223372036854775808");
        assert_string_equal(rp_db_int(INT64_MAX, buf), "9223372036854775807");
        assert_string_equal(rp_db_int(0, buf), "0");
}

static void test_sqlite_file(void **state) {
        rp_error err = {0};
        const char *dir = test_tmpdir();

        /* A new database file is the owner's alone, and in WAL mode. */
        _cleanup_free_ char *path = test_path(dir, "mode.sqlite");
        _cleanup_free_ char *store = NULL;
        assert_true(asprintf(&store, "sqlite:%s", path) > 0);
        {
                _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
                assert_string_equal(rp_db_get_backend(db)->name, "sqlite");
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                assert_int_equal(rp_db_queryv(db, &res, &err, "PRAGMA journal_mode", NULL), 0);
                assert_string_equal(rp_db_result_get(res, 0, 0), "wal");
                _cleanup_(rp_db_result_freep) rp_db_result *sync = NULL;
                assert_int_equal(rp_db_queryv(db, &sync, &err, "PRAGMA synchronous", NULL), 0);
                assert_string_equal(rp_db_result_get(sync, 0, 0), "2");        /* FULL */
        }
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_mode & 0777, 0600);

        /* A file that is not a database: a clear error naming it, and the
         * file left as it was. */
        _cleanup_free_ char *junk = test_path(dir, "junk.sqlite");
        char text[4096];
        for (size_t i = 0; i < sizeof text; i++)
                text[i] = "not a database, just text\n"[i % 26];
        test_write_file(junk, text, sizeof text);
        _cleanup_free_ char *junk_store = NULL;
        assert_true(asprintf(&junk_store, "sqlite:%s", junk) > 0);
        rp_db *db = NULL;
        int r = rp_db_open(junk_store, &db, &err);
        assert_true(r < 0);
        assert_null(db);
        assert_non_null(strstr(err.message, junk));
        assert_non_null(strstr(err.message, "not an SQLite database"));
        size_t len = 0;
        _cleanup_free_ uint8_t *after = test_read_file(junk, &len);
        assert_int_equal(len, sizeof text);
        assert_memory_equal(after, text, sizeof text);

        /* A directory, and a file in a directory that does not exist. */
        _cleanup_free_ char *dir_store = NULL;
        assert_true(asprintf(&dir_store, "sqlite:%s", dir) > 0);
        assert_true(rp_db_open(dir_store, &db, &err) < 0);
        assert_non_null(strstr(err.message, dir));
        _cleanup_free_ char *missing = NULL;
        assert_true(asprintf(&missing, "%s/no/such/dir/x.sqlite", dir) > 0);
        assert_int_equal(rp_db_open(missing, &db, &err), -ENOENT);
        assert_non_null(strstr(err.message, missing));
        assert_null(db);
}

/* A port on 127.0.0.1 that refuses connections: bound, never listening. */
static int closed_port(int *ret_fd) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        assert_true(fd >= 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
        socklen_t len = sizeof a;
        assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
        *ret_fd = fd;
        return ntohs(a.sin_port);
}

static void test_postgres_unreachable(void **state) {
        int fd = -1;
        int port = closed_port(&fd);
        for (int form = 0; form < 2; form++) {
                char url[256];
                if (form == 0)
                        snprintf(url, sizeof url, "postgres://rampart:Sup3r-Secret-Pw@127.0.0.1:%d/rampart", port);
                else
                        snprintf(url, sizeof url, "postgresql://rampart@127.0.0.1:%d/rampart?password=Sup3r-Secret-Pw",
                                 port);
                rp_error err = {0};
                rp_db *db = NULL;
                assert_int_equal(rp_db_open(url, &db, &err), -ENOTCONN);
                assert_null(db);
                assert_null(strstr(err.message, "Sup3r-Secret-Pw"));
                char where[128];
                snprintf(where, sizeof where, "postgres://rampart@127.0.0.1:%d/rampart", port);
                assert_non_null(strstr(err.message, where));
        }
        /* A URI libpq cannot read: still no password in the message. */
        rp_error err = {0};
        rp_db *db = NULL;
        assert_int_equal(rp_db_open("postgres://rampart:Sup3r%zzSecret-Pw@127.0.0.1:5432/x", &db, &err), -EINVAL);
        assert_non_null(strstr(err.message, "not a valid connection URI"));
        assert_null(strstr(err.message, "Secret-Pw"));
        close(fd);
}

/* PostgreSQL: a connection the server dropped is reconnected once, before
 * the next statement outside a transaction. */
static void test_postgres_reconnects(void **state) {
        _cleanup_free_ char *store = fresh_store(state);
        _cleanup_(rp_db_closep) rp_db *db = open_or_fail(store);
        _cleanup_(rp_db_closep) rp_db *killer = open_or_fail(store);
        rp_error err = {0};
        for (int round = 0; round < 2; round++) {
                _cleanup_(rp_db_result_freep) rp_db_result *pid = NULL;
                assert_int_equal(rp_db_queryv(db, &pid, &err, "SELECT pg_backend_pid()", NULL), 0);
                assert_int_equal(rp_db_queryv(killer, NULL, &err, "SELECT pg_terminate_backend($1::integer)",
                                              rp_db_result_get(pid, 0, 0), NULL), 0);
                /* The statement that finds the connection gone fails... */
                assert_int_equal(rp_db_queryv(db, NULL, &err, "SELECT 1", NULL), -ENOTCONN);
                /* ...and the next one works, on a new connection with the
                 * same settings (this case's schema, the timeout). */
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                assert_int_equal(rp_db_queryv(db, &res, &err, "SHOW statement_timeout", NULL), 0);
                assert_string_equal(rp_db_result_get(res, 0, 0), "10s");
                assert_int_equal(count(db, "tenants"), round);
                add_tenant(db, round ? "t2" : "t1", round ? "two" : "one");
        }
}

/* ---- the cases, for each backend ---- */

static void drop_pg_schemas(void) {
        if (!n_pg_schemas)
                return;
        _cleanup_(rp_db_closep) rp_db *admin = NULL;
        rp_error err = {0};
        if (rp_db_postgres.open(pg_url, &admin, &err) < 0)
                return;
        for (size_t i = 0; i < n_pg_schemas; i++) {
                char sql[128];
                snprintf(sql, sizeof sql, "DROP SCHEMA %s CASCADE", pg_schemas[i]);
                rp_db_query(admin, sql, NULL, 0, NULL, &err);
                free(pg_schemas[i]);
        }
}

int main(void) {
        pg_url = getenv("RAMPART_TEST_PG_URL");
        if (pg_url && !*pg_url)
                pg_url = NULL;
        const struct CMUnitTest common[] = {
                cmocka_unit_test(test_backend_for),
                cmocka_unit_test(test_ids_and_ints),
                cmocka_unit_test(test_sqlite_file),
                cmocka_unit_test(test_postgres_unreachable),
        };
        const struct CMUnitTest sqlite_tests[] = {
                cmocka_unit_test_prestate(test_hostile_text_round_trips, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_null_parameters, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_statement_reuse, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_parameter_mismatch_refused, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_changes_and_returning, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_duplicate_key, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_transact_rolls_back, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_transact_retries_busy, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_failed_statement_dooms_transaction, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_busy_then_released, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_racing_claims, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_migrate_fresh_and_reopen, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_migrate_refuses_newer, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_migrate_lists, (void *)&sqlite_case),
                cmocka_unit_test_prestate(test_migrate_concurrently, (void *)&sqlite_case),
        };
        const struct CMUnitTest pg_tests[] = {
                cmocka_unit_test_prestate(test_hostile_text_round_trips, (void *)&pg_case),
                cmocka_unit_test_prestate(test_null_parameters, (void *)&pg_case),
                cmocka_unit_test_prestate(test_statement_reuse, (void *)&pg_case),
                cmocka_unit_test_prestate(test_parameter_mismatch_refused, (void *)&pg_case),
                cmocka_unit_test_prestate(test_changes_and_returning, (void *)&pg_case),
                cmocka_unit_test_prestate(test_duplicate_key, (void *)&pg_case),
                cmocka_unit_test_prestate(test_transact_rolls_back, (void *)&pg_case),
                cmocka_unit_test_prestate(test_transact_retries_busy, (void *)&pg_case),
                cmocka_unit_test_prestate(test_failed_statement_dooms_transaction, (void *)&pg_case),
                cmocka_unit_test_prestate(test_busy_then_released, (void *)&pg_case),
                cmocka_unit_test_prestate(test_deadlock_retried, (void *)&pg_case),
                cmocka_unit_test_prestate(test_racing_claims, (void *)&pg_case),
                cmocka_unit_test_prestate(test_migrate_fresh_and_reopen, (void *)&pg_case),
                cmocka_unit_test_prestate(test_migrate_refuses_newer, (void *)&pg_case),
                cmocka_unit_test_prestate(test_migrate_lists, (void *)&pg_case),
                cmocka_unit_test_prestate(test_migrate_concurrently, (void *)&pg_case),
                cmocka_unit_test_prestate(test_postgres_reconnects, (void *)&pg_case),
        };
        int failed = cmocka_run_group_tests_name("common", common, NULL, NULL);
        failed += cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
        if (pg_url) {
                failed += cmocka_run_group_tests_name("postgres", pg_tests, NULL, NULL);
                drop_pg_schemas();
        }
        return test_exit(failed);
}
