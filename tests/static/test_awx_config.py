# SPDX-License-Identifier: GPL-3.0-or-later
"""The AWX configuration (playbooks/vars/awx.yml) against the playbooks it runs.

* every playbook in playbooks/ has a job template (the list comes from the folder: a new playbook without a
  template fails here);
* every survey variable is an input its playbook documents (header comment or docs page) and validates (an
  assert, a fail's condition, or a role argument spec);
* every required input - "(required" in the header, a *_confirm variable, a required role option - is asked
  by the survey, injected by one of the template's credentials, or set by the inventory AWX uses;
* destructive playbooks (a confirmation variable) are marked destructive, so they get a check-mode twin;
* templates carry the credentials whose secrets their playbook reads, and an SSH credential for remote hosts;
* the daily backup schedule, the triage workflow;
* playbooks/awx_configure.yml checks all this without AWX (awx_configure_validate_only) and refuses a
  broken configuration with a message naming each problem.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONFIG_FILE = ROOT / "playbooks" / "vars" / "awx.yml"
PLAYBOOKS = sorted(p.stem for p in (ROOT / "playbooks").glob("*.yml") if p.stem != "awx_configure")


class _Loader(yaml.SafeLoader):
    """yaml.SafeLoader that reads Ansible's !unsafe as the plain string."""


_Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))


def load(path):
    return yaml.load(Path(path).read_text(), Loader=_Loader) or {}  # noqa: S506 (a SafeLoader subclass)


CONFIG = load(CONFIG_FILE)
TEMPLATES = {t["playbook"]: t for t in CONFIG["awx_job_templates"]}
CRED_TYPES = {c["name"]: c for c in CONFIG["awx_credential_types"]}
CREDS = {c["name"]: c for c in CONFIG["awx_credentials"]}


def header(playbook):
    lines = []
    for line in (ROOT / "playbooks" / f"{playbook}.yml").read_text().splitlines()[1:]:
        if not line.startswith("#"):
            break
        lines.append(line.lstrip("# "))
    return "\n".join(lines)


def plays(playbook):
    return load(ROOT / "playbooks" / f"{playbook}.yml")


def applied_roles(playbook):
    """{role name: the vars the playbook gives it} for the collection's roles a playbook applies."""
    roles = {}
    for play in plays(playbook):
        for entry in play.get("roles") or []:
            name = entry if isinstance(entry, str) else entry.get("role") or entry.get("name")
            roles[name.split(".")[-1]] = {} if isinstance(entry, str) else entry.get("vars") or {}
        for task in walk(play.get("tasks") or []):
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role"):
                if key in task:
                    roles[task[key]["name"].split(".")[-1]] = task.get("vars") or {}
    return roles


def walk(tasks):
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        yield task
        for key in ("block", "rescue", "always"):
            yield from walk(task.get(key))


def role_tasks(role):
    for path in sorted((ROOT / "roles" / role / "tasks").glob("*.yml")):
        yield from walk(load(path))


def role_options(role):
    path = ROOT / "roles" / role / "meta" / "argument_specs.yml"
    if not path.exists():
        return {}
    options = {}
    for entry in load(path)["argument_specs"].values():
        options.update(entry.get("options") or {})
    return options


def closure_text(playbook):
    """The playbook and the tasks, defaults and argument specs of the roles it applies."""
    text = (ROOT / "playbooks" / f"{playbook}.yml").read_text()
    for role in applied_roles(playbook):
        for sub in ("tasks", "defaults", "meta"):
            for path in sorted((ROOT / "roles" / role / sub).glob("*.yml")):
                text += "\n" + path.read_text()
    return text


def mentions(text, var):
    return re.search(r"(?<![A-Za-z0-9_])%s(?![A-Za-z0-9_])" % re.escape(var), str(text)) is not None


def validated(playbook, var):
    """True when the playbook (or a role it applies) checks var: assert, fail condition or argument spec."""
    names = {var}
    for play in plays(playbook):
        names |= {k for k, v in (play.get("vars") or {}).items() if mentions(v, var)}
    tasks = [t for play in plays(playbook) for t in walk((play.get("pre_tasks") or []) + (play.get("tasks") or []))]
    for role, role_vars in applied_roles(playbook).items():
        options = role_options(role)
        if var in options:
            return True
        for option, value in role_vars.items():
            if option in options and mentions(value, var) and (options[option].get("choices")
                                                               or options[option].get("type")):
                return True
        tasks += list(role_tasks(role))
    for task in tasks:
        for module in ("ansible.builtin.assert", "assert"):
            if module in task and any(mentions(task[module].get("that"), n) for n in names):
                return True
        for module in ("ansible.builtin.fail", "fail"):
            if module in task and any(mentions(task.get("when"), n) for n in names):
                return True
    return False


def injected(template):
    out = set()
    for cred in template.get("credentials") or []:
        ctype = CRED_TYPES.get(CREDS[cred]["credential_type"])
        if ctype:
            out |= set((ctype.get("injectors") or {}).get("extra_vars") or {})
    return out


