# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""A short-lived helper container for the n8n and Redis backups (Docker Engine API).

As for arizu.ops.pg_backup (``pg_backup_tool``): the helper is made from the
very image (ID) the service container runs, so the tools (``n8n``,
``redis-cli``, ``tar``) are the service's own version; it sleeps and the
tools run in it through ``exec`` with argument lists; secrets travel only in
the environment of an ``exec``, never in a command line or the helper's
configuration; the backup folder is bind-mounted at the same path, so no byte
of a backup passes through the module; the helper removes itself when it is
stopped or when its sleep ends.
"""

from __future__ import annotations

import secrets
import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_compat import RequestException
from ansible_collections.community.docker.plugins.module_utils._api.errors import APIError, DockerException, NotFound

from ansible_collections.arizu.ops.plugins.module_utils.pg_backup import BackupError, mask
from ansible_collections.arizu.ops.plugins.module_utils.pg_backup_tool import api_reason, check_exec, run_exec


def inspect_container(client, name, what):
    """``docker inspect`` of *name*; BackupError naming *what* when it does not exist."""
    try:
        return client.get_json('/containers/{0}/json', name)
    except NotFound:
        raise BackupError('the %s container %s does not exist on this Docker host' % (what, name))


def container_env(info):
    """``{name: value}`` of a container's configured environment."""
    env = {}
    for item in (info.get('Config') or {}).get('Env') or []:
        key, _sep, value = item.partition('=')
        env[key] = value
    return env


def container_networks(info):
    return sorted(((info.get('NetworkSettings') or {}).get('Networks') or {}).keys())


def mount_of(info, destination):
    """The Docker mount spec (volume or bind) of *info* at *destination*, else None."""
    for mount in info.get('Mounts') or []:
        if mount.get('Destination') == destination:
            if mount.get('Type') == 'volume':
                return dict(Type='volume', Source=mount['Name'], Target=destination)
            return dict(Type='bind', Source=mount['Source'], Target=destination)
    return None


def is_running(info):
    state = info.get('State') or {}
    return bool(state.get('Running')) and not state.get('Paused') and not state.get('Restarting')


class ToolContainer(object):
    """One helper container; use as a context manager."""

    def __init__(self, client, image, name_prefix, purpose, mounts, network_mode, timeout, secrets_=()):
        self.client = client
        self.image = image
        self.name = '%s-%s' % (name_prefix, secrets.token_hex(4))
        self.purpose = purpose
        self.mounts = mounts
        self.network_mode = network_mode
        self.timeout = timeout
        self.secrets = [s for s in secrets_ if s]
        self.container_id = None

    def start(self):
        mounts = list(self.mounts)
        targets = set(m['Target'] for m in mounts)
        try:
            volumes = (self.client.get_json('/images/{0}/json', self.image).get('Config') or {}).get('Volumes') or {}
        except (APIError, NotFound):
            volumes = {}
        # the image's other VOLUMEs get a small tmpfs: no anonymous volume is left behind
        mounts += [dict(Type='tmpfs', Target=path, TmpfsOptions=dict(SizeBytes=1024 * 1024))
                   for path in sorted(volumes) if path not in targets]
        config = dict(Image=self.image, Entrypoint=['sleep'], Cmd=[str(max(60, self.timeout))], User='0:0',
                      WorkingDir='/tmp', Labels={'arizu.ops.tool': self.purpose},
                      HostConfig=dict(NetworkMode=self.network_mode, Mounts=mounts, AutoRemove=True))
        try:
            created = self.client.post_json_to_json('/containers/create', data=config, params={'name': self.name})
            self.container_id = created['Id']
            self.client.post_json('/containers/{0}/start', self.container_id)
        except (APIError, NotFound) as exc:
            self.stop()
            raise BackupError('cannot start the helper container %s from %s: %s' % (self.name, self.image,
                                                                                    api_reason(exc)))
        return self

    def stop(self):
        if not self.container_id:
            return
        try:
            self.client.delete_call('/containers/{0}', self.container_id, params={'force': 'true', 'v': 'true'})
        except Exception:  # pylint: disable=broad-except
            pass  # AutoRemove and the sleep's end remove it anyway
        self.container_id = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def exec_(self, argv, env=None, user='0:0'):
        """Run *argv* (umask 077) as *user*; ``ExecResult`` (stdout up to 8 MiB, the tail of stderr)."""
        environment = ['%s=%s' % item for item in sorted((env or {}).items())]
        argv = ['sh', '-c', 'umask 077 && exec "$0" "$@"'] + list(argv)
        return run_exec(self.client, self.container_id, argv, environment, user,
                        'running %s in the helper container' % argv[4], self.secrets)

    def check(self, result, what):
        return check_exec(result, what, self.secrets)


def stop_container(client, name, timeout=30):
    try:
        client.post_call('/containers/{0}/stop', name, params={'t': str(timeout)})
    except NotFound:
        raise BackupError('the container %s does not exist' % name)
    except APIError as exc:
        if exc.status_code != 304:
            raise BackupError('cannot stop %s: %s' % (name, api_reason(exc)))


def start_container(client, name):
    try:
        client.post_call('/containers/{0}/start', name)
    except APIError as exc:
        if exc.status_code != 304:
            raise BackupError('cannot start %s: %s' % (name, api_reason(exc)))


def wait_healthy(client, name, timeout, sleep=time.sleep):
    """Wait until *name* runs and its health check (when it has one) says healthy; returns seconds waited."""
    started = time.monotonic()
    status = None
    while True:
        info = client.get_json('/containers/{0}/json', name)
        state = info.get('State') or {}
        health = (state.get('Health') or {}).get('Status')
        status = '%s/%s' % (state.get('Status'), health or 'no health check')
        if state.get('Running') and health in (None, 'healthy'):
            return round(time.monotonic() - started, 3)
        if not state.get('Running') and state.get('Status') in ('exited', 'dead'):
            raise BackupError('%s stopped again after the start (exit code %s); see docker logs %s'
                              % (name, state.get('ExitCode'), name))
        if time.monotonic() - started > timeout:
            raise BackupError('%s is not healthy after %s s (%s); see docker logs %s' % (name, timeout, status, name))
        sleep(1)


def run_or_fail(module, what, secrets_, action, *args):
    """Call ``action(*args)``; a BackupError, a Docker error or an OS error ends the module with
    ``<what> failed: <reason>`` (masked with *secrets_*), never a traceback."""
    try:
        return action(*args)
    except BackupError as exc:
        module.fail_json(msg=mask('%s failed: %s' % (what, to_native(exc)), secrets_), changed=False)
    except (RequestException, DockerException) as exc:
        module.fail_json(msg=mask('%s failed talking to the Docker daemon: %s' % (what, api_reason(exc)), secrets_),
                         changed=False)
    except (IOError, OSError) as exc:
        module.fail_json(msg=mask('%s failed: %s: %s' % (what, getattr(exc, 'filename', '') or '',
                                                         exc.strerror or exc), secrets_), changed=False)
    return None
