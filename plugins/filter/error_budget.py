# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
name: error_budget
short_description: Error budget of an availability SLO, how much of it is consumed, and the runbook's alert level
version_added: 1.0.0
author:
  - Arizu maintainers (@arizu)
description:
  - Computes the error budget of an availability target over a window, how much of it the given bad
    (downtime) minutes consume, and the alert level of the Arizu operations runbook
    (V(critical) at 50 % of the budget consumed, V(emergency) at 80 %).
  - "Budget in minutes: O(window_days) x 1440 x (100 - target) / 100. 99.9 % over 30 days is 43.2 minutes,
    99.5 % is 216 minutes (3.6 hours), 99.95 % is 21.6 minutes."
  - Exact decimal arithmetic is used, so C(99.9) is exactly 99.9 and 21.6 bad minutes are exactly 50 % of
    43.2 minutes.
  - A 100 % target or a zero window gives a budget of 0. Then RV(_value.consumed_pct) is V(0.0) when no
    minute was bad and V(100.0) as soon as one was (the whole, empty budget is gone; the alert is then
    V(emergency)). There is never a division by zero.
  - More bad minutes than the budget give RV(_value.consumed_pct) over 100 and a negative
    RV(_value.remaining_minutes) (the overrun), and RV(_value.exhausted) is V(true).
positional: _input
options:
  _input:
    description:
      - The availability target in percent, greater than 0 and at most 100, for example V(99.9).
      - A numeric string is accepted too, with or without a trailing C(%) (V("99.9%")).
    type: raw
    required: true
  window_days:
    description:
      - Length of the SLO window in days (fractions allowed). V(0) gives a budget of 0.
    type: float
    default: 30
  bad_minutes:
    description:
      - Minutes of downtime (or of SLO violation) in the window.
      - Must not be negative, nor more than the window has.
    type: float
    default: 0
  critical_pct:
    description:
      - Consumed percentage from which RV(_value.alert) is V(critical) (the runbook's "Critical Alert Threshold").
    type: float
    default: 50
  emergency_pct:
    description:
      - Consumed percentage from which RV(_value.alert) is V(emergency) (the runbook's "Emergency Response").
      - Must be at least O(critical_pct).
    type: float
    default: 80
notes:
  - Invalid input (a target outside (0, 100], negative or non-numeric minutes or days, more bad minutes
    than the window holds) fails the task with a message naming the argument.
  - The runbook's "Monthly Error Budget 0.1 % (7.2 hours/month)" does not add up. 0.1 % of a 30-day month
    is 43.2 minutes (its own "99.9 % uptime (43 minutes downtime/month)"); 7.2 hours would be 1 %. This
    filter computes from the target.
"""

EXAMPLES = r"""
- name: The runbook's application SLO, half of the budget consumed
  ansible.builtin.debug:
    msg: "{{ 99.9 | arizu.ops.error_budget(window_days=30, bad_minutes=21.6) }}"
  # {budget_minutes: 43.2, consumed_minutes: 21.6, consumed_pct: 50.0,
  #  remaining_minutes: 21.6, alert: critical, exhausted: false}

- name: Page when the n8n budget reaches the emergency level
  ansible.builtin.fail:
    msg: "n8n error budget: {{ budget.consumed_pct }} % consumed"
  vars:
    budget: "{{ 99.5 | arizu.ops.error_budget(bad_minutes=n8n_bad_minutes) }}"
  when: budget.alert == 'emergency'
"""

RETURN = r"""
_value:
  description: The error budget.
  type: dict
  contains:
    budget_minutes:
      description: Allowed bad minutes in the window, rounded to 2 decimals.
      type: float
      sample: 43.2
    consumed_minutes:
      description: The bad minutes, rounded to 2 decimals.
      type: float
      sample: 21.6
    consumed_pct:
      description:
        - Percentage of the budget consumed, rounded down to 2 decimals (so it never shows a threshold the
          exact value did not reach). Over 100 when over budget.
        - With a budget of 0, V(0.0) when nothing was consumed, else V(100.0).
      type: float
      sample: 50.0
    remaining_minutes:
      description: RV(_value.budget_minutes) minus RV(_value.consumed_minutes); negative by the overrun when over budget.
      type: float
      sample: 21.6
    alert:
      description: V(emergency) at RV(_value.consumed_pct) >= O(emergency_pct), V(critical) at >= O(critical_pct), else V(none) (decided on the exact value).
      type: str
      choices: [none, critical, emergency]
      sample: critical
    exhausted:
      description: V(true) when at least one bad minute was counted and the bad minutes reach or exceed the budget.
      type: bool
      sample: false
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.module_utils.error_budget import ErrorBudgetError
from ansible_collections.arizu.ops.plugins.module_utils.error_budget import error_budget as _error_budget


def error_budget(target, window_days=30, bad_minutes=0, critical_pct=50, emergency_pct=80):
    """Error budget of *target*; see DOCUMENTATION."""
    try:
        return _error_budget(target, window_days=window_days, bad_minutes=bad_minutes,
                             critical_pct=critical_pct, emergency_pct=emergency_pct)
    except ErrorBudgetError as exc:
        raise AnsibleFilterError('arizu.ops.error_budget: %s' % exc) from None


class FilterModule:
    """arizu.ops error_budget filter."""

    def filters(self):
        return {'error_budget': error_budget}
