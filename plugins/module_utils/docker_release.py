# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Pure logic of arizu.ops.docker_release: the release history, the choice of a rollback target,
the protection tags, and the definition of a container cloned onto another image.

Nothing here performs I/O; the module does the Docker calls and the file writes.

History file (one per container, JSON)::

    {"format": 1, "container": "arizu-app", "releases": [entry, ...]}   # oldest first

Entry::

    {"seq": 7, "time": "2026-12-03T15:04:05Z", "action": "deploy|rollback|revert|role|observed",
     "outcome": "live|reverted", "container": "arizu-app", "container_id": "0123456789ab",
     "image": "arizu-local/app:1.1.0", "repository": "arizu-local/app", "tag": "1.1.0",
     "image_id": "sha256:...", "digests": ["registry/app@sha256:..."], "deployed_by": "user root",
     "job_id": null, "health": "healthy", "model_provider": "anthropic",
     "replaced": {"image": ..., "image_id": ..., "container_id": ...} or null,
     "protect_tag": "arizu-release/arizu-app:7", "msg": "..."}
"""

from __future__ import annotations

import json
import re

HISTORY_FORMAT = 1
#: Repository of the protection tags: arizu-release/<container>:<seq>.
PROTECT_NAMESPACE = "arizu-release"
#: Health words of a release that served (the app's "degraded" still answers 200).
GOOD_HEALTH = ("healthy", "degraded")
#: Env variable whose value the history records (it is not a secret).
PROVIDER_ENV = "MODEL_PROVIDER"


class ReleaseError(Exception):
    """A clear, user-facing reason why a release operation cannot go on."""


# --------------------------------------------------------------------------
# image references
# --------------------------------------------------------------------------

def split_ref(ref):
    """``registry:5000/app:1.0@sha256:..`` -> (repository, tag or None, digest or None)."""
    ref = (ref or "").strip()
    digest = None
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    repo, tag = ref, None
    head, sep, tail = ref.rpartition(":")
    if sep and "/" not in tail:
        repo, tag = head, tail
    return repo, tag, digest


def is_image_id(text):
    return bool(re.match(r"^(sha256:)?[0-9a-f]{64}$", text or ""))


def protect_repository(container):
    """Repository of a container's protection tags (a valid, lower-case Docker repository name)."""
    name = re.sub(r"[^a-z0-9._-]+", "-", (container or "").lower()).strip("._-") or "container"
    name = re.sub(r"[._-]{2,}", "-", name)
    return "%s/%s" % (PROTECT_NAMESPACE, name)


def who(job_id, user):
    """The deployed_by text: the AWX/Tower job when there is one, else the local user."""
    job = str(job_id).strip() if job_id not in (None, "") else ""
    user = (user or "").strip()
    if job:
        return "awx job %s%s" % (job, " (%s)" % user if user else "")
    return "user %s" % (user or "unknown")


# --------------------------------------------------------------------------
# history
# --------------------------------------------------------------------------

def load_history(text, container):
    """Parse a history file's text (empty -> a new history). Raises ReleaseError on a corrupt file."""
    if not (text or "").strip():
        return {"format": HISTORY_FORMAT, "container": container, "releases": []}
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ReleaseError("the release history is not valid JSON (%s); move it aside to start a new one" % exc)
    if not isinstance(data, dict) or not isinstance(data.get("releases"), list):
        raise ReleaseError("the release history has no 'releases' list; move it aside to start a new one")
    if not all(isinstance(entry, dict) for entry in data["releases"]):
        raise ReleaseError("the release history holds an entry that is not an object")
    data.setdefault("format", HISTORY_FORMAT)
    data.setdefault("container", container)
    return data


def dump_history(history):
    return json.dumps(history, indent=2, sort_keys=True) + "\n"


def next_seq(history):
    return max([int(e.get("seq") or 0) for e in history["releases"]] + [0]) + 1


def append_entry(history, entry, max_entries):
    """Append *entry* (its seq assigned) and keep the newest *max_entries*; returns the entry."""
    if max_entries < 1:
        raise ReleaseError("history_max must be 1 or more")
    entry = dict(entry)
    entry["seq"] = next_seq(history)
    history["releases"].append(entry)
    del history["releases"][:-max_entries]
    return entry


def live_entry(history, container_id=None):
    """The newest entry that went live (of that container id, when given)."""
    for entry in reversed(history["releases"]):
        if entry.get("outcome", "live") != "live":
            continue
        if container_id and (entry.get("container_id") or "")[:12] != container_id[:12]:
            continue
        return entry
    return None


