# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-test sanity and units pass with the pinned toolchain (ansible 12: core 2.19, Python 3.11) and with
the newest ansible-core (ansible 14: core 2.21, Python 3.13, scripts/core-latest.sh).

Each runs scripts/ansible-test.sh on a copy of the collection under .../ansible_collections/arizu/ops (what
`ansible-galaxy collection build` ships); the sanity tests are all of ansible-test's but pslint (PowerShell),
with no ignore file. On failure the assertion shows ansible-test's errors.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(command, **env):
    environ = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}", **env)
    started = time.monotonic()
    proc = subprocess.run(command, cwd=ROOT, env=environ, capture_output=True, text=True, check=False, timeout=1800)
    out = proc.stdout + proc.stderr
    print(f"{' '.join(command)}: exit {proc.returncode} in {time.monotonic() - started:.0f} s")
    errors = [line for line in out.splitlines()
              if re.match(r"(ERROR|FATAL|FAILED|E  )", line) or "Error" in line.split(":")[0]]
    summary = "\n".join(errors[-80:]) or out[-5000:]
    return proc.returncode, out, summary


@pytest.mark.parametrize("command", ["sanity", "units"])
def test_ansible_test_core_219(command):
    rc, out, summary = run([str(ROOT / "scripts" / "ansible-test.sh"), command])
    assert rc == 0, f"ansible-test {command} (core 2.19, Python 3.11) failed:\n{summary}"
    assert "ansible [core 2.19." in out
    if command == "sanity":
        assert 'Running sanity test "validate-modules"' in out and 'Running sanity test "pylint"' in out
    else:
        assert re.search(r"\b\d{3,} passed\b", out), out[-2000:]
        assert not re.search(r"\b\d+ skipped\b", out), "unit tests skipped under ansible-test:\n" + "\n".join(
            line for line in out.splitlines() if line.startswith("SKIPPED"))


@pytest.mark.parametrize("command", ["sanity", "units"])
def test_ansible_test_core_latest(command):
    rc, out, summary = run([str(ROOT / "scripts" / "core-latest.sh"), command])
    assert rc == 0, f"ansible-test {command} (newest core, Python 3.13) failed:\n{summary}"
    assert "ansible [core 2.21." in out
    if command == "sanity":
        assert 'Running sanity test "validate-modules"' in out and 'Running sanity test "pylint"' in out
    else:
        assert re.search(r"\b\d{3,} passed\b", out), out[-2000:]
        assert not re.search(r"\b\d+ skipped\b", out), "unit tests skipped under ansible-test:\n" + "\n".join(
            line for line in out.splitlines() if line.startswith("SKIPPED"))


def test_no_sanity_ignores():
    ignores = sorted((ROOT / "tests" / "sanity").glob("ignore-*.txt")) if (ROOT / "tests" / "sanity").exists() else []
    for path in ignores:
        for line in path.read_text().splitlines():
            if line.strip() and not line.startswith("#"):
                assert "#" in line, f"{path.name}: an ignore entry without its justification: {line}"
