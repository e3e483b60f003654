"""ecs_sim.py: an ECS service scheduler inside moto_server (installed by moto_plus.py).

moto accepts CreateService/UpdateService but nothing moves. Here a thread ticking every 0.1 s moves
deployments, tasks and ELBv2 targets along simulated time (x $SK_SIM_TIME_SCALE, default 0.1) by
mutating moto's ECS, ELBv2 and Logs backends in-process, under a lock those services' request
handlers also take; API calls stay signed and IAM-authorized. The first container's image picks a
scenario ("crash", "unhealthy", "slow", "singleton"). Tasks start the way Fargate starts them: placed
(or not: capacity, container instances), their execution resources fetched (ECR authorization,
secrets: the execution role's IAM policies and the subnet's routes decide), their images pulled from
the stack's registry (a missing image fails as on ECS). /shipkit-sim/* on moto's port controls it.
The model, timings, failure messages (with the AWS pages they come from) and limits are in
docs/ecs-simulator.md.
"""
import base64
import http.client
import json
import math
import os
import random
import re
import shlex
import ssl
import sys
import threading
import time
import traceback
import types
import uuid

from moto.core import DEFAULT_ACCOUNT_ID
from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import utcnow
from moto.ec2.models import ec2_backends
from moto.cloudwatch.models import cloudwatch_backends
from moto.ecr.models import ecr_backends
from moto.ecs.exceptions import ClusterNotFoundException, InvalidParameterException, ServiceNotFoundException
from moto.ecs.models import EC2ContainerServiceBackend, Task
from moto.ecs.responses import EC2ContainerServiceResponse
from moto.elbv2.models import FakeHealthStatus, FakeTargetGroup, elbv2_backends
from moto.elbv2.responses import ELBV2Response
from moto.iam.access_control import IAMPolicy, PermissionResult
from moto.iam.models import iam_backends
from moto.logs.models import logs_backends
from moto.logs.responses import LogsResponse
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.secretsmanager.models import secretsmanager_backends
from moto.ssm.models import ssm_backends

# Phase lengths, in simulated seconds ("slow" images take 5x as long).
PROVISION = 2  # PROVISIONING -> PENDING
PULL = 3  # PENDING -> RUNNING (image pull, container start)
REGISTERING = 3  # target initial/Elb.RegistrationInProgress, then Elb.InitialHealthChecking
HEALTH_CHECK = 10  # target registered -> healthy (unhealthy for "unhealthy" images)
KILL = 4  # target unhealthy -> ECS stops the task ("Task failed ELB health checks")
CRASH = 1  # "crash" images: RUNNING -> essential container exits 1
STABLE = 2  # a task without target groups counts as healthy after this long RUNNING
DRAIN = 5  # target draining (Target.DeregistrationInProgress) before it is removed
STOP = 1  # STOPPING -> STOPPED
KEEP_STOPPED = 3600  # stopped tasks stay visible this long (ECS: about an hour)
PLACE_RETRY = 20  # after "unable to place a task", the scheduler tries again this much later
SLOW = 5
TICK = 0.1  # real seconds between ticks
REGISTRY_TTL = 2.0  # real seconds an answer of the stack's registry is reused
SCENARIOS = ("crash", "unhealthy", "hctimeout", "wrongport", "slow", "singleton", "oom")
# How the targets of a failing scenario's tasks turn unhealthy: reason and description as ELB words
# them (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_TargetHealth.html).
UNHEALTHY = {"unhealthy": ("Target.ResponseCodeMismatch", "Health checks failed with these codes: [503]"),
             "hctimeout": ("Target.Timeout", "Request timed out"),
             "wrongport": ("Target.FailedHealthChecks", "Health checks failed")}

CB_REASON = "ECS deployment circuit breaker: tasks failed to start."
# Blue/green, linear and canary deployments (docs/ecs-simulator.md, "Deployment strategies").
STAGE = 2  # a lifecycle stage without work of its own (PRE_SCALE_UP, POST_*) lasts this long
HOOK = 4  # a lifecycle hook's Lambda function answers this long after its stage is entered
STAGES = ("RECONCILE_SERVICE", "PRE_SCALE_UP", "SCALE_UP", "POST_SCALE_UP", "TEST_TRAFFIC_SHIFT",
          "POST_TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT", "POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME",
          "CLEAN_UP")
# The hook stages (DeploymentLifecycleHookStage) run when a lifecycle stage is entered; there is no
# PRE_PRODUCTION_TRAFFIC_SHIFT lifecycle stage: its hooks run at the end of POST_TEST_TRAFFIC_SHIFT.
HOOKS_AT = {"POST_TEST_TRAFFIC_SHIFT": ("POST_TEST_TRAFFIC_SHIFT", "PRE_PRODUCTION_TRAFFIC_SHIFT")}
CANARY_DEFAULT = (5.0, 10)  # canaryPercent, canaryBakeTimeInMinutes when the service gives none (ours)
LINEAR_DEFAULT = (10.0, 6)  # stepPercent, stepBakeTimeInMinutes when the service gives none (ours)
ONEOFF_RUN = 2  # a one-off task's container without a script to run: this long, then exit 0
OOM = 1  # an "oom" image is killed this long after it starts
OOM_REASON = "OutOfMemoryError: Container killed due to memory usage"
EXITED = "Essential container in task exited"
CAPACITY_REASON = "Capacity is unavailable at this time. Please try again later or in a different availability zone"
LOCK = threading.RLock()


def _log(msg):
    print(f"ecs_sim: {msg}", file=sys.stderr, flush=True)


def _default_config():
    try:
        scale = float(os.environ.get("SK_SIM_TIME_SCALE", "") or 0.1)
    except ValueError:
        scale = 0.1
    return {"time_scale": scale if scale > 0 else 0.1, "circuit_breaker_threshold": None, "paused": False,
            "ecr_proxy_endpoint": None}


def _deployment_id():
    return f"ecs-svc/{random.randint(10**18, 10**19 - 1)}"


def _scenario(image):
    image = (image or "").lower()
    return {s for s in SCENARIOS if s in image}


def _deployment_config(given):
    """The service's deploymentConfiguration with ECS's defaults filled in."""
    dc = {"maximumPercent": 200, "minimumHealthyPercent": 100,
          "deploymentCircuitBreaker": {"enable": False, "rollback": False}}
    dc.update(given or {})
    return dc


# --- starting a task: what Fargate fetches and pulls before a container runs ---------------------
#
# The words of every failure are AWS's, from the ECS Developer Guide's stopped-task pages:
#   https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stopped-task-error-codes.html
#   CannotPullContainerError: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_cannot_pull_image.html
#   ResourceInitializationError: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/resource-initialization-error.html
#   service events: https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html
# and the shape the Fargate agent gives them today (platform version 1.4.0: execution resources,
# that is the ECR authorization token and the secrets, are fetched before the images are pulled;
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html).

_NAME = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_REPO_RE = re.compile(rf"(?P<repo>{_NAME}(?:/{_NAME})*)(?::(?P<tag>\w[\w.-]{{0,127}}))?"
                      r"(?:@(?P<digest>sha256:[0-9a-f]{64}))?")
_HOST_RE = re.compile(r"(?:[A-Za-z0-9-]+\.)*[A-Za-z0-9-]+(?::[0-9]{1,5})?")
_ECR_HOST_RE = re.compile(r"(?P<account>[0-9]{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com")
_MANIFESTS = ", ".join(["application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
                        "application/vnd.docker.distribution.manifest.list.v2+json",
                        "application/vnd.docker.distribution.manifest.v2+json"])
_NO_ROUTE_IP = "52.46.143.200"  # where "dial tcp ...: i/o timeout" says it tried to connect


def parse_image(image):
    """A Docker image reference as the container runtime reads it: (host or None, repo, tag, digest),
    or None when it is not one (https://github.com/distribution/reference, grammar.go). The first
    component is a registry host only when it has a dot or a port, or is localhost."""
    image = image or ""
    host, rest = None, image
    first, slash, after = image.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        if not _HOST_RE.fullmatch(first):
            return None
        host, rest = first, after
    m = _REPO_RE.fullmatch(rest)
    if not m:
        return None
    return host, m["repo"], m["tag"], m["digest"]


class Registry:
    """The stack's docker-registry (tests/stack/up: $SK_MOTO_ECR_PROXY, TLS with the stack's CA
    $SK_MOTO_REGISTRY_CA, htpasswd user AWS with the password moto's ECR token carries), asked the
    way an image pull asks: HEAD /v2/<repo>/manifests/<tag or digest>. Answers are reused for
    REGISTRY_TTL seconds. Without the registry (or its CA) nothing is looked up."""

    def __init__(self):
        self.host = os.environ.get("SK_MOTO_ECR_PROXY", "")
        ca = os.environ.get("SK_MOTO_REGISTRY_CA", "")
        self.ctx = ssl.create_default_context(cafile=ca) if self.host and ca and os.path.exists(ca) else None
        self.cache = {}

    def enabled(self):
        return self.ctx is not None

    def _status(self, method, path, account):
        now = time.monotonic()
        hit = self.cache.get((method, path))
        if hit and hit[1] > now:
            return hit[0]
        host, _, port = self.host.rpartition(":")
        token = base64.b64encode(f"AWS:{account}-auth-token".encode()).decode()
        status = None
        try:
            conn = http.client.HTTPSConnection(host, int(port or 443), context=self.ctx, timeout=2)
            try:
                conn.request(method, path, headers={"Authorization": "Basic " + token, "Accept": _MANIFESTS})
                resp = conn.getresponse()
                resp.read()
                status = resp.status
            finally:
                conn.close()
        except (OSError, ValueError, http.client.HTTPException) as e:
            _log(f"registry {method} {path}: {e}")
        if status not in (200, 404):
            _log(f"registry {method} {path}: status {status}; not judged")
            status = None
        self.cache[(method, path)] = (status, now + REGISTRY_TTL)
        return status

    def has_repo(self, repo, account):
        """True, False, or None (no answer)."""
        st = self._status("GET", f"/v2/{repo}/tags/list", account)
        return None if st is None else st == 200

    def has_image(self, repo, ref, account):
        st = self._status("HEAD", f"/v2/{repo}/manifests/{ref}", account)
        return None if st is None else st == 200


REGISTRY = Registry()


def _ecr_has(account, region, repo):
    try:
        return repo in ecr_backends[account][region].repositories
    except Exception:  # noqa: BLE001 - no such backend
        return False


def image_source(image, account, region):
    """Where ECS pulls image from, on the stack: {"kind": "ecr", ...} for the account's registry (the
    stack's registry stands in for it: a reference naming $SK_MOTO_ECR_PROXY or the account's ECR
    host, or one without a registry host whose repository the account's ECR has and the stack's
    registry holds: ecr-push's convention), {"kind": "public", ...} for any other registry (Docker
    Hub for other bare names: not looked up), None for a reference that is not one."""
    parsed = parse_image(image)
    if parsed is None:
        return None
    host, repo, tag, digest = parsed
    src = {"kind": "public", "host": host, "repo": repo, "tag": tag or ("" if digest else "latest"),
           "digest": digest}
    ecr_host = _ECR_HOST_RE.fullmatch(host or "")
    if REGISTRY.enabled() and (host == REGISTRY.host or (ecr_host and ecr_host["account"] == account) or
                               (host is None and _ecr_has(account, region, repo) and
                                REGISTRY.has_repo(repo, account))):
        src["kind"] = "ecr"
        host = host or REGISTRY.host
    elif host is None:
        host = "docker.io"
        repo = repo if "/" in repo else f"library/{repo}"
    src["ref"] = f"{host}/{repo}" + (f":{src['tag']}" if src["tag"] else "") + (f"@{digest}" if digest else "")
    src["registry"], src["path"] = host, repo
    return src


def _request_id():
    return str(uuid.uuid4())


def _assumed(t, role):
    return f"arn:aws:sts::{t._account_id}:assumed-role/{role.name}/{t.id}"


def _denied(t, role, action, resource):
    return (f"AccessDeniedException: User: {_assumed(t, role)} is not authorized to perform: {action} on resource: "
            f"{resource} because no identity-based policy allows the {action} action status code: 400, request id: "
            f"{_request_id()}")


