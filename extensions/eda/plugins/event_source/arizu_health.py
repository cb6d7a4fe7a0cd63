# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.arizu_health: an ansible-rulebook event source that polls Arizu health endpoints.

Every ``interval`` seconds each endpoint is probed and judged exactly as the
``arizu.ops.health_check`` module does it (``plugins/module_utils/health_probe.py``
and its parser ``health_parser.py``), and one event per endpoint and
poll is put on the queue. The event carries a consecutive-failure counter, so
that a rule can say "down for N consecutive polls", and, for the app, the
incident severity by the collection's rule table (``plugins/module_utils/severity.py``).

Event sources are not Ansible plugins: ``ansible-doc`` does not render them.
The documentation below follows the module format so that it reads the same;
docs/eda.md is the page for operators.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
short_description: Poll Arizu, n8n and other health endpoints and emit one event per endpoint and poll
description:
  - An ansible-rulebook event source. Every O(interval) seconds every endpoint in O(endpoints) is probed
    (all endpoints at once) and judged by the probe and parser of the M(arizu.ops.health_check) module
    (C(plugins/module_utils/health_probe.py), C(health_parser.py)).
  - One event per endpoint and poll is put on the queue, under the key C(arizu_health) (see "Events").
  - An endpoint B(fails) a poll when its status is V(down), V(unreachable) or V(invalid); V(degraded)
    is not a failure. C(consecutive_failures) counts the failed polls in a row and is reset by a poll
    that does not fail.
  - O(endpoints[].kind=n8n) probes both C(/healthz) (liveness) and C(/healthz/readiness) of the n8n base URL;
    n8n is V(healthy) only when both answer healthy. A 200 from C(/healthz) alone never counts as up,
    because it answers while n8n cannot run workflows (database gone, migrations running).
  - O(endpoints[].kind=app) is the Arizu app's health endpoint (C(/api/health)); its events carry the
    app's components and the severity (P0-P3 or V(none)) by the rule table of C(arizu.ops.severity).
  - Credentials in a URL are refused (they would be copied into every event); use an endpoint that
    needs none, or a local proxy.
  - Bad arguments stop the source with a message that names the argument.
