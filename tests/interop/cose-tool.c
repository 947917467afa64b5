/* SPDX-License-Identifier: Apache-2.0 */
/* A test helper (never installed) that lets the interop scripts drive
 * lib/core/cose.c:
 *
 *   cose-tool sign KEY PAYLOAD_FILE OUT [AAD_HEX]
 *   cose-tool verify PUBKEY IN [AAD_HEX]      prints the payload as hex
 *
 * Exit codes: 0 success, 1 refused (message on stderr), 2 bad usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "rampart/cose.h"

static int parse_aad(const char *hex, uint8_t **ret, size_t *ret_len) {
        size_t n = strlen(hex) / 2;
        uint8_t *b = malloc(n ? n : 1);
        if (!b || rp_hex_decode(hex, b, n) < 0) {
                free(b);
                return -EINVAL;
        }
        *ret = b;
        *ret_len = n;
        return 0;
}

static int do_sign(int argc, char **argv) {
        if (argc < 4 || argc > 5)
                return 2;
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        _cleanup_free_ uint8_t *payload = NULL, *aad = NULL, *out = NULL;
        size_t payload_len, aad_len = 0, out_len;
        int r = rp_key_load_private(argv[1], &key, &err);
        if (r >= 0)
                r = rp_read_file(argv[2], RP_COSE_MAX_SIZE, &payload, &payload_len, &err);
        if (r >= 0 && argc == 5 && parse_aad(argv[4], &aad, &aad_len) < 0)
                return 2;
        if (r >= 0)
                r = rp_cose_sign1_create(key, NULL, payload, payload_len, aad, aad_len, &out, &out_len, &err);
        if (r >= 0)
                r = rp_write_file_atomic(argv[3], out, out_len, 0644, &err);
        if (r < 0) {
                fprintf(stderr, "cose-tool: %s\n", rp_error_message(&err, r));
                return 1;
        }
        return 0;
}

static int do_verify(int argc, char **argv) {
        if (argc < 3 || argc > 4)
                return 2;
        rp_error err = {0};
        _cleanup_(rp_key_freep) rp_key *key = NULL;
        _cleanup_free_ uint8_t *in = NULL, *aad = NULL;
        _cleanup_(rp_cose_sign1_freep) rp_cose_sign1 *msg = NULL;
        size_t in_len, aad_len = 0, used = 0;
        int r = rp_key_load_public(argv[1], &key, &err);
        if (r >= 0)
                r = rp_read_file(argv[2], 2 * RP_COSE_MAX_SIZE, &in, &in_len, &err);
        if (r >= 0 && argc == 4 && parse_aad(argv[3], &aad, &aad_len) < 0)
                return 2;
        if (r >= 0)
                r = rp_cose_sign1_decode(in, in_len, &msg, &used, &err);
        if (r >= 0 && used != in_len)
                r = rp_error_set(&err, -EBADMSG, "%zu bytes after the COSE_Sign1", in_len - used);
        if (r >= 0)
                r = rp_cose_sign1_verify(msg, key, aad, aad_len, &err);
        if (r < 0) {
                fprintf(stderr, "cose-tool: %s\n", rp_error_message(&err, r));
                return 1;
        }
        size_t payload_len;
        const uint8_t *payload = rp_cose_sign1_payload(msg, &payload_len);
        _cleanup_free_ char *hex = rp_hex_encode(payload, payload_len);
        if (!hex)
                return 1;
        printf("%s\n", hex);
        return 0;
}

int main(int argc, char **argv) {
        int r = 2;
        if (argc >= 2 && streq(argv[1], "sign"))
                r = do_sign(argc - 1, argv + 1);
        else if (argc >= 2 && streq(argv[1], "verify"))
                r = do_verify(argc - 1, argv + 1);
        if (r == 2)
                fprintf(stderr, "usage: cose-tool sign KEY PAYLOAD_FILE OUT [AAD_HEX]\n"
                                "       cose-tool verify PUBKEY IN [AAD_HEX]\n");
        return r;
}
