/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Keys from OpenSSL objects, for in-tree code that holds an EVP_PKEY (a
 * certificate's public key) and wants to check a signature with lib/core's
 * rules (rp_key_verify, rp_cose_sign1_verify). */

#include <openssl/evp.h>

#include "rampart/crypto.h"
#include "rampart/error.h"

/* A public rp_key holding a copy of pkey's public half (pkey itself is left
 * to the caller). -EOPNOTSUPP, naming what it is, for a key that is not
 * ES256 (P-256) or Ed25519; -ENOMEM if the copy could not be made. */
int rp_key_from_evp_public(EVP_PKEY *pkey, rp_key **ret, rp_error *err);
