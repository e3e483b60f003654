#!/usr/bin/env bats
# contract: the stack's contract layer (tests/stack/contract.py, docs/aws-fidelity.md). Each rule
# it holds is shown refusing a request the way AWS does (through the reference aws-cli, boto3 or
# aws-sign on the wire); answers are checked against the output shapes; a violation fails the test
# that caused it; and the tools (ecs-roll's ListTasks, the demo's service behind a load balancer,
# ecs-roll's stripping of output-only task definition fields) pass through it.
# bats file_tags=ecs

# shellcheck disable=SC2016,SC2154,SC2030,SC2031 # nested test bodies in single quotes; bats' run sets stderr
load helpers/common

setup() {
    use_stack
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/contract" ||
        skip "no contract layer in the stack"
    H=c$(unique | md5sum | cut -c1-12)
    ACCT=123456789012
}

# refused CODE [TEXT]: the last `run --separate-stderr` was refused with AWS error CODE (aws-cli's
# "An error occurred (CODE)", aws-sign's "aws-sign: CODE: ...", boto3's traceback), its message
# holding TEXT; and the layer logged it under this test.
refused() {
    local code=$1 text=${2:-}
    ((status != 0)) || fail "not refused (exit 0): $output"
    [[ $stderr == *"($code)"* || $stderr == *" $code: "* ]] || fail "expected $code, got: $stderr"
    [[ -z $text || $stderr == *"$text"* ]] || fail "expected '$text' in: $stderr"
    grep -aF "\"test\": \"$SK_TEST_ID\"" "$SK_CONTRACT_LOG" | grep -qF "\"code\": \"$code\"" ||
        fail "the contract log has no $code for this test"
    status=0 # checked: aws-cli's 254 is no crash (common.bash's teardown takes a status > 128 for one)
}

net_json() {
    curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/network"
}

# fargate_td FAMILY IMAGE: a Fargate task definition (container "app" on 8080, awslogs, the
# stack's execution role) as a CLI would register it; prints the ARN.
fargate_td() {
    awsref ecs register-task-definition --family "$1" --network-mode awsvpc --requires-compatibilities FARGATE \
        --cpu 256 --memory 512 --execution-role-arn "$SK_TASK_EXECUTION_ROLE_ARN" --container-definitions \
        "[{\"name\":\"app\",\"image\":\"$2\",\"essential\":true,\"portMappings\":[{\"containerPort\":8080}],
          \"logConfiguration\":{\"logDriver\":\"awslogs\",\"options\":{\"awslogs-group\":\"/ecs/$1\",
          \"awslogs-region\":\"us-east-1\",\"awslogs-stream-prefix\":\"ecs\"}}}]" \
        --query taskDefinition.taskDefinitionArn --output text
}

# tg [TYPE]: a new target group (ip unless TYPE) in the default VPC; prints its ARN.
tg() {
    awsref elbv2 create-target-group --name "tg$RANDOM-$H" --protocol HTTP --port 8080 \
        --vpc-id "$(net_json | jq -r .vpcId)" --target-type "${1:-ip}" \
        --query 'TargetGroups[0].TargetGroupArn' --output text
}

netconf() {
    net_json | jq -c '{awsvpcConfiguration: {subnets: .subnets[:1], securityGroups: [.securityGroupId]}}'
}

