# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-lint with the production profile (.ansible-lint) finds nothing."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_ansible_lint_production_profile(tmp_path):
    # a private HOME: a copy of arizu.ops installed in ~/.ansible/collections must not shadow the tree
    env = dict(os.environ, HOME=str(tmp_path))
    proc = subprocess.run(["ansible-lint", "--nocolor"], cwd=ROOT, capture_output=True, text=True, check=False,
                          env=env)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    assert "Profile 'production' was required, and it passed" in out
