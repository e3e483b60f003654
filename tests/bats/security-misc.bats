#!/usr/bin/env bats
# security-misc: two attacks on secrets in flight, each reproduced against a hostile listener on
# 127.0.0.1 that records connections (never their bytes) and lives at most 60 s:
#   core dumps  a tool stopped by a signal while it waits on the listener must write no core file
#               (a SecureString in flight used to be in it): every tool makes itself not
#               dumpable with RLIMIT_CORE 0 at start, and secret buffers sit on MADV_DONTDUMP pages
#   cleartext   an http:// endpoint whose host is not literally loopback (here *.localhost, which
#               curl connects to 127.0.0.1) is refused, exit 3, before any connection, unless
#               SK_ALLOW_CLEARTEXT=1; loopback (the stack's http://127.0.0.1) needs no consent
# (A SecureString downgraded to String by an untyped update: ssm-put.bats.)
# bats file_tags=security

load helpers/common

LISTENER_PID=

setup() {
    # The listener: accepts, reads once, logs "conn BYTES" to $1, holds the connection open.
    cat >"$BATS_TEST_TMPDIR/listener.py" <<'EOF'
import socket, sys
log = sys.argv[1]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(16)
print(ls.getsockname()[1], flush=True)
held = []
while True:
    c, _ = ls.accept()
    c.settimeout(2)
    try:
        n = len(c.recv(65536))
    except OSError:
        n = 0
    with open(log, "a") as f:
        f.write("conn %d\n" % n)
    held.append(c)
EOF
}

# common.bash's teardown (the crash check), after stopping the listener.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    [[ -n $LISTENER_PID ]] && kill "$LISTENER_PID" 2>/dev/null
    common_teardown
}

# listen: start the listener; PORT is its port, CONNS its log.
listen() {
    CONNS=$BATS_TEST_TMPDIR/conns
    : >"$CONNS"
    coproc LISTENER { exec timeout 60 python3 "$BATS_TEST_TMPDIR/listener.py" "$CONNS"; }
    read -r -t 20 PORT <&"${LISTENER[0]}" || fail "the listener did not start"
}

# connections: how many connections the listener has had.
connections() {
    wc -l <"$CONNS" | tr -d ' '
}

# ---- core dumps -------------------------------------------------------------------------------

