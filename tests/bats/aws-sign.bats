#!/usr/bin/env bats
# aws-sign: SigV4-sign a request like curl would send it; compare with botocore and moto.

load helpers/common

DATE=20150830T123600Z
AKID=AKIDEXAMPLE
SECRET=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY

setup() {
    need_tool aws-sign
    PY=$(pyref) || PY=
}

# offline_creds: fixed example credentials for tests that send nothing.
offline_creds() {
    export AWS_ACCESS_KEY_ID=$AKID AWS_SECRET_ACCESS_KEY=$SECRET
}

# boto WHAT ARGS...: the botocore reference (helpers/botosign.py).
boto() {
    [[ -n $PY ]] || skip "no python3 with botocore"
    "$PY" "$BATS_TEST_DIRNAME/helpers/botosign.py" "$@"
}

# compare_canonical METHOD URL BODY HEADER...: --print-canonical and --print-headers against botocore.
compare_canonical() {
    local method=$1 url=$2 body=$3
    shift 3
    local hargs=() bargs=() h
    for h in "$@"; do
        hargs+=(-H "$h")
        bargs+=(-H "$h")
    done
    local dargs=()
    if [[ -n $body ]]; then
        printf '%s' "$body" >"$BATS_TEST_TMPDIR/body"
        dargs=(-d "@$BATS_TEST_TMPDIR/body")
        bargs+=(--body-file "$BATS_TEST_TMPDIR/body")
    fi
    local want
    want=$(boto canonical --method "$method" --url "$url" --region us-east-1 --service service --date "$DATE" "${bargs[@]}")
    run -0 --separate-stderr aws-sign --print-canonical --date "$DATE" --region us-east-1 --service service \
        -X "$method" "${hargs[@]}" "${dargs[@]}" "$url"
    assert_equal "$output" "$want"
    assert_equal "$stderr" ""

    want=$(boto headers --method "$method" --url "$url" --region us-east-1 --service service --date "$DATE" "${bargs[@]}")
    run -0 --separate-stderr aws-sign --print-headers --date "$DATE" --region us-east-1 --service service \
        -X "$method" "${hargs[@]}" "${dargs[@]}" "$url"
    # Trailing whitespace of a header value is not part of it (RFC 9110 OWS).
    assert_equal "$(sed 's/[[:space:]]*$//' <<<"$output")" "$(sed 's/[[:space:]]*$//' <<<"$want")"
}

# --- offline: signing output compared with botocore ---------------------------------------

@test "print-canonical/print-headers match botocore: plain GET" {
    offline_creds
    compare_canonical GET "https://example.amazonaws.com/" ""
}

@test "print-canonical/print-headers match botocore: encoded space, utf-8 and dot segments in the path" {
    offline_creds
    compare_canonical GET "https://example.amazonaws.com/a%20b/./c/../d%E2%9C%93/e" ""
}

@test "print-canonical/print-headers match botocore: repeated keys, empty values, utf-8 in the query" {
    offline_creds
    compare_canonical GET "https://example.amazonaws.com/p?b=2&a=%E2%9C%93&a=1&empty=&c=x%20y&flag" "" \
        "X-Custom:   a   b  "
}

@test "print-canonical/print-headers match botocore: POST with JSON body and headers" {
    offline_creds
    compare_canonical POST "https://example.amazonaws.com/" '{"Name":"/x y","Value":"\u00e9"}' \
        "Content-Type: application/x-amz-json-1.1" "X-Amz-Target: AmazonSSM.GetParameter"
}

