# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the arizu.ops.postmortem filter (module_utils/postmortem.py)."""

from __future__ import annotations

import datetime
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.postmortem import FilterModule, postmortem
from ansible_collections.arizu.ops.plugins.module_utils.postmortem import (
    PostmortemError,
    build_postmortem,
    format_duration,
    parse_time,
)

INCIDENT = 'INC-20261203-1400'


def task(run, time, name, result='ok', host='web1', play='Remediate', playbook='remediate.yml', end=None, **extra):
    event = {'kind': 'task', 'run': run, 'time': time, 'start': time, 'end': end or time, 'duration_s': 0.1,
             'host': host, 'task': name, 'action': 'ansible.builtin.command', 'result': result,
             'changed': result == 'changed', 'failed': result == 'failed', 'unreachable': result == 'unreachable',
             'censored': False, 'play': play, 'playbook': playbook}
    event.update(extra)
    return event


def run_events(run, playbook, play, start, tasks, end, hosts):
    return ([{'kind': 'playbook_start', 'run': run, 'time': start, 'playbook': playbook, 'controller': 'ctl',
              'check_mode': False},
             {'kind': 'play_start', 'run': run, 'time': start, 'play': play, 'playbook': playbook}]
            + tasks
            + [{'kind': 'run_end', 'run': run, 'time': end, 'playbook': playbook,
                'result': 'failed' if any(c.get('failed') or c.get('unreachable') for c in hosts.values()) else 'ok',
                'hosts': hosts}])


def recap(**counts):
    base = {'ok': 1, 'changed': 0, 'failed': 0, 'unreachable': 0, 'skipped': 0, 'rescued': 0, 'ignored': 0}
    base.update(counts)
    return base


TIMELINE = (
    run_events(1, 'triage.yml', 'Triage the Arizu stack', '2026-12-03T14:06:00.000Z', [
        task(1, '2026-12-03T14:06:01.000Z', 'Probe the app', host='web1', play='Triage the Arizu stack',
             playbook='triage.yml'),
        task(1, '2026-12-03T14:06:01.100Z', 'Probe the app', host='web2', play='Triage the Arizu stack',
             playbook='triage.yml', result='unreachable', msg='ssh: connect to host web2 refused'),
        task(1, '2026-12-03T14:06:02.000Z', 'Skip on all', result='skipped', play='Triage the Arizu stack',
             playbook='triage.yml'),
    ], '2026-12-03T14:06:05.000Z', {'web1': recap(), 'web2': recap(ok=0, unreachable=1)})
    + run_events(2, 'remediate.yml', 'Remediate', '2026-12-03T14:10:00.000Z', [
        task(2, '2026-12-03T14:10:01.000Z', 'Restart n8n', result='changed', end='2026-12-03T14:10:09.000Z'),
        task(2, '2026-12-03T14:10:10.000Z', 'Clear the queue', result='failed', msg='password=hunter22-secret'),
        task(2, '2026-12-03T14:10:11.000Z', 'Flush https://ops:Pw-in-url-9999@redis:6379 token=tok-abcdef',
             result='ok'),
        task(2, '2026-12-03T14:10:12.000Z', 'Try the old release', result='failed', ignored=True),
        task(2, '2026-12-03T14:10:13.000Z', 'Fetch a token', result='ok', censored=True),
    ], '2026-12-03T14:15:00.000Z', {'web1': recap(rescued=1, ignored=1)})
)


def report(severity, generated_at, started_at='2026-12-03T14:00:00Z', reasons=(), incident_id=INCIDENT,
           involve=('on_call',), hosts=('web1',), changes=()):
    return {'incident_id': incident_id, 'generated_at': generated_at, 'started_at': started_at,
            'severity': severity, 'reasons': [dict(r) for r in reasons],
            'hosts': dict((h, {'severity': severity}) for h in hosts),
            'escalation': {'involve': [{'role': role} for role in involve]},
            'recent_changes': list(changes), 'status_updates': {}, 'lines': [], 'summary': ''}


