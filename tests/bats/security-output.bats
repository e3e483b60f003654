#!/usr/bin/env bats
# What servers send is hostile. Against servers on 127.0.0.1 that answer as an attacker would
# (helpers/hostile_server.py: each stops by itself after 60 s) and against the stack's ECS
# simulator fed hostile text: secrets are never shown, in --debug traces or in error messages that
# quote the request (lib/core/redact.h), and text from outside (AWS error messages, ECS events, log
# lines, stopped reasons, target health, PostgreSQL errors) never reaches a terminal or a CI log
# with an escape sequence, a line break or a GitHub Actions workflow command in it (lib/core/text.h).

load helpers/common

HOSTILE=$BATS_TEST_DIRNAME/helpers/hostile_server.py

# What the servers say: an OSC title, ANSI colours, forged lines that are workflow commands, the
# legacy ##[ form, an 8-bit CSI (C1, as UTF-8), a bidi override.
EVIL=$'\e]0;pwned\a\e[31mred\e[0m\n::set-output name=leak::1\n  ::add-mask::x ##[add-mask]y \xc2\x9b2J \xe2\x80\xaeevil'
# How the tools print it.
EVIL_SHOWN='\x1b]0;pwned\x07\x1b[31mred\x1b[0m\n::set-output name=leak::1\n  ::add-mask::x ##\x5badd-mask]y \u009b2J \u202eevil'
# The same where XML carries it (XML 1.0 has no ESC or BEL): line breaks, C1, ##[, bidi.
EVIL_XML='bad&#10;::set-output name=leak::1&#10;  ::add-mask::x ##[add-mask]y &#x9b;2J &#x202e;evil'

setup() {
    local t
    for t in aws-sign ssm-put secret-put ecs-roll tg-health rds-check; do
        need_tool "$t"
    done
    HOSTILE_PIDS=()
}

eval "$(declare -f teardown | sed '1s/^teardown /_sk_common_teardown /')"
teardown() {
    local pid
    for pid in "${HOSTILE_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    _sk_common_teardown
}

# hostile KIND DOC: start a hostile server (aws: DOC is its rules; postgres: {"message": ...}) on
# 127.0.0.1; its port in $PORT. Not in $(...): the pid is kept for teardown.
hostile() {
    local kind=$1 dir
    dir=$(mktemp -d "$BATS_TEST_TMPDIR/hostile-$kind.XXXX")
    printf '%s' "$2" >"$dir/doc.json"
    python3 "$HOSTILE" "$kind" "$dir/doc.json" "$dir/port" 60 2>"$dir/log" &
    HOSTILE_PIDS+=("$!")
    for _ in $(seq 1 400); do # python starts slowly on a busy machine
        [[ -s $dir/port ]] && break
        sleep 0.05
    done
    [[ -s $dir/port ]] || fail "the hostile $kind server did not start: $(cat "$dir/log")"
    PORT=$(cat "$dir/port")
}

# offline: credentials and a region for a hostile server (which checks no signature); one attempt.
offline() {
    AWS_SECRET_ACCESS_KEY=$(canary hostile-secret-key)
    export AWS_ACCESS_KEY_ID=AKIDHOSTILEEXAMPLE AWS_SECRET_ACCESS_KEY AWS_REGION=us-east-1 AWS_MAX_ATTEMPTS=1
    URL=http://127.0.0.1:$PORT
}

# rule OP STATUS CONTENT_TYPE BODY: one rule of a hostile AWS server; rules RULE...: its script.
rule() {
    jq -nc --arg op "$1" --argjson s "$2" --arg ct "$3" --arg b "$4" \
        '{match: $op, status: $s, headers: {"Content-Type": $ct}, body: $b}'
}
rules() {
    printf '%s\n' "$@" | jq -sc '{rules: .}'
}

# json_error CODE MESSAGE: an AWS JSON error document.
json_error() {
    jq -nc --arg c "$1" --arg m "$2" '{__type: $c, message: $m}'
}

JSON=application/x-amz-json-1.1

