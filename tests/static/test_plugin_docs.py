# SPDX-License-Identifier: GPL-3.0-or-later
"""ansible-doc renders the documentation of every plugin in the collection."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# every plugin type the collection has (plugins/<type>/), so a new lookup or test plugin is covered too
NOT_PLUGINS = ("module_utils", "doc_fragments", "plugin_utils")
PLUGINS = [
    ("module" if folder.name == "modules" else folder.name, path.stem)
    for folder in sorted(p for p in (ROOT / "plugins").iterdir() if p.is_dir() and p.name not in NOT_PLUGINS)
    for path in sorted(folder.glob("*.py"))
    if path.stem != "__init__"
]


def test_every_plugin_type_is_covered():
    kinds = {kind for kind, _name in PLUGINS}
    assert {"module", "filter", "callback"} <= kinds, kinds


@pytest.mark.parametrize("kind, name", PLUGINS, ids=[f"{k}:{n}" for k, n in PLUGINS])
def test_ansible_doc_renders(kind, name):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".state" / "collections"), ANSIBLE_NOCOLOR="1")
    proc = subprocess.run(["ansible-doc", "-t", kind, f"arizu.ops.{name}"], capture_output=True, text=True,
                          env=env, check=False)
    assert proc.returncode == 0 and "[ERROR]" not in proc.stderr, proc.stderr[-2000:]
    assert f"arizu.ops.{name}" in proc.stdout
    assert "EXAMPLES" in proc.stdout or kind == "callback"
