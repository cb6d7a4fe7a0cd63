#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import annotations

DOCUMENTATION = r"""
---
module: status_pages
short_description: Probe external dependencies' status pages, all at once
version_added: 1.0.0
description:
  - Probes the status pages of external dependencies (the runbook's "Check External Dependencies" step,
    for Clerk, Stripe, Vercel, Anthropic, OpenAI) and reports each one as V(up), V(degraded), V(down) or
    V(unknown).
  - The pages are probed concurrently (threads), each with a short O(timeout), so a handful of pages take
    about one timeout at worst, not one timeout per page. The whole run is bounded by
    O(timeout) x ceil(pages / O(max_workers)) plus a small grace; a page without an answer by then is
    V(unknown).
  - A status page that cannot be reached (connection refused, timeout, DNS, TLS) is V(unknown) with the
    reason, never V(down) and never a failure of the task; an unreachable status page says nothing
    about the service itself, and the triage must go on.
  - "Atlassian Statuspage (O(pages[].kind=statuspage), C(/api/v2/status.json), body
    C({\"status\": {\"indicator\": ..., \"description\": ...}})): indicator V(none) is V(up);
    V(minor) and V(maintenance) are V(degraded); V(major) and V(critical) are V(down)."
  - Read-only; the requests are also sent in check mode. At most 256 KiB of each body is read.
author:
  - Arizu maintainers (@arizu)
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details:
      - The module is read-only, so the status pages are probed in check mode as well.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in --diff mode) when in diff mode.
    support: none
options:
  pages:
    description:
      - The status pages to probe, at most 100. Names must be unique.
      - An invalid entry fails the task with a message naming the entry's index and key
        (for example C(pages[2].url)).
      - An empty list probes nothing and returns empty results.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the dependency, for example V(stripe). Used as the key of RV(summary).
        type: str
        required: true
      url:
        description:
          - Absolute C(http://) or C(https://) URL of the status page or its API.
          - With O(pages[].kind=statuspage), a URL without a path (V(https://www.vercel-status.com)) is
            completed with C(/api/v2/status.json).
          - C(user:password@) in the URL is used for basic authentication and never returned.
        type: str
        required: true
      kind:
        description:
          - How the answer is read.
          - V(auto) reads a 2xx JSON body with C(status.indicator) as Statuspage does; otherwise HTTP 2xx is
            V(up), 5xx V(down), anything else (a 3xx left after following redirects, a 4xx) V(unknown).
          - V(statuspage) expects the Statuspage JSON; an answer without a status indicator (an error
            status, HTML, malformed JSON) is V(unknown), since it is the status page that failed.
          - V(http) only looks at the HTTP status (2xx V(up), 5xx V(down), else V(unknown)); the body is not read.
        type: str
        choices: [auto, statuspage, http]
        default: auto
  timeout:
    description:
      - Timeout of each probe in seconds (connection and each read), above 0 and at most 60.
    type: float
    default: 3
  validate_certs:
    description:
      - Whether to validate TLS certificates. A certificate that fails validation makes the page V(unknown).
    type: bool
    default: true
  max_workers:
    description:
      - Number of pages probed at the same time, from V(1) to V(32).
    type: int
    default: 8
notes:
  - The C(http_proxy), C(https_proxy) and C(no_proxy) environment variables are honoured.
  - Redirects are followed.
  - RV(pages) can be given as is to the C(externals) findings of P(arizu.ops.severity#filter).
seealso:
  - module: arizu.ops.health_check
"""

EXAMPLES = r"""
- name: Check the external dependencies (runbook triage step 4)
  arizu.ops.status_pages:
    pages:
      - {name: vercel, url: "https://www.vercel-status.com/api/v2/status.json", kind: statuspage}
      - {name: anthropic, url: "https://status.anthropic.com/api/v2/status.json"}
      - {name: stripe, url: "https://status.stripe.com/current", kind: http}
    timeout: 3
  delegate_to: localhost
  run_once: true
  register: externals

- name: Report the dependencies that are not up
  ansible.builtin.debug:
    msg: "{{ item.name }}: {{ item.status }} ({{ item.detail }})"
  loop: "{{ externals.pages | rejectattr('status', 'eq', 'up') }}"
  loop_control:
    label: "{{ item.name }}"

- name: Feed them to the severity rules
  ansible.builtin.debug:
    msg: "{{ {'externals': externals.pages} | arizu.ops.severity }}"
"""

