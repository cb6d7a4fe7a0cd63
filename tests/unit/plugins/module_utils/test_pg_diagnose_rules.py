# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""The pure parts of arizu.ops.pg_diagnose: column choice, messages, summaries, issues."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.arizu.ops.plugins.module_utils.pg_diagnose_rules import (
    blocking_summary,
    connection_summary,
    evaluate,
    extension_problem,
    is_preloaded,
    migration_summary,
    quote_ident,
    root_blockers,
    split_table_name,
    statement_columns,
    statement_summary,
    statements_sql,
)

NOW = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)

PG13_COLUMNS = ['userid', 'dbid', 'toplevel', 'queryid', 'query', 'plans', 'total_plan_time', 'calls',
                'total_exec_time', 'min_exec_time', 'max_exec_time', 'mean_exec_time', 'rows', 'shared_blks_hit',
                'shared_blks_read']
PG12_COLUMNS = ['userid', 'dbid', 'queryid', 'query', 'calls', 'total_time', 'min_time', 'max_time', 'mean_time',
                'rows', 'shared_blks_hit', 'shared_blks_read']


# ---------------------------------------------------------------- pg_stat_statements columns

def test_columns_of_postgresql_13_and_later():
    chosen = statement_columns(PG13_COLUMNS)
    assert chosen['total'] == 'total_exec_time' and chosen['mean'] == 'mean_exec_time'
    assert chosen['calls'] == 'calls' and chosen['rows'] == 'rows'


def test_columns_before_postgresql_13():
    chosen = statement_columns(PG12_COLUMNS)
    assert chosen['total'] == 'total_time' and chosen['mean'] == 'mean_time'


def test_columns_minimal_view():
    chosen = statement_columns(['query', 'calls', 'total_time', 'mean_time'])
    assert set(chosen) == {'query', 'calls', 'total', 'mean'}
    sql = statements_sql('public', chosen)
    assert 'NULL::bigint AS rows' in sql and 'NULL::text AS "user"' in sql and 'pg_roles' not in sql


def test_columns_missing_timing():
    with pytest.raises(ValueError, match='no total_exec_time or total_time column'):
        statement_columns(['query', 'calls'])


@pytest.mark.parametrize('order_by, order', [
    ('total_time', 'ORDER BY total_ms DESC'),
    ('mean_time', 'ORDER BY mean_ms DESC'),
    ('calls', 'ORDER BY calls DESC'),
])
def test_statements_sql(order_by, order):
    sql = statements_sql('ext schema', statement_columns(PG13_COLUMNS), order_by)
    assert 's."total_exec_time" AS total_ms' in sql and 's."mean_exec_time" AS mean_ms' in sql
    assert 'FROM "ext schema"."pg_stat_statements" s' in sql
    assert 'LEFT JOIN pg_roles r ON r.oid = s."userid"' in sql
    assert 'WHERE s."query" NOT LIKE %s' in sql and sql.endswith('LIMIT %s')
    assert order in sql
    assert sql.count('%s') == 2
    legacy = statements_sql('public', statement_columns(PG12_COLUMNS), order_by)
    assert 's."total_time" AS total_ms' in legacy and 'exec_time' not in legacy


def test_quote_ident_and_table_names():
    assert quote_ident('a"b') == '"a""b"'
    assert split_table_name('_prisma_migrations') == (None, '_prisma_migrations')
    assert split_table_name('app._prisma_migrations') == ('app', '_prisma_migrations')
    assert split_table_name('"app"."_m"') == ('app', '_m')


@pytest.mark.parametrize('setting, expected', [
    ('pg_stat_statements', True),
    ("'pg_stat_statements', auto_explain", True),
    ('auto_explain,PG_STAT_STATEMENTS', True),
    ('$libdir/pg_stat_statements.so', True),
    ('"pg_stat_statements"', True),
    ('', False),
    ('auto_explain', False),
    ('pg_stat_statements_extra', False),
    (None, None),
])
def test_is_preloaded(setting, expected):
    assert is_preloaded(setting) is expected


# ---------------------------------------------------------------- messages

