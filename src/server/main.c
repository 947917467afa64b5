/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-server: start-up, serving and shutdown, in the order they happen.
 *
 *   config.c     flags and the --config file
 *   tls.c        the server certificate (made at first start) and SSL_CTX
 *   worker.c     worker threads: event loops, connections and their limits
 *   http.c       one request: route, authenticate, handle, answer, log
 *   ratelimit.c  per-client request rate
 *   metrics.c    GET /metrics
 *   log.c        one structured line per event on stderr
 *   api/         the handlers (api.h); store/ the SQL backends (db.h) */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include "api/api.h"
#include "blob/blob.h"
#include "config.h"
#include "core/macro.h"
#include "log.h"
#include "ratelimit.h"
#include "tls.h"
#include "worker.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

#define LISTEN_BACKLOG 4096
#define RATELIMIT_CLIENTS 65536         /* client addresses the rate limit remembers */
#define FD_RESERVE 64                   /* descriptors beside connections: store, loops, logs */
#define UPLOAD_EXPIRY_INTERVAL 3600     /* seconds between clean-ups of abandoned uploads */

/* Tells systemd (Type=notify) what state the service is in, if it asked. */
static void notify(const char *state) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = path ? strlen(path) : 0;
        if (n == 0 || n >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
                return;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = '\0';  /* an abstract socket */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *) &sa,
                             (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                rp_log("event=notify-failed errno=%d", errno);
}

static int fail(const rp_error *err, int r) {
        char q[RP_LOG_QUOTE_MAX];
        rp_log("event=fail reason=%s", rp_log_quote(rp_error_message(err, r), q, sizeof q));
        return 1;
}

/* The data directory: made 0700 if missing. */
static int data_dir_ready(const char *dir, rp_error *err) {
        if (mkdir(dir, 0700) == 0)
                return 0;
        if (errno != EEXIST)
                return rp_error_set_errno(err, -errno, "%s: cannot create the data directory", dir);
        struct stat st;
        if (stat(dir, &st) < 0)
                return rp_error_set_errno(err, -errno, "%s", dir);
        if (!S_ISDIR(st.st_mode))
                return rp_error_set(err, -ENOTDIR, "%s: not a directory", dir);
        if (st.st_mode & 077) {
                char q[RP_LOG_QUOTE_MAX];
                rp_log("event=warning data_dir=%s mode=%03o reason=\"the data directory holds keys and the "
                       "operator token: it should be 0700\"", rp_log_value(dir, q, sizeof q), st.st_mode & 0777);
        }
        return 0;
}

/* Enough descriptors for every connection; lowers max_connections (and
 * says so) when the hard limit cannot be raised. */
static void raise_fd_limit(rp_server_config *cfg) {
        rlim_t want = (rlim_t) cfg->max_connections + FD_RESERVE + 8 * (rlim_t) cfg->workers;
        struct rlimit rl;
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
                return;
        struct rlimit up = { want, rl.rlim_max >= want ? rl.rlim_max : want };
        if (setrlimit(RLIMIT_NOFILE, &up) == 0)
                return;
        up = (struct rlimit) { rl.rlim_max, rl.rlim_max };
        (void) setrlimit(RLIMIT_NOFILE, &up);
        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        rlim_t reserve = FD_RESERVE + 8 * (rlim_t) cfg->workers;
        unsigned fit = rl.rlim_cur > reserve + 1 ? (unsigned) (rl.rlim_cur - reserve) : 1;
        if (fit < cfg->max_connections) {
                rp_log("event=warning max_connections=%u reason=\"the open-file limit is %llu and cannot be raised "
                       "to %llu: at most %u connections\"", fit, (unsigned long long) rl.rlim_cur,
                       (unsigned long long) want, fit);
                cfg->max_connections = fit;
        }
}

