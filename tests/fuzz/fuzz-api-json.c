/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the JSON bodies of every POST and PATCH route of the management
 * and device APIs, through rp_http_dispatch_raw on a real SQLite store
 * (fuzz-api.h), as the operator. The input's first byte picks the route
 * (modulo their number), the rest is the body. Every answer must be one the
 * API gives (never 500 or 503), errors well-formed; the store must stay
 * usable (a GET after each request). Seeds: corpus/api-json/, one valid
 * body per route and near misses. */
#include "fuzz-api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DEVICE "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
#define MEASUREMENT "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

/* Every POST and PATCH route of api/routes.c, with its parameters filled
 * in (objects the set-up made). */
static const struct {
        const char *method, *uri;
} routes[] = {
        { "POST", "/v1/tenants" },
        { "PATCH", "/v1/tenants/fuzz" },
        { "POST", "/v1/tenants/fuzz/users" },
        { "POST", "/v1/tenants/fuzz/users/reader/tokens" },
        { "POST", "/v1/tokens" },
        { "POST", "/v1/manufacturers" },
        { "POST", "/v1/tenants/fuzz/manufacturers" },
        { "POST", "/v1/tenants/fuzz/products" },
        { "POST", "/v1/tenants/fuzz/products/gadget/device-groups" },
        { "PATCH", "/v1/tenants/fuzz/products/gadget/device-groups/Development" },
        { "POST", "/v1/tenants/fuzz/devices" },
        { "PATCH", "/v1/tenants/fuzz/devices/" DEVICE },
        { "POST", "/v1/tenants/fuzz/releases" },
        { "POST", "/v1/tenants/fuzz/releases/" MEASUREMENT "/revoke" },
        { "POST", "/v1/attest/nonce" },
        { "POST", "/v1/attest" },
        { "POST", "/v1/tenants/fuzz/signing-keys" },
        { "POST", "/v1/tenants/fuzz/uploads" },
        { "POST", "/v1/tenants/fuzz/images" },
};

static void setup(void) {
        static bool done;
        if (done)
                return;
        fuzz_api_setup();
        fuzz_expect("POST", "/v1/tenants/fuzz/users", "{\"name\": \"reader\", \"role\": \"Reader\"}", 201);
        fuzz_expect("POST", "/v1/tenants/fuzz/products", "{\"name\": \"gadget\"}", 201);
        fuzz_expect("POST", "/v1/tenants/fuzz/devices", "{\"device_id\": \"" DEVICE "\"}", 201);
        fuzz_expect("POST", "/v1/tenants/fuzz/releases",
                    "{\"kind\": \"os\", \"name\": \"OS\", \"version\": \"1\", "
                    "\"measurement\": \"" MEASUREMENT "\"}", 201);
        done = true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        setup();
        if (size < 1)
                return 0;
        size_t i = data[0] % (sizeof routes / sizeof routes[0]);
        int status;
        free(fuzz_request(routes[i].method, routes[i].uri, fuzz.auth, data + 1, size - 1, &status));
        /* Whatever it did, the tenant and its device are still served. */
        free(fuzz_request("GET", "/v1/tenants/fuzz/devices/" DEVICE, fuzz.auth, NULL, 0, &status));
        if (status != 200)
                abort();
        return 0;
}
