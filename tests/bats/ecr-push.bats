#!/usr/bin/env bats
# ecr-push: push OCI layouts, oci-archives and docker-archives (docker save) to ECR without a
# daemon. Checked against the stack's docker-registry (TLS, htpasswd user AWS with moto's ECR
# token password), which is also moto's ECR proxyEndpoint, and read back with skopeo.
#
# Fixtures: tests/fixtures/make-images, generated once per file into $BATS_FILE_TMPDIR/img.
# Registry traffic is checked in the registry's access log ($SK_REGISTRY_LOG, one combined-log
# line per request) and GetAuthorizationToken calls in moto's log ($SK_MOTO_LOG, one
# "moto_plus: ecr GetAuthorizationToken" line per call).

load helpers/common
load helpers/registry

HEX64='[0-9a-f]{64}'
# A second registry a test starts (and teardown stops): see start_registry.
EXTRA=()

setup_file() {
    make_images
}

setup() {
    need_tool ecr-push
    use_registry
    [[ -d $BATS_FILE_TMPDIR/img/oci ]] || fail "make-images wrote no fixtures in $BATS_FILE_TMPDIR/img"
    IMG=$BATS_FILE_TMPDIR/img
    R=shipkit/$(unique)
    CA_DIR=$(dirname "$SK_REGISTRY_CA")
}

# common.bash's teardown (the crash check), after stopping what this file's tests started.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    local x
    for x in "${EXTRA[@]}"; do
        if [[ $x =~ ^[0-9]+$ ]]; then
            kill "$x" 2>/dev/null || true
        else
            "$REPO/tests/stack/registry/stop" "$x" >/dev/null || true
        fi
    done
    common_teardown
}

# --- helpers ---

# push ARGS...: run ecr-push with stdout and stderr apart.
push() {
    run --separate-stderr ecr-push "$@"
    refute_crash
}

# log_mark: the current length of the registry's log; requests_since MARK: the access-log request
# lines ("METHOD /path") written after MARK.
log_mark() {
    wc -l <"$SK_REGISTRY_LOG"
}
requests_since() {
    tail -n +"$(($1 + 1))" "$SK_REGISTRY_LOG" | sed -n 's/^[^"]*"\([A-Z]*\) \([^ ]*\) HTTP[^"]*" \([0-9]*\) .*/\1 \2 \3/p'
}

# token_patterns: the ECR token and its password, as grep -f patterns (never on grep's argv, where
# the secret-hygiene watcher would rightly see them).
token_patterns() {
    printf '%s\n' 'QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu|123456789012-auth-token'
}

# token_calls: GetAuthorizationToken calls moto has served so far.
token_calls() {
    grep -c 'moto_plus: ecr GetAuthorizationToken' "$SK_MOTO_LOG" || true
}

# raw REF: the manifest bytes skopeo reads for REPO:TAG in the stack registry.
raw() {
    skopeo_ref inspect --raw "docker://$SK_REGISTRY/$1"
}

# remote_digest REF: sha256 of the manifest bytes skopeo reads back.
remote_digest() {
    local out
    out=$(raw "$1") || fail "skopeo cannot read $SK_REGISTRY/$1"
    printf 'sha256:%s\n' "$(printf '%s' "$out" | sha256sum | cut -d' ' -f1)"
}

# blob_hex DIR DIGEST: the path of a blob in an OCI layout.
blob() {
    echo "$1/blobs/sha256/${2#sha256:}"
}

# oci_top DIR: the digest of the single manifest (or index) index.json points at.
oci_top() {
    jq -r '.manifests[0].digest' "$1/index.json"
}

# oci_ref DIR REF: the digest index.json names REF.
oci_ref() {
    jq -r --arg r "$2" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == $r) | .digest' \
        "$1/index.json"
}

