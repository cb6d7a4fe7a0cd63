#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_diagnose
short_description: Diagnose a PostgreSQL server - connections, blocking locks, top statements, migrations
version_added: 1.0.0
description:
  - Gathers the runbook's "Database Connection Issues" evidence in one read-only task, over one connection
    (in a read-only session with a statement timeout), and returns it with the list of RV(issues) found.
  - B(Connections) - the client backends against C(max_connections) (the module's own session is not counted),
    by state, by application, by database and by user, and the sessions idle in a transaction for longer than
    O(max_idle_in_transaction).
  - B(Blocking locks) - every session waiting for a lock, paired with each session that blocks it
    (C(pg_blocking_pids)), with the lock it waits for, how long it has waited and how long the blocker's
    transaction has been open.
  - B(Top statements) - the O(top_statements) heaviest entries of C(pg_stat_statements). The timing columns
    are chosen from the view's own columns, read from the catalog (C(total_exec_time) and C(mean_exec_time)
    since PostgreSQL 13, C(total_time) and C(mean_time) before), never guessed from the server version.
    When the extension is not installed, not created in the database the module connects to, or not
    preloaded (C(shared_preload_libraries)), RV(statements.message) says so and what to do.
  - B(Migrations) - the newest O(migrations_count) rows of the Prisma migrations table (O(migrations_table))
    when the table exists, which the runbook checks before a schema rollback. A migration that started but
    neither finished nor was rolled back is reported as V(failed).
  - Query texts are cut to O(query_max_length) characters and, by default, their literals are replaced by
    C(?) (the same redaction as M(arizu.ops.pg_activity)).
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.postgres
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
  top_statements:
    description:
      - Number of C(pg_stat_statements) entries returned in RV(statements.top); V(0) skips them.
    type: int
    default: 10
  statements_order_by:
    description:
      - What the top statements are sorted by, highest first - the total execution time, the mean
        execution time or the number of calls.
    type: str
    choices: [total_time, mean_time, calls]
    default: total_time
  query_max_length:
    description:
      - Longest query text returned, in characters; V(0) returns empty strings.
    type: int
    default: 200
  redact_literals:
    description:
      - Replace the literals of the returned query texts by C(?), so values such as passwords or personal data
        are not copied into Ansible output. (C(pg_stat_statements) already shows most constants as C($1).)
    type: bool
    default: true
  migrations_table:
    description:
      - The migrations table, as C(table) (looked up in the schemas of the search path first, then in any
        schema) or C(schema.table). Its absence is not an error.
    type: str
    default: _prisma_migrations
  migrations_count:
    description:
      - Number of migrations returned, newest C(started_at) first; V(0) skips the table.
    type: int
    default: 5
  max_connections_pct:
    description:
      - Report an issue when the client connections use at least this percentage of C(max_connections).
    type: float
    default: 80
  max_idle_in_transaction:
    description:
      - Report an issue when sessions have been idle in an open transaction for longer than this
        (V(30s), V(5m), V(1h); the syntax of M(arizu.ops.pg_activity)'s O(arizu.ops.pg_activity#module:older_than)).
    type: str
    default: 5m
  statement_timeout:
    description:
      - Seconds each diagnostic statement may run before the server cancels it, so a sick server cannot hang
        the diagnosis; V(0) disables the limit.
    type: float
    default: 10
notes:
  - Without superuser rights or the C(pg_read_all_stats) role, other roles' sessions show no query text and
    C(pg_stat_statements) shows C(<insufficient privilege>); reading C(shared_preload_libraries) needs
    C(pg_read_all_settings) (otherwise whether it lists the extension is inferred from the view's error).
  - C(pg_stat_statements) covers every database of the server, but the view only exists in the databases
    where the extension was created; connect to one of them (O(login_db)).
seealso:
  - module: arizu.ops.pg_activity
  - name: pg_stat_statements
    description: The extension, its columns and C(shared_preload_libraries).
    link: https://www.postgresql.org/docs/current/pgstatstatements.html
  - name: pg_blocking_pids
    description: The function that tells who blocks a session.
    link: https://www.postgresql.org/docs/current/functions-info.html
"""

EXAMPLES = r"""
- name: Diagnose the stack's database (runbook, Database Connection Issues)
  arizu.ops.pg_diagnose:
    login_host: 127.0.0.1
    login_user: arizu
    login_password: "{{ postgresql_password }}"
    login_db: arizu
  register: pg_diag

- name: Show the summary
  ansible.builtin.debug:
    msg: "{{ pg_diag.msg }}"

- name: Who blocks whom
  ansible.builtin.debug:
    msg: "pid {{ item.blocking_pid }} ({{ item.blocking_state }}) blocks pid {{ item.blocked_pid }}
      for {{ item.waiting_seconds }} s"
  loop: "{{ pg_diag.blocking }}"

- name: The 5 statements with the highest mean time, through a DSN
  arizu.ops.pg_diagnose:
    dsn: "postgresql://ops:{{ ops_db_password | urlencode }}@db.internal:5432/arizu?sslmode=require"
    top_statements: 5
    statements_order_by: mean_time
    migrations_count: 0
"""

RETURN = r"""
server:
  description: The server and the session's database.
  returned: always
  type: dict
  sample:
    version: "15.10"
    version_num: 150010
    database: arizu
    max_connections: 200
    superuser_reserved_connections: 3
connections:
  description:
    - Client backends (the module's own session excluded) against C(max_connections).
  returned: always
  type: dict
  sample:
    total: 42
    max_connections: 200
    reserved: 3
    available: 155
    used_pct: 21.0
    by_state: {idle: 30, active: 10, idle in transaction: 2}
    by_application:
      - {application: arizu-app, total: 25, states: {idle: 20, active: 5}}
      - {application: n8n, total: 17, states: {idle: 10, active: 5, idle in transaction: 2}}
    by_database: {arizu: 25, n8n: 17}
    by_user: {arizu: 42}
    other_backends: 6
    oldest_transaction_seconds: 12.5
    idle_in_transaction: {count: 0, older_than: 300.0, older_than_text: 5m, oldest_seconds: null}
  contains:
    total:
      description: Number of client connections.
      type: int
    available:
      description: Connections ordinary roles can still open (C(max_connections) minus the reserved ones minus RV(connections.total)).
      type: int
    used_pct:
      description: RV(connections.total) as a percentage of C(max_connections).
      type: float
    by_state:
      description: Connections per C(pg_stat_activity.state) (V(unknown) when it is not visible).
      type: dict
    by_application:
      description: Per C(application_name), most connections first, with their states.
      type: list
      elements: dict
    idle_in_transaction:
      description: Sessions idle in a transaction for longer than O(max_idle_in_transaction).
      type: dict
blocking:
  description:
    - One entry per pair of a session waiting for a lock and a session blocking it, longest wait first.
    - C(waiting_seconds) counts from the start of the lock wait (PostgreSQL 14 and later) or of the
      waiting statement; C(blocking_seconds) from the start of the blocker's transaction.
  returned: always
  type: list
  elements: dict
  sample:
    - blocked_pid: 4712
      blocked_user: arizu
      blocked_application: arizu-app
      blocked_database: arizu
      blocked_query: "UPDATE accounts SET balance = ? WHERE id = ?"
      waiting_seconds: 41.2
      lock: {type: transactionid, mode: ShareLock, relation: null}
      blocking_pid: 4711
      blocking_user: arizu
      blocking_application: psql
      blocking_state: idle in transaction
      blocking_backend_type: client backend
      blocking_query: "UPDATE accounts SET balance = ? WHERE id = ?"
      blocking_seconds: 95.0
      blocking_xact_start: "2025-01-01T10:00:00.123456+00:00"
blocking_roots:
  description: The blocking pids that are not waiting themselves (the sessions to look at, or to end, first).
  returned: always
  type: list
  elements: int
  sample: [4711]
statements:
  description: The top statements of C(pg_stat_statements), or why there are none.
  returned: always
  type: dict
  sample:
    available: true
    message: null
    extension_schema: public
    extension_version: "1.10"
    preloaded: true
    columns: {total: total_exec_time, mean: mean_exec_time}
    order_by: total_time
    top:
      - queryid: -3749873247912
        calls: 1200
        total_ms: 5230.4
        mean_ms: 4.359
        rows: 1200
        cache_hit_pct: 99.8
        user: arizu
        database: arizu
        query: "SELECT * FROM accounts WHERE id = $1"
  contains:
    available:
      description: Whether the view could be read.
      type: bool
    message:
      description: Why not (not installed, not created in this database, not preloaded), with what to do; V(null) when available.
      type: str
    columns:
      description: The view's timing columns that were used.
      type: dict
    top:
      description: The statements, highest O(statements_order_by) first; times in milliseconds.
      type: list
      elements: dict
migrations:
  description: The newest rows of the migrations table, when it exists.
  returned: always
  type: dict
  sample:
    table: public._prisma_migrations
    total: 24
    rows:
      - migration_name: 20250101120000_add_accounts
        status: applied
        started_at: "2025-01-01T12:00:00.000000+00:00"
        finished_at: "2025-01-01T12:00:01.200000+00:00"
        rolled_back_at: null
        applied_steps_count: 1
        logs: null
  contains:
    table:
      description: The table that was read, as C(schema.table); V(null) when there is none.
      type: str
    total:
      description: Number of rows in the table.
      type: int
    rows:
      description: The newest O(migrations_count) migrations; C(status) is V(applied), V(rolled back) or V(failed).
      type: list
      elements: dict
issues:
  description:
    - Everything that needs attention, one sentence each; empty when all is fine. Also emitted as warnings.
  returned: always
  type: list
  elements: str
  sample:
    - "pid 4711 (arizu, idle in transaction, transaction open 95.0 s) blocks pid 4712; longest wait 41.2 s"
msg:
  description: One human-readable line summarizing the result.
  returned: always
  type: str
  sample: "PostgreSQL 15.10 arizu: 42 of 200 connections (21.0%), 1 blocked session, 10 top statements, 24 migrations, 1 issue"
"""

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.pg_activity_rules import (
    DurationError,
    format_duration,
    parse_duration,
)
from ansible_collections.arizu.ops.plugins.module_utils.pg_diagnose_rules import (
    EXTENSION,
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
from ansible_collections.arizu.ops.plugins.module_utils.postgres_common import (
    PostgresConnection,
    postgres_common_argument_spec,
    postgres_mutually_exclusive,
)

APPLICATION_NAME = 'arizu.ops.pg_diagnose'
#: Starts every statement of the module, so pg_stat_statements' top list can leave them out.
MARK = '/* arizu.ops.pg_diagnose */ '
MIN_SERVER_VERSION = 100000  # backend_type (PostgreSQL 10)

SERVER_SQL = (
    MARK + "SELECT current_setting('server_version') AS version, "
    "current_setting('server_version_num')::int AS version_num, "
    "current_database() AS database, current_setting('max_connections')::int AS max_connections, "
    "current_setting('superuser_reserved_connections')::int AS reserved, statement_timestamp() AS now"
)

CONNECTIONS_SQL = (
    MARK + "SELECT state, application_name, datname, usename, count(*) AS count "
    "FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid() "
    "GROUP BY 1, 2, 3, 4"
)

ACTIVITY_SQL = (
    MARK + "SELECT count(*) FILTER (WHERE backend_type IS DISTINCT FROM 'client backend') AS other_backends, "
    "max(EXTRACT(EPOCH FROM statement_timestamp() - xact_start)) FILTER (WHERE backend_type = 'client backend' "
    "AND pid <> pg_backend_pid()) AS oldest_transaction_seconds, "
    "count(*) FILTER (WHERE backend_type = 'client backend' AND state LIKE 'idle in transaction%%' "
    "AND statement_timestamp() - state_change >= make_interval(secs => %s)) AS idle_tx_count, "
    "max(EXTRACT(EPOCH FROM statement_timestamp() - state_change)) FILTER (WHERE backend_type = 'client backend' "
    "AND state LIKE 'idle in transaction%%' AND statement_timestamp() - state_change >= make_interval(secs => %s)) "
    "AS idle_tx_oldest "
    "FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
)

# Only the sessions waiting for a lock are asked about (pg_blocking_pids is not free).
BLOCKING_SQL = (
    MARK + "SELECT w.pid AS blocked_pid, w.usename AS blocked_user, w.application_name AS blocked_application, "
    "w.datname AS blocked_database, w.query AS blocked_query, w.query_start AS blocked_query_start, "
    "lw.locktype, lw.mode, lw.relation::regclass::text AS relation, {wait_start} AS wait_start, "
    "b.pid AS blocking_pid, b.usename AS blocking_user, b.application_name AS blocking_application, "
    "b.state AS blocking_state, b.backend_type AS blocking_backend_type, b.query AS blocking_query, "
    "b.xact_start AS blocking_xact_start, b.state_change AS blocking_state_change "
    "FROM pg_stat_activity w "
    "CROSS JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) "
    "LEFT JOIN pg_stat_activity b ON b.pid = bp.pid "
    "LEFT JOIN LATERAL (SELECT l.locktype, l.mode, l.relation{waitstart_column} FROM pg_locks l "
    "WHERE l.pid = w.pid AND NOT l.granted LIMIT 1) lw ON true "
    "WHERE w.wait_event_type = 'Lock' AND w.pid <> pg_backend_pid()"
)

EXTENSION_SQL = (
    MARK + "SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = %s) AS available, "
    "(SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = %s) "
    "AS schema, (SELECT extversion FROM pg_extension WHERE extname = %s) AS version"
)

VIEW_COLUMNS_SQL = (
    MARK + "SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    "JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum"
)

FIND_TABLE_SQL = (
    MARK + "SELECT n.nspname AS schema, c.relname AS name "
    "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    "WHERE c.relname = %s AND c.relkind IN ('r', 'p', 'v', 'm', 'f') AND (%s::text IS NULL OR n.nspname = %s) "
    "ORDER BY array_position(current_schemas(false), n.nspname::text) NULLS LAST, n.nspname LIMIT 1"
)

MIGRATION_COLUMNS = ('migration_name', 'started_at', 'finished_at', 'rolled_back_at', 'applied_steps_count', 'logs')


class Diagnosis(object):
    def __init__(self, module, db):
        self.module = module
        self.db = db
        self.params = module.params
        self.problems = []

    def query(self, what, sql, args=None):
        try:
            return self.db.query(sql, args)
        except Exception as exc:  # pylint: disable=broad-except
            self.problems.append('%s: %s' % (what, self.db.error_text(exc)))
            return None

    def prepare_session(self):
        timeout_ms = int(round(self.params['statement_timeout'] * 1000))
        # one round trip; lock_timeout keeps the catalog reads from queueing behind an exclusive lock
        self.db.query(MARK + "SELECT set_config('default_transaction_read_only', 'on', false), "
                      "set_config('statement_timeout', %s, false), set_config('lock_timeout', %s, false)",
                      (str(timeout_ms), str(min(timeout_ms, 5000) if timeout_ms else 5000)))

    def server(self):
        rows = self.db.query(SERVER_SQL)
        return rows[0]

    def connections(self, server, idle_limit):
        rows = self.query('cannot read pg_stat_activity', CONNECTIONS_SQL) or []
        summary = connection_summary(rows, server['max_connections'], server['reserved'])
        activity = self.query('cannot read pg_stat_activity', ACTIVITY_SQL, (idle_limit, idle_limit))
        activity = activity[0] if activity else {}
        oldest = activity.get('oldest_transaction_seconds')
        summary['other_backends'] = int(activity.get('other_backends') or 0)
        summary['oldest_transaction_seconds'] = None if oldest is None else round(float(oldest), 1)
        idle_oldest = activity.get('idle_tx_oldest')
        summary['idle_in_transaction'] = {
            'count': int(activity.get('idle_tx_count') or 0),
            'older_than': idle_limit,
            'older_than_text': format_duration(idle_limit),
            'oldest_seconds': None if idle_oldest is None else round(float(idle_oldest), 1),
        }
        return summary

    def blocking(self, server):
        if server['version_num'] >= 140000:
            sql = BLOCKING_SQL.format(wait_start='COALESCE(lw.waitstart, w.query_start)',
                                      waitstart_column=', l.waitstart')
        else:
            sql = BLOCKING_SQL.format(wait_start='w.query_start', waitstart_column='')
        rows = self.query('cannot read the lock waits', sql)
        return blocking_summary(rows or [], server['now'], self.params['query_max_length'],
                                self.params['redact_literals'])

    def preload_setting(self):
        try:
            rows = self.db.query(MARK + "SELECT current_setting('shared_preload_libraries') AS value")
            return rows[0]['value']
        except Exception:  # pylint: disable=broad-except
            return None  # needs pg_read_all_settings; inferred from the view's error instead

    def statements(self, server):
        params = self.params
        result = dict(available=False, message=None, extension_schema=None, extension_version=None,
                      preloaded=None, columns={}, order_by=params['statements_order_by'], top=[])
        if params['top_statements'] == 0:
            result['message'] = None
            return result
        status = self.query('cannot look up the %s extension' % EXTENSION, EXTENSION_SQL,
                            (EXTENSION, EXTENSION, EXTENSION))
        if not status:
            return result
        status = status[0]
        result['extension_schema'] = status['schema']
        result['extension_version'] = status['version']
        preloaded = is_preloaded(self.preload_setting())
        result['preloaded'] = preloaded
        problem = extension_problem(server['database'], status['available'], status['schema'], preloaded)
        if problem:
            result['message'] = problem
            return result
        columns = self.query('cannot read the columns of %s' % EXTENSION, VIEW_COLUMNS_SQL,
                             (status['schema'], EXTENSION))
        if columns is None:
            return result
        try:
            chosen = statement_columns([row['attname'] for row in columns])
        except ValueError as exc:
            result['message'] = to_native(exc)
            return result
        result['columns'] = {'total': chosen['total'], 'mean': chosen['mean']}
        sql = statements_sql(status['schema'], chosen, params['statements_order_by'])
        try:
            rows = self.db.query(MARK + sql, (MARK.strip() + '%', params['top_statements']))
        except Exception as exc:  # pylint: disable=broad-except
            error = self.db.error_text(exc)
            if 'shared_preload_libraries' in error:
                result['preloaded'] = False
            result['message'] = extension_problem(server['database'], True, status['schema'],
                                                  result['preloaded'], load_error=error)
            return result
        if result['preloaded'] is None:
            result['preloaded'] = True  # the view answers only when the library is loaded
        result['available'] = True
        result['top'] = statement_summary(rows, params['query_max_length'], params['redact_literals'])
        return result

    def migrations(self):
        params = self.params
        result = dict(table=None, total=0, rows=[])
        if params['migrations_count'] == 0:
            return result
        schema, name = split_table_name(params['migrations_table'])
        found = self.query('cannot look up the migrations table', FIND_TABLE_SQL, (name, schema, schema))
        if not found:
            return result
        schema, name = found[0]['schema'], found[0]['name']
        table = '%s.%s' % (quote_ident(schema), quote_ident(name))
        result['table'] = '%s.%s' % (schema, name)
        columns = self.query('cannot read the columns of %s' % result['table'], VIEW_COLUMNS_SQL, (schema, name))
        present = [row['attname'] for row in columns or []]
        wanted = [column for column in MIGRATION_COLUMNS if column in present]
        if not wanted:
            self.problems.append('%s has none of the columns %s' % (result['table'], ', '.join(MIGRATION_COLUMNS)))
            return result
        order = 'ORDER BY %s DESC NULLS LAST' % quote_ident('started_at') if 'started_at' in present else ''
        rows = self.query('cannot read %s' % result['table'],
                          MARK + 'SELECT %s, count(*) OVER () AS total FROM %s %s LIMIT %%s'
                          % (', '.join(quote_ident(c) for c in wanted), table, order), (params['migrations_count'],))
        if rows is None:
            return result
        if rows:
            result['total'] = int(rows[0]['total'])
        else:
            count = self.query('cannot count %s' % result['table'],
                               MARK + 'SELECT count(*) AS total FROM %s' % table)
            result['total'] = int(count[0]['total']) if count else 0
        result['rows'] = migration_summary(rows)
        return result


def validate(module):
    params = module.params
    for name in ('top_statements', 'migrations_count', 'query_max_length'):
        if params[name] < 0:
            module.fail_json(msg='%s: must be 0 or more, got %s' % (name, params[name]))
    if params['top_statements'] > 1000:
        module.fail_json(msg='top_statements: at most 1000, got %s' % params['top_statements'])
    if params['max_connections_pct'] < 0:
        module.fail_json(msg='max_connections_pct: must be 0 or more, got %s' % params['max_connections_pct'])
    if params['statement_timeout'] < 0:
        module.fail_json(msg='statement_timeout: must be 0 (no limit) or more seconds, got %s'
                         % params['statement_timeout'])
    if not str(params['migrations_table'] or '').strip():
        module.fail_json(msg='migrations_table: give a table name such as _prisma_migrations')
    try:
        return parse_duration(params['max_idle_in_transaction'])
    except DurationError as exc:
        module.fail_json(msg='max_idle_in_transaction: %s' % to_native(exc))


def summary_line(server, connections, blocking, statements, migrations, issues):
    parts = ['PostgreSQL %s %s' % (server['version'].split(' ')[0], server['database'])]
    parts.append('%d of %d connections (%s%%)' % (connections['total'], connections['max_connections'],
                                                  connections['used_pct']))
    blocked = len(set(p['blocked_pid'] for p in blocking))
    parts.append('%d blocked session%s' % (blocked, '' if blocked == 1 else 's'))
    if statements['available']:
        parts.append('%d top statements' % len(statements['top']))
    else:
        parts.append('no top statements')
    if migrations['table']:
        parts.append('%d migrations' % migrations['total'])
    parts.append('%d issue%s' % (len(issues), '' if len(issues) == 1 else 's') if issues else 'no issue')
    return ', '.join(parts[:1]) + ': ' + ', '.join(parts[1:])


def run(module):
    idle_limit = validate(module)
    db = PostgresConnection(module, APPLICATION_NAME, min_version=MIN_SERVER_VERSION)
    try:
        diag = Diagnosis(module, db)
        try:
            diag.prepare_session()
            server = diag.server()
        except Exception as exc:  # pylint: disable=broad-except
            module.fail_json(msg='cannot read the server settings on %s: %s' % (db.target, db.error_text(exc)),
                             changed=False)
        connections = diag.connections(server, idle_limit)
        blocking = diag.blocking(server)
        statements = diag.statements(server)
        migrations = diag.migrations()
    finally:
        db.close()

    issues = diag.problems + evaluate(
        connections=connections, blocking=blocking, statements=statements, migrations=migrations,
        idle_in_transaction=connections['idle_in_transaction'],
        max_connections_pct=module.params['max_connections_pct'])
    for issue in issues:
        module.warn(issue)
    module.exit_json(
        changed=False,
        server=dict(version=server['version'], version_num=server['version_num'], database=server['database'],
                    max_connections=server['max_connections'],
                    superuser_reserved_connections=server['reserved']),
        connections=connections,
        blocking=blocking,
        blocking_roots=root_blockers(blocking),
        statements=statements,
        migrations=migrations,
        issues=issues,
        msg=summary_line(server, connections, blocking, statements, migrations, issues),
    )


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        top_statements=dict(type='int', default=10),
        statements_order_by=dict(type='str', choices=['total_time', 'mean_time', 'calls'], default='total_time'),
        query_max_length=dict(type='int', default=200),
        redact_literals=dict(type='bool', default=True),
        migrations_table=dict(type='str', default='_prisma_migrations'),
        migrations_count=dict(type='int', default=5),
        max_connections_pct=dict(type='float', default=80),
        max_idle_in_transaction=dict(type='str', default='5m'),
        statement_timeout=dict(type='float', default=10),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=postgres_mutually_exclusive(),
        supports_check_mode=True,
    )
    try:
        run(module)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='pg_diagnose internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                         changed=False)


if __name__ == '__main__':
    main()
