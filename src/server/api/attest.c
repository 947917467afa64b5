/* SPDX-License-Identifier: Apache-2.0 */
/* The device API (docs/api.md, "Attestation"): a single-use nonce, then
 * evidence in and a device certificate out, then /v1/device/self over
 * mTLS with that certificate.
 *
 * POST /v1/attest reads top to bottom in the contract's order:
 *   nonce looked up (not consumed) -> the device's tenant -> trusted CAs
 *   (the service's and the tenant's) -> the evidence verified (the nonce,
 *   the tenant's allow_development) -> the evidence's device is the
 *   nonce's -> the nonce consumed atomically -> the device enabled -> the
 *   measurement a release that is not revoked -> the certificate.
 * The last four write in one transaction (the nonce consumed and the
 * outcome recorded together); the reads they need, and the certificate's
 * signature, come before it.
 * Every outcome is recorded (attestations table, metrics, a log line).
 * What the evidence is checked against (the trusted CAs) and what signs
 * the certificate (the tenant CA) are kept decoded per worker thread
 * (api/cache.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "api/api.h"
#include "api/cache.h"
#include "api/certs.h"
#include "api/common.h"
#include "api/deploy.h"
#include "core/cose_internal.h"
#include "core/macro.h"
#include "core/openssl_cleanup.h"
#include "core/strutil.h"
#include "metrics.h"
#include "rampart/cose.h"
#include "rampart/evidence.h"
#include "rot/evidence_internal.h"
#include "server.h"

#define NONCE_LEN 32
#define NONCE_HEX_LEN (2 * NONCE_LEN)
/* Expired nonces are kept this long after their expiry, so a late device
 * hears nonce_expired rather than nonce_unknown; each new nonce deletes at
 * most NONCE_SWEEP_BATCH older ones. */
#define NONCE_KEEP_EXPIRED 600
#define NONCE_SWEEP_BATCH 100
/* Base64 of RP_EVIDENCE_MAX_SIZE bytes. */
#define EVIDENCE_B64_MAX ((RP_EVIDENCE_MAX_SIZE + 2) / 3 * 4)
#define DETAIL_MAX 512

/* --- POST /v1/attest/nonce --- */

