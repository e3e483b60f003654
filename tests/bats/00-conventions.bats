#!/usr/bin/env bats
# Conventions every tool follows: --help, --version, unknown flags, stdout write errors, and a
# usage text identical to the man page SYNOPSIS.

load helpers/common

check_help() {
    need_tool "$1"
    run -0 --separate-stderr "$1" --help
    assert_output --partial "usage:"
    assert_equal "$stderr" ""
}

check_unknown_flag() {
    need_tool "$1"
    run -2 --separate-stderr "$1" --no-such-flag
    assert_error_line "$1"
    assert_output ""
}

check_version() {
    need_tool "$1"
    run -0 --separate-stderr "$1" --version
    assert_output --regexp "^$1 \(shipkit\) [^ ]+\$"
    assert_equal "$stderr" ""
}

check_dev_full() {
    need_tool "$1"
    [[ -w /dev/full ]] || skip "/dev/full not available"
    # shellcheck disable=SC2016
    run --separate-stderr bash -c '"$0" --help >/dev/full' "$1"
    refute_crash
    ((status != 0)) || fail "writing --help to /dev/full succeeded (exit 0)"
    assert_error_line "$1"
}

# synopsis_tokens: whitespace-normalised tokens of a synopsis read on stdin, with [ ] | split
# off as tokens of their own and "usage:" dropped, one per line.
synopsis_tokens() {
    sed -e 's/^[[:space:]]*[Uu]sage:[[:space:]]*//' \
        -e 's/\[/ [ /g; s/\]/ ] /g; s/|/ | /g' \
        -e 's/\.\.\./ ... /g' |
        tr -s ' \t' '\n\n' | sed '/^$/d'
}

# help_synopsis TOOL: the usage block of --help (up to the first blank line).
help_synopsis() {
    "$1" --help | sed '/^[[:space:]]*$/q'
}

# man_synopsis FILE: the SYNOPSIS section of a man page, rendered as plain text.
man_synopsis() {
    local page=$1 text
    if command -v man >/dev/null 2>&1 &&
        text=$(MAN_DISABLE_SECCOMP=1 MANWIDTH=2000 MANPAGER=cat PAGER=cat man -l "$page" 2>/dev/null) &&
        [[ -n $text ]]; then
        # Rendered: from the SYNOPSIS heading to the next heading (a line starting non-blank).
        printf '%s\n' "$text" | if command -v col >/dev/null 2>&1; then col -b; else cat; fi |
            awk '/^SYNOPSIS/ { on = 1; next } on && /^[^ \t]/ { exit } on { print }'
        return
    fi
    # No renderer: strip the roff by hand (man(7) macros and inline fonts).
    awk '/^\.SH +"?SYNOPSIS/ { on = 1; next } on && /^\.SH/ { exit } on { print }' "$page" |
        sed -e '/^\.\\"/d' \
            -e 's/^\.\(B\|I\|BR\|RB\|IR\|RI\|BI\|IB\|OP\|SY\)[[:space:]]*//' \
            -e '/^\.[A-Za-z]*[[:space:]]*$/d' \
            -e 's/\\f[BIRP]//g; s/\\f(..//g; s/\\fB//g' \
            -e 's/\\-/-/g; s/\\&//g; s/\\~/ /g; s/\\ / /g; s/\\(em/--/g' \
            -e 's/"//g'
}

check_synopsis() {
    local tool=$1 page=$REPO/src/$1.1
    need_tool "$tool"
    [[ -f $page ]] || fail "src/$tool.1 does not exist"
    local want got
    want=$(man_synopsis "$page" | synopsis_tokens)
    got=$(help_synopsis "$tool" | synopsis_tokens)
    [[ -n $want ]] || fail "no SYNOPSIS found in src/$tool.1"
    if [[ $want != "$got" ]]; then
        fail "$tool --help usage differs from the SYNOPSIS of src/$tool.1:"$'\n'"$(diff <(echo "$want") <(echo "$got") | sed 's/^/  /')"
    fi
}