RETURN = r"""
pages:
  description: One entry per page, in the order of O(pages).
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The page's name.
      type: str
      sample: vercel
    url:
      description: The probed URL without credentials.
      type: str
      sample: https://www.vercel-status.com/api/v2/status.json
    status:
      description: V(up), V(degraded), V(down) or V(unknown) (unreachable, timed out, or not understood).
      type: str
      choices: [up, degraded, down, unknown]
      sample: up
    http_status:
      description: The final HTTP status code (after redirects); V(null) without an HTTP answer.
      type: int
      sample: 200
    latency_ms:
      description: Time to the answer (and its body) in milliseconds; V(null) without an HTTP answer.
      type: float
      sample: 84.2
    detail:
      description: A short text, the Statuspage description or the reason (at most 120 characters).
      type: str
      sample: All Systems Operational
summary:
  description: Status by page name.
  returned: always
  type: dict
  sample: {"vercel": "up", "anthropic": "degraded", "stripe": "unknown"}
msg:
  description: One human line.
  returned: always
  type: str
  sample: "3 status pages: 1 up, 1 degraded, 0 down, 1 unknown (degraded: anthropic; unknown: stripe)"
"""

import json
import math
import queue
import socket
import ssl
import threading
import time
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urlsplit, urlunsplit

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible.module_utils.urls import open_url

from ansible_collections.arizu.ops.plugins.module_utils.health_parser import redact_url

KINDS = ("auto", "statuspage", "http")
STATUSES = ("up", "degraded", "down", "unknown")
INDICATORS = {"none": "up", "minor": "degraded", "maintenance": "degraded", "major": "down", "critical": "down"}
STATUSPAGE_PATH = "/api/v2/status.json"
BODY_LIMIT = 256 * 1024
CHUNK = 16 * 1024
MAX_PAGES = 100
MAX_WORKERS = 32
MAX_TIMEOUT = 60
DETAIL_LIMIT = 120
USER_AGENT = "arizu.ops.status_pages"


def _short(text, limit=DETAIL_LIMIT):
    text = redact_url_text(" ".join(to_native(text).split()))
    return text if len(text) <= limit else text[:limit - 3] + "..."


def redact_url_text(text):
    """Remove user:password@ from every URL in a text."""
    return " ".join(redact_url(word) if "://" in word else word for word in text.split(" "))


# --------------------------------------------------------------------------
# Input
# --------------------------------------------------------------------------

def validate_pages(pages):
    """Return (normalized pages, None) or (None, error message naming the entry)."""
    if len(pages) > MAX_PAGES:
        return None, "pages: at most %d pages, got %d" % (MAX_PAGES, len(pages))
    normalized, seen = [], {}
    for index, entry in enumerate(pages):
        where = "pages[%d]" % index
        if not isinstance(entry, dict):
            return None, "%s: expected a mapping with name and url, got %s" % (where, type(entry).__name__)
        unknown = sorted(str(key) for key in entry if key not in ("name", "url", "kind"))
        if unknown:
            return None, "%s: unknown key %s (expected name, url, kind)" % (where, ", ".join(unknown))
        name = entry.get("name")
        if name is None or name == "":
            return None, "%s.name: required" % where
        if not isinstance(name, str) or not name.strip():
            return None, "%s.name: expected a non-empty string, got %s" % (where, type(name).__name__)
        name = name.strip()
        if name in seen:
            return None, "%s.name: %r is already the name of pages[%d]; names must be unique" % (where, name, seen[name])
        seen[name] = index
        url = entry.get("url")
        if url is None or url == "":
            return None, "%s.url: required" % where
        if not isinstance(url, str):
            return None, "%s.url: expected a string, got %s" % (where, type(url).__name__)
        url = url.strip()
        try:
            parts = urlsplit(url)
            host, _port = parts.hostname, parts.port  # .port raises ValueError for a bad port
        except ValueError as exc:
            return None, "%s.url: not a valid URL (%s): %s" % (where, to_native(exc), redact_url(url))
        if parts.scheme.lower() not in ("http", "https"):
            return None, "%s.url: must start with http:// or https://, got %s" % (where, redact_url(url))
        if not host:
            return None, "%s.url: has no host: %s" % (where, redact_url(url))
        kind = entry.get("kind")
        kind = "auto" if kind is None or kind == "" else kind
        if not isinstance(kind, str) or kind.strip().lower() not in KINDS:
            return None, "%s.kind: expected one of %s, got %r" % (where, ", ".join(KINDS), kind)
        kind = kind.strip().lower()
        if kind == "statuspage" and parts.path in ("", "/"):
            url = urlunsplit((parts.scheme, parts.netloc, STATUSPAGE_PATH, parts.query, parts.fragment))
        normalized.append({"name": name, "url": url, "kind": kind})
    return normalized, None


