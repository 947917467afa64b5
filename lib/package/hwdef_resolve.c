/* SPDX-License-Identifier: Apache-2.0 */
/* Resolving an app manifest's "$NAME" peripheral references through a
 * hardware definition. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "package/app_manifest_internal.h"
#include "package/hwdef_internal.h"
#include "package/manifest_util.h"

/* What one entry resolves to, before anything in the manifest changes. */
typedef struct resolved {
        bool set;
        int64_t number;
        const char *string;   /* owned by the hwdef */
        const char *root;     /* owned by the hwdef */
} resolved;

/* "$NAME" or the literal value, for messages. */
static void describe(const rp_app_periph_entry *e, rp_periph_kind kind, char *buf, size_t size) {
        if (e->ref)
                snprintf(buf, size, "\"$%s\"", e->ref);
        else if (rp_periph_kind_is_integer(kind))
                snprintf(buf, size, "%lld", (long long) e->pub.number);
        else
                snprintf(buf, size, "\"%s\"", e->string);
}

static void describe_value(const resolved *v, rp_periph_kind kind, char *buf, size_t size) {
        if (rp_periph_kind_is_integer(kind))
                snprintf(buf, size, "%s%s%lld%s", v->root ? v->root : "", v->root ? " (" : "",
                         (long long) v->number, v->root ? ")" : "");
        else
                snprintf(buf, size, "%s%s\"%s\"%s", v->root ? v->root : "", v->root ? " (" : "", v->string,
                         v->root ? ")" : "");
}

static bool same_value(const resolved *a, const resolved *b, rp_periph_kind kind) {
        if (rp_periph_kind_is_integer(kind))
                return a->number == b->number;
        return streq(a->string, b->string);
}

static int resolve_one(const rp_app_manifest *m, const rp_hwdef *h, rp_periph_kind kind, size_t i,
                       resolved *out, rp_error *err) {
        const rp_app_periph_entry *e = &m->periph[kind][i];
        const char *cap = rp_periph_kind_name(kind);
        if (!e->ref) {
                *out = (resolved) { .set = true, .number = e->pub.number, .string = e->string };
                return 0;
        }
        size_t idx = hw_lookup(h, e->ref);
        if (idx == SIZE_MAX) {
                /* Suggest a near name of the right type: typos are the usual cause. */
                const char *best = NULL;
                for (size_t j = 0; j < h->n_periph && !best; j++)
                        if (streq(h->periph[j].type, cap)) {
                                const char *cand = h->periph[j].name;
                                if (rp_suggest(e->ref, &cand, 1))
                                        best = cand;
                        }
                if (best)
                        return rp_error_set(err, -ENOENT, "%s: Capabilities.%s[%zu]: \"$%s\" is not defined in %s or "
                                            "its imports (did you mean \"$%s\"?)", m->source, cap, i, e->ref,
                                            h->files[0].path, best);
                return rp_error_set(err, -ENOENT, "%s: Capabilities.%s[%zu]: \"$%s\" is not defined in %s or its "
                                    "imports", m->source, cap, i, e->ref, h->files[0].path);
        }
        const hw_periph *p = &h->periph[idx];
        if (!streq(p->type, cap))
                return rp_error_set(err, -EINVAL, "%s: Capabilities.%s[%zu]: \"$%s\" is a %s peripheral (in %s), not %s",
                                    m->source, cap, i, e->ref, p->type, h->files[p->pub.file].path, cap);
        const hw_periph *root = &h->periph[p->root];
        if (!root->pub.has_value)
                return rp_error_set(err, -EINVAL, "%s: Capabilities.%s[%zu]: \"$%s\" stands for %s (in %s), which has no "
                                    "AppManifestValue and cannot be granted in a manifest", m->source, cap, i, e->ref,
                                    root->name, h->files[root->pub.file].path);
        /* Loading checked that a root of this type holds a value of the
         * right kind (an integer for Gpio, a string for the others), and
         * that a Mapping stays within one type. */
        RP_INVARIANT(root->pub.value_is_integer == rp_periph_kind_is_integer(kind));
        *out = (resolved) { .set = true, .number = root->pub.number, .string = root->string, .root = root->name };
        return 0;
}

/* The serial blocks that a chip can give one role at a time: the same value
 * under two of these capabilities is the same hardware twice. */
static bool shares_blocks(rp_periph_kind k) {
        return k == RP_PERIPH_UART || k == RP_PERIPH_I2C_MASTER || k == RP_PERIPH_SPI_MASTER;
}

