/*
 * json_fixture.h - canned JSON for unit tests: h_json(text) parses text (sk_json_parse) and fails the
 * current test, returning an invalid jv, when the test's own JSON is bad. Include after harness.h.
 */
#ifndef SK_JSON_FIXTURE_H
#define SK_JSON_FIXTURE_H

#include <string.h>

#include <jv.h>

#include "core/json.h"

static inline jv h_json(const char *text)
{
    struct sk_err err;
    jv v = jv_invalid();

    sk_err_clear(&err);
    if (sk_json_parse(text, strlen(text), &v, &err) < 0)
        H_FAIL("bad test JSON: %s", err.msg);
    return v;
}

#endif
