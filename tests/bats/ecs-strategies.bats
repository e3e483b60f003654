#!/usr/bin/env bats
# ecs-strategies: ecs-roll on services that deploy BLUE_GREEN, LINEAR and CANARY (the stack's ECS
# simulator runs them: tests/stack/ecs_sim.py, docs/ecs-simulator.md "Deployment strategies"):
# the stages, the traffic split, hooks, alarms, ECS's rollbacks, --wait-until, --abort, --rollback,
# and Ctrl-C. The services are made through boto3 (Debian's aws-cli predates the strategies).
# bats file_tags=ecs

load helpers/common
load helpers/ecs

setup() {
    need_tool ecs-roll
    ecs_sim_setup
    HOOK=arn:aws:lambda:us-east-1:123456789012:function:check-$C
    ALARM=5xx-$C
}

teardown() {
    if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
        curl -sf -o /dev/null -H 'Content-Type: application/json' --data "{\"hookTargetArn\": \"$HOOK\", \"status\": null}" \
            "$AWS_ENDPOINT_URL/shipkit-sim/hooks" || true
    fi
}

# staged_service NAME IMAGE DEPLOYMENT_CONFIGURATION_JSON: a 2-task service of family fam-$C-NAME
# behind a new target group, with that deploymentConfiguration (the circuit breaker with rollback
# added), deployed.
staged_service() {
    local name=$1 image=$2 dc=$3 tg
    tg=$(awsref elbv2 create-target-group --name "tg-$C-$name" --protocol HTTP --port 8080 \
        --vpc-id "$(net_field vpcId)" --target-type ip --query 'TargetGroups[0].TargetGroupArn' --output text)
    "$REPO/tests/stack/alb" "lb-$C-$name" "$tg" >/dev/null
    awsref ecs register-task-definition --family "fam-$C-$name" --network-mode awsvpc --requires-compatibilities FARGATE \
        --cpu 256 --memory 512 --execution-role-arn "$SK_TASK_EXECUTION_ROLE_ARN" \
        --container-definitions "[{\"name\":\"app\",\"image\":\"$image\",
        \"essential\":true,\"portMappings\":[{\"containerPort\":8080}],\"logConfiguration\":{\"logDriver\":\"awslogs\",
        \"options\":{\"awslogs-group\":\"/ecs/$C\",\"awslogs-region\":\"us-east-1\",\"awslogs-stream-prefix\":\"ecs\"}}}]" \
        >/dev/null
    "$(pyref)" -c 'import boto3, json, os, sys
ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
c, name, tg, subnet, sg, dc = sys.argv[1:]
dc = dict(json.loads(dc), deploymentCircuitBreaker={"enable": True, "rollback": True})
ecs.create_service(cluster=c, serviceName=name, taskDefinition=f"fam-{c}-{name}", desiredCount=2, launchType="FARGATE",
    networkConfiguration={"awsvpcConfiguration": {"subnets": [subnet], "securityGroups": [sg]}},
    loadBalancers=[{"targetGroupArn": tg, "containerName": "app", "containerPort": 8080}], deploymentConfiguration=dc)
' "$C" "$name" "$tg" "$(net_field subnets)" "$(net_field securityGroupId)" "$dc"
    for _ in $(seq 1 100); do
        [[ $(awsref ecs describe-services --cluster "$C" --services "$name" \
            --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]] && return 0
        sleep 0.1
    done
    fail "the first deployment of $name did not complete"
}

# dc STRATEGY [EXTRA_JSON]: a deploymentConfiguration for STRATEGY that ends quickly at the stack's
# time scale (a minute of canary or linear step is 6 s), merged with EXTRA_JSON.
dc() {
    local base
    case $1 in
    BLUE_GREEN) base='{"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}' ;;
    CANARY) base='{"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1}}' ;;
    LINEAR) base='{"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}}' ;;
    esac
    jq -c --argjson extra "${2:-{\}}" '. * $extra' <<<"$base"
}

STRATEGIES="BLUE_GREEN LINEAR CANARY"

