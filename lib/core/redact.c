/*
 * redact.c - secret values out of traces and messages: by member name and by registered value
 * (the rules in redact.h).
 */
#include "core/redact.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <expat.h>

#include "core/err.h"
#include "core/json.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "core/uri.h"

static const char redacted[] = "<redacted>";

/* ---- names ------------------------------------------------------------------------------------ */

static int cmp_name(const void *key, const void *elem)
{
    return strcmp(key, *(const char *const *)elem);
}

int sk_redact_sensitive(const char *name, size_t n)
{
    char key[64];

    if (!name || n == 0 || n >= sizeof(key))
        return 0;
    memcpy(key, name, n);
    key[n] = '\0';
    return bsearch(key, sk_sensitive_members, sk_sensitive_members_n, sizeof(sk_sensitive_members[0]), cmp_name) !=
           NULL;
}

static int sensitive_str(const char *name)
{
    return name && sk_redact_sensitive(name, strlen(name));
}

/* ---- registered values ------------------------------------------------------------------------ */

void sk_secrets_init(struct sk_secrets *s)
{
    memset(s, 0, sizeof(*s));
}

void sk_secrets_release(struct sk_secrets *s)
{
    size_t i;

    for (i = 0; i < s->n; i++)
        sk_buf_release(&s->forms[i]); /* secret buffers: wiped */
    free(s->forms);
    memset(s, 0, sizeof(*s));
}

/* Keep form f (a secret buffer, handed over) unless it is empty or known already. */
static void keep_form(struct sk_secrets *s, struct sk_buf *f)
{
    size_t i;

    for (i = 0; f->len && i < s->n; i++)
        if (s->forms[i].len == f->len && memcmp(s->forms[i].p, f->p, f->len) == 0)
            break;
    if (!f->len || i < s->n) {
        sk_buf_release(f);
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 8;
        s->forms = xrealloc(s->forms, s->cap * sizeof(*s->forms));
    }
    s->forms[s->n++] = *f;
    sk_buf_init(f);
}

/* A new secret buffer holding p[0..n) with every occurrence of from replaced by to. */
static void replaced(struct sk_buf *out, const char *p, size_t n, const char *from, const char *to)
{
    size_t i, fl = strlen(from);

    sk_buf_init_secret(out);
    for (i = 0; i < n;) {
        if (n - i >= fl && memcmp(p + i, from, fl) == 0) {
            sk_buf_adds(out, to);
            i += fl;
        } else {
            sk_buf_addch(out, p[i++]);
        }
    }
}

/* A JSON string's contents with every non-ASCII character as a \u escape (UTF-16 pairs above
 * U+FFFF), as serialisers that print ASCII only write it. Invalid UTF-8 is copied as it is. */
static void json_ascii(struct sk_buf *out, const char *json, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)json;
    size_t i = 0, len, k;

    sk_buf_init_secret(out);
    while (i < n) {
        unsigned cp = p[i], units[2];
        int nu = 1, u;
        len = p[i] < 0x80 ? 1 : p[i] >= 0xf0 ? 4 : p[i] >= 0xe0 ? 3 : p[i] >= 0xc0 ? 2 : 0;
        if (len <= 1 || i + len > n || !sk_utf8_valid(json + i, len)) {
            sk_buf_addch(out, (char)p[i++]);
            continue;
        }
        cp = p[i] & (0xff >> (len + 1));
        for (k = 1; k < len; k++)
            cp = (cp << 6) | (p[i + k] & 0x3f);
        units[0] = cp;
        if (cp > 0xffff) {
            units[0] = 0xd800 + ((cp - 0x10000) >> 10);
            units[1] = 0xdc00 + ((cp - 0x10000) & 0x3ff);
            nu = 2;
        }
        for (u = 0; u < nu; u++) {
            char e[6] = {
                '\\', 'u', hex[units[u] >> 12], hex[(units[u] >> 8) & 15], hex[(units[u] >> 4) & 15], hex[units[u] & 15]
            };
            sk_buf_add(out, e, sizeof(e));
        }
        i += len;
    }
}

