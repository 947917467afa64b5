/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* What POST /v1/attest decodes, kept decoded by each worker thread
 * (api/cache.c): the tenant CAs (certificate and key) and the sets of
 * trusted manufacturer CAs. OpenSSL 3.0 spends more time decoding a key or
 * a certificate than verifying a signature, so decoding them for every
 * attestation made most of its cost.
 *
 * Each thread has its own tables (no locks; a worker runs one event loop),
 * of API_CACHE_ENTRIES entries each, the least recently used replaced. An
 * entry is found by tenant id and used only while it was made from exactly
 * what the store holds now, compared on every use:
 *   - a tenant CA by its certificate's PEM text, which the request reads
 *     anyway (the key is made with the certificate and never changes
 *     without it);
 *   - a trust set by the PEM text of the manufacturer rows the tenant
 *     trusts, in order: one query and a comparison of a few kilobytes,
 *     where decoding the certificates would cost far more. The set is what
 *     rp_evidence_verify would decode from that text as its policy's
 *     ca_pem.
 * A manufacturer CA added or removed, or a tenant CA replaced, is seen by
 * the next attestation. The entries a call returns stay valid until the
 * next call of the same function on the same thread. Memory: at most
 * API_CACHE_ENTRIES tenant CAs and as many trust sets of at most 64
 * certificates, per worker. */

#include <stdbool.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "rampart/error.h"
#include "store/db.h"

#define API_CACHE_ENTRIES 32

/* A tenant's CA, decoded. */
typedef struct api_tenant_ca {
        X509 *cert;
        EVP_PKEY *key;
        const char *cert_pem;           /* its PEM, as the store holds it */
} api_tenant_ca;

/* The CA of tenant_id whose certificate is cert_pem (the store's text):
 * from this thread's cache, or read with its key from the store (db) and
 * decoded. *ret's cert_pem is the certificate read (it differs from
 * cert_pem if the CA was replaced between the two reads). On failure,
 * *ret_store says whether the store failed (its code) or the CA it holds
 * cannot be read (-EINVAL) or memory ran out (-ENOMEM). */
int api_cache_tenant_ca(rp_db *db, const char *tenant_id, const char *cert_pem, const api_tenant_ca **ret,
                        bool *ret_store, rp_error *err);

/* The manufacturer CAs tenant_id trusts (the service's and its own, at
 * most 64), decoded as rp_evidence_trusted_parse decodes them: from this
 * thread's cache if the store's rows are still the text it was made from,
 * else read and decoded. *ret_cas is NULL when no CA is trusted. On
 * failure, *ret_store says whether the store failed (its code) or the
 * certificates it holds cannot be read (rp_evidence_trusted_parse's code:
 * -EINVAL, -EFBIG, -ENOMEM). */
int api_cache_trusted(rp_db *db, const char *tenant_id, STACK_OF(X509) **ret_cas, bool *ret_store, rp_error *err);
