/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The fixed keys the fuzz targets verify with: copies of
 * tests/data/keys/es256.pem and ed25519-rfc8032.pem, embedded so a fuzzer
 * binary needs no files. Seed corpora hold items signed by these keys, so
 * the fuzzers reach past signature checks. */

#include <stdlib.h>
#include <string.h>

#include "rampart/crypto.h"

static const char es256_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1F2NT8192cNgu5x2\n"
        "dS2FZEb202ReIjE5zs0vYoJEo0ihRANCAAQoVzilccHW0e0xryzy7zlyJ8Joo3yN\n"
        "0JqTp4pkYpZYA2uF6iQPAh+rxNd2hc4C6qw4EDGj18bD8ubZN6G3lyEt\n"
        "-----END PRIVATE KEY-----\n";
static const char ed25519_pem[] =
        "-----BEGIN PRIVATE KEY-----\n"
        "MC4CAQAwBQYDK2VwBCIEIJ1hsZ3v/VpguoRK9JLsLMREScVpezJpGXA7rAMcrn9g\n"
        "-----END PRIVATE KEY-----\n";

enum { FUZZ_KEY_ES256, FUZZ_KEY_ED25519, FUZZ_KEYS };

/* Loads both keys once (public halves); aborts if they do not load. */
static inline rp_key *const *fuzz_keys(void) {
        static rp_key *keys[FUZZ_KEYS];
        if (!keys[0] &&
            (rp_key_from_pem(es256_pem, strlen(es256_pem), false, &keys[FUZZ_KEY_ES256], NULL) < 0 ||
             rp_key_from_pem(ed25519_pem, strlen(ed25519_pem), false, &keys[FUZZ_KEY_ED25519], NULL) < 0))
                abort();
        return keys;
}
