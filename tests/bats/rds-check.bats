#!/usr/bin/env bats
# shellcheck disable=SC2154 # output/stderr/lines come from bats' run
# rds-check against the local stack: moto describes the RDS instance $SK_RDS_ID, whose Port is a
# real PostgreSQL cluster on 127.0.0.1 (tests/stack/postgres/start: TLS with a certificate for
# DNS:localhost, IP:127.0.0.1 and $SK_RDS_ENDPOINT from the stack's CA, scram-sha-256 logins);
# the secret $SK_RDS_SECRET holds {"username","password"}. moto's endpoint names do not resolve,
# so the tests connect with --hostaddr 127.0.0.1; verify-full still checks the name.
# moto has no DescribePendingMaintenanceActions (HTTP 500): the maintenance line is a WARN here.

load helpers/common

# Keep the teardown of helpers/common (crash check) and stop any cluster a test started.
eval "common_$(declare -f teardown)"
teardown() {
    if [[ -n ${PG2_DIR:-} ]]; then
        "$REPO/tests/stack/postgres/stop" "$PG2_DIR" >/dev/null || true
        rm -rf "$PG2_DIR"
    fi
    common_teardown
}

setup() {
    use_stack
    need_tool rds-check
    if [[ -z ${SK_RDS_ID:-} ]]; then
        skip "no PostgreSQL in the test stack (apt-get install postgresql, then restart the stack)"
    fi
    # moto answers DescribePendingMaintenanceActions with a 500: do not wait for retries.
    export AWS_MAX_ATTEMPTS=1
    PWFILE=$BATS_TEST_TMPDIR/password
    (umask 077 && printf '%s\n' "$SK_PG_PASSWORD" >"$PWFILE")
}

# id: a unique DB instance identifier (letters, digits, single hyphens, at most 63).
db_id() {
    printf 'rdsck-%s-%s' "${BATS_TEST_NUMBER:-0}" "$RANDOM$RANDOM"
}

# create_instance ID PORT ENCRYPTED BACKUP_DAYS PUBLIC DELETION_PROTECTION MULTI_AZ [ENGINE]:
# an RDS instance in moto; the flags are awscli's (--storage-encrypted / --no-storage-encrypted...).
create_instance() {
    awsref rds create-db-instance --db-instance-identifier "$1" --engine "${8:-postgres}" \
        --db-instance-class db.t3.micro --master-username app --master-user-password not-the-password \
        --allocated-storage 20 --db-name appdb --port "$2" "$3" --backup-retention-period "$4" "$5" "$6" "$7" \
        >/dev/null
}

# healthy_instance ID: like the stack's, on the stack's PostgreSQL, under another name.
healthy_instance() {
    create_instance "$1" "$SK_PG_PORT" --storage-encrypted 7 --no-publicly-accessible --deletion-protection --multi-az
}

# line RESULT CHECK: the output line of CHECK, which must have RESULT.
assert_check() {
    local res=$1 check=$2 text=${3:-}
    assert_line --regexp "^$res  $check  .* \([0-9]+ ms\)\$"
    if [[ -n $text ]]; then
        assert_line --regexp "^$res  $check  .*$text"
    fi
}

# every output line is RESULT  CHECK  DETAIL (N ms)
assert_check_lines() {
    local l
    for l in "${lines[@]}"; do
        [[ $l =~ ^(PASS|WARN|FAIL|INFO|SKIP)\ \ [a-z-]+\ \ .*\ \([0-9]+\ ms\)$ ]] || fail "not a check line: $l"
    done
}

@test "rds-check: the stack's instance passes every check, TLS verified for the endpoint name" {
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA"
    assert_check_lines
    assert_check PASS status available
    assert_check PASS engine postgres
    assert_check PASS encryption encrypted
    assert_check PASS backups "7 days"
    assert_check PASS public-access "not publicly accessible"
    assert_check PASS deletion-protection on
    assert_check PASS multi-az on
    assert_check INFO maintenance "no pending maintenance"
    assert_check SKIP dns "--hostaddr 127.0.0.1"
    assert_check PASS tcp "127.0.0.1:$SK_PG_PORT"
    assert_check PASS tls "certificate verified for $SK_RDS_ENDPOINT"
    assert_check PASS login "as $SK_PG_USER to database $SK_PG_DATABASE"
    assert_check PASS query "PostgreSQL [0-9]+"
    assert_equal "${#lines[@]}" 13
    assert_equal "$stderr" ""
}

