# -*- coding: utf-8 -*-
# SPDX-License-Identifier: GPL-3.0-or-later
"""arizu.ops.pg_activity without a server: options, connection parameters, clear failures.

The module against a real PostgreSQL is tested in tests/integration/test_pg_activity.py.
"""

from __future__ import annotations

import json
import socket

import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.arizu.ops.plugins.module_utils import postgres_common
from ansible_collections.arizu.ops.plugins.module_utils.postgres_common import (
    connection_params,
    describe_target,
    postgres_common_argument_spec,
    sanitize,
)
from ansible_collections.arizu.ops.plugins.modules import pg_activity

PASSWORD = 'pW-unit-s3cret-9f1'


def run_module(capsys, **args):
    with patch_module_args(args):
        with pytest.raises(SystemExit) as exc:
            pg_activity.main()
    out = capsys.readouterr().out
    return exc.value.code, json.loads(out), out


def closed_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_argument_spec_names():
    spec = postgres_common_argument_spec()
    assert set(spec) == {'login_host', 'login_port', 'login_user', 'login_password', 'login_db',
                         'login_unix_socket', 'ssl_mode', 'ca_cert', 'connect_timeout', 'dsn'}
    assert spec['login_port']['default'] == 5432
    assert spec['login_user']['default'] == 'postgres'
    assert spec['connect_timeout']['default'] == 10
    assert spec['login_password']['no_log'] is True and spec['dsn']['no_log'] is True
    assert 'db' in spec['login_db']['aliases']


@pytest.mark.parametrize('params, expected', [
    (dict(login_host='db', login_port=5433, login_user='ops', login_password='pw', login_db='arizu',
          connect_timeout=10),
     dict(host='db', port=5433, user='ops', password='pw', dbname='arizu', connect_timeout=10)),
    (dict(login_unix_socket='/var/run/postgresql', login_port=5432, login_user='postgres', connect_timeout=3),
     dict(host='/var/run/postgresql', port=5432, user='postgres', connect_timeout=3)),
    (dict(login_host='db', login_unix_socket='/sock', login_port=5432, ssl_mode='require', ca_cert='/ca.pem'),
     dict(host='db', port=5432, sslmode='require', sslrootcert='/ca.pem')),
    (dict(dsn='host=db dbname=x', login_port=5432, login_user='postgres', connect_timeout=10),
     dict(dsn='host=db dbname=x', connect_timeout=10)),
    (dict(dsn='host=db dbname=x', login_db='y', ssl_mode='verify-full', connect_timeout=10),
     dict(dsn='host=db dbname=x', dbname='y', sslmode='verify-full', connect_timeout=10)),
])
def test_connection_params(params, expected):
    expected = dict(expected, application_name='arizu.ops.pg_activity')
    assert connection_params(params, 'arizu.ops.pg_activity') == expected


def test_connection_params_dsn_timeout_wins():
    params = dict(dsn='host=db connect_timeout=3', connect_timeout=10)
    kwargs = connection_params(params, 'x', dsn_keywords={'host': 'db', 'connect_timeout': '3'})
    assert 'connect_timeout' not in kwargs


@pytest.mark.parametrize('params, keywords, text', [
    (dict(login_host='db', login_port=5433, login_user='ops', login_db='arizu'), None, 'ops@db:5433/arizu'),
    (dict(login_port=5432, login_user='ops'), None, 'ops@default host:5432/ops'),
    (dict(dsn='x'), dict(host='h', port='6432', user='u', dbname='d', password='p'), 'u@h:6432/d'),
    (dict(dsn='x', login_db='other'), dict(host='h'), 'default user@h:5432/other'),
])
def test_describe_target(params, keywords, text):
    assert describe_target(params, keywords) == text


def test_sanitize():
    assert sanitize('FATAL: bad pw %s in postgresql://u:%s@h/db' % (PASSWORD, PASSWORD), [PASSWORD, '']) == \
        'FATAL: bad pw ******** in postgresql://u:********@h/db'
    dsn = 'postgresql://u:%s@h/db' % PASSWORD
    assert sanitize('invalid: %s' % dsn, [PASSWORD, dsn]) == 'invalid: ********'
    assert sanitize(None, [PASSWORD]) == ''


