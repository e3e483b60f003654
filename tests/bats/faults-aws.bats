#!/usr/bin/env bats
# The AWS tools under injected faults (tests/stack/faults.py, docs/ecs-simulator.md "Fault
# injection"): a transient fault of every kind (fewer than the attempts) is retried and the result
# is right, as the reference aws-cli reads it back; a persistent one exits with the documented code
# (4 AWS error, 5 network: resets and timeouts) and one stderr line naming the error; and the
# invariants: secret-put makes one version per run, ssm-put --from-file says exactly what was
# written, ecs-roll names the task definition the service is left on.
# bats file_tags=faults

load helpers/common
load helpers/faults

setup() {
    use_faults
    # The default budget (3 attempts); tests of persistent faults lower it to 2 (one backoff).
    export AWS_MAX_ATTEMPTS=3
    # Backoff in tens of milliseconds, not seconds (a Retry-After is still honoured in full).
    export SK_RETRY_SCALE=0.05
    N=$(unique | tr -dc 'a-z0-9' | tail -c 12)
}

eval "common_$(declare -f teardown)"
teardown() {
    # Never leave rules for the next test (or file), nor a changed simulator clock.
    [[ -n ${FAULTS:-} ]] && curl -s --max-time 5 -o /dev/null -X DELETE "$FAULTS"
    [[ -n ${SIM_SCALE:-} ]] && curl -s --max-time 5 -o /dev/null -H 'Content-Type: application/json' \
        --data "{\"time_scale\": $SIM_SCALE}" "$AWS_ENDPOINT_URL/shipkit-sim/config"
    common_teardown
}

# run_kind KIND CMD...: run CMD (with --separate-stderr) under KIND's read timeout.
run_kind() {
    local kind=$1
    shift
    SK_READ_TIMEOUT=$(read_timeout_for "$kind") run --separate-stderr "$@"
}

# ---- the fault layer itself ---------------------------------------------------------------------

@test "fault layer: rules are validated; its own, /moto-api and unsigned traffic is never faulted" {
    need_tool aws-sign
    run curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"rules":[{"fault":"explode"}]}' "$FAULTS"
    assert_output 400
    run curl -s -o /dev/null -w '%{http_code}' -X POST --data '{"rules":[{"fault":"throttle","match":{"host":"x"}}]}' "$FAULTS"
    assert_output 400
    faults '[{"fault": "throttle"}]'
    run curl -s -o /dev/null -w '%{http_code}' "$AWS_ENDPOINT_URL/moto-api/"
    assert_output 200
    run curl -s -X POST -H 'X-Amz-Target: AmazonSSM.GetParameter' -H 'Content-Type: application/x-amz-json-1.1' \
        --data '{"Name":"/x"}' "$AWS_ENDPOINT_URL/"
    assert_output --partial MissingAuthenticationToken
    assert_equal "$(faults_injected)" 0
    # A signed call is: JSON 1.1 and Query protocols each get their own throttling document.
    run -4 --separate-stderr env AWS_MAX_ATTEMPTS=1 ssm-put "/faults/$N" v
    assert_error_line ssm-put "ThrottlingException: Rate exceeded"
    run -4 --separate-stderr env AWS_MAX_ATTEMPTS=1 aws-sign -d 'Action=GetCallerIdentity&Version=2011-06-15' \
        --service sts "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign "Throttling: Rate exceeded"
    assert_equal "$(faults_injected throttle)" 2
    run curl -sf "$FAULTS"
    assert_output --partial '"requests": 2'
}

@test "fault layer: count, match on service/action/not_action, and reset-during lets the call happen" {
    faults '[{"fault": "reset-during", "match": {"service": "ssm", "not_action": ["GetParameter", "GetParameters"]}, "count": 1}]'
    run -5 --separate-stderr env AWS_MAX_ATTEMPTS=1 ssm-put "/faults/$N" v1
    # The write happened; the client could not tell, so the tool read it back.
    assert_error_line ssm-put "holds the new value all the same (read back)"
    assert_equal "$(awsref ssm get-parameter --name "/faults/$N" --query Parameter.Value --output text)" v1
    faults '[{"fault": "reset-before", "match": {"service": "ssm", "action": "PutParameter"}, "count": 1}]'
    run -5 --separate-stderr env AWS_MAX_ATTEMPTS=1 ssm-put "/faults/$N" v2
    assert_error_line ssm-put "was not written (read back)"
    assert_equal "$(awsref ssm get-parameter --name "/faults/$N" --query Parameter.Value --output text)" v1
    assert_equal "$(faults_injected)" 1
}

