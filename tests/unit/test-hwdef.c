/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/macro.h"
#include "package/app_manifest_json_internal.h"
#include "rampart/hwdef.h"
#include "testlib.h"

#define META "\"Metadata\": {\"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 1}"

/* A chip: four pins, one serial block in two roles, a PWM block, an int. */
static const char chip[] =
        "{" META ", \"Description\": {\"Name\": \"Chip\", \"MainCoreHeaderFileTopContent\": [\"// chip top\"]},"
        " \"Peripherals\": ["
        "  {\"Name\": \"CHIP_GPIO0\", \"Type\": \"Gpio\", \"MainCoreHeaderValue\": \"(0)\", \"AppManifestValue\": 0},"
        "  {\"Name\": \"CHIP_GPIO1\", \"Type\": \"Gpio\", \"MainCoreHeaderValue\": \"(1)\", \"AppManifestValue\": 1,"
        "   \"Comment\": \"pin one\"},"
        "  {\"Name\": \"CHIP_GPIO2\", \"Type\": \"Gpio\", \"AppManifestValue\": 2},"
        "  {\"Name\": \"CHIP_S0_UART\", \"Type\": \"Uart\", \"MainCoreHeaderValue\": \"(4)\", \"AppManifestValue\": \"S0\"},"
        "  {\"Name\": \"CHIP_S0_I2C\", \"Type\": \"I2cMaster\", \"MainCoreHeaderValue\": \"(0)\", \"AppManifestValue\": \"S0\"},"
        "  {\"Name\": \"CHIP_PWM0\", \"Type\": \"Pwm\", \"AppManifestValue\": \"PWM-0\"},"
        "  {\"Name\": \"CHIP_CS_A\", \"Type\": \"int\", \"MainCoreHeaderValue\": \"(-1)\"}"
        " ]}";

/* A board importing the chip. */
static const char board[] =
        "{" META ", \"Description\": {\"Name\": \"Board\"}, \"Imports\": [{\"Path\": \"chip.json\"}],"
        " \"Peripherals\": ["
        "  {\"Name\": \"BOARD_LED\", \"Type\": \"Gpio\", \"Mapping\": \"CHIP_GPIO1\", \"Comment\": \"the LED\"},"
        "  {\"Name\": \"BOARD_BUTTON\", \"Type\": \"Gpio\", \"Mapping\": \"CHIP_GPIO2\"},"
        "  {\"Name\": \"BOARD_UART\", \"Type\": \"Uart\", \"Mapping\": \"CHIP_S0_UART\"},"
        "  {\"Name\": \"BOARD_I2C\", \"Type\": \"I2cMaster\", \"Mapping\": \"CHIP_S0_I2C\"},"
        "  {\"Name\": \"BOARD_CS\", \"Type\": \"int\", \"Mapping\": \"CHIP_CS_A\"}"
        " ]}";

/* An application profile importing the board. */
static const char profile[] =
        "{" META ", \"Imports\": [{\"Path\": \"board.json\"}],"
        " \"Peripherals\": ["
        "  {\"Name\": \"APP_LED\", \"Type\": \"Gpio\", \"Mapping\": \"BOARD_LED\"},"
        "  {\"Name\": \"APP_STATUS\", \"Type\": \"Gpio\", \"Mapping\": \"BOARD_LED\"},"
        "  {\"Name\": \"APP_BUTTON\", \"Type\": \"Gpio\", \"Mapping\": \"BOARD_BUTTON\"},"
        "  {\"Name\": \"APP_UART\", \"Type\": \"Uart\", \"Mapping\": \"BOARD_UART\"},"
        "  {\"Name\": \"APP_I2C\", \"Type\": \"I2cMaster\", \"Mapping\": \"BOARD_I2C\"},"
        "  {\"Name\": \"APP_PWM\", \"Type\": \"Pwm\", \"Mapping\": \"CHIP_PWM0\"},"
        "  {\"Name\": \"APP_CS\", \"Type\": \"int\", \"Mapping\": \"BOARD_CS\"}"
        " ]}";

static const rp_hwdef_file std_files[] = {
        { "chip.json", chip, sizeof chip - 1 },
        { "board.json", board, sizeof board - 1 },
};

static rp_hwdef *load_mem(const char *json, const rp_hwdef_file *files, size_t n) {
        rp_error err = {0};
        rp_hwdef *h = NULL;
        if (rp_hwdef_parse(json, strlen(json), "root.json", files, n, &h, &err) < 0)
                fail_msg("unexpected refusal: %s", err.message);
        return h;
}

static void hw_fails(const char *json, const rp_hwdef_file *files, size_t n, int code, const char *n1, const char *n2) {
        rp_error err = {0};
        rp_hwdef *h = (rp_hwdef *) 0x1;
        int r = rp_hwdef_parse(json, strlen(json), "root.json", files, n, &h, &err);
        if (r != code)
                fail_msg("expected %d (%s), got %d: %s", code, strerror(-code), r, err.message);
        assert_int_equal(err.code, code);
        assert_ptr_equal(h, (rp_hwdef *) 0x1);
        if (n1 && !strstr(err.message, n1))
                fail_msg("message lacks '%s': %s", n1, err.message);
        if (n2 && !strstr(err.message, n2))
                fail_msg("message lacks '%s': %s", n2, err.message);
}

/* A definition of one file holding these peripherals. */
static char *one(const char *periphs) {
        char *s;
        if (asprintf(&s, "{" META ", \"Peripherals\": [%s]}", periphs) < 0)
                fail_msg("out of memory");
        return s;
}

static void one_fails(const char *periphs, int code, const char *n1, const char *n2) {
        _cleanup_free_ char *j = one(periphs);
        hw_fails(j, std_files, ELEMENTSOF(std_files), code, n1, n2);
}

