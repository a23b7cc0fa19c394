#!/usr/bin/env bash
# A throwaway SMTP server for the tests (Debian's python3-aiosmtpd, see
# smtp_server.py beside this script), on high loopback ports, with its state
# under ${TMPDIR:-/tmp}/phtools-servers/smtp.
#
#   tests/servers/smtp.sh start|stop|status|env
#
# start installs the Debian packages when missing, makes a CA for this run
# and a certificate it signs for 127.0.0.1 and localhost (openssl), empties
# the mail folder and the command log, and is a no-op when the server already
# runs; stop is a no-op when it does not. Listeners:
#   STARTTLS, AUTH required after it    127.0.0.1:52587
#   implicit TLS (smtps), AUTH required 127.0.0.1:52465
#   no STARTTLS, AUTH offered in clear  127.0.0.1:52525
# env prints TEST_SMTP_STARTTLS, TEST_SMTP_IMPLICIT, TEST_SMTP_PLAIN (HOST:PORT),
# TEST_SMTP_USER, TEST_SMTP_PASSWORD, TEST_SMTP_CA (the CA's PEM),
# TEST_SMTP_MAILDIR (N.eml and its envelope N.json per message) and
# TEST_SMTP_LOG (one "LISTENER COMMAND" line per command received).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/servers/lib.sh
. "$here/lib.sh"
starttls_port=${PHTOOLS_SMTP_STARTTLS_PORT:-52587}
implicit_port=${PHTOOLS_SMTP_IMPLICIT_PORT:-52465}
plain_port=${PHTOOLS_SMTP_PLAIN_PORT:-52525}
base=${TMPDIR:-/tmp}/phtools-servers
dir=$base/smtp
pidfile=$dir/server.pid
user=phtools
password=phtools-smtp-test-Pw9

running() {
    [ -f "$pidfile" ] || return 1
    local pid
    pid=$(cat "$pidfile")
    kill -0 "$pid" 2>/dev/null && grep -q smtp_server.py "/proc/$pid/cmdline" 2>/dev/null
}

# A CA for this run, and the server's certificate signed by it.
make_certificates() {
    local tls=$dir/tls
    rm -rf "$tls"
    mkdir -p "$tls"
    (
        cd "$tls"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout ca.key -out ca.pem -days 7 -subj "/CN=phtools test CA" \
            -addext "basicConstraints=critical,CA:TRUE" \
            -addext "keyUsage=critical,keyCertSign,cRLSign"
        openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
            -keyout server.key -out server.csr -subj "/CN=localhost"
        printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" \
            "basicConstraints=critical,CA:FALSE" \
            "keyUsage=critical,digitalSignature" \
            "extendedKeyUsage=serverAuth" >server.ext
        openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
            -out server.pem -days 7 -extfile server.ext
    ) >"$dir/openssl.log" 2>&1 || {
        echo "smtp.sh: error: making the test certificates failed; see $dir/openssl.log" >&2
        exit 70
    }
}

start() {
    if running; then
        echo "smtp.sh: already running on 127.0.0.1:$starttls_port" >&2
        return 0
    fi
    "$here/../ensure-packages.sh" /usr/bin/python3:python3 /usr/bin/aiosmtpd:python3-aiosmtpd openssl:openssl
    mkdir -p "$base"
    chmod 755 "$base"
    rm -rf "$dir"
    mkdir -p "$dir/maildir"
    make_certificates
    : >"$dir/commands.log"
    SMTP_TEST_USER=$user SMTP_TEST_PASSWORD=$password \
        SMTP_TEST_STARTTLS_PORT=$starttls_port SMTP_TEST_IMPLICIT_PORT=$implicit_port \
        SMTP_TEST_PLAIN_PORT=$plain_port \
        SMTP_TEST_CERT=$dir/tls/server.pem SMTP_TEST_KEY=$dir/tls/server.key \
        setsid /usr/bin/python3 "$here/smtp_server.py" "$dir" </dev/null >"$dir/server.log" 2>&1 &
    # Under job control setsid forks, and $! is then a parent that exits at
    # once; the server writes its own pid into "ready", which is the one kept.
    echo $! >"$pidfile"
    local waited=0
    until [ -s "$dir/ready" ]; do
        if grep -q Traceback "$dir/server.log" 2>/dev/null || [ $waited -ge 300 ]; then
            echo "smtp.sh: error: the server did not start; see $dir/server.log" >&2
            stop
            exit 75
        fi
        sleep 0.1
        waited=$((waited + 1))
    done
    cp "$dir/ready" "$pidfile"
    echo "smtp.sh: running on 127.0.0.1:$starttls_port (STARTTLS), :$implicit_port (TLS), :$plain_port (no TLS)" >&2
}

stop() {
    if ! running; then
        rm -f "$pidfile"
        return 0
    fi
    stop_pid smtp.sh "$pidfile" "$dir/ready"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) running ;;
    env)
        echo "export TEST_SMTP_STARTTLS=127.0.0.1:$starttls_port"
        echo "export TEST_SMTP_IMPLICIT=127.0.0.1:$implicit_port"
        echo "export TEST_SMTP_PLAIN=127.0.0.1:$plain_port"
        echo "export TEST_SMTP_USER=$user"
        echo "export TEST_SMTP_PASSWORD=$password"
        echo "export TEST_SMTP_CA=$dir/tls/ca.pem"
        echo "export TEST_SMTP_MAILDIR=$dir/maildir"
        echo "export TEST_SMTP_LOG=$dir/commands.log"
        ;;
    *)
        echo "usage: tests/servers/smtp.sh start|stop|status|env" >&2
        exit 64
        ;;
esac
