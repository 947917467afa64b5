/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-server's command line and configuration file (config.c).
 *
 * --config F names a file of "key = value" lines; the keys are the long
 * flags' names without "--" (listen, store, workers, tls-cert, tls-key,
 * tls-name (repeatable), tls12, max-body, max-header, max-connections,
 * rate, burst, idle-timeout, request-timeout, nonce-ttl, cert-lifetime,
 * data-dir). '#' starts a comment line. A flag overrides the file's value
 * (for tls-name, the flags' list replaces the file's). */

#include <sys/socket.h>

#include "rampart/error.h"
#include "server.h"

#define RP_CONFIG_FILE_MAX (64 * 1024)          /* bytes in a config file */
#define RP_CONFIG_TLS_NAMES_MAX 64

/* What main should do after rp_config_load. */
typedef enum rp_config_action {
        RP_CONFIG_RUN,          /* cfg is complete: start the server */
        RP_CONFIG_EXIT,         /* done (--help, --version, --print-routes, or refused): exit with *ret_code */
} rp_config_action;

/* Parses argv and the file --config names into cfg (defaults for the rest).
 * On RP_CONFIG_EXIT, *ret_code is 0 (help, version, routes), 2 (a wrong
 * command line: a usage message was printed) or 1 (the config file was
 * refused: "FILE:LINE: reason" was logged). */
rp_config_action rp_config_load(int argc, char **argv, rp_server_config *cfg, int *ret_code);
void rp_config_free(rp_server_config *cfg);

/* The address of a --listen value: "A.B.C.D:PORT", "[IPv6]:PORT" or
 * "localhost:PORT" (127.0.0.1). */
int rp_config_parse_listen(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len, rp_error *err);

/* The number of CPUs this process may run on (at least 1). */
unsigned rp_config_default_workers(void);
