# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""Tests of the arizu.ops.severity filter and its rule engine (module_utils/severity.py)."""

from __future__ import annotations

import copy
import os

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.arizu.ops.plugins.filter.severity import FilterModule, severity
from ansible_collections.arizu.ops.plugins.module_utils.severity import (
    CHECKS,
    DEFAULT_RULES,
    DEFAULT_THRESHOLDS,
    build_rule_table,
)

REPO_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))


def comp(status, **extra):
    return dict(extra, status=status)


def components(**changes):
    base = {
        'db': comp('up', latency_ms=1.8),
        'redis': comp('up', latency_ms=0.9),
        'n8n': comp('up', latency_ms=5.3),
        'llm': comp('up', active='anthropic', fallback='openai'),
    }
    base.update(changes)
    return base


def hc(status='healthy', comps=None, http_status=200, latency_ms=12.0, fmt='arizu', msg=None):
    """A health_check result as the module returns it."""
    if comps is None:
        comps = components() if status != 'unreachable' else {}
    return {
        'status': status, 'http_status': http_status, 'latency_ms': latency_ms,
        'slo_ok': status != 'unreachable' and latency_ms <= 100, 'format': fmt, 'components': comps,
        'raw': None, 'attempts': 1, 'url': 'http://127.0.0.1:3000/api/health?detailed=true',
        'msg': msg or '%s (%s, HTTP %s, %.1f ms)' % (status, fmt, http_status, latency_ms), 'changed': False,
    }


def n8n(status='healthy', readiness=False, http_status=200):
    name = 'n8n_readiness' if readiness else 'n8n'
    word = {'healthy': 'up', 'degraded': 'degraded', 'down': 'down'}.get(status, 'unknown')
    return hc(status, {name: comp(word)} if status != 'unreachable' else {},
              http_status=None if status == 'unreachable' else http_status, latency_ms=3.0, fmt='n8n')


UNREACHABLE = hc('unreachable', http_status=None, latency_ms=5000.0, fmt=None,
                 msg='unreachable: connection refused (http://127.0.0.1:3000/api/health)')


def container(name='n8n', **fields):
    base = {'name': name, 'service': name, 'state': 'running', 'restarting': False, 'exit_code': 0,
            'restart_count': 0, 'oom_killed': False, 'health': 'healthy', 'mem_pct': 40.0}
    base.update(fields)
    return base


def explain(findings, **kwargs):
    return severity(findings, explain=True, **kwargs)


def rule_ids(findings, **kwargs):
    return [(r['rule'], r['severity']) for r in explain(findings, **kwargs)['reasons']]


# --------------------------------------------------------------------------
# Bare health_check results, each status
# --------------------------------------------------------------------------

BARE_CASES = [
    ('healthy', hc(), 'none', []),
    ('healthy-slow-but-at-slo', hc(latency_ms=100.0), 'none', []),
    ('degraded-redis', hc('degraded', components(redis=comp('degraded', latency_ms=150.0, message='slow replies'))),
     'P2', [('health_degraded', 'P2'), ('component_degraded', 'P2')]),
    ('down-503', hc('down', http_status=503), 'P0', [('app_down', 'P0')]),
    ('down-with-db-down', hc('down', components(db=comp('down', message='connection refused')), http_status=503),
     'P0', [('app_down', 'P0'), ('db_down', 'P1')]),
    ('unreachable', UNREACHABLE, 'P0', [('app_down', 'P0')]),
    ('invalid-502-error-page', hc('invalid', {}, http_status=502, fmt='plain'), 'P0', [('app_error_page', 'P0')]),
    ('invalid-500', hc('invalid', {}, http_status=500, fmt='plain'), 'P0', [('app_error_page', 'P0')]),
    ('invalid-599', hc('invalid', {}, http_status=599, fmt='plain'), 'P0', [('app_error_page', 'P0')]),
    ('invalid-404', hc('invalid', {}, http_status=404, fmt='plain'), 'P1', [('app_invalid', 'P1')]),
    ('invalid-499', hc('invalid', {}, http_status=499, fmt='plain'), 'P1', [('app_invalid', 'P1')]),
    ('invalid-401', hc('invalid', {}, http_status=401, fmt='plain'), 'P1', [('app_invalid', 'P1')]),
    ('n8n-liveness-bare-down', n8n('down', http_status=503), 'P1', [('n8n_down', 'P1')]),
    ('n8n-readiness-bare-down', n8n('down', readiness=True, http_status=503), 'P1', [('n8n_not_ready', 'P1')]),
    ('n8n-readiness-bare-ok', n8n('healthy', readiness=True), 'none', []),
]


@pytest.mark.parametrize('result, expected, reasons', [c[1:] for c in BARE_CASES], ids=[c[0] for c in BARE_CASES])
def test_bare_health_check_result(result, expected, reasons):
    assert severity(result) == expected
    assert rule_ids(result) == reasons


def test_bare_result_is_not_modified():
    result = hc('degraded', components(redis=comp('degraded')))
    before = copy.deepcopy(result)
    severity(result, explain=True)
    assert result == before


# --------------------------------------------------------------------------
# Every default rule, with its boundaries (findings mappings)
# --------------------------------------------------------------------------

