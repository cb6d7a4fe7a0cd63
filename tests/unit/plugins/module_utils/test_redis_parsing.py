# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parsing and judging of arizu.ops.redis_diagnose (no server)."""

from __future__ import annotations

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.redis_parsing import (
    DEFAULT_QUEUES,
    FRAGMENTATION_MIN_USED_MEMORY,
    depth_command,
    evaluate,
    median,
    memory_summary,
    normalize_slowlog,
    parse_info,
    parse_info_sections,
    queue_depth_limit,
    queue_entry,
    server_summary,
)

INFO_7 = (
    "# Server\r\n"
    "redis_version:7.2.4\r\n"
    "redis_git_sha1:00000000\r\n"
    "redis_build_id:1234567890\r\n"
    "redis_mode:standalone\r\n"
    "os:Linux 6.1.0 x86_64\r\n"
    "run_id:0123456789012345678901234567890123456789\r\n"
    "uptime_in_seconds:86400\r\n"
    "executable:/usr/bin/redis-server\r\n"
    "config_file:\r\n"
    "listener0:name=tcp,bind=*,bind=-::*,port=6379\r\n"
    "\r\n"
    "# Clients\r\n"
    "connected_clients:3\r\n"
    "blocked_clients:0\r\n"
    "\r\n"
    "# Memory\r\n"
    "used_memory:1043456\r\n"
    "used_memory_human:1019.00K\r\n"
    "used_memory_rss:9437184\r\n"
    "used_memory_peak:1101824\r\n"
    "used_memory_peak_human:1.05M\r\n"
    "maxmemory:268435456\r\n"
    "maxmemory_human:256.00M\r\n"
    "maxmemory_policy:noeviction\r\n"
    "mem_fragmentation_ratio:9.04\r\n"
    "\r\n"
    "# Stats\r\n"
    "evicted_keys:0\r\n"
    "\r\n"
    "# Replication\r\n"
    "role:master\r\n"
    "connected_slaves:2\r\n"
    "slave0:ip=::1,port=6380,state=online,offset=1234,lag=0\r\n"
    "slave1:ip=10.0.0.2,port=6379,state=wait_bgsave,offset=0,lag=1\r\n"
    "master_replid:abcdef0123456789abcdef0123456789abcdef01\r\n"
    "second_repl_offset:-1\r\n"
    "\r\n"
    "# Errorstats\r\n"
    "errorstat_WRONGTYPE:count=2\r\n"
    "\r\n"
    "# Keyspace\r\n"
    "db0:keys=12,expires=1,avg_ttl=3600\r\n"
)


def test_parse_info_sections():
    sections = parse_info_sections(INFO_7)
    assert list(sections) == ['server', 'clients', 'memory', 'stats', 'replication', 'errorstats', 'keyspace']
    assert sections['memory']['used_memory'] == 1043456
    assert sections['keyspace']['db0'] == {'keys': 12, 'expires': 1, 'avg_ttl': 3600}


@pytest.mark.parametrize('key, value', [
    ('redis_version', '7.2.4'),
    ('redis_git_sha1', '00000000'),                  # an id, not the number 0
    ('redis_build_id', '1234567890'),
    ('run_id', '0123456789012345678901234567890123456789'),
    ('master_replid', 'abcdef0123456789abcdef0123456789abcdef01'),
    ('os', 'Linux 6.1.0 x86_64'),
    ('executable', '/usr/bin/redis-server'),
    ('config_file', ''),
    ('uptime_in_seconds', 86400),
    ('mem_fragmentation_ratio', 9.04),
    ('second_repl_offset', -1),
    ('maxmemory_policy', 'noeviction'),
    ('slave0', {'ip': '::1', 'port': 6380, 'state': 'online', 'offset': 1234, 'lag': 0}),
    ('slave1', {'ip': '10.0.0.2', 'port': 6379, 'state': 'wait_bgsave', 'offset': 0, 'lag': 1}),
    ('listener0', {'name': 'tcp', 'bind': ['*', '-::*'], 'port': 6379}),  # repeated sub-key
    ('errorstat_WRONGTYPE', {'count': 2}),
    ('db0', {'keys': 12, 'expires': 1, 'avg_ttl': 3600}),
])
def test_parse_info_values(key, value):
    assert parse_info(INFO_7)[key] == value


