# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: escalation
short_description: Who to involve in an incident now, and on which channels, after the runbook's escalation matrix
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - From an incident's severity and start time, lists the roles that should be involved now according to
    the escalation matrix of the Arizu operations runbook ("On-Call & Escalation"), with their contacts,
    the next escalation step, and the communication channels.
  - "P0 and P1 (the runbook's matrix): the on-call engineer (C(on_call)) from minute 0, the technical lead
    (C(technical_lead)) from 15 minutes, the infrastructure team (C(infrastructure)) from 30, executive
    notification (C(executives)) from 60. Levels are cumulative: at 35 minutes C(on_call),
    C(technical_lead) and C(infrastructure) are involved. A level is due from its minute on
    (at exactly 15.0 minutes the technical lead is involved, at 14.9 not yet)."
  - "P2 and P3: the runbook has no matrix for them; this filter involves the on-call engineer only,
    without time-based escalation. Change it with O(matrix)."
  - "V(none): nobody is involved and no channel is used."
  - "Channels: V(internal: #incidents Slack channel) for every severity; V(external: status page updates)
    and V(customer: email notifications) for P0 and P1 too. Change them with O(channels)."
positional: _input
options:
  _input:
    description:
      - The severity, V(P0), V(P1), V(P2), V(P3) or V(none) (case-insensitive).
      - The mapping returned by P(arizu.ops.severity#filter) with C(explain=true) is accepted too (its
        C(severity) is used).
    type: raw
    required: true
  started_at:
    description:
      - When the incident started. ISO 8601 text with V(Z) or an offset (V(2026-12-03T14:00:00Z),
        V(2026-12-03T15:00:00+01:00)), or epoch seconds (a number or a numeric string).
      - Text without a time zone is refused rather than guessed.
      - A start up to 5 minutes after O(now) is taken as clock skew (elapsed 0); later is an error.
    type: raw
    required: true
  now:
    description:
      - The time to evaluate at, in the same forms as O(started_at). Defaults to the current UTC time.
    type: raw
  contacts:
    description:
      - "Contact by role, for example C({on_call: 'PagerDuty rotation arizu-primary', technical_lead: '@lead',
        product_owner: '@po', infrastructure: '#infra-oncall', executives: 'cto@example.com'}), usually from
        inventory variables. A list of strings is joined with commas."
      - A role without a contact (missing, null or empty) shows V((no contact configured)).
      - Roles that are not in the matrix (such as C(product_owner)) are accepted and ignored.
    type: dict
  matrix:
    description:
      - Escalation levels by severity, replacing the default levels of each severity given
        (the others keep theirs). Each severity (V(P0) to V(P3)) maps to a list of C({role, after_minutes}),
        C(after_minutes) being 0 or more; a role appears once per severity.
    type: dict
  channels:
    description:
      - Communication channels by severity, replacing the default list of each severity given.
      - "Each channel is a string V(<audience>: <text>) with the audience V(internal), V(external) or
        V(customer); RV(_value.customer_notification) is V(true) when a V(customer) channel is listed."
    type: dict
notes:
  - Invalid input (an unknown severity, a time that cannot be read or has no time zone, a start more than
    5 minutes in the future, O(contacts) that is not a mapping, a malformed O(matrix) or O(channels))
    fails the task with a message naming the argument.
  - The runbook lists a Product Owner contact but gives it no place in the matrix; add it with O(matrix)
    if wanted.
"""

EXAMPLES = r"""
- name: Who to involve 20 minutes into a P1
  ansible.builtin.debug:
    msg: "{{ 'P1' | arizu.ops.escalation(started_at='2026-12-03T14:00:00Z', now='2026-12-03T14:20:00Z', contacts=arizu_contacts) }}"
  vars:
    arizu_contacts:
      on_call: PagerDuty rotation arizu-primary
      technical_lead: "@dana (Slack), +49 30 1234567"
      infrastructure: "#infra-oncall"
  # {severity: P1, started_at: "2026-12-03T14:00:00Z", now: "2026-12-03T14:20:00Z", elapsed_minutes: 20.0,
  #  involve: [{role: on_call, since_minutes: 0, contact: PagerDuty rotation arizu-primary},
  #            {role: technical_lead, since_minutes: 15, contact: "@dana (Slack), +49 30 1234567"}],
  #  next: {role: infrastructure, at_minutes: 30, in_minutes: 10.0},
  #  channels: ["internal: #incidents Slack channel", "external: status page updates",
  #             "customer: email notifications"],
  #  customer_notification: true}

- name: From the triage's severity, now
  ansible.builtin.set_fact:
    incident_escalation: "{{ incident | arizu.ops.escalation(started_at=incident_started_at, contacts=arizu_contacts | default({})) }}"
  vars:
    incident: "{{ findings | arizu.ops.severity(explain=true) }}"

- name: Own matrix and channels (group_vars)
  ansible.builtin.debug:
    msg: "{{ 'P2' | arizu.ops.escalation(started_at=1796306400, matrix=arizu_escalation_matrix, channels=arizu_channels) }}"
  vars:
    arizu_escalation_matrix:
      P2:
        - {role: on_call, after_minutes: 0}
        - {role: technical_lead, after_minutes: 120}
    arizu_channels:
      P2: ["internal: #incidents Slack channel", "external: status page updates"]
"""

RETURN = r"""
_value:
  description: Who to involve now and how to communicate.
  type: dict
  contains:
    severity:
      description: The severity, normalized (V(P0) to V(P3) or V(none)).
      type: str
      sample: P1
    started_at:
      description: O(started_at) in UTC, ISO 8601 with V(Z).
      type: str
      sample: "2026-12-03T14:00:00Z"
    now:
      description: The time evaluated at, in UTC, ISO 8601 with V(Z).
      type: str
      sample: "2026-12-03T14:20:00Z"
    elapsed_minutes:
      description:
        - Minutes since O(started_at), rounded down to 1 decimal (so it never shows a level the exact time has
          not reached); V(0.0) for a start slightly in the future.
      type: float
      sample: 20.0
    involve:
      description: The roles due now, in escalation order, as C({role, since_minutes, contact}).
      type: list
      elements: dict
      sample:
        - {role: on_call, since_minutes: 0, contact: PagerDuty rotation arizu-primary}
        - {role: technical_lead, since_minutes: 15, contact: (no contact configured)}
    next:
      description:
        - The next escalation step as C({role, at_minutes, in_minutes}) (C(in_minutes) rounded up to 1 decimal),
          or V(null) when every level is due. When several roles share the next minute, the first listed.
      type: dict
      sample: {role: infrastructure, at_minutes: 30, in_minutes: 10.0}
    channels:
      description: "The communication channels, as V(<audience>: <text>) strings."
      type: list
      elements: str
      sample: ["internal: #incidents Slack channel", "external: status page updates", "customer: email notifications"]
    customer_notification:
      description: V(true) when customers are to be notified (a V(customer) channel is listed; P0 and P1 by default).
      type: bool
      sample: true
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.module_utils.escalation import EscalationError
from ansible_collections.arizu.ops.plugins.module_utils.escalation import escalation as _escalation


def escalation(severity, started_at=None, now=None, contacts=None, matrix=None, channels=None):
    """Who to involve now; see DOCUMENTATION."""
    try:
        return _escalation(severity, started_at=started_at, now=now, contacts=contacts,
                           matrix=matrix, channels=channels)
    except EscalationError as exc:
        raise AnsibleFilterError('arizu.ops.escalation: %s' % exc) from None


class FilterModule:
    """arizu.ops escalation filter."""

    def filters(self):
        return {'escalation': escalation}