@test "aws-sign --help: usage on stdout, exit 0" { check_help aws-sign; }
@test "ssm-put --help: usage on stdout, exit 0" { check_help ssm-put; }
@test "secret-put --help: usage on stdout, exit 0" { check_help secret-put; }
@test "ecr-push --help: usage on stdout, exit 0" { check_help ecr-push; }
@test "tg-health --help: usage on stdout, exit 0" { check_help tg-health; }
@test "rds-check --help: usage on stdout, exit 0" { check_help rds-check; }
@test "ecs-roll --help: usage on stdout, exit 0" { check_help ecs-roll; }
@test "ecs-run --help: usage on stdout, exit 0" { check_help ecs-run; }

@test "aws-sign: unknown flag exits 2 with one stderr line" { check_unknown_flag aws-sign; }
@test "ssm-put: unknown flag exits 2 with one stderr line" { check_unknown_flag ssm-put; }
@test "secret-put: unknown flag exits 2 with one stderr line" { check_unknown_flag secret-put; }
@test "ecr-push: unknown flag exits 2 with one stderr line" { check_unknown_flag ecr-push; }
@test "tg-health: unknown flag exits 2 with one stderr line" { check_unknown_flag tg-health; }
@test "rds-check: unknown flag exits 2 with one stderr line" { check_unknown_flag rds-check; }
@test "ecs-roll: unknown flag exits 2 with one stderr line" { check_unknown_flag ecs-roll; }
@test "ecs-run: unknown flag exits 2 with one stderr line" { check_unknown_flag ecs-run; }

@test "aws-sign --version" { check_version aws-sign; }
@test "ssm-put --version" { check_version ssm-put; }
@test "secret-put --version" { check_version secret-put; }
@test "ecr-push --version" { check_version ecr-push; }
@test "tg-health --version" { check_version tg-health; }
@test "rds-check --version" { check_version rds-check; }
@test "ecs-roll --version" { check_version ecs-roll; }
@test "ecs-run --version" { check_version ecs-run; }

@test "aws-sign: a failed write to stdout (/dev/full) is an error" { check_dev_full aws-sign; }
@test "ssm-put: a failed write to stdout (/dev/full) is an error" { check_dev_full ssm-put; }
@test "secret-put: a failed write to stdout (/dev/full) is an error" { check_dev_full secret-put; }
@test "ecr-push: a failed write to stdout (/dev/full) is an error" { check_dev_full ecr-push; }
@test "tg-health: a failed write to stdout (/dev/full) is an error" { check_dev_full tg-health; }
@test "rds-check: a failed write to stdout (/dev/full) is an error" { check_dev_full rds-check; }
@test "ecs-roll: a failed write to stdout (/dev/full) is an error" { check_dev_full ecs-roll; }
@test "ecs-run: a failed write to stdout (/dev/full) is an error" { check_dev_full ecs-run; }

@test "aws-sign: usage text matches the man page SYNOPSIS" { check_synopsis aws-sign; }
@test "ssm-put: usage text matches the man page SYNOPSIS" { check_synopsis ssm-put; }
@test "secret-put: usage text matches the man page SYNOPSIS" { check_synopsis secret-put; }
@test "ecr-push: usage text matches the man page SYNOPSIS" { check_synopsis ecr-push; }
@test "tg-health: usage text matches the man page SYNOPSIS" { check_synopsis tg-health; }
@test "rds-check: usage text matches the man page SYNOPSIS" { check_synopsis rds-check; }
@test "ecs-roll: usage text matches the man page SYNOPSIS" { check_synopsis ecs-roll; }
@test "ecs-run: usage text matches the man page SYNOPSIS" { check_synopsis ecs-run; }

@test "every tool of the Makefile has each convention test here" {
    local tools t check
    tools=$(sed -n 's/^TOOLS := //p' "$REPO/Makefile")
    [[ -n $tools ]] || fail "no TOOLS := line in the Makefile"
    assert_equal "$tools" "${TOOLS[*]}"
    for t in $tools; do
        for check in check_help check_unknown_flag check_version check_dev_full check_synopsis; do
            grep -qE "^@test .*\{ $check $t; \}\$" "$BATS_TEST_FILENAME" || fail "$t has no $check test"
        done
    done
}

@test "the versions of all tools agree" {
    local v= t
    for t in "${TOOLS[@]}"; do
        need_tool "$t"
        run -0 --separate-stderr "$t" --version
        if [[ -z $v ]]; then
            v=${output##* }
        else
            assert_equal "${output##* }" "$v"
        fi
    done
}