options:
  endpoints:
    description: The endpoints to poll.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Unique name of the endpoint; events and counters are keyed by it.
        type: str
        required: true
      url:
        description:
          - Absolute http:// or https:// URL.
          - For O(endpoints[].kind=n8n) the base URL of n8n (C(http://127.0.0.1:5678)); a trailing C(/healthz)
            or C(/healthz/readiness) is dropped.
        type: str
        required: true
      kind:
        description:
          - V(app) the Arizu app's health endpoint (severity evaluated), V(n8n) n8n's liveness and readiness,
            V(generic) any other health endpoint (judged as M(arizu.ops.health_check) would).
        type: str
        choices: [app, n8n, generic]
        default: generic
      detailed:
        description: Add C(detailed=true) to the query (Arizu app).
        type: bool
        default: false
  interval:
    description: Seconds between the starts of two polls.
    type: float
    default: 10
  timeout:
    description: Seconds one HTTP request may take; must be less than or equal to O(interval).
    type: float
    default: 5
  failure_threshold:
    description:
      - Consecutive failed polls after which C(threshold_reached) is true in the event (and stays true while
        the endpoint keeps failing). Events always carry the counter and the threshold, so a rule can use either.
    type: int
    default: 3
  validate_certs:
    description: Verify TLS certificates of https:// endpoints.
    type: bool
    default: true
  severity_rules:
    description: Overrides of the severity rule table, as for the C(arizu.ops.severity) filter (C(docs/severity.md)).
    type: dict
    default: {}
  severity_thresholds:
    description: Overrides of the severity thresholds, as for the C(arizu.ops.severity) filter.
    type: dict
    default: {}
  max_polls:
    description: Stop after this many polls (V(0) polls forever). For tests and one-shot checks.
    type: int
    default: 0
notes:
  - Needs ansible-core (as every C(run_playbook) does) and the collection's C(plugins/module_utils); it must be run
    from the installed collection (C(ansible_collections/arizu/ops)), as ansible-rulebook does for
    C(arizu.ops.arizu_health).
"""

EXAMPLES = r"""
- name: Watch the Arizu stack
  hosts: all
  sources:
    - name: health
      arizu.ops.arizu_health:
        interval: 10
        timeout: 5
        failure_threshold: 3
        endpoints:
          - {name: app, url: "http://127.0.0.1:3000/api/health", kind: app}
          - {name: n8n, url: "http://127.0.0.1:5678", kind: n8n}
  rules:
    - name: n8n down for 3 polls
      condition: >-
        event.arizu_health.name == "n8n" and
        event.arizu_health.consecutive_failures >= event.arizu_health.failure_threshold
      action:
        debug:
"""

EVENT = r"""
arizu_health:
  description: One poll of one endpoint.
  type: dict
  contains:
    name:
      description: "The endpoint's name."
      type: str
    kind:
      description: "app, n8n or generic."
      type: str
    url:
      description: "The URL polled (the n8n base URL for kind n8n)."
      type: str
    status:
      description: "healthy, degraded, down, unreachable or invalid (n8n: the worse of liveness and readiness)."
      type: str
    up:
      description: "True when the status is healthy or degraded (for n8n: live and ready)."
      type: bool
    failed:
      description: "True when the status is down, unreachable or invalid."
      type: bool
    consecutive_failures:
      description: "Failed polls in a row, this one included (0 when this poll did not fail)."
      type: int
    failure_threshold:
      description: "The O(failure_threshold) argument."
      type: int
    threshold_reached:
      description: "consecutive_failures >= failure_threshold."
      type: bool
    changed:
      description: "The status differs from the previous poll's (true on the first poll)."
      type: bool
    previous_status:
      description: "The previous poll's status (null on the first poll)."
      type: str
    poll:
      description: "Number of the poll (1, 2, ...)."
      type: int
    polled_at:
      description: "Start of the poll, UTC, RFC 3339."
      type: str
    latency_ms:
      description: "Time to the answer (n8n: the slower of the two probes); null when unreachable."
      type: float
    http_status:
      description: "HTTP status (n8n: of the readiness probe, or of liveness when readiness did not answer)."
      type: int
    msg:
      description: "One line saying what was found."
      type: str
    components:
      description: "The parsed components (app: db, redis, n8n, llm ...; n8n: n8n and n8n_readiness)."
      type: dict
    version:
      description: "The version the app reports, when it does."
      type: str
    probes:
      description: "kind n8n only: liveness and readiness, each {status, http_status, latency_ms, msg}."
      type: dict
    severity:
      description: "kind app only (null otherwise): P0, P1, P2, P3 or none."
      type: str
    severity_reasons:
      description: "kind app only: the matching rules, [{rule, severity, detail}], P0 first."
      type: list
"""

import asyncio
import datetime
import math
import os
import sys
from urllib.parse import urlsplit, urlunsplit


def _import_collection_utils():
    """Import the collection's module_utils, also when ansible-rulebook ran this file by path.

    ansible-rulebook loads an event source with ``runpy.run_path`` from
    ``<root>/ansible_collections/arizu/ops/extensions/eda/plugins/event_source/``;
    when ``<root>`` is not on ``sys.path`` it is added (the file's own path, not
    the resolved one: the collection may be a symlink).
    """
    try:
        from ansible_collections.arizu.ops.plugins.module_utils import health_parser, health_probe, severity
        return health_parser, health_probe, severity
    except ImportError:
        pass
    here = os.path.dirname(os.path.abspath(globals().get('__file__') or sys.argv[0]))
    parts = here.split(os.sep)
    if len(parts) < 8 or parts[-7:-4] != ['ansible_collections', 'arizu', 'ops'] \
            or parts[-4:] != ['extensions', 'eda', 'plugins', 'event_source']:
        raise ImportError(
            'arizu.ops.arizu_health must run from the installed collection '
            '(.../ansible_collections/arizu/ops/extensions/eda/plugins/event_source/), not from %s' % here)
    root = os.sep.join(parts[:-7]) or os.sep
    if root not in sys.path:
        sys.path.insert(0, root)
    for name in ('ansible_collections', 'ansible_collections.arizu'):
        module = sys.modules.get(name)
        if module is not None and hasattr(module, '__path__'):
            sub = os.path.join(root, *name.split('.'))
            if sub not in list(module.__path__):
                module.__path__.append(sub)
    from ansible_collections.arizu.ops.plugins.module_utils import health_parser, health_probe, severity
    return health_parser, health_probe, severity


health_parser, health_probe, severity_rules = _import_collection_utils()

KINDS = ('app', 'n8n', 'generic')
FAILED_STATUSES = ('down', 'unreachable', 'invalid')
# worse last: the n8n status is the worse of liveness and readiness
_STATUS_RANK = {'healthy': 0, 'degraded': 1, 'invalid': 2, 'down': 3, 'unreachable': 4}
_MSG_LIMIT = 300


class ArgumentError(ValueError):
    """A bad argument of the event source; the message names it."""


# --------------------------------------------------------------------------
# Arguments
# --------------------------------------------------------------------------

def _number(args, key, default, minimum, integer=False):
    value = args.get(key, default)
    if value is None or value == '':
        value = default
    if isinstance(value, bool):
        raise ArgumentError('%s: expected a number, got a boolean' % key)
    try:
        value = int(value) if integer and not isinstance(value, float) else float(value)
    except (TypeError, ValueError):
        raise ArgumentError('%s: expected a number, got %r' % (key, value))
    if integer and value != int(value):
        raise ArgumentError('%s: expected a whole number, got %r' % (key, value))
    if math.isnan(value) or value < minimum:  # NaN or too small
        raise ArgumentError('%s: must be at least %g, got %r' % (key, minimum, value))
    return int(value) if integer else value


def _bool(args, key, default):
    value = args.get(key, default)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ('true', 'yes', '1', 'false', 'no', '0'):
        return value.strip().lower() in ('true', 'yes', '1')
    raise ArgumentError('%s: expected true or false, got %r' % (key, value))


def _n8n_base(url):
    scheme, netloc, path, _query, _fragment = urlsplit(url)
    path = path.rstrip('/')
    for suffix in ('/healthz/readiness', '/healthz'):
        if path.endswith(suffix):
            path = path[:-len(suffix)]
            break
    return urlunsplit((scheme, netloc, path, '', ''))


def _endpoint(item, index):
    where = 'endpoints[%d]' % index
    if not isinstance(item, dict):
        raise ArgumentError('%s: expected a mapping with name, url and kind, got %s' % (where, type(item).__name__))
    unknown = sorted(set(item) - {'name', 'url', 'kind', 'detailed'})
    if unknown:
        raise ArgumentError('%s: unknown key(s) %s (known: name, url, kind, detailed)' % (where, ', '.join(unknown)))
    name = item.get('name')
    if not isinstance(name, str) or not name.strip():
        raise ArgumentError('%s.name: required, a non-empty string' % where)
    where = 'endpoints[%d] (%s)' % (index, name)
    kind = item.get('kind', 'generic') or 'generic'
    if kind not in KINDS:
        raise ArgumentError('%s.kind: must be one of %s, got %r' % (where, ', '.join(KINDS), kind))
    url = item.get('url')
    if not isinstance(url, str) or not url.strip():
        raise ArgumentError('%s.url: required, an absolute http:// or https:// URL' % where)
    url = url.strip()
    try:
        parts = urlsplit(url)
        _port = parts.port  # raises ValueError for a bad port
    except ValueError as exc:
        raise ArgumentError('%s.url: not a valid URL (%s): %s' % (where, exc, health_parser.redact_url(url)))
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname:
        raise ArgumentError('%s.url: must be an absolute http:// or https:// URL, got %r'
                            % (where, health_parser.redact_url(url)))
    if parts.username is not None or parts.password is not None:
        raise ArgumentError('%s.url: credentials in the URL are not supported (they would be copied into '
                            'every event): %s' % (where, health_parser.redact_url(url)))
    if any(ch in url for ch in '\r\n\t '):
        raise ArgumentError('%s.url: must not contain whitespace' % where)
    detailed = _bool(item, 'detailed', False)
    if kind == 'n8n':
        url = _n8n_base(url)
    return {'name': name.strip(), 'url': url, 'kind': kind, 'detailed': detailed}


def validate_args(args):
    """Check and normalize the source's arguments; raise ArgumentError naming the bad one."""
    if not isinstance(args, dict):
        raise ArgumentError('the arguments must be a mapping, got %s' % type(args).__name__)
    known = {'endpoints', 'interval', 'timeout', 'failure_threshold', 'validate_certs',
             'severity_rules', 'severity_thresholds', 'max_polls'}
    unknown = sorted(set(args) - known)
    if unknown:
        raise ArgumentError('unknown argument(s) %s (known: %s)' % (', '.join(unknown), ', '.join(sorted(known))))
    endpoints = args.get('endpoints')
    if not isinstance(endpoints, list) or not endpoints:
        raise ArgumentError('endpoints: required, a non-empty list of {name, url, kind}')
    parsed = [_endpoint(item, index) for index, item in enumerate(endpoints)]
    names = [e['name'] for e in parsed]
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        raise ArgumentError('endpoints: names must be unique, repeated: %s' % ', '.join(duplicates))
    interval = _number(args, 'interval', 10, 0.1)
    timeout = _number(args, 'timeout', 5, 0.1)
    if timeout > interval:
        raise ArgumentError('timeout: must not be longer than interval (%g s), got %g s' % (interval, timeout))
    rules = args.get('severity_rules') or {}
    thresholds = args.get('severity_thresholds') or {}
    try:
        severity_rules.build_rule_table(rules, thresholds)
    except severity_rules.SeverityError as exc:
        raise ArgumentError('severity_rules/severity_thresholds: %s' % exc)
    return {
        'endpoints': parsed,
        'interval': interval,
        'timeout': timeout,
        'failure_threshold': _number(args, 'failure_threshold', 3, 1, integer=True),
        'validate_certs': _bool(args, 'validate_certs', True),
        'severity_rules': rules,
        'severity_thresholds': thresholds,
        'max_polls': _number(args, 'max_polls', 0, 0, integer=True),
    }


# --------------------------------------------------------------------------
# Pure part: judging and event shaping (no I/O)
# --------------------------------------------------------------------------

def _cut(text, limit=_MSG_LIMIT):
    text = ' '.join(str(text).split())
    return text if len(text) <= limit else text[:limit - 3] + '...'


def probe_result(result):
    """The keys of a health_check result that an event uses (latency null when the endpoint did not answer)."""
    unreachable = result['status'] == 'unreachable'
    return {
        'status': result['status'],
        'http_status': result.get('http_status'),
        'latency_ms': None if unreachable else result.get('latency_ms'),
        'format': result.get('format'),
        'components': result.get('components') or {},
        'version': result.get('version'),
        'msg': _cut(result.get('msg') or result['status']),
    }


def combine_n8n(liveness, readiness):
    """n8n's status from its two probes: the worse of the two (so live but not ready is not up)."""
    status = max((liveness['status'], readiness['status']), key=_STATUS_RANK.get)
    latencies = [p['latency_ms'] for p in (liveness, readiness) if p.get('latency_ms') is not None]
    components = {}
    components['n8n'] = (liveness.get('components') or {}).get('n8n') or \
        {'status': 'down' if liveness['status'] in FAILED_STATUSES else 'unknown'}
    components['n8n_readiness'] = (readiness.get('components') or {}).get('n8n_readiness') or \
        {'status': 'down' if readiness['status'] in FAILED_STATUSES else 'unknown'}
    return {
        'status': status,
        'http_status': readiness['http_status'] if readiness['http_status'] is not None else liveness['http_status'],
        'latency_ms': max(latencies) if latencies else None,
        'components': components,
        'version': None,
        'msg': _cut('%s: liveness %s, readiness %s' % (status, liveness['msg'], readiness['msg'])),
        'probes': {
            'liveness': dict((k, liveness[k]) for k in ('status', 'http_status', 'latency_ms', 'msg')),
            'readiness': dict((k, readiness[k]) for k in ('status', 'http_status', 'latency_ms', 'msg')),
        },
    }


def app_severity(result, rules=None, thresholds=None):
    """``(severity, reasons)`` of an app probe result by the collection's rule table."""
    try:
        verdict = severity_rules.evaluate({'app': result}, rules or None, thresholds or None)
    except severity_rules.SeverityError as exc:
        return 'none', [{'rule': 'severity_error', 'severity': 'none', 'detail': _cut(str(exc))}]
    return verdict['severity'], verdict['reasons']


class PollState:
    """Per-endpoint memory between polls: the consecutive-failure counter and the last status."""

    def __init__(self, failure_threshold=3):
        self.failure_threshold = failure_threshold
        self.failures = {}
        self.last_status = {}

    def update(self, name, status):
        """Record one poll's *status*; return ``(consecutive_failures, previous_status)``."""
        previous = self.last_status.get(name)
        if status in FAILED_STATUSES:
            self.failures[name] = self.failures.get(name, 0) + 1
        else:
            self.failures[name] = 0
        self.last_status[name] = status
        return self.failures[name], previous


def shape_event(endpoint, result, state, poll, polled_at, severity=None, reasons=None):
    """The event for one poll of *endpoint*; updates *state*."""
    status = result['status']
    failures, previous = state.update(endpoint['name'], status)
    event = {
        'name': endpoint['name'],
        'kind': endpoint['kind'],
        'url': health_parser.redact_url(endpoint['url']),
        'status': status,
        'up': status in ('healthy', 'degraded'),
        'failed': status in FAILED_STATUSES,
        'consecutive_failures': failures,
        'failure_threshold': state.failure_threshold,
        'threshold_reached': failures >= state.failure_threshold,
        'changed': previous != status,
        'previous_status': previous,
        'poll': poll,
        'polled_at': polled_at,
        'latency_ms': result.get('latency_ms'),
        'http_status': result.get('http_status'),
        'msg': result.get('msg'),
        'components': result.get('components') or {},
        'version': result.get('version'),
        'severity': severity,
        'severity_reasons': reasons if reasons is not None else [],
    }
    if 'probes' in result:
        event['probes'] = result['probes']
    return {'arizu_health': event}


# --------------------------------------------------------------------------
# I/O: one HTTP GET (in a thread), one poll, the loop
# --------------------------------------------------------------------------

def probe(url, timeout, validate_certs=True):
    """One probe of *url* (blocking), made as the health_check module makes it (module_utils/health_probe.py)."""
    result = health_probe.probe(url, health_parser.redact_url(url), {}, timeout, validate_certs, float('inf'))
    return probe_result(result)


async def poll_endpoint(endpoint, config):
    """The judged result of one poll of *endpoint* (both probes for n8n)."""
    timeout, certs = config['timeout'], config['validate_certs']
    if endpoint['kind'] == 'n8n':
        base = endpoint['url'].rstrip('/')
        liveness, readiness = await asyncio.gather(
            asyncio.to_thread(probe, base + '/healthz', timeout, certs),
            asyncio.to_thread(probe, base + '/healthz/readiness', timeout, certs))
        return combine_n8n(liveness, readiness)
    url = health_parser.build_probe_url(endpoint['url'], endpoint['detailed'])
    return await asyncio.to_thread(probe, url, timeout, certs)


def _now():
    return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


async def poll_once(config, state, poll):
    """Poll every endpoint once; return the events (in the order of ``endpoints``)."""
    polled_at = _now()
    results = await asyncio.gather(*(poll_endpoint(e, config) for e in config['endpoints']))
    events = []
    for endpoint, result in zip(config['endpoints'], results):
        severity = reasons = None
        if endpoint['kind'] == 'app':
            severity, reasons = app_severity(result, config['severity_rules'], config['severity_thresholds'])
        events.append(shape_event(endpoint, result, state, poll, polled_at, severity, reasons))
    return events


async def main(queue, args):
    """Entry point called by ansible-rulebook."""
    config = validate_args(args)
    state = PollState(config['failure_threshold'])
    loop = asyncio.get_running_loop()
    poll = 0
    while True:
        poll += 1
        started = loop.time()
        for event in await poll_once(config, state, poll):
            await queue.put(event)
        if config['max_polls'] and poll >= config['max_polls']:
            return
        await asyncio.sleep(max(0.0, config['interval'] - (loop.time() - started)))


if __name__ == '__main__':
    # Poll once (or ARIZU_HEALTH_POLLS times) and print the events: python arizu_health.py URL [KIND]
    import json

    class _PrintQueue:
        async def put(self, event):
            print(json.dumps(event, sort_keys=True))

    if len(sys.argv) < 2:
        sys.exit('usage: arizu_health.py URL [app|n8n|generic]')
    try:
        asyncio.run(main(_PrintQueue(), {
            'endpoints': [{'name': 'cli', 'url': sys.argv[1], 'kind': sys.argv[2] if len(sys.argv) > 2 else 'generic'}],
            'interval': 2, 'timeout': 2, 'max_polls': int(os.environ.get('ARIZU_HEALTH_POLLS', '1'))}))
    except ArgumentError as exc:
        sys.exit('arizu_health: %s' % exc)
