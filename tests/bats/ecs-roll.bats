#!/usr/bin/env bats
# ecs-roll against the simulated ECS (tests/stack/ecs_sim.py): deploys, failures and their
# explanations, rollbacks, timeouts, dry runs; read back with the reference aws-cli.
# bats file_tags=ecs

load helpers/common
load helpers/ecs

setup() {
    need_tool ecs-roll
    ecs_sim_setup
}

# task_def FAMILY IMAGE: register a Fargate task definition with one awslogs container "app".
task_def() {
    awsref ecs register-task-definition --family "$1" --network-mode awsvpc --requires-compatibilities FARGATE \
        --cpu 256 --memory 512 --execution-role-arn "$SK_TASK_EXECUTION_ROLE_ARN" --tags key=team,value=ml \
        --container-definitions "[{\"name\":\"app\",\"image\":\"$2\",
        \"essential\":true,\"portMappings\":[{\"containerPort\":8080}],\"logConfiguration\":{\"logDriver\":\"awslogs\",
        \"options\":{\"awslogs-group\":\"/ecs/$1\",\"awslogs-region\":\"us-east-1\",\"awslogs-stream-prefix\":\"ecs\"}}}]" \
        --query taskDefinition.taskDefinitionArn --output text
}

# service NAME IMAGE [CIRCUIT_BREAKER_JSON]: a 2-task service behind a new target group (and a load
# balancer that forwards to it), deployed.
service() {
    local name=$1 image=$2 cb=${3:-'{"enable":true,"rollback":true}'} tg
    TG=$(awsref elbv2 create-target-group --name "tg-$C-$name" --protocol HTTP --port 8080 \
        --vpc-id "$(net_field vpcId)" --target-type ip --query 'TargetGroups[0].TargetGroupArn' --output text)
    "$REPO/tests/stack/alb" "lb-$C-$name" "$TG" >/dev/null
    task_def "fam-$C" "$image" >/dev/null
    awsref ecs create-service --cluster "$C" --service-name "$name" --task-definition "fam-$C" --desired-count 2 \
        --launch-type FARGATE --network-configuration \
        "awsvpcConfiguration={subnets=[$(net_field subnets)],securityGroups=[$(net_field securityGroupId)]}" \
        --load-balancers "targetGroupArn=$TG,containerName=app,containerPort=8080" \
        --deployment-configuration "{\"deploymentCircuitBreaker\":$cb}" >/dev/null
    # Let the first deployment finish.
    for _ in $(seq 1 100); do
        [[ $(awsref ecs describe-services --cluster "$C" --services "$name" \
            --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]] && return 0
        sleep 0.1
    done
    fail "the first deployment of $name did not complete"
}

running_td() {
    awsref ecs describe-services --cluster "$C" --services "$1" --query 'services[0].taskDefinition' --output text
}

@test "happy path: deployed, exit 0, and aws-cli sees the new task definition" {
    service web example/model:good
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good2
    assert_output --regexp "^deployed arn:aws:ecs:[^ ]+:task-definition/fam-$C:2 deployment ecs-svc/[0-9]+ in [0-9]+s$"
    [[ $stderr == *"deployment completed"* ]] || fail "events not printed: $stderr"
    assert_equal "$(running_td web)" "$(awsref ecs describe-task-definition --task-definition "fam-$C:2" \
        --query taskDefinition.taskDefinitionArn --output text)"
    # Fields not touched are carried over, image replaced, tags kept.
    assert_equal "$(awsref ecs describe-task-definition --task-definition "fam-$C:2" \
        --query 'taskDefinition.containerDefinitions[0].image' --output text)" example/model:good2
    assert_equal "$(awsref ecs describe-task-definition --task-definition "fam-$C:2" --include TAGS \
        --query 'tags[0].value' --output text)" ml
}

@test "the image the service already runs: unchanged, nothing registered or updated; --force deploys" {
    service web example/model:good
    local before
    before=$(running_td web)
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good --output json
    assert_equal "$(jq -r .verdict <<<"$output")" unchanged
    assert_equal "$(jq -r .taskDefinitionArn <<<"$output")" "$before"
    [[ $stderr == *"already runs fam-$C:1 with these images"*"nothing was changed"* ]] || fail "stderr: $stderr"
    assert_equal "$(awsref ecs list-task-definitions --family-prefix "fam-$C" --query 'length(taskDefinitionArns)')" 1
    assert_equal "$(running_td web)" "$before"
    # A new desired count is a change; so is --force.
    run -0 ecs-roll --cluster "$C" --service web --image app=example/model:good --force -q
    assert_equal "$(awsref ecs list-task-definitions --family-prefix "fam-$C" --query 'length(taskDefinitionArns)')" 2
    run -2 ecs-roll --cluster "$C" --service web --status --force
}

@test "an image given as repo@sha256 (as ecr-push prints it) with a single container needs no name" {
    service web example/model:good
    local ref="127.0.0.1:5000/model@sha256:$(printf x | sha256sum | cut -d' ' -f1)"
    run -0 ecs-roll --cluster "$C" --service web --image "$ref" -q
    assert_equal "$(awsref ecs describe-task-definition --task-definition "$(running_td web)" \
        --query 'taskDefinition.containerDefinitions[0].image' --output text)" "$ref"
}

@test "crash-looping image: circuit-breaker rollback is a failure, with stop reasons and log lines, exit 1" {
    service web example/model:good
    local before
    before=$(running_td web)
    run -1 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:crash --output json
    [[ $(jq -r .verdict <<<"$output") == rolled-back ]] || fail "verdict: $output"
    [[ $stderr == *"ECS rolled the deployment back"*"circuit breaker"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"EssentialContainerExited"* ]] || fail "no stop code: $stderr"
    [[ $stderr == *"exited with code 1"* ]] || fail "no exit code: $stderr"
    [[ $stderr == *"last log lines"* ]] || fail "no log lines: $stderr"
    assert_equal "$(running_td web)" "$before"
}

@test "circuit breaker without ECS rollback: ecs-roll rolls back itself, exit 1" {
    service web example/model:good '{"enable":true,"rollback":false}'
    local before
    before=$(running_td web)
    run -1 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:crash
    assert_output --regexp "^rolled-back "
    [[ $stderr == *"rolling back to fam-$C:1"* ]] || fail "stderr: $stderr"
    assert_equal "$(running_td web)" "$before"
}

@test "--no-rollback leaves a failed deploy in place, exit 1" {
    service web example/model:good '{"enable":true,"rollback":false}'
    run -1 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:crash --no-rollback
    assert_output --regexp "^failed "
    [[ $(running_td web) == *":2" ]] || fail "the failed revision should be left in place"
}

@test "a concurrent deploy that replaces ours is reported as such and not rolled back" {
    service web example/model:good
    local other
    other=$(task_def "fam-$C" example/model:other)
    ecs-roll --cluster "$C" --service web --image app=example/model:slow --output json >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" &
    local pid=$!
    sleep 1
    awsref ecs update-service --cluster "$C" --service web --task-definition "$other" >/dev/null
    local st=0
    wait "$pid" || st=$?
    assert_equal "$st" 1
    [[ $(jq -r .verdict "$BATS_TEST_TMPDIR/out") == replaced ]] || fail "$(cat "$BATS_TEST_TMPDIR/out")"
    grep -q "another deployment replaced ours" "$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
    assert_equal "$(running_td web)" "$other"
}

@test "--wait-healthy: unhealthy targets fail the deploy and it is rolled back, exit 1" {
    service web example/model:good
    local before
    before=$(running_td web)
    run -1 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:unhealthy --wait-healthy
    [[ $stderr == *"unhealthy"* ]] || fail "stderr: $stderr"
    assert_equal "$(running_td web)" "$before"
}

@test "--wait-healthy: healthy targets, exit 0" {
    service web example/model:good
    run -0 ecs-roll --cluster "$C" --service web --image app=example/model:good2 --wait-healthy -q
    assert_output --regexp "^deployed "
}

@test "a timeout exits 6 and leaves the deployment as it is" {
    service web example/model:good
    run -6 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:slow --timeout 1s
    assert_output --regexp "^timed-out "
    [[ $stderr == *"timed out after 1s"* ]] || fail "stderr: $stderr"
    [[ $(running_td web) == *":2" ]] || fail "the service should still be on the new revision"
}

@test "task definition from YAML" {
    service web example/model:good
    cat >"$BATS_TEST_TMPDIR/td.yaml" <<YAML
family: fam-$C
networkMode: awsvpc
requiresCompatibilities: [FARGATE]
cpu: 256
memory: 512
containerDefinitions:
  - name: app
    image: example/model:fromyaml
    essential: true
    portMappings:
      - containerPort: 8080
YAML
    run -0 ecs-roll --cluster "$C" --service web --task-def "$BATS_TEST_TMPDIR/td.yaml" -q
    assert_equal "$(awsref ecs describe-task-definition --task-definition "$(running_td web)" \
        --query 'taskDefinition.[containerDefinitions[0].image,cpu]' --output text)" $'example/model:fromyaml\t256'
}

@test "describe-task-definition output is accepted as --task-def, output-only fields stripped" {
    service web example/model:good
    awsref ecs describe-task-definition --task-definition "fam-$C:1" --include TAGS >"$BATS_TEST_TMPDIR/td.json"
    run -0 ecs-roll --cluster "$C" --service web --task-def "$BATS_TEST_TMPDIR/td.json" --image app=example/model:good2 -q
    assert_output --regexp "^deployed .*:2 "
}

@test "unknown cluster or service exits 4 with a clear message" {
    run -4 --separate-stderr ecs-roll --cluster nope-$C --service web --image x
    [[ $stderr == *ClusterNotFound* ]] || fail "stderr: $stderr"
    run -4 --separate-stderr ecs-roll --cluster "$C" --service nope --image x
    assert_equal "$stderr" "ecs-roll: service 'nope' not found in cluster '$C'"
}

@test "--dry-run prints the diff and changes nothing" {
    service web example/model:good
    run -0 ecs-roll --cluster "$C" --service web --image app=example/model:good2 --dry-run
    assert_output --partial '-      "image": "example/model:good",'
    assert_output --partial '+      "image": "example/model:good2",'
    assert_output --partial "nothing was changed"
    assert_equal "$(running_td web)" "$(awsref ecs describe-task-definition --task-definition "fam-$C:1" \
        --query taskDefinition.taskDefinitionArn --output text)"
    if awsref ecs describe-task-definition --task-definition "fam-$C:2" >/dev/null 2>&1; then fail "revision 2 exists"; fi
}

# revisions STATUS: the family's revision numbers in STATUS, newest first, on one line.
revisions() {
    awsref ecs list-task-definitions --family-prefix "fam-$C" --status "$1" --sort DESC \
        --query 'taskDefinitionArns[]' --output text | tr '\t' '\n' | sed 's/.*://' | paste -sd' '
}

@test "--keep-revisions N: after a deploy succeeds the family's revisions beyond the newest N go, never a running one; none after a failure" {
    service web example/model:good # fam:1 runs
    local i
    for i in 2 3 4 5; do task_def "fam-$C" "example/model:v$i" >/dev/null; done
    # ECS's order and pages (aws-cli pages through them, two at a time).
    run -0 awsref ecs list-task-definitions --family-prefix "fam-$C" --sort DESC --page-size 2 \
        --query 'taskDefinitionArns[]' --output text
    assert_equal "$(tr '\t' '\n' <<<"$output" | sed 's/.*://' | paste -sd' ')" "5 4 3 2 1"
    # The dry run counts the new revision as one of the 3 kept; fam:1 runs.
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good2 --dry-run \
        --keep-revisions 3
    assert_line "would deregister, once the deploy succeeds: fam-$C:3, fam-$C:2"
    assert_equal "$(revisions ACTIVE)" "5 4 3 2 1"
    # A failed deploy (ECS rolls it back to fam:1) deregisters nothing.
    run -1 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:crash --keep-revisions 1
    assert_equal "$(revisions ACTIVE)" "6 5 4 3 2 1"
    [[ $stderr != *"old revision"* ]] || fail "stderr: $stderr"
    # Deployed (fam:7): the newest two stay, the rest go, fam:1 (no longer running) too.
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good2 --keep-revisions 2 \
        --output json
    assert_equal "$(jq -r '.deregistered | map(split(":") | last) | join(" ")' <<<"$output")" "5 4 3 2 1"
    [[ $stderr == *"deregistered 5 old revisions of fam-$C (keeping the newest 2): fam-$C:5, fam-$C:4, fam-$C:3, fam-$C:2, fam-$C:1"* ]] ||
        fail "stderr: $stderr"
    assert_equal "$(revisions ACTIVE)" "7 6"
    assert_equal "$(revisions INACTIVE)" "5 4 3 2 1"
    # Unchanged is a success too; N=1 keeps the running fam:7 only.
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good2 --keep-revisions 1
    assert_equal "$(revisions ACTIVE)" "7"
    # As ECS: an INACTIVE revision runs no new deployment.
    allow_contract_refusal
    run --separate-stderr awsref ecs update-service --cluster "$C" --service web --task-definition "fam-$C:5"
    [[ $status -ne 0 && $stderr == *"(ClientException)"*"TaskDefinition is inactive"* ]] || fail "$status: $stderr"
    status=0
    run -2 --separate-stderr ecs-roll --cluster "$C" --service web --image app=x --keep-revisions 0
    assert_error_line ecs-roll "--keep-revisions must be a whole number from 1 to 10000, not '0'"
    run -2 --separate-stderr ecs-roll --cluster "$C" --service web --image app=x --keep-revisions 2 --no-wait
    assert_error_line ecs-roll "--keep-revisions waits for the verdict: not with --no-wait"
}

@test "bad input: unknown container, ambiguous image, bad timeout: exit 2, nothing registered" {
    service web example/model:good
    run -2 --separate-stderr ecs-roll --cluster "$C" --service web --image nope=x
    assert_equal "$stderr" "ecs-roll: no container named 'nope' in the task definition"
    run -2 ecs-roll --cluster "$C" --service web --image x --timeout 5 --timeout soon
    run -2 ecs-roll --cluster "$C" --image x
    if awsref ecs describe-task-definition --task-definition "fam-$C:2" >/dev/null 2>&1; then fail "revision 2 exists"; fi
}

@test "--status shows the service, its deployments, events and target health (JSON too, and make status-aws OUTPUT=json); --logs prints the task's log lines, --logs --stopped the stopped tasks" {
    service web example/model:good
    run -0 ecs-roll --cluster "$C" --service web --status
    assert_output --partial "service  web (ACTIVE)"
    assert_output --partial "PRIMARY"
    assert_output --partial "has reached a steady state"
    assert_line --regexp "^targets  tg-$C-web/[0-9a-f]+: 2 healthy\$"
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --status --output json
    assert_equal "$(jq -r '[.serviceName, .desiredCount, .runningCount, (.deployments | length),
        (.events | length > 0), .targetHealth[0].targetGroupArn] | @tsv' <<<"$output")" "web	2	2	1	true	$TG"
    assert_equal "$(jq -r '[.targetHealth[0].targets[] | .state + ":" + (.port | tostring)] | join(" ")' <<<"$output")" \
        "healthy:8080 healthy:8080"
    jq -e '.targetHealth[0].targets[0].id | test("^10\\.")' <<<"$output" >/dev/null || fail "target ids: $output"
    # make status-aws OUTPUT=json: one object per service and line
    printf 'ECS_CLUSTER := %s\nECS_SERVICES := web\ninclude %s/mk/deploy.mk\n' "$C" "$REPO" >"$BATS_TEST_TMPDIR/Makefile"
    run -0 --separate-stderr make -s -C "$BATS_TEST_TMPDIR" status-aws OUTPUT=json
    assert_equal "${#lines[@]}" 1
    assert_equal "$(jq -r '.serviceName + " " + .targetHealth[0].targets[0].state' <<<"$output")" "web healthy"
    run -2 --separate-stderr make -s -C "$BATS_TEST_TMPDIR" status-aws OUTPUT=yaml
    [[ $stderr == *"deploy.mk: OUTPUT 'yaml' is not text or json"* ]] || fail "stderr: $stderr"
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --logs --stopped
    [[ $stderr == *"web has no stopped tasks"* ]] || fail "stderr: $stderr"
    run -1 ecs-roll --cluster "$C" --service web --image app=example/model:crash -q
    run -0 ecs-roll --cluster "$C" --service web --logs --since 5m
    assert_output --partial "ModuleNotFoundError"
    # --stopped: the newest stopped tasks, why each stopped, their last log lines
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --logs --stopped
    assert_line --regexp "^stopped task [0-9a-f]+: EssentialContainerExited: Essential container in task exited\$"
    assert_output --partial "container app exited with code 1"
    assert_output --partial "ModuleNotFoundError: No module named 'mlflow'"
    run -2 --separate-stderr ecs-roll --cluster "$C" --service web --logs --stopped --follow
    assert_error_line ecs-roll "--stopped shows what has stopped: not with --follow"
    run -2 --separate-stderr ecs-roll --cluster "$C" --service web --status --stopped
    assert_error_line ecs-roll "--stopped goes with --logs"
    # make logs-aws is the same, for every service of the Makefile.
    printf 'ECS_CLUSTER := %s\nECS_SERVICES := web\ninclude %s/mk/deploy.mk\n' "$C" "$REPO" >"$BATS_TEST_TMPDIR/Makefile"
    run -0 make -s -C "$BATS_TEST_TMPDIR" logs-aws SINCE=5m
    assert_output --partial "ModuleNotFoundError"
}

