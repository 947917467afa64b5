/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-server's log lines (log.c; rp_log and rp_log_quote are in http.h
 * for the handlers). */

#include <stddef.h>

#include "http.h"

/* Room for a quoted value: rp_log_quote truncates to fit. */
#define RP_LOG_QUOTE_MAX 512

/* s bare when it is made of safe characters only (letters, digits and
 * "-._/:@+,[]"), else rp_log_quote(s): for values the operator chose (paths,
 * addresses), readable in the common case and unambiguous in any. */
const char *rp_log_value(const char *s, char *out, size_t size);
