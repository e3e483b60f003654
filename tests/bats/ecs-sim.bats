#!/usr/bin/env bats
# ecs-sim: the stack's ECS simulator (tests/stack/ecs_sim.py, docs/ecs-simulator.md), seen only
# through the reference client and the /shipkit-sim control endpoint: deployments roll out over
# (scaled) time, targets turn healthy, "crash" images trip the circuit breaker and roll back,
# "unhealthy" images fail their ELB health checks.

load helpers/common
load helpers/ecs
load helpers/ecs_sim

setup_file() {
    make_images
}

setup() {
    ecs_sim_names
}

# targets STATE: the number of targets in $TG in STATE.
targets() {
    awsref elbv2 describe-target-health --target-group-arn "$TG" \
        --query "length(TargetHealthDescriptions[?TargetHealth.State=='$1'])" --output text
}

# first_target STATE: fails unless some target in $TG is in STATE; sets FIRST to its "Reason<TAB>Description".
first_target() {
    FIRST=$(awsref elbv2 describe-target-health --target-group-arn "$TG" --output text \
        --query "TargetHealthDescriptions[?TargetHealth.State=='$1'] | [0].TargetHealth.[Reason, Description]")
    [[ -n $FIRST && $FIRST != None ]]
}

# pause_at_target STATE: watch the simulator's state (fast: no AWS CLI start-up) until one of
# $TG's targets is in STATE, then pause the simulator so the reference client sees it too.
# (teardown unpauses.)
pause_at_target() {
    local i
    for i in $(seq 1 400); do
        if curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/state" |
            jq -e --arg tg "$TG" --arg st "$1" 'any(.targets[]; .targetGroupArn == $tg and .state == $st)' >/dev/null; then
            sim_config '{"paused": true}' >/dev/null
            return 0
        fi
        sleep 0.05
    done
    fail "no target in state $1 within 20 s"
}

# tasks DESIRED-STATUS: task ARNs of the service, one a line.
tasks() {
    awsref ecs list-tasks --cluster "$CLUSTER" --service-name "$SVC" --desired-status "$1" \
        --query 'taskArns[]' --output text | tr '\t' '\n' | sed '/^$/d'
}

# describe_tasks ARN...: DescribeTasks, JSON list of tasks.
describe_tasks() {
    awsref ecs describe-tasks --cluster "$CLUSTER" --tasks "$@" --query 'tasks' --output json
}

# has_event TEXT: some service event contains TEXT; has_event_re REGEX: matches REGEX.
has_event() {
    svc | jq -e --arg m "$1" 'any(.events[].message; contains($m))' >/dev/null
}
has_event_re() {
    svc | jq -e --arg m "$1" 'any(.events[].message; test($m))' >/dev/null
}

# dep ID FIELD: a field of deployment ID ("" once it is gone).
dep() {
    svc | jq -r --arg id "$1" ".deployments[] | select(.id == \$id) | .$2"
}

# is VALUE CMD...: CMD prints VALUE. at_least N CMD...: CMD prints a number >= N.
is() {
    [[ $("${@:2}") == "$1" ]]
}
at_least() {
    local v
    v=$("${@:2}")
    [[ $v =~ ^[0-9]+$ ]] && ((v >= $1))
}

