#include "svc/netpath.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/mem.h"
#include "svc/ecs.h"

#define MAX_SPANS 128

struct cidr {
    uint32_t base;
    int bits;
};

static int cidr_parse(const char *s, struct cidr *c)
{
    char addr[INET_ADDRSTRLEN];
    const char *slash = s ? strchr(s, '/') : NULL;
    struct in_addr in;
    char *end;
    long bits;
    size_t n;

    if (!slash || (n = (size_t)(slash - s)) >= sizeof(addr))
        return -1;
    memcpy(addr, s, n);
    addr[n] = '\0';
    bits = strtol(slash + 1, &end, 10);
    if (end == slash + 1 || *end || bits < 0 || bits > 32 || inet_pton(AF_INET, addr, &in) != 1)
        return -1;
    c->bits = (int)bits;
    c->base = ntohl(in.s_addr);
    return 0;
}

static uint32_t mask(int bits)
{
    return bits == 0 ? 0 : 0xffffffffu << (32 - bits);
}

static int holds(const struct cidr *outer, const struct cidr *inner)
{
    return inner->bits >= outer->bits && (inner->base & mask(outer->bits)) == (outer->base & mask(outer->bits));
}

static int overlaps(const struct cidr *a, const struct cidr *b)
{
    int bits = a->bits < b->bits ? a->bits : b->bits;

    return (a->base & mask(bits)) == (b->base & mask(bits));
}

int sk_net_cidr_contains(const char *outer, const char *inner)
{
    struct cidr o, i;

    if (cidr_parse(outer, &o) < 0 || cidr_parse(inner, &i) < 0)
        return -1;
    return holds(&o, &i);
}

/* ---- network ACLs --------------------------------------------------------------------------- */

static int by_rule(const void *a, const void *b)
{
    const struct sk_ec2_acl_entry *x = *(const struct sk_ec2_acl_entry *const *)a;
    const struct sk_ec2_acl_entry *y = *(const struct sk_ec2_acl_entry *const *)b;

    return (x->rule > y->rule) - (x->rule < y->rule);
}

/* Whether entry e's protocol and ports cover TCP; its port range in *f..*t. */
static int acl_tcp(const struct sk_ec2_acl_entry *e, long *f, long *t)
{
    if (!e->proto)
        return 0;
    if (strcmp(e->proto, "-1") == 0 || e->from == SK_EC2_ALL_PORTS) {
        *f = 0;
        *t = 65535;
        return strcmp(e->proto, "-1") == 0 || strcmp(e->proto, "6") == 0 || strcmp(e->proto, "tcp") == 0;
    }
    *f = e->from;
    *t = e->to;
    return strcmp(e->proto, "6") == 0 || strcmp(e->proto, "tcp") == 0;
}

int sk_net_acl_allows(const struct sk_ec2_acl *a, int egress, const char *peer, long lo, long hi, long *rule)
{
    const struct sk_ec2_acl_entry **order;
    long span_lo[MAX_SPANS], span_hi[MAX_SPANS];
    size_t i, nspan = 1, j;
    struct cidr p;
    int verdict = 0;

    *rule = 32767;
    if (cidr_parse(peer, &p) < 0)
        return -1;
    order = xcalloc(a->ne + 1, sizeof(*order));
    for (i = 0; i < a->ne; i++)
        order[i] = &a->e[i];
    qsort(order, a->ne, sizeof(*order), by_rule);
    span_lo[0] = lo; /* the ports no entry has decided yet */
    span_hi[0] = hi;
    for (i = 0; i < a->ne && nspan > 0; i++) {
        const struct sk_ec2_acl_entry *e = order[i];
        struct cidr ec;
        long f, t;
        if (e->egress != egress || !acl_tcp(e, &f, &t) || cidr_parse(e->cidr, &ec) < 0)
            continue;
        if (!e->allow) {
            if (!overlaps(&ec, &p))
                continue;
            for (j = 0; j < nspan; j++)
                if (span_lo[j] <= t && f <= span_hi[j]) {
                    *rule = e->rule;
                    goto out;
                }
            continue;
        }
        if (!holds(&ec, &p))
            continue;
        {
            long nlo[MAX_SPANS], nhi[MAX_SPANS];
            size_t nn = 0;
            for (j = 0; j < nspan; j++) {
                if (span_hi[j] < f || span_lo[j] > t) {
                    nlo[nn] = span_lo[j], nhi[nn++] = span_hi[j];
                    continue;
                }
                if (span_lo[j] < f && nn < MAX_SPANS)
                    nlo[nn] = span_lo[j], nhi[nn++] = f - 1;
                if (span_hi[j] > t && nn < MAX_SPANS)
                    nlo[nn] = t + 1, nhi[nn++] = span_hi[j];
            }
            memcpy(span_lo, nlo, nn * sizeof(*nlo));
            memcpy(span_hi, nhi, nn * sizeof(*nhi));
            nspan = nn;
        }
    }
    verdict = nspan == 0; /* ports left undecided meet the default "*" deny */
out:
    free(order);
    return verdict;
}

