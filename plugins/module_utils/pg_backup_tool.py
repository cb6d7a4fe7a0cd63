# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The tool container of arizu.ops.pg_backup and arizu.ops.pg_restore (Docker Engine API).

pg_dump, pg_restore and psql run in a short-lived container:

- ``container`` mode (default): made from the very image (ID) the Postgres
  container runs, so the tools are the server's own version, and joined to
  that container's network namespace (``--network container:<id>``), so they
  reach the server on ``127.0.0.1`` exactly as a process inside it would;
- ``client`` mode (a managed Postgres): made from ``client_image`` on
  ``client_network``, reaching ``host``:``port``.

The backup folder of the Docker host is bind-mounted at the same path, so
pg_dump writes the dump straight into it and pg_restore reads it from there:
no byte of a dump passes through Python or the Docker API, any size keeps
the module's memory flat, and every format (including ``-Fd -j N``) works as
with the tools run by hand. The container sleeps and the tools run in it
through ``exec`` with argument lists; the password only ever travels in the
environment of an ``exec`` (``PGPASSWORD``), never in a command line or in
the container's configuration. The container removes itself when it is
stopped or when ``tool_timeout`` seconds have passed, whatever happens to the
module.
"""

from __future__ import annotations

import os
import secrets
import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_compat import (
    DEFAULT_DOCKER_HOST,
    AnsibleDockerClient,
    RequestException,
)
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    APIError,
    DockerException,
    NotFound,
)
from ansible_collections.community.docker.plugins.module_utils._api.utils.socket import frames_iter

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import BackupError, mask, tail_text

SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full']
STDOUT_LIMIT = 8 * 1024 * 1024
STDERR_LIMIT = 64 * 1024


def connection_argument_spec():
    """Options shared by both modules (documented by the arizu.ops.pg_backup doc fragment)."""
    return dict(
        container=dict(type='str', default='arizu-postgres'),
        port=dict(type='int', default=5432),
        user=dict(type='str', default='postgres'),
        password=dict(type='str', no_log=True),
        database=dict(type='str', required=True),
        maintenance_db=dict(type='str', default='postgres'),
        client_image=dict(type='str'),
        client_network=dict(type='str', default='bridge'),
        client_host=dict(type='str'),
        ssl_mode=dict(type='str', choices=SSL_MODES),
        backup_dir=dict(type='path', required=True),
        lock_wait=dict(type='int', default=0),
        tool_name_prefix=dict(type='str', default='arizu-pg-tool'),
        tool_timeout=dict(type='int', default=86400),
    )


class ToolDockerClient(AnsibleDockerClient):
    """community.docker's client; failures while connecting name the daemon, without a traceback."""

    _connected = False

    def __init__(self, *args, **kwargs):
        super(ToolDockerClient, self).__init__(*args, **kwargs)
        self._connected = True

    def fail(self, msg, **kwargs):
        kwargs.pop('exception', None)
        if not self._connected:
            host = (getattr(self, '_connect_params', None) or {}).get('base_url') \
                or self.module.params.get('docker_host') or os.environ.get('DOCKER_HOST') or DEFAULT_DOCKER_HOST
            msg = 'Cannot use the Docker daemon at %s (set docker_host or DOCKER_HOST): %s' % (host, msg)
        secrets_ = [self.module.params.get('password')]
        super(ToolDockerClient, self).fail(mask(msg, secrets_), **kwargs)


def api_reason(exc):
    if isinstance(exc, APIError):
        text = exc.explanation or to_native(exc)
        return ('HTTP %s: %s' % (exc.status_code, to_native(text))) if exc.status_code else to_native(text)
    return '%s: %s' % (type(exc).__name__, to_native(exc)) if to_native(exc) else type(exc).__name__


class ExecResult(object):
    def __init__(self, rc, stdout, stderr, seconds):
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.seconds = seconds

    @property
    def text(self):
        return self.stdout.decode('utf-8', 'replace')

    def error_text(self, limit=2000):
        return tail_text(self.stderr, limit) or tail_text(self.stdout, limit) or 'no output'


