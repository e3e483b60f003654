/*
 * yaml_fuzz.c - sk_yaml_parse (lib/core/yamljv.c) on arbitrary bytes, typed and with every scalar as
 * its text, with and without lines: never crash or leak; a failure is SK_E_USAGE with a message
 * and no value; the modes agree on success and on the shape (same keys in the same order, same
 * list lengths); in the strings mode every scalar is a string; the lines have the document's
 * shape, each map key as [line, lines of the value], every line from 1 to the input's line count.
 */
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"
#include "core/yamljv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int line_ok(jv n, double max)
{
    return jv_get_kind(n) == JV_KIND_NUMBER && jv_number_value(n) >= 1 && jv_number_value(n) <= max;
}

/* typed, strs and lines (all borrowed) describe the same document. */
static void check(jv typed, jv strs, jv lines, double max)
{
    int i, n;

    switch (jv_get_kind(strs)) {
    case JV_KIND_STRING:
        if (jv_get_kind(typed) == JV_KIND_ARRAY || jv_get_kind(typed) == JV_KIND_OBJECT || !line_ok(lines, max))
            __builtin_trap();
        break;
    case JV_KIND_ARRAY:
        n = jv_array_length(jv_copy(strs));
        if (jv_get_kind(typed) != JV_KIND_ARRAY || jv_array_length(jv_copy(typed)) != n ||
            jv_get_kind(lines) != JV_KIND_ARRAY || jv_array_length(jv_copy(lines)) != n)
            __builtin_trap();
        for (i = 0; i < n; i++) {
            jv t = jv_array_get(jv_copy(typed), i), s = jv_array_get(jv_copy(strs), i),
               l = jv_array_get(jv_copy(lines), i);
            check(t, s, l, max);
            jv_free(t);
            jv_free(s);
            jv_free(l);
        }
        break;
    case JV_KIND_OBJECT: {
        jv ks = jv_keys_unsorted(jv_copy(strs)), kt, kl, d1, d2;
        if (jv_get_kind(typed) != JV_KIND_OBJECT || jv_get_kind(lines) != JV_KIND_OBJECT)
            __builtin_trap();
        kt = jv_keys_unsorted(jv_copy(typed));
        kl = jv_keys_unsorted(jv_copy(lines));
        d1 = jv_dump_string(jv_copy(ks), 0);
        d2 = jv_dump_string(kt, 0);
        if (!jv_equal(jv_copy(d1), d2) || !jv_equal(d1, jv_dump_string(kl, 0)))
            __builtin_trap();
        n = jv_array_length(jv_copy(ks));
        for (i = 0; i < n; i++) {
            jv k = jv_array_get(jv_copy(ks), i);
            jv t = jv_object_get(jv_copy(typed), jv_copy(k)), s = jv_object_get(jv_copy(strs), jv_copy(k)),
               e = jv_object_get(jv_copy(lines), k), kline, vl;
            if (jv_get_kind(e) != JV_KIND_ARRAY || jv_array_length(jv_copy(e)) != 2)
                __builtin_trap();
            kline = jv_array_get(jv_copy(e), 0);
            vl = jv_array_get(jv_copy(e), 1);
            if (!line_ok(kline, max))
                __builtin_trap();
            check(t, s, vl, max);
            jv_free(t);
            jv_free(s);
            jv_free(e);
            jv_free(kline);
            jv_free(vl);
        }
        jv_free(ks);
        break;
    }
    default: __builtin_trap();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_err err = { 0 }, err2 = { 0 };
    struct sk_buf b = SK_BUF_INIT;
    jv typed = jv_invalid(), strs = jv_invalid(), lines = jv_invalid();
    int rc, rc2;
    size_t i;
    double max = 1;

    for (i = 0; i < size; i++) /* libyaml's line breaks: LF, CR, NEL, LS and PS (E2 80 A8/A9) */
        max += data[i] == '\n' || data[i] == '\r' || data[i] == 0x85 || data[i] == 0xe2;
    rc = sk_yaml_to_jv((const char *)data, size, "f.yaml", &typed, &err);
    rc2 = sk_yaml_parse((const char *)data, size, "f.yaml", SK_YAML_STRINGS, &strs, &lines, &err2);
    if (rc != rc2)
        __builtin_trap();
    if (rc < 0) {
        if (jv_is_valid(typed) || jv_is_valid(strs) || jv_is_valid(lines) || err.kind != SK_E_USAGE || !err.msg[0] ||
            err2.kind != SK_E_USAGE)
            __builtin_trap();
        return 0;
    }
    check(typed, strs, lines, max);
    sk_json_dump(typed, 0, &b);
    sk_json_wipe_strings(strs);
    jv_free(typed);
    jv_free(strs);
    jv_free(lines);
    sk_buf_release(&b);
    return 0;
}
