#!/usr/bin/env bats
# shellcheck disable=SC2154 # status/output/stderr come from bats' run
# ecs-failures: the ways real deployments fail, simulated as ECS reports them (tests/stack/ecs_sim.py,
# docs/ecs-simulator.md "Starting a task"), and ecs-roll's explanation and exit code for each: a
# missing image, ECR refusing the execution role, no route to the registry (ECR's or a public one),
# missing or unreadable secrets (SSM and Secrets Manager), a secret without its JSON key, no route to
# Systems Manager or Secrets Manager, no container instance, no Fargate capacity, failed ELB health
# checks, and a deployment that stops making progress without the circuit breaker ever firing (the
# stall rule, src/ecs-roll.1). Each test sets up its own cluster with botocore (quick), works on its own
# repository, role and service (the simulator's controls used here are per service), and bounds
# every ecs-roll with --timeout and timeout(1).
# bats file_tags=ecs

load helpers/common
load helpers/ecs

setup_file() {
    make_images
}

setup() {
    need_tool ecs-roll
    use_stack
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/state" || skip "no ECS simulator in the stack"
    PY=$(pyref) || skip "no python3 with botocore"
    "$PY" -c 'import boto3' 2>/dev/null || skip "no python3 with boto3"
    export SK_POLL_SCALE=0.1
    H=$(unique | md5sum | cut -c1-10)
    C=f$H
    R=ecsf-$H # this test's repository in the stack's registry
    IMG=$BATS_FILE_TMPDIR/img/oci.tar
}

# push TAG: push the fixture image as $R:TAG to the account's ECR: the repository created in ECR, the
# image in the stack's registry.
push() {
    [[ -n ${SK_REGISTRY:-} ]] || skip "the stack has no registry"
    [[ -f $IMG ]] || fail "no fixture image ($IMG)"
    ecr-push -q --create-repo "$IMG" "$R:$1" >/dev/null || fail "cannot push $R:$1"
}

# service NAME IMAGE [JSON]: a 2-task Fargate service running IMAGE, its first deployment completed
# (unless its desired count is 0). JSON adds settings: {"desired": N, "launchType": "EC2",
# "subnet": ID, "securityGroup": ID, "tg": true (an ip target group, health checks every 5 s,
# healthy after 2), "breaker": {"enable": .., "rollback": ..} (default both true), "role": ARN (the
# execution role), "secrets": [...], "logRegion": R, "grace": S}. Prints the target group's ARN.
service() {
    SK_ALB=$REPO/tests/stack/alb "$PY" - "$C" "$1" "$2" "${3:-{\}}" <<'EOF' || fail "cannot set up service $1"
import json, os, sys, time, urllib.request
import boto3
cluster, name, image, extra = sys.argv[1], sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
url, region = os.environ["AWS_ENDPOINT_URL"], os.environ["AWS_REGION"]
ecs = boto3.client("ecs", endpoint_url=url, region_name=region)
net = json.load(urllib.request.urlopen(url + "/shipkit-sim/network"))
ecs.create_cluster(clusterName=cluster)
cont = {"name": "app", "image": image, "essential": True, "portMappings": [{"containerPort": 8080}],
        "logConfiguration": {"logDriver": "awslogs", "options": {
            "awslogs-group": f"/ecs/{cluster}", "awslogs-region": extra.get("logRegion", region),
            "awslogs-stream-prefix": "ecs"}}}
if "secrets" in extra:
    cont["secrets"] = extra["secrets"]
td = {"family": f"{cluster}-{name}", "networkMode": "awsvpc", "requiresCompatibilities": ["FARGATE"],
      "cpu": "256", "memory": "512", "containerDefinitions": [cont]}
# Fargate with awslogs needs an execution role (the contract layer holds it, docs/aws-fidelity.md):
# without "role", a stand-in with no policy, which the simulator does not check.
if "role" not in extra:
    iam = boto3.client("iam", endpoint_url=url, region_name=region)
    try:
        extra["role"] = iam.get_role(RoleName="ecsf-standin")["Role"]["Arn"]
    except iam.exceptions.NoSuchEntityException:
        extra["role"] = iam.create_role(RoleName="ecsf-standin", AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole",
                                                    "Principal": {"Service": "ecs-tasks.amazonaws.com"}}]}))["Role"]["Arn"]
