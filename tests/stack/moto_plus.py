#!/usr/bin/env python3
"""moto_plus.py: moto_server, plus the real-AWS behaviour shipkit's tests need that moto lacks.

Run exactly like moto_server (same arguments). Patches in the authentication path, which moto
only enters once IAM authentication is on:

  * STS AssumeRoleWithWebIdentity and AssumeRoleWithSAML are served without a signature, as AWS
    serves them (their model says smithy.api#noAuth); moto answers any unsigned call with a 500.
  * Any other request without an Authorization header gets AWS's answer, 403
    MissingAuthenticationToken, instead of moto's 500 (a KeyError on the missing header).

And in ECR:

  * GetAuthorizationToken's expiresAt is now + 12 hours, as in AWS; moto returns 2015-01-01,
    a token that is always expired. The token itself stays moto's: base64("AWS:<account>-auth-token").
  * Its proxyEndpoint is "https://" + $SK_MOTO_ECR_PROXY when that is set (tests/stack/up sets it to
    the local docker-registry, 127.0.0.1:PORT), so pushing to a repository without a registry part
    goes to the test registry; without it, moto's "https://<account>.dkr.ecr.<region>.amazonaws.com".
    POST /shipkit-sim/config {"ecr_proxy_endpoint": "127.0.0.1:PORT"} names another (a fault proxy in
    front of the registry, tests/reliability/soak) until it is set back to null or the sim is reset.
  * Each GetAuthorizationToken served logs one line to stderr (moto.log),
    "moto_plus: ecr GetAuthorizationToken <registry ids>", so tests can count the calls.

RDS DescribePendingMaintenanceActions answers an empty list instead of moto's 500.

ECS task definitions as ECS describes them: registeredAt, registeredBy (the caller's ARN),
requiresAttributes (computed from the definition's features: awslogs, awsvpc, execution and task
roles, health checks, secrets, ...), deregisteredAt, deleteRequestedAt and DELETE_IN_PROGRESS after
DeleteTaskDefinitions (the revision stays describable); revision numbers are never reused, and a
bare family names its latest ACTIVE revision. ListTaskDefinitions sorts (ASC, DESC) and pages (maxResults,
nextToken) as ECS does.

Resource-level IAM (so a least-privilege policy such as infra/policies/deployer.json can be tested):
moto authorizes every request against Resource "*" unless the service's response class has
_determine_resource(); a statement naming a specific ARN then never matches. ECS, ECR, SSM,
Secrets Manager, CloudWatch Logs, ELBv2 and RDS get one here that returns the ARN(s) AWS
authorizes for the calls the shipkit tools make (anything else stays "*", as before):

  * ecs DescribeServices/UpdateService: service/CLUSTER/SERVICE; DescribeTasks: task/CLUSTER/ID (each
    task named); StopTask: task/CLUSTER/ID; RunTask: task-definition/FAMILY:REV (a bare family: its
    latest revision); ListTasks, RegisterTaskDefinition, DescribeTaskDefinition: "*" (AWS allows no
    narrower Resource). ECS requests also carry the condition key ecs:cluster (the cluster's ARN),
    and ArnEquals/ArnLike (unknown to moto, which ignores them) are evaluated, so a policy's
    "ecs:cluster" condition is enforced. Condition keys a request does not carry still pass, as in
    moto (iam:PassedToService, kms:ViaService, ecs:CreateAction are not checked).
  * ecr CreateRepository/DescribeRepositories: repository/NAME; GetAuthorizationToken: "*".
  * ssm PutParameter/GetParameter/AddTagsToResource: parameter/NAME (no doubled "/"); GetParameters:
    each of its Names.
  * secretsmanager (by SecretId or Name): the secret's ARN when it exists, else secret:NAME-??????.
  * logs GetLogEvents/FilterLogEvents: log-group:NAME:*; DescribeLogGroups: log-group:* (it lists).
  * iam GetRole: the role's ARN (role/NAME when there is no such role).
  * elasticloadbalancing DescribeTargetHealth: the target group ARN; DescribeTargetGroups: "*".
  * rds DescribeDBInstances/DescribePendingMaintenanceActions: db:ID ("*" without one).
  * ecs List/DescribeServiceDeployments: the service / the service-deployment ARNs;
    Stop/ContinueServiceDeployment: the service deployment; DescribeServiceRevisions: the revisions.
  * cloudwatch DescribeAlarms (named), PutMetricAlarm, SetAlarmState: alarm:NAME.
A request naming several resources (DescribeServices, DescribeTasks) is authorized for each, and
AccessDenied then says which, as AWS does: "... is not authorized to perform: ACTION on resource: ARN".
Policies with Resource "*" (the stack's shipkit-ci user) match every ARN, so they see no change.

And ECS, through tests/stack/ecs_sim.py (docs/ecs-simulator.md), installed at import:

  * CreateService/UpdateService start real deployments: a background thread moves tasks through
    PROVISIONING -> PENDING -> RUNNING -> STOPPED, registers them in ELBv2 ip target groups (initial ->
    healthy -> draining, as DescribeTargetHealth shows), completes or fails rollouts (circuit breaker,
    rollback), emits service events and writes awslogs lines; the first container's image picks a
    scenario ("crash", "unhealthy", "slow"). Simulated seconds x $SK_SIM_TIME_SCALE (default 0.1).
  * /shipkit-sim/{config,state,reset,network} on this port (no auth) control and show it.

And a fault layer in front of it all, through tests/stack/faults.py (docs/ecs-simulator.md, "Fault
injection"), installed at import after the simulator:

  * /shipkit-sim/faults on this port (no auth): POST {"seed": N, "rules": [{"fault": KIND, "match":
    {"service": S, "action": A, "not_action": [...]}, "count": N, "rate": P, "delay": S,
    "retry_after": S}]} replaces the rules, GET shows them with counters and a log, DELETE clears.
  * KIND: throttle and throttle-retry-after (HTTP 400 ThrottlingException in JSON 1.1, Throttling in
    a Query ErrorResponse), 500/502 (InternalFailure), 503 (ServiceUnavailable), reset-before (RST,
    moto never sees the request), reset-during (moto handles it, the client gets part of the
    response, then RST), slow (sleep delay seconds, then answer normally).
  * Only signed AWS calls are faulted: never /shipkit-sim/*, /moto-api/* or unsigned requests.

And the contract layer in front of everything, through tests/stack/contract.py (docs/aws-fidelity.md),
installed last so it sees requests first: every request is checked against botocore's model of its
operation and the documented cross-field rules (tests/stack/contract_rules.py) and refused as AWS
refuses it; every 2xx answer is checked against the output shape, and a violation becomes a 500
ShipkitContractViolation. Refusals and violations are logged to $SK_CONTRACT_LOG with the test that
made the request; /shipkit-sim/contract shows the counters and the time the layer takes.
"""
import os
import fnmatch
import sys
import threading
import time

