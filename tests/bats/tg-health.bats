#!/usr/bin/env bats
# tg-health against the local stack: moto's ELBv2 (registered targets of a group a load balancer
# forwards to are healthy at once, unused/Target.NotInUse without one, unavailable/
# Target.HealthCheckDisabled with health checks off; an unregistered --target is
# unused/Target.NotRegistered) and, when the stack runs it, the ECS simulator
# (tests/stack/ecs_sim.py: services run tasks whose IPs go initial -> healthy, or unhealthy for an
# image tagged "unhealthy", "hctimeout" or "wrongport").

load helpers/common

setup() {
    use_stack
    need_tool tg-health
    # Poll about every 0.15 s instead of every 3 s.
    export SK_POLL_SCALE=0.05
}

# name PREFIX: a short unique name (target group names: at most 32 characters).
name() {
    printf '%s-%s-%s' "$1" "${BATS_TEST_NUMBER:-0}" "$RANDOM$RANDOM"
}

# sim_network: the simulator's {"vpcId","subnets","securityGroupId"} JSON, or fail (status 1).
sim_network() {
    curl -sf --max-time 2 "$AWS_ENDPOINT_URL/shipkit-sim/network"
}

# json_field FIELD: read a top-level field (first element for a list) of the JSON on stdin.
json_field() {
    python3 -c 'import json, sys
v = json.load(sys.stdin)[sys.argv[1]]
print(v[0] if isinstance(v, list) else v)' "$1"
}

# test_vpc: a VPC for target groups: a new one when the stack user may create VPCs, else the
# default VPC (from the simulator, else from moto's state dump).
test_vpc() {
    local id
    if id=$(awsref ec2 create-vpc --cidr-block 10.0.0.0/16 --query Vpc.VpcId --output text 2>/dev/null); then
        echo "$id"
    elif id=$(sim_network | json_field vpcId) && [[ -n $id ]]; then
        echo "$id"
    else
        curl -sf --max-time 5 "$AWS_ENDPOINT_URL/moto-api/data.json" | python3 -c 'import json, sys
vpcs = json.load(sys.stdin)["ec2"]["VPC"]
print([v["id"] for v in vpcs if v.get("region") == sys.argv[1]][0])' "${AWS_REGION:-us-east-1}"
    fi
}

# bare_tg NAME [ARGS...]: an ip-type HTTP target group on port 8080 that no load balancer uses;
# prints its ARN.
bare_tg() {
    local vpc name=$1
    shift
    vpc=$(test_vpc) || fail "no VPC for the target group"
    awsref elbv2 create-target-group --name "$name" --protocol HTTP --port 8080 --vpc-id "$vpc" \
        --target-type ip --query 'TargetGroups[0].TargetGroupArn' --output text "$@"
}

# make_tg NAME: bare_tg, forwarded to by a load balancer's listener (tests/stack/alb); prints its ARN.
make_tg() {
    local arn
    arn=$(bare_tg "$1") || fail "cannot create target group $1"
    "$REPO/tests/stack/alb" "$1" "$arn" >/dev/null || fail "cannot put a load balancer in front of $1"
    echo "$arn"
}

# use_sim: skip unless the stack runs the ECS simulator; set its time scale.
use_sim() {
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/state" ||
        skip "no ECS simulator in the stack ($AWS_ENDPOINT_URL/shipkit-sim/state does not answer)"
    curl -sf --max-time 2 -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data '{"time_scale": 0.1}' "$AWS_ENDPOINT_URL/shipkit-sim/config" ||
        fail "cannot configure the ECS simulator"
}

