#!/usr/bin/env bats
# shellcheck disable=SC2154 # status/output/stderr/stderr_lines come from bats' run
# ecr-push attacked as an outsider would: hostile registries on 127.0.0.1 (tests/bats/helpers/
# hostile_registry.py, TLS with the stack's certificate, logging every request with the
# Authorization it carried), a poisoned layer cache, OCI layouts with links out of them. Each test
# reproduces one attack and shows it fails; every ecr-push run is bounded by `timeout`.
#
#   A  the ECR token goes only to the account's ECR registry; other registries get only their own
#      credentials (--registry-auth FILE, Docker's config.json), else none
#   B  the layer cache: private files only (no links, owner and mode checked), and an entry counts
#      only with the MAC ecr-push wrote it with, so a planted one cannot change what is pushed
#   C  an OCI layout is read only from inside: no link below it is followed
#   D  a TLS registry cannot move an upload to plain http, nor get credentials sent to another host

load helpers/common
load helpers/registry

setup_file() {
    make_images
}

setup() {
    need_tool ecr-push
    use_registry
    [[ -d $BATS_FILE_TMPDIR/img/oci ]] || fail "make-images wrote no fixtures in $BATS_FILE_TMPDIR/img"
    IMG=$BATS_FILE_TMPDIR/img
    R=shipkit/$(unique)
    export SK_RETRY_SCALE=0.05 ECR_PUSH_STALL_TIMEOUT=10s
}

# common.bash's teardown (the crash check), after stopping the hostile registries.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    stop_hostile
    common_teardown
}

# push STATUS ARGS...: ecr-push ARGS under a time limit; it must exit STATUS exactly.
push() {
    local want=$1
    shift
    run "-$want" --separate-stderr timeout 60 ecr-push "$@"
}

# no_auth_in LOG: the hostile registry's log has requests and none carried an Authorization.
no_auth_in() {
    [[ -s $1 ]] || fail "no request reached the registry of $1"
    if grep -v ' auth=-$' "$1"; then
        fail "credentials reached the registry of $1"
    fi
}

# raw REF: the manifest bytes of REPO:TAG in the stack registry.
raw() {
    skopeo_ref inspect --raw "docker://$SK_REGISTRY/$1"
}

# registry_has_blob REPO DIGEST: HEAD the blob in the stack registry.
registry_has_blob() {
    [[ $(curl -s -o /dev/null -w '%{http_code}' --cacert "$SK_REGISTRY_CA" -u "$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD" \
        -I "https://$SK_REGISTRY/v2/$1/blobs/$2") == 200 ]]
}

# user_basic USER PASSWORD: register base64(USER:PASSWORD) as a secret too (what a registry sees).
user_basic() {
    register_secret "$1-basic" "$(printf '%s:%s' "$1" "$2" | base64 -w0)"
}

# --- A: the ECR token goes to the account's ECR registry only ---

# bats test_tags=registry,security
@test "A: a registry DEST names that is not the account's gets no ECR token (nor another host's Docker credentials): exit 3 says how to give credentials" {
    local log=$BATS_TEST_TMPDIR/hostile.log pw
    pw=$(canary other-registry-password)
    user_basic other "$pw"
    docker_login registry.example:5000 other "$pw"
    start_hostile "$log" --ask-auth
    push 3 "oci:$IMG/oci" "127.0.0.1:$HOSTILE_PORT/anything:1"
    assert_error_line ecr-push "registry 127.0.0.1:$HOSTILE_PORT wants credentials and none were given (HTTP 401)"
    [[ $stderr == *"--registry-auth FILE"* && $stderr == *"docker login 127.0.0.1:$HOSTILE_PORT"* ]] || fail "$stderr"
    assert_output ""
    no_auth_in "$log"
}

# bats test_tags=registry,security
@test "A: the stack registry under another name (localhost) is not GetAuthorizationToken's proxyEndpoint: no token" {
    local mark
    mark=$(wc -l <"$SK_REGISTRY_LOG")
    push 3 -q "oci:$IMG/oci" "localhost:${SK_REGISTRY##*:}/$R:t"
    assert_error_line ecr-push "registry localhost:${SK_REGISTRY##*:} wants credentials"
    # one unauthenticated ping, nothing else
    [[ $(tail -n +"$((mark + 1))" "$SK_REGISTRY_LOG" | grep -c '"[A-Z]* /v2/') -eq 1 ]] ||
        fail "$(tail -n +"$((mark + 1))" "$SK_REGISTRY_LOG")"
}

