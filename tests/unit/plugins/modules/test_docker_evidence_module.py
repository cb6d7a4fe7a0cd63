# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of arizu.ops.docker_evidence against a fake Docker Engine API.

The fake engine is a real HTTP server on a Unix socket (no mocking of the
client): the module connects with community.docker's API client through
``docker_host=unix://...`` exactly as it does to a real engine.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import socketserver
import struct
import tempfile
import threading
import time

from http.server import BaseHTTPRequestHandler
from urllib.parse import parse_qs, quote, urlsplit

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import docker_evidence_api
from ansible_collections.arizu.ops.plugins.modules import docker_evidence

SECRET = 'Fk3/+@q uX9-evidence'
EXTRA = 'tenant-4711-token'
ID_A = 'a' * 12 + '1' * 52
ID_B = 'b' * 12 + '2' * 52
ID_C = 'c' * 12 + '3' * 52


def frame(stream, text):
    payload = text.encode('utf-8')
    return struct.pack('>BxxxI', stream, len(payload)) + payload


def inspect_doc(cid, name, status='running', env=None, healthcheck=True, tty=False, memory=0):
    running = status in ('running', 'paused', 'restarting')
    return {
        'Id': cid, 'Name': '/' + name, 'Image': 'sha256:' + 'f' * 64, 'RestartCount': 1,
        'Path': 'docker-entrypoint.sh', 'Args': ['--requirepass', SECRET],
        'State': {
            'Status': status, 'Running': running, 'Paused': status == 'paused', 'Restarting': False,
            'OOMKilled': False, 'Dead': False, 'Pid': 10, 'ExitCode': 0 if running else 1, 'Error': '',
            'StartedAt': '2025-01-01T10:00:00.000000001Z',
            'FinishedAt': '0001-01-01T00:00:00Z' if running else '2025-01-01T10:05:00Z',
            'Health': {'Status': 'healthy', 'FailingStreak': 0, 'Log': [
                {'Start': 's', 'End': 'e', 'ExitCode': 0, 'Output': 'auth ok with ' + SECRET},
            ]} if healthcheck else None,
        },
        'Config': {
            'Image': 'arizu-local/%s:1.0.0' % name, 'Tty': tty,
            'Env': env if env is not None else ['REDIS_PASSWORD=' + SECRET, 'PATH=/usr/bin'],
            'Cmd': ['redis-server', '--requirepass', SECRET],
            'Healthcheck': {'Test': ['CMD-SHELL', 'true']} if healthcheck else None,
            'Labels': {'arizu.component': name, 'maintainer': 'x'},
        },
        'HostConfig': {'Memory': memory},
        'NetworkSettings': {'Ports': {'6379/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '55501'}]} if running else {}},
    }


STATS = {
    'memory_stats': {'usage': 300 * 2 ** 20, 'limit': 1024 * 2 ** 20, 'stats': {'total_inactive_file': 44 * 2 ** 20}},
    'cpu_stats': {'cpu_usage': {'total_usage': 3_000_000_000}, 'system_cpu_usage': 20_000_000_000, 'online_cpus': 2},
    'precpu_stats': {'cpu_usage': {'total_usage': 0}},
}
SAMPLED_STATS = dict(STATS, precpu_stats={'cpu_usage': {'total_usage': 2_000_000_000},
                                          'system_cpu_usage': 10_000_000_000})


class _Handler(BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *_args):
        pass

    def address_string(self):
        return 'unix'

    def _send(self, status, body, ctype='application/json'):
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
        self.send_response(status)
        self.send_header('Content-Type', ctype)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        engine = self.server.engine
        parts = urlsplit(self.path)
        query = dict((k, v[-1]) for k, v in parse_qs(parts.query).items())
        path = parts.path
        started = time.monotonic()
        with engine.lock:
            engine.requests.append((path, query))
        if path.endswith('/version'):
            return self._send(200, {'ApiVersion': engine.api_version, 'Version': '20.10.24', 'MinAPIVersion': '1.12'})
        prefix = '/v%s/containers/' % engine.api_version
        if path.startswith('/containers/'):  # an unversioned request (the standard-library client's)
            path = '/v%s%s' % (engine.api_version, path)
        if not path.startswith(prefix):
            return self._send(404, {'message': 'page not found'})
        ref, _sep, action = path[len(prefix):].partition('/')
        if ref in engine.errors:
            return self._send(engine.errors[ref][0], {'message': engine.errors[ref][1]})
        doc = engine.find(ref)
        if doc is None:
            return self._send(404, {'message': 'No such container: %s' % ref})
        if action == 'json':
            return self._send(200, doc)
        if action == 'stats':
            if engine.stats_delay:
                time.sleep(engine.stats_delay)
            with engine.lock:
                engine.stats_spans.append((started, time.monotonic()))
            if doc['Id'] in engine.stats_errors:
                return self._send(500, {'message': engine.stats_errors[doc['Id']]})
            sampled = query.get('one-shot') != 'true'
            return self._send(200, SAMPLED_STATS if sampled else STATS)
        if action == 'logs':
            logs = engine.logs.get(doc['Id'], b'')
            if isinstance(logs, tuple):
                return self._send(logs[0], {'message': logs[1]})
            self.send_response(200)
            self.send_header('Content-Type', 'application/vnd.docker.raw-stream')
            self.send_header('Content-Length', str(len(logs)))
            self.end_headers()
            for i in range(0, len(logs), 5):   # small writes: frames arrive split
                self.wfile.write(logs[i:i + 5])
                self.wfile.flush()
            return None
        return self._send(404, {'message': 'page not found'})


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


class FakeEngine:
    def __init__(self, api_version='1.41'):
        self.dir = tempfile.mkdtemp(prefix='de-')
        self.socket = os.path.join(self.dir, 'docker.sock')
        self.api_version = api_version
        self.containers = {}
        self.logs = {}
        self.errors = {}
        self.stats_errors = {}
        self.stats_delay = 0
        self.stats_spans = []
        self.requests = []
        self.lock = threading.Lock()
        self.httpd = _Server(self.socket, _Handler)
        self.httpd.engine = self
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)

    def add(self, doc, logs=b''):
        self.containers[doc['Name'].lstrip('/')] = doc
        self.logs[doc['Id']] = logs

    def find(self, ref):
        if ref in self.containers:
            return self.containers[ref]
        matches = [d for d in self.containers.values() if d['Id'].startswith(ref)]
        return matches[0] if len(matches) == 1 else None

    def calls(self, action):
        return [(p, q) for p, q in self.requests if p.endswith('/' + action)]

    @property
    def url(self):
        return 'unix://' + self.socket


@pytest.fixture
def engine():
    eng = FakeEngine()
    eng.thread.start()
    try:
        yield eng
    finally:
        eng.httpd.shutdown()
        eng.httpd.server_close()
        shutil.rmtree(eng.dir, ignore_errors=True)


@pytest.fixture(autouse=True)
def _clean_docker_env(monkeypatch):
    for name in ('DOCKER_HOST', 'DOCKER_TLS', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH', 'DOCKER_API_VERSION',
                 'DOCKER_TIMEOUT', 'DOCKER_TLS_HOSTNAME'):
        monkeypatch.delenv(name, raising=False)


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            docker_evidence.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def standard(engine):
    engine.add(inspect_doc(ID_A, 'arizu-redis'), logs=(
        frame(1, '2025-01-01T10:00:01.000000000Z Ready to accept connections\n')
        + frame(2, '2025-01-01T10:00:02.000000000Z AUTH failed for ' + SECRET + '\n')
        + frame(1, '2025-01-01T10:00:03.000000000Z url ' + quote(SECRET, safe='') + ' ' + EXTRA + '\n')))
    engine.add(inspect_doc(ID_B, 'arizu-job', status='exited', healthcheck=False,
                           env=['DATABASE_URL=postgresql://app:' + quote(SECRET, safe='') + '@db/app']),
               logs=frame(1, '2025-01-01T10:04:59Z connecting postgresql://app:' + quote(SECRET, safe='')
                          + '@db/app\n') + frame(2, '2025-01-01T10:05:00Z fatal: boom\n'))


def test_evidence_end_to_end(engine, capsys, tmp_path):
    standard(engine)
    code, result, raw = run_module(
        capsys, docker_host=engine.url, containers=['arizu-redis', 'arizu-job', 'arizu-missing'],
        logs_tail=100, disk_paths=[str(tmp_path), str(tmp_path / 'nope')], redact=[EXTRA])
    assert code == 0, result
    assert result['changed'] is False
    assert list(result['containers']) == ['arizu-redis', 'arizu-job', 'arizu-missing']
    redis = result['containers']['arizu-redis']
    assert redis['exists'] is True and redis['state'] == 'running' and redis['running'] is True
    assert redis['id'] == ID_A[:12] and redis['name'] == 'arizu-redis'
    assert redis['image'] == 'arizu-local/arizu-redis:1.0.0'
    assert redis['health']['status'] == 'healthy' and redis['has_healthcheck'] is True
    assert redis['health']['last_checks'][0]['output'] == 'auth ok with ********'
    assert redis['memory'] == {'usage_bytes': 256 * 2 ** 20, 'limit_bytes': 1024 * 2 ** 20, 'pct': 25.0,
                               'unlimited': True}
    assert redis['cpu_pct'] is None
    assert redis['labels'] == {'arizu.component': 'arizu-redis'}
    assert redis['ports'] == ['127.0.0.1:55501->6379/tcp']
    assert redis['logs'] == ['2025-01-01T10:00:01.000000000Z Ready to accept connections',
                             '2025-01-01T10:00:02.000000000Z AUTH failed for ********',
                             '2025-01-01T10:00:03.000000000Z url ******** ********']
    job = result['containers']['arizu-job']
    assert job['state'] == 'exited' and job['memory'] is None and job['has_healthcheck'] is False
    assert job['health'] == {'status': 'none', 'failing_streak': 0, 'last_checks': []}
    assert job['logs'] == ['2025-01-01T10:04:59Z connecting ********', '2025-01-01T10:05:00Z fatal: boom']
    assert result['containers']['arizu-missing'] == {'exists': False}
    assert result['summary'] == ['arizu-redis running healthy mem 25% of host restarts 1',
                                 'arizu-job exited(1) no-healthcheck restarts 1',
                                 'arizu-missing missing']
    assert result['msg'] == '2 of 3 containers found, 1 running; not running: arizu-job; missing: arizu-missing'
    assert result['disk'][0]['path'] == str(tmp_path) and result['disk'][0]['total_bytes'] > 0
    assert result['disk'][1] == {'path': str(tmp_path / 'nope'), 'error': 'No such file or directory'}
    assert result['stats_mode'] == 'one-shot' and result['api_version'] == '1.41'
    # never the environment, the command line or the secrets in any form
    for needle in (SECRET, quote(SECRET, safe=''), 'uX9-evidence', EXTRA, 'requirepass', 'REDIS_PASSWORD',
                   'DATABASE_URL', 'maintainer'):
        assert needle not in raw, needle
    # one inspect per container, stats only for the running one (one-shot), logs for both
    assert len(engine.calls('json')) == 3
    assert engine.calls('stats') == [('/v1.41/containers/%s/stats' % ID_A, {'stream': 'false', 'one-shot': 'true'})]
    assert sorted(p for p, _q in engine.calls('logs')) == sorted('/v1.41/containers/%s/logs' % i for i in (ID_A, ID_B))
    assert all(q == {'stdout': '1', 'stderr': '1', 'timestamps': '1', 'follow': '0', 'tail': '100'}
               for _p, q in engine.calls('logs'))


def test_defaults_no_logs_request(engine, capsys):
    standard(engine)
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-redis'])
    assert code == 0
    assert 'logs' not in result['containers']['arizu-redis']
    assert engine.calls('logs') == []
    assert result['disk'] == []


def test_stats_false(engine, capsys):
    standard(engine)
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-redis'], stats=False)
    assert code == 0
    assert engine.calls('stats') == []
    assert result['containers']['arizu-redis']['memory'] is None
    assert result['stats_mode'] == 'none'
    assert result['summary'] == ['arizu-redis running healthy mem n/a restarts 1']


def test_cpu_sample_concurrent(engine, capsys):
    for i, cid in enumerate((ID_A, ID_B, ID_C, 'd' * 64)):
        engine.add(inspect_doc(cid, 'arizu-%d' % i, memory=1024 * 2 ** 20))
    engine.stats_delay = 0.4
    started = time.monotonic()
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-%d' % i for i in range(4)],
                                    cpu_sample=True)
    elapsed = time.monotonic() - started
    assert code == 0
    assert result['stats_mode'] == 'sampled'
    for i in range(4):
        ev = result['containers']['arizu-%d' % i]
        assert ev['cpu_pct'] == 20.0
        assert ev['memory']['unlimited'] is False and ev['memory']['pct'] == 25.0
        assert 'cpu 20% restarts 1' in result['summary'][i]
    assert all('one-shot' not in q for _p, q in engine.calls('stats'))
    # the four stats requests overlapped
    latest_start = max(s for s, _e in engine.stats_spans)
    earliest_end = min(e for _s, e in engine.stats_spans)
    assert latest_start < earliest_end
    assert elapsed < 4 * 0.4


