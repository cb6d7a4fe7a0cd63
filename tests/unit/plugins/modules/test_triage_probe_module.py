# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.triage_probe: every part in the shape of its own module, one run.

A local HTTP server stands in for the app and n8n, the fake Docker Engine API
of the docker_evidence tests for the daemon (the real stack is covered by the
Molecule triage scenario).
"""
from __future__ import annotations

import json
import sys
import threading

from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.modules import triage_probe

sys.path.insert(0, str(Path(__file__).parent))
# pylint: disable-next=wrong-import-position,wrong-import-order
from test_docker_evidence_module import (  # noqa: E402  pylint: disable=unused-import
    SECRET,
    _clean_docker_env,
    engine,
    standard,
)

ROUTES = {
    '/api/health': (200, {'status': 'healthy', 'version': '1.0.0'}),
    '/api/health?detailed=true': (200, {'status': 'degraded', 'version': '1.0.0', 'components': {
        'db': {'status': 'down', 'error': 'connection refused'}, 'redis': {'status': 'up'},
        'n8n': {'status': 'up'}, 'llm': {'status': 'up', 'active': 'anthropic', 'fallback': 'openai'}}}),
    '/healthz': (200, {'status': 'ok'}),
    '/healthz/readiness': (503, {'status': 'error'}),
    '/api/ping': (200, {'ok': True}),
}


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, *_args):
        pass

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        self.server.paths.append(self.path)
        code, body = ROUTES.get(self.path, (404, {'error': 'no route'}))
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def web():
    server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
    server.paths = []
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            triage_probe.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def test_every_part_in_one_run(engine, web, capsys, tmp_path):
    standard(engine)
    base = 'http://127.0.0.1:%d' % web.server_address[1]
    code, result, raw = run_module(
        capsys, docker_host=engine.url, app_url=base, n8n_url=base + '/', containers=['arizu-redis', 'arizu-job',
                                                                                      'arizu-gone'],
        logs_tail=10, disk_paths=[str(tmp_path)], api_url=base + '/api/ping', api_samples=5)
    assert code == 0, raw
    assert result['changed'] is False
    assert result['app_summary']['status'] == 'healthy'
    assert result['app']['status'] == 'degraded'
    assert result['app']['components']['db']['status'] == 'down'
    assert result['n8n_liveness']['status'] == 'healthy'
    assert result['n8n_readiness']['status'] == 'down' and result['n8n_readiness']['http_status'] == 503
    containers = result['evidence']['containers']
    assert containers['arizu-redis']['exists'] is True and containers['arizu-gone'] == {'exists': False}
    assert containers['arizu-job']['state'] == 'exited'
    assert result['evidence']['disk'][0]['path'] == str(tmp_path)
    assert result['api_latency']['sent'] == 5 and result['api_latency']['ok'] == 5
    assert result['api_latency']['slo_ms'] == 200 and result['api_latency']['p95_ms'] > 0
    assert web.paths.count('/api/ping') == 5
    assert sorted(p for p in web.paths if p != '/api/ping') == [
        '/api/health', '/api/health?detailed=true', '/healthz', '/healthz/readiness']
    assert SECRET not in raw
    assert 'app degraded; n8n live healthy, ready down' in result['msg']
    assert result['elapsed_ms'] > 0


def test_parts_not_asked_for_are_skipped(engine, capsys):
    code, result, raw = run_module(capsys, docker_host=engine.url)
    assert code == 0, raw
    for key in ('app_summary', 'app', 'n8n_liveness', 'n8n_readiness', 'evidence', 'api_latency'):
        assert result[key] == {'skipped': True, 'changed': False}, key
    assert result['msg'] == 'nothing to probe'


def test_unreachable_endpoints_are_findings_not_failures(engine, capsys):
    code, result, raw = run_module(capsys, docker_host=engine.url, app_url='http://127.0.0.1:9',
                                   n8n_url='http://127.0.0.1:9', api_url='http://127.0.0.1:9/api/ping',
                                   api_samples=2, http_timeout=1)
    assert code == 0, raw
    assert result['app']['status'] == 'unreachable'
    assert result['n8n_readiness']['status'] == 'unreachable'
    assert result['api_latency']['ok'] == 0 and result['api_latency']['slo_ok'] is False


def test_url_password_never_returned(engine, web, capsys):
    base = 'http://ops:s3cr3t-Pass@127.0.0.1:%d' % web.server_address[1]
    code, result, raw = run_module(capsys, docker_host=engine.url, app_url=base, api_url=base + '/api/ping',
                                   api_samples=1)
    assert code == 0, raw
    assert 's3cr3t-Pass' not in raw
    assert result['app']['status'] == 'degraded'


@pytest.mark.parametrize('args, fragment', [
    pytest.param({'app_url': 'ftp://x'}, 'app_url: must be an absolute http:// or https:// URL', id='scheme'),
    pytest.param({'n8n_url': 'http://h:99999'}, 'n8n_url: not a valid URL', id='port'),
    pytest.param({'api_url': 'http://h/a b'}, 'api_url: must be an absolute', id='space'),
    pytest.param({'http_timeout': 0}, 'http_timeout: must be greater than 0', id='timeout'),
    pytest.param({'api_samples': 1001}, 'api_samples: must be between 0 and 1000', id='samples'),
    pytest.param({'logs_tail': -1}, 'logs_tail: must be between 0 and 10000', id='tail'),
    pytest.param({'containers': ['a', ' ']}, 'containers: entry 2 is empty', id='blank-container'),
    pytest.param({'headers': {'X-A': 'a\nb'}}, "headers: header 'X-A'", id='header-newline'),
])
def test_invalid_options(engine, capsys, args, fragment):
    code, result, raw = run_module(capsys, docker_host=engine.url, **args)
    assert code == 1, raw
    assert fragment in result['msg']
    assert 'Traceback' not in raw


def test_documentation_matches_argument_spec():
    doc = yaml.safe_load(triage_probe.DOCUMENTATION)
    assert set(doc['options']) == {'docker_host', 'app_url', 'n8n_url', 'health_slo_ms', 'http_timeout', 'http_validate_certs', 'headers',
                                   'containers', 'logs_tail', 'disk_paths', 'redact', 'api_url', 'api_samples',
                                   'api_slo_ms', 'api_max_seconds'}
    assert set(yaml.safe_load(triage_probe.RETURN)) == {'app_summary', 'app', 'n8n_liveness', 'n8n_readiness',
                                                        'evidence', 'api_latency', 'elapsed_ms', 'msg'}


def test_unusable_docker_daemon_is_a_clear_failure(capsys, tmp_path):
    code, result, raw = run_module(capsys, docker_host='unix://%s/no.sock' % tmp_path, containers=['arizu-app'])
    assert code == 1, raw
    assert result['msg'].startswith('Cannot use the Docker daemon at unix://')
    assert 'Traceback' not in raw
