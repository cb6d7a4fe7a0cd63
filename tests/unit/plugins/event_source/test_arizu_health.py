# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the event source arizu.ops.arizu_health (extensions/eda/plugins/event_source/arizu_health.py).

The pure part (argument checks, the consecutive-failure counter, n8n's two
probes combined, event shaping, severity) without network; then whole runs of
the source's ``main`` against a local http.server stub, and a load of the file
the way ansible-rulebook does it (runpy, from the installed collection path).
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import subprocess
import sys
import threading

import pytest
import yaml

from ansible_collections.arizu.ops.extensions.eda.plugins.event_source import arizu_health as src
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import parse_health

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
INSTALLED_PATH = os.path.join(REPO_ROOT, '.state', 'collections', 'ansible_collections', 'arizu', 'ops',
                              'extensions', 'eda', 'plugins', 'event_source', 'arizu_health.py')

ENDPOINT_N8N = {'name': 'n8n', 'url': 'http://127.0.0.1:5678', 'kind': 'n8n', 'detailed': False}
ENDPOINT_APP = {'name': 'app', 'url': 'http://127.0.0.1:3000/api/health', 'kind': 'app', 'detailed': False}

APP_OK = {'status': 'healthy', 'version': '1.0.0',
          'components': {'db': 'up', 'redis': 'up', 'n8n': 'up',
                         'llm': {'status': 'up', 'active': 'anthropic', 'fallback': 'openai'}}}


def _j(value):
    return json.dumps(value).encode()


def judge(http_status, body, url, error=None):
    """What health_probe.probe returns for an answer (or for none, with *error*), as the source keeps it."""
    if error is not None:
        return src.probe_result({'status': 'unreachable', 'http_status': None, 'latency_ms': 1.5, 'format': None,
                                 'components': {}, 'raw': None, 'url': url,
                                 'msg': 'unreachable: %s (%s)' % (error, url)})
    parsed = parse_health(http_status, _j(body), 'application/json', url)
    result = {'status': parsed['status'], 'http_status': http_status, 'latency_ms': 2.0, 'format': parsed['format'],
              'components': parsed['components'], 'raw': parsed['raw'], 'url': url,
              'msg': '%s (%s, HTTP %s, 2.0 ms): %s' % (parsed['status'], parsed['format'], http_status,
                                                       parsed['msg_detail'])}
    if parsed.get('version') is not None:
        result['version'] = parsed['version']
    return src.probe_result(result)


def n8n_probe(path, http_status, body):
    return judge(http_status, body, 'http://127.0.0.1:5678' + path)


def unreachable(path):
    return judge(None, None, 'http://127.0.0.1:5678' + path, error='connection refused')


# --------------------------------------------------------------------------
# The consecutive-failure counter
# --------------------------------------------------------------------------

@pytest.mark.parametrize('statuses, counts', [
    (['healthy', 'healthy'], [0, 0]),
    (['down', 'unreachable', 'invalid', 'down'], [1, 2, 3, 4]),
    (['down', 'down', 'healthy', 'down'], [1, 2, 0, 1]),
    (['down', 'degraded', 'down'], [1, 0, 1]),  # degraded is not a failure
    (['unreachable', 'unreachable', 'unreachable', 'healthy', 'unreachable'], [1, 2, 3, 0, 1]),
])
def test_consecutive_failures(statuses, counts):
    state = src.PollState(failure_threshold=3)
    assert [state.update('n8n', s)[0] for s in statuses] == counts


def test_counters_are_per_endpoint():
    state = src.PollState()
    state.update('n8n', 'down')
    state.update('n8n', 'down')
    assert state.update('app', 'down') == (1, None)
    assert state.update('n8n', 'healthy') == (0, 'down')
    assert state.update('app', 'down') == (2, 'down')


@pytest.mark.parametrize('failures, reached', [(1, False), (2, False), (3, True), (5, True)])
def test_threshold_reached_in_event(failures, reached):
    state = src.PollState(failure_threshold=3)
    result = src.combine_n8n(unreachable('/healthz'), unreachable('/healthz/readiness'))
    for poll in range(1, failures + 1):
        event = src.shape_event(ENDPOINT_N8N, result, state, poll, '2026-01-01T00:00:00Z')['arizu_health']
    assert event['consecutive_failures'] == failures
    assert event['failure_threshold'] == 3
    assert event['threshold_reached'] is reached
    assert event['changed'] is (failures == 1)


