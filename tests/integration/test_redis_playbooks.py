# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/redis_diagnostics.yml and playbooks/redis_flush_cache.yml against a real Redis 7.

One throwaway container (scratch-redisplay on 127.0.0.1:55720); each test
seeds its keys, runs the playbook with ansible-playbook against an inventory
of localhost, and checks the play's output and the server's keys. Without
Docker the tests fail; they are never skipped.
"""
from __future__ import annotations

import os
import re
import secrets
import sys

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import wait_for  # noqa: E402  pylint: disable=wrong-import-position
from playbook_run import remove_scratch, run_playbook, start_scratch  # noqa: E402  pylint: disable=wrong-import-position

NAME = "scratch-redisplay"
IMAGE = "arizu-local/redis:7"
PORT = 55720
SECRET_VALUE = "cached-s3cret-" + secrets.token_hex(4)

#: key -> (type, depth) seeded by _seed_queues
QUEUES = {
    "queue:pending": ("list", 3),
    "queue:failed": ("zset", 4),
    "queue:dlq": ("stream", 2),
    "queue:set": ("set", 7),
    "queue:hash": ("hash", 5),
    "bull:jobs:wait": ("list", 6),
    "bull:jobs:active": ("list", 1),
    "bull:jobs:paused": ("none", 0),
    "bull:jobs:delayed": ("zset", 8),
    "bull:jobs:failed": ("zset", 2),
    "queue:missing": ("none", 0),
}


class Server:
    def __init__(self, password):
        self.password = password

    def client(self, db=0):
        return redis.Redis(host="127.0.0.1", port=PORT, password=self.password, db=db, socket_timeout=10,
                           decode_responses=True)

    def host_vars(self, **extra):
        base = {"redis_login_port": PORT, "redis_password": self.password}
        base.update(extra)
        return base


@pytest.fixture(scope="module")
def server():
    password = "rdP-" + secrets.token_hex(12)
    try:
        start_scratch(NAME, IMAGE, {"REDIS_PASSWORD": password}, PORT, 6379)
        srv = Server(password)
        wait_for(srv.client().ping, 60, "Redis in " + NAME)
        yield srv
    finally:
        remove_scratch(NAME)


@pytest.fixture()
def client(server):
    conn = server.client()
    for db in (0, 1, 2):
        server.client(db).flushdb()  # the test's own reset, through the redis library
    conn.config_resetstat()
    yield conn
    conn.close()


def _seed_queues(client):
    client.rpush("queue:pending", "a", "b", "c")
    client.zadd("queue:failed", {"f%d" % i: i for i in range(4)})
    for i in range(2):
        client.xadd("queue:dlq", {"n": i})
    client.sadd("queue:set", *["s%d" % i for i in range(7)])
    client.hset("queue:hash", mapping={"h%d" % i: i for i in range(5)})
    client.rpush("bull:jobs:wait", *range(6))
    client.rpush("bull:jobs:active", "1")
    client.zadd("bull:jobs:delayed", {"d%d" % i: i for i in range(8)})
    client.zadd("bull:jobs:failed", {"x": 1, "y": 2})


def _seed_cache(client, sessions=3, cache=1200):
    pipe = client.pipeline(transaction=False)
    for i in range(sessions):
        pipe.set("sess:%s" % secrets.token_hex(8), "{\"user\": %d}" % i)
    for i in range(cache):
        pipe.set("cache:page:%d" % i, SECRET_VALUE if i == 0 else "v%d" % i)
    pipe.execute()


def _play(server, playbook, tmp_path, host_vars=None, extra_vars=None, check=False):
    rc, output = run_playbook(playbook, tmp_path, server.host_vars(**(host_vars or {})), extra_vars=extra_vars,
                              check=check)
    assert server.password not in output, "the password appears in the playbook output"
    assert SECRET_VALUE not in output, "a stored value appears in the playbook output"
    return rc, output


def _groups_table(output):
    """{group: (before, after, fate)} from the flush playbook's table."""
    rows = {}
    for match in re.finditer(r"^\s{8}(\S+(?: prefix\))?)\s+(\d+)\s+(\d+)\s+(.+)$", output, re.M):
        rows[match.group(1)] = (int(match.group(2)), int(match.group(3)), match.group(4).strip())
    return rows


