/*
 * config_fuzz.c - libFuzzer target for the shared config/credentials INI parser.
 *
 * The first byte picks the file kind; the rest is parsed twice into the same collection (the second
 * parse exercises merging), then every section and property is looked up again. The parsed files
 * then serve as the loaded configuration (profile "default", or the first profile section when
 * the first byte's second bit is set) for the resolution the tools do: properties and
 * sub-properties, the region (a valid one or an error) and every service's endpoint (an http(s)
 * URL or an error), with the AWS_* environment cleared so only the file decides.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <stdlib.h>
#include <strings.h>

#include "aws/config.h"
#include "aws/service.h"
#include "core/uri.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void clear_env(void)
{
    static const char *const vars[] = { "AWS_REGION",
                                        "AWS_DEFAULT_REGION",
                                        "AWS_PROFILE",
                                        "AWS_DEFAULT_PROFILE",
                                        "AWS_ENDPOINT_URL",
                                        "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
                                        "AWS_ENDPOINT_URL_ECR",
                                        "AWS_ENDPOINT_URL_ECR_API",
                                        "AWS_ENDPOINT_URL_ECS",
                                        "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
                                        "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
                                        "AWS_ENDPOINT_URL_RDS",
                                        "AWS_ENDPOINT_URL_SECRETS_MANAGER",
                                        "AWS_ENDPOINT_URL_SSM",
                                        "AWS_ENDPOINT_URL_STS" };
    size_t i;

    for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
        unsetenv(vars[i]);
}

static void check_resolution(const struct sk_ini *ini, int first_profile)
{
    static const struct sk_service *const svcs[] = { &sk_svc_ecr,  &sk_svc_ecs, &sk_svc_elbv2,
                                                     &sk_svc_logs, &sk_svc_rds, &sk_svc_secretsmanager,
                                                     &sk_svc_ssm,  &sk_svc_sts };
    struct sk_config c;
    struct sk_err err = { 0 };
    struct sk_url u;
    char *region = NULL, *ep = NULL;
    size_t i;

    memset(&c, 0, sizeof(c));
    c.ini = *ini; /* borrowed: not released through c */
    c.profile = (char *)"default";
    for (i = 0; first_profile && i < ini->nsections; i++) {
        if (ini->sections[i].kind == SK_INI_PROFILE) {
            c.profile = ini->sections[i].name;
            break;
        }
    }
    (void)sk_config_get(&c, NULL, "region");
    (void)sk_config_get(&c, "default", "endpoint_url");
    (void)sk_config_get_sub(&c, NULL, "s3", "max_concurrent_requests");
    if (sk_config_region(&c, NULL, &region, &err) == 0) {
        if (!*region || strspn(region, "abcdefghijklmnopqrstuvwxyz0123456789-") != strlen(region))
            __builtin_trap();
    } else if ((err.kind != SK_E_CONFIG && err.kind != SK_E_USAGE) || !err.msg[0]) {
        __builtin_trap();
    }
    for (i = 0; i < sizeof(svcs) / sizeof(svcs[0]); i++) {
        memset(&err, 0, sizeof(err));
        if (sk_config_endpoint(&c, svcs[i], NULL, region ? region : "us-east-1", &ep, &err) == 0) {
            if (strncasecmp(ep, "http://", 7) && strncasecmp(ep, "https://", 8))
                __builtin_trap();
            memset(&u, 0, sizeof(u));
            (void)sk_url_parse(ep, &u, &err);
            sk_url_release(&u);
            free(ep);
            ep = NULL;
        } else if ((err.kind != SK_E_CONFIG && err.kind != SK_E_USAGE) || !err.msg[0]) {
            __builtin_trap();
        }
    }
    free(region);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct sk_ini ini = { 0 };
    struct sk_err err;
    enum sk_ini_source src;
    const char *text;
    size_t i, j, len;

    if (size < 1)
        return 0;
    clear_env();
    src = (data[0] & 1) ? SK_INI_CREDENTIALS_FILE : SK_INI_CONFIG_FILE;
    text = (const char *)data + 1;
    len = size - 1;

    if (sk_ini_parse(&ini, text, len, src, "fuzz", &err) == 0) {
        /* Parsing the same text again must succeed and merge into what is there. */
        if (sk_ini_parse(&ini, text, len, src, "fuzz", &err) != 0)
            __builtin_trap();
        for (i = 0; i < ini.nsections; i++) {
            const struct sk_ini_section *s = &ini.sections[i];
            if (sk_ini_section(&ini, s->kind, s->name) == NULL)
                __builtin_trap();
            for (j = 0; j < s->nprops; j++)
                if (sk_ini_prop(s, s->props[j].key) == NULL)
                    __builtin_trap();
        }
        check_resolution(&ini, data[0] & 2);
    } else if (ini.nsections != 0 || strlen(err.msg) == 0) {
        /* A failed parse leaves the collection untouched and says why. */
        __builtin_trap();
    }
    sk_ini_release(&ini);
    return 0;
}
