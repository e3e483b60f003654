#!/usr/bin/env bats
# IAM Identity Center (SSO) profiles end to end, in both forms (sso_session and legacy): the token
# `aws sso login` caches in ~/.aws/sso/cache buys the role's credentials from the stack's portal
# (tests/stack/sso_portal.py), and moto checks the calls signed with them; a token of the sso_session
# form that expires is refreshed through the OIDC token service (CreateToken) and written back as the
# SDKs write it; an expired token that cannot be refreshed is exit 3 with "run aws sso login"; and no
# token, refresh token or client secret shows in any output or --debug trace, nor in any file but the
# token cache.

load helpers/common

START_URL=https://shipkit-test.awsapps.com/start

setup() {
    need_tool ssm-put
    use_stack
    SSO=$AWS_ENDPOINT_URL/shipkit-sim/sso
    curl -sf --max-time 2 -o /dev/null "$SSO" || skip "no SSO portal in the stack ($SSO does not answer)"
    N=/shipkit/sso/$(unique)
    CACHE=$HOME/.aws/sso/cache
    mkdir -p "$CACHE"
    ACCESS=$(canary sso-access-token)
    REFRESH=$(canary sso-refresh-token)
    CLIENT_SECRET=$(canary sso-client-secret)
    NEW_ACCESS=$(canary sso-new-access-token)
    NEW_REFRESH=$(canary sso-new-refresh-token)
    CLIENT=client-$(unique)
    LEGACY_URL=https://legacy-$(unique).awsapps.com/start
    # The account moto runs as, and a role of the stack that may write parameters.
    cat >"$AWS_CONFIG_FILE" <<EOF
[profile dev]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = shipkit-deploy
region = us-east-1

[sso-session corp]
sso_start_url = $START_URL
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile legacy]
sso_start_url = $LEGACY_URL
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = shipkit-deploy
region = us-east-1
EOF
    SESSION_FILE=$(cache_file corp)
    LEGACY_FILE=$(cache_file "$LEGACY_URL")
}

eval "common_$(declare -f teardown)"
teardown() {
    [[ -n ${SSO:-} ]] && curl -s --max-time 5 -o /dev/null -X DELETE "$SSO"
    common_teardown
}

# cache_file NAME: the file the SDKs keep NAME's token in: the SHA-1 of the sso-session name, or of
# the start URL for the legacy form.
cache_file() {
    printf '%s/%s.json' "$CACHE" "$(printf '%s' "$1" | sha1sum | cut -d' ' -f1)"
}

# iso SECONDS: the UTC time SECONDS from now, as the token cache writes it.
iso() {
    date -u -d "@$(($(date +%s) + $1))" +%Y-%m-%dT%H:%M:%SZ
}

# put_token FILE START_URL EXPIRES_IN [refresh]: the token as `aws sso login` leaves it, with the
# client registration and refresh token of the sso_session form when asked.
put_token() {
    local file=$1 url=$2 exp reg
    exp=$(iso "$3")
    reg=$(iso $((90 * 86400)))
    if [[ ${4:-} == refresh ]]; then
        printf '{"startUrl": "%s", "region": "us-east-1", "accessToken": "%s", "expiresAt": "%s", "clientId": "%s", "clientSecret": "%s", "registrationExpiresAt": "%s", "refreshToken": "%s"}' \
            "$url" "$ACCESS" "$exp" "$CLIENT" "$CLIENT_SECRET" "$reg" "$REFRESH" >"$file"
    else
        printf '{"startUrl": "%s", "region": "us-east-1", "accessToken": "%s", "expiresAt": "%s"}' \
            "$url" "$ACCESS" "$exp" >"$file"
    fi
    chmod 600 "$file"
}

# portal TOKENS_JSON [REFRESH_TOKEN]: the access tokens the portal takes, and our client registration
# with the refresh token CreateToken takes (default $REFRESH) and the tokens it hands out. Secrets go
# through stdin, never argv.
portal() {
    curl -sf --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @- "$SSO" <<EOF ||
{"access_tokens": $1, "clients": [{"clientId": "$CLIENT", "clientSecret": "$CLIENT_SECRET",
 "refreshToken": "${2:-$REFRESH}", "issue": [{"accessToken": "$NEW_ACCESS", "refreshToken": "$NEW_REFRESH"}]}]}
EOF
        fail "the SSO portal refused the setup"
}

