# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the arizu.ops.escalation filter (module_utils/escalation.py)."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.escalation import FilterModule, escalation
from ansible_collections.arizu.ops.plugins.module_utils import escalation as escalation_utils

START = '2026-12-03T14:00:00Z'
START_EPOCH = 1796306400  # 2026-12-03T14:00:00Z
CONTACTS = {
    'on_call': 'PagerDuty rotation arizu-primary',
    'technical_lead': '@dana',
    'product_owner': '@po',
    'infrastructure': '#infra-oncall',
    'executives': 'cto@example.com',
}
NONE_SET = '(no contact configured)'
SLACK = 'internal: #incidents Slack channel'
ALL_CHANNELS = [SLACK, 'external: status page updates', 'customer: email notifications']
ORDER = ['on_call', 'technical_lead', 'infrastructure', 'executives']
AT = {'on_call': 0, 'technical_lead': 15, 'infrastructure': 30, 'executives': 60}


def at_minutes(minutes, start=START_EPOCH):
    """ISO 8601 UTC text *minutes* after the start (whole seconds)."""
    moment = datetime.datetime.fromtimestamp(start, datetime.timezone.utc) + datetime.timedelta(
        seconds=round(minutes * 60))
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def roles(result):
    return [entry['role'] for entry in result['involve']]


# (id, severity, minutes after the start, roles involved, next role, in_minutes)
BOUNDARIES = []
for _sev in ('P0', 'P1'):
    BOUNDARIES += [
        (_sev + ' at start', _sev, 0, ['on_call'], 'technical_lead', 15.0),
        (_sev + ' 14.9 min', _sev, 14.9, ['on_call'], 'technical_lead', 0.1),
        (_sev + ' 15 min', _sev, 15, ['on_call', 'technical_lead'], 'infrastructure', 15.0),
        (_sev + ' 20 min', _sev, 20, ['on_call', 'technical_lead'], 'infrastructure', 10.0),
        (_sev + ' 29.9 min', _sev, 29.9, ['on_call', 'technical_lead'], 'infrastructure', 0.1),
        (_sev + ' 30 min', _sev, 30, ['on_call', 'technical_lead', 'infrastructure'], 'executives', 30.0),
        (_sev + ' 35 min', _sev, 35, ['on_call', 'technical_lead', 'infrastructure'], 'executives', 25.0),
        (_sev + ' 59.9 min', _sev, 59.9, ['on_call', 'technical_lead', 'infrastructure'], 'executives', 0.1),
        (_sev + ' 60 min', _sev, 60, ORDER, None, None),
        (_sev + ' 3 days', _sev, 3 * 1440, ORDER, None, None),
    ]
for _sev in ('P2', 'P3'):
    for _minutes in (0, 14.9, 15, 29.9, 30, 59.9, 60, 600):
        BOUNDARIES.append(('%s %g min' % (_sev, _minutes), _sev, _minutes, ['on_call'], None, None))
for _minutes in (0, 15, 60):
    BOUNDARIES.append(('none %g min' % _minutes, 'none', _minutes, [], None, None))


@pytest.mark.parametrize('severity, minutes, expected, next_role, in_minutes',
                         [c[1:] for c in BOUNDARIES], ids=[c[0] for c in BOUNDARIES])
def test_matrix_boundaries(severity, minutes, expected, next_role, in_minutes):
    result = escalation(severity, started_at=START, now=at_minutes(minutes), contacts=CONTACTS)
    assert set(result) == {'severity', 'started_at', 'now', 'elapsed_minutes', 'involve', 'next', 'channels',
                           'customer_notification'}
    assert result['severity'] == severity
    assert result['elapsed_minutes'] == round(minutes, 1)
    assert isinstance(result['elapsed_minutes'], float)
    assert roles(result) == expected
    for entry in result['involve']:
        assert entry == {'role': entry['role'], 'since_minutes': AT[entry['role']], 'contact': CONTACTS[entry['role']]}
    if next_role is None:
        assert result['next'] is None
    else:
        assert result['next'] == {'role': next_role, 'at_minutes': AT[next_role], 'in_minutes': in_minutes}
    if severity in ('P0', 'P1'):
        assert result['channels'] == ALL_CHANNELS and result['customer_notification'] is True
    elif severity in ('P2', 'P3'):
        assert result['channels'] == [SLACK] and result['customer_notification'] is False
    else:
        assert result['channels'] == [] and result['customer_notification'] is False


