/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Shared by package.c (reading) and pack.c (writing). */

#include <stdint.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

/* Compares the digest the image bytes hashed to (got) with the manifest's
 * image-sha256 (want), in constant time. A mismatch is -EKEYREJECTED with a
 * message that starts "image digest mismatch: ", then why (the reader says
 * the bytes were modified, the writer that they changed while being
 * packed), then both digests: one code and one wording whichever side
 * finds it. */
int rp_package_check_digest(const uint8_t want[RP_SHA256_LEN], const uint8_t got[RP_SHA256_LEN],
                            const char *why, rp_error *err);