# short STRATEGY: bg, lin or can (names stay within a target group's 32 characters).
short() {
    case $1 in
    BLUE_GREEN) echo bg ;;
    LINEAR) echo lin ;;
    CANARY) echo can ;;
    esac
}

running_td() {
    awsref ecs describe-services --cluster "$C" --services "$1" --query 'services[0].taskDefinition' --output text
}

# newest_sd SERVICE: the newest service deployment (JSON), as DescribeServiceDeployments shows it.
newest_sd() {
    "$(pyref)" -c 'import boto3, json, os, sys
ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"], region_name="us-east-1")
arn = ecs.list_service_deployments(cluster=sys.argv[1], service=sys.argv[2])["serviceDeployments"][0]["serviceDeploymentArn"]
print(json.dumps(ecs.describe_service_deployments(serviceDeploymentArns=[arn])["serviceDeployments"][0], default=str))
' "$C" "$1"
}

# stage_is SERVICE STAGE: the newest service deployment is IN_PROGRESS in STAGE.
stage_is() {
    [[ $(newest_sd "$1" | jq -r '[.status, .lifecycleStage] | @tsv') == "IN_PROGRESS	$2" ]]
}

wait_for() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        ((SECONDS < deadline)) || fail "gave up waiting for: $*"
        sleep 0.2
    done
}

