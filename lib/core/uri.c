#include "core/uri.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

void sk_uri_encode(struct sk_buf *out, const char *p, size_t n, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t i;

    sk_buf_grow(out, n);
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            sk_buf_addch(out, (char)c);
        } else {
            char e[3] = { '%', hex[c >> 4], hex[c & 15] };
            sk_buf_add(out, e, 3);
        }
    }
}

void sk_uri_encodes(struct sk_buf *out, const char *s, int keep_slash)
{
    sk_uri_encode(out, s, strlen(s), keep_slash);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int sk_uri_decode(struct sk_buf *out, const char *p, size_t n, struct sk_err *err)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != '%') {
            sk_buf_addch(out, p[i]);
            continue;
        }
        {
            int hi = i + 1 < n ? hexval((unsigned char)p[i + 1]) : -1;
            int lo = i + 2 < n ? hexval((unsigned char)p[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return sk_errf(err, SK_E_USAGE, "invalid percent-encoding at '%.*s'", (int)(n - i < 3 ? n - i : 3),
                               p + i);
            sk_buf_addch(out, (char)(hi << 4 | lo));
            i += 2;
        }
    }
    return 0;
}

void sk_uri_normalize_path(struct sk_buf *out, const char *path, size_t n)
{
    /* segs holds (start, len) pairs of the kept segments. */
    size_t(*segs)[2] = xmalloc((n / 2 + 2) * sizeof(*segs));
    size_t nseg = 0, i = 0, k;
    int trailing = n > 0 && path[n - 1] == '/';

    while (i < n) {
        size_t s = i;
        while (i < n && path[i] != '/')
            i++;
        if (i - s == 0 || (i - s == 1 && path[s] == '.')) {
            /* drop */
        } else if (i - s == 2 && path[s] == '.' && path[s + 1] == '.') {
            if (nseg)
                nseg--;
        } else {
            segs[nseg][0] = s;
            segs[nseg][1] = i - s;
            nseg++;
        }
        i++;
    }
    for (k = 0; k < nseg; k++) {
        sk_buf_addch(out, '/');
        sk_buf_add(out, path + segs[k][0], segs[k][1]);
    }
    if (!nseg || trailing)
        sk_buf_addch(out, '/');
    free(segs);
}

void sk_url_release(struct sk_url *u)
{
    free(u->scheme);
    free(u->host);
    free(u->port);
    free(u->path);
    free(u->query);
    memset(u, 0, sizeof(*u));
}

int sk_url_parse(const char *url, struct sk_url *u, struct sk_err *err)
{
    const char *p, *auth, *auth_end, *h, *h_end, *port = NULL, *path;
    struct sk_url r = { 0 };
    size_t i;

    p = strstr(url, "://");
    if (!p)
        return sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': no scheme", (int)strcspn(url, "?#"), url);
    r.scheme = xstrndup(url, (size_t)(p - url));
    for (i = 0; r.scheme[i]; i++)
        r.scheme[i] = (char)tolower((unsigned char)r.scheme[i]);
    if (strcmp(r.scheme, "http") != 0 && strcmp(r.scheme, "https") != 0) {
        sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': scheme must be http or https", (int)strcspn(url, "?#"), url);
        goto fail;
    }
    auth = p + 3;
    auth_end = auth + strcspn(auth, "/?#");
    if (memchr(auth, '@', (size_t)(auth_end - auth))) {
        sk_errf(err, SK_E_USAGE, "invalid URL: credentials in the URL are not accepted");
        goto fail;
    }
    for (p = auth; p < auth_end; p++) {
        if ((unsigned char)*p <= ' ' || *p == '\\') {
            sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': bad character in host", (int)strcspn(url, "?#"), url);
            goto fail;
        }
    }
    if (*auth == '[') {
        h = auth + 1;
        h_end = memchr(h, ']', (size_t)(auth_end - h));
        if (!h_end) {
            sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': unterminated IPv6 address", (int)strcspn(url, "?#"), url);
            goto fail;
        }
        r.ipv6 = 1;
        if (h_end + 1 < auth_end) {
            if (h_end[1] != ':') {
                sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': junk after IPv6 address", (int)strcspn(url, "?#"), url);
                goto fail;
            }
            port = h_end + 2;
        }
    } else {
        h = auth;
        h_end = memchr(auth, ':', (size_t)(auth_end - auth));
        if (h_end)
            port = h_end + 1;
        else
            h_end = auth_end;
    }
    if (h_end == h) {
        sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': no host", (int)strcspn(url, "?#"), url);
        goto fail;
    }
    r.host = xstrndup(h, (size_t)(h_end - h));
    for (i = 0; r.host[i]; i++)
        r.host[i] = (char)tolower((unsigned char)r.host[i]);
    if (port) {
        size_t plen = (size_t)(auth_end - port);
        char *end;
        long v;
        if (plen == 0 || plen > 5 || strspn(port, "0123456789") < plen) {
            sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': bad port", (int)strcspn(url, "?#"), url);
            goto fail;
        }
        r.port = xstrndup(port, plen);
        v = strtol(r.port, &end, 10);
        if (v < 1 || v > 65535) {
            sk_errf(err, SK_E_USAGE, "invalid URL '%.*s': port out of range", (int)strcspn(url, "?#"), url);
            goto fail;
        }
    }
    path = auth_end;
    {
        size_t plen = strcspn(path, "?#");
        r.path = plen && path[0] == '/' ? xstrndup(path, plen) : xstrdup("/");
        if (plen && path[0] != '/') {
            sk_errf(err, SK_E_USAGE, "invalid URL '%.*s'", (int)strcspn(url, "?#"), url);
            goto fail;
        }
        if (path[plen] == '?') {
            const char *q = path + plen + 1;
            r.query = xstrndup(q, strcspn(q, "#"));
        }
    }
    *u = r;
    return 0;
fail:
    sk_url_release(&r);
    return -1;
}

void sk_url_host_header(const struct sk_url *u, struct sk_buf *out)
{
    int dflt = !u->port || (strcmp(u->scheme, "http") == 0 && strcmp(u->port, "80") == 0) ||
               (strcmp(u->scheme, "https") == 0 && strcmp(u->port, "443") == 0);

    if (u->ipv6)
        sk_buf_addf(out, "[%s]", u->host);
    else
        sk_buf_adds(out, u->host);
    if (!dflt)
        sk_buf_addf(out, ":%s", u->port);
}