/* ---- the checks ----------------------------------------------------------------------------- */

static void add(struct sk_net_checks *c, const char *name, enum sk_net_result r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(struct sk_net_checks *c, const char *name, enum sk_net_result r, const char *fmt, ...)
{
    struct sk_buf b = SK_BUF_INIT;
    va_list ap;

    va_start(ap, fmt);
    sk_buf_vaddf(&b, fmt, ap);
    va_end(ap);
    c->v = xrealloc(c->v, (c->n + 1) * sizeof(*c->v));
    c->v[c->n].name = name;
    c->v[c->n].result = r;
    c->v[c->n].detail = sk_buf_detach(&b, NULL);
    c->n++;
}

static int in_list(char *const *v, size_t n, const char *s)
{
    size_t i;

    for (i = 0; s && i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

/* Whether security group rule q covers TCP port. */
static int perm_tcp(const struct sk_ec2_perm *q, long port)
{
    if (!q->proto)
        return 0;
    if (strcmp(q->proto, "-1") == 0)
        return 1;
    if (strcmp(q->proto, "tcp") != 0 && strcmp(q->proto, "6") != 0)
        return 0;
    return q->from == SK_EC2_ALL_PORTS || (q->from <= port && port <= q->to);
}

static void join(struct sk_buf *b, char *const *v, size_t n, const char *sep)
{
    size_t i;

    for (i = 0; i < n; i++)
        sk_buf_addf(b, "%s%s", i ? sep : "", v[i]);
}

/* The VPC of the source: its subnets', else its first security group's. */
static const char *src_vpc(const struct sk_netpath *p, const struct sk_ec2_net *net)
{
    const struct sk_ec2_subnet *s;
    const struct sk_ec2_sg *g;

    if (p->nsrc_subnets && (s = sk_ec2_net_subnet(net, p->src_subnets[0])) != NULL)
        return s->vpc_id;
    if (p->nsrc_sgs && (g = sk_ec2_net_sg(net, p->src_sgs[0])) != NULL)
        return g->vpc_id;
    return NULL;
}

static void check_vpc(const struct sk_netpath *p, const struct sk_ec2_net *net, struct sk_net_checks *out)
{
    const char *v = src_vpc(p, net);

    if (!p->db_vpc || !v)
        add(out, "network-vpc", SK_NET_SKIP, "the VPC of the %s is unknown", p->db_vpc ? p->src : "database");
    else if (strcmp(p->db_vpc, v) == 0)
        add(out, "network-vpc", SK_NET_PASS, "the database and %s are in %s", p->src, v);
    else
        add(out, "network-vpc", SK_NET_FAIL,
            "the database is in %s, %s in %s: no path unless VPC peering or a transit gateway joins them (with "
            "routes both ways), which rds-check does not follow",
            p->db_vpc, p->src, v);
}

/* Which of the CIDRs of subnets ids[] the rule's CIDRs hold: covered[i] set; returns the CIDR of
 * the last rule that held one, or NULL. */
static const char *cover(const struct sk_ec2_perm *q, const struct sk_ec2_net *net, char *const *ids, size_t n,
                         int *covered)
{
    const char *hit = NULL;
    size_t i, k;

    for (k = 0; k < q->ncidrs; k++) {
        for (i = 0; i < n; i++) {
            const struct sk_ec2_subnet *s = sk_ec2_net_subnet(net, ids[i]);
            if (s && sk_net_cidr_contains(q->cidrs[k], s->cidr) == 1) {
                covered[i] = 1;
                hit = q->cidrs[k];
            }
        }
        if (strcmp(q->cidrs[k], "0.0.0.0/0") == 0)
            hit = q->cidrs[k];
    }
    return hit;
}

static int all_set(const int *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!v[i])
            return 0;
    return n > 0;
}

/* Whether the groups gs (rules in or out) admit TCP port between them and the peer: its security
 * groups peer_sgs, or CIDRs covering its subnets. *how says which rule does. */
static int sg_admits(const struct sk_ec2_net *net, char *const *gs, size_t ngs, int egress, long port,
                     char *const *peer_sgs, size_t npeer_sgs, char *const *peer_subnets, size_t npeer_subnets,
                     struct sk_buf *how)
{
    int *covered = xcalloc(npeer_subnets + 1, sizeof(*covered)), ok = 0;
    const char *cidr = NULL;
    size_t i, k, m;

    for (i = 0; i < ngs && !ok; i++) {
        const struct sk_ec2_sg *g = sk_ec2_net_sg(net, gs[i]);
        size_t nperm = g ? (egress ? g->nout : g->nin) : 0;
        for (k = 0; k < nperm && !ok; k++) {
            const struct sk_ec2_perm *q = egress ? &g->out[k] : &g->in[k];
            const char *hit;
            if (!perm_tcp(q, port))
                continue;
            for (m = 0; m < q->ngroups; m++)
                if (in_list(peer_sgs, npeer_sgs, q->groups[m])) {
                    sk_buf_addf(how, "%s allows TCP %ld %s %s", g->id, port, egress ? "to" : "from", q->groups[m]);
                    ok = 1;
                    break;
                }
            if (ok)
                break;
            hit = cover(q, net, peer_subnets, npeer_subnets, covered);
            if (hit && strcmp(hit, "0.0.0.0/0") == 0) {
                sk_buf_addf(how, "%s allows TCP %ld %s 0.0.0.0/0", g->id, port, egress ? "to" : "from");
                ok = 1;
            } else if (hit) {
                cidr = hit;
                if (all_set(covered, npeer_subnets)) {
                    sk_buf_addf(how, "%s allows TCP %ld %s %s, which holds the subnets", g->id, port,
                                egress ? "to" : "from", cidr);
                    ok = 1;
                }
            }
        }
    }
    free(covered);
    return ok;
}

static void check_sgs(const struct sk_netpath *p, const struct sk_ec2_net *net, struct sk_net_checks *out)
{
    struct sk_buf how = SK_BUF_INIT, peers = SK_BUF_INIT;
    size_t i;

    if (p->ndb_sgs == 0) {
        add(out, "network-sg-in", SK_NET_FAIL, "the database has no VPC security group");
    } else if (sg_admits(net, p->db_sgs, p->ndb_sgs, 0, p->port, p->src_sgs, p->nsrc_sgs, p->src_subnets,
                         p->nsrc_subnets, &how)) {
        add(out, "network-sg-in", SK_NET_PASS, "%s (the database's)", how.p);
    } else {
        join(&peers, p->src_sgs, p->nsrc_sgs, ", ");
        for (i = 0; i < p->nsrc_subnets; i++) {
            const struct sk_ec2_subnet *s = sk_ec2_net_subnet(net, p->src_subnets[i]);
            if (s && s->cidr)
                sk_buf_addf(&peers, "%s%s", peers.len ? ", " : "", s->cidr);
        }
        add(out, "network-sg-in", SK_NET_FAIL,
            "no inbound rule of the database's security group%s (%s) allows TCP %ld from %s (%s): add one, e.g. "
            "aws ec2 authorize-security-group-ingress --group-id %s --protocol tcp --port %ld --source-group %s",
            p->ndb_sgs == 1 ? "" : "s", p->db_sgs[0], p->port, p->src, peers.len ? peers.p : "no address known",
            p->db_sgs[0], p->port, p->nsrc_sgs ? p->src_sgs[0] : "SOURCE_SG");
    }
    sk_buf_reset(&how);
    if (p->nsrc_sgs == 0) {
        add(out, "network-sg-out", SK_NET_SKIP, "%s has no security group", p->src);
    } else if (sg_admits(net, p->src_sgs, p->nsrc_sgs, 1, p->port, p->db_sgs, p->ndb_sgs, p->db_subnets, p->ndb_subnets,
                         &how)) {
        add(out, "network-sg-out", SK_NET_PASS, "%s (%s's)", how.p, p->src);
    } else {
        add(out, "network-sg-out", SK_NET_FAIL,
            "no outbound rule of %s's security group%s (%s) allows TCP %ld to the database (%s or its subnets): add "
            "one, e.g. aws ec2 authorize-security-group-egress --group-id %s --protocol tcp --port %ld "
            "--source-group %s",
            p->src, p->nsrc_sgs == 1 ? "" : "s", p->src_sgs[0], p->port, p->ndb_sgs ? p->db_sgs[0] : "-", p->src_sgs[0],
            p->port, p->ndb_sgs ? p->db_sgs[0] : "DB_SG");
    }
    sk_buf_release(&how);
    sk_buf_release(&peers);
}

/* The four ACL directions between subnet s (the source's) and d (the database's); 0 when all pass,
 * else -1 with the failure in *why. */
static int acl_pair(const struct sk_netpath *p, const struct sk_ec2_net *net, const struct sk_ec2_subnet *s,
                    const struct sk_ec2_subnet *d, struct sk_buf *why)
{
    const struct sk_ec2_acl *as = sk_ec2_net_acl(net, s), *ad = sk_ec2_net_acl(net, d);
    const struct {
        const struct sk_ec2_acl *acl;
        const struct sk_ec2_subnet *own, *peer;
        int egress;
        long lo, hi;
        const char *what;
    } steps[] = {
        { as, s, d, 1, p->port, p->port, "outbound" },
        { ad, d, s, 0, p->port, p->port, "inbound" },
        { ad, d, s, 1, SK_NET_EPHEMERAL_LO, SK_NET_EPHEMERAL_HI, "outbound (the replies)" },
        { as, s, d, 0, SK_NET_EPHEMERAL_LO, SK_NET_EPHEMERAL_HI, "inbound (the replies)" },
    };
    size_t i;

    for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
        long rule;
        int ok;
        if (!steps[i].acl) {
            sk_buf_addf(why, "no network ACL found for %s", steps[i].own->id);
            return -1;
        }
        ok = sk_net_acl_allows(steps[i].acl, steps[i].egress, steps[i].peer->cidr, steps[i].lo, steps[i].hi, &rule);
        if (ok == 1)
            continue;
        sk_buf_addf(why, "%s of %s (%s) denies %s TCP ", steps[i].acl->id, steps[i].own->id,
                    steps[i].own == s ? p->src : "the database's", steps[i].what);
        if (steps[i].lo == steps[i].hi)
            sk_buf_addf(why, "%ld", steps[i].lo);
        else
            sk_buf_addf(why, "%ld-%ld", steps[i].lo, steps[i].hi);
        sk_buf_addf(why, " %s %s (", steps[i].egress ? "to" : "from", steps[i].peer->cidr ? steps[i].peer->cidr : "?");
        if (ok < 0 || rule == 32767)
            sk_buf_adds(why, "no entry allows it: the default rule *");
        else
            sk_buf_addf(why, "rule %ld", rule);
        sk_buf_adds(why,
                    "): network ACLs are stateless, allow the port one way and the replies on 1024-65535 the other");
        return -1;
    }
    return 0;
}

static void check_acls(const struct sk_netpath *p, const struct sk_ec2_net *net, struct sk_net_checks *out)
{
    struct sk_buf why = SK_BUF_INIT;
    size_t i, j, pairs = 0;

    if (p->nsrc_subnets == 0) {
        add(out, "network-acl", SK_NET_SKIP, "the subnets of %s are unknown (--from-service names them)", p->src);
        return;
    }
    for (i = 0; i < p->nsrc_subnets; i++) {
        const struct sk_ec2_subnet *s = sk_ec2_net_subnet(net, p->src_subnets[i]);
        for (j = 0; s && j < p->ndb_subnets; j++) {
            const struct sk_ec2_subnet *d = sk_ec2_net_subnet(net, p->db_subnets[j]);
            if (!d || strcmp(s->id, d->id) == 0) /* inside one subnet no network ACL applies */
                continue;
            pairs++;
            if (acl_pair(p, net, s, d, &why) < 0) {
                add(out, "network-acl", SK_NET_FAIL, "%s", why.p);
                sk_buf_release(&why);
                return;
            }
        }
    }
    add(out, "network-acl", SK_NET_PASS,
        "the network ACLs allow TCP %ld from %s's subnets to the database's and the replies back (%zu subnet "
        "pair%s)",
        p->port, p->src, pairs, pairs == 1 ? "" : "s");
    sk_buf_release(&why);
}

void sk_netpath_check(const struct sk_netpath *p, const struct sk_ec2_net *net, struct sk_net_checks *out)
{
    memset(out, 0, sizeof(*out));
    check_vpc(p, net, out);
    check_sgs(p, net, out);
    check_acls(p, net, out);
}

void sk_net_checks_release(struct sk_net_checks *c)
{
    size_t i;

    if (!c)
        return;
    for (i = 0; i < c->n; i++)
        free(c->v[i].detail);
    free(c->v);
    memset(c, 0, sizeof(*c));
}

/* ---- the source, and a run --------------------------------------------------------------------- */

static char **str_array(jv list, size_t *n)
{
    int i, len = jv_get_kind(list) == JV_KIND_ARRAY ? jv_array_length(jv_copy(list)) : 0;
    char **v = xcalloc((size_t)len + 1, sizeof(*v));

    *n = 0;
    for (i = 0; i < len; i++) {
        jv e = jv_array_get(jv_copy(list), i);
        if (jv_get_kind(e) == JV_KIND_STRING)
            v[(*n)++] = xstrdup(jv_string_value(e));
        jv_free(e);
    }
    jv_free(list);
    return v;
}

int sk_netsrc_service(struct sk_client *c, const char *cluster, const char *service, struct sk_netsrc *out,
                      struct sk_err *err)
{
    static const char *const path[] = { "networkConfiguration", "awsvpcConfiguration", NULL };
    struct sk_buf name = SK_BUF_INIT;
    jv svc, net;

    memset(out, 0, sizeof(*out));
    if (sk_ecs_describe_service(c, cluster, service, &svc, err) < 0)
        return -1;
    net = sk_json_path(svc, path);
    jv_free(svc);
    if (jv_get_kind(net) != JV_KIND_OBJECT) {
        jv_free(net);
        return sk_errf(err, SK_E_USAGE,
                       "--from-service: service %s/%s has no awsvpc network configuration (its tasks use their "
                       "container instances' security groups): give them with --from-sg",
                       cluster, service);
    }
    out->sgs = str_array(sk_json_get(net, "securityGroups"), &out->nsgs);
    out->subnets = str_array(sk_json_get(net, "subnets"), &out->nsubnets);
    jv_free(net);
    sk_buf_addf(&name, "service %s/%s", cluster, service);
    out->name = sk_buf_detach(&name, NULL);
    return 0;
}

void sk_netsrc_sgs(const char *sgs, struct sk_netsrc *out)
{
    const char *p = sgs;
    size_t n = 1;

    memset(out, 0, sizeof(*out));
    for (; *p; p++)
        n += *p == ',';
    out->sgs = xcalloc(n + 1, sizeof(*out->sgs));
    for (p = sgs; *p;) {
        size_t len = strcspn(p, ",");
        if (len)
            out->sgs[out->nsgs++] = xstrndup(p, len);
        p += len;
        if (*p == ',')
            p++;
    }
    out->subnets = xcalloc(1, sizeof(*out->subnets));
    out->name = xstrdup(sgs);
}

void sk_netsrc_release(struct sk_netsrc *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < s->nsgs; i++)
        free(s->sgs[i]);
    free(s->sgs);
    for (i = 0; i < s->nsubnets; i++)
        free(s->subnets[i]);
    free(s->subnets);
    free(s->name);
    memset(s, 0, sizeof(*s));
}

