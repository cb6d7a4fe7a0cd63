# SPDX-License-Identifier: GPL-3.0-or-later
"""The changelog: `antsibull-changelog lint` passes, every fragment is in changelogs/changelog.yaml (run
scripts/changelog.sh after adding one), and CHANGELOG.md is what antsibull-changelog generates from it."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def test_antsibull_changelog_lint():
    proc = subprocess.run([str(BIN / "antsibull-changelog"), "lint"], cwd=ROOT, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0 and not proc.stdout.strip(), proc.stdout + proc.stderr


def test_every_fragment_is_released():
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    changes = yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text())
    assert version in changes["releases"], f"no release {version} in changelogs/changelog.yaml"
    recorded = set(changes["releases"][version].get("fragments") or [])
    fragments = {p.name for p in (ROOT / "changelogs" / "fragments").glob("*.y*ml")}
    assert fragments, "no fragments"
    missing = sorted(fragments - recorded)
    assert not missing, f"fragments not in changelogs/changelog.yaml (run scripts/changelog.sh): {missing}"


def test_changelog_md_is_generated(tmp_path):
    shutil.copy(ROOT / "galaxy.yml", tmp_path)
    (tmp_path / "changelogs").mkdir()
    for name in ("config.yaml", "changelog.yaml"):
        shutil.copy(ROOT / "changelogs" / name, tmp_path / "changelogs")
    env = dict(os.environ, PATH=f"{BIN}:{os.environ['PATH']}")
    proc = subprocess.run([str(BIN / "antsibull-changelog"), "generate"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / "CHANGELOG.md").read_text() == (ROOT / "CHANGELOG.md").read_text(), \
        "CHANGELOG.md is not what antsibull-changelog generates from changelogs/changelog.yaml (scripts/changelog.sh)"
