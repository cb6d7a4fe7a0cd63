# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the arizu.ops.error_budget filter (module_utils/error_budget.py)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.error_budget import FilterModule, error_budget

KEYS = {'budget_minutes', 'consumed_minutes', 'consumed_pct', 'remaining_minutes', 'alert', 'exhausted'}


def budget(budget_minutes, consumed_minutes, consumed_pct, remaining_minutes, alert, exhausted=False):
    return {'budget_minutes': budget_minutes, 'consumed_minutes': consumed_minutes, 'consumed_pct': consumed_pct,
            'remaining_minutes': remaining_minutes, 'alert': alert, 'exhausted': exhausted}


CASES = [
    # the runbook's numbers
    ('app 99.9 % / 30 d, nothing bad', (99.9,), {}, budget(43.2, 0.0, 0.0, 43.2, 'none')),
    ('app 99.9 %, 21.6 min = 50 % -> critical', (99.9,), {'window_days': 30, 'bad_minutes': 21.6},
     budget(43.2, 21.6, 50.0, 21.6, 'critical')),
    ('app 99.9 %, 34.56 min = 80 % -> emergency', (99.9,), {'window_days': 30, 'bad_minutes': 34.56},
     budget(43.2, 34.56, 80.0, 8.64, 'emergency')),
    ('just under critical', (99.9,), {'bad_minutes': 21.59}, budget(43.2, 21.59, 49.97, 21.61, 'none')),
    ('just under emergency', (99.9,), {'bad_minutes': 34.55}, budget(43.2, 34.55, 79.97, 8.65, 'critical')),
    ('n8n 99.5 % = 3.6 h', (99.5,), {'bad_minutes': 108}, budget(216.0, 108.0, 50.0, 108.0, 'critical')),
    ('db 99.95 % = 21.6 min', (99.95,), {'bad_minutes': 5}, budget(21.6, 5.0, 23.14, 16.6, 'none')),
    ('whole budget', (99.9,), {'bad_minutes': 43.2}, budget(43.2, 43.2, 100.0, 0.0, 'emergency', True)),
    # more downtime than budget
    ('over budget', (99.9,), {'bad_minutes': 64.8}, budget(43.2, 64.8, 150.0, -21.6, 'emergency', True)),
    ('far over budget', (99.9,), {'bad_minutes': 43200}, budget(43.2, 43200.0, 100000.0, -43156.8, 'emergency', True)),
    # 100 % target and zero window: budget 0, no division by zero
    ('100 %, nothing bad', (100,), {}, budget(0.0, 0.0, 0.0, 0.0, 'none')),
    ('100 %, one bad minute', (100,), {'bad_minutes': 1}, budget(0.0, 1.0, 100.0, -1.0, 'emergency', True)),
    ('100.0 as a float', (100.0,), {'bad_minutes': 0.5}, budget(0.0, 0.5, 100.0, -0.5, 'emergency', True)),
    ('zero window', (99.9,), {'window_days': 0}, budget(0.0, 0.0, 0.0, 0.0, 'none')),
    ('zero window, zero bad as float', (99.9,), {'window_days': 0.0, 'bad_minutes': 0.0}, budget(0.0, 0.0, 0.0, 0.0, 'none')),
    # other windows and forms
    ('7 day window', (99.9,), {'window_days': 7, 'bad_minutes': 5.04}, budget(10.08, 5.04, 50.0, 5.04, 'critical')),
    ('fractional window', (99.0,), {'window_days': 0.5, 'bad_minutes': 1}, budget(7.2, 1.0, 13.88, 6.2, 'none')),
    ('integer target', (99,), {'bad_minutes': 216}, budget(432.0, 216.0, 50.0, 216.0, 'critical')),
    ('string target', ('99.9',), {'bad_minutes': 21.6}, budget(43.2, 21.6, 50.0, 21.6, 'critical')),
    ('string target with %', (' 99.9 % ',), {'bad_minutes': '21.6'}, budget(43.2, 21.6, 50.0, 21.6, 'critical')),
    ('Decimal target', (Decimal('99.9'),), {}, budget(43.2, 0.0, 0.0, 43.2, 'none')),
    ('tiny target', (0.001,), {'window_days': 1, 'bad_minutes': 1439.98}, budget(1439.99, 1439.98, 99.99, 0.01,
                                                                                 'emergency')),
    ('rounding half up', (99.9,), {'bad_minutes': 0.005}, budget(43.2, 0.01, 0.01, 43.19, 'none')),
    ('pct rounded down', (99.0,), {'window_days': 1, 'bad_minutes': 14.3999}, budget(14.4, 14.4, 99.99, 0.0,
                                                                                     'emergency')),
    ('own alert levels', (99.9,), {'bad_minutes': 12.96, 'critical_pct': 25, 'emergency_pct': 30},
     budget(43.2, 12.96, 30.0, 30.24, 'emergency')),
    ('equal alert levels', (99.9,), {'bad_minutes': 21.6, 'critical_pct': 50, 'emergency_pct': 50},
     budget(43.2, 21.6, 50.0, 21.6, 'emergency')),
]


