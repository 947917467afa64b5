/* SPDX-License-Identifier: Apache-2.0 */
/* The normalized manifest as JSON: what `rampart app-manifest check -o json`
 * prints, and what other tools can consume. The field names follow the
 * manifest's own; "Grants" lists each capability the app receives. */
#include <jansson.h>

#include "core/macro.h"
#include "package/app_manifest_internal.h"
#include "package/app_manifest_json_internal.h"

/* Sets key to value if everything so far worked (ok) and returns whether
 * it did. Always takes the reference to value, so nothing leaks once an
 * allocation failed. */
static bool put(bool ok, json_t *obj, const char *key, json_t *value) {
        if (!ok || !obj || !value) {
                json_decref(value);
                return false;
        }
        return json_object_set_new(obj, key, value) == 0;
}

/* The same for appending to an array. */
static bool append(bool ok, json_t *arr, json_t *value) {
        if (!ok || !arr || !value) {
                json_decref(value);
                return false;
        }
        return json_array_append_new(arr, value) == 0;
}

static json_t *peripheral_json(rp_periph_kind kind, const rp_app_peripheral *p) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = true;
        if (p->ref)
                ok = put(ok, o, "reference", json_pack("s+", "$", p->ref));
        ok = put(ok, o, "resolved", json_boolean(p->resolved));
        if (p->resolved) {
                if (rp_periph_kind_is_integer(kind))
                        ok = put(ok, o, "value", json_integer(p->number));
                else
                        ok = put(ok, o, "value", json_string(p->string));
                if (p->root)
                        ok = put(ok, o, "peripheral", json_string(p->root));
        }
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}

static json_t *grants_json(const rp_app_manifest *m) {
        json_t *g = json_object();
        if (!g)
                return NULL;
        bool ok = true;

        if (m->n_connections > 0) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < m->n_connections; i++)
                        ok = append(ok, a, json_string(m->connections[i]));
                ok = put(ok, g, "AllowedConnections", a);
        }
        static const char *const port_keys[] = { "AllowedTcpServerPorts", "AllowedUdpServerPorts" };
        for (size_t p = 0; p < 2; p++) {
                if (m->n_ports[p] == 0)
                        continue;
                json_t *a = json_array();
                for (size_t i = 0; a && i < m->n_ports[p]; i++)
                        ok = append(ok, a, json_integer(m->ports[p][i]));
                ok = put(ok, g, port_keys[p], a);
        }
        if (m->n_app_connections > 0) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < m->n_app_connections; i++)
                        ok = append(ok, a, json_string(m->app_connections[i]));
                ok = put(ok, g, "AllowedApplicationConnections", a);
        }
        for (size_t k = 0; k < _RP_PERIPH_KIND_MAX; k++) {
                if (m->n_periph[k] == 0)
                        continue;
                json_t *a = json_array();
                for (size_t i = 0; a && i < m->n_periph[k]; i++)
                        ok = append(ok, a, peripheral_json(k, &m->periph[k][i].pub));
                ok = put(ok, g, rp_periph_kind_name(k), a);
        }
        if (m->storage_kb > 0)
                ok = put(ok, g, "MutableStorage", json_pack("{s:i}", "SizeKB", (json_int_t) m->storage_kb));
        if (m->has_tenant)
                ok = put(ok, g, "DeviceAuthentication", json_string(m->tenant));
        if (m->power_controls) {
                json_t *a = json_array();
                for (size_t i = 0; a && i < _RP_POWER_CONTROL_MAX; i++)
                        if (m->power_controls & (1u << i))
                                ok = append(ok, a, json_string(rp_power_control_name(i)));
                ok = put(ok, g, "PowerControls", a);
        }
        for (size_t f = 0; f < _RP_APP_FLAG_MAX; f++)
                if (m->flags & (1u << f))
                        ok = put(ok, g, rp_app_flag_name(f), json_true());

        if (!ok) {
                json_decref(g);
                return NULL;
        }
        return g;
}

json_t *rp_app_manifest_to_json(const rp_app_manifest *m) {
        json_t *o = json_object();
        if (!o)
                return NULL;
        bool ok = put(true, o, "Source", json_string(m->source));
        ok = put(ok, o, "SchemaVersion", json_integer(1));
        ok = put(ok, o, "Name", json_string(m->name));
        ok = put(ok, o, "ComponentId", json_string(m->component_id));
        ok = put(ok, o, "EntryPoint", json_string(m->entry_point));
        ok = put(ok, o, "ApplicationType", json_string(m->type == RP_APP_TYPE_REALTIME_CAPABLE ?
                                                       "RealTimeCapable" : "Default"));
        json_t *args = json_array();
        for (size_t i = 0; args && i < m->n_args; i++)
                ok = append(ok, args, json_string(m->args[i]));
        ok = put(ok, o, "CmdArgs", args);
        if (m->malloc_version)
                ok = put(ok, o, "MallocVersion", json_integer(m->malloc_version));
        if (m->target_runtime_version)
                ok = put(ok, o, "TargetApplicationRuntimeVersion", json_integer(m->target_runtime_version));
        if (m->target_beta_apis)
                ok = put(ok, o, "TargetBetaApis", json_string(m->target_beta_apis));
        ok = put(ok, o, "Grants", grants_json(m));
        ok = put(ok, o, "UnresolvedReferences", json_integer((json_int_t) rp_app_manifest_n_unresolved(m)));
        if (!ok) {
                json_decref(o);
                return NULL;
        }
        return o;
}
