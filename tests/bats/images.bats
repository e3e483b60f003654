#!/usr/bin/env bats
# shellcheck disable=SC2154,SC2317 # bats' run sets status/output/stderr; helpers run through `run`
# images.bats: examples/model-server and the build-images / push-images fragment (mk/images.mk).
#
# Every make run works on a copy of examples/ and mk/images.mk in the test's temp dir, so the
# tree is never written to. Stub builders and a stub ecr-push (scripts that record their
# arguments) check the make logic everywhere; one test builds the real image with buildah and
# is skipped, saying so, when buildah is not installed.

load helpers/common

# common.bash's teardown checks for crashes: keep it, and also stop a server a test started.
eval "$(declare -f teardown | sed '1s/^teardown/common_teardown/')"
teardown() {
    if [[ -n ${SERVER_PID:-} ]]; then
        kill -TERM "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    common_teardown
}

# A tree that looks like the repo for the fragment: W/examples/{Makefile,model-server/}, W/mk/.
setup() {
    W=$BATS_TEST_TMPDIR/w
    mkdir -p "$W/mk" "$W/examples" "$W/stubs"
    cp "$REPO"/mk/*.mk "$W/mk/" # the example Makefile includes every user fragment
    cp "$REPO/examples/Makefile" "$W/examples/"
    mkdir "$W/examples/model-server"
    cp "$REPO/examples/model-server/model-server.c" "$REPO/examples/model-server/model.txt" \
        "$REPO/examples/model-server/Dockerfile" "$REPO/examples/model-server/.dockerignore" \
        "$W/examples/model-server/"
    # Outside any git repository: the default tag is "latest".
    export GIT_CEILING_DIRECTORIES=$BATS_TEST_TMPDIR
    EX=$W/examples
    A=$EX/build/images
}

# stub_builder NAME: $W/stubs/NAME, a builder that records "NAME ARGS" in $W/stubs/calls and
# writes a small archive where `buildah push`/`podman save -o`/`docker save -o` would.
stub_builder() {
    cat >"$W/stubs/$1" <<'EOF'
#!/bin/sh
echo "$(basename "$0") $*" >>"$(dirname "$0")/calls"
out=
prev=
for a in "$@"; do
    case $a in oci-archive:*) out=${a#oci-archive:} ;; esac
    [ "$prev" = -o ] && out=$a
    prev=$a
done
# The image's context must hold the binary by the time it is built.
case " $* " in *" bud "* | *" build "*) [ -x model-server/model-server ] || echo "binary missing at build" >>"$(dirname "$0")/calls" ;; esac
[ -z "$out" ] || echo "archive $RANDOM" >"$out"
EOF
    chmod +x "$W/stubs/$1"
}

# stub_push: $W/stubs/ecr-push, records its arguments in $W/stubs/push-calls, writes the digest
# file and prints the REGISTRY/REPO@sha256 line as ecr-push does.
stub_push() {
    cat >"$W/stubs/ecr-push" <<'EOF'
#!/bin/sh
echo "$*" >>"$(dirname "$0")/push-calls"
df=
while [ $# -gt 2 ]; do
    case $1 in --digest-file) df=$2; shift 2 ;; *) shift ;; esac
done
d=sha256:$(sha256sum "$1" | cut -c1-64)
echo "$d" >"$df"
repo=${2%:*}
case $repo in */*) ;; *) repo=123456789012.dkr.ecr.us-west-2.amazonaws.com/$repo ;; esac
echo "ecr-push: pushed $1" >&2
echo "$repo@$d"
EOF
    chmod +x "$W/stubs/ecr-push"
}

