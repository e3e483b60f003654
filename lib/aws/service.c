#include "aws/service.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "aws/endpoints.h"
#include "core/mem.h"

/* Values from botocore data/<service>/<version>/service-2.json metadata. */
/* CloudWatch's model lists smithy-rpc-v2-cbor, json and query; shipkit speaks its awsQuery. */
const struct sk_service sk_svc_cloudwatch = {
    "cloudwatch", "CloudWatch",   "CLOUDWATCH", "cloudwatch", "monitoring",
    "monitoring", SK_PROTO_QUERY, NULL,         "2010-08-01",
};
const struct sk_service sk_svc_ec2 = {
    "ec2", "EC2", "EC2", "ec2", "ec2", "ec2", SK_PROTO_EC2, NULL, "2016-11-15",
};
const struct sk_service sk_svc_ecr = {
    "ecr", "ECR", "ECR", "ecr", "api.ecr", "ecr", SK_PROTO_JSON11, "AmazonEC2ContainerRegistry_V20150921", "2015-09-21",
};
const struct sk_service sk_svc_ecs = {
    "ecs", "ECS", "ECS", "ecs", "ecs", "ecs", SK_PROTO_JSON11, "AmazonEC2ContainerServiceV20141113", "2014-11-13",
};
const struct sk_service sk_svc_elbv2 = {
    "elbv2",
    "Elastic Load Balancing v2",
    "ELASTIC_LOAD_BALANCING_V2",
    "elastic_load_balancing_v2",
    "elasticloadbalancing",
    "elasticloadbalancing",
    SK_PROTO_QUERY,
    NULL,
    "2015-12-01",
};
const struct sk_service sk_svc_iam = {
    "iam", "IAM", "IAM", "iam", "iam", "iam", SK_PROTO_QUERY, NULL, "2010-05-08",
};
const struct sk_service sk_svc_logs = {
    "logs", "CloudWatch Logs", "CLOUDWATCH_LOGS", "cloudwatch_logs", "logs",
    "logs", SK_PROTO_JSON11,   "Logs_20140328",   "2014-03-28",
};
const struct sk_service sk_svc_rds = {
    "rds", "RDS", "RDS", "rds", "rds", "rds", SK_PROTO_QUERY, NULL, "2014-10-31",
};
const struct sk_service sk_svc_secretsmanager = {
    "secretsmanager", "Secrets Manager", "SECRETS_MANAGER", "secrets_manager", "secretsmanager",
    "secretsmanager", SK_PROTO_JSON11,   "secretsmanager",  "2017-10-17",
};
const struct sk_service sk_svc_ssm = {
    "ssm", "SSM", "SSM", "ssm", "ssm", "ssm", SK_PROTO_JSON11, "AmazonSSM", "2014-11-06",
};
const struct sk_service sk_svc_sts = {
    "sts", "STS", "STS", "sts", "sts", "sts", SK_PROTO_QUERY, NULL, "2011-06-15",
};

static const struct sk_service *const all[] = {
    &sk_svc_cloudwatch,     &sk_svc_ec2, &sk_svc_ecr,  &sk_svc_ecs,
    &sk_svc_elbv2,          &sk_svc_iam, &sk_svc_logs, &sk_svc_rds,
    &sk_svc_secretsmanager, &sk_svc_ssm, &sk_svc_sts,
};

const struct sk_service *sk_service_find(const char *name)
{
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        if (strcmp(all[i]->name, name) == 0 || strcmp(all[i]->signing_name, name) == 0 ||
            strcmp(all[i]->endpoint_prefix, name) == 0)
            return all[i];
    }
    return NULL;
}

/* ---- partitions -------------------------------------------------------------------------- */

static int regex_match(const char *rx, const char *s)
{
    regex_t re;
    int hit;

    if (regcomp(&re, rx, REG_EXTENDED | REG_NOSUB) != 0)
        return 0; /* the generator checks every regex; endpoints_test compiles them all */
    hit = regexec(&re, s, 0, NULL, 0) == 0;
    regfree(&re);
    return hit;
}

static int lists_region(const struct sk_partition *p, const char *region)
{
    size_t i;

    for (i = 0; p->regions[i]; i++)
        if (strcmp(p->regions[i], region) == 0)
            return 1;
    return 0;
}

const struct sk_partition *sk_partition_match(const char *region)
{
    size_t i;

    for (i = 0; region && i < sk_npartitions; i++)
        if (lists_region(&sk_partitions[i], region) || regex_match(sk_partitions[i].region_regex, region))
            return &sk_partitions[i];
    return NULL;
}

