# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: postmortem
short_description: Pre-fill the runbook's post-mortem of one incident from its timeline and triage reports
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Assembles what the Arizu operations runbook's "Post-Mortem Template" asks for, as far as the records of the
    incident can tell, and the runbook's post-incident review checklists. C(playbooks/postmortem.yml) renders it
    as Markdown.
  - "The records: the automation timeline (the events of C(timeline.json), written by the
    P(arizu.ops.incident_timeline#callback) callback) and the triage reports (the C(triage_report) JSON the
    C(arizu.ops.triage) role writes). Reports of another incident (C(incident_id) differs) are left out, so a
    file name pattern that also matches a longer incident id is harmless."
  - "Start: the earliest of the reports' C(started_at) and the first timeline event. End: O(resolved_at), or the
    end of the last timeline event. Severity: the worst of the reports' severities. Impact: the features down
    (reasons of severity P0 and P1, for example C(n8n down, db down)) and degraded (P2)."
  - "Timeline rows, sorted by time: the incident start, one row per triage report
    (its severity and rules, for example 'Triage: severity P1 (n8n_down, db_down)'), each automation run's start
    and end, each play's start, and
    one row per task (its results on every host merged, failures flagged and listed first), and the end."
  - Only names, statuses and times are taken from the timeline, never a task's result nor its message.
    Every text taken over is redacted once more by pattern (URL credentials, C(Bearer) tokens,
    C(password=...) pairs).
  - "What only people can write is a marked blank, C([TO FILL: ...]): the description (unless given), the
    severity when no triage found one, the end and duration when unknown, the users affected, the root cause."
positional: _input
options:
  _input:
    description:
      - The incident id (letters, digits, C(.), C(_) and C(-), as the callback accepts it).
    type: str
    required: true
  timeline:
    description:
      - The events of the incident's C(timeline.json) (a list of mappings). Empty or omitted when there is none.
    type: list
    elements: dict
    default: []
  reports:
    description:
      - The incident's triage reports (each the JSON the triage writes). Empty or omitted when there are none.
    type: list
    elements: dict
    default: []
  description:
    description:
      - "Brief description for the title. Omitted or empty gives the blank C([TO FILL: brief description])."
    type: str
  resolved_at:
    description:
      - When the incident was resolved, ISO 8601 (V(2026-12-03T15:04:00Z); without a time zone it is UTC).
      - Omitted or empty, the end of the last timeline event is taken; with no timeline the end is a blank.
      - A time before the start is an error.
    type: str
  exclude_playbooks:
    description:
      - Playbook file names whose runs are left out of the timeline, such as the post-mortem's own run when the
        callback records it too.
    type: list
    elements: str
    default: []
  include_skipped:
    description: Keep tasks skipped on every host in the timeline table (they are counted, not shown, by default).
    type: bool
    default: false
  max_hints:
    description: How many distinct triage reasons (most severe first) are listed as root cause hints.
    type: int
    default: 5
notes:
  - Neither a timeline event nor a triage report of the incident is an error, as are a bad incident id and a
    O(resolved_at) that is not a time or before the start.
"""

EXAMPLES = r"""
- name: Draft the post-mortem of INC-20261203-1400
  ansible.builtin.set_fact:
    postmortem: >-
      {{ 'INC-20261203-1400' | arizu.ops.postmortem(timeline=timeline_events, reports=triage_reports,
         description='n8n outage after the 1.2 release', exclude_playbooks=['postmortem.yml']) }}

- name: Show the severity and the features down
  ansible.builtin.debug:
    msg: "{{ postmortem.severity }}: {{ postmortem.impact }} ({{ postmortem.start }} - {{ postmortem.end }})"