# sim_service NAME IMAGE: cluster $H, a 2-task Fargate service behind a target group that a load
# balancer forwards to, its first deployment done. Sets TG.
sim_service() {
    curl -sf -o /dev/null -H 'Content-Type: application/json' --data '{"time_scale": 0.1}' \
        "$AWS_ENDPOINT_URL/shipkit-sim/config"
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    TG=$(tg)
    "$REPO/tests/stack/alb" "lb-$H" "$TG" >/dev/null
    fargate_td "fam-$H" "$2" >/dev/null
    awsref ecs create-service --cluster "$H" --service-name "$1" --task-definition "fam-$H" --desired-count 2 \
        --launch-type FARGATE --network-configuration "$(netconf)" \
        --load-balancers "targetGroupArn=$TG,containerName=app,containerPort=8080" \
        --deployment-configuration '{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}' >/dev/null
    for _ in $(seq 1 150); do
        [[ $(awsref ecs describe-services --cluster "$H" --services "$1" \
            --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]] && return 0
        sleep 0.1
    done
    fail "the first deployment of $1 did not complete"
}

# wire SERVICE TARGET JSON: aws-sign sends JSON as the awsJson1_1 operation TARGET (what the reference
# clients check for themselves before sending, or cannot send at all, reaches the layer this way).
wire() {
    aws-sign -d "$3" --service "$1" -H "X-Amz-Target: $2" -H 'Content-Type: application/x-amz-json-1.1' \
        "$AWS_ENDPOINT_URL/"
}

# ---- ECS --------------------------------------------------------------------------------------

@test "ListTasks: startedBy must be the only filter (item 1); alone it is taken" {
    allow_contract_refusal
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    run --separate-stderr awsref ecs list-tasks --cluster "$H" --service-name s --started-by x
    refused InvalidParameterException "cannot specify startedBy with other arguments"
    run --separate-stderr awsref ecs list-tasks --cluster "$H" --started-by x --desired-status STOPPED
    refused InvalidParameterException "cannot specify startedBy with other arguments"
    run --separate-stderr awsref ecs list-tasks --cluster "$H" --started-by x --family f
    refused InvalidParameterException
    run -0 awsref ecs list-tasks --cluster "$H" --started-by x --query 'length(taskArns)'
    assert_output 0
}

@test "ListTasks: serviceName not with family, desiredStatus from its enum, maxResults 1 to 100" {
    allow_contract_refusal
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    run --separate-stderr awsref ecs list-tasks --cluster "$H" --service-name s --family f
    refused InvalidParameterException "serviceName and family"
    run --separate-stderr awsref ecs list-tasks --cluster "$H" --desired-status DONE
    refused InvalidParameterException "Value 'DONE' at 'desiredStatus' failed to satisfy constraint: Member must satisfy enum value set: [RUNNING, PENDING, STOPPED]"
    # (aws-cli sends maxResults as --page-size)
    run --separate-stderr awsref ecs list-tasks --cluster "$H" --page-size 101
    refused InvalidParameterException "maxResults must be between 1 and 100"
    run -0 awsref ecs list-tasks --cluster "$H" --service-name s --desired-status STOPPED --page-size 100
}

@test "DescribeTasks takes at most 100 tasks, DescribeServices at most 10 services" {
    allow_contract_refusal
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    # shellcheck disable=SC2046 # one argument each
    run --separate-stderr awsref ecs describe-tasks --cluster "$H" --tasks $(seq -f 't%g' 1 101)
    refused InvalidParameterException "more than 100"
    # shellcheck disable=SC2046
    run --separate-stderr awsref ecs describe-services --cluster "$H" --services $(seq -f 's%g' 1 11)
    refused InvalidParameterException "more than 10"
    # shellcheck disable=SC2046
    run -0 awsref ecs describe-services --cluster "$H" --services $(seq -f 's%g' 1 10) --query 'length(failures)'
    assert_output 10
}

@test "RegisterTaskDefinition: container names unique and valid, an essential container, memory on EC2" {
    allow_contract_refusal
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --container-definitions \
        '[{"name":"app","image":"x","memory":128},{"name":"app","image":"y","memory":128}]'
    refused ClientException "Duplicate container name 'app'"
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --container-definitions \
        '[{"name":"app","image":"x","memory":128,"essential":false}]'
    refused ClientException "at least one essential container"
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --container-definitions \
        '[{"name":"my app","image":"x","memory":128}]'
    refused ClientException "Container.name 'my app' is invalid"
    run --separate-stderr awsref ecs register-task-definition --family "f.$H" --container-definitions \
        '[{"name":"app","image":"x","memory":128}]'
    refused ClientException "Family contains invalid characters"
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --container-definitions \
        '[{"name":"app","image":"x"}]'
    refused ClientException "At least one of 'memory' or 'memoryReservation' must be specified"
    run -0 awsref ecs register-task-definition --family "f-$H" --container-definitions \
        '[{"name":"app","image":"x","memoryReservation":64}]' --query taskDefinition.revision
}

@test "RegisterTaskDefinition on Fargate: awsvpc, task cpu/memory of a listed size, awslogs needs the execution role" {
    allow_contract_refusal
    local c='[{"name":"app","image":"x","portMappings":[{"containerPort":8080}]}]'
    local logs='[{"name":"app","image":"x","logConfiguration":{"logDriver":"awslogs","options":{"awslogs-group":"g","awslogs-region":"us-east-1","awslogs-stream-prefix":"ecs"}}}]'
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode bridge --cpu 256 --memory 512 --container-definitions "$c"
    refused ClientException "Fargate only supports network mode"
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode awsvpc --memory 512 --container-definitions "$c"
    refused ClientException "Fargate requires that 'cpu' be defined at the task level"
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu 256 --memory 4096 --container-definitions "$c"
    refused ClientException "No Fargate configuration exists for given values: 256 CPU, 4096 memory"
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu 256 --memory 512 --container-definitions "$logs"
    refused ClientException "Fargate requires task definition to have execution role ARN to support log driver awslogs."
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu 256 --memory 512 --container-definitions \
        '[{"name":"app","image":"x","portMappings":[{"containerPort":8080,"hostPort":80}]}]'
    refused ClientException "the host ports and container ports in port mappings must match"
    run -0 awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu "1 vCPU" --memory "2 GB" --container-definitions "$c" --query taskDefinition.revision
}

@test "DescribeTaskDefinition shows registeredAt, registeredBy and requiresAttributes as ECS computes them (item 4)" {
    local arn
    arn=$(fargate_td "f-$H" example/model:good)
    run -0 awsref ecs describe-task-definition --task-definition "$arn" --output json \
        --query 'taskDefinition.{at: registeredAt, by: registeredBy, attrs: requiresAttributes[].name, deleted: deleteRequestedAt}'
    [[ $(jq -r .at <<<"$output") =~ ^20[0-9][0-9]-[0-9][0-9]-[0-9][0-9]T ]] || fail "registeredAt: $output"
    assert_equal "$(jq -r .by <<<"$output")" "arn:aws:iam::$ACCT:user/shipkit-ci"
    assert_equal "$(jq -r '.attrs | sort | join(" ")' <<<"$output")" \
        "com.amazonaws.ecs.capability.docker-remote-api.1.18 com.amazonaws.ecs.capability.docker-remote-api.1.19 com.amazonaws.ecs.capability.logging-driver.awslogs ecs.capability.execution-role-awslogs ecs.capability.task-eni"
    assert_equal "$(jq -r .deleted <<<"$output")" null
}

@test "CreateService: a target group no load balancer uses is refused (item 5); behind a listener it is taken" {
    allow_contract_refusal
    local tgarn
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    fargate_td "f-$H" example/model:good >/dev/null
    tgarn=$(tg)
    run --separate-stderr awsref ecs create-service --cluster "$H" --service-name web --task-definition "f-$H" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$(netconf)" \
        --load-balancers "targetGroupArn=$tgarn,containerName=app,containerPort=8080"
    refused InvalidParameterException "The target group with targetGroupArn $tgarn does not have an associated load balancer."
    "$REPO/tests/stack/alb" "lb-$H" "$tgarn" >/dev/null
    run -0 awsref ecs create-service --cluster "$H" --service-name web --task-definition "f-$H" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$(netconf)" \
        --load-balancers "targetGroupArn=$tgarn,containerName=app,containerPort=8080" --query service.status
    assert_output '"ACTIVE"'
}

@test "CreateService: awsvpc needs a network configuration, an ip target group and a port the container maps; FARGATE a Fargate task definition" {
    allow_contract_refusal
    local inst ip
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    fargate_td "f-$H" example/model:good >/dev/null
    awsref ecs register-task-definition --family "e-$H" --container-definitions \
        '[{"name":"app","image":"x","memory":128}]' >/dev/null
    run --separate-stderr awsref ecs create-service --cluster "$H" --service-name a --task-definition "f-$H" \
        --desired-count 1 --launch-type FARGATE
    refused InvalidParameterException "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    run --separate-stderr awsref ecs create-service --cluster "$H" --service-name b --task-definition "e-$H" \
        --desired-count 1 --launch-type FARGATE
    refused InvalidParameterException "Task definition does not support launch_type FARGATE."
    inst=$(tg instance)
    "$REPO/tests/stack/alb" "lb-$H" "$inst" >/dev/null
    run --separate-stderr awsref ecs create-service --cluster "$H" --service-name c --task-definition "f-$H" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$(netconf)" \
        --load-balancers "targetGroupArn=$inst,containerName=app,containerPort=8080"
    refused InvalidParameterException "has target type instance, which is incompatible with the awsvpc network mode"
    ip=$(tg)
    "$REPO/tests/stack/alb" "lb-$H" "$ip" >/dev/null
    run --separate-stderr awsref ecs create-service --cluster "$H" --service-name d --task-definition "f-$H" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$(netconf)" \
        --load-balancers "targetGroupArn=$ip,containerName=app,containerPort=9090"
    refused InvalidParameterException "The container app did not have a container port 9090 defined."
}

@test "RunTask: count 1 to 10, a launch type or a capacity provider strategy, startedBy and clientToken as ECS takes them, networkConfiguration exactly for awsvpc" {
    allow_contract_refusal
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    fargate_td "f-$H" example/model:good >/dev/null
    awsref ecs register-task-definition --family "e-$H" --requires-compatibilities EC2 --container-definitions \
        '[{"name":"app","image":"x","memory":128}]' >/dev/null
    local net
    net=$(netconf)
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --count 11 \
        --launch-type FARGATE --network-configuration "$net"
    refused InvalidParameterException "up to 10 tasks"
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --launch-type FARGATE \
        --capacity-provider-strategy capacityProvider=FARGATE,weight=1 --network-configuration "$net"
    refused InvalidParameterException "Specifying both a launch type and capacity provider strategy is not supported."
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --launch-type FARGATE \
        --network-configuration "$net" --started-by 'has space'
    refused InvalidParameterException "startedBy"
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --launch-type FARGATE \
        --network-configuration "$net" --propagate-tags SERVICE
    refused InvalidParameterException "propagateTags"
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --launch-type FARGATE
    refused InvalidParameterException "Network Configuration must be provided when networkMode 'awsvpc' is specified."
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "e-$H" --launch-type FARGATE
    refused InvalidParameterException "Task definition does not support launch_type FARGATE."
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "e-$H" --launch-type EC2 \
        --network-configuration "$net"
    refused InvalidParameterException "Network Configuration is not valid for the given networkMode"
    # Taken: the same call within the rules (and one-off tasks stop on their own).
    run -0 --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --launch-type FARGATE \
        --network-configuration "$net" --started-by ci/run_1 --overrides \
        '{"containerOverrides":[{"name":"app","command":["sh","-c","exit 0"]}]}' --query 'length(tasks)'
    assert_output 1
}

@test "a deregistered (INACTIVE) task definition: CreateService, UpdateService and RunTask refuse it" {
    allow_contract_refusal
    local old net
    sim_service web example/model:good
    old=$(fargate_td "fam-$H" example/model:good)
    awsref ecs deregister-task-definition --task-definition "$old" >/dev/null
    net=$(netconf)
    run --separate-stderr awsref ecs update-service --cluster "$H" --service web --task-definition "$old"
    refused ClientException "TaskDefinition is inactive"
    run --separate-stderr awsref ecs create-service --cluster "$H" --service-name other --task-definition "$old" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$net"
    refused ClientException "TaskDefinition is inactive"
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "$old" --launch-type FARGATE \
        --network-configuration "$net"
    refused ClientException "TaskDefinition is inactive"
}

@test "UpdateService: new load balancers are held to the same rule" {
    allow_contract_refusal
    local other
    sim_service web example/model:good
    other=$(tg)
    run --separate-stderr awsref ecs update-service --cluster "$H" --service web \
        --load-balancers "targetGroupArn=$other,containerName=app,containerPort=8080"
    refused InvalidParameterException "does not have an associated load balancer"
}

@test "ecs-roll --wait-healthy and its stopped-task explanation list tasks the way ECS takes them (item 1)" {
    need_tool ecs-roll
    export SK_POLL_SCALE=0.1
    sim_service web example/model:good
    run -0 --separate-stderr ecs-roll --cluster "$H" --service web --image app=example/model:good2 --wait-healthy
    run -1 --separate-stderr ecs-roll --cluster "$H" --service web --image app=example/model:crash
    [[ $stderr == *"stopped task "*"EssentialContainerExited"* ]] || fail "no stopped task shown: $stderr"
    [[ $stderr != *"cannot list the stopped tasks"* ]] || fail "ListTasks failed: $stderr"
    # No refusal was allowed: the teardown fails this test if the layer refused any call of ecs-roll.
}

@test "ecs-roll strips every output-only field, deregisteredAt and deleteRequestedAt included (item 4)" {
    need_tool ecs-roll
    local py base
    py=$(pyref) && "$py" -c 'import boto3' 2>/dev/null || skip "no python3 with boto3"
    export SK_POLL_SCALE=0.1
    sim_service web example/model:good
    base=$(awsref ecs describe-services --cluster "$H" --services web --query 'services[0].taskDefinition' --output text)
    awsref ecs deregister-task-definition --task-definition "$base" >/dev/null
    # DeleteTaskDefinitions and deleteRequestedAt are newer than Debian's aws-cli: boto3.
    "$py" -c 'import boto3, os, sys
ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
r = ecs.delete_task_definitions(taskDefinitions=[sys.argv[1]])
assert not r["failures"], r' "$base"
    run -0 "$py" -c 'import boto3, os, sys
td = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"]).describe_task_definition(taskDefinition=sys.argv[1])
print(td["taskDefinition"]["status"], "deregisteredAt" in td["taskDefinition"], "deleteRequestedAt" in td["taskDefinition"])' "$base"
    assert_output "DELETE_IN_PROGRESS True True"
    # ecs-roll copies the running revision: the layer refuses any output-only member it sends back.
    run -0 --separate-stderr ecs-roll --cluster "$H" --service web --image app=example/model:good2
    run -0 awsref ecs describe-services --cluster "$H" --services web --query 'services[0].taskDefinition' --output text
    assert_equal "$output" "${base%:*}:$((${base##*:} + 1))"
}

# ---- CloudWatch Logs, SSM, Secrets Manager, RDS, STS ---------------------------------------------

@test "FilterLogEvents/GetLogEvents: one of logGroupName or logGroupIdentifier, not both stream filters, forward tokens from the head" {
    allow_contract_refusal
    local g=/ecs/$H
    awsref logs create-log-group --log-group-name "$g"
    awsref logs create-log-stream --log-group-name "$g" --log-stream-name s
    run --separate-stderr awsref logs filter-log-events --log-group-name "$g" --log-stream-names s --log-stream-name-prefix s
    refused InvalidParameterException "Cannot specify both logStreamNames and logStreamNamePrefix."
    run --separate-stderr awsref logs filter-log-events --log-group-name "$g" \
        --log-group-identifier "arn:aws:logs:us-east-1:$ACCT:log-group:$g"
    refused InvalidParameterException "either logGroupIdentifier or logGroupName, but not both"
    run --separate-stderr awsref logs get-log-events --log-group-name "$g" --log-stream-name s \
        --next-token "f/00000000000000000000000000000000000000000000000000000000" --no-start-from-head
    refused InvalidParameterException "startFromHead must be true"
    run --separate-stderr awsref logs get-log-events --log-group-name "$g" --log-stream-name "a:b"
    refused InvalidParameterException "Value 'a:b' at 'logStreamName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^:*]*"
    run -0 awsref logs filter-log-events --log-group-name "$g" --log-stream-name-prefix s --page-size 10000
}

@test "PutParameter: no Tags with Overwrite, Standard values up to 4096 characters, names as SSM takes them" {
    allow_contract_refusal
    local v
    run --separate-stderr awsref ssm put-parameter --name "/$H/a" --value v --type String --overwrite --tags Key=k,Value=v
    refused ValidationException "tags and overwrite can't be used together"
    v=$(head -c 4097 /dev/zero | tr '\0' x)
    run --separate-stderr awsref ssm put-parameter --name "/$H/b" --value "$v" --type String
    refused ValidationException "Standard tier parameters support a maximum parameter value of 4096 characters"
    run --separate-stderr awsref ssm put-parameter --name "/aws/$H" --value v --type String
    refused ValidationException "can't be prefixed with \"aws\" or \"ssm\""
    run --separate-stderr awsref ssm put-parameter --name "$H/x" --value v --type String
    refused ValidationException "Parameter name must be a fully qualified name."
    run --separate-stderr awsref ssm put-parameter --name "/$H$(printf '/l%s' $(seq 1 15))" --value v --type String
    refused HierarchyLevelLimitExceededException "maximum of 15 levels"
    run --separate-stderr awsref ssm put-parameter --name "/$H/c" --value v --type Secure
    refused ValidationException "Member must satisfy enum value set: [String, StringList, SecureString]"
    # shellcheck disable=SC2046 # one argument each
    run --separate-stderr awsref ssm get-parameters --names $(seq -f "/$H/p%g" 1 11)
    refused ValidationException "at 'names' failed to satisfy constraint: Member must have length less than or equal to 10"
    run -0 awsref ssm put-parameter --name "/$H/d" --value "$v" --type String --tier Advanced --query Tier
    assert_output '"Advanced"'
}

@test "Secrets Manager: SecretString or SecretBinary, not both; ClientRequestToken of 32 to 64 characters; names" {
    allow_contract_refusal
    local s f=$BATS_TEST_TMPDIR/secret
    s=$(canary sm-secret)
    printf '%s' "$s" >"$f"
    allow_secret_file "$f"
    run --separate-stderr awsref secretsmanager create-secret --name "$H/a" --secret-string "file://$f" \
        --secret-binary "fileb://$f"
    refused InvalidParameterException "You can't specify both a binary secret value and a string secret value"
    [[ $stderr != *"$s"* ]] || fail "the refusal shows the secret"
    # (aws-cli itself checks minimum lengths, not maximum ones)
    run --separate-stderr awsref secretsmanager create-secret --name "$H/b" --secret-string "file://$f" \
        --client-request-token "$(printf 't%.0s' $(seq 1 65))"
    refused ValidationException "at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 64"
    run --separate-stderr awsref secretsmanager create-secret --name "$H c" --secret-string "file://$f"
    refused ValidationException "Invalid name"
    awsref secretsmanager create-secret --name "$H/d" --secret-string "file://$f" >/dev/null
    run --separate-stderr awsref secretsmanager put-secret-value --secret-id "$H/d"
    refused InvalidParameterException "You must provide either SecretString or SecretBinary."
}

@test "RDS: MaxRecords 20 to 100 and only the filters each call knows" {
    allow_contract_refusal
    run --separate-stderr awsref rds describe-db-instances --page-size 5
    refused InvalidParameterValue "Invalid value 5 for MaxRecords. Must be between 20 and 100"
    run --separate-stderr awsref rds describe-db-instances --filters Name=db-name,Values=x
    refused InvalidParameterValue "Unrecognized filter name: db-name."
    run --separate-stderr awsref rds describe-pending-maintenance-actions --filters Name=engine,Values=postgres
    refused InvalidParameterValue "Unrecognized filter name: engine."
    run -0 awsref rds describe-db-instances --page-size 20 --filters Name=engine,Values=postgres
}

@test "STS AssumeRole: DurationSeconds up to the role's maximum session duration" {
    allow_contract_refusal
    run --separate-stderr awsref sts assume-role --role-arn "$SK_DEPLOY_ROLE_ARN" --role-session-name session --duration-seconds 7200
    refused ValidationError "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
    run --separate-stderr awsref sts assume-role --role-arn "$SK_DEPLOY_ROLE_ARN" --role-session-name 'a b' --duration-seconds 900
    refused ValidationError "at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern"
    run -0 awsref sts assume-role --role-arn "$SK_DEPLOY_ROLE_ARN" --role-session-name session --duration-seconds 3600 \
        --query AssumedRoleUser.Arn --output text
}

@test "DescribeTasks, DescribeServices: an empty list is refused; RegisterTaskDefinition: an empty container list, Fargate without task memory" {
    need_tool aws-sign
    allow_contract_refusal
    local ecs=AmazonEC2ContainerServiceV20141113
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    run --separate-stderr wire ecs "$ecs.DescribeTasks" "{\"cluster\":\"$H\",\"tasks\":[]}"
    refused InvalidParameterException "Tasks cannot be empty."
    run --separate-stderr wire ecs "$ecs.DescribeServices" "{\"cluster\":\"$H\",\"services\":[]}"
    refused InvalidParameterException "Services cannot be empty."
    run --separate-stderr wire ecs "$ecs.RegisterTaskDefinition" "{\"family\":\"f-$H\",\"containerDefinitions\":[]}"
    refused ClientException "Container list cannot be empty."
    run --separate-stderr awsref ecs register-task-definition --family "f-$H" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu 256 --container-definitions '[{"name":"app","image":"x"}]'
    refused ClientException "Fargate requires that 'memory' be defined at the task level."
}

@test "RunTask: a clientToken over 64 characters or with a blank, overrides over 8192 characters of JSON" {
    need_tool aws-sign
    allow_contract_refusal
    local base long
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    fargate_td "f-$H" example/model:good >/dev/null
    # (this aws-cli has no --client-token: aws-sign sends them)
    base=$(jq -nc --arg c "$H" --arg td "f-$H" --argjson net "$(netconf)" \
        '{cluster: $c, taskDefinition: $td, launchType: "FARGATE", networkConfiguration: $net}')
    run --separate-stderr wire ecs AmazonEC2ContainerServiceV20141113.RunTask \
        "$(jq -c --arg t "$(printf 't%.0s' $(seq 1 65))" '. + {clientToken: $t}' <<<"$base")"
    refused InvalidParameterException "clientToken: up to 64 characters in the range of 33-126 are allowed."
    run --separate-stderr wire ecs AmazonEC2ContainerServiceV20141113.RunTask \
        "$(jq -c '. + {clientToken: "a token"}' <<<"$base")"
    refused InvalidParameterException "clientToken: up to 64 characters"
    long=$(head -c 8200 /dev/zero | tr '\0' x)
    run --separate-stderr awsref ecs run-task --cluster "$H" --task-definition "f-$H" --launch-type FARGATE \
        --network-configuration "$(netconf)" --overrides "{\"containerOverrides\":[{\"name\":\"app\",\"command\":[\"$long\"]}]}"
    refused InvalidParameterException "Container Overrides length must be at most 8192."
    # Nothing ran.
    assert_equal "$(awsref ecs list-tasks --cluster "$H" --query 'length(taskArns)')" 0
}

@test "CreateService, UpdateService: BLUE_GREEN needs bakeTimeInMinutes, linear and canary configurations only with their strategy; DescribeServiceDeployments at most 20 ARNs" {
    need_tool aws-sign
    allow_contract_refusal
    local ecs=AmazonEC2ContainerServiceV20141113 op dc
    awsref ecs create-cluster --cluster-name "$H" >/dev/null
    fargate_td "f-$H" example/model:good >/dev/null
    for op in CreateService UpdateService; do
        for dc in '{"strategy":"BLUE_GREEN"}|bakeTimeInMinutes is required for the BLUE_GREEN deployment strategy' \
            '{"strategy":"ROLLING","linearConfiguration":{"stepPercent":10}}|linearConfiguration is only valid with the LINEAR deployment strategy' \
            '{"strategy":"LINEAR","canaryConfiguration":{"canaryPercent":10}}|canaryConfiguration is only valid with the CANARY deployment strategy'; do
            run --separate-stderr wire ecs "$ecs.$op" "$(jq -nc --arg op "$op" --arg c "$H" --arg td "f-$H" \
                --argjson dc "${dc%%|*}" --argjson net "$(netconf)" \
                'if $op == "CreateService" then {cluster: $c, serviceName: "web", taskDefinition: $td, desiredCount: 1,
                   launchType: "FARGATE", networkConfiguration: $net, deploymentConfiguration: $dc}
                 else {cluster: $c, service: "web", deploymentConfiguration: $dc} end')"
            refused InvalidParameterException "${dc#*|}"
        done
    done
    run --separate-stderr wire ecs "$ecs.DescribeServiceDeployments" "$(jq -nc --arg c "$H" \
        '{serviceDeploymentArns: [range(21) | "arn:aws:ecs:us-east-1:123456789012:service-deployment/\($c)/web/\(.)"]}')"
    refused InvalidParameterException "serviceDeploymentArns can have at most 20 ARNs"
    # Nothing was created.
    assert_equal "$(awsref ecs list-services --cluster "$H" --query 'length(serviceArns)')" 0
}

