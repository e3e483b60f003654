/*
 * harness.h - a tiny TAP-emitting unit-test framework.
 *
 *   TEST(name) { ASSERT(...); ASSERT_OK(call, &err); ... }
 *   int main(void) { RUN(name); ...; return DONE(); }
 *
 * Each TEST prints one "ok N - name" or "not ok N - name" line; failed assertions print
 * "# file:line: what" diagnostics first. DONE() prints the plan and returns non-zero on failure.
 */
#ifndef SK_HARNESS_H
#define SK_HARNESS_H

#include <stdio.h>
#include <string.h>

#include "core/err.h"

static int h_tests, h_failed, h_cur_failed;

#define TEST(name) static void test_##name(void)
#define RUN(name)                                                                                                      \
    do {                                                                                                               \
        h_cur_failed = 0;                                                                                              \
        test_##name();                                                                                                 \
        h_tests++;                                                                                                     \
        if (h_cur_failed)                                                                                              \
            h_failed++;                                                                                                \
        printf("%s %d - %s\n", h_cur_failed ? "not ok" : "ok", h_tests, #name);                                        \
        fflush(stdout);                                                                                                \
    } while (0)
/* Data-driven: run fn(arg) as one TAP test named by the string name. */
#define RUN_NAMED(name, fn, arg)                                                                                       \
    do {                                                                                                               \
        h_cur_failed = 0;                                                                                              \
        fn(arg);                                                                                                       \
        h_tests++;                                                                                                     \
        if (h_cur_failed)                                                                                              \
            h_failed++;                                                                                                \
        printf("%s %d - %s\n", h_cur_failed ? "not ok" : "ok", h_tests, (name));                                       \
        fflush(stdout);                                                                                                \
    } while (0)
#define DONE() (printf("1..%d\n", h_tests), h_failed ? 1 : 0)

#define H_FAIL(...)                                                                                                    \
    do {                                                                                                               \
        printf("# %s:%d: ", __FILE__, __LINE__);                                                                       \
        printf(__VA_ARGS__);                                                                                           \
        printf("\n");                                                                                                  \
        h_cur_failed = 1;                                                                                              \
    } while (0)

#define ASSERT(cond)                                                                                                   \
    do {                                                                                                               \
        if (!(cond))                                                                                                   \
            H_FAIL("assertion failed: %s", #cond);                                                                     \
    } while (0)

/* call must return 0 (or a non-NULL pointer); err is a struct sk_err *. */
#define ASSERT_OK(call, err)                                                                                           \
    do {                                                                                                               \
        sk_err_clear(err);                                                                                             \
        if ((call) != 0)                                                                                               \
            H_FAIL("%s failed: [%s] %s", #call, sk_errkind_name((err)->kind), (err)->msg);                             \
    } while (0)

/* call must fail (-1) with error kind k. */
#define ASSERT_ERR(call, err, k)                                                                                       \
    do {                                                                                                               \
        sk_err_clear(err);                                                                                             \
        if ((call) == 0)                                                                                               \
            H_FAIL("%s succeeded, expected %s", #call, sk_errkind_name(k));                                            \
        else if ((err)->kind != (k))                                                                                   \
            H_FAIL("%s: got %s (%s), expected %s", #call, sk_errkind_name((err)->kind), (err)->msg,                    \
                   sk_errkind_name(k));                                                                                \
    } while (0)

#define ASSERT_STREQ(a, b)                                                                                             \
    do {                                                                                                               \
        const char *h_a = (a), *h_b = (b);                                                                             \
        if (!h_a || !h_b || strcmp(h_a, h_b) != 0)                                                                     \
            H_FAIL("%s != %s:\n#   got:  '%s'\n#   want: '%s'", #a, #b, h_a ? h_a : "(null)", h_b ? h_b : "(null)");   \
    } while (0)

#define ASSERT_MEMEQ(a, alen, b, blen)                                                                                 \
    do {                                                                                                               \
        if ((size_t)(alen) != (size_t)(blen) || memcmp((a), (b), (blen)) != 0)                                         \
            H_FAIL("%s != %s:\n#   got:  '%.*s'\n#   want: '%.*s'", #a, #b, (int)(alen), (const char *)(a),            \
                   (int)(blen), (const char *)(b));                                                                    \
    } while (0)

#endif
