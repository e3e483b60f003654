#!/usr/bin/env bats
# ssm-put: write SSM parameters; every write is read back with the reference client.

load helpers/common

setup() {
    need_tool ssm-put
    use_stack
    N=/shipkit/bats/$(unique)
}

# ref_get NAME: "VALUE<TAB>TYPE" as the reference client sees it.
ref_get() {
    awsref ssm get-parameter --name "$1" --with-decryption --query 'Parameter.[Value,Type]' --output text
}

# ref_describe NAME FIELD: one field of describe-parameters for NAME.
ref_describe() {
    awsref ssm describe-parameters --parameter-filters "Key=Name,Values=$1" \
        --query "Parameters[0].$2" --output text
}

# ref_tags NAME: "KEY=VALUE" lines, sorted.
ref_tags() {
    awsref ssm list-tags-for-resource --resource-type Parameter --resource-id "$1" \
        --query 'TagList[].[Key,Value]' --output text | tr '\t' '=' | sort
}

# assert_absent NAME...: none of the parameters exists.
assert_absent() {
    local n
    for n in "$@"; do
        if awsref ssm get-parameter --name "$n" >/dev/null 2>&1; then
            fail "parameter $n exists but should not"
        fi
    done
}

# --- writing ----------------------------------------------------------------------------------

@test "creates a String parameter by default and prints 'NAME version 1'" {
    run -0 --separate-stderr ssm-put "$N" hello
    assert_output "$N version 1"
    assert_equal "$stderr" ""
    assert_equal "$(ref_get "$N")" "hello	String"
}

@test "overwrites by default: the second put is version 2" {
    run -0 --separate-stderr ssm-put "$N" one
    assert_output "$N version 1"
    run -0 --separate-stderr ssm-put "$N" two
    assert_output "$N version 2"
    assert_equal "$(ref_get "$N")" "two	String"
}

@test "--description is stored" {
    run -0 --separate-stderr ssm-put --description "the thing" "$N" v
    assert_output "$N version 1"
    assert_equal "$(ref_get "$N")" "v	String"
    assert_equal "$(ref_describe "$N" Description)" "the thing"
}

@test "--type StringList stores a,b,c" {
    run -0 --separate-stderr ssm-put --type StringList "$N" a,b,c
    assert_output "$N version 1"
    assert_equal "$(ref_get "$N")" "a,b,c	StringList"
}

@test "SecureString from stdin ('-')" {
    local v
    v="p@ss w0rd $(canary ssm-put-stdin)"
    printf '%s' "$v" >"$BATS_TEST_TMPDIR/in"
    run -0 --separate-stderr ssm-put --type SecureString "$N" - <"$BATS_TEST_TMPDIR/in"
    assert_output "$N version 1"
    refute_leak "$v"
    assert_equal "$(ref_get "$N")" "$v	SecureString"
}

@test "String from stdin ('-')" {
    printf 'from stdin' >"$BATS_TEST_TMPDIR/in"
    run -0 --separate-stderr ssm-put "$N" - <"$BATS_TEST_TMPDIR/in"
    assert_output "$N version 1"
    assert_equal "$(ref_get "$N")" "from stdin	String"
}

@test "SecureString with the value on argv is refused (exit 2) and nothing is written" {
    run -2 --separate-stderr ssm-put --type SecureString "$N" hunter2
    assert_error_line ssm-put
    assert_output ""
    refute_leak hunter2
    assert_absent "$N"
}

@test "SecureString from --value-file, with --key-id" {
    local v
    v=$(canary ssm-put-value-file)
    printf '%s' "$v" >"$BATS_TEST_TMPDIR/secret"
    run -0 --separate-stderr ssm-put --type SecureString --key-id alias/shipkit-test \
        --value-file "$BATS_TEST_TMPDIR/secret" "$N"
    assert_output "$N version 1"
    refute_leak "$v"
    assert_equal "$(ref_get "$N")" "$v	SecureString"
    assert_equal "$(ref_describe "$N" KeyId)" "alias/shipkit-test"
}

