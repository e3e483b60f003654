/*
 * jsonw.h - write a flat JSON object straight into a struct sk_buf.
 *
 * For request bodies that carry secrets: jv copies strings into memory it frees without wiping,
 * so secret values never go through jv. Make the buffer secret (sk_buf_init_secret) first.
 *
 *   struct sk_jsonw w; sk_jsonw_begin(&w, &buf); sk_jsonw_str(&w, "Name", name); ... sk_jsonw_end(&w);
 */
#ifndef SK_JSONW_H
#define SK_JSONW_H

#include <stddef.h>

#include "core/buf.h"

struct sk_jsonw {
    struct sk_buf *out;
    int n; /* members written so far */
};

void sk_jsonw_begin(struct sk_jsonw *w, struct sk_buf *out);
void sk_jsonw_end(struct sk_jsonw *w);
void sk_jsonw_str(struct sk_jsonw *w, const char *key, const char *value);
void sk_jsonw_strn(struct sk_jsonw *w, const char *key, const char *value, size_t len);
void sk_jsonw_bool(struct sk_jsonw *w, const char *key, int value);
void sk_jsonw_int(struct sk_jsonw *w, const char *key, long long value);
/* value is already-serialised JSON (an array or object). */
void sk_jsonw_raw(struct sk_jsonw *w, const char *key, const char *json);
/* Append s[0..n) as a JSON string literal, quotes included; bytes >= 0x80 pass through (the
 * caller guarantees UTF-8), control characters are escaped. */
void sk_json_escape(struct sk_buf *out, const char *s, size_t n);
/* 1 if p[0..n) is valid UTF-8 without NUL bytes. */
int sk_utf8_valid(const char *p, size_t n);

#endif
