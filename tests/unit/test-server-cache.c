/* SPDX-License-Identifier: Apache-2.0 */
/* What POST /v1/attest keeps decoded per worker thread (src/server/api/
 * cache.h), against a real SQLite store: with more tenants than the
 * tables hold, every lookup still gives the tenant's own CA and trust set;
 * a CA replaced, a manufacturer row added or removed, is what the next
 * lookup gives; rows that do not hold what they say are still read right;
 * rows that cannot be read are refused as the verifier would. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "api/cache.h"
#include "api/certs.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "store/db.h"
#include "testlib.h"

#define N_TENANTS (API_CACHE_ENTRIES + 8)

typedef struct tenant {
        char id[RP_DB_ID_LEN + 1];
        char *ca_pem, *key_pem;
        char *maker_pem;                        /* the manufacturer CA it trusts */
        char maker_fp[API_FINGERPRINT_LEN + 1];
} tenant;

static rp_db *db;
static tenant tenants[N_TENANTS];
static char *service_pem;                       /* a CA every tenant trusts */
static char service_fp[API_FINGERPRINT_LEN + 1];
static int64_t clock_now = 1700000000;

static void sql(const char *q, const char *p1, const char *p2, const char *p3, const char *p4) {
        rp_error err = {0};
        if (rp_db_queryv(db, NULL, &err, q, p1, p2, p3, p4, NULL) < 0)
                fail_msg("%s: %s", q, err.message);
}

/* A CA certificate and key (a tenant CA's profile serves for any CA). */
static void make_ca(const char *name, char **ret_pem, char **ret_key) {
        rp_error err = {0};
        if (api_tenant_ca_create(name, clock_now, ret_pem, ret_key, &err) < 0)
                fail_msg("api_tenant_ca_create: %s", err.message);
}

static void add_manufacturer(const char *scope, const char *pem, const char *fp, char ret_id[RP_DB_ID_LEN + 1]) {
        char id[RP_DB_ID_LEN + 1], at[RP_DB_INT_STRLEN];
        assert_int_equal(rp_db_new_id(id), 0);
        /* created_at orders the rows: one second apart. */
        rp_db_int(++clock_now, at);
        rp_error err = {0};
        if (rp_db_queryv(db, NULL, &err, "INSERT INTO manufacturers (id, scope, name, ca_cert_pem, fingerprint, "
                         "created_at) VALUES ($1, $2, 'm', $3, $4, $5)", id, scope, pem, fp, at, NULL) < 0)
                fail_msg("insert a manufacturer: %s", err.message);
        if (ret_id)
                memcpy(ret_id, id, sizeof id);
}

static int setup(void **state) {
        _cleanup_free_ char *path = test_path(test_tmpdir(), "cache.sqlite");
        _cleanup_free_ char *store = NULL;
        assert_true(asprintf(&store, "sqlite:%s", path) > 0);
        rp_error err = {0};
        if (rp_db_open(store, &db, &err) < 0)
                fail_msg("rp_db_open: %s", err.message);
        _cleanup_free_ char *service_key = NULL;
        make_ca("service maker", &service_pem, &service_key);
        assert_int_equal(api_cert_fingerprint(service_pem, service_fp, &err), 0);
        add_manufacturer("", service_pem, service_fp, NULL);
        for (size_t i = 0; i < N_TENANTS; i++) {
                tenant *t = &tenants[i];
                char name[32], at[RP_DB_INT_STRLEN];
                snprintf(name, sizeof name, "t%zu", i);
                assert_int_equal(rp_db_new_id(t->id), 0);
                make_ca(name, &t->ca_pem, &t->key_pem);
                rp_db_int(clock_now, at);
                sql("INSERT INTO tenants (id, name, ca_cert_pem, ca_key_pem, created_at) VALUES ($1, $2, $3, $4, 0)",
                    t->id, name, t->ca_pem, t->key_pem);
                _cleanup_free_ char *maker_key = NULL;
                make_ca(name, &t->maker_pem, &maker_key);
                assert_int_equal(api_cert_fingerprint(t->maker_pem, t->maker_fp, &err), 0);
                add_manufacturer(t->id, t->maker_pem, t->maker_fp, NULL);
        }
        return 0;
}

static int teardown(void **state) {
        for (size_t i = 0; i < N_TENANTS; i++) {
                free(tenants[i].ca_pem);
                free(tenants[i].key_pem);
                free(tenants[i].maker_pem);
        }
        free(service_pem);
        rp_db_close(db);
        return 0;
}