/* The listening socket, and the address it got (port 0: a free one). */
static int listen_on(const char *spec, char *ret_addr, size_t size, rp_error *err) {
        struct sockaddr_storage ss;
        socklen_t len;
        int r = rp_config_parse_listen(spec, &ss, &len, err);
        if (r < 0)
                return r;
        _cleanup_close_ int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        int one = 1;
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "listen %s: socket", spec);
        (void) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        /* Accepted sockets inherit it: a response written in two parts
         * (headers, then body) must not wait for the client's delayed ACK. */
        (void) setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if (ss.ss_family == AF_INET6)
                (void) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
        if (bind(fd, (struct sockaddr *) &ss, len) < 0)
                return rp_error_set_errno(err, -errno, "listen %s: bind", spec);
        if (listen(fd, LISTEN_BACKLOG) < 0)
                return rp_error_set_errno(err, -errno, "listen %s: listen", spec);
        len = sizeof ss;
        if (getsockname(fd, (struct sockaddr *) &ss, &len) < 0)
                return rp_error_set_errno(err, -errno, "listen %s: getsockname", spec);
        char host[INET6_ADDRSTRLEN] = "";
        if (ss.ss_family == AF_INET6) {
                inet_ntop(AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, host, sizeof host);
                snprintf(ret_addr, size, "[%s]:%u", host, ntohs(((struct sockaddr_in6 *) &ss)->sin6_port));
        } else {
                inet_ntop(AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, host, sizeof host);
                snprintf(ret_addr, size, "%s:%u", host, ntohs(((struct sockaddr_in *) &ss)->sin_port));
        }
        return TAKE_FD(fd);
}

static void log_start(const rp_server_config *cfg) {
        char qd[RP_LOG_QUOTE_MAX], ql[RP_LOG_QUOTE_MAX];
        rp_log("event=start version=%s pid=%d data_dir=%s listen=%s workers=%u tls=%s max_body=%zu "
               "max_header=%zu max_connections=%u rate=%g burst=%u idle_timeout=%u request_timeout=%u "
               "nonce_ttl=%u cert_lifetime=%u", RAMPART_VERSION, (int) getpid(),
               rp_log_value(cfg->data_dir, qd, sizeof qd), rp_log_value(cfg->listen, ql, sizeof ql), cfg->workers,
               cfg->tls12 ? "1.2,1.3" : "1.3", cfg->max_body, cfg->max_header, cfg->max_connections, cfg->rate,
               cfg->burst, cfg->idle_timeout, cfg->request_timeout, cfg->nonce_ttl, cfg->cert_lifetime);
}

/* The store: migrations at open, and the operator token at first start.
 * Returns the backend's name for the logs (never the URL: it may hold a
 * password). */
static int store_ready(const rp_server_config *cfg, const char **ret_backend, rp_error *err) {
        rp_db *db = NULL;
        int r = rp_db_open(cfg->store, &db, err);
        if (r < 0)
                return rp_error_prefix(err, r, "store: ");
        *ret_backend = rp_db_get_backend(db)->name;
        bool created = false;
        r = rp_api_bootstrap(db, cfg->data_dir, &created, err);
        rp_db_close(db);
        if (r < 0)
                return rp_error_prefix(err, r, "operator token: ");
        (void) created;         /* rp_api_bootstrap logs it (event=bootstrap) */
        return 0;
}

/* Drops abandoned uploads (rp_api_uploads_expire) on a connection of its
 * own. Runs in the main thread, which otherwise only waits for signals, so
 * no request waits for it. A failure is logged and tried again next time. */
static void expire_uploads(const rp_server_config *cfg, rp_blob_store *bs) {
        rp_error err = {};
        rp_db *db = NULL;
        size_t rows = 0, staged = 0;
        int r = rp_db_open(cfg->store, &db, &err);
        if (r >= 0)
                r = rp_api_uploads_expire(db, bs, (int64_t) time(NULL), &rows, &staged, &err);
        rp_db_close(db);
        char q[RP_LOG_QUOTE_MAX];
        if (r < 0)
                rp_log("event=uploads-expiry-failed reason=%s", rp_log_quote(rp_error_message(&err, r), q, sizeof q));
        else if (rows > 0 || staged > 0)
                rp_log("event=uploads-expired rows=%zu staged=%zu", rows, staged);
}

