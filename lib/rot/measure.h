/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* The measurement of the running software (DICE layer 0 as rampart does it).
 *
 * A device measures a configured list of components, each NAME, VERSION and
 * a file PATH (the OS image or slot, rampart-secmon's own binary, ...). The
 * measured bytes are the components' list in deterministic CBOR:
 *
 *     components = [ * [ name: tstr, version: tstr, digest: bstr .size 32 ] ]
 *
 * in the configured order, digest = SHA-256 of the file's whole contents.
 * measurement = SHA-256(components). A verifier recomputes it from the
 * measurements claim of the evidence (which carries these exact bytes) and
 * compares it with the Alias certificate's TcbInfo fwid. docs/formats.md
 * ("Measurement") is the normative text. */

#include <stddef.h>
#include <stdint.h>

#include "rampart/error.h"
#include "rot/rot.h"

#define RP_MEASURE_MAX_COMPONENTS 16
#define RP_MEASURE_NAME_MAX 64     /* bytes, name and version each */

typedef struct rp_measure_spec {
        const char *name;
        const char *version;       /* "" when unknown */
        const char *path;
} rp_measure_spec;

typedef struct rp_measurement {
        uint8_t value[RP_ROT_MEASUREMENT_LEN];
        uint8_t *components;       /* the CBOR bytes above */
        size_t components_len;
} rp_measurement;

/* Reads and hashes every file (bounded reads; errors name the file). */
int rp_measure(const rp_measure_spec *specs, size_t n, rp_measurement **ret, rp_error *err);
void rp_measurement_free(rp_measurement *m);
static inline void rp_measurement_freep(rp_measurement **m) {
        rp_measurement_free(*m);
}
