# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parsing and judging for ``arizu.ops.redis_diagnose``.

No Ansible import, no I/O: the module feeds in what the server answered.

* :func:`parse_info` / :func:`parse_info_sections` read the text of ``INFO``;
* :func:`memory_summary` and :func:`server_summary` pick the reported fields;
* :func:`normalize_slowlog` turns ``SLOWLOG GET`` entries of any shape into dicts;
* :func:`depth_command` and :func:`queue_entry` map a key's ``TYPE`` to its depth;
* :func:`evaluate` turns the report and the thresholds into warning strings.
"""

from __future__ import annotations

import fnmatch
import re

from collections.abc import Mapping

__all__ = [
    'DEFAULT_QUEUES',
    'DEPTH_COMMANDS',
    'FRAGMENTATION_MIN_USED_MEMORY',
    'depth_command',
    'evaluate',
    'median',
    'memory_summary',
    'normalize_slowlog',
    'parse_info',
    'parse_info_sections',
    'queue_depth_limit',
    'queue_entry',
    'server_summary',
    'to_text',
]

#: The runbook's queues, then n8n's Bull queue (queue name ``jobs``, prefix ``bull`` =
#: ``QUEUE_BULL_PREFIX``): ``wait``/``active``/``paused`` are lists, ``delayed``/``failed`` sorted sets.
DEFAULT_QUEUES = (
    'queue:pending',
    'queue:failed',
    'queue:dlq',
    'bull:jobs:wait',
    'bull:jobs:active',
    'bull:jobs:paused',
    'bull:jobs:delayed',
    'bull:jobs:failed',
)

#: Redis ``TYPE`` -> the command giving the number of elements.
DEPTH_COMMANDS = {
    'list': 'LLEN',
    'zset': 'ZCARD',
    'stream': 'XLEN',
    'set': 'SCARD',
    'hash': 'HLEN',
}

#: Below this much ``used_memory`` the fragmentation ratio is meaningless (a nearly empty
#: server's RSS is mostly allocator overhead); the same default as Redis'
#: ``active-defrag-ignore-bytes``.
FRAGMENTATION_MIN_USED_MEMORY = 100 * 1024 * 1024

# INFO values that look numeric but are identifiers
_KEEP_AS_TEXT = frozenset(('redis_git_sha1', 'redis_git_dirty', 'redis_build_id', 'run_id', 'master_replid',
                           'master_replid2', 'executable', 'config_file', 'os'))
_INT = re.compile(r'^-?\d+$')
_FLOAT = re.compile(r'^-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][+-]?\d+)?$')


def to_text(value):
    """bytes -> str (UTF-8, undecodable bytes replaced); other values unchanged."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).decode('utf-8', 'replace')
    return value


def _scalar(key, value):
    if key in _KEEP_AS_TEXT:
        return value
    if _INT.match(value):
        return int(value)
    if _FLOAT.match(value):
        try:
            return float(value)
        except ValueError:  # pragma: no cover
            return value
    return value


def _sub_fields(value):
    """``ip=::1,port=6380,state=online`` -> dict; None unless every part is ``k=v``.

    A sub-key that repeats (``listener0:name=tcp,bind=*,bind=-::*,port=6379``)
    gives a list of its values, in order.
    """
    if '=' not in value:
        return None
    parts = value.split(',')
    fields = {}
    for part in parts:
        if '=' not in part:
            return None
        sub_key, sub_value = part.split('=', 1)
        if not sub_key:
            return None
        converted = _scalar(sub_key, sub_value)
        if sub_key in fields:
            if isinstance(fields[sub_key], list):
                fields[sub_key].append(converted)
            else:
                fields[sub_key] = [fields[sub_key], converted]
        else:
            fields[sub_key] = converted
    return fields


