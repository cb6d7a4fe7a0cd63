# SPDX-License-Identifier: GPL-3.0-or-later
"""Ending 200 long-running sessions: arizu.ops.pg_activity against the runbook's raw SQL through psql.

Both run in the same process run, on the same throwaway PostgreSQL container
(image arizu-local/postgres:15, max_connections=300, 127.0.0.1 only), on the
same kind of 200 sessions running ``pg_sleep(600)``:

  raw:      psql -c "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                     WHERE state = 'active' AND query_start < now() - interval '...'"
            (the runbook's statement; its wall time including psql's connect)
  module:   ansible-playbook playbooks/pg_kill_long_queries.yml -e pg_kill_action=terminate
            -e pg_kill_confirm=true; the pg_activity task's own duration, from the
            arizu.ops.incident_timeline callback, and the playbook's wall time.

Prints every round, the medians and the ratio module task / raw psql
(goal: at most 5), and the playbook's wall time (goal: within 5 s of its start).
The password reaches psql through PGPASSWORD and ansible through a 0600 vars file.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import select
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg2
import psycopg2.extensions

ROOT = Path(__file__).resolve().parents[1]
NAME = "arizu-bench-pg"
IMAGE = os.environ.get("BENCH_PG_IMAGE", "arizu-local/postgres:15")
PORT = int(os.environ.get("BENCH_PG_PORT", "55950"))
SESSIONS = int(os.environ.get("SESSIONS", "200"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
AGE_S = 2  # sessions older than this are "long"; the runbook's 5 minutes scaled down
RAW_SQL = ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
           f"WHERE state = 'active' AND query_start < now() - interval '{AGE_S} seconds'")


def wait_async(conn):
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        if state == psycopg2.extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], 10)
        else:
            select.select([conn.fileno()], [], [], 10)


class Server:
    def __init__(self):
        self.password = "bench-" + secrets.token_hex(12)
        subprocess.run(["docker", "rm", "-f", "-v", NAME], capture_output=True, check=False)
        subprocess.run(["docker", "run", "-d", "--name", NAME, "--label", "arizu.ops=1", "-e", "POSTGRES_PASSWORD",
                        "-p", f"127.0.0.1:{PORT}:5432", IMAGE, "postgres", "-c", "max_connections=300"],
                       check=True, capture_output=True, env=dict(os.environ, POSTGRES_PASSWORD=self.password))
        deadline = time.monotonic() + 120
        while True:
            try:
                self.scalar("SELECT 1")
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def connect(self, **extra):
        return psycopg2.connect(host="127.0.0.1", port=PORT, user="postgres", password=self.password,
                                dbname="postgres", **extra)

    def scalar(self, sql):
        conn = self.connect()
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchone()[0]
        finally:
            conn.close()

    def remove(self):
        subprocess.run(["docker", "rm", "-f", "-v", NAME], capture_output=True, check=False)


def start_sessions(server, count):
    """*count* asynchronous connections, each running pg_sleep(600); returns them once all run."""
    conns = []
    for _ in range(count):
        conn = server.connect(async_=True, application_name="bench-long")
        conns.append(conn)
    for conn in conns:
        wait_async(conn)
        conn.cursor().execute("SELECT pg_sleep(600)")
    deadline = time.monotonic() + 60
    sql = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)' AND state = 'active'"
    while server.scalar(sql) < count:
        if time.monotonic() > deadline:
            raise RuntimeError("the sessions did not all start")
        time.sleep(0.2)
    time.sleep(AGE_S + 0.5)
    return conns


def drop_sessions(conns):
    for conn in conns:
        try:
            conn.close()
        except psycopg2.Error:
            pass


def remaining(server, settle_s=15):
    """Sessions still running pg_sleep once the signalled backends had time to exit."""
    sql = "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(600)'"
    deadline = time.monotonic() + settle_s
    left = server.scalar(sql)
    while left and time.monotonic() < deadline:
        time.sleep(0.2)
        left = server.scalar(sql)
    return left


def run_raw(server):
    env = dict(os.environ, PGPASSWORD=server.password)
    t0 = time.monotonic()
    proc = subprocess.run(["psql", "-h", "127.0.0.1", "-p", str(PORT), "-U", "postgres", "-d", "postgres",
                           "-qAt", "-c", RAW_SQL], capture_output=True, text=True, env=env, check=False)
    elapsed = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError("psql failed: " + proc.stderr[-500:])
    ended = proc.stdout.split().count("t")
    return elapsed, ended


def run_module(server, work):
    inventory = work / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"docker_hosts": {"hosts": {"localhost": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable,
        "pg_login_host": "127.0.0.1", "pg_login_port": PORT, "pg_login_user": "postgres",
        "pg_login_db": "postgres"}}}}}}))
    secret_vars = work / "secrets.json"
    secret_vars.write_text(json.dumps({"pg_login_password": server.password}))
    secret_vars.chmod(0o600)
    timeline_dir = work / "timelines"
    incident = "BENCH-%d" % time.time_ns()
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_CALLBACKS_ENABLED="arizu.ops.incident_timeline", ARIZU_INCIDENT_ID=incident,
               ARIZU_TIMELINE_DIR=str(timeline_dir))
    argv = [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", str(inventory),
            str(ROOT / "playbooks" / "pg_kill_long_queries.yml"), "-e", f"@{secret_vars}",
            "-e", "pg_kill_action=terminate", "-e", "pg_kill_confirm=true", "-e", f"pg_kill_older_than={AGE_S}s"]
    t0 = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=str(ROOT), check=False)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise RuntimeError("the playbook failed:\n" + proc.stdout[-3000:] + proc.stderr[-2000:])
    if server.password in proc.stdout + proc.stderr:
        raise RuntimeError("the password appeared in the playbook's output")
    events = json.loads((timeline_dir / incident / "timeline.json").read_text())
    tasks = [e for e in events if e.get("kind") == "task" and str(e.get("action", "")).endswith("pg_activity")]
    if len(tasks) != 1:
        raise RuntimeError("expected one pg_activity task in the timeline, found %d" % len(tasks))
    inner = None
    found = re.search(r"module time: ([0-9.]+) ms", proc.stdout)
    if found:
        inner = float(found.group(1)) / 1000.0
    return tasks[0]["duration_s"], wall, inner


def main():
    server = Server()
    raw_times, module_times, walls, inner_times = [], [], [], []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-pg-kill-") as tmp:
            work = Path(tmp)
            for rnd in range(1, ROUNDS + 1):
                conns = start_sessions(server, SESSIONS)
                raw, raw_ended = run_raw(server)
                left_raw = remaining(server)
                drop_sessions(conns)
                conns = start_sessions(server, SESSIONS)
                task, wall, inner = run_module(server, work)
                left_module = remaining(server)
                drop_sessions(conns)
                if raw_ended != SESSIONS or left_raw or left_module:
                    raise RuntimeError(f"round {rnd}: psql ended {raw_ended}, left {left_raw}; module left {left_module}")
                inner_times.append(inner if inner is not None else float("nan"))
                raw_times.append(raw)
                module_times.append(task)
                walls.append(wall)
                print(f"round {rnd}: {SESSIONS} sessions  raw psql {raw:6.3f} s   pg_activity task {task:6.3f} s"
                      f" (module itself {inner_times[-1]:6.3f} s)   playbook wall {wall:6.2f} s", flush=True)
    finally:
        server.remove()
    raw, task, wall = (statistics.median(x) for x in (raw_times, module_times, walls))
    ratio = task / raw if raw else float("inf")
    print(f"median: raw psql {raw:.3f} s, pg_activity task {task:.3f} s, ratio {ratio:.1f} "
          f"(goal <= 5) -> {'ok' if ratio <= 5 else 'OVER'}")
    print(f"median time inside the module (connect, read, signal all {SESSIONS}): {statistics.median(inner_times):.3f} s;"
          f" the rest of the task is Ansible's fixed cost of running any module task")
    print(f"median playbook wall time {wall:.2f} s (goal: all {SESSIONS} ended within 5 s of its start) -> "
          f"{'ok' if wall <= 5 else 'OVER'}")


if __name__ == "__main__":
    main()
