#!/usr/bin/env bats
# ecs-sim-strategies: the stack's ECS simulator's service deployments (tests/stack/ecs_sim.py,
# docs/ecs-simulator.md "Service deployments"): ListServiceDeployments, DescribeServiceDeployments
# and StopServiceDeployment over its rolling deployments, through boto3 (Debian's aws-cli predates
# these calls) and the /shipkit-sim control endpoint.

load helpers/common
load helpers/ecs
load helpers/ecs_sim

setup_file() {
    make_images
}

setup() {
    ecs_sim_names
}

# ecs_py OPERATION [JSON]: call the boto3 ECS client's OPERATION (snake_case) with JSON's keyword
# arguments ({} by default); prints the answer (without ResponseMetadata) as JSON, or the error code.
ecs_py() {
    "$(pyref)" -c 'import boto3, botocore.exceptions, json, os, sys
ecs = boto3.client("ecs", endpoint_url=os.environ["AWS_ENDPOINT_URL"],
                   region_name=os.environ.get("AWS_DEFAULT_REGION") or "us-east-1")
try:
    out = getattr(ecs, sys.argv[1])(**(json.loads(sys.argv[2]) or {}))
except botocore.exceptions.ClientError as e:
    print(e.response["Error"]["Code"]); sys.exit(1)
out.pop("ResponseMetadata", None)
print(json.dumps(out, default=str))' "$1" "${2:-null}"
}

# sds [JSON]: the service's service deployments (ListServiceDeployments; JSON adds arguments).
sds() {
    ecs_py list_service_deployments "$(jq -c --arg c "$CLUSTER" --arg s "$SVC" '. + {cluster: $c, service: $s}' <<<"${1:-null}")"
}

# sd ARN: the service deployment ARN as DescribeServiceDeployments shows it.
sd() {
    ecs_py describe_service_deployments "$(jq -nc --arg a "$1" '{serviceDeploymentArns: [$a]}')" |
        jq -c '.serviceDeployments[0]'
}

# sd_is STATUS ARN: the service deployment ARN has status STATUS.
sd_is() {
    [[ $(sd "$2" | jq -r .status) == "$1" ]]
}

