# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Unit tests for plugins/module_utils/docker_evidence.py (pure helpers)."""

from __future__ import annotations

import ast
import struct

from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from ansible_collections.arizu.ops.plugins.module_utils import docker_evidence as de
from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence import (
    MASK,
    FrameDemuxer,
    Masker,
    container_evidence,
    cpu_percent,
    decode_logs,
    disk_entry,
    disk_error_entry,
    format_ports,
    health_summary,
    is_secret_env_name,
    memory_from_stats,
    overall_message,
    parse_docker_time,
    secret_values_from_env,
    summary_line,
)

SECRET = 'Pw9x/+@k s3cr3t'
HOST_TOTAL = 25275973632


def frame(stream, payload):
    if isinstance(payload, str):
        payload = payload.encode('utf-8')
    return struct.pack('>BxxxI', stream, len(payload)) + payload


def splits(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


# --------------------------------------------------------------------------
# No Ansible imports (the helpers are shared with non-module code)
# --------------------------------------------------------------------------

def test_module_utils_imports_nothing_from_ansible():
    tree = ast.parse(Path(de.__file__).read_text(encoding='utf-8'))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or '')
    assert not [name for name in imported if name.startswith(('ansible', 'requests', 'docker'))], imported


# --------------------------------------------------------------------------
# Stats: memory
# --------------------------------------------------------------------------

V1_STATS = {  # cgroup v1 as Docker 20.10 reports it (trimmed)
    'memory_stats': {
        'usage': 11718656, 'max_usage': 13639680, 'limit': HOST_TOTAL,
        'stats': {'active_file': 6799360, 'cache': 8146944, 'inactive_file': 1347584, 'rss': 2797568,
                  'total_cache': 8146944, 'total_inactive_file': 1347584, 'total_rss': 2797568,
                  'hierarchical_memory_limit': 9223372036854771712},
    },
}
V2_STATS = {  # cgroup v2 (no total_* keys, no cache)
    'memory_stats': {
        'usage': 268435456, 'limit': 536870912,
        'stats': {'anon': 200000000, 'file': 60000000, 'inactive_file': 16777216, 'active_file': 40000000},
    },
}
OLD_STATS = {  # an engine that reports only cache
    'memory_stats': {'usage': 100 * 2 ** 20, 'limit': 200 * 2 ** 20, 'stats': {'cache': 20 * 2 ** 20}},
}


@pytest.mark.parametrize('stats, configured, usage, limit, pct, unlimited', [
    pytest.param(V1_STATS, 0, 11718656 - 1347584, HOST_TOTAL, 0.04, True, id='cgroup-v1-total_inactive_file-unlimited'),
    pytest.param(V2_STATS, 536870912, 268435456 - 16777216, 536870912, 46.88, False,
                 id='cgroup-v2-inactive_file-limited'),
    pytest.param(OLD_STATS, None, 80 * 2 ** 20, 200 * 2 ** 20, 40.0, False, id='cache-only'),
    pytest.param({'memory_stats': {'usage': 1000, 'limit': 4000, 'stats': {'total_inactive_file': 5000}}}, 4000,
                 1000, 4000, 25.0, False, id='inactive-not-below-usage-is-ignored'),
    pytest.param({'memory_stats': {'usage': 1000, 'limit': 4000, 'stats': {'total_inactive_file': 5000,
                                                                           'inactive_file': 200}}},
                 4000, 800, 4000, 20.0, False, id='falls-back-to-inactive_file-like-the-cli'),
    pytest.param({'memory_stats': {'usage': 1000, 'limit': 0, 'stats': {}}}, None, 1000, 0, None, True,
                 id='no-limit-reported'),
    pytest.param({'memory_stats': {'usage': 1000, 'limit': 9223372036854771712}}, None, 1000,
                 9223372036854771712, None, True, id='huge-limit-is-unlimited'),
    pytest.param({'memory_stats': {'usage': 2048, 'limit': HOST_TOTAL}}, None, 2048, HOST_TOTAL, 0.0, False,
                 id='configured-limit-unknown-host-total-limit'),
])
def test_memory_from_stats(stats, configured, usage, limit, pct, unlimited):
    mem = memory_from_stats(stats, configured)
    assert mem == {'usage_bytes': usage, 'limit_bytes': limit, 'pct': pct, 'unlimited': unlimited}