void rp_api_attest_nonce(rp_req *req) {
        static const char *const fields[] = { "device_id", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        const char *device_id;
        if (!body || !api_body_string(req, body, "device_id", true, API_TEXT_NONEMPTY, API_DEVICE_ID_LEN, &device_id))
                return;
        char id[API_DEVICE_ID_LEN + 1];
        if (!api_hex_normalize(device_id, API_DEVICE_ID_LEN, id)) {
                rp_reply_error(req, 400, "bad_request", "device_id: expected 64 hex digits (the device id)");
                return;
        }
        uint8_t raw[NONCE_LEN];
        char nonce[NONCE_HEX_LEN + 1];
        if (RAND_bytes(raw, sizeof raw) != 1) {
                rp_reply_error(req, 500, "internal", "no random bytes for a nonce");
                return;
        }
        rp_hex_encode_buf(raw, sizeof raw, nonce);
        const rp_server *srv = rp_req_server(req);
        int64_t now = api_now(), expires = now + (int64_t) srv->cfg.nonce_ttl;
        char exp_s[RP_DB_INT_STRLEN], old_s[RP_DB_INT_STRLEN], batch[RP_DB_INT_STRLEN];
        rp_db *db = rp_req_db(req);
        rp_error err = {};
        int r = rp_db_queryv(db, NULL, &err, "INSERT INTO nonces (nonce, device_id, expires_at) VALUES ($1, $2, $3)",
                             nonce, id, rp_db_int(expires, exp_s), NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        /* A bounded sweep of long-expired nonces (one statement). */
        r = rp_db_queryv(db, NULL, &err, "DELETE FROM nonces WHERE nonce IN (SELECT nonce FROM nonces WHERE "
                         "expires_at < $1 LIMIT $2)", rp_db_int(now - NONCE_KEEP_EXPIRED, old_s),
                         rp_db_int(NONCE_SWEEP_BATCH, batch), NULL);
        if (r < 0) {
                char q[RP_ERROR_MAX + 8];
                rp_log("event=nonce_sweep_failed request=%s error=%s", rp_req_id(req),
                       rp_log_quote(rp_error_message(&err, r), q, sizeof q));
        }
        rp_reply_json(req, 201, json_pack("{s:s, s:I}", "nonce", nonce, "expires_at", (json_int_t) expires));
}

/* --- POST /v1/attest --- */

/* One attestation as it goes: what the record names. */
typedef struct attempt {
        rp_req *req;
        char nonce[2 * RP_EVIDENCE_NONCE_MAX + 1];      /* hex, lowercase */
        char device_id[API_DEVICE_ID_LEN + 1];          /* the nonce's; "" if unknown */
        char tenant_id[RP_DB_ID_LEN + 1];               /* "" if none */
} attempt;

/* The attestations row for an outcome (reason NULL: accepted). */
static int record(rp_db *db, const attempt *a, const char *reason, const char *detail, rp_error *err) {
        char id[RP_DB_ID_LEN + 1], at[RP_DB_INT_STRLEN];
        int r = rp_db_new_id(id);
        if (r < 0)
                return rp_error_set(err, r, "cannot make an id");
        return rp_db_queryv(db, NULL, err, "INSERT INTO attestations (id, tenant_id, device_id, at, outcome, reason, "
                            "detail, remote) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", id,
                            a->tenant_id[0] ? a->tenant_id : RP_DB_NULL, a->device_id, rp_db_int(api_now_us(), at),
                            reason ? "refused" : "accepted", reason ? reason : RP_DB_NULL, detail ? detail : RP_DB_NULL,
                            rp_req_remote(a->req), NULL);
}

static void log_outcome(const attempt *a, const char *outcome, const char *reason, const char *detail) {
        char q[DETAIL_MAX + 16], rq[80];
        rp_log("event=attestation request=%s outcome=%s reason=%s device=%s tenant=%s remote=%s detail=%s",
               rp_req_id(a->req), outcome, reason ? reason : "-", a->device_id[0] ? a->device_id : "-",
               a->tenant_id[0] ? a->tenant_id : "-", rp_log_quote(rp_req_remote(a->req), rq, sizeof rq),
               rp_log_quote(detail ? detail : "", q, sizeof q));
}

/* The detail of a refusal with reason: fmt's text, printable only (it
 * goes into the record, and messages quote input). */
static void refusal_vdetail(char detail[DETAIL_MAX], const char *reason, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));
static void refusal_vdetail(char detail[DETAIL_MAX], const char *reason, const char *fmt, va_list ap) {
        vsnprintf(detail, DETAIL_MAX, fmt, ap);
        for (char *p = detail; *p; p++)
                if ((unsigned char) *p < 0x20 || (unsigned char) *p == 0x7f)
                        *p = '?';
        if (!rp_str_is_printable(detail, strlen(detail)))
                snprintf(detail, DETAIL_MAX, "%s", reason);
}

static void refusal_detail(char detail[DETAIL_MAX], const char *reason, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static void refusal_detail(char detail[DETAIL_MAX], const char *reason, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        refusal_vdetail(detail, reason, fmt, ap);
        va_end(ap);
}

/* A refusal already recorded: counted, logged, and answered 403. */
static void refused(attempt *a, const char *reason, const char *detail) {
        rp_metrics_attestation("refused", reason);
        log_outcome(a, "refused", reason, detail);
        rp_reply_error(a->req, 403, reason, "%s", detail);
}

/* Refuses the attestation with reason (a code of docs/api.md's list):
 * recorded, counted, logged, and answered 403 with the message. */
static void refuse(attempt *a, const char *reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void refuse(attempt *a, const char *reason, const char *fmt, ...) {
        char detail[DETAIL_MAX];
        va_list ap;
        va_start(ap, fmt);
        refusal_vdetail(detail, reason, fmt, ap);
        va_end(ap);
        rp_error err = {};
        rp_db *db = rp_req_db(a->req);
        /* Refused before its tenant was looked up (the nonce's checks): the
         * record still goes to the tenant that has the device, if one does,
         * so a tenant sees replays against its devices. */
        int r = 0;
        if (!a->tenant_id[0] && a->device_id[0]) {
                _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
                r = rp_db_queryv(db, &res, &err, "SELECT tenant_id FROM devices WHERE id = $1", a->device_id, NULL);
                if (r >= 0 && res->n_rows == 1)
                        snprintf(a->tenant_id, sizeof a->tenant_id, "%s", rp_db_result_get(res, 0, 0));
        }
        if (r >= 0)
                r = record(db, a, reason, detail, &err);
        if (r < 0) {
                char q[RP_ERROR_MAX + 8];
                rp_metrics_error("store");
                rp_log("event=attestation_record_failed request=%s error=%s", rp_req_id(a->req),
                       rp_log_quote(rp_error_message(&err, r), q, sizeof q));
        }
        refused(a, reason, detail);
}

/* What the device's tenant gives the check. Its CA (the key too) comes
 * from the worker's cache (api/cache.h), by the certificate's text. */
typedef struct tenant_view {
        char name[API_NAME_MAX + 1];
        bool allow_development, enabled;
        char *ca_cert_pem;
} tenant_view;

static void tenant_view_done(tenant_view *t) {
        free(t->ca_cert_pem);
}

/* The tenant that has claimed device_id: 0, -ENOENT if none, or a store error. */
static int load_tenant(rp_db *db, attempt *a, tenant_view *ret, rp_error *err) {
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "SELECT d.tenant_id, d.enabled, t.name, t.allow_development, "
                             "t.ca_cert_pem FROM devices d JOIN tenants t ON t.id = d.tenant_id WHERE d.id = $1",
                             a->device_id, NULL);
        if (r < 0)
                return r;
        if (res->n_rows != 1)
                return -ENOENT;
        snprintf(a->tenant_id, sizeof a->tenant_id, "%s", rp_db_result_get(res, 0, 0));
        ret->enabled = rp_db_result_int(res, 0, 1, 0) != 0;
        snprintf(ret->name, sizeof ret->name, "%s", rp_db_result_get(res, 0, 2));
        ret->allow_development = rp_db_result_int(res, 0, 3, 0) != 0;
        /* Taken from the result, which then frees NULLs. */
        ret->ca_cert_pem = TAKE_PTR(res->cells[4]);
        if (!ret->ca_cert_pem)
                return rp_error_set(err, -EIO, "the tenant has no CA");
        return 0;
}

/* After a refusal of the verifier's: does the evidence's chain reach any of
 * the trusted CAs? False means the manufacturer is not trusted (the issuer
 * of its DeviceID certificate is not among them); a chain that reaches one
 * but fails otherwise (a bad signature, an expired certificate) is invalid
 * evidence, not an untrusted manufacturer. */
static bool chain_reaches_trusted_ca(const uint8_t *ev, size_t len, STACK_OF(X509) *cas) {
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *msg = NULL;
        size_t used = 0;
        if (rp_cose_sign1_decode(ev, len, &msg, &used, NULL) < 0)
                return true;    /* malformed: evidence_invalid */
        const rp_cose_cert *chain;
        size_t n = rp_cose_sign1_x5chain(msg, &chain);
        if (n < 2)
                return true;
        const unsigned char *p0 = chain[0].der, *p1 = chain[1].der;
        _cleanup_(x509_freep) X509 *leaf = d2i_X509(NULL, &p0, (long) chain[0].len);
        _cleanup_(x509_freep) X509 *mid = d2i_X509(NULL, &p1, (long) chain[1].len);
        _cleanup_(x509_stack_freep) STACK_OF(X509) *untrusted = sk_X509_new_null();
        _cleanup_(x509_store_freep) X509_STORE *store = X509_STORE_new();
        _cleanup_(x509_store_ctx_freep) X509_STORE_CTX *ctx = X509_STORE_CTX_new();
        if (!leaf || !mid || !untrusted || !store || !ctx || !sk_X509_push(untrusted, mid)) {
                ERR_clear_error();
                return true;
        }
        TAKE_PTR(mid);
        if (X509_STORE_CTX_init(ctx, store, leaf, untrusted) != 1) {
                ERR_clear_error();
                return true;
        }
        X509_STORE_CTX_set0_trusted_stack(ctx, cas);
        int ok = X509_verify_cert(ctx);
        int e = X509_STORE_CTX_get_error(ctx);
        ERR_clear_error();
        return ok == 1 || !(e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
                            e == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT || e == X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN ||
                            e == X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT);
}

/* The refusal's reason for a failed verification (r): one of
 * untrusted_manufacturer, development_not_allowed, evidence_invalid. */
static const char *verify_refusal(int r, const uint8_t *ev, size_t len, STACK_OF(X509) *cas,
                                  const rp_evidence_policy *policy) {
        if (r != -EKEYREJECTED)
                return "evidence_invalid";
        if (!chain_reaches_trusted_ca(ev, len, cas))
                return "untrusted_manufacturer";
        if (!policy->allow_development) {
                rp_evidence_policy dev = *policy;
                dev.allow_development = true;
                _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *c = NULL;
                if (rp_evidence_verify_trusted(ev, len, cas, &dev, &c, NULL, NULL) == 0 && c->development)
                        return "development_not_allowed";
        }
        return "evidence_invalid";
}

/* Steps 6 to 9 write in one transaction, so that a nonce is used exactly
 * when its outcome is recorded (and the store syncs once): the nonce
 * consumed, then the refusal found at steps 7-8 recorded, or the device's
 * new state, its certificate's row and the acceptance. */
typedef struct outcome_tx {
        const attempt *a;
        const char *refusal;                    /* steps 7-8's, or NULL */
        const char *refusal_detail;
        const rp_evidence_claims *claims;       /* accepted: what to record */
        const char *measurement, *serial;
        int64_t now, not_after;
        /* Out: the refusal recorded (NULL: accepted), and its detail. */
        const char *reason;
        char detail[DETAIL_MAX];
} outcome_tx;

static int outcome_refused(rp_db *db, outcome_tx *x, const char *reason, const char *detail, rp_error *err) {
        x->reason = reason;
        if (detail != x->detail)
                snprintf(x->detail, sizeof x->detail, "%s", detail);
        return record(db, x->a, x->reason, x->detail, err);
}

static int outcome_tx_run(rp_db *db, void *userdata, rp_error *err) {
        outcome_tx *x = userdata;
        x->reason = NULL;
        char now[RP_DB_INT_STRLEN], exp[RP_DB_INT_STRLEN];
        rp_db_int(x->now, now);

        /* 6. The nonce, consumed: one attestation per nonce, whatever races. */
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, err, "UPDATE nonces SET used_at = $1 WHERE nonce = $2 AND used_at IS NULL AND "
                             "expires_at > $1", now, x->a->nonce, NULL);
        if (r < 0)
                return r;
        if (res->changes != 1)
                return outcome_refused(db, x, "nonce_used", "the nonce was used already (or expired meanwhile); each "
                                       "attestation needs a new one", err);
        /* 7-8. */
        if (x->refusal)
                return outcome_refused(db, x, x->refusal, x->refusal_detail, err);

        /* 9. The device's new state, unless it changed since step 2. */
        rp_db_result_free(TAKE_PTR(res));
        r = rp_db_queryv(db, &res, err, "UPDATE devices SET last_attested_at = $1, last_measurement = $2, "
                         "last_swversion = $3 WHERE id = $4 AND tenant_id = $5 AND enabled = 1", now,
                         x->measurement, x->claims->swversion, x->a->device_id, x->a->tenant_id, NULL);
        if (r < 0)
                return r;
        if (res->changes == 0) {
                /* Released or disabled since we looked. */
                rp_db_result_free(TAKE_PTR(res));
                r = rp_db_queryv(db, &res, err, "SELECT enabled FROM devices WHERE id = $1 AND tenant_id = $2",
                                 x->a->device_id, x->a->tenant_id, NULL);
                if (r < 0)
                        return r;
                bool disabled = res->n_rows == 1;
                refusal_detail(x->detail, "device_unclaimed", "device %s was %s while it attested", x->a->device_id,
                               disabled ? "disabled" : "released");
                return outcome_refused(db, x, disabled ? "device_disabled" : "device_unclaimed", x->detail, err);
        }
        r = rp_db_queryv(db, NULL, err, "INSERT INTO certificates (serial, tenant_id, device_id, issued_at, "
                         "expires_at) VALUES ($1, $2, $3, $4, $5)", x->serial, x->a->tenant_id, x->a->device_id, now,
                         rp_db_int(x->not_after, exp), NULL);
        if (r < 0)
                return r;
        return record(db, x->a, NULL, NULL, err);
}

/* The body: the nonce (hex) and the evidence (base64), or false after 400. */
static bool read_body(rp_req *req, attempt *a, uint8_t **ret_ev, size_t *ret_len) {
        static const char *const fields[] = { "nonce", "evidence", NULL };
        _cleanup_(json_decrefp) json_t *body = api_body(req, fields);
        const char *nonce, *evidence;
        if (!body || !api_body_string(req, body, "nonce", true, API_TEXT_NONEMPTY, 2 * RP_EVIDENCE_NONCE_MAX, &nonce) ||
            !api_body_string(req, body, "evidence", true, API_TEXT_NONEMPTY, EVIDENCE_B64_MAX, &evidence))
                return false;
        /* The service's nonces are 32 bytes; any nonce evidence can carry
         * is read, and one it did not give is nonce_unknown. */
        size_t n = strlen(nonce);
        if (n % 2 || n < 2 * RP_EVIDENCE_NONCE_MIN || !api_hex_normalize(nonce, n, a->nonce)) {
                rp_reply_error(req, 400, "bad_request", "nonce: expected hex (the 64 digits POST /v1/attest/nonce "
                               "gave)");
                return false;
        }
        int r = api_base64_decode(evidence, strlen(evidence), RP_EVIDENCE_MAX_SIZE, ret_ev, ret_len);
        if (r == -ENOMEM) {
                rp_reply_error(req, 500, "internal", "out of memory");
                return false;
        }
        if (r < 0) {
                rp_reply_error(req, 400, "bad_request", "evidence: expected base64 (RFC 4648, standard alphabet) "
                               "of the COSE_Sign1 rampart-secmon made, at most %d bytes", RP_EVIDENCE_MAX_SIZE);
                return false;
        }
        return true;
}

void rp_api_attest(rp_req *req) {
        attempt a = { .req = req };
        _cleanup_free_ uint8_t *ev = NULL;
        size_t ev_len = 0;
        if (!read_body(req, &a, &ev, &ev_len))
                return;
        rp_db *db = rp_req_db(req);
        const rp_server *srv = rp_req_server(req);
        rp_error err = {};
        int64_t now = api_now();

        /* 1. The nonce, looked up (not consumed). */
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(db, &res, &err, "SELECT device_id, expires_at, used_at FROM nonces WHERE nonce = $1",
                             a.nonce, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                refuse(&a, "nonce_unknown", "this service gave no nonce %s (or it expired long ago): ask POST "
                       "/v1/attest/nonce for one", a.nonce);
                return;
        }
        snprintf(a.device_id, sizeof a.device_id, "%s", rp_db_result_get(res, 0, 0));
        if (rp_db_result_get(res, 0, 2)) {
                refuse(&a, "nonce_used", "the nonce was used already; each attestation needs a new one");
                return;
        }
        if (rp_db_result_int(res, 0, 1, 0) <= now) {
                refuse(&a, "nonce_expired", "the nonce expired; ask POST /v1/attest/nonce for a new one");
                return;
        }

        /* 2. The device's tenant. */
        _cleanup_(tenant_view_done) tenant_view t = {};
        r = load_tenant(db, &a, &t, &err);
        if (r == -ENOENT) {
                refuse(&a, "device_unclaimed", "device %s is not claimed by any tenant", a.device_id);
                return;
        }
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }

        /* 3. The trusted manufacturer CAs, decoded (the worker's cache). */
        STACK_OF(X509) *cas = NULL;
        bool store_failed = false;
        r = api_cache_trusted(db, a.tenant_id, &cas, &store_failed, &err);
        if (r < 0 && store_failed) {
                api_reply_store(req, r, &err);
                return;
        }
        if (r == -ENOMEM) {
                rp_metrics_error("internal");
                rp_reply_error(req, 500, "internal", "the evidence could not be checked; try again");
                return;
        }
        /* Certificates the store holds but that cannot be read: the
         * evidence cannot be checked, so it is not trusted. */
        if (r < 0) {
                refuse(&a, "evidence_invalid", "%s", rp_error_message(&err, r));
                return;
        }
        if (!cas) {
                refuse(&a, "untrusted_manufacturer", "neither the service nor the device's tenant trusts a "
                       "manufacturer CA");
                return;
        }

        /* 4. The evidence, for this nonce, under the tenant's policy. */
        uint8_t nonce[RP_EVIDENCE_NONCE_MAX];
        size_t nonce_len = strlen(a.nonce) / 2;
        RP_INVARIANT(rp_hex_decode(a.nonce, nonce, nonce_len) == 0);
        rp_evidence_policy policy = {
                .nonce = nonce, .nonce_len = nonce_len, .allow_development = t.allow_development,
        };
        _cleanup_(rp_evidence_claims_freep) rp_evidence_claims *claims = NULL;
        _cleanup_(x509_freep) X509 *alias = NULL;
        r = rp_evidence_verify_trusted(ev, ev_len, cas, &policy, &claims, &alias, &err);
        if (r == -ENOMEM) {
                rp_metrics_error("internal");
                rp_reply_error(req, 500, "internal", "the evidence could not be checked; try again");
                return;
        }
        /* Anything else is a refusal, -EIO too ("a check could not be
         * made"): crafted certificates can make OpenSSL fail rather than
         * judge, and evidence that cannot be checked is not trusted. */
        if (r < 0) {
                refuse(&a, verify_refusal(r, ev, ev_len, cas, &policy), "%s", rp_error_message(&err, r));
                return;
        }

        /* 5. The evidence speaks for the nonce's device. */
        if (!streq(claims->device_id, a.device_id)) {
                refuse(&a, "device_mismatch", "the evidence is from device %s, the nonce was for device %s",
                       claims->device_id, a.device_id);
                return;
        }

        /* 6-9 write in one transaction (outcome_tx_run): the nonce is
         * consumed there, before what steps 7-8 found here is recorded. */
        char measurement[2 * RP_EVIDENCE_DIGEST_LEN + 1], detail[DETAIL_MAX] = "";
        rp_hex_encode_buf(claims->measurement, sizeof claims->measurement, measurement);
        char serial[API_SERIAL_HEX_LEN + 1] = "";
        outcome_tx x = {
                .a = &a, .claims = claims, .measurement = measurement, .serial = serial, .now = now,
                .refusal_detail = detail,
        };

        /* 7. The device is enabled. */
        if (!t.enabled) {
                x.refusal = "device_disabled";
                refusal_detail(detail, x.refusal, "device %s is disabled in its tenant", a.device_id);
        }

        /* 8. Its software is a release of the tenant's, not revoked. */
        if (!x.refusal) {
                rp_db_result_free(TAKE_PTR(res));
                r = rp_db_queryv(db, &res, &err, "SELECT revoked FROM releases WHERE tenant_id = $1 AND "
                                 "measurement = $2", a.tenant_id, measurement, NULL);
                if (r < 0) {
                        api_reply_store(req, r, &err);
                        return;
                }
                if (res->n_rows != 1) {
                        x.refusal = "software_unknown";
                        refusal_detail(detail, x.refusal, "the device runs software with measurement %s, which is "
                                       "no release of its tenant's (add it with POST /v1/tenants/{tenant}/releases)",
                                       measurement);
                } else if (rp_db_result_int(res, 0, 0, 1) != 0) {
                        x.refusal = "software_revoked";
                        refusal_detail(detail, x.refusal, "the device runs software with measurement %s, a revoked "
                                       "release: it must update before it gets a certificate", measurement);
                }
        }

        /* 9. The certificate, made before the transaction records it. */
        const api_tenant_ca *ca = NULL;
        _cleanup_free_ char *cert = NULL;
        if (!x.refusal) {
                r = api_cache_tenant_ca(db, a.tenant_id, t.ca_cert_pem, &ca, &store_failed, &err);
                if (r < 0 && store_failed) {
                        api_reply_store(req, r, &err);
                        return;
                }
                if (r >= 0) {
                        api_device_cert_request rq = {
                                .ca_cert = ca->cert, .ca_key = ca->key, .tenant_id = a.tenant_id,
                                .tenant_name = t.name, .device_id = a.device_id,
                                .public_key = X509_get_X509_PUBKEY(alias), .now = now,
                                .lifetime = srv->cfg.cert_lifetime,
                        };
                        r = api_device_cert_issue(&rq, &cert, serial, &x.not_after, &err);
                }
                if (r < 0) {
                        char q[RP_ERROR_MAX + 8];
                        rp_metrics_error("internal");
                        rp_log("event=certificate_failed request=%s error=%s", rp_req_id(req),
                               rp_log_quote(rp_error_message(&err, r), q, sizeof q));
                        rp_reply_error(req, 500, "internal", "the certificate could not be made");
                        return;
                }
        }
        /* 10. The key the device will check its deployment documents
         * with (made on the tenant's first use, then from the worker's
         * cache), before anything is recorded. */
        const api_deployment_key *dk = NULL;
        if (!x.refusal) {
                r = api_deployment_key_get(db, a.tenant_id, &dk, &err);
                if (r < 0) {
                        api_reply_store(req, r, &err);
                        return;
                }
        }
        r = rp_db_transact(db, outcome_tx_run, &x, &err);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (x.reason) {
                refused(&a, x.reason, x.detail);
                return;
        }
        /* Accepted: no refusal of steps 7-8 (the transaction records
         * those), so the certificate was made. */
        RP_INVARIANT(ca && cert && dk);
        rp_metrics_attestation("accepted", NULL);
        rp_metrics_certificate_issued();
        log_outcome(&a, "accepted", NULL, serial);
        rp_reply_json(req, 200, json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:s, s:s}", "device_id", a.device_id,
                                          "tenant", t.name, "tenant_id", a.tenant_id, "certificate", cert,
                                          "ca_certificate", ca->cert_pem, "expires_at", (json_int_t) x.not_after,
                                          "serial", serial, "deployment_key", dk->public_pem));
}

