# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared PostgreSQL connection handling of the arizu.ops modules.

The options are named as community.postgresql names them (``login_host``,
``login_port``, ``login_user``, ``login_password``, ``login_db``,
``login_unix_socket``, ``ssl_mode``, ``ca_cert``, ``connect_timeout``) plus
``dsn`` (a libpq connection string or URI).  Documented by the
``arizu.ops.postgres`` doc fragment.

The connection is made once, with psycopg2, from keyword arguments (never a
command line), and every message that leaves here is scrubbed of the password
and the DSN.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native

PSYCOPG2_IMPORT_ERROR = None
try:
    import psycopg2
    import psycopg2.extensions
    import psycopg2.extras
    HAS_PSYCOPG2 = True
except ImportError:  # pragma: no cover - exercised through ensure_psycopg2
    psycopg2 = None
    PSYCOPG2_IMPORT_ERROR = traceback.format_exc()
    HAS_PSYCOPG2 = False

SSL_MODES = ['allow', 'disable', 'prefer', 'require', 'verify-ca', 'verify-full']
REDACTED = '********'

#: Options that cannot be combined with ``dsn`` (the DSN carries them).
DSN_EXCLUSIVE = ('login_host', 'login_port', 'login_user', 'login_password', 'login_unix_socket')


def postgres_common_argument_spec():
    """The connection options, for ``AnsibleModule(argument_spec=...)``."""
    return dict(
        login_host=dict(type='str', aliases=['host']),
        login_port=dict(type='int', default=5432, aliases=['port']),
        login_user=dict(type='str', default='postgres', aliases=['login']),
        login_password=dict(type='str', no_log=True),
        login_db=dict(type='str', aliases=['db']),
        login_unix_socket=dict(type='str', aliases=['unix_socket']),
        ssl_mode=dict(type='str', choices=SSL_MODES),
        ca_cert=dict(type='path', aliases=['ssl_rootcert']),
        connect_timeout=dict(type='int', default=10),
        dsn=dict(type='str', no_log=True),
    )


def postgres_mutually_exclusive():
    """``mutually_exclusive`` for ``AnsibleModule``: ``dsn`` against the login_* options.

    Ansible checks this on the options the user gave, so the defaults of
    ``login_port`` and ``login_user`` do not count.
    """
    return [('dsn', name) for name in DSN_EXCLUSIVE]


def sanitize(text, secrets):
    """*text* with every secret (the password, the DSN, ...) replaced by ``********``."""
    text = to_native(text if text is not None else '')
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return text.strip()


def parse_dsn(dsn):
    """The DSN's keywords as a dict; ``ValueError`` (with no DSN text in it) when invalid."""
    try:
        return psycopg2.extensions.parse_dsn(dsn)
    except Exception:  # pylint: disable=broad-except
        # libpq's message quotes the DSN (maybe the password): never pass it on
        raise ValueError('dsn: not a valid libpq connection string (host=... dbname=...) '
                         'or postgresql:// URI')


def connection_params(params, application_name, dsn_keywords=None):
    """Keyword arguments for ``psycopg2.connect`` from the module parameters.

    With ``dsn`` the DSN is passed as it is, and only what the user set besides
    it is added: ``login_db`` and ``ssl_mode`` override the DSN's, and
    ``connect_timeout`` applies when the DSN has none.  ``application_name``
    is always *application_name*, so the module's session is recognisable.
    """
    kwargs = {}
    dsn = params.get('dsn')
    if dsn:
        kwargs['dsn'] = dsn
        dsn_keywords = dsn_keywords or {}
        if 'connect_timeout' not in dsn_keywords and params.get('connect_timeout') is not None:
            kwargs['connect_timeout'] = params['connect_timeout']
    else:
        host = params.get('login_host') or params.get('login_unix_socket')
        if host:
            kwargs['host'] = host
        if params.get('login_port') is not None:
            kwargs['port'] = params['login_port']
        if params.get('login_user'):
            kwargs['user'] = params['login_user']
        if params.get('login_password'):
            kwargs['password'] = params['login_password']
        if params.get('connect_timeout') is not None:
            kwargs['connect_timeout'] = params['connect_timeout']
    if params.get('login_db'):
        kwargs['dbname'] = params['login_db']
    if params.get('ssl_mode'):
        kwargs['sslmode'] = params['ssl_mode']
    if params.get('ca_cert'):
        kwargs['sslrootcert'] = params['ca_cert']
    kwargs['application_name'] = application_name
    return kwargs


