/*
 * The private on-disk caches (lib/core/cache.h): no link followed below the cache directory, and only
 * directories and files of ours that nobody else can change trusted.
 */
#include "core/cache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/mem.h"

char *sk_cache_dir(void)
{
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    struct sk_buf b = SK_BUF_INIT;

    if (x && x[0] == '/')
        sk_buf_addf(&b, "%s/shipkit", x);
    else if (home && *home)
        sk_buf_addf(&b, "%s/.cache/shipkit", home);
    else
        return NULL;
    return sk_buf_detach(&b, NULL);
}

int sk_mkdirs(const char *path, int mode, struct sk_err *err)
{
    char *p = xstrdup(path), *s;
    int rc = 0;

    for (s = p + 1;; s++) {
        if (*s == '/' || !*s) {
            char c = *s;
            *s = '\0';
            if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
                rc = sk_errf(err, SK_E_IO, "cannot create '%s': %s", p, strerror(errno));
                break;
            }
            *s = c;
            if (!c)
                break;
        }
    }
    free(p);
    return rc;
}

/* ---- private cache files ------------------------------------------------------------------------ */

/* A directory nobody else can change: ours, no write for group or others (unless shared: ours). */
static int check_private_dir(int fd, const struct sk_buf *path, int shared, struct sk_err *err)
{
    struct stat st;

    if (fstat(fd, &st) < 0)
        return sk_errf(err, SK_E_IO, "'%s': %s", path->p, strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return sk_errf(err, SK_E_IO, "'%s' is not a directory", path->p);
    if (st.st_uid != geteuid())
        return sk_errf(err, SK_E_IO, "'%s' belongs to uid %ld, not to us", path->p, (long)st.st_uid);
    if ((st.st_mode & 022) && !shared)
        return sk_errf(err, SK_E_IO, "'%s' is writable by others (mode %03o)", path->p, (unsigned)(st.st_mode & 0777));
    return 0;
}

/* Open the directory cache_dir/sub ("" for cache_dir): cache_dir as named (it may be a link the user
 * made), everything below it without following a link; each one checked. create: make what is
 * missing, 0700. *path is the directory's name, for messages. */
static int cache_dir_open(const char *cache_dir, const char *sub, int create, int shared, struct sk_buf *path,
                          struct sk_err *err)
{
    char *copy = xstrdup(sub), *comp, *save = NULL;
    int fd = -1, next, e;

    if (err)
        err->sys_errno = 0;
    sk_buf_reset(path);
    sk_buf_adds(path, cache_dir);
    if (create && sk_mkdirs(cache_dir, 0700, err) < 0)
        goto fail;
    fd = open(cache_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        goto sys;
    if (check_private_dir(fd, path, shared, err) < 0)
        goto fail;
    for (comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
        sk_buf_addf(path, "/%s", comp);
        if (create && mkdirat(fd, comp, 0700) < 0 && errno != EEXIST)
            goto sys;
        next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (next < 0)
            goto sys;
        close(fd);
        fd = next;
        if (check_private_dir(fd, path, shared, err) < 0)
            goto fail;
    }
    free(copy);
    return fd;
sys:
    e = errno;
    if (e == ELOOP || e == ENOTDIR)
        sk_errf(err, SK_E_IO, "'%s' is a link or not a directory: not followed", path->p);
    else
        sk_errf(err, SK_E_IO, "'%s': %s", path->p, strerror(e));
    if (err)
        err->sys_errno = e == ENOTDIR ? ELOOP : e;
fail:
    if (fd >= 0)
        close(fd);
    free(copy);
    return -1;
}

/* rel = "dir/sub/file": its directory part (owned) and its last component (borrowed). */
static char *split_rel(const char *rel, const char **base)
{
    const char *slash = strrchr(rel, '/');

    *base = slash ? slash + 1 : rel;
    return slash ? xstrndup(rel, (size_t)(slash - rel)) : xstrdup("");
}

int sk_cache_open(const char *cache_dir, const char *rel, struct sk_err *err)
{
    struct sk_buf path = SK_BUF_INIT;
    const char *base;
    char *dir = split_rel(rel, &base);
    struct stat st;
    int dfd, fd = -1, e;

    dfd = cache_dir_open(cache_dir, dir, 0, 0, &path, err);
    if (dfd < 0)
        goto out;
    sk_buf_addf(&path, "/%s", base);
    /* O_NONBLOCK: a FIFO planted here must not hang us (it is refused below). */
    fd = openat(dfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        e = errno;
        if (e == ELOOP)
            sk_errf(err, SK_E_IO, "'%s' is a link: not followed", path.p);
        else
            sk_errf(err, SK_E_IO, "'%s': %s", path.p, strerror(e));
        if (err)
            err->sys_errno = e;
        goto out;
    }
    if (fstat(fd, &st) < 0) {
        sk_errf(err, SK_E_IO, "'%s': %s", path.p, strerror(errno));
    } else if (!S_ISREG(st.st_mode)) {
        sk_errf(err, SK_E_IO, "'%s' is not a regular file", path.p);
    } else if (st.st_uid != geteuid()) {
        sk_errf(err, SK_E_IO, "'%s' belongs to uid %ld, not to us", path.p, (long)st.st_uid);
    } else if (st.st_mode & 077) {
        sk_errf(err, SK_E_IO, "'%s' is not private (mode %03o, not 600)", path.p, (unsigned)(st.st_mode & 0777));
    } else {
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        goto out;
    }
    close(fd);
    fd = -1;
out:
    if (dfd >= 0)
        close(dfd);
    sk_buf_release(&path);
    free(dir);
    return fd;
}

int sk_cache_write(const char *cache_dir, const char *rel, const void *data, size_t len, int flags, struct sk_err *err)
{
    struct sk_buf path = SK_BUF_INIT, tmp = SK_BUF_INIT;
    const char *base;
    char *dir = split_rel(rel, &base);
    int dfd, fd = -1, rc = -1, linked = 0;
    size_t off = 0;

    dfd = cache_dir_open(cache_dir, dir, 1, (flags & SK_CACHE_SHARED_DIR) != 0, &path, err);
    if (dfd < 0)
        goto out;
    sk_buf_addf(&tmp, "%s.%ld.tmp", base, (long)getpid());
    unlinkat(dfd, tmp.p, 0); /* a leftover of a process with our pid, in our own directory */
    fd = openat(dfd, tmp.p, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        sk_errf(err, SK_E_IO, "cannot write '%s/%s': %s", path.p, tmp.p, strerror(errno));
        goto out;
    }
    while (off < len) {
        ssize_t n = write(fd, (const char *)data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sk_errf(err, SK_E_IO, "cannot write '%s/%s': %s", path.p, tmp.p, strerror(n < 0 ? errno : EIO));
            goto out;
        }
        off += (size_t)n;
    }
    if (fsync(fd) < 0 || close(fd) < 0) {
        fd = -1;
        sk_errf(err, SK_E_IO, "cannot write '%s/%s': %s", path.p, tmp.p, strerror(errno));
        goto out;
    }
    fd = -1;
    if (flags & SK_CACHE_NOREPLACE) {
        /* link(2) never replaces: of two writers racing, one file wins and both read it. */
        if (linkat(dfd, tmp.p, dfd, base, 0) == 0) {
            linked = 1;
        } else if (errno == EEXIST) {
            rc = 1;
            goto out;
        }
    }
    if (!linked && renameat(dfd, tmp.p, dfd, base) < 0) {
        sk_errf(err, SK_E_IO, "cannot write '%s/%s': %s", path.p, base, strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        close(fd);
    if (dfd >= 0) {
        if (rc != 0 || linked)
            unlinkat(dfd, tmp.p, 0);
        close(dfd);
    }
    sk_buf_release(&path);
    sk_buf_release(&tmp);
    free(dir);
    return rc;
}

int sk_cache_read(const char *cache_dir, const char *rel, size_t max, struct sk_buf *out, struct sk_err *err)
{
    char tmp[4096];
    ssize_t n;
    int fd = sk_cache_open(cache_dir, rel, err), rc = 0;

    if (fd < 0)
        return -1;
    while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 || out->len + (size_t)n > max) {
            rc = sk_errf(err, SK_E_IO, "cache file '%s' is %s", rel, n < 0 ? strerror(errno) : "too large");
            break;
        }
        sk_buf_add(out, tmp, (size_t)n);
    }
    sk_wipe(tmp, sizeof(tmp));
    close(fd);
    return rc;
}
