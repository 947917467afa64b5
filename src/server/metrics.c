/* SPDX-License-Identifier: Apache-2.0 */
/* The counters behind GET /metrics (metrics.h), kept per process in small
 * fixed tables under one lock. Label values come from fixed sets (route
 * patterns, methods, statuses, outcome and reason codes); should a table
 * fill anyway, further series are counted in rampart_metrics_dropped_total
 * instead of growing without bound. */
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/macro.h"
#include "metrics.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

#define LABEL_MAX 96
#define REQUESTS_MAX 512        /* (route, method, status) series */
#define ROUTES_MAX 128          /* (route, method) histograms */
#define SMALL_MAX 64            /* attestation and error series */

/* Upper bounds of the latency buckets, in seconds (+Inf is implied). */
static const double buckets[] = { 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10 };
#define N_BUCKETS ELEMENTSOF(buckets)

typedef struct series {
        char a[LABEL_MAX], b[LABEL_MAX];        /* labels: route/outcome/kind, method/reason */
        int status;
        uint64_t count;
} series;

typedef struct histogram {
        char route[LABEL_MAX], method[LABEL_MAX];
        uint64_t counts[N_BUCKETS + 1];         /* per bucket, not cumulative; last: above all */
        double sum;
        uint64_t count;
} histogram;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static series requests[REQUESTS_MAX];
static size_t n_requests;
static histogram durations[ROUTES_MAX];
static size_t n_durations;
static series attestations[SMALL_MAX];
static size_t n_attestations;
static series errors[SMALL_MAX];
static size_t n_errors;
static uint64_t certificates, dropped;
static int64_t connections;

static void copy_label(char dst[LABEL_MAX], const char *src) {
        snprintf(dst, LABEL_MAX, "%s", src ? src : "");
}

/* The series with these labels, made if there is room; NULL otherwise.
 * Called with the lock held. */
static series *find_series(series *tab, size_t *n, size_t max, const char *a, const char *b, int status) {
        a = a ? a : "";
        b = b ? b : "";
        for (size_t i = 0; i < *n; i++)
                if (tab[i].status == status && strncmp(tab[i].a, a, LABEL_MAX - 1) == 0 &&
                    strncmp(tab[i].b, b, LABEL_MAX - 1) == 0)
                        return &tab[i];
        if (*n == max) {
                dropped++;
                return NULL;
        }
        series *s = &tab[(*n)++];
        copy_label(s->a, a);
        copy_label(s->b, b);
        s->status = status;
        return s;
}

void rp_metrics_request(const char *route, const char *method, int status, double seconds) {
        pthread_mutex_lock(&lock);
        series *s = find_series(requests, &n_requests, REQUESTS_MAX, route, method, status);
        if (s)
                s->count++;
        histogram *h = NULL;
        for (size_t i = 0; i < n_durations && !h; i++)
                if (strncmp(durations[i].route, route, LABEL_MAX - 1) == 0 &&
                    strncmp(durations[i].method, method, LABEL_MAX - 1) == 0)
                        h = &durations[i];
        if (!h && n_durations < ROUTES_MAX) {
                h = &durations[n_durations++];
                copy_label(h->route, route);
                copy_label(h->method, method);
        } else if (!h) {
                dropped++;
        }
        if (h) {
                size_t b = 0;
                while (b < N_BUCKETS && seconds > buckets[b])
                        b++;
                h->counts[b]++;
                h->sum += seconds;
                h->count++;
        }
        pthread_mutex_unlock(&lock);
}

void rp_metrics_attestation(const char *outcome, const char *reason) {
        pthread_mutex_lock(&lock);
        series *s = find_series(attestations, &n_attestations, SMALL_MAX, outcome, reason ? reason : "none", 0);
        if (s)
                s->count++;
        pthread_mutex_unlock(&lock);
}

void rp_metrics_certificate_issued(void) {
        pthread_mutex_lock(&lock);
        certificates++;
        pthread_mutex_unlock(&lock);
}

void rp_metrics_error(const char *kind) {
        pthread_mutex_lock(&lock);
        series *s = find_series(errors, &n_errors, SMALL_MAX, kind, NULL, 0);
        if (s)
                s->count++;
        pthread_mutex_unlock(&lock);
}

void rp_metrics_connections_add(int delta) {
        pthread_mutex_lock(&lock);
        connections += delta;
        pthread_mutex_unlock(&lock);
}

