#!/usr/bin/env bash
# Shared by the flow tests: `. "$(dirname "$0")/lib.sh"`, then `test_init NAME "${1:-}"`.
# They run under tests/servers/with-servers.sh (TEST_SANDBOX_*, TEST_SFTP_*,
# TEST_SMTP_* set), usually through tests/flows/run.sh BIN_DIR.
#
# test_init NAME [BIN_DIR]
#     ROOT (the repository), T (a fresh temp dir, removed at exit unless
#     KEEP_TMP=1), exports DATA_DIR=$T/data LOG_DIR=$T/log STATE_DIR=$T/state
#     and PHTOOLS_BIN (BIN_DIR, else $PHTOOLS_BIN, else target/debug; made
#     absolute), unsets ENV_FILE, installs jq, curl and sqlite3 when missing,
#     and resets the sandbox.
# run_flow CODE CMD...
#     runs CMD with stdout to $T/out and stderr to $T/err (also in $OUT, $ERR)
#     and checks that it exits CODE; on a wrong code it shows the stderr.
# assert_eq WANT GOT WHAT       assert_ne NOT GOT WHAT
# assert_contains FILE TEXT [WHAT]      assert_not_contains FILE TEXT [WHAT]
# assert_file FILE              assert_no_file FILE
# assert_mode MODE FILE         (octal, as stat %a prints it: 600)
# assert_lines N FILE [WHAT]    (number of lines)
# pass WHAT / fail WHAT         count a check by hand
# demo_db                       a copy of data/demo.sqlite (built when missing)
#                               as $T/demo.sqlite, and DB_URL exported for it;
#                               its patients' values become PHI sentinels
# phi_sentinels DB              the patients' emails, phones, addresses and ids
#                               of the SQLite file DB: from then on run_flow
#                               fails a run whose stderr shows one, and
#                               test_done a log or audit file that does
# kill_flow_at N COUNT CMD...   start CMD in a session of its own, wait (10 s at
#                               most) until the shell command COUNT prints N or
#                               more, check it printed N, SIGTERM the session's
#                               process group, check the run exits non-zero
#                               (its output in $T/killed.out and .err)
# test_done                     summary line; exit 1 when any check failed
#
# Sandbox (curl with the run's CA):
# sb_reset                      POST /_sandbox/reset
# sb_received API               GET /_sandbox/received?api=API (JSON on stdout)
# sb_state API                  GET /_sandbox/state?api=API (JSON on stdout)
# sb_fault JSON                 POST /_sandbox/faults (e.g. '{"path":"/box/*","status":503,"count":100}')
# sb_control API ACTION JSON    POST /_sandbox/API/ACTION
# sb_box_env                    export BOX_CONFIG=$T/box_config.json (written by
#                               pipelines/demo-box-config.sh, as make demo's),
#                               BOX_API_URL, BOX_UPLOAD_URL for the sandbox
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TEST_NAME=flows
_checks=0
_failures=0

