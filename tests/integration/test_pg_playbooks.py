# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/pg_kill_long_queries.yml and playbooks/pg_diagnostics.yml against a real PostgreSQL 15.

One throwaway container (scratch-pgplay on 127.0.0.1:55710, pg_stat_statements
preloaded by the image); each playbook runs with ansible-playbook against an
inventory of localhost whose variables point at it. The assertions read the
play's output, as an operator would. Without Docker the tests fail; they are
never skipped. The last test restarts the server without the preloaded
library, so it stays last.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import subprocess
import sys
import threading
import time

import psycopg2
import psycopg2.extensions
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import ScratchPostgres, wait_async, wait_for  # noqa: E402  pylint: disable=wrong-import-position
from playbook_run import remove_scratch, run_playbook, start_scratch  # noqa: E402  pylint: disable=wrong-import-position

NAME = "scratch-pgplay"
IMAGE = "arizu-local/postgres:15"
PORT = 55710
SLEEP_SQL = "SELECT pg_sleep(600)"
POOL = {"size": 10, "in_use": 3, "idle": 7, "max": 10, "waiting": 1}


class Server(ScratchPostgres):
    port = PORT

    def host_vars(self, **extra):
        base = {"pg_login_port": PORT, "postgresql_user": "postgres", "postgresql_db": "postgres",
                "postgresql_password": self.password, "arizu_app_url": "http://127.0.0.1:1"}
        base.update(extra)
        return base


class Sessions:
    """Sessions of a test, all ended and closed at its end."""

    def __init__(self, server):
        self.server = server
        self.conns = []

    def start_async(self, sql, application_name):
        conn = psycopg2.connect(async_=1, application_name=application_name, **self.server.kwargs)
        wait_async(conn)
        conn.cursor().execute(sql)  # asynchronous: returns at once, the statement keeps running
        self.conns.append(conn)
        return conn.get_backend_pid()

    def sleepers(self, count):
        return [self.start_async(SLEEP_SQL, "it-sleep") for _index in range(count)]

    def holder(self, sql):
        """A session that ran *sql* in a transaction it leaves open (idle in transaction)."""
        conn = self.server.connect("it-holder")
        with conn.cursor() as cur:
            cur.execute(sql)
        self.conns.append(conn)
        return conn.get_backend_pid()

    def close(self):
        self.server.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name LIKE %s "
                          "AND application_name <> 'it-observer'", ("it-%",))
        for conn in self.conns:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass


@pytest.fixture(scope="module")
def server():
    password = "pgP-" + secrets.token_hex(12)
    try:
        start_scratch(NAME, IMAGE, {"POSTGRES_PASSWORD": password}, PORT, 5432)
        srv = Server(password)
        wait_for(lambda: srv.query("SELECT 1"), 120, "PostgreSQL in " + NAME)
        srv.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        yield srv
    finally:
        remove_scratch(NAME)


@pytest.fixture()
def sessions(server):
    sess = Sessions(server)
    yield sess
    sess.close()


class _Health(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802  pylint: disable=invalid-name
        body = {"status": "healthy", "version": "1.0.0", "components": {"db": "up", "redis": "up"}}
        if "detailed=true" in self.path:
            body["details"] = {"db": {"status": "up", "latency_ms": 1.2, "pool": POOL}}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *_args):
        pass


