/* SPDX-License-Identifier: Apache-2.0 */
/* app_manifest.json: parsing and validation. Every refusal names the source,
 * the field path and the reason. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "package/app_manifest_internal.h"
#include "package/manifest_util.h"

/* ---- Names ------------------------------------------------------------- */

static const char *const periph_names[_RP_PERIPH_KIND_MAX] = {
        [RP_PERIPH_GPIO] = "Gpio",
        [RP_PERIPH_UART] = "Uart",
        [RP_PERIPH_I2C_MASTER] = "I2cMaster",
        [RP_PERIPH_SPI_MASTER] = "SpiMaster",
        [RP_PERIPH_PWM] = "Pwm",
        [RP_PERIPH_ADC] = "Adc",
        [RP_PERIPH_I2S_SUBORDINATE] = "I2sSubordinate",
        [RP_PERIPH_EXTERNAL_INTERRUPT] = "ExternalInterrupt",
};

static const char *const flag_names[_RP_APP_FLAG_MAX] = {
        [RP_APP_FLAG_WIFI_CONFIG] = "WifiConfig",
        [RP_APP_FLAG_ENTERPRISE_WIFI_CONFIG] = "EnterpriseWifiConfig",
        [RP_APP_FLAG_NETWORK_CONFIG] = "NetworkConfig",
        [RP_APP_FLAG_SYSTEM_TIME] = "SystemTime",
        [RP_APP_FLAG_TIME_SYNC_CONFIG] = "TimeSyncConfig",
        [RP_APP_FLAG_DHCP_SERVICE] = "DhcpService",
        [RP_APP_FLAG_SNTP_SERVICE] = "SntpService",
        [RP_APP_FLAG_HARDWARE_ADDRESS_CONFIG] = "HardwareAddressConfig",
        [RP_APP_FLAG_READ_NETWORK_PROXY_CONFIG] = "ReadNetworkProxyConfig",
        [RP_APP_FLAG_CERT_STORE] = "CertStore",
        [RP_APP_FLAG_SYSTEM_EVENT_NOTIFICATIONS] = "SystemEventNotifications",
        [RP_APP_FLAG_SOFTWARE_UPDATE_DEFERRAL] = "SoftwareUpdateDeferral",
        [RP_APP_FLAG_HEAP_MEM_STATS] = "HeapMemStats",
};

static const char *const power_names[_RP_POWER_CONTROL_MAX] = {
        [RP_POWER_FORCE_POWER_DOWN] = "ForcePowerDown",
        [RP_POWER_FORCE_REBOOT] = "ForceReboot",
        [RP_POWER_SET_POWER_PROFILE] = "SetPowerProfile",
};

const char *rp_periph_kind_name(rp_periph_kind kind) {
        return (unsigned) kind < _RP_PERIPH_KIND_MAX ? periph_names[kind] : NULL;
}

bool rp_periph_kind_is_integer(rp_periph_kind kind) {
        return kind == RP_PERIPH_GPIO;
}

const char *rp_app_flag_name(rp_app_flag flag) {
        return (unsigned) flag < _RP_APP_FLAG_MAX ? flag_names[flag] : NULL;
}

const char *rp_power_control_name(rp_power_control pc) {
        return (unsigned) pc < _RP_POWER_CONTROL_MAX ? power_names[pc] : NULL;
}

/* ---- Lifetime ---------------------------------------------------------- */

void rp_app_periph_entry_done(rp_app_periph_entry *e) {
        free(e->ref);
        free(e->string);
        free(e->root);
        *e = (rp_app_periph_entry) {};
}

void rp_app_periph_entry_sync(rp_app_periph_entry *e) {
        e->pub.ref = e->ref;
        e->pub.string = e->string;
        e->pub.root = e->root;
}

static void strv_free(char **v, size_t n) {
        for (size_t i = 0; i < n; i++)
                free(v[i]);
        free(v);
}

