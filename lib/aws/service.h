/*
 * service.h - the AWS services shipkit talks to: protocol, names and endpoint facts from the
 * AWS service models that ship with botocore (data/<service>/<version>/service-2.json: protocol,
 * signingName, endpointPrefix, targetPrefix, apiVersion).
 */
#ifndef SK_SERVICE_H
#define SK_SERVICE_H

#include "core/err.h"

enum sk_protocol {
    SK_PROTO_JSON11, /* awsJson1_1: POST /, X-Amz-Target, JSON body */
    SK_PROTO_QUERY,  /* awsQuery: POST /, form body Action=&Version=, XML response */
    SK_PROTO_EC2,    /* ec2: awsQuery's request; the response has no <OpResult> wrapper, lists are <item> */
};

struct sk_service {
    const char *name;            /* shipkit's short name, e.g. "secretsmanager" */
    const char *service_id;      /* the model's serviceId, e.g. "Secrets Manager" */
    const char *env_suffix;      /* AWS_ENDPOINT_URL_<env_suffix> */
    const char *config_key;      /* key in a [services NAME] section */
    const char *endpoint_prefix; /* first labels of the default hostname, e.g. "api.ecr" */
    const char *signing_name;    /* SigV4 service name */
    enum sk_protocol protocol;
    const char *target_prefix; /* JSON: X-Amz-Target prefix */
    const char *api_version;   /* Query: Version= */
};

extern const struct sk_service sk_svc_cloudwatch;
extern const struct sk_service sk_svc_ec2;
extern const struct sk_service sk_svc_ecr;
extern const struct sk_service sk_svc_ecs;
extern const struct sk_service sk_svc_elbv2;
extern const struct sk_service sk_svc_iam;
extern const struct sk_service sk_svc_logs;
extern const struct sk_service sk_svc_rds;
extern const struct sk_service sk_svc_secretsmanager;
extern const struct sk_service sk_svc_ssm;
extern const struct sk_service sk_svc_sts;

/* Find a service by short name, signing name or endpoint prefix; NULL if unknown. */
const struct sk_service *sk_service_find(const char *name);

/* ---- endpoints, from the SDKs' partition and endpoint-rule data (lib/aws/endpoints.h) ------------- */

struct sk_partition;

/* The partition of a region as the SDKs' rules engine finds it (aws.partition: a region it lists
 * or whose regex matches, in the order of the data), never NULL: aws when none matches. */
const struct sk_partition *sk_partition_of(const char *region);
/* The same, but NULL when no partition lists or matches the region. */
const struct sk_partition *sk_partition_match(const char *region);

/* DNS suffix of the partition a region belongs to: "amazonaws.com", "amazonaws.com.cn", ... */
const char *sk_region_dns_suffix(const char *region);

/* Endpoint modes (https://docs.aws.amazon.com/sdkref/latest/guide/feature-endpoints.html). */
#define SK_EP_FIPS 1u      /* use_fips_endpoint */
#define SK_EP_DUALSTACK 2u /* use_dualstack_endpoint */

struct sk_endpoint {
    char *url;            /* "https://host", owned */
    char *signing_region; /* owned; NULL: sign with the region */
};

/* The endpoint of svc in region for mode (SK_EP_* bits), as the SDKs' endpoint rules give it
 * (lib/aws/endpoints.c; a service without rules there gets the rules most services have:
 * <endpoint_prefix>[-fips].<region>.<dnsSuffix or dualStackDnsSuffix>). A mode the rules refuse
 * (a partition without FIPS or dual-stack) fails with SK_E_CONFIG naming the service, the mode,
 * the region and the rules' reason; out is then untouched. */
int sk_endpoint_resolve(const struct sk_service *svc, const char *region, unsigned mode, struct sk_endpoint *out,
                        struct sk_err *err);
void sk_endpoint_release(struct sk_endpoint *e);
/* "plain", "FIPS", "dual-stack" or "FIPS dual-stack". */
const char *sk_endpoint_mode_name(unsigned mode);

/* The SigV4 signing name and region an AWS host implies, from the same data: the global hosts of
 * every service (iam.amazonaws.com: iam, us-east-1), <prefix>[-fips].<region>.<suffix> in plain,
 * FIPS and dual-stack forms with the services' host prefixes (api.ecr: ecr), S3's virtual-host,
 * path-style, legacy s3-<region> and S3 Express hosts, ECR's registries. *name and *region are
 * set (owned) to what the host tells, NULL otherwise. 1 when a name was inferred, else 0. */
int sk_endpoint_infer(const char *host, char **name, char **region);

#endif
