/*
 * util_test - the small modules: buf (growth, secret wiping contract, detach), jsonw (escaping,
 * UTF-8 validation), hdr (case-insensitive lookup, delete), service (lookup, DNS suffixes), err.
 */
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "core/buf.h"
#include "svc/ecr.h"
#include "core/err.h"
#include "harness.h"
#include "core/hdr.h"
#include "core/jsonw.h"
#include "core/mem.h"
#include "aws/service.h"

TEST(buf_grows_and_formats)
{
    struct sk_buf b = SK_BUF_INIT;
    int i;

    ASSERT(b.p != NULL && b.p[0] == '\0' && b.len == 0);
    for (i = 0; i < 1000; i++)
        sk_buf_addf(&b, "%d,", i);
    ASSERT(b.len == strlen(b.p));
    ASSERT(strncmp(b.p, "0,1,2,", 6) == 0);
    ASSERT(strcmp(b.p + b.len - 4, "999,") == 0);
    sk_buf_truncate(&b, 2);
    ASSERT_STREQ(b.p, "0,");
    sk_buf_reset(&b);
    ASSERT(b.len == 0 && b.p[0] == '\0');
    sk_buf_addhex(&b, (const unsigned char *)"\x00\xff\x10", 3);
    ASSERT_STREQ(b.p, "00ff10");
    sk_buf_release(&b);
    sk_buf_release(&b); /* idempotent */
    ASSERT(b.p == sk_buf_empty);
}

TEST(buf_detach_of_empty_is_a_heap_string)
{
    struct sk_buf b = SK_BUF_INIT;
    size_t len = 99;
    char *p = sk_buf_detach(&b, &len);

    ASSERT(p != NULL && p != sk_buf_empty && p[0] == '\0' && len == 0);
    free(p);
    sk_buf_adds(&b, "abc");
    p = sk_buf_detach(&b, &len);
    ASSERT_STREQ(p, "abc");
    ASSERT(len == 3 && b.len == 0 && b.p == sk_buf_empty);
    free(p);
}

TEST(secret_buf_keeps_its_mark)
{
    struct sk_buf b;
    int i;

    sk_buf_init_secret(&b);
    for (i = 0; i < 100; i++)
        sk_buf_adds(&b, "secret-value-"); /* grows several times, never through realloc */
    ASSERT(b.secret);
    sk_buf_reset(&b);
    ASSERT(b.secret && b.len == 0);
    sk_buf_release(&b);
    ASSERT(b.secret); /* a released secret buffer stays secret if reused */
    sk_buf_adds(&b, "x");
    sk_buf_release(&b);
}

TEST(json_escape_and_writer)
{
    struct sk_buf b = SK_BUF_INIT;
    struct sk_jsonw w;
    jv v;

    sk_jsonw_begin(&w, &b);
    sk_jsonw_str(&w, "Name", "a\"b\\c\n\t\x01 é");
    sk_jsonw_bool(&w, "Overwrite", 1);
    sk_jsonw_int(&w, "N", -42);
    sk_jsonw_raw(&w, "Tags", "[{\"Key\":\"k\",\"Value\":\"v\"}]");
    sk_jsonw_strn(&w, "Bin", "a\0b", 3);
    sk_jsonw_end(&w);
    ASSERT_STREQ(b.p, "{\"Name\":\"a\\\"b\\\\c\\n\\t\\u0001 é\",\"Overwrite\":true,\"N\":-42,"
                      "\"Tags\":[{\"Key\":\"k\",\"Value\":\"v\"}],\"Bin\":\"a\\u0000b\"}");
    /* What we write, jq reads back to the same strings. */
    v = jv_parse(b.p);
    ASSERT(jv_get_kind(v) == JV_KIND_OBJECT);
    if (jv_get_kind(v) == JV_KIND_OBJECT) {
        jv name = jv_object_get(jv_copy(v), jv_string("Name"));
        ASSERT_STREQ(jv_string_value(name), "a\"b\\c\n\t\x01 é");
        jv_free(name);
    }
    jv_free(v);
    sk_buf_release(&b);
}

TEST(utf8_validation)
{
    ASSERT(sk_utf8_valid("plain ascii", 11));
    ASSERT(sk_utf8_valid("é ሴ 😀", strlen("é ሴ 😀")));
    ASSERT(!sk_utf8_valid("a\0b", 3));             /* NUL */
    ASSERT(!sk_utf8_valid("\xc3", 1));             /* truncated */
    ASSERT(!sk_utf8_valid("\xc0\xaf", 2));         /* overlong */
    ASSERT(!sk_utf8_valid("\xed\xa0\x80", 3));     /* surrogate */
    ASSERT(!sk_utf8_valid("\xf4\x90\x80\x80", 4)); /* above U+10FFFF */
    ASSERT(!sk_utf8_valid("\xff", 1));
}