void sk_secrets_add(struct sk_secrets *s, const char *v, size_t n)
{
    struct sk_buf f, json;

    if (!s || !v || !n)
        return;
    sk_buf_init_secret(&f);
    sk_buf_add(&f, v, n);
    keep_form(s, &f);
    /* JSON: jsonw.h's escaping (control characters as \u00XX), jq's (\b and \f short), and the
     * ASCII-only form of the latter. The quotes are not part of it. */
    sk_buf_init_secret(&json);
    sk_json_escape(&json, v, n);
    sk_buf_init_secret(&f);
    sk_buf_add(&f, json.p + 1, json.len - 2);
    keep_form(s, &f);
    {
        struct sk_buf b;
        replaced(&b, json.p + 1, json.len - 2, "\\u0008", "\\b");
        replaced(&f, b.p, b.len, "\\u000c", "\\f");
        sk_buf_release(&b);
        json_ascii(&b, f.p, f.len);
        keep_form(s, &f);
        keep_form(s, &b);
    }
    sk_buf_release(&json);
    /* Percent-encoding, as awsQuery forms and URLs carry it: %20, or + for a space. */
    sk_buf_init_secret(&f);
    sk_uri_encode(&f, v, n, 0);
    {
        struct sk_buf plus;
        replaced(&plus, f.p, f.len, "%20", "+");
        keep_form(s, &f);
        keep_form(s, &plus);
    }
    /* XML: the five predefined entities, or only the three that must be escaped in text. */
    {
        struct sk_buf a, b, c, d;
        replaced(&a, v, n, "&", "&amp;");
        replaced(&b, a.p, a.len, "<", "&lt;");
        replaced(&c, b.p, b.len, ">", "&gt;");
        replaced(&d, c.p, c.len, "\"", "&quot;");
        sk_buf_release(&a);
        replaced(&a, d.p, d.len, "'", "&apos;");
        keep_form(s, &c);
        keep_form(s, &a);
        sk_buf_release(&b);
        sk_buf_release(&d);
    }
}

/* Register every string in v (values, not keys). */
static void add_strings(struct sk_secrets *s, jv v)
{
    switch (jv_get_kind(v)) {
    case JV_KIND_STRING: sk_secrets_add(s, jv_string_value(v), (size_t)jv_string_length_bytes(jv_copy(v))); break;
    case JV_KIND_ARRAY: {
        int i, n = jv_array_length(jv_copy(v));
        for (i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            add_strings(s, e);
            jv_free(e);
        }
        break;
    }
    case JV_KIND_OBJECT: {
        int it;
        for (it = jv_object_iter(v); jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
            jv e = jv_object_iter_value(v, it);
            add_strings(s, e);
            jv_free(e);
        }
        break;
    }
    default: break;
    }
}

void sk_secrets_add_json(struct sk_secrets *s, jv v)
{
    if (!s)
        return;
    switch (jv_get_kind(v)) {
    case JV_KIND_ARRAY: {
        int i, n = jv_array_length(jv_copy(v));
        for (i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            sk_secrets_add_json(s, e);
            jv_free(e);
        }
        break;
    }
    case JV_KIND_OBJECT: {
        int it;
        for (it = jv_object_iter(v); jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
            jv k = jv_object_iter_key(v, it), e = jv_object_iter_value(v, it);
            if (sensitive_str(jv_string_value(k)))
                add_strings(s, e);
            else
                sk_secrets_add_json(s, e);
            jv_free(e);
            jv_free(k);
        }
        break;
    }
    default: break;
    }
}

/* ---- bodies ----------------------------------------------------------------------------------- */

static size_t skip_space(const char *p, size_t n)
{
    size_t i = 0;

    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    return i;
}

/* A form body: k=v&k=v of URI characters only (RFC 3986 unreserved, sub-delims, ":@/?" and '%'). */
static int is_form(const char *p, size_t n)
{
    static const char extra[] = "-._~%!$&'()*+,;=:@/?";
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c))))
            return 0;
    }
    return n > 0;
}

/* The parameter name k[0..n) percent-decoded: sensitive when its last dot-separated part is. */
static int sensitive_param(const char *k, size_t n)
{
    struct sk_buf name = SK_BUF_INIT;
    struct sk_err e;
    const char *dot;
    int rc = 0;

    if (sk_uri_decode(&name, k, n, &e) == 0) {
        dot = strrchr(name.p, '.');
        rc = dot ? sensitive_str(dot + 1) : sensitive_str(name.p);
    }
    sk_buf_release(&name);
    return rc;
}

