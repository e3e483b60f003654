#include "mem.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/crypto.h>

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

union wipe_hdr {
    size_t size;
    max_align_t align;
};

void *sk_wipe_malloc(size_t n)
{
    union wipe_hdr *h;

    if (n > SIZE_MAX - sizeof(*h))
        return NULL;
    h = malloc(sizeof(*h) + n);
    if (!h)
        return NULL;
    h->size = n;
    return h + 1;
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
    sk_wipe(p, h->size);
    free(h);
}

/* Always a new block: growing in place is not possible to observe, and moving would leave the old
 * contents behind unwiped. */
void *sk_wipe_realloc(void *p, size_t n)
{
    void *q;
    size_t old;

    if (!p)
        return sk_wipe_malloc(n);
    q = sk_wipe_malloc(n);
    if (!q)
        return NULL;
    old = ((union wipe_hdr *)p - 1)->size;
    memcpy(q, p, old < n ? old : n);
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