test_init() {
    TEST_NAME=$1
    local bin=${2:-${PHTOOLS_BIN:-target/debug}}
    case $bin in /*) ;; *) bin=$ROOT/$bin ;; esac
    if [ ! -x "$bin/csv-shape" ]; then
        echo "$TEST_NAME: error: no tools in $bin (cargo build --workspace first)" >&2
        exit 66
    fi
    export PHTOOLS_BIN=$bin
    # What the tests check with; installed on a fresh machine (as root).
    "$ROOT/tests/ensure-packages.sh" jq:jq curl:curl sqlite3:sqlite3 || exit 69
    local v
    for v in TEST_SANDBOX_URL TEST_SANDBOX_CA TEST_SFTP_URL TEST_SFTP_DIR TEST_SMTP_MAILDIR; do
        if [ -z "${!v:-}" ]; then
            echo "$TEST_NAME: error: $v is not set: run under tests/servers/with-servers.sh" >&2
            exit 78
        fi
    done
    T=$(mktemp -d "${TMPDIR:-/tmp}/flowtest-$TEST_NAME.XXXXXX")
    export DATA_DIR=$T/data LOG_DIR=$T/log STATE_DIR=$T/state
    unset ENV_FILE
    # shellcheck disable=SC2034  # for the tests that source this file
    OUT=$T/out ERR=$T/err
    if [ "${KEEP_TMP:-0}" != 1 ]; then
        trap 'rm -rf "$T"' EXIT
    else
        echo "$TEST_NAME: keeping $T" >&2
    fi
    sb_reset
}

pass() {
    _checks=$((_checks + 1))
}

fail() {
    _checks=$((_checks + 1))
    _failures=$((_failures + 1))
    echo "$TEST_NAME: FAIL: $*" >&2
}

run_flow() {
    local want=$1 got=0
    shift
    "$@" >"$T/out" 2>"$T/err" || got=$?
    if [ "$got" = "$want" ]; then
        pass
    else
        fail "exit $got, want $want: $*"
        sed 's/^/    | /' "$T/err" >&2
    fi
    assert_no_phi "$T/err"
}

phi_sentinels() {
    sqlite3 "$1" "SELECT email FROM patients UNION SELECT mobile_number FROM patients
        UNION SELECT address FROM patients UNION SELECT patient_id FROM patients
        UNION SELECT email FROM rc_patients UNION SELECT cell_phone FROM rc_patients
        UNION SELECT address FROM rc_patients" | grep . >"$T/phi" \
        || { fail "no PHI sentinels in $1"; return; }
}

# A check, when phi_sentinels was called, that none of FILE... shows a patient's value.
assert_no_phi() {
    local file
    [ -s "$T/phi" ] || return 0
    for file in "$@"; do
        [ -f "$file" ] || continue
        if grep -qF -f "$T/phi" "$file"; then
            fail "$file shows a patient's value (line $(grep -nF -f "$T/phi" "$file" | head -n 1 | cut -d: -f1))"
        else
            pass
        fi
    done
}

assert_eq() {
    if [ "$1" = "$2" ]; then pass; else fail "$3: got '$2', want '$1'"; fi
}

assert_ne() {
    if [ "$1" != "$2" ]; then pass; else fail "$3: got '$2'"; fi
}

assert_contains() {
    if grep -qF -- "$2" "$1" 2>/dev/null; then pass; else fail "${3:-$1} lacks '$2'"; fi
}

assert_not_contains() {
    if ! grep -qF -- "$2" "$1" 2>/dev/null; then pass; else fail "${3:-$1} has '$2'"; fi
}

assert_file() {
    if [ -f "$1" ]; then pass; else fail "no file $1"; fi
}

assert_no_file() {
    if [ ! -e "$1" ]; then pass; else fail "$1 should not exist"; fi
}

assert_mode() {
    assert_eq "$1" "$(stat -c %a "$2" 2>/dev/null)" "mode of $2"
}

assert_lines() {
    assert_eq "$1" "$(wc -l <"$2" 2>/dev/null | tr -d ' ')" "${3:-lines of $2}"
}

demo_db() {
    if [ -f "$ROOT/data/demo.sqlite" ]; then
        cp "$ROOT/data/demo.sqlite" "$T/demo.sqlite"
    else
        "$ROOT/pipelines/demo-db/build.sh" "$T/demo.sqlite"
    fi
    export DB_URL=sqlite:$T/demo.sqlite
    phi_sentinels "$T/demo.sqlite"
}

kill_flow_at() {
    local n=$1 count=$2 pid rc=0
    shift 2
    setsid "$@" >"$T/killed.out" 2>"$T/killed.err" &
    pid=$!
    for _ in $(seq 100); do
        [ "$(eval "$count")" -ge "$n" ] && break
        sleep 0.1
    done
    assert_eq "$n" "$(eval "$count")" "requests before the kill"
    kill -TERM -- "-$(cut -d ' ' -f 5 "/proc/$pid/stat")"
    wait "$pid" || rc=$?
    assert_ne 0 "$rc" "the killed run's exit status"
}

test_done() {
    assert_no_phi "$LOG_DIR"/*.log "$LOG_DIR"/*.jsonl
    if [ "$_failures" -eq 0 ]; then
        echo "$TEST_NAME: ok, $_checks checks" >&2
        exit 0
    fi
    echo "$TEST_NAME: $_failures of $_checks checks failed" >&2
    exit 1
}

_sb() {
    curl -sS --fail-with-body --cacert "$TEST_SANDBOX_CA" "$@"
}

sb_reset() {
    _sb -X POST "$TEST_SANDBOX_URL/_sandbox/reset" >/dev/null
}

sb_received() {
    _sb "$TEST_SANDBOX_URL/_sandbox/received?api=$1"
}

sb_state() {
    _sb "$TEST_SANDBOX_URL/_sandbox/state?api=$1"
}

sb_fault() {
    _sb -X POST -H 'content-type: application/json' --data "$1" "$TEST_SANDBOX_URL/_sandbox/faults" >/dev/null
}

sb_control() {
    _sb -X POST -H 'content-type: application/json' --data "$3" "$TEST_SANDBOX_URL/_sandbox/$1/$2"
}

sb_box_env() {
    "$ROOT/pipelines/demo-box-config.sh" "$T/box_config.json"
    export BOX_CONFIG=$T/box_config.json
    export BOX_API_URL=$TEST_SANDBOX_URL/box/2.0
    export BOX_UPLOAD_URL=$TEST_SANDBOX_URL/box/upload/api/2.0
}