def test_old_api_gets_two_sample_stats(capsys):
    eng = FakeEngine(api_version='1.40')
    eng.thread.start()
    try:
        eng.add(inspect_doc(ID_A, 'arizu-redis'))
        code, result, _raw = run_module(capsys, docker_host=eng.url, containers=['arizu-redis'])
    finally:
        eng.httpd.shutdown()
        eng.httpd.server_close()
        shutil.rmtree(eng.dir, ignore_errors=True)
    assert code == 0
    assert result['stats_mode'] == 'sampled' and result['api_version'] == '1.40'
    assert eng.calls('stats') == [('/v1.40/containers/%s/stats' % ID_A, {'stream': 'false'})]
    assert result['containers']['arizu-redis']['cpu_pct'] == 20.0


def test_per_container_failures_do_not_abort(engine, capsys):
    standard(engine)
    engine.errors['abc'] = (400, 'multiple IDs found with provided prefix: abc')
    engine.stats_errors[ID_A] = 'cgroup gone'
    engine.logs[ID_B] = (501, 'configured logging driver does not support reading')
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-redis', 'arizu-job', 'abc'],
                                    logs_tail=5)
    assert code == 0
    redis = result['containers']['arizu-redis']
    assert redis['memory'] is None and redis['errors'] == ['stats failed: HTTP 500: cgroup gone']
    job = result['containers']['arizu-job']
    assert job['logs'] == []
    assert job['errors'] == ['logs failed: HTTP 501: configured logging driver does not support reading']
    assert result['containers']['abc'] == {
        'exists': False, 'error': 'inspect failed: HTTP 400: multiple IDs found with provided prefix: abc'}
    assert result['summary'][2] == 'abc error: inspect failed: HTTP 400: multiple IDs found with provided prefix: abc'


