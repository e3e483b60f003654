#!/usr/bin/env bats
# secret-put: create or update Secrets Manager secrets; never print the value.

load helpers/common

ARN_RE='arn:aws:secretsmanager:us-east-1:123456789012:secret:'
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

setup() {
    need_tool secret-put
    use_stack
    N=shipkit/bats/$(unique)
}

# value_file TEXT: write TEXT (no newline) to a file and print its path.
value_file() {
    local f=$BATS_TEST_TMPDIR/value.$RANDOM
    printf '%s' "$1" >"$f"
    echo "$f"
}

ref_value() {
    awsref secretsmanager get-secret-value --secret-id "$1" --query SecretString --output text
}

ref_describe() {
    awsref secretsmanager describe-secret --secret-id "$1" --query "$2" --output text
}

assert_absent() {
    if awsref secretsmanager describe-secret --secret-id "$1" >/dev/null 2>&1; then
        fail "secret $1 exists but should not"
    fi
}

@test "creates a secret from stdin; prints 'ARN version VERSION_ID'" {
    local v
    v="s3cr3t value $(canary secret-put-create)"
    run -0 --separate-stderr secret-put "$N" <"$(value_file "$v")"
    assert_output --regexp "^${ARN_RE}${N}-[A-Za-z0-9]{6} version ${UUID_RE}\$"
    assert_equal "$stderr" ""
    refute_leak "$v"
    assert_equal "$(ref_value "$N")" "$v"
}

@test "--output json on create" {
    run -0 --separate-stderr secret-put --output json "$N" <"$(value_file v1)"
    run -0 jq -r '[.Name, (.Created|tostring), (.ARN|startswith("'"$ARN_RE"'")), (.VersionId|length)] | @tsv' <<<"$output"
    assert_output "$N	true	true	36"
}

@test "a second put creates a new version (Created false, AWSCURRENT moves)" {
    local first second v1
    first=$(canary secret-put-first) second=$(canary secret-put-second)
    run -0 --separate-stderr secret-put --output json "$N" <"$(value_file "$first")"
    v1=$(jq -r .VersionId <<<"$output")
    run -0 --separate-stderr secret-put --output json "$N" <"$(value_file "$second")"
    local v2
    v2=$(jq -r .VersionId <<<"$output")
    assert_equal "$(jq -r .Created <<<"$output")" false
    [[ $v1 != "$v2" ]] || fail "the second put returned the same VersionId"
    assert_equal "$(ref_value "$N")" "$second"
    assert_equal "$(awsref secretsmanager get-secret-value --secret-id "$N" --query VersionId --output text)" "$v2"
    assert_equal "$(awsref secretsmanager list-secret-version-ids --secret-id "$N" --query 'length(Versions)')" 2
}

@test "text output of an update names the new version" {
    run -0 --separate-stderr secret-put "$N" <"$(value_file a)"
    run -0 --separate-stderr secret-put "$N" <"$(value_file b)"
    local vid=${output##* }
    assert_equal "$(awsref secretsmanager get-secret-value --secret-id "$N" --query VersionId --output text)" "$vid"
}

@test "--description, --tag and --kms-key-id on create" {
    run -0 --separate-stderr secret-put --description "db password" --tag env=ci --tag team=platform \
        --kms-key-id alias/shipkit-test "$N" <"$(value_file v)"
    assert_equal "$(ref_describe "$N" Description)" "db password"
    assert_equal "$(ref_describe "$N" KmsKeyId)" "alias/shipkit-test"
    assert_equal "$(awsref secretsmanager describe-secret --secret-id "$N" --query 'Tags[].[Key,Value]' \
        --output text | tr '\t' '=' | sort)" $'env=ci\nteam=platform'
}

@test "--value-file" {
    local v
    v=$(canary secret-put-value-file)
    run -0 --separate-stderr secret-put --value-file "$(value_file "$v")" "$N" </dev/null
    refute_leak "$v"
    assert_equal "$(ref_value "$N")" "$v"
}

@test "an unreadable --value-file exits 2, nothing created" {
    run -2 --separate-stderr secret-put --value-file "$BATS_TEST_TMPDIR/nope" "$N" </dev/null
    assert_error_line secret-put
    assert_absent "$N"
}

@test "--generate: 32 characters by default" {
    run -0 --separate-stderr secret-put --generate "$N" </dev/null
    local v
    v=$(ref_value "$N")
    assert_equal "${#v}" 32
    refute_leak "$v"
}

@test "--generate --length 20 --exclude-punctuation" {
    run -0 --separate-stderr secret-put --generate --length 20 --exclude-punctuation "$N" </dev/null
    local v
    v=$(ref_value "$N")
    assert_equal "${#v}" 20
    assert_regex "$v" '^[A-Za-z0-9]+$'
    refute_leak "$v"
}

@test "--length 0 exits 2" {
    run -2 --separate-stderr secret-put --generate --length 0 "$N" </dev/null
    assert_error_line secret-put
    assert_absent "$N"
}

@test "empty stdin exits 2, nothing created" {
    run -2 --separate-stderr secret-put "$N" </dev/null
    assert_error_line secret-put
    assert_absent "$N"
}

@test "a value on argv is refused (exit 2), nothing created" {
    run -2 --separate-stderr secret-put "$N" hunter2 </dev/null
    assert_error_line secret-put
    refute_leak hunter2
    assert_absent "$N"
}

@test "--debug never shows the value or the secret key" {
    local v
    v=$(canary secret-put-debug)
    run -0 --separate-stderr secret-put --debug "$N" <"$(value_file "$v")"
    [[ -n $stderr ]] || fail "--debug printed no wire trace"
    refute_leak "$v"
    refute_leak "$AWS_SECRET_ACCESS_KEY"
    assert_equal "$(ref_value "$N")" "$v"
}

@test "the read-only user gets exit 4 with AccessDenied" {
    export AWS_ACCESS_KEY_ID=$SK_RO_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SK_RO_SECRET_ACCESS_KEY
    run -4 --separate-stderr secret-put "$N" <"$(value_file v)"
    assert_error_line secret-put AccessDenied
    assert_output ""
}

@test "a wrong secret key exits 3 (SignatureDoesNotMatch)" {
    export AWS_SECRET_ACCESS_KEY=wrong-secret-key
    run -3 --separate-stderr secret-put "$N" <"$(value_file v)"
    assert_error_line secret-put SignatureDoesNotMatch
}

@test "an unreachable endpoint exits 5" {
    run -5 --separate-stderr secret-put --endpoint-url http://127.0.0.1:1 "$N" <"$(value_file v)"
    assert_error_line secret-put
}
