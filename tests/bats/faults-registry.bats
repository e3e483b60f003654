#!/usr/bin/env bats
# shellcheck disable=SC2154 # status/output/stderr/stderr_lines come from bats' run
# ecr-push under registry faults (issue 8). Each test puts tests/stack/registry/ecr_quirks.py (a TLS
# reverse proxy in front of the stack registry) between ecr-push and the registry and programs its
# faults at runtime through its control endpoint ($QCTL, docs/fault-injection.md "Registry
# faults"). What got pushed is read back from the real registry with skopeo, which checks every
# blob's digest. The proxy logs one "METHOD PATH STATUS" line per request ($QLOG).
#
# SK_RETRY_SCALE makes ecr-push's own backoff short (Retry-After is still honoured as sent), and
# where a test makes answers slow, ECR_PUSH_STALL_TIMEOUT=1s makes a stalled request give up after
# 1 s (only there: a loaded machine must not turn a normal answer into a timeout).

load helpers/common
load helpers/registry
load helpers/quirks

HEX64='[0-9a-f]{64}'

setup_file() {
    make_images
}

setup() {
    need_tool ecr-push
    use_registry
    [[ -d $BATS_FILE_TMPDIR/img/oci ]] || fail "make-images wrote no fixtures in $BATS_FILE_TMPDIR/img"
    IMG=$BATS_FILE_TMPDIR/img
    R=shipkit/$(unique)
    QLOG=$BATS_TEST_TMPDIR/quirks.log
    export SK_RETRY_SCALE=0.05
    unset ECR_PUSH_STALL_TIMEOUT
    start_quirks
}

# common.bash's teardown (the crash check), after stopping the proxies.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    stop_extra
    common_teardown
}

# --- helpers ---

