/*
 * xml_test.c - lib/core/xml.c: the Query-protocol XML to jv mapping and its refusals.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "harness.h"
#include "core/json.h"
#include "core/xml.h"

/* Parse s and compare the compact JSON dump of the result with want. */
static void check_xml(const char *s, const char *const *items, const char *want)
{
    struct sk_err err;
    struct sk_buf b = SK_BUF_INIT;
    jv v = jv_invalid();

    ASSERT_OK(sk_xml_parse(s, strlen(s), items, &v, &err), &err);
    sk_json_dump(v, 0, &b);
    ASSERT_STREQ(b.p, want);
    jv_free(v);
    sk_buf_release(&b);
}

static void check_refused(const char *s, const char *want_substr)
{
    struct sk_err err;
    jv v = jv_invalid();

    ASSERT_ERR(sk_xml_parse(s, strlen(s), NULL, &v, &err), &err, SK_E_PARSE);
    ASSERT(!jv_is_valid(v));
    if (want_substr && !strstr(err.msg, want_substr))
        H_FAIL("message '%s' lacks '%s'", err.msg, want_substr);
}

TEST(leaf_and_nesting)
{
    check_xml("<A><B>x</B><C><D>1</D></C><E/></A>", NULL, "{\"A\":{\"B\":\"x\",\"C\":{\"D\":\"1\"},\"E\":\"\"}}");
    check_xml("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Root>text</Root>\n", NULL, "{\"Root\":\"text\"}");
    check_xml("<Root/>", NULL, "{\"Root\":\"\"}");
}

TEST(whitespace_between_children_ignored)
{
    check_xml("<A>\n  <B> keep  spaces </B>\n  <C>\n  </C>\n</A>", NULL,
              "{\"A\":{\"B\":\" keep  spaces \",\"C\":\"\\n  \"}}");
}

TEST(repeated_becomes_array)
{
    check_xml("<A><B>1</B><B>2</B><B>3</B><C>x</C></A>", NULL, "{\"A\":{\"B\":[\"1\",\"2\",\"3\"],\"C\":\"x\"}}");
}

TEST(single_member_is_array)
{
    check_xml("<R><Targets><member><Id>i-1</Id></member></Targets></R>", NULL,
              "{\"R\":{\"Targets\":{\"member\":[{\"Id\":\"i-1\"}]}}}");
    check_xml("<R><Targets><member>a</member><member>b</member></Targets></R>", NULL,
              "{\"R\":{\"Targets\":{\"member\":[\"a\",\"b\"]}}}");
}

TEST(list_items_honoured)
{
    static const char *const items[] = { "DBInstance", "Filter", NULL };

    check_xml("<R><DBInstances><DBInstance><Id>db1</Id></DBInstance></DBInstances><Other>o</Other></R>", items,
              "{\"R\":{\"DBInstances\":{\"DBInstance\":[{\"Id\":\"db1\"}]},\"Other\":\"o\"}}");
    check_xml("<R><DBInstance>a</DBInstance></R>", NULL, "{\"R\":{\"DBInstance\":\"a\"}}");
}

TEST(entities_decoded)
{
    check_xml("<A><B>a &amp; b &lt;c&gt; &quot;q&quot; &apos;s&apos; &#65;&#x42; caf&#xe9;</B>"
              "<C><![CDATA[<raw> & stuff]]></C></A>",
              NULL, "{\"A\":{\"B\":\"a & b <c> \\\"q\\\" 's' AB caf\xc3\xa9\",\"C\":\"<raw> & stuff\"}}");
}

TEST(namespaced_error_response)
{
    const char *s = "<ErrorResponse xmlns=\"http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/\">\n"
                    "  <Error>\n    <Type>Sender</Type>\n    <Code>TargetGroupNotFound</Code>\n"
                    "    <Message>One or more target groups not found</Message>\n  </Error>\n"
                    "  <RequestId>abc-123</RequestId>\n</ErrorResponse>\n";
    struct sk_err err;
    jv v = jv_invalid(), e;
    static const char *const code[] = { "ErrorResponse", "Error", "Code", NULL };

    ASSERT_OK(sk_xml_parse(s, strlen(s), NULL, &v, &err), &err);
    e = sk_json_path(v, code);
    ASSERT(jv_get_kind(e) == JV_KIND_STRING);
    if (jv_get_kind(e) == JV_KIND_STRING)
        ASSERT_STREQ(jv_string_value(e), "TargetGroupNotFound");
    jv_free(e);
    jv_free(v);
    /* Prefixed names lose the prefix. */
    check_xml("<q:ErrorResponse xmlns:q=\"urn:x\"><q:Error><q:Code>C</q:Code></q:Error></q:ErrorResponse>", NULL,
              "{\"ErrorResponse\":{\"Error\":{\"Code\":\"C\"}}}");
}