# sim_service CLUSTER SERVICE TG_ARN IMAGE: a Fargate service of 2 tasks, one container "app" on
# 8080 running IMAGE, behind TG_ARN (which a new load balancer forwards to: ECS takes no target
# group without one).
sim_service() {
    local cluster=$1 service=$2 tg=$3 image=$4 net subnet sg family
    net=$(sim_network) || fail "no /shipkit-sim/network"
    subnet=$(json_field subnets <<<"$net")
    sg=$(json_field securityGroupId <<<"$net")
    family=$(name td)
    awsref ecs create-cluster --cluster-name "$cluster" >/dev/null
    "$REPO/tests/stack/alb" "$(name lb)" "$tg" >/dev/null
    awsref ecs register-task-definition --family "$family" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu 256 --memory 512 \
        --container-definitions "[{\"name\":\"app\",\"image\":\"$image\",\"essential\":true,\"portMappings\":[{\"containerPort\":8080}]}]" \
        >/dev/null
    awsref ecs create-service --cluster "$cluster" --service-name "$service" --task-definition "$family" \
        --desired-count 2 --launch-type FARGATE \
        --load-balancers "targetGroupArn=$tg,containerName=app,containerPort=8080" \
        --network-configuration "awsvpcConfiguration={subnets=[$subnet],securityGroups=[$sg]}" >/dev/null
}

# ---- usage ----------------------------------------------------------------------------------

@test "tg-health: needs exactly one of TARGET_GROUP_ARN, --name, --service" {
    run -2 --separate-stderr tg-health
    assert_error_line tg-health "missing TARGET_GROUP_ARN"
    run -2 --separate-stderr tg-health --name a --service c/s
    assert_error_line tg-health "give one of"
    run -2 --separate-stderr tg-health my-group
    assert_error_line tg-health "not a target group ARN"
    assert_output ""
}

@test "tg-health: bad --target, --service and durations are usage errors" {
    local arn=arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef
    run -2 --separate-stderr tg-health --target 10.0.0.1:0 "$arn"
    assert_error_line tg-health "port must be 1 to 65535"
    run -2 --separate-stderr tg-health --target 10.0.0.1:http "$arn"
    assert_error_line tg-health "port"
    run -2 --separate-stderr tg-health --service just-a-name
    assert_error_line tg-health "CLUSTER/SERVICE"
    run -2 --separate-stderr tg-health --service c/s --target 10.0.0.1
    assert_error_line tg-health "--target cannot be combined with --service"
    run -2 --separate-stderr tg-health --timeout 5m "$arn"
    assert_error_line tg-health "only with --wait"
    run -2 --separate-stderr tg-health --wait --timeout soon "$arn"
    assert_error_line tg-health "--timeout"
    run -2 --separate-stderr tg-health --wait --grace -1 "$arn"
    assert_error_line tg-health "--grace"
}

# ---- one look (moto) ------------------------------------------------------------------------

@test "tg-health: an empty target group is not healthy (exit 1, no targets registered yet)" {
    local tg
    tg=$(make_tg "$(name tgh)")
    run -1 --separate-stderr tg-health "$tg"
    assert_line --index 0 "TARGET  PORT  ZONE  STATE  REASON  DESCRIPTION"
    assert_line --index 1 --regexp "^health check  HTTP / on port traffic-port, matcher 200, every 30s \(timeout 5s\)"
    assert_equal "${#lines[@]}" 2
    assert_error_line tg-health "not healthy: no targets registered yet"
    run -1 --separate-stderr tg-health --output json --query .verdict "$tg"
    assert_output '"waiting"'
}

@test "tg-health: registered targets: aligned table, exit 0" {
    local tg
    tg=$(make_tg "$(name tgh)")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080 Id=10.0.1.124
    run -0 --separate-stderr tg-health "$tg"
    assert_line --index 0 "TARGET      PORT  ZONE  STATE    REASON  DESCRIPTION"
    assert_line --index 1 "10.0.1.23   8080  -     healthy  -       -"
    assert_line --index 2 "10.0.1.124  8080  -     healthy  -       -"
    assert_line --index 3 --regexp "^health check  "
    assert_equal "${#lines[@]}" 4
    assert_equal "$stderr" ""
}

