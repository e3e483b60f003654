/*
 * yamljv_test - the one YAML reader (lib/core/yamljv.c): core-schema scalars or every scalar as its
 * text, maps and lists, where each thing is (lines), and its rules: no aliases, no key twice, one
 * document, at most SK_YAML_MAX bytes, errors with file:line.
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "harness.h"
#include "core/json.h"
#include "core/yamljv.h"

/* Parse s with flags and compare the compact JSON of the result with want. */
static void check_json(const char *s, unsigned flags, const char *want)
{
    struct sk_err err;
    jv v = jv_invalid(), d;

    sk_err_clear(&err);
    if (sk_yaml_parse(s, strlen(s), "t.yaml", flags, &v, NULL, &err) < 0) {
        H_FAIL("'%s': %s", s, err.msg);
        return;
    }
    d = jv_dump_string(v, JV_PRINT_SORTED);
    if (strcmp(jv_string_value(d), want) != 0)
        H_FAIL("'%s':\n#   got:  %s\n#   want: %s", s, jv_string_value(d), want);
    jv_free(d);
}

/* Parse s; it must fail with SK_E_USAGE and a message starting with want. */
static void check_refused(const char *s, size_t len, const char *want)
{
    struct sk_err err;
    jv v = jv_invalid(), l = jv_invalid();

    sk_err_clear(&err);
    if (sk_yaml_parse(s, len, "t.yaml", 0, &v, &l, &err) == 0) {
        H_FAIL("'%s' accepted", s);
        jv_free(v);
        jv_free(l);
        return;
    }
    if (err.kind != SK_E_USAGE || strncmp(err.msg, want, strlen(want)) != 0)
        H_FAIL("'%s':\n#   got:  [%s] %s\n#   want: %s...", s, sk_errkind_name(err.kind), err.msg, want);
}

#define REFUSED(s, want) check_refused(s, sizeof(s) - 1, want)

TEST(core_schema_scalars)
{
    check_json("a: true\nb: False\nc: null\nd: ~\ne:\nf: 12\ng: -1.5\nh: 0x1F\ni: hello world\n", 0,
               "{\"a\":true,\"b\":false,\"c\":null,\"d\":null,\"e\":null,\"f\":12,\"g\":-1.5,\"h\":31,"
               "\"i\":\"hello world\"}");
    /* Quoted scalars are strings. */
    check_json("a: 'true'\nb: \"12\"\nc: ''\n", 0, "{\"a\":\"true\",\"b\":\"12\",\"c\":\"\"}");
    check_json("42", 0, "42");
}

/* SK_YAML_STRINGS: every scalar as written (SSM values: "0123" stays "0123"). */
TEST(strings_flag)
{
    check_json("a: true\nb: 0123\nc: ~\nd:\ne: [1, null]\n", SK_YAML_STRINGS,
               "{\"a\":\"true\",\"b\":\"0123\",\"c\":\"~\",\"d\":\"\",\"e\":[\"1\",\"null\"]}");
}

TEST(maps_and_lists)
{
    check_json("a:\n  b:\n    - 1\n    - x: y\n  c: {d: [e, f]}\n", 0,
               "{\"a\":{\"b\":[1,{\"x\":\"y\"}],\"c\":{\"d\":[\"e\",\"f\"]}}}");
    check_json("- a\n- - b\n  - c\n", 0, "[\"a\",[\"b\",\"c\"]]");
    check_json("{}", 0, "{}");
}

/* Keys keep the file's order (ssm-put writes and reports in that order). */
TEST(key_order)
{
    static const char s[] = "z: 1\na: 2\nm: 3\n";
    struct sk_err err;
    jv v, k, d;

    ASSERT_OK(sk_yaml_parse(s, sizeof(s) - 1, "t.yaml", 0, &v, NULL, &err), &err);
    if (h_cur_failed)
        return;
    k = jv_keys_unsorted(v);
    d = jv_dump_string(k, 0);
    ASSERT_STREQ(jv_string_value(d), "[\"z\",\"a\",\"m\"]");
    jv_free(d);
}

/* A "\0" escape is kept by length, not cut. */
TEST(nul_escape_kept)
{
    static const char s[] = "a: \"x\\0y\"\n";
    struct sk_err err;
    jv v, a;

    ASSERT_OK(sk_yaml_to_jv(s, sizeof(s) - 1, "t.yaml", &v, &err), &err);
    if (h_cur_failed)
        return;
    a = jv_object_get(v, jv_string("a"));
    ASSERT(jv_get_kind(a) == JV_KIND_STRING && jv_string_length_bytes(jv_copy(a)) == 3);
    ASSERT_MEMEQ(jv_string_value(a), 3, "x\0y", 3);
    jv_free(a);
}

