#!/usr/bin/env bats
# make config-aws (mk/config-aws.mk): the guide's parameters and secret, applied twice; the second
# run writes nothing.

load helpers/common

setup() {
    need_tool ssm-put
    need_tool secret-put
    use_stack
    MLFLOW_BACKEND_STORE_URI="postgresql://mlflow_user:$(canary config-aws-uri-password)@db.internal:5432/mlflow"
    ML_CICD_DATABASE_JSON="{\"username\":\"mlflow_user\",\"password\":\"$(canary config-aws-db-password)\"}"
    export MLFLOW_BACKEND_STORE_URI ML_CICD_DATABASE_JSON
    P=/bats/$(unique)
    S=bats/$(unique)
    sed -e "s|/ml-cicd/|$P/|" -e "s|ml-cicd/database|$S/database|" "$REPO/examples/aws-config.yaml" \
        >"$BATS_TEST_TMPDIR/aws-config.yaml"
    printf 'CONFIG_AWS := %s\ninclude %s/mk/config-aws.mk\n' "$BATS_TEST_TMPDIR/aws-config.yaml" "$REPO" \
        >"$BATS_TEST_TMPDIR/Makefile"
}

versions() {
    awsref ssm get-parameter --name "$P/mlflow/backend-store-uri" --query Parameter.Version --output text
    awsref ssm get-parameter --name "$P/mlflow/artifact-root" --query Parameter.Version --output text
    awsref secretsmanager list-secret-version-ids --secret-id "$S/database" --query 'length(Versions)'
}

@test "config-aws writes the guide's parameters and secret; a second run writes nothing" {
    run -0 make -s -C "$BATS_TEST_TMPDIR" config-aws
    assert_equal "$(awsref ssm get-parameter --name "$P/mlflow/backend-store-uri" --with-decryption \
        --query 'Parameter.[Type,Value]' --output text)" "SecureString	$MLFLOW_BACKEND_STORE_URI"
    assert_equal "$(awsref secretsmanager get-secret-value --secret-id "$S/database" --query SecretString \
        --output text)" "$ML_CICD_DATABASE_JSON"
    local before
    before=$(versions)
    run -0 make -s -C "$BATS_TEST_TMPDIR" config-aws
    assert_output --partial "(unchanged)"
    refute_output --partial "$ML_CICD_DATABASE_JSON"
    assert_equal "$(versions)" "$before"
}

@test "a changed value is written again, the rest stays unchanged" {
    run -0 make -s -C "$BATS_TEST_TMPDIR" config-aws
    ML_CICD_DATABASE_JSON="{\"username\":\"mlflow_user\",\"password\":\"$(canary config-aws-rotated)\"}"
    export ML_CICD_DATABASE_JSON
    run -0 make -s -C "$BATS_TEST_TMPDIR" config-aws
    assert_equal "$(awsref secretsmanager list-secret-version-ids --secret-id "$S/database" --query 'length(Versions)')" 2
    assert_equal "$(awsref ssm get-parameter --name "$P/mlflow/artifact-root" --query Parameter.Version --output text)" 1
}

@test "a missing environment variable stops it before anything is written" {
    unset ML_CICD_DATABASE_JSON
    run -2 --separate-stderr secret-put --from-file "$BATS_TEST_TMPDIR/aws-config.yaml"
    [[ $stderr == *"ML_CICD_DATABASE_JSON is not set"* ]] || fail "stderr: $stderr"
    if awsref secretsmanager describe-secret --secret-id "$S/database" >/dev/null 2>&1; then
        fail "the secret was created"
    fi
}

@test "a secret value written in the file itself is refused" {
    printf 'secrets:\n  %s/x:\n    value: hunter2\n' "$S" >"$BATS_TEST_TMPDIR/bad.yaml"
    run -2 --separate-stderr secret-put --from-file "$BATS_TEST_TMPDIR/bad.yaml"
    [[ $stderr == *"never goes in the file"* ]] || fail "stderr: $stderr"
    [[ $stderr != *hunter2* ]] || fail "the value was echoed"
}

@test "generated secrets are created once and never regenerated" {
    printf 'secrets:\n  %s/token:\n    generate: {length: 24, exclude_punctuation: true}\n' "$S" \
        >"$BATS_TEST_TMPDIR/gen.yaml"
    run -0 secret-put --from-file "$BATS_TEST_TMPDIR/gen.yaml" --skip-unchanged
    local v1
    v1=$(awsref secretsmanager get-secret-value --secret-id "$S/token" --query SecretString --output text)
    assert_equal "${#v1}" 24
    run -0 secret-put --from-file "$BATS_TEST_TMPDIR/gen.yaml" --skip-unchanged
    assert_output --partial "(unchanged)"
    assert_equal "$(awsref secretsmanager get-secret-value --secret-id "$S/token" --query SecretString --output text)" "$v1"
}