# bats test_tags=registry,security
@test "A: an ECR host of another account than GetAuthorizationToken's: refused before any connection (exit 3)" {
    local plog=$BATS_TEST_TMPDIR/proxy.log
    # Any connection to the ECR host would go through this proxy (curl honours https_proxy) and be logged.
    start_hostile "$plog" --plain
    https_proxy=http://127.0.0.1:$HOSTILE_PORT push 3 -q "oci:$IMG/oci" "111111111111.dkr.ecr.us-east-1.amazonaws.com/$R:t"
    assert_error_line ecr-push "registry 111111111111.dkr.ecr.us-east-1.amazonaws.com is not the account's ECR registry"
    [[ ! -s $plog ]] || fail "ecr-push connected: $(cat "$plog")"
}

# bats test_tags=registry,security
@test "A: credentials given for a registry go to it: --registry-auth FILE, --registry-auth - (stdin), Docker's config.json" {
    local dir2=$BATS_TEST_TMPDIR/registry2 out port pw want
    # tests/stack/registry/start takes the password on its command line: not a canary
    pw=second-registry-$RANDOM$RANDOM
    out=$("$REPO/tests/stack/registry/start" "$dir2" "$(dirname "$SK_REGISTRY_CA")" --password "$pw") ||
        fail "could not start a second registry"
    HOSTILE_PIDS+=("${out#* }")
    port=${out% *}
    want=$(jq -r '.manifests[0].digest' "$IMG/oci/index.json")
    (umask 077 && printf 'AWS:%s\n' "$pw" >"$BATS_TEST_TMPDIR/creds")
    allow_secret_file "$BATS_TEST_TMPDIR/creds"
    push 0 -q --registry-auth "$BATS_TEST_TMPDIR/creds" "oci:$IMG/oci" "127.0.0.1:$port/$R:file"
    assert_output "127.0.0.1:$port/$R@$want"
    push 0 -q --registry-auth - "oci:$IMG/oci" "127.0.0.1:$port/$R:stdin" <"$BATS_TEST_TMPDIR/creds"
    assert_output "127.0.0.1:$port/$R@$want"
    docker_login "127.0.0.1:$port" AWS "$pw"
    push 0 -q "oci:$IMG/oci" "127.0.0.1:$port/$R:docker"
    assert_output "127.0.0.1:$port/$R@$want"
    # wrong ones are refused by the registry: exit 4
    printf 'AWS:not-the-password\n' >"$BATS_TEST_TMPDIR/wrong"
    push 4 -q --registry-auth "$BATS_TEST_TMPDIR/wrong" "oci:$IMG/oci" "127.0.0.1:$port/$R:wrong"
    assert_error_line ecr-push "refused the credentials"
    "$REPO/tests/stack/registry/stop" "$dir2" >/dev/null || true
}

# bats test_tags=registry,security
@test "A: --registry-auth: not USER:PASSWORD, no REGISTRY in DEST, with --create-repo: exit 2" {
    printf 'no-colon\n' >"$BATS_TEST_TMPDIR/bad"
    push 2 -q --registry-auth "$BATS_TEST_TMPDIR/bad" "oci:$IMG/oci" "127.0.0.1:1/$R:t"
    assert_error_line ecr-push "not one line USER:PASSWORD"
    push 2 -q --registry-auth "$BATS_TEST_TMPDIR/bad" "oci:$IMG/oci" "$R:t"
    assert_error_line ecr-push "--registry-auth is for a DEST that names its REGISTRY"
    push 2 -q --create-repo --registry-auth "$BATS_TEST_TMPDIR/bad" "oci:$IMG/oci" "127.0.0.1:1/$R:t"
    assert_error_line ecr-push "--create-repo"
}

# --- B: the layer cache ---

# cache_entry DIFF_ID: the layer cache file of a diff_id (gzip level 1).
cache_entry() {
    echo "$HOME/.cache/shipkit/layers/gzip-1/${1#sha256:}"
}