calls() {
    cat "$W/stubs/calls" 2>/dev/null || true
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

mtime() {
    stat -c %Y.%y "$1"
}

@test "model-server: builds static and warning-clean with make" {
    run -0 make -C "$EX" model-server/model-server
    run -0 readelf -d "$EX/model-server/model-server"
    assert_output --partial 'no dynamic section'
}

@test "model-server: /health, /predict (GET and POST), errors, one log line each, exit 0 on SIGTERM" {
    run -0 make -C "$EX" model-server/model-server
    port=$(free_port)
    PORT=$port MODEL_PATH=$EX/model-server/model.txt "$EX/model-server/model-server" \
        >"$BATS_TEST_TMPDIR/server.log" 2>&1 3>&- &
    SERVER_PID=$!
    for _ in $(seq 50); do
        curl -fsS "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break
        sleep 0.1
    done
    base=http://127.0.0.1:$port

    run -0 curl -sS -w ' %{http_code} %{content_type}' "$base/health"
    assert_output '{"status":"ok"} 200 application/json'

    # model.txt: bias 0.5, weights 2 -1 0.25
    run -0 curl -fsS "$base/predict?x=1,2,3"
    assert_output '{"y":1.25,"model":"house-price-v1"}'
    run -0 curl -fsS "$base/predict?x=1%2C2%2C3"
    assert_output '{"y":1.25,"model":"house-price-v1"}'
    run -0 curl -fsS -H 'Content-Type: application/json' -d '{"x": [1, 2, 4]}' "$base/predict"
    assert_output '{"y":1.5,"model":"house-price-v1"}'
    run -0 curl -fsS -d 'x=0,0,0' "$base/predict"
    assert_output '{"y":0.5,"model":"house-price-v1"}'

    run -0 curl -sS -w ' %{http_code}' "$base/predict?x=1,2"
    assert_output '{"error":"expected 3 features, got 2"} 400'
    run -0 curl -sS -w ' %{http_code}' "$base/predict?x=a,b,c"
    assert_output --partial '} 400'
    run -0 curl -sS -w ' %{http_code}' "$base/nope"
    assert_output '{"error":"not found"} 404'
    run -0 curl -sS -w ' %{http_code}' -X DELETE "$base/health"
    assert_output --partial '} 405'

    kill -TERM "$SERVER_PID"
    rc=0
    wait "$SERVER_PID" || rc=$?
    SERVER_PID=
    assert_equal "$rc" 0
    run -0 cat "$BATS_TEST_TMPDIR/server.log"
    assert_line --index 0 --regexp "^[0-9T:.-]+Z listening on :$port, model house-price-v1 \(3 features\)"
    assert_line --regexp 'Z 127\.0\.0\.1 GET /predict\?x=1,2,3 200 [0-9.]+ms$'
    assert_line --regexp 'Z 127\.0\.0\.1 POST /predict 200 [0-9.]+ms$'
    assert_line --regexp 'Z 127\.0\.0\.1 GET /nope 404 [0-9.]+ms$'
    assert_line --regexp 'stopping: signal received$'
    run -0 grep -c ' /predict' "$BATS_TEST_TMPDIR/server.log"
    assert_output 6
}

@test "model-server: a bad model or PORT stops it at start" {
    run -0 make -C "$EX" model-server/model-server
    printf 'bias 1\n' >"$BATS_TEST_TMPDIR/bad.txt"
    run -1 --separate-stderr env MODEL_PATH="$BATS_TEST_TMPDIR/bad.txt" "$EX/model-server/model-server"
    assert_output ''
    assert_equal "$stderr" "model-server: model '$BATS_TEST_TMPDIR/bad.txt': no weights line"
    run -2 --separate-stderr env PORT=http "$EX/model-server/model-server"
    assert_equal "$stderr" "model-server: invalid PORT 'http'"
}

@test "build-images: the binary first, then one build; a second run does nothing" {
    stub_builder buildah
    run -0 make -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" IMAGE_TAG=t1 build-images
    assert_line '  IMAGE build/images/model-server.tar (buildah)'
    run -0 calls
    assert_line --index 0 "buildah --storage-driver vfs bud --isolation chroot -t model-server:t1 -f model-server/Dockerfile model-server"
    assert_line --index 1 "buildah --storage-driver vfs push model-server:t1 oci-archive:build/images/model-server.tar.tmp"
    refute_line 'binary missing at build'
    [[ -s $A/model-server.tar && ! -e $A/model-server.tar.tmp ]]
    before=$(mtime "$A/model-server.tar")

    : >"$W/stubs/calls"
    run -0 make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" IMAGE_TAG=t1 build-images
    assert_output ''
    run -0 calls
    assert_output ''
    assert_equal "$(mtime "$A/model-server.tar")" "$before"

    # A new tag alone does not rebuild: it names the push, not the content.
    run -0 make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" IMAGE_TAG=t2 build-images
    assert_output ''
}

@test "build-images: rebuilds when a context file changes, appears or goes, or a setting changes" {
    stub_builder buildah
    mk() { make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" "$@" build-images; }
    run -0 mk
    assert_output --partial 'IMAGE build/images/model-server.tar'

    touch "$EX/model-server/model.txt"
    run -0 mk
    assert_output --partial 'IMAGE build/images/model-server.tar'
    run -0 mk
    assert_output ''

    echo extra >"$EX/model-server/README"
    run -0 mk
    assert_output --partial 'IMAGE build/images/model-server.tar'
    rm "$EX/model-server/README"
    run -0 mk
    assert_output --partial 'IMAGE build/images/model-server.tar'

    run -0 mk IMAGE_BUILD_FLAGS=--build-arg=A=1
    assert_output --partial 'IMAGE build/images/model-server.tar'
    run -0 mk IMAGE_BUILD_FLAGS=--build-arg=A=1
    assert_output ''

    # A source change rebuilds the binary, then the image.
    bin_before=$(mtime "$EX/model-server/model-server")
    touch "$EX/model-server/model-server.c"
    run -0 mk IMAGE_BUILD_FLAGS=--build-arg=A=1
    assert_output --partial 'IMAGE build/images/model-server.tar'
    [[ $(mtime "$EX/model-server/model-server") != "$bin_before" ]]
}

@test "build-images: docker and podman commands; make -j builds several images" {
    stub_builder docker
    run -0 make -C "$EX" IMAGE_BUILDER="$W/stubs/docker" IMAGE_TAG=t1 build-images
    run -0 calls
    assert_line --index 0 'docker build -t model-server:t1 -f model-server/Dockerfile model-server'
    assert_line --index 1 'docker save -o build/images/model-server.tar.tmp model-server:t1'

    stub_builder podman
    : >"$W/stubs/calls"
    run -0 make -C "$EX" IMAGE_BUILDER="$W/stubs/podman" IMAGE_TAG=t1 build-images
    run -0 calls
    assert_line --index 0 'podman --storage-driver vfs build --isolation chroot -t model-server:t1 -f model-server/Dockerfile model-server'
    assert_line --index 1 'podman --storage-driver vfs save --format oci-archive -o build/images/model-server.tar.tmp model-server:t1'

    # Three images, one with its own Dockerfile and repository, built in parallel.
    mkdir -p "$W/multi/a" "$W/multi/b" "$W/multi/c/docker"
    for i in a b; do echo 'FROM scratch' >"$W/multi/$i/Dockerfile"; done
    echo 'FROM scratch' >"$W/multi/c/docker/Containerfile"
    cat >"$W/multi/Makefile" <<EOF
IMAGES := a b c
IMAGE_DOCKERFILE_c := c/docker/Containerfile
BUILD_DIR := out
include ../mk/images.mk
EOF
    stub_builder buildah
    run -0 make -C "$W/multi" -j4 IMAGE_BUILDER="$W/stubs/buildah" IMAGE_TAG=t1 build-images
    for i in a b c; do
        [[ -s $W/multi/out/images/$i.tar ]] || fail "no out/images/$i.tar"
    done
    run -0 grep -c ' bud ' "$W/stubs/calls"
    assert_output 3 # one per image (the docker and podman stubs ran `build`)
    run -0 grep 'bud.*-t c:t1' "$W/stubs/calls"
    assert_output --partial '-f c/docker/Containerfile c'
}

@test "build-images: a missing builder, context or Dockerfile fails with a clear message" {
    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER= build-images
    [[ $stderr == *"images.mk: no image builder: 'docker info' failed and neither buildah nor podman is on PATH"* ]] || fail "$stderr"
    [[ $stderr == *"install one (Debian: apt-get install buildah) or set IMAGE_BUILDER"* ]] || fail "$stderr"
    [[ ! -e $A/model-server.tar ]]

    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER=no-such-builder build-images
    [[ $stderr == *"images.mk: IMAGE_BUILDER=no-such-builder: command not found"* ]] || fail "$stderr"

    stub_builder buildah
    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" IMAGE_DOCKERFILE_model-server=nope build-images
    [[ $stderr == *"images.mk: model-server: no Dockerfile 'nope'"* ]] || fail "$stderr"

    cat >"$W/stubs/buildah" <<'EOF'
#!/bin/sh
echo "Error: building at STEP 2/8: something broke" >&2
exit 125
EOF
    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" build-images
    [[ $stderr == *"images.mk: building model-server with $W/stubs/buildah failed"* ]] || fail "$stderr"
    [[ ! -e $A/model-server.tar && ! -e $A/model-server.tar.tmp ]]
}

@test "build-images with buildah: a valid OCI archive of the FROM scratch image; a second run is a no-op" {
    command -v buildah >/dev/null 2>&1 || skip "buildah is not installed (Debian: apt-get install buildah)"
    # A private vfs store keeps the test off the machine's image store.
    local flags="--storage-driver vfs --root $BATS_TEST_TMPDIR/storage --runroot $BATS_TEST_TMPDIR/run"
    run -0 make -C "$EX" IMAGE_BUILDER=buildah BUILDAH_FLAGS="$flags" IMAGE_TAG=t1 build-images
    assert_line '  IMAGE build/images/model-server.tar (buildah)'
    tarball=$A/model-server.tar

    # oci-archive: oci-layout + index.json -> manifest -> config and one layer holding the files.
    run -0 tar -xOf "$tarball" oci-layout
    assert_output --regexp '"imageLayoutVersion": ?"1\.0\.0"'
    mdig=$(tar -xOf "$tarball" index.json | jq -r '.manifests[0].digest')
    manifest=$(tar -xOf "$tarball" "blobs/sha256/${mdig#sha256:}")
    run -0 jq -r '.mediaType // "", .config.mediaType, (.layers | length)' <<<"$manifest"
    assert_line --index 1 'application/vnd.oci.image.config.v1+json'
    assert_line --index 2 '1'
    config=$(tar -xOf "$tarball" "blobs/sha256/$(jq -r '.config.digest | ltrimstr("sha256:")' <<<"$manifest")")
    run -0 jq -c '[.os, .architecture, .config.Entrypoint, .config.ExposedPorts, .config.User, .config.StopSignal]' <<<"$config"
    assert_output '["linux","amd64",["/model-server"],{"8080/tcp":{}},"65534:65534","SIGTERM"]'
    ldig=$(jq -r '.layers[0].digest | ltrimstr("sha256:")' <<<"$manifest")
    tar -xOf "$tarball" "blobs/sha256/$ldig" >"$BATS_TEST_TMPDIR/layer"
    run -0 sha256sum "$BATS_TEST_TMPDIR/layer"
    assert_output --partial "$ldig"
    run -0 tar -tf "$BATS_TEST_TMPDIR/layer"
    assert_line --regexp '^(\./)?model-server$'
    assert_line --regexp '^(\./)?model/model.txt$'
    refute_line --partial 'model-server.c'

    if command -v skopeo >/dev/null 2>&1; then
        run -0 skopeo inspect --config "oci-archive:$tarball"
        assert_output --partial '"/model-server"'
    fi

    before=$(mtime "$tarball")
    run -0 make -s -C "$EX" IMAGE_BUILDER=buildah BUILDAH_FLAGS="$flags" IMAGE_TAG=t1 build-images
    assert_output ''
    assert_equal "$(mtime "$tarball")" "$before"
}

@test "IMAGE_TAG: the short commit, -dirty with changes, latest outside git, as set when given" {
    command -v git >/dev/null 2>&1 || skip "git is not installed"
    g=$BATS_TEST_TMPDIR/repo
    mkdir -p "$g/mk"
    cp "$REPO/mk/images.mk" "$REPO/mk/checks.mk" "$g/mk/"
    printf 'include mk/images.mk\n' >"$g/Makefile"
    printf 'build/\n' >"$g/.gitignore"
    git -C "$g" init -q
    git -C "$g" add -A
    git -C "$g" -c user.name=t -c user.email=t@example.com commit -q -m init
    sha=$(git -C "$g" rev-parse --short HEAD)

    run -0 make -s -C "$g" IMAGE_BUILDER=none images-info
    assert_line "IMAGE_TAG=$sha"
    mkdir "$g/build" && touch "$g/build/ignored"
    run -0 make -s -C "$g" IMAGE_BUILDER=none images-info
    assert_line "IMAGE_TAG=$sha"
    cp "$g/Makefile" "$BATS_TEST_TMPDIR/Makefile.orig"
    echo '# changed' >>"$g/Makefile"
    run -0 make -s -C "$g" IMAGE_BUILDER=none images-info
    assert_line "IMAGE_TAG=$sha-dirty"
    cp "$BATS_TEST_TMPDIR/Makefile.orig" "$g/Makefile"
    run -0 make -s -C "$g" IMAGE_BUILDER=none images-info
    assert_line "IMAGE_TAG=$sha"
    touch "$g/untracked"
    run -0 make -s -C "$g" IMAGE_BUILDER=none images-info
    assert_line "IMAGE_TAG=$sha-dirty"
    IMAGE_TAG=v1.2 run -0 make -s -C "$g" IMAGE_BUILDER=none images-info
    assert_line "IMAGE_TAG=v1.2"

    run -0 make -s -C "$EX" IMAGE_BUILDER=none images-info
    assert_line 'IMAGE_TAG=latest'
    assert_line 'model-server: context model-server, dockerfile model-server/Dockerfile, archive build/images/model-server.tar -> ml-model-service:latest'
}

@test "push-images: ecr-push per image, .digest and .ref recorded; a re-run does nothing; a new tag pushes" {
    stub_builder buildah
    stub_push
    reg=123456789012.dkr.ecr.us-west-2.amazonaws.com
    mk() {
        make -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" ECR_PUSH="$W/stubs/ecr-push" \
            ECR_PUSH_FLAGS='--region us-west-2' ECR_REGISTRY="$reg" "$@" push-images
    }
    run -0 --separate-stderr mk IMAGE_TAG=abc1234
    assert_line "   PUSH build/images/model-server.tar -> $reg/ml-model-service:abc1234"
    run -0 cat "$W/stubs/push-calls"
    assert_output "--region us-west-2 --digest-file build/images/model-server.digest build/images/model-server.tar $reg/ml-model-service:abc1234"
    digest=sha256:$(sha256sum "$A/model-server.tar" | cut -c1-64)
    run -0 cat "$A/model-server.digest"
    assert_output "$digest"
    run -0 cat "$A/model-server.ref"
    assert_output "$reg/ml-model-service@$digest"

    run -0 mk -s IMAGE_TAG=abc1234
    assert_output ''
    run -0 wc -l <"$W/stubs/push-calls"
    assert_output 1

    run -0 --separate-stderr mk IMAGE_TAG=def5678
    assert_line "   PUSH build/images/model-server.tar -> $reg/ml-model-service:def5678"
    run -0 wc -l <"$W/stubs/push-calls"
    assert_output 2

    # No registry: ecr-push is given REPO:TAG and names the account's registry itself.
    run -0 make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" ECR_PUSH="$W/stubs/ecr-push" IMAGE_TAG=def5678 push-images
    run -0 tail -n 1 "$W/stubs/push-calls"
    assert_output "--digest-file build/images/model-server.digest build/images/model-server.tar ml-model-service:def5678"
    run -0 cat "$A/model-server.ref"
    assert_output "$reg/ml-model-service@$digest"
}

@test "push-images: a failed push or a missing digest line fails, leaves no .ref, and is retried" {
    stub_builder buildah
    cat >"$W/stubs/ecr-push" <<'EOF'
#!/bin/sh
echo "ecr-push: RepositoryNotFoundException: no repository" >&2
exit 4
EOF
    chmod +x "$W/stubs/ecr-push"
    mk() { make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" ECR_PUSH="$W/stubs/ecr-push" IMAGE_TAG=t1 push-images; }
    run -2 --separate-stderr mk
    [[ $stderr == *"ecr-push: RepositoryNotFoundException"* ]] || fail "$stderr"
    [[ $stderr == *"images.mk: pushing model-server with $W/stubs/ecr-push failed"* ]] || fail "$stderr"
    [[ ! -e $A/model-server.ref ]]

    # Writes the digest file but prints no REGISTRY/REPO@sha256 line: neither file is kept.
    cat >"$W/stubs/ecr-push" <<'EOF'
#!/bin/sh
for a in "$@"; do
    [ "$p" = --digest-file ] && echo sha256:0000 >"$a"
    p=$a
done
echo done
EOF
    run -2 --separate-stderr mk
    [[ $stderr == *"printed no REGISTRY/REPO@sha256:<hex> line for model-server"* ]] || fail "$stderr"
    [[ ! -e $A/model-server.ref && ! -e $A/model-server.digest && ! -e $A/model-server.ref.out ]]

    stub_push
    run -0 mk
    [[ -s $A/model-server.ref ]]

    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" ECR_PUSH=no-such-ecr-push IMAGE_TAG=t2 push-images
    [[ $stderr == *"images.mk: ECR_PUSH=no-such-ecr-push: command not found"* ]] || fail "$stderr"
    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" ECR_PUSH="$W/stubs/ecr-push" IMAGE_TAG='bad tag!' push-images
    [[ $stderr == *"is not a valid tag"* ]] || fail "$stderr"
}

@test "the fragment keeps the default goal, writes nothing under make -n, finds bin/ecr-push in a checkout" {
    printf 'IMAGES := model-server\ninclude ../mk/images.mk\nhello:\n\t@echo hello\n' >"$EX/Goal.mk"
    run -0 make -s -C "$EX" -f Goal.mk
    assert_output 'hello'

    stub_builder buildah
    run -0 make -n -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" build-images
    # The flags reach the builder through the environment (mk/checks.mk), so -n shows their names.
    # shellcheck disable=SC2016
    assert_output --partial 'bud $_sk_img_cflags $_sk_img_flags -t model-server:latest -f model-server/Dockerfile model-server'
    [[ ! -e $EX/build ]]
    run -0 calls
    assert_output ''

    # From a shipkit source tree (mk/build/ beside the fragment) the default is its bin/ecr-push.
    run -0 make -s -C "$EX" IMAGE_BUILDER=none images-info
    assert_line 'ECR_PUSH=ecr-push'
    mkdir "$W/mk/build" && touch "$W/mk/build/tools.mk"
    run -0 make -s -C "$EX" IMAGE_BUILDER=none images-info
    assert_line "ECR_PUSH=$W/bin/ecr-push"
    run -2 --separate-stderr make -s -C "$EX" IMAGE_BUILDER="$W/stubs/buildah" push-images
    [[ $stderr == *"command not found (build it: make -C $W bin/ecr-push)"* ]] || fail "$stderr"
}