P1_REASONS = [
    {'rule': 'n8n_down', 'severity': 'P1', 'detail': 'n8n liveness: down (HTTP 503)', 'host': 'web1'},
    {'rule': 'db_down', 'severity': 'P1', 'detail': 'app component db: down (connection refused)', 'host': 'web1'},
    {'rule': 'db_down', 'severity': 'P1', 'detail': 'app component db: down (connection refused)', 'host': 'web2'},
    {'rule': 'disk_high', 'severity': 'P2', 'detail': 'disk /: used_pct 95 >= 90', 'host': 'web2'},
    {'rule': 'external_unknown', 'severity': 'P3', 'detail': 'external stripe: status unknown', 'host': 'web1'},
]
REPORTS = [
    # given newest first on purpose: the filter orders them by time
    report('P1', '2026-12-03T14:05:00Z', started_at='2026-12-03T14:01:30Z', reasons=P1_REASONS,
           involve=('on_call', 'technical_lead'), hosts=('web1', 'web2'),
           changes=[{'host': 'web1', 'container': 'arizu-n8n', 'image': 'arizu-local/n8n:1.123.81',
                     'started_at': '2026-12-03T13:58:00Z'}]),
    report('P2', '2026-12-03T14:02:00Z', started_at='2026-12-03T14:01:00Z',
           reasons=[{'rule': 'component_degraded', 'severity': 'P2', 'detail': 'app component redis: degraded',
                     'host': 'web1'}]),
    report('P0', '2026-12-03T13:00:00Z', incident_id=INCIDENT + '-2',
           reasons=[{'rule': 'app_down', 'severity': 'P0', 'detail': 'other incident', 'host': 'x'}]),
]


@pytest.fixture(name='full')
def full_fixture():
    return build_postmortem(INCIDENT, timeline=TIMELINE, reports=REPORTS)


def events_of(result):
    return [row['event'] for row in result['timeline']]


def test_summary_values(full):
    assert full['title'] == 'Incident Post-Mortem: 2026-12-03 [TO FILL: brief description]'
    assert full['start'] == '2026-12-03 14:01:00 UTC' and full['start_source'] == 'triage'
    assert full['end'] == '2026-12-03 14:15:00 UTC' and full['end_source'] == 'timeline'
    assert full['duration'] == '14 min 00 s' and full['duration_s'] == 840
    assert full['severity'] == 'P1' and full['severity_note'] == 'worst of 2 triage report(s)'
    assert full['features_down'] == ['n8n down', 'db down']
    assert full['degraded'] == ['component degraded', 'disk high']  # reports oldest first
    assert full['impact'] == 'n8n down, db down; degraded: component degraded, disk high'
    assert full['counts']['ignored_reports'] == 1 and full['counts']['triage_reports'] == 2
    assert [t['index'] for t in full['triage']] == [1, 0]  # oldest first, positions in the input list


def test_root_cause_hints_are_the_worst_distinct_reasons_with_their_hosts(full):
    hints = full['root_cause_hints']
    assert hints[0] == 'P1 n8n_down on web1: n8n liveness: down (HTTP 503)'
    assert hints[1] == 'P1 db_down on web1, web2: app component db: down (connection refused)'
    assert [h.split()[0] for h in hints] == ['P1', 'P1', 'P2', 'P2', 'P3']
    assert full['more_root_cause_hints'] == 0
    limited = build_postmortem(INCIDENT, reports=REPORTS, max_hints=2)
    assert len(limited['root_cause_hints']) == 2 and limited['more_root_cause_hints'] == 3


def test_timeline_rows_are_merged_and_sorted_by_time(full):
    rows = full['timeline']
    assert [r['at'] for r in rows] == sorted(r['at'] for r in rows)
    assert events_of(full) == [
        'Incident start (earliest triage started_at)',
        'Triage: severity P2 (component_degraded)',
        'Triage: severity P1 (n8n_down, db_down, disk_high, external_unknown)',
        'Automation run 1 started: playbook triage.yml',
        'Play: Triage the Arizu stack',
        'Probe the app',
        'Automation run 1 ended: playbook triage.yml',
        'Automation run 2 started: playbook remediate.yml',
        'Play: Remediate',
        'Restart n8n',
        'Clear the queue',
        'Flush https://********@redis:6379 token=********',
        'Try the old release',
        'Fetch a token',
        'Automation run 2 ended: playbook remediate.yml',
        'End of the recorded automation (taken as the resolution)',
    ]
    assert all(r['time'] == r['at'][11:19] for r in rows)  # one day: times without the date
    by_event = dict((r['event'], r) for r in rows)
    assert by_event['Incident start (earliest triage started_at)']['action'].startswith('[TO FILL: ')
    triage = by_event['Triage: severity P1 (n8n_down, db_down, disk_high, external_unknown)']
    assert triage['kind'] == 'triage'
    assert triage['action'] == 'triage report written (2 host(s) probed); involve now: on_call, technical_lead'
    assert full['counts']['skipped_tasks'] == 1 and 'Skip on all' not in events_of(full)


