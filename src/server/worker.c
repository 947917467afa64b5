/* SPDX-License-Identifier: Apache-2.0 */
/* Worker threads (worker.h).
 *
 * Connections: evhttp asks make_bev() for each accepted socket's
 * bufferevent; it is a TLS one whose SSL carries the connection's rp_conn
 * in its ex_data, so the rp_conn lives exactly as long as the connection
 * (OpenSSL frees it with the SSL, whoever closes the connection). That is
 * where connections are counted, and where a worker that reached its share
 * of --max-connections disables its listener (the kernel's backlog holds
 * new clients until it is enabled again).
 *
 * Deadlines: a request must arrive whole within --request-timeout, counted
 * from the accept (so the TLS handshake is included) for the first request
 * of a connection and from its first byte for later ones. evhttp's own
 * timeout is an inactivity timeout, which a client sending one byte a
 * second never meets. When the deadline passes, the socket is shut down;
 * evhttp sees the end of the stream and frees the connection. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/listener.h>

#include "core/macro.h"
#include "log.h"
#include "metrics.h"
#include "worker.h"

/* At shutdown, requests under way get their deadline, but at most this
 * many seconds (and one more), before their connections are closed. */
#define STOP_GRACE_MAX 10

typedef struct rp_conn rp_conn;

struct rp_conn {
        rp_worker *w;
        struct bufferevent *bev;
        struct event deadline;
        bool in_request;        /* the deadline runs: handshake or request under way */
        bool partial;           /* bytes of a request arrived, the request is not whole yet */
        bool streaming;         /* an answer is being streamed: no deadline, a write timeout */
        rp_conn *prev, *next;   /* the worker's connections */
};

struct rp_worker {
        rp_workers *pool;
        unsigned index;
        rp_db *db;
        struct event_base *base;
        struct evhttp *http;
        struct evconnlistener *listener;
        struct evhttp_bound_socket *bound;
        int stop_fd;                    /* eventfd: the main thread writes to stop */
        struct event *stop_ev, *grace_ev, *resume_ev;
        unsigned conns, share;          /* open connections; at most share */
        bool stopping, accept_paused, draining;
        rp_conn *conn_list;
        pthread_t thread;
        bool started;
};

struct rp_workers {
        rp_server *srv;
        rp_ratelimit *ratelimit;
        struct timeval request_timeout;
        unsigned n;
        rp_worker *w;
};

/* The SSL ex_data slot holding a connection's rp_conn. */
static int conn_index = -1;
static pthread_once_t conn_index_once = PTHREAD_ONCE_INIT;

rp_server *rp_worker_server(const rp_worker *w) {
        return w->pool->srv;
}

rp_db *rp_worker_db(const rp_worker *w) {
        return w->db;
}

rp_ratelimit *rp_worker_ratelimit(const rp_worker *w) {
        return w->pool->ratelimit;
}

bool rp_worker_stopping(const rp_worker *w) {
        return w->stopping;
}

/* Accepting again once below the share (not while stopping). */
static void update_accepting(rp_worker *w) {
        if (!w->listener || w->stopping)
                return;
        bool full = w->conns >= w->share;
        if (full && !w->accept_paused) {
                evconnlistener_disable(w->listener);
                w->accept_paused = true;
        } else if (!full && w->accept_paused && !evtimer_pending(w->resume_ev, NULL)) {
                evconnlistener_enable(w->listener);
                w->accept_paused = false;
        }
}

/* OpenSSL frees the connection's SSL: the connection is gone. */
static void conn_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl, void *argp) {
        rp_conn *c = ptr;
        if (!c)
                return;
        rp_worker *w = c->w;
        if (event_initialized(&c->deadline))
                event_del(&c->deadline);
        if (c->prev)
                c->prev->next = c->next;
        else
                w->conn_list = c->next;
        if (c->next)
                c->next->prev = c->prev;
        w->conns--;
        rp_metrics_connections_add(-1);
        free(c);
        update_accepting(w);
        if (w->stopping && w->conns == 0 && !w->draining)
                event_base_loopbreak(w->base);
}

static void make_conn_index(void) {
        conn_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, conn_free);
}

