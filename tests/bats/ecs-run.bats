#!/usr/bin/env bats
# ecs-run against the simulated ECS (tests/stack/ecs_sim.py, docs/ecs-simulator.md "One-off tasks"):
# the verdict of one-off tasks, their log lines, each failure kind explained, timeouts and signals
# that stop the tasks, --count, --no-wait, JSON; read back with the reference aws-cli.
# bats file_tags=ecs

load helpers/common
load helpers/ecs

setup() {
    need_tool ecs-run
    ecs_sim_setup
}

# task_def FAMILY IMAGE [EXTRA_CONTAINER_JSON]: a Fargate task definition with one awslogs container "app",
# run by the execution role $EXEC_ROLE (default: the stack's).
task_def() {
    awsref ecs register-task-definition --family "$1" --network-mode awsvpc --requires-compatibilities FARGATE \
        --cpu 256 --memory 512 --execution-role-arn "${EXEC_ROLE:-$SK_TASK_EXECUTION_ROLE_ARN}" \
        --container-definitions "[{\"name\":\"app\",\"image\":\"$2\",\"essential\":true${3:-},
        \"logConfiguration\":{\"logDriver\":\"awslogs\",
        \"options\":{\"awslogs-group\":\"/ecs/$1\",\"awslogs-region\":\"us-east-1\",\"awslogs-stream-prefix\":\"ecs\"}}}]" \
        --query taskDefinition.taskDefinitionArn --output text
}

