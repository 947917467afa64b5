/* SPDX-License-Identifier: Apache-2.0 */
/* Hardware definitions: loading a file and its imports, validating
 * peripherals and their Mapping chains. */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "package/hwdef_internal.h"
#include "package/manifest_util.h"

#define HWDEF_TYPE "Azure Sphere Hardware Definition"
#define MAX_TOTAL_PERIPHERALS (4 * RP_HWDEF_MAX_PERIPHERALS)
#define MAX_TOP_LINES 256
#define MAX_IMPORTS 32
#define MAX_PATH_TEXT 1024

/* ---- Lifetime and lookups ---------------------------------------------- */

void rp_hwdef_free(rp_hwdef *h) {
        if (!h)
                return;
        for (size_t i = 0; i < h->n_files; i++) {
                hw_file *f = &h->files[i];
                free(f->key);
                free(f->path);
                free(f->description);
                for (size_t j = 0; j < f->n_top; j++)
                        free(f->top[j]);
                free(f->top);
                free(f->imports);
        }
        free(h->files);
        for (size_t i = 0; i < h->n_periph; i++) {
                hw_periph *p = &h->periph[i];
                free(p->name);
                free(p->type);
                free(p->mapping);
                free(p->string);
                free(p->header_value);
                free(p->comment);
        }
        free(h->periph);
        free(h->by_name);
        free(h);
}

size_t hw_lookup(const rp_hwdef *h, const char *name) {
        size_t lo = 0, hi = h->by_name ? h->n_periph : 0;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                int c = strcmp(name, h->periph[h->by_name[mid]].name);
                if (c == 0)
                        return h->by_name[mid];
                if (c < 0)
                        hi = mid;
                else
                        lo = mid + 1;
        }
        return SIZE_MAX;
}

size_t rp_hwdef_n_files(const rp_hwdef *h) {
        return h->n_files;
}

const char *rp_hwdef_file_path(const rp_hwdef *h, size_t file) {
        return file < h->n_files ? h->files[file].path : NULL;
}

const char *rp_hwdef_file_description(const rp_hwdef *h, size_t file) {
        return file < h->n_files ? h->files[file].description : NULL;
}

size_t rp_hwdef_file_n_imports(const rp_hwdef *h, size_t file) {
        return file < h->n_files ? h->files[file].n_imports : 0;
}

size_t rp_hwdef_file_import(const rp_hwdef *h, size_t file, size_t i) {
        return file < h->n_files && i < h->files[file].n_imports ? h->files[file].imports[i] : SIZE_MAX;
}

size_t rp_hwdef_n_peripherals(const rp_hwdef *h) {
        return h->n_periph;
}

const rp_hwdef_peripheral *rp_hwdef_peripheral_at(const rp_hwdef *h, size_t i) {
        return i < h->n_periph ? &h->periph[i].pub : NULL;
}

const rp_hwdef_peripheral *rp_hwdef_find(const rp_hwdef *h, const char *name) {
        size_t i = hw_lookup(h, name);
        return i == SIZE_MAX ? NULL : &h->periph[i].pub;
}

const rp_hwdef_peripheral *rp_hwdef_root(const rp_hwdef *h, const rp_hwdef_peripheral *p) {
        const hw_periph *hp = (const hw_periph *) p;   /* pub is the first member */
        return &h->periph[hp->root].pub;
}

/* ---- Loading ----------------------------------------------------------- */

typedef struct load_ctx {
        rp_hwdef *h;
        const char *const *search_dirs;
        bool memory;
        const rp_hwdef_file *mem;
        size_t n_mem;
        size_t stack[RP_HWDEF_MAX_DEPTH + 1];   /* files being loaded, root first */
        size_t depth;
        rp_error *err;
} load_ctx;

#define OOM(src) rp_error_set(ctx->err, -ENOMEM, "%s: out of memory", (src))

static int dup_opt(const char *s, char **ret) {
        if (!s)
                return 0;
        *ret = strdup(s);
        return *ret ? 0 : -ENOMEM;
}