static void test_load_chain(void **state) {
        rp_hwdef *h = load_mem(profile, std_files, ELEMENTSOF(std_files));
        assert_int_equal(rp_hwdef_n_files(h), 3);
        assert_string_equal(rp_hwdef_file_path(h, 0), "root.json");
        assert_string_equal(rp_hwdef_file_path(h, 1), "board.json");
        assert_string_equal(rp_hwdef_file_path(h, 2), "chip.json");
        assert_null(rp_hwdef_file_description(h, 0));
        assert_string_equal(rp_hwdef_file_description(h, 1), "Board");
        assert_int_equal(rp_hwdef_file_n_imports(h, 0), 1);
        assert_int_equal(rp_hwdef_file_import(h, 0, 0), 1);
        assert_int_equal(rp_hwdef_file_import(h, 1, 0), 2);
        assert_int_equal(rp_hwdef_n_peripherals(h), 7 + 5 + 7);

        const rp_hwdef_peripheral *p = rp_hwdef_find(h, "APP_LED");
        assert_non_null(p);
        assert_string_equal(p->mapping, "BOARD_LED");
        assert_int_equal(p->file, 0);
        const rp_hwdef_peripheral *root = rp_hwdef_root(h, p);
        assert_string_equal(root->name, "CHIP_GPIO1");
        assert_true(root->has_value);
        assert_true(root->value_is_integer);
        assert_int_equal(root->number, 1);
        assert_string_equal(root->comment, "pin one");
        assert_int_equal(root->file, 2);
        assert_ptr_equal(rp_hwdef_root(h, root), root);
        assert_string_equal(rp_hwdef_root(h, rp_hwdef_find(h, "APP_UART"))->string, "S0");
        assert_null(rp_hwdef_find(h, "NOPE"));
        assert_false(rp_hwdef_root(h, rp_hwdef_find(h, "APP_CS"))->has_value);
        rp_hwdef_free(h);
        rp_hwdef_free(NULL);
}

static void test_diamond(void **state) {
        /* root imports board and chip; board imports chip: chip loads once. */
        const char *root = "{" META ", \"Imports\": [{\"Path\": \"board.json\"}, {\"Path\": \"chip.json\"}],"
                           " \"Peripherals\": [{\"Name\": \"X\", \"Type\": \"Gpio\", \"Mapping\": \"CHIP_GPIO0\"}]}";
        rp_hwdef *h = load_mem(root, std_files, ELEMENTSOF(std_files));
        assert_int_equal(rp_hwdef_n_files(h), 3);
        assert_int_equal(rp_hwdef_file_import(h, 0, 1), 2);
        rp_hwdef_free(h);
}

static void test_document_refusals(void **state) {
        hw_fails("{\"Peripherals\": []}", NULL, 0, -EINVAL, "root.json: Metadata: missing required field", NULL);
        hw_fails("{\"Metadata\": {\"Type\": \"Other\", \"Version\": 1}, \"Peripherals\": []}", NULL, 0, -EINVAL,
                 "Metadata.Type", "Azure Sphere Hardware Definition");
        hw_fails("{\"Metadata\": {\"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 2}, \"Peripherals\": []}",
                 NULL, 0, -EOPNOTSUPP, "Metadata.Version", NULL);
        hw_fails("{\"Metadata\": {\"Type\": \"Azure Sphere Hardware Definition\"}, \"Peripherals\": []}",
                 NULL, 0, -EINVAL, "Metadata.Version: missing", NULL);
        hw_fails("{\"Metadata\": {\"Type\": \"Azure Sphere Hardware Definition\", \"Version\": 1, \"X\": 1}, "
                 "\"Peripherals\": []}", NULL, 0, -EINVAL, "Metadata.X: unknown field", NULL);
        hw_fails("{" META "}", NULL, 0, -EINVAL, "Peripherals: missing required field", NULL);
        hw_fails("{" META ", \"Peripherals\": {}}", NULL, 0, -EINVAL, "Peripherals: expected an array", NULL);
        hw_fails("{" META ", \"peripherals\": []}", NULL, 0, -EINVAL, "peripherals: unknown field",
                 "did you mean 'Peripherals'?");
        hw_fails("{\"Metadata\": [1], \"Peripherals\": []}", NULL, 0, -EINVAL,
                 "root.json: Metadata: expected an object, got an array", NULL);
        hw_fails("{" META ", \"Description\": 5, \"Peripherals\": []}", NULL, 0, -EINVAL,
                 "root.json: Description: expected an object, got", NULL);
        hw_fails("{" META ", \"Description\": {\"Nmae\": \"x\"}, \"Peripherals\": []}", NULL, 0, -EINVAL,
                 "Description.Nmae: unknown field", "did you mean 'Name'?");
        hw_fails("{" META ", \"Description\": {\"MainCoreHeaderFileTopContent\": [\"a\", 5]}, \"Peripherals\": []}",
                 NULL, 0, -EINVAL, "Description.MainCoreHeaderFileTopContent[1]", "got an integer");
        hw_fails("{" META ", \"Description\": {\"MainCoreHeaderFileTopContent\": [\"a\\nb\"]}, \"Peripherals\": []}",
                 NULL, 0, -EINVAL, "MainCoreHeaderFileTopContent[0]", "control character");
        hw_fails("{" META ", \"Peripherals\": [], \"Peripherals\": []}", NULL, 0, -EEXIST, "root.json:1:", "duplicate");
        hw_fails("{" META ", \"Peripherals\": [}", NULL, 0, -EINVAL, "root.json:1:", "invalid JSON");
}

static void test_peripheral_refusals(void **state) {
        one_fails("5", -EINVAL, "Peripherals[0]: expected an object", NULL);
        one_fails("{\"Type\": \"Gpio\", \"AppManifestValue\": 1}", -EINVAL, "Peripherals[0].Name: missing", NULL);
        one_fails("{\"Name\": \"A\", \"AppManifestValue\": 1}", -EINVAL, "Peripherals[0].Type: missing", NULL);
        one_fails("{\"Name\": \"A B\", \"Type\": \"Gpio\", \"AppManifestValue\": 1}", -EINVAL,
                  "Peripherals[0].Name", "not a valid name");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 1, \"Colour\": \"red\"}", -EINVAL,
                  "Peripherals[0].Colour: unknown field", NULL);
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"mapping\": \"CHIP_GPIO0\"}", -EINVAL,
                  "Peripherals[0].mapping: unknown field", "did you mean 'Mapping'?");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\"}", -EINVAL, "Peripherals[0]", "needs a Mapping");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"Mapping\": \"B\", \"AppManifestValue\": 1}", -EINVAL,
                  "Peripherals[0]", "both a Mapping and an AppManifestValue");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"Mapping\": \"B\", \"MainCoreHeaderValue\": \"(1)\"}", -EINVAL,
                  "Peripherals[0]", "both a Mapping and a MainCoreHeaderValue");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": \"GPIO1\"}", -EINVAL,
                  "Peripherals[0].AppManifestValue", "an integer");
        one_fails("{\"Name\": \"A\", \"Type\": \"Uart\", \"AppManifestValue\": 3}", -EINVAL,
                  "Peripherals[0].AppManifestValue", "a string");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": true}", -EINVAL,
                  "Peripherals[0].AppManifestValue", "got a boolean");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 70000}", -ERANGE,
                  "Peripherals[0].AppManifestValue", NULL);
        one_fails("{\"Name\": \"A\", \"Type\": \"int\", \"MainCoreHeaderValue\": \"(1) // x\"}", -EINVAL,
                  "Peripherals[0].MainCoreHeaderValue", "C macro value");
        one_fails("{\"Name\": \"A\", \"Type\": \"int\", \"MainCoreHeaderValue\": \"(1) \\\\\"}", -EINVAL,
                  "Peripherals[0].MainCoreHeaderValue", "backslash");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 1, \"Comment\": \"a\\u001bb\"}",
                  -EINVAL, "Peripherals[0].Comment", "control character");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"Mapping\": \"A\"}", -EINVAL, "Peripherals[0]", "itself");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 1},"
                  "{\"Name\": \"B\", \"Type\": \"Gpio\", \"AppManifestValue\": 2},"
                  "{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 3}", -EEXIST,
                  "root.json: Peripherals[2]: duplicate peripheral name \"A\"", "Peripherals[0]");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"Mapping\": \"NOWHERE\"}", -ENOENT,
                  "Peripherals[0]", "\"NOWHERE\"");
        one_fails("{\"Name\": \"A\", \"Type\": \"Gpio\", \"Mapping\": \"B\"}, {\"Name\": \"B\", \"Type\": \"Gpio\", "
                  "\"Mapping\": \"A\"}", -ELOOP, "Peripherals[0]", "loops");
        one_fails("{\"Name\": \"A\", \"Type\": \"Uart\", \"Mapping\": \"B\"}, {\"Name\": \"B\", \"Type\": \"Gpio\", "
                  "\"AppManifestValue\": 1}", -EINVAL, "Peripherals[0]", "a Gpio peripheral");
}

