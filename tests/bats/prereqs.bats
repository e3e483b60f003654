#!/usr/bin/env bats
# mk/build/prereqs, which make demo, make test, make bench and make fuzz run first: silent when
# everything is installed; as a user who cannot install, one message with the exact apt-get line
# and exit 3 for each target, nothing installed; as root, one short line per step with apt's output
# in the log. Its hooks simulate the machine: SK_PREREQ_PATH (where commands are looked for: a
# stand-in dpkg-query there reports the packages in $FAKE_MISSING as not installed),
# SK_PREREQ_UID (id -u), SK_PREREQ_APT_GET (a stand-in that records its arguments) and SK_PREREQ_LOG.

load helpers/common

PREREQS=$REPO/mk/build/prereqs

setup() {
    local d=$BATS_TEST_TMPDIR/path c p real
    mkdir -p "$d"
    # Every command the script looks for, from the real PATH (moto's venv and pyenv included).
    for c in cc make pkg-config python3 moto_server node npm sudo; do
        p=$(PATH=$PATH:/opt/shipkit-moto/bin:${PYENV_ROOT:-/root/.pyenv}/shims command -v "$c") || continue
        ln -sf "$p" "$d/$c"
    done
    real=$(command -v dpkg-query) || skip "not a Debian system"
    cat >"$d/dpkg-query" <<EOT
#!/bin/sh
# The real dpkg-query, minus the packages in \$FAKE_MISSING (PATH is the stand-in directory here).
PATH=/usr/bin:/bin
"$real" "\$@" 2>/dev/null | awk -v miss=" \$FAKE_MISSING " 'index(miss, " " \$1 " ") == 0'
EOT
    cat >"$BATS_TEST_TMPDIR/apt-get" <<EOT
#!/bin/sh
echo "\$*" >>"$BATS_TEST_TMPDIR/apt-get.args"
echo "Reading package lists... (a stand-in: nothing installed)"
EOT
    chmod +x "$d/dpkg-query" "$BATS_TEST_TMPDIR/apt-get"
    export SK_PREREQ_PATH=$d SK_PREREQ_APT_GET=$BATS_TEST_TMPDIR/apt-get
    export SK_PREREQ_LOG=$BATS_TEST_TMPDIR/prereqs.log FAKE_MISSING=
}

# complete TARGET: skip unless this machine has everything TARGET needs (make test has run
# `mk/build/prereqs test` first, so normally it does).
complete() {
    SK_PREREQ_UID=1000 "$PREREQS" --check "$1" >/dev/null 2>&1 || skip "not everything make $1 needs is installed here"
}

# as_user: no root, no sudo.
as_user() {
    rm -f "$SK_PREREQ_PATH/sudo"
    export SK_PREREQ_UID=1000
}

@test "prereqs: everything installed: silent, exit 0, nothing installed, for every target" {
    local t
    for t in build demo test bench fuzz; do
        complete "$t"
        as_user
        run -0 --separate-stderr "$PREREQS" "$t"
        assert_output ""
        assert_equal "$stderr" ""
    done
    [[ ! -e $BATS_TEST_TMPDIR/apt-get.args ]] || fail "apt-get ran"
}

# user_missing TARGET PKG...: as a user, with PKGs missing, prereqs TARGET names them in the
# apt-get line and exits 3 without installing anything.
user_missing() {
    local t=$1
    shift
    complete "$t"
    as_user
    FAKE_MISSING="$*" run -3 --separate-stderr "$PREREQS" "$t"
    assert_output ""
    [[ $stderr == "make $t: missing: $* (not root, and sudo -n does not work: not installing)"* ]] || fail "$stderr"
    [[ $stderr == *$'\n'"make $t: install them, then run make $t again:"$'\n'"    sudo apt-get install $*"* ]] ||
        fail "no apt-get line: $stderr"
    [[ ! -e $BATS_TEST_TMPDIR/apt-get.args ]] || fail "apt-get ran as a user"
}

@test "prereqs build, as a user without sudo: the apt-get line, exit 3" {
    user_missing build libcurl4-openssl-dev libjq-dev
}

@test "prereqs demo, as a user without sudo: the apt-get line, exit 3" {
    user_missing demo docker-registry buildah
}