RIE = "ResourceInitializationError: unable to pull secrets or registry auth: "


def msg_ecr_no_route(region):
    return (RIE + "The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task "
            "and Amazon ECR. Check your task network configuration. operation error ECR: GetAuthorizationToken, "
            "exceeded maximum number of attempts, 3, https response error StatusCode: 0, RequestID: , request send "
            f"failed, Post \"https://api.ecr.{region}.amazonaws.com/\": dial tcp {_NO_ROUTE_IP}:443: i/o timeout")


def msg_ecr_auth_denied(t, role):
    return (RIE + "execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been "
            "retried 3 time(s): " + _denied(t, role, "ecr:GetAuthorizationToken", "*"))


def msg_pull_denied(src):
    ref = src["digest"] or src["tag"]
    return (f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
            f"{src['ref']}: pulling from host {src['registry']} failed with status code [manifests {ref}]: "
            "403 Forbidden")


def msg_not_found(src):
    return (f"CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref "
            f"{src['ref']}: {src['ref']}: not found")


def msg_pull_no_route(src):
    host = "registry-1.docker.io" if src["registry"] == "docker.io" else src["registry"]
    return (f"CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref "
            f"{src['ref']}: failed to do request: Head \"https://{host}/v2/{src['path']}/manifests/"
            f"{src['digest'] or src['tag']}\": dial tcp {_NO_ROUTE_IP}:443: i/o timeout")


def msg_ssm_no_route():
    return (RIE + "unable to retrieve secrets from ssm: The task cannot pull secrets from AWS Systems Manager. There "
            "is a connection issue between the task and AWS Systems Manager Parameter Store. Check your task "
            "network configuration. RequestCanceled: request context canceled caused by: context deadline exceeded")


def msg_asm_no_route(arn):
    return (RIE + "unable to retrieve secret from asm: There is a connection issue between the task and AWS Secrets "
            f"Manager. Check your task network configuration. failed to fetch secret {arn} from secrets manager: "
            "operation error Secrets Manager: GetSecretValue, https response error StatusCode: 0, RequestID: , "
            "canceled, context deadline exceeded")


def msg_ssm(detail):
    return (RIE + "execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been "
            f"retried 1 time(s): {detail}")


def msg_asm(detail):
    return (RIE + "execution resource retrieval failed: unable to retrieve secret from asm: service call has been "
            f"retried 1 time(s): {detail}")


def role_allows(role, action, resource):
    """IAM's verdict for the execution role: an explicit Deny wins, else some Allow is needed
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html);
    inline and attached managed policies, evaluated by moto's own policy engine."""
    allowed = False
    for doc in list(role.policies.values()) + list(role.managed_policies.values()):
        try:
            verdict = IAMPolicy(doc).is_action_permitted(action, resource)
        except Exception:  # noqa: BLE001 - a policy moto cannot read grants nothing
            continue
        if verdict == PermissionResult.DENIED:
            return False
        allowed = allowed or verdict == PermissionResult.PERMITTED
    return allowed


def reachable(account, region, subnet_id):
    """What a task in subnet_id can reach: None when the stack cannot tell (a subnet moto's EC2 does
    not have: everything), else a set of "internet" (a 0.0.0.0/0 route to a gateway, NAT, instance or
    interface in the subnet's route table, or the main one; a default VPC has it, as on AWS, though
    moto leaves the route out) and the VPC endpoint services of its VPC ("ecr.api", "ecr.dkr", "s3",
    "ssm", "secretsmanager", "logs": https://docs.aws.amazon.com/AmazonECR/latest/userguide/vpc-endpoints.html)."""
    try:
        ec2 = ec2_backends[account][region]
        subnet = ec2.get_subnet(subnet_id)
        vpc = ec2.get_vpc(subnet.vpc_id)
    except Exception:  # noqa: BLE001 - unknown subnet
        return None
    out = {"internet"} if vpc.is_default else set()
    tables = [rt for rt in ec2.route_tables.values() if subnet_id in rt._associations.values()] or \
        [rt for rt in ec2.route_tables.values() if rt.vpc_id == vpc.id and rt.main_association_id]
    for rt in tables[:1]:
        for r in rt.routes:
            if r.destination_cidr_block == "0.0.0.0/0" and not r.local and \
                    (r.gateway or r.nat_gateway or r.instance or r.transit_gateway or r.interface):
                out.add("internet")
    prefix = f"com.amazonaws.{region}."
    for ep in ec2.vpc_end_points.values():
        if ep.vpc_id == vpc.id and ep.service_name.startswith(prefix):
            out.add(ep.service_name[len(prefix):])
    return out


def can_reach(net, what):
    if net is None or "internet" in net:
        return True
    need = {"ecr": {"ecr.api", "ecr.dkr", "s3"}, "ssm": {"ssm"}, "secretsmanager": {"secretsmanager"}}.get(what)
    return bool(need) and need <= net


def secret_failure(t, role, value_from, net):
    """Why the secret valueFrom cannot be fetched for task t (None: it can): Secrets Manager for a
    secretsmanager ARN (optionally ...:json-key:version-stage:version-id), else an SSM parameter (name
    or ARN) (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/secrets-envvar.html)."""
    acct, region = t._account_id, t.region_name
    parts = value_from.split(":")
    if value_from.startswith("arn:") and len(parts) >= 7 and parts[2] == "secretsmanager":
        sregion, sacct = parts[3] or region, parts[4] or acct
        arn, key = ":".join(parts[:7]), (parts[7] if len(parts) > 7 else "")
        if not can_reach(net, "secretsmanager"):
            return msg_asm_no_route(arn)
        backend = secretsmanager_backends[sacct][sregion]
        try:
            secret = backend.describe_secret(arn)
        except Exception:  # noqa: BLE001 - not found
            secret = None
        if role and not role_allows(role, "secretsmanager:GetSecretValue", secret.arn if secret else arn):
            return msg_asm(f"failed to fetch secret {arn} from secrets manager: "
                           + _denied(t, role, "secretsmanager:GetSecretValue", secret.arn if secret else arn))
        if secret is None:
            return msg_asm(f"failed to fetch secret {arn} from secrets manager: ResourceNotFoundException: Secrets "
                           f"Manager can't find the specified secret. status code: 400, request id: {_request_id()}")
        if key:
            try:
                value = json.loads(backend.get_secret_value(arn, None, None).get("SecretString") or "")
            except Exception:  # noqa: BLE001 - not JSON, or no value
                value = None
            if not isinstance(value, dict) or key not in value:
                return msg_asm(f"retrieved secret from Secrets Manager did not contain json key {key}")
        return None
    if value_from.startswith("arn:") and len(parts) >= 6 and parts[2] == "ssm" and parts[5].startswith("parameter/"):
        sregion, sacct = parts[3] or region, parts[4] or acct
        name = ":".join(parts[5:])[len("parameter"):]
    else:
        sregion, sacct, name = region, acct, value_from
    if not can_reach(net, "ssm"):
        return msg_ssm_no_route()
    arn = f"arn:aws:ssm:{sregion}:{sacct}:parameter/{name.lstrip('/')}"
    if role and not role_allows(role, "ssm:GetParameters", arn):
        return msg_ssm(_denied(t, role, "ssm:GetParameters", arn))
    backend = ssm_backends[sacct][sregion]
    for candidate in dict.fromkeys([name, "/" + name.lstrip("/"), name.lstrip("/")]):
        try:
            if backend.get_parameter(candidate):
                return None
        except Exception:  # noqa: BLE001 - not found
            pass
    return msg_ssm(f"invalid ssm parameters: {name}")


class SimTask(Task):
    """A moto ECS Task whose lastStatus the simulator drives (moto's own Task advances on describe)."""

    __module__ = "moto.ecs.shipkit_sim"  # moto's model metaclass files classes by their moto.<service>

    def __init__(self, svc, dep, td, ip, clock):
        s, backend = svc.service, svc.backend
        cluster = backend.clusters[s.cluster_name]
        self.id = uuid.uuid4().hex
        self.cluster_name, self.cluster_arn, self.region_name = cluster.name, cluster.arn, cluster.region_name
        self._account_id, self._backend = backend.account_id, backend
        self.container_instance_arn, self.resource_requirements, self.tags = None, None, []
        self.task_definition_arn = td.arn
        self.started_by, self.group = dep["id"], f"service:{s.name}"
        self.launch_type = s.launch_type
        self.platform_version = "1.4.0" if s.launch_type == "FARGATE" else None
        self.cpu, self.memory = td.cpu, td.memory
        self.availability_zone = f"{self.region_name}a"
        self.connectivity, self.connectivity_at = "CONNECTED", utcnow()
        self.desired_status, self._last = "RUNNING", "PROVISIONING"
        self.stop_code = self.stopped_reason = None
        self.created_at, self.started_at, self.stopping_at, self.stopped_at = utcnow(), None, None, None
        self.pull_started_at = self.pull_stopped_at = self.execution_stopped_at = None
        self.ip = ip
        subnets = ((s.network_configuration or {}).get("awsvpcConfiguration") or {}).get("subnets") or ["subnet-sim"]
        self._subnet = subnets[0]
        attachment = str(uuid.uuid4())
        a, b = ip.split(".")[2:]
        self.attachments = [{"id": attachment, "type": "ElasticNetworkInterface", "status": "ATTACHED", "details": [
            {"name": "subnetId", "value": subnets[0]},
            {"name": "networkInterfaceId", "value": f"eni-{uuid.uuid4().hex[:17]}"},
            {"name": "macAddress", "value": "0e:00:00:00:%02x:%02x" % (int(a), int(b))},
            {"name": "privateDnsName", "value": f"ip-{ip.replace('.', '-')}.ec2.internal"},
            {"name": "privateIPv4Address", "value": ip}]}]
        self.containers = [{
            "containerArn": f"arn:aws:ecs:{self.region_name}:{self._account_id}:container/"
                            f"{cluster.name}/{self.id}/{uuid.uuid4()}",
            "taskArn": self.task_arn, "name": c.get("name"), "image": c.get("image"), "lastStatus": "PENDING",
            "networkInterfaces": [{"attachmentId": attachment, "privateIpv4Address": ip}],
            "healthStatus": "UNKNOWN", "cpu": str(c.get("cpu", 0)),
        } for c in td.container_definitions]
        self.overrides = {"containerOverrides": [{"name": c.get("name")} for c in td.container_definitions]}
        self._td, self._t, self._ran = td, clock, None
        self._scn = _scenario(td.container_definitions[0].get("image"))
        self._f = SLOW if "slow" in self._scn else 1
        self._healthy = self._stop = self._failed = False
        self._targets = []  # (target group arn, port) this task registered
        self._start = None  # why it cannot start ({"reason", "container", "pull"}), found when it is PENDING
        self._oneoff = None  # a RunTask task: its program (Simulator.run_task), else None
        if "singleton" in self._scn:  # the deployment's first task holds the lock; the others cannot
            self._holder = dep.setdefault("_holder", self.id) == self.id

    @property
    def last_status(self):
        return self._last

    @last_status.setter
    def last_status(self, value):  # moto's StopTask sets it
        self._last = value

    def advance(self):  # moto's DescribeTasks ticks ManagedState; ours moves on the clock
        pass