def test_parse_dsn_error_never_quotes_the_dsn():
    with pytest.raises(ValueError) as exc:
        postgres_common.parse_dsn('host=db password=%s junk' % PASSWORD)
    assert PASSWORD not in str(exc.value)
    keywords = postgres_common.parse_dsn('postgresql://ops:%s@db:6432/arizu' % PASSWORD)
    assert keywords['password'] == PASSWORD and keywords['port'] == '6432'


@pytest.mark.parametrize('args, message', [
    (dict(older_than='5 minutes'), "older_than: cannot parse '5 minutes'"),
    (dict(older_than='-1m'), 'older_than: must not be negative'),
    (dict(grace_period=-1), 'grace_period: must be 0 or more'),
    (dict(query_max_length=-1), 'query_max_length: must be 0 or more'),
    (dict(states=[]), 'states: give at least one state'),
    (dict(states=['waiting']), 'value of states must be one or more of'),
    (dict(action='kill'), 'value of action must be one of'),
    (dict(dsn='host=db', login_host='db'), 'mutually exclusive: dsn|login_host'),
    (dict(dsn='host=db', login_password=PASSWORD), 'mutually exclusive: dsn|login_password'),
    (dict(connect_timeout=-1), 'connect_timeout: must be 0'),
])
def test_invalid_options(capsys, args, message):
    code, result, out = run_module(capsys, **args)
    assert code == 1 and result['failed'] is True
    assert message in result['msg'], result['msg']
    assert PASSWORD not in out and 'Traceback' not in out


def test_bad_dsn_is_never_echoed(capsys):
    dsn = 'host=127.0.0.1 password=%s this-is-not-valid' % PASSWORD
    code, result, out = run_module(capsys, dsn=dsn)
    assert code == 1
    assert result['msg'].startswith('dsn: not a valid libpq connection string')
    assert PASSWORD not in out and 'this-is-not-valid' not in out


def test_connection_refused_names_the_target_not_the_password(capsys):
    port = closed_port()
    code, result, out = run_module(capsys, login_host='127.0.0.1', login_port=port, login_password=PASSWORD,
                                   connect_timeout=2)
    assert code == 1
    assert result['msg'].startswith('cannot connect to PostgreSQL as postgres@127.0.0.1:%d/postgres: ' % port)
    assert 'refused' in result['msg'] or 'failed' in result['msg']
    assert PASSWORD not in out


def test_connection_refused_with_dsn(capsys):
    port = closed_port()
    code, result, out = run_module(capsys, dsn='postgresql://ops:%s@127.0.0.1:%d/arizu' % (PASSWORD, port))
    assert code == 1
    assert result['msg'].startswith('cannot connect to PostgreSQL as ops@127.0.0.1:%d/arizu: ' % port)
    assert PASSWORD not in out


def test_missing_psycopg2(capsys, monkeypatch):
    monkeypatch.setattr(postgres_common, 'HAS_PSYCOPG2', False)
    monkeypatch.setattr(postgres_common, 'PSYCOPG2_IMPORT_ERROR', 'ImportError: No module named psycopg2')
    code, result, _out = run_module(capsys, login_host='127.0.0.1')
    assert code == 1
    assert 'Failed to import the required Python library (psycopg2)' in result['msg']


def test_signal_sql_is_one_statement_with_bound_arrays():
    sql = pg_activity.SIGNAL_SQL.format(function='pg_terminate_backend')
    assert sql.count('%s') == 5 and ';' not in sql
    assert 'unnest(%s::int[], %s::timestamptz[], %s::text[], %s::timestamptz[], %s::timestamptz[])' in sql
    assert 'a.backend_start = t.backend_start' in sql and "a.backend_type = 'client backend'" in sql
    assert 'a.pid <> pg_backend_pid()' in sql
    assert "backend_type = 'client backend'" in pg_activity.FETCH_SQL
    assert 'pg_backend_pid()' in pg_activity.FETCH_SQL
