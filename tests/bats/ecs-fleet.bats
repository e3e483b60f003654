#!/usr/bin/env bats
# ecs-roll's fleets (src/ecs-roll.1 FLEETS): many services from one run, and many runs at once,
# against a stack that throttles ECS as ECS does (token buckets, tests/stack/faults.py): throttled
# calls are waited out until --timeout, a failing service is rolled back on its own.
# Its buckets match only requests naming its own cluster (match.text), so it runs beside the others.
# bats file_tags=ecs

load helpers/common
load helpers/ecs
load helpers/faults

setup() {
    need_tool ecs-roll
    ecs_sim_setup
    use_faults
}

teardown() {
    faults_clear
    if [[ -n ${status:-} ]] && ((status > 128)); then
        echo "# last command crashed with status $status" >&2
        return 1
    fi
}

# fleet N [IMAGE]: services fleet-1..fleet-N in $C, each its own family, deployed.
fleet() {
    "$SK_PYTHON" "$REPO/tests/bats/helpers/fleet.py" "$C" "$1" "${2:-example/model:good}" >/dev/null ||
        fail "cannot make the fleet"
}

# buckets JSON: program the fault layer's token buckets (no fault rules). Each bucket's match holds
# "text": "$C": only this test's requests (its cluster, its families) take from it.
buckets() {
    curl -sf --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data "{\"buckets\": $1}" "$FAULTS" || fail "the fault layer refused: $1"
}

bucket_field() {
    curl -sf --max-time 5 "$FAULTS" | jq -r ".buckets[$1].$2"
}

# The acceptance setting: RegisterTaskDefinition bursts to 20 and refills 1 a second (this test's only).
register_20_1() {
    printf '[{"match": {"service": "ecs", "actions": ["RegisterTaskDefinition"], "text": "%s"}, "burst": 20, "refill": 1}]' "$C"
}

# every_line_names_a_service: each stderr line is one tool line, naming its service when it is about one.
every_line_names_a_service() {
    local line
    for line in "${stderr_lines[@]}"; do
        [[ $line =~ ^ecs-roll:\ (fleet-[0-9]+:\ |deploying\ ) ]] || fail "a line that names no service: $line"
    done
}

@test "40 services in one run, RegisterTaskDefinition throttled (burst 20, 1/s): all deployed, exit 0" {
    fleet 40
    buckets "$(register_20_1)"
    local args=() i
    for i in $(seq 1 40); do args+=(--service "fleet-$i"); done
    run -0 --separate-stderr ecs-roll --cluster "$C" --image app=example/model:good2 "${args[@]}" --output json
    assert_equal "$(jq '[.services[] | select(.verdict == "deployed")] | length' <<<"$output")" 40
    assert_equal "$(jq -r '.exitCode, .verdict' <<<"$output" | paste -sd' ')" "0 deployed"
    assert_equal "$(jq '[.services[] | select(.taskDefinitionArn | endswith(":2"))] | length' <<<"$output")" 40
    (($(bucket_field 0 throttled) > 0)) || fail "the stack throttled nothing: the test shows nothing"
    (($(jq .throttled <<<"$output") > 0)) || fail "no throttled call counted: $(jq -c 'del(.services)' <<<"$output")"
    (($(jq .apiCalls <<<"$output") > 40)) || fail "apiCalls: $(jq .apiCalls <<<"$output")"
    every_line_names_a_service
    assert_equal "$(awsref ecs describe-services --cluster "$C" --services fleet-1 fleet-40 \
        --query 'services[].taskDefinition' --output text | tr '\t' '\n' | sed 's/.*://' | sort -u)" 2
}