def parse_info_sections(text):
    """The ``INFO`` answer as ``{section: {key: value}}`` (section names lower-case).

    Each line is ``key:value``, split at the first colon only, so values may
    contain colons (``master_host:::1``, ``executable:/usr/bin/redis-server``).
    Values of ``k=v,k=v`` form become dicts (``db0``, ``slave0`` even with an
    IPv6 ``ip=::1``, ``cmdstat_*``, ``errorstat_*``); numbers become int or
    float; ``# Section`` lines start a section; anything else is skipped.
    Lines before any section header go to section ``''``.
    """
    text = to_text(text) or ''
    sections = {}
    current = sections.setdefault('', {})
    for raw_line in text.splitlines():
        line = raw_line.strip()
        if not line:
            continue
        if line.startswith('#'):
            name = line.lstrip('#').strip().lower()
            current = sections.setdefault(name, {})
            continue
        if ':' not in line:
            continue
        key, value = line.split(':', 1)
        key = key.strip()
        if not key:
            continue
        fields = _sub_fields(value) if key not in _KEEP_AS_TEXT else None
        current[key] = fields if fields is not None else _scalar(key, value)
    if not sections['']:
        del sections['']
    return sections


def parse_info(text):
    """The ``INFO`` answer as one flat dict (see :func:`parse_info_sections`).

    A key present in two sections keeps the value of the later one.
    """
    flat = {}
    for values in parse_info_sections(text).values():
        flat.update(values)
    return flat


def _number(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str):
        try:
            return float(value) if ('.' in value or 'e' in value.lower()) else int(value)
        except ValueError:
            return None
    return None


def memory_summary(info):
    """The ``memory`` return value from a parsed ``INFO`` (memory and stats sections).

    ``used_memory_pct`` is the share of ``maxmemory`` in use, ``None`` without a limit.
    """
    used = _number(info.get('used_memory'))
    maxmemory = _number(info.get('maxmemory'))
    pct = None
    if used is not None and maxmemory:
        pct = round(100.0 * used / maxmemory, 1)
    return {
        'used_memory': used,
        'used_memory_human': info.get('used_memory_human'),
        'used_memory_rss': _number(info.get('used_memory_rss')),
        'used_memory_peak': _number(info.get('used_memory_peak')),
        'used_memory_peak_human': info.get('used_memory_peak_human'),
        'maxmemory': maxmemory,
        'maxmemory_human': info.get('maxmemory_human'),
        'maxmemory_policy': info.get('maxmemory_policy'),
        'used_memory_pct': pct,
        'mem_fragmentation_ratio': _number(info.get('mem_fragmentation_ratio')),
        'evicted_keys': _number(info.get('evicted_keys')),
    }


def server_summary(info):
    """The ``server`` return value from a parsed ``INFO``."""
    version = info.get('redis_version')
    return {
        'redis_version': None if version is None else str(version),
        'redis_mode': info.get('redis_mode'),
        'role': info.get('role'),
        'connected_clients': _number(info.get('connected_clients')),
        'blocked_clients': _number(info.get('blocked_clients')),
        'uptime_in_seconds': _number(info.get('uptime_in_seconds')),
        'master_link_status': info.get('master_link_status'),
    }


# ---------------------------------------------------------------- SLOWLOG

def _args(value):
    """A command as a list of strings, from a list of args or one joined string."""
    value = to_text(value)
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [str(to_text(arg)) for arg in value]
    return str(value).split(' ') if value != '' else []


def _int_or_none(value):
    value = to_text(value)
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _text_or_none(value):
    value = to_text(value)
    if value is None:
        return None
    return str(value)


def _redact_args(args):
    # keep the command name and its first argument (normally the key)
    return args[:2] + ['?'] * len(args[2:])