/* Bidirectional controls in any text of a definition: names shown by
 * `show`, comments and top lines copied into C headers (where they could
 * make code read differently from how it compiles). */
static void test_bidi(void **state) {
        static const unsigned cps[] = { 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };
        for (size_t i = 0; i < ELEMENTSOF(cps); i++) {
                char needle[16];
                snprintf(needle, sizeof needle, "contains U+%04X", cps[i]);
                _cleanup_free_ char *d = NULL, *t = NULL, *c = NULL, *n = NULL, *v = NULL;
                assert_true(asprintf(&d, "{" META ", \"Description\": {\"Name\": \"Bo\\u%04xard\"}, "
                                     "\"Peripherals\": []}", cps[i]) > 0);
                hw_fails(d, NULL, 0, -EINVAL, "root.json: Description.Name: ", needle);
                assert_true(asprintf(&t, "{" META ", \"Description\": {\"MainCoreHeaderFileTopContent\": "
                                     "[\"// ok\", \"/* x \\u%04x */\"]}, \"Peripherals\": []}", cps[i]) > 0);
                hw_fails(t, NULL, 0, -EINVAL, "Description.MainCoreHeaderFileTopContent[1]: ", needle);
                assert_true(asprintf(&c, "{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 1, "
                                     "\"Comment\": \"\\u%04x\"}", cps[i]) > 0);
                one_fails(c, -EINVAL, "root.json: Peripherals[0].Comment: ", needle);
                assert_true(asprintf(&n, "{\"Name\": \"LED\\u%04x\", \"Type\": \"Gpio\", \"AppManifestValue\": 1}",
                                     cps[i]) > 0);
                one_fails(n, -EINVAL, "root.json: Peripherals[0].Name: ", needle);
                assert_true(asprintf(&v, "{\"Name\": \"U\", \"Type\": \"Uart\", \"AppManifestValue\": \"S\\u%04x\"}",
                                     cps[i]) > 0);
                one_fails(v, -EINVAL, "root.json: Peripherals[0].AppManifestValue: ", needle);
        }
}

static void test_cross_file(void **state) {
        /* A name defined by the root and an import. */
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"chip.json\"}], \"Peripherals\": ["
                 "{\"Name\": \"CHIP_GPIO0\", \"Type\": \"Gpio\", \"AppManifestValue\": 9}]}",
                 std_files, ELEMENTSOF(std_files), -EEXIST, "CHIP_GPIO0", "also defined in");
        /* Mapping to a name of a file that is not imported. */
        const rp_hwdef_file files[] = {
                { "a.json", "{" META ", \"Peripherals\": [{\"Name\": \"A\", \"Type\": \"Gpio\", \"Mapping\": \"B\"}]}", 0 },
                { "b.json", "{" META ", \"Peripherals\": [{\"Name\": \"B\", \"Type\": \"Gpio\", \"AppManifestValue\": 1}]}", 0 },
        };
        rp_hwdef_file f2[2];
        memcpy(f2, files, sizeof files);
        f2[0].len = strlen(f2[0].data);
        f2[1].len = strlen(f2[1].data);
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"a.json\"}, {\"Path\": \"b.json\"}], \"Peripherals\": []}",
                 f2, 2, -ENOENT, "a.json: Peripherals[0]", "not defined in this file or its imports");
        /* Mapping type mismatch across files. */
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"chip.json\"}], \"Peripherals\": ["
                 "{\"Name\": \"LED\", \"Type\": \"Gpio\", \"Mapping\": \"CHIP_S0_UART\"}]}",
                 std_files, ELEMENTSOF(std_files), -EINVAL, "\"LED\" is a Gpio peripheral", "a Uart peripheral");
}

