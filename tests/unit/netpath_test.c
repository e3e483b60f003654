/*
 * netpath_test - the network path rules (lib/svc/netpath.c): CIDRs, network ACL evaluation in
 * rule-number order with the default deny, and the four checks over hand-built VPCs.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "svc/netpath.h"

/* A string literal where the structs take char * (never written to). */
#define M(s) ((char *)(uintptr_t)(s))

TEST(cidr_contains)
{
    ASSERT(sk_net_cidr_contains("10.0.0.0/16", "10.0.3.0/24") == 1);
    ASSERT(sk_net_cidr_contains("10.0.0.0/16", "10.0.0.0/16") == 1);
    ASSERT(sk_net_cidr_contains("10.0.3.0/24", "10.0.0.0/16") == 0);
    ASSERT(sk_net_cidr_contains("10.1.0.0/16", "10.0.3.0/24") == 0);
    ASSERT(sk_net_cidr_contains("0.0.0.0/0", "192.168.1.7/32") == 1);
    ASSERT(sk_net_cidr_contains("10.0.0.0/33", "10.0.0.0/24") == -1);
    ASSERT(sk_net_cidr_contains("10.0.0/16", "10.0.0.0/24") == -1);
    ASSERT(sk_net_cidr_contains("10.0.0.0", "10.0.0.0/24") == -1);
    ASSERT(sk_net_cidr_contains(NULL, "10.0.0.0/24") == -1);
}

/* An ACL of the entries "RULE in|out allow|deny PROTO CIDR FROM TO" (FROM -1: all ports). */
static void acl_of(struct sk_ec2_acl *a, const char *const *spec, size_t n)
{
    size_t i;

    memset(a, 0, sizeof(*a));
    a->e = calloc(n, sizeof(*a->e));
    for (i = 0; i < n; i++) {
        char way[8], action[8], proto[8], cidr[32];
        long rule, from, to;
        ASSERT(sscanf(spec[i], "%ld %7s %7s %7s %31s %ld %ld", &rule, way, action, proto, cidr, &from, &to) == 7);
        a->e[i].rule = rule;
        a->e[i].egress = strcmp(way, "out") == 0;
        a->e[i].allow = strcmp(action, "allow") == 0;
        a->e[i].proto = strdup(proto);
        a->e[i].cidr = strdup(cidr);
        a->e[i].from = from;
        a->e[i].to = to;
    }
    a->ne = n;
}

static void acl_free(struct sk_ec2_acl *a)
{
    size_t i;

    for (i = 0; i < a->ne; i++) {
        free(a->e[i].proto);
        free(a->e[i].cidr);
    }
    free(a->e);
}

TEST(acl_first_match_in_rule_order)
{
    /* Listed out of order: rule 90's deny comes before rule 100's allow. */
    static const char *const spec[] = {
        "100 in allow -1 0.0.0.0/0 -1 -1",
        "90 in deny 6 10.0.3.0/24 5432 5432",
        "32767 in deny -1 0.0.0.0/0 -1 -1",
        "100 out allow 6 10.0.0.0/16 1024 65535",
    };
    struct sk_ec2_acl a;
    long rule;

    acl_of(&a, spec, 4);
    ASSERT(sk_net_acl_allows(&a, 0, "10.0.3.0/24", 5432, 5432, &rule) == 0 && rule == 90);
    ASSERT(sk_net_acl_allows(&a, 0, "10.0.4.0/24", 5432, 5432, &rule) == 1);
    /* a deny that holds part of the peer counts: 10.0.3.128/25 is inside the /24 denied */
    ASSERT(sk_net_acl_allows(&a, 0, "10.0.3.128/25", 5432, 5432, &rule) == 0);
    ASSERT(sk_net_acl_allows(&a, 0, "10.0.0.0/16", 5432, 5432, &rule) == 0 && rule == 90);
    /* another port of the same peer: the deny does not cover it */
    ASSERT(sk_net_acl_allows(&a, 0, "10.0.3.0/24", 5433, 5433, &rule) == 1);
    ASSERT(sk_net_acl_allows(&a, 1, "10.0.3.0/24", 1024, 65535, &rule) == 1);
    /* an allow must hold all of the peer */
    ASSERT(sk_net_acl_allows(&a, 1, "10.0.0.0/8", 1024, 65535, &rule) == 0 && rule == 32767);
    ASSERT(sk_net_acl_allows(&a, 0, "not a cidr", 1, 1, &rule) == -1);
    acl_free(&a);
}