RULE_CASES = [
    # P0
    ('app_down', {'app': hc('down', http_status=503)}, 'P0'),
    ('app_down', {'app': UNREACHABLE}, 'P0'),
    ('app_error_page', {'app': hc('invalid', {}, http_status=502, fmt='plain')}, 'P0'),
    ('payments_down', {'payments': 'down'}, 'P0'),
    ('payments_down', {'payments': 'DOWN'}, 'P0'),
    ('payments_down', {'externals': [{'name': 'stripe', 'status': 'down'}]}, 'P0'),
    ('payments_down', {'externals': [{'name': 'Stripe', 'status': 'Down'}]}, 'P0'),
    # P1
    ('app_invalid', {'app': hc('invalid', {}, http_status=404, fmt='plain')}, 'P1'),
    ('app_invalid', {'app': hc('invalid', {}, http_status=None, fmt='plain')}, 'P1'),
    ('n8n_down', {'app': hc('degraded', components(n8n=comp('down')))}, 'P1'),
    ('n8n_down', {'n8n_liveness': n8n('down', http_status=503)}, 'P1'),
    ('n8n_down', {'n8n_liveness': n8n('unreachable')}, 'P1'),
    ('n8n_down', {'n8n_liveness': n8n('invalid', http_status=404)}, 'P1'),
    ('n8n_not_ready', {'n8n_liveness': n8n(), 'n8n_readiness': n8n('down', readiness=True, http_status=503)}, 'P1'),
    ('n8n_not_ready', {'n8n_readiness': n8n('unreachable', readiness=True)}, 'P1'),
    ('db_down', {'app': hc('degraded', components(db=comp('down')))}, 'P1'),
    ('redis_down', {'app': hc('degraded', components(redis=comp('down')))}, 'P1'),
    ('llm_unavailable', {'app': hc('degraded', components(llm=comp('down')))}, 'P1'),
    ('llm_unavailable', {'app': hc('degraded', components(llm=comp('degraded', active=None, fallback=None)))}, 'P1'),
    ('llm_unavailable', {'app': hc('degraded', components(llm=comp('unknown', active='', fallback=None)))}, 'P1'),
    ('llm_unavailable', {'app': hc('degraded', components(llm=comp('degraded', active=None)))}, 'P1'),
    # P2
    ('health_degraded', {'app': hc('degraded')}, 'P2'),
    ('health_degraded', {'n8n_liveness': n8n('degraded')}, 'P2'),
    ('component_degraded', {'app': hc('healthy', components(db=comp('degraded')))}, 'P2'),
    ('component_degraded', {'app': hc('degraded', components(llm=comp('degraded', active='openai', fallback=None)))},
     'P2'),
    ('component_down', {'app': hc('degraded', components(queue=comp('down')))}, 'P2'),
    ('health_latency_slow', {'app': hc(latency_ms=100.1)}, 'P2'),
    ('health_latency_slow', {'app': hc('degraded', components(), latency_ms=250.0)}, 'P2'),
    ('health_latency_slow', {'app': hc(), 'slo': {'health_latency_ms': 150}}, 'P2'),
    ('health_latency_slow', {'slo': {'health_latency_ms': 150}}, 'P2'),
    ('health_latency_slow', {'slo': {'health_latency_ms': 60, 'health_latency_slo_ms': 50}}, 'P2'),
    ('api_latency_slow', {'slo': {'api_p95_ms': 201}}, 'P2'),
    ('api_latency_slow', {'slo': {'api_p95_ms': 200.5, 'api_p95_slo_ms': 200}}, 'P2'),
    ('app_latency_slow', {'slo': {'app_p95_ms': 501}}, 'P2'),
    ('container_restarting', {'containers': [container(restarting=True, state='restarting')]}, 'P2'),
    ('container_restarting', {'containers': [container(state='restarting', restarting=None)]}, 'P2'),
    ('container_oom_killed', {'containers': [container(oom_killed=True)]}, 'P2'),
    ('container_unhealthy', {'containers': [container(health='unhealthy')]}, 'P2'),
    ('container_unhealthy', {'containers': [container(health='Unhealthy')]}, 'P2'),
    ('container_exited', {'containers': [container(state='exited', exit_code=137)]}, 'P2'),
    ('container_exited', {'containers': [container(state='dead', exit_code=None)]}, 'P2'),
    ('container_memory_high', {'containers': [container(mem_pct=90)]}, 'P2'),
    ('container_memory_high', {'containers': [container(mem_pct=99.5)]}, 'P2'),
    ('disk_high', {'disks': [{'path': '/', 'used_pct': 90}]}, 'P2'),
    ('disk_high', {'disks': [{'path': '/', 'used_pct': 100}]}, 'P2'),
    ('external_impaired', {'externals': [{'name': 'clerk', 'status': 'degraded'}]}, 'P2'),
    ('external_impaired', {'externals': [{'name': 'anthropic', 'status': 'down'}]}, 'P2'),
    ('payments_degraded', {'payments': 'degraded'}, 'P2'),
    ('payments_degraded', {'externals': [{'name': 'stripe', 'status': 'degraded'}]}, 'P2'),
    # P3
    ('component_unknown', {'app': hc('healthy', components(redis=comp('unknown')))}, 'P3'),
    ('component_unknown', {'app': hc('healthy', components(llm=comp('unknown')))}, 'P3'),
    ('container_memory_warn', {'containers': [container(mem_pct=80)]}, 'P3'),
    ('container_memory_warn', {'containers': [container(mem_pct=89.9)]}, 'P3'),
    ('disk_warn', {'disks': [{'path': '/', 'used_pct': 80}]}, 'P3'),
    ('disk_warn', {'disks': [{'path': '/', 'used_pct': 89.99}]}, 'P3'),
    ('container_restarted', {'containers': [container(restart_count=1)]}, 'P3'),
    ('external_unknown', {'externals': [{'name': 'clerk', 'status': 'unknown'}]}, 'P3'),
    ('external_unknown', {'externals': [{'name': 'stripe', 'status': 'unknown'}]}, 'P3'),
    ('payments_unknown', {'payments': 'unknown'}, 'P3'),
]