from moto.core.exceptions import AccessDeniedError, _RESTError
from moto.core.responses import ActionAuthenticatorMixin, ActionResult
from moto.ecr.responses import ECRResponse

NO_AUTH_ACTIONS = {"AssumeRoleWithWebIdentity", "AssumeRoleWithSAML"}


class AccessDeniedOnResourceError(AccessDeniedError):
    def __init__(self, message):
        _RESTError.__init__(self, "AccessDenied", message)


_REQUEST = threading.local()


class MissingAuthenticationTokenError(_RESTError):
    code = 403

    def __init__(self):
        super().__init__("MissingAuthenticationToken", "Request is missing Authentication Token")


_authenticate = ActionAuthenticatorMixin._authenticate_and_authorize_action


def _authenticate_like_aws(self, iam_request_cls, resource="*"):
    if "Authorization" not in self.headers:
        if self._get_action() in NO_AUTH_ACTIONS:
            return None
        if ActionAuthenticatorMixin.request_count >= _settings().INITIAL_NO_AUTH_ACTION_COUNT:
            raise MissingAuthenticationTokenError()
    # Resource-level IAM (below): _determine_resource() may name several resources, and the
    # request's condition keys ride along to the policy evaluation in a thread-local.
    _REQUEST.conditions = getattr(self, "_sk_conditions", None)
    try:
        for one in resource if isinstance(resource, list) else [resource]:
            try:
                _authenticate(self, iam_request_cls, one)
            except AccessDeniedError as e:
                if one == "*" or isinstance(e, AccessDeniedOnResourceError):
                    raise
                raise AccessDeniedOnResourceError(f"{e.message} on resource: {one}") from None
    finally:
        _REQUEST.conditions = None
    return None