static int parse_metadata(load_ctx *ctx, const char *src, const json_t *v) {
        static const char *const known[] = { "Type", "Version" };
        rp_error *err = ctx->err;
        if (!json_is_object(v))
                return rp_error_set(err, -EINVAL, "%s: Metadata: expected an object, got %s", src, rp_json_type_name(v));
        /* The type first, and without quoting it: until the file says it
         * is a hardware definition, nothing of it is repeated in messages. */
        const json_t *t = json_object_get(v, "Type"), *ver = json_object_get(v, "Version");
        if (!t)
                return rp_error_set(err, -EINVAL, "%s: Metadata.Type: missing required field", src);
        if (!json_is_string(t) || json_string_length(t) != strlen(HWDEF_TYPE) ||
            !streq(json_string_value(t), HWDEF_TYPE))
                return rp_error_set(err, -EINVAL, "%s: Metadata.Type: this file is not a hardware definition "
                                    "(expected \"" HWDEF_TYPE "\")", src);
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *) v, key, val)
                if (!streq(key, "Type") && !streq(key, "Version"))
                        return rp_error_unknown_field(err, src, "Metadata", key, known, ELEMENTSOF(known));
        if (!ver)
                return rp_error_set(err, -EINVAL, "%s: Metadata.Version: missing required field", src);
        if (!json_is_integer(ver))
                return rp_error_set(err, -EINVAL, "%s: Metadata.Version: expected an integer, got %s", src,
                                    rp_json_type_name(ver));
        if (json_integer_value(ver) != 1)
                return rp_error_set(err, -EOPNOTSUPP, "%s: Metadata.Version: version %lld is not supported (only 1 is)",
                                    src, (long long) json_integer_value(ver));
        return 0;
}

static int parse_description(load_ctx *ctx, hw_file *f, const char *src, const json_t *v) {
        static const char *const known[] = { "Name", "MainCoreHeaderFileTopContent" };
        rp_error *err = ctx->err;
        if (!json_is_object(v))
                return rp_error_set(err, -EINVAL, "%s: Description: expected an object, got %s", src,
                                    rp_json_type_name(v));
        const char *key;
        const json_t *val;
        json_object_foreach((json_t *) v, key, val) {
                int r;
                if (streq(key, "Name")) {
                        const char *s;
                        r = rp_json_get_text(val, src, "Description.Name", RP_HWDEF_MAX_TEXT, true, &s, err);
                        if (r < 0)
                                return r;
                        if (dup_opt(s, &f->description) < 0)
                                return OOM(src);
                } else if (streq(key, "MainCoreHeaderFileTopContent")) {
                        const char *path = "Description.MainCoreHeaderFileTopContent";
                        r = rp_json_get_array(val, src, path, MAX_TOP_LINES, err);
                        if (r < 0)
                                return r;
                        size_t n = json_array_size(val);
                        f->top = calloc(n ? n : 1, sizeof(char *));
                        if (!f->top)
                                return OOM(src);
                        for (size_t i = 0; i < n; i++) {
                                char ip[128];
                                const char *s;
                                snprintf(ip, sizeof ip, "%s[%zu]", path, i);
                                r = rp_json_get_text(json_array_get(val, i), src, ip, RP_HWDEF_MAX_TEXT, true, &s, err);
                                if (r < 0)
                                        return r;
                                if (dup_opt(s, &f->top[i]) < 0)
                                        return OOM(src);
                                f->n_top++;
                        }
                        size_t bad;
                        const char *why = hw_top_content_problem(f->top, f->n_top, &bad);
                        if (why)
                                return rp_error_set(err, -EINVAL, "%s: %s[%zu]: %s", src, path, bad, why);
                } else
                        return rp_error_unknown_field(err, src, "Description", key, known, ELEMENTSOF(known));
        }
        return 0;
}

static const struct {
        const char *type;
        bool integer;
} typed_values[] = {
        { "Gpio", true }, { "Uart", false }, { "I2cMaster", false }, { "SpiMaster", false },
        { "Pwm", false }, { "Adc", false }, { "I2sSubordinate", false }, { "ExternalInterrupt", false },
};

/* A new, empty peripheral at the end of h->periph, defined by file. It is
 * counted at once, so that on a failure rp_hwdef_free() frees what it took. */