td["executionRoleArn"] = extra["role"]
ecs.register_task_definition(**td)
svc = {"cluster": cluster, "serviceName": name, "taskDefinition": td["family"], "desiredCount": extra.get("desired", 2),
       "launchType": extra.get("launchType", "FARGATE"),
       "networkConfiguration": {"awsvpcConfiguration": {"subnets": [extra.get("subnet", net["subnets"][0])],
                                                        "securityGroups": [extra.get("securityGroup",
                                                                                     net["securityGroupId"])]}},
       "deploymentConfiguration": {"deploymentCircuitBreaker": extra.get("breaker",
                                                                         {"enable": True, "rollback": True})}}
if extra.get("grace") is not None:
    svc["healthCheckGracePeriodSeconds"] = extra["grace"]
tg = ""
if extra.get("tg"):
    elb = boto3.client("elbv2", endpoint_url=url, region_name=region)
    tg = elb.create_target_group(Name=f"tg-{cluster}-{name}"[:32], Protocol="HTTP", Port=8080, VpcId=net["vpcId"],
                                 TargetType="ip", HealthCheckIntervalSeconds=5, HealthyThresholdCount=2,
                                 HealthCheckTimeoutSeconds=2)["TargetGroups"][0]["TargetGroupArn"]
    # ECS takes no target group that no load balancer forwards to (tests/stack/alb says where).
    import subprocess
    subprocess.run([os.environ["SK_ALB"], f"lb-{cluster}-{name}"[:32], tg], check=True, stdout=subprocess.DEVNULL)
    svc["loadBalancers"] = [{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080}]
ecs.create_service(**svc)
for _ in range(150):
    d = ecs.describe_services(cluster=cluster, services=[name])["services"][0]["deployments"][0]
    if d.get("rolloutState") == "COMPLETED":
        print(tg)
        sys.exit(0)
    time.sleep(0.2)
sys.exit("the first deployment did not complete")
EOF
}

# capacity SERVICE N|null: how many more tasks Fargate can place for the service.
capacity() {
    curl -sf -X POST -H 'Content-Type: application/json' \
        --data "{\"cluster\": \"$C\", \"service\": \"$1\", \"fargate\": $2}" "$AWS_ENDPOINT_URL/shipkit-sim/capacity" \
        >/dev/null || fail "cannot set the capacity of $1"
}

# roll ARGS...: ecs-roll on this cluster, bounded in time (--timeout and timeout(1)), JSON result.
# --no-verify: these are the failures ECS reports, which ecs-roll's own checks would refuse first
# (tests/bats/ecs-preflight.bats covers those).
roll() {
    timeout 120 ecs-roll --cluster "$C" --timeout 90s --output json --no-verify "$@"
}

# why_is KIND REASON: the JSON result's first explanation.
why_is() {
    assert_equal "$(jq -r '.why[0].kind' <<<"$output")" "$1"
    assert_equal "$(jq -r '.why[0].reason' <<<"$output")" "$2"
    [[ $stderr == *"ecs-roll: why: $2"* ]] || fail "no why line on stderr: $stderr"
}

running_td() {
    awsref ecs describe-services --cluster "$C" --services "$1" --query 'services[0].taskDefinition' --output text
}

# stopped_tasks SERVICE DEPLOYMENT: DescribeTasks of the stopped tasks DEPLOYMENT started (listed by
# service: ListTasks takes startedBy only alone).
stopped_tasks() {
    local arns
    arns=$(awsref ecs list-tasks --cluster "$C" --service-name "$1" --desired-status STOPPED --query 'taskArns[]' \
        --output text)
    [[ -n $arns ]] || fail "no stopped tasks"
    # shellcheck disable=SC2086 # one word per ARN
    awsref ecs describe-tasks --cluster "$C" --tasks $arns --output json |
        jq --arg d "$2" '[.tasks[] | select(.startedBy == $d)]'
}

