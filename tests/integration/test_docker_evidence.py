# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.docker_evidence against the real Docker engine.

Two throwaway containers (``scratch-evidence-a``: Redis with a seeded password
and its health check; ``scratch-evidence-b``: a shell printing lines, one of
them a DSN with the seeded password) are inspected through
``ansible localhost -m arizu.ops.docker_evidence``. The seeded secret must not
appear anywhere in the output. Without a working Docker engine the test fails
(it is not skipped). The containers are removed afterwards.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".state" / "collections"
NAME_A = "scratch-evidence-a"
NAME_B = "scratch-evidence-b"
REDIS_IMAGE = "arizu-local/redis:7"
BASE_IMAGE = "arizu-local/base:bookworm"

CORE = secrets.token_hex(8)
SECRET = f"Ev{CORE}/+@x"               # '/', '+' and '@' change when URL-encoded
EXTRA = f"ticket-{secrets.token_hex(6)}"  # masked through the redact option
NEEDLES = {
    "secret": SECRET,
    "secret (URL-encoded)": quote(SECRET, safe=""),
    "secret (form-encoded)": quote_plus(SECRET, safe=""),
    "secret (core)": CORE,
    "redact string": EXTRA,
}


def hide(text):
    """Text safe to show in a failure message."""
    for value in sorted(NEEDLES.values(), key=len, reverse=True):
        text = text.replace(value, "<SEEDED>")
    return text


def docker(*args, check=True, timeout=120):
    proc = subprocess.run(["docker", *args], capture_output=True, text=True, check=False, timeout=timeout)
    if check and proc.returncode != 0:
        pytest.fail(f"docker {hide(' '.join(args))} failed (rc={proc.returncode}): {hide(proc.stderr.strip())}")
    return proc


def remove_scratch():
    subprocess.run(["docker", "rm", "-f", "-v", NAME_A, NAME_B], capture_output=True, check=False, timeout=120)


def ensure_collection_link():
    link = COLLECTIONS / "ansible_collections" / "arizu" / "ops"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink():
            link.unlink()
        link.symlink_to(Path("..") / ".." / ".." / "..")


@pytest.fixture
def scratch_containers():
    if shutil.which("docker") is None:
        pytest.fail("the docker CLI is not installed; this test needs a Docker engine (make engine)")
    version = subprocess.run(["docker", "version", "--format", "{{.Server.APIVersion}}"],
                             capture_output=True, text=True, check=False, timeout=60)
    if version.returncode != 0:
        pytest.fail(f"no Docker engine answers (make engine): {version.stderr.strip()}")
    for image in (REDIS_IMAGE, BASE_IMAGE):
        if docker("image", "inspect", image, check=False).returncode != 0:
            pytest.fail(f"local image {image} is missing (make images)")

    remove_scratch()
    try:
        docker("run", "-d", "--name", NAME_A, "-e", f"REDIS_PASSWORD={SECRET}",
               "--health-interval", "1s", REDIS_IMAGE)   # the image's own HEALTHCHECK, checked every second
        script = (
            'echo line-1; '
            f'echo "dsn postgresql://u:{SECRET}@h/db"; '
            'echo "pw $DB_PASSWORD"; '
            f'echo "enc {quote(SECRET, safe="")}"; '
            f'echo "{EXTRA} opened"; '
            'echo err >&2; '
            'sleep 300'
        )
        docker("run", "-d", "--name", NAME_B, "-e", f"DB_PASSWORD={SECRET}", BASE_IMAGE, "sh", "-c", script)

        deadline = time.monotonic() + 90
        health = logs_ready = None
        while time.monotonic() < deadline:
            health = docker("inspect", "-f", "{{.State.Health.Status}}", NAME_A).stdout.strip()
            logs_ready = "err" in docker("logs", NAME_B).stderr
            if health == "healthy" and logs_ready:
                break
            time.sleep(0.5)
        else:
            pytest.fail(f"{NAME_A} health {health!r}, {NAME_B} logs complete: {logs_ready} after 90 s")
        yield
    finally:
        remove_scratch()


def run_module(args, *extra):
    ensure_collection_link()
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_LOAD_CALLBACK_PLUGINS="1", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    ansible = Path(sys.executable).with_name("ansible")
    argv = [str(ansible) if ansible.exists() else "ansible", "localhost", "-i", "localhost,", "-c", "local",
            "-m", "arizu.ops.docker_evidence", "-a", json.dumps(args),
            "-e", f"ansible_python_interpreter={sys.executable}", *extra]
    started = time.monotonic()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True, check=False, timeout=300)
    elapsed = time.monotonic() - started
    return proc, elapsed