static int new_peripheral(load_ctx *ctx, size_t file, const char *src, const char *path, hw_periph **ret) {
        rp_hwdef *h = ctx->h;
        if (h->n_periph >= MAX_TOTAL_PERIPHERALS)
                return rp_error_set(ctx->err, -EFBIG, "%s: %s: more than %d peripherals in all files", src, path,
                                    MAX_TOTAL_PERIPHERALS);
        if (h->n_periph == h->cap_periph) {
                size_t ncap = h->cap_periph ? h->cap_periph * 2 : 64;
                hw_periph *n = realloc(h->periph, ncap * sizeof *n);
                if (!n)
                        return OOM(src);
                h->periph = n;
                h->cap_periph = ncap;
        }
        hw_periph *p = &h->periph[h->n_periph++];
        *p = (hw_periph) { .pub.file = file };
        *ret = p;
        return 0;
}

/* Name, Type or Mapping: an identifier; a Name is also a macro the header
 * defines. */
static int parse_periph_name(load_ctx *ctx, hw_periph *p, const char *src, const char *fp, const char *key,
                             const json_t *val) {
        rp_error *err = ctx->err;
        const char *s;
        int r = rp_json_get_text(val, src, fp, RP_HWDEF_MAX_NAME, false, &s, err);
        if (r < 0)
                return r;
        if (!rp_is_identifier(s, RP_HWDEF_MAX_NAME))
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a valid name (letters, digits and '_', not "
                                    "starting with a digit)", src, fp, s);
        const char *why = streq(key, "Name") ? hw_macro_name_problem(s) : NULL;
        if (why)
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" %s", src, fp, s, why);
        char **dst = streq(key, "Name") ? &p->name : streq(key, "Type") ? &p->type : &p->mapping;
        return dup_opt(s, dst) < 0 ? OOM(src) : 0;
}

/* AppManifestValue: an integer 0-65535, or a peripheral name as a manifest
 * literal spells it. */
static int parse_periph_value(load_ctx *ctx, hw_periph *p, const char *src, const char *fp, const json_t *val) {
        rp_error *err = ctx->err;
        int r;
        if (json_is_integer(val)) {
                int64_t x;
                r = rp_json_get_int(val, src, fp, 0, 65535, &x, err);
                if (r < 0)
                        return r;
                p->pub.number = x;
                p->pub.value_is_integer = true;
        } else if (json_is_string(val)) {
                const char *s;
                r = rp_json_get_text(val, src, fp, RP_APP_MANIFEST_MAX_PERIPHERAL, false, &s, err);
                if (r < 0)
                        return r;
                if (!rp_periph_literal_ok(s))
                        return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" is not a peripheral name an app manifest "
                                            "can hold (letters, digits and _-.:/ only)", src, fp, s);
                if (dup_opt(s, &p->string) < 0)
                        return OOM(src);
        } else
                return rp_error_set(err, -EINVAL, "%s: %s: expected an integer or a string, got %s", src, fp,
                                    rp_json_type_name(val));
        p->pub.has_value = true;
        return 0;
}

/* MainCoreHeaderValue or Comment: text that goes into the C header. */
static int parse_periph_header_text(load_ctx *ctx, hw_periph *p, const char *src, const char *fp, const char *key,
                                    const json_t *val) {
        rp_error *err = ctx->err;
        bool is_value = streq(key, "MainCoreHeaderValue");
        const char *s;
        int r = rp_json_get_text(val, src, fp, RP_HWDEF_MAX_TEXT, !is_value, &s, err);
        if (r < 0)
                return r;
        const char *why = is_value ? hw_header_value_problem(s) : hw_comment_problem(s);
        if (why)
                return rp_error_set(err, -EINVAL, is_value ? "%s: %s: cannot be a C macro value: it %s" : "%s: %s: %s",
                                    src, fp, why);
        return dup_opt(s, is_value ? &p->header_value : &p->comment) < 0 ? OOM(src) : 0;
}