/* Walk a form: fn(ctx, key, klen, value, vlen) for each parameter. */
static void each_param(const char *p, size_t n, void (*fn)(void *, const char *, size_t, const char *, size_t),
                       void *ctx)
{
    const char *end = p + n, *amp, *eq;

    while (p < end) {
        amp = memchr(p, '&', (size_t)(end - p));
        if (!amp)
            amp = end;
        eq = memchr(p, '=', (size_t)(amp - p));
        if (eq)
            fn(ctx, p, (size_t)(eq - p), eq + 1, (size_t)(amp - eq - 1));
        else
            fn(ctx, p, (size_t)(amp - p), NULL, 0);
        p = amp + 1;
    }
}

static void collect_param(void *ctx, const char *k, size_t klen, const char *v, size_t vlen)
{
    struct sk_secrets *s = ctx;
    struct sk_buf value;
    struct sk_err e;

    if (!v || !vlen || !sensitive_param(k, klen))
        return;
    sk_buf_init_secret(&value);
    if (sk_uri_decode(&value, v, vlen, &e) == 0) {
        sk_secrets_add(s, value.p, value.len);
        if (memchr(value.p, '+', value.len)) { /* an HTML form's space */
            size_t i;
            for (i = 0; i < value.len; i++)
                if (value.p[i] == '+')
                    value.p[i] = ' ';
            sk_secrets_add(s, value.p, value.len);
        }
    }
    sk_secrets_add(s, v, vlen); /* as it was sent, however it was encoded */
    sk_buf_release(&value);
}

void sk_secrets_add_body(struct sk_secrets *s, const char *body, size_t n)
{
    size_t i = skip_space(body, n);
    struct sk_err e;
    jv doc;

    if (!s || i == n)
        return;
    if (body[i] == '{' || body[i] == '[') {
        if (sk_json_parse(body, n, &doc, &e) == 0) {
            sk_secrets_add_json(s, doc);
            sk_json_wipe_strings(doc);
            jv_free(doc);
        }
    } else if (is_form(body, n)) {
        each_param(body, n, collect_param, s);
    }
}

void sk_secrets_scrub(const struct sk_secrets *s, struct sk_buf *text)
{
    struct sk_buf out;
    size_t i, k, best, hits = 0;

    if (!s || !s->n || !text->len)
        return;
    sk_buf_init(&out);
    if (text->secret)
        sk_buf_init_secret(&out);
    for (i = 0; i < text->len;) {
        best = 0;
        for (k = 0; k < s->n; k++) {
            const struct sk_buf *f = &s->forms[k];
            if (f->len > best && f->len <= text->len - i && f->p[0] == text->p[i] &&
                memcmp(f->p, text->p + i, f->len) == 0)
                best = f->len;
        }
        if (best) {
            sk_buf_adds(&out, redacted);
            i += best;
            hits++;
        } else {
            sk_buf_addch(&out, text->p[i++]);
        }
    }
    if (!hits) {
        sk_buf_release(&out);
        return;
    }
    sk_wipe(text->p, text->len);
    sk_buf_release(text);
    *text = out;
}

/* ---- bodies as --debug shows them ------------------------------------------------------------ */

/* A copy of v with the value of every sensitive member replaced (v borrowed, result owned). */
static jv redact_json(jv v)
{
    jv out;

    switch (jv_get_kind(v)) {
    case JV_KIND_OBJECT: {
        int it;
        out = jv_object();
        for (it = jv_object_iter(v); jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
            jv k = jv_object_iter_key(v, it), e = jv_object_iter_value(v, it);
            if (sensitive_str(jv_string_value(k)))
                out = jv_object_set(out, k, jv_string(redacted));
            else
                out = jv_object_set(out, k, redact_json(e));
            jv_free(e);
        }
        return out;
    }
    case JV_KIND_ARRAY: {
        int i, n = jv_array_length(jv_copy(v));
        out = jv_array();
        for (i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            out = jv_array_append(out, redact_json(e));
            jv_free(e);
        }
        return out;
    }
    default: return jv_copy(v);
    }
}

static int show_json(const char *body, size_t n, struct sk_buf *out)
{
    struct sk_err e;
    jv doc, shown, s;

    if (sk_json_parse(body, n, &doc, &e) < 0)
        return -1;
    shown = redact_json(doc);
    s = jv_dump_string(shown, 0);
    sk_buf_add(out, jv_string_value(s), (size_t)jv_string_length_bytes(jv_copy(s)));
    /* What is left may still hold a registered value (a message quoting one): wipe the copies. */
    sk_json_wipe_strings(s);
    jv_free(s);
    sk_json_wipe_strings(doc);
    jv_free(doc);
    return 0;
}

