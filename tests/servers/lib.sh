#!/usr/bin/env bash
# Shared by the server scripts that run one process from a pidfile
# (sandbox.sh, smtp.sh, sshd.sh): `. "$here/lib.sh"`.
#
# stop_pid NAME PIDFILE [FILE...]
#     SIGTERM the pid in PIDFILE, wait up to 5 s, then SIGKILL it; remove
#     PIDFILE and the FILEs; say "NAME: stopped" on stderr. The caller checks
#     first that the process is the server's.

stop_pid() {
    local name=$1 pidfile=$2 pid
    shift 2
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then kill -9 "$pid" 2>/dev/null || true; fi
    rm -f "$pidfile" "$@"
    echo "$name: stopped" >&2
}
