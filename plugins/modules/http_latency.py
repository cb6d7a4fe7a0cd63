#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: http_latency
short_description: Sample an HTTP endpoint's latency and compare its percentile with an SLO
version_added: 1.0.0
description:
  - Sends O(samples) C(GET) requests, one after another, to one URL and reports the latency
    distribution (p50, p95, p99, max, mean), the HTTP status codes seen and the errors.
  - Compares the O(percentile) latency with O(slo_ms), for the runbook's API latency objective
    (p95 under 200 ms).
  - Read-only; the requests are also sent in check mode. The number of requests is bounded by
    O(samples) (at most 1000) and the whole run by O(max_seconds).
author:
  - Arizu maintainers (@arizu)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module is read-only, so the requests are sent in check mode as well.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  url:
    description:
      - Absolute C(http://) or C(https://) URL to sample, for example C(http://127.0.0.1:3000/api/ping).
    type: str
    required: true
  samples:
    description:
      - Number of requests, from V(1) to V(1000).
    type: int
    default: 20
  timeout:
    description:
      - Timeout of each request in seconds.
    type: float
    default: 5
  max_seconds:
    description:
      - Stop sampling after this many seconds even when fewer than O(samples) requests were sent.
    type: float
    default: 30
  slo_ms:
    description:
      - Latency objective in milliseconds for the O(percentile).
    type: float
    default: 200
  percentile:
    description:
      - Percentile compared with O(slo_ms), from V(1) to V(100).
    type: float
    default: 95
  headers:
    description:
      - Extra request headers. Values are never logged nor returned.
    type: dict
    default: {}
  validate_certs:
    description:
      - Whether to validate TLS certificates.
    type: bool
    default: true
"""

EXAMPLES = r"""
- name: Sample the API latency
  arizu.ops.http_latency:
    url: http://127.0.0.1:3000/api/ping
    samples: 20
    slo_ms: 200
  register: api_latency

- name: Report the p95
  ansible.builtin.debug:
    msg: "API p95 {{ api_latency.p95_ms }} ms (SLO {{ api_latency.slo_ms }} ms): {{ 'ok' if api_latency.slo_ok else 'BREACHED' }}"
"""

RETURN = r"""
sent:
  description: Number of requests sent.
  returned: always
  type: int
  sample: 20
ok:
  description: Number of requests answered with an HTTP status below 500.
  returned: always
  type: int
  sample: 20
errors:
  description: Requests without an HTTP answer or with a 5xx status, by reason (at most 5 reasons kept).
  returned: always
  type: dict
  sample: {"HTTP 503": 2}
status_codes:
  description: HTTP status codes seen, with their counts (keys are strings).
  returned: always
  type: dict
  sample: {"200": 20}
p50_ms:
  description: Median latency in milliseconds over the answered requests; V(null) when none answered.
  returned: always
  type: float
  sample: 2.4
p95_ms:
  description: 95th percentile latency in milliseconds; V(null) when none answered.
  returned: always
  type: float
  sample: 4.9
p99_ms:
  description: 99th percentile latency in milliseconds; V(null) when none answered.
  returned: always
  type: float
  sample: 6.2
percentile_ms:
  description: The O(percentile) latency in milliseconds; V(null) when none answered.
  returned: always
  type: float
  sample: 4.9
max_ms:
  description: Slowest answered request in milliseconds.
  returned: always
  type: float
  sample: 7.0
mean_ms:
  description: Mean latency in milliseconds.
  returned: always
  type: float
  sample: 2.8
slo_ms:
  description: The objective compared with.
  returned: always
  type: float
  sample: 200
slo_ok:
  description: V(true) when every request was answered without a 5xx and the percentile met O(slo_ms).
  returned: always
  type: bool
  sample: true
url:
  description: The sampled URL without credentials.
  returned: always
  type: str
  sample: http://127.0.0.1:3000/api/ping
msg:
  description: One human line.
  returned: always
  type: str
  sample: "p95 4.9 ms <= 200 ms over 20 requests (20 ok)"
"""

from urllib.parse import unquote, urlsplit

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.arizu.ops.plugins.module_utils.health_parser import redact_url
from ansible_collections.arizu.ops.plugins.module_utils.http_sampling import sample


def main():
    module = AnsibleModule(
        argument_spec=dict(
            url=dict(type="str", required=True),
            samples=dict(type="int", default=20),
            timeout=dict(type="float", default=5),
            max_seconds=dict(type="float", default=30),
            slo_ms=dict(type="float", default=200),
            percentile=dict(type="float", default=95),
            headers=dict(type="dict", default={}, no_log=True),
            validate_certs=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    p = module.params
    password = urlsplit(p["url"]).password
    if password and len(password) >= 4:  # a URL's password is masked like any no_log value
        module.no_log_values.update({password, unquote(password)})
    safe_url = redact_url(p["url"])
    if not p["url"].startswith(("http://", "https://")):
        module.fail_json(msg="url must start with http:// or https://: %s" % safe_url)
    if not 1 <= p["samples"] <= 1000:
        module.fail_json(msg="samples must be between 1 and 1000, got %s" % p["samples"])
    if not 0 < p["percentile"] <= 100:
        module.fail_json(msg="percentile must be above 0 and at most 100, got %s" % p["percentile"])
    if p["timeout"] <= 0 or p["max_seconds"] <= 0 or p["slo_ms"] < 0:
        module.fail_json(msg="timeout and max_seconds must be above 0, slo_ms 0 or more")
    headers = {str(k): str(v) for k, v in p["headers"].items()}

    module.exit_json(**sample(p["url"], safe_url, headers, p["samples"], p["timeout"], p["max_seconds"],
                              p["slo_ms"], p["percentile"], p["validate_certs"]))


if __name__ == "__main__":
    main()