# --------------------------------------------------------------------------
# Reading an answer
# --------------------------------------------------------------------------

def classify(kind, http_status, body):
    """Status and detail from the HTTP status and the body (bytes or None)."""
    if kind != "http" and body and 200 <= http_status < 300:
        indicator, description = _statuspage_indicator(body)
        if indicator is not None:
            status = INDICATORS.get(indicator.strip().lower())
            if status is None:
                return "unknown", _short("unknown Statuspage indicator %r" % indicator)
            return status, _short(description or "indicator %s" % indicator.strip().lower())
    if kind == "statuspage":
        if 200 <= http_status < 300:
            return "unknown", "HTTP %d without a Statuspage status indicator" % http_status
        return "unknown", "HTTP %d from the status page" % http_status
    if 200 <= http_status < 300:
        return "up", "HTTP %d" % http_status
    if 500 <= http_status < 600:
        return "down", "HTTP %d" % http_status
    return "unknown", "HTTP %d" % http_status


def _statuspage_indicator(body):
    """(indicator, description) of a Statuspage status.json body, or (None, None)."""
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except (ValueError, UnicodeDecodeError):
        return None, None
    status = data.get("status") if isinstance(data, dict) else None
    if not isinstance(status, dict) or not isinstance(status.get("indicator"), str):
        return None, None
    description = status.get("description")
    return status["indicator"], description if isinstance(description, str) else None


def reason_text(exc, timeout):
    """A short reason for a request without an HTTP answer."""
    reason = getattr(exc, "reason", None) if isinstance(exc, URLError) else exc
    if reason is None:
        reason = exc
    if isinstance(reason, (socket.timeout, TimeoutError)) or "timed out" in to_native(reason).lower():
        return "timed out after %g s" % timeout
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    if isinstance(reason, socket.gaierror):
        return _short("name resolution failed: %s" % (reason.strerror or reason))
    if isinstance(reason, (ssl.SSLError, ssl.CertificateError)) or type(exc).__name__ in ("SSLValidationError", "NoSSLError"):
        if getattr(reason, "verify_message", None):
            return _short("TLS: certificate verify failed (%s)" % reason.verify_message)
        return _short("TLS: %s" % (getattr(reason, "reason", None) or reason))
    if isinstance(reason, OSError) and reason.strerror:
        return _short(reason.strerror.lower())
    return _short(to_native(reason) or type(reason).__name__)