def normalize_slowlog(entries, redact=False):
    """``SLOWLOG GET`` entries, whatever their shape, as a list of dicts.

    Accepted shapes: the raw reply's lists -- 4 fields before Redis 4 (id,
    timestamp, duration, args), 6 fields since (plus client address and name),
    7 with Redis Enterprise's complexity at index 3 -- and the dicts of the
    redis Python library (``start_time``, ``duration``, ``command`` joined by
    blanks, ``client_address``, ``client_name``).  Bytes are decoded.

    Each result has ``id``, ``timestamp`` (Unix seconds), ``duration_us``,
    ``command`` (list of arguments), ``client_addr`` and ``client_name``
    (``None`` when the server does not report them).  With *redact*, only the
    command name and its first argument are kept, the others become ``?``.
    Entries that are neither are skipped.
    """
    result = []
    for entry in entries or []:
        if isinstance(entry, Mapping):
            item = {
                'id': _int_or_none(entry.get('id')),
                'timestamp': _int_or_none(entry.get('start_time', entry.get('timestamp'))),
                'duration_us': _int_or_none(entry.get('duration', entry.get('duration_us'))),
                'command': _args(entry.get('command', entry.get('args'))),
                'client_addr': _text_or_none(entry.get('client_address', entry.get('client_addr'))),
                'client_name': _text_or_none(entry.get('client_name')),
            }
        elif isinstance(entry, (list, tuple)) and len(entry) >= 4:
            fields = list(entry)
            if not isinstance(fields[3], (list, tuple)) and len(fields) >= 5 and \
                    isinstance(fields[4], (list, tuple)):
                del fields[3]  # Redis Enterprise: complexity before the arguments
            item = {
                'id': _int_or_none(fields[0]),
                'timestamp': _int_or_none(fields[1]),
                'duration_us': _int_or_none(fields[2]),
                'command': _args(fields[3]),
                'client_addr': _text_or_none(fields[4]) if len(fields) >= 5 else None,
                'client_name': _text_or_none(fields[5]) if len(fields) >= 6 else None,
            }
        else:
            continue
        if redact:
            item['command'] = _redact_args(item['command'])
        result.append(item)
    return result


# ---------------------------------------------------------------- queues

def depth_command(key_type):
    """``(command, error)`` for a key's ``TYPE``.

    ``('LLEN', None)`` for a list (``ZCARD`` zset, ``XLEN`` stream, ``SCARD``
    set, ``HLEN`` hash); ``(None, None)`` for ``none`` (missing key: depth 0);
    ``(None, message)`` for any other type (string, ReJSON-RL, ...).
    """
    key_type = to_text(key_type)
    if key_type in DEPTH_COMMANDS:
        return DEPTH_COMMANDS[key_type], None
    if key_type == 'none':
        return None, None
    return None, 'a %s is not a queue (expected list, zset, stream, set or hash)' % key_type


def queue_entry(key_type, depth=None, error=None):
    """One value of the ``queues`` return value: ``{type, depth}`` plus ``error`` when any."""
    key_type = to_text(key_type)
    if error is not None:
        return {'type': key_type, 'depth': None, 'error': str(error)}
    if key_type == 'none':
        return {'type': 'none', 'depth': 0}
    return {'type': key_type, 'depth': _int_or_none(depth)}


def median(values):
    values = sorted(values)
    if not values:
        return None
    middle = len(values) // 2
    if len(values) % 2:
        return values[middle]
    return (values[middle - 1] + values[middle]) / 2.0


# ---------------------------------------------------------------- thresholds

def queue_depth_limit(key, max_queue_depth, default=1000):
    """The depth limit of *key*: an int applies to every key; a mapping gives per-key limits
    (exact key first, then shell wildcards in the mapping's order, else *default*).
    ``None`` (or a negative number) means no limit."""
    if isinstance(max_queue_depth, Mapping):
        if key in max_queue_depth:
            return max_queue_depth[key]
        for pattern, limit in max_queue_depth.items():
            if fnmatch.fnmatchcase(key, str(pattern)):
                return limit
        return default
    return max_queue_depth


