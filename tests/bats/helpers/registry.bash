# tests/bats/helpers/registry.bash: credentials for a registry other than the account's ECR registry,
# and hostile registries on 127.0.0.1. Load after helpers/common.
# shellcheck disable=SC2034 # HOSTILE_PORT and HOSTILE_PIDS are for the test files
#
# ecr-push sends the ECR token only to the account's ECR registry (GetAuthorizationToken's
# proxyEndpoint, the stack's $SK_REGISTRY); any other registry gets what the user gave for it.

HOSTILE_PIDS=()

# docker_login HOST [USER PASSWORD]: put credentials for HOST into Docker's config.json under the
# test's HOME (what `docker login HOST` writes), by default the stack registry's user (any registry
# started by tests/stack/registry/start, and the quirks proxy, take it). Other hosts keep theirs.
docker_login() {
    local host=$1 user=${2:-$SK_REGISTRY_USER} pass=${3:-$SK_REGISTRY_PASSWORD} cfg=$HOME/.docker/config.json auth
    mkdir -p "$HOME/.docker"
    [[ -s $cfg ]] || echo '{}' >"$cfg"
    auth=$(printf '%s:%s' "$user" "$pass" | base64 -w0)
    # The value through a file, never argv (argv-watch reads every command line).
    printf '%s' "$auth" >"$cfg.auth"
    jq --arg h "$host" --rawfile a "$cfg.auth" '.auths[$h] = {auth: $a}' "$cfg" >"$cfg.new"
    mv "$cfg.new" "$cfg"
    rm -f "$cfg.auth"
    chmod 600 "$cfg"
    allow_secret_file "$cfg"
}

# start_hostile LOG ARGS...: tests/bats/helpers/hostile_registry.py (TLS with the stack's
# certificate, or --plain) logging to LOG; prints nothing, sets HOSTILE_PORT. stop_hostile (in the
# file's teardown) stops every one started.
start_hostile() {
    local log=$1 portf=$BATS_TEST_TMPDIR/hostile.port.$RANDOM tls _ cert=()
    shift
    tls=$(dirname "$SK_REGISTRY_CA")/tls
    [[ " $* " == *" --plain "* ]] || cert=(--cert "$tls/server.pem" --key "$tls/server-key.pem")
    : >"$log"
    python3 "$REPO/tests/bats/helpers/hostile_registry.py" --log "$log" "${cert[@]}" "$@" \
        </dev/null >"$portf" 2>>"$BATS_TEST_TMPDIR/hostile.err" 3>&- &
    HOSTILE_PIDS+=("$!")
    HOSTILE_PORT=
    for _ in $(seq 1 100); do
        read -r HOSTILE_PORT <"$portf" || true
        [[ -n $HOSTILE_PORT ]] && break
        sleep 0.05
    done
    [[ $HOSTILE_PORT =~ ^[0-9]+$ ]] || fail "the hostile registry did not start: $(cat "$BATS_TEST_TMPDIR/hostile.err")"
}

stop_hostile() {
    local x
    for x in "${HOSTILE_PIDS[@]}"; do
        kill "$x" 2>/dev/null || true
        wait "$x" 2>/dev/null || true
    done
    HOSTILE_PIDS=()
}
