#!/usr/bin/env bats
# SK_POLL_SCALE, the tests' multiplier of the tools' own waits, is read by one parser
# (lib/aws/pace.c): a number from 0.001 to 1, anything else a configuration error (exit 3, one line)
# before the tool does anything, the same for every tool that waits. No stack needed.

load helpers/common

setup() {
    # Nothing may reach out: the check comes first.
    export AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE
    export AWS_SECRET_ACCESS_KEY=not-a-secret AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
}

# bad_scale [VAR=SK_POLL_SCALE] TOOL ARGS...: every bad value is exit 3 with one line naming it and the range.
bad_scale() {
    local v var=SK_POLL_SCALE
    if [[ $1 == SK_*_SCALE ]]; then
        var=$1
        shift
    fi
    need_tool "$1"
    # 10 and 100 were accepted by some tools once; fast and 0 never meant anything.
    for v in fast 0 0.0001 1.5 10 100 -1 0.5s; do
        env "$var=$v" "$@" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" && fail "$var=$v accepted" || status=$?
        ((status == 3)) || fail "$var=$v: exit $status: $(cat "$BATS_TEST_TMPDIR/err")"
        [[ $(cat "$BATS_TEST_TMPDIR/err") == "$1: invalid $var '$v': use a number from 0.001 to 1" ]] ||
            fail "$var=$v: stderr: $(cat "$BATS_TEST_TMPDIR/err")"
        [[ ! -s $BATS_TEST_TMPDIR/out ]] || fail "$var=$v: stdout: $(cat "$BATS_TEST_TMPDIR/out")"
    done
}

@test "scale: a bad SK_POLL_SCALE stops tg-health (exit 3, one line)" {
    bad_scale tg-health arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef
    bad_scale tg-health --service c/s --wait --timeout 1m
}

@test "scale: a bad SK_POLL_SCALE stops ecs-roll before any deploy (exit 3, one line)" {
    bad_scale ecs-roll --cluster c --service s --image app=example.com/app:1
    bad_scale ecs-roll --cluster c --service s --status
}

@test "scale: a bad SK_POLL_SCALE stops ecs-run before any task starts (exit 3, one line)" {
    bad_scale ecs-run --cluster c --task-def web:1 -- sh -c 'exit 0'
    bad_scale ecs-run --cluster c --service s --no-wait
}

# SK_RETRY_SCALE scales the retry driver's backoff (lib/aws/retry.c), for AWS calls and for ecr-push's
# registry requests alike, through the same parser.
@test "scale: a bad SK_RETRY_SCALE stops an AWS call (exit 3, one line)" {
    bad_scale SK_RETRY_SCALE ssm-put /x v
}

@test "scale: an empty SK_POLL_SCALE is unset, and 0.001 to 1 are accepted" {
    local v
    need_tool tg-health
    for v in "" 0.001 0.5 1; do
        # Past the check, the tool goes on to ask AWS (nothing listens: a network error, exit 5).
        SK_POLL_SCALE=$v run -5 --separate-stderr tg-health \
            arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/x/0123456789abcdef
        assert_error_line tg-health
        [[ $stderr != *SK_POLL_SCALE* ]] || fail "SK_POLL_SCALE=$v refused: $stderr"
    done
}
