# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: triage_findings
short_description: Turn the triage probes' results into the findings mapping that arizu.ops.severity judges
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Takes the registered results of the triage's probes on one Docker host and returns the findings mapping
    documented for the C(arizu.ops.severity) filter (C(app), C(n8n_liveness), C(n8n_readiness), C(containers),
    C(disks), C(slo), C(externals)).
  - A probe that was skipped or not run (V(null), or a result with C(skipped)) leaves its key out, so the
    severity is judged on what was collected.
  - Containers that do not exist are left out of C(containers) (their absence shows in the health probes)
    and listed in C(missing_containers).
positional: _input
options:
  _input:
    description: The detailed health of the app (C(arizu.ops.health_check) result of C(/api/health?detailed=true)).
    type: dict
    required: true
  app_summary:
    description: The summary health of the app; its latency is the health check latency compared with the SLO.
    type: dict
  n8n_liveness:
    description: C(arizu.ops.health_check) result of n8n's C(/healthz).
    type: dict
  n8n_readiness:
    description: C(arizu.ops.health_check) result of n8n's C(/healthz/readiness).
    type: dict
  evidence:
    description: C(arizu.ops.docker_evidence) result for the Arizu containers and disk paths.
    type: dict
  services:
    description: Container name to service name (C(arizu-n8n) -> C(n8n)).
    type: dict
    default: {}
  api_latency:
    description: C(arizu.ops.http_latency) result of the API endpoint.
    type: dict
  externals:
    description: C(arizu.ops.status_pages) result, or a list of C({name, status}).
    type: raw
  health_latency_slo_ms:
    description: The health check latency objective.
    type: float
    default: 100
  api_p95_slo_ms:
    description: The API p95 latency objective.
    type: float
    default: 200
"""

EXAMPLES = r"""
- name: Assemble the findings of this host
  ansible.builtin.set_fact:
    triage_findings: >-
      {{ app_detailed | arizu.ops.triage_findings(app_summary=app_summary, n8n_liveness=n8n_live,
         n8n_readiness=n8n_ready, evidence=evidence, services=services, api_latency=api_latency) }}
"""

RETURN = r"""
_value:
  description: The findings mapping (see the C(arizu.ops.severity) filter), plus C(missing_containers).
  type: dict
"""

from ansible.errors import AnsibleFilterError


def _collected(result):
    """A registered result that holds data (not skipped, not absent)."""
    return isinstance(result, dict) and not result.get("skipped") and bool(result)


def _health(result):
    """The parts of a health_check result the severity needs (no raw body)."""
    keep = ("status", "http_status", "latency_ms", "format", "components", "msg", "version", "slo_ok")
    return {k: result[k] for k in keep if k in result}


def _container(name, info, services):
    entry = {
        "name": name,
        "service": services.get(name, name),
        "state": info.get("state") or "dead",
        "restarting": bool(info.get("restarting")),
        "exit_code": int(info.get("exit_code") or 0),
        "restart_count": int(info.get("restart_count") or 0),
        "oom_killed": bool(info.get("oom_killed")),
        "health": (info.get("health") or {}).get("status") or "none",
    }
    pct = (info.get("memory") or {}).get("pct")
    if isinstance(pct, (int, float)) and not isinstance(pct, bool):
        entry["mem_pct"] = float(pct)
    return entry


def triage_findings(app, app_summary=None, n8n_liveness=None, n8n_readiness=None, evidence=None,
                    services=None, api_latency=None, externals=None,
                    health_latency_slo_ms=100, api_p95_slo_ms=200):
    services = services or {}
    if not isinstance(services, dict):
        raise AnsibleFilterError("triage_findings: services must be a mapping of container name to service")
    findings = {}
    if _collected(app):
        findings["app"] = _health(app)
    for key, result in (("n8n_liveness", n8n_liveness), ("n8n_readiness", n8n_readiness)):
        if _collected(result):
            findings[key] = _health(result)

    if _collected(evidence):
        containers, missing = [], []
        for name, info in sorted((evidence.get("containers") or {}).items()):
            if isinstance(info, dict) and info.get("exists"):
                containers.append(_container(name, info, services))
            else:
                missing.append(name)
        findings["containers"] = containers
        findings["missing_containers"] = missing
        findings["disks"] = [
            {"path": d["path"], "used_pct": float(d["used_pct"])}
            for d in evidence.get("disk") or []
            if isinstance(d, dict) and isinstance(d.get("used_pct"), (int, float))
        ]

    slo = {}
    summary = app_summary if _collected(app_summary) else (app if _collected(app) else None)
    if summary and summary.get("status") not in ("unreachable", None) and summary.get("latency_ms") is not None:
        slo["health_latency_ms"] = float(summary["latency_ms"])
        slo["health_latency_slo_ms"] = float(health_latency_slo_ms)
    if _collected(api_latency) and api_latency.get("p95_ms") is not None:
        slo["api_p95_ms"] = float(api_latency["p95_ms"])
        slo["api_p95_slo_ms"] = float(api_p95_slo_ms)
    if slo:
        findings["slo"] = slo

    if isinstance(externals, dict) and _collected(externals):
        externals = externals.get("pages")
    if isinstance(externals, list):
        findings["externals"] = [{"name": e["name"], "status": e["status"]}
                                 for e in externals if isinstance(e, dict) and "name" in e and "status" in e]
    return findings


class FilterModule:
    """arizu.ops.triage_findings"""

    def filters(self):
        return {"triage_findings": triage_findings}
