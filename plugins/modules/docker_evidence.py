#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_evidence
short_description: Gather triage evidence about Docker containers in one call
version_added: 1.0.0
description:
  - Collects, in one task, what the runbook asks an operator to look at when a containerized service
    (for example n8n) is down - the container status (C(docker ps)), the last log lines (C(docker logs --tail)),
    memory and CPU use (C(docker stats)) and free disk space (C(df -h)).
  - Talks to the Docker Engine API directly with the API client of the M(community.docker.docker_container_info) family;
    the Docker CLI is not needed.
  - Per container it makes one inspect request, one stats request (running containers, when O(stats=true))
    and one logs request (when O(logs_tail) is above V(0)). It never sleeps.
  - The container's environment, its command line and the full inspect output are never returned.
    Log lines, health check output and label values are masked - see O(redact).
  - The module never changes anything, so RV(ignore:changed) is always V(false) and it also runs in check mode.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.docker_api
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module is read-only, so the evidence is gathered in check mode as well.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  containers:
    description:
      - Names or IDs (full or a unique prefix) of the containers to look at, for example V(arizu-n8n).
      - A container that does not exist is reported with RV(containers[].exists=false); the task does not fail.
    type: list
    elements: str
    required: true
  logs_tail:
    description:
      - Number of log lines to return per container, counted over stdout and stderr together
        like C(docker logs --tail).
      - V(0) returns no logs (and makes no logs request). At most V(10000).
    type: int
    default: 0
  stats:
    description:
      - Whether to fetch memory and CPU figures for the running containers.
      - Uses the one-shot stats request (Docker API 1.41 and later) which answers at once with one sample;
        an older API gets C(stream=false) stats.
      - A single sample gives memory but no CPU figure (RV(containers[].cpu_pct) is V(null)); see O(cpu_sample).
    type: bool
    default: true
  cpu_sample:
    description:
      - Ask the engine for two samples (C(stream=false) without one-shot) so that
        RV(containers[].cpu_pct) can be computed like C(docker stats) does.
      - The engine takes one to two seconds to answer; the containers are asked concurrently.
      - Has no effect with O(stats=false).
    type: bool
    default: false
  disk_paths:
    description:
      - Paths on the host the module runs on (the Docker host when O(docker_host) is its local socket)
        whose file system usage is reported in RV(disk), for example V(/) and V(/var/lib/docker).
      - A path that does not exist or cannot be read gives an entry with RV(disk[].error); the task does not fail.
    type: list
    elements: path
    default: []
  redact:
    description:
      - Extra strings to mask (with C(********)) in log lines, health check output and label values,
        as written and URL-encoded.
      - Always masked without this option - every value of the container's own environment whose
        name contains C(PASS), C(SECRET), C(KEY), C(TOKEN), C(AUTH) or C(CREDENTIAL), or ends with
        C(_URL), C(_DSN) or C(_URI) while holding an C(@) (values shorter than four characters and flag
        words like C(true) excepted), the password of every C(scheme://user:password@) value of that
        environment, and the password part of any C(scheme://user:password@) text.
      - The values are not logged and are masked in the whole task result.
    type: list
    elements: str
    default: []
notes:
  - Requires the C(community.docker) collection (a dependency of this collection) on the controller; the module code
    it needs is shipped to the managed host with the module. The managed host needs the Python library C(requests),
    and the user the module runs as needs access to the Docker socket (root, the C(docker) group, or O(docker_host)
    pointing at a TCP endpoint with TLS).
  - The connection options (O(docker_host), O(api_version), O(timeout), the TLS options) work as in the
    C(community.docker) modules and can be set for all Docker tasks with the E(DOCKER_HOST) family of environment
    variables. O(docker_host) may name a remote engine; O(disk_paths) are still measured on the managed host.
  - Memory is computed like C(docker stats) - usage without the inactive page cache (C(total_inactive_file) with
    cgroup v1, C(inactive_file) with cgroup v2). Without a memory limit the engine reports the host's memory as the
    limit; C(memory.unlimited) then is V(true).
  - Container times are the engine's; RV(containers[].uptime_seconds) is measured against the managed host's clock.
seealso:
  - module: community.docker.docker_container_info
    description: The full inspect output of one container.
  - module: arizu.ops.health_check
    description: Probe the health endpoint of the service in the container.
  - name: Docker Engine API - container stats
    description: The stats request, including C(one-shot).
    link: https://docs.docker.com/reference/api/engine/version/v1.41/#tag/Container/operation/ContainerStats
"""

EXAMPLES = r"""
- name: Evidence for the n8n runbook entry (status, last 100 log lines, docker stats, df -h)
  arizu.ops.docker_evidence:
    containers: [arizu-n8n, arizu-postgres]
    logs_tail: 100
    disk_paths: [/, /var/lib/docker]
  register: evidence

- name: One line per container
  ansible.builtin.debug:
    msg: "{{ evidence.summary }}"

- name: Fail when n8n is not running or was killed for lack of memory
  ansible.builtin.assert:
    that:
      - evidence.containers['arizu-n8n'].running
      - not evidence.containers['arizu-n8n'].oom_killed
    fail_msg: "{{ evidence.summary | join('; ') }}"

- name: Evidence with CPU figures from a remote engine, masking one more token in the logs
  arizu.ops.docker_evidence:
    docker_host: tcp://docker.example.com:2376
    validate_certs: true
    containers: [arizu-app]
    logs_tail: 50
    cpu_sample: true
    redact:
      - "{{ arizu_webhook_token }}"
"""

RETURN = r"""
containers:
  description:
    - Evidence per container, keyed by the name or ID as given in O(containers).
    - "A missing container gives only C({exists: false})."
  returned: always
  type: dict
  sample:
    arizu-n8n:
      exists: true
      id: 0f3c2a9b1d4e
      name: arizu-n8n
      image: arizu-local/n8n:1.123.81
      image_id: sha256:1c0b2b12fcbb3df4b41bbbc49d8524e45d055f83927d939050c1af3ed5836297
      state: running
      running: true
      restarting: false
      exit_code: 0
      oom_killed: false
      restart_count: 0
      started_at: "2025-01-01T10:00:00.123456789Z"
      finished_at: null
      uptime_seconds: 3600
      health:
        status: healthy
        failing_streak: 0
        last_checks:
          - {start: "2025-01-01T10:59:55.1Z", end: "2025-01-01T10:59:55.2Z", exit_code: 0, output: ""}
      has_healthcheck: true
      memory: {usage_bytes: 251658240, limit_bytes: 2147483648, pct: 11.72, unlimited: false}
      cpu_pct: null
      labels: {arizu.component: n8n}
      ports: ["127.0.0.1:5678->5678/tcp"]
      logs: ["2025-01-01T10:59:59.000000000Z Editor is now accessible via: http://localhost:5678"]
    arizu-old: {exists: false}
  contains:
    exists:
      description: Whether the container exists.
      type: bool
      returned: always
    error:
      description:
        - Why the container could not be inspected although the engine answered (for example an ambiguous ID prefix).
        - RV(containers[].exists) is V(false) then.
      type: str
      returned: when the inspect request failed for another reason than a missing container
    errors:
      description: Problems with the stats or logs request of this container; the other values are still returned.
      type: list
      elements: str
      returned: when a stats or logs request failed
    id:
      description: Short (12 characters) container ID.
      type: str
      returned: when exists
    name:
      description: Container name, without the leading C(/).
      type: str
      returned: when exists
    image:
      description: The image reference the container was created from, as configured (C(Config.Image)).
      type: str
      returned: when exists
    image_id:
      description: ID of the image the container runs (C(sha256:...)).
      type: str
      returned: when exists
    state:
      description: Container state as C(docker ps -a) shows it.
      type: str
      choices: [created, running, restarting, exited, paused, dead, removing]
      returned: when exists
    running:
      description: Whether the container is running (also V(true) while paused or restarting).
      type: bool
      returned: when exists
    restarting:
      description: Whether the engine is restarting the container.
      type: bool
      returned: when exists
    exit_code:
      description: Exit code of the last run (V(137) is a kill, often by the OOM killer).
      type: int
      returned: when exists
    oom_killed:
      description: Whether the last run was ended by the out-of-memory killer.
      type: bool
      returned: when exists
    restart_count:
      description: How often the engine restarted the container (restart policy).
      type: int
      returned: when exists
    started_at:
      description: When the container last started (RFC 3339 with nanoseconds), V(null) if never.
      type: str
      returned: when exists
    finished_at:
      description: When the container last stopped, V(null) if never.
      type: str
      returned: when exists
    uptime_seconds:
      description: Seconds since RV(containers[].started_at) for a running container, else V(null).
      type: int
      returned: when exists
    health:
      description: The health check state.
      type: dict
      returned: when exists
      contains:
        status:
          description: Health status; V(none) when the container has no health check.
          type: str
          choices: [healthy, unhealthy, starting, none]
        failing_streak:
          description: Number of consecutive failed checks.
          type: int
        last_checks:
          description:
            - The newest three check results, oldest first.
            - Each has C(start), C(end), C(exit_code) and C(output) (masked, cut to 300 characters).
          type: list
          elements: dict
    has_healthcheck:
      description: Whether a health check is configured (in the image or for the container).
      type: bool
      returned: when exists
    memory:
      description:
        - Memory use like C(docker stats) shows it; V(null) when the container is not running,
          O(stats=false) or the stats request failed.
        - C(usage_bytes) - usage without inactive page cache.
        - C(limit_bytes) - the memory limit; the host's memory (or V(0)) when the container has no limit.
        - C(pct) - C(usage_bytes) in percent of C(limit_bytes), V(null) when the engine gives no usable limit.
        - C(unlimited) - V(true) when the container has no memory limit.
      type: dict
      returned: when exists
    cpu_pct:
      description:
        - CPU use in percent like C(docker stats) (V(100) is one full CPU).
        - V(null) unless O(cpu_sample=true) or the engine's API is older than 1.41 - a one-shot answer has a single
          sample, and CPU use needs two.
      type: float
      returned: when exists
    labels:
      description: The container labels whose key starts with C(arizu.) (values masked); other labels are left out.
      type: dict
      returned: when exists
    ports:
      description: Published ports of the running container as C(docker ps) shows them.
      type: list
      elements: str
      returned: when exists
      sample: ["127.0.0.1:5432->5432/tcp", "6379/tcp"]
    logs:
      description:
        - The last O(logs_tail) log lines, stdout and stderr together in the order they were written,
          each starting with its timestamp like C(docker logs --timestamps).
        - Masked, and each line cut to 1000 characters.
      type: list
      elements: str
      returned: when exists and O(logs_tail) is above V(0)
summary:
  description: One line per container, in the order of O(containers).
  returned: always
  type: list
  elements: str
  sample:
    - arizu-n8n running healthy mem 12% restarts 0
    - arizu-app exited(137) oom-killed no-healthcheck restarts 3
    - arizu-old missing
disk:
  description:
    - Usage of each of O(disk_paths), in the same order, like C(df).
    - C(used_pct) is C(used_bytes) in percent of C(used_bytes + free_bytes), so space reserved
      for root does not count as free.
  returned: always
  type: list
  elements: dict
  sample:
    - {path: /, total_bytes: 105089261568, used_bytes: 42035704832, free_bytes: 57661583360, used_pct: 42.16}
    - {path: /srv/missing, error: No such file or directory}
  contains:
    path:
      description: The path as given.
      type: str
      returned: always
    total_bytes:
      description: Size of the file system.
      type: int
      returned: when the path could be measured
    used_bytes:
      description: Used space.
      type: int
      returned: when the path could be measured
    free_bytes:
      description: Space available to unprivileged users.
      type: int
      returned: when the path could be measured
    used_pct:
      description: Used space in percent, as C(df) computes C(Use%) (not rounded up).
      type: float
      returned: when the path could be measured
    error:
      description: Why the path could not be measured.
      type: str
      returned: when the path could not be measured
stats_mode:
  description:
    - How stats were requested - V(one-shot) (single sample, API 1.41+), V(sampled) (two samples,
      O(cpu_sample=true) or an older API) or V(none) (O(stats=false)).
  returned: always
  type: str
  choices: [one-shot, sampled, none]
  sample: one-shot
api_version:
  description: Docker Engine API version used.
  returned: always
  type: str
  sample: "1.41"
msg:
  description: One human-readable line over all containers.
  returned: always
  type: str
  sample: "2 of 3 containers found, 1 running; not running: arizu-app; missing: arizu-old"
"""

import re

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence_api import (
    DockerException,
    EvidenceDockerClient,
    RequestException,
    collect,
    reason_of,
)

MAX_LOGS_TAIL = 10000
_NAME_RE = re.compile(r'^/?[A-Za-z0-9][A-Za-z0-9_.\-]*$')


def validate(module):
    params = module.params
    names = []
    for index, name in enumerate(params['containers'] or []):
        if not isinstance(name, str) or not name.strip():
            module.fail_json(msg='containers: entry %d is empty; give a container name or ID' % (index + 1))
        name = name.strip()
        if not _NAME_RE.match(name):
            module.fail_json(msg='containers: %r is not a valid container name or ID '
                                 '(letters, digits, "_", "." and "-", starting with a letter or digit)' % name)
        if name not in names:
            names.append(name)
    if not names:
        module.fail_json(msg='containers: give at least one container name or ID')
    tail = params['logs_tail']
    if tail < 0 or tail > MAX_LOGS_TAIL:
        module.fail_json(msg='logs_tail: must be between 0 and %d, got %s' % (MAX_LOGS_TAIL, tail))
    return names


def run(client):
    params = client.module.params
    names = validate(client.module)
    client.module.exit_json(**collect(client, names, logs_tail=params['logs_tail'], stats=params['stats'],
                                      cpu_sample=params['cpu_sample'], redact=params['redact'],
                                      disk_paths=params['disk_paths']))


def main():
    argument_spec = dict(
        containers=dict(type='list', elements='str', required=True),
        logs_tail=dict(type='int', default=0),
        stats=dict(type='bool', default=True),
        cpu_sample=dict(type='bool', default=False),
        disk_paths=dict(type='list', elements='path', default=[]),
        redact=dict(type='list', elements='str', default=[], no_log=True),
    )
    client = EvidenceDockerClient(
        argument_spec=argument_spec,
        supports_check_mode=True,
        min_docker_api_version='1.25',
    )
    try:
        run(client)
    except (RequestException, DockerException) as exc:
        client.fail('An unexpected error occurred when talking to the Docker daemon: %s' % reason_of(exc))
    except Exception as exc:  # pylint: disable=broad-except
        client.module.fail_json(msg='docker_evidence internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                                changed=False)


if __name__ == '__main__':
    main()