static void peer_name(int fd, char *out, size_t size) {
        struct sockaddr_storage ss = { 0 };
        socklen_t len = sizeof ss;
        char host[64] = "?";
        unsigned port = 0;
        if (fd >= 0 && getpeername(fd, (struct sockaddr *) &ss, &len) == 0) {
                if (ss.ss_family == AF_INET) {
                        inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, host, sizeof host);
                        port = ntohs(((struct sockaddr_in *) &ss)->sin_port);
                } else if (ss.ss_family == AF_INET6) {
                        inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, host, sizeof host);
                        port = ntohs(((struct sockaddr_in6 *) &ss)->sin6_port);
                }
        }
        snprintf(out, size, strchr(host, ':') ? "[%s]:%u" : "%s:%u", host, port);
}

/* The request took too long to arrive: end the connection. */
static void deadline_passed(evutil_socket_t unused, short what, void *arg) {
        rp_conn *c = arg;
        int fd = bufferevent_getfd(c->bev);
        char remote[80];
        peer_name(fd, remote, sizeof remote);
        rp_log("event=request-timeout remote=%s timeout=%u reason=\"a request did not arrive whole in time; "
               "connection closed\"", remote, c->w->pool->srv->cfg.request_timeout);
        rp_metrics_error("request_timeout");
        if (fd >= 0)
                (void) shutdown(fd, SHUT_RDWR);
}

/* Bytes arrived: the first ones of a request start its deadline. */
static void input_changed(struct evbuffer *buf, const struct evbuffer_cb_info *info, void *arg) {
        rp_conn *c = arg;
        if (info->n_added == 0)
                return;
        c->partial = true;
        if (c->in_request || c->streaming)
                return;
        c->in_request = true;
        event_add(&c->deadline, &c->w->pool->request_timeout);
}

static rp_conn *conn_of(struct evhttp_request *evreq);

void rp_worker_request_read(struct evhttp_request *evreq) {
        rp_conn *c = conn_of(evreq);
        if (!c)
                return;
        struct bufferevent *bev = c->bev;
        event_del(&c->deadline);
        c->in_request = c->partial = false;
        /* Pipelined bytes of the next request are already here. */
        if (evbuffer_get_length(bufferevent_get_input(bev)) > 0) {
                c->in_request = c->partial = true;
                event_add(&c->deadline, &c->w->pool->request_timeout);
        }
}

/* The rp_conn of evreq's connection, or NULL. */
static rp_conn *conn_of(struct evhttp_request *evreq) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(evreq);
        struct bufferevent *bev = evcon ? evhttp_connection_get_bufferevent(evcon) : NULL;
        SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
        return ssl ? SSL_get_ex_data(ssl, conn_index) : NULL;
}

void rp_worker_streaming(struct evhttp_request *evreq, bool on) {
        rp_conn *c = conn_of(evreq);
        if (!c || c->streaming == on)
                return;
        const rp_server_config *cfg = &c->w->pool->srv->cfg;
        struct timeval idle = { (time_t) cfg->idle_timeout, 0 };
        c->streaming = on;
        if (on) {
                event_del(&c->deadline);
                c->in_request = false;
                /* Progress is what counts: no read timeout (a download
                 * sends nothing), a write timeout for a client that stops
                 * reading; and what it sends meanwhile (the next request)
                 * waits, bounded, in the input buffer. */
                bufferevent_set_timeouts(c->bev, NULL, &idle);
                bufferevent_setwatermark(c->bev, EV_READ, 0, cfg->max_header);
                return;
        }
        bufferevent_set_timeouts(c->bev, &idle, &idle);
        bufferevent_setwatermark(c->bev, EV_READ, 0, 0);
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) > 0) {
                c->in_request = c->partial = true;
                event_add(&c->deadline, &c->w->pool->request_timeout);
        }
}

/* evhttp's bufferevent for a new connection: TLS, with its rp_conn. If
 * this fails (out of memory), NULL makes evhttp use a plain one, on which
 * rp_http_handle answers nothing but 503 and closes. */
static struct bufferevent *make_bev(struct event_base *base, void *arg) {
        rp_worker *w = arg;
        rp_conn *c = calloc(1, sizeof *c);
        SSL *ssl = c ? SSL_new(w->pool->srv->ssl_ctx) : NULL;
        if (!ssl || SSL_set_ex_data(ssl, conn_index, c) != 1) {
                SSL_free(ssl);
                free(c);
                rp_metrics_error("internal");
                rp_log("event=error reason=\"out of memory for a new connection\"");
                return NULL;
        }
        /* From here on the SSL owns c: conn_free() undoes what follows. */
        c->w = w;
        c->in_request = true;
        event_assign(&c->deadline, base, -1, 0, deadline_passed, c);
        if ((c->next = w->conn_list))
                c->next->prev = c;
        w->conn_list = c;
        w->conns++;
        rp_metrics_connections_add(1);
        update_accepting(w);

