/*
 * endpoints_test.c - lib/aws/endpoints.c and lib/aws/service.c: the generated tables are sound, the
 * endpoints agree with botocore's own resolution for every region it knows in every mode
 * (tests/endpoints/compare gives botocore's answers), what aws-sign infers from a host, and ECR's
 * registry hosts in every partition and variant (lib/svc/ecr.c).
 */
#include <errno.h>
#include <libgen.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "aws/config.h"
#include "svc/ecr.h"
#include "aws/endpoints.h"
#include "harness.h"
#include "core/mem.h"
#include "aws/service.h"

static struct sk_err err;
static const char *argv0;

TEST(tables_are_sound)
{
    size_t i, j, m;

    for (i = 0; i < sk_npartitions; i++) {
        const struct sk_partition *p = &sk_partitions[i];
        regex_t re;

        if (regcomp(&re, p->region_regex, REG_EXTENDED | REG_NOSUB) != 0) {
            H_FAIL("partition %s: regex '%s' does not compile", p->id, p->region_regex);
            continue;
        }
        regfree(&re);
        for (j = 0; p->regions[j]; j++)
            if (sk_partition_of(p->regions[j]) != p)
                H_FAIL("region %s is not found in its partition %s", p->regions[j], p->id);
    }
    /* Every rule of every mode expands to a whole host, in every partition. */
    for (i = 0; i < sk_nendpoint_rules; i++) {
        const struct sk_service *svc = sk_service_find(sk_endpoint_rules[i].service);
        ASSERT(svc != NULL);
        for (m = 0; m < 4 && svc; m++) {
            int has_default = 0;
            for (j = 0; j < sk_endpoint_rules[i].n; j++) {
                const struct sk_endpoint_rule *r = &sk_endpoint_rules[i].rules[j];
                if (r->mode == m && !r->partition && !r->region)
                    has_default = 1;
                if ((r->host == NULL) == (r->error == NULL))
                    H_FAIL("%s rule %zu: a host or an error, not both", svc->name, j);
            }
            if (!has_default)
                H_FAIL("%s: no rule for every region in mode %zu", svc->name, m);
            for (j = 0; j < sk_npartitions; j++) {
                struct sk_endpoint ep = { NULL, NULL };
                if (sk_endpoint_resolve(svc, sk_partitions[j].implicit_global_region, (unsigned)m, &ep, &err) == 0 &&
                    (strchr(ep.url, '{') || strncmp(ep.url, "https://", 8) != 0))
                    H_FAIL("%s in %s: '%s'", svc->name, sk_partitions[j].id, ep.url);
                sk_endpoint_release(&ep);
            }
        }
    }
    /* bsearch needs strcmp order. */
    for (i = 1; i < sk_nglobal_hosts; i++)
        if (strcmp(sk_global_hosts[i - 1].host, sk_global_hosts[i].host) >= 0)
            H_FAIL("global hosts out of order at %s", sk_global_hosts[i].host);
    for (i = 1; i < sk_nprefix_names; i++)
        if (strcmp(sk_prefix_names[i - 1].prefix, sk_prefix_names[i].prefix) >= 0)
            H_FAIL("prefixes out of order at %s", sk_prefix_names[i].prefix);
}

/* ---- agreement with botocore ------------------------------------------------------------------ */

static const char *const endpoint_vars[] = {
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_ECR",
    "AWS_ENDPOINT_URL_ECS",
    "AWS_ENDPOINT_URL_ELASTIC_LOAD_BALANCING_V2",
    "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
    "AWS_ENDPOINT_URL_RDS",
    "AWS_ENDPOINT_URL_SECRETS_MANAGER",
    "AWS_ENDPOINT_URL_SSM",
    "AWS_ENDPOINT_URL_STS",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
    "AWS_USE_FIPS_ENDPOINT",
    "AWS_USE_DUALSTACK_ENDPOINT",
    NULL,
};

struct tally {
    unsigned agree[2][4], total[2][4];
};

/* One line of tests/endpoints/compare: SET SERVICE REGION MODE URL|! SIGNING-REGION|-. The
 * endpoint goes through sk_config_endpoint with the mode set in the environment, as a tool sees it. */
