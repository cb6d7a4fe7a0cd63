# SPDX-License-Identifier: GPL-3.0-or-later
"""Helpers of the module integration tests: throwaway containers and ad-hoc module runs.

A test that needs a container calls :func:`require_docker` first: without a
working Docker engine the test FAILS (it is never skipped silently).
Containers are named ``scratch-*``, published on 127.0.0.1 only, and removed
by the caller's fixture teardown.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS_ROOT = ROOT / ".state" / "collections"
VENV_BIN = ROOT / ".venv" / "bin"


def _tool(name):
    candidate = VENV_BIN / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        pytest.fail(f"{name} not found (neither in {VENV_BIN} nor on PATH)")
    return found


def python_interpreter():
    candidate = VENV_BIN / "python"
    return str(candidate) if candidate.exists() else sys.executable


def require_docker():
    """Fail (not skip) unless a Docker engine answers."""
    docker = shutil.which("docker")
    if not docker:
        pytest.fail("docker CLI not found: this integration test needs a Docker engine (it is not skipped)")
    proc = subprocess.run([docker, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                          check=False, timeout=60)
    if proc.returncode != 0:
        pytest.fail("the Docker engine does not answer (docker info failed): %s" % proc.stderr.strip()[-500:])
    return docker


def remove_container(name):
    assert name.startswith("scratch-"), name
    subprocess.run(["docker", "rm", "-f", "-v", name], capture_output=True, text=True, check=False, timeout=120)


def start_container(name, image, env, host_port, container_port, args=()):
    """Start *image* as *name* on 127.0.0.1:host_port (a leftover of the same name is removed first).

    Environment values are handed to ``docker run`` through the environment of
    the docker CLI (``-e NAME`` without a value), never on its command line.
    """
    assert name.startswith("scratch-"), name
    require_docker()
    remove_container(name)
    argv = ["docker", "run", "-d", "--name", name, "-p", f"127.0.0.1:{host_port}:{container_port}"]
    for key in env:
        argv += ["-e", key]
    argv.append(image)
    argv += list(args)
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=300,
                          env=dict(os.environ, **env))
    if proc.returncode != 0:
        pytest.fail(f"cannot start {name} from {image}: {proc.stderr.strip()[-1000:]}")
    return proc.stdout.strip()


def container_logs(name):
    proc = subprocess.run(["docker", "logs", name], capture_output=True, text=True, check=False, timeout=60)
    return proc.stdout + proc.stderr


def wait_async(conn):
    """Wait until an asynchronous psycopg2 connection or query is done."""
    import psycopg2.extensions  # pylint: disable=import-outside-toplevel
    import select  # pylint: disable=import-outside-toplevel
    while True:
        state = conn.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        if state == psycopg2.extensions.POLL_WRITE:
            select.select([], [conn.fileno()], [], 10)
        elif state == psycopg2.extensions.POLL_READ:
            select.select([conn.fileno()], [], [], 10)


class ScratchPostgres:
    """A throwaway PostgreSQL published on 127.0.0.1:<port> (set by the subclass), as its superuser."""

    port = None

    def __init__(self, password):
        self.password = password
        self.kwargs = dict(host="127.0.0.1", port=self.port, user="postgres", password=password, dbname="postgres",
                           connect_timeout=5)

    def connect(self, application_name, **extra):
        import psycopg2  # pylint: disable=import-outside-toplevel
        return psycopg2.connect(application_name=application_name, **dict(self.kwargs, **extra))

    def query(self, sql, args=None, dbname="postgres"):
        conn = self.connect("it-observer", dbname=dbname)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute(sql, args)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()

    def alive(self, pids):
        rows = self.query("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (list(pids),))
        return {row[0] for row in rows}


def wait_for(check, timeout, what):
    """Call *check* until it returns a true value (returned) or *timeout* seconds pass (fail)."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            value = check()
            if value:
                return value
        except Exception as exc:  # pylint: disable=broad-except
            last = exc
        time.sleep(0.3)
    pytest.fail(f"timed out after {timeout} s waiting for {what} (last error: {last!r})")


def ensure_collection_link():
    link = COLLECTIONS_ROOT / "ansible_collections" / "arizu" / "ops"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(os.path.join("..", "..", "..", ".."))


def run_module(module, args, tmp_path, secrets=None, check=False, timeout=300):
    """Run ``ansible localhost -m <module>`` and return (result dict, rc, stdout+stderr).

    *args* may refer to ``{{ secret_name }}`` variables given in *secrets*; they
    reach ansible through a 0600 vars file, not its command line.
    """
    ensure_collection_link()
    cfg = tmp_path / "ansible.cfg"
    cfg.write_text("[defaults]\nretry_files_enabled = False\n")
    argv = [_tool("ansible"), "localhost", "-m", module, "-a", json.dumps(args),
            "-e", f"ansible_python_interpreter={python_interpreter()}"]
    if secrets:
        vars_file = tmp_path / "secrets.json"
        vars_file.write_text(json.dumps(secrets))
        vars_file.chmod(0o600)
        argv += ["-e", f"@{vars_file}"]
    if check:
        argv.append("--check")
    env = dict(os.environ, ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
               ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1",
               ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"))
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=timeout, env=env,
                          cwd=str(tmp_path))
    output = proc.stdout + proc.stderr
    marker = proc.stdout.find("=> {")
    if marker < 0:
        pytest.fail(f"no module result in the output of {module} (rc={proc.returncode}):\n{output[-4000:]}")
    result, _end = json.JSONDecoder().raw_decode(proc.stdout[marker + 3:])
    return result, proc.returncode, output
