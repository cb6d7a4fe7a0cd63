# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.http_latency against a real local http.server (no HTTP mocking)."""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import http_sampling
from ansible_collections.arizu.ops.plugins.modules import http_latency

SECRET = "Bearer latency-s3cret-VALUE"


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):
        pass

    def do_GET(self):  # noqa: N802
        delay, status = self.server.plan(self.path)
        time.sleep(delay)
        body = b'{"ok": true}'
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server():
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    httpd.daemon_threads = True
    httpd.plan = lambda path: (0, 200)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ("http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)


def run(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            http_latency.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def url(httpd, path="/api/ping"):
    return "http://127.0.0.1:%d%s" % (httpd.server_address[1], path)


@pytest.mark.parametrize("values, pct, expected", [
    ([], 95, None),
    ([5.0], 95, 5.0),
    ([1, 2], 50, 1),
    (list(range(1, 11)), 95, 10),
    (list(range(1, 101)), 95, 95),
    (list(range(1, 101)), 100, 100),
    ([3, 1, 2], 50, 2),
])
def test_percentile_nearest_rank(values, pct, expected):
    assert http_sampling.percentile(values, pct) == expected


def test_fast_endpoint_meets_the_slo(server, capsys):
    code, res = run(capsys, url=url(server), samples=10, slo_ms=200, headers={"Authorization": SECRET})
    assert code == 0
    assert res["sent"] == 10 and res["ok"] == 10 and res["status_codes"] == {"200": 10}
    assert res["slo_ok"] is True and res["p95_ms"] <= 200
    assert SECRET not in json.dumps(res)


def test_slow_endpoint_breaches_the_slo(server, capsys):
    server.plan = lambda path: (0.06, 200)
    code, res = run(capsys, url=url(server), samples=5, slo_ms=20)
    assert code == 0
    assert res["slo_ok"] is False and res["p95_ms"] >= 55
    assert "> 20 ms" in res["msg"]


def test_server_errors_count_as_errors(server, capsys):
    server.plan = lambda path: (0, 503)
    code, res = run(capsys, url=url(server), samples=4)
    assert res["ok"] == 0 and res["errors"] == {"HTTP 503": 4} and res["slo_ok"] is False


def test_no_answer(capsys):
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    code, res = run(capsys, url="http://127.0.0.1:%d/x" % port, samples=3)
    assert code == 0 and res["sent"] == 3 and res["p95_ms"] is None and not res["slo_ok"]
    assert "no answer" in res["msg"]


def test_max_seconds_bounds_the_run(server, capsys):
    server.plan = lambda path: (0.05, 200)
    started = time.monotonic()
    code, res = run(capsys, url=url(server), samples=1000, max_seconds=0.3)
    assert time.monotonic() - started < 2
    assert 1 <= res["sent"] < 1000


@pytest.mark.parametrize("args, word", [
    ({"url": "ftp://x/"}, "url"),
    ({"url": "http://127.0.0.1/", "samples": 0}, "samples"),
    ({"url": "http://127.0.0.1/", "samples": 1001}, "samples"),
    ({"url": "http://127.0.0.1/", "percentile": 0}, "percentile"),
    ({"url": "http://u:pw-secret@127.0.0.1/", "timeout": 0}, "timeout"),
])
def test_bad_input_is_named(capsys, args, word):
    code, res = run(capsys, **args)
    assert code == 1 and res["failed"] and word in res["msg"]
    assert "pw-secret" not in json.dumps(res)