def run_exec(client, container_id, argv, environment, user, action, secrets):
    """Run *argv* in a container through the exec API; ``ExecResult`` (stdout up to 8 MiB, the tail of stderr).

    *action* names the run in the error raised when the engine refuses it (masked with *secrets*).
    """
    started = time.monotonic()
    try:
        created = client.post_json_to_json('/containers/{0}/exec', container_id, data=dict(
            AttachStdin=False, AttachStdout=True, AttachStderr=True, Tty=False, Cmd=list(argv),
            Env=environment or None, User=user, Privileged=False))
        exec_id = created['Id']
        sock = client.post_json_to_stream_socket('/exec/{0}/start', exec_id, data=dict(Tty=False, Detach=False))
        out = bytearray()
        err = bytearray()
        try:
            client._disable_socket_timeout(sock)  # pylint: disable=protected-access
            for stream, data in frames_iter(sock, False):
                if stream == 2:
                    err.extend(data)
                    if len(err) > 2 * STDERR_LIMIT:
                        del err[:len(err) - STDERR_LIMIT]
                elif len(out) < STDOUT_LIMIT:
                    out.extend(data[:STDOUT_LIMIT - len(out)])
        finally:
            try:
                sock.close()
            except Exception:  # pylint: disable=broad-except
                pass
        info = client.get_json('/exec/{0}/json', exec_id)
    except (APIError, NotFound) as exc:
        raise BackupError(mask('%s failed: %s' % (action, api_reason(exc)), secrets))
    rc = info.get('ExitCode')
    return ExecResult(rc if isinstance(rc, int) else -1, bytes(out), bytes(err), time.monotonic() - started)


def check_exec(result, what, secrets):
    """Raise BackupError (masked with *secrets*) unless *result* succeeded; return it."""
    if result.rc != 0:
        raise BackupError(mask('%s failed (exit %s): %s' % (what, result.rc, result.error_text()), secrets))
    return result