@test "image not found: TaskFailedToStart, no exit code, no log stream; the breaker rolls back; exit 1" {
    push good
    service web "$R:good" >/dev/null
    local before
    before=$(running_td web)
    run -1 --separate-stderr roll --service web --image "app=$R:no-such-tag"
    assert_equal "$(jq -r .verdict <<<"$output")" rolled-back
    why_is image-not-found "image not found: $R:no-such-tag"
    [[ $stderr == *"fix: push the image (ecr-push), or deploy a tag or digest that exists"* ]] || fail "$stderr"
    [[ $stderr == *"no container ran (no exit code, no log lines)"* ]] || fail "$stderr"
    assert_equal "$(running_td web)" "$before"
    # As ECS reports it: the stop code, the reason in AWS's words, no exit code, no log stream.
    local t
    t=$(stopped_tasks web "$(jq -r .deploymentId <<<"$output")")
    assert_equal "$(jq -r '.[0] | [.stopCode, .containers[0].lastStatus, (.containers[0] | has("exitCode"))] | @tsv' <<<"$t")" \
        "TaskFailedToStart	STOPPED	false"
    assert_equal "$(jq -r '.[0].stoppedReason' <<<"$t")" \
        "CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref $SK_REGISTRY/$R:no-such-tag: $SK_REGISTRY/$R:no-such-tag: not found"
    assert_equal "$(jq -r '.[0].containers[0].reason' <<<"$t")" "$(jq -r '.[0].stoppedReason' <<<"$t")"
    assert_equal "$(awsref logs describe-log-streams --log-group-name "/ecs/$C" \
        --log-stream-name-prefix "ecs/app/$(jq -r '.[0].taskArn | split("/") | last' <<<"$t")" \
        --query 'length(logStreams)')" 0
}

@test "image not found under the registry's own name; an image that exists deploys" {
    push good
    push v2
    service web "$SK_REGISTRY/$R:good" >/dev/null
    run -1 --separate-stderr roll --service web --image "app=$SK_REGISTRY/$R:v3"
    why_is image-not-found "image not found: $SK_REGISTRY/$R:v3"
    run -0 --separate-stderr roll --service web --image "app=$SK_REGISTRY/$R:v2"
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
}

@test "the execution role may not read the repository: 403, could not pull" {
    push good
    local arn
    arn=$(role "exec-$H" '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["ecr:GetAuthorizationToken","logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}')
    service web "$R:good" >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json |
        jq --arg r "$arn" '.executionRoleArn = $r' >"$BATS_TEST_TMPDIR/td.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    why_is pull-denied "could not pull $R:good: the execution role may not read ECR (AccessDenied)"
    [[ $stderr == *"pulling from host $SK_REGISTRY failed with status code [manifests good]: 403 Forbidden"* ]] ||
        fail "stderr: $stderr"
    [[ $stderr == *"fix: give the task execution role ecr:BatchGetImage"* ]] || fail "stderr: $stderr"
}

@test "the execution role may not get an ECR token: ResourceInitializationError, AccessDenied" {
    push good
    local arn
    arn=$(role "exec-$H" '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}')
    service web "$R:good" >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json |
        jq --arg r "$arn" '.executionRoleArn = $r' >"$BATS_TEST_TMPDIR/td.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    why_is ecr-auth-denied "could not get an ECR authorization token: the execution role may not call ecr:GetAuthorizationToken (AccessDenied)"
    [[ $stderr == *"is not authorized to perform: ecr:GetAuthorizationToken on resource: *"* ]] || fail "$stderr"
}

