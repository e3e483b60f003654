#!/usr/bin/env bats
# Third-party GitHub Actions are pinned by commit SHA (docs/security.md, item 11): a tag can be moved
# to other code by whoever controls the action's repository. tests/lint/actions-pinned (run by make
# lint and make test) holds the repository to it; here it is shown to refuse a workflow pinned by tag.

load helpers/common

# tree WORKFLOW_TEXT: a scratch repository holding the check and one workflow.
tree() {
    local d=$BATS_TEST_TMPDIR/repo
    rm -rf "$d"
    mkdir -p "$d/tests/lint" "$d/.github/workflows"
    cp "$REPO/tests/lint/actions-pinned" "$d/tests/lint/"
    printf '%s\n' "$1" >"$d/.github/workflows/deploy.yml"
    echo "$d"
}

@test "the repository's workflows pin every action by commit SHA" {
    run -0 "$REPO/tests/lint/actions-pinned"
    refute_output --partial "not ok"
}

@test "a workflow that pins an action by tag (@v4) or by branch fails the check" {
    local d
    d=$(tree $'jobs:\n  x:\n    steps:\n      - uses: actions/checkout@v4\n      - uses: aws-actions/configure-aws-credentials@main')
    run -1 "$d/tests/lint/actions-pinned"
    assert_output --partial "actions/checkout@v4"
    assert_output --partial "configure-aws-credentials@main"
}

@test "a SHA without the version comment, or a docker:// action by tag, fails the check too" {
    local d
    d=$(tree $'jobs:\n  x:\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683\n      - uses: docker://alpine:3')
    run -1 "$d/tests/lint/actions-pinned"
    d=$(tree $'jobs:\n  x:\n    steps:\n      - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n      - uses: ./local-action')
    run -0 "$d/tests/lint/actions-pinned"
}
