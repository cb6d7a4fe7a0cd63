#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: pg_activity
short_description: Find and end long-running PostgreSQL queries and idle transactions
version_added: 1.0.0
description:
  - Lists the client sessions of a PostgreSQL server that have been running a statement, or idling in an
    open transaction, for at least O(older_than), and optionally cancels or terminates them. This is the
    runbook's "kill long-running queries" step (Database Connection Issues) as one task.
  - Only client backends (C(backend_type = 'client backend')) are considered. The module's own session,
    replication senders, autovacuum and every other background process are never selected.
  - The age of an V(active) session is counted from C(query_start) (how long its statement runs); the age of
    an V(idle in transaction) session, and of every other state, from C(state_change) (how long it has been
    idle with the transaction open). The server's clock is used, not the controller's.
  - The module connects once. It reads C(pg_stat_activity) with one statement, applies the selection rules
    (C(plugins/module_utils/pg_activity_rules.py)), then ends all selected sessions with one more statement,
    however many there are. A session is only signalled when it is still the same session doing the same
    thing (same C(pid), C(backend_start), C(state) and C(state_change)), so a reused pid or a session that
    has meanwhile moved on to a new statement is left alone.
  - Sessions the connecting role is not allowed to signal are reported with RV(sessions[].outcome=permission_denied)
    instead of failing the whole task.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.postgres
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - In check mode the selected sessions are listed (RV(would_end)) and none is signalled;
        RV(ignore:changed) is V(true) when the action would end at least one session.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  action:
    description:
      - V(report) lists the selected sessions and changes nothing.
      - V(cancel) cancels their current statement (C(pg_cancel_backend)); the session and, inside a
        transaction block, its transaction stay open. An idle-in-transaction session has no statement to
        cancel, so it is not affected (the module warns).
      - V(terminate) ends the sessions (C(pg_terminate_backend)), rolling back their open transactions.
      - V(cancel_then_terminate) cancels all selected sessions with one statement, waits O(grace_period)
        seconds, then terminates with one statement those that are still doing the same thing (the same
        statement still running, or still idle in the same transaction).
    type: str
    choices: [report, cancel, terminate, cancel_then_terminate]
    default: report
  older_than:
    description:
      - Minimum age of a session to be selected.
      - A number of seconds (V(90), V(2.5)) or number+unit groups with the units C(d), C(h), C(m) and C(s),
        each at most once (V(30s), V(5m), V(1h30m), V(1h 30m)). V(0) selects every session in O(states).
      - The default matches the runbook's C(query_start < now() - interval '5 minutes').
    type: str
    default: 5m
  states:
    description:
      - The C(pg_stat_activity.state) values that may be selected.
      - V(idle) sessions are not selected unless listed here (they hold no transaction open, but listing
        V(idle) lets you end leaked connections idle for longer than O(older_than)).
    type: list
    elements: str
    choices: [active, idle, idle in transaction, idle in transaction (aborted), fastpath function call, disabled]
    default: [active, idle in transaction, idle in transaction (aborted)]
  exclude_users:
    description:
      - Never select sessions of these roles (C(usename)).
      - Exact names or shell-style wildcards (C(*), C(?), C([...])), case-sensitive.
    type: list
    elements: str
    default: []
  exclude_applications:
    description:
      - Never select sessions whose C(application_name) matches one of these names or wildcards,
        for example C(pg_dump) or C(pgbackrest*).
    type: list
    elements: str
    default: []
  exclude_databases:
    description:
      - Never select sessions connected to these databases (names or wildcards).
      - Wins over O(include_databases).
    type: list
    elements: str
    default: []
  include_databases:
    description:
      - When set, only select sessions connected to these databases (names or wildcards).
    type: list
    elements: str
    aliases: [database]
  grace_period:
    description:
      - Seconds to wait between cancelling and terminating for O(action=cancel_then_terminate).
    type: float
    default: 5
  query_max_length:
    description:
      - Longest query text returned in RV(sessions[].query), in characters; V(0) returns an empty string.
      - The text is also limited by the server's C(track_activity_query_size) (1024 bytes by default).
    type: int
    default: 200
  redact_literals:
    description:
      - Replace the literals of the returned query texts by C(?) (strings, including C(E'..'), C(X'..'),
        dollar-quoted C($$..$$) bodies, and numbers), so values such as passwords or personal data in the
        statements are not copied into Ansible output. Identifiers, keywords and C($1) parameters are kept.
      - Set to V(false) to see the statements as the server shows them.
    type: bool
    default: true
