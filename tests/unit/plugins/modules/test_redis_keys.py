# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.redis_keys against an in-memory stand-in of the redis library: modes, guards, batches.

The module against a real Redis is tested through playbooks/redis_flush_cache.yml in
tests/integration/test_redis_playbooks.py.
"""

from __future__ import annotations

import json
import os

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import redis_common
from ansible_collections.arizu.ops.plugins.modules import redis_keys

PASSWORD = 'rEdis-keys-s3cret-77'
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))


class ResponseError(Exception):
    pass


class FakeRedis:
    """Just enough of ``redis.Redis`` for the module: one database of string keys."""

    instances = []
    version = '7.0.15'
    unlink_unknown = False

    def __init__(self, **kwargs):
        self.kwargs = kwargs
        self.data = dict((k.encode(), b'v') for k in FakeRedis.seed)
        self.log = []
        FakeRedis.instances.append(self)

    def set_response_callback(self, _command, _callback):
        pass

    def ping(self):
        self.log.append(('PING',))
        return True

    def client_setname(self, name):
        self.log.append(('CLIENT SETNAME', name))

    def dbsize(self):
        return len(self.data)

    def scan(self, cursor=0, match=None, count=None):
        """Pages of *count* keys of the keyspace as it was when the iteration started (keys deleted
        meanwhile are left out, as SCAN does); each page after the first repeats one key (as SCAN may)."""
        self.log.append(('SCAN', cursor, match, count))
        if cursor == 0:
            self.snapshot = sorted(self.data)
        page = self.snapshot[max(cursor - 1, 0):cursor + count]
        page = [k for k in page if k in self.data]
        if match and match != '*':
            assert match.endswith(':*')
            prefix = match[:-1].replace('\\', '').encode()
            page = [k for k in page if k.startswith(prefix)]
        following = cursor + count
        return (0 if following >= len(self.snapshot) else following), page

    def execute_command(self, *args):
        self.log.append(args)
        command = args[0]
        if command == 'INFO':
            return ('# Server\r\nredis_version:%s\r\nredis_mode:standalone\r\n' % FakeRedis.version).encode()
        if command == 'UNLINK' and FakeRedis.unlink_unknown:
            raise ResponseError("unknown command 'UNLINK', with args beginning with: ")
        if command in ('UNLINK', 'DEL'):
            removed = 0
            for key in args[1:]:
                removed += 1 if self.data.pop(key, None) is not None else 0
            return removed
        if command == 'FLUSHDB':
            self.data.clear()
            return True
        raise AssertionError('unexpected command %r' % (args,))

    def close(self):
        pass


@pytest.fixture()
def fake(monkeypatch):
    FakeRedis.instances = []
    FakeRedis.version = '7.0.15'
    FakeRedis.unlink_unknown = False
    FakeRedis.seed = ['cache:page:%04d' % i for i in range(1200)] + ['sess:a', 'sess:b', 'sess:c'] + \
        ['queue:pending', 'queue:dlq', 'plain']
    monkeypatch.setattr(redis_common.redis, 'Redis', FakeRedis)
    return FakeRedis


def run_module(capsys, check=False, **args):
    args = dict(dict(login_host='127.0.0.1', login_password=PASSWORD), **args)
    if check:
        args['_ansible_check_mode'] = True
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            redis_keys.main()
    out = capsys.readouterr().out
    assert PASSWORD not in out and 'Traceback' not in out
    return exc.value.code, json.loads(out)


def commands(name):
    return [entry for entry in FakeRedis.instances[0].log if entry[0] == name]


def test_report_counts_groups(capsys, fake):
    code, result = run_module(capsys)
    assert code == 0 and result['changed'] is False
    assert result['groups_before'] == {'cache': 1200, 'sess': 3, 'queue': 2, '(no prefix)': 1}
    assert result['protected'] == {'sess': 3, 'queue': 2}
    assert result['exact'] is True and result['dbsize_before'] == 1206
    assert result['msg'] == 'db 0: 1206 keys in 4 groups: cache (1200), sess (3), queue (2), (no prefix) (1)'
    assert all(entry[3] == 1000 for entry in commands('SCAN'))  # SCAN with the COUNT hint
    assert commands('CLIENT SETNAME') == [('CLIENT SETNAME', 'arizu.ops.redis_keys')]


def test_delete_prefix_in_batches(capsys, fake):
    code, result = run_module(capsys, mode='delete', prefixes=['cache'], batch_size=500, scan_count=300)
    assert code == 0 and result['changed'] is True
    assert result['deleted'] == 1200 and result['batches'] == 3
    assert [len(c) - 1 for c in commands('UNLINK')] == [500, 500, 200]
    assert result['would_lose'] == {'cache': 1200} and result['matched'] == {'cache': 1200}
    assert result['groups_after'] == {'sess': 3, 'queue': 2, '(no prefix)': 1}
    assert result['dbsize_after'] == 6
    assert sorted(FakeRedis.instances[0].data) == [b'plain', b'queue:dlq', b'queue:pending', b'sess:a', b'sess:b',
                                                   b'sess:c']
    assert any(entry[2] == 'cache:*' for entry in commands('SCAN'))
    assert result['msg'].startswith('deleted 1200 keys of cache:* in db 0 (3 UNLINK batches of up to 500); left: ')


def test_delete_check_mode_deletes_nothing(capsys, fake):
    code, result = run_module(capsys, check=True, mode='delete', prefixes=['cache:'])
    assert code == 0 and result['changed'] is True
    assert result['would_delete'] == 1200 and result['deleted'] == 0
    assert result['groups_after'] == {'sess': 3, 'queue': 2, '(no prefix)': 1}
    assert result['dbsize_after'] == 6
    assert not commands('UNLINK') and not commands('DEL') and not commands('FLUSHDB')
    assert len(FakeRedis.instances[0].data) == 1206
    assert 'session/queue keys kept: sess (3), queue (2)' in result['msg']


def test_delete_nothing_is_not_changed(capsys, fake):
    code, result = run_module(capsys, mode='delete', prefixes=['page'])
    assert code == 0 and result['changed'] is False and result['deleted'] == 0 and result['batches'] == 0


def test_delete_of_sessions_refused_unless_forced(capsys, fake):
    code, result = run_module(capsys, mode='delete', prefixes=['sess'])
    assert code == 1 and 'refusing to delete sess:* in db 0: session or queue keys (sess (3))' in result['msg']
    assert not commands('UNLINK')
    code, result = run_module(capsys, mode='delete', prefixes=['sess'], force_with_sessions=True)
    assert code == 0 and result['deleted'] == 3


def test_flushdb_refused_with_sessions(capsys, fake):
    code, result = run_module(capsys, mode='flushdb', confirm=0)
    assert code == 1 and result['failed'] is True
    assert result['msg'].startswith('refusing to flush db 0: it holds session or queue keys: sess (3), queue (2)')
    assert result['would_lose'] == result['groups_before']
    assert not commands('FLUSHDB')
    code, result = run_module(capsys, check=True, mode='flushdb', confirm=0)  # check mode says so too
    assert code == 1 and 'refusing to flush db 0' in result['msg']


def test_flushdb_with_confirm_and_force(capsys, fake):
    code, result = run_module(capsys, mode='flushdb', confirm=0, force_with_sessions=True)
    assert code == 0 and result['changed'] is True and result['deleted'] == 1206
    assert commands('FLUSHDB') == [('FLUSHDB', 'ASYNC')]
    assert result['groups_after'] == {} and result['dbsize_after'] == 0
    assert 'including session/queue keys by force_with_sessions: sess (3), queue (2)' in result['msg']


def test_flushdb_of_a_cache_only_database(capsys, fake):
    fake.seed = ['cache:%d' % i for i in range(10)]
    code, result = run_module(capsys, mode='flushdb', db=3, confirm=3)
    assert code == 0 and result['deleted'] == 10 and result['msg'] == 'flushed db 3: 10 keys deleted (cache (10))'
    assert FakeRedis.instances[0].kwargs['db'] == 3


def test_flushdb_check_mode(capsys, fake):
    fake.seed = ['cache:%d' % i for i in range(10)] + ['page:1']
    code, result = run_module(capsys, check=True, mode='flushdb', confirm=0)
    assert code == 0 and result['changed'] is True and result['would_delete'] == 11
    assert result['msg'] == 'would flush db 0: cache (10), page (1)'
    assert not commands('FLUSHDB')


def test_old_server_uses_del_and_a_synchronous_flushdb(capsys, fake):
    fake.version = '3.2.12'
    code, result = run_module(capsys, mode='delete', prefixes=['cache'], batch_size=1000)
    assert code == 0 and result['deleted'] == 1200
    assert [len(c) - 1 for c in commands('DEL')] == [1000, 200] and not commands('UNLINK')
    assert '(2 DEL batches of up to 1000)' in result['msg']
    fake.seed = ['cache:1']
    code, result = run_module(capsys, mode='flushdb', confirm=0)
    assert code == 0 and [c for c in FakeRedis.instances[-1].log if c[0] == 'FLUSHDB'] == [('FLUSHDB',)]


def test_unknown_unlink_falls_back_to_del(capsys, fake):
    fake.unlink_unknown = True
    code, result = run_module(capsys, mode='delete', prefixes=['cache'])
    assert code == 0 and result['deleted'] == 1200 and result['batches'] == 3


@pytest.mark.parametrize('args, message', [
    (dict(mode='flushdb'), 'mode=flushdb needs confirm: 0 (the number of the database to flush)'),
    (dict(mode='flushdb', db=2, confirm=0), 'confirm: 0 does not match db 2'),
    (dict(mode='flushdb', confirm=0, prefixes=['cache']), 'mode=flushdb deletes the whole database and takes no'),
    (dict(mode='delete'), 'mode=delete needs prefixes'),
    (dict(mode='delete', prefixes=['']), 'an empty prefix would match every key'),
    (dict(mode='delete', prefixes=['cache'], batch_size=0), 'batch_size: must be between 1 and 10000'),
    (dict(max_groups=0), 'max_groups: must be 1 or more'),
])
def test_option_errors_before_connecting(capsys, fake, args, message):
    code, result = run_module(capsys, **args)
    assert code == 1 and message in result['msg'], result['msg']
    assert FakeRedis.instances == []  # refused before any connection


def test_no_code_path_flushes_the_whole_server():
    """The module, its rules, its connection code and the playbook never name the all-databases flush."""
    files = ['plugins/modules/redis_keys.py', 'plugins/module_utils/redis_keys_rules.py',
             'plugins/module_utils/redis_common.py', 'playbooks/redis_flush_cache.yml']
    for name in files:
        with open(os.path.join(ROOT, name)) as handle:
            text = handle.read().lower()
        assert 'flush' + 'all' not in text, name
        assert "execute_command('keys'" not in text and 'client.keys(' not in text, name  # and never KEYS
    with open(os.path.join(ROOT, 'plugins/modules/redis_keys.py')) as handle:
        source = handle.read()
    assert "execute_command('FLUSHDB'" in source  # the one flush there is: of the selected database