TEST(acl_ranges_pieced_together)
{
    /* Two allows that together cover the ephemeral ports, a hole between others. */
    static const char *const spec[] = {
        "10 out allow 6 10.0.3.0/24 1024 32767", "20 out allow 6 10.0.3.0/24 32768 65535",
        "10 in allow 6 10.0.3.0/24 1024 40000",  "20 in deny 6 0.0.0.0/0 40001 40001",
        "30 in allow 6 10.0.3.0/24 40002 65535",
    };
    struct sk_ec2_acl a;
    long rule;

    acl_of(&a, spec, 5);
    ASSERT(sk_net_acl_allows(&a, 1, "10.0.3.0/24", 1024, 65535, &rule) == 1);
    ASSERT(sk_net_acl_allows(&a, 0, "10.0.3.0/24", 1024, 65535, &rule) == 0 && rule == 20);
    /* no entry at all: the default deny */
    ASSERT(sk_net_acl_allows(&a, 1, "10.0.3.0/24", 80, 80, &rule) == 0 && rule == 32767);
    /* UDP and ICMP entries do not allow TCP */
    acl_free(&a);
    {
        static const char *const udp[] = { "10 in allow 17 0.0.0.0/0 0 65535" };
        acl_of(&a, udp, 1);
        ASSERT(sk_net_acl_allows(&a, 0, "10.0.3.0/24", 5432, 5432, &rule) == 0);
        acl_free(&a);
    }
}

/* A VPC 10.0.0.0/16: the database's subnets a (10.0.1.0/24) and b, the service's c (10.0.3.0/24),
 * groups sg-db and sg-svc, the default ACL allowing everything. */
static char *s_db[] = { M("subnet-a"), M("subnet-b") }, *s_svc[] = { M("subnet-c") };
static char *g_db[] = { M("sg-db") }, *g_svc[] = { M("sg-svc") };

static void vpc(struct sk_ec2_net *n, struct sk_ec2_sg *sgs, struct sk_ec2_perm *in, struct sk_ec2_perm *out,
                struct sk_ec2_subnet *subs, struct sk_ec2_acl *acl)
{
    static char *all[] = { M("0.0.0.0/0") };
    static const char *const open[] = { "100 in allow -1 0.0.0.0/0 -1 -1", "100 out allow -1 0.0.0.0/0 -1 -1" };

    memset(n, 0, sizeof(*n));
    subs[0] = (struct sk_ec2_subnet){ M("subnet-a"), M("vpc-1"), M("10.0.1.0/24"), M("az-a") };
    subs[1] = (struct sk_ec2_subnet){ M("subnet-b"), M("vpc-1"), M("10.0.2.0/24"), M("az-b") };
    subs[2] = (struct sk_ec2_subnet){ M("subnet-c"), M("vpc-1"), M("10.0.3.0/24"), M("az-a") };
    *out = (struct sk_ec2_perm){ M("-1"), -1, -1, all, 1, NULL, 0 };
    sgs[0] = (struct sk_ec2_sg){ M("sg-db"), M("db"), M("vpc-1"), in, NULL, in ? 1 : 0, 0 };
    sgs[1] = (struct sk_ec2_sg){ M("sg-svc"), M("svc"), M("vpc-1"), NULL, out, 0, 1 };
    acl_of(acl, open, 2);
    acl->id = M("acl-1");
    acl->vpc_id = M("vpc-1");
    acl->is_default = 1;
    n->sgs = sgs;
    n->nsgs = 2;
    n->subnets = subs;
    n->nsubnets = 3;
    n->acls = acl;
    n->nacls = 1;
}