static void test_imports(void **state) {
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"missing.json\"}], \"Peripherals\": []}", std_files,
                 ELEMENTSOF(std_files), -ENOENT, "root.json: Imports[0].Path", "missing.json");
        hw_fails("{" META ", \"Imports\": [{\"path\": \"chip.json\"}], \"Peripherals\": []}", std_files,
                 ELEMENTSOF(std_files), -EINVAL, "Imports[0].path: unknown field", "did you mean 'Path'?");
        hw_fails("{" META ", \"Imports\": [{}], \"Peripherals\": []}", std_files, ELEMENTSOF(std_files), -EINVAL,
                 "Imports[0].Path: missing", NULL);
        hw_fails("{" META ", \"Imports\": [\"chip.json\"], \"Peripherals\": []}", std_files, ELEMENTSOF(std_files),
                 -EINVAL, "Imports[0]: expected an object", NULL);
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"chip.json\"}, {\"Path\": \"chip.json\"}], \"Peripherals\": []}",
                 std_files, ELEMENTSOF(std_files), -EEXIST, "Imports[1]", "imported twice");
        /* A broken import is reported with its own name. */
        const rp_hwdef_file bad[] = { { "bad.json", "{" META ", \"Peripherals\": [5]}", 0 } };
        rp_hwdef_file b2 = bad[0];
        b2.len = strlen(b2.data);
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"bad.json\"}], \"Peripherals\": []}", &b2, 1, -EINVAL,
                 "bad.json: Peripherals[0]", NULL);

        /* Cycles: a -> b -> a, and a file importing itself. */
        static const char a[] = "{" META ", \"Imports\": [{\"Path\": \"b.json\"}], \"Peripherals\": []}";
        static const char b[] = "{" META ", \"Imports\": [{\"Path\": \"a.json\"}], \"Peripherals\": []}";
        const rp_hwdef_file cyc[] = { { "a.json", a, sizeof a - 1 }, { "b.json", b, sizeof b - 1 } };
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"a.json\"}], \"Peripherals\": []}", cyc, 2, -ELOOP,
                 "import cycle", "a.json -> b.json -> a.json");
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"root.json\"}], \"Peripherals\": []}", NULL, 0, -ENOENT,
                 "root.json", NULL);
        static const char self[] = "{" META ", \"Imports\": [{\"Path\": \"self.json\"}], \"Peripherals\": []}";
        const rp_hwdef_file selff[] = { { "self.json", self, sizeof self - 1 } };
        hw_fails(self, selff, 1, -ELOOP, "import cycle", "self.json -> self.json");

        /* A chain deeper than the limit: d0 -> d1 -> ... -> d9. */
        rp_hwdef_file deep[RP_HWDEF_MAX_DEPTH + 2];
        char names[RP_HWDEF_MAX_DEPTH + 2][16], texts[RP_HWDEF_MAX_DEPTH + 2][256];
        for (int i = 0; i < RP_HWDEF_MAX_DEPTH + 2; i++) {
                snprintf(names[i], sizeof names[i], "d%d.json", i);
                if (i < RP_HWDEF_MAX_DEPTH + 1)
                        snprintf(texts[i], sizeof texts[i], "{" META ", \"Imports\": [{\"Path\": \"d%d.json\"}], "
                                 "\"Peripherals\": []}", i + 1);
                else
                        snprintf(texts[i], sizeof texts[i], "{" META ", \"Peripherals\": []}");
                deep[i] = (rp_hwdef_file) { names[i], texts[i], strlen(texts[i]) };
        }
        /* The root imports d1: depth 1..MAX is fine, one more is not. */
        rp_hwdef *h = NULL;
        rp_error err = {0};
        if (rp_hwdef_parse(texts[1], strlen(texts[1]), "d0.json", deep, RP_HWDEF_MAX_DEPTH + 2, &h, &err) < 0)
                fail_msg("%s", err.message);
        rp_hwdef_free(h);
        hw_fails(texts[0], deep, RP_HWDEF_MAX_DEPTH + 2, -ELOOP, "nested more than", NULL);
}

static void test_header(void **state) {
        rp_hwdef *h = load_mem(profile, std_files, ELEMENTSOF(std_files));
        char *text = NULL;
        size_t len = 0;
        rp_error err = {0};
        assert_int_equal(rp_hwdef_generate_header(h, 0, &text, &len, &err), 0);
        assert_int_equal(strlen(text), len);
        assert_non_null(strstr(text, "/* Generated by rampart from root.json; do not edit. */\n#pragma once\n"));
        assert_non_null(strstr(text, "#include \"board.h\"\n"));
        assert_non_null(strstr(text, "#define APP_LED BOARD_LED\n"));
        assert_non_null(strstr(text, "#define APP_CS BOARD_CS\n"));
        free(text);
        assert_int_equal(rp_hwdef_generate_header(h, 2, &text, &len, &err), 0);
        assert_non_null(strstr(text, "/* chip top */\n"));   /* a // comment, made C89 */
        assert_non_null(strstr(text, "/* pin one */\n#define CHIP_GPIO1 (1)\n"));
        assert_non_null(strstr(text, "#define CHIP_GPIO2 (2)\n"));     /* integer value, no header value */
        assert_non_null(strstr(text, "#define CHIP_CS_A (-1)\n"));
        assert_non_null(strstr(text, "/* CHIP_PWM0: no MainCoreHeaderValue"));
        /* Deterministic. */
        char *again = NULL;
        size_t len2;
        assert_int_equal(rp_hwdef_generate_header(h, 2, &again, &len2, &err), 0);
        assert_int_equal(len, len2);
        assert_memory_equal(text, again, len);
        free(text);
        free(again);
        char *name = NULL;
        assert_int_equal(rp_hwdef_header_name(h, 1, &name, &err), 0);
        assert_string_equal(name, "board.h");
        free(name);
        assert_int_equal(rp_hwdef_generate_header(h, 3, &text, &len, &err), -EINVAL);
        rp_hwdef_free(h);

        /* A comment ending in a backslash must not continue onto the #define:
         * it is a block comment, closed on its own line. */
        _cleanup_free_ char *j = one("{\"Name\": \"A\", \"Type\": \"Gpio\", \"AppManifestValue\": 1, "
                                     "\"Comment\": \"ends with \\\\\"}");
        h = load_mem(j, NULL, 0);
        assert_int_equal(rp_hwdef_generate_header(h, 0, &text, &len, &err), 0);
        assert_non_null(strstr(text, "/* ends with \\ */\n#define A (1)\n"));
        free(text);
        rp_hwdef_free(h);
}

static rp_app_manifest *manifest(const char *caps) {
        _cleanup_free_ char *j = NULL;
        if (asprintf(&j, "{\"SchemaVersion\": 1, \"Name\": \"t\", \"ComponentId\": "
                         "\"3a7c0e52-9b1d-4f7e-8c21-5d6e4f3a2b10\", \"EntryPoint\": \"/bin/app\", "
                         "\"Capabilities\": {%s}}", caps) < 0)
                fail_msg("out of memory");
        rp_error err = {0};
        rp_app_manifest *m = NULL;
        if (rp_app_manifest_parse(j, strlen(j), "app_manifest.json", &m, &err) < 0)
                fail_msg("%s", err.message);
        return m;
}

static void resolve_fails(const char *caps, int code, const char *n1, const char *n2) {
        rp_hwdef *h = load_mem(profile, std_files, ELEMENTSOF(std_files));
        rp_app_manifest *m = manifest(caps);
        size_t before = rp_app_manifest_n_unresolved(m);
        rp_error err = {0};
        int r = rp_app_manifest_resolve(m, h, &err);
        if (r != code)
                fail_msg("expected %d, got %d: %s", code, r, err.message);
        assert_int_equal(err.code, code);
        if (strncmp(err.message, "app_manifest.json: Capabilities.", 32) != 0)
                fail_msg("message does not name the field: %s", err.message);
        if (n1 && !strstr(err.message, n1))
                fail_msg("message lacks '%s': %s", n1, err.message);
        if (n2 && !strstr(err.message, n2))
                fail_msg("message lacks '%s': %s", n2, err.message);
        assert_int_equal(rp_app_manifest_n_unresolved(m), before);   /* unchanged on failure */
        rp_app_manifest_free(m);
        rp_hwdef_free(h);
}

