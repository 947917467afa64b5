/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "package/app_manifest_json_internal.h"
#include "rampart/app_manifest.h"
#include "rampart/hwdef.h"
#include "testlib.h"

#define GUID "3a7c0e52-9b1d-4f7e-8c21-5d6e4f3a2b10"

/* A valid manifest around the given Capabilities body. */
static char *with_caps(const char *caps) {
        char *s;
        if (asprintf(&s, "{\"SchemaVersion\": 1, \"Name\": \"t\", \"ComponentId\": \"" GUID "\", "
                         "\"EntryPoint\": \"/bin/app\", \"CmdArgs\": [], \"Capabilities\": {%s}}", caps) < 0)
                fail_msg("out of memory");
        return s;
}

static rp_app_manifest *parse_ok(const char *json) {
        rp_error err = {0};
        rp_app_manifest *m = NULL;
        int r = rp_app_manifest_parse(json, strlen(json), "app_manifest.json", &m, &err);
        if (r < 0)
                fail_msg("unexpected refusal (%d): %s\ninput: %s", r, err.message, json);
        assert_non_null(m);
        return m;
}

/* Parsing must fail with code and a message containing every needle. */
static void parse_fails_len(const char *json, size_t len, int code, const char *needle1, const char *needle2) {
        rp_error err = {0};
        rp_app_manifest *m = (rp_app_manifest *) 0x1;
        int r = rp_app_manifest_parse(json, len, "app_manifest.json", &m, &err);
        if (r != code)
                fail_msg("expected %d (%s), got %d: %s\ninput: %.300s", code, strerror(-code), r, err.message, json);
        assert_int_equal(err.code, code);
        assert_ptr_equal(m, (rp_app_manifest *) 0x1);   /* untouched on failure */
        if (strncmp(err.message, "app_manifest.json", 17) != 0)
                fail_msg("message does not name the source: %s", err.message);
        if (needle1 && !strstr(err.message, needle1))
                fail_msg("message lacks '%s': %s", needle1, err.message);
        if (needle2 && !strstr(err.message, needle2))
                fail_msg("message lacks '%s': %s", needle2, err.message);
}

static void parse_fails(const char *json, int code, const char *needle1, const char *needle2) {
        parse_fails_len(json, strlen(json), code, needle1, needle2);
}

static void caps_fail(const char *caps, int code, const char *needle1, const char *needle2) {
        _cleanup_free_ char *j = with_caps(caps);
        parse_fails(j, code, needle1, needle2);
}

static void test_minimal(void **state) {
        rp_app_manifest *m = parse_ok("{\"SchemaVersion\": 1, \"Name\": \"Hello\", \"ComponentId\": "
                                      "\"3A7C0E52-9B1D-4F7E-8C21-5D6E4F3A2B10\", \"EntryPoint\": \"/bin/app\"}");
        assert_string_equal(rp_app_manifest_name(m), "Hello");
        assert_string_equal(rp_app_manifest_component_id(m), GUID);
        assert_string_equal(rp_app_manifest_entry_point(m), "/bin/app");
        assert_int_equal(rp_app_manifest_type(m), RP_APP_TYPE_DEFAULT);
        assert_int_equal(rp_app_manifest_n_args(m), 0);
        assert_int_equal(rp_app_manifest_malloc_version(m), 0);
        assert_null(rp_app_manifest_device_auth_tenant(m));
        assert_int_equal(rp_app_manifest_mutable_storage_kb(m), 0);
        assert_string_equal(rp_app_manifest_source(m), "app_manifest.json");
        rp_app_manifest_free(m);
        rp_app_manifest_free(NULL);
}

