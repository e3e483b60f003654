#!/usr/bin/env bats
# The credential chain end to end against the stack, where every signature is checked: each
# source yields credentials that moto accepts, and -v names the source that was used.

load helpers/common

setup() {
    need_tool ssm-put
    use_stack
    N=/shipkit/creds/$(unique)
}

# base_profile: the stack's keys as a static profile named "base" in the credentials file.
base_profile() {
    printf '[base]\naws_access_key_id = %s\naws_secret_access_key = %s\n' \
        "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$AWS_SHARED_CREDENTIALS_FILE"
}

@test "environment keys: -v names the source" {
    run -0 --separate-stderr ssm-put -v "$N" value
    assert_output "$N version 1"
    [[ $stderr == *"credentials from env"* ]] || fail "stderr: $stderr"
}

@test "-q keeps stderr empty on success" {
    run -0 --separate-stderr ssm-put -q -v "$N" value
    assert_equal "$stderr" ""
}

@test "a static profile from the credentials file, chosen with --profile" {
    base_profile
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ssm-put -v --profile base "$N" v
    [[ $stderr == *"credentials from profile"* ]] || fail "stderr: $stderr"
}

@test "--profile skips environment credentials, as the AWS CLI does" {
    base_profile
    # Broken keys in the environment must not be used when --profile is given.
    run -0 env AWS_ACCESS_KEY_ID=AKIABROKEN AWS_SECRET_ACCESS_KEY=broken ssm-put --profile base "$N" v
    # ...but they are without it, and AWS rejects them: exit 3.
    run -3 env AWS_ACCESS_KEY_ID=AKIABROKEN AWS_SECRET_ACCESS_KEY=broken ssm-put "$N" v
}

@test "role_arn + source_profile: STS AssumeRole over the Query protocol, then the call" {
    base_profile
    printf '[profile deploy]\nrole_arn = %s\nsource_profile = base\n' "$SK_DEPLOY_ROLE_ARN" >"$AWS_CONFIG_FILE"
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ssm-put -v --profile deploy "$N" v
    assert_output "$N version 1"
    [[ $stderr == *"credentials from assume-role (temporary)"* ]] || fail "stderr: $stderr"
}

@test "role_arn with a source_profile that has wrong keys exits 3" {
    printf '[base]\naws_access_key_id = %s\naws_secret_access_key = wrong\n' "$AWS_ACCESS_KEY_ID" \
        >"$AWS_SHARED_CREDENTIALS_FILE"
    printf '[profile deploy]\nrole_arn = %s\nsource_profile = base\n' "$SK_DEPLOY_ROLE_ARN" >"$AWS_CONFIG_FILE"
    run -3 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ssm-put --profile deploy "$N" v
    [[ $stderr == *SignatureDoesNotMatch* ]] || fail "stderr: $stderr"
}

@test "web identity from AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (GitHub Actions OIDC)" {
    echo "header.payload.signature" >"$BATS_TEST_TMPDIR/token"
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
        AWS_WEB_IDENTITY_TOKEN_FILE="$BATS_TEST_TMPDIR/token" AWS_ROLE_ARN="$SK_DEPLOY_ROLE_ARN" \
        ssm-put -v "$N" v
    [[ $stderr == *"credentials from web-identity"* ]] || fail "stderr: $stderr"
}

@test "credential_process" {
    cat >"$BATS_TEST_TMPDIR/creds.sh" <<EOS
#!/bin/sh
printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' "$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY"
EOS
    chmod +x "$BATS_TEST_TMPDIR/creds.sh"
    printf '[profile proc]\ncredential_process = %s\n' "$BATS_TEST_TMPDIR/creds.sh" >"$AWS_CONFIG_FILE"
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ssm-put -v --profile proc "$N" v
    [[ $stderr == *"credentials from process"* ]] || fail "stderr: $stderr"
}

@test "no source at all exits 3 and says what was tried" {
    run -3 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_EC2_METADATA_DISABLED=true \
        ssm-put "$N" v
    [[ $stderr == *"no credentials"* ]] || fail "stderr: $stderr"
}

@test "an unsigned request is refused as AWS refuses it (MissingAuthenticationToken)" {
    run -0 curl -s -X POST -d 'Action=GetCallerIdentity&Version=2011-06-15' "$AWS_ENDPOINT_URL/"
    assert_output --partial MissingAuthenticationToken
}

@test "endpoint from AWS_ENDPOINT_URL_SSM wins over AWS_ENDPOINT_URL" {
    run -0 env AWS_ENDPOINT_URL=http://127.0.0.1:1 AWS_ENDPOINT_URL_SSM="$AWS_ENDPOINT_URL" ssm-put "$N" v
    run -5 env AWS_ENDPOINT_URL_SSM=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=1 ssm-put "$N" v
}

@test "endpoint from a [services] section of the profile" {
    printf '[profile svc]\nservices = local\n[services local]\nssm =\n  endpoint_url = %s\n' "$AWS_ENDPOINT_URL" \
        >"$AWS_CONFIG_FILE"
    run -0 env -u AWS_ENDPOINT_URL AWS_PROFILE=svc ssm-put "$N" v
    run -5 env -u AWS_ENDPOINT_URL AWS_PROFILE=svc AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true \
        AWS_MAX_ATTEMPTS=1 AWS_REGION=us-east-1 ssm-put --endpoint-url http://127.0.0.1:1 "$N" v
}
