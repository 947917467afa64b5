/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes the app manifest parser, its JSON output and reference resolution
 * against a small fixed hardware definition. Any input must be parsed or
 * refused with a message; never a crash, leak or undefined behaviour. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "package/app_manifest_json_internal.h"
#include "rampart/app_manifest.h"
#include "rampart/hwdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char board[] =
        "{\"Metadata\": {\"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 1},"
        " \"Peripherals\": ["
        "  {\"Name\": \"G0\", \"Type\": \"Gpio\", \"AppManifestValue\": 0},"
        "  {\"Name\": \"G1\", \"Type\": \"Gpio\", \"AppManifestValue\": 1},"
        "  {\"Name\": \"LED\", \"Type\": \"Gpio\", \"Mapping\": \"G1\"},"
        "  {\"Name\": \"U0\", \"Type\": \"Uart\", \"AppManifestValue\": \"S0\"},"
        "  {\"Name\": \"I0\", \"Type\": \"I2cMaster\", \"AppManifestValue\": \"S0\"},"
        "  {\"Name\": \"P0\", \"Type\": \"Pwm\", \"AppManifestValue\": \"PWM-0\"},"
        "  {\"Name\": \"A0\", \"Type\": \"Adc\", \"AppManifestValue\": \"ADC-0\"},"
        "  {\"Name\": \"NV\", \"Type\": \"Adc\", \"MainCoreHeaderValue\": \"(0)\"},"
        "  {\"Name\": \"CS\", \"Type\": \"int\", \"MainCoreHeaderValue\": \"(-1)\"}"
        " ]}";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static rp_hwdef *h;
        if (!h && rp_hwdef_parse(board, strlen(board), "board.json", NULL, 0, &h, NULL) < 0)
                abort();

        rp_error err = {0};
        rp_app_manifest *m = NULL;
        int r = rp_app_manifest_parse((const char *) data, size, "fuzz.json", &m, &err);
        if (r < 0) {
                if (err.code != r || err.message[0] == '\0')
                        abort();   /* every refusal carries a message */
                return 0;
        }
        json_t *j = rp_app_manifest_to_json(m);
        char *s = json_dumps(j, 0);
        free(s);
        json_decref(j);
        size_t before = rp_app_manifest_n_unresolved(m);
        rp_error_clear(&err);
        if (rp_app_manifest_resolve(m, h, &err) < 0) {
                if (err.message[0] == '\0' || rp_app_manifest_n_unresolved(m) != before)
                        abort();   /* a failed resolution changes nothing */
        } else if (rp_app_manifest_n_unresolved(m) != 0)
                abort();
        rp_app_manifest_free(m);
        return 0;
}
