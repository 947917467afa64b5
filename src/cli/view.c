/* SPDX-License-Identifier: Apache-2.0 */
/* The server commands' output (service.h): an object as rows, a list as a
 * column table, or the API's JSON. Every value the server sent is escaped
 * (cli_print_safe) before it reaches the terminal. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "service.h"

/* "2026-01-01T00:00:00Z", or the number if it is no time gmtime knows. */
static char *format_time(int64_t secs) {
        char buf[64];
        struct tm tm;
        time_t t = (time_t) secs;
        char *s = NULL;
        if ((int64_t) t == secs && gmtime_r(&t, &tm) && strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm))
                s = strdup(buf);
        else if (asprintf(&s, "%" PRId64, secs) < 0)
                s = NULL;
        return s;
}

static char *names(const json_t *arr) {
        char *out = strdup("");
        size_t i;
        json_t *v;
        json_array_foreach(arr, i, v) {
                const char *n = json_string_value(json_object_get(v, "name"));
                _cleanup_free_ char *old = out;
                if (!old || asprintf(&out, "%s%s%s", old, i ? ", " : "", n ? n : "?") < 0)
                        return NULL;
        }
        return out;
}

char *cli_field_text(const json_t *obj, const cli_field *f) {
        const json_t *v = json_object_get(obj, f->key);
        char *s = NULL;
        if (!v || json_is_null(v))
                return strdup("-");
        switch (f->kind) {
        case CLI_FIELD_TIME:
        case CLI_FIELD_TIME_US:
                if (json_is_integer(v))
                        return format_time(f->kind == CLI_FIELD_TIME ? json_integer_value(v)
                                                                     : json_integer_value(v) / 1000000);
                break;
        case CLI_FIELD_BOOL:
                if (json_is_boolean(v))
                        return strdup(json_is_true(v) ? "yes" : "no");
                break;
        case CLI_FIELD_COUNT:
                if (json_is_array(v)) {
                        if (asprintf(&s, "%zu", json_array_size(v)) < 0)
                                s = NULL;
                        return s;
                }
                break;
        case CLI_FIELD_NAMES:
                if (json_is_array(v))
                        return names(v);
                break;
        case CLI_FIELD_TEXT:
        default:
                break;
        }
        if (json_is_string(v))
                return strdup(json_string_value(v));
        /* Anything else (a number, or what the server should not have sent
         * there) as compact JSON. */
        return json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
}

/* s escaped as cli_print_safe prints it (malloc'd). */
static char *escaped(const char *s) {
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        cli_print_safe_to(f, s);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* Characters on screen of an escaped (valid UTF-8) string. */
static size_t width(const char *s) {
        size_t n = 0;
        for (; *s; s++)
                if (((unsigned char) *s & 0xc0) != 0x80)
                        n++;
        return n;
}

int cli_show(const cli_svc *s, json_t *obj, const cli_field *fields) {
        if (s->fmt == CLI_FORMAT_JSON)
                return cli_print_json(obj);
        if (!json_is_object(obj)) {
                json_decref(obj);
                rp_error err = {};
                rp_error_set(&err, -EBADMSG, "the server's answer is not a JSON object");
                return cli_fail(-EBADMSG, &err, NULL);
        }
        int w = 0;
        for (const cli_field *f = fields; f->label; f++)
                if ((int) strlen(f->label) + 1 > w)
                        w = (int) strlen(f->label) + 1;
        int x = CLI_EXIT_OK;
        for (const cli_field *f = fields; f->label; f++) {
                _cleanup_free_ char *key = NULL, *v = cli_field_text(obj, f);
                if (!v || asprintf(&key, "%s:", f->label) < 0) {
                        x = cli_fail(-ENOMEM, NULL, NULL);
                        break;
                }
                cli_print_row(w, key, v);
        }
        json_decref(obj);
        return x;
}

/* The cells of the table: a header row of labels (upper case), then one
 * row per element of arr, each escaped. NULL when out of memory. */
static char **table_cells(const json_t *arr, const cli_field *fields, size_t ncol, size_t nrow) {
        char **cells = calloc((nrow + 1) * ncol, sizeof *cells);
        if (!cells)
                return NULL;
        bool failed = false;
        for (size_t c = 0; c < ncol; c++) {
                char *h = strdup(fields[c].label);
                for (char *p = h; p && *p; p++)
                        *p = (char) (*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p);
                cells[c] = h;
                failed |= !h;
        }
        for (size_t r = 0; r < nrow; r++)
                for (size_t c = 0; c < ncol; c++) {
                        _cleanup_free_ char *t = cli_field_text(json_array_get(arr, r), &fields[c]);
                        char *e = t ? escaped(t) : NULL;
                        cells[(r + 1) * ncol + c] = e;
                        failed |= !e;
                }
        if (failed) {
                for (size_t i = 0; i < (nrow + 1) * ncol; i++)
                        free(cells[i]);
                free(cells);
                return NULL;
        }
        return cells;
}

int cli_list(const cli_svc *s, json_t *ans, const char *key, const cli_field *fields) {
        json_t *arr = json_object_get(ans, key);
        if (!json_is_array(arr)) {
                json_decref(ans);
                rp_error err = {};
                rp_error_set(&err, -EBADMSG, "the server's answer holds no \"%s\" list", key);
                return cli_fail(-EBADMSG, &err, NULL);
        }
        if (s->fmt == CLI_FORMAT_JSON)
                return cli_print_json(ans);

        size_t ncol = 0, nrow = json_array_size(arr);
        while (fields[ncol].label)
                ncol++;
        /* Every cell escaped first, to know the columns' widths. */
        char **cells = table_cells(arr, fields, ncol, nrow);
        size_t *w = calloc(ncol, sizeof *w);
        json_decref(ans);
        if (!cells || !w) {
                for (size_t i = 0; cells && i < (nrow + 1) * ncol; i++)
                        free(cells[i]);
                free(cells);
                free(w);
                return cli_fail(-ENOMEM, NULL, NULL);
        }
        for (size_t i = 0; i < (nrow + 1) * ncol; i++)
                if (width(cells[i]) > w[i % ncol])
                        w[i % ncol] = width(cells[i]);
        for (size_t r = 0; r <= nrow; r++)
                for (size_t c = 0; c < ncol; c++) {
                        const char *cell = cells[r * ncol + c];
                        fputs(cell, stdout);
                        if (c + 1 < ncol)
                                printf("%*s", (int) (w[c] - width(cell) + 2), "");
                        else
                                fputc('\n', stdout);
                }
        for (size_t i = 0; i < (nrow + 1) * ncol; i++)
                free(cells[i]);
        free(cells);
        free(w);
        return CLI_EXIT_OK;
}

int cli_done(const cli_svc *s, json_t *j, const char *line) {
        if (s->fmt == CLI_FORMAT_JSON)
                return cli_print_json(j);
        json_decref(j);
        cli_print_safe(line);
        fputc('\n', stdout);
        return CLI_EXIT_OK;
}