# legacy_diff_ids: the diff_ids of legacy.tar's config, one a line (the third repeats the first).
legacy_diff_ids() {
    tar -xOf "$IMG/legacy.tar" "$(tar -xOf "$IMG/legacy.tar" manifest.json | jq -r '.[0].Config')" |
        jq -r '.rootfs.diff_ids[]'
}

# forge DIFF_ID DIGEST SIZE: an entry with a MAC made with this user's own key (what only someone who
# can read the key could write), printed.
forge() {
    python3 - "$HOME/.cache/shipkit/layers/key" "$@" <<'EOF'
import hashlib, hmac, sys
key = open(sys.argv[1], "rb").read()
diff, digest, size = sys.argv[2:5]
msg = "shipkit layer cache 1\ngzip-1\n%s\n%s\n%s" % (diff, digest, size)
print("%s %s %s" % (digest, size, hmac.new(key, msg.encode(), hashlib.sha256).hexdigest()))
EOF
}

# bats test_tags=registry,security
@test "B: a planted layer cache entry cannot swap layers: ignored (-v says so), the right layer pushed, the entry rewritten" {
    local d1 want l1 l2 s2 e1
    push 0 -q "docker-archive:$IMG/legacy.tar" "$R:first"
    want=$(raw "$R:first" | jq -c '[.layers[].digest]')
    d1=$(legacy_diff_ids | sed -n 1p)
    l1=$(raw "$R:first" | jq -r '.layers[0].digest')
    l2=$(raw "$R:first" | jq -r '.layers[1].digest')
    s2=$(raw "$R:first" | jq -r '.layers[1].size')
    e1=$(cache_entry "$d1")
    grep -q "^$l1 " "$e1" || fail "the first push cached no entry for $d1: $(cat "$e1" 2>&1)"
    # the attack: diff_id 1 -> layer 2's gzip (in the registry), a private file of ours; first in the
    # old format (no MAC), then with a made-up MAC
    for forged in "$l2 $s2" "$l2 $s2 $(printf '%064d' 7)"; do
        printf '%s\n' "$forged" >"$e1"
        chmod 600 "$e1"
        push 0 -v --progress none "docker-archive:$IMG/legacy.tar" "$R:second"
        [[ $stderr == *"layer cache: ignored the entry for ${d1:0:19}"* ]] || fail "-v does not say the entry was ignored: $stderr"
        assert_equal "$(raw "$R:second" | jq -c '[.layers[].digest]')" "$want"
        grep -q "^$l1 [0-9]* [0-9a-f]\{64\}$" "$e1" || fail "the entry was not rewritten: $(cat "$e1")"
        assert_equal "$(stat -c %a "$e1")" 600
    done
    # and the rewritten entry is used: the next push only HEADs
    push 0 -v --progress none "docker-archive:$IMG/legacy.tar" "$R:third"
    [[ $stderr != *"layer cache: ignored"* ]] || fail "$stderr"
}

