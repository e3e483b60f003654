# shellcheck shell=bash disable=SC2154 # status/output/stderr come from bats' run
# tests/bats/helpers/common.bash: loaded by every bats file (load helpers/common).
#
# Hermetic environment: no AWS_* from the caller, HOME in the test's temp dir, UTC, C locale,
# the repo's bin/ first on PATH. Helpers:
#   use_stack     source the moto stack's env file ($SK_STACK_ENV) or skip the test
#   awsref ARGS   the reference client: /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" ARGS
#   unique        a per-test unique suffix for resource names
#   refute_crash  fail if $status says the last `run` crashed (status > 128)
#   pyref         a python3 that has botocore (for signer comparisons)
#   use_registry  use_stack, then skip unless the stack has its container registry ($SK_REGISTRY)
#   skopeo_ref SUBCOMMAND ARGS  skopeo with the stack registry's credentials and CA

REPO=$(cd "$BATS_TEST_DIRNAME/.." && pwd)
# bats files live in tests/bats, so the repo is two levels up.
REPO=$(cd "$REPO/.." && pwd)
export REPO

# run -N and --separate-stderr need bats >= 1.5 (Debian 12 has 1.8.2).
bats_require_minimum_version 1.5.0

load /usr/lib/bats/bats-support/load
load /usr/lib/bats/bats-assert/load

_sk_stack_env=${SK_STACK_ENV:-}
_sk_python=${SK_PYTHON:-}
while IFS= read -r _v; do
    unset "$_v"
done < <(compgen -e | grep '^AWS_' || true)
unset _v
export SK_STACK_ENV=$_sk_stack_env
# Caches (ecr-push's token and layer caches) live under HOME, never the caller's.
unset XDG_CACHE_HOME

export HOME=$BATS_TEST_TMPDIR
export TZ=UTC
export LC_ALL=C
export PATH="$REPO/bin:$PATH"
# No config files from the real HOME; point the SDK-standard variables at empty files.
export AWS_CONFIG_FILE=$BATS_TEST_TMPDIR/aws-config
export AWS_SHARED_CREDENTIALS_FILE=$BATS_TEST_TMPDIR/aws-credentials
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"
# The reference CLI must never page or prompt.
export AWS_PAGER=

# shellcheck disable=SC2034 # used by the bats files
TOOLS=(aws-sign ssm-put secret-put ecr-push tg-health rds-check)

# use_stack: export the moto stack's endpoint and shipkit-ci credentials.
use_stack() {
    if [[ -z ${SK_STACK_ENV:-} ]]; then
        skip "no test stack: SK_STACK_ENV is unset (run via tests/run or make bats)"
    fi
    if [[ ! -r $SK_STACK_ENV ]]; then
        skip "no test stack: cannot read SK_STACK_ENV=$SK_STACK_ENV"
    fi
    # shellcheck disable=SC1090
    source "$SK_STACK_ENV"
}

# awsref ARGS...: the reference client against the stack.
awsref() {
    /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --no-cli-pager "$@"
}

# unique: a name suffix unique to this test (file, test number, pid, random).
unique() {
    local f
    f=$(basename "$BATS_TEST_FILENAME" .bats)
    printf '%s-%s-%s-%s' "$f" "${BATS_TEST_NUMBER:-0}" "$$" "$RANDOM$RANDOM"
}

# refute_crash: the last `run` must not have died from a signal / sanitizer abort.
refute_crash() {
    if ((status > 128)); then
        fail "crashed: exit status $status${stderr:+; stderr: $stderr}"
    fi
}

# need_tool TOOL: fail (not skip) clearly when a tool has not been built.
need_tool() {
    [[ -x $REPO/bin/$1 ]] || fail "bin/$1 is not built (make tools)"
}

# pyref: print a python3 that can import botocore.
pyref() {
    local py
    for py in "$_sk_python" python3 "${PYENV_ROOT:-/root/.pyenv}/shims/python3"; do
        [[ -n $py ]] || continue
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import botocore' >/dev/null 2>&1; then
            echo "$py"
            return 0
        fi
    done
    return 1
}

# A `run` status > 128 is a crash in every test: check it after each test automatically.
teardown() {
    if [[ -n ${status:-} ]] && ((status > 128)); then
        echo "# last command crashed with status $status" >&2
        return 1
    fi
}

# assert_error_line TOOL [TEXT]: stderr of the last `run --separate-stderr` is exactly one line
# "TOOL: message" (containing TEXT when given).
assert_error_line() {
    local tool=$1 text=${2:-}
    if [[ ${#stderr_lines[@]} -ne 1 ]]; then
        fail "expected exactly one stderr line, got ${#stderr_lines[@]}:"$'\n'"$stderr"
    fi
    if [[ ${stderr_lines[0]} != "$tool: "* ]]; then
        fail "stderr does not start with '$tool: ': ${stderr_lines[0]}"
    fi
    if [[ -n $text && ${stderr_lines[0]} != *"$text"* ]]; then
        fail "stderr does not mention '$text': ${stderr_lines[0]}"
    fi
}

# refute_leak TEXT: neither stdout nor stderr of the last run contains TEXT.
refute_leak() {
    local text=$1
    [[ -n $text ]] || fail "refute_leak: empty text"
    if [[ $output == *"$text"* ]]; then
        fail "stdout leaks a secret ($text)"
    fi
    if [[ ${stderr:-} == *"$text"* ]]; then
        fail "stderr leaks a secret ($text)"
    fi
}

# Never wait on instance metadata when a test removes credentials.
export AWS_EC2_METADATA_DISABLED=true

# use_registry: the stack (use_stack) with its docker-registry; skip when the stack has none.
use_registry() {
    use_stack
    if [[ -z ${SK_REGISTRY:-} ]]; then
        skip "no container registry in the test stack: SK_REGISTRY is unset (apt-get install docker-registry, then restart the stack)"
    fi
}

# skopeo_ref SUBCOMMAND ARGS...: the reference registry client against the stack's registry, with
# its credentials and CA (a --cert-dir holding ca.crt) for every docker:// reference: --creds and
# --cert-dir, or for copy/sync both the --src- and --dest- forms. No signature policy.
skopeo_ref() {
    command -v skopeo >/dev/null 2>&1 || fail "skopeo is not installed (apt-get install skopeo)"
    local sub=$1 creds=$SK_REGISTRY_USER:$SK_REGISTRY_PASSWORD certs=${SK_REGISTRY_CERT_DIR:-}
    shift
    if [[ -z $certs || ! -r $certs/ca.crt ]]; then
        certs=$BATS_TEST_TMPDIR/skopeo-certs.d
        mkdir -p "$certs"
        cp "$SK_REGISTRY_CA" "$certs/ca.crt"
    fi
    case $sub in
    copy | sync)
        skopeo --insecure-policy "$sub" --src-creds "$creds" --src-cert-dir "$certs" \
            --dest-creds "$creds" --dest-cert-dir "$certs" "$@"
        ;;
    *) skopeo --insecure-policy "$sub" --creds "$creds" --cert-dir "$certs" "$@" ;;
    esac
}
