// The security policy (infra/README.md "Security decisions"; AWS Security Hub's Foundational Security Best
// Practices, https://docs.aws.amazon.com/securityhub/latest/userguide/fsbp-standard.html), one small
// function per rule. A rule returns
// findings [{address, message}]. A security-relevant argument that is an expression we cannot
// evaluate offline is a finding too ("cannot evaluate"); var.X with a literal default counts as
// that default. Each rule has a bad fixture in tests/infra/fixtures/<id>/ that makes it fire.
'use strict';
const { lit, value, blocks, refs, asList, isExpr } = require('./model');

const WORLD = ['0.0.0.0/0', '::/0'];
const TLS_POLICIES = ['ELBSecurityPolicy-TLS13-1-2-2021-06', 'ELBSecurityPolicy-TLS13-1-2-Res-2021-06', 'ELBSecurityPolicy-TLS13-1-3-2021-06'];
// Actions that only accept Resource "*".
const STAR_RESOURCE_OK = [
  'ecr:GetAuthorizationToken', 'ssmmessages:CreateControlChannel', 'ssmmessages:CreateDataChannel',
  'ssmmessages:OpenControlChannel', 'ssmmessages:OpenDataChannel', 'cloudwatch:PutMetricData',
  'logs:DescribeLogGroups', 'xray:PutTraceSegments', 'xray:PutTelemetryRecords', 'ec2:DescribeNetworkInterfaces',
  'sts:GetCallerIdentity', 'ecs:RegisterTaskDefinition', 'ecs:DeregisterTaskDefinition', 'ecs:DescribeTaskDefinition',
  'ecs:ListTaskDefinitions', 'ecs:ListTasks', 'elasticloadbalancing:DescribeTargetHealth',
  'elasticloadbalancing:DescribeTargetGroups', 'elasticloadbalancing:DescribeLoadBalancers',
  'elasticloadbalancing:DescribeTargetGroupAttributes', 'ec2:DescribeSecurityGroups', 'ec2:DescribeSubnets',
  'ec2:DescribeNetworkAcls',
];
const TRUSTED_SERVICES = ['ecs-tasks.amazonaws.com', 'ecs.amazonaws.com', 'ec2.amazonaws.com', 'vpc-flow-logs.amazonaws.com', 'monitoring.rds.amazonaws.com', 'application-autoscaling.amazonaws.com'];
const SECRET_NAME = /PASS|SECRET|TOKEN|KEY|CREDENTIAL/i;
const LOG_RETENTION_MIN = 30;

// --- helpers over the model -------------------------------------------------------------
const of = (m, type) => m.resources.filter((r) => r.type === type);
const refersTo = (v, r) => refs(v).has(r.address);

// expect(m, r, key, test, want): a finding unless the argument is known and passes test.
function expect(m, r, key, test, want, body = r.body, where = '') {
  const [known, v] = lit(m, r, key, body);
  if (!known) return [{ address: r.address, message: `${where}${key} = ${v}: cannot evaluate (want ${want})` }];
  return test(v) ? [] : [{ address: r.address, message: `${where}${key} is ${JSON.stringify(v)} (want ${want})` }];
}
const isTrue = (v) => v === true || v === 'true';
const notTrue = (v) => v === undefined || v === false || v === 'false';
const num = (v) => (typeof v === 'number' ? v : Number(v));

// Companion resources of a bucket/VPC/repo: resources of `type` whose `key` references r.
const companions = (m, type, key, r) => of(m, type).filter((c) => refersTo(c.body[key], r));

// SG roles: the SGs attached to ALBs, RDS instances and ECS services.
function sgRole(m, role) {
  const set = new Set();
  const add = (v) => refs(v).forEach((a) => a.startsWith('aws_security_group.') && set.add(a));
  if (role === 'alb') of(m, 'aws_lb').forEach((r) => add(r.body.security_groups));
  if (role === 'rds') of(m, 'aws_db_instance').forEach((r) => add(r.body.vpc_security_group_ids));
  if (role === 'ecs') of(m, 'aws_ecs_service').forEach((r) => blocks(r.body, 'network_configuration').forEach((n) => add(n.security_groups)));
  return set;
}

// All SG rules in one shape: {r, direction, sg (address or ''), cidrs, from, to, proto, peerSg, body}.
function sgRules(m) {
  const out = [];
  const sgOf = (v) => [...refs(v)].find((a) => a.startsWith('aws_security_group.')) || '';
  for (const dir of ['ingress', 'egress']) {
    for (const r of of(m, `aws_vpc_security_group_${dir}_rule`)) {
      const b = r.body;
      out.push({ r, dir, sg: sgOf(b.security_group_id), cidrs: [b.cidr_ipv4, b.cidr_ipv6].map((c) => value(m, c)).filter(Boolean), from: value(m, b.from_port), to: value(m, b.to_port), proto: value(m, b.ip_protocol), peer: b.referenced_security_group_id, inline: false });
    }
  }
  for (const r of of(m, 'aws_security_group_rule')) {
    const b = r.body;
    out.push({ r, dir: value(m, b.type), sg: sgOf(b.security_group_id), cidrs: [...asList(value(m, b.cidr_blocks)), ...asList(value(m, b.ipv6_cidr_blocks))], from: value(m, b.from_port), to: value(m, b.to_port), proto: value(m, b.protocol), peer: b.source_security_group_id, inline: false });
  }
  for (const r of of(m, 'aws_security_group')) {
    for (const dir of ['ingress', 'egress']) {
      for (const b of blocks(r.body, dir)) {
        out.push({ r, dir, sg: r.address, cidrs: [...asList(value(m, b.cidr_blocks)), ...asList(value(m, b.ipv6_cidr_blocks))], from: value(m, b.from_port), to: value(m, b.to_port), proto: value(m, b.protocol), peer: b.security_groups, inline: true });
      }
    }
  }
  return out;
}
const toWorld = (x) => x.cidrs.some((c) => WORLD.includes(c) || isExpr(c));
const allProto = (x) => x.proto === '-1' || x.proto === -1 || x.proto === 'all';

