#!/usr/bin/env bats
# deploy-policy: infra/policies/deployer.json, rendered for the stack as infra/iam.tf renders it,
# is the ONLY policy of an IAM user, and the deploy path runs with that user's keys alone:
# config-aws (ssm-put, secret-put under ml-cicd), deploy-aws (ecs-roll, tg-health --wait), run-aws (ecs-run) and
# status-aws/logs-aws (ecs-roll --status/--logs) against the simulated ECS. Calls outside the
# policy are denied: AccessDenied naming the action and resource, exit 4.
#
# This is meaningful because moto_plus.py authorizes ECS, SSM, Secrets Manager, Logs, ELBv2, ECR
# and RDS requests against the ARN they name (plus ECS's ecs:cluster condition key); plain moto
# checks every action against "*", which a resource-scoped policy never matches.
#
# The stack's env has no IAM admin keys (shipkit-ci may not call iam:*), so the fixtures (the
# user and its policy, the task roles, the KMS key, cluster, target group, task definition and
# services) are made with authentication switched off for a moment: POST "inf" to moto's
# /moto-api/reset-auth, create them, POST "0" to switch it back on (what tests/stack/up does at
# start). teardown switches it on again whatever happened. The names are fixed (they are the
# policy's), so everything is found-or-created and a rerun in the same stack works.
# bats file_tags=ecs,iam

load helpers/common

ACCOUNT=123456789012
REGION=us-east-1
CLUSTER=ml-cicd-cluster
SERVICE=ml-model-service
OTHER_SERVICE=ml-other-service
FAMILY=ml-model-service
LOG_GROUP=/ecs/ml-model-service
DEPLOYER=shipkit-deployer

# reset_auth VALUE: moto's INITIAL_NO_AUTH_ACTION_COUNT ("inf": off, "0": on); fails unless ok.
# (Content-Type matters: with curl's default form type, Flask eats the body and moto 500s.)
reset_auth() {
    local r
    r=$(curl -s --max-time 5 -X POST -H 'Content-Type: text/plain' --data-binary "$1" \
        "$AWS_ENDPOINT_URL/moto-api/reset-auth") || return 1
    [[ $r == *'"status": "ok"'* || $r == *'"status":"ok"'* ]]
}

# as_deployer CMD...: run CMD with the deployer user's keys and nothing else.
as_deployer() {
    AWS_ACCESS_KEY_ID=$DEPLOYER_KEY_ID AWS_SECRET_ACCESS_KEY=$DEPLOYER_SECRET "$@"
}

# deployer_fixture: the first test of the file makes the fixtures (auth off, see the header) and
# saves the deployer's keys in $BATS_FILE_TMPDIR/deployer.env; later tests only read that.
deployer_fixture() {
    local envf=$BATS_FILE_TMPDIR/deployer.env py net rc=0
    if [[ ! -f $envf ]]; then
        py=$(pyref) && "$py" -c 'import boto3' 2>/dev/null || skip "no python3 with boto3"
        net=$(curl -sf --max-time 2 "$AWS_ENDPOINT_URL/shipkit-sim/network") || fail "no /shipkit-sim/network"
        reset_auth inf || fail "could not switch authentication off"
        SK_NET=$net SK_ENVF=$envf "$py" - >"$BATS_FILE_TMPDIR/fixture.log" 2>&1 <<'EOF' || rc=$?
import json, os, subprocess, time
import boto3

A, R = "123456789012", "us-east-1"
CLUSTER, SERVICE, OTHER, FAMILY = "ml-cicd-cluster", "ml-model-service", "ml-other-service", "ml-model-service"
LOG_GROUP, USER = "/ecs/ml-model-service", "shipkit-deployer"
net = json.loads(os.environ["SK_NET"])
kw = dict(endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name=R)
iam, kms = boto3.client("iam", **kw), boto3.client("kms", **kw)
ecs, elbv2 = boto3.client("ecs", **kw), boto3.client("elbv2", **kw)

def role(name):
    try:
        return iam.get_role(RoleName=name)["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                 "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}
        return iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]

task_role, exec_role = role("ml-cicd-pipeline-ecs-task"), role("ml-cicd-pipeline-ecs-task-execution")
key_arn = kms.create_key(Description="ml-cicd stack key (deploy-policy.bats)")["KeyMetadata"]["Arn"]