@pytest.mark.parametrize('rule, findings, expected', RULE_CASES,
                         ids=['%s-%d' % (c[0], i) for i, c in enumerate(RULE_CASES)])
def test_default_rule(rule, findings, expected):
    result = explain(findings)
    assert result['severity'] == expected
    matched = [r for r in result['reasons'] if r['rule'] == rule]
    assert matched, result
    assert all(r['severity'] == expected for r in matched)
    assert all(isinstance(r['detail'], str) and r['detail'] for r in matched)


def test_every_default_rule_has_a_case():
    assert set(r['id'] for r in DEFAULT_RULES) == set(c[0] for c in RULE_CASES)


QUIET_CASES = [
    ('empty findings', {}),
    ('everything fine', {
        'app': hc(), 'n8n_liveness': n8n(), 'n8n_readiness': n8n(readiness=True),
        'containers': [container('app'), container('n8n'), container('postgres'), container('redis')],
        'disks': [{'path': '/', 'used_pct': 42.0}, {'path': '/var/lib/docker', 'used_pct': 79.99}],
        'slo': {'health_latency_ms': 20, 'health_latency_slo_ms': 100, 'api_p95_ms': 120, 'api_p95_slo_ms': 200},
        'externals': [{'name': 'stripe', 'status': 'up'}, {'name': 'clerk', 'status': 'up'}],
        'payments': 'up',
    }),
    ('all keys null', dict((key, None) for key in ('app', 'n8n_liveness', 'n8n_readiness', 'containers', 'disks',
                                                   'slo', 'externals', 'payments'))),
    ('skipped probe task', {'app': {'skipped': True, 'changed': False, 'skip_reason': 'Conditional result was False'}}),
    ('latency exactly at the SLO', {'app': hc(latency_ms=100.0)}),
    ('latency under the SLO', {'app': hc(latency_ms=99.9)}),
    ('api p95 exactly at the SLO', {'slo': {'api_p95_ms': 200}}),
    ('app p95 exactly at the SLO', {'slo': {'app_p95_ms': 500}}),
    ('health latency under a looser SLO', {'app': hc(latency_ms=150.0), 'slo': {'health_latency_slo_ms': 200}}),
    ('explicit health latency beats the probe', {'app': hc(latency_ms=900.0), 'slo': {'health_latency_ms': 30}}),
    ('SLO metric without a limit', {'slo': {'workflow_ms': 10 ** 6}}),
    ('disk 79 %', {'disks': [{'path': '/', 'used_pct': 79}]}),
    ('memory 79.9 %', {'containers': [container(mem_pct=79.9)]}),
    ('container exited cleanly', {'containers': [container(state='exited', exit_code=0)]}),
    ('container health starting', {'containers': [container(health='starting')]}),
    ('container restart_count 0', {'containers': [container(restart_count=0)]}),
    ('container with only a name', {'containers': [{'name': 'job'}]}),
    ('llm degraded but on its fallback', {'app': hc('healthy', components(llm=comp('up', active='openai')))}),
    ('n8n liveness and readiness fine', {'n8n_liveness': n8n(), 'n8n_readiness': n8n(readiness=True)}),
    ('payments up', {'payments': 'up', 'externals': [{'name': 'stripe', 'status': 'up'}]}),
    ('unknown extra keys', {'app': hc(), 'collected_at': '2025-01-01T00:00:00Z', 'host': 'docker-1'}),
]


@pytest.mark.parametrize('findings', [c[1] for c in QUIET_CASES], ids=[c[0] for c in QUIET_CASES])
def test_no_severity(findings):
    assert explain(findings)['reasons'] == []
    assert severity(findings) == 'none'


BOUNDARY_CASES = [
    # (what, value, expected severity)
    ('disk', 79, 'none'), ('disk', 80, 'P3'), ('disk', 81, 'P3'),
    ('disk', 89, 'P3'), ('disk', 90, 'P2'), ('disk', 91, 'P2'),
    ('mem', 79, 'none'), ('mem', 80, 'P3'), ('mem', 89, 'P3'), ('mem', 90, 'P2'), ('mem', 91, 'P2'),
    ('health_latency', 99, 'none'), ('health_latency', 100, 'none'), ('health_latency', 101, 'P2'),
    ('api_p95', 199, 'none'), ('api_p95', 200, 'none'), ('api_p95', 201, 'P2'),
    ('app_p95', 499, 'none'), ('app_p95', 500, 'none'), ('app_p95', 501, 'P2'),
    ('restart_count', 0, 'none'), ('restart_count', 1, 'P3'), ('restart_count', 7, 'P3'),
]