        struct bufferevent *bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                                                 BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
                rp_log("event=error reason=\"out of memory for a new connection\"");
                return NULL;    /* it freed ssl, and with it c */
        }
        c->bev = bev;
        bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
        event_add(&c->deadline, &w->pool->request_timeout);
        if (!evbuffer_add_cb(bufferevent_get_input(bev), input_changed, c))
                rp_log("event=error reason=\"out of memory: a connection's later requests have no deadline\"");
        return bev;
}

/* accept() failed (out of descriptors, most likely): pause a second rather
 * than spin on a listening socket that stays readable. */
static __thread rp_worker *current_worker;

static void accept_failed(struct evconnlistener *lev, void *arg) {
        rp_worker *w = current_worker;
        int e = errno;
        rp_log("event=accept-error worker=%u errno=%d reason=\"%s\"", w->index, e, strerror(e));
        rp_metrics_error("accept");
        evconnlistener_disable(lev);
        w->accept_paused = true;
        struct timeval one = { 1, 0 };
        event_add(w->resume_ev, &one);
}

static void resume_accepting(evutil_socket_t unused, short what, void *arg) {
        update_accepting(arg);
}

static void grace_over(evutil_socket_t unused, short what, void *arg) {
        rp_worker *w = arg;
        rp_log("event=stop-timeout worker=%u connections=%u reason=\"closing connections still open\"", w->index,
               w->conns);
        event_base_loopbreak(w->base);
}

/* In the worker: stop accepting; end idle connections at once and the
 * others once their request is answered (http.c then says Connection:
 * close), or at the end of the grace period. */
static void stop_requested(evutil_socket_t fd, short what, void *arg) {
        rp_worker *w = arg;
        uint64_t v;
        ssize_t n = read(fd, &v, sizeof v);
        (void) n;
        if (w->stopping)
                return;
        w->stopping = true;
        if (w->bound) {
                evhttp_del_accept_socket(w->http, w->bound);    /* frees the listener, closes its socket */
                w->bound = NULL;
                w->listener = NULL;
        }
        for (rp_conn *c = w->conn_list; c; c = c->next)
                if (!c->partial && c->bev)
                        (void) shutdown(bufferevent_getfd(c->bev), SHUT_RD);
        if (w->conns == 0) {
                event_base_loopbreak(w->base);
                return;
        }
        struct timeval grace = { (w->pool->request_timeout.tv_sec < STOP_GRACE_MAX ? w->pool->request_timeout.tv_sec
                                                                               : STOP_GRACE_MAX) + 1, 0 };
        event_add(w->grace_ev, &grace);
}

static void *worker_main(void *arg) {
        rp_worker *w = arg;
        current_worker = w;
        event_base_dispatch(w->base);
        /* Close what is left; the bufferevents' finalizers run in one more
         * pass of the loop (freeing each SSL, and so each rp_conn). */
        w->draining = true;
        evhttp_free(w->http);
        w->http = NULL;
        w->bound = NULL;
        w->listener = NULL;
        event_base_loop(w->base, EVLOOP_NONBLOCK);
        return NULL;
}

static void worker_free(rp_worker *w) {
        if (w->http)
                evhttp_free(w->http);
        if (w->base)
                event_base_loop(w->base, EVLOOP_NONBLOCK);
        if (w->stop_ev)
                event_free(w->stop_ev);
        if (w->grace_ev)
                event_free(w->grace_ev);
        if (w->resume_ev)
                event_free(w->resume_ev);
        if (w->base)
                event_base_free(w->base);
        if (w->stop_fd >= 0)
                close(w->stop_fd);
        rp_db_close(w->db);
}

