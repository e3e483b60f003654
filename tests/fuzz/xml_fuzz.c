/*
 * xml_fuzz.c - sk_xml_parse on arbitrary bytes, with and without list items: never crash or leak;
 * a success is an object with the root element as its only key and dumps cleanly; a failure is a
 * parse error that leaves no value; both modes agree on success.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/xml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const items[] = { "DBInstance", "Filter", NULL };
    struct sk_err err = { 0 };
    struct sk_buf b = SK_BUF_INIT;
    jv v = jv_invalid(), plain = jv_invalid();
    int rc;

    rc = sk_xml_parse((const char *)data, size, items, &v, &err);
    if (rc == 0) {
        if (jv_get_kind(v) != JV_KIND_OBJECT || jv_object_length(jv_copy(v)) != 1)
            __builtin_trap();
        sk_json_dump(v, 0, &b);
        sk_json_dump(v, 1, &b);
    } else if (jv_is_valid(v) || err.kind != SK_E_PARSE || !err.msg[0]) {
        __builtin_trap(); /* failure must leave no value and be a parse error */
    }
    if ((sk_xml_parse((const char *)data, size, NULL, &plain, &err) == 0) != (rc == 0))
        __builtin_trap();
    jv_free(v);
    jv_free(plain);
    sk_buf_release(&b);
    return 0;
}
