#!/usr/bin/env bats
# Clock skew: against a server whose clock is 20 minutes off (tests/stack/server_clock.py, which
# refuses a request signed more than 15 minutes from its clock as AWS does and dates its answers by
# its clock), a tool corrects its signing time from the answer's Date, retries once, says so on
# stderr, and signs every later call of the run at the server's time. The skewed clock is set for
# credentials of this test alone (an AssumeRole of its own), so the tests sharing the stack see none.

load helpers/common

# 1200 s, give or take the second the Date header and the local clock are read in.
ABOUT_20_MIN='(19 min 59 s|20 min|20 min 1 s)'

setup() {
    need_tool ssm-put
    use_stack
    CLOCK=$AWS_ENDPOINT_URL/shipkit-sim/clock
    curl -sf --max-time 2 -o /dev/null "$CLOCK" || skip "no server clock layer in the stack ($CLOCK does not answer)"
    N=/shipkit/skew/$(unique)
    local creds
    creds=$(awsref sts assume-role --role-arn "$SK_DEPLOY_ROLE_ARN" --role-session-name "skew-$$" \
        --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text) ||
        fail "cannot assume the deploy role"
    read -r AK SK ST <<<"$creds"
    register_secret skew-secret-key "$SK"
    register_secret skew-session-token "$ST"
}

eval "common_$(declare -f teardown)"
teardown() {
    [[ -n ${AK:-} ]] && curl -s --max-time 5 -o /dev/null -X DELETE "$CLOCK?access_key_id=$AK"
    common_teardown
}

# server_clock SECONDS: the server's clock for our key is SECONDS ahead of ours (negative: behind).
server_clock() {
    curl -sf --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' \
        --data "{\"offset\": $1, \"access_key_id\": \"$AK\"}" "$CLOCK" || fail "the clock layer refused offset $1"
}

# seen WHAT: how many of our signed requests the server saw (requests) or refused as skewed (refused).
seen() {
    curl -sf --max-time 5 "$CLOCK" | jq -r --arg k "$AK" --arg w "$1" '.clocks[$k][$w]'
}

# as_us CMD...: CMD with this test's credentials (exported, never on a command line); awsref_as_us
# ARGS: the reference CLI with them.
as_us() {
    (
        export AWS_ACCESS_KEY_ID="$AK" AWS_SECRET_ACCESS_KEY="$SK" AWS_SESSION_TOKEN="$ST"
        exec "$@"
    )
}
awsref_as_us() {
    as_us /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --no-cli-pager "$@"
}

three_parameters() {
    printf 'parameters:\n  %s/a: one\n  %s/b: two\n  %s/c: three\n' "$N" "$N" "$N" >"$BATS_TEST_TMPDIR/p.yaml"
}

@test "the stack plays the server: a request signed 20 minutes off is refused as AWS refuses it" {
    server_clock 1200
    # The reference CLI (botocore) does not correct skew: it shows the service's answer.
    run awsref_as_us ssm get-parameter --name "$N"
    ((status != 0)) || fail "a request 20 minutes off was accepted"
    assert_output --partial "InvalidSignatureException"
    assert_output --partial "Signature expired"
    assert_equal "$(seen refused)" 1
    # Query services say SignatureDoesNotMatch, with the same message.
    run awsref_as_us sts get-caller-identity
    ((status != 0)) || fail "a request 20 minutes off was accepted"
    assert_output --partial "SignatureDoesNotMatch"
    assert_output --partial "Signature expired"
    # Within 15 minutes all is well; nothing corrected, nothing said.
    server_clock 600
    run -0 --separate-stderr as_us ssm-put "$N/x" v
    assert_equal "$stderr" ""
    assert_equal "$(seen refused)" 0
}

@test "a server 20 minutes ahead: one retry at its time, a note, and every later call of the run signed right" {
    server_clock 1200
    three_parameters
    run -0 --separate-stderr as_us ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_line "$N/a version 1"
    assert_line "$N/c version 1"
    [[ ${#stderr_lines[@]} -eq 1 ]] || fail "expected one note on stderr: $stderr"
    [[ ${stderr_lines[0]} =~ ^"ssm-put: this machine's clock is "$ABOUT_20_MIN" behind the server's" ]] ||
        fail "stderr: $stderr"
    # GetParameters refused once and sent again, then three PutParameter: five requests, one refused.
    assert_equal "$(seen requests)" 5
    assert_equal "$(seen refused)" 1
    run -0 awsref ssm get-parameter --name "$N/b" --query Parameter.Value --output text
    assert_output two
}

@test "a server 20 minutes behind: the same the other way; -q keeps the note quiet; --debug says why" {
    server_clock -1200
    three_parameters
    run -0 --separate-stderr as_us ssm-put -q --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_equal "$stderr" ""
    assert_equal "$(seen refused)" 1
    server_clock -1200
    run -0 --separate-stderr as_us ssm-put --debug "$N/a" again
    [[ $stderr =~ "ssm-put: this machine's clock is "$ABOUT_20_MIN" ahead of the server's" ]] || fail "stderr: $stderr"
    [[ $stderr == *"* ssm.GetParameters: InvalidSignatureException: the server's clock is -1"*" s from ours; signing again at its time"* ]] ||
        fail "stderr: $stderr"
    assert_equal "$(seen refused)" 1
}

@test "wrong keys on a skewed server: one corrected retry, then exit 3 as before" {
    server_clock 1200
    SK=wrong run -3 --separate-stderr as_us ssm-put "$N/x" v
    [[ ${stderr_lines[-1]} == "ssm-put: "*"credentials rejected: SignatureDoesNotMatch"* ]] || fail "stderr: $stderr"
    assert_equal "$(seen requests)" 2
    assert_equal "$(seen refused)" 1
}

@test "aws-sign on a server 20 minutes ahead: one corrected retry and the note; --date is never moved" {
    need_tool aws-sign
    server_clock 1200
    run -0 --separate-stderr as_us aws-sign -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    assert_output --partial '"Parameters"'
    [[ ${#stderr_lines[@]} -eq 1 ]] || fail "expected one note on stderr: $stderr"
    [[ ${stderr_lines[0]} =~ ^"aws-sign: this machine's clock is "$ABOUT_20_MIN" behind the server's" ]] ||
        fail "stderr: $stderr"
    assert_equal "$(seen refused)" 1
    # A request signed --date as of now is what the user asked for: refused (exit 3, as any rejected
    # signature), not retried.
    run -3 --separate-stderr as_us aws-sign -X POST --service ssm --region us-east-1 --date "$(date -u +%Y%m%dT%H%M%SZ)" \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    [[ $stderr == *"Signature expired"* ]] || fail "stderr: $stderr"
    assert_equal "$(seen refused)" 2
}