# ---- ssm-put ------------------------------------------------------------------------------------

@test "ssm-put: a transient fault of every kind is retried; the value is written" {
    local k names=() want=()
    for k in "${KINDS[@]}"; do
        faults "[$(one_rule "$k" '{"service": "ssm", "action": "PutParameter"}' 1)]"
        run_kind "$k" ssm-put "/faults/$N/$k" "value-$k"
        [[ $status -eq 0 ]] || fail "$k: exit $status: $stderr"
        assert_equal "$(faults_injected "$k")" 1
        names+=("/faults/$N/$k")
        want+=("/faults/$N/$k value-$k")
    done
    faults_clear
    assert_equal "$(awsref ssm get-parameters --names "${names[@]}" \
        --query 'sort_by(Parameters, &Name)[].[Name, Value]' --output text | tr '\t' ' ')" \
        "$(printf '%s\n' "${want[@]}" | sort)"
}

@test "AWS_RETRY_MODE=adaptive on the stack: throttled writes go through the rate limiter and are retried to success; an unknown mode is exit 3" {
    faults '[{"fault": "throttle", "match": {"service": "ssm", "action": "PutParameter"}, "count": 3}]'
    run -0 --separate-stderr env AWS_RETRY_MODE=adaptive AWS_MAX_ATTEMPTS=5 SK_RETRY_SCALE=0.01 ssm-put --debug \
        --type String "/faults/$N/adaptive" v1
    assert_equal "$(faults_injected throttle)" 3
    [[ $(grep -c 'PutParameter: attempt [0-9]/5 failed (ThrottlingException' <<<"$stderr") == 3 ]] || fail "$stderr"
    assert_equal "$(awsref ssm get-parameter --name "/faults/$N/adaptive" --query Parameter.Value --output text)" v1
    run -3 --separate-stderr env AWS_RETRY_MODE=eager ssm-put --type String "/faults/$N/adaptive" v2
    assert_error_line ssm-put "invalid retry mode 'eager': use standard, adaptive or legacy"
}

@test "ssm-put: persistent faults exit 4 (AWS) or 5 (network, timeout) with one line naming the error" {
    export AWS_MAX_ATTEMPTS=2
    local k code text
    for k in throttle 503 reset-before slow; do
        case $k in
        throttle) code=4 text="ThrottlingException: Rate exceeded (after 2 attempts)" ;;
        503) code=4 text="ServiceUnavailable" ;;
        reset-before) code=5 text="Connection reset by peer (after 2 attempts)" ;;
        slow) code=5 text="timed out" ;;
        esac
        faults "[$(one_rule "$k" '{"service": "ssm", "action": "PutParameter"}')]"
        run_kind "$k" ssm-put "/faults/$N/$k" v
        [[ $status -eq $code ]] || fail "$k: exit $status, not $code: $stderr"
        assert_error_line ssm-put "$text"
    done
}

# bulk FILE NAMES...: a --from-file YAML of NAME: value-NAME.
bulk() {
    local f=$1 n
    shift
    : >"$f"
    for n in "$@"; do
        printf '%s: value-%s\n' "$n" "${n##*/}" >>"$f"
    done
}

