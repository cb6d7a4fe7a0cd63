# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: triage_report
short_description: Combine the triage of every Docker host into one incident report
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Takes the per-host triage records (what each host's probes found and how C(arizu.ops.severity) judged it)
    and returns the report the triage writes as Markdown, JSON and HTML. It holds the overall severity (the
    worst host's), the reasons, a status table per host, recent changes (images and start times), external
    dependencies, the escalation and ready-to-post status updates from the runbook's templates.
  - Secrets never reach it. The records hold health summaries and container state, never environments.
positional: _input
options:
  _input:
    description:
      - One record per host, C({host, findings, judged, containers, disks, api_latency}), where C(judged) is the
        C(arizu.ops.severity) result with C(explain=true) and C(containers) the C(arizu.ops.docker_evidence)
        C(containers) mapping.
    type: list
    elements: dict
    required: true
  incident_id:
    description: The incident id.
    type: str
    required: true
  started_at:
    description: When the incident started (ISO 8601).
    type: str
  escalation:
    description: The C(arizu.ops.escalation) result for the overall severity.
    type: dict
  externals:
    description: The C(arizu.ops.status_pages) result, if the status pages were probed.
    type: dict
  eta_minutes:
    description: ETA written into the status updates; empty gives C([X]) as in the runbook.
    type: raw
"""

EXAMPLES = r"""
- name: Build the report
  ansible.builtin.set_fact:
    triage_report: >-
      {{ ansible_play_hosts | map('extract', hostvars, 'triage_host') | list
         | arizu.ops.triage_report(incident_id='INC-20261203-1400', escalation=escalation) }}
"""

RETURN = r"""
_value:
  description:
    - The report - C(incident_id), C(generated_at), C(started_at), C(severity), C(reasons) (with the host),
      C(hosts) (per host - severity, components table, containers, disks, API latency, missing containers),
      C(recent_changes), C(externals), C(escalation), C(status_updates) (name to text), C(summary) (one line) and
      C(lines) (a short human summary).
    - The status updates, each with the ETA O(eta_minutes) - C(incident) for the status page, C(incidents_channel)
      for the incidents channel, C(customer_email) for P0 and P1, C(llm_provider) when an LLM provider is in
      trouble.
  type: dict
"""

import datetime

from ansible.errors import AnsibleFilterError

ORDER = {"P0": 0, "P1": 1, "P2": 2, "P3": 3, "none": 4}

LLM_NOTICE = """\U0001F6A8 LLM Provider Issue
We're experiencing issues with our AI provider.
- Chat responses may be delayed
- Some automations may fail temporarily
- We're working on a fix
ETA: {eta} minutes"""

INCIDENT_NOTICE = """Incident {incident_id} ({severity}): {headline}
We are investigating and will post an update within 30 minutes.
ETA: {eta} minutes"""

# the runbook's internal channel (#incidents): who is on it and what is known
INCIDENTS_CHANNEL = """:rotating_light: {severity} {incident_id} - {headline}
Started: {started_at}. Involve now: {involve}.
Findings: {findings}
Report: triage report {incident_id}. Next update in 30 minutes."""

# the runbook sends customers an email for P0/P1 incidents
CUSTOMER_EMAIL = """Subject: [Arizu] Service disruption ({severity})
We are currently experiencing a service disruption affecting Arizu: {impact}.
Our team is working on it and expects to restore normal service in about {eta} minutes.
We will email you again once it is resolved. We apologise for the inconvenience."""

IMPACTS = {"P0": "the application is unavailable or payments cannot be processed",
           "P1": "a major feature (workflows, data or AI responses) is unavailable"}


def _worst(severities):
    return min(severities, key=lambda s: ORDER.get(s, 4)) if severities else "none"


def _component_rows(findings):
    rows = []
    app = findings.get("app") or {}
    if app:
        rows.append({"component": "app", "status": app.get("status"), "latency_ms": app.get("latency_ms"),
                     "detail": app.get("msg", "")})
        for name, comp in sorted((app.get("components") or {}).items()):
            comp = comp if isinstance(comp, dict) else {"status": comp}
            detail = comp.get("message", "")
            if name == "llm":
                detail = "active %s, fallback %s" % (comp.get("active") or "none", comp.get("fallback") or "none")
            rows.append({"component": "app/" + name, "status": comp.get("status"),
                         "latency_ms": comp.get("latency_ms"), "detail": detail})
    for key, label in (("n8n_liveness", "n8n /healthz"), ("n8n_readiness", "n8n /healthz/readiness")):
        res = findings.get(key)
        if res:
            detail = ("HTTP %s" % res["http_status"]) if res.get("http_status") is not None else res.get("msg", "")
            rows.append({"component": label, "status": res.get("status"), "latency_ms": res.get("latency_ms"),
                         "detail": detail})
    return rows


def _container_rows(containers):
    rows = []
    for name, info in sorted((containers or {}).items()):
        if not isinstance(info, dict) or not info.get("exists"):
            rows.append({"name": name, "state": "missing"})
            continue
        health = (info.get("health") or {}).get("status") or "none"
        memory = info.get("memory") or {}
        row = {
            "name": name, "state": info.get("state"), "health": health, "image": info.get("image"),
            "image_id": (info.get("image_id") or "")[:19], "started_at": info.get("started_at"),
            "restart_count": info.get("restart_count"), "exit_code": info.get("exit_code"),
            "oom_killed": info.get("oom_killed"), "mem_pct": memory.get("pct"),
            "mem_usage_mb": round(memory["usage_bytes"] / 1048576, 1) if memory.get("usage_bytes") else None,
            "mem_limit_mb": (None if memory.get("unlimited") or not memory.get("limit_bytes")
                             else round(memory["limit_bytes"] / 1048576, 1)),
        }
        if health not in ("healthy", "none") or info.get("state") != "running":
            row["logs"] = list(info.get("logs") or [])[-30:]
            row["last_checks"] = (info.get("health") or {}).get("last_checks") or []
        rows.append(row)
    return rows


def triage_report(records, incident_id, started_at=None, escalation=None, externals=None, eta_minutes=None):
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise AnsibleFilterError("triage_report: expected a list of per-host records (mappings)")
    hosts, reasons, changes = {}, [], []
    for rec in records:
        host = str(rec.get("host", "?"))
        judged = rec.get("judged") or {}
        severity = judged.get("severity", "none") if isinstance(judged, dict) else str(judged)
        for reason in (judged.get("reasons") or []) if isinstance(judged, dict) else []:
            reasons.append(dict(reason, host=host))
        findings = rec.get("findings") or {}
        containers = _container_rows(rec.get("containers"))
        for row in containers:
            if row.get("started_at"):
                changes.append({"host": host, "container": row["name"], "image": row.get("image"),
                                "image_id": row.get("image_id"), "started_at": row["started_at"]})
        hosts[host] = {
            "severity": severity,
            "components": _component_rows(findings),
            "containers": containers,
            "disks": (rec.get("disks") or []),
            "api_latency": rec.get("api_latency") or {},
            "slo": findings.get("slo") or {},
            "missing_containers": findings.get("missing_containers") or [],
        }
    severity = _worst([h["severity"] for h in hosts.values()])
    reasons.sort(key=lambda r: ORDER.get(r.get("severity"), 4))
    changes.sort(key=lambda c: c["started_at"], reverse=True)
    ext_pages = (externals or {}).get("pages") if isinstance(externals, dict) else None

    eta = str(eta_minutes) if eta_minutes not in (None, "") else "[X]"
    headline = reasons[0]["detail"] if reasons else "all checks passed"
    updates = {}
    if severity != "none":
        updates["incident"] = INCIDENT_NOTICE.format(incident_id=incident_id, severity=severity,
                                                     headline=headline, eta=eta)
        involve_now = [i.get("role") for i in (escalation or {}).get("involve") or []]
        updates["incidents_channel"] = INCIDENTS_CHANNEL.format(
            severity=severity, incident_id=incident_id, headline=headline, started_at=started_at or "unknown",
            involve=", ".join(involve_now) or "on-call",
            findings="; ".join("%s %s" % (r.get("rule"), r.get("host")) for r in reasons[:5]))
        if severity in IMPACTS:
            updates["customer_email"] = CUSTOMER_EMAIL.format(severity=severity, impact=IMPACTS[severity], eta=eta)
    if any(r.get("rule") == "llm_unavailable" or "llm" in str(r.get("detail", "")) for r in reasons) or any(
            e.get("status") in ("down", "degraded") and e.get("name") in ("anthropic", "openai", "google", "mistral")
            for e in ext_pages or []):
        updates["llm_provider"] = LLM_NOTICE.format(eta=eta)

    summary = "%s: severity %s on %d host(s)%s" % (
        incident_id, severity, len(hosts), (" - " + headline) if reasons else "")
    lines = ["SEVERITY %s  %s  (%d host(s))" % (severity, incident_id, len(hosts))]
    lines += ["  %s %-22s %s: %s" % (r.get("severity"), r.get("rule"), r.get("host"), r.get("detail"))
              for r in reasons[:10]]
    if len(reasons) > 10:
        lines.append("  ... %d more reasons in the report" % (len(reasons) - 10))
    involve = [i.get("role") for i in (escalation or {}).get("involve") or []]
    lines.append("involve now: %s" % (", ".join(involve) or "nobody"))
    return {
        "incident_id": incident_id,
        "generated_at": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "started_at": started_at,
        "severity": severity,
        "summary": summary,
        "lines": lines,
        "reasons": reasons,
        "hosts": hosts,
        "recent_changes": changes[:20],
        "externals": ext_pages or [],
        "escalation": escalation or {},
        "status_updates": updates,
    }


class FilterModule:
    """arizu.ops.triage_report"""

    def filters(self):
        return {"triage_report": triage_report}