@test "BLUE_GREEN: every stage in order, the traffic switched at once, the verdict from the service deployment" {
    staged_service web example/model:good '{"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 0}'
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good2 --output json
    refute_crash
    assert_equal "$(jq -r '[.verdict, .strategy, .serviceDeploymentStatus] | @tsv' <<<"$output")" \
        "deployed	BLUE_GREEN	SUCCESSFUL"
    [[ $(jq -r .serviceDeploymentArn <<<"$output") == arn:aws:ecs:us-east-1:*:service-deployment/$C/web/* ]] ||
        fail "no service deployment ARN: $output"
    stages=$(grep -o 'stage [A-Z_]*' <<<"$stderr" | cut -d' ' -f2 | tr '\n' ' ')
    assert_equal "$stages" "PRE_SCALE_UP SCALE_UP POST_SCALE_UP TEST_TRAFFIC_SHIFT POST_TEST_TRAFFIC_SHIFT PRODUCTION_TRAFFIC_SHIFT POST_PRODUCTION_TRAFFIC_SHIFT BAKE_TIME CLEAN_UP "
    [[ $stderr == *"BLUE_GREEN deployment: following service deployment arn:aws:ecs:"* ]] || fail "$stderr"
    [[ $stderr == *"traffic: production 100% new, 0% old; test 100% new"* ]] || fail "no switch: $stderr"
    [[ $(running_td web) == *":task-definition/fam-$C-web:2" ]] || fail "not on :2: $(running_td web)"
}

@test "CANARY: the canary's share, then the rest; LINEAR: each step" {
    staged_service can example/model:good \
        '{"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 10.0, "canaryBakeTimeInMinutes": 1}}'
    run -0 --separate-stderr ecs-roll --cluster "$C" --service can --image app=example/model:good2
    assert_output --regexp "^deployed .*:task-definition/fam-$C-can:2 deployment ecs-svc/[0-9]+ in [0-9]+s$"
    [[ $stderr == *"traffic: production 10% new, 90% old"* ]] || fail "no canary step: $stderr"
    [[ $stderr == *"traffic: production 100% new, 0% old"* ]] || fail "no full shift: $stderr"

    staged_service lin example/model:good \
        '{"strategy": "LINEAR", "linearConfiguration": {"stepPercent": 50.0, "stepBakeTimeInMinutes": 1}}'
    run -0 --separate-stderr ecs-roll --cluster "$C" --service lin --image app=example/model:good2
    [[ $stderr == *"traffic: production 50% new, 50% old"* ]] || fail "no linear step: $stderr"
    [[ $stderr == *"stage CLEAN_UP"* ]] || fail "$stderr"
}

@test "circuit breaker, each strategy: ECS rolls back, exit 1, the stopped task says why" {
    for st in $STRATEGIES; do
        svc=cb-$(short "$st")
        staged_service "$svc" example/model:good "$(dc "$st")"
        run -1 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --image app=example/model:crash --output json
        refute_crash
        assert_equal "$(jq -r '[.strategy, .verdict, .serviceDeploymentStatus] | @tsv' <<<"$output")" \
            "$st	rolled-back	ROLLBACK_SUCCESSFUL"
        [[ $stderr == *"deploy failed: ECS rolled the deployment back: ECS deployment circuit breaker"* ]] || fail "$stderr"
        [[ $stderr == *"ModuleNotFoundError"* ]] || fail "no log line of the stopped task: $stderr"
        [[ $(running_td "$svc") == *":task-definition/fam-$C-$svc:1" ]] || fail "$st: not back on :1: $(running_td "$svc")"
    done
}

@test "an alarm in ALARM, each strategy: ECS rolls back; the alarm and its state reason are named" {
    for st in $STRATEGIES; do
        alarm=$ALARM-$(short "$st")
        svc=al-$(short "$st")
        awsref cloudwatch put-metric-alarm --alarm-name "$alarm" --metric-name HTTPCode_Target_5XX_Count \
            --namespace AWS/ApplicationELB --statistic Sum --period 60 --evaluation-periods 1 --threshold 1 \
            --comparison-operator GreaterThanThreshold
        # blue/green: the alarm fires in the bake time; canary and linear: while traffic shifts
        extra="{\"alarms\": {\"alarmNames\": [\"$alarm\"], \"enable\": true, \"rollback\": true},
            \"bakeTimeInMinutes\": 10, \"canaryConfiguration\": {\"canaryBakeTimeInMinutes\": 10},
            \"linearConfiguration\": {\"stepBakeTimeInMinutes\": 10}}"
        [[ $st == BLUE_GREEN ]] && stage=BAKE_TIME || stage=PRODUCTION_TRAFFIC_SHIFT
        cfg=$(dc "$st" "$extra" | jq -c --arg st "$st" 'if $st != "CANARY" then del(.canaryConfiguration) else . end |
            if $st != "LINEAR" then del(.linearConfiguration) else . end')
        staged_service "$svc" example/model:good "$cfg"
        ecs-roll --cluster "$C" --service "$svc" --image app=example/model:good2 --output json \
            >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
        pid=$!
        wait_for 60 stage_is "$svc" "$stage"
        awsref cloudwatch set-alarm-state --alarm-name "$alarm" --state-value ALARM \
            --state-reason "Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (1.0)."
        status=0
        wait "$pid" || status=$?
        assert_equal "$status" 1
        err=$(cat "$BATS_TEST_TMPDIR/err")
        [[ $err == *"(alarm $alarm in ALARM)"* ]] || fail "$st: the alarm is not named: $err"
        [[ $err == *"alarm $alarm: Threshold Crossed: 1 datapoint [7.0] was greater than the threshold (1.0)."* ]] ||
            fail "$st: no state reason: $err"
        [[ $err != *"why:"* ]] || fail "$st: the tasks were fine, yet a why: $err"
        assert_equal "$(jq -r '[.verdict, (.triggeredAlarms | join(","))] | @tsv' "$BATS_TEST_TMPDIR/out")" \
            "rolled-back	$alarm"
        [[ $(running_td "$svc") == *":task-definition/fam-$C-$svc:1" ]] || fail "$st: not back on :1"
    done
    [[ $err == *"traffic: production 10% new, 90% old"* ]] || fail "canary step not seen: $err"
}

@test "a lifecycle hook that fails, each strategy: ECS rolls back; the hook's result is printed" {
    curl -sf -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"hookTargetArn\": \"$HOOK\", \"status\": \"FAILED\"}" "$AWS_ENDPOINT_URL/shipkit-sim/hooks"
    for st in $STRATEGIES; do
        svc=hk-$(short "$st")
        staged_service "$svc" example/model:good "$(dc "$st" "{\"lifecycleHooks\": [{\"hookTargetArn\": \"$HOOK\",
            \"roleArn\": \"arn:aws:iam::123456789012:role/hook\", \"lifecycleStages\": [\"POST_TEST_TRAFFIC_SHIFT\"]}]}")"
        run -1 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --image app=example/model:good2
        refute_crash
        [[ $stderr == *"hook $HOOK in POST_TEST_TRAFFIC_SHIFT: FAILED"* ]] || fail "$st: no hook result: $stderr"
        [[ $stderr == *"deploy failed: ECS rolled the deployment back: Lifecycle hook $HOOK returned FAILED"* ]] ||
            fail "$st: $stderr"
        [[ $(running_td "$svc") == *":task-definition/fam-$C-$svc:1" ]] || fail "$st: not back on :1"
    done
}

@test "--wait-until PRODUCTION_TRAFFIC_SHIFT, each strategy: returns during a long bake; the deployment goes on" {
    for st in $STRATEGIES; do
        svc=wu-$(short "$st")
        staged_service "$svc" example/model:good "$(dc "$st" '{"bakeTimeInMinutes": 600}')"
        run -0 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --image app=example/model:good2 \
            --wait-until PRODUCTION_TRAFFIC_SHIFT --output json
        refute_crash
        assert_equal "$(jq -r '[.verdict, .lifecycleStage] | @tsv' <<<"$output")" "stage-passed	POST_PRODUCTION_TRAFFIC_SHIFT"
        [[ $(jq -r .state <<<"$output") == *"passed PRODUCTION_TRAFFIC_SHIFT and goes on"* ]] || fail "$output"
        [[ $stderr == *"stop with --abort"* ]] || fail "$stderr"
        assert_equal "$(newest_sd "$svc" | jq -r '[.status, .targetServiceRevision.requestedProductionTrafficWeight] | @tsv')" \
            "IN_PROGRESS	100"
        # what is left running, as --status shows it
        run -0 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --status
        assert_output --regexp "rollout  $st IN_PROGRESS, stage (POST_PRODUCTION_TRAFFIC_SHIFT|BAKE_TIME), production traffic 100% new"
    done
    # a rolling service has no stages to wait for
    run -2 --separate-stderr ecs-roll --cluster "$C" --service wu-canary --wait-until BAKE_TIME --rollback --no-wait
    [[ $stderr == *"--wait-until returns before the deployment ends: not with --no-wait"* ]] || fail "$stderr"
    run -2 --separate-stderr ecs-roll --cluster "$C" --service wu-canary --wait-until NOT_A_STAGE
    [[ $stderr == *"--wait-until takes a lifecycle stage before CLEAN_UP"* ]] || fail "$stderr"
}

@test "--wait-until on a rolling service is refused before anything changes" {
    staged_service roll example/model:good '{}'
    run -2 --separate-stderr ecs-roll --cluster "$C" --service roll --image app=example/model:good2 \
        --wait-until BAKE_TIME
    [[ $stderr == *"deploys with the ROLLING strategy: --wait-until needs BLUE_GREEN, LINEAR or CANARY"* ]] ||
        fail "$stderr"
    [[ $(running_td roll) == *":task-definition/fam-$C-roll:1" ]] || fail "changed"
}

@test "--abort during the traffic shift, each strategy: StopServiceDeployment, the rollback followed to its end" {
    for st in $STRATEGIES; do
        svc=ab-$(short "$st")
        # blue/green shifts at once: a PAUSE hook holds it in PRODUCTION_TRAFFIC_SHIFT
        staged_service "$svc" example/model:good "$(dc "$st" '{"canaryConfiguration": {"canaryBakeTimeInMinutes": 30},
            "linearConfiguration": {"stepBakeTimeInMinutes": 30}, "lifecycleHooks": [{"targetType": "PAUSE",
            "roleArn": "arn:aws:iam::123456789012:role/hook", "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"]}]}' |
            jq -c --arg st "$st" 'if $st != "CANARY" then del(.canaryConfiguration) else . end |
                if $st != "LINEAR" then del(.linearConfiguration) else . end')"
        run -0 ecs-roll --cluster "$C" --service "$svc" --image app=example/model:good2 --no-wait -q
        wait_for 60 stage_is "$svc" PRODUCTION_TRAFFIC_SHIFT
        run -0 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --abort
        refute_crash
        assert_output --regexp "^aborted arn:aws:ecs:us-east-1:[0-9]+:service-deployment/$C/$svc/[^ ]+ ROLLBACK_SUCCESSFUL in [0-9]+s$"
        [[ $stderr == *"ECS is rolling back: Service deployment rolled back because of a stop request."* ]] ||
            fail "$st: $stderr"
        [[ $(running_td "$svc") == *":task-definition/fam-$C-$svc:1" ]] || fail "$st: not back on :1"
    done
    # nothing in progress now
    run -1 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --abort
    [[ $stderr == *"no deployment of $svc is in progress; nothing to abort"* ]] || fail "$stderr"
}

@test "--rollback, each strategy: the last successful deployment's revision, deployed and followed" {
    for st in $STRATEGIES; do
        svc=rb-$(short "$st")
        staged_service "$svc" example/model:good "$(dc "$st")"
        if [[ $st == BLUE_GREEN ]]; then
            run -1 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --rollback
            [[ $stderr == *"nothing to roll back to (nothing changed)"* ]] || fail "$stderr"
        fi
        run -0 ecs-roll --cluster "$C" --service "$svc" --image app=example/model:good2 -q
        [[ $(running_td "$svc") == *":task-definition/fam-$C-$svc:"* ]] || fail "not deployed"
        now=$(running_td "$svc")
        run -0 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --rollback --output json
        refute_crash
        [[ $stderr == *"rolling back to fam-$C-$svc:"*" (was ${now##*/})"* ]] || fail "$st: $stderr"
        [[ $stderr == *"stage CLEAN_UP"* ]] || fail "$st: not followed: $stderr"
        assert_equal "$(jq -r '[.verdict, .strategy] | @tsv' <<<"$output")" "deployed	$st"
        [[ $(running_td "$svc") != "$now" ]] || fail "$st: still on $now"
    done
    run -2 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --rollback --image app=x
    [[ $stderr == *"--rollback deploys a revision that ran before: not with --image"* ]] || fail "$stderr"
}