const struct sk_partition *sk_partition_of(const char *region)
{
    const struct sk_partition *p = sk_partition_match(region);

    return p ? p : &sk_partitions[0];
}

const char *sk_region_dns_suffix(const char *region)
{
    return sk_partition_of(region)->dns_suffix;
}

/* ---- resolving ------------------------------------------------------------------------------ */

const char *sk_endpoint_mode_name(unsigned mode)
{
    static const char *const names[] = { "plain", "FIPS", "dual-stack", "FIPS dual-stack" };

    return names[mode & 3];
}

/* Expand a host template of lib/aws/endpoints.c. */
static void expand(struct sk_buf *b, const char *t, const char *region, const struct sk_partition *p)
{
    static const char *const keys[] = { "{region}", "{dnsSuffix}", "{dualStackDnsSuffix}", "{implicitGlobalRegion}" };
    const char *vals[4];
    size_t i, n;

    vals[0] = region;
    vals[1] = p->dns_suffix;
    vals[2] = p->dualstack_dns_suffix;
    vals[3] = p->implicit_global_region;
    while (*t) {
        for (i = 0; i < 4; i++) {
            n = strlen(keys[i]);
            if (strncmp(t, keys[i], n) == 0)
                break;
        }
        if (i < 4) {
            sk_buf_adds(b, vals[i]);
            t += n;
        } else {
            sk_buf_addch(b, *t++);
        }
    }
}

static int refuse(const struct sk_service *svc, const char *region, unsigned mode, const struct sk_partition *p,
                  const char *why, struct sk_err *err)
{
    return sk_errf(err, SK_E_CONFIG, "%s has no %s endpoint in '%.64s' (partition %s): %s", svc->name,
                   sk_endpoint_mode_name(mode), region, p->id, why);
}

int sk_endpoint_resolve(const struct sk_service *svc, const char *region, unsigned mode, struct sk_endpoint *out,
                        struct sk_err *err)
{
    const struct sk_partition *p = sk_partition_of(region);
    const struct sk_endpoint_rules *rs = NULL;
    struct sk_buf url = SK_BUF_INIT, sreg = SK_BUF_INIT;
    size_t i;

    mode &= SK_EP_FIPS | SK_EP_DUALSTACK;
    for (i = 0; i < sk_nendpoint_rules; i++)
        if (strcmp(sk_endpoint_rules[i].service, svc->name) == 0)
            rs = &sk_endpoint_rules[i];
    sk_buf_adds(&url, "https://");
    if (rs) {
        const struct sk_endpoint_rule *r = NULL;

        for (i = 0; i < rs->n && !r; i++) {
            r = &rs->rules[i];
            if (r->mode != mode || (r->region && strcmp(r->region, region) != 0) ||
                (r->partition && strcmp(r->partition, p->id) != 0))
                r = NULL;
        }
        if (!r) {
            sk_buf_release(&url);
            return sk_errf(err, SK_E_INTERNAL, "no endpoint rule for %s in %s mode", svc->name,
                           sk_endpoint_mode_name(mode));
        }
        if (!r->host) {
            sk_buf_release(&url);
            return refuse(svc, region, mode, p, r->error, err);
        }
        expand(&url, r->host, region, p);
        if (r->signing_region)
            expand(&sreg, r->signing_region, region, p);
    } else {
        /* The rules most services share, e.g. ecs's endpoint-rule-set-1.json. */
        const char *why = NULL;

        if (mode == (SK_EP_FIPS | SK_EP_DUALSTACK) && !(p->supports_fips && p->supports_dualstack))
            why = "FIPS and DualStack are enabled, but this partition does not support one or both";
        else if (mode == SK_EP_FIPS && !p->supports_fips)
            why = "FIPS is enabled but this partition does not support FIPS";
        else if (mode == SK_EP_DUALSTACK && !p->supports_dualstack)
            why = "DualStack is enabled but this partition does not support DualStack";
        if (why) {
            sk_buf_release(&url);
            return refuse(svc, region, mode, p, why, err);
        }
        sk_buf_addf(&url, "%s%s.%s.%s", svc->endpoint_prefix, mode & SK_EP_FIPS ? "-fips" : "", region,
                    mode & SK_EP_DUALSTACK ? p->dualstack_dns_suffix : p->dns_suffix);
    }
    out->url = sk_buf_detach(&url, NULL);
    out->signing_region = sreg.len ? sk_buf_detach(&sreg, NULL) : NULL;
    sk_buf_release(&sreg);
    return 0;
}

void sk_endpoint_release(struct sk_endpoint *e)
{
    if (!e)
        return;
    free(e->url);
    free(e->signing_region);
    e->url = e->signing_region = NULL;
}