def test_task_actions_flag_failures(full):
    by_event = dict((r['event'], r) for r in full['timeline'])
    probe = by_event['Probe the app']
    assert probe['action'] == 'UNREACHABLE on web2; ok on web1' and probe['failed']
    assert probe['failed_hosts'] == ['web2']
    assert by_event['Restart n8n']['action'] == 'changed on web1' and not by_event['Restart n8n']['failed']
    # failed, but the run's recap shows no failure and a rescue: it was rescued
    assert by_event['Clear the queue']['action'] == 'FAILED (rescued) on web1' and by_event['Clear the queue']['failed']
    assert by_event['Try the old release']['action'] == 'failed (ignored) on web1'
    assert not by_event['Try the old release']['failed']
    assert by_event['Fetch a token']['action'] == 'ok on web1 (no_log)'
    assert by_event['Automation run 1 ended: playbook triage.yml']['action'] == 'recap: FAILED on web2'
    assert by_event['Automation run 2 ended: playbook remediate.yml']['action'] == \
        'recap: ok on web1; failures rescued on web1'
    assert [(t['task'], t['hosts'], t['run']) for t in full['failed_tasks']] == [
        ('Probe the app', ['web2'], 1), ('Clear the queue', ['web1'], 2)]


def test_nothing_but_names_statuses_and_times_is_copied(full):
    text = json.dumps(full, default=str)
    for secret in ('hunter22-secret', 'Pw-in-url-9999', 'tok-abcdef', 'connect to host web2 refused'):
        assert secret not in text


def test_checklists_tick_the_timeline_only_when_there_is_one(full):
    first, second = full['checklists']
    assert first['title'] == 'Within 24 Hours' and second['title'] == 'Within 1 Week'
    assert [i['label'] for i in first['items']] == ['Timeline Created', 'Impact Assessed', 'Root Cause',
                                                    'Immediate Actions']
    assert [i['label'] for i in second['items']] == ['Post-Mortem Draft', 'Action Items', 'Stakeholder Review',
                                                     'Customer Communication']
    assert [i['done'] for i in first['items'] + second['items']] == [True] + [False] * 7
    without = build_postmortem(INCIDENT, reports=REPORTS)
    assert not without['has_timeline'] and not without['checklists'][0]['items'][0]['done']


def test_reports_only_leave_the_end_blank():
    result = build_postmortem(INCIDENT, reports=REPORTS[:1])
    assert result['start'] == '2026-12-03 14:01:30 UTC'
    assert result['end'] == '[TO FILL: end]' and result['duration'] == '[TO FILL: duration]'
    assert result['runs'] == [] and result['failed_tasks'] == []
    assert result['recent_changes'] == ['arizu-n8n on web1: arizu-local/n8n:1.123.81, started 2026-12-03T13:58:00Z']
    assert events_of(result) == ['Incident start (earliest triage started_at)',
                                 'Triage: severity P1 (n8n_down, db_down, disk_high, external_unknown)']


def test_timeline_only_leaves_severity_and_impact_blank():
    result = build_postmortem(INCIDENT, timeline=TIMELINE)
    assert result['severity'] == '[TO FILL: P0-P3]' and result['severity_note'] == 'no triage report'
    assert result['impact'] == '[TO FILL: features down]'
    assert result['start'] == '2026-12-03 14:06:00 UTC' and result['start_source'] == 'timeline'
    assert result['timeline'][0]['event'] == 'Incident start (first recorded automation event)'


def test_a_clean_triage_has_no_severity_to_report():
    result = build_postmortem(INCIDENT, reports=[report('none', '2026-12-03T14:05:00Z')])
    assert result['severity'] == '[TO FILL: P0-P3]' and result['severity_note'] == 'the triage found no issue'
    assert result['impact'] == 'no feature down per the triage'
    assert 'Triage: severity none (all checks passed)' in events_of(result)


def test_resolved_at_sets_the_end():
    result = build_postmortem(INCIDENT, timeline=TIMELINE, reports=REPORTS, resolved_at='2026-12-03T16:01:00+01:00',
                              description='n8n down after the release')
    assert result['end'] == '2026-12-03 15:01:00 UTC' and result['end_source'] == 'resolved_at'
    assert result['duration'] == '1 h 00 min'
    assert result['title'] == 'Incident Post-Mortem: 2026-12-03 n8n down after the release'
    assert result['timeline'][-1]['event'] == 'Incident resolved'


@pytest.mark.parametrize('resolved_at, message', [
    ('yesterday', 'not an ISO 8601 time'),
    ('2026-12-03T13:00:00Z', 'before the incident start 2026-12-03T14:01:00Z'),
])
def test_bad_resolved_at_is_refused(resolved_at, message):
    with pytest.raises(PostmortemError, match=message):
        build_postmortem(INCIDENT, timeline=TIMELINE, reports=REPORTS, resolved_at=resolved_at)


def test_nothing_to_draft_from_names_the_incident():
    with pytest.raises(PostmortemError, match='incident %s: neither a timeline event nor a triage report' % INCIDENT):
        build_postmortem(INCIDENT, timeline=[], reports=[REPORTS[2]])