# refute_raw: neither stdout nor stderr of the last run holds an ESC, a BEL, a C1 control (UTF-8
# or a raw 8-bit byte), a bidi override, a line a CI runner takes for a workflow command ("::"
# after blanks at its start, "##[" anywhere).
refute_raw() {
    local what text
    for what in output stderr; do
        text=${!what-}
        [[ $text != *$'\e'* ]] || fail "$what holds an ESC: $text"
        [[ $text != *$'\a'* ]] || fail "$what holds a BEL: $text"
        [[ $text != *$'\xc2\x9b'* && $text != *$'\x9b'* ]] || fail "$what holds a CSI (C1): $text"
        [[ $text != *$'\xe2\x80\xae'* ]] || fail "$what holds a bidi override: $text"
        [[ $text != *'##['* ]] || fail "$what holds a ##[ workflow command: $text"
        if grep -qE '^[[:space:]]*::' <<<"$text"; then
            fail "$what has a line that starts with '::': $text"
        fi
    done
}

# ---- secrets --------------------------------------------------------------------------------

@test "aws-sign --debug: a JSON body's secret members (SecretString, a SecureString's Value), a form's password and an unparseable body are not shown, nor is an error quoting them" {
    local doc secret pw raw body=$BATS_TEST_TMPDIR/body
    doc=$(rules "$(rule PutSecretValue 400 $JSON \
        "$(json_error ValidationException 'Value {{SecretString}} at secretString failed to satisfy constraint')")" \
        "$(rule ModifyDBInstance 400 text/xml '<ErrorResponse><Error><Code>InvalidParameterValue</Code><Message>password {{MasterUserPassword}} is too weak</Message></Error></ErrorResponse>')" \
        "$(rule PutParameter 400 $JSON "$(json_error ValidationException 'Value {{Value}} at value failed to satisfy constraint')")")
    hostile aws "$doc"
    offline
    secret=$(canary aws-sign-secret-string)
    printf '{"SecretId":"db","SecretString":"%s"}' "$secret" >"$body"
    run -4 --separate-stderr aws-sign --debug --endpoint-url "$URL" --service secretsmanager \
        -H 'X-Amz-Target: secretsmanager.PutSecretValue' -H 'Content-Type: application/x-amz-json-1.1' -d "@$body" /
    refute_leak "$secret"
    [[ $stderr == *'aws-sign: debug: {"SecretId":"db","SecretString":"<redacted>"}'* ]] ||
        fail "the request body is not shown redacted: $stderr"
    [[ $stderr == *'"message":"Value <redacted> at secretString'* ]] || fail "the error body is not scrubbed: $stderr"
    assert_equal "${stderr_lines[-1]}" "aws-sign: ValidationException: Value <redacted> at secretString failed to satisfy constraint"

    # An SSM SecureString (the guide's database password path): its Value, request and error alike.
    secret=$(canary aws-sign-secure-string)
    printf '{"Name":"/ml/db-password","Type":"SecureString","Value":"%s","Overwrite":true}' "$secret" >"$body"
    run -4 --separate-stderr aws-sign --debug --endpoint-url "$URL" --service ssm \
        -H 'X-Amz-Target: AmazonSSM.PutParameter' -H 'Content-Type: application/x-amz-json-1.1' -d "@$body" /
    refute_leak "$secret"
    [[ $stderr == *'aws-sign: debug: {"Name":"/ml/db-password","Type":"SecureString","Value":"<redacted>","Overwrite":true}'* ]] ||
        fail "the SecureString body is not shown redacted: $stderr"
    assert_equal "${stderr_lines[-1]}" "aws-sign: ValidationException: Value <redacted> at value failed to satisfy constraint"

    pw=$(canary aws-sign-master-password)
    printf 'Action=ModifyDBInstance&Version=2014-10-31&DBInstanceIdentifier=db&MasterUserPassword=%s' "$pw" >"$body"
    run -4 --separate-stderr aws-sign --debug --endpoint-url "$URL" --service rds -d "@$body" /
    refute_leak "$pw"
    [[ $stderr == *"DBInstanceIdentifier=db&MasterUserPassword=<redacted>"* ]] || fail "the form is not redacted: $stderr"
    assert_equal "${stderr_lines[-1]}" "aws-sign: InvalidParameterValue: password <redacted> is too weak"

    raw=$(canary aws-sign-raw-body)
    printf 'a body that is no JSON, XML or form: %s\n' "$raw" >"$body"
    run -4 --separate-stderr aws-sign --debug --endpoint-url "$URL" --service rds -X POST -d "@$body" /
    refute_leak "$raw"
    [[ $stderr == *"aws-sign: debug: > <body of $(wc -c <"$body") bytes not shown>"* ]] ||
        fail "the raw body is not hidden: $stderr"
}

