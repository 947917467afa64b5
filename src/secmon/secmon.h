/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-secmon: the one process that opens the root of trust and answers
 * local clients over a Unix socket (docs/architecture.md, "rampart-secmon").
 *
 *   main.c     the command line, start-up and shutdown, in order
 *   config.c   the configuration file and flags; the allow-list
 *   device.c   start-up identity: backend, measurement, certificates
 *   server.c   the socket and its poll() loop: connections and their limits
 *   handler.c  one request: decode, check the caller, act, answer
 *   log.c      one structured line per event on stderr */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "rampart/error.h"
#include "rot/cert.h"
#include "rot/measure.h"
#include "rot/rot.h"
#include "secmon/client.h"
#include "secmon/protocol.h"

#define SECMON_ALLOW_MAX 32             /* uids per request type */
#define SECMON_CONFIG_MAX (64 * 1024)   /* bytes in secmon.conf */

typedef struct secmon_allow {
        bool set;                       /* named by the file or a flag */
        size_t n;
        uid_t uid[SECMON_ALLOW_MAX];
} secmon_allow;

/* What the file or the flags say; flags override the file per setting. */
typedef struct secmon_settings {
        secmon_allow allow[RP_SECMON_TYPE_MAX + 1];
        rp_measure_spec measure[RP_MEASURE_MAX_COMPONENTS];
        size_t n_measure;
        int dbgstat;                    /* -1 when not given */
} secmon_settings;

typedef struct secmon_config {
        const char *state_dir;
        const char *socket_path;        /* --socket, else D/secmon.sock */
        const char *config_path;        /* --config, else D/secmon.conf if present */
        const char *sw_version;
        const char *tpm;                /* --tpm TCTI, or NULL */
        unsigned idle_timeout;          /* seconds without a request before a connection is closed */
        bool config_read;               /* config_path existed and was read */
        secmon_settings s;              /* merged; measure[0] is secmon itself */
        char *owned[3];                 /* what the strings above point into */
} secmon_config;

/* Parses the command line and the configuration file into cfg. Returns -1
 * to go on, or the exit code to end with (0 after --help, 2 for a wrong
 * command line, 1 for a configuration file that is refused). */
int secmon_config_load(int argc, char **argv, secmon_config *cfg);
void secmon_config_free(secmon_config *cfg);
/* uid 0 and secmon's own uid may make every request; others only those
 * their uid is allowed. */
bool secmon_allowed(const secmon_config *cfg, rp_secmon_type type, uid_t uid);
/* The dbgstat claim: the configured one, else 0 (debug enabled) for a
 * development backend and 1 (disabled) otherwise. */
int secmon_dbgstat(const secmon_config *cfg, bool development);

typedef struct secmon_device {
        rp_rot *rot;
        rp_measurement *measurement;
        char device_id[RP_DEVICE_ID_HEX_LEN + 1];
        uint8_t *der[3];                /* Alias, DeviceID, CA certificates */
        size_t der_len[3];
} secmon_device;

/* Opens the backend, measures, binds the measurement and issues the Alias
 * certificate. On failure d holds what was done: secmon_device_close it. */
int secmon_device_open(const secmon_config *cfg, secmon_device *d, rp_error *err);
void secmon_device_close(secmon_device *d);

/* Answers one request datagram: len bytes in buf, real_len its size before
 * the kernel cut it to fit. *ret is the response to send. -ENOMEM only. */
int secmon_handle(const secmon_config *cfg, secmon_device *dev, const struct ucred *peer, const uint8_t *buf,
                  size_t len, size_t real_len, uint8_t **ret, size_t *ret_len);

/* Binds and listens on path (mode 0666: the allow-list is the check);
 * refuses if another secmon answers there, replaces a stale socket. */
int secmon_listen(const char *path, rp_error *err);
/* Serves until SIGTERM or SIGINT arrives on signal_fd (a signalfd). */
int secmon_serve(int listen_fd, int signal_fd, const secmon_config *cfg, secmon_device *dev);

void secmon_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* s as one log value: in double quotes, with '"', '\' and bytes that are
 * not printable ASCII escaped. Returns out. */
const char *secmon_quote(const char *s, char *out, size_t size);
#define SECMON_QUOTE_MAX (4 * RP_ERROR_MAX + 3)