@test "Ctrl-C without a terminal stops watching, leaves the deployment going and says how to abort" {
    staged_service can example/model:good \
        '{"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 30}}'
    ecs-roll --cluster "$C" --service can --image app=example/model:good2 </dev/null >"$BATS_TEST_TMPDIR/out" \
        2>"$BATS_TEST_TMPDIR/err" &
    pid=$!
    wait_for 60 stage_is can PRODUCTION_TRAFFIC_SHIFT
    kill -INT "$pid"
    status=0
    wait "$pid" || status=$?
    assert_equal "$status" 6
    grep -q "stopped watching; deployment ecs-svc/[0-9]* goes on. To stop it and roll back: ecs-roll --cluster $C --service can --abort" \
        "$BATS_TEST_TMPDIR/err" || fail "$(cat "$BATS_TEST_TMPDIR/err")"
    assert_equal "$(newest_sd can | jq -r .status)" IN_PROGRESS
}

@test "--rollback passes over a deregistered (INACTIVE) revision: ECS would refuse it; nothing changes" {
    staged_service roll example/model:good '{}'
    run -0 ecs-roll --cluster "$C" --service roll --image app=example/model:good2 --keep-revisions 1 -q
    assert_equal "$(awsref ecs describe-task-definition --task-definition "fam-$C-roll:1" --query taskDefinition.status \
        --output text)" INACTIVE
    run -1 --separate-stderr ecs-roll --cluster "$C" --service roll --rollback
    refute_crash
    [[ $stderr == *"fam-$C-roll:1 ran in an earlier successful deployment but is INACTIVE (deregistered): passed over"* ]] ||
        fail "$stderr"
    [[ $stderr == *"nothing to roll back to (nothing changed)"* ]] || fail "$stderr"
    [[ $(running_td roll) == *":task-definition/fam-$C-roll:2" ]] || fail "changed: $(running_td roll)"
}