# stopped_by DEPLOYMENT: ARNs of stopped tasks that DEPLOYMENT started (the service's stopped tasks,
# their startedBy read back: ListTasks takes startedBy only as its one filter,
# https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ListTasks.html).
stopped_by() {
    local -a arns
    local i
    mapfile -t arns < <(tasks STOPPED)
    # DescribeTasks takes at most 100 tasks a call (the contract layer holds it).
    for ((i = 0; i < ${#arns[@]}; i += 100)); do
        awsref ecs describe-tasks --cluster "$CLUSTER" --tasks "${arns[@]:i:100}" --output json |
            jq -r --arg d "$1" '.tasks[] | select(.startedBy == $d) | .taskArn'
    done
}

# netconf: sets NETCONF, an awsvpc network configuration in the default VPC (no target group).
netconf() {
    NETCONF=$(curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/network" |
        jq -c '{awsvpcConfiguration: {subnets: .subnets[:1], securityGroups: [.securityGroupId]}}')
}

# svc_field JQ: one value from the service.
svc_field() {
    svc | jq -r "$1"
}

# --- a clean rollout ------------------------------------------------------------------------------

@test "CreateService rolls out: tasks RUNNING with ENI IPs, targets healthy, deployment COMPLETED" {
    target_group
    td=$(task_def 127.0.0.1:5000/model:good)
    run -0 create_service "$td"
    dep=$(jq -r '.service.deployments[0].id' <<<"$output")
    [[ $dep =~ ^ecs-svc/[0-9]{19}$ ]] || fail "deployment id: $dep"
    assert_equal "$(jq -r '.service.deployments[0] | [.status, .rolloutState, .rolloutStateReason] | @tsv' <<<"$output")" \
        "PRIMARY	IN_PROGRESS	ECS deployment $dep in progress."

    # Targets start initial while the deployment is IN_PROGRESS.
    pause_at_target initial
    first_target initial || fail "no initial target"
    case $FIRST in
    "Elb.RegistrationInProgress	Target registration is in progress") ;;
    "Elb.InitialHealthChecking	Initial health checks in progress") ;;
    *) fail "initial target: $FIRST" ;;
    esac
    assert_equal "$(svc | jq -r '.deployments[0].rolloutState')" IN_PROGRESS
    sim_config '{"paused": false}' >/dev/null

    wait_until 30 stable "$td"
    s=$(svc)
    assert_equal "$(jq -r '.deployments[0] | [.id, .rolloutStateReason, .runningCount, .pendingCount, .failedTasks] | @tsv' <<<"$s")" \
        "$dep	ECS deployment $dep completed.	2	0	0"
    # Events, newest first.
    run -0 jq -r '.events[].message' <<<"$s"
    assert_line --index 0 "(service $SVC) has reached a steady state."
    assert_line --index 1 "(service $SVC) (deployment $dep) deployment completed."
    assert_line "(service $SVC) registered 2 targets in (target-group $TG)"
    assert_line --regexp "^\(service $SVC\) has started 2 tasks: \(task [0-9a-f]{32}\) \(task [0-9a-f]{32}\)\.$"

    mapfile -t arns < <(tasks RUNNING)
    assert_equal "${#arns[@]}" 2
    t=$(describe_tasks "${arns[@]}")
    run -0 jq -r '.[] | [.lastStatus, .desiredStatus, .startedBy, .group, .taskDefinitionArn, .containers[0].name,
        .containers[0].image, .containers[0].lastStatus, (.startedAt != null), (.createdAt != null)] | @tsv' <<<"$t"
    assert_equal "${lines[0]}" "RUNNING	RUNNING	$dep	service:$SVC	$td	app	127.0.0.1:5000/model:good	RUNNING	true	true"
    assert_equal "${lines[1]}" "${lines[0]}"

    # Each task's ENI address is a healthy target on the container port.
    mapfile -t ips < <(jq -r '.[].attachments[0].details[] | select(.name == "privateIPv4Address") | .value' <<<"$t" | sort)
    [[ ${ips[0]} =~ ^10\.0\.[0-9]+\.[0-9]+$ ]] || fail "ip: ${ips[0]}"
    run -0 awsref elbv2 describe-target-health --target-group-arn "$TG" \
        --query 'TargetHealthDescriptions[].[Target.Id, Target.Port, TargetHealth.State]' --output text
    assert_equal "$(sort <<<"$output")" "$(printf '%s\t8080\thealthy\n' "${ips[@]}")"

    # A normal task logs that it started, in <prefix>/<container>/<task id>.
    id=${arns[0]##*/}
    run -0 awsref logs get-log-events --log-group-name "$LOGS" --log-stream-name "ecs/app/$id" \
        --query 'events[].message' --output text
    assert_output --partial "Starting model server (image 127.0.0.1:5000/model:good)"
}

