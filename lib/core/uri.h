/*
 * uri.h - RFC 3986 encoding as SigV4 and the AWS query protocols use it, and URL splitting.
 */
#ifndef SK_URI_H
#define SK_URI_H

#include <stddef.h>

#include "core/buf.h"
#include "core/err.h"

/* Append p[0..n) percent-encoded: keep A-Z a-z 0-9 - _ . ~ (and '/' if keep_slash), every other
 * byte becomes %XX with uppercase hex. */
void sk_uri_encode(struct sk_buf *out, const char *p, size_t n, int keep_slash);
void sk_uri_encodes(struct sk_buf *out, const char *s, int keep_slash);

/* Append the percent-decoding of p[0..n). '+' stays '+'. A '%' not followed by two hex digits
 * fails with SK_E_USAGE and leaves out with whatever was appended. */
int sk_uri_decode(struct sk_buf *out, const char *p, size_t n, struct sk_err *err);

/* Append the SigV4 normalisation of path: drop empty and "." segments, ".." pops one, always a
 * leading '/', a trailing '/' kept only if the input had one and a segment remains. */
void sk_uri_normalize_path(struct sk_buf *out, const char *path, size_t n);

/* A split absolute URL. Every field is an owned string; port and query may be NULL. */
struct sk_url {
    char *scheme; /* lowercase: "http" or "https" */
    char *host;   /* lowercase, without brackets for IPv6 */
    char *port;   /* NULL when absent */
    char *path;   /* as on the wire, "/" when empty */
    char *query;  /* without the '?', NULL when absent */
    int ipv6;
};

/* Split url. Only http and https are accepted; userinfo is refused; the fragment is dropped.
 * Fails with SK_E_USAGE naming what is wrong. */
int sk_url_parse(const char *url, struct sk_url *u, struct sk_err *err);
void sk_url_release(struct sk_url *u);
/* Append the Host header value: host, bracketed if IPv6, ":port" only if not the scheme default. */
void sk_url_host_header(const struct sk_url *u, struct sk_buf *out);

#endif
