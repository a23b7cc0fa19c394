#!/usr/bin/env bash
# Shared by every flow script: `. "$(dirname "$0")/../lib.sh"`, then
# `flow_init NAME "$@"`. The scripts a flow runs per batch (reportstream's
# send.sh, reqcheck's publish.sh) source it too, for its functions and
# settings, without flow_init.
#
# Sets FLOW_HOME (the repository root), FLOW_DIR (the flow script's folder),
# FLOW_NAME (that folder's name until flow_init names the flow), DATA_DIR,
# LOG_DIR and STATE_DIR (from the environment, else $FLOW_HOME/data, /log,
# /state). When ENV_FILE is set it is sourced first with `set -a`, so it may
# set any of these too. The tools come from $PHTOOLS_BIN when set, else from
# $FLOW_HOME/target/release when that exists, else from PATH. umask is 077:
# whatever a flow writes (data files with patient records, logs) is private.
#
# The day a run is for (RUN_DATE), the same rule in every flow: the flow's
# argument, else the DATE variable, else today; YYYY-MM-DD. bz-out alone gives
# flow_init the day its window starts (START), as its argument.
#
# Functions:
#   require_env VAR...   exit 78 naming every missing (unset or empty) variable
#   flow_init NAME [DATE]  RUN_DATE (DATE, else $DATE, else today; YYYY-MM-DD,
#                        else exit 64), AUDIT=$LOG_DIR/${RUN_DATE}_NAME.jsonl,
#                        stderr also appended to $LOG_DIR/${RUN_DATE}_NAME.log,
#                        and the lock $STATE_DIR/NAME.lock (held elsewhere:
#                        exit 75)
#   audit                append stdin to $AUDIT and pass it through
#   step TEXT...         one progress line on stderr
#   at_exit CMD [ARG...] run CMD with its ARGs (as given: no quoting needed)
#                        when the flow exits, e.g. `at_exit rm -rf "$work"`;
#                        flows use this instead of their own EXIT trap
#   die CODE TEXT...     one error line on stderr, exit CODE
#   background NAME CMD...  run CMD (a tool or a function) in the background,
#                        its stdout (receipts) kept aside until wait_all
#   wait_all             wait for every background job, then append each
#                        one's receipts to $AUDIT in the order they were
#                        started (when that fails: exit 74, the receipts kept
#                        in a folder it names), then exit with the first
#                        failed job's code (in that order) if any failed
#
# A tool's flags from the variables, appended to the array ARRAY (declare it
# first: `box=()`), to pass as "${ARRAY[@]}":
#   db_args ARRAY        db-extract's and db-load's: --db "$DB_URL", and
#                        --password-env DB_PASSWORD when DB_PASSWORD is set
#   ca_args ARRAY VAR    --ca-file "$VAR" when the variable VAR is set
#   box_folder_args ARRAY put|get|move FOLDER [SUBFOLDER]
#                        the Box folder FOLDER, given as an id (digits) or as
#                        a path from the root, or SUBFOLDER (a path) under it:
#                        put, box-put's folder to upload to (--folder ID, or
#                        --root ID --path SUBFOLDER, or --path FOLDER/SUBFOLDER;
#                        a folder given by path is created when missing,
#                        --mkdir); get, box-get's folder to download from (the
#                        same, never created); move, box-get's folder to move
#                        to (--move-to-folder ID, --move-to PATH)
set -euo pipefail
umask 077

FLOW_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FLOW_DIR=$(cd "$(dirname "$0")" && pwd)
FLOW_NAME=${FLOW_NAME:-$(basename "$FLOW_DIR")}

if [ -n "${ENV_FILE:-}" ]; then
    if [ ! -r "$ENV_FILE" ]; then
        echo "$FLOW_NAME: error: cannot read ENV_FILE $ENV_FILE" >&2
        exit 78
    fi
    set -a
    # shellcheck disable=SC1090  # the operator's own file
    . "$ENV_FILE"
    set +a
fi

DATA_DIR=${DATA_DIR:-$FLOW_HOME/data}
LOG_DIR=${LOG_DIR:-$FLOW_HOME/log}
STATE_DIR=${STATE_DIR:-$FLOW_HOME/state}

if [ -n "${PHTOOLS_BIN:-}" ]; then
    PATH=$PHTOOLS_BIN:$PATH
elif [ -d "$FLOW_HOME/target/release" ]; then
    PATH=$FLOW_HOME/target/release:$PATH
fi
export PATH

_flow_exit_cmds=()
_flow_tee_pid=

# shellcheck disable=SC2317  # called by the EXIT trap
_flow_on_exit() {
    local rc=$? c
    for c in "${_flow_exit_cmds[@]}"; do
        eval "$c" || true
    done
    # Let the log's tee write its last lines before the flow's caller reads it.
    if [ -n "$_flow_tee_pid" ]; then
        exec 2>&-
        wait "$_flow_tee_pid" 2>/dev/null || true
    fi
    exit "$rc"
}
trap _flow_on_exit EXIT