@pytest.mark.parametrize('text, expected', [
    ('', {}),
    (None, {}),
    ('# Memory\n', {}),
    ('used_memory:1\n', {'used_memory': 1}),                          # no section header, LF only
    (b'# Memory\r\nused_memory:42\r\n', {'used_memory': 42}),         # bytes
    ('master_host:::1\nmaster_port:6379\n', {'master_host': '::1', 'master_port': 6379}),
    ('master_host:fe80::1%eth0\n', {'master_host': 'fe80::1%eth0'}),
    ('garbage line without colon\nok:1\n', {'ok': 1}),
    (':no key\nok:1\n', {'ok': 1}),
    ('weird:a=1,b\n', {'weird': 'a=1,b'}),                            # not all parts k=v: kept as text
    ('weird:=1\n', {'weird': '=1'}),
    ('module:name=search,ver=20804,api=1\n', {'module': {'name': 'search', 'ver': 20804, 'api': 1}}),
    ('cmdstat_client|list:calls=3,usec=30,usec_per_call=10.00\n',
     {'cmdstat_client|list': {'calls': 3, 'usec': 30, 'usec_per_call': 10.0}}),
    ('ratio:1.5e3\nneg:-2\nver:7.0\n', {'ratio': 1500.0, 'neg': -2, 'ver': 7.0}),
    ('# Server\nrole:master\n# Replication\nrole:slave\n', {'role': 'slave'}),  # later section wins
    ('x:caf\xc3\xa9'.encode('latin-1'), {'x': 'café'}),
    (b'x:\xff\n', {'x': '\ufffd'}),
])
def test_parse_info_edge_cases(text, expected):
    assert parse_info(text) == expected


def test_memory_and_server_summary():
    info = parse_info(INFO_7)
    assert memory_summary(info) == {
        'used_memory': 1043456, 'used_memory_human': '1019.00K', 'used_memory_rss': 9437184,
        'used_memory_peak': 1101824, 'used_memory_peak_human': '1.05M', 'maxmemory': 268435456,
        'maxmemory_human': '256.00M', 'maxmemory_policy': 'noeviction', 'used_memory_pct': 0.4,
        'mem_fragmentation_ratio': 9.04, 'evicted_keys': 0,
    }
    assert server_summary(info) == {
        'redis_version': '7.2.4', 'redis_mode': 'standalone', 'role': 'master', 'connected_clients': 3,
        'blocked_clients': 0, 'uptime_in_seconds': 86400, 'master_link_status': None,
    }
    empty = memory_summary({})
    assert empty['used_memory'] is None and empty['used_memory_pct'] is None
    assert memory_summary({'used_memory': '100', 'maxmemory': '0'})['used_memory_pct'] is None
    assert memory_summary({'used_memory': 50, 'maxmemory': 200})['used_memory_pct'] == 25.0
    assert server_summary({'redis_version': 7.0})['redis_version'] == '7.0'


# ---------------------------------------------------------------- SLOWLOG

EXPECTED_6 = {'id': 14, 'timestamp': 1735725600, 'duration_us': 15230, 'command': ['KEYS', '*'],
              'client_addr': '10.0.3.7:51234', 'client_name': 'api'}
EXPECTED_4 = dict(EXPECTED_6, client_addr=None, client_name=None)


@pytest.mark.parametrize('entry, expected', [
    # raw reply, Redis >= 4: 6 fields, bytes
    ([14, 1735725600, 15230, [b'KEYS', b'*'], b'10.0.3.7:51234', b'api'], EXPECTED_6),
    # raw reply, Redis < 4: 4 fields
    ([14, 1735725600, 15230, [b'KEYS', b'*']], EXPECTED_4),
    # tuples and str
    ((14, 1735725600, 15230, ('KEYS', '*'), '10.0.3.7:51234', 'api'), EXPECTED_6),
    # 5 fields (address only)
    ([14, 1735725600, 15230, ['KEYS', '*'], '10.0.3.7:51234'], dict(EXPECTED_4, client_addr='10.0.3.7:51234')),
    # Redis Enterprise: complexity at index 3
    ([14, 1735725600, 15230, 'N=12', [b'KEYS', b'*'], b'10.0.3.7:51234', b'api'], EXPECTED_6),
    # the redis library's dicts (command joined with blanks)
    ({'id': 14, 'start_time': 1735725600, 'duration': 15230, 'command': b'KEYS *',
      'client_address': b'10.0.3.7:51234', 'client_name': b'api'}, EXPECTED_6),
    ({'id': 14, 'start_time': 1735725600, 'duration': 15230, 'command': 'KEYS *'}, EXPECTED_4),
    ({'id': 14, 'start_time': 1735725600, 'duration': 15230, 'complexity': 'N=12', 'command': 'KEYS *',
      'client_address': '10.0.3.7:51234', 'client_name': 'api'}, EXPECTED_6),
    # numbers as strings, empty client name
    (['14', '1735725600', '15230', ['KEYS', '*'], '10.0.3.7:51234', ''], dict(EXPECTED_6, client_name='')),
])
def test_normalize_slowlog_shapes(entry, expected):
    assert normalize_slowlog([entry]) == [expected]