def _settings():
    from moto import settings

    return settings


ActionAuthenticatorMixin._authenticate_and_authorize_action = _authenticate_like_aws

ECR_TOKEN_LIFETIME = 12 * 3600  # seconds, as AWS documents for GetAuthorizationToken

_get_authorization_token = ECRResponse.get_authorization_token


def _get_authorization_token_like_aws(self):
    result = _get_authorization_token(self)
    sim = sys.modules.get("ecs_sim")  # its config's ecr_proxy_endpoint, when set, wins (soak's proxy)
    proxy = (sim and sim.SIM.config.get("ecr_proxy_endpoint")) or os.environ.get("SK_MOTO_ECR_PROXY", "")
    expires = time.time() + ECR_TOKEN_LIFETIME
    data = result.result["authorizationData"]
    for entry in data:
        entry["expiresAt"] = expires
        if proxy:
            entry["proxyEndpoint"] = "https://" + proxy
    ids = " ".join(self._get_param("registryIds") or [self.current_account])
    print(f"moto_plus: ecr GetAuthorizationToken {ids}", file=sys.stderr, flush=True)
    return ActionResult({"authorizationData": data})


ECRResponse.get_authorization_token = _get_authorization_token_like_aws

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
# RDS DescribePendingMaintenanceActions: moto answers 500 (not implemented). A fresh instance has
# nothing pending, which is what RDS says: an empty list.
from moto.rds.responses import RDSResponse  # noqa: E402


def _describe_pending_maintenance_actions(self):
    return ActionResult({"PendingMaintenanceActions": []})


if not hasattr(RDSResponse, "describe_pending_maintenance_actions"):
    RDSResponse.describe_pending_maintenance_actions = _describe_pending_maintenance_actions

# ---- Resource-level IAM (see the docstring) --------------------------------------------------------
from moto.cloudwatch.responses import CloudWatchResponse  # noqa: E402
from moto.ecs.responses import EC2ContainerServiceResponse  # noqa: E402
from moto.elbv2.responses import ELBV2Response  # noqa: E402
from moto.iam import policy_conditions  # noqa: E402
from moto.iam.access_control import IAMPolicy  # noqa: E402
from moto.iam.models import iam_backends  # noqa: E402
from moto.iam.responses import IamResponse  # noqa: E402
from moto.logs.responses import LogsResponse  # noqa: E402
from moto.secretsmanager.models import secretsmanager_backends  # noqa: E402
from moto.secretsmanager.responses import SecretsManagerResponse  # noqa: E402
from moto.ssm.responses import SimpleSystemManagerResponse  # noqa: E402
from moto.utilities.utils import get_partition  # noqa: E402


# IAM's service prefix is not always the signing name moto builds the action from: CloudWatch signs as
# "monitoring" and its actions are "cloudwatch:..." (https://docs.aws.amazon.com/service-authorization/
# latest/reference/list_amazoncloudwatch.html).
_IAM_PREFIX = {"monitoring": "cloudwatch"}
from moto.iam.access_control import IAMRequestBase  # noqa: E402

_iam_request_init = IAMRequestBase.__init__