@pytest.mark.parametrize('seconds, elapsed, lead', [
    (899, 14.9, False),
    (899.999, 14.9, False),   # 14.99998 min: shown rounded down, never as 15.0 without the lead
    (900, 15.0, True),
    (900.001, 15.0, True),
])
def test_elapsed_is_rounded_down_and_levels_use_the_exact_time(seconds, elapsed, lead):
    result = escalation('P1', started_at=START_EPOCH, now=START_EPOCH + seconds)
    assert result['elapsed_minutes'] == elapsed
    assert ('technical_lead' in roles(result)) is lead
    if not lead:
        assert result['next']['in_minutes'] == 0.1   # rounded up, never 0.0 while still ahead


SAME_MOMENT = [
    ('Z', '2026-12-03T14:00:00Z', '2026-12-03T14:35:00Z'),
    ('lower-case z and t', '2026-12-03t14:00:00z', '2026-12-03t14:35:00z'),
    ('+01:00', '2026-12-03T15:00:00+01:00', '2026-12-03T15:35:00+01:00'),
    ('mixed offsets', '2026-12-03T15:00:00+01:00', '2026-12-03T09:35:00-05:00'),
    ('+0530 without colon', '2026-12-03T19:30:00+0530', '2026-12-03T14:35:00Z'),
    ('+00 hours only', '2026-12-03T14:00:00+00', '2026-12-03T14:35:00+00:00'),
    ('space separator, no seconds', '2026-12-03 14:00Z', '2026-12-03 14:35 Z'),
    ('fractional seconds', '2026-12-03T14:00:00.000000Z', '2026-12-03T14:35:00.123Z'),
    ('-10:00 across midnight', '2026-12-03T23:50:00-10:00', '2026-12-04T10:25:00Z'),
    ('epoch int', START_EPOCH, START_EPOCH + 35 * 60),
    ('epoch float', float(START_EPOCH), START_EPOCH + 35 * 60 + 0.5),
    ('epoch string', str(START_EPOCH), '%d.25' % (START_EPOCH + 35 * 60)),
    ('epoch Decimal', Decimal(START_EPOCH), START_EPOCH + 2100),
    ('epoch and ISO mixed', START_EPOCH, '2026-12-03T15:35:00+01:00'),
    ('aware datetimes', datetime.datetime(2026, 12, 3, 14, tzinfo=datetime.timezone.utc),
     datetime.datetime(2026, 12, 3, 16, 35, tzinfo=datetime.timezone(datetime.timedelta(hours=2)))),
]


@pytest.mark.parametrize('started_at, now', [c[1:] for c in SAME_MOMENT], ids=[c[0] for c in SAME_MOMENT])
def test_time_forms(started_at, now):
    result = escalation('P0', started_at=started_at, now=now)
    assert result['elapsed_minutes'] == 35.0
    assert roles(result) == ['on_call', 'technical_lead', 'infrastructure']
    assert result['started_at'].endswith('Z') and result['now'].endswith('Z')
    if started_at in (START, START_EPOCH):
        assert result['started_at'] == START


def test_now_defaults_to_the_current_utc_time():
    started = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=31)
    result = escalation('P1', started_at=started.strftime('%Y-%m-%dT%H:%M:%S.%fZ'))
    assert 31.0 <= result['elapsed_minutes'] < 32
    assert roles(result) == ['on_call', 'technical_lead', 'infrastructure']


@pytest.mark.parametrize('minutes_ahead', [0.5, 4.9, 5])
def test_a_start_slightly_in_the_future_is_clock_skew(minutes_ahead):
    result = escalation('P1', started_at=at_minutes(minutes_ahead), now=START)
    assert result['elapsed_minutes'] == 0.0
    assert roles(result) == ['on_call']
    assert result['next'] == {'role': 'technical_lead', 'at_minutes': 15, 'in_minutes': 15.0}


CONTACT_CASES = [
    ('no contacts', None, [NONE_SET, NONE_SET]),
    ('empty mapping', {}, [NONE_SET, NONE_SET]),
    ('only on_call', {'on_call': 'PD'}, ['PD', NONE_SET]),
    ('null and empty', {'on_call': None, 'technical_lead': '  '}, [NONE_SET, NONE_SET]),
    ('list joined', {'on_call': ['PD primary', ' PD secondary '], 'technical_lead': '@dana'},
     ['PD primary, PD secondary', '@dana']),
    ('number', {'on_call': 4930123456, 'technical_lead': '@dana'}, ['4930123456', '@dana']),
    ('extra roles ignored', {'product_owner': '@po', 'foo': 'bar'}, [NONE_SET, NONE_SET]),
    ('whitespace trimmed', {'on_call': '  PD  ', 'technical_lead': '\t@dana\n'}, ['PD', '@dana']),
]


