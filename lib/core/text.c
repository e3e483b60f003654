/*
 * text.c - untrusted text escaped for terminals and CI logs (rules in text.h).
 */
#include "core/text.h"

#include <stdio.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at p (1..4), its code point in *cp; 0 when p[0] does not start
 * one (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF). */
static size_t utf8_char(const unsigned char *p, size_t n, unsigned *cp)
{
    unsigned c = p[0], lo = 0x80, hi = 0xbf;
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xc2 && c <= 0xdf) {
        len = 2;
        *cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
        len = 3;
        *cp = c & 0x0f;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        len = 4;
        *cp = c & 0x07;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* past U+10FFFF */
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (i = 1; i < len; i++) {
        unsigned b = p[i];
        if (b < (i == 1 ? lo : 0x80) || b > (i == 1 ? hi : 0xbf))
            return 0;
        *cp = (*cp << 6) | (b & 0x3f);
    }
    return len;
}

/* Code points written as \uHHHH: C1 controls, line/paragraph separators, bidi controls. */
static int u_escaped(unsigned cp)
{
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x2028 || cp == 0x2029 || cp == 0x200e || cp == 0x200f ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Blanks a CI runner trims before looking for "::" (.NET's white space that is not escaped). */
static int blank(unsigned cp)
{
    return cp == ' ' || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x205f ||
           cp == 0x3000;
}

/* The escaped form of the character at s[i] into u (at least 8 bytes), its length in *ulen; returns
 * the input bytes it stands for. *lead: nothing but blanks seen yet. */
static size_t unit(const char *s, size_t n, size_t i, int *lead, char *u, size_t *ulen)
{
    const unsigned char *p = (const unsigned char *)s + i;
    unsigned cp;
    size_t len = utf8_char(p, n - i, &cp);

    if (len == 0 || cp < 0x20 || cp == 0x7f) {
        *lead = 0;
        switch (len ? cp : 0x100) {
        case '\n': memcpy(u, "\\n", *ulen = 2); break;
        case '\r': memcpy(u, "\\r", *ulen = 2); break;
        case '\t': memcpy(u, "\\t", *ulen = 2); break;
        default: *ulen = (size_t)snprintf(u, 8, "\\x%02x", p[0]); break;
        }
        return 1;
    }
    if (u_escaped(cp)) {
        *lead = 0;
        *ulen = (size_t)snprintf(u, 8, "\\u%04x", cp);
        return len;
    }
    if (*lead && !blank(cp)) {
        *lead = 0;
        if (cp == ':' && i + 1 < n && s[i + 1] == ':') {
            memcpy(u, "\\x3a", *ulen = 4);
            return 1;
        }
    }
    if (cp == '[' && i >= 2 && s[i - 1] == '#' && s[i - 2] == '#') {
        memcpy(u, "\\x5b", *ulen = 4);
        return 1;
    }
    memcpy(u, p, len);
    *ulen = len;
    return len;
}

/* Append the escaping of s[0..n), at most max bytes of it, whole units only; returns the input
 * bytes consumed (n when everything fitted). */
static size_t escape(struct sk_buf *out, const char *s, size_t n, size_t max)
{
    size_t i = 0, used = 0, ulen, k;
    int lead = 1;
    char u[8];

    while (i < n) {
        k = unit(s, n, i, &lead, u, &ulen);
        if (ulen > max - used)
            break;
        sk_buf_add(out, u, ulen);
        used += ulen;
        i += k;
    }
    return i;
}

void sk_text_escape(struct sk_buf *out, const char *s, size_t n)
{
    escape(out, s, n, (size_t)-1);
}

void sk_text_escapes(struct sk_buf *out, const char *s)
{
    if (s)
        escape(out, s, strlen(s), (size_t)-1);
}

size_t sk_text_escape_to(char *dst, size_t cap, const char *s, size_t n)
{
    struct sk_buf b = SK_BUF_INIT;
    size_t len;

    if (cap == 0)
        return 0;
    if (escape(&b, s, n, cap - 1) < n) {
        sk_buf_reset(&b);
        escape(&b, s, n, cap > 4 ? cap - 4 : 0);
        if (cap > 4)
            sk_buf_adds(&b, "...");
    }
    len = b.len;
    memcpy(dst, b.p, len + 1);
    sk_buf_release(&b);
    return len;
}

size_t sk_text_cut(const char *s, size_t n)
{
    size_t i = n, cont = 0, need;
    unsigned char c;

    while (i > 0 && cont < 3 && ((unsigned char)s[i - 1] & 0xc0) == 0x80) {
        i--;
        cont++;
    }
    if (i == 0)
        return n;
    c = (unsigned char)s[i - 1];
    if (c < 0xc2 || c > 0xf4)
        return n; /* ASCII, or no lead byte: nothing is cut short here */
    need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
    return cont + 1 < need ? i - 1 : n;
}

void sk_text_json_safe(struct sk_buf *json)
{
    struct sk_buf out = SK_BUF_INIT;
    const unsigned char *p = (const unsigned char *)json->p;
    size_t i = 0, n = json->len, len;
    unsigned cp;
    char u[8];

    for (i = 0; i < n; i++)
        if (p[i] >= 0x80 || (p[i] == '[' && i >= 2 && p[i - 1] == '#' && p[i - 2] == '#'))
            break;
    if (i == n)
        return; /* the usual case: ASCII without "##[" */
    if (json->secret)
        sk_buf_init_secret(&out);
    sk_buf_add(&out, json->p, i);
    while (i < n) {
        len = utf8_char(p + i, n - i, &cp);
        if (len == 0) {
            sk_buf_addch(&out, (char)p[i++]);
        } else if (u_escaped(cp)) {
            sk_buf_add(&out, u, (size_t)snprintf(u, sizeof(u), "\\u%04x", cp));
            i += len;
        } else if (cp == '[' && i >= 2 && p[i - 1] == '#' && p[i - 2] == '#') {
            sk_buf_adds(&out, "\\u005b");
            i++;
        } else {
            sk_buf_add(&out, p + i, len);
            i += len;
        }
    }
    sk_buf_release(json);
    *json = out;
}
