# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Health that is newer than a restart or a switch: shared by arizu.ops.docker_restart and
arizu.ops.docker_release.

Docker's times, a container's state in a few keys, which Docker health check
counts as newer than the container's start, and one HTTP probe of a health
endpoint judged like arizu.ops.health_check (the body is returned too, so a
caller can check a field such as C(components.llm.active)).
"""

from __future__ import annotations

import datetime
import json
import time

from urllib.error import HTTPError

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.health_parser import parse_health
from ansible_collections.arizu.ops.plugins.module_utils.health_probe import http_get


def parse_time(text):
    """Docker's RFC 3339 time with nanoseconds -> aware datetime (None for the zero time)."""
    if not text or text.startswith("0001-"):
        return None
    text = text.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = head + "." + frac[:6]
    try:
        return datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        return None


def state_of(inspect):
    state = inspect.get("State") or {}
    return {
        "id": (inspect.get("Id") or "")[:12],
        "state": state.get("Status"),
        "health": (state.get("Health") or {}).get("Status", "none"),
        "started_at": state.get("StartedAt"),
        "restart_count": inspect.get("RestartCount"),
        "exit_code": state.get("ExitCode"),
        "oom_killed": state.get("OOMKilled"),
    }


def fresh_passing_check(inspect):
    """True when a health check that started after the container's start passed."""
    state = inspect.get("State") or {}
    started = parse_time(state.get("StartedAt"))
    if not started or not state.get("Running"):
        return False
    for entry in (state.get("Health") or {}).get("Log") or []:
        begun = parse_time(entry.get("Start"))
        if begun and begun > started and entry.get("ExitCode") == 0:
            return True
    return False


def last_checks(inspect, masker):
    out = []
    for entry in ((inspect.get("State") or {}).get("Health") or {}).get("Log") or []:
        out.append({"start": entry.get("Start"), "exit_code": entry.get("ExitCode"),
                    "output": masker.mask((entry.get("Output") or "").strip())[:300]})
    return out[-3:]


def dig(body, path):
    """The value at a dotted *path* of a JSON body (None when any step is missing)."""
    value = body
    for step in path.split("."):
        if not isinstance(value, dict) or step not in value:
            return None
        value = value[step]
    return value


def unmet_expectations(body, expect):
    """[(path, expected, found)] for each C(expect) entry the body does not meet."""
    out = []
    for path, wanted in sorted((expect or {}).items()):
        found = dig(body if isinstance(body, dict) else {}, path)
        if found is None or str(found) != str(wanted):
            out.append((path, wanted, found))
    return out


def probe_http(url, accept, timeout, expect=None):
    """GET *url*; (ok, result). ok: status in *accept* and every *expect* path met."""
    started = time.monotonic()
    try:
        resp = http_get(url, {}, timeout)
        status, body = resp.getcode(), resp.read(65536)
    except HTTPError as exc:
        status, body = exc.code, exc.read(65536) if hasattr(exc, "read") else b""
    except Exception as exc:  # not answering yet is the normal case while it starts
        return False, {"status": "unreachable", "http_status": None, "detail": to_native(exc)[:120]}
    parsed = parse_health(status, body, url_path=url)
    result = {"status": parsed["status"], "http_status": status,
              "latency_ms": round((time.monotonic() - started) * 1000, 1)}
    try:
        data = json.loads(body.decode("utf-8", "replace"))
    except ValueError:
        data = None
    if isinstance(data, dict) and data.get("message"):
        result["message"] = str(data["message"])[:200]
    ok = parsed["status"] in accept
    if expect:
        unmet = unmet_expectations(data, expect)
        if unmet:
            result["unmet"] = ["%s is %s, not %s" % (path, found, wanted) for path, wanted, found in unmet]
            ok = False
    return ok, result