def _depths(client):
    result = {}
    for key in QUEUES:
        kind = client.type(key)
        command = {"list": client.llen, "zset": client.zcard, "stream": client.xlen, "set": client.scard,
                   "hash": client.hlen}.get(kind)
        result[key] = (kind, command(key) if command else 0)
    return result


def _commandstats(client):
    return {name[len("cmdstat_"):] if name.startswith("cmdstat_") else name: stats
            for name, stats in client.info("commandstats").items()}


# ---------------------------------------------------------------- redis_diagnostics.yml

def test_diagnostics_reports_queue_depths_exactly(server, client, tmp_path):
    _seed_queues(client)
    _seed_cache(client, sessions=1, cache=5)
    client.config_set("slowlog-log-slower-than", 0)  # log every command
    client.slowlog_reset()
    client.set("cache:page:0", SECRET_VALUE)
    try:
        rc, output = _play(server, "redis_diagnostics.yml", tmp_path,
                           extra_vars={"redis_diag_queues": list(QUEUES), "redis_diag_max_latency_ms": 1000,
                                       "redis_diag_slowlog_count": 100})
    finally:
        client.config_set("slowlog-log-slower-than", 10000)
    assert rc == 0, output
    reported = {}
    for match in re.finditer(r"^\s+((?:queue|bull):\S+)\s+(\S+)\s+(\d+)$", output, re.M):
        reported[match.group(1)] = (match.group(2), int(match.group(3)))
    assert reported == QUEUES, output
    assert _depths(client) == QUEUES
    assert re.search(r"latency: PING \d+\.\d+ ms \(median\)", output), output
    assert re.search(r"memory: used \S+, peak \S+, maxmemory none \(noeviction\), fragmentation [\d.]+, "
                     r"evicted keys 0", output), output
    assert re.search(r"slow log \(\d+ newest\):", output), output
    assert re.search(r"#\d+\s+\d+ us  SET cache:page:0 \?", output), output  # the value is redacted
    assert "issues:\n          none" in output
    assert re.search(r"redis 7\.\d+\.\d+ master: PING", output), output


# ---------------------------------------------------------------- redis_flush_cache.yml

def test_flush_refuses_a_real_run_without_confirm(server, client, tmp_path):
    _seed_queues(client)
    _seed_cache(client, cache=20)
    before = client.dbsize()
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path)
    assert rc != 0, output
    assert "Refusing to delete cache:* without confirmation" in output
    assert "redis_flush_confirm=true" in output and "--check" in output
    assert "Count the key groups" not in output  # refused before connecting
    assert client.dbsize() == before


def test_flushdb_refused_while_session_keys_exist(server, client, tmp_path):
    _seed_queues(client)
    _seed_cache(client, cache=20)
    before = client.dbsize()
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path,
                       extra_vars={"redis_flush_mode": "flushdb", "redis_flush_confirm": True,
                                   "redis_flush_confirm_db": 0})
    assert rc != 0, output
    assert "refusing to flush db 0: it holds session or queue keys: queue (5), bull (4), sess (3)" in output
    rows = _groups_table(output)
    assert rows["sess"] == (3, 3, "REFUSED, would be lost (3 keys), session/queue keys"), output
    assert rows["cache"][:2] == (20, 20), output
    assert client.dbsize() == before
    assert "flushdb" not in _commandstats(client)

    # without the database number as confirmation, the module refuses before looking at the keys
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path,
                       extra_vars={"redis_flush_mode": "flushdb", "redis_flush_confirm": True})
    assert rc != 0 and "mode=flushdb needs confirm: 0 (the number of the database to flush)" in output, output
    assert client.dbsize() == before