@test "rds-check --output json: checks[] of {check,result,detail,ms} and a verdict" {
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --output json
    echo "$output" | jq -e '
        (.checks | type == "array" and length == 13) and
        all(.checks[]; (keys == ["check", "detail", "ms", "result"]) and (.ms | type == "number") and
            (.result | IN("PASS", "WARN", "FAIL", "INFO", "SKIP"))) and
        (.verdict == "PASS") and (.instance == $id) and
        ([.checks[] | select(.check == "login") | .result] == ["PASS"])' --arg id "$SK_RDS_ID" >/dev/null ||
        fail "unexpected JSON: $output"
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --query '.checks[] | select(.result == "FAIL") | .check'
    assert_output ""
}

@test "rds-check --user --password-file: logs in; - reads the password from stdin" {
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --user "$SK_PG_USER" --password-file "$PWFILE" \
        --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
    assert_check PASS login "as $SK_PG_USER"
    assert_check PASS query PostgreSQL
    # shellcheck disable=SC2016
    run -0 --separate-stderr bash -c 'rds-check "$SK_RDS_ID" --user "$SK_PG_USER" --password-file - \
        --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" <"$0"' "$PWFILE"
    assert_check PASS login
}

@test "rds-check: a wrong password fails the login check, naming authentication" {
    printf 'wrong-%s\n' "$RANDOM" >"$BATS_TEST_TMPDIR/wrong"
    run -1 --separate-stderr rds-check "$SK_RDS_ID" --user "$SK_PG_USER" --password-file "$BATS_TEST_TMPDIR/wrong" \
        --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
    assert_check PASS tls
    assert_check FAIL login "authentication failed"
    assert_check SKIP query
    assert_error_line rds-check "failed 1 check: login"
    refute_leak "$(cat "$BATS_TEST_TMPDIR/wrong")"
}

@test "rds-check: PostgreSQL stopped -> the tcp check fails naming connection refused" {
    local id pg
    id=$(db_id)
    PG2_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sk-pg2.XXXXXX")
    pg=$(SK_PG_PASSWORD=$SK_PG_PASSWORD "$REPO/tests/stack/postgres/start" "$PG2_DIR" "$(dirname "$SK_PG_CA")")
    read -r port _ <<<"$pg"
    create_instance "$id" "$port" --storage-encrypted 7 --no-publicly-accessible --deletion-protection --multi-az
    # Running: it answers (its certificate is for localhost only: verify-ca).
    run -0 --separate-stderr rds-check "$id" --user app --password-file "$PWFILE" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --sslmode verify-ca
    assert_check PASS login
    "$REPO/tests/stack/postgres/stop" "$PG2_DIR" >/dev/null
    run -1 --separate-stderr rds-check "$id" --user app --password-file "$PWFILE" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --sslmode verify-ca
    assert_check FAIL tcp "connection refused by 127.0.0.1:$port"
    assert_check SKIP tls
    assert_check SKIP login
    assert_error_line rds-check "failed 1 check: tcp"
}

@test "rds-check: under verify-full a certificate not for the endpoint name fails the tls check" {
    local id
    id=$(db_id)
    healthy_instance "$id"
    run -1 --separate-stderr rds-check "$id" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
    assert_check FAIL tls "certificate .*does not match host name \"$id\\.aaaaaaaaaa"
    assert_check SKIP login
    assert_error_line rds-check "failed 1 check: tls"
    # The same server under verify-ca: the chain is fine, only the name was wrong.
    run -0 --separate-stderr rds-check "$id" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" \
        --sslmode verify-ca
    assert_check PASS tls "verify-ca"
    assert_check PASS login
}

@test "rds-check: a CA that did not sign the server certificate fails the tls check" {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$BATS_TEST_TMPDIR/k.pem" \
        -subj "/CN=other CA" -days 1 -out "$BATS_TEST_TMPDIR/other-ca.pem" 2>/dev/null
    run -1 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$BATS_TEST_TMPDIR/other-ca.pem"
    assert_check FAIL tls "certificate verify failed"
}

# other_ca: a CA that signed nothing of the stack's, in $BATS_TEST_TMPDIR/other-ca.pem.
other_ca() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$BATS_TEST_TMPDIR/k.pem" \
        -subj "/CN=other CA" -days 1 -out "$BATS_TEST_TMPDIR/other-ca.pem" 2>/dev/null
}

@test "rds-check --sslmode require with AWS_CA_BUNDLE naming a CA that did not sign the database: encrypted, not verified, as PostgreSQL documents require" {
    other_ca
    AWS_CA_BUNDLE=$BATS_TEST_TMPDIR/other-ca.pem run -0 --separate-stderr rds-check "$SK_RDS_ID" \
        --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --sslmode require
    assert_check PASS tls "certificate not verified \(--sslmode require\)"
    assert_check PASS login
    # --debug shows libpq was given no root certificate
    AWS_CA_BUNDLE=$BATS_TEST_TMPDIR/other-ca.pem run -0 --separate-stderr rds-check "$SK_RDS_ID" \
        --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --sslmode require --debug
    [[ $stderr == *"sslmode=require sslrootcert=(libpq default)"* ]] || fail "stderr: $stderr"
}

