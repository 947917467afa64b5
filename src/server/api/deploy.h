/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What the deployment handlers share (api/deploy.c): the tenant's document
 * counter, the version a document gets, and the tenant's deployment key.
 *
 * The counter. Every change to what a tenant's devices are told takes the
 * next value of tenants.doc_seq, in the transaction that makes the change:
 * a deployment (deployments.seq), a group's policy change
 * (device_groups.policy_seq), a device's claim or move
 * (devices.group_seq). A device's document version is the largest of the
 * three that apply to it, so it grows with every change and never repeats
 * a lower number (docs/formats.md, "Deployment document", Versions).
 *
 * The key. Each tenant has one ES256 key that signs its documents, made on
 * first use and kept in the store (deployment_keys) like the tenant CA's
 * key, so every server process signs with the same one: two that make one
 * at the same moment both INSERT ... ON CONFLICT DO NOTHING and then read
 * the row that won. A key never changes once made, so each worker thread
 * keeps the ones it used decoded (API_DEPLOY_KEYS of them, the least
 * recently used replaced). */

#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/deployment.h"
#include "rampart/error.h"
#include "store/db.h"

#define API_DEPLOY_KEYS 32

/* Takes the tenant's next counter value (UPDATE tenants SET doc_seq =
 * doc_seq + 1 ... RETURNING doc_seq). Call it inside the transaction that
 * makes the change. */
int api_doc_seq_next(rp_db *db, const char *tenant_id, int64_t *ret, rp_error *err);

/* A document's version from its three counter values (0 for none). */
static inline int64_t api_doc_version(int64_t deployment_seq, int64_t policy_seq, int64_t group_seq) {
        int64_t v = deployment_seq > policy_seq ? deployment_seq : policy_seq;
        return v > group_seq ? v : group_seq;
}

/* A tenant's deployment key: the private key that signs, its public half
 * as PEM (what devices are given) and its id in hex. */
typedef struct api_deployment_key {
        const rp_key *key;
        const char *public_pem;
        char key_id[2 * RP_KEY_ID_LEN + 1];
} api_deployment_key;

/* The deployment key of tenant_id, made if it has none. From this thread's
 * cache, or the store. What *ret points to stays valid until the thread's
 * next call. Store failures come back with their code. */
int api_deployment_key_get(rp_db *db, const char *tenant_id, const api_deployment_key **ret, rp_error *err);

/* The policy named by a device_groups.update_policy value (RP_UPDATE_NONE,
 * which manages nothing, for a value it does not know). */
rp_update_policy api_update_policy(const char *name);