@pytest.mark.parametrize('entries, expected_len', [
    (None, 0),
    ([], 0),
    ([[1, 2, 3]], 0),            # too short: skipped
    (['garbage', 42], 0),
    ([[1, 2, 3, ['PING']], 'x', [2, 3, 4, ['GET', 'k']]], 2),
])
def test_normalize_slowlog_skips_odd_entries(entries, expected_len):
    assert len(normalize_slowlog(entries)) == expected_len


@pytest.mark.parametrize('command, redacted', [
    (['SET', 'session:1', 'secret-token'], ['SET', 'session:1', '?']),
    (['HSET', 'user:1', 'email', 'a@b.c'], ['HSET', 'user:1', '?', '?']),
    (['KEYS', '*'], ['KEYS', '*']),
    (['PING'], ['PING']),
    ([], []),
])
def test_normalize_slowlog_redacts(command, redacted):
    assert normalize_slowlog([[1, 2, 3, command]], redact=True)[0]['command'] == redacted
    assert normalize_slowlog([[1, 2, 3, command]], redact=False)[0]['command'] == command


# ---------------------------------------------------------------- queues

@pytest.mark.parametrize('key_type, expected', [
    ('list', ('LLEN', None)),
    ('zset', ('ZCARD', None)),
    ('stream', ('XLEN', None)),
    ('set', ('SCARD', None)),
    ('hash', ('HLEN', None)),
    (b'list', ('LLEN', None)),
    ('none', (None, None)),
])
def test_depth_command(key_type, expected):
    assert depth_command(key_type) == expected


@pytest.mark.parametrize('key_type', ['string', 'ReJSON-RL', 'TSDB-TYPE', ''])
def test_depth_command_other_types(key_type):
    command, error = depth_command(key_type)
    assert command is None and 'is not a queue' in error and key_type in error


@pytest.mark.parametrize('args, expected', [
    (('list', 3), {'type': 'list', 'depth': 3}),
    ((b'zset', 5), {'type': 'zset', 'depth': 5}),
    (('none',), {'type': 'none', 'depth': 0}),
    (('none', None), {'type': 'none', 'depth': 0}),
    (('string', None, 'a string is not a queue'), {'type': 'string', 'depth': None,
                                                   'error': 'a string is not a queue'}),
    ((None, None, 'TYPE failed: NOPERM'), {'type': None, 'depth': None, 'error': 'TYPE failed: NOPERM'}),
])
def test_queue_entry(args, expected):
    assert queue_entry(*args) == expected


def test_default_queues():
    assert DEFAULT_QUEUES[:3] == ('queue:pending', 'queue:failed', 'queue:dlq')
    assert {'bull:jobs:wait', 'bull:jobs:active', 'bull:jobs:failed', 'bull:jobs:delayed'} <= set(DEFAULT_QUEUES)


@pytest.mark.parametrize('values, expected', [
    ([], None), ([3.0], 3.0), ([5, 1, 3], 3), ([4, 1, 3, 2], 2.5), ([0.2, 9.0, 0.3, 0.25, 0.21], 0.25),
])
def test_median(values, expected):
    assert median(values) == expected


@pytest.mark.parametrize('key, limits, expected', [
    ('queue:pending', 1000, 1000),
    ('queue:pending', None, None),
    ('queue:pending', {'queue:pending': 10}, 10),
    ('bull:jobs:wait', {'bull:jobs:*': 50, 'bull:jobs:wait': 5}, 5),   # exact key first
    ('bull:jobs:failed', {'bull:jobs:*': 50}, 50),
    ('queue:dlq', {'bull:jobs:*': 50}, 1000),                        # unmatched: the default
])
def test_queue_depth_limit(key, limits, expected):
    assert queue_depth_limit(key, limits) == expected


# ---------------------------------------------------------------- thresholds

OK_MEMORY = {'used_memory': 1000, 'maxmemory': 0, 'maxmemory_policy': 'noeviction',
             'mem_fragmentation_ratio': 9.0, 'evicted_keys': 0, 'used_memory_rss': 9000}
