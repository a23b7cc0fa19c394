#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, on a high loopback port, with
# its own data folder under ${TMPDIR:-/tmp}/phtools-servers/postgres.
#
#   tests/servers/postgres.sh start|stop|status|env
#
# start installs the Debian packages when missing, creates the cluster on the
# first start (initdb as the postgres user), and is a no-op when the server
# already runs; stop is a no-op when it does not. env prints the URL:
#   export TEST_POSTGRES_URL=postgres://phtools:phtools-test@127.0.0.1:55432/phtools_test
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
port=${PHTOOLS_POSTGRES_PORT:-55432}
base=${TMPDIR:-/tmp}/phtools-servers
dir=$base/postgres
data=$dir/data
user=phtools
password=phtools-test
database=phtools_test
# The cluster's superuser is the system user that runs it (peer authentication).
if [ "$(id -u)" -eq 0 ]; then superuser=postgres; else superuser=$(id -un); fi

url() {
    echo "postgres://$user:$password@127.0.0.1:$port/$database"
}

bindir() {
    local d
    d=$(find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -n 1)
    echo "${d:-/usr/lib/postgresql/none/bin}"
}

# As root, the server runs as the postgres user (PostgreSQL refuses root);
# otherwise as the user running the script.
as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

running() {
    [ -f "$data/postmaster.pid" ] && as_postgres "$(bindir)/pg_ctl" -D "$data" status >/dev/null 2>&1
}

start() {
    if running; then
        echo "postgres.sh: already running on 127.0.0.1:$port" >&2
        return 0
    fi
    "$here/../ensure-packages.sh" "$(bindir)/initdb:postgresql"
    local bin
    bin=$(bindir)
    mkdir -p "$base"
    chmod 755 "$base"
    if [ ! -f "$dir/initialised" ]; then
        rm -rf "$dir"
        mkdir -p "$dir"
        if [ "$(id -u)" -eq 0 ]; then
            chown postgres: "$dir"
        fi
        # Only the superuser's own system user gets in over the socket; everyone else needs a password.
        as_postgres "$bin/initdb" -D "$data" -U "$superuser" -E UTF8 --locale=C.UTF-8 \
            --auth-local=peer --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 || {
            echo "postgres.sh: error: initdb failed; see $dir/initdb.log" >&2
            exit 70
        }
        touch "$dir/initialised"
    fi
    as_postgres "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null || {
        echo "postgres.sh: error: the server did not start; see $dir/server.log" >&2
        exit 75
    }
    # The role and database, created once (the script may run again on a kept cluster).
    as_postgres "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U "$superuser" -d postgres <<SQL >/dev/null
SELECT 'CREATE ROLE $user LOGIN PASSWORD ''$password'''
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') \gexec
SELECT 'CREATE DATABASE $database OWNER $user'
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$database') \gexec
SQL
    echo "postgres.sh: running on 127.0.0.1:$port (data in $data)" >&2
}

stop() {
    if ! running; then
        return 0
    fi
    as_postgres "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    echo "postgres.sh: stopped" >&2
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) running ;;
    env) echo "export TEST_POSTGRES_URL=$(url)" ;;
    *)
        echo "usage: tests/servers/postgres.sh start|stop|status|env" >&2
        exit 64
        ;;
esac
