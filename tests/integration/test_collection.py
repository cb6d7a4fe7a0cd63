# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection builds into a tarball that installs, and ansible-doc shows
the module documentation from the installed copy."""
from __future__ import annotations

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(argv, **kwargs):
    proc = subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)
    assert proc.returncode == 0, f"{' '.join(argv)} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_build_install_and_doc(tmp_path):
    out = run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(ROOT)])
    tarballs = list(tmp_path.glob("arizu-ops-*.tar.gz"))
    assert len(tarballs) == 1, out

    listing = run(["tar", "tzf", str(tarballs[0])])
    names = set(listing.split())
    assert "plugins/modules/health_check.py" in names
    assert "roles/n8n/meta/argument_specs.yml" in names
    assert not any(n.startswith((".state", ".venv", "images/")) for n in names), "build_ignore leaks"

    # install as a user would: no project ansible.cfg, no link to the working tree
    dest = tmp_path / "collections"
    empty_cfg = tmp_path / "ansible.cfg"
    empty_cfg.write_text("[defaults]\n")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(dest), ANSIBLE_CONFIG=str(empty_cfg))
    run(["ansible-galaxy", "collection", "install", "--no-deps", "-p", str(dest), str(tarballs[0])],
        env=env, cwd=tmp_path)
    assert (dest / "ansible_collections" / "arizu" / "ops" / "MANIFEST.json").is_file()

    # only the installed copy (plus the bundled collections of the ansible package)
    doc = run(["ansible-doc", "arizu.ops.health_check"], env=env, cwd=tmp_path)
    assert str(dest) in doc
    for option in ("url", "timeout", "validate_certs", "headers", "detailed", "latency_slo_ms", "fail_on"):
        assert option in doc
    assert "RETURN VALUES" in doc and "components" in doc
