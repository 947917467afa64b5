/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Provisioning a device at the factory, once: the backend creates the
 * device secret (or the TPM-held DeviceID key), and the manufacturer CA
 * signs the DeviceID certificate. Afterwards the state directory D holds
 * rot.conf, deviceid.pem and ca.pem (docs/formats.md, "The root of trust's
 * state directory"). */

#include "rampart/error.h"
#include "rot/cert.h"
#include "rot/rot.h"

/* Reads CA_DIR/ca.pem and CA_DIR/ca.key (rp_cert_ca_create's files) before
 * anything is created, then runs backend->provision(cfg), opens the
 * backend, issues the DeviceID certificate and writes D/deviceid.pem and a
 * copy of the CA certificate as D/ca.pem (both 0644, atomically). On
 * success ret_device_id gets the device id. -EEXIST if D was already
 * provisioned. */
int rp_factory_provision(const rp_rot_backend *backend, const rp_rot_config *cfg, const char *ca_dir,
                         char ret_device_id[RP_DEVICE_ID_HEX_LEN + 1], rp_error *err);
