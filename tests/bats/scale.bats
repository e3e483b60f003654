#!/usr/bin/env bats
# SK_POLL_SCALE, the tests' multiplier of the tools' own waits, is read by one parser
# (lib/pace.c): a number from 0.001 to 1, anything else a configuration error (exit 3, one line)
# before the tool does anything, the same for every tool that waits. No stack needed.

load helpers/common

setup() {
    # Nothing may reach out: the check comes first.
    export AWS_ENDPOINT_URL=http://127.0.0.1:9 AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=AKIDEXAMPLE
    export AWS_SECRET_ACCESS_KEY=not-a-secret AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1
}

# bad_scale TOOL ARGS...: every bad value is exit 3 with one line naming it and the range.
bad_scale() {
    local v
    need_tool "$1"
    # 10 and 100 were accepted by some tools once; fast and 0 never meant anything.
    for v in fast 0 0.0001 1.5 10 100 -1 0.5s; do
        SK_POLL_SCALE=$v run -3 --separate-stderr "$@"
        assert_error_line "$1" "invalid SK_POLL_SCALE '$v': use a number from 0.001 to 1"
        assert_output ""
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

@test "scale: a bad SK_POLL_SCALE stops ecr-push before it reads the source (exit 3, one line)" {
    bad_scale ecr-push "oci:$BATS_TEST_TMPDIR/none" 123456789012.dkr.ecr.us-east-1.amazonaws.com/app:1
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
