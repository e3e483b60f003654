#include "svc/ec2.h"

#include <stdlib.h>
#include <string.h>

#include "aws/api.h"
#include "core/json.h"
#include "core/mem.h"

#define MAX_PAGES 50

static const char *const item_lists[] = { "item", NULL };

/* obj[key] as EC2 lists it ({"item": [...]}, or "" when empty): a plain array (owned); obj borrowed. */
static jv items(jv obj, const char *key)
{
    jv l = sk_json_get(obj, key), m = sk_json_get(l, "item");

    jv_free(l);
    if (jv_get_kind(m) != JV_KIND_ARRAY) {
        jv_free(m);
        return jv_array();
    }
    return m;
}

static char *str(jv obj, const char *key)
{
    const char *s = sk_json_str(obj, key);

    return s && *s ? xstrdup(s) : NULL;
}

/* obj[key], a decimal string, as a number; dflt when absent or not a number. */
static long num(jv obj, const char *key, long dflt)
{
    const char *s = sk_json_str(obj, key);
    char *end;
    long v;

    if (!s || !*s)
        return dflt;
    v = strtol(s, &end, 10);
    return *end ? dflt : v;
}

/* The strings list[i][key] (owned array, count in *n); list is consumed. */
static char **strings(jv list, const char *key, size_t *n)
{
    int i, len = jv_array_length(jv_copy(list));
    char **v = xcalloc((size_t)len + 1, sizeof(*v));

    *n = 0;
    for (i = 0; i < len; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        char *s = str(e, key);
        if (s)
            v[(*n)++] = s;
        jv_free(e);
    }
    jv_free(list);
    return v;
}

static void free_strings(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* One Describe call over its pages: the form names vals (value_prefix numbered from 1), after the filter
 * name_key=name_val when given; *out is the concatenation of every page's `set` list. */
static int describe(struct sk_client *c, const char *op, const char *name_key, const char *name_val,
                    const char *value_prefix, char *const *vals, size_t n, const char *set, jv *out, struct sk_err *err)
{
    jv all = jv_array();
    char *token = NULL;
    int page;

    for (page = 0; page < MAX_PAGES; page++) {
        struct sk_form f;
        jv res, list;
        const char *next;
        size_t i;
        int rc, k, len;

        sk_form_init(&f);
        if (name_key)
            sk_form_add(&f, name_key, name_val);
        for (i = 0; i < n; i++)
            sk_form_addf(&f, vals[i], "%s%zu", value_prefix, i + 1);
        if (token)
            sk_form_add(&f, "NextToken", token);
        rc = sk_client_query(c, &sk_svc_ec2, op, &f, item_lists, 0, &res, err);
        sk_form_release(&f);
        if (rc < 0) {
            free(token);
            jv_free(all);
            return -1;
        }
        list = items(res, set);
        len = jv_array_length(jv_copy(list));
        for (k = 0; k < len; k++)
            all = jv_array_append(all, jv_array_get(jv_copy(list), k));
        jv_free(list);
        next = sk_json_str(res, "nextToken");
        free(token);
        token = next && *next ? xstrdup(next) : NULL;
        jv_free(res);
        if (!token)
            break;
    }
    free(token);
    *out = all;
    return 0;
}

static void perms(jv list, struct sk_ec2_perm **out, size_t *n)
{
    int i, len = jv_array_length(jv_copy(list));

    *out = xcalloc((size_t)len + 1, sizeof(**out));
    *n = (size_t)len;
    for (i = 0; i < len; i++) {
        jv p = jv_array_get(jv_copy(list), i);
        struct sk_ec2_perm *q = &(*out)[i];
        q->proto = str(p, "ipProtocol");
        q->from = num(p, "fromPort", SK_EC2_ALL_PORTS);
        q->to = num(p, "toPort", SK_EC2_ALL_PORTS);
        q->cidrs = strings(items(p, "ipRanges"), "cidrIp", &q->ncidrs);
        q->groups = strings(items(p, "groups"), "groupId", &q->ngroups);
        jv_free(p);
    }
    jv_free(list);
}

static void perms_release(struct sk_ec2_perm *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(v[i].proto);
        free_strings(v[i].cidrs, v[i].ncidrs);
        free_strings(v[i].groups, v[i].ngroups);
    }
    free(v);
}

