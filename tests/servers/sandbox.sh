#!/usr/bin/env bash
# The sandbox (tests/sandbox: the stand-in for Box, ReportStream, dhis2,
# Primero, OSCaR and ReqCheck) as a server for the flow tests and the demo,
# on a loopback port, with its state under ${TMPDIR:-/tmp}/phtools-servers/sandbox.
#
#   tests/servers/sandbox.sh start|stop|status|env
#
# start runs the newer of target/debug/sandbox and target/release/sandbox,
# building it with `cargo build --locked -p sandbox` only when neither exists; it is a
# no-op when the server already runs, and stop is a no-op when it does not.
# The port is 58443, or PHTOOLS_SANDBOX_PORT. Each start makes a fresh CA.
# env prints:
#   export TEST_SANDBOX_URL=https://127.0.0.1:58443
#   export TEST_SANDBOX_CA=/tmp/phtools-servers/sandbox/ca.pem
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/servers/lib.sh
. "$here/lib.sh"
root=$(cd "$here/../.." && pwd)
port=${PHTOOLS_SANDBOX_PORT:-58443}
base=${TMPDIR:-/tmp}/phtools-servers
dir=$base/sandbox
pidfile=$dir/sandbox.pid

running() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null && grep -q sandbox "/proc/$pid/cmdline" 2>/dev/null
}

binary() {
    local debug=$root/target/debug/sandbox release=$root/target/release/sandbox
    if [ -x "$debug" ] && [ -x "$release" ]; then
        if [ "$release" -nt "$debug" ]; then echo "$release"; else echo "$debug"; fi
    elif [ -x "$debug" ]; then
        echo "$debug"
    elif [ -x "$release" ]; then
        echo "$release"
    else
        echo "sandbox.sh: building the sandbox (cargo build --locked -p sandbox)" >&2
        (cd "$root" && "${CARGO:-cargo}" build --locked -q -p sandbox) || {
            echo "sandbox.sh: error: building the sandbox failed" >&2
            exit 70
        }
        echo "$debug"
    fi
}

start() {
    if running; then
        echo "sandbox.sh: already running on 127.0.0.1:$port" >&2
        return 0
    fi
    local bin
    bin=$(binary)
    mkdir -p "$base"
    chmod 755 "$base"
    rm -rf "$dir"
    mkdir -p "$dir"
    "$bin" --port "$port" --dir "$dir" </dev/null >"$dir/url" 2>"$dir/sandbox.log" &
    echo $! >"$pidfile"
    local waited=0
    until [ -s "$dir/url" ]; do
        if ! kill -0 "$(cat "$pidfile")" 2>/dev/null || [ $waited -ge 300 ]; then
            echo "sandbox.sh: error: the sandbox did not start; see $dir/sandbox.log" >&2
            stop
            exit 75
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    echo "sandbox.sh: running on $(cat "$dir/url") (CA in $dir/ca.pem)" >&2
}

stop() {
    if ! running; then
        rm -f "$pidfile"
        return 0
    fi
    stop_pid sandbox.sh "$pidfile"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) running ;;
    env)
        echo "export TEST_SANDBOX_URL=https://127.0.0.1:$port"
        echo "export TEST_SANDBOX_CA=$dir/ca.pem"
        ;;
    *)
        echo "usage: tests/servers/sandbox.sh start|stop|status|env" >&2
        exit 64
        ;;
esac