@test "aws-sign --debug on the stack: CreateSecret's SecretString is redacted in the trace, the call works" {
    use_stack
    local secret name body=$BATS_TEST_TMPDIR/body
    name=sec-$(unique)
    secret=$(canary aws-sign-stack-secret)
    printf '{"Name":"%s","SecretString":"%s"}' "$name" "$secret" >"$body"
    run -0 --separate-stderr aws-sign --debug --service secretsmanager -H 'X-Amz-Target: secretsmanager.CreateSecret' \
        -H 'Content-Type: application/x-amz-json-1.1' -d "@$body" /
    refute_leak "$secret"
    [[ $stderr == *"\"SecretString\":\"<redacted>\""* ]] || fail "not redacted: $stderr"
    assert_equal "$(jq -r .Name <<<"$output")" "$name"
    allow_secret_output
    run -0 awsref secretsmanager get-secret-value --secret-id "$name" --query SecretString --output text
    assert_equal "$output" "$secret"
}

@test "ssm-put SecureString: a ValidationException quoting the value shows <redacted>, with --debug too" {
    local doc value
    doc=$(rules "$(rule PutParameter 400 $JSON "$(json_error ValidationException "1 validation error detected: Value \
'{{Value}}' at 'value' failed to satisfy constraint: Member must have length less than or equal to 4096")")")
    hostile aws "$doc"
    offline
    value=$(canary ssm-put-quoted-value)
    run -4 --separate-stderr ssm-put --endpoint-url "$URL" --type SecureString /app/db-url - <<<"$value"
    assert_error_line ssm-put "ValidationException: 1 validation error detected: Value '<redacted>' at 'value'"
    run -4 --separate-stderr ssm-put --debug --endpoint-url "$URL" --type SecureString /app/db-url - <<<"$value"
    refute_leak "$value"
    [[ $stderr == *"[body "*" bytes, secret, not shown]"* ]] || fail "the SecureString body was traced: $stderr"
    [[ ${stderr_lines[-1]} == "ssm-put: ValidationException: 1 validation error detected: Value '<redacted>'"* ]] ||
        fail "error line: ${stderr_lines[-1]}"
}

@test "secret-put: an error quoting the secret value (JSON-escaped on the wire) shows <redacted>, with --debug too" {
    local doc value
    doc=$(rules "$(rule CreateSecret 400 $JSON "$(json_error InvalidParameterException 'secret {{SecretString}} rejected')")")
    hostile aws "$doc"
    offline
    value=$(canary secret-put-quoted-value)
    run -4 --separate-stderr secret-put --endpoint-url "$URL" app/db <<<"$value"
    assert_error_line secret-put "InvalidParameterException: secret <redacted> rejected"
    run -4 --separate-stderr secret-put --debug --endpoint-url "$URL" app/db <<<"$value"
    refute_leak "$value"
    assert_equal "${stderr_lines[-1]}" "secret-put: InvalidParameterException: secret <redacted> rejected"
}

