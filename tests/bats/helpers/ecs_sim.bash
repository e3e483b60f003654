# helpers/ecs_sim.bash: what the bats files that drive the stack's ECS simulator directly share
# (ecs-sim.bats, ecs-sim-strategies.bats; tests/stack/ecs_sim.py, docs/ecs-simulator.md): a service
# behind a target group, and waits on its deployments. Load after helpers/common and helpers/ecs,
# and call ecs_sim_names in setup.

# common.bash's teardown (the crash check), after putting the simulator's config back.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    if [[ -n ${AWS_ENDPOINT_URL:-} ]]; then
        sim_config '{"time_scale": 0.1, "circuit_breaker_threshold": null, "paused": false}' >/dev/null || true
    fi
    common_teardown
}

# sim_config JSON: POST the simulator's config; prints the config now in force.
sim_config() {
    curl -sf -X POST -H 'Content-Type: application/json' --data-binary "$1" "$AWS_ENDPOINT_URL/shipkit-sim/config"
}

# target_group: create an ip target group on port 8080 in the default VPC, which the load balancer
# lb-$H forwards to (ECS takes no target group without one); sets TG, and NETCONF for awsvpc services.
target_group() {
    local net
    net=$(curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/network")
    TG=$(awsref elbv2 create-target-group --name "tg-$H" --protocol HTTP --port 8080 --vpc-id "$(jq -r .vpcId <<<"$net")" \
        --target-type ip --health-check-path /health \
        --query 'TargetGroups[0].TargetGroupArn' --output text)
    [[ $TG == arn:aws:elasticloadbalancing:* ]] || fail "no target group: $TG"
    "$REPO/tests/stack/alb" "lb-$H" "$TG" >/dev/null
    NETCONF=$(jq -c '{awsvpcConfiguration: {subnets: .subnets[:1], securityGroups: [.securityGroupId]}}' <<<"$net")
}

# task_def IMAGE: register a Fargate task definition (container "app", awslogs); prints its ARN.
task_def() {
    awsref ecs register-task-definition --family "$FAMILY" --network-mode awsvpc \
        --requires-compatibilities FARGATE --cpu 256 --memory 512 --execution-role-arn "$SK_TASK_EXECUTION_ROLE_ARN" \
        --container-definitions "$(jq -nc --arg img "$1" --arg g "$LOGS" '[{name: "app", image: $img,
            essential: true, portMappings: [{containerPort: 8080}],
            logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": $g,
                "awslogs-stream-prefix": "ecs", "awslogs-region": "us-east-1"}}}]')" \
        --query taskDefinition.taskDefinitionArn --output text
}

# create_service TD [EXTRA ARGS]: desired count 2 behind $TG, circuit breaker with rollback.
create_service() {
    local td=$1
    shift
    awsref ecs create-service --cluster "$CLUSTER" --service-name "$SVC" --task-definition "$td" \
        --desired-count 2 --launch-type FARGATE --network-configuration "$NETCONF" \
        --load-balancers "targetGroupArn=$TG,containerName=app,containerPort=8080" \
        --deployment-configuration 'deploymentCircuitBreaker={enable=true,rollback=true}' "$@" \
        --output json
}

# svc: the service as DescribeServices shows it (JSON).
svc() {
    awsref ecs describe-services --cluster "$CLUSTER" --services "$SVC" --query 'services[0]' --output json
}

# wait_until SECONDS CMD...: run CMD until it succeeds; fail after SECONDS (real time).
wait_until() {
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        if ((SECONDS >= deadline)); then
            echo "# gave up waiting for: $*" >&2
            svc | jq -c '{deployments: [.deployments[] | {id, status, rolloutState, taskDefinition,
                runningCount, pendingCount, failedTasks}], events: [.events[:8][].message]}' >&2 || true
            return 1
        fi
        sleep 0.2
    done
}

# stable TD: one deployment, on TD, COMPLETED, 2 of 2 running.
stable() {
    [[ $(svc | jq -r '[(.deployments | length), .deployments[0].rolloutState, .deployments[0].taskDefinition,
        .taskDefinition, .runningCount, .desiredCount] | @tsv') == "1	COMPLETED	$1	$1	2	2" ]]
}