@pytest.mark.parametrize('contacts, expected', [c[1:] for c in CONTACT_CASES], ids=[c[0] for c in CONTACT_CASES])
def test_contacts(contacts, expected):
    result = escalation('P1', started_at=START, now=at_minutes(16), contacts=contacts)
    assert [entry['contact'] for entry in result['involve']] == expected


SEVERITY_FORMS = [
    ('lower case', 'p1', 'P1'),
    ('padded', ' P2 ', 'P2'),
    ('NONE', 'NONE', 'none'),
    ('severity explain mapping', {'severity': 'P0', 'reasons': [], 'evaluated': ['app']}, 'P0'),
]


@pytest.mark.parametrize('value, expected', [c[1:] for c in SEVERITY_FORMS], ids=[c[0] for c in SEVERITY_FORMS])
def test_severity_forms(value, expected):
    assert escalation(value, started_at=START, now=START)['severity'] == expected


OVERRIDES = [
    ('P2 with a lead after 2 h, at 1 h', 'P2', {'P2': [{'role': 'on_call', 'after_minutes': 0},
                                                       {'role': 'technical_lead', 'after_minutes': 120}]},
     60, ['on_call'], {'role': 'technical_lead', 'at_minutes': 120, 'in_minutes': 60.0}),
    ('P2 with a lead after 2 h, at 2 h', 'P2', {'P2': [{'role': 'on_call', 'after_minutes': 0},
                                                       {'role': 'technical_lead', 'after_minutes': 120}]},
     120, ['on_call', 'technical_lead'], None),
    ('unsorted levels are sorted', 'P1', {'P1': [{'role': 'executives', 'after_minutes': 45},
                                                 {'role': 'on_call', 'after_minutes': 0},
                                                 {'role': 'product_owner', 'after_minutes': 10}]},
     20, ['on_call', 'product_owner'], {'role': 'executives', 'at_minutes': 45, 'in_minutes': 25.0}),
    ('fractional minutes', 'P0', {'P0': [{'role': 'on_call', 'after_minutes': 0},
                                         {'role': 'technical_lead', 'after_minutes': 7.5}]},
     7.5, ['on_call', 'technical_lead'], None),
    ('lower-case key, other severities keep defaults', 'P1', {'p3': []},
     35, ['on_call', 'technical_lead', 'infrastructure'], {'role': 'executives', 'at_minutes': 60, 'in_minutes': 25.0}),
    ('empty levels: nobody', 'P3', {'P3': []}, 10, [], None),
    ('nobody at first', 'P3', {'P3': [{'role': 'on_call', 'after_minutes': 30}]},
     10, [], {'role': 'on_call', 'at_minutes': 30, 'in_minutes': 20.0}),
]


@pytest.mark.parametrize('severity, matrix, minutes, expected, next_step',
                         [c[1:] for c in OVERRIDES], ids=[c[0] for c in OVERRIDES])
def test_matrix_override(severity, matrix, minutes, expected, next_step):
    result = escalation(severity, started_at=START, now=at_minutes(minutes), matrix=matrix)
    assert roles(result) == expected
    assert result['next'] == next_step


def test_fractional_since_minutes_and_contacts_in_overrides():
    result = escalation('P0', started_at=START, now=at_minutes(8), contacts={'po': '@po'},
                        matrix={'P0': [{'role': 'po', 'after_minutes': 7.5}]})
    assert result['involve'] == [{'role': 'po', 'since_minutes': 7.5, 'contact': '@po'}]


CHANNEL_OVERRIDES = [
    ('P2 with a status page', 'P2', {'P2': [SLACK, 'External: status page updates']},
     [SLACK, 'external: status page updates'], False),
    ('P3 with customers', 'P3', {'P3': ['customer:  email to affected accounts ']},
     ['customer: email to affected accounts'], True),
    ('P1 without customers', 'P1', {'P1': [SLACK, 'external: status page']}, [SLACK, 'external: status page'], False),
    ('other severity untouched', 'P0', {'P2': []}, ALL_CHANNELS, True),
    ('no channels', 'P1', {'P1': []}, [], False),
]


@pytest.mark.parametrize('severity, channels, expected, customer',
                         [c[1:] for c in CHANNEL_OVERRIDES], ids=[c[0] for c in CHANNEL_OVERRIDES])