def _read(resp, started, timeout):
    """Up to BODY_LIMIT bytes of the body; stops early when the probe has used up its timeout."""
    chunks, size = [], 0
    while size < BODY_LIMIT:
        if time.monotonic() - started > timeout:
            raise TimeoutError("timed out reading the body")
        chunk = resp.read(min(CHUNK, BODY_LIMIT - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def probe(page, timeout, validate_certs):
    """Probe one page; never raises."""
    result = {"name": page["name"], "url": redact_url(page["url"]), "status": "unknown",
              "http_status": None, "latency_ms": None, "detail": ""}
    started = time.monotonic()
    body = None
    try:
        resp = open_url(page["url"], method="GET", timeout=timeout, validate_certs=validate_certs,
                        follow_redirects="safe", http_agent=USER_AGENT,
                        headers={"Accept": "application/json, text/html;q=0.9, */*;q=0.5"})
        try:
            http_status = resp.getcode()
            if page["kind"] != "http":
                body = _read(resp, started, timeout)
        finally:
            resp.close()
    except HTTPError as exc:
        http_status = exc.code
        try:
            if page["kind"] != "http" and exc.fp is not None:
                body = _read(exc, started, timeout)
        except Exception:  # the error body is optional
            body = None
        finally:
            exc.close()
    except Exception as exc:  # no HTTP answer: the page is unknown, never down, never a failure
        result["detail"] = reason_text(exc, timeout)
        return result
    result["http_status"] = http_status
    result["latency_ms"] = round((time.monotonic() - started) * 1000, 1)
    result["status"], result["detail"] = classify(page["kind"], http_status, body)
    return result


# --------------------------------------------------------------------------
# Concurrency
# --------------------------------------------------------------------------

def probe_all(pages, timeout, validate_certs, max_workers):
    """Probe every page with at most max_workers threads; returns the results in input order.

    The threads are daemons: one stuck past the deadline (for instance in a DNS lookup, which no socket
    timeout bounds) is abandoned and its page reported unknown; it cannot delay the module's exit.
    """
    if not pages:
        return []
    workers = max(1, min(max_workers, len(pages)))
    waves = int(math.ceil(len(pages) / float(workers)))
    budget = waves * timeout + max(0.25, min(1.0, timeout / 2.0))
    jobs = queue.Queue()
    for index in range(len(pages)):
        jobs.put(index)
    results = [None] * len(pages)
    started = [False] * len(pages)
    lock = threading.Lock()
    all_done = threading.Event()
    state = {"left": len(pages), "closed": False}

    def work():
        while True:
            try:
                index = jobs.get_nowait()
            except queue.Empty:
                return
            with lock:
                if state["closed"]:
                    return
                started[index] = True
            try:
                outcome = probe(pages[index], timeout, validate_certs)
            except Exception as exc:  # pragma: no cover - probe() catches everything itself
                outcome = {"name": pages[index]["name"], "url": redact_url(pages[index]["url"]),
                           "status": "unknown", "http_status": None, "latency_ms": None,
                           "detail": _short("probe failed: %s" % to_native(exc))}
            with lock:
                if state["closed"]:
                    return
                results[index] = outcome
                state["left"] -= 1
                if not state["left"]:
                    all_done.set()

    for _worker in range(workers):
        threading.Thread(target=work, name="status_pages", daemon=True).start()
    all_done.wait(budget)
    with lock:
        state["closed"] = True
        final = list(results)
        for index, outcome in enumerate(final):
            if outcome is None:
                final[index] = {"name": pages[index]["name"], "url": redact_url(pages[index]["url"]),
                                "status": "unknown", "http_status": None, "latency_ms": None,
                                "detail": ("no answer within %g s" % budget if started[index]
                                           else "not probed: the run's %g s were used up" % budget)}
    return final


def summarize(results):
    counts = dict((status, 0) for status in STATUSES)
    for result in results:
        counts[result["status"]] += 1
    msg = "%d status page%s: %s" % (len(results), "" if len(results) == 1 else "s",
                                    ", ".join("%d %s" % (counts[s], s) for s in STATUSES))
    notes = []
    for status in ("down", "degraded", "unknown"):
        names = [r["name"] for r in results if r["status"] == status]
        if names:
            notes.append("%s: %s" % (status, ", ".join(names)))
    if notes:
        msg += " (%s)" % "; ".join(notes)
    return msg


def main():
    module = AnsibleModule(
        argument_spec=dict(
            pages=dict(type="list", elements="dict", required=True),
            timeout=dict(type="float", default=3),
            validate_certs=dict(type="bool", default=True),
            max_workers=dict(type="int", default=8),
        ),
        supports_check_mode=True,
    )
    p = module.params
    for entry in p["pages"]:
        url = entry.get("url") if isinstance(entry, dict) else None
        if isinstance(url, str):
            try:
                password = urlsplit(url.strip()).password
            except ValueError:
                password = None
            if password and len(password) >= 4:  # a URL's password is masked like any no_log value
                module.no_log_values.update({password, unquote(password)})
    if not 0 < p["timeout"] <= MAX_TIMEOUT or math.isnan(p["timeout"]):
        module.fail_json(msg="timeout must be above 0 and at most %d seconds, got %s" % (MAX_TIMEOUT, p["timeout"]))
    if not 1 <= p["max_workers"] <= MAX_WORKERS:
        module.fail_json(msg="max_workers must be between 1 and %d, got %s" % (MAX_WORKERS, p["max_workers"]))
    pages, error = validate_pages(p["pages"])
    if error:
        module.fail_json(msg=error)

    results = probe_all(pages, p["timeout"], p["validate_certs"], p["max_workers"])
    module.exit_json(
        changed=False,
        pages=results,
        summary=dict((r["name"], r["status"]) for r in results),
        msg=summarize(results) if results else "no status pages to probe",
    )


if __name__ == "__main__":
    main()
