#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_diagnose
short_description: Diagnose a Redis server - latency, memory, slow log and queue depths
version_added: 1.0.0
description:
  - Runs the runbook's "Redis Performance Issues" checks in one read-only task and judges them against
    thresholds. It measures C(PING) latency, reads C(INFO) (memory, evictions, role, clients, uptime),
    C(SLOWLOG GET) and the depth of the job queues, and returns them with the list of RV(issues) found.
  - The depth of each key in O(queues) is read with the command its C(TYPE) calls for (C(LLEN) for a list,
    C(ZCARD) for a sorted set, C(XLEN) for a stream, C(SCARD) for a set, C(HLEN) for a hash). A missing key
    has depth V(0). A key of another type, or one whose command fails, is reported with an error and never
    stops the report.
  - Nothing is written, so RV(ignore:changed) is always V(false) and the module runs in check mode as well.
  - Each of the RV(issues) is also emitted as an Ansible warning, so it shows in the output and in the registered
    result's C(warnings).
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.redis
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module is read-only, so the diagnosis is performed in check mode as well.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  queues:
    description:
      - Keys whose depth is reported, in database O(db).
      - The default is the runbook's C(queue:pending), C(queue:failed) and C(queue:dlq), plus n8n's queue-mode
        job queue. n8n runs one Bull queue named C(jobs) with the key prefix C(bull) (C(QUEUE_BULL_PREFIX)), in
        the Redis database C(QUEUE_BULL_REDIS_DB) (default V(0)), so its keys are C(bull:jobs:wait) (waiting
        jobs, list), C(bull:jobs:active) (being processed, list), C(bull:jobs:paused) (waiting while the queue
        is paused, list), C(bull:jobs:delayed) (scheduled, sorted set) and C(bull:jobs:failed) (sorted set).
        With another prefix, or with a Redis cluster (where n8n wraps the prefix in braces, C({bull}:jobs:wait)),
        list the keys yourself.
    type: list
    elements: str
    default:
      - queue:pending
      - queue:failed
      - queue:dlq
      - bull:jobs:wait
      - bull:jobs:active
      - bull:jobs:paused
      - bull:jobs:delayed
      - bull:jobs:failed
  slowlog_count:
    description:
      - Number of entries read with C(SLOWLOG GET), newest first; V(0) skips the slow log.
    type: int
    default: 10
  redact_slowlog:
    description:
      - Keep only the command name and its first argument (normally the key) of each slow log entry and replace
        the other arguments by C(?), so stored values are not copied into Ansible output.
    type: bool
    default: true
  pings:
    description:
      - Number of C(PING) round trips timed for RV(latency_ms) (after one untimed C(PING) that opens the
        connection); the median is returned.
    type: int
    default: 5
  max_latency_ms:
    description:
      - Warn when the median C(PING) latency is above this many milliseconds.
    type: float
    default: 10
  max_memory_pct:
    description:
      - Warn when C(used_memory) is above this percentage of C(maxmemory). Not checked when no C(maxmemory) is set.
    type: float
    default: 90
  max_fragmentation:
    description:
      - Warn when C(mem_fragmentation_ratio) is above this value (a ratio below V(1) is always reported, as
        swapping).
      - Only checked once C(used_memory) is at least 100 MiB; below that the ratio mostly reflects allocator
        overhead (the same cut-off as Redis' C(active-defrag-ignore-bytes)).
    type: float
    default: 1.5
  max_queue_depth:
    description:
      - Warn when a queue holds more entries than this.
      - A number applies to every key of O(queues); a mapping sets limits per key (key names or shell-style
        wildcards such as C(bull:*:failed), checked in order after an exact match), and keys it does not
        match keep the limit V(1000).
    type: raw
    default: 1000
notes:
  - Warnings are also given for evicted keys (C(evicted_keys) above V(0)), for an evicting C(maxmemory-policy)
    while queue keys exist (job queues such as Bull's need C(noeviction)), for queue keys that cannot be
    measured, and for a replica whose link to its master is not up.
  - With Redis ACLs the user needs C(PING), C(INFO), C(SLOWLOG), C(TYPE) and the depth commands; a section
    the user may not read is reported as a warning and left empty.
seealso:
  - name: Redis INFO
    description: The fields of the C(INFO) reply.
    link: https://redis.io/docs/latest/commands/info/
  - name: Redis SLOWLOG GET
    description: The slow log entries.
    link: https://redis.io/docs/latest/commands/slowlog-get/
  - module: community.general.redis_info
"""

EXAMPLES = r"""
- name: Diagnose the stack's Redis (runbook, Redis Performance Issues)
  arizu.ops.redis_diagnose:
    login_host: 127.0.0.1
    login_password: "{{ redis_password }}"
  register: redis_diag

- name: Show the summary
  ansible.builtin.debug:
    msg: "{{ redis_diag.msg }}"

- name: Fail when anything is outside the thresholds
  ansible.builtin.assert:
    that: redis_diag.issues | length == 0
    fail_msg: "{{ redis_diag.issues | join('; ') }}"

- name: Check n8n's queue with per-queue limits, over TLS
  arizu.ops.redis_diagnose:
    login_host: redis.internal
    login_port: 6380
    login_user: monitor
    login_password: "{{ redis_monitor_password }}"
    tls: true
    ca_certs: /etc/ssl/certs/internal-ca.pem
    queues: [bull:jobs:wait, bull:jobs:active, bull:jobs:delayed, bull:jobs:failed]
    max_queue_depth:
      bull:jobs:wait: 500
      "bull:jobs:*": 100
    max_latency_ms: 5
    slowlog_count: 25
"""

RETURN = r"""
latency_ms:
  description: Median round trip of O(pings) C(PING) commands, in milliseconds.
  returned: always
  type: float
  sample: 0.183
memory:
  description:
    - Memory figures from C(INFO memory) and C(evicted_keys) from C(INFO stats); sizes in bytes.
    - A field the server does not report is V(null).
  returned: always
  type: dict
  sample:
    used_memory: 1043456
    used_memory_human: 1019.00K
    used_memory_rss: 9437184
    used_memory_peak: 1101824
    used_memory_peak_human: 1.05M
    maxmemory: 268435456
    maxmemory_human: 256.00M
    maxmemory_policy: noeviction
    used_memory_pct: 0.4
    mem_fragmentation_ratio: 9.04
    evicted_keys: 0
  contains:
    used_memory:
      description: Bytes allocated by Redis.
      type: int
    used_memory_peak:
      description: Peak of RV(memory.used_memory).
      type: int
    maxmemory:
      description: The C(maxmemory) limit, V(0) for none.
      type: int
    maxmemory_policy:
      description: What Redis does at the limit (C(noeviction), C(allkeys-lru), ...).
      type: str
    used_memory_pct:
      description: RV(memory.used_memory) as a percentage of RV(memory.maxmemory), V(null) without a limit.
      type: float
    mem_fragmentation_ratio:
      description: RSS divided by RV(memory.used_memory).
      type: float
    evicted_keys:
      description: Keys evicted because of C(maxmemory) since the server started.
      type: int
slowlog:
  description:
    - The newest O(slowlog_count) slow log entries, normalised whatever the server version (before Redis 4
      entries have no client address and name, which are then V(null)).
  returned: always
  type: list
  elements: dict
  sample:
    - id: 14
      timestamp: 1735725600
      duration_us: 15230
      command: [KEYS, "*", "?"]
      client_addr: "10.0.3.7:51234"
      client_name: arizu-api
  contains:
    id:
      description: Entry id.
      type: int
    timestamp:
      description: Unix time the command was run.
      type: int
    duration_us:
      description: Execution time in microseconds.
      type: int
    command:
      description: The command and its arguments (see O(redact_slowlog)).
      type: list
      elements: str
    client_addr:
      description: Client C(ip:port), V(null) when not reported.
      type: str
    client_name:
      description: Client name (C(CLIENT SETNAME)), V(null) when not reported.
      type: str
queues:
  description:
    - Depth of each key of O(queues), keyed by the key.
    - C(type) is the key's C(TYPE) (V(none) for a missing key, whose depth is V(0)).
    - When the depth cannot be read (a string key, an error), C(depth) is V(null) and C(error) says why.
  returned: always
  type: dict
  sample:
    queue:pending: {type: list, depth: 3}
    queue:dlq: {type: none, depth: 0}
    bull:jobs:delayed: {type: zset, depth: 5}
    queue:config: {type: string, depth: null, error: "a string is not a queue (expected list, zset, stream, set or hash)"}
server:
  description: Facts about the server from C(INFO).
  returned: always
  type: dict
  sample:
    redis_version: 7.0.15
    redis_mode: standalone
    role: master
    connected_clients: 3
    blocked_clients: 0
    uptime_in_seconds: 86400
    master_link_status: null
issues:
  description:
    - Everything outside the thresholds, one sentence each; empty when all is fine.
    - The same strings are emitted as Ansible warnings (the registered result's C(warnings)).
  returned: always
  type: list
  elements: str
  sample:
    - PING latency 14.2 ms is above 10 ms
    - queue bull:jobs:wait holds 1520 entries, above 1000
msg:
  description: One human-readable line summarizing the result.
  returned: always
  type: str
  sample: "redis 7.0.15 master: PING 0.2 ms, memory 1019.00K (no maxmemory), queues 15 entries in 5 keys, no issue"
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.redis_common import (
    RedisConnection,
    redis_common_argument_spec,
)
from ansible_collections.arizu.ops.plugins.module_utils.redis_parsing import (
    DEFAULT_QUEUES,
    depth_command,
    evaluate,
    median,
    memory_summary,
    normalize_slowlog,
    parse_info,
    queue_entry,
    server_summary,
    to_text,
)


def _raw(response, **_options):
    return response


def validate(module):
    params = module.params
    for name in ('max_latency_ms', 'max_memory_pct', 'max_fragmentation'):
        if params[name] < 0:
            module.fail_json(msg='%s: must be 0 or more, got %s' % (name, params[name]))
    if params['slowlog_count'] < 0:
        module.fail_json(msg='slowlog_count: must be 0 or more, got %s' % params['slowlog_count'])
    if not 1 <= params['pings'] <= 1000:
        module.fail_json(msg='pings: must be between 1 and 1000, got %s' % params['pings'])
    limit = params['max_queue_depth']
    if isinstance(limit, dict):
        checked = {}
        for key, value in limit.items():
            checked[to_native(key)] = _depth_limit(module, value, 'max_queue_depth[%s]' % key)
        return checked
    return _depth_limit(module, limit, 'max_queue_depth')


def _depth_limit(module, value, name):
    if isinstance(value, bool):
        module.fail_json(msg='%s: must be a number of entries or a mapping of key to number, got %r' % (name, value))
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        module.fail_json(msg='%s: must be a number of entries or a mapping of key to number, got %r' % (name, value))
    if number < 0:
        module.fail_json(msg='%s: must be 0 or more, got %s' % (name, number))
    return number


def measure_latency(client, count):
    samples = []
    for _sample in range(count):
        started = time.perf_counter()
        client.ping()
        samples.append((time.perf_counter() - started) * 1000.0)
    return round(median(samples), 3)


def read_queues(client, keys, error_text):
    """``{key: {type, depth[, error]}}``: one pipeline of TYPE, one of depth commands."""
    queues = {}
    if not keys:
        return queues
    pipe = client.pipeline(transaction=False)
    for key in keys:
        pipe.type(key)
    types = pipe.execute(raise_on_error=False)
    pending = []
    pipe = client.pipeline(transaction=False)
    for key, key_type in zip(keys, types):
        if isinstance(key_type, Exception):
            queues[key] = queue_entry(None, error='TYPE failed: %s' % error_text(key_type))
            continue
        key_type = to_text(key_type)
        command, problem = depth_command(key_type)
        if problem:
            queues[key] = queue_entry(key_type, error=problem)
        elif command is None:
            queues[key] = queue_entry(key_type)
        else:
            pipe.execute_command(command, key)
            pending.append((key, key_type, command))
    if pending:
        for (key, key_type, command), depth in zip(pending, pipe.execute(raise_on_error=False)):
            if isinstance(depth, Exception):
                queues[key] = queue_entry(key_type, error='%s failed: %s' % (command, error_text(depth)))
            else:
                queues[key] = queue_entry(key_type, depth)
    return queues


def summary_line(server, latency_ms, memory, queues, issues):
    head = 'redis %s %s' % (server.get('redis_version') or '?', server.get('role') or '?')
    used = memory.get('used_memory_human') or memory.get('used_memory')
    if used is None:
        mem = 'memory n/a'
    elif memory.get('maxmemory'):
        mem = 'memory %s (%s%% of maxmemory %s)' % (used, memory.get('used_memory_pct'),
                                                    memory.get('maxmemory_human') or memory['maxmemory'])
    else:
        mem = 'memory %s (no maxmemory)' % used
    measured = [entry['depth'] for entry in queues.values() if entry.get('depth') is not None]
    present = [entry for entry in queues.values() if entry.get('type') not in (None, 'none')]
    queue_text = 'queues %d entries in %d of %d keys' % (sum(measured), len(present), len(queues))
    if issues:
        issue_text = '%d issue%s: %s' % (len(issues), '' if len(issues) == 1 else 's', issues[0])
    else:
        issue_text = 'no issue'
    return '%s: PING %.1f ms, %s, %s, %s' % (head, latency_ms, mem, queue_text, issue_text)


def run(module):
    params = module.params
    max_queue_depth = validate(module)
    conn = RedisConnection(module)
    client = conn.client
    client.set_response_callback('INFO', _raw)
    client.set_response_callback('SLOWLOG GET', _raw)
    problems = []
    try:
        try:
            client.ping()  # connects and authenticates
        except Exception as exc:  # pylint: disable=broad-except
            module.fail_json(msg='cannot connect to Redis at %s: %s' % (conn.target, conn.error_text(exc)),
                             changed=False)
        conn.set_name()
        try:
            latency_ms = measure_latency(client, params['pings'])
        except Exception as exc:  # pylint: disable=broad-except
            module.fail_json(msg='PING failed on %s: %s' % (conn.target, conn.error_text(exc)), changed=False)

        info = {}
        try:
            info = parse_info(client.execute_command('INFO'))
        except Exception as exc:  # pylint: disable=broad-except
            problems.append('INFO failed: %s' % conn.error_text(exc))

        slowlog = []
        if params['slowlog_count'] > 0:
            try:
                raw = client.execute_command('SLOWLOG GET', params['slowlog_count'])
                slowlog = normalize_slowlog(raw, redact=params['redact_slowlog'])
            except Exception as exc:  # pylint: disable=broad-except
                problems.append('SLOWLOG GET failed: %s' % conn.error_text(exc))

        try:
            queues = read_queues(client, list(params['queues']), conn.error_text)
        except Exception as exc:  # pylint: disable=broad-except
            # the whole pipeline failed (connection lost): every key gets the error, the report goes on
            error = conn.error_text(exc)
            queues = dict((key, queue_entry(None, error=error)) for key in params['queues'])
    finally:
        conn.close()

    memory = memory_summary(info)
    server = server_summary(info)
    issues = problems + evaluate(
        latency_ms=latency_ms, memory=memory, queues=queues, server=server,
        max_latency_ms=params['max_latency_ms'], max_memory_pct=params['max_memory_pct'],
        max_fragmentation=params['max_fragmentation'], max_queue_depth=max_queue_depth,
    )
    for issue in issues:
        module.warn(issue)
    module.exit_json(
        changed=False,
        latency_ms=latency_ms,
        memory=memory,
        slowlog=slowlog,
        queues=queues,
        server=server,
        issues=issues,
        msg=summary_line(server, latency_ms, memory, queues, issues),
    )


def main():
    argument_spec = redis_common_argument_spec()
    argument_spec.update(
        queues=dict(type='list', elements='str', default=list(DEFAULT_QUEUES)),
        slowlog_count=dict(type='int', default=10),
        redact_slowlog=dict(type='bool', default=True),
        pings=dict(type='int', default=5),
        max_latency_ms=dict(type='float', default=10),
        max_memory_pct=dict(type='float', default=90),
        max_fragmentation=dict(type='float', default=1.5),
        max_queue_depth=dict(type='raw', default=1000),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        run(module)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='redis_diagnose internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                         changed=False)


if __name__ == '__main__':
    main()