// IAM policy statements from data "aws_iam_policy_document" and from jsonencode()/heredoc JSON
// policies, normalised to {address, trust, effect, actions, notActions, resources, principals, conditions}.
function statements(m) {
  const out = [];
  const trustDocs = new Set();
  of(m, 'aws_iam_role').forEach((r) => refs(r.body.assume_role_policy).forEach((a) => trustDocs.add(a)));
  for (const d of m.data.filter((d) => d.type === 'aws_iam_policy_document')) {
    for (const s of blocks(d.body, 'statement')) {
      out.push({
        address: d.address, trust: trustDocs.has(d.address), effect: value(m, s.effect) || 'Allow',
        actions: asList(value(m, s.actions)), notActions: asList(s.not_actions), resources: asList(value(m, s.resources)),
        principals: blocks(s, 'principals').flatMap((p) => asList(p.identifiers).map((id) => ({ type: p.type, id }))),
        conditions: blocks(s, 'condition').map((c) => ({ test: c.test, variable: c.variable, values: asList(c.values).map(String) })),
      });
    }
  }
  const POLICY_ARGS = { aws_iam_role: ['assume_role_policy'], aws_iam_policy: ['policy'], aws_iam_role_policy: ['policy'], aws_s3_bucket_policy: ['policy'], aws_ecr_repository_policy: ['policy'], aws_sns_topic_policy: ['policy'], aws_kms_key: ['policy'] };
  for (const r of m.resources) {
    const docs = (POLICY_ARGS[r.type] || []).map((k) => [k, r.body[k]]);
    if (r.type === 'aws_iam_role') blocks(r.body, 'inline_policy').forEach((p) => docs.push(['inline_policy', p.policy]));
    for (const [k, raw] of docs) {
      let doc = value(m, raw, r.dir);
      if (typeof doc === 'string' && !isExpr(doc)) {
        try {
          doc = JSON.parse(doc.replace(/\$\{[^}]*\}/g, '__expr__'));
        } catch (e) {
          /* not JSON: ignored */
        }
      }
      if (!doc || typeof doc !== 'object') continue; // a reference to a policy document, checked there
      for (const s of asList(doc.Statement)) {
        const principals = [];
        if (s.Principal === '*') principals.push({ type: 'AWS', id: '*' });
        else for (const [type, ids] of Object.entries(s.Principal || {})) asList(ids).forEach((id) => principals.push({ type, id }));
        const conditions = [];
        for (const [test, vars] of Object.entries(s.Condition || {})) for (const [variable, vals] of Object.entries(vars)) conditions.push({ test, variable, values: asList(vals).map(String) });
        out.push({ address: r.address, trust: k === 'assume_role_policy', effect: s.Effect, actions: asList(s.Action), notActions: asList(s.NotAction), resources: asList(s.Resource), principals, conditions });
      }
    }
  }
  return out;
}
// Permission statements (not trust policies, not resource policies with principals).
const permissionStatements = (m) => statements(m).filter((s) => !s.trust && s.effect === 'Allow' && s.principals.length === 0);

// Container definitions of a task definition: [known, list].
function containers(m, r) {
  const v = value(m, r.body.container_definitions, r.dir);
  if (Array.isArray(v)) return [true, v];
  if (typeof v === 'string' && !isExpr(v)) {
    try {
      return [true, JSON.parse(v)];
    } catch (e) {
      /* fall through */
    }
  }
  return [false, v];
}