"""

RETURN = r"""
_value:
  description: "The post-mortem's values. Blanks are C([TO FILL: ...]) strings. Times are UTC."
  type: dict
  contains:
    incident_id:
      description: The incident id.
      type: str
    title:
      description: C(Incident Post-Mortem) followed by the start date and the description, as in the runbook's template.
      type: str
      sample: "Incident Post-Mortem: 2026-12-03 [TO FILL: brief description]"
    date:
      description: The start date, C(YYYY-MM-DD).
      type: str
    description:
      description: O(description) or its blank.
      type: str
    start:
      description: The start, C(YYYY-MM-DD HH:MM:SS UTC), or a blank.
      type: str
    start_at:
      description: The start, ISO 8601, or V(null).
      type: str
    start_source:
      description: Where the start comes from, V(triage) (a report's C(started_at)) or V(timeline).
      type: str
    end:
      description: The end, C(YYYY-MM-DD HH:MM:SS UTC), or a blank.
      type: str
    end_at:
      description: The end, ISO 8601, or V(null).
      type: str
    end_source:
      description: V(resolved_at), V(timeline) or V(null).
      type: str
    duration:
      description: From start to end, for example C(1 h 05 min), or a blank.
      type: str
    duration_s:
      description: The duration in seconds, or V(null).
      type: float
    severity:
      description: The worst severity of the triage reports (V(P0) to V(P3)), or a blank when none found one.
      type: str
    severity_note:
      description: Where the severity comes from.
      type: str
    impact:
      description: "Features down and degraded per the triage (for example C(n8n down, db down; degraded: disk high))."
      type: str
    features_down:
      description: The features down (from reasons of severity P0 and P1), worst first.
      type: list
      elements: str
    degraded:
      description: What was degraded (from reasons of severity P2).
      type: list
      elements: str
    root_cause_hints:
      description: "The most severe distinct triage reasons, C(<severity> <rule> on <hosts>: <detail>)."
      type: list
      elements: str
    more_root_cause_hints:
      description: How many distinct reasons were left out of RV(_value.root_cause_hints).
      type: int
    failed_tasks:
      description: The timeline rows of failed or unreachable tasks (C(time), C(at), C(task), C(play), C(playbook),
        C(run), C(hosts), C(action)).
      type: list
      elements: dict
    recent_changes:
      description: Container restarts and images seen by the latest triage (runbook step "Review Recent Changes").
      type: list
      elements: str
    timeline:
      description:
        - The timeline table, sorted by time. Each row has C(time) (C(HH:MM:SS), or with the date when the rows
          span several days), C(at) (ISO 8601), C(event), C(action) (the runbook's C(Action Taken)), C(failed),
          C(kind) (V(start), V(triage), V(playbook_start), V(play_start), V(task), V(run_end), V(end)) and
          C(source) (V(incident), V(triage) or V(timeline)).
        - C(event) and C(action) are plain single-line text; escape them for the output format.
      type: list
      elements: dict
    same_day:
      description: Whether every row of the timeline is on the start's date.
      type: bool
    runs:
      description: The automation runs of the timeline (C(run), C(playbook), C(started), C(check_mode)).
      type: list
      elements: dict
    has_timeline:
      description: Whether an automation timeline was recorded (pre-ticks the checklist's "Timeline Created").
      type: bool
    triage:
      description: The reports used, oldest first (C(index) in O(reports), C(generated_at), C(severity), C(rules)).
      type: list
      elements: dict
    checklists:
      description: The runbook's checklists, C({key, title, items}), each item C({key, label, text, done, note}).
      type: list
      elements: dict
    counts:
      description: C(triage_reports), C(ignored_reports), C(timeline_events), C(rows), C(skipped_tasks),
        C(undated_rows), C(failed_tasks).
      type: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.module_utils.postmortem import PostmortemError, build_postmortem


def postmortem(incident_id, timeline=None, reports=None, description=None, resolved_at=None,
               exclude_playbooks=None, include_skipped=False, max_hints=5):
    """The post-mortem's values; see DOCUMENTATION."""
    try:
        return build_postmortem(incident_id, timeline=timeline or [], reports=reports or [],
                                description=description, resolved_at=resolved_at,
                                exclude_playbooks=exclude_playbooks or [], include_skipped=bool(include_skipped),
                                max_hints=max_hints)
    except PostmortemError as exc:
        raise AnsibleFilterError('arizu.ops.postmortem: %s' % exc) from None


class FilterModule:
    """arizu.ops postmortem filter."""

    def filters(self):
        return {'postmortem': postmortem}