/* The checks between fields, once all are read. */
static int check_peripheral(load_ctx *ctx, const hw_periph *p, const char *src, const char *path) {
        rp_error *err = ctx->err;
        if (!p->name)
                return rp_error_set(err, -EINVAL, "%s: %s.Name: missing required field", src, path);
        if (!p->type)
                return rp_error_set(err, -EINVAL, "%s: %s.Type: missing required field", src, path);
        if (p->mapping && p->pub.has_value)
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" has both a Mapping and an AppManifestValue; "
                                    "give one", src, path, p->name);
        if (p->mapping && p->header_value)
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" has both a Mapping and a MainCoreHeaderValue; "
                                    "give one", src, path, p->name);
        if (!p->mapping && !p->pub.has_value && !p->header_value)
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" needs a Mapping, an AppManifestValue or a "
                                    "MainCoreHeaderValue", src, path, p->name);
        if (streq(p->name, p->mapping ? p->mapping : ""))
                return rp_error_set(err, -EINVAL, "%s: %s: \"%s\" maps to itself", src, path, p->name);
        if (p->pub.has_value)
                for (size_t i = 0; i < ELEMENTSOF(typed_values); i++)
                        if (streq(p->type, typed_values[i].type) && p->pub.value_is_integer != typed_values[i].integer)
                                return rp_error_set(err, -EINVAL, "%s: %s.AppManifestValue: a %s peripheral needs %s "
                                                    "value", src, path, p->type,
                                                    typed_values[i].integer ? "an integer" : "a string");
        return 0;
}

/* One entry of Peripherals. */
static int parse_peripheral(load_ctx *ctx, size_t file, const char *src, const char *path, const json_t *v) {
        static const char *const known[] = { "Name", "Type", "Mapping", "AppManifestValue", "MainCoreHeaderValue",
                                             "Comment" };
        if (!json_is_object(v))
                return rp_error_set(ctx->err, -EINVAL, "%s: %s: expected an object, got %s", src, path,
                                    rp_json_type_name(v));
        hw_periph *p = NULL;
        int r = new_peripheral(ctx, file, src, path, &p);
        if (r < 0)
                return r;

        const char *key;
        const json_t *val;
        json_object_foreach((json_t *) v, key, val) {
                char fp[256];
                snprintf(fp, sizeof fp, "%s.%s", path, key);
                if (streq(key, "Name") || streq(key, "Type") || streq(key, "Mapping"))
                        r = parse_periph_name(ctx, p, src, fp, key, val);
                else if (streq(key, "AppManifestValue"))
                        r = parse_periph_value(ctx, p, src, fp, val);
                else if (streq(key, "MainCoreHeaderValue") || streq(key, "Comment"))
                        r = parse_periph_header_text(ctx, p, src, fp, key, val);
                else
                        r = rp_error_unknown_field(ctx->err, src, path, key, known, ELEMENTSOF(known));
                if (r < 0)
                        return r;
        }
        r = check_peripheral(ctx, p, src, path);
        if (r < 0)
                return r;
        p->pub.name = p->name;
        p->pub.type = p->type;
        p->pub.mapping = p->mapping;
        p->pub.string = p->string;
        p->pub.header_value = p->header_value;
        p->pub.comment = p->comment;
        return 0;
}

/* Finds the import rel among rp_hwdef_parse()'s in-memory files. */
static int open_import_memory(load_ctx *ctx, const char *src, const char *ipath, const char *rel,
                              char **ret_key, char **ret_path, char **ret_data, size_t *ret_len) {
        rp_error *err = ctx->err;
        const rp_hwdef_file *f = NULL;
        for (size_t i = 0; i < ctx->n_mem && !f; i++)
                if (ctx->mem[i].path && streq(ctx->mem[i].path, rel))
                        f = &ctx->mem[i];
        if (!f)
                return rp_error_set(err, -ENOENT, "%s: %s: imported file \"%s\" not found", src, ipath, rel);
        /* (Its size is checked by load_file(), like a file's on disk.) */
        _cleanup_free_ char *key = strdup(rel), *p = strdup(rel);
        _cleanup_free_ char *data = malloc(f->len + 1);
        if (!key || !p || !data)
                return OOM(src);
        if (f->len)
                memcpy(data, f->data, f->len);
        data[f->len] = '\0';
        *ret_key = TAKE_PTR(key);
        *ret_path = TAKE_PTR(p);
        *ret_data = TAKE_PTR(data);
        *ret_len = f->len;
        return 0;
}

