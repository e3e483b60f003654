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
#   allow_contract_refusal  this test provokes AWS refusals on purpose (see "contract layer" below)
#
# Secret hygiene (tests/hygiene, docs/secret-hygiene.md): every secret a test uses is registered in
# $SK_SECRETS_FILE (NAME<TAB>VALUE lines, 0600), which tests/hygiene/argv-watch reads while the
# tools run. use_stack registers the stack's secret keys and database password; tests make their
# secret values with `canary NAME`. Every `run` then checks its stdout, stderr and the files it
# wrote under $BATS_TEST_TMPDIR for registered secrets and fails the test on a leak:
#   canary NAME                   print a new unique secret value and register it as NAME
#   register_secret NAME VALUE    register a value the test got elsewhere (STS session tokens)
#   allow_secret_output           the next `run` may print secrets (a reference client reading back)
#   allow_secret_file PATH        a tool may write secrets to PATH (besides the ECR token cache)

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

# The run's secret registry: tests/hygiene/run-with-watch exports SK_SECRETS_FILE for a watched
# run; otherwise each bats run gets its own.
if [[ -z ${SK_SECRETS_FILE:-} ]]; then
    export SK_SECRETS_FILE=${BATS_RUN_TMPDIR:-$BATS_TEST_TMPDIR}/sk-secrets
fi
(umask 077 && : >>"$SK_SECRETS_FILE")

# shellcheck disable=SC2034 # used by the bats files
TOOLS=(aws-sign ssm-put secret-put ecr-push ecs-roll tg-health rds-check ecs-run)

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
    register_secret stack-ci-secret-key "$AWS_SECRET_ACCESS_KEY"
    register_secret stack-ro-secret-key "${SK_RO_SECRET_ACCESS_KEY:-}"
    register_secret stack-pg-password "${SK_PG_PASSWORD:-}"
    _sk_contract_begin
}

# awsref ARGS...: the reference client against the stack.
awsref() {
    /usr/bin/aws --endpoint-url "$AWS_ENDPOINT_URL" --no-cli-pager "$@"
}