# The supervisor: runs a command with core dumps allowed, waits until it is mid-flight, looks at
# it from outside, kills it with a signal and reports. Everything it checks is independent of
# /proc/sys/kernel/core_pattern (a file name, or a pipe to a handler): the process's own limit,
# whether it is dumpable, and the kernel's own word on whether it dumped (WCOREDUMP).
write_crash() {
    cat >"$BATS_TEST_TMPDIR/crash.py" <<'EOF'
"""crash.py CONNS SIGNAL SECRET_FILE -- CMD...

Run CMD in the working directory with RLIMIT_CORE raised to its hard limit (unlimited as root);
wait until CONNS (the listener's log) has a line ("-": half a second); kill it with SIGNAL; print
one "key values" line each:
  limits SOFT HARD        Max core file size of /proc/PID/limits while it ran
  uid UID owner OWNER     its real uid, and the owner of /proc/PID/status, root for a process
                          that is not dumpable (proc(5))
  secret IN_DD ELSEWHERE  occurrences of SECRET_FILE's text in its memory, on mappings marked dd
                          (MADV_DONTDUMP, VmFlags of /proc/PID/smaps) and elsewhere; "-" unless
                          root, or SECRET_FILE is "-"
  end SIGNAL CORE         how it ended (the signal, or "exit CODE") and WCOREDUMP (0 or 1)
  cores N                 files named core* in the working directory afterwards
"""
import os, re, resource, signal, subprocess, sys, time

conns, signame, secret_file = sys.argv[1:4]
cmd = sys.argv[5:]


def allow_cores():
    hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
    if os.geteuid() == 0:
        hard = resource.RLIM_INFINITY
    resource.setrlimit(resource.RLIMIT_CORE, (hard, hard))


def scan(pid, needle):
    in_dd = elsewhere = 0
    maps, cur = [], None
    with open(f"/proc/{pid}/smaps") as f:
        for line in f:
            m = re.match(r"^([0-9a-f]+)-([0-9a-f]+) (\S+)\s+\S+\s+\S+\s+\S+\s*(.*)$", line)
            if m:
                cur = [int(m.group(1), 16), int(m.group(2), 16), m.group(3), m.group(4), False]
                maps.append(cur)
            elif line.startswith("VmFlags:") and cur:
                cur[4] = " dd" in line
    with open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for lo, hi, perms, name, dd in maps:
            if "r" not in perms or name in ("[vvar]", "[vsyscall]") or (dd and hi - lo > 64 << 20):
                continue
            try:
                mem.seek(lo)
                data = mem.read(hi - lo)
            except OSError:
                continue
            n = data.count(needle)
            if dd:
                in_dd += n
            else:
                elsewhere += n
    return in_dd, elsewhere


with open("tool.err", "wb") as err:
    p = subprocess.Popen(cmd, preexec_fn=allow_cores, stdout=subprocess.DEVNULL, stderr=err)
deadline = time.time() + 20
while True:
    if p.poll() is not None:
        print(f"end exit {p.returncode} 0")
        sys.exit(1)
    if conns == "-":
        time.sleep(0.5)
        break
    if os.path.getsize(conns) > 0:
        break
    if time.time() > deadline:
        p.kill()
        print("end timeout 0")
        sys.exit(1)
    time.sleep(0.05)
pid = p.pid
with open(f"/proc/{pid}/limits") as f:
    core = [l.split()[4:6] for l in f if l.startswith("Max core file size")][0]
print("limits", *core)
uid = [l.split()[1] for l in open(f"/proc/{pid}/status") if l.startswith("Uid:")][0]
print("uid", uid, "owner", os.stat(f"/proc/{pid}/status").st_uid)
if secret_file != "-" and os.geteuid() == 0:
    with open(secret_file, "rb") as f:
        print("secret", *scan(pid, f.read()))
else:
    print("secret -")
os.kill(pid, getattr(signal, signame))
_, status = os.waitpid(pid, 0)
end = signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else f"exit {os.WEXITSTATUS(status)}"
print("end", end, int(os.WCOREDUMP(status)))
print("cores", len([n for n in os.listdir(".") if n.startswith("core")]))
EOF
}

# as_other CMD...: the words that run CMD as a user other than root (nobody, when we are root),
# so that /proc/PID's owner can tell a dumpable process (its own uid) from one that is not (root).
# Sets OTHER_UID; skips when there is no way to switch.
as_other() {
    if [[ $(id -u) != 0 ]]; then
        OTHER=()
        OTHER_UID=$(id -u)
        return
    fi
    command -v setpriv >/dev/null || skip "running as root without setpriv: cannot run a tool as another user"
    OTHER=(setpriv --reuid=65534 --regid=65534 --clear-groups --)
    OTHER_UID=65534
    "${OTHER[@]}" test -x "$REPO/bin/ssm-put" || skip "user nobody cannot run $REPO/bin/ssm-put (a private directory)"
}

# crash_dir: a working directory the tool (running as OTHER_UID) could write a core file to.
crash_dir() {
    CRASH=$BATS_TEST_TMPDIR/crash
    mkdir -p "$CRASH"
    chmod 0777 "$CRASH"
}

# report KEY: the values of one line of crash.py's report ($output).
report() {
    sed -n "s/^$1 //p" <<<"$output"
}

