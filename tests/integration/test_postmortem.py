# SPDX-License-Identifier: GPL-3.0-or-later
"""playbooks/postmortem.yml end to end, on localhost only (no container).

Two small playbooks run with the arizu.ops.incident_timeline callback and one
incident id, so the timeline spans both. Between them a triage report of the
incident (P1, with reasons) is written to a report folder, next to a report of
another incident whose id shares the file name prefix. Then postmortem.yml (the
callback still on, as with ``callbacks_enabled`` in ansible.cfg) drafts the
runbook's post-mortem; the Markdown must carry the runbook's headings, the
severity, both playbooks' tasks and the triage in time order, the blanks, both
checklists, and nothing of what the tasks returned.
"""
from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
COLLECTIONS = ROOT / ".state" / "collections"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
POSTMORTEM = ROOT / "playbooks" / "postmortem.yml"
INCIDENT = "TEST-PM-20261203"
# A failed task's message is kept (redacted) in the timeline; the post-mortem must never copy it.
MSG_MARKER = "MSG-MARKER-7777"

PLAYBOOK_A = textwrap.dedent("""\
    - name: Look around
      hosts: all
      gather_facts: false
      tasks:
        - name: Look at the app
          ansible.builtin.debug:
            msg: looking
        - name: Restart n8n
          ansible.builtin.command: "true"
          changed_when: true
    """)
PLAYBOOK_B = textwrap.dedent(f"""\
    - name: Repair
      hosts: all
      gather_facts: false
      tasks:
        - name: Try the quick fix
          block:
            - name: Clear the n8n queue
              ansible.builtin.command: "false"
              changed_when: false
          rescue:
            - name: Fall back to a restart
              ansible.builtin.debug:
                msg: restarting
        - name: Check the queue
          ansible.builtin.fail:
            msg: "{MSG_MARKER} queue still full"
          ignore_errors: true
    """)

HEADINGS = ["## Summary", "## Timeline", "## Root Cause Analysis", "### What Happened", "### Why It Happened",
            "## Action Items", "## Lessons Learned", "## Post-Incident Review Checklist", "### Within 24 Hours",
            "### Within 1 Week"]


