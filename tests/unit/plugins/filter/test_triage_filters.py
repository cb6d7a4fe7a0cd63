# SPDX-License-Identifier: GPL-3.0-or-later
"""triage_findings and triage_report: pure glue between the probes, the
severity filter and the reports."""
from __future__ import annotations

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.triage_findings import triage_findings
from ansible_collections.arizu.ops.plugins.filter.triage_report import triage_report

APP = {"status": "healthy", "http_status": 200, "latency_ms": 12.0, "format": "arizu", "raw": {"big": "x"},
       "components": {"db": {"status": "up"}, "llm": {"status": "up", "active": "anthropic", "fallback": "openai"}},
       "msg": "healthy"}
N8N = {"status": "healthy", "http_status": 200, "latency_ms": 2.0, "format": "n8n", "components": {}}
EVIDENCE = {
    "containers": {
        "arizu-app": {"exists": True, "state": "running", "restarting": False, "exit_code": 0, "restart_count": 2,
                      "oom_killed": False, "health": {"status": "healthy"}, "image": "arizu-local/app:1.0.0",
                      "started_at": "2026-12-03T10:00:00Z", "memory": {"pct": 12.5, "usage_bytes": 1048576,
                                                                       "limit_bytes": 8388608}},
        "arizu-n8n": {"exists": True, "state": "exited", "exit_code": 137, "oom_killed": True,
                      "health": {"status": "unhealthy"}, "memory": None, "logs": ["line a", "line b"],
                      "started_at": "2026-12-03T11:00:00Z"},
        "arizu-redis": {"exists": False},
    },
    "disk": [{"path": "/", "used_pct": 42.0, "free_bytes": 1}, {"path": "/nope", "error": "No such file"}],
}
SERVICES = {"arizu-app": "app", "arizu-n8n": "n8n", "arizu-redis": "redis"}


def test_findings_keep_only_what_severity_reads():
    f = triage_findings(APP, app_summary=APP, n8n_liveness=N8N, n8n_readiness=N8N, evidence=EVIDENCE,
                        services=SERVICES, api_latency={"p95_ms": 30.0}, externals={"pages": [
                            {"name": "stripe", "status": "up", "url": "https://x"}]})
    assert "raw" not in f["app"]
    assert f["slo"] == {"health_latency_ms": 12.0, "health_latency_slo_ms": 100.0,
                        "api_p95_ms": 30.0, "api_p95_slo_ms": 200.0}
    assert f["missing_containers"] == ["arizu-redis"]
    app, n8n = f["containers"]
    assert app == {"name": "arizu-app", "service": "app", "state": "running", "restarting": False, "exit_code": 0,
                   "restart_count": 2, "oom_killed": False, "health": "healthy", "mem_pct": 12.5}
    assert n8n["service"] == "n8n" and n8n["exit_code"] == 137 and n8n["oom_killed"] and "mem_pct" not in n8n
    assert f["disks"] == [{"path": "/", "used_pct": 42.0}]
    assert f["externals"] == [{"name": "stripe", "status": "up"}]


@pytest.mark.parametrize("skipped", [None, {"skipped": True, "changed": False}, {}])
def test_skipped_probes_leave_their_key_out(skipped):
    f = triage_findings(APP, n8n_liveness=skipped, n8n_readiness=skipped, evidence=skipped,
                        api_latency=skipped, externals=skipped)
    assert set(f) == {"app", "slo"}
    assert f["slo"] == {"health_latency_ms": 12.0, "health_latency_slo_ms": 100.0}


def test_unreachable_app_has_no_latency_slo():
    f = triage_findings({"status": "unreachable", "latency_ms": 5000.0, "components": {}})
    assert "slo" not in f


def test_services_must_be_a_mapping():
    with pytest.raises(AnsibleFilterError, match="services"):
        triage_findings(APP, services=["x"])


def record(host, severity, reasons=(), evidence=None):
    evidence = EVIDENCE if evidence is None else evidence
    f = triage_findings(APP, n8n_liveness=N8N, evidence=evidence, services=SERVICES)
    return {"host": host, "findings": f, "judged": {"severity": severity, "reasons": list(reasons)},
            "containers": evidence["containers"], "disks": evidence["disk"], "api_latency": {}}


def test_report_takes_the_worst_host_and_orders_reasons():
    r = triage_report([
        record("h1", "P2", [{"rule": "disk_high", "severity": "P2", "detail": "disk / 95"}]),
        record("h2", "P1", [{"rule": "n8n_down", "severity": "P1", "detail": "n8n down"}]),
        record("h3", "none"),
    ], incident_id="INC-1", escalation={"involve": [{"role": "on_call"}]}, eta_minutes=15)
    assert r["severity"] == "P1"
    assert [x["rule"] for x in r["reasons"]] == ["n8n_down", "disk_high"]
    assert r["reasons"][0]["host"] == "h2"
    assert r["lines"][0].startswith("SEVERITY P1  INC-1")
    assert "involve now: on_call" in r["lines"]
    assert "ETA: 15 minutes" in r["status_updates"]["incident"]
    n8n_row = [c for c in r["hosts"]["h1"]["containers"] if c["name"] == "arizu-n8n"][0]
    assert n8n_row["logs"] == ["line a", "line b"]           # logs kept for a container that is not healthy
    app_row = [c for c in r["hosts"]["h1"]["containers"] if c["name"] == "arizu-app"][0]
    assert "logs" not in app_row and app_row["mem_usage_mb"] == 1.0 and app_row["mem_limit_mb"] == 8.0
    assert [c["container"] for c in r["recent_changes"]][:2] == ["arizu-n8n", "arizu-n8n"]
    json.dumps(r)  # the JSON report is plain data


def test_all_well_gives_none_and_no_status_update():
    r = triage_report([record("h1", "none")], incident_id="INC-2")
    assert r["severity"] == "none" and r["status_updates"] == {} and r["reasons"] == []


def test_llm_trouble_adds_the_runbook_llm_notice():
    r = triage_report([record("h1", "P1", [{"rule": "llm_unavailable", "severity": "P1", "detail": "llm down"}])],
                      incident_id="INC-3")
    assert "LLM Provider Issue" in r["status_updates"]["llm_provider"]
    assert "ETA: [X] minutes" in r["status_updates"]["llm_provider"]


@pytest.mark.parametrize("severity, email", [("P0", True), ("P1", True), ("P2", False), ("P3", False)])
def test_channel_message_always_customer_email_for_p0_p1_only(severity, email):
    r = triage_report([record("h1", severity, [{"rule": "some_rule", "severity": severity, "detail": "it broke"}])],
                      incident_id="INC-4", started_at="2026-01-01T10:00:00Z",
                      escalation={"involve": [{"role": "on_call"}, {"role": "technical_lead"}]}, eta_minutes=20)
    channel = r["status_updates"]["incidents_channel"]
    assert channel.startswith(":rotating_light: %s INC-4 - it broke" % severity)
    assert "Started: 2026-01-01T10:00:00Z. Involve now: on_call, technical_lead." in channel
    assert "Findings: some_rule h1" in channel
    assert ("customer_email" in r["status_updates"]) is email
    if email:
        assert "in about 20 minutes" in r["status_updates"]["customer_email"]
        assert "(%s)" % severity in r["status_updates"]["customer_email"]


def test_report_rejects_bad_records():
    with pytest.raises(AnsibleFilterError, match="per-host records"):
        triage_report("x", incident_id="INC")
