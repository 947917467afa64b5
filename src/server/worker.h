/* SPDX-License-Identifier: Apache-2.0 */
#pragma once

/* rampart-server's worker threads (worker.c): each has its own event loop,
 * evhttp server, store connection and copy of the one listening socket.
 * A worker accepts connections up to its share of --max-connections, then
 * stops accepting until some close; it gives each request a deadline
 * (--request-timeout) evhttp does not have. http.c turns each complete
 * request into an answer (rp_http_handle). */

#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/http.h>

#include "http.h"
#include "ratelimit.h"
#include "server.h"

typedef struct rp_worker rp_worker;
typedef struct rp_workers rp_workers;

/* Opens every worker's store connection and event loop, then starts the
 * threads, which accept on listen_fd (a listening, non-blocking socket; the
 * caller keeps and closes it). ratelimit may be NULL (no limit); it must
 * outlive the workers. */
int rp_workers_start(rp_server *srv, rp_ratelimit *ratelimit, int listen_fd, rp_workers **ret, rp_error *err);
/* Stops accepting, closes idle connections, lets requests under way finish
 * (up to request_timeout or 10 s, whichever is shorter, plus a second),
 * closes the rest, joins and frees the threads. */
void rp_workers_stop(rp_workers *ws);

/* For http.c, in the worker's own thread. */
rp_server *rp_worker_server(const rp_worker *w);
rp_db *rp_worker_db(const rp_worker *w);
rp_ratelimit *rp_worker_ratelimit(const rp_worker *w);
bool rp_worker_stopping(const rp_worker *w);
/* The request on evreq's connection was read whole: its deadline is over
 * (the next request's starts with its first byte). */
void rp_worker_request_read(struct evhttp_request *evreq);
/* evreq's answer is being streamed (on) or is done (off). While it is, the
 * connection has no request deadline and no read timeout, only a write
 * timeout of --idle-timeout (a client that stops reading is dropped, one
 * that keeps reading may take as long as it needs), and reads at most
 * --max-header bytes ahead (a next request waits). */
void rp_worker_streaming(struct evhttp_request *evreq, bool on);

/* evhttp's callback for every complete request (http.c); arg is the rp_worker. */
void rp_http_handle(struct evhttp_request *evreq, void *arg);