@test "a rolling deployment failed by its alarm: the alarm is named with its reason, the service deployment reported" {
    awsref cloudwatch put-metric-alarm --alarm-name "$ALARM" --metric-name HTTPCode_Target_5XX_Count \
        --namespace AWS/ApplicationELB --statistic Sum --period 60 --evaluation-periods 1 --threshold 1 \
        --comparison-operator GreaterThanThreshold
    staged_service roll example/model:good \
        "{\"alarms\": {\"alarmNames\": [\"$ALARM\"], \"enable\": true, \"rollback\": true}}"
    awsref cloudwatch set-alarm-state --alarm-name "$ALARM" --state-value ALARM --state-reason "Threshold Crossed: test"
    run -1 --separate-stderr ecs-roll --cluster "$C" --service roll --image app=example/model:good2 --output json
    refute_crash
    [[ $stderr == *"alarm $ALARM: Threshold Crossed: test"* ]] || fail "$stderr"
    assert_equal "$(jq -r '[.verdict, .strategy, .serviceDeploymentStatus, (.triggeredAlarms | join(","))] | @tsv' \
        <<<"$output")" "rolled-back	ROLLING	ROLLBACK_SUCCESSFUL	$ALARM"
    [[ $(running_td roll) == *":task-definition/fam-$C-roll:1" ]] || fail "not back on :1"
}