static int worker_init(rp_worker *w, int listen_fd, rp_error *err) {
        const rp_server_config *cfg = &w->pool->srv->cfg;
        int r = rp_db_open(cfg->store, &w->db, err);
        if (r < 0)
                return rp_error_prefix(err, r, "worker %u: ", w->index);

        /* One thread per loop: libevent needs no locks. */
        struct event_config *ec = event_config_new();
        if (ec)
                event_config_set_flag(ec, EVENT_BASE_FLAG_NOLOCK);
        w->base = ec ? event_base_new_with_config(ec) : NULL;
        event_config_free(ec);
        if (!w->base || !(w->http = evhttp_new(w->base)))
                return rp_error_set(err, -ENOMEM, "worker %u: cannot make an event loop", w->index);
        w->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
        if (w->stop_fd < 0)
                return rp_error_set_errno(err, -errno, "worker %u: eventfd", w->index);
        w->stop_ev = event_new(w->base, w->stop_fd, EV_READ | EV_PERSIST, stop_requested, w);
        w->grace_ev = evtimer_new(w->base, grace_over, w);
        w->resume_ev = evtimer_new(w->base, resume_accepting, w);
        if (!w->stop_ev || !w->grace_ev || !w->resume_ev || event_add(w->stop_ev, NULL) < 0)
                return rp_error_set(err, -ENOMEM, "worker %u: out of memory", w->index);

        evhttp_set_gencb(w->http, rp_http_handle, w);
        evhttp_set_bevcb(w->http, make_bev, w);
        evhttp_set_timeout(w->http, (int) cfg->idle_timeout);
        evhttp_set_max_body_size(w->http, (ev_ssize_t) cfg->max_body);
        evhttp_set_max_headers_size(w->http, (ev_ssize_t) cfg->max_header);
        /* Every method evhttp knows reaches http.c, which answers 405 for
         * the ones no route has. */
        evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
                                            EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
                                            EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);

        int fd = fcntl(listen_fd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "worker %u: cannot duplicate the listening socket", w->index);
        /* Backlog 0: the socket listens already (libevent would call
         * listen() again with its default of 128 for -1). */
        w->listener = evconnlistener_new(w->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
        if (!w->listener) {
                close(fd);
                return rp_error_set(err, -ENOMEM, "worker %u: cannot listen", w->index);
        }
        w->bound = evhttp_bind_listener(w->http, w->listener);
        if (!w->bound) {
                evconnlistener_free(w->listener);
                w->listener = NULL;
                return rp_error_set(err, -ENOMEM, "worker %u: cannot listen", w->index);
        }
        evconnlistener_set_error_cb(w->listener, accept_failed);
        return 0;
}

static void workers_free(rp_workers *ws) {
        if (!ws)
                return;
        for (unsigned i = 0; i < ws->n; i++)
                worker_free(&ws->w[i]);
        free(ws->w);
        free(ws);
}

int rp_workers_start(rp_server *srv, rp_ratelimit *ratelimit, int listen_fd, rp_workers **ret, rp_error *err) {
        pthread_once(&conn_index_once, make_conn_index);
        if (conn_index < 0)
                return rp_error_set(err, -ENOMEM, "cannot register the connection data with OpenSSL");
        const rp_server_config *cfg = &srv->cfg;
        rp_workers *ws = calloc(1, sizeof *ws);
        if (!ws || !(ws->w = calloc(cfg->workers, sizeof *ws->w))) {
                free(ws);
                return rp_error_set(err, -ENOMEM, "out of memory");
        }
        ws->srv = srv;
        ws->ratelimit = ratelimit;
        ws->request_timeout = (struct timeval) { (time_t) cfg->request_timeout, 0 };
        unsigned share = (cfg->max_connections + cfg->workers - 1) / cfg->workers;
        for (unsigned i = 0; i < cfg->workers; i++) {
                rp_worker *w = &ws->w[ws->n++];
                *w = (rp_worker) { .pool = ws, .index = i, .stop_fd = -1, .share = share ? share : 1 };
                int r = worker_init(w, listen_fd, err);
                if (r < 0) {
                        workers_free(ws);
                        return r;
                }
        }
        for (unsigned i = 0; i < ws->n; i++) {
                int r = -pthread_create(&ws->w[i].thread, NULL, worker_main, &ws->w[i]);
                if (r < 0) {
                        rp_error_set_errno(err, r, "cannot start worker thread %u", i);
                        rp_workers_stop(ws);
                        return r;
                }
                ws->w[i].started = true;
        }
        *ret = ws;
        return 0;
}

void rp_workers_stop(rp_workers *ws) {
        if (!ws)
                return;
        for (unsigned i = 0; i < ws->n; i++) {
                uint64_t one = 1;
                if (ws->w[i].started && write(ws->w[i].stop_fd, &one, sizeof one) != sizeof one)
                        rp_log("event=error reason=\"cannot tell worker %u to stop: %s\"", i, strerror(errno));
        }
        for (unsigned i = 0; i < ws->n; i++)
                if (ws->w[i].started)
                        pthread_join(ws->w[i].thread, NULL);
        workers_free(ws);
}
