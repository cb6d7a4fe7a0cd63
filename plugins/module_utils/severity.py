# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Incident severity (P0 to P3, or none) from triage findings.

A small rule engine: the rule table is data (see ``DEFAULT_RULES``), each
rule has an ``id``, a ``severity`` and a ``when`` condition written in a tiny
declarative language (``check`` predicates combined with ``any``, ``all`` and
``not``). Nothing is ever evaluated as code. The incident severity is the
highest severity among the rules that match.

This file imports nothing from Ansible (the filter ``arizu.ops.severity``
wraps it) and performs no I/O. The rule table, the findings shape and every
check are described in ``docs/severity.md``.
"""

from __future__ import annotations

import copy
import math
import re

from collections.abc import Mapping


__all__ = [
    'CHECKS',
    'DEFAULT_RULES',
    'DEFAULT_THRESHOLDS',
    'FINDINGS_KEYS',
    'SEVERITIES',
    'SeverityError',
    'bare_result_key',
    'build_rule_table',
    'evaluate',
    'is_health_result',
    'normalize_findings',
]


class SeverityError(ValueError):
    """Bad findings, rules or thresholds; the message says what and where."""


SEVERITIES = ('P0', 'P1', 'P2', 'P3')
NO_SEVERITY = 'none'
_RANK = {'P0': 0, 'P1': 1, 'P2': 2, 'P3': 3}

PROBES = ('app', 'n8n_liveness', 'n8n_readiness')
OVERALL_STATES = ('healthy', 'degraded', 'down', 'unreachable', 'invalid')
COMPONENT_STATES = ('up', 'degraded', 'down', 'unknown')
FINDINGS_KEYS = PROBES + ('containers', 'disks', 'slo', 'externals', 'payments')

#: Fields of the list findings and their types (other fields are ignored).
ITEM_FIELDS = {
    'containers': {
        'name': 'str', 'service': 'str', 'state': 'str', 'health': 'str',
        'restarting': 'bool', 'oom_killed': 'bool',
        'exit_code': 'int', 'restart_count': 'int', 'mem_pct': 'number',
    },
    'disks': {'path': 'str', 'used_pct': 'number'},
    'externals': {'name': 'str', 'status': 'str'},
}
ITEM_FIELDS_KIND = dict((field, kind) for fields in ITEM_FIELDS.values() for field, kind in fields.items())
_REQUIRED_ITEM_FIELDS = {'containers': (), 'disks': ('used_pct',), 'externals': ('name', 'status')}
# String fields compared as lower-case words (the others keep their case for display).
_WORD_FIELDS = frozenset(('state', 'health', 'status'))

DEFAULT_THRESHOLDS = {
    'disk_pct_p2': 90,
    'disk_pct_p3': 80,
    'mem_pct_p2': 90,
    'mem_pct_p3': 80,
    'restart_count_p3': 1,
    'health_latency_slo_ms': 100,
    'api_p95_slo_ms': 200,
    'app_p95_slo_ms': 500,
    'payment_externals': ['stripe'],
}

_MAX_DEPTH = 8
_MSG_LIMIT = 200
_ID_RE = re.compile(r'^[A-Za-z][A-Za-z0-9_.-]{0,63}$')
_METRIC_RE = re.compile(r'^[a-z][a-z0-9_]{0,63}$')
_USERINFO_RE = re.compile(r'([A-Za-z][A-Za-z0-9+.\-]*://)[^\s/@]+@')


def _probe_status(probe, values):
    return {'check': 'probe_status_in', 'probe': probe, 'values': list(values)}


def _http_5xx(probe):
    return {'check': 'probe_http_status_between', 'probe': probe, 'min': 500, 'max': 599}


def _items(of, *where):
    return {'check': 'item_match', 'of': of, 'where': list(where)}


def _test(field, op, **ref):
    test = {'field': field, 'op': op}
    test.update(ref)
    return test


#: The default rule table, in report order. Keep docs/severity.md in sync.
DEFAULT_RULES = [
    # --- P0: complete outage, payments down ------------------------------------------------
    {'id': 'app_down', 'severity': 'P0',
     'description': 'The app reports itself down or does not answer at all (complete outage).',
     'when': _probe_status(['app'], ['down', 'unreachable'])},
    {'id': 'app_error_page', 'severity': 'P0',
     'description': 'The app answers with a 5xx error page instead of a health response '
                    '(e.g. the proxy\'s 502 page: nothing behind it answers).',
     'when': {'all': [_probe_status(['app'], ['invalid']), _http_5xx('app')]}},
    {'id': 'payments_down', 'severity': 'P0',
     'description': 'Payment processing is down.',
     'when': {'any': [
         {'check': 'payments_status_in', 'values': ['down']},
         _items('externals', _test('name', 'in', threshold='payment_externals'),
                _test('status', 'eq', value='down')),
     ]}},
    # --- P1: a major feature is unavailable -------------------------------------------------
    {'id': 'app_invalid', 'severity': 'P1',
     'description': 'The app\'s health cannot be judged: it answers, but not with a health response '
                    '(4xx, HTML, malformed JSON). Someone has to look.',
     'when': {'all': [_probe_status(['app'], ['invalid']), {'not': _http_5xx('app')}]}},
    {'id': 'n8n_down', 'severity': 'P1',
     'description': 'n8n (workflow engine) is down.',
     'when': {'any': [
         {'check': 'component_status_in', 'probe': 'app', 'components': ['n8n'], 'values': ['down']},
         _probe_status(['n8n_liveness'], ['down', 'unreachable', 'invalid']),
     ]}},
    {'id': 'n8n_not_ready', 'severity': 'P1',
     'description': 'n8n is not ready to run workflows (even if its liveness answers).',
     'when': _probe_status(['n8n_readiness'], ['down', 'unreachable', 'invalid'])},
    {'id': 'db_down', 'severity': 'P1',
     'description': 'The database is down.',
     'when': {'check': 'component_status_in', 'probe': 'app', 'components': ['db'], 'values': ['down']}},
    {'id': 'redis_down', 'severity': 'P1',
     'description': 'Redis (sessions, cache, job queues) is down.',
     'when': {'check': 'component_status_in', 'probe': 'app', 'components': ['redis'], 'values': ['down']}},
    {'id': 'llm_unavailable', 'severity': 'P1',
     'description': 'No LLM provider is available (the llm component is down, or has no active provider and no fallback).',
     'when': {'check': 'llm_unavailable', 'probe': 'app', 'component': 'llm'}},
    # --- P2: degraded or slow -----------------------------------------------------------------
    {'id': 'health_degraded', 'severity': 'P2',
     'description': 'A health endpoint reports degraded.',
     'when': _probe_status(['app', 'n8n_liveness', 'n8n_readiness'], ['degraded'])},
    {'id': 'component_degraded', 'severity': 'P2',
     'description': 'An app component is degraded.',
     'when': {'check': 'component_status_in', 'probe': 'app', 'values': ['degraded']}},
    {'id': 'component_down', 'severity': 'P2',
     'description': 'An app component without a rule of its own is down.',
     'when': {'check': 'component_status_in', 'probe': 'app', 'exclude': ['db', 'redis', 'n8n', 'llm'],
              'values': ['down']}},
    {'id': 'health_latency_slow', 'severity': 'P2',
     'description': 'The health check answers slower than its SLO.',
     'when': {'check': 'slo_over', 'metric': 'health_latency'}},
    {'id': 'api_latency_slow', 'severity': 'P2',
     'description': 'The API P95 latency is over its SLO.',
     'when': {'check': 'slo_over', 'metric': 'api_p95'}},
    {'id': 'app_latency_slow', 'severity': 'P2',
     'description': 'The application P95 latency is over its SLO.',
     'when': {'check': 'slo_over', 'metric': 'app_p95'}},
    {'id': 'container_restarting', 'severity': 'P2',
     'description': 'A container is restarting.',
     'when': {'any': [_items('containers', _test('restarting', 'is_true')),
                      _items('containers', _test('restarting', 'ne', value=True),
                             _test('state', 'eq', value='restarting'))]}},
    {'id': 'container_oom_killed', 'severity': 'P2',
     'description': 'A container was OOM-killed.',
     'when': _items('containers', _test('oom_killed', 'is_true'))},
    {'id': 'container_unhealthy', 'severity': 'P2',
     'description': 'A container\'s own health check fails.',
     'when': _items('containers', _test('health', 'eq', value='unhealthy'))},
    {'id': 'container_exited', 'severity': 'P2',
     'description': 'A container stopped with an error (exited or dead, exit code not 0).',
     'when': _items('containers', _test('state', 'in', values=['exited', 'dead']),
                    _test('exit_code', 'ne', value=0))},
    {'id': 'container_memory_high', 'severity': 'P2',
     'description': 'A container uses at least mem_pct_p2 % of its memory limit.',
     'when': _items('containers', _test('mem_pct', 'ge', threshold='mem_pct_p2'))},
    {'id': 'disk_high', 'severity': 'P2',
     'description': 'A disk is at least disk_pct_p2 % full.',
     'when': _items('disks', _test('used_pct', 'ge', threshold='disk_pct_p2'))},
    {'id': 'external_impaired', 'severity': 'P2',
     'description': 'An external dependency (not a payment provider) is degraded or down.',
     'when': _items('externals', _test('name', 'not_in', threshold='payment_externals'),
                    _test('status', 'in', values=['degraded', 'down']))},
    {'id': 'payments_degraded', 'severity': 'P2',
     'description': 'Payment processing is degraded.',
     'when': {'any': [
         {'check': 'payments_status_in', 'values': ['degraded']},
         _items('externals', _test('name', 'in', threshold='payment_externals'),
                _test('status', 'eq', value='degraded')),
     ]}},
    # --- P3: minor findings ---------------------------------------------------------------------
    {'id': 'component_unknown', 'severity': 'P3',
     'description': 'An app component reports an unknown state.',
     'when': {'check': 'component_status_in', 'probe': 'app', 'values': ['unknown']}},
    {'id': 'container_memory_warn', 'severity': 'P3',
     'description': 'A container uses at least mem_pct_p3 % (and less than mem_pct_p2 %) of its memory limit.',
     'when': _items('containers', _test('mem_pct', 'ge', threshold='mem_pct_p3'),
                    _test('mem_pct', 'lt', threshold='mem_pct_p2'))},
    {'id': 'disk_warn', 'severity': 'P3',
     'description': 'A disk is at least disk_pct_p3 % (and less than disk_pct_p2 %) full.',
     'when': _items('disks', _test('used_pct', 'ge', threshold='disk_pct_p3'),
                    _test('used_pct', 'lt', threshold='disk_pct_p2'))},
    {'id': 'container_restarted', 'severity': 'P3',
     'description': 'A container has restarted at least restart_count_p3 times.',
     'when': _items('containers', _test('restart_count', 'ge', threshold='restart_count_p3'))},
    {'id': 'external_unknown', 'severity': 'P3',
     'description': 'The state of an external dependency is unknown.',
     'when': _items('externals', _test('status', 'eq', value='unknown'))},
    {'id': 'payments_unknown', 'severity': 'P3',
     'description': 'The state of payment processing is unknown.',
     'when': {'check': 'payments_status_in', 'values': ['unknown']}},
]


# --------------------------------------------------------------------------
# Small helpers
# --------------------------------------------------------------------------

def _type_name(value):
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'boolean'
    if isinstance(value, (int, float)):
        return 'number'
    if isinstance(value, str):
        return 'string'
    if isinstance(value, Mapping):
        return 'mapping'
    if isinstance(value, (list, tuple)):
        return 'list'
    return type(value).__name__


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_list(value):
    return isinstance(value, (list, tuple))


def _fmt(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return '%g' % value
    if _is_list(value):
        return '[%s]' % ', '.join(_fmt(v) for v in value)
    return str(value)


def _cut(text, limit=_MSG_LIMIT):
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _redact(text):
    return _USERINFO_RE.sub(r'\1***@', text)


def _word(value):
    return value.strip().lower() if isinstance(value, str) else value


def _plain_str(value):
    # Tagged/unsafe str subclasses become plain str so the output is plain data.
    return ''.join((value,)) if isinstance(value, str) else value


# --------------------------------------------------------------------------
# Findings
# --------------------------------------------------------------------------

def is_health_result(value):
    """True for a bare ``arizu.ops.health_check`` result (not a findings mapping)."""
    return (isinstance(value, Mapping) and 'status' in value
            and ('components' in value or 'format' in value)
            and not any(key in value for key in FINDINGS_KEYS))


def bare_result_key(result):
    """The findings key a bare health_check result stands for.

    An n8n answer (``format: n8n``) is n8n's liveness, or its readiness when its
    component is ``n8n_readiness``; any other result is the app's health.
    """
    if result.get('format') == 'n8n':
        components = result.get('components')
        if isinstance(components, Mapping) and 'n8n_readiness' in components:
            return 'n8n_readiness'
        return 'n8n_liveness'
    return 'app'


def _probe(value, where):
    if value is None:
        return None
    if not isinstance(value, Mapping):
        raise SeverityError('%s: expected a health_check result (a mapping), got %s' % (where, _type_name(value)))
    if value.get('skipped') is True and 'status' not in value:
        return None  # a registered result of a skipped probe task: no finding
    status = value.get('status')
    if not isinstance(status, str):
        raise SeverityError('%s.status: expected one of %s, got %s' % (
            where, ', '.join(OVERALL_STATES), 'no status' if status is None else _type_name(status)))
    status = _word(status)
    if status not in OVERALL_STATES:
        raise SeverityError('%s.status: expected one of %s, got %r' % (where, ', '.join(OVERALL_STATES), value['status']))
    http_status = value.get('http_status')
    if http_status is not None and (isinstance(http_status, bool) or not isinstance(http_status, int)):
        raise SeverityError('%s.http_status: expected an integer or null, got %s' % (where, _type_name(http_status)))
    latency = value.get('latency_ms')
    if latency is not None and not _is_number(latency):
        raise SeverityError('%s.latency_ms: expected a number or null, got %s' % (where, _type_name(latency)))
    msg = value.get('msg')
    components = value.get('components')
    if components is None:
        components = {}
    if not isinstance(components, Mapping):
        raise SeverityError('%s.components: expected a mapping, got %s' % (where, _type_name(components)))
    normalized = {}
    for name, comp in components.items():
        normalized[str(name)] = _component(comp, '%s.components.%s' % (where, name))
    return {
        'status': status,
        'http_status': http_status,
        'latency_ms': latency,
        'msg': msg if isinstance(msg, str) else None,
        'components': normalized,
    }


def _component(value, where):
    if isinstance(value, str):
        value = {'status': value}
    if not isinstance(value, Mapping):
        raise SeverityError('%s: expected a mapping with a status (or a status word), got %s' % (where, _type_name(value)))
    status = value.get('status', 'unknown')
    if not isinstance(status, str) or _word(status) not in COMPONENT_STATES:
        raise SeverityError('%s.status: expected one of %s, got %s' % (
            where, ', '.join(COMPONENT_STATES), repr(status) if isinstance(status, str) else _type_name(status)))
    entry = {'status': _word(status)}
    for key in ('active', 'fallback', 'message'):
        if key in value:
            entry[key] = value[key]
    latency = value.get('latency_ms')
    if latency is not None:
        if not _is_number(latency):
            raise SeverityError('%s.latency_ms: expected a number or null, got %s' % (where, _type_name(latency)))
        entry['latency_ms'] = latency
    return entry


def _item_list(value, key):
    if value is None:
        return []
    if not _is_list(value):
        raise SeverityError('%s: expected a list of mappings, got %s' % (key, _type_name(value)))
    fields = ITEM_FIELDS[key]
    items = []
    for index, item in enumerate(value):
        where = '%s[%d]' % (key, index)
        if not isinstance(item, Mapping):
            raise SeverityError('%s: expected a mapping, got %s' % (where, _type_name(item)))
        entry = {}
        for field, kind in fields.items():
            field_value = item.get(field)
            if field_value is None:
                if field in _REQUIRED_ITEM_FIELDS[key]:
                    raise SeverityError('%s.%s: required' % (where, field))
                entry[field] = None
                continue
            _check_field_type(field_value, kind, '%s.%s' % (where, field))
            if kind == 'str':
                field_value = _plain_str(field_value)
                if field in _WORD_FIELDS:
                    field_value = _word(field_value)
            entry[field] = field_value
        if key == 'externals' and entry['status'] not in COMPONENT_STATES:
            raise SeverityError('%s.status: expected one of %s, got %r' % (where, ', '.join(COMPONENT_STATES), item['status']))
        entry['_label'] = _item_label(key, entry, index)
        items.append(entry)
    return items


def _check_field_type(value, kind, where):
    if kind == 'str':
        ok = isinstance(value, str)
        expected = 'a string'
    elif kind == 'bool':
        ok = isinstance(value, bool)
        expected = 'a boolean'
    elif kind == 'int':
        ok = isinstance(value, int) and not isinstance(value, bool)
        expected = 'an integer'
    else:
        ok = _is_number(value)
        expected = 'a number'
    if not ok:
        raise SeverityError('%s: expected %s, got %s%s' % (
            where, expected, _type_name(value), ' %r' % value if isinstance(value, (str, float)) else ''))


def _item_label(key, entry, index):
    if key == 'containers':
        name, service = entry.get('name'), entry.get('service')
        if name and service and name != service:
            return 'container %s (service %s)' % (name, service)
        return 'container %s' % (name or service or '#%d' % index)
    if key == 'disks':
        return 'disk %s' % (entry.get('path') or '#%d' % index)
    return 'external %s' % entry['name']


def _slo(value):
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SeverityError('slo: expected a mapping, got %s' % _type_name(value))
    out = {}
    for key, number in value.items():
        key = str(key)
        if not key.endswith('_ms') or number is None:
            continue
        if not _is_number(number):
            raise SeverityError('slo.%s: expected a number of milliseconds, got %s' % (key, _type_name(number)))
        out[key] = number
    return out


def normalize_findings(findings):
    """Validate *findings* (or a bare health_check result) into the internal shape.

    Raises SeverityError on bad input. Returns a dict with every findings key.
    """
    if not isinstance(findings, Mapping):
        raise SeverityError('expected a health_check result or a findings mapping, got %s' % _type_name(findings))
    if is_health_result(findings):
        findings = {bare_result_key(findings): findings}
    elif findings and not any(key in findings for key in FINDINGS_KEYS):
        raise SeverityError(
            'no findings recognised: expected a health_check result (with status and components) '
            'or a mapping with any of %s; got keys %s' % (
                ', '.join(FINDINGS_KEYS), ', '.join(sorted(str(k) for k in findings))[:200]))
    out = {}
    for probe in PROBES:
        out[probe] = _probe(findings.get(probe), probe)
    for key in ('containers', 'disks', 'externals'):
        out[key] = _item_list(findings.get(key), key)
    out['slo'] = _slo(findings.get('slo'))
    payments = findings.get('payments')
    if payments is not None:
        if not isinstance(payments, str) or _word(payments) not in COMPONENT_STATES:
            raise SeverityError('payments: expected one of %s, got %s' % (
                ', '.join(COMPONENT_STATES), repr(payments) if isinstance(payments, str) else _type_name(payments)))
        payments = _word(payments)
    out['payments'] = payments
    evaluated = [key for key in FINDINGS_KEYS if key != 'slo' and out[key] not in (None, [])]
    if findings.get('slo') is not None:
        evaluated.append('slo')
    out['_evaluated'] = sorted(evaluated)
    return out


# --------------------------------------------------------------------------
# Conditions: validation
# --------------------------------------------------------------------------

_OPS_NUMERIC = ('gt', 'ge', 'lt', 'le')
_OPS_SCALAR = ('eq', 'ne')
_OPS_LIST = ('in', 'not_in')
_OPS_BOOL = ('is_true', 'is_false')
OPS = _OPS_NUMERIC + _OPS_SCALAR + _OPS_LIST + _OPS_BOOL


def _list_of(value, allowed, where, kind='value'):
    if isinstance(value, str):
        value = [value]
    if not _is_list(value) or not value:
        raise SeverityError('%s: expected a non-empty list of %ss, got %s' % (where, kind, _type_name(value)))
    out = []
    for item in value:
        if not isinstance(item, str):
            raise SeverityError('%s: expected %ss (strings), got %s' % (where, kind, _type_name(item)))
        word = item.strip() if allowed is None else _word(item)
        if allowed is not None and word not in allowed:
            raise SeverityError('%s: unknown %s %r (expected one of %s)' % (where, kind, item, ', '.join(allowed)))
        out.append(word)
    return out


def _validate_params(cond, where, required, optional=()):
    unknown = sorted(set(cond) - set(required) - set(optional) - {'check'})
    if unknown:
        raise SeverityError('%s: unknown parameter(s) %s for check %r' % (where, ', '.join(map(str, unknown)), cond['check']))
    missing = [p for p in required if p not in cond]
    if missing:
        raise SeverityError('%s: check %r needs %s' % (where, cond['check'], ', '.join(missing)))


def _v_probe_status_in(cond, where, refs):
    _validate_params(cond, where, ('probe', 'values'))
    return {'check': cond['check'],
            'probe': _list_of(cond['probe'], PROBES, where + '.probe', 'probe'),
            'values': _list_of(cond['values'], OVERALL_STATES, where + '.values', 'status')}


def _v_probe_http_status_between(cond, where, refs):
    _validate_params(cond, where, ('probe', 'min', 'max'))
    for key in ('min', 'max'):
        if isinstance(cond[key], bool) or not isinstance(cond[key], int):
            raise SeverityError('%s.%s: expected an integer, got %s' % (where, key, _type_name(cond[key])))
    return {'check': cond['check'],
            'probe': _list_of(cond['probe'], PROBES, where + '.probe', 'probe'),
            'min': cond['min'], 'max': cond['max']}


def _v_component_status_in(cond, where, refs):
    _validate_params(cond, where, ('values',), ('probe', 'components', 'exclude'))
    out = {'check': cond['check'],
           'probe': _list_of(cond.get('probe', 'app'), PROBES, where + '.probe', 'probe'),
           'values': _list_of(cond['values'], COMPONENT_STATES, where + '.values', 'state')}
    for key in ('components', 'exclude'):
        if cond.get(key) is not None:
            out[key] = _list_of(cond[key], None, '%s.%s' % (where, key), 'component name')
    return out


def _v_llm_unavailable(cond, where, refs):
    _validate_params(cond, where, (), ('probe', 'component'))
    component = cond.get('component', 'llm')
    if not isinstance(component, str) or not component.strip():
        raise SeverityError('%s.component: expected a component name, got %s' % (where, _type_name(component)))
    return {'check': cond['check'],
            'probe': _list_of(cond.get('probe', 'app'), PROBES, where + '.probe', 'probe'),
            'component': component.strip()}


def _v_slo_over(cond, where, refs):
    _validate_params(cond, where, ('metric',), ('threshold',))
    metric = cond['metric']
    if not isinstance(metric, str) or not _METRIC_RE.match(metric):
        raise SeverityError('%s.metric: expected a metric name like api_p95 (lower case, digits, _), got %r' % (where, metric))
    out = {'check': cond['check'], 'metric': metric}
    if 'threshold' in cond:
        if not isinstance(cond['threshold'], str):
            raise SeverityError('%s.threshold: expected a threshold name, got %s' % (where, _type_name(cond['threshold'])))
        out['threshold'] = cond['threshold']
        refs.append((cond['threshold'], 'number', where + '.threshold'))
    else:
        refs.append((metric + '_slo_ms', 'optional_number', where))
    return out


def _v_payments_status_in(cond, where, refs):
    _validate_params(cond, where, ('values',))
    return {'check': cond['check'],
            'values': _list_of(cond['values'], COMPONENT_STATES, where + '.values', 'state')}


def _v_item_match(cond, where, refs):
    _validate_params(cond, where, ('of', 'where'))
    of = cond['of']
    if of not in ITEM_FIELDS:
        raise SeverityError('%s.of: expected one of %s, got %r' % (where, ', '.join(ITEM_FIELDS), of))
    tests = cond['where']
    if not _is_list(tests) or not tests:
        raise SeverityError('%s.where: expected a non-empty list of field tests, got %s' % (where, _type_name(tests)))
    out_tests = []
    for index, test in enumerate(tests):
        out_tests.append(_v_field_test(test, of, '%s.where[%d]' % (where, index), refs))
    return {'check': cond['check'], 'of': of, 'where': out_tests}


def _v_field_test(test, of, where, refs):
    if not isinstance(test, Mapping):
        raise SeverityError('%s: expected a mapping {field, op, value|values|threshold}, got %s' % (where, _type_name(test)))
    unknown = sorted(set(test) - {'field', 'op', 'value', 'values', 'threshold'})
    if unknown:
        raise SeverityError('%s: unknown key(s) %s' % (where, ', '.join(map(str, unknown))))
    field, op = test.get('field'), test.get('op')
    fields = ITEM_FIELDS[of]
    if field not in fields:
        raise SeverityError('%s.field: %r is not a field of %s (expected one of %s)' % (where, field, of, ', '.join(fields)))
    if op not in OPS:
        raise SeverityError('%s.op: expected one of %s, got %r' % (where, ', '.join(OPS), op))
    kind = fields[field]
    refs_given = [key for key in ('value', 'values', 'threshold') if key in test]
    out = {'field': field, 'op': op}
    if op in _OPS_BOOL:
        if kind != 'bool':
            raise SeverityError('%s: op %s needs a boolean field, %s is %s' % (where, op, field, kind))
        if refs_given:
            raise SeverityError('%s: op %s takes no value' % (where, op))
        return out
    if len(refs_given) != 1:
        raise SeverityError('%s: op %s needs exactly one of value, values, threshold' % (where, op))
    if op in _OPS_NUMERIC and kind not in ('int', 'number'):
        raise SeverityError('%s: op %s needs a numeric field, %s is %s' % (where, op, field, kind))
    if 'threshold' in test:
        name = test['threshold']
        if not isinstance(name, str):
            raise SeverityError('%s.threshold: expected a threshold name, got %s' % (where, _type_name(name)))
        out['threshold'] = name
        refs.append((name, 'list' if op in _OPS_LIST else 'number' if op in _OPS_NUMERIC else 'scalar', where))
        return out
    if op in _OPS_LIST:
        if 'values' not in test or not _is_list(test['values']):
            raise SeverityError('%s: op %s needs values (a list)' % (where, op))
        out['values'] = [_word(v) if isinstance(v, str) else v for v in test['values']]
        return out
    if 'value' not in test:
        raise SeverityError('%s: op %s needs value' % (where, op))
    value = test['value']
    if op in _OPS_NUMERIC and not _is_number(value):
        raise SeverityError('%s.value: op %s needs a number, got %s' % (where, op, _type_name(value)))
    if not (value is None or isinstance(value, (str, bool)) or _is_number(value)):
        raise SeverityError('%s.value: expected a string, number or boolean, got %s' % (where, _type_name(value)))
    out['value'] = _word(value)
    return out


_VALIDATORS = {
    'probe_status_in': _v_probe_status_in,
    'probe_http_status_between': _v_probe_http_status_between,
    'component_status_in': _v_component_status_in,
    'llm_unavailable': _v_llm_unavailable,
    'slo_over': _v_slo_over,
    'item_match': _v_item_match,
    'payments_status_in': _v_payments_status_in,
}
CHECKS = tuple(_VALIDATORS)


def _validate_condition(cond, where, refs, depth=0):
    if depth > _MAX_DEPTH:
        raise SeverityError('%s: conditions nested deeper than %d levels' % (where, _MAX_DEPTH))
    if not isinstance(cond, Mapping):
        raise SeverityError('%s: expected a condition mapping ({check: ...}, {any: [...]}, {all: [...]} or {not: ...}), got %s'
                            % (where, _type_name(cond)))
    combinators = [key for key in ('any', 'all', 'not') if key in cond]
    if combinators:
        if len(cond) != 1:
            raise SeverityError('%s: %s must be the only key of its mapping' % (where, combinators[0]))
        key = combinators[0]
        if key == 'not':
            return {'not': _validate_condition(cond['not'], where + '.not', refs, depth + 1)}
        items = cond[key]
        if not _is_list(items) or not items:
            raise SeverityError('%s.%s: expected a non-empty list of conditions, got %s' % (where, key, _type_name(items)))
        return {key: [_validate_condition(item, '%s.%s[%d]' % (where, key, i), refs, depth + 1)
                      for i, item in enumerate(items)]}
    check = cond.get('check')
    if check not in _VALIDATORS:
        raise SeverityError('%s: unknown check %r (known checks: %s)' % (where, check, ', '.join(CHECKS)))
    return _VALIDATORS[check](cond, where, refs)


# --------------------------------------------------------------------------
# Rule table
# --------------------------------------------------------------------------

def _severity_word(value, where):
    if isinstance(value, str) and value.strip().upper() in SEVERITIES:
        return value.strip().upper()
    raise SeverityError('%s: expected one of %s, got %r' % (where, ', '.join(SEVERITIES), value))


def _check_rule_id(rule_id, where):
    if not isinstance(rule_id, str) or not _ID_RE.match(rule_id):
        raise SeverityError('%s: a rule id is a name like disk_high (letters, digits, _ . -), got %r' % (where, rule_id))


def _full_rule(rule, where):
    if not isinstance(rule, Mapping):
        raise SeverityError('%s: expected a rule mapping {id, severity, when}, got %s' % (where, _type_name(rule)))
    unknown = sorted(set(rule) - {'id', 'severity', 'when', 'description', 'enabled'})
    if unknown:
        raise SeverityError('%s: unknown rule key(s) %s' % (where, ', '.join(map(str, unknown))))
    for key in ('id', 'severity', 'when'):
        if key not in rule:
            raise SeverityError('%s: a rule needs %s' % (where, key))
    _check_rule_id(rule['id'], where + '.id')
    enabled = rule.get('enabled', True)
    if not isinstance(enabled, bool):
        raise SeverityError('%s.enabled: expected a boolean, got %s' % (where, _type_name(enabled)))
    description = rule.get('description', '')
    if not isinstance(description, str):
        raise SeverityError('%s.description: expected a string, got %s' % (where, _type_name(description)))
    return {'id': rule['id'], 'severity': _severity_word(rule['severity'], where + '.severity'),
            'description': description, 'enabled': enabled, 'when': rule['when']}


def _apply_override(table, index, rule_id, override):
    where = 'rules.%s' % rule_id
    if override is False:
        override = {'enabled': False}
    elif override is True:
        override = {'enabled': True}
    elif isinstance(override, str):
        override = {'severity': override}
    if not isinstance(override, Mapping):
        raise SeverityError('%s: expected a severity (P0-P3), false (disable) or a mapping '
                            '{severity, enabled, when, description}, got %s' % (where, _type_name(override)))
    unknown = sorted(set(override) - {'severity', 'enabled', 'when', 'description'})
    if unknown:
        raise SeverityError('%s: unknown key(s) %s (expected severity, enabled, when, description)'
                            % (where, ', '.join(map(str, unknown))))
    if index is None:
        if 'when' not in override or 'severity' not in override:
            raise SeverityError('%s: unknown rule id %r; a new rule needs severity and when (known ids: %s)'
                                % (where, rule_id, ', '.join(r['id'] for r in table)))
        table.append(_full_rule(dict(override, id=rule_id), where))
        return
    rule = table[index]
    if 'severity' in override:
        rule['severity'] = _severity_word(override['severity'], where + '.severity')
    if 'enabled' in override:
        if not isinstance(override['enabled'], bool):
            raise SeverityError('%s.enabled: expected a boolean, got %s' % (where, _type_name(override['enabled'])))
        rule['enabled'] = override['enabled']
    if 'when' in override:
        rule['when'] = override['when']
    if 'description' in override:
        if not isinstance(override['description'], str):
            raise SeverityError('%s.description: expected a string, got %s' % (where, _type_name(override['description'])))
        rule['description'] = override['description']


def _merge_thresholds(base, overrides, where):
    if overrides is None:
        return
    if not isinstance(overrides, Mapping):
        raise SeverityError('%s: expected a mapping of threshold names to values, got %s' % (where, _type_name(overrides)))
    for name, value in overrides.items():
        if not isinstance(name, str):
            raise SeverityError('%s: threshold names are strings, got %s' % (where, _type_name(name)))
        if _is_list(value):
            if not all(isinstance(v, str) or _is_number(v) for v in value):
                raise SeverityError('%s.%s: a list threshold holds strings or numbers' % (where, name))
            value = [_word(v) if isinstance(v, str) else v for v in value]
        elif not _is_number(value) and not isinstance(value, str):
            raise SeverityError('%s.%s: expected a number (or a list of names), got %s' % (where, name, _type_name(value)))
        default = DEFAULT_THRESHOLDS.get(name)
        if default is not None and _is_list(default) != _is_list(value):
            raise SeverityError('%s.%s: expected %s, got %s' % (
                where, name, 'a list of names' if _is_list(default) else 'a number', _type_name(value)))
        if default is not None and _is_number(default) and not _is_number(value):
            raise SeverityError('%s.%s: expected a number, got %s' % (where, name, _type_name(value)))
        base[name] = value


def build_rule_table(rules=None, thresholds=None):
    """Return ``(rules, thresholds)``: the validated rule table and thresholds.

    *rules* is None (the defaults), a list (the complete table, defaults not
    used) or a mapping of per-rule overrides keyed by rule id (plus an optional
    ``thresholds`` key). *thresholds* overrides threshold values on top.
    """
    merged = copy.deepcopy(DEFAULT_THRESHOLDS)
    threshold_overrides = []
    if rules is None:
        table = [dict(rule, enabled=True) for rule in copy.deepcopy(DEFAULT_RULES)]
    elif _is_list(rules):
        if not rules:
            raise SeverityError('rules: an empty rule table judges nothing; give at least one rule, '
                                'or a mapping of changes to the default table')
        table = [_full_rule(rule, 'rules[%d]' % i) for i, rule in enumerate(rules)]
        seen = set()
        for rule in table:
            if rule['id'] in seen:
                raise SeverityError('rules: duplicate rule id %r' % rule['id'])
            seen.add(rule['id'])
    elif isinstance(rules, Mapping):
        table = [dict(rule, enabled=True) for rule in copy.deepcopy(DEFAULT_RULES)]
        positions = dict((rule['id'], i) for i, rule in enumerate(table))
        for rule_id, override in rules.items():
            if rule_id == 'thresholds':
                threshold_overrides.append((override, 'rules.thresholds'))
                continue
            _check_rule_id(rule_id, 'rules')
            _apply_override(table, positions.get(rule_id), rule_id, override)
            positions = dict((rule['id'], i) for i, rule in enumerate(table))
    else:
        raise SeverityError('rules: expected a list (the whole rule table) or a mapping of overrides by rule id, got %s'
                            % _type_name(rules))
    if thresholds is not None:
        threshold_overrides.append((thresholds, 'thresholds'))

    refs = []
    for rule in table:
        rule['when'] = _validate_condition(rule['when'], 'rules.%s.when' % rule['id'], refs)

    given = {}
    for overrides, where in threshold_overrides:
        _merge_thresholds(given, overrides, where)
    referenced = set(name for name, _kind, _where in refs)
    for name in given:
        if name not in DEFAULT_THRESHOLDS and name not in referenced:
            raise SeverityError('thresholds: unknown threshold %r (known: %s)' % (
                name, ', '.join(sorted(set(DEFAULT_THRESHOLDS) | referenced))))
    merged.update(given)
    for name, kind, where in refs:
        value = merged.get(name)
        if value is None:
            if kind == 'optional_number':
                continue
            raise SeverityError('%s: threshold %r is not defined (give it in thresholds)' % (where, name))
        if kind in ('number', 'optional_number') and not _is_number(value):
            raise SeverityError('%s: threshold %r must be a number, is %s' % (where, name, _type_name(value)))
        if kind == 'list' and not _is_list(value):
            raise SeverityError('%s: threshold %r must be a list, is %s' % (where, name, _type_name(value)))
        if kind == 'scalar' and _is_list(value):
            raise SeverityError('%s: threshold %r must be a single value, is a list' % (where, name))
    return table, merged


# --------------------------------------------------------------------------
# Conditions: evaluation (each returns a list of detail strings; empty = no match)
# --------------------------------------------------------------------------

def _probe_detail(name, probe):
    parts = ['%s: %s' % (name, probe['status'])]
    if probe['http_status'] is not None:
        parts.append(' (HTTP %d)' % probe['http_status'])
    if probe['msg']:
        parts.append(' - %s' % _cut(probe['msg']))
    return ''.join(parts)


def _e_probe_status_in(cond, findings, thresholds):
    out = []
    for name in cond['probe']:
        probe = findings[name]
        if probe is not None and probe['status'] in cond['values']:
            out.append(_probe_detail(name, probe))
    return out


def _e_probe_http_status_between(cond, findings, thresholds):
    out = []
    for name in cond['probe']:
        probe = findings[name]
        if probe is not None and probe['http_status'] is not None and \
                cond['min'] <= probe['http_status'] <= cond['max']:
            out.append('')  # a guard: the status check next to it shows the HTTP status
    return out


def _component_detail(probe_name, name, comp):
    extras = []
    if comp.get('latency_ms') is not None:
        extras.append('%s ms' % _fmt(comp['latency_ms']))
    if isinstance(comp.get('message'), str) and comp['message'].strip():
        extras.append(_cut(comp['message']))
    text = '%s component %s: %s' % (probe_name, name, comp['status'])
    return text + (' (%s)' % ', '.join(extras) if extras else '')


def _e_component_status_in(cond, findings, thresholds):
    out = []
    for probe_name in cond['probe']:
        probe = findings[probe_name]
        if probe is None:
            continue
        for name, comp in probe['components'].items():
            if 'components' in cond and name not in cond['components']:
                continue
            if name in cond.get('exclude', ()):
                continue
            if comp['status'] in cond['values']:
                out.append(_component_detail(probe_name, name, comp))
    return out


def _empty(value):
    return value is None or value is False or (isinstance(value, str) and not value.strip())


def _e_llm_unavailable(cond, findings, thresholds):
    out = []
    for probe_name in cond['probe']:
        probe = findings[probe_name]
        if probe is None or cond['component'] not in probe['components']:
            continue
        comp = probe['components'][cond['component']]
        if comp['status'] == 'down':
            out.append(_component_detail(probe_name, cond['component'], comp))
        elif comp['status'] in ('degraded', 'unknown') and 'active' in comp and _empty(comp['active']) \
                and _empty(comp.get('fallback')):
            out.append('%s; no active provider and no fallback' % _component_detail(probe_name, cond['component'], comp))
    return out


def _e_slo_over(cond, findings, thresholds):
    metric = cond['metric']
    slo = findings['slo']
    value = slo.get(metric + '_ms')
    source = 'slo.%s_ms' % metric
    if value is None and metric == 'health_latency':
        app = findings['app']
        if app is not None and app['status'] in ('healthy', 'degraded') and app['latency_ms'] is not None:
            value = app['latency_ms']
            source = 'app latency_ms'
    if value is None:
        return []
    limit = slo.get(metric + '_slo_ms')
    if limit is None:
        limit = thresholds.get(cond.get('threshold', metric + '_slo_ms'))
    if limit is None or not value > limit:
        return []
    return ['%s: %s ms > SLO %s ms (%s)' % (metric, _fmt(value), _fmt(limit), source)]


def _e_payments_status_in(cond, findings, thresholds):
    payments = findings['payments']
    if payments is not None and payments in cond['values']:
        return ['payments: %s' % payments]
    return []


_OP_TEXT = {'gt': '>', 'ge': '>=', 'lt': '<', 'le': '<=', 'eq': '==', 'ne': '!=', 'in': 'in', 'not_in': 'not in'}


def _field_test(item, test, thresholds):
    value = item.get(test['field'])
    op = test['op']
    if op == 'is_true':
        return value is True
    if op == 'is_false':
        return value is False
    if 'threshold' in test:
        ref = thresholds[test['threshold']]
        if _is_list(ref):
            ref = [_word(v) for v in ref]
        else:
            ref = _word(ref)
    else:
        ref = test.get('values', test.get('value'))
    if value is None:
        return op in ('ne', 'not_in')
    value = _word(value)
    if op in _OPS_NUMERIC:
        if not _is_number(value) or not _is_number(ref):
            return False
        return {'gt': value > ref, 'ge': value >= ref, 'lt': value < ref, 'le': value <= ref}[op]
    if op == 'eq':
        return value == ref and isinstance(value, bool) == isinstance(ref, bool)
    if op == 'ne':
        return not (value == ref and isinstance(value, bool) == isinstance(ref, bool))
    if op == 'in':
        return value in ref
    return value not in ref


def _test_detail(item, test, thresholds):
    field, op = test['field'], test['op']
    value = item.get(field)
    if field == 'name':
        return None  # the item label shows it
    if ITEM_FIELDS_KIND.get(field) == 'bool':
        return field if value is True else None
    shown = '%s %s' % (field, 'unknown' if value is None else _fmt(value))
    if op in _OPS_NUMERIC:
        ref = thresholds[test['threshold']] if 'threshold' in test else test['value']
        shown += ' %s %s' % (_OP_TEXT[op], _fmt(ref))
    return shown


def _e_item_match(cond, findings, thresholds):
    out = []
    for item in findings[cond['of']]:
        if all(_field_test(item, test, thresholds) for test in cond['where']):
            shown = []
            fields_shown = set()
            for test in cond['where']:
                if test['field'] in fields_shown:
                    continue  # e.g. the upper bound of a band: the first test on a field says enough
                text = _test_detail(item, test, thresholds)
                if text:
                    shown.append(text)
                    fields_shown.add(test['field'])
            out.append('%s: %s' % (item['_label'], ', '.join(shown)) if shown else item['_label'])
    return out


_EVALUATORS = {
    'probe_status_in': _e_probe_status_in,
    'probe_http_status_between': _e_probe_http_status_between,
    'component_status_in': _e_component_status_in,
    'llm_unavailable': _e_llm_unavailable,
    'slo_over': _e_slo_over,
    'item_match': _e_item_match,
    'payments_status_in': _e_payments_status_in,
}


def _evaluate_condition(cond, findings, thresholds):
    if 'any' in cond:
        out = []
        for sub in cond['any']:
            out.extend(_evaluate_condition(sub, findings, thresholds))
        return out
    if 'all' in cond:
        parts = []
        for sub in cond['all']:
            details = _evaluate_condition(sub, findings, thresholds)
            if not details:
                return []
            parts.extend(d for d in details if d)
        return ['; '.join(parts)]
    if 'not' in cond:
        return [] if _evaluate_condition(cond['not'], findings, thresholds) else ['']
    return _EVALUATORS[cond['check']](cond, findings, thresholds)


def evaluate(findings, rules=None, thresholds=None):
    """Judge *findings*; return ``{severity, reasons, evaluated}``.

    ``reasons`` lists every matching rule (P0 first, then in rule table order)
    as ``{rule, severity, detail}``. Raises SeverityError on bad input.
    """
    table, merged = build_rule_table(rules, thresholds)
    normalized = normalize_findings(findings)
    reasons = []
    for rule in table:
        if not rule['enabled']:
            continue
        seen = set()
        for detail in _evaluate_condition(rule['when'], normalized, merged):
            detail = _redact(detail) if detail else (rule['description'] or rule['id'])
            if detail in seen:
                continue
            seen.add(detail)
            reasons.append({'rule': rule['id'], 'severity': rule['severity'], 'detail': detail})
    reasons.sort(key=lambda reason: _RANK[reason['severity']])
    return {
        'severity': reasons[0]['severity'] if reasons else NO_SEVERITY,
        'reasons': reasons,
        'evaluated': normalized['_evaluated'],
    }
