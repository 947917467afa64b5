/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes rampart-server's router: method, request target (path, %-escapes,
 * path parameters, query string) and body, through rp_http_dispatch_raw on
 * a real SQLite store (fuzz-api.h). Input: the first byte picks the method
 * (modulo the list below), the bytes up to the first newline are the target,
 * the rest is the body. Requests carry the operator's token except DELETEs
 * (which would otherwise soon have deleted every fixture). Every answer
 * must be one the API gives, errors well-formed (fuzz_request), and the
 * service must still answer GET /healthz. Seeds: corpus/api-route/. */
#include "fuzz-api.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const methods[] = { "GET", "POST", "PATCH", "DELETE", "PUT", "HEAD", "OPTIONS", "BREW" };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        fuzz_api_setup();
        if (size < 1 || size > 64 * 1024)
                return 0;
        const char *method = methods[data[0] % (sizeof methods / sizeof methods[0])];
        const uint8_t *p = data + 1, *end = data + size;
        const uint8_t *nl = memchr(p, '\n', (size_t) (end - p));
        size_t target_len = nl ? (size_t) (nl - p) : (size_t) (end - p);
        char *target = malloc(target_len + 1);
        if (!target)
                return 0;
        memcpy(target, p, target_len);
        target[target_len] = '\0';      /* a NUL inside ends it, as in a C string from evhttp */
        const uint8_t *body = nl ? nl + 1 : end;
        int status;
        free(fuzz_request(method, target, strcmp(method, "DELETE") ? fuzz.auth : NULL, body, (size_t) (end - body),
                          &status));
        free(target);
        char *out = fuzz_request("GET", "/healthz", NULL, NULL, 0, &status);
        if (status != 200) {
                fprintf(stderr, "fuzz-api-route: /healthz answered %d afterwards: %s\n", status, out);
                abort();
        }
        free(out);
        return 0;
}
