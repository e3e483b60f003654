#!/usr/bin/env bats
# Secret hygiene (docs/secret-hygiene.md): every tool with --debug on the paths that carry secrets,
# against the stack. The trace, stdout and the files the tools write must hold no registered secret
# (common.bash checks each `run`; the tests below also name what each path must not show) and no
# request signature. Then freescan: the same paths with the plain (unsanitized) tools under
# LD_PRELOAD=build/hygiene/freescan.so, which reports every freed heap block still holding a secret
# and who freed it; our code (the tool binary) must have wiped everything it freed.

load helpers/common

# Signatures and tokens a trace must never show: a SigV4 signature, a registry Basic credential or
# a Bearer token, and moto's STS session tokens (which start FQoGZXIvYXdz), SecretAccessKey values.
refute_auth() {
    local text=$output$'\n'${stderr:-}
    if [[ $text =~ [Ss]ignature=[0-9a-f]{64} ]]; then
        fail "a request signature is shown: ${BASH_REMATCH[0]:0:20}..."
    fi
    if [[ $text =~ (Basic|Bearer)\ [A-Za-z0-9+/=._-]{12,} ]]; then
        fail "an Authorization credential is shown (${BASH_REMATCH[1]} ...)"
    fi
    [[ $text != *FQoGZXIvYXdz* ]] || fail "an STS session token is shown"
    if [[ $text =~ SecretAccessKey[\"\>:\ ]+[A-Za-z0-9/+]{20,} ]]; then
        fail "a SecretAccessKey value is shown"
    fi
}

setup_file() {
    make_images
}

setup() {
    use_stack
    N=/shipkit/hygiene/$(unique)
    S=shipkit/hygiene/$(unique)
}

# assumed_creds: export session credentials for the deploy role (from the reference client) and
# register them.
assumed_creds() {
    local creds
    creds=$(awsref sts assume-role --role-arn "$SK_DEPLOY_ROLE_ARN" --role-session-name "hygiene-$$" \
        --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
    read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$creds"
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    register_secret sts-secret-key "$AWS_SECRET_ACCESS_KEY"
    register_secret sts-session-token "$AWS_SESSION_TOKEN"
}

@test "ssm-put --debug: SecureString write and --skip-unchanged read-back show no value or signature" {
    local v
    v=$(canary hygiene-ssm-securestring)
    (umask 077 && printf '%s' "$v" >"$BATS_TEST_TMPDIR/value")
    run -0 --separate-stderr ssm-put --debug --type SecureString --value-file "$BATS_TEST_TMPDIR/value" "$N"
    [[ $stderr == *"Authorization: AWS4-HMAC-SHA256"* ]] || fail "no request in the trace: $stderr"
    refute_auth
    # The read-back (GetParameter WithDecryption) carries the value in the response.
    run -0 --separate-stderr ssm-put --debug --skip-unchanged --type SecureString \
        --value-file "$BATS_TEST_TMPDIR/value" "$N"
    assert_output --partial "(unchanged)"
    refute_auth
}

@test "secret-put --debug: create, update and --skip-unchanged show no value or signature" {
    local v
    v=$(canary hygiene-secret-value)
    run -0 --separate-stderr secret-put --debug "$S" <<<"$v"
    [[ $stderr == *"Authorization: AWS4-HMAC-SHA256"* ]] || fail "no request in the trace: $stderr"
    refute_auth
    run -0 --separate-stderr secret-put --debug --skip-unchanged "$S" <<<"$v"
    refute_auth
    run -0 --separate-stderr secret-put --debug "$S" <<<"$(canary hygiene-secret-value-2)"
    refute_auth
}

@test "rds-check --debug --secret: the password from GetSecretValue is never shown" {
    [[ -n ${SK_PG_PORT:-} ]] || skip "no PostgreSQL in the test stack"
    run -0 --separate-stderr rds-check --debug "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA"
    [[ $stderr == *"GetSecretValue"* ]] || fail "no GetSecretValue in the trace"
    refute_auth
    refute_leak "$SK_PG_PASSWORD"
}

@test "session credentials from the environment (STS AssumeRole): no token, key or signature in the trace" {
    assumed_creds
    run -0 --separate-stderr ssm-put --debug "$N" plain-value
    [[ $stderr == *"X-Amz-Security-Token"* ]] || fail "no X-Amz-Security-Token header in the trace: $stderr"
    refute_auth
    run -0 --separate-stderr aws-sign --debug -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    refute_auth
}

@test "role_arn + source_profile: the AssumeRole response's credentials are not in the trace" {
    printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
        "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$AWS_SHARED_CREDENTIALS_FILE"
    printf '[profile deploy]\nrole_arn = %s\nsource_profile = base\n' "$SK_DEPLOY_ROLE_ARN" >"$AWS_CONFIG_FILE"
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
        ssm-put --debug -v --profile deploy "$N" v
    [[ $stderr == *"assume-role"* ]] || fail "not from assume-role: $stderr"
    refute_auth
}

@test "credential_process: its JSON output's secret key is not in the trace" {
    # The process prints the stack keys; the script file is the test's own (an allowed input).
    cat >"$BATS_TEST_TMPDIR/creds.sh" <<'EOS'
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' "$SK_PROC_AKID" "$SK_PROC_SECRET"
EOS
    chmod +x "$BATS_TEST_TMPDIR/creds.sh"
    printf '[profile proc]\ncredential_process = %s\n' "$BATS_TEST_TMPDIR/creds.sh" >"$AWS_CONFIG_FILE"
    # Through the environment (export is a builtin): on env's command line the key would be in argv.
    export SK_PROC_AKID=$AWS_ACCESS_KEY_ID SK_PROC_SECRET=$AWS_SECRET_ACCESS_KEY
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ssm-put --debug -v --profile proc "$N" v
    [[ $stderr == *"credentials from process"* ]] || fail "stderr: $stderr"
    refute_auth
}

@test "ecr-push --debug: registry auth (ECR token, Basic, Bearer) is not in the trace; token cache 0600" {
    use_registry
    [[ -d $BATS_FILE_TMPDIR/img/oci ]] || skip "tests/fixtures/make-images wrote no fixtures"
    run -0 --separate-stderr ecr-push --debug --create-repo "oci:$BATS_FILE_TMPDIR/img/oci" "shipkit/$(unique):dbg"
    [[ $stderr == *"/v2/"* ]] || fail "no registry request in the trace"
    refute_auth
    refute_leak "$SK_REGISTRY_PASSWORD"
    local cache
    cache=$(find "$HOME/.cache/shipkit/ecr-auth" -type f -name '*.json' | head -1)
    [[ -n $cache ]] || fail "no ECR token cache was written"
    assert_equal "$(stat -c %a "$cache")" 600
}

# ---- freescan: ssm-put, secret-put, rds-check, credential_process, ecr-push, session credentials ----------------------------------------------------------------------------------

# plain_tools: build (incrementally) the unsanitized tools and freescan.so.
plain_tools() {
    local targets=(hygiene-bins)
    # Until the Makefile includes mk/build/hygiene.mk, name it on the command line.
    if ! make -s -C "$REPO" -n hygiene-bins >/dev/null 2>&1; then
        targets=(-f Makefile -f mk/build/hygiene.mk hygiene-bins)
    fi
    make -s -C "$REPO" "${targets[@]}" >"$BATS_TEST_TMPDIR/make.log" 2>&1 ||
        fail "could not build the plain tools: $(tail -5 "$BATS_TEST_TMPDIR/make.log")"
    PLAIN=$REPO/build/plain/bin
    FREESCAN=$REPO/build/hygiene/freescan.so
}

# scanned TOOL ARGS...: run the plain TOOL under freescan, looking for every registered secret.
scanned() {
    local canaries name value
    canaries=
    while IFS=$'\t' read -r name value; do
        canaries+="$name=$value"$'\n'
    done <"$SK_SECRETS_FILE"
    local tool=$1
    shift
    SK_FREESCAN_CANARIES=$canaries SK_FREESCAN_REPORT=$REPORT LD_PRELOAD=$FREESCAN "$PLAIN/$tool" "$@"
}

@test "freescan: no freed block holding a secret is freed by our code (residual library hits reported)" {
    plain_tools
    REPORT=$BATS_TEST_TMPDIR/freescan.report
    local v pv
    # SecureString (write, then the decrypted read-back), a secret (create, skip-unchanged, update).
    v=$(canary freescan-securestring)
    (umask 077 && printf '%s' "$v" >"$BATS_TEST_TMPDIR/value")
    run -0 scanned ssm-put --type SecureString --value-file "$BATS_TEST_TMPDIR/value" "$N"
    run -0 scanned ssm-put --skip-unchanged --type SecureString --value-file "$BATS_TEST_TMPDIR/value" "$N"
    v=$(canary freescan-secret)
    run -0 scanned secret-put "$S" <<<"$v"
    run -0 scanned secret-put --skip-unchanged "$S" <<<"$v"
    # rds-check --secret: the database password arrives in a GetSecretValue response.
    if [[ -n ${SK_PG_PORT:-} ]]; then
        run -0 scanned rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
    fi
    # credential_process: the secret key arrives as JSON on a pipe.
    cat >"$BATS_TEST_TMPDIR/creds.sh" <<'EOS'
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' "$SK_PROC_AKID" "$SK_PROC_SECRET"
EOS
    chmod +x "$BATS_TEST_TMPDIR/creds.sh"
    printf '[profile proc]\ncredential_process = %s\n' "$BATS_TEST_TMPDIR/creds.sh" >"$AWS_CONFIG_FILE"
    export SK_PROC_AKID=$AWS_ACCESS_KEY_ID SK_PROC_SECRET=$AWS_SECRET_ACCESS_KEY
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
    run -0 scanned ssm-put --profile proc "$N-proc" v # ("$N" is a SecureString: v would be refused)
    export AWS_ACCESS_KEY_ID=$SK_PROC_AKID AWS_SECRET_ACCESS_KEY=$SK_PROC_SECRET
    # ecr-push: the ECR token (GetAuthorizationToken, the cache, the registry's Authorization).
    local pushed=0
    if [[ -n ${SK_REGISTRY:-} && -d $BATS_FILE_TMPDIR/img/oci ]]; then
        use_registry
        run -0 scanned ecr-push --create-repo "oci:$BATS_FILE_TMPDIR/img/oci" "shipkit/$(unique):scan"
        pushed=1
    fi
    # Session credentials from the environment: secret key and session token.
    assumed_creds
    pv=$(canary freescan-securestring-2)
    run -0 scanned ssm-put --type SecureString "$N-2" - <<<"$pv"

    [[ -s $REPORT ]] || fail "freescan wrote no report (was it preloaded?)"
    local exits hits ours
    exits=$(grep -c '^exit' "$REPORT")
    [[ $exits -eq $((6 + ${SK_PG_PORT:+1} + pushed)) ]] || fail "$exits scanned processes reported"
    hits=$(grep -c '^hit' "$REPORT" || true)
    # Per DSO (and the secret's name), for the record: test output and the hygiene log.
    {
        echo "# freescan: $exits processes, $(awk -F'\t' '$1 == "exit" { n += $4 } END { print n }' "$REPORT") frees, $hits hits"
        grep '^hit' "$REPORT" | awk -F'\t' '{ n = split($3, p, "/"); print p[n] " (" $4 ") " $2 }' |
            sort | uniq -c | sed 's/^ */#   /'
    } >&3
    if [[ -n ${SK_HYGIENE_LOG:-} ]]; then
        grep '^hit' "$REPORT" | awk -F'\t' '{ n = split($3, p, "/"); print p[n] }' | sort | uniq -c |
            awk '{ printf "freescan\t%s\t%s\n", $2, $1 }' >>"$SK_HYGIENE_LOG"
        [[ $hits -gt 0 ]] || printf 'freescan\t(none)\t0\n' >>"$SK_HYGIENE_LOG"
    fi
    ours=$(awk -F'\t' -v dir="$PLAIN/" '$1 == "hit" && index($3, dir) == 1' "$REPORT")
    [[ -z $ours ]] || fail "our code freed secrets unwiped:"$'\n'"$ours"
}
