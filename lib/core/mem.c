#include "core/mem.h"

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#include <openssl/crypto.h>

/* ASAN_(UN)POISON_MEMORY_REGION: no-ops unless built with AddressSanitizer. */
#if defined(__has_include)
#if __has_include(<sanitizer/asan_interface.h>)
#include <sanitizer/asan_interface.h>
#endif
#endif
#ifndef ASAN_POISON_MEMORY_REGION
#define ASAN_POISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#define ASAN_UNPOISON_MEMORY_REGION(a, n) ((void)(a), (void)(n))
#endif

static void oom(void)
{
    static const char msg[] = "shipkit: out of memory\n";
    ssize_t r = write(2, msg, sizeof(msg) - 1);
    (void)r;
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom();
    return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (!p)
        oom();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom();
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xstrdup_or_null(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

void sk_wipe(void *p, size_t n)
{
    if (p && n)
        OPENSSL_cleanse(p, n);
}

void sk_free_secret(char *s)
{
    if (!s)
        return;
    sk_wipe(s, strlen(s));
    free(s);
}

void sk_clear_secret(char **pp)
{
    sk_free_secret(*pp);
    *pp = NULL;
}

/* ---- the wiping allocator ---- */

/* Precedes every block. pages is 0 for a block from malloc, else the size of the page-aligned
 * region (header included) that sk_secret_alloc marked MADV_DONTDUMP. */
union wipe_hdr {
    struct {
        size_t size;
        size_t pages;
    } h;
    max_align_t align;
};

static size_t page_size(void)
{
    long l = sysconf(_SC_PAGESIZE);

    return l > 0 ? (size_t)l : 4096;
}

/*
 * One-page secret blocks, freed (so wiped) and still marked, kept for the next sk_secret_alloc: a
 * signature alone makes several secret buffers, and two madvise calls for each cost five times the
 * signing. Under AddressSanitizer a kept page is poisoned, so a use after free is still caught.
 */
#define PAGE_CACHE 32
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static void *cache[PAGE_CACHE];
static size_t ncache;

static union wipe_hdr *pages_alloc(size_t total)
{
    void *v = NULL;

    if (total == page_size()) {
        /* (un)poisoned under the lock: a page is never in the cache unpoisoned, nor out of it poisoned */
        pthread_mutex_lock(&cache_lock);
        if (ncache) {
            v = cache[--ncache];
            ASAN_UNPOISON_MEMORY_REGION(v, total);
        }
        pthread_mutex_unlock(&cache_lock);
        if (v)
            return v;
    }
    if (posix_memalign(&v, page_size(), total) != 0)
        return NULL;
#ifdef MADV_DONTDUMP
    (void)madvise(v, total, MADV_DONTDUMP); /* best effort: a kernel without it dumps them */
#endif
    return v;
}

static void pages_free(union wipe_hdr *h)
{
    size_t total = h->h.pages;
    int kept = 0;

    if (total == page_size()) {
        pthread_mutex_lock(&cache_lock);
        if (ncache < PAGE_CACHE) {
            ASAN_POISON_MEMORY_REGION(h, total);
            cache[ncache++] = h;
            kept = 1;
        }
        pthread_mutex_unlock(&cache_lock);
    }
    if (kept)
        return;
#ifdef MADV_DODUMP
    /* Back to malloc, which may hand the pages to anything: dump them again (and let the kernel
     * merge the mapping MADV_DONTDUMP split). */
    (void)madvise(h, total, MADV_DODUMP);
#endif
    free(h);
}

static void *wipe_alloc(size_t n, int paged)
{
    union wipe_hdr *h;
    size_t total, ps = paged ? page_size() : 0;

    if (n > SIZE_MAX - sizeof(*h) - ps)
        return NULL;
    total = sizeof(*h) + n;
    if (!paged) {
        h = malloc(total);
        if (!h)
            return NULL;
        h->h.pages = 0;
    } else {
        /* Whole pages, so that marking them touches no other block. */
        total = (total + ps - 1) / ps * ps;
        h = pages_alloc(total);
        if (!h)
            return NULL;
        h->h.pages = total; /* the rest of the last page stays unused, and unwiped */
    }
    h->h.size = n;
    return h + 1;
}

void *sk_wipe_malloc(size_t n)
{
    return wipe_alloc(n, 0);
}

void *sk_secret_alloc(size_t n)
{
    void *p = wipe_alloc(n, 1);

    if (!p)
        oom();
    return p;
}

void *sk_wipe_calloc(size_t nmemb, size_t size)
{
    void *p;

    if (size && nmemb > SIZE_MAX / size)
        return NULL;
    p = sk_wipe_malloc(nmemb * size);
    if (p)
        memset(p, 0, nmemb * size);
    return p;
}

void sk_wipe_free(void *p)
{
    union wipe_hdr *h;

    if (!p)
        return;
    h = (union wipe_hdr *)p - 1;
    sk_wipe(p, h->h.size);
    if (h->h.pages)
        pages_free(h);
    else
        free(h);
}

/* Always a new block (of the same kind): growing in place is not possible to observe, and moving
 * would leave the old contents behind unwiped. */
void *sk_wipe_realloc(void *p, size_t n)
{
    union wipe_hdr *old;
    void *q;

    if (!p)
        return sk_wipe_malloc(n);
    old = (union wipe_hdr *)p - 1;
    q = wipe_alloc(n, old->h.pages != 0);
    if (!q)
        return NULL;
    memcpy(q, p, old->h.size < n ? old->h.size : n);
    sk_wipe_free(p);
    return q;
}

char *sk_wipe_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = sk_wipe_malloc(n);

    if (p)
        memcpy(p, s, n);
    return p;
}

/* ---- core dumps ---- */

void sk_mem_no_core_dumps(void)
{
    struct rlimit none = { 0, 0 };

#ifdef PR_SET_DUMPABLE
    /* Not dumpable: no core file whatever RLIMIT_CORE and core_pattern say (a pipe included), no
     * ptrace or /proc/PID/mem by other processes of the same user. */
    (void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
#endif
    /* Lowering both limits is always allowed; children (credential_process) inherit it. */
    (void)setrlimit(RLIMIT_CORE, &none);
}
