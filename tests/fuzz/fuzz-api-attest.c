/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes POST /v1/attest bodies through rp_http_dispatch_raw on a real
 * SQLite store (fuzz-api.h). The tenant "fuzz" trusts fuzz-evidence's
 * manufacturer CA (fuzz-evidence-ca.h), and the store holds its nonce, so
 * the seeds (corpus/api-attest/: that CA's evidence from corpus/evidence/,
 * base64 in a body) reach past the verifier. Before each input that carries
 * evidence the verifier accepts, the store is set as a hash of the input
 * says: the device claimed or not, enabled or not, its software a release,
 * a revoked one or none, development allowed or not, the nonce fresh, used
 * or expired, or made for another device; so every refusal reason and the
 * certificate's path are reached. (For other inputs the nonce is a claimed
 * device's, so that refused evidence reaches the verifier.) Every answer
 * must be one the API gives: 200 with a certificate for the evidence's
 * Alias key, 400, or 403 with a reason of docs/api.md's list. */
#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/common.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "fuzz-api.h"
#include "fuzz-evidence-ca.h"
#include "rampart/evidence.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Claimed in the tenant: the nonce's device for evidence the verifier
 * refuses, so that it reaches the verifier. */
#define CLAIMED_DEVICE "0000000000000000000000000000000000000000000000000000000000000001"
/* Claimed by no tenant. */
#define OTHER_DEVICE "0000000000000000000000000000000000000000000000000000000000000002"

static const char *const reasons[] = {
        "nonce_unknown", "nonce_expired", "nonce_used", "evidence_invalid", "untrusted_manufacturer",
        "device_mismatch", "device_unclaimed", "device_disabled", "development_not_allowed", "software_unknown",
        "software_revoked",
};

static char tenant_id[RP_DB_ID_LEN + 1];

static void sql(const char *q, const char *p1, const char *p2) {
        rp_error err = {};
        int r = p2 ? rp_db_queryv(fuzz.db, NULL, &err, q, p1, p2, NULL)
                   : rp_db_queryv(fuzz.db, NULL, &err, q, p1, NULL);
        if (r < 0)
                fuzz_die(q, &err);
}

static void setup(void) {
        static bool done;
        if (done)
                return;
        fuzz_api_setup();
        json_t *b = json_pack("{s:s}", "ca_pem", fuzz_ca_pem);
        char *body = json_dumps(b, 0);
        fuzz_expect("POST", "/v1/tenants/fuzz/manufacturers", body, 201);
        free(body);
        json_decref(b);
        rp_error err = {};
        rp_db_result *res = NULL;
        if (rp_db_queryv(fuzz.db, &res, &err, "SELECT id FROM tenants WHERE name = 'fuzz'", NULL) < 0 ||
            res->n_rows != 1)
                fuzz_die("the tenant's id", &err);
        snprintf(tenant_id, sizeof tenant_id, "%s", rp_db_result_get(res, 0, 0));
        rp_db_result_free(res);
        fuzz_expect("POST", "/v1/tenants/fuzz/devices", "{\"device_id\": \"" CLAIMED_DEVICE "\"}", 201);
        done = true;
}

/* The claims of the evidence in body, if the verifier accepts it for the
 * fuzz nonce (development allowed); NULL otherwise. */
static rp_evidence_claims *evidence_claims(const uint8_t *data, size_t size) {
        json_t *j = json_loadb((const char *) data, size, 0, NULL);
        const char *b64 = json_string_value(json_object_get(j, "evidence"));
        uint8_t *ev = NULL;
        size_t len = 0;
        rp_evidence_claims *c = NULL;
        uint8_t nonce[sizeof fuzz_nonce_hex / 2];
        if (b64 && api_base64_decode(b64, strlen(b64), RP_EVIDENCE_MAX_SIZE, &ev, &len) == 0 &&
            rp_hex_decode(fuzz_nonce_hex, nonce, sizeof nonce) == 0) {
                rp_evidence_policy p = { .ca_pem = fuzz_ca_pem, .ca_pem_len = strlen(fuzz_ca_pem), .nonce = nonce,
                                         .nonce_len = sizeof nonce, .allow_development = true };
                if (rp_evidence_verify(ev, len, &p, &c, NULL) < 0)
                        c = NULL;
        }
        free(ev);
        json_decref(j);
        return c;
}