@test "rds-check: a database that echoes the password and sends escape sequences shows neither; nor does its RDS" {
    local pw doc pwfile=$BATS_TEST_TMPDIR/pw
    hostile postgres '{"message": "password authentication failed for user \"app\": you sent \"{{password}}\" \u001b]0;pwned\u0007\n::set-output name=leak::1 ##[add-mask]x \u009b2J \udc9b"}'
    local pg=$PORT
    doc=$(rules "$(rule DescribeDBInstances 200 text/xml "<DescribeDBInstancesResponse><DescribeDBInstancesResult>\
<DBInstances><DBInstance><DBInstanceIdentifier>evil-db</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>\
<Engine>postgres</Engine><EngineVersion>16.3 $EVIL_XML</EngineVersion><Endpoint><Address>db.example.internal</Address>\
<Port>$pg</Port></Endpoint><StorageEncrypted>true</StorageEncrypted><BackupRetentionPeriod>7</BackupRetentionPeriod>\
<PubliclyAccessible>false</PubliclyAccessible><DeletionProtection>true</DeletionProtection><MultiAZ>true</MultiAZ>\
<DBName>app</DBName></DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>")" \
        "$(rule DescribePendingMaintenanceActions 200 text/xml '<DescribePendingMaintenanceActionsResponse>
<DescribePendingMaintenanceActionsResult><PendingMaintenanceActions/></DescribePendingMaintenanceActionsResult>
</DescribePendingMaintenanceActionsResponse>')")
    hostile aws "$doc"
    offline
    pw=$(canary rds-check-echoed-password)
    printf '%s\n' "$pw" >"$pwfile"
    run -1 --separate-stderr rds-check evil-db --user app --password-file "$pwfile" --sslmode disable \
        --hostaddr 127.0.0.1 --connect-timeout 5s --endpoint-url "$URL" --debug
    refute_leak "$pw"
    refute_raw
    [[ $output == *"FAIL  login  authentication failed: "*'you sent "<redacted>"'* ]] || fail "login line: $output"
    [[ $output == *"PASS  engine  postgres 16.3 bad\\n::set-output"* ]] || fail "engine line: $output"
    [[ $stderr == *"rds-check: debug: * FAIL login: "* ]] || fail "no debug line: $stderr"

    # JSON keeps the raw text, escaped as JSON (C1, ##[ as \u escapes).
    run -1 --separate-stderr rds-check evil-db --user app --password-file "$pwfile" --sslmode disable \
        --hostaddr 127.0.0.1 --connect-timeout 5s --endpoint-url "$URL" --output json
    refute_leak "$pw"
    refute_raw
    [[ $output == *'\u009b2J'* && $output == *'##\u005badd-mask]'* ]] || fail "JSON: $output"
    assert_equal "$(jq -r '.checks[] | select(.check == "engine") | .detail' <<<"$output" | od -An -c | tr -s ' ' | head -c 40)" \
        "$(printf 'postgres 16.3 bad\n::set-output' | od -An -c | tr -s ' ' | head -c 40)"
}

@test "rds-check --from-sg: security group, subnet and network ACL ids from a hostile EC2 print escaped" {
    local doc
    doc=$(rules "$(rule DescribeDBInstances 200 text/xml "<DescribeDBInstancesResponse><DescribeDBInstancesResult>\
<DBInstances><DBInstance><DBInstanceIdentifier>evil-db</DBInstanceIdentifier><DBInstanceStatus>available</DBInstanceStatus>\
<Engine>postgres</Engine><EngineVersion>16.3</EngineVersion><Endpoint><Address>db.example.internal</Address>\
<Port>5432</Port></Endpoint><StorageEncrypted>true</StorageEncrypted><BackupRetentionPeriod>7</BackupRetentionPeriod>\
<PubliclyAccessible>false</PubliclyAccessible><DeletionProtection>true</DeletionProtection><MultiAZ>true</MultiAZ>\
<VpcSecurityGroups><VpcSecurityGroupMembership><VpcSecurityGroupId>sg-db $EVIL_XML</VpcSecurityGroupId></VpcSecurityGroupMembership></VpcSecurityGroups>\
<DBSubnetGroup><VpcId>vpc-1 $EVIL_XML</VpcId><Subnets><Subnet><SubnetIdentifier>subnet-a</SubnetIdentifier></Subnet></Subnets></DBSubnetGroup>\
</DBInstance></DBInstances></DescribeDBInstancesResult></DescribeDBInstancesResponse>")" \
        "$(rule DescribePendingMaintenanceActions 200 text/xml '<DescribePendingMaintenanceActionsResponse>
<DescribePendingMaintenanceActionsResult><PendingMaintenanceActions/></DescribePendingMaintenanceActionsResult>
</DescribePendingMaintenanceActionsResponse>')" \
        "$(rule DescribeSecurityGroups 200 text/xml "<DescribeSecurityGroupsResponse><requestId>r</requestId><securityGroupInfo>\
<item><groupId>sg-db $EVIL_XML</groupId><vpcId>vpc-1 $EVIL_XML</vpcId><ipPermissions/><ipPermissionsEgress/></item>\
<item><groupId>sg-1</groupId><vpcId>vpc-2 $EVIL_XML</vpcId><ipPermissions/><ipPermissionsEgress/></item>\
</securityGroupInfo></DescribeSecurityGroupsResponse>")" \
        "$(rule DescribeSubnets 200 text/xml "<DescribeSubnetsResponse><requestId>r</requestId><subnetSet><item>\
<subnetId>subnet-a</subnetId><vpcId>vpc-1 $EVIL_XML</vpcId><cidrBlock>10.0.1.0/24</cidrBlock></item></subnetSet></DescribeSubnetsResponse>")" \
        "$(rule DescribeNetworkAcls 200 text/xml '<DescribeNetworkAclsResponse><requestId>r</requestId><networkAclSet/></DescribeNetworkAclsResponse>')")
    hostile aws "$doc"
    offline
    run -1 --separate-stderr rds-check evil-db --from-sg sg-1 --sslmode disable --hostaddr 127.0.0.1 \
        --connect-timeout 2s --endpoint-url "$URL"
    refute_raw
    [[ $output == *"FAIL  network-vpc  the database is in vpc-1 bad\\n::set-output"* ]] || fail "vpc line: $output"
    [[ $output == *"FAIL  network-sg-in  no inbound rule of the database's security group (sg-db bad\\n::set-output"* ]] ||
        fail "sg line: $output"
    run -1 --separate-stderr rds-check evil-db --from-sg sg-1 --sslmode disable --hostaddr 127.0.0.1 \
        --connect-timeout 2s --endpoint-url "$URL" --output json
    refute_raw
    [[ $(jq -r '.checks[] | select(.check == "network-vpc") | .detail' <<<"$output") == *$'vpc-1 bad\n::set-output'* ]] ||
        fail "JSON: $output"
}

# ---- text from outside ----------------------------------------------------------------------

@test "an AWS error message with escape sequences, line breaks and workflow commands is one escaped line, in every tool" {
    local value
    hostile aws "$(rules "$(rule '*' 400 $JSON "$(json_error $'Evil\e[31mCode' "$EVIL")")")"
    offline
    value=$(canary escaped-error-value)
    run -4 --separate-stderr aws-sign --endpoint-url "$URL" --service ssm -d '{}' /
    assert_error_line aws-sign "Evil\\x1b[31mCode: $EVIL_SHOWN"
    refute_raw
    run -4 --separate-stderr ssm-put --endpoint-url "$URL" /app/x plain
    assert_error_line ssm-put 'Evil\x1b[31mCode: \x1b]0;pwned'
    refute_raw
    run -4 --separate-stderr secret-put --endpoint-url "$URL" app/x <<<"$value"
    assert_error_line secret-put 'Evil\x1b[31mCode: \x1b]0;pwned'
    refute_raw
    run -4 --separate-stderr tg-health --endpoint-url "$URL" arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/tg/0123456789abcdef
    assert_error_line tg-health 'Evil\x1b[31mCode: \x1b]0;pwned'
    refute_raw
    run -4 --separate-stderr ecs-roll --endpoint-url "$URL" --cluster c --service s --status
    assert_error_line ecs-roll 'Evil\x1b[31mCode: \x1b]0;pwned'
    refute_raw
    run -4 --separate-stderr rds-check --endpoint-url "$URL" evil-db
    assert_error_line rds-check 'Evil\x1b[31mCode: \x1b]0;pwned'
    refute_raw
    # -v adds the request id: the server's too, escaped
    run -4 --separate-stderr ecs-roll --endpoint-url "$URL" --cluster c --service s --status -v
    refute_raw
}

@test "tg-health: hostile target descriptions and reasons print escaped (table, --query, the exit-1 line); JSON keeps them" {
    local doc arn=arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/evil/0123456789abcdef
    doc=$(rules "$(rule DescribeTargetHealth 200 text/xml "<DescribeTargetHealthResponse><DescribeTargetHealthResult>\
<TargetHealthDescriptions><member><Target><Id>10.0.0.9</Id><Port>8080</Port></Target><HealthCheckPort>8080</HealthCheckPort>\
<TargetHealth><State>unhealthy</State><Reason>Target.Evil&#x9b;31m</Reason><Description>$EVIL_XML</Description>\
</TargetHealth></member></TargetHealthDescriptions></DescribeTargetHealthResult></DescribeTargetHealthResponse>")")
    hostile aws "$doc"
    offline
    run -1 --separate-stderr tg-health --endpoint-url "$URL" "$arn"
    refute_raw
    [[ $output == *'10.0.0.9'*'Target.Evil\u009b31m'*'bad\n::set-output name=leak::1\n  ::add-mask::x ##\x5badd-mask]y \u009b2J \u202eevil'* ]] ||
        fail "table: $output"
    [[ ${stderr_lines[-1]} == "tg-health: unhealthy: "* ]] || fail "no exit-1 line: $stderr"
    run -1 --separate-stderr tg-health --endpoint-url "$URL" "$arn" --query '.targetGroups[0].targets[0].description'
    refute_raw
    run -1 --separate-stderr tg-health --endpoint-url "$URL" "$arn" --output json
    refute_raw
    assert_equal "$(jq -r '.targetGroups[0].targets[0].description' <<<"$output" | head -2 | tail -1)" "::set-output name=leak::1"
}

@test "ecs-roll --status and --logs: hostile events, deployment fields and log lines print escaped; JSON keeps them" {
    local doc svc td logs
    svc=$(jq -nc --arg evil "$EVIL" '{services: [{serviceName: "web", status: "ACTIVE",
        clusterArn: "arn:aws:ecs:us-east-1:123456789012:cluster/c", desiredCount: 1, runningCount: 1, pendingCount: 0,
        taskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/fam:1",
        deployments: [{id: "ecs-svc/1", status: "PRIMARY\u001b[5m", desiredCount: 1, pendingCount: 0, runningCount: 1,
            taskDefinition: "arn:aws:ecs:us-east-1:123456789012:task-definition/fam:1\n::set-output name=td::x",
            rolloutState: "COMPLETED"}],
        events: [{id: "e1", createdAt: 1767225600, message: ("(service web) " + $evil)}]}], failures: []}')
    td='{"taskDefinition":{"family":"fam","containerDefinitions":[{"name":"app","image":"x","logConfiguration":
        {"logDriver":"awslogs","options":{"awslogs-group":"/ecs/fam","awslogs-stream-prefix":"ecs"}}}]},"tags":[]}'
    logs=$(jq -nc --arg evil "$EVIL" \
        '{events: [{eventId: "1", logStreamName: "ecs/app/0123abcd", timestamp: 1767225600000, message: $evil}]}')
    doc=$(rules "$(rule DescribeServices 200 $JSON "$svc")" "$(rule DescribeTaskDefinition 200 $JSON "$td")" \
        "$(rule FilterLogEvents 200 $JSON "$logs")")
    hostile aws "$doc"
    offline
    run -0 --separate-stderr ecs-roll --endpoint-url "$URL" --cluster c --service web --status
    refute_raw
    [[ $output == *"(service web) $EVIL_SHOWN"* ]] || fail "event: $output"
    [[ $output == *'PRIMARY\x1b[5m'*'fam:1\n::set-output name=td::x'* ]] || fail "deployments: $output"
    run -0 --separate-stderr ecs-roll --endpoint-url "$URL" --cluster c --service web --status --output json
    refute_raw
    assert_equal "$(jq -r '.events[0].message' <<<"$output" | sed -n 2p)" "::set-output name=leak::1"
    run -0 --separate-stderr ecs-roll --endpoint-url "$URL" --cluster c --service web --logs --since 1h
    refute_raw
    [[ $output == *" 0123abcd $EVIL_SHOWN"* ]] || fail "log line: $output"
}

