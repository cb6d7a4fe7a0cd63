# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of arizu.ops.health_check against a real local http.server (no HTTP mocking)."""

from __future__ import annotations

import gzip
import json
import socket
import threading
import time

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import health_probe
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import MAX_BODY_BYTES
from ansible_collections.arizu.ops.plugins.modules import health_check

SECRET = 'Bearer s3cr3t-h3ader-VALUE-xyz'
ARIZU_OK = {
    'status': 'healthy', 'version': '1.0.0', 'timestamp': '2025-01-01T00:00:00Z',
    'components': {'db': 'up', 'redis': 'up', 'n8n': 'up',
                   'llm': {'status': 'up', 'active': 'anthropic', 'fallback': 'openai'}},
}
ARIZU_DETAILED = dict(ARIZU_OK, details={
    'db': {'status': 'up', 'latency_ms': 1.5, 'pool': {'size': 10}},
    'redis': {'status': 'up', 'latency_ms': 0.7},
    'n8n': {'status': 'up', 'latency_ms': 20},
})


def _json(status, obj, extra_headers=None):
    return status, 'application/json', json.dumps(obj).encode(), extra_headers or {}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):  # keep pytest output clean
        pass

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        server = self.server
        path = urlsplit(self.path).path
        with server.lock:
            server.requests.append({'path': self.path, 'headers': dict(self.headers)})
            count = server.counts[path] = server.counts.get(path, 0) + 1
        route = server.routes.get(path)
        if route is None:
            status, ctype, body, headers = 404, 'text/plain', b'Not Found', {}
        else:
            status, ctype, body, headers = route(self, count)
        if status is None:  # the route wrote the response itself
            return
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        for key, value in headers.items():
            self.send_header(key, value)
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass


class LocalServer:
    def __init__(self):
        self.httpd = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}
        self.httpd.requests = []
        self.httpd.counts = {}
        self.httpd.lock = threading.Lock()
        self.httpd.handle_error = lambda *_args: None
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05})
        self.thread.daemon = True

    @property
    def routes(self):
        return self.httpd.routes

    @property
    def requests(self):
        return self.httpd.requests

    def url(self, path):
        return 'http://127.0.0.1:%d%s' % (self.port, path)


@pytest.fixture
def server():
    srv = LocalServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.fixture(autouse=True)
def _no_proxy(monkeypatch):
    for name in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'all_proxy', 'ALL_PROXY'):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv('no_proxy', '*')


def run_module(capsys, **args):
    """Run the module's main() for real; return (exit code, parsed JSON result)."""
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            health_check.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out)


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


RETURN_KEYS = {'status', 'http_status', 'latency_ms', 'slo_ok', 'format', 'components', 'raw', 'msg',
               'attempts', 'url', 'changed'}


# --------------------------------------------------------------------------


def test_healthy_json(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_OK)
    code, result = run_module(capsys, url=server.url('/api/health'), latency_slo_ms=5000)
    assert code == 0
    assert RETURN_KEYS <= set(result)
    assert result['changed'] is False
    assert result['status'] == 'healthy'
    assert result['http_status'] == 200
    assert result['format'] == 'arizu'
    assert result['version'] == '1.0.0'
    assert result['attempts'] == 1
    assert result['slo_ok'] is True
    assert isinstance(result['latency_ms'], float) and result['latency_ms'] > 0
    assert result['components']['llm'] == {'status': 'up', 'active': 'anthropic', 'fallback': 'openai'}
    assert result['raw']['status'] == 'healthy'
    assert result['msg'].startswith('healthy (arizu, HTTP 200, ')
    assert result['msg'].endswith(' ms): db up, redis up, n8n up, llm up')


def test_slo_missed(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_OK)
    code, result = run_module(capsys, url=server.url('/api/health'), latency_slo_ms=0)
    assert code == 0
    assert result['status'] == 'healthy'
    assert result['slo_ok'] is False


def test_503_json(server, capsys):
    body = {'status': 'down', 'components': {'db': 'down', 'redis': 'up'}}
    server.routes['/api/health'] = lambda h, n: _json(503, body)
    code, result = run_module(capsys, url=server.url('/api/health'))
    assert code == 0  # fail_on defaults to []
    assert result['status'] == 'down'
    assert result['http_status'] == 503
    assert result['components']['db'] == {'status': 'down'}
    assert result['raw'] == body
    assert 'version' not in result