@pytest.mark.parametrize('args, kwargs, expected', [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_error_budget(args, kwargs, expected):
    result = error_budget(*args, **kwargs)
    assert result == expected
    assert set(result) == KEYS
    for key in KEYS - {'alert', 'exhausted'}:
        assert isinstance(result[key], float)
        assert round(result[key], 2) == result[key]
    assert str(result['remaining_minutes']) != '-0.0'


def test_budget_is_consumed_plus_remaining():
    for bad in (0, 0.004, 0.005, 1.234, 21.6, 43.2, 50.129):
        result = error_budget(99.9, bad_minutes=bad)
        assert round(result['consumed_minutes'] + result['remaining_minutes'], 2) == result['budget_minutes']


def test_shown_pct_never_reaches_an_unreached_alert():
    for bad in (21.599, 21.5999, 34.5599):
        result = error_budget(99.9, bad_minutes=bad)
        level = 'none' if result['consumed_pct'] < 50 else 'critical' if result['consumed_pct'] < 80 else 'emergency'
        assert result['alert'] == level, result


def test_filter_is_registered():
    assert FilterModule().filters()['error_budget'] is error_budget


BAD = [
    ('target 0', (0,), {}, 'target: the availability target must be a percentage in (0, 100], got 0'),
    ('target negative', (-1,), {}, 'in (0, 100]'),
    ('target over 100', (100.01,), {}, 'in (0, 100], got 100.01'),
    ('target 101 %', ('101%',), {}, 'in (0, 100]'),
    ('target a word', ('high',), {}, "target: expected a number, got 'high'"),
    ('target empty', ('',), {}, 'target: expected a number'),
    ('target a boolean', (True,), {}, 'target: expected a number, got a boolean'),
    ('target null', (None,), {}, 'target: expected a number, got null'),
    ('target a list', ([99.9],), {}, 'target: expected a number, got list'),
    ('target NaN', (float('nan'),), {}, 'target: expected a finite number'),
    ('target NaN string', ('nan',), {}, 'target: expected a finite number'),
    ('target infinite', (float('inf'),), {}, 'target: expected a finite number'),
    ('negative window', (99.9,), {'window_days': -1}, 'window_days: must be 0 or more, got -1'),
    ('window a word', (99.9,), {'window_days': 'month'}, "window_days: expected a number, got 'month'"),
    ('negative bad minutes', (99.9,), {'bad_minutes': -0.1}, 'bad_minutes: must be 0 or more, got -0.1'),
    ('bad minutes a boolean', (99.9,), {'bad_minutes': False}, 'bad_minutes: expected a number, got a boolean'),
    ('bad minutes infinite', (99.9,), {'bad_minutes': float('inf')}, 'bad_minutes: expected a finite number'),
    ('more bad minutes than the window', (99.9,), {'window_days': 1, 'bad_minutes': 1441},
     'bad_minutes: 1441 bad minutes do not fit in a 1 day window (1440 minutes)'),
    ('bad minutes in a zero window', (99.9,), {'window_days': 0, 'bad_minutes': 1}, 'do not fit'),
    ('critical over emergency', (99.9,), {'critical_pct': 90, 'emergency_pct': 80},
     'need 0 < critical_pct <= emergency_pct'),
    ('critical 0', (99.9,), {'critical_pct': 0}, 'need 0 < critical_pct'),
]


@pytest.mark.parametrize('args, kwargs, message', [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_invalid_input(args, kwargs, message):
    with pytest.raises(AnsibleFilterError) as info:
        error_budget(*args, **kwargs)
    text = str(info.value)
    assert text.startswith('arizu.ops.error_budget: ')
    assert message in text
    assert info.value.__cause__ is None and info.value.__suppress_context__
