#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_restart
short_description: Restart one container and wait for health that is newer than the restart
version_added: 1.0.0
description:
  - Restarts the same container (a restart, never a re-creation, so its configuration, volumes and id stay),
    or starts it when it is stopped (a paused one is unpaused first), through the Docker Engine API, then waits until it proves healthy
    B(after) the restart. A health status left over from before the restart never counts.
  - "How health is proven, in this order: O(probe_url) answers a healthy body (judged like
    M(arizu.ops.health_check)); else the container's own HEALTHCHECK has a passing check that started after
    the container did; else O(probe_tcp) accepts a connection; else the container keeps running for
    O(settle_seconds)."
  - Polls every O(poll_interval) seconds, so the time reported is close to the service's own start time.
  - When health does not come back within O(timeout), the task fails with the state before and after, and the
    last health check outputs.
  - In check mode nothing is restarted; the result says what would be done.
author:
  - Arizu maintainers (@arizu)
extends_documentation_fragment:
  - arizu.ops.docker_api
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  container:
    description: Name or id of the container.
    type: str
    required: true
  timeout:
    description: Seconds to wait for health after the restart.
    type: float
    default: 120
  stop_timeout:
    description: Seconds Docker waits for the container to stop before it kills it.
    type: int
    default: 10
  probe_url:
    description:
      - HTTP(S) URL polled from the Docker host after the restart, for example n8n's C(/healthz/readiness).
      - The answer counts when its status (as M(arizu.ops.health_check) judges it) is in O(accept).
    type: str
  accept:
    description: Statuses of O(probe_url) that count as healthy.
    type: list
    elements: str
    choices: [healthy, degraded]
    default: [healthy]
  probe_tcp:
    description: C(host:port) that must accept a TCP connection, for a container without a HEALTHCHECK.
    type: str
  settle_seconds:
    description: Without any probe or HEALTHCHECK, how long the container must keep running.
    type: float
    default: 5
  poll_interval:
    description: Seconds between two polls.
    type: float
    default: 0.25
  evidence_dir:
    description:
      - Folder on the Docker host (created with mode 0700) where the evidence is saved, in the same run as the
        restart - before it (C(before.json), C(before-logs.txt)) and after it (C(after.json), C(after-logs.txt), or
        C(after-failure.json) and C(after-failure-logs.txt) when health did not come back). Files are mode 0600.
      - The evidence is what M(arizu.ops.docker_evidence) gathers - state, memory, the last O(logs_tail) log lines,
        disk use of O(disk_paths) - with secrets masked. The evidence after the restart leaves out the memory
        figures (the Docker engine answers them on its next one-second sample; a fresh container's say little).
      - Omit it to save nothing; RV(evidence_before) and RV(evidence_after) are returned either way.
      - In check mode the evidence from before is gathered and returned, and nothing is written.
    type: path
  logs_tail:
    description: Log lines kept in the evidence (V(0) for none, at most V(10000)).
    type: int
    default: 100
  disk_paths:
    description: Paths on the Docker host whose file systems' use is part of the evidence.
    type: list
    elements: path
    default: []
"""

EXAMPLES = r"""
- name: Restart n8n and wait for readiness
  arizu.ops.docker_restart:
    container: arizu-n8n
    probe_url: http://127.0.0.1:5678/healthz/readiness
    timeout: 120
  register: restart

- name: Say how long it took
  ansible.builtin.debug:
    msg: "{{ restart.msg }}"
"""

RETURN = r"""
action:
  description: What was done - V(restarted), V(started) (it was stopped), V(would_restart) or V(would_start).
  returned: always
  type: str
  sample: restarted
verification:
  description: How health was proven - V(http), V(docker_health), V(tcp) or V(running).
  returned: always
  type: str
  sample: http
before:
  description: The container's state before - C(state), C(health), C(started_at), C(restart_count), C(id).
  returned: always
  type: dict
after:
  description: The container's state after (same keys as RV(before)); equal to RV(before) in check mode.
  returned: always
  type: dict
elapsed_s:
  description: Seconds from the restart request to proven health.
  returned: success
  type: float
  sample: 4.6
ready_after_start_s:
  description: Seconds from the container's new start to proven health (the service's own start time).
  returned: success
  type: float
  sample: 4.1
last_checks:
  description: The container's last health checks (start, exit code, output cut to 300 characters), masked.
  returned: always
  type: list
  elements: dict
probe:
  description: The last O(probe_url) result (status, http_status, latency_ms) when a URL was polled.
  returned: when probe_url was given
  type: dict