static void check_line(char *line, struct tally *t)
{
    char set[16], svcname[32], region[64], url[256], sreg[64];
    const struct sk_service *svc;
    struct sk_endpoint ep = { NULL, NULL };
    unsigned mode;
    int known, ok;

    if (sscanf(line, "%15s %31s %63s %u %255s %63s", set, svcname, region, &mode, url, sreg) != 6 || mode > 3 ||
        !(svc = sk_service_find(svcname))) {
        H_FAIL("compare printed '%.200s'", line);
        return;
    }
    known = strcmp(set, "known") == 0;
    setenv("AWS_USE_FIPS_ENDPOINT", mode & SK_EP_FIPS ? "true" : "false", 1);
    setenv("AWS_USE_DUALSTACK_ENDPOINT", mode & SK_EP_DUALSTACK ? "true" : "false", 1);
    sk_err_clear(&err);
    if (strcmp(url, "!") == 0) {
        ok = sk_config_resolve_endpoint(NULL, svc, NULL, region, &ep, &err) < 0 && err.kind == SK_E_CONFIG;
        if (!ok)
            H_FAIL("%s %s %s: botocore refuses, shipkit gives '%s'", svcname, region, sk_endpoint_mode_name(mode),
                   ep.url ? ep.url : err.msg);
    } else if (sk_config_resolve_endpoint(NULL, svc, NULL, region, &ep, &err) < 0) {
        ok = 0;
        H_FAIL("%s %s %s: botocore gives %s, shipkit refuses: %s", svcname, region, sk_endpoint_mode_name(mode), url,
               err.msg);
    } else {
        ok = strcmp(ep.url, url) == 0 &&
             (strcmp(sreg, "-") == 0 ? ep.signing_region == NULL
                                     : ep.signing_region && strcmp(ep.signing_region, sreg) == 0);
        if (!ok)
            H_FAIL("%s %s %s: botocore %s (signing %s), shipkit %s (signing %s)", svcname, region,
                   sk_endpoint_mode_name(mode), url, sreg, ep.url, ep.signing_region ? ep.signing_region : "-");
    }
    sk_endpoint_release(&ep);
    t->total[known][mode]++;
    t->agree[known][mode] += (unsigned)ok;
}

