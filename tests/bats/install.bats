#!/usr/bin/env bats
# make install PREFIX=DIR: the eight tools, their eight man pages (each renders, NAME names the tool)
# and the make fragments; DESTDIR stages; make uninstall removes it all. Run with `-o tools` so the
# test installs the binaries already built (with whatever flags) instead of rebuilding bin/.

load helpers/common

setup() {
    local t
    for t in "${TOOLS[@]}"; do
        need_tool "$t"
    done
}

@test "make install PREFIX=DIR: eight tools, eight man pages, the fragments" {
    local p=$BATS_TEST_TMPDIR/usr t f
    run -0 make -s -C "$REPO" -o tools install PREFIX="$p"
    for t in "${TOOLS[@]}"; do
        [[ -x $p/bin/$t ]] || fail "$p/bin/$t not installed"
        [[ -f $p/share/man/man1/$t.1 ]] || fail "$p/share/man/man1/$t.1 not installed"
        cmp -s "$REPO/src/$t.1" "$p/share/man/man1/$t.1" || fail "$t.1 differs from src/$t.1"
        run -0 "$p/bin/$t" --version
        assert_output --regexp "^$t \(shipkit\) "
        if command -v man >/dev/null 2>&1; then
            run -0 env MAN_DISABLE_SECCOMP=1 MANPAGER=cat MANPATH="$p/share/man" man -P cat "$t"
            assert_output --partial "SYNOPSIS"
            assert_output --partial "$t"
        fi
    done
    run -0 ls "$p/share/man/man1"
    assert_equal "${#lines[@]}" "${#TOOLS[@]}"
    for f in "$REPO"/mk/*.mk; do
        cmp -s "$f" "$p/share/shipkit/mk/${f##*/}" || fail "${f##*/} not installed in share/shipkit/mk"
    done
}

@test "make install DESTDIR=D PREFIX=/usr stages under D; make uninstall removes everything" {
    local d=$BATS_TEST_TMPDIR/stage
    run -0 make -s -C "$REPO" -o tools install DESTDIR="$d" PREFIX=/usr
    [[ -x $d/usr/bin/ecs-roll && -f $d/usr/share/man/man1/ecs-roll.1 && -f $d/usr/share/shipkit/mk/images.mk ]] ||
        fail "not staged under DESTDIR: $(find "$d" | head -20)"
    run -0 make -s -C "$REPO" uninstall DESTDIR="$d" PREFIX=/usr
    run -0 find "$d" -type f
    assert_output ""
}

@test "an installed fragment uses the ecr-push on PATH, not a source tree's bin/" {
    local p=$BATS_TEST_TMPDIR/usr
    run -0 make -s -C "$REPO" -o tools install PREFIX="$p"
    mkdir -p "$BATS_TEST_TMPDIR/proj"
    printf 'IMAGES := app\ninclude %s/share/shipkit/mk/images.mk\n' "$p" >"$BATS_TEST_TMPDIR/proj/Makefile"
    run -0 make -s -C "$BATS_TEST_TMPDIR/proj" images-info IMAGE_BUILDER=buildah
    assert_line "ECR_PUSH=ecr-push"
}