class SimService:
    """Simulator state for one moto ECS service."""

    def __init__(self, backend, service):
        self.backend, self.service = backend, service
        self.key = f"{service.cluster_name}:{service.name}"
        self.tasks = []
        self.last_good = None  # (deployment id, task definition arn) of the last COMPLETED deployment
        self.last_good_rev = None  # and its service revision ARN
        self.sdeps = []  # its service deployments (ListServiceDeployments), newest first
        self.sd_of = {}  # deployment id -> the service deployment it belongs to
        self.ev = None
        self._reset_events()

    def _reset_events(self):
        self.ev = {"stopped": [], "started": [], "reg": {}, "dereg": {}}

    def event(self, message):
        s = self.service
        s.events = [{"id": str(uuid.uuid4()), "createdAt": utcnow(), "message": f"(service {s.name}) {message}"}] + \
            list(s.events or [])[:99]

    def flush_events(self):
        ev = self.ev
        if ev["stopped"]:
            ids = " ".join(f"(task {t})" for t in ev["stopped"])
            self.event(f"has stopped {len(ev['stopped'])} running tasks: {ids}.")
        for tg, n in ev["dereg"].items():
            self.event(f"deregistered {n} targets in (target-group {tg})")
        if ev["started"]:
            ids = " ".join(f"(task {t})" for t in ev["started"])
            self.event(f"has started {len(ev['started'])} tasks: {ids}.")
        for tg, n in ev["reg"].items():
            self.event(f"registered {n} targets in (target-group {tg})")
        self._reset_events()

    def tasks_of(self, dep_id, alive=True):
        return [t for t in self.tasks if t.started_by == dep_id and (not alive or t.desired_status == "RUNNING")]


class OneOffs(SimService):
    """A cluster's one-off tasks (RunTask): a SimService without a service, so they move on the same task
    model as a service's tasks (start failures, StopTask, the clock) but have no deployment, no targets
    and no service events."""

    def __init__(self, backend, cluster):  # noqa: super().__init__ wants a moto service
        self.backend = backend
        self.service = types.SimpleNamespace(cluster_name=cluster, name=None, launch_type=None,
                                             network_configuration=None, load_balancers=[], deployments=[],
                                             events=[], capacity_provider_strategy=None)
        self.key = f"{cluster}:"
        self.tasks = []
        self.last_good = None
        self.ev = None
        self._reset_events()

    def event(self, message):
        pass


# What a one-off task's container runs (docs/ecs-simulator.md, "One-off tasks"): `sh -c SCRIPT` is a
# tiny shell of echo, sleep, exit, true and false joined by ";", "&&" or line breaks; any other
# command runs ONEOFF_RUN seconds and exits 0, unless the image is a "crash" or "oom" one.
TRACEBACK = ["Traceback (most recent call last):", '  File "/app/serve.py", line 4, in <module>', "    import mlflow",
             "ModuleNotFoundError: No module named 'mlflow'"]


def expand(text, env):
    """$NAME and ${NAME} from the container's environment (unset: empty)."""
    return re.sub(r"\$\{(\w+)\}|\$(\w+)", lambda m: env.get(m.group(1) or m.group(2), ""), text)


def script_steps(script):
    lex = shlex.shlex(script, posix=True, punctuation_chars=";&\n")
    lex.whitespace = " \t\r"
    lex.whitespace_split = True
    steps, words = [], []

    def command():
        if not words:
            return
        cmd, args = words[0], words[1:]
        if cmd == "echo":
            steps.append(("echo", " ".join(args)))
        elif cmd == "sleep" and len(args) == 1 and re.fullmatch(r"[0-9]+(\.[0-9]*)?", args[0]):
            steps.append(("sleep", float(args[0])))
        elif cmd == "exit" and len(args) <= 1 and all(a.isdigit() for a in args):
            steps.append(("exit", int(args[0]) % 256 if args else None))
        elif cmd in ("true", ":"):
            steps.append(("status", 0))
        elif cmd == "false":
            steps.append(("status", 1))
        else:
            steps.append(("notfound", cmd))
        words.clear()

    try:
        tokens = list(lex)
    except ValueError:  # an unterminated quote: what sh says, with sh's status
        return [("lines", ["sh: syntax error: unterminated quoted string"]), ("exit", 2)]
    for tok in tokens:
        if tok in (";", "\n", ";;"):
            command()
        elif tok == "&&":
            command()
            steps.append(("and", None))
        else:
            words.append(tok)
    command()
    return steps


def program_of(td, overrides):
    """The program of a one-off task: the container with an overridden command, else the first essential
    one; its argv (the override's command, else the definition's), environment and steps."""
    conts = td.container_definitions
    given = {o.get("name"): o for o in overrides.get("containerOverrides") or [] if isinstance(o, dict)}
    name = next((n for n, o in given.items() if o.get("command") is not None), None)
    if name is None:
        name = next((c.get("name") for c in conts if c.get("essential", True) is not False), conts[0].get("name"))
    cdef = next((c for c in conts if c.get("name") == name), conts[0])
    ov = given.get(name) or {}
    argv = [str(a) for a in (ov.get("command") if ov.get("command") is not None else cdef.get("command") or [])]
    env = {e.get("name"): str(e.get("value", "")) for e in cdef.get("environment") or []}
    env.update({e.get("name"): str(e.get("value", "")) for e in ov.get("environment") or []})
    image, reason = str(cdef.get("image") or "").lower(), None
    if len(argv) >= 3 and argv[0] in ("sh", "/bin/sh") and argv[1] == "-c":
        steps = script_steps(argv[2])
    elif "oom" in image:
        steps, reason = [("sleep", OOM), ("exit", 137)], OOM_REASON
    elif "crash" in image:
        steps = [("lines", TRACEBACK), ("exit", 1)]
    else:
        steps = [("sleep", ONEOFF_RUN), ("exit", 0)]
    return {"argv": argv, "env": env, "container": name, "steps": steps, "reason": reason}