static void test_full(void **state) {
        const char *j =
                "{\"SchemaVersion\": 1, \"Name\": \"Full\", \"ComponentId\": \"" GUID "\","
                " \"EntryPoint\": \"/bin/app\", \"CmdArgs\": [\"--scope\", \"\", \"x y\"],"
                " \"ApplicationType\": \"Default\", \"MallocVersion\": 2,"
                " \"TargetApplicationRuntimeVersion\": 17, \"TargetBetaApis\": \"Beta2404\","
                " \"Capabilities\": {"
                "  \"AllowedConnections\": [\"Api.Example.COM\", \"*.devices.example.net\", \"192.0.2.10\","
                "                          \"_svc._tcp.local\"],"
                "  \"AllowedTcpServerPorts\": [1, 8080, 65535], \"AllowedUdpServerPorts\": [53],"
                "  \"AllowedApplicationConnections\": [\"11111111-2222-3333-4444-555555555555\"],"
                "  \"Gpio\": [8, \"$BOARD_LED\", 0], \"Uart\": [\"ISU0\"], \"I2cMaster\": [\"$I2C\"],"
                "  \"SpiMaster\": [], \"Pwm\": [\"PWM-CONTROLLER-0\"], \"Adc\": [\"$ADC\"],"
                "  \"I2sSubordinate\": [\"I2S0\"], \"ExternalInterrupt\": [\"EINT4\"],"
                "  \"MutableStorage\": {\"SizeKB\": 64},"
                "  \"DeviceAuthentication\": \"AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE\","
                "  \"PowerControls\": [\"ForceReboot\", \"SetPowerProfile\"],"
                "  \"WifiConfig\": true, \"EnterpriseWifiConfig\": true, \"NetworkConfig\": false,"
                "  \"SystemTime\": true, \"TimeSyncConfig\": true, \"DhcpService\": true, \"SntpService\": true,"
                "  \"HardwareAddressConfig\": true, \"ReadNetworkProxyConfig\": true, \"CertStore\": true,"
                "  \"SystemEventNotifications\": true, \"SoftwareUpdateDeferral\": true, \"HeapMemStats\": true"
                " }}";
        rp_app_manifest *m = parse_ok(j);
        assert_int_equal(rp_app_manifest_n_args(m), 3);
        assert_string_equal(rp_app_manifest_arg(m, 1), "");
        assert_string_equal(rp_app_manifest_arg(m, 2), "x y");
        assert_null(rp_app_manifest_arg(m, 3));
        assert_int_equal(rp_app_manifest_malloc_version(m), 2);
        assert_int_equal(rp_app_manifest_target_runtime_version(m), 17);
        assert_string_equal(rp_app_manifest_target_beta_apis(m), "Beta2404");
        assert_int_equal(rp_app_manifest_n_connections(m), 4);
        assert_string_equal(rp_app_manifest_connection(m, 0), "api.example.com");
        assert_string_equal(rp_app_manifest_connection(m, 1), "*.devices.example.net");
        assert_string_equal(rp_app_manifest_connection(m, 2), "192.0.2.10");
        assert_int_equal(rp_app_manifest_n_server_ports(m, RP_IP_PROTO_TCP), 3);
        assert_int_equal(rp_app_manifest_server_port(m, RP_IP_PROTO_TCP, 2), 65535);
        assert_int_equal(rp_app_manifest_server_port(m, RP_IP_PROTO_UDP, 0), 53);
        assert_int_equal(rp_app_manifest_n_app_connections(m), 1);
        assert_int_equal(rp_app_manifest_n_peripherals(m, RP_PERIPH_GPIO), 3);
        const rp_app_peripheral *p = rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 0);
        assert_null(p->ref);
        assert_true(p->resolved);
        assert_int_equal(p->number, 8);
        p = rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 1);
        assert_string_equal(p->ref, "BOARD_LED");
        assert_false(p->resolved);
        assert_null(rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 3));
        assert_int_equal(rp_app_manifest_n_peripherals(m, RP_PERIPH_SPI_MASTER), 0);
        assert_string_equal(rp_app_manifest_peripheral(m, RP_PERIPH_UART, 0)->string, "ISU0");
        assert_int_equal(rp_app_manifest_n_unresolved(m), 3);
        assert_int_equal(rp_app_manifest_mutable_storage_kb(m), 64);
        assert_string_equal(rp_app_manifest_device_auth_tenant(m), "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee");
        assert_true(rp_app_manifest_has_power_control(m, RP_POWER_FORCE_REBOOT));
        assert_true(rp_app_manifest_has_power_control(m, RP_POWER_SET_POWER_PROFILE));
        assert_false(rp_app_manifest_has_power_control(m, RP_POWER_FORCE_POWER_DOWN));
        assert_true(rp_app_manifest_has_flag(m, RP_APP_FLAG_WIFI_CONFIG));
        assert_false(rp_app_manifest_has_flag(m, RP_APP_FLAG_NETWORK_CONFIG));
        assert_true(rp_app_manifest_has_flag(m, RP_APP_FLAG_HEAP_MEM_STATS));

        json_t *o = rp_app_manifest_to_json(m);
        assert_non_null(o);
        json_t *g = json_object_get(o, "Grants");
        assert_non_null(json_object_get(g, "WifiConfig"));
        assert_null(json_object_get(g, "NetworkConfig"));
        json_t *gpio = json_object_get(g, "Gpio");
        assert_int_equal(json_array_size(gpio), 3);
        assert_string_equal(json_string_value(json_object_get(json_array_get(gpio, 1), "reference")), "$BOARD_LED");
        assert_true(json_is_false(json_object_get(json_array_get(gpio, 1), "resolved")));
        assert_int_equal(json_integer_value(json_object_get(o, "UnresolvedReferences")), 3);
        json_decref(o);
        rp_app_manifest_free(m);
}

