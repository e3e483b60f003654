#include "core/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

char sk_buf_empty[1];

void sk_buf_init(struct sk_buf *b)
{
    b->p = sk_buf_empty;
    b->len = b->cap = 0;
    b->secret = 0;
}

void sk_buf_init_secret(struct sk_buf *b)
{
    sk_buf_init(b);
    b->secret = 1;
}

void sk_buf_grow(struct sk_buf *b, size_t n)
{
    size_t want, cap;
    char *np;

    if (n > (size_t)-1 / 2 - b->len - 1)
        xmalloc((size_t)-1); /* cannot satisfy: treat as out of memory */
    want = b->len + n + 1;
    if (want <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < want)
        cap = cap + cap / 2 + 16;
    if (b->secret) {
        /* Secrets never go through realloc (it could leave an unwiped copy behind) and live on
         * pages kept out of core dumps. */
        np = sk_secret_alloc(cap);
        memcpy(np, b->p, b->len + 1);
        if (b->cap)
            sk_wipe_free(b->p); /* wipes */
    } else if (!b->cap) {
        np = xmalloc(cap);
        memcpy(np, b->p, b->len + 1);
    } else {
        np = xrealloc(b->p, cap);
    }
    b->p = np;
    b->cap = cap;
}

void sk_buf_add(struct sk_buf *b, const void *p, size_t n)
{
    if (!n)
        return;
    sk_buf_grow(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void sk_buf_adds(struct sk_buf *b, const char *s)
{
    sk_buf_add(b, s, strlen(s));
}

void sk_buf_addch(struct sk_buf *b, char c)
{
    sk_buf_add(b, &c, 1);
}

void sk_buf_vaddf(struct sk_buf *b, const char *fmt, va_list ap)
{
    va_list cp;
    int n;

    va_copy(cp, ap);
    n = vsnprintf(b->p + b->len, b->cap ? b->cap - b->len : 0, fmt, cp);
    va_end(cp);
    if (n < 0)
        return;
    if ((size_t)n >= (b->cap ? b->cap - b->len : 0)) {
        sk_buf_grow(b, (size_t)n);
        vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void sk_buf_addf(struct sk_buf *b, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(b, fmt, ap);
    va_end(ap);
}

void sk_buf_addhex(struct sk_buf *b, const unsigned char *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    sk_buf_grow(b, n * 2);
    for (i = 0; i < n; i++) {
        b->p[b->len++] = hex[p[i] >> 4];
        b->p[b->len++] = hex[p[i] & 15];
    }
    b->p[b->len] = '\0';
}

void sk_buf_reset(struct sk_buf *b)
{
    sk_buf_truncate(b, 0);
}

void sk_buf_truncate(struct sk_buf *b, size_t len)
{
    if (len >= b->len)
        return;
    if (b->secret)
        sk_wipe(b->p + len, b->len - len);
    b->len = len;
    if (b->cap)
        b->p[len] = '\0';
}

void sk_buf_release(struct sk_buf *b)
{
    int secret = b->secret;

    if (b->cap) {
        if (secret)
            sk_wipe_free(b->p); /* wipes */
        else
            free(b->p);
    }
    sk_buf_init(b);
    b->secret = secret;
}

char *sk_buf_detach(struct sk_buf *b, size_t *len)
{
    char *p = b->cap ? b->p : xstrdup("");

    if (b->cap && b->secret) { /* sk_secret_alloc's block cannot go to free(): hand over a copy */
        p = xmalloc(b->len + 1);
        memcpy(p, b->p, b->len + 1);
        sk_wipe_free(b->p);
    }

    if (len)
        *len = b->len;
    b->p = sk_buf_empty;
    b->len = b->cap = 0;
    return p;
}