# ctl METHOD [JSON]: call the control endpoint; the answer is in $BATS_TEST_TMPDIR/ctl.json and
# the HTTP status on stdout.
ctl() {
    local args=(-s -o "$BATS_TEST_TMPDIR/ctl.json" -w '%{http_code}' --cacert "$SK_REGISTRY_CA" -X "$1")
    [[ $# -ge 2 ]] && args+=(-H 'Content-Type: application/json' --data-binary "$2")
    curl "${args[@]}" "$QCTL"
}

# faults JSON: replace the proxy's rules (the answer must be 200).
faults() {
    local code
    code=$(ctl POST "$1")
    [[ $code == 200 ]] || fail "the control endpoint refused $1: $code $(cat "$BATS_TEST_TMPDIR/ctl.json")"
}

# injected [KIND]: how many faults (of KIND) the proxy injected since the rules were set.
injected() {
    [[ $(ctl GET) == 200 ]] || fail "GET $QCTL failed"
    if [[ $# -eq 0 ]]; then
        jq '[.injected[]] | add // 0' "$BATS_TEST_TMPDIR/ctl.json"
    else
        jq --arg k "$1" '.injected[$k] // 0' "$BATS_TEST_TMPDIR/ctl.json"
    fi
}

# push STATUS ARGS...: ecr-push -q with stdout and stderr apart; it must exit STATUS exactly.
push() {
    local want=$1
    shift
    run "-$want" --separate-stderr ecr-push -q "$@"
}

# qcount MARK REGEX: how many of those lines match REGEX.
qcount() {
    qlog_since "$1" | grep -cE "$2" || true
}

# nblobs DIR: the blobs (layers and config) of the single image in an OCI layout.
nblobs() {
    local top
    top=$(oci_top "$1")
    jq '.layers | length + 1' "$1/blobs/sha256/${top#sha256:}"
}

# verify_pulled REPO:TAG DIGEST: skopeo can copy the image out of the stack registry, checking
# every blob against its digest, and the tag names the manifest DIGEST.
verify_pulled() {
    rm -rf "$BATS_TEST_TMPDIR/pulled"
    skopeo_ref copy -q "docker://$SK_REGISTRY/$1" "dir:$BATS_TEST_TMPDIR/pulled" >/dev/null ||
        fail "skopeo could not copy $1 out (a blob missing or corrupt?)"
    assert_equal "sha256:$(sha256sum <"$BATS_TEST_TMPDIR/pulled/manifest.json" | cut -d' ' -f1)" "$2"
}

# tag_status REPO TAG: the HTTP status of HEAD manifests/TAG at the stack registry.
tag_status() {
    curl -s -o /dev/null -w '%{http_code}' -I --cacert "$SK_REGISTRY_CA" -u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD" \
        -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json' \
        "https://$SK_REGISTRY/v2/$1/manifests/$2"
}

# --- the control endpoint ---

# bats test_tags=registry
@test "control endpoint: POST sets rules, GET reports what is left and what was injected, DELETE clears; bad rules are refused" {
    local code
    # refused, with the reason, and nothing changes
    code=$(ctl POST '{"rules":[{"fault":"explode"}]}')
    assert_equal "$code" 400
    grep -q 'fault must be one of' "$BATS_TEST_TMPDIR/ctl.json" || fail "$(cat "$BATS_TEST_TMPDIR/ctl.json")"
    code=$(ctl POST '{"rules":[{"fault":"500","match":{"verb":"GET"}}]}')
    assert_equal "$code" 400
    code=$(ctl POST '{"rules":[{"fault":"500","match":{"kind":"layer"}}]}')
    assert_equal "$code" 400
    code=$(ctl POST '{"rules":[{"fault":"500","rate":2}]}')
    assert_equal "$code" 400
    code=$(ctl POST 'not json')
    assert_equal "$code" 400
    ctl GET >/dev/null
    assert_equal "$(jq -c .rules "$BATS_TEST_TMPDIR/ctl.json")" "[]"

    faults '{"seed":7,"rules":[{"fault":"503","match":{"method":"GET","kind":"ping"},"count":2},
                                {"fault":"throttle-retry-after","match":{"repo":"nope"},"retry_after":4}]}'
    assert_equal "$(jq -c '[.rules[].left]' "$BATS_TEST_TMPDIR/ctl.json")" "[2,null]"
    local auth=(-s --cacert "$SK_REGISTRY_CA" -u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD")
    code=$(curl "${auth[@]}" -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "https://$QUIRKS/v2/")
    assert_equal "$code" 503
    assert_equal "$(jq -r '.errors[0].code' "$BATS_TEST_TMPDIR/body")" UNAVAILABLE
    # a 429 with Retry-After for the repository the second rule names
    curl "${auth[@]}" -o /dev/null -D "$BATS_TEST_TMPDIR/hdrs" -I "https://$QUIRKS/v2/nope/manifests/x"
    grep -qi '^retry-after: 4' "$BATS_TEST_TMPDIR/hdrs" || fail "no Retry-After: $(cat "$BATS_TEST_TMPDIR/hdrs")"
    grep -q ' 429' "$BATS_TEST_TMPDIR/hdrs" || fail "not a 429: $(cat "$BATS_TEST_TMPDIR/hdrs")"
    ctl GET >/dev/null
    jq -e '.rules[0].left == 1 and .requests == 2 and .injected == {"503":1,"throttle-retry-after":1}
           and (.log | length) == 2 and .log[0].fault == "503" and .log[0].match == "GET /v2/"
           and .seed == 7' "$BATS_TEST_TMPDIR/ctl.json" >/dev/null || fail "GET: $(cat "$BATS_TEST_TMPDIR/ctl.json")"
    # the rule's count runs out, then requests pass
    assert_equal "$(curl "${auth[@]}" -o /dev/null -w '%{http_code}' "https://$QUIRKS/v2/")" 503
    assert_equal "$(curl "${auth[@]}" -o /dev/null -w '%{http_code}' "https://$QUIRKS/v2/")" 200
    # the proxy's own port never forwards the control path
    assert_equal "$(curl "${auth[@]}" -o /dev/null -w '%{http_code}' "https://$QUIRKS/shipkit-faults")" 404
    # DELETE clears rules and counters
    assert_equal "$(ctl DELETE)" 200
    jq -e '.rules == [] and .requests == 0 and .injected == {} and .log == []' "$BATS_TEST_TMPDIR/ctl.json" >/dev/null ||
        fail "DELETE: $(cat "$BATS_TEST_TMPDIR/ctl.json")"
    grep -q '^GET /v2/ 503$' "$QLOG" || fail "no log line for the injected 503: $(cat "$QLOG")"
}

# --- transient faults ---

# bats test_tags=registry
@test "transient faults of every kind on every request kind (fewer than the attempts): the push succeeds and every blob verifies" {
    local want f stage rules n=0
    want=$(oci_top "$IMG/oci")
    # Per fault kind, four pushes, each to a new repository (so every blob is uploaded again); each
    # push puts the fault twice on one blob request kind (a blob gets 3 attempts) and twice on the
    # registry check or a manifest request: ping, blob HEAD, upload POST, PATCH, commit PUT,
    # manifest HEAD and manifest PUT all get it twice. "slow" (each costing a 1 s timeout): once on
    # each, in two pushes.
    local stages=(
        '{"kind":"ping"}|{"kind":"blob","method":"HEAD"}'
        '{"kind":"upload","method":"POST"}|{"kind":"manifest","method":"HEAD"}'
        '{"kind":"chunk","method":"PATCH"}|{"kind":"manifest","method":"PUT"}'
        '{"kind":"chunk","method":"PUT"}'
    )
    local slow_stages=(
        '{"kind":"ping"}|{"kind":"blob","method":"HEAD"}|{"kind":"chunk","method":"PUT"}|{"kind":"manifest","method":"HEAD"}'
        '{"kind":"upload","method":"POST"}|{"kind":"chunk","method":"PATCH"}|{"kind":"manifest","method":"PUT"}'
    )
    for f in throttle throttle-retry-after 500 502 503 reset-before reset-during slow; do
        local c=2 list=("${stages[@]}")
        if [[ $f == slow ]]; then
            c=1
            list=("${slow_stages[@]}")
        fi
        for stage in "${list[@]}"; do
            n=$((n + 1))
            rules=$(jq -cn --arg f "$f" --argjson c "$c" --arg s "$stage" \
                '{seed: 1, rules: [$s | split("|")[] | fromjson | {fault: $f, match: ., count: $c, delay: 3, retry_after: 0}]}')
            faults "$rules"
            if [[ $f == slow ]]; then
                ECR_PUSH_STALL_TIMEOUT=1s push 0 "oci:$IMG/oci" "$QUIRKS/$R-$n:t"
            else
                push 0 "oci:$IMG/oci" "$QUIRKS/$R-$n:t"
            fi
            assert_equal "${lines[0]}" "$QUIRKS/$R-$n@$want"
            # every rule was used (a reset-during on the manifest PUT only once: the PUT happened,
            # and the next attempt's HEAD finds it)
            [[ $(ctl GET) == 200 ]] || fail "GET $QCTL failed"
            jq -e '.rules | all(.left < .count)' "$BATS_TEST_TMPDIR/ctl.json" >/dev/null ||
                fail "$f: a rule was never used: $(cat "$BATS_TEST_TMPDIR/ctl.json")"
            verify_pulled "$R-$n:t" "$want"
        done
    done
}

# bats test_tags=registry
@test "a docker-archive (chunked, compressed on the fly) through transient faults on every upload request verifies" {
    local f
    for f in 503 reset-before reset-during drop-mid-upload; do
        faults "{\"rules\":[{\"fault\":\"$f\",\"match\":{\"kind\":\"upload\"},\"count\":1},
                            {\"fault\":\"$f\",\"match\":{\"kind\":\"chunk\",\"method\":\"PATCH\"},\"count\":1},
                            {\"fault\":\"$f\",\"match\":{\"kind\":\"chunk\",\"method\":\"PUT\"},\"count\":1}]}"
        push 0 "docker-archive:$IMG/legacy.tar" "$QUIRKS/$R-$f:t"
        [[ $(injected "$f") -ge 1 ]] || fail "$f was never injected"
        verify_pulled "$R-$f:t" "${lines[0]##*@}"
    done
}

# --- ECR's upload quirks ---

# bats test_tags=registry
@test "an upload dropped mid-body, on a session that refuses a restart: a new session re-sends that blob only" {
    local want n
    want=$(oci_top "$IMG/oci")
    n=$(nblobs "$IMG/oci")
    # the quirk is real: after a failure, the session answers 404 BLOB_UPLOAD_UNKNOWN
    faults '{"rules":[{"fault":"upload-no-restart"},{"fault":"500","match":{"kind":"chunk"},"count":1}]}'
    local auth=(-s --cacert "$SK_REGISTRY_CA" -u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD") loc code
    loc=$(curl "${auth[@]}" -D - -o /dev/null -X POST -H 'Content-Length: 0' "https://$QUIRKS/v2/$R-probe/blobs/uploads/" |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [[ -n $loc ]] || fail "no upload session through the proxy"
    [[ $loc == /* ]] && loc=https://$QUIRKS$loc
    assert_equal "$(curl "${auth[@]}" -o /dev/null -w '%{http_code}' -X PATCH --data-binary abc "$loc")" 500
    code=$(curl "${auth[@]}" -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' -X PATCH --data-binary abc "$loc")
    assert_equal "$code" 404
    assert_equal "$(jq -r '.errors[0].code' "$BATS_TEST_TMPDIR/body")" BLOB_UPLOAD_UNKNOWN

    # ecr-push: one PATCH is cut half-way (the first half reaches the session), the session then
    # refuses everything; the blob goes again in a new session, the others once.
    faults '{"rules":[{"fault":"upload-no-restart"},{"fault":"drop-mid-upload","count":1}]}'
    local mark
    mark=$(qlog_mark)
    push 0 --jobs 1 "oci:$IMG/oci" "$QUIRKS/$R:t"
    assert_equal "${lines[0]}" "$QUIRKS/$R@$want"
    assert_equal "$(qcount "$mark" "^PATCH /v2/$R/blobs/uploads/[^ ]+ DROP$")" 1
    assert_equal "$(qcount "$mark" "^POST /v2/$R/blobs/uploads/ 202$")" "$((n + 1))"
    assert_equal "$(qcount "$mark" "^PATCH /v2/$R/blobs/uploads/[^ ]+ 202$")" "$n"
    assert_equal "$(qcount "$mark" "^PUT /v2/$R/blobs/uploads/[^ ]+ 201$")" "$n"
    # the dropped session was given up (its DELETE refused as ECR would), never resumed
    assert_equal "$(qcount "$mark" "^DELETE /v2/$R/blobs/uploads/[^ ]+ 404$")" 1
    assert_equal "$(injected upload-no-restart)" 1
    verify_pulled "$R:t" "$want"
}

# bats test_tags=registry
@test "a blob commit and a manifest PUT that happen but whose answers are lost: the retry finds them and writes nothing twice" {
    local want n mark
    want=$(oci_top "$IMG/oci")
    n=$(nblobs "$IMG/oci")
    faults '{"rules":[{"fault":"reset-during","match":{"kind":"chunk","method":"PUT"},"count":1},
                      {"fault":"reset-during","match":{"kind":"manifest","method":"PUT"},"count":1}]}'
    push 0 --jobs 1 "oci:$IMG/oci" "$QUIRKS/$R:t"
    assert_equal "${lines[0]}" "$QUIRKS/$R@$want"
    assert_equal "$(qcount 0 "^PUT /v2/$R/blobs/uploads/[^ ]+ 201\+RST$")" 1
    # every blob's bytes went once: the cut one was found by HEAD
    assert_equal "$(qcount 0 "^PATCH /v2/$R/blobs/uploads/")" "$n"
    assert_equal "$(qcount 0 "^HEAD /v2/$R/blobs/sha256:$HEX64 200$")" 1
    assert_equal "$(qlog_since 0 | grep "/manifests/t ")" "HEAD /v2/$R/manifests/t 404
PUT /v2/$R/manifests/t 201+RST
HEAD /v2/$R/manifests/t 200"
    verify_pulled "$R:t" "$want"

    # a docker-archive layer too: compressed again to the same bytes, its digest HEADed, not re-sent
    faults '{"rules":[{"fault":"reset-during","match":{"kind":"chunk","method":"PUT"},"count":1}]}'
    mark=$(qlog_mark)
    push 0 --jobs 1 "docker-archive:$IMG/legacy.tar" "$QUIRKS/$R-legacy:t"
    assert_equal "$(qcount "$mark" "^PUT /v2/$R-legacy/blobs/uploads/[^ ]+ 201\+RST$")" 1
    assert_equal "$(qcount "$mark" "^HEAD /v2/$R-legacy/blobs/sha256:$HEX64 200$")" 1
    assert_equal "$(qcount "$mark" "^PATCH ")" "$(qcount "$mark" "^PUT /v2/$R-legacy/blobs/uploads/[^ ]+ 201(\+RST)?$")"
    verify_pulled "$R-legacy:t" "${lines[0]##*@}"
}

# bats test_tags=registry
@test "a multi-platform index through manifest faults: children by digest before the tag, all verified" {
    local want
    want=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "multi") | .digest' \
        "$IMG/multi/index.json")
    faults '{"rules":[{"fault":"503","match":{"kind":"manifest","method":"PUT","path_regex":"/manifests/sha256:"},"count":2},
                      {"fault":"reset-during","match":{"kind":"manifest","method":"PUT","path_regex":"/manifests/m$"},"count":1},
                      {"fault":"reset-before","match":{"kind":"manifest","method":"HEAD"},"count":2}]}'
    push 0 "oci:$IMG/multi:multi" "$QUIRKS/$R:m"
    assert_equal "${lines[0]}" "$QUIRKS/$R@$want"
    [[ $(ctl GET) == 200 ]] || fail "GET $QCTL failed"
    jq -e '.rules | all(.left == 0)' "$BATS_TEST_TMPDIR/ctl.json" >/dev/null ||
        fail "a fault was not injected: $(cat "$BATS_TEST_TMPDIR/ctl.json")"
    # the tag was written once, after both children
    local puts
    puts=$(qlog_since 0 | grep "^PUT /v2/$R/manifests/")
    assert_equal "$(grep -cE "/manifests/sha256:$HEX64 201$" <<<"$puts")" 2
    assert_equal "$(tail -n 1 <<<"$puts")" "PUT /v2/$R/manifests/m 201+RST"
    rm -rf "$BATS_TEST_TMPDIR/back"
    skopeo_ref copy -q --all "docker://$SK_REGISTRY/$R:m" "oci:$BATS_TEST_TMPDIR/back:m" >/dev/null ||
        fail "skopeo could not copy the index and its images out"
}

# --- persistent faults ---

# bats test_tags=registry
@test "persistent faults: exit 5 for the network, 4 for the registry's errors, one line naming what failed, and no tag" {
    local layer
    layer=$(jq -r '.layers[1].digest' "$IMG/oci/blobs/sha256/$(oci_top "$IMG/oci" | cut -d: -f2)")
    # fault|match|exit|text in the message
    local cases=(
        "500|{\"kind\":\"ping\"}|4|registry check: UNKNOWN"
        "reset-before|{\"kind\":\"ping\"}|5|registry check at $QUIRKS"
        "throttle|{\"kind\":\"blob\"}|4|TOOMANYREQUESTS"
        "slow|{\"kind\":\"blob\"}|5|timed out"
        "503|{\"kind\":\"upload\"}|4|UNAVAILABLE"
        "reset-during|{\"kind\":\"upload\"}|5|starting an upload"
        "drop-mid-upload|{\"kind\":\"chunk\"}|5|blob sha256:"
        "502|{\"kind\":\"chunk\",\"method\":\"PUT\",\"path_regex\":\"digest=$layer\"}|4|blob $layer to $R"
        "reset-before|{\"kind\":\"manifest\"}|5|$R-9:t"
        "throttle-retry-after|{\"kind\":\"manifest\",\"method\":\"PUT\"}|4|TOOMANYREQUESTS"
    )
    local ci=0 c f m want text
    for c in "${cases[@]}"; do
        ci=$((ci + 1))
        IFS='|' read -r f m want text <<<"$c"
        faults "{\"rules\":[{\"fault\":\"$f\",\"match\":$m,\"delay\":3,\"retry_after\":0}]}"
        if [[ $f == slow ]]; then
            ECR_PUSH_STALL_TIMEOUT=1s push "$want" "oci:$IMG/oci" "$QUIRKS/$R-$ci:t"
        else
            push "$want" "oci:$IMG/oci" "$QUIRKS/$R-$ci:t"
        fi
        assert_error_line ecr-push "$text"
        assert_output ""
        [[ ${stderr_lines[0]} == *"gave up after"* ]] || fail "$f on $m: the message does not say it retried: $stderr"
        faults '{"rules":[]}'
        assert_equal "$(tag_status "$R-$ci" t)" 404
    done
}

# bats test_tags=registry
@test "after a failed push, pushing again sends only the blobs that are missing" {
    local want n layer
    want=$(oci_top "$IMG/oci")
    n=$(nblobs "$IMG/oci")
    layer=$(jq -r '.layers[2].digest' "$IMG/oci/blobs/sha256/${want#sha256:}")
    faults "{\"rules\":[{\"fault\":\"500\",\"match\":{\"kind\":\"chunk\",\"method\":\"PUT\",\"path_regex\":\"digest=$layer\"}}]}"
    # (unscaled waits, up to 1 s and 2 s: the other blobs are surely in before it gives up)
    SK_RETRY_SCALE=1 push 4 "oci:$IMG/oci" "$QUIRKS/$R:t"
    assert_error_line ecr-push "$layer"
    assert_equal "$(tag_status "$R" t)" 404
    local mark
    faults '{"rules":[]}'
    mark=$(qlog_mark)
    push 0 "oci:$IMG/oci" "$QUIRKS/$R:t"
    assert_equal "${lines[0]}" "$QUIRKS/$R@$want"
    assert_equal "$(qcount "$mark" "^PATCH ")" 1
    assert_equal "$(qlog_since "$mark" | grep -c "^PUT /v2/$R/blobs/uploads/[^ ]* 201$")" 1
    grep -q "^PUT /v2/$R/blobs/uploads/[^ ]*digest=$layer 201$" <(tail -n +"$((mark + 1))" "$QLOG") ||
        fail "the blob sent again is not $layer: $(qlog_since "$mark")"
    assert_equal "$(qcount "$mark" "^HEAD /v2/$R/blobs/sha256:$HEX64 200$")" "$((n - 1))"
    verify_pulled "$R:t" "$want"
}

# --- manifests: immutable tags, throttling ---

# bats test_tags=registry
@test "immutable tag at runtime: the same image succeeds without a PUT even when HEAD fails twice first; another image exits 4 TAG_INVALID" {
    local want mark
    want=$(oci_top "$IMG/oci")
    faults '{"rules":[{"fault":"immutable"}]}'
    push 0 "oci:$IMG/oci" "$QUIRKS/$R:v1"
    # Regression: a HEAD that failed (503) before the PUT's TAG_INVALID was taken as "another image".
    faults '{"rules":[{"fault":"503","match":{"kind":"manifest","method":"HEAD"},"count":2},{"fault":"immutable"}]}'
    mark=$(qlog_mark)
    push 0 "oci:$IMG/oci" "$QUIRKS/$R:v1"
    assert_equal "${lines[0]}" "$QUIRKS/$R@$want"
    assert_equal "$(qcount "$mark" "^PUT /v2/$R/manifests/")" 0
    assert_equal "$(qcount "$mark" "^HEAD /v2/$R/manifests/v1 200$")" 1
    # another image to that tag
    mark=$(qlog_mark)
    push 4 "oci:$IMG/oci-two:a" "$QUIRKS/$R:v1"
    assert_error_line ecr-push "TAG_INVALID"
    [[ ${stderr_lines[0]} == *"'v1'"*immutable* ]] || fail "$stderr"
    assert_equal "$(qcount "$mark" "^PUT /v2/$R/manifests/v1 400$")" 1
    verify_pulled "$R:v1" "$want"
}

# bats test_tags=registry
@test "429 on the manifest PUT: retried after our backoff without Retry-After, after Retry-After when sent; on blobs and with 503 too" {
    local want t0 t1
    want=$(oci_top "$IMG/oci")
    faults '{"rules":[{"fault":"throttle","match":{"kind":"manifest","method":"PUT"},"count":3}]}'
    push 0 "oci:$IMG/oci" "$QUIRKS/$R:a"
    assert_equal "$(qcount 0 "^PUT /v2/$R/manifests/a 429$")" 3
    verify_pulled "$R:a" "$want"
    # our own waits are scaled down to under 50 ms here: only Retry-After explains 2 s each
    faults '{"rules":[{"fault":"throttle-retry-after","match":{"kind":"manifest","method":"PUT"},"count":1,"retry_after":2}]}'
    t0=$(now_ms)
    push 0 "oci:$IMG/oci" "$QUIRKS/$R:b"
    t1=$(now_ms)
    ((t1 - t0 >= 2000)) || fail "Retry-After: 2, yet the push took $((t1 - t0)) ms"
    verify_pulled "$R:b" "$want"
    # Retry-After on a PATCH survives the session's cancellation (DELETE) and is honoured
    faults '{"rules":[{"fault":"throttle-retry-after","match":{"kind":"chunk","method":"PATCH"},"count":1,"retry_after":2}]}'
    t0=$(now_ms)
    push 0 "oci:$IMG/oci" "$QUIRKS/$R-blob:t"
    t1=$(now_ms)
    ((t1 - t0 >= 2000)) || fail "Retry-After: 2 on a PATCH, yet the push took $((t1 - t0)) ms"
    verify_pulled "$R-blob:t" "$want"
    # and on a 503 (ECR throttled with 503 before it used 429)
    faults '{"rules":[{"fault":"503","match":{"kind":"manifest","method":"PUT"},"count":1,"retry_after":2}]}'
    t0=$(now_ms)
    push 0 "oci:$IMG/oci" "$QUIRKS/$R:c"
    t1=$(now_ms)
    ((t1 - t0 >= 2000)) || fail "503 with Retry-After: 2, yet the push took $((t1 - t0)) ms"
    assert_equal "$(qcount 0 "^PUT /v2/$R/manifests/c 503$")" 1
    verify_pulled "$R:c" "$want"
}

# --- slow answers ---

# bats test_tags=registry
@test "a stalled request is abandoned after ECR_PUSH_STALL_TIMEOUT and retried; a bad value exits 2" {
    local want t0 t1
    want=$(oci_top "$IMG/oci")
    # one PATCH and one manifest PUT answer only after 4 s; the push does not wait for them
    faults '{"rules":[{"fault":"slow","match":{"kind":"chunk","method":"PATCH"},"count":1,"delay":4},
                      {"fault":"slow","match":{"kind":"manifest","method":"PUT"},"count":1,"delay":4}]}'
    t0=$(now_ms)
    ECR_PUSH_STALL_TIMEOUT=1s push 0 "oci:$IMG/oci" "$QUIRKS/$R:t"
    t1=$(now_ms)
    assert_equal "$(injected slow)" 2
    ((t1 - t0 < 7000)) || fail "the push waited for the slow answers: $((t1 - t0)) ms"
    verify_pulled "$R:t" "$want"
    ECR_PUSH_STALL_TIMEOUT=soon push 2 "oci:$IMG/oci" "$QUIRKS/$R:t"
    assert_error_line ecr-push ECR_PUSH_STALL_TIMEOUT
}
