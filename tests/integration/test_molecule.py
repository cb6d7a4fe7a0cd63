# SPDX-License-Identifier: GPL-3.0-or-later
"""Run each Molecule scenario against the real Docker engine.

Each scenario's full output goes to .state/logs/molecule-<scenario>.log; a
failure shows its last lines.
"""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / ".state" / "logs"

SCENARIOS = ["default", "managed_host", "triage", "remediation"]


@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario):
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    log = LOG_DIR / f"molecule-{scenario}.log"
    env = dict(os.environ, ANSIBLE_FORCE_COLOR="0", PY_COLORS="0", NO_COLOR="1")
    started = time.monotonic()
    with log.open("w") as fh:
        proc = subprocess.run(
            ["molecule", "test", "-s", scenario],
            cwd=ROOT, env=env, stdout=fh, stderr=subprocess.STDOUT, check=False,
        )
    elapsed = time.monotonic() - started
    text = log.read_text(errors="replace")
    tail = "\n".join(text.splitlines()[-60:])
    print(f"molecule {scenario}: rc={proc.returncode} in {elapsed:.0f} s (log: {log})")
    assert proc.returncode == 0, f"molecule test -s {scenario} failed (rc={proc.returncode}):\n{tail}"