def describe_target(params, dsn_keywords=None):
    """``user@host:port/db`` for messages (never a password)."""
    if params.get('dsn'):
        kw = dsn_keywords or {}
        host = kw.get('host') or kw.get('hostaddr') or 'default host'
        port = kw.get('port') or '5432'
        user = kw.get('user') or 'default user'
        db = params.get('login_db') or kw.get('dbname') or user
    else:
        host = params.get('login_host') or params.get('login_unix_socket') or 'default host'
        port = params.get('login_port') or 5432
        user = params.get('login_user') or 'default user'
        db = params.get('login_db') or user
    return '%s@%s:%s/%s' % (user, host, port, db)


def ensure_psycopg2(module):
    """Fail with ``missing_required_lib('psycopg2')`` when psycopg2 cannot be imported."""
    if not HAS_PSYCOPG2:
        module.fail_json(msg=missing_required_lib('psycopg2'), exception=PSYCOPG2_IMPORT_ERROR)


def module_secrets(module, dsn_keywords=None):
    """Every secret of the connection options (also registered with Ansible's no_log)."""
    secrets = []
    for value in (module.params.get('login_password'), module.params.get('dsn'),
                  (dsn_keywords or {}).get('password')):
        if value:
            secrets.append(to_native(value))
    for secret in secrets:
        module.no_log_values.add(secret)
    return secrets


def _version_text(num):
    """``150020`` -> ``'15'``, ``90624`` -> ``'9.6'``."""
    if num >= 100000:
        return '%d' % (num // 10000)
    return '%d.%d' % (num // 10000, num // 100 % 100)


class PostgresConnection(object):
    """One psycopg2 connection (autocommit) plus the secrets to scrub from errors."""

    def __init__(self, module, application_name, min_version=None):
        ensure_psycopg2(module)
        self.module = module
        params = module.params
        self.dsn_keywords = {}
        self.secrets = module_secrets(module)
        if params.get('connect_timeout') is not None and params['connect_timeout'] < 0:
            module.fail_json(msg='connect_timeout: must be 0 (wait forever) or more, got %s'
                             % params['connect_timeout'])
        if params.get('dsn'):
            try:
                self.dsn_keywords = parse_dsn(params['dsn'])
            except ValueError as exc:
                module.fail_json(msg=to_native(exc))
            self.secrets = module_secrets(module, self.dsn_keywords)
        self.target = sanitize(describe_target(params, self.dsn_keywords), self.secrets)
        kwargs = connection_params(params, application_name, self.dsn_keywords)
        try:
            self.conn = psycopg2.connect(**kwargs)
            self.conn.autocommit = True
        except Exception as exc:  # pylint: disable=broad-except
            module.fail_json(msg='cannot connect to PostgreSQL as %s: %s'
                             % (self.target, self.error_text(exc)))
        if min_version and self.conn.server_version < min_version:
            version = self.conn.server_version
            self.close()
            module.fail_json(msg='PostgreSQL %s is too old: %s needs %s or later'
                             % (_version_text(version), application_name, _version_text(min_version)))

    def error_text(self, exc):
        """A one-line, scrubbed description of a psycopg2 error."""
        text = to_native(getattr(exc, 'pgerror', None) or exc) or type(exc).__name__
        text = ' '.join(text.split())
        return sanitize(text, self.secrets)

    def query(self, sql, args=None):
        """Run one statement; return its rows as dicts."""
        with self.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(sql, args)
            if cur.description is None:
                return []
            return [dict(row) for row in cur.fetchall()]

    def close(self):
        try:
            self.conn.close()
        except Exception:  # pylint: disable=broad-except
            pass
