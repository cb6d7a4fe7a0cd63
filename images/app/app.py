# SPDX-License-Identifier: GPL-3.0-or-later
"""Reference "Arizu app": a tiny stand-in for the real Next.js app.

It implements the Arizu health contract for real: every /api/health request
checks Postgres, Redis and n8n live (concurrently, each bounded by
ARIZU_HEALTH_CHECK_TIMEOUT). Standard library + psycopg2 only.

Secrets (DSN, passwords, URLs with userinfo) are never logged or returned.
"""

import html
import json
import math
import os
import re
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, quote, unquote, urlsplit, urlunsplit

import psycopg2
import psycopg2.pool

import resp


# --------------------------------------------------------------------------
# configuration
# --------------------------------------------------------------------------

def _env_float(name, default):
    try:
        value = float(os.environ.get(name, "") or default)
        return value if math.isfinite(value) and value > 0 else default
    except ValueError:
        return default


def _env_int(name, default):
    try:
        value = int(os.environ.get(name, "") or default)
        return value if value > 0 else default
    except ValueError:
        return default


PORT = _env_int("PORT", 3000)
VERSION = os.environ.get("ARIZU_APP_VERSION", "") or "0.0.0-dev"
BAD_RELEASE = os.environ.get("ARIZU_APP_BAD_RELEASE", "false").strip().lower() in ("true", "1", "yes")
CHECK_TIMEOUT = _env_float("ARIZU_HEALTH_CHECK_TIMEOUT", 2.0)       # seconds per dependency
DEGRADED_MS = _env_float("ARIZU_DEGRADED_MS", 1000.0)               # slower than this -> degraded
FAULTS_FILE = os.environ.get("ARIZU_FAULTS_FILE", "") or "/tmp/arizu-faults.json"
DB_POOL_MAX = _env_int("DB_POOL_MAX", 10)
DATABASE_URL = os.environ.get("DATABASE_URL", "")
REDIS_URL = os.environ.get("REDIS_URL", "")
N8N_URL = os.environ.get("N8N_URL", "")
MODEL_PROVIDER = os.environ.get("MODEL_PROVIDER", "anthropic").strip()
MODEL_FALLBACK_PROVIDER = os.environ.get("MODEL_FALLBACK_PROVIDER", "openai").strip() or None


# --------------------------------------------------------------------------
# secret hygiene
# --------------------------------------------------------------------------

_SECRETS = set()          # literal strings that must never leave the process
_USERINFO_RE = re.compile(r"(?i)([a-z][a-z0-9+.\-]*://)[^/\s@]*@")
_KV_SECRET_RE = re.compile(r"(?i)\b(password|passwd|pwd|secret|token|requirepass)(\s*[=:]\s*)('[^']*'|\"[^\"]*\"|\S+)")
_BARE_USERINFO_RE = re.compile(r"[^\s/@:\"']+:[^\s/@\"']*@")


def register_secret(value):
    if value:
        _SECRETS.add(value)
        _SECRETS.add(quote(value, safe=""))
        _SECRETS.add(quote(value))


def sanitize(text, limit=200):
    """Return a short one-line message with anything secret-looking removed."""
    text = " ".join(str(text).split())
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    text = _USERINFO_RE.sub(r"\1***@", text)
    text = _KV_SECRET_RE.sub(r"\1\2***", text)
    text = _BARE_USERINFO_RE.sub("***@", text)
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text or "error"


def _error_text(exc):
    name = type(exc).__name__
    if isinstance(exc, urllib.error.URLError) and not isinstance(exc, urllib.error.HTTPError):
        msg = str(exc.reason).strip()
    else:
        msg = str(exc).strip()
    return sanitize("%s: %s" % (name, msg) if msg else name)


# --------------------------------------------------------------------------
# fault injection (re-read on every request, never fatal)
# --------------------------------------------------------------------------