def _utc(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _env(workdir, **extra):
    env = dict((k, v) for k, v in os.environ.items() if not k.startswith(("ANSIBLE_", "ARIZU_")))
    env.update({
        "ANSIBLE_CONFIG": str(workdir / "ansible.cfg"),
        "ANSIBLE_COLLECTIONS_PATH": str(COLLECTIONS),
        "ANSIBLE_LOCAL_TEMP": str(workdir / "tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "PWD": str(workdir),
    })
    env.update(extra)
    return env


def _run(workdir, playbook, env, *args):
    argv = [str(ANSIBLE_PLAYBOOK), "-i", "localhost,", "-c", "local",
            "-e", f"ansible_python_interpreter={sys.executable}", *args, str(playbook)]
    return subprocess.run(argv, cwd=str(workdir), env=env, capture_output=True, text=True, timeout=300,
                          check=False)


def _table(markdown):
    """Rows of the Timeline table as (time, event, action)."""
    section = markdown.split("## Timeline\n", 1)[1].split("\n\n", 1)[0]
    rows = []
    for line in section.splitlines()[2:]:
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        rows.append(tuple(cells))
    return rows


@pytest.fixture(scope="module")
def drafted(tmp_path_factory):
    if not (COLLECTIONS / "ansible_collections" / "arizu" / "ops").exists():
        pytest.fail("the collection link .state/collections/ansible_collections/arizu/ops is missing "
                    "(scripts/setup-venv.sh makes it)")
    workdir = tmp_path_factory.mktemp("postmortem")
    (workdir / "ansible.cfg").write_text("[defaults]\nretry_files_enabled = False\n", encoding="utf-8")
    (workdir / "a.yml").write_text(PLAYBOOK_A, encoding="utf-8")
    (workdir / "b.yml").write_text(PLAYBOOK_B, encoding="utf-8")
    timelines, reports = workdir / "incidents", workdir / "reports"
    reports.mkdir()
    recorded = _env(workdir, ANSIBLE_CALLBACKS_ENABLED="arizu.ops.incident_timeline", ARIZU_INCIDENT_ID=INCIDENT,
                    ARIZU_TIMELINE_DIR=str(timelines))
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=10)

    run_a = _run(workdir, workdir / "a.yml", recorded)
    assert run_a.returncode == 0, run_a.stdout + run_a.stderr
    time.sleep(1.1)  # the report's time has whole seconds: keep it clear of both runs
    generated = _utc(datetime.datetime.now(datetime.timezone.utc))
    report = {
        "incident_id": INCIDENT, "generated_at": generated, "started_at": _utc(started), "severity": "P1",
        "summary": "", "lines": [], "status_updates": {}, "externals": [], "recent_changes": [],
        "reasons": [
            {"rule": "n8n_down", "severity": "P1", "detail": "n8n liveness: down (HTTP 503)", "host": "docker1"},
            {"rule": "db_down", "severity": "P1", "detail": "app component db: down (connection refused)",
             "host": "docker1"},
            {"rule": "disk_high", "severity": "P2", "detail": "disk /var/lib/docker: used_pct 95 >= 90",
             "host": "docker1"},
        ],
        "hosts": {"docker1": {"severity": "P1"}},
        "escalation": {"involve": [{"role": "on_call"}, {"role": "technical_lead"}]},
    }
    (reports / f"triage-{INCIDENT}-{generated.replace(':', '')}.json").write_text(json.dumps(report, indent=2))
    decoy = dict(report, incident_id=INCIDENT + "-2", severity="P0",
                 reasons=[{"rule": "app_down", "severity": "P0", "detail": "DECOY-INCIDENT", "host": "x"}])
    (reports / f"triage-{INCIDENT}-2-{generated.replace(':', '')}.json").write_text(json.dumps(decoy))
    time.sleep(1.1)
    run_b = _run(workdir, workdir / "b.yml", recorded)
    assert run_b.returncode == 0, run_b.stdout + run_b.stderr
    timeline = json.loads((timelines / INCIDENT / "timeline.json").read_text(encoding="utf-8"))
    assert any(MSG_MARKER in str(e.get("msg", "")) for e in timeline)  # so its absence below means something

    started_at = time.monotonic()
    draft = _run(workdir, POSTMORTEM, recorded, "-e", f"postmortem_report_dir={reports}",
                 "-e", json.dumps({"postmortem_description": "n8n <down> | queue stuck"}))
    seconds = time.monotonic() - started_at
    assert draft.returncode == 0, draft.stdout + draft.stderr
    output = reports / f"postmortem-{INCIDENT}.md"
    return {"workdir": workdir, "env": recorded, "reports": reports, "output": output, "seconds": seconds,
            "markdown": output.read_text(encoding="utf-8"), "stdout": draft.stdout}


def test_the_draft_has_the_runbook_template(drafted):
    md = drafted["markdown"]
    today = md.split("\n", 1)[0]
    assert re.match(r"^# Incident Post-Mortem: \d{4}-\d{2}-\d{2} n8n &lt;down> \| queue stuck$", today), today
    positions = [md.index(h + "\n") for h in HEADINGS]
    assert positions == sorted(positions)
    assert "| Time | Event | Action Taken |" in md
    assert "- **Severity**: P1 (worst of 1 triage report(s))" in md
    assert "- **Impact**: n8n down, db down; degraded: disk high. Users affected: [TO FILL: " in md
    assert "- **Root Cause**: [TO FILL: brief technical cause]" in md
    assert "  - Triage hint: P1 n8n_down on docker1: n8n liveness: down (HTTP 503)" in md
    assert re.search(r"- \*\*Date/Time\*\*: \S+ \S+ UTC - \S+ \S+ UTC \(\d+ min \d\d s\)", md)
    for priority in ("High", "Medium", "Low"):
        assert (f"- [ ] **{priority} Priority**: [TO FILL: action] - Owner: [TO FILL: name] - Due: [TO FILL: date]"
                in md)
    assert "## Lessons Learned\n[TO FILL: what went well, what could be improved]" in md
    assert md.count("[TO FILL") >= 15


def test_the_timeline_merges_both_playbooks_and_the_triage_in_time_order(drafted):
    rows = _table(drafted["markdown"])
    events = [r[1] for r in rows]
    order = ["Incident start (earliest triage started_at)",
             "Automation run 1 started: playbook a.yml", "Look at the app", "Restart n8n",
             "Automation run 1 ended: playbook a.yml",
             "Triage: severity P1 (n8n_down, db_down, disk_high)",
             "Automation run 2 started: playbook b.yml", "Clear the n8n queue", "Fall back to a restart",
             "Check the queue", "Automation run 2 ended: playbook b.yml",
             "End of the recorded automation (taken as the resolution)"]
    assert [events.index(e) for e in order] == sorted(events.index(e) for e in order), events
    times = [r[0] for r in rows if not r[0].startswith("[TO FILL")]
    assert times == sorted(times) and all(re.match(r"^\d\d:\d\d:\d\d$", t) for t in times)
    actions = dict((r[1], r[2]) for r in rows)
    assert actions["Restart n8n"] == "changed on localhost"
    assert actions["Clear the n8n queue"] == "**FAILED (rescued) on localhost**"
    assert actions["Check the queue"] == "failed (ignored) on localhost"
    assert actions["Triage: severity P1 (n8n_down, db_down, disk_high)"] == \
        "triage report written (1 host(s) probed); involve now: on_call, technical_lead"
    assert rows[-1][0] == "[TO FILL: time]"  # a row for what people did


def test_only_this_incident_and_no_results(drafted):
    md = drafted["markdown"]
    # its own run, recorded by the callback too, is left out
    assert not any("postmortem.yml" in cell or cell == "Check the incident id" for row in _table(md) for cell in row)
    assert "DECOY-INCIDENT" not in md and "P0" not in md
    assert MSG_MARKER not in md and "restarting" not in md and "looking" not in md
    records = md.split("## Records\n", 1)[1].strip().splitlines()
    assert len(records) == 2 and records[0].endswith(f"/{INCIDENT}/timeline.json")
    assert f"/triage-{INCIDENT}-2-" not in md


def test_both_checklists_with_the_timeline_ticked(drafted):
    md = drafted["markdown"]
    day, week = md.split("### Within 24 Hours\n", 1)[1].split("### Within 1 Week\n", 1)
    assert day.startswith("- [x] **Timeline Created**: Document incident start to resolution")
    for item in ("Impact Assessed", "Root Cause", "Immediate Actions"):
        assert f"- [ ] **{item}**: " in day
    for item in ("Post-Mortem Draft", "Action Items", "Stakeholder Review", "Customer Communication"):
        assert f"- [ ] **{item}**: " in week
    assert "- [x]" not in week


def test_a_second_run_changes_nothing(drafted):
    again = _run(drafted["workdir"], POSTMORTEM, drafted["env"], "-e", f"postmortem_report_dir={drafted['reports']}",
                 "-e", json.dumps({"postmortem_description": "n8n <down> | queue stuck"}))
    assert again.returncode == 0, again.stdout + again.stderr
    assert re.search(r"localhost\s+: ok=\d+\s+changed=0 ", again.stdout), again.stdout[-1500:]
    assert drafted["output"].stat().st_mode & 0o777 == 0o640
    print("postmortem.yml took %.1f s" % drafted["seconds"])


def test_no_record_fails_naming_the_incident_and_both_folders(drafted, tmp_path):
    env = _env(drafted["workdir"], ARIZU_TIMELINE_DIR=str(tmp_path / "incidents"))
    proc = _run(drafted["workdir"], POSTMORTEM, env, "-e", "postmortem_incident_id=INC-NOTHING-HERE",
                "-e", f"postmortem_report_dir={tmp_path / 'reports'}")
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0
    assert "Nothing to draft the post-mortem of incident INC-NOTHING-HERE from" in out
    assert str(tmp_path / "incidents" / "INC-NOTHING-HERE" / "timeline.json") in out
    assert str(tmp_path / "reports") in out
    assert not (tmp_path / "reports").exists()


@pytest.mark.parametrize("extra", [[], ["-e", "postmortem_incident_id=../etc/passwd"],
                                   ["-e", json.dumps({"postmortem_incident_id": "INC-1\n"})]])
def test_the_incident_id_is_required_and_checked(drafted, extra):
    proc = _run(drafted["workdir"], POSTMORTEM, _env(drafted["workdir"]), *extra)
    assert proc.returncode != 0
    assert "postmortem_incident_id is required" in proc.stdout + proc.stderr