@pytest.mark.parametrize('what, value, expected', BOUNDARY_CASES, ids=['%s-%s' % c[:2] for c in BOUNDARY_CASES])
def test_boundaries(what, value, expected):
    if what == 'disk':
        findings = {'disks': [{'path': '/srv', 'used_pct': value}]}
    elif what == 'mem':
        findings = {'containers': [container(mem_pct=value)]}
    elif what == 'restart_count':
        findings = {'containers': [container(restart_count=value)]}
    elif what == 'health_latency':
        findings = {'app': hc(latency_ms=float(value))}
    else:
        findings = {'slo': {what + '_ms': value}}
    assert severity(findings) == expected


# --------------------------------------------------------------------------
# Combination, ordering and explanation
# --------------------------------------------------------------------------

def test_highest_severity_wins_and_reasons_are_ordered():
    findings = {
        'app': hc('degraded', components(db=comp('down', message='connection refused'),
                                         redis=comp('degraded', latency_ms=150.0))),
        'disks': [{'path': '/var/lib/docker', 'used_pct': 84}, {'path': '/', 'used_pct': 95}],
        'externals': [{'name': 'clerk', 'status': 'unknown'}],
    }
    result = explain(findings)
    assert result['severity'] == 'P1'
    assert [r['severity'] for r in result['reasons']] == sorted(r['severity'] for r in result['reasons'])
    assert ('db_down', 'P1') == (result['reasons'][0]['rule'], result['reasons'][0]['severity'])
    details = dict((r['rule'], r['detail']) for r in result['reasons'])
    assert details['db_down'] == 'app component db: down (connection refused)'
    assert details['disk_high'] == 'disk /: used_pct 95 >= 90'
    assert details['disk_warn'] == 'disk /var/lib/docker: used_pct 84 >= 80'
    assert details['component_degraded'] == 'app component redis: degraded (150 ms)'
    assert details['external_unknown'] == 'external clerk: status unknown'
    assert result['evaluated'] == ['app', 'disks', 'externals']


def test_one_reason_per_item():
    findings = {'disks': [{'path': '/a', 'used_pct': 91}, {'path': '/b', 'used_pct': 99}],
                'containers': [container('n8n', restarting=True, state='restarting', restart_count=4)]}
    reasons = explain(findings)['reasons']
    assert [(r['rule'], r['detail']) for r in reasons if r['rule'] == 'disk_high'] == [
        ('disk_high', 'disk /a: used_pct 91 >= 90'), ('disk_high', 'disk /b: used_pct 99 >= 90')]
    assert [r['detail'] for r in reasons if r['rule'] == 'container_restarting'] == ['container n8n: restarting']
    assert [r['detail'] for r in reasons if r['rule'] == 'container_restarted'] == [
        'container n8n: restart_count 4 >= 1']


def test_details_name_the_probe_and_drop_url_credentials():
    findings = {'app': hc('unreachable', {}, http_status=None, latency_ms=5000.0, fmt=None,
                          msg='unreachable: connection refused (http://ops:hunter22@10.0.0.1:3000/api/health)')}
    reasons = explain(findings)['reasons']
    assert reasons == [{'rule': 'app_down', 'severity': 'P0', 'detail':
                        'app: unreachable - unreachable: connection refused (http://***@10.0.0.1:3000/api/health)'}]


def test_error_page_detail_shows_http_status_once():
    reasons = explain(hc('invalid', {}, http_status=502, fmt='plain', msg="invalid: HTML page '502 Bad Gateway'"))
    assert reasons['reasons'][0]['detail'] == "app: invalid (HTTP 502) - invalid: HTML page '502 Bad Gateway'"


def test_llm_detail_says_no_provider():
    findings = {'app': hc('degraded', components(llm=comp('degraded', active=None, fallback=None)))}
    details = [r['detail'] for r in explain(findings)['reasons'] if r['rule'] == 'llm_unavailable']
    assert details == ['app component llm: degraded; no active provider and no fallback']


def test_latency_detail():
    reasons = explain({'slo': {'api_p95_ms': 240, 'api_p95_slo_ms': 200}})['reasons']
    assert reasons == [{'rule': 'api_latency_slow', 'severity': 'P2',
                        'detail': 'api_p95: 240 ms > SLO 200 ms (slo.api_p95_ms)'}]
    reasons = explain({'app': hc(latency_ms=150.5)})['reasons']
    assert reasons[0]['detail'] == 'health_latency: 150.5 ms > SLO 100 ms (app latency_ms)'


def test_unreachable_app_is_not_also_slow():
    assert rule_ids({'app': UNREACHABLE}) == [('app_down', 'P0')]


def test_explain_default_is_the_string():
    assert severity({'payments': 'down'}) == 'P0'
    assert severity({'payments': 'down'}, explain=False) == 'P0'
    assert set(explain({'payments': 'down'})) == {'severity', 'reasons', 'evaluated'}


def test_filter_is_registered():
    assert FilterModule().filters()['severity'] is severity


# --------------------------------------------------------------------------
# Overrides: severities, disabled rules, thresholds, new rules, whole table
# --------------------------------------------------------------------------

DISK_95 = {'disks': [{'path': '/', 'used_pct': 95}]}
DISK_86 = {'disks': [{'path': '/', 'used_pct': 86}]}
INVALID_404 = {'app': hc('invalid', {}, http_status=404, fmt='plain')}