static void test_resolve(void **state) {
        rp_hwdef *h = load_mem(profile, std_files, ELEMENTSOF(std_files));
        rp_app_manifest *m = manifest("\"Gpio\": [\"$APP_LED\", 0, \"$CHIP_GPIO2\"], \"Uart\": [\"$APP_UART\"],"
                                      " \"Pwm\": [\"$APP_PWM\"], \"Adc\": [\"ADC-9\"]");
        assert_int_equal(rp_app_manifest_n_unresolved(m), 4);
        rp_error err = {0};
        assert_int_equal(rp_app_manifest_resolve(m, h, &err), 0);
        assert_int_equal(rp_app_manifest_n_unresolved(m), 0);
        const rp_app_peripheral *p = rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 0);
        assert_string_equal(p->ref, "APP_LED");
        assert_true(p->resolved);
        assert_int_equal(p->number, 1);
        assert_string_equal(p->root, "CHIP_GPIO1");
        p = rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 1);
        assert_null(p->ref);
        assert_int_equal(p->number, 0);
        assert_null(p->root);
        assert_int_equal(rp_app_manifest_peripheral(m, RP_PERIPH_GPIO, 2)->number, 2);
        assert_string_equal(rp_app_manifest_peripheral(m, RP_PERIPH_UART, 0)->string, "S0");
        assert_string_equal(rp_app_manifest_peripheral(m, RP_PERIPH_PWM, 0)->string, "PWM-0");
        assert_string_equal(rp_app_manifest_peripheral(m, RP_PERIPH_ADC, 0)->string, "ADC-9");
        json_t *j = rp_app_manifest_to_json(m);
        json_t *e = json_array_get(json_object_get(json_object_get(j, "Grants"), "Gpio"), 0);
        assert_int_equal(json_integer_value(json_object_get(e, "value")), 1);
        assert_string_equal(json_string_value(json_object_get(e, "peripheral")), "CHIP_GPIO1");
        json_decref(j);
        /* Resolving again is harmless. */
        assert_int_equal(rp_app_manifest_resolve(m, h, &err), 0);
        rp_app_manifest_free(m);
        rp_hwdef_free(h);
}

static void test_resolve_refusals(void **state) {
        resolve_fails("\"Gpio\": [\"$APP_LEDD\"]", -ENOENT, "Capabilities.Gpio[0]: \"$APP_LEDD\" is not defined in root.json",
                      "did you mean \"$APP_LED\"?");
        resolve_fails("\"Gpio\": [1, \"$NOTHING_LIKE_IT\"]", -ENOENT, "Capabilities.Gpio[1]", "not defined");
        resolve_fails("\"Gpio\": [\"$APP_UART\"]", -EINVAL, "Capabilities.Gpio[0]: \"$APP_UART\" is a Uart peripheral",
                      "not Gpio");
        resolve_fails("\"I2cMaster\": [\"$APP_UART\"]", -EINVAL, "Capabilities.I2cMaster[0]", "Uart peripheral");
        resolve_fails("\"Gpio\": [\"$APP_CS\"]", -EINVAL, "Capabilities.Gpio[0]", "int peripheral");
        resolve_fails("\"Gpio\": [\"$APP_LED\", \"$APP_BUTTON\", \"$APP_STATUS\"]", -EEXIST,
                      "Capabilities.Gpio[2]: \"$APP_STATUS\" and Capabilities.Gpio[0] \"$APP_LED\"", "CHIP_GPIO1");
        resolve_fails("\"Gpio\": [1, \"$APP_LED\"]", -EEXIST, "Capabilities.Gpio[1]: \"$APP_LED\" and Capabilities.Gpio[0] 1",
                      NULL);
        resolve_fails("\"Uart\": [\"$APP_UART\"], \"I2cMaster\": [\"$APP_I2C\"]", -EEXIST,
                      "Capabilities.I2cMaster[0]: \"$APP_I2C\" and Capabilities.Uart[0] \"$APP_UART\"", "\"S0\"");
        resolve_fails("\"Uart\": [\"S0\"], \"I2cMaster\": [\"$APP_I2C\"]", -EEXIST, "Capabilities.I2cMaster[0]", "S0");

        /* A root without AppManifestValue, reached from a manifest type. */
        static const char nov[] = "{" META ", \"Peripherals\": [{\"Name\": \"P\", \"Type\": \"Pwm\", "
                                  "\"MainCoreHeaderValue\": \"(0)\"}]}";
        rp_hwdef *h = load_mem(nov, NULL, 0);
        rp_app_manifest *m = manifest("\"Pwm\": [\"$P\"]");
        rp_error err = {0};
        assert_int_equal(rp_app_manifest_resolve(m, h, &err), -EINVAL);
        assert_non_null(strstr(err.message, "no AppManifestValue"));
        rp_app_manifest_free(m);
        rp_hwdef_free(h);
}

/* hw_fails, and the message must not contain secret. */
static void hw_fails_quiet(const char *json, const rp_hwdef_file *files, size_t n, const char *n1, const char *n2,
                           const char *secret) {
        rp_error err = {0};
        rp_hwdef *h = NULL;
        assert_true(rp_hwdef_parse(json, strlen(json), "root.json", files, n, &h, &err) < 0);
        if (!strstr(err.message, n1) || (n2 && !strstr(err.message, n2)))
                fail_msg("message lacks '%s' or '%s': %s", n1, n2 ? n2 : "", err.message);
        if (strstr(err.message, secret))
                fail_msg("message repeats the file's contents ('%s'): %s", secret, err.message);
}

/* An import that is not a hardware definition (a system file, another
 * program's JSON) is refused without repeating its bytes: where and what
 * kind of problem only. */