# ---- the ECS simulator ----------------------------------------------------------------------

# sim_service NAME IMAGE: a 1-task Fargate service with an awslogs container "app", deployed.
sim_service() {
    local name=$1 image=$2 net
    curl -sf --max-time 2 -o /dev/null "$AWS_ENDPOINT_URL/shipkit-sim/state" || skip "no ECS simulator in the stack"
    curl -sf --max-time 2 -o /dev/null -H 'Content-Type: application/json' --data '{"time_scale": 0.1}' \
        "$AWS_ENDPOINT_URL/shipkit-sim/config"
    export SK_POLL_SCALE=0.1
    C=c$(unique | tr -dc 'a-z0-9' | cut -c1-20)
    net=$(curl -sf "$AWS_ENDPOINT_URL/shipkit-sim/network")
    awsref ecs create-cluster --cluster-name "$C" >/dev/null
    awsref ecs register-task-definition --family "fam-$C" --network-mode awsvpc --requires-compatibilities FARGATE \
        --cpu 256 --memory 512 --execution-role-arn "$SK_TASK_EXECUTION_ROLE_ARN" --container-definitions "$(jq -nc --arg image "$image" --arg g "/ecs/fam-$C" \
            '[{name: "app", image: $image, essential: true, portMappings: [{containerPort: 8080}],
               logConfiguration: {logDriver: "awslogs", options: {"awslogs-group": $g, "awslogs-region": "us-east-1",
               "awslogs-stream-prefix": "ecs"}}}]')" >/dev/null
    awsref ecs create-service --cluster "$C" --service-name "$name" --task-definition "fam-$C" --desired-count 1 \
        --launch-type FARGATE --network-configuration "awsvpcConfiguration={subnets=[$(jq -r '.subnets[0]' <<<"$net")],securityGroups=[$(jq -r .securityGroupId <<<"$net")]}" \
        --deployment-configuration '{"deploymentCircuitBreaker":{"enable":true,"rollback":true}}' >/dev/null
    for _ in $(seq 1 100); do
        [[ $(awsref ecs describe-services --cluster "$C" --services "$name" \
            --query 'services[0].deployments[0].rolloutState' --output text) == COMPLETED ]] && return 0
        sleep 0.1
    done
    fail "the first deployment of $name did not complete"
}