# infra/iam.tf's templatefile() call, with this stack's names.
policy = subprocess.run([os.environ["REPO"] + "/tests/stack/render-policy",
    os.environ["REPO"] + "/infra/policies/deployer.json", "partition=aws", f"region={R}", f"account_id={A}",
    "ecr_repository=ml-model-service", f"ecs_cluster={CLUSTER}", f"ecs_service={SERVICE}",
    f"task_family={FAMILY}", f"log_group={LOG_GROUP}", f"task_role_arn={task_role}",
    f"execution_role_arn={exec_role}", "db_instance=ml-cicd-database", "ssm_prefix=ml-cicd",
    "secret_prefix=ml-cicd", f"kms_key_arn={key_arn}"], check=True, capture_output=True, text=True).stdout

# The user, with deployer.json as its only policy and one fresh key.
try:
    iam.create_user(UserName=USER)
except iam.exceptions.EntityAlreadyExistsException:
    pass
for name in iam.list_user_policies(UserName=USER)["PolicyNames"]:
    iam.delete_user_policy(UserName=USER, PolicyName=name)
for p in iam.list_attached_user_policies(UserName=USER)["AttachedPolicies"]:
    iam.detach_user_policy(UserName=USER, PolicyArn=p["PolicyArn"])
for g in iam.list_groups_for_user(UserName=USER)["Groups"]:
    iam.remove_user_from_group(UserName=USER, GroupName=g["GroupName"])
for k in iam.list_access_keys(UserName=USER)["AccessKeyMetadata"]:
    iam.delete_access_key(UserName=USER, AccessKeyId=k["AccessKeyId"])
iam.put_user_policy(UserName=USER, PolicyName="ml-cicd-pipeline-deployer", PolicyDocument=policy)
key = iam.create_access_key(UserName=USER)["AccessKey"]

# The ECS side: cluster, target group and its load balancer, a task definition revision as
# Terraform registers it, the service behind the target group (created, or put back on that
# revision), and a second service.
ecs.create_cluster(clusterName=CLUSTER)
try:
    tg = elbv2.describe_target_groups(Names=[SERVICE])["TargetGroups"][0]["TargetGroupArn"]
except elbv2.exceptions.TargetGroupNotFoundException:
    tg = elbv2.create_target_group(Name=SERVICE, Protocol="HTTP", Port=8080, VpcId=net["vpcId"],
                                   TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
# A load balancer that forwards to it, or ECS refuses the service (docs/aws-fidelity.md).
subprocess.run([os.environ["REPO"] + "/tests/stack/alb", SERVICE, tg], check=True, stdout=subprocess.DEVNULL)
td = ecs.register_task_definition(
    family=FAMILY, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256", memory="512",
    taskRoleArn=task_role, executionRoleArn=exec_role,
    containerDefinitions=[{"name": "app", "image": "example/model:bootstrap", "essential": True,
                           "portMappings": [{"containerPort": 8080}],
                           "logConfiguration": {"logDriver": "awslogs", "options": {
                               "awslogs-group": LOG_GROUP, "awslogs-region": R, "awslogs-stream-prefix": "ecs"}}}],
)["taskDefinition"]["taskDefinitionArn"]
netconf = {"awsvpcConfiguration": {"subnets": net["subnets"], "securityGroups": [net["securityGroupId"]]}}

def active(name):
    s = ecs.describe_services(cluster=CLUSTER, services=[name])["services"]
    return bool(s) and s[0]["status"] == "ACTIVE"

for name, count, lbs in ((SERVICE, 2, [{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080}]),
                         (OTHER, 1, [])):
    if active(name):
        ecs.update_service(cluster=CLUSTER, service=name, taskDefinition=td, desiredCount=count)
    else:
        ecs.create_service(cluster=CLUSTER, serviceName=name, taskDefinition=td, desiredCount=count,
                           launchType="FARGATE", networkConfiguration=netconf, loadBalancers=lbs,
                           deploymentConfiguration={"deploymentCircuitBreaker": {"enable": True, "rollback": True}})
for _ in range(300):
    deps = ecs.describe_services(cluster=CLUSTER, services=[SERVICE])["services"][0]["deployments"]
    if len(deps) == 1 and deps[0].get("rolloutState") == "COMPLETED" and deps[0]["taskDefinition"] == td:
        break
    time.sleep(0.1)
else:
    raise SystemExit(f"the first deployment of {SERVICE} did not complete: {deps}")
# The database the policy names (rds-check), in the service's subnets and security group, on the
# stack's PostgreSQL when there is one.
rds = boto3.client("rds", **kw)
try:
    rds.describe_db_instances(DBInstanceIdentifier="ml-cicd-database")
except rds.exceptions.DBInstanceNotFoundFault:
    try:
        rds.create_db_subnet_group(DBSubnetGroupName="ml-cicd-database", DBSubnetGroupDescription="db",
                                   SubnetIds=net["subnets"])
    except rds.exceptions.DBSubnetGroupAlreadyExistsFault:
        pass
    rds.create_db_instance(DBInstanceIdentifier="ml-cicd-database", Engine="postgres", DBInstanceClass="db.t3.micro",
                           MasterUsername="app", MasterUserPassword="not-the-password", AllocatedStorage=20,
                           Port=int(os.environ.get("SK_PG_PORT") or 5432), StorageEncrypted=True,
                           DBSubnetGroupName="ml-cicd-database", VpcSecurityGroupIds=[net["securityGroupId"]])
with open(os.environ["SK_ENVF"], "w") as f:
    f.write(f"DEPLOYER_KEY_ID={key['AccessKeyId']}\nDEPLOYER_SECRET={key['SecretAccessKey']}\n"
            f"BASE_TD={td}\nTG_ARN={tg}\n")
EOF
        reset_auth 0 || fail "could not switch authentication back on"
        ((rc == 0)) || fail "fixtures failed (exit $rc): $(cat "$BATS_FILE_TMPDIR/fixture.log")"
    fi
    # shellcheck disable=SC1090
    source "$envf"
}