@test "tg-health --output json: targetGroups, targets and verdict" {
    local tg
    tg=$(make_tg "$(name tgh)")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080
    run -0 --separate-stderr tg-health --output json "$tg"
    run -0 python3 -c 'import json, sys
d = json.loads(sys.argv[1])
assert d["verdict"] == "healthy", d
g, = d["targetGroups"]
assert g["arn"] == sys.argv[2], g
t, = g["targets"]
assert t == {"id": "10.0.1.23", "port": 8080, "zone": None, "state": "healthy", "reason": None,
             "description": None, "judged": True}, t
print("ok")' "$output" "$tg"
    assert_output ok
}

@test "tg-health --name resolves the target group; an unknown name exits 4" {
    local n tg
    n=$(name tgh)
    tg=$(make_tg "$n")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080
    run -0 --separate-stderr tg-health --name "$n" --output json --query '.targetGroups[0].arn'
    assert_output "\"$tg\""
    run -4 --separate-stderr tg-health --name "no-such-$n"
    assert_error_line tg-health "no target group named 'no-such-$n'"
    assert_output ""
}

@test "tg-health: an unknown target group ARN exits 4" {
    local tg
    tg=$(make_tg "$(name tgh)")
    run -4 --separate-stderr tg-health "${tg%/*}/0000000000000000"
    assert_error_line tg-health "not found"
    assert_output ""
}

@test "tg-health --target: only the targets given; an unregistered one is not healthy" {
    local tg
    tg=$(make_tg "$(name tgh)")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080 Id=10.0.1.24,Port=8080
    run -0 --separate-stderr tg-health --target 10.0.1.23:8080 "$tg"
    assert_equal "${#lines[@]}" 3
    assert_line --index 1 --regexp '^10\.0\.1\.23 +8080 +- +healthy'
    run -1 --separate-stderr tg-health --target 10.0.1.23:8080 --target 10.0.9.9:8080 "$tg"
    assert_equal "${#lines[@]}" 5
    assert_line --index 4 "why  Target.NotRegistered: not registered in the target group (yet): ECS registers a task once it runs"
    assert_line --index 2 --regexp '^10\.0\.9\.9 +8080 .*Target\.NotRegistered'
    assert_error_line tg-health "not healthy: 10.0.9.9:8080"
}

# ---- --wait (moto) --------------------------------------------------------------------------

@test "tg-health --wait: healthy targets succeed at once, state lines on stderr (none with -q)" {
    local tg
    tg=$(make_tg "$(name tgh)")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080
    run -0 --separate-stderr tg-health --wait --timeout 30s "$tg"
    assert_line --index 1 --regexp '^10\.0\.1\.23 +8080 .* healthy'
    assert_equal "$stderr" "tg-health: 10.0.1.23:8080 healthy"
    run -0 --separate-stderr tg-health --wait -q "$tg"
    assert_equal "$stderr" ""
}

@test "tg-health --wait: an empty target group times out with exit 6" {
    local tg start
    tg=$(make_tg "$(name tgh)")
    start=$SECONDS
    run -6 --separate-stderr tg-health --wait --timeout 2s "$tg"
    ((SECONDS - start < 10)) || fail "took $((SECONDS - start)) s for a 2 s timeout"
    assert_line --index 0 "TARGET  PORT  ZONE  STATE  REASON  DESCRIPTION"
    [[ $stderr == *"tg-health: waiting: no targets registered yet"* ]] || fail "stderr: $stderr"
    [[ ${stderr_lines[-1]} == "tg-health: timed out after 2s; not healthy: no targets registered yet" ]] ||
        fail "last stderr line: ${stderr_lines[-1]}"
}

@test "tg-health --wait --target: an unregistered target keeps waiting, then times out naming it" {
    local tg
    tg=$(make_tg "$(name tgh)")
    run -6 --separate-stderr tg-health --wait --timeout 1s --target 10.0.9.9:8080 "$tg"
    [[ ${stderr_lines[-1]} == *"timed out after 1s; not healthy: 10.0.9.9:8080 "*"Target.NotRegistered"* ]] ||
        fail "last stderr line: ${stderr_lines[-1]}"
    run -6 --separate-stderr tg-health --wait --timeout 1s --target 10.0.9.9:8080 --output json \
        --query .verdict "$tg"
    assert_output '"waiting"'
}