int main(int argc, char **argv) {
        _cleanup_(rp_config_free) rp_server_config cfg_storage = {};
        int code;
        if (rp_config_load(argc, argv, &cfg_storage, &code) == RP_CONFIG_EXIT)
                return code;

        /* SIGTERM and SIGINT wait for sigwait() below, in no other thread. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        signal(SIGPIPE, SIG_IGN);
        pthread_sigmask(SIG_BLOCK, &mask, NULL);

        rp_server srv = { .cfg = cfg_storage };
        cfg_storage = (rp_server_config) {};    /* srv.cfg owns the strings now */
        rp_server_config *cfg = &srv.cfg;
        log_start(cfg);
        rp_error err = {};
        int r = data_dir_ready(cfg->data_dir, &err);
        if (r < 0) {
                rp_config_free(cfg);
                return fail(&err, r);
        }

        rp_tls_info tls = {};
        r = rp_tls_setup(cfg, &srv.ssl_ctx, &tls, &err);
        if (r < 0) {
                rp_config_free(cfg);
                return fail(&err, rp_error_prefix(&err, r, "tls: "));
        }
        srv.tls_ca_path = tls.ca_path;
        char qc[RP_LOG_QUOTE_MAX];
        if (tls.created)
                rp_log("event=tls-created ca=%s reason=\"a new server CA and certificate: clients trust this CA\"",
                       rp_log_value(tls.ca_path, qc, sizeof qc));
        else if (tls.reissued)
                rp_log("event=tls-reissued ca=%s names=%zu reason=\"a new server certificate from the same CA\"",
                       rp_log_value(tls.ca_path, qc, sizeof qc), 3 + cfg->n_tls_names);

        const char *backend = NULL;
        rp_ratelimit *rl = NULL;
        rp_workers *workers = NULL;
        int lfd = -1;
        r = rp_blob_store_open(cfg->blob_store, &srv.blobs, &err);
        if (r >= 0)
                r = store_ready(cfg, &backend, &err);
        if (r >= 0) {
                expire_uploads(cfg, srv.blobs);
                raise_fd_limit(cfg);
                if (cfg->rate > 0 && !(rl = rp_ratelimit_new(cfg->rate, cfg->burst, RATELIMIT_CLIENTS)))
                        r = rp_error_set(&err, -ENOMEM, "out of memory");
        }
        char addr[INET6_ADDRSTRLEN + 16] = "";
        if (r >= 0 && (lfd = r = listen_on(cfg->listen, addr, sizeof addr, &err)) >= 0)
                r = rp_workers_start(&srv, rl, lfd, &workers, &err);
        if (lfd >= 0)
                close(lfd);     /* each worker has its own copy */
        if (r < 0) {
                rp_ratelimit_free(rl);
                rp_blob_store_close(srv.blobs);
                SSL_CTX_free(srv.ssl_ctx);
                rp_tls_info_free(&tls);
                rp_config_free(cfg);
                return fail(&err, r);
        }

        char token[4096], qd[RP_LOG_QUOTE_MAX], qt[RP_LOG_QUOTE_MAX], qb[RP_LOG_QUOTE_MAX];
        snprintf(token, sizeof token, "%s/admin.token", cfg->data_dir);
        rp_log("event=ready listen=%s data_dir=%s store=%s blob_store=%s tls_ca=%s admin_token=%s workers=%u", addr,
               rp_log_value(cfg->data_dir, qd, sizeof qd), backend, rp_log_value(cfg->blob_store, qb, sizeof qb),
               tls.ca_path ? rp_log_value(tls.ca_path, qc, sizeof qc) : "none",
               access(token, F_OK) == 0 ? rp_log_value(token, qt, sizeof qt) : "none", cfg->workers);
        notify("READY=1");

        /* Waits for SIGTERM or SIGINT, cleaning up uploads every hour. */
        int sig = 0;
        for (;;) {
                struct timespec interval = { UPLOAD_EXPIRY_INTERVAL, 0 };
                int s = sigtimedwait(&mask, NULL, &interval);
                if (s > 0) {
                        sig = s;
                        break;
                }
                if (s < 0 && errno == EAGAIN)
                        expire_uploads(cfg, srv.blobs);
        }
        rp_log("event=stopping signal=%s", sig == SIGTERM ? "TERM" : "INT");
        notify("STOPPING=1");
        rp_workers_stop(workers);
        rp_blob_store_close(srv.blobs);
        rp_ratelimit_free(rl);
        SSL_CTX_free(srv.ssl_ctx);
        rp_tls_info_free(&tls);
        rp_config_free(cfg);
        rp_log("event=stop signal=%s", sig == SIGTERM ? "TERM" : "INT");
        return 0;
}