@test "an unreadable --value-file exits 2 and writes nothing" {
    run -2 --separate-stderr ssm-put --value-file "$BATS_TEST_TMPDIR/nope" "$N"
    assert_error_line ssm-put
    assert_absent "$N"
}

@test "--tier Advanced" {
    run -0 --separate-stderr ssm-put --tier Advanced --output json "$N" v
    run -0 jq -r .Tier <<<"$output"
    assert_output Advanced
    assert_equal "$(ref_describe "$N" Tier)" "Advanced"
}

@test "--output json prints the API result" {
    run -0 --separate-stderr ssm-put --output json "$N" v
    run -0 jq -c '{Version, Tier}' <<<"$output"
    assert_output '{"Version":1,"Tier":"Standard"}'
}

@test "--query over the result; text output prints strings raw" {
    run -0 --separate-stderr ssm-put --query .Tier "$N" v
    assert_output Standard
    run -0 --separate-stderr ssm-put --query .Version "$N" v
    assert_output 2
}

@test "--no-overwrite creates a new parameter" {
    run -0 --separate-stderr ssm-put --no-overwrite "$N" v
    assert_output "$N version 1"
}

@test "--no-overwrite on an existing parameter exits 4 (ParameterAlreadyExists)" {
    run -0 --separate-stderr ssm-put "$N" original
    run -4 --separate-stderr ssm-put --no-overwrite "$N" changed
    assert_error_line ssm-put ParameterAlreadyExists
    assert_output ""
    assert_equal "$(ref_get "$N")" "original	String"
}

@test "--tag on create" {
    run -0 --separate-stderr ssm-put --tag env=ci --tag team=platform "$N" v
    assert_output "$N version 1"
    assert_equal "$(ref_tags "$N")" $'env=ci\nteam=platform'
}

@test "--tag on overwrite" {
    run -0 --separate-stderr ssm-put "$N" v1
    run -0 --separate-stderr ssm-put --tag owner=bats "$N" v2
    assert_output "$N version 2"
    assert_equal "$(ref_get "$N")" "v2	String"
    assert_equal "$(ref_tags "$N")" "owner=bats"
}

@test "invalid --type, --tier and --tag are usage errors" {
    run -2 --separate-stderr ssm-put --type Strin "$N" v
    assert_error_line ssm-put
    run -2 --separate-stderr ssm-put --tier Basic "$N" v
    assert_error_line ssm-put
    run -2 --separate-stderr ssm-put --tag novalue "$N" v
    assert_error_line ssm-put
    assert_absent "$N"
}

@test "a missing NAME is a usage error" {
    run -2 --separate-stderr ssm-put </dev/null
    assert_error_line ssm-put
}

# --- a SecureString is never downgraded -------------------------------------------------------

# ref_secure NAME VALUE_FILE: create NAME as a SecureString with the reference client.
ref_secure() {
    awsref ssm put-parameter --name "$1" --type SecureString --value "file://$2" >/dev/null
}

# ref_version NAME: the parameter's version.
ref_version() {
    awsref ssm get-parameter --name "$1" --query Parameter.Version --output text
}

# ssm_calls ACTION: how many ACTION requests the last `run --debug` made (its wire trace).
ssm_calls() {
    grep -c "X-Amz-Target: AmazonSSM.$1\$" <<<"$stderr" || true
}

@test "an update without --type keeps an existing SecureString (value from stdin)" {
    local old new
    old=$(canary ssm-put-keep-old)
    new=$(canary ssm-put-keep-new)
    printf '%s' "$old" >"$BATS_TEST_TMPDIR/old"
    printf '%s' "$new" >"$BATS_TEST_TMPDIR/new"
    ref_secure "$N" "$BATS_TEST_TMPDIR/old"
    run -0 --separate-stderr ssm-put --debug "$N" - <"$BATS_TEST_TMPDIR/new"
    assert_output "$N version 2"
    refute_leak "$new"
    assert_equal "$(ref_get "$N")" "$new	SecureString"
    # One read for the type, one write: no call per parameter besides.
    assert_equal "$(ssm_calls GetParameters) $(ssm_calls PutParameter) $(ssm_calls GetParameter)" "1 1 0"
}