@test "rds-check --sslrootcert: the database's CAs apart from the API's; a CA that did not sign fails; a missing file is refused" {
    other_ca
    # The API calls' CA (--ca-bundle) is another; the database's is --sslrootcert.
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$BATS_TEST_TMPDIR/other-ca.pem" --sslrootcert "$SK_PG_CA"
    assert_check PASS tls "certificate verified for $SK_RDS_ENDPOINT"
    run -1 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --sslrootcert "$BATS_TEST_TMPDIR/other-ca.pem"
    assert_check FAIL tls "certificate verify failed.*other-ca.pem"
    # require with --sslrootcert verifies the chain (libpq: a root CA file makes require verify-ca)
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --sslmode require --sslrootcert "$SK_PG_CA"
    assert_check PASS tls "certificate chain verified \(require with --sslrootcert"
    run -2 --separate-stderr rds-check "$SK_RDS_ID" --sslrootcert "$BATS_TEST_TMPDIR/nope.pem"
    assert_error_line rds-check "--sslrootcert '$BATS_TEST_TMPDIR/nope.pem': No such file or directory"
    run -2 --separate-stderr rds-check "$SK_RDS_ID" --sslrootcert "$SK_PG_CA" --sslmode disable
    assert_error_line rds-check "--sslrootcert has nothing to verify with --sslmode disable"
}

@test "rds-check --iam: the token is botocore's byte for byte (tests/unit/rds-token-vectors with this machine's botocore)" {
    run -0 python3 "$REPO/tests/unit/rds-token-vectors" --check "$REPO/tests/unit/rds_test.c"
}

@test "rds-check --iam: logs in as --user with a token made for the endpoint, never shown; usage" {
    # The stack's PostgreSQL knows no IAM (no rds_iam role): it refuses the token as a password,
    # which shows the token was sent as the password for that user (docs/aws-fidelity.md).
    run -1 --separate-stderr rds-check "$SK_RDS_ID" --user app --iam --hostaddr 127.0.0.1 --sslrootcert "$SK_PG_CA" --debug
    assert_check PASS tls
    assert_check FAIL login "authentication failed: .*password authentication failed for user \"app\""
    [[ $output$stderr != *X-Amz-Signature* && $output$stderr != *X-Amz-Credential* ]] || fail "the token was shown"
    [[ $stderr == *"user=app password=(redacted)"* ]] || fail "stderr: $stderr"
    run -2 --separate-stderr rds-check "$SK_RDS_ID" --iam
    assert_error_line rds-check "--iam needs --user"
    run -2 --separate-stderr rds-check "$SK_RDS_ID" --iam --user app --password-file "$PWFILE"
    assert_error_line rds-check "--iam logs in with a token: not with --secret or --password-file"
    run -2 --separate-stderr rds-check "$SK_RDS_ID" --iam --user app --sslmode disable
    assert_error_line rds-check "--iam needs TLS"
}

@test "rds-check: the profile's ca_bundle is the CA TLS trusts when neither --ca-bundle nor AWS_CA_BUNDLE names one" {
    unset AWS_CA_BUNDLE
    printf '[default]\nca_bundle = %s\n' "$SK_PG_CA" >>"$AWS_CONFIG_FILE"
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1
    assert_check PASS tls "certificate verified for $SK_RDS_ENDPOINT"
    assert_check PASS login
    # --ca-bundle comes first
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$BATS_TEST_TMPDIR/k.pem" \
        -subj "/CN=other CA" -days 1 -out "$BATS_TEST_TMPDIR/other-ca.pem" 2>/dev/null
    run -1 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$BATS_TEST_TMPDIR/other-ca.pem"
    assert_check FAIL tls "certificate verify failed"
}

@test "rds-check: publicly accessible and unencrypted instances fail" {
    local id
    id=$(db_id)
    create_instance "$id" "$SK_PG_PORT" --no-storage-encrypted 7 --publicly-accessible --deletion-protection --multi-az
    run -1 --separate-stderr rds-check "$id" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" \
        --sslmode verify-ca
    assert_check FAIL public-access "publicly accessible"
    assert_check FAIL encryption "not encrypted"
    assert_check PASS login
    assert_error_line rds-check "failed 2 checks: encryption, public-access"
}