notes:
  - Without superuser rights or the C(pg_read_all_stats) role, other roles' sessions show no timestamps and
    no query text, so their age is unknown and they are never selected.
  - C(pg_terminate_backend) returns as soon as the signal is sent; the sessions disappear from
    C(pg_stat_activity) a moment later.
seealso:
  - name: pg_stat_activity
    description: The view the module reads.
    link: https://www.postgresql.org/docs/current/monitoring-stats.html#MONITORING-PG-STAT-ACTIVITY-VIEW
  - name: Server signaling functions
    description: C(pg_cancel_backend) and C(pg_terminate_backend), and who may call them.
    link: https://www.postgresql.org/docs/current/functions-admin.html#FUNCTIONS-ADMIN-SIGNAL
"""

EXAMPLES = r"""
- name: Report queries and idle transactions older than 5 minutes
  arizu.ops.pg_activity:
    login_host: 127.0.0.1
    login_password: "{{ postgres_password }}"
  register: long_running

- name: Show them
  ansible.builtin.debug:
    msg: "{{ long_running.msg }}"

- name: Runbook mitigation - end statements running for more than 5 minutes in the app database
  arizu.ops.pg_activity:
    login_host: db.internal
    login_user: ops
    login_password: "{{ ops_db_password }}"
    login_db: arizu
    include_databases: [arizu]
    exclude_applications: [pg_dump, "pgbackrest*"]
    states: [active]
    older_than: 5m
    action: cancel_then_terminate
    grace_period: 10

- name: Terminate transactions left open for over an hour, connecting with a DSN
  arizu.ops.pg_activity:
    dsn: "postgresql://ops:{{ ops_db_password | urlencode }}@db.internal:5432/arizu?sslmode=require"
    states: [idle in transaction, idle in transaction (aborted)]
    older_than: 1h
    action: terminate
  register: ended

- name: What would be ended (dry run)
  arizu.ops.pg_activity:
    login_unix_socket: /var/run/postgresql
    older_than: 90
    action: terminate
  check_mode: true
  register: dry_run
"""

RETURN = r"""
sessions:
  description:
    - The selected sessions, oldest first.
  returned: always
  type: list
  elements: dict
  sample:
    - pid: 4711
      user: arizu
      database: arizu
      application: arizu-api
      client_addr: 10.0.3.7
      state: active
      backend_start: "2025-01-01T10:00:00.123456+00:00"
      duration: 412.7
      wait_event_type: Lock
      wait_event: transactionid
      query: "UPDATE accounts SET balance = balance - ? WHERE id = ?"
      outcome: terminated
  contains:
    pid:
      description: Process id of the backend.
      type: int
      returned: always
    user:
      description: Role of the session (C(usename)).
      type: str
      returned: always
    database:
      description: Database of the session (C(datname)).
      type: str
      returned: always
    application:
      description: C(application_name) of the session; may be empty.
      type: str
      returned: always
    client_addr:
      description: Client IP address; V(null) for Unix socket connections.
      type: str
      returned: always
    state:
      description: C(pg_stat_activity.state) when the sessions were read.
      type: str
      returned: always
    backend_start:
      description: When the session was opened (ISO 8601 with time zone).
      type: str
      returned: always
    duration:
      description:
        - Age in seconds (one decimal), from C(query_start) for V(active) sessions and from
          C(state_change) for idle-in-transaction ones.
      type: float
      returned: always
    wait_event_type:
      description: What the session waits for (C(Lock), C(IO), C(Client), ...), or V(null).
      type: str
      returned: always
    wait_event:
      description: The wait event's name, or V(null).
      type: str
      returned: always
    query:
      description:
        - The current (or, when idle, the last) statement, whitespace collapsed, literals replaced
          by C(?) when O(redact_literals=true), cut to O(query_max_length) characters.
      type: str
      returned: always
    outcome:
      description:
        - V(reported) for O(action=report); V(would_end) in check mode.
        - V(cancelled) or V(terminated) when the signal was sent.
        - V(gone) when the session had ended or moved on to something else before the signal.
        - V(not_signalled) when the server function returned false.
        - V(permission_denied) when the connecting role may not signal the session.
      type: str
      returned: always
      choices: [reported, would_end, cancelled, terminated, gone, not_signalled, permission_denied]