static void test_foreign_import(void **state) {
        static const char imp[] = "{" META ", \"Imports\": [{\"Path\": \"x\"}], \"Peripherals\": []}";
        static const struct {
                const char *data, *n1, *n2;
        } cases[] = {
                { "hunter2:x:0:0::/root:/bin/sh\n", "x:1:", "invalid JSON" },     /* a passwd-like file */
                { "\n\n  hunter2 = 1\n", "x:3:", "invalid JSON" },
                { "{\"a\": 1} hunter2", "x:1:", "invalid JSON" },                  /* JSON, then text */
                { "{\"a\": hunter2}", "x:1:", "invalid JSON" },
                { "[\"hunter2\"]", "x: expected a JSON object", NULL },
                { "{\"hunter2\": \"s3cret\"}", "x: Metadata: missing required field", NULL },   /* other JSON */
                { "{\"Metadata\": {\"Type\": \"hunter2\"}}", "x: Metadata.Type: this file is not a hardware "
                  "definition", NULL },
                { "{\"Metadata\": {\"hunter2\": 1}}", "x: Metadata.Type: missing", NULL },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                const rp_hwdef_file f = { "x", cases[i].data, strlen(cases[i].data) };
                hw_fails_quiet(imp, &f, 1, cases[i].n1, cases[i].n2, "hunter");
        }

        /* The same from disk, imported by absolute path. */
        const char *dir = test_tmpdir();
        _cleanup_free_ char *secret = test_path(dir, "secret.txt"), *def = test_path(dir, "def.json");
        test_write_file(secret, cases[0].data, strlen(cases[0].data));
        _cleanup_free_ char *j = NULL;
        assert_true(asprintf(&j, "{" META ", \"Imports\": [{\"Path\": \"%s\"}], \"Peripherals\": []}", secret) > 0);
        test_write_file(def, j, strlen(j));
        rp_error err = {0};
        rp_hwdef *h = NULL;
        assert_int_equal(rp_hwdef_load(def, NULL, &h, &err), -EINVAL);
        if (!strstr(err.message, "secret.txt:1:") || !strstr(err.message, "invalid JSON"))
                fail_msg("message lacks the place: %s", err.message);
        if (strstr(err.message, "hunter"))
                fail_msg("message repeats the file's contents: %s", err.message);
}

/* An import's Path may be absolute: it is used as given, never joined to
 * the importer's directory or a search directory. */
static void test_absolute_imports(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *a = test_path(dir, "abs-a"), *b = test_path(dir, "abs-b");
        assert_int_equal(mkdir(a, 0755), 0);
        assert_int_equal(mkdir(b, 0755), 0);
        _cleanup_free_ char *chipp = test_path(b, "chip.json"), *rootp = test_path(a, "root.json");
        test_write_file(chipp, chip, strlen(chip));
        _cleanup_free_ char *j = NULL;
        assert_true(asprintf(&j, "{" META ", \"Imports\": [{\"Path\": \"%s\"}], \"Peripherals\": ["
                             "{\"Name\": \"LED\", \"Type\": \"Gpio\", \"Mapping\": \"CHIP_GPIO1\"}]}", chipp) > 0);
        test_write_file(rootp, j, strlen(j));
        rp_error err = {0};
        rp_hwdef *h = NULL;
        if (rp_hwdef_load(rootp, NULL, &h, &err) < 0)
                fail_msg("%s", err.message);
        assert_string_equal(rp_hwdef_file_path(h, 1), chipp);
        assert_int_equal(rp_hwdef_root(h, rp_hwdef_find(h, "LED"))->number, 1);
        rp_hwdef_free(h);

        /* A missing absolute path is not looked for in the search
         * directories, even when one holds a file of that base name. */
        _cleanup_free_ char *gone = test_path(a, "chip.json"), *j2 = NULL;
        assert_true(asprintf(&j2, "{" META ", \"Imports\": [{\"Path\": \"%s\"}], \"Peripherals\": []}", gone) > 0);
        test_write_file(rootp, j2, strlen(j2));
        const char *dirs[] = { b, NULL };
        assert_int_equal(rp_hwdef_load(rootp, dirs, &h, &err), -ENOENT);
        assert_non_null(strstr(err.message, "Imports[0].Path: imported file"));
        assert_non_null(strstr(err.message, gone));
        assert_null(strstr(err.message, "looked in"));

        /* In memory, a Path (absolute or not) is matched exactly. */
        const rp_hwdef_file mem[] = { { "/abs/chip.json", chip, sizeof chip - 1 } };
        h = load_mem("{" META ", \"Imports\": [{\"Path\": \"/abs/chip.json\"}], \"Peripherals\": []}", mem, 1);
        assert_string_equal(rp_hwdef_file_path(h, 1), "/abs/chip.json");
        rp_hwdef_free(h);
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"chip.json\"}], \"Peripherals\": []}", mem, 1, -ENOENT,
                 "Imports[0].Path: imported file \"chip.json\" not found", NULL);
}

/* A valid definition of exactly size bytes (padded with blanks). */
static char *padded_definition(size_t size) {
        static const char body[] = "{" META ", \"Peripherals\": []}";
        char *s = malloc(size + 1);
        assert_non_null(s);
        memset(s, ' ', size);
        memcpy(s, body, sizeof body - 1);
        s[size] = '\0';
        return s;
}

/* Each file is at most RP_HWDEF_MAX_SIZE bytes: the loaded one and every
 * import, from disk or from memory. */
static void test_size_limit(void **state) {
        _cleanup_free_ char *ok = padded_definition(RP_HWDEF_MAX_SIZE);
        _cleanup_free_ char *big = padded_definition(RP_HWDEF_MAX_SIZE + 1);
        rp_hwdef_free(load_mem(ok, NULL, 0));
        hw_fails(big, NULL, 0, -EFBIG, "root.json: file is 1048577 bytes", "the limit is 1048576");
        const rp_hwdef_file files[] = { { "ok.json", ok, RP_HWDEF_MAX_SIZE }, { "big.json", big, RP_HWDEF_MAX_SIZE + 1 } };
        rp_hwdef_free(load_mem("{" META ", \"Imports\": [{\"Path\": \"ok.json\"}], \"Peripherals\": []}", files, 2));
        hw_fails("{" META ", \"Imports\": [{\"Path\": \"big.json\"}], \"Peripherals\": []}", files, 2, -EFBIG,
                 "big.json: file is 1048577 bytes", NULL);

        const char *dir = test_tmpdir();
        _cleanup_free_ char *bigp = test_path(dir, "big.json"), *rootp = test_path(dir, "imports-big.json");
        test_write_file(bigp, big, RP_HWDEF_MAX_SIZE + 1);
        static const char imp[] = "{" META ", \"Imports\": [{\"Path\": \"big.json\"}], \"Peripherals\": []}";
        test_write_file(rootp, imp, strlen(imp));
        rp_error err = {0};
        rp_hwdef *h = NULL;
        assert_int_equal(rp_hwdef_load(bigp, NULL, &h, &err), -EFBIG);
        assert_int_equal(rp_hwdef_load(rootp, NULL, &h, &err), -EFBIG);
        assert_non_null(strstr(err.message, "imports-big.json: Imports[0].Path: "));
}

/* Across files: at most 4 x RP_HWDEF_MAX_PERIPHERALS peripherals in all,
 * however they are spread. Four full files fit; a fifth is refused. */