static int conflict(const rp_app_manifest *m, rp_periph_kind ka, size_t a, const resolved *va,
                    rp_periph_kind kb, size_t b, const resolved *vb, rp_error *err) {
        char da[RP_APP_MANIFEST_MAX_PERIPHERAL + 8], db[RP_APP_MANIFEST_MAX_PERIPHERAL + 8], dv[2 * RP_HWDEF_MAX_NAME];
        describe(&m->periph[ka][a], ka, da, sizeof da);
        describe(&m->periph[kb][b], kb, db, sizeof db);
        if (ka != kb && va->root && vb->root && !streq(va->root, vb->root))
                return rp_error_set(err, -EEXIST, "%s: Capabilities.%s[%zu]: %s and Capabilities.%s[%zu] %s both use "
                                    "\"%s\" (as %s and %s); a block can take one role at a time", m->source,
                                    rp_periph_kind_name(kb), b, db, rp_periph_kind_name(ka), a, da, va->string,
                                    vb->root, va->root);
        describe_value(vb->root ? vb : va, kb, dv, sizeof dv);
        return rp_error_set(err, -EEXIST, "%s: Capabilities.%s[%zu]: %s and Capabilities.%s[%zu] %s both resolve to %s; "
                            "a peripheral can be granted once", m->source, rp_periph_kind_name(kb), b, db,
                            rp_periph_kind_name(ka), a, da, dv);
}

int rp_app_manifest_resolve(rp_app_manifest *m, const rp_hwdef *h, rp_error *err) {
        resolved *vals[_RP_PERIPH_KIND_MAX] = {};
        int r = 0;
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++) {
                vals[k] = calloc(m->n_periph[k] ? m->n_periph[k] : 1, sizeof(resolved));
                if (!vals[k]) {
                        r = rp_error_set(err, -ENOMEM, "%s: out of memory", m->source);
                        goto done;
                }
                for (size_t i = 0; i < m->n_periph[k]; i++) {
                        r = resolve_one(m, h, k, i, &vals[k][i], err);
                        if (r < 0)
                                goto done;
                }
        }

        /* Two entries for one peripheral: within a capability, and across
         * the capabilities that share serial blocks. */
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++)
                for (size_t i = 0; i < m->n_periph[k]; i++)
                        for (size_t k2 = 0; k2 <= k; k2++) {
                                if (k2 != k && !(shares_blocks(k) && shares_blocks(k2)))
                                        continue;
                                size_t end = k2 == k ? i : m->n_periph[k2];
                                for (size_t j = 0; j < end; j++)
                                        if (same_value(&vals[k2][j], &vals[k][i], k)) {
                                                r = conflict(m, k2, j, &vals[k2][j], k, i, &vals[k][i], err);
                                                goto done;
                                        }
                        }

        /* Commit: copy everything first, then swap, so a failure changes nothing. */
        rp_app_periph_entry *next[_RP_PERIPH_KIND_MAX] = {};
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX && r == 0; k++) {
                next[k] = calloc(m->n_periph[k] ? m->n_periph[k] : 1, sizeof(rp_app_periph_entry));
                if (!next[k]) {
                        r = -ENOMEM;
                        break;
                }
                for (size_t i = 0; i < m->n_periph[k]; i++) {
                        const rp_app_periph_entry *old = &m->periph[k][i];
                        rp_app_periph_entry *e = &next[k][i];
                        e->pub = old->pub;
                        e->pub.resolved = true;
                        e->pub.number = vals[k][i].number;
                        if ((old->ref && !(e->ref = strdup(old->ref))) ||
                            (vals[k][i].string && !(e->string = strdup(vals[k][i].string))) ||
                            (vals[k][i].root && !(e->root = strdup(vals[k][i].root)))) {
                                r = -ENOMEM;
                                break;
                        }
                        rp_app_periph_entry_sync(e);
                }
        }
        if (r < 0) {
                for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++) {
                        for (size_t i = 0; next[k] && i < m->n_periph[k]; i++)
                                rp_app_periph_entry_done(&next[k][i]);
                        free(next[k]);
                }
                r = rp_error_set(err, -ENOMEM, "%s: out of memory", m->source);
                goto done;
        }
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++) {
                for (size_t i = 0; i < m->n_periph[k]; i++)
                        rp_app_periph_entry_done(&m->periph[k][i]);
                free(m->periph[k]);
                m->periph[k] = next[k];
        }
done:
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++)
                free(vals[k]);
        return r;
}