OVERRIDE_CASES = [
    ('severity as a string', DISK_95, {'rules': {'disk_high': 'P1'}}, 'P1'),
    ('severity lower case', DISK_95, {'rules': {'disk_high': 'p0'}}, 'P0'),
    ('severity in a mapping', DISK_95, {'rules': {'disk_high': {'severity': 'P3'}}}, 'P3'),
    ('redis down demoted', {'app': hc('degraded', components(redis=comp('down')))}, {'rules': {'redis_down': 'P2'}},
     'P2'),
    ('disabled with false', INVALID_404, {'rules': {'app_invalid': False}}, 'none'),
    ('disabled with enabled: false', INVALID_404, {'rules': {'app_invalid': {'enabled': False}}}, 'none'),
    ('re-enabled in a list table', INVALID_404,
     {'rules': [dict(next(r for r in DEFAULT_RULES if r['id'] == 'app_invalid'), enabled=True)]}, 'P1'),
    ('disabling disk_high leaves the band above disk_pct_p2 silent', DISK_95, {'rules': {'disk_high': False}},
     'none'),
    ('threshold via thresholds=', DISK_86, {'thresholds': {'disk_pct_p2': 85}}, 'P2'),
    ('threshold via rules.thresholds', DISK_86, {'rules': {'thresholds': {'disk_pct_p2': 85}}}, 'P2'),
    ('thresholds= beats rules.thresholds', DISK_86,
     {'rules': {'thresholds': {'disk_pct_p2': 85}}, 'thresholds': {'disk_pct_p2': 95}}, 'P3'),
    ('raised P3 threshold', DISK_86, {'thresholds': {'disk_pct_p3': 87}}, 'none'),
    ('memory threshold', {'containers': [container(mem_pct=75)]}, {'thresholds': {'mem_pct_p3': 70}}, 'P3'),
    ('restart threshold', {'containers': [container(restart_count=2)]}, {'thresholds': {'restart_count_p3': 3}},
     'none'),
    ('health SLO threshold', {'app': hc(latency_ms=60.0)}, {'thresholds': {'health_latency_slo_ms': 50}}, 'P2'),
    ('api SLO threshold', {'slo': {'api_p95_ms': 240}}, {'thresholds': {'api_p95_slo_ms': 250}}, 'none'),
    ('payment providers', {'externals': [{'name': 'paddle', 'status': 'down'}]},
     {'thresholds': {'payment_externals': ['stripe', 'Paddle']}}, 'P0'),
    ('stripe no longer a payment provider', {'externals': [{'name': 'stripe', 'status': 'down'}]},
     {'thresholds': {'payment_externals': ['paddle']}}, 'P2'),
    ('new rule', {'externals': [{'name': 'clerk', 'status': 'down'}]},
     {'rules': {'auth_down': {'severity': 'P1', 'description': 'Clerk is down.', 'when': {
         'check': 'item_match', 'of': 'externals',
         'where': [{'field': 'name', 'op': 'eq', 'value': 'clerk'}, {'field': 'status', 'op': 'eq', 'value': 'down'}]}}}},
     'P1'),
    ('new rule with its own threshold', {'containers': [container(restart_count=12)]},
     {'rules': {'restart_storm': {'severity': 'P1', 'when': {
         'check': 'item_match', 'of': 'containers',
         'where': [{'field': 'restart_count', 'op': 'gt', 'threshold': 'restart_storm_count'}]}},
         'thresholds': {'restart_storm_count': 10}}}, 'P1'),
    ('changed condition', {'app': hc('degraded', components(db=comp('degraded')))},
     {'rules': {'db_down': {'when': {'check': 'component_status_in', 'components': ['db'],
                                     'values': ['down', 'degraded']}}}}, 'P1'),
    ('whole table replaced', {'app': hc('down', http_status=503), 'payments': 'down'},
     {'rules': [{'id': 'only_payments', 'severity': 'P1', 'when': {'check': 'payments_status_in', 'values': ['down']}}]},
     'P1'),
    ('whole table, nothing matches', {'app': hc('down', http_status=503)},
     {'rules': [{'id': 'only_payments', 'severity': 'P1', 'when': {'check': 'payments_status_in', 'values': ['down']}}]},
     'none'),
    ('custom SLO metric with a threshold', {'slo': {'workflow_ms': 31000}},
     {'rules': {'workflow_slow': {'severity': 'P2', 'when': {'check': 'slo_over', 'metric': 'workflow'}}},
      'thresholds': {'workflow_slo_ms': 30000}}, 'P2'),
    ('custom SLO metric with a named threshold', {'slo': {'workflow_ms': 29000}},
     {'rules': {'workflow_slow': {'severity': 'P2', 'when': {'check': 'slo_over', 'metric': 'workflow',
                                                             'threshold': 'workflow_limit'}}},
      'thresholds': {'workflow_limit': 30000}}, 'none'),
    ('not and all', {'app': hc('healthy', components(db=comp('degraded'))), 'payments': 'up'},
     {'rules': [{'id': 'db_slow_payments_fine', 'severity': 'P3', 'when': {'all': [
         {'check': 'component_status_in', 'components': ['db'], 'values': ['degraded']},
         {'not': {'check': 'payments_status_in', 'values': ['down', 'degraded']}}]}}]}, 'P3'),
    ('any', {'n8n_readiness': n8n('degraded', readiness=True)},
     {'rules': [{'id': 'n8n_any', 'severity': 'P2', 'when': {'any': [
         {'check': 'probe_status_in', 'probe': 'n8n_liveness', 'values': ['down']},
         {'check': 'probe_status_in', 'probe': ['n8n_readiness'], 'values': ['degraded']}]}}]}, 'P2'),
    ('http range check', {'app': hc('degraded', http_status=500)},
     {'rules': [{'id': 'http_500', 'severity': 'P1',
                 'when': {'check': 'probe_http_status_between', 'probe': 'app', 'min': 500, 'max': 500}}]}, 'P1'),
    ('llm check on another component name', {'app': hc('degraded', components(ai=comp('down')))},
     {'rules': [{'id': 'ai', 'severity': 'P1', 'when': {'check': 'llm_unavailable', 'component': 'ai'}}]}, 'P1'),
    ('component exclude', {'app': hc('degraded', components(queue=comp('down')))},
     {'rules': {'component_down': {'when': {'check': 'component_status_in', 'exclude': ['queue'],
                                            'values': ['down']}}}}, 'P2'),
    ('field tests ne, le, lt, is_false, not_in', {'containers': [container('worker', mem_pct=5, restart_count=0)]},
     {'rules': [{'id': 'idle_worker', 'severity': 'P3', 'when': {'check': 'item_match', 'of': 'containers', 'where': [
         {'field': 'state', 'op': 'ne', 'value': 'exited'}, {'field': 'mem_pct', 'op': 'le', 'value': 5},
         {'field': 'restart_count', 'op': 'lt', 'value': 1}, {'field': 'oom_killed', 'op': 'is_false'},
         {'field': 'name', 'op': 'not_in', 'values': ['app', 'n8n']}]}}]}, 'P3'),
]


