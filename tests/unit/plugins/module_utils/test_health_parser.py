# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugins/module_utils/health_parser.py (pure parser)."""

from __future__ import annotations

import json
import sys

import pytest

from ansible_collections.arizu.ops.plugins.module_utils import health_parser
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import (
    MAX_BODY_BYTES,
    build_probe_url,
    normalize_status_word,
    overall_from,
    parse_health,
    redact_url,
    truncate_raw,
)


def _j(obj):
    return json.dumps(obj).encode('utf-8')


ARIZU_OK = {
    'status': 'healthy', 'version': '1.0.0', 'timestamp': '2025-01-01T00:00:00Z',
    'components': {'db': 'up', 'redis': 'up', 'n8n': 'up',
                   'llm': {'status': 'up', 'active': 'anthropic', 'fallback': 'openai'}},
}
ARIZU_DETAILED = {
    'status': 'degraded', 'version': '1.0.0',
    'components': {'db': 'up', 'redis': 'degraded', 'n8n': 'up', 'llm': {'active': 'anthropic', 'fallback': None}},
    'details': {
        'db': {'status': 'up', 'latency_ms': 1.8, 'pool': {'size': 10, 'in_use': 2}},
        'redis': {'status': 'degraded', 'latency_ms': 150, 'message': 'slow replies'},
        'n8n': {'status': 'up', 'latency_ms': 12.5},
    },
}
NGINX_502 = (b'<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n'
             b'<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.25.3</center>\r\n'
             b'</body>\r\n</html>\r\n')
IETF_PASS = {
    'status': 'pass', 'version': '2', 'releaseId': '2.4.1',
    'checks': {
        'db:responseTime': [{'componentId': 'pg1', 'status': 'pass', 'observedValue': 3.5, 'observedUnit': 'ms'}],
        'db:connections': [{'status': 'pass', 'observedValue': 12, 'observedUnit': 'count'}],
        'cache:responseTime': [{'status': 'pass', 'observedValue': 1, 'observedUnit': 'ms'}],
    },
}
IETF_WARN = {
    'status': 'warn',
    'checks': {
        'queue:depth': [
            {'componentId': 'node-1', 'status': 'pass', 'observedValue': 3, 'observedUnit': 'count'},
            {'componentId': 'node-2', 'status': 'warn', 'observedValue': 900, 'observedUnit': 'count',
             'output': 'queue backlog high'},
        ],
        'uptime': [{'status': 'pass', 'observedValue': 1209600, 'observedUnit': 's'}],
    },
}
ACTUATOR_NESTED = {
    'status': 'DOWN',
    'components': {
        'db': {'status': 'UP', 'details': {'database': 'PostgreSQL', 'validationQuery': 'isValid()'}},
        'diskSpace': {'status': 'UP', 'details': {'total': 1, 'free': 1}},
        'redis': {'status': 'DOWN', 'details': {'error': 'io.lettuce.core.RedisConnectionException: refused'}},
        'group': {'status': 'OUT_OF_SERVICE', 'components': {'a': {'status': 'UP'}, 'b': {'status': 'DOWN'}}},
    },
}

