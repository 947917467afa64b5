/* SPDX-License-Identifier: Apache-2.0 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "swtpm.h"
#include "testlib.h"

#define MAX_RUNNING 16
#define START_ATTEMPTS 5
#define START_WAIT_MS 20000   /* a bound on a hung start, not a timing check */

static pid_t running[MAX_RUNNING];
static pid_t owner;   /* the process that started them (forked children must not kill them) */

static void kill_all(void) {
        if (getpid() != owner)
                return;
        for (size_t i = 0; i < MAX_RUNNING; i++)
                if (running[i] > 0) {
                        kill(running[i], SIGKILL);
                        waitpid(running[i], NULL, 0);
                        running[i] = 0;
                }
}

static void track(pid_t pid, pid_t old) {
        static bool registered;
        if (!registered) {
                owner = getpid();
                atexit(kill_all);
                registered = true;
        }
        for (size_t i = 0; i < MAX_RUNNING; i++)
                if (running[i] == old) {
                        running[i] = pid;
                        return;
                }
        fail_msg("swtpm: more than %d running at once", MAX_RUNNING);
}

bool test_swtpm_available(void) {
        const char *path = getenv("PATH");
        if (!path)
                return false;
        char *copy = strdup(path), *save = NULL;
        bool found = false;
        for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
                char *p = test_path(dir, "swtpm");
                found = access(p, X_OK) == 0;
                free(p);
        }
        free(copy);
        return found;
}

void test_swtpm_require(void) {
        if (test_swtpm_available())
                return;
        printf("SKIP: swtpm not installed: scripts/install-deps installs it\n");
        exit(77);
}

static int bind_local(int port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                fail_msg("socket: %s", strerror(errno));
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        if (bind(fd, (struct sockaddr *) &a, sizeof a) < 0) {
                close(fd);
                return -1;
        }
        return fd;
}

/* A port P with P and P + 1 free just now (swtpm's TCTI wants the control
 * channel at P + 1). Another process may take them before swtpm binds them:
 * test_swtpm_start then sees swtpm exit and tries other ports. */
static int free_port_pair(void) {
        for (int attempt = 0; attempt < 100; attempt++) {
                int a = bind_local(0);
                if (a < 0)
                        fail_msg("cannot bind a local TCP port: %s", strerror(errno));
                struct sockaddr_in sa;
                socklen_t len = sizeof sa;
                if (getsockname(a, (struct sockaddr *) &sa, &len) < 0)
                        fail_msg("getsockname: %s", strerror(errno));
                int port = ntohs(sa.sin_port);
                int b = port < 65535 ? bind_local(port + 1) : -1;
                close(a);
                if (b >= 0) {
                        close(b);
                        return port;
                }
        }
        fail_msg("no two consecutive free local TCP ports");
        return -1;
}

static bool accepts(int port) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return false;
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t) port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        bool ok = connect(fd, (struct sockaddr *) &a, sizeof a) == 0;
        close(fd);
        return ok;
}

static pid_t spawn(const char *state_dir, int port) {
        char server[64], ctrl[64], state[4200];
        snprintf(server, sizeof server, "type=tcp,port=%d", port);
        snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d", port + 1);
        snprintf(state, sizeof state, "dir=%s", state_dir);
        pid_t parent = getpid();
        pid_t pid = fork();
        if (pid < 0)
                fail_msg("fork: %s", strerror(errno));
        if (pid == 0) {
                /* Dies with the test, even when the test is killed. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(127);
                execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl, "--tpmstate",
                       state, "--flags", "not-need-init,startup-clear", (char *) NULL);
                fprintf(stderr, "swtpm: cannot run: %s\n", strerror(errno));
                _exit(127);
        }
        return pid;
}

/* Waits until swtpm accepts on both ports (true) or exits (false). */
static bool wait_ready(pid_t pid, int port) {
        const struct timespec tick = { .tv_nsec = 10 * 1000 * 1000 };
        for (int ms = 0; ms < START_WAIT_MS; ms += 10) {
                int status;
                if (waitpid(pid, &status, WNOHANG) == pid)
                        return false;
                if (accepts(port) && accepts(port + 1))
                        return true;
                nanosleep(&tick, NULL);
        }
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        fail_msg("swtpm (pid %d) did not accept connections on port %d", (int) pid, port);
        return false;
}

void test_swtpm_start(test_swtpm *t, const char *state_dir) {
        if (mkdir(state_dir, 0700) < 0 && errno != EEXIST)
                fail_msg("cannot create %s: %s", state_dir, strerror(errno));
        for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
                int port = free_port_pair();
                pid_t pid = spawn(state_dir, port);
                track(pid, 0);
                if (wait_ready(pid, port)) {
                        t->pid = pid;
                        t->port = port;
                        snprintf(t->tcti, sizeof t->tcti, "swtpm:host=127.0.0.1,port=%d", port);
                        return;
                }
                track(0, pid);   /* it exited (a port was taken meanwhile?): try others */
        }
        fail_msg("swtpm did not start in %d attempts (state %s)", START_ATTEMPTS, state_dir);
}

void test_swtpm_stop(test_swtpm *t) {
        if (t->pid <= 0)
                return;
        kill(t->pid, SIGTERM);
        waitpid(t->pid, NULL, 0);
        track(0, t->pid);
        t->pid = 0;
}
