#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: redis_keys
short_description: Count Redis keys by prefix and delete cache keys safely
version_added: 1.0.0
description:
  - The runbook's "clear cache if safe to do so" (Redis Performance Issues), done safely. The module groups the
    keys of one database by prefix (the part of the key before the first O(delimiter), so C(cache:user:42) is in
    group C(cache)) and reports how many keys each group holds. It walks the keyspace with C(SCAN) and a
    C(COUNT) hint, never with C(KEYS), so the server is never blocked by one long command.
  - O(mode=delete) deletes only the keys of the given O(prefixes) (C(SCAN MATCH cache:*), then C(UNLINK) in
    batches of O(batch_size); C(DEL) on servers before Redis 4). Every key is checked again on the client before
    it is deleted.
  - O(mode=flushdb) empties the database O(db) (C(FLUSHDB), asynchronous from Redis 4), and only when O(confirm)
    repeats the database number. The module has no code path that touches another database or the whole
    server.
  - B(Guard.) Session and queue keys (O(protected_prefixes); by default C(sess), C(session), C(queue), n8n's
    C(bull) and other job-queue prefixes) are never lost by accident. O(mode=flushdb) refuses while the
    database holds any of them, and O(mode=delete) refuses a prefix inside one of those groups, both with a
    message naming the groups and their key counts, unless O(force_with_sessions=true).
  - In check mode nothing is deleted; RV(would_lose) lists the groups that would be lost, with their counts.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.redis
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The keys are scanned and counted; nothing is deleted. RV(ignore:changed) predicts whether a real run
        would delete anything. The guards apply in check mode too.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  mode:
    description:
      - V(report) counts the keys per group and changes nothing.
      - V(delete) deletes the keys of O(prefixes) only.
      - V(flushdb) empties database O(db); needs O(confirm).
    type: str
    choices: [report, delete, flushdb]
    default: report
  prefixes:
    description:
      - The key groups to delete with O(mode=delete), for example V([cache]) for every key that starts with
        C(cache:). A prefix may have several levels (V(cache:user) deletes C(cache:user:*) only).
      - Matched literally (C(*), C(?) and C([) are not wildcards here); a trailing delimiter is ignored.
    type: list
    elements: str
    default: []
  delimiter:
    description:
      - What separates a key's prefix from the rest of the key. Keys without it are counted in the group
        C((no prefix)).
    type: str
    default: ":"
  protected_prefixes:
    description:
      - Key groups that hold sessions or job queues (names or shell wildcards, case-insensitive; a cluster hash
        tag's braces are ignored, so C({bull}) is C(bull)).
      - The default covers express-session and connect-redis (C(sess)), C(session) and C(sessions), the runbook's
        C(queue) and C(queues), Bull and BullMQ (C(bull), n8n's queue mode), Bee-Queue (C(bq)), RQ (C(rq)),
        Celery, Sidekiq and Resque.
    type: list
    elements: str
    default: [sess, session, sessions, queue, queues, bull, bq, rq, celery, sidekiq, resque]
  force_with_sessions:
    description:
      - Delete even when session or queue keys would be lost (see the guard in the description). Users are
        logged out and queued jobs are lost.
    type: bool
    default: false
  confirm:
    description:
      - The database number again, required by O(mode=flushdb) as an explicit confirmation (V(0) for C(db=0)).
    type: int
  batch_size:
    description:
      - Keys deleted per C(UNLINK) command, from V(1) to V(10000).
    type: int
    default: 500
  scan_count:
    description:
      - The C(COUNT) hint of each C(SCAN) call (keys looked at per call), from V(1) to V(100000).
    type: int
    default: 1000
  max_groups:
    description:
      - Groups returned in RV(groups_before) and RV(groups_after), the largest first; the rest is summed up in
        RV(other_groups). The guards always see every group.
    type: int
    default: 100
notes:
  - The keyspace is scanned once before the action (the groups and the guard) and once after it
    (RV(groups_after)); a key written meanwhile may be missed by the counts. C(SCAN) may return a key twice; each
    key is counted once (for up to a million keys, see RV(exact)).
  - For a standalone server or one node; a Redis Cluster must be handled node by node.
  - With Redis ACLs the user needs C(SCAN), C(DBSIZE), C(INFO) and C(UNLINK) (or C(DEL)), and C(FLUSHDB) for
    O(mode=flushdb).
seealso:
  - module: arizu.ops.redis_diagnose
  - name: Redis SCAN
    description: The iteration and its guarantees.
    link: https://redis.io/docs/latest/commands/scan/
  - name: Redis UNLINK
    description: Deletes keys, freeing their memory in the background.
    link: https://redis.io/docs/latest/commands/unlink/
"""

EXAMPLES = r"""
- name: Count the keys per group (read-only)
  arizu.ops.redis_keys:
    login_host: 127.0.0.1
    login_password: "{{ redis_password }}"
  register: redis_groups

- name: Delete the cache, leaving sessions and queues alone
  arizu.ops.redis_keys:
    login_host: 127.0.0.1
    login_password: "{{ redis_password }}"
    mode: delete
    prefixes: [cache]
    batch_size: 500

- name: What would a flush of db 1 lose? (check mode; refused while sessions or queues are there)
  arizu.ops.redis_keys:
    login_host: 127.0.0.1
    login_password: "{{ redis_password }}"
    db: 1
    mode: flushdb
    confirm: 1
  check_mode: true
  register: would_lose

- name: Empty db 2, which only caches rendered pages
  arizu.ops.redis_keys:
    login_host: 127.0.0.1
    login_password: "{{ redis_password }}"
    db: 2
    mode: flushdb
    confirm: 2
"""

RETURN = r"""
db:
  description: The database that was scanned (O(db)).
  returned: always
  type: int
  sample: 0
mode:
  description: The O(mode) that ran.
  returned: always
  type: str
  sample: delete
groups_before:
  description: Keys per group before the action, most keys first (at most O(max_groups) groups).
  returned: always
  type: dict
  sample: {cache: 1200, sess: 3, queue: 2, bull: 5}
groups_after:
  description:
    - Keys per group after the action, scanned again; in check mode and for V(report), the prediction (the
      groups before minus what would be lost).
  returned: always
  type: dict
  sample: {sess: 3, queue: 2, bull: 5}
other_groups:
  description: The groups beyond O(max_groups) before the action, summed up.
  returned: always
  type: dict
  sample: {groups: 0, keys: 0}
dbsize_before:
  description: C(DBSIZE) before the action.
  returned: always
  type: int
  sample: 1210
dbsize_after:
  description: C(DBSIZE) after the action (the prediction in check mode).
  returned: always
  type: int
  sample: 10
protected:
  description: The groups of O(protected_prefixes) found in the database, with their key counts.
  returned: always
  type: dict
  sample: {sess: 3, queue: 2, bull: 5}
would_lose:
  description: The groups the action deletes (or would delete, in check mode), with the key counts found by the scan.
  returned: always
  type: dict
  sample: {cache: 1200}
matched:
  description: For O(mode=delete), the keys found per prefix.
  returned: always
  type: dict
  sample: {cache: 1200}
deleted:
  description: Keys deleted (the sum of what C(UNLINK) answered, or C(DBSIZE) before a C(FLUSHDB)); V(0) in check mode.
  returned: always
  type: int
  sample: 1200
would_delete:
  description: Keys the action would delete.
  returned: in check mode
  type: int
  sample: 1200
batches:
  description: C(UNLINK) (or C(DEL)) commands sent.
  returned: always
  type: int
  sample: 3
exact:
  description: V(false) when the database held more than a million keys, so a key returned twice by C(SCAN) may be counted twice.
  returned: always
  type: bool
  sample: true
msg:
  description: One human-readable line summarizing the result.
  returned: always
  type: str
  sample: "deleted 1200 keys of cache:* in db 0 (3 UNLINK batches of up to 500); left: sess (3), bull (5), queue (2)"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.redis_common import (
    RedisConnection,
    redis_common_argument_spec,
)
from ansible_collections.arizu.ops.plugins.module_utils.redis_keys_rules import (
    DEDUPE_LIMIT,
    DEFAULT_PROTECTED,
    MODES,
    GroupCounter,
    batches,
    check_options,
    describe_groups,
    key_group,
    key_matches,
    match_pattern,
    normalize_prefixes,
    protected_groups,
    refusal,
    subtract_groups,
    top_groups,
)
from ansible_collections.arizu.ops.plugins.module_utils.redis_parsing import parse_info

CLIENT_NAME = 'arizu.ops.redis_keys'


def _raw(response, **_options):
    return response


def _version(text):
    parts = []
    for part in str(text or '').split('.')[:2]:
        try:
            parts.append(int(part))
        except ValueError:
            parts.append(0)
    while len(parts) < 2:
        parts.append(0)
    return tuple(parts)


class Keyspace(object):
    def __init__(self, module, conn):
        self.module = module
        self.conn = conn
        self.client = conn.client
        self.params = module.params

    def fail(self, what, exc, **extra):
        self.module.fail_json(msg='%s on %s: %s' % (what, self.conn.target, self.conn.error_text(exc)),
                              changed=False, **extra)

    def scan(self, pattern='*'):
        """Yield the keys of the database matching *pattern*, one SCAN reply at a time."""
        cursor = 0
        while True:
            cursor, keys = self.client.scan(cursor=cursor, match=pattern, count=self.params['scan_count'])
            yield keys
            if int(cursor) == 0:
                return

    def count(self, prefixes):
        """One full scan: (GroupCounter, {prefix: matched}, {group: lost})."""
        delimiter = self.params['delimiter']
        counter = GroupCounter(delimiter)
        matched = dict((prefix, 0) for prefix in prefixes)
        lost = {}
        for keys in self.scan():
            for key in counter.add(keys):
                hits = [prefix for prefix in prefixes if key_matches(key, prefix, delimiter)]
                for prefix in hits:
                    matched[prefix] += 1
                if hits:
                    group = key_group(key, delimiter)
                    lost[group] = lost.get(group, 0) + 1
        return counter, matched, lost

    def delete_prefix(self, prefix, state):
        """SCAN MATCH <prefix>:* and UNLINK in batches; updates *state* (deleted, batches, command)."""
        delimiter = self.params['delimiter']
        pending = []
        seen = set()  # SCAN may return a key twice: send it once (remembering up to DEDUPE_LIMIT keys)
        for keys in self.scan(match_pattern(prefix, delimiter)):
            for key in keys:
                if key in seen or not key_matches(key, prefix, delimiter):
                    continue
                if len(seen) < DEDUPE_LIMIT:
                    seen.add(key)
                pending.append(key)
            while len(pending) >= self.params['batch_size']:
                self.unlink(pending[:self.params['batch_size']], state)
                pending = pending[self.params['batch_size']:]
        for batch in batches(pending, self.params['batch_size']):
            self.unlink(batch, state)

    def unlink(self, keys, state):
        try:
            state['deleted'] += int(self.client.execute_command(state['command'], *keys))
        except Exception as exc:  # pylint: disable=broad-except
            if state['command'] == 'UNLINK' and 'unknown command' in to_native(exc).lower():
                state['command'] = 'DEL'  # Redis before 4.0
                state['deleted'] += int(self.client.execute_command('DEL', *keys))
            else:
                raise
        state['batches'] += 1


def run(module):
    p = module.params
    delimiter = p['delimiter']
    prefixes, prefix_error = normalize_prefixes(p['prefixes'], delimiter) if p['prefixes'] else ([], None)
    errors = ([prefix_error] if prefix_error else []) + check_options(
        p['mode'], prefixes, p['db'], p['confirm'], p['batch_size'], p['scan_count'], delimiter)
    if p['max_groups'] < 1:
        errors.append('max_groups: must be 1 or more, got %s' % p['max_groups'])
    if errors:
        module.fail_json(msg='; '.join(errors), changed=False)
    mode = p['mode']
    patterns = p['protected_prefixes']

    conn = RedisConnection(module)
    client = conn.client
    client.set_response_callback('INFO', _raw)
    space = Keyspace(module, conn)
    try:
        try:
            client.ping()
        except Exception as exc:  # pylint: disable=broad-except
            space.fail('cannot connect to Redis', exc)
        conn.set_name(CLIENT_NAME)
        try:
            version = _version(parse_info(client.execute_command('INFO', 'server')).get('redis_version'))
        except Exception:  # pylint: disable=broad-except
            version = (0, 0)  # INFO not allowed: assume an old server (DEL, synchronous FLUSHDB)
        try:
            dbsize_before = int(client.dbsize())
            counter, matched, lost = space.count(prefixes if mode == 'delete' else [])
        except Exception as exc:  # pylint: disable=broad-except
            space.fail('cannot scan db %d' % p['db'], exc)
        all_groups = counter.groups()
        if mode == 'flushdb':
            lost = dict(all_groups)
        found = protected_groups(all_groups, patterns)
        shown_before, others = top_groups(all_groups, p['max_groups'])
        result = dict(db=p['db'], mode=mode, groups_before=shown_before, other_groups=others,
                      dbsize_before=dbsize_before, protected=found, would_lose=lost,
                      matched=matched if mode == 'delete' else {}, deleted=0, batches=0, exact=counter.exact)

        refused = refusal(mode, p['db'], all_groups, prefixes, patterns, p['force_with_sessions'], delimiter)
        if refused:
            result['groups_after'] = shown_before
            result['dbsize_after'] = dbsize_before
            module.fail_json(msg=refused, changed=False, **result)

        would_delete = sum(lost.values())
        if module.check_mode or mode == 'report':
            after, _others = top_groups(subtract_groups(all_groups, lost), p['max_groups'])
            result['groups_after'] = after
            result['dbsize_after'] = max(dbsize_before - would_delete, 0)
            if module.check_mode:
                result['would_delete'] = would_delete
            result['changed'] = module.check_mode and would_delete > 0
            if mode == 'report':
                result['msg'] = 'db %d: %d keys in %d groups: %s' % (
                    p['db'], counter.total, len(all_groups), describe_groups(all_groups))
            elif mode == 'delete':
                result['msg'] = 'would delete %d keys of %s in db %d: %s; left: %s' % (
                    would_delete, ', '.join('%s%s*' % (prefix, delimiter) for prefix in prefixes), p['db'],
                    describe_groups(lost), describe_groups(subtract_groups(all_groups, lost)))
            else:
                result['msg'] = 'would flush db %d: %s' % (p['db'], describe_groups(lost))
            if found and mode == 'delete':
                result['msg'] += '; session/queue keys kept: %s' % describe_groups(found)
            module.exit_json(**result)

        state = dict(deleted=0, batches=0, command='UNLINK' if version >= (4, 0) else 'DEL')
        try:
            if mode == 'delete':
                for prefix in prefixes:
                    space.delete_prefix(prefix, state)
            elif dbsize_before > 0:
                args = ['ASYNC'] if version >= (4, 0) else []
                client.execute_command('FLUSHDB', *args)
                state['deleted'] = dbsize_before
        except Exception as exc:  # pylint: disable=broad-except
            result.update(deleted=state['deleted'], batches=state['batches'])
            space.fail('deleting keys failed after %d deleted keys' % state['deleted'], exc, **result)
        try:
            dbsize_after = int(client.dbsize())
            after_counter, _matched, _lost = space.count([])
            groups_after, _others = top_groups(after_counter.groups(), p['max_groups'])
        except Exception as exc:  # pylint: disable=broad-except
            module.warn('cannot scan db %d after the deletion: %s' % (p['db'], conn.error_text(exc)))
            dbsize_after = None
            groups_after = {}
    finally:
        conn.close()

    result.update(deleted=state['deleted'], batches=state['batches'], groups_after=groups_after,
                  dbsize_after=dbsize_after, changed=state['deleted'] > 0)
    if mode == 'delete':
        result['msg'] = 'deleted %d keys of %s in db %d (%d %s batches of up to %d); left: %s' % (
            state['deleted'], ', '.join('%s%s*' % (prefix, delimiter) for prefix in prefixes), p['db'],
            state['batches'], state['command'], p['batch_size'], describe_groups(groups_after))
    else:
        result['msg'] = 'flushed db %d: %d keys deleted (%s)' % (p['db'], state['deleted'], describe_groups(lost))
        if p['force_with_sessions'] and found:
            result['msg'] += ', including session/queue keys by force_with_sessions: %s' % describe_groups(found)
    module.exit_json(**result)


def main():
    argument_spec = redis_common_argument_spec()
    argument_spec.update(
        mode=dict(type='str', choices=list(MODES), default='report'),
        prefixes=dict(type='list', elements='str', default=[]),
        delimiter=dict(type='str', default=':'),
        protected_prefixes=dict(type='list', elements='str', default=list(DEFAULT_PROTECTED)),
        force_with_sessions=dict(type='bool', default=False),
        confirm=dict(type='int'),
        batch_size=dict(type='int', default=500),
        scan_count=dict(type='int', default=1000),
        max_groups=dict(type='int', default=100),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        run(module)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='redis_keys internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                         changed=False)


if __name__ == '__main__':
    main()