ended:
  description:
    - Number of sessions actually signalled, that is the server function returned true
      (C(pg_terminate_backend), C(pg_cancel_backend), or either of them for V(cancel_then_terminate)).
    - Always V(0) in check mode and for O(action=report).
  returned: always
  type: int
  sample: 21
cancelled:
  description: Sessions for which C(pg_cancel_backend) returned true.
  returned: when O(action) is V(cancel) or V(cancel_then_terminate) and not in check mode
  type: int
  sample: 20
terminated:
  description: Sessions for which C(pg_terminate_backend) returned true.
  returned: when O(action) is V(terminate) or V(cancel_then_terminate) and not in check mode
  type: int
  sample: 1
would_end:
  description: Number of selected sessions the action would signal (V(0) for O(action=report)).
  returned: in check mode
  type: int
  sample: 21
action:
  description: The O(action) that was requested.
  returned: always
  type: str
  sample: terminate
older_than:
  description: O(older_than) in seconds.
  returned: always
  type: float
  sample: 300.0
elapsed_ms:
  description:
    - Time the module took from connecting to returning, in milliseconds (without Ansible's own cost of running a
      task, which on a small machine is most of the task's duration).
  returned: always
  type: float
  sample: 41.7
msg:
  description: One human-readable line summarizing the result.
  returned: always
  type: str
  sample: "terminated 21 of 21 sessions older than 5m (active, idle in transaction, idle in transaction (aborted))"
"""

import time

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.pg_activity_rules import (
    ALL_STATES,
    DEFAULT_STATES,
    DurationError,
    format_duration,
    parse_duration,
    select_sessions,
    session_summary,
)
from ansible_collections.arizu.ops.plugins.module_utils.postgres_common import (
    PostgresConnection,
    postgres_common_argument_spec,
    postgres_mutually_exclusive,
)

APPLICATION_NAME = 'arizu.ops.pg_activity'
ACTIONS = ['report', 'cancel', 'terminate', 'cancel_then_terminate']
MIN_SERVER_VERSION = 100000  # backend_type appeared in PostgreSQL 10

# May the connecting role signal the backend of role r? (the server's own rule: a superuser's
# session needs a superuser; otherwise membership in the session's role or in pg_signal_backend)
# (a role dropped while its session lives on has no pg_roles row: pg_has_role(oid) would raise)
_CAN_SIGNAL = (
    "COALESCE(CASE WHEN r.oid IS NULL THEN "
    "current_setting('is_superuser') = 'on' OR pg_has_role('pg_signal_backend', 'USAGE') "
    "WHEN r.rolsuper AND current_setting('is_superuser') <> 'on' THEN false "
    "ELSE pg_has_role(a.usesysid, 'USAGE') OR pg_has_role('pg_signal_backend', 'USAGE') END, false)"
)

# One statement: every client backend but our own, with the server's clock. The selection
# rules themselves are applied in Python (pg_activity_rules.select_sessions, unit-tested).
FETCH_SQL = (
    "SELECT a.pid, a.backend_type, a.usename, a.datname, a.application_name, "
    "host(a.client_addr) AS client_addr, a.state, a.backend_start, a.xact_start, a.query_start, "
    "a.state_change, a.wait_event_type, a.wait_event, a.query, "
    "statement_timestamp() AS now, pg_backend_pid() AS own_pid, " + _CAN_SIGNAL + " AS can_signal "
    "FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid "
    "WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()"
)

# One statement that signals every selected session that is still the same session doing the
# same thing; one result row per selected session (signalled is NULL when it was not signalled).
SIGNAL_SQL = (
    "SELECT t.pid, a.pid IS NOT NULL AS present, " + _CAN_SIGNAL + " AS can_signal, "
    "CASE WHEN a.pid IS NOT NULL AND " + _CAN_SIGNAL + " THEN {function}(a.pid) END AS signalled "
    "FROM unnest(%s::int[], %s::timestamptz[], %s::text[], %s::timestamptz[], %s::timestamptz[]) "
    "AS t(pid, backend_start, state, state_change, query_start) "
    "LEFT JOIN pg_stat_activity a ON a.pid = t.pid AND a.backend_start = t.backend_start "
    "AND a.backend_type = 'client backend' AND a.pid <> pg_backend_pid() "
    "AND a.state = t.state AND a.state_change IS NOT DISTINCT FROM t.state_change "
    "AND a.query_start IS NOT DISTINCT FROM t.query_start "
    "LEFT JOIN pg_roles r ON r.oid = a.usesysid"
)
SIGNAL_FUNCTIONS = {'cancel': 'pg_cancel_backend', 'terminate': 'pg_terminate_backend'}


def signal(db, function, sessions):
    """Signal *sessions* (selected rows) in one statement; return {pid: outcome}."""
    sql = SIGNAL_SQL.format(function=SIGNAL_FUNCTIONS[function])
    args = (
        [s['pid'] for s in sessions],
        [s['backend_start'] for s in sessions],
        [s['state'] for s in sessions],
        [s['state_change'] for s in sessions],
        [s['query_start'] for s in sessions],
    )
    done = 'cancelled' if function == 'cancel' else 'terminated'
    outcomes = {}
    for row in db.query(sql, args):
        if not row['present']:
            outcome = 'gone'
        elif not row['can_signal']:
            outcome = 'permission_denied'
        elif row['signalled']:
            outcome = done
        else:
            outcome = 'not_signalled'
        outcomes[row['pid']] = outcome
    return outcomes


def validate(module):
    params = module.params
    try:
        older_than = parse_duration(params['older_than'])
    except DurationError as exc:
        module.fail_json(msg='older_than: %s' % to_native(exc))
    if params['grace_period'] < 0:
        module.fail_json(msg='grace_period: must be 0 or more seconds, got %s' % params['grace_period'])
    if params['query_max_length'] < 0:
        module.fail_json(msg='query_max_length: must be 0 or more, got %s' % params['query_max_length'])
    if not params['states']:
        module.fail_json(msg='states: give at least one state')
    return older_than


def describe(params, older_than):
    states = params['states']
    text = 'older than %s' % format_duration(older_than)
    if tuple(states) != DEFAULT_STATES:
        text += ' (%s)' % ', '.join(states)
    return text


def run(module):
    started = time.monotonic()
    params = module.params
    older_than = validate(module)
    action = params['action']
    states = params['states']

    db = PostgresConnection(module, APPLICATION_NAME, min_version=MIN_SERVER_VERSION)
    try:
        try:
            rows = db.query(FETCH_SQL)
        except Exception as exc:  # pylint: disable=broad-except
            module.fail_json(msg='cannot read pg_stat_activity on %s: %s' % (db.target, db.error_text(exc)))
        now = rows[0]['now'] if rows else None
        own_pid = rows[0]['own_pid'] if rows else None
        selected = select_sessions(
            rows, now, older_than, states=states,
            exclude_users=params['exclude_users'],
            exclude_applications=params['exclude_applications'],
            exclude_databases=params['exclude_databases'],
            include_databases=params['include_databases'],
            own_pid=own_pid,
        )
        outcomes = {}
        result = dict(action=action, older_than=older_than, ended=0)
        criteria = describe(params, older_than)
        signallable = [s for s in selected if s['can_signal']]
        denied = len(selected) - len(signallable)

        if action == 'cancel' and any(s['state'] != 'active' for s in selected):
            module.warn('action=cancel does not end idle-in-transaction sessions (there is no statement to '
                        'cancel); use terminate or cancel_then_terminate for them')

        if action == 'report':
            outcomes = dict((s['pid'], 'reported') for s in selected)
            if module.check_mode:
                result['would_end'] = 0
            msg = '%d session%s %s' % (len(selected), '' if len(selected) == 1 else 's', criteria)
            if selected:
                msg += ', oldest pid %s at %.1f s' % (selected[0]['pid'], selected[0]['age'])
        elif module.check_mode:
            for s in selected:
                outcomes[s['pid']] = 'would_end' if s['can_signal'] else 'permission_denied'
            result['would_end'] = len(signallable)
            verb = action.replace('_', ' ')
            msg = 'would %s %d session%s %s' % (verb, len(signallable), '' if len(signallable) == 1 else 's',
                                                criteria)
        else:
            first = second = {}
            try:
                if selected:
                    first = signal(db, 'terminate' if action == 'terminate' else 'cancel', selected)
                still = [s for s in selected if first.get(s['pid']) == 'cancelled']
                if action == 'cancel_then_terminate' and still:
                    time.sleep(params['grace_period'])
                    second = signal(db, 'terminate', still)
            except Exception as exc:  # pylint: disable=broad-except
                module.fail_json(msg='cannot %s sessions on %s: %s' % (action.replace('_', ' '), db.target,
                                                                       db.error_text(exc)))
            # a session that is gone (or changed) after the cancel was ended by the cancel
            outcomes = dict(first)
            outcomes.update((pid, 'terminated') for pid, outcome in second.items() if outcome == 'terminated')
            cancelled = sum(1 for outcome in first.values() if outcome == 'cancelled')
            terminated = sum(1 for outcome in first.values() if outcome == 'terminated') + \
                sum(1 for outcome in second.values() if outcome == 'terminated')
            ended = sum(1 for outcome in outcomes.values() if outcome in ('cancelled', 'terminated'))
            result['ended'] = ended
            if action in ('cancel', 'cancel_then_terminate'):
                result['cancelled'] = cancelled
            if action in ('terminate', 'cancel_then_terminate'):
                result['terminated'] = terminated
            verb = {'cancel': 'cancelled', 'terminate': 'terminated', 'cancel_then_terminate': 'ended'}[action]
            plural = '' if len(selected) == 1 else 's'
            msg = '%s %d of %d session%s %s' % (verb, ended, len(selected), plural, criteria)
            if action == 'cancel_then_terminate' and selected:
                msg += ' (%d cancelled, %d of them still there after %gs and terminated)' % (
                    cancelled, terminated, params['grace_period'])
            gone = sum(1 for outcome in first.values() if outcome in ('gone', 'not_signalled'))
            if gone:
                msg += '; %d had already finished' % gone
        if denied:
            msg += '; %d not allowed to signal (permission denied)' % denied
    finally:
        db.close()

    sessions = []
    for s in selected:
        item = session_summary(s, params['query_max_length'], params['redact_literals'])
        item['outcome'] = outcomes.get(s['pid'], 'gone')
        sessions.append(item)
    result['sessions'] = sessions
    result['msg'] = msg
    if module.check_mode:
        result['changed'] = action != 'report' and result.get('would_end', 0) > 0
    else:
        result['changed'] = result['ended'] > 0
    result['elapsed_ms'] = round((time.monotonic() - started) * 1000.0, 1)
    module.exit_json(**result)


def main():
    argument_spec = postgres_common_argument_spec()
    argument_spec.update(
        action=dict(type='str', choices=ACTIONS, default='report'),
        older_than=dict(type='str', default='5m'),
        states=dict(type='list', elements='str', choices=list(ALL_STATES), default=list(DEFAULT_STATES)),
        exclude_users=dict(type='list', elements='str', default=[]),
        exclude_applications=dict(type='list', elements='str', default=[]),
        exclude_databases=dict(type='list', elements='str', default=[]),
        include_databases=dict(type='list', elements='str', aliases=['database']),
        grace_period=dict(type='float', default=5),
        query_max_length=dict(type='int', default=200),
        redact_literals=dict(type='bool', default=True),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        mutually_exclusive=postgres_mutually_exclusive(),
        supports_check_mode=True,
    )
    try:
        run(module)
    except Exception as exc:  # pylint: disable=broad-except
        module.fail_json(msg='pg_activity internal error: %s: %s' % (type(exc).__name__, to_native(exc)),
                         changed=False)


if __name__ == '__main__':
    main()