# --------------------------------------------------------------------------
# n8n: liveness and readiness
# --------------------------------------------------------------------------

@pytest.mark.parametrize('liveness, readiness, status, up', [
    ((200, {'status': 'ok'}), (200, {'status': 'ok'}), 'healthy', True),
    # /healthz answers 200 while n8n is not ready: never up
    ((200, {'status': 'ok'}), (503, {'status': 'error'}), 'down', False),
    ((200, {'status': 'ok'}), None, 'unreachable', False),
    (None, None, 'unreachable', False),
    ((200, {'status': 'ok'}), (404, {'message': 'not found'}), 'invalid', False),
])
def test_n8n_needs_liveness_and_readiness(liveness, readiness, status, up):
    live = n8n_probe('/healthz', *liveness) if liveness else unreachable('/healthz')
    ready = n8n_probe('/healthz/readiness', *readiness) if readiness else unreachable('/healthz/readiness')
    result = src.combine_n8n(live, ready)
    event = src.shape_event(ENDPOINT_N8N, result, src.PollState(), 1, 'now')['arizu_health']
    assert event['status'] == status
    assert event['up'] is up
    assert event['failed'] is (not up)
    assert set(event['probes']) == {'liveness', 'readiness'}
    assert set(event['components']) == {'n8n', 'n8n_readiness'}
    assert event['severity'] is None


def test_n8n_event_shape():
    live = n8n_probe('/healthz', 200, {'status': 'ok'})
    ready = n8n_probe('/healthz/readiness', 503, {'status': 'error'})
    event = src.shape_event(ENDPOINT_N8N, src.combine_n8n(live, ready), src.PollState(), 7,
                            '2026-01-01T00:00:00Z')
    assert list(event) == ['arizu_health']
    body = event['arizu_health']
    assert body['name'] == 'n8n' and body['kind'] == 'n8n' and body['url'] == 'http://127.0.0.1:5678'
    assert body['poll'] == 7 and body['polled_at'] == '2026-01-01T00:00:00Z'
    assert body['http_status'] == 503
    assert body['probes']['liveness']['status'] == 'healthy'
    assert body['probes']['readiness']['status'] == 'down'
    assert body['components']['n8n_readiness'] == {'status': 'down'}
    assert 'readiness down' in body['msg']
    json.dumps(event)  # plain data only


@pytest.mark.parametrize('url, base', [
    ('http://n8n:5678', 'http://n8n:5678'),
    ('http://n8n:5678/', 'http://n8n:5678'),
    ('http://n8n:5678/healthz', 'http://n8n:5678'),
    ('http://n8n:5678/healthz/readiness', 'http://n8n:5678'),
    ('https://ops.example/n8n/healthz/', 'https://ops.example/n8n'),
])
def test_n8n_base_url(url, base):
    config = src.validate_args({'endpoints': [{'name': 'n8n', 'url': url, 'kind': 'n8n'}]})
    assert config['endpoints'][0]['url'] == base


# --------------------------------------------------------------------------
# The app: parsed by health_parser, severity by the rule table
# --------------------------------------------------------------------------

@pytest.mark.parametrize('http_status, body, status, severity, rule', [
    (200, APP_OK, 'healthy', 'none', None),
    (503, dict(APP_OK, status='down'), 'down', 'P0', 'app_down'),
    (200, dict(APP_OK, status='degraded', components=dict(APP_OK['components'], n8n='down')), 'degraded', 'P1',
     'n8n_down'),
    (200, dict(APP_OK, status='degraded', components=dict(APP_OK['components'], redis='degraded')), 'degraded',
     'P2', 'health_degraded'),
    (None, None, 'unreachable', 'P0', 'app_down'),
])
def test_app_status_and_severity(http_status, body, status, severity, rule):
    if body is None:
        result = judge(None, None, ENDPOINT_APP['url'], error='connection refused')
    else:
        result = judge(http_status, body, ENDPOINT_APP['url'])
    sev, reasons = src.app_severity(result)
    event = src.shape_event(ENDPOINT_APP, result, src.PollState(), 1, 'now', sev, reasons)['arizu_health']
    assert event['status'] == status
    assert event['severity'] == severity
    assert [r['rule'] for r in event['severity_reasons']][:1] == ([rule] if rule else [])
    if body is not None:
        assert set(event['components']) == {'db', 'redis', 'n8n', 'llm'}
        assert event['version'] == '1.0.0'


