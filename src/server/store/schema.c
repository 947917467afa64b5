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
        { 2, "image signing keys, uploads, images, deployments, device state, error reports",
          /* Every change to what a device's deployment document says takes
           * the next number of its tenant's counter (UPDATE tenants SET
           * doc_seq = doc_seq + 1 ... RETURNING doc_seq): a deployment, a
           * group's policy change, a device's move. A document's version is
           * the largest of those that apply to it, so it only grows. */
          "ALTER TABLE tenants ADD COLUMN doc_seq BIGINT NOT NULL DEFAULT 0;"
          "ALTER TABLE device_groups ADD COLUMN policy_seq BIGINT NOT NULL DEFAULT 0;"
          "ALTER TABLE device_groups ADD COLUMN current_deployment_id TEXT;"
          "ALTER TABLE devices ADD COLUMN group_seq BIGINT NOT NULL DEFAULT 0;"
          /* What the device last reported (POST /v1/device/state). */
          "ALTER TABLE devices ADD COLUMN reported_at BIGINT;"
          "ALTER TABLE devices ADD COLUMN reported_doc_version BIGINT;"
          /* The key that signs a tenant's deployment documents (ES256):
           * made on first use, kept in the store like the tenant CA key. */
          "CREATE TABLE deployment_keys ("
          " tenant_id TEXT PRIMARY KEY REFERENCES tenants(id),"
          " key_pem TEXT NOT NULL,"             /* PKCS#8 PEM */
          " public_pem TEXT NOT NULL,"          /* SubjectPublicKeyInfo PEM */
          " key_id TEXT NOT NULL,"              /* rp_key_id, hex */
          " created_at BIGINT NOT NULL);"
          /* Image-signing public keys a tenant trusts (ES256, Ed25519). */
          "CREATE TABLE signing_keys ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " name TEXT NOT NULL,"
          " algorithm TEXT NOT NULL,"           /* ES256, EdDSA */
          " key_id TEXT NOT NULL,"              /* rp_key_id, hex */
          " public_pem TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (tenant_id, key_id));"
          /* Uploads in progress: the bytes are in the blob store's staging
           * area; an upload is never offered as an image until committed. */
          "CREATE TABLE uploads ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " size BIGINT NOT NULL,"              /* declared total */
          " received BIGINT NOT NULL DEFAULT 0,"
          " created_by TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " expires_at BIGINT NOT NULL);"
          /* Images: verified packages. digest = SHA-256 of the package file
           * as uploaded (hex), its blob's name in the blob store. A row is
           * written only after its blob is complete and durable. */
          "CREATE TABLE images ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " digest TEXT NOT NULL,"
          " size BIGINT NOT NULL,"              /* package bytes */
          " component_id TEXT NOT NULL,"
          " type TEXT NOT NULL,"                /* app, rt-app, os */
          " name TEXT NOT NULL,"
          " version BIGINT NOT NULL,"
          " version_name TEXT,"
          " image_sha256 TEXT NOT NULL,"        /* the manifest's image digest, hex */
          " signing_key_id TEXT NOT NULL,"      /* signing_keys.key_id that verified it */
          " build_time BIGINT NOT NULL,"
          " created_by TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (tenant_id, digest));"
          "CREATE INDEX images_component ON images (tenant_id, component_id);"
          /* Deployments: a device group's set of images, at most one per
           * component. The group's current one is
           * device_groups.current_deployment_id; the rest is history. A
           * rollback is a new deployment with an earlier one's images
           * (rollback_of names it). seq: the tenant counter's value. */
          "CREATE TABLE deployments ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL REFERENCES tenants(id),"
          " device_group_id TEXT NOT NULL REFERENCES device_groups(id),"
          " seq BIGINT NOT NULL,"
          " rollback_of TEXT REFERENCES deployments(id),"
          " created_by TEXT NOT NULL,"
          " created_at BIGINT NOT NULL,"
          " UNIQUE (tenant_id, seq));"
          "CREATE INDEX deployments_group ON deployments (device_group_id, seq);"
          "CREATE TABLE deployment_images ("
          " deployment_id TEXT NOT NULL REFERENCES deployments(id),"
          " component_id TEXT NOT NULL,"
          " image_id TEXT NOT NULL REFERENCES images(id),"
          " PRIMARY KEY (deployment_id, component_id));"
          /* Installed state as the device reports it, one row per component. */
          "CREATE TABLE device_components ("
          " device_id TEXT NOT NULL,"
          " component_id TEXT NOT NULL,"
          " tenant_id TEXT NOT NULL,"
          " version BIGINT,"                    /* installed version, NULL if none */
          " digest TEXT,"                       /* installed package digest, hex */
          " state TEXT NOT NULL,"               /* installed, failed */
          " detail TEXT,"                       /* why an install failed */
          " reported_at BIGINT NOT NULL,"
          " PRIMARY KEY (device_id, component_id));"
          /* Failure reports. at: when it happened (device clock, seconds);
           * received_at: when the service stored it (microseconds, also the
           * order). kind: exit_code, signal, restart_loop, update_failure,
           * attestation_failure. */
          "CREATE TABLE error_reports ("
          " id TEXT PRIMARY KEY,"
          " tenant_id TEXT NOT NULL,"
          " device_id TEXT NOT NULL,"
          " device_group_id TEXT,"
          " at BIGINT NOT NULL,"
          " received_at BIGINT NOT NULL,"
          " component_id TEXT,"
          " kind TEXT NOT NULL,"
          " exit_code BIGINT,"
          " signal BIGINT,"
          " details TEXT);"
          "CREATE INDEX error_reports_device ON error_reports (device_id, received_at);"
          "CREATE INDEX error_reports_tenant ON error_reports (tenant_id, received_at);" },
};

const size_t rp_db_n_migrations = sizeof rp_db_migrations / sizeof rp_db_migrations[0];