@pytest.mark.parametrize('findings, kwargs, expected', [c[1:] for c in OVERRIDE_CASES],
                         ids=[c[0] for c in OVERRIDE_CASES])
def test_overrides(findings, kwargs, expected):
    assert severity(findings, **kwargs) == expected


def test_overrides_do_not_change_the_defaults():
    before = copy.deepcopy(DEFAULT_RULES), copy.deepcopy(DEFAULT_THRESHOLDS)
    severity(DISK_95, rules={'disk_high': 'P0', 'thresholds': {'disk_pct_p2': 50}}, thresholds={'disk_pct_p3': 10})
    assert (DEFAULT_RULES, DEFAULT_THRESHOLDS) == before
    assert severity(DISK_95) == 'P2'


def test_new_rule_reason_uses_description_when_there_is_no_detail():
    rules = [{'id': 'calm', 'severity': 'P3', 'description': 'Payments are not down.',
              'when': {'not': {'check': 'payments_status_in', 'values': ['down']}}}]
    assert explain({'payments': 'up'}, rules=rules)['reasons'] == [
        {'rule': 'calm', 'severity': 'P3', 'detail': 'Payments are not down.'}]


def test_default_table_is_valid_and_documented():
    table, thresholds = build_rule_table()
    assert [r['id'] for r in table] == [r['id'] for r in DEFAULT_RULES]
    assert thresholds == DEFAULT_THRESHOLDS
    with open(os.path.join(REPO_ROOT, 'docs', 'severity.md'), encoding='utf-8') as handle:
        doc = handle.read()
    with open(os.path.join(REPO_ROOT, 'plugins', 'filter', 'severity.py'), encoding='utf-8') as handle:
        plugin_doc = handle.read()
    for rule in DEFAULT_RULES:
        assert '`%s`' % rule['id'] in doc, rule['id']
        assert 'C(%s)' % rule['id'] in plugin_doc, rule['id']
    for name in DEFAULT_THRESHOLDS:
        assert '`%s`' % name in doc, name
        assert 'C(%s' % name in plugin_doc, name
    for check in CHECKS:
        assert '`%s`' % check in doc, check
        assert 'C(%s)' % check in plugin_doc, check


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

