/*
 * mem.h - allocation that cannot fail, and wiping of secrets.
 *
 * Out of memory is not an error path: x*alloc print "out of memory" with write(2) and abort().
 * This is the single place the library touches stderr.
 */
#ifndef SK_MEM_H
#define SK_MEM_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* xstrdup(s) or NULL when s is NULL. */
char *xstrdup_or_null(const char *s);

/* Overwrite n bytes at p with zeros in a way the compiler cannot elide. NULL-safe. */
void sk_wipe(void *p, size_t n);
/* Wipe a NUL-terminated secret string and free it. NULL-safe. */
void sk_free_secret(char *s);
/* Free *pp (wiping it as a secret) and set *pp to NULL. */
void sk_clear_secret(char **pp);

/*
 * An allocator that wipes every block it frees or outgrows, for libraries that copy secrets into
 * buffers of their own and free them as they are (libcurl's request and receive buffers:
 * curl_global_init_mem(CURL_GLOBAL_DEFAULT, sk_wipe_malloc, sk_wipe_free, sk_wipe_realloc,
 * sk_wipe_strdup, sk_wipe_calloc)). A size header precedes each block, so a block from these must
 * go back to sk_wipe_free/sk_wipe_realloc, never to free(). They return NULL on failure, like
 * malloc, since the library handles it.
 */
void *sk_wipe_malloc(size_t n);
void *sk_wipe_calloc(size_t nmemb, size_t size);
void *sk_wipe_realloc(void *p, size_t n);
char *sk_wipe_strdup(const char *s);
void sk_wipe_free(void *p);

/*
 * A block of the same allocator for a secret that must not reach a core dump (secret sk_bufs use
 * it): page-aligned whole pages of its own, marked MADV_DONTDUMP where the system has it (Linux,
 * madvise(2)), so the kernel and ptrace-based dumpers (gcore) leave them out. Cannot fail (out of
 * memory aborts, as x*alloc). Free with sk_wipe_free, which wipes it; sk_wipe_realloc keeps the
 * kind. One-page blocks are reused, so most allocations make no system call.
 */
void *sk_secret_alloc(size_t n);

/*
 * For processes that hold secrets (every shipkit tool: they all hold credentials), called once at
 * start: prctl(PR_SET_DUMPABLE, 0) and RLIMIT_CORE 0, so a crash or a signal writes no core file
 * whatever core_pattern says, and other processes of the same user cannot ptrace it or read its
 * memory (core(5), prctl(2) PR_SET_DUMPABLE, getrlimit(2) RLIMIT_CORE). Both calls only take rights
 * away and do not fail on Linux; elsewhere only the limit is set.
 */
void sk_mem_no_core_dumps(void);

#endif