class Simulator:
    def __init__(self):
        self.config = _default_config()
        self.clock = 0.0  # simulated seconds since start
        self.services = {}  # id(moto Service) -> SimService
        self.targets = {}  # (target group arn, ip) -> {port, state, reason, desc, t, task}
        self.ip_seq = 0
        self.queued = {}  # "cluster:service" -> event messages for its next deployment (POST /shipkit-sim/event)
        self.capacity = {}  # "cluster:service" -> Fargate tasks that can still be placed (POST /shipkit-sim/capacity)
        self.forced = {}  # (target group arn, id) -> (state, reason, description) (POST /shipkit-sim/target-health)
        self.standalone = {}  # (id(backend), cluster) -> OneOffs: the cluster's RunTask tasks
        self.hook_results = {}  # hook target (Lambda) ARN -> what it answers (POST /shipkit-sim/hooks)
        self.revisions = {}  # service revision ARN -> (service, its deployment): DescribeServiceRevisions

    def reset(self):
        for (tg_arn, ip), st in list(self.targets.items()):
            tg = self._target_group(st["task"], tg_arn)
            if tg is not None:
                tg.targets.pop(ip, None)
        self.config = _default_config()
        self.services, self.targets, self.queued, self.capacity, self.forced = {}, {}, {}, {}, {}
        self.standalone, self.hook_results, self.revisions = {}, {}, {}
        REGISTRY.cache.clear()

    # --- hooks from the API handlers ---

    def on_create(self, backend, service):
        svc = SimService(backend, service)
        self.services[id(service)] = svc
        service.deployments, service.events = [], []
        self.start_deployment(svc, service.task_definition)
        self.update_counts(svc)

    def on_update(self, svc, old_td, force):
        s = svc.service
        td = svc.backend.describe_task_definition(s.task_definition)  # moto stores what was given
        s.task_definition = td.arn
        s.deployment_configuration = _deployment_config(getattr(s, "deployment_configuration", None))
        if td.arn != old_td or force:
            self.start_deployment(svc, td.arn)
            for message in self.queued.pop(svc.key, []):
                svc.event(message)
        self.update_counts(svc)

    def lookup(self, backend, cluster, name):
        try:
            return self.services.get(id(backend._get_service(cluster, name)))
        except Exception:  # noqa: BLE001 - not found: moto's own handler reports it
            return None

    # --- the model ---

    def start_deployment(self, svc, td_arn, sd=None):
        """A new rolling deployment (ECS's Deployment) of td_arn; with it a service deployment
        (API_ServiceDeployment.html) unless it rolls sd back, which goes on under sd."""
        s, now = svc.service, utcnow()
        dep_id = _deployment_id()
        region, account = s.arn.split(":")[3:5]
        rev = f"arn:aws:ecs:{region}:{account}:service-revision/{s.cluster_name}/{s.name}/{dep_id.split('/')[-1]}"
        for d in s.deployments:
            if d["status"] == "PRIMARY":
                d["status"], d["updatedAt"] = "ACTIVE", now
        dep = {"id": dep_id, "status": "PRIMARY", "taskDefinition": td_arn, "desiredCount": s.desired_count,
               "pendingCount": 0, "runningCount": 0, "failedTasks": 0, "createdAt": now, "updatedAt": now,
               "launchType": s.launch_type, "platformVersion": "1.4.0" if s.launch_type == "FARGATE" else None,
               "platformFamily": "Linux", "networkConfiguration": s.network_configuration or None,
               "rolloutState": "IN_PROGRESS", "rolloutStateReason": f"ECS deployment {dep_id} in progress.",
               "_launch": True, "_rev": rev}
        sources = [d for d in s.deployments if self.live(svc, d) or d["status"] == "PRIMARY"]
        if sd is None:
            sd = self.new_service_deployment(svc, dep, sources)
        else:
            dep["_rollback"] = True
            sd["updatedAt"] = now
        self.revisions[rev] = (s, dep)
        svc.sd_of[dep_id] = sd  # not in dep: DescribeServices and /shipkit-sim/state show dep
        s.deployments = [dep] + list(s.deployments)
        s.task_definition = td_arn
        return dep

    # --- service deployments (ListServiceDeployments, DescribeServiceDeployments, StopServiceDeployment) ---
    #
    # https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html: "A service
    # deployment happens when you release a software update for the service", one per CreateService or
    # UpdateService that starts a deployment; a rollback (circuit breaker, StopServiceDeployment) goes on
    # under the service deployment it rolls back (status ROLLBACK_*, rollback member), as
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-deployment.html shows it.

    def new_service_deployment(self, svc, dep, sources):
        s, now = svc.service, utcnow()
        for old in svc.sdeps:  # a newer deployment stops the one in progress
            if old["status"] in ("PENDING", "IN_PROGRESS"):
                self.sd_finish(old, "STOPPED", "Service deployment stopped because a newer service deployment "
                                                "started.")
        region, account = s.arn.split(":")[3:5]
        cluster_arn = f"arn:aws:ecs:{region}:{account}:cluster/{s.cluster_name}"
        dc = dict(getattr(s, "deployment_configuration", None) or _deployment_config(None))
        cb = dc.get("deploymentCircuitBreaker") or {}
        sd = {"serviceDeploymentArn": f"arn:aws:ecs:{region}:{account}:service-deployment/{s.cluster_name}/{s.name}/"
                                      f"{uuid.uuid4().hex[:22]}",
              "serviceArn": s.arn, "clusterArn": cluster_arn, "createdAt": now, "startedAt": now, "updatedAt": now,
              "status": "IN_PROGRESS", "deploymentConfiguration": dc,
              "deploymentCircuitBreaker": {"status": "MONITORING" if cb.get("enable") else "DISABLED",
                                           "failureCount": 0, "threshold": self.threshold(s.desired_count)},
              "_target": dep, "_sources": sources}
        al = dc.get("alarms") or {}
        sd["alarms"] = ({"status": "MONITORING", "alarmNames": list(al.get("alarmNames") or [])}
                        if al.get("enable") and al.get("alarmNames") else {"status": "DISABLED"})
        strategy = dc.get("strategy") or "ROLLING"
        # The first deployment of a service has no blue revision to shift traffic from: it rolls.
        if strategy != "ROLLING" and any(self.live(svc, d) for d in sources):
            sd.update(_strategy=strategy, _prod=0.0, _test=0.0,
                      _st={"stage": None, "t": self.clock, "hooks": None, "next": None})
            dep["_launch"] = False  # SCALE_UP starts the green tasks
            self.bg_enter(svc, sd, "RECONCILE_SERVICE" if len([d for d in sources if self.live(svc, d)]) > 1
                          else "PRE_SCALE_UP")
        svc.sdeps.insert(0, sd)
        del svc.sdeps[100:]
        return sd

    @staticmethod
    def sd_finish(sd, status, reason=None):
        now = utcnow()
        sd.update(status=status, finishedAt=now, updatedAt=now)
        if status == "STOPPED":
            sd["stoppedAt"] = now
        if reason:
            sd["statusReason"] = reason
        for monitor in (sd["deploymentCircuitBreaker"], sd.get("alarms") or {}):
            if monitor.get("status") == "MONITORING":
                monitor["status"] = "MONITORING_COMPLETE"

    @staticmethod
    def revision_summary(dep):
        return {"arn": dep["_rev"], "requestedTaskCount": dep["desiredCount"], "runningTaskCount": dep["runningCount"],
                "pendingTaskCount": dep["pendingCount"]}

    def sd_view(self, sd):
        out = {k: v for k, v in sd.items() if not k.startswith("_")}
        out["targetServiceRevision"] = self.revision_summary(sd["_target"])
        out["sourceServiceRevisions"] = [self.revision_summary(d) for d in sd["_sources"]]
        if "_strategy" in sd:  # the traffic split (ServiceRevisionSummary), the stage's hooks
            out["targetServiceRevision"].update(requestedProductionTrafficWeight=sd["_prod"],
                                                requestedTestTrafficWeight=sd["_test"])
            for r in out["sourceServiceRevisions"]:
                r.update(requestedProductionTrafficWeight=100.0 - sd["_prod"],
                         requestedTestTrafficWeight=100.0 - sd["_test"])
            hooks = sd["_st"]["hooks"] or []
            if hooks:
                out["lifecycleHookDetails"] = [{k: v for k, v in h.items() if not k.startswith("_")} for h in hooks]
        if sd["deploymentCircuitBreaker"]["status"] != "DISABLED":
            out["deploymentCircuitBreaker"] = dict(sd["deploymentCircuitBreaker"],
                                                   failureCount=sd["_target"]["failedTasks"])
        return out

    @staticmethod
    def sd_brief(sd):
        keys = ("serviceDeploymentArn", "serviceArn", "clusterArn", "startedAt", "createdAt", "finishedAt", "status",
                "statusReason")
        return dict({k: sd[k] for k in keys if k in sd}, targetServiceRevisionArn=sd["_target"]["_rev"])

    def find_service_deployment(self, arn):
        for svc in self.services.values():
            for sd in svc.sdeps:
                if sd["serviceDeploymentArn"] == arn:
                    return svc, sd
        return None, None

    def roll_back(self, svc, reason):
        """Roll the primary deployment back to the last completed one (circuit breaker, stop request);
        False when there is none."""
        s = svc.service
        primary = s.deployments[0]
        sd = svc.sd_of[primary["id"]]
        if "_strategy" in sd and sd["status"] == "IN_PROGRESS":
            return self.bg_roll_back(svc, sd, reason)
        if primary.get("_rollback"):  # the rollback itself failed
            self.sd_finish(sd, "ROLLBACK_FAILED", reason)
            return False
        if not svc.last_good:
            return False
        sd.update(status="ROLLBACK_IN_PROGRESS", statusReason=reason, updatedAt=utcnow(),
                  rollback={"reason": reason, "startedAt": utcnow(), "serviceRevisionArn": svc.last_good_rev})
        self.start_deployment(svc, svc.last_good[1], sd)
        return True

    # --- blue/green, linear and canary service deployments ---
    #
    # https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html and
    # API_ServiceDeployment.html's lifecycleStage: the green revision scales up beside the blue one
    # (SCALE_UP), takes the test traffic (TEST_TRAFFIC_SHIFT), then the production traffic: at once
    # (BLUE_GREEN), canaryPercent then the rest after canaryBakeTimeInMinutes (CANARY,
    # API_CanaryConfiguration.html), or stepPercent every stepBakeTimeInMinutes (LINEAR,
    # API_LinearConfiguration.html); both revisions run through bakeTimeInMinutes (BAKE_TIME), then the
    # blue one is scaled in (CLEAN_UP). Lifecycle hooks (API_DeploymentLifecycleHook.html) run as their
    # stage is entered; one that fails rolls the deployment back, as do the deployment's alarms in ALARM
    # (deployment-alarm-failure.html), the circuit breaker and StopServiceDeployment: production and test
    # traffic go back to blue and the green tasks are stopped (ROLLBACK_IN_PROGRESS, then
    # ROLLBACK_SUCCESSFUL). What is not reproduced: docs/aws-fidelity.md.

    def bg_enter(self, svc, sd, stage):
        sd["lifecycleStage"], sd["updatedAt"] = stage, utcnow()
        sd["_st"] = {"stage": stage, "t": self.clock, "hooks": self.bg_hooks(sd, stage), "next": None}
        if stage == "SCALE_UP":
            sd["_target"]["_launch"] = True

    def bg_hooks(self, sd, stage):
        hooks = []
        for h in sd["deploymentConfiguration"].get("lifecycleHooks") or []:
            if not set(h.get("lifecycleStages") or []) & set(HOOKS_AT.get(stage, (stage,))):
                continue
            kind = h.get("targetType") or "AWS_LAMBDA"
            detail = {"hookId": uuid.uuid4().hex, "targetType": kind, "_t": self.clock}
            if kind == "PAUSE":
                tc = h.get("timeoutConfiguration") or {}
                detail.update(status="AWAITING_ACTION", timeoutAction=tc.get("action") or "ROLLBACK")
                if tc.get("timeoutInMinutes"):
                    detail["_expires"] = self.clock + 60 * tc["timeoutInMinutes"]
                    detail["expiresAt"] = utcnow() + __import__("datetime").timedelta(
                        seconds=60 * tc["timeoutInMinutes"] * self.config["time_scale"])
            else:
                detail.update(status="IN_PROGRESS", targetArn=h.get("hookTargetArn"))
            hooks.append(detail)
        return hooks

    def bg_hooks_state(self, sd):
        """"ok" (every hook of the stage succeeded), "wait", or the reason one failed."""
        for h in sd["_st"]["hooks"] or []:
            if h["targetType"] == "PAUSE":
                if h["status"] == "AWAITING_ACTION" and h.get("_expires") is not None and self.clock >= h["_expires"]:
                    h["status"] = "TIMED_OUT"
                    if h["timeoutAction"] == "ROLLBACK":
                        return f"Lifecycle hook {h['hookId']} timed out."
                if h["status"] == "AWAITING_ACTION":
                    return "wait"
                if h["status"] == "FAILED":
                    return f"Lifecycle hook {h['hookId']} was rolled back."
                continue
            if h["status"] == "IN_PROGRESS" and self.clock - h["_t"] >= HOOK:
                h["status"] = self.hook_results.get(h["targetArn"], "SUCCEEDED")
            if h["status"] == "IN_PROGRESS":
                return "wait"
            if h["status"] in ("FAILED", "TIMED_OUT"):
                return f"Lifecycle hook {h['targetArn']} returned {h['status']} in {sd['lifecycleStage']}."
        return "ok"

    def bg_shift(self, sd, st):
        """One PRODUCTION_TRAFFIC_SHIFT step when it is due; True once all production traffic is on green."""
        if st["next"] is not None and self.clock < st["next"]:
            return False
        if sd["_prod"] >= 100.0:
            return True
        dc, strategy = sd["deploymentConfiguration"], sd["_strategy"]
        step, wait = 100.0, STAGE
        if strategy == "CANARY":
            cc = dc.get("canaryConfiguration") or {}
            step = float(cc.get("canaryPercent", CANARY_DEFAULT[0])) if sd["_prod"] == 0 else 100.0
            wait = 60 * int(cc.get("canaryBakeTimeInMinutes", CANARY_DEFAULT[1]))
        elif strategy == "LINEAR":
            lc = dc.get("linearConfiguration") or {}
            step = float(lc.get("stepPercent", LINEAR_DEFAULT[0]))
            wait = 60 * int(lc.get("stepBakeTimeInMinutes", LINEAR_DEFAULT[1]))
        sd["_prod"] = min(100.0, round(sd["_prod"] + step, 1))
        sd["updatedAt"] = utcnow()
        st["next"] = self.clock + (wait if sd["_prod"] < 100.0 else STAGE)
        return False

    def alarms_firing(self, svc, sd):
        al = sd["deploymentConfiguration"].get("alarms") or {}
        if not al.get("enable") or not al.get("alarmNames"):
            return []
        region, account = svc.service.arn.split(":")[3:5]
        alarms = cloudwatch_backends[account][region].alarms
        return [n for n in al["alarmNames"] if n in alarms and alarms[n].state_value == "ALARM"]

    def tick_alarms(self, svc):
        """The newest service deployment's alarms, while it is in progress: one in ALARM fails it
        (deployment-alarm-failure.html) and, with rollback on (always for blue/green), rolls it back."""
        sd = svc.sdeps[0] if svc.sdeps else None
        if sd is None or sd["status"] != "IN_PROGRESS" or sd["alarms"]["status"] != "MONITORING":
            return
        firing = self.alarms_firing(svc, sd)
        if not firing:
            return
        sd["alarms"].update(status="TRIGGERED", triggeredAlarmNames=firing)
        reason = f"Service deployment rolled back because the CloudWatch alarm {', '.join(firing)} is in ALARM state."
        primary = svc.service.deployments[0]
        if "_strategy" in sd:
            self.bg_roll_back(svc, sd, reason)
        elif svc.sd_of.get(primary["id"]) is sd:
            rollback = (sd["deploymentConfiguration"].get("alarms") or {}).get("rollback")
            why = reason if rollback else f"Service deployment failed because the CloudWatch alarm " \
                                          f"{', '.join(firing)} is in ALARM state."
            primary.update(rolloutState="FAILED", rolloutStateReason=why, updatedAt=utcnow(), _launch=False)
            svc.event(f"(deployment {primary['id']}) deployment failed: alarm detected.")
            if not (rollback and self.roll_back(svc, why)):
                self.sd_finish(sd, "STOPPED", why)

    def bg_roll_back(self, svc, sd, reason):
        """Traffic back to the blue revision, the green tasks stopped. False when no blue one runs."""
        s, now = svc.service, utcnow()
        green = sd["_target"]
        blue = next((d for d in s.deployments if d is not green and self.live(svc, d)), None)
        if blue is None:
            self.sd_finish(sd, "ROLLBACK_FAILED", reason)
            return False
        sd.update(status="ROLLBACK_IN_PROGRESS", statusReason=reason, updatedAt=now,
                  rollback={"reason": reason, "startedAt": now, "serviceRevisionArn": blue["_rev"]}, _prod=0.0,
                  _test=0.0)
        green.update(status="ACTIVE", rolloutState="FAILED", rolloutStateReason=reason, updatedAt=now, _launch=False)
        blue.update(status="PRIMARY", updatedAt=now)
        s.deployments = [blue] + [d for d in s.deployments if d is not blue]
        s.task_definition = blue["taskDefinition"]
        for t in svc.tasks_of(green["id"]):
            self.scale_in(svc, t)
        svc.event(f"(deployment {green['id']}) deployment rolling back to deployment {blue['id']}.")
        return True

    def tick_strategy(self, svc):
        sd = svc.sdeps[0] if svc.sdeps else None
        if sd is None or "_strategy" not in sd:
            return
        s, green, st = svc.service, sd["_target"], sd["_st"]
        if sd["status"] == "ROLLBACK_IN_PROGRESS":
            if not self.live(svc, green):
                s.deployments = [d for d in s.deployments if d is not green]
                self.sd_finish(sd, "ROLLBACK_SUCCESSFUL")
                svc.event("has reached a steady state.")
            return
        if sd["status"] != "IN_PROGRESS":
            return
        hooks = self.bg_hooks_state(sd)
        if hooks == "wait":
            return
        if hooks != "ok":
            self.bg_roll_back(svc, sd, hooks)
            return
        stage, done = st["stage"], False
        if stage == "SCALE_UP":
            alive = svc.tasks_of(green["id"])
            done = len(alive) == s.desired_count and all(t._healthy for t in alive)
        elif stage == "TEST_TRAFFIC_SHIFT":
            sd["_test"] = 100.0
            done = self.clock - st["t"] >= STAGE
        elif stage == "PRODUCTION_TRAFFIC_SHIFT":
            done = self.bg_shift(sd, st)
        elif stage == "BAKE_TIME":
            done = self.clock - st["t"] >= 60 * int(sd["deploymentConfiguration"].get("bakeTimeInMinutes") or 0)
        elif stage == "CLEAN_UP":  # schedule() scales the blue tasks in once CLEAN_UP is entered
            done = not any(self.live(svc, d) for d in s.deployments if d is not green)
        else:
            done = self.clock - st["t"] >= STAGE
        if not done:
            return
        if stage != "CLEAN_UP":
            self.bg_enter(svc, sd, STAGES[STAGES.index(stage) + 1])
            return
        self.finish_primary(svc, green)

    def threshold(self, desired):
        if self.config["circuit_breaker_threshold"] is not None:
            return self.config["circuit_breaker_threshold"]
        return max(3, min(200, math.ceil(0.5 * desired)))

    def _target_group(self, task, arn):
        return elbv2_backends[task._account_id][task.region_name].target_groups.get(arn)

    def count_failure(self, svc, dep_id, n=1):
        """failedTasks: "The number of consecutively failed tasks in the deployment. A task is considered a
        failure if the service scheduler can't launch the task, the task doesn't transition to a RUNNING
        state, or if it fails any of its defined health checks and is stopped. Once a service deployment
        has one or more successfully running tasks, the failed task count resets to zero and stops being
        evaluated." (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_Deployment.html)"""
        for d in svc.service.deployments:
            if d["id"] == dep_id and not d.get("_ok"):
                d["failedTasks"] += n

    def dep_event(self, svc, dep_id, message):
        """A service event about a deployment, once: ECS omits duplicate messages "until either the cause is
        resolved or six hours passes" (https://docs.aws.amazon.com/AmazonECS/latest/developerguide/service-event-messages.html)."""
        for d in svc.service.deployments:
            if d["id"] == dep_id:
                said = d.setdefault("_said", [])
                if message not in said:
                    said.append(message)
                    svc.event(message)

    def placement_failure(self, svc):
        """Why a task of the service cannot be placed now (None: it can). Fargate: the capacity the control
        endpoint left the service; the EC2 launch type: a cluster without ACTIVE container instances."""
        s = svc.service
        cps = getattr(s, "capacity_provider_strategy", None) or []
        if s.launch_type == "FARGATE" or any(str(c.get("capacityProvider", "")).startswith("FARGATE") for c in cps):
            if self.capacity.get(svc.key) is not None and self.capacity[svc.key] <= 0:
                return ("was unable to place a task. Reason: Capacity is unavailable at this time. Please try again "
                        "later or in a different availability zone.")
        elif s.launch_type in (None, "EC2") and not cps:
            instances = svc.backend.container_instances.get(s.cluster_name, {}).values()
            if not any(getattr(ci, "status", "ACTIVE") == "ACTIVE" for ci in instances):
                return ("was unable to place a task because no container instance met all of its requirements. "
                        "Reason: No Container Instances were found in your cluster. For more information, see the "
                        "Troubleshooting section.")
        return None

    def exec_role(self, t):
        """The task definition's execution role in moto's IAM, or None: not checked. None is given, the role
        is not in IAM, or it has no policy at all (a stand-in whose ARN is all a test needed)."""
        arn = getattr(t._td, "execution_role_arn", None)
        if not arn:
            return None
        try:
            role = iam_backends[t._account_id]["global"].get_role_by_arn(arn)
        except Exception:  # noqa: BLE001 - unknown role
            return None
        return role if role.policies or role.managed_policies else None

    def start_failure(self, svc, t):
        """Why task t cannot start, found as it enters PENDING: {"reason", "container", "pull"}, or None.
        First the execution resources (ECR authorization token, secrets), then each container's image."""
        acct, region = t._account_id, t.region_name
        role, net = self.exec_role(t), reachable(acct, region, t._subnet)
        conts = t._td.container_definitions
        images = [(c.get("name"), image_source(c.get("image"), acct, region)) for c in conts]
        if any(src and src["kind"] == "ecr" for _, src in images):
            if not can_reach(net, "ecr"):
                return {"reason": msg_ecr_no_route(region), "container": None, "pull": False}
            if role and not role_allows(role, "ecr:GetAuthorizationToken", "*"):
                return {"reason": msg_ecr_auth_denied(t, role), "container": None, "pull": False}
        for c in conts:
            for sec in c.get("secrets") or []:
                why = secret_failure(t, role, str(sec.get("valueFrom") or ""), net) if sec.get("valueFrom") else None
                if why:
                    return {"reason": why, "container": None, "pull": False}
        for name, src in images:
            if src is None:
                continue
            if src["kind"] == "ecr":
                repo_arn = f"arn:aws:ecr:{region}:{acct}:repository/{src['repo']}"
                if role and not all(role_allows(role, a, repo_arn) for a in ("ecr:BatchGetImage",
                                                                              "ecr:GetDownloadUrlForLayer")):
                    return {"reason": msg_pull_denied(src), "container": name, "pull": True}
                if REGISTRY.has_image(src["repo"], src["digest"] or src["tag"], acct) is False:
                    return {"reason": msg_not_found(src), "container": name, "pull": True}
            elif not can_reach(net, "internet"):
                return {"reason": msg_pull_no_route(src), "container": name, "pull": True}
        return None

    def fail_start(self, svc, t):
        """TaskFailedToStart: no container ran, so no exit code and no log stream."""
        why = t._start["reason"]
        t.desired_status, t.stop_code, t.stopped_reason = "STOPPED", "TaskFailedToStart", why
        t.stopping_at = t.execution_stopped_at = utcnow()
        t._stop, t._failed, t._t, t._last = True, True, self.clock, "STOPPING"
        for c in t.containers:
            c["lastStatus"] = "STOPPED"
            if c["name"] == t._start["container"]:
                c["reason"] = why[:1024]  # the Container shape's limit
        self.count_failure(svc, t.started_by)
        self.dep_event(svc, t.started_by, f"was unable to place a task. Reason: {why}" + ("" if why.endswith(".") else "."))

    def launch(self, svc, dep, n):
        td = svc.backend.describe_task_definition(dep["taskDefinition"])
        tasks = svc.backend.tasks.setdefault(svc.service.cluster_name, {})
        for i in range(n):
            why = self.placement_failure(svc)
            if why:  # ECS tries again later; each task it could not place counts
                dep["_retry"] = self.clock + PLACE_RETRY
                self.count_failure(svc, dep["id"], n - i)
                self.dep_event(svc, dep["id"], why)
                return
            if self.capacity.get(svc.key) is not None:
                self.capacity[svc.key] -= 1
            self.ip_seq += 1
            ip = f"10.0.{(self.ip_seq // 250) % 256}.{self.ip_seq % 250 + 4}"
            t = SimTask(svc, dep, td, ip, self.clock)
            tasks[t.task_arn] = t
            svc.tasks.append(t)
            svc.ev["started"].append(t.id)

    def stop(self, svc, t, code, reason, failed=False, exit_code=None):
        """The task is told to stop: targets drain first (DEACTIVATING), then STOPPING, STOPPED."""
        t.desired_status, t.stop_code, t.stopped_reason = "STOPPED", code, reason
        t.stopping_at, t._stop, t._failed, t._t = utcnow(), True, failed, self.clock
        draining = False
        for tg_arn, _ in t._targets:
            st = self.targets.get((tg_arn, t.ip))
            if st and st["state"] != "draining":
                st.update(state="draining", reason="Target.DeregistrationInProgress",
                          desc="Target deregistration is in progress", t=self.clock)
                svc.ev["dereg"][tg_arn] = svc.ev["dereg"].get(tg_arn, 0) + 1
                draining = True
        if exit_code is not None:  # the container already exited
            for c in t.containers:
                c.update(lastStatus="STOPPED", exitCode=exit_code if c is t.containers[0] else 0)
            draining = False
        t._last = "DEACTIVATING" if draining and t._last == "RUNNING" else "STOPPING"
        if code == "ServiceSchedulerInitiated":
            svc.ev["stopped"].append(t.id)
        if failed:
            self.count_failure(svc, t.started_by)

    def scale_in(self, svc, t):
        self.stop(svc, t, "ServiceSchedulerInitiated", f"Scaling activity initiated by (deployment {t.started_by})")

    def register(self, svc, t):
        for lb in svc.service.load_balancers or []:
            tg = self._target_group(t, lb.get("targetGroupArn"))
            if tg is None or tg.target_type != "ip":
                continue
            port = int(lb.get("containerPort") or tg.port or 80)
            tg.targets[t.ip] = {"Id": t.ip, "Port": port}
            tg.deregistered_targets.pop(t.ip, None)
            self.targets[(tg.arn, t.ip)] = {"port": port, "state": "initial", "reason": "Elb.RegistrationInProgress",
                                            "desc": "Target registration is in progress", "t": self.clock, "task": t}
            t._targets.append((tg.arn, port))
            svc.ev["reg"][tg.arn] = svc.ev["reg"].get(tg.arn, 0) + 1

    @staticmethod
    def locked_out(t):
        """A "singleton" task that is not its deployment's first: it cannot take the lock and exits."""
        return "singleton" in t._scn and not t._holder

    def write_logs(self, t, lines, container=None):
        c = next((d for d in t._td.container_definitions if d.get("name") == container),
                 t._td.container_definitions[0])
        lc = c.get("logConfiguration") or {}
        opts = lc.get("options") or {}
        group = opts.get("awslogs-group")
        if lc.get("logDriver") != "awslogs" or not group:
            return
        logs = logs_backends[t._account_id][opts.get("awslogs-region") or t.region_name]
        prefix = opts.get("awslogs-stream-prefix")
        stream = f"{prefix}/{c.get('name')}/{t.id}" if prefix else t.id
        if group not in logs.groups:
            logs.create_log_group(group, {})
        if stream not in logs.groups[group].streams:
            logs.create_log_stream(group, stream)
        ms = int(time.time() * 1000)
        logs.put_log_events(group, stream, [{"timestamp": ms + i, "message": m} for i, m in enumerate(lines)])

    def tick_task(self, svc, t):
        e, f, now = self.clock - t._t, t._f, utcnow()
        if t.desired_status == "STOPPED" and not t._stop:  # StopTask from a client (moto said STOPPED)
            t._last = "RUNNING" if t._ran is not None else "PENDING"
            self.stop(svc, t, "UserInitiated", t.stopped_reason or "Task stopped by user")
            if t._oneoff is not None and t._ran is not None:  # SIGTERM: a shell's 128 + 15
                for c in t.containers:
                    c.update(lastStatus="STOPPED", exitCode=143)
        if t._last == "PROVISIONING" and e >= PROVISION * f:
            t._last, t._t = "PENDING", self.clock
            t._start = self.start_failure(svc, t)
            if not t._start or t._start["pull"]:
                t.pull_started_at = now
        elif t._last == "PENDING" and e >= PULL * f and t._start:
            self.fail_start(svc, t)
        elif t._last == "PENDING" and e >= PULL * f:
            t._last, t._t, t._ran = "RUNNING", self.clock, self.clock
            t.pull_stopped_at = t.started_at = now
            for c in t.containers:
                c.update(lastStatus="RUNNING", runtimeId=f"{t.id}-{uuid.uuid4().hex[:10]}")
            if t._oneoff is not None:
                self.step_program(svc, t)
                return
            image = t.containers[0]["image"]
            ports = t._td.container_definitions[0].get("portMappings") or [{}]
            lines = [f"Starting model server (image {image})",
                     f"Listening on 0.0.0.0:{ports[0].get('containerPort', 8080)}"]
            if "unhealthy" in t._scn:
                lines.append("Model not loaded: health checks will answer 503")
            self.write_logs(t, lines if "crash" not in t._scn and not self.locked_out(t) else lines[:1])
            self.register(svc, t)
        elif t._last == "RUNNING" and t.desired_status == "RUNNING" and t._oneoff is not None:
            self.step_program(svc, t)
        elif t._last == "RUNNING" and t.desired_status == "RUNNING":
            if self.locked_out(t) and e >= CRASH * f:
                self.write_logs(t, ["Error: the model store is locked by another instance (lock model-store/leader); "
                                    "exiting"])
                self.stop(svc, t, "EssentialContainerExited", "Essential container in task exited",
                          failed=True, exit_code=1)
                t.containers[0]["reason"] = "Essential container in task exited"
                return
            if "crash" in t._scn and e >= CRASH * f:
                self.write_logs(t, ["Traceback (most recent call last):",
                                    '  File "/app/serve.py", line 4, in <module>',
                                    "    import mlflow",
                                    "ModuleNotFoundError: No module named 'mlflow'"])
                self.stop(svc, t, "EssentialContainerExited", "Essential container in task exited",
                          failed=True, exit_code=1)
                t.containers[0]["reason"] = "Essential container in task exited"
                return
            for tg_arn, port in t._targets:
                st = self.targets.get((tg_arn, t.ip))
                if not st:
                    continue
                te = self.clock - st["t"]
                if st["state"] == "initial" and te >= HEALTH_CHECK * f:
                    bad = next((UNHEALTHY[k] for k in UNHEALTHY if k in t._scn), None)
                    if bad:
                        st.update(state="unhealthy", reason=bad[0], desc=bad[1], t=self.clock)
                        svc.event(f"(task {t.id}) (port {port}) is unhealthy in (target-group {tg_arn}) due to "
                                  f"(reason {bad[1]}).")
                    else:
                        st.update(state="healthy", reason=None, desc=None)
                elif st["state"] == "initial" and te >= REGISTERING * f:
                    st.update(reason="Elb.InitialHealthChecking", desc="Initial health checks in progress")
                elif st["state"] == "unhealthy" and te >= KILL * f:
                    self.stop(svc, t, "ServiceSchedulerInitiated", f"Task failed ELB health checks in "
                              f"(target-group {tg_arn})", failed=True)
                    return
            if not t._healthy:
                states = [self.targets.get((arn, t.ip), {}).get("state") for arn, _ in t._targets]
                if (states and all(s == "healthy" for s in states)) or (not states and e >= STABLE * f):
                    t._healthy = True
                    for d in svc.service.deployments:
                        if d["id"] == t.started_by:  # resets to zero and stops being evaluated (count_failure)
                            d["failedTasks"], d["_ok"] = 0, True
        elif t._last == "DEACTIVATING":
            if not any(self.targets.get((arn, t.ip), {}).get("state") == "draining" for arn, _ in t._targets):
                t._last, t._t = "STOPPING", self.clock
        elif t._last == "STOPPING" and e >= STOP * f:
            t._last, t._t, t._healthy = "STOPPED", self.clock, False
            t.stopped_at = t.execution_stopped_at = now
            t.attachments[0]["status"] = "DELETED"
            for c in t.containers:
                if c["lastStatus"] != "STOPPED":
                    c.update(lastStatus="STOPPED", exitCode=0)

    # --- one-off tasks (RunTask): docs/ecs-simulator.md, "One-off tasks" ---

    def oneoffs(self, backend, cluster):
        key = (id(backend), cluster)
        if key not in self.standalone:
            self.standalone[key] = OneOffs(backend, cluster)
        return self.standalone[key]

    def run_task(self, backend, cluster, td, count, req):
        """RunTask: up to count tasks of td in cluster, each placed or not ("failures"), as ECS answers
        (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html)."""
        group = self.oneoffs(backend, cluster)
        cl = backend.clusters[cluster]
        cps = req.get("capacityProviderStrategy") or []
        launch = req.get("launchType") or (None if cps else "EC2")
        fargate = launch == "FARGATE" or any(str(c.get("capacityProvider", "")).startswith("FARGATE") for c in cps)
        overrides = req.get("overrides") or {}
        program = program_of(td, overrides)
        tasks, failures = [], []
        store = backend.tasks.setdefault(cluster, {})
        for _ in range(count):
            budget = self.capacity.get(group.key)
            if fargate and budget is not None and budget <= 0:
                failures.append({"arn": cl.arn, "reason": CAPACITY_REASON})
                continue
            if fargate and budget is not None:
                self.capacity[group.key] = budget - 1
            self.ip_seq += 1
            ip = f"10.0.{(self.ip_seq // 250) % 256}.{self.ip_seq % 250 + 4}"
            shape = types.SimpleNamespace(service=types.SimpleNamespace(
                cluster_name=cluster, name=None, launch_type=launch,
                network_configuration=req.get("networkConfiguration")), backend=backend)
            t = SimTask(shape, {"id": req.get("startedBy") or ""}, td, ip, self.clock)
            t.started_by = req.get("startedBy") or None
            t.group = req.get("group") or f"family:{td.family}"
            t.tags = list(req.get("tags") or [])
            t.platform_version = req.get("platformVersion") or t.platform_version
            names = [c.get("name") for c in td.container_definitions]
            given = {o.get("name"): o for o in overrides.get("containerOverrides") or []}
            t.overrides = dict(overrides, containerOverrides=[given.get(n, {"name": n}) for n in names])
            t._oneoff = dict(program, pc=0, status=0, until=None, done=False, code=None)
            store[t.task_arn] = t
            group.tasks.append(t)
            tasks.append(t)
        return tasks, failures

    def step_program(self, svc, t):
        """Run a one-off task's program on the clock: its log lines as their time comes, sleeps, the exit."""
        prog, f = t._oneoff, t._f
        if prog["done"]:
            return
        if not prog.get("began"):
            prog["began"] = True
            self.write_logs(t, ["sim: exec " + json.dumps(prog["argv"], separators=(",", ":"), ensure_ascii=False)],
                            prog["container"])
        if prog["until"] is not None and self.clock < prog["until"]:
            return
        prog["until"] = None
        steps = prog["steps"]
        while prog["pc"] < len(steps):
            op, arg = steps[prog["pc"]]
            prog["pc"] += 1
            if op == "and" and prog["status"] != 0:  # a && b: b only if a succeeded
                prog["pc"] += 1
                continue
            if op == "and":
                continue
            if op == "echo":
                self.write_logs(t, [expand(arg, prog["env"])], prog["container"])
                prog["status"] = 0
            elif op == "sleep":
                prog["until"], prog["status"] = self.clock + arg * f, 0
                return
            elif op == "status":
                prog["status"] = arg
            elif op == "exit":
                prog["code"] = prog["status"] if arg is None else arg
                break
            elif op == "notfound":
                self.write_logs(t, [f"sh: {arg}: not found"], prog["container"])
                prog["status"] = 127
            elif op == "lines":
                self.write_logs(t, arg, prog["container"])
        code = prog["status"] if prog["code"] is None else prog["code"]
        prog["done"] = True
        self.program_exit(svc, t, code, prog.get("reason"))

    def program_exit(self, svc, t, code, reason=None):
        """The program's container exited with code: an essential one stops the task
        (EssentialContainerExited, for exit 0 too); the others get exit code 0 as the task stops."""
        name = t._oneoff["container"]
        essential = next((d.get("essential", True) is not False for d in t._td.container_definitions
                          if d.get("name") == name), True)
        for c in t.containers:
            if c["name"] == name:
                c.update(lastStatus="STOPPED", exitCode=int(code))
                if reason:
                    c["reason"] = reason
        if essential:
            self.stop(svc, t, "EssentialContainerExited", EXITED)

    def tick_targets(self):
        for key, st in list(self.targets.items()):
            t = st["task"]
            tg = self._target_group(t, key[0])
            if tg is None:
                del self.targets[key]
            elif st["state"] == "draining" and self.clock - st["t"] >= DRAIN * t._f:
                tg.targets.pop(key[1], None)
                tg.deregistered_targets[key[1]] = {"Id": key[1], "Port": st["port"]}
                del self.targets[key]

    def schedule(self, svc):
        s = svc.service
        deps = s.deployments
        if not deps:
            return
        primary, desired = deps[0], s.desired_count
        primary["desiredCount"] = desired
        alive = svc.tasks_of(primary["id"])
        # Circuit breaker: enough consecutive failures and the deployment fails (and maybe rolls back).
        cb = (getattr(s, "deployment_configuration", None) or {}).get("deploymentCircuitBreaker") or {}
        if cb.get("enable") and primary["rolloutState"] == "IN_PROGRESS" and \
                primary["failedTasks"] >= self.threshold(desired):
            primary.update(rolloutState="FAILED", rolloutStateReason=CB_REASON, updatedAt=utcnow(), _launch=False)
            svc.event(f"(deployment {primary['id']}) deployment failed: tasks failed to start.")
            sd = svc.sd_of[primary["id"]]
            sd["deploymentCircuitBreaker"]["status"] = "TRIGGERED"
            if cb.get("rollback") and svc.last_good and not primary.get("_rollback"):
                self.roll_back(svc, CB_REASON)
                primary = s.deployments[0]
                svc.event(f"(deployment {deps[0]['id']}) deployment failed: tasks failed to start, "
                          f"rolling back to deployment {primary['id']}.")
                # a rolling rollback starts a deployment with no tasks; a blue/green one goes back to blue's
                deps, alive = s.deployments, svc.tasks_of(primary["id"])
            elif primary.get("_rollback"):
                self.sd_finish(sd, "ROLLBACK_FAILED", CB_REASON)
            elif sd["status"] == "IN_PROGRESS":
                self.sd_finish(sd, "STOPPED", CB_REASON)
        if primary["_launch"] and len(alive) < desired and self.clock >= primary.get("_retry", 0):
            self.launch(svc, primary, desired - len(alive))
        elif len(alive) > desired:  # scale in: unhealthy and newest first
            for t in sorted(alive, key=lambda t: (t._healthy, -t._t))[:len(alive) - desired]:
                self.scale_in(svc, t)
        # Old deployments: keep desired - healthy(new) of their tasks (minimumHealthyPercent 100), stop the rest;
        # a failed old deployment's tasks go at once.
        healthy = sum(1 for t in svc.tasks_of(primary["id"]) if t._healthy)
        old = []
        for d in deps[1:]:
            for t in svc.tasks_of(d["id"]):
                old.append((d["rolloutState"] != "FAILED", t._healthy, t._t, t))
        keep = max(0, desired - healthy)
        sd = svc.sd_of.get(primary["id"])
        if sd is not None and "_strategy" in sd and sd["status"] == "IN_PROGRESS" and sd["lifecycleStage"] != "CLEAN_UP":
            old = []  # blue keeps running beside green until CLEAN_UP
        for i, (good, _, _, t) in enumerate(sorted(old, key=lambda x: x[:3])):
            if not good or i < len(old) - keep:
                self.scale_in(svc, t)
        # Old deployments go away once all their tasks have stopped (a FAILED one when the rollback completes).
        s.deployments = [deps[0]] + [d for d in deps[1:] if d["rolloutState"] == "FAILED" or self.live(svc, d)]

    def live(self, svc, dep):
        return any(t._last != "STOPPED" for t in svc.tasks_of(dep["id"], False))

    def complete(self, svc):
        s = svc.service
        primary = s.deployments[0] if s.deployments else None
        if not primary or primary["rolloutState"] != "IN_PROGRESS" or any(self.live(svc, d) for d in s.deployments[1:]):
            return
        if "_strategy" in svc.sd_of[primary["id"]]:  # tick_strategy decides
            return
        alive = svc.tasks_of(primary["id"])
        if len(alive) == s.desired_count and all(t._healthy for t in alive):
            self.finish_primary(svc, primary)

    def finish_primary(self, svc, primary):
        """The primary deployment completed: the service's steady state on it."""
        s = svc.service
        s.deployments = [primary]
        primary.update(rolloutState="COMPLETED", rolloutStateReason=f"ECS deployment {primary['id']} completed.",
                       updatedAt=utcnow())
        svc.last_good = (primary["id"], primary["taskDefinition"])
        svc.last_good_rev = primary["_rev"]
        sd = svc.sd_of[primary["id"]]
        if sd["status"] in ("IN_PROGRESS", "ROLLBACK_IN_PROGRESS"):
            self.sd_finish(sd, "ROLLBACK_SUCCESSFUL" if primary.get("_rollback") else "SUCCESSFUL")
        svc.event(f"(deployment {primary['id']}) deployment completed.")
        svc.event("has reached a steady state.")

    def update_counts(self, svc):
        s = svc.service
        for d in s.deployments:
            tasks = svc.tasks_of(d["id"], False)
            running = sum(1 for t in tasks if t._last == "RUNNING")
            pending = sum(1 for t in tasks if t._last in ("PROVISIONING", "PENDING"))
            if (running, pending) != (d["runningCount"], d["pendingCount"]):
                d.update(runningCount=running, pendingCount=pending, updatedAt=utcnow())
        s.running_count = sum(d["runningCount"] for d in s.deployments)
        s.pending_count = sum(d["pendingCount"] for d in s.deployments)
        if s.deployments:
            s.task_definition = s.deployments[0]["taskDefinition"]

    def tick(self):
        for sid, svc in list(self.services.items()):
            s = svc.service
            gone = svc.backend.services.get(svc.key) is not s or s.status != "ACTIVE"
            for t in list(svc.tasks):
                self.tick_task(svc, t)
                if t._last == "STOPPED" and self.clock - t._t > KEEP_STOPPED:
                    svc.tasks.remove(t)
                    svc.backend.tasks.get(t.cluster_name, {}).pop(t.task_arn, None)
            if gone:  # deleted or replaced: stop everything, then forget it
                for t in svc.tasks:
                    if t.desired_status == "RUNNING":
                        self.scale_in(svc, t)
                if all(t._last == "STOPPED" for t in svc.tasks):
                    del self.services[sid]
                continue
            self.tick_alarms(svc)
            self.tick_strategy(svc)
            self.schedule(svc)
            self.update_counts(svc)
            svc.flush_events()
            self.complete(svc)
        for group in list(self.standalone.values()):
            for t in list(group.tasks):
                self.tick_task(group, t)
                if t._last == "STOPPED" and self.clock - t._t > KEEP_STOPPED:
                    group.tasks.remove(t)
                    group.backend.tasks.get(t.cluster_name, {}).pop(t.task_arn, None)
            group.flush_events()
        self.tick_targets()

    def dump(self):
        out = {"config": self.config, "clock": round(self.clock, 3), "services": [], "targets": []}
        for svc in self.services.values():
            s = svc.service
            out["services"].append({
                "serviceArn": s.arn, "serviceName": s.name, "cluster": s.cluster_name, "status": s.status,
                "desiredCount": s.desired_count, "runningCount": s.running_count, "pendingCount": s.pending_count,
                "taskDefinition": s.task_definition, "lastCompleted": svc.last_good,
                "deployments": s.deployments,
                "tasks": [{"taskId": t.id, "startedBy": t.started_by, "taskDefinitionArn": t.task_definition_arn,
                           "lastStatus": t._last, "desiredStatus": t.desired_status, "ip": t.ip,
                           "scenario": sorted(t._scn), "healthy": t._healthy, "stopCode": t.stop_code,
                           "stoppedReason": t.stopped_reason, "subnet": t._subnet} for t in svc.tasks],
                "fargateCapacity": self.capacity.get(svc.key)})
        out["oneOffTasks"] = [{"cluster": g.service.cluster_name, "taskId": t.id, "startedBy": t.started_by,
                               "taskDefinitionArn": t.task_definition_arn, "lastStatus": t._last,
                               "desiredStatus": t.desired_status, "stopCode": t.stop_code,
                               "stoppedReason": t.stopped_reason, "argv": (t._oneoff or {}).get("argv"),
                               "scenario": sorted(t._scn)}
                              for g in self.standalone.values() for t in g.tasks]
        for (tg, ip), st in self.targets.items():
            out["targets"].append({"targetGroupArn": tg, "id": ip, "port": st["port"], "state": st["state"],
                                   "reason": st["reason"], "taskId": st["task"].id})
        return out