# (id, http_status, body, content_type, url_path, status, format, components subset, detail substring)
CASES = [
    # --- arizu -----------------------------------------------------------
    ('arizu-healthy', 200, _j(ARIZU_OK), 'application/json', '/api/health', 'healthy', 'arizu',
     {'db': {'status': 'up'}, 'llm': {'status': 'up', 'active': 'anthropic', 'fallback': 'openai'}},
     'db up, redis up, n8n up, llm up'),
    ('arizu-details-merged', 200, _j(ARIZU_DETAILED), 'application/json', '/api/health', 'degraded', 'arizu',
     {'db': {'status': 'up', 'latency_ms': 1.8},
      'redis': {'status': 'degraded', 'latency_ms': 150.0, 'message': 'slow replies'},
      'n8n': {'status': 'up', 'latency_ms': 12.5},
      'llm': {'status': 'up', 'active': 'anthropic', 'fallback': None}},
     'redis degraded (slow replies)'),
    ('arizu-details-error-as-message', 200,
     _j({'status': 'degraded', 'components': {'db': 'down'},
         'details': {'db': {'status': 'down', 'error': 'connection refused', 'latency_ms': 0}}}),
     None, '', 'degraded', 'arizu', {'db': {'status': 'down', 'message': 'connection refused', 'latency_ms': 0.0}},
     'db down (connection refused)'),
    ('arizu-details-add-missing-component', 200,
     _j({'status': 'healthy', 'components': {'db': 'up'}, 'details': {'s3': {'status': 'up', 'latency_ms': 4}}}),
     None, '', 'healthy', 'arizu', {'s3': {'status': 'up', 'latency_ms': 4.0}}, 's3 up'),
    ('arizu-string-vs-object-components', 200,
     _j({'status': 'healthy', 'components': {'a': 'up', 'b': {'status': 'up', 'latency_ms': 2}, 'c': {'state': 'ok'}}}),
     None, '', 'healthy', 'arizu', {'a': {'status': 'up'}, 'b': {'status': 'up', 'latency_ms': 2.0}, 'c': {'status': 'up'}},
     'a up, b up, c up'),
    ('arizu-component-down-caps-healthy', 200,
     _j({'status': 'healthy', 'components': {'db': 'up', 'redis': 'down'}}),
     None, '', 'degraded', 'arizu', {'redis': {'status': 'down'}}, 'redis down'),
    ('arizu-body-down', 200, _j({'status': 'unhealthy', 'components': {'db': 'down'}}),
     None, '', 'down', 'arizu', {'db': {'status': 'down'}}, 'db down'),
    ('arizu-llm-active-no-status', 200,
     _j({'status': 'healthy', 'components': {'llm': {'active': 'openai'}}}),
     None, '', 'healthy', 'arizu', {'llm': {'status': 'up', 'active': 'openai'}}, 'llm up'),
    ('arizu-llm-empty-active-unknown', 200,
     _j({'status': 'healthy', 'components': {'llm': {'active': ''}, 'other': {'foo': 1}}}),
     None, '', 'healthy', 'arizu', {'llm': {'status': 'unknown', 'active': ''}, 'other': {'status': 'unknown'}}, 'llm unknown'),
    ('arizu-503-claims-healthy', 503, _j(ARIZU_OK), 'application/json', '', 'down', 'arizu', {},
     'HTTP 503 overrides body status healthy'),
    ('arizu-500-claims-healthy', 500, _j(ARIZU_OK), 'application/json', '', 'degraded', 'arizu', {},
     'HTTP 500 overrides'),
    ('arizu-503-down', 503, _j({'status': 'down', 'components': {'db': 'down'}}), None, '', 'down', 'arizu',
     {'db': {'status': 'down'}}, 'db down'),
    ('arizu-no-status-components-only', 200, _j({'components': {'db': 'up', 'redis': 'warning'}}),
     None, '', 'degraded', 'arizu', {'redis': {'status': 'degraded'}}, 'redis degraded'),
    ('json-object-without-status-200', 200, _j({'uptime': 5}), None, '', 'healthy', 'arizu', {},
     'judged by HTTP status'),
    ('json-object-without-status-404', 404, _j({'error': 'not found'}), None, '', 'invalid', 'arizu', {},
     'unexpected HTTP status 404'),
    ('json-401-with-status', 401, _j({'status': 'error', 'message': 'unauthorized'}), None, '/api/health',
     'invalid', 'arizu', {}, "status 'error'; unexpected HTTP status 401; message: unauthorized"),
    # --- wrong types -----------------------------------------------------
    ('wrong-status-number', 200, _j({'status': 1, 'components': {'db': 'up'}}), None, '', 'healthy', 'arizu',
     {'db': {'status': 'up'}}, 'ignored status of type number'),
    ('wrong-components-list-with-names', 200,
     _j({'status': 'healthy', 'components': [{'name': 'db', 'status': 'up'}, {'name': 'redis', 'status': 'down'},
                                             {'status': 'up'}, 'junk']}),
     None, '', 'degraded', 'arizu', {'db': {'status': 'up'}, 'redis': {'status': 'down'}},
     'ignored 2 components list item(s) without a name'),
    ('wrong-components-string', 200, _j({'status': 'healthy', 'components': 'all good'}), None, '', 'healthy',
     'arizu', {}, 'ignored components of type string'),
    ('wrong-component-values', 200, _j({'status': 'ok', 'components': {'a': 5, 'b': None, 'c': [1], 'd': True}}),
     None, '', 'healthy', 'arizu',
     {'a': {'status': 'unknown'}, 'b': {'status': 'unknown'}, 'c': {'status': 'unknown'}, 'd': {'status': 'up'}}, ''),
    ('wrong-details-list', 200, _j({'status': 'healthy', 'components': {'db': 'up'}, 'details': ['x']}),
     None, '', 'healthy', 'arizu', {'db': {'status': 'up'}}, 'ignored details of type list'),
    ('unrecognised-status-word', 200, _j({'status': 'sunny', 'components': {'db': 'up'}}), None, '',
     'healthy', 'arizu', {}, "unrecognised status 'sunny'"),
    ('json-list', 200, _j([{'status': 'up'}]), 'application/json', '', 'invalid', 'plain', {},
     'JSON body is a list'),
    ('json-number', 200, b'42', 'application/json', '', 'invalid', 'plain', {}, 'JSON body is a number'),
    ('json-null', 200, b'null', 'application/json', '', 'invalid', 'plain', {}, 'JSON body is a null'),
    ('json-bare-string-word', 200, b'"healthy"', 'application/json', '', 'healthy', 'plain', {}, "status 'healthy'"),
    ('json-bare-string-word-down', 200, b'"DOWN"', None, '', 'down', 'plain', {}, ''),
    ('json-bare-string-other', 200, b'"hello"', 'application/json', '', 'invalid', 'plain', {},
     'JSON body is a string'),
    ('json-truncated', 200, b'{"status": "healthy", "components": {"db": "up"', 'application/json', '',
     'invalid', 'plain', {}, 'malformed JSON: Expecting'),
    ('json-malformed-list', 200, b'[1, 2,', None, '', 'invalid', 'plain', {}, 'char 6'),
    ('json-nested-too-deep', 200, b'[' * 100000 + b']' * 100000, None, '', 'invalid', 'plain', {}, ''),
    ('bom', 200, b'\xef\xbb\xbf' + _j(ARIZU_OK), 'application/json', '', 'healthy', 'arizu', {'db': {'status': 'up'}},
     ''),
    ('invalid-utf8-replaced', 200, b'{"status": "ok", "components": {"db": "up\xff"}}', None, '',
     'healthy', 'arizu', {'db': {'status': 'unknown'}}, ''),
    # --- ietf ------------------------------------------------------------
    ('ietf-pass', 200, _j(IETF_PASS), 'application/health+json', '/health', 'healthy', 'ietf',
     {'db': {'status': 'up', 'latency_ms': 3.5}, 'cache': {'status': 'up', 'latency_ms': 1.0}}, 'db up, cache up'),
    ('ietf-warn-worst-of-list', 200, _j(IETF_WARN), 'application/health+json', '', 'degraded', 'ietf',
     {'queue': {'status': 'degraded', 'message': 'queue backlog high'}, 'uptime': {'status': 'up'}},
     'queue degraded (queue backlog high)'),
    ('ietf-fail-503', 503,
     _j({'status': 'fail', 'output': 'db unreachable',
         'checks': {'db:responseTime': [{'status': 'fail', 'output': 'timeout'}]}}),
     'application/health+json', '', 'down', 'ietf', {'db': {'status': 'down', 'message': 'timeout'}},
     'output: db unreachable'),
    ('ietf-by-content-type-only', 200, _j({'status': 'pass'}), 'application/health+json', '', 'healthy', 'ietf', {},
     "status 'pass'"),
    ('ietf-checks-wrong-type', 200, _j({'status': 'pass', 'checks': ['x']}), None, '', 'healthy', 'ietf', {},
     'ignored checks of type list'),
    # --- actuator --------------------------------------------------------
    ('actuator-up', 200, _j({'status': 'UP', 'components': {'db': {'status': 'UP'}, 'ping': {'status': 'UP'}}}),
     'application/vnd.spring-boot.actuator.v3+json', '/actuator/health', 'healthy', 'actuator',
     {'db': {'status': 'up'}, 'ping': {'status': 'up'}}, 'db up, ping up'),
    ('actuator-nested-down', 503, _j(ACTUATOR_NESTED), 'application/json', '/actuator/health', 'down', 'actuator',
     {'db': {'status': 'up'}, 'group': {'status': 'down'},
      'redis': {'status': 'down', 'message': 'io.lettuce.core.RedisConnectionException: refused'}},
     'group down'),
    ('actuator-legacy-details', 200,
     _j({'status': 'UP', 'details': {'diskSpace': {'status': 'UP'}, 'mail': {'status': 'UNKNOWN'}}}),
     None, '', 'healthy', 'actuator', {'diskSpace': {'status': 'up'}, 'mail': {'status': 'unknown'}}, 'mail unknown'),
    ('actuator-boot1-top-level', 200, _j({'status': 'UP', 'diskSpace': {'status': 'UP', 'free': 1}}),
     None, '', 'healthy', 'actuator', {'diskSpace': {'status': 'up'}}, ''),
    ('actuator-out-of-service', 503, _j({'status': 'OUT_OF_SERVICE'}), None, '', 'down', 'actuator', {}, ''),
    # --- n8n -------------------------------------------------------------
    ('n8n-liveness-ok', 200, _j({'status': 'ok'}), 'application/json', '/healthz', 'healthy', 'n8n',
     {'n8n': {'status': 'up'}}, 'n8n up'),
    ('n8n-readiness-ok', 200, _j({'status': 'ok'}), 'application/json', '/healthz/readiness', 'healthy', 'n8n',
     {'n8n_readiness': {'status': 'up'}}, 'n8n_readiness up'),
    ('n8n-readiness-error', 503, _j({'status': 'error'}), 'application/json', '/healthz/readiness', 'down', 'n8n',
     {'n8n_readiness': {'status': 'down'}}, 'n8n_readiness down'),
    ('n8n-shape-without-path', 200, _j({'status': 'ok'}), None, '/api/health', 'healthy', 'n8n',
     {'n8n': {'status': 'up'}}, ''),
    ('n8n-path-full-url', 200, _j({'status': 'ok', 'extra': 1}), None, 'http://n8n:5678/healthz/readiness?x=1',
     'healthy', 'n8n', {'n8n_readiness': {'status': 'up'}}, ''),
    # --- plain / empty / html ----------------------------------------------
    ('plain-ok-200', 200, b'OK\n', 'text/plain', '', 'healthy', 'plain', {}, "text 'OK'"),
    ('plain-text-flask-html-ctype', 200, b'OK', 'text/html; charset=utf-8', '', 'healthy', 'plain', {}, ''),
    ('plain-anything-200', 200, b'I am alive', 'text/plain', '', 'healthy', 'plain', {}, ''),
    ('plain-word-degraded-200', 200, b'degraded', 'text/plain', '', 'degraded', 'plain', {}, ''),
    ('plain-ok-503', 503, b'OK', 'text/plain', '', 'down', 'plain', {}, ''),
    ('plain-502', 502, b'Bad Gateway', 'text/plain', '', 'down', 'plain', {}, ''),
    ('plain-404', 404, b'Not Found', 'text/plain', '', 'invalid', 'plain', {}, 'unexpected HTTP status 404'),
    ('plain-429', 429, b'Too Many Requests', 'text/plain', '', 'invalid', 'plain', {}, ''),
    ('plain-501', 501, b'Not Implemented', 'text/plain', '', 'invalid', 'plain', {}, ''),
    ('plain-too-long', 200, b'x' * 300, 'text/plain', '', 'invalid', 'plain', {}, '300 character text body'),
    ('empty-200', 200, b'', None, '', 'healthy', 'plain', {}, 'empty body'),
    ('empty-204-whitespace', 204, b'  \r\n', None, '', 'healthy', 'plain', {}, 'empty body'),
    ('empty-503', 503, b'', None, '', 'down', 'plain', {}, 'empty body'),
    ('empty-bom-only', 200, b'\xef\xbb\xbf', None, '', 'healthy', 'plain', {}, 'empty body'),
    ('html-nginx-502', 502, NGINX_502, 'text/html', '', 'invalid', 'plain', {}, "'502 Bad Gateway'"),
    ('html-doctype-200', 200, b'<!DOCTYPE html><html><head><title>\n  Login   page\n</title></head></html>',
     'text/html', '', 'invalid', 'plain', {}, "'Login page'"),
    ('html-body-no-title', 200, b'<div>x</div><body>  Welcome   to\n nginx! </body>', None, '', 'invalid',
     'plain', {}, "'x Welcome to nginx!'"),
    ('html-by-content-type', 200, b'<p>hello</p>', 'text/html', '', 'invalid', 'plain', {}, 'HTML page'),
    ('unknown-http-status-none-plain', None, b'hello', None, '', 'invalid', 'plain', {}, ''),
    ('http-status-none-json', None, _j(ARIZU_OK), None, '', 'healthy', 'arizu', {}, ''),
    ('http-status-as-string', '503', _j({'status': 'ok', 'components': {'db': 'up'}}), None, '', 'down', 'arizu',
     {}, ''),
    ('body-as-str', 200, '{"status": "healthy"}', None, '', 'healthy', 'arizu', {}, ''),
    ('body-none', 200, None, None, '', 'healthy', 'plain', {}, 'empty body'),
    ('body-over-cap', 200, b'{' + b' ' * MAX_BODY_BYTES, None, '', 'invalid', 'plain', {}, '1 MiB'),
]


