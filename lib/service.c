#include "service.h"

#include <string.h>

/* Values from botocore data/<service>/<version>/service-2.json metadata. */
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
    &sk_svc_ecr, &sk_svc_ecs, &sk_svc_elbv2, &sk_svc_logs, &sk_svc_rds, &sk_svc_secretsmanager,
    &sk_svc_ssm, &sk_svc_sts,
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

const char *sk_region_dns_suffix(const char *region)
{
    if (strncmp(region, "cn-", 3) == 0)
        return "amazonaws.com.cn";
    if (strncmp(region, "us-iso-", 7) == 0)
        return "c2s.ic.gov";
    if (strncmp(region, "us-isob-", 8) == 0)
        return "sc2s.sgov.gov";
    return "amazonaws.com";
}
