/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Application manifests: Azure Sphere's app_manifest.json schema, so that
 * manifests written for Azure Sphere work unchanged. docs/app-manifest.md
 * lists every field, its type and its limits.
 *
 * A parsed manifest is immutable except for rp_app_manifest_resolve(), which
 * fills in the values of "$NAME" peripheral references from a hardware
 * definition (include/rampart/hwdef.h). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"

#pragma GCC visibility push(default)   /* the public API; the rest of librampart is hidden */

/* The largest app_manifest.json accepted. */
#define RP_APP_MANIFEST_MAX_SIZE (64 * 1024)

/* Limits on what a manifest may hold (bytes for strings). */
#define RP_APP_MANIFEST_MAX_NAME 256          /* Name */
#define RP_APP_MANIFEST_MAX_PATH 1024         /* EntryPoint */
#define RP_APP_MANIFEST_MAX_ARG 1024          /* one CmdArgs entry */
#define RP_APP_MANIFEST_MAX_ARGS 64           /* CmdArgs entries */
#define RP_APP_MANIFEST_MAX_LIST 256          /* entries in any capability list */
#define RP_APP_MANIFEST_MAX_HOST 253          /* one AllowedConnections entry */
#define RP_APP_MANIFEST_MAX_PERIPHERAL 128    /* one peripheral name or reference */
#define RP_APP_MANIFEST_MAX_STORAGE_KB (1024 * 1024)  /* MutableStorage.SizeKB */

typedef enum rp_app_type {
        RP_APP_TYPE_DEFAULT = 1,          /* "Default": a high-level app */
        RP_APP_TYPE_REALTIME_CAPABLE = 2, /* "RealTimeCapable": a real-time core app */
} rp_app_type;

typedef struct rp_app_manifest rp_app_manifest;

/* Parses and validates manifest JSON text (len bytes, need not be
 * NUL-terminated). source names the input in error messages (a file name).
 * Unresolved "$NAME" peripheral references are allowed here; resolving them
 * needs a hardware definition. */
int rp_app_manifest_parse(const char *json, size_t len, const char *source,
                          rp_app_manifest **ret, rp_error *err);
/* Reads path (at most RP_APP_MANIFEST_MAX_SIZE bytes) and parses it. */
int rp_app_manifest_load(const char *path, rp_app_manifest **ret, rp_error *err);

const char *rp_app_manifest_name(const rp_app_manifest *m);
/* Lowercase 8-4-4-4-12 form. */
const char *rp_app_manifest_component_id(const rp_app_manifest *m);
const char *rp_app_manifest_entry_point(const rp_app_manifest *m);
rp_app_type rp_app_manifest_type(const rp_app_manifest *m);

void rp_app_manifest_free(rp_app_manifest *m);
static inline void rp_app_manifest_freep(rp_app_manifest **m) {
        rp_app_manifest_free(*m);
}

/* ---- The full model ---------------------------------------------------- */

/* The name parsing errors use for the input (never NULL). */
const char *rp_app_manifest_source(const rp_app_manifest *m);

/* CmdArgs, in order (possibly none). */
size_t rp_app_manifest_n_args(const rp_app_manifest *m);
const char *rp_app_manifest_arg(const rp_app_manifest *m, size_t i);

/* MallocVersion; 0 when absent. */
int rp_app_manifest_malloc_version(const rp_app_manifest *m);
/* TargetApplicationRuntimeVersion; 0 when absent. */
int rp_app_manifest_target_runtime_version(const rp_app_manifest *m);
/* TargetBetaApis; NULL when absent. */
const char *rp_app_manifest_target_beta_apis(const rp_app_manifest *m);

/* The peripheral capabilities. Each is a list whose entries are literal
 * values (an integer for Gpio, a string for the others) or "$NAME"
 * references to a hardware definition. */
typedef enum rp_periph_kind {
        RP_PERIPH_GPIO,
        RP_PERIPH_UART,
        RP_PERIPH_I2C_MASTER,
        RP_PERIPH_SPI_MASTER,
        RP_PERIPH_PWM,
        RP_PERIPH_ADC,
        RP_PERIPH_I2S_SUBORDINATE,
        RP_PERIPH_EXTERNAL_INTERRUPT,
        _RP_PERIPH_KIND_MAX,
} rp_periph_kind;

/* The capability's field name ("Gpio", "I2cMaster", ...), which is also the
 * peripheral Type in hardware definitions; NULL for an unknown kind. */
