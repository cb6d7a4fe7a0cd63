# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.pg_diagnose without a server: options, clear failures, the summary line.

The module against a real PostgreSQL is tested through playbooks/pg_diagnostics.yml in
tests/integration/test_pg_playbooks.py.
"""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import postgres_common
from ansible_collections.arizu.ops.plugins.modules import pg_diagnose

PASSWORD = 'pW-diag-s3cret-5e2'


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            pg_diagnose.main()
    out = capsys.readouterr().out
    assert PASSWORD not in out and 'Traceback' not in out
    return exc.value.code, json.loads(out)


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


@pytest.mark.parametrize('args, message', [
    (dict(top_statements=-1), 'top_statements: must be 0 or more'),
    (dict(top_statements=5000), 'top_statements: at most 1000'),
    (dict(migrations_count=-2), 'migrations_count: must be 0 or more'),
    (dict(query_max_length=-1), 'query_max_length: must be 0 or more'),
    (dict(max_connections_pct=-1), 'max_connections_pct: must be 0 or more'),
    (dict(statement_timeout=-1), 'statement_timeout: must be 0 (no limit) or more seconds'),
    (dict(max_idle_in_transaction='soon'), 'max_idle_in_transaction: cannot parse'),
    (dict(migrations_table=' '), 'migrations_table: give a table name'),
])
def test_invalid_options(capsys, args, message):
    code, result = run_module(capsys, login_host='127.0.0.1', login_port=closed_port(), login_password=PASSWORD,
                              **args)
    assert code == 1 and result['failed'] is True
    assert message in result['msg'], result['msg']


def test_dsn_and_login_options_exclude_each_other(capsys):
    code, result = run_module(capsys, dsn='postgresql://ops:%s@db/arizu' % PASSWORD, login_host='db')
    assert code == 1 and 'mutually exclusive' in result['msg']


def test_connection_refused(capsys):
    port = closed_port()
    code, result = run_module(capsys, login_host='127.0.0.1', login_port=port, login_user='ops',
                              login_password=PASSWORD, login_db='arizu', connect_timeout=2)
    assert code == 1
    assert result['msg'].startswith('cannot connect to PostgreSQL as ops@127.0.0.1:%d/arizu: ' % port)


def test_missing_psycopg2(capsys, monkeypatch):
    monkeypatch.setattr(postgres_common, 'HAS_PSYCOPG2', False)
    monkeypatch.setattr(postgres_common, 'PSYCOPG2_IMPORT_ERROR', 'ImportError: No module named psycopg2')
    code, result = run_module(capsys, login_password=PASSWORD)
    assert code == 1 and 'Failed to import the required Python library (psycopg2)' in result['msg']


def test_summary_line():
    server = dict(version='15.10 (Debian 15.10-1)', database='arizu')
    connections = dict(total=42, max_connections=200, used_pct=21.0)
    blocking = [dict(blocked_pid=2, blocking_pid=1), dict(blocked_pid=2, blocking_pid=3)]
    statements = dict(available=True, top=[{}] * 10)
    migrations = dict(table='public._prisma_migrations', total=24)
    assert pg_diagnose.summary_line(server, connections, blocking, statements, migrations, ['x']) == (
        'PostgreSQL 15.10 arizu: 42 of 200 connections (21.0%), 1 blocked session, 10 top statements, '
        '24 migrations, 1 issue')
    assert pg_diagnose.summary_line(server, connections, [], dict(available=False), dict(table=None), []) == (
        'PostgreSQL 15.10 arizu: 42 of 200 connections (21.0%), 0 blocked sessions, no top statements, no issue')


def test_every_statement_carries_the_marker():
    """pg_stat_statements' top list leaves the module's own statements out by this marker."""
    for name in ('SERVER_SQL', 'CONNECTIONS_SQL', 'ACTIVITY_SQL', 'BLOCKING_SQL', 'EXTENSION_SQL',
                 'VIEW_COLUMNS_SQL', 'FIND_TABLE_SQL'):
        assert getattr(pg_diagnose, name).startswith(pg_diagnose.MARK), name
