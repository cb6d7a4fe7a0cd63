# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure rules of ``arizu.ops.pg_activity``: which sessions are selected.

Nothing in here imports Ansible or a database driver and no function performs
I/O, so the rules are unit-tested table-driven and the module applies exactly
the same functions to the rows it reads from ``pg_stat_activity``:

* :func:`parse_duration` turns ``older_than`` (``90``, ``30s``, ``5m``,
  ``1h30m``) into seconds;
* :func:`select_sessions` picks the sessions to report or end;
* :func:`redact_query` replaces SQL literals by ``?``;
* :func:`session_summary` builds one entry of the ``sessions`` return value.
"""

from __future__ import annotations

import fnmatch
import math
import re

__all__ = [
    'AGE_FROM_QUERY_START',
    'ALL_STATES',
    'CLIENT_BACKEND',
    'DEFAULT_STATES',
    'DurationError',
    'format_duration',
    'matches_any',
    'parse_duration',
    'redact_query',
    'select_sessions',
    'session_age',
    'session_summary',
    'shorten_query',
]

#: The only ``backend_type`` ever selected (PostgreSQL >= 10).
CLIENT_BACKEND = 'client backend'

#: Every value ``pg_stat_activity.state`` can take for a client backend.
ALL_STATES = (
    'active',
    'idle',
    'idle in transaction',
    'idle in transaction (aborted)',
    'fastpath function call',
    'disabled',
)

#: States selected unless the caller says otherwise.
DEFAULT_STATES = ('active', 'idle in transaction', 'idle in transaction (aborted)')

#: States whose age is measured from ``query_start`` (a statement is running);
#: every other state is measured from ``state_change`` (how long it has been in it).
AGE_FROM_QUERY_START = ('active', 'fastpath function call')

_UNITS = {'d': 86400, 'h': 3600, 'm': 60, 's': 1}
_NUMBER = r'(?:\d+(?:\.\d*)?|\.\d+)'
_PLAIN_SECONDS = re.compile(r'^%s$' % _NUMBER)
_GROUP = re.compile(r'(%s)\s*([dhms])' % _NUMBER)


class DurationError(ValueError):
    """A duration that cannot be parsed; the message says why."""


def parse_duration(value):
    """Return the number of seconds (float) of a duration such as ``1h30m``.

    Accepted: a plain number of seconds (``90``, ``2.5``; an int or float is
    taken as is), or one or more ``<number><unit>`` groups with the units
    ``d``, ``h``, ``m`` and ``s``, each unit at most once (``5m``, ``30s``,
    ``1h30m``, ``1h 30m``, ``1.5h``).  Case and surrounding blanks do not matter.
    Negative, empty and unknown values raise :class:`DurationError`.
    """
    if isinstance(value, bool) or value is None:
        raise DurationError('expected a duration such as 90, 30s, 5m or 1h30m, got %r' % (value,))
    if isinstance(value, (int, float)):
        if math.isnan(value) or value < 0 or math.isinf(value):
            raise DurationError('must be a finite number of seconds, 0 or more, got %r' % (value,))
        return float(value)
    text = str(value).strip().lower()
    if not text:
        raise DurationError('expected a duration such as 90, 30s, 5m or 1h30m, got an empty value')
    if text.startswith('-'):
        raise DurationError('must not be negative, got %r' % (value,))
    if _PLAIN_SECONDS.match(text):
        return float(text)
    total = 0.0
    seen = set()
    pos = 0
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        match = _GROUP.match(text, pos)
        if not match:
            raise DurationError('cannot parse %r: expected seconds (90) or number+unit groups with the '
                                'units d, h, m, s (30s, 5m, 1h30m)' % (value,))
        number, unit = match.group(1), match.group(2)
        if unit in seen:
            raise DurationError('cannot parse %r: the unit %r appears more than once' % (value, unit))
        seen.add(unit)
        total += float(number) * _UNITS[unit]
        pos = match.end()
    return total


def format_duration(seconds):
    """``5400`` -> ``'1h30m'``, ``2.5`` -> ``'2.5s'``; for messages."""
    seconds = float(seconds)
    if seconds < 60 or seconds != int(seconds):
        return '%gs' % seconds
    seconds = int(seconds)
    parts = []
    for unit in ('d', 'h', 'm', 's'):
        size = _UNITS[unit]
        if seconds >= size:
            parts.append('%d%s' % (seconds // size, unit))
            seconds %= size
    return ''.join(parts)


def matches_any(value, patterns):
    """True when *value* equals one of *patterns* or matches it as a shell
    wildcard (``*``, ``?``, ``[...]``); case-sensitive.  ``None`` never matches."""
    if value is None:
        return False
    for pattern in patterns or ():
        if pattern is None:
            continue
        if value == pattern or fnmatch.fnmatchcase(value, pattern):
            return True
    return False


def _seconds_between(later, earlier):
    delta = later - earlier
    if hasattr(delta, 'total_seconds'):
        return delta.total_seconds()
    return float(delta)


def session_age(row, now):
    """Seconds the session has been in its current activity, or ``None``.

    ``active`` (and ``fastpath function call``) sessions count from
    ``query_start``; idle in transaction (and every other state) from
    ``state_change``.  A missing timestamp (another role's session seen without
    the ``pg_read_all_stats`` privilege) gives ``None``.
    """
    state = row.get('state')
    start = row.get('query_start') if state in AGE_FROM_QUERY_START else row.get('state_change')
    if start is None or now is None:
        return None
    return _seconds_between(now, start)


def select_sessions(rows, now, older_than, states=DEFAULT_STATES, exclude_users=(), exclude_applications=(),
                    exclude_databases=(), include_databases=None, own_pid=None):
    """Return the sessions among *rows* that the module acts on.

    *rows* are dicts with the ``pg_stat_activity`` column names (``pid``,
    ``backend_type``, ``state``, ``usename``, ``datname``, ``application_name``,
    ``query_start``, ``state_change``, ...).  *now* is the server's clock, of
    the same type as the timestamps (datetimes, or plain numbers in tests).
    *older_than* is in seconds (see :func:`parse_duration`).

    A row is selected when all of these hold:

    * it is a client backend (never a replication sender, autovacuum or other
      background process) and not the module's own session (*own_pid*);
    * its state is one of *states*;
    * its age (:func:`session_age`) is known and at least *older_than*;
    * its user, application and database match none of the excludes, and its
      database is in *include_databases* when that is given (non-empty);
      excludes win over includes.  Patterns may use shell wildcards.

    The result is a list of new dicts (each row plus ``age`` in seconds),
    oldest first; ties keep the rows' order.
    """
    states = tuple(states) if states else DEFAULT_STATES
    include = [d for d in (include_databases or []) if d is not None]
    selected = []
    for row in rows:
        if row.get('backend_type') != CLIENT_BACKEND:
            continue
        if own_pid is not None and row.get('pid') == own_pid:
            continue
        if row.get('state') not in states:
            continue
        age = session_age(row, now)
        if age is None or age < older_than:
            continue
        if matches_any(row.get('usename'), exclude_users):
            continue
        if matches_any(row.get('application_name'), exclude_applications):
            continue
        if matches_any(row.get('datname'), exclude_databases):
            continue
        if include and not matches_any(row.get('datname'), include):
            continue
        item = dict(row)
        item['age'] = age
        selected.append(item)
    selected.sort(key=lambda item: -item['age'])
    return selected


# ---------------------------------------------------------------- redaction

_IDENT_START = re.compile(r'[A-Za-z_\u0080-\uffff]')
_IDENT = re.compile(r'[A-Za-z_\u0080-\uffff][A-Za-z0-9_$\u0080-\uffff]*')
_NUMBER_TOKEN = re.compile(
    r'0[xX][0-9A-Fa-f_]+|0[oO][0-7_]+|0[bB][01_]+'
    r'|(?:\d[\d_]*(?:\.[\d_]*)?|\.\d[\d_]*)(?:[eE][+-]?\d+)?'
)
_DOLLAR_TAG = re.compile(r'\$([A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$')
_PARAM = re.compile(r'\$\d+')
#: identifiers that, written right before a quote, make it one literal (E'..', X'..', ...)
_LITERAL_PREFIXES = ('e', 'b', 'x', 'n')
_PLACEHOLDER = '?'


def _skip_quoted(text, pos, quote, backslash_escapes=False):
    """Index just after the literal that opens at text[pos] (== quote).

    A doubled quote is an escaped quote; with *backslash_escapes* (E'..')
    ``\\x`` escapes too.  An unterminated literal runs to the end of the text
    (``pg_stat_activity`` cuts long queries, often in the middle of one).
    """
    i = pos + 1
    n = len(text)
    while i < n:
        ch = text[i]
        if backslash_escapes and ch == '\\':
            i += 2
            continue
        if ch == quote:
            if i + 1 < n and text[i + 1] == quote:
                i += 2
                continue
            return i + 1
        i += 1
    return n


def redact_query(text):
    """Replace the literals of an SQL text by ``?``.

    String literals (``'it''s'``, ``E'a\\'b'``, ``X'1F'``, ``U&'d\\0061t'``),
    dollar-quoted strings (``$$...$$``, ``$fn$...$fn$``) and numbers (``42``,
    ``3.14``, ``1e-3``, ``0x1F``) become ``?``.  Identifiers (also ``t1``,
    quoted ``"Col 1"``), keywords, operators, positional parameters (``$1``)
    and comments are kept, so the shape of the statement stays readable.  An
    unterminated literal is replaced up to the end.  ``None`` gives ``None``.
    """
    if text is None:
        return None
    out = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch == "'":
            i = _skip_quoted(text, i, "'")
            out.append(_PLACEHOLDER)
            continue
        if ch == '"':
            end = _skip_quoted(text, i, '"')
            out.append(text[i:end])
            i = end
            continue
        if ch == '-' and text.startswith('--', i):
            end = text.find('\n', i)
            end = n if end < 0 else end
            out.append(text[i:end])
            i = end
            continue
        if ch == '/' and text.startswith('/*', i):
            end = text.find('*/', i + 2)
            end = n if end < 0 else end + 2
            out.append(text[i:end])
            i = end
            continue
        if ch == '$':
            param = _PARAM.match(text, i)
            if param:
                out.append(param.group(0))
                i = param.end()
                continue
            tag = _DOLLAR_TAG.match(text, i)
            if tag:
                close = text.find(tag.group(0), tag.end())
                i = n if close < 0 else close + len(tag.group(0))
                out.append(_PLACEHOLDER)
                continue
            out.append(ch)
            i += 1
            continue
        if _IDENT_START.match(ch):
            ident = _IDENT.match(text, i)
            word = ident.group(0)
            end = ident.end()
            if end < n and text[end] == "'" and word.lower() in _LITERAL_PREFIXES:
                i = _skip_quoted(text, end, "'", backslash_escapes=word.lower() == 'e')
                out.append(_PLACEHOLDER)
                continue
            if word.lower() == 'u' and text.startswith("&'", end):
                i = _skip_quoted(text, end + 1, "'")
                out.append(_PLACEHOLDER)
                continue
            out.append(word)
            i = end
            continue
        if ch.isdigit() or (ch == '.' and i + 1 < n and text[i + 1].isdigit()):
            number = _NUMBER_TOKEN.match(text, i)
            if number:
                out.append(_PLACEHOLDER)
                i = number.end()
                continue
        out.append(ch)
        i += 1
    return ''.join(out)


def shorten_query(text, max_length, redact=True):
    """The query as returned: literals redacted (before cutting, so a cut can
    never expose half a literal), whitespace runs collapsed to one blank, then
    cut to *max_length* characters.  ``None`` stays ``None``."""
    if text is None:
        return None
    if redact:
        text = redact_query(text)
    text = ' '.join(text.split())
    if max_length is not None and max_length >= 0:
        text = text[:max_length]
    return text


def _iso(value):
    if value is None:
        return None
    if hasattr(value, 'isoformat'):
        return value.isoformat()
    return str(value)


def session_summary(row, query_max_length=200, redact_literals=True):
    """One entry of the ``sessions`` return value, from a selected row."""
    age = row.get('age')
    client_addr = row.get('client_addr')
    return {
        'pid': row.get('pid'),
        'user': row.get('usename'),
        'database': row.get('datname'),
        'application': row.get('application_name'),
        'client_addr': None if client_addr is None else str(client_addr),
        'state': row.get('state'),
        'backend_start': _iso(row.get('backend_start')),
        'duration': None if age is None else round(float(age), 1),
        'wait_event_type': row.get('wait_event_type'),
        'wait_event': row.get('wait_event'),
        'query': shorten_query(row.get('query'), query_max_length, redact_literals),
    }