at_exit() {
    _flow_exit_cmds+=("$(printf '%q ' "$@")")
}

die() {
    local code=$1
    shift
    echo "$FLOW_NAME: error: $*" >&2
    exit "$code"
}

step() {
    printf '%s: %s\n' "$FLOW_NAME" "$*" >&2
}

require_env() {
    local v missing=()
    for v in "$@"; do
        [ -n "${!v:-}" ] || missing+=("$v")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        local list
        list=$(printf '%s, ' "${missing[@]}")
        echo "$FLOW_NAME: error: missing variables: ${list%, } (see pipelines/$FLOW_NAME/env.example)" >&2
        exit 78
    fi
}

flow_init() {
    FLOW_NAME=$1
    local d=${2:-${DATE:-}}
    [ -n "$d" ] || d=$(date +%F)
    if ! [[ $d =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}$ ]] || [ "$(date -d "$d" +%F 2>/dev/null)" != "$d" ]; then
        echo "$FLOW_NAME: error: DATE must be a date as YYYY-MM-DD" >&2
        exit 64
    fi
    RUN_DATE=$d
    mkdir -p "$DATA_DIR" "$LOG_DIR" "$STATE_DIR"
    AUDIT=$LOG_DIR/${RUN_DATE}_$FLOW_NAME.jsonl
    exec 2> >(tee -a "$LOG_DIR/${RUN_DATE}_$FLOW_NAME.log" >&2)
    _flow_tee_pid=$!
    local lock=$STATE_DIR/$FLOW_NAME.lock
    exec {FLOW_LOCK_FD}>>"$lock"
    if ! flock -n "$FLOW_LOCK_FD"; then
        echo "$FLOW_NAME: error: another run holds $lock; try again later" >&2
        exit 75
    fi
    step "run for $RUN_DATE started $(date -u +%FT%TZ)"
}

audit() {
    tee -a "$AUDIT"
}

_flow_jobs=()
_flow_job_pids=()
_flow_job_dir=
_flow_keep_jobs=

background() {
    local name=$1
    shift
    if [ -z "$_flow_job_dir" ]; then
        _flow_job_dir=$(mktemp -d "${TMPDIR:-/tmp}/$FLOW_NAME-jobs.XXXXXX")
        at_exit _flow_remove_jobs
    fi
    "$@" >"$_flow_job_dir/$name.jsonl" &
    _flow_jobs+=("$name")
    _flow_job_pids+=("$!")
}

# shellcheck disable=SC2317  # called at exit
_flow_remove_jobs() {
    [ -n "$_flow_keep_jobs" ] || rm -rf "$_flow_job_dir"
}

wait_all() {
    local i status first=0 receipts
    # Every job ends before any receipt is appended, so that a failure to
    # append cannot stop the run while a job still runs.
    for i in "${!_flow_job_pids[@]}"; do
        status=0
        wait "${_flow_job_pids[$i]}" || status=$?
        [ "$first" -ne 0 ] || first=$status
    done
    for i in "${!_flow_jobs[@]}"; do
        receipts=$_flow_job_dir/${_flow_jobs[$i]}.jsonl
        if [ -s "$receipts" ] && ! audit <"$receipts" >/dev/null; then
            _flow_keep_jobs=1
        fi
    done
    _flow_jobs=()
    _flow_job_pids=()
    if [ -n "$_flow_keep_jobs" ]; then
        die 74 "could not append every receipt to $AUDIT; the receipts of this run are kept in $_flow_job_dir"
    fi
    [ "$first" -eq 0 ] || exit "$first"
}

# _flow_append ARRAY WORD...: append the WORDs to the caller's array ARRAY.
_flow_append() {
    local -n _flow_array=$1
    shift
    _flow_array+=("$@")
}

db_args() {
    _flow_append "$1" --db "$DB_URL"
    [ -z "${DB_PASSWORD:-}" ] || _flow_append "$1" --password-env DB_PASSWORD
}

ca_args() {
    [ -z "${!2:-}" ] || _flow_append "$1" --ca-file "${!2}"
}

box_folder_args() {
    local _flow_use=$2 _flow_folder=$3 _flow_sub=${4:-} _flow_id=--folder _flow_path=--path _flow_mkdir=()
    case $_flow_use in
    put) _flow_mkdir=(--mkdir) ;;
    get) ;;
    move) _flow_id=--move-to-folder _flow_path=--move-to ;;
    *) die 70 "box_folder_args: put, get or move, not $_flow_use" ;;
    esac
    if [[ $_flow_folder =~ ^[0-9]+$ ]] && [ -z "$_flow_sub" ]; then
        _flow_append "$1" "$_flow_id" "$_flow_folder"
    elif [[ $_flow_folder =~ ^[0-9]+$ ]]; then
        _flow_append "$1" --root "$_flow_folder" "$_flow_path" "$_flow_sub" "${_flow_mkdir[@]}"
    else
        _flow_append "$1" "$_flow_path" "$_flow_folder${_flow_sub:+/$_flow_sub}" "${_flow_mkdir[@]}"
    fi
}
