# SPDX-License-Identifier: GPL-3.0-or-later
"""The triage of a Docker host where the Arizu containers do not exist: every report is written, the
containers are listed as missing (the Markdown report once failed on a missing container's memory cell)."""
from __future__ import annotations

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # pytest runs with --import-mode=importlib
from playbook_run import run_playbook  # noqa: E402  pylint: disable=wrong-import-position
from scratch import require_docker  # noqa: E402  pylint: disable=wrong-import-position


def test_triage_of_a_host_without_the_containers(tmp_path):
    require_docker()
    reports = tmp_path / "reports"
    rc, output = run_playbook("triage.yml", tmp_path, {
        "arizu_app_url": "http://127.0.0.1:1", "arizu_n8n_url": "http://127.0.0.1:1",
        "triage_containers": {"app": "scratch-missing-app", "n8n": "scratch-missing-n8n"},
        "triage_externals": [], "triage_api_samples": 1, "triage_report_dir": str(reports),
        "triage_incident_id": "IT-MISSING"})
    assert rc == 0, output[-3000:]
    assert "SEVERITY P0" in output, output[-3000:]
    (markdown,) = reports.glob("triage-IT-MISSING-*.md")
    text = markdown.read_text()
    assert "| scratch-missing-app | missing |" in text, text
    assert "| scratch-missing-n8n | missing |" in text, text
    (report,) = reports.glob("triage-IT-MISSING-*.json")
    assert json.loads(report.read_text())["severity"] == "P0"
    assert len(list(reports.glob("triage-IT-MISSING-*.html"))) == 1