@pytest.mark.parametrize('stats', [
    {}, {'memory_stats': {}}, {'memory_stats': {'usage': None}}, {'memory_stats': {'usage': True}}, None, 'x',
])
def test_memory_from_stats_without_usage(stats):
    assert memory_from_stats(stats) is None


# --------------------------------------------------------------------------
# Stats: CPU
# --------------------------------------------------------------------------

def cpu_stats(total, system, pre_total, pre_system, online=2, percpu=None):
    pre = {'cpu_usage': {'total_usage': pre_total}}
    if pre_system is not None:
        pre['system_cpu_usage'] = pre_system
    cpu = {'cpu_usage': {'total_usage': total}, 'system_cpu_usage': system}
    if online is not None:
        cpu['online_cpus'] = online
    if percpu is not None:
        cpu['cpu_usage']['percpu_usage'] = percpu
    return {'cpu_stats': cpu, 'precpu_stats': pre}


@pytest.mark.parametrize('stats, expected', [
    pytest.param(cpu_stats(93868847, 5232730000000, 92103178, 5230780000000), 0.18, id='two-samples-like-docker-stats'),
    pytest.param(cpu_stats(2_000_000_000, 20_000_000_000, 1_000_000_000, 10_000_000_000, online=4), 40.0, id='4-cpus'),
    pytest.param(cpu_stats(2_000_000_000, 20_000_000_000, 1_000_000_000, 10_000_000_000, online=None,
                           percpu=[1, 1, 1]), 30.0, id='online-from-percpu'),
    pytest.param(cpu_stats(100, 5000, 100, 4000), 0.0, id='zero-cpu-delta'),
    pytest.param(cpu_stats(200, 4000, 100, 4000), 0.0, id='zero-system-delta'),
    pytest.param(cpu_stats(100, 3000, 200, 4000), 0.0, id='negative-deltas'),
    pytest.param(cpu_stats(90410505, 5228840000000, 0, None), None, id='one-shot-no-previous-sample'),
    pytest.param(cpu_stats(90410505, 5228840000000, 0, 0), None, id='previous-system-zero'),
    pytest.param({'cpu_stats': {}, 'precpu_stats': {}}, None, id='empty'),
    pytest.param({}, None, id='nothing'),
])
def test_cpu_percent(stats, expected):
    assert cpu_percent(stats) == expected


# --------------------------------------------------------------------------
# Log stream demultiplexing
# --------------------------------------------------------------------------

MUX = (frame(1, '2025-01-01T00:00:00.000000001Z line-1\n')
       + frame(2, '2025-01-01T00:00:00.000000002Z err\n')
       + frame(1, '2025-01-01T00:00:00.000000003Z last line\n'))
MUX_LINES = ['2025-01-01T00:00:00.000000001Z line-1', '2025-01-01T00:00:00.000000002Z err',
             '2025-01-01T00:00:00.000000003Z last line']


@pytest.mark.parametrize('size', [1, 2, 3, 7, 8, 9, 13, 64, len(MUX)])
def test_frames_split_across_reads(size):
    lines, error = decode_logs(splits(MUX, size))
    assert lines == MUX_LINES
    assert error is None


def test_frames_split_at_every_position():
    for cut_at in range(1, len(MUX)):
        lines, error = decode_logs([MUX[:cut_at], MUX[cut_at:]])
        assert lines == MUX_LINES, cut_at
        assert error is None