BIG = FRAGMENTATION_MIN_USED_MEMORY


@pytest.mark.parametrize('kwargs, expected', [
    (dict(latency_ms=0.3, memory=OK_MEMORY), []),
    (dict(latency_ms=12.34), ['PING latency 12.3 ms is above 10 ms']),
    (dict(latency_ms=10.0), []),
    (dict(latency_ms=3, max_latency_ms=2), ['PING latency 3.0 ms is above 2 ms']),
    # memory against maxmemory
    (dict(memory=dict(OK_MEMORY, used_memory=95 * 1024 * 1024, maxmemory=100 * 1024 * 1024)),
     ['memory 95.0% of maxmemory used (95.0 MiB of 100.0 MiB), above 90%; with maxmemory-policy noeviction, '
      'writes fail with OOM once it is full']),
    (dict(memory=dict(OK_MEMORY, used_memory=95, maxmemory=100, maxmemory_policy='allkeys-lru')),
     ['memory 95.0% of maxmemory used (95 B of 100 B), above 90%; maxmemory-policy allkeys-lru evicts keys '
      'once it is full']),
    (dict(memory=dict(OK_MEMORY, used_memory=95, maxmemory=100), max_memory_pct=96), []),
    (dict(memory=dict(OK_MEMORY, used_memory=95, maxmemory=100, used_memory_pct=95.0), max_memory_pct=None), []),
    (dict(memory=dict(OK_MEMORY, used_memory=10 ** 12, maxmemory=0, mem_fragmentation_ratio=1.0)), []),  # no limit
    # fragmentation: ignored on a small dataset, judged on a big one
    (dict(memory=dict(OK_MEMORY, mem_fragmentation_ratio=12.0)), []),
    (dict(memory=dict(OK_MEMORY, used_memory=BIG, used_memory_rss=2 * BIG, mem_fragmentation_ratio=2.0)),
     ['memory fragmentation ratio 2.00 is above 1.5 (RSS 200.0 MiB for 100.0 MiB used)']),
    (dict(memory=dict(OK_MEMORY, used_memory=BIG, mem_fragmentation_ratio=1.4)), []),
    (dict(memory=dict(OK_MEMORY, used_memory=BIG, mem_fragmentation_ratio=0.7)),
     ['memory fragmentation ratio 0.70 is below 1: part of Redis memory is swapped out']),
    # evictions and eviction policy against queues
    (dict(memory=dict(OK_MEMORY, evicted_keys=42, maxmemory_policy='allkeys-lru')),
     ['42 keys evicted since the server started (maxmemory-policy allkeys-lru)']),
    (dict(memory=dict(OK_MEMORY, maxmemory=100, used_memory=1, maxmemory_policy='volatile-lru'),
          queues={'bull:jobs:wait': {'type': 'list', 'depth': 3}, 'queue:dlq': {'type': 'none', 'depth': 0}}),
     ['maxmemory-policy volatile-lru can evict queue keys (bull:jobs:wait); job queues need noeviction']),
    (dict(memory=dict(OK_MEMORY, maxmemory=0, maxmemory_policy='allkeys-lru'),
          queues={'bull:jobs:wait': {'type': 'list', 'depth': 3}}), []),   # no limit, nothing evicted
    # queue depths and errors
    (dict(queues={'q': {'type': 'list', 'depth': 1001}}), ['queue q holds 1001 entries, above 1000']),
    (dict(queues={'q': {'type': 'list', 'depth': 1000}}), []),
    (dict(queues={'q': {'type': 'zset', 'depth': 6}, 'r': {'type': 'list', 'depth': 6}},
          max_queue_depth={'q': 5}), ['queue q holds 6 entries, above 5']),
    (dict(queues={'q': {'type': 'list', 'depth': 2}}, max_queue_depth=0), ['queue q holds 2 entries, above 0']),
    (dict(queues={'q': {'type': 'none', 'depth': 0}}, max_queue_depth=0), []),
    (dict(queues={'s': {'type': 'string', 'depth': None, 'error': 'a string is not a queue'}}),
     ['queue s: a string is not a queue']),
    # replication
    (dict(server={'role': 'slave', 'master_link_status': 'down'}), ['replica link to the master is down']),
    (dict(server={'role': 'slave', 'master_link_status': 'up'}), []),
    (dict(), []),
])
def test_evaluate(kwargs, expected):
    assert evaluate(**kwargs) == expected
