/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the store's files share (db.c, migrate.c, the backends) and what the
 * unit tests reach into. Not for the rest of rampart-server: it uses db.h. */

#include "store/db.h"
#include "store/migrate.h"

/* Every backend's connection begins with this, so db.c can find the
 * backend's table from any rp_db: a backend's own struct has a `struct rp_db
 * base` as its first member, set by its open(). */
struct rp_db {
        const rp_db_backend *backend;
};

/* The most parameters one statement may take (rp_db_query refuses more). */
#define RP_DB_MAX_PARAMS 64

/* rp_db_migrate with another list of migrations (versions 1..n in order):
 * what the unit tests use to try failing and future migrations. */
int rp_db_migrate_list(rp_db *db, const rp_db_migration *list, size_t n, rp_error *err);

/* The first bytes of a statement, for error messages (never a parameter's
 * value: those are not in the text). Writes at most size bytes into buf. */
const char *rp_db_sql_excerpt(const char *sql, char *buf, size_t size);

/* The SQLite connection under db, an rp_db_sqlite connection: the unit
 * tests install their own busy handler on it to make -EBUSY happen on cue. */
struct sqlite3;
struct sqlite3 *rp_db_sqlite_handle(rp_db *db);
