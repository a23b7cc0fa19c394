#!/usr/bin/env bash
# A throwaway MariaDB server for the tests, on a high loopback port, with its
# own data folder under ${TMPDIR:-/tmp}/phtools-servers/mariadb.
#
#   tests/servers/mariadb.sh start|stop|status|env
#
# start installs the Debian packages when missing, creates the data folder on
# the first start, and is a no-op when the server already runs; stop is a
# no-op when it does not. env prints the URL:
#   export TEST_MARIADB_URL=mysql://phtools:phtools-test@127.0.0.1:53306/phtools_test
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
port=${PHTOOLS_MARIADB_PORT:-53306}
base=${TMPDIR:-/tmp}/phtools-servers
dir=$base/mariadb
data=$dir/data
socket=$dir/mysqld.sock
pidfile=$dir/mysqld.pid
user=phtools
password=phtools-test
database=phtools_test

url() {
    echo "mysql://$user:$password@127.0.0.1:$port/$database"
}

# The install gives the system user running it (root, or yourself) socket access as a superuser.
admin() {
    mariadb --no-defaults --protocol=socket -S "$socket" -u "$(id -un)" "$@"
}

running() {
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

start() {
    # As root, the server runs as the mysql user; otherwise as the user running the script.
    local as=()
    if [ "$(id -u)" -eq 0 ]; then
        as=(--user=mysql)
    fi
    if running; then
        echo "mariadb.sh: already running on 127.0.0.1:$port" >&2
        return 0
    fi
    "$here/../ensure-packages.sh" mariadbd:mariadb-server mariadb:mariadb-client
    mkdir -p "$base"
    chmod 755 "$base"
    if [ ! -f "$dir/initialised" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        if [ "$(id -u)" -eq 0 ]; then
            chown mysql: "$dir"
        fi
        mariadb-install-db --no-defaults "${as[@]}" --datadir="$data" \
            --auth-root-authentication-method=socket --skip-test-db >"$dir/install.log" 2>&1 || {
            echo "mariadb.sh: error: mariadb-install-db failed; see $dir/install.log" >&2
            exit 70
        }
        touch "$dir/initialised"
    fi
    rm -f "$socket" "$pidfile"
    # setsid: the server leaves this script's process group, so a test runner's
    # Ctrl-C does not kill it half-way; stop does.
    setsid mariadbd --no-defaults "${as[@]}" --datadir="$data" \
        --port="$port" --bind-address=127.0.0.1 --socket="$socket" --pid-file="$pidfile" \
        --log-error="$dir/server.log" --skip-log-bin --skip-name-resolve \
        --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=64M --innodb-log-file-size=16M --innodb-flush-log-at-trx-commit=0 \
        </dev/null >/dev/null 2>&1 &
    local i
    for i in $(seq 1 120); do
        if [ -S "$socket" ] && admin -e 'SELECT 1' >/dev/null 2>&1; then
            break
        fi
        if [ "$i" -eq 120 ]; then
            echo "mariadb.sh: error: the server did not start; see $dir/server.log" >&2
            exit 75
        fi
        sleep 0.25
    done
    admin <<SQL
CREATE DATABASE IF NOT EXISTS $database CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE USER IF NOT EXISTS '$user'@'127.0.0.1' IDENTIFIED BY '$password';
CREATE USER IF NOT EXISTS '$user'@'localhost' IDENTIFIED BY '$password';
GRANT ALL ON $database.* TO '$user'@'127.0.0.1';
GRANT ALL ON $database.* TO '$user'@'localhost';
SQL
    echo "mariadb.sh: running on 127.0.0.1:$port (data in $data)" >&2
}

stop() {
    if ! running; then
        return 0
    fi
    local pid i
    pid=$(cat "$pidfile")
    kill -TERM "$pid"
    for i in $(seq 1 240); do
        kill -0 "$pid" 2>/dev/null || break
        if [ "$i" -eq 240 ]; then
            echo "mariadb.sh: error: the server did not stop (pid $pid)" >&2
            exit 75
        fi
        sleep 0.25
    done
    echo "mariadb.sh: stopped" >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) running ;;
    env) echo "export TEST_MARIADB_URL=$(url)" ;;
    *)
        echo "usage: tests/servers/mariadb.sh start|stop|status|env" >&2
        exit 64
        ;;
esac
