# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Docker evidence (inspect, one-shot stats, logs, disk use) over the standard-library client.

The same result as docker_evidence_api.collect (the arizu.ops.docker_evidence
module's), without the community.docker client and its requests/urllib3
imports: a module run on each of many Docker hosts (arizu.ops.triage_probe)
starts about half a second sooner.
"""

from __future__ import annotations

import shutil
import time

from concurrent.futures import ThreadPoolExecutor

from ansible_collections.arizu.ops.plugins.module_utils.docker_api import DockerAPIError, NotFound, q
from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence import (
    LogDecoder,
    Masker,
    container_evidence,
    disk_entry,
    disk_error_entry,
    overall_message,
    secret_values_from_env,
    summary_line,
)

MAX_THREADS = 8


def measure_disks(paths):
    entries = []
    for path in paths or []:
        try:
            usage = shutil.disk_usage(path)
        except (OSError, ValueError) as exc:
            entries.append(disk_error_entry(path, exc))
            continue
        entries.append(disk_entry(path, usage.total, usage.used, usage.free))
    return entries


def _stats(client, cid):
    try:
        return client.get('/containers/%s/stats' % q(cid), params={'stream': 'false', 'one-shot': 'true'})
    except DockerAPIError as exc:
        return exc


def _logs(client, cid, tail, tty, masker):
    try:
        _status, raw = client.request('GET', '/containers/%s/logs' % q(cid), raw_body=True, params={
            'stdout': 1, 'stderr': 1, 'timestamps': 1, 'follow': 0, 'tail': str(tail)})
    except DockerAPIError as exc:
        return exc
    decoder = LogDecoder(tty=tty, masker=masker)
    decoder.feed(raw)
    lines = decoder.finish()
    if decoder.error:
        return DockerAPIError('logs incomplete: %s' % decoder.error)
    return lines


def collect(client, names, logs_tail=0, redact=(), disk_paths=()):
    """Evidence of the containers *names*: ``{containers, summary, disk, stats_mode, msg}``.

    Raises DockerAPIError when the engine cannot be reached at all.
    """
    extra = [value for value in (redact or []) if value]
    inspected, results = {}, {}
    for name in names:
        try:
            inspected[name] = client.get('/containers/%s/json' % q(name))
        except NotFound:
            results[name] = dict(exists=False)
        except DockerAPIError as exc:
            if exc.status is None:
                raise
            results[name] = dict(exists=False, error='inspect failed: %s' % exc)

    maskers = dict((name, Masker(secret_values_from_env((info.get('Config') or {}).get('Env')), extra))
                   for name, info in inspected.items())
    running = [info['Id'] for info in inspected.values() if (info.get('State') or {}).get('Running')]
    jobs = {}
    with ThreadPoolExecutor(max_workers=MAX_THREADS) as pool:
        for cid in dict.fromkeys(running):
            jobs[('stats', cid)] = pool.submit(_stats, client, cid)
        if logs_tail > 0:
            for name, info in inspected.items():
                jobs[('logs', name)] = pool.submit(_logs, client, info['Id'], logs_tail,
                                                   bool((info.get('Config') or {}).get('Tty')), maskers[name])
        done = dict((key, job.result()) for key, job in jobs.items())

    now = time.time()
    for name, info in inspected.items():
        masker = maskers[name]
        errors = []
        logs = None
        if logs_tail > 0:
            logs = done.get(('logs', name))
            if isinstance(logs, Exception):
                errors.append(masker.mask('logs failed: %s' % logs))
                logs = []
        stats = done.get(('stats', info['Id']))
        if isinstance(stats, Exception):
            errors.append(masker.mask('stats failed: %s' % stats))
            stats = None
        evidence = container_evidence(info, stats=stats, logs=logs, masker=masker, now=now)
        if errors:
            evidence['errors'] = errors
        results[name] = evidence

    containers = dict((name, results[name]) for name in names)
    return dict(
        changed=False,
        containers=containers,
        summary=[summary_line(name, containers[name]) for name in names],
        disk=measure_disks(disk_paths),
        stats_mode='one-shot',
        msg=overall_message(containers),
    )
