/* SPDX-License-Identifier: Apache-2.0 */
/* The socket and its loop: one thread, one poll(), nothing blocks. Limits:
 * MAX_CLIENTS connections (when full, the least recently active one makes
 * room, so idle connections cannot lock a new client out); one request read
 * per connection per round, so none can starve the others; idle_timeout
 * seconds without a request close a connection; a response that cannot be sent at
 * once (the client does not read) closes it too. */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "core/macro.h"
#include "secmon.h"

#define MAX_CLIENTS 64
#define ACCEPT_PER_ROUND 16             /* < MAX_CLIENTS: a new client is served before it can be evicted */
#define BACKLOG 128

typedef struct client {
        int fd;                         /* -1: a free slot */
        struct ucred cred;
        uint64_t active;                /* when it last did something, in events: the least is evicted */
        uint64_t deadline;              /* ms, CLOCK_MONOTONIC */
} client;

static uint64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t) ts.tv_sec * 1000 + (uint64_t) ts.tv_nsec / 1000000;
}

int secmon_listen(const char *path, rp_error *err) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        if (strlen(path) >= sizeof sa.sun_path)
                return rp_error_set(err, -ENAMETOOLONG, "%s: a socket path has at most %zu bytes", path,
                                    sizeof sa.sun_path - 1);
        strcpy(sa.sun_path, path);
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "%s: socket", path);

        /* A socket file nobody answers on is left from a secmon that died:
         * replace it. One that answers belongs to a running secmon. */
        _cleanup_close_ int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
        struct stat st;
        if (probe >= 0 && connect(probe, (struct sockaddr *) &sa, sizeof sa) == 0)
                return rp_error_set(err, -EADDRINUSE, "%s: another rampart-secmon is listening there", path);
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && unlink(path) < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot remove the stale socket", path);

        if (bind(fd, (struct sockaddr *) &sa, sizeof sa) < 0)
                return rp_error_set_errno(err, -errno, "%s: bind", path);
        /* Anyone may connect: the uid allow-list, per request, is the check. */
        if (chmod(path, 0666) < 0 || listen(fd, BACKLOG) < 0) {
                int r = rp_error_set_errno(err, -errno, "%s: listen", path);
                unlink(path);
                return r;
        }
        return TAKE_FD(fd);
}

static void close_client(client *c, const char *why) {
        if (why)
                secmon_log("event=close uid=%u pid=%d reason=\"%s\"", (unsigned) c->cred.uid, (int) c->cred.pid,
                           why);
        close(c->fd);
        c->fd = -1;
}

/* Reads one datagram from c and answers it. */
static void serve_client(client *c, short revents, const secmon_config *cfg, secmon_device *dev,
                         uint64_t *events) {
        static uint8_t buf[RP_SECMON_REQUEST_MAX];
        struct iovec iov = { buf, sizeof buf };
        struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
        /* MSG_TRUNC: the datagram's real length, also when it did not fit. */
        ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_TRUNC | MSG_CMSG_CLOEXEC);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        /* 0 bytes: the peer hung up, unless it sent an empty datagram. */
        if (n < 0 || (n == 0 && (revents & POLLHUP))) {
                close_client(c, NULL);
                return;
        }
        size_t got = (size_t) n < sizeof buf ? (size_t) n : sizeof buf;
        _cleanup_free_ uint8_t *resp = NULL;
        size_t len = 0;
        int r = secmon_handle(cfg, dev, &c->cred, buf, got, (size_t) n, &resp, &len);
        explicit_bzero(buf, got);
        if (r < 0) {
                close_client(c, "out of memory");
                return;
        }
        ssize_t k = send(c->fd, resp, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        int e = errno;
        explicit_bzero(resp, len);
        if (k < 0) {
                close_client(c, e == EAGAIN ? "it does not read its responses" : "send failed");
                return;
        }
        c->active = ++*events;
        c->deadline = now_ms() + 1000ull * cfg->idle_timeout;
}

/* Takes up to ACCEPT_PER_ROUND waiting connections. */
static void accept_clients(int listen_fd, client *clients, uint64_t *events, unsigned idle_timeout) {
        for (int i = 0; i < ACCEPT_PER_ROUND; i++) {
                int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) {
                        if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                                secmon_log("event=accept-failed errno=%d", errno);
                        return;
                }
                struct ucred cred;
                socklen_t l = sizeof cred;
                if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &l) < 0) {
                        close(fd);
                        continue;
                }
                client *slot = &clients[0];
                for (size_t j = 0; j < MAX_CLIENTS && slot->fd >= 0; j++)
                        if (clients[j].fd < 0 || clients[j].active < slot->active)
                                slot = &clients[j];
                if (slot->fd >= 0)
                        close_client(slot, "evicted: the least recently active, to make room");
                *slot = (client) { fd, cred, ++*events, now_ms() + 1000ull * idle_timeout };
        }
}

int secmon_serve(int listen_fd, int signal_fd, const secmon_config *cfg, secmon_device *dev) {
        client clients[MAX_CLIENTS];
        struct pollfd p[2 + MAX_CLIENTS];
        uint64_t events = 0;
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                clients[i].fd = -1;

        for (;;) {
                uint64_t now = now_ms(), next = UINT64_MAX;
                p[0] = (struct pollfd) { .fd = signal_fd, .events = POLLIN };
                p[1] = (struct pollfd) { .fd = listen_fd, .events = POLLIN };
                for (size_t i = 0; i < MAX_CLIENTS; i++) {
                        p[2 + i] = (struct pollfd) { .fd = clients[i].fd, .events = POLLIN };
                        if (clients[i].fd >= 0 && clients[i].deadline < next)
                                next = clients[i].deadline;
                }
                int timeout = next == UINT64_MAX ? -1 : next <= now ? 0 : (int) (next - now);
                if (poll(p, ELEMENTSOF(p), timeout) < 0) {
                        if (errno == EINTR)
                                continue;
                        secmon_log("event=fail reason=\"poll: errno %d\"", errno);
                        return -errno;
                }
                if (p[0].revents) {
                        struct signalfd_siginfo si = {};
                        ssize_t k = read(signal_fd, &si, sizeof si);
                        secmon_log("event=stop signal=%s", k == sizeof si && si.ssi_signo == SIGINT ? "INT" : "TERM");
                        break;
                }
                for (size_t i = 0; i < MAX_CLIENTS; i++)
                        if (clients[i].fd >= 0 && p[2 + i].revents)
                                serve_client(&clients[i], p[2 + i].revents, cfg, dev, &events);
                now = now_ms();
                for (size_t i = 0; i < MAX_CLIENTS; i++)
                        if (clients[i].fd >= 0 && clients[i].deadline <= now)
                                close_client(&clients[i], "idle");
                if (p[1].revents & POLLIN)
                        accept_clients(listen_fd, clients, &events, cfg->idle_timeout);
        }
        for (size_t i = 0; i < MAX_CLIENTS; i++)
                if (clients[i].fd >= 0)
                        close_client(&clients[i], NULL);
        return 0;
}