@test "an update without --type of an existing SecureString refuses a value on argv (exit 2), nothing written" {
    local old
    old=$(canary ssm-put-argv-old)
    printf '%s' "$old" >"$BATS_TEST_TMPDIR/old"
    ref_secure "$N" "$BATS_TEST_TMPDIR/old"
    # The attack: a plain `ssm-put NAME VALUE` used to send "Type":"String" with the argv value.
    run -2 --separate-stderr ssm-put "$N" not-a-secret-anymore
    assert_error_line ssm-put "'$N' is a SecureString"
    assert_error_line ssm-put "stdin (-) or with --value-file"
    assert_output ""
    assert_equal "$(ref_get "$N")" "$old	SecureString"
    assert_equal "$(ref_version "$N")" 1
}

@test "--type String changes a SecureString's type explicitly; without --type others keep theirs" {
    local old
    old=$(canary ssm-put-explicit)
    printf '%s' "$old" >"$BATS_TEST_TMPDIR/old"
    ref_secure "$N" "$BATS_TEST_TMPDIR/old"
    run -0 --separate-stderr ssm-put --type String "$N" now-public
    assert_output "$N version 2"
    assert_equal "$(ref_get "$N")" "now-public	String"
    run -0 --separate-stderr ssm-put --type StringList "$N/list" a,b
    run -0 --separate-stderr ssm-put "$N/list" c,d
    assert_equal "$(ref_get "$N/list")" "c,d	StringList"
    # With --type nothing is read.
    run -0 --separate-stderr ssm-put --debug --type String "$N/typed" v
    assert_equal "$(ssm_calls GetParameters)" 0
}

@test "--no-overwrite without --type reads no type first, and an existing SecureString is not written" {
    local old
    old=$(canary ssm-put-no-overwrite)
    printf '%s' "$old" >"$BATS_TEST_TMPDIR/old"
    ref_secure "$N" "$BATS_TEST_TMPDIR/old"
    run -4 --separate-stderr ssm-put --debug --no-overwrite "$N" plain
    [[ ${stderr_lines[-1]} == "ssm-put: ParameterAlreadyExists"* ]] || fail "stderr: $stderr"
    # The first call is the write (refused); only the read-back after it looks at the parameter.
    assert_equal "$(grep -m1 -o 'X-Amz-Target: AmazonSSM\.[A-Za-z]*' <<<"$stderr")" "X-Amz-Target: AmazonSSM.PutParameter"
    assert_equal "$(ref_get "$N")" "$old	SecureString"
}

@test "--from-file: an entry without type: keeps an existing SecureString (value_env)" {
    local old
    old=$(canary ssm-put-yaml-keep-old)
    printf '%s' "$old" >"$BATS_TEST_TMPDIR/old"
    ref_secure "$N/s" "$BATS_TEST_TMPDIR/old"
    SK_BATS_SECRET=$(canary ssm-put-yaml-keep-new)
    export SK_BATS_SECRET
    cat >"$BATS_TEST_TMPDIR/p.yaml" <<EOF
$N/s:
  value_env: SK_BATS_SECRET
$N/new: plain
EOF
    run -0 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_line --index 0 "$N/s version 2"
    refute_leak "$SK_BATS_SECRET"
    assert_equal "$(ref_get "$N/s")" "$SK_BATS_SECRET	SecureString"
    assert_equal "$(ref_get "$N/new")" "plain	String"
}