def test_extension_not_installed():
    text = extension_problem('arizu', False, None, True)
    assert 'not installed on this server' in text and 'contrib' in text


def test_extension_not_created_in_this_database():
    text = extension_problem('arizu', True, None, True)
    assert text == ('pg_stat_statements is not created in database arizu: run CREATE EXTENSION pg_stat_statements; '
                    'in arizu (as a superuser)')


def test_extension_neither_created_nor_preloaded():
    text = extension_problem('arizu', True, None, False)
    assert text.startswith('pg_stat_statements is not created in database arizu')
    assert 'shared_preload_libraries' in text and 'restart PostgreSQL' in text


def test_extension_created_but_not_preloaded():
    text = extension_problem('arizu', True, 'public', False)
    assert text.startswith('pg_stat_statements is created in database arizu but not preloaded: add it to '
                           'shared_preload_libraries')
    # also when the setting could not be read and the view says so
    error = 'pg_stat_statements must be loaded via "shared_preload_libraries"'
    assert 'but not preloaded' in extension_problem('arizu', True, 'public', None, load_error=error)


def test_extension_fine_or_other_error():
    assert extension_problem('arizu', True, 'public', True) is None
    assert extension_problem('arizu', True, 'public', None) is None
    assert extension_problem('arizu', True, 'public', True, load_error='permission denied for view') == (
        'pg_stat_statements cannot be read in database arizu: permission denied for view')


# ---------------------------------------------------------------- summaries

def test_connection_summary():
    rows = [
        dict(state='idle', application_name='arizu-app', datname='arizu', usename='arizu', count=20),
        dict(state='active', application_name='arizu-app', datname='arizu', usename='arizu', count=5),
        dict(state='idle in transaction', application_name='n8n', datname='n8n', usename='n8n', count=2),
        dict(state=None, application_name='', datname='arizu', usename='other', count=1),
    ]
    summary = connection_summary(rows, 100, 3)
    assert summary['total'] == 28 and summary['used_pct'] == 28.0 and summary['available'] == 69
    assert summary['by_state'] == {'idle': 20, 'active': 5, 'idle in transaction': 2, 'unknown': 1}
    assert list(summary['by_state']) == ['idle', 'active', 'idle in transaction', 'unknown']
    assert summary['by_application'][0] == {'application': 'arizu-app', 'total': 25,
                                            'states': {'idle': 20, 'active': 5}}
    assert summary['by_application'][-1]['application'] == ''
    assert summary['by_database'] == {'arizu': 26, 'n8n': 2}
    assert summary['by_user'] == {'arizu': 25, 'n8n': 2, 'other': 1}


def test_connection_summary_empty_and_full():
    assert connection_summary([], 100)['total'] == 0
    full = connection_summary([dict(state='idle', application_name='a', count=99)], 100, 3)
    assert full['available'] == 0 and full['used_pct'] == 99.0


def _pair(blocked, blocking, waited, open_for, state='idle in transaction', **extra):
    row = dict(blocked_pid=blocked, blocked_user='arizu', blocked_application='app', blocked_database='arizu',
               blocked_query="UPDATE t SET v = 'secret' WHERE id = 7", blocked_query_start=NOW - timedelta(seconds=99),
               wait_start=NOW - timedelta(seconds=waited), locktype='transactionid', mode='ShareLock', relation=None,
               blocking_pid=blocking, blocking_user='ops', blocking_application='psql', blocking_state=state,
               blocking_backend_type='client backend', blocking_query='UPDATE t SET v = v + 1 WHERE id = 7',
               blocking_xact_start=NOW - timedelta(seconds=open_for), blocking_state_change=NOW)
    row.update(extra)
    return row


def test_blocking_summary():
    pairs = blocking_summary([_pair(11, 10, 5, 60), _pair(12, 11, 2, 30, state='active')], NOW)
    assert [p['blocked_pid'] for p in pairs] == [11, 12]  # longest wait first
    first = pairs[0]
    assert first['waiting_seconds'] == 5.0 and first['blocking_seconds'] == 60.0
    assert first['blocked_query'] == 'UPDATE t SET v = ? WHERE id = ?'
    assert first['blocking_query'] == 'UPDATE t SET v = v + ? WHERE id = ?'
    assert first['lock'] == {'type': 'transactionid', 'mode': 'ShareLock', 'relation': None}
    assert first['blocking_xact_start'] == (NOW - timedelta(seconds=60)).isoformat()
    assert root_blockers(pairs) == [10]