@test "make deploy-aws rolls the pushed digest out, then waits for healthy targets" {
    need_tool tg-health
    service web example/model:good
    local dir=$BATS_TEST_TMPDIR/proj
    mkdir -p "$dir/build/images"
    echo "127.0.0.1:5000/model@sha256:$(printf y | sha256sum | cut -d' ' -f1)" >"$dir/build/images/model.ref"
    cat >"$dir/Makefile" <<MK
ECS_CLUSTER := $C
ECS_SERVICES := web
ECS_IMAGES_web := model=app
HEALTH_TIMEOUT := 30s
HEALTH_GRACE := 0s
push-images: ; @echo pushed
include $REPO/mk/deploy.mk
MK
    run -0 --separate-stderr make -s -C "$dir" deploy-aws
    assert_output --partial "deployed "
    [[ $(awsref ecs describe-task-definition --task-definition "$(running_td web)" \
        --query 'taskDefinition.containerDefinitions[0].image' --output text) == *@sha256:* ]] || fail "image not rolled"
    run -0 make -s -C "$dir" status-aws
    assert_output --partial "PRIMARY"
}

@test "log lines are read in the container's awslogs-region: a failed deploy's stopped tasks, and --logs" {
    service web example/model:good '{"enable":true,"rollback":false}'
    awsref ecs describe-task-definition --task-definition "fam-$C:1" --query taskDefinition --output json |
        jq '.containerDefinitions[0].logConfiguration.options["awslogs-region"] = "us-west-2"' >"$BATS_TEST_TMPDIR/td.json"
    # the group exists there, as ECS needs it to (ecs-roll checks before it registers the revision)
    awsref logs create-log-group --region us-west-2 --log-group-name "/ecs/fam-$C"
    run -1 --separate-stderr ecs-roll --cluster "$C" --service web --task-def "$BATS_TEST_TMPDIR/td.json" \
        --image app=example/model:crash --no-rollback
    [[ $stderr == *"last log lines (/ecs/fam-$C ecs/app/"*" in us-west-2):"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"ModuleNotFoundError: No module named 'mlflow'"* ]] || fail "no log lines: $stderr"
    [[ $stderr != *"(no log lines"* ]] || fail "stderr: $stderr"
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --logs --since 5m
    assert_output --partial "ModuleNotFoundError"
    # They are in us-west-2 only (the client's region is us-east-1).
    assert_equal "$AWS_REGION" us-east-1
    assert_equal "$(awsref logs describe-log-groups --region us-west-2 --log-group-name-prefix "/ecs/fam-$C" \
        --query 'length(logGroups)')" 1
    if awsref logs filter-log-events --region us-east-1 --log-group-name "/ecs/fam-$C" \
        --filter-pattern ModuleNotFoundError --query 'events[0].message' --output text 2>/dev/null | grep -q Module; then
        fail "the crash's lines are in us-east-1 too"
    fi
}