def test_docker_evidence_on_real_containers(scratch_containers, tmp_path):
    missing_path = str(tmp_path / "no-such-dir")
    proc, elapsed = run_module({
        "containers": [NAME_A, NAME_B, "scratch-evidence-missing"],
        "logs_tail": 100,
        "disk_paths": ["/", missing_path],
        "redact": [EXTRA],
    })
    raw = proc.stdout + proc.stderr
    print(f"docker_evidence: rc={proc.returncode} in {elapsed:.1f} s")

    # the seeded secret (in any form) appears nowhere in the whole output
    leaked = [label for label, value in NEEDLES.items() if value in raw]
    assert not leaked, f"found in the module output: {leaked}\n{hide(raw)[-4000:]}"

    assert proc.returncode == 0, hide(raw)[-4000:]
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result.get("changed") is False, hide(json.dumps(result))[:3000]
    shown = hide(json.dumps(result, indent=1))[:6000]
    containers = result["containers"]

    a, b = containers[NAME_A], containers[NAME_B]
    assert a["exists"] is True and a["state"] == "running" and a["running"] is True, shown
    assert b["exists"] is True and b["state"] == "running" and b["running"] is True, shown
    assert a["image"] == REDIS_IMAGE and b["image"] == BASE_IMAGE, shown
    assert a["health"]["status"] == "healthy" and a["has_healthcheck"] is True, shown
    assert a["health"]["last_checks"] and a["health"]["last_checks"][-1]["exit_code"] == 0, shown
    assert b["has_healthcheck"] is False and b["health"]["status"] == "none", shown
    assert containers["scratch-evidence-missing"] == {"exists": False}, shown

    for ev in (a, b):
        assert ev["memory"]["usage_bytes"] > 0 and ev["memory"]["limit_bytes"] > 0, shown
        assert ev["memory"]["pct"] is not None and 0 <= ev["memory"]["pct"] <= 100, shown
        assert ev["uptime_seconds"] is not None and ev["uptime_seconds"] >= 0, shown
        assert len(ev["id"]) == 12, shown
        assert set(ev["labels"]) <= {k for k in ev["labels"] if k.startswith("arizu.")}, shown
        for forbidden in ("env", "Env", "Cmd", "Args", "Config"):
            assert forbidden not in ev, shown

    texts = [line.split(" ", 1)[1] if " " in line else "" for line in b["logs"]]
    assert "line-1" in texts and "err" in texts, shown
    assert "dsn postgresql://u:********@h/db" in texts, shown
    assert "pw ********" in texts and "enc ********" in texts and "******** opened" in texts, shown
    assert all(line[:4].isdigit() and "T" in line.split(" ", 1)[0] for line in b["logs"]), shown
    assert any("Ready to accept connections" in line for line in a["logs"]), shown

    root, missing = result["disk"]
    assert root["path"] == "/" and root["total_bytes"] > 0 and root["free_bytes"] > 0, shown
    assert 0 < root["used_pct"] < 100, shown
    assert missing == {"path": missing_path, "error": "No such file or directory"}, shown

    assert result["summary"][0].startswith(f"{NAME_A} running healthy mem "), shown
    assert result["summary"][1].startswith(f"{NAME_B} running no-healthcheck mem "), shown
    assert result["summary"][2] == "scratch-evidence-missing missing", shown
    assert result["stats_mode"] == "one-shot", shown

    # Same containers in check mode with two-sample stats: CPU figures, no logs.
    # (One test, not two: with pytest-xdist two tests could start the same containers twice.)
    proc, elapsed = run_module({"containers": [NAME_A, NAME_B], "cpu_sample": True}, "--check")
    raw = proc.stdout + proc.stderr
    print(f"docker_evidence --check cpu_sample: rc={proc.returncode} in {elapsed:.1f} s")
    assert not [label for label, value in NEEDLES.items() if value in raw], "seeded secret in the output"
    assert proc.returncode == 0, hide(raw)[-4000:]
    result = json.loads(proc.stdout)["plays"][0]["tasks"][0]["hosts"]["localhost"]
    assert result["stats_mode"] == "sampled"
    for name in (NAME_A, NAME_B):
        assert isinstance(result["containers"][name]["cpu_pct"], float), hide(json.dumps(result))[:3000]
        assert "logs" not in result["containers"][name]