def test_blocking_summary_without_wait_start_or_redaction():
    row = _pair(11, 10, 5, 60, wait_start=None)
    pair = blocking_summary([row], NOW, query_max_length=10, redact=False)[0]
    assert pair['waiting_seconds'] == 99.0  # from the statement's start
    assert pair['blocked_query'] == 'UPDATE t S'


def test_root_blockers_of_a_cycle():
    pairs = blocking_summary([_pair(1, 2, 1, 1), _pair(2, 1, 1, 1)], NOW)
    assert root_blockers(pairs) == []
    assert evaluate(blocking=pairs) == ['2 lock waits in a cycle (deadlock being resolved)']


def test_statement_summary():
    rows = [dict(queryid=42, calls=200, total_ms=123.456, mean_ms=0.61728, rows=200, user='arizu', database='arizu',
                 shared_blks_hit=99, shared_blks_read=1, query="SELECT * FROM t WHERE name = 'x' AND id = $1")]
    top = statement_summary(rows)[0]
    assert top == {'queryid': 42, 'calls': 200, 'total_ms': 123.5, 'mean_ms': 0.617, 'rows': 200,
                   'cache_hit_pct': 99.0, 'user': 'arizu', 'database': 'arizu',
                   'query': 'SELECT * FROM t WHERE name = ? AND id = $1'}
    assert statement_summary([dict(calls=1, total_ms=1, mean_ms=1, query='SELECT 1')])[0]['cache_hit_pct'] is None


def test_migration_summary():
    rows = [
        dict(migration_name='3_failed', started_at=NOW, finished_at=None, rolled_back_at=None, applied_steps_count=0,
             logs='Error:\n  relation "x" already exists'),
        dict(migration_name='2_rolled', started_at=NOW, finished_at=None, rolled_back_at=NOW, applied_steps_count=0),
        dict(migration_name='1_init', started_at=NOW, finished_at=NOW, rolled_back_at=None, applied_steps_count=1),
    ]
    result = migration_summary(rows)
    assert [r['status'] for r in result] == ['failed', 'rolled back', 'applied']
    assert result[0]['logs'] == 'Error: relation "x" already exists'
    assert result[2]['started_at'] == NOW.isoformat()


# ---------------------------------------------------------------- issues

def test_evaluate():
    connections = connection_summary([dict(state='idle', application_name='a', count=85)], 100, 3)
    blocking = blocking_summary([_pair(11, 10, 5, 60), _pair(12, 10, 7, 60)], NOW)
    migrations = {'rows': migration_summary([dict(migration_name='3_failed', started_at=NOW, finished_at=None,
                                                  rolled_back_at=None)])}
    issues = evaluate(connections=connections, blocking=blocking,
                      statements={'message': 'pg_stat_statements is not created in database arizu'},
                      migrations=migrations,
                      idle_in_transaction={'count': 2, 'older_than_text': '5m', 'oldest_seconds': 400.2})
    assert issues == [
        '85 of max_connections 100 in use (85.0%, at or above 80%); 12 left for ordinary roles',
        '2 sessions idle in transaction for more than 5m (oldest 400 s): they hold locks and a connection',
        'pid 10 (ops, idle in transaction, transaction open 60.0 s) blocks pids 11, 12; longest wait 7.0 s',
        'pg_stat_statements is not created in database arizu',
        'migration 3_failed started at %s and did not finish (failed): resolve it before deploying or rolling back'
        % NOW.isoformat(),
    ]


def test_evaluate_all_fine():
    connections = connection_summary([dict(state='idle', application_name='a', count=10)], 100, 3)
    assert evaluate(connections=connections, blocking=[], statements={'message': None},
                    migrations={'rows': []}, idle_in_transaction={'count': 0}) == []
