# SPDX-License-Identifier: GPL-3.0-or-later
"""The rulebook extensions/eda/rulebooks/arizu_remediation.yml with ansible-rulebook against a real n8n.

One throwaway n8n (scratch-eda-n8n, arizu-local/n8n:1.123.81 with its default
SQLite database, on 127.0.0.1:56378) and ansible-rulebook running the
collection's rulebook (``-r arizu.ops.arizu_remediation``) with a 2 s poll and
an inventory of localhost (docker_hosts) that points the restart playbook at
the scratch container. The app's endpoint is a local http.server answering
healthy, so the triage rule stays quiet here (its rule is unit-tested through
the source's severity).

1. n8n stopped (docker stop): the rulebook restarts it (playbooks/restart_service.yml)
   within 60 s of the stop; the container is running and ready again.
2. n8n flapping (stopped and started twice, each time down long enough for the
   rule to match again) within the 10-minute throttle window: no second restart.

The restarts are counted twice: the restart play's runs in ansible-rulebook's
output and the evidence folders the restart role writes. ansible-rulebook is
killed (its process group) in ``finally``; the whole test is bounded to 3 minutes.
Without Docker or Java the test fails; it is never skipped.
"""
from __future__ import annotations

import http.server
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from scratch import COLLECTIONS_ROOT, VENV_BIN, _tool, ensure_collection_link, python_interpreter, \
    require_docker  # noqa: E402  pylint: disable=wrong-import-position
from playbook_run import remove_scratch, start_scratch  # noqa: E402  pylint: disable=wrong-import-position

NAME = "scratch-eda-n8n"
IMAGE = "arizu-local/n8n:1.123.81"
N8N_PORT = 56378
INTERVAL = 2
DOWN_POLLS = 3
TEST_BUDGET_S = 180
RESTART_PLAY = "PLAY [Restart an Arizu service with health verification]"
TRIAGE_PLAY = "PLAY [Triage the Arizu stack]"
ENCRYPTION_KEY = "eda-n8n-key-" + secrets.token_hex(12)


def _ready(port=N8N_PORT):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz/readiness", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _running(name=NAME):
    proc = subprocess.run(["docker", "inspect", "-f", "{{.State.Running}}", name], capture_output=True, text=True,
                          check=False, timeout=30)
    return proc.stdout.strip() == "true"


def _docker(*args):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=60)
    assert proc.returncode == 0, proc.stderr