@test "prereqs test, as a user without sudo: the apt-get line, exit 3" {
    user_missing test bats-assert bats-support skopeo
}

@test "prereqs bench, as a user without sudo: the apt-get line, exit 3" {
    user_missing bench skopeo
}

@test "prereqs fuzz, as a user without sudo: the apt-get line, exit 3" {
    user_missing fuzz libclang-rt-dev
}

@test "prereqs: a package another target needs is not asked for" {
    complete build
    as_user
    FAKE_MISSING="skopeo bats" run -0 --separate-stderr "$PREREQS" build
    assert_equal "$stderr" ""
}

@test "prereqs demo as a user, moto missing too: the venv line after the apt-get line" {
    complete demo
    as_user
    rm "$SK_PREREQ_PATH/moto_server"
    FAKE_MISSING=awscli run -3 --separate-stderr "$PREREQS" demo
    [[ $stderr == "make demo: missing: awscli moto_server "* ]] || fail "$stderr"
    [[ $stderr == *$'\n    sudo apt-get install awscli\n'* ]] || fail "$stderr"
    [[ $stderr == *"sudo /opt/shipkit-moto/bin/pip install 'moto[server]"* ]] || fail "$stderr"
}

@test "prereqs as root, a package missing: one line per step, apt's output in the log, then still missing" {
    complete demo
    export SK_PREREQ_UID=0
    FAKE_MISSING=buildah run -3 --separate-stderr "$PREREQS" demo
    assert_output ""
    local want
    want="prereqs: installing for make demo: buildah (log: $SK_PREREQ_LOG)
prereqs: apt-get update
prereqs: apt-get install (1 packages)
prereqs: still missing after installing: buildah"
    assert_equal "$stderr" "$want"
    run -0 cat "$BATS_TEST_TMPDIR/apt-get.args"
    assert_line --index 0 "update -q"
    assert_line --index 1 "install -y -q --no-install-recommends -o Dpkg::Use-Pty=0 buildah"
    run -0 grep -c 'Reading package lists' "$SK_PREREQ_LOG"
    assert_output 2
}

@test "prereqs --check as root: names the line, installs nothing" {
    complete fuzz
    export SK_PREREQ_UID=0
    FAKE_MISSING=clang run -3 --separate-stderr "$PREREQS" --check fuzz
    [[ $stderr == "make fuzz: missing: clang"$'\n'* ]] || fail "$stderr"
    [[ $stderr == *"    sudo apt-get install clang"* ]] || fail "$stderr"
    [[ ! -e $BATS_TEST_TMPDIR/apt-get.args ]] || fail "apt-get ran with --check"
}

@test "prereqs: a failing apt-get: its last lines, exit 3" {
    complete build
    export SK_PREREQ_UID=0
    printf '#!/bin/sh\necho "E: Unable to locate package nosuch"\nexit 100\n' >"$SK_PREREQ_APT_GET"
    FAKE_MISSING=libyaml-dev run -3 --separate-stderr "$PREREQS" build
    [[ $stderr == *"prereqs: failed: apt-get update"* ]] || fail "$stderr"
    [[ $stderr == *"    E: Unable to locate package nosuch"* ]] || fail "$stderr"
}

@test "prereqs: a bad target is a usage error" {
    run -2 --separate-stderr "$PREREQS" everything
    [[ $stderr == "usage: mk/build/prereqs"* ]] || fail "$stderr"
}

@test "make demo as a user, buildah missing: the message, nothing started, no pkg-config noise" {
    complete demo
    as_user
    export SK_STACK_DIR=$BATS_TEST_TMPDIR/stack
    FAKE_MISSING=buildah SK_DEMO_SKIP_BUILD=1 run --separate-stderr make -s -C "$REPO" demo
    ((status != 0)) || fail "make demo succeeded"
    assert_output ""
    [[ $stderr == "make demo: missing: buildah "* ]] || fail "not the first line: $stderr"
    [[ $stderr != *pkg-config* && $stderr != *"Package "* ]] || fail "pkg-config noise: $stderr"
    [[ ! -e $SK_STACK_DIR ]] || fail "the stack was started"
}
