# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Shared Redis connection handling of the arizu.ops modules.

The options are named as community.general's Redis modules name them
(``login_host``, ``login_port``, ``login_user``, ``login_password``, ``tls``,
``validate_certs``, ``ca_certs``) plus ``db`` and ``timeout``.  Documented by
the ``arizu.ops.redis`` doc fragment.  Uses the ``redis`` Python library;
the password goes to it in memory and is scrubbed from every message.
"""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib
from ansible.module_utils.common.text.converters import to_native

REDIS_IMPORT_ERROR = None
try:
    import redis
    HAS_REDIS = True
except ImportError:  # pragma: no cover - exercised through ensure_redis
    redis = None
    REDIS_IMPORT_ERROR = traceback.format_exc()
    HAS_REDIS = False

REDACTED = '********'
#: The name the module's connection has in CLIENT LIST and in the slow log.
CLIENT_NAME = 'arizu.ops.redis_diagnose'

_AUTH_REQUIRED = ('noauth', 'authentication required', 'must be called with the client already authenticated')
_AUTH_FAILED = ('wrongpass', 'invalid username-password pair', 'invalid password', 'invalid username or password')


def redis_common_argument_spec():
    """The connection options, for ``AnsibleModule(argument_spec=...)``."""
    return dict(
        login_host=dict(type='str', default='localhost'),
        login_port=dict(type='int', default=6379),
        login_user=dict(type='str'),
        login_password=dict(type='str', no_log=True),
        db=dict(type='int', default=0),
        tls=dict(type='bool', default=False),
        validate_certs=dict(type='bool', default=True),
        ca_certs=dict(type='str'),
        timeout=dict(type='float', default=5),
    )


def ensure_redis(module):
    """Fail with ``missing_required_lib('redis')`` when the library cannot be imported."""
    if not HAS_REDIS:
        module.fail_json(msg=missing_required_lib('redis'), exception=REDIS_IMPORT_ERROR)


def sanitize(text, secrets):
    text = to_native(text if text is not None else '')
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return ' '.join(text.split())


def explain_error(text):
    """A clearer text for the usual authentication answers (pure)."""
    lower = text.lower()
    if any(marker in lower for marker in _AUTH_REQUIRED):
        return 'authentication required: the server needs a password (login_password) (%s)' % text
    if any(marker in lower for marker in _AUTH_FAILED):
        return 'authentication failed: wrong login_password or login_user (%s)' % text
    return text


def client_kwargs(params):
    """Keyword arguments for ``redis.Redis`` from the module parameters (pure)."""
    kwargs = dict(
        host=params['login_host'],
        port=params['login_port'],
        db=params['db'],
        socket_timeout=params['timeout'],
        socket_connect_timeout=params['timeout'],
        decode_responses=False,
    )
    if params.get('login_user'):
        kwargs['username'] = params['login_user']
    if params.get('login_password'):
        kwargs['password'] = params['login_password']
    if params.get('tls'):
        kwargs['ssl'] = True
        kwargs['ssl_cert_reqs'] = 'required' if params.get('validate_certs', True) else 'none'
        if not params.get('validate_certs', True):
            kwargs['ssl_check_hostname'] = False
        if params.get('ca_certs'):
            kwargs['ssl_ca_certs'] = params['ca_certs']
    return kwargs


def describe_target(params):
    scheme = 'rediss' if params.get('tls') else 'redis'
    user = ('%s@' % params['login_user']) if params.get('login_user') else ''
    return '%s://%s%s:%s/%s' % (scheme, user, params['login_host'], params['login_port'], params['db'])


class RedisConnection(object):
    """One ``redis.Redis`` client plus the secrets to scrub from errors."""

    def __init__(self, module):
        ensure_redis(module)
        self.module = module
        params = module.params
        self.secrets = [to_native(params['login_password'])] if params.get('login_password') else []
        for secret in self.secrets:
            module.no_log_values.add(secret)
        if not params['timeout'] > 0:
            module.fail_json(msg='timeout: must be greater than 0, got %s' % params['timeout'])
        if not 0 <= params['login_port'] <= 65535:
            module.fail_json(msg='login_port: must be between 0 and 65535, got %s' % params['login_port'])
        if params['db'] < 0:
            module.fail_json(msg='db: must be 0 or more, got %s' % params['db'])
        self.target = describe_target(params)
        kwargs = client_kwargs(params)
        try:
            # RESP2 (the library may default to RESP3, whose HELLO servers before 6.0 do not know),
            # and no silent retries with back-off (a diagnosis must see failures and real round trips)
            from redis.backoff import NoBackoff
            from redis.retry import Retry
            self.client = redis.Redis(protocol=2, retry=Retry(NoBackoff(), 0), **kwargs)
        except (ImportError, TypeError):  # pragma: no cover - older redis library
            self.client = redis.Redis(**kwargs)

    def set_name(self, name=CLIENT_NAME):
        """Best effort ``CLIENT SETNAME`` (an ACL user may not be allowed to; that is no reason to fail)."""
        try:
            self.client.client_setname(name)
        except Exception:  # pylint: disable=broad-except
            pass

    def error_text(self, exc):
        text = to_native(exc) or type(exc).__name__
        return explain_error(sanitize(text, self.secrets))

    def close(self):
        try:
            self.client.close()
        except Exception:  # pylint: disable=broad-except
            pass
