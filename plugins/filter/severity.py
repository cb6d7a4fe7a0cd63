# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: severity
short_description: Incident severity (P0 to P3, or none) from health results and triage findings
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Judges the incident severity the Arizu operations runbook defines
    (V(P0) complete outage or payments down, V(P1) major feature unavailable, V(P2) degraded or slow,
    V(P3) minor) from what a triage found, by a rule table. Returns V(none) when no rule matches.
  - The input is either a bare M(arizu.ops.health_check) result (a mapping with C(status) and
    C(components) or C(format)), which is judged as the app's health (or, for an n8n answer,
    C(format=n8n), as n8n's liveness or readiness), or a findings mapping (see O(_input)).
  - Each rule has an C(id), a C(severity) and a C(when) condition. The severity is the highest
    severity among the enabled rules whose condition matches. The rule table is data and can be
    changed with O(rules) and O(thresholds) (for example from the inventory).
  - "The default rules (C(docs/severity.md) in the collection explains each one):
    P0 C(app_down) (app V(down) or V(unreachable)), C(app_error_page) (app V(invalid) with HTTP 5xx, e.g. the
    proxy's 502 page), C(payments_down) (O(_input.payments) V(down), or an external named in the
    C(payment_externals) threshold V(down));
    P1 C(app_invalid) (app V(invalid) without HTTP 5xx: the health cannot be judged), C(n8n_down)
    (app component n8n V(down), or n8n liveness V(down)/V(unreachable)/V(invalid)), C(n8n_not_ready)
    (n8n readiness V(down)/V(unreachable)/V(invalid)), C(db_down), C(redis_down), C(llm_unavailable)
    (llm component V(down), or V(degraded)/V(unknown) with an empty C(active) and no C(fallback));
    P2 C(health_degraded) (app or an n8n probe V(degraded)), C(component_degraded), C(component_down)
    (a component other than db, redis, n8n, llm), C(health_latency_slow), C(api_latency_slow),
    C(app_latency_slow) (latency strictly over its SLO), C(container_restarting), C(container_oom_killed),
    C(container_unhealthy), C(container_exited) (exited or dead with an exit code other than 0),
    C(container_memory_high) (C(mem_pct) >= C(mem_pct_p2)), C(disk_high) (C(used_pct) >= C(disk_pct_p2)),
    C(external_impaired) (a non-payment external V(degraded) or V(down)), C(payments_degraded);
    P3 C(component_unknown), C(container_memory_warn) (>= C(mem_pct_p3)), C(disk_warn) (>= C(disk_pct_p3)),
    C(container_restarted) (C(restart_count) >= C(restart_count_p3)), C(external_unknown), C(payments_unknown)."
  - "Thresholds and their defaults: C(disk_pct_p2=90), C(disk_pct_p3=80), C(mem_pct_p2=90), C(mem_pct_p3=80),
    C(restart_count_p3=1), C(health_latency_slo_ms=100), C(api_p95_slo_ms=200), C(app_p95_slo_ms=500),
    C(payment_externals=[stripe]). Percentages match at or over the threshold; latencies match only strictly
    over the SLO (a latency equal to the SLO meets it, as RV(arizu.ops.health_check#module:slo_ok) does)."
  - "Rule table format: a rule is C({id, severity, when, description?, enabled?}). C(when) is a condition:
    C({check: NAME, ...parameters}), or C({any: [conditions]}), C({all: [conditions]}), C({not: condition})
    (at most 8 levels deep). Nothing is evaluated as code."
  - "Checks: C(probe_status_in) (C(probe): V(app), V(n8n_liveness) or V(n8n_readiness), or a list;
    C(values): overall statuses); C(probe_http_status_between) (C(probe), C(min), C(max));
    C(component_status_in) (C(probe) default V(app), C(components) names to look at (default all),
    C(exclude) names, C(values) component states); C(llm_unavailable) (C(probe) default V(app), C(component)
    default V(llm)); C(slo_over) (C(metric), e.g. V(api_p95): compares C(slo.<metric>_ms) with
    C(slo.<metric>_slo_ms), else with the threshold C(<metric>_slo_ms) or the one named by C(threshold);
    for V(health_latency) the app's C(latency_ms) is used when C(slo.health_latency_ms) is not given);
    C(payments_status_in) (C(values)); C(item_match) (C(of): V(containers), V(disks) or V(externals);
    C(where): a list of field tests C({field, op, value|values|threshold}) that must all hold for the same
    item; C(op) is one of V(eq), V(ne), V(in), V(not_in), V(gt), V(ge), V(lt), V(le), V(is_true), V(is_false);
    strings compare case-insensitively; a missing field only satisfies V(ne) and V(not_in))."
positional: _input
options:
  _input:
    description:
      - "A bare M(arizu.ops.health_check) result, judged as C({app: result}), or a findings mapping.
        A bare result of an n8n endpoint (C(format=n8n)) is judged as C({n8n_liveness: result}), or as
        C({n8n_readiness: result}) when its component is C(n8n_readiness)."
      - "Findings mapping, every key optional, V(null) meaning not collected:
        C(app) (health_check result of the app's C(/api/health?detailed=true)),
        C(n8n_liveness) and C(n8n_readiness) (health_check results of n8n's C(/healthz) and C(/healthz/readiness)),
        C(containers) (list of C({name, service, state, restarting, exit_code, restart_count, oom_killed, health, mem_pct})),
        C(disks) (list of C({path, used_pct})),
        C(slo) (mapping of measured and target milliseconds: C(health_latency_ms), C(health_latency_slo_ms),
        C(api_p95_ms), C(api_p95_slo_ms), C(app_p95_ms), C(app_p95_slo_ms), any C(<metric>_ms)),
        C(externals) (list of C({name, status}), status V(up), V(degraded), V(down) or V(unknown)),
        C(payments) (V(up), V(degraded), V(down) or V(unknown))."
      - A registered result of a skipped probe task counts as not collected. Other keys are ignored, but a
        non-empty mapping without any findings key is an error (it is most likely the wrong variable).
    type: dict
    required: true
  rules:
    description:
      - Changes to the rule table.
      - A mapping keyed by rule id changes the default table. The value is a severity (V(P0) to V(P3)),
        V(false) to disable the rule, or a mapping with any of C(severity), C(enabled), C(when) and
        C(description). An id that is not in the table adds a rule (it needs C(severity) and C(when)).
        The key C(thresholds) of this mapping is read like O(thresholds).
      - A list is the complete rule table; the default rules are then not used. An empty list is an error.
    type: raw
  thresholds:
    description:
      - Threshold values by name, on top of the defaults (and of C(rules.thresholds)).
      - A name that is neither a default threshold nor referenced by a rule is an error (typo guard).
    type: dict
  explain:
    description:
      - Return a mapping with the severity and the reasons instead of the severity string.
    type: bool
    default: false
notes:
  - Bad input (not a mapping, wrong types, unknown statuses, a malformed rule) fails the task with a
    message that names the offending key.
  - Details in the reasons have any C(user:password@) in URLs removed.
  - C(docs/severity.md) in the collection describes the rule table, the findings mapping and every check
    with examples.
"""

EXAMPLES = r"""
- name: Probe the app
  arizu.ops.health_check:
    url: http://127.0.0.1:3000/api/health
    detailed: true
  register: app_health

- name: Severity of a bare health result
  ansible.builtin.debug:
    msg: "{{ app_health | arizu.ops.severity }}"   # P0, P1, P2, P3 or none

- name: Severity of the whole triage, with the reasons
  ansible.builtin.set_fact:
    incident: "{{ findings | arizu.ops.severity(explain=true) }}"
  vars:
    findings:
      app: "{{ app_health }}"
      n8n_liveness: "{{ n8n_live }}"
      n8n_readiness: "{{ n8n_ready }}"
      disks:
        - {path: /var/lib/docker, used_pct: 93.5}
      externals:
        - {name: stripe, status: up}
        - {name: clerk, status: degraded}
      slo: {api_p95_ms: 240, api_p95_slo_ms: 200}

- name: Inventory overrides (group_vars), one variable for rules and thresholds
  ansible.builtin.debug:
    msg: "{{ findings | arizu.ops.severity(rules=arizu_severity_rules) }}"
  vars:
    arizu_severity_rules:
      redis_down: P2                # change a severity
      app_invalid: false            # disable a rule
      external_impaired: {severity: P3}
      auth_down:                    # add a rule
        severity: P1
        description: Clerk (authentication) is down.
        when:
          check: item_match
          of: externals
          where:
            - {field: name, op: eq, value: clerk}
            - {field: status, op: eq, value: down}
      thresholds:
        disk_pct_p2: 85
        payment_externals: [stripe, paddle]
"""

RETURN = r"""
_value:
  description:
    - The severity, V(P0), V(P1), V(P2), V(P3) or V(none).
    - With O(explain=true), a mapping C({severity, reasons, evaluated}). C(reasons) lists every matching
      rule, most severe first, as C({rule, severity, detail}) (one entry per matching component, container,
      disk or external). C(evaluated) lists the findings keys that were present.
  type: raw
  sample:
    severity: P1
    reasons:
      - {rule: db_down, severity: P1, detail: "app component db: down (connection refused)"}
      - {rule: disk_warn, severity: P3, detail: "disk /var/lib/docker: used_pct 84 >= 80"}
    evaluated: [app, disks]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.module_utils.severity import SeverityError, evaluate


def severity(findings, rules=None, thresholds=None, explain=False):
    """Incident severity of *findings*; see DOCUMENTATION."""
    if not isinstance(explain, bool):
        raise AnsibleFilterError('arizu.ops.severity: explain must be a boolean, got %r' % (explain,))
    try:
        result = evaluate(findings, rules=rules, thresholds=thresholds)
    except SeverityError as exc:
        raise AnsibleFilterError('arizu.ops.severity: %s' % exc) from None
    return result if explain else result['severity']


class FilterModule:
    """arizu.ops severity filter."""

    def filters(self):
        return {'severity': severity}