@test "ssm-put --from-file: transient faults on every write are retried; every parameter is written" {
    local p="/faults/$N"
    bulk "$BATS_TEST_TMPDIR/p.yaml" "$p/a" "$p/b" "$p/c" "$p/d"
    faults '[{"fault": "reset-during", "match": {"action": "PutParameter"}, "count": 1},
             {"fault": "503", "match": {"action": "PutParameter"}, "count": 1},
             {"fault": "slow", "delay": 0, "match": {"action": "PutParameter"}, "count": 1},
             {"fault": "throttle", "match": {"action": "PutParameter"}, "count": 1},
             {"fault": "reset-before", "match": {"action": "PutParameter"}, "count": 1}]'
    run -0 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_equal "${#lines[@]}" 4
    faults_clear
    assert_equal "$(awsref ssm get-parameters --names "$p/a" "$p/b" "$p/c" "$p/d" \
        --query 'sort(Parameters[].Value)' --output text | tr '\t' ' ')" "value-a value-b value-c value-d"
}

@test "ssm-put --from-file: a persistent fault on the 3rd write says exactly what was written and what not" {
    export AWS_MAX_ATTEMPTS=2
    local p="/faults/$N" k
    for k in reset-before reset-during 500; do
        bulk "$BATS_TEST_TMPDIR/p.yaml" "$p/$k/a" "$p/$k/b" "$p/$k/c" "$p/$k/d"
        # "slow" with no delay lets the first two writes through untouched.
        faults "[{\"fault\": \"slow\", \"delay\": 0, \"match\": {\"action\": \"PutParameter\"}, \"count\": 2},
                 {\"fault\": \"$k\", \"match\": {\"action\": \"PutParameter\"}}]"
        run --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
        [[ $status -eq 5 || ($k == 500 && $status -eq 4) ]] || fail "$k: exit $status: $stderr"
        # stdout: one line per parameter written; stderr: the one line that tells the rest.
        assert_equal "${#lines[@]}" 2
        assert_error_line ssm-put "$p/$k/c: "
        case $k in
        reset-during)
            assert_error_line ssm-put "3 of 4 written ( $p/$k/a $p/$k/b ); $p/$k/c holds the new value all the same (read back); not tried: $p/$k/d"
            ;;
        *)
            assert_error_line ssm-put "2 of 4 written ( $p/$k/a $p/$k/b ); $p/$k/c was not written (read back); not tried: $p/$k/d"
            ;;
        esac
        faults_clear
        run awsref ssm get-parameters --names "$p/$k/a" "$p/$k/b" "$p/$k/c" "$p/$k/d" \
            --query 'sort(Parameters[].Name)' --output text
        if [[ $k == reset-during ]]; then
            assert_output "$(printf '%s\t%s\t%s' "$p/$k/a" "$p/$k/b" "$p/$k/c")"
        else
            assert_output "$(printf '%s\t%s' "$p/$k/a" "$p/$k/b")"
        fi
    done
}