@test "print-canonical matches botocore with a session token, the token shown as <redacted>" {
    offline_creds
    export AWS_SESSION_TOKEN=FQoGZXIvYXdzEXAMPLETOKEN/+=
    local want
    want=$(boto canonical --url "https://example.amazonaws.com/" --region us-east-1 --service service --date "$DATE")
    want=${want//"$AWS_SESSION_TOKEN"/<redacted>}
    run -0 --separate-stderr aws-sign --print-canonical --date "$DATE" --region us-east-1 --service service \
        "https://example.amazonaws.com/"
    assert_equal "$output" "$want"
    refute_output --partial "$AWS_SESSION_TOKEN"
}

@test "print-headers: X-Amz-Security-Token when AWS_SESSION_TOKEN is set, in the documented order" {
    offline_creds
    export AWS_SESSION_TOKEN=FQoGZXIvYXdzEXAMPLETOKEN
    run -0 --separate-stderr aws-sign --print-headers --date "$DATE" --region us-east-1 --service service \
        -H "X-First: 1" "https://example.amazonaws.com/"
    assert_equal "${#lines[@]}" 4
    assert_equal "${lines[0]}" "X-First: 1"
    assert_equal "${lines[1]}" "X-Amz-Date: $DATE"
    assert_equal "${lines[2]}" "X-Amz-Security-Token: FQoGZXIvYXdzEXAMPLETOKEN"
    assert_regex "${lines[3]}" "^Authorization: AWS4-HMAC-SHA256 Credential=$AKID/20150830/us-east-1/service/aws4_request, SignedHeaders=[a-z0-9;-]*x-amz-security-token[a-z0-9;-]*, Signature=[0-9a-f]{64}\$"
}

@test "print-headers: X-Amz-Content-Sha256 only for service s3" {
    offline_creds
    run -0 --separate-stderr aws-sign --print-headers --date "$DATE" --region us-east-1 --service s3 \
        "https://examplebucket.s3.amazonaws.com/test.txt"
    assert_line --index 1 "X-Amz-Content-Sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    run -0 --separate-stderr aws-sign --print-headers --date "$DATE" --region us-east-1 --service ssm \
        "https://ssm.us-east-1.amazonaws.com/"
    refute_output --partial "X-Amz-Content-Sha256"
}

@test "print-headers with --date is deterministic" {
    offline_creds
    run -0 --separate-stderr aws-sign --print-headers --date "$DATE" --service ssm --region us-east-1 -X POST \
        -H "X-Amz-Target: AmazonSSM.DescribeParameters" -d '{}' "https://ssm.us-east-1.amazonaws.com/"
    local first=$output
    run -0 --separate-stderr aws-sign --print-headers --date "$DATE" --service ssm --region us-east-1 -X POST \
        -H "X-Amz-Target: AmazonSSM.DescribeParameters" -d '{}' "https://ssm.us-east-1.amazonaws.com/"
    assert_equal "$output" "$first"
}

@test "service and region are inferred from an AWS hostname" {
    offline_creds
    run -0 --separate-stderr aws-sign --print-canonical --date "$DATE" "https://ssm.eu-west-1.amazonaws.com/"
    assert_line "20150830/eu-west-1/ssm/aws4_request"
    assert_line "host:ssm.eu-west-1.amazonaws.com"
}

@test "a non-AWS host without --service is a usage error" {
    offline_creds
    run -2 --separate-stderr aws-sign --region us-east-1 --print-headers "http://example.com/"
    assert_error_line aws-sign
    assert_output ""
}

@test "-d @FILE and -d @- sign the file's bytes" {
    offline_creds
    printf 'Action=GetCallerIdentity&Version=2011-06-15' >"$BATS_TEST_TMPDIR/form"
    local sum
    sum=$(sha256sum "$BATS_TEST_TMPDIR/form" | cut -d' ' -f1)
    run -0 --separate-stderr aws-sign --print-canonical --date "$DATE" --service sts --region us-east-1 \
        -X POST -d "@$BATS_TEST_TMPDIR/form" "https://sts.amazonaws.com/"
    assert_line "$sum"
    local from_file=$output
    run -0 --separate-stderr aws-sign --print-canonical --date "$DATE" --service sts --region us-east-1 \
        -X POST -d @- "https://sts.amazonaws.com/" <"$BATS_TEST_TMPDIR/form"
    assert_equal "$output" "$from_file"
}

@test "-d @FILE with an unreadable file exits 2" {
    offline_creds
    run -2 --separate-stderr aws-sign --print-canonical --service sts --region us-east-1 \
        -d "@$BATS_TEST_TMPDIR/does-not-exist" "https://sts.amazonaws.com/"
    assert_error_line aws-sign
}

@test "a bad --date exits 2" {
    offline_creds
    run -2 --separate-stderr aws-sign --print-headers --date 2015-08-30 --service ssm --region us-east-1 \
        "https://ssm.us-east-1.amazonaws.com/"
    assert_error_line aws-sign
}

@test "no credentials exits 3" {
    run -3 --separate-stderr aws-sign --print-headers --service ssm --region us-east-1 \
        "https://ssm.us-east-1.amazonaws.com/"
    assert_error_line aws-sign
}

# --- presign ----------------------------------------------------------------------------------

@test "--presign matches botocore's SigV4QueryAuth" {
    offline_creds
    local url="https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
    local want
    want=$(boto presign --url "$url" --region us-east-1 --service sts --date "$DATE" --expires 300)
    run -0 --separate-stderr aws-sign --presign 300 --date "$DATE" --service sts --region us-east-1 "$url"
    assert_equal "${#lines[@]}" 1
    # Parameter order may differ; compare the sorted parameters and the URL before '?'.
    assert_equal "${output%%\?*}" "${want%%\?*}"
    assert_equal "$(tr '&' '\n' <<<"${output#*\?}" | sort)" "$(tr '&' '\n' <<<"${want#*\?}" | sort)"
}

@test "--presign prints a URL carrying every X-Amz query parameter" {
    offline_creds
    run -0 --separate-stderr aws-sign --presign 60 --service sts --region us-east-1 \
        "https://sts.amazonaws.com/?Action=GetCallerIdentity&Version=2011-06-15"
    assert_output --regexp '^https://sts\.amazonaws\.com/\?'
    local p
    for p in X-Amz-Algorithm=AWS4-HMAC-SHA256 "X-Amz-Credential=$AKID%2F" X-Amz-Date= X-Amz-Expires=60 \
        X-Amz-SignedHeaders=host X-Amz-Signature=; do
        assert_output --partial "$p"
    done
    assert_output --regexp 'X-Amz-Signature=[0-9a-f]{64}'
}

@test "--presign 0 and 604801 are usage errors" {
    offline_creds
    run -2 --separate-stderr aws-sign --presign 0 --service sts --region us-east-1 "https://sts.amazonaws.com/"
    assert_error_line aws-sign
    run -2 --separate-stderr aws-sign --presign 604801 --service sts --region us-east-1 "https://sts.amazonaws.com/"
    assert_error_line aws-sign
    run -0 --separate-stderr aws-sign --presign 604800 --service sts --region us-east-1 "https://sts.amazonaws.com/"
}

# Not tested against moto: with IAM auth on, moto 5.2.1 answers HTTP 500 to any presigned URL
# (its auth check reads only the Authorization header), so presigning is checked against botocore.

# --- against the moto stack (IAM auth on) -----------------------------------------------------

@test "signed SSM DescribeParameters is accepted by moto" {
    use_stack
    run -0 --separate-stderr aws-sign -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    assert_output --partial '"Parameters"'
    assert_equal "$stderr" ""
}

@test "STS GetCallerIdentity returns the shipkit-ci ARN" {
    use_stack
    run -0 --separate-stderr aws-sign -X POST --service sts --region us-east-1 \
        -H "Content-Type: application/x-www-form-urlencoded; charset=utf-8" \
        -d 'Action=GetCallerIdentity&Version=2011-06-15' "$AWS_ENDPOINT_URL/"
    assert_output --partial "arn:aws:iam::123456789012:user/shipkit-ci"
}

@test "a wrong secret key exits 3 (moto: SignatureDoesNotMatch)" {
    use_stack
    export AWS_SECRET_ACCESS_KEY=wrong-secret-key
    run -3 --separate-stderr aws-sign -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign SignatureDoesNotMatch
}

@test "an unknown access key exits 3 (moto: InvalidClientTokenId)" {
    use_stack
    export AWS_ACCESS_KEY_ID=AKIAAAAAAAAAAAAAAAAA
    run -3 --separate-stderr aws-sign -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign InvalidClientTokenId
}

@test "an AWS error exits 4 with its code on stderr" {
    use_stack
    run -4 --separate-stderr aws-sign -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.GetParameter" \
        -d '{"Name":"/shipkit/does-not-exist"}' "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign ParameterNotFound
}

@test "AccessDenied for the read-only user exits 4" {
    use_stack
    export AWS_ACCESS_KEY_ID=$SK_RO_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY=$SK_RO_SECRET_ACCESS_KEY
    run -4 --separate-stderr aws-sign -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.PutParameter" \
        -d "{\"Name\":\"/shipkit/$(unique)\",\"Value\":\"v\",\"Type\":\"String\"}" "$AWS_ENDPOINT_URL/"
    assert_error_line aws-sign AccessDenied
}

@test "a connection failure exits 5" {
    offline_creds
    run -5 --separate-stderr aws-sign --service ssm --region us-east-1 "http://127.0.0.1:1/"
    assert_error_line aws-sign
}

@test "--print-headers (current date) fed to curl is accepted by moto" {
    use_stack
    run -0 --separate-stderr aws-sign --print-headers -X POST --service ssm --region us-east-1 \
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters" \
        -d '{}' "$AWS_ENDPOINT_URL/"
    local curl_args=() l
    for l in "${lines[@]}"; do
        curl_args+=(-H "$l")
    done
    run -0 curl -sS --fail-with-body -X POST "${curl_args[@]}" --data-binary '{}' "$AWS_ENDPOINT_URL/"
    assert_output --partial '"Parameters"'
}

@test "--print-headers sends nothing" {
    offline_creds
    # Port 1 refuses connections: printing must not try to connect.
    run -0 --separate-stderr aws-sign --print-headers --service ssm --region us-east-1 "http://127.0.0.1:1/"
    assert_line --partial "Authorization: AWS4-HMAC-SHA256 "
}

@test "session credentials from AssumeRole work, and --debug redacts the token and signature" {
    use_stack
    local creds
    creds=$(awsref sts assume-role --role-arn "$SK_DEPLOY_ROLE_ARN" --role-session-name "bats-$$" \
        --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
    read -r AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN <<<"$creds"
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    register_secret sts-secret-key "$AWS_SECRET_ACCESS_KEY"
    register_secret sts-session-token "$AWS_SESSION_TOKEN"
    local args=(-X POST --service ssm --region us-east-1 --date "$DATE"
        -H "Content-Type: application/x-amz-json-1.1" -H "X-Amz-Target: AmazonSSM.DescribeParameters"
        -d '{}' "$AWS_ENDPOINT_URL/")
    allow_secret_output # --print-headers prints the token: that is what it is for
    run -0 --separate-stderr aws-sign --print-headers "${args[@]}"
    assert_line "X-Amz-Security-Token: $AWS_SESSION_TOKEN"
    local sig=${output##*Signature=}
    [[ $sig =~ ^[0-9a-f]{64}$ ]] || fail "no signature in: $output"
    # moto does not check the date, so the pinned --date request is accepted.
    run -0 --separate-stderr aws-sign --debug "${args[@]}"
    assert_output --partial '"Parameters"'
    [[ -n $stderr ]] || fail "--debug printed no wire trace"
    refute_leak "$AWS_SESSION_TOKEN"
    refute_leak "$sig"
    refute_leak "$AWS_SECRET_ACCESS_KEY"
}

@test "200 random odd requests sign exactly as botocore signs them" {
    # Seeded: paths with dot segments, double slashes, percent-encoding and UTF-8; repeated and empty
    # query keys; headers with whitespace runs; random bodies, methods, services, regions, dates.
    run -0 python3 "$BATS_TEST_DIRNAME/helpers/sigv4_diff.py" 20261126 200
    assert_output --partial "200 of 200 requests agree with botocore"
}
