# tests/bats/helpers/quirks.bash: the ECR-quirks proxy (tests/stack/registry/ecr_quirks.py) for the
# shellcheck disable=SC2034 # QUIRKS, QCTL, QUIRKS_PID and EXTRA are for the test files
# registry tests that put it between ecr-push and the stack registry (ecr-quirks.bats,
# faults-registry.bats). Load after helpers/common and helpers/registry. A test sets QLOG (the
# proxy's log file) before start_quirks; every pid it appends to EXTRA is stopped by stop_extra in
# the file's teardown.

EXTRA=()

# start_quirks FLAGS...: the proxy in front of the stack registry (or --upstream ...), logging to
# $QLOG; sets QUIRKS=127.0.0.1:PORT, QCTL=https://127.0.0.1:CONTROL_PORT/shipkit-faults and
# QUIRKS_PID. The proxy is not GetAuthorizationToken's proxyEndpoint, so ecr-push sends it no ECR
# token: it gets the registry's credentials under its own name, as `docker login $QUIRKS` would.
start_quirks() {
    local portf=$BATS_TEST_TMPDIR/quirks.port.$RANDOM port='' cport='' _
    : >"$QLOG"
    # No inherited fd 3 (bats waits for it) and no terminal: files only.
    python3 "$REPO/tests/stack/registry/ecr_quirks.py" --log "$QLOG" "$@" \
        </dev/null >"$portf" 2>>"$BATS_TEST_TMPDIR/quirks.err" 3>&- &
    QUIRKS_PID=$!
    EXTRA+=("$QUIRKS_PID")
    for _ in $(seq 1 100); do
        read -r port cport <"$portf" || true
        [[ -n $cport ]] && break
        kill -0 "$QUIRKS_PID" 2>/dev/null || break
        sleep 0.05
    done
    [[ $port =~ ^[0-9]+$ ]] || fail "the quirks proxy did not start: $(cat "$BATS_TEST_TMPDIR/quirks.err")"
    [[ $cport =~ ^[0-9]+$ ]] || fail "the quirks proxy printed no control port: $(cat "$portf")"
    QUIRKS=127.0.0.1:$port
    QCTL=https://127.0.0.1:$cport/shipkit-faults
    docker_login "$QUIRKS"
}

# stop_extra: stop what the test started: proxy pids, and registry directories (tests/stack/registry/stop).
stop_extra() {
    local x
    for x in "${EXTRA[@]}"; do
        if [[ $x =~ ^[0-9]+$ ]]; then
            kill "$x" 2>/dev/null || true
            wait "$x" 2>/dev/null || true
        else
            "$REPO/tests/stack/registry/stop" "$x" >/dev/null || true
        fi
    done
}

# qlog_mark: the current length of the proxy's log; qlog_since MARK: its lines after MARK, with
# the query strings cut off ("METHOD /path STATUS").
qlog_mark() {
    wc -l <"$QLOG"
}
qlog_since() {
    tail -n +"$((${1:-0} + 1))" "$QLOG" | sed 's/?[^ ]* / /'
}

# oci_top DIR: the digest of the single manifest (or index) index.json points at.
oci_top() {
    jq -r '.manifests[0].digest' "$1/index.json"
}

# now_ms: milliseconds since the epoch.
now_ms() {
    echo $(($(date +%s%N) / 1000000))
}