def test_503_gzip_body_is_read(server, capsys):
    body = gzip.compress(json.dumps({'status': 'degraded', 'components': {'db': 'warn'}}).encode())
    server.routes['/gz'] = lambda h, n: (503, 'application/json', body, {'Content-Encoding': 'gzip'})
    code, result = run_module(capsys, url=server.url('/gz'))
    assert code == 0
    assert result['status'] == 'down'
    assert result['components'] == {'db': {'status': 'degraded'}}


@pytest.mark.parametrize('path, route, status, fmt, fragment', [
    pytest.param('/healthz', lambda h, n: _json(200, {'status': 'ok'}), 'healthy', 'n8n', 'n8n up', id='n8n-liveness'),
    pytest.param('/healthz/readiness', lambda h, n: _json(503, {'status': 'error'}), 'down', 'n8n',
                 'n8n_readiness down', id='n8n-readiness-503'),
    pytest.param('/502', lambda h, n: (502, 'text/html', b'<html><head><title>502 Bad Gateway</title></head>'
                                            b'<body><h1>502 Bad Gateway</h1></body></html>', {}),
                 'invalid', 'plain', "'502 Bad Gateway'", id='nginx-502-html'),
    pytest.param('/plain', lambda h, n: (200, 'text/plain', b'OK', {}), 'healthy', 'plain', "text 'OK'",
                 id='plain-ok'),
    pytest.param('/empty', lambda h, n: (204, 'text/plain', b'', {}), 'healthy', 'plain', 'empty body',
                 id='empty-204'),
    pytest.param('/trunc', lambda h, n: (200, 'application/json', b'{"status": "heal', {}), 'invalid', 'plain',
                 'malformed JSON', id='truncated-json'),
    pytest.param('/missing', None, 'invalid', 'plain', 'unexpected HTTP status 404', id='404'),
])
def test_formats_end_to_end(server, capsys, path, route, status, fmt, fragment):
    if route is not None:
        server.routes[path] = route
    code, result = run_module(capsys, url=server.url(path))
    assert code == 0
    assert result['status'] == status
    assert result['format'] == fmt
    assert fragment in result['msg']


def test_connection_refused(capsys):
    port = closed_port()
    url = 'http://127.0.0.1:%d/api/health' % port
    code, result = run_module(capsys, url=url)
    assert code == 0
    assert result['status'] == 'unreachable'
    assert result['http_status'] is None
    assert result['format'] is None
    assert result['raw'] is None
    assert result['slo_ok'] is False
    assert result['components'] == {}
    assert result['msg'] == 'unreachable: connection refused (%s)' % url


def test_timeout(server, capsys):
    def slow(handler, count):
        time.sleep(1.0)
        return _json(200, ARIZU_OK)

    server.routes['/slow'] = slow
    started = time.monotonic()
    code, result = run_module(capsys, url=server.url('/slow'), timeout=0.2)
    assert time.monotonic() - started < 0.9
    assert code == 0
    assert result['status'] == 'unreachable'
    assert 'timeout' in result['msg']
    assert result['msg'].startswith('unreachable: timeout after 0.2 s (')


def test_tls_error(server, capsys):
    url = 'https://127.0.0.1:%d/api/health' % server.port  # plain HTTP server behind an https:// URL
    code, result = run_module(capsys, url=url, timeout=2)
    assert code == 0
    assert result['status'] == 'unreachable'
    assert 'TLS error' in result['msg']


def test_not_http(capsys):
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(1)

    def answer():
        conn, _addr = srv.accept()
        conn.recv(1024)
        conn.sendall(b'SSH-2.0-OpenSSH_9.6\r\n')
        conn.close()

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        code, result = run_module(capsys, url='http://127.0.0.1:%d/' % srv.getsockname()[1], timeout=2)
    finally:
        thread.join(2)
        srv.close()
    assert code == 0
    assert result['status'] == 'unreachable'
    assert 'HTTP protocol error' in result['msg']


def test_dns_error(capsys):
    code, result = run_module(capsys, url='http://arizu-health-check.invalid/api/health', timeout=2)
    assert code == 0
    assert result['status'] == 'unreachable'
    assert 'DNS' in result['msg']


def test_headers_sent_but_never_returned(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, dict(ARIZU_OK, echo=h.headers.get('Authorization')))
    code, result = run_module(capsys, url=server.url('/api/health'),
                              headers={'Authorization': SECRET, 'X-Trace': 12345678})
    assert code == 0
    assert server.requests[0]['headers']['Authorization'] == SECRET
    assert server.requests[0]['headers']['X-Trace'] == '12345678'
    dumped = json.dumps(result)
    assert SECRET not in dumped
    assert 's3cr3t-h3ader-VALUE-xyz' not in dumped
    assert '12345678' not in dumped
    assert result['status'] == 'healthy'