static void agrees_with_sdk(int *skipped)
{
    char script[4096], line[1024];
    struct tally t;
    int fds[2], status = 0;
    pid_t pid;
    FILE *in;
    size_t i;
    char *dup = xstrdup(argv0);

    *skipped = 0;
    memset(&t, 0, sizeof(t));
    snprintf(script, sizeof(script), "%s/../endpoints/compare", dirname(dup));
    free(dup);
    for (i = 0; endpoint_vars[i]; i++)
        unsetenv(endpoint_vars[i]);
    if (pipe(fds) < 0) {
        H_FAIL("pipe: %s", strerror(errno));
        return;
    }
    pid = fork();
    if (pid == 0) {
        dup2(fds[1], 1);
        close(fds[0]);
        close(fds[1]);
        execl(script, script, (char *)NULL);
        _exit(77);
    }
    close(fds[1]);
    in = fdopen(fds[0], "r");
    while (in && fgets(line, sizeof(line), in))
        check_line(line, &t);
    if (in)
        fclose(in);
    if (pid < 0 || waitpid(pid, &status, 0) < 0) {
        H_FAIL("cannot run %s", script);
        return;
    }
    for (i = 0; endpoint_vars[i]; i++)
        unsetenv(endpoint_vars[i]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 77) {
        *skipped = 1;
        return;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        H_FAIL("%s failed (status %d)", script, status);
    for (i = 0; i < 4; i++)
        printf("# %s: %u/%u regions botocore knows agree, %u/%u other region names\n",
               sk_endpoint_mode_name((unsigned)i), t.agree[1][i], t.total[1][i], t.agree[0][i], t.total[0][i]);
    if (t.total[1][0] < 8 * 50)
        H_FAIL("compare printed only %u plain cases of known regions", t.total[1][0]);
}

/* ---- what aws-sign infers from a host ------------------------------------------------------------- */

static void expect_infer(const char *host, const char *name, const char *region, int line)
{
    char *n = NULL, *r = NULL;
    int got = sk_endpoint_infer(host, &n, &r);

    if (got != (name != NULL) || (name && (!n || strcmp(n, name) != 0)) ||
        (region ? !r || strcmp(r, region) != 0 : r != NULL))
        H_FAIL("line %d: %s: got %d %s %s, want %s %s", line, host, got, n ? n : "-", r ? r : "-", name ? name : "-",
               region ? region : "-");
    free(n);
    free(r);
}
#define EXPECT_INFER(host, name, region) expect_infer(host, name, region, __LINE__)

TEST(infer_from_host)
{
    /* regional, every partition's suffixes */
    EXPECT_INFER("ssm.eu-west-1.amazonaws.com", "ssm", "eu-west-1");
    EXPECT_INFER("api.ecr.us-east-1.amazonaws.com", "ecr", "us-east-1");
    EXPECT_INFER("elasticloadbalancing.cn-north-1.amazonaws.com.cn", "elasticloadbalancing", "cn-north-1");
    EXPECT_INFER("logs.eu-isoe-west-1.cloud.adc-e.uk", "logs", "eu-isoe-west-1");
    EXPECT_INFER("sts.us-isof-south-1.csp.hci.ic.gov", "sts", "us-isof-south-1");
    EXPECT_INFER("secretsmanager.eusc-de-east-1.amazonaws.eu", "secretsmanager", "eusc-de-east-1");
    EXPECT_INFER("email.us-west-2.amazonaws.com", "ses", "us-west-2");
    EXPECT_INFER("runtime.lex.us-east-1.amazonaws.com", "lex", "us-east-1");
    EXPECT_INFER("streams.dynamodb.eu-west-1.amazonaws.com", "dynamodb", "eu-west-1");
    EXPECT_INFER("123456789012.ddb.eu-west-1.amazonaws.com", "dynamodb", "eu-west-1");
    EXPECT_INFER("abc123.execute-api.eu-west-1.amazonaws.com", "execute-api", "eu-west-1");
    EXPECT_INFER("organizations.us-east-1.amazonaws.com", "organizations", "us-east-1");
    /* FIPS */
    EXPECT_INFER("ssm-fips.us-east-1.amazonaws.com", "ssm", "us-east-1");
    EXPECT_INFER("api.ecr-fips.us-gov-west-1.amazonaws.com", "ecr", "us-gov-west-1");
    EXPECT_INFER("fips.transcribe.us-east-1.amazonaws.com", "transcribe", "us-east-1");
    EXPECT_INFER("runtime-fips.lex.us-east-1.amazonaws.com", "lex", "us-east-1");
    /* dual-stack, FIPS dual-stack */
    EXPECT_INFER("ecr.eu-west-1.api.aws", "ecr", "eu-west-1");
    EXPECT_INFER("ecs-fips.us-gov-east-1.api.aws", "ecs", "us-gov-east-1");
    EXPECT_INFER("ssm.cn-northwest-1.api.amazonwebservices.com.cn", "ssm", "cn-northwest-1");
    EXPECT_INFER("rds-fips.us-iso-east-1.api.aws.ic.gov", "rds", "us-iso-east-1");
    /* global endpoints, with the signing region their rules give */
    EXPECT_INFER("iam.amazonaws.com", "iam", "us-east-1");
    EXPECT_INFER("iam-fips.amazonaws.com", "iam", "us-east-1");
    EXPECT_INFER("iam.us-gov.amazonaws.com", "iam", "us-gov-west-1");
    EXPECT_INFER("iam.global.api.aws", "iam", "us-east-1");
    EXPECT_INFER("iam.cn-north-1.amazonaws.com.cn", "iam", "cn-north-1");
    EXPECT_INFER("sts.amazonaws.com", "sts", "us-east-1");
    EXPECT_INFER("route53.amazonaws.com", "route53", "us-east-1");
    EXPECT_INFER("route53.us-gov.amazonaws.com", "route53", "us-gov-west-1");
    EXPECT_INFER("route53.amazonaws.com.cn", "route53", "cn-northwest-1");
    EXPECT_INFER("cloudfront.amazonaws.com", "cloudfront", "us-east-1");
    EXPECT_INFER("budgets.amazonaws.com", "budgets", "us-east-1");
    EXPECT_INFER("waf.amazonaws.com", "waf", "us-east-1");
    /* S3: virtual-hosted, path style, legacy, dual-stack, FIPS, access points, acceleration */
    EXPECT_INFER("my-bucket.s3.us-west-2.amazonaws.com", "s3", "us-west-2");
    EXPECT_INFER("my.dotted.bucket.s3.eu-west-1.amazonaws.com", "s3", "eu-west-1");
    EXPECT_INFER("s3.eu-central-1.amazonaws.com", "s3", "eu-central-1");
    EXPECT_INFER("s3.amazonaws.com", "s3", "us-east-1");
    EXPECT_INFER("my-bucket.s3.amazonaws.com", "s3", "us-east-1");
    EXPECT_INFER("s3-us-west-2.amazonaws.com", "s3", "us-west-2");
    EXPECT_INFER("my-bucket.s3-eu-west-1.amazonaws.com", "s3", "eu-west-1");
    EXPECT_INFER("s3-external-1.amazonaws.com", "s3", "us-east-1");
    EXPECT_INFER("s3-fips-us-gov-west-1.amazonaws.com", "s3", "us-gov-west-1");
    EXPECT_INFER("my-bucket.s3.dualstack.us-east-2.amazonaws.com", "s3", "us-east-2");
    EXPECT_INFER("my-bucket.s3-fips.dualstack.us-gov-west-1.amazonaws.com", "s3", "us-gov-west-1");
    EXPECT_INFER("s3.cn-north-1.amazonaws.com.cn", "s3", "cn-north-1");
    EXPECT_INFER("ap-123456789012.s3-accesspoint.eu-west-1.amazonaws.com", "s3", "eu-west-1");
    EXPECT_INFER("123456789012.s3-control.us-east-1.amazonaws.com", "s3", "us-east-1");
    EXPECT_INFER("my-bucket.s3-accelerate.amazonaws.com", "s3", NULL);
    EXPECT_INFER("my-bucket.s3-accelerate.dualstack.amazonaws.com", "s3", NULL);
    /* S3 Express: zonal and regional (control) endpoints sign as s3express */
    EXPECT_INFER("my-bucket--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com", "s3express", "us-east-1");
    EXPECT_INFER("my-bucket--usw2-az1--x-s3.s3express-fips-usw2-az1.us-west-2.amazonaws.com", "s3express", "us-west-2");
    EXPECT_INFER("s3express-control.eu-north-1.amazonaws.com", "s3express", "eu-north-1");
    /* ECR registries */
    EXPECT_INFER("123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr", "eu-west-1");
    EXPECT_INFER("123456789012.dkr-ecr.eu-west-1.on.aws", "ecr", "eu-west-1");
    EXPECT_INFER("123456789012.dkr-ecr-fips.us-east-1.on.aws", "ecr", "us-east-1");
    /* an AWS suffix without a region: the service, the region left to the configuration */
    EXPECT_INFER("newservice.amazonaws.com", "newservice", NULL);
    /* not AWS, or nothing to go by */
    EXPECT_INFER("example.com", NULL, NULL);
    EXPECT_INFER("127.0.0.1", NULL, NULL);
    EXPECT_INFER("amazonaws.com", NULL, NULL);
    EXPECT_INFER("us-east-1.amazonaws.com", NULL, NULL);
    EXPECT_INFER("ssm.eu-west-1.amazonaws.com.evil.example", NULL, NULL);
    EXPECT_INFER("ssm.eu-west-1.notamazonaws.com", NULL, NULL);
    EXPECT_INFER("foo.on.aws", NULL, NULL);
    EXPECT_INFER("a..amazonaws.com", NULL, NULL);
}

/* ---- ECR registry hosts ------------------------------------------------------------------------ */

TEST(ecr_registry_hosts)
{
    static const struct {
        const char *host, *region;
    } good[] = {
        { "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "eu-west-1" },
        { "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com", "us-east-1" },
        { "123456789012.dkr-ecr.us-west-2.on.aws", "us-west-2" },
        { "123456789012.dkr-ecr-fips.us-west-2.on.aws", "us-west-2" },
        { "123456789012.dkr.ecr.us-gov-east-1.amazonaws.com", "us-gov-east-1" },
        { "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "us-gov-west-1" },
        { "123456789012.dkr-ecr-fips.us-gov-east-1.on.aws", "us-gov-east-1" },
        { "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "cn-north-1" },
        { "123456789012.dkr-ecr.cn-north-1.on.amazonwebservices.com.cn", "cn-north-1" },
        { "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1" },
        { "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
        { "123456789012.dkr.ecr-fips.us-iso-east-1.c2s.ic.gov", "us-iso-east-1" },
        { "123456789012.dkr-ecr.us-iso-west-1.on.aws.ic.gov", "us-iso-west-1" },
        { "123456789012.dkr.ecr.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1" },
        { "123456789012.dkr-ecr.us-isob-east-1.on.aws.scloud", "us-isob-east-1" },
        { "123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", "eu-isoe-west-1" },
        { "123456789012.dkr-ecr.eu-isoe-west-1.on.cloud-aws.adc-e.uk", "eu-isoe-west-1" },
        { "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", "us-isof-south-1" },
        { "123456789012.dkr-ecr.us-isof-south-1.on.aws.hci.ic.gov", "us-isof-south-1" },
    };
    static const char *const bad[] = {
        "123456789012.dkr.ecr.eu-isoe-west-1.amazonaws.com",  /* each partition its own suffix */
        "123456789012.dkr.ecr.us-isof-south-1.c2s.ic.gov",    /* ... not a neighbour's */
        "123456789012.dkr-ecr.cn-north-1.on.aws",             /* China's dual-stack suffix is its own */
        "123456789012.dkr-ecr.eu-west-1.api.aws",             /* the API's, not the registry's */
        "123456789012.dkr.ecr.eu-west-1.api.aws",             /* likewise */
        "123456789012.dkr-ecr.eu-west-1.on.aws.evil.example", /* nothing after the suffix */
        "123456789012.dkr.ecr-fips-fips.us-east-1.amazonaws.com",
        "123456789012.dkr.ecrfips.us-east-1.amazonaws.com",
        "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
    };
    char *account, *region;
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        account = region = NULL;
        if (sk_ecr_parse_host(good[i].host, &account, &region) != 1)
            H_FAIL("refused %s", good[i].host);
        else if (strcmp(account, "123456789012") != 0 || strcmp(region, good[i].region) != 0)
            H_FAIL("%s: account %s region %s", good[i].host, account, region);
        free(account);
        free(region);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        account = region = NULL;
        if (sk_ecr_parse_host(bad[i], &account, &region) != 0)
            H_FAIL("accepted %s", bad[i]);
        free(account);
        free(region);
    }
}

TEST(ecr_token_stays_in_its_partition)
{
    static const struct {
        const char *proxy, *host;
        int ok;
    } cases[] = {
        /* the same account's registry in the same partition, any variant */
        { "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
          "123456789012.dkr-ecr.cn-northwest-1.on.amazonwebservices.com.cn", 1 },
        { "https://123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
          "123456789012.dkr-ecr.eu-isoe-west-1.on.cloud-aws.adc-e.uk", 1 },
        { "https://123456789012.dkr.ecr.us-gov-west-1.amazonaws.com", "123456789012.dkr-ecr-fips.us-gov-east-1.on.aws",
          1 },
        /* never across partitions, even where they share a suffix */
        { "https://123456789012.dkr.ecr.us-east-1.amazonaws.com", "123456789012.dkr-ecr.us-gov-west-1.on.aws", 0 },
        { "https://123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov",
          "123456789012.dkr.ecr.us-isof-south-1.csp.hci.ic.gov", 0 },
        { "https://123456789012.dkr.ecr.eusc-de-east-1.amazonaws.eu", "123456789012.dkr.ecr.eu-west-1.amazonaws.com",
          0 },
        /* nor to another account */
        { "https://123456789012.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk",
          "210987654321.dkr.ecr.eu-isoe-west-1.cloud.adc-e.uk", 0 },
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        if (sk_ecr_token_for_host(cases[i].proxy, cases[i].host) != cases[i].ok)
            H_FAIL("token for '%s' to '%s': want %d", cases[i].proxy, cases[i].host, cases[i].ok);
}

int main(int argc, char **argv)
{
    int skipped;

    (void)argc;
    argv0 = argv[0];
    RUN(tables_are_sound);
    h_cur_failed = 0;
    agrees_with_sdk(&skipped);
    h_tests++;
    if (skipped) {
        printf("ok %d - agrees_with_sdk # skip no python3 with botocore\n", h_tests);
    } else {
        h_failed += h_cur_failed;
        printf("%s %d - agrees_with_sdk\n", h_cur_failed ? "not ok" : "ok", h_tests);
    }
    fflush(stdout);
    RUN(infer_from_host);
    RUN(ecr_registry_hosts);
    RUN(ecr_token_stays_in_its_partition);
    return DONE();
}
