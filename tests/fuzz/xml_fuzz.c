/*
 * xml_fuzz.c - sk_xml_parse on arbitrary bytes: never crash or leak; a success dumps cleanly.
 */
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "err.h"
#include "json.h"
#include "xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const items[] = { "DBInstance", "Filter", NULL };
    struct sk_err err = { 0 };
    struct sk_buf b = SK_BUF_INIT;
    jv v = jv_invalid();

    if (sk_xml_parse((const char *)data, size, items, &v, &err) == 0) {
        sk_json_dump(v, 0, &b);
        sk_json_dump(v, 1, &b);
    } else if (jv_is_valid(v) || err.kind != SK_E_PARSE) {
        __builtin_trap(); /* failure must leave no value and be a parse error */
    }
    jv_free(v);
    sk_buf_release(&b);
    return 0;
}