# pushed_digest: the digest in the single stdout line of the last push.
pushed_digest() {
    [[ ${#lines[@]} -eq 1 ]] || fail "expected one stdout line, got ${#lines[@]}: $output"
    echo "${lines[0]##*@}"
}

# assert_result_line N REGISTRY REPO: stdout line N is REGISTRY/REPO@sha256:<hex>.
assert_result_line() {
    [[ ${lines[$1]:-} =~ ^"$2/$3"@sha256:$HEX64$ ]] ||
        fail "stdout line $1 is not '$2/$3@sha256:<hex>': '${lines[$1]:-}' (stdout: $output)"
}

# refute_written REPO [TAG]: the registry holds no manifest for REPO:TAG and got no manifest PUT
# for REPO since MARK (the test's $MARK).
refute_written() {
    local repo=$1 tag=${2:-latest}
    if raw "$repo:$tag" >/dev/null 2>&1; then
        fail "$repo:$tag exists in the registry after a failed push"
    fi
    local puts
    puts=$(requests_since "${MARK:-0}" | grep "^PUT /v2/$repo/manifests/" || true)
    [[ -z $puts ]] || fail "manifests were written for $repo:"$'\n'"$puts"
}

# assert_bad_input ARGS...: ecr-push -q ARGS... exits 2 with one stderr line and writes nothing to
# $R. (-q: without it, progress lines for blobs uploaded before the error may precede the error.)
assert_bad_input() {
    MARK=$(log_mark)
    push -q "$@"
    [[ $status -eq 2 ]] || fail "expected exit 2, got $status; stderr: $stderr"
    assert_error_line ecr-push
    assert_output ""
    refute_written "$R" "${TAG:-t}"
}

# start_registry ARGS...: a second registry (tests/stack/registry/start ARGS) with the stack's
# certificates; sets PORT2 and DIR2. Teardown stops it.
start_registry() {
    DIR2=$BATS_TEST_TMPDIR/registry2.$RANDOM
    local out
    out=$("$REPO/tests/stack/registry/start" "$DIR2" "$CA_DIR" "$@") || fail "could not start a second registry"
    EXTRA+=("$DIR2")
    PORT2=${out% *}
}

# layer digests of a pushed manifest, one a line
remote_layers() {
    raw "$1" | jq -r '.layers[].digest'
}

# registry_has_blob REPO DIGEST: HEAD the blob in the stack registry.
registry_has_blob() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$SK_REGISTRY_CA" \
        -u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD" -I "https://$SK_REGISTRY/v2/$1/blobs/$2")
    [[ $code == 200 ]]
}

# docker_config ARCHIVE: the config file of a docker-archive (manifest.json's Config), raw bytes.
docker_config() {
    tar -xOf "$1" "$(tar -xOf "$1" manifest.json | jq -r '.[0].Config')"
}

# --- OCI sources ---

@test "oci:DIR pushes to the proxyEndpoint registry; digest and layers are the source's" {
    push "oci:$IMG/oci" "$R:v1"
    assert_success
    assert_result_line 0 "$SK_REGISTRY" "$R"
    [[ ${#lines[@]} -eq 1 ]] || fail "more than one stdout line: $output"
    local want
    want=$(oci_top "$IMG/oci")
    assert_equal "$(pushed_digest)" "$want"
    assert_equal "$(remote_digest "$R:v1")" "$want"
    assert_equal "$(remote_layers "$R:v1")" "$(jq -r '.layers[].digest' "$(blob "$IMG/oci" "$want")")"
    # skopeo can pull every blob back (it checks each digest)
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:v1" "oci:$BATS_TEST_TMPDIR/back:v1"
}

@test "oci:DIR:REF selects the image by ref name" {
    push "oci:$IMG/oci-two:b" "$R:b"
    assert_success
    assert_equal "$(pushed_digest)" "$(oci_ref "$IMG/oci-two" b)"
    assert_equal "$(remote_digest "$R:b")" "$(oci_ref "$IMG/oci-two" b)"
    push "oci:$IMG/oci:1.0" "$R:one"
    assert_success
    assert_equal "$(remote_digest "$R:one")" "$(oci_top "$IMG/oci")"
}

@test "oci-archive:PATH pushes the same manifest as the layout" {
    push "oci-archive:$IMG/oci.tar" "$R:arch"
    assert_success
    assert_result_line 0 "$SK_REGISTRY" "$R"
    assert_equal "$(pushed_digest)" "$(oci_top "$IMG/oci")"
    assert_equal "$(remote_digest "$R:arch")" "$(oci_top "$IMG/oci")"
}

@test "bare paths are auto-detected: OCI directory, oci-archive, legacy and Docker 25+ docker-archive" {
    push "$IMG/oci" "$R:dir"
    assert_success
    assert_equal "$(remote_digest "$R:dir")" "$(oci_top "$IMG/oci")"
    push "$IMG/oci.tar" "$R:tar"
    assert_success
    assert_equal "$(remote_digest "$R:tar")" "$(oci_top "$IMG/oci")"
    push "$IMG/legacy.tar" "$R:legacy"
    assert_success
    assert_equal "$(raw "$R:legacy" | jq -r .config.digest)" "sha256:$(docker_config "$IMG/legacy.tar" | sha256sum | cut -d' ' -f1)"
    push "$IMG/docker25.tar" "$R:d25"
    assert_success
    assert_equal "$(raw "$R:d25" | jq -r .config.digest)" "sha256:$(docker_config "$IMG/docker25.tar" | sha256sum | cut -d' ' -f1)"
}

@test "DEST without a tag is :latest; DEST with the registry part goes there (localhost too, with its own credentials)" {
    push "oci:$IMG/oci" "$R"
    assert_success
    assert_result_line 0 "$SK_REGISTRY" "$R"
    assert_equal "$(remote_digest "$R:latest")" "$(oci_top "$IMG/oci")"
    push "oci:$IMG/oci" "$SK_REGISTRY/$R:explicit"
    assert_success
    assert_result_line 0 "$SK_REGISTRY" "$R"
    assert_equal "$(remote_digest "$R:explicit")" "$(oci_top "$IMG/oci")"
    # The same registry under another name is not the proxyEndpoint: no ECR token goes there, but the
    # credentials `docker login` stored for that name do.
    docker_login "localhost:${SK_REGISTRY##*:}"
    push "oci:$IMG/oci" "localhost:${SK_REGISTRY##*:}/$R:byname"
    assert_success
    assert_result_line 0 "localhost:${SK_REGISTRY##*:}" "$R"
    assert_equal "$(remote_digest "$R:byname")" "$(oci_top "$IMG/oci")"
}

@test "several DESTs: one line each, all the same digest, blobs uploaded once" {
    local mark
    mark=$(log_mark)
    push "oci:$IMG/oci" "$R:one" "$R:two" "$R:three"
    assert_success
    [[ ${#lines[@]} -eq 3 ]] || fail "expected 3 stdout lines, got: $output"
    local want
    want=$(oci_top "$IMG/oci")
    local i
    for i in 0 1 2; do
        assert_result_line "$i" "$SK_REGISTRY" "$R"
        assert_equal "${lines[$i]##*@}" "$want"
    done
    assert_equal "$(remote_digest "$R:one")" "$want"
    assert_equal "$(remote_digest "$R:two")" "$want"
    assert_equal "$(remote_digest "$R:three")" "$want"
    # config + 4 layers, each uploaded once
    local uploads
    uploads=$(requests_since "$mark" | grep -c "^PUT /v2/$R/blobs/uploads/" || true)
    assert_equal "$uploads" 5
}

@test "--digest-file writes the manifest digest and a newline" {
    push --digest-file "$BATS_TEST_TMPDIR/digest" "oci:$IMG/oci" "$R:d"
    assert_success
    assert_equal "$(tail -c 1 "$BATS_TEST_TMPDIR/digest" | od -An -c | tr -d ' ')" '\n'
    assert_equal "$(cat "$BATS_TEST_TMPDIR/digest")" "$(pushed_digest)"
    [[ $(cat "$BATS_TEST_TMPDIR/digest") =~ ^sha256:$HEX64$ ]] || fail "bad digest file: $(cat "$BATS_TEST_TMPDIR/digest")"
    assert_equal "$(wc -c <"$BATS_TEST_TMPDIR/digest")" 72
}

@test "--digest-file that cannot be written: exit 2 before anything is pushed, no tag, no stray file" {
    local mark
    mark=$(log_mark)
    push --digest-file "$BATS_TEST_TMPDIR/nodir/x.digest" "oci:$IMG/oci" "$R:nd"
    assert_failure 2
    [[ $stderr == *"cannot write '$BATS_TEST_TMPDIR/nodir/x.digest'"* ]] || fail "stderr: $stderr"
    assert_equal "$(requests_since "$mark" | grep -c . || true)" 0
    # An existing digest file is replaced whole, mode as fopen would make it, no temporary left.
    echo old >"$BATS_TEST_TMPDIR/d2"
    push --digest-file "$BATS_TEST_TMPDIR/d2" "oci:$IMG/oci" "$R:nd"
    assert_success
    assert_equal "$(cat "$BATS_TEST_TMPDIR/d2")" "$(pushed_digest)"
    assert_equal "$(stat -c %a "$BATS_TEST_TMPDIR/d2")" "$(umask -S >/dev/null; printf '%o' $((0666 & ~$(umask))))"
    assert_equal "$(find "$BATS_TEST_TMPDIR" -name 'd2.*' | wc -l)" 0
}

@test "re-pushing the same image only HEADs (no POST, PATCH, PUT or DELETE)" {
    push "oci:$IMG/oci" "$R:same"
    assert_success
    local first=$output mark
    mark=$(log_mark)
    push "oci:$IMG/oci" "$R:same"
    assert_success
    assert_equal "$output" "$first"
    local reqs
    reqs=$(requests_since "$mark")
    [[ -n $reqs ]] || fail "the re-push made no registry request at all"
    if grep -E '^(POST|PATCH|PUT|DELETE) ' <<<"$reqs"; then
        fail "the re-push wrote to the registry:"$'\n'"$reqs"
    fi
    grep -q '^HEAD ' <<<"$reqs" || fail "the re-push made no HEAD request:"$'\n'"$reqs"
}

@test "a tag pushed twice with the same digest succeeds; a new image moves the tag" {
    push "oci:$IMG/oci" "$R:t"
    assert_success
    local first=$output
    push "oci:$IMG/oci" "$R:t"
    assert_success
    assert_equal "$output" "$first"
    push "oci:$IMG/oci-two:a" "$R:t"
    assert_success
    assert_equal "$(remote_digest "$R:t")" "$(oci_ref "$IMG/oci-two" a)"
}

# --- multi-platform ---

@test "a two-platform index pushes whole: an index with 2 manifests, digest = the source's" {
    push "oci:$IMG/multi" "$R:multi"
    assert_success
    local want
    want=$(oci_ref "$IMG/multi" multi)
    assert_equal "$(pushed_digest)" "$want"
    assert_equal "$(remote_digest "$R:multi")" "$want"
    assert_equal "$(raw "$R:multi" | jq -r '.mediaType')" application/vnd.oci.image.index.v1+json
    assert_equal "$(raw "$R:multi" | jq '.manifests | length')" 2
    # each child is there, by digest
    local child
    for child in $(raw "$R:multi" | jq -r '.manifests[].digest'); do
        raw "$R@$child" >/dev/null || fail "child manifest $child is not in the registry"
    done
    run -0 skopeo_ref copy --all "docker://$SK_REGISTRY/$R:multi" "oci:$BATS_TEST_TMPDIR/back:multi"
}

@test "--platform linux/arm64 pushes just that image (the v8 variant), no amd64 blobs" {
    local idx arm amd
    idx=$(blob "$IMG/multi" "$(oci_ref "$IMG/multi" multi)")
    arm=$(jq -r '.manifests[] | select(.platform.architecture == "arm64") | .digest' "$idx")
    amd=$(jq -r '.manifests[] | select(.platform.architecture == "amd64") | .digest' "$idx")
    push --platform linux/arm64 "oci:$IMG/multi" "$R:arm"
    assert_success
    assert_equal "$(pushed_digest)" "$arm"
    assert_equal "$(remote_digest "$R:arm")" "$arm"
    assert_equal "$(raw "$R:arm" | jq -r '.mediaType')" application/vnd.oci.image.manifest.v1+json
    assert_equal "$(raw "$R:arm" | jq '.manifests | length')" 0
    local amd_cfg
    amd_cfg=$(jq -r .config.digest "$(blob "$IMG/multi" "$amd")")
    if registry_has_blob "$R" "$amd_cfg"; then
        fail "the amd64 config was pushed with --platform linux/arm64"
    fi
    push --platform linux/arm64/v8 "oci:$IMG/multi" "$R:arm-v8"
    assert_success
    assert_equal "$(pushed_digest)" "$arm"
}

@test "a nested index pushes whole; --platform linux/amd64 finds the image inside the inner index" {
    local top inner amd
    top=$(oci_ref "$IMG/nested" nested)
    push "oci:$IMG/nested" "$R:nested"
    assert_success
    assert_equal "$(remote_digest "$R:nested")" "$top"
    assert_equal "$(raw "$R:nested" | jq '.manifests | length')" 2
    inner=$(jq -r '.manifests[] | select(.mediaType == "application/vnd.oci.image.index.v1+json") | .digest' \
        "$(blob "$IMG/nested" "$top")")
    amd=$(jq -r '.manifests[0].digest' "$(blob "$IMG/nested" "$inner")")
    push --platform linux/amd64 "oci:$IMG/nested" "$R:amd"
    assert_success
    assert_equal "$(remote_digest "$R:amd")" "$amd"
}

@test "--platform that the index does not have: exit 2, nothing written" {
    TAG=t assert_bad_input --platform linux/s390x "oci:$IMG/multi" "$R:t"
}

# --- docker-archive ---

@test "legacy docker-archive: readable by skopeo, config digest matches, layers gunzip to the diff_ids" {
    push "docker-archive:$IMG/legacy.tar" "$R:legacy"
    assert_success
    assert_equal "$(remote_digest "$R:legacy")" "$(pushed_digest)"
    local cfg
    cfg=sha256:$(docker_config "$IMG/legacy.tar" | sha256sum | cut -d' ' -f1)
    assert_equal "$(raw "$R:legacy" | jq -r .config.digest)" "$cfg"
    assert_equal "$(raw "$R:legacy" | jq '.layers | length')" 3
    # dir: keeps the manifest and config exactly as pushed (oci: would convert a Docker manifest)
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:legacy" "dir:$BATS_TEST_TMPDIR/back"
    local back=$BATS_TEST_TMPDIR/back m=$BATS_TEST_TMPDIR/back/manifest.json want got=()
    assert_equal "$(jq -r .config.digest "$m")" "$cfg"
    assert_equal "sha256:$(sha256sum <"$back/${cfg#sha256:}" | cut -d' ' -f1)" "$cfg"
    want=$(docker_config "$IMG/legacy.tar" | jq -r '.rootfs.diff_ids[]')
    local d
    for d in $(jq -r '.layers[].digest' "$m"); do
        got+=("sha256:$(gzip -dc "$back/${d#sha256:}" | sha256sum | cut -d' ' -f1)")
    done
    assert_equal "$(printf '%s\n' "${got[@]}")" "$want"
    # the repeated layer (a symlink in the archive) is the same blob
    assert_equal "$(jq -r '.layers[0].digest' "$m")" "$(jq -r '.layers[2].digest' "$m")"
}

@test "Docker 25+ docker-archive: readable by skopeo, config digest matches" {
    push "docker-archive:$IMG/docker25.tar" "$R:d25"
    assert_success
    assert_equal "$(remote_digest "$R:d25")" "$(pushed_digest)"
    local cfg
    cfg=sha256:$(docker_config "$IMG/docker25.tar" | sha256sum | cut -d' ' -f1)
    assert_equal "$(raw "$R:d25" | jq -r .config.digest)" "$cfg"
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:d25" "dir:$BATS_TEST_TMPDIR/back"
    local back=$BATS_TEST_TMPDIR/back m=$BATS_TEST_TMPDIR/back/manifest.json d got=()
    assert_equal "$(jq -r .config.digest "$m")" "$cfg"
    for d in $(jq -r '.layers[].digest' "$m"); do
        got+=("sha256:$(gzip -dc "$back/${d#sha256:}" | sha256sum | cut -d' ' -f1)")
    done
    assert_equal "$(printf '%s\n' "${got[@]}")" "$(docker_config "$IMG/docker25.tar" | jq -r '.rootfs.diff_ids[]')"
}

@test "--compress none keeps the layer digests equal to the diff_ids (legacy and Docker 25+)" {
    local a
    for a in legacy docker25; do
        push --compress none "docker-archive:$IMG/$a.tar" "$R:$a"
        assert_success
        assert_equal "$(remote_layers "$R:$a")" "$(docker_config "$IMG/$a.tar" | jq -r '.rootfs.diff_ids[]')"
        assert_equal "$(raw "$R:$a" | jq -r .config.digest)" "sha256:$(docker_config "$IMG/$a.tar" | sha256sum | cut -d' ' -f1)"
        run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:$a" "dir:$BATS_TEST_TMPDIR/back-$a"
    done
}

@test "--compress-level 1 and 9 both push a readable image" {
    push --compress gzip --compress-level 1 "$IMG/legacy.tar" "$R:l1"
    assert_success
    push --compress gzip --compress-level 9 "$IMG/legacy.tar" "$R:l9"
    assert_success
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:l1" "dir:$BATS_TEST_TMPDIR/back-l1"
    run -0 skopeo_ref copy "docker://$SK_REGISTRY/$R:l9" "dir:$BATS_TEST_TMPDIR/back-l9"
}

@test "re-pushing a docker-archive (gzip) only HEADs: the compressed digests come from the cache" {
    push "docker-archive:$IMG/legacy.tar" "$R:l"
    assert_success
    local first=$output mark
    mark=$(log_mark)
    push "docker-archive:$IMG/legacy.tar" "$R:l"
    assert_success
    assert_equal "$output" "$first"
    local reqs
    reqs=$(requests_since "$mark")
    if grep -E '^(POST|PATCH|PUT|DELETE) ' <<<"$reqs"; then
        fail "the re-push wrote to the registry:"$'\n'"$reqs"
    fi
}

# --- credentials and the token cache ---

@test "the ECR token is cached (mode 0600) and reused: the second push makes no GetAuthorizationToken call" {
    local n0 n1 n2
    n0=$(token_calls)
    push "oci:$IMG/oci" "$R:a"
    assert_success
    n1=$(token_calls)
    assert_equal "$((n1 - n0))" 1
    local files
    files=$(grep -rlE -f <(token_patterns) "$HOME/.cache/shipkit" 2>/dev/null || true)
    [[ -n $files ]] || fail "no token cached under \$HOME/.cache/shipkit: $(find "$HOME/.cache" 2>&1)"
    local f
    for f in $files; do
        assert_equal "$(stat -c %a "$f")" 600
    done
    push "oci:$IMG/oci-two:a" "$R:b"
    assert_success
    n2=$(token_calls)
    assert_equal "$((n2 - n1))" 0
}

@test "the token cache honours XDG_CACHE_HOME" {
    export XDG_CACHE_HOME=$BATS_TEST_TMPDIR/xdg
    push "oci:$IMG/oci" "$R:a"
    assert_success
    grep -rqlE -f <(token_patterns) "$XDG_CACHE_HOME/shipkit" ||
        fail "no token cached under \$XDG_CACHE_HOME/shipkit"
    [[ ! -e $HOME/.cache/shipkit ]] || fail "wrote $HOME/.cache/shipkit despite XDG_CACHE_HOME"
}

@test "no AWS credentials: exit 3, one stderr line, nothing written" {
    unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
    MARK=$(log_mark)
    push "oci:$IMG/oci" "$R:t"
    assert_equal "$status" 3
    assert_error_line ecr-push
    assert_output ""
    refute_written "$R" t
}

@test "credentials AWS rejects: exit 3, one stderr line, nothing written" {
    export AWS_SECRET_ACCESS_KEY=not-the-right-secret-key-not-the-right-secret
    MARK=$(log_mark)
    push "oci:$IMG/oci" "$R:t"
    assert_equal "$status" 3
    assert_error_line ecr-push
    refute_leak not-the-right-secret-key
    refute_written "$R" t
}

@test "a registry that refuses the credentials given for it (other htpasswd): exit 4, one stderr line" {
    start_registry --password some-other-password
    docker_login "127.0.0.1:$PORT2"
    push "oci:$IMG/oci" "127.0.0.1:$PORT2/$R:t"
    assert_equal "$status" 4
    assert_error_line ecr-push "refused the credentials"
    assert_output ""
    if skopeo --insecure-policy inspect --raw --creds AWS:some-other-password --cert-dir "$SK_REGISTRY_CERT_DIR" \
        "docker://127.0.0.1:$PORT2/$R:t" >/dev/null 2>&1; then
        fail "the tag was written"
    fi
}

@test "a registry that refuses writes (read-only): exit 4, one stderr line" {
    start_registry --read-only
    docker_login "127.0.0.1:$PORT2"
    push "oci:$IMG/oci" "127.0.0.1:$PORT2/$R:t"
    assert_equal "$status" 4
    assert_error_line ecr-push
    assert_output ""
}

@test "a registry with absolute upload Locations works as well" {
    start_registry --absolute-urls
    docker_login "127.0.0.1:$PORT2"
    push "oci:$IMG/oci" "127.0.0.1:$PORT2/$R:abs"
    assert_success
    assert_result_line 0 "127.0.0.1:$PORT2" "$R"
    local got
    got=$(skopeo --insecure-policy inspect --raw --creds "AWS:$SK_REGISTRY_PASSWORD" --cert-dir "$SK_REGISTRY_CERT_DIR" \
        "docker://127.0.0.1:$PORT2/$R:abs" | sha256sum | cut -d' ' -f1)
    assert_equal "sha256:$got" "$(oci_top "$IMG/oci")"
}

# --- unreachable registry, TLS ---

@test "registry unreachable (127.0.0.1:1): exit 5, one stderr line" {
    push "oci:$IMG/oci" "127.0.0.1:1/$R:t"
    assert_equal "$status" 5
    assert_error_line ecr-push
    assert_output ""
}

@test "a registry that was stopped: exit 5" {
    start_registry
    "$REPO/tests/stack/registry/stop" "$DIR2" >/dev/null
    push "oci:$IMG/oci" "127.0.0.1:$PORT2/$R:t"
    assert_equal "$status" 5
    assert_error_line ecr-push
}

@test "the registry stops in the middle of an upload: exit 5" {
    # 40 MB of layers through a proxy that relays 4 MB/s; both stop once 2 MB have gone through.
    python3 "$REPO/tests/fixtures/make-images" --size-mb 40 "$BATS_TEST_TMPDIR/bigimg" >/dev/null
    start_registry
    local proxy=$BATS_TEST_TMPDIR/proxy.py
    cat >"$proxy" <<'EOF'
import os, socket, sys, threading, time
target, rate, marker = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
print(ls.getsockname()[1], flush=True)
sent = [0]
def pipe(a, b, slow):
    try:
        while True:
            d = a.recv(65536)
            if not d:
                break
            b.sendall(d)
            if slow:
                sent[0] += len(d)
                if sent[0] > 2_000_000 and not os.path.exists(marker):
                    open(marker, "w").close()
                time.sleep(len(d) / rate)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
while True:
    c, _ = ls.accept()
    u = socket.create_connection(("127.0.0.1", target))
    threading.Thread(target=pipe, args=(c, u, True), daemon=True).start()
    threading.Thread(target=pipe, args=(u, c, False), daemon=True).start()
EOF
    local marker=$BATS_TEST_TMPDIR/half-way pport
    coproc PROXY { exec python3 "$proxy" "$PORT2" 4000000 "$marker"; }
    EXTRA+=("$PROXY_PID")
    read -r pport <&"${PROXY[0]}"
    docker_login "127.0.0.1:$pport"
    local rc=$BATS_TEST_TMPDIR/rc bg
    (
        rc_=0
        timeout 120 ecr-push -q --jobs 1 "oci:$BATS_TEST_TMPDIR/bigimg/big" "127.0.0.1:$pport/$R:big" \
            >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" || rc_=$?
        echo "$rc_" >"$rc.tmp" && mv "$rc.tmp" "$rc"
    ) &
    bg=$!
    local i
    for i in $(seq 1 300); do
        [[ -e $marker || -e $rc ]] && break
        sleep 0.1
    done
    [[ -e $marker ]] || fail "the push never got 2 MB through the proxy (rc $(cat "$rc" 2>/dev/null); stderr: $(cat "$BATS_TEST_TMPDIR/err"))"
    "$REPO/tests/stack/registry/stop" "$DIR2" >/dev/null
    kill "$PROXY_PID"
    wait "$bg" || true
    [[ -e $rc ]] || fail "no exit status recorded for the push"
    status=$(cat "$rc")
    stderr=$(cat "$BATS_TEST_TMPDIR/err")
    output=$(cat "$BATS_TEST_TMPDIR/out")
    [[ $status -ne 124 ]] || fail "ecr-push still ran 120 s after the registry stopped"
    [[ $status -eq 5 ]] || fail "expected exit 5, got $status; stderr: $stderr"
    assert_output ""
    mapfile -t stderr_lines <"$BATS_TEST_TMPDIR/err"
    assert_error_line ecr-push
}

@test "without the CA (no AWS_CA_BUNDLE): TLS fails, exit 5, nothing written" {
    unset AWS_CA_BUNDLE
    MARK=$(log_mark)
    push -q "oci:$IMG/oci" "$R:t"
    assert_equal "$status" 5
    assert_error_line ecr-push
    refute_written "$R" t
}

@test "--ca-bundle names the CA instead of AWS_CA_BUNDLE" {
    unset AWS_CA_BUNDLE
    push --ca-bundle "$SK_REGISTRY_CA" "oci:$IMG/oci" "$R:ca"
    assert_success
    assert_equal "$(remote_digest "$R:ca")" "$(oci_top "$IMG/oci")"
}

@test "the profile's ca_bundle names the CA when neither --ca-bundle nor AWS_CA_BUNDLE does; --ca-bundle comes first" {
    unset AWS_CA_BUNDLE
    printf '[default]\nca_bundle = %s\n' "$SK_REGISTRY_CA" >>"$AWS_CONFIG_FILE"
    push "oci:$IMG/oci" "$R:profile-ca"
    assert_success
    assert_equal "$(remote_digest "$R:profile-ca")" "$(oci_top "$IMG/oci")"
    # an unreadable bundle is a configuration error, named, before anything is sent
    printf '[default]\nca_bundle = %s\n' "$BATS_TEST_TMPDIR/no-such-ca.pem" >"$AWS_CONFIG_FILE"
    MARK=$(log_mark)
    push "oci:$IMG/oci" "$R:t"
    assert_equal "$status" 3
    assert_error_line ecr-push "no-such-ca.pem"
    refute_written "$R" t
    push --ca-bundle "$SK_REGISTRY_CA" "oci:$IMG/oci" "$R:t"
    assert_success
}

@test "--endpoint-url instead of AWS_ENDPOINT_URL" {
    local ep=$AWS_ENDPOINT_URL
    unset AWS_ENDPOINT_URL
    push --endpoint-url "$ep" "oci:$IMG/oci" "$R:ep"
    assert_success
    assert_result_line 0 "$SK_REGISTRY" "$R"
}

# --- --create-repo ---

@test "--create-repo creates the ECR repository (scan on push, MUTABLE)" {
    push --create-repo "oci:$IMG/oci" "$R:c"
    assert_success
    run -0 awsref ecr describe-repositories --repository-names "$R" \
        --query 'repositories[0].[imageTagMutability, imageScanningConfiguration.scanOnPush]' --output text
    assert_output $'MUTABLE\tTrue'
    assert_equal "$(remote_digest "$R:c")" "$(oci_top "$IMG/oci")"
}

@test "--create-repo --immutable makes it IMMUTABLE" {
    push --create-repo --immutable "oci:$IMG/oci" "$R:c"
    assert_success
    run -0 awsref ecr describe-repositories --repository-names "$R" \
        --query 'repositories[0].[imageTagMutability, imageScanningConfiguration.scanOnPush]' --output text
    assert_output $'IMMUTABLE\tTrue'
}

@test "--create-repo with an existing repository leaves it alone" {
    awsref ecr create-repository --repository-name "$R" --image-tag-mutability IMMUTABLE >/dev/null
    push --create-repo "oci:$IMG/oci" "$R:c"
    assert_success
    assert_equal "$(awsref ecr describe-repositories --repository-names "$R" \
        --query 'repositories[0].imageTagMutability' --output text)" IMMUTABLE
}

# --- output, progress ---

@test "-q: nothing on stderr, the result line on stdout" {
    push -q "oci:$IMG/oci" "$R:q"
    assert_success
    assert_equal "$stderr" ""
    assert_result_line 0 "$SK_REGISTRY" "$R"
}

@test "--progress plain (and auto off a terminal): plain lines on stderr, no bars" {
    push --progress plain "oci:$IMG/oci" "$R:p"
    assert_success
    [[ -n $stderr ]] || fail "--progress plain printed nothing"
    [[ $stderr != *$'\r'* && $stderr != *$'\e'* ]] || fail "--progress plain drew bars: $(printf '%q' "$stderr")"
    assert_result_line 0 "$SK_REGISTRY" "$R"
    push "oci:$IMG/oci-two:a" "$R:auto"
    assert_success
    [[ $stderr != *$'\r'* && $stderr != *$'\e'* ]] || fail "--progress auto drew bars off a terminal"
}

@test "--progress auto on a terminal draws bars; --progress none leaves stdout alone" {
    command -v script >/dev/null 2>&1 || skip "script(1) not installed"
    run -0 script -qec "ecr-push --progress auto 'oci:$IMG/oci' '$R:tty'" /dev/null
    [[ $output == *$'\r'* || $output == *$'\e'* ]] || fail "no bar drawn on a terminal: $(printf '%q' "$output")"
    push --progress none "oci:$IMG/oci" "$R:none"
    assert_success
    assert_result_line 0 "$SK_REGISTRY" "$R"
}

@test "--output json is JSON naming the digest" {
    push --output json "oci:$IMG/oci" "$R:j"
    assert_success
    jq -e . >/dev/null <<<"$output" || fail "not JSON: $output"
    [[ $output == *"$(oci_top "$IMG/oci")"* ]] || fail "the digest is not in the JSON: $output"
}

@test "--debug shows the wire trace without the token, the password or the secret key" {
    push --debug "oci:$IMG/oci" "$R:dbg"
    assert_success
    [[ -n $stderr ]] || fail "--debug printed no wire trace"
    refute_leak QVdTOjEyMzQ1Njc4OTAxMi1hdXRoLXRva2Vu
    refute_leak 123456789012-auth-token
    refute_leak "$AWS_SECRET_ACCESS_KEY"
}

@test "--jobs 1 and --jobs 32 work" {
    push --jobs 1 "oci:$IMG/oci" "$R:j1"
    assert_success
    push --jobs 32 "oci:$IMG/multi" "$R:j32"
    assert_success
    assert_equal "$(remote_digest "$R:j32")" "$(oci_ref "$IMG/multi" multi)"
}

# --- bad input: exit 2, one stderr line, no manifest written ---

@test "unknown source format: exit 2, nothing written" {
    printf 'not an image\n' >"$BATS_TEST_TMPDIR/file.txt"
    TAG=t assert_bad_input "$BATS_TEST_TMPDIR/file.txt" "$R:t"
    TAG=t assert_bad_input "docker://example.com/x:y" "$R:t"
    TAG=t assert_bad_input "$BATS_TEST_TMPDIR/does-not-exist" "$R:t"
    mkdir "$BATS_TEST_TMPDIR/emptydir"
    TAG=t assert_bad_input "$BATS_TEST_TMPDIR/emptydir" "$R:t"
}

@test "a ref the layout does not have: exit 2, nothing written" {
    TAG=t assert_bad_input "oci:$IMG/oci:no-such-ref" "$R:t"
}

@test "truncated tar: exit 2, nothing written" {
    TAG=t assert_bad_input "oci-archive:$IMG/bad-truncated.tar" "$R:t"
    TAG=t assert_bad_input "$IMG/bad-truncated.tar" "$R:t"
}

@test "corrupt config blob (sha256 mismatch): exit 2, nothing written" {
    TAG=t assert_bad_input "oci:$IMG/bad-corrupt-config" "$R:t"
}

@test "corrupt layer blob (sha256 mismatch, noticed while streaming): exit 2, nothing written" {
    TAG=t assert_bad_input "oci:$IMG/bad-corrupt-layer" "$R:t"
}

@test "missing blob: exit 2, nothing written" {
    TAG=t assert_bad_input "oci:$IMG/bad-missing-blob" "$R:t"
}

@test "unknown layer media type: exit 2, nothing written" {
    TAG=t assert_bad_input "oci:$IMG/bad-mediatype" "$R:t"
}

@test "docker-archive layers that do not match their diff_ids: exit 2, nothing written" {
    TAG=t assert_bad_input "docker-archive:$IMG/bad-diffid.tar" "$R:t"
    TAG=t assert_bad_input "docker-archive:$IMG/bad-diffid-legacy.tar" "$R:t"
    TAG=t assert_bad_input --compress none "docker-archive:$IMG/bad-diffid-legacy.tar" "$R:t"
}

@test "docker-archive with more layers than diff_ids: exit 2, nothing written" {
    TAG=t assert_bad_input "docker-archive:$IMG/bad-layercount.tar" "$R:t"
}

@test "bad DEST syntax: exit 2, nothing written" {
    local d
    for d in "UPPER/case:t" "$R:" "$R:bad tag" ":t" "$R//x:t" "$SK_REGISTRY/:t" "$R:t@x"; do
        MARK=$(log_mark)
        push "oci:$IMG/oci" "$d"
        [[ $status -eq 2 ]] || fail "DEST '$d': expected exit 2, got $status; stderr: $stderr"
        assert_error_line ecr-push
        assert_output ""
        # (only where these DESTs could write: other files push to the same registry meanwhile)
        [[ -z $(requests_since "$MARK" | grep -E "^PUT /v2/($R|UPPER|upper|/|x/)" || true) ]] ||
            fail "DEST '$d' wrote to the registry"
    done
    # one bad DEST among good ones writes none of them
    TAG=good assert_bad_input "oci:$IMG/oci" "$R:good" "$R:bad tag"
}

@test "bad option values: exit 2, one stderr line, nothing written" {
    local -a bad=(
        "--jobs 0" "--jobs 33" "--jobs x" "--jobs -1"
        "--compress xz" "--compress-level 0" "--compress-level 10" "--compress-level x"
        "--progress fancy" "--platform linux" "--platform linux/" "--output yaml"
    )
    local b
    for b in "${bad[@]}"; do
        # shellcheck disable=SC2086 # each entry is an option and its value
        TAG=t assert_bad_input $b "oci:$IMG/oci" "$R:t"
    done
    # no DEST at all
    TAG=t assert_bad_input "oci:$IMG/oci"
}