def test_app_severity_rule_override():
    result = judge(503, dict(APP_OK, status='down'), ENDPOINT_APP['url'])
    sev, _reasons = src.app_severity(result, {'app_down': {'severity': 'P1'}})
    assert sev == 'P1'


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------

def test_defaults():
    config = src.validate_args({'endpoints': [{'name': 'x', 'url': 'http://127.0.0.1:1/health'}]})
    assert config['interval'] == 10 and config['timeout'] == 5 and config['failure_threshold'] == 3
    assert config['endpoints'][0]['kind'] == 'generic'
    assert config['max_polls'] == 0 and config['validate_certs'] is True


def test_rendered_strings_are_accepted():
    # ansible-rulebook renders "{{ var | default(3) }}" in source arguments; a string may arrive
    config = src.validate_args({'endpoints': [ENDPOINT_APP], 'interval': '2', 'timeout': '1.5',
                                'failure_threshold': '4', 'validate_certs': 'false'})
    assert (config['interval'], config['timeout'], config['failure_threshold']) == (2.0, 1.5, 4)
    assert config['validate_certs'] is False


@pytest.mark.parametrize('args, message', [
    ({}, 'endpoints: required'),
    ({'endpoints': []}, 'endpoints: required'),
    ({'endpoints': 'http://x'}, 'endpoints: required'),
    ({'endpoints': ['http://x']}, 'endpoints[0]: expected a mapping'),
    ({'endpoints': [{'url': 'http://x'}]}, 'endpoints[0].name: required'),
    ({'endpoints': [{'name': 'a'}]}, 'endpoints[0] (a).url: required'),
    ({'endpoints': [{'name': 'a', 'url': 'ftp://x'}]}, 'must be an absolute http:// or https:// URL'),
    ({'endpoints': [{'name': 'a', 'url': 'http://x:99999/'}]}, 'endpoints[0] (a).url: not a valid URL'),
    ({'endpoints': [{'name': 'a', 'url': 'http://x', 'kind': 'redis'}]}, 'kind: must be one of app, n8n, generic'),
    ({'endpoints': [{'name': 'a', 'url': 'http://x', 'interval': 3}]}, "unknown key(s) interval"),
    ({'endpoints': [{'name': 'a', 'url': 'http://x'}, {'name': 'a', 'url': 'http://y'}]}, 'repeated: a'),
    ({'endpoints': [ENDPOINT_APP], 'interval': 'often'}, "interval: expected a number, got 'often'"),
    ({'endpoints': [ENDPOINT_APP], 'interval': 0}, 'interval: must be at least 0.1'),
    ({'endpoints': [ENDPOINT_APP], 'interval': 2, 'timeout': 5}, 'timeout: must not be longer than interval'),
    ({'endpoints': [ENDPOINT_APP], 'failure_threshold': 0}, 'failure_threshold: must be at least 1'),
    ({'endpoints': [ENDPOINT_APP], 'failure_threshold': 2.5}, 'failure_threshold: expected a whole number'),
    ({'endpoints': [ENDPOINT_APP], 'validate_certs': 'maybe'}, 'validate_certs: expected true or false'),
    ({'endpoints': [ENDPOINT_APP], 'severity_rules': {'no_such_rule': {'severity': 'P1'}}},
     'severity_rules/severity_thresholds:'),
    ({'endpoints': [ENDPOINT_APP], 'polls': 3}, 'unknown argument(s) polls'),
])
def test_bad_arguments_are_named(args, message):
    with pytest.raises(src.ArgumentError) as info:
        src.validate_args(args)
    assert message in str(info.value)