# sim_event NAME MESSAGE: queue an event for the service's next deployment (docs/ecs-simulator.md).
sim_event() {
    jq -nc --arg c "$C" --arg s "$1" --arg m "$2" '{cluster: $c, service: $s, message: $m}' |
        curl -sf --max-time 5 -o /dev/null -H 'Content-Type: application/json' --data @- \
            "$AWS_ENDPOINT_URL/shipkit-sim/event" || fail "the simulator has no /shipkit-sim/event"
}

@test "ecs-roll deploy on the stack: a hostile service event and a crashed task's hostile log lines print escaped" {
    use_stack
    local evil image
    evil=$(printf '\e]0;pwned\a\e[31m\n::set-output name=leak::1\n##[add-mask]x \xc2\x9b2J')
    sim_service web example/model:good
    sim_event web "deployment started $evil"
    # The crash scenario's first log line quotes the image: "Starting model server (image ...)"
    # (--image takes no blanks: the rest of the attack).
    image=$(printf 'example/model:crash\e]0;pwned\a\e[31m##[add-mask]x\xc2\x9b2J')
    # --no-verify: ECS itself must see the hostile tag (the checks refuse it before anything registers)
    run -1 --separate-stderr timeout 120 ecs-roll --cluster "$C" --service web --no-verify --timeout 90s --image "app=$image"
    refute_raw
    [[ $stderr == *'(service web) deployment started \x1b]0;pwned\x07\x1b[31m\n::set-output name=leak::1\n##\x5badd-mask]x \u009b2J'* ]] ||
        fail "event: $stderr"
    [[ $stderr == *"last log lines"* ]] || fail "no log lines: $stderr"
    [[ $stderr == *'Starting model server (image example/model:crash\x1b]0;pwned\x07\x1b[31m##\x5badd-mask]x\u009b2J)'* ]] ||
        fail "log line: $stderr"
    [[ $stderr == *"stopped task "*"EssentialContainerExited"* ]] || fail "no stopped task: $stderr"
}