// ECS deployment strategies (deployment_configuration.strategy; absent means ROLLING). The three
// traffic-shifting ones need load_balancer.advanced_configuration; canary_configuration and
// linear_configuration are valid only with their own strategy (ECS API reference:
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html,
// https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html).
const TRAFFIC_SHIFT = ['BLUE_GREEN', 'LINEAR', 'CANARY'];
const STRATEGY_BLOCKS = { canary_configuration: 'CANARY', linear_configuration: 'LINEAR' };
const exprText = (v) => (isExpr(v) ? v.slice(2, -1).trim() : null);
const reEscape = (t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// gatedOn(forEach, strategy, want): a dynamic block's for_each tests the strategy expression itself
// for want (e.g. for_each = var.deployment_strategy == "CANARY" ? [1] : []).
function gatedOn(forEach, strategy, want) {
  const f = exprText(forEach);
  const e = exprText(strategy);
  if (!f || !e) return false;
  const x = reEscape(e);
  return new RegExp(`(^|[^\\w.])${x}\\s*==\\s*"${want}"|"${want}"\\s*==\\s*${x}(?![\\w.\\[])`).test(f);
}
// The strategy of a service: {raw, literal} (literal null when it is an expression: whatever the
// variable's default, another value may be passed).
function strategyOf(r) {
  const dc = blocks(r.body, 'deployment_configuration')[0];
  const raw = dc && dc.strategy !== undefined ? dc.strategy : 'ROLLING';
  return { dc, raw, literal: isExpr(raw) ? null : raw };
}
// The advanced_configuration blocks of a load_balancer block (dynamic content included).
const advancedOf = (lb) => blocks(lb, 'advanced_configuration');
// Resources of `type` that v references (by address, count/for_each index ignored).
const referenced = (m, v, type) => of(m, type).filter((x) => refersTo(v, x));
// The listeners a listener rule (or a listener, for an NLB's test_listener_rule) ARN leads to.
const listenersOf = (m, v) => [
  ...referenced(m, v, 'aws_lb_listener'),
  ...referenced(m, v, 'aws_lb_listener_rule').flatMap((rule) => referenced(m, rule.body.listener_arn, 'aws_lb_listener')),
];
const sameTarget = (a, b) => (isExpr(a) || isExpr(b) ? [...refs(a)].some((x) => refs(b).has(x)) || a === b : a === b);

// --- the rules ---------------------------------------------------------------------------
const rules = [
  {
    id: 'vpc-flow-logs', ids: 'AVD-AWS-0178 CKV2_AWS_11', title: 'every VPC has a flow log of ALL traffic',
    check: (m) => of(m, 'aws_vpc').flatMap((vpc) => {
      const logs = companions(m, 'aws_flow_log', 'vpc_id', vpc);
      if (!logs.length) return [{ address: vpc.address, message: 'no aws_flow_log with vpc_id referencing it' }];
      return logs.flatMap((f) => expect(m, f, 'traffic_type', (v) => v === 'ALL', '"ALL"'));
    }),
  },
  {
    id: 'vpc-default-sg', ids: 'AVD-AWS-0173 CKV2_AWS_12', title: 'the default security group of every VPC is adopted and has no rules',
    check: (m) => of(m, 'aws_vpc').flatMap((vpc) => {
      const d = companions(m, 'aws_default_security_group', 'vpc_id', vpc);
      if (!d.length) return [{ address: vpc.address, message: 'no aws_default_security_group for it' }];
      return d.filter((s) => blocks(s.body, 'ingress').length || blocks(s.body, 'egress').length).map((s) => ({ address: s.address, message: 'has ingress/egress rules' }));
    }),
  },
  {
    id: 'subnet-no-public-ip', ids: 'AVD-AWS-0164 CKV_AWS_130', title: 'no subnet assigns public IPs on launch',
    check: (m) => of(m, 'aws_subnet').flatMap((s) => expect(m, s, 'map_public_ip_on_launch', notTrue, 'false or absent')),
  },
  {
    id: 'sg-ingress-world', ids: 'AVD-AWS-0107 CKV_AWS_24 CKV_AWS_25 CKV_AWS_260', title: 'ingress from 0.0.0.0/0 or ::/0 only to the ALB on 80/443',
    check: (m) => {
      const alb = sgRole(m, 'alb');
      return sgRules(m).filter((x) => x.dir === 'ingress' && toWorld(x)).filter((x) => !(alb.has(x.sg) && x.from === x.to && [80, 443].includes(num(x.from)) && !allProto(x)))
        .map((x) => ({ address: x.r.address, message: `ingress from ${x.cidrs.join(',')} on ${x.from}-${x.to}${alb.has(x.sg) ? '' : ' (not the ALB security group)'}` }));
    },
  },
  {
    id: 'sg-egress', ids: 'AVD-AWS-0104 CKV_AWS_382', title: 'egress: no all-protocol to the world; ALB and RDS never to the world; only 443 to the world',
    check: (m) => {
      const alb = sgRole(m, 'alb');
      const rds = sgRole(m, 'rds');
      return sgRules(m).filter((x) => x.dir === 'egress').flatMap((x) => {
        if (rds.has(x.sg)) return [{ address: x.r.address, message: 'egress rule on the RDS security group' }];
        if (!toWorld(x)) return [];
        if (allProto(x)) return [{ address: x.r.address, message: 'all-protocol egress to the world' }];
        if (alb.has(x.sg)) return [{ address: x.r.address, message: 'ALB egress to the world (should go to the ECS security group only)' }];
        if (!(num(x.from) === 443 && num(x.to) === 443)) return [{ address: x.r.address, message: `egress to the world on ${x.from}-${x.to} (only 443 allowed)` }];
        return [];
      });
    },
  },
  {
    id: 'sg-no-inline-rules', ids: 'tflint aws_security_group_inline_rules aws_security_group_rule_deprecated', title: 'SG rules are aws_vpc_security_group_*_rule resources, not inline or aws_security_group_rule',
    check: (m) => sgRules(m).filter((x) => x.inline || x.r.type === 'aws_security_group_rule').map((x) => ({ address: x.r.address, message: x.inline ? `inline ${x.dir} block` : 'aws_security_group_rule (deprecated style)' })),
  },
  {
    id: 'sg-description', ids: 'AVD-AWS-0099 AVD-AWS-0124 CKV_AWS_23', title: 'every security group and rule has a description',
    check: (m) => m.resources.filter((r) => /^aws_(security_group|vpc_security_group_(ingress|egress)_rule|security_group_rule)$/.test(r.type))
      .flatMap((r) => expect(m, r, 'description', (v) => typeof v === 'string' && v.trim() !== '', 'a non-empty string')),
  },
  {
    id: 'alb-drop-invalid-headers', ids: 'AVD-AWS-0052 CKV_AWS_131', title: 'ALBs drop invalid header fields',
    check: (m) => of(m, 'aws_lb').flatMap((r) => expect(m, r, 'drop_invalid_header_fields', isTrue, 'true')),
  },
  {
    id: 'alb-tls-policy', ids: 'AVD-AWS-0047 CKV_AWS_103 CKV2_AWS_74', title: 'HTTPS listeners set a TLS 1.3 security policy explicitly',
    check: (m) => of(m, 'aws_lb_listener').filter((r) => value(m, r.body.protocol) === 'HTTPS' || num(value(m, r.body.port)) === 443)
      .flatMap((r) => expect(m, r, 'ssl_policy', (v) => TLS_POLICIES.includes(v), TLS_POLICIES.join(' | '))),
  },
  {
    id: 'alb-http-redirect', ids: 'AVD-AWS-0054 CKV_AWS_2 CKV2_AWS_20', title: 'HTTP listeners only redirect to HTTPS 443 with a 301',
    check: (m) => of(m, 'aws_lb_listener').filter((r) => value(m, r.body.protocol) === 'HTTP' || num(value(m, r.body.port)) === 80).flatMap((r) => {
      const acts = blocks(r.body, 'default_action');
      const ok = acts.length > 0 && acts.every((a) => a.type === 'redirect' && blocks(a, 'redirect').some((d) => d.protocol === 'HTTPS' && String(d.port) === '443' && d.status_code === 'HTTP_301'));
      return ok ? [] : [{ address: r.address, message: 'default_action is not redirect { protocol = "HTTPS", port = "443", status_code = "HTTP_301" }' }];
    }),
  },
  {
    id: 'alb-deletion-protection', ids: 'CKV_AWS_150', title: 'ALBs have deletion protection',
    check: (m) => of(m, 'aws_lb').flatMap((r) => expect(m, r, 'enable_deletion_protection', isTrue, 'true')),
  },
  {
    id: 'alb-desync-mitigation', ids: 'CKV_AWS_328', title: 'ALB desync mitigation is defensive or strictest',
    check: (m) => of(m, 'aws_lb').flatMap((r) => expect(m, r, 'desync_mitigation_mode', (v) => v === undefined || ['defensive', 'strictest'].includes(v), 'absent, "defensive" or "strictest"')),
  },
  {
    id: 'alb-access-logs', ids: 'AVD-AWS-0053 CKV_AWS_91', title: 'ALBs write access logs to S3',
    check: (m) => of(m, 'aws_lb').filter((r) => !blocks(r.body, 'access_logs').some((a) => isTrue(value(m, a.enabled)) && a.bucket))
      .map((r) => ({ address: r.address, message: 'no access_logs { enabled = true, bucket = ... }' })),
  },
  {
    id: 'ecs-container-insights', ids: 'AVD-AWS-0034 CKV_AWS_65', title: 'ECS clusters have Container Insights on',
    check: (m) => of(m, 'aws_ecs_cluster').filter((r) => !blocks(r.body, 'setting').some((s) => s.name === 'containerInsights' && ['enabled', 'enhanced'].includes(value(m, s.value))))
      .map((r) => ({ address: r.address, message: 'no setting { name = "containerInsights", value = "enabled" | "enhanced" }' })),
  },
  {
    id: 'ecs-service-network', ids: 'CKV_AWS_333 CKV_AWS_332', title: 'ECS services get no public IP and run the LATEST platform',
    check: (m) => of(m, 'aws_ecs_service').flatMap((r) => [
      ...blocks(r.body, 'network_configuration').flatMap((n) => expect(m, r, 'assign_public_ip', notTrue, 'false or absent', n, 'network_configuration.')),
      ...expect(m, r, 'platform_version', (v) => v === undefined || v === 'LATEST', 'absent or "LATEST"'),
    ]),
  },
  {
    id: 'ecs-circuit-breaker', ids: 'ECS deployment safety', title: 'ECS services roll back failed deployments (circuit breaker)',
    check: (m) => of(m, 'aws_ecs_service').filter((r) => !blocks(r.body, 'deployment_circuit_breaker').some((c) => isTrue(value(m, c.enable)) && isTrue(value(m, c.rollback))))
      .map((r) => ({ address: r.address, message: 'no deployment_circuit_breaker { enable = true, rollback = true }' })),
  },
  {
    id: 'ecs-strategy-blocks', ids: 'ECS API CanaryConfiguration LinearConfiguration', title: 'canary_configuration only with strategy CANARY, linear_configuration only with LINEAR',
    // A static block needs the literal strategy; a dynamic one may instead be gated on the strategy
    // expression itself (for_each = <strategy> == "CANARY" ? [1] : []).
    check: (m) => of(m, 'aws_ecs_service').flatMap((r) => {
      const { dc, raw, literal } = strategyOf(r);
      if (!dc) return [];
      return Object.entries(STRATEGY_BLOCKS).flatMap(([name, want]) => {
        const fixed = asList(dc[name]).filter((b) => b && typeof b === 'object');
        const dyn = asList((dc.dynamic || {})[name]);
        const ok = literal === want;
        return [
          ...(ok ? [] : fixed.map(() => ({ address: r.address, message: `deployment_configuration.${name} with strategy = ${raw} (ECS takes it only with ${want})` }))),
          ...(ok ? [] : dyn.filter((d) => !gatedOn(d.for_each, raw, want)).map((d) => ({ address: r.address, message: `dynamic "${name}" for_each = ${d.for_each} is not gated on ${exprText(raw) || JSON.stringify(raw)} == "${want}"` }))),
        ];
      });
    }),
  },
  {
    id: 'ecs-traffic-shift-lb', ids: 'ECS blue/green AdvancedConfiguration', title: 'BLUE_GREEN/LINEAR/CANARY services behind a load balancer: advanced_configuration with a distinct alternate target group, both in the production rule',
    // A strategy given as an expression may be any of them, so its load balancers are held to it too.
    check: (m) => of(m, 'aws_ecs_service').flatMap((r) => {
      const { raw, literal } = strategyOf(r);
      const shifts = literal === null || TRAFFIC_SHIFT.includes(literal);
      return blocks(r.body, 'load_balancer').flatMap((lb) => {
        const advs = advancedOf(lb);
        if (!advs.length) return shifts ? [{ address: r.address, message: `strategy = ${raw}${literal === null ? ' (may be BLUE_GREEN, LINEAR or CANARY)' : ''} but load_balancer ${lb.target_group_arn || lb.elb_name} has no advanced_configuration` }] : [];
        return advs.flatMap((a) => {
          const out = [];
          const alt = a.alternate_target_group_arn;
          if (!alt) out.push({ address: r.address, message: 'advanced_configuration without alternate_target_group_arn' });
          else if (sameTarget(alt, lb.target_group_arn)) out.push({ address: r.address, message: `alternate_target_group_arn ${alt} is the production target group ${lb.target_group_arn}` });
          for (const k of ['production_listener_rule', 'role_arn']) if (!a[k]) out.push({ address: r.address, message: `advanced_configuration without ${k}` });
          if (a.production_listener_rule && a.test_listener_rule && sameTarget(a.production_listener_rule, a.test_listener_rule)) out.push({ address: r.address, message: 'test_listener_rule is the production listener rule' });
          // The production rule ECS re-weights must forward to both target groups.
          for (const rule of referenced(m, a.production_listener_rule, 'aws_lb_listener_rule')) {
            const tgs = blocks(rule.body, 'action').flatMap((x) => blocks(x, 'forward')).flatMap((f) => blocks(f, 'target_group')).map((t) => t.arn);
            for (const [what, arn] of [['production', lb.target_group_arn], ['alternate', alt]]) {
              if (arn && !tgs.some((t) => sameTarget(t, arn))) out.push({ address: rule.address, message: `forward action lacks the ${what} target group ${arn} (ECS shifts traffic by the weights of a forward to both)` });
            }
          }
          return out;
        });
      });
    }),
  },
  {
    id: 'alb-test-listener-not-public', ids: 'project policy', title: 'the test listener of a traffic-shifting service is not open to 0.0.0.0/0 or ::/0',
    // The test listener serves the revision under deployment before anyone approved it: its port
    // must not be reachable from the world through the load balancer's security groups.
    check: (m) => {
      const worldIngress = sgRules(m).filter((x) => x.dir === 'ingress' && x.cidrs.some((c) => WORLD.includes(c)));
      const seen = new Set();
      return of(m, 'aws_ecs_service').flatMap((r) => blocks(r.body, 'load_balancer').flatMap(advancedOf)
        .flatMap((a) => listenersOf(m, a.test_listener_rule))).filter((l) => !seen.has(l.address) && seen.add(l.address)).flatMap((l) => {
        const port = value(m, l.body.port);
        if (isExpr(port) || port === undefined) return [{ address: l.address, message: `port = ${port}: cannot evaluate (want a port not open to the world)` }];
        const sgs = new Set(referenced(m, l.body.load_balancer_arn, 'aws_lb').flatMap((lb) => [...refs(lb.body.security_groups)]));
        return worldIngress.filter((x) => (!sgs.size || sgs.has(x.sg)) && (allProto(x) || (num(x.from) <= num(port) && num(port) <= num(x.to))))
          .map((x) => ({ address: l.address, message: `test listener port ${port} is open to ${x.cidrs.filter((c) => WORLD.includes(c)).join(',')} (${x.r.address})` }));
      });
    },
  },
  {
    id: 'ecs-alarm-rollback', ids: 'ECS deployment safety', title: 'ECS deployment alarms are enabled and roll back',
    check: (m) => of(m, 'aws_ecs_service').flatMap((r) => blocks(r.body, 'alarms').flatMap((a) => [
      ...expect(m, r, 'enable', isTrue, 'true', a, 'alarms.'),
      ...expect(m, r, 'rollback', isTrue, 'true', a, 'alarms.'),
    ])),
  },
  {
    id: 'ecs-container-hardening', ids: 'CKV_AWS_336 CKV_AWS_334', title: 'containers have a read-only root filesystem and are not privileged',
    check: (m) => of(m, 'aws_ecs_task_definition').flatMap((r) => {
      const [known, list] = containers(m, r);
      if (!known) return [{ address: r.address, message: `container_definitions = ${String(list).slice(0, 60)}: cannot evaluate` }];
      return list.flatMap((c) => [
        ...(isTrue(c.readonlyRootFilesystem) ? [] : [{ address: r.address, message: `container ${c.name}: readonlyRootFilesystem is not true` }]),
        ...(isTrue(c.privileged) ? [{ address: r.address, message: `container ${c.name}: privileged` }] : []),
      ]);
    }),
  },
  {
    id: 'ecs-secrets-not-env', ids: 'AVD-AWS-0036 CKV_AWS_335', title: 'secrets reach containers through secrets[].valueFrom, never environment',
    check: (m) => of(m, 'aws_ecs_task_definition').flatMap((r) => {
      const [known, list] = containers(m, r);
      if (!known) return [{ address: r.address, message: 'container_definitions: cannot evaluate' }];
      return list.flatMap((c) => asList(c.environment).filter((e) => SECRET_NAME.test(e.name || '')).map((e) => ({ address: r.address, message: `container ${c.name}: environment ${e.name} looks secret; use secrets[].valueFrom` })));
    }),
  },
  {
    id: 'ecs-task-roles', ids: 'CKV_AWS_249', title: 'task role and execution role are different roles',
    check: (m) => of(m, 'aws_ecs_task_definition').filter((r) => r.body.task_role_arn && r.body.task_role_arn === r.body.execution_role_arn)
      .map((r) => ({ address: r.address, message: 'task_role_arn equals execution_role_arn' })),
  },
  {
    id: 'log-retention', ids: 'CKV_AWS_66 CKV_AWS_338', title: `log groups keep logs for a set time (>= ${LOG_RETENTION_MIN} days)`,
    check: (m) => of(m, 'aws_cloudwatch_log_group').flatMap((r) => expect(m, r, 'retention_in_days', (v) => num(v) >= LOG_RETENTION_MIN, `>= ${LOG_RETENTION_MIN}`)),
  },
  {
    id: 'rds-encrypted', ids: 'AVD-AWS-0080 CKV_AWS_16', title: 'RDS storage is encrypted',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => expect(m, r, 'storage_encrypted', isTrue, 'true')),
  },
  {
    id: 'rds-not-public', ids: 'AVD-AWS-0180 CKV_AWS_17', title: 'RDS is not publicly accessible and sits in a subnet group',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => [
      ...expect(m, r, 'publicly_accessible', notTrue, 'false or absent'),
      ...(r.body.db_subnet_group_name ? [] : [{ address: r.address, message: 'no db_subnet_group_name' }]),
    ]),
  },
  {
    id: 'rds-backups', ids: 'AVD-AWS-0077 CKV_AWS_133 CKV2_AWS_60', title: 'RDS keeps >= 7 days of backups, a final snapshot, and tags on snapshots',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => [
      ...expect(m, r, 'backup_retention_period', (v) => num(v) >= 7, '>= 7'),
      ...expect(m, r, 'skip_final_snapshot', notTrue, 'false or absent'),
      ...expect(m, r, 'copy_tags_to_snapshot', isTrue, 'true'),
    ]),
  },
  {
    id: 'rds-deletion-protection', ids: 'AVD-AWS-0177 CKV_AWS_293', title: 'RDS has deletion protection',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => expect(m, r, 'deletion_protection', isTrue, 'true')),
  },
  {
    id: 'rds-monitoring', ids: 'AVD-AWS-0133 CKV_AWS_353 CKV_AWS_118 CKV_AWS_129 CKV_AWS_226', title: 'RDS has Performance Insights, enhanced monitoring, postgresql log export, minor upgrades',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => [
      ...expect(m, r, 'performance_insights_enabled', isTrue, 'true'),
      ...expect(m, r, 'monitoring_interval', (v) => num(v) > 0, '> 0'),
      ...(r.body.monitoring_role_arn ? [] : [{ address: r.address, message: 'no monitoring_role_arn' }]),
      ...expect(m, r, 'enabled_cloudwatch_logs_exports', (v) => asList(v).includes('postgresql'), 'to include "postgresql"'),
      ...expect(m, r, 'auto_minor_version_upgrade', (v) => v !== false && v !== 'false', 'true or absent'),
    ]),
  },
  {
    id: 'rds-force-ssl', ids: 'CKV2_AWS_69 tflint aws_db_instance_default_parameter_group', title: 'RDS uses its own parameter group with rds.force_ssl = 1',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => {
      const groups = of(m, 'aws_db_parameter_group').filter((g) => refersTo(r.body.parameter_group_name, g));
      if (!groups.length) return [{ address: r.address, message: 'parameter_group_name does not reference an aws_db_parameter_group' }];
      return groups.filter((g) => !blocks(g.body, 'parameter').some((p) => p.name === 'rds.force_ssl' && String(value(m, p.value)) === '1'))
        .map((g) => ({ address: g.address, message: 'no parameter { name = "rds.force_ssl", value = "1" }' }));
    }),
  },
  {
    id: 'rds-managed-password', ids: 'CKV2_AWS_30 tflint aws_write_only_arguments', title: 'RDS master password is managed by RDS (Secrets Manager), never in the config',
    check: (m) => of(m, 'aws_db_instance').flatMap((r) => [
      ...expect(m, r, 'manage_master_user_password', isTrue, 'true'),
      ...(r.body.password !== undefined ? [{ address: r.address, message: 'password is set (ends up in state)' }] : []),
    ]),
  },
  {
    id: 's3-public-access-block', ids: 'AVD-AWS-0086 AVD-AWS-0087 AVD-AWS-0091 AVD-AWS-0093 CKV2_AWS_6', title: 'every bucket has a public access block with all four flags true',
    check: (m) => of(m, 'aws_s3_bucket').flatMap((b) => {
      const pabs = companions(m, 'aws_s3_bucket_public_access_block', 'bucket', b);
      if (!pabs.length) return [{ address: b.address, message: 'no aws_s3_bucket_public_access_block' }];
      return pabs.flatMap((p) => ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'].flatMap((k) => expect(m, p, k, isTrue, 'true')));
    }),
  },
  {
    id: 's3-ownership', ids: 'CKV2_AWS_65', title: 'buckets enforce bucket-owner object ownership (ACLs off)',
    check: (m) => [
      ...of(m, 'aws_s3_bucket').filter((b) => !companions(m, 'aws_s3_bucket_ownership_controls', 'bucket', b).some((o) => blocks(o.body, 'rule').some((x) => x.object_ownership === 'BucketOwnerEnforced')))
        .map((b) => ({ address: b.address, message: 'no aws_s3_bucket_ownership_controls with object_ownership = "BucketOwnerEnforced"' })),
      ...of(m, 'aws_s3_bucket_acl').map((a) => ({ address: a.address, message: 'aws_s3_bucket_acl: use ownership controls instead' })),
    ],
  },
  {
    id: 's3-tls-only', ids: 'CKV_AWS_379 AVD-AWS-0092', title: 'bucket policies deny requests without TLS (aws:SecureTransport = false)',
    check: (m) => {
      const st = statements(m);
      return of(m, 'aws_s3_bucket').filter((b) => {
        const pols = companions(m, 'aws_s3_bucket_policy', 'bucket', b);
        return !pols.some((p) => st.some((s) => (s.address === p.address || refersTo(p.body.policy, { address: s.address })) && s.effect === 'Deny' &&
          s.conditions.some((c) => c.test === 'Bool' && c.variable === 'aws:SecureTransport' && c.values.includes('false'))));
      }).map((b) => ({ address: b.address, message: 'no bucket policy statement Deny when aws:SecureTransport is false' }));
    },
  },
  {
    id: 's3-encryption', ids: 'AVD-AWS-0088 AVD-AWS-0132 CKV_AWS_19 CKV_AWS_145', title: 'buckets have default encryption configured',
    check: (m) => of(m, 'aws_s3_bucket').filter((b) => !companions(m, 'aws_s3_bucket_server_side_encryption_configuration', 'bucket', b).some((e) =>
      blocks(e.body, 'rule').some((x) => blocks(x, 'apply_server_side_encryption_by_default').some((d) => ['aws:kms', 'aws:kms:dsse', 'AES256'].includes(value(m, d.sse_algorithm))))))
      .map((b) => ({ address: b.address, message: 'no aws_s3_bucket_server_side_encryption_configuration with an sse_algorithm' })),
  },
  {
    id: 's3-versioning', ids: 'AVD-AWS-0090 CKV_AWS_21', title: 'buckets are versioned',
    check: (m) => of(m, 'aws_s3_bucket').filter((b) => !companions(m, 'aws_s3_bucket_versioning', 'bucket', b).some((v) => blocks(v.body, 'versioning_configuration').some((c) => value(m, c.status) === 'Enabled')))
      .map((b) => ({ address: b.address, message: 'no aws_s3_bucket_versioning with status = "Enabled"' })),
  },
  {
    id: 's3-lifecycle', ids: 'CKV2_AWS_61 CKV_AWS_300', title: 'buckets expire old versions and abort incomplete uploads within 7 days',
    check: (m) => of(m, 'aws_s3_bucket').flatMap((b) => {
      const rules = companions(m, 'aws_s3_bucket_lifecycle_configuration', 'bucket', b).flatMap((l) => blocks(l.body, 'rule')).filter((x) => value(m, x.status) === 'Enabled');
      const out = [];
      if (!rules.some((x) => blocks(x, 'abort_incomplete_multipart_upload').some((a) => num(value(m, a.days_after_initiation)) <= 7))) out.push({ address: b.address, message: 'no enabled lifecycle rule with abort_incomplete_multipart_upload { days_after_initiation <= 7 }' });
      if (!rules.some((x) => blocks(x, 'noncurrent_version_expiration').length)) out.push({ address: b.address, message: 'no enabled lifecycle rule with noncurrent_version_expiration' });
      return out;
    }),
  },
  {
    id: 'ecr-immutable-tags', ids: 'AVD-AWS-0031 CKV_AWS_51', title: 'ECR repositories have immutable tags',
    check: (m) => of(m, 'aws_ecr_repository').flatMap((r) => expect(m, r, 'image_tag_mutability', (v) => v === 'IMMUTABLE' || v === 'IMMUTABLE_WITH_EXCLUSION', '"IMMUTABLE"')),
  },
  {
    id: 'ecr-scan-on-push', ids: 'AVD-AWS-0030 CKV_AWS_163', title: 'ECR repositories scan images on push',
    check: (m) => of(m, 'aws_ecr_repository').filter((r) => !blocks(r.body, 'image_scanning_configuration').some((s) => isTrue(value(m, s.scan_on_push))))
      .map((r) => ({ address: r.address, message: 'no image_scanning_configuration { scan_on_push = true }' })),
  },
  {
    id: 'ecr-lifecycle-policy', ids: 'tf best practice', title: 'every ECR repository has a lifecycle policy',
    check: (m) => of(m, 'aws_ecr_repository').filter((r) => !companions(m, 'aws_ecr_lifecycle_policy', 'repository', r).length)
      .map((r) => ({ address: r.address, message: 'no aws_ecr_lifecycle_policy' })),
  },
  {
    id: 'iam-no-wildcard-action', ids: 'AVD-AWS-0057 AVD-AWS-0345 CKV_AWS_62 CKV_AWS_286-290 CKV_AWS_355', title: 'no Allow of "*" or "service:*" actions, or of NotAction',
    check: (m) => permissionStatements(m).flatMap((s) => [
      ...s.actions.filter((a) => a === '*' || /^[\w-]+:\*$/.test(a)).map((a) => ({ address: s.address, message: `allows ${a}` })),
      ...(s.notActions.length ? [{ address: s.address, message: 'Allow with NotAction' }] : []),
    ]),
  },
  {
    id: 'iam-no-wildcard-resource', ids: 'CKV_AWS_355 CKV_AWS_290', title: 'Resource "*" only for actions that need it (ecr:GetAuthorizationToken, ...)',
    check: (m) => permissionStatements(m).filter((s) => s.resources.includes('*')).flatMap((s) => {
      const bad = s.actions.filter((a) => !STAR_RESOURCE_OK.includes(a));
      return bad.length ? [{ address: s.address, message: `Resource "*" for ${bad.join(', ')}` }] : [];
    }),
  },
  {
    id: 'iam-passrole-scoped', ids: 'CKV_AWS_286 AVD-AWS-0342', title: 'iam:PassRole names its roles',
    check: (m) => permissionStatements(m).filter((s) => s.actions.some((a) => /^iam:(PassRole|\*|Pass\*)$/i.test(a) || a === '*') && s.resources.some((x) => x === '*' || /role\/\*$/.test(x)))
      .map((s) => ({ address: s.address, message: `iam:PassRole on ${s.resources.join(', ')}` })),
  },
  {
    id: 'iam-trust-principals', ids: 'CKV_AWS_60 CKV_AWS_61', title: 'roles trust only known AWS service principals (or OIDC with a pinned subject)',
    // A Federated (OIDC) principal is fine when the statement pins the token's subject (":sub").
    check: (m) => statements(m).filter((s) => s.trust && s.effect !== 'Deny').flatMap((s) => s.principals
      .filter((p) => !(p.type === 'Service' && TRUSTED_SERVICES.includes(p.id)) && !(p.type === 'Federated' && s.conditions.some((c) => /:sub$/.test(c.variable))))
      .map((p) => ({ address: s.address, message: `trusts ${p.type} ${p.id}` }))),
  },
  {
    id: 'launch-template-imdsv2', ids: 'AVD-AWS-0028 AVD-AWS-0130 CKV_AWS_79 CKV_AWS_341', title: 'launch templates require IMDSv2 with hop limit 1',
    check: (m) => of(m, 'aws_launch_template').filter((r) => !blocks(r.body, 'metadata_options').some((o) => value(m, o.http_tokens) === 'required' && num(value(m, o.http_put_response_hop_limit)) === 1))
      .map((r) => ({ address: r.address, message: 'no metadata_options { http_tokens = "required", http_put_response_hop_limit = 1 }' })),
  },
  {
    id: 'secrets-encrypted', ids: 'CKV_AWS_149 CKV_AWS_337 AVD-AWS-0098', title: 'Secrets Manager secrets use a KMS key; secret-looking SSM parameters are SecureString',
    check: (m) => [
      ...of(m, 'aws_secretsmanager_secret').filter((r) => !r.body.kms_key_id).map((r) => ({ address: r.address, message: 'no kms_key_id' })),
      ...of(m, 'aws_ssm_parameter').filter((r) => SECRET_NAME.test(String(r.body.name)) || SECRET_NAME.test(r.name))
        .flatMap((r) => expect(m, r, 'type', (v) => v === 'SecureString', '"SecureString" (the name looks secret)')),
    ],
  },
  {
    id: 'sns-encrypted', ids: 'AVD-AWS-0095 CKV_AWS_26', title: 'SNS topics are encrypted',
    check: (m) => of(m, 'aws_sns_topic').filter((r) => !r.body.kms_master_key_id).map((r) => ({ address: r.address, message: 'no kms_master_key_id' })),
  },
  {
    id: 'acm-lifecycle', ids: 'tflint aws_acm_certificate_lifecycle', title: 'ACM certificates are created before the old one is destroyed',
    check: (m) => of(m, 'aws_acm_certificate').filter((r) => !blocks(r.body, 'lifecycle').some((l) => isTrue(l.create_before_destroy)))
      .map((r) => ({ address: r.address, message: 'no lifecycle { create_before_destroy = true }' })),
  },
  {
    id: 'alarms-actionable', ids: 'project policy', title: 'alarms notify someone and say how to treat missing data',
    check: (m) => of(m, 'aws_cloudwatch_metric_alarm').flatMap((r) => [
      ...(r.body.alarm_actions && !(Array.isArray(r.body.alarm_actions) && !r.body.alarm_actions.length) ? [] : [{ address: r.address, message: 'no alarm_actions' }]),
      ...(r.body.treat_missing_data ? [] : [{ address: r.address, message: 'no treat_missing_data' }]),
    ]),
  },
  {
    id: 'tf-pinned', ids: 'tflint terraform_required_providers terraform_module_pinned_source', title: 'aws provider is pinned to the snapshot major; no remote modules',
    check: (m, schema) => {
      const out = [];
      const aws = m.terraform.flatMap((t) => blocks(t, 'required_providers')).map((p) => p.aws).find(Boolean);
      const major = schema ? schema.version.split('.')[0] : '6';
      if (!aws) out.push({ address: 'terraform', message: 'no required_providers { aws = ... }' });
      else if (aws.source !== 'hashicorp/aws' || !new RegExp(`^\\s*(~>|>=|=)?\\s*${major}\\.`).test(String(aws.version))) out.push({ address: 'terraform', message: `aws provider ${aws.source} ${aws.version}: want hashicorp/aws, version ${major}.x` });
      for (const mod of m.modules) if (!/^\.\.?\//.test(String(mod.body.source))) out.push({ address: `module.${mod.name}`, message: `remote module source ${mod.body.source}` });
      return out;
    },
  },
];

module.exports = { rules };