@test "--from-file: a literal value for an existing SecureString is refused with file:line, nothing written" {
    local old i
    old=$(canary ssm-put-yaml-literal)
    printf '%s' "$old" >"$BATS_TEST_TMPDIR/old"
    awsref ssm put-parameter --name "$N/p03" --type String --value before >/dev/null
    ref_secure "$N/p12" "$BATS_TEST_TMPDIR/old"
    # Twelve entries: the SecureString is in the second GetParameters call (ten names a call).
    for i in $(seq -w 1 11); do
        echo "$N/p$i: value-$i"
    done >"$BATS_TEST_TMPDIR/p.yaml"
    printf '%s:\n  value: literal-text\n' "$N/p12" >>"$BATS_TEST_TMPDIR/p.yaml"
    run -2 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_error_line ssm-put "$BATS_TEST_TMPDIR/p.yaml:12: '$N/p12' is a SecureString"
    assert_output ""
    assert_absent "$N/p01" "$N/p02" "$N/p11"
    assert_equal "$(ref_get "$N/p03")" "before	String"
    assert_equal "$(ref_get "$N/p12")" "$old	SecureString"
    # The short form NAME: VALUE is a literal value too.
    printf '%s: literal-text\n' "$N/p12" >"$BATS_TEST_TMPDIR/q.yaml"
    run -2 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/q.yaml"
    assert_error_line ssm-put "q.yaml:1: '$N/p12' is a SecureString"
    assert_equal "$(ref_version "$N/p12")" 1
}

@test "--from-file: types are read ten names a call, and --skip-unchanged reuses that read" {
    local i
    for i in $(seq -w 1 12); do
        echo "$N/p$i: value-$i"
    done >"$BATS_TEST_TMPDIR/p.yaml"
    run -0 --separate-stderr ssm-put --debug --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_equal "${#lines[@]}" 12
    assert_equal "$(ssm_calls GetParameters) $(ssm_calls PutParameter) $(ssm_calls GetParameter)" "2 12 0"
    run -0 --separate-stderr ssm-put --debug --skip-unchanged --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_line --index 11 "$N/p12 version 1 (unchanged)"
    assert_equal "$(ssm_calls GetParameters) $(ssm_calls PutParameter) $(ssm_calls GetParameter)" "2 0 0"
}

# --- YAML -------------------------------------------------------------------------------------

@test "--from-file writes every entry, one line each" {
    local s1
    s1=$(canary ssm-put-yaml-file)
    printf '%s' "$s1" >"$BATS_TEST_TMPDIR/s1"
    SK_BATS_SECRET=$(canary ssm-put-yaml-env)
    export SK_BATS_SECRET
    cat >"$BATS_TEST_TMPDIR/p.yaml" <<EOF
$N/plain: hello
$N/list:
  value: a,b,c
  type: StringList
  description: a list
$N/file:
  type: SecureString
  value_file: $BATS_TEST_TMPDIR/s1
$N/env:
  type: SecureString
  value_env: SK_BATS_SECRET
  tier: Advanced
EOF
    run -0 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_equal "${#lines[@]}" 4
    assert_line --index 0 "$N/plain version 1"
    assert_line --index 1 "$N/list version 1"
    assert_line --index 2 "$N/file version 1"
    assert_line --index 3 "$N/env version 1"
    refute_leak "$s1"
    refute_leak "$SK_BATS_SECRET"
    assert_equal "$(ref_get "$N/plain")" "hello	String"
    assert_equal "$(ref_get "$N/list")" "a,b,c	StringList"
    assert_equal "$(ref_describe "$N/list" Description)" "a list"
    assert_equal "$(ref_get "$N/file")" "$s1	SecureString"
    assert_equal "$(ref_get "$N/env")" "$SK_BATS_SECRET	SecureString"
    assert_equal "$(ref_describe "$N/env" Tier)" "Advanced"
}

# yaml_refused BODY: a file whose first entries are fine and whose last one is bad must exit 2
# and write nothing at all.
yaml_refused() {
    {
        echo "$N/a: fine"
        echo "$N/b:"
        echo "  value: also fine"
        printf '%s\n' "$1"
    } >"$BATS_TEST_TMPDIR/bad.yaml"
    run -2 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/bad.yaml"
    assert_error_line ssm-put
    assert_output ""
    assert_absent "$N/a" "$N/b" "$N/c"
}

@test "--from-file: a SecureString with a literal value is refused, nothing written" {
    yaml_refused "$N/c:
  type: SecureString
  value: literal-secret"
    refute_leak literal-secret
}