@test "ecs-run on the stack: a one-off task's hostile log lines, streamed and as its last lines, print escaped" {
    need_tool ecs-run
    use_stack
    local script
    sim_service web example/model:good
    # The simulator's container shell runs echo: each echo is a CloudWatch Logs line of the task.
    script=$(printf "echo '::set-output name=leak::1' && echo '\e[31m##[add-mask]x \xc2\x9b2J\a' && echo '\e]2:pwned\a \xe2\x80\xaeevil' && exit 3")
    run -1 --separate-stderr timeout 120 ecs-run --cluster "$C" --service web --timeout 90s -- sh -c "$script"
    refute_raw
    [[ $stderr == *'app] \x3a:set-output name=leak::1'* || $stderr == *'app] ::set-output name=leak::1'* ]] ||
        fail "the streamed line is missing: $stderr"
    [[ $stderr == *'\x1b[31m##\x5badd-mask]x \u009b2J\x07'* ]] || fail "the streamed line is not escaped: $stderr"
    [[ $stderr == *'\x1b]2:pwned\x07 \u202eevil'* ]] || fail "the OSC and bidi line is not escaped: $stderr"
    [[ $stderr == *"why: container app exited with code 3"* ]] || fail "no verdict: $stderr"
    # Without streaming, the last log lines after the verdict: escaped the same way.
    run -1 --separate-stderr timeout 120 ecs-run --cluster "$C" --service web --no-logs --timeout 90s -- sh -c "$script"
    refute_raw
    [[ $stderr == *"last log lines"*'\x1b[31m##\x5badd-mask]x \u009b2J\x07'* ]] || fail "last lines: $stderr"
}