static void test_realtime(void **state) {
        rp_app_manifest *m = parse_ok("{\"SchemaVersion\": 1, \"Name\": \"rt\", \"ComponentId\": \"" GUID "\","
                                      " \"EntryPoint\": \"/bin/app\", \"Capabilities\": {},"
                                      " \"ApplicationType\": \"RealTimeCapable\"}");
        assert_int_equal(rp_app_manifest_type(m), RP_APP_TYPE_REALTIME_CAPABLE);
        rp_app_manifest_free(m);
}

static void test_json_syntax(void **state) {
        parse_fails("{\"SchemaVersion\": 1,\n  \"Name\": }", -EINVAL, "app_manifest.json:2:", "invalid JSON");
        parse_fails("", -EINVAL, "invalid JSON", NULL);
        parse_fails("[1, 2]", -EINVAL, "expected a JSON object", "array");
        parse_fails("{\"Name\": \"a\", \"Name\": \"b\"}", -EEXIST, "duplicate", NULL);
        /* Bytes after a NUL are still seen: the length is what counts. */
        parse_fails_len("{}\0{}", 5, -EINVAL, "invalid JSON", NULL);
        /* A file that is not JSON is not quoted in the message. */
        for (size_t i = 0; i < 3; i++) {
                static const char *const notjson[] = { "hunter2: s3cret\n", "{\"a\": 1} hunter2", "[hunter2]" };
                rp_error err = {0};
                rp_app_manifest *m = NULL;
                assert_int_equal(rp_app_manifest_parse(notjson[i], strlen(notjson[i]), "m.json", &m, &err), -EINVAL);
                assert_non_null(strstr(err.message, "m.json:1:"));
                if (strstr(err.message, "hunter"))
                        fail_msg("message repeats the file's text: %s", err.message);
        }
        /* Not UTF-8. */
        parse_fails("{\"Name\": \"\xff\"}", -EINVAL, "invalid JSON", NULL);
}

