# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Error budget arithmetic for an availability SLO (pure, no Ansible imports).

Exact decimal arithmetic (``99.9`` is 99.9, not 99.900000000000006), so the
runbook's numbers come out exactly: 99.9 % over 30 days is a budget of 43.2
minutes, and 21.6 bad minutes are exactly 50 % of it.
"""

from __future__ import annotations

import math

from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, InvalidOperation

__all__ = ['ALERT_LEVELS', 'ErrorBudgetError', 'error_budget']

MINUTES_PER_DAY = 1440
ALERT_LEVELS = ('none', 'critical', 'emergency')
_CENT = Decimal('0.01')


class ErrorBudgetError(ValueError):
    """Invalid input; the message names the argument."""


def _decimal(value, name, allow_percent=False):
    """A finite Decimal from an int, float, Decimal or numeric string."""
    if isinstance(value, bool) or value is None:
        raise ErrorBudgetError('%s: expected a number, got %s' % (name, 'null' if value is None else 'a boolean'))
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ErrorBudgetError('%s: expected a finite number, got %r' % (name, value))
        return Decimal(repr(value))  # shortest repr: 99.9 -> Decimal('99.9')
    if isinstance(value, (int, Decimal)):
        result = Decimal(value)
    elif isinstance(value, str):
        text = value.strip()
        if allow_percent and text.endswith('%'):
            text = text[:-1].strip()
        try:
            result = Decimal(text)
        except InvalidOperation:
            raise ErrorBudgetError('%s: expected a number, got %r' % (name, value)) from None
    else:
        raise ErrorBudgetError('%s: expected a number, got %s' % (name, type(value).__name__))
    if not result.is_finite():
        raise ErrorBudgetError('%s: expected a finite number, got %r' % (name, value))
    return result


def _out(value, rounding=ROUND_HALF_UP):
    return float(value.quantize(_CENT, rounding=rounding)) + 0.0  # + 0.0 turns -0.0 into 0.0


def error_budget(target, window_days=30, bad_minutes=0, critical_pct=50, emergency_pct=80):
    """Error budget of an availability *target* (percent) over *window_days*.

    Returns a dict: ``budget_minutes``, ``consumed_minutes``, ``consumed_pct``,
    ``remaining_minutes``, ``alert`` (``none``/``critical``/``emergency``) and
    ``exhausted``. Raises ErrorBudgetError on invalid input.

    * budget = window minutes x (100 - target) / 100; a 100 % target or a
      zero window gives a budget of 0 (no division by zero).
    * consumed_pct = bad / budget x 100. With a zero budget it is 0.0 when
      nothing was consumed and 100.0 as soon as one bad minute was (the whole,
      empty budget is gone). Over budget it exceeds 100.
    * remaining = budget - bad, negative by the overrun when over budget.
    * alert: ``emergency`` at consumed_pct >= *emergency_pct*, ``critical``
      at >= *critical_pct*, else ``none``, decided on the exact value.
    * Minutes are rounded half-up to 2 decimals (remaining is computed from
      the rounded budget and consumption, so budget = consumed + remaining
      holds in the output); consumed_pct is rounded *down* to 2 decimals so
      it never shows a threshold that the exact value did not reach.
    """
    target_d = _decimal(target, 'target', allow_percent=True)
    if not Decimal(0) < target_d <= Decimal(100):
        raise ErrorBudgetError('target: the availability target must be a percentage in (0, 100], got %s' % target)
    window_d = _decimal(window_days, 'window_days')
    if window_d < 0:
        raise ErrorBudgetError('window_days: must be 0 or more, got %s' % window_days)
    bad_d = _decimal(bad_minutes, 'bad_minutes')
    if bad_d < 0:
        raise ErrorBudgetError('bad_minutes: must be 0 or more, got %s' % bad_minutes)
    window_minutes = window_d * MINUTES_PER_DAY
    if bad_d > window_minutes:
        raise ErrorBudgetError('bad_minutes: %s bad minutes do not fit in a %s day window (%s minutes)'
                               % (bad_minutes, window_days, '{:f}'.format(window_minutes.normalize())))
    critical_d = _decimal(critical_pct, 'critical_pct')
    emergency_d = _decimal(emergency_pct, 'emergency_pct')
    if not Decimal(0) < critical_d <= emergency_d:
        raise ErrorBudgetError('critical_pct and emergency_pct: need 0 < critical_pct <= emergency_pct, got %s and %s'
                               % (critical_pct, emergency_pct))

    budget = window_minutes * (Decimal(100) - target_d) / Decimal(100)
    if budget == 0:
        consumed_pct = Decimal(0) if bad_d == 0 else Decimal(100)
    else:
        consumed_pct = bad_d * Decimal(100) / budget

    if consumed_pct >= emergency_d:
        alert = 'emergency'
    elif consumed_pct >= critical_d:
        alert = 'critical'
    else:
        alert = 'none'

    budget_r = budget.quantize(_CENT, rounding=ROUND_HALF_UP)
    consumed_r = bad_d.quantize(_CENT, rounding=ROUND_HALF_UP)
    return {
        'budget_minutes': _out(budget_r),
        'consumed_minutes': _out(consumed_r),
        'consumed_pct': _out(consumed_pct, ROUND_DOWN),
        'remaining_minutes': _out(budget_r - consumed_r),
        'alert': alert,
        'exhausted': bad_d > 0 and bad_d >= budget,
    }