TEST(headers)
{
    struct sk_headers h = SK_HEADERS_INIT;

    sk_headers_add(&h, "Content-Type", "a");
    sk_headers_add(&h, "X-Amz-Target", "b");
    sk_headers_add(&h, "content-type", "c");
    ASSERT_STREQ(sk_headers_get(&h, "CONTENT-TYPE"), "a");
    ASSERT(sk_headers_get(&h, "missing") == NULL);
    sk_headers_del(&h, "Content-type");
    ASSERT(h.n == 1);
    ASSERT(sk_headers_get(&h, "content-type") == NULL);
    ASSERT_STREQ(sk_headers_get(&h, "x-amz-target"), "b");
    sk_headers_release(&h);
    sk_headers_release(&h);
}

TEST(services)
{
    ASSERT(sk_service_find("ssm") == &sk_svc_ssm);
    ASSERT(sk_service_find("api.ecr") == &sk_svc_ecr);
    ASSERT(sk_service_find("elasticloadbalancing") == &sk_svc_elbv2);
    ASSERT(sk_service_find("nope") == NULL);
    ASSERT_STREQ(sk_svc_secretsmanager.env_suffix, "SECRETS_MANAGER");
    ASSERT_STREQ(sk_svc_elbv2.config_key, "elastic_load_balancing_v2");
    ASSERT_STREQ(sk_svc_ecr.target_prefix, "AmazonEC2ContainerRegistry_V20150921");
    ASSERT_STREQ(sk_region_dns_suffix("eu-west-1"), "amazonaws.com");
    ASSERT_STREQ(sk_region_dns_suffix("cn-north-1"), "amazonaws.com.cn");
}

TEST(errors)
{
    struct sk_err e;
    char longmsg[2000];

    sk_err_clear(&e);
    ASSERT(sk_errf(&e, SK_E_CONFIG, "no region for profile '%s'", "x") == -1);
    ASSERT(e.kind == SK_E_CONFIG);
    ASSERT_STREQ(e.msg, "no region for profile 'x'");
    sk_err_prefix(&e, "loading %s", "config");
    ASSERT_STREQ(e.msg, "loading config: no region for profile 'x'");
    memset(longmsg, 'a', sizeof(longmsg) - 1);
    longmsg[sizeof(longmsg) - 1] = '\0';
    sk_errf(&e, SK_E_USAGE, "%s", longmsg); /* truncated, never overflowed */
    ASSERT(strlen(e.msg) == sizeof(e.msg) - 1);
    sk_err_prefix(&e, "%s", longmsg);
    ASSERT(strlen(e.msg) == sizeof(e.msg) - 1);
    ASSERT(sk_errf(NULL, SK_E_USAGE, "x") == -1);
    ASSERT_STREQ(sk_errkind_name(SK_E_TIMEOUT), "timeout");
}

TEST(secret_helpers)
{
    char *s = xstrdup("hunter2");

    sk_clear_secret(&s);
    ASSERT(s == NULL);
    sk_free_secret(NULL);
    sk_wipe(NULL, 10);
}

TEST(ecr_registry_hosts)
{
    static const char *const bad[] = {
        "123456789012.dkr.ecr..amazonaws.com",         "123456789012.dkr.ecr.eu@west-1.amazonaws.com",
        "123456789012.dkr.ecr.eu:1.amazonaws.com",     "123456789012.dkr.ecr.EU-WEST-1.amazonaws.com",
        "12345678901.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.example.com",
        "123456789012.dkr.ecr.eu%2f.amazonaws.com",    "127.0.0.1:5000",
    };
    char *account = NULL, *region = NULL;
    size_t i;

    ASSERT(sk_ecr_parse_host("123456789012.dkr.ecr.eu-west-1.amazonaws.com", &account, &region) == 1);
    ASSERT_STREQ(account, "123456789012");
    ASSERT_STREQ(region, "eu-west-1");
    free(account);
    free(region);
    ASSERT(sk_ecr_parse_host("123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", &account, &region) == 1);
    ASSERT_STREQ(region, "us-gov-west-1");
    free(account);
    free(region);
    ASSERT(sk_ecr_parse_host("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", &account, &region) == 1);
    ASSERT_STREQ(region, "cn-north-1");
    free(account);
    free(region);
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        account = region = NULL;
        if (sk_ecr_parse_host(bad[i], &account, &region) != 0)
            H_FAIL("accepted %s", bad[i]);
        free(account);
        free(region);
    }
}

int main(void)
{
    RUN(buf_grows_and_formats);
    RUN(buf_detach_of_empty_is_a_heap_string);
    RUN(secret_buf_keeps_its_mark);
    RUN(json_escape_and_writer);
    RUN(utf8_validation);
    RUN(headers);
    RUN(services);
    RUN(errors);
    RUN(secret_helpers);
    RUN(ecr_registry_hosts);
    return DONE();
}