void rp_app_manifest_free(rp_app_manifest *m) {
        if (!m)
                return;
        free(m->source);
        free(m->name);
        free(m->entry_point);
        strv_free(m->args, m->n_args);
        free(m->target_beta_apis);
        strv_free(m->connections, m->n_connections);
        free(m->ports[0]);
        free(m->ports[1]);
        free(m->app_connections);
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++) {
                for (size_t i = 0; i < m->n_periph[k]; i++)
                        rp_app_periph_entry_done(&m->periph[k][i]);
                free(m->periph[k]);
        }
        free(m);
}

/* ---- Field parsers ----------------------------------------------------- */

/* Path of an array entry, for messages ("Capabilities.Gpio[2]"). */
#define ITEM_PATH(buf, path, i) rp_json_path_fmt((buf), sizeof (buf), "%s[%zu]", (path), (size_t) (i))

#define OOM(m) rp_error_set(err, -ENOMEM, "%s: out of memory", (m)->source)

static int dup_text(rp_app_manifest *m, const char *s, char **ret, rp_error *err) {
        char *c = strdup(s);
        if (!c)
                return OOM(m);
        free(*ret);
        *ret = c;
        return 0;
}

static int parse_schema_version(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        if (!json_is_integer(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected an integer, got %s", m->source, path,
                                    rp_json_type_name(v));
        if (json_integer_value(v) != 1)
                return rp_error_set(err, -EOPNOTSUPP, "%s: %s: version %lld is not supported (only 1 is)",
                                    m->source, path, (long long) json_integer_value(v));
        return 0;
}

static int parse_name(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        const char *s;
        int r = rp_json_get_text(v, m->source, path, RP_APP_MANIFEST_MAX_NAME, false, &s, err);
        if (r < 0)
                return r;
        return dup_text(m, s, &m->name, err);
}

static int parse_component_id(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        const char *s;
        int r = rp_json_get_text(v, m->source, path, 64, true, &s, err);
        if (r < 0)
                return r;
        if (s[0] == '\0')
                return rp_error_set(err, -EINVAL, "%s: %s: must not be empty; give the app a GUID of its own "
                                    "(for example from 'uuidgen')", m->source, path);
        if (rp_guid_normalize(s, m->component_id) < 0)
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a GUID (expected the form "
                                    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", m->source, path, s);
        return 0;
}

/* An absolute path inside the app image without "." or ".." components. */
static int parse_entry_point(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        const char *s;
        int r = rp_json_get_text(v, m->source, path, RP_APP_MANIFEST_MAX_PATH, false, &s, err);
        if (r < 0)
                return r;
        if (s[0] != '/')
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" must be an absolute path inside the image, "
                                    "such as \"/bin/app\"", m->source, path, s);
        for (const char *p = s + 1; *p;) {
                const char *e = strchrnul(p, '/');
                size_t n = (size_t) (e - p);
                if (n == 0 || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" must not contain empty, \".\" or \"..\" "
                                            "components", m->source, path, s);
                p = *e ? e + 1 : e;
        }
        if (s[strlen(s) - 1] == '/')
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" names a directory, not a program",
                                    m->source, path, s);
        return dup_text(m, s, &m->entry_point, err);
}