/* ---- inferring from a host ------------------------------------------------------------------ */

static int cmp_global(const void *key, const void *elem)
{
    return strcmp(key, ((const struct sk_global_host *)elem)->host);
}

static int cmp_prefix(const void *key, const void *elem)
{
    return strcmp(key, ((const struct sk_prefix_name *)elem)->prefix);
}

static int label_is(const char *l, size_t n, const char *word)
{
    return strlen(word) == n && strncmp(l, word, n) == 0;
}

static int label_starts(const char *l, size_t n, const char *word)
{
    size_t w = strlen(word);

    return n > w && strncmp(l, word, w) == 0;
}

static int is_region(const char *l, size_t n)
{
    char buf[64];

    if (n == 0 || n >= sizeof(buf))
        return 0;
    memcpy(buf, l, n);
    buf[n] = '\0';
    return sk_partition_match(buf) != NULL;
}

#define MAX_LABELS 64

struct labels {
    const char *p[MAX_LABELS];
    size_t n[MAX_LABELS];
    size_t count;
};

/* The signing name of the host prefix in lab (FIPS markers already dropped): the longest tail of
 * it the table names, else its last label. */
static char *prefix_name(const struct labels *lab)
{
    struct sk_buf key = SK_BUF_INIT;
    const struct sk_prefix_name *hit = NULL;
    size_t i, j;
    char *name;

    for (i = 0; i < lab->count && !hit; i++) {
        sk_buf_reset(&key);
        for (j = i; j < lab->count; j++) {
            if (j > i)
                sk_buf_addch(&key, '.');
            sk_buf_add(&key, lab->p[j], lab->n[j]);
        }
        hit = bsearch(key.p, sk_prefix_names, sk_nprefix_names, sizeof(sk_prefix_names[0]), cmp_prefix);
    }
    sk_buf_release(&key);
    if (hit)
        return xstrdup(hit->signing_name);
    name = xstrndup(lab->p[lab->count - 1], lab->n[lab->count - 1]);
    return name;
}

/*
 * S3's own host forms, which its rule set builds from the bucket and the request
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/VirtualHosting.html: virtual-hosted
 * <bucket>.s3[-fips][.dualstack].<region>, path style s3.<region>, the legacy s3-<region> and
 * s3.amazonaws.com (us-east-1); access points <name>-<account>.s3-accesspoint.<region>
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-access-points.html); S3 Express,
 * signed as s3express: <bucket>.s3express[-fips]-<zone>.<region> and s3express-control.<region>
 * (https://docs.aws.amazon.com/AmazonS3/latest/userguide/s3-express-networking.html); Transfer
 * Acceleration <bucket>.s3-accelerate[.dualstack], which signs with the bucket's region). l is the
 * label before the region (or the suffix). 1: name set (and *region_from_suffix when the
 * partition's global region applies), 0: not S3.
 */
static int s3_host(const char *l, size_t n, char **name, int *global_region, int *no_region)
{
    if (label_is(l, n, "s3") || label_is(l, n, "s3-fips") || label_is(l, n, "s3-accesspoint") ||
        label_is(l, n, "s3-accesspoint-fips")) {
        *name = xstrdup("s3");
        *global_region = 1;
        return 1;
    }
    if (label_is(l, n, "s3-accelerate")) {
        *name = xstrdup("s3");
        *no_region = 1;
        return 1;
    }
    if (label_starts(l, n, "s3express-")) {
        *name = xstrdup("s3express");
        return 1;
    }
    return 0;
}

/* The longest DNS suffix of any partition that host ends in (amazonaws.com.cn before
 * amazonaws.com), after a dot; *sp its partition. NULL: none. */
static const char *longest_suffix(const char *host, size_t hlen, const struct sk_partition **sp)
{
    const char *suffix = NULL;
    size_t best = 0, i, k;

    for (i = 0; i < sk_npartitions; i++) {
        const char *sfx[3];
        sfx[0] = sk_partitions[i].dns_suffix;
        sfx[1] = sk_partitions[i].dualstack_dns_suffix;
        sfx[2] = sk_partitions[i].registry_dualstack_suffix;
        for (k = 0; k < 3; k++) {
            size_t sl = strlen(sfx[k]);
            if (sl > best && hlen > sl + 1 && host[hlen - sl - 1] == '.' && strcmp(host + hlen - sl, sfx[k]) == 0) {
                best = sl;
                suffix = sfx[k];
                *sp = &sk_partitions[i];
            }
        }
    }
    return suffix;
}

