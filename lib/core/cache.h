/*
 * cache.h - the private on-disk caches (the ECR token, ecr-push's layers, the SSO token cache).
 *
 * Every cache file is opened with sk_cache_open() and written with sk_cache_write(): no link is
 * followed below the cache directory, and only directories and files of ours that nobody else can
 * write (files: that nobody else can read either) are trusted.
 */
#ifndef SK_CACHE_H
#define SK_CACHE_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* $XDG_CACHE_HOME/shipkit, else $HOME/.cache/shipkit (owned), or NULL with neither set. */
char *sk_cache_dir(void);
/* mkdir -p with mode for every component created. */
int sk_mkdirs(const char *path, int mode, struct sk_err *err);

/* Open cache_dir/rel ("dir/file") to read. cache_dir must be a directory of ours that group and
 * others cannot write; each directory of rel is opened below it without following a link
 * (O_NOFOLLOW) and checked the same way; the file must not be a link and must be a regular file
 * of ours that group and others can neither read nor write. Returns the descriptor, or -1 with
 * SK_E_IO saying why (sys_errno ENOENT when the file or a directory is simply absent). */
int sk_cache_open(const char *cache_dir, const char *rel, struct sk_err *err);

#define SK_CACHE_NOREPLACE 1 /* sk_cache_write: keep an existing file (and return 1) */
/* sk_cache_write into a directory of ours that another tool made and others may write (the AWS
 * CLI's ~/.aws/sso/cache): the new file is still made O_EXCL beside the old and renamed over it. */
#define SK_CACHE_SHARED_DIR 2
/* Write data to cache_dir/rel, atomically: the directories made (0700) and checked as in
 * sk_cache_open, a new 0600 file written and synced beside it, then renamed over rel (or, with
 * SK_CACHE_NOREPLACE, linked to rel unless it exists). 0 written, 1 kept (NOREPLACE), -1 error. */
int sk_cache_write(const char *cache_dir, const char *rel, const void *data, size_t len, int flags, struct sk_err *err);

/* Read the whole of cache_dir/rel (opened with sk_cache_open; at most max bytes, else SK_E_IO) into
 * out, which the caller made secret if need be. */
int sk_cache_read(const char *cache_dir, const char *rel, size_t max, struct sk_buf *out, struct sk_err *err);

#endif