@test "40 separate ecs-roll processes started together, RegisterTaskDefinition throttled: all deployed" {
    fleet 40
    buckets "$(register_20_1)"
    local pids=() i failed=0
    for i in $(seq 1 40); do
        ecs-roll -q --cluster "$C" --service "fleet-$i" --image app=example/model:good2 \
            >"$BATS_TEST_TMPDIR/out.$i" 2>"$BATS_TEST_TMPDIR/err.$i" &
        pids+=($!)
    done
    for i in "${!pids[@]}"; do
        wait "${pids[$i]}" || {
            failed=$((failed + 1))
            echo "# fleet-$((i + 1)): $(cat "$BATS_TEST_TMPDIR/err.$((i + 1))")" >&3
        }
    done
    assert_equal "$failed" 0
    (($(bucket_field 0 throttled) > 0)) || fail "the stack throttled nothing"
    assert_equal "$(cat "$BATS_TEST_TMPDIR"/out.* | grep -c '^deployed ')" 40
}

@test "40 services, one whose new image crashes: only it fails and is rolled back, exit 1; 39 deployed" {
    fleet 40
    buckets "$(register_20_1)"
    local plan=$BATS_TEST_TMPDIR/plan.yaml i
    {
        echo "cluster: $C"
        echo "services:"
        for i in $(seq 1 40); do
            if ((i == 17)); then
                printf '  - service: fleet-%d\n    image: example/model:crash\n' "$i"
            else
                printf '  - fleet-%d\n' "$i"
            fi
        done
    } >"$plan"
    run -1 --separate-stderr ecs-roll --plan "$plan" --image app=example/model:good2 --output json
    assert_equal "$(jq '[.services[] | select(.verdict == "deployed")] | length' <<<"$output")" 39
    assert_equal "$(jq -r '.services[] | select(.service == "fleet-17") | .verdict' <<<"$output")" rolled-back
    assert_equal "$(jq -r '.services[] | select(.service == "fleet-17") | .exitCode' <<<"$output")" 1
    [[ $stderr == *"ecs-roll: fleet-17: rolled-back: update started, rolled back to $C-fleet-17:1"* ]] ||
        fail "no state line for fleet-17: $stderr"
    [[ $stderr == *"ecs-roll: fleet-17: why: container app exited with code 1"* ]] || fail "no why: $stderr"
    every_line_names_a_service
    assert_equal "$(awsref ecs describe-services --cluster "$C" --services fleet-17 \
        --query 'services[0].taskDefinition' --output text)" \
        "$(awsref ecs describe-task-definition --task-definition "$C-fleet-17:1" \
            --query taskDefinition.taskDefinitionArn --output text)"
    # the text summary: one row per service
    run -1 --separate-stderr ecs-roll -q --plan "$plan" --image app=example/model:good2
    assert_line --index 0 --regexp '^SERVICE +VERDICT +TIME +TASK DEFINITION$'
    assert_line --regexp "^fleet-17 +rolled-back +[0-9]+s +$C-fleet-17:1 \(rolled back from $C-fleet-17:3\)$"
    assert_line --regexp "^fleet-1 +unchanged +[0-9]+s +$C-fleet-1:2$"
    assert_equal "${#lines[@]}" 41
}

@test "throttling that outlasts --timeout: exit 6, the line names the call, the service and 'nothing changed'" {
    fleet 2
    buckets '[{"match": {"service": "ecs", "actions": ["RegisterTaskDefinition"], "text": "'$C'"}, "burst": 0, "refill": 0}]'
    run -6 --separate-stderr timeout 60 ecs-roll -q --cluster "$C" --service fleet-1 \
        --image app=example/model:good2 --timeout 3s
    assert_error_line ecs-roll "service fleet-1: RegisterTaskDefinition: still throttled at the deadline: ThrottlingException: Rate exceeded"
    [[ $stderr == *"; nothing changed" ]] || fail "$stderr"
    # a fleet: each service's line, the worst exit code, nothing registered
    run -6 --separate-stderr timeout 60 ecs-roll -q --cluster "$C" --image app=example/model:good2 \
        --service fleet-1 --service fleet-2 --timeout 3s --output json
    assert_equal "$(jq -r '[.services[].verdict] | unique | join(",")' <<<"$output")" error
    [[ $stderr == *"ecs-roll: fleet-2: RegisterTaskDefinition: still throttled at the deadline: "*"; nothing changed"* ]] ||
        fail "$stderr"
    assert_equal "$(awsref ecs list-task-definitions --family-prefix "$C-fleet-1" --query 'length(taskDefinitionArns)')" 1
}

