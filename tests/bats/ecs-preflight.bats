#!/usr/bin/env bats
# shellcheck disable=SC2154 # status/output/stderr come from bats' run
# ecs-preflight: ecs-roll's checks before it registers anything (lib/svc/preflight.h, src/ecs-roll.1
# "Checks before a deploy"): each image in its registry, the roles, the secrets, the log groups and
# the load balancer's container and port. Each failure refuses the deploy with exit 1 and nothing
# registered or updated; --verify only checks; --no-verify skips them.
# bats file_tags=ecs

load helpers/common
load helpers/ecs

setup_file() {
    make_images
}

setup() {
    need_tool ecs-roll
    ecs_sim_setup
    H=$(unique | md5sum | cut -c1-10)
    R=pf-$H # this test's repository in the stack's registry
    IMG=$BATS_FILE_TMPDIR/img/oci.tar
}

# push TAG: the fixture image as $R:TAG in the account's ECR (the stack's registry).
push() {
    [[ -n ${SK_REGISTRY:-} ]] || skip "the stack has no registry"
    [[ -f $IMG ]] || fail "no fixture image ($IMG)"
    ecr-push -q --create-repo "$IMG" "$R:$1" >/dev/null || fail "cannot push $R:$1"
}

# service IMAGE: a 2-task Fargate service "web" running IMAGE behind an ip target group (container
# app, port 8080), its log group made, its first deployment completed.
service() {
    local tg
    tg=$(awsref elbv2 create-target-group --name "tg-$C" --protocol HTTP --port 8080 \
        --vpc-id "$(net_field vpcId)" --target-type ip --query 'TargetGroups[0].TargetGroupArn' --output text)
    "$REPO/tests/stack/alb" "lb-$C" "$tg" >/dev/null
    awsref logs create-log-group --log-group-name "/ecs/$C" || fail "cannot create the log group"
    awsref ecs register-task-definition --family "fam-$C" --network-mode awsvpc --requires-compatibilities FARGATE \
        --cpu 256 --memory 512 --execution-role-arn "$SK_TASK_EXECUTION_ROLE_ARN" \
        --container-definitions "[{\"name\":\"app\",\"image\":\"$1\",
        \"essential\":true,\"portMappings\":[{\"containerPort\":8080}],\"logConfiguration\":{\"logDriver\":\"awslogs\",
        \"options\":{\"awslogs-group\":\"/ecs/$C\",\"awslogs-region\":\"$AWS_REGION\",\"awslogs-stream-prefix\":\"ecs\"}}}]" \
        >/dev/null || fail "cannot register the task definition"
    awsref ecs create-service --cluster "$C" --service-name web --task-definition "fam-$C" --desired-count 2 \
        --launch-type FARGATE --network-configuration \
        "awsvpcConfiguration={subnets=[$(net_field subnets)],securityGroups=[$(net_field securityGroupId)]}" \
        --load-balancers "targetGroupArn=$tg,containerName=app,containerPort=8080" >/dev/null ||
        fail "cannot create the service"
    for _ in $(seq 1 100); do
        [[ $(awsref ecs describe-services --cluster "$C" --services web \
            --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]] && return 0
        sleep 0.1
    done
    fail "the first deployment did not complete"
}

# revisions: how many revisions the family has (any registered by ecs-roll shows here).
revisions() {
    awsref ecs list-task-definitions --family-prefix "fam-$C" --query 'length(taskDefinitionArns)' --output text
}

running_td() {
    awsref ecs describe-services --cluster "$C" --services web --query 'services[0].taskDefinition' --output text
}

# td JQ: the running task definition changed by the jq program JQ, as $BATS_TEST_TMPDIR/td.json.
td() {
    awsref ecs describe-task-definition --task-definition "$(running_td)" --query taskDefinition --output json |
        jq "$@" >"$BATS_TEST_TMPDIR/td.json" || fail "cannot write td.json"
}

roll() {
    timeout 60 ecs-roll --cluster "$C" --service web --timeout 50s "$@"
}

# refused: the last run exited 1 with nothing registered (still one revision) or updated.
refused() {
    assert_equal "$status" 1
    assert_equal "$(revisions)" 1
    assert_equal "$(running_td)" "$BEFORE"
    [[ $stderr == *"nothing was registered or updated"* ]] || fail "stderr: $stderr"
}

@test "all checks pass: one line each, the deploy goes on; the result has them; an unreachable image is a note" {
    push good
    push v2
    service "$SK_REGISTRY/$R:good"
    run -0 --separate-stderr roll --image "app=$SK_REGISTRY/$R:v2" --output json
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
    [[ $stderr == *"ecs-roll: verify: ok image app=$SK_REGISTRY/$R:v2: found"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"ecs-roll: verify: ok role executionRoleArn $SK_TASK_EXECUTION_ROLE_ARN: found"* ]] ||
        fail "stderr: $stderr"
    [[ $stderr == *"ecs-roll: verify: ok log-group /ecs/$C: found"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"ecs-roll: verify: ok load-balancer app:8080: target group tg-$C has target type ip"* ]] ||
        fail "stderr: $stderr"
    [[ $stderr != *FAIL* ]] || fail "stderr: $stderr"
    assert_equal "$(jq -c '[.verify[] | [.check, .ok]]' <<<"$output")" \
        '[["image",true],["log-group",true],["role",true],["load-balancer",true]]'
    # A Docker Hub name (no credentials for it) is not checked: a note, not a failure.
    run -0 --separate-stderr roll --image app=example/model:good2 -q
    [[ $stderr != *FAIL* ]] || fail "stderr: $stderr"
    run -0 --separate-stderr roll --image app=example/model:good3
    [[ $stderr == *"verify: note image app=example/model:good3: not checked: Docker Hub, no credentials for it"* ]] ||
        fail "stderr: $stderr"
}

@test "an image that is not in the registry: refused, exit 1, nothing registered" {
    push good
    service "$SK_REGISTRY/$R:good"
    BEFORE=$(running_td)
    run --separate-stderr roll --image "app=$SK_REGISTRY/$R:nope"
    refused
    [[ $stderr == *"ecs-roll: verify: FAIL image app=$SK_REGISTRY/$R:nope: not found in registry $SK_REGISTRY"* ]] ||
        fail "stderr: $stderr"
    # a repository the registry does not have at all
    run --separate-stderr roll --image "app=$SK_REGISTRY/nope-$R:v1"
    refused
}

@test "an image named by the account's ECR host: found through GetAuthorizationToken's registry, or refused" {
    [[ -n ${SK_ACCOUNT_ID:-} ]] || SK_ACCOUNT_ID=123456789012
    push good
    push v2
    service "$SK_REGISTRY/$R:good"
    BEFORE=$(running_td)
    local host=$SK_ACCOUNT_ID.dkr.ecr.$AWS_REGION.amazonaws.com
    run --separate-stderr roll --verify --image "app=$host/$R:nope"
    refused
    [[ $stderr == *"verify: FAIL image app=$host/$R:nope: not found in registry"* ]] || fail "stderr: $stderr"
    run -0 --separate-stderr roll --verify --image "app=$host/$R:v2"
    [[ $stderr == *"verify: ok image app=$host/$R:v2: found"* ]] || fail "stderr: $stderr"
}

@test "an image index: the manifest of the task's runtimePlatform must be in it (linux/amd64 by default)" {
    [[ -n ${SK_REGISTRY:-} ]] || skip "the stack has no registry"
    ecr-push -q --create-repo "oci:$BATS_FILE_TMPDIR/img/multi" "$R:multi" >/dev/null || fail "cannot push $R:multi"
    service example/model:good
    BEFORE=$(running_td)
    local t0 ms
    t0=$(date +%s%N)
    run --separate-stderr roll --verify --image "app=$SK_REGISTRY/$R:multi"
    ((status == 0)) || fail "exit $status, stderr: $stderr"
    ms=$((($(date +%s%N) - t0) / 1000000))
    [[ $stderr == *"verify: ok image app=$SK_REGISTRY/$R:multi: found (linux/amd64)"* ]] || fail "stderr: $stderr"
    # all the checks of a deploy, on the stack: well under a second (a generous bound for a loaded machine)
    echo "# --verify with an index: ${ms} ms" >&3
    ((ms < 3000)) || fail "--verify took ${ms} ms"
    td --arg i "$SK_REGISTRY/$R:multi" '.containerDefinitions[0].image = $i |
        .runtimePlatform = {operatingSystemFamily: "LINUX", cpuArchitecture: "ARM64"}'
    run -0 --separate-stderr roll --verify --task-def "$BATS_TEST_TMPDIR/td.json"
    [[ $stderr == *"verify: ok image app=$SK_REGISTRY/$R:multi: found (linux/arm64)"* ]] || fail "stderr: $stderr"
    td --arg i "$SK_REGISTRY/$R:multi" '.containerDefinitions[0].image = $i |
        .runtimePlatform = {operatingSystemFamily: "WINDOWS_SERVER_2022_CORE", cpuArchitecture: "X86_64"}'
    run --separate-stderr roll --task-def "$BATS_TEST_TMPDIR/td.json"
    refused
    [[ $stderr == *"verify: FAIL image app=$SK_REGISTRY/$R:multi: the image index has no windows/amd64 image"* ]] ||
        fail "stderr: $stderr"
}

@test "a role that does not exist: refused, exit 1, nothing registered" {
    service example/model:good
    BEFORE=$(running_td)
    td --arg r "arn:aws:iam::123456789012:role/nope-$H" '.taskRoleArn = $r'
    run --separate-stderr roll --task-def "$BATS_TEST_TMPDIR/td.json"
    refused
    [[ $stderr == *"verify: FAIL role taskRoleArn arn:aws:iam::123456789012:role/nope-$H: not found"* ]] ||
        fail "stderr: $stderr"
}

@test "secrets: a missing SSM parameter or Secrets Manager secret is refused; existing ones (a JSON key) pass" {
    local value arn
    service example/model:good
    BEFORE=$(running_td)
    td --arg p "/$C/missing" '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $p}]'
    run --separate-stderr roll --task-def "$BATS_TEST_TMPDIR/td.json"
    refused
    [[ $stderr == *"verify: FAIL secret app DB=/$C/missing: not found"* ]] || fail "stderr: $stderr"
    td --arg a "arn:aws:secretsmanager:$AWS_REGION:123456789012:secret:$C/nope-AbCdEf:password::" \
        '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $a}]'
    run --separate-stderr roll --task-def "$BATS_TEST_TMPDIR/td.json"
    refused
    [[ $stderr == *"verify: FAIL secret app DB=arn:aws:secretsmanager:"*": not found"* ]] || fail "stderr: $stderr"
    # Existing ones pass (--verify: nothing changes either way).
    value=$(canary db)
    printf '%s' "{\"password\":\"$value\"}" >"$BATS_TEST_TMPDIR/v"
    arn=$(secret-put -q --value-file "$BATS_TEST_TMPDIR/v" "$C/db" | cut -d' ' -f1) || fail "secret-put"
    printf '%s' "$(canary param)" >"$BATS_TEST_TMPDIR/p"
    ssm-put -q --value-file "$BATS_TEST_TMPDIR/p" "/$C/param" >/dev/null || fail "ssm-put"
    td --arg a "$arn:password::" --arg p "/$C/param" \
        '.containerDefinitions[0].secrets = [{name: "DB", valueFrom: $a}, {name: "P", valueFrom: $p}]'
    run -0 --separate-stderr roll --verify --task-def "$BATS_TEST_TMPDIR/td.json"
    [[ $stderr == *"verify: ok secret app DB=$arn:password::: found"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"verify: ok secret app P=/$C/param: found"* ]] || fail "stderr: $stderr"
    refute_leak "$value"
    assert_equal "$(revisions)" 1
}

@test "a log group that does not exist: refused; awslogs-create-group makes it the task's job" {
    service example/model:good
    BEFORE=$(running_td)
    td --arg g "/ecs/nope-$C" '.containerDefinitions[0].logConfiguration.options["awslogs-group"] = $g'
    run --separate-stderr roll --task-def "$BATS_TEST_TMPDIR/td.json"
    refused
    [[ $stderr == *"verify: FAIL log-group /ecs/nope-$C: not found"* ]] || fail "stderr: $stderr"
    td --arg g "/ecs/nope-$C" '.containerDefinitions[0].logConfiguration.options += {"awslogs-group": $g,
        "awslogs-create-group": "true"}'
    run -0 --separate-stderr roll --verify --task-def "$BATS_TEST_TMPDIR/td.json"
    [[ $stderr == *"verify: ok log-group /ecs/nope-$C: created by the task (awslogs-create-group)"* ]] ||
        fail "stderr: $stderr"
}

