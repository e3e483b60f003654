# shellcheck shell=bash disable=SC2154 # status/output come from bats' run
# tests/bats/helpers/faults.bash: the stack's AWS fault layer (tests/stack/faults.py,
# docs/ecs-simulator.md "Fault injection"). Load after helpers/common, call use_faults in setup.
#   use_faults            use_stack, skip unless the fault layer answers, clear it; FAULTS=its URL
#   faults RULES_JSON     replace the rules: faults '[{"fault":"throttle","count":1}]'
#   faults_clear          no rules, counters zeroed
#   faults_injected [KIND]  how many faults were injected (of KIND, or all)
#   KINDS                 every fault kind
#   one_rule KIND MATCH [COUNT], read_timeout_for KIND   (below)

# shellcheck disable=SC2034 # used by the bats files
KINDS=(throttle throttle-retry-after 500 502 503 reset-before reset-during slow)

use_faults() {
    use_stack
    FAULTS=$AWS_ENDPOINT_URL/shipkit-sim/faults
    curl -sf --max-time 2 -o /dev/null "$FAULTS" || skip "no fault layer in the stack ($FAULTS does not answer)"
    faults_clear
}

# faults RULES_JSON [SEED]: program the rules (fails the test on a 4xx).
faults() {
    local body
    body="{\"seed\": ${2:-1}, \"rules\": $1}"
    curl -sf --max-time 5 -o /dev/null -X POST -H 'Content-Type: application/json' --data "$body" "$FAULTS" ||
        fail "the fault layer refused: $body"
}

faults_clear() {
    curl -sf --max-time 5 -o /dev/null -X DELETE "$FAULTS" || fail "cannot clear the fault layer"
}

faults_injected() {
    curl -sf --max-time 5 "$FAULTS" | jq -r --arg k "${1:-}" \
        'if $k == "" then ([.injected[]] | add // 0) else (.injected[$k] // 0) end'
}

# one_rule KIND MATCH_JSON [COUNT]: a rule as JSON; "slow" waits 1.6 s, throttle-retry-after asks 1 s.
one_rule() {
    local kind=$1 match=$2 count=${3:-}
    printf '{"fault": "%s", "match": %s%s, "delay": 1.6, "retry_after": 1}' "$kind" "$match" \
        "${count:+, \"count\": $count}"
}

# read_timeout_for KIND: the SK_READ_TIMEOUT a run under KIND needs: shorter than "slow"'s delay.
read_timeout_for() {
    if [[ $1 == slow ]]; then
        echo 0.8
    else
        echo 30
    fi
}
