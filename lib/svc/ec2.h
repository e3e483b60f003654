/*
 * ec2.h - Amazon EC2 (the ec2 query protocol, API 2016-11-15): the security groups, subnets and
 * network ACLs between an ECS service and its database, read as C structs.
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeSecurityGroups.html,
 * API_DescribeSubnets.html, API_DescribeNetworkAcls.html.) EC2's XML lists are <item> elements
 * and its answers have no <OpResult> wrapper (aws/api.c); names here are the wire's.
 */
#ifndef SK_EC2_H
#define SK_EC2_H

#include <stddef.h>

#include "aws/client.h"
#include "core/err.h"

#define SK_EC2_ALL_PORTS (-1) /* from/to of a rule for every protocol ("-1"), or of every port */

/* One rule of a security group (IpPermission): a protocol ("tcp", "udp", "icmp", "-1" for all,
 * or a number), a port range, and where it allows traffic from (in) or to (out). */
struct sk_ec2_perm {
    char *proto;
    long from, to; /* SK_EC2_ALL_PORTS when the rule names no port */
    char **cidrs;  /* ipRanges[].cidrIp */
    size_t ncidrs;
    char **groups; /* groups[].groupId: other security groups */
    size_t ngroups;
};

struct sk_ec2_sg {
    char *id, *name, *vpc_id;
    struct sk_ec2_perm *in, *out; /* ipPermissions, ipPermissionsEgress */
    size_t nin, nout;
};

struct sk_ec2_subnet {
    char *id, *vpc_id, *cidr, *az;
};

/* One entry of a network ACL. */
struct sk_ec2_acl_entry {
    long rule;   /* ruleNumber: 1 to 32766, 32767 is the default "*" */
    char *proto; /* "-1" (all), "6" (TCP), ... */
    int egress, allow;
    char *cidr;    /* cidrBlock (IPv6 entries are kept out) */
    long from, to; /* portRange, SK_EC2_ALL_PORTS when absent */
};

struct sk_ec2_acl {
    char *id, *vpc_id;
    int is_default;
    struct sk_ec2_acl_entry *e;
    size_t ne;
    char **subnets; /* associationSet[].subnetId */
    size_t nsubnets;
};

/* What the network path needs: security groups and subnets by id, and every network ACL of the
 * subnets' VPCs. */
struct sk_ec2_net {
    struct sk_ec2_sg *sgs;
    size_t nsgs;
    struct sk_ec2_subnet *subnets;
    size_t nsubnets;
    struct sk_ec2_acl *acls;
    size_t nacls;
};

/* DescribeSecurityGroups of sg_ids, DescribeSubnets of subnet_ids (either may be empty: no call),
 * and DescribeNetworkAcls of the VPCs those are in; follows nextToken. An id EC2 does not know
 * fails as EC2 answers it (SK_E_AWS, InvalidGroup.NotFound, InvalidSubnetID.NotFound). */
int sk_ec2_net_get(struct sk_client *c, char *const *sg_ids, size_t nsg, char *const *subnet_ids, size_t nsubnet,
                   struct sk_ec2_net *out, struct sk_err *err);
void sk_ec2_net_release(struct sk_ec2_net *n);

const struct sk_ec2_sg *sk_ec2_net_sg(const struct sk_ec2_net *n, const char *id);
const struct sk_ec2_subnet *sk_ec2_net_subnet(const struct sk_ec2_net *n, const char *id);
/* The ACL associated with the subnet, else the default one of its VPC (as EC2 applies them). */
const struct sk_ec2_acl *sk_ec2_net_acl(const struct sk_ec2_net *n, const struct sk_ec2_subnet *s);

#endif
