# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.redis_diagnose against a real Redis 7 (scratch-redis-diagnose on 127.0.0.1:56379).

Queue keys of each type are seeded with known depths; the module runs through
``ansible localhost -m arizu.ops.redis_diagnose``.  Without Docker the tests
fail; they are never skipped.
"""
from __future__ import annotations

import os
import secrets
import sys

import pytest
import redis

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import remove_container, run_module, start_container, wait_for  # noqa: E402  pylint: disable=wrong-import-position

NAME = "scratch-redis-diagnose"
IMAGE = "arizu-local/redis:7"
PORT = 56379
MODULE = "arizu.ops.redis_diagnose"
SECRET_VALUE = "s3cret-value-" + secrets.token_hex(4)

QUEUES = ["queue:pending", "bull:jobs:delayed", "queue:stream", "queue:set", "queue:hash", "queue:string",
          "queue:dlq"]


def _seed_secret(password):
    """SET the string key again, so the entry is among the newest of the slow log."""
    client = redis.Redis(host="127.0.0.1", port=PORT, password=password)
    client.set("queue:string", SECRET_VALUE)
    client.close()


@pytest.fixture(scope="module")
def server():
    password = "rdA-" + secrets.token_hex(12)
    start_container(NAME, IMAGE, {"REDIS_PASSWORD": password}, PORT, 6379)
    try:
        client = redis.Redis(host="127.0.0.1", port=PORT, password=password, socket_timeout=5)
        wait_for(client.ping, 60, "Redis in " + NAME)
        client.config_set("slowlog-log-slower-than", 0)  # log every command
        client.config_set("maxmemory", 100 * 1024 * 1024)
        client.slowlog_reset()
        client.rpush("queue:pending", "a", "b", "c")
        client.zadd("bull:jobs:delayed", {"j%d" % i: i for i in range(5)})
        for i in range(7):
            client.xadd("queue:stream", {"n": i})
        client.sadd("queue:set", "x", "y")
        client.hset("queue:hash", mapping={"a": 1, "b": 2, "c": 3, "d": 4})
        client.set("queue:string", SECRET_VALUE)
        client.delete("queue:dlq")
        other = redis.Redis(host="127.0.0.1", port=PORT, password=password, db=1)
        other.rpush("queue:pending", *range(11))
        other.close()
        client.close()
        yield password
    finally:
        remove_container(NAME)


def _run(password, tmp_path, check=False, **args):
    base = {"login_host": "127.0.0.1", "login_port": PORT, "login_password": "{{ redis_password }}"}
    base.update(args)
    result, rc, output = run_module(MODULE, base, tmp_path, secrets={"redis_password": password}, check=check)
    assert password not in output, "the password appears in the module output"
    return result, rc, output


def test_queue_depths_of_every_type(server, tmp_path):
    result, rc, output = _run(server, tmp_path, queues=QUEUES, max_queue_depth={"queue:hash": 3})
    assert rc == 0, output
    assert result["changed"] is False
    assert result["queues"] == {
        "queue:pending": {"type": "list", "depth": 3},
        "bull:jobs:delayed": {"type": "zset", "depth": 5},
        "queue:stream": {"type": "stream", "depth": 7},
        "queue:set": {"type": "set", "depth": 2},
        "queue:hash": {"type": "hash", "depth": 4},
        "queue:string": {"type": "string", "depth": None,
                         "error": "a string is not a queue (expected list, zset, stream, set or hash)"},
        "queue:dlq": {"type": "none", "depth": 0},
    }
    assert result["issues"] == [
        "queue queue:hash holds 4 entries, above 3",
        "queue queue:string: a string is not a queue (expected list, zset, stream, set or hash)",
    ]
    assert "[WARNING]: queue queue:hash holds 4 entries, above 3" in output
    assert "queues 21 entries in 6 of 7 keys, 2 issues" in result["msg"]


def test_report_sections(server, tmp_path):
    _seed_secret(server)
    result, rc, output = _run(server, tmp_path, check=True, slowlog_count=50)
    assert rc == 0, output
    assert result["changed"] is False
    # default queues: the runbook's and n8n's Bull keys
    assert set(result["queues"]) == {"queue:pending", "queue:failed", "queue:dlq", "bull:jobs:wait",
                                     "bull:jobs:active", "bull:jobs:paused", "bull:jobs:delayed",
                                     "bull:jobs:failed"}
    assert result["queues"]["queue:pending"] == {"type": "list", "depth": 3}
    assert result["queues"]["bull:jobs:wait"] == {"type": "none", "depth": 0}

    assert 0 < result["latency_ms"] < 1000
    memory = result["memory"]
    assert memory["maxmemory"] == 100 * 1024 * 1024
    assert memory["maxmemory_policy"] == "noeviction"
    assert memory["used_memory"] > 0 and memory["used_memory_peak"] >= memory["used_memory"]
    assert memory["used_memory_pct"] == round(100.0 * memory["used_memory"] / memory["maxmemory"], 1)
    assert memory["evicted_keys"] == 0 and memory["mem_fragmentation_ratio"] > 0

    server_facts = result["server"]
    assert server_facts["redis_version"].startswith("7.")
    assert server_facts["role"] == "master" and server_facts["connected_clients"] >= 1
    assert server_facts["uptime_in_seconds"] >= 0

    slowlog = result["slowlog"]
    assert 0 < len(slowlog) <= 50
    assert set(slowlog[0]) == {"id", "timestamp", "duration_us", "command", "client_addr", "client_name"}
    assert slowlog[0]["client_addr"].startswith(("127.0.0.1:", "172."))
    seeded = [entry for entry in slowlog if entry["command"][:2] == ["SET", "queue:string"]]
    assert seeded and seeded[0]["command"] == ["SET", "queue:string", "?"]
    assert SECRET_VALUE not in output
    assert result["msg"].startswith("redis 7.")

    _seed_secret(server)
    result, rc, output = _run(server, tmp_path, slowlog_count=50, redact_slowlog=False, queues=[])
    assert rc == 0, output
    assert result["queues"] == {}
    assert any(entry["command"] == ["SET", "queue:string", SECRET_VALUE] for entry in result["slowlog"])
    # the module's own connection is named (the previous run's commands are in the slow log)
    assert any(entry["client_name"] == "arizu.ops.redis_diagnose" and entry["command"][:1] == ["INFO"]
               for entry in result["slowlog"])

    result, rc, output = _run(server, tmp_path, slowlog_count=0, queues=["queue:pending"], db=1)
    assert rc == 0, output
    assert result["slowlog"] == [] and result["queues"] == {"queue:pending": {"type": "list", "depth": 11}}


def test_thresholds(server, tmp_path):
    result, rc, output = _run(server, tmp_path, queues=["queue:pending"], max_latency_ms=0, max_memory_pct=0,
                              max_queue_depth=2)
    assert rc == 0, output
    issues = result["issues"]
    assert len(issues) == 3, issues
    assert issues[0].startswith("PING latency ") and issues[0].endswith(" ms is above 0 ms")
    assert issues[1].startswith("memory ") and "of maxmemory used" in issues[1] and "noeviction" in issues[1]
    assert issues[2] == "queue queue:pending holds 3 entries, above 2"


def test_wrong_password_fails_clearly(server, tmp_path):
    wrong = "wrong-" + secrets.token_hex(6)
    result, rc, output = run_module(MODULE, {"login_host": "127.0.0.1", "login_port": PORT,
                                             "login_password": "{{ pw }}"}, tmp_path, secrets={"pw": wrong})
    assert rc != 0 and "FAILED!" in output
    assert result["msg"].startswith("cannot connect to Redis at redis://127.0.0.1:%d/0: " % PORT)
    assert "authentication failed: wrong login_password or login_user" in result["msg"]
    assert wrong not in output and server not in output and "Traceback" not in output

    result, rc, output = run_module(MODULE, {"login_host": "127.0.0.1", "login_port": PORT}, tmp_path)
    assert rc != 0 and "authentication required: the server needs a password" in result["msg"]


def test_acl_user_without_slowlog_still_gets_a_report(server, tmp_path):
    """An ACL user that may not run SLOWLOG (nor CLIENT SETNAME): the rest is reported."""
    monitor_password = "monPw-" + secrets.token_hex(8)
    admin = redis.Redis(host="127.0.0.1", port=PORT, password=server)
    admin.acl_setuser("it-monitor", enabled=True, passwords=["+" + monitor_password], keys=["*"],
                      commands=["+ping", "+info", "+type", "+llen", "+zcard", "+xlen", "+scard", "+hlen"])
    admin.close()
    args = {"login_host": "127.0.0.1", "login_port": PORT, "login_user": "it-monitor",
            "login_password": "{{ monitor_password }}", "queues": ["queue:pending", "queue:set"]}
    result, rc, output = run_module(MODULE, args, tmp_path, secrets={"monitor_password": monitor_password})
    assert rc == 0, output
    assert monitor_password not in output
    assert result["queues"] == {"queue:pending": {"type": "list", "depth": 3}, "queue:set": {"type": "set", "depth": 2}}
    assert result["slowlog"] == []
    assert len(result["issues"]) == 1 and result["issues"][0].startswith("SLOWLOG GET failed: ")
    assert "NOPERM" in result["issues"][0] or "permission" in result["issues"][0].lower()
    assert result["memory"]["used_memory"] > 0
