#!/usr/bin/env bats
# shellcheck disable=SC2154 # status/output/stderr/stderr_lines come from bats' run
# ecr-push against ECR's deviations from the OCI distribution spec, which the stack's
# docker-registry 2.8.2 does not reproduce (docs/fault-injection.md, "ECR's quirks"). Each test puts
# tests/stack/registry/ecr_quirks.py (a TLS reverse proxy, the stack's certificate) in front of the
# stack registry with the quirks it needs, pushes through it ($QUIRKS/REPO:TAG) and reads the
# result back from the real registry with skopeo. The proxy logs one "METHOD PATH STATUS" line per
# request ($QLOG; STATUS is EOF when it answered nothing).

load helpers/common
load helpers/registry
load helpers/quirks

HEX64='[0-9a-f]{64}'
EMPTY_SHA=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

setup_file() {
    make_images
    # oci-empty-layer: the oci fixture plus a zero-length uncompressed layer (sha256 of nothing,
    # size 0), its diff_id in the config; config, manifest and index.json re-hashed.
    python3 - "$BATS_FILE_TMPDIR/img/oci" "$BATS_FILE_TMPDIR/img/oci-empty-layer" <<'EOF'
import hashlib, json, os, shutil, sys
src, dst = sys.argv[1:3]
shutil.copytree(src, dst)
blobs = os.path.join(dst, "blobs", "sha256")
def put(b):
    h = hashlib.sha256(b).hexdigest()
    with open(os.path.join(blobs, h), "wb") as f:
        f.write(b)
    return "sha256:" + h
def get(d):
    with open(os.path.join(blobs, d.split(":", 1)[1]), "rb") as f:
        return json.load(f)
dump = lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")).encode()
index = json.load(open(os.path.join(dst, "index.json")))
man = get(index["manifests"][0]["digest"])
cfg = get(man["config"]["digest"])
empty = put(b"")
cfg["rootfs"]["diff_ids"].append(empty)
cb = dump(cfg)
man["config"]["digest"], man["config"]["size"] = put(cb), len(cb)
man["layers"].append({"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": empty, "size": 0})
mb = dump(man)
index["manifests"][0]["digest"], index["manifests"][0]["size"] = put(mb), len(mb)
with open(os.path.join(dst, "index.json"), "wb") as f:
    f.write(dump(index))
EOF
}

setup() {
    need_tool ecr-push
    use_registry
    [[ -d $BATS_FILE_TMPDIR/img/oci ]] || fail "make-images wrote no fixtures in $BATS_FILE_TMPDIR/img"
    IMG=$BATS_FILE_TMPDIR/img
    R=shipkit/$(unique)
    CA_DIR=$(dirname "$SK_REGISTRY_CA")
    QUIRKS=
    QLOG=$BATS_TEST_TMPDIR/quirks.log
}

# common.bash's teardown (the crash check), after stopping what this file's tests started.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    stop_extra
    common_teardown
}

# --- helpers ---

# push STATUS ARGS...: run ecr-push with stdout and stderr apart; it must exit STATUS exactly.
push() {
    local want=$1
    shift
    run "-$want" --separate-stderr ecr-push "$@"
}

# raw REF: the manifest bytes skopeo reads for REPO:TAG in the stack registry (not the proxy).
raw() {
    skopeo_ref inspect --raw "docker://$SK_REGISTRY/$1"
}

# remote_digest REF: sha256 of the manifest bytes skopeo reads back.
remote_digest() {
    local out
    out=$(raw "$1") || fail "skopeo cannot read $SK_REGISTRY/$1"
    printf 'sha256:%s\n' "$(printf '%s' "$out" | sha256sum | cut -d' ' -f1)"
}

# oci_ref DIR REF: the digest index.json names REF.
oci_ref() {
    jq -r --arg r "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .digest' \
        "$1/index.json"
}