TEST(attributes_ignored)
{
    check_xml("<A id=\"1\"><B x=\"y\">t</B></A>", NULL, "{\"A\":{\"B\":\"t\"}}");
}

TEST(truncated_and_malformed)
{
    check_refused("<A><B>x</B>", "xml: ");
    check_refused("<A><B>x</B", "line");
    check_refused("<A></B>", "mismatched tag");
    check_refused("", "xml: ");
    check_refused("   ", "xml: ");
    check_refused("<A>&nosuch;</A>", "undefined entity");
    check_refused("<A/><B/>", "junk after document element");
}

TEST(doctype_refused)
{
    check_refused("<!DOCTYPE A><A/>", "xml: DOCTYPE not allowed");
    check_refused("<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
                  " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
                  " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n"
                  "]>\n<lolz>&lol2;</lolz>",
                  "DOCTYPE not allowed");
    check_refused("<!DOCTYPE A SYSTEM \"file:///etc/passwd\"><A>&x;</A>", "DOCTYPE not allowed");
}

static char *nested(int depth)
{
    struct sk_buf b = SK_BUF_INIT;
    int i;

    for (i = 0; i < depth; i++)
        sk_buf_adds(&b, "<a>");
    sk_buf_adds(&b, "x");
    for (i = 0; i < depth; i++)
        sk_buf_adds(&b, "</a>");
    return sk_buf_detach(&b, NULL);
}

TEST(depth_limit)
{
    struct sk_err err;
    jv v = jv_invalid();
    char *ok = nested(SK_XML_MAX_DEPTH), *bad = nested(SK_XML_MAX_DEPTH + 1);

    ASSERT_OK(sk_xml_parse(ok, strlen(ok), NULL, &v, &err), &err);
    jv_free(v);
    ASSERT_ERR(sk_xml_parse(bad, strlen(bad), NULL, &v, &err), &err, SK_E_PARSE);
    ASSERT(strstr(err.msg, "deeper than 64") != NULL);
    free(ok);
    free(bad);
}

TEST(text_cap)
{
    struct sk_err err;
    struct sk_buf b = SK_BUF_INIT;
    jv v = jv_invalid();
    size_t i;

    sk_buf_adds(&b, "<A>");
    sk_buf_grow(&b, 17u * 1024 * 1024);
    for (i = 0; i < 17u * 1024 * 1024; i++)
        b.p[b.len++] = 'x';
    sk_buf_adds(&b, "</A>");
    ASSERT_ERR(sk_xml_parse(b.p, b.len, NULL, &v, &err), &err, SK_E_PARSE);
    ASSERT(strstr(err.msg, "16 MiB") != NULL);
    sk_buf_release(&b);
}

/* Input need not be NUL-terminated. */
TEST(sized_input)
{
    struct sk_err err;
    char *p = malloc(8);
    jv v = jv_invalid();

    memcpy(p, "<A>b</A>", 8);
    ASSERT_OK(sk_xml_parse(p, 8, NULL, &v, &err), &err);
    jv_free(v);
    ASSERT_ERR(sk_xml_parse(p, 7, NULL, &v, &err), &err, SK_E_PARSE);
    free(p);
}

TEST(query_response_shape)
{
    static const char *const items[] = { "DBInstance", NULL };
    const char *s = "<DescribeDBInstancesResponse xmlns=\"http://rds.amazonaws.com/doc/2014-10-31/\">\n"
                    "  <DescribeDBInstancesResult>\n    <DBInstances>\n      <DBInstance>\n"
                    "        <DBInstanceIdentifier>db1</DBInstanceIdentifier>\n"
                    "        <DBInstanceStatus>available</DBInstanceStatus>\n      </DBInstance>\n"
                    "    </DBInstances>\n  </DescribeDBInstancesResult>\n"
                    "  <ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata>\n"
                    "</DescribeDBInstancesResponse>";

    check_xml(s, items,
              "{\"DescribeDBInstancesResponse\":{\"DescribeDBInstancesResult\":{\"DBInstances\":{\"DBInstance\":"
              "[{\"DBInstanceIdentifier\":\"db1\",\"DBInstanceStatus\":\"available\"}]}},"
              "\"ResponseMetadata\":{\"RequestId\":\"r-1\"}}}");
}

int main(void)
{
    RUN(leaf_and_nesting);
    RUN(whitespace_between_children_ignored);
    RUN(repeated_becomes_array);
    RUN(single_member_is_array);
    RUN(list_items_honoured);
    RUN(entities_decoded);
    RUN(namespaced_error_response);
    RUN(attributes_ignored);
    RUN(truncated_and_malformed);
    RUN(doctype_refused);
    RUN(depth_limit);
    RUN(text_cap);
    RUN(sized_input);
    RUN(query_response_shape);
    return DONE();
}
