/* SPDX-License-Identifier: Apache-2.0 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/macro.h"
#include "core/strutil.h"
#include "package/erofs.h"

/* mkfs.erofs's diagnostics kept for the error message (the tail). */
#define MKFS_OUTPUT_MAX 1024

static const char install_hint[] = "install erofs-utils (scripts/install-deps)";

static void closedirp(DIR **d) {
        if (*d)
                closedir(*d);
}

static bool is_executable_file(const char *path) {
        struct stat st;
        return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

int rp_erofs_find_mkfs(char **ret_path, rp_error *err) {
        const char *env = getenv(RP_EROFS_MKFS_ENV);
        if (env && *env) {
                if (!is_executable_file(env))
                        return rp_error_set(err, -ENOENT, "%s=%s is not an executable file; %s",
                                            RP_EROFS_MKFS_ENV, env, install_hint);
                char *p = strdup(env);
                if (!p)
                        return rp_error_set(err, -ENOMEM, "out of memory");
                *ret_path = p;
                return 0;
        }

        const char *path = getenv("PATH");
        if (!path)
                path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
        _cleanup_free_ char *copy = strdup(path);
        if (!copy)
                return rp_error_set(err, -ENOMEM, "out of memory");
        char *save = NULL;
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
                if (*d != '/')
                        continue;       /* never run a tool found through a relative PATH entry */
                _cleanup_free_ char *p = NULL;
                if (asprintf(&p, "%s/mkfs.erofs", d) < 0)
                        return rp_error_set(err, -ENOMEM, "out of memory");
                if (is_executable_file(p)) {
                        *ret_path = TAKE_PTR(p);
                        return 0;
                }
        }
        return rp_error_set(err, -ENOENT, "mkfs.erofs not found in PATH; %s", install_hint);
}

bool rp_erofs_has_magic(const uint8_t *buf, size_t len) {
        if (len < RP_EROFS_SUPER_OFFSET + 4)
                return false;
        const uint8_t *p = buf + RP_EROFS_SUPER_OFFSET;
        uint32_t magic = (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
        return magic == RP_EROFS_MAGIC;
}

/* Removes name (under dfd) and everything below it, making directories
 * writable first. Best effort: used for our own working directory. */
static void rm_rf_at(int dfd, const char *name, unsigned depth) {
        struct stat st;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return;
        if (!S_ISDIR(st.st_mode)) {
                (void) unlinkat(dfd, name, 0);
                return;
        }
        if (depth < RP_EROFS_MAX_DEPTH + 4) {
                int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (fd >= 0) {
                        (void) fchmod(fd, 0700);
                        _cleanup_(closedirp) DIR *d = fdopendir(fd);
                        if (!d)
                                close(fd);
                        else
                                for (struct dirent *de; (de = readdir(d)); ) {
                                        if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                                continue;
                                        rm_rf_at(dirfd(d), de->d_name, depth + 1);
                                }
                }
        }
        (void) unlinkat(dfd, name, AT_REMOVEDIR);
}

/* State of one copy of a tree into the working directory. */
typedef struct stage {
        const char *src;           /* the source directory, for messages */
        const rp_erofs_options *opts;
        uint64_t bytes;            /* file bytes copied so far */
        size_t entries;
        char **links;              /* relative paths of the symlinks made */
        size_t n_links;
        rp_error *err;
} stage;

static void stage_done(stage *s) {
        for (size_t i = 0; i < s->n_links; i++)
                free(s->links[i]);
        free(s->links);
        s->links = NULL;
        s->n_links = 0;
}

static char *join(const char *rel, const char *name) {
        char *p;
        if (asprintf(&p, "%s%s%s", rel, *rel ? "/" : "", name) < 0)
                return NULL;
        return p;
}

/* A symlink target may not be absolute, and reading it from the link's own
 * directory may never step above the tree's root. (The resolution through
 * other links is checked once the whole tree is copied.) */
static bool link_target_stays_inside(const char *rel_link, const char *target) {
        if (target[0] == '/' || target[0] == '\0')
                return false;
        long depth = 0;
        for (const char *p = rel_link; *p; p++)
                depth += *p == '/';     /* components of the link's directory */
        const char *p = target;
        while (*p) {
                size_t n = strcspn(p, "/");
                if (n == 2 && p[0] == '.' && p[1] == '.') {
                        if (--depth < 0)
                                return false;
                } else if (n > 0 && !(n == 1 && p[0] == '.'))
                        depth++;
                p += n;
                while (*p == '/')
                        p++;
        }
        return true;
}

static int copy_data(stage *s, int in, int out, const char *rel) {
        uint8_t buf[64 * 1024];
        for (;;) {
                ssize_t k = read(in, buf, sizeof buf);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return rp_error_set_errno(s->err, -errno, "%s/%s: read failed", s->src, rel);
                }
                if (k == 0)
                        return 0;
                s->bytes += (uint64_t) k;
                if (s->opts->max_size > 0 && s->bytes > s->opts->max_size)
                        return rp_error_set(s->err, -EFBIG,
                                            "%s: the files add up to more than the image limit of %ju bytes",
                                            s->src, (uintmax_t) s->opts->max_size);
                int r = rp_write_all(out, buf, (size_t) k);
                if (r < 0)
                        return rp_error_set_errno(s->err, r, "cannot copy %s/%s into the working directory",
                                                  s->src, rel);
        }
}