# ---- --service: ECS (moto) ------------------------------------------------------------------

@test "tg-health --service: a service without target groups exits 1; unknown ones exit 4" {
    local cluster family
    cluster=$(name tghc)
    family=$(name td)
    awsref ecs create-cluster --cluster-name "$cluster" >/dev/null
    awsref ecs register-task-definition --family "$family" \
        --container-definitions '[{"name":"app","image":"example/app:good","memory":128}]' >/dev/null
    awsref ecs create-service --cluster "$cluster" --service-name nolb --task-definition "$family" \
        --desired-count 0 >/dev/null
    run -1 --separate-stderr tg-health --service "$cluster/nolb" --wait
    assert_error_line tg-health "service '$cluster/nolb' has no target groups"
    assert_output ""
    run -4 --separate-stderr tg-health --service "$cluster/missing"
    assert_error_line tg-health "service 'missing' not found in cluster '$cluster'"
    run -4 --separate-stderr tg-health --service "no-such-$cluster/svc"
    assert_error_line tg-health
}

# ---- --service: the ECS simulator -----------------------------------------------------------

@test "tg-health --service --wait: the service's tasks turn healthy (simulator)" {
    use_sim
    local tg cluster
    tg=$(make_tg "$(name tgh)")
    cluster=$(name tghc)
    # A stray target that is no task of the service: shown, never judged.
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.99.0.1,Port=8080
    sim_service "$cluster" web "$tg" example/model-server:good
    run -0 --separate-stderr tg-health --service "$cluster/web" --wait --timeout 60s
    assert_line --index 0 --regexp '^TARGET +PORT +TASK +ZONE +STATE +REASON +DESCRIPTION$'
    assert_line --regexp '^10\.99\.0\.1 +8080 +- .* \(not judged: not a current task\)$'
    [[ $(grep -c ' healthy ' <<<"$output") -ge 2 ]] || fail "expected 2 healthy tasks: $output"
    [[ $stderr == *" initial -> healthy"* ]] || fail "no state change on stderr: $stderr"
    # while initial: when the targets can turn healthy at the earliest
    [[ $stderr =~ \ initial\ \(Elb\.(RegistrationInProgress|InitialHealthChecking):\ [^$'\n']*150s\ at\ the\ earliest\) ]] ||
        fail "no earliest time on stderr: $stderr"
    run -0 --separate-stderr tg-health --service "$cluster/web" --output json \
        --query '[.verdict, .service.currentTasks, ([.targetGroups[0].targets[] | select(.judged and .task)] | length)]'
    assert_output '[
  "healthy",
  2,
  2
]'
}

@test "tg-health --service --wait: an unhealthy image fails fast with exit 1 and the reason (simulator)" {
    use_sim
    local tg cluster start
    tg=$(make_tg "$(name tgh)")
    cluster=$(name tghc)
    sim_service "$cluster" web "$tg" example/model-server:unhealthy
    start=$SECONDS
    run -1 --separate-stderr tg-health --service "$cluster/web" --wait --timeout 60s
    ((SECONDS - start < 30)) || fail "did not fail fast: $((SECONDS - start)) s"
    [[ ${stderr_lines[-1]} == "tg-health: unhealthy: "*"Target.ResponseCodeMismatch"*"[503]"* ]] ||
        fail "last stderr line: ${stderr_lines[-1]}"
    assert_line --regexp ' unhealthy +Target\.ResponseCodeMismatch '
    # The settings, the reason tied to them, the notes; the same in JSON.
    assert_line "health check  HTTP / on port traffic-port, matcher 200, every 30s (timeout 5s), healthy after 5, unhealthy after 2; deregistration delay 300s"
    assert_line "why  Target.ResponseCodeMismatch: the health check (HTTP / on the traffic port) got a status other than 200: make the application answer / with 200, or change the path or the matcher"
    assert_line --partial "note  deregistration delay 300s: each deploy waits up to that long"
    assert_line --partial "note  a new target turns healthy 150s after registration at the earliest (30s x 5 checks)"
    assert_line --partial "note  no health-check grace period: ECS stops a task that fails 2 checks (60s) while it starts"
    run -1 --separate-stderr tg-health --service "$cluster/web" --output json
    assert_equal "$(jq -r '.targetGroups[0].healthCheck | [.protocol, .path, .matcher, .intervalSeconds, .timeoutSeconds,
        .healthyThreshold, .unhealthyThreshold, .deregistrationDelaySeconds, .earliestHealthySeconds, (.notes | length)] | @tsv' \
        <<<"$output")" "HTTP	/	200	30	5	5	2	300	150	3"
    # (by now ECS may have stopped the unhealthy tasks: whatever their reason, it is diagnosed)
    jq -e '[.targetGroups[0].targets[] | select(.reason != null) | .diagnosis | type == "string"] | all' \
        <<<"$output" >/dev/null || fail "no diagnosis: $output"
}

