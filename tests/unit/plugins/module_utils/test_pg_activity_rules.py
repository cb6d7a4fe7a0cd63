# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The selection rules of arizu.ops.pg_activity, table-driven (pure Python, no database)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.pg_activity_rules import (
    DEFAULT_STATES,
    DurationError,
    format_duration,
    matches_any,
    parse_duration,
    redact_query,
    select_sessions,
    session_age,
    session_summary,
    shorten_query,
)

# ---------------------------------------------------------------- older_than


@pytest.mark.parametrize('value, seconds', [
    ('90', 90.0),
    (90, 90.0),
    (2.5, 2.5),
    ('2.5', 2.5),
    ('0', 0.0),
    ('30s', 30.0),
    ('5m', 300.0),
    ('1h', 3600.0),
    ('1d', 86400.0),
    ('1h30m', 5400.0),
    ('1h 30m', 5400.0),
    (' 1H30M ', 5400.0),
    ('1h30m15s', 5415.0),
    ('30m1h', 5400.0),
    ('1.5h', 5400.0),
    ('.5m', 30.0),
    ('2s', 2.0),
    ('0m', 0.0),
    ('1d2h3m4s', 93784.0),
])
def test_parse_duration(value, seconds):
    assert parse_duration(value) == seconds


@pytest.mark.parametrize('value, message', [
    ('', 'empty'),
    ('   ', 'empty'),
    (None, 'expected a duration'),
    (True, 'expected a duration'),
    ('-5m', 'negative'),
    (-1, '0 or more'),
    (float('nan'), '0 or more'),
    ('5 minutes', 'cannot parse'),
    ('5min', 'cannot parse'),
    ('5x', 'cannot parse'),
    ('h', 'cannot parse'),
    ('1h30', 'cannot parse'),
    ('1h1h', 'more than once'),
    ('1m30m', 'more than once'),
    ('1:30', 'cannot parse'),
    ('1e3', 'cannot parse'),
    ('5m-', 'cannot parse'),
    ('PT5M', 'cannot parse'),
])
def test_parse_duration_rejects(value, message):
    with pytest.raises(DurationError) as exc:
        parse_duration(value)
    assert message in str(exc.value)


@pytest.mark.parametrize('seconds, text', [
    (2, '2s'), (2.5, '2.5s'), (0, '0s'), (300, '5m'), (5400, '1h30m'), (90, '1m30s'), (86400, '1d'),
])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text


# ---------------------------------------------------------------- select_sessions

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)


def ago(seconds):
    return NOW - timedelta(seconds=seconds)


def row(pid, state='active', query_age=None, state_age=None, backend_type='client backend', user='app',
        db='arizu', app='api', **extra):
    """A pg_stat_activity row; ages in seconds before NOW."""
    data = dict(pid=pid, backend_type=backend_type, usename=user, datname=db, application_name=app,
                state=state, backend_start=ago(3600), query_start=None if query_age is None else ago(query_age),
                state_change=None if state_age is None else ago(state_age), client_addr='10.0.0.5',
                wait_event_type=None, wait_event=None, query='SELECT 1')
    data.update(extra)
    return data


ROWS = [
    row(1, 'active', query_age=600, state_age=600),                                   # long statement
    row(2, 'active', query_age=10, state_age=10),                                     # short statement
    row(3, 'active', query_age=600, state_age=1),                                     # age from query_start
    row(4, 'idle in transaction', query_age=900, state_age=30),                       # idle tx, young
    row(5, 'idle in transaction', query_age=900, state_age=400),                      # idle tx, old
    row(6, 'idle in transaction (aborted)', query_age=900, state_age=500),
    row(7, 'idle', query_age=5000, state_age=5000),                                   # idle, not default
    row(8, 'active', query_age=700, state_age=700, backend_type='autovacuum worker'),
    row(9, None, query_age=None, state_age=None, backend_type='autovacuum launcher'),
    row(10, 'active', query_age=800, state_age=800, backend_type='walsender', user='replicator'),
    row(11, 'active', query_age=800, state_age=800, backend_type='background worker'),
    row(12, 'active', query_age=650, state_age=650, app='arizu.ops.pg_activity'),   # the module itself
    row(13, 'active', query_age=None, state_age=None),                                # no privilege to see
    row(14, 'active', query_age=300, state_age=300),                                  # exactly older_than
    row(15, 'active', query_age=299.9, state_age=299.9),
    row(16, 'active', query_age=1000, state_age=1000, user='backup', app='pg_dump'),
    row(17, 'active', query_age=1000, state_age=1000, db='analytics', app='metabase'),
    row(18, 'fastpath function call', query_age=400, state_age=1),
    row(19, 'disabled', query_age=None, state_age=9000),
]