/* The root file must match what the caller wants placed there. (Only a
 * courtesy: the source's copy is never packed, the caller's bytes are.) */
static int check_root_file(stage *s, int src_dfd, const char *name, const struct stat *st) {
        if (!S_ISREG(st->st_mode))
                return rp_error_set(s->err, -EINVAL, "%s/%s: must be a regular file (it is added to the image)",
                                    s->src, name);
        bool same = (uint64_t) st->st_size == s->opts->root_file_len;
        if (same) {
                _cleanup_close_ int fd = rp_open_regular(src_dfd, name, O_NOFOLLOW, NULL, NULL);
                if (fd < 0)
                        return rp_error_set_errno(s->err, fd, "%s/%s: cannot open", s->src, name);
                _cleanup_free_ uint8_t *buf = malloc(s->opts->root_file_len + 1);
                if (!buf)
                        return rp_error_set(s->err, -ENOMEM, "out of memory");
                int r = rp_pread_all(fd, buf, s->opts->root_file_len, 0);
                if (r < 0 && r != -EBADMSG)
                        return rp_error_set_errno(s->err, r, "%s/%s: read failed", s->src, name);
                same = r == 0 && memcmp(buf, s->opts->root_file_data, s->opts->root_file_len) == 0;
        }
        if (!same)
                return rp_error_set(s->err, -EEXIST,
                                    "%s/%s differs from the %s being packed; remove it or make them the same",
                                    s->src, name, name);
        return 0;
}

static int copy_tree(stage *s, int src_dfd, int dst_dfd, const char *rel, unsigned depth);

/* Text from the tree for a message: printable ASCII as is, every other
 * byte (and the backslash) as \xNN, cut after SHOWN_MAX bytes with "...".
 * out holds ESCAPED_MAX bytes. */
#define SHOWN_MAX 64
#define ESCAPED_MAX (4 * SHOWN_MAX + 4)
static const char *escape(const char *text, size_t len, char out[ESCAPED_MAX]) {
        size_t o = 0;
        for (size_t i = 0; i < len && i < SHOWN_MAX; i++) {
                unsigned char c = (unsigned char) text[i];
                if (c >= 0x20 && c < 0x7f && c != '\\')
                        out[o++] = (char) c;
                else
                        o += (size_t) snprintf(out + o, ESCAPED_MAX - o, "\\x%02x", c);
        }
        if (len > SHOWN_MAX) {
                memcpy(out + o, "...", 3);
                o += 3;
        }
        out[o] = '\0';
        return out;
}