def rolled_back_from(history):
    """Image ids that a rollback (or an automatic revert) left: never a "previous" target."""
    out = set()
    for entry in history["releases"]:
        if entry.get("action") == "rollback" and entry.get("outcome", "live") == "live":
            out.add((entry.get("replaced") or {}).get("image_id"))
        if entry.get("outcome") == "reverted":
            out.add(entry.get("image_id"))
    out.discard(None)
    return out


def select_target(history, live_image_id, live_image_ref, target):
    """What a rollback to *target* means.

    target: V(previous) (the newest release that went live, healthy, with another image, and that no
    rollback or revert left), a tag of the live image's repository (C(1.0.0)), a full reference
    (C(repo:tag), C(repo@sha256:...)), an image id or a digest (C(sha256:...)).
    Returns {"ref": what to look up and run, "kind": ..., "entry": the history entry or None}.
    """
    target = (target or "previous").strip()
    entries = list(reversed(history["releases"]))
    if target == "previous":
        skip = rolled_back_from(history)
        for entry in entries:
            if entry.get("outcome", "live") != "live" or entry.get("health") not in GOOD_HEALTH:
                continue
            if not entry.get("image_id") or entry["image_id"] == live_image_id or entry["image_id"] in skip:
                continue
            return {"ref": entry.get("image") or entry["image_id"], "kind": "previous", "entry": entry,
                    "image_id": entry["image_id"]}
        raise ReleaseError(
            "no previous release in the history: none that went live healthy with another image than the "
            "running one (rolled-back releases are skipped); name a tag or a digest instead")
    if target.startswith("sha256:") or is_image_id(target) or "@" in target:
        digest = target.split("@", 1)[1] if "@" in target else target
        if not digest.startswith("sha256:"):
            digest = "sha256:" + digest
        for entry in entries:
            if entry.get("image_id") == digest or any(d.endswith("@" + digest) for d in entry.get("digests") or []):
                # an image id is what Docker runs even after every tag of it is gone
                return {"ref": entry.get("image_id"), "kind": "digest", "entry": entry,
                        "image_id": entry.get("image_id")}
        return {"ref": target if "@" in target else digest, "kind": "digest", "entry": None, "image_id": None}
    ref = image_ref(target, live_image_ref)
    entry = next((e for e in entries if e.get("image") == ref), None)
    return {"ref": ref, "kind": "tag", "entry": entry, "image_id": None}


