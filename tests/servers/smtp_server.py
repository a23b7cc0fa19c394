"""A real SMTP server for the tests, on Debian's python3-aiosmtpd.

Run by tests/servers/smtp.sh as /usr/bin/python3 smtp_server.py STATE_DIR.
Three listeners on 127.0.0.1, one process:

  starttls  STARTTLS and AUTH required; AUTH only after STARTTLS
  implicit  TLS from the first byte (smtps), AUTH required
  plain     no STARTTLS at all, yet AUTH offered in plaintext: the server a
            stripping attacker would show. No AUTH is required, so a
            loopback relay test (--tls none) can deliver here.

Every command line a listener receives is appended to STATE_DIR/commands.log
as "LISTENER COMMAND-LINE" (AUTH arguments masked), so that a test can check
what a client sent. Each accepted message is stored byte for byte as
STATE_DIR/maildir/N.eml, with its envelope in N.json.

Recipients drive faults: an address starting with "tempfail" gets 451 at
RCPT, one starting with "reject" gets 550.

Ports, user, password and certificate paths come from the environment
(SMTP_TEST_*), so that nothing secret is on a command line.
"""

import asyncio
import itertools
import json
import logging
import os
import signal
import ssl
import sys
import threading
import warnings

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

HOST = "127.0.0.1"
state = sys.argv[1]
maildir = os.path.join(state, "maildir")
os.makedirs(maildir, exist_ok=True)
user = os.environ["SMTP_TEST_USER"].encode()
password = os.environ["SMTP_TEST_PASSWORD"].encode()
ports = {
    "starttls": int(os.environ["SMTP_TEST_STARTTLS_PORT"]),
    "implicit": int(os.environ["SMTP_TEST_IMPLICIT_PORT"]),
    "plain": int(os.environ["SMTP_TEST_PLAIN_PORT"]),
}
listener_of_port = {port: name for name, port in ports.items()}
# Which listener a client connection (its peer address) belongs to.
peers = {}
counter = itertools.count(1)
lock = threading.Lock()


class CommandLog(logging.Handler):
    """Writes the command lines aiosmtpd logs as 'peer >> line'."""

    def __init__(self, path):
        super().__init__(logging.INFO)
        self.file = open(path, "a", encoding="utf-8")

    def emit(self, record):
        if record.msg != "%r >> %r" or len(record.args) != 2:
            return
        peer, line = record.args
        text = line.decode("latin-1") if isinstance(line, bytes) else str(line)
        self.file.write(f"{peers.get(peer, '?')} {text}\n")
        self.file.flush()


class Listener(SMTP):
    def connection_made(self, transport):
        super().connection_made(transport)
        sockname = transport.get_extra_info("sockname")
        if sockname:
            peers[self.session.peer] = listener_of_port.get(sockname[1], "?")


class ListenerController(Controller):
    def factory(self):
        return Listener(self.handler, **self.SMTP_kwargs)


def authenticate(server, session, envelope, mechanism, auth_data):
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == user
        and auth_data.password == password
    )
    return AuthResult(success=ok, handled=False)


class Store:
    async def handle_RCPT(self, server, session, envelope, address, options):
        local = address.split("@", 1)[0].lower()
        if local.startswith("tempfail"):
            return "451 4.3.0 Mailbox busy, try again later"
        if local.startswith("reject"):
            return "550 5.1.1 No such mailbox here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with lock:
            n = next(counter)
        name = f"{os.getpid()}-{n}"
        meta = {
            "listener": peers.get(session.peer, "?"),
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "authenticated": bool(session.authenticated),
        }
        for ext, data in (
            ("json", json.dumps(meta).encode()),
            ("eml", envelope.original_content),
        ):
            path = os.path.join(maildir, f"{name}.{ext}")
            with open(path + ".tmp", "wb") as f:
                f.write(data)
            os.rename(path + ".tmp", path)
        return f"250 2.0.0 Ok: queued as {name}"


def tls_context():
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(
        os.environ["SMTP_TEST_CERT"], os.environ["SMTP_TEST_KEY"]
    )
    return context


def main():
    warnings.simplefilter("ignore")
    logging.getLogger("mail.log").setLevel(logging.INFO)
    logging.getLogger("mail.log").addHandler(
        CommandLog(os.path.join(state, "commands.log"))
    )
    handler = Store()
    common = dict(
        hostname=HOST,
        server_hostname="localhost",
        authenticator=authenticate,
        data_size_limit=64 * 1024 * 1024,
        ready_timeout=30,
    )
    controllers = [
        ListenerController(
            handler,
            port=ports["starttls"],
            tls_context=tls_context(),
            require_starttls=True,
            auth_required=True,
            **common,
        ),
        # The whole connection is TLS, so AUTH needs no STARTTLS here.
        ListenerController(
            handler,
            port=ports["implicit"],
            ssl_context=tls_context(),
            auth_required=True,
            auth_require_tls=False,
            **common,
        ),
        ListenerController(
            handler,
            port=ports["plain"],
            auth_required=False,
            auth_require_tls=False,
            **common,
        ),
    ]
    for controller in controllers:
        controller.start()
    with open(os.path.join(state, "ready"), "w") as f:
        f.write(str(os.getpid()))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    for controller in controllers:
        controller.stop()


if __name__ == "__main__":
    asyncio.set_event_loop_policy(asyncio.DefaultEventLoopPolicy())
    main()