@test "core dumps: ssm-put killed mid-flight with a SecureString writes no core; the secret sits only on dd pages" {
    need_tool ssm-put
    listen
    write_crash
    as_other
    crash_dir
    local v
    v=$(canary security-core-secret)
    printf '%s' "$v" >"$CRASH/value"
    chmod 0644 "$CRASH/value"
    # The control: a plain process under the same conditions (user, limit, directory, signal).
    # Whether it dumps depends on core_pattern; when that is a file name (in the working
    # directory), it must.
    cd "$CRASH"
    run -0 python3 ../crash.py - SIGABRT - -- "${OTHER[@]}" env -i sleep 30
    local control_core pattern
    control_core=$(report end | awk '{print $2}')
    pattern=$(cat /proc/sys/kernel/core_pattern)
    if [[ $pattern != '|'* && $pattern != */* ]]; then
        assert_equal "$(report end)" "SIGABRT 1"
        [[ $(report cores) -ge 1 ]] || fail "the control dumped, but no core file in $CRASH"
    fi
    rm -f "$CRASH"/core*
    # The tool, stopped while it waits for the listener's answer to its PutParameter.
    run -0 python3 ../crash.py "$CONNS" SIGABRT "$CRASH/value" -- "${OTHER[@]}" \
        env -i PATH="$PATH" AWS_ACCESS_KEY_ID=AKIDSECURITYMISC AWS_SECRET_ACCESS_KEY=not-a-real-key \
        AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
        AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=1 SK_READ_TIMEOUT=30 \
        ssm-put --endpoint-url "http://127.0.0.1:$PORT" --type SecureString --value-file value /security/core
    assert_equal "$(report limits)" "0 0"
    assert_equal "$(report uid)" "$OTHER_UID owner 0"
    assert_equal "$(report end)" "SIGABRT 0"
    assert_equal "$(report cores)" 0
    if [[ $(report secret) != - ]]; then
        read -r in_dd elsewhere <<<"$(report secret)"
        ((in_dd >= 1)) || fail "the secret is not in the tool's memory at all: the scan proves nothing"
        assert_equal "$elsewhere" 0
    fi
    echo "# control dumped: ${control_core:-?}; secret in memory: $(report secret)" >&3
}

@test "core dumps: every tool is not dumpable, with RLIMIT_CORE 0, from its start" {
    listen
    write_crash
    as_other
    crash_dir
    python3 "$REPO/tests/fixtures/make-images" "$CRASH/img" >/dev/null
    chmod -R a+rX "$CRASH/img"
    # Every tool resolves credentials first: from the container endpoint, here the listener.
    local t args
    for t in "${TOOLS[@]}"; do
        need_tool "$t"
        case $t in
        aws-sign) args=(--service sts -d 'Action=GetCallerIdentity&Version=2011-06-15' /) ;;
        ssm-put) args=(/security/p value) ;;
        secret-put) args=(--generate security/s) ;;
        ecr-push) args=(oci:img/oci 123456789012.dkr.ecr.us-east-1.amazonaws.com/security:t) ;;
        ecs-roll) args=(--cluster c --service s --status) ;;
        ecs-run) args=(--cluster c --task-def web:1 --no-wait) ;;
        tg-health) args=(--name tg) ;;
        rds-check) args=(db1) ;;
        esac
        : >"$CONNS"
        cd "$CRASH"
        run -0 python3 ../crash.py "$CONNS" SIGABRT - -- "${OTHER[@]}" \
            env -i PATH="$PATH" AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null \
            AWS_CONTAINER_CREDENTIALS_FULL_URI="http://127.0.0.1:$PORT/creds" AWS_ENDPOINT_URL="http://127.0.0.1:1" \
            "$t" "${args[@]}"
        [[ $(report limits) == "0 0" ]] || fail "$t: core limit $(report limits)"
        [[ $(report uid) == "$OTHER_UID owner 0" ]] || fail "$t: dumpable ($(report uid))"
        [[ $(report end) == "SIGABRT 0" && $(report cores) == 0 ]] || fail "$t: $(report end), $(report cores) cores"
    done
}

# ---- cleartext ---------------------------------------------------------------------------------

@test "cleartext: a SecureString is not sent over http to a name that is not literally loopback" {
    need_tool ssm-put
    use_stack
    listen
    local v url
    v=$(canary security-cleartext-secret)
    printf '%s' "$v" >"$BATS_TEST_TMPDIR/value"
    # curl connects *.localhost to 127.0.0.1: the listener stands in for a host on the network.
    url="http://sk-attacker.localhost:$PORT"
    run -3 --separate-stderr ssm-put --endpoint-url "$url" --type SecureString \
        --value-file "$BATS_TEST_TMPDIR/value" /security/cleartext
    assert_error_line ssm-put "refusing cleartext to '$url' (from --endpoint-url)"
    assert_error_line ssm-put "SK_ALLOW_CLEARTEXT=1"
    assert_equal "$(connections)" 0
    # Every place an endpoint comes from.
    run -3 --separate-stderr env AWS_ENDPOINT_URL="$url" ssm-put --type SecureString \
        --value-file "$BATS_TEST_TMPDIR/value" /security/cleartext
    assert_error_line ssm-put "(from AWS_ENDPOINT_URL)"
    run -3 --separate-stderr env AWS_ENDPOINT_URL_SSM="$url" ssm-put --type SecureString \
        --value-file "$BATS_TEST_TMPDIR/value" /security/cleartext
    assert_error_line ssm-put "(from AWS_ENDPOINT_URL_SSM)"
    printf '[default]\nservices = s\n[services s]\nssm =\n  endpoint_url = %s\n' "$url" >"$AWS_CONFIG_FILE"
    run -3 --separate-stderr env -u AWS_ENDPOINT_URL ssm-put --type SecureString \
        --value-file "$BATS_TEST_TMPDIR/value" /security/cleartext
    assert_error_line ssm-put "(from the services section)"
    printf '[default]\nendpoint_url = %s\n' "$url" >"$AWS_CONFIG_FILE"
    run -3 --separate-stderr env -u AWS_ENDPOINT_URL ssm-put --type SecureString \
        --value-file "$BATS_TEST_TMPDIR/value" /security/cleartext
    assert_error_line ssm-put "(from the profile's endpoint_url)"
    assert_equal "$(connections)" 0
    # The attack was real: with consent the same request reaches the listener (a String here).
    run -5 --separate-stderr env SK_ALLOW_CLEARTEXT=1 SK_READ_TIMEOUT=1 AWS_MAX_ATTEMPTS=1 \
        ssm-put --endpoint-url "$url" --type String /security/cleartext not-secret
    [[ $(connections) -ge 1 ]] || fail "SK_ALLOW_CLEARTEXT=1 did not let the request through"
}

@test "cleartext: credentials' endpoints too: STS for a role, aws-sign's URL; the container endpoint keeps the SDK rule" {
    need_tool ssm-put
    need_tool aws-sign
    use_stack
    listen
    local url="http://sk-attacker.localhost:$PORT"
    cat >"$AWS_CONFIG_FILE" <<EOF
[profile deploy]
role_arn = $SK_DEPLOY_ROLE_ARN
source_profile = base
EOF
    cat >"$AWS_SHARED_CREDENTIALS_FILE" <<EOF
[base]
aws_access_key_id = $AWS_ACCESS_KEY_ID
aws_secret_access_key = $AWS_SECRET_ACCESS_KEY
EOF
    run -3 --separate-stderr env AWS_ENDPOINT_URL_STS="$url" ssm-put --profile deploy --type String /security/sts v
    assert_error_line ssm-put "refusing cleartext to '$url' (from AWS_ENDPOINT_URL_STS)"
    run -3 --separate-stderr aws-sign --service sts -d 'Action=GetCallerIdentity&Version=2011-06-15' "$url/"
    assert_error_line aws-sign "refusing cleartext to '$url' (from the URL)"
    # The SDKs allow http for container credentials only on loopback and the ECS/EKS agent
    # addresses (resolved): that rule stays, and *.localhost does not resolve there.
    run -3 --separate-stderr env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY \
        AWS_CONTAINER_CREDENTIALS_FULL_URI="$url/creds" ssm-put --type String /security/ecs v
    assert_error_line ssm-put "is not allowed over http"
    assert_equal "$(connections)" 0
}

@test "cleartext: loopback needs no consent: the stack's http://127.0.0.1 and http://localhost" {
    need_tool ssm-put
    use_stack
    [[ $AWS_ENDPOINT_URL == http://127.0.0.1:* ]] || skip "the stack is not on http://127.0.0.1"
    run -0 --separate-stderr ssm-put --type String "/security/$(unique)" v
    run -0 --separate-stderr ssm-put --endpoint-url "http://localhost:${AWS_ENDPOINT_URL##*:}" --type String \
        "/security/$(unique)" v
}