static int get_sgs(struct sk_client *c, char *const *ids, size_t n, struct sk_ec2_net *out, struct sk_err *err)
{
    jv list;
    int i, len;

    if (n == 0)
        return 0;
    if (describe(c, "DescribeSecurityGroups", NULL, NULL, "GroupId.", ids, n, "securityGroupInfo", &list, err) < 0)
        return -1;
    len = jv_array_length(jv_copy(list));
    out->sgs = xcalloc((size_t)len + 1, sizeof(*out->sgs));
    for (i = 0; i < len; i++) {
        jv g = jv_array_get(jv_copy(list), i);
        struct sk_ec2_sg *s = &out->sgs[out->nsgs++];
        s->id = str(g, "groupId");
        s->name = str(g, "groupName");
        s->vpc_id = str(g, "vpcId");
        perms(items(g, "ipPermissions"), &s->in, &s->nin);
        perms(items(g, "ipPermissionsEgress"), &s->out, &s->nout);
        jv_free(g);
    }
    jv_free(list);
    return 0;
}

static int get_subnets(struct sk_client *c, char *const *ids, size_t n, struct sk_ec2_net *out, struct sk_err *err)
{
    jv list;
    int i, len;

    if (n == 0)
        return 0;
    if (describe(c, "DescribeSubnets", NULL, NULL, "SubnetId.", ids, n, "subnetSet", &list, err) < 0)
        return -1;
    len = jv_array_length(jv_copy(list));
    out->subnets = xcalloc((size_t)len + 1, sizeof(*out->subnets));
    for (i = 0; i < len; i++) {
        jv g = jv_array_get(jv_copy(list), i);
        struct sk_ec2_subnet *s = &out->subnets[out->nsubnets++];
        s->id = str(g, "subnetId");
        s->vpc_id = str(g, "vpcId");
        s->cidr = str(g, "cidrBlock");
        s->az = str(g, "availabilityZone");
        jv_free(g);
    }
    jv_free(list);
    return 0;
}

static void acl_entries(jv list, struct sk_ec2_acl *a)
{
    int i, len = jv_array_length(jv_copy(list));

    a->e = xcalloc((size_t)len + 1, sizeof(*a->e));
    for (i = 0; i < len; i++) {
        jv x = jv_array_get(jv_copy(list), i), pr = sk_json_get(x, "portRange");
        char *cidr = str(x, "cidrBlock");
        const char *action = sk_json_str(x, "ruleAction"), *egress = sk_json_str(x, "egress");
        struct sk_ec2_acl_entry *e;
        if (!cidr) { /* an IPv6 entry (ipv6CidrBlock): tasks and databases are reached over IPv4 here */
            jv_free(pr);
            jv_free(x);
            continue;
        }
        e = &a->e[a->ne++];
        e->rule = num(x, "ruleNumber", 32767);
        e->proto = str(x, "protocol");
        e->egress = egress && strcmp(egress, "true") == 0;
        e->allow = action && strcmp(action, "allow") == 0;
        e->cidr = cidr;
        e->from = num(pr, "from", SK_EC2_ALL_PORTS);
        e->to = num(pr, "to", SK_EC2_ALL_PORTS);
        jv_free(pr);
        jv_free(x);
    }
    jv_free(list);
}

