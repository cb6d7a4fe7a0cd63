# -*- coding: utf-8 -*-
# Copyright: Contributors to the arizu.ops collection
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Latency sampling of an HTTP endpoint (N sequential GETs, percentiles, SLO).

Shared by the modules http_latency and triage_probe.
"""

from __future__ import annotations

import time
from urllib.error import HTTPError

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.arizu.ops.plugins.module_utils.health_probe import http_get


def percentile(values, pct):
    """Nearest-rank percentile of a list of numbers (None for an empty list)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(-(-pct * len(ordered) // 100)))  # ceil(pct/100 * n)
    return round(ordered[min(rank, len(ordered)) - 1], 1)


def sample_once(url, headers, timeout, validate_certs):
    """Return (status_code or None, latency_ms, error reason or None)."""
    started = time.monotonic()
    try:
        resp = http_get(url, headers, timeout, validate_certs)
        resp.read(65536)
        status = resp.getcode()
    except HTTPError as exc:
        status = exc.code
    except Exception as exc:  # any transport failure is a sample without an answer
        reason = to_native(getattr(exc, "reason", None) or exc)
        return None, (time.monotonic() - started) * 1000, reason[:120]
    return status, (time.monotonic() - started) * 1000, None


def sample(url, safe_url, headers, samples, timeout, max_seconds, slo_ms, pct=95, validate_certs=True):
    """Send up to *samples* GETs one after the other (stopping after *max_seconds*); return the result."""
    p = dict(url=url, samples=samples, timeout=timeout, max_seconds=max_seconds, slo_ms=slo_ms, percentile=pct,
             validate_certs=validate_certs)
    latencies, codes, errors = [], {}, {}
    deadline = time.monotonic() + p["max_seconds"]
    sent = 0
    while sent < p["samples"] and time.monotonic() < deadline:
        status, ms, reason = sample_once(p["url"], headers, p["timeout"], p["validate_certs"])
        sent += 1
        if status is None:
            if reason in errors or len(errors) < 5:
                errors[reason] = errors.get(reason, 0) + 1
            continue
        codes[str(status)] = codes.get(str(status), 0) + 1
        latencies.append(ms)
        if status >= 500:
            errors["HTTP %d" % status] = errors.get("HTTP %d" % status, 0) + 1

    ok = sum(n for code, n in codes.items() if int(code) < 500)
    at_pct = percentile(latencies, p["percentile"])
    slo_ok = bool(latencies) and ok == sent and at_pct is not None and at_pct <= p["slo_ms"]
    label = "p%g" % p["percentile"]
    if at_pct is None:
        msg = "no answer in %d requests to %s" % (sent, safe_url)
    else:
        msg = "%s %.1f ms %s %g ms over %d requests (%d ok)" % (
            label, at_pct, "<=" if at_pct <= p["slo_ms"] else ">", p["slo_ms"], sent, ok)
    return dict(
        changed=False, sent=sent, ok=ok, errors=errors, status_codes=codes,
        p50_ms=percentile(latencies, 50), p95_ms=percentile(latencies, 95), p99_ms=percentile(latencies, 99),
        percentile_ms=at_pct, max_ms=round(max(latencies), 1) if latencies else None,
        mean_ms=round(sum(latencies) / len(latencies), 1) if latencies else None,
        slo_ms=p["slo_ms"], slo_ok=slo_ok, url=safe_url, msg=msg,
    )