TEST(lines)
{
    static const char s[] = "# a comment\n"
                            "one: 1\n"
                            "two:\n"
                            "  value: x\n"
                            "  list:\n"
                            "    - a\n"
                            "    - b\n"
                            "three: [c]\n";
    struct sk_err err;
    jv v, l, two, list, d;

    ASSERT_OK(sk_yaml_parse(s, sizeof(s) - 1, "t.yaml", SK_YAML_STRINGS, &v, &l, &err), &err);
    if (h_cur_failed)
        return;
    ASSERT(sk_yaml_key_line(l, "one") == 2);
    ASSERT(sk_yaml_key_line(l, "two") == 3);
    ASSERT(sk_yaml_key_line(l, "three") == 8);
    ASSERT(sk_yaml_key_line(l, "four") == 0);
    two = sk_yaml_value_lines(l, "two");
    ASSERT(sk_yaml_key_line(two, "value") == 4);
    ASSERT(sk_yaml_key_line(two, "list") == 5);
    list = sk_yaml_value_lines(two, "list");
    d = jv_dump_string(list, 0);
    ASSERT_STREQ(jv_string_value(d), "[6,7]");
    jv_free(d);
    d = jv_dump_string(sk_yaml_value_lines(l, "one"), 0);
    ASSERT_STREQ(jv_string_value(d), "2");
    jv_free(d);
    ASSERT(!jv_is_valid(sk_yaml_value_lines(l, "nope")));
    ASSERT(sk_yaml_key_line(sk_yaml_value_lines(l, "one"), "x") == 0); /* not a map */
    jv_free(two);
    jv_free(v);
    jv_free(l);
}

/* Aliases could make a small file enormous (billion laughs): refused, with their line. */
TEST(aliases_refused)
{
    REFUSED("a: &x [1, 2]\nb: *x\n", "t.yaml:2: YAML aliases (*name) are not supported");
    REFUSED("a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n", "t.yaml:2: YAML aliases");
    REFUSED("base: &b {k: v}\nother:\n  <<: *b\n", "t.yaml:3: YAML aliases");
    /* An anchor alone expands nothing; '&' and '*' in text are text. */
    check_json("a: &x 1\nb: 'a*b & c'\nc: a*b\n", 0, "{\"a\":1,\"b\":\"a*b & c\",\"c\":\"a*b\"}");
}

/* A key twice would silently replace the first. */
TEST(duplicate_keys_refused)
{
    REFUSED("a: 1\nb: 2\na: 3\n", "t.yaml:3: 'a' appears twice");
    REFUSED("top:\n  x: 1\n  'x': 2\n", "t.yaml:3: 'x' appears twice");
    check_json("a: {x: 1}\nb: {x: 2}\n", 0, "{\"a\":{\"x\":1},\"b\":{\"x\":2}}");
}

TEST(structure_refused)
{
    REFUSED("", "t.yaml: empty YAML document");
    REFUSED("# only a comment\n", "t.yaml: empty YAML document");
    REFUSED("a: 1\n---\nb: 2\n", "t.yaml: more than one YAML document");
    REFUSED("? [1, 2]\n: v\n", "t.yaml:1: map keys must be plain strings");
    {
        char deep[200];
        memset(deep, '[', 100);
        memset(deep + 100, ']', 100);
        check_refused(deep, sizeof(deep), "t.yaml:1: nested deeper than 64");
    }
}

/* Syntax errors and bad bytes name their line. */
TEST(errors_have_lines)
{
    REFUSED("a: 1\nb: [1, 2\nc: 3\n", "t.yaml:3: invalid YAML: ");
    REFUSED("a: 1\nb: 2\n c: 3\n", "t.yaml:3: invalid YAML: ");
    REFUSED("a: 1\nb: 'x\n", "t.yaml:3: invalid YAML: ");
    REFUSED("a: 1\nb: 2\nc: \xff\xfe\n", "t.yaml:3: invalid YAML: invalid leading UTF-8 octet");
    REFUSED("a: 1\nb: \"\xc3\x28\"\n", "t.yaml:2: invalid YAML: ");
    REFUSED("a: 1\n\nc: x\x01y\n", "t.yaml:3: invalid YAML: control characters are not allowed");
    REFUSED("a: 1\n---\nb: [\n", "t.yaml:4: invalid YAML after the first document: ");
}

/* One size limit: SK_YAML_MAX bytes are read, one more is refused before parsing. */
TEST(size_limit)
{
    char *s = malloc(SK_YAML_MAX + 1);
    struct sk_err err;
    jv v;

    if (!s)
        return;
    memcpy(s, "a: ", 3);
    memset(s + 3, 'x', SK_YAML_MAX - 4);
    s[SK_YAML_MAX - 1] = '\n';
    ASSERT_OK(sk_yaml_parse(s, SK_YAML_MAX, "t.yaml", SK_YAML_STRINGS, &v, NULL, &err), &err);
    if (!h_cur_failed)
        jv_free(v);
    s[SK_YAML_MAX - 1] = 'x';
    s[SK_YAML_MAX] = '\n';
    check_refused(s, SK_YAML_MAX + 1, "t.yaml: more than 1048576 bytes of YAML");
    ASSERT_ERR(sk_yaml_to_jv(s, SK_YAML_MAX + 1, "t.yaml", &v, &err), &err, SK_E_USAGE);
    free(s);
}

int main(void)
{
    RUN(core_schema_scalars);
    RUN(strings_flag);
    RUN(maps_and_lists);
    RUN(key_order);
    RUN(nul_escape_kept);
    RUN(lines);
    RUN(aliases_refused);
    RUN(duplicate_keys_refused);
    RUN(structure_refused);
    RUN(errors_have_lines);
    RUN(size_limit);
    return DONE();
}