@test "UpdateService: the response has the new PRIMARY; old tasks drain and stop; old deployment goes" {
    target_group
    td1=$(task_def 127.0.0.1:5000/model:good)
    td2=$(task_def 127.0.0.1:5000/model:good2)
    old=$(create_service "$td1" | jq -r '.service.deployments[0].id')
    wait_until 30 stable "$td1"
    mapfile -t old_tasks < <(tasks RUNNING)

    run -0 awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$FAMILY" \
        --query 'service.{td: taskDefinition, d: deployments}' --output json
    assert_equal "$(jq -r .td <<<"$output")" "$td2"
    new=$(jq -r '.d[0].id' <<<"$output")
    [[ $new =~ ^ecs-svc/[0-9]{19}$ && $new != "$old" ]] || fail "new deployment id: $new"
    assert_equal "$(jq -r '.d | map([.id, .status, .taskDefinition, .rolloutState] | join(" ")) | join(",")' <<<"$output")" \
        "$new PRIMARY $td2 IN_PROGRESS,$old ACTIVE $td1 COMPLETED"

    # Old targets drain before they go.
    pause_at_target draining
    first_target draining || fail "no draining target"
    assert_equal "$FIRST" "Target.DeregistrationInProgress	Target deregistration is in progress"
    sim_config '{"paused": false}' >/dev/null

    wait_until 30 stable "$td2"
    assert_equal "$(svc | jq -r '.deployments[0].id')" "$new"
    assert_equal "$(targets healthy)" 2
    assert_equal "$(awsref elbv2 describe-target-health --target-group-arn "$TG" --query 'length(TargetHealthDescriptions)')" 2
    run -0 jq -r '.[] | [.lastStatus, .desiredStatus, .stopCode, .stoppedReason, .startedBy, (.stoppedAt != null)] | @tsv' \
        <<<"$(describe_tasks "${old_tasks[@]}")"
    assert_equal "${lines[0]}" "STOPPED	STOPPED	ServiceSchedulerInitiated	Scaling activity initiated by (deployment $old)	$old	true"
    assert_equal "${lines[1]}" "${lines[0]}"
    has_event_re "^\\(service $SVC\\) has stopped [12] running tasks: \\(task [0-9a-f]{32}\\)"
    has_event "(service $SVC) deregistered"
    has_event "(service $SVC) (deployment $new) deployment completed."
    # Stopped tasks are listed only with --desired-status STOPPED.
    assert_equal "$(tasks STOPPED | sort)" "$(printf '%s\n' "${old_tasks[@]}" | sort)"

    # forceNewDeployment with the same task definition starts a deployment too.
    run -0 awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --force-new-deployment \
        --query 'service.deployments[0].[id, status, taskDefinition]' --output text
    [[ $output == ecs-svc/*"	PRIMARY	$td2" && $output != "$new"* ]] || fail "force: $output"
    wait_until 30 stable "$td2"
}

# --- scenarios ------------------------------------------------------------------------------------

@test "crash: tasks exit 1, circuit breaker FAILS the deployment, rollback to the previous task definition" {
    target_group
    good=$(task_def 127.0.0.1:5000/model:good)
    bad=$(task_def 127.0.0.1:5000/model:crash)
    create_service "$good" >/dev/null
    wait_until 30 stable "$good"

    sim_config '{"time_scale": 0.2}' >/dev/null
    run -0 awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$bad" \
        --query 'service.deployments[0].id' --output text
    failed=$output
    # The failed deployment stays (ACTIVE, FAILED) while the rollback deployment runs.
    wait_until 40 is FAILED dep "$failed" rolloutState
    s=$(svc)
    assert_equal "$(jq -r --arg id "$failed" '.deployments[] | select(.id == $id) | [.status, .rolloutStateReason, (.failedTasks >= 3)] | @tsv' <<<"$s")" \
        "ACTIVE	ECS deployment circuit breaker: tasks failed to start.	true"
    rollback=$(jq -r '.deployments[0] | select(.status == "PRIMARY") | .id' <<<"$s")
    assert_equal "$(jq -r '.deployments[0].taskDefinition' <<<"$s")" "$good"
    run -0 jq -r '.events[].message' <<<"$s"
    assert_line "(service $SVC) (deployment $failed) deployment failed: tasks failed to start."
    assert_line "(service $SVC) (deployment $failed) deployment failed: tasks failed to start, rolling back to deployment $rollback."

    sim_config '{"time_scale": 0.05}' >/dev/null
    wait_until 30 stable "$good"
    assert_equal "$(svc | jq -r '.deployments[0].id')" "$rollback"

    # The crashed tasks: essential container exited 1; their logs are in CloudWatch Logs.
    mapfile -t crashed < <(stopped_by "$failed")
    ((${#crashed[@]} >= 3)) || fail "only ${#crashed[@]} crashed tasks"
    run -0 jq -r '.[] | [.lastStatus, .stopCode, .stoppedReason, .containers[0].exitCode, .containers[0].lastStatus,
        (.containers[0].reason != null), .taskDefinitionArn] | @tsv' <<<"$(describe_tasks "${crashed[@]:0:3}")"
    for l in "${lines[@]}"; do
        assert_equal "$l" "STOPPED	EssentialContainerExited	Essential container in task exited	1	STOPPED	true	$bad"
    done
    run -0 awsref logs get-log-events --log-group-name "$LOGS" --log-stream-name "ecs/app/${crashed[0]##*/}" \
        --query 'events[].message' --output json
    run -0 jq -r '.[]' <<<"$output"
    assert_line "Traceback (most recent call last):"
    assert_line "ModuleNotFoundError: No module named 'mlflow'"
    ((${#lines[@]} >= 3 && ${#lines[@]} <= 5)) || fail "${#lines[@]} log lines"
}

@test "crash without a circuit breaker: tasks keep failing, the deployment stays IN_PROGRESS" {
    target_group
    bad=$(task_def 127.0.0.1:5000/model:crash)
    awsref ecs create-service --cluster "$CLUSTER" --service-name "$SVC" --task-definition "$bad" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$NETCONF" >/dev/null
    wait_until 30 at_least 4 svc_field '.deployments[0].failedTasks'
    assert_equal "$(svc | jq -r '[.deployments[0].rolloutState, .runningCount >= 0, (.deployments | length)] | @tsv')" "IN_PROGRESS	true	1"
    assert_equal "$(tasks RUNNING | wc -l)" 1
    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --desired-count 0 >/dev/null
    awsref ecs delete-service --cluster "$CLUSTER" --service "$SVC" >/dev/null
}

@test "a lowered circuit-breaker threshold fails sooner; without a COMPLETED deployment there is no rollback" {
    target_group
    sim_config '{"circuit_breaker_threshold": 1}' >/dev/null
    bad=$(task_def 127.0.0.1:5000/model:crash)
    dep=$(create_service "$bad" | jq -r '.service.deployments[0].id')
    wait_until 30 is FAILED svc_field '.deployments[0].rolloutState'
    s=$(svc)
    assert_equal "$(jq -r '.deployments | map([.id, .status, .failedTasks >= 1] | join(" ")) | join(",")' <<<"$s")" "$dep PRIMARY true"
    # A FAILED deployment launches nothing more.
    sleep 1
    assert_equal "$(tasks RUNNING | wc -l)" 0
}

@test "unhealthy: targets fail health checks (503) and ECS stops the tasks" {
    target_group
    good=$(task_def 127.0.0.1:5000/model:good)
    sick=$(task_def 127.0.0.1:5000/model:unhealthy)
    create_service "$good" >/dev/null
    wait_until 30 stable "$good"
    sim_config '{"circuit_breaker_threshold": 200}' >/dev/null
    dep=$(awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$sick" \
        --query 'service.deployments[0].id' --output text)

    pause_at_target unhealthy
    first_target unhealthy || fail "no unhealthy target"
    assert_equal "$FIRST" "Target.ResponseCodeMismatch	Health checks failed with these codes: [503]"
    # The old tasks keep serving: minimum healthy 100%.
    assert_equal "$(targets healthy)" 2
    sim_config '{"paused": false}' >/dev/null

    wait_until 30 at_least 1 eval 'stopped_by "$dep" | wc -l'
    arn=$(stopped_by "$dep" | head -1)
    run -0 jq -r '.[0] | [.stopCode, .stoppedReason] | @tsv' <<<"$(describe_tasks "$arn")"
    assert_output "ServiceSchedulerInitiated	Task failed ELB health checks in (target-group $TG)"
    has_event "(task ${arn##*/}) (port 8080) is unhealthy in (target-group $TG) due to (reason Health checks failed with these codes: [503])."
    assert_equal "$(svc | jq -r '[.deployments[0].id, .deployments[0].rolloutState] | @tsv')" "$dep	IN_PROGRESS"

    # With the ECS threshold back, the circuit breaker rolls it back.
    sim_config '{"circuit_breaker_threshold": null}' >/dev/null
    wait_until 40 stable "$good"
    has_event "(deployment $dep) deployment failed: tasks failed to start."
}

@test "slow: every phase takes five times as long" {
    target_group
    slow=$(task_def 127.0.0.1:5000/model:slow)
    sim_config '{"time_scale": 0.2}' >/dev/null
    create_service "$slow" >/dev/null
    sleep 1.5
    sim_config '{"paused": true}' >/dev/null
    # A normal task is RUNNING after 1 s at time scale 0.2; a slow one takes 5 s.
    run -0 jq -r '.[].lastStatus' <<<"$(describe_tasks $(tasks RUNNING))"
    assert_equal "${#lines[@]}" 2
    refute_line RUNNING
    assert_equal "$(svc | jq -r '.deployments[0].rolloutState')" IN_PROGRESS
}

@test "image pulls: an image the registry lacks fails to start as on ECS, one it holds runs, other registries are not asked" {
    [[ -n ${SK_REGISTRY:-} ]] || skip "the stack has no registry"
    need_tool ecr-push
    target_group
    repo=sim-$H
    ecr-push -q --create-repo "$BATS_FILE_TMPDIR/img/oci.tar" "$repo:good" >/dev/null
    good=$(task_def "$repo:good")
    create_service "$good" >/dev/null
    wait_until 30 stable "$good"
    # Not pushed: bare (a repository the registry holds: the account's registry) and by registry host.
    for image in "$repo:missing" "$SK_REGISTRY/$repo@sha256:$(printf x | sha256sum | cut -c1-64)"; do
        ref=$image
        [[ $image == "$SK_REGISTRY"/* ]] || ref=$SK_REGISTRY/$image
        bad=$(task_def "$image")
        sim_config '{"circuit_breaker_threshold": 200}' >/dev/null
        dep=$(awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$bad" \
            --query 'service.deployments[0].id' --output text)
        wait_until 30 at_least 2 svc_field ".deployments[] | select(.id == \"$dep\") | .failedTasks"
        arn=$(stopped_by "$dep" | head -1)
        t=$(describe_tasks "$arn")
        reason="CannotPullContainerError: pull image manifest has been retried 1 time(s): failed to resolve ref $ref: $ref: not found"
        assert_equal "$(jq -r '.[0] | [.lastStatus, .stopCode, .stoppedReason] | @tsv' <<<"$t")" \
            "STOPPED	TaskFailedToStart	$reason"
        assert_equal "$(jq -r '.[0] | [.containers[0].reason, (.containers[0] | has("exitCode")), has("startedAt"),
            has("pullStartedAt"), .attachments[0].status] | @tsv' <<<"$t")" "$reason	false	false	true	DELETED"
        has_event "(service $SVC) was unable to place a task. Reason: $reason."
        # No container ran: no log stream.
        assert_equal "$(awsref logs describe-log-streams --log-group-name "$LOGS" \
            --log-stream-name-prefix "ecs/app/${arn##*/}" --query 'length(logStreams)')" 0
        # The old tasks keep serving; ECS's threshold fails and rolls it back.
        assert_equal "$(targets healthy)" 2
        sim_config '{"circuit_breaker_threshold": null}' >/dev/null
        wait_until 30 stable "$good"
    done
    # A registry the stack cannot see, and a bare name of a repository it does not hold: not looked up.
    for image in 127.0.0.1:5000/model:good2 "other-$H/model:good"; do
        td=$(task_def "$image")
        awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$td" >/dev/null
        wait_until 30 stable "$td"
    done
}

@test "failedTasks resets and stops being evaluated once a task of the deployment is healthy (singleton)" {
    netconf
    td=$(task_def 127.0.0.1:5000/model:singleton)
    awsref ecs create-service --cluster "$CLUSTER" --service-name "$SVC" --task-definition "$td" \
        --desired-count 2 --launch-type FARGATE --network-configuration "$NETCONF" \
        --deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}' >/dev/null
    dep=$(svc_field '.deployments[0].id')
    # The first task holds the lock and runs; the other exits 1 and is replaced, again and again.
    wait_until 30 at_least 4 eval 'stopped_by "$dep" | wc -l'
    assert_equal "$(svc_field '[.deployments[0].rolloutState, .deployments[0].failedTasks, .runningCount >= 1] | @tsv')" \
        "IN_PROGRESS	0	true"
    arn=$(stopped_by "$dep" | head -1)
    assert_equal "$(jq -r '.[0] | [.stopCode, .containers[0].exitCode] | @tsv' <<<"$(describe_tasks "$arn")")" \
        "EssentialContainerExited	1"
    run -0 awsref logs get-log-events --log-group-name "$LOGS" --log-stream-name "ecs/app/${arn##*/}" \
        --query 'events[].message' --output text
    assert_output --partial "locked by another instance"
    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --desired-count 0 >/dev/null
}

@test "capacity: no Fargate capacity leaves tasks unplaced, with ECS's event; counted by the breaker; restored" {
    td=$(task_def 127.0.0.1:5000/model:good)
    run -22 curl -sf -X POST --data '{"cluster": "c", "service": "s", "fargate": -1}' "$AWS_ENDPOINT_URL/shipkit-sim/capacity"
    run -22 curl -sf -X POST --data '{"service": "s", "fargate": 1}' "$AWS_ENDPOINT_URL/shipkit-sim/capacity"
    # Without a service: the cluster's one-off tasks (RunTask; ecs-run.bats)
    run -0 curl -sf -X POST --data '{"cluster": "c", "fargate": 1}' "$AWS_ENDPOINT_URL/shipkit-sim/capacity"
    assert_equal "$(jq -r '.fargate["c:"]' <<<"$output")" 1
    run -0 curl -sf -X POST --data '{"cluster": "c", "fargate": null}' "$AWS_ENDPOINT_URL/shipkit-sim/capacity"
    run -0 curl -sf -X POST --data "{\"cluster\": \"$CLUSTER\", \"service\": \"$SVC\", \"fargate\": 0}" \
        "$AWS_ENDPOINT_URL/shipkit-sim/capacity"
    assert_equal "$(jq -r --arg k "$CLUSTER:$SVC" '.fargate[$k]' <<<"$output")" 0
    netconf
    awsref ecs create-service --cluster "$CLUSTER" --service-name "$SVC" --task-definition "$td" \
        --desired-count 2 --launch-type FARGATE --network-configuration "$NETCONF" \
        --deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=false}' >/dev/null
    wait_until 30 is FAILED svc_field '.deployments[0].rolloutState'
    assert_equal "$(tasks RUNNING | wc -l)" 0
    assert_equal "$(tasks STOPPED | wc -l)" 0
    run -0 svc_field '.events[].message'
    assert_line "(service $SVC) was unable to place a task. Reason: Capacity is unavailable at this time. Please try again later or in a different availability zone."
    # One event for the cause, not one per attempt (ECS omits duplicates).
    assert_equal "$(grep -c 'unable to place' <<<"$output")" 1
    curl -sf -X POST --data "{\"cluster\": \"$CLUSTER\", \"service\": \"$SVC\", \"fargate\": null}" \
        "$AWS_ENDPOINT_URL/shipkit-sim/capacity" >/dev/null
    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --force-new-deployment >/dev/null
    wait_until 30 is COMPLETED svc_field '.deployments[0].rolloutState'
}

# --- the control endpoint and API details ---------------------------------------------------------

@test "control endpoint: config is validated, state shows services, paused stops the clock" {
    run -0 sim_config '{"time_scale": 0.1, "circuit_breaker_threshold": 2, "paused": false}'
    assert_equal "$(jq -c . <<<"$output")" '{"time_scale":0.1,"circuit_breaker_threshold":2,"paused":false,"ecr_proxy_endpoint":null}'
    run -22 curl -sf -X POST --data-binary '{"time_scale": 0}' "$AWS_ENDPOINT_URL/shipkit-sim/config"
    run -22 curl -sf -X POST --data-binary '{"colour": 1}' "$AWS_ENDPOINT_URL/shipkit-sim/config"
    run -22 curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/nothing"
    # No credentials needed, but the AWS API still wants them.
    run -0 curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/state"
    jq -e '.config.circuit_breaker_threshold == 2 and (.clock | type == "number")' <<<"$output" >/dev/null

    target_group
    td=$(task_def 127.0.0.1:5000/model:good)
    sim_config '{"paused": true}' >/dev/null
    create_service "$td" >/dev/null
    sleep 1
    run -0 curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/state"
    run -0 jq -r --arg s "$SVC" '.services[] | select(.serviceName == $s) | [(.deployments | length), (.tasks | length),
        .deployments[0].rolloutState] | @tsv' <<<"$output"
    assert_output "1	0	IN_PROGRESS"
    sim_config '{"paused": false}' >/dev/null
    wait_until 30 stable "$td"
}

@test "ListTasks filters by serviceName and defaults to desired status RUNNING; desiredCount scales" {
    target_group
    td=$(task_def 127.0.0.1:5000/model:good)
    create_service "$td" >/dev/null
    wait_until 30 stable "$td"
    other=svc2-$H
    awsref ecs create-service --cluster "$CLUSTER" --service-name "$other" --task-definition "$td" \
        --desired-count 1 --launch-type FARGATE --network-configuration "$NETCONF" >/dev/null
    assert_equal "$(tasks RUNNING | wc -l)" 2
    # Scale in: one task stopped, no new deployment.
    dep=$(svc | jq -r '.deployments[0].id')
    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --desired-count 1 >/dev/null
    wait_until 30 is "1	1	$dep" svc_field '[.runningCount, .desiredCount, .deployments[0].id] | @tsv'
    wait_until 30 is 1 targets healthy
    assert_equal "$(awsref ecs list-tasks --cluster "$CLUSTER" --service-name "$SVC" --query 'length(taskArns)')" 1
    assert_equal "$(awsref ecs list-tasks --cluster "$CLUSTER" --service-name "$other" --query 'length(taskArns)')" 1
}