evidence_before:
  description: The evidence gathered before the restart, as M(arizu.ops.docker_evidence) returns it (logs left out).
  returned: always
  type: dict
evidence_after:
  description: The evidence gathered once health came back, or once the wait gave up (logs left out).
  returned: when the container was restarted or started
  type: dict
evidence_files:
  description: The files written into O(evidence_dir).
  returned: when O(evidence_dir) is set
  type: list
  elements: path
  sample: [/var/lib/arizu/evidence/before.json, /var/lib/arizu/evidence/before-logs.txt]
msg:
  description: One human line.
  returned: always
  type: str
  sample: "arizu-n8n restarted; ready (http) 4.6 s after the restart request"
"""

import datetime
import json
import os
import socket
import tempfile
import time

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.docker_compat import (
    AnsibleDockerClient,
    RequestException,
)
from ansible_collections.community.docker.plugins.module_utils._api.errors import DockerException, NotFound

from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence import Masker, secret_values_from_env
from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence_api import collect
from ansible_collections.arizu.ops.plugins.module_utils.docker_health import (  # noqa: F401  (re-exported)
    fresh_passing_check,
    last_checks,
    parse_time,
    probe_http,
    state_of,
)
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import redact_url


def probe_tcp(target, timeout):
    host, _sep, port = target.rpartition(":")
    try:
        with socket.create_connection((host or "127.0.0.1", int(port)), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


class Evidence:
    """Evidence of one container, gathered with the module's own API client and saved (0600) when asked."""

    def __init__(self, client, name, folder, logs_tail, disk_paths):
        self.client, self.name, self.folder = client, name, folder
        self.logs_tail, self.disk_paths = logs_tail, disk_paths
        self.files = []

    def gather(self, stage, write=True, stats=True):
        evidence = collect(self.client, [self.name], logs_tail=self.logs_tail, disk_paths=self.disk_paths,
                           stats=stats)
        evidence.pop('changed', None)
        logs = (evidence['containers'].get(self.name) or {}).pop('logs', None) or []
        if self.folder and write:
            os.makedirs(self.folder, mode=0o700, exist_ok=True)
            self._write(stage + '.json', json.dumps(dict(evidence, logs=logs), indent=2, sort_keys=True) + '\n')
            self._write(stage + '-logs.txt', '\n'.join(logs) + '\n')
        return evidence

    def _write(self, filename, text):
        path = os.path.join(self.folder, filename)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix='.' + filename + '.')
        try:
            with os.fdopen(fd, 'w', encoding='utf-8') as fh:
                fh.write(text)
            os.chmod(tmp, 0o600)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
        self.files.append(path)


def gather_after(evidence, stage, module):
    """The evidence after the restart; a folder that cannot be written is a warning then (the restart is done)."""
    # no stats after: the engine answers them on its next 1 s sampling tick, and
    # a just-started container's memory says little
    try:
        return evidence.gather(stage, stats=False)
    except OSError as exc:
        module.warn("cannot save the evidence %s in %s: %s" % (stage, evidence.folder, to_native(exc)))
        return evidence.gather(stage, write=False, stats=False)


