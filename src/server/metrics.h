/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* Counters and histograms for GET /metrics (Prometheus text format 0.0.4).
 * Thread-safe; label values must come from small fixed sets (route
 * patterns, status codes, outcome and reason codes), never from clients. */

#include <stddef.h>

/* A finished request: route pattern ("unmatched" if none), method (GET,
 * POST, PATCH, DELETE, or "other"), status, seconds. */
void rp_metrics_request(const char *route, const char *method, int status, double seconds);
/* An attestation: outcome "accepted" or "refused", reason NULL or a code. */
void rp_metrics_attestation(const char *outcome, const char *reason);
void rp_metrics_certificate_issued(void);
/* An error of the server's own: "store", "tls", "internal", ... */
void rp_metrics_error(const char *kind);
/* Gauges the HTTP layer keeps. */
void rp_metrics_connections_add(int delta);
/* The whole exposition, malloc'd; NULL when out of memory. */
char *rp_metrics_render(void);
