"""contract_rules.py: the documented cross-field rules of the AWS APIs that botocore's models cannot
say and moto does not hold (used by contract.py; the list, with sources, is in docs/aws-fidelity.md).

Each rule is a function of the request (contract.Request: .params as botocore names them, .region,
.account()) that raises contract.Refusal with the code AWS answers; it cites the page that
documents it. Rules run after the request passed its model's own constraints, so members have the
right types. Rules that look at state (a target group's load balancers, a task definition) read
moto's backends under the ECS simulator's lock.
"""
import json
import re

from contract import Refusal

RULES = {}


def rule(service, *operations):
    def add(fn):
        for op in operations:
            RULES.setdefault((service, op), []).append(fn)
        return fn
    return add


def check(req):
    for fn in RULES.get((req.service, req.operation), ()):
        fn(req, req.params)


def _lock():
    try:
        import ecs_sim  # noqa: PLC0415 - the simulator's lock guards moto's ECS/ELBv2/Logs state

        return ecs_sim.LOCK
    except ImportError:
        import threading  # noqa: PLC0415

        return threading.RLock()


# ---- ECS ---------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html
#   startedBy: "When you specify startedBy as the filter, it must be the only filter that you use";
#   ECS answers "cannot specify startedBy with other arguments". serviceName and family cannot be
#   combined. maxResults: "This value can be between 1 and 100".
LIST_TASKS_FILTERS = ("containerInstance", "family", "serviceName", "desiredStatus", "launchType", "daemonName")


@rule("ecs", "ListTasks")
def ecs_list_tasks(req, p):
    if "startedBy" in p and any(f in p for f in LIST_TASKS_FILTERS):
        raise Refusal("InvalidParameterException", "cannot specify startedBy with other arguments")
    if "serviceName" in p and "family" in p:
        raise Refusal("InvalidParameterException", "cannot specify serviceName and family together")
    if "maxResults" in p and not 1 <= p["maxResults"] <= 100:
        raise Refusal("InvalidParameterException", "maxResults must be between 1 and 100")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeTasks.html
#   tasks: "A list of up to 100 task IDs or full ARN entries."
@rule("ecs", "DescribeTasks")
def ecs_describe_tasks(req, p):
    if not p.get("tasks"):
        raise Refusal("InvalidParameterException", "Tasks cannot be empty.")
    if len(p["tasks"]) > 100:
        raise Refusal("InvalidParameterException", "Tasks cannot have more than 100 elements")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServices.html
#   services: "A list of services to describe. You may specify up to 10 services to describe."
@rule("ecs", "DescribeServices")
def ecs_describe_services(req, p):
    if not p.get("services"):
        raise Refusal("InvalidParameterException", "Services cannot be empty.")
    if len(p["services"]) > 10:
        raise Refusal("InvalidParameterException", "Services cannot have more than 10 elements")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RegisterTaskDefinition.html and
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ContainerDefinition.html
#   family and container names: "Up to 255 letters (uppercase and lowercase), numbers, underscores,
#   and hyphens are allowed"; containers are told apart by name; "All tasks must have at least one
#   essential container" (essential defaults to true); on EC2 without task-level memory each
#   container sets memory or memoryReservation; awsvpc port mappings: "the hostPort can either be
#   kept blank or be the same value as the containerPort"
#   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_PortMapping.html).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-tasks-services.html
#   Fargate: network mode awsvpc only, task-level cpu and memory, and only the listed cpu/memory
#   combinations (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_TaskDefinition.html, cpu).
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_execution_IAM_role.html
#   Fargate tasks that use the awslogs log driver need the task execution role.
NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,255}")
FARGATE_MEMORY = {  # task cpu units -> the memory (MiB) Fargate offers with it
    256: [512, 1024, 2048],
    512: list(range(1024, 4097, 1024)),
    1024: list(range(2048, 8193, 1024)),
    2048: list(range(4096, 16385, 1024)),
    4096: list(range(8192, 30721, 1024)),
    8192: list(range(16384, 61441, 4096)),
    16384: list(range(32768, 122881, 8192)),
}