/* Finds and reads the file an import names: relative to the importing
 * file's directory, then in each search directory; an absolute path as
 * given. */
static int open_import(load_ctx *ctx, const hw_file *from, const char *src, const char *ipath, const char *rel,
                       char **ret_key, char **ret_path, char **ret_data, size_t *ret_len) {
        rp_error *err = ctx->err;
        if (ctx->memory)
                return open_import_memory(ctx, src, ipath, rel, ret_key, ret_path, ret_data, ret_len);

        _cleanup_free_ char *fromdir_buf = strdup(from->path);
        if (!fromdir_buf)
                return OOM(src);
        const char *fromdir = dirname(fromdir_buf);
        size_t n_dirs = 1;
        for (const char *const *d = ctx->search_dirs; d && *d; d++)
                n_dirs++;
        for (size_t i = 0; i < n_dirs; i++) {
                const char *dir = i == 0 ? fromdir : ctx->search_dirs[i - 1];
                _cleanup_free_ char *cand = NULL;
                if (rel[0] == '/') {
                        if (i > 0)
                                break;
                        cand = strdup(rel);
                } else if (streq(dir, "."))
                        cand = strdup(rel);
                else if (asprintf(&cand, "%s/%s", dir, rel) < 0)
                        cand = NULL;
                if (!cand)
                        return OOM(src);
                struct stat st;
                if (stat(cand, &st) < 0 || !S_ISREG(st.st_mode))
                        continue;
                _cleanup_free_ char *key = realpath(cand, NULL);
                if (!key)
                        return rp_error_set_errno(err, -errno, "%s: %s: cannot resolve \"%s\"", src, ipath, cand);
                _cleanup_free_ uint8_t *data = NULL;
                size_t len;
                int r = rp_read_file(cand, RP_HWDEF_MAX_SIZE, &data, &len, err);
                if (r < 0)
                        return rp_error_prefix(err, r, "%s: %s: ", src, ipath);
                *ret_key = TAKE_PTR(key);
                *ret_path = TAKE_PTR(cand);
                *ret_data = (char *) TAKE_PTR(data);
                *ret_len = len;
                return 0;
        }

        /* Say where we looked, so the fix (a -I directory, a path) is clear. */
        char where[RP_ERROR_MAX] = "";
        size_t used = 0;
        for (size_t i = 0; i < n_dirs && used < sizeof where; i++) {
                const char *dir = i == 0 ? fromdir : ctx->search_dirs[i - 1];
                int k = snprintf(where + used, sizeof where - used, "%s%s", i ? ", " : "", dir);
                if (k < 0)
                        break;
                used += (size_t) k;
        }
        if (rel[0] == '/')
                return rp_error_set(err, -ENOENT, "%s: %s: imported file \"%s\" not found", src, ipath, rel);
        return rp_error_set(err, -ENOENT, "%s: %s: imported file \"%s\" not found (looked in %s); add the "
                            "directory that holds it to the hardware definition search path", src, ipath, rel, where);
}

static int load_file(load_ctx *ctx, char *key, char *path, const char *data, size_t len);