def _iam_request_init_prefixed(self, *args, **kwargs):
    _iam_request_init(self, *args, **kwargs)
    service, _, op = self._action.partition(":")
    if service in _IAM_PREFIX:
        self._action = f"{_IAM_PREFIX[service]}:{op}"


IAMRequestBase.__init__ = _iam_request_init_prefixed


def _arn(self, service, rest):
    return f"arn:{get_partition(self.region)}:{service}:{self.region}:{self.current_account}:{rest}"


def _last(name_or_arn, sep="/"):
    """The name in NAME or ...<sep>NAME (an ARN)."""
    return str(name_or_arn).rsplit(sep, 1)[-1]


def _ecs_resource(self):
    action = self._get_action()
    cluster = _last(self._get_param("cluster") or "default")
    self._sk_conditions = {"ecs:cluster": _arn(self, "ecs", f"cluster/{cluster}")}
    if action == "DescribeServices":
        return [_arn(self, "ecs", f"service/{cluster}/{_last(s)}") for s in self._get_param("services") or []] or "*"
    if action == "UpdateService":
        return _arn(self, "ecs", f"service/{cluster}/{_last(self._get_param('service'))}")
    if action == "DescribeTasks":
        return [_arn(self, "ecs", f"task/{cluster}/{_last(t)}") for t in self._get_param("tasks") or []] or "*"
    if action == "StopTask":
        return _arn(self, "ecs", f"task/{cluster}/{_last(self._get_param('task'))}")
    if action == "RunTask":
        return _ecs_task_definition_arn(self, self._get_param("taskDefinition"))
    # Service deployments and revisions: on the service, or their own ARNs (the service
    # authorization reference's resource types service, service-deployment, service-revision).
    if action == "ListServiceDeployments":
        return _arn(self, "ecs", f"service/{cluster}/{_last(self._get_param('service'))}")
    if action == "DescribeServiceDeployments":
        return list(self._get_param("serviceDeploymentArns") or []) or "*"
    if action in ("StopServiceDeployment", "ContinueServiceDeployment"):
        return str(self._get_param("serviceDeploymentArn") or "*")
    if action == "DescribeServiceRevisions":
        return list(self._get_param("serviceRevisionArns") or []) or "*"
    return "*"  # ListTasks (narrowed by ecs:cluster), Register/DescribeTaskDefinition: no resource level


def _ecs_task_definition_arn(self, ref):
    """RunTask is authorized on the task definition's ARN, with its revision (a bare family: its latest
    ACTIVE one), https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerservice.html."""
    ref = str(ref or "")
    if ref.startswith("arn:"):
        return ref
    family, _, rev = ref.partition(":")
    if not rev:
        from moto.ecs.models import ecs_backends
        revs = ecs_backends[self.current_account][self.region].task_definitions.get(family) or {}
        rev = str(max(revs)) if revs else "1"
    return _arn(self, "ecs", f"task-definition/{family}:{rev}")


def _ecr_resource(self):
    action = self._get_action()
    names = {"CreateRepository": [self._get_param("repositoryName")],
             "DescribeRepositories": self._get_param("repositoryNames")}.get(action)
    if not names or not all(names):
        return "*"  # GetAuthorizationToken; DescribeRepositories of all repositories
    account = self._get_param("registryId") or self.current_account
    return [f"arn:{get_partition(self.region)}:ecr:{self.region}:{account}:repository/{n}" for n in names]


def _ssm_resource(self):
    action = self._get_action()
    if action == "GetParameters":
        names = self._get_param("Names") or []
        return [_ssm_arn(self, n) for n in names] or "*"
    if action not in ("PutParameter", "GetParameter", "AddTagsToResource"):
        return "*"
    name = self._get_param("ResourceId") or self._get_param("Name")
    if not name:
        return "*"
    return _ssm_arn(self, name)


def _ssm_arn(self, name):
    return name if name.startswith("arn:") else _arn(self, "ssm", "parameter/" + name.lstrip("/"))