@test "tg-health --service --wait: health checks that time out, and a port nothing answers on: the reason tied to the settings, exit 1 (simulator)" {
    use_sim
    local tg cluster image reason why
    for image in hctimeout wrongport; do
        tg=$(make_tg "$(name tgh)")
        cluster=$(name tghc)
        sim_service "$cluster" web "$tg" "example/model-server:$image"
        run -1 --separate-stderr tg-health --service "$cluster/web" --wait --timeout 60s
        if [[ $image == hctimeout ]]; then
            reason=Target.Timeout
            why="the health check (HTTP / on the traffic port) got no answer within its 5s timeout (checks every 30s): the application is slow to answer or not listening there, or a security group drops the load balancer's traffic; raise the timeout only if the check is slow by design"
        else
            reason=Target.FailedHealthChecks
            why="the health check (HTTP / on the traffic port) could not connect: nothing listens on that port in the task, or its security group does not allow the load balancer"
        fi
        [[ ${stderr_lines[-1]} == "tg-health: unhealthy: "*"$reason"* ]] || fail "$image: ${stderr_lines[-1]}"
        assert_line --regexp " unhealthy +${reason//./\\.} "
        assert_line "why  $reason: $why"
    done
}

@test "tg-health: a target group no load balancer forwards to: unused, Target.NotInUse, why; health checks off: unavailable, Target.HealthCheckDisabled" {
    local tg
    tg=$(bare_tg "$(name tgh)")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080
    run -1 --separate-stderr tg-health "$tg"
    assert_line --regexp '^10\.0\.1\.23 +8080 +- +unused +Target\.NotInUse +Target group is not configured to receive traffic from the load balancer$'
    assert_line "why  Target.NotInUse: no load balancer listener or rule forwards to this target group, or the target's Availability Zone is not enabled for the load balancer"
    tg=$(bare_tg "$(name tgh)" --no-health-check-enabled)
    "$REPO/tests/stack/alb" "$(name lb)" "$tg" >/dev/null
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.24,Port=8080
    run -1 --separate-stderr tg-health "$tg"
    assert_line --regexp '^10\.0\.1\.24 +8080 +- +unavailable +Target\.HealthCheckDisabled +Health checks disabled$'
    assert_line "why  Target.HealthCheckDisabled: health checks are off for this target group"
    run -1 --separate-stderr tg-health "$tg" --output json --query '.targetGroups[0].targets[0] | [.state, .reason, .diagnosis]'
    assert_output '[
  "unavailable",
  "Target.HealthCheckDisabled",
  "health checks are off for this target group"
]'
}