static X509 *pem_cert(const char *pem) {
        BIO *bio = BIO_new_mem_buf(pem, -1);
        X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        BIO_free(bio);
        assert_non_null(x);
        return x;
}

/* x is the certificate in pem. */
static void expect_cert(X509 *x, const char *pem) {
        X509 *want = pem_cert(pem);
        assert_int_equal(X509_cmp(x, want), 0);
        X509_free(want);
}

/* t's CA through the cache: its certificate, with its key. */
static void expect_tenant_ca(const tenant *t, const char *pem_read) {
        const api_tenant_ca *ca = NULL;
        bool store = true;
        rp_error err = {0};
        if (api_cache_tenant_ca(db, t->id, pem_read, &ca, &store, &err) < 0)
                fail_msg("api_cache_tenant_ca: %s", err.message);
        assert_string_equal(ca->cert_pem, t->ca_pem);
        expect_cert(ca->cert, t->ca_pem);
        assert_int_equal(X509_check_private_key(ca->cert, ca->key), 1);
}

/* t's trust set through the cache: the certificates of pems, in order. */
static void expect_trusted(const tenant *t, const char *const *pems, size_t n) {
        STACK_OF(X509) *cas = (STACK_OF(X509) *) 0x1;
        bool store = true;
        rp_error err = {0};
        if (api_cache_trusted(db, t->id, &cas, &store, &err) < 0)
                fail_msg("api_cache_trusted: %s", err.message);
        if (n == 0) {
                assert_null(cas);
                return;
        }
        assert_non_null(cas);
        assert_int_equal(sk_X509_num(cas), (int) n);
        for (size_t i = 0; i < n; i++)
                expect_cert(sk_X509_value(cas, (int) i), pems[i]);
}

/* More tenants than entries, in several orders: each gets its own CA. */
static void test_tenant_cas(void **state) {
        for (int round = 0; round < 3; round++)
                for (size_t k = 0; k < N_TENANTS; k++) {
                        /* Forwards, backwards, then strided. */
                        size_t i = round == 0 ? k : round == 1 ? N_TENANTS - 1 - k : (k * 7) % N_TENANTS;
                        expect_tenant_ca(&tenants[i], tenants[i].ca_pem);
                }
        /* The most recent ones, again and again (hits). */
        for (int round = 0; round < 3; round++)
                for (size_t i = 0; i < 4; i++)
                        expect_tenant_ca(&tenants[i], tenants[i].ca_pem);
}

/* A tenant CA replaced in the store: the next request reads the new
 * certificate, and gets the new CA; one whose read is not what the cache
 * holds gets what the store holds now. */
static void test_tenant_ca_replaced(void **state) {
        tenant *t = &tenants[3];
        expect_tenant_ca(t, t->ca_pem);
        char *pem = NULL, *key = NULL;
        make_ca("t3 again", &pem, &key);
        sql("UPDATE tenants SET ca_cert_pem = $1, ca_key_pem = $2 WHERE id = $3", pem, key, t->id, NULL);
        char *old = t->ca_pem;
        free(t->key_pem);
        t->ca_pem = pem;
        t->key_pem = key;
        expect_tenant_ca(t, t->ca_pem);
        expect_tenant_ca(t, t->ca_pem);
        expect_tenant_ca(t, old);       /* read before the change: a miss, the store's */
        free(old);
        /* A tenant whose CA cannot be read: refused, not the store's fault. */
        sql("UPDATE tenants SET ca_key_pem = 'not a key' WHERE id = $1", t->id, NULL, NULL, NULL);
        const api_tenant_ca *ca = NULL;
        bool store = true;
        rp_error err = {0};
        assert_int_equal(api_cache_tenant_ca(db, t->id, "another certificate", &ca, &store, &err), -EINVAL);
        assert_false(store);
        assert_string_equal(err.message, "cannot read the tenant CA key");
        sql("UPDATE tenants SET ca_key_pem = $1 WHERE id = $2", t->key_pem, t->id, NULL, NULL);
        expect_tenant_ca(t, "yet another certificate");
}

/* More tenants than entries: each gets the service's CA and its own. */
static void test_trusted_sets(void **state) {
        for (int round = 0; round < 3; round++)
                for (size_t k = 0; k < N_TENANTS; k++) {
                        size_t i = round == 1 ? N_TENANTS - 1 - k : (k * 5 + (size_t) round) % N_TENANTS;
                        const char *const pems[] = { service_pem, tenants[i].maker_pem };
                        expect_trusted(&tenants[i], pems, 2);
                }
}

