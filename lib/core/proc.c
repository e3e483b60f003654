/*
 * proc.c - spawning a program without a shell (posix_spawnp) and capturing its output (proc.h).
 */
#include "core/proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mem.h"

extern char **environ;

#define MAX_ERRTEXT 4096

void sk_proc_argv_free(char **argv)
{
    size_t i;

    for (i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

int sk_proc_split(const char *cmd, const char *what, char ***out, struct sk_err *err)
{
    char **argv = NULL;
    size_t argc = 0;
    struct sk_buf w = SK_BUF_INIT;
    int inword = 0;
    const char *s = cmd;

    for (;;) {
        char c = *s;

        if (!c || c == ' ' || c == '\t' || c == '\n' || c == '\r') {
            if (inword) {
                argv = xrealloc(argv, (argc + 2) * sizeof(*argv));
                argv[argc++] = sk_buf_detach(&w, NULL);
                argv[argc] = NULL;
                inword = 0;
            }
            if (!c)
                break;
            s++;
            continue;
        }
        inword = 1;
        if (c == '\'') {
            const char *e = strchr(s + 1, '\'');
            if (!e)
                goto unbalanced;
            sk_buf_add(&w, s + 1, (size_t)(e - s - 1));
            s = e + 1;
        } else if (c == '"') {
            for (s++; *s != '"'; s++) {
                if (!*s)
                    goto unbalanced;
                if (*s == '\\' && s[1] && strchr("\\\"$`\n", s[1]))
                    s++;
                sk_buf_addch(&w, *s);
            }
            s++;
        } else if (c == '\\') {
            if (!s[1])
                goto unbalanced;
            sk_buf_addch(&w, s[1]);
            s += 2;
        } else {
            sk_buf_addch(&w, c);
            s++;
        }
    }
    if (!argc) {
        free(argv);
        return sk_errf(err, SK_E_CONFIG, "%s is empty", what);
    }
    *out = argv;
    return 0;
unbalanced:
    sk_buf_release(&w);
    sk_proc_argv_free(argv);
    return sk_errf(err, SK_E_CONFIG, "%s: unbalanced quote or trailing backslash", what);
}

struct child {
    pid_t pid;
    int out[2], err[2]; /* the pipes of its stdout and stderr; -1 when closed */
};

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

/* Start argv with stdout and stderr on two pipes; our ends stay open, the child's are closed. */
static int spawn(char **argv, const char *what, struct child *c, struct sk_err *err)
{
    posix_spawn_file_actions_t fa;
    int e;

    if (pipe(c->out) || pipe(c->err))
        return sk_errf(err, SK_E_CONFIG, "%s: pipe: %s", what, strerror(errno));
    fcntl(c->out[0], F_SETFD, FD_CLOEXEC);
    fcntl(c->err[0], F_SETFD, FD_CLOEXEC);
    fcntl(c->out[1], F_SETFD, FD_CLOEXEC);
    fcntl(c->err[1], F_SETFD, FD_CLOEXEC);
    if (posix_spawn_file_actions_init(&fa))
        return sk_errf(err, SK_E_INTERNAL, "%s: posix_spawn_file_actions_init failed", what);
    posix_spawn_file_actions_adddup2(&fa, c->out[1], 1);
    posix_spawn_file_actions_adddup2(&fa, c->err[1], 2);
    e = posix_spawnp(&c->pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (e) {
        c->pid = -1;
        return sk_errf(err, SK_E_CONFIG, "%s: cannot run '%.200s': %s", what, argv[0], strerror(e));
    }
    close_fd(&c->out[1]);
    close_fd(&c->err[1]);
    return 0;
}

/* Read both pipes together until both close, so a chatty child cannot block on a full one. */
static int drain(struct child *c, const char *what, size_t max_out, struct sk_buf *out, struct sk_buf *errtext,
                 int *overflow, struct sk_err *err)
{
    char tmp[4096];
    int rc = -1;

    while (c->out[0] >= 0 || c->err[0] >= 0) {
        struct pollfd pf[2];
        nfds_t nf = 0;
        size_t i;

        if (c->out[0] >= 0)
            pf[nf].fd = c->out[0], pf[nf].events = POLLIN, pf[nf].revents = 0, nf++;
        if (c->err[0] >= 0)
            pf[nf].fd = c->err[0], pf[nf].events = POLLIN, pf[nf].revents = 0, nf++;
        if (poll(pf, nf, -1) < 0) {
            if (errno == EINTR)
                continue;
            sk_errf(err, SK_E_CONFIG, "%s: poll: %s", what, strerror(errno));
            goto out;
        }
        for (i = 0; i < nf; i++) {
            int is_out = pf[i].fd == c->out[0];
            ssize_t n;

            if (!pf[i].revents)
                continue;
            n = read(pf[i].fd, tmp, sizeof(tmp));
            if (n < 0 && (errno == EINTR || errno == EAGAIN))
                continue;
            if (n <= 0)
                close_fd(is_out ? &c->out[0] : &c->err[0]);
            else if (is_out && out->len + (size_t)n > max_out)
                *overflow = 1;
            else if (is_out)
                sk_buf_add(out, tmp, (size_t)n);
            else if (errtext->len < MAX_ERRTEXT)
                sk_buf_add(errtext, tmp, (size_t)n);
        }
    }
    rc = 0;
out:
    sk_wipe(tmp, sizeof(tmp));
    return rc;
}

int sk_proc_run(char **argv, const char *what, size_t max_out, struct sk_buf *out, struct sk_buf *errtext, int *status,
                struct sk_err *err)
{
    struct child c = { -1, { -1, -1 }, { -1, -1 } };
    int rc = -1, overflow = 0;

    if (spawn(argv, what, &c, err) || drain(&c, what, max_out, out, errtext, &overflow, err))
        goto out;
    while (waitpid(c.pid, status, 0) < 0) {
        if (errno != EINTR) {
            sk_errf(err, SK_E_CONFIG, "%s: waitpid: %s", what, strerror(errno));
            c.pid = -1;
            goto out;
        }
    }
    c.pid = -1;
    if (overflow) {
        sk_errf(err, SK_E_CONFIG, "%s: output is larger than %zu bytes", what, max_out);
        goto out;
    }
    rc = 0;
out:
    close_fd(&c.out[0]);
    close_fd(&c.out[1]);
    close_fd(&c.err[0]);
    close_fd(&c.err[1]);
    if (c.pid > 0) {
        kill(c.pid, SIGKILL);
        while (waitpid(c.pid, NULL, 0) < 0 && errno == EINTR)
            ;
    }
    return rc;
}