def _secretsmanager_resource(self):
    if self._get_action() not in ("CreateSecret", "PutSecretValue", "GetSecretValue", "DescribeSecret",
                                  "UpdateSecret", "TagResource"):
        return "*"
    sid = self._get_param("SecretId") or self._get_param("Name")
    if not sid:
        return "*"
    secret = secretsmanager_backends[self.current_account][self.region].secrets.get(sid)
    if secret is not None:
        return secret.arn
    return sid if sid.startswith("arn:") else _arn(self, "secretsmanager", f"secret:{sid}-??????")


def _logs_resource(self):
    if self._get_action() == "DescribeLogGroups":
        return _arn(self, "logs", "log-group:*")
    if self._get_action() not in ("GetLogEvents", "FilterLogEvents"):
        return "*"
    group = self._get_param("logGroupName") or self._get_param("logGroupIdentifier")
    if not group:
        return "*"
    if group.startswith("arn:"):
        return group if group.endswith(":*") else group + ":*"
    return _arn(self, "logs", f"log-group:{group}:*")


def _iam_resource(self):
    name = self._get_param("RoleName") if self._get_action() == "GetRole" else None
    if not name:
        return "*"
    try:
        return iam_backends[self.current_account][get_partition(self.region)].get_role(name).arn
    except Exception:  # no such role: the ARN it would have; GetRole then says NoSuchEntity
        return f"arn:{get_partition(self.region)}:iam::{self.current_account}:role/{name}"


def _elbv2_resource(self):
    if self._get_action() == "DescribeTargetHealth":
        return self._get_param("TargetGroupArn") or "*"
    return "*"  # DescribeTargetGroups: no resource level


def _rds_resource(self):
    action = self._get_action()
    if action == "DescribeDBInstances":
        db = self._get_param("DBInstanceIdentifier")
    elif action == "DescribePendingMaintenanceActions":
        db = self._get_param("ResourceIdentifier")
        for f in self._get_param("Filters") or []:
            if f.get("Name") == "db-instance-id" and len(f.get("Values") or []) == 1:
                db = f["Values"][0]
    else:
        return "*"
    if not db:
        return "*"
    return db if db.startswith("arn:") else _arn(self, "rds", f"db:{db}")


def _cloudwatch_resource(self):
    """Alarms by name: alarm:NAME (DescribeAlarms of named alarms, PutMetricAlarm, SetAlarmState); "*"
    for DescribeAlarms of every alarm."""
    action = self._get_action()
    if action == "DescribeAlarms":
        names = self._get_param("AlarmNames") or self._get_multi_param("AlarmNames.member")
    elif action in ("PutMetricAlarm", "SetAlarmState"):
        names = [self._get_param("AlarmName")]
    else:
        return "*"
    if not names or not all(names):
        return "*"
    return [_arn(self, "cloudwatch", f"alarm:{n}") for n in names]


CloudWatchResponse._determine_resource = _cloudwatch_resource

for _cls, _fn in ((EC2ContainerServiceResponse, _ecs_resource), (ECRResponse, _ecr_resource),
                  (SimpleSystemManagerResponse, _ssm_resource), (SecretsManagerResponse, _secretsmanager_resource),
                  (LogsResponse, _logs_resource), (ELBV2Response, _elbv2_resource), (RDSResponse, _rds_resource),
                  (IamResponse, _iam_resource)):
    _cls._determine_resource = _fn

# Condition keys the request carries (self._sk_conditions, e.g. ecs:cluster) reach the policy
# evaluation, which moto otherwise runs without any; ArnEquals/ArnLike compare them.
_policy_is_action_permitted = IAMPolicy.is_action_permitted


def _is_action_permitted(self, action, resource="*", principal=None, incoming_condition_values=None):
    if incoming_condition_values is None:
        incoming_condition_values = getattr(_REQUEST, "conditions", None)
    return _policy_is_action_permitted(self, action, resource, principal, incoming_condition_values)


