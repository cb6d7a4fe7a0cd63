# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.redis_diagnose without a server: options, clear failures, queue reading.

The module against a real Redis is tested in tests/integration/test_redis_diagnose.py.
"""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import redis_common
from ansible_collections.arizu.ops.plugins.module_utils.redis_common import client_kwargs, describe_target
from ansible_collections.arizu.ops.plugins.modules import redis_diagnose

PASSWORD = 'rEdis-unit-s3cret-42'


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            redis_diagnose.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


BASE = dict(login_host='db', login_port=6379, login_user=None, login_password=None, db=0, tls=False,
            validate_certs=True, ca_certs=None, timeout=5.0)


@pytest.mark.parametrize('params, expected', [
    (BASE, dict(host='db', port=6379, db=0, socket_timeout=5.0, socket_connect_timeout=5.0,
                decode_responses=False)),
    (dict(BASE, login_user='mon', login_password='pw', db=2),
     dict(host='db', port=6379, db=2, socket_timeout=5.0, socket_connect_timeout=5.0, decode_responses=False,
          username='mon', password='pw')),
    (dict(BASE, tls=True, ca_certs='/ca.pem'),
     dict(host='db', port=6379, db=0, socket_timeout=5.0, socket_connect_timeout=5.0, decode_responses=False,
          ssl=True, ssl_cert_reqs='required', ssl_ca_certs='/ca.pem')),
    (dict(BASE, tls=True, validate_certs=False),
     dict(host='db', port=6379, db=0, socket_timeout=5.0, socket_connect_timeout=5.0, decode_responses=False,
          ssl=True, ssl_cert_reqs='none', ssl_check_hostname=False)),
])
def test_client_kwargs(params, expected):
    assert client_kwargs(params) == expected


@pytest.mark.parametrize('text, start', [
    ('Authentication required.', 'authentication required: the server needs a password (login_password)'),
    ('NOAUTH Authentication required.', 'authentication required'),
    ('HELLO must be called with the client already authenticated, otherwise ...', 'authentication required'),
    ('invalid username-password pair or user is disabled.', 'authentication failed: wrong login_password'),
    ('WRONGPASS invalid username-password pair', 'authentication failed'),
    ('Error 111 connecting to 127.0.0.1:6390. Connection refused.', 'Error 111 connecting'),
])
def test_explain_error(text, start):
    explained = redis_common.explain_error(text)
    assert explained.startswith(start) and text in explained


def test_describe_target():
    assert describe_target(BASE) == 'redis://db:6379/0'
    assert describe_target(dict(BASE, tls=True, login_user='mon', db=3)) == 'rediss://mon@db:6379/3'


@pytest.mark.parametrize('args, message', [
    (dict(max_latency_ms=-1), 'max_latency_ms: must be 0 or more'),
    (dict(max_memory_pct=-5), 'max_memory_pct: must be 0 or more'),
    (dict(max_fragmentation=-1), 'max_fragmentation: must be 0 or more'),
    (dict(slowlog_count=-1), 'slowlog_count: must be 0 or more'),
    (dict(pings=0), 'pings: must be between 1 and 1000'),
    (dict(max_queue_depth='lots'), "max_queue_depth: must be a number of entries or a mapping"),
    (dict(max_queue_depth=-3), 'max_queue_depth: must be 0 or more'),
    (dict(max_queue_depth=True), 'max_queue_depth: must be a number'),
    (dict(max_queue_depth={'q': 'x'}), 'max_queue_depth[q]: must be a number'),
    (dict(max_queue_depth=[1, 2]), 'max_queue_depth: must be a number'),
    (dict(timeout=0), 'timeout: must be greater than 0'),
    (dict(login_port=70000), 'login_port: must be between 0 and 65535'),
    (dict(db=-1), 'db: must be 0 or more'),
])
def test_invalid_options(capsys, args, message):
    code, result, out = run_module(capsys, login_password=PASSWORD, **args)
    assert code == 1 and result['failed'] is True
    assert message in result['msg'], result['msg']
    assert PASSWORD not in out and 'Traceback' not in out


def test_connection_refused(capsys):
    port = closed_port()
    code, result, out = run_module(capsys, login_host='127.0.0.1', login_port=port, login_password=PASSWORD,
                                   timeout=2)
    assert code == 1
    assert result['msg'].startswith('cannot connect to Redis at redis://127.0.0.1:%d/0: ' % port)
    assert 'refused' in result['msg'].lower()
    assert PASSWORD not in out and 'Traceback' not in out


def test_missing_redis_library(capsys, monkeypatch):
    monkeypatch.setattr(redis_common, 'HAS_REDIS', False)
    monkeypatch.setattr(redis_common, 'REDIS_IMPORT_ERROR', 'ImportError: No module named redis')
    code, result, _out = run_module(capsys)
    assert code == 1
    assert 'Failed to import the required Python library (redis)' in result['msg']


class FakePipeline:
    def __init__(self, client):
        self.client = client
        self.calls = []

    def type(self, key):
        self.calls.append(('TYPE', key))

    def execute_command(self, *args):
        self.calls.append(args)

    def execute(self, raise_on_error=True):
        assert raise_on_error is False
        self.client.round_trips += 1
        return [self.client.answer(call) for call in self.calls]


class FakeClient:
    """Answers TYPE and depth commands from a dict; an Exception value is returned as the pipeline does."""

    def __init__(self, data):
        self.data = data
        self.round_trips = 0

    def pipeline(self, transaction=True):
        assert transaction is False
        return FakePipeline(self)

    def answer(self, call):
        command, key = call
        value = self.data.get(key, ('none', None))
        if command == 'TYPE':
            return value[0] if not isinstance(value[0], Exception) else value[0]
        return value[1]


def test_read_queues_types_and_errors():
    client = FakeClient({
        'l': (b'list', 3), 'z': (b'zset', 5), 'x': (b'stream', 7), 's': (b'set', 2), 'h': (b'hash', 4),
        'str': (b'string', None), 'boom': (b'list', RuntimeError('LOADING Redis is loading')),
        'denied': (PermissionError('NOPERM this user has no permissions to access the key'), None),
    })
    keys = ['l', 'z', 'x', 's', 'h', 'str', 'missing', 'boom', 'denied']
    queues = redis_diagnose.read_queues(client, keys, str)
    assert queues == {
        'l': {'type': 'list', 'depth': 3},
        'z': {'type': 'zset', 'depth': 5},
        'x': {'type': 'stream', 'depth': 7},
        's': {'type': 'set', 'depth': 2},
        'h': {'type': 'hash', 'depth': 4},
        'str': {'type': 'string', 'depth': None,
                'error': 'a string is not a queue (expected list, zset, stream, set or hash)'},
        'missing': {'type': 'none', 'depth': 0},
        'boom': {'type': 'list', 'depth': None, 'error': 'LLEN failed: LOADING Redis is loading'},
        'denied': {'type': None, 'depth': None,
                   'error': 'TYPE failed: NOPERM this user has no permissions to access the key'},
    }
    assert client.round_trips == 2  # one pipeline of TYPE, one of depth commands


def test_read_queues_no_keys():
    client = FakeClient({})
    assert redis_diagnose.read_queues(client, [], str) == {}
    assert client.round_trips == 0