@test "ssm-put --from-file: a long list of what was not tried stays on one bounded line, state kept whole" {
    export AWS_MAX_ATTEMPTS=1
    local p="/faults/$N/a-rather-long-hierarchy-name/of-parameters" names=() i
    for i in $(seq -w 1 30); do names+=("$p/param-$i"); done
    bulk "$BATS_TEST_TMPDIR/p.yaml" "${names[@]}"
    faults '[{"fault": "slow", "delay": 0, "match": {"action": "PutParameter"}, "count": 1},
             {"fault": "500", "match": {"action": "PutParameter"}}]'
    run -4 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_error_line ssm-put "InternalFailure: "
    assert_error_line ssm-put "1 of 30 written ( $p/param-01 ); $p/param-02 was not written (read back); not tried: $p/param-03"
    assert_error_line ssm-put " more"
    ((${#stderr} < 600)) || fail "error line of ${#stderr} bytes"
}

# ---- secret-put ---------------------------------------------------------------------------------

versions() {
    awsref secretsmanager list-secret-version-ids --secret-id "$1" --query 'length(Versions)' --output text
}

# secret_versions PREFIX: "NAME VERSIONS" per secret under PREFIX, sorted (one aws-cli call).
secret_versions() {
    awsref secretsmanager list-secrets --filters "Key=name,Values=$1" \
        --query 'SecretList[].[Name, length(keys(SecretVersionsToStages))]' --output text | sort | tr '\t' ' '
}

secret_value() {
    awsref secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text
}

@test "secret-put: transient faults of every kind on create and update: one new version each, right value" {
    need_tool secret-put
    local k s want=()
    for k in "${KINDS[@]}"; do
        s="faults/$N/$k"
        faults "[$(one_rule "$k" '{"service": "secretsmanager", "action": "CreateSecret"}' 1)]"
        run_kind "$k" secret-put "$s" <<<"v1-$k"
        [[ $status -eq 0 ]] || fail "create under $k: exit $status: $stderr"
        faults "[$(one_rule "$k" '{"service": "secretsmanager", "action": "PutSecretValue"}' 1)]"
        run_kind "$k" secret-put "$s" <<<"v2-$k"
        [[ $status -eq 0 ]] || fail "update under $k: exit $status: $stderr"
        assert_equal "$(faults_injected "$k")" 1
        want+=("$s 2")
    done
    faults_clear
    # A slow request is still being answered after the tool's retry won: let it land (it must not
    # add a version).
    sleep 1.7
    assert_equal "$(secret_versions "faults/$N/")" "$(printf '%s\n' "${want[@]}" | sort)"
    # The values of the runs whose first attempt was applied (or is applied late).
    assert_equal "$(secret_value "faults/$N/reset-during")" v2-reset-during
    assert_equal "$(secret_value "faults/$N/slow")" v2-slow
}

@test "secret-put: every attempt handled (reset-during, slow) still makes exactly one version: the token is reused" {
    need_tool secret-put
    local s="faults/$N/x"
    export AWS_MAX_ATTEMPTS=2
    secret-put "$s" <<<v1 >/dev/null
    # Both attempts reach Secrets Manager and store the value; the response never arrives.
    faults '[{"fault": "reset-during", "match": {"action": "PutSecretValue"}}]'
    run -5 --separate-stderr secret-put "$s" <<<v2
    assert_error_line secret-put "Connection reset by peer (after 2 attempts); $s got its new version "
    assert_error_line secret-put " all the same (read back)"
    assert_equal "$(faults_injected reset-during)" 2
    faults_clear
    assert_equal "$(versions "$s")" 2
    assert_equal "$(awsref secretsmanager get-secret-value --secret-id "$s" --query SecretString --output text)" v2
    # Created the same way: both CreateSecret attempts handled, one secret with one version.
    faults '[{"fault": "reset-during", "match": {"action": "CreateSecret"}}]'
    run -5 --separate-stderr secret-put "$s-new" <<<v1
    assert_error_line secret-put "$s-new got its new version "
    faults_clear
    assert_equal "$(versions "$s-new")" 1
    # Never reached: said so.
    faults '[{"fault": "reset-before", "match": {"action": "PutSecretValue"}}]'
    run -5 --separate-stderr secret-put "$s" <<<v3
    assert_error_line secret-put "$s got no new version (read back)"
    faults_clear
    assert_equal "$(versions "$s")" 2
}

@test "secret-put --from-file: transient faults; every secret written once" {
    need_tool secret-put
    export S1=one S2=two
    printf 'secrets:\n  faults/%s/a: {value_env: S1}\n  faults/%s/b: {value_env: S2}\n' "$N" "$N" \
        >"$BATS_TEST_TMPDIR/s.yaml"
    faults '[{"fault": "reset-during", "match": {"action": "CreateSecret"}, "count": 1},
             {"fault": "throttle-retry-after", "retry_after": 1, "match": {"service": "secretsmanager"}, "count": 1}]'
    run -0 --separate-stderr secret-put --from-file "$BATS_TEST_TMPDIR/s.yaml"
    assert_equal "$(faults_injected)" 2
    faults_clear
    assert_equal "$(versions "faults/$N/a")" 1
    assert_equal "$(versions "faults/$N/b")" 1
    assert_equal "$(awsref secretsmanager get-secret-value --secret-id "faults/$N/b" --query SecretString \
        --output text)" two
}

# ---- tg-health ----------------------------------------------------------------------------------

# healthy_tg: a target group behind a load balancer with one registered (moto: healthy) target;
# prints its ARN.
healthy_tg() {
    local vpc arn
    vpc=$(curl -sf --max-time 2 "$AWS_ENDPOINT_URL/shipkit-sim/network" |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["vpcId"])') || skip "no ECS simulator network"
    arn=$(awsref elbv2 create-target-group --name "tg-$N" --protocol HTTP --port 8080 --vpc-id "$vpc" \
        --target-type ip --query 'TargetGroups[0].TargetGroupArn' --output text)
    "$REPO/tests/stack/alb" "tg-$N" "$arn" >/dev/null || fail "no load balancer for tg-$N"
    awsref elbv2 register-targets --target-group-arn "$arn" --targets Id=10.0.0.7 >/dev/null
    echo "$arn"
}

@test "tg-health: transient faults of every kind (Query protocol) are retried; persistent ones exit 4/5" {
    need_tool tg-health
    local k tg
    tg=$(healthy_tg)
    for k in "${KINDS[@]}"; do
        faults "[$(one_rule "$k" '{"service": "elasticloadbalancing"}' 1)]"
        run_kind "$k" tg-health "$tg"
        [[ $status -eq 0 ]] || fail "$k: exit $status: $stderr"
        assert_output --partial 10.0.0.7
        assert_equal "$(faults_injected "$k")" 1
    done
    export AWS_MAX_ATTEMPTS=2
    faults '[{"fault": "throttle", "match": {"action": "DescribeTargetHealth"}}]'
    run -4 --separate-stderr tg-health "$tg"
    assert_error_line tg-health "Throttling: Rate exceeded (after 2 attempts)"
    faults '[{"fault": "reset-before", "match": {"service": "elasticloadbalancing"}}]'
    run -5 --separate-stderr tg-health "$tg"
    assert_error_line tg-health "Connection reset by peer"
    # --wait looks again after a look that failed for good (2 looks x 2 attempts here) ...
    export SK_POLL_SCALE=0.05
    faults '[{"fault": "reset-before", "match": {"action": "DescribeTargetHealth"}, "count": 4}]'
    run -0 --separate-stderr tg-health "$tg" --wait --timeout 30s
    assert_output --partial 10.0.0.7
    [[ $stderr == *"waiting: "*"Connection reset by peer"*"; looking again"* ]] || fail "no note: $stderr"
    # ... but not forever: 3 such looks in a row end it.
    faults '[{"fault": "503", "match": {"action": "DescribeTargetHealth"}}]'
    run -4 --separate-stderr tg-health -q "$tg" --wait --timeout 30s
    assert_error_line tg-health "ServiceUnavailable"
    assert_equal "$(faults_injected 503)" 6
}

# ---- rds-check ----------------------------------------------------------------------------------

@test "rds-check: transient faults on DescribeDBInstances and GetSecretValue are retried; persistent exit 4/5" {
    need_tool rds-check
    [[ -n ${SK_RDS_ID:-} ]] || skip "no PostgreSQL in the test stack"
    local k
    for k in throttle 503 reset-before reset-during slow; do
        faults "[$(one_rule "$k" '{"service": "rds", "action": "DescribeDBInstances"}' 1),
                 $(one_rule "$k" '{"service": "secretsmanager", "action": "GetSecretValue"}' 1)]"
        run_kind "$k" rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
        [[ $status -eq 0 ]] || fail "$k: exit $status: $output $stderr"
        assert_line --regexp '^PASS  login  '
        assert_equal "$(faults_injected "$k")" 2
    done
    export AWS_MAX_ATTEMPTS=2
    faults '[{"fault": "500", "match": {"action": "DescribeDBInstances"}}]'
    run -4 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA"
    assert_error_line rds-check "InternalFailure"
}