# assert_pushed REGISTRY DIGEST: stdout is the one line REGISTRY/$R@DIGEST.
assert_pushed() {
    [[ ${#lines[@]} -eq 1 ]] || fail "expected one stdout line, got ${#lines[@]}: $output"
    assert_equal "${lines[0]}" "$1/$R@$2"
}

# refute_tag REPO TAG: the stack registry has no manifest for REPO:TAG.
refute_tag() {
    if raw "$1:$2" >/dev/null 2>&1; then
        fail "$1:$2 exists in the registry after a failed push"
    fi
}

# manifest_puts MARK TAG: the proxy's manifest PUT lines for $R:TAG after MARK.
manifest_puts() {
    qlog_since "$1" | grep "^PUT /v2/$R/manifests/$2 " || true
}

# --- the proxy itself ---

# bats test_tags=registry
@test "the proxy is transparent without quirks, and rewrites absolute upload Locations to itself" {
    local dir2=$BATS_TEST_TMPDIR/registry2 out port2
    out=$("$REPO/tests/stack/registry/start" "$dir2" "$CA_DIR" --absolute-urls) || fail "could not start a second registry"
    EXTRA+=("$dir2")
    port2=${out% *}
    start_quirks --upstream "127.0.0.1:$port2"
    push 0 -q "oci:$IMG/oci" "$QUIRKS/$R:abs"
    assert_pushed "$QUIRKS" "$(oci_top "$IMG/oci")"
    # Every upload went through the proxy: had a Location still named the upstream, the PATCH and
    # the commit PUT would have gone straight there.
    local reqs
    reqs=$(qlog_since 0)
    assert_equal "$(grep -c "^PATCH /v2/$R/blobs/uploads/[^ ]* 202$" <<<"$reqs")" 5
    assert_equal "$(grep -c "^PUT /v2/$R/blobs/uploads/[^ ]* 201$" <<<"$reqs")" 5
    assert_equal "$(manifest_puts 0 abs)" "PUT /v2/$R/manifests/abs 201"
    local got
    got=$(skopeo --insecure-policy inspect --raw --creds "AWS:$SK_REGISTRY_PASSWORD" --cert-dir "$SK_REGISTRY_CERT_DIR" \
        "docker://127.0.0.1:$port2/$R:abs" | sha256sum | cut -d' ' -f1)
    assert_equal "sha256:$got" "$(oci_top "$IMG/oci")"
}

# --- PATCH answered 201 ---

# bats test_tags=registry
@test "PATCH answered 201 (ECR) instead of 202: OCI layout and docker-archive (chunked) push fine" {
    start_quirks --patch-201 --reject-empty-blob
    push 0 -q "oci:$IMG/oci" "$QUIRKS/$R:oci"
    assert_pushed "$QUIRKS" "$(oci_top "$IMG/oci")"
    push 0 -q "docker-archive:$IMG/legacy.tar" "$QUIRKS/$R:legacy"
    local legacy=${lines[0]##*@}
    # the proxy did answer 201 to each PATCH, and no empty blob was ever committed
    local reqs
    reqs=$(qlog_since 0)
    [[ $(grep -c "^PATCH .* 201$" <<<"$reqs") -ge 8 ]] || fail "expected >= 8 PATCHes answered 201:"$'\n'"$reqs"
    if grep -E '^PATCH .* 20[24]$' <<<"$reqs"; then
        fail "a PATCH was not answered 201"
    fi
    # nothing failed but the HEADs that find no blob or tag yet
    if grep -vE '^[A-Z]+ [^ ]+ 20[0-9]$|^HEAD [^ ]+ 404$' <<<"$reqs"; then
        fail "a request through the proxy failed"
    fi
    # the flags are rules on the control endpoint, and they were used
    curl -s --cacert "$SK_REGISTRY_CA" -o "$BATS_TEST_TMPDIR/ctl.json" "$QCTL" || fail "GET $QCTL failed"
    jq -e '[.rules[].fault] == ["patch-201", "reject-empty-blob"] and .injected["patch-201"] >= 8' \
        "$BATS_TEST_TMPDIR/ctl.json" >/dev/null || fail "control endpoint: $(cat "$BATS_TEST_TMPDIR/ctl.json")"
    # read back from the real registry; skopeo checks every blob digest on the way
    assert_equal "$(remote_digest "$R:oci")" "$(oci_top "$IMG/oci")"
    assert_equal "$(remote_digest "$R:legacy")" "$legacy"
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:oci" "oci:$BATS_TEST_TMPDIR/back:oci"
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:legacy" "dir:$BATS_TEST_TMPDIR/back-legacy"
}

# --- 429 on the manifest PUT ---

# bats test_tags=registry
@test "two 429 TOOMANYREQUESTS on the manifest PUT are retried after Retry-After: 1 and succeed" {
    start_quirks --manifest-429 2
    local t0 t1
    t0=$(now_ms)
    push 0 -q "oci:$IMG/oci" "$QUIRKS/$R:rl"
    t1=$(now_ms)
    assert_pushed "$QUIRKS" "$(oci_top "$IMG/oci")"
    ((t1 - t0 >= 2000)) || fail "two Retry-After: 1 waits, yet the push took $((t1 - t0)) ms"
    assert_equal "$(manifest_puts 0 rl)" "PUT /v2/$R/manifests/rl 429
PUT /v2/$R/manifests/rl 429
PUT /v2/$R/manifests/rl 201"
    assert_equal "$(remote_digest "$R:rl")" "$(oci_top "$IMG/oci")"
}

# bats test_tags=registry
@test "Retry-After is honoured, not just any backoff: one 429 with Retry-After: 3 waits >= 3 s" {
    # ecr-push's own first backoff is 1 s: only Retry-After explains a 3 s wait.
    start_quirks --manifest-429 1 --retry-after 3
    local t0 t1
    t0=$(now_ms)
    push 0 -q "oci:$IMG/oci" "$QUIRKS/$R:ra"
    t1=$(now_ms)
    ((t1 - t0 >= 3000)) || fail "Retry-After: 3, yet the push took $((t1 - t0)) ms"
    assert_equal "$(manifest_puts 0 ra)" "PUT /v2/$R/manifests/ra 429
PUT /v2/$R/manifests/ra 201"
    assert_equal "$(remote_digest "$R:ra")" "$(oci_top "$IMG/oci")"
}

# --- immutable tags ---

# bats test_tags=registry
@test "immutable repository: the same image to an existing tag succeeds without a PUT; another image exits 4" {
    start_quirks --immutable
    local want mark
    want=$(oci_top "$IMG/oci")
    push 0 -q "oci:$IMG/oci" "$QUIRKS/$R:v1"
    assert_pushed "$QUIRKS" "$want"
    assert_equal "$(manifest_puts 0 v1)" "PUT /v2/$R/manifests/v1 201"
    # The same image again: ECR would refuse a PUT even for the same digest, so ecr-push must HEAD
    # the tag, see its digest and write nothing.
    mark=$(qlog_mark)
    push 0 -q "oci:$IMG/oci" "$QUIRKS/$R:v1"
    assert_pushed "$QUIRKS" "$want"
    assert_equal "$(manifest_puts "$mark" v1)" ""
    qlog_since "$mark" | grep -q "^HEAD /v2/$R/manifests/v1 200$" || fail "no HEAD of the tag:"$'\n'"$(qlog_since "$mark")"
    # the quirk is real: a PUT of that same manifest to the tag is refused
    local code
    code=$(curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' --cacert "$SK_REGISTRY_CA" \
        -u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD" -X PUT -H "Content-Type: application/vnd.oci.image.manifest.v1+json" \
        --data-binary "@$IMG/oci/blobs/sha256/${want#sha256:}" "https://$QUIRKS/v2/$R/manifests/v1")
    assert_equal "$code" 400
    assert_equal "$(jq -r '.errors[0].code' "$BATS_TEST_TMPDIR/body")" TAG_INVALID
    # A different image to that tag: refused; one clear line naming the tag and immutability.
    mark=$(qlog_mark)
    push 4 -q "oci:$IMG/oci-two:a" "$QUIRKS/$R:v1"
    assert_error_line ecr-push "'v1'"
    [[ ${stderr_lines[0]} == *immutable* ]] || fail "stderr does not mention immutability: $stderr"
    assert_output ""
    assert_equal "$(manifest_puts "$mark" v1)" "PUT /v2/$R/manifests/v1 400"
    # the tag still names the first image
    assert_equal "$(remote_digest "$R:v1")" "$want"
}

# bats test_tags=registry
@test "immutable repository, index with 429 and PATCH 201 too: children go by digest; a re-push writes nothing" {
    start_quirks --immutable --manifest-429 1 --patch-201 --reject-empty-blob
    local want mark
    want=$(oci_ref "$IMG/multi" multi)
    push 0 -q "oci:$IMG/multi" "$QUIRKS/$R:multi"
    assert_pushed "$QUIRKS" "$want"
    # two children by digest, then the tag; the first manifest PUT got the 429
    local puts
    puts=$(qlog_since 0 | grep "^PUT /v2/$R/manifests/")
    assert_equal "$(grep -cE "^PUT /v2/$R/manifests/sha256:$HEX64 201$" <<<"$puts")" 2
    assert_equal "$(grep -c " 429$" <<<"$puts")" 1
    assert_equal "$(tail -n 1 <<<"$puts")" "PUT /v2/$R/manifests/multi 201"
    mark=$(qlog_mark)
    push 0 -q "oci:$IMG/multi" "$QUIRKS/$R:multi"
    assert_pushed "$QUIRKS" "$want"
    if qlog_since "$mark" | grep -E '^(POST|PATCH|PUT|DELETE) '; then
        fail "the re-push wrote through the proxy"
    fi
    assert_equal "$(remote_digest "$R:multi")" "$want"
    run -0 skopeo_ref copy --all "docker://$SK_REGISTRY/$R:multi" "oci:$BATS_TEST_TMPDIR/back:multi"
}

# --- a missing repository: ECR ends the connection ---

# bats test_tags=registry
@test "POST answered with EOF (ECR, missing repository): exit 5, one line, no manifest written" {
    start_quirks --eof-on-post "$R"
    local t0 t1
    t0=$(now_ms)
    push 5 -q "oci:$IMG/oci" "$QUIRKS/$R:t"
    t1=$(now_ms)
    assert_error_line ecr-push
    assert_output ""
    ((t1 - t0 < 60000)) || fail "took $((t1 - t0)) ms to give up"
    local reqs
    reqs=$(qlog_since 0)
    grep -q "^POST /v2/$R/blobs/uploads/ EOF$" <<<"$reqs" || fail "the proxy never cut a POST:"$'\n'"$reqs"
    if grep -E "^(PATCH|PUT) " <<<"$reqs"; then
        fail "something was written after the POST failed"
    fi
    refute_tag "$R" t
}

# --- the registry reports a different blob digest ---

# bats test_tags=registry
@test "blob commit answered with a wrong Docker-Content-Digest: exit 4, one line, no manifest written" {
    start_quirks --bad-blob-digest
    push 4 -q "oci:$IMG/oci" "$QUIRKS/$R:t"
    assert_error_line ecr-push
    assert_output ""
    # the message names the digest ecr-push sent (one of the image's blobs)
    [[ ${stderr_lines[0]} =~ sha256:$HEX64 ]] || fail "no digest in the message: $stderr"
    local d found=''
    while read -r d; do
        if [[ -f $IMG/oci/blobs/sha256/${d#sha256:} ]]; then
            found=1
        fi
    done < <(grep -oE "sha256:$HEX64" <<<"${stderr_lines[0]}")
    [[ -n $found ]] || fail "the message names none of the image's blobs: $stderr"
    assert_equal "$(qlog_since 0 | grep -c "^PUT /v2/$R/manifests/" || true)" 0
    refute_tag "$R" t
}

# --- zero-length blobs ---

# bats test_tags=registry
@test "a zero-length layer: ecr-push refuses it itself (exit 2) before any request, as ECR would reject it" {
    local top
    top=$(oci_top "$IMG/oci-empty-layer")
    jq -e --arg e "sha256:$EMPTY_SHA" '.layers | any(.digest == $e and .size == 0)' \
        "$IMG/oci-empty-layer/blobs/sha256/${top#sha256:}" >/dev/null || fail "the fixture has no empty layer"
    start_quirks --reject-empty-blob
    # the quirk is real: committing an empty upload through the proxy is refused like ECR does
    local loc code auth=(-u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD" --cacert "$SK_REGISTRY_CA")
    loc=$(curl -s -D - -o /dev/null "${auth[@]}" -X POST -H 'Content-Length: 0' "https://$QUIRKS/v2/$R-probe/blobs/uploads/" |
        tr -d '\r' | sed -n 's/^[Ll]ocation: //p')
    [[ -n $loc ]] || fail "no upload session through the proxy"
    [[ $loc == /* ]] && loc=https://$QUIRKS$loc
    code=$(curl -s -o "$BATS_TEST_TMPDIR/body" -w '%{http_code}' "${auth[@]}" -X PUT -H 'Content-Length: 0' \
        "$loc&digest=sha256:$EMPTY_SHA")
    assert_equal "$code" 400
    assert_equal "$(jq -r '.errors[0].code' "$BATS_TEST_TMPDIR/body")" BLOB_UPLOAD_INVALID
    grep -q 'does not have any parts' "$BATS_TEST_TMPDIR/body" || fail "not ECR's message: $(cat "$BATS_TEST_TMPDIR/body")"
    # ecr-push never gets that far: it refuses the image before writing anything
    local mark
    mark=$(qlog_mark)
    push 2 -q "oci:$IMG/oci-empty-layer" "$QUIRKS/$R:t"
    assert_error_line ecr-push "$EMPTY_SHA"
    assert_output ""
    if qlog_since "$mark" | grep -E '^(POST|PATCH|PUT|DELETE) '; then
        fail "ecr-push wrote to the registry before refusing the empty layer"
    fi
    refute_tag "$R" t
}
