/* SPDX-License-Identifier: Apache-2.0 */
/* Applies the schema's migrations (schema.c), one transaction each: take the
 * backend's migration lock, read the version, run the next migration, bump
 * the version, commit. Servers starting together on one database therefore
 * take turns, and each finds the work the one before it did. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/macro.h"
#include "store/db_internal.h"

typedef struct step {
        const rp_db_migration *list;
        size_t n;
        int version;            /* what the database had when the step began */
        bool done;              /* it was already at the latest */
} step;

/* The database's version, inside the transaction that holds the migration
 * lock; makes the version table (at 0) if this is a new database. */
static int read_version_locked(rp_db *db, int *ret, rp_error *err) {
        int r = rp_db_query(db, "CREATE TABLE IF NOT EXISTS rampart_schema (version INTEGER NOT NULL)",
                            NULL, 0, NULL, err);
        if (r < 0)
                return r;
        r = rp_db_schema_version(db, ret, err);
        if (r != -ENOENT)
                return r;
        rp_error_clear(err);
        *ret = 0;
        return rp_db_query(db, "INSERT INTO rampart_schema (version) VALUES (0)", NULL, 0, NULL, err);
}

/* One migration: the transaction's body. */
static int migrate_step(rp_db *db, void *userdata, rp_error *err) {
        step *st = userdata;
        int r = db->backend->lock_migrations(db, err);
        if (r < 0)
                return r;
        int version = 0;
        r = read_version_locked(db, &version, err);
        if (r < 0)
                return r;
        st->version = version;
        int latest = st->n ? st->list[st->n - 1].version : 0;
        if (version > latest)
                return rp_error_set(err, -EPROTONOSUPPORT, "the database's schema is version %d but this "
                                    "rampart-server knows up to %d: upgrade rampart-server (or point --store "
                                    "at another database)", version, latest);
        if (version == latest) {
                st->done = true;
                return 0;
        }
        const rp_db_migration *m = &st->list[version];    /* versions are 1..n in order */
        r = db->backend->exec_script(db, m->sql, err);
        if (r < 0)
                return rp_error_prefix(err, r, "schema migration %d (%s): ", m->version, m->summary);
        char buf[RP_DB_INT_STRLEN];
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        const char *params[] = { rp_db_int(m->version, buf) };
        r = rp_db_query(db, "UPDATE rampart_schema SET version = $1", params, 1, &res, err);
        if (r < 0)
                return r;
        if (res->changes != 1)
                return rp_error_set(err, -EBADMSG, "the table rampart_schema has %llu rows instead of one",
                                    (unsigned long long)res->changes);
        return 0;
}

int rp_db_migrate_list(rp_db *db, const rp_db_migration *list, size_t n, rp_error *err) {
        for (size_t i = 0; i < n; i++)
                RP_INVARIANT(list[i].version == (int)i + 1 && list[i].sql);
        /* One more turn than there are migrations: the last finds nothing to do. */
        for (size_t turn = 0; turn <= n; turn++) {
                step st = { .list = list, .n = n };
                int r = rp_db_transact(db, migrate_step, &st, err);
                if (r < 0)
                        return r;
                if (st.done)
                        return 0;
        }
        return rp_error_set(err, -EIO, "the schema did not reach version %d after every migration ran",
                            n ? list[n - 1].version : 0);
}

int rp_db_migrate(rp_db *db, rp_error *err) {
        return rp_db_migrate_list(db, rp_db_migrations, rp_db_n_migrations, err);
}

int rp_db_schema_latest(void) {
        return rp_db_n_migrations ? rp_db_migrations[rp_db_n_migrations - 1].version : 0;
}

/* -ENOENT when the version table is empty (before the first migration);
 * an error from the backend when the table does not exist. */
int rp_db_schema_version(rp_db *db, int *ret, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_query(db, "SELECT version FROM rampart_schema", NULL, 0, &res, err);
        if (r < 0)
                return r;
        if (res->n_rows == 0)
                return rp_error_set(err, -ENOENT, "the database has no schema version yet");
        if (res->n_rows > 1)
                return rp_error_set(err, -EBADMSG, "the table rampart_schema has %zu rows instead of one",
                                    res->n_rows);
        int64_t v = rp_db_result_int(res, 0, 0, -1);
        if (v < 0 || v > 1000000)
                return rp_error_set(err, -EBADMSG, "the table rampart_schema holds \"%s\", not a version",
                                    rp_db_result_get(res, 0, 0) ? rp_db_result_get(res, 0, 0) : "NULL");
        *ret = (int)v;
        return 0;
}