# ---- aws-sign -----------------------------------------------------------------------------------

@test "aws-sign: transient faults of every kind are retried, re-signed; the body is printed once" {
    need_tool aws-sign
    local k
    for k in "${KINDS[@]}"; do
        faults "[$(one_rule "$k" '{"service": "sts"}' 1)]"
        run_kind "$k" aws-sign -d 'Action=GetCallerIdentity&Version=2011-06-15' --service sts "$AWS_ENDPOINT_URL/"
        [[ $status -eq 0 ]] || fail "$k: exit $status: $stderr"
        assert_equal "$(grep -o '<GetCallerIdentityResult>' <<<"$output" | wc -l)" 1
        assert_output --partial 'user/shipkit-ci'
        assert_equal "$(faults_injected "$k")" 1
    done
    export AWS_MAX_ATTEMPTS=2
    faults '[{"fault": "503", "match": {"service": "sts"}}]'
    run -4 --separate-stderr aws-sign -d 'Action=GetCallerIdentity&Version=2011-06-15' --service sts \
        "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign "ServiceUnavailable"
    assert_equal "$output" ""
    faults '[{"fault": "reset-during", "match": {"service": "sts"}}]'
    run -5 --separate-stderr aws-sign -d 'Action=GetCallerIdentity&Version=2011-06-15' --service sts \
        "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign "(after 2 attempts)"
    assert_equal "$output" ""
}

