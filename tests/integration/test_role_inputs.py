# SPDX-License-Identifier: GPL-3.0-or-later
"""Bad role input fails early with a message naming what is wrong, before any
container is touched (check mode, so nothing could change anyway)."""
from __future__ import annotations

import os
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_role(tmp_path, role, extra_vars):
    play = tmp_path / "play.yml"
    play.write_text(textwrap.dedent(f"""\
        - hosts: localhost
          gather_facts: false
          roles:
            - role: arizu.ops.{role}
        """))
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text("\n".join(f"{k}: {v!r}" for k, v in extra_vars.items()) + "\n")
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(
        ["ansible-playbook", "-i", "localhost,", "-c", "local", "--check", str(play), "-e", f"@{vars_file}"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=False,
    )
    return proc.returncode, proc.stdout + proc.stderr


def test_n8n_without_encryption_key_is_refused(tmp_path):
    rc, out = run_role(tmp_path, "n8n", {"n8n_db_password": "x-db-password"})
    assert rc != 0
    assert "n8n_encryption_key" in out
    assert "x-db-password" not in out


@pytest.mark.parametrize("key", ["", "   ", "short"])
def test_n8n_with_empty_or_short_key_is_refused_with_the_reason(tmp_path, key):
    rc, out = run_role(tmp_path, "n8n", {"n8n_encryption_key": key, "n8n_db_password": "x-db-password"})
    assert rc != 0
    assert "n8n_encryption_key is empty or shorter than 16 characters" in out
    assert "never generates one" in out


@pytest.mark.parametrize("role, missing", [
    ("postgresql", "postgresql_password"),
    ("redis", "redis_password"),
    ("app", "app_image"),
])
def test_required_inputs_are_named(tmp_path, role, missing):
    rc, out = run_role(tmp_path, role, {"unrelated_var": 1})
    assert rc != 0
    assert missing in out