@pytest.mark.parametrize('chunks, expected', [
    pytest.param([frame(1, 'a1 '), frame(2, 'e1\n'), frame(1, 'a2\n')], ['e1', 'a1 a2'],
                 id='stdout-line-not-broken-by-stderr-frame'),
    pytest.param([frame(1, 'one\ntwo\nthr'), frame(1, 'ee\n')], ['one', 'two', 'three'], id='lines-across-frames'),
    pytest.param([frame(1, 'no newline at end')], ['no newline at end'], id='last-line-without-newline'),
    pytest.param([frame(1, 'crlf\r\n')], ['crlf'], id='crlf'),
    pytest.param([frame(0, 'stdin-id\n')], ['stdin-id'], id='stream-0'),
    pytest.param([frame(1, '')], [], id='empty-frame'),
    pytest.param([frame(1, 'caf\xe9 \u2713\n'.encode('utf-8')[:5]), frame(1, 'caf\xe9 \u2713\n'.encode('utf-8')[5:])],
                 ['caf\xe9 \u2713'], id='utf8-split-inside-a-character'),
    pytest.param([frame(1, b'bad \xff byte\n')], ['bad \ufffd byte'], id='invalid-utf8-replaced'),
    pytest.param([], [], id='no-data'),
])
def test_demux_lines(chunks, expected):
    data = b''.join(chunks)
    for size in (1, 5, len(data) or 1):
        lines, error = decode_logs(splits(data, size))
        assert lines == expected
        assert error is None


@pytest.mark.parametrize('data, expected', [
    pytest.param(b'2025-01-01T00:00:00Z tty line\r\nsecond\r\n', ['2025-01-01T00:00:00Z tty line', 'second'],
                 id='tty-raw'),
    pytest.param(b'hi\n', ['hi'], id='short-raw'),
])
def test_tty_stream_is_raw(data, expected):
    for size in (1, 3, len(data)):
        assert decode_logs(splits(data, size), tty=True) == (expected, None)


def test_unframed_stream_without_tty_flag_is_taken_as_raw():
    data = b'plain text output\nmore\n'
    for size in (1, 4, 8, 100):
        assert decode_logs(splits(data, size)) == (['plain text output', 'more'], None)


def test_bad_header_later_stops_with_error():
    data = frame(1, 'good\n') + b'\x07garbage-not-a-header\n'
    lines, error = decode_logs([data])
    assert lines == ['good']
    assert 'bad frame header at byte' in error


def test_stream_ending_inside_a_frame():
    data = frame(1, 'complete\n') + frame(1, 'cut off here\n')[:-5]
    lines, error = decode_logs([data])
    assert lines == ['complete', 'cut off ']
    assert error == 'log stream ended inside a frame'


def test_demuxer_hands_out_big_frames_in_pieces():
    payload = b'x' * 100000
    demux = FrameDemuxer()
    pieces = []
    for chunk in splits(frame(1, payload), 4096):
        pieces.extend(demux.feed(chunk))
    assert b''.join(p for _s, p in pieces) == payload
    assert max(len(p) for _s, p in pieces) <= 4096
    assert demux.close() == [] and demux.error is None


@pytest.mark.parametrize('length, expected_len', [(999, 999), (1000, 1000), (1001, 1000), (500000, 1000)])
def test_long_lines_cut_to_1000_chars(length, expected_len):
    lines, _error = decode_logs([frame(1, 'a' * length + '\n'), frame(1, 'next\n')])
    assert len(lines[0]) == expected_len
    assert lines[1] == 'next'
    if length > 1000:
        assert lines[0].endswith('...')


# --------------------------------------------------------------------------
# Secrets
# --------------------------------------------------------------------------