static void test_total_peripheral_limit(void **state) {
        enum { FILES = 5 };
        const size_t n = RP_HWDEF_MAX_PERIPHERALS, per = 80;
        static char names[FILES][16];
        char *texts[FILES];
        rp_hwdef_file files[FILES];
        for (int f = 0; f < FILES; f++) {
                texts[f] = malloc(n * per + 256);
                assert_non_null(texts[f]);
                size_t len = (size_t) sprintf(texts[f], "{" META ", \"Peripherals\": [");
                for (size_t i = 0; i < n; i++)
                        len += (size_t) sprintf(texts[f] + len, "%s{\"Name\": \"F%dP%zu\", \"Type\": \"int\", "
                                                "\"MainCoreHeaderValue\": \"0\"}", i ? "," : "", f, i);
                strcpy(texts[f] + len, "]}");
                snprintf(names[f], sizeof names[f], "f%d.json", f);
                files[f] = (rp_hwdef_file) { names[f], texts[f], strlen(texts[f]) };
        }
        for (int k = FILES - 1; k <= FILES; k++) {
                char root[512] = "{" META ", \"Imports\": [";
                for (int i = 0; i < k; i++)
                        snprintf(root + strlen(root), sizeof root - strlen(root), "%s{\"Path\": \"f%d.json\"}",
                                 i ? ", " : "", i);
                strcat(root, "], \"Peripherals\": []}");
                if (k < FILES) {
                        rp_hwdef *h = load_mem(root, files, FILES);
                        assert_int_equal(rp_hwdef_n_peripherals(h), (size_t) k * n);
                        rp_hwdef_free(h);
                } else
                        hw_fails(root, files, FILES, -EFBIG, "more than 16384 peripherals in all files", NULL);
        }
        for (int f = 0; f < FILES; f++)
                free(texts[f]);
}

/* At most RP_HWDEF_MAX_FILES files, imports included: the root imports k
 * files, each of which imports one more of its own (1 + 2k files). */
static void test_file_limit(void **state) {
        enum { N = RP_HWDEF_MAX_FILES };
        static char names[N][16], texts[N][256];
        rp_hwdef_file files[N];
        for (int i = 0; i < N; i++) {
                snprintf(names[i], sizeof names[i], "f%d.json", i);
                if (i < 32)
                        snprintf(texts[i], sizeof texts[i], "{" META ", \"Imports\": [{\"Path\": \"f%d.json\"}], "
                                 "\"Peripherals\": []}", i + 32);
                else
                        snprintf(texts[i], sizeof texts[i], "{" META ", \"Peripherals\": []}");
                files[i] = (rp_hwdef_file) { names[i], texts[i], strlen(texts[i]) };
        }
        for (int k = 30; k <= 32; k++) {
                char root[2048] = "{" META ", \"Imports\": [";
                for (int i = 0; i < k; i++)
                        snprintf(root + strlen(root), sizeof root - strlen(root), "%s{\"Path\": \"f%d.json\"}",
                                 i ? ", " : "", i);
                strcat(root, "], \"Peripherals\": []}");
                /* 1 + 2k files: 61, 63 fit; 65 do not. */
                if (1 + 2 * k <= RP_HWDEF_MAX_FILES) {
                        rp_hwdef *h = load_mem(root, files, N);
                        assert_int_equal(rp_hwdef_n_files(h), 1 + 2 * k);
                        rp_hwdef_free(h);
                } else
                        hw_fails(root, files, N, -EFBIG, "more than 64 files in one hardware definition", NULL);
        }
}

/* At most RP_HWDEF_MAX_PERIPHERALS per file (and four times that in all). */
static void test_peripheral_limit(void **state) {
        const size_t per = 80;   /* bytes of one entry below, at most */
        for (size_t n = RP_HWDEF_MAX_PERIPHERALS; n <= RP_HWDEF_MAX_PERIPHERALS + 1; n++) {
                char *j = malloc(n * per + 256);
                assert_non_null(j);
                size_t len = (size_t) sprintf(j, "{" META ", \"Peripherals\": [");
                for (size_t i = 0; i < n; i++)
                        len += (size_t) sprintf(j + len, "%s{\"Name\": \"P%zu\", \"Type\": \"int\", "
                                                "\"MainCoreHeaderValue\": \"0\"}", i ? "," : "", i);
                strcpy(j + len, "]}");
                if (n == RP_HWDEF_MAX_PERIPHERALS)
                        rp_hwdef_free(load_mem(j, NULL, 0));
                else
                        hw_fails(j, NULL, 0, -EFBIG, "root.json: Peripherals: too many entries (4097, the limit is "
                                 "4096)", NULL);
                free(j);
        }
}

/* Every file under tests/data/hardware-definitions/invalid is refused for
 * the reason its entry here gives; a file without an entry fails the test.
 * The reference definitions load. */
static const struct {
        const char *file, *reason;
} invalid_fixtures[] = {
        { "cycle_a.json", "Imports[0].Path: import cycle: " },
        { "cycle_b.json", "Imports[0].Path: import cycle: " },
        { "duplicate_names.json", "duplicate_names.json: Peripherals[2]: duplicate peripheral name \"LED\"" },
        { "mapping_type_mismatch.json", "\"MY_LED\" is a Gpio peripheral but maps to \"SIMSOC_SERIAL0_UART\"" },
        { "missing_import.json", "Imports[0].Path: imported file \"no_such_board.json\" not found" },
        { "wrong_metadata_type.json", "Metadata.Type: this file is not a hardware definition" },
};

static void test_fixtures(void **state) {
        _cleanup_free_ char *dir = test_data_path("hardware-definitions/invalid");
        DIR *d = opendir(dir);
        if (!d)
                fail_msg("cannot open %s: %s", dir, strerror(errno));
        size_t seen = 0;
        for (struct dirent *e; (e = readdir(d));) {
                size_t len = strlen(e->d_name);
                if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
                        continue;
                const char *reason = NULL;
                for (size_t i = 0; i < ELEMENTSOF(invalid_fixtures); i++)
                        if (streq(e->d_name, invalid_fixtures[i].file))
                                reason = invalid_fixtures[i].reason;
                if (!reason)
                        fail_msg("invalid/%s has no entry in invalid_fixtures[]: add the reason it is refused",
                                 e->d_name);
                seen++;
                _cleanup_free_ char *p = test_path(dir, e->d_name);
                rp_error err = {0};
                rp_hwdef *h = NULL;
                if (rp_hwdef_load(p, NULL, &h, &err) == 0)
                        fail_msg("invalid/%s was accepted", e->d_name);
                if (!strstr(err.message, reason))
                        fail_msg("invalid/%s: refused for another reason than '%s': %s", e->d_name, reason,
                                 err.message);
        }
        closedir(d);
        if (seen != ELEMENTSOF(invalid_fixtures))
                fail_msg("invalid_fixtures[] lists a file that is not in invalid/");

        static const char *const valid[] = { "soc/rampart_sim_soc.json", "boards/rampart_sim_board.json",
                                             "profiles/demo_appliance.json" };
        _cleanup_free_ char *boards = test_data_path("hardware-definitions/boards");
        const char *dirs[] = { boards, NULL };
        for (size_t i = 0; i < ELEMENTSOF(valid); i++) {
                _cleanup_free_ char *rel = NULL;
                assert_true(asprintf(&rel, "hardware-definitions/%s", valid[i]) > 0);
                _cleanup_free_ char *p = test_data_path(rel);
                rp_error err = {0};
                rp_hwdef *h = NULL;
                if (rp_hwdef_load(p, dirs, &h, &err) < 0)
                        fail_msg("%s", err.message);
                rp_hwdef_free(h);
        }
}