@test "the load balancer's container port is not mapped: refused, exit 1, nothing registered" {
    service example/model:good
    BEFORE=$(running_td)
    td '.containerDefinitions[0].portMappings = [{containerPort: 9090}]'
    run --separate-stderr roll --task-def "$BATS_TEST_TMPDIR/td.json" --output json
    refused
    [[ $stderr == *"verify: FAIL load-balancer app:8080: container 'app' maps no containerPort 8080"* ]] ||
        fail "stderr: $stderr"
    assert_equal "$(jq -r .verdict <<<"$output")" refused
    assert_equal "$(jq -c '[.verify[] | select(.ok | not) | .check]' <<<"$output")" '["load-balancer"]'
}

@test "--verify alone: exit 0 when all pass, 1 when one fails; nothing registered or updated either way" {
    push good
    service "$SK_REGISTRY/$R:good"
    BEFORE=$(running_td)
    run -0 --separate-stderr roll --verify --image "app=$SK_REGISTRY/$R:good" --output json
    assert_equal "$(jq -r .verdict <<<"$output")" verified
    assert_equal "$(jq -r '.verify | length' <<<"$output")" 4
    assert_equal "$(revisions)" 1
    run --separate-stderr roll --verify --image "app=$SK_REGISTRY/$R:nope"
    refused
    run -2 --separate-stderr roll --verify --no-verify
    run -2 --separate-stderr roll --verify --dry-run
}

@test "--no-verify skips the checks: the deploy goes ahead (a log group the task creates)" {
    service example/model:good
    td --arg g "/ecs/later-$C" '.containerDefinitions[0].logConfiguration.options["awslogs-group"] = $g'
    run -0 --separate-stderr roll --no-verify --task-def "$BATS_TEST_TMPDIR/td.json" --output json
    assert_equal "$(jq -r .verdict <<<"$output")" deployed
    assert_equal "$(jq -r 'has("verify")' <<<"$output")" false
    [[ $stderr != *"verify:"* ]] || fail "stderr: $stderr"
    assert_equal "$(revisions)" 2
}