def test_headers_not_in_failure_output(capsys):
    url = 'http://127.0.0.1:%d/x' % closed_port()
    code, result = run_module(capsys, url=url, headers={'Authorization': SECRET}, fail_on=['unreachable'])
    assert code == 1
    assert SECRET not in json.dumps(result)


def test_userinfo_redacted(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_OK)
    url = 'http://alice:pa55w0rd-secret@127.0.0.1:%d/api/health' % server.port
    code, result = run_module(capsys, url=url)
    assert code == 0
    assert result['status'] == 'healthy'
    assert 'pa55w0rd-secret' not in json.dumps(result)
    assert result['url'] == server.url('/api/health')
    for key in ('msg', 'url'):
        assert 'alice' not in result[key]


def test_userinfo_redacted_when_unreachable(capsys):
    port = closed_port()
    code, result = run_module(capsys, url='http://bob:hunter2222@127.0.0.1:%d/x' % port)
    assert code == 0
    assert result['msg'] == 'unreachable: connection refused (http://127.0.0.1:%d/x)' % port
    assert 'hunter2222' not in json.dumps(result)
    assert 'bob' not in result['url']


def test_retries_until_healthy(server, capsys):
    def flaky(handler, count):
        if count < 3:
            return _json(503, {'status': 'down'})
        return _json(200, ARIZU_OK)

    server.routes['/api/health'] = flaky
    code, result = run_module(capsys, url=server.url('/api/health'), retries=5, delay=0.01)
    assert code == 0
    assert result['status'] == 'healthy'
    assert result['attempts'] == 3
    assert len(server.requests) == 3