@test "rds-check: backups below --min-backup-days fail; no deletion protection or Multi-AZ only warn" {
    local id
    id=$(db_id)
    create_instance "$id" "$SK_PG_PORT" --storage-encrypted 3 --no-publicly-accessible --no-deletion-protection \
        --no-multi-az
    run -1 --separate-stderr rds-check "$id" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" \
        --sslmode verify-ca
    assert_check FAIL backups "3 days, fewer than 7"
    assert_check WARN deletion-protection off
    assert_check WARN multi-az off
    assert_error_line rds-check "failed 1 check: backups"
    run -0 --separate-stderr rds-check "$id" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" \
        --sslmode verify-ca --min-backup-days 3 --output json
    echo "$output" | jq -e '.verdict == "WARN"' >/dev/null || fail "verdict is not WARN: $output"
}

@test "rds-check: an instance that is not available, or not postgres, fails" {
    local id id2
    id=$(db_id)
    healthy_instance "$id"
    awsref rds stop-db-instance --db-instance-identifier "$id" >/dev/null
    run -1 --separate-stderr rds-check "$id" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" \
        --sslmode verify-ca
    assert_check FAIL status "stopped, not available"
    id2=$(db_id)-my
    create_instance "$id2" "$SK_PG_PORT" --storage-encrypted 7 --no-publicly-accessible --deletion-protection \
        --multi-az mysql
    run -1 --separate-stderr rds-check "$id2" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
    assert_check FAIL engine "mysql.*not postgres"
    assert_check SKIP tls "not a postgres instance"
}

@test "rds-check: without credentials TLS is still checked, login and query are skipped" {
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA"
    assert_check PASS tls "certificate verified"
    assert_check SKIP login "no credentials"
    assert_check SKIP query "no credentials"
}

@test "rds-check: a missing secret exits 4" {
    run -4 --separate-stderr rds-check "$SK_RDS_ID" --secret "no-such-secret-$RANDOM" --hostaddr 127.0.0.1
    assert_error_line rds-check "secret 'no-such-secret-"
    assert_error_line rds-check "not found"
    assert_output ""
}

@test "rds-check: an unknown instance exits 4" {
    run -4 --separate-stderr rds-check "no-such-db-$RANDOM" --secret "$SK_RDS_SECRET"
    assert_error_line rds-check "DB instance 'no-such-db-"
    assert_error_line rds-check "not found"
    assert_output ""
}

@test "rds-check: the RDS API unreachable exits 5" {
    run -5 --separate-stderr rds-check "$SK_RDS_ID" --endpoint-url http://127.0.0.1:1
    assert_error_line rds-check
    assert_output ""
}

@test "rds-check: the password never appears in output, errors or the --debug trace" {
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --debug
    assert_check PASS login
    [[ $stderr == *"password=(redacted)"* ]] || fail "no redacted libpq line in the --debug trace"
    [[ $stderr == *"GetSecretValue"* ]] || fail "no GetSecretValue call in the --debug trace"
    refute_leak "$SK_PG_PASSWORD"
    run -0 --separate-stderr rds-check "$SK_RDS_ID" --user "$SK_PG_USER" --password-file "$PWFILE" \
        --hostaddr 127.0.0.1 --ca-bundle "$SK_PG_CA" --debug -v --output json
    refute_leak "$SK_PG_PASSWORD"
    # A failing TLS step: libpq's error message passes through the sanitiser.
    run -1 --separate-stderr rds-check "$SK_RDS_ID" --secret "$SK_RDS_SECRET" --hostaddr 127.0.0.1 \
        --ca-bundle "$SK_PG_CA" --sslmode disable --debug
    assert_check FAIL login "no encryption"
    refute_leak "$SK_PG_PASSWORD"
}

@test "rds-check: usage errors exit 2" {
    run -2 --separate-stderr rds-check
    assert_error_line rds-check "missing DB_INSTANCE_ID"
    run -2 --separate-stderr rds-check db --secret s --user u --password-file "$PWFILE"
    assert_error_line rds-check "not both"
    run -2 --separate-stderr rds-check db --user u
    assert_error_line rds-check "go together"
    run -2 --separate-stderr rds-check db --sslmode prefer
    assert_error_line rds-check "--sslmode"
    run -2 --separate-stderr rds-check db --hostaddr db.example.com
    assert_error_line rds-check "--hostaddr"
    run -2 --separate-stderr rds-check db --connect-timeout soon
    assert_error_line rds-check "--connect-timeout"
    run -2 --separate-stderr rds-check db --min-backup-days 36
    assert_error_line rds-check "--min-backup-days"
    run -2 --separate-stderr rds-check db --user u --password-file "$BATS_TEST_TMPDIR/missing"
    assert_error_line rds-check "--password-file"
}