# bats test_tags=registry,security
@test "B: layer cache entries that are links, another user's, readable by others, or in a directory others can write are ignored" {
    local d1 want l2 s2 e1 gz
    push 0 -q "docker-archive:$IMG/legacy.tar" "$R:first"
    want=$(raw "$R:first" | jq -c '[.layers[].digest]')
    d1=$(legacy_diff_ids | sed -n 1p)
    l2=$(raw "$R:first" | jq -r '.layers[1].digest')
    s2=$(raw "$R:first" | jq -r '.layers[1].size')
    e1=$(cache_entry "$d1")
    gz=$(dirname "$e1")
    # Every entry below carries a valid MAC: only the file checks stand between it and the push.
    forge "$d1" "$l2" "$s2" >"$BATS_TEST_TMPDIR/forged"
    chmod 600 "$BATS_TEST_TMPDIR/forged"
    local variant
    for variant in link mode dir-mode dir-link other-user; do
        rm -rf "$e1" "$BATS_TEST_TMPDIR/elsewhere"
        chmod 700 "$gz"
        case $variant in
        link) ln -s "$BATS_TEST_TMPDIR/forged" "$e1" ;;
        mode) install -m 644 "$BATS_TEST_TMPDIR/forged" "$e1" ;;
        dir-mode)
            install -m 600 "$BATS_TEST_TMPDIR/forged" "$e1"
            chmod 777 "$gz"
            ;;
        dir-link)
            # gzip-1 itself a link to a directory of ours holding the entry
            mv "$gz" "$BATS_TEST_TMPDIR/elsewhere"
            install -m 600 "$BATS_TEST_TMPDIR/forged" "$BATS_TEST_TMPDIR/elsewhere/${d1#sha256:}"
            ln -s "$BATS_TEST_TMPDIR/elsewhere" "$gz"
            ;;
        other-user)
            [[ $(id -u) == 0 ]] || continue
            install -m 600 -o 65534 "$BATS_TEST_TMPDIR/forged" "$e1"
            ;;
        esac
        push 0 -v --progress none "docker-archive:$IMG/legacy.tar" "$R:$variant"
        assert_equal "$(raw "$R:$variant" | jq -c '[.layers[].digest]')" "$want"
        [[ $stderr == *"layer cache"* ]] || fail "$variant: -v says nothing about the cache: $stderr"
        if [[ $variant == dir-link ]]; then
            rm -f "$gz"
            mv "$BATS_TEST_TMPDIR/elsewhere" "$gz"
        fi
    done
    # control: the same forged entry, private and ours in a private directory, is used (so the
    # checks above, not chance, refused it; and the MAC is why the planted entries of the test
    # before are refused: a MAC needs the key, which is as private as the entries)
    chmod 700 "$gz"
    install -m 600 "$BATS_TEST_TMPDIR/forged" "$e1"
    push 0 -q "docker-archive:$IMG/legacy.tar" "$R:control"
    [[ $(raw "$R:control" | jq -r '.layers[0].digest') == "$l2" ]] || fail "the control entry was not used"
    # Only root can plant a file owned by another user: say so rather than pass without that case.
    [[ $(id -u) == 0 ]] || skip "the other-user entry needs root to plant (link, mode, dir-mode and dir-link passed)"
}

# --- C: OCI layouts are read from inside only ---

# layout_copy NAME: a copy of the oci fixture, printed.
layout_copy() {
    rm -rf "${BATS_TEST_TMPDIR:?}/$1"
    cp -a "$IMG/oci" "$BATS_TEST_TMPDIR/$1"
    echo "$BATS_TEST_TMPDIR/$1"
}

# bats test_tags=registry,security
@test "C: a blob that links out of the layout is not read nor uploaded, and the error says nothing of the outside file" {
    local lay top layer size secret outside mark
    lay=$(layout_copy links)
    top=$(jq -r '.manifests[0].digest' "$lay/index.json")
    layer=$(jq -r '.layers[1].digest' "$lay/blobs/sha256/${top#sha256:}")
    size=$(jq -r '.layers[1].size' "$lay/blobs/sha256/${top#sha256:}")
    # an outside file of exactly the layer's size, holding a secret
    secret=$(canary outside-file)
    outside=$BATS_TEST_TMPDIR/outside-file
    python3 -c 'import sys; s = sys.stdin.read().encode(); n = int(sys.argv[1]); sys.stdout.buffer.write((s * (n // len(s) + 1))[:n])' \
        "$size" <<<"$secret" >"$outside"
    allow_secret_file "$outside"
    ln -sf "$outside" "$lay/blobs/sha256/${layer#sha256:}"
    mark=$(wc -l <"$SK_REGISTRY_LOG")
    push 2 "oci:$lay" "$R:t"
    assert_error_line ecr-push "blobs/sha256/${layer#sha256:} is a symbolic link"
    local odigest
    odigest=sha256:$(sha256sum <"$outside" | cut -d' ' -f1)
    [[ $stderr != *"$outside"* && $stderr != *"${odigest#sha256:}"* && $stderr != *"outside-file"* ]] ||
        fail "the error describes the outside file: $stderr"
    # nothing went to the registry: not even a ping
    [[ $(tail -n +"$((mark + 1))" "$SK_REGISTRY_LOG" | grep -c '"[A-Z]* /v2/') -eq 0 ]] ||
        fail "requests were made: $(tail -n +"$((mark + 1))" "$SK_REGISTRY_LOG")"
    ! registry_has_blob "$R" "$odigest" || fail "the outside file was uploaded"
}