def main():
    argument_spec = dict(
        container=dict(type="str", required=True),
        timeout=dict(type="float", default=120),
        stop_timeout=dict(type="int", default=10),
        probe_url=dict(type="str"),
        accept=dict(type="list", elements="str", choices=["healthy", "degraded"], default=["healthy"]),
        probe_tcp=dict(type="str"),
        settle_seconds=dict(type="float", default=5),
        poll_interval=dict(type="float", default=0.25),
        evidence_dir=dict(type="path"),
        logs_tail=dict(type="int", default=100),
        disk_paths=dict(type="list", elements="path", default=[]),
    )
    client = AnsibleDockerClient(argument_spec=argument_spec, supports_check_mode=True,
                                 min_docker_api_version="1.25")
    module = client.module
    p = module.params
    if p["timeout"] <= 0 or p["poll_interval"] <= 0 or p["stop_timeout"] < 0:
        module.fail_json(msg="timeout and poll_interval must be above 0, stop_timeout 0 or more")
    if p["probe_url"] and not p["probe_url"].startswith(("http://", "https://")):
        module.fail_json(msg="probe_url must start with http:// or https://: %s" % redact_url(p["probe_url"]))
    if p["probe_tcp"] and not p["probe_tcp"].rpartition(":")[2].isdigit():
        module.fail_json(msg="probe_tcp must be host:port, got %s" % p["probe_tcp"])
    if not 0 <= p["logs_tail"] <= 10000:
        module.fail_json(msg="logs_tail must be between 0 and 10000, got %s" % p["logs_tail"])
    name = p["container"]
    evidence = Evidence(client, name, p["evidence_dir"], p["logs_tail"], p["disk_paths"])
    extra = {}
    if p["evidence_dir"]:
        extra["evidence_files"] = evidence.files
    try:
        try:
            inspect = client.get_json("/containers/{0}/json", name)
        except NotFound:
            module.fail_json(msg="container %s does not exist: nothing to restart" % name, changed=False)
        masker = Masker(secret_values_from_env((inspect.get("Config") or {}).get("Env") or []))
        try:
            extra["evidence_before"] = evidence.gather("before", write=not module.check_mode)
        except OSError as exc:
            module.fail_json(msg="cannot save the evidence in %s: %s; nothing was restarted" % (
                p["evidence_dir"], to_native(exc)), changed=False)
        before = state_of(inspect)
        running = (inspect.get("State") or {}).get("Running")
        has_healthcheck = bool(((inspect.get("Config") or {}).get("Healthcheck") or {}).get("Test"))
        verification = ("http" if p["probe_url"] else "docker_health" if has_healthcheck
                        else "tcp" if p["probe_tcp"] else "running")
        if module.check_mode:
            action = "would_restart" if running else "would_start"
            module.exit_json(changed=True, action=action, verification=verification, before=before,
                             after=before, last_checks=last_checks(inspect, masker),
                             msg="%s: %s, then wait up to %g s for %s health" % (
                                 name, action.replace("_", " "), p["timeout"], verification), **extra)

        requested = time.monotonic()
        if (inspect.get("State") or {}).get("Paused"):
            client.post_call("/containers/{0}/unpause", name)  # a paused container cannot be restarted
        if running:
            client.post_call("/containers/{0}/restart", name, params={"t": p["stop_timeout"]})
            action = "restarted"
        else:
            client.post_call("/containers/{0}/start", name)
            action = "started"
        deadline = requested + p["timeout"]
        old_start = before["started_at"]
        probe = None
        settle_since = None
        while True:
            inspect = client.get_json("/containers/{0}/json", name)
            state = inspect.get("State") or {}
            new_start = state.get("StartedAt") != old_start or action == "started"
            ok = False
            if new_start and state.get("Running"):
                if verification == "http":
                    ok, probe = probe_http(p["probe_url"], p["accept"], min(2.0, p["timeout"]))
                elif verification == "docker_health":
                    ok = fresh_passing_check(inspect) and (state.get("Health") or {}).get("Status") == "healthy"
                elif verification == "tcp":
                    ok = probe_tcp(p["probe_tcp"], 1.0)
                else:
                    settle_since = settle_since or time.monotonic()
                    ok = time.monotonic() - settle_since >= p["settle_seconds"]
            if ok:
                ready = time.monotonic()
                started_at = parse_time(state.get("StartedAt"))
                now = datetime.datetime.now(datetime.timezone.utc)
                after = state_of(inspect)
                elapsed = round(ready - requested, 2)
                extra["evidence_after"] = gather_after(evidence, "after", module)
                module.exit_json(
                    changed=True, action=action, verification=verification, before=before, after=after,
                    elapsed_s=elapsed,
                    ready_after_start_s=round((now - started_at).total_seconds(), 2) if started_at else None,
                    last_checks=last_checks(inspect, masker), probe=probe,
                    msg="%s %s; ready (%s) %.1f s after the restart request" % (name, action, verification, elapsed),
                    **extra)
            if time.monotonic() >= deadline:
                extra["evidence_after"] = gather_after(evidence, "after-failure", module)
                module.fail_json(
                    changed=True, action=action, verification=verification, before=before,
                    after=state_of(inspect), last_checks=last_checks(inspect, masker), probe=probe,
                    msg="%s %s but did not prove %s health within %g s (state %s, health %s, exit code %s)" % (
                        name, action, verification, p["timeout"], state.get("Status"),
                        (state.get("Health") or {}).get("Status", "none"), state.get("ExitCode")), **extra)
            time.sleep(p["poll_interval"])
    except (RequestException, DockerException) as exc:
        module.fail_json(msg="Docker API error while restarting %s: %s" % (name, to_native(exc)), changed=False)


if __name__ == "__main__":
    main()