static const struct sk_net_check *find(const struct sk_net_checks *c, const char *name)
{
    size_t i;

    for (i = 0; i < c->n; i++)
        if (strcmp(c->v[i].name, name) == 0)
            return &c->v[i];
    H_FAIL("no check %s", name);
    return NULL;
}

TEST(checks_over_a_vpc)
{
    static char *from_svc[] = { M("sg-svc") }, *cidr16[] = { M("10.0.0.0/16") }, *cidr1[] = { M("10.0.1.0/24") };
    struct sk_netpath p = { 5432, M("vpc-1"), g_db, 1, s_db, 2, M("service c/web"), g_svc, 1, s_svc, 1 };
    struct sk_ec2_perm in = { M("tcp"), 5432, 5432, NULL, 0, from_svc, 1 }, out;
    struct sk_ec2_sg sgs[2];
    struct sk_ec2_subnet subs[3];
    struct sk_ec2_acl acl;
    struct sk_ec2_net n;
    struct sk_net_checks c;

    vpc(&n, sgs, &in, &out, subs, &acl);
    sk_netpath_check(&p, &n, &c);
    ASSERT(c.n == 4);
    ASSERT(find(&c, "network-vpc")->result == SK_NET_PASS);
    ASSERT(find(&c, "network-sg-in")->result == SK_NET_PASS);
    ASSERT_STREQ(find(&c, "network-sg-in")->detail, "sg-db allows TCP 5432 from sg-svc (the database's)");
    ASSERT(find(&c, "network-sg-out")->result == SK_NET_PASS);
    ASSERT(find(&c, "network-acl")->result == SK_NET_PASS);
    sk_net_checks_release(&c);

    /* another port, then a CIDR that holds the service's subnet, then one that does not */
    in.from = in.to = 3306;
    sk_netpath_check(&p, &n, &c);
    ASSERT(find(&c, "network-sg-in")->result == SK_NET_FAIL);
    sk_net_checks_release(&c);
    in = (struct sk_ec2_perm){ M("6"), 5000, 6000, cidr16, 1, NULL, 0 };
    sk_netpath_check(&p, &n, &c);
    ASSERT_STREQ(find(&c, "network-sg-in")->detail,
                 "sg-db allows TCP 5432 from 10.0.0.0/16, which holds the subnets (the database's)");
    sk_net_checks_release(&c);
    in.cidrs = cidr1;
    sk_netpath_check(&p, &n, &c);
    ASSERT(find(&c, "network-sg-in")->result == SK_NET_FAIL);
    sk_net_checks_release(&c);

    /* the service in another VPC */
    in = (struct sk_ec2_perm){ M("-1"), -1, -1, NULL, 0, from_svc, 1 };
    subs[2].vpc_id = M("vpc-2");
    sk_netpath_check(&p, &n, &c);
    ASSERT(find(&c, "network-vpc")->result == SK_NET_FAIL);
    ASSERT(find(&c, "network-sg-in")->result == SK_NET_PASS);
    sk_net_checks_release(&c);
    subs[2].vpc_id = M("vpc-1");

    /* no subnets known (--from-sg): the ACLs are skipped */
    p.nsrc_subnets = 0;
    sk_netpath_check(&p, &n, &c);
    ASSERT(find(&c, "network-acl")->result == SK_NET_SKIP);
    ASSERT(find(&c, "network-vpc")->result == SK_NET_PASS); /* from the group's VPC */
    sk_net_checks_release(&c);
    acl_free(&acl);
}

int main(void)
{
    RUN(cidr_contains);
    RUN(acl_first_match_in_rule_order);
    RUN(acl_ranges_pieced_together);
    RUN(checks_over_a_vpc);
    return DONE();
}