static int get_acls(struct sk_client *c, struct sk_ec2_net *out, struct sk_err *err)
{
    char **vpcs = xcalloc(out->nsgs + out->nsubnets + 1, sizeof(*vpcs));
    size_t nv = 0, i, j;
    jv list;
    int k, len, rc = -1;

    for (i = 0; i < out->nsubnets; i++) {
        const char *v = out->subnets[i].vpc_id;
        for (j = 0; v && j < nv && strcmp(vpcs[j], v) != 0; j++)
            ;
        if (v && j == nv)
            vpcs[nv++] = (char *)v;
    }
    if (nv == 0) {
        rc = 0;
        goto out;
    }
    if (describe(c, "DescribeNetworkAcls", "Filter.1.Name", "vpc-id", "Filter.1.Value.", vpcs, nv, "networkAclSet",
                 &list, err) < 0)
        goto out;
    len = jv_array_length(jv_copy(list));
    out->acls = xcalloc((size_t)len + 1, sizeof(*out->acls));
    for (k = 0; k < len; k++) {
        jv g = jv_array_get(jv_copy(list), k);
        struct sk_ec2_acl *a = &out->acls[out->nacls++];
        const char *d = sk_json_str(g, "default");
        a->id = str(g, "networkAclId");
        a->vpc_id = str(g, "vpcId");
        a->is_default = d && strcmp(d, "true") == 0;
        acl_entries(items(g, "entrySet"), a);
        a->subnets = strings(items(g, "associationSet"), "subnetId", &a->nsubnets);
        jv_free(g);
    }
    jv_free(list);
    rc = 0;
out:
    free(vpcs); /* the strings are the subnets' */
    return rc;
}

int sk_ec2_net_get(struct sk_client *c, char *const *sg_ids, size_t nsg, char *const *subnet_ids, size_t nsubnet,
                   struct sk_ec2_net *out, struct sk_err *err)
{
    memset(out, 0, sizeof(*out));
    if (get_sgs(c, sg_ids, nsg, out, err) < 0 || get_subnets(c, subnet_ids, nsubnet, out, err) < 0 ||
        get_acls(c, out, err) < 0) {
        sk_ec2_net_release(out);
        return -1;
    }
    return 0;
}

void sk_ec2_net_release(struct sk_ec2_net *n)
{
    size_t i, j;

    if (!n)
        return;
    for (i = 0; i < n->nsgs; i++) {
        free(n->sgs[i].id);
        free(n->sgs[i].name);
        free(n->sgs[i].vpc_id);
        perms_release(n->sgs[i].in, n->sgs[i].nin);
        perms_release(n->sgs[i].out, n->sgs[i].nout);
    }
    free(n->sgs);
    for (i = 0; i < n->nsubnets; i++) {
        free(n->subnets[i].id);
        free(n->subnets[i].vpc_id);
        free(n->subnets[i].cidr);
        free(n->subnets[i].az);
    }
    free(n->subnets);
    for (i = 0; i < n->nacls; i++) {
        for (j = 0; j < n->acls[i].ne; j++) {
            free(n->acls[i].e[j].proto);
            free(n->acls[i].e[j].cidr);
        }
        free(n->acls[i].e);
        free(n->acls[i].id);
        free(n->acls[i].vpc_id);
        free_strings(n->acls[i].subnets, n->acls[i].nsubnets);
    }
    free(n->acls);
    memset(n, 0, sizeof(*n));
}

const struct sk_ec2_sg *sk_ec2_net_sg(const struct sk_ec2_net *n, const char *id)
{
    size_t i;

    for (i = 0; id && i < n->nsgs; i++)
        if (n->sgs[i].id && strcmp(n->sgs[i].id, id) == 0)
            return &n->sgs[i];
    return NULL;
}

const struct sk_ec2_subnet *sk_ec2_net_subnet(const struct sk_ec2_net *n, const char *id)
{
    size_t i;

    for (i = 0; id && i < n->nsubnets; i++)
        if (n->subnets[i].id && strcmp(n->subnets[i].id, id) == 0)
            return &n->subnets[i];
    return NULL;
}

const struct sk_ec2_acl *sk_ec2_net_acl(const struct sk_ec2_net *n, const struct sk_ec2_subnet *s)
{
    const struct sk_ec2_acl *dflt = NULL;
    size_t i, j;

    if (!s || !s->id)
        return NULL;
    for (i = 0; i < n->nacls; i++) {
        for (j = 0; j < n->acls[i].nsubnets; j++)
            if (strcmp(n->acls[i].subnets[j], s->id) == 0)
                return &n->acls[i];
        if (n->acls[i].is_default && s->vpc_id && n->acls[i].vpc_id && strcmp(n->acls[i].vpc_id, s->vpc_id) == 0)
            dflt = &n->acls[i];
    }
    return dflt;
}