/* The labels of host's first rest bytes (rest > 0); -1: an empty label, too many, or none. */
static int split_labels(const char *host, size_t rest, struct labels *lab)
{
    const char *q;

    if (host[0] == '.' || host[rest - 1] == '.')
        return -1;
    lab->count = 0;
    for (q = host; q < host + rest;) {
        size_t l = strcspn(q, ".");
        if (q + l > host + rest)
            l = (size_t)(host + rest - q);
        if (lab->count == MAX_LABELS || l == 0)
            return -1;
        lab->p[lab->count] = q;
        lab->n[lab->count++] = l;
        q += l + 1;
    }
    return lab->count ? 0 : -1;
}

/* S3's legacy s3-<region>, s3-fips-<region> and s3-external-1 (us-east-1), in the label before
 * the suffix. 1: name and region set. */
static int s3_legacy_host(const char *l, size_t n, char **name, char **region)
{
    size_t skip = 0;

    if (label_is(l, n, "s3-external-1")) {
        *name = xstrdup("s3");
        *region = xstrdup("us-east-1");
        return 1;
    }
    if (label_starts(l, n, "s3-fips-"))
        skip = 8;
    else if (label_starts(l, n, "s3-"))
        skip = 3;
    if (!skip || !is_region(l + skip, n - skip))
        return 0;
    *name = xstrdup("s3");
    *region = xstrndup(l + skip, n - skip);
    return 1;
}

/* The service name the labels make once FIPS markers are gone: a "fips" label, a "-fips" suffix
 * (api.ecr-fips, fips.batch, runtime-fips.lex). NULL: nothing is left. */
static char *fips_free_name(const struct labels *lab)
{
    struct labels norm;
    size_t i;

    norm.count = 0;
    for (i = 0; i < lab->count; i++) {
        const char *l = lab->p[i];
        size_t n = lab->n[i];
        if (label_is(l, n, "fips"))
            continue;
        if (n > 5 && strncmp(l + n - 5, "-fips", 5) == 0)
            n -= 5;
        norm.p[norm.count] = l;
        norm.n[norm.count++] = n;
    }
    return norm.count ? prefix_name(&norm) : NULL;
}

int sk_endpoint_infer(const char *host, char **name, char **region)
{
    const struct sk_global_host *g;
    const struct sk_partition *sp = NULL;
    const char *suffix;
    struct labels lab;
    size_t hlen = strlen(host), rest;
    int global_region = 0, no_region = 0;

    *name = *region = NULL;
    g = bsearch(host, sk_global_hosts, sk_nglobal_hosts, sizeof(sk_global_hosts[0]), cmp_global);
    if (g) {
        *name = xstrdup(g->signing_name);
        *region = xstrdup(g->signing_region);
        return 1;
    }
    suffix = longest_suffix(host, hlen, &sp);
    if (!suffix)
        return 0;
    rest = hlen - strlen(suffix) - 1;
    if (split_labels(host, rest, &lab) < 0)
        return 0;
    if (is_region(lab.p[lab.count - 1], lab.n[lab.count - 1])) {
        lab.count--;
        *region = xstrndup(lab.p[lab.count], lab.n[lab.count]);
    } else if (s3_legacy_host(lab.p[lab.count - 1], lab.n[lab.count - 1], name, region)) {
        return 1;
    }
    if (lab.count && label_is(lab.p[lab.count - 1], lab.n[lab.count - 1], "dualstack"))
        lab.count--;
    if (!lab.count)
        goto none;
    if (s3_host(lab.p[lab.count - 1], lab.n[lab.count - 1], name, &global_region, &no_region)) {
        if (no_region) {
            free(*region);
            *region = NULL;
        } else if (global_region && !*region) {
            *region = xstrdup(sp->implicit_global_region);
        }
        return 1;
    }
    /* ECR's registries: <account>.dkr.ecr[-fips] and <account>.dkr-ecr[-fips]
     * (https://docs.aws.amazon.com/AmazonECR/latest/userguide/ecr-requests.html). */
    if (label_is(lab.p[lab.count - 1], lab.n[lab.count - 1], "dkr-ecr") ||
        label_is(lab.p[lab.count - 1], lab.n[lab.count - 1], "dkr-ecr-fips")) {
        *name = xstrdup("ecr");
        return 1;
    }
    if (suffix == sp->registry_dualstack_suffix && strcmp(suffix, sp->dualstack_dns_suffix) != 0)
        goto none; /* on.aws names only registries */
    *name = fips_free_name(&lab);
    if (!*name)
        goto none;
    return 1;
none:
    free(*region);
    *region = NULL;
    return 0;
}
