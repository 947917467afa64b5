/* SPDX-License-Identifier: Apache-2.0 */
/* The rampart-secmon provider's KEYMGMT "EC" (provider_internal.h): key
 * objects made, compared, imported and exported for OpenSSL. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_dispatch.h>
#include <openssl/core_names.h>
#include <openssl/core_object.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/macro.h"
#include "secmon/client.h"
#include "secmon/provider.h"
#include "secmon/provider_internal.h"

/* ---- KEYMGMT ------------------------------------------------------------ */

static void *km_new(void *provctx) {
        return prov_key_new(provctx);
}

static void km_free(void *keydata) {
        prov_key_unref(keydata);
}

/* The store hands a key object over by reference (store_give_key). */
void *prov_km_load(const void *reference, size_t reference_sz) {
        key *k;

        if (!reference || reference_sz != sizeof k)
                return NULL;
        memcpy(&k, reference, sizeof k);
        return prov_key_ref(k);
}

static void *km_dup(const void *keydata, int selection) {
        const key *src = keydata;
        _cleanup_(prov_key_unrefp) key *k = prov_key_new(src->prov);

        if (!k)
                return NULL;
        if (src->has_pub && (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)) {
                memcpy(k->pub, src->pub, POINT_LEN);
                k->has_pub = true;
        }
        if (src->socket_path && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY)) {
                k->socket_path = strdup(src->socket_path);
                if (!k->socket_path)
                        return NULL;
        }
        return TAKE_PTR(k);
}

/* The private key is "there" when the key object can sign with it. */
static int km_has(const void *keydata, int selection) {
        const key *k = keydata;

        if (!k)
                return 0;
        if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && !k->has_pub)
                return 0;
        if ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && (!k->has_pub || !k->socket_path))
                return 0;
        return 1;   /* the domain parameters are always P-256 */
}

/* Both keys are P-256; with the key pair selected, the public points must
 * be the same (there is no private key to compare). */
static int km_match(const void *keydata1, const void *keydata2, int selection) {
        const key *a = keydata1, *b = keydata2;

        if (selection & OSSL_KEYMGMT_SELECT_KEYPAIR)
                return a->has_pub && b->has_pub && memcmp(a->pub, b->pub, POINT_LEN) == 0;
        return 1;
}

static int km_import_socket(key *k, const OSSL_PARAM *p) {
        const char *path;

        if (!OSSL_PARAM_get_utf8_string_ptr(p, &path) || !prov_socket_path_valid(path, strlen(path))) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: %s is not a socket path", RP_SECMON_PARAM_SOCKET);
                return 0;
        }
        free(k->socket_path);
        k->socket_path = strdup(path);
        if (!k->socket_path) {
                RAISE(k->prov, R_INTERNAL, "out of memory");
                return 0;
        }
        return 1;
}

static int km_import_pub(key *k, const OSSL_PARAM *p) {
        const void *octets;
        size_t len;
        int r;

        if (!OSSL_PARAM_get_octet_string_ptr(p, &octets, &len)) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: the public key is not an octet string");
                return 0;
        }
        r = prov_point_normalize(k->prov->libctx, octets, len, k->pub);
        if (r < 0) {
                RAISE(k->prov, r == -ENOMEM ? R_INTERNAL : R_BAD_KEY,
                      "rampart-secmon: the public key is not a P-256 point");
                return 0;
        }
        k->has_pub = true;
        return 1;
}

/* Takes the group (P-256 only), the public point and the socket path. A
 * private key is refused: secmon's key never leaves it. The socket without
 * a public point reads the point from secmon. */
static int km_import(void *keydata, int selection, const OSSL_PARAM params[]) {
        key *k = keydata;
        const OSSL_PARAM *p;
        const char *group;

        if (!k)
                return 0;
        if (OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PRIV_KEY)) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon holds no private keys: import the public key and %s",
                      RP_SECMON_PARAM_SOCKET);
                return 0;
        }
        p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_GROUP_NAME);
        if (p && (!OSSL_PARAM_get_utf8_string_ptr(p, &group) || !prov_is_p256_name(group))) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: only P-256 (prime256v1) keys are supported");
                return 0;
        }
        if (!p && (selection & OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS) && !(selection & OSSL_KEYMGMT_SELECT_KEYPAIR)) {
                RAISE(k->prov, R_BAD_KEY, "rampart-secmon: no group given");
                return 0;
        }
        p = OSSL_PARAM_locate_const(params, RP_SECMON_PARAM_SOCKET);
        if (p && !km_import_socket(k, p))
                return 0;
        /* OpenSSL 3.0 offers every key to each provider's ECDSA in turn,
         * exporting it with everything selected: another provider's key
         * must not become one of these, which cannot verify. */
        if (!p && (selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY))
                return 0;
        p = OSSL_PARAM_locate_const(params, OSSL_PKEY_PARAM_PUB_KEY);
        if (!(selection & OSSL_KEYMGMT_SELECT_KEYPAIR))
                return 1;
        if (p)
                return km_import_pub(k, p);
        if (k->socket_path)
                return prov_key_read_chain_locked(k, NULL) >= 0;
        RAISE(k->prov, R_BAD_KEY, "rampart-secmon: neither a public key nor %s given", RP_SECMON_PARAM_SOCKET);
        return 0;
}

