/*
 * json_fuzz.c - sk_json_parse and the kind-checked field extraction on arbitrary bytes:
 *  - never crash or leak; a failure is a parse error and leaves no value;
 *  - a parsed value's compact dump re-parses and dumps to the same text (not jv_equal: jq 1.6 dumps
 *    an overflowing number, parsed as infinity, as DBL_MAX);
 *  - field extraction agrees with the document: for every key of every object (to a few levels),
 *    sk_json_get gives that member, sk_json_str a string exactly when it is one (same bytes),
 *    sk_json_num a number exactly when it is one (same value), and sk_json_path from the root
 *    along the keys gives the same member; absent keys and non-objects give nothing;
 *  - sk_json_wipe_strings leaves every string value all zero bytes.
 */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_DEPTH 6
#define MAX_KEYS 16

static int same(jv want, jv got) /* consumes both */
{
    if (!jv_is_valid(want) || !jv_is_valid(got)) {
        int r = !jv_is_valid(want) && !jv_is_valid(got);
        jv_free(want);
        jv_free(got);
        return r;
    }
    return jv_equal(want, got);
}

static void check_fields(jv root, jv obj, const char **path, int depth);

/* The getters agree with jv_object_get for key (present or not). */
static void check_key(jv root, jv obj, const char *key, const char **path, int depth)
{
    jv want = jv_object_get(jv_copy(obj), jv_string(key)), got;
    const char *str;
    double d = 0;
    int num;

    if (!same(jv_copy(want), sk_json_get(obj, key)))
        __builtin_trap();
    str = sk_json_str(obj, key);
    if ((str != NULL) != (jv_get_kind(want) == JV_KIND_STRING) || (str && strcmp(str, jv_string_value(want))))
        __builtin_trap();
    num = sk_json_num(obj, key, &d) == 0;
    if (num != (jv_get_kind(want) == JV_KIND_NUMBER))
        __builtin_trap();
    if (num && !(d == jv_number_value(want) || (isnan(d) && isnan(jv_number_value(want)))))
        __builtin_trap();
    path[depth] = key;
    path[depth + 1] = NULL;
    got = sk_json_path(root, path);
    if (!same(jv_copy(want), got))
        __builtin_trap();
    if (jv_is_valid(want))
        check_fields(root, want, path, depth + 1);
    path[depth] = NULL;
    jv_free(want);
}

/* Check the getters on obj (borrowed), reached from root along path[0..depth). */
static void check_fields(jv root, jv obj, const char **path, int depth)
{
    jv keys, k, got;
    double d;
    int i, n;

    if (jv_get_kind(obj) != JV_KIND_OBJECT) {
        got = sk_json_get(obj, "a");
        if (jv_is_valid(got) || sk_json_str(obj, "a") || sk_json_num(obj, "a", &d) == 0)
            __builtin_trap();
        jv_free(got);
        return;
    }
    got = sk_json_get(obj, NULL);
    if (jv_is_valid(got))
        __builtin_trap();
    jv_free(got);
    if (depth >= MAX_DEPTH)
        return;
    keys = jv_keys(jv_copy(obj));
    n = jv_array_length(jv_copy(keys));
    for (i = 0; i < n && i < MAX_KEYS; i++) {
        k = jv_array_get(jv_copy(keys), i);
        /* a key holding a NUL cannot be named through the C API */
        if ((size_t)jv_string_length_bytes(jv_copy(k)) == strlen(jv_string_value(k)))
            check_key(root, obj, jv_string_value(k), path, depth);
        jv_free(k);
    }
    jv_free(keys);
    check_key(root, obj, "\001absent", path, depth);
}

/* Every string value (not key) is zeros after sk_json_wipe_strings. */
static void check_wiped(jv v)
{
    int i, n, it;

    switch (jv_get_kind(v)) {
    case JV_KIND_STRING: {
        const char *s = jv_string_value(v);
        n = jv_string_length_bytes(jv_copy(v));
        for (i = 0; i < n; i++)
            if (s[i])
                __builtin_trap();
        break;
    }
    case JV_KIND_ARRAY:
        n = jv_array_length(jv_copy(v));
        for (i = 0; i < n; i++) {
            jv e = jv_array_get(jv_copy(v), i);
            check_wiped(e);
            jv_free(e);
        }
        break;
    case JV_KIND_OBJECT:
        for (it = jv_object_iter(v); jv_object_iter_valid(v, it); it = jv_object_iter_next(v, it)) {
            jv e = jv_object_iter_value(v, it);
            check_wiped(e);
            jv_free(e);
        }
        break;
    default: break;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const path[] = { "a", "b", "c", NULL };
    const char *keys[MAX_DEPTH + 1] = { NULL };
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

    check_fields(v, v, keys, 0);
    sk_json_wipe_strings(v);
    check_wiped(v);
out:
    jv_free(v);
    jv_free(again);
    sk_buf_release(&b);
    sk_buf_release(&b2);
    return 0;
}