def test_credentials_in_url_refused_and_not_echoed():
    with pytest.raises(src.ArgumentError) as info:
        src.validate_args({'endpoints': [{'name': 'a', 'url': 'http://ops:s3cr3t-pw@127.0.0.1:1/health'}]})
    assert 'credentials in the URL are not supported' in str(info.value)
    assert 's3cr3t-pw' not in str(info.value)


def test_documentation_matches_the_arguments():
    doc = yaml.safe_load(src.DOCUMENTATION)
    options = set(doc['options'])
    config = src.validate_args({'endpoints': [ENDPOINT_APP]})
    assert options == set(config)
    assert set(doc['options']['endpoints']['suboptions']) == {'name', 'url', 'kind', 'detailed'}
    assert doc['options']['endpoints']['suboptions']['kind']['choices'] == list(src.KINDS)
    event_keys = set(yaml.safe_load(src.EVENT)['arizu_health']['contains'])
    live = n8n_probe('/healthz', 200, {'status': 'ok'})
    n8n_event = src.shape_event(ENDPOINT_N8N, src.combine_n8n(live, live), src.PollState(), 1, 'now')
    assert set(n8n_event['arizu_health']) == event_keys
    assert yaml.safe_load(src.EXAMPLES)[0]['sources'][0]['arizu.ops.arizu_health']['endpoints']


# --------------------------------------------------------------------------
# Whole runs against a local http.server stub
# --------------------------------------------------------------------------

class _Stub(http.server.BaseHTTPRequestHandler):
    routes = {}

    def do_GET(self):  # noqa: N802  (http.server's name)
        path = self.path.split('?', 1)[0]
        status, body = self.routes.get(path, (404, {'message': 'no route'}))
        data = _j(body)
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture
def stub():
    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), _Stub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _run_source(args, timeout=20):
    queue = asyncio.Queue()

    async def run():
        await asyncio.wait_for(src.main(queue, args), timeout)
        events = []
        while not queue.empty():
            events.append(queue.get_nowait()['arizu_health'])
        return events

    return asyncio.run(run())


def test_source_against_local_server(stub):
    _Stub.routes = {
        '/healthz': (200, {'status': 'ok'}),                 # live ...
        '/healthz/readiness': (503, {'status': 'error'}),    # ... but not ready
        '/api/health': (200, dict(APP_OK, status='degraded', components=dict(APP_OK['components'], n8n='down'))),
    }
    base = 'http://127.0.0.1:%d' % stub.server_address[1]
    events = _run_source({
        'endpoints': [{'name': 'n8n', 'url': base, 'kind': 'n8n'},
                      {'name': 'app', 'url': base + '/api/health', 'kind': 'app'},
                      {'name': 'gone', 'url': 'http://127.0.0.1:1/health'}],
        'interval': 0.2, 'timeout': 0.2, 'failure_threshold': 3, 'max_polls': 3,
    })
    assert len(events) == 9
    n8n = [e for e in events if e['name'] == 'n8n']
    assert [e['consecutive_failures'] for e in n8n] == [1, 2, 3]
    assert [e['threshold_reached'] for e in n8n] == [False, False, True]
    assert all(e['status'] == 'down' and not e['up'] for e in n8n)
    assert n8n[0]['probes']['liveness']['http_status'] == 200
    assert n8n[0]['probes']['readiness']['http_status'] == 503
    assert [e['poll'] for e in n8n] == [1, 2, 3]
    app = [e for e in events if e['name'] == 'app']
    assert all(e['status'] == 'degraded' and e['up'] and e['consecutive_failures'] == 0 for e in app)
    assert {e['severity'] for e in app} == {'P1'}
    assert app[0]['components']['n8n']['status'] == 'down'
    gone = [e for e in events if e['name'] == 'gone']
    assert [e['status'] for e in gone] == ['unreachable'] * 3
    assert 'connection refused' in gone[0]['msg']
    assert gone[0]['latency_ms'] is None and gone[0]['http_status'] is None
    assert gone[0]['severity'] is None