@pytest.fixture()
def app_url():
    """A stand-in for the app's /api/health?detailed=true with known pool figures."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield "http://127.0.0.1:%d" % httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()


def _play(server, playbook, tmp_path, host_vars=None, extra_vars=None, check=False):
    rc, output = run_playbook(playbook, tmp_path, server.host_vars(**(host_vars or {})), extra_vars=extra_vars,
                              check=check)
    assert server.password not in output, "the password appears in the playbook output"
    return rc, output


def _wait_active(server, pids, older_than=1.5):
    wait_for(lambda: server.query(
        "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(%s) AND state = 'active' "
        "AND now() - query_start > make_interval(secs => %s)", (list(pids), older_than))[0][0] == len(pids),
        30, "%d active sessions older than %ss" % (len(pids), older_than))


def _table_pids(output):
    """The pids of the session table rows."""
    return {int(m.group(1)) for m in re.finditer(r"^\s+(\d+)\s+postgres\s+it-sleep\s", output, re.M)}


# ---------------------------------------------------------------- pg_kill_long_queries.yml

def test_kill_reports_by_default_and_refuses_without_confirm(server, sessions, tmp_path):
    pids = sessions.sleepers(3)
    _wait_active(server, pids)

    # the default: report only, sessions older than 5 minutes (these are seconds old)
    rc, output = _play(server, "pg_kill_long_queries.yml", tmp_path)
    assert rc == 0, output
    assert "0 sessions older than 5m" in output
    assert "ended: 0 (report)" in output

    for extra in ({"pg_kill_action": "terminate"}, {"pg_kill_action": "terminate", "pg_kill_confirm": False},
                  {"pg_kill_action": "cancel_then_terminate", "pg_kill_confirm": "no"}):
        rc, output = _play(server, "pg_kill_long_queries.yml", tmp_path,
                           extra_vars=dict(extra, pg_kill_older_than="1s"))
        assert rc != 0, output
        assert "Refusing to %s sessions without confirmation" % extra["pg_kill_action"].replace("_", " ") in output
        assert "pg_kill_confirm=true" in output
        assert "Find the sessions" not in output  # refused before connecting
    assert server.alive(pids) == set(pids)

    rc, output = _play(server, "pg_kill_long_queries.yml", tmp_path,
                       extra_vars={"pg_kill_action": "drop", "pg_kill_confirm": True})
    assert rc != 0 and "pg_kill_action must be one of report, cancel, terminate, cancel_then_terminate" in output


def test_kill_check_mode_lists_and_ends_nothing(server, sessions, tmp_path):
    pids = sessions.sleepers(3)
    _wait_active(server, pids)
    rc, output = _play(server, "pg_kill_long_queries.yml", tmp_path, check=True,
                       extra_vars={"pg_kill_action": "terminate", "pg_kill_older_than": "1s"})
    assert rc == 0, output
    assert "would terminate 3 sessions older than 1s" in output
    assert _table_pids(output) == set(pids)
    assert re.search(r"^\s+pid\s+user\s+app\s+state\s+duration\s+outcome\s+query$", output, re.M), output
    assert re.search(r"^\s+%d\s+postgres\s+it-sleep\s+active\s+\d+\.\d s\s+would_end\s+SELECT pg_sleep\(\?\)$"
                     % pids[0], output, re.M), output
    assert "would end: 3 (check mode, nothing ended)" in output
    assert server.alive(pids) == set(pids)


def test_kill_with_confirm_terminates_them(server, sessions, tmp_path):
    pids = sessions.sleepers(4)
    _wait_active(server, pids)
    started = time.monotonic()
    rc, output = _play(server, "pg_kill_long_queries.yml", tmp_path,
                       extra_vars={"pg_kill_action": "terminate", "pg_kill_confirm": True,
                                   "pg_kill_older_than": "1s"})
    elapsed = time.monotonic() - started
    assert rc == 0, output
    assert "terminated 4 of 4 sessions older than 1s" in output
    assert "ended: 4 (terminate)" in output
    assert _table_pids(output) == set(pids)
    assert len(re.findall(r"\s+terminated\s+SELECT pg_sleep\(\?\)$", output, re.M)) == 4, output
    wait_for(lambda: not server.alive(pids), 10, "the terminated sessions to disappear")
    print("pg_kill_long_queries.yml, 4 sessions terminated: %.1f s" % elapsed)


# ---------------------------------------------------------------- pg_diagnostics.yml

def test_diagnostics_without_pg_stat_statements_in_the_database(server, tmp_path):
    server.query("DROP DATABASE IF EXISTS fresh")
    server.query("CREATE DATABASE fresh")
    rc, output = _play(server, "pg_diagnostics.yml", tmp_path, host_vars={"pg_login_db": "fresh"},
                       extra_vars={"pg_diag_app_health": False})
    assert rc == 0, output
    assert ("pg_stat_statements is not created in database fresh: run CREATE EXTENSION pg_stat_statements; "
            "in fresh (as a superuser)") in output
    assert "top statements:\n" in output
    assert "no _prisma_migrations table" in output
    assert "app pool: not probed" in output
    assert "blocking locks:\n          none" in output


def test_diagnostics_blocking_top_statements_migrations_and_pool(server, sessions, tmp_path, app_url):
    server.query("DROP TABLE IF EXISTS it_accounts, _prisma_migrations")
    server.query("CREATE TABLE it_accounts (id int PRIMARY KEY, v int NOT NULL)")
    server.query("INSERT INTO it_accounts SELECT g, 0 FROM generate_series(1, 100) g")
    # Prisma's own DDL for its migrations table
    server.query('CREATE TABLE "_prisma_migrations" ("id" VARCHAR(36) PRIMARY KEY NOT NULL, '
                 '"checksum" VARCHAR(64) NOT NULL, "finished_at" TIMESTAMPTZ, "migration_name" VARCHAR(255) NOT NULL, '
                 '"logs" TEXT, "rolled_back_at" TIMESTAMPTZ, "started_at" TIMESTAMPTZ NOT NULL DEFAULT now(), '
                 '"applied_steps_count" INTEGER NOT NULL DEFAULT 0)')
    server.query("INSERT INTO _prisma_migrations VALUES "
                 "('m1', 'c1', now() - interval '2 days', '20250101120000_init', NULL, NULL, "
                 "now() - interval '2 days' - interval '2 seconds', 1), "
                 "('m2', 'c2', NULL, '20250301090000_add_ledger', 'Error: P3018 relation already exists', NULL, "
                 "now() - interval '1 hour', 0)")
    server.query("SELECT pg_stat_statements_reset()")
    conn = server.connect("it-workload")
    conn.autocommit = True
    with conn.cursor() as cur:
        for i in range(200):
            cur.execute("SELECT sum(v) FROM it_accounts WHERE id > %s", (i % 50,))
    conn.close()

    holder = sessions.holder("UPDATE it_accounts SET v = v + 1 WHERE id = 7")
    waiter = sessions.start_async("UPDATE it_accounts SET v = 42 WHERE id = 7", "it-waiter")
    wait_for(lambda: server.query("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s",
                                  (waiter,))[0][0] == "Lock", 20, "the waiter to wait for the row lock")
    time.sleep(1.1)

    rc, output = _play(server, "pg_diagnostics.yml", tmp_path, host_vars={"arizu_app_url": app_url},
                       extra_vars={"pg_diag_top": 20})
    assert rc == 0, output
    # connections against max_connections, by state and by application
    assert re.search(r"connections: \d+ of max_connections 100 \(\d+\.\d%\), \d+ available", output), output
    assert re.search(r"^\s+it-holder\s+1\s+\(idle in transaction 1\)$", output, re.M), output
    assert re.search(r"^\s+it-waiter\s+1\s+\(active 1\)$", output, re.M), output
    # who blocks whom, for how long
    blocked = re.search(r"pid %d \(postgres, it-waiter\) waits (\d+\.\d) s for ShareLock on transactionid: "
                        r"UPDATE it_accounts SET v = \? WHERE id = \?" % waiter, output)
    assert blocked and float(blocked.group(1)) >= 1.0, output
    assert re.search(r"blocked by pid %d \(postgres, it-holder, idle in transaction, transaction open "
                     r"\d+\.\d s\): UPDATE it_accounts SET v = v \+ \? WHERE id = \?" % holder, output), output
    assert re.search(r"- pid %d \(postgres, idle in transaction, transaction open \d+\.\d s\) blocks pid %d; "
                     r"longest wait" % (holder, waiter), output), output
    # the top statements, from the view's own columns (PostgreSQL 15: total_exec_time), never our own
    assert "top statements by total_exec_time:" in output
    assert re.search(r"^\s+200\s+\d+\.\d\s+\d+\.\d{3}\s+SELECT sum\(v\) FROM it_accounts WHERE id > \$1$",
                     output, re.M), output
    assert "arizu.ops.pg_diagnose" not in output
    # the migrations, newest first, and the failed one as an issue
    assert "migrations: public._prisma_migrations, 2 rows, newest first" in output
    lines = [line.strip() for line in output.splitlines()]
    newest = [i for i, line in enumerate(lines) if line.startswith("20250301090000_add_ledger")]
    oldest = [i for i, line in enumerate(lines) if line.startswith("20250101120000_init")]
    assert newest and oldest and newest[0] < oldest[0], output
    assert re.search(r"20250301090000_add_ledger\s+failed\s+started \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, finished -",
                     output), output
    assert re.search(r"20250101120000_init\s+applied\s+started", output), output
    assert "- migration 20250301090000_add_ledger started at" in output
    # the app's pool figures from its detailed health
    assert "app pool: size 10, in_use 3, idle 7, max 10, waiting 1" in output

    # the summary line and the registered fact agree
    assert re.search(r"PostgreSQL 15\.\d+ postgres: \d+ of 100 connections \(\d+\.\d%\), 1 blocked session, "
                     r"\d+ top statements, 2 migrations, 2 issues", output), output


def test_diagnostics_when_not_preloaded(server, tmp_path):
    """Last: the server is restarted without pg_stat_statements in shared_preload_libraries."""
    server.query("ALTER SYSTEM SET shared_preload_libraries = 'auto_explain'")  # any library but ours
    proc = subprocess.run(["docker", "restart", NAME], capture_output=True, text=True, check=False, timeout=120)
    assert proc.returncode == 0, proc.stderr
    wait_for(lambda: server.query("SELECT 1"), 120, "PostgreSQL in %s after the restart" % NAME)
    assert server.query("SHOW shared_preload_libraries") == [("auto_explain",)]

    rc, output = _play(server, "pg_diagnostics.yml", tmp_path, extra_vars={"pg_diag_app_health": False})
    assert rc == 0, output
    assert ("pg_stat_statements is created in database postgres but not preloaded: add it to "
            "shared_preload_libraries") in output
    assert "and restart PostgreSQL" in output
