# SPDX-License-Identifier: GPL-3.0-or-later
"""Minimal Redis RESP2 client: just enough for AUTH / SELECT / PING health checks.

Standard library only. One short-lived connection per check; no pooling, no
pipelining, no pub/sub. Error messages never contain the password.
"""

import socket
import ssl
from urllib.parse import parse_qs, unquote, urlsplit


class RespError(Exception):
    """Error reply from the server (a line starting with '-') or a protocol problem."""


class RedisTarget:
    """Connection parameters parsed from a redis:// or rediss:// URL."""

    def __init__(self, host, port, db, username, password, tls):
        self.host = host
        self.port = port
        self.db = db
        self.username = username
        self.password = password
        self.tls = tls

    def describe(self):
        """Host/port/db only - safe to log."""
        return "%s://%s:%d/%d" % ("rediss" if self.tls else "redis", self.host, self.port, self.db)


def parse_redis_url(url):
    """Parse redis://[[user]:pass@]host[:port][/db] (also rediss://, ?db=N).

    Raises ValueError with a message that never echoes the URL.
    """
    if not url:
        raise ValueError("REDIS_URL not set")
    try:
        parts = urlsplit(url)
        port = parts.port or 6379
    except ValueError:
        raise ValueError("invalid REDIS_URL") from None
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError("unsupported REDIS_URL scheme")
    if not parts.hostname:
        raise ValueError("REDIS_URL has no host")
    db = 0
    path = parts.path.strip("/")
    query = parse_qs(parts.query)
    try:
        if path:
            db = int(path)
        elif "db" in query:
            db = int(query["db"][0])
    except ValueError:
        raise ValueError("invalid database number in REDIS_URL") from None
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if password == "":
        password = None
    return RedisTarget(parts.hostname, port, db, username, password, parts.scheme == "rediss")


def _encode(*args):
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        if isinstance(arg, str):
            arg = arg.encode("utf-8")
        elif isinstance(arg, int):
            arg = str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(arg), arg))
    return b"".join(out)


class RespConnection:
    def __init__(self, target, timeout):
        self.target = target
        sock = socket.create_connection((target.host, target.port), timeout=timeout)
        sock.settimeout(timeout)
        if target.tls:
            ctx = ssl.create_default_context()
            sock = ctx.wrap_socket(sock, server_hostname=target.host)
        self.sock = sock
        self.rfile = sock.makefile("rb")

    def close(self):
        try:
            self.rfile.close()
        finally:
            self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _readline(self):
        line = self.rfile.readline(65536)
        if not line:
            raise RespError("connection closed by server")
        if not line.endswith(b"\r\n"):
            raise RespError("malformed reply")
        return line[:-2]

    def _read_reply(self):
        line = self._readline()
        kind, rest = line[:1], line[1:]
        if kind == b"+":
            return rest.decode("utf-8", "replace")
        if kind == b"-":
            raise RespError(rest.decode("utf-8", "replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.rfile.read(n + 2)
            if len(data) != n + 2:
                raise RespError("connection closed by server")
            return data[:-2]
        if kind == b"*":
            n = int(rest)
            if n < 0:
                return None
            return [self._read_reply() for _ in range(n)]
        raise RespError("unexpected reply type")

    def command(self, *args):
        self.sock.sendall(_encode(*args))
        return self._read_reply()


def ping(target, timeout):
    """Connect, AUTH (if configured), SELECT (if db != 0), PING. Raises on failure."""
    with RespConnection(target, timeout) as conn:
        if target.password is not None:
            try:
                if target.username:
                    conn.command("AUTH", target.username, target.password)
                else:
                    conn.command("AUTH", target.password)
            except RespError as exc:
                # Server text (e.g. WRONGPASS ...) never contains the password,
                # but keep only its first word to be safe and short.
                raise RespError("AUTH failed: %s" % (str(exc).split(" ", 1)[0] or "error")) from None
        if target.db:
            conn.command("SELECT", target.db)
        reply = conn.command("PING")
        if reply not in ("PONG", b"PONG"):
            raise RespError("unexpected PING reply")
