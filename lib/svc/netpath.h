/*
 * netpath.h - can a service's tasks reach a database over TCP? The rules of the VPC between them,
 * read from EC2 (svc/ec2.h): the same VPC, the database's security groups admitting the source,
 * the source's security groups letting it out, and the network ACLs of both sides' subnets allowing
 * the port and the replies. Security groups are stateful and their rules only allow; network ACLs
 * are stateless and their entries are evaluated in rule-number order, the first match deciding
 * (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html,
 * https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html,
 * https://docs.aws.amazon.com/vpc/latest/userguide/nacl-ephemeral-ports.html).
 */
#ifndef SK_NETPATH_H
#define SK_NETPATH_H

#include <stddef.h>

#include "aws/client.h"
#include "core/err.h"
#include "svc/ec2.h"
#include "svc/rds.h"

enum sk_net_result { SK_NET_PASS, SK_NET_WARN, SK_NET_FAIL, SK_NET_SKIP };

/* One line of the network section: name is static ("network-vpc", ...), detail owned. */
struct sk_net_check {
    const char *name;
    enum sk_net_result result;
    char *detail;
};

struct sk_net_checks {
    struct sk_net_check *v;
    size_t n;
};

/* The two ends. The source is a service's tasks (its awsvpc security groups and subnets) or one
 * security group (no subnets: the checks that need its addresses are skipped). */
struct sk_netpath {
    long port; /* the database's */
    const char *db_vpc;
    char *const *db_sgs;
    size_t ndb_sgs;
    char *const *db_subnets;
    size_t ndb_subnets;
    const char *src; /* how messages name the source: "service CLUSTER/SERVICE", "sg-..." */
    char *const *src_sgs;
    size_t nsrc_sgs;
    char *const *src_subnets;
    size_t nsrc_subnets;
};

/* The ports a client's replies come back to, as the VPC guide advises a network ACL to allow them. */
#define SK_NET_EPHEMERAL_LO 1024
#define SK_NET_EPHEMERAL_HI 65535

/* Four checks, in this order: network-vpc, network-sg-in, network-sg-out, network-acl. net holds
 * both sides' security groups and subnets and the ACLs of their VPCs (sk_ec2_net_get). */
void sk_netpath_check(const struct sk_netpath *p, const struct sk_ec2_net *net, struct sk_net_checks *out);
void sk_net_checks_release(struct sk_net_checks *c);

/* Whether ACL a lets TCP on ports lo..hi through, for every address of peer (an IPv4 CIDR), inbound
 * (egress 0) or outbound: 1 yes; 0 no, with *rule the entry that denies (32767: the default "*");
 * -1 peer is not a CIDR. An allow entry counts when its CIDR holds all of peer, a deny entry when
 * it holds any of it. */
int sk_net_acl_allows(const struct sk_ec2_acl *a, int egress, const char *peer, long lo, long hi, long *rule);

/* Whether CIDR outer holds all of inner (1), not (0), or either is not an IPv4 CIDR (-1). */
int sk_net_cidr_contains(const char *outer, const char *inner);

/* Where the connections come from (owned strings). */
struct sk_netsrc {
    char *name; /* "service CLUSTER/SERVICE" or the security groups */
    char **sgs;
    size_t nsgs;
    char **subnets;
    size_t nsubnets;
};

/* The source as an ECS service's tasks: its awsvpcConfiguration's security groups and subnets
 * (DescribeServices). A service without one (bridge or host networking: its tasks have their
 * container instances' groups) fails with SK_E_USAGE, naming --from-sg. */
int sk_netsrc_service(struct sk_client *c, const char *cluster, const char *service, struct sk_netsrc *out,
                      struct sk_err *err);
/* The source as security groups: sgs is "sg-1[,sg-2...]". */
void sk_netsrc_sgs(const char *sgs, struct sk_netsrc *out);
void sk_netsrc_release(struct sk_netsrc *s);

/* The network path from src to db: reads EC2 (sk_ec2_net_get), then sk_netpath_check. */
int sk_netpath_run(struct sk_client *c, const struct sk_rds_instance *db, const struct sk_netsrc *src,
                   struct sk_net_checks *out, struct sk_err *err);

#endif
