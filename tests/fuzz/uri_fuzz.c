/*
 * uri_fuzz.c - percent-encoding round trips and URL splitting on arbitrary bytes.
 *
 *  - encode then decode gives back the input exactly (both keep_slash modes);
 *  - when decode succeeds, encoding its output and decoding again is stable;
 *  - sk_url_parse never crashes and never leaks, whatever it decides.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "mem.h"
#include "uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    struct sk_buf enc = SK_BUF_INIT, dec = SK_BUF_INIT, enc2 = SK_BUF_INIT, dec2 = SK_BUF_INIT;
    struct sk_err err = { 0 };
    struct sk_url u;
    char *s;
    int slash;

    for (slash = 0; slash < 2; slash++) {
        sk_buf_reset(&enc);
        sk_buf_reset(&dec);
        sk_uri_encode(&enc, p, size, slash);
        if (sk_uri_decode(&dec, enc.p, enc.len, &err) != 0)
            __builtin_trap();
        if (dec.len != size || (size && memcmp(dec.p, p, size) != 0))
            __builtin_trap();
    }

    sk_buf_reset(&dec);
    if (sk_uri_decode(&dec, p, size, &err) == 0) {
        sk_uri_encode(&enc2, dec.p, dec.len, 0);
        if (sk_uri_decode(&dec2, enc2.p, enc2.len, &err) != 0)
            __builtin_trap();
        if (dec2.len != dec.len || (dec.len && memcmp(dec2.p, dec.p, dec.len) != 0))
            __builtin_trap();
    } else if (err.kind != SK_E_USAGE) {
        __builtin_trap();
    }

    s = xstrndup(p, size);
    memset(&u, 0, sizeof(u));
    if (sk_url_parse(s, &u, &err) == 0) {
        if (!u.scheme || !u.host || !u.path)
            __builtin_trap();
        sk_buf_reset(&enc);
        sk_url_host_header(&u, &enc);
    }
    sk_url_release(&u);
    free(s);
    sk_buf_release(&enc);
    sk_buf_release(&dec);
    sk_buf_release(&enc2);
    sk_buf_release(&dec2);
    return 0;
}