class _HealthyApp(http.server.BaseHTTPRequestHandler):
    """The app's health endpoint, healthy: this test is about n8n."""

    def do_GET(self):  # noqa: N802  (http.server's name)
        body = json.dumps({"status": "healthy", "version": "1.0.0",
                           "components": {"db": "up", "redis": "up", "n8n": "up",
                                          "llm": {"status": "up", "active": "anthropic"}}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Rulebook:
    """ansible-rulebook in its own process group, its output in a file."""

    def __init__(self, tmp_path, app_url):
        ensure_collection_link()
        self.tmp_path = tmp_path
        self.log = tmp_path / "rulebook.log"
        self.evidence = tmp_path / "evidence"
        host = {
            "ansible_connection": "local",
            "ansible_python_interpreter": python_interpreter(),
            # restart_service.yml -> roles/service_restart: the scratch container and its URL
            "n8n_container_name": NAME,
            "arizu_n8n_url": f"http://127.0.0.1:{N8N_PORT}",
            "service_restart_timeout": 90,
            "service_restart_evidence_dir": str(self.evidence),
            # triage.yml (should it run): this test's app, no external status pages, reports in tmp
            "arizu_app_url": app_url,
            "triage_externals": [],
            "triage_report_dir": str(tmp_path / "reports"),
        }
        inventory = tmp_path / "inventory.yml"
        inventory.write_text(json.dumps({"all": {"children": {"docker_hosts": {"hosts": {"localhost": host}}}}}))
        inventory.chmod(0o600)
        variables = tmp_path / "eda-vars.yml"
        variables.write_text(json.dumps({
            "arizu_app_url": app_url, "arizu_n8n_url": f"http://127.0.0.1:{N8N_PORT}",
            "arizu_eda_interval": INTERVAL, "arizu_eda_timeout": 1.5, "arizu_eda_down_polls": DOWN_POLLS}))
        cfg = tmp_path / "ansible.cfg"
        cfg.write_text("[defaults]\nretry_files_enabled = False\ninterpreter_python = auto_silent\n")
        self.argv = [_tool("ansible-rulebook"), "-r", "arizu.ops.arizu_remediation", "-i", str(inventory),
                     "--vars", str(variables), "--print-events"]
        self.env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                        ANSIBLE_CONFIG=str(cfg), ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT),
                        ANSIBLE_FORCE_COLOR="0", NO_COLOR="1", ANSIBLE_NOCOLOR="1",
                        ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"))
        self.proc = None
        self._out = None

    def start(self):
        self._out = open(self.log, "w")  # pylint: disable=consider-using-with
        self.proc = subprocess.Popen(self.argv, stdout=self._out, stderr=subprocess.STDOUT, cwd=str(self.tmp_path),
                                     env=self.env, start_new_session=True)

    def output(self):
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)
            except ProcessLookupError:
                pass
        else:
            # the leader is gone; end what it may have left in its group (a playbook run)
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._out.close()

    # --- counting -------------------------------------------------------------------
    def restart_runs(self):
        """Runs of the restart play in the output (a failed run's output, which ansible-rulebook logs again
        after ``run_playbook - ERROR -``, counts once)."""
        return sum(1 for again in re.findall(r"(ERROR - \n)?" + re.escape(RESTART_PLAY), self.output()) if not again)

    def restart_folders(self):
        if not self.evidence.exists():
            return []
        return sorted(p.name for p in self.evidence.iterdir() if p.is_dir() and p.name.endswith("-n8n-localhost"))

    def n8n_failure_counts(self):
        """consecutive_failures of every printed n8n event, in order."""
        counts = []
        for match in re.finditer(r"'arizu_health': \{(.*?)'version'", self.output(), re.S):
            block = match.group(1)
            if "'kind': 'n8n'" in block:
                found = re.search(r"'consecutive_failures': (\d+)", block)
                if found:
                    counts.append(int(found.group(1)))
        return counts


def _wait(check, timeout, what, rulebook, deadline):
    end = min(time.monotonic() + timeout, deadline)
    while time.monotonic() < end:
        if not rulebook.alive():
            pytest.fail(f"ansible-rulebook ended (rc={rulebook.proc.returncode}) while waiting for {what}:\n"
                        f"{rulebook.output()[-5000:]}")
        value = check()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}:\n{rulebook.output()[-5000:]}")


@pytest.fixture
def n8n():
    require_docker()
    remove_scratch(NAME)
    try:
        start_scratch(NAME, IMAGE, {"N8N_ENCRYPTION_KEY": ENCRYPTION_KEY, "N8N_SECURE_COOKIE": "false",
                                    "N8N_HOST": "127.0.0.1", "GENERIC_TIMEZONE": "UTC", "TZ": "UTC"},
                      N8N_PORT, 5678)
        yield NAME
    finally:
        remove_scratch(NAME)