/* The store as the input's hash says, for the device of claims. */
static void arrange(const rp_evidence_claims *c, uint32_t h) {
        char m[2 * RP_EVIDENCE_DIGEST_LEN + 1];
        rp_hex_encode_buf(c->measurement, sizeof c->measurement, m);
        sql("DELETE FROM devices WHERE id = $1", c->device_id, NULL);
        if (!(h & 1))
                sql("INSERT INTO devices (id, tenant_id, enabled, claimed_at) VALUES ($1, $2, 1, 0)", c->device_id,
                    tenant_id);
        if (h & 2)
                sql("UPDATE devices SET enabled = 0 WHERE id = $1", c->device_id, NULL);
        sql("DELETE FROM releases WHERE measurement = $1", m, NULL);
        if ((h & 12) != 12)
                sql("INSERT INTO releases (id, tenant_id, kind, name, version, measurement, revoked, created_at) "
                    "VALUES ('00000000000000000000000000000000', $1, 'os', 'OS', '1', $2, 0, 0)", tenant_id, m);
        if ((h & 12) == 4)
                sql("UPDATE releases SET revoked = 1 WHERE measurement = $1", m, NULL);
        sql((h & 16) ? "UPDATE tenants SET allow_development = 0 WHERE id = $1"
                     : "UPDATE tenants SET allow_development = 1 WHERE id = $1", tenant_id, NULL);
        sql("UPDATE nonces SET device_id = $1, used_at = NULL, expires_at = 9000000000 WHERE nonce = $2",
            (h & 96) == 32 ? OTHER_DEVICE : c->device_id, fuzz_nonce_hex);
        if ((h & 96) == 64)
                sql("UPDATE nonces SET used_at = 1 WHERE nonce = $1", fuzz_nonce_hex, NULL);
        if ((h & 96) == 96)
                sql("UPDATE nonces SET expires_at = 1 WHERE nonce = $1", fuzz_nonce_hex, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        setup();
        /* The fuzz nonce, fresh, for a claimed device. */
        sql("DELETE FROM nonces WHERE nonce = $1", fuzz_nonce_hex, NULL);
        sql("INSERT INTO nonces (nonce, device_id, expires_at) VALUES ($1, $2, 9000000000)", fuzz_nonce_hex,
            CLAIMED_DEVICE);
        rp_evidence_claims *c = evidence_claims(data, size);
        if (c) {
                uint32_t h = 2166136261u;       /* FNV-1a */
                for (size_t i = 0; i < size; i++)
                        h = (h ^ data[i]) * 16777619u;
                arrange(c, h);
        }
        int status;
        char *out = fuzz_request("POST", "/v1/attest", NULL, data, size, &status);
        json_t *j = json_loads(out, 0, NULL);
        if (status == 200) {
                const char *cert = json_string_value(json_object_get(j, "certificate"));
                const char *id = json_string_value(json_object_get(j, "device_id"));
                if (!c || !cert || !id || !json_is_string(json_object_get(j, "ca_certificate")) ||
                    !streq(id, c->device_id))
                        abort();
                /* The certificate is for the evidence's Alias key. */
                BIO *bio = BIO_new_mem_buf(cert, -1);
                X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
                unsigned char *spki = NULL;
                int n = x ? i2d_PUBKEY(X509_get0_pubkey(x), &spki) : -1;
                if (n <= 0 || (size_t) n != c->alias_public_key_len ||
                    memcmp(spki, c->alias_public_key, (size_t) n) != 0)
                        abort();
                OPENSSL_free(spki);
                X509_free(x);
                BIO_free(bio);
        } else if (status == 403) {
                const char *code = json_string_value(json_object_get(json_object_get(j, "error"), "code"));
                bool known = false;
                for (size_t i = 0; code && i < sizeof reasons / sizeof reasons[0]; i++)
                        known |= streq(code, reasons[i]);
                if (!known)
                        abort();
        } else if (status != 400) {
                abort();
        }
        json_decref(j);
        free(out);
        rp_evidence_claims_free(c);
        return 0;
}
