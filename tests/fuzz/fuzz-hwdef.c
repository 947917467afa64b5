/* SPDX-License-Identifier: Apache-2.0 */
/* Fuzzes hardware definition loading, header generation and resolution.
 * The input holds up to four files separated by NUL bytes: the root, then
 * a.json, b.json and c.json, which the others may import by those names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rampart/app_manifest.h"
#include "rampart/hwdef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char manifest[] =
        "{\"SchemaVersion\": 1, \"Name\": \"f\", \"ComponentId\": \"3564cf72-5fc9-48e9-82a1-91230aeb4d99\","
        " \"EntryPoint\": \"/bin/app\", \"Capabilities\": {\"Gpio\": [\"$A\", \"$B\", 3], \"Uart\": [\"$U\"],"
        " \"I2cMaster\": [\"$I\"], \"Pwm\": [\"$P\"]}}";

/* No line of a generated header may join the next one: none ends in a
 * backslash or in the trigraph "??/", blanks after them included. */
static void check_no_splice(const char *text) {
        for (const char *line = text; *line;) {
                const char *nl = strchr(line, '\n');
                size_t n = nl ? (size_t) (nl - line) : strlen(line);
                while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
                        n--;
                if ((n >= 1 && line[n - 1] == '\\') || (n >= 3 && memcmp(line + n - 3, "?\?/", 3) == 0))
                        abort();
                if (!nl)
                        break;
                line = nl + 1;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const char *const names[] = { "a.json", "b.json", "c.json" };
        const char *parts[4];
        size_t lens[4], n = 0;
        const uint8_t *p = data, *end = data + size;
        while (n < 4) {
                const uint8_t *z = n < 3 ? memchr(p, '\0', (size_t) (end - p)) : NULL;
                parts[n] = (const char *) p;
                lens[n] = (size_t) ((z ? z : end) - p);
                n++;
                if (!z)
                        break;
                p = z + 1;
        }
        rp_hwdef_file files[3];
        for (size_t i = 1; i < n; i++)
                files[i - 1] = (rp_hwdef_file) { names[i - 1], parts[i], lens[i] };

        rp_error err = {0};
        rp_hwdef *h = NULL;
        int r = rp_hwdef_parse(parts[0], lens[0], "root.json", files, n - 1, &h, &err);
        if (r < 0) {
                if (err.code != r || err.message[0] == '\0')
                        abort();
                return 0;
        }
        for (size_t f = 0; f < rp_hwdef_n_files(h); f++) {
                char *text = NULL, *name = NULL;
                size_t len = 0;
                if (rp_hwdef_generate_header(h, f, &text, &len, NULL) == 0) {
                        if (strlen(text) != len)
                                abort();
                        check_no_splice(text);
                }
                free(text);
                (void) rp_hwdef_header_name(h, f, &name, NULL);
                free(name);
        }
        for (size_t i = 0; i < rp_hwdef_n_peripherals(h); i++) {
                const rp_hwdef_peripheral *per = rp_hwdef_peripheral_at(h, i);
                if (rp_hwdef_find(h, per->name) != per || rp_hwdef_root(h, per)->mapping)
                        abort();
        }
        rp_app_manifest *m = NULL;
        if (rp_app_manifest_parse(manifest, strlen(manifest), "m.json", &m, NULL) < 0)
                abort();
        (void) rp_app_manifest_resolve(m, h, NULL);
        rp_app_manifest_free(m);
        rp_hwdef_free(h);
        return 0;
}
