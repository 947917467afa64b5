/* SPDX-License-Identifier: Apache-2.0 */
/* Allocation-failure torture for the manifest module: parsing a manifest,
 * its JSON output, loading a hardware definition with imports, generating a
 * header and resolving references each get every allocation failed in turn,
 * and must return an error without crashing or leaking. */
#include <errno.h>
#include <string.h>

#include "core/macro.h"
#include "package/app_manifest_json_internal.h"
#include "rampart/app_manifest.h"
#include "rampart/hwdef.h"
#include "testlib.h"
#include "torture.h"

static const char manifest[] =
        "{\"SchemaVersion\": 1, \"Name\": \"t\", \"ComponentId\": \"3564cf72-5fc9-48e9-82a1-91230aeb4d99\","
        " \"EntryPoint\": \"/bin/app\", \"CmdArgs\": [\"a\", \"\"], \"MallocVersion\": 2, \"TargetBetaApis\": \"B\","
        " \"Capabilities\": {\"AllowedConnections\": [\"a.example.com\", \"*.b.example\", \"10.0.0.1\"],"
        " \"AllowedTcpServerPorts\": [80], \"AllowedUdpServerPorts\": [53],"
        " \"AllowedApplicationConnections\": [\"11111111-2222-3333-4444-555555555555\"],"
        " \"Gpio\": [\"$LED\", 3], \"Uart\": [\"$U\", \"S9\"], \"Pwm\": [\"PWM-0\"],"
        " \"MutableStorage\": {\"SizeKB\": 8}, \"DeviceAuthentication\": \"11111111-2222-3333-4444-555555555555\","
        " \"PowerControls\": [\"ForceReboot\"], \"WifiConfig\": true}}";

#define META "\"Metadata\": {\"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 1}"
static const char chip[] =
        "{" META ", \"Description\": {\"Name\": \"c\", \"MainCoreHeaderFileTopContent\": [\"// c\"]},"
        " \"Peripherals\": [{\"Name\": \"G1\", \"Type\": \"Gpio\", \"AppManifestValue\": 1, \"Comment\": \"x\"},"
        " {\"Name\": \"S0\", \"Type\": \"Uart\", \"AppManifestValue\": \"S0\", \"MainCoreHeaderValue\": \"(4)\"}]}";
static const char board[] =
        "{" META ", \"Imports\": [{\"Path\": \"chip.json\"}], \"Peripherals\": ["
        " {\"Name\": \"LED\", \"Type\": \"Gpio\", \"Mapping\": \"G1\"}, {\"Name\": \"U\", \"Type\": \"Uart\", \"Mapping\": \"S0\"}]}";
static const rp_hwdef_file files[] = { { "chip.json", chip, sizeof chip - 1 } };

static int op_parse(void *ctx) {
        rp_app_manifest *m = NULL;
        int r = rp_app_manifest_parse(manifest, strlen(manifest), "m.json", &m, NULL);
        if (r < 0)
                return r;
        json_t *j = rp_app_manifest_to_json(m);
        rp_app_manifest_free(m);
        if (!j)
                return -ENOMEM;
        json_decref(j);
        return 0;
}

static int op_hwdef(void *ctx) {
        rp_hwdef *h = NULL;
        int r = rp_hwdef_parse(board, strlen(board), "board.json", files, 1, &h, NULL);
        if (r < 0)
                return r;
        for (size_t f = 0; f < rp_hwdef_n_files(h) && r == 0; f++) {
                char *text = NULL, *name = NULL;
                size_t len;
                r = rp_hwdef_generate_header(h, f, &text, &len, NULL);
                free(text);
                if (r == 0)
                        r = rp_hwdef_header_name(h, f, &name, NULL);
                free(name);
        }
        rp_hwdef_free(h);
        return r;
}

static int op_resolve(void *ctx) {
        const rp_hwdef *h = ctx;
        rp_app_manifest *m = NULL;
        int r = rp_app_manifest_parse(manifest, strlen(manifest), "m.json", &m, NULL);
        if (r < 0)
                return r;
        r = rp_app_manifest_resolve(m, h, NULL);
        if (r < 0 && rp_app_manifest_n_unresolved(m) != 2)
                fail_msg("a failed resolution changed the manifest");
        rp_app_manifest_free(m);
        return r;
}

static int op_load_files(void *ctx) {
        const char *const *paths = ctx;
        const char *dirs[] = { paths[1], NULL };
        rp_hwdef *h = NULL;
        int r = rp_hwdef_load(paths[0], dirs, &h, NULL);
        rp_hwdef_free(h);
        return r;
}

static void test_torture_manifest(void **state) {
        assert_true(torture_run(op_parse, NULL, 2000) > 1);
        assert_true(torture_run(op_hwdef, NULL, 2000) > 1);

        rp_hwdef *h = NULL;
        assert_int_equal(rp_hwdef_parse(board, strlen(board), "board.json", files, 1, &h, NULL), 0);
        assert_true(torture_run(op_resolve, h, 2000) > 1);
        rp_hwdef_free(h);

        const char *dir = test_tmpdir();
        _cleanup_free_ char *bp = test_path(dir, "board.json"), *cp = test_path(dir, "chip.json");
        test_write_file(bp, board, strlen(board));
        test_write_file(cp, chip, strlen(chip));
        const char *paths[] = { bp, dir };
        assert_true(torture_run(op_load_files, paths, 2000) > 1);
}

int main(void) {
        torture_init();
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_torture_manifest),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