def _arn_like(expected, actual):
    return any(fnmatch.fnmatchcase(actual, e) for e in ([expected] if isinstance(expected, str) else expected))


IAMPolicy.is_action_permitted = _is_action_permitted
policy_conditions.CONDITION_OPERATIONS.setdefault("ArnEquals", policy_conditions.string_equals_operation)
policy_conditions.CONDITION_OPERATIONS.setdefault("ArnLike", _arn_like)

# ---- DescribeTaskDefinition as ECS answers it ----------------------------------------------------------
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html: ECS adds
# registeredAt, registeredBy (the principal that registered it), requiresAttributes (the container
# instance attributes its features need), deregisteredAt once deregistered and, once
# DeleteTaskDefinitions is asked, deleteRequestedAt
# (the revision stays visible as DELETE_IN_PROGRESS); revision numbers are never reused, and a
# family without a revision names its latest ACTIVE revision. moto has none of that.
from moto.core.utils import utcnow  # noqa: E402
from moto.ecs.exceptions import TaskDefinitionNotFoundException  # noqa: E402
from moto.ecs.models import EC2ContainerServiceBackend  # noqa: E402
from moto.sts.models import sts_backends  # noqa: E402

def _requires_attributes(td):
    """The attributes ECS computes for a task definition's features (in the order ECS lists them)."""
    import re  # noqa: PLC0415

    names = []
    containers = td.container_definitions or []
    drivers = {(c.get("logConfiguration") or {}).get("logDriver") for c in containers} - {None}
    execution_role = getattr(td, "execution_role_arn", None)
    for d in sorted(drivers):
        names += [f"com.amazonaws.ecs.capability.logging-driver.{d}",
                  "com.amazonaws.ecs.capability.docker-remote-api.1.19"]
    if execution_role and "awslogs" in drivers:
        names.append("ecs.capability.execution-role-awslogs")
    if execution_role and any(re.match(r"\d{12}\.dkr\.ecr\.", c.get("image") or "") for c in containers):
        names += ["com.amazonaws.ecs.capability.ecr-auth", "ecs.capability.execution-role-ecr-pull"]
    if getattr(td, "task_role_arn", None):
        names.append("com.amazonaws.ecs.capability.task-iam-role")
    if any(c.get("healthCheck") for c in containers):
        names.append("ecs.capability.container-health-check")
    secrets = [s.get("valueFrom", "") for c in containers for s in c.get("secrets") or []]
    if any(":ssm:" in v or not v.startswith("arn:") for v in secrets):
        names.append("ecs.capability.secrets.ssm.environment-variables")
    if any(":secretsmanager:" in v for v in secrets):
        names.append("ecs.capability.secrets.asm.environment-variables")
    if any(c.get("dependsOn") for c in containers):
        names.append("ecs.capability.container-ordering")
    if any(c.get("dockerLabels") for c in containers) or td.network_mode == "awsvpc":
        names.append("com.amazonaws.ecs.capability.docker-remote-api.1.18")
    if td.network_mode == "awsvpc":
        names.append("ecs.capability.task-eni")
    seen = []
    for n in names:
        if n not in seen:
            seen.append(n)
    return [{"name": n} for n in seen]


_register_task_definition = EC2ContainerServiceResponse.register_task_definition


def _register_task_definition_like_ecs(self):
    result = _register_task_definition(self)
    td = result.result["taskDefinition"]
    _, arn, _ = sts_backends[self.current_account][get_partition(self.region)].get_caller_identity(
        self.get_access_key(), self.region)
    td.registered_at, td.registered_by = utcnow(), arn
    td.requires_attributes = _requires_attributes(td)
    return result


EC2ContainerServiceResponse.register_task_definition = _register_task_definition_like_ecs

_deregister_task_definition = EC2ContainerServiceBackend.deregister_task_definition