static int copy_dir(stage *s, int src_dfd, int dst_dfd, const char *name, const char *path, unsigned depth) {
        if (depth >= RP_EROFS_MAX_DEPTH)      /* depth 0: directories in the top one */
                return rp_error_set(s->err, -EFBIG, "%s/%s: directories nested more than %d deep",
                                    s->src, path, RP_EROFS_MAX_DEPTH);
        _cleanup_close_ int in = openat(src_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (in < 0)
                return rp_error_set_errno(s->err, -errno, "%s/%s: cannot open directory", s->src, path);
        if (mkdirat(dst_dfd, name, 0700) < 0)
                return rp_error_set_errno(s->err, -errno, "cannot create %s in the working directory", path);
        _cleanup_close_ int out = openat(dst_dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (out < 0)
                return rp_error_set_errno(s->err, -errno, "cannot open %s in the working directory", path);
        int r = copy_tree(s, in, out, path, depth + 1);
        if (r < 0)
                return r;
        if (fchmod(out, 0755) < 0)
                return rp_error_set_errno(s->err, -errno, "cannot set the mode of %s", path);
        return 0;
}

/* st is what fstatat saw; the file opened must still be that file. */
static int copy_file(stage *s, int src_dfd, int dst_dfd, const char *name, const char *path,
                     const struct stat *st) {
        if (st->st_mode & (S_ISUID | S_ISGID))
                return rp_error_set(s->err, -EINVAL,
                                    "%s/%s: set-user-ID and set-group-ID files are not allowed in an app image",
                                    s->src, path);
        /* Should the file be swapped for a link, a FIFO or another file
         * since fstatat, refuse it (without blocking). */
        struct stat st2;
        _cleanup_close_ int in = rp_open_regular(src_dfd, name, O_NOFOLLOW, &st2, NULL);
        if (in == -ELOOP || in == -EISDIR || in == -EINVAL ||
            (in >= 0 && (st2.st_ino != st->st_ino || st2.st_dev != st->st_dev)))
                return rp_error_set(s->err, -EBUSY, "%s/%s: changed while being read", s->src, path);
        if (in < 0)
                return rp_error_set_errno(s->err, in, "%s/%s: cannot open", s->src, path);
        _cleanup_close_ int out = openat(dst_dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return rp_error_set_errno(s->err, -errno, "cannot create %s in the working directory", path);
        int r = copy_data(s, in, out, path);
        if (r < 0)
                return r;
        /* Only the owner's execute bit is kept, as git does. */
        if (fchmod(out, st->st_mode & S_IXUSR ? 0755 : 0644) < 0)
                return rp_error_set_errno(s->err, -errno, "cannot set the mode of %s", path);
        return 0;
}

/* The link is copied as it is, its target checked (the resolution through
 * other links is checked once the tree is copied: s->links). Takes *path. */
static int copy_symlink(stage *s, int src_dfd, int dst_dfd, const char *name, char **path) {
        char target[RP_EROFS_LINK_TARGET_MAX + 2], shown[ESCAPED_MAX];
        ssize_t n = readlinkat(src_dfd, name, target, sizeof target - 1);
        if (n < 0)
                return rp_error_set_errno(s->err, -errno, "%s/%s: cannot read the symbolic link", s->src, *path);
        target[n] = '\0';
        if ((size_t) n > RP_EROFS_LINK_TARGET_MAX)
                return rp_error_set(s->err, -EFBIG, "%s/%s: symbolic link target '%s' is longer than the "
                                    "limit of %d bytes", s->src, *path, escape(target, (size_t) n, shown),
                                    RP_EROFS_LINK_TARGET_MAX);
        if (!rp_str_is_printable(target, (size_t) n))
                return rp_error_set(s->err, -EINVAL, "%s/%s: symbolic link target '%s' is not printable UTF-8",
                                    s->src, *path, escape(target, (size_t) n, shown));
        if (!link_target_stays_inside(*path, target))
                return rp_error_set(s->err, -EINVAL,
                                    "%s/%s: symbolic link to '%s' points outside the directory "
                                    "(only relative links that stay inside are allowed)",
                                    s->src, *path, target);
        if (symlinkat(target, dst_dfd, name) < 0)
                return rp_error_set_errno(s->err, -errno, "cannot create the link %s in the working directory",
                                          *path);
        char **l = realloc(s->links, (s->n_links + 1) * sizeof *l);
        if (!l)
                return rp_error_set(s->err, -ENOMEM, "out of memory");
        s->links = l;
        s->links[s->n_links++] = TAKE_PTR(*path);
        return 0;
}

static int refuse_special(stage *s, const char *path, const struct stat *st) {
        const char *what = S_ISFIFO(st->st_mode) ? "a FIFO" :
                           S_ISSOCK(st->st_mode) ? "a socket" :
                           S_ISCHR(st->st_mode) ? "a character device" :
                           S_ISBLK(st->st_mode) ? "a block device" : "a special file";
        return rp_error_set(s->err, -EINVAL,
                            "%s/%s: is %s; an app image holds only regular files, directories and symbolic links",
                            s->src, path, what);
}

/* Copies one entry of a directory (rel) after the checks every entry
 * passes: the count, a printable name. */
static int copy_entry(stage *s, int src_dfd, int dst_dfd, const char *rel, const char *name, unsigned depth) {
        _cleanup_free_ char *path = join(rel, name);
        if (!path)
                return rp_error_set(s->err, -ENOMEM, "out of memory");

        if (++s->entries > RP_EROFS_MAX_ENTRIES)
                return rp_error_set(s->err, -EFBIG, "%s: more than %d files, directories and links",
                                    s->src, RP_EROFS_MAX_ENTRIES);
        if (!rp_str_is_printable(name, strlen(name))) {
                char shown[ESCAPED_MAX];
                return rp_error_set(s->err, -EINVAL,
                                    "%s: a name in %s%s%s is not printable UTF-8 (control characters or invalid "
                                    "bytes): '%s'", s->src, *rel ? "'" : "the top directory", rel, *rel ? "'" : "",
                                    escape(name, strlen(name), shown));
        }

        struct stat st;
        if (fstatat(src_dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return rp_error_set_errno(s->err, -errno, "%s/%s: cannot stat", s->src, path);

        if (depth == 0 && s->opts->root_file_name && streq(name, s->opts->root_file_name))
                return check_root_file(s, src_dfd, name, &st);
        if (S_ISDIR(st.st_mode))
                return copy_dir(s, src_dfd, dst_dfd, name, path, depth);
        if (S_ISREG(st.st_mode))
                return copy_file(s, src_dfd, dst_dfd, name, path, &st);
        if (S_ISLNK(st.st_mode))
                return copy_symlink(s, src_dfd, dst_dfd, name, &path);
        return refuse_special(s, path, &st);
}

static int copy_tree(stage *s, int src_dfd, int dst_dfd, const char *rel, unsigned depth) {
        int fd = fcntl(src_dfd, F_DUPFD_CLOEXEC, 3);
        if (fd < 0)
                return rp_error_set_errno(s->err, -errno, "%s: cannot read directory", s->src);
        _cleanup_(closedirp) DIR *d = fdopendir(fd);
        if (!d) {
                close(fd);
                return rp_error_set_errno(s->err, -errno, "%s/%s: cannot read directory", s->src, rel);
        }
        for (;;) {
                errno = 0;
                struct dirent *de = readdir(d);
                if (!de) {
                        if (errno != 0)
                                return rp_error_set_errno(s->err, -errno, "%s/%s: cannot read directory", s->src, rel);
                        return 0;
                }
                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                        continue;
                int r = copy_entry(s, src_dfd, dst_dfd, rel, de->d_name, depth);
                if (r < 0)
                        return r;
        }
}

/* Every link, followed through the copied tree, must end at something that
 * exists inside it. root is the copy's canonical path. */
static int check_links(stage *s, const char *root) {
        size_t rl = strlen(root);
        for (size_t i = 0; i < s->n_links; i++) {
                _cleanup_free_ char *p = join(root, s->links[i]);
                if (!p)
                        return rp_error_set(s->err, -ENOMEM, "out of memory");
                _cleanup_free_ char *resolved = realpath(p, NULL);
                if (!resolved) {
                        if (errno == ENOMEM)
                                return rp_error_set(s->err, -ENOMEM, "out of memory");
                        return rp_error_set_errno(s->err, errno == ENOENT ? -ENOENT : -EINVAL,
                                                  "%s/%s: symbolic link does not resolve inside the directory",
                                                  s->src, s->links[i]);
                }
                if (strncmp(resolved, root, rl) != 0 || (resolved[rl] != '\0' && resolved[rl] != '/'))
                        return rp_error_set(s->err, -EINVAL,
                                            "%s/%s: symbolic link leads outside the directory through other links",
                                            s->src, s->links[i]);
        }
        return 0;
}

/* Starts mkfs.erofs on tree, writing image, with a fixed, minimal
 * environment (nothing from ours can change the output) and its stdout and
 * stderr on one pipe: *ret_rd. */
static int spawn_mkfs(const char *mkfs, const char *image, const char *tree, pid_t *ret_pid, int *ret_rd,
                      rp_error *err) {
        char *argv[] = {
                (char *) "mkfs.erofs",
                (char *) "-x", (char *) "-1",          /* no extended attributes */
                (char *) "-T", (char *) "0",           /* every timestamp, and the build time, 0 */
                (char *) "-U", (char *) "00000000-0000-0000-0000-000000000000",
                (char *) "--all-root",
                (char *) image,
                (char *) tree,
                NULL,
        };
        char *envp[] = { (char *) "LC_ALL=C", (char *) "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };

        int pipefd[2];
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return rp_error_set_errno(err, -errno, "cannot create a pipe");
        _cleanup_close_ int rd = pipefd[0], wr = pipefd[1];

        posix_spawn_file_actions_t fa;
        int r = posix_spawn_file_actions_init(&fa);
        if (r != 0)
                return rp_error_set_errno(err, -r, "cannot run %s", mkfs);
        r = posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, wr, STDOUT_FILENO);
        if (r == 0)
                r = posix_spawn_file_actions_adddup2(&fa, wr, STDERR_FILENO);
        pid_t pid = -1;
        if (r == 0)
                r = posix_spawn(&pid, mkfs, &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        if (r != 0) {
                if (r == ENOENT || r == EACCES || r == ENOEXEC)
                        return rp_error_set_errno(err, -ENOENT, "cannot run %s (%s)", mkfs, install_hint);
                return rp_error_set_errno(err, -r, "cannot run %s", mkfs);
        }
        *ret_pid = pid;
        *ret_rd = TAKE_FD(rd);
        return 0;
}

/* Reads rd to its end, keeping the last MKFS_OUTPUT_MAX bytes (errors come
 * last) in out, and sets *ret_len to how many; -errno if a read fails. */
static int read_tail(int rd, char out[MKFS_OUTPUT_MAX], size_t *ret_len) {
        size_t len = 0;
        for (;;) {
                char buf[MKFS_OUTPUT_MAX / 2];
                ssize_t k = read(rd, buf, sizeof buf);
                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0)
                        return -errno;
                if (k == 0) {
                        *ret_len = len;
                        return 0;
                }
                size_t n = (size_t) k;     /* < MKFS_OUTPUT_MAX */
                if (len + n > MKFS_OUTPUT_MAX) {
                        size_t drop = len + n - MKFS_OUTPUT_MAX;
                        memmove(out, out + drop, len - drop);
                        len -= drop;
                }
                memcpy(out + len, buf, n);
                len += n;
        }
}

/* out[0..len) on one line, line breaks as "; ", into msg (2*len+1 bytes). */
static void one_line(const char *out, size_t len, char *msg) {
        size_t m = 0;
        for (size_t i = 0; i < len; i++) {
                if (out[i] == '\n' || out[i] == '\r') {
                        if (m > 0 && msg[m - 1] != ' ') {
                                msg[m++] = ';';
                                msg[m++] = ' ';
                        }
                } else if (out[i] != '\0')
                        msg[m++] = out[i];
        }
        while (m > 0 && (msg[m - 1] == ' ' || msg[m - 1] == ';'))
                m--;
        msg[m] = '\0';
}

/* Runs mkfs.erofs; on failure the message says how it ended and carries the
 * tail of its output. */
static int run_mkfs(const char *mkfs, const char *image, const char *tree, rp_error *err) {
        pid_t pid = -1;
        _cleanup_close_ int rd = -1;
        int r = spawn_mkfs(mkfs, image, tree, &pid, &rd, err);
        if (r < 0)
                return r;
        char out[MKFS_OUTPUT_MAX];
        size_t len = 0;
        r = read_tail(rd, out, &len);
        if (r < 0) {
                /* Not reading on could leave mkfs blocked on a full pipe:
                 * stop it, then report. */
                (void) kill(pid, SIGKILL);
                while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
                        ;
                return rp_error_set_errno(err, r, "reading the output of %s failed", mkfs);
        }
        int status;
        while (waitpid(pid, &status, 0) < 0)
                if (errno != EINTR)
                        return rp_error_set_errno(err, -errno, "waiting for %s failed", mkfs);
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
                return 0;

        char msg[2 * MKFS_OUTPUT_MAX + 1];
        one_line(out, len, msg);
        if (WIFEXITED(status))
                return rp_error_set(err, -EIO, "%s failed (exit status %d)%s%s", mkfs, WEXITSTATUS(status),
                                    *msg ? ": " : "", msg);
        if (WIFSIGNALED(status))
                return rp_error_set(err, -EIO, "%s was killed by signal %d (%s)%s%s", mkfs, WTERMSIG(status),
                                    strsignal(WTERMSIG(status)), *msg ? ": " : "", msg);
        return rp_error_set(err, -EIO, "%s ended abnormally (wait status %#x)", mkfs, (unsigned) status);
}

static int write_root_file(const rp_erofs_options *opts, int dfd, rp_error *err) {
        _cleanup_close_ int fd = openat(dfd, opts->root_file_name,
                                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0)
                return rp_error_set_errno(err, -errno, "cannot create %s in the working directory",
                                          opts->root_file_name);
        int r = rp_write_all(fd, opts->root_file_data, opts->root_file_len);
        if (r < 0)
                return rp_error_set_errno(err, r, "cannot write %s in the working directory", opts->root_file_name);
        if (fchmod(fd, 0644) < 0)
                return rp_error_set_errno(err, -errno, "cannot set the mode of %s", opts->root_file_name);
        return 0;
}

/* Copies dir into work/root and builds work/image.erofs from it. */
static int build_in(const char *dir, const rp_erofs_options *opts, const char *mkfs,
                    const char *work, int *ret_fd, rp_error *err) {
        _cleanup_close_ int src = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (src < 0) {
                if (errno == ENOTDIR)
                        return rp_error_set(err, -ENOTDIR, "%s: not a directory", dir);
                return rp_error_set_errno(err, -errno, "%s: cannot open directory", dir);
        }
        _cleanup_close_ int wfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (wfd < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot open the working directory", work);
        if (mkdirat(wfd, "root", 0700) < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot create the working directory", work);
        _cleanup_close_ int dst = openat(wfd, "root", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (dst < 0)
                return rp_error_set_errno(err, -errno, "%s: cannot open the working directory", work);

        _cleanup_(stage_done) stage s = { .src = dir, .opts = opts, .err = err };
        int r = copy_tree(&s, src, dst, "", 0);
        if (r < 0)
                return r;
        if (opts->root_file_name) {
                r = write_root_file(opts, dst, err);
                if (r < 0)
                        return r;
        }
        if (fchmod(dst, 0755) < 0)
                return rp_error_set_errno(err, -errno, "cannot set the mode of the image root");

        _cleanup_free_ char *root = NULL, *image = NULL;
        if (asprintf(&root, "%s/root", work) < 0 || asprintf(&image, "%s/image.erofs", work) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        _cleanup_free_ char *canon = realpath(root, NULL);
        if (!canon)
                return rp_error_set_errno(err, -errno, "%s: cannot resolve", root);
        r = check_links(&s, canon);
        if (r < 0)
                return r;
        if (opts->check_copy) {
                r = opts->check_copy(dst, opts->check_copy_userdata, err);
                if (r < 0)
                        return r;
        }

        r = run_mkfs(mkfs, image, root, err);
        if (r < 0)
                return r;

        struct stat st;
        _cleanup_close_ int fd = rp_open_regular(AT_FDCWD, image, O_NOFOLLOW, &st, NULL);
        if (fd == -ENOENT)
                return rp_error_set(err, -EIO, "%s succeeded but did not leave an image", mkfs);
        if (fd < 0)
                return rp_error_set(err, -EIO, "%s succeeded but did not leave a readable image file (%s)",
                                    mkfs, strerror(-fd));
        if (opts->max_size > 0 && (uint64_t) st.st_size > opts->max_size)
                return rp_error_set(err, -EFBIG, "%s: the image is %jd bytes, more than the limit of %ju bytes",
                                    dir, (intmax_t) st.st_size, (uintmax_t) opts->max_size);
        uint8_t head[RP_EROFS_SUPER_OFFSET + 4];
        if (rp_pread_all(fd, head, sizeof head, 0) < 0 || !rp_erofs_has_magic(head, sizeof head))
                return rp_error_set(err, -EIO, "%s succeeded but wrote something that is not an erofs image "
                                    "(%jd bytes, no erofs superblock magic)", mkfs, (intmax_t) st.st_size);
        *ret_fd = TAKE_FD(fd);
        return 0;
}

int rp_erofs_build(const char *dir, const rp_erofs_options *opts, int *ret_fd, rp_error *err) {
        static const rp_erofs_options defaults = {};
        if (!opts)
                opts = &defaults;
        if (opts->root_file_name && (strchr(opts->root_file_name, '/') || !*opts->root_file_name))
                return rp_error_set(err, -EINVAL, "invalid image root file name");

        _cleanup_free_ char *mkfs = NULL;
        if (opts->mkfs_path) {
                if (!is_executable_file(opts->mkfs_path))
                        return rp_error_set(err, -ENOENT, "%s is not an executable file; %s",
                                            opts->mkfs_path, install_hint);
                mkfs = strdup(opts->mkfs_path);
                if (!mkfs)
                        return rp_error_set(err, -ENOMEM, "out of memory");
        } else {
                int r = rp_erofs_find_mkfs(&mkfs, err);
                if (r < 0)
                        return r;
        }

        const char *parent = opts->tmp_parent;
        if (!parent)
                parent = getenv("TMPDIR");
        if (!parent || !*parent)
                parent = "/tmp";
        _cleanup_free_ char *work = NULL;
        if (asprintf(&work, "%s/rampart-erofs.XXXXXX", parent) < 0)
                return rp_error_set(err, -ENOMEM, "out of memory");
        if (!mkdtemp(work))
                return rp_error_set_errno(err, -errno, "cannot create a working directory in %s", parent);

        int fd = -1;
        int r = build_in(dir, opts, mkfs, work, &fd, err);
        rm_rf_at(AT_FDCWD, work, 0);
        if (r < 0)
                return r;
        *ret_fd = fd;
        return 0;
}