static void test_top_level_refusals(void **state) {
        parse_fails("{\"SchemaVersion\": 2, \"Name\": \"a\"}", -EOPNOTSUPP, "SchemaVersion", "only 1");
        parse_fails("{\"SchemaVersion\": \"1\"}", -EINVAL, "SchemaVersion", "got a string");
        parse_fails("{\"SchemaVersion\": 1.0}", -EINVAL, "SchemaVersion", "got a real number");
        parse_fails("{\"Name\": \"a\", \"ComponentId\": \"" GUID "\", \"EntryPoint\": \"/a\"}",
                    -EINVAL, "SchemaVersion: missing required field", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"ComponentId\": \"" GUID "\", \"EntryPoint\": \"/a\"}",
                    -EINVAL, "Name: missing required field", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\", \"EntryPoint\": \"/a\"}",
                    -EINVAL, "ComponentId: missing required field", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\", \"ComponentId\": \"" GUID "\"}",
                    -EINVAL, "EntryPoint: missing required field", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\", \"ComponentId\": \"not-a-guid\", \"EntryPoint\": \"/a\"}",
                    -EINVAL, "ComponentId", "not a GUID");
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\", \"ComponentId\": \"\", \"EntryPoint\": \"/a\"}",
                    -EINVAL, "ComponentId", "uuidgen");
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"\", \"ComponentId\": \"" GUID "\", \"EntryPoint\": \"/a\"}",
                    -EINVAL, "Name: must not be empty", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Name\": 5}", -EINVAL, "Name: expected a string, got an integer", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\\u0007b\"}", -EINVAL, "Name", "control character");
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\\u0000b\"}", -EINVAL, "Name: contains a NUL byte", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Na\\u0000me\": \"a\"}", -EINVAL, "invalid JSON", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\\u009bb\"}", -EINVAL, "Name", "control character");
        parse_fails("{\"SchemaVersion\": 1, \"EntryPoint\": \"bin/app\"}", -EINVAL, "EntryPoint", "absolute");
        parse_fails("{\"SchemaVersion\": 1, \"EntryPoint\": \"/bin/../etc/x\"}", -EINVAL, "EntryPoint", "\"..\"");
        parse_fails("{\"SchemaVersion\": 1, \"EntryPoint\": \"/bin//app\"}", -EINVAL, "EntryPoint", "empty");
        parse_fails("{\"SchemaVersion\": 1, \"EntryPoint\": \"/bin/\"}", -EINVAL, "EntryPoint", "directory");
        parse_fails("{\"SchemaVersion\": 1, \"CmdArgs\": \"--x\"}", -EINVAL, "CmdArgs: expected an array", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"CmdArgs\": [\"a\", 3]}", -EINVAL, "CmdArgs[1]: expected a string", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"ApplicationType\": \"realtimecapable\"}", -EINVAL,
                    "ApplicationType", "did you mean \"RealTimeCapable\"");
        parse_fails("{\"SchemaVersion\": 1, \"ApplicationType\": \"Daemon\"}", -EINVAL, "ApplicationType", "Default");
        parse_fails("{\"SchemaVersion\": 1, \"MallocVersion\": 3}", -ERANGE, "MallocVersion", "out of range");
        parse_fails("{\"SchemaVersion\": 1, \"TargetApplicationRuntimeVersion\": 0}", -ERANGE,
                    "TargetApplicationRuntimeVersion", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"TargetBetaApis\": 3}", -EINVAL, "TargetBetaApis", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"capabilities\": {}}", -EINVAL, "capabilities: unknown field",
                    "did you mean 'Capabilities'?");
        parse_fails("{\"SchemaVersion\": 1, \"EntryPiont\": \"/a\"}", -EINVAL, "EntryPiont: unknown field",
                    "did you mean 'EntryPoint'?");
        parse_fails("{\"SchemaVersion\": 1, \"Frobnicate\": true}", -EINVAL, "Frobnicate: unknown field", NULL);
        parse_fails("{\"SchemaVersion\": 1, \"Capabilities\": []}", -EINVAL, "Capabilities: expected an object", NULL);
}

/* The bidirectional controls make a terminal show a name in another order
 * than it is stored ("\u202egnp.exe" shows as "exe.png"): each is refused,
 * raw or escaped, with its code point named. */
static const uint32_t bidi_controls[] = { 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };

static void test_bidi_names(void **state) {
        for (size_t i = 0; i < ELEMENTSOF(bidi_controls); i++) {
                uint32_t cp = bidi_controls[i];
                char needle[16], raw[4] = { (char) (0xe0 | cp >> 12), (char) (0x80 | (cp >> 6 & 0x3f)),
                                            (char) (0x80 | (cp & 0x3f)), 0 };
                snprintf(needle, sizeof needle, "U+%04X", (unsigned) cp);
                _cleanup_free_ char *esc = NULL, *utf8 = NULL;
                assert_true(asprintf(&esc, "{\"SchemaVersion\": 1, \"Name\": \"ab\\u%04xcd\"}", (unsigned) cp) > 0);
                assert_true(asprintf(&utf8, "{\"SchemaVersion\": 1, \"Name\": \"ab%scd\"}", raw) > 0);
                parse_fails(esc, -EINVAL, "app_manifest.json: Name: contains ", needle);
                parse_fails(utf8, -EINVAL, "app_manifest.json: Name: contains ", needle);
                parse_fails(esc, -EINVAL, "bidirectional", NULL);
        }
        /* Neighbours of the ranges are ordinary text. */
        rp_app_manifest_free(parse_ok("{\"SchemaVersion\": 1, \"Name\": \"a\\u2029\\u202f\\u2065\\u206a\", "
                                      "\"ComponentId\": \"" GUID "\", \"EntryPoint\": \"/bin/app\"}"));
        parse_fails("{\"SchemaVersion\": 1, \"Name\": \"a\\u0007b\"}", -EINVAL, "Name: contains U+0007",
                    "a control character");
}