@pytest.mark.parametrize(
    'http_status, body, content_type, url_path, status, fmt, components, detail',
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_parse_health(http_status, body, content_type, url_path, status, fmt, components, detail):
    result = parse_health(http_status, body, content_type, url_path)
    assert set(result) == {'status', 'format', 'components', 'raw', 'msg_detail', 'version'}
    assert result['status'] == status, result['msg_detail']
    assert result['format'] == fmt
    for name, expected in components.items():
        assert result['components'][name] == expected
    assert detail in result['msg_detail']
    json.dumps(result)  # always serializable
    assert len(json.dumps(result['raw'])) <= 8 * 1024 + 1024


def test_case_ids_unique_and_many():
    ids = [case[0] for case in CASES]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 40


UP = ['ok', 'up', 'pass', 'healthy', 'green']
DEGRADED = ['warn', 'warning', 'degraded', 'yellow']
DOWN = ['fail', 'error', 'down', 'unhealthy', 'critical', 'red', 'out_of_service']
WORDS = [(w, 'up') for w in UP] + [(w, 'degraded') for w in DEGRADED] + [(w, 'down') for w in DOWN] + [
    ('unknown', 'unknown'), ('maybe', 'unknown'), ('', 'unknown')]


@pytest.mark.parametrize('word, expected', WORDS, ids=[w or 'empty' for w, _e in WORDS])
def test_normalize_status_word(word, expected):
    assert normalize_status_word(word) == expected
    assert normalize_status_word('  %s \n' % word.upper()) == expected
    assert normalize_status_word(word.title()) == expected


@pytest.mark.parametrize('value', [None, 1, 1.5, True, [], {}, b'up'], ids=repr)
def test_normalize_status_word_non_strings(value):
    assert normalize_status_word(value) == 'unknown'


@pytest.mark.parametrize('word', ['Out-Of-Service', 'out of service', ' OUT_OF_SERVICE '])
def test_normalize_out_of_service_spellings(word):
    assert normalize_status_word(word) == 'down'


@pytest.mark.parametrize('word, expected', WORDS[:-3], ids=[w for w, _e in WORDS[:-3]])
def test_every_word_as_component_and_plain_text(word, expected):
    result = parse_health(200, _j({'status': 'healthy', 'components': {'x': word}}))
    assert result['components']['x']['status'] == expected
    assert result['status'] == ('healthy' if expected == 'up' else 'degraded')
    overall = {'up': 'healthy', 'degraded': 'degraded', 'down': 'down'}[expected]
    assert parse_health(200, word.upper().encode(), 'text/plain')['status'] == overall


@pytest.mark.parametrize('body_status, components, http_status, expected', [
    pytest.param('up', [], 200, 'healthy', id='up-200'),
    pytest.param('healthy', ['up', 'degraded'], 200, 'degraded', id='component-degraded'),
    pytest.param('healthy', ['down'], 200, 'degraded', id='component-down-is-degraded'),
    pytest.param('healthy', ['unknown'], 200, 'healthy', id='component-unknown-ignored'),
    pytest.param('down', ['up'], 200, 'down', id='body-down-wins'),
    pytest.param('degraded', [], 200, 'degraded', id='body-degraded'),
    pytest.param(None, [], 200, 'healthy', id='no-status-200'),
    pytest.param(None, [], 503, 'down', id='no-status-503'),
    pytest.param('unknown', [], 500, 'down', id='unknown-500'),
    pytest.param(None, [], 501, 'invalid', id='no-status-501'),
    pytest.param(None, ['unknown'], 200, 'healthy', id='only-unknown-components'),
    pytest.param(None, ['up', 'down'], 200, 'degraded', id='no-status-component-down'),
    pytest.param('healthy', [], 503, 'down', id='503-forces-down'),
    pytest.param('healthy', [], 502, 'degraded', id='502-caps-degraded'),
    pytest.param('down', [], 502, 'down', id='502-body-down'),
    pytest.param('healthy', [], 404, 'invalid', id='4xx-invalid'),
    pytest.param('healthy', [], 301, 'invalid', id='3xx-invalid'),
    pytest.param(None, [], None, 'invalid', id='nothing-known'),
    pytest.param('healthy', {'db': {'status': 'down'}}, 200, 'degraded', id='components-mapping'),
])
def test_overall_from(body_status, components, http_status, expected):
    assert overall_from(body_status, components, http_status) == expected


def test_raw_long_strings_and_size_capped():
    body = {'status': 'healthy', 'components': {'db': 'up'}, 'blob': 'y' * 5000,
            'many': [{'k%d' % i: 'v' * 100} for i in range(500)]}
    result = parse_health(200, _j(body))
    assert result['status'] == 'healthy'
    raw = result['raw']
    assert raw['status'] == 'healthy'
    assert len(raw['blob']) <= 510
    assert len(json.dumps(raw)) <= 8 * 1024
    assert any('truncated' in str(item) for item in raw['many'])


def test_truncate_raw_deep_nesting():
    value = current = {}
    for _i in range(50):
        current['x'] = {}
        current = current['x']
    text = json.dumps(truncate_raw(value))
    assert 'nested too deep' in text


def test_plain_raw_is_first_500_chars():
    text = 'z' * 250
    assert parse_health(200, text.encode())['raw'] == text
    html = b'<html>' + b'a' * 2000
    assert len(parse_health(200, html)['raw']) <= 503


def test_version_reported():
    assert parse_health(200, _j(ARIZU_OK))['version'] == '1.0.0'
    assert parse_health(200, _j(IETF_PASS), 'application/health+json')['version'] == '2'
    assert parse_health(200, _j({'status': 'healthy', 'version': 3}))['version'] == '3'
    assert parse_health(200, b'OK')['version'] is None


def test_parser_never_raises(monkeypatch):
    def boom(*_args, **_kwargs):
        raise RuntimeError('kaboom')

    monkeypatch.setattr(health_parser, '_parse_object', boom)
    result = parse_health(200, _j(ARIZU_OK))
    assert result['status'] == 'invalid'
    assert 'kaboom' in result['msg_detail']


@pytest.mark.parametrize('body', [object(), 12, [1, 2]], ids=['object', 'int', 'list'])
def test_parser_weird_body_types(body):
    result = parse_health(200, body)
    assert result['status'] in ('healthy', 'invalid')


def test_nan_is_serializable():
    result = parse_health(200, b'{"status": "healthy", "components": {"db": {"status": "up", "latency_ms": NaN}}}')
    assert result['status'] == 'healthy'
    assert 'latency_ms' not in result['components']['db']
    json.dumps(result, allow_nan=False)


@pytest.mark.parametrize('url, expected', [
    ('http://h/api/health', 'http://h/api/health?detailed=true'),
    ('http://h/api/health?a=1&b=%20x', 'http://h/api/health?a=1&b=%20x&detailed=true'),
    ('http://h/api/health?detailed=false&a=1', 'http://h/api/health?a=1&detailed=true'),
    ('http://h/api/health?a=1#frag', 'http://h/api/health?a=1&detailed=true#frag'),
])
def test_build_probe_url(url, expected):
    assert build_probe_url(url, True) == expected
    assert build_probe_url(url, False) == url


@pytest.mark.parametrize('url, expected', [
    ('http://user:s3cret@host:8080/x?y=1', 'http://host:8080/x?y=1'),
    ('https://token@host/x', 'https://host/x'),
    ('http://u:p@ss@host/', 'http://host/'),
    ('http://host/path@thing', 'http://host/path@thing'),
    ('http://host', 'http://host'),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_no_ansible_imports():
    with open(health_parser.__file__, encoding='utf-8') as handle:
        source = handle.read()
    assert 'import ansible' not in source
    assert 'from ansible' not in source
    assert 'SPDX-License-Identifier: GPL-3.0-or-later' in source
    assert not any(name.startswith('ansible.') for name in getattr(health_parser, '__dict__', {})
                   if isinstance(name, str))
    assert sys.modules[health_parser.__name__] is health_parser