def inventory_vars():
    names = set()
    for path in (ROOT / "inventories" / "example").rglob("*.yml"):
        data = load(path)
        if path.name == "hosts.yml":
            continue
        names |= set(data)
    return names


def set_by_playbook(playbook):
    """Variables the playbook sets itself: play vars and the vars it gives the roles it applies."""
    names = set()
    for play in plays(playbook):
        names |= set(play.get("vars") or {})
    for role_vars in applied_roles(playbook).values():
        names |= set(role_vars)
    for play in plays(playbook):
        for task in walk(play.get("tasks") or []):
            names |= set(task.get("vars") or {})
    return names


def confirmations(playbook):
    return set(re.findall(r"\b([a-z][a-z0-9_]*_confirm)\b", closure_text(playbook))) - set_by_playbook(playbook)


def required_inputs(playbook):
    # "name (required...)" or "name (choices; required)" where an input is listed (line start, after ':' or ',')
    required = set(re.findall(r"(?:^|[:,])\s*([a-z][a-z0-9_]*)\s*\((?:[^()]*[;:,]\s*)?required\b", header(playbook),
                              re.MULTILINE))
    required |= confirmations(playbook)
    for role, role_vars in applied_roles(playbook).items():
        required |= {k for k, spec in role_options(role).items() if spec.get("required") and k not in role_vars}
    return required


def test_every_playbook_has_a_job_template():
    assert PLAYBOOKS, "no playbooks found"
    missing = sorted(set(PLAYBOOKS) - set(TEMPLATES))
    assert not missing, f"playbooks without a job template in {CONFIG_FILE.name}: {missing}"
    unknown = sorted(set(TEMPLATES) - set(PLAYBOOKS))
    assert not unknown, f"job templates for playbooks that do not exist: {unknown}"


SURVEY = [(t["playbook"], q["variable"]) for t in CONFIG["awx_job_templates"] for q in t.get("survey") or []]


@pytest.mark.parametrize("playbook, var", SURVEY, ids=[f"{p}:{v}" for p, v in SURVEY])
def test_survey_variable_is_a_documented_and_validated_input(playbook, var):
    doc = ROOT / "docs" / "playbooks" / f"{playbook}.md"
    documented = mentions(header(playbook), var) or (doc.exists() and f"`{var}`" in doc.read_text())
    assert documented, f"{var} is neither in the header of playbooks/{playbook}.yml nor in {doc.name}"
    assert validated(playbook, var), (f"playbooks/{playbook}.yml does not validate {var} (no assert, fail "
                                      "condition or role argument spec uses it)")


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_required_inputs_are_asked_injected_or_in_the_inventory(playbook):
    template = TEMPLATES.get(playbook)
    if template is None:
        pytest.fail(f"playbooks/{playbook}.yml has no job template")
    asked = {q["variable"] for q in template.get("survey") or []}
    provided = asked | injected(template) | inventory_vars()
    missing = sorted(required_inputs(playbook) - provided)
    assert not missing, f"{playbook}: required inputs neither asked, injected nor in the inventory: {missing}"


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_confirmations_make_a_template_destructive(playbook):
    template = TEMPLATES.get(playbook) or pytest.fail(f"playbooks/{playbook}.yml has no job template")
    confirms = confirmations(playbook)
    questions = {q["variable"]: q for q in template.get("survey") or []}
    if confirms:
        assert template.get("destructive") is True, f"{playbook} needs {sorted(confirms)}: mark it destructive"
    for var in confirms:
        assert var in questions, f"{playbook}: the confirmation {var} has no survey question"
        assert questions[var].get("confirmation") is True and questions[var].get("required") is True, \
            f"{playbook}: {var} must be a required question marked confirmation: true"


@pytest.mark.parametrize("playbook", PLAYBOOKS)
def test_templates_carry_the_credentials_their_playbook_reads(playbook):
    template = TEMPLATES.get(playbook) or pytest.fail(f"playbooks/{playbook}.yml has no job template")
    text = closure_text(playbook)
    have = {CREDS[c]["credential_type"] for c in template.get("credentials") or []}
    for name, ctype in CRED_TYPES.items():
        used = [v for v in (ctype["injectors"].get("extra_vars") or {}) if mentions(text, v)]
        if used:
            assert name in have, f"{playbook} reads {used} but its template has no {name} credential"
    remote = any(play.get("hosts") not in ("localhost", "127.0.0.1") for play in plays(playbook))
    assert ("Machine" in have) == remote, f"{playbook}: an SSH credential exactly when it runs on remote hosts"