# bats test_tags=registry,security
@test "C: index.json, oci-layout, blobs/ or a manifest that link out of the layout (to identical copies) are refused, exit 2" {
    local lay top name out
    for name in index.json oci-layout blobs blobs/sha256 manifest; do
        lay=$(layout_copy "links-${name//\//-}")
        top=$(jq -r '.manifests[0].digest' "$lay/index.json")
        [[ $name == manifest ]] && name=blobs/sha256/${top#sha256:}
        # the link's target is an identical copy: following it would push the image
        out=$BATS_TEST_TMPDIR/outside-${name//\//-}
        mv "$lay/$name" "$out"
        ln -s "$out" "$lay/$name"
        push 2 -q "oci:$lay" "$R:t"
        assert_error_line ecr-push "$name is a symbolic link"
        [[ $stderr != *"$out"* ]] || fail "the error names the link's target: $stderr"
    done
}

# bats test_tags=registry,security
@test "C: the layout directory itself may be a link the user made" {
    ln -s "$IMG/oci" "$BATS_TEST_TMPDIR/oci-link"
    push 0 -q "oci:$BATS_TEST_TMPDIR/oci-link" "$R:t"
    assert_output "$SK_REGISTRY/$R@$(jq -r '.manifests[0].digest' "$IMG/oci/index.json")"
}

# --- D: where a TLS registry may send uploads ---

# bats test_tags=registry,security
@test "D: a TLS registry's upload Location on plain http is refused: exit 5, nothing reaches the http listener" {
    local plain=$BATS_TEST_TMPDIR/plain.log log=$BATS_TEST_TMPDIR/hostile.log pw pport
    start_hostile "$plain" --plain
    pport=$HOSTILE_PORT
    start_hostile "$log" --location "http://127.0.0.1:$pport/v2/x/blobs/uploads/s1?_state=1"
    pw=$(canary hostile-password)
    user_basic user "$pw"
    docker_login "127.0.0.1:$HOSTILE_PORT" user "$pw"
    allow_secret_file "$log" # the registry these credentials are for
    push 5 -q --jobs 1 "oci:$IMG/oci" "127.0.0.1:$HOSTILE_PORT/x:t"
    assert_error_line ecr-push "upload Location on plain http: refused"
    [[ ! -s $plain ]] || fail "the http listener was reached: $(cat "$plain")"
}

# bats test_tags=registry,security
@test "D: an upload Location on another host gets the blob but never the credentials" {
    local other=$BATS_TEST_TMPDIR/other.log log=$BATS_TEST_TMPDIR/hostile.log pw oport
    start_hostile "$other" --accept-uploads
    oport=$HOSTILE_PORT
    # the same certificate is valid for localhost: another host name, a TLS server we trust
    start_hostile "$log" --location "https://localhost:$oport/v2/x/blobs/uploads/s1?_state=1"
    pw=$(canary hostile-password)
    user_basic user "$pw"
    docker_login "127.0.0.1:$HOSTILE_PORT" user "$pw"
    allow_secret_file "$log"
    # the upload goes through; the manifest PUT then gets 404 from the registry
    push 4 -q --jobs 1 "oci:$IMG/oci" "127.0.0.1:$HOSTILE_PORT/x:t"
    grep -q '^PATCH /v2/x/blobs/uploads/s1' "$other" || fail "no PATCH reached the other host: $(cat "$other")"
    no_auth_in "$other"
    grep -q "auth=Basic " "$log" || fail "the registry itself got no credentials: $(cat "$log")"
}

# bats test_tags=registry,security
@test "D: redirects are not followed: a 307 from the registry is an error, its target gets nothing" {
    local target=$BATS_TEST_TMPDIR/target.log log=$BATS_TEST_TMPDIR/hostile.log pw
    start_hostile "$target"
    start_hostile "$log" --redirect "https://127.0.0.1:$HOSTILE_PORT/v2/"
    pw=$(canary hostile-password)
    user_basic user "$pw"
    docker_login "127.0.0.1:$HOSTILE_PORT" user "$pw"
    allow_secret_file "$log"
    push 4 -q "oci:$IMG/oci" "127.0.0.1:$HOSTILE_PORT/x:t"
    assert_error_line ecr-push "HTTP 307"
    [[ ! -s $target ]] || fail "the redirect was followed: $(cat "$target")"
}
