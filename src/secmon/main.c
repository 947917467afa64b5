/* SPDX-License-Identifier: Apache-2.0 */
/* rampart-secmon: start-up, serving and shutdown, in the order they happen.
 * secmon.h says which file does what. */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "core/macro.h"
#include "core/strutil.h"
#include "secmon.h"

#ifndef RAMPART_VERSION
#define RAMPART_VERSION "0.1.0"
#endif

/* Tells systemd (Type=notify) that secmon listens, if it asked. */
static void notify_ready(void) {
        const char *path = getenv("NOTIFY_SOCKET");
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        size_t n = path ? strlen(path) : 0;
        if (n == 0 || n >= sizeof sa.sun_path || (path[0] != '/' && path[0] != '@'))
                return;
        memcpy(sa.sun_path, path, n);
        if (path[0] == '@')
                sa.sun_path[0] = '\0';   /* an abstract socket */
        _cleanup_close_ int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || sendto(fd, "READY=1", 7, MSG_NOSIGNAL, (struct sockaddr *) &sa,
                             (socklen_t) (offsetof(struct sockaddr_un, sun_path) + n)) < 0)
                secmon_log("event=notify-failed socket=%s errno=%d", path, errno);
}

static int fail(const rp_error *err, int r) {
        char q[SECMON_QUOTE_MAX];
        secmon_log("event=fail reason=%s", secmon_quote(rp_error_message(err, r), q, sizeof q));
        return 1;
}

static void log_start(const secmon_config *cfg, const secmon_device *dev) {
        const rp_rot_backend *b = dev->rot->backend;
        char m[2 * RP_ROT_MEASUREMENT_LEN + 1], qd[SECMON_QUOTE_MAX], qc[SECMON_QUOTE_MAX];
        rp_hex_encode_buf(dev->measurement->value, RP_ROT_MEASUREMENT_LEN, m);
        secmon_log("event=start version=%s state_dir=%s config=%s backend=%s development=%s device_id=%s "
                   "measurement=%s components=%zu", RAMPART_VERSION, secmon_quote(cfg->state_dir, qd, sizeof qd),
                   cfg->config_read ? secmon_quote(cfg->config_path, qc, sizeof qc) : "none", b->name,
                   b->development ? "yes" : "no", dev->device_id, m, cfg->s.n_measure);
        if (b->development)
                secmon_log("event=warning development=yes reason=\"DEVELOPMENT BACKEND '%s': the device secret is "
                           "a file in the state directory; anyone who can read it can be this device. For "
                           "development and CI only, NEVER for the field.\"", b->name);
}

int main(int argc, char **argv) {
        _cleanup_(secmon_config_free) secmon_config cfg = {};
        int x = secmon_config_load(argc, argv, &cfg);
        if (x >= 0)
                return x;

        /* SIGTERM and SIGINT are read from the loop's poll(), between
         * requests, never in the middle of one. */
        sigset_t mask;
        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        signal(SIGPIPE, SIG_IGN);
        rp_error err = {};
        _cleanup_close_ int sfd = -1;
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0 || (sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
                return fail(&err, rp_error_set_errno(&err, -errno, "signalfd"));

        _cleanup_(secmon_device_close) secmon_device dev = {};
        int r = secmon_device_open(&cfg, &dev, &err);
        if (r < 0)
                return fail(&err, r);
        log_start(&cfg, &dev);

        _cleanup_close_ int lfd = secmon_listen(cfg.socket_path, &err);
        struct stat st;
        if (lfd < 0)
                return fail(&err, lfd);
        if (stat(cfg.socket_path, &st) < 0)
                return fail(&err, rp_error_set_errno(&err, -errno, "%s", cfg.socket_path));
        char q[SECMON_QUOTE_MAX];
        secmon_log("event=ready socket=%s pid=%d", secmon_quote(cfg.socket_path, q, sizeof q), (int) getpid());
        notify_ready();

        r = secmon_serve(lfd, sfd, &cfg, &dev);

        /* Remove the socket if it is still ours. */
        struct stat now;
        if (stat(cfg.socket_path, &now) == 0 && now.st_ino == st.st_ino && now.st_dev == st.st_dev)
                unlink(cfg.socket_path);
        return r < 0 ? 1 : 0;
}