BAD_FINDINGS = [
    ('a list', [hc()], 'expected a health_check result or a findings mapping, got list'),
    ('a string', 'down', 'got string'),
    ('null', None, 'got null'),
    ('a number', 5, 'got number'),
    ('no findings key', {'foo': 1}, 'no findings recognised'),
    ('components without status', {'components': {}}, 'no findings recognised'),
    ('app not a mapping', {'app': 'down'}, 'app: expected a health_check result (a mapping), got string'),
    ('app without status', {'app': {'msg': 'x'}}, 'app.status: expected one of healthy'),
    ('app unknown status', {'app': hc('sick')}, "app.status: expected one of healthy, degraded, down, unreachable, "
                                                "invalid, got 'sick'"),
    ('app status a number', {'app': dict(hc(), status=1)}, 'app.status'),
    ('bare unknown status', dict(hc(), status='sick'), 'app.status'),
    ('components a list', {'app': dict(hc(), components=[])}, 'app.components: expected a mapping, got list'),
    ('component status unknown word', {'app': hc('healthy', {'db': comp('weird')})}, 'app.components.db.status'),
    ('component a number', {'app': hc('healthy', {'db': 1})}, 'app.components.db'),
    ('component latency a string', {'app': hc('healthy', {'db': comp('up', latency_ms='fast')})},
     'app.components.db.latency_ms'),
    ('http_status a string', {'app': dict(hc(), http_status='200')}, 'app.http_status: expected an integer'),
    ('http_status a boolean', {'app': dict(hc(), http_status=True)}, 'app.http_status'),
    ('latency a string', {'app': dict(hc(), latency_ms='12 ms')}, 'app.latency_ms'),
    ('latency NaN', {'app': dict(hc(), latency_ms=float('nan'))}, 'app.latency_ms'),
    ('n8n probe a list', {'n8n_readiness': []}, 'n8n_readiness: expected a health_check result'),
    ('containers a mapping', {'containers': {'n8n': {}}}, 'containers: expected a list of mappings, got mapping'),
    ('containers a string', {'containers': 'n8n'}, 'containers: expected a list'),
    ('container a string', {'containers': ['n8n']}, 'containers[0]: expected a mapping, got string'),
    ('mem_pct with a percent sign', {'containers': [container(mem_pct='95%')]},
     "containers[0].mem_pct: expected a number, got string '95%'"),
    ('mem_pct infinite', {'containers': [container(mem_pct=float('inf'))]}, 'containers[0].mem_pct'),
    ('restarting a string', {'containers': [container(restarting='yes')]},
     'containers[0].restarting: expected a boolean'),
    ('exit_code a float', {'containers': [container(exit_code=1.5)]}, 'containers[0].exit_code: expected an integer'),
    ('restart_count a boolean', {'containers': [container(restart_count=True)]}, 'containers[0].restart_count'),
    ('state a number', {'containers': [container(state=1)]}, 'containers[0].state: expected a string'),
    ('disk without used_pct', {'disks': [{'path': '/'}]}, 'disks[0].used_pct: required'),
    ('disk used_pct a boolean', {'disks': [{'path': '/', 'used_pct': True}]}, 'disks[0].used_pct: expected a number'),
    ('disks a number', {'disks': 90}, 'disks: expected a list'),
    ('external without name', {'externals': [{'status': 'down'}]}, 'externals[0].name: required'),
    ('external without status', {'externals': [{'name': 'stripe'}]}, 'externals[0].status: required'),
    ('external unknown status', {'externals': [{'name': 'stripe', 'status': 'operational'}]},
     "externals[0].status: expected one of up, degraded, down, unknown, got 'operational'"),
    ('payments unknown word', {'payments': 'broken'}, "payments: expected one of up, degraded, down, unknown, got "
                                                      "'broken'"),
    ('payments a boolean', {'payments': False}, 'payments: expected one of'),
    ('slo a list', {'slo': [200]}, 'slo: expected a mapping'),
    ('slo value a string', {'slo': {'api_p95_ms': '200ms'}}, 'slo.api_p95_ms: expected a number'),
]


@pytest.mark.parametrize('findings, message', [c[1:] for c in BAD_FINDINGS], ids=[c[0] for c in BAD_FINDINGS])
def test_bad_findings(findings, message):
    with pytest.raises(AnsibleFilterError) as info:
        severity(findings)
    text = str(info.value)
    assert text.startswith('arizu.ops.severity: ')
    assert message in text
    assert 'Traceback' not in text
    assert info.value.__cause__ is None and info.value.__suppress_context__


def _item_rule(*where, of='containers'):
    return [{'id': 'x', 'severity': 'P2', 'when': {'check': 'item_match', 'of': of, 'where': list(where)}}]


