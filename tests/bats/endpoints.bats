#!/usr/bin/env bats
# Endpoints: FIPS and dual-stack from the environment and the profile, refusals, explicit endpoints
# winning, and what aws-sign infers from a host. Offline (--print-canonical sends nothing), except
# the last test. The agreement with botocore over every region is tests/unit/endpoints_test.

load helpers/common

DATE=20150830T123600Z

setup() {
    need_tool aws-sign
    export AWS_ACCESS_KEY_ID=AKIDEXAMPLE AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY
}

# canonical ARGS...: aws-sign --print-canonical at a fixed date.
canonical() {
    run -0 --separate-stderr aws-sign --print-canonical --date "$DATE" "$@"
}

@test "AWS_USE_FIPS_ENDPOINT=true sends to the FIPS endpoint, GovCloud's as its rules say" {
    AWS_USE_FIPS_ENDPOINT=true canonical --service ssm --region us-east-1 /
    assert_line "host:ssm-fips.us-east-1.amazonaws.com"
    assert_line "20150830/us-east-1/ssm/aws4_request"
    AWS_USE_FIPS_ENDPOINT=TRUE canonical --service ssm --region us-gov-west-1 /
    assert_line "host:ssm.us-gov-west-1.amazonaws.com"
    AWS_USE_FIPS_ENDPOINT=true canonical --service ecr --region us-east-2 /
    assert_line "host:api.ecr-fips.us-east-2.amazonaws.com"
}

@test "use_fips_endpoint and use_dualstack_endpoint in the profile; the environment wins over them" {
    printf '[default]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n' >"$AWS_CONFIG_FILE"
    canonical --service ecs --region eu-west-1 /
    assert_line "host:ecs-fips.eu-west-1.api.aws"
    AWS_USE_FIPS_ENDPOINT=false canonical --service ecs --region eu-west-1 /
    assert_line "host:ecs.eu-west-1.api.aws"
    AWS_USE_DUALSTACK_ENDPOINT=false canonical --service sts --region cn-north-1 /
    assert_line "host:sts-fips.cn-north-1.amazonaws.com.cn"
}

@test "a mode the partition does not offer is refused (exit 3), naming the setting" {
    AWS_USE_DUALSTACK_ENDPOINT=true run -3 --separate-stderr aws-sign --print-headers --service ssm \
        --region eu-isoe-west-1 /
    assert_error_line aws-sign "AWS_USE_DUALSTACK_ENDPOINT"
    assert_error_line aws-sign "eu-isoe-west-1"
    assert_output ""
    printf '[default]\nuse_fips_endpoint = true\nuse_dualstack_endpoint = true\n' >"$AWS_CONFIG_FILE"
    run -3 --separate-stderr aws-sign --print-headers --service logs --region us-isof-south-1 /
    assert_error_line aws-sign "use_fips_endpoint and use_dualstack_endpoint"
}

@test "a value other than true or false is refused (exit 3), never taken as false" {
    AWS_USE_FIPS_ENDPOINT=yes run -3 --separate-stderr aws-sign --print-headers --service ssm --region us-east-1 /
    assert_error_line aws-sign "invalid AWS_USE_FIPS_ENDPOINT 'yes'"
    assert_output ""
    printf '[default]\nuse_dualstack_endpoint = on\n' >"$AWS_CONFIG_FILE"
    run -3 --separate-stderr aws-sign --print-headers --service ssm --region us-east-1 /
    assert_error_line aws-sign "invalid use_dualstack_endpoint 'on'"
}

@test "an explicit endpoint wins over FIPS and dual-stack, as in the SDKs" {
    export AWS_USE_FIPS_ENDPOINT=true AWS_USE_DUALSTACK_ENDPOINT=true
    canonical --service ssm --region eu-isoe-west-1 --endpoint-url http://127.0.0.1:4566 /
    assert_line "host:127.0.0.1:4566"
    AWS_ENDPOINT_URL_SSM=https://ssm.example canonical --service ssm --region us-east-1 /
    assert_line "host:ssm.example"
}

@test "the newer partitions' DNS suffixes, and STS in aws-global signed for us-east-1" {
    canonical --service ssm --region eu-isoe-west-1 /
    assert_line "host:ssm.eu-isoe-west-1.cloud.adc-e.uk"
    canonical --service logs --region us-isof-south-1 /
    assert_line "host:logs.us-isof-south-1.csp.hci.ic.gov"
    canonical --service secretsmanager --region eusc-de-east-1 /
    assert_line "host:secretsmanager.eusc-de-east-1.amazonaws.eu"
    AWS_REGION=aws-global canonical --service sts /
    assert_line "host:sts.amazonaws.com"
    assert_line "20150830/us-east-1/sts/aws4_request"
}

@test "aws-sign infers the signing name and region of global, FIPS, dual-stack, S3 and S3 Express hosts" {
    local host scope
    while read -r host scope; do
        canonical "https://$host/"
        assert_line "host:$host"
        assert_line "20150830/$scope/aws4_request"
    done <<'EOF'
iam.amazonaws.com us-east-1/iam
iam.us-gov.amazonaws.com us-gov-west-1/iam
sts.amazonaws.com us-east-1/sts
route53.amazonaws.com us-east-1/route53
cloudfront.amazonaws.com us-east-1/cloudfront
api.ecr-fips.us-gov-east-1.amazonaws.com us-gov-east-1/ecr
ecs.eu-west-3.api.aws eu-west-3/ecs
email.ap-south-1.amazonaws.com ap-south-1/ses
my-bucket.s3.dualstack.eu-west-1.amazonaws.com eu-west-1/s3
s3.amazonaws.com us-east-1/s3
s3-us-west-2.amazonaws.com us-west-2/s3
my-bucket--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com us-east-1/s3express
s3express-control.us-west-2.amazonaws.com us-west-2/s3express
123456789012.dkr-ecr.eu-west-1.on.aws eu-west-1/ecr
EOF
}

@test "--service and --region still override what the host says" {
    canonical --service execute-api --region eu-central-1 "https://iam.amazonaws.com/"
    assert_line "20150830/eu-central-1/execute-api/aws4_request"
    canonical --region ap-southeast-2 "https://sts.amazonaws.com/"
    assert_line "20150830/ap-southeast-2/sts/aws4_request"
}

@test "the local stack's endpoint still wins with FIPS and dual-stack set" {
    use_stack
    export AWS_USE_FIPS_ENDPOINT=true AWS_USE_DUALSTACK_ENDPOINT=true
    run -0 --separate-stderr aws-sign -X POST --service sts --region us-east-1 \
        -H "Content-Type: application/x-www-form-urlencoded; charset=utf-8" \
        -d 'Action=GetCallerIdentity&Version=2011-06-15' /
    assert_output --partial "arn:aws:iam::123456789012:user/shipkit-ci"
}