def _deregister_task_definition_like_ecs(self, task_definition_str):
    td = _deregister_task_definition(self, task_definition_str)
    if getattr(td, "deregistered_at", None) is None:
        td.deregistered_at = utcnow()
    return td


EC2ContainerServiceBackend.deregister_task_definition = _deregister_task_definition_like_ecs

_delete_task_definitions = EC2ContainerServiceBackend.delete_task_definitions


def _delete_task_definitions_like_ecs(self, task_definitions):
    deleted, failures = _delete_task_definitions(self, task_definitions)
    for td in deleted:  # moto forgets them; ECS keeps them visible while it deletes them
        td.delete_requested_at = utcnow()
        self.task_definitions.setdefault(td.family, {})[td.revision] = td
    return deleted, failures


EC2ContainerServiceBackend.delete_task_definitions = _delete_task_definitions_like_ecs

_describe_task_definition = EC2ContainerServiceBackend.describe_task_definition


def _describe_task_definition_like_ecs(self, task_definition_str):
    name = task_definition_str.split("/")[-1]
    if ":" in name:
        return _describe_task_definition(self, task_definition_str)
    active = [r for r, td in self.task_definitions.get(name, {}).items() if td.status == "ACTIVE"]
    if not active:
        raise TaskDefinitionNotFoundException()
    return self.task_definitions[name][max(active)]


EC2ContainerServiceBackend.describe_task_definition = _describe_task_definition_like_ecs


# ---- ListTaskDefinitions as ECS pages it ---------------------------------------------------------
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTaskDefinitions.html: "By default
# (ASC), task definitions are listed lexicographically by family name and in ascending numerical order
# by revision"; DESC reverses both; maxResults "can be between 1 and 100" (without it, up to 100 and a
# nextToken); familyPrefix is "the full family name". moto ignores sort, maxResults and nextToken, and
# lists revisions in the order they were registered.
def _list_task_definitions_like_ecs(self):
    import base64  # noqa: PLC0415
    import json as _json  # noqa: PLC0415

    from moto.ecs.exceptions import InvalidParameterException  # noqa: PLC0415

    family = self._get_param("familyPrefix")
    status = self._get_param("status") or "ACTIVE"
    order = self._get_param("sort") or "ASC"
    limit = self._get_param("maxResults")
    if limit is not None and not 1 <= int(limit) <= 100:
        raise InvalidParameterException("maxResults must be between 1 and 100.")
    limit = int(limit or 100)
    start = 0
    token = self._get_param("nextToken")
    if token:
        try:
            start = int(_json.loads(base64.b64decode(token))["offset"])
        except (ValueError, KeyError, TypeError):
            raise InvalidParameterException("Invalid nextToken.")
    tds = [td for fam, revs in self.ecs_backend.task_definitions.items() if family is None or fam == family
           for td in revs.values() if td.status == status]
    tds.sort(key=lambda td: (td.family, td.revision), reverse=order == "DESC")
    page = tds[start:start + limit]
    out = {"taskDefinitionArns": [td.arn for td in page]}
    if start + limit < len(tds):
        out["nextToken"] = base64.b64encode(_json.dumps({"offset": start + limit}).encode()).decode()
    return ActionResult(out)


EC2ContainerServiceResponse.list_task_definitions = _list_task_definitions_like_ecs

import ecs_sim  # noqa: E402 - after moto's imports, like the patches above

ecs_sim.install()

import faults  # noqa: E402 - wraps the dispatcher ecs_sim hooked, so it sees requests first

faults.install()

import contract  # noqa: E402 - wraps the fault layer's dispatcher: every request and answer is checked

contract.install()

import sso_portal  # noqa: E402 - the SSO portal and OIDC token service (sso_portal.py's docstring)
import server_clock  # noqa: E402 - a server clock that is off (server_clock.py's docstring); outermost

sso_portal.install()
server_clock.install()

if __name__ == "__main__":
    from moto.server import main

    sys.argv[0] = "moto_server"
    sys.exit(main())
