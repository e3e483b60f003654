/*
 * uri_fuzz.c - percent-encoding round trips and URL splitting on arbitrary bytes.
 *
 *  - encode gives only unreserved bytes, '/' (when kept) and %XX with uppercase hex, one or three
 *    bytes per input byte, the same through sk_uri_encodes up to a NUL; decode gives back the input
 *    exactly (both keep_slash modes);
 *  - when decode succeeds, encoding its output and decoding again is stable;
 *  - sk_uri_normalize_path gives an absolute path without empty, "." or ".." segments and is
 *    idempotent;
 *  - sk_url_parse never crashes and never leaks, whatever it decides; on success the Host header
 *    value is never empty.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/mem.h"
#include "core/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int unreserved(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' ||
           c == '.' || c == '~';
}

static int uphex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F');
}

static void check_encoded(const struct sk_buf *enc, const char *p, size_t n, int slash)
{
    size_t i, j = 0;

    for (i = 0; i < n; i++) {
        if (unreserved(p[i]) || (slash && p[i] == '/')) {
            if (j >= enc->len || enc->p[j] != p[i])
                __builtin_trap();
            j++;
        } else {
            if (j + 3 > enc->len || enc->p[j] != '%' || !uphex(enc->p[j + 1]) || !uphex(enc->p[j + 2]))
                __builtin_trap();
            j += 3;
        }
    }
    if (j != enc->len)
        __builtin_trap();
}

static void check_normalized(const struct sk_buf *b)
{
    const char *seg = b->p, *end = b->p + b->len;

    if (b->len == 0 || b->p[0] != '/')
        __builtin_trap();
    while (seg < end) {
        const char *slash = memchr(seg + 1, '/', (size_t)(end - seg - 1));
        size_t len = (size_t)((slash ? slash : end) - seg - 1);
        if ((len == 0 && slash) || (len == 1 && seg[1] == '.') || (len == 2 && seg[1] == '.' && seg[2] == '.'))
            __builtin_trap();
        seg = slash ? slash : end;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct sk_buf enc = SK_BUF_INIT, dec = SK_BUF_INIT, enc2 = SK_BUF_INIT, dec2 = SK_BUF_INIT;
    struct sk_err err = { 0 };
    struct sk_url u;
    char *s;
    int slash;

    s = xstrndup(p, size); /* up to the first NUL */
    for (slash = 0; slash < 2; slash++) {
        sk_buf_reset(&enc);
        sk_buf_reset(&dec);
        sk_uri_encode(&enc, p, size, slash);
        check_encoded(&enc, p, size, slash);
        sk_buf_reset(&enc2);
        sk_uri_encodes(&enc2, s, slash);
        if (enc2.len > enc.len || memcmp(enc2.p, enc.p, enc2.len) != 0)
            __builtin_trap();
        if (sk_uri_decode(&dec, enc.p, enc.len, &err) != 0)
            __builtin_trap();
        if (dec.len != size || (size && memcmp(dec.p, p, size) != 0))
            __builtin_trap();
    }

    sk_buf_reset(&dec);
    if (sk_uri_decode(&dec, p, size, &err) == 0) {
        sk_buf_reset(&enc2);
        sk_uri_encode(&enc2, dec.p, dec.len, 0);
        if (sk_uri_decode(&dec2, enc2.p, enc2.len, &err) != 0)
            __builtin_trap();
        if (dec2.len != dec.len || (dec.len && memcmp(dec2.p, dec.p, dec.len) != 0))
            __builtin_trap();
    } else if (err.kind != SK_E_USAGE) {
        __builtin_trap();
    }

    /* Path normalisation: absolute, no empty/"."/".." segments, idempotent. */
    sk_buf_reset(&enc);
    sk_buf_reset(&enc2);
    sk_uri_normalize_path(&enc, p, size);
    check_normalized(&enc);
    sk_uri_normalize_path(&enc2, enc.p, enc.len);
    if (enc2.len != enc.len || memcmp(enc2.p, enc.p, enc.len) != 0)
        __builtin_trap();

    memset(&u, 0, sizeof(u));
    if (sk_url_parse(s, &u, &err) == 0) {
        if (!u.scheme || !u.host || !u.path)
            __builtin_trap();
        sk_buf_reset(&enc);
        sk_url_host_header(&u, &enc);
        if (enc.len == 0)
            __builtin_trap();
    }
    sk_url_release(&u);
    free(s);
    sk_buf_release(&enc);
    sk_buf_release(&dec);
    sk_buf_release(&enc2);
    sk_buf_release(&dec2);
    return 0;
}