@test "each strategy: a pre-flight failure refuses the deploy (exit 1, nothing registered); --keep-revisions after success" {
    for st in $STRATEGIES; do
        svc=pf-$(short "$st")
        staged_service "$svc" example/model:good "$(dc "$st")"
        run -1 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --image "app=$SK_REGISTRY/nope-$C:v1"
        refute_crash
        [[ $stderr == *"verify: FAIL image app=$SK_REGISTRY/nope-$C:v1"* ]] || fail "$st: $stderr"
        assert_equal "$(awsref ecs list-task-definitions --family-prefix "fam-$C-$svc" --query 'length(taskDefinitionArns)')" 1
        [[ $(running_td "$svc") == *":task-definition/fam-$C-$svc:1" ]] || fail "$st: changed"
        run -0 --separate-stderr ecs-roll --cluster "$C" --service "$svc" --image app=example/model:good2 \
            --keep-revisions 1 --output json
        assert_equal "$(jq -r '[.verdict, .strategy, (.deregistered | map(split("/")[1]) | join(","))] | @tsv' <<<"$output")" \
            "deployed	$st	fam-$C-$svc:1"
        assert_equal "$(awsref ecs describe-task-definition --task-definition "fam-$C-$svc:1" \
            --query taskDefinition.status --output text)" INACTIVE
    done
}

@test "Ctrl-C on a terminal asks; y stops the deployment and follows ECS's rollback to its end" {
    staged_service tty example/model:good \
        '{"strategy": "CANARY", "canaryConfiguration": {"canaryPercent": 20.0, "canaryBakeTimeInMinutes": 30}}'
    # ecs-roll on a pseudo-terminal: ^C at the canary step, then "y" to the question
    run -0 --separate-stderr "$(pyref)" - "$REPO/bin/ecs-roll" "$C" <<'PY'
import os, pty, select, sys, time
tool, cluster = sys.argv[1:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(tool, [tool, "--cluster", cluster, "--service", "tty", "--image", "app=example/model:good2"])
out, sent_c, sent_y, deadline = b"", False, False, time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    if not sent_c and b"traffic: production 20% new" in out:
        os.write(fd, b"\x03")  # the terminal's interrupt character: SIGINT to ecs-roll
        sent_c = True
    if sent_c and not sent_y and b"and roll back? [y/N]" in out:
        os.write(fd, b"y\n")
        sent_y = True
_, st = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
print("\nEXIT", os.waitstatus_to_exitcode(st))
PY
    [[ $output == *"abort deployment ecs-svc/"*" and roll back? [y/N]"* ]] || fail "no question: $output"
    [[ $output == *"stopping service deployment arn:aws:ecs:"*": ECS rolls it back"* ]] || fail "$output"
    [[ $output == *"deploy failed: ECS rolled the deployment back: Service deployment rolled back because of a stop request."* ]] ||
        fail "$output"
    [[ $output == *"EXIT 1"* ]] || fail "exit: $output"
    [[ $(running_td tty) == *":task-definition/fam-$C-tty:1" ]] || fail "not back on :1"
}
