#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: health_check
short_description: Probe an HTTP health endpoint and classify the answer
version_added: 1.0.0
description:
  - Sends one C(GET) request (plus optional retries) to an HTTP(S) health endpoint
    and classifies the answer as V(healthy), V(degraded), V(down), V(unreachable) or V(invalid).
  - Understands the Arizu health contract, IETF C(application/health+json)
    (draft-inadarei-api-health-check), Spring Boot Actuator, n8n C(/healthz) and C(/healthz/readiness),
    and short plain-text answers. See C(docs/health-contract.md) in the collection for the
    exact mapping rules.
  - The body is read whatever the HTTP status is, but never more than 1 MiB (plus one byte);
    a larger body is reported as V(invalid).
  - The module never changes anything, so RV(ignore:changed) is always V(false) and the probe
    also runs in check mode.
author:
  - Arizu maintainers (@arizu)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module is read-only, so the probe is performed in check mode as well.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  url:
    description:
      - Absolute C(http://) or C(https://) URL of the health endpoint, for example C(http://app:8080/api/health).
      - Credentials given as C(user:password@) in the URL are used for basic authentication
        but are removed from every URL and message the module returns.
    type: str
    required: true
  timeout:
    description:
      - Socket timeout in seconds, applied to connecting and to each read.
      - Must be greater than V(0).
    type: float
    default: 5
  validate_certs:
    description:
      - Whether to validate TLS certificates for C(https://) URLs.
      - Only set to V(false) for endpoints using self-signed certificates you control.
    type: bool
    default: true
  headers:
    description:
      - Extra HTTP request headers, for example an C(Authorization) header.
      - Header values are treated as secrets; they are never logged nor returned.
    type: dict
    default: {}
  detailed:
    description:
      - Add C(detailed=true) to the query string (keeping any existing query) to ask an
        Arizu endpoint for per-component details such as latency.
    type: bool
    default: false
  retries:
    description:
      - Number of extra attempts made while the status is V(unreachable) or V(down).
      - Other statuses are final and never retried.
    type: int
    default: 0
  delay:
    description:
      - Seconds to wait between attempts.
    type: float
    default: 1
  latency_slo_ms:
    description:
      - Latency objective in milliseconds; see RV(slo_ok).
    type: float
    default: 100
  fail_on:
    description:
      - Fail the task when the overall status is one of these values.
      - The failed result still carries all return values.
      - By default the task never fails because of the probed service's status.
    type: list
    elements: str
    choices: [healthy, degraded, down, unreachable, invalid]
    default: []
notes:
  - The request goes through the usual proxy environment variables (C(http_proxy), C(https_proxy), C(no_proxy)).
seealso:
  - name: Health Check Response Format for HTTP APIs
    description: The IETF draft the V(ietf) format follows.
    link: https://datatracker.ietf.org/doc/html/draft-inadarei-api-health-check
  - name: Spring Boot Actuator health endpoint
    description: The V(actuator) format.
    link: https://docs.spring.io/spring-boot/api/rest/actuator/health.html
"""

EXAMPLES = r"""
- name: Check the Arizu API
  arizu.ops.health_check:
    url: http://127.0.0.1:8080/api/health
  register: api_health

- name: Show the result line
  ansible.builtin.debug:
    msg: "{{ api_health.msg }}"

- name: Wait for the API after a deploy, failing unless it becomes healthy
  arizu.ops.health_check:
    url: https://api.example.com/api/health?probe=deploy
    detailed: true
    retries: 10
    delay: 3
    latency_slo_ms: 250
    headers:
      Authorization: "Bearer {{ arizu_health_token }}"
    fail_on: [down, unreachable, invalid]

- name: Check n8n readiness
  arizu.ops.health_check:
    url: http://n8n:5678/healthz/readiness
    fail_on: [down, unreachable]
  register: n8n_ready

- name: Warn when the database component is slow
  ansible.builtin.debug:
    msg: "db latency {{ api_health.components.db.latency_ms | default('n/a') }} ms"
  when: api_health.components.db is defined
"""

RETURN = r"""
status:
  description:
    - Overall status of the probed service.
    - V(unreachable) means no HTTP answer (connection refused, timeout, DNS or TLS error).
    - V(invalid) means an answer that does not follow any supported health format
      (HTML page, malformed JSON, unexpected HTTP status, body over 1 MiB).
  returned: always
  type: str
  choices: [healthy, degraded, down, unreachable, invalid]
  sample: healthy
http_status:
  description: HTTP status code of the last attempt, V(null) when there was no HTTP answer.
  returned: always
  type: int
  sample: 200
latency_ms:
  description: Milliseconds from sending the request to having read the full response (or to the failure) for the last attempt.
  returned: always
  type: float
  sample: 12.3
slo_ok:
  description: V(true) when O(latency_slo_ms) was met and the endpoint answered (RV(status) is not V(unreachable)).
  returned: always
  type: bool
  sample: true
format:
  description: Detected response format; V(null) when there was no HTTP answer.
  returned: always
  type: str
  choices: [arizu, ietf, actuator, n8n, plain]
  sample: arizu
components:
  description:
    - Per-component states reported by the endpoint, keyed by component name.
    - Empty when the body reports no components.
  returned: always
  type: dict
  sample:
    db: {status: up, latency_ms: 1.8}
    redis: {status: degraded, latency_ms: 150.0, message: slow replies}
    llm: {status: up, active: anthropic, fallback: openai}
  contains:
    status:
      description: Normalized component state.
      type: str
      choices: [up, degraded, down, unknown]
      returned: always
    latency_ms:
      description: Component latency in milliseconds, when the endpoint reports one.
      type: float
      returned: when given
    message:
      description: Component message or error text, when the endpoint reports one.
      type: str
      returned: when given
    active:
      description: Active LLM provider (C(llm) component only).
      type: str
      returned: when given
    fallback:
      description: Fallback LLM provider (C(llm) component only).
      type: str
      returned: when given
raw:
  description:
    - The response body for troubleshooting. A JSON body is returned parsed, with strings cut
      to about 500 characters and the whole value cut to about 8 KiB; any other body is returned
      as its first 500 characters. V(null) when there was no HTTP answer.
  returned: always
  type: raw
  sample: {status: healthy, components: {db: up}}
version:
  description: Version of the probed service, when the body gives one.
  returned: when given
  type: str
  sample: 1.0.0
attempts:
  description: Number of requests made.
  returned: always
  type: int
  sample: 1
url:
  description: The URL that was probed (including C(detailed=true) when requested), without credentials.
  returned: always
  type: str
  sample: http://127.0.0.1:8080/api/health?detailed=true
msg:
  description: One human-readable line summarizing the result.
  returned: always
  type: str
  sample: "healthy (arizu, HTTP 200, 12.3 ms): db up, redis up, n8n up, llm up"
"""

from urllib.parse import unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.health_probe import (
    STATUSES,
    probe_with_retries,
)
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import redact_url


def validate(module):
    """Extra option checks; returns (url, headers) or calls fail_json."""
    params = module.params
    url = params['url']
    safe = redact_url(url)
    try:
        parts = urlsplit(url)
        host = parts.hostname
        password = parts.password
        _port = parts.port  # raises ValueError for an out-of-range port
    except ValueError as exc:
        module.fail_json(msg='url: not a valid URL (%s): %s' % (to_native(exc), safe))
        return None, None
    if parts.scheme.lower() not in ('http', 'https') or not host:
        module.fail_json(msg='url: must be an absolute http:// or https:// URL, got %r' % safe)
    if password and len(unquote(password)) >= 4:
        # open_url uses the credentials; make sure Ansible masks the password everywhere
        module.no_log_values.add(unquote(password))
    if any(ch in url for ch in '\r\n\t '):
        module.fail_json(msg='url: must not contain whitespace: %r' % safe)

    if not params['timeout'] > 0:
        module.fail_json(msg='timeout: must be greater than 0, got %s' % params['timeout'])
    if params['retries'] < 0:
        module.fail_json(msg='retries: must be 0 or greater, got %s' % params['retries'])
    if params['delay'] < 0:
        module.fail_json(msg='delay: must be 0 or greater, got %s' % params['delay'])
    if params['latency_slo_ms'] < 0:
        module.fail_json(msg='latency_slo_ms: must be 0 or greater, got %s' % params['latency_slo_ms'])

    headers = {}
    for name, value in (params['headers'] or {}).items():
        name = to_native(name)
        if not name or any(ch in name for ch in '\r\n:') or name != name.strip():
            module.fail_json(msg='headers: invalid header name %r' % name)
        if isinstance(value, (dict, list)):
            module.fail_json(msg='headers: the value of header %r must be a string' % name)
        value = '' if value is None else to_native(value)
        if '\r' in value or '\n' in value:
            module.fail_json(msg='headers: the value of header %r must not contain a line break' % name)
        headers[name] = value
    return url, headers


def run(module):
    params = module.params
    url, headers = validate(module)
    result = probe_with_retries(url, params['detailed'], headers, params['timeout'], params['validate_certs'],
                                params['latency_slo_ms'], retries=params['retries'], delay=params['delay'])
    result['changed'] = False
    if result['status'] in (params['fail_on'] or []):
        module.fail_json(**result)
    module.exit_json(**result)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type='str', required=True),
            timeout=dict(type='float', default=5),
            validate_certs=dict(type='bool', default=True),
            headers=dict(type='dict', default={}, no_log=True),
            detailed=dict(type='bool', default=False),
            retries=dict(type='int', default=0),
            delay=dict(type='float', default=1),
            latency_slo_ms=dict(type='float', default=100),
            fail_on=dict(type='list', elements='str', choices=STATUSES, default=[]),
        ),
        supports_check_mode=True,
    )
    try:
        run(module)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='health_check internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                         status='invalid', changed=False)


if __name__ == '__main__':
    main()