SIM = Simulator()


def _loop():
    last = time.monotonic()
    while True:
        time.sleep(TICK)
        now = time.monotonic()
        dt, last = now - last, now
        with LOCK:
            if SIM.config["paused"]:
                continue
            SIM.clock += dt / SIM.config["time_scale"]
            try:
                SIM.tick()
            except Exception:  # noqa: BLE001 - keep ticking; say why in moto.log
                _log("tick failed:\n" + traceback.format_exc())


# --- the control endpoint: /shipkit-sim/* on moto's port, before moto's dispatcher ---

def _network(region):
    ec2 = ec2_backends[DEFAULT_ACCOUNT_ID][region]
    vpc = ec2.get_default_vpc()
    subnets = [sn.id for sn in ec2.describe_subnets(filters={"vpc-id": [vpc.id]})]
    return {"vpcId": vpc.id, "subnets": sorted(subnets), "securityGroupId": ec2.get_default_security_group(vpc.id).id}


def _control(environ, start_response):
    path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
    status, body = "200 OK", None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        raw = environ["wsgi.input"].read(length) if length else b""
        with LOCK:
            if path == "/shipkit-sim/config" and method in ("GET", "POST"):
                new = json.loads(raw or b"{}") if method == "POST" else {}
                cfg = dict(SIM.config)
                for k, v in new.items():
                    if k == "time_scale" and isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0:
                        cfg[k] = float(v)
                    elif k == "circuit_breaker_threshold" and (v is None or (type(v) is int and v >= 1)):
                        cfg[k] = v
                    elif k == "paused" and isinstance(v, bool):
                        cfg[k] = v
                    elif k == "ecr_proxy_endpoint" and (v is None or (isinstance(v, str) and v.startswith("127.0.0.1:")
                                                                      and v[10:].isdigit())):
                        cfg[k] = v
                    else:
                        raise ValueError(f"bad config {k}={v!r}")
                SIM.config = cfg
                body = cfg
            elif path == "/shipkit-sim/state" and method == "GET":
                body = SIM.dump()
            elif path == "/shipkit-sim/reset" and method == "POST":
                SIM.reset()
                body = {"status": "ok"}
            elif path == "/shipkit-sim/event" and method == "POST":
                ev = json.loads(raw or b"{}")
                if not isinstance(ev, dict) or not all(isinstance(ev.get(k), str) for k in ("cluster", "service",
                                                                                           "message")):
                    raise ValueError("an event needs cluster, service and message strings")
                key = f"{ev['cluster']}:{ev['service']}"
                SIM.queued.setdefault(key, []).append(ev["message"])
                body = {"queued": len(SIM.queued[key])}
            elif path == "/shipkit-sim/capacity" and method in ("GET", "POST"):
                if method == "POST":
                    req = json.loads(raw or b"{}")
                    if not isinstance(req, dict) or set(req) - {"cluster", "service", "fargate"} or \
                            not isinstance(req.get("cluster"), str) or \
                            not isinstance(req.get("service", ""), str) or \
                            not (req.get("fargate") is None or (type(req["fargate"]) is int and req["fargate"] >= 0)):
                        raise ValueError("capacity takes cluster and service (strings; no service: the cluster's "
                                         "one-off tasks) and fargate: the number of tasks Fargate can still place "
                                         "(>= 0), or null: no limit")
                    key = f"{req['cluster'].split('/')[-1]}:{req.get('service', '').split('/')[-1]}"
                    if req.get("fargate") is None:
                        SIM.capacity.pop(key, None)
                    else:
                        SIM.capacity[key] = req["fargate"]
                body = {"fargate": SIM.capacity}
            elif path == "/shipkit-sim/target-health" and method == "POST":
                # Fault injection: the health ELB reports for one registered target, whatever moto or
                # the simulator would say (reason codes no stack run produces: Target.InvalidState,
                # Target.IpUnusable, Elb.InternalError). {"state": null} clears it.
                req = json.loads(raw or b"{}")
                states = ("initial", "healthy", "unhealthy", "unused", "draining", "unavailable")
                if not isinstance(req, dict) or set(req) - {"targetGroupArn", "id", "state", "reason", "description"} \
                        or not all(isinstance(req.get(k), str) for k in ("targetGroupArn", "id")) \
                        or not (req.get("state") is None or req["state"] in states) \
                        or not all(req.get(k) is None or isinstance(req[k], str) for k in ("reason", "description")):
                    raise ValueError(f"target-health takes targetGroupArn and id (strings), state (one of {states}, "
                                     "or null to clear), reason and description (strings)")
                key = (req["targetGroupArn"], req["id"])
                if req.get("state") is None:
                    SIM.forced.pop(key, None)
                else:
                    SIM.forced[key] = (req["state"], req.get("reason"), req.get("description"))
                body = {"forced": len(SIM.forced)}
            elif path == "/shipkit-sim/hooks" and method in ("GET", "POST"):
                # What a lifecycle hook's Lambda function answers (default SUCCEEDED), by its ARN;
                # {"status": null} clears it.
                if method == "POST":
                    req = json.loads(raw or b"{}")
                    if not isinstance(req, dict) or set(req) - {"hookTargetArn", "status"} or \
                            not isinstance(req.get("hookTargetArn"), str) or \
                            req.get("status") not in (None, "SUCCEEDED", "FAILED", "TIMED_OUT"):
                        raise ValueError("hooks takes hookTargetArn (a string) and status: SUCCEEDED, FAILED, "
                                         "TIMED_OUT or null")
                    if req.get("status") is None:
                        SIM.hook_results.pop(req["hookTargetArn"], None)
                    else:
                        SIM.hook_results[req["hookTargetArn"]] = req["status"]
                body = {"hooks": SIM.hook_results}
            elif path == "/shipkit-sim/network" and method == "GET":
                qs = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
                body = _network(qs.get("region", "us-east-1"))
            else:
                status, body = "404 Not Found", {"error": f"no such endpoint: {method} {path}"}
    except (ValueError, TypeError, AttributeError) as e:
        status, body = "400 Bad Request", {"error": str(e)}
    data = json.dumps(body, default=str, indent=1).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


