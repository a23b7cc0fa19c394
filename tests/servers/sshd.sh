#!/usr/bin/env bash
# A throwaway OpenSSH server for the SFTP tests, on a high loopback port, with
# its own host key, config and test user under ${TMPDIR:-/tmp}/phtools-servers/sshd.
#
#   tests/servers/sshd.sh start|stop|status|env
#
# start installs openssh-server when missing (without starting the system's
# own sshd), generates on the first start an ed25519 host key, a test user
# with a client key and a password, and a known_hosts file, and is a no-op
# when the server already runs; stop is a no-op when it does not. SFTP goes
# through internal-sftp, starting in the folder the tests read (home/).
# env prints the server and the folder holding its files:
#   export TEST_SFTP_URL=sftp://phtools-sftp-1a2b3c4d@127.0.0.1:52222
#   export TEST_SFTP_DIR=/tmp/phtools-servers/sshd
# In that folder: client_key (the user's private key), password,
# known_hosts (the host key, as ssh-keyscan would give it), host_key.pub,
# home/ (where uploads land) and sshd.pid.
#
# As root the test user is a system user made for the tests (useradd leaves
# it locked, and a locked account cannot log in even with a key, so it gets
# its password at once); otherwise the server runs as you, you are the test
# user, and only key login works (sshd cannot check passwords unprivileged):
# the password file is then empty. No chroot: one under /tmp is refused.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/servers/lib.sh
. "$here/lib.sh"
port=${PHTOOLS_SSHD_PORT:-52222}
base=${TMPDIR:-/tmp}/phtools-servers
dir=$base/sshd
pidfile=$dir/sshd.pid
# As root, one test user per state folder: a run with another TMPDIR (and
# PHTOOLS_SSHD_PORT) gets a user of its own instead of resetting the
# password and home of this one.
if [ "$(id -u)" -eq 0 ]; then
    user=phtools-sftp-$(printf '%s' "$dir" | sha256sum | cut -c1-8)
else
    user=$(id -un)
fi

running() {
    [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

# Installing openssh-server would start the system's sshd on port 22; a
# policy-rc.d that says no keeps it down for the length of the install.
install_server() {
    [ -x /usr/sbin/sshd ] && return 0
    local policy=/usr/sbin/policy-rc.d made=0
    if [ "$(id -u)" -eq 0 ] && [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy"
        chmod 755 "$policy"
        made=1
    fi
    "$here/../ensure-packages.sh" /usr/sbin/sshd:openssh-server ssh-keygen:openssh-client || {
        [ $made -eq 0 ] || rm -f "$policy"
        exit 69
    }
    [ $made -eq 0 ] || rm -f "$policy"
}

setup() {
    rm -rf "$dir"
    mkdir -p "$dir/home"
    chmod 755 "$dir"
    ssh-keygen -q -t ed25519 -N '' -C phtools-test-host -f "$dir/host_key"
    ssh-keygen -q -t ed25519 -N '' -C phtools-test-client -f "$dir/client_key"
    echo "[127.0.0.1]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" >"$dir/known_hosts"
    cp "$dir/client_key.pub" "$dir/authorized_keys"
    chmod 644 "$dir/authorized_keys"
    if [ "$(id -u)" -eq 0 ]; then
        if ! id "$user" >/dev/null 2>&1; then
            useradd --system --no-create-home --home-dir "$dir/home" --shell /usr/sbin/nologin "$user"
        fi
        usermod --home "$dir/home" "$user" >/dev/null 2>&1 || true
        chown "$user:" "$dir/home"
        head -c 18 /dev/urandom | base64 | tr '+/' '-_' >"$dir/password"
        echo "$user:$(cat "$dir/password")" | chpasswd
    else
        : >"$dir/password"
    fi
    chmod 600 "$dir/password"
    # StrictModes would refuse the keys file under world-writable /tmp.
    cat >"$dir/sshd_config" <<EOF
Port $port
ListenAddress 127.0.0.1
HostKey $dir/host_key
PidFile $pidfile
AuthorizedKeysFile $dir/authorized_keys
StrictModes no
UsePAM no
PubkeyAuthentication yes
PasswordAuthentication $([ "$(id -u)" -eq 0 ] && echo yes || echo no)
KbdInteractiveAuthentication no
PermitRootLogin no
AllowUsers $user
AllowTcpForwarding no
X11Forwarding no
PrintMotd no
MaxStartups 50
LogLevel VERBOSE
Subsystem sftp internal-sftp -d $dir/home
ForceCommand internal-sftp -d $dir/home
EOF
    touch "$dir/initialised"
}

start() {
    if running; then
        echo "sshd.sh: already running on 127.0.0.1:$port" >&2
        return 0
    fi
    install_server
    mkdir -p "$base"
    chmod 755 "$base"
    if [ ! -f "$dir/initialised" ] || ! id "$user" >/dev/null 2>&1; then
        setup
    fi
    # Privilege separation wants its empty folder.
    if [ "$(id -u)" -eq 0 ]; then
        mkdir -p /run/sshd
        chmod 755 /run/sshd
    fi
    /usr/sbin/sshd -t -f "$dir/sshd_config" || {
        echo "sshd.sh: error: the config is refused; see $dir/sshd_config" >&2
        exit 70
    }
    /usr/sbin/sshd -f "$dir/sshd_config" -E "$dir/sshd.log"
    for _ in $(seq 50); do
        if running && ssh-keyscan -p "$port" -T 1 127.0.0.1 >/dev/null 2>&1; then
            echo "sshd.sh: running on 127.0.0.1:$port (files in $dir)" >&2
            return 0
        fi
        sleep 0.1
    done
    echo "sshd.sh: error: the server did not start; see $dir/sshd.log" >&2
    exit 75
}

stop() {
    if ! running; then
        return 0
    fi
    stop_pid sshd.sh "$pidfile"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) running ;;
    env)
        # The user this folder's server was set up for, which a server
        # started by an older version of this script may name differently.
        if [ -f "$dir/sshd_config" ]; then
            user=$(awk '$1 == "AllowUsers" { print $2; exit }' "$dir/sshd_config")
        fi
        echo "export TEST_SFTP_URL=sftp://$user@127.0.0.1:$port"
        echo "export TEST_SFTP_DIR=$dir"
        ;;
    *)
        echo "usage: tests/servers/sshd.sh start|stop|status|env" >&2
        exit 64
        ;;
esac