@test "FilterLogEvents/GetLogEvents: neither logGroupName nor logGroupIdentifier, or GetLogEvents with both" {
    allow_contract_refusal
    local g=/ecs/$H
    awsref logs create-log-group --log-group-name "$g"
    awsref logs create-log-stream --log-group-name "$g" --log-stream-name s
    run --separate-stderr awsref logs filter-log-events --log-stream-names s
    refused InvalidParameterException "You must include either logGroupIdentifier or logGroupName, but not both."
    run --separate-stderr awsref logs get-log-events --log-stream-name s
    refused InvalidParameterException "You must include either logGroupIdentifier or logGroupName, but not both."
    run --separate-stderr awsref logs get-log-events --log-group-name "$g" --log-stream-name s \
        --log-group-identifier "arn:aws:logs:us-east-1:$ACCT:log-group:$g"
    refused InvalidParameterException "You must include either logGroupIdentifier or logGroupName, but not both."
    run -0 awsref logs get-log-events --log-group-identifier "arn:aws:logs:us-east-1:$ACCT:log-group:$g" --log-stream-name s
}

@test "PutParameter: Advanced values up to 8192 characters, names up to 1011 characters, of letters, digits and .-_, not prefixed ssm" {
    allow_contract_refusal
    local v
    v=$(head -c 8193 /dev/zero | tr '\0' x)
    run --separate-stderr awsref ssm put-parameter --name "/$H/a" --value "$v" --type String --tier Advanced
    refused ValidationException "Advanced tier parameters support a maximum parameter value of 8192 characters."
    run --separate-stderr awsref ssm put-parameter --name "/$H/$(head -c 1011 /dev/zero | tr '\0' n)" --value v --type String
    refused ValidationException "Parameter name must be at most 1011 characters."
    run --separate-stderr awsref ssm put-parameter --name "/$H/has space" --value v --type String
    refused ValidationException "each sub-path can be formed as a mix of letters, numbers and the following 3 symbols .-_"
    run --separate-stderr awsref ssm put-parameter --name "SSM-$H" --value v --type String
    refused ValidationException "can't be prefixed with \"aws\" or \"ssm\" (case-insensitive)"
    # Nothing was written.
    assert_equal "$(awsref ssm get-parameters-by-path --path "/$H" --query 'length(Parameters)')" 0
}