/* Files on disk: relative imports, search directories, missing files. */
static void test_files(void **state) {
        const char *dir = test_tmpdir();
        _cleanup_free_ char *sub = test_path(dir, "boards"), *sdk = test_path(dir, "sdk");
        assert_int_equal(mkdir(sub, 0755), 0);
        assert_int_equal(mkdir(sdk, 0755), 0);
        _cleanup_free_ char *chipp = test_path(sdk, "chip.json"), *boardp = test_path(sub, "board.json");
        _cleanup_free_ char *profp = test_path(dir, "profile.json");
        test_write_file(chipp, chip, strlen(chip));
        /* board.json imports "../sdk/chip.json" relative to itself. */
        _cleanup_free_ char *board2 = strdup(board);
        char *at = strstr(board2, "\"chip.json\"");
        assert_non_null(at);
        _cleanup_free_ char *board3 = NULL;
        assert_true(asprintf(&board3, "%.*s\"../sdk/chip.json\"%s", (int) (at - board2), board2,
                             at + strlen("\"chip.json\"")) > 0);
        test_write_file(boardp, board3, strlen(board3));
        test_write_file(profp, profile, strlen(profile));

        /* profile.json imports "board.json", which is only in boards/. */
        rp_error err = {0};
        rp_hwdef *h = NULL;
        assert_int_equal(rp_hwdef_load(profp, NULL, &h, &err), -ENOENT);
        assert_non_null(strstr(err.message, "board.json"));
        assert_non_null(strstr(err.message, "looked in"));
        const char *dirs[] = { sdk, sub, NULL };
        assert_int_equal(rp_hwdef_load(profp, dirs, &h, &err), 0);
        assert_int_equal(rp_hwdef_n_files(h), 3);
        assert_non_null(strstr(rp_hwdef_file_path(h, 2), "chip.json"));
        rp_hwdef_free(h);

        _cleanup_free_ char *nope = test_path(dir, "nope.json");
        assert_int_equal(rp_hwdef_load(nope, NULL, &h, &err), -ENOENT);
        assert_non_null(strstr(err.message, "nope.json"));

        /* The committed reference board and its application profile. */
        _cleanup_free_ char *prof = test_data_path("hardware-definitions/profiles/demo_appliance.json");
        _cleanup_free_ char *boards = test_data_path("hardware-definitions/boards");
        const char *d2[] = { boards, NULL };
        if (rp_hwdef_load(prof, d2, &h, &err) < 0)
                fail_msg("%s", err.message);
        assert_int_equal(rp_hwdef_n_files(h), 3);
        assert_int_equal(rp_hwdef_root(h, rp_hwdef_find(h, "DEMO_LED"))->number, 8);
        rp_hwdef_free(h);
}

/* A header's name comes from the definition's file name: one that leaves
 * nothing (".json") or too much is refused, not turned into a bad path. */
static void test_header_names(void **state) {
        static const char json[] = "{" META ", \"Peripherals\": []}";
        static const char bad_len[] = "cannot derive a header name from this file name";
        static const char bad_char[] = "the file name must use letters, digits";
        char long_name[256];
        memset(long_name, 'a', 201);
        strcpy(long_name + 201, ".json");
        const struct {
                const char *source;
                const char *want;       /* the header name, or the refusal */
                bool ok;
        } cases[] = {
                { "board.json", "board.h", true },
                { "dir/mt3620.json", "mt3620.h", true },
                { "noext", "noext.h", true },
                { "dir/", bad_len, false },
                { long_name, bad_len, false },
                { ".json", bad_char, false },
                { ".hidden.json", bad_char, false },
                { "sp ace.json", bad_char, false },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                rp_error err = {0};
                _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
                assert_int_equal(rp_hwdef_parse(json, strlen(json), cases[i].source, NULL, 0, &h, &err), 0);
                _cleanup_free_ char *name = NULL;
                if (cases[i].ok) {
                        assert_int_equal(rp_hwdef_header_name(h, 0, &name, &err), 0);
                        assert_string_equal(name, cases[i].want);
                } else {
                        assert_int_equal(rp_hwdef_header_name(h, 0, &name, &err), -EINVAL);
                        assert_null(name);
                        if (!strstr(err.message, cases[i].want))
                                fail_msg("%s: expected \"%s\" in: %s", cases[i].source, cases[i].want, err.message);
                }
        }
        /* 200 characters before ".json" is the longest accepted. */
        strcpy(long_name + 200, ".json");
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = NULL;
        rp_error err = {0};
        assert_int_equal(rp_hwdef_parse(json, strlen(json), long_name, NULL, 0, &h, &err), 0);
        _cleanup_free_ char *name = NULL;
        assert_int_equal(rp_hwdef_header_name(h, 0, &name, &err), 0);
        assert_int_equal(strlen(name), 202);
}

int main(void) {
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_header_names),
                cmocka_unit_test(test_load_chain),
                cmocka_unit_test(test_diamond),
                cmocka_unit_test(test_document_refusals),
                cmocka_unit_test(test_peripheral_refusals),
                cmocka_unit_test(test_bidi),
                cmocka_unit_test(test_cross_file),
                cmocka_unit_test(test_imports),
                cmocka_unit_test(test_header),
                cmocka_unit_test(test_resolve),
                cmocka_unit_test(test_resolve_refusals),
                cmocka_unit_test(test_files),
                cmocka_unit_test(test_foreign_import),
                cmocka_unit_test(test_absolute_imports),
                cmocka_unit_test(test_size_limit),
                cmocka_unit_test(test_file_limit),
                cmocka_unit_test(test_peripheral_limit),
                cmocka_unit_test(test_total_peripheral_limit),
                cmocka_unit_test(test_fixtures),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