@test "--fail-fast with --max-parallel 1: after the first failure no service is started; DescribeServices 10 at a time" {
    fleet 12
    buckets '[{"match": {"service": "ecs", "actions": ["DescribeServices"], "text": "'$C'"}, "burst": 100000, "refill": 0}]'
    run -1 --separate-stderr ecs-roll --cluster "$C" --service fleet-1 --image app=example/model:crash \
        --service fleet-2 --image app=example/model:good2 --max-parallel 1 --fail-fast --output json
    assert_equal "$(jq -r '[.services[].verdict] | join(",")' <<<"$output")" rolled-back,not-started
    assert_equal "$(awsref ecs list-task-definitions --family-prefix "$C-fleet-2" --query 'length(taskDefinitionArns)')" 1
    # 12 services watched together: their polls are DescribeServices calls of up to 10 services
    buckets '[{"match": {"service": "ecs", "actions": ["DescribeServices"], "text": "'$C'"}, "burst": 100000, "refill": 0}]'
    local args=() i
    for i in $(seq 1 12); do args+=(--service "fleet-$i"); done
    run -0 --separate-stderr ecs-roll --cluster "$C" --image app=example/model:good3 "${args[@]}" --output json
    local used calls answers
    used=$(jq -n --argjson t "$(bucket_field 0 tokens)" '100000 - $t | floor')
    calls=$(jq .polls.describeServicesCalls <<<"$output")
    answers=$(jq .polls.answers <<<"$output")
    # each service reads itself once before its deploy; every other DescribeServices is the poller's
    assert_equal "$used" $((12 + calls))
    # the waits of 12 services were answered by fewer calls than waits, at most 10 a call
    ((calls > 0 && calls < answers && answers <= 10 * calls)) || fail "polls: $calls calls, $answers answers"
    (($(jq .apiCalls <<<"$output") >= used)) || fail "apiCalls $(jq .apiCalls <<<"$output") < DescribeServices $used"
}

@test "plans and fleet options: bad input is one line and exit 2, nothing deployed" {
    local plan=$BATS_TEST_TMPDIR/plan.yaml
    printf 'services:\n  - service: a\n    imagez: x\n' >"$plan"
    run -2 --separate-stderr ecs-roll --cluster c --plan "$plan"
    assert_error_line ecs-roll "services[0]: unknown key 'imagez'"
    printf 'services:\n  - a\n  - service: a\n' >"$plan"
    run -2 --separate-stderr ecs-roll --cluster c --plan "$plan" --image x
    assert_error_line ecs-roll "service 'a' is named twice"
    printf 'cluster: other\nservices: [a, b]\n' >"$plan"
    run -2 --separate-stderr ecs-roll --cluster c --plan "$plan" --image x
    assert_error_line ecs-roll "--cluster c and the plan's cluster other differ"
    printf 'services: []\n' >"$plan"
    run -2 --separate-stderr ecs-roll --cluster c --plan "$plan"
    assert_error_line ecs-roll "'services' must be a list of at least one service"
    printf 'services:\n  - service: a\n    images: {app: x, web: "bad image"}\n' >"$plan"
    run -2 --separate-stderr ecs-roll --cluster c --plan "$plan"
    assert_error_line ecs-roll "an image is [CONTAINER=]IMAGE"
    run -2 --separate-stderr ecs-roll --cluster c --service a --service b --image app=x
    assert_error_line ecs-roll "service a gets no image"
    run -2 --separate-stderr ecs-roll --cluster c --service a --image x --max-parallel 2
    assert_error_line ecs-roll "--max-parallel goes with several services"
    run -2 --separate-stderr ecs-roll --cluster c --image x --service a --service b --status
    assert_error_line ecs-roll "--status, --logs and --abort look at one service"
    run -2 --separate-stderr ecs-roll --cluster c --image x --service a --service b --task-def /dev/null
    assert_error_line ecs-roll "--task-def is for one service"
    run -2 --separate-stderr ecs-roll --cluster c --image x --service a --service a
    assert_error_line ecs-roll "service 'a' is named twice"
}