def load_faults():
    try:
        with open(FAULTS_FILE, "r", encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    faults = {}
    for key in ("db_delay_ms", "redis_delay_ms", "n8n_delay_ms", "api_delay_ms"):
        try:
            value = float(data.get(key, 0) or 0)
        except (TypeError, ValueError):
            continue
        if math.isfinite(value) and value > 0:
            faults[key] = min(value, 600000.0)
    return faults


def _fault_sleep(faults, key):
    delay = faults.get(key, 0)
    if delay:
        time.sleep(delay / 1000.0)


# --------------------------------------------------------------------------
# Postgres
# --------------------------------------------------------------------------

class DatabaseConfigError(Exception):
    pass


def parse_database_url(url):
    """postgresql://user:pass@host:port/db?sslmode=... -> psycopg2 connect kwargs."""
    if not url:
        raise DatabaseConfigError("DATABASE_URL not set")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise DatabaseConfigError("invalid DATABASE_URL") from None
    if parts.scheme not in ("postgres", "postgresql"):
        raise DatabaseConfigError("unsupported DATABASE_URL scheme")
    kwargs = {}
    for key, values in parse_qs(parts.query).items():
        if key in ("password", "passfile", "sslpassword"):
            register_secret(values[-1])
        kwargs[key] = values[-1]
    if parts.hostname:
        kwargs["host"] = unquote(parts.hostname)
    if port:
        kwargs["port"] = port
    if parts.username:
        kwargs["user"] = unquote(parts.username)
    if parts.password is not None:
        kwargs["password"] = unquote(parts.password)
        register_secret(kwargs["password"])
    dbname = unquote(parts.path.lstrip("/"))
    if dbname:
        kwargs["dbname"] = dbname
    # libpq's minimum connect_timeout is 2 s; the check thread is bounded anyway.
    kwargs["connect_timeout"] = max(2, int(math.ceil(CHECK_TIMEOUT)))
    kwargs["application_name"] = "arizu-app"
    stmt_ms = max(1, int(CHECK_TIMEOUT * 1000))
    kwargs["options"] = ("%s -c statement_timeout=%d" % (kwargs.get("options", ""), stmt_ms)).strip()
    return kwargs


class Database:
    """Lazily created ThreadedConnectionPool plus our own waiting/in-use accounting."""

    def __init__(self, url, maxconn):
        self.maxconn = maxconn
        self._url = url
        self._kwargs = None
        self._config_error = None
        try:
            self._kwargs = parse_database_url(url)
        except DatabaseConfigError as exc:
            self._config_error = str(exc)
        self._pool = None
        self._create_lock = threading.Lock()
        self._gate = threading.BoundedSemaphore(maxconn)
        self._stats_lock = threading.Lock()
        self._waiting = 0

    def describe(self):
        if not self._kwargs:
            return "unconfigured"
        k = self._kwargs
        return "%s:%s/%s" % (k.get("host", "local"), k.get("port", 5432), k.get("dbname", ""))

    def _get_pool(self):
        if self._pool is not None:
            return self._pool
        with self._create_lock:
            if self._pool is None:
                # minconn=1 connects once at creation (psycopg2 keeps at most
                # minconn idle connections). A failure is raised to the caller
                # and creation is retried on the next request.
                self._pool = psycopg2.pool.ThreadedConnectionPool(1, self.maxconn, **self._kwargs)
            return self._pool

    def pool_stats(self):
        pool = self._pool
        in_use = idle = 0
        if pool is not None:
            lock = getattr(pool, "_lock", None)
            if lock is not None:
                with lock:
                    in_use, idle = len(pool._used), len(pool._pool)
            else:
                in_use, idle = len(pool._used), len(pool._pool)
        with self._stats_lock:
            waiting = self._waiting
        return {"size": in_use + idle, "in_use": in_use, "idle": idle,
                "max": self.maxconn, "waiting": waiting}

    def check(self, faults, deadline):
        """SELECT 1 through the pool. Returns None on success, raises on failure."""
        if self._config_error:
            raise DatabaseConfigError(self._config_error)
        pool = self._get_pool()
        with self._stats_lock:
            self._waiting += 1
        try:
            acquired = self._gate.acquire(timeout=max(0.0, deadline - time.monotonic()))
        finally:
            with self._stats_lock:
                self._waiting -= 1
        if not acquired:
            raise TimeoutError("timed out waiting for a pool connection")
        try:
            delayed = False
            # A Postgres restart leaves dead idle connections behind: they fail
            # instantly and are discarded, then we retry with the next/new one.
            for _attempt in range(self.maxconn + 1):
                conn = pool.getconn()        # may raise OperationalError (connect failed)
                try:
                    if not delayed:
                        delayed = True
                        _fault_sleep(faults, "db_delay_ms")   # slow DB, holding the connection
                    if conn.closed:
                        raise psycopg2.InterfaceError("connection already closed")
                    if not conn.autocommit:
                        conn.autocommit = True
                    with conn.cursor() as cur:
                        cur.execute("SELECT 1")
                        cur.fetchone()
                except Exception:
                    broken = bool(conn.closed)
                    pool.putconn(conn, close=True)
                    if broken and time.monotonic() < deadline:
                        continue
                    raise
                else:
                    pool.putconn(conn)
                    return None
            raise psycopg2.OperationalError("no usable connection")
        finally:
            self._gate.release()

    def close(self):
        pool = self._pool
        if pool is not None:
            try:
                pool.closeall()
            except Exception:
                pass


# --------------------------------------------------------------------------
# Redis / n8n
# --------------------------------------------------------------------------

try:
    REDIS_TARGET = resp.parse_redis_url(REDIS_URL)
    REDIS_CONFIG_ERROR = None
    register_secret(REDIS_TARGET.password)
except ValueError as _exc:
    REDIS_TARGET = None
    REDIS_CONFIG_ERROR = str(_exc)


def _n8n_readiness_url(url):
    """Build {N8N_URL}/healthz/readiness without any userinfo."""
    if not url:
        raise ValueError("N8N_URL not set")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError("invalid N8N_URL") from None
    if parts.password:
        register_secret(unquote(parts.password))
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("invalid N8N_URL")
    host = parts.hostname
    if ":" in host:
        host = "[%s]" % host
    netloc = "%s:%d" % (host, port) if port else host
    return urlunsplit((parts.scheme, netloc, parts.path.rstrip("/") + "/healthz/readiness", "", ""))


try:
    N8N_READINESS_URL = _n8n_readiness_url(N8N_URL)
    N8N_CONFIG_ERROR = None
except ValueError as _exc:
    N8N_READINESS_URL = None
    N8N_CONFIG_ERROR = str(_exc)

# Internal service-to-service calls: never go through an HTTP proxy.
_DIRECT_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def redis_check(faults, deadline):
    _fault_sleep(faults, "redis_delay_ms")
    if REDIS_TARGET is None:
        raise ValueError(REDIS_CONFIG_ERROR)
    resp.ping(REDIS_TARGET, max(0.05, min(CHECK_TIMEOUT, deadline - time.monotonic())))
    return None


def n8n_check(faults, deadline):
    """Returns the HTTP status; raises _HttpStatusError for non-200 answers."""
    _fault_sleep(faults, "n8n_delay_ms")
    if N8N_READINESS_URL is None:
        raise ValueError(N8N_CONFIG_ERROR)
    timeout = max(0.05, min(CHECK_TIMEOUT, deadline - time.monotonic()))
    req = urllib.request.Request(N8N_READINESS_URL, headers={"User-Agent": "arizu-app/%s" % VERSION})
    try:
        with _DIRECT_OPENER.open(req, timeout=timeout) as res:
            res.read(4096)
            code = res.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        exc.close()
    if code != 200:
        raise _HttpStatusError(code)
    return code


class _HttpStatusError(Exception):
    def __init__(self, code):
        super().__init__("readiness answered HTTP %d" % code)
        self.code = code


# --------------------------------------------------------------------------
# health evaluation
# --------------------------------------------------------------------------

DB = Database(DATABASE_URL, DB_POOL_MAX)


def _run_checks(faults):
    """Run db/redis/n8n checks concurrently, each bounded by CHECK_TIMEOUT."""
    start = time.monotonic()
    deadline = start + CHECK_TIMEOUT
    checks = {"db": DB.check, "redis": redis_check, "n8n": n8n_check}
    results = {}

    def worker(name, fn):
        t0 = time.monotonic()
        try:
            value = fn(faults, deadline)
            results[name] = {"ok": True, "value": value, "ms": (time.monotonic() - t0) * 1000}
        except _HttpStatusError as exc:
            results[name] = {"ok": False, "value": exc.code, "error": str(exc),
                             "ms": (time.monotonic() - t0) * 1000}
        except Exception as exc:   # noqa: BLE001 - every failure is a "down"
            results[name] = {"ok": False, "error": _error_text(exc),
                             "ms": (time.monotonic() - t0) * 1000}

    threads = []
    for name, fn in checks.items():
        t = threading.Thread(target=worker, args=(name, fn), name="check-" + name, daemon=True)
        t.start()
        threads.append((name, t))
    for name, t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    out = {}
    for name, _t in threads:
        res = results.get(name)   # a late worker may still write; we ignore it
        if res is None:
            res = {"ok": False, "error": "timed out after %gs" % CHECK_TIMEOUT,
                   "ms": (time.monotonic() - start) * 1000}
        out[name] = res
    return out


def evaluate_health(detailed):
    faults = load_faults()
    raw = _run_checks(faults)

    components = {}
    details = {}
    for name in ("db", "redis", "n8n"):
        res = raw[name]
        if not res["ok"]:
            status = "down"
        elif res["ms"] > DEGRADED_MS:
            status = "degraded"
        else:
            status = "up"
        components[name] = status
        d = {"status": status, "latency_ms": round(res["ms"], 1)}
        if name == "db":
            d["pool"] = DB.pool_stats()
        if name == "n8n":
            d["http_status"] = res.get("value")
        if not res["ok"]:
            d["error"] = res.get("error") or "error"
        details[name] = d

    llm_status = "up" if MODEL_PROVIDER else "degraded"
    components["llm"] = {"status": llm_status, "active": MODEL_PROVIDER or None,
                         "fallback": MODEL_FALLBACK_PROVIDER}

    # The app itself still answers when a dependency is gone (a major feature
    # is down, not the whole service): "down" is kept for a release that
    # cannot serve at all.
    if any(components[n] != "up" for n in ("db", "redis", "n8n")) or llm_status != "up":
        overall = "degraded"
    else:
        overall = "healthy"

    body = {"status": overall, "version": VERSION, "timestamp": _utc_now(), "components": components}
    if BAD_RELEASE:
        body["status"] = "down"
        body["message"] = "bad release: health deliberately failing"
    if detailed:
        body["details"] = details
    code = 503 if body["status"] == "down" else 200
    return code, body


def _utc_now():
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


# --------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------

_LOG_LOCK = threading.Lock()


def log(msg):
    line = "%s %s" % (_utc_now(), sanitize(msg, limit=500))
    with _LOG_LOCK:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


_INDEX = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Arizu</title></head>
<body><h1>Arizu</h1><p>Reference app, version <code>{version}</code>.</p>
<p><a href="/api/health?detailed=true">/api/health?detailed=true</a></p></body></html>
"""


class Handler(BaseHTTPRequestHandler):
    server_version = "arizu-app"
    timeout = 30                  # idle/slow clients cannot pin a thread forever
    _status = None

    # -- plumbing ---------------------------------------------------------
    def version_string(self):
        return self.server_version

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def log_message(self, fmt, *args):   # silence the default access log
        pass

    def log_error(self, fmt, *args):     # parse errors etc. (raw request line is never logged)
        try:
            log("http error: " + (fmt % args))
        except Exception:
            log("http error")

    def _send(self, code, body, content_type="application/json", extra_headers=None):
        if isinstance(body, (dict, list)):
            data = (json.dumps(body, separators=(",", ":")) + "\n").encode("utf-8")
        else:
            data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", content_type + "; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for key, value in (extra_headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _timed(self, fn):
        t0 = time.monotonic()
        path = urlsplit(self.path).path or "/"
        try:
            fn(path)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as exc:   # noqa: BLE001
            log("internal error on %s: %s" % (path, _error_text(exc)))
            if self._status is None:
                try:
                    self._send(500, {"error": "internal error"})
                except Exception:
                    pass
        finally:
            # method, path (never the query string), status, duration
            log('%s %s %s %.1fms' % (self.command, path, self._status or "-", (time.monotonic() - t0) * 1000))

    # -- methods ----------------------------------------------------------
    def do_GET(self):
        self._timed(self._route_get)

    def _method_not_allowed(self):
        self._timed(lambda _p: self._send(405, {"error": "method not allowed"}, extra_headers={"Allow": "GET"}))

    def __getattr__(self, name):
        # Any other method (POST, PUT, HEAD, FOO, ...) -> 405 instead of 501.
        if name.startswith("do_"):
            return self._method_not_allowed
        raise AttributeError(name)

    def _route_get(self, path):
        query = parse_qs(urlsplit(self.path).query)
        if path == "/api/health":
            detailed = query.get("detailed", [""])[-1].lower() in ("true", "1", "yes")
            code, body = evaluate_health(detailed)
            self._send(code, body)
        elif path == "/api/ping":
            _fault_sleep(load_faults(), "api_delay_ms")
            self._send(200, {"ok": True})
        elif path == "/api/version":
            self._send(200, {"version": VERSION})
        elif path == "/":
            self._send(200, _INDEX.format(version=html.escape(VERSION)), content_type="text/html")
        else:
            self._send(404, {"error": "not found"})


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    httpd = Server(("0.0.0.0", PORT), Handler)
    stop = threading.Event()

    def on_signal(signum, _frame):
        log("received %s, shutting down" % signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    serve = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.2},
                             name="http", daemon=True)
    serve.start()
    log("arizu-app %s listening on 0.0.0.0:%d (bad_release=%s, db=%s, redis=%s, n8n=%s, "
        "check_timeout=%gs, degraded_ms=%g, pool_max=%d)" % (
            VERSION, PORT, str(BAD_RELEASE).lower(), DB.describe(),
            REDIS_TARGET.describe() if REDIS_TARGET else "unconfigured",
            N8N_READINESS_URL or "unconfigured", CHECK_TIMEOUT, DEGRADED_MS, DB_POOL_MAX))
    while not stop.wait(0.5):
        pass
    httpd.shutdown()
    httpd.server_close()
    DB.close()
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
