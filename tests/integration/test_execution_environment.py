# SPDX-License-Identifier: GPL-3.0-or-later
"""The execution environment's build context: `scripts/build-ee.sh create` (ansible-builder 3) makes a
Containerfile that installs ansible-core (the controller's version), arizu.ops from the tarball it carries,
galaxy.yml's collection dependencies with the same ranges, and every Python package the plugins import.
No registry is reachable here, so the image itself is not built (README: "Execution environment")."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
# import name -> the requirement that provides it
PIP_NAMES = {"psycopg2": "psycopg2-binary", "redis": "redis", "docker": "docker", "requests": "requests",
             "yaml": "pyyaml"}


@pytest.fixture(scope="module")
def context(tmp_path_factory):
    out = tmp_path_factory.mktemp("ee") / "context"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}")
    proc = subprocess.run([str(ROOT / "scripts" / "build-ee.sh"), "create", str(out)], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def requirement_names(path):
    names = set()
    for line in Path(path).read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            names.add(line.split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower())
    return names


def third_party_imports():
    found = set()
    for path in (ROOT / "plugins").rglob("*.py"):
        tree = ast.parse(path.read_text())
        # a fallback in "except ImportError:" (Python 2 names) is not a requirement
        fallbacks = {id(n) for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) for n in ast.walk(h)}
        for node in ast.walk(tree):
            if id(node) in fallbacks:
                continue
            if isinstance(node, ast.Import):
                found |= {a.name.split(".")[0] for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
    return {name for name in found if name not in sys.stdlib_module_names
            and name not in ("ansible", "ansible_collections", "__future__")}


def test_containerfile_installs_core_collections_and_python_packages(context):
    containerfile = (context / "Containerfile").read_text()
    core = subprocess.run([str(Path(sys.executable).parent / "ansible"), "--version"], capture_output=True,
                          text=True, check=True).stdout.split("core ")[1].split("]")[0]
    assert f"ansible-core=={core}" in containerfile, "the EE's ansible-core differs from the controller's"
    assert "ansible-runner==" in containerfile
    assert "ansible-galaxy collection install" in containerfile and "-r requirements.yml" in containerfile
    assert "introspect.py introspect" in containerfile  # Python requirements of every collection, then installed
    assert "COPY _build /build" in containerfile


def test_collections_are_arizu_ops_and_galaxy_dependencies(context):
    galaxy = yaml.safe_load((ROOT / "galaxy.yml").read_text())
    wanted = dict(galaxy["dependencies"])
    listed = yaml.safe_load((context / "_build" / "requirements.yml").read_text())["collections"]
    by_name = {c["name"]: c for c in listed}
    (ours,) = [c for c in listed if c.get("type") == "file"]
    for name, version in wanted.items():
        assert name in by_name, f"{name} (galaxy.yml dependency) is not in the EE"
        assert by_name[name]["version"] == version, f"{name}: the EE's range differs from galaxy.yml's"
    assert set(by_name) == set(wanted) | {ours["name"]}

    tarball = context / "_build" / ours["name"]
    with tarfile.open(tarball) as tar:
        manifest = json.load(tar.extractfile("MANIFEST.json"))["collection_info"]
        files = set(tar.getnames())
    assert (manifest["namespace"], manifest["name"], manifest["version"]) == ("arizu", "ops", galaxy["version"])
    assert manifest["dependencies"] == wanted
    assert {"plugins/modules/health_check.py", "meta/execution-environment.yml", "meta/ee-requirements.txt",
            "playbooks/site.yml", "roles/postgresql/tasks/main.yml"} <= files
    assert not [f for f in files if f.startswith((".state", ".venv", ".git/", "images/"))]


def test_python_requirements_cover_what_the_plugins_import(context):
    built = requirement_names(context / "_build" / "requirements.txt")
    ours = requirement_names(ROOT / "meta" / "ee-requirements.txt")
    assert ours <= built
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text())
    assert meta["dependencies"]["python"] == "meta/ee-requirements.txt"
    imports = third_party_imports()
    assert {"psycopg2", "redis"} <= imports, imports
    missing = sorted(i for i in imports if PIP_NAMES.get(i, i) not in built)
    assert not missing, f"the plugins import {missing}, which the EE does not install"
    assert {"docker", "psycopg2-binary", "redis", "requests"} <= built
