# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker evidence over the Engine API: inspect, one-shot stats, logs, disk use.

Shared by the modules docker_evidence and triage_probe; the pure parts are in
docker_evidence.py beside this file.
"""

from __future__ import annotations

import os
import threading
import time

from concurrent.futures import ThreadPoolExecutor

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_compat import (
    DEFAULT_DOCKER_HOST,
    AnsibleDockerClient,
    LooseVersion,
    RequestException,
)
from ansible_collections.community.docker.plugins.module_utils._api.api.client import APIClient
from ansible_collections.community.docker.plugins.module_utils._api.errors import (
    APIError,
    DockerException,
    NotFound,
)

from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence_light import measure_disks
from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence import (
    LogDecoder,
    Masker,
    container_evidence,
    overall_message,
    secret_values_from_env,
    summary_line,
)

MAX_STATS_THREADS = 8
LOG_CHUNK_BYTES = 64 * 1024


class EvidenceDockerClient(AnsibleDockerClient):
    """community.docker's client; failures while connecting name the daemon, no traceback is attached."""

    _connected = False

    def __init__(self, *args, **kwargs):
        super(EvidenceDockerClient, self).__init__(*args, **kwargs)
        self._connected = True

    def fail(self, msg, **kwargs):
        kwargs.pop('exception', None)
        if not self._connected:
            host = (getattr(self, '_connect_params', None) or {}).get('base_url') \
                or self.module.params.get('docker_host') or os.environ.get('DOCKER_HOST') or DEFAULT_DOCKER_HOST
            msg = 'Cannot use the Docker daemon at %s (set docker_host or DOCKER_HOST): %s' % (Masker().mask(host), msg)
        super(EvidenceDockerClient, self).fail(msg, **kwargs)


class EvidenceError(Exception):
    """A request for one container failed; the message is the human reason."""


def reason_of(exc):
    if isinstance(exc, APIError):
        text = exc.explanation or to_native(exc)
        status = exc.status_code
        return ('HTTP %s: %s' % (status, to_native(text))) if status else to_native(text)
    return '%s: %s' % (type(exc).__name__, to_native(exc)) if to_native(exc) else type(exc).__name__


def inspect_container(client, name):
    """The inspect answer, None when the container does not exist; EvidenceError otherwise."""
    try:
        return client.get_json('/containers/{0}/json', name.lstrip('/'))
    except NotFound:
        return None
    except APIError as exc:
        raise EvidenceError('inspect failed: %s' % reason_of(exc))


def fetch_stats(client, container_id, one_shot):
    params = {'stream': 'false'}
    if one_shot:
        params['one-shot'] = 'true'
    try:
        return client.get_json('/containers/{0}/stats', container_id, params=params)
    except (APIError, RequestException, DockerException, ValueError) as exc:
        raise EvidenceError('stats failed: %s' % reason_of(exc))


def fetch_all_stats(client, container_ids, one_shot):
    """Stats for every container ID: ``{id: stats or EvidenceError}``.

    Several containers are asked concurrently, each worker thread with its own
    API client (a requests session is not shared between threads). Over SSH,
    where each client would open its own connection, they are asked one after
    the other.
    """
    results = {}
    if len(container_ids) <= 1 or str(client.base_url).startswith('http+docker://ssh'):
        for cid in container_ids:
            try:
                results[cid] = fetch_stats(client, cid, one_shot)
            except EvidenceError as exc:
                results[cid] = exc
        return results

    local = threading.local()
    made = []
    lock = threading.Lock()
    params = dict(client._connect_params, version=client.api_version)  # pylint: disable=protected-access

    def worker(cid):
        own = getattr(local, 'client', None)
        if own is None:
            try:
                own = APIClient(**params)
            except Exception as exc:  # pylint: disable=broad-except
                return EvidenceError('stats failed: cannot open a second API connection: %s' % reason_of(exc))
            local.client = own
            with lock:
                made.append(own)
        try:
            return fetch_stats(own, cid, one_shot)
        except EvidenceError as exc:
            return exc

    try:
        with ThreadPoolExecutor(max_workers=min(MAX_STATS_THREADS, len(container_ids))) as pool:
            for cid, result in zip(container_ids, pool.map(worker, container_ids)):
                results[cid] = result
    finally:
        for own in made:
            try:
                own.close()
            except Exception:  # pylint: disable=broad-except
                pass
    return results


