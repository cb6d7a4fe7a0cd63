#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: docker_release
short_description: Switch a container to another release behind a health gate, revert automatically, keep a history
version_added: 1.0.0
description:
  - "O(action=deploy): runs the container on O(image) (default: its current image) with the same configuration
    (environment, ports, networks and aliases, mounts, limits, restart policy, labels) plus O(env), behind a health
    gate. What the container only had from its old image (the image's ENV values and labels, CMD, HEALTHCHECK) is
    not carried over: the new image brings its own."
  - "O(action=rollback): the same switch, to O(target): V(previous) (the newest release of the history that went
    live and healthy with another image, skipping releases a rollback or a revert left), a tag of the running
    image's repository, a full reference, or an image id or digest (C(sha256:...))."
  - "O(action=record): only records the running container as a release (used by the service roles after they
    changed a container)."
  - The target image must exist locally or be pulled (O(pull)) B(before) anything is touched; if not, the task
    fails and the live container is left as it is.
  - "The switch: the live container is stopped and renamed C(<name>-previous), the new one is created under the
    name and started. The gate waits for health B(newer than the switch): the new container (a new id) running and
    O(probe_url) answering a status in O(accept) (and every O(expect) field), or without O(probe_url) a passing
    Docker health check that started after the new container did."
  - When the gate is not passed within O(timeout), the new container is removed, the previous one renamed back and
    started, its health confirmed through the same gate, and the task fails saying what happened.
  - Each switch is recorded in O(history_dir)/<container>.json on the Docker host (time, action, image, tag, image
    id and digests, container id, who deployed it, the health after, what it replaced), the live release left is
    recorded first when the history does not know it. The images of the newest O(keep) releases get a tag
    C(arizu-release/<container>:<seq>), so that removing or moving their own tag and C(docker image prune) do not
    delete them.
  - Switching to the release that already runs changes nothing.
author:
  - Arizu maintainers (@arizu)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The target image is looked up (never pulled); the result says what would be switched.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: full
