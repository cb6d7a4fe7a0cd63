# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-doc renders the documentation of every plugin in the collection."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLUGINS = [
    (kind, path.stem)
    for kind, folder in (("module", "modules"), ("filter", "filter"), ("callback", "callback"))
    for path in sorted((ROOT / "plugins" / folder).glob("*.py"))
    if path.stem != "__init__"
]


@pytest.mark.parametrize("kind, name", PLUGINS, ids=[f"{k}:{n}" for k, n in PLUGINS])
def test_ansible_doc_renders(kind, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".state" / "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-doc", "-t", kind, f"arizu.ops.{name}"], capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0 and "[ERROR]" not in proc.stderr, proc.stderr[-2000:]
    assert f"arizu.ops.{name}" in proc.stdout
    assert "EXAMPLES" in proc.stdout or kind == "callback"