def fetch_logs(client, container_id, tail, tty, masker):
    """The last *tail* log lines, masked; raises EvidenceError."""
    params = {'stdout': 1, 'stderr': 1, 'timestamps': 1, 'follow': 0, 'tail': str(tail)}
    decoder = LogDecoder(tty=tty, masker=masker)
    response = None
    try:
        # pylint: disable-next=protected-access
        response = client._get(client._url('/containers/{0}/logs', container_id), params=params, stream=True)
        client._raise_for_status(response)  # pylint: disable=protected-access
        for chunk in response.iter_content(chunk_size=LOG_CHUNK_BYTES):
            decoder.feed(chunk)
    except (APIError, RequestException, DockerException) as exc:
        raise EvidenceError('logs failed: %s' % reason_of(exc))
    finally:
        if response is not None:
            try:
                response.close()
            except Exception:  # pylint: disable=broad-except
                pass
    lines = decoder.finish()
    if decoder.error:
        raise EvidenceError('logs incomplete: %s' % decoder.error)
    return lines


def collect(client, names, logs_tail=0, stats=True, cpu_sample=False, redact=(), disk_paths=()):
    """Evidence of the containers *names* (and the disks of *disk_paths*): the docker_evidence result."""
    extra = [value for value in (redact or []) if value]

    api_version = client.docker_api_version_str
    if not stats:
        stats_mode = 'none'
    elif cpu_sample or client.docker_api_version < LooseVersion('1.41'):
        stats_mode = 'sampled'
    else:
        stats_mode = 'one-shot'

    inspected = {}
    results = {}
    for name in names:
        try:
            info = inspect_container(client, name)
        except EvidenceError as exc:
            results[name] = dict(exists=False, error=to_native(exc))
            continue
        except (RequestException, DockerException) as exc:
            client.fail('Cannot talk to the Docker daemon while inspecting container %r: %s' % (name, reason_of(exc)))
        if info is None:
            results[name] = dict(exists=False)
        else:
            inspected[name] = info

    stats = {}
    if stats_mode != 'none':
        running_ids = []
        for info in inspected.values():
            if (info.get('State') or {}).get('Running') and info['Id'] not in running_ids:
                running_ids.append(info['Id'])
        if running_ids:
            stats = fetch_all_stats(client, running_ids, stats_mode == 'one-shot')

    now = time.time()
    for name in names:
        info = inspected.get(name)
        if info is None:
            continue
        masker = Masker(secret_values_from_env((info.get('Config') or {}).get('Env')), extra)
        errors = []
        logs = None
        if logs_tail > 0:
            try:
                logs = fetch_logs(client, info['Id'], logs_tail,
                                  bool((info.get('Config') or {}).get('Tty')), masker)
            except EvidenceError as exc:
                errors.append(masker.mask(to_native(exc)))
                logs = []
        container_stats = stats.get(info['Id'])
        if isinstance(container_stats, EvidenceError):
            errors.append(masker.mask(to_native(container_stats)))
            container_stats = None
        evidence = container_evidence(info, stats=container_stats, logs=logs, masker=masker, now=now)
        if errors:
            evidence['errors'] = errors
        results[name] = evidence

    containers = dict((name, results[name]) for name in names)
    return dict(
        changed=False,
        containers=containers,
        summary=[summary_line(name, containers[name]) for name in names],
        disk=measure_disks(disk_paths),
        stats_mode=stats_mode,
        api_version=api_version,
        msg=overall_message(containers),
    )
