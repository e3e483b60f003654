# helpers/ecs.bash: what the bats files that run tools against the simulated ECS share
# (tests/stack/ecs_sim.py, docs/ecs-simulator.md). Load after helpers/common.

# ecs_sim_setup: the stack, the simulator at a tenth of real time (the tools poll to match), and a
# fresh cluster $C of this test.
ecs_sim_setup() {
    use_stack
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/state" ||
        skip "no ECS simulator in the stack"
    curl -sf --max-time 2 -o /dev/null -H 'Content-Type: application/json' \
        --data '{"time_scale": 0.1}' "$AWS_ENDPOINT_URL/shipkit-sim/config"
    export SK_POLL_SCALE=0.1
    C=c$(unique | tr -dc 'a-z0-9' | cut -c1-20)
    awsref ecs create-cluster --cluster-name "$C" >/dev/null
}

# ecs_sim_names: the stack, and this test's names, short and unique (target groups allow 32
# characters): its cluster $CLUSTER (created), service $SVC, family $FAMILY and log group $LOGS ($U the
# unique name they come from, $H its hash).
ecs_sim_names() {
    use_stack
    U=$(unique)
    H=$(printf '%s' "$U" | md5sum | cut -c1-12)
    CLUSTER=sim-$H
    SVC=svc-$H
    FAMILY=model-$H
    LOGS=/ecs/sim-$H
    awsref ecs create-cluster --cluster-name "$CLUSTER" >/dev/null
}

# net_field KEY: the stack's default VPC (vpcId), its first subnet (subnets) or its security group.
net_field() {
    curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/network" |
        python3 -c "import json,sys; d=json.load(sys.stdin); v=d['$1']; print(v[0] if isinstance(v, list) else v)"
}

# role NAME [POLICY_JSON]: an ECS task execution role with POLICY_JSON inline; prints its ARN. (The
# simulator checks a role only when it has a policy: one without any is a stand-in.)
role() {
    local arn
    arn=$(awsref iam create-role --role-name "$1" --query Role.Arn --output text --assume-role-policy-document \
        '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}') ||
        fail "cannot create role $1"
    if [[ -n ${2:-} ]]; then
        awsref iam put-role-policy --role-name "$1" --policy-name exec --policy-document "$2" || fail "policy of $1"
    fi
    echo "$arn"
}