@test "no route to the registry: a subnet without a route to the internet or VPC endpoints, then with them" {
    push good
    local vpc subnet sg ep
    vpc=$(awsref ec2 create-vpc --cidr-block 10.77.0.0/16 --query Vpc.VpcId --output text)
    subnet=$(awsref ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.77.1.0/24 --query Subnet.SubnetId --output text)
    sg=$(awsref ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc" --query 'SecurityGroups[0].GroupId' \
        --output text)
    # Nothing runs yet (desired 0), so the first deployment completes; then two tasks cannot start.
    service web "$R:good" "{\"desired\": 0, \"subnet\": \"$subnet\", \"securityGroup\": \"$sg\",
        \"breaker\": {\"enable\": true, \"rollback\": false}}" >/dev/null
    run -1 --separate-stderr roll --service web --desired-count 2 --no-rollback --image "app=$R:good" --force
    assert_equal "$(jq -r .verdict <<<"$output")" failed
    why_is no-route "no route to the registry from the task's subnets (private subnets need a NAT gateway or VPC endpoints)"
    [[ $stderr == *"The task cannot pull registry auth from Amazon ECR: There is a connection issue between the task and Amazon ECR."* ]] ||
        fail "stderr: $stderr"
    # The interface endpoints ECR needs (and S3's gateway): the same deploy works.
    for ep in ecr.api ecr.dkr s3; do
        awsref ec2 create-vpc-endpoint --vpc-id "$vpc" --service-name "com.amazonaws.$AWS_REGION.$ep" \
            --subnet-ids "$subnet" >/dev/null
    done
    run -0 --separate-stderr roll --service web --image "app=$R:good" --force
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
}

@test "secrets: an SSM parameter and a Secrets Manager secret that do not exist" {
    service web example/model:good >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json |
        jq --arg p "/$C/missing" '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $p}]' >"$BATS_TEST_TMPDIR/td.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    why_is secret-not-found "secret /$C/missing not found (SSM parameter)"
    [[ $stderr == *"ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 1 time(s): invalid ssm parameters: /$C/missing"* ]] ||
        fail "stderr: $stderr"
    local arn="arn:aws:secretsmanager:$AWS_REGION:123456789012:secret:$C/db-AbCdEf"
    jq --arg a "$arn" '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $a}]' "$BATS_TEST_TMPDIR/td.json" \
        >"$BATS_TEST_TMPDIR/td2.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td2.json"
    why_is secret-not-found "secret $arn not found"
}

@test "secrets: the execution role may not read the secret: AccessDenied; allowed, the deploy works" {
    local value arn role_arn
    value=$(canary db)
    printf '%s' "{\"password\":\"$value\"}" >"$BATS_TEST_TMPDIR/v"
    arn=$(secret-put -q --value-file "$BATS_TEST_TMPDIR/v" "$C/db" | cut -d' ' -f1) || fail "secret-put"
    role_arn=$(role "exec-$H" '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}')
    service web example/model:good >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json |
        jq --arg a "$arn" --arg r "$role_arn" '.executionRoleArn = $r |
            .containerDefinitions[0].secrets = [{name: "DB", valueFrom: ($a + ":password::")}]' >"$BATS_TEST_TMPDIR/td.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    why_is secret-denied "could not read secret $arn: AccessDenied"
    [[ $stderr == *"is not authorized to perform: secretsmanager:GetSecretValue on resource: $arn"* ]] || fail "$stderr"
    refute_leak "$value"
    awsref iam put-role-policy --role-name "exec-$H" --policy-name secret --policy-document \
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"secretsmanager:GetSecretValue\",\"Resource\":\"$arn\"}]}"
    run -0 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
}

@test "secrets: the execution role may not read the SSM parameter: AccessDenied; allowed, the deploy works" {
    local role_arn arn="arn:aws:ssm:$AWS_REGION:123456789012:parameter/$C/db"
    awsref ssm put-parameter --name "/$C/db" --type SecureString --value not-a-secret >/dev/null
    role_arn=$(role "exec-$H" '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}]}')
    service web example/model:good >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json |
        jq --arg p "/$C/db" --arg r "$role_arn" '.executionRoleArn = $r |
            .containerDefinitions[0].secrets = [{name: "DB", valueFrom: $p}]' >"$BATS_TEST_TMPDIR/td.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    assert_equal "$(jq -r .verdict <<<"$output")" rolled-back
    why_is secret-denied "could not read secret $arn: AccessDenied"
    [[ $stderr == *"is not authorized to perform: ssm:GetParameters on resource: $arn"* ]] || fail "$stderr"
    awsref iam put-role-policy --role-name "exec-$H" --policy-name ssm --policy-document \
        "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"ssm:GetParameters\",\"Resource\":\"$arn\"}]}"
    run -0 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
}

@test "secrets: a Secrets Manager secret without the JSON key valueFrom names: the key, exit 1" {
    local value arn
    value=$(canary db)
    printf '%s' "{\"password\":\"$value\"}" >"$BATS_TEST_TMPDIR/v"
    arn=$(secret-put -q --value-file "$BATS_TEST_TMPDIR/v" "$C/db" | cut -d' ' -f1) || fail "secret-put"
    service web example/model:good >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json |
        jq --arg a "$arn" '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: ($a + ":passwd::")}]' \
        >"$BATS_TEST_TMPDIR/td.json"
    run -1 --separate-stderr roll --service web --task-def "$BATS_TEST_TMPDIR/td.json"
    assert_equal "$(jq -r .verdict <<<"$output")" rolled-back
    why_is secret-key-missing "a secret has no JSON key passwd"
    [[ $stderr == *"retrieved secret from Secrets Manager did not contain json key passwd"* ]] || fail "$stderr"
    refute_leak "$value"
}

@test "no route to Systems Manager, to Secrets Manager, or to a public image's registry: each named, exit 1" {
    local vpc subnet sg arn td=$BATS_TEST_TMPDIR/td.json
    awsref ssm put-parameter --name "/$C/db" --type SecureString --value not-a-secret >/dev/null
    printf '%s' '{"password":"x"}' >"$BATS_TEST_TMPDIR/v"
    arn=$(secret-put -q --value-file "$BATS_TEST_TMPDIR/v" "$C/db" | cut -d' ' -f1) || fail "secret-put"
    vpc=$(awsref ec2 create-vpc --cidr-block 10.78.0.0/16 --query Vpc.VpcId --output text)
    subnet=$(awsref ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.78.1.0/24 --query Subnet.SubnetId --output text)
    sg=$(awsref ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc" --query 'SecurityGroups[0].GroupId' \
        --output text)
    service web example/model:good "{\"desired\": 0, \"subnet\": \"$subnet\", \"securityGroup\": \"$sg\",
        \"breaker\": {\"enable\": true, \"rollback\": false}}" >/dev/null
    awsref ecs describe-task-definition --task-definition "$C-web" --query taskDefinition --output json >"$td.0"
    # An SSM parameter (the guide's SecureString path): no route, then an ssm endpoint.
    jq --arg p "/$C/db" '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $p}]' "$td.0" >"$td"
    run -1 --separate-stderr roll --service web --desired-count 2 --no-rollback --task-def "$td"
    why_is no-route "no route to Systems Manager from the task's subnets (private subnets need a NAT gateway or an ssm VPC endpoint)"
    [[ $stderr == *"There is a connection issue between the task and AWS Systems Manager Parameter Store."* ]] || fail "$stderr"
    awsref ec2 create-vpc-endpoint --vpc-id "$vpc" --service-name "com.amazonaws.$AWS_REGION.ssm" --subnet-ids "$subnet" \
        >/dev/null
    # The secret is reachable now; the public image (Docker Hub) is not: no internet route.
    run -1 --separate-stderr roll --service web --desired-count 2 --no-rollback --task-def "$td"
    why_is no-route "no route to the registry from the task's subnets (private subnets need a NAT gateway or VPC endpoints)"
    [[ $stderr == *'Head "https://registry-1.docker.io/v2/example/model/manifests/good": dial tcp '*': i/o timeout'* ]] ||
        fail "$stderr"
    # A Secrets Manager secret: no route either.
    jq --arg a "$arn" '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $a}]' "$td.0" >"$td"
    run -1 --separate-stderr roll --service web --desired-count 2 --no-rollback --task-def "$td"
    why_is no-route "no route to Secrets Manager from the task's subnets (private subnets need a NAT gateway or a secretsmanager VPC endpoint)"
    [[ $stderr == *"There is a connection issue between the task and AWS Secrets Manager."* ]] || fail "$stderr"
}

@test "EC2 launch type without container instances: unable to place, the breaker fails it, exit 1" {
    service web example/model:good '{"desired": 0, "launchType": "EC2", "breaker": {"enable": true, "rollback": false}}' \
        >/dev/null
    run -1 --separate-stderr roll --service web --desired-count 2 --no-rollback --image app=example/model:good2
    assert_equal "$(jq -r .reason <<<"$output")" "ECS deployment circuit breaker: tasks failed to start."
    why_is placement "unable to place: no container instance met all of its requirements. Reason: No Container Instances were found in your cluster"
    [[ $stderr == *"no stopped tasks"* ]] && fail "placement failures leave no task: $stderr"
    true
}

@test "no Fargate capacity: unable to place, the breaker fails it, exit 1" {
    service web example/model:good '{"breaker": {"enable": true, "rollback": false}}' >/dev/null
    capacity web 0
    run -1 --separate-stderr roll --service web --no-rollback --image app=example/model:good2
    why_is no-capacity "no capacity for FARGATE in the service's subnets"
    [[ $stderr == *"(service web) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone."* ]] ||
        fail "stderr: $stderr"
    capacity web null
}

@test "failed ELB health checks: ServiceSchedulerInitiated, the breaker rolls back, exit 1" {
    local tg
    tg=$(service web example/model:good '{"tg": true}')
    run -1 --separate-stderr roll --service web --image app=example/model:unhealthy
    assert_equal "$(jq -r .verdict <<<"$output")" rolled-back
    why_is elb-health-checks "failed ELB health checks in target group tg-$C-web: see tg-health"
    [[ $stderr == *"ServiceSchedulerInitiated: Task failed ELB health checks in (target-group $tg)"* ]] || fail "$stderr"
}

@test "no progress, the breaker held off by one task that ran: ecs-roll ends it, says why, rolls back, exit 1" {
    local start
    service web example/model:good '{"tg": true}' >/dev/null
    start=$SECONDS
    # The deployment's first task takes the lock and turns healthy; the other exits 1 again and again.
    # failedTasks resets and stops being evaluated after the first healthy task: ECS never decides.
    run -1 --separate-stderr roll --service web --image app=example/model:singleton
    ((SECONDS - start < 60)) || fail "took $((SECONDS - start)) s"
    assert_equal "$(jq -r .verdict <<<"$output")" rolled-back
    [[ $(jq -r .reason <<<"$output") == "no progress for "*"s: no new task of deployment "*" became RUNNING and healthy, and ECS gave no verdict (stall period "*"s: grace 0s + 2 x health check 12s + 60s, 2 x start "* ]] ||
        fail "reason: $(jq -r .reason <<<"$output")"
    why_is container-exited "container app exited with code 1"
    [[ $stderr == *"rolling back to $C-web:1"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"Error: the model store is locked by another instance"* ]] || fail "no log lines: $stderr"
    assert_equal "$(running_td web)" "$(awsref ecs describe-task-definition --task-definition "$C-web:1" \
        --query taskDefinition.taskDefinitionArn --output text)"
    # The circuit breaker never fired: after the first healthy task the deployment's failedTasks stayed 0.
    [[ $stderr != *"deployment failed: tasks failed to start"* ]] || fail "the breaker fired: $stderr"
    local last
    last=$(grep -E "^  PRIMARY +$C-web:2 " <<<"$stderr" | tail -1)
    [[ $last == *" failed 0 IN_PROGRESS" ]] || fail "last state of the deployment: $last"
}

@test "no progress while one task found capacity: --no-rollback leaves it, with the reason, exit 1" {
    service web example/model:good >/dev/null
    capacity web 1
    run -1 --separate-stderr roll --service web --no-rollback --image app=example/model:good2
    assert_equal "$(jq -r .verdict <<<"$output")" failed
    [[ $(jq -r .reason <<<"$output") == "no progress for "* ]] || fail "reason: $output"
    why_is no-capacity "no capacity for FARGATE in the service's subnets"
    [[ $stderr == *"--no-rollback: the service is left on $C-web:2"* ]] || fail "stderr: $stderr"
    capacity web null
}
