/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* TLS client keys held by rampart-secmon: an OpenSSL 3 provider whose EC
 * keys are references to secmon's Alias key (a socket path and the public
 * point; never a private key) and whose ECDSA signs by asking secmon to sign
 * the SHA-256 digest. OpenSSL's TLS code, and libcurl through it, use such a
 * key as any other client key. docs/security.md, "TLS client keys through
 * secmon", says what the provider does and does not do.
 *
 * In-tree programs use it built in (rp_secmon_tls_setup); the same source is
 * also built as a loadable module, rampart_secmon.so, for the stock openssl
 * command:
 *
 *   openssl s_client -provider-path DIR -provider rampart_secmon -provider default \
 *           -key rampart-secmon:/path/secmon.sock -cert alias.pem ...
 */

#include <openssl/core.h>
#include <openssl/ssl.h>

#include "rampart/error.h"

/* The provider's name when built in, and the property its algorithms carry
 * ("provider=rampart-secmon"). */
#define RP_SECMON_PROVIDER_NAME "rampart-secmon"
#define RP_SECMON_PROVIDER_PROPQ "provider=rampart-secmon"
/* A key in the provider's STORE: "rampart-secmon:" followed by the path of
 * secmon's socket. The store yields the key, then the chain's certificates
 * (Alias, DeviceID, manufacturer CA). */
#define RP_SECMON_URI_SCHEME "rampart-secmon"
/* The key parameter (UTF-8 string) naming secmon's socket, for
 * EVP_PKEY_fromdata with the public key ("group", "pub"), or alone: the
 * public key is then read from secmon's certificate chain. */
#define RP_SECMON_PARAM_SOCKET "rampart-secmon-socket"
/* A signature is DER ECDSA-Sig-Value of two integers below 2^256. */
#define RP_SECMON_SIG_DER_MAX 72

/* The provider's entry point, for OSSL_PROVIDER_add_builtin (the loadable
 * module's OSSL_provider_init calls it). */
OSSL_provider_init_fn rp_secmon_provider_init;

/* Makes the provider available in libctx (NULL: the default context), once:
 * the context's default provider is activated first, if it is still to be
 * activated, so that OpenSSL's own EC implementation stays the one chosen for
 * everything but secmon's keys. */
int rp_secmon_provider_load(OSSL_LIB_CTX *libctx, rp_error *err);

/* An EVP_PKEY for the Alias key secmon at socket_path holds: OpenSSL signs
 * with it through secmon. Connects once to read the public key from secmon's
 * certificate chain; signing opens the key's own connection. libctx NULL is
 * the default context. */
int rp_secmon_tls_key(OSSL_LIB_CTX *libctx, const char *socket_path, EVP_PKEY **ret,
                      rp_error *err);

/* Sets up ctx for TLS client authentication with secmon's Alias key: the key
 * (from the default library context), the Alias certificate, and the DeviceID
 * certificate as the chain sent with it. They replace the EC key, certificate
 * and chain ctx held, if any (OpenSSL keeps one of each per key type). For
 * libcurl, call it from CURLOPT_SSL_CTX_FUNCTION. */
int rp_secmon_tls_setup(SSL_CTX *ctx, const char *socket_path, rp_error *err);
