#!/usr/bin/env bats
# make demo from this checkout: the whole pipeline on its own stack, its summary, then make demo-down
# leaves no process and no port behind. And examples/demo-prereqs, which make demo runs first: silent
# when everything is installed; a missing package is installed as root, or named in one message
# (exit 3, nothing started) otherwise. Its hooks (SK_DEMO_PREREQ_PATH, SK_DEMO_PREREQ_UID,
# SK_DEMO_APT_GET) simulate a machine lacking a command, a user who is not root, and apt-get.

load helpers/common

setup() {
    # Its own stack, not the test runner's.
    export SK_STACK_DIR=$BATS_TEST_TMPDIR/stack
    # Never the real apt-get: a stand-in that records its arguments and installs nothing.
    mkdir -p "$BATS_TEST_TMPDIR/fake"
    cat >"$BATS_TEST_TMPDIR/fake/apt-get" <<EOT
#!/bin/sh
echo "\$*" >>"$BATS_TEST_TMPDIR/apt-get.log"
EOT
    chmod +x "$BATS_TEST_TMPDIR/fake/apt-get"
    export SK_DEMO_APT_GET=$BATS_TEST_TMPDIR/fake/apt-get
}

need_demo_tools() {
    command -v buildah >/dev/null 2>&1 || skip "buildah is not installed"
    command -v docker-registry >/dev/null 2>&1 || skip "docker-registry is not installed"
}

# path_without CMD: a directory holding every command demo-prereqs looks for, except CMD.
path_without() {
    local d=$BATS_TEST_TMPDIR/path c p
    rm -rf "$d"
    mkdir -p "$d"
    for c in cc make pkg-config curl python3 aws openssl htpasswd docker-registry buildah moto_server \
        dpkg-query sudo; do
        [[ $c == "$1" ]] && continue
        p=$(PATH=/opt/shipkit-moto/bin:${PYENV_ROOT:-/root/.pyenv}/shims:$PATH command -v "$c") || continue
        ln -sf "$p" "$d/$c"
    done
    echo "$d"
}

# all_present: skip unless demo-prereqs, as a user who cannot install, finds nothing missing.
all_present() {
    SK_DEMO_PREREQ_UID=1000 SK_DEMO_PREREQ_PATH=$(path_without sudo) "$REPO/examples/demo-prereqs" >/dev/null 2>&1 ||
        skip "not everything make demo needs is installed here"
}

@test "demo-prereqs: everything installed: silent, exit 0, nothing installed" {
    all_present
    run -0 --separate-stderr "$REPO/examples/demo-prereqs"
    assert_output ""
    assert_equal "$stderr" ""
    [[ ! -e $BATS_TEST_TMPDIR/apt-get.log ]] || fail "apt-get ran: $(cat "$BATS_TEST_TMPDIR/apt-get.log")"
}

@test "make demo as a user, buildah missing: one message with the apt-get line, exit 3, nothing started" {
    all_present
    export SK_DEMO_PREREQ_PATH SK_DEMO_PREREQ_UID=1000 SK_DEMO_SKIP_BUILD=1
    SK_DEMO_PREREQ_PATH=$(path_without buildah)
    run -3 --separate-stderr "$REPO/examples/demo"
    assert_output ""
    [[ $stderr == *"make demo: missing: buildah "* ]] || fail "$stderr"
    [[ $stderr == *$'\n    sudo apt-get install buildah'* ]] || fail "no apt-get line: $stderr"
    [[ $stderr != *moto* ]] || fail "moto is installed, yet named: $stderr"
    [[ ! -e $SK_STACK_DIR ]] || fail "the stack was started"
    [[ ! -e $BATS_TEST_TMPDIR/apt-get.log ]] || fail "apt-get ran as a user"
}

@test "demo-prereqs as a user, moto and awscli missing: the apt-get line and the moto venv line" {
    all_present
    SK_DEMO_PREREQ_UID=1000 SK_DEMO_PREREQ_PATH=$(path_without aws) run -3 --separate-stderr \
        "$REPO/examples/demo-prereqs"
    [[ $stderr == *$'\n    sudo apt-get install awscli'* ]] || fail "$stderr"
    rm "$BATS_TEST_TMPDIR/path/moto_server"
    SK_DEMO_PREREQ_UID=1000 SK_DEMO_PREREQ_PATH=$BATS_TEST_TMPDIR/path run -3 --separate-stderr \
        "$REPO/examples/demo-prereqs"
    [[ $stderr == *"missing: awscli moto_server"* ]] || fail "$stderr"
    [[ $stderr == *"pip install 'moto[server]'"* ]] || fail "$stderr"
}

@test "demo-prereqs as root, buildah missing: apt-get install buildah, then says it is still missing" {
    all_present
    SK_DEMO_PREREQ_UID=0 SK_DEMO_PREREQ_PATH=$(path_without buildah) run -3 --separate-stderr \
        "$REPO/examples/demo-prereqs"
    [[ $stderr == *"make demo: installing buildah"* ]] || fail "$stderr"
    [[ $stderr == *"make demo: still missing after installing: buildah"* ]] || fail "$stderr"
    run -0 cat "$BATS_TEST_TMPDIR/apt-get.log"
    assert_line --index 0 "update -qq"
    assert_line --index 1 "install -y -qq --no-install-recommends buildah"
}

teardown() {
    make -s -C "$REPO" demo-down >/dev/null 2>&1 || true
}

@test "make demo runs the pipeline and summarises it; make demo-down leaves nothing running" {
    need_demo_tools
    local t
    for t in aws-sign ssm-put secret-put ecr-push ecs-roll tg-health rds-check; do
        need_tool "$t"
    done
    # The tools as built (make test builds them with sanitizers): never rebuilt here with other flags.
    SK_DEMO_SKIP_BUILD=1 run -0 --separate-stderr make -s -C "$REPO" -o tools demo
    assert_output --partial "parameters and secret in place (config-aws)"
    assert_output --regexp "deployed [^ ]+/ml-model-service@sha256:[0-9a-f]{64}"
    assert_output --partial "targets healthy"
    assert_output --partial "broken image rolled back (exit 1), stopped reason and log lines shown"
    assert_output --partial "database checked"
    [[ $stderr == *"ECS rolled the deployment back"* ]] || fail "no rollback reason: $stderr"
    [[ $stderr == *"exited with code 1"* ]] || fail "no exit code shown"

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
