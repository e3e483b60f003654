/*
 * json_fuzz.c - sk_json_parse and the kind-checked helpers on arbitrary bytes: never crash or leak;
 * a parsed value's compact dump re-parses and dumps to the same text. (Not jv_equal: jq 1.6 dumps
 * an overflowing number, parsed as infinity, as DBL_MAX.)
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "err.h"
#include "json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const path[] = { "a", "b", "c", NULL };
    struct sk_err err = { 0 };
    struct sk_buf b = SK_BUF_INIT, b2 = SK_BUF_INIT;
    jv v = jv_invalid(), again = jv_invalid(), r;
    double d;

    if (sk_json_parse((const char *)data, size, &v, &err) != 0) {
        if (jv_is_valid(v) || err.kind != SK_E_PARSE)
            __builtin_trap();
        goto out;
    }
    /* Helpers take any kind without aborting. */
    (void)sk_json_str(v, "a");
    (void)sk_json_num(v, "n", &d);
    jv_free(sk_json_get(v, "b"));
    r = sk_json_path(v, path);
    jv_free(r);

    sk_json_dump(v, 0, &b);
    if (sk_json_parse(b.p, b.len, &again, &err) != 0)
        __builtin_trap();
    sk_json_dump(again, 0, &b2);
    if (strcmp(b.p, b2.p) != 0)
        __builtin_trap();
    sk_buf_reset(&b);
    sk_json_dump(v, 1, &b);
out:
    jv_free(v);
    jv_free(again);
    sk_buf_release(&b);
    sk_buf_release(&b2);
    return 0;
}
