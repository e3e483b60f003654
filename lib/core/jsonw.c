#include "core/jsonw.h"

#include <string.h>

void sk_json_escape(struct sk_buf *out, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i;

    sk_buf_grow(out, n + 2);
    sk_buf_addch(out, '"');
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sk_buf_add(out, "\\\"", 2); break;
        case '\\': sk_buf_add(out, "\\\\", 2); break;
        case '\n': sk_buf_add(out, "\\n", 2); break;
        case '\r': sk_buf_add(out, "\\r", 2); break;
        case '\t': sk_buf_add(out, "\\t", 2); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };
                sk_buf_add(out, e, 6);
            } else {
                sk_buf_addch(out, (char)c);
            }
        }
    }
    sk_buf_addch(out, '"');
}

void sk_jsonw_begin(struct sk_jsonw *w, struct sk_buf *out)
{
    w->out = out;
    w->n = 0;
    sk_buf_addch(out, '{');
}

void sk_jsonw_end(struct sk_jsonw *w)
{
    sk_buf_addch(w->out, '}');
}

static void key(struct sk_jsonw *w, const char *k)
{
    if (w->n++)
        sk_buf_addch(w->out, ',');
    sk_json_escape(w->out, k, strlen(k));
    sk_buf_addch(w->out, ':');
}

void sk_jsonw_strn(struct sk_jsonw *w, const char *k, const char *value, size_t len)
{
    key(w, k);
    sk_json_escape(w->out, value, len);
}

void sk_jsonw_str(struct sk_jsonw *w, const char *k, const char *value)
{
    sk_jsonw_strn(w, k, value, strlen(value));
}

void sk_jsonw_bool(struct sk_jsonw *w, const char *k, int value)
{
    key(w, k);
    sk_buf_adds(w->out, value ? "true" : "false");
}

void sk_jsonw_int(struct sk_jsonw *w, const char *k, long long value)
{
    key(w, k);
    sk_buf_addf(w->out, "%lld", value);
}

void sk_jsonw_raw(struct sk_jsonw *w, const char *k, const char *json)
{
    key(w, k);
    sk_buf_adds(w->out, json);
}

int sk_utf8_valid(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    size_t i = 0;

    while (i < n) {
        unsigned char c = s[i];
        size_t len, k;
        unsigned long cp;

        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf) {
            len = 2;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            len = 3;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        i += len;
    }
    return 1;
}