def test_retries_exhausted(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(503, {'status': 'down'})
    code, result = run_module(capsys, url=server.url('/api/health'), retries=2, delay=0.01)
    assert result['status'] == 'down'
    assert result['attempts'] == 3
    assert len(server.requests) == 3


def test_retries_unreachable(capsys):
    code, result = run_module(capsys, url='http://127.0.0.1:%d/x' % closed_port(), retries=2, delay=0)
    assert result['status'] == 'unreachable'
    assert result['attempts'] == 3


@pytest.mark.parametrize('route, status', [
    pytest.param(lambda h, n: _json(200, {'status': 'degraded'}), 'degraded', id='degraded'),
    pytest.param(lambda h, n: (404, 'text/plain', b'nope', {}), 'invalid', id='invalid'),
])
def test_no_retry_for_other_statuses(server, capsys, route, status):
    server.routes['/api/health'] = route
    code, result = run_module(capsys, url=server.url('/api/health'), retries=3, delay=0.01)
    assert result['status'] == status
    assert result['attempts'] == 1


def test_fail_on(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(503, {'status': 'down', 'components': {'db': 'down'}})
    code, result = run_module(capsys, url=server.url('/api/health'), fail_on=['down', 'unreachable'])
    assert code == 1
    assert result['failed'] is True
    assert result['changed'] is False
    assert result['status'] == 'down'
    assert result['components'] == {'db': {'status': 'down'}}
    assert RETURN_KEYS <= set(result)
    assert result['msg'].startswith('down (arizu, HTTP 503, ')


def test_fail_on_not_matching(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_OK)
    code, result = run_module(capsys, url=server.url('/api/health'), fail_on=['down'])
    assert code == 0
    assert 'failed' not in result or result['failed'] is False


def test_detailed_appended_to_existing_query(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_DETAILED)
    code, result = run_module(capsys, url=server.url('/api/health?probe=deploy&x=%20y'), detailed=True)
    assert code == 0
    assert server.requests[0]['path'] == '/api/health?probe=deploy&x=%20y&detailed=true'
    assert result['url'] == server.url('/api/health?probe=deploy&x=%20y&detailed=true')
    assert result['components']['db'] == {'status': 'up', 'latency_ms': 1.5}
    assert result['components']['n8n'] == {'status': 'up', 'latency_ms': 20.0}


def test_detailed_without_query(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_DETAILED)
    run_module(capsys, url=server.url('/api/health'), detailed=True)
    assert server.requests[0]['path'] == '/api/health?detailed=true'


def test_check_mode_still_probes(server, capsys):
    server.routes['/api/health'] = lambda h, n: _json(200, ARIZU_OK)
    code, result = run_module(capsys, url=server.url('/api/health'), _ansible_check_mode=True)
    assert code == 0
    assert result['changed'] is False
    assert result['status'] == 'healthy'
    assert len(server.requests) == 1


def _huge(handler, count):
    """Stream 2 MiB of JSON-looking data; the client must stop reading at the cap."""
    handler.send_response(200)
    handler.send_header('Content-Type', 'application/json')
    handler.send_header('Content-Length', str(2 * MAX_BODY_BYTES))
    handler.end_headers()
    chunk = b' ' * 65536
    try:
        handler.wfile.write(b'{"status": "healthy", "pad": "')
        for _i in range(2 * MAX_BODY_BYTES // len(chunk)):
            handler.wfile.write(chunk)
    except OSError:
        pass
    return None, None, None, None


def test_huge_body_is_invalid_and_not_parsed(server, capsys, monkeypatch):
    seen = {'parsed': [], 'read': []}
    real_parse, real_read = health_probe.parse_health, health_probe.read_capped

    def spy_parse(http_status, body, *args, **kwargs):
        seen['parsed'].append(len(body))
        return real_parse(http_status, body, *args, **kwargs)

    def spy_read(response):
        data = real_read(response)
        seen['read'].append(len(data))
        return data

    monkeypatch.setattr(health_probe, 'parse_health', spy_parse)
    monkeypatch.setattr(health_probe, 'read_capped', spy_read)
    server.routes['/huge'] = _huge
    code, result = run_module(capsys, url=server.url('/huge'))
    assert code == 0
    assert result['status'] == 'invalid'
    assert '1 MiB' in result['msg']
    assert seen['parsed'] == []
    assert seen['read'] == [MAX_BODY_BYTES + 1]
    assert len(result['raw']) <= 500


def test_body_of_exactly_the_cap_is_parsed(server, capsys, monkeypatch):
    seen = []
    real_parse = health_probe.parse_health

    def spy_parse(http_status, body, *args, **kwargs):
        seen.append(len(body))
        return real_parse(http_status, body, *args, **kwargs)

    monkeypatch.setattr(health_probe, 'parse_health', spy_parse)
    prefix = b'{"status": "healthy", "pad": "'
    body = prefix + b'x' * (MAX_BODY_BYTES - len(prefix) - 2) + b'"}'
    assert len(body) == MAX_BODY_BYTES
    server.routes['/cap'] = lambda h, n: (200, 'application/json', body, {})
    code, result = run_module(capsys, url=server.url('/cap'))
    assert seen == [MAX_BODY_BYTES]
    assert result['status'] == 'healthy'
    assert len(result['raw']['pad']) <= 510


@pytest.mark.parametrize('args, fragment', [
    pytest.param({'url': 'ftp://example.com/x'}, 'url:', id='bad-scheme'),
    pytest.param({'url': 'not a url'}, 'url:', id='not-a-url'),
    pytest.param({'url': 'http://[::1/x'}, 'url:', id='broken-ipv6'),
    pytest.param({'url': 'http://h:99999/x'}, 'url: not a valid URL', id='bad-port'),
    pytest.param({'url': 'http://h/x', 'timeout': 0}, 'timeout:', id='timeout-zero'),
    pytest.param({'url': 'http://h/x', 'timeout': 'soon'}, 'timeout', id='timeout-type'),
    pytest.param({'url': 'http://h/x', 'retries': -1}, 'retries:', id='retries-negative'),
    pytest.param({'url': 'http://h/x', 'delay': -1}, 'delay:', id='delay-negative'),
    pytest.param({'url': 'http://h/x', 'latency_slo_ms': -5}, 'latency_slo_ms:', id='slo-negative'),
    pytest.param({'url': 'http://h/x', 'fail_on': ['bogus']}, 'fail_on', id='fail-on-choice'),
    pytest.param({'url': 'http://h/x', 'headers': {'X-A': 'a\r\nInjected: 1'}}, "headers: the value of header 'X-A'",
                 id='header-newline'),
    pytest.param({'url': 'http://h/x', 'headers': {'Bad Name:': 'some-value'}}, 'headers: invalid header name',
                 id='header-name'),
    pytest.param({}, 'url', id='url-missing'),
])
def test_invalid_options(capsys, args, fragment):
    code, result = run_module(capsys, **args)
    assert code == 1
    assert result['failed'] is True
    assert fragment in result['msg']
    assert 'Traceback' not in json.dumps(result)


def test_internal_error_is_fail_json(capsys, monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError('unexpected')

    monkeypatch.setattr(health_check, 'probe_with_retries', boom)
    code, result = run_module(capsys, url='http://127.0.0.1:1/x')
    assert code == 1
    assert 'internal error' in result['msg']
    assert result['status'] == 'invalid'