# --- hooks into moto ---

def _locked(fn):
    def call(*args, **kwargs):
        with LOCK:
            return fn(*args, **kwargs)
    call.__name__ = fn.__name__
    return call


def install():
    """Patch moto (once) and start the ticking thread."""
    if getattr(install, "done", False):
        return
    install.done = True
    for cls in (EC2ContainerServiceResponse, ELBV2Response, LogsResponse):
        cls.call_action = _locked(getattr(cls, "call_action", BaseResponse.call_action))

    create, update = EC2ContainerServiceResponse.create_service, EC2ContainerServiceResponse.update_service

    def create_service(self):
        result = create(self)
        s = result.result["service"]
        s.deployment_configuration = _deployment_config(self._get_param("deploymentConfiguration"))
        if (s.deployment_controller or {}).get("type", "ECS") == "ECS" and s.task_definition:
            SIM.on_create(self.ecs_backend, s)
        return result

    def update_service(self):
        svc = SIM.lookup(self.ecs_backend, self._get_param("cluster", "default"), self._get_param("service") or "")
        if svc is None:
            return update(self)
        saved, old_td = svc.service.deployments, svc.service.task_definition
        svc.service.deployments = []  # moto's forceNewDeployment would rewrite our PRIMARY in place
        try:
            result = update(self)
        finally:
            svc.service.deployments = saved
        SIM.on_update(svc, old_td, bool(self._get_param("forceNewDeployment")))
        return result

    EC2ContainerServiceResponse.create_service = create_service
    EC2ContainerServiceResponse.update_service = update_service

    def run_task(self):
        """RunTask as ECS runs it (moto's tasks would be RUNNING at once and never end)."""
        backend = self.ecs_backend
        cluster = str(self._get_param("cluster") or "default").split("/")[-1]
        if cluster not in backend.clusters:
            raise ClusterNotFoundException()
        td = backend.describe_task_definition(str(self._get_param("taskDefinition") or ""))
        net = self._get_param("networkConfiguration") or {}
        if td.network_mode == "awsvpc" and not (net.get("awsvpcConfiguration") or {}).get("subnets"):
            raise InvalidParameterException("Network Configuration must be provided when networkMode 'awsvpc' is "
                                            "specified.")
        req = {k: self._get_param(k) for k in ("launchType", "capacityProviderStrategy", "networkConfiguration",
                                               "overrides", "startedBy", "group", "tags", "platformVersion")}
        # The EC2 launch type (the default without a capacity provider strategy) in a cluster with no
        # container instance at all: ECS refuses the call (InvalidParameterException, API_RunTask.html
        # "Errors"; the message as ECS words it, docs/aws-fidelity.md) rather than listing failures.
        if (req["launchType"] or ("EC2" if not req["capacityProviderStrategy"] else None)) == "EC2" and not any(
                getattr(ci, "status", "ACTIVE") == "ACTIVE" for ci in backend.container_instances.get(cluster, {}).values()):
            raise InvalidParameterException("No Container Instances were found in your cluster.")
        tasks, failures = SIM.run_task(backend, cluster, td, self._get_int_param("count", 1), req)
        return ActionResult({"tasks": tasks, "failures": failures})

    EC2ContainerServiceResponse.run_task = run_task

    stop_task = EC2ContainerServiceResponse.stop_task

    def stop_task_like_ecs(self):
        """moto raises a bare Exception (HTTP 500) for a task it does not know, where ECS answers
        InvalidParameterException; and moto marks the task STOPPED at once, where ECS sets its desiredStatus
        and the task stops on its own time
        (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_StopTask.html)."""
        cluster = str(self._get_param("cluster") or "default").split("/")[-1]
        tid = str(self._get_param("task") or "").split("/")[-1]
        if cluster not in self.ecs_backend.clusters:
            raise ClusterNotFoundException()
        task = next((t for a, t in self.ecs_backend.tasks.get(cluster, {}).items() if tid and a.endswith("/" + tid)),
                    None)
        if task is None:
            raise InvalidParameterException("The referenced task was not found.")
        was = task._last if isinstance(task, SimTask) else None
        result = stop_task(self)
        if was is not None:  # ECS: desiredStatus STOPPED now, lastStatus as it goes (the clock moves it)
            task._last = was
        return result

    EC2ContainerServiceResponse.stop_task = stop_task_like_ecs

    # Service deployments, which moto does not have: ListServiceDeployments, DescribeServiceDeployments,
    # StopServiceDeployment (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListServiceDeployments.html,
    # API_DescribeServiceDeployments.html, API_StopServiceDeployment.html; docs/ecs-simulator.md).

    def _epoch(v):  # a timestamp parameter: moto may hand it over parsed (datetime) or as sent (epoch seconds)
        return v if v is None else v.timestamp() if hasattr(v, "timestamp") else float(v)

    def list_service_deployments(self):
        cluster = str(self._get_param("cluster") or "default").split("/")[-1]
        if cluster not in self.ecs_backend.clusters:
            raise ClusterNotFoundException()
        svc = SIM.lookup(self.ecs_backend, cluster, str(self._get_param("service") or ""))
        if svc is None:
            raise ServiceNotFoundException()
        statuses = self._get_param("status") or []
        created = self._get_param("createdAt") or {}
        after, before = _epoch(created.get("after")), _epoch(created.get("before"))
        rows = [sd for sd in svc.sdeps if (not statuses or sd["status"] in statuses)
                and (after is None or sd["createdAt"].timestamp() >= after)
                and (before is None or sd["createdAt"].timestamp() <= before)]
        size = self._get_int_param("maxResults") or 20
        if not 1 <= size <= 100:
            raise InvalidParameterException("maxResults must be between 1 and 100.")
        token = self._get_param("nextToken")
        start = 0
        if token:
            try:
                start = int(base64.b64decode(token).decode())
            except (ValueError, UnicodeDecodeError):
                raise InvalidParameterException("Invalid nextToken.") from None
        page = rows[start:start + size]
        out = {"serviceDeployments": [SIM.sd_brief(sd) for sd in page]}
        if start + size < len(rows):
            out["nextToken"] = base64.b64encode(str(start + size).encode()).decode()
        return ActionResult(out)

    def describe_service_deployments(self):
        arns = self._get_param("serviceDeploymentArns") or []
        found, failures = [], []
        for arn in arns:
            _, sd = SIM.find_service_deployment(arn)
            if sd is None:
                failures.append({"arn": arn, "reason": "MISSING"})
            else:
                found.append(SIM.sd_view(sd))
        return ActionResult({"serviceDeployments": found, "failures": failures})

    def stop_service_deployment(self):
        """stopType ROLLBACK (the only one botocore's model lists; the default): "rolls back the service
        deployment to the previous service revision. You can use this option even if you didn't configure
        the service deployment for the rollback option" (API_StopServiceDeployment.html)."""
        arn = str(self._get_param("serviceDeploymentArn") or "")
        svc, sd = SIM.find_service_deployment(arn)
        if sd is None:
            raise JsonRESTError("ServiceDeploymentNotFoundException", "The service deployment does not exist.")
        primary = svc.service.deployments[0] if svc.service.deployments else None
        if sd["status"] not in ("PENDING", "IN_PROGRESS") or primary is None or svc.sd_of.get(primary["id"]) is not sd:
            raise JsonRESTError("ConflictException", f"The service deployment is {sd['status']}; only one in "
                                                     "progress can be stopped.")
        if not svc.last_good:
            raise JsonRESTError("ConflictException", "The service has no previous service revision to roll back to.")
        if sd.get("lifecycleStage") == "CLEAN_UP":
            raise JsonRESTError("ConflictException", "The service deployment is in CLEAN_UP; the previous service "
                                                     "revision is being scaled in and cannot take the traffic back.")
        reason = "Service deployment rolled back because of a stop request."
        primary.update(rolloutState="FAILED", rolloutStateReason=reason, updatedAt=utcnow(), _launch=False)
        SIM.roll_back(svc, reason)
        svc.event(f"(deployment {primary['id']}) deployment stopped, rolling back to deployment "
                  f"{svc.service.deployments[0]['id']}.")
        return ActionResult({"serviceDeploymentArn": arn})

    def continue_service_deployment(self):
        """A PAUSE hook's answer: action CONTINUE or ROLLBACK (API_ContinueServiceDeployment.html)."""
        arn = str(self._get_param("serviceDeploymentArn") or "")
        hook_id, action = self._get_param("hookId"), self._get_param("action") or "CONTINUE"
        svc, sd = SIM.find_service_deployment(arn)
        if sd is None:
            raise JsonRESTError("ServiceDeploymentNotFoundException", "The service deployment does not exist.")
        hook = next((h for h in (sd.get("_st") or {}).get("hooks") or [] if h["hookId"] == hook_id), None)
        if hook is None or hook["targetType"] != "PAUSE" or hook["status"] != "AWAITING_ACTION" or \
                sd["status"] != "IN_PROGRESS":
            raise JsonRESTError("ConflictException", "The service deployment is not paused at that lifecycle hook.")
        hook["status"] = "SUCCEEDED" if action == "CONTINUE" else "FAILED"
        return ActionResult({"serviceDeploymentArn": arn})

    def describe_service_revisions(self):
        found, failures = [], []
        for arn in self._get_param("serviceRevisionArns") or []:
            got = SIM.revisions.get(arn)
            if got is None:
                failures.append({"arn": arn, "reason": "MISSING"})
                continue
            s, dep = got
            found.append({k: v for k, v in {"serviceRevisionArn": arn, "serviceArn": s.arn, "clusterArn": s.arn.replace(
                f":service/{s.cluster_name}/{s.name}", f":cluster/{s.cluster_name}"),
                "taskDefinition": dep["taskDefinition"], "launchType": dep.get("launchType"),
                "platformVersion": dep.get("platformVersion"), "platformFamily": dep.get("platformFamily"),
                "loadBalancers": list(s.load_balancers or []),
                "networkConfiguration": dep.get("networkConfiguration"), "createdAt": dep["createdAt"]}.items()
                          if v is not None})
        return ActionResult({"serviceRevisions": found, "failures": failures})

    EC2ContainerServiceResponse.continue_service_deployment = continue_service_deployment
    EC2ContainerServiceResponse.describe_service_revisions = describe_service_revisions
    EC2ContainerServiceResponse.list_service_deployments = list_service_deployments
    EC2ContainerServiceResponse.describe_service_deployments = describe_service_deployments
    EC2ContainerServiceResponse.stop_service_deployment = stop_service_deployment

    filter_events = LogsResponse.filter_log_events

    def filter_log_events_like_aws(self):
        """moto ignores FilterLogEvents' logStreamNamePrefix and searches every stream of the group; AWS
        searches the streams whose names start with it
        (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html)."""
        prefix, name = self._get_param("logStreamNamePrefix"), self._get_param("logGroupName")
        group = self.logs_backend.groups.get(name)
        if not prefix or self._get_param("logStreamNames") or group is None:
            return filter_events(self)
        names = [n for n in group.streams if n.startswith(prefix)]
        if not names:
            return json.dumps({"events": [], "searchedLogStreams": []})
        events, token, searched = self.logs_backend.filter_log_events(
            name, names, self._get_param("startTime"), self._get_param("endTime"), self._get_param("limit"),
            self._get_param("nextToken"), self._get_param("filterPattern"), self._get_param("interleaved", False))
        return json.dumps({"events": events, "nextToken": token, "searchedLogStreams": searched})

    LogsResponse.filter_log_events = filter_log_events_like_aws

    list_tasks = EC2ContainerServiceBackend.list_tasks

    def list_tasks_like_ecs(self, cluster_str=None, container_instance=None, family=None, started_by=None,
                            service_name=None, desiredStatus=None):
        # moto ignores serviceName and, without desiredStatus, returns stopped tasks too; ECS defaults to RUNNING.
        tasks = list_tasks(self, cluster_str, container_instance, family, started_by, None, desiredStatus or "RUNNING")
        if service_name:
            tasks = [t for t in tasks if t.group == f"service:{service_name.split('/')[-1]}"]
        return tasks

    EC2ContainerServiceBackend.list_tasks = list_tasks_like_ecs

    # moto reads HealthCheckEnabled as a boolean but keeps it only when it is the string "true" or
    # "false": a group created or modified with health checks off stays on. Keep what was asked.
    for op in ("create_target_group", "modify_target_group"):
        def keep_enabled(self, _orig=getattr(ELBV2Response, op)):
            result = _orig(self)
            enabled = self._get_param("HealthCheckEnabled")
            if enabled is not None:
                for tg in result.result.get("TargetGroups") or []:
                    tg.health_check_enabled = enabled in (True, "true")
            return result
        setattr(ELBV2Response, op, keep_enabled)

    health_for = FakeTargetGroup.health_for

    def health_for_sim(self, target, ec2_backend):
        """The simulator's targets as it moves them; others as moto has them, except that a registered
        target of a group no load balancer forwards to is unused (Target.NotInUse), and one of a group
        with health checks off is unavailable (Target.HealthCheckDisabled), as API_TargetHealth says."""
        forced = SIM.forced.get((self.arn, target["Id"]))
        if forced:
            h = health_for(self, target, ec2_backend)
            return FakeHealthStatus(h.instance_id, h.port, h.health_check_port, *forced)
        st = SIM.targets.get((self.arn, target["Id"]))
        if st is None:
            h = health_for(self, target, ec2_backend)
            if h.status == "healthy" and not self.load_balancer_arns:
                return FakeHealthStatus(h.instance_id, h.port, h.health_check_port, "unused", "Target.NotInUse",
                                        "Target group is not configured to receive traffic from the load balancer")
            if h.status == "healthy" and not getattr(self, "health_check_enabled", True):
                return FakeHealthStatus(h.instance_id, h.port, h.health_check_port, "unavailable",
                                        "Target.HealthCheckDisabled", "Health checks disabled")
            return h
        port = self.health_check_port if self.health_check_port not in (None, "traffic-port") else str(st["port"])
        return FakeHealthStatus(target["Id"], st["port"], port, st["state"], st["reason"], st["desc"])

    FakeTargetGroup.health_for = health_for_sim

    dispatch = DomainDispatcherApplication.__call__

    def call(self, environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/shipkit-sim/"):
            return _control(environ, start_response)
        return dispatch(self, environ, start_response)

    DomainDispatcherApplication.__call__ = call
    threading.Thread(target=_loop, name="ecs-sim", daemon=True).start()
    _log(f"ECS simulator on, time scale {SIM.config['time_scale']}")