static const OSSL_PARAM km_import_table[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_utf8_string(RP_SECMON_PARAM_SOCKET, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM km_export_table[] = {
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM *km_import_types(int selection) {
        return km_import_table;
}

static const OSSL_PARAM *km_export_types(int selection) {
        return km_export_table;
}

/* Exports the public part (the group, the point): enough for EVP_PKEY_eq,
 * X509_check_private_key and encoders. A request that includes the private
 * key of a key that can sign is refused, not answered with the public part:
 * OpenSSL 3.0 offers a key to every provider's ECDSA first (EVP_DigestSign-
 * Init exports it with everything selected) and would otherwise hand a
 * public key to OpenSSL's own ECDSA, which cannot sign with it. */
static int km_export(void *keydata, int selection, OSSL_CALLBACK *cb, void *cbarg) {
        key *k = keydata;
        OSSL_PARAM params[3];
        size_t n = 0;

        if (!k || (selection & ~OSSL_KEYMGMT_SELECT_PRIVATE_KEY) == 0 ||
            ((selection & OSSL_KEYMGMT_SELECT_PRIVATE_KEY) && k->socket_path))
                return 0;
        if (selection & (OSSL_KEYMGMT_SELECT_DOMAIN_PARAMETERS | OSSL_KEYMGMT_SELECT_KEYPAIR))
                params[n++] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, (char *) GROUP_NAME, 0);
        if ((selection & OSSL_KEYMGMT_SELECT_PUBLIC_KEY) && k->has_pub)
                params[n++] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY, k->pub, POINT_LEN);
        params[n] = OSSL_PARAM_construct_end();
        return cb(params, cbarg);
}

static int km_get_params(void *keydata, OSSL_PARAM params[]) {
        const key *k = keydata;
        OSSL_PARAM *p;

        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_BITS)) && !OSSL_PARAM_set_int(p, 256))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_SECURITY_BITS)) && !OSSL_PARAM_set_int(p, 128))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MAX_SIZE)) &&
            !OSSL_PARAM_set_int(p, RP_SECMON_SIG_DER_MAX))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_GROUP_NAME)) && !OSSL_PARAM_set_utf8_string(p, GROUP_NAME))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_DEFAULT_DIGEST)) &&
            !OSSL_PARAM_set_utf8_string(p, "SHA256"))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_MANDATORY_DIGEST)) &&
            !OSSL_PARAM_set_utf8_string(p, "SHA256"))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_EC_ENCODING)) &&
            !OSSL_PARAM_set_utf8_string(p, OSSL_PKEY_EC_ENCODING_GROUP))
                return 0;
        if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT)) &&
            !OSSL_PARAM_set_utf8_string(p, OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED))
                return 0;
        if (k->has_pub) {
                if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_PUB_KEY)) &&
                    !OSSL_PARAM_set_octet_string(p, k->pub, POINT_LEN))
                        return 0;
                if ((p = OSSL_PARAM_locate(params, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY)) &&
                    !OSSL_PARAM_set_octet_string(p, k->pub, POINT_LEN))
                        return 0;
        }
        return 1;
}

static const OSSL_PARAM km_gettable_table[] = {
        OSSL_PARAM_int(OSSL_PKEY_PARAM_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_SECURITY_BITS, NULL),
        OSSL_PARAM_int(OSSL_PKEY_PARAM_MAX_SIZE, NULL),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_DEFAULT_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_MANDATORY_DIGEST, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_ENCODING, NULL, 0),
        OSSL_PARAM_utf8_string(OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_PUB_KEY, NULL, 0),
        OSSL_PARAM_octet_string(OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, NULL, 0),
        OSSL_PARAM_END,
};

static const OSSL_PARAM *km_gettable_params(void *provctx) {
        return km_gettable_table;
}

static const char *km_query_operation_name(int operation_id) {
        return operation_id == OSSL_OP_SIGNATURE ? "ECDSA" : NULL;
}

const OSSL_DISPATCH prov_km_functions[] = {
        { OSSL_FUNC_KEYMGMT_NEW, (void (*)(void)) km_new },
        { OSSL_FUNC_KEYMGMT_FREE, (void (*)(void)) km_free },
        { OSSL_FUNC_KEYMGMT_LOAD, (void (*)(void)) prov_km_load },
        { OSSL_FUNC_KEYMGMT_DUP, (void (*)(void)) km_dup },
        { OSSL_FUNC_KEYMGMT_HAS, (void (*)(void)) km_has },
        { OSSL_FUNC_KEYMGMT_MATCH, (void (*)(void)) km_match },
        { OSSL_FUNC_KEYMGMT_IMPORT, (void (*)(void)) km_import },
        { OSSL_FUNC_KEYMGMT_IMPORT_TYPES, (void (*)(void)) km_import_types },
        { OSSL_FUNC_KEYMGMT_EXPORT, (void (*)(void)) km_export },
        { OSSL_FUNC_KEYMGMT_EXPORT_TYPES, (void (*)(void)) km_export_types },
        { OSSL_FUNC_KEYMGMT_GET_PARAMS, (void (*)(void)) km_get_params },
        { OSSL_FUNC_KEYMGMT_GETTABLE_PARAMS, (void (*)(void)) km_gettable_params },
        { OSSL_FUNC_KEYMGMT_QUERY_OPERATION_NAME, (void (*)(void)) km_query_operation_name },
        { 0, NULL },
};