def test_check_mode_reports_counts_and_deletes_nothing(server, client, tmp_path):
    _seed_queues(client)
    _seed_cache(client)
    before = client.dbsize()
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path, check=True)
    assert rc == 0, output
    assert "would delete 1200 keys of cache:* in db 0: cache (1200)" in output
    rows = _groups_table(output)
    assert rows == {
        "cache": (1200, 0, "would be lost (1200 keys)"),
        "queue": (5, 5, "kept, session/queue keys"),
        "bull": (4, 4, "kept, session/queue keys"),
        "sess": (3, 3, "kept, session/queue keys"),
    }, output
    assert "would delete: 1200 keys (check mode, nothing deleted)" in output
    assert client.dbsize() == before
    stats = _commandstats(client)
    assert "unlink" not in stats and "del" not in stats and "keys" not in stats, stats


def test_prefix_deletion_removes_only_the_cache(server, client, tmp_path):
    _seed_queues(client)
    _seed_cache(client)
    sessions = sorted(client.scan_iter(match="sess:*"))
    client.config_resetstat()
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path,
                       extra_vars={"redis_flush_confirm": True, "redis_flush_batch_size": 500})
    assert rc == 0, output
    assert "deleted 1200 keys of cache:* in db 0 (3 UNLINK batches of up to 500)" in output
    assert _groups_table(output) == {
        "cache": (1200, 0, "deleted (1200 keys)"),
        "queue": (5, 5, "kept, session/queue keys"),
        "bull": (4, 4, "kept, session/queue keys"),
        "sess": (3, 3, "kept, session/queue keys"),
    }, output
    assert "deleted: 1200 keys" in output
    assert list(client.scan_iter(match="cache:*")) == []
    assert sorted(client.scan_iter(match="sess:*")) == sessions
    assert _depths(client) == QUEUES
    stats = _commandstats(client)
    assert stats["unlink"]["calls"] == 3, stats
    assert not {"keys", "flushdb", "flushall", "del"} & set(stats), stats
    assert stats["scan"]["calls"] >= 3, stats

    # a second run finds nothing to delete: not changed
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path, extra_vars={"redis_flush_confirm": True})
    assert rc == 0, output
    assert "deleted 0 keys of cache:*" in output
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0", output), output


def test_flushdb_of_a_cache_only_database(server, client, tmp_path):
    cache_db = server.client(1)
    for i in range(50):
        cache_db.set("page:%d" % i, "v")
    cache_db.set("fragment:1", "v")
    _seed_queues(client)  # db 0 must not be touched
    db0 = client.dbsize()

    # confirm must repeat the database number
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path, host_vars={"redis_db": 1},
                       extra_vars={"redis_flush_mode": "flushdb", "redis_flush_confirm": True,
                                   "redis_flush_confirm_db": 0})
    assert rc != 0 and "confirm: 0 does not match db 1" in output, output
    assert cache_db.dbsize() == 51

    rc, output = _play(server, "redis_flush_cache.yml", tmp_path, host_vars={"redis_db": 1},
                       extra_vars={"redis_flush_mode": "flushdb", "redis_flush_confirm": True,
                                   "redis_flush_confirm_db": 1})
    assert rc == 0, output
    assert "flushed db 1: 51 keys deleted (page (50), fragment (1))" in output
    assert cache_db.dbsize() == 0
    assert client.dbsize() == db0 and _depths(client) == QUEUES

    # sessions in db 2: only with force_with_sessions
    sess_db = server.client(2)
    sess_db.set("sess:abc", "x")
    sess_db.set("cache:1", "x")
    rc, output = _play(server, "redis_flush_cache.yml", tmp_path, host_vars={"redis_db": 2},
                       extra_vars={"redis_flush_mode": "flushdb", "redis_flush_confirm": True,
                                   "redis_flush_confirm_db": 2, "redis_flush_force_with_sessions": True})
    assert rc == 0, output
    assert "including session/queue keys by force_with_sessions: sess (1)" in output
    assert sess_db.dbsize() == 0
    stats = _commandstats(client)
    assert stats["flushdb"]["calls"] == 2 and "flushall" not in stats, stats
    cache_db.close()
    sess_db.close()