static int load_imports(load_ctx *ctx, size_t file, const char *src, const json_t *imports) {
        rp_error *err = ctx->err;
        int r = rp_json_get_array(imports, src, "Imports", MAX_IMPORTS, err);
        if (r < 0)
                return r;
        size_t n = json_array_size(imports);
        ctx->h->files[file].imports = calloc(n ? n : 1, sizeof(size_t));
        if (!ctx->h->files[file].imports)
                return OOM(src);
        for (size_t i = 0; i < n; i++) {
                static const char *const known[] = { "Path" };
                const json_t *imp = json_array_get(imports, i);
                char ip[64], pp[80];
                snprintf(ip, sizeof ip, "Imports[%zu]", i);
                snprintf(pp, sizeof pp, "Imports[%zu].Path", i);
                if (!json_is_object(imp))
                        return rp_error_set(err, -EINVAL, "%s: %s: expected an object like {\"Path\": \"board.json\"}, "
                                            "got %s", src, ip, rp_json_type_name(imp));
                const char *key;
                const json_t *val;
                json_object_foreach((json_t *) imp, key, val)
                        if (!streq(key, "Path"))
                                return rp_error_unknown_field(err, src, ip, key, known, ELEMENTSOF(known));
                const json_t *pv = json_object_get(imp, "Path");
                if (!pv)
                        return rp_error_set(err, -EINVAL, "%s: %s: missing required field", src, pp);
                const char *rel;
                r = rp_json_get_text(pv, src, pp, MAX_PATH_TEXT, false, &rel, err);
                if (r < 0)
                        return r;

                _cleanup_free_ char *ikey = NULL, *ipath = NULL, *idata = NULL;
                size_t ilen = 0;
                r = open_import(ctx, &ctx->h->files[file], src, pp, rel, &ikey, &ipath, &idata, &ilen);
                if (r < 0)
                        return r;

                for (size_t d = 0; d <= ctx->depth; d++)
                        if (streq(ctx->h->files[ctx->stack[d]].key, ikey)) {
                                char chain[RP_ERROR_MAX] = "";
                                size_t used = 0;
                                for (size_t e = d; e <= ctx->depth && used < sizeof chain; e++) {
                                        int k = snprintf(chain + used, sizeof chain - used, "%s -> ",
                                                         ctx->h->files[ctx->stack[e]].path);
                                        if (k < 0)
                                                break;
                                        used += (size_t) k;
                                }
                                return rp_error_set(err, -ELOOP, "%s: %s: import cycle: %s%s", src, pp, chain, ipath);
                        }
                size_t target = SIZE_MAX;
                for (size_t j = 0; j < ctx->h->n_files; j++)
                        if (streq(ctx->h->files[j].key, ikey))
                                target = j;
                if (target == SIZE_MAX) {
                        if (ctx->depth + 1 > RP_HWDEF_MAX_DEPTH)
                                return rp_error_set(err, -ELOOP, "%s: %s: imports are nested more than %d levels deep",
                                                    src, pp, RP_HWDEF_MAX_DEPTH);
                        target = ctx->h->n_files;
                        ctx->depth++;
                        r = load_file(ctx, TAKE_PTR(ikey), TAKE_PTR(ipath), idata, ilen);
                        ctx->depth--;
                        if (r < 0)
                                return r;
                }
                for (size_t j = 0; j < ctx->h->files[file].n_imports; j++)
                        if (ctx->h->files[file].imports[j] == target)
                                return rp_error_set(err, -EEXIST, "%s: %s: \"%s\" is imported twice", src, pp, rel);
                ctx->h->files[file].imports[ctx->h->files[file].n_imports++] = target;
        }
        return 0;
}

