# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure parts of ``arizu.ops.pg_diagnose``: no Ansible import, no database driver, no I/O.

* :func:`statement_columns` picks the ``pg_stat_statements`` columns from the
  view's own column list (``total_exec_time`` since PostgreSQL 13,
  ``total_time`` before), never from the server version;
* :func:`statements_sql` builds the top-N query with quoted identifiers;
* :func:`extension_problem` explains a missing or not preloaded extension;
* :func:`connection_summary`, :func:`blocking_summary`, :func:`statement_summary`
  and :func:`migration_summary` shape the rows the module reads;
* :func:`evaluate` turns them into the list of issues.
"""

from __future__ import annotations

from ansible_collections.arizu.ops.plugins.module_utils.pg_activity_rules import shorten_query

__all__ = [
    'EXTENSION',
    'ORDER_BY',
    'connection_summary',
    'blocking_summary',
    'evaluate',
    'extension_problem',
    'is_preloaded',
    'migration_summary',
    'quote_ident',
    'root_blockers',
    'migration_status',
    'split_table_name',
    'statement_columns',
    'statement_summary',
    'statements_sql',
]

EXTENSION = 'pg_stat_statements'

#: ``statements_order_by`` -> the logical column the top list is sorted by.
ORDER_BY = {'total_time': 'total', 'mean_time': 'mean', 'calls': 'calls'}

# logical name -> the view's column names, newest first (PostgreSQL 13 renamed the timings)
_STATEMENT_COLUMNS = (
    ('total', ('total_exec_time', 'total_time'), True),
    ('mean', ('mean_exec_time', 'mean_time'), True),
    ('calls', ('calls',), True),
    ('query', ('query',), True),
    ('rows', ('rows',), False),
    ('queryid', ('queryid',), False),
    ('userid', ('userid',), False),
    ('dbid', ('dbid',), False),
    ('shared_blks_hit', ('shared_blks_hit',), False),
    ('shared_blks_read', ('shared_blks_read',), False),
)


def quote_ident(name):
    """An SQL identifier, double-quoted (``a"b`` -> ``"a""b"``)."""
    return '"%s"' % str(name).replace('"', '""')


def statement_columns(columns):
    """``{logical name: column}`` for the columns the view has, or raise ``ValueError``.

    *columns* are the view's column names as read from the catalog. The timings
    are ``total_exec_time``/``mean_exec_time`` since PostgreSQL 13 and
    ``total_time``/``mean_time`` before; whichever the view has is used.
    """
    present = set(columns or ())
    chosen = {}
    for logical, candidates, required in _STATEMENT_COLUMNS:
        for candidate in candidates:
            if candidate in present:
                chosen[logical] = candidate
                break
        else:
            if required:
                raise ValueError('the %s view has no %s column (it has: %s)' % (
                    EXTENSION, ' or '.join(candidates), ', '.join(sorted(present)) or 'no columns'))
    return chosen


def statements_sql(schema, columns, order_by='total_time'):
    """The top-N statement for the view in *schema*, with two parameters: a ``NOT LIKE``
    pattern for the query texts to leave out, and the ``LIMIT``.

    *columns* is :func:`statement_columns`' result. Every identifier is quoted.
    """
    s = 's.'
    select = [
        '%s%s AS total_ms' % (s, quote_ident(columns['total'])),
        '%s%s AS mean_ms' % (s, quote_ident(columns['mean'])),
        '%s%s AS calls' % (s, quote_ident(columns['calls'])),
        ('%s%s AS rows' % (s, quote_ident(columns['rows']))) if 'rows' in columns else 'NULL::bigint AS rows',
        ('%s%s AS queryid' % (s, quote_ident(columns['queryid']))) if 'queryid' in columns
        else 'NULL::bigint AS queryid',
        'r.rolname AS "user"' if 'userid' in columns else 'NULL::text AS "user"',
        'd.datname AS database' if 'dbid' in columns else 'NULL::text AS database',
    ]
    if 'shared_blks_hit' in columns and 'shared_blks_read' in columns:
        select.append('%s%s AS shared_blks_hit' % (s, quote_ident(columns['shared_blks_hit'])))
        select.append('%s%s AS shared_blks_read' % (s, quote_ident(columns['shared_blks_read'])))
    select.append('%s%s AS query' % (s, quote_ident(columns['query'])))
    sql = 'SELECT %s FROM %s.%s s' % (', '.join(select), quote_ident(schema), quote_ident(EXTENSION))
    if 'userid' in columns:
        sql += ' LEFT JOIN pg_roles r ON r.oid = s.%s' % quote_ident(columns['userid'])
    if 'dbid' in columns:
        sql += ' LEFT JOIN pg_database d ON d.oid = s.%s' % quote_ident(columns['dbid'])
    # the diagnosis' own statements (they start with a marker comment) are left out
    sql += ' WHERE s.%s NOT LIKE %%s' % quote_ident(columns['query'])
    order = {'total': 'total_ms', 'mean': 'mean_ms', 'calls': 'calls'}[ORDER_BY[order_by]]
    sql += ' ORDER BY %s DESC NULLS LAST, calls DESC LIMIT %%s' % order
    return sql


def is_preloaded(setting):
    """``True``/``False`` whether ``shared_preload_libraries`` lists pg_stat_statements;
    ``None`` when the setting could not be read. Entries may be quoted or paths."""
    if setting is None:
        return None
    for item in str(setting).split(','):
        name = item.strip().strip('"').strip("'").strip()
        name = name.rsplit('/', 1)[-1]
        if name.endswith('.so'):
            name = name[:-3]
        if name.startswith('$libdir/'):
            name = name[len('$libdir/'):]
        if name.lower() == EXTENSION:
            return True
    return False


def extension_problem(database, available, schema, preloaded, load_error=None):
    """Why the top statements cannot be read, as one clear sentence, or ``None``.

    *available*: the server has the extension's files (``pg_available_extensions``);
    *schema*: where ``CREATE EXTENSION`` put it in *database* (``None``: not created);
    *preloaded*: :func:`is_preloaded` (``None``: unknown); *load_error*: the
    server's error when the view was read.
    """
    preload_hint = ("add it to shared_preload_libraries (postgresql.conf or ALTER SYSTEM SET "
                    "shared_preload_libraries = 'pg_stat_statements') and restart PostgreSQL")
    if not available:
        return ('pg_stat_statements is not installed on this server (no extension files: install the PostgreSQL '
                'contrib package), so there are no top statements')
    if schema is None:
        text = ('pg_stat_statements is not created in database %s: run CREATE EXTENSION pg_stat_statements; in %s '
                '(as a superuser)' % (database, database))
        if preloaded is False:
            text += ', and ' + preload_hint
        elif preloaded is None:
            text += ' (whether shared_preload_libraries lists it could not be read)'
        return text
    if preloaded is False or (load_error and 'shared_preload_libraries' in load_error):
        return 'pg_stat_statements is created in database %s but not preloaded: %s' % (database, preload_hint)
    if load_error:
        return 'pg_stat_statements cannot be read in database %s: %s' % (database, load_error)
    return None


def split_table_name(name):
    """``'_prisma_migrations'`` -> ``(None, '_prisma_migrations')``; ``'app._m'`` -> ``('app', '_m')``."""
    name = str(name).strip()
    if '.' in name:
        schema, table = name.split('.', 1)
        return schema.strip().strip('"'), table.strip().strip('"')
    return None, name.strip('"')


def _seconds(later, earlier):
    if later is None or earlier is None:
        return None
    delta = later - earlier
    seconds = delta.total_seconds() if hasattr(delta, 'total_seconds') else float(delta)
    return round(max(seconds, 0.0), 1)


def _iso(value):
    if value is None:
        return None
    return value.isoformat() if hasattr(value, 'isoformat') else str(value)


def connection_summary(rows, max_connections, reserved=0):
    """Connections by state, application, database and user.

    *rows* are ``{state, application_name, datname, usename, count}`` groups of
    client backends. ``available`` is what ordinary roles can still open
    (``max_connections - superuser_reserved_connections - total``).
    """
    by_state = {}
    by_database = {}
    by_user = {}
    apps = {}
    total = 0
    for row in rows or ():
        count = int(row.get('count') or 0)
        state = row.get('state') or 'unknown'
        app = row.get('application_name') or ''
        total += count
        by_state[state] = by_state.get(state, 0) + count
        database = row.get('datname') or ''
        by_database[database] = by_database.get(database, 0) + count
        user = row.get('usename') or ''
        by_user[user] = by_user.get(user, 0) + count
        entry = apps.setdefault(app, {'application': app, 'total': 0, 'states': {}})
        entry['total'] += count
        entry['states'][state] = entry['states'].get(state, 0) + count
    by_application = sorted(apps.values(), key=lambda e: (-e['total'], e['application']))
    max_connections = int(max_connections) if max_connections is not None else None
    reserved = int(reserved or 0)
    used_pct = None
    available = None
    if max_connections:
        used_pct = round(100.0 * total / max_connections, 1)
        available = max(max_connections - reserved - total, 0)
    return {
        'total': total,
        'max_connections': max_connections,
        'reserved': reserved,
        'available': available,
        'used_pct': used_pct,
        'by_state': dict(sorted(by_state.items(), key=lambda kv: (-kv[1], kv[0]))),
        'by_application': by_application,
        'by_database': dict(sorted(by_database.items(), key=lambda kv: (-kv[1], kv[0]))),
        'by_user': dict(sorted(by_user.items(), key=lambda kv: (-kv[1], kv[0]))),
    }


def blocking_summary(rows, now, query_max_length=200, redact=True):
    """One entry per (blocked, blocking) pair, longest wait first.

    *rows* carry the waiting session (``blocked_*``, ``wait_start``: the lock
    wait's start, else its statement's), the lock it waits for (``locktype``,
    ``mode``, ``relation``) and one blocker (``blocking_*``, with its
    transaction start). ``waiting_seconds`` is how long the blocked session has
    waited; ``blocking_seconds`` how long the blocker's transaction has been open.
    """
    pairs = []
    for row in rows or ():
        blocking_since = row.get('blocking_xact_start') or row.get('blocking_state_change')
        pairs.append({
            'blocked_pid': row.get('blocked_pid'),
            'blocked_user': row.get('blocked_user'),
            'blocked_application': row.get('blocked_application'),
            'blocked_database': row.get('blocked_database'),
            'blocked_query': shorten_query(row.get('blocked_query'), query_max_length, redact),
            'waiting_seconds': _seconds(now, row.get('wait_start') or row.get('blocked_query_start')),
            'lock': {
                'type': row.get('locktype'),
                'mode': row.get('mode'),
                'relation': row.get('relation'),
            },
            'blocking_pid': row.get('blocking_pid'),
            'blocking_user': row.get('blocking_user'),
            'blocking_application': row.get('blocking_application'),
            'blocking_state': row.get('blocking_state'),
            'blocking_backend_type': row.get('blocking_backend_type'),
            'blocking_query': shorten_query(row.get('blocking_query'), query_max_length, redact),
            'blocking_seconds': _seconds(now, blocking_since),
            'blocking_xact_start': _iso(row.get('blocking_xact_start')),
        })
    pairs.sort(key=lambda p: (-(p['waiting_seconds'] or 0), p['blocked_pid'] or 0, p['blocking_pid'] or 0))
    return pairs


def root_blockers(pairs):
    """The blocking pids that are not waiting themselves (the heads of the chains), sorted."""
    blocked = set(p['blocked_pid'] for p in pairs)
    return sorted(set(p['blocking_pid'] for p in pairs if p['blocking_pid'] not in blocked
                      and p['blocking_pid'] is not None))


def _number(value, digits=None):
    if value is None:
        return None
    value = float(value)
    return round(value, digits) if digits is not None else value


def statement_summary(rows, query_max_length=200, redact=True):
    """The ``statements.top`` entries from the top-N rows."""
    top = []
    for row in rows or ():
        hit = row.get('shared_blks_hit')
        read = row.get('shared_blks_read')
        ratio = None
        if hit is not None and read is not None and (hit + read) > 0:
            ratio = round(100.0 * float(hit) / float(hit + read), 1)
        top.append({
            'queryid': None if row.get('queryid') is None else int(row['queryid']),
            'calls': None if row.get('calls') is None else int(row['calls']),
            'total_ms': _number(row.get('total_ms'), 1),
            'mean_ms': _number(row.get('mean_ms'), 3),
            'rows': None if row.get('rows') is None else int(row['rows']),
            'cache_hit_pct': ratio,
            'user': row.get('user'),
            'database': row.get('database'),
            'query': shorten_query(row.get('query'), query_max_length, redact),
        })
    return top


def migration_status(row):
    """``applied``, ``rolled back`` or ``failed`` (started, neither finished nor rolled back)."""
    if row.get('rolled_back_at') is not None:
        return 'rolled back'
    if row.get('finished_at') is not None:
        return 'applied'
    return 'failed'


def migration_summary(rows, logs_max_length=200):
    """The ``migrations.rows`` entries (newest first, as read)."""
    result = []
    for row in rows or ():
        logs = row.get('logs')
        if logs is not None:
            logs = ' '.join(str(logs).split())[:logs_max_length]
        result.append({
            'migration_name': row.get('migration_name'),
            'status': migration_status(row),
            'started_at': _iso(row.get('started_at')),
            'finished_at': _iso(row.get('finished_at')),
            'rolled_back_at': _iso(row.get('rolled_back_at')),
            'applied_steps_count': row.get('applied_steps_count'),
            'logs': logs,
        })
    return result


def evaluate(connections=None, blocking=None, statements=None, migrations=None, idle_in_transaction=None,
             max_connections_pct=80.0):
    """The issues, one sentence each (empty when all is fine).

    * client connections at or above *max_connections_pct* of ``max_connections``;
    * sessions idle in a transaction for longer than the limit (*idle_in_transaction*
      is ``{count, older_than, oldest_seconds}``);
    * blocking locks (one line per root blocker);
    * pg_stat_statements unusable (``statements.message``);
    * a migration that failed (started, neither finished nor rolled back).
    """
    issues = []
    connections = connections or {}
    pct = connections.get('used_pct')
    if pct is not None and max_connections_pct is not None and pct >= max_connections_pct:
        issues.append('%d of max_connections %d in use (%.1f%%, at or above %g%%); %s left for ordinary roles' % (
            connections.get('total', 0), connections.get('max_connections') or 0, pct, max_connections_pct,
            connections.get('available')))
    idle = idle_in_transaction or {}
    if idle.get('count'):
        issues.append('%d session%s idle in transaction for more than %s (oldest %.0f s): they hold locks and '
                      'a connection' % (idle['count'], '' if idle['count'] == 1 else 's',
                                        idle.get('older_than_text') or '%ss' % idle.get('older_than'),
                                        idle.get('oldest_seconds') or 0))
    blocking = blocking or []
    if blocking:
        for root in root_blockers(blocking):
            victims = sorted(set(p['blocked_pid'] for p in blocking if p['blocking_pid'] == root))
            first = [p for p in blocking if p['blocking_pid'] == root][0]
            longest = max(p['waiting_seconds'] or 0 for p in blocking if p['blocking_pid'] == root)
            issues.append('pid %s (%s, %s, transaction open %s s) blocks pid%s %s; longest wait %.1f s' % (
                root, first.get('blocking_user'), first.get('blocking_state') or first.get('blocking_backend_type'),
                first.get('blocking_seconds'), '' if len(victims) == 1 else 's',
                ', '.join(str(v) for v in victims), longest))
        if not root_blockers(blocking):
            issues.append('%d lock waits in a cycle (deadlock being resolved)' % len(blocking))
    statements = statements or {}
    if statements.get('message'):
        issues.append(statements['message'])
    for row in (migrations or {}).get('rows') or []:
        if row.get('status') == 'failed':
            issues.append('migration %s started at %s and did not finish (failed): resolve it before deploying or '
                          'rolling back' % (row.get('migration_name'), row.get('started_at')))
    return issues