setup() {
    need_tool ecs-roll
    need_tool tg-health
    use_stack
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/state" ||
        skip "no ECS simulator in the stack"
    curl -sf --max-time 2 -o /dev/null -H 'Content-Type: application/json' \
        --data '{"time_scale": 0.1}' "$AWS_ENDPOINT_URL/shipkit-sim/config" || fail "cannot configure the ECS simulator"
    export SK_POLL_SCALE=0.1
    deployer_fixture
}

# common.bash's teardown (the crash check), after making sure authentication is on again.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
        reset_auth 0 || echo "# deploy-policy: could not switch moto's authentication back on" >&2
    fi
    common_teardown
}

# assert_denied TOOL ACTION RESOURCE: the last `run --separate-stderr` exited 4 with one line,
# AccessDenied for the deployer, naming ACTION and RESOURCE.
assert_denied() {
    assert_equal "$status" 4
    assert_error_line "$1" AccessDenied
    [[ $stderr == *"user/$DEPLOYER is not authorized to perform: $2 on resource: $3"* ]] ||
        fail "AccessDenied does not name $2 on $3: $stderr"
}

@test "the deployer user's only policy is infra/policies/deployer.json, fully rendered" {
    # IAM reads need authentication off (shipkit-ci may not call iam:*); teardown switches it on.
    reset_auth inf || fail "could not switch authentication off"
    [[ $(awsref iam list-attached-user-policies --user-name "$DEPLOYER" --query 'length(AttachedPolicies)') == 0 ]] ||
        fail "managed policies attached"
    assert_equal "$(awsref iam list-user-policies --user-name "$DEPLOYER" --query 'PolicyNames' --output text)" \
        ml-cicd-pipeline-deployer
    local doc
    doc=$(awsref iam get-user-policy --user-name "$DEPLOYER" --policy-name ml-cicd-pipeline-deployer \
        --query PolicyDocument --output json)
    reset_auth 0 || fail "could not switch authentication back on"
    [[ $doc != *'${'* ]] || fail "a placeholder is left: $doc"
    [[ $doc == *"arn:aws:ecs:$REGION:$ACCOUNT:service/$CLUSTER/$SERVICE"* ]] || fail "$doc"
    # Every placeholder the template has is one infra/README.md documents, and the other way round.
    assert_equal "$(grep -o '\${[a-z_]*}' "$REPO/infra/policies/deployer.json" | sort -u)" \
        "$(sed -n '/^## `policies\/deployer.json` placeholders/,/^## /p' "$REPO/infra/README.md" |
            grep -o '^| `\${[a-z_]*}`' | grep -o '\${[a-z_]*}' | sort -u)"
    # The helper refuses a template it cannot fill completely.
    run -1 --separate-stderr "$REPO/tests/stack/render-policy" "$REPO/infra/policies/deployer.json" partition=aws
    [[ $stderr == *"no value for"*"account_id"* ]] || fail "$stderr"
}