# service NAME IMAGE: a one-task Fargate service without a load balancer, deployed: what ecs-run
# --service takes its task definition and network from.
service() {
    task_def "fam-$C" "$2" >/dev/null
    awsref ecs create-service --cluster "$C" --service-name "$1" --task-definition "fam-$C" --desired-count 1 \
        --launch-type FARGATE --network-configuration \
        "awsvpcConfiguration={subnets=[$(net_field subnets)],securityGroups=[$(net_field securityGroupId)]}" \
        --tags key=team,value=ml >/dev/null
    for _ in $(seq 1 100); do
        [[ $(awsref ecs describe-services --cluster "$C" --services "$1" \
            --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]] && return 0
        sleep 0.1
    done
    fail "the first deployment of $1 did not complete"
}

# A family of its own for a run, in the stack's network: --task-def fam --subnet S --security-group G.
net_args() {
    printf '%s\n' --launch-type FARGATE --subnet "$(net_field subnets)" --security-group "$(net_field securityGroupId)"
}

task_field() { # ARN JMESPATH
    awsref ecs describe-tasks --cluster "$C" --tasks "$1" --query "tasks[0].$2" --output text
}

stream_lines() { # GROUP STREAM
    awsref logs get-log-events --log-group-name "$1" --log-stream-name "$2" --start-from-head \
        --query 'events[].message' --output json
}

@test "success: exit 0, the state changes and the log lines as they come, the verdict on stdout" {
    service web example/model:good
    run -0 --separate-stderr ecs-run --cluster "$C" --service web -- sh -c 'echo migrating; sleep 20; echo done'
    assert_output --regexp "^arn:aws:ecs:[^ ]+:task/$C/[0-9a-f]+ succeeded 0\$"
    local id=${output%% *}
    id=${id##*/}
    [[ $stderr == *"started task $id"* ]] || fail "no start line: $stderr"
    [[ $stderr == *"task $id: RUNNING"* && $stderr == *"task $id: STOPPED"* ]] || fail "no state changes: $stderr"
    [[ $stderr == *"[$id app] migrating"*"[$id app] done"* ]] || fail "log lines not streamed: $stderr"
    [[ $stderr == *"task $id succeeded: exit code 0"* ]] || fail "no verdict line: $stderr"
    # The service's network, launch type and tags, and our startedBy.
    local arn=${output%% *}
    assert_equal "$(task_field "$arn" launchType)" FARGATE
    assert_equal "$(task_field "$arn" startedBy)" ecs-run
    assert_equal "$(awsref ecs describe-tasks --cluster "$C" --tasks "$arn" --include TAGS \
        --query 'tasks[0].tags[?key==`team`].value' --output text)" ml
}

@test "a non-zero exit code: exit 1, the exit code, why, and the last log lines" {
    service web example/model:good
    run -1 --separate-stderr ecs-run --cluster "$C" --service web --no-logs \
        -- sh -c 'echo loading model; echo error: model file truncated; exit 3'
    assert_output --regexp " failed 3\$"
    [[ $stderr == *"failed: exit code 3"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"why: container app exited with code 3"* ]] || fail "no why: $stderr"
    [[ $stderr == *"fix: see the container's last log lines"* ]] || fail "no fix: $stderr"
    [[ $stderr == *"EssentialContainerExited"* && $stderr == *"container app exited with code 3"* ]] ||
        fail "no stopped task: $stderr"
    [[ $stderr == *"last log lines"*"error: model file truncated"* ]] || fail "no log lines: $stderr"
    [[ $stderr == *"1 of 1 task failed"* ]] || fail "no summary: $stderr"
}

@test "a command with spaces, quotes and a dollar reaches the container word for word" {
    service web example/model:good
    # shellcheck disable=SC2016
    run -0 --separate-stderr ecs-run --cluster "$C" --service web --output json \
        -- sh -c 'exit 0' 'arg with  spaces' "quote\"d" '$NOT_EXPANDED' ''
    local arn
    arn=$(jq -r '.[0].taskArn' <<<"$output")
    assert_equal "$(awsref ecs describe-tasks --cluster "$C" --tasks "$arn" \
        --query 'tasks[0].overrides.containerOverrides[0].command' --output json | jq -c .)" \
        '["sh","-c","exit 0","arg with  spaces","quote\"d","$NOT_EXPANDED",""]'
    run -0 stream_lines "/ecs/fam-$C" "ecs/app/${arn##*/}"
    # shellcheck disable=SC2016
    assert_output --partial '"sim: exec [\"sh\",\"-c\",\"exit 0\",\"arg with  spaces\",\"quote\\\"d\",\"$NOT_EXPANDED\",\"\"]"'
}

@test "failure kinds: image not found, out of memory, a crash, a missing secret, each explained" {
    local fam=img-$C missing=$SK_ACCOUNT_ID.dkr.ecr.us-east-1.amazonaws.com/nope-$C:v1
    [[ -n ${SK_ACCOUNT_ID:-} ]] || missing=123456789012.dkr.ecr.us-east-1.amazonaws.com/nope-$C:v1
    task_def "$fam" "$missing" >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "$fam" $(net_args)
    assert_output --regexp " failed -\$"
    [[ $stderr == *"why: image not found: "*"nope-$C:v1"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"TaskFailedToStart"* && $stderr == *"no container ran"* ]] || fail "stderr: $stderr"

    task_def "oom-$C" example/model:oom >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "oom-$C" $(net_args)
    assert_output --regexp " failed 137\$"
    [[ $stderr == *"why: container app ran out of memory: OutOfMemoryError"* ]] || fail "stderr: $stderr"

    task_def "crash-$C" example/model:crash >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "crash-$C" $(net_args)
    assert_output --regexp " failed 1\$"
    [[ $stderr == *"why: container app exited with code 1"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"ModuleNotFoundError: No module named 'mlflow'"* ]] || fail "no traceback: $stderr"

    task_def "sec-$C" example/model:good \
        ",\"secrets\":[{\"name\":\"DB\",\"valueFrom\":\"arn:aws:secretsmanager:us-east-1:123456789012:secret:nope-$C-AbCdEf\"}]" >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "sec-$C" $(net_args)
    # (the stack's execution role may not read it: what ECS says first)
    [[ $stderr == *"why: could not read secret "*"nope-$C"*": AccessDenied"* ]] || fail "stderr: $stderr"
}

@test "failure kinds from ECR, the network and secrets: pull denied, no ECR token, no route, a secret that does not exist" {
    local acct=${SK_ACCOUNT_ID:-123456789012} img arn vpc subnet sg
    img=$acct.dkr.ecr.$AWS_REGION.amazonaws.com/run-$C:v1
    local logs='{"Effect":"Allow","Action":["logs:CreateLogStream","logs:PutLogEvents"],"Resource":"*"}'

    arn=$(role "pull-$C" "{\"Version\":\"2012-10-17\",\"Statement\":[$logs,{\"Effect\":\"Allow\",\"Action\":\"ecr:GetAuthorizationToken\",\"Resource\":\"*\"}]}")
    EXEC_ROLE=$arn task_def "pull-$C" "$img" >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "pull-$C" $(net_args)
    [[ $stderr == *"why: could not pull "*"run-$C:v1: the execution role may not read ECR (AccessDenied)"* ]] ||
        fail "stderr: $stderr"
    [[ $stderr == *"fix: give the task execution role ecr:BatchGetImage"* ]] || fail "stderr: $stderr"
    [[ $stderr == *"TaskFailedToStart"* ]] || fail "stderr: $stderr"

    arn=$(role "token-$C" "{\"Version\":\"2012-10-17\",\"Statement\":[$logs]}")
    EXEC_ROLE=$arn task_def "token-$C" "$img" >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "token-$C" $(net_args)
    [[ $stderr == *"why: could not get an ECR authorization token: the execution role may not call ecr:GetAuthorizationToken (AccessDenied)"* ]] ||
        fail "stderr: $stderr"

    # A subnet with no route to the internet and no VPC endpoints.
    vpc=$(awsref ec2 create-vpc --cidr-block 10.78.0.0/16 --query Vpc.VpcId --output text)
    subnet=$(awsref ec2 create-subnet --vpc-id "$vpc" --cidr-block 10.78.1.0/24 --query Subnet.SubnetId --output text)
    sg=$(awsref ec2 describe-security-groups --filters "Name=vpc-id,Values=$vpc" --query 'SecurityGroups[0].GroupId' \
        --output text)
    task_def "route-$C" "$img" >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "route-$C" --launch-type FARGATE --subnet "$subnet" \
        --security-group "$sg"
    [[ $stderr == *"why: no route to the registry from the task's subnets (private subnets need a NAT gateway or VPC endpoints)"* ]] ||
        fail "stderr: $stderr"

    # A stand-in role (no policy: the simulator does not check it) and a parameter that does not exist.
    arn=$(role "standin-$C")
    EXEC_ROLE=$arn task_def "ssm-$C" example/model:good ",\"secrets\":[{\"name\":\"DB\",\"valueFrom\":\"/$C/missing\"}]" \
        >/dev/null
    run -1 --separate-stderr ecs-run --cluster "$C" --task-def "ssm-$C" $(net_args)
    [[ $stderr == *"why: secret /$C/missing not found (SSM parameter)"* ]] || fail "stderr: $stderr"
    assert_equal "$(awsref ecs list-tasks --cluster "$C" --query 'length(taskArns)')" 0
}

@test "the EC2 launch type in a cluster without container instances: RunTask refuses, exit 4, the reason" {
    awsref ecs register-task-definition --family "ec2-$C" --requires-compatibilities EC2 --container-definitions \
        '[{"name":"app","image":"example/model:good","essential":true,"memory":128}]' >/dev/null
    run -4 --separate-stderr ecs-run --cluster "$C" --task-def "ec2-$C" --launch-type EC2 -- sh -c 'exit 0'
    assert_output ""
    [[ $stderr == *"No Container Instances were found in your cluster."* ]] || fail "stderr: $stderr"
    assert_equal "${#stderr_lines[@]}" 1
}

@test "no capacity: RunTask's failures[] is an AWS error, exit 4, with the reason; nothing left running" {
    task_def "fam-$C" example/model:good >/dev/null
    curl -sf -o /dev/null -H 'Content-Type: application/json' --data "{\"cluster\":\"$C\",\"fargate\":0}" \
        "$AWS_ENDPOINT_URL/shipkit-sim/capacity"
    run -4 --separate-stderr ecs-run --cluster "$C" --task-def "fam-$C" $(net_args)
    assert_output ""
    assert_error_line ecs-run "RunTask started 0 of 1 tasks: Capacity is unavailable at this time"
    assert_equal "$(awsref ecs list-tasks --cluster "$C" --query 'length(taskArns)')" 0
}

@test "--timeout: the task is stopped with the reason, exit 6" {
    task_def "fam-$C" example/model:good >/dev/null
    run -6 --separate-stderr ecs-run -q --cluster "$C" --task-def "fam-$C" $(net_args) --timeout 2s -- sh -c 'sleep 600'
    assert_error_line ecs-run "timed out after 2s: stopped the 1 task still running"
    local arn=${output%% *}
    [[ $arn == arn:aws:ecs:* && $output == *" stopped -" ]] || fail "stdout: $output"
    assert_equal "$(task_field "$arn" desiredStatus)" STOPPED
    assert_equal "$(task_field "$arn" stoppedReason)" "ecs-run: timed out after 2s"
}

# interrupted SIG STATUS: ecs-run of a long task sent SIG once the task runs: it stops the task with
# the reason, then dies of the signal (exit STATUS, as a shell reports it).
interrupted() {
    local err=$BATS_TEST_TMPDIR/err-$1 pid st=0 id
    ecs-run --cluster "$C" --task-def "fam-$C" $(net_args) -- sh -c 'sleep 600' >"$BATS_TEST_TMPDIR/out" 2>"$err" &
    pid=$!
    for _ in $(seq 1 100); do
        grep -q ": RUNNING" "$err" 2>/dev/null && break
        sleep 0.1
    done
    grep -q ': RUNNING' "$err" || fail "the task did not start: $(cat "$err")"
    kill -"$1" "$pid"
    wait "$pid" || st=$?
    assert_equal "$st" "$2"
    grep -q 'interrupted: stopped the tasks still running' "$err" || fail "stderr: $(cat "$err")"
    id=$(sed -n 's/.*started task \([0-9a-f]*\).*/\1/p' "$err" | head -1)
    [[ -n $id ]] || fail "no task id: $(cat "$err")"
    assert_equal "$(task_field "$id" desiredStatus)" STOPPED
    assert_equal "$(task_field "$id" stoppedReason)" "ecs-run: interrupted (SIG$1)"
}

@test "SIGINT and SIGTERM: the task is stopped with the reason, and ecs-run dies of the signal" {
    task_def "fam-$C" example/model:good >/dev/null
    interrupted INT 130
    interrupted TERM 143
}

@test "--count 3 with one task failing: exit 1, that one explained, the others succeeded" {
    task_def "fam-$C" example/model:good >/dev/null
    local out=$BATS_TEST_TMPDIR/out err=$BATS_TEST_TMPDIR/err pid st=0 victim
    ecs-run --cluster "$C" --task-def "fam-$C" $(net_args) --count 3 --output json -- sh -c 'sleep 60; echo ok' \
        >"$out" 2>"$err" &
    pid=$!
    for _ in $(seq 1 100); do
        [[ $(grep -c ": RUNNING" "$err" 2>/dev/null) -ge 3 ]] && break
        sleep 0.1
    done
    victim=$(awsref ecs list-tasks --cluster "$C" --query 'taskArns[0]' --output text)
    awsref ecs stop-task --cluster "$C" --task "$victim" --reason "stopped by the test" >/dev/null
    wait "$pid" || st=$?
    assert_equal "$st" 1
    assert_equal "$(jq length "$out")" 3
    assert_equal "$(jq -r '[.[] | select(.verdict == "succeeded")] | length' "$out")" 2
    assert_equal "$(jq -r --arg a "$victim" '.[] | select(.taskArn == $a) | .verdict + " " + .stopCode' "$out")" \
        "failed UserInitiated"
    grep -q 'why: stopped by a StopTask call: stopped by the test' "$err" || fail "stderr: $(cat "$err")"
    grep -q '1 of 3 tasks failed' "$err" || fail "stderr: $(cat "$err")"
}

@test "--no-wait: the task ARN, exit 0, the task left running" {
    task_def "fam-$C" example/model:good >/dev/null
    run -0 --separate-stderr ecs-run --cluster "$C" --task-def "fam-$C" $(net_args) --no-wait -- sh -c 'sleep 60'
    assert_output --regexp "^arn:aws:ecs:[^ ]+:task/$C/[0-9a-f]+\$"
    assert_equal "$(task_field "$output" desiredStatus)" RUNNING
    awsref ecs stop-task --cluster "$C" --task "$output" >/dev/null
}

@test "--output json: one object per task with its exit codes, stop code and reason, and times" {
    service web example/model:good
    run -1 --separate-stderr ecs-run --cluster "$C" --service web --output json -- sh -c 'echo x; exit 2'
    assert_equal "$(jq -r '.[0].verdict' <<<"$output")" failed
    assert_equal "$(jq -r '.[0].exitCode' <<<"$output")" 2
    assert_equal "$(jq -r '.[0].stopCode' <<<"$output")" EssentialContainerExited
    assert_equal "$(jq -r '.[0].stoppedReason' <<<"$output")" "Essential container in task exited"
    assert_equal "$(jq -r '.[0].containers[0] | .name + " " + (.exitCode | tostring)' <<<"$output")" "app 2"
    assert_equal "$(jq -r '.[0].why | .kind + ": " + .reason' <<<"$output")" \
        "container-exited: container app exited with code 2"
    jq -e '.[0] | (.createdAt | type) == "number" and .startedAt <= .stoppedAt' <<<"$output" >/dev/null ||
        fail "times: $output"
}

@test "the verdict follows the task's stop within 3 s" {
    service web example/model:good
    run -1 --separate-stderr ecs-run --cluster "$C" --service web --output json -- sh -c 'sleep 2; exit 5'
    local stopped now
    now=$(date +%s.%N)
    stopped=$(jq -r '.[0].stoppedAt' <<<"$output")
    python3 -c "import sys; d = $now - $stopped; sys.exit(0 if 0 <= d < 3 else 1)" ||
        fail "exited $(python3 -c "print($now - $stopped)") s after the task stopped"
}

@test "--task-def FILE registers it and runs that revision; --image runs a new revision with the image" {
    printf '{"family":"file-%s","networkMode":"awsvpc","requiresCompatibilities":["FARGATE"],"cpu":"256","memory":"512","containerDefinitions":[{"name":"app","image":"example/model:good","essential":true}]}' \
        "$C" >"$BATS_TEST_TMPDIR/td.json"
    run -0 --separate-stderr ecs-run --cluster "$C" --task-def "$BATS_TEST_TMPDIR/td.json" $(net_args) -- sh -c 'exit 0'
    [[ $stderr == *"registered file-$C:1"* ]] || fail "stderr: $stderr"
    assert_equal "$(task_field "${output%% *}" taskDefinitionArn)" \
        "$(awsref ecs describe-task-definition --task-definition "file-$C:1" --query taskDefinition.taskDefinitionArn --output text)"
    run -0 --separate-stderr ecs-run --cluster "$C" --task-def "file-$C" --image app=example/model:v2 $(net_args) \
        -- sh -c 'exit 0'
    [[ $stderr == *"registered file-$C:2"* ]] || fail "stderr: $stderr"
    assert_equal "$(awsref ecs describe-task-definition --task-definition "file-$C:2" \
        --query 'taskDefinition.containerDefinitions[0].image' --output text)" example/model:v2
}

@test "bad input: one line, exit 2, nothing started" {
    task_def "fam-$C" example/model:good >/dev/null
    run -2 --separate-stderr ecs-run --cluster "$C" --task-def "fam-$C" --container nope -- true
    assert_error_line ecs-run "task definition fam-$C:1 has no container 'nope'"
    run -2 --separate-stderr ecs-run --cluster "$C" --task-def "fam-$C" --env '1BAD=x'
    assert_error_line ecs-run
    run -2 --separate-stderr ecs-run --cluster "$C" --task-def "fam-$C" --started-by 'has space'
    assert_error_line ecs-run
    assert_equal "$(awsref ecs list-tasks --cluster "$C" --query 'length(taskArns)')" 0
}