# calls OP: how many OP (GetRoleCredentials, CreateToken) the portal answered.
calls() {
    curl -sf --max-time 5 "$SSO" | jq -r --arg op "$1" '.calls[$op]'
}

# holds FILE VALUE: FILE contains VALUE (given to grep through a pipe, never argv).
holds() {
    grep -qF -f <(printf '%s\n' "$2") "$1"
}

# refute_tokens: the last run printed none of the test's tokens (its files are scanned by run).
refute_tokens() {
    local t
    for t in "$ACCESS" "$REFRESH" "$CLIENT_SECRET" "$NEW_ACCESS" "$NEW_REFRESH"; do
        refute_leak "$t"
    done
}

@test "sso_session form: the cached token buys role credentials that moto accepts; -v names sso" {
    put_token "$SESSION_FILE" "$START_URL" 3600 refresh
    portal "[\"$ACCESS\"]"
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ssm-put -v --profile dev "$N" one
    assert_output "$N version 1"
    [[ $stderr == *"credentials from sso (temporary)"* ]] || fail "stderr: $stderr"
    assert_equal "$(calls GetRoleCredentials)" 1
    assert_equal "$(calls CreateToken)" 0
    # AWS_PROFILE as well (the environment's keys would come first, as in the SDKs' chain).
    run -0 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY AWS_PROFILE=dev ssm-put -v "$N" two
    [[ $stderr == *"credentials from sso"* ]] || fail "stderr: $stderr"
    run -0 awsref ssm get-parameter --name "$N" --query Parameter.Value --output text
    assert_output two
}

@test "sso_session form: an expired token is refreshed (CreateToken) and written back, 0600, as botocore reads it" {
    put_token "$SESSION_FILE" "$START_URL" -3600 refresh
    portal '[]'
    allow_secret_file "$SESSION_FILE"
    run -0 --separate-stderr ssm-put --profile dev "$N" one
    assert_output "$N version 1"
    assert_equal "$(calls CreateToken)" 1
    assert_equal "$(calls GetRoleCredentials)" 1
    # The new token and refresh token replace the old ones, with the new expiry, private.
    assert_equal "$(stat -c %a "$SESSION_FILE")" 600
    holds "$SESSION_FILE" "$NEW_ACCESS" || fail "the cache does not hold the new access token"
    holds "$SESSION_FILE" "$NEW_REFRESH" || fail "the cache does not hold the new refresh token"
    ! holds "$SESSION_FILE" "$ACCESS" || fail "the cache still holds the old access token"
    run -0 jq -r '[.startUrl, .region, .clientId, (.expiresAt > "'"$(iso $((7 * 3600)))"'")] | join(" ")' "$SESSION_FILE"
    assert_output "$START_URL us-east-1 $CLIENT true"
    # The next run uses it as it is.
    run -0 ssm-put --profile dev "$N" two
    assert_equal "$(calls CreateToken)" 1
    assert_equal "$(calls GetRoleCredentials)" 2
    # botocore's own SSO provider reads the file shipkit wrote and buys credentials with it.
    local py
    py=$(pyref) || skip "no python3 with botocore"
    run -0 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$py" - <<'EOF'
import botocore.session
creds = botocore.session.Session(profile="dev").get_credentials().get_frozen_credentials()
print(creds.access_key[:4], bool(creds.token))
EOF
    assert_output "ASIA True"
    assert_equal "$(calls GetRoleCredentials)" 3
}

@test "sso_session form: an expired token whose refresh is refused is exit 3, run aws sso login" {
    put_token "$SESSION_FILE" "$START_URL" -60 refresh
    cp "$SESSION_FILE" "$BATS_TEST_TMPDIR/before"
    portal '[]' spent-refresh-token
    run -3 --separate-stderr ssm-put --profile dev "$N" one
    assert_error_line ssm-put "run aws sso login --sso-session corp"
    [[ $stderr == *"could not be refreshed (InvalidGrantException)"* ]] || fail "stderr: $stderr"
    assert_equal "$(calls CreateToken)" 1
    assert_equal "$(calls GetRoleCredentials)" 0
    cmp -s "$SESSION_FILE" "$BATS_TEST_TMPDIR/before" || fail "the token cache was changed"
    # No token in the cache at all: the same way out.
    rm "$SESSION_FILE"
    run -3 --separate-stderr ssm-put --profile dev "$N" one
    assert_error_line ssm-put "no SSO token for sso-session 'corp' in the cache; run aws sso login --sso-session corp"
}