static int parse_cmd_args(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        int r = rp_json_get_array(v, m->source, path, RP_APP_MANIFEST_MAX_ARGS, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        m->args = calloc(n ? n : 1, sizeof(char *));
        if (!m->args)
                return OOM(m);
        for (size_t i = 0; i < n; i++) {
                char ip[256];
                const char *s;
                r = rp_json_get_text(json_array_get(v, i), m->source, ITEM_PATH(ip, path, i),
                                     RP_APP_MANIFEST_MAX_ARG, true, &s, err);
                if (r < 0)
                        return r;
                m->args[i] = strdup(s);
                if (!m->args[i])
                        return OOM(m);
                m->n_args++;
        }
        return 0;
}

static int parse_app_type(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        static const char *const names[] = { "Default", "RealTimeCapable" };
        const char *s;
        int r = rp_json_get_text(v, m->source, path, 64, true, &s, err);
        if (r < 0)
                return r;
        if (streq(s, "Default"))
                m->type = RP_APP_TYPE_DEFAULT;
        else if (streq(s, "RealTimeCapable"))
                m->type = RP_APP_TYPE_REALTIME_CAPABLE;
        else {
                const char *hint = rp_suggest(s, names, ELEMENTSOF(names));
                if (hint)
                        return rp_error_set(err, -EINVAL, "%s: %s: unknown application type \"%s\" (did you mean "
                                            "\"%s\"?)", m->source, path, s, hint);
                return rp_error_set(err, -EINVAL, "%s: %s: unknown application type \"%s\" (expected \"Default\" "
                                    "or \"RealTimeCapable\")", m->source, path, s);
        }
        return 0;
}

static int parse_malloc_version(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        int64_t x;
        int r = rp_json_get_int(v, m->source, path, 1, 2, &x, err);
        if (r < 0)
                return r;
        m->malloc_version = (int) x;
        return 0;
}

static int parse_runtime_version(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        int64_t x;
        int r = rp_json_get_int(v, m->source, path, 1, 10000, &x, err);
        if (r < 0)
                return r;
        m->target_runtime_version = (int) x;
        return 0;
}

static int parse_beta_apis(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        const char *s;
        int r = rp_json_get_text(v, m->source, path, 64, false, &s, err);
        if (r < 0)
                return r;
        return dup_text(m, s, &m->target_beta_apis, err);
}

/* ---- Capabilities ------------------------------------------------------ */

static int parse_connections(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        int r = rp_json_get_array(v, m->source, path, RP_APP_MANIFEST_MAX_LIST, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        m->connections = calloc(n ? n : 1, sizeof(char *));
        if (!m->connections)
                return OOM(m);
        for (size_t i = 0; i < n; i++) {
                char ip[256];
                const char *s, *reason = NULL;
                ITEM_PATH(ip, path, i);
                r = rp_json_get_text(json_array_get(v, i), m->source, ip, RP_HOST_MAX, true, &s, err);
                if (r < 0)
                        return r;
                char *host = NULL;
                r = rp_host_check(s, &host, &reason);
                if (r < 0)
                        return rp_error_set(err, r, "%s: %s: \"%s\": %s", m->source, ip, s, reason);
                for (size_t j = 0; j < i; j++)   /* the hosts before this one */
                        if (streq(m->connections[j], host)) {
                                free(host);
                                return rp_error_set(err, -EEXIST, "%s: %s: \"%s\" is listed twice (also at [%zu])",
                                                    m->source, ip, s, j);
                        }
                m->connections[m->n_connections++] = host;
        }
        return 0;
}

static int parse_ports(rp_app_manifest *m, const json_t *v, const char *path, rp_ip_proto proto, rp_error *err) {
        int r = rp_json_get_array(v, m->source, path, RP_APP_MANIFEST_MAX_LIST, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        m->ports[proto] = calloc(n ? n : 1, sizeof(uint16_t));
        if (!m->ports[proto])
                return OOM(m);
        for (size_t i = 0; i < n; i++) {
                char ip[256];
                int64_t port;
                r = rp_json_get_int(json_array_get(v, i), m->source, ITEM_PATH(ip, path, i), 1, 65535, &port, err);
                if (r < 0)
                        return r;
                for (size_t j = 0; j < m->n_ports[proto]; j++)
                        if (m->ports[proto][j] == port)
                                return rp_error_set(err, -EEXIST, "%s: %s: port %lld is listed twice (also at [%zu])",
                                                    m->source, ip, (long long) port, j);
                m->ports[proto][m->n_ports[proto]++] = (uint16_t) port;
        }
        return 0;
}

static int parse_app_connections(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        int r = rp_json_get_array(v, m->source, path, RP_APP_MANIFEST_MAX_LIST, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        m->app_connections = calloc(n ? n : 1, sizeof m->app_connections[0]);
        if (!m->app_connections)
                return OOM(m);
        for (size_t i = 0; i < n; i++) {
                char ip[256];
                const char *s;
                ITEM_PATH(ip, path, i);
                r = rp_json_get_text(json_array_get(v, i), m->source, ip, 64, true, &s, err);
                if (r < 0)
                        return r;
                char *slot = m->app_connections[m->n_app_connections];
                if (rp_guid_normalize(s, slot) < 0)
                        return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a component id (a GUID of the "
                                            "form xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", m->source, ip, s);
                for (size_t j = 0; j < m->n_app_connections; j++)
                        if (streq(m->app_connections[j], slot))
                                return rp_error_set(err, -EEXIST, "%s: %s: \"%s\" is listed twice (also at [%zu])",
                                                    m->source, ip, s, j);
                m->n_app_connections++;
        }
        return 0;
}

static int parse_peripherals(rp_app_manifest *m, const json_t *v, const char *path, rp_periph_kind kind,
                             rp_error *err) {
        int r = rp_json_get_array(v, m->source, path, RP_APP_MANIFEST_MAX_LIST, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(v);
        bool integer = rp_periph_kind_is_integer(kind);
        const char *expected = integer ? "an integer or a \"$NAME\" reference" : "a string or a \"$NAME\" reference";
        rp_app_periph_entry *list = calloc(n ? n : 1, sizeof *list);
        if (!list)
                return OOM(m);
        m->periph[kind] = list;
        for (size_t i = 0; i < n; i++) {
                char ip[256];
                const json_t *e = json_array_get(v, i);
                rp_app_periph_entry *pe = &list[i];
                ITEM_PATH(ip, path, i);
                if (json_is_string(e) && json_string_value(e)[0] == '$') {
                        const char *s;
                        r = rp_json_get_text(e, m->source, ip, RP_APP_MANIFEST_MAX_PERIPHERAL + 1, false, &s, err);
                        if (r < 0)
                                return r;
                        if (!rp_is_identifier(s + 1, RP_APP_MANIFEST_MAX_PERIPHERAL))
                                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a valid reference (expected "
                                                    "'$' and a name of letters, digits and '_')", m->source, ip, s);
                        for (size_t j = 0; j < i; j++)   /* the entries before this one */
                                if (list[j].ref && streq(list[j].ref, s + 1))
                                        return rp_error_set(err, -EEXIST, "%s: %s: \"%s\" is listed twice (also at "
                                                            "[%zu])", m->source, ip, s, j);
                        pe->ref = strdup(s + 1);
                        if (!pe->ref)
                                return OOM(m);
                } else if (integer) {
                        if (!json_is_integer(e))
                                return rp_error_set(err, -EINVAL, "%s: %s: expected %s, got %s", m->source, ip,
                                                    expected, rp_json_type_name(e));
                        int64_t x;
                        r = rp_json_get_int(e, m->source, ip, 0, 65535, &x, err);
                        if (r < 0)
                                return r;
                        for (size_t j = 0; j < i; j++)
                                if (!list[j].ref && list[j].pub.number == x)
                                        return rp_error_set(err, -EEXIST, "%s: %s: %lld is listed twice (also at "
                                                            "[%zu])", m->source, ip, (long long) x, j);
                        pe->pub.number = x;
                        pe->pub.resolved = true;
                } else {
                        if (!json_is_string(e))
                                return rp_error_set(err, -EINVAL, "%s: %s: expected %s, got %s", m->source, ip,
                                                    expected, rp_json_type_name(e));
                        const char *s;
                        r = rp_json_get_text(e, m->source, ip, RP_APP_MANIFEST_MAX_PERIPHERAL, false, &s, err);
                        if (r < 0)
                                return r;
                        if (!rp_periph_literal_ok(s))
                                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a valid peripheral name "
                                                    "(letters, digits and _-.:/ only)", m->source, ip, s);
                        for (size_t j = 0; j < i; j++)
                                if (!list[j].ref && streq(list[j].string, s))
                                        return rp_error_set(err, -EEXIST, "%s: %s: \"%s\" is listed twice (also at "
                                                            "[%zu])", m->source, ip, s, j);
                        pe->string = strdup(s);
                        if (!pe->string)
                                return OOM(m);
                        pe->pub.resolved = true;
                }
                rp_app_periph_entry_sync(pe);
                m->n_periph[kind]++;
        }
        return 0;
}

static int parse_storage(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        static const char *const known[] = { "SizeKB" };
        if (!json_is_object(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected an object like {\"SizeKB\": 8}, got %s",
                                    m->source, path, rp_json_type_name(v));
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *) v, key, val)
                if (!streq(key, "SizeKB"))
                        return rp_error_unknown_field(err, m->source, path, key, known, ELEMENTSOF(known));
        const json_t *size = json_object_get(v, "SizeKB");
        if (!size)
                return rp_error_set(err, -EINVAL, "%s: %s.SizeKB: missing required field", m->source, path);
        char sp[256];
        rp_json_path_fmt(sp, sizeof sp, "%s.SizeKB", path);
        int64_t kb;
        int r = rp_json_get_int(size, m->source, sp, 1, RP_APP_MANIFEST_MAX_STORAGE_KB, &kb, err);
        if (r < 0)
                return r;
        m->storage_kb = (uint32_t) kb;
        return 0;
}

static int parse_tenant(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        const char *s;
        int r = rp_json_get_text(v, m->source, path, 64, true, &s, err);
        if (r < 0)
                return r;
        if (rp_guid_normalize(s, m->tenant) < 0)
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a tenant id (a GUID of the form "
                                    "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)", m->source, path, s);
        m->has_tenant = true;
        return 0;
}

static int parse_power(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        int r = rp_json_get_array(v, m->source, path, RP_APP_MANIFEST_MAX_LIST, err);
        if (r < 0)
                return r;
        for (size_t i = 0; i < json_array_size(v); i++) {
                char ip[256];
                const char *s;
                ITEM_PATH(ip, path, i);
                r = rp_json_get_text(json_array_get(v, i), m->source, ip, 64, true, &s, err);
                if (r < 0)
                        return r;
                size_t k;
                for (k = 0; k < _RP_POWER_CONTROL_MAX; k++)
                        if (streq(s, power_names[k]))
                                break;
                if (k == _RP_POWER_CONTROL_MAX) {
                        const char *hint = rp_suggest(s, power_names, ELEMENTSOF(power_names));
                        if (hint)
                                return rp_error_set(err, -EINVAL, "%s: %s: unknown power control \"%s\" (did you "
                                                    "mean \"%s\"?)", m->source, ip, s, hint);
                        return rp_error_set(err, -EINVAL, "%s: %s: unknown power control \"%s\" (expected "
                                            "\"ForcePowerDown\", \"ForceReboot\" or \"SetPowerProfile\")",
                                            m->source, ip, s);
                }
                if (m->power_controls & (1u << k))
                        return rp_error_set(err, -EEXIST, "%s: %s: \"%s\" is listed twice", m->source, ip, s);
                m->power_controls |= 1u << k;
        }
        return 0;
}

typedef enum cap_kind {
        CAP_CONNECTIONS,
        CAP_PORTS,
        CAP_APP_CONNECTIONS,
        CAP_PERIPHERALS,
        CAP_STORAGE,
        CAP_TENANT,
        CAP_POWER,
        CAP_FLAG,
} cap_kind;

typedef struct cap_desc {
        const char *name;
        cap_kind kind;
        int arg;   /* rp_ip_proto, rp_periph_kind or rp_app_flag */
} cap_desc;

static const cap_desc caps[] = {
        { "AllowedConnections",            CAP_CONNECTIONS,     0 },
        { "AllowedTcpServerPorts",         CAP_PORTS,           RP_IP_PROTO_TCP },
        { "AllowedUdpServerPorts",         CAP_PORTS,           RP_IP_PROTO_UDP },
        { "AllowedApplicationConnections", CAP_APP_CONNECTIONS, 0 },
        { "Gpio",                          CAP_PERIPHERALS,     RP_PERIPH_GPIO },
        { "Uart",                          CAP_PERIPHERALS,     RP_PERIPH_UART },
        { "I2cMaster",                     CAP_PERIPHERALS,     RP_PERIPH_I2C_MASTER },
        { "SpiMaster",                     CAP_PERIPHERALS,     RP_PERIPH_SPI_MASTER },
        { "Pwm",                           CAP_PERIPHERALS,     RP_PERIPH_PWM },
        { "Adc",                           CAP_PERIPHERALS,     RP_PERIPH_ADC },
        { "I2sSubordinate",                CAP_PERIPHERALS,     RP_PERIPH_I2S_SUBORDINATE },
        { "ExternalInterrupt",             CAP_PERIPHERALS,     RP_PERIPH_EXTERNAL_INTERRUPT },
        { "MutableStorage",                CAP_STORAGE,         0 },
        { "DeviceAuthentication",          CAP_TENANT,          0 },
        { "PowerControls",                 CAP_POWER,           0 },
        { "WifiConfig",                    CAP_FLAG,            RP_APP_FLAG_WIFI_CONFIG },
        { "EnterpriseWifiConfig",          CAP_FLAG,            RP_APP_FLAG_ENTERPRISE_WIFI_CONFIG },
        { "NetworkConfig",                 CAP_FLAG,            RP_APP_FLAG_NETWORK_CONFIG },
        { "SystemTime",                    CAP_FLAG,            RP_APP_FLAG_SYSTEM_TIME },
        { "TimeSyncConfig",                CAP_FLAG,            RP_APP_FLAG_TIME_SYNC_CONFIG },
        { "DhcpService",                   CAP_FLAG,            RP_APP_FLAG_DHCP_SERVICE },
        { "SntpService",                   CAP_FLAG,            RP_APP_FLAG_SNTP_SERVICE },
        { "HardwareAddressConfig",         CAP_FLAG,            RP_APP_FLAG_HARDWARE_ADDRESS_CONFIG },
        { "ReadNetworkProxyConfig",        CAP_FLAG,            RP_APP_FLAG_READ_NETWORK_PROXY_CONFIG },
        { "CertStore",                     CAP_FLAG,            RP_APP_FLAG_CERT_STORE },
        { "SystemEventNotifications",      CAP_FLAG,            RP_APP_FLAG_SYSTEM_EVENT_NOTIFICATIONS },
        { "SoftwareUpdateDeferral",        CAP_FLAG,            RP_APP_FLAG_SOFTWARE_UPDATE_DEFERRAL },
        { "HeapMemStats",                  CAP_FLAG,            RP_APP_FLAG_HEAP_MEM_STATS },
};

static int parse_capability(rp_app_manifest *m, const cap_desc *c, const json_t *v, const char *path, rp_error *err) {
        switch (c->kind) {
        case CAP_CONNECTIONS:
                return parse_connections(m, v, path, err);
        case CAP_PORTS:
                return parse_ports(m, v, path, (rp_ip_proto) c->arg, err);
        case CAP_APP_CONNECTIONS:
                return parse_app_connections(m, v, path, err);
        case CAP_PERIPHERALS:
                return parse_peripherals(m, v, path, (rp_periph_kind) c->arg, err);
        case CAP_STORAGE:
                return parse_storage(m, v, path, err);
        case CAP_TENANT:
                return parse_tenant(m, v, path, err);
        case CAP_POWER:
                return parse_power(m, v, path, err);
        case CAP_FLAG: {
                bool b;
                int r = rp_json_get_bool(v, m->source, path, &b, err);
                if (r < 0)
                        return r;
                if (b)
                        m->flags |= 1u << c->arg;
                return 0;
        }
        }
        return -EINVAL;
}

static int parse_capabilities(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err) {
        if (!json_is_object(v))
                return rp_error_set(err, -EINVAL, "%s: %s: expected an object, got %s", m->source, path,
                                    rp_json_type_name(v));
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *) v, key, val) {
                const cap_desc *c = NULL;
                for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                        if (streq(key, caps[i].name)) {
                                c = &caps[i];
                                break;
                        }
                if (!c) {
                        const char *known[ELEMENTSOF(caps)];
                        for (size_t i = 0; i < ELEMENTSOF(caps); i++)
                                known[i] = caps[i].name;
                        return rp_error_unknown_field(err, m->source, path, key, known, ELEMENTSOF(known));
                }
                char cp[256];
                snprintf(cp, sizeof cp, "%s.%s", path, c->name);
                int r = parse_capability(m, c, val, cp, err);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- Top level --------------------------------------------------------- */

typedef struct field_desc {
        const char *name;
        int (*parse)(rp_app_manifest *m, const json_t *v, const char *path, rp_error *err);
        bool required;
} field_desc;

static const field_desc fields[] = {
        { "SchemaVersion",                   parse_schema_version,  true },
        { "Name",                            parse_name,            true },
        { "ComponentId",                     parse_component_id,    true },
        { "EntryPoint",                      parse_entry_point,     true },
        { "CmdArgs",                         parse_cmd_args,        false },
        { "Capabilities",                    parse_capabilities,    false },
        { "ApplicationType",                 parse_app_type,        false },
        { "MallocVersion",                   parse_malloc_version,  false },
        { "TargetApplicationRuntimeVersion", parse_runtime_version, false },
        { "TargetBetaApis",                  parse_beta_apis,       false },
};

static int parse_root(rp_app_manifest *m, const json_t *root, rp_error *err) {
        const char *known[ELEMENTSOF(fields)];
        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                known[i] = fields[i].name;

        /* The schema version first: a manifest of another version fails
         * with that reason rather than with whatever changed. */
        const json_t *sv = json_object_get(root, "SchemaVersion");
        if (sv) {
                int r = parse_schema_version(m, sv, "SchemaVersion", err);
                if (r < 0)
                        return r;
        }

        const char *key;
        const json_t *val;
        json_object_foreach((json_t *) root, key, val) {
                const field_desc *f = NULL;
                for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                        if (streq(key, fields[i].name)) {
                                f = &fields[i];
                                break;
                        }
                if (!f)
                        return rp_error_unknown_field(err, m->source, NULL, key, known, ELEMENTSOF(known));
                int r = f->parse(m, val, f->name, err);
                if (r < 0)
                        return r;
        }

        for (size_t i = 0; i < ELEMENTSOF(fields); i++)
                if (fields[i].required && !json_object_get(root, fields[i].name))
                        return rp_error_set(err, -EINVAL, "%s: %s: missing required field", m->source, fields[i].name);
        return 0;
}

int rp_app_manifest_parse(const char *json, size_t len, const char *source, rp_app_manifest **ret, rp_error *err) {
        if (!source)
                source = "app_manifest.json";
        if (len > RP_APP_MANIFEST_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "%s: manifest is %zu bytes, the limit is %d", source, len,
                                    RP_APP_MANIFEST_MAX_SIZE);

        _cleanup_(rp_app_manifest_freep) rp_app_manifest *m = calloc(1, sizeof *m);
        if (!m)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", source);
        m->source = strdup(source);
        if (!m->source)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", source);
        m->type = RP_APP_TYPE_DEFAULT;

        json_t *root = NULL;
        int r = rp_json_parse_object(json, len, source, &root, err);
        if (r < 0)
                return r;
        r = parse_root(m, root, err);
        json_decref(root);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(m);
        return 0;
}

int rp_app_manifest_load(const char *path, rp_app_manifest **ret, rp_error *err) {
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int r = rp_read_file(path, RP_APP_MANIFEST_MAX_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        return rp_app_manifest_parse((const char *) data, len, path, ret, err);
}

/* ---- Accessors --------------------------------------------------------- */

const char *rp_app_manifest_source(const rp_app_manifest *m) {
        return m->source;
}

const char *rp_app_manifest_name(const rp_app_manifest *m) {
        return m->name;
}

const char *rp_app_manifest_component_id(const rp_app_manifest *m) {
        return m->component_id;
}

const char *rp_app_manifest_entry_point(const rp_app_manifest *m) {
        return m->entry_point;
}

rp_app_type rp_app_manifest_type(const rp_app_manifest *m) {
        return m->type;
}

size_t rp_app_manifest_n_args(const rp_app_manifest *m) {
        return m->n_args;
}

const char *rp_app_manifest_arg(const rp_app_manifest *m, size_t i) {
        return i < m->n_args ? m->args[i] : NULL;
}

int rp_app_manifest_malloc_version(const rp_app_manifest *m) {
        return m->malloc_version;
}

int rp_app_manifest_target_runtime_version(const rp_app_manifest *m) {
        return m->target_runtime_version;
}

const char *rp_app_manifest_target_beta_apis(const rp_app_manifest *m) {
        return m->target_beta_apis;
}

size_t rp_app_manifest_n_peripherals(const rp_app_manifest *m, rp_periph_kind kind) {
        return (unsigned) kind < _RP_PERIPH_KIND_MAX ? m->n_periph[kind] : 0;
}

const rp_app_peripheral *rp_app_manifest_peripheral(const rp_app_manifest *m, rp_periph_kind kind, size_t i) {
        if ((unsigned) kind >= _RP_PERIPH_KIND_MAX || i >= m->n_periph[kind])
                return NULL;
        return &m->periph[kind][i].pub;
}

size_t rp_app_manifest_n_unresolved(const rp_app_manifest *m) {
        size_t n = 0;
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++)
                for (size_t i = 0; i < m->n_periph[k]; i++)
                        n += !m->periph[k][i].pub.resolved;
        return n;
}

size_t rp_app_manifest_n_connections(const rp_app_manifest *m) {
        return m->n_connections;
}

const char *rp_app_manifest_connection(const rp_app_manifest *m, size_t i) {
        return i < m->n_connections ? m->connections[i] : NULL;
}

size_t rp_app_manifest_n_server_ports(const rp_app_manifest *m, rp_ip_proto proto) {
        return (unsigned) proto <= RP_IP_PROTO_UDP ? m->n_ports[proto] : 0;
}

uint16_t rp_app_manifest_server_port(const rp_app_manifest *m, rp_ip_proto proto, size_t i) {
        return (unsigned) proto <= RP_IP_PROTO_UDP && i < m->n_ports[proto] ? m->ports[proto][i] : 0;
}

size_t rp_app_manifest_n_app_connections(const rp_app_manifest *m) {
        return m->n_app_connections;
}

const char *rp_app_manifest_app_connection(const rp_app_manifest *m, size_t i) {
        return i < m->n_app_connections ? m->app_connections[i] : NULL;
}

uint32_t rp_app_manifest_mutable_storage_kb(const rp_app_manifest *m) {
        return m->storage_kb;
}

const char *rp_app_manifest_device_auth_tenant(const rp_app_manifest *m) {
        return m->has_tenant ? m->tenant : NULL;
}

bool rp_app_manifest_has_flag(const rp_app_manifest *m, rp_app_flag flag) {
        return (unsigned) flag < _RP_APP_FLAG_MAX && (m->flags & (1u << flag));
}

bool rp_app_manifest_has_power_control(const rp_app_manifest *m, rp_power_control pc) {
        return (unsigned) pc < _RP_POWER_CONTROL_MAX && (m->power_controls & (1u << pc));
}