const char *rp_periph_kind_name(rp_periph_kind kind);
/* True if the kind's literal values are integers (Gpio), false if strings. */
bool rp_periph_kind_is_integer(rp_periph_kind kind);

typedef struct rp_app_peripheral {
        /* The referenced name without its '$' ("SAMPLE_LED"), or NULL for a
         * literal value in the manifest. */
        const char *ref;
        /* Whether value/number hold something: always for a literal, after
         * rp_app_manifest_resolve() for a reference. */
        bool resolved;
        /* The value: number for integer kinds, string for the others. */
        int64_t number;
        const char *string;
        /* For a resolved reference: the hardware definition peripheral
         * holding the value (the root of the Mapping chain). */
        const char *root;
} rp_app_peripheral;

size_t rp_app_manifest_n_peripherals(const rp_app_manifest *m, rp_periph_kind kind);
const rp_app_peripheral *rp_app_manifest_peripheral(const rp_app_manifest *m, rp_periph_kind kind, size_t i);
/* Number of "$NAME" references not resolved yet (all kinds). */
size_t rp_app_manifest_n_unresolved(const rp_app_manifest *m);

/* AllowedConnections: host names (lowercase), "*.domain" wildcards and IPv4
 * addresses, in manifest order. */
size_t rp_app_manifest_n_connections(const rp_app_manifest *m);
const char *rp_app_manifest_connection(const rp_app_manifest *m, size_t i);

/* AllowedTcpServerPorts / AllowedUdpServerPorts. */
typedef enum rp_ip_proto {
        RP_IP_PROTO_TCP,
        RP_IP_PROTO_UDP,
} rp_ip_proto;
size_t rp_app_manifest_n_server_ports(const rp_app_manifest *m, rp_ip_proto proto);
uint16_t rp_app_manifest_server_port(const rp_app_manifest *m, rp_ip_proto proto, size_t i);

/* AllowedApplicationConnections: component ids (lowercase). */
size_t rp_app_manifest_n_app_connections(const rp_app_manifest *m);
const char *rp_app_manifest_app_connection(const rp_app_manifest *m, size_t i);

/* MutableStorage.SizeKB; 0 when the app has no mutable storage. */
uint32_t rp_app_manifest_mutable_storage_kb(const rp_app_manifest *m);

/* DeviceAuthentication: the tenant id (lowercase GUID), NULL when absent. */
const char *rp_app_manifest_device_auth_tenant(const rp_app_manifest *m);

/* The capabilities that are plain booleans ("WifiConfig": true). Only
 * those set to true are granted. */
typedef enum rp_app_flag {
        RP_APP_FLAG_WIFI_CONFIG,
        RP_APP_FLAG_ENTERPRISE_WIFI_CONFIG,
        RP_APP_FLAG_NETWORK_CONFIG,
        RP_APP_FLAG_SYSTEM_TIME,
        RP_APP_FLAG_TIME_SYNC_CONFIG,
        RP_APP_FLAG_DHCP_SERVICE,
        RP_APP_FLAG_SNTP_SERVICE,
        RP_APP_FLAG_HARDWARE_ADDRESS_CONFIG,
        RP_APP_FLAG_READ_NETWORK_PROXY_CONFIG,
        RP_APP_FLAG_CERT_STORE,
        RP_APP_FLAG_SYSTEM_EVENT_NOTIFICATIONS,
        RP_APP_FLAG_SOFTWARE_UPDATE_DEFERRAL,
        RP_APP_FLAG_HEAP_MEM_STATS,
        _RP_APP_FLAG_MAX,
} rp_app_flag;

const char *rp_app_flag_name(rp_app_flag flag);
bool rp_app_manifest_has_flag(const rp_app_manifest *m, rp_app_flag flag);

/* PowerControls entries. */
typedef enum rp_power_control {
        RP_POWER_FORCE_POWER_DOWN,
        RP_POWER_FORCE_REBOOT,
        RP_POWER_SET_POWER_PROFILE,
        _RP_POWER_CONTROL_MAX,
} rp_power_control;

const char *rp_power_control_name(rp_power_control pc);
bool rp_app_manifest_has_power_control(const rp_app_manifest *m, rp_power_control pc);

/* The normalized manifest as JSON (what `rampart app-manifest check -o json`
 * prints) is in-tree only: lib/package/app_manifest_json_internal.h. */

#pragma GCC visibility pop
