#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: triage_probe
short_description: Everything the triage measures on one Docker host, in one call
version_added: 1.0.0
description:
  - The probing half of the runbook's five-minute triage, done by one module run per Docker host instead of one task
    per probe, so a triage of many hosts costs one round trip per host.
  - "Measures, on the Docker host: the app's summary health and its detailed health (as M(arizu.ops.health_check) does),
    n8n's liveness (C(/healthz)) and readiness (C(/healthz/readiness)), the Arizu containers' state, memory, last
    log lines and the disk use of the given paths (as M(arizu.ops.docker_evidence) does), and the API latency
    (as M(arizu.ops.http_latency) does)."
  - The parts run one after the other (health probes first, then the Docker requests, then the API sampling), so
    that no probe's latency includes another's work; the time saved is that of the tasks and round trips.
  - Each part is returned in the shape of the module that measures it on its own, so the results feed the
    C(arizu.ops.triage_findings) and C(arizu.ops.severity) filters unchanged.
  - Read-only. Nothing it reaches can fail the task; an unreachable endpoint or a missing container is a finding.
    Only invalid options or a Docker daemon that cannot be used fail it.
author:
  - Arizu maintainers (@arizu)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - Read-only, so it measures in check mode as well.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  docker_host:
    description:
      - The Docker Engine API on the Docker host, V(unix:///path) or V(tcp://host:port) (plain TCP; no TLS).
      - Defaults to the E(DOCKER_HOST) environment variable, then V(unix:///var/run/docker.sock).
      - The module uses a small client of its own on the standard library (not the community.docker one), so it
        starts fast on each of many hosts.
    type: str
  app_url:
    description:
      - Base URL of the Arizu app as the Docker host reaches it, for example V(http://127.0.0.1:3000).
      - C(/api/health) is probed twice, as the summary and with C(?detailed=true).
      - "Omit it to skip the app's probes (RV(app) and RV(app_summary) are then V({skipped: true}))."
    type: str
  n8n_url:
    description:
      - Base URL of n8n, for example V(http://127.0.0.1:5678); C(/healthz) and C(/healthz/readiness) are probed.
      - Omit it to skip n8n's probes.
    type: str
  health_slo_ms:
    description: Latency objective of a health check in milliseconds (the runbook's 100 ms).
    type: float
    default: 100
  http_timeout:
    description:
      - Timeout of each HTTP request in seconds.
      - (C(timeout) is the Docker API's, from the common Docker options.)
    type: float
    default: 5
  http_validate_certs:
    description:
      - Whether to verify the TLS certificates of the HTTP endpoints.
      - (C(validate_certs) is the Docker API's, from the common Docker options.)
    type: bool
    default: true
  headers:
    description: Extra HTTP headers sent with every probe (for example an authorization header); never returned.
    type: dict
    default: {}
  containers:
    description:
      - "Names of the containers to gather evidence about. An empty list gathers none (RV(evidence) is then
        V({skipped: true}))."
    type: list
    elements: str
    default: []
  logs_tail:
    description: Last log lines per container, masked like M(arizu.ops.docker_evidence) masks them (at most V(10000)).
    type: int
    default: 0
  disk_paths:
    description: Paths on the Docker host whose file systems' use is reported (data and backup folders).
    type: list
    elements: path
    default: []
  redact:
    description: More values to mask in log lines and health output, besides the containers' secret environment values.
    type: list
    elements: str
    default: []
  api_url:
    description:
      - Full URL of the endpoint whose latency is sampled (for example V(http://127.0.0.1:3000/api/ping)).
      - Omit it, or set O(api_samples=0), to skip the sampling.
    type: str
  api_samples:
    description: Number of requests sent one after the other to O(api_url) (V(0) to skip, at most V(1000)).
    type: int
    default: 20
  api_slo_ms:
    description: Objective of the API's 95th percentile latency in milliseconds (the runbook's 200 ms).
    type: float
    default: 200
  api_max_seconds:
    description: Upper bound of the sampling's duration; fewer requests are sent when it is reached.
    type: float
    default: 10
notes:
  - Credentials inside a URL (C(http://user:password@host)) are used and never returned; the URLs in the results are
    redacted.
  - The container evidence is that of M(arizu.ops.docker_evidence) with one-shot stats (memory, no CPU figure).
seealso:
  - module: arizu.ops.health_check
  - module: arizu.ops.docker_evidence
  - module: arizu.ops.http_latency
"""

EXAMPLES = r"""
- name: Probe the stack of this Docker host
  arizu.ops.triage_probe:
    app_url: http://127.0.0.1:3000
    n8n_url: http://127.0.0.1:5678
    containers: [arizu-app, arizu-n8n, arizu-postgres, arizu-redis]
    logs_tail: 30
    disk_paths: [/var/lib/docker]
    api_url: http://127.0.0.1:3000/api/ping
  register: probe

- name: Judge it
  ansible.builtin.debug:
    msg: >-
      {{ probe.app | arizu.ops.triage_findings(app_summary=probe.app_summary, n8n_liveness=probe.n8n_liveness,
         n8n_readiness=probe.n8n_readiness, evidence=probe.evidence, api_latency=probe.api_latency)
         | arizu.ops.severity }}
"""

RETURN = r"""
app_summary:
  description: "The app's summary health, as M(arizu.ops.health_check) returns it; V({skipped: true}) without O(app_url)."
  returned: always
  type: dict
  sample: {status: healthy, http_status: 200, latency_ms: 4.2, slo_ok: true, url: "http://127.0.0.1:3000/api/health"}
app:
  description: The app's detailed health (C(?detailed=true)), as M(arizu.ops.health_check) returns it, with C(components).
  returned: always
  type: dict
  sample: {status: degraded, components: {db: {status: down}}}
n8n_liveness:
  description: "n8n's C(/healthz), as M(arizu.ops.health_check) returns it; V({skipped: true}) without O(n8n_url)."
  returned: always
  type: dict
n8n_readiness:
  description: n8n's C(/healthz/readiness), as M(arizu.ops.health_check) returns it.
  returned: always
  type: dict
evidence:
  description: "The containers and disks, as M(arizu.ops.docker_evidence) returns them; V({skipped: true}) without O(containers)."
  returned: always
  type: dict
  sample: {containers: {arizu-n8n: {exists: true, status: running, health: healthy}}, disk: []}
api_latency:
  description: "The API latency sample, as M(arizu.ops.http_latency) returns it; V({skipped: true}) when not sampled."
  returned: always
  type: dict
  sample: {sent: 20, ok: 20, p95_ms: 4.9, slo_ok: true}
elapsed_ms:
  description: Time the whole probe took on the Docker host, in milliseconds.
  returned: always
  type: float
  sample: 312.5
msg:
  description: One line per part, joined.
  returned: always
  type: str
  sample: "app healthy; n8n live healthy, ready healthy; 4 of 4 containers running; p95 4.9 ms <= 200 ms"
"""

import os
import time

from urllib.parse import unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_api import DockerAPIError, DockerClient
from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence_light import collect
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import redact_url
from ansible_collections.arizu.ops.plugins.module_utils.health_probe import probe_with_retries
from ansible_collections.arizu.ops.plugins.module_utils.http_sampling import sample

SKIPPED = {'skipped': True, 'changed': False}
MAX_LOGS_TAIL = 10000


def _check_url(module, option, url):
    """Fail on a URL that is not absolute http(s); mask a password inside it."""
    if url is None:
        return None
    safe = redact_url(url)
    try:
        parts = urlsplit(url)
        password = parts.password
        port = parts.port  # raises ValueError for an out-of-range port
    except ValueError as exc:
        module.fail_json(msg='%s: not a valid URL (%s): %s' % (option, to_native(exc), safe))
    del port
    if parts.scheme.lower() not in ('http', 'https') or not parts.hostname or any(ch in url for ch in '\r\n\t '):
        module.fail_json(msg='%s: must be an absolute http:// or https:// URL without spaces, got %r' % (option, safe))
    if password and len(unquote(password)) >= 4:
        module.no_log_values.update({password, unquote(password)})
    return url


def validate(module):
    params = module.params
    urls = dict((option, _check_url(module, option, params[option])) for option in ('app_url', 'n8n_url', 'api_url'))
    if params['http_timeout'] <= 0:
        module.fail_json(msg='http_timeout: must be greater than 0, got %s' % params['http_timeout'])
    if params['health_slo_ms'] < 0 or params['api_slo_ms'] < 0:
        module.fail_json(msg='health_slo_ms and api_slo_ms: must be 0 or greater')
    if not 0 <= params['api_samples'] <= 1000:
        module.fail_json(msg='api_samples: must be between 0 and 1000, got %s' % params['api_samples'])
    if params['api_max_seconds'] <= 0:
        module.fail_json(msg='api_max_seconds: must be greater than 0, got %s' % params['api_max_seconds'])
    if not 0 <= params['logs_tail'] <= MAX_LOGS_TAIL:
        module.fail_json(msg='logs_tail: must be between 0 and %d, got %s' % (MAX_LOGS_TAIL, params['logs_tail']))
    names = []
    for index, name in enumerate(params['containers']):
        if not isinstance(name, str) or not name.strip():
            module.fail_json(msg='containers: entry %d is empty; give a container name' % (index + 1))
        if name.strip() not in names:
            names.append(name.strip())
    headers = {}
    for name, value in (params['headers'] or {}).items():
        if not name or any(ch in str(name) for ch in '\r\n:') or isinstance(value, (dict, list)) \
                or any(ch in str(value) for ch in '\r\n'):
            module.fail_json(msg='headers: header %r is not a valid name with a single-line value' % name)
        headers[str(name)] = '' if value is None else str(value)
    return urls, names, headers


def run(module):
    params = module.params
    started = time.monotonic()
    urls, names, headers = validate(module)

    def health(base, path, detailed=False):
        return probe_with_retries(base.rstrip('/') + path, detailed, headers, params['http_timeout'],
                                  params['http_validate_certs'], params['health_slo_ms'])

    # One after the other, health first: a probe that shares the CPU with the
    # others measures their load as its own latency (the SLO is 100 ms).
    results = {}
    if urls['app_url']:
        results['app_summary'] = health(urls['app_url'], '/api/health')
        results['app'] = health(urls['app_url'], '/api/health', True)
    if urls['n8n_url']:
        results['n8n_liveness'] = health(urls['n8n_url'], '/healthz')
        results['n8n_readiness'] = health(urls['n8n_url'], '/healthz/readiness')
    evidence = SKIPPED
    if names:
        host = params['docker_host'] or os.environ.get('DOCKER_HOST') or 'unix:///var/run/docker.sock'
        try:
            evidence = collect(DockerClient(host, timeout=30), names, logs_tail=params['logs_tail'],
                               redact=params['redact'], disk_paths=params['disk_paths'])
        except DockerAPIError as exc:
            module.fail_json(msg='Cannot use the Docker daemon at %s (set docker_host or DOCKER_HOST): %s'
                             % (redact_url(host), exc), changed=False)

    for key in ('app_summary', 'app', 'n8n_liveness', 'n8n_readiness'):
        result = results.get(key, SKIPPED)
        result['changed'] = False
        results[key] = result
    results['evidence'] = evidence

    api = SKIPPED
    if urls['api_url'] and params['api_samples'] > 0:
        api = sample(urls['api_url'], redact_url(urls['api_url']), headers, params['api_samples'],
                     params['http_timeout'], params['api_max_seconds'], params['api_slo_ms'],
                     validate_certs=params['http_validate_certs'])
    results['api_latency'] = api

    parts = []
    if urls['app_url']:
        parts.append('app %s' % results['app']['status'])
    if urls['n8n_url']:
        parts.append('n8n live %s, ready %s' % (results['n8n_liveness']['status'], results['n8n_readiness']['status']))
    if names:
        parts.append(evidence.get('msg', ''))
    if not api.get('skipped'):
        parts.append(api['msg'])
    module.exit_json(changed=False, elapsed_ms=round((time.monotonic() - started) * 1000.0, 1),
                     msg='; '.join(part for part in parts if part) or 'nothing to probe', **results)


def main():
    argument_spec = dict(
        docker_host=dict(type='str'),
        app_url=dict(type='str'),
        n8n_url=dict(type='str'),
        health_slo_ms=dict(type='float', default=100),
        http_timeout=dict(type='float', default=5),
        http_validate_certs=dict(type='bool', default=True),
        headers=dict(type='dict', default={}, no_log=True),
        containers=dict(type='list', elements='str', default=[]),
        logs_tail=dict(type='int', default=0),
        disk_paths=dict(type='list', elements='path', default=[]),
        redact=dict(type='list', elements='str', default=[], no_log=True),
        api_url=dict(type='str'),
        api_samples=dict(type='int', default=20),
        api_slo_ms=dict(type='float', default=200),
        api_max_seconds=dict(type='float', default=10),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        run(module)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='triage_probe internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                         changed=False)


if __name__ == '__main__':
    main()
