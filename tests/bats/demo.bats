#!/usr/bin/env bats
# make demo from this checkout: the whole pipeline on its own stack, its summary, then make demo-down
# leaves no process and no port behind. (Its prerequisites check: prereqs.bats.)

load helpers/common

setup() {
    # Its own stack, not the test runner's.
    export SK_STACK_DIR=$BATS_TEST_TMPDIR/stack
}

need_demo_tools() {
    command -v buildah >/dev/null 2>&1 || skip "buildah is not installed"
    command -v docker-registry >/dev/null 2>&1 || skip "docker-registry is not installed"
}

teardown() {
    make -s -C "$REPO" demo-down >/dev/null 2>&1 || true
}

@test "make demo runs the pipeline and summarises it; make demo-down leaves nothing running" {
    need_demo_tools
    local t
    for t in aws-sign ssm-put secret-put ecr-push ecs-roll ecs-run tg-health rds-check; do
        need_tool "$t"
    done
    # The tools as built (make test builds them with sanitizers): never rebuilt here with other flags.
    SK_DEMO_SKIP_BUILD=1 run -0 --separate-stderr make -s -C "$REPO" -o tools demo
    assert_output --partial "parameters and secret in place (config-aws)"
    assert_output --regexp "deployed [^ ]+/ml-model-service@sha256:[0-9a-f]{64}"
    assert_output --partial "targets healthy"
    assert_output --partial "one-off task succeeded (make migrate-aws: ecs-run, exit 0)"
    assert_output --partial "failing one-off task explained (ecs-run, exit 1)"
    [[ $stderr == *"why: container app exited with code 3"* && $stderr == *"relation alembic_version is locked"* ]] ||
        fail "the failing one-off task is not explained: $stderr"
    assert_output --partial "broken image rolled back (exit 1), stopped reason and log lines shown"
    assert_output --partial "database checked"
    assert_output --partial "canary deployment passed"
    assert_output --partial "canary rolled back by its alarm (exit 1), the alarm and its reason named"
    [[ $stderr == *"traffic: production 10% new, 90% old"* ]] || fail "no canary step: $stderr"
    [[ $stderr == *"alarm ml-model-service-canary-5xx: Threshold Crossed: 1 datapoint [37.0]"* ]] ||
        fail "the alarm is not named with its reason: $stderr"
    [[ $stderr == *"ECS rolled the deployment back"* ]] || fail "no rollback reason: $stderr"
    [[ $stderr == *"exited with code 1"* ]] || fail "no exit code shown"
    # ... and the broken image's own log lines (the crash scenario's traceback, docs/ecs-simulator.md).
    [[ $stderr == *"ModuleNotFoundError: No module named 'mlflow'"* ]] || fail "no log lines shown: $stderr"
    # Its stack's contract layer (docs/aws-fidelity.md) refused nothing and found no bad answer.
    [[ ! -s $SK_STACK_DIR/contract.log ]] || fail "contract layer: $(cat "$SK_STACK_DIR/contract.log")"

    local pids ports
    pids=$(sed -n 's/^export SK_\(MOTO\|REGISTRY\|PG\)_PID=//p' "$SK_STACK_DIR/env")
    ports=$(sed -n 's/^export SK_\(MOTO\|PG\)_PORT=//p; s/^export SK_REGISTRY=127.0.0.1://p' "$SK_STACK_DIR/env")
    run -0 make -s -C "$REPO" -o tools demo-down
    sleep 1
    local p
    for p in $pids; do
        if kill -0 "$p" 2>/dev/null && ! grep -q zombie "/proc/$p/status" 2>/dev/null &&
            ! grep -q '^State:.*Z' "/proc/$p/status" 2>/dev/null; then
            fail "process $p is still running after demo-down"
        fi
    done
    for p in $ports; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
            fail "port $p still answers after demo-down"
        fi
    done
}