@test "PutSecretValue, UpdateSecret: SecretString or SecretBinary, not both; AssumeRoleWithWebIdentity: DurationSeconds up to the role's maximum" {
    allow_contract_refusal
    local s f=$BATS_TEST_TMPDIR/secret op
    s=$(canary sm-both)
    printf '%s' "$s" >"$f"
    allow_secret_file "$f"
    awsref secretsmanager create-secret --name "$H/a" --secret-string "file://$f" >/dev/null
    for op in put-secret-value update-secret; do
        run --separate-stderr awsref secretsmanager "$op" --secret-id "$H/a" --secret-string "file://$f" \
            --secret-binary "fileb://$f"
        refused InvalidParameterException "You can't specify both a binary secret value and a string secret value in the same secret."
        [[ $stderr != *"$s"* ]] || fail "the refusal shows the secret"
    done
    run --separate-stderr awsref sts assume-role-with-web-identity --role-arn "$SK_DEPLOY_ROLE_ARN" \
        --role-session-name session --web-identity-token not-checked --duration-seconds 7200
    refused ValidationError "The requested DurationSeconds exceeds the MaxSessionDuration set for this role."
}

# ---- the wire: awsJson1_1 and awsQuery deserialised by the input shape ------------------------------

@test "the wire: unknown members and wrong types are refused as each protocol refuses them" {
    need_tool aws-sign
    allow_contract_refusal
    local ep=$AWS_ENDPOINT_URL/ json=(-H 'Content-Type: application/x-amz-json-1.1')
    run -4 --separate-stderr aws-sign -d '{"Name":"/x","Bogus":1}' --service ssm -H 'X-Amz-Target: AmazonSSM.GetParameter' "${json[@]}" "$ep"
    refused SerializationException "Unknown parameter 'Bogus'"
    run -4 --separate-stderr aws-sign -d '{"Name":"/x","WithDecryption":"yes"}' --service ssm -H 'X-Amz-Target: AmazonSSM.GetParameter' "${json[@]}" "$ep"
    refused SerializationException "at 'withDecryption' failed to satisfy constraint: Member must be of type boolean"
    run -4 --separate-stderr aws-sign -d '{}' --service ssm -H 'X-Amz-Target: AmazonSSM.GetParameterz' "${json[@]}" "$ep"
    refused UnknownOperationException
    run -4 --separate-stderr aws-sign -d "Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=arn:aws:elasticloadbalancing:us-east-1:$ACCT:targetgroup/x/1&Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=70000" \
        --service elasticloadbalancing "$ep"
    refused ValidationError "Value '70000' at 'targets.1.member.port' failed to satisfy constraint: Member must have value less than or equal to 65535"
    run -4 --separate-stderr aws-sign -d 'Action=DescribeTargetGroups&Version=2015-12-01&Names.member.1=a&Nmaes.member.1=b' \
        --service elasticloadbalancing "$ep"
    refused ValidationError "Unknown parameter 'Nmaes.member.1'"
    run -4 --separate-stderr aws-sign -d 'Action=DescribeVpcs&Version=2016-11-15&VpcId.1=vpc-1&Bogus=1' --service ec2 "$ep"
    refused UnknownParameter "The parameter Bogus is not recognized"
    run -4 --separate-stderr aws-sign -d 'Action=GetCallerIdentityz&Version=2011-06-15' --service sts "$ep"
    refused InvalidAction
    run -0 aws-sign -d 'Action=DescribeTargetGroups&Version=2015-12-01&PageSize=400' --service elasticloadbalancing \
        -H 'Content-Type: application/x-www-form-urlencoded' "$ep"
}