def pids(selected):
    return [item['pid'] for item in selected]


@pytest.mark.parametrize('kwargs, expected', [
    # defaults: active by query_start, idle in transaction by state_change, client backends only,
    # never our own pid; oldest first
    (dict(), [16, 17, 1, 3, 6, 5, 14]),
    (dict(older_than=0), [16, 17, 1, 3, 6, 5, 14, 15, 4, 2]),
    (dict(older_than=450), [16, 17, 1, 3, 6]),
    (dict(states=['active']), [16, 17, 1, 3, 14]),
    (dict(states=['idle in transaction']), [5]),
    (dict(states=['idle in transaction', 'idle in transaction (aborted)']), [6, 5]),
    (dict(states=['idle']), [7]),
    (dict(states=['fastpath function call']), [18]),
    (dict(states=['disabled']), [19]),
    (dict(own_pid=None), [16, 17, 12, 1, 3, 6, 5, 14]),
    (dict(exclude_users=['backup']), [17, 1, 3, 6, 5, 14]),
    (dict(exclude_users=['back*']), [17, 1, 3, 6, 5, 14]),
    (dict(exclude_users=['BACKUP']), [16, 17, 1, 3, 6, 5, 14]),      # case-sensitive
    (dict(exclude_applications=['pg_dump', 'meta*']), [1, 3, 6, 5, 14]),
    (dict(exclude_databases=['analytics']), [16, 1, 3, 6, 5, 14]),
    (dict(include_databases=['analytics']), [17]),
    (dict(include_databases=['ana?ytics', 'nope']), [17]),
    (dict(include_databases=['analytics'], exclude_databases=['analytics']), []),
    (dict(include_databases=[]), [16, 17, 1, 3, 6, 5, 14]),          # empty list: no include filter
    (dict(include_databases=['nope']), []),
])
def test_select_sessions(kwargs, expected):
    args = dict(older_than=300, own_pid=12)
    args.update(kwargs)
    assert pids(select_sessions(ROWS, NOW, **args)) == expected


def test_select_sessions_never_background_processes_even_with_everything_allowed():
    states = ['active', 'idle', 'idle in transaction', 'idle in transaction (aborted)',
              'fastpath function call', 'disabled']
    selected = pids(select_sessions(ROWS, NOW, 0, states=states, own_pid=12))
    assert not {8, 9, 10, 11, 12, 13} & set(selected)
    assert set(selected) == {1, 2, 3, 4, 5, 6, 7, 14, 15, 16, 17, 18, 19}


def test_select_sessions_adds_age_and_keeps_rows():
    selected = select_sessions(ROWS, NOW, 300, own_pid=12)
    by_pid = {item['pid']: item for item in selected}
    assert by_pid[1]['age'] == 600
    assert by_pid[3]['age'] == 600          # query_start, not state_change
    assert by_pid[5]['age'] == 400          # state_change, not query_start
    assert 'age' not in ROWS[0]             # input rows are not modified


def test_select_sessions_default_states_and_numbers():
    # plain numbers work as timestamps too (now - start)
    rows = [dict(pid=1, backend_type='client backend', state='active', query_start=100.0, state_change=100.0),
            dict(pid=2, backend_type='client backend', state='idle in transaction', query_start=0.0,
                 state_change=150.0)]
    assert pids(select_sessions(rows, 200.0, 60)) == [1]
    assert DEFAULT_STATES == ('active', 'idle in transaction', 'idle in transaction (aborted)')
    assert pids(select_sessions(rows, 200.0, 60, states=None)) == [1]


@pytest.mark.parametrize('state, query_age, state_age, age', [
    ('active', 10, 5, 10),
    ('idle in transaction', 10, 5, 5),
    ('idle in transaction (aborted)', 10, 5, 5),
    ('idle', 10, 5, 5),
    ('fastpath function call', 10, 5, 10),
    ('active', None, 5, None),
    ('idle in transaction', 10, None, None),
    (None, 10, 5, 5),
])
def test_session_age(state, query_age, state_age, age):
    assert session_age(row(1, state, query_age=query_age, state_age=state_age), NOW) == age


@pytest.mark.parametrize('value, patterns, expected', [
    ('pg_dump', ['pg_dump'], True),
    ('pg_dump', ['pg_*'], True),
    ('pg_dump', ['pg'], False),
    ('', [''], True),
    (None, ['*'], False),
    ('x', [], False),
    ('x', None, False),
    ('a[1]', ['a[[]1]'], True),
])
def test_matches_any(value, patterns, expected):
    assert matches_any(value, patterns) is expected


