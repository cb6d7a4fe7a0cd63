# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.pg_activity against a real PostgreSQL 15 (scratch-pg-activity on 127.0.0.1:55432).

Sessions are opened with psycopg2 (asynchronous connections for the long
``pg_sleep`` statements, so no thread per session), the module runs through
``ansible localhost -m arizu.ops.pg_activity``.  pg_stat_statements (preloaded
by the image) counts the signalling statements: one per action, however many
sessions.  Without Docker the tests fail; they are never skipped.
"""
from __future__ import annotations

import os
import secrets
import sys
import threading
import time

import psycopg2
import psycopg2.extensions
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import (  # noqa: E402  pylint: disable=wrong-import-position
    ScratchPostgres, container_logs, remove_container, run_module, start_container, wait_async, wait_for)

NAME = "scratch-pg-activity"
IMAGE = "arizu-local/postgres:15"
PORT = 55432
MODULE = "arizu.ops.pg_activity"
LONG_SQL = "SELECT pg_sleep(600)"


class Server(ScratchPostgres):
    port = PORT

    def module_args(self, **args):
        base = {"login_host": "127.0.0.1", "login_port": PORT, "login_user": "postgres",
                "login_password": "{{ pg_password }}", "login_db": "postgres"}
        base.update(args)
        return base


class Sessions:
    """Test sessions; everything is closed at the end."""

    def __init__(self, server):
        self.server = server
        self.conns = []
        self.stop = threading.Event()
        self.threads = []
        self.short_errors = []
        self.short_pids = []

    def long(self, count, application_name="it-long"):
        pids = []
        for _index in range(count):
            conn = psycopg2.connect(async_=1, application_name=application_name, **self.server.kwargs)
            wait_async(conn)
            conn.cursor().execute(LONG_SQL)  # asynchronous: returns at once, the statement keeps running
            self.conns.append(conn)
            pids.append(conn.get_backend_pid())
        return pids

    def idle_in_transaction(self, application_name="it-idle-tx"):
        conn = self.server.connect(application_name)
        with conn.cursor() as cur:
            cur.execute("SELECT 1")  # opens a transaction and leaves it open
        self.conns.append(conn)
        return conn.get_backend_pid()

    def idle(self, application_name="it-idle"):
        conn = self.server.connect(application_name)
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute("SELECT 1")
        self.conns.append(conn)
        return conn.get_backend_pid()

    def short(self, count, application_name="it-short"):
        """Sessions that keep running short statements: always young, never selected."""
        ready = threading.Barrier(count + 1)
        lock = threading.Lock()

        def loop():
            conn = self.server.connect(application_name)
            conn.autocommit = True
            with lock:
                self.short_pids.append(conn.get_backend_pid())
            ready.wait()
            try:
                with conn.cursor() as cur:
                    while not self.stop.is_set():
                        cur.execute("SELECT pg_sleep(0.1)")
            except Exception as exc:  # pylint: disable=broad-except
                self.short_errors.append(repr(exc))
            finally:
                conn.close()

        for _index in range(count):
            thread = threading.Thread(target=loop, daemon=True)
            thread.start()
            self.threads.append(thread)
        ready.wait()
        return list(self.short_pids)

    def close(self):
        self.stop.set()
        for thread in self.threads:
            thread.join(10)
        # a closed client does not stop its pg_sleep on the server: end what the test left behind
        self.server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s "
                          "AND application_name <> 'it-observer' AND usename = current_user", ("it-%",))
        for conn in self.conns:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass


@pytest.fixture(scope="module")
def server():
    password = "pgA-" + secrets.token_hex(12)
    start_container(NAME, IMAGE, {"POSTGRES_PASSWORD": password}, PORT, 5432,
                    args=["postgres", "-c", "max_connections=300", "-c", "log_connections=on"])
    try:
        srv = Server(password)
        wait_for(lambda: srv.query("SELECT 1"), 120, "PostgreSQL in " + NAME)
        srv.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield srv
    finally:
        remove_container(NAME)


@pytest.fixture()
def sessions(server):
    sess = Sessions(server)
    yield sess
    sess.close()


def _run(server, tmp_path, check=False, **args):
    result, rc, output = run_module(MODULE, server.module_args(**args), tmp_path,
                                    secrets={"pg_password": server.password}, check=check)
    assert server.password not in output, "the password appears in the module output"
    return result, rc, output


def _signal_statements(server):
    """{function: (calls, rows)} of the signalling statements recorded by pg_stat_statements."""
    rows = server.query(
        "SELECT query, calls, rows FROM pg_stat_statements "
        "WHERE query LIKE %s AND query NOT LIKE %s",
        ("%unnest(%", "%pg_stat_statements%"))
    found = {}
    for query, calls, nrows in rows:
        for function in ("pg_cancel_backend", "pg_terminate_backend"):
            if function in query:
                old = found.get(function, (0, 0))
                found[function] = (old[0] + calls, old[1] + nrows)
    return found


def _module_connections(server):
    return container_logs(NAME).count("application_name=arizu.ops.pg_activity")


def _autovacuum_launcher(server):
    rows = server.query("SELECT pid FROM pg_stat_activity WHERE backend_type = 'autovacuum launcher'")
    assert len(rows) == 1, rows
    return rows[0][0]


def test_report_check_and_terminate(server, sessions, tmp_path):
    long_pids = sessions.long(20)
    idle_tx_pid = sessions.idle_in_transaction()
    idle_pid = sessions.idle()
    wait_for(lambda: server.query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'it-long' AND state = 'active' "
        "AND query = %s", (LONG_SQL,))[0][0] == 20, 30, "20 active pg_sleep sessions")
    time.sleep(2.5)  # older than older_than=2s
    short_pids = sessions.short(5)
    launcher = _autovacuum_launcher(server)
    expected = set(long_pids) | {idle_tx_pid}

    # check mode: lists the 21 long ones, ends nothing
    result, rc, output = _run(server, tmp_path, check=True, older_than="2s", action="terminate")
    assert rc == 0, output
    assert result["changed"] is True
    assert result["would_end"] == 21 and result["ended"] == 0
    assert {s["pid"] for s in result["sessions"]} == expected
    assert all(s["outcome"] == "would_end" for s in result["sessions"])
    by_pid = {s["pid"]: s for s in result["sessions"]}
    assert by_pid[idle_tx_pid]["state"] == "idle in transaction"
    assert by_pid[idle_tx_pid]["application"] == "it-idle-tx"
    assert by_pid[long_pids[0]]["query"] == "SELECT pg_sleep(?)"  # literals redacted by default
    assert by_pid[long_pids[0]]["user"] == "postgres" and by_pid[long_pids[0]]["database"] == "postgres"
    assert all(s["duration"] >= 2.0 for s in result["sessions"])
    assert result["msg"].startswith("would terminate 21 sessions older than 2s")
    assert server.alive(expected | set(short_pids) | {idle_pid}) == expected | set(short_pids) | {idle_pid}

    # with older_than 0, every active client backend is listed, but never the module's own session
    # nor a background process
    result, rc, output = _run(server, tmp_path, check=True, older_than="0", states=["active"],
                              action="terminate", redact_literals=False, query_max_length=12)
    assert rc == 0, output
    listed = {s["pid"] for s in result["sessions"]}
    assert set(long_pids) <= listed and idle_tx_pid not in listed
    assert not any(s["application"] == "arizu.ops.pg_activity" for s in result["sessions"])
    assert launcher not in listed
    assert by_pid and all(len(s["query"] or "") <= 12 for s in result["sessions"])
    assert any(s["query"] == "SELECT pg_sl" for s in result["sessions"])
    assert server.alive(expected) == expected

    # the real run terminates exactly those 21, in one statement, over one connection
    server.query("SELECT pg_stat_statements_reset()")
    connections_before = _module_connections(server)
    result, rc, output = _run(server, tmp_path, older_than="2s", action="terminate")
    assert rc == 0, output
    assert result["changed"] is True
    assert result["ended"] == 21 and result["terminated"] == 21
    assert {s["pid"] for s in result["sessions"]} == expected
    assert all(s["outcome"] == "terminated" for s in result["sessions"])
    assert result["msg"].startswith("terminated 21 of 21 sessions older than 2s")
    assert _signal_statements(server) == {"pg_terminate_backend": (1, 21)}
    assert _module_connections(server) - connections_before == 1
    wait_for(lambda: not server.alive(expected), 15, "the 21 sessions to end")
    assert server.alive(set(short_pids) | {idle_pid}) == set(short_pids) | {idle_pid}
    assert _autovacuum_launcher(server) == launcher
    assert not sessions.short_errors

    # nothing left to do: not changed
    result, rc, output = _run(server, tmp_path, older_than="2s", action="terminate")
    assert rc == 0, output
    assert result["changed"] is False and result["ended"] == 0 and result["sessions"] == []


def test_two_hundred_sessions_one_call(server, sessions, tmp_path):
    pids = sessions.long(200, application_name="it-many")
    wait_for(lambda: server.query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'it-many' AND state = 'active'")[0][0]
        == 200, 60, "200 active sessions")
    time.sleep(1.2)
    server.query("SELECT pg_stat_statements_reset()")
    connections_before = _module_connections(server)
    started = time.monotonic()
    result, rc, output = _run(server, tmp_path, older_than="1s", action="terminate",
                              include_databases=["postgres"], exclude_applications=["it-observer"])
    elapsed = time.monotonic() - started
    assert rc == 0, output
    assert result["ended"] == 200, result["msg"]
    assert {s["pid"] for s in result["sessions"]} == set(pids)
    assert _signal_statements(server) == {"pg_terminate_backend": (1, 200)}
    assert _module_connections(server) - connections_before == 1
    wait_for(lambda: not server.alive(pids), 30, "the 200 sessions to end")
    assert elapsed < 60, f"one module call took {elapsed:.1f} s"


def test_cancel_then_terminate(server, sessions, tmp_path):
    long_pids = sessions.long(5, application_name="it-ctt")
    idle_tx_pid = sessions.idle_in_transaction(application_name="it-ctt-tx")
    wait_for(lambda: server.query(
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'it-ctt' AND state = 'active'")[0][0]
        == 5, 30, "5 active sessions")
    time.sleep(1.2)
    server.query("SELECT pg_stat_statements_reset()")
    result, rc, output = _run(server, tmp_path, older_than="1s", action="cancel_then_terminate", grace_period=1,
                              exclude_applications=["it-observer"], include_databases=["post*"])
    assert rc == 0, output
    assert result["changed"] is True
    outcomes = {s["pid"]: s["outcome"] for s in result["sessions"]}
    # the statements were cancelled (their sessions live on); the idle transaction had nothing to
    # cancel and was terminated after the grace period
    expected = {pid: "cancelled" for pid in long_pids}
    expected[idle_tx_pid] = "terminated"
    assert outcomes == expected
    assert result["ended"] == 6 and result["cancelled"] == 6 and result["terminated"] == 1
    # one statement each; the second one re-checks all 6 cancelled sessions (one row each) and
    # signals only the one still doing the same thing
    assert _signal_statements(server) == {"pg_cancel_backend": (1, 6), "pg_terminate_backend": (1, 6)}
    wait_for(lambda: idle_tx_pid not in server.alive([idle_tx_pid]), 15, "the idle transaction to end")
    assert server.alive(long_pids) == set(long_pids)
    rows = server.query("SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active'",
                        (long_pids,))
    assert rows[0][0] == 0


def test_errors_are_clear_and_never_show_the_password(server, tmp_path):
    wrong = "wrongPw-" + secrets.token_hex(6)
    result, rc, output = run_module(MODULE, {"login_host": "127.0.0.1", "login_port": PORT,
                                             "login_password": "{{ pw }}"}, tmp_path, secrets={"pw": wrong})
    assert rc != 0 and "FAILED!" in output
    assert "cannot connect to PostgreSQL as postgres@127.0.0.1:55432" in result["msg"]
    assert "password authentication failed" in result["msg"]
    assert wrong not in output and "Traceback" not in output

    dsn = "postgresql://postgres:%s@127.0.0.1:%d/postgres?sslmode=disable" % (server.password, PORT)
    result, rc, output = run_module(MODULE, {"dsn": "{{ dsn }}", "older_than": "1h"}, tmp_path,
                                    secrets={"dsn": dsn})
    assert rc == 0, output
    assert result["sessions"] == [] and result["changed"] is False
    assert server.password not in output

    result, rc, output = run_module(MODULE, {"dsn": "{{ dsn }}", "older_than": "1h"}, tmp_path,
                                    secrets={"dsn": "host=127.0.0.1 password=" + wrong + " bogus"})
    assert rc != 0 and "dsn: not a valid libpq connection string" in result["msg"]
    assert wrong not in output

    result, rc, output = _run(server, tmp_path, older_than="5 minutes")
    assert rc != 0 and result["msg"].startswith("older_than: cannot parse '5 minutes'")


def test_sessions_it_may_not_signal_never_abort_the_rest(server, sessions, tmp_path):
    """A non-superuser operator (pg_signal_backend + pg_read_all_stats) may end an application
    role's sessions but not a superuser's: those are reported as permission_denied, the others
    are terminated by the same single statement."""
    ops_password = "opsPw-" + secrets.token_hex(8)
    app_password = "appPw-" + secrets.token_hex(8)
    server.query("DROP ROLE IF EXISTS it_ops")
    server.query("DROP ROLE IF EXISTS it_app")
    server.query("CREATE ROLE it_ops LOGIN PASSWORD %s IN ROLE pg_signal_backend, pg_read_all_stats",
                 (ops_password,))
    server.query("CREATE ROLE it_app LOGIN PASSWORD %s", (app_password,))
    app = Server(app_password)
    app.kwargs["user"] = "it_app"
    app_sessions = Sessions(app)
    try:
        app_pids = app_sessions.long(3, application_name="it-app")
        super_pids = sessions.long(2, application_name="it-super")
        wait_for(lambda: server.query(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name IN ('it-app', 'it-super') "
            "AND state = 'active'")[0][0] == 5, 30, "5 active sessions")
        time.sleep(1.2)
        server.query("SELECT pg_stat_statements_reset()")
        args = {"login_host": "127.0.0.1", "login_port": PORT, "login_user": "it_ops",
                "login_password": "{{ ops_password }}", "login_db": "postgres", "older_than": "1s",
                "action": "terminate", "include_databases": ["postgres"]}
        result, rc, output = run_module(MODULE, args, tmp_path, secrets={"ops_password": ops_password})
        assert rc == 0, output
        assert ops_password not in output
        outcomes = {s["pid"]: s["outcome"] for s in result["sessions"]}
        expected = {pid: "terminated" for pid in app_pids}
        expected.update({pid: "permission_denied" for pid in super_pids})
        assert outcomes == expected
        assert result["ended"] == 3 and result["changed"] is True
        assert "2 not allowed to signal (permission denied)" in result["msg"]
        assert _signal_statements(server) == {"pg_terminate_backend": (1, 5)}
        wait_for(lambda: not server.alive(app_pids), 15, "the application sessions to end")
        assert server.alive(super_pids) == set(super_pids)
    finally:
        app_sessions.close()