options:
  container:
    description: Name of the container.
    type: str
    required: true
  action:
    description: V(deploy), V(rollback) or V(record) (see the description).
    type: str
    choices: [deploy, rollback, record]
    default: deploy
  image:
    description:
      - Image to deploy (O(action=deploy)) - a full reference, or a bare tag of the running image's repository.
      - Default the image the container runs (to change only O(env)).
    type: str
  target:
    description: "Release to roll back to (O(action=rollback)) - V(previous), a tag, C(repo:tag), C(repo@sha256:...) or C(sha256:...)."
    type: str
    default: previous
  env:
    description:
      - Environment variables to set on the new container (O(action=deploy)), for example C(MODEL_PROVIDER).
      - Not for secrets; the names changed are recorded, the values only for C(MODEL_PROVIDER).
    type: dict
    default: {}
  pull:
    description: V(missing) pulls a target image that is not on the Docker host; V(never) only looks it up.
    type: str
    choices: [missing, never]
    default: missing
  history_dir:
    description: Folder of the history files on the Docker host (created 0750 when missing).
    type: path
    default: /var/lib/arizu-ops/releases
  keep:
    description: Number of newest releases (distinct images) whose images are protected by a tag.
    type: int
    default: 5
  history_max:
    description: Entries kept in the history file.
    type: int
    default: 100
  probe_url:
    description: Health URL polled from the Docker host, for example C(http://127.0.0.1:3000/api/health).
    type: str
  accept:
    description: Statuses of O(probe_url) (judged like M(arizu.ops.health_check)) that pass the gate.
    type: list
    elements: str
    choices: [healthy, degraded]
    default: [healthy, degraded]
  expect:
    description:
      - "Fields of the O(probe_url) JSON body that must have a value to pass the gate, as dotted paths, for example
        C({\"components.llm.active\": \"openai\"})."
    type: dict
    default: {}
  timeout:
    description: Seconds the gate waits for health after the switch (and again after a revert).
    type: float
    default: 120
  stop_timeout:
    description: Seconds Docker waits for the old container to stop before it kills it.
    type: int
    default: 10
  poll_interval:
    description: Seconds between two polls of the gate.
    type: float
    default: 0.1
  deployed_by:
    description: The user who deploys (recorded, with O(job_id) when given); default the user the module runs as.
    type: str
  job_id:
    description: The AWX/Tower job id that deploys, when there is one (recorded).
    type: str
  health:
    description: Health recorded by O(action=record); default the container's Docker health status.
    type: str
  pull_timeout:
    description: Seconds a pull of the target image may take.
    type: int
    default: 300
  docker_host:
    description:
      - The Docker engine - C(unix:///path) of its socket, or C(tcp://host:port) without TLS. Default the
        C(DOCKER_HOST) environment variable, else the local socket.
      - The module talks to the engine with the standard library only (it starts faster than one with the
        Docker SDK or requests, which matters inside the health gate's time); TLS connections are not supported.
    type: str
    default: unix:///var/run/docker.sock
  docker_timeout:
    description: Seconds one call of the Docker API may take.
    type: int
    default: 60
notes:
  - A C(<name>-previous) container left by an interrupted switch makes the task fail until an operator has looked
    at it and removed it.
seealso:
  - module: arizu.ops.docker_restart
"""

EXAMPLES = r"""
- name: Deploy 1.1.0 of the app behind the health gate
  arizu.ops.docker_release:
    container: arizu-app
    image: registry.example.com/arizu/app:1.1.0
    probe_url: http://127.0.0.1:3000/api/health
    timeout: 60

- name: Roll back to the previous release
  arizu.ops.docker_release:
    container: arizu-app
    action: rollback
    probe_url: http://127.0.0.1:3000/api/health

- name: Switch the LLM provider
  arizu.ops.docker_release:
    container: arizu-app
    env: {MODEL_PROVIDER: openai}
    probe_url: http://127.0.0.1:3000/api/health
    expect: {components.llm.active: openai}
"""

RETURN = r"""
action:
  description: V(switched), V(unchanged), V(would_switch), V(reverted) (on failure) or V(recorded).
  returned: always
  type: str
  sample: switched
from:
  description: The live release before - C(image), C(image_id), C(container_id).
  returned: unless action is record
  type: dict
to:
  description: The target - C(image), C(image_id).
  returned: unless action is record
  type: dict
release:
  description: The history entry written for this call.
  returned: when something was recorded
  type: dict
history:
  description: The newest history entries (at most 10), one line each.
  returned: always
  type: list
  elements: str
history_file:
  description: Path of the history file on the Docker host.
  returned: always
  type: str
protected:
  description: Protection tags of the container's images after the call.
  returned: always
  type: list
  elements: str
probe:
  description: The last gate probe (status, http_status, latency_ms, message, unmet).
  returned: when probe_url was polled
  type: dict
elapsed_s:
  description: Seconds from the switch to a passed gate.
  returned: when switched
  type: float
timings:
  description: Seconds from the module's start to each phase (switch, created, stopped, started, healthy, recorded, ...).
  returned: always
  type: dict
msg:
  description: One human line.
  returned: always
  type: str
"""

import datetime
import fcntl
import getpass
import json
import os
import tempfile
import threading
import time

from ansible.module_utils.common.text.converters import to_native

from ansible.module_utils.basic import AnsibleModule, env_fallback

from ansible_collections.arizu.ops.plugins.module_utils.docker_api import (
    DEFAULT_HOST,
    DockerAPIError,
    DockerClient,
    NotFound,
    q,
)

from ansible_collections.arizu.ops.plugins.module_utils.docker_evidence import Masker, secret_values_from_env
from ansible_collections.arizu.ops.plugins.module_utils.docker_health import (
    fresh_passing_check,
    last_checks,
    probe_http,
)
from ansible_collections.arizu.ops.plugins.module_utils.docker_release import (
    ReleaseError,
    append_entry,
    image_ref,
    clone_definition,
    dump_history,
    env_changes,
    is_image_id,
    live_entry,
    load_history,
    protect_plan,
    protect_repository,
    reconcile_tags,
    release_entry,
    select_target,
    short,
    split_ref,
    who,
)
from ansible_collections.arizu.ops.plugins.module_utils.health_parser import redact_url


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"


class Gone(Exception):
    """The target image is not on the Docker host and cannot be pulled."""


class Release(object):
    def __init__(self, module, client):
        self.client = client
        self.module = module
        self.p = module.params
        self.name = self.p["container"]
        self.path = os.path.join(self.p["history_dir"], "%s.json" % self.name)
        self.repo = protect_repository(self.name)
        self.by = who(self.p["job_id"], self.p["deployed_by"] or getpass.getuser())
        self.masker = Masker([])
        self.lock = None
        self.result = {"history_file": self.path}
        self.t0 = time.monotonic()
        self.marks = {}

    def mark(self, what):
        self.marks[what] = round(time.monotonic() - self.t0, 3)

    # ---- Docker ---------------------------------------------------------------
    def inspect(self, name):
        try:
            return self.client.get("/containers/%s/json" % q(name))
        except NotFound:
            return None

    def image(self, ref):
        try:
            return self.client.get("/images/%s/json" % q(ref))
        except NotFound:
            return None

    def pull(self, ref):
        repo, tag, digest = split_ref(ref)
        params = {"fromImage": repo, "tag": digest or tag or "latest"}
        try:
            _status, progress = self.client.request("POST", "/images/create", params=params,
                                                    timeout=self.p["pull_timeout"], lines=True)
            for line in progress:
                if isinstance(line, dict) and line.get("error"):
                    raise Gone(str(line.get("error"))[:300])
        except DockerAPIError as exc:
            raise Gone(to_native(exc)[:300])

    def find_image(self, ref, allow_pull):
        found = self.image(ref)
        if found:
            return found, "local"
        if is_image_id(ref) or ref.startswith("sha256:") or not allow_pull:
            raise Gone("image %s is not on the Docker host%s" % (ref, "" if allow_pull else " (pull: never)"))
        self.pull(ref)
        found = self.image(ref)
        if not found:
            raise Gone("image %s is still missing after the pull" % ref)
        return found, "pulled"

    # ---- history -----------------------------------------------------------------
    def open_history(self):
        folder = self.p["history_dir"]
        if not os.path.isdir(folder):
            os.makedirs(folder, 0o750)
        self.lock = open(os.path.join(folder, ".%s.lock" % self.name), "a")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        text = ""
        if os.path.exists(self.path):
            with open(self.path) as handle:
                text = handle.read()
        return load_history(text, self.name)

    def read_history(self):
        if not os.path.exists(self.path):
            return load_history("", self.name)
        with open(self.path) as handle:
            return load_history(handle.read(), self.name)

    def save_history(self, history):
        handle, tmp = tempfile.mkstemp(dir=self.p["history_dir"], prefix=".%s." % self.name)
        try:
            with os.fdopen(handle, "w") as out:
                out.write(dump_history(history))
            os.chmod(tmp, 0o644)
            os.rename(tmp, self.path)
        except Exception:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def record(self, history, entry):
        entry = append_entry(history, entry, self.p["history_max"])
        wanted = protect_plan(history, self.p["keep"], self.repo)
        entry["protect_tag"] = next((ref for ref in wanted if ref.endswith(":%s" % entry["seq"])), None)
        self.save_history(history)
        self.mark("recorded")
        self.protect(wanted)
        self.mark("protected")
        self.result["release"] = entry
        return entry

    def protect(self, wanted):
        existing = {}
        images = self.client.get("/images/json", params={"filters": json.dumps({"reference": [self.repo]})})
        for img in images or []:
            for tag in img.get("RepoTags") or []:
                if tag.startswith(self.repo + ":"):
                    existing[tag] = img.get("Id")
        add, remove = reconcile_tags(existing, wanted)
        for ref, image_id in add.items():
            repo, tag, _digest = split_ref(ref)
            try:
                self.client.post("/images/%s/tag" % q(image_id), params={"repo": repo, "tag": tag})
            except NotFound:
                pass  # that image is gone already
        for ref in remove:
            try:
                self.client.delete("/images/%s" % q(ref), params={"noprune": "1"})
            except DockerAPIError:
                pass  # in use by a container: it is kept anyway
        self.result["protected"] = sorted(wanted)

    def lines(self, history):
        return [short(e) for e in history["releases"][-10:]]

    # ---- gate ----------------------------------------------------------------------
    def gate(self, name, new_id=None, old_started=None):
        """Wait until *name* proves health newer than the switch: it is the new container *new_id*, or (the
        previous container, started again) its start differs from *old_started*; (ok, inspect, probe)."""
        p = self.p
        deadline = time.monotonic() + p["timeout"]
        probe = None
        while True:
            info = self.inspect(name) or {}
            state = info.get("State") or {}
            fresh = info.get("Id") == new_id if new_id else state.get("StartedAt") != old_started
            ok = False
            if fresh and state.get("Running"):
                if p["probe_url"]:
                    ok, probe = probe_http(p["probe_url"], p["accept"], 2.0, p["expect"])
                else:
                    ok = fresh_passing_check(info) and (state.get("Health") or {}).get("Status") == "healthy"
            if ok or time.monotonic() >= deadline:
                return ok, info, probe
            time.sleep(p["poll_interval"])

    def health_of(self, info, probe):
        if probe:
            return probe.get("status")
        return ((info.get("State") or {}).get("Health") or {}).get("Status") or (info.get("State") or {}).get("Status")

    # ---- switch -------------------------------------------------------------------
    def switch(self, action, live, live_image, target_ref, target_image, env, history):
        p, client, name = self.p, self.client, self.name
        spare = "%s-previous" % name
        if self.inspect(spare):
            raise ReleaseError("a container %s exists (left by an interrupted switch?): look at it and remove it, "
                               "then run again; nothing was changed" % spare)
        before = {"image": live["Config"].get("Image"), "image_id": live.get("Image"), "container_id": live["Id"][:12]}
        if not live_entry(history, live["Id"]):
            health = ((live.get("State") or {}).get("Health") or {}).get("Status") or live["State"].get("Status")
            self.record(history, release_entry("observed", live, live_image, before["image"], health, self.by,
                                               p["job_id"], now=utc_now(),
                                               msg="the release running before this switch"))
        body, more_networks = clone_definition(live, (live_image or {}).get("Config"), target_ref, env)
        old_started = (live.get("State") or {}).get("StartedAt")
        switched_at = time.monotonic()
        self.mark("switch")
        # The old container keeps running under its new name while the new one is created; it is stopped (its
        # graceful shutdown) at the same time, and the new one starts once the old one has let go of the ports.
        client.post("/containers/%s/rename" % q(name), params={"name": spare})
        stopping = {}

        def stop():
            try:
                client.post("/containers/%s/stop" % q(spare), params={"t": p["stop_timeout"]},
                            timeout=p["stop_timeout"] + 60)
            except Exception as exc:  # pylint: disable=broad-except
                stopping["error"] = exc
        stopper = threading.Thread(target=stop, name="stop-previous")
        stopper.start()
        new_id = None
        failure = None
        try:
            created = client.post("/containers/create", body=body, params={"name": name})
            new_id = created["Id"]
            for net_name, endpoint in more_networks:
                client.post("/networks/%s/connect" % q(net_name), body={"Container": new_id, "EndpointConfig": endpoint})
            self.mark("created")
        except DockerAPIError as exc:
            failure = "Docker refused to create it: %s" % self.masker.mask(to_native(exc))[:300]
        stopper.join()
        self.mark("stopped")
        if stopping.get("error") is not None and failure is None:
            failure = "the previous container did not stop: %s" % self.masker.mask(to_native(stopping["error"]))[:300]
        if failure is None:
            try:
                client.post("/containers/%s/start" % q(new_id))
                self.mark("started")
            except DockerAPIError as exc:
                failure = "Docker refused to start it: %s" % self.masker.mask(to_native(exc))[:300]
        info, probe = {}, None
        if failure is None:
            ok, info, probe = self.gate(name, new_id=new_id)
            if ok:
                elapsed = round(time.monotonic() - switched_at, 2)
                self.mark("healthy")
                client.delete("/containers/%s" % q(spare), params={"force": "1", "v": "0"})
                self.mark("removed_previous")
                entry = self.record(history, release_entry(
                    action, info, target_image, target_ref, self.health_of(info, probe), self.by, p["job_id"],
                    replaced=before, now=utc_now(),
                    msg="env changed: %s" % ", ".join(sorted(env)) if env else None))
                self.result.update(elapsed_s=elapsed, probe=probe, action="switched")
                return "%s: %s -> %s, %s %.1f s after the switch (release #%s)" % (
                    name, before["image"], target_ref, entry["health"], elapsed, entry["seq"])
            state = info.get("State") or {}
            why = ["health not back within %g s" % p["timeout"],
                   "state %s" % state.get("Status"),
                   "health %s" % ((state.get("Health") or {}).get("Status") or "none")]
            if probe:
                why.append("last probe: %s HTTP %s%s%s" % (
                    probe.get("status"), probe.get("http_status"),
                    " %r" % probe["message"] if probe.get("message") else "",
                    " (%s)" % "; ".join(probe["unmet"]) if probe.get("unmet") else ""))
            checks = last_checks(info, self.masker)
            if checks:
                why.append("last health check: %s" % (checks[-1].get("output") or "")[:200])
            failure = ", ".join(why)
        # revert: the new container goes, the previous one comes back as it was
        failed_entry = release_entry(action, info or live, target_image, target_ref,
                                     self.health_of(info, probe) if info else "not started", self.by, p["job_id"],
                                     replaced=before, outcome="reverted", now=utc_now(), msg=failure)
        if new_id or self.inspect(name):
            client.delete("/containers/%s" % q(new_id or name), params={"force": "1", "v": "1"})
        client.post("/containers/%s/rename" % q(spare), params={"name": name})
        client.post("/containers/%s/start" % q(name))
        ok, back, back_probe = self.gate(name, old_started=old_started)
        failed_entry["container_id"] = (new_id or "")[:12] or None
        self.record(history, failed_entry)
        self.result.update(action="reverted", probe=probe, revert_probe=back_probe)
        if ok:
            raise ReleaseError(
                "%s: %s %s failed (%s); reverted automatically to %s (same container %s), which is %s again" % (
                    name, action, target_ref, failure, before["image"], before["container_id"],
                    self.health_of(back, back_probe)))
        raise ReleaseError(
            "%s: %s %s failed (%s) AND the revert to %s (container %s) is not healthy within %g s either "
            "(state %s): the service is down, act now" % (
                name, action, target_ref, failure, before["image"], before["container_id"], p["timeout"],
                (back.get("State") or {}).get("Status")))

    # ---- actions ------------------------------------------------------------------
    def run(self):
        p, name = self.p, self.name
        live = self.inspect(name)
        if not live:
            raise ReleaseError("container %s does not exist: deploy it with its role first (playbooks/site.yml)"
                               % name)
        self.masker = Masker(secret_values_from_env((live.get("Config") or {}).get("Env") or []))
        live_image = self.image(live["Image"])
        live_ref = (live.get("Config") or {}).get("Image") or live["Image"]
        if p["action"] == "record":
            history = self.read_history() if self.module.check_mode else self.open_history()
            if self.module.check_mode:
                return False, "would record %s (%s)" % (name, live_ref), history
            current = live_entry(history, live["Id"])
            if current and current.get("image_id") == live.get("Image"):
                self.result["action"] = "unchanged"
                return False, "%s (%s) is recorded already as #%s" % (name, live_ref, current["seq"]), history
            health = p["health"] or ((live.get("State") or {}).get("Health") or {}).get("Status") \
                or live["State"].get("Status")
            entry = self.record(history, release_entry("role", live, live_image, live_ref, health, self.by,
                                                       p["job_id"], now=utc_now()))
            self.result["action"] = "recorded"
            return True, "%s recorded as release #%s (%s)" % (name, entry["seq"], live_ref), history

        history = self.read_history() if self.module.check_mode else self.open_history()
        env = dict((k, str(v)) for k, v in (p["env"] or {}).items())
        if p["action"] == "rollback":
            choice = select_target(history, live["Image"], live_ref, p["target"])
            target_ref = choice["ref"]
            env = {}
        else:
            target_ref = image_ref(p["image"], live_ref) if p["image"] else live_ref
        self.result["from"] = {"image": live_ref, "image_id": live["Image"], "container_id": live["Id"][:12]}
        try:
            if self.module.check_mode and p["pull"] == "missing" and not self.image(target_ref) \
                    and not (is_image_id(target_ref) or target_ref.startswith("sha256:")):
                self.result.update(action="would_switch", to={"image": target_ref, "image_id": None, "found": "pull"})
                return True, "would pull %s, then switch %s from %s to it and wait up to %g s for health" % (
                    target_ref, name, live_ref, p["timeout"]), history
            target_image, where = self.find_image(target_ref, p["pull"] == "missing")
        except Gone as exc:
            raise ReleaseError("%s: %s target %s is not available (%s); nothing was changed, %s (container %s) "
                               "still runs" % (name, p["action"], target_ref, exc, live_ref, live["Id"][:12]))
        self.result["to"] = {"image": target_ref, "image_id": target_image["Id"], "found": where}
        changed_env = env_changes(live, env)
        running = (live.get("State") or {}).get("Running")
        if target_image["Id"] == live["Image"] and not changed_env and running:
            self.result["action"] = "unchanged"
            return False, "%s already runs %s (%s)%s: nothing to do" % (
                name, target_ref, target_image["Id"][7:19],
                " with %s" % ", ".join("%s=%s" % (k, env[k]) for k in sorted(env)) if env else ""), history
        if self.module._diff:
            self.result["diff"] = {
                "before": "image: %s (%s)\n" % (live_ref, live["Image"][7:19]) + "".join(
                    "env %s changes\n" % k for k in changed_env),
                "after": "image: %s (%s)\n" % (target_ref, target_image["Id"][7:19])}
        if self.module.check_mode:
            self.result["action"] = "would_switch"
            return True, "would switch %s from %s to %s%s, then wait up to %g s for health" % (
                name, live_ref, target_ref, " (env %s)" % ", ".join(changed_env) if changed_env else "",
                p["timeout"]), history
        msg = self.switch(p["action"], live, live_image, target_ref, target_image, env, history)
        return True, msg, history


def main():
    argument_spec = dict(
        container=dict(type="str", required=True),
        action=dict(type="str", choices=["deploy", "rollback", "record"], default="deploy"),
        image=dict(type="str"),
        target=dict(type="str", default="previous"),
        env=dict(type="dict", default={}),
        pull=dict(type="str", choices=["missing", "never"], default="missing"),
        history_dir=dict(type="path", default="/var/lib/arizu-ops/releases"),
        keep=dict(type="int", default=5),
        history_max=dict(type="int", default=100),
        probe_url=dict(type="str"),
        accept=dict(type="list", elements="str", choices=["healthy", "degraded"], default=["healthy", "degraded"]),
        expect=dict(type="dict", default={}),
        timeout=dict(type="float", default=120),
        stop_timeout=dict(type="int", default=10),
        poll_interval=dict(type="float", default=0.1),
        deployed_by=dict(type="str"),
        job_id=dict(type="str"),
        health=dict(type="str"),
        pull_timeout=dict(type="int", default=300),
        docker_host=dict(type="str", fallback=(env_fallback, ["DOCKER_HOST"]), default=DEFAULT_HOST),
        docker_timeout=dict(type="int", default=60),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    p = module.params
    if p["timeout"] <= 0 or p["poll_interval"] <= 0 or p["stop_timeout"] < 0:
        module.fail_json(msg="timeout and poll_interval must be above 0, stop_timeout 0 or more")
    if p["keep"] < 1 or p["history_max"] < p["keep"]:
        module.fail_json(msg="keep must be 1 or more and history_max at least keep (keep %s, history_max %s)"
                         % (p["keep"], p["history_max"]))
    if p["probe_url"] and not p["probe_url"].startswith(("http://", "https://")):
        module.fail_json(msg="probe_url must start with http:// or https://: %s" % redact_url(p["probe_url"]))
    if p["expect"] and not p["probe_url"]:
        module.fail_json(msg="expect needs probe_url: the fields are read from its JSON body")
    if p["action"] != "deploy" and (p["image"] or p["env"]):
        module.fail_json(msg="image and env are options of action=deploy, not of action=%s" % p["action"])
    try:
        client = DockerClient(p["docker_host"], timeout=p["docker_timeout"])
    except DockerAPIError as exc:
        module.fail_json(msg=to_native(exc))
    release = Release(module, client)
    try:
        changed, msg, history = release.run()
    except ReleaseError as exc:
        module.fail_json(msg=to_native(exc), changed=release.result.get("action") == "reverted", **release.result)
    except (OSError, IOError) as exc:
        module.fail_json(msg="cannot use the release history in %s: %s" % (p["history_dir"], to_native(exc)),
                         **release.result)
    except DockerAPIError as exc:
        module.fail_json(msg="Docker API error on %s: %s" % (p["container"], release.masker.mask(to_native(exc))),
                         **release.result)
    finally:
        if release.lock:
            release.lock.close()
    release.result.setdefault("protected", [])
    release.result["timings"] = release.marks
    release.result.setdefault("action", "switched" if changed else "unchanged")
    module.exit_json(changed=changed, msg=msg, history=release.lines(history), **release.result)


if __name__ == "__main__":
    main()