@pytest.mark.parametrize('name, value, secret', [
    ('DB_PASSWORD', 'x', True),
    ('REDIS_PASSWORD', 'x', True),
    ('PGPASSWORD', 'x', True),
    ('N8N_ENCRYPTION_KEY', 'x', True),
    ('api_token', 'x', True),
    ('JWT_SECRET', 'x', True),
    ('N8N_BASIC_AUTH_PASSWORD', 'x', True),
    ('AWS_CREDENTIALS', 'x', True),
    ('DATABASE_URL', 'postgresql://u:p@h/db', True),
    ('SENTRY_DSN', 'https://key@sentry.example/1', True),
    ('MONGO_URI', 'mongodb://u:p@h', True),
    ('DATABASE_URL', 'postgresql://h/db', False),
    ('WEBHOOK_URL', 'https://n8n.example.com/', False),
    ('PATH', '/usr/bin', False),
    ('LANG', 'C.UTF-8', False),
    ('NODE_ENV', 'production', False),
])
def test_is_secret_env_name(name, value, secret):
    assert is_secret_env_name(name, value) is secret


def test_secret_values_from_env():
    env = [
        'PATH=/usr/local/bin:/usr/bin',
        'DB_PASSWORD=' + SECRET,
        'N8N_BASIC_AUTH_ACTIVE=true',     # flag word: never masked
        'API_KEY=abc',                    # too short to mask sensibly
        'EMPTY_TOKEN=',
        'DATABASE_URL=postgresql://app:' + quote('p@ss/w0rd', safe='') + '@db:5432/app',
        'CACHE=redis://:plainpw1@redis:6379/0',   # any URL with a password
        'NOEQUALS',
        'HOSTNAME=abc123',
    ]
    found = secret_values_from_env(env)
    assert SECRET in found
    assert 'postgresql://app:p%40ss%2Fw0rd@db:5432/app' in found
    assert 'p%40ss%2Fw0rd' in found and 'p@ss/w0rd' in found   # URL password, written and decoded
    assert 'plainpw1' in found
    assert not found & {'true', 'abc', '', '/usr/local/bin:/usr/bin', 'abc123'}


def test_secret_values_from_env_dict_and_none():
    assert secret_values_from_env({'MY_SECRET': 'value-1234'}) == {'value-1234'}
    assert secret_values_from_env(None) == set()


@pytest.mark.parametrize('text, expected', [
    pytest.param('pw=' + SECRET, 'pw=' + MASK, id='as-written'),
    pytest.param('enc ' + quote(SECRET, safe=''), 'enc ' + MASK, id='url-encoded-safe-empty'),
    pytest.param('form ' + quote_plus(SECRET, safe=''), 'form ' + MASK, id='form-encoded'),
    pytest.param('path ' + quote(SECRET), 'path ' + MASK, id='url-encoded-keeping-slash'),
    pytest.param('twice %s and %s' % (SECRET, SECRET), 'twice %s and %s' % (MASK, MASK), id='twice'),
    pytest.param('dsn postgresql://u:' + SECRET + '@h/db', None, id='in-a-dsn'),
    pytest.param('nothing secret here', 'nothing secret here', id='clean'),
])
def test_masker_masks_secret_forms(text, expected):
    masker = Masker([SECRET])
    masked = masker.mask(text)
    assert SECRET not in masked
    assert quote(SECRET, safe='') not in masked
    assert 's3cr3t' not in masked
    if expected is not None:
        assert masked == expected


@pytest.mark.parametrize('text, expected', [
    ('dsn postgresql://u:hunter22@h/db', 'dsn postgresql://u:' + MASK + '@h/db'),
    ('redis://:pw@redis:6379/0', 'redis://:' + MASK + '@redis:6379/0'),
    ('amqp://user:p@ss@rabbit/vhost', 'amqp://user:' + MASK + '@rabbit/vhost'),
    ('two http://a:b@x and https://c:d@y/', 'two http://a:' + MASK + '@x and https://c:' + MASK + '@y/'),
    ('no password ssh://git@host:22/repo', 'no password ssh://git@host:22/repo'),
    ('port only http://host:8080/path?mail=a@b.c', 'port only http://host:8080/path?mail=a@b.c'),
    ('Error: connect postgres://arizu:S3cr%2Fet@db:5432 refused',
     'Error: connect postgres://arizu:' + MASK + '@db:5432 refused'),
])
def test_userinfo_masked_generally(text, expected):
    assert Masker().mask(text) == expected