@pytest.fixture
def app_url():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _HealthyApp)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_rulebook_restarts_stopped_n8n_once_and_ignores_flapping(n8n, app_url, tmp_path):
    started = time.monotonic()
    deadline = started + TEST_BUDGET_S
    rulebook = Rulebook(tmp_path, app_url)
    try:
        # n8n ready first: its first start (SQLite migrations) takes longer than N polls, and the rule
        # would rightly restart a starting n8n that does not answer (see docs/eda.md)
        end = min(time.monotonic() + 120, deadline)
        while not _ready() and time.monotonic() < end:
            time.sleep(0.5)
        assert _ready(), "scratch n8n never became ready"
        print(f"scratch n8n ready after {time.monotonic() - started:.1f} s")
        rulebook.start()
        # the counter must be back at 0 (n8n seen ready) before the fault: the start is not the fault
        _wait(lambda: rulebook.n8n_failure_counts()[-1:] == [0], 60, "a poll that sees n8n ready", rulebook,
              deadline)
        assert rulebook.restart_runs() == 0, "a restart before any fault:\n" + rulebook.output()[-3000:]

        # --- 1. n8n stopped: restarted within 60 s --------------------------------------------
        events_before = len(rulebook.n8n_failure_counts())
        _docker("stop", NAME)
        stopped_at = time.monotonic()
        _wait(lambda: rulebook.restart_runs() >= 1, 60, "the restart playbook to start", rulebook, deadline)
        _wait(lambda: _running() and _ready(), 60 - (time.monotonic() - stopped_at),
              "n8n running and ready again within 60 s of the stop", rulebook, deadline)
        recovered_s = time.monotonic() - stopped_at
        _wait(lambda: "PLAY RECAP" in rulebook.output(), 60, "the restart playbook to finish", rulebook, deadline)
        counts = rulebook.n8n_failure_counts()[events_before:]
        assert DOWN_POLLS in counts, counts  # the rule's condition: N consecutive failed polls
        assert len(rulebook.restart_folders()) == 1, rulebook.restart_folders()
        recap = rulebook.output().split("PLAY RECAP", 1)[1][:400]
        assert re.search(r"failed=0", recap), recap
        print(f"n8n stopped -> running and ready again after {recovered_s:.1f} s "
              f"(poll {INTERVAL} s, {DOWN_POLLS} polls)")
        assert recovered_s < 60

        # --- 2. flapping inside the throttle window: no second restart ------------------------
        for flap in (1, 2):
            _wait(lambda: rulebook.n8n_failure_counts()[-1:] == [0], 60, "n8n seen ready before flap %d" % flap,
                  rulebook, deadline)
            seen = len(rulebook.n8n_failure_counts())
            _docker("stop", NAME)
            # down long enough for the rule's condition to hold again
            _wait(lambda: DOWN_POLLS in rulebook.n8n_failure_counts()[seen:], 30,
                  "%d failed polls in flap %d" % (DOWN_POLLS, flap), rulebook, deadline)
            _docker("start", NAME)
        _wait(lambda: _ready() and rulebook.n8n_failure_counts()[-1:] == [0], 60, "n8n ready after flapping",
              rulebook, deadline)
        time.sleep(INTERVAL)
        output = rulebook.output()
        assert rulebook.restart_runs() == 1, output[-4000:]
        assert len(rulebook.restart_folders()) == 1, rulebook.restart_folders()
        assert TRIAGE_PLAY not in output  # the app stayed healthy: severity none
        assert ENCRYPTION_KEY not in output
        assert time.monotonic() - started < TEST_BUDGET_S
    finally:
        rulebook.stop()
        assert rulebook.proc is None or rulebook.proc.poll() is not None


def test_rulebook_names_a_bad_argument(tmp_path):
    """A bad variable stops ansible-rulebook at once, with the argument named (no poll, no playbook)."""
    ensure_collection_link()
    variables = tmp_path / "bad-vars.yml"
    variables.write_text(json.dumps({"arizu_eda_down_polls": 0, "arizu_n8n_url": f"http://127.0.0.1:{N8N_PORT}",
                                     "arizu_app_url": "http://127.0.0.1:56377"}))
    inventory = tmp_path / "inventory.yml"
    inventory.write_text(json.dumps({"all": {"hosts": {"localhost": {"ansible_connection": "local"}}}}))
    env = dict(os.environ, PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS_ROOT), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-local"))
    proc = subprocess.run([_tool("ansible-rulebook"), "-r", "arizu.ops.arizu_remediation", "-i", str(inventory),
                           "--vars", str(variables)], capture_output=True, text=True, check=False, timeout=120,
                          cwd=str(tmp_path), env=env)
    output = proc.stdout + proc.stderr
    assert proc.returncode != 0, output[-3000:]
    assert "failure_threshold: must be at least 1, got 0" in output, output[-3000:]
    assert "PLAY [" not in output