# ---- ecs-roll -----------------------------------------------------------------------------------

# ecs_service [breaker]: a cluster c$N and a 1-task service "web" on revision 1 of family fam-$N
# (with "breaker": ECS's circuit breaker on, its rollback off), its first deployment completed (set up with botocore in one process: aws-cli would take seconds per call).
ecs_service() {
    need_tool ecs-roll
    SIM_SCALE=$(curl -sf --max-time 2 "$AWS_ENDPOINT_URL/shipkit-sim/config" | jq .time_scale) ||
        skip "no ECS simulator in the stack"
    curl -sf --max-time 2 -o /dev/null -H 'Content-Type: application/json' --data '{"time_scale": 0.05}' \
        "$AWS_ENDPOINT_URL/shipkit-sim/config"
    export SK_POLL_SCALE=0.1
    C=c$N
    local py
    py=$(pyref) || skip "no python3 with botocore"
    "$py" - "$C" "fam-$N" "${1:-}" <<'EOF' || fail "cannot set up the ECS service"
import json, os, sys, time, urllib.request
import botocore.session
cluster, family, cb = sys.argv[1], sys.argv[2], sys.argv[3]
url = os.environ["AWS_ENDPOINT_URL"]
ecs = botocore.session.get_session().create_client("ecs", endpoint_url=url, region_name=os.environ["AWS_REGION"])
net = json.load(urllib.request.urlopen(url + "/shipkit-sim/network"))
ecs.create_cluster(clusterName=cluster)
ecs.register_task_definition(family=family, networkMode="awsvpc", requiresCompatibilities=["FARGATE"], cpu="256",
                             memory="512", containerDefinitions=[{"name": "app", "image": "example/model:good",
                                                                  "essential": True}])
ecs.create_service(cluster=cluster, serviceName="web", taskDefinition=family, desiredCount=1, launchType="FARGATE",
                   networkConfiguration={"awsvpcConfiguration": {"subnets": net["subnets"][:1],
                                                                 "securityGroups": [net["securityGroupId"]]}},
                   deploymentConfiguration={"deploymentCircuitBreaker": {"enable": cb == "breaker",
                                                                         "rollback": False}})
for _ in range(100):
    svc = ecs.describe_services(cluster=cluster, services=["web"])["services"][0]
    if svc["deployments"][0].get("rolloutState") == "COMPLETED":
        sys.exit(0)
    time.sleep(0.1)
sys.exit("the first deployment did not complete")
EOF
}

running_td() {
    awsref ecs describe-services --cluster "$C" --services web --query 'services[0].taskDefinition' --output text
}