# ---------------------------------------------------------------- literal redaction

@pytest.mark.parametrize('sql, redacted', [
    ("SELECT pg_sleep(600)", "SELECT pg_sleep(?)"),
    ("SELECT * FROM users WHERE email = 'a@b.c' AND id = 42", "SELECT * FROM users WHERE email = ? AND id = ?"),
    ("UPDATE t SET pw = 'it''s secret' WHERE id = 1", "UPDATE t SET pw = ? WHERE id = ?"),
    ("SELECT '' , ''''", "SELECT ? , ?"),
    ("SELECT E'it\\'s', e'a\\\\' , 1", "SELECT ?, ? , ?"),
    ("SELECT X'1F', B'101', N'text', U&'d\\0061t'", "SELECT ?, ?, ?, ?"),
    ("SELECT $$it's $$ || $fn$ body 'x' $fn$ FROM t", "SELECT ? || ? FROM t"),
    ("SELECT $a$ nested $$ still $a$", "SELECT ?"),
    ("SELECT * FROM t WHERE a = $1 AND b = $12", "SELECT * FROM t WHERE a = $1 AND b = $12"),
    ("SELECT 3.14, .5, 1e-3, 2E+10, 10.", "SELECT ?, ?, ?, ?, ?"),
    ("SELECT 0x1F, 0o17, 0b101, 1_000_000", "SELECT ?, ?, ?, ?"),
    ("SELECT -5", "SELECT -?"),
    ("SELECT col1, t2.c3 FROM table_9 t2", "SELECT col1, t2.c3 FROM table_9 t2"),
    ('SELECT "Col 1", "it\'s ""x""" FROM "T 2"', 'SELECT "Col 1", "it\'s ""x""" FROM "T 2"'),
    ("SELECT 1 -- don't touch\nFROM t", "SELECT ? -- don't touch\nFROM t"),
    ("SELECT /* it's 42 */ 7", "SELECT /* it's 42 */ ?"),
    ("SELECT 'unterminated literal, cut by track_activity_query_size", "SELECT ?"),
    ("SELECT $$unterminated", "SELECT ?"),
    ("SELECT '1'::int, 2::text", "SELECT ?::int, ?::text"),
    ("INSERT INTO t VALUES ('a', 1), ('b', 2)", "INSERT INTO t VALUES (?, ?), (?, ?)"),
    ("SELECT price$1 FROM t", "SELECT price$1 FROM t"),
    ("SELECT straße, 'grüße' FROM t", "SELECT straße, ? FROM t"),
    ("SELECT $ 1", "SELECT $ ?"),
    ("", ""),
])
def test_redact_query(sql, redacted):
    assert redact_query(sql) == redacted


def test_redact_query_none():
    assert redact_query(None) is None


@pytest.mark.parametrize('text, max_length, redact, expected', [
    ("SELECT  'x'\n  FROM t", 200, True, "SELECT ? FROM t"),
    ("SELECT  'x'\n  FROM t", 200, False, "SELECT 'x' FROM t"),
    ("SELECT 'a very secret value' FROM t", 10, True, "SELECT ? F"),
    ("SELECT 'a very secret value' FROM t", 10, False, "SELECT 'a "),
    ("SELECT 1", 0, True, ""),
    (None, 10, True, None),
])
def test_shorten_query(text, max_length, redact, expected):
    assert shorten_query(text, max_length, redact) == expected


def test_session_summary():
    item = dict(row(4711, 'active', query_age=412.74, state_age=412.74, wait_event_type='Lock',
                    wait_event='transactionid', query="UPDATE accounts SET balance = balance - 100 WHERE id = 7"),
                age=412.74)
    summary = session_summary(item, 200, True)
    assert summary == {
        'pid': 4711, 'user': 'app', 'database': 'arizu', 'application': 'api', 'client_addr': '10.0.0.5',
        'state': 'active', 'backend_start': '2025-01-01T11:00:00+00:00', 'duration': 412.7,
        'wait_event_type': 'Lock', 'wait_event': 'transactionid',
        'query': 'UPDATE accounts SET balance = balance - ? WHERE id = ?',
    }
    assert session_summary(dict(item, client_addr=None, age=None), 5, False)['duration'] is None
    assert session_summary(dict(item, client_addr=None), 6, False)['query'] == 'UPDATE'