@test "the model: a body that is no JSON, missing required members, lengths and ranges below their minimum, EC2's MissingParameter" {
    need_tool aws-sign
    allow_contract_refusal
    local ep=$AWS_ENDPOINT_URL/
    run -4 --separate-stderr wire ssm AmazonSSM.GetParameter 'Name=/x'
    refused SerializationException "The request body is not valid JSON"
    run -4 --separate-stderr wire ssm AmazonSSM.GetParameter '{}'
    refused ValidationException "Value null at 'name' failed to satisfy constraint: Member must not be null"
    run -4 --separate-stderr wire ssm AmazonSSM.GetParameter '{"Name":""}'
    refused ValidationException "at 'name' failed to satisfy constraint: Member must have length greater than or equal to 1"
    run -4 --separate-stderr aws-sign -d 'Action=DescribeTargetGroups&Version=2015-12-01&PageSize=0' \
        --service elasticloadbalancing "$ep"
    refused ValidationError "at 'pageSize' failed to satisfy constraint: Member must have value greater than or equal to 1"
    run -4 --separate-stderr aws-sign -d "Action=DescribeTargetHealth&Version=2015-12-01&TargetGroupArn=arn:aws:elasticloadbalancing:us-east-1:$ACCT:targetgroup/x/1&Targets.member.1.Id=10.0.0.1&Targets.member.1.Port=abc" \
        --service elasticloadbalancing "$ep"
    refused ValidationError "failed to satisfy constraint: Member must be"
    run -4 --separate-stderr aws-sign -d 'Action=DescribeVpcAttribute&Version=2016-11-15&VpcId=vpc-1' --service ec2 "$ep"
    refused MissingParameter "The request must contain the parameter Attribute"
}