@test "ecs-roll: transient faults on register, update and the wait: deployed, on the task definition it reports" {
    ecs_service
    faults '[{"fault": "reset-during", "match": {"action": "RegisterTaskDefinition"}, "count": 1},
             {"fault": "reset-during", "match": {"action": "UpdateService"}, "count": 1},
             {"fault": "slow", "delay": 0, "match": {"action": "DescribeServices"}, "count": 1},
             {"fault": "503", "match": {"action": "DescribeServices"}, "count": 1},
             {"fault": "reset-before", "match": {"action": "DescribeServices"}, "count": 2},
             {"fault": "throttle", "match": {"action": "DescribeServices"}, "count": 1}]'
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:good2 --output json
    assert_equal "$(faults_injected reset-during)" 2
    faults_clear
    local td
    td=$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["taskDefinitionArn"])' "$output")
    # The first RegisterTaskDefinition was applied too (revision 2, unused): the service runs 3.
    assert_equal "$td" "$(running_td)"
    [[ $td == *"/fam-$N:3" ]] || fail "expected revision 3, got $td"
}

@test "ecs-roll: UpdateService applied but its answers lost (reset-during): exit 5, names the new revision" {
    ecs_service
    export AWS_MAX_ATTEMPTS=2
    faults '[{"fault": "reset-during", "match": {"action": "UpdateService"}}]'
    run -5 --separate-stderr ecs-roll -q --cluster "$C" --service web --image app=example/model:good2
    assert_error_line ecs-roll "UpdateService to fam-$N:2: "
    assert_error_line ecs-roll "the service is on fam-$N:2 (the new revision)"
    faults_clear
    [[ $(running_td) == *":task-definition/fam-$N:2" ]] || fail "service on $(running_td)"
}

@test "ecs-roll: UpdateService never reached ECS (reset-before): exit 5, names the unchanged revision" {
    ecs_service
    export AWS_MAX_ATTEMPTS=2
    faults '[{"fault": "reset-before", "match": {"action": "UpdateService"}}]'
    run -5 --separate-stderr ecs-roll -q --cluster "$C" --service web --image app=example/model:good2
    assert_error_line ecs-roll "the service is on fam-$N:1 (unchanged, the revision from before)"
    faults_clear
    [[ $(running_td) == *":task-definition/fam-$N:1" ]] || fail "service on $(running_td)"
}

@test "ecs-roll: DescribeServices failing through the wait: exit 5, names the deployment and where the service is" {
    ecs_service
    export AWS_MAX_ATTEMPTS=2
    # The first DescribeServices (what runs now) passes; the next 3 polls x 2 attempts fail.
    faults '[{"fault": "slow", "delay": 0, "match": {"action": "DescribeServices"}, "count": 1},
             {"fault": "reset-before", "match": {"action": "DescribeServices"}, "count": 6}]'
    run -5 --separate-stderr ecs-roll -q --cluster "$C" --service web --image app=example/model:good2
    assert_error_line ecs-roll "of fam-$N:2 started, then watching it failed: "
    assert_error_line ecs-roll "the service is on fam-$N:2 (the new revision), deployment ecs-svc/"
    faults_clear
    [[ $(running_td) == *":task-definition/fam-$N:2" ]] || fail "service on $(running_td)"
}

@test "ecs-roll: a failed deploy whose rollback UpdateService fails: exit 5, names the revision left running" {
    ecs_service breaker
    export AWS_MAX_ATTEMPTS=2
    # The deploy's UpdateService passes (a "slow" of 0 s); the rollback's never reaches ECS.
    faults '[{"fault": "slow", "delay": 0, "match": {"action": "UpdateService"}, "count": 1},
             {"fault": "reset-before", "match": {"action": "UpdateService"}}]'
    run -5 --separate-stderr ecs-roll --cluster "$C" --service web --image app=example/model:crash
    # Before it: what failed (stopped tasks); last: the error with the state left.
    local last=${stderr_lines[${#stderr_lines[@]} - 1]}
    [[ $last == "ecs-roll: service web: deploy of fam-$N:2 failed; UpdateService back to fam-$N:1: "* ]] || fail "last line: $last"
    [[ $last == *"; the service is on fam-$N:2 (the new revision), deployment ecs-svc/"*" FAILED" ]] ||
        fail "last line: $last"
    faults_clear
    [[ $(running_td) == *":task-definition/fam-$N:2" ]] || fail "service on $(running_td)"
}