@test "config-aws with only deployer.json: ssm-put and secret-put under ml-cicd" {
    local v=s3://ml-cicd-artifacts-$RANDOM/artifacts pw
    pw=$(canary deploy-policy-db-password)
    run -0 --separate-stderr as_deployer ssm-put --tag project=ml-cicd /ml-cicd/mlflow/artifact-root "$v"
    assert_output --regexp '^/ml-cicd/mlflow/artifact-root version [0-9]+$'
    run -0 --separate-stderr as_deployer ssm-put --skip-unchanged /ml-cicd/mlflow/artifact-root "$v"
    assert_equal "$(awsref ssm get-parameter --name /ml-cicd/mlflow/artifact-root --query Parameter.Value \
        --output text)" "$v"
    printf '{"username":"mlflow","password":"%s"}' "$pw" >"$BATS_TEST_TMPDIR/db.json"
    # Created on the first run in a stack (CreateSecret), a new version plus description and tags after.
    run -0 --separate-stderr as_deployer secret-put --description "MLflow database user" --tag project=ml-cicd \
        --value-file "$BATS_TEST_TMPDIR/db.json" ml-cicd/database
    refute_leak "$pw"
    run -0 --separate-stderr as_deployer secret-put --skip-unchanged --value-file "$BATS_TEST_TMPDIR/db.json" \
        ml-cicd/database
    [[ $(awsref secretsmanager get-secret-value --secret-id ml-cicd/database --query SecretString \
        --output text) == *"$pw"* ]] || fail "the secret does not hold the new value"
}