def _fmt_bytes(value):
    value = float(value)
    for unit in ('B', 'KiB', 'MiB', 'GiB', 'TiB'):
        if abs(value) < 1024 or unit == 'TiB':
            return ('%d %s' % (value, unit)) if unit == 'B' else ('%.1f %s' % (value, unit))
        value /= 1024.0
    return '%s B' % value  # pragma: no cover


def evaluate(latency_ms=None, memory=None, queues=None, server=None, max_latency_ms=10, max_memory_pct=90,
             max_fragmentation=1.5, max_queue_depth=1000):
    """Warning strings for everything outside the thresholds (empty list when all is fine).

    * PING latency above *max_latency_ms*;
    * memory in use above *max_memory_pct* of ``maxmemory`` (when a limit is set);
    * fragmentation ratio above *max_fragmentation*, or below 1 (memory swapped out), once
      ``used_memory`` is at least 100 MiB (below that the ratio means nothing);
    * evicted keys since the start (with the policy), and an evicting ``maxmemory-policy``
      while queue keys exist (queues such as Bull's need ``noeviction``);
    * a queue deeper than its limit (*max_queue_depth*, int or per-key mapping);
    * a queue key that could not be measured (wrong type, error);
    * a replica whose link to its master is not ``up``.
    """
    warnings = []
    memory = memory or {}
    queues = queues or {}
    server = server or {}

    if latency_ms is not None and max_latency_ms is not None and latency_ms > max_latency_ms:
        warnings.append('PING latency %.1f ms is above %g ms' % (latency_ms, max_latency_ms))

    used = memory.get('used_memory')
    maxmemory = memory.get('maxmemory')
    policy = memory.get('maxmemory_policy')
    pct = memory.get('used_memory_pct')
    if pct is None and used is not None and maxmemory:
        pct = 100.0 * used / maxmemory
    if pct is not None and max_memory_pct is not None and pct > max_memory_pct:
        text = 'memory %.1f%% of maxmemory used (%s of %s), above %g%%' % (
            pct, _fmt_bytes(used), _fmt_bytes(maxmemory), max_memory_pct)
        if policy == 'noeviction':
            text += '; with maxmemory-policy noeviction, writes fail with OOM once it is full'
        else:
            text += '; maxmemory-policy %s evicts keys once it is full' % policy
        warnings.append(text)

    ratio = memory.get('mem_fragmentation_ratio')
    if ratio is not None and used is not None and used >= FRAGMENTATION_MIN_USED_MEMORY:
        if max_fragmentation is not None and ratio > max_fragmentation:
            warnings.append('memory fragmentation ratio %.2f is above %g (RSS %s for %s used)' % (
                ratio, max_fragmentation, _fmt_bytes(memory.get('used_memory_rss') or 0), _fmt_bytes(used)))
        elif ratio < 1.0:
            warnings.append('memory fragmentation ratio %.2f is below 1: part of Redis memory is swapped out'
                            % ratio)

    evicted = memory.get('evicted_keys')
    if evicted:
        warnings.append('%d keys evicted since the server started (maxmemory-policy %s)' % (evicted, policy))
    present = sorted(key for key, entry in queues.items() if entry.get('type') not in (None, 'none'))
    if maxmemory and policy and policy != 'noeviction' and present:
        warnings.append('maxmemory-policy %s can evict queue keys (%s); job queues need noeviction'
                        % (policy, ', '.join(present)))

    for key in sorted(queues):
        entry = queues[key]
        if entry.get('error') is not None:
            warnings.append('queue %s: %s' % (key, entry['error']))
            continue
        depth = entry.get('depth')
        limit = queue_depth_limit(key, max_queue_depth)
        if depth is not None and limit is not None and limit >= 0 and depth > limit:
            warnings.append('queue %s holds %d entries, above %d' % (key, depth, limit))

    if server.get('role') == 'slave' and server.get('master_link_status') not in (None, 'up'):
        warnings.append('replica link to the master is %s' % server['master_link_status'])
    return warnings
