/*
 * registry_test.c - lib/oci/registry.c's credentials for registries other than ECR: HTTP Basic from
 * USER:PASSWORD (sk_registry_basic), and Docker's config.json (sk_registry_docker_auth): which entry
 * is the host's, what Docker would ask a credential helper for, and what is refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "core/mem.h"
#include "oci/registry.h"

/* base64("user:pa ss") */
#define USERPASS_B64 "dXNlcjpwYSBzcw=="

TEST(basic)
{
    char *b = sk_registry_basic("user:pa ss", 10);

    ASSERT_STREQ(b, USERPASS_B64);
    sk_free_secret(b);
    b = sk_registry_basic("user:", 5); /* an empty password is the registry's business */
    ASSERT_STREQ(b, "dXNlcjo=");
    sk_free_secret(b);
    ASSERT(sk_registry_basic("userpass", 8) == NULL);
    ASSERT(sk_registry_basic(":pass", 5) == NULL);
    ASSERT(sk_registry_basic("user:pa\r\nX-Evil: 1", 18) == NULL);
    ASSERT(sk_registry_basic("user:pa\tss", 10) == NULL);
    ASSERT(sk_registry_basic("", 0) == NULL);
}

static int docker(const char *json, const char *host, char **basic, char **helper)
{
    struct sk_err err;

    sk_err_clear(&err);
    *basic = *helper = NULL;
    return sk_registry_docker_auth(json, strlen(json), host, basic, helper, &err);
}

TEST(docker_config)
{
    char *b = NULL, *h = NULL;

    /* "auth", under the forms of key Docker writes */
    ASSERT(docker("{\"auths\":{\"reg.example:5000\":{\"auth\":\"" USERPASS_B64 "\"}}}", "reg.example:5000", &b, &h) ==
           1);
    ASSERT_STREQ(b, USERPASS_B64);
    ASSERT(h == NULL);
    sk_free_secret(b);
    ASSERT(docker("{\"auths\":{\"https://REG.example:5000/v1/\":{\"auth\":\"" USERPASS_B64 "\"}}}", "reg.example:5000",
                  &b, &h) == 1);
    ASSERT_STREQ(b, USERPASS_B64);
    sk_free_secret(b);
    /* username and password */
    ASSERT(docker("{\"auths\":{\"reg.example\":{\"username\":\"user\",\"password\":\"pa ss\"}}}", "reg.example", &b,
                  &h) == 1);
    ASSERT_STREQ(b, USERPASS_B64);
    sk_free_secret(b);

    /* another host's credentials are not this one's */
    ASSERT(docker("{\"auths\":{\"reg.example\":{\"auth\":\"" USERPASS_B64 "\"}}}", "reg.example:5000", &b, &h) == 0);
    ASSERT(docker("{\"auths\":{\"reg.example.evil\":{\"auth\":\"" USERPASS_B64 "\"}}}", "reg.example", &b, &h) == 0);
    ASSERT(docker("{\"auths\":{\"evil/reg.example\":{\"auth\":\"" USERPASS_B64 "\"}}}", "reg.example", &b, &h) == 0);
    ASSERT(b == NULL && h == NULL);
    ASSERT(docker("{}", "reg.example", &b, &h) == 0);
    ASSERT(docker("{\"auths\":{\"reg.example\":{}}}", "reg.example", &b, &h) == 0);

    /* a credential helper, as Docker would ask it (not run here): the host's, else the store */
    ASSERT(docker("{\"credHelpers\":{\"reg.example\":\"pass\"},\"credsStore\":\"desktop\","
                  "\"auths\":{\"reg.example\":{\"auth\":\"" USERPASS_B64 "\"}}}",
                  "reg.example", &b, &h) == 0);
    ASSERT(b == NULL);
    ASSERT_STREQ(h, "pass");
    free(h);
    ASSERT(docker("{\"credHelpers\":{\"other\":\"pass\"},\"credsStore\":\"desktop\"}", "reg.example", &b, &h) == 0);
    ASSERT_STREQ(h, "desktop");
    free(h);

    /* refused: not JSON, an auth that is not base64 of user:password, one that would break the header */
    ASSERT(docker("{\"auths\":", "reg.example", &b, &h) == -1);
    ASSERT(docker("[]", "reg.example", &b, &h) == -1);
    ASSERT(docker("{\"auths\":{\"reg.example\":{\"auth\":\"bm9jb2xvbg==\"}}}", "reg.example", &b, &h) == -1);
    ASSERT(docker("{\"auths\":{\"reg.example\":{\"auth\":\"" USERPASS_B64 "\\r\\nX-Evil: 1\"}}}", "reg.example", &b,
                  &h) == -1);
    /* base64("user:pa\r\nX-Evil: 1") */
    ASSERT(docker("{\"auths\":{\"reg.example\":{\"auth\":\"dXNlcjpwYQ0KWC1FdmlsOiAx\"}}}", "reg.example", &b, &h) ==
           -1);
    ASSERT(b == NULL);
}

int main(void)
{
    RUN(basic);
    RUN(docker_config);
    return DONE();
}
