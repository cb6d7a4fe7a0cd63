# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure rules of ``arizu.ops.redis_keys``: key groups and the guards of a cache flush.

No Ansible import, no Redis library, no I/O, so the rules are unit-tested and
the module applies exactly these functions to the keys it scans:

* :func:`key_group` names a key's group (the part before the first ``:``);
* :class:`GroupCounter` counts scanned keys per group (duplicates of a SCAN
  counted once);
* :func:`is_protected` and :func:`protected_groups` find session and queue groups;
* :func:`normalize_prefixes`, :func:`match_pattern` and :func:`key_matches`
  turn ``prefixes`` into SCAN patterns and a client-side check;
* :func:`check_options` and :func:`refusal` are the guards.
"""

from __future__ import annotations

import fnmatch

__all__ = [
    'DEDUPE_LIMIT',
    'DEFAULT_PROTECTED',
    'MODES',
    'NO_PREFIX',
    'GroupCounter',
    'batches',
    'check_options',
    'describe_groups',
    'glob_escape',
    'is_protected',
    'key_group',
    'key_matches',
    'match_pattern',
    'normalize_group',
    'normalize_prefixes',
    'protected_groups',
    'refusal',
    'subtract_groups',
    'top_groups',
]

MODES = ('report', 'delete', 'flushdb')

#: Groups that hold sessions or job queues: losing them logs users out or loses jobs.
#: ``sess`` (connect-redis, express-session), ``session(s)``, the runbook's ``queue:*``,
#: Bull/BullMQ (n8n: ``bull``), Bee-Queue (``bq``), RQ (``rq``), Celery, Sidekiq, Resque.
DEFAULT_PROTECTED = ('sess', 'session', 'sessions', 'queue', 'queues', 'bull', 'bq', 'rq', 'celery', 'sidekiq',
                     'resque')

#: The group of keys that have no delimiter at all.
NO_PREFIX = '(no prefix)'

#: Keys remembered to count SCAN duplicates once; past this the counts may be slightly high.
DEDUPE_LIMIT = 1000000


def _text(value):
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode('utf-8', 'replace')
    return str(value)


def key_group(key, delimiter=':'):
    """The group of *key*: the part before the first *delimiter* (``cache:user:1`` -> ``cache``).

    A key without the delimiter belongs to :data:`NO_PREFIX`; so does one that starts with
    it (an empty prefix). Bytes are decoded (UTF-8, undecodable bytes replaced).
    """
    key = _text(key)
    if delimiter and delimiter in key:
        prefix = key.split(delimiter, 1)[0]
        return prefix if prefix else NO_PREFIX
    return NO_PREFIX


class GroupCounter(object):
    """Counts keys per group. SCAN may return a key more than once; each key counts once
    (up to :data:`DEDUPE_LIMIT` keys remembered, after which ``exact`` becomes false)."""

    def __init__(self, delimiter=':', dedupe_limit=DEDUPE_LIMIT):
        self.delimiter = delimiter
        self.dedupe_limit = dedupe_limit
        self.counts = {}
        self.seen = set()
        self.exact = True

    def add(self, keys):
        """Count *keys*; return those not seen before (in their order)."""
        new = []
        for key in keys:
            if self.exact:
                if key in self.seen:
                    continue
                if len(self.seen) >= self.dedupe_limit:
                    self.exact = False
                    self.seen = set()
                else:
                    self.seen.add(key)
            group = key_group(key, self.delimiter)
            self.counts[group] = self.counts.get(group, 0) + 1
            new.append(key)
        return new

    @property
    def total(self):
        return sum(self.counts.values())

    def groups(self):
        """``{group: count}``, most keys first, then by name."""
        return dict(sorted(self.counts.items(), key=lambda kv: (-kv[1], kv[0])))


def normalize_group(name):
    """The name compared with the protected patterns: lower case, a cluster hash tag's braces
    removed (n8n's Bull keys on a cluster are ``{bull}:jobs:wait``)."""
    name = _text(name).strip().lower()
    if len(name) > 2 and name.startswith('{') and name.endswith('}'):
        name = name[1:-1]
    return name


def is_protected(group, patterns):
    """Whether *group* matches one of *patterns* (names or shell wildcards, case-insensitive)."""
    name = normalize_group(group)
    for pattern in patterns or ():
        if pattern is None:
            continue
        pattern = normalize_group(pattern)
        if name == pattern or fnmatch.fnmatchcase(name, pattern):
            return True
    return False


def protected_groups(groups, patterns):
    """The ``{group: count}`` of *groups* that hold sessions or queues."""
    return dict((group, count) for group, count in groups.items() if count and is_protected(group, patterns))


def describe_groups(groups, limit=10):
    """``sess (3), queue (2)`` -- the largest first; ``nothing`` when empty."""
    items = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ', '.join('%s (%d)' % (group, count) for group, count in items[:limit])
    if len(items) > limit:
        text += ' and %d more group%s' % (len(items) - limit, '' if len(items) - limit == 1 else 's')
    return text or 'nothing'


def normalize_prefixes(prefixes, delimiter=':'):
    """``(prefixes, error)``: each prefix without surrounding blanks and trailing delimiter,
    duplicates removed (order kept). An empty prefix is an error (that would be every key:
    use ``mode=flushdb``)."""
    result = []
    for prefix in prefixes or ():
        text = _text(prefix).strip() if prefix is not None else ''
        while delimiter and text.endswith(delimiter):
            text = text[:-len(delimiter)]
        if not text:
            return None, ('prefixes: an empty prefix would match every key; name the groups to delete '
                          '(for example [cache]) or use mode=flushdb')
        if text not in result:
            result.append(text)
    return result, None


def glob_escape(text):
    """*text* with the SCAN MATCH glob characters (``* ? [ ] \\``) escaped, so it matches literally."""
    out = []
    for ch in text:
        if ch in '*?[]\\':
            out.append('\\')
        out.append(ch)
    return ''.join(out)


def match_pattern(prefix, delimiter=':'):
    """The SCAN MATCH pattern of a prefix: ``cache`` -> ``cache:*`` (the prefix matched literally)."""
    return glob_escape(prefix) + glob_escape(delimiter) + '*'


def key_matches(key, prefix, delimiter=':'):
    """The client-side check of every scanned key before it is deleted."""
    return _text(key).startswith(prefix + delimiter)


def batches(items, size):
    """*items* in lists of at most *size*."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def check_options(mode, prefixes, db, confirm, batch_size, scan_count, delimiter):
    """The option errors found before connecting (a list of sentences, empty when fine)."""
    errors = []
    if mode not in MODES:
        errors.append('mode: must be one of %s, got %s' % (', '.join(MODES), mode))
    if not delimiter:
        errors.append('delimiter: must not be empty')
    if mode == 'delete' and not prefixes:
        errors.append('mode=delete needs prefixes, the key groups to delete (for example prefixes: [cache])')
    if mode == 'flushdb':
        if prefixes:
            errors.append('mode=flushdb deletes the whole database and takes no prefixes; use mode=delete to '
                          'delete only %s' % ', '.join('%s%s*' % (p, delimiter) for p in prefixes))
        if confirm is None:
            errors.append('mode=flushdb needs confirm: %d (the number of the database to flush) as an explicit '
                          'confirmation' % db)
        elif confirm != db:
            errors.append('confirm: %s does not match db %d; mode=flushdb flushes only the database you confirm '
                          '(confirm: %d)' % (confirm, db, db))
    if not 1 <= batch_size <= 10000:
        errors.append('batch_size: must be between 1 and 10000, got %s' % batch_size)
    if not 1 <= scan_count <= 100000:
        errors.append('scan_count: must be between 1 and 100000, got %s' % scan_count)
    return errors


def top_level(prefix, delimiter=':'):
    """The group a prefix belongs to: ``cache:user`` -> ``cache``."""
    return prefix.split(delimiter, 1)[0] if delimiter in prefix else prefix


def refusal(mode, db, groups, prefixes, patterns, force, delimiter=':'):
    """Why the flush must not run, as a message, or ``None``.

    * ``flushdb``: the database holds keys of protected groups (sessions, queues);
    * ``delete``: one of *prefixes* is (inside) a protected group.

    ``force`` (``force_with_sessions``) overrides both.
    """
    if force or mode == 'report':
        return None
    if mode == 'flushdb':
        found = protected_groups(groups, patterns)
        if found:
            return ('refusing to flush db %d: it holds session or queue keys: %s. Delete only the cache with '
                    'mode=delete and prefixes (for example [cache]), or set force_with_sessions=true to lose them'
                    % (db, describe_groups(found)))
        return None
    hit = [p for p in prefixes or () if is_protected(top_level(p, delimiter), patterns)]
    if hit:
        present = dict((p, groups.get(top_level(p, delimiter), 0)) for p in hit)
        return ('refusing to delete %s in db %d: session or queue keys (%s); set force_with_sessions=true to '
                'delete them anyway' % (', '.join('%s%s*' % (p, delimiter) for p in hit), db,
                                        describe_groups(present)))
    return None


def subtract_groups(before, lost):
    """The groups left after losing *lost* (``{group: count}``); empty groups dropped."""
    after = {}
    for group, count in before.items():
        left = count - lost.get(group, 0)
        if left > 0:
            after[group] = left
    return dict(sorted(after.items(), key=lambda kv: (-kv[1], kv[0])))


def top_groups(groups, limit):
    """``(groups, others)``: the *limit* largest groups, and ``{groups, keys}`` of the rest."""
    items = sorted(groups.items(), key=lambda kv: (-kv[1], kv[0]))
    kept = dict(items[:limit])
    rest = items[limit:]
    return kept, {'groups': len(rest), 'keys': sum(count for _group, count in rest)}
