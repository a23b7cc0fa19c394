#!/usr/bin/env bash
# Run a command with the test database servers up and their URLs in the
# environment (TEST_POSTGRES_URL, TEST_MARIADB_URL, TEST_SMTP_*, TEST_SFTP_*,
# TEST_SANDBOX_URL and TEST_SANDBOX_CA):
#
#   tests/servers/with-servers.sh cargo test --locked --workspace
#
# The servers this script starts are stopped when the command ends, also when
# it fails or is interrupted; servers that were already running are left up.
# The command's exit status is this script's.
set -euo pipefail

if [ $# -eq 0 ]; then
    echo "usage: tests/servers/with-servers.sh CMD [ARG...]" >&2
    exit 64
fi
here=$(cd "$(dirname "$0")" && pwd)
servers=(postgres mariadb smtp sshd sandbox)
started=()

# shellcheck disable=SC2317  # called by the EXIT trap
stop_started() {
    local s
    for s in "${started[@]}"; do
        "$here/$s.sh" stop || true
    done
}
trap stop_started EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

begin=$SECONDS
for s in "${servers[@]}"; do
    if ! "$here/$s.sh" status; then
        started+=("$s")
        "$here/$s.sh" start
    fi
    eval "$("$here/$s.sh" env)"
done
echo "with-servers: ${servers[*]} up in $((SECONDS - begin))s" >&2
export TEST_POSTGRES_URL TEST_MARIADB_URL TEST_SMTP_STARTTLS TEST_SMTP_IMPLICIT TEST_SMTP_PLAIN TEST_SMTP_USER TEST_SMTP_PASSWORD TEST_SMTP_CA TEST_SMTP_MAILDIR TEST_SMTP_LOG TEST_SFTP_URL TEST_SFTP_DIR TEST_SANDBOX_URL TEST_SANDBOX_CA

status=0
"$@" || status=$?
exit "$status"