@test "tg-health: every reason code ELB documents gets its diagnosis, tied to the group's settings (the simulator forces each state)" {
    use_sim
    local tg code state why
    tg=$(make_tg "$(name tgh)")
    awsref elbv2 register-targets --target-group-arn "$tg" --targets Id=10.0.1.23,Port=8080
    # API_TargetHealth's reason codes, each with its state; what tg-health says for this group
    # (HTTP / on the traffic port, matcher 200, every 30s, timeout 5s, 5 to turn healthy, 300s delay).
    while IFS='|' read -r code state why; do
        jq -nc --arg tg "$tg" --arg s "$state" --arg r "$code" \
            '{targetGroupArn: $tg, id: "10.0.1.23", state: $s, reason: $r, description: "as the test forced it"}' |
            curl -sf -o /dev/null -H 'Content-Type: application/json' --data @- \
                "$AWS_ENDPOINT_URL/shipkit-sim/target-health" || fail "cannot force $code"
        run -1 --separate-stderr tg-health "$tg"
        assert_line --regexp "^10\.0\.1\.23 +8080 +- +$state +${code//./\\.} +as the test forced it$"
        assert_line "why  $code: $why"
    done <<'EOF'
Elb.RegistrationInProgress|initial|the target is being registered; then healthy after 5 passing checks 30s apart, 150s at the earliest
Elb.InitialHealthChecking|initial|initial health checks: healthy after 5 passing checks 30s apart, 150s at the earliest
Target.ResponseCodeMismatch|unhealthy|the health check (HTTP / on the traffic port) got a status other than 200: make the application answer / with 200, or change the path or the matcher
Target.Timeout|unhealthy|the health check (HTTP / on the traffic port) got no answer within its 5s timeout (checks every 30s): the application is slow to answer or not listening there, or a security group drops the load balancer's traffic; raise the timeout only if the check is slow by design
Target.FailedHealthChecks|unhealthy|the health check (HTTP / on the traffic port) could not connect: nothing listens on that port in the task, or its security group does not allow the load balancer
Target.NotRegistered|unused|not registered in the target group (yet): ECS registers a task once it runs
Target.NotInUse|unused|no load balancer listener or rule forwards to this target group, or the target's Availability Zone is not enabled for the load balancer
Target.DeregistrationInProgress|draining|being deregistered: it drains for up to 300s (the deregistration delay)
Target.InvalidState|unused|the target is stopped or terminated
Target.IpUnusable|unavailable|the target's IP address cannot be used (the load balancer's own, or reserved)
Target.HealthCheckDisabled|unavailable|health checks are off for this target group
Elb.InternalError|unavailable|an internal error of the load balancer: look again
EOF
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"targetGroupArn\": \"$tg\", \"id\": \"10.0.1.23\", \"state\": null}" "$AWS_ENDPOINT_URL/shipkit-sim/target-health"
    run -0 --separate-stderr tg-health "$tg"
}

@test "tg-health --service --wait --grace: unhealthy is tolerated during the grace period (simulator)" {
    use_sim
    local tg cluster
    tg=$(make_tg "$(name tgh)")
    cluster=$(name tghc)
    sim_service "$cluster" web "$tg" example/model-server:unhealthy
    run -6 --separate-stderr tg-health --service "$cluster/web" --wait --grace 1h --timeout 3s
    [[ ${stderr_lines[-1]} == "tg-health: timed out after 3s; not healthy: "* ]] ||
        fail "last stderr line: ${stderr_lines[-1]}"
}

@test "tg-health --service: a rolling update judges the new tasks, not the old ones draining (simulator)" {
    use_sim
    local tg cluster family
    tg=$(make_tg "$(name tgh)")
    cluster=$(name tghc)
    sim_service "$cluster" web "$tg" example/model-server:good
    run -0 --separate-stderr tg-health --service "$cluster/web" --wait --timeout 60s
    family=$(name td2)
    awsref ecs register-task-definition --family "$family" --requires-compatibilities FARGATE \
        --network-mode awsvpc --cpu 256 --memory 512 \
        --container-definitions '[{"name":"app","image":"example/model-server:good2","portMappings":[{"containerPort":8080}]}]' \
        >/dev/null
    awsref ecs update-service --cluster "$cluster" --service web --task-definition "$family" >/dev/null
    run -0 --separate-stderr tg-health --service "$cluster/web" --wait --timeout 60s --output json \
        --query '[.verdict, ([.targetGroups[0].targets[] | select(.judged | not)] | length >= 2),
                  ([.targetGroups[0].targets[] | select(.judged)] | length)]'
    assert_output '[
  "healthy",
  true,
  2
]'
}
