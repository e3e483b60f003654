#!/usr/bin/env bats
# The README is tested: every ```sh runnable block (tests/readme/extract) runs on the local stack,
# in order, each with `bash -e -o pipefail` in a fresh copy of the repository (bin/ -> this
# checkout's bin/, on PATH), with the stack's env loaded; tests/readme/fixture first makes the state
# `make demo` leaves (ECR repository, cluster/service/target group, parameters, secret, an image
# archive at examples/build/images/model-server.tar). Every block must exit 0. Also: there are
# runnable blocks; every shipkit tool option in any sh block is one the tool's --help lists
# (tests/readme/check-options); every variable the fragments define is in the README.

# shellcheck disable=SC2016,SC2154 # literal $(...) in test input; stderr comes from bats' run
load helpers/common

README=$REPO/README.md
EXTRACT=$REPO/tests/readme/extract

# repo_copy DIR: the checkout's tracked files (as they are in the working tree) in DIR, with DIR/bin
# a link to this checkout's bin/.
repo_copy() {
    local dir=$1
    mkdir -p "$dir"
    if git -C "$REPO" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
        (cd "$REPO" && git ls-files -z | tar -cf - --null -T - 2>/dev/null) | tar -xf - -C "$dir"
    else
        (cd "$REPO" && tar -cf - --exclude=./.git --exclude=./.stack --exclude=./build \
            --exclude=./examples/build --exclude=node_modules --exclude=./bin .) | tar -xf - -C "$dir"
    fi
    rm -rf "${dir:?}/bin"
    ln -s "$REPO/bin" "$dir/bin"
}

@test "readme: extract lists the runnable blocks, numbered, each at its opening fence" {
    run -0 --separate-stderr "$EXTRACT" --list "$README"
    ((${#lines[@]} >= 10)) || fail "only ${#lines[@]} runnable blocks in README.md"
    local n line k=0
    while read -r n line; do
        k=$((k + 1))
        assert_equal "$n" "$k"
        run -0 sed -n "${line}p" "$README"
        [[ $output == '```sh runnable' || $output == '```bash runnable' ]] || fail "line $line is not a runnable fence: $output"
    done < <("$EXTRACT" --list "$README")
    run -0 "$EXTRACT" "$README"
    assert_line --index 0 --regexp '^### block 1 \(.*README\.md:[0-9]+\)$'
}

@test "readme: extract fails on no runnable block, an unterminated block, a bad block number" {
    local md=$BATS_TEST_TMPDIR/x.md
    printf '# x\n\n```sh\necho not runnable\n```\n' >"$md"
    run -0 "$EXTRACT" --list "$md"
    assert_output ""
    run -2 --separate-stderr "$EXTRACT" --block 1 "$md"
    [[ $stderr == *"no runnable block 1 (there are 0)"* ]] || fail "$stderr"
    printf '# x\n\n```sh runnable\necho a\n' >"$md"
    run -2 --separate-stderr "$EXTRACT" "$md"
    [[ $stderr == *"unterminated code block"* ]] || fail "$stderr"
    printf '```sh runnable\necho a\n```\n\n~~~bash runnable\necho b\n```\nstill b\n~~~\n' >"$md"
    run -0 "$EXTRACT" --block 2 "$md"
    assert_output $'echo b\n```\nstill b'
}

@test "readme: every option given to a shipkit tool in a sh block is one its --help lists" {
    local t
    for t in aws-sign ssm-put secret-put ecr-push ecs-roll ecs-run tg-health rds-check; do
        need_tool "$t"
    done
    run -0 "$REPO/tests/readme/check-options" "$REPO/bin" "$README"
    assert_line --regexp '^[0-9]+ tool invocations checked, 0 bad$'
    # And it does catch a wrong one.
    printf '```sh\necs-roll --cluster c --servce s \\\n  --image "app=$(ecr-push --bogus x y)"\n```\n' >"$BATS_TEST_TMPDIR/bad.md"
    run -1 "$REPO/tests/readme/check-options" "$REPO/bin" "$BATS_TEST_TMPDIR/bad.md"
    assert_line --partial "ecs-roll: unknown option --servce"
    assert_line --partial "ecr-push: unknown option --bogus"
}

# fragment_vars FILE: the user-facing variables a fragment sets or reads: NAME for $(NAME), NAME ?=,
# NAME :=, $(origin NAME); PREFIX_<name> for per-image/per-service ones ($(PREFIX_$(1)), $(PREFIX_$*)).
fragment_vars() {
    {
        grep -v '^#' "$1" | grep -oE '\$\(([A-Z][A-Z0-9_]*)(\$\(1\)|\$\*)?\)' | sed -E 's/^\$\(//; s/\)$//'
        grep -v '^#' "$1" | sed -nE 's/^([A-Z][A-Z0-9_]*)(\$\(1\))? *[?:]?=.*/\1\2/p'
        grep -oE 'origin [A-Z][A-Z0-9_]*' "$1" | sed 's/^origin //'
    } | sed -E 's/(\$\(1\)|\$\*)$/<name>/' | grep -vxE 'MAKEFILE_LIST|MAKEFLAGS|CURDIR' | sort -u
}

@test "readme: every variable the make fragments set or read is in the README" {
    local f v missing=() n=0
    for f in "$REPO"/mk/*.mk; do
        while read -r v; do
            n=$((n + 1))
            if [[ $v == *"<name>" ]]; then
                grep -qF -- "\`${v%<name>}<" "$README" || missing+=("${f##*/}: $v")
            else
                grep -qF -- "\`$v\`" "$README" || missing+=("${f##*/}: $v")
            fi
        done < <(fragment_vars "$f")
    done
    ((n >= 40)) || fail "only $n variables found in mk/*.mk: is fragment_vars broken?"
    ((${#missing[@]} == 0)) || fail "not in README.md: ${missing[*]}"
}

@test "readme: every runnable block runs on the local stack" {
    use_registry
    [[ -n ${SK_RDS_ID:-} ]] || skip "no PostgreSQL in the test stack (apt-get install postgresql)"
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/state" ||
        skip "no ECS simulator in the stack"
    command -v buildah >/dev/null 2>&1 || skip "buildah is not installed (a README example builds an image)"
    # Poll fast (ecs-roll, tg-health): the simulator runs at a tenth of real time.
    export SK_POLL_SCALE=0.1

    local proto=$BATS_TEST_TMPDIR/proto
    repo_copy "$proto"
    (cd "$proto" && "$REPO/tests/readme/fixture") >"$BATS_TEST_TMPDIR/fixture.log" 2>&1 ||
        fail "tests/readme/fixture failed: $(tail -20 "$BATS_TEST_TMPDIR/fixture.log")"

    local n line dir log rc failed=() count=0
    while read -r n line; do
        count=$((count + 1))
        dir=$BATS_TEST_TMPDIR/block-$n
        log=$BATS_TEST_TMPDIR/block-$n.log
        cp -a "$proto" "$dir"
        "$EXTRACT" --block "$n" "$README" >"$BATS_TEST_TMPDIR/block-$n.sh"
        rc=0
        (cd "$dir" && bash -e -o pipefail "$BATS_TEST_TMPDIR/block-$n.sh") >"$log" 2>&1 </dev/null || rc=$?
        if ((rc != 0)); then
            failed+=("block $n (README.md:$line) exited $rc; its last lines:"$'\n'"$(tail -25 "$log")")
        fi
    done < <("$EXTRACT" --list "$README")
    ((count > 0)) || fail "README.md has no runnable blocks"
    ((${#failed[@]} == 0)) || fail "$(printf '%s\n' "${failed[@]}")"
}