@test "every refusal the layer can answer is shown by a test (contract_rules.py's messages, the model's kinds)" {
    local py
    py=$(pyref) || skip "no python3 with botocore"
    # A rule's message is shown when a `refused CODE TEXT` quotes part of it (9 characters or more
    # between $variables), or a literal piece of it (between its {placeholders}, 12 characters or
    # more) appears in a bats file (a message a loop hands to `refused`).
    run -0 "$py" - "$REPO/tests/stack/contract_rules.py" "$REPO"/tests/bats/*.bats <<'EOF'
import ast, re, sys
src = open(sys.argv[1]).read()
raw = "".join(open(f).read() for f in sys.argv[2:])
bats = raw.replace("\\", "")
consts = {n.targets[0].id: n.value.value for n in ast.parse(src).body
          if isinstance(n, ast.Assign) and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Constant)}
def pieces(node):
    if isinstance(node, ast.Constant):
        return [node.value]
    if isinstance(node, ast.JoinedStr):
        return [v.value for v in node.values if isinstance(v, ast.Constant)]
    if isinstance(node, ast.Name):
        return [consts.get(node.id, "")]
    return []
rules = [n for n in ast.walk(ast.parse(src)) if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "Refusal"]
model = ["The request body is not valid JSON", "Unknown parameter '", "is not recognized",
         "The request must contain the parameter", "Member must not be null", "Member must be of type",
         "Member must satisfy enum value set", "Member must satisfy regular expression pattern",
         "Member must have length greater than or equal to", "Member must have length less than or equal to",
         "Member must have value greater than or equal to", "Member must have value less than or equal to",
         "UnknownOperationException", "InvalidAction"]
quoted = [q for t in re.findall(r'refused \w+ "((?:[^"\\]|\\.)*)"', raw)
          for q in re.split(r"\$\{[^}]*\}|\$\w+", t.replace("\\", "")) if len(q.strip()) >= 9]
missing = []
for call in rules:
    ps = pieces(call.args[1])
    if not any(p[:30] in bats for p in ps if len(p.strip()) >= 12) and not any(q in p for q in quoted for p in ps):
        missing.append(f"contract_rules.py:{call.lineno}: {''.join(pieces(call.args[1]))[:80]}")
missing += [f"model: {m}" for m in model if m not in bats]
print(f"{len(rules)} rule refusals, {len(model)} model kinds")
print("\n".join(missing))
sys.exit(1 if missing else 0)
EOF
    [[ ${lines[0]} == *" rule refusals, "* ]] && ((${#lines[@]} == 1)) || fail "$output"
}

# ---- answers, and how a violation fails a test --------------------------------------------------------

@test "answers are checked against the output shape: types, enums, containers, required members" {
    local py
    py=$(pyref) || skip "no python3 with botocore"
    run -0 "$py" - "$REPO/tests/stack" <<'EOF'
import sys
sys.path.insert(0, sys.argv[1])
import contract
ecs, ssm, elbv2 = (contract.service_model(s) for s in ("ecs", "ssm", "elbv2"))
J = [("Content-Type", "application/x-amz-json-1.1")]
def j(m, op, body):
    return contract.check_response(m, op, 200, J, body.encode())
assert j(ecs, "DescribeTaskDefinition", '{"taskDefinition": {"family": "f", "revision": 1, "cpu": "256"}}') == []
print(j(ecs, "DescribeTaskDefinition", '{"taskDefinition": {"family": "f", "revision": "1"}}'))
print(j(ecs, "DescribeServices", '{"services": [{"serviceName": "s", "launchType": "BOGUS"}]}'))
print(j(ecs, "ListTasks", '{"taskArns": "arn:aws:ecs:us-east-1:1:task/c/1"}'))
print(j(ecs, "DescribeTaskDefinition", '{"taskDefinition": {"requiresAttributes": [{"value": "x"}]}}'))
print(j(ssm, "GetParameter", '{"Parameter": {"Name": "/p", "Value": 12345678901}}'))
print(j(ecs, "ListTasks", 'not json'))
xml = ('<DescribeTargetHealthResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2015-12-01/">'
       '<DescribeTargetHealthResult><TargetHealthDescriptions><member><Target><Id>10.0.0.1</Id><Port>x</Port>'
       '</Target><TargetHealth><State>weird</State></TargetHealth></member></TargetHealthDescriptions>'
       '</DescribeTargetHealthResult></DescribeTargetHealthResponse>')
print(contract.check_response(elbv2, "DescribeTargetHealth", 200, [], xml.encode()))
print(contract.check_response(elbv2, "DescribeTargetHealth", 200, [], xml.replace("<Port>x</Port>", "").encode()))
EOF
    assert_line --index 0 --partial "at 'taskDefinition.revision' failed to satisfy constraint: Member must be of type integer"
    assert_line --index 1 --partial "at 'services.1.member.launchType' failed to satisfy constraint: Member must satisfy enum value set: [EC2, FARGATE, EXTERNAL, MANAGED_INSTANCES]"
    assert_line --index 2 --partial "expected a list"
    assert_line --index 3 --partial "Value null at 'taskDefinition.requiresAttributes.1.member.name' failed to satisfy constraint: Member must not be null"
    assert_line --index 4 --partial "at 'parameter.value' failed to satisfy constraint: Member must be of type string"
    refute_line --index 4 --partial 12345678901
    assert_line --index 5 --partial "the body is not JSON"
    assert_line --index 6 --partial "does not parse"
    assert_line --index 7 --partial "at 'targetHealthDescriptions.1.member.targetHealth.state' failed to satisfy constraint: Member must satisfy enum value set"
}

# nested_bats NAME BODY: run a one-test bats file (loading helpers/common.bash) against this stack;
# its TAP output in $output. It has its own SK_TEST_ID, so what it provokes is never this test's.
nested_bats() {
    local root=$BATS_TEST_TMPDIR/nested
    mkdir -p "$root/tests/bats"
    ln -sfn "$REPO/tests/bats/helpers" "$root/tests/bats/helpers"
    ln -sfn "$REPO/bin" "$root/bin"
    ln -sfn "$REPO/tests/stack" "$root/tests/stack"
    printf 'load helpers/common\nsetup() { use_stack; }\n@test "%s" {\n%s\n}\n' "$1" "$2" >"$root/tests/bats/nested.bats"
    run --separate-stderr env SK_STACK_ENV="$SK_STACK_ENV" SK_SECRETS_FILE="$SK_SECRETS_FILE" \
        bats --tap "$root/tests/bats/nested.bats"
}

@test "a violation in an answer is a 500 ShipkitContractViolation, logged, and fails the test that caused it" {
    need_tool aws-sign
    nested_bats violation '
    curl -sf -o /dev/null -H "Content-Type: application/json" \
        --data "{\"inject\": {\"service\": \"sts\", \"action\": \"GetCallerIdentity\", \"test\": \"$SK_TEST_ID\"}}" \
        "$AWS_ENDPOINT_URL/shipkit-sim/contract"
    run -4 --separate-stderr env AWS_MAX_ATTEMPTS=1 aws-sign -d "Action=GetCallerIdentity&Version=2011-06-15" --service sts "$AWS_ENDPOINT_URL/"
    [[ $stderr == *"ShipkitContractViolation: sts GetCallerIdentity: the answer breaks the AWS output shape"* ]]'
    assert_equal "$status" 1
    assert_line --partial "not ok 1 violation"
    assert_line --partial "# contract violation: sts GetCallerIdentity: ShipkitContractViolation: "
    grep -aF '"kind": "violation"' "$SK_CONTRACT_LOG" | grep -qF '/nested.bats/1", "pid": ' ||
        fail "the violation is not logged with the nested test's id"
}

@test "a refusal nobody expected fails the test; allow_contract_refusal accepts it" {
    nested_bats unexpected 'awsref ecs list-tasks --cluster default --started-by x --desired-status RUNNING || true'
    assert_equal "$status" 1
    assert_line --partial "# contract refused: ecs ListTasks: InvalidParameterException: cannot specify startedBy with other arguments"
    nested_bats expected 'allow_contract_refusal
    if awsref ecs list-tasks --cluster default --started-by x --desired-status RUNNING; then false; fi'
    assert_equal "$status" 0
}

@test "the layer counts what it checked and the time it took; its control endpoint checks its input" {
    run -0 curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/contract"
    jq -e '.checked > 0 and .layer_ms_mean > 0 and (.log | length > 0)' <<<"$output" >/dev/null || fail "$output"
    run -0 curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' --data '{"inject": 1}' \
        "$AWS_ENDPOINT_URL/shipkit-sim/contract"
    assert_output 400
}
