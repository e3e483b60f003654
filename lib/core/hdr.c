#include "core/hdr.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/mem.h"

void sk_headers_addn(struct sk_headers *h, const char *name, size_t nlen, const char *value, size_t vlen)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? h->cap * 2 : 8;
        h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
    }
    h->v[h->n].name = xstrndup(name, nlen);
    h->v[h->n].value = xstrndup(value, vlen);
    h->n++;
}

void sk_headers_add(struct sk_headers *h, const char *name, const char *value)
{
    sk_headers_addn(h, name, strlen(name), value, strlen(value));
}

const char *sk_headers_get(const struct sk_headers *h, const char *name)
{
    size_t i;

    for (i = 0; i < h->n; i++)
        if (strcasecmp(h->v[i].name, name) == 0)
            return h->v[i].value;
    return NULL;
}

void sk_headers_del(struct sk_headers *h, const char *name)
{
    size_t i, j = 0;

    for (i = 0; i < h->n; i++) {
        if (strcasecmp(h->v[i].name, name) == 0) {
            free(h->v[i].name);
            sk_free_secret(h->v[i].value);
        } else {
            h->v[j++] = h->v[i];
        }
    }
    h->n = j;
}

void sk_headers_release(struct sk_headers *h)
{
    size_t i;

    for (i = 0; i < h->n; i++) {
        free(h->v[i].name);
        sk_free_secret(h->v[i].value);
    }
    free(h->v);
    memset(h, 0, sizeof(*h));
}