static void test_limits(void **state) {
        /* Total size. */
        size_t big = RP_APP_MANIFEST_MAX_SIZE + 1;
        char *buf = malloc(big);
        assert_non_null(buf);
        memset(buf, ' ', big);
        buf[0] = '{';
        buf[big - 1] = '}';
        parse_fails_len(buf, big, -EFBIG, "limit", NULL);
        free(buf);

        /* A long Name. */
        char name[RP_APP_MANIFEST_MAX_NAME + 2];
        memset(name, 'n', sizeof name - 1);
        name[sizeof name - 1] = '\0';
        _cleanup_free_ char *j = NULL;
        assert_true(asprintf(&j, "{\"SchemaVersion\": 1, \"Name\": \"%s\"}", name) > 0);
        parse_fails(j, -EFBIG, "Name: too long", NULL);

        /* Too many CmdArgs. */
        _cleanup_free_ char *args = calloc(RP_APP_MANIFEST_MAX_ARGS + 2, 5);
        assert_non_null(args);
        strcpy(args, "{\"SchemaVersion\": 1, \"CmdArgs\": [");
        for (int i = 0; i <= RP_APP_MANIFEST_MAX_ARGS; i++)
                strcat(args, i ? ",\"a\"" : "\"a\"");
        strcat(args, "]}");
        parse_fails(args, -EFBIG, "CmdArgs: too many entries", NULL);

        /* Too many Gpio entries. */
        _cleanup_free_ char *gp = calloc(RP_APP_MANIFEST_MAX_LIST + 2, 8);
        assert_non_null(gp);
        strcpy(gp, "\"Gpio\": [");
        for (int i = 0; i <= RP_APP_MANIFEST_MAX_LIST; i++)
                sprintf(gp + strlen(gp), i ? ",%d" : "%d", i);
        strcat(gp, "]");
        caps_fail(gp, -EFBIG, "Capabilities.Gpio: too many entries", NULL);

        /* A long reference. */
        char ref[RP_APP_MANIFEST_MAX_PERIPHERAL + 16] = "\"Uart\": [\"$";
        size_t n = strlen(ref);
        memset(ref + n, 'R', RP_APP_MANIFEST_MAX_PERIPHERAL + 1);
        strcpy(ref + n + RP_APP_MANIFEST_MAX_PERIPHERAL + 1, "\"]");
        caps_fail(ref, -EFBIG, "Capabilities.Uart[0]: too long", NULL);

        caps_fail("\"MutableStorage\": {\"SizeKB\": 0}", -ERANGE, "Capabilities.MutableStorage.SizeKB", "out of range");
        caps_fail("\"MutableStorage\": {\"SizeKB\": 99999999999}", -ERANGE, "MutableStorage.SizeKB", NULL);
}