BAD_RULES = [
    ('rules a string', {'rules': 'P1'}, 'rules: expected a list (the whole rule table) or a mapping'),
    ('unknown rule id', {'rules': {'disk_ful': 'P1'}}, "rules.disk_ful: unknown rule id 'disk_ful'; a new rule needs"),
    ('bad severity', {'rules': {'disk_high': 'P5'}}, "rules.disk_high.severity: expected one of P0, P1, P2, P3, got "
                                                     "'P5'"),
    ('severity none', {'rules': {'disk_high': {'severity': 'none'}}}, 'rules.disk_high.severity'),
    ('override a number', {'rules': {'disk_high': 2}}, 'rules.disk_high: expected a severity'),
    ('override unknown key', {'rules': {'disk_high': {'level': 'P1'}}}, 'rules.disk_high: unknown key(s) level'),
    ('enabled a string', {'rules': {'disk_high': {'enabled': 'no'}}}, 'rules.disk_high.enabled: expected a boolean'),
    ('bad rule id', {'rules': {'disk high': 'P1'}}, 'a rule id is a name'),
    ('new rule without when', {'rules': {'auth_down': {'severity': 'P1'}}}, 'a new rule needs severity and when'),
    ('empty rule table', {'rules': []}, 'rules: an empty rule table judges nothing'),
    ('list item not a mapping', {'rules': ['disk_high']}, 'rules[0]: expected a rule mapping'),
    ('list rule without when', {'rules': [{'id': 'x', 'severity': 'P1'}]}, 'rules[0]: a rule needs when'),
    ('list rule unknown key', {'rules': [{'id': 'x', 'severity': 'P1', 'when': {}, 'if': 1}]},
     'rules[0]: unknown rule key(s) if'),
    ('duplicate ids', {'rules': [DEFAULT_RULES[0], DEFAULT_RULES[0]]}, "duplicate rule id 'app_down'"),
    ('unknown check', {'rules': {'disk_high': {'when': {'check': 'eval', 'expr': '1'}}}},
     "rules.disk_high.when: unknown check 'eval' (known checks: probe_status_in"),
    ('when not a mapping', {'rules': {'disk_high': {'when': 'disk > 90'}}}, 'rules.disk_high.when: expected a condition'),
    ('any empty', {'rules': {'disk_high': {'when': {'any': []}}}}, 'rules.disk_high.when.any: expected a non-empty list'),
    ('combinator with extra key', {'rules': {'disk_high': {'when': {'any': [{'check': 'payments_status_in',
                                                                             'values': ['down']}], 'check': 'x'}}}},
     'any must be the only key'),
    ('too deep', {'rules': {'disk_high': {'when': {'not': {'not': {'not': {'not': {'not': {'not': {'not': {'not': {
        'not': {'check': 'payments_status_in', 'values': ['down']}}}}}}}}}}}}}, 'nested deeper than 8 levels'),
    ('missing parameter', {'rules': {'disk_high': {'when': {'check': 'probe_status_in', 'probe': 'app'}}}},
     "check 'probe_status_in' needs values"),
    ('unknown parameter', {'rules': {'disk_high': {'when': {'check': 'payments_status_in', 'values': ['down'],
                                                            'probe': 'app'}}}},
     "unknown parameter(s) probe for check 'payments_status_in'"),
    ('unknown probe', {'rules': {'disk_high': {'when': {'check': 'probe_status_in', 'probe': 'redis',
                                                        'values': ['down']}}}}, "unknown probe 'redis'"),
    ('unknown status value', {'rules': {'disk_high': {'when': {'check': 'probe_status_in', 'probe': 'app',
                                                               'values': ['dead']}}}}, "unknown status 'dead'"),
    ('component state value', {'rules': {'disk_high': {'when': {'check': 'component_status_in',
                                                                'values': ['healthy']}}}}, "unknown state 'healthy'"),
    ('http bounds strings', {'rules': {'disk_high': {'when': {'check': 'probe_http_status_between', 'probe': 'app',
                                                              'min': '500', 'max': 599}}}}, '.min: expected an integer'),
    ('bad metric', {'rules': {'disk_high': {'when': {'check': 'slo_over', 'metric': 'API p95'}}}}, '.metric: expected'),
    ('item_match of unknown list', {'rules': [{'id': 'x', 'severity': 'P2', 'when': {
        'check': 'item_match', 'of': 'volumes', 'where': [{'field': 'path', 'op': 'eq', 'value': '/'}]}}]},
     "of: expected one of containers, disks, externals, got 'volumes'"),
    ('unknown field', {'rules': _item_rule({'field': 'cpu_pct', 'op': 'gt', 'value': 1})},
     "'cpu_pct' is not a field of containers"),
    ('unknown op', {'rules': _item_rule({'field': 'mem_pct', 'op': '>', 'value': 1})}, "op: expected one of gt, ge"),
    ('numeric op on a string field', {'rules': _item_rule({'field': 'state', 'op': 'gt', 'value': 1})},
     'op gt needs a numeric field, state is str'),
    ('is_true on a number', {'rules': _item_rule({'field': 'mem_pct', 'op': 'is_true'})},
     'op is_true needs a boolean field'),
    ('is_true with a value', {'rules': _item_rule({'field': 'oom_killed', 'op': 'is_true', 'value': True})},
     'op is_true takes no value'),
    ('two references', {'rules': _item_rule({'field': 'mem_pct', 'op': 'gt', 'value': 1, 'threshold': 'mem_pct_p2'})},
     'needs exactly one of value, values, threshold'),
    ('numeric op with a string', {'rules': _item_rule({'field': 'mem_pct', 'op': 'gt', 'value': '90'})},
     'op gt needs a number'),
    ('in without a list', {'rules': _item_rule({'field': 'state', 'op': 'in', 'value': 'exited'})},
     'op in needs values (a list)'),
    ('test unknown key', {'rules': _item_rule({'field': 'state', 'op': 'eq', 'value': 'x', 'case': 1})},
     'unknown key(s) case'),
    ('undefined threshold', {'rules': _item_rule({'field': 'mem_pct', 'op': 'gt', 'threshold': 'mem_limit'})},
     "threshold 'mem_limit' is not defined"),
    ('numeric op on a list threshold', {'rules': _item_rule({'field': 'mem_pct', 'op': 'gt',
                                                             'threshold': 'payment_externals'})},
     "threshold 'payment_externals' must be a number"),
    ('in on a number threshold', {'rules': _item_rule({'field': 'name', 'op': 'in', 'threshold': 'mem_pct_p2'},
                                                      of='externals')},
     "threshold 'mem_pct_p2' must be a list"),
    ('threshold typo', {'thresholds': {'disk_pct_p22': 95}}, "thresholds: unknown threshold 'disk_pct_p22'"),
    ('threshold typo in rules', {'rules': {'thresholds': {'disk_pct': 95}}}, "unknown threshold 'disk_pct'"),
    ('threshold a string', {'thresholds': {'disk_pct_p2': '90'}}, 'thresholds.disk_pct_p2: expected a number'),
    ('threshold a boolean', {'thresholds': {'disk_pct_p2': True}}, 'thresholds.disk_pct_p2'),
    ('list threshold a string', {'thresholds': {'payment_externals': 'stripe'}},
     'thresholds.payment_externals: expected a list of names'),
    ('thresholds a list', {'thresholds': [90]}, 'thresholds: expected a mapping'),
    ('explain a string', {'explain': 'yes'}, 'explain must be a boolean'),
]


@pytest.mark.parametrize('kwargs, message', [c[1:] for c in BAD_RULES], ids=[c[0] for c in BAD_RULES])
def test_bad_rules(kwargs, message):
    with pytest.raises(AnsibleFilterError) as info:
        severity({'disks': [{'path': '/', 'used_pct': 95}]}, **kwargs)
    assert message in str(info.value)
    assert 'Traceback' not in str(info.value)
