#!/usr/bin/env bats
# shellcheck disable=SC2016,SC2154 # literal $(...) and backticks are the point; run sets status/output
# fragments-hostile.bats: every variable of the make fragments (mk/*.mk), given quotes, backticks,
# $(...), ;, spaces, newlines, a glob and make's own $(shell ...), on the command line and in the
# environment, for every target. Nothing may run (an injected command would create $P/pwned), and
# each run either refuses with one line naming the variable or hands the value to the tool as
# written. mk/checks.mk and docs/make-fragments.md ("Hostile values") have the rules.
#
# Every tool is a stub that records its arguments one per line ($W/log/TOOL, "::end::" after each
# call), so no stack is needed.

load helpers/common

# The attacks. The first breaks out of '...', "..." and unquoted text alike, with backticks and
# $(...); the second needs an unquoted paste or make's ;-in-a-rule-line, has a glob that must reach a
# tool as a literal *, and make syntax; the third a line break.
PAYLOADS=(
    "v1'\`touch pwned\`'\"\$(touch pwned)\""
    'v2 $(touch pwned);touch pwned * $(shell touch pwned)'
    $'v3\ntouch pwned'
)

setup() {
    W=$BATS_TEST_TMPDIR/w
    P=$W/proj
    mkdir -p "$W/mk" "$W/bin" "$W/log" "$P/app"
    cp "$REPO"/mk/*.mk "$W/mk/" # no mk/build/ beside them: the tools are the stubs set below
    echo 'FROM scratch' >"$P/app/Dockerfile"
    echo hello >"$P/app/hello.txt"
    : >"$P/aws-config.yaml"
    cat >"$P/Makefile" <<'EOF'
IMAGES ?= app
ECS_CLUSTER ?= ml-cluster
ECS_SERVICES ?= web
ECS_IMAGES_web ?= app=main
include ../mk/infra.mk ../mk/images.mk ../mk/deploy.mk ../mk/config-aws.mk
hello:
	@echo hello
EOF
    local t
    for t in ecs-roll ecs-run tg-health ssm-put secret-put rds-check; do
        stub "$t" ''
    done
    for t in buildah podman docker; do
        # Writes the archive where buildah push, podman save -o and docker save -o would.
        stub "$t" 'out= prev=
for a in "$@"; do
    case $a in oci-archive:*) out=${a#oci-archive:} ;; esac
    [ "$prev" = -o ] && out=$a
    prev=$a
done
[ -z "$out" ] || echo archive >"$out"'
    done
    # Writes the digest file and prints REPO@sha256:..., as ecr-push does.
    stub ecr-push 'df=
while [ $# -gt 2 ]; do case $1 in --digest-file) df=$2; shift 2 ;; *) shift ;; esac; done
d=sha256:$(sha256sum "$1" | cut -c1-64)
echo "$d" >"$df"
echo "${2%:*}@$d"'
    stub terraform 'cat <<JSON
{"ecs_service_name": {"value": "ml-model-service"}, "ecs_cluster_name": {"value": "ml-cicd-cluster"},
 "container_name": {"value": "app"}, "ecr_registry": {"value": "123456789012.dkr.ecr.us-west-2.amazonaws.com"},
 "ecr_repository_name": {"value": "ml-model-service"}, "region": {"value": "us-west-2"},
 "target_group_arn": {"value": "arn:aws:elasticloadbalancing:us-west-2:123456789012:targetgroup/ml/0123456789abcdef"},
 "db_instance_identifier": {"value": "ml-cicd-database"},
 "db_secret_arn": {"value": "arn:aws:secretsmanager:us-west-2:123456789012:secret:ml-cicd/database-AbCdEf"},
 "log_group_name": {"value": "/ecs/ml-model-service"}, "alb_dns_name": {"value": "ml.us-west-2.elb.amazonaws.com"},
 "service_url": {"value": "http://ml.us-west-2.elb.amazonaws.com"},
 "deploy_role_arn": {"value": "arn:aws:iam::123456789012:role/ml-cicd-deployer"},
 "mlflow_artifact_root": {"value": "s3://ml-cicd-artifacts/artifacts"}}
JSON'
    STUB_ARGS=(ECR_PUSH="$W/bin/ecr-push" IMAGE_BUILDER="$W/bin/buildah" ECS_ROLL="$W/bin/ecs-roll" ECS_RUN="$W/bin/ecs-run"
        TG_HEALTH="$W/bin/tg-health" SSM_PUT="$W/bin/ssm-put" SECRET_PUT="$W/bin/secret-put"
        RDS_CHECK="$W/bin/rds-check" TERRAFORM="$W/bin/terraform")
    # build/infra.mk, as `make infra-outputs` leaves it (RDS_INSTANCE_ID, DB_SECRET_ARN, ...).
    make -s -C "$P" "${STUB_ARGS[@]}" infra-outputs >/dev/null || fail "infra-outputs failed in setup"
    rm -f "$W/log/"*
    FAILED=()
    RUNS=0
}

# stub NAME BODY: $W/bin/NAME records its arguments in $W/log/NAME, then runs BODY.
stub() {
    printf '#!/bin/sh\n{ printf "%%s\\n" "$@"; echo ::end::; } >>"%s/log/%s"\n%s\n' "$W" "$1" "$2" >"$W/bin/$1"
    chmod +x "$W/bin/$1"
}

# try_make CHANNEL VAR VALUE TARGET [VAR=VALUE...]: make TARGET with VAR=VALUE on the command line
# (cmd) or in the environment (env), every tool a stub (extra VAR=VALUE override those); sets rc and
# err. Bounded: 60 s.
try_make() {
    local ch=$1 var=$2 val=$3 target=$4 a e args=() envs=() skip
    shift 4
    for a in "${STUB_ARGS[@]}"; do
        skip=0
        for e in "$var=" "$@"; do
            [[ $a != "${e%%=*}="* ]] || skip=1
        done
        ((skip)) || args+=("$a")
    done
    args+=("$@")
    if [[ $ch == cmd ]]; then args+=("$var=$val"); else envs+=("$var=$val"); fi
    rc=0
    timeout 60 env "${envs[@]}" make -s --no-print-directory -C "$P" "${args[@]}" "$target" \
        >/dev/null 2>"$W/err" </dev/null || rc=$?
    err=$(<"$W/err")
    RUNS=$((RUNS + 1))
}

# log_has TOOL LINE...: the tool's log holds the LINEs one after the other.
log_has() {
    local f=$W/log/$1 want text
    shift
    [[ -f $f ]] || return 1
    want=$(printf '%s\n' "$@")
    text=$'\n'$(<"$f")$'\n'
    [[ $text == *$'\n'"$want"$'\n'* ]]
}

# words TEXT: TEXT split at blanks, no globbing (how a flag list reaches a tool), one a line.
words() {
    local -a w
    set -f
    # shellcheck disable=SC2206 # splitting is the point
    w=($1)
    set +f
    printf '%s\n' "${w[@]}"
}

# attack VAR TARGETS REFUSAL CHECK [VAR=VALUE...]: every payload, both channels, every target.
#   REFUSAL  a regex a refusal's one line must match (empty: the fragment's prefix, then VAR)
#   CHECK    where a value that is not refused must arrive, as written: TARGET:TOOL:one:FLAG (the
#            argument after FLAG), TARGET:TOOL:join:PREFIX (one argument PREFIXvalue), TARGET:TOOL:words
#            (the value's words, one argument each), TARGET:TOOL:tool (VAR is a tool: the stub, then
#            the value's words); TARGET * for all; empty when it reaches no tool (SKIP_HEALTH, V)
attack() {
    local var=$1 targets=$2 refusal=${3:-'(images|deploy|config-aws|infra)\.mk: .*'$1} check=$4
    local p ch t val where tool mode m flag lines msg
    shift 4
    IFS=: read -r where tool mode flag <<<"$check"
    for p in "${PAYLOADS[@]}"; do
        for ch in cmd env; do
            for t in $targets; do
                val=$p
                [[ $mode != tool ]] || val="$W/bin/$tool $p"
                m=$mode
                [[ $where == "$t" || $where == '*' ]] || m=
                [[ $var != CONFIG_AWS ]] || : >"$P/$p" # a file of that very name, readable
                try_make "$ch" "$var" "$val" "$t" "$@"
                msg="$var=$(printf %q "$val") ($ch) make $t"
                if [[ -e $P/pwned ]]; then
                    FAILED+=("$msg: an injected command ran")
                elif ((rc == 0)); then
                    case $m in
                    one) log_has "$tool" "$flag" "$p" || FAILED+=("$msg: not one argument after $flag") ;;
                    join) log_has "$tool" "$flag$p" || FAILED+=("$msg: not one argument $flag...") ;;
                    words | tool)
                        mapfile -t lines < <(words "$p")
                        log_has "$tool" "${lines[@]}" || FAILED+=("$msg: $tool did not get the words as written")
                        ;;
                    esac
                else
                    # One line from the fragment (make's own "make: *** [...] Error N" aside).
                    mapfile -t lines < <(grep -vE '^make(\[[0-9]+\])?: \*\*\* \[.*\] Error [0-9]+$' <<<"$err")
                    if ((${#lines[@]} != 1)); then
                        FAILED+=("$msg: exit $rc with ${#lines[@]} stderr lines: $err")
                    elif ! [[ ${lines[0]} =~ $refusal ]]; then
                        FAILED+=("$msg: exit $rc, the line does not name $refusal: ${lines[0]}")
                    fi
                fi
                rm -f "$P/pwned" "$W/log/"*
                [[ $var != CONFIG_AWS ]] || rm -f "$P/$p"
                [[ $t == deploy-aws || $t == *-aws ]] || rm -rf "$P/build/images"
            done
        done
    done
}

# report: fail with every failure of the test, or note how many runs passed.
report() {
    ((${#FAILED[@]} == 0)) || fail "$(printf '%s\n' "${FAILED[@]}")"
    echo "# $RUNS make runs, none ran an injected command" >&3
}

@test "images.mk: hostile values in every variable of build-images, push-images, images-info" {
    attack IMAGES 'build-images push-images images-info' 'images\.mk: .*(IMAGES|IMAGE_CONTEXT_)' ''
    attack IMAGE_TAG 'build-images push-images images-info' '' ''
    attack ECR_REGISTRY 'push-images images-info' '' ''
    attack IMAGE_REPO_app 'push-images images-info' '' ''
    attack IMAGE_CONTEXT_app 'build-images images-info' '' ''
    attack IMAGE_DOCKERFILE_app 'build-images' '' ''
    attack IMAGE_DEPS_app 'build-images' 'images\.mk: .*IMAGE_DEPS_app|No rule to make target' ''
    attack BUILD_DIR 'build-images push-images images-info' '' ''
    attack IMAGE_BUILD_FLAGS 'build-images' '' build-images:buildah:words
    attack IMAGE_BUILD_FLAGS_app 'build-images' '' build-images:buildah:words
    attack BUILDAH_FLAGS 'build-images' '' build-images:buildah:words
    attack BUILDAH_BUD_FLAGS 'build-images' '' build-images:buildah:words
    attack PODMAN_FLAGS 'build-images' '' build-images:podman:words IMAGE_BUILDER="$W/bin/podman"
    attack PODMAN_BUILD_FLAGS 'build-images' '' build-images:podman:words IMAGE_BUILDER="$W/bin/podman"
    attack DOCKER_BUILD_FLAGS 'build-images' '' build-images:docker:words IMAGE_BUILDER="$W/bin/docker"
    attack IMAGE_BUILDER 'build-images images-info' '' build-images:buildah:tool
    attack ECR_PUSH 'push-images images-info' '' push-images:ecr-push:tool
    attack ECR_PUSH_FLAGS 'push-images images-info' '' push-images:ecr-push:words
    attack V 'build-images' '' ''
    report
}

@test "deploy.mk: hostile values in every variable of deploy-aws, status-aws, logs-aws, rollback-aws, abort-aws" {
    # The image is pushed once; each deploy-aws then rolls and checks health with the stubs.
    make -s -C "$P" "${STUB_ARGS[@]}" push-images >/dev/null
    attack ECS_CLUSTER 'deploy-aws status-aws logs-aws rollback-aws abort-aws' '' ''
    attack ECS_SERVICES 'deploy-aws status-aws logs-aws rollback-aws abort-aws' 'deploy\.mk: .*(ECS_SERVICES|ECS_IMAGES_)' ''
    attack ECS_IMAGES_web 'deploy-aws' '' ''
    attack BUILD_DIR 'deploy-aws' '' ''
    attack DEPLOY_TIMEOUT 'deploy-aws rollback-aws abort-aws' '' deploy-aws:ecs-roll:one:--timeout
    attack ECS_KEEP_REVISIONS 'deploy-aws' '' deploy-aws:ecs-roll:one:--keep-revisions
    attack ECS_WAIT_UNTIL 'deploy-aws' '' deploy-aws:ecs-roll:one:--wait-until
    attack HEALTH_TIMEOUT 'deploy-aws' '' deploy-aws:tg-health:one:--timeout
    attack HEALTH_GRACE 'deploy-aws' '' deploy-aws:tg-health:one:--grace
    attack SKIP_HEALTH 'deploy-aws' '' ''
    attack ECS_ROLL 'deploy-aws status-aws logs-aws rollback-aws abort-aws' '' '*:ecs-roll:tool'
    attack ECS_ROLL_FLAGS 'deploy-aws status-aws logs-aws rollback-aws abort-aws' '' '*:ecs-roll:words'
    attack TG_HEALTH 'deploy-aws status-aws' '' '*:tg-health:tool'
    attack TG_HEALTH_FLAGS 'deploy-aws status-aws' '' '*:tg-health:words'
    attack SINCE 'logs-aws' '' logs-aws:ecs-roll:one:--since
    attack OUTPUT 'status-aws' '' ''
    attack FOLLOW 'logs-aws' '' ''
    # a fleet: two services, so deploy-aws passes ecs-roll its fleet options
    attack ECS_MAX_PARALLEL 'deploy-aws' '' deploy-aws:ecs-roll:one:--max-parallel 'ECS_SERVICES=web api' \
        ECS_IMAGES_api=app=main
    attack FAIL_FAST 'deploy-aws' '' '' 'ECS_SERVICES=web api' ECS_IMAGES_api=app=main
    report
}

@test "deploy.mk: hostile values in every variable of run-aws, and DEPLOY_PRE" {
    make -s -C "$P" "${STUB_ARGS[@]}" push-images >/dev/null
    attack RUN_SERVICE 'run-aws' '' ''
    attack RUN_TASK_DEF 'run-aws' '' run-aws:ecs-run:one:--task-def
    attack RUN_NAME 'run-aws' '' '' RUN_SERVICE=web
    attack RUN_CONTAINER 'run-aws' '' '' RUN_SERVICE=web
    attack RUN_IMAGES 'run-aws' '' '' RUN_SERVICE=web
    attack RUN_COMMAND 'run-aws' '' run-aws:ecs-run:one:-c RUN_SERVICE=web
    attack RUN_ARGS 'run-aws' '' run-aws:ecs-run:words RUN_SERVICE=web
    attack RUN_TIMEOUT 'run-aws' '' run-aws:ecs-run:one:--timeout RUN_SERVICE=web
    attack ECS_RUN_FLAGS 'run-aws' '' run-aws:ecs-run:words RUN_SERVICE=web
    attack ECS_RUN 'run-aws' '' run-aws:ecs-run:tool RUN_SERVICE=web
    attack DEPLOY_PRE 'deploy-aws' 'deploy\.mk: .*DEPLOY_PRE|No rule to make target' ''
    report
}

@test "run-aws: the command reaches ecs-run as one argument for the container's shell; the pushed images go with it" {
    make -s -C "$P" "${STUB_ARGS[@]}" push-images >/dev/null
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" RUN_NAME=migrate RUN_SERVICE=web RUN_IMAGES=app=main \
        RUN_COMMAND='mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"; echo done' run-aws
    run -0 log_has ecs-run --cluster ml-cluster --service web --started-by migrate --timeout 30m
    run -0 grep -q -- '^--image$' "$W/log/ecs-run"
    run -0 grep -q '^main=.*@sha256:' "$W/log/ecs-run"
    run -0 log_has ecs-run -- /bin/sh -c 'mlflow db upgrade "$MLFLOW_BACKEND_STORE_URI"; echo done' ::end::
    rm -f "$W/log/"*
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" RUN_TASK_DEF=evaluate:3 RUN_ARGS='--check --fast' run-aws
    run -0 log_has ecs-run --task-def evaluate:3
    run -0 log_has ecs-run -- --check --fast ::end::
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" RUN_SERVICE=web RUN_TASK_DEF=x run-aws
    [[ $stderr == *"deploy.mk: RUN_SERVICE and RUN_TASK_DEF exclude each other"* ]] || fail "$stderr"
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" run-aws
    [[ $stderr == *"deploy.mk: set RUN_SERVICE or RUN_TASK_DEF"* ]] || fail "$stderr"
}

@test "config-aws.mk: hostile values in every variable of config-aws" {
    attack CONFIG_AWS 'config-aws' '' config-aws:ssm-put:one:--from-file
    attack CONFIG_AWS_FLAGS 'config-aws' '' config-aws:secret-put:words
    attack SSM_PUT 'config-aws' '' config-aws:ssm-put:tool
    attack SECRET_PUT 'config-aws' '' config-aws:secret-put:tool
    report
}

@test "infra.mk: hostile values in every variable of infra-outputs, infra-info, rds-check-aws" {
    attack INFRA_DIR 'infra-outputs' '' infra-outputs:terraform:join:-chdir=
    attack TERRAFORM 'infra-outputs' '' infra-outputs:terraform:tool
    attack INFRA_IMAGE 'infra-outputs' '' ''
    attack IMAGES 'infra-outputs' 'infra\.mk: .*(IMAGES|INFRA_IMAGE)' ''
    attack INFRA_MK 'infra-outputs infra-info' '' ''
    attack BUILD_DIR 'infra-outputs infra-info' 'infra\.mk: .*(BUILD_DIR|INFRA_MK)' ''
    attack RDS_INSTANCE_ID 'rds-check-aws' '' ''
    attack DB_SECRET_ARN 'rds-check-aws' '' ''
    attack RDS_CHECK 'rds-check-aws' '' rds-check-aws:rds-check:tool
    attack RDS_CHECK_FLAGS 'rds-check-aws' '' rds-check-aws:rds-check:words
    # infra-outputs never wrote a broken file: the targets still work with plain values.
    try_make cmd V '' rds-check-aws
    assert_equal "$rc" 0
    run -0 log_has rds-check ml-cicd-database --secret \
        arn:aws:secretsmanager:us-west-2:123456789012:secret:ml-cicd/database-AbCdEf
    report
}

@test "the reported tag: IMAGE_TAG=\"v2'\`id>pwned\`'\" make build-images refuses with one line naming it" {
    IMAGE_TAG="v2'\`id>pwned\`'" run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" build-images
    [[ ! -e $P/pwned ]] || fail "id ran"
    assert_equal "${#stderr_lines[@]}" 1
    [[ ${stderr_lines[0]} == *"images.mk: IMAGE_TAG 'v2'\`id>pwned\`'' is not a valid tag (OCI: [A-Za-z0-9_][A-Za-z0-9._-]{0,127})"* ]] ||
        fail "${stderr_lines[0]}"
    [[ ! -e $W/log/buildah ]] || fail "the builder ran"
    # A newline or an escape sequence in a value never reaches the terminal as such.
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" IMAGE_TAG=$'v1\n\e[31mred\r' images-info
    assert_equal "${#stderr_lines[@]}" 1
    [[ ${stderr_lines[0]} == *"IMAGE_TAG 'v1\n?[31mred\r' is not a valid tag"* ]] || fail "${stderr_lines[0]}"
    # 128 characters is the longest tag; the first may not be . or -.
    local long
    long=$(printf 'a%.0s' {1..128})
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" IMAGE_TAG="$long" images-info
    assert_line "IMAGE_TAG=$long"
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" IMAGE_TAG="${long}a" images-info
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" IMAGE_TAG=-v1 images-info
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" IMAGE_TAG=_v1.2-rc_3 images-info
}

@test "a value from the command line or the environment is taken as written: make never expands it" {
    local secret
    secret=$(canary fragments-hostile-key)
    # A branch named $(AWS_SECRET_ACCESS_KEY) is a legal git ref name.
    AWS_SECRET_ACCESS_KEY=$secret IMAGE_TAG='$(AWS_SECRET_ACCESS_KEY)' run -2 --separate-stderr \
        make -s -C "$P" "${STUB_ARGS[@]}" push-images
    [[ $stderr == *"IMAGE_TAG '\$(AWS_SECRET_ACCESS_KEY)' is not a valid tag"* ]] || fail "$stderr"
    AWS_SECRET_ACCESS_KEY=$secret run -0 make -s -C "$P" "${STUB_ARGS[@]}" \
        ECS_ROLL_FLAGS='--region $(AWS_SECRET_ACCESS_KEY)' status-aws
    run -0 log_has ecs-roll --status --region '$(AWS_SECRET_ACCESS_KEY)'
    # The pattern through -f, never argv: argv-watch samples every process, grep included.
    run -1 grep -qFf <(printf '%s\n' "$secret") "$W/log/ecs-roll"
}

@test "a refused value changes nothing: no push, no rollout, no health check" {
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" ECS_CLUSTER='c;touch pwned' deploy-aws
    assert_equal "${#stderr_lines[@]}" 1
    [[ ${stderr_lines[0]} == *"deploy.mk: ECS_CLUSTER 'c;touch pwned' is not a valid ECS name"* ]] || fail "$stderr"
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" 'ECS_IMAGES_web=app=main;x' deploy-aws
    [[ $stderr == *"ECS_IMAGES_web: container 'main;x' is not a valid ECS name"* ]] || fail "$stderr"
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" ECR_REGISTRY='x;y' push-images
    [[ $stderr == *"images.mk: ECR_REGISTRY 'x;y' is not a valid registry"* ]] || fail "$stderr"
    run -2 --separate-stderr make -s -C "$P" "${STUB_ARGS[@]}" IMAGE_REPO_app='Team/App' deploy-aws
    [[ $stderr == *"IMAGE_REPO_app 'Team/App' is not a valid ECR repository name"* ]] || fail "$stderr"
    [[ ! -e $W/log/ecr-push && ! -e $W/log/ecs-roll && ! -e $W/log/tg-health ]] ||
        fail "a tool ran: $(ls "$W/log")"
    [[ ! -e $P/pwned ]]
}

@test "file names in a build context are data: ;, spaces, \$(...) and newlines run nothing and still count" {
    touch "$P/app/x;touch pwned" "$P/app/\$(touch pwned)" "$P/app/a b" "$P/app/"$'line\nbreak' "$P/app/%:&|"
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" build-images
    [[ ! -e $P/pwned ]] || fail "a file name ran as a command"
    [[ -s $P/build/images/app.tar ]]
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" build-images
    assert_output ''
    # Changing a file make cannot name still rebuilds the image.
    sleep 0.01
    echo changed >"$P/app/x;touch pwned"
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" build-images
    assert_output --partial 'IMAGE build/images/app.tar'
    rm "$P/app/a b"
    run -0 make -s -C "$P" "${STUB_ARGS[@]}" build-images
    assert_output --partial 'IMAGE build/images/app.tar'
    [[ ! -e $P/pwned ]]
}

@test "with every fragment included: the default goal is unchanged; make -n runs and writes nothing" {
    run -0 make -s -C "$P"
    assert_output hello
    rm -rf "$P/build"
    run -0 make -n -C "$P" "${STUB_ARGS[@]}" deploy-aws config-aws
    [[ ! -e $P/build ]] || fail "make -n wrote $(find "$P/build")"
    run -0 ls -A "$W/log"
    assert_output ''
}