def test_source_recovery_resets_the_counter(stub):
    _Stub.routes = {'/healthz': (200, {'status': 'ok'}), '/healthz/readiness': (503, {'status': 'error'})}
    base = 'http://127.0.0.1:%d' % stub.server_address[1]
    args = {'endpoints': [{'name': 'n8n', 'url': base + '/healthz', 'kind': 'n8n'}],
            'interval': 0.3, 'timeout': 0.3, 'max_polls': 4}
    queue = asyncio.Queue()

    async def run():
        task = asyncio.create_task(src.main(queue, args))
        first = (await asyncio.wait_for(queue.get(), 10))['arizu_health']
        _Stub.routes['/healthz/readiness'] = (200, {'status': 'ok'})   # n8n gets ready
        await asyncio.wait_for(task, 10)
        rest = []
        while not queue.empty():
            rest.append(queue.get_nowait()['arizu_health'])
        return [first] + rest

    events = asyncio.run(run())
    assert [e['status'] for e in events] == ['down', 'healthy', 'healthy', 'healthy']
    assert [e['consecutive_failures'] for e in events] == [1, 0, 0, 0]
    assert [e['changed'] for e in events] == [True, True, False, False]
    assert events[1]['previous_status'] == 'down'


def test_loaded_like_ansible_rulebook_from_the_installed_collection(stub):
    """ansible-rulebook runs the file with runpy from ansible_collections/arizu/ops/...; nothing on sys.path."""
    _Stub.routes = {'/healthz': (200, {'status': 'ok'}), '/healthz/readiness': (200, {'status': 'ok'})}
    assert os.path.exists(INSTALLED_PATH), INSTALLED_PATH
    code = (
        "import asyncio, json, os, runpy, sys\n"
        # arizu.ops is not importable from sys.path (under ansible-test the interpreter itself lives inside
        # .../ansible_collections/arizu/ops/tests/output, so the path names alone prove nothing)
        "assert not any(os.path.isdir(os.path.join(p or '.', 'ansible_collections', 'arizu')) for p in sys.path),"
        " sys.path\n"
        "m = runpy.run_path(sys.argv[1])\n"
        "q = asyncio.Queue()\n"
        "asyncio.run(m['main'](q, {'endpoints': [{'name': 'n8n', 'url': sys.argv[2], 'kind': 'n8n'}],"
        " 'interval': 1, 'timeout': 1, 'max_polls': 1}))\n"
        "print(json.dumps(q.get_nowait()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'ANSIBLE_COLLECTIONS_PATH')}
    # ansible-core itself may come from PYTHONPATH (ansible-test units injects it there): keep such entries,
    # never one that holds the collection
    keep = [p for p in os.environ.get('PYTHONPATH', '').split(os.pathsep)
            if p and not os.path.isdir(os.path.join(p, 'ansible_collections', 'arizu'))]
    if keep:
        env['PYTHONPATH'] = os.pathsep.join(keep)
    proc = subprocess.run([sys.executable, '-c', code, INSTALLED_PATH, 'http://127.0.0.1:%d' % stub.server_address[1]],
                          capture_output=True, text=True, check=False, timeout=60, cwd='/', env=env)
    assert proc.returncode == 0, proc.stderr[-2000:]
    event = json.loads(proc.stdout.strip().splitlines()[-1])['arizu_health']
    assert event['status'] == 'healthy' and event['up'] is True


def test_outside_a_collection_the_error_says_so(tmp_path):
    copy = tmp_path / 'arizu_health.py'
    copy.write_text(open(os.path.join(REPO_ROOT, 'extensions', 'eda', 'plugins', 'event_source',
                                      'arizu_health.py')).read())
    env = {k: v for k, v in os.environ.items() if k not in ('PYTHONPATH', 'ANSIBLE_COLLECTIONS_PATH')}
    proc = subprocess.run([sys.executable, '-c', 'import runpy, sys; runpy.run_path(sys.argv[1])', str(copy)],
                          capture_output=True, text=True, check=False, timeout=60, cwd=str(tmp_path), env=env)
    assert proc.returncode != 0
    assert 'must run from the installed collection' in proc.stderr