@test "ecs-roll --logs and --status on the stack: hostile CloudWatch Logs lines and events print escaped" {
    use_stack
    local evil events=$BATS_TEST_TMPDIR/events.json
    evil=$(printf '\e[2J\e]52;c;ZWNobyBoaQ==\a\n::add-mask::secret\n  ##[set-output name=x;]y \xc2\x9b31m')
    sim_service web example/model:good
    jq -nc --arg m "$evil" --argjson t "$(($(date +%s) * 1000))" '[{timestamp: $t, message: $m}]' >"$events"
    awsref logs create-log-stream --log-group-name "/ecs/fam-$C" --log-stream-name ecs/app/evil0000 >/dev/null
    awsref logs put-log-events --log-group-name "/ecs/fam-$C" --log-stream-name ecs/app/evil0000 \
        --log-events "file://$events" >/dev/null
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --logs --since 10m
    refute_raw
    [[ $output == *' evil0000 \x1b[2J\x1b]52;c;ZWNobyBoaQ==\x07\n::add-mask::secret\n  ##\x5bset-output name=x;]y \u009b31m'* ]] ||
        fail "log line: $output"
    sim_event web "$evil"
    awsref ecs update-service --cluster "$C" --service web --force-new-deployment >/dev/null
    run -0 --separate-stderr ecs-roll --cluster "$C" --service web --status
    refute_raw
    [[ $output == *'(service web) \x1b[2J\x1b]52;c;'* ]] || fail "event: $output"
}