def test_credential_types_inject_what_the_playbooks_read():
    every = "\n".join(closure_text(p) for p in PLAYBOOKS)
    for ctype in CRED_TYPES.values():
        for var in ctype["injectors"]["extra_vars"]:
            assert mentions(every, var), f"{ctype['name']} injects {var}, which no playbook reads"
    for secret in ("postgresql_password", "redis_password", "n8n_encryption_key"):
        assert any(secret in c["injectors"]["extra_vars"] for c in CRED_TYPES.values()), secret


def test_daily_backup_at_two_utc():
    schedules = [s for s in CONFIG["awx_schedules"] if s["playbook"] in ("backup_postgres", "full_backup")]
    assert schedules, "no backup schedule"
    rrule = schedules[0]["rrule"]
    assert re.fullmatch(r"DTSTART;TZID=UTC:\d{8}T020000 RRULE:FREQ=DAILY;INTERVAL=1", rrule), rrule


def test_workflow_triage_restart_n8n_triage_again():
    (workflow,) = [w for w in CONFIG["awx_workflows"] if "triage" in w["name"].lower()]
    nodes = {n["identifier"]: n for n in workflow["nodes"]}
    first = nodes["triage"]
    assert first["playbook"] == "triage" and first["extra_data"].get("triage_fail_on")
    (restart,) = [nodes[i] for i in first["failure_nodes"]]
    assert restart["playbook"] == "restart_service" and restart["extra_data"] == {"service": "n8n"}
    (again,) = [nodes[i] for i in restart.get("always_nodes") or restart.get("success_nodes")]
    assert again["playbook"] == "triage"


def run_configure(tmp_path, *args):
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_COLLECTIONS_PATH=str(ROOT / ".state" / "collections"), HOME=str(tmp_path))
    playbook_bin = str(Path(sys.executable).parent / "ansible-playbook")  # the venv's, whatever PATH says
    return subprocess.run([playbook_bin, "playbooks/awx_configure.yml", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=300)


def test_syntax_check(tmp_path):
    proc = run_configure(tmp_path, "--syntax-check")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def test_validate_only_renders_without_awx(tmp_path):
    out = tmp_path / "render"
    out.mkdir()
    proc = run_configure(tmp_path, "-e", "awx_configure_validate_only=true", "-e", f"awx_configure_render_dir={out}")
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-3000:]
    assert "awx.awx" not in proc.stdout  # stopped before the first AWX task
    objects = json.loads((out / "awx-objects.json").read_text())
    by_name = {t["name"]: t for t in objects["job_templates"]}
    for item in CONFIG["awx_job_templates"]:
        name = CONFIG["awx_name_prefix"] + item["playbook"]
        run = by_name[name]
        assert run["job_type"] == "run" and run["playbook"] == f"playbooks/{item['playbook']}.yml"
        asked = [q["variable"] for q in (run["survey_spec"] or {}).get("spec", [])]
        assert asked == [q["variable"] for q in item.get("survey") or []]
        assert run["survey_enabled"] == bool(asked)
        dry = by_name.get(name + " (dry run)")
        if item.get("destructive"):
            assert dry and dry["job_type"] == "check" and dry["playbook"] == run["playbook"], name
            dry_asked = [q["variable"] for q in (dry["survey_spec"] or {}).get("spec", [])]
            assert dry_asked == [q["variable"] for q in item.get("survey") or [] if not q.get("confirmation")]
        else:
            assert dry is None, name
    # injectors stay AWX templates, credentials hold variable names, never values
    pg = [c for c in objects["credential_types"] if c["name"] == "Arizu PostgreSQL"][0]
    assert pg["injectors"]["extra_vars"]["postgresql_password"] == "{{ password }}"
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", v) for c in objects["credentials"] for v in c["secret_inputs"].values())
    assert objects["schedules"][0]["unified_job_template"] == CONFIG["awx_name_prefix"] + "backup_postgres"


def test_validate_only_refuses_a_broken_configuration(tmp_path):
    broken = load(CONFIG_FILE)
    broken["awx_job_templates"] = [t for t in broken["awx_job_templates"] if t["playbook"] != "triage"]
    broken["awx_job_templates"][0]["survey"] = [{"variable": "x", "question": "?", "type": "multiplechoice",
                                                 "choices": ["a"], "default": "b"}]
    broken["awx_schedules"][0]["rrule"] = "every day at 2"
    for cred_type in broken["awx_credential_types"]:
        for key, value in cred_type["injectors"]["extra_vars"].items():
            cred_type["injectors"]["extra_vars"][key] = "{% raw %}" + value + "{% endraw %}"
    path = tmp_path / "awx.yml"
    path.write_text(yaml.safe_dump(broken))
    proc = run_configure(tmp_path, "-e", "awx_configure_validate_only=true", "-e", f"awx_configure_config_file={path}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0, out[-3000:]
    for expected in ("playbooks/triage.yml has no job template",
                     "default 'b' is not one of the choices a",
                     "rrule 'every day at 2' is not",
                     "node triage: no job template for playbook 'triage'"):
        assert expected in out, out[-4000:]
    assert "Traceback" not in out
