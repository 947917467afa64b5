/* SPDX-License-Identifier: Apache-2.0 */
/* The schema, as numbered migrations. A migration is never edited once it
 * has landed on main: a change to the schema is a new migration at the end.
 * Each runs in one transaction with the version bump (store/migrate.c).
 * Written in the SQL both SQLite and PostgreSQL accept (store/db.h).
 * The tables are described in docs/api.md ("Data model"). */
#include "store/migrate.h"

const rp_db_migration rp_db_migrations[] = {
        { 1, "tenants, users, tokens, products, device groups, devices, releases, attestation",
          /* Tenants: each with its own CA, which signs its devices' 24-hour
           * certificates. The CA key is PEM (PKCS#8), kept in the store so
           * any server process can issue. */
          "CREATE TABLE tenants ("
          " id TEXT PRIMARY KEY,"
          " name TEXT NOT NULL UNIQUE,"
          " ca_cert_pem TEXT NOT NULL,"
          " ca_key_pem TEXT NOT NULL,"
          " allow_development INTEGER NOT NULL DEFAULT 0,"
          " created_at BIGINT NOT NULL);"
          /* Users: tenant_id NULL for the service's operators (the first
           * one, 'admin', made at first start). A tenant's users belong to
           * it alone, so a tenant's Administrator can never reach another
           * tenant through a shared user. role: Administrator, Contributor,
           * Reader (operators: Operator). */
          "CREATE TABLE users ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT REFERENCES tenants(id),"
          " scope TEXT NOT NULL,"              /* tenant_id, or '' for operators: for UNIQUE */
          " name TEXT NOT NULL,"
          " role TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (scope, name));"
          /* API tokens: only the SHA-256 of the secret is kept. */
          "CREATE TABLE tokens ("
          " id TEXT PRIMARY KEY,"
          " user_id TEXT NOT NULL REFERENCES users(id),"
          " hash TEXT NOT NULL UNIQUE,"
          " label TEXT NOT NULL DEFAULT '',"
          " created_at BIGINT NOT NULL,"
          " expires_at BIGINT,"
          " revoked_at BIGINT,"
          " last_used_at BIGINT);"
          /* Trusted manufacturer CAs: scope '' for the whole service, or a
           * tenant id. */
          "CREATE TABLE manufacturers ("
          " id TEXT PRIMARY KEY,"
          " scope TEXT NOT NULL,"
          " name TEXT NOT NULL,"
          " ca_cert_pem TEXT NOT NULL,"
          " fingerprint TEXT NOT NULL,"        /* SHA-256 of the DER, hex */
          " created_at BIGINT NOT NULL,"
          " UNIQUE (scope, fingerprint));"
          "CREATE TABLE products ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " name TEXT NOT NULL,"
          " description TEXT NOT NULL DEFAULT '',"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (tenant_id, name));"
          /* update_policy: UpdateAll, No3rdPartyAppUpdates, NoUpdates. */
          "CREATE TABLE device_groups ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " product_id TEXT NOT NULL REFERENCES products(id),"
          " name TEXT NOT NULL,"
          " description TEXT NOT NULL DEFAULT '',"
          " update_policy TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (product_id, name));"
          /* Devices: the primary key is the device id, so a device is in
           * at most one tenant; releasing it deletes the row. */
          "CREATE TABLE devices ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " device_group_id TEXT REFERENCES device_groups(id),"
          " enabled INTEGER NOT NULL DEFAULT 1,"
          " claimed_at BIGINT NOT NULL,"
          " last_attested_at BIGINT,"
          " last_measurement TEXT,"
          " last_swversion TEXT);"
          "CREATE INDEX devices_tenant ON devices (tenant_id);"
          /* Software releases: measurements the verifier accepts. */
          "CREATE TABLE releases ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " kind TEXT NOT NULL,"                /* os, app */
          " name TEXT NOT NULL,"
          " version TEXT NOT NULL,"
          " measurement TEXT NOT NULL,"         /* 64 hex digits */
          " revoked INTEGER NOT NULL DEFAULT 0,"
          " revoked_at BIGINT,"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (tenant_id, measurement));"
          /* Attestation nonces: single use, short expiry. */
          "CREATE TABLE nonces ("
          " nonce TEXT PRIMARY KEY,"            /* hex */
          " device_id TEXT NOT NULL,"
          " expires_at BIGINT NOT NULL,"
          " used_at BIGINT);"
          "CREATE INDEX nonces_expiry ON nonces (expires_at);"
          /* Every attestation, accepted or refused (tenant_id NULL when the
           * device is in no tenant). at is in microseconds. */
          "CREATE TABLE attestations ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT,"
          " device_id TEXT NOT NULL,"
          " at BIGINT NOT NULL,"
          " outcome TEXT NOT NULL,"             /* accepted, refused */
          " reason TEXT,"                       /* a refusal's code */
          " detail TEXT,"
          " remote TEXT);"
          "CREATE INDEX attestations_tenant ON attestations (tenant_id, at);"
          /* Device certificates issued. */
          "CREATE TABLE certificates ("
          " serial TEXT PRIMARY KEY,"           /* hex */
          " tenant_id TEXT NOT NULL,"
          " device_id TEXT NOT NULL,"
          " issued_at BIGINT NOT NULL,"
          " expires_at BIGINT NOT NULL);"
          "CREATE INDEX certificates_device ON certificates (device_id);"
          /* The audit log: every management change. at is in microseconds;
           * tenant_id NULL for service-level changes. */
          "CREATE TABLE audit ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT,"
          " at BIGINT NOT NULL,"
          " actor TEXT NOT NULL,"               /* user name (and token id) */
          " action TEXT NOT NULL,"              /* tenant.create, device.claim, ... */
          " target TEXT,"
          " detail TEXT,"
          " remote TEXT);"
          "CREATE INDEX audit_tenant ON audit (tenant_id, at);" },
};

const size_t rp_db_n_migrations = sizeof rp_db_migrations / sizeof rp_db_migrations[0];