# The images are stand-ins of a repository the account does not have (example/model, never pushed):
# the simulator runs them without a look (docs/ecs-simulator.md, "Image pulls"), whatever other
# files sharing the stack have pushed to ml-model-service.
@test "deploy-aws with only deployer.json: ecs-roll deploys ml-model-service, exit 0" {
    local image=example/model:v$RANDOM$RANDOM
    run -0 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --image "app=$image" \
        --timeout 2m
    assert_output --regexp "^deployed arn:aws:ecs:$REGION:$ACCOUNT:task-definition/$FAMILY:[0-9]+ deployment ecs-svc/[0-9]+ in [0-9]+s$"
    local td
    td=$(awsref ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" --query 'services[0].taskDefinition' \
        --output text)
    [[ $td != "$BASE_TD" ]] || fail "the service still runs $BASE_TD"
    assert_equal "$(awsref ecs describe-task-definition --task-definition "$td" \
        --query 'taskDefinition.[containerDefinitions[0].image,taskRoleArn]' --output text)" \
        "$image	arn:aws:iam::$ACCOUNT:role/ml-cicd-pipeline-ecs-task"
}

@test "ecs-roll's checks before a deploy pass under deployer.json (roles, log group, target group, secrets)" {
    awsref logs create-log-group --log-group-name /ecs/ml-model-service 2>/dev/null || true
    awsref ecs describe-task-definition --task-definition "$BASE_TD" --query taskDefinition --output json |
        jq --arg a "arn:aws:ssm:$REGION:$ACCOUNT:parameter/ml-cicd/preflight" \
            '.containerDefinitions[0].secrets = [{name: "P", valueFrom: "/ml-cicd/preflight"}, {name: "Q", valueFrom: $a}]' \
            >"$BATS_TEST_TMPDIR/td.json"
    awsref ssm put-parameter --name /ml-cicd/preflight --type String --value v --overwrite >/dev/null
    run --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --verify \
        --task-def "$BATS_TEST_TMPDIR/td.json" --output json
    [[ $status == 0 && $stderr != *FAIL* ]] || fail "exit $status, stderr: $stderr"
    assert_equal "$(jq -c '[.verify[] | select(.check != "image") | [.check, .ok, .reason]]' <<<"$output")" \
        '[["secret",true,"found"],["secret",true,"found"],["log-group",true,"found"],["role",true,"found"],["role",true,"found"],["load-balancer",true,"target group ml-model-service has target type ip"]]'
}

@test "ecs-roll's checks under deployer.json: a read it does not grant is a failure naming the permission, exit 1" {
    awsref ecs describe-task-definition --task-definition "$BASE_TD" --query taskDefinition --output json |
        jq '.containerDefinitions[0].secrets = [{name: "O", valueFrom: "/other/preflight"}]' >"$BATS_TEST_TMPDIR/td.json"
    local before
    before=$(awsref ecs list-task-definitions --family-prefix "$FAMILY" --query 'length(taskDefinitionArns)')
    run -1 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" \
        --task-def "$BATS_TEST_TMPDIR/td.json" --timeout 2m
    [[ $stderr == *"verify: FAIL secret app O=/other/preflight: cannot check: ssm:GetParameters was denied (AccessDenied"* ]] ||
        fail "stderr: $stderr"
    assert_equal "$(awsref ecs list-task-definitions --family-prefix "$FAMILY" --query 'length(taskDefinitionArns)')" \
        "$before"
}

@test "ecs-roll --keep-revisions with only deployer.json: the family's older revisions are deregistered" {
    run -0 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" \
        --image "app=example/model:v$RANDOM$RANDOM" --timeout 2m --keep-revisions 1 --output json
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
    [[ $(jq -r '.deregistered | length' <<<"$output") -ge 1 ]] || fail "nothing deregistered: $output"
    [[ $stderr != *"could not"* ]] || fail "stderr: $stderr"
    assert_equal "$(awsref ecs describe-task-definition --task-definition "$BASE_TD" --query taskDefinition.status \
        --output text)" INACTIVE
    assert_equal "$(awsref ecs list-task-definitions --family-prefix "$FAMILY" --query 'taskDefinitionArns[]' \
        --output text)" "$(jq -r .taskDefinitionArn <<<"$output")"
}

@test "ecs-roll --rollback and --abort with only deployer.json: service deployments and revisions are read, a deployment stopped" {
    before=$(awsref ecs describe-services --cluster "$CLUSTER" --services "$SERVICE" \
        --query 'services[0].taskDefinition' --output text)
    run -0 as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --image "app=example/model:v$RANDOM$RANDOM" \
        --timeout 2m -q
    run -0 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --rollback --timeout 2m \
        --output json
    assert_equal "$(jq -r .taskDefinitionArn <<<"$output")" "$before"
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
    [[ $stderr == *"the last successful deployment before this one ran"* ]] || fail "stderr: $stderr"
    run -0 as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --image "app=example/model:slow$RANDOM" \
        --no-wait -q
    run -0 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --abort --timeout 2m
    assert_output --regexp "^aborted arn:aws:ecs:[^ ]+:service-deployment/$CLUSTER/$SERVICE/[^ ]+ ROLLBACK_SUCCESSFUL"
}

@test "deployer.json reads deployment alarms' states (ecs-roll names a rollback's alarm) and changes no alarm" {
    awsref cloudwatch put-metric-alarm --alarm-name "deploy-policy-$$" --namespace AWS/ApplicationELB \
        --metric-name HTTPCode_Target_5XX_Count --statistic Sum --period 60 --evaluation-periods 1 --threshold 1 \
        --comparison-operator GreaterThanThreshold
    run -0 as_deployer awsref cloudwatch describe-alarms --alarm-names "deploy-policy-$$" \
        --query 'MetricAlarms[0].StateValue' --output text
    assert_output OK
    # aws-cli exits 254 on an AWS error, which bats' run would take for a crash: not through run
    if as_deployer awsref cloudwatch set-alarm-state --alarm-name "deploy-policy-$$" --state-value ALARM \
        --state-reason x 2>"$BATS_TEST_TMPDIR/err"; then
        fail "set-alarm-state succeeded"
    fi
    grep -q AccessDenied "$BATS_TEST_TMPDIR/err" || fail "stderr: $(cat "$BATS_TEST_TMPDIR/err")"
}

@test "deploy-aws with only deployer.json: tg-health --service ml-cicd-cluster/ml-model-service --wait passes" {
    run -0 --separate-stderr as_deployer tg-health --service "$CLUSTER/$SERVICE" --wait --timeout 2m
    assert_output --partial healthy
}

@test "status-aws and logs-aws with only deployer.json: ecs-roll --status and --logs" {
    run -0 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --status
    assert_output --partial "$SERVICE"
    run -0 --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$SERVICE" --logs --since 30m
    [[ -n $output ]] || fail "no log lines (stderr: $stderr)"
}

@test "rds-check --from-service with only deployer.json: the instance and the network path from the service are read" {
    need_tool rds-check
    run --separate-stderr as_deployer rds-check ml-cicd-database --from-service "$CLUSTER/$SERVICE" \
        --hostaddr 127.0.0.1 --sslmode require --connect-timeout 2s
    ((status == 0 || status == 1)) || fail "exit $status: $stderr"
    [[ $stderr != *AccessDenied* ]] || fail "$stderr"
    assert_line --regexp "^PASS  network-vpc  the database and service $CLUSTER/$SERVICE are in vpc-"
    assert_line --regexp "^(PASS|FAIL)  network-sg-in  "
    assert_line --regexp "^PASS  network-sg-out  "
    assert_line --regexp "^PASS  network-acl  "
}

@test "rds-check --iam's own role (infra/policies/db-connect.json): rds-db:connect as its one user to its one instance, nothing else; deployer.json cannot log in" {
    local py policy
    py=$(pyref) || skip "no python3 with botocore"
    policy=$("$REPO/tests/stack/render-policy" "$REPO/infra/policies/db-connect.json" partition=aws \
        "region=$REGION" "account_id=$ACCOUNT" db_resource_id=db-ABCDEFGHIJKLMNOPQRSTUVWXY0 db_user=checker)
    # IAM's evaluation (moto's engine, as for every policy here): allowed only for that user and instance.
    run -0 "$py" - "$policy" "$REGION" "$ACCOUNT" <<'EOF'
import sys
from moto.iam.access_control import IAMPolicy, PermissionResult
policy, region, account = sys.argv[1:]
p = IAMPolicy(policy)
user = f"arn:aws:rds-db:{region}:{account}:dbuser:db-ABCDEFGHIJKLMNOPQRSTUVWXY0/"
cases = [("rds-db:connect", user + "checker", PermissionResult.PERMITTED),
         ("rds-db:connect", user + "app", PermissionResult.NEUTRAL),
         ("rds-db:connect", user.replace("ABCDEF", "ZZZZZZ") + "checker", PermissionResult.NEUTRAL),
         ("rds-db:connect", user.replace(region, "eu-north-1") + "checker", PermissionResult.NEUTRAL),
         ("rds:DescribeDBInstances", f"arn:aws:rds:{region}:{account}:db:ml-cicd-database", PermissionResult.NEUTRAL)]
for action, resource, want in cases:
    got = p.is_action_permitted(action, resource)
    assert got == want, (action, resource, got)
print(len(cases), "cases")
EOF
    assert_output "5 cases"
    # The deploy role reads the instance but holds no rds-db permission at all.
    run -0 jq -r '[.Statement[] | .Action | if type == "array" then .[] else . end | select(startswith("rds-db:"))] | length' \
        "$REPO/infra/policies/deployer.json"
    assert_output 0
}

@test "outside deployer.json: ssm-put /other/thing is AccessDenied, exit 4, nothing written" {
    run --separate-stderr as_deployer ssm-put --type String /other/thing value
    assert_denied ssm-put ssm:PutParameter "arn:aws:ssm:$REGION:$ACCOUNT:parameter/other/thing"
    # Without --type, reading its current type (so that a SecureString stays one) is denied first.
    run --separate-stderr as_deployer ssm-put /other/thing value
    assert_denied ssm-put ssm:GetParameters "arn:aws:ssm:$REGION:$ACCOUNT:parameter/other/thing"
    if awsref ssm get-parameter --name /other/thing >/dev/null 2>&1; then fail "/other/thing was written"; fi
}

@test "outside deployer.json: secret-put other/secret is AccessDenied, exit 4, nothing written" {
    printf 'v' >"$BATS_TEST_TMPDIR/v"
    run --separate-stderr as_deployer secret-put --value-file "$BATS_TEST_TMPDIR/v" other/secret
    assert_denied secret-put secretsmanager:CreateSecret \
        "arn:aws:secretsmanager:$REGION:$ACCOUNT:secret:other/secret-??????"
    if awsref secretsmanager describe-secret --secret-id other/secret >/dev/null 2>&1; then
        fail "other/secret was created"
    fi
}

@test "outside deployer.json: ecs-roll on another service of the cluster is AccessDenied, exit 4, nothing changed" {
    local before
    before=$(awsref ecs describe-services --cluster "$CLUSTER" --services "$OTHER_SERVICE" \
        --query 'services[0].taskDefinition' --output text)
    run --separate-stderr as_deployer ecs-roll --cluster "$CLUSTER" --service "$OTHER_SERVICE" --image app=x:y
    assert_denied ecs-roll ecs:DescribeServices "arn:aws:ecs:$REGION:$ACCOUNT:service/$CLUSTER/$OTHER_SERVICE"
    assert_equal "$(awsref ecs describe-services --cluster "$CLUSTER" --services "$OTHER_SERVICE" \
        --query 'services[0].taskDefinition' --output text)" "$before"
    # UpdateService itself, and ListTasks outside the policy's ecs:cluster condition, are denied too
    # (the reference CLI exits 254 on an AWS error; `run` would count that as a crash).
    local out
    if out=$(as_deployer awsref ecs update-service --cluster "$CLUSTER" --service "$OTHER_SERVICE" \
        --desired-count 0 2>&1); then
        fail "UpdateService on $OTHER_SERVICE was allowed"
    fi
    [[ $out == *"AccessDenied"*"ecs:UpdateService on resource: arn:aws:ecs:$REGION:$ACCOUNT:service/$CLUSTER/$OTHER_SERVICE"* ]] ||
        fail "UpdateService: $out"
    as_deployer awsref ecs list-tasks --cluster "$CLUSTER" >/dev/null
    if out=$(as_deployer awsref ecs list-tasks --cluster default 2>&1); then
        fail "ListTasks in cluster default was allowed"
    fi
    [[ $out == *"is not authorized to perform: ecs:ListTasks"* ]] || fail "ListTasks: $out"
}

@test "run-aws with only deployer.json: ecs-run runs a one-off task of the family, then stops one at its timeout" {
    need_tool ecs-run
    run -0 --separate-stderr as_deployer ecs-run --cluster "$CLUSTER" --service "$SERVICE" --timeout 2m \
        -- sh -c 'echo migrated'
    assert_output --regexp "^arn:aws:ecs:$REGION:$ACCOUNT:task/$CLUSTER/[0-9a-f]+ succeeded 0\$"
    [[ $stderr == *"app] migrated"* ]] || fail "log lines not read: $stderr"
    # StopTask is the policy's too: a timeout stops the task it started.
    run -6 --separate-stderr as_deployer ecs-run -q --cluster "$CLUSTER" --service "$SERVICE" --timeout 1s \
        -- sh -c 'sleep 600'
    assert_error_line ecs-run "timed out after 1s: stopped the 1 task still running"
}

@test "outside deployer.json: ecs-run of another family, or in another cluster, is AccessDenied, exit 4, nothing started" {
    need_tool ecs-run
    local fam=other-$RANDOM$RANDOM
    printf '{"family":"%s","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":"example/model:x","essential":true}]}' \
        "$fam" >"$BATS_TEST_TMPDIR/td.json"
    run --separate-stderr as_deployer ecs-run -q --cluster "$CLUSTER" --task-def "$BATS_TEST_TMPDIR/td.json" \
        --subnet subnet-x -- sh -c 'echo no'
    ((status == 4)) || fail "exit $status: $stderr"
    assert_denied ecs-run ecs:RunTask "arn:aws:ecs:$REGION:$ACCOUNT:task-definition/$fam:1"
    awsref ecs create-cluster --cluster-name other-cluster >/dev/null
    run --separate-stderr as_deployer ecs-run -q --cluster other-cluster --task-def "$FAMILY" --subnet subnet-x \
        -- sh -c 'echo no'
    [[ $status == 4 && $stderr == *"is not authorized to perform: ecs:RunTask on resource: arn:aws:ecs:$REGION:$ACCOUNT:task-definition/$FAMILY:"* ]] ||
        fail "RunTask in another cluster: $stderr"
    assert_equal "$(awsref ecs list-tasks --cluster other-cluster --query 'length(taskArns)')" 0
}