def image_ref(value, live_image_ref):
    """A full reference as is; a bare word as a tag of the running image's repository."""
    value = (value or "").strip()
    if "/" in value or ":" in value or "@" in value:
        return value
    if not re.match(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$", value):
        raise ReleaseError("%r is neither 'previous', a tag, an image reference nor a digest" % value)
    repo = split_ref(live_image_ref)[0]
    if not repo or is_image_id(repo) or repo.startswith("sha256"):
        raise ReleaseError("the running image (%s) has no repository to put tag %s on; give repo:tag"
                           % (live_image_ref, value))
    return "%s:%s" % (repo, value)


def protect_plan(history, keep, repository):
    """{tag reference: image id} the protection tags should be: one per live release among the newest
    *keep* live releases (distinct images)."""
    wanted = {}
    seen = set()
    for entry in reversed(history["releases"]):
        if len(seen) >= keep:
            break
        if entry.get("outcome", "live") != "live" or not entry.get("image_id"):
            continue
        if entry["image_id"] in seen:
            continue
        seen.add(entry["image_id"])
        wanted["%s:%s" % (repository, entry["seq"])] = entry["image_id"]
    return wanted


def reconcile_tags(existing, wanted):
    """(to_add {ref: image_id}, to_remove [ref]) from the existing {ref: image_id} and the wanted ones."""
    add = {ref: iid for ref, iid in wanted.items() if existing.get(ref) != iid}
    remove = sorted(ref for ref in existing if ref not in wanted)
    return add, remove


# --------------------------------------------------------------------------
# container definition
# --------------------------------------------------------------------------

#: Config keys copied to the new container unless equal to the old image's own value.
_IMAGE_DEFAULT_KEYS = ("Cmd", "Entrypoint", "WorkingDir", "User", "ExposedPorts", "Volumes", "StopSignal",
                       "Healthcheck", "Shell", "OnBuild")
_CONFIG_KEYS = ("Hostname", "Domainname", "User", "AttachStdin", "AttachStdout", "AttachStderr", "ExposedPorts",
                "Tty", "OpenStdin", "StdinOnce", "Env", "Cmd", "Healthcheck", "ArgsEscaped", "Volumes",
                "WorkingDir", "Entrypoint", "NetworkDisabled", "MacAddress", "OnBuild", "Labels", "StopSignal",
                "StopTimeout", "Shell")


def env_to_dict(env):
    out = {}
    for item in env or []:
        key, _sep, value = item.partition("=")
        out[key] = value
    return out


def clone_definition(inspect, old_image_config, new_image, env_overrides=None):
    """The create body of a container like *inspect* (its configuration) on *new_image*.

    Whatever the container only had because its old image said so (image ENV values, labels, CMD,
    HEALTHCHECK, ...) is dropped, so the new image brings its own; whatever was set for the container
    stays. Returns (create body, [(network, endpoint config)] to connect after the first).
    """
    config = inspect.get("Config") or {}
    image_config = old_image_config or {}
    body = {}
    for key in _CONFIG_KEYS:
        if key in config and config[key] not in (None, "", [], {}):
            body[key] = config[key]
    for key in _IMAGE_DEFAULT_KEYS:
        if key in body and body[key] == image_config.get(key):
            del body[key]
    if body.get("Hostname") == (inspect.get("Id") or "")[:12]:
        del body["Hostname"]  # Docker's default: the container's own short id
    image_env = env_to_dict(image_config.get("Env"))
    env = [(k, v) for k, v in env_to_dict(config.get("Env")).items() if image_env.get(k, object()) != v]
    env = dict(env)
    for key, value in (env_overrides or {}).items():
        env[key] = str(value)
    body["Env"] = ["%s=%s" % (k, v) for k, v in env.items()]
    image_labels = image_config.get("Labels") or {}
    body["Labels"] = {k: v for k, v in (config.get("Labels") or {}).items() if image_labels.get(k, object()) != v}
    body["Image"] = new_image
    host_config = dict(inspect.get("HostConfig") or {})
    body["HostConfig"] = host_config
    networks = ((inspect.get("NetworkSettings") or {}).get("Networks") or {})
    mode = host_config.get("NetworkMode") or "default"
    short_id = (inspect.get("Id") or "")[:12]
    name = (inspect.get("Name") or "").lstrip("/")
    endpoints = []
    for net_name, net in networks.items():
        aliases = [a for a in (net.get("Aliases") or []) if a not in (short_id, name)]
        endpoint = {}
        if aliases:
            endpoint["Aliases"] = aliases
        ipam = net.get("IPAMConfig")
        if ipam:
            endpoint["IPAMConfig"] = ipam
        if net.get("Links"):
            endpoint["Links"] = net["Links"]
        endpoints.append((net_name, endpoint))
    first = [e for e in endpoints if e[0] == mode] or endpoints[:1]
    rest = [e for e in endpoints if e not in first]
    if first and mode not in ("host", "none") and not mode.startswith("container:"):
        body["NetworkingConfig"] = {"EndpointsConfig": {first[0][0]: first[0][1]}}
    return body, rest


def env_changes(inspect, env_overrides):
    """Names of *env_overrides* whose value differs from the container's."""
    current = env_to_dict((inspect.get("Config") or {}).get("Env"))
    return sorted(k for k, v in (env_overrides or {}).items() if current.get(k) != str(v))


def release_entry(action, container_inspect, image_inspect, image_ref, health, deployed_by, job_id,
                  replaced=None, outcome="live", msg=None, now=None):
    """A history entry (without seq/protect_tag) for a container running *image_ref*."""
    repo, tag, _digest = split_ref(image_ref)
    if is_image_id(image_ref) or image_ref.startswith("sha256:"):
        repo, tag = None, None
        tags = (image_inspect or {}).get("RepoTags") or []
        if tags:
            repo, tag, _digest = split_ref(tags[0])
    env = env_to_dict((container_inspect.get("Config") or {}).get("Env"))
    return {
        "time": now,
        "action": action,
        "outcome": outcome,
        "container": (container_inspect.get("Name") or "").lstrip("/"),
        "container_id": (container_inspect.get("Id") or "")[:12],
        "image": image_ref,
        "repository": repo,
        "tag": tag,
        "image_id": (image_inspect or {}).get("Id") or container_inspect.get("Image"),
        "digests": list((image_inspect or {}).get("RepoDigests") or []),
        "deployed_by": deployed_by,
        "job_id": job_id or None,
        "health": health,
        "model_provider": env.get(PROVIDER_ENV),
        "replaced": replaced,
        "msg": msg,
    }


def short(entry):
    """One line of an entry, for messages and the play's output."""
    return "#%s %s %s %s (%s, %s, %s)" % (
        entry.get("seq"), entry.get("time"), entry.get("action"), entry.get("image"),
        (entry.get("image_id") or "")[7:19], entry.get("health"), entry.get("outcome", "live"))