def _units(value, per_unit):
    """'256' -> 256, '1 vCPU' -> 1024, '2 GB' -> 2048 (per_unit 1024); None when unreadable."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(vcpu|gb)?\s*", str(value), re.I)
    if not m:
        return None
    n = float(m.group(1)) * (per_unit if m.group(2) else 1)
    return int(n) if n == int(n) else None


@rule("ecs", "RegisterTaskDefinition")
def ecs_register_task_definition(req, p):
    bad = "ClientException"
    if not NAME_RE.fullmatch(p["family"]):
        raise Refusal(bad, "Family contains invalid characters: up to 255 letters (uppercase and lowercase), "
                           "numbers, underscores, and hyphens are allowed.")
    containers = p.get("containerDefinitions") or []
    if not containers:
        raise Refusal(bad, "Container list cannot be empty.")
    names = set()
    for c in containers:
        name = c.get("name")
        if not name or not NAME_RE.fullmatch(name):
            raise Refusal(bad, f"Container.name '{name or ''}' is invalid: up to 255 letters (uppercase and "
                               "lowercase), numbers, underscores, and hyphens are allowed.")
        if name in names:
            raise Refusal(bad, f"Duplicate container name '{name}': container names must be unique within a "
                               "task definition.")
        names.add(name)
    if not any(c.get("essential", True) for c in containers):
        raise Refusal(bad, "Task definition must have at least one essential container.")
    fargate = "FARGATE" in (p.get("requiresCompatibilities") or [])
    mode = p.get("networkMode")
    if fargate:
        if mode != "awsvpc":
            raise Refusal(bad, "Fargate only supports network mode \u2018awsvpc\u2019.")
        if "cpu" not in p:
            raise Refusal(bad, "Fargate requires that 'cpu' be defined at the task level.")
        if "memory" not in p:
            raise Refusal(bad, "Fargate requires that 'memory' be defined at the task level.")
        cpu, mem = _units(p["cpu"], 1024), _units(p["memory"], 1024)
        if cpu not in FARGATE_MEMORY or mem not in FARGATE_MEMORY[cpu]:
            raise Refusal(bad, f"No Fargate configuration exists for given values: {p['cpu']} CPU, {p['memory']} "
                               "memory. See the Amazon ECS documentation for the valid values.")
        if "executionRoleArn" not in p and any((c.get("logConfiguration") or {}).get("logDriver") == "awslogs"
                                               for c in containers):
            raise Refusal(bad, "Fargate requires task definition to have execution role ARN to support log "
                               "driver awslogs.")
    elif "memory" not in p:
        for c in containers:
            if "memory" not in c and "memoryReservation" not in c:
                raise Refusal(bad, f"Invalid setting for container '{c['name']}'. At least one of 'memory' or "
                                   "'memoryReservation' must be specified.")
    if mode == "awsvpc" or fargate:
        for c in containers:
            for pm in c.get("portMappings") or []:
                if "hostPort" in pm and "containerPort" in pm and pm["hostPort"] != pm["containerPort"]:
                    raise Refusal(bad, "When networkMode=awsvpc, the host ports and container ports in port "
                                       "mappings must match.")


def _task_definition(req, ref):
    from moto.ecs.models import ecs_backends  # noqa: PLC0415

    try:
        return ecs_backends[req.account()][req.region].describe_task_definition(ref)
    except Exception:  # noqa: BLE001 - not found: moto's own handler answers that
        return None


def _target_group(arn):
    from moto.elbv2.models import elbv2_backends  # noqa: PLC0415

    parts = arn.split(":")
    if len(parts) < 6:
        return None
    try:
        return elbv2_backends[parts[4]][parts[3]].target_groups.get(arn)
    except KeyError:
        return None


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CreateService.html and
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html
#   loadBalancers: the target group must be associated with a load balancer (a listener or rule
#   forwards to it), the container and port must be in the task definition, and "If your service's
#   task definition uses the awsvpc network mode ... you must choose ip as the target type"
#   (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html);
#   networkConfiguration: "This parameter is required for task definitions that use the awsvpc network
#   mode"; launchType FARGATE needs a task definition compatible with Fargate.
# https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb.html ("register the target group
#   with a load balancer listener before creating the service").
@rule("ecs", "CreateService", "UpdateService")
def ecs_service_load_balancers(req, p):
    create = req.operation == "CreateService"
    td = p.get("taskDefinition")
    with _lock():
        tdef = _task_definition(req, td) if td else None
        mode = getattr(tdef, "network_mode", None)
        if create and tdef is not None:
            if mode == "awsvpc" and "networkConfiguration" not in p:
                raise Refusal("InvalidParameterException",
                              "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
            if p.get("launchType") == "FARGATE" and "FARGATE" not in (tdef.requires_compatibilities or []):
                raise Refusal("InvalidParameterException", "Task definition does not support launch_type FARGATE.")
        for lb in p.get("loadBalancers") or []:
            arn = lb.get("targetGroupArn")
            if not arn:
                continue
            tg = _target_group(arn)
            if tg is None:
                continue  # moto answers for a target group that does not exist
            if not tg.load_balancer_arns:
                raise Refusal("InvalidParameterException",
                              f"The target group with targetGroupArn {arn} does not have an associated load balancer.")
            if mode == "awsvpc" and tg.target_type != "ip":
                raise Refusal("InvalidParameterException",
                              f"The provided target group {arn} has target type {tg.target_type}, which is "
                              "incompatible with the awsvpc network mode specified in the task definition.")
            if tdef is not None and lb.get("containerName"):
                c = next((c for c in tdef.container_definitions if c.get("name") == lb["containerName"]), None)
                ports = [pm.get("containerPort") for pm in (c or {}).get("portMappings") or []]
                if c is None or lb.get("containerPort") not in ports:
                    raise Refusal("InvalidParameterException",
                                  f"The container {lb['containerName']} did not have a container port "
                                  f"{lb.get('containerPort')} defined.")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentConfiguration.html:
#   bakeTimeInMinutes: "You must provide this parameter when you use the BLUE_GREEN deployment
#   strategy"; linearConfiguration "Only valid when the deployment strategy is
#   LINEAR", canaryConfiguration "Only valid when the deployment strategy is CANARY". The messages
#   are the layer's (the reference gives none).
@rule("ecs", "CreateService", "UpdateService")
def ecs_deployment_strategy(req, p):
    dc = p.get("deploymentConfiguration") or {}
    strategy = dc.get("strategy")  # absent from an UpdateService: the service's own, which the layer does not look up
    if strategy is None:
        return
    if strategy == "BLUE_GREEN" and "bakeTimeInMinutes" not in dc:
        raise Refusal("InvalidParameterException", "bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy")
    for member, needs in (("linearConfiguration", "LINEAR"), ("canaryConfiguration", "CANARY")):
        if member in dc and strategy != needs:
            raise Refusal("InvalidParameterException", f"{member} is only valid with the {needs} deployment strategy")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceDeployments.html:
#   serviceDeploymentArns: "You can specify a maximum of 20 ARNs."
@rule("ecs", "DescribeServiceDeployments")
def ecs_describe_service_deployments(req, p):
    if len(p.get("serviceDeploymentArns") or []) > 20:
        raise Refusal("InvalidParameterException", "serviceDeploymentArns can have at most 20 ARNs")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeregisterTaskDefinition.html: "You
#   can't use an INACTIVE task definition to run new tasks or create new services, and you can't update
#   an existing service to reference an INACTIVE task definition" (ECS answers ClientException
#   "TaskDefinition is inactive"). The documented window of up to 10 minutes in which ECS may still take
#   one is not reproduced: the layer refuses at once (docs/aws-fidelity.md).
@rule("ecs", "CreateService", "UpdateService", "RunTask")
def ecs_inactive_task_definition(req, p):
    td = p.get("taskDefinition")
    if not td:
        return
    with _lock():
        tdef = _task_definition(req, td)
        if tdef is not None and getattr(tdef, "status", "ACTIVE") != "ACTIVE":
            raise Refusal("ClientException", "TaskDefinition is inactive")


# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_RunTask.html
#   count: "You can specify up to 10 tasks for each call"; capacityProviderStrategy: "If a
#   capacityProviderStrategy is specified, the launchType parameter must be omitted"; propagateTags:
#   "An error will be received if you specify the SERVICE option when running a task"; startedBy: "Up
#   to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward slash (/), and underscores
#   (_) are allowed"; clientToken: "Up to 64 characters are allowed. The valid characters are characters
#   in the range of 33-126, inclusive"; overrides: "A total of 8192 characters are allowed for
#   overrides. This limit includes the JSON formatting characters of the override structure";
#   networkConfiguration: "required for task definitions that use the awsvpc network mode ..., and it
#   isn't supported for other network modes"; launchType FARGATE needs a Fargate-compatible task
#   definition (as CreateService, above).
STARTED_BY_RE = re.compile(r"[A-Za-z0-9/_-]{1,128}")
CLIENT_TOKEN_RE = re.compile(r"[\x21-\x7e]{1,64}")


@rule("ecs", "RunTask")
def ecs_run_task(req, p):
    bad = "InvalidParameterException"
    if "count" in p and not 1 <= p["count"] <= 10:
        raise Refusal(bad, "count must be between 1 and 10: you can specify up to 10 tasks for each call.")
    if "launchType" in p and "capacityProviderStrategy" in p:
        raise Refusal(bad, "Specifying both a launch type and capacity provider strategy is not supported. Remove "
                           "one and try again.")
    if p.get("propagateTags") == "SERVICE":
        raise Refusal(bad, "The SERVICE option of propagateTags cannot be used when running a task.")
    if "startedBy" in p and not STARTED_BY_RE.fullmatch(p["startedBy"]):
        raise Refusal(bad, "startedBy: up to 128 letters (uppercase and lowercase), numbers, hyphens (-), forward "
                           "slash (/), and underscores (_) are allowed.")
    if "clientToken" in p and not CLIENT_TOKEN_RE.fullmatch(p["clientToken"]):
        raise Refusal(bad, "clientToken: up to 64 characters in the range of 33-126 are allowed.")
    if "overrides" in p and len(json.dumps(p["overrides"], separators=(",", ":"), ensure_ascii=False)) > 8192:
        raise Refusal(bad, "Container Overrides length must be at most 8192.")
    with _lock():
        tdef = _task_definition(req, p["taskDefinition"])
        if tdef is None:
            return  # moto's handler answers ClientException
        if tdef.network_mode == "awsvpc" and "networkConfiguration" not in p:
            raise Refusal(bad, "Network Configuration must be provided when networkMode 'awsvpc' is specified.")
        if tdef.network_mode != "awsvpc" and "networkConfiguration" in p:
            raise Refusal(bad, "Network Configuration is not valid for the given networkMode of this task "
                               "definition.")
        if p.get("launchType") == "FARGATE" and "FARGATE" not in (tdef.requires_compatibilities or []):
            raise Refusal(bad, "Task definition does not support launch_type FARGATE.")


# ---- CloudWatch Logs -----------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_FilterLogEvents.html
#   "If you specify both logStreamNames and logStreamNamePrefix, the action returns an
#   InvalidParameterException error"; logGroupIdentifier: "You must include either
#   logGroupIdentifier or logGroupName, but not both" (GetLogEvents too:
#   https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_GetLogEvents.html).
@rule("logs", "FilterLogEvents", "GetLogEvents")
def logs_group(req, p):
    if ("logGroupName" in p) == ("logGroupIdentifier" in p):
        raise Refusal("InvalidParameterException",
                      "You must include either logGroupIdentifier or logGroupName, but not both.")
    if "logStreamNames" in p and "logStreamNamePrefix" in p:
        raise Refusal("InvalidParameterException", "Cannot specify both logStreamNames and logStreamNamePrefix.")


# GetLogEvents, nextToken: "If you are using a previous nextForwardToken value as the nextToken in
# this operation, you must specify true for startFromHead." (forward tokens start with "f/")
@rule("logs", "GetLogEvents")
def logs_get_log_events(req, p):
    if str(p.get("nextToken", "")).startswith("f/") and p.get("startFromHead") is not True:
        raise Refusal("InvalidParameterException",
                      "startFromHead must be true when nextToken is a previous nextForwardToken.")


# ---- SSM Parameter Store -----------------------------------------------------------------------
# https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
#   Tags: to tag an existing parameter use AddTagsToResource; SSM refuses Tags with Overwrite.
#   Value: "Standard parameters have a value limit of 4 KB. Advanced parameters have a value limit
#   of 8 KB." (Tier defaults to Standard.)
# https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-paramstore-su-create.html
#   parameter names: letters, numbers and .-_ in sub-paths split by "/"; not prefixed with aws or
#   ssm (case-insensitive); a hierarchy is fully qualified (starts with "/") and has at most 15
#   levels; at most 1011 characters.
SSM_NAME_RE = re.compile(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
SSM_NAME_MSG = ('Parameter name: can\'t be prefixed with "aws" or "ssm" (case-insensitive). If formed as a path, it '
                "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of letters, "
                "numbers and the following 3 symbols .-_")


def ssm_name(name):
    """Refuse an SSM parameter name (not an ARN) the way PutParameter does."""
    if len(name) > 1011:
        raise Refusal("ValidationException", "Parameter name must be at most 1011 characters.")
    if not SSM_NAME_RE.fullmatch(name) or re.match(r"/?(aws|ssm)", name, re.I):
        raise Refusal("ValidationException", SSM_NAME_MSG)
    if "/" in name and not name.startswith("/"):
        raise Refusal("ValidationException", "Parameter name must be a fully qualified name.")
    if name.count("/") > 15:
        raise Refusal("HierarchyLevelLimitExceededException",
                      "A hierarchy can have a maximum of 15 levels. For more information, see Requirements and "
                      "constraints for parameter names in the AWS Systems Manager User Guide.")


@rule("ssm", "PutParameter")
def ssm_put_parameter(req, p):
    ssm_name(p["Name"])
    if p.get("Tags") and p.get("Overwrite") is True:
        raise Refusal("ValidationException",
                      "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, "
                      "please remove overwrite flag. To update tags for an existing parameter, please use "
                      "AddTagsToResource or RemoveTagsFromResource.")
    tier = p.get("Tier", "Standard")
    limit = 4096 if tier == "Standard" else 8192
    if len(p["Value"]) > limit:
        if tier == "Standard":
            raise Refusal("ValidationException",
                          "Standard tier parameters support a maximum parameter value of 4096 characters. To create "
                          "a larger parameter value, upgrade the parameter to use the advanced-parameter tier.")
        raise Refusal("ValidationException", "Advanced tier parameters support a maximum parameter value of 8192 "
                                             "characters.")


# ---- Secrets Manager ---------------------------------------------------------------------------
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_CreateSecret.html,
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_PutSecretValue.html,
# https://docs.aws.amazon.com/secretsmanager/latest/apireference/API_UpdateSecret.html
#   SecretString/SecretBinary: "Either SecretString or SecretBinary must have a value, but not both"
#   (PutSecretValue: "You must include SecretBinary or SecretString, but not both", unless it
#   carries a RotationToken). Name: "The secret name can contain ASCII letters, numbers, and the
#   following characters: /_+=.@-". ClientRequestToken (32 to 64 characters) is in the model.
SM_NAME_RE = re.compile(r"[A-Za-z0-9/_+=.@-]+")


@rule("secretsmanager", "CreateSecret", "PutSecretValue", "UpdateSecret")
def sm_secret_value(req, p):
    if "SecretString" in p and "SecretBinary" in p:
        raise Refusal("InvalidParameterException",
                      "You can't specify both a binary secret value and a string secret value in the same secret.")
    if req.operation == "PutSecretValue" and "SecretString" not in p and "SecretBinary" not in p \
            and "RotationToken" not in p:
        raise Refusal("InvalidParameterException", "You must provide either SecretString or SecretBinary.")
    if req.operation == "CreateSecret" and not SM_NAME_RE.fullmatch(p["Name"]):
        raise Refusal("ValidationException", "Invalid name. Must be a valid name containing alphanumeric characters, "
                                             "or any of the following: -/_+=.@!")


# ---- RDS -----------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribeDBInstances.html and
# https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_DescribePendingMaintenanceActions.html
#   MaxRecords: "Default: 100. Constraints: Minimum 20, maximum 100."; the filters each supports.
RDS_FILTERS = {"DescribeDBInstances": {"db-cluster-id", "db-instance-id", "dbi-resource-id", "domain", "engine"},
               "DescribePendingMaintenanceActions": {"db-cluster-id", "db-instance-id"}}


@rule("rds", "DescribeDBInstances", "DescribePendingMaintenanceActions")
def rds_describe(req, p):
    if "MaxRecords" in p and not 20 <= p["MaxRecords"] <= 100:
        raise Refusal("InvalidParameterValue", f"Invalid value {p['MaxRecords']} for MaxRecords. Must be between 20 "
                                               "and 100")
    for f in p.get("Filters") or []:
        if f.get("Name") not in RDS_FILTERS[req.operation]:
            raise Refusal("InvalidParameterValue", f"Unrecognized filter name: {f.get('Name')}.")


# ---- STS -----------------------------------------------------------------------------------------
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html and
# https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRoleWithWebIdentity.html
#   DurationSeconds: "from 900 seconds (15 minutes) up to the maximum session duration set for the
#   role"; more fails ("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.").
@rule("sts", "AssumeRole", "AssumeRoleWithWebIdentity")
def sts_duration(req, p):
    if "DurationSeconds" not in p:
        return
    from moto.iam.models import iam_backends  # noqa: PLC0415

    arn = p["RoleArn"]
    parts = arn.split(":")
    if len(parts) < 6:
        return
    try:
        backend = iam_backends[parts[4]][parts[1]]
        role = backend.get_role(parts[5].split("/")[-1])
    except Exception:  # noqa: BLE001 - no such role: moto answers
        return
    limit = int(getattr(role, "max_session_duration", None) or 3600)
    if p["DurationSeconds"] > limit:
        raise Refusal("ValidationError", f"The requested DurationSeconds exceeds the MaxSessionDuration set for this "
                                         f"role.")
