# SPDX-License-Identifier: GPL-3.0-or-later
"""The rulebooks in extensions/eda/rulebooks parse with ansible-rulebook's own schema and parser.

ansible-doc does not know event sources or rulebooks; this is their static check (ansible-lint validates
the rulebook schema too). Every condition is compiled as ansible-rulebook would at start-up, with and without
the optional variables, and every playbook and event source a rulebook names exists in the collection.
"""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ansible_rulebook import json_generator, rules_parser
from ansible_rulebook.conf import settings
from ansible_rulebook.util import substitute_variables
from ansible_rulebook.validators import Validate

ROOT = Path(__file__).resolve().parents[2]
RULEBOOKS = sorted((ROOT / "extensions" / "eda" / "rulebooks").glob("*.yml"))
SOURCES = ROOT / "extensions" / "eda" / "plugins" / "event_source"


@pytest.fixture(autouse=True)
def _collection_visible(monkeypatch):
    """ansible-rulebook finds the collection (its playbooks) with ansible-galaxy, as its CLI does."""
    galaxy = ROOT / ".venv" / "bin" / "ansible-galaxy"
    assert galaxy.exists(), galaxy
    monkeypatch.setattr(settings, "ansible_galaxy_path", str(galaxy))
    monkeypatch.setenv("ANSIBLE_COLLECTIONS_PATH", str(ROOT / ".state" / "collections"))


def _collection_object(name, folder, suffix):
    assert name.startswith("arizu.ops."), f"{name}: only this collection's objects are expected"
    return folder / (name[len("arizu.ops."):] + suffix)


@pytest.mark.parametrize("variables", [{}, {"arizu_eda_down_polls": 5, "arizu_eda_interval": 2,
                                            "arizu_n8n_url": "http://n8n:5678"}], ids=["defaults", "vars"])
@pytest.mark.parametrize("path", RULEBOOKS, ids=[p.name for p in RULEBOOKS])
def test_rulebook_parses(path, variables):
    data = yaml.safe_load(path.read_text())
    Validate.rulebook(data)
    rulesets = rules_parser.parse_rule_sets(data, variables)
    assert rulesets
    json_generator.generate_dict_rulesets(rulesets, variables)
    for ruleset in data:
        for source in ruleset["sources"]:
            (name, args), = ((k, v) for k, v in source.items() if k not in ("name", "filters"))
            assert _collection_object(name, SOURCES, ".py").is_file(), name
            rendered = substitute_variables(args, variables)  # as ansible-rulebook renders the arguments
            assert rendered["endpoints"]
        for rule in ruleset["rules"]:
            for action in (rule.get("actions") or [rule["action"]]):
                for kind, spec in action.items():
                    if kind == "run_playbook":
                        assert _collection_object(spec["name"], ROOT / "playbooks", ".yml").is_file(), spec["name"]


def test_remediation_rulebook_renders_its_defaults():
    data = yaml.safe_load((ROOT / "extensions" / "eda" / "rulebooks" / "arizu_remediation.yml").read_text())
    (source,) = data[0]["sources"]
    args = substitute_variables(source["arizu.ops.arizu_health"], {})
    assert (args["interval"], args["timeout"], args["failure_threshold"]) == (10, 5, 3)
    assert [e["url"] for e in args["endpoints"]] == ["http://127.0.0.1:3000/api/health", "http://127.0.0.1:5678"]
    rules = {r["name"]: r for r in data[0]["rules"]}
    for rule in rules.values():
        assert rule["throttle"]["once_within"] == "10 minutes"
        assert "event.arizu_health.name" in rule["throttle"]["group_by_attributes"]
    restart = next(r for n, r in rules.items() if n.startswith("Restart n8n"))
    assert restart["action"]["run_playbook"] == {"name": "arizu.ops.restart_service", "extra_vars": {"service": "n8n"}}
