# SPDX-License-Identifier: GPL-3.0-or-later
"""Every role variable is documented: each default has an argument spec and a
README row, and every argument spec option is in the README."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "tasks").is_dir())


def load(path):
    return yaml.safe_load(path.read_text()) or {}


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_documented(role):
    base = ROOT / "roles" / role
    defaults = load(base / "defaults" / "main.yml")
    specs = load(base / "meta" / "argument_specs.yml")["argument_specs"]
    options = {}
    for entry in specs.values():
        options.update(entry.get("options") or {})
    readme = (base / "README.md").read_text()

    assert not set(defaults) - set(options), "defaults without an argument spec"
    for name, spec in options.items():
        assert f"`{name}`" in readme, f"{name} is not in roles/{role}/README.md"
        assert spec.get("description"), f"{name} has no description"
        assert name.startswith(role + "_") or role == "docker_common", f"{name} is not role-prefixed"
        if not spec.get("required"):
            assert name in defaults, f"optional {name} has no default in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES)
def test_secret_options_are_no_log(role):
    specs = load(ROOT / "roles" / role / "meta" / "argument_specs.yml")["argument_specs"]
    for entry in specs.values():
        for name, spec in (entry.get("options") or {}).items():
            if any(word in name for word in ("password", "encryption_key", "secret")):
                assert spec.get("no_log") is True, f"{name} must be no_log"