static void test_capability_refusals(void **state) {
        caps_fail("\"Gpio\": [1, 2, true]", -EINVAL,
                  "app_manifest.json: Capabilities.Gpio[2]: expected an integer or a \"$NAME\" reference, got a boolean",
                  NULL);
        caps_fail("\"Gpio\": [\"GPIO3\"]", -EINVAL, "Capabilities.Gpio[0]", "got a string");
        caps_fail("\"Gpio\": [-1]", -ERANGE, "Capabilities.Gpio[0]", "out of range");
        caps_fail("\"Gpio\": [4, 4]", -EEXIST, "Capabilities.Gpio[1]", "twice");
        caps_fail("\"Gpio\": [\"$LED\", \"$LED\"]", -EEXIST, "Capabilities.Gpio[1]", "twice");
        caps_fail("\"Gpio\": [\"$\"]", -EINVAL, "Capabilities.Gpio[0]", "not a valid reference");
        caps_fail("\"Gpio\": [\"$1LED\"]", -EINVAL, "Capabilities.Gpio[0]", "not a valid reference");
        caps_fail("\"Gpio\": [\"$LED-1\"]", -EINVAL, "Capabilities.Gpio[0]", "not a valid reference");
        caps_fail("\"Gpio\": {}", -EINVAL, "Capabilities.Gpio: expected an array", NULL);
        caps_fail("\"Uart\": [4]", -EINVAL, "Capabilities.Uart[0]: expected a string or a \"$NAME\" reference, got an integer", NULL);
        caps_fail("\"Uart\": [\"ISU0\", \"ISU0\"]", -EEXIST, "Capabilities.Uart[1]", "twice");
        caps_fail("\"Uart\": [\"\"]", -EINVAL, "Capabilities.Uart[0]: must not be empty", NULL);
        caps_fail("\"I2cMaster\": [\"ISU 0\"]", -EINVAL, "Capabilities.I2cMaster[0]", "not a valid peripheral name");
        caps_fail("\"SpiMaster\": [null]", -EINVAL, "Capabilities.SpiMaster[0]", "got null");
        caps_fail("\"Pwm\": [[\"x\"]]", -EINVAL, "Capabilities.Pwm[0]", "got an array");
        caps_fail("\"Adc\": [{}]", -EINVAL, "Capabilities.Adc[0]", "got an object");
        caps_fail("\"AllowedConnections\": [\"example.com\", \"EXAMPLE.com\"]", -EEXIST,
                  "Capabilities.AllowedConnections[1]", "twice");
        caps_fail("\"AllowedConnections\": [\"bad host\"]", -EINVAL, "Capabilities.AllowedConnections[0]", "host name");
        caps_fail("\"AllowedConnections\": [\"\"]", -EINVAL, "Capabilities.AllowedConnections[0]", "empty");
        caps_fail("\"AllowedConnections\": [\"a..b\"]", -EINVAL, "AllowedConnections[0]", "empty label");
        caps_fail("\"AllowedConnections\": [\"-a.com\"]", -EINVAL, "AllowedConnections[0]", "'-'");
        caps_fail("\"AllowedConnections\": [\"*\"]", -EINVAL, "AllowedConnections[0]", "wildcard");
        caps_fail("\"AllowedConnections\": [\"*.com\"]", -EINVAL, "AllowedConnections[0]", "two labels");
        caps_fail("\"AllowedConnections\": [\"api.*.example.com\"]", -EINVAL, "AllowedConnections[0]", "wildcard");
        caps_fail("\"AllowedConnections\": [\"*example.com\"]", -EINVAL, "AllowedConnections[0]", "wildcard");
        caps_fail("\"AllowedConnections\": [\"256.1.1.1\"]", -EINVAL, "AllowedConnections[0]", "IPv4");
        caps_fail("\"AllowedConnections\": [\"10.0.0\"]", -EINVAL, "AllowedConnections[0]", "IPv4");
        caps_fail("\"AllowedConnections\": [\"10.01.0.1\"]", -EINVAL, "AllowedConnections[0]", "leading zeros");
        caps_fail("\"AllowedConnections\": [\"2001:db8::1\"]", -EOPNOTSUPP, "AllowedConnections[0]", "IPv6");
        caps_fail("\"AllowedConnections\": [\"example.com:443\"]", -EOPNOTSUPP, "AllowedConnections[0]", "ports");
        caps_fail("\"AllowedConnections\": [\"https://example.com\"]", -EOPNOTSUPP, "AllowedConnections[0]", NULL);
        {
                char host[512] = "\"AllowedConnections\": [\"";
                for (int i = 0; i < 5; i++)
                        strcat(host, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.");
                strcat(host, "com\"]");
                caps_fail(host, -EFBIG, "AllowedConnections[0]", "253");
        }
        caps_fail("\"AllowedConnections\": [\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.com\"]",
                  -EINVAL, "AllowedConnections[0]", "63");
        caps_fail("\"AllowedConnections\": [5]", -EINVAL, "AllowedConnections[0]: expected a string", NULL);
        caps_fail("\"AllowedTcpServerPorts\": [0]", -ERANGE, "Capabilities.AllowedTcpServerPorts[0]", "1..65535");
        caps_fail("\"AllowedUdpServerPorts\": [65536]", -ERANGE, "Capabilities.AllowedUdpServerPorts[0]", NULL);
        caps_fail("\"AllowedUdpServerPorts\": [\"53\"]", -EINVAL, "AllowedUdpServerPorts[0]", "got a string");
        caps_fail("\"AllowedTcpServerPorts\": [80, 80]", -EEXIST, "AllowedTcpServerPorts[1]", "twice");
        caps_fail("\"AllowedApplicationConnections\": [\"xyz\"]", -EINVAL,
                  "Capabilities.AllowedApplicationConnections[0]", "component id");
        caps_fail("\"AllowedApplicationConnections\": [\"" GUID "\", \"3A7C0E52-9B1D-4F7E-8C21-5D6E4F3A2B10\"]",
                  -EEXIST, "AllowedApplicationConnections[1]", "twice");
        caps_fail("\"DeviceAuthentication\": \"tenant\"", -EINVAL, "Capabilities.DeviceAuthentication", "tenant id");
        caps_fail("\"DeviceAuthentication\": true", -EINVAL, "Capabilities.DeviceAuthentication", "got a boolean");
        caps_fail("\"MutableStorage\": 8", -EINVAL, "Capabilities.MutableStorage", "expected an object like");
        caps_fail("\"MutableStorage\": {}", -EINVAL, "Capabilities.MutableStorage.SizeKB: missing required field", NULL);
        caps_fail("\"MutableStorage\": {\"SizeKb\": 8}", -EINVAL, "Capabilities.MutableStorage.SizeKb: unknown field",
                  "did you mean 'SizeKB'?");
        caps_fail("\"MutableStorage\": {\"SizeKB\": \"8\"}", -EINVAL, "MutableStorage.SizeKB", "got a string");
        caps_fail("\"PowerControls\": [\"ForceReboot\", \"ForceReboot\"]", -EEXIST, "Capabilities.PowerControls[1]", "twice");
        caps_fail("\"PowerControls\": [\"forcereboot\"]", -EINVAL, "Capabilities.PowerControls[0]",
                  "did you mean \"ForceReboot\"");
        caps_fail("\"PowerControls\": [\"Hibernate\"]", -EINVAL, "Capabilities.PowerControls[0]", "ForcePowerDown");
        caps_fail("\"PowerControls\": \"ForceReboot\"", -EINVAL, "Capabilities.PowerControls: expected an array", NULL);
        caps_fail("\"WifiConfig\": \"true\"", -EINVAL, "Capabilities.WifiConfig: expected true or false, got a string", NULL);
        caps_fail("\"SystemTime\": 1", -EINVAL, "Capabilities.SystemTime", "got an integer");
        caps_fail("\"gpio\": []", -EINVAL, "Capabilities.gpio: unknown field", "did you mean 'Gpio'?");
        caps_fail("\"WiFiConfig\": true", -EINVAL, "Capabilities.WiFiConfig: unknown field", "did you mean 'WifiConfig'?");
        caps_fail("\"Bluetooth\": true", -EINVAL, "Capabilities.Bluetooth: unknown field", NULL);
        caps_fail("\"Gpio\": [], \"Gpio\": []", -EEXIST, "duplicate", NULL);
}

static void test_load(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *p = test_path(dir, "app_manifest.json");
        _cleanup_free_ char *j = with_caps("\"Gpio\": [1]");
        test_write_file(p, j, strlen(j));
        rp_error err = {0};
        rp_app_manifest *m = NULL;
        assert_int_equal(rp_app_manifest_load(p, &m, &err), 0);
        assert_string_equal(rp_app_manifest_source(m), p);
        rp_app_manifest_free(m);

        _cleanup_free_ char *missing = test_path(dir, "nope.json");
        assert_int_equal(rp_app_manifest_load(missing, &m, &err), -ENOENT);
        assert_non_null(strstr(err.message, "nope.json"));

        /* A file over the size limit is refused before it is parsed. */
        _cleanup_free_ char *bigp = test_path(dir, "big.json");
        _cleanup_free_ char *big = malloc(RP_APP_MANIFEST_MAX_SIZE + 10);
        memset(big, ' ', RP_APP_MANIFEST_MAX_SIZE + 10);
        test_write_file(bigp, big, RP_APP_MANIFEST_MAX_SIZE + 10);
        assert_int_equal(rp_app_manifest_load(bigp, &m, &err), -EFBIG);
}

static int cmp_str(const void *a, const void *b) {
        return strcmp(*(char *const *) a, *(char *const *) b);
}

/* The *.json files of dir (under tests/data), sorted, as a NULL-terminated
 * list the caller frees with free_names(). */
static char **json_files(const char *dir) {
        DIR *d = opendir(dir);
        if (!d)
                fail_msg("cannot open %s: %s", dir, strerror(errno));
        char **names = calloc(1, sizeof(char *));
        size_t n = 0;
        for (struct dirent *e; (e = readdir(d));) {
                size_t len = strlen(e->d_name);
                if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                names = realloc(names, (n + 2) * sizeof(char *));
                assert_non_null(names);
                names[n++] = strdup(e->d_name);
                names[n] = NULL;
        }
        closedir(d);
        assert_non_null(names);
        qsort(names, n, sizeof(char *), cmp_str);
        return names;
}

static void free_names(char **names) {
        for (char **p = names; *p; p++)
                free(*p);
        free(names);
}

/* Every file under tests/data/app-manifests/valid parses. */
static void test_fixtures_valid(void **state) {
        _cleanup_free_ char *dir = test_data_path("app-manifests/valid");
        char **names = json_files(dir);
        assert_non_null(names[0]);
        for (char **f = names; *f; f++) {
                _cleanup_free_ char *p = test_path(dir, *f);
                rp_error err = {0};
                rp_app_manifest *m = NULL;
                if (rp_app_manifest_load(p, &m, &err) < 0)
                        fail_msg("valid/%s: %s", *f, err.message);
                rp_app_manifest_free(m);
        }
        free_names(names);
}

/* Every file under tests/data/app-manifests/invalid is refused, for the
 * reason this table gives: by the parser, or else when its references are
 * resolved through the demo profile (tests/data/hardware-definitions). A
 * file without an entry fails the test, so a new fixture needs one. */
static const struct {
        const char *file, *reason;
} invalid_fixtures[] = {
        { "duplicate_key.json", "invalid JSON: duplicate object key" },
        { "duplicate_resolved_gpio.json", "Capabilities.Gpio[2]: \"$DEMO_STATUS_LED\" and Capabilities.Gpio[0] "
          "\"$DEMO_LED\" both resolve to SIMSOC_GPIO8" },
        { "gpio_boolean.json", "Capabilities.Gpio[2]: expected an integer or a \"$NAME\" reference, got a boolean" },
        { "lowercase_capabilities.json", "capabilities: unknown field" },
        { "shared_serial_block.json", "Capabilities.I2cMaster[0]: \"$DEMO_HEADER_I2C\" and Capabilities.Uart[0]" },
        { "syntax_error.json", "syntax_error.json:6:1: invalid JSON" },
        { "type_mismatch_reference.json", "Capabilities.Gpio[0]: \"$DEMO_UART_LOOPBACK\" is a Uart peripheral" },
        { "unknown_reference.json", "Capabilities.Gpio[1]: \"$DEMO_NO_SUCH_PIN\" is not defined" },
};

static void test_fixtures_invalid(void **state) {
        _cleanup_free_ char *dir = test_data_path("app-manifests/invalid");
        _cleanup_free_ char *prof = test_data_path("hardware-definitions/profiles/demo_appliance.json");
        _cleanup_free_ char *boards = test_data_path("hardware-definitions/boards");
        const char *dirs[] = { boards, NULL };
        rp_error err = {0};
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
        if (rp_hwdef_load(prof, dirs, &h, &err) < 0)
                fail_msg("%s", err.message);

        char **names = json_files(dir);
        size_t seen = 0;
        for (char **f = names; *f; f++) {
                const char *reason = NULL;
                for (size_t i = 0; i < ELEMENTSOF(invalid_fixtures); i++)
                        if (streq(*f, invalid_fixtures[i].file))
                                reason = invalid_fixtures[i].reason;
                if (!reason)
                        fail_msg("invalid/%s has no entry in invalid_fixtures[]: add the reason it is refused", *f);
                seen++;
                _cleanup_free_ char *p = test_path(dir, *f);
                rp_app_manifest *m = NULL;
                err = (rp_error) {0};
                int r = rp_app_manifest_load(p, &m, &err);
                if (r == 0) {
                        r = rp_app_manifest_resolve(m, h, &err);
                        rp_app_manifest_free(m);
                }
                if (r == 0)
                        fail_msg("invalid/%s was accepted", *f);
                if (!strstr(err.message, reason))
                        fail_msg("invalid/%s: refused for another reason than '%s': %s", *f, reason, err.message);
        }
        free_names(names);
        if (seen != ELEMENTSOF(invalid_fixtures))
                fail_msg("invalid_fixtures[] lists a file that is not in invalid/");
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_minimal),
                cmocka_unit_test(test_full),
                cmocka_unit_test(test_realtime),
                cmocka_unit_test(test_json_syntax),
                cmocka_unit_test(test_top_level_refusals),
                cmocka_unit_test(test_bidi_names),
                cmocka_unit_test(test_limits),
                cmocka_unit_test(test_capability_refusals),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_fixtures_valid),
                cmocka_unit_test(test_fixtures_invalid),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