class PgTool(object):
    """One tool container for one module run; use as a context manager."""

    def __init__(self, client, params, mounts, purpose):
        self.client = client
        self.params = params
        self.mounts = [os.path.realpath(m) for m in mounts]
        self.purpose = purpose
        self.mode = 'client' if params.get('client_image') else 'container'
        self.container_id = None
        self.name = None
        self.image = None
        self.image_ref = None
        self.server_container = None
        self.password = params.get('password') or None
        self.secrets = [params.get('password')]

    # ------------------------------------------------------------ lifecycle

    def _server(self):
        name = self.params['container']
        try:
            info = self.client.get_json('/containers/{0}/json', name)
        except NotFound:
            raise BackupError('the Postgres container %s does not exist on this Docker host' % name)
        state = info.get('State') or {}
        if not state.get('Running') or state.get('Paused') or state.get('Restarting'):
            raise BackupError('the Postgres container %s is not running (state %s)' % (name, state.get('Status')))
        return info

    def start(self):
        params = self.params
        env = ['PGPORT=%d' % params['port'], 'PGUSER=%s' % params['user'], 'PGDATABASE=%s' % params['database'],
               'PGCONNECT_TIMEOUT=10', 'PGAPPNAME=arizu.ops.%s' % self.purpose]
        if params.get('ssl_mode'):
            env.append('PGSSLMODE=%s' % params['ssl_mode'])
        if self.mode == 'container':
            server = self._server()
            self.server_container = (server.get('Name') or '').lstrip('/')
            self.image = server['Image']
            self.image_ref = (server.get('Config') or {}).get('Image') or self.image
            network_mode = 'container:%s' % server['Id']
            env.append('PGHOST=127.0.0.1')
            if not self.password:
                # the server's own password (official image contract), never shown
                for item in (server.get('Config') or {}).get('Env') or []:
                    if item.startswith('POSTGRES_PASSWORD='):
                        self.password = item.split('=', 1)[1] or None
            self.secrets.append(self.password)
        else:
            if not params.get('client_host'):
                raise BackupError('client_host is required with client_image (the managed Postgres to reach)')
            self.image = self.image_ref = params['client_image']
            try:
                self.client.get_json('/images/{0}/json', self.image)
            except NotFound:
                raise BackupError('the client image %s is not on this Docker host; pull it first' % self.image)
            network_mode = params['client_network'] or 'bridge'
            env.append('PGHOST=%s' % params['client_host'])
        self.name = '%s-%s' % (params['tool_name_prefix'], secrets.token_hex(4))
        binds = [dict(Type='bind', Source=m, Target=m) for m in self.mounts]
        # the image's VOLUMEs (PGDATA) get a small tmpfs, so that no anonymous volume is created
        try:
            volumes = (self.client.get_json('/images/{0}/json', self.image).get('Config') or {}).get('Volumes') or {}
        except (APIError, NotFound):
            volumes = {}
        binds += [dict(Type='tmpfs', Target=path, TmpfsOptions=dict(SizeBytes=1024 * 1024))
                  for path in sorted(volumes) if path not in self.mounts]
        config = dict(
            Image=self.image,
            Entrypoint=['sleep'],
            Cmd=[str(max(60, params['tool_timeout']))],
            Env=env,
            User='%d:%d' % (os.getuid(), os.getgid()),
            WorkingDir='/tmp',
            Labels={'arizu.ops.tool': self.purpose},
            HostConfig=dict(NetworkMode=network_mode, Mounts=binds, AutoRemove=True),
        )
        try:
            created = self.client.post_json_to_json('/containers/create', data=config, params={'name': self.name})
            self.container_id = created['Id']
            self.client.post_json('/containers/{0}/start', self.container_id)
        except (APIError, NotFound) as exc:
            self.stop()
            raise BackupError('cannot start the tool container %s from %s: %s'
                              % (self.name, self.image_ref, api_reason(exc)))
        return self

    def stop(self):
        if not self.container_id:
            return
        try:
            self.client.delete_call('/containers/{0}', self.container_id, params={'force': 'true', 'v': 'true'})
        except (APIError, NotFound, RequestException, DockerException):
            pass  # AutoRemove and the sleep's end remove it anyway
        self.container_id = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ exec

    def exec_(self, argv, env=None, umask=True):
        """Run *argv* in the tool container; ``ExecResult`` (stdout up to 8 MiB, the tail of stderr)."""
        environment = ['PGPASSWORD=%s' % self.password] if self.password else []
        environment += ['%s=%s' % item for item in sorted((env or {}).items())]
        if umask:
            # files the tools create are for the owner only
            argv = ['sh', '-c', 'umask 077 && exec "$0" "$@"'] + list(argv)
        return run_exec(self.client, self.container_id, argv, environment, '',
                        'running %s in the tool container' % argv[0], self.secrets)

    def check(self, result, what):
        """Raise BackupError (masked) unless *result* succeeded."""
        return check_exec(result, what, self.secrets)

    def psql(self, *commands, **kwargs):
        """psql -X -q -At with ON_ERROR_STOP, one ``-c`` per command (psql does not interpolate variables in
        them); raises BackupError on failure."""
        database = kwargs.pop('database', None)
        what = kwargs.pop('what', 'psql')
        argv = ['psql', '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1']
        if database:
            argv += ['-d', database]
        for command in commands:
            argv += ['-c', command]
        return self.check(self.exec_(argv), what)

    def tool_version(self, tool):
        result = self.exec_([tool, '--version'], umask=False)
        return result.text.strip() if result.rc == 0 else None


def server_facts(tool):
    """``dict(version, version_num, major, database_size)`` of the server and the target database."""
    result = tool.psql("SELECT 'ARIZU_SERVER', current_setting('server_version'), "
                       "current_setting('server_version_num'), pg_database_size(current_database())",
                       what='connecting to PostgreSQL')
    for line in result.text.splitlines():
        fields = line.split('|')
        if fields[0] == 'ARIZU_SERVER' and len(fields) == 4:
            num = int(fields[2])
            return dict(version=fields[1], version_num=num, major=num // 10000, database_size=int(fields[3]))
    raise BackupError('cannot read the server version: %s' % tail_text(result.stdout, 300))


def tool_major(version_text):
    """Major version from ``pg_dump (PostgreSQL) 15.14 (Debian ...)``, else None."""
    for word in (version_text or '').split():
        head = word.split('.')[0]
        if head.isdigit():
            return int(head)
    return None