# make_images: the image fixtures of tests/fixtures/make-images in $BATS_FILE_TMPDIR/img (from setup_file).
make_images() {
    python3 "$REPO/tests/fixtures/make-images" "$BATS_FILE_TMPDIR/img" >/dev/null
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
    # The ECR authorization token moto hands out (base64 of USER:PASSWORD): only the token cache
    # may hold it. The password itself is a fixed moto constant the reference clients take on argv.
    register_secret ecr-token "$(printf '%s:%s' "$SK_REGISTRY_USER" "$SK_REGISTRY_PASSWORD" | base64 -w0)"
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

# ---- secret hygiene -------------------------------------------------------------------------

# register_secret NAME VALUE: add VALUE to the run's registry (once). Values shorter than 8
# characters would match by accident and are not registered.
register_secret() {
    local name=$1 value=$2
    [[ ${#value} -ge 8 && $value != *$'\n'* && $name != *$'\t'* ]] || return 0
    # Patterns through -f, never argv: argv-watch would rightly flag grep itself.
    if ! grep -qxFf <(printf '%s\t%s\n' "$name" "$value") "$SK_SECRETS_FILE" 2>/dev/null; then
        printf '%s\t%s\n' "$name" "$value" >>"$SK_SECRETS_FILE"
    fi
}

# canary NAME: print a fresh secret value (letters and digits, recognisable in a dump) and register
# it as NAME. Use it for every SecureString, secret and password a test writes.
canary() {
    local v
    v=skcanary$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    register_secret "$1" "$v"
    printf '%s' "$v"
}

# allow_secret_output: the next `run` is a reference client that reads a secret back.
allow_secret_output() {
    _sk_allow_output=1
}

# allow_secret_file PATH: a file a tool writes secrets to on purpose (the test asked it to).
allow_secret_file() {
    _sk_allowed_files+=("$1")
}
_sk_allowed_files=()
_sk_allow_output=0

# _sk_secret_values: the registered values, one a line (grep -F -f input).
_sk_secret_values() {
    cut -f2- "$SK_SECRETS_FILE" 2>/dev/null
}

# _sk_secret_names TEXTFILE: the names of the registered secrets TEXTFILE holds.
_sk_secret_names() {
    local name value names=()
    while IFS=$'\t' read -r name value; do
        [[ -n $value ]] || continue
        if grep -aqFf <(printf '%s\n' "$value") "$1"; then
            names+=("$name")
        fi
    done <"$SK_SECRETS_FILE"
    echo "${names[*]}"
}

# _sk_hygiene_check MARKER: after a `run`, look for registered secrets in its stdout/stderr and in
# the files under $BATS_TEST_TMPDIR written since MARKER. The ECR token cache may hold the token but
# must be 0600. Prints one line per leak (secret NAMEs only) and fails if there was any.
_sk_hygiene_check() {
    local marker=$1 leaks=() f rel mode scratch=$BATS_TEST_TMPDIR/.sk-hygiene-scan allowed a
    # Messages name the secret and the command's first word, never a value or the full command line.
    [[ -s $SK_SECRETS_FILE ]] || return 0
    if [[ $_sk_allow_output != 1 ]]; then
        printf '%s\n%s' "${output:-}" "${stderr:-}" >"$scratch"
        if grep -aqF -f <(_sk_secret_values) "$scratch"; then
            leaks+=("output of $_sk_run_what holds $(_sk_secret_names "$scratch")")
        fi
    fi
    while IFS= read -r -d '' f; do
        rel=${f#"$BATS_TEST_TMPDIR"/}
        case $rel in
        .sk-hygiene-* | separate-stderr-*) continue ;; # ours, and bats' copy of $stderr (checked above)
        esac
        grep -aqF -f <(_sk_secret_values) "$f" || continue
        # ~/.cache/shipkit or $XDG_CACHE_HOME/shipkit
        if [[ $rel == *shipkit/ecr-auth/*.json ]]; then
            mode=$(stat -c %a "$f")
            [[ $mode == 600 ]] || leaks+=("the ECR token cache $rel is mode $mode, not 600")
            continue
        fi
        allowed=0
        for a in "${_sk_allowed_files[@]}"; do
            [[ $f == "$a" ]] && allowed=1
        done
        [[ $allowed == 1 ]] || leaks+=("file $rel written by $_sk_run_what holds $(_sk_secret_names "$f")")
    done < <(find "$BATS_TEST_TMPDIR" -type f -newer "$marker" -size -8M -print0 2>/dev/null)
    rm -f "$scratch"
    _sk_allow_output=0
    if [[ ${#leaks[@]} -gt 0 ]]; then
        printf '# secret leak: %s\n' "${leaks[@]}" >&2
        if [[ -n ${SK_HYGIENE_LOG:-} ]]; then
            for a in "${leaks[@]}"; do
                printf 'leak\t%s\t%s\n' "$BATS_TEST_NAME" "$a" >>"$SK_HYGIENE_LOG"
            done
        fi
        return 1
    fi
    [[ -z ${SK_HYGIENE_LOG:-} ]] || printf 'scan\t%s\n' "$BATS_TEST_NAME" >>"$SK_HYGIENE_LOG"
    return 0
}

# Every tool runs through bats' `run`: wrap it so each run is checked as it returns.
eval "$(declare -f run | sed '1s/^run /_sk_bats_run /')"
run() {
    local _sk_rc _sk_a
    # setup_file and teardown_file have no test directory: nothing to check there.
    if [[ -z ${BATS_TEST_TMPDIR:-} ]]; then
        _sk_bats_run "$@"
        return
    fi
    _sk_run_what=
    for _sk_a in "$@"; do
        [[ $_sk_a == -* || $_sk_a == '!' ]] || {
            _sk_run_what=${_sk_a##*/}
            break
        }
    done
    : >"$BATS_TEST_TMPDIR/.sk-hygiene-marker"
    _sk_bats_run "$@"
    _sk_rc=$?
    _sk_hygiene_check "$BATS_TEST_TMPDIR/.sk-hygiene-marker" || return 1
    return "$_sk_rc"
}

# ---- the contract layer (tests/stack/contract.py, docs/aws-fidelity.md) ------------------------------
# The stack checks every request and answer against AWS's API models and logs each refusal and each
# answer that broke the output shape to $SK_CONTRACT_LOG, with the SK_TEST_ID of the process that sent
# the request (it reads it from the client's /proc/PID/environ). use_stack exports SK_TEST_ID for the
# test and wraps the test's teardown: the test fails when the log names it, names its file's
# setup_file, or got an entry nobody could be named for while it ran. Other files running at the
# same time cannot fail it. A refusal is also the AWS error the tool saw; a test that provokes one on
# purpose (and checks how it is handled) calls allow_contract_refusal; violations always fail.
allow_contract_refusal() {
    _sk_contract_allow=1
}
_sk_contract_allow=0

# shellcheck disable=SC2317 # the teardown defined here is called by bats
_sk_contract_begin() {
    [[ -n ${SK_CONTRACT_LOG:-} ]] || return 0
    export SK_TEST_ID="${BATS_RUN_TMPDIR##*/}/${BATS_TEST_FILENAME##*/}/${BATS_TEST_NUMBER:-setup_file}"
    [[ -n ${BATS_TEST_NUMBER:-} && -z ${_sk_contract_hooked:-} ]] || return 0
    _sk_contract_hooked=1
    _sk_contract_start=$(stat -c %s "$SK_CONTRACT_LOG" 2>/dev/null || echo 0)
    if declare -F teardown >/dev/null; then
        eval "$(declare -f teardown | sed '1s/^teardown/_sk_contract_inner_teardown/')"
    else
        _sk_contract_inner_teardown() { :; }
    fi
    teardown() {
        local rc=0
        _sk_contract_inner_teardown || rc=$?
        _sk_contract_check || rc=1
        return "$rc"
    }
}

# _sk_contract_check: print this test's contract log entries (kind, call, code, message) and fail if any.
_sk_contract_check() {
    local log=${SK_CONTRACT_LOG:-} entries
    [[ -n $log && -s $log ]] || return 0
    entries=$({
        grep -aF -e "\"test\": \"$SK_TEST_ID\"" -e "\"test\": \"${SK_TEST_ID%/*}/setup_file\"" "$log"
        tail -c +$((${_sk_contract_start:-0} + 1)) "$log" | grep -aF '"test": null'
    } || true)
    if [[ $_sk_contract_allow == 1 ]]; then
        entries=$(grep -v '"kind": "refused"' <<<"$entries" || true)
    fi
    [[ -n $entries ]] || return 0
    printf '%s\n' "$entries" | sed -E 's/.*"kind": "([a-z]+)".*"service": "([^"]*)", "operation": "([^"]*)".*"code": "([^"]*)", "message": "(.*)"\}$/# contract \1: \2 \3: \4: \5/' >&2
    echo "# the stack's contract layer refused a request of this test or found an answer breaking AWS's API (docs/aws-fidelity.md)" >&2
    return 1
}