/* Parses one file and, depth first, what it imports. Takes key and path. */
static int load_file(load_ctx *ctx, char *key, char *path, const char *data, size_t len) {
        rp_hwdef *h = ctx->h;
        rp_error *err = ctx->err;
        _cleanup_free_ char *k = key, *p = path;
        if (h->n_files >= RP_HWDEF_MAX_FILES)
                return rp_error_set(err, -EFBIG, "%s: more than %d files in one hardware definition", path,
                                    RP_HWDEF_MAX_FILES);
        if (len > RP_HWDEF_MAX_SIZE)
                return rp_error_set(err, -EFBIG, "%s: file is %zu bytes, the limit is %d", path, len, RP_HWDEF_MAX_SIZE);

        _cleanup_(rp_json_decrefp) json_t *root = NULL;
        int r = rp_json_parse_object(data, len, path, &root, err);
        if (r < 0)
                return r;

        if (!h->files) {
                h->files = calloc(RP_HWDEF_MAX_FILES, sizeof *h->files);
                if (!h->files)
                        return OOM(path);
        }
        size_t file = h->n_files++;
        hw_file *f = &h->files[file];
        f->key = TAKE_PTR(k);
        f->path = TAKE_PTR(p);
        const char *src = f->path;
        ctx->stack[ctx->depth] = file;

        /* Metadata first: a JSON file of another kind is refused before
         * any of its keys appears in a message. */
        const json_t *meta = json_object_get(root, "Metadata");
        if (!meta)
                return rp_error_set(err, -EINVAL, "%s: Metadata: missing required field (is this a hardware "
                                    "definition?)", src);
        r = parse_metadata(ctx, src, meta);
        if (r < 0)
                return r;
        static const char *const known[] = { "Metadata", "Description", "Imports", "Peripherals" };
        const char *fkey;
        const json_t *val;
        json_object_foreach(root, fkey, val) {
                bool ok = false;
                for (size_t i = 0; i < ELEMENTSOF(known); i++)
                        ok = ok || streq(fkey, known[i]);
                if (!ok)
                        return rp_error_unknown_field(err, src, NULL, fkey, known, ELEMENTSOF(known));
        }
        const json_t *desc = json_object_get(root, "Description");
        if (desc) {
                r = parse_description(ctx, f, src, desc);
                if (r < 0)
                        return r;
        }
        const json_t *periphs = json_object_get(root, "Peripherals");
        if (!periphs)
                return rp_error_set(err, -EINVAL, "%s: Peripherals: missing required field", src);
        r = rp_json_get_array(periphs, src, "Peripherals", RP_HWDEF_MAX_PERIPHERALS, err);
        if (r < 0)
                return r;
        f->first_periph = h->n_periph;
        for (size_t i = 0; i < json_array_size(periphs); i++) {
                char pp[64];
                snprintf(pp, sizeof pp, "Peripherals[%zu]", i);
                r = parse_peripheral(ctx, file, src, pp, json_array_get(periphs, i));
                if (r < 0)
                        return r;
                h->files[file].n_periph++;
        }
        const json_t *imports = json_object_get(root, "Imports");
        if (imports) {
                r = load_imports(ctx, file, src, imports);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- Whole-definition checks ------------------------------------------- */

static const rp_hwdef *sort_h;

static int cmp_name(const void *a, const void *b) {
        const size_t *x = a, *y = b;
        int c = strcmp(sort_h->periph[*x].name, sort_h->periph[*y].name);
        if (c != 0)
                return c;
        return *x < *y ? -1 : *x > *y;
}

/* The index of peripheral i within its file, for messages. */
static size_t local_index(const rp_hwdef *h, size_t i) {
        return i - h->files[h->periph[i].pub.file].first_periph;
}

static int index_names(rp_hwdef *h, rp_error *err) {
        h->by_name = calloc(h->n_periph ? h->n_periph : 1, sizeof(size_t));
        if (!h->by_name)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", h->files[0].path);
        for (size_t i = 0; i < h->n_periph; i++)
                h->by_name[i] = i;
        sort_h = h;
        qsort(h->by_name, h->n_periph, sizeof(size_t), cmp_name);
        sort_h = NULL;
        for (size_t i = 1; i < h->n_periph; i++) {
                size_t a = h->by_name[i - 1], b = h->by_name[i];
                if (!streq(h->periph[a].name, h->periph[b].name))
                        continue;
                const hw_file *fa = &h->files[h->periph[a].pub.file], *fb = &h->files[h->periph[b].pub.file];
                if (fa == fb)
                        return rp_error_set(err, -EEXIST, "%s: Peripherals[%zu]: duplicate peripheral name \"%s\" "
                                            "(also Peripherals[%zu])", fb->path, local_index(h, b),
                                            h->periph[b].name, local_index(h, a));
                return rp_error_set(err, -EEXIST, "%s: Peripherals[%zu]: peripheral \"%s\" is also defined in %s",
                                    fb->path, local_index(h, b), h->periph[b].name, fa->path);
        }
        return 0;
}

static void compute_closures(rp_hwdef *h) {
        /* Imports were loaded depth first, so an import's index is larger
         * than its importer's unless it was reached before; iterate to a
         * fixed point (at most n_files rounds). */
        for (size_t i = 0; i < h->n_files; i++)
                h->files[i].closure = UINT64_C(1) << i;
        for (bool changed = true; changed;) {
                changed = false;
                for (size_t i = 0; i < h->n_files; i++)
                        for (size_t j = 0; j < h->files[i].n_imports; j++) {
                                uint64_t c = h->files[i].closure | h->files[h->files[i].imports[j]].closure;
                                if (c != h->files[i].closure) {
                                        h->files[i].closure = c;
                                        changed = true;
                                }
                        }
        }
}

static int check_mappings(rp_hwdef *h, rp_error *err) {
        compute_closures(h);
        for (size_t i = 0; i < h->n_periph; i++) {
                hw_periph *p = &h->periph[i];
                const hw_file *f = &h->files[p->pub.file];
                size_t li = local_index(h, i);
                size_t cur = i;
                for (size_t hops = 0; h->periph[cur].mapping; hops++) {
                        if (hops >= RP_HWDEF_MAX_CHAIN)
                                return rp_error_set(err, -ELOOP, "%s: Peripherals[%zu]: the Mapping chain of \"%s\" "
                                                    "loops or is longer than %d", f->path, li, p->name,
                                                    RP_HWDEF_MAX_CHAIN);
                        const hw_periph *c = &h->periph[cur];
                        const hw_file *cf = &h->files[c->pub.file];
                        size_t t = hw_lookup(h, c->mapping);
                        if (t == SIZE_MAX || !(cf->closure & (UINT64_C(1) << h->periph[t].pub.file))) {
                                if (cur != i)
                                        break;   /* reported when c itself is checked */
                                return rp_error_set(err, -ENOENT, "%s: Peripherals[%zu]: \"%s\" maps to \"%s\", which "
                                                    "is not defined in this file or its imports", f->path, li, p->name,
                                                    c->mapping);
                        }
                        if (!streq(h->periph[t].type, c->type)) {
                                if (cur != i)
                                        break;
                                return rp_error_set(err, -EINVAL, "%s: Peripherals[%zu]: \"%s\" is a %s peripheral but "
                                                    "maps to \"%s\", a %s peripheral", f->path, li, p->name, p->type,
                                                    h->periph[t].name, h->periph[t].type);
                        }
                        cur = t;
                }
                p->root = cur;
        }
        return 0;
}

/* Loads the root definition (and, through it, its imports), then checks the
 * whole set: names unique, mappings resolvable. Takes key and path. */
static int load_root(load_ctx *ctx, char *key, char *path, const char *data, size_t len) {
        int r = load_file(ctx, key, path, data, len);
        if (r < 0)
                return r;
        r = index_names(ctx->h, ctx->err);
        if (r < 0)
                return r;
        return check_mappings(ctx->h, ctx->err);
}

int rp_hwdef_load(const char *path, const char *const *search_dirs, rp_hwdef **ret, rp_error *err) {
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = calloc(1, sizeof *h);
        if (!h)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", path);
        _cleanup_free_ uint8_t *data = NULL;
        size_t len;
        int r = rp_read_file(path, RP_HWDEF_MAX_SIZE, &data, &len, err);
        if (r < 0)
                return r;
        char *key = realpath(path, NULL), *p = strdup(path);
        if (!key || !p) {
                free(key);
                free(p);
                return rp_error_set_errno(err, -errno, "%s: cannot resolve the path", path);
        }
        load_ctx ctx = { .h = h, .search_dirs = search_dirs, .err = err };
        r = load_root(&ctx, key, p, (const char *) data, len);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}

int rp_hwdef_parse(const char *json, size_t len, const char *source,
                   const rp_hwdef_file *files, size_t n_files, rp_hwdef **ret, rp_error *err) {
        if (!source)
                source = "hardware-definition.json";
        _cleanup_(rp_hwdef_freep) rp_hwdef *h = calloc(1, sizeof *h);
        if (!h)
                return rp_error_set(err, -ENOMEM, "%s: out of memory", source);
        char *key = strdup(source), *p = strdup(source);
        if (!key || !p) {
                free(key);
                free(p);
                return rp_error_set(err, -ENOMEM, "%s: out of memory", source);
        }
        load_ctx ctx = { .h = h, .memory = true, .mem = files, .n_mem = n_files, .err = err };
        int r = load_root(&ctx, key, p, json, len);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(h);
        return 0;
}
