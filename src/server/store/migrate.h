/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Schema migrations (store/schema.c lists them, store/migrate.c applies
 * them). The database records its version in a one-row table,
 * rampart_schema (version INTEGER NOT NULL). */

#include <stddef.h>

#include "store/db.h"

typedef struct rp_db_migration {
        int version;            /* 1, 2, 3, ... in order */
        const char *summary;
        const char *sql;        /* statements separated by ';' */
} rp_db_migration;

extern const rp_db_migration rp_db_migrations[];
extern const size_t rp_db_n_migrations;

/* Brings db up to rp_db_schema_latest(): each pending migration and its
 * version bump in one transaction, under the backend's migration lock, so
 * servers starting together on one PostgreSQL apply each migration once.
 * Refuses (-EPROTONOSUPPORT) a database whose version is newer than this
 * binary knows, with a message naming both versions and what to do. */
int rp_db_migrate(rp_db *db, rp_error *err);