@test "legacy form: a valid token works; an expired one is exit 3 and never refreshed" {
    put_token "$LEGACY_FILE" "$LEGACY_URL" 3600
    portal "[\"$ACCESS\"]"
    run -0 --separate-stderr ssm-put -v --profile legacy "$N" one
    assert_output "$N version 1"
    [[ $stderr == *"credentials from sso (temporary)"* ]] || fail "stderr: $stderr"
    assert_equal "$(calls GetRoleCredentials)" 1
    # Expired, with a refresh token and a registration in the file: still never refreshed.
    put_token "$LEGACY_FILE" "$LEGACY_URL" -60 refresh
    run -3 --separate-stderr ssm-put --profile legacy "$N" two
    assert_error_line ssm-put "run aws sso login --profile legacy"
    [[ $stderr == *"the SSO token for $LEGACY_URL expired at "* ]] || fail "stderr: $stderr"
    assert_equal "$(calls CreateToken)" 0
    assert_equal "$(calls GetRoleCredentials)" 1
}

@test "the portal refusing the token is exit 3, run aws sso login; a role not assigned is the portal's error" {
    put_token "$SESSION_FILE" "$START_URL" 3600 refresh
    portal '[]'
    run -3 --separate-stderr ssm-put --profile dev "$N" one
    assert_error_line ssm-put "the portal refused the SSO token for sso-session 'corp' (UnauthorizedException); run aws sso login --sso-session corp"
    portal "[\"$ACCESS\"]"
    sed -i 's/^sso_role_name = shipkit-deploy$/sso_role_name = no-such-role/' "$AWS_CONFIG_FILE"
    run -4 --separate-stderr ssm-put --profile dev "$N" one
    assert_error_line ssm-put "SSO role 'no-such-role' in account 123456789012: ForbiddenException: No access"
}

@test "AWS_ENDPOINT_URL_SSO and AWS_ENDPOINT_URL_SSO_OIDC move the portal and the token service" {
    local ep=$AWS_ENDPOINT_URL
    put_token "$SESSION_FILE" "$START_URL" -60 refresh
    portal '[]'
    allow_secret_file "$SESSION_FILE"
    run -0 env AWS_ENDPOINT_URL=http://127.0.0.1:1 AWS_ENDPOINT_URL_SSO="$ep" AWS_ENDPOINT_URL_SSO_OIDC="$ep" \
        AWS_ENDPOINT_URL_SSM="$ep" AWS_MAX_ATTEMPTS=1 ssm-put --profile dev "$N" one
    assert_equal "$(calls CreateToken)" 1
    # The token service does not answer and the token has expired: a network error, exit 5.
    put_token "$SESSION_FILE" "$START_URL" -60 refresh
    run -5 --separate-stderr env AWS_ENDPOINT_URL_SSO_OIDC=http://127.0.0.1:1 AWS_MAX_ATTEMPTS=1 \
        ssm-put --profile dev "$N" two
    assert_error_line ssm-put "refreshing the SSO token"
}

@test "no token, refresh token or client secret in any output or --debug trace" {
    put_token "$SESSION_FILE" "$START_URL" -60 refresh
    portal '[]'
    allow_secret_file "$SESSION_FILE"
    # A refresh, the portal, the call, all traced.
    run -0 --separate-stderr ssm-put --debug -v --profile dev "$N" one
    refute_tokens
    [[ $stderr == *"> x-amz-sso_bearer_token: <redacted>"* ]] || fail "the portal call is not traced"
    [[ $stderr == *"> POST $AWS_ENDPOINT_URL/token"* ]] || fail "the refresh is not traced"
    # The refreshed token, sent again; and the errors: refused token, refused refresh.
    run -0 --separate-stderr ssm-put --debug --profile dev "$N" two
    refute_tokens
    portal '[]' spent-refresh-token
    run -3 --separate-stderr ssm-put --debug --profile dev "$N" three
    refute_tokens
    put_token "$SESSION_FILE" "$START_URL" -60 refresh
    run -3 --separate-stderr ssm-put --debug --profile dev "$N" three
    refute_tokens
}