@pytest.mark.parametrize('incident_id', ['', '../etc', 'a b', 'INC-1\n', None, 'x' * 101])
def test_bad_incident_ids_are_refused(incident_id):
    with pytest.raises(PostmortemError, match='incident id'):
        build_postmortem(incident_id, reports=REPORTS)


def test_bad_input_types_are_refused():
    with pytest.raises(PostmortemError, match='timeline: expected'):
        build_postmortem(INCIDENT, timeline={'kind': 'task'})
    with pytest.raises(PostmortemError, match='reports: expected'):
        build_postmortem(INCIDENT, reports='triage.json')


def test_excluded_playbooks_leave_no_trace():
    result = build_postmortem(INCIDENT, timeline=TIMELINE, exclude_playbooks='remediate.yml')
    assert not any('remediate' in e or e == 'Restart n8n' for e in events_of(result))
    assert result['end'] == '2026-12-03 14:06:05 UTC'
    assert [r['playbook'] for r in result['runs']] == ['triage.yml']


def test_skipped_tasks_can_be_shown():
    result = build_postmortem(INCIDENT, timeline=TIMELINE, include_skipped=True)
    assert 'Skip on all' in events_of(result) and result['counts']['skipped_tasks'] == 0


def test_rows_over_several_days_carry_the_date():
    timeline = run_events(1, 'a.yml', 'A', '2026-12-03T23:59:00Z',
                          [task(1, '2026-12-04T00:01:00Z', 'Late task')], '2026-12-04T00:02:00Z', {'web1': recap()})
    result = build_postmortem(INCIDENT, timeline=timeline)
    assert not result['same_day']
    assert [r['time'] for r in result['timeline']][-2:] == ['2026-12-04 00:02:00', '2026-12-04 00:02:00']


def test_many_hosts_are_counted_not_listed():
    tasks = [task(1, '2026-12-03T14:00:0%dZ' % i, 'Probe', host='h%d' % i) for i in range(5)]
    result = build_postmortem(INCIDENT, timeline=run_events(1, 'a.yml', 'A', '2026-12-03T14:00:00Z', tasks,
                                                            '2026-12-03T14:00:09Z', {}))
    probe = [r for r in result['timeline'] if r['event'] == 'Probe']
    assert len(probe) == 1 and probe[0]['action'] == 'ok on 5 hosts'


def test_a_task_repeated_on_the_same_host_is_a_new_row():
    tasks = [task(1, '2026-12-03T14:00:01Z', 'Wait'), task(1, '2026-12-03T14:00:02Z', 'Wait')]
    result = build_postmortem(INCIDENT, timeline=run_events(1, 'a.yml', 'A', '2026-12-03T14:00:00Z', tasks,
                                                            '2026-12-03T14:00:03Z', {}))
    assert events_of(result).count('Wait') == 2


def test_many_rules_are_cut_in_the_triage_row():
    reasons = [{'rule': 'r%d' % i, 'severity': 'P2', 'detail': 'd%d' % i, 'host': 'h'} for i in range(7)]
    result = build_postmortem(INCIDENT, reports=[report('P2', '2026-12-03T14:05:00Z', reasons=reasons)])
    assert 'Triage: severity P2 (r0, r1, r2, r3, r4, +2 more)' in events_of(result)


@pytest.mark.parametrize('seconds, text', [
    (0, '0 s'), (45.4, '45 s'), (60, '1 min 00 s'), (725, '12 min 05 s'), (3900, '1 h 05 min'),
    (183900, '2 d 3 h 05 min'), (-5, '0 s'),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize('value, expected', [
    ('2026-12-03T14:00:05.123Z', datetime.datetime(2026, 12, 3, 14, 0, 5, 123000, tzinfo=datetime.timezone.utc)),
    ('2026-12-03T15:00:05+01:00', datetime.datetime(2026, 12, 3, 14, 0, 5, tzinfo=datetime.timezone.utc)),
    ('2026-12-03 14:00:05', datetime.datetime(2026, 12, 3, 14, 0, 5, tzinfo=datetime.timezone.utc)),
    ('2026-12-03T13:45:35.726307932Z', datetime.datetime(2026, 12, 3, 13, 45, 35, 726307,
                                                         tzinfo=datetime.timezone.utc)),
    ('not a time', None), ('', None), (None, None), (1234, None),
])
def test_parse_time(value, expected):
    assert parse_time(value) == expected


def test_the_filter_wraps_errors_and_is_registered():
    assert FilterModule().filters()['postmortem'] is postmortem
    assert postmortem(INCIDENT, timeline=None, reports=REPORTS)['severity'] == 'P1'
    with pytest.raises(AnsibleFilterError, match=r'^arizu\.ops\.postmortem: incident id'):
        postmortem('bad id', reports=REPORTS)