def test_redact_extra_strings_and_longest_first():
    masker = Masker(['abcd'], extra=['abcdefgh', 'tok en'])
    assert masker.mask('x abcdefgh y abcd z tok%20en w tok+en') == 'x %s y %s z %s w %s' % (MASK, MASK, MASK, MASK)


def test_masker_ignores_empty_and_non_strings():
    masker = Masker(['', None, 5], extra=[''])
    assert masker.forms == []
    assert masker.mask('text') == 'text'
    assert masker.mask('') == ''
    assert masker.mask(None) is None


def test_secret_straddling_a_cut_line_is_masked():
    secret = 'Z' * 10 + 'tail-of-the-secret'
    masker = Masker([secret])
    line = 'a' * 20 + secret + '\n'
    lines, _error = decode_logs([frame(1, line)], masker=masker, line_limit=1000, max_line_bytes=30)
    assert lines == ['a' * 20 + MASK]


def test_secret_in_lines_split_across_frames_and_reads():
    masker = Masker([SECRET])
    data = frame(1, 'pw=' + SECRET[:4]) + frame(1, SECRET[4:] + '\n') + frame(2, quote(SECRET, safe='') + '\n')
    for size in (1, 3, 9, len(data)):
        lines, error = decode_logs(splits(data, size), masker=masker)
        assert lines == ['pw=' + MASK, MASK]
        assert error is None


def test_masking_happens_before_cutting():
    masker = Masker([SECRET])
    lines, _error = decode_logs([frame(1, 'x' * 995 + SECRET + '\n')], masker=masker)
    assert SECRET[:5] not in lines[0]
    assert len(lines[0]) == 1000


# --------------------------------------------------------------------------
# Health and inspect
# --------------------------------------------------------------------------