@test "--from-file: a missing value_env variable is refused, nothing written" {
    unset SK_BATS_UNSET_VAR
    yaml_refused "$N/c:
  type: SecureString
  value_env: SK_BATS_UNSET_VAR"
}

@test "--from-file: an unreadable value_file is refused, nothing written" {
    yaml_refused "$N/c:
  type: SecureString
  value_file: $BATS_TEST_TMPDIR/missing"
}

@test "--from-file: an unknown key is refused, nothing written" {
    yaml_refused "$N/c:
  value: x
  colour: blue"
}

@test "--from-file: an unknown type is refused, nothing written" {
    yaml_refused "$N/c:
  value: x
  type: Integer"
}

@test "--from-file: two value sources are refused, nothing written" {
    export SK_BATS_SECRET=x
    yaml_refused "$N/c:
  value: x
  value_env: SK_BATS_SECRET"
}

@test "--from-file: YAML aliases and a name twice are refused (lib/yamljv's rules), nothing written" {
    yaml_refused "$N/c: &v x
$N/d: *v"
    assert_error_line ssm-put "bad.yaml:5: YAML aliases"
    yaml_refused "$N/a: again"
    assert_error_line ssm-put "bad.yaml:4: '$N/a' appears twice"
}

@test "--from-file: values are taken as written" {
    printf '%s: 0123\n%s: true\n' "$N/n" "$N/b" >"$BATS_TEST_TMPDIR/p.yaml"
    run -0 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/p.yaml"
    assert_equal "$(ref_get "$N/n")" "0123	String"
    assert_equal "$(ref_get "$N/b")" "true	String"
}

@test "--from-file: an unreadable YAML file exits 2" {
    run -2 --separate-stderr ssm-put --from-file "$BATS_TEST_TMPDIR/none.yaml"
    assert_error_line ssm-put
}

# --- secrecy, credentials, errors -------------------------------------------------------------

@test "--debug with a SecureString never shows the value or the secret key" {
    local v
    v=$(canary ssm-put-debug)
    printf '%s' "$v" >"$BATS_TEST_TMPDIR/secret"
    run -0 --separate-stderr ssm-put --debug --type SecureString --value-file "$BATS_TEST_TMPDIR/secret" "$N"
    assert_output "$N version 1"
    [[ -n $stderr ]] || fail "--debug printed no wire trace"
    refute_leak "$v"
    refute_leak "$AWS_SECRET_ACCESS_KEY"
    assert_equal "$(ref_get "$N")" "$v	SecureString"
}

@test "the read-only user gets exit 4 with AccessDenied" {
    export AWS_ACCESS_KEY_ID=$SK_RO_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SK_RO_SECRET_ACCESS_KEY
    run -4 --separate-stderr ssm-put "$N" v
    assert_error_line ssm-put AccessDenied
    assert_output ""
}

@test "a wrong secret key exits 3 (SignatureDoesNotMatch)" {
    export AWS_SECRET_ACCESS_KEY=wrong-secret-key
    run -3 --separate-stderr ssm-put "$N" v
    assert_error_line ssm-put SignatureDoesNotMatch
}

@test "no credentials exits 3" {
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    run -3 --separate-stderr ssm-put "$N" v
    assert_error_line ssm-put
}

@test "no region exits 3" {
    unset AWS_REGION AWS_DEFAULT_REGION
    run -3 --separate-stderr ssm-put "$N" v
    assert_error_line ssm-put
}

@test "--region and --profile from the shared files" {
    cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[ci]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
EOF
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_DEFAULT_REGION
    run -0 --separate-stderr ssm-put --profile ci --region us-east-1 "$N" v
    assert_output "$N version 1"
    run -3 --separate-stderr ssm-put --profile no-such-profile --region us-east-1 "$N" v
    assert_error_line ssm-put
}

@test "an unreachable endpoint exits 5" {
    run -5 --separate-stderr ssm-put --endpoint-url http://127.0.0.1:1 "$N" v
    assert_error_line ssm-put
}