struct xml_ranges {
    XML_Parser parser;
    int depth, secret_depth, refused;
    long start;
    long (*r)[2];
    size_t n, cap;
};

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');

    return colon ? colon + 1 : name;
}

static void XMLCALL xml_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    struct xml_ranges *x = ud;

    (void)atts;
    x->depth++;
    if (!x->secret_depth && sensitive_str(local_name(name))) {
        x->secret_depth = x->depth;
        x->start = (long)XML_GetCurrentByteIndex(x->parser) + XML_GetCurrentByteCount(x->parser);
    }
}

static void XMLCALL xml_end(void *ud, const XML_Char *name)
{
    struct xml_ranges *x = ud;
    long end;

    (void)name;
    if (x->secret_depth == x->depth) {
        end = (long)XML_GetCurrentByteIndex(x->parser);
        if (end > x->start) { /* not <Name/> */
            if (x->n == x->cap) {
                x->cap = x->cap ? x->cap * 2 : 8;
                x->r = xrealloc(x->r, x->cap * sizeof(*x->r));
            }
            x->r[x->n][0] = x->start;
            x->r[x->n++][1] = end;
        }
        x->secret_depth = 0;
    }
    x->depth--;
}

static void XMLCALL xml_doctype(void *ud, const XML_Char *name, const XML_Char *sysid, const XML_Char *pubid,
                                int has_internal_subset)
{
    struct xml_ranges *x = ud;

    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    x->refused = 1; /* AWS documents have no DTD: not one to expand entities of */
    XML_StopParser(x->parser, XML_FALSE);
}

/* expat's buffers hold the document: they are wiped when freed (lib/core/mem.h). */
static const XML_Memory_Handling_Suite wiping_memory = { sk_wipe_malloc, sk_wipe_realloc, sk_wipe_free };

static int show_xml(const char *body, size_t n, struct sk_buf *out)
{
    struct xml_ranges x;
    size_t i, at = 0;
    int rc = -1;

    memset(&x, 0, sizeof(x));
    if (n > INT_MAX)
        return -1;
    x.parser = XML_ParserCreate_MM(NULL, &wiping_memory, NULL);
    if (!x.parser)
        return -1;
    XML_SetUserData(x.parser, &x);
    XML_SetElementHandler(x.parser, xml_start, xml_end);
    XML_SetStartDoctypeDeclHandler(x.parser, xml_doctype);
    XML_SetParamEntityParsing(x.parser, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(x.parser, body, (int)n, XML_TRUE) != XML_STATUS_OK || x.refused)
        goto out;
    for (i = 0; i < x.n; i++) {
        if (x.r[i][0] < (long)at || x.r[i][1] > (long)n)
            continue;
        sk_buf_add(out, body + at, (size_t)x.r[i][0] - at);
        sk_buf_adds(out, redacted);
        at = (size_t)x.r[i][1];
    }
    sk_buf_add(out, body + at, n - at);
    rc = 0;
out:
    free(x.r);
    XML_ParserFree(x.parser);
    return rc;
}

struct form_out {
    struct sk_buf *out;
    int first;
};

static void show_param(void *ctx, const char *k, size_t klen, const char *v, size_t vlen)
{
    struct form_out *f = ctx;

    if (!f->first)
        sk_buf_addch(f->out, '&');
    f->first = 0;
    sk_buf_add(f->out, k, klen);
    if (!v)
        return;
    sk_buf_addch(f->out, '=');
    if (sensitive_param(k, klen))
        sk_buf_adds(f->out, redacted);
    else
        sk_buf_add(f->out, v, vlen);
}

int sk_redact_body(const char *body, size_t n, struct sk_buf *out)
{
    size_t i = skip_space(body, n);

    if (n == 0)
        return 0;
    if (i < n && (body[i] == '{' || body[i] == '['))
        return show_json(body, n, out);
    if (i < n && body[i] == '<')
        return show_xml(body, n, out);
    if (is_form(body, n)) {
        struct form_out f = { out, 1 };
        each_param(body, n, show_param, &f);
        return 0;
    }
    return -1;
}