def inspect_doc(**overrides):
    doc = {
        'Id': '1bbfef3f653dc067d68f4b6f5097c144590bd86061e402cd21cd521b56fc702f',
        'Name': '/arizu-redis',
        'Image': 'sha256:1c0b2b12fcbb',
        'RestartCount': 2,
        'Args': ['--requirepass', SECRET],
        'State': {
            'Status': 'running', 'Running': True, 'Paused': False, 'Restarting': False, 'OOMKilled': False,
            'Dead': False, 'Pid': 42, 'ExitCode': 0, 'Error': '',
            'StartedAt': '2025-01-01T10:00:00.500000000Z', 'FinishedAt': '0001-01-01T00:00:00Z',
            'Health': {'Status': 'healthy', 'FailingStreak': 0, 'Log': [
                {'Start': 's%d' % i, 'End': 'e%d' % i, 'ExitCode': 0, 'Output': 'PONG %d\n' % i} for i in range(5)
            ]},
        },
        'Config': {
            'Image': 'arizu-local/redis:7', 'Tty': False,
            'Env': ['REDIS_PASSWORD=' + SECRET, 'PATH=/usr/bin'],
            'Cmd': ['redis-server', '--requirepass', SECRET],
            'Healthcheck': {'Test': ['CMD-SHELL', 'redis-cli ping']},
            'Labels': {'arizu.component': 'redis', 'arizu.note': 'pw ' + SECRET, 'com.docker.compose.project': 'x'},
        },
        'HostConfig': {'Memory': 0},
        'NetworkSettings': {'Ports': {'6379/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '6379'}]}},
    }
    for key, value in overrides.items():
        doc[key] = value
    return doc


def test_container_evidence_shape_and_no_secrets():
    masker = Masker(secret_values_from_env(inspect_doc()['Config']['Env']))
    now = parse_docker_time('2025-01-01T11:00:00Z')
    ev = container_evidence(inspect_doc(), stats=V1_STATS, logs=['l1'], masker=masker, now=now)
    assert ev == {
        'exists': True, 'id': '1bbfef3f653d', 'name': 'arizu-redis', 'image': 'arizu-local/redis:7',
        'image_id': 'sha256:1c0b2b12fcbb', 'state': 'running', 'running': True, 'restarting': False,
        'exit_code': 0, 'oom_killed': False, 'restart_count': 2,
        'started_at': '2025-01-01T10:00:00.500000000Z', 'finished_at': None, 'uptime_seconds': 3599,
        'health': {'status': 'healthy', 'failing_streak': 0, 'last_checks': [
            {'start': 's2', 'end': 'e2', 'exit_code': 0, 'output': 'PONG 2'},
            {'start': 's3', 'end': 'e3', 'exit_code': 0, 'output': 'PONG 3'},
            {'start': 's4', 'end': 'e4', 'exit_code': 0, 'output': 'PONG 4'}]},
        'has_healthcheck': True,
        'memory': {'usage_bytes': 11718656 - 1347584, 'limit_bytes': HOST_TOTAL, 'pct': 0.04, 'unlimited': True},
        'cpu_pct': None,
        'labels': {'arizu.component': 'redis', 'arizu.note': 'pw ' + MASK},
        'ports': ['127.0.0.1:6379->6379/tcp'],
        'logs': ['l1'],
    }
    assert SECRET not in repr(ev)


def test_container_evidence_exited_without_stats_or_logs():
    state = dict(inspect_doc()['State'], Status='exited', Running=False, ExitCode=137, OOMKilled=True,
                 FinishedAt='2025-01-01T10:30:00Z')
    ev = container_evidence(inspect_doc(State=state), now=0)
    assert ev['state'] == 'exited' and ev['running'] is False and ev['exit_code'] == 137 and ev['oom_killed']
    assert ev['uptime_seconds'] is None and ev['memory'] is None and ev['cpu_pct'] is None
    assert ev['finished_at'] == '2025-01-01T10:30:00Z'
    assert 'logs' not in ev
    assert summary_line('arizu-redis', ev) == 'arizu-redis exited(137) oom-killed healthy restarts 2'


@pytest.mark.parametrize('healthcheck, health, has, status, streak, checks', [
    pytest.param(None, None, False, 'none', 0, 0, id='no-healthcheck'),
    pytest.param({'Test': ['NONE']}, None, False, 'none', 0, 0, id='disabled-with-NONE'),
    pytest.param({'Test': ['CMD', 'true']}, None, True, 'none', 0, 0, id='configured-never-ran'),
    pytest.param({'Test': ['CMD', 'true']}, {'Status': 'starting', 'FailingStreak': 0, 'Log': []},
                 True, 'starting', 0, 0, id='starting'),
    pytest.param({'Test': ['CMD-SHELL', 'x']},
                 {'Status': 'unhealthy', 'FailingStreak': 4,
                  'Log': [{'Start': 'a', 'End': 'b', 'ExitCode': 1, 'Output': 'x' * 4000}]},
                 True, 'unhealthy', 4, 1, id='unhealthy-long-output'),
])
def test_health_summary(healthcheck, health, has, status, streak, checks):
    doc = {'Config': {'Healthcheck': healthcheck} if healthcheck else {}, 'State': {'Health': health} if health else {}}
    got_has, got = health_summary(doc)
    assert got_has is has
    assert got['status'] == status and got['failing_streak'] == streak and len(got['last_checks']) == checks
    for check in got['last_checks']:
        assert len(check['output']) <= 300


def test_health_output_masked():
    doc = inspect_doc()
    doc['State']['Health']['Log'][-1]['Output'] = 'AUTH failed for %s via redis://:%s@r/0' % (
        SECRET, quote(SECRET, safe=''))
    _has, health = health_summary(doc, Masker(secret_values_from_env(doc['Config']['Env'])))
    assert health['last_checks'][-1]['output'] == 'AUTH failed for %s via redis://:%s@r/0' % (MASK, MASK)


@pytest.mark.parametrize('ports, expected', [
    ({'6379/tcp': None}, ['6379/tcp']),
    ({'5678/tcp': [{'HostIp': '127.0.0.1', 'HostPort': '5678'}], '80/tcp': None, '5432/tcp': []},
     ['80/tcp', '5432/tcp', '127.0.0.1:5678->5678/tcp']),
    ({'53/udp': [{'HostIp': '0.0.0.0', 'HostPort': '5353'}, {'HostIp': '::', 'HostPort': '5353'}]},
     ['0.0.0.0:5353->53/udp', '[::]:5353->53/udp']),
    (None, []),
])
def test_format_ports(ports, expected):
    assert format_ports(ports) == expected


@pytest.mark.parametrize('value, expected', [
    ('2025-01-01T00:00:00Z', 1735689600),
    ('2025-01-01T00:00:00.123456789Z', 1735689600.123456789),
    ('2025-01-01T01:00:00+01:00', 1735689600),
    ('0001-01-01T00:00:00Z', None),
    ('', None),
    ('yesterday', None),
    (None, None),
])
def test_parse_docker_time(value, expected):
    got = parse_docker_time(value)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


# --------------------------------------------------------------------------
# Summary, message, disk
# --------------------------------------------------------------------------

@pytest.mark.parametrize('evidence, line', [
    ({'exists': False}, 'app missing'),
    ({'exists': False, 'error': 'inspect failed: HTTP 400: ambiguous'},
     'app error: inspect failed: HTTP 400: ambiguous'),
    ({'exists': True, 'state': 'running', 'running': True, 'restart_count': 0, 'health': {'status': 'healthy'},
      'memory': {'pct': 12.3, 'unlimited': False}}, 'app running healthy mem 12% restarts 0'),
    ({'exists': True, 'state': 'running', 'running': True, 'restart_count': 3,
      'health': {'status': 'unhealthy', 'failing_streak': 5}, 'memory': {'pct': 0.52, 'unlimited': True},
      'cpu_pct': 150.0}, 'app running unhealthy(5 failing) mem 0.5% of host cpu 150% restarts 3'),
    ({'exists': True, 'state': 'running', 'running': True, 'restart_count': 0, 'health': {'status': 'none'},
      'memory': None}, 'app running no-healthcheck mem n/a restarts 0'),
])
def test_summary_line(evidence, line):
    assert summary_line('app', evidence) == line


def test_overall_message():
    results = {
        'a': {'exists': True, 'running': True, 'health': {'status': 'healthy'}},
        'b': {'exists': True, 'running': False, 'health': {'status': 'unhealthy'}},
        'c': {'exists': False},
        'd': {'exists': False, 'error': 'x'},
    }
    assert overall_message(results) == ('2 of 4 containers found, 1 running; not running: b; unhealthy: b; '
                                        'missing: c; not inspected: d')
    assert overall_message({'a': {'exists': False}}) == '0 of 1 container found, 0 running; missing: a'


@pytest.mark.parametrize('total, used, free, pct', [
    (1000, 400, 600, 40.0),
    (1000, 400, 500, 44.44),   # 100 reserved for root: df counts used / (used + avail)
    (0, 0, 0, 0.0),
])
def test_disk_entry(total, used, free, pct):
    assert disk_entry('/x', total, used, free) == {
        'path': '/x', 'total_bytes': total, 'used_bytes': used, 'free_bytes': free, 'used_pct': pct}


def test_disk_error_entry():
    assert disk_error_entry('/nope', FileNotFoundError(2, 'No such file or directory')) == {
        'path': '/nope', 'error': 'No such file or directory'}
    assert disk_error_entry('/x', ValueError('embedded null byte')) == {'path': '/x', 'error': 'embedded null byte'}