/* --- GET /v1/device/self (mTLS: auth.c checked the certificate) --- */

void rp_api_device_self(rp_req *req) {
        const rp_principal *p = rp_req_principal(req);
        if (p->kind != RP_PRINCIPAL_DEVICE) {
                rp_reply_error(req, 401, "unauthenticated", "this route needs a device certificate");
                return;
        }
        rp_error err = {};
        _cleanup_(rp_db_result_freep) rp_db_result *res = NULL;
        int r = rp_db_queryv(rp_req_db(req), &res, &err, "SELECT t.name, pr.name, g.name FROM devices d JOIN tenants t "
                             "ON t.id = d.tenant_id LEFT JOIN device_groups g ON g.id = d.device_group_id LEFT JOIN "
                             "products pr ON pr.id = g.product_id WHERE d.id = $1 AND d.tenant_id = $2", p->device_id,
                             p->tenant_id, NULL);
        if (r < 0) {
                api_reply_store(req, r, &err);
                return;
        }
        if (res->n_rows != 1) {
                rp_reply_error(req, 403, "forbidden", "the device is no longer claimed by its certificate's tenant");
                return;
        }
        const char *product = rp_db_result_get(res, 0, 1), *group = rp_db_result_get(res, 0, 2);
        _cleanup_free_ char *ref = NULL;
        if (product && group && asprintf(&ref, "%s/%s", product, group) < 0)
                ref = NULL;
        rp_reply_json(req, 200, json_pack("{s:s, s:o, s:s, s:o, s:I}", "device_id", p->device_id, "tenant",
                                          api_json_text(rp_db_result_get(res, 0, 0)), "tenant_id", p->tenant_id,
                                          "device_group", api_json_text(ref), "certificate_expires_at",
                                          (json_int_t) p->cert_expires_at));
}