@test "service deployments: one per CreateService and UpdateService, IN_PROGRESS then SUCCESSFUL, newest first, revisions, filters, pages" {
    target_group
    good=$(task_def 127.0.0.1:5000/model:good)
    create_service "$good" >/dev/null
    wait_until 30 stable "$good"
    run -0 sds null
    assert_equal "$(jq -r '.serviceDeployments | length' <<<"$output")" 1
    first=$(jq -r '.serviceDeployments[0].serviceDeploymentArn' <<<"$output")
    [[ $first == arn:aws:ecs:us-east-1:*:service-deployment/$CLUSTER/$SVC/* ]] || fail "ARN: $first"
    run -0 sd "$first"
    assert_equal "$(jq -r '[.status, .targetServiceRevision.requestedTaskCount, .targetServiceRevision.runningTaskCount,
        (.sourceServiceRevisions | length), (.finishedAt != null), .deploymentCircuitBreaker.status,
        .deploymentCircuitBreaker.threshold] | @tsv' <<<"$output")" "SUCCESSFUL	2	2	0	true	MONITORING_COMPLETE	3"
    rev1=$(jq -r .targetServiceRevision.arn <<<"$output")
    [[ $rev1 == arn:aws:ecs:us-east-1:*:service-revision/$CLUSTER/$SVC/* ]] || fail "revision: $rev1"

    # The clock paused: the new deployment stays IN_PROGRESS while we look.
    sim_config '{"paused": true}' >/dev/null
    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --force-new-deployment >/dev/null
    run -0 sds null
    assert_equal "$(jq -r '[.serviceDeployments[] | .status] | join(" ")' <<<"$output")" "IN_PROGRESS SUCCESSFUL"
    second=$(jq -r '.serviceDeployments[0].serviceDeploymentArn' <<<"$output")
    run -0 sd "$second"
    assert_equal "$(jq -r '[.status, .sourceServiceRevisions[0].arn, (.targetServiceRevision.arn != $r),
        (.finishedAt == null)] | @tsv' --arg r "$rev1" <<<"$output")" "IN_PROGRESS	$rev1	true	true"
    created=$(jq -r .createdAt <<<"$output")
    run -0 sds '{"status": ["IN_PROGRESS"]}'
    assert_equal "$(jq -r '[.serviceDeployments[].serviceDeploymentArn] | join(" ")' <<<"$output")" "$second"

    sim_config '{"paused": false}' >/dev/null
    wait_until 30 sd_is SUCCESSFUL "$second"
    run -0 sds '{"status": ["SUCCESSFUL"]}'
    assert_equal "$(jq -r '.serviceDeployments | length' <<<"$output")" 2
    run -0 sds '{"status": ["IN_PROGRESS", "ROLLBACK_IN_PROGRESS"]}'
    assert_equal "$(jq -r '.serviceDeployments | length' <<<"$output")" 0
    run -0 sds "$(jq -nc --arg t "$created" '{createdAt: {after: $t}}')"
    assert_equal "$(jq -r '[.serviceDeployments[].serviceDeploymentArn] | join(" ")' <<<"$output")" "$second"
    # Pages: maxResults 1, newest first.
    run -0 sds '{"maxResults": 1}'
    assert_equal "$(jq -r '.serviceDeployments[0].serviceDeploymentArn' <<<"$output")" "$second"
    token=$(jq -r .nextToken <<<"$output")
    run -0 sds "$(jq -nc --arg t "$token" '{maxResults: 1, nextToken: $t}')"
    assert_equal "$(jq -r '[.serviceDeployments[0].serviceDeploymentArn, (.nextToken // "none")] | @tsv' <<<"$output")" "$first	none"
    # An ARN ECS does not know: a failure, not an error.
    run -0 ecs_py describe_service_deployments "$(jq -nc --arg a "${first%/*}/nosuch" '{serviceDeploymentArns: [$a]}')"
    assert_equal "$(jq -r '[(.serviceDeployments | length), .failures[0].reason] | @tsv' <<<"$output")" "0	MISSING"
}

@test "service deployments: a circuit-breaker rollback is ROLLBACK_IN_PROGRESS then ROLLBACK_SUCCESSFUL, with its reason and revision" {
    target_group
    good=$(task_def 127.0.0.1:5000/model:good)
    bad=$(task_def 127.0.0.1:5000/model:crash)
    create_service "$good" >/dev/null
    wait_until 30 stable "$good"
    rev1=$(sd "$(sds null | jq -r '.serviceDeployments[0].serviceDeploymentArn')" | jq -r .targetServiceRevision.arn)

    sim_config '{"time_scale": 0.2}' >/dev/null
    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$bad" >/dev/null
    arn=$(sds null | jq -r '.serviceDeployments[0].serviceDeploymentArn')
    wait_until 40 sd_is ROLLBACK_IN_PROGRESS "$arn"
    run -0 sd "$arn"
    assert_equal "$(jq -r '[.rollback.reason, .rollback.serviceRevisionArn, (.rollback.startedAt != null),
        .deploymentCircuitBreaker.status, (.deploymentCircuitBreaker.failureCount >= 3)] | @tsv' <<<"$output")" \
        "ECS deployment circuit breaker: tasks failed to start.	$rev1	true	TRIGGERED	true"
    # The rollback goes on under the same service deployment: no new one.
    assert_equal "$(sds null | jq -r '.serviceDeployments | length')" 2
    sim_config '{"time_scale": 0.05}' >/dev/null
    wait_until 30 sd_is ROLLBACK_SUCCESSFUL "$arn"
    wait_until 10 stable "$good"
    assert_equal "$(sd "$arn" | jq -r '(.finishedAt != null)')" true
}

@test "service deployments: a circuit breaker with nothing to roll back to STOPS the service deployment" {
    target_group
    bad=$(task_def 127.0.0.1:5000/model:crash)
    sim_config '{"time_scale": 0.05}' >/dev/null
    create_service "$bad" >/dev/null
    arn=$(sds null | jq -r '.serviceDeployments[0].serviceDeploymentArn')
    wait_until 30 sd_is STOPPED "$arn"
    run -0 sd "$arn"
    assert_equal "$(jq -r '[.statusReason, .deploymentCircuitBreaker.status, (.rollback == null), (.stoppedAt != null)]
        | @tsv' <<<"$output")" "ECS deployment circuit breaker: tasks failed to start.	TRIGGERED	true	true"
}

@test "StopServiceDeployment ROLLBACK rolls an in-progress deployment back; a finished one or an unknown ARN is refused" {
    allow_contract_refusal
    local good base dc
    target_group
    good=$(task_def 127.0.0.1:5000/model:good)
    slow=$(task_def 127.0.0.1:5000/model:slow)
    create_service "$good" >/dev/null
    wait_until 30 stable "$good"
    first=$(sds null | jq -r '.serviceDeployments[0].serviceDeploymentArn')
    rev1=$(sd "$first" | jq -r .targetServiceRevision.arn)
    # Nothing in progress: ECS answers ConflictException.
    run -1 ecs_py stop_service_deployment "$(jq -nc --arg a "$first" '{serviceDeploymentArn: $a, stopType: "ROLLBACK"}')"
    assert_output ConflictException

    awsref ecs update-service --cluster "$CLUSTER" --service "$SVC" --task-definition "$slow" >/dev/null
    arn=$(sds null | jq -r '.serviceDeployments[0].serviceDeploymentArn')
    run -0 ecs_py stop_service_deployment "$(jq -nc --arg a "$arn" '{serviceDeploymentArn: $a, stopType: "ROLLBACK"}')"
    assert_equal "$(jq -r .serviceDeploymentArn <<<"$output")" "$arn"
    run -0 sd "$arn"
    # (on a loaded machine the old revision may already be back by the time we look)
    [[ $(jq -r .status <<<"$output") =~ ^ROLLBACK_(IN_PROGRESS|SUCCESSFUL)$ ]] || fail "status: $output"
    assert_equal "$(jq -r '[.rollback.serviceRevisionArn, .rollback.reason] | @tsv' <<<"$output")" \
        "$rev1	Service deployment rolled back because of a stop request."
    run -0 jq -r '.events[].message' <<<"$(svc)"
    assert_line --regexp "^\(service $SVC\) \(deployment ecs-svc/[0-9]+\) deployment stopped, rolling back to deployment ecs-svc/[0-9]+\.$"
    wait_until 30 sd_is ROLLBACK_SUCCESSFUL "$arn"
    wait_until 20 stable "$good"

    run -1 ecs_py stop_service_deployment "$(jq -nc --arg a "${arn%/*}/nosuch" '{serviceDeploymentArn: $a}')"
    assert_output ServiceDeploymentNotFoundException
}

@test "contract: deployment strategies' documented constraints and DescribeServiceDeployments' 20 ARNs are refused" {
    allow_contract_refusal
    local good base dc
    target_group
    good=$(task_def 127.0.0.1:5000/model:good)
    base=$(jq -nc --arg c "$CLUSTER" --arg s "$SVC" --arg td "$good" --arg tg "$TG" --argjson net "$NETCONF" \
        '{cluster: $c, serviceName: $s, taskDefinition: $td, desiredCount: 1, launchType: "FARGATE",
          networkConfiguration: $net, loadBalancers: [{targetGroupArn: $tg, containerName: "app", containerPort: 8080}]}')
    for dc in '{"strategy": "BLUE_GREEN"}' \
        '{"strategy": "ROLLING", "linearConfiguration": {"stepPercent": 10}}' \
        '{"strategy": "LINEAR", "canaryConfiguration": {"canaryPercent": 10}}'; do
        run -1 ecs_py create_service "$(jq -c --argjson dc "$dc" '. + {deploymentConfiguration: $dc}' <<<"$base")"
        assert_output InvalidParameterException
    done
    run -1 ecs_py describe_service_deployments "$(jq -nc '{serviceDeploymentArns: [range(21) | "arn:aws:ecs:us-east-1:123456789012:service-deployment/c/s/\(.)"]}')"
    assert_output InvalidParameterException
    # Nothing was created.
    assert_equal "$(awsref ecs list-services --cluster "$CLUSTER" --query 'length(serviceArns)' --output text)" 0
}