/* Rows added and removed, at either scope: the next lookup follows. */
static void test_trusted_changes(void **state) {
        tenant *t = &tenants[0], *u = &tenants[1];
        const char *const both[] = { service_pem, t->maker_pem };
        expect_trusted(t, both, 2);
        sql("DELETE FROM manufacturers WHERE scope = ''", NULL, NULL, NULL, NULL);
        const char *const own[] = { t->maker_pem };
        expect_trusted(t, own, 1);
        const char *const u_own[] = { u->maker_pem };
        expect_trusted(u, u_own, 1);
        /* u's CA trusted by t as well: after t's own. */
        char u_row[RP_DB_ID_LEN + 1];
        add_manufacturer(t->id, u->maker_pem, u->maker_fp, u_row);
        const char *const two[] = { t->maker_pem, u->maker_pem };
        expect_trusted(t, two, 2);
        /* The last row removed: what is left is a prefix of the old text. */
        sql("DELETE FROM manufacturers WHERE id = $1", u_row, NULL, NULL, NULL);
        expect_trusted(t, own, 1);
        add_manufacturer(t->id, u->maker_pem, u->maker_fp, NULL);
        expect_trusted(t, two, 2);
        sql("DELETE FROM manufacturers WHERE scope = $1", t->id, NULL, NULL, NULL);
        expect_trusted(t, NULL, 0);
        char id[RP_DB_ID_LEN + 1];
        add_manufacturer("", service_pem, service_fp, id);
        const char *const service[] = { service_pem };
        expect_trusted(t, service, 1);
        const char *const u_both[] = { u->maker_pem, service_pem };
        expect_trusted(u, u_both, 2);
        add_manufacturer(t->id, t->maker_pem, t->maker_fp, NULL);
        expect_trusted(t, both, 2);
}

/* A row changed in place (which the API never does), even under the same
 * fingerprint: the next lookup reads it; a row that cannot be read:
 * refused as the verifier would refuse it. */
static void test_trusted_rows_that_lie(void **state) {
        /* (test_trusted_changes added the service's row again: it now
         * comes after the tenants' own.) */
        tenant *t = &tenants[2];
        const char *const back[] = { t->maker_pem, service_pem };
        expect_trusted(t, back, 2);
        sql("UPDATE manufacturers SET ca_cert_pem = $1 WHERE scope = $2", tenants[5].maker_pem, t->id, NULL, NULL);
        const char *const swapped[] = { tenants[5].maker_pem, service_pem };
        expect_trusted(t, swapped, 2);
        expect_trusted(t, swapped, 2);
        expect_trusted(&tenants[5], swapped, 2);
        sql("UPDATE manufacturers SET ca_cert_pem = $1 WHERE scope = $2", t->maker_pem, t->id, NULL, NULL);
        expect_trusted(t, back, 2);

        sql("UPDATE manufacturers SET ca_cert_pem = $1 WHERE scope = $2", "no certificate\n", t->id, NULL, NULL);
        STACK_OF(X509) *cas = NULL;
        bool store = true;
        rp_error err = {0};
        /* The service's CA alone reads fine: the broken row adds nothing
         * (the verifier skips what is not a certificate block). */
        assert_int_equal(api_cache_trusted(db, t->id, &cas, &store, &err), 0);
        assert_int_equal(sk_X509_num(cas), 1);
        sql("UPDATE manufacturers SET ca_cert_pem = $1 WHERE scope = $2",
            "-----BEGIN CERTIFICATE-----\nMAA=\n-----END CERTIFICATE-----\n", t->id, NULL, NULL);
        assert_int_equal(api_cache_trusted(db, t->id, &cas, &store, &err), -EINVAL);
        assert_false(store);
        assert_non_null(strstr(err.message, "certificate 1 is not a readable PEM certificate"));
        sql("UPDATE manufacturers SET ca_cert_pem = $1, fingerprint = $2 WHERE scope = $3", t->maker_pem,
            t->maker_fp, t->id, NULL);
        expect_trusted(t, back, 2);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_tenant_cas),
                cmocka_unit_test(test_tenant_ca_replaced),
                cmocka_unit_test(test_trusted_sets),
                cmocka_unit_test(test_trusted_changes),
                cmocka_unit_test(test_trusted_rows_that_lie),
        };
        return test_exit(cmocka_run_group_tests(tests, setup, teardown));
}
