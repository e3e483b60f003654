/*
 * service.h - the AWS services shipkit talks to: protocol, names and endpoint facts from the
 * AWS service models that ship with botocore (data/<service>/<version>/service-2.json: protocol,
 * signingName, endpointPrefix, targetPrefix, apiVersion).
 */
#ifndef SK_SERVICE_H
#define SK_SERVICE_H

enum sk_protocol {
    SK_PROTO_JSON11, /* awsJson1_1: POST /, X-Amz-Target, JSON body */
    SK_PROTO_QUERY,  /* awsQuery: POST /, form body Action=&Version=, XML response */
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

extern const struct sk_service sk_svc_ecr;
extern const struct sk_service sk_svc_ecs;
extern const struct sk_service sk_svc_elbv2;
extern const struct sk_service sk_svc_logs;
extern const struct sk_service sk_svc_rds;
extern const struct sk_service sk_svc_secretsmanager;
extern const struct sk_service sk_svc_ssm;
extern const struct sk_service sk_svc_sts;

/* Find a service by short name, signing name or endpoint prefix; NULL if unknown. */
const struct sk_service *sk_service_find(const char *name);

/* DNS suffix of the partition a region belongs to: "amazonaws.com", "amazonaws.com.cn", ... */
const char *sk_region_dns_suffix(const char *region);

#endif