def test_channel_override(severity, channels, expected, customer):
    result = escalation(severity, started_at=START, now=START, channels=channels)
    assert result['channels'] == expected
    assert result['customer_notification'] is customer


def test_defaults_are_not_mutated():
    before = escalation('P1', started_at=START, now=at_minutes(61))
    result = escalation('P1', started_at=START, now=at_minutes(61))
    result['involve'].clear()
    result['channels'].append('internal: x')
    assert escalation('P1', started_at=START, now=at_minutes(61)) == before
    assert escalation_utils.DEFAULT_MATRIX['P1'][1] == {'role': 'technical_lead', 'after_minutes': 15}


def test_filter_is_registered():
    assert FilterModule().filters()['escalation'] is escalation


BAD = [
    ('unknown severity', ('P4',), {'started_at': START}, "severity: expected P0, P1, P2, P3 or none, got 'P4'"),
    ('severity a word', ('critical',), {'started_at': START}, "got 'critical'"),
    ('severity null', (None,), {'started_at': START}, 'severity: expected P0, P1, P2, P3 or none, got null'),
    ('severity a number', (1,), {'started_at': START}, 'got a number'),
    ('severity mapping without a good severity', ({'severity': 'high'},), {'started_at': START}, "got 'high'"),
    ('no start', ('P1',), {}, 'started_at: required'),
    ('empty start', ('P1',), {'started_at': ''}, 'started_at: required'),
    ('unparseable start', ('P1',), {'started_at': 'yesterday 2pm'}, "started_at: cannot read 'yesterday 2pm' as a time"),
    ('no time zone', ('P1',), {'started_at': '2026-12-03T14:00:00'}, 'started_at: \'2026-12-03T14:00:00\' has no time zone'),
    ('date only', ('P1',), {'started_at': '2026-12-03'}, 'started_at: cannot read'),
    ('bad month', ('P1',), {'started_at': '2026-13-03T14:00:00Z'}, 'started_at: \'2026-13-03T14:00:00Z\' is not a valid time'),
    ('bad hour', ('P1',), {'started_at': '2026-12-03T25:00:00Z'}, 'is not a valid time'),
    ('bad offset', ('P1',), {'started_at': '2026-12-03T14:00:00+25:00'}, 'is not a valid time'),
    ('naive datetime', ('P1',), {'started_at': datetime.datetime(2026, 12, 3, 14)}, 'the datetime has no time zone'),
    ('boolean start', ('P1',), {'started_at': True}, 'started_at: expected an ISO 8601 time'),
    ('list start', ('P1',), {'started_at': [START]}, 'got a list'),
    ('negative epoch', ('P1',), {'started_at': -5}, 'started_at: -5 is not a valid epoch time'),
    ('infinite epoch', ('P1',), {'started_at': float('inf')}, 'is not a valid epoch time'),
    ('huge epoch', ('P1',), {'started_at': '999999999999'}, 'is not a valid epoch time'),
    ('unparseable now', ('P1',), {'started_at': START, 'now': 'soon'}, "now: cannot read 'soon'"),
    ('now without zone', ('P1',), {'started_at': START, 'now': '2026-12-03 14:20'}, 'now: \'2026-12-03 14:20\' has no time zone'),
    ('start in the future', ('P1',), {'started_at': '2026-12-03T14:05:01Z', 'now': START},
     'started_at: 2026-12-03T14:05:01Z is 5.0 minutes after now (2026-12-03T14:00:00Z); more than 5 minutes in the future'),
    ('start an hour ahead (offset typo)', ('P0',), {'started_at': '2026-12-03T15:00:00Z', 'now': '2026-12-03T15:00:00+01:00'},
     '60.0 minutes after now'),
    ('contacts a list', ('P1',), {'started_at': START, 'now': START, 'contacts': ['PD']},
     'contacts: expected a mapping of role to contact, got a list'),
    ('contacts a string', ('P1',), {'started_at': START, 'now': START, 'contacts': 'PD'}, 'got a string'),
    ('contact a mapping', ('P1',), {'started_at': START, 'now': START, 'contacts': {'on_call': {'pd': 1}}},
     'contacts.on_call: expected a contact string (or a list of strings), got a mapping'),
    ('contact a boolean', ('P1',), {'started_at': START, 'now': START, 'contacts': {'on_call': True}},
     'contacts.on_call: expected a contact string'),
    ('matrix a list', ('P1',), {'started_at': START, 'now': START, 'matrix': []}, 'matrix: expected a mapping'),
    ('matrix unknown severity', ('P1',), {'started_at': START, 'now': START, 'matrix': {'P5': []}},
     "matrix: keys must be severities P0, P1, P2 or P3, got 'P5'"),
    ('matrix none severity', ('P1',), {'started_at': START, 'now': START, 'matrix': {'none': []}},
     "matrix: keys must be severities"),
    ('matrix levels a mapping', ('P1',), {'started_at': START, 'now': START, 'matrix': {'P1': {'on_call': 0}}},
     'matrix.P1: expected a list of {role, after_minutes}, got a mapping'),
    ('matrix level a string', ('P1',), {'started_at': START, 'now': START, 'matrix': {'P1': ['on_call']}},
     'matrix.P1[0]: expected a mapping'),
    ('matrix level without role', ('P1',), {'started_at': START, 'now': START,
                                            'matrix': {'P1': [{'after_minutes': 0}]}},
     'matrix.P1[0].role: expected a role name'),
    ('matrix bad role', ('P1',), {'started_at': START, 'now': START,
                                  'matrix': {'P1': [{'role': 'tech lead', 'after_minutes': 0}]}},
     "matrix.P1[0].role: expected a role name (letters, digits, _ . -), got 'tech lead'"),
    ('matrix duplicate role', ('P2',), {'started_at': START, 'now': START,
                                        'matrix': {'P2': [{'role': 'on_call', 'after_minutes': 0},
                                                          {'role': 'on_call', 'after_minutes': 5}]}},
     "matrix.P2[1].role: 'on_call' is listed twice"),
    ('matrix minutes missing', ('P1',), {'started_at': START, 'now': START, 'matrix': {'P1': [{'role': 'on_call'}]}},
     'matrix.P1[0].after_minutes: expected a number of minutes, got null'),
    ('matrix minutes a string', ('P1',), {'started_at': START, 'now': START,
                                          'matrix': {'P1': [{'role': 'on_call', 'after_minutes': '15'}]}},
     'matrix.P1[0].after_minutes: expected a number of minutes, got a string'),
    ('matrix minutes negative', ('P1',), {'started_at': START, 'now': START,
                                          'matrix': {'P1': [{'role': 'on_call', 'after_minutes': -1}]}},
     'matrix.P1[0].after_minutes: must be 0 or more, got -1'),
    ('matrix minutes NaN', ('P1',), {'started_at': START, 'now': START,
                                     'matrix': {'P1': [{'role': 'on_call', 'after_minutes': float('nan')}]}},
     'expected a finite number'),
    ('matrix unknown key', ('P1',), {'started_at': START, 'now': START,
                                     'matrix': {'P1': [{'role': 'on_call', 'after_minutes': 0, 'after': 5}]}},
     'matrix.P1[0]: unknown key after'),
    ('channels a list', ('P1',), {'started_at': START, 'now': START, 'channels': [SLACK]}, 'channels: expected a mapping'),
    ('channels not a list', ('P1',), {'started_at': START, 'now': START, 'channels': {'P1': SLACK}},
     'channels.P1: expected a list'),
    ('channel without audience', ('P1',), {'started_at': START, 'now': START, 'channels': {'P1': ['#incidents']}},
     "channels.P1[0]: expected \"<audience>: <text>\" with audience internal, external, customer, got '#incidents'"),
    ('channel unknown audience', ('P1',), {'started_at': START, 'now': START, 'channels': {'P1': ['press: release']}},
     'channels.P1[0]: expected "<audience>: <text>"'),
    ('channel without text', ('P1',), {'started_at': START, 'now': START, 'channels': {'P1': ['internal: ']}},
     'channels.P1[0]'),
    ('channel a number', ('P1',), {'started_at': START, 'now': START, 'channels': {'P1': [5]}},
     'channels.P1[0]: expected a string, got a number'),
    # arguments are checked whatever the severity
    ('none still checks contacts', ('none',), {'started_at': START, 'now': START, 'contacts': 'x'}, 'contacts:'),
    ('none still checks the time', ('none',), {'started_at': 'x'}, 'started_at: cannot read'),
]


@pytest.mark.parametrize('args, kwargs, message', [c[1:] for c in BAD], ids=[c[0] for c in BAD])
def test_invalid_input(args, kwargs, message):
    with pytest.raises(AnsibleFilterError) as info:
        escalation(*args, **kwargs)
    text = str(info.value)
    assert text.startswith('arizu.ops.escalation: ')
    assert message in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_module_utils_imports_nothing_from_ansible():
    with open(escalation_utils.__file__, encoding='utf-8') as handle:
        source = handle.read()
    assert 'import ansible' not in source and 'from ansible' not in source