/* A label value in the exposition format: '\\', '"' and newlines escaped. */
static void put_label(FILE *f, const char *v) {
        for (; *v; v++) {
                if (*v == '\\' || *v == '"')
                        fprintf(f, "\\%c", *v);
                else if (*v == '\n')
                        fputs("\\n", f);
                else
                        fputc(*v, f);
        }
}

static void put_labels(FILE *f, const char *k1, const char *v1, const char *k2, const char *v2) {
        fprintf(f, "{%s=\"", k1);
        put_label(f, v1);
        if (k2) {
                fprintf(f, "\",%s=\"", k2);
                put_label(f, v2);
        }
        fputs("\"", f);
}

char *rp_metrics_render(void) {
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        if (!f)
                return NULL;
        pthread_mutex_lock(&lock);

        fputs("# HELP rampart_build_info The running rampart-server's version.\n"
              "# TYPE rampart_build_info gauge\n", f);
        fprintf(f, "rampart_build_info{version=\"%s\"} 1\n", RAMPART_VERSION);

        fputs("# HELP rampart_http_requests_total HTTP requests answered, by route pattern, method and status.\n"
              "# TYPE rampart_http_requests_total counter\n", f);
        for (size_t i = 0; i < n_requests; i++) {
                fputs("rampart_http_requests_total", f);
                put_labels(f, "route", requests[i].a, "method", requests[i].b);
                fprintf(f, ",status=\"%d\"} %llu\n", requests[i].status, (unsigned long long) requests[i].count);
        }

        fputs("# HELP rampart_http_request_duration_seconds Time from a complete request to its answer.\n"
              "# TYPE rampart_http_request_duration_seconds histogram\n", f);
        for (size_t i = 0; i < n_durations; i++) {
                const histogram *h = &durations[i];
                uint64_t cum = 0;
                for (size_t b = 0; b <= N_BUCKETS; b++) {
                        cum += h->counts[b];
                        fputs("rampart_http_request_duration_seconds_bucket", f);
                        put_labels(f, "route", h->route, "method", h->method);
                        if (b < N_BUCKETS)
                                fprintf(f, ",le=\"%g\"} %llu\n", buckets[b], (unsigned long long) cum);
                        else
                                fprintf(f, ",le=\"+Inf\"} %llu\n", (unsigned long long) cum);
                }
                fputs("rampart_http_request_duration_seconds_sum", f);
                put_labels(f, "route", h->route, "method", h->method);
                fprintf(f, "} %.6f\n", h->sum);
                fputs("rampart_http_request_duration_seconds_count", f);
                put_labels(f, "route", h->route, "method", h->method);
                fprintf(f, "} %llu\n", (unsigned long long) h->count);
        }

        fputs("# HELP rampart_attestations_total Attestations, by outcome and refusal reason.\n"
              "# TYPE rampart_attestations_total counter\n", f);
        for (size_t i = 0; i < n_attestations; i++) {
                fputs("rampart_attestations_total", f);
                put_labels(f, "outcome", attestations[i].a, "reason", attestations[i].b);
                fprintf(f, "} %llu\n", (unsigned long long) attestations[i].count);
        }

        fputs("# HELP rampart_certificates_issued_total Device certificates issued.\n"
              "# TYPE rampart_certificates_issued_total counter\n", f);
        fprintf(f, "rampart_certificates_issued_total %llu\n", (unsigned long long) certificates);

        fputs("# HELP rampart_errors_total The server's own errors, by kind.\n"
              "# TYPE rampart_errors_total counter\n", f);
        for (size_t i = 0; i < n_errors; i++) {
                fputs("rampart_errors_total", f);
                put_labels(f, "kind", errors[i].a, NULL, NULL);
                fprintf(f, "} %llu\n", (unsigned long long) errors[i].count);
        }

        fputs("# HELP rampart_http_connections Open client connections.\n"
              "# TYPE rampart_http_connections gauge\n", f);
        fprintf(f, "rampart_http_connections %lld\n", (long long) connections);

        fputs("# HELP rampart_metrics_dropped_total Samples not recorded because a metrics table was full.\n"
              "# TYPE rampart_metrics_dropped_total counter\n", f);
        fprintf(f, "rampart_metrics_dropped_total %llu\n", (unsigned long long) dropped);

        pthread_mutex_unlock(&lock);
        bool failed = ferror(f) != 0;
        if (fclose(f) != 0 || failed) {
                free(text);
                return NULL;
        }
        return text;
}