def test_tty_container_logs_and_id_lookup(engine, capsys):
    engine.add(inspect_doc(ID_C, 'arizu-tty', tty=True), logs=b'2025-01-01T00:00:00Z tty says hi\r\nbye\r\n')
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=[ID_C[:12], '/arizu-tty'],
                                    logs_tail=10)
    assert code == 0
    assert result['containers'][ID_C[:12]]['name'] == 'arizu-tty'
    assert result['containers']['/arizu-tty']['logs'] == ['2025-01-01T00:00:00Z tty says hi', 'bye']


def test_duplicates_are_asked_once(engine, capsys):
    standard(engine)
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-redis', 'arizu-redis'])
    assert code == 0
    assert list(result['containers']) == ['arizu-redis'] and len(result['summary']) == 1
    assert len(engine.calls('json')) == 1


def test_check_mode_gathers_evidence(engine, capsys):
    standard(engine)
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-redis'],
                                    _ansible_check_mode=True)
    assert code == 0
    assert result['changed'] is False and result['containers']['arizu-redis']['memory']['usage_bytes'] > 0


def test_unreachable_daemon_fails_cleanly(capsys, tmp_path):
    code, result, raw = run_module(capsys, docker_host='unix://%s/none.sock' % tmp_path, containers=['x'])
    assert code == 1 and result['failed'] is True
    assert result['msg'].startswith('Cannot use the Docker daemon at unix://%s/none.sock' % tmp_path)
    assert 'exception' not in result and 'Traceback' not in raw


