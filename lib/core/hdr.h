/*
 * hdr.h - an ordered list of HTTP header fields (name, value), both owned.
 */
#ifndef SK_HDR_H
#define SK_HDR_H

#include <stddef.h>

struct sk_header {
    char *name;
    char *value;
};

struct sk_headers {
    struct sk_header *v;
    size_t n, cap;
};

#define SK_HEADERS_INIT                                                                                                \
    {                                                                                                                  \
        0, 0, 0                                                                                                        \
    }

void sk_headers_add(struct sk_headers *h, const char *name, const char *value);
void sk_headers_addn(struct sk_headers *h, const char *name, size_t nlen, const char *value, size_t vlen);
/* First value of name (case-insensitive), borrowed; NULL when absent. */
const char *sk_headers_get(const struct sk_headers *h, const char *name);
/* Remove every field called name (case-insensitive). */
void sk_headers_del(struct sk_headers *h, const char *name);
/* Free everything; values are wiped, as they may carry tokens. Idempotent. */
void sk_headers_release(struct sk_headers *h);

#endif