/* a followed by b without repeats, borrowed (the array is owned); the count in *n. */
static char **concat(char *const *a, size_t na, char *const *b, size_t nb, size_t *n)
{
    char **v = xcalloc(na + nb + 1, sizeof(*v));
    size_t i;

    *n = 0;
    for (i = 0; i < na + nb; i++) {
        char *s = i < na ? a[i] : b[i - na];
        if (!in_list(v, *n, s))
            v[(*n)++] = s;
    }
    return v;
}

int sk_netpath_run(struct sk_client *c, const struct sk_rds_instance *db, const struct sk_netsrc *src,
                   struct sk_net_checks *out, struct sk_err *err)
{
    size_t nsg, nsub;
    char **sgs = concat(db->sg_ids, db->nsg_ids, src->sgs, src->nsgs, &nsg);
    char **subnets = concat(db->subnet_ids, db->nsubnet_ids, src->subnets, src->nsubnets, &nsub);
    struct sk_netpath p = { 0 };
    struct sk_ec2_net net;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = sk_ec2_net_get(c, sgs, nsg, subnets, nsub, &net, err);
    free(sgs);
    free(subnets);
    if (rc < 0)
        return -1;
    p.port = db->port;
    p.db_vpc = db->vpc_id;
    p.db_sgs = db->sg_ids;
    p.ndb_sgs = db->nsg_ids;
    p.db_subnets = db->subnet_ids;
    p.ndb_subnets = db->nsubnet_ids;
    p.src = src->name;
    p.src_sgs = src->sgs;
    p.nsrc_sgs = src->nsgs;
    p.src_subnets = src->subnets;
    p.nsrc_subnets = src->nsubnets;
    sk_netpath_check(&p, &net, out);
    sk_ec2_net_release(&net);
    return 0;
}