@pytest.mark.parametrize('args, fragment', [
    pytest.param({'containers': []}, 'containers: give at least one', id='empty-list'),
    pytest.param({'containers': ['ok', '  ']}, 'containers: entry 2 is empty', id='blank-entry'),
    pytest.param({'containers': ['bad/name']}, "containers: 'bad/name' is not a valid", id='slash'),
    pytest.param({'containers': ['a b']}, "containers: 'a b' is not a valid", id='space'),
    pytest.param({'containers': ['x'], 'logs_tail': -1}, 'logs_tail: must be between 0 and 10000', id='tail-negative'),
    pytest.param({'containers': ['x'], 'logs_tail': 10001}, 'logs_tail: must be between 0 and 10000', id='tail-huge'),
    pytest.param({'containers': ['x'], 'logs_tail': 'many'}, 'logs_tail', id='tail-type'),
    pytest.param({}, 'containers', id='containers-missing'),
])
def test_invalid_options(engine, capsys, args, fragment):
    code, result, _raw = run_module(capsys, docker_host=engine.url, **args)
    assert code == 1
    assert result['failed'] is True
    assert fragment in result['msg']
    assert 'Traceback' not in json.dumps(result)


def test_internal_error_is_fail_json(engine, capsys, monkeypatch):
    standard(engine)

    def boom(*_args, **_kwargs):
        raise RuntimeError('unexpected')

    monkeypatch.setattr(docker_evidence_api, 'container_evidence', boom)
    code, result, _raw = run_module(capsys, docker_host=engine.url, containers=['arizu-redis'])
    assert code == 1
    assert result['msg'] == 'docker_evidence internal error: RuntimeError: unexpected'


def test_documentation_matches_argument_spec():
    import yaml

    doc = yaml.safe_load(docker_evidence.DOCUMENTATION)
    own = {'containers', 'logs_tail', 'stats', 'cpu_sample', 'disk_paths', 'redact'}
    assert set(doc['options']) == own
    returned = yaml.safe_load(docker_evidence.RETURN)
    assert set(returned) == {'containers', 'summary', 'disk', 'stats_mode', 'api_version', 'msg'}
    sample = copy.deepcopy(returned['containers']['sample']['arizu-n8n'])
    assert set(sample) | {'error', 'errors'} == set(returned['containers']['contains'])
